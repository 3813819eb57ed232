"""Vectorised kernels of the filters (:mod:`svcmining.filters`): which tickets or events match.

Every kernel works on a canonical log sorted by case, then time, and returns boolean
arrays (per case block or per event); no Python loop runs over events.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ._time import NS_PER_HOUR, ns_hours
from .calendars import working_ns
from .conformance import DEVIATION_TYPES, check_sop
from .discovery import coded_frame
from .eventlog import FILTER_COLUMNS, TicketLog
from .exceptions import InvalidParameterError
from .rework import REWORK_KINDS
from .sop import as_sop

if TYPE_CHECKING:
    from .calendars import Calendar

__all__ = [
    "NEVER_NS",
    "any_per_case",
    "apply_one",
    "between_segments",
    "case_hours",
    "case_ids_ok",
    "case_of",
    "clock_ns",
    "conformance",
    "deviation_types",
    "follows_pairs",
    "handoff_rows",
    "hours_ns",
    "mark_stretches",
    "rework_kinds",
]


def any_per_case(mask: np.ndarray, case_codes: np.ndarray, n_cases: int) -> np.ndarray:
    """Per case: whether ``mask`` holds for at least one of its events."""
    if not len(case_codes):
        return np.zeros(n_cases, dtype=bool)
    return np.bincount(case_codes[np.asarray(mask, dtype=bool)], minlength=n_cases) > 0


def clock_ns(times: pd.Series, calendar: Calendar | None) -> np.ndarray:
    """int64 clock of each time: UTC nanoseconds, or working nanoseconds under ``calendar``.

    The difference of two values is the elapsed (or business) time between them.
    """
    if calendar is None:
        return np.asarray(times.dt.as_unit("ns").array.asi8, dtype=np.int64)

    return np.asarray(working_ns(times, calendar), dtype=np.int64)


NEVER_NS = np.iinfo(np.int64).max // 4  # beyond any gap between two timestamps


def hours_ns(value: float | None, default: int) -> int:
    """Hours as int64 nanoseconds (``default`` when ``value`` is None), clipped to a range
    no two timestamps are apart."""
    if value is None:
        return default
    return max(-NEVER_NS, min(NEVER_NS, round(float(value) * NS_PER_HOUR)))


def _window_counts(
    a_group: np.ndarray,
    a_pos: np.ndarray,
    a_rank: np.ndarray,
    q_group: np.ndarray,
    q_pos: np.ndarray,
    q_rank_lo: np.ndarray,
    q_rank_hi: np.ndarray,
    n_ranks: int,
    n: int,
) -> np.ndarray:
    """For each query: how many A events share its group, come before ``q_pos`` and have a
    time rank in ``[q_rank_lo, q_rank_hi]``.

    Within a group (a case, or a case and a department) the A events in log order have
    non-decreasing times, so the A events before a query form a prefix of the group's list
    and those inside the time window a contiguous run of that prefix: three binary searches.
    """
    q_group = np.asarray(q_group, dtype=np.int64)
    ok = q_group >= 0
    keep = a_group >= 0
    a_group, a_pos, a_rank = a_group[keep], a_pos[keep], a_rank[keep]
    order = np.lexsort((a_pos, a_group))
    g, p, r = a_group[order], a_pos[order], a_rank[order]
    span = np.int64(n_ranks + 2)
    pos_key = g * np.int64(n + 1) + p
    rank_key = g * span + (r + 1)
    qg = np.where(ok, q_group, 0)
    before = np.searchsorted(pos_key, qg * np.int64(n + 1) + q_pos, side="left")
    first = np.searchsorted(rank_key, qg * span + (np.maximum(q_rank_lo, -1) + 1), side="left")
    upto = np.searchsorted(rank_key, qg * span + (np.minimum(q_rank_hi, n_ranks) + 1), side="right")
    count = np.minimum(before, upto) - first
    return np.where(ok, np.maximum(count, 0), 0)


def follows_pairs(
    case_codes: np.ndarray,
    is_a: np.ndarray,
    is_b: np.ndarray,
    clock: np.ndarray,
    *,
    directly: bool,
    min_ns: int,
    max_ns: int,
    values: np.ndarray | None,
    same: bool,
) -> np.ndarray:
    """Per event: it is a B that follows an A of its ticket as the rule asks.

    ``directly``: the A is the event right before; else any earlier event of the ticket.
    The time from the A to the B (on ``clock``) lies in ``[min_ns, max_ns]``. ``values``
    (integer codes, -1 missing) must be equal (``same``) or differ (not ``same``) between
    the A and the B; a missing value matches neither.
    """
    n = len(case_codes)
    hit = np.zeros(n, dtype=bool)
    if n < 2:
        return hit
    if directly:
        gap = clock[1:] - clock[:-1]
        pair = is_a[:-1] & is_b[1:] & (case_codes[1:] == case_codes[:-1])
        pair &= (gap >= min_ns) & (gap <= max_ns)
        if values is not None:
            known = (values[:-1] >= 0) & (values[1:] >= 0)
            eq = values[:-1] == values[1:]
            pair &= known & (eq if same else ~eq)
        hit[1:] = pair
        return hit
    uniq = np.unique(clock)
    rank = np.searchsorted(uniq, clock)
    pos = np.arange(n, dtype=np.int64)
    rows_a, rows_b = np.flatnonzero(is_a), np.flatnonzero(is_b)
    q_clock = clock[rows_b]
    lo_t = q_clock - np.int64(max_ns)
    hi_t = q_clock - np.int64(min_ns)
    q_lo = np.searchsorted(uniq, lo_t, side="left")  # first rank with time >= lo_t
    q_hi = np.searchsorted(uniq, hi_t, side="right") - 1  # last rank with time <= hi_t

    def counts(a_group: np.ndarray, q_group: np.ndarray) -> np.ndarray:
        return _window_counts(
            a_group, pos[rows_a], rank[rows_a], q_group, pos[rows_b], q_lo, q_hi, len(uniq), n
        )

    cc = case_codes.astype(np.int64)
    if values is None:
        found = counts(cc[rows_a], cc[rows_b]) > 0
    else:
        v = np.asarray(values, dtype=np.int64)
        n_vals = int(v.max()) + 2 if len(v) else 1
        by_value = np.where(v >= 0, cc * n_vals + v, -1)
        in_case = np.where(v >= 0, cc, -1)  # A events with a known value, per case
        same_n = counts(by_value[rows_a], by_value[rows_b])
        if same:
            found = same_n > 0
        else:
            found = (counts(in_case[rows_a], in_case[rows_b]) - same_n > 0) & (v[rows_b] >= 0)
    hit[rows_b[found]] = True
    return hit


def between_segments(
    case_codes: np.ndarray, is_a: np.ndarray, is_b: np.ndarray, same_activity: bool
) -> tuple[np.ndarray, np.ndarray]:
    """The stretches from an A to the next B of each ticket: (first rows, last rows).

    As pm4py's ``filter_between``: a stretch opens at the first A after the previous
    stretch (or the ticket's start) and closes at the next B; when A and B are the same
    activities, each occurrence closes one stretch and opens the next.
    """
    n = len(case_codes)
    if n == 0:
        z = np.zeros(0, dtype=np.int64)
        return z, z
    cc = case_codes.astype(np.int64)
    if same_activity:
        rows = np.flatnonzero(is_a)
        nxt = rows[1:][cc[rows[1:]] == cc[rows[:-1]]]
        prev = rows[:-1][cc[rows[1:]] == cc[rows[:-1]]]
        return prev, nxt
    new_case = np.r_[True, cc[1:] != cc[:-1]]
    starts = np.flatnonzero(new_case)
    cum_b = np.cumsum(is_b) - is_b  # B events strictly before, over the log
    b_before = cum_b - np.repeat(cum_b[starts], np.diff(np.r_[starts, n]))
    key = cc * np.int64(n + 1) + b_before
    rows_a = np.flatnonzero(is_a & ~is_b)
    first_a = rows_a[np.r_[True, key[rows_a][1:] != key[rows_a][:-1]]] if len(rows_a) else rows_a
    rows_b = np.flatnonzero(is_b)
    where = pd.Index(key[first_a]).get_indexer(key[rows_b])
    found = where >= 0
    return first_a[where[found]], rows_b[found]


def handoff_rows(
    case_codes: np.ndarray, groups: Any, source: str | None, target: str | None
) -> np.ndarray:
    """Per event: it receives a handoff from ``source`` to ``target`` (None: any group).

    A handoff is between two consecutive events of a ticket whose group differs, events
    without a group skipped (the definition of :mod:`svcmining.handoffs`).
    """
    n = len(case_codes)
    hit = np.zeros(n, dtype=bool)
    vals = pd.Series(groups, copy=False)
    rows = np.flatnonzero(vals.notna().to_numpy())
    if len(rows) < 2:
        return hit
    g = vals.iloc[rows].astype("str").to_numpy(dtype=object)
    cc = case_codes[rows]
    pair = (cc[1:] == cc[:-1]) & (g[1:] != g[:-1])
    if source is not None:
        pair &= g[:-1] == source
    if target is not None:
        pair &= g[1:] == target
    hit[rows[1:][pair]] = True
    return hit


def mark_stretches(n: int, first: np.ndarray, last: np.ndarray) -> np.ndarray:
    """Per event: it lies in one of the row stretches ``[first, last]`` (inclusive)."""
    delta = np.zeros(n + 1, dtype=np.int64)
    np.add.at(delta, first, 1)
    np.add.at(delta, last + 1, -1)
    return np.cumsum(delta[:-1]) > 0


def case_of(log: TicketLog) -> tuple[np.ndarray, np.ndarray, int]:
    """Case code per event, the first row of each case and the number of cases."""
    codes, starts = log.case_index()
    return np.asarray(codes, dtype=np.int64), starts, len(starts)


def case_hours(log: TicketLog, calendar: Calendar | None = None) -> np.ndarray:
    """Per ticket (case block order): hours from its first start to its last completion
    (business hours under ``calendar``), as :func:`svcmining.variants` measures them."""

    fr = coded_frame(log)
    if not fr.n_cases:
        return np.zeros(0, dtype=float)
    begin = np.minimum.reduceat(fr.begin_ns, fr.case_start)
    end = fr.end_ns[fr.case_start + fr.case_len - 1]
    return np.asarray(ns_hours(begin, end, fr.tz, calendar), dtype=float)


def conformance(log: TicketLog, sop: Any, cls: str) -> Any:
    """:func:`svcmining.check_sop` of the log (once per log and SOP: kept on the log)."""

    the_sop = as_sop(sop, func=cls)
    if the_sop is None:
        raise InvalidParameterError(
            f"{cls} needs an SOP: give 'sop' (a path) to the filter, put 'sop:' in the YAML "
            "file, or pass sop=... to apply_filters."
        )
    key = os.fspath(sop) if isinstance(sop, str | os.PathLike) else the_sop
    return log.derived(("filters.check_sop", key), lambda: check_sop(log, the_sop, precision=False))


def case_ids_ok(log: TicketLog, selected: Any) -> np.ndarray:
    starts = log.case_index()[1]
    return log.events["case_id"].iloc[starts].isin(selected).to_numpy(dtype=bool)


def rework_kinds() -> tuple[str, ...]:

    return REWORK_KINDS


def deviation_types() -> tuple[str, ...]:

    return DEVIATION_TYPES


def apply_one(log: TicketLog, flt: Any, ctx: Any) -> TicketLog:
    """``flt`` applied to ``log``, with its row appended to the ``filters`` table."""
    events = log.events
    keep = np.asarray(flt._keep(log, ctx), dtype=bool)
    if keep.shape != (len(events),):  # pragma: no cover - a kernel bug, not a user error
        raise AssertionError(f"{flt!r} returned {keep.shape} flags for {len(events)} events")
    kept = events.loc[keep].reset_index(drop=True)
    codes = log.case_index()[0]
    n_cases = log.n_cases
    cases_kept = (
        int(np.count_nonzero(np.bincount(codes[keep], minlength=n_cases))) if n_cases else 0
    )
    n_kept = int(keep.sum())
    row = pd.DataFrame(
        [[repr(flt), cases_kept, n_cases - cases_kept, n_kept, len(events) - n_kept]],
        columns=list(FILTER_COLUMNS),
    ).astype(dict.fromkeys(FILTER_COLUMNS[1:], "int64") | {"filter": "str"})
    table = row if not len(log.filters) else pd.concat([log.filters, row], ignore_index=True)
    return TicketLog(
        events=kept, report=log.report, mapping=log.mapping, filters=table, _valid=True
    )
