"""The one-call filters of earlier releases, each a thin front to :mod:`svcmining.filters`.

:func:`filter_variants`, :func:`filter_time`, :func:`filter_cases` and :func:`filter_rework`
keep their parameters, checks and messages; each builds the filter of
:mod:`svcmining.filters` that does the work, so its row lands in ``log.filters`` too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Literal, TypeVar

import numpy as np
import pandas as pd

from . import _filterargs as args
from . import _filterrules as rules
from ._filterargs import ApplyContext, Filter
from ._validation import check_choice, check_fraction, check_positive_int
from .eventlog import LogLike, TicketLog, as_events, as_ticket_log
from .exceptions import InvalidParameterError
from .filters import Attribute, FilterStack, Rework, TimeFrame, Variants
from .rework import REWORK_KINDS, ReworkKind, ReworkResult, rework_result_for

__all__ = ["filter_cases", "filter_rework", "filter_time", "filter_variants"]

_L = TypeVar("_L", TicketLog, pd.DataFrame)


def filter_variants(
    log: LogLike, *, top: int | None = None, coverage: float | None = None
) -> TicketLog:
    """Keep the tickets of the most frequent variants.

    Parameters
    ----------
    log : TicketLog or pandas.DataFrame
        The event log.
    top : int, optional
        Keep the ``top`` most frequent variants.
    coverage : float, optional
        Keep the most frequent variants until they cover at least this share of tickets
        (0 < coverage <= 1). Give exactly one of ``top`` and ``coverage``.

    Returns
    -------
    TicketLog
        A new log (the input is not modified).

    Examples
    --------
    >>> main_paths = filter_variants(log, coverage=0.8)  # doctest: +SKIP
    """
    if (top is None) == (coverage is None):
        raise InvalidParameterError(
            "filter_variants needs exactly one of 'top' (number of variants) and 'coverage' "
            f"(share of tickets). Got top={top!r}, coverage={coverage!r}."
        )
    if top is not None:
        flt = Variants(top=check_positive_int("filter_variants", "top", top))
    else:
        cov = check_fraction("filter_variants", "coverage", coverage, low_open=True)
        flt = Variants(coverage=cov)
    return flt.apply(log)


_TIME_MODES = ("contained", "intersecting", "started", "completed", "trim")


def filter_time(
    log: LogLike,
    start: str | pd.Timestamp | None = None,
    end: str | pd.Timestamp | None = None,
    *,
    mode: Literal["contained", "intersecting", "started", "completed", "trim"] = "intersecting",
) -> TicketLog:
    """Keep the tickets (or events) inside a time window ``[start, end)``.

    Parameters
    ----------
    log : TicketLog or pandas.DataFrame
        The event log.
    start, end : str or Timestamp, optional
        Window bounds; ``start`` inclusive, ``end`` exclusive (so ``"2024-10-01"`` to
        ``"2024-11-01"`` is October). Naive values are in the log's time zone. ``None``
        leaves that side open.
    mode : {"contained", "intersecting", "started", "completed", "trim"}
        ``contained``: tickets whose every event is in the window; ``intersecting``: tickets
        with at least one event in it; ``started`` / ``completed``: tickets whose first / last
        event is in it; ``trim``: keep only the events in the window (tickets are cut).

    Returns
    -------
    TicketLog
        A new log.

    Examples
    --------
    >>> october = filter_time(log, "2024-10-01", "2024-11-01", mode="started")  # doctest: +SKIP
    """
    check_choice("filter_time", "mode", mode, _TIME_MODES)
    tlog = as_ticket_log(log)
    tz = tlog.events["timestamp"].dt.tz
    lo = args.in_zone(args.when("filter_time", "start", start), tz)
    hi = args.in_zone(args.when("filter_time", "end", end), tz)
    return TimeFrame(lo, hi, mode=mode).apply(tlog)


def filter_cases(log: LogLike, **conditions: Any) -> TicketLog:
    """Keep the tickets that have, for every condition, at least one matching event.

    Each keyword names a column; its value is a scalar (equality), a list/tuple/set
    (membership) or a callable taking the column (a Series) and returning a boolean mask.

    Parameters
    ----------
    log : TicketLog or pandas.DataFrame
        The event log.
    **conditions
        Column conditions, e.g. ``channel="电话"``, ``department=["销售部"]``,
        ``activity="重新打开"``.

    Returns
    -------
    TicketLog
        A new log with the whole of every ticket that matches.

    Examples
    --------
    >>> phone_sales = filter_cases(log, channel="电话", department="销售部")  # doctest: +SKIP
    """
    if not conditions:
        raise InvalidParameterError(
            "filter_cases needs at least one condition, e.g. filter_cases(log, channel='电话')."
        )
    tlog = as_ticket_log(log)
    events = tlog.events
    missing = [c for c in conditions if c not in events.columns]
    if missing:
        raise InvalidParameterError(
            f"filter_cases got conditions on columns {missing} that the log does not have. "
            f"Available columns: {', '.join(map(str, events.columns))}."
        )
    stack: list[Filter] = []
    for column, cond in conditions.items():
        if callable(cond):
            stack.append(_Predicate(column, cond, "filter_cases"))
        elif isinstance(cond, list | tuple | set | frozenset | pd.Series | np.ndarray):
            stack.append(Attribute(column, "in", list(cond)))
        else:
            stack.append(Attribute(column, "equals", cond))
    return FilterStack(tuple(stack)).apply(tlog)


@dataclass(frozen=True, repr=False)
class _Predicate(Filter):
    """Tickets with an event whose ``column`` passes ``func`` (one boolean per event):
    the callable conditions of :func:`svcmining.filter_cases` (Python only, not YAML)."""

    column: str
    func: Any
    caller: str = "filter_cases"
    key: ClassVar[str] = "predicate"

    def _keep(self, log: TicketLog, ctx: ApplyContext) -> np.ndarray:
        events = log.events
        mask = np.asarray(self.func(events[self.column]), dtype=bool)
        if mask.shape != (len(events),):
            raise InvalidParameterError(
                f"The condition on {self.column!r} passed to {self.caller} must return one "
                f"boolean per event ({len(events)}); got shape {mask.shape}."
            )
        codes, _, n_cases = rules.case_of(log)
        return self._cases(log, rules.any_per_case(mask, codes, n_cases))


def filter_rework(
    log: _L,
    *,
    kind: ReworkKind | Sequence[ReworkKind] | None = None,
    rework: ReworkResult | None = None,
    reverse: bool = False,
) -> _L:
    """Keep the cases with rework (of ``kind``: one kind or a list; any kind when None).

    ``reverse=True`` keeps the other cases instead. Returns the type given.

    Examples
    --------
    >>> import pandas as pd
    >>> ts = pd.date_range("2024-10-08 09:00", periods=4, freq="h", tz="Asia/Shanghai")
    >>> df = pd.DataFrame({"case_id": ["1", "1", "2", "2"], "timestamp": ts,
    ...                    "activity": ["排障", "排障", "排障", "结单"]})
    >>> filter_rework(df, kind="self_loop")["case_id"].unique().tolist()
    ['1']
    """
    fn = "filter_rework"
    events = as_events(log)
    if kind is None:
        kinds: tuple[str, ...] = REWORK_KINDS
    elif isinstance(kind, str):
        check_choice(fn, "kind", kind, REWORK_KINDS)
        kinds = (kind,)
    else:
        kinds = tuple(kind)
        for k in kinds:
            check_choice(fn, "kind", k, REWORK_KINDS)
    if not isinstance(reverse, bool):
        raise InvalidParameterError(
            f"The 'reverse' parameter of {fn} must be True or False. Got {reverse!r} instead."
        )
    tlog = log if isinstance(log, TicketLog) else TicketLog(events=events, _valid=True)
    rw = rework_result_for(tlog, events, rework, fn)
    if not kinds:  # no kind asked for: no ticket selected
        out = events.iloc[: len(events) if reverse else 0].reset_index(drop=True)
        return log.with_events(out) if isinstance(log, TicketLog) else out
    kept = FilterStack((Rework(kinds=kinds, keep=not reverse),)).apply(tlog, rework=rw)
    return kept if isinstance(log, TicketLog) else kept.events
