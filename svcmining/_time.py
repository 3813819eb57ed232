"""Time rules decided once: the export cutoff and hours between two times.

Every analysis takes its cutoff from :func:`cutoff` and its durations from
:func:`hours` / :func:`ns_hours` (elapsed hours, or business hours under a
:class:`~svcmining.calendars.Calendar`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .exceptions import InvalidParameterError

if TYPE_CHECKING:
    from .calendars import Calendar

__all__ = ["NS_PER_HOUR", "CutoffAnalysis", "cutoff", "hours", "ns_hours"]

NS_PER_HOUR = 3_600_000_000_000


def cutoff(events: pd.DataFrame, value: Any = None, *, func: str = "svcmining") -> pd.Timestamp:
    """When the export was taken: ``value`` (in the log's zone), else the last event.

    A naive ``value`` is read in the log's time zone; an aware one is converted to it.
    An empty log without ``value`` has no cutoff (``NaT``).

    Examples
    --------
    >>> ev = pd.DataFrame({"timestamp": pd.to_datetime(["2024-10-01 09:00"]).tz_localize("UTC")})
    >>> str(cutoff(ev, "2024-10-02 08:00"))
    '2024-10-02 08:00:00+00:00'
    """
    tz = events["timestamp"].dt.tz
    if value is None:
        return pd.Timestamp(events["timestamp"].max()) if len(events) else pd.NaT
    try:
        ts = pd.Timestamp(value)
    except (ValueError, TypeError) as exc:
        raise InvalidParameterError(
            f"The 'cutoff' parameter of {func} must be a timestamp (e.g. '2024-12-31 23:59'). "
            f"Got {value!r} instead."
        ) from exc
    if pd.isna(ts) and not len(events):  # an empty log has no cutoff to hand on
        return pd.NaT
    if pd.isna(ts):
        raise InvalidParameterError(
            f"The 'cutoff' parameter of {func} must be a timestamp. Got {value!r} instead."
        )
    return ts.tz_localize(tz) if ts.tzinfo is None else ts.tz_convert(tz)


def hours(start: pd.Series, end: pd.Series, calendar: Calendar | None = None) -> pd.Series:
    """Hours from ``start`` to ``end`` (aligned tz-aware series): elapsed, or business hours."""
    from .calendars import duration_hours

    out = duration_hours(start, end, calendar)
    return pd.Series(np.asarray(out, dtype="float64"), index=start.index)


def ns_hours(
    start_ns: np.ndarray, end_ns: np.ndarray, tz: Any, calendar: Calendar | None = None
) -> np.ndarray:
    """:func:`hours` of int64 UTC nanoseconds (``tz`` is the zone business hours are in)."""
    if calendar is None:
        return (np.asarray(end_ns) - np.asarray(start_ns)) / NS_PER_HOUR
    from .calendars import duration_hours

    start = pd.Series(pd.to_datetime(start_ns, unit="ns", utc=True)).dt.tz_convert(tz)
    end = pd.Series(pd.to_datetime(end_ns, unit="ns", utc=True)).dt.tz_convert(tz)
    return np.asarray(duration_hours(start, end, calendar), dtype=float)


@dataclass(frozen=True)
class CutoffAnalysis:
    """The export cutoff of a whole log as a kernel and a combine (:mod:`svcmining.core`):
    each part's :func:`cutoff` (``value`` read in the log's zone, else its last event),
    the latest of them over the log."""

    value: Any = None
    func: str = "svcmining"

    def context(self) -> None:
        """No whole-log fact is needed."""
        return None

    def kernel(self, part: Any, ctx: None = None) -> pd.Timestamp:
        """The cutoff of one part."""
        return cutoff(part.events, self.value, func=self.func)

    def combine(self, parts: Sequence[pd.Timestamp], ctx: None = None) -> pd.Timestamp:
        """The latest cutoff (``NaT`` for an empty log)."""
        cuts = [c for c in parts if not pd.isna(c)]
        return max(cuts) if cuts else pd.NaT
