"""The pain-point map of :mod:`svcmining.kpis` (split from kpis.py).

:func:`pain_points` ranks the breakpoints of the process (rework, handoffs, SOP
deviations, steps over a benchmark) by the hours they cost; :class:`PainPoints` holds
the ranking and draws it on the process map.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ._groupstats import group_quantiles
from ._hourslost import NO_LOSS_HOURS, hours_beyond, peer_targets
from ._i18n import tr
from ._outcomes import (
    StepBenchmark,
    case_times,
    given_analyses,
    handoff_cases,
    step_durations,
    td_hours,
)
from ._repr import html_table
from ._time import cutoff as cutoff_of
from ._time import hours
from .eventlog import (
    LogLike,
    TicketLog,
    as_ticket_log,
    case_blocks,
    has_start_times,
    index_in,
)
from .exceptions import InvalidParameterError
from .sop import as_sop
from .states import TicketStates, as_states

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from ._processmap import ProcessMap
    from .calendars import Calendar
    from .conformance import ConformanceResult
    from .discovery import ProcessGraph
    from .rework import ReworkResult


_PP_COLUMNS = [
    "rank",
    "pain_point",
    "kind",
    "module",
    "cases",
    "occurrences",
    "hours_lost",
    "hours_lost_per_case",
    "share_of_lost",
    "share_of_ticket_hours",
    "p50_hours",
    "p90_hours",
    "baseline_hours",
    "cases_all",
    "occurrences_all",
    "example_cases",
    "evidence",
]


def evidence(table: pd.DataFrame, lang: str = "en") -> list[str]:
    """The pain-point table's ``evidence`` sentence per row, in English or Chinese: how many
    of the tickets (occurrences) through the point lost hours, beyond what, and how long."""
    cols = ["cases", "cases_all", "occurrences", "occurrences_all", "baseline_hours"]
    return [
        tr(
            lang,
            en="{c} of {ca} tickets ({o} of {n} occurrences) over {b:.2f} h; "
            "median {p50:.1f} h, p90 {p90:.1f} h",
            zh="{ca} 张工单中 {c} 张（{n} 次中 {o} 次）超过 {b:.2f} 小时；"
            "中位数 {p50:.1f} 小时，p90 {p90:.1f} 小时",
            c=c,
            ca=ca,
            o=o,
            n=n,
            b=b,
            p50=p50,
            p90=p90,
        )
        for c, ca, o, n, b, p50, p90 in zip(
            *(table[col] for col in cols), table["p50_hours"], table["p90_hours"], strict=True
        )
    ]


@dataclass(frozen=True, eq=False)
class PainPoints:
    """Breakpoints of the process ranked by hours lost (see :func:`pain_points`).

    Attributes
    ----------
    table : pandas.DataFrame
        One row per breakpoint, most hours lost first: ``rank``, ``pain_point`` (e.g.
        "销售部 → 售后部"), ``kind`` (``handoff``, ``step``, ``wait``, ``rework``,
        ``deviation``, ``sla``), ``module`` (which analysis found it), ``cases``,
        ``occurrences``, ``hours_lost``, ``hours_lost_per_case``, ``share_of_lost``
        (of the hours lost of all rows; the perspectives overlap, see
        :func:`pain_points`), ``share_of_ticket_hours`` (of all tickets' cycle hours),
        ``p50_hours`` / ``p90_hours`` (of the per-occurrence durations),
        ``baseline_hours`` (what counts as no loss), ``cases_all`` / ``occurrences_all``
        (the tickets / occurrences through this point, lost hours or not),
        ``example_cases`` (";"-joined, the costliest) and ``evidence`` (one sentence).
    locations : pandas.DataFrame
        Where each breakpoint sits on the process map: ``rank``, ``source``, ``target``
        (an edge) or ``target`` alone with an empty ``source`` (a step), ``count``.
    graph : ProcessGraph
        The process map the breakpoints are drawn on (discovered when asked for).
    """

    table: pd.DataFrame
    locations: pd.DataFrame
    _events: pd.DataFrame | None = field(default=None, repr=False)
    _calendar: Any = field(default=None, repr=False)
    _graph: ProcessGraph | None = field(default=None, repr=False)

    @property
    def graph(self) -> ProcessGraph:
        """The process map (directly-follows graph) the breakpoints are drawn on."""
        from .discovery import discover_dfg

        if self._graph is not None:
            return self._graph
        if self._events is None:
            raise InvalidParameterError("This PainPoints result has no log to draw a map from.")
        graph = discover_dfg(self._events, calendar=self._calendar)
        object.__setattr__(self, "_graph", graph)  # drawn once, however often plotted
        return graph

    def to_frame(self) -> pd.DataFrame:
        """The ranked table."""
        return self.table.copy()

    def top(self, n: int = 10) -> pd.DataFrame:
        """The ``n`` costliest breakpoints."""
        return self.table.head(n).copy()

    def plot(
        self,
        *,
        n: int = 5,
        metric: str = "wait_p50",
        engine: str = "auto",
        ax: Any = None,
        lang: str = "en",
    ) -> Figure:
        """The "pain-point map": the process map with the top ``n`` breakpoints in red.

        Options as :func:`svcmining.plots.plot_process_map` (``ax=`` draws into an
        axes; ``lang`` the language of the title, legend and colour bar, "en" or "zh");
        returns the matplotlib figure (:meth:`map` gives the map itself).
        """
        return self.map(n=n, metric=metric, engine=engine, ax=ax, lang=lang).to_figure()

    def map(
        self,
        *,
        n: int = 5,
        metric: str = "wait_p50",
        engine: str = "auto",
        ax: Any = None,
        lang: str = "en",
    ) -> ProcessMap:
        """The pain-point map of :meth:`plot` as a :class:`~svcmining.plots.ProcessMap`
        (Graphviz's own SVG when ``dot`` is installed; ``.save()``, inline in Jupyter),
        drawn once, with no raster copy."""
        from .plots import plot_process_map

        graph = self.graph
        e = graph.edges
        on_map = set(zip(e["source"].astype(str), e["target"].astype(str), strict=True))
        acts = set(graph.activities["activity"].astype(str))
        loc = self.locations[self.locations["rank"] <= n]
        items: list[Any] = []
        for s, t in zip(loc["source"], loc["target"], strict=True):
            if s and (s, t) in on_map:
                items.append((s, t))
            elif not s and t in acts:
                items.append(t)
        items = list(dict.fromkeys(items))
        top = self.table.head(n)
        ranked = "\n".join(  # one line each: a long title would squeeze the map
            tr(lang, en="{r}. {p} ({h:,.0f} h)", zh="{r}. {p}（{h:,.0f} 小时）", r=r, p=p, h=h)
            for r, p, h in zip(top["rank"], top["pain_point"], top["hours_lost"], strict=True)
        )
        title = tr(lang, en="Pain points (hours lost)", zh="痛点（损失工时）") + "\n" + ranked
        return plot_process_map(
            graph,
            metric=metric,  # type: ignore[arg-type]
            highlight=items or None,
            engine=engine,  # type: ignore[arg-type]
            title=title,
            ax=ax,
            lang=lang,
        )

    def __repr__(self) -> str:
        top = "; ".join(
            f"{r}. {p} ({h:,.0f} h)"
            for r, p, h in zip(
                self.table["rank"].head(3),
                self.table["pain_point"].head(3),
                self.table["hours_lost"].head(3),
                strict=True,
            )
        )
        return f"PainPoints({len(self.table):,} breakpoints" + (f"; top {top})" if top else ")")

    def _repr_html_(self) -> str:
        cols = [c for c in _PP_COLUMNS if c not in ("evidence",)]
        return "<p><b>Pain points (hours lost)</b></p>" + html_table(
            self.table[cols], max_rows=20, max_columns=len(cols), float_format=lambda x: f"{x:,.3g}"
        )


@dataclass(frozen=True)
class _Source:
    """One analysis' breakpoints in coded form: one entry per occurrence."""

    kind: str
    module: str
    names: np.ndarray  # group names
    g: np.ndarray  # group code per occurrence
    case: np.ndarray  # global case code per occurrence
    lost: np.ndarray
    dur: np.ndarray
    base: np.ndarray
    src: np.ndarray  # activity code of the map location's source (-1: a step)
    tgt: np.ndarray  # activity code of the map location's target (-1: none)


def _group_codes(*cols: pd.Series, sep: str = "") -> tuple[np.ndarray, np.ndarray]:
    """Integer group codes and names for one label column or a pair joined by ``sep``."""
    codes, uniq = pd.factorize(cols[0], use_na_sentinel=False)
    uniq = pd.Index(uniq).astype(object).fillna("").astype(str)
    if len(cols) == 1:
        return codes.astype("int64"), np.asarray(uniq, dtype=object)
    c2, u2 = pd.factorize(cols[1], use_na_sentinel=False)
    u2 = pd.Index(u2).astype(object).fillna("").astype(str)
    key = codes.astype("int64") * len(u2) + c2
    gk, ukey = pd.factorize(key)
    u1 = np.asarray(uniq, dtype=object)
    u2a = np.asarray(u2, dtype=object)
    names = np.array([f"{u1[k // len(u2)]}{sep}{u2a[k % len(u2)]}" for k in ukey], dtype=object)
    return gk.astype("int64"), names


def _in_vocab(values: Any, vocab: pd.Index) -> np.ndarray:
    """Codes of ``values`` in ``vocab`` (-1 where absent or missing)."""
    codes, uniq = pd.factorize(pd.Series(values))
    found = np.r_[np.asarray(vocab.get_indexer(uniq), dtype="int64"), -1]
    return found[codes]  # code -1 (missing) picks the trailing -1


def _aggregate(
    src: _Source, n_case: int, case_names: np.ndarray, vocab: pd.Index, n_examples: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per group of one source: counts, hours lost, quantiles, examples and map locations."""
    n_groups = len(src.names)
    g = src.g
    n_all = np.bincount(g, minlength=n_groups)
    both = pd.unique(g * n_case + src.case)
    cases_all = np.bincount(both // n_case, minlength=n_groups)
    p50, p90 = _quantiles(g, src.dur, n_groups, (0.5, 0.9))
    (base,) = _quantiles(g, src.base, n_groups, (0.5,))
    pos = np.nan_to_num(src.lost) > NO_LOSS_HOURS  # float noise of a subtraction is no loss
    gp, lp, cp = g[pos], src.lost[pos], src.case[pos]
    hours = np.bincount(gp, weights=lp, minlength=n_groups)
    occ = np.bincount(gp, minlength=n_groups)
    inv, ukey = pd.factorize(gp * n_case + cp)
    per_case = np.bincount(inv, weights=lp, minlength=len(ukey))
    ug, uc = ukey // n_case, ukey % n_case
    cases = np.bincount(ug, minlength=n_groups)
    # the costliest tickets of each group (ties by case id)
    order = np.lexsort((uc, -per_case, ug))
    gs = ug[order]
    starts = np.flatnonzero(np.r_[True, gs[1:] != gs[:-1]]) if len(gs) else np.array([], int)
    rank_in = np.arange(len(gs)) - np.repeat(starts, np.diff(np.r_[starts, len(gs)]))
    sel = order[rank_in < n_examples]
    ex = (
        pd.Series(case_names[uc[sel]].astype(str))
        .groupby(ug[sel], sort=False)
        .agg(";".join)
        .reindex(range(n_groups))
        .fillna("")
    )
    table = pd.DataFrame(
        {
            "pain_point": src.names.astype(str),
            "kind": src.kind,
            "module": src.module,
            "cases": cases,
            "occurrences": occ,
            "hours_lost": hours,
            "p50_hours": p50,
            "p90_hours": p90,
            "baseline_hours": base,
            "example_cases": ex.to_numpy(),
            "occurrences_all": n_all,
            "cases_all": cases_all,
            "_g": np.arange(n_groups),
        }
    )
    v = len(vocab) + 1
    lkey = (gp * v + (src.src[pos] + 1)) * v + (src.tgt[pos] + 1)
    lcodes, lk = pd.factorize(lkey)
    cnt = np.bincount(lcodes, minlength=len(lk))
    lg = lk // (v * v)
    ls = (lk // v) % v - 1
    lt = lk % v - 1
    has_t = lt >= 0  # pending handoffs have no target yet: no place on the map
    lg, ls, lt, cnt = lg[has_t], ls[has_t], lt[has_t], cnt[has_t]
    o = np.lexsort((-cnt, lg))
    lg, ls, lt, cnt = lg[o], ls[o], lt[o], cnt[o]
    st = np.flatnonzero(np.r_[True, lg[1:] != lg[:-1]]) if len(lg) else np.array([], int)
    r_in = np.arange(len(lg)) - np.repeat(st, np.diff(np.r_[st, len(lg)]))
    keep = r_in < 3
    names = np.r_[np.asarray(vocab, dtype=object), np.array([""], dtype=object)]
    loc = pd.DataFrame(
        {
            "_g": lg[keep],
            "source": names[ls[keep]],  # -1 → "" (last entry)
            "target": names[lt[keep]],
            "count": cnt[keep],
        }
    )
    return table[table["hours_lost"] > 0], loc


def _quantiles(
    g: np.ndarray, values: np.ndarray, n_groups: int, qs: tuple[float, ...]
) -> np.ndarray:
    """Linear quantiles ``qs`` of the non-NaN ``values`` per group (rows: the quantiles)."""
    v = np.asarray(values, dtype="float64")
    ok = ~np.isnan(v)
    return group_quantiles(g[ok], v[ok], n_groups, qs)[0]


def _rank(
    sources: list[_Source],
    n_case: int,
    case_names: np.ndarray,
    vocab: pd.Index,
    n_examples: int,
    total_cycle: float,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """All sources' groups in one table ranked by hours lost, and their map locations."""
    tables, locs = [], []
    for i, src in enumerate(sources):
        if not len(src.g):
            continue
        t, loc = _aggregate(src, n_case, case_names, vocab, n_examples)
        tables.append(t.assign(_s=i))
        locs.append(loc.assign(_s=i))
    if not tables:
        return (
            pd.DataFrame(columns=_PP_COLUMNS),
            pd.DataFrame(columns=["rank", "source", "target", "count"]),
        )
    agg = pd.concat(tables, ignore_index=True)
    total = float(agg["hours_lost"].sum())
    agg["hours_lost_per_case"] = agg["hours_lost"] / agg["cases"]
    agg["share_of_lost"] = agg["hours_lost"] / total if total > 0 else np.nan
    agg["share_of_ticket_hours"] = agg["hours_lost"] / total_cycle if total_cycle > 0 else np.nan
    agg = agg.sort_values(
        ["hours_lost", "pain_point", "kind"], ascending=[False, True, True], kind="stable"
    ).reset_index(drop=True)
    agg["rank"] = np.arange(1, len(agg) + 1)
    agg["evidence"] = evidence(agg)
    loc = pd.concat(locs, ignore_index=True).merge(
        agg[["_s", "_g", "rank"]], on=["_s", "_g"], how="inner"
    )
    loc = (
        loc[["rank", "source", "target", "count"]]
        .sort_values(["rank", "count"], ascending=[True, False], kind="stable")
        .reset_index(drop=True)
        .astype({"rank": "int64", "count": "int64"})
    )
    for c in ("cases", "occurrences"):
        agg[c] = agg[c].astype("int64")
    return agg[_PP_COLUMNS], loc


def _case_lookup(case_labels: pd.Index) -> Callable[[pd.Series], np.ndarray]:
    """The ticket code of each id of a result (ids as strings, ``case_labels`` sorted)."""

    def case_of(ids: pd.Series) -> np.ndarray:
        # rows of a result come ticket by ticket: look up each run of one id once
        ids = ids.reset_index(drop=True)
        codes, starts = case_blocks(ids)
        first = pd.Index(ids.iloc[starts].astype("str"))
        return index_in(first, case_labels)[codes]

    return case_of


def _handoff_source(
    handoffs: Any,
    ho_bench: float | None,
    case_of: Callable[[pd.Series], np.ndarray],
    vocab: pd.Index,
    sources: list[_Source],
) -> None:
    """Add the ``handoff`` breakpoints: per department pair, the handoffs' hours lost
    (the handoff result's own ``hours_lost``, recomputed by the same rule for another
    ``handoff_benchmark``)."""
    _, hand = handoff_cases(handoffs)
    if len(hand):
        d = hand["delay_hours"].to_numpy(dtype="float64")
        pending = (
            hand["pending"].to_numpy(dtype=bool)
            if "pending" in hand.columns
            else np.zeros(len(d), dtype=bool)
        )
        done = np.where(pending, np.nan, d)  # waits so far: lost hours, not durations
        if ho_bench is None and {"target_hours", "hours_lost"} <= set(hand.columns):
            base_h = hand["target_hours"].to_numpy(dtype="float64")
            lost = hand["hours_lost"].to_numpy(dtype="float64")
        else:
            base_h = peer_targets(hand, ho_bench)
            lost = hours_beyond(np.nan_to_num(d), base_h)
        g, names = _group_codes(hand["from_group"], hand["to_group"], sep=" → ")
        sources.append(
            _Source(
                "handoff",
                "handoffs",
                names,
                g,
                case_of(hand["case_id"]),
                lost,
                done,
                np.where(pending, np.nan, base_h),
                _in_vocab(hand["from_activity"], vocab),
                _in_vocab(hand["to_activity"], vocab),
            )
        )


def _step_sources(
    tlog: TicketLog,
    case_codes: np.ndarray,
    act_codes: np.ndarray,
    vocab: pd.Index,
    bench: dict[str, float],
    calendar: Calendar | None,
    st: TicketStates,
    sources: list[_Source],
) -> None:
    """Add the ``step`` breakpoints (durations above the step's benchmark or median) and,
    with lifecycle data, the ``wait`` ones (waits between steps above the edge's median)."""
    events = tlog.events
    cc = np.asarray(case_codes, dtype="int64")
    ac = np.asarray(act_codes, dtype="int64")
    same = np.r_[False, cc[1:] == cc[:-1]]
    dur = step_durations(tlog, calendar, st).to_numpy(dtype="float64")
    ok = ~np.isnan(dur)
    if "department" in events.columns and not has_start_times(events):
        # a wait across departments is a handoff, counted there once; benchmarked steps
        # are counted whoever handed them over
        dep_codes = tlog.codes("department")[0]
        same_dep = np.r_[False, (dep_codes[1:] == dep_codes[:-1]) & (dep_codes[1:] >= 0)]
        no_dep = dep_codes < 0
        benched = np.isin(ac, [vocab.get_loc(x) for x in bench if x in vocab])
        ok &= same_dep | no_dep | np.r_[True, dep_codes[:-1] < 0] | benched
    h = dur[ok]
    a = ac[ok]
    med = pd.Series(h).groupby(a).median()
    base_act = np.full(len(vocab), np.nan)
    base_act[med.index.to_numpy()] = med.to_numpy()
    for act_label, hours_ in bench.items():
        if act_label in vocab:
            base_act[vocab.get_loc(act_label)] = hours_
    base = base_act[a]
    sources.append(
        _Source(
            "step",
            "kpis",
            np.asarray(vocab, dtype=object),
            a,
            cc[ok],
            np.clip(h - base, 0, None),
            h,
            base,
            np.full(len(a), -1, dtype="int64"),
            a,
        )
    )
    if has_start_times(events):
        ts = events["timestamp"]
        prev_end = ts.shift().where(pd.Series(same, index=events.index)).astype(ts.dtype)
        start = events["start_timestamp"].astype(ts.dtype)
        w = hours(prev_end, start, calendar).clip(lower=0).to_numpy(dtype="float64")
        okw = ~np.isnan(w) & same
        prev_code = np.r_[-1, ac[:-1]][okw]
        this_code = ac[okw]
        ww = w[okw]
        edge = prev_code * len(vocab) + this_code
        g, ukey = pd.factorize(edge)
        names = np.array(
            [f"{vocab[k // len(vocab)]} → {vocab[k % len(vocab)]}" for k in ukey], dtype=object
        )
        wb = pd.Series(ww).groupby(g).transform("median").to_numpy()
        sources.append(
            _Source(
                "wait",
                "discovery",
                names,
                g.astype("int64"),
                cc[okw],
                np.clip(ww - wb, 0, None),
                ww,
                wb,
                prev_code,
                this_code,
            )
        )


def _rework_source(
    rework: ReworkResult | None,
    case_of: Callable[[pd.Series], np.ndarray],
    vocab: pd.Index,
    sources: list[_Source],
) -> None:
    """Add the ``rework`` breakpoints: per kind and activity, the rework hours."""
    assert rework is not None  # computed by given_analyses when not given
    occ = rework.occurrences
    if len(occ):
        tgt = occ["activity"]
        if "cycle_first_activity" in occ.columns:
            tgt = tgt.where(occ["kind"] != "reopen", occ["cycle_first_activity"])
        rh = occ["rework_hours"].to_numpy(dtype="float64")
        g, names = _group_codes(occ["kind"], occ["activity"], sep=": ")
        sources.append(
            _Source(
                "rework",
                "rework",
                names,
                g,
                case_of(occ["case_id"]),
                np.nan_to_num(rh),
                rh,
                np.zeros(len(rh)),
                _in_vocab(occ["prev_activity"], vocab),
                _in_vocab(tgt, vocab),
            )
        )


def _conformance_sources(
    conformance: ConformanceResult,
    sop: Any,
    cyc: pd.Series,
    case_labels: pd.Index,
    case_of: Callable[[pd.Series], np.ndarray],
    vocab: pd.Index,
    sources: list[_Source],
) -> None:
    """Add the ``deviation`` breakpoints (cycle hours of the affected tickets above the
    conforming tickets' median) and the ``sla`` ones (hours beyond the limit)."""
    # cycle times and the check's cases are both one row per ticket in case order:
    # positions stand for ids there (a label look-up otherwise)
    by_code = cyc.index.equals(case_labels)
    cyc_of = np.r_[cyc.to_numpy(dtype="float64"), np.nan]  # by ticket code; -1: unknown
    ccf_ids = conformance.cases["case_id"]
    is_conf = conformance.cases["conforming"].astype(bool).to_numpy()
    if by_code and pd.Index(ccf_ids.astype("str")).equals(case_labels):
        conf_cyc = pd.Series(cyc_of[:-1][is_conf])
    else:
        conf_cyc = cyc.reindex(pd.Index(ccf_ids.astype("str"))[is_conf])
    ref = float(conf_cyc.median()) if is_conf.any() else float(cyc.median())
    dev = conformance.deviations
    dev = dev[dev["type"] != "sla_breach"].drop_duplicates(["case_id", "type", "step"])
    if len(dev):
        cid = dev["case_id"].astype(str)
        step = dev["step"].astype(object).fillna(dev["activity"]).fillna("").astype(str)
        dev_case = case_of(cid)
        if by_code:
            ch = cyc_of[dev_case]
        else:
            ch = cid.map(cyc).to_numpy(dtype="float64")
        g, names = _group_codes(dev["type"], step, sep=": ")
        names = np.array([n[:-2] if n.endswith(": ") else n for n in names], dtype=object)
        sources.append(
            _Source(
                "deviation",
                "conformance",
                names,
                g,
                dev_case,
                np.clip(np.nan_to_num(ch - ref), 0, None),
                ch,
                np.full(len(ch), ref),
                np.full(len(ch), -1, dtype="int64"),
                _in_vocab(dev["activity"], vocab),
            )
        )
    sl = conformance.slas[conformance.slas["status"] == "breached"]
    if len(sl):
        to_label = {x.id: sop.step(x.to).label for x in sop.slas} if sop is not None else {}
        act_h = sl["actual_hours"].to_numpy(dtype="float64")
        lim = sl["limit_hours"].to_numpy(dtype="float64")
        lost = (
            sl["hours_lost"].to_numpy(dtype="float64")
            if "hours_lost" in sl.columns
            else hours_beyond(np.nan_to_num(act_h), lim)
        )
        g, names = _group_codes(sl["sla"])
        sources.append(
            _Source(
                "sla",
                "conformance",
                np.array([f"SLA {n}" for n in names], dtype=object),
                g,
                case_of(sl["case_id"].astype(str)),
                lost,
                act_h,
                lim,
                np.full(len(lim), -1, dtype="int64"),
                _in_vocab(sl["sla"].map(to_label), vocab),
            )
        )


def pain_points(
    log: LogLike,
    *,
    sop: Any = None,
    calendar: Calendar | None = None,
    benchmarks: Sequence[StepBenchmark] = (),
    handoff_benchmark: str | pd.Timedelta | None = None,
    close_activities: Sequence[str] | None = None,
    examples: int = 3,
    rework: ReworkResult | None = None,
    handoffs: Any = None,
    conformance: ConformanceResult | None = None,
    graph: ProcessGraph | None = None,
    states: TicketStates | None = None,
) -> PainPoints:
    """Rank the breakpoints of the process by impact = cases affected × hours lost.

    **Hours lost** mean one thing here and in every analysis that shows them: the hours
    an occurrence took beyond its *target* (what that piece of work should take), 0 when
    it took no longer, in business hours with a calendar (the SOP's) and elapsed hours
    without; time waiting on the customer or a third party never counts. Each analysis
    contributes its breakpoints with their targets, and this table shows the very
    figures those analyses report:

    - ``handoff`` (:mod:`svcmining.handoffs`), per department pair: the
      ``hours_lost`` of :func:`svcmining.handoff_delays` -- each handoff's delay beyond
      what handing a ticket over into the same step takes when the *other* groups do it
      (the median delay of their handoffs into that activity; the pair's own median when
      nobody else hands over into it), so a giver who is slow every time stands out
      against the rest ("sales → after-sales takes two days where the front desk takes
      hours") instead of raising the yardstick it is measured by; a fixed
      ``handoff_benchmark`` (e.g. ``"30min"``, the industry benchmark) replaces it. Waits
      of pending handoffs (open tickets) count with the wait so far but not in the
      medians. The pair's *handoff waiting hours* (all its delays,
      ``delay_total_hours``) are another measure, not ranked here;
    - ``step`` (this module), per activity: each execution's duration (see the module
      docstring) beyond the step's :class:`StepBenchmark` benchmark, else beyond the
      step's own median (time beyond the typical duration). Without lifecycle data the
      duration of a step handed over by another department is that handoff's delay, so
      it is counted under ``handoff`` only (except for benchmarked steps);
    - ``wait`` (lifecycle data only), per directly-follows edge: the wait from one
      step's completion to the next one's start beyond the edge's median;
    - ``rework`` (:mod:`svcmining.rework`), per kind and activity: the loops'
      ``rework_hours`` (target 0: work done twice should have been done once), as
      :meth:`svcmining.ReworkResult.lost_by_kind` sums them;
    - ``deviation`` (:mod:`svcmining.conformance`, with an SOP), per deviation type and
      step: the cycle time of each affected ticket beyond the median cycle time of the
      conforming tickets (cycle times without the waits on the customer);
    - ``sla`` (with an SOP), per SLA: the ``hours_lost`` of ``check_sop(...).slas`` --
      hours beyond the limit of each step done late (``sla_attainment.hours_lost``).

    Time a ticket waits on the customer or a third party (waiting states,
    :mod:`svcmining.states`) is never an hour lost: handoff delays, rework hours, step
    durations and these cycle times leave it out.

    ``hours_lost`` is the sum over the affected tickets (so it is cases affected ×
    hours lost per case); ``cases`` and ``occurrences`` count only those with a loss.
    The perspectives overlap (a ping-pong is also a handoff; a slow step is part of a
    deviating ticket's cycle time), so ``share_of_lost`` compares breakpoints with each
    other; it is not a share of real time.

    Parameters
    ----------
    log : TicketLog or pandas.DataFrame
        The event log.
    sop : SOP, optional
        Adds the deviation and SLA breakpoints (via :func:`svcmining.check_sop`).
    calendar : Calendar, optional
        Business hours (default: the SOP's calendar).
    benchmarks : sequence of StepBenchmark
        Step benchmarks (e.g. ``StepBenchmark("远程排障", "4h", "1h")``).
    handoff_benchmark : str or Timedelta, optional
        A handoff delay up to this is not a loss (default: the median delay of the
        handoffs into the same step).
    close_activities : list of str, optional
        Labels closing a ticket.
    examples : int
        Example ticket ids per breakpoint (the costliest first).
    rework, handoffs, conformance : results, optional
        Precomputed results to reuse.
    graph : ProcessGraph, optional
        The :func:`svcmining.discover_dfg` result of the same log and calendar, to draw
        the pain-point map on (computed when first plotted otherwise).

    Returns
    -------
    PainPoints

    Examples
    --------
    >>> import svcmining as svc                                      # doctest: +SKIP
    >>> bench = [svc.StepBenchmark("远程排障", "4h", "1h")]         # doctest: +SKIP
    >>> pp = svc.pain_points(svc.read_tickets("sample_logs/"), benchmarks=bench)  # doctest: +SKIP
    >>> pp.top(5)                                                   # doctest: +SKIP
    >>> pp.plot()                                                   # doctest: +SKIP
    """
    tlog = as_ticket_log(log)
    events = tlog.events
    for b in benchmarks:
        if not isinstance(b, StepBenchmark):
            raise InvalidParameterError(
                "The 'benchmarks' parameter of pain_points must hold StepBenchmark objects. "
                f"Got {b!r} instead."
            )
    if isinstance(examples, bool) or not isinstance(examples, int) or examples < 0:
        raise InvalidParameterError(
            f"The 'examples' parameter of pain_points must be an integer >= 0. Got {examples!r}."
        )
    sop = as_sop(sop, func="pain_points")
    if calendar is None and sop is not None:
        calendar = getattr(sop, "calendar", None)
    ho_bench = (
        None if handoff_benchmark is None else td_hours(handoff_benchmark, "handoff_benchmark")
    )
    bench = {b.activity: b.benchmark_hours for b in benchmarks}
    st = as_states(states, sop=sop, close_activities=close_activities, func="pain_points")
    cut = cutoff_of(events, None, func="pain_points")
    given = (rework, handoffs, conformance)
    rework, handoffs, conformance = given_analyses(
        tlog, sop=sop, calendar=calendar, states=st, cut=cut, given=given
    )
    case_codes, case_uniques = tlog.codes("case_id", sort=True)
    case_names = np.asarray(case_uniques, dtype=object)
    case_labels = case_uniques.astype("str")
    n_case = max(len(case_names), 1)
    act_codes, act_names = tlog.codes("activity", sort=True)
    vocab = pd.Index(np.asarray(act_names, dtype=object))
    sources: list[_Source] = []
    case_of = _case_lookup(case_labels)
    if handoffs is not None:
        _handoff_source(handoffs, ho_bench, case_of, vocab, sources)
    _step_sources(tlog, case_codes, act_codes, vocab, bench, calendar, st, sources)
    _rework_source(rework, case_of, vocab, sources)
    times = case_times(tlog, st, sop, cut, calendar)
    end = times["closed_at"].where(~times["open_at_cutoff"], cut).astype(times["opened_at"].dtype)
    # cycle time without the waits on the customer: waiting is not a loss of the process
    cyc = (hours(times["opened_at"], end, calendar) - times["waiting_hours"]).clip(lower=0)
    if conformance is not None:
        _conformance_sources(conformance, sop, cyc, case_labels, case_of, vocab, sources)

    table, loc = _rank(sources, n_case, case_names, vocab, examples, float(cyc.sum()))
    if graph is not None:
        from .discovery import ProcessGraph as _Graph

        if not isinstance(graph, _Graph):
            raise InvalidParameterError(
                "The 'graph' parameter of pain_points must be a ProcessGraph (discover_dfg). "
                f"Got {type(graph).__name__} instead."
            )
        if graph.time_basis != ("business" if calendar is not None else "elapsed"):
            graph = None  # drawn on other hours than the breakpoints: draw it again
    return PainPoints(table=table, locations=loc, _events=events, _calendar=calendar, _graph=graph)
