"""Tests for svcmining.drilldown: outcome rates and medians per attribute value."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from svcmining.drilldown import drill_down, wilson_interval
from svcmining.exceptions import InvalidParameterError

TZ = "Asia/Shanghai"

# (case, activity, time, department, channel, customer)
ROWS = [
    ("A", "投诉登记", "2024-10-08 09:00", "客服中心", "电话", "C1"),
    ("A", "售后评估", "2024-10-08 10:00", "售后部", "电话", "C1"),
    ("A", "远程排障", "2024-10-08 15:00", "技术支持部", "电话", "C1"),
    ("A", "结单", "2024-10-08 16:00", "客服中心", "电话", "C1"),
    ("A", "回访", "2024-10-09 16:00", "客服中心", "电话", "C1"),
    ("B", "投诉登记", "2024-10-10 09:00", "客服中心", "微信", "C1"),
    ("B", "结单", "2024-10-10 10:00", "客服中心", "微信", "C1"),
    ("C", "投诉登记", "2024-11-04 09:00", "客服中心", "电话", "C2"),
    ("C", "远程排障", "2024-11-04 10:00", "技术支持部", "电话", "C2"),
    ("C", "结单", "2024-11-04 12:00", "客服中心", "电话", "C2"),
    ("C", "重新打开", "2024-11-05 09:00", "客服中心", "电话", "C2"),
    ("C", "远程排障", "2024-11-05 12:00", "技术支持部", "电话", "C2"),
    ("C", "结单", "2024-11-05 13:00", "客服中心", "电话", "C2"),
    ("D", "投诉登记", "2024-11-20 09:00", "客服中心", "在线", "C3"),
    ("D", "售后评估", "2024-11-20 11:00", "售后部", "在线", "C3"),
]


def tiny() -> pd.DataFrame:
    df = pd.DataFrame(
        ROWS, columns=["case_id", "activity", "timestamp", "department", "channel", "customer_id"]
    )
    df["timestamp"] = pd.to_datetime(df["timestamp"]).dt.tz_localize(TZ)
    df["resource"] = "r1"
    return df


def needs_rework() -> None:
    """Skip while the rework module's ping-pong dependency has not landed."""
    pytest.importorskip("svcmining._pingpong", reason="svcmining._pingpong not there yet")


def test_wilson_interval_known_values():
    """Wilson interval for 5/10 and 0/10 at 95% equals the textbook values."""
    lo, hi = wilson_interval([5, 0], [10, 10])
    assert lo[0] == pytest.approx(0.236593, abs=1e-5)
    assert hi[0] == pytest.approx(0.763407, abs=1e-5)
    assert lo[1] == pytest.approx(0.0, abs=1e-12)
    assert hi[1] == pytest.approx(0.277533, abs=1e-5)


@settings(max_examples=50, deadline=None)
@given(st.integers(1, 500).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))))
def test_wilson_interval_contains_estimate(kn):
    """The Wilson interval always lies in [0, 1] and contains k/n."""
    k, n = kn
    lo, hi = wilson_interval(k, n)
    assert 0 <= lo <= k / n + 1e-12 <= hi + 2e-12 <= 1 + 2e-12


def test_rate_by_case_level_and_multi_valued_columns():
    """has_rework by channel (one value per case) and department (every value involved)."""
    needs_rework()
    dd = drill_down(tiny(), outcome="has_rework", by=["channel", "department"], min_cases=1)
    t = dd.table.set_index(["attribute", "value"])
    assert dd.statistic == "rate"
    assert dd.overall == 0.25
    assert t.loc[("channel", "电话"), "estimate"] == 0.5
    assert t.loc[("channel", "电话"), "n_cases"] == 2
    assert t.loc[("channel", "微信"), "estimate"] == 0.0
    assert t.loc[("department", "客服中心"), "n_cases"] == 4
    assert t.loc[("department", "技术支持部"), "estimate"] == 0.5
    assert t.loc[("department", "售后部"), "estimate"] == 0.0
    lo, hi = wilson_interval(1, 2)
    assert t.loc[("channel", "电话"), "ci_low"] == pytest.approx(float(lo))
    assert t.loc[("channel", "电话"), "ci_high"] == pytest.approx(float(hi))
    assert dd.table["difference"].abs().is_monotonic_decreasing


