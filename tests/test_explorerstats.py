"""The explorer's per-group statistics (svcmining._explorerstats): top tickets per group,
the waits' quantiles per edge, pair codes and the one clock of every event; exact values on
tiny inputs and agreement with a brute-force reference on random ones."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from svcmining._explorerstats import (
    edge_stats,
    event_clock,
    pair_codes,
    top_per_group,
    waits,
)
from svcmining._time import ns_hours
from svcmining.calendars import Calendar
from svcmining.discovery import coded_frame


def reference_top(group, case, score, n_groups, top):
    """Brute force: per group, the distinct cases by their best score (ties: lower case)."""
    best: list[dict[int, float]] = [{} for _ in range(n_groups)]
    for g, c, s in zip(group.tolist(), case.tolist(), score.tolist(), strict=True):
        best[g][c] = max(best[g].get(c, -np.inf), s)
    tops = [sorted(b, key=lambda c, b=b: (-b[c], c))[:top] for b in best]
    return tops, [len(b) for b in best]


# rows in case order: (case, group, score)
ROWS = [(0, 0, 1.0), (0, 0, 5.0), (1, 0, 5.0), (1, 1, 0.5), (2, 0, 2.0), (3, 1, 0.5)]


def test_top_per_group_exact():
    """Highest score first, a case once at its best score, ties by lower case, counts of
    distinct cases; an empty group gets nothing."""
    case, group, score = (np.array(col) for col in zip(*ROWS, strict=True))
    tk, n = top_per_group(group, case, score, 3, 2)
    assert tk == [[0, 1], [1, 3], []]
    assert n.tolist() == [3, 2, 0]


def test_top_per_group_rows_out_of_case_order():
    """Rows not in case order (the full sort) give the same answer."""
    case, group, score = (np.array(col) for col in zip(*ROWS[::-1], strict=True))
    tk, n = top_per_group(group, case, score, 3, 2)
    assert tk == [[0, 1], [1, 3], []]
    assert n.tolist() == [3, 2, 0]


def test_top_per_group_when_the_best_rows_are_one_case():
    """The rows at or above the top-th score all belong to one case: the whole group is
    ranked, so the second ticket is still found."""
    case = np.array([0, 0, 0, 1, 2])
    score = np.array([9.0, 9.0, 9.0, 1.0, 2.0])
    tk, n = top_per_group(np.zeros(5, dtype=np.int64), case, score, 1, 2)
    assert tk == [[0, 2]]
    assert n.tolist() == [3]


@pytest.mark.parametrize("seed", range(6))
def test_top_per_group_and_edge_stats_match_brute_force(seed):
    """On random rows with many ties, both agree with the brute force, and the quantiles
    with numpy's."""
    rng = np.random.default_rng(seed)
    n, n_groups, top = 400, 7, int(rng.integers(1, 6))
    case = np.sort(rng.integers(0, 60, n))
    group = rng.integers(0, n_groups, n)
    score = rng.integers(0, 8, n).astype(float)  # few values: many ties
    want_tk, want_n = reference_top(group, case, score, n_groups, top)
    tk, cnt = top_per_group(group, case, score, n_groups, top)
    assert tk == want_tk and cnt.tolist() == want_n
    p50, p90, tk2, cnt2 = edge_stats(group, case, score, n_groups, top)
    assert tk2 == want_tk and cnt2.tolist() == want_n
    for g in range(n_groups):
        vals = score[group == g]
        assert p50[g] == np.quantile(vals, 0.5) and p90[g] == np.quantile(vals, 0.9)


def test_edge_stats_with_nan_or_no_top_falls_back():
    """NaN waits and top=0 take the sorting path: NaN never ranks first, top=0 lists none."""
    case = np.array([0, 1, 2])
    wait = np.array([np.nan, 2.0, 1.0])
    p50, _, tk, n = edge_stats(np.zeros(3, dtype=np.int64), case, wait, 1, 2)
    assert tk == [[1, 2]] and n.tolist() == [3] and p50[0] == 1.5
    _, _, tk0, _ = edge_stats(np.zeros(3, dtype=np.int64), case, np.ones(3), 1, 0)
    assert tk0 == [[]]


def test_pair_codes_dense_and_hashed():
    """Codes into the sorted distinct pairs when a table of all pairs is small, else into
    the pairs in order of first appearance."""
    codes, uniq = pair_codes(np.array([5, 3, 5, 0]), 9)
    assert codes.tolist() == [2, 1, 2, 0] and uniq.tolist() == [0, 3, 5]
    codes, uniq = pair_codes(np.array([999_999, 3, 999_999]), 1_000_000)
    assert codes.tolist() == [0, 1, 0] and uniq.tolist() == [999_999, 3]


def test_event_clock_waits_are_business_hours():
    """Friday 17:00 to Monday 10:00 is 2 business hours (Mon–Fri 9–18) and 65 elapsed
    hours, as ns_hours measures them."""
    tz = "Asia/Shanghai"
    ts = pd.to_datetime(["2024-11-08 17:00", "2024-11-11 10:00", "2024-11-11 09:30"])
    ev = pd.DataFrame({"case_id": ["T1", "T1", "T2"], "activity": ["A", "B", "A"], "timestamp": ts})
    ev["timestamp"] = ev["timestamp"].dt.tz_localize(tz)
    fr = coded_frame(ev)
    frm, to = np.array([0]), np.array([1])
    cal = Calendar()
    clock = event_clock(fr, cal)
    assert clock is not None
    assert waits(fr, clock, cal, frm, to).tolist() == [2.0]
    assert waits(fr, event_clock(fr, None), None, frm, to).tolist() == [65.0]
    want = ns_hours(fr.end_ns[frm], fr.begin_ns[to], fr.tz, cal)
    assert waits(fr, clock, cal, frm, to).tolist() == list(want)
