"""The directly-follows graph and the variants of a log, behind :mod:`svcmining.discovery`
(which re-exports everything public here): the coded frame the two analyses share
(:class:`CodedFrame`), :class:`ProcessGraph`, and both analyses as a kernel over whole
tickets and a combine (:class:`DFGAnalysis`, :class:`VariantsAnalysis`).

Durations are elapsed hours unless a :class:`svcmining.calendars.Calendar` is given, in
which case they are business hours.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

import numpy as np
import pandas as pd

from ._groupstats import group_stats
from ._time import ns_hours
from .core import run
from .eventlog import (
    LogLike,
    TicketLog,
    as_ticket_log,
    frame_of,
    has_start_times,
    log_codes,
)

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from .calendars import Calendar

_NS_PER_HOUR = 3_600_000_000_000
_EDGE_COLUMNS = [
    "source",
    "target",
    "count",
    "cases",
    "wait_mean_hours",
    "wait_p50_hours",
    "wait_p90_hours",
    "wait_max_hours",
]

# ----------------------------------------------------------------------------------------------
# vectorised building blocks


@dataclass(frozen=True)
class CodedFrame:
    """Integer-coded view of a sorted event log (one pass of factorising, shared by all tables)."""

    act: np.ndarray  # activity code per event
    labels: np.ndarray  # activity label per code (object array of str)
    case: np.ndarray  # case index per event (0..n_cases-1, contiguous blocks)
    case_start: np.ndarray  # first event position of each case
    case_len: np.ndarray  # events per case
    end_ns: np.ndarray  # completion time per event, int64 ns (UTC)
    begin_ns: np.ndarray  # start time per event (start_timestamp, else timestamp), int64 ns
    lifecycle: bool  # start times present
    tz: Any

    @property
    def n_cases(self) -> int:
        return len(self.case_start)


def _ns(s: pd.Series) -> np.ndarray:
    """int64 nanoseconds since the epoch (UTC) of a tz-aware datetime Series (NaT -> iNaT)."""
    return np.asarray(s.dt.as_unit("ns").array.asi8, dtype=np.int64)


def coded_frame(data: LogLike) -> CodedFrame:
    events = frame_of(data)
    act, labels = log_codes(data, "activity")
    case_codes, _ = log_codes(data, "case_id")
    n = len(events)
    new_case = np.ones(n, dtype=bool)
    if n > 1:
        new_case[1:] = case_codes[1:] != case_codes[:-1]
    case = np.cumsum(new_case) - 1
    case_start = np.flatnonzero(new_case)
    case_len = np.diff(np.append(case_start, n))
    end_ns = _ns(events["timestamp"])
    lifecycle = has_start_times(events)
    if lifecycle:
        st = events["start_timestamp"]
        begin_ns = np.where(st.isna().to_numpy(), end_ns, _ns(st))
        begin_ns = np.minimum(begin_ns, end_ns)  # a start after its completion is not a start
    else:
        begin_ns = end_ns
    return CodedFrame(
        act=np.asarray(act, dtype=np.int64),
        labels=np.asarray(labels.astype(object)),
        case=case,
        case_start=case_start,
        case_len=case_len,
        end_ns=end_ns,
        begin_ns=begin_ns,
        lifecycle=lifecycle,
        tz=events["timestamp"].dt.tz,
    )


def _count_distinct_cases(group: np.ndarray, case: np.ndarray, n_groups: int) -> np.ndarray:
    """Number of distinct cases per group."""
    if len(group) == 0:
        return np.zeros(n_groups, dtype=np.int64)
    pair = group.astype(np.int64) * (int(case.max()) + 1) + case
    uniq = pd.unique(pair)
    return np.bincount(uniq // (int(case.max()) + 1), minlength=n_groups).astype(np.int64)


def html_section(title: str, df: pd.DataFrame, max_rows: int = 15) -> str:
    body = df.head(max_rows).to_html(index=False, escape=True, float_format=lambda x: f"{x:,.2f}")
    more = f"<p>… {len(df) - max_rows:,} more rows</p>" if len(df) > max_rows else ""
    return f"<h4>{html.escape(title)}</h4>{body}{more}"


# ----------------------------------------------------------------------------------------------
# directly-follows graph


@dataclass(frozen=True, eq=False)
class ProcessGraph:
    """A directly-follows graph with frequencies and waiting times.

    Attributes
    ----------
    edges : pandas.DataFrame
        One row per directly-follows pair: ``source``, ``target``, ``count`` (times the pair
        occurs), ``cases`` (tickets in which it occurs), ``wait_mean_hours``,
        ``wait_p50_hours``, ``wait_p90_hours``, ``wait_max_hours`` (time from the source's
        completion to the target's start, or to its timestamp without lifecycle data).
    activities : pandas.DataFrame
        ``activity``, ``department`` (most frequent owner, where known), ``count``, ``cases``
        and, with lifecycle data, ``processing_{mean,p50,p90,max}_hours``.
    start_activities, end_activities : pandas.DataFrame
        ``activity``, ``count``: how many tickets start / end with it.
    n_cases, n_events : int
        Size of the log the graph was discovered from.
    time_basis : {"elapsed", "business"}
        Whether hours are elapsed or business hours (a calendar was given).
    lifecycle : bool
        Whether waits run from completion to the next step's *start* (start times present).
    """

    edges: pd.DataFrame
    activities: pd.DataFrame
    start_activities: pd.DataFrame
    end_activities: pd.DataFrame
    n_cases: int
    n_events: int
    time_basis: Literal["elapsed", "business"] = "elapsed"
    lifecycle: bool = False

    def to_frame(self) -> pd.DataFrame:
        """The edge table (a copy)."""
        return self.edges.copy()

    def __repr__(self) -> str:
        top = ""
        if len(self.edges):
            e = self.edges.sort_values("count", ascending=False, kind="stable").iloc[0]
            top = f"; busiest {e['source']} → {e['target']} ({int(e['count']):,})"
        return (
            f"ProcessGraph({self.n_cases:,} cases, {self.n_events:,} events, "
            f"{len(self.activities):,} activities, {len(self.edges):,} edges, "
            f"{self.time_basis} hours{top})"
        )

    def plot(self, **kwargs: Any) -> Figure:
        """Draw the process map as a matplotlib figure.

        Keyword options as :func:`svcmining.plots.plot_process_map` (including ``ax=``);
        call that function instead for a :class:`~svcmining.plots.ProcessMap` that saves
        Graphviz's SVG or DOT.
        """
        from ._processmap import process_map

        return process_map(self, **kwargs).to_figure()

    def _repr_html_(self) -> str:
        head = (
            f"<p><b>ProcessGraph</b>: {self.n_cases:,} cases, {self.n_events:,} events, "
            f"{len(self.activities):,} activities, {len(self.edges):,} edges "
            f"({html.escape(self.time_basis)} hours"
            f"{', waits to step start' if self.lifecycle else ''})</p>"
        )
        return (
            head
            + html_section("Edges", self.edges)
            + html_section("Activities", self.activities)
            + html_section("Start activities", self.start_activities, 5)
            + html_section("End activities", self.end_activities, 5)
        )


def graph_of(data: LogLike, calendar: Calendar | None) -> ProcessGraph:
    return run(DFGAnalysis(calendar), [as_ticket_log(data)])


def discover_dfg(log: LogLike, *, calendar: Calendar | None = None) -> ProcessGraph:
    """Discover the directly-follows graph with counts and waiting times.

    Two events of a ticket are directly-follows when one comes right after the other in
    the log order (case, then time; ties keep the export order, as in pm4py). The waiting
    time of a pair is the next step's start (``start_timestamp``, lifecycle data) minus the
    previous step's completion, clipped at 0 when steps overlap; without lifecycle data it is
    the difference of the two timestamps. Counts equal ``pm4py.discover_dfg`` on the same
    log; mean waits equal ``pm4py.discover_performance_dfg`` (without lifecycle data).

    Parameters
    ----------
    log : TicketLog or pandas.DataFrame
        The event log.
    calendar : Calendar, optional
        Business calendar; waits and processing times are then business hours.

    Returns
    -------
    ProcessGraph
        Edges, activities, start and end activities.

    Examples
    --------
    >>> import pandas as pd
    >>> ts = pd.to_datetime(["2024-10-08 09:00", "2024-10-08 11:00", "2024-10-08 09:30",
    ...                      "2024-10-08 10:00"]).tz_localize("Asia/Shanghai")
    >>> df = pd.DataFrame({"case_id": ["1", "1", "2", "2"],
    ...                    "activity": ["登记", "结单", "登记", "结单"], "timestamp": ts})
    >>> g = discover_dfg(df)
    >>> g.edges[["source", "target", "count", "wait_mean_hours"]].to_dict("records")
    [{'source': '登记', 'target': '结单', 'count': 2, 'wait_mean_hours': 1.25}]
    """
    return run(DFGAnalysis(calendar), [as_ticket_log(log)])


# ----------------------------------------------------------------------------------------------
# the directly-follows graph and the variants as kernels (svcmining.core)


@dataclass(frozen=True, eq=False)
class DFGPart:
    """The partial directly-follows graph of whole tickets (codes local to the part).

    ``edge_src``/``edge_tgt`` are the part's distinct pairs in order of first occurrence,
    ``pair_edge`` the pair of each directly-follows step and ``pair_wait`` its wait (the
    values behind the exact quantiles); ``dep_first`` is where each (activity, department)
    first occurs in the part (``n_events`` when it does not).
    """

    n_events: int
    n_cases: int
    lifecycle: bool
    tz: Any
    labels: np.ndarray
    edge_src: np.ndarray
    edge_tgt: np.ndarray
    edge_cases: np.ndarray
    pair_edge: np.ndarray
    pair_wait: np.ndarray
    act_count: np.ndarray
    act_cases: np.ndarray
    start_count: np.ndarray
    end_count: np.ndarray
    dep_names: pd.Index | None = None
    dep_count: np.ndarray | None = None
    dep_first: np.ndarray | None = None
    proc_act: np.ndarray | None = None
    proc_hours: np.ndarray | None = None


def _empty_graph(calendar: Calendar | None) -> ProcessGraph:
    empty_edges = pd.DataFrame({c: pd.array([], dtype="str") for c in _EDGE_COLUMNS[:2]})
    for c in _EDGE_COLUMNS[2:]:
        empty_edges[c] = np.array([], dtype=np.int64 if c in ("count", "cases") else float)
    empty_act = pd.DataFrame(
        {"activity": pd.array([], dtype="str"), "count": np.array([], dtype=np.int64)}
    )
    return ProcessGraph(
        empty_edges,
        empty_act.assign(cases=np.array([], dtype=np.int64)),
        empty_act,
        empty_act.copy(),
        0,
        0,
        "elapsed" if calendar is None else "business",
        False,
    )


def _global_labels(labels: list[np.ndarray]) -> tuple[np.ndarray, list[np.ndarray]]:
    """The union of the parts' labels (first occurrence order) and each part's code map."""
    if len(labels) == 1:
        return labels[0], [np.arange(len(labels[0]), dtype=np.int64)]
    union = pd.Index(np.concatenate(labels)).unique()
    return np.asarray(union, dtype=object), [
        np.asarray(union.get_indexer(lab), dtype=np.int64) for lab in labels
    ]


def _count_table(labels: np.ndarray, counts: np.ndarray) -> pd.DataFrame:
    keep = np.flatnonzero(counts)
    table = pd.DataFrame(
        {"activity": pd.array(labels[keep], dtype="str"), "count": counts[keep].astype(np.int64)}
    )
    return table.sort_values(["count", "activity"], ascending=[False, True], ignore_index=True)


@dataclass(frozen=True)
class DFGAnalysis:
    """:func:`discover_dfg` as a kernel and a combine (no whole-log context needed).

    Counts and distinct tickets per pair and activity add up over parts of whole
    tickets; the waits and processing times are sent as values (exact quantiles); an
    activity's owner department is the most frequent one, ties to the one seen first in
    the log (the parts come in log order).
    """

    calendar: Calendar | None = None

    def context(self) -> None:
        """No whole-log fact is needed."""
        return None

    def kernel(self, part: TicketLog, ctx: None = None) -> DFGPart:
        """The partial graph of ``part``."""
        fr = coded_frame(part)
        n_act = len(fr.labels)
        i = np.flatnonzero(fr.case[1:] == fr.case[:-1]) if len(fr.case) > 1 else np.zeros(0, int)
        wait = ns_hours(fr.end_ns[i], fr.begin_ns[i + 1], fr.tz, self.calendar)
        if fr.lifecycle:
            wait = np.maximum(wait, 0.0)  # overlapping steps: the next one did not wait
        codes, uniq = pd.factorize(fr.act[i] * max(n_act, 1) + fr.act[i + 1])
        uniq = np.asarray(uniq, dtype=np.int64)
        events = part.events
        dep_names = dep_count = dep_first = None
        if "department" in events.columns:
            dep, dep_names = part.codes("department", sort=True)
            n_dep = len(dep_names)
            has = np.flatnonzero(dep >= 0)
            pair = fr.act[has] * n_dep + dep[has]
            dep_count = np.bincount(pair, minlength=n_act * n_dep).reshape(n_act, n_dep)
            first = np.full(n_act * n_dep, len(events), dtype=np.int64)
            seen, at = np.unique(pair, return_index=True)
            first[seen] = has[at]
            dep_first = first.reshape(n_act, n_dep)
        proc_act = proc_hours = None
        if fr.lifecycle:
            has_start = events["start_timestamp"].notna().to_numpy()
            proc = ns_hours(fr.begin_ns, fr.end_ns, fr.tz, self.calendar)
            proc_act, proc_hours = fr.act, np.where(has_start, proc, np.nan).astype(float)
        ends = fr.case_start + fr.case_len - 1
        return DFGPart(
            n_events=len(events),
            n_cases=fr.n_cases,
            lifecycle=fr.lifecycle,
            tz=fr.tz,
            labels=fr.labels,
            edge_src=uniq // max(n_act, 1),
            edge_tgt=uniq % max(n_act, 1),
            edge_cases=_count_distinct_cases(codes, fr.case[i], len(uniq)),
            pair_edge=np.asarray(codes, dtype=np.int64),
            pair_wait=np.asarray(wait, dtype=float),
            act_count=np.bincount(fr.act, minlength=n_act).astype(np.int64),
            act_cases=_count_distinct_cases(fr.act, fr.case, n_act),
            start_count=np.bincount(fr.act[fr.case_start], minlength=n_act),
            end_count=np.bincount(fr.act[ends], minlength=n_act),
            dep_names=dep_names,
            dep_count=dep_count,
            dep_first=dep_first,
            proc_act=proc_act,
            proc_hours=proc_hours,
        )

    def combine(self, parts: Sequence[DFGPart], ctx: None = None) -> ProcessGraph:
        """The graph of the whole log from the parts' graphs (in log order)."""
        parts = [p for p in parts if p.n_events]
        if not parts:
            return _empty_graph(self.calendar)
        labels, maps = _global_labels([p.labels for p in parts])
        n_act = len(labels)
        # ---- edges: the parts' distinct pairs numbered over the log, then every step
        keys = np.concatenate(
            [m[p.edge_src] * n_act + m[p.edge_tgt] for p, m in zip(parts, maps, strict=True)]
        )
        e_codes, e_uniq = pd.factorize(keys)
        e_uniq = np.asarray(e_uniq, dtype=np.int64)
        n_e = len(e_uniq)
        offsets = np.cumsum([0] + [len(p.edge_src) for p in parts])
        pair = np.concatenate(
            [
                e_codes[o : o + len(p.edge_src)][p.pair_edge]
                for p, o in zip(parts, offsets, strict=False)
            ]
        )
        wait = np.concatenate([p.pair_wait for p in parts])
        edges = pd.DataFrame(
            {
                "source": pd.array(labels[e_uniq // n_act] if n_e else [], dtype="str"),
                "target": pd.array(labels[e_uniq % n_act] if n_e else [], dtype="str"),
                "count": np.bincount(pair, minlength=n_e).astype(np.int64),
                "cases": np.bincount(
                    e_codes, weights=np.concatenate([p.edge_cases for p in parts]), minlength=n_e
                ).astype(np.int64),
                **group_stats(pair, wait, n_e, "wait"),
            }
        ).sort_values(
            ["count", "source", "target"], ascending=[False, True, True], ignore_index=True
        )

        # ---- activities
        def added(name: str) -> np.ndarray:
            out = np.zeros(n_act, dtype=np.int64)
            for p, m in zip(parts, maps, strict=True):
                np.add.at(out, m, getattr(p, name))
            return out

        activities = pd.DataFrame(
            {
                "activity": pd.array(labels, dtype="str"),
                "count": added("act_count"),
                "cases": added("act_cases"),
            }
        )
        if parts[0].dep_names is not None:
            activities.insert(1, "department", self._owners(parts, maps, n_act))
        lifecycle = any(p.lifecycle for p in parts)
        if lifecycle:
            p_act = np.concatenate(
                [m[p.proc_act] for p, m in zip(parts, maps, strict=True) if p.proc_act is not None]
            )
            p_h = np.concatenate([p.proc_hours for p in parts if p.proc_hours is not None])
            for name, values in group_stats(p_act, p_h, n_act, "processing").items():
                activities[name] = values
        activities = activities.sort_values(
            ["count", "activity"], ascending=[False, True], ignore_index=True
        )
        return ProcessGraph(
            edges=edges,
            activities=activities,
            start_activities=_count_table(labels, added("start_count")),
            end_activities=_count_table(labels, added("end_count")),
            n_cases=int(sum(p.n_cases for p in parts)),
            n_events=int(sum(p.n_events for p in parts)),
            time_basis="elapsed" if self.calendar is None else "business",
            lifecycle=lifecycle,
        )

    @staticmethod
    def _owners(parts: Sequence[DFGPart], maps: list[np.ndarray], n_act: int) -> Any:
        """The department doing each activity most often (ties: the one seen first)."""
        if len(parts) > 1:
            seen = np.concatenate([np.asarray(p.dep_names, dtype=object) for p in parts])
            deps = pd.Index(seen).unique().sort_values()
        else:
            deps = pd.Index(parts[0].dep_names)
        n_dep = len(deps)
        n_events = int(sum(p.n_events for p in parts))
        counts = np.zeros((n_act, n_dep), dtype=np.int64)
        first = np.full((n_act, n_dep), n_events, dtype=np.int64)
        offset = 0
        for p, m in zip(parts, maps, strict=True):
            dm = np.asarray(pd.Index(deps).get_indexer(p.dep_names), dtype=np.int64)
            if p.dep_count is not None and p.dep_first is not None and len(dm):
                counts[np.ix_(m, dm)] += p.dep_count
                seen = np.where(p.dep_first < p.n_events, p.dep_first + offset, n_events)
                first[np.ix_(m, dm)] = np.minimum(first[np.ix_(m, dm)], seen)
            offset += p.n_events
        owner = np.full(n_act, -1, dtype=np.int64)
        if n_dep:
            score = counts * (n_events + 1) - first
            owner = np.where(counts.max(axis=1) > 0, score.argmax(axis=1), -1)
        out = np.r_[np.asarray(deps, dtype=object), np.array([None], dtype=object)]
        return pd.array(out[owner], dtype="str")


@dataclass(frozen=True, eq=False)
class VariantsPart:
    """Variants of whole tickets: each distinct sequence with its tickets, and per ticket
    its variant (local code) and duration (the values behind the exact medians)."""

    n_cases: int
    sequences: list[tuple[str, ...]]
    case_variant: np.ndarray
    case_hours: np.ndarray


class VariantTable(NamedTuple):
    """The variant table and the rank (``variant_id``) of every ticket, in log order."""

    table: pd.DataFrame
    case_rank: np.ndarray


@dataclass(frozen=True)
class VariantsAnalysis:
    """:func:`variants` as a kernel (sequences and durations per ticket) and a combine."""

    calendar: Calendar | None = None

    def context(self) -> None:
        """No whole-log fact is needed."""
        return None

    def kernel(self, part: TicketLog, ctx: None = None) -> VariantsPart:
        """Each ticket's variant and duration."""
        fr = coded_frame(part)
        codes = case_variants(fr)
        n_var = int(codes.max()) + 1 if len(codes) else 0
        first_case = np.full(n_var, -1, dtype=np.int64)
        first_case[codes[::-1]] = np.arange(len(codes))[::-1]
        sequences = [
            tuple(fr.labels[fr.act[s : s + ln]].tolist())
            for s, ln in zip(fr.case_start[first_case], fr.case_len[first_case], strict=True)
        ]
        if n_var:
            begin = np.minimum.reduceat(fr.begin_ns, fr.case_start)
        else:
            begin = np.array([], np.int64)
        end = fr.end_ns[fr.case_start + fr.case_len - 1]
        hours = np.asarray(ns_hours(begin, end, fr.tz, self.calendar), dtype=float)
        return VariantsPart(fr.n_cases, sequences, codes, hours)

    def combine(self, parts: Sequence[VariantsPart], ctx: None = None) -> VariantTable:
        """The ranked variant table of the whole log."""
        if len(parts) == 1:
            sequences, codes = parts[0].sequences, parts[0].case_variant
        else:
            number: dict[tuple[str, ...], int] = {}
            for p in parts:
                for s in p.sequences:
                    number.setdefault(s, len(number))
            sequences = list(number)
            codes = np.concatenate(
                [np.zeros(0, np.int64)]
                + [
                    np.asarray([number[s] for s in p.sequences], dtype=np.int64)[p.case_variant]
                    for p in parts
                    if p.n_cases
                ]
            )
        n_cases = int(sum(p.n_cases for p in parts))
        n_var = len(sequences)
        counts = np.bincount(codes, minlength=n_var)
        dur = np.concatenate([np.zeros(0)] + [p.case_hours for p in parts])
        median = (
            pd.Series(dur).groupby(codes).median().reindex(range(n_var)).to_numpy()
            if n_var
            else np.array([], float)
        )
        rank_order = sorted(range(n_var), key=lambda v: (-counts[v], sequences[v]))
        rank = np.empty(n_var, dtype=np.int64)
        rank[rank_order] = np.arange(1, n_var + 1)
        share = counts[rank_order] / max(n_cases, 1)
        table = pd.DataFrame(
            {
                "variant_id": np.arange(1, n_var + 1, dtype=np.int64),
                "sequence": pd.Series([sequences[v] for v in rank_order], dtype=object),
                "length": np.array([len(sequences[v]) for v in rank_order], dtype=np.int64),
                "cases": counts[rank_order].astype(np.int64),
                "share": share,
                "cumulative_share": np.cumsum(share),
                "median_case_duration_hours": median[rank_order] if n_var else [],
            }
        )
        return VariantTable(table, rank[codes] if n_var else np.array([], np.int64))


# ----------------------------------------------------------------------------------------------
# variants


def case_variants(fr: CodedFrame) -> np.ndarray:
    """Variant code per case (equal codes <=> equal activity sequences), exact.

    Builds the prefix trie level by level: at level k every case still longer than k moves
    to the child of its node labelled with its k-th activity (one vectorised factorize per
    level). The loop runs over positions (at most the longest case), never over events, and
    stops as soon as every remaining case has a prefix of its own.
    """
    n_cases = fr.n_cases
    if n_cases == 0:
        return np.array([], dtype=np.int64)
    n_act = max(len(fr.labels), 1)
    order = np.argsort(-fr.case_len, kind="stable")
    neg_sorted = -fr.case_len[order]
    node = np.zeros(n_cases, dtype=np.int64)
    for k in range(int(fr.case_len.max())):
        m = int(np.searchsorted(neg_sorted, -k, side="left"))  # cases longer than k
        active = order[:m]
        key = node[active] * n_act + fr.act[fr.case_start[active] + k]
        codes, uniq = pd.factorize(key)
        node[active] = codes
        if len(uniq) == m:  # every remaining case already has a prefix of its own
            # make these nodes distinct from shorter cases' final nodes via the length below
            break
    final = fr.case_len.astype(np.int64) * (n_cases + 1) + node
    codes, _ = pd.factorize(final)
    return np.asarray(codes, dtype=np.int64)


def variant_table(data: LogLike, calendar: Calendar | None) -> tuple[pd.DataFrame, np.ndarray]:
    """Variant table (ranked) and the variant rank (1 = most frequent) of each case."""
    return run(VariantsAnalysis(calendar), [as_ticket_log(data)])


def variants(log: LogLike, *, calendar: Calendar | None = None) -> pd.DataFrame:
    """Table of the variants (distinct activity sequences), most frequent first.

    Parameters
    ----------
    log : TicketLog or pandas.DataFrame
        The event log.
    calendar : Calendar, optional
        Business calendar for the case durations (elapsed hours by default).

    Returns
    -------
    pandas.DataFrame
        ``variant_id`` (1 = most frequent; ties broken by the sequence), ``sequence`` (tuple
        of activities), ``length``, ``cases``, ``share``, ``cumulative_share``,
        ``median_case_duration_hours`` (first start to last completion).

    Examples
    --------
    >>> import pandas as pd
    >>> ts = pd.to_datetime(["2024-10-08 09:00", "2024-10-08 11:00", "2024-10-08 09:30"]
    ...                     ).tz_localize("Asia/Shanghai")
    >>> df = pd.DataFrame({"case_id": ["1", "1", "2"], "activity": ["登记", "结单", "登记"],
    ...                    "timestamp": ts})
    >>> variants(df)["sequence"].tolist()
    [('登记',), ('登记', '结单')]
    """
    return run(VariantsAnalysis(calendar), [as_ticket_log(log)]).table
