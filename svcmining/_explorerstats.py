"""Per-group statistics of the explorer's data (:mod:`svcmining._explorerdata`): every
event on one clock (:func:`event_clock`, :func:`waits`), dense codes of activity pairs
(:func:`pair_codes`), the top tickets of every group (:func:`top_per_group`) and the
waits' quantiles with the top tickets of every edge (:func:`edge_stats`).

The top tickets of a group are its ``top`` distinct cases with the highest score (ties:
lower case first). Instead of sorting every row by group, score and case, the rows are
grouped by one stable (radix) sort of the group codes and in each group only the rows at
or above its ``top``-th highest score are ranked: they hold the answer whenever they hold
``top`` distinct cases, since a case left out has every score below every case kept.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ._groupstats import group_slices, group_stats
from ._time import NS_PER_HOUR, ns_hours

if TYPE_CHECKING:
    from .calendars import Calendar
    from .discovery import CodedFrame

__all__ = ["EventClock", "edge_stats", "event_clock", "pair_codes", "top_per_group", "waits"]

#: Every event's begin and end on one int64 clock (:func:`event_clock`).
EventClock = tuple[np.ndarray, np.ndarray]
# Above this many groups, one sort of all rows beats a selection per group.
_MAX_LOOPED_GROUPS = 2048


def top_per_group(
    group: np.ndarray, case: np.ndarray, score: np.ndarray, n_groups: int, top: int
) -> tuple[list[list[int]], np.ndarray]:
    """Per group, up to ``top`` distinct cases with the highest ``score`` (ties: lower case
    first), and the number of distinct cases of each group."""
    if len(group) == 0:
        return [[] for _ in range(n_groups)], np.zeros(n_groups, dtype=np.int64)
    # cases in ascending order already (log order): the stable sort keeps them so among ties
    in_order = len(case) < 2 or bool(np.all(case[1:] >= case[:-1]))
    if in_order and top > 0 and n_groups <= _MAX_LOOPED_GROUPS and not np.isnan(score).any():
        return _top_per_group_looped(group, case, score, n_groups, top)
    order = np.lexsort((-score, group) if in_order else (case, -score, group))
    g, c = group[order], case[order]
    # one row per (group, case): the case's highest score comes first after the sort
    key = g.astype(np.int64) * (int(case.max()) + 1) + c
    first = ~pd.Series(key).duplicated().to_numpy()
    g, c = g[first], c[first]
    counts = np.bincount(g, minlength=n_groups)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    rank = np.arange(len(g)) - starts[g]
    keep = rank < top
    out: list[list[int]] = [[] for _ in range(n_groups)]
    for gi, ci in zip(g[keep].tolist(), c[keep].tolist(), strict=True):
        out[gi].append(ci)
    return out, counts.astype(np.int64)


def _best_cases(c: np.ndarray, s: np.ndarray) -> np.ndarray:
    """The distinct cases of ``c`` by their highest score ``s``, best first (ties: lower
    case first)."""
    by = c[np.lexsort((c, -s))]
    _, first = np.unique(by, return_index=True)
    return by[np.sort(first)]


def _top_per_group_looped(
    group: np.ndarray, case: np.ndarray, score: np.ndarray, n_groups: int, top: int
) -> tuple[list[list[int]], np.ndarray]:
    """:func:`top_per_group` of rows in case order without NaN scores, with one linear
    selection per group instead of sorting every row: the rows grouped by one stable
    (radix) sort, then in each group only the rows at or above its ``top``-th highest
    score are ranked (:func:`_top_cases`)."""
    order, starts, sizes = group_slices(group, n_groups)
    c, s = case[order], score[order]
    counts = _distinct_per_group(group[order], c, starts, sizes, n_groups)
    out: list[list[int]] = [[] for _ in range(n_groups)]
    for gi in np.flatnonzero(sizes).tolist():
        a, n = int(starts[gi]), int(sizes[gi])
        cg, sg = c[a : a + n], s[a : a + n]
        thr = np.partition(sg, n - top)[n - top] if n > top else None
        out[gi] = _top_cases(cg, sg, thr, top, int(counts[gi]))
    return out, counts


def event_clock(fr: CodedFrame, calendar: Calendar | None) -> EventClock | None:
    """Every event's begin and end on one int64 clock whose differences, divided by
    ``NS_PER_HOUR``, are the hours :func:`ns_hours` measures between them: the UTC
    nanoseconds, or the calendar's working nanoseconds (one clock look-up per time
    instead of two per interval). None when a time is missing (NaT)."""
    if calendar is None:
        return fr.begin_ns, fr.end_ns
    n = len(fr.end_ns)
    same = fr.begin_ns is fr.end_ns or np.array_equal(fr.begin_ns, fr.end_ns)
    both = fr.end_ns if same else np.concatenate((fr.begin_ns, fr.end_ns))
    if n == 0 or bool((both == np.iinfo(np.int64).min).any()):
        return None
    from .calendars import working_ns

    w = working_ns(pd.DatetimeIndex(both.view("M8[ns]")).tz_localize("UTC"), calendar)
    return (w, w) if same else (w[:n], w[n:])


def waits(
    fr: CodedFrame,
    clock: EventClock | None,
    calendar: Calendar | None,
    frm: np.ndarray,
    to: np.ndarray,
) -> np.ndarray:
    """Hours from the end of the events ``frm`` to the begin of the events ``to``."""
    if clock is None:
        return np.asarray(ns_hours(fr.end_ns[frm], fr.begin_ns[to], fr.tz, calendar), dtype=float)
    return (clock[0][to] - clock[1][frm]) / NS_PER_HOUR


def pair_codes(pair: np.ndarray, n_pairs: int) -> tuple[np.ndarray, np.ndarray]:
    """Codes 0..k-1 of the ``k`` distinct values of ``pair`` (< ``n_pairs``) and the values
    (ascending when counted into a table, else in order of first appearance)."""
    if n_pairs <= 4 * len(pair) + (1 << 16):
        seen = np.bincount(pair, minlength=n_pairs) > 0
        uniq = np.flatnonzero(seen)
        code_of = np.cumsum(seen) - 1
        return code_of[pair].astype(np.int64), uniq.astype(np.int64)
    codes, uniq = pd.factorize(pair)
    return np.asarray(codes, dtype=np.int64), np.asarray(uniq, dtype=np.int64)


def edge_stats(
    group: np.ndarray, case: np.ndarray, wait: np.ndarray, n_groups: int, top: int
) -> tuple[np.ndarray, np.ndarray, list[list[int]], np.ndarray]:
    """Per group: the p50 and p90 of ``wait`` (as :func:`group_stats`), the ``top`` cases
    with the longest wait (as :func:`top_per_group`) and the number of distinct cases.

    For rows in case order without NaN and not too many non-empty groups, both come from one stable
    (radix) sort of the rows by group and one partition per group, whose order statistics
    give the quantiles and the ``top``-th longest wait at once."""
    in_order = len(case) < 2 or bool(np.all(case[1:] >= case[:-1]))
    order, starts, sizes = group_slices(group, n_groups) if in_order else (None, None, None)
    if (
        sizes is None
        or top <= 0
        or np.count_nonzero(sizes) > _MAX_LOOPED_GROUPS
        or np.isnan(wait).any()
    ):
        stats = group_stats(group, wait, n_groups, "wait")
        tk, n_cases = top_per_group(group, case, wait, n_groups, top)
        return stats["wait_p50_hours"], stats["wait_p90_hours"], tk, n_cases
    assert order is not None and starts is not None
    c, v = case[order], wait[order]
    counts = _distinct_per_group(group[order], c, starts, sizes, n_groups)
    # the quantiles exactly as group_quantiles computes them
    pos = np.asarray((0.5, 0.9))[:, None] * (sizes - 1)
    lo = np.floor(pos).astype(np.int64)
    hi = np.minimum(lo + 1, sizes - 1)
    frac = pos - lo
    quant = np.full((2, n_groups), np.nan)
    out: list[list[int]] = [[] for _ in range(n_groups)]
    for gi in np.flatnonzero(sizes).tolist():
        a, n = int(starts[gi]), int(sizes[gi])
        cg, vg = c[a : a + n], v[a : a + n]
        kth = [*lo[:, gi].tolist(), *hi[:, gi].tolist(), n - 1]
        if n > top:
            kth.append(n - top)
        part = np.partition(vg, np.unique(kth))
        v_lo, v_hi = part[lo[:, gi]], part[hi[:, gi]]
        quant[:, gi] = v_lo + (v_hi - v_lo) * frac[:, gi]
        out[gi] = _top_cases(cg, vg, part[n - top] if n > top else None, top, int(counts[gi]))
    return quant[0], quant[1], out, counts


def _distinct_per_group(
    g: np.ndarray, c: np.ndarray, starts: np.ndarray, sizes: np.ndarray, n_groups: int
) -> np.ndarray:
    """Distinct cases per group of rows sorted by group ``g``, cases ascending within."""
    new = np.ones(len(c), dtype=bool)  # a case's first row in its group
    new[1:] = c[1:] != c[:-1]
    new[starts[sizes > 0]] = True
    return np.bincount(g[new], minlength=n_groups).astype(np.int64)


def _top_cases(
    c: np.ndarray, s: np.ndarray, threshold: float | None, top: int, n_distinct: int
) -> list[int]:
    """The ``top`` distinct cases of one group with the highest score (ties: lower case
    first). ``threshold``: the group's ``top``-th highest score (None: it has fewer rows).
    Only the rows at or above it are ranked: they hold the answer whenever they hold
    ``top`` distinct cases (a case left out has every score below every case kept)."""
    if threshold is not None:
        m = s >= threshold
        best = _best_cases(c[m], s[m])
        if len(best) >= top or len(best) >= n_distinct:
            return best[:top].tolist()
    return _best_cases(c, s)[:top].tolist()
