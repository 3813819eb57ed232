"""Discover the actual process: directly-follows graph with waiting times, variants, filters,
Petri-net/BPMN models and period-over-period comparison.

Everything here is vectorised over events with pandas/numpy; pm4py is imported lazily, only
by :func:`discover_model`. Durations are elapsed hours unless a
:class:`svcmining.calendars.Calendar` is given, in which case they are business hours.

>>> import svcmining as svc                                  # doctest: +SKIP
>>> log = svc.read_tickets("sample_logs/")                   # doctest: +SKIP
>>> dfg = svc.discover_dfg(log)                              # doctest: +SKIP
>>> dfg.edges.head()                                         # doctest: +SKIP
>>> svc.variants(log).head()                                 # doctest: +SKIP
>>> svc.compare_periods(log, by="month").edges               # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from ._dfg import (
    CodedFrame as CodedFrame,
)
from ._dfg import (
    DFGAnalysis,
    DFGPart,
    ProcessGraph,
    VariantsAnalysis,
    VariantsPart,
    VariantTable,
    coded_frame,
    discover_dfg,
    graph_of,
    html_section,
    variants,
)
from ._dfg import (
    case_variants as case_variants,
)
from ._dfg import (
    variant_table as variant_table,
)
from ._model import ProcessModel, discover_model
from ._repr import names
from ._time import ns_hours
from ._validation import check_choice
from .eventlog import (
    LogLike,
    as_events,
    log_codes,
)
from .exceptions import InvalidParameterError

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from .calendars import Calendar

__all__ = [
    "DFGAnalysis",
    "DFGPart",
    "LogComparison",
    "ProcessGraph",
    "ProcessModel",
    "VariantTable",
    "VariantsAnalysis",
    "VariantsPart",
    "compare_logs",
    "compare_periods",
    "discover_dfg",
    "discover_model",
    "variants",
]


def _case_index(data: LogLike) -> np.ndarray:
    """Case index per event (0, 0, 1, 1, 1, 2, ...) of a log sorted by case."""
    codes = log_codes(data, "case_id")[0]
    new_case = np.ones(len(codes), dtype=bool)
    new_case[1:] = codes[1:] != codes[:-1]
    return np.cumsum(new_case) - 1


# ----------------------------------------------------------------------------------------------
# comparing periods / logs


@dataclass(frozen=True, eq=False)
class LogComparison:
    """Per-period process tables and their changes against the previous period.

    Attributes
    ----------
    periods : pandas.DataFrame
        ``period``, ``cases``, ``events``, ``median_case_duration_hours``.
    edges : pandas.DataFrame
        One row per period and edge seen in it or in the previous period: ``period``,
        ``source``, ``target``, ``cases``, ``case_share`` (share of the period's tickets),
        ``wait_p50_hours``, ``wait_p90_hours``, then ``case_share_change``,
        ``wait_p50_change_hours``, ``wait_p90_change_hours`` (vs the previous period) and
        ``status``: ``"new"`` (absent before), ``"vanished"`` (gone now; cases 0),
        ``"kept"``, or ``"first"`` in the first period.
    activities : pandas.DataFrame
        Same layout per activity: ``period``, ``activity``, ``cases``, ``case_share``,
        ``case_share_change``, ``status``.
    graphs : dict
        ``period -> ProcessGraph``.
    """

    periods: pd.DataFrame
    edges: pd.DataFrame
    activities: pd.DataFrame
    graphs: Mapping[str, ProcessGraph] = field(repr=False)

    def to_frame(self) -> pd.DataFrame:
        """The per-period edge table with changes (a copy)."""
        return self.edges.copy()

    def __repr__(self) -> str:
        labels = [str(p) for p in self.periods["period"]]
        changed = self.edges[self.edges["status"].isin(["new", "vanished"])]
        return (
            f"LogComparison({len(labels)} periods: {names(labels, limit=4)}; "
            f"{len(changed):,} new or vanished edges)"
        )

    def plot(
        self, *, kind: Literal["difference", "side_by_side"] = "difference", **kwargs: Any
    ) -> Figure:
        """Draw the comparison as a matplotlib figure.

        ``kind="difference"``: how ``period`` (default: the last) changed against the period
        before it (options as :func:`svcmining.plots.plot_difference_map`, including
        ``ax=``); ``kind="side_by_side"``: one process map per period (options as
        :func:`svcmining.plots.plot_periods`).
        """
        from ._processmap import difference_map, periods_map

        check_choice("LogComparison.plot", "kind", kind, ("difference", "side_by_side"))
        if kind == "difference":
            return difference_map(self, **kwargs).to_figure()
        return periods_map(self, **kwargs).to_figure()

    def _repr_html_(self) -> str:
        changed = self.edges[self.edges["status"] != "first"]
        if len(changed):
            changed = changed.reindex(
                changed["case_share_change"].abs().sort_values(ascending=False).index
            )
        return (
            f"<p><b>LogComparison</b>: {len(self.periods)} periods</p>"
            + html_section("Periods", self.periods)
            + html_section("Largest edge changes", changed)
        )


def _diff_long(
    per: list[tuple[str, pd.DataFrame]], keys: list[str], values: list[str]
) -> pd.DataFrame:
    """Stack per-period tables and add changes vs the previous period, with new/vanished rows."""
    frames = []
    prev: pd.DataFrame | None = None
    for label, cur in per:
        cur = cur[keys + values].set_index(keys)
        if prev is None:
            out = cur.copy()
            out["status"] = "first"
            for v in values:
                if v != "cases":
                    out[f"{v}_change"] = np.nan
        else:
            idx = cur.index.union(prev.index, sort=False)
            now = cur.reindex(idx)
            before = prev.reindex(idx)
            out = now.copy()
            status = np.where(
                now["cases"].isna(), "vanished", np.where(before["cases"].isna(), "new", "kept")
            )
            out["cases"] = now["cases"].fillna(0).astype(np.int64)
            if "case_share" in out.columns:
                out["case_share"] = now["case_share"].fillna(0.0)
            for v in values:
                if v == "cases":
                    continue
                b = before[v].fillna(0.0) if v == "case_share" else before[v]
                out[f"{v}_change"] = out[v] - b
            out["status"] = status
        out.insert(0, "period", label)
        frames.append(out.reset_index())
        prev = cur
    table = pd.concat(frames, ignore_index=True)
    table = table.rename(
        columns={
            f"{v}_change": v.replace("_hours", "_change_hours") for v in values if "_hours" in v
        }
    )
    middle = [c for c in table.columns if c not in ("period", "status", *keys)]
    table = table[["period", *keys, *middle, "status"]]
    table["period"] = table["period"].astype("str")
    table["status"] = table["status"].astype("str")
    return table


def _compare(groups: list[tuple[str, pd.DataFrame]], calendar: Calendar | None) -> LogComparison:
    if not groups:  # same columns as a real comparison, no rows
        none = pd.DataFrame(
            {
                "case_id": pd.array([], dtype="str"),
                "activity": pd.array([], dtype="str"),
                "timestamp": pd.Series([], dtype="datetime64[ns, UTC]"),
            }
        )
        full = _compare([("", none)], calendar)
        return LogComparison(
            periods=full.periods.iloc[:0],
            edges=full.edges.iloc[:0],
            activities=full.activities.iloc[:0],
            graphs={},
        )
    graphs: dict[str, ProcessGraph] = {}
    period_rows = []
    edge_frames: list[tuple[str, pd.DataFrame]] = []
    act_frames: list[tuple[str, pd.DataFrame]] = []
    for label, ev in groups:
        g = graph_of(ev, calendar)
        graphs[label] = g
        n = max(g.n_cases, 1)
        e = g.edges.assign(case_share=g.edges["cases"] / n)
        a = g.activities.assign(case_share=g.activities["cases"] / n)
        edge_frames.append((label, e))
        act_frames.append((label, a))
        med = float(_case_durations(ev, calendar).median()) if len(ev) else float("nan")
        period_rows.append(
            {
                "period": label,
                "cases": g.n_cases,
                "events": g.n_events,
                "median_case_duration_hours": med,
            }
        )
    periods = pd.DataFrame(period_rows)
    periods["period"] = periods["period"].astype("str")
    edges = _diff_long(
        edge_frames,
        ["source", "target"],
        ["cases", "case_share", "wait_p50_hours", "wait_p90_hours"],
    )
    acts = _diff_long(act_frames, ["activity"], ["cases", "case_share"])
    return LogComparison(periods=periods, edges=edges, activities=acts, graphs=graphs)


def _case_durations(data: LogLike, calendar: Calendar | None) -> pd.Series:
    fr = coded_frame(data)
    begin = np.minimum.reduceat(fr.begin_ns, fr.case_start)
    end = fr.end_ns[fr.case_start + fr.case_len - 1]
    return pd.Series(ns_hours(begin, end, fr.tz, calendar))


def compare_periods(
    log: LogLike,
    *,
    by: str = "month",
    calendar: Calendar | None = None,
) -> LogComparison:
    """Compare the process between periods (month over month) or groups of tickets.

    Each ticket belongs to one period: the one of its first event (so a ticket opened on
    31 October and closed in November counts for October), or to the value of column
    ``by`` on its first event (e.g. a ``pilot`` column "before"/"after", or ``channel``).

    Parameters
    ----------
    log : TicketLog or pandas.DataFrame
        The event log.
    by : {"month", "week", "quarter"} or column name
        Calendar periods (in the log's time zone) or a column.
    calendar : Calendar, optional
        Business calendar for the waiting times.

    Returns
    -------
    LogComparison
        Per-period edge and activity tables with changes vs the previous period.

    Examples
    --------
    >>> cmp = compare_periods(log, by="month")  # doctest: +SKIP
    >>> cmp.edges.query("status == 'new'")       # doctest: +SKIP
    """
    events = as_events(log)
    periods = ("month", "week", "quarter")
    if by not in periods and by not in events.columns:
        raise InvalidParameterError(
            f"The 'by' parameter of compare_periods must be one of {{'month', 'week', 'quarter'}} "
            f"or a column of the log ({', '.join(map(str, events.columns))}). Got {by!r} instead."
        )
    if len(events) == 0:
        return _compare([], calendar)
    case_idx = _case_index(events)
    first = np.flatnonzero(np.r_[True, case_idx[1:] != case_idx[:-1]])
    if by in periods:
        freq = {"month": "M", "week": "W-SUN", "quarter": "Q"}[by]
        ts = events["timestamp"].iloc[first].dt.tz_localize(None)
        key = ts.dt.to_period(freq)
        label_of = {p: str(p) for p in key.unique()}
        case_key = key.map(label_of).to_numpy()
        order = sorted(label_of.values())
    else:
        vals = events[by].iloc[first]
        case_key = vals.astype("str").fillna("(missing)").to_numpy()
        uniq = pd.unique(case_key)
        order = sorted(uniq, key=str)
    event_key = case_key[case_idx]
    groups = [(str(p), events.loc[event_key == p].reset_index(drop=True)) for p in order]
    return _compare(groups, calendar)


def compare_logs(
    a: LogLike,
    b: LogLike,
    *,
    labels: tuple[str, str] = ("before", "after"),
    calendar: Calendar | None = None,
) -> LogComparison:
    """Compare two logs (before/after a pilot, site A vs site B): changes are ``b`` vs ``a``.

    Parameters
    ----------
    a, b : TicketLog or pandas.DataFrame
        The two logs.
    labels : tuple of two str
        Period labels of ``a`` and ``b``.
    calendar : Calendar, optional
        Business calendar for the waiting times.

    Returns
    -------
    LogComparison

    Examples
    --------
    >>> cmp = compare_logs(before, after, labels=("试点前", "试点后"))  # doctest: +SKIP
    >>> cmp.plot()                                                       # doctest: +SKIP
    """
    if not (isinstance(labels, tuple | list) and len(labels) == 2 and labels[0] != labels[1]):
        raise InvalidParameterError(
            f"The 'labels' parameter of compare_logs must be two different names. Got {labels!r}."
        )
    ea, eb = as_events(a), as_events(b)
    return _compare([(str(labels[0]), ea), (str(labels[1]), eb)], calendar)
