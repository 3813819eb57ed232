"""The rework analysis behind :func:`svcmining.rework.find_rework`: its result
(:class:`ReworkResult`), the kernel over whole tickets that finds and types every rework
occurrence (:class:`ReworkAnalysis`, :class:`ReworkPart`) and the tables its combine builds.

The rules are in the docstring of :mod:`svcmining.rework`, which holds the public functions.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Protocol, get_args

import numpy as np
import pandas as pd

from ._chartwords import group_name, rework_kind_name
from ._hourslost import hours_beyond
from ._i18n import LANGS, tr
from ._pingpong import returns_from_codes
from ._repr import html_table
from ._time import hours as span_hours
from ._validation import check_choice
from .calendars import working_ns
from .eventlog import TicketLog, time_i8
from .states import (
    WAITING,
    WORKING,
    ActivityStages,
    StagesAnalysis,
    TicketStates,
    active_clock,
    activity_stages,
    judge_log,
)

if TYPE_CHECKING:
    import matplotlib.axes
    import matplotlib.figure

    from .calendars import Calendar

ReworkKind = Literal["reopen", "self_loop", "ping_pong", "back_loop", "redo", "repeat"]
#: The kinds in precedence order.
REWORK_KINDS: tuple[str, ...] = get_args(ReworkKind)

# DEFAULT_CLOSE_ACTIVITIES / DEFAULT_REOPEN_ACTIVITIES live in svcmining.states (the one judge).

_SEP = " → "
_NS_PER_HOUR = 3_600_000_000_000


class SOPLike(Protocol):
    def stage_of(self, activity: str) -> float | None: ...


# --------------------------------------------------------------------------- results


@dataclass(frozen=True, eq=False)
class ReworkResult:
    """What :func:`find_rework` found.

    Attributes
    ----------
    occurrences : pandas.DataFrame
        One row per rework occurrence: ``case_id``, ``activity`` (the repeated activity;
        for a reopen: the close that was reopened), ``kind``, ``prev_activity`` (the
        event just before: the loop edge is ``prev_activity → activity``, for a reopen
        ``close → first activity of the cycle``), ``first_at``, ``again_at``, ``end_at``,
        ``rework_hours``, ``resources`` and ``departments`` (who did it first → who
        did it again; for a reopen: who closed → who reopened; for ping-pong the
        groups of the bounce, e.g. "售后部 → 销售部 → 售后部"), ``first_resource``,
        ``again_resource``,
        ``first_group``, ``again_group``, ``ping_pong_kind`` ('direct'/'indirect'),
        ``n_events`` (events covered: 1, or the cycle length) and ``event_index`` (row
        position of the repeated event / the cycle's first event in the sorted log).
    cases : pandas.DataFrame
        One row per case: ``case_id``, ``has_rework``, ``n_rework``, ``kinds``
        (";"-joined, precedence order), ``n_reopen``, ``ping_pong``,
        ``ping_pong_groups``, ``rework_hours``, ``cycle_hours``, ``rework_share``,
        ``open_at_cutoff`` (not closed, as :mod:`svcmining.states` judges it).
    by_activity : pandas.DataFrame
        Per activity: ``n_events``, ``n_cases``, ``n_cases_repeated`` (cases where it
        occurs more than once: pm4py's ``get_rework_cases_per_activity``), ``n_rework``,
        ``n_rework_cases``, ``rework_rate`` (= n_rework_cases / n_cases),
        ``rework_hours`` and one ``n_<kind>`` column per kind.
    by_department : pandas.DataFrame
        Per group (the ``group`` column, department by default) of the event that did
        the work again: ``n_events``, ``n_rework``, ``rework_rate`` (= n_rework /
        n_events), ``rework_hours``, ``n_<kind>``.
    by_resource : pandas.DataFrame
        The same per resource.
    referrals : pandas.DataFrame
        Who redid whose work: ``first_resource``, ``again_resource``, ``first_group``,
        ``again_group``, ``n_rework``, ``rework_hours``.
    group : str
        The grouping column used for ping-pong and ``by_department``.
    """

    occurrences: pd.DataFrame
    cases: pd.DataFrame
    by_activity: pd.DataFrame
    by_department: pd.DataFrame
    by_resource: pd.DataFrame
    referrals: pd.DataFrame
    group: str = "department"
    n_log_events: int = 0

    def to_frame(self) -> pd.DataFrame:
        """The occurrences table (one row per rework occurrence)."""
        return self.occurrences.copy()

    def summary(self) -> pd.Series:
        """Cases, cases with rework, occurrences per kind, ``rework_hours`` (the *hours in
        rework loops*: per ticket the union of its loops, each hour once) and
        ``hours_lost`` (the *hours lost* to rework: every loop's hours, target 0, summed
        over the loops -- nested loops each count; the pain points' rework rows)."""
        return pd.Series(self._summary_dict(), name="rework", dtype=object)

    def _summary_dict(self) -> dict[str, Any]:
        occ = self.occurrences
        counts = occ["kind"].value_counts()
        data: dict[str, Any] = {
            "cases": len(self.cases),
            "cases_with_rework": int(self.cases["has_rework"].sum()),
            "occurrences": len(occ),
        }
        for k in REWORK_KINDS:
            data[f"n_{k}"] = int(counts.get(k, 0))
        data["rework_hours"] = float(self.cases["rework_hours"].sum())
        data["hours_lost"] = float(occ["rework_hours"].sum())
        return data

    def lost_by_kind(self) -> pd.DataFrame:
        """Hours lost per kind and activity, as :func:`svcmining.pain_points` ranks them.

        ``pain_point`` ("reopen: 结单"), ``kind``, ``activity``, ``cases`` and
        ``occurrences`` that lost hours (a loop of no measurable time loses none) and
        ``hours_lost`` (the loops' ``rework_hours`` summed), most hours first. Loops of one
        activity never overlap, so per ticket a row's hours are also its hours in those
        loops.
        """
        occ = self.occurrences
        occ = occ[hours_beyond(occ["rework_hours"], 0.0) > 0]
        out = (
            occ.assign(act=occ["activity"].astype("str"), case=occ["case_id"].astype("str"))
            .groupby(["kind", "act"], sort=False)
            .agg(
                cases=("case", "nunique"),
                occurrences=("case", "size"),
                hours_lost=("rework_hours", "sum"),
            )
            .reset_index()
            .rename(columns={"act": "activity"})
        )
        out.insert(0, "pain_point", (out["kind"].astype("str") + ": " + out["activity"]))
        return out.sort_values(
            ["hours_lost", "pain_point"], ascending=[False, True], kind="stable", ignore_index=True
        )

    def edge_highlights(self) -> pd.DataFrame:
        """Loop edges for the process map: ``source``, ``target``, ``count``, ``rework_hours``.

        One row per directly-follows edge that closes a rework loop
        (``prev_activity → activity`` of each occurrence; for a reopen
        ``close → first activity of the cycle``), most frequent first. Consumed by
        ``plot_process_map(..., highlight=rw)``.
        """
        occ = self.occurrences
        if occ.empty:
            return pd.DataFrame(
                {
                    "source": pd.Series(dtype="str"),
                    "target": pd.Series(dtype="str"),
                    "count": pd.Series(dtype="int64"),
                    "rework_hours": pd.Series(dtype="float64"),
                }
            )
        target = occ["activity"].where(occ["kind"] != "reopen", occ["cycle_first_activity"])
        edges = (
            pd.DataFrame(
                {"source": occ["prev_activity"], "target": target, "h": occ["rework_hours"]}
            )
            .groupby(["source", "target"], sort=False)
            .agg(count=("h", "size"), rework_hours=("h", "sum"))
            .reset_index()
            .sort_values(["count", "source", "target"], ascending=[False, True, True])
            .reset_index(drop=True)
        )
        edges["count"] = edges["count"].astype("int64")
        return edges

    def referral_matrix(
        self,
        *,
        by: Literal["resource", "department"] = "resource",
        value: Literal["count", "hours"] = "count",
    ) -> pd.DataFrame:
        """Who redid whose work, as a from × to matrix (rows: first, columns: again)."""
        check_choice("ReworkResult.referral_matrix", "by", by, ("resource", "department"))
        check_choice("ReworkResult.referral_matrix", "value", value, ("count", "hours"))
        a, b = (
            ("first_resource", "again_resource")
            if by == "resource"
            else ("first_group", "again_group")
        )
        col = "n_rework" if value == "count" else "rework_hours"
        ref = self.referrals.groupby([a, b])[col].sum().reset_index()
        return ref.pivot_table(index=a, columns=b, values=col, aggfunc="sum", fill_value=0)

    def plot(
        self,
        *,
        metric: Literal["hours", "count"] = "hours",
        ax: matplotlib.axes.Axes | None = None,
        lang: str = "en",
    ) -> matplotlib.figure.Figure:
        """Horizontal stacked bars: hours lost (or occurrences) by department and kind.

        Parameters
        ----------
        metric : {'hours', 'count'}
            Hours lost to rework (default) or number of occurrences.
        ax : matplotlib Axes, optional
            Where to draw; a new figure otherwise.
        lang : {'en', 'zh'}
            The language of the title, axis labels and legend (kinds by their display
            names, as the glossary writes them); the groups stay as the data writes them.

        Returns
        -------
        matplotlib.figure.Figure
            The figure drawn on (``ax.figure`` when ``ax`` is given).
        """
        check_choice("ReworkResult.plot", "metric", metric, ("hours", "count"))
        check_choice("ReworkResult.plot", "lang", lang, LANGS)
        import matplotlib.pyplot as plt

        from ._fonts import use_cjk_font

        use_cjk_font()
        if ax is None:
            # laid out while drawn: nothing cut off, and a report paints it in one draw
            _, ax = plt.subplots(figsize=(8, 4.5), layout="constrained")
        occ = self.occurrences
        col = "rework_hours" if metric == "hours" else "n"
        data = occ.assign(n=1, g=occ["again_group"].fillna("(none)"))
        table = data.pivot_table(index="g", columns="kind", values=col, aggfunc="sum", fill_value=0)
        table = table.reindex(columns=[k for k in REWORK_KINDS if k in table.columns])
        if table.empty:
            empty = tr(lang, en="no rework found", zh="没有发现返工")
            ax.text(0.5, 0.5, empty, ha="center", va="center", transform=ax.transAxes)
            ax.set_axis_off()
            return ax.figure  # type: ignore[return-value]
        table = table.loc[table.sum(axis=1).sort_values().index]
        left = np.zeros(len(table))
        colors = plt.get_cmap("tab10")
        for kind in table.columns:
            vals = table[kind].to_numpy(dtype=float)
            color = colors(REWORK_KINDS.index(kind))
            label = rework_kind_name(lang, kind)
            ax.barh(table.index.astype(str), vals, left=left, label=label, color=color)
            left += vals
        ax.set_xlabel(
            tr(lang, en="hours lost to rework", zh="返工损失工时")
            if metric == "hours"
            else tr(lang, en="rework occurrences", zh="返工次数")
        )
        group = group_name(lang, self.group)
        ax.set_ylabel(group)
        title = tr(lang, en="Rework by {g} and kind", zh="按{g}和类型的返工", g=group)
        ax.set_title(title, y=1.0)  # y: no search above
        ax.legend(title=tr(lang, en="kind", zh="返工类型"), fontsize="small")
        return ax.figure  # type: ignore[return-value]

    def __repr__(self) -> str:
        s = self._summary_dict()
        kinds = ", ".join(f"{k} {s[f'n_{k}']}" for k in REWORK_KINDS if s[f"n_{k}"])
        return (
            f"ReworkResult({s['cases_with_rework']:,} of {s['cases']:,} cases with rework, "
            f"{s['occurrences']:,} occurrences ({kinds or 'none'}), "
            f"{s['rework_hours']:,.1f} h in rework loops)"
        )

    def _repr_html_(self) -> str:
        head = html.escape(repr(self))
        return (
            f"<p><b>{head}</b></p>"
            + html_table(self.by_activity, "By activity", index=True)
            + html_table(self.occurrences, "Occurrences")
        )


# --------------------------------------------------------------------------- core


def _is_state_log(tlog: TicketLog) -> bool:
    """Whether the log was loaded as a state log (an audit export) by read_tickets."""
    return bool(getattr(tlog.report, "state_log", False))


def _prev_same(keys: np.ndarray) -> np.ndarray:
    """Row of the previous event with the same integer key (events are in log order), or -1."""
    n = len(keys)
    order = np.argsort(keys, kind="stable")
    ks = keys[order]
    prev = np.full(n, -1, dtype=np.int64)
    same = np.zeros(n, dtype=bool)
    if n > 1:
        same[1:] = ks[1:] == ks[:-1]
    prev_sorted = np.full(n, -1, dtype=np.int64)
    prev_sorted[1:] = order[:-1]
    prev[order] = np.where(same, prev_sorted, -1)
    return prev


_OCCURRENCE_COLUMNS = [
    "case_id",
    "activity",
    "kind",
    "prev_activity",
    "cycle_first_activity",
    "first_at",
    "again_at",
    "end_at",
    "rework_hours",
    "resources",
    "departments",
    "first_resource",
    "again_resource",
    "first_group",
    "again_group",
    "ping_pong_kind",
]


def _stages(
    act_codes: np.ndarray,
    act_uniques: Any,
    starts: np.ndarray,
    new_case: np.ndarray,
    sop: SOPLike | None,
) -> tuple[np.ndarray, np.ndarray]:
    """The stage of every event and of the event before it in its ticket (NaN at a
    ticket's first): SOP order, else the activity's median relative position in the log."""
    n = len(act_codes)
    stage_by_act = activity_stages(act_codes, act_uniques, starts, sop)
    stage = stage_by_act[act_codes] if n else np.zeros(0)
    prev_stage = np.full(n, np.nan)
    if n > 1:
        prev_stage[1:] = np.where(new_case[1:], np.nan, stage[:-1])
    return stage, prev_stage


def _redone_work(prev_exec: np.ndarray, in_cycle: np.ndarray, kinds: np.ndarray) -> np.ndarray:
    """Repeated executions that are rework, outside reopen cycles.

    Only work is redone: a repeated waiting, closing or bookkeeping state is not rework,
    and neither is work resumed after a wait (In Progress, Waiting for customer, In
    Progress): only waits lie between the two executions.
    """
    n = len(prev_exec)
    cand = (prev_exec >= 0) & ~in_cycle & (kinds == WORKING)
    not_waiting = np.cumsum(kinds != WAITING)
    resumed = (prev_exec >= 0) & (not_waiting - 1 == not_waiting[np.maximum(prev_exec, 0)])
    resumed &= kinds[np.maximum(np.arange(n) - 1, 0)] == WAITING
    return cand & ~resumed


def _codes_if(tlog: TicketLog, column: str, present: bool) -> tuple[np.ndarray, pd.Index]:
    """Codes and names of ``column``, or all -1 and no names when the log has none."""
    if present:
        return tlog.codes(column)
    return np.full(len(tlog.events), -1, dtype=np.int64), pd.Index([], dtype="str")


def _ping_pong_returns(
    case_codes: np.ndarray, act_codes: np.ndarray, grp_codes: np.ndarray, window: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per event the row of its ping-pong return (-1: none), and per return the number of
    groups in between and those groups (the shared rule, on the events with a group)."""
    n = len(case_codes)
    pp_row = np.full(n, -1, dtype=np.int64)  # row of the event's ping-pong return, if any
    ret_between = np.zeros(0, dtype=np.int64)
    ret_via = np.zeros((0, 1), dtype=np.int64)
    g_pos = np.flatnonzero(grp_codes >= 0)
    if len(g_pos):
        ret_at, _, ret_between, ret_via = returns_from_codes(
            case_codes[g_pos], grp_codes[g_pos], act_codes[g_pos], window=window
        )
        pp_row[g_pos[ret_at]] = np.arange(len(ret_at))
    return pp_row, ret_between, ret_via


def _ping_pong_paths(grp_uniques: Any, own_codes: np.ndarray, via: np.ndarray) -> np.ndarray:
    """The group path of each ping-pong return: its group, the groups in between, its group
    again (``via``: one row per return, -1 past its groups in between)."""
    names = np.asarray(pd.Index(grp_uniques).astype("str"), dtype=object)
    own = names[own_codes]
    path = own + _SEP
    for j in range(via.shape[1]):  # a loop over <= window groups in between
        col = via[:, j]
        more = col >= 0
        path[more] = path[more] + names[col[more]] + _SEP
    return path + own


def _same_resource(res_codes: np.ndarray, prev_exec: np.ndarray) -> np.ndarray:
    """Whether an event's resource also did the execution it repeats."""
    n = len(res_codes)
    prev_res = np.where(prev_exec >= 0, res_codes[np.maximum(prev_exec, 0)], -1) if n else res_codes
    return (res_codes >= 0) & (prev_res >= 0) & (res_codes == prev_res)


def _put_times(
    occ: pd.DataFrame, ts: pd.Series, first: np.ndarray, ev: np.ndarray, end: np.ndarray
) -> None:
    """Add ``first_at``, ``again_at`` and ``end_at`` (in the log's time zone) to ``occ``."""
    ts_np = ts.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy()
    tz = ts.dt.tz
    for col, rows in (("first_at", first), ("again_at", ev), ("end_at", end)):
        occ[col] = pd.Series(ts_np[rows]).dt.tz_localize("UTC").dt.tz_convert(tz)


def _active_clock(
    ts: pd.Series, calendar: Calendar | None, case_codes: np.ndarray, kinds: np.ndarray
) -> np.ndarray:
    """Each event's time on a clock that stands still while the ticket waits on the
    customer (Pending, 挂起): waiting is not rework time. Nanoseconds, business ones with
    a calendar."""
    base = time_i8(ts.dt.as_unit("ns")) if calendar is None else working_ns(ts, calendar)
    return active_clock(case_codes, kinds, base)[0]


def _act_counts(
    case_codes: np.ndarray, act_codes: np.ndarray, n_case: int, n_uniques: int
) -> np.ndarray:
    """Per activity: its events, the tickets with it, the tickets with it more than once."""
    n_act = max(n_uniques, 1)
    pair_counts = np.bincount(case_codes * n_act + act_codes, minlength=n_case * n_act)
    pair_counts = pair_counts.reshape(n_case, n_act)[:, :n_uniques]
    return np.stack(
        [
            np.bincount(act_codes, minlength=n_uniques),
            (pair_counts > 0).sum(axis=0),
            (pair_counts > 1).sum(axis=0),
        ]
    ).astype(np.int64)


def _find(
    tlog: TicketLog,
    states: TicketStates,
    group: str,
    has_group: bool,
    sop: SOPLike | None,
    calendar: Calendar | None,
    window: int,
) -> ReworkPart:
    events = tlog.events
    n = len(events)
    case_codes, case_uniques = tlog.codes("case_id")
    act_codes, act_uniques = tlog.codes("activity")
    n_act = max(len(act_uniques), 1)

    new_case = np.ones(n, dtype=bool)
    if n > 1:
        new_case[1:] = case_codes[1:] != case_codes[:-1]
    starts = np.flatnonzero(new_case)

    stage, prev_stage = _stages(act_codes, act_uniques, starts, new_case, sop)

    # ---- (a) reopen cycles: the one rule of svcmining.states (runs of closing events are
    # one closing; work of an earlier stage than the close, or a reopen label, reopens)
    judged = judge_log(tlog, states, sop)
    kinds, in_cycle = judged.kinds, judged.in_cycle
    cyc_first, cyc_last = judged.cycle_first, judged.cycle_last

    # ---- (b) repeated executions outside reopen cycles
    prev_exec = _prev_same(case_codes * n_act + act_codes)
    cand = _redone_work(prev_exec, in_cycle, kinds)
    self_loop = np.zeros(n, dtype=bool)
    if n > 1:
        self_loop[1:] = (act_codes[1:] == act_codes[:-1]) & ~new_case[1:]

    grp_codes, grp_uniques = _codes_if(tlog, group, has_group)
    # ping-pong returns (the shared rule, on the events that have a group); a return
    # repeats work its group did before in the case, so it is a repeated execution
    pp_row, ret_between, ret_via = _ping_pong_returns(case_codes, act_codes, grp_codes, window)
    pp = pp_row >= 0
    if _is_state_log(tlog):
        # an audit export (read_tickets found a state log): the same state again right
        # after a reassignment row is the stay going on, not repeated work; only a return
        # to a group it was reassigned away from is ping-pong
        cand &= ~self_loop | pp
        self_loop = np.zeros(n, dtype=bool)
    back = stage < prev_stage
    res_codes, res_uniques = _codes_if(tlog, "resource", "resource" in events.columns)
    same_res = _same_resource(res_codes, prev_exec)
    # kind codes = positions in REWORK_KINDS (0 = reopen is handled separately)
    kind_b = np.select([self_loop, pp, back, ~same_res], [1, 2, 3, 4], default=5).astype(np.int8)

    # ---- occurrences table, built from integer codes (strings only at the end)
    ts = events["timestamp"]
    b_idx = np.flatnonzero(cand)
    close_idx = cyc_first - 1
    # rows: reopen cycles first, then repeated executions; sorted by case and position later
    ev = np.concatenate([cyc_first, b_idx])  # the repeated event / the cycle's first event
    first = np.concatenate([close_idx, prev_exec[b_idx]])  # what was redone
    before = np.concatenate([close_idx, b_idx - 1])  # event just before (loop edge source)
    end = np.concatenate([cyc_last, b_idx])  # completion of the repetition
    kind = np.concatenate([np.zeros(len(cyc_first), dtype=np.int8), kind_b[b_idx]])
    what = np.concatenate([close_idx, b_idx])  # the repeated activity (reopen: the close)
    order = np.lexsort((ev, case_codes[ev]))
    ev, first, before, end, kind, what = (a[order] for a in (ev, first, before, end, kind, what))
    n_ev = end - ev + 1

    occ = pd.DataFrame(
        {
            "case_id": _take(case_uniques, case_codes[ev]),
            "activity": _take(act_uniques, act_codes[what]),
            "kind": _take(pd.Index(REWORK_KINDS, dtype="str"), kind.astype(np.int64)),
            "prev_activity": _take(act_uniques, act_codes[before]),
            "cycle_first_activity": _take(act_uniques, act_codes[ev]),
        }
    )
    _put_times(occ, ts, first, ev, end)
    clock = _active_clock(ts, calendar, case_codes, kinds)
    occ["rework_hours"] = (clock[end] - clock[first]) / _NS_PER_HOUR
    f_res, a_res = _take(res_uniques, res_codes[first]), _take(res_uniques, res_codes[ev])
    f_grp, a_grp = _take(grp_uniques, grp_codes[first]), _take(grp_uniques, grp_codes[ev])
    occ["resources"] = _arrow(f_res, a_res)
    departments = _arrow(f_grp, a_grp)
    occ["ping_pong_kind"] = pd.Series(pd.NA, index=occ.index, dtype="str")
    is_pp = kind == 2
    if is_pp.any():
        r = pp_row[ev[is_pp]]
        departments.iloc[np.flatnonzero(is_pp)] = _ping_pong_paths(
            grp_uniques, grp_codes[ev[is_pp]], ret_via[r]
        )
        occ.loc[is_pp, "ping_pong_kind"] = np.where(ret_between[r] == 1, "direct", "indirect")
    occ["departments"] = departments
    occ["first_resource"], occ["again_resource"] = f_res, a_res
    occ["first_group"], occ["again_group"] = f_grp, a_grp
    occ = occ[_OCCURRENCE_COLUMNS]
    occ["n_events"] = n_ev.astype(np.int64)
    occ["event_index"] = ev.astype(np.int64)

    occ_case = case_codes[ev]
    cases = _case_table(
        events, occ, occ_case, kind, case_uniques, starts, calendar, clock[first], clock[end]
    )
    cases["open_at_cutoff"] = judged.open  # closed or open, as every module judges it
    return ReworkPart(
        occurrences=occ,
        cases=cases,
        n_events=n,
        occ_case=occ_case,
        kind=kind,
        activities=pd.Index(act_uniques),
        act_counts=_act_counts(case_codes, act_codes, len(case_uniques), len(act_uniques)),
        occ_act=act_codes[what],
        groups=pd.Index(grp_uniques) if has_group else None,
        group_events=np.bincount(grp_codes[grp_codes >= 0], minlength=len(grp_uniques)),
        occ_group=(grp_codes[first], grp_codes[ev]),
        resources=pd.Index(res_uniques),
        resource_events=np.bincount(res_codes[res_codes >= 0], minlength=len(res_uniques)),
        occ_resource=(res_codes[first], res_codes[ev]),
    )


@dataclass(frozen=True, eq=False)
class ReworkPart:
    """Rework of whole tickets: the occurrences and tickets (rows) and additive counts.

    Codes are local to the part: ``occ_act`` indexes ``activities``, ``occ_group`` (first,
    again) ``groups`` (``None`` without the group column), ``occ_resource``
    ``resources`` (uniques in order of first appearance, ``-1`` = missing).
    ``act_counts`` holds per activity its events, tickets and tickets where it repeats.
    """

    occurrences: pd.DataFrame
    cases: pd.DataFrame
    n_events: int
    occ_case: np.ndarray
    kind: np.ndarray
    activities: pd.Index
    act_counts: np.ndarray
    occ_act: np.ndarray
    groups: pd.Index | None
    group_events: np.ndarray
    occ_group: tuple[np.ndarray, np.ndarray]
    resources: pd.Index
    resource_events: np.ndarray
    occ_resource: tuple[np.ndarray, np.ndarray]


def _union(vocabs: list[pd.Index]) -> tuple[pd.Index, list[np.ndarray]]:
    """The parts' vocabularies in order of first appearance in the log, and code maps."""
    if len(vocabs) == 1:
        return vocabs[0], [np.arange(len(vocabs[0]), dtype=np.int64)]
    union = pd.Index(pd.unique(np.concatenate([np.asarray(v, dtype=object) for v in vocabs])))
    return union, [np.asarray(union.get_indexer(v), dtype=np.int64) for v in vocabs]


def _mapped(codes: list[np.ndarray], maps: list[np.ndarray]) -> np.ndarray:
    """Local codes (-1 = missing) of consecutive parts as codes of the union."""
    out = [
        np.where(c >= 0, m[np.maximum(c, 0)] if len(m) else -1, -1)
        for c, m in zip(codes, maps, strict=True)
    ]
    return np.concatenate(out).astype(np.int64) if out else np.zeros(0, np.int64)


def _added(values: list[np.ndarray], maps: list[np.ndarray], n: int) -> np.ndarray:
    """Per-label counts of the parts added by label (``values[i]`` rows = part i's labels)."""
    shape = (*values[0].shape[:-1], n)
    out = np.zeros(shape, dtype=np.int64)
    for v, m in zip(values, maps, strict=True):
        out[..., m] += v  # a map never repeats a code
    return out


@dataclass(frozen=True)
class ReworkAnalysis:
    """:func:`find_rework` as a context, a kernel and a combine (:mod:`svcmining.core`).

    The context is the activity stages over the whole log (:class:`ActivityStages`) when
    no SOP gives them. The kernel finds the occurrences of whole tickets; the combine adds
    the counts and sums the rework hours over the occurrences in log order (the same
    sums, in the same order, as over one part).
    """

    states: TicketStates
    group: str = "department"
    has_group: bool = True
    sop: Any = None
    calendar: Calendar | None = None
    window: int = 3

    def context(self) -> StagesAnalysis | None:
        """The stages of the whole log, unless the SOP gives them."""
        return StagesAnalysis() if self.sop is None else None

    def kernel(self, part: TicketLog, ctx: ActivityStages | None) -> ReworkPart:
        """The occurrences, tickets and counts of ``part``."""
        stages = self.sop if self.sop is not None else ctx
        return _find(
            part, self.states, self.group, self.has_group, stages, self.calendar, self.window
        )

    def combine(self, parts: Sequence[ReworkPart], ctx: Any = None) -> ReworkResult:
        """The result over the whole log."""
        ev_off = np.cumsum([0] + [p.n_events for p in parts])[:-1]
        case_off = np.cumsum([0] + [len(p.cases) for p in parts])[:-1]
        if len(parts) == 1:
            occ, cases = parts[0].occurrences, parts[0].cases
        else:
            occ = pd.concat(
                [
                    p.occurrences.assign(event_index=p.occurrences["event_index"] + o)
                    for p, o in zip(parts, ev_off, strict=True)
                ],
                ignore_index=True,
            )
            cases = pd.concat([p.cases for p in parts], ignore_index=True)
        occ_case = np.concatenate([p.occ_case + o for p, o in zip(parts, case_off, strict=True)])
        kind = np.concatenate([p.kind for p in parts])
        acts, a_maps = _union([p.activities for p in parts])
        occ_act = _mapped([p.occ_act for p in parts], a_maps)
        counts = _added([p.act_counts for p in parts], a_maps, len(acts))
        by_activity = _by_activity(occ, occ_case, counts, occ_act, kind, acts)
        grps, g_maps = _union(
            [p.groups if p.groups is not None else pd.Index([], dtype="str") for p in parts]
        )
        g_first = _mapped([p.occ_group[0] for p in parts], g_maps)
        g_again = _mapped([p.occ_group[1] for p in parts], g_maps)
        g_events = _added([p.group_events for p in parts], g_maps, len(grps))
        by_department = _by_key(g_events, grps, g_again, kind, occ, self.group)
        if not self.has_group:
            by_department = by_department.iloc[:0]
        ress, r_maps = _union([p.resources for p in parts])
        r_first = _mapped([p.occ_resource[0] for p in parts], r_maps)
        r_again = _mapped([p.occ_resource[1] for p in parts], r_maps)
        r_events = _added([p.resource_events for p in parts], r_maps, len(ress))
        by_resource = _by_key(r_events, ress, r_again, kind, occ, "resource")
        referrals = _referrals(
            occ,
            {
                "first_resource": (r_first, ress),
                "again_resource": (r_again, ress),
                "first_group": (g_first, grps),
                "again_group": (g_again, grps),
            },
        )
        return ReworkResult(
            occurrences=occ,
            cases=cases,
            by_activity=by_activity,
            by_department=by_department,
            by_resource=by_resource,
            referrals=referrals,
            group=self.group,
            n_log_events=int(sum(p.n_events for p in parts)),
        )


def _take(uniques: pd.Index, codes: np.ndarray) -> pd.Series:
    """Labels of integer codes as a ``str`` Series (code -1 -> missing)."""
    if len(uniques) == 0:
        return pd.Series(pd.NA, index=range(len(codes)), dtype="str")
    taken = pd.Index(uniques).astype("str").take(codes, allow_fill=True, fill_value=None)
    return pd.Series(taken, dtype="str")


def _referrals(occ: pd.DataFrame, keys: dict[str, tuple[np.ndarray, pd.Index]]) -> pd.DataFrame:
    """Who redid whose work: counts and hours per (first, again) resource and group."""
    codes = pd.DataFrame({k: c for k, (c, _) in keys.items()})
    codes["h"] = occ["rework_hours"].to_numpy()
    agg = (
        codes.groupby(list(keys), sort=True)
        .agg(n_rework=("h", "size"), rework_hours=("h", "sum"))
        .reset_index()
    )
    out = pd.DataFrame({k: _take(u, agg[k].to_numpy()) for k, (_, u) in keys.items()})
    out["n_rework"] = agg["n_rework"].to_numpy(dtype=np.int64)
    out["rework_hours"] = agg["rework_hours"].to_numpy(dtype=float)
    return out.sort_values("n_rework", ascending=False, kind="stable", ignore_index=True)


def _arrow(a: pd.Series, b: pd.Series) -> pd.Series:
    return (a.fillna("?") + _SEP + b.fillna("?")).astype("str")


def _case_table(
    events: pd.DataFrame,
    occ: pd.DataFrame,
    occ_case: np.ndarray,
    kind: np.ndarray,
    case_uniques: pd.Index,
    starts: np.ndarray,
    calendar: Calendar | None,
    s: np.ndarray,
    e: np.ndarray,
) -> pd.DataFrame:
    """Per case; ``s`` / ``e``: each occurrence's start and end on the rework clock."""
    n_cases = len(case_uniques)
    ts = events["timestamp"]
    last = np.append(starts[1:], len(events)) - 1 if len(starts) else starts
    first_ts = ts.iloc[starts].reset_index(drop=True)
    if "start_timestamp" in events.columns and len(starts):
        st = events["start_timestamp"]
        earliest = st.where(st < ts, ts).groupby(events["case_id"], sort=False).min()
        first_ts = earliest.reindex(case_uniques).reset_index(drop=True)
    last_ts = ts.iloc[last].reset_index(drop=True)
    cases = pd.DataFrame({"case_id": _take(case_uniques, np.arange(n_cases))})
    cycle_hours = span_hours(first_ts, last_ts, calendar).to_numpy(dtype=float)

    n_rework = np.bincount(occ_case, minlength=n_cases)
    n_reopen = np.bincount(occ_case, weights=kind == 0, minlength=n_cases).astype(np.int64)
    # kinds present per case: one bit per kind, OR-ed per case, then spelled out
    mask = np.zeros(n_cases, dtype=np.int64)
    np.bitwise_or.at(mask, occ_case, (1 << kind.astype(np.int64)))
    spelled = pd.Index(
        [
            ";".join(k for i, k in enumerate(REWORK_KINDS) if m >> i & 1)
            for m in range(1 << len(REWORK_KINDS))
        ],
        dtype="str",
    )
    # ping-pong bounces per case (distinct paths, in order)
    is_pp = kind == 2
    pp = pd.DataFrame(
        {"c": occ_case[is_pp], "p": occ["departments"].iloc[np.flatnonzero(is_pp)].to_numpy()}
    )
    pp = pp.drop_duplicates()
    pp_groups = pd.Series(np.nan, index=range(n_cases), dtype="str")
    if len(pp):
        single = ~pp["c"].duplicated(keep=False).to_numpy()
        pp_groups.iloc[pp["c"].to_numpy()[single]] = pp["p"].to_numpy()[single]
        multi = pp.loc[~single]
        if len(multi):  # cases bouncing along several paths: join them, rank by rank
            rank = multi.groupby("c", sort=False).cumcount().to_numpy()
            c_multi = multi["c"].to_numpy()
            p_multi = multi["p"].astype("str").reset_index(drop=True)
            joined = pd.Series(p_multi[rank == 0].to_numpy(), index=c_multi[rank == 0])
            for r in range(1, int(rank.max()) + 1):  # a loop over a handful of ranks
                at = rank == r
                extra = pd.Series(p_multi[at].to_numpy(), index=c_multi[at])
                joined.loc[extra.index] = joined.loc[extra.index] + "; " + extra
            pp_groups.iloc[joined.index.to_numpy()] = joined.to_numpy()

    # hours: union of the occurrences' [start, end] intervals per case, on the rework clock
    # (time waiting on the customer left out)
    hours = np.zeros(n_cases)
    if len(occ):
        o = np.lexsort((s, occ_case))
        c_o, s_o, e_o = occ_case[o], s[o], e[o]
        run_end = pd.Series(e_o).groupby(c_o).cummax().to_numpy()
        new_block = np.ones(len(o), dtype=bool)
        new_block[1:] = (c_o[1:] != c_o[:-1]) | (s_o[1:] > run_end[:-1])
        block = np.cumsum(new_block) - 1
        b_start = s_o[new_block]
        b_end = np.full(block[-1] + 1, np.iinfo(np.int64).min, dtype=np.int64)
        np.maximum.at(b_end, block, e_o)
        h = (b_end - b_start) / _NS_PER_HOUR
        hours = np.bincount(c_o[new_block], weights=h, minlength=n_cases).astype(float)
    hours = np.minimum(hours, cycle_hours)
    cases["has_rework"] = n_rework > 0
    cases["n_rework"] = n_rework.astype(np.int64)
    cases["kinds"] = pd.Series(spelled.take(mask), dtype="str")
    cases["n_reopen"] = n_reopen
    cases["ping_pong"] = (mask & 4) > 0
    cases["ping_pong_groups"] = pp_groups
    cases["rework_hours"] = hours
    cases["cycle_hours"] = cycle_hours
    with np.errstate(divide="ignore", invalid="ignore"):
        cases["rework_share"] = np.where(cycle_hours > 0, hours / cycle_hours, 0.0)
    return cases


def _kind_matrix(keys: np.ndarray, kind: np.ndarray, n_keys: int) -> np.ndarray:
    """Occurrences per key (rows) and kind (columns)."""
    out = np.zeros((n_keys, len(REWORK_KINDS)), dtype=np.int64)
    ok = keys >= 0
    np.add.at(out, (keys[ok], kind[ok].astype(np.int64)), 1)
    return out


def _by_activity(
    occ: pd.DataFrame,
    occ_case: np.ndarray,
    counts: np.ndarray,
    occ_act: np.ndarray,
    kind: np.ndarray,
    act_uniques: pd.Index,
) -> pd.DataFrame:
    """Per activity; ``counts`` rows: events, tickets, tickets where it repeats."""
    n_act = len(act_uniques)
    pairs = np.sort(occ_case * max(n_act, 1) + occ_act)
    occ_case_pairs = pairs[np.append(True, pairs[1:] != pairs[:-1])] if len(pairs) else pairs
    out = pd.DataFrame(
        {
            "activity": _take(act_uniques, np.arange(n_act)),
            "n_events": counts[0].astype(np.int64),
            "n_cases": counts[1].astype(np.int64),
            "n_cases_repeated": counts[2].astype(np.int64),
            "n_rework": np.bincount(occ_act, minlength=n_act).astype(np.int64),
            "n_rework_cases": np.bincount(occ_case_pairs % max(n_act, 1), minlength=n_act).astype(
                np.int64
            ),
        }
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        out["rework_rate"] = out["n_rework_cases"] / out["n_cases"]
    out["rework_hours"] = np.bincount(
        occ_act, weights=occ["rework_hours"].to_numpy(dtype=float), minlength=n_act
    )
    km = _kind_matrix(occ_act, kind, n_act)
    for i, k in enumerate(REWORK_KINDS):
        out[f"n_{k}"] = km[:, i]
    return out.sort_values(
        ["rework_hours", "n_rework", "activity"], ascending=[False, False, True], ignore_index=True
    )


def _by_key(
    n_events: np.ndarray,
    uniques: pd.Index,
    occ_codes: np.ndarray,
    kind: np.ndarray,
    occ: pd.DataFrame,
    name: str,
) -> pd.DataFrame:
    m = len(uniques)
    ok = occ_codes >= 0
    out = pd.DataFrame(
        {
            name: _take(uniques, np.arange(m)),
            "n_events": np.asarray(n_events, dtype=np.int64),
            "n_rework": np.bincount(occ_codes[ok], minlength=m).astype(np.int64),
        }
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        out["rework_rate"] = out["n_rework"] / out["n_events"]
    out["rework_hours"] = np.bincount(
        occ_codes[ok], weights=occ["rework_hours"].to_numpy(dtype=float)[ok], minlength=m
    )
    km = _kind_matrix(occ_codes, kind, m)
    for i, k in enumerate(REWORK_KINDS):
        out[f"n_{k}"] = km[:, i]
    return out.sort_values(
        ["rework_hours", "n_rework", name], ascending=[False, False, True], ignore_index=True
    )
