"""Tests for the per-group statistics (svcmining/_groupstats.py)."""

from __future__ import annotations

from unittest import mock

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from svcmining import _groupstats
from svcmining._groupstats import group_quantiles, group_stats


def test_tiny_groups_by_hand():
    """Linear quantiles, max and mean of three groups, one of them empty."""
    key = np.array([0, 2, 0, 0, 2, 0])
    values = np.array([4.0, 1.0, 1.0, 3.0, 5.0, 2.0])
    out = group_stats(key, values, 3, "d")
    # group 0: 1 2 3 4 -> p50 2.5, p90 at 2.7 -> 3.7; group 2: 1 5 -> 3.0, 4.6
    np.testing.assert_allclose(out["d_p50_hours"], [2.5, np.nan, 3.0])
    np.testing.assert_allclose(out["d_p90_hours"], [3.7, np.nan, 4.6])
    np.testing.assert_allclose(out["d_max_hours"], [4.0, np.nan, 5.0])
    np.testing.assert_allclose(out["d_mean_hours"], [2.5, np.nan, 3.0])


def test_nan_values_are_left_out():
    """A NaN value is not a value: the group's figures come from the others."""
    out = group_stats(np.array([0, 0, 0]), np.array([1.0, np.nan, 3.0]), 1, "w")
    assert out["w_p50_hours"][0] == 2.0
    assert out["w_mean_hours"][0] == 2.0


@pytest.mark.parametrize("looped_groups", [0, 2048])
@settings(max_examples=80, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 6), st.floats(-1e6, 1e6, allow_nan=False)),
        max_size=60,
    ),
    st.lists(st.floats(0, 1), min_size=1, max_size=3),
)
def test_equal_numpy_quantile_per_group(looped_groups, pairs, qs):
    """Each group's quantiles and max equal numpy's on that group (both code paths)."""
    key = np.array([k for k, _ in pairs], dtype=np.int64)
    values = np.array([v for _, v in pairs], dtype=float)
    with mock.patch.object(_groupstats, "_MAX_LOOPED_GROUPS", looped_groups):
        quant, top = group_quantiles(key, values, 7, qs)
    for g in range(7):
        mine = values[key == g]
        if len(mine) == 0:
            assert np.isnan(quant[:, g]).all() and np.isnan(top[g])
            continue
        assert top[g] == mine.max()
        for i, q in enumerate(qs):
            assert quant[i, g] == pytest.approx(np.quantile(mine, q), rel=1e-12, abs=1e-9)


@pytest.mark.parametrize("looped_groups", [0, 2048])
@settings(max_examples=80, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 4), st.fractions(0, 1).map(float)), min_size=1))
def test_medians_equal_pandas_bit_for_bit(looped_groups, pairs):
    """group_medians gives pandas' median exactly (stage orders compare medians)."""
    key = np.array([k for k, _ in pairs], dtype=np.int64)
    values = np.array([v for _, v in pairs], dtype=float)
    with mock.patch.object(_groupstats, "_MAX_LOOPED_GROUPS", looped_groups):
        mine = _groupstats.group_medians(key, values, 5)
    theirs = pd.Series(values).groupby(key).median()
    for g in range(5):
        if g in theirs.index:
            assert mine[g] == theirs[g]
        else:
            assert np.isnan(mine[g])


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.integers(1, 9), min_size=1, max_size=30),
    st.integers(1, 4),
    st.integers(0, 10_000),
)
def test_position_medians_equal_group_medians(case_lengths, n_groups, seed):
    """Counting places gives group_medians of the relative positions, bit for bit."""
    from svcmining._groupstats import position_medians

    rng = np.random.default_rng(seed)
    sizes = np.asarray(case_lengths)
    starts = np.r_[0, np.cumsum(sizes)[:-1]]
    n = int(sizes.sum())
    pos = np.arange(n) - np.repeat(starts, sizes)
    length = np.repeat(sizes, sizes)
    key = rng.integers(0, n_groups, n)
    rel = np.where(length > 1, pos / np.maximum(length - 1, 1), 0.0)
    expected = pd.Series(rel).groupby(key).median().reindex(range(n_groups)).to_numpy()
    got = position_medians(key, starts, n_groups)
    assert np.array_equal(got, expected, equal_nan=True)
    assert np.array_equal(got, _groupstats.group_medians(key, rel, n_groups), equal_nan=True)


def test_position_medians_small_example():
    # cases of 3 and 2 events; group 0 at relative places 0, 1 (2nd case end) and 1
    # (1st case end) -> median 1; group 1 at 0.5 and 0 -> median 0.25; group 2 empty
    starts = np.array([0, 3])
    key = np.array([0, 1, 0, 1, 0])
    medians = _groupstats.position_medians(key, starts, 3)
    assert medians.tolist()[:2] == [1.0, 0.25]
    assert np.isnan(medians[2])