def test_small_groups_left_out():
    """Groups under min_cases are not in the table but listed in dropped."""
    dd = drill_down(tiny(), outcome="repeat_contact", by="channel", min_cases=2)
    assert list(dd.table["value"]) == ["电话"]
    assert set(dd.dropped["value"]) == {"微信", "在线"}


def test_median_outcome_excludes_open_tickets_and_bootstraps():
    """cycle_hours medians leave open tickets out; the bootstrap interval brackets the median."""
    dd = drill_down(tiny(), outcome="cycle_hours", by="channel", min_cases=1, n_boot=200)
    t = dd.table.set_index("value")
    assert dd.statistic == "median"
    assert t.loc["电话", "estimate"] == 17.5
    assert t.loc["微信", "estimate"] == 1.0
    assert "在线" not in t.index  # D is open
    assert t.loc["电话", "ci_low"] >= 7.0 and t.loc["电话", "ci_high"] <= 28.0
    again = drill_down(tiny(), outcome="cycle_hours", by="channel", min_cases=1, n_boot=200)
    pd.testing.assert_frame_equal(dd.table, again.table)  # seeded


def test_outcome_as_series_and_from_cases():
    """A Series indexed by case_id and a column of a per-case table both work as outcomes."""
    s = pd.Series({"A": 1.0, "B": 3.0, "C": 5.0, "D": 7.0}, name="score")
    dd = drill_down(tiny(), outcome=s, by="channel", min_cases=1, n_boot=50)
    assert dd.outcome == "score"
    assert dd.table.set_index("value").loc["电话", "estimate"] == 3.0
    cases = pd.DataFrame({"case_id": ["A", "B", "C", "D"], "vip": [True, False, True, True]})
    dd2 = drill_down(tiny(), outcome="vip", by="channel", cases=cases, min_cases=1)
    assert dd2.statistic == "rate" and dd2.overall == 0.75


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"outcome": "happiness", "by": "channel"}, "'outcome' parameter of drill_down"),
        ({"outcome": "has_rework", "by": "weather"}, "not in the log"),
        ({"outcome": "has_rework", "by": []}, "at least one column"),
        ({"outcome": "has_rework", "by": "channel", "min_cases": 0}, "min_cases"),
        ({"outcome": "has_rework", "by": "channel", "confidence": 1.5}, "confidence"),
        ({"outcome": "sla_breached", "by": "channel"}, "needs an SOP"),
    ],
)
def test_bad_options(kwargs, match):
    """Invalid options raise InvalidParameterError naming the problem."""
    with pytest.raises(InvalidParameterError, match=match):
        drill_down(tiny(), **kwargs)


def test_shuffle_and_rename_invariant():
    """Shuffling rows and renaming cases leaves the drill-down unchanged."""
    a = drill_down(tiny(), outcome="repeat_contact", by=["channel", "department"], min_cases=1)
    df = tiny().sample(frac=1, random_state=1)
    df["case_id"] = df["case_id"].map({"A": "q", "B": "b", "C": "x", "D": "a"})
    b = drill_down(df, outcome="repeat_contact", by=["channel", "department"], min_cases=1)
    pd.testing.assert_frame_equal(a.table, b.table)


def test_plot_and_html():
    """The forest plot draws one point per group; the HTML escapes values."""
    import matplotlib

    matplotlib.use("Agg")
    df = tiny()
    df["channel"] = df["channel"].replace({"电话": "<tel>"})
    dd = drill_down(df, outcome="repeat_contact", by="channel", min_cases=1)
    fig = dd.plot()
    assert len(fig.axes[0].get_yticklabels()) == len(dd.table)
    assert "<tel>" not in dd._repr_html_()
    assert np.isfinite(dd.overall)


def test_bootstrap_median_matches_resampling():
    """The order-statistic bootstrap of the median agrees with plain resampling."""
    from svcmining.drilldown import _bootstrap_median

    rng = np.random.default_rng(7)
    for n in (41, 60):
        x = rng.lognormal(2, 1, n)
        lo, hi = _bootstrap_median(x, 0.9, 20000, np.random.default_rng(1))
        meds = np.median(x[np.random.default_rng(2).integers(0, n, (20000, n))], axis=1)
        rlo, rhi = np.quantile(meds, [0.05, 0.95])
        spread = np.quantile(x, 0.75) - np.quantile(x, 0.25)
        assert abs(lo - rlo) < 0.1 * spread and abs(hi - rhi) < 0.1 * spread
