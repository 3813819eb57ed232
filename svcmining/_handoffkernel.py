"""The handoff analysis behind :func:`svcmining.handoffs.handoff_delays`: the whole-log
context (:class:`HandoffContextAnalysis`: the export cutoff, the activity stages, every
group and the receiver a pending handoff waits for), the kernel over whole tickets
(:class:`HandoffAnalysis`, :class:`HandoffPart`) and the tables its combine builds.

The rules are in the docstring of :mod:`svcmining.handoffs`, which holds the public functions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ._groupstats import group_stats
from ._handoffresult import ARROW, MATRIX_COLUMNS, HandoffResult
from ._hourslost import hours_beyond, peer_targets
from ._pingpong import returns_from_codes
from ._time import cutoff as cutoff_of
from .eventlog import (
    TicketLog,
    has_start_times,
    time_i8,
)
from .states import (
    WAITING,
    WORKING,
    ActivityStages,
    Closings,
    StagesAnalysis,
    TicketStates,
    judge_log,
)

if TYPE_CHECKING:
    from .calendars import Calendar

# --------------------------------------------------------------------------- core


def _i8_hours(start: np.ndarray, end: np.ndarray, unit: str = "ns") -> np.ndarray:
    out = (end - start) / _UNIT_PER_HOUR[unit]
    bad = (start == _NAT) | (end == _NAT)
    return np.where(bad, np.nan, out)


def _group_codes(tlog: TicketLog, by: str) -> tuple[np.ndarray, np.ndarray, pd.Index]:
    """Rows with a group, their group codes and the group names (sorted, as text)."""
    events = tlog.events
    n = len(events)
    grp_raw = events[by]
    if pd.api.types.is_string_dtype(grp_raw.dtype):
        g_all, g_names = tlog.codes(by, sort=True)  # codes in sorted-name order
        if n and g_all.min() >= 0:  # every event has a group (codes are read-only)
            return np.arange(n), g_all, g_names.astype("str")
        pos = np.flatnonzero(g_all >= 0)
        return pos, g_all[pos], g_names.astype("str")
    # numbers, categories ...: grouped by their text
    pos = np.flatnonzero(grp_raw.notna().to_numpy())
    g_codes, g_uniques = pd.factorize(grp_raw.iloc[pos].astype("str"), sort=True)
    return pos, np.asarray(g_codes, dtype=np.int64), pd.Index(g_uniques).astype("str")


@dataclass(frozen=True)
class HandoffContext:
    """The whole-log facts every part of a log needs for :func:`handoff_delays`.

    ``cutoff`` (the export's), ``stages`` (the activity stages that judge reopens, when
    no SOP gives them), ``groups`` (every group, sorted: the codes of ``from_group`` /
    ``to_group``), ``activities`` and, per (group, activity) key
    ``group * len(activities) + activity`` in ascending ``mode_key``, the group most
    often next (``mode_next``; -1 = a closed ticket's end), the receiver a pending
    handoff waits for.
    """

    cutoff: pd.Timestamp
    stages: ActivityStages | None
    groups: pd.Index
    activities: pd.Index
    mode_key: np.ndarray
    mode_next: np.ndarray


@dataclass(frozen=True, eq=False)
class HandoffContextPart:
    """What comes next after each (group, activity) in whole tickets, counted (codes
    local to the part: ``groups`` sorted, ``activities``), and the part's cutoff."""

    cutoff: pd.Timestamp
    groups: pd.Index
    activities: pd.Index
    group: np.ndarray
    activity: np.ndarray
    outcome: np.ndarray
    count: np.ndarray


@dataclass(frozen=True)
class HandoffContextAnalysis:
    """The :class:`HandoffContext` of a log as a kernel and a combine."""

    by: str
    cutoff: Any
    states: TicketStates
    sop: Any = None

    def context(self) -> StagesAnalysis | None:
        """The activity stages, unless the SOP gives them."""
        return StagesAnalysis() if self.sop is None else None

    def kernel(self, part: TicketLog, ctx: ActivityStages | None) -> HandoffContextPart:
        """The part's counts of next groups and its cutoff."""
        cut = cutoff_of(part.events, self.cutoff, func="handoff_delays")
        pos, g, g_names = _group_codes(part, self.by)
        act_codes, act_uniques = part.codes("activity")
        case_codes = part.case_index()[0]
        judged = judge_log(part, self.states, self.sop if self.sop is not None else ctx)
        c, a = case_codes[pos], act_codes[pos]
        # a closed ticket's end is an outcome (-1), an open ticket's end is censored
        last_of_case = np.ones(len(pos), dtype=bool)
        last_of_case[:-1] = c[1:] != c[:-1]
        nxt = np.full(len(pos), -1, dtype=np.int64)
        nxt[:-1] = np.where(last_of_case[:-1], -1, g[1:])
        counted = ~last_of_case | ~judged.open[c]
        n_a, n_g = max(len(act_uniques), 1), max(len(g_names), 1)
        key = ((g * n_a + a) * (n_g + 1) + (nxt + 1))[counted]
        n_key = n_g * n_a * (n_g + 1)
        if n_key <= 4 * len(key) + (1 << 16):  # a small key space: count, do not sort
            cnt_all = np.bincount(key, minlength=n_key)
            uniq = np.flatnonzero(cnt_all)
            cnt = cnt_all[uniq]
        else:
            uniq, cnt = np.unique(key, return_counts=True)
        ga, outcome = np.divmod(uniq, n_g + 1)
        grp, act = np.divmod(ga, n_a)
        return HandoffContextPart(
            cut, g_names, pd.Index(act_uniques), grp, act, outcome - 1, cnt.astype(np.int64)
        )

    def combine(
        self, parts: Sequence[HandoffContextPart], ctx: ActivityStages | None
    ) -> HandoffContext:
        """The log's cutoff, groups and expected next group per (group, activity)."""
        cuts = [p.cutoff for p in parts if not pd.isna(p.cutoff)]
        if len(parts) == 1:
            groups, acts = parts[0].groups, parts[0].activities
            g_maps = [np.arange(len(groups), dtype=np.int64)]
            a_maps = [np.arange(len(acts), dtype=np.int64)]
        else:
            groups = pd.Index(
                pd.unique(np.concatenate([np.asarray(p.groups, dtype=object) for p in parts]))
            ).sort_values()
            acts = pd.Index(
                pd.unique(np.concatenate([np.asarray(p.activities, dtype=object) for p in parts]))
            )
            g_maps = [np.asarray(groups.get_indexer(p.groups), dtype=np.int64) for p in parts]
            a_maps = [np.asarray(acts.get_indexer(p.activities), dtype=np.int64) for p in parts]
        n_a, n_g = max(len(acts), 1), max(len(groups), 1)
        keys, counts = [], []
        for p, gm, am in zip(parts, g_maps, a_maps, strict=True):
            nxt = np.where(p.outcome >= 0, gm[np.maximum(p.outcome, 0)] if len(gm) else -1, -1)
            keys.append((gm[p.group] * n_a + am[p.activity]) * (n_g + 1) + (nxt + 1))
            counts.append(p.count)
        key = np.concatenate(keys) if keys else np.zeros(0, np.int64)
        uniq, inv = np.unique(key, return_inverse=True)
        cnt = np.bincount(inv, weights=np.concatenate(counts) if counts else None)
        ga, outcome = uniq // (n_g + 1), uniq % (n_g + 1) - 1
        # per (group, activity): highest count, ties to the smallest outcome code
        o = np.lexsort((outcome, -cnt, ga))
        first = np.ones(len(o), dtype=bool)
        first[1:] = ga[o][1:] != ga[o][:-1]
        return HandoffContext(
            cutoff=max(cuts) if cuts else pd.NaT,
            stages=ctx,
            groups=groups,
            activities=acts,
            mode_key=ga[o][first],
            mode_next=outcome[o][first],
        )


@dataclass(frozen=True, eq=False)
class HandoffPart:
    """Handoffs and tickets of whole tickets: the rows, the group codes of each handoff
    (codes of :attr:`HandoffContext.groups`) and the counts behind the notes."""

    handoffs: pd.DataFrame
    cases: pd.DataFrame
    from_g: np.ndarray
    to_g: np.ndarray
    h_case: np.ndarray
    n_skipped: int
    n_overlapping: int


@dataclass(frozen=True)
class HandoffAnalysis:
    """:func:`handoff_delays` as a context (:class:`HandoffContext`), a kernel over whole
    tickets (handoffs, pending handoffs and tickets) and a combine (pair matrix and
    summary over all handoffs, in log order)."""

    by: str
    calendar: Calendar | None
    include_pending: bool
    cutoff: Any
    states: TicketStates
    sop: Any = None
    window: int = 3
    benchmark: float | None = None  # hours; None: the peers' median (peer_targets)

    def context(self) -> HandoffContextAnalysis:
        """Cutoff, stages, groups and expected receivers of the whole log."""
        return HandoffContextAnalysis(self.by, self.cutoff, self.states, self.sop)

    def combine(self, parts: Sequence[HandoffPart], ctx: HandoffContext) -> HandoffResult:
        """The result over the whole log."""
        if len(parts) == 1:
            handoffs, cases = parts[0].handoffs, parts[0].cases
        else:
            handoffs = pd.concat([p.handoffs for p in parts], ignore_index=True)
            cases = pd.concat([p.cases for p in parts], ignore_index=True)
        off = np.cumsum([0] + [len(p.cases) for p in parts])[:-1]
        h_case = np.concatenate([p.h_case + o for p, o in zip(parts, off, strict=True)])
        from_g = np.concatenate([p.from_g for p in parts])
        to_g = np.concatenate([p.to_g for p in parts])
        # hours lost need every handoff of the log (the peers' medians): here, not per part
        target = peer_targets(handoffs, self.benchmark)
        lost = hours_beyond(handoffs["delay_hours"], target)
        handoffs = handoffs.assign(target_hours=target, hours_lost=lost)
        cases = cases.assign(
            hours_lost=np.bincount(h_case, weights=lost, minlength=len(cases)).astype(float)
        )
        matrix = _matrix(handoffs, from_g, to_g, h_case, ctx.groups, self.include_pending)
        n_skipped = sum(p.n_skipped for p in parts)
        n_neg = sum(p.n_overlapping for p in parts)
        notes: list[str] = []
        if n_skipped:
            notes.append(
                f"{n_skipped:,} events without a {self.by!r} value were skipped for handoff "
                "detection."
            )
        if n_neg:
            notes.append(
                f"{n_neg:,} handoffs where the receiver started before the giver "
                "finished (overlapping lifecycle data) count with delay 0."
            )
        return HandoffResult(
            handoffs=handoffs,
            matrix=matrix,
            cases=cases,
            summary=_summary(handoffs, matrix, cases, n_skipped),
            by=self.by,
            business_hours=self.calendar is not None,
            notes=tuple(notes),
        )

    def kernel(self, tlog: TicketLog, ctx: HandoffContext) -> HandoffPart:
        """The handoffs (observed and pending) and tickets of whole tickets ``tlog``."""
        return _handoff_part(self, tlog, ctx)


def _handoff_part(an: HandoffAnalysis, tlog: TicketLog, ctx: HandoffContext) -> HandoffPart:
    by, calendar = an.by, an.calendar
    events = tlog.events
    cut = ctx.cutoff
    n = len(events)
    ts = events["timestamp"]
    ts_dtype = ts.dtype
    ts_i8 = time_i8(ts)
    begin_i8 = _begin_i8(events, ts_i8)

    # ---- integer codes, each column factorised once
    case_codes, case_starts = tlog.case_index()
    case_ids = tlog.codes("case_id")[1]  # the id of each case block
    pos, g_local, g_names = _group_codes(tlog, by)
    # codes of the whole log's groups (a pending handoff may wait for a group this part
    # of the log never saw)
    if len(g_names) == len(ctx.groups) and g_names.equals(ctx.groups):
        g = g_local
    else:
        g = np.asarray(ctx.groups.get_indexer(g_names), dtype=np.int64)[g_local]
    g_names = ctx.groups
    act_codes, act_uniques = tlog.codes("activity")
    every = len(pos) == n
    c = case_codes if every else case_codes[pos]
    a_sub = act_codes if every else act_codes[pos]
    n_skipped = int(n - len(pos))

    # ---- observed handoffs: consecutive grouped events of a case with another group
    if len(pos) > 1:
        change = np.flatnonzero((c[1:] == c[:-1]) & (g[1:] != g[:-1]))
    else:
        change = np.zeros(0, dtype=np.int64)
    give, take = pos[change], pos[change + 1]
    # ---- closings and reopens: the one rule of svcmining.states
    judged = judge_log(tlog, an.states, an.sop if an.sop is not None else ctx.stages)

    delay = _hours_i8(ts_i8[give], begin_i8[take], ts_dtype, calendar)
    # time the ticket waited on the customer or a third party (Pending, 挂起) between the
    # giver and the receiver is not handoff delay
    # (with start/complete data a wait is its own event's span, not a gap: nothing to take)
    waiting = (judged.kinds == WAITING) & (not has_start_times(events))
    waited_before = _waited_before(waiting, case_codes, ts_i8, ts_dtype, calendar)
    if waited_before is not None:
        delay = delay - np.minimum(waited_before[take] - waited_before[give], delay)
    neg = delay < 0
    if neg.any():
        delay = np.where(neg, 0.0, delay)

    pp_mark = _ping_pong_marks(an, tlog, judged, pos, c, g, a_sub, act_codes, case_codes)
    is_open = judged.open
    pend_give, pend_to, give_g_pend = _pending_receivers(
        ctx, pos, c, g, a_sub, act_uniques, is_open
    )

    # ---- handoff table (observed + pending), in log order
    n_obs, n_pend = len(give), len(pend_give)
    cut_i8 = np.full(n_pend, _ts_i8(cut, ts_dtype), dtype=np.int64)
    pend_wait = np.clip(_hours_i8(ts_i8[pend_give], cut_i8, ts_dtype, calendar), 0.0, None)
    if n_pend and waited_before is not None:  # waits since the giver's last step, to the cutoff
        case_end = np.append(case_starts[1:], n)[case_codes[pend_give]] - 1
        last_wait = np.where(
            waiting[case_end],
            np.clip(_hours_i8(ts_i8[case_end], cut_i8, ts_dtype, calendar), 0.0, None),
            0.0,
        )
        within = waited_before[case_end] - waited_before[pend_give]
        pend_wait = np.clip(pend_wait - within - last_wait, 0.0, None)
    # observed and pending rows in log order, a pending row after the observed handoff
    # of the same event: each row goes straight to its place (both parts are sorted)
    obs_before = np.searchsorted(give, pend_give, "right")  # observed rows before each
    pend_at = np.arange(n_pend) + obs_before
    obs_at = np.arange(n_obs) + np.cumsum(np.bincount(obs_before, minlength=n_obs + 1))[:n_obs]

    def merged(obs: Any, pend: Any, dtype: Any) -> np.ndarray:
        if n_pend == 0:
            return np.asarray(obs, dtype=dtype)
        out = np.empty(n_obs + n_pend, dtype=dtype)
        out[obs_at] = obs
        out[pend_at] = pend
        return out

    give_all = merged(give, pend_give, np.int64)
    from_g = merged(g[change], give_g_pend, np.int64)
    to_g = merged(g[change + 1], pend_to, np.int64)
    pending = merged(False, True, bool)
    delay_all = merged(delay, pend_wait, float)
    h_case = case_codes[give_all]
    act_names = pd.Index(act_uniques).astype("str")
    handoffs = pd.DataFrame(
        {
            "case_id": _codes_to_str(case_ids, h_case),
            "from_group": _codes_to_str(g_names, from_g),
            "to_group": _codes_to_str(g_names, to_g),
            "left_at": _i8_to_ts(ts_i8[give_all], ts_dtype),
            "picked_up_at": _i8_to_ts(merged(begin_i8[take], _NAT, np.int64), ts_dtype),
            "delay_hours": delay_all,
            "from_activity": _codes_to_str(act_names, act_codes[give_all]),
            "to_activity": _codes_to_str(act_names, merged(act_codes[take], -1, np.int64)),
            "pending": pending,
            "ping_pong": merged(pp_mark[take], False, bool),
        }
    )

    cases = _cases(
        case_ids, case_starts, begin_i8, ts_i8, ts_dtype, is_open, cut, calendar, handoffs, h_case
    )
    return HandoffPart(
        handoffs=handoffs,
        cases=cases,
        from_g=from_g,
        to_g=to_g,
        h_case=h_case,
        n_skipped=n_skipped,
        n_overlapping=int(neg.sum()),
    )


def _begin_i8(events: pd.DataFrame, ts_i8: np.ndarray) -> np.ndarray:
    """When each event began (int64): its start time, else its timestamp."""
    if not has_start_times(events):
        return ts_i8
    ts = events["timestamp"]
    st = events["start_timestamp"]
    st = st.dt.tz_convert(ts.dt.tz) if isinstance(st.dtype, pd.DatetimeTZDtype) else st
    st_i8 = time_i8(st.astype(ts.dtype))
    return np.where(st.isna().to_numpy(), ts_i8, st_i8)


def _waited_before(
    waiting: np.ndarray,
    case_codes: np.ndarray,
    ts_i8: np.ndarray,
    ts_dtype: Any,
    calendar: Calendar | None,
) -> np.ndarray | None:
    """Hours each event's ticket waited (on the customer or a third party) before it, or
    None when no event waits."""
    if not waiting.any():
        return None
    wait_h = np.zeros(len(waiting))
    w_rows = np.flatnonzero(waiting[:-1] & (case_codes[1:] == case_codes[:-1]))
    wait_h[w_rows] = _hours_i8(ts_i8[w_rows], ts_i8[w_rows + 1], ts_dtype, calendar)
    return np.cumsum(wait_h) - wait_h


def _ping_pong_marks(
    an: HandoffAnalysis,
    tlog: TicketLog,
    judged: Closings,
    pos: np.ndarray,
    c: np.ndarray,
    g: np.ndarray,
    a_sub: np.ndarray,
    act_codes: np.ndarray,
    case_codes: np.ndarray,
) -> np.ndarray:
    """Per event, whether it is a ping-pong return: a return (first event of a run, i.e.
    the receiver of a handoff) that find_rework types as ping_pong: work, not inside a
    reopen cycle, not a self-loop."""
    n = len(case_codes)
    ret_sub = returns_from_codes(c, g, a_sub, window=an.window)[0]
    pp_mark = np.zeros(n, dtype=bool)
    pp_mark[pos[ret_sub]] = True
    if pp_mark.any():
        self_loop = np.zeros(n, dtype=bool)
        self_loop[1:] = (act_codes[1:] == act_codes[:-1]) & (case_codes[1:] == case_codes[:-1])
        if getattr(tlog.report, "state_log", False):  # a stay going on (find_rework's rule)
            self_loop[:] = False
        pp_mark &= ~self_loop & ~judged.in_cycle & (judged.kinds == WORKING)
    return pp_mark


def _pending_receivers(
    ctx: HandoffContext,
    pos: np.ndarray,
    c: np.ndarray,
    g: np.ndarray,
    a_sub: np.ndarray,
    act_uniques: Any,
    is_open: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pending handoffs of open tickets: the giving event, the group waited for and the
    giving group. The receiver is the group most often next after the same (group,
    activity) in the whole log, when it is another group."""
    if not (len(pos) and is_open.any()):
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty.copy(), empty.copy()
    last_of_case = np.ones(len(pos), dtype=bool)
    last_of_case[:-1] = c[1:] != c[:-1]
    open_last = np.flatnonzero(last_of_case & is_open[c])
    n_a = max(len(ctx.activities), 1)
    a_map = np.asarray(ctx.activities.get_indexer(act_uniques), dtype=np.int64)
    want = g[open_last] * n_a + a_map[a_sub[open_last]]
    mode_ga, mode_next = ctx.mode_key, ctx.mode_next
    if len(mode_ga):
        at = np.minimum(np.searchsorted(mode_ga, want), len(mode_ga) - 1)
        expected = np.where(mode_ga[at] == want, mode_next[at], -1)
    else:
        expected = np.full(len(want), -1, dtype=np.int64)
    wait = (expected >= 0) & (expected != g[open_last])
    return pos[open_last[wait]], expected[wait], g[open_last[wait]]


_NAT = np.iinfo(np.int64).min


def _ts_i8(t: pd.Timestamp, dtype: Any) -> int:
    if pd.isna(t):  # an empty log has no cutoff
        return int(_NAT)
    utc = pd.Timestamp(t).tz_convert("UTC").tz_localize(None)
    return int(utc.to_datetime64().astype(f"datetime64[{dtype.unit}]").astype(np.int64))


def _i8_to_ts(values: np.ndarray, dtype: Any) -> pd.Series:
    naive = pd.Series(values.view(f"datetime64[{dtype.unit}]"), copy=False)  # min int64: NaT
    return naive.dt.tz_localize("UTC").dt.tz_convert(dtype.tz)


def _hours_i8(
    start: np.ndarray, end: np.ndarray, dtype: Any, calendar: Calendar | None
) -> np.ndarray:
    """Hours between integer times of ``dtype`` (NaT = min int64 gives NaN)."""
    if len(start) == 0:
        return np.zeros(0)
    if calendar is None:
        return _i8_hours(start, end, dtype.unit)
    from .calendars import duration_hours

    out = duration_hours(_i8_to_ts(start, dtype), _i8_to_ts(end, dtype), calendar)
    return np.asarray(out, dtype=float)


_UNIT_PER_HOUR = {"s": 3600.0, "ms": 3.6e6, "us": 3.6e9, "ns": 3.6e12}


def _codes_to_str(uniques: Any, codes: np.ndarray) -> pd.Series:
    """Labels of integer codes as a ``str`` Series (code -1 -> missing)."""
    u = pd.Index(uniques).astype("str")
    if len(u) == 0:
        return pd.Series(pd.NA, index=range(len(codes)), dtype="str")
    taken = u.take(codes, allow_fill=True, fill_value=None)
    return pd.Series(taken, dtype="str")


def _matrix(
    handoffs: pd.DataFrame,
    from_g: np.ndarray,
    to_g: np.ndarray,
    h_case: np.ndarray,
    g_names: pd.Index,
    include_pending: bool,
) -> pd.DataFrame:
    n_g = max(len(g_names), 1)
    pair = from_g * n_g + to_g
    if n_g * n_g <= max(4 * len(pair), 1 << 16):  # dense pair space: no sort needed
        present = np.bincount(pair, minlength=n_g * n_g) > 0
        pairs = np.flatnonzero(present)
        inv = (np.cumsum(present) - 1)[pair]
    else:
        pairs, inv = np.unique(pair, return_inverse=True)
    k = len(pairs)
    pending = handoffs["pending"].to_numpy(dtype=bool)
    d = handoffs["delay_hours"].to_numpy(dtype=float)
    pend_rows = np.flatnonzero(pending)  # few: open tickets only
    n_pend = np.bincount(inv[pend_rows], minlength=k)
    count = np.bincount(inv, minlength=k) - n_pend
    total = np.bincount(inv, weights=d, minlength=k)
    lost = np.bincount(inv, weights=handoffs["hours_lost"].to_numpy(dtype=float), minlength=k)
    pp = np.bincount(inv[handoffs["ping_pong"].to_numpy(dtype=bool)], minlength=k)
    # distinct (case, pair) combinations: rows are in case order, so the stable sort
    # (timsort) of case * k + pair only reorders within each ticket
    combo = np.sort(h_case * max(k, 1) + inv, kind="stable")
    new_combo = np.ones(len(combo), dtype=bool)
    new_combo[1:] = combo[1:] != combo[:-1]
    n_case = np.bincount(combo[new_combo] % max(k, 1), minlength=k)
    if include_pending or len(pend_rows) == 0:
        stats = group_stats(inv, d, k, "delay")  # leaves NaN delays out
    else:
        stats = group_stats(inv[~pending], d[~pending], k, "delay")
    out = pd.DataFrame(
        {
            "from_group": _codes_to_str(g_names, pairs // n_g),
            "to_group": _codes_to_str(g_names, pairs % n_g),
            "count": count.astype(np.int64),
            "cases": n_case.astype(np.int64),
            "pending": n_pend.astype(np.int64),
            "delay_mean_hours": stats["delay_mean_hours"],
            "delay_p50_hours": stats["delay_p50_hours"],
            "delay_p90_hours": stats["delay_p90_hours"],
            "delay_total_hours": total.astype(float),
            "hours_lost": lost.astype(float),
            "ping_pong": pp.astype(np.int64),
        }
    )
    return out[MATRIX_COLUMNS]


def _cases(
    case_ids: pd.Index,
    case_starts: np.ndarray,
    begin_i8: np.ndarray,
    ts_i8: np.ndarray,
    ts_dtype: Any,
    is_open: np.ndarray,
    cut: pd.Timestamp,
    calendar: Calendar | None,
    handoffs: pd.DataFrame,
    h_case: np.ndarray,
) -> pd.DataFrame:
    n_cases = len(case_starts)
    if n_cases:  # times ascend within a case; start times need not
        last = ts_i8[np.append(case_starts[1:], len(ts_i8)) - 1]
        if begin_i8 is ts_i8:
            first = ts_i8[case_starts]
        else:
            first = np.minimum.reduceat(begin_i8, case_starts)
    else:
        first = last = np.zeros(0, dtype=np.int64)
    cut_i8 = _ts_i8(cut, ts_dtype)
    end = np.where(is_open & (last < cut_i8), cut_i8, last)
    cycle = _hours_i8(first, end, ts_dtype, calendar)
    pend = np.flatnonzero(handoffs["pending"].to_numpy(dtype=bool))  # few: open tickets
    d = handoffs["delay_hours"].to_numpy(dtype=float)
    n_pend = np.bincount(h_case[pend], minlength=n_cases)
    n_h = (np.bincount(h_case, minlength=n_cases) - n_pend).astype(np.int64)
    hours = np.bincount(h_case, weights=d, minlength=n_cases)
    waiting = np.bincount(h_case[pend], weights=d[pend], minlength=n_cases)
    pp = np.zeros(n_cases, dtype=bool)
    pp[h_case[handoffs["ping_pong"].to_numpy(dtype=bool)]] = True
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(cycle > 0, hours / np.where(cycle > 0, cycle, 1.0), np.nan)
    return pd.DataFrame(
        {
            "case_id": pd.Series(case_ids, dtype="str"),
            "n_handoffs": n_h,
            "handoff_hours": hours.astype(float),
            "cycle_hours": cycle.astype(float),
            "handoff_share": share,
            "ping_pong": pp,
            "open_at_cutoff": is_open.astype(bool),
            "waiting_hours": waiting.astype(float),
        }
    )


def _summary(
    handoffs: pd.DataFrame, matrix: pd.DataFrame, cases: pd.DataFrame, n_skipped: int
) -> pd.DataFrame:
    def values(frame: pd.DataFrame, name: str) -> np.ndarray:
        return frame[name].to_numpy()

    h_hours = float(np.nansum(values(cases, "handoff_hours")))
    c_hours = float(np.nansum(values(cases, "cycle_hours")))
    n_pending = int(np.count_nonzero(values(handoffs, "pending")))
    n_with = int(np.count_nonzero(values(cases, "n_handoffs")))
    rows: list[tuple[str, float, str, str]] = [
        ("cases", float(len(cases)), "tickets", ""),
        ("cases_with_handoffs", float(n_with), "tickets", ""),
        ("handoffs", float(len(handoffs) - n_pending), "handoffs", ""),
        ("pending_handoffs", float(n_pending), "handoffs", "open at cutoff"),
        ("open_cases", float(np.count_nonzero(values(cases, "open_at_cutoff"))), "tickets", ""),
        ("ping_pong_cases", float(np.count_nonzero(values(cases, "ping_pong"))), "tickets", ""),
        ("handoff_hours", h_hours, "hours", "all waits, pending included"),
        ("cycle_hours", c_hours, "hours", "all tickets"),
        (
            "handoff_share",
            h_hours / c_hours if c_hours > 0 else np.nan,
            "share",
            "of all ticket time spent waiting on handoffs",
        ),
        (
            "hours_lost",
            float(np.nansum(values(handoffs, "hours_lost"))),
            "hours",
            "handoff delays beyond their target",
        ),
        ("skipped_events", float(n_skipped), "events", "missing group"),
    ]
    worst = matrix.sort_values(
        ["hours_lost", "delay_total_hours", "count", "from_group", "to_group"],
        ascending=[False, False, False, True, True],
        kind="stable",
    ).head(3)
    for r in worst.itertuples(index=False):  # at most 3 rows
        rows.append(
            (
                "worst_pair",
                float(r.hours_lost),
                "hours",
                f"{r.from_group}{ARROW}{r.to_group}",
            )
        )
    out = pd.DataFrame(rows, columns=["metric", "value", "unit", "detail"])
    for col in ("metric", "unit", "detail"):
        out[col] = out[col].astype("str")
    return out
