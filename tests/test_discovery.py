"""Tests for svcmining.discovery: DFG, variants, filters, models, period comparison."""

from __future__ import annotations

import itertools
import warnings
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from svcmining import filter_cases, filter_time, filter_variants
from svcmining.discovery import (
    LogComparison,
    ProcessGraph,
    compare_logs,
    compare_periods,
    discover_dfg,
    discover_model,
    variants,
)
from svcmining.eventlog import TicketLog
from svcmining.exceptions import InvalidParameterError

TZ = "Asia/Shanghai"


def _log(rows: list[tuple], start: bool = False) -> pd.DataFrame:
    cols = ["case_id", "activity", "timestamp"] + (["start_timestamp"] if start else [])
    df = pd.DataFrame(rows, columns=cols)
    for c in cols[2:]:
        df[c] = pd.to_datetime(df[c]).dt.tz_localize(TZ)
    return df


@pytest.fixture
def tiny() -> pd.DataFrame:
    """A: 登记→确认→结单; B: 登记→确认(tie)→确认→结单; C: one event."""
    return _log(
        [
            ("A", "登记", "2024-10-08 09:00"),
            ("A", "确认", "2024-10-08 09:10"),
            ("A", "结单", "2024-10-08 11:10"),
            ("B", "登记", "2024-10-08 10:00"),
            ("B", "确认", "2024-10-08 10:00"),
            ("B", "确认", "2024-10-08 10:30"),
            ("B", "结单", "2024-10-08 12:30"),
            ("C", "登记", "2024-10-08 09:00"),
        ]
    )


# ---------------------------------------------------------------------------- discover_dfg


def test_dfg_edges_exact(tiny):
    """Counts, distinct cases and wait mean/p50/p90/max are the hand-computed values."""
    g = discover_dfg(tiny)
    assert isinstance(g, ProcessGraph)
    e = g.edges
    assert list(e.columns) == [
        "source",
        "target",
        "count",
        "cases",
        "wait_mean_hours",
        "wait_p50_hours",
        "wait_p90_hours",
        "wait_max_hours",
    ]
    assert list(zip(e.source, e.target, e["count"], e.cases, strict=True)) == [
        ("登记", "确认", 2, 2),
        ("确认", "结单", 2, 2),
        ("确认", "确认", 1, 1),
    ]
    r = e.iloc[0]
    assert r.wait_mean_hours == pytest.approx(1 / 12)
    assert r.wait_p50_hours == pytest.approx(1 / 12)
    assert r.wait_p90_hours == pytest.approx(0.9 / 6)  # linear between 0 and 1/6 h
    assert r.wait_max_hours == pytest.approx(1 / 6)
    assert e.iloc[1][["wait_mean_hours", "wait_max_hours"]].tolist() == [2.0, 2.0]
    assert e.iloc[2].wait_p50_hours == 0.5


def test_dfg_activities_and_endpoints(tiny):
    """Activity counts/cases and start/end activity counts, including a one-event case."""
    g = discover_dfg(tiny)
    acts = g.activities.set_index("activity")
    assert acts.loc["登记", ["count", "cases"]].tolist() == [3, 3]
    assert acts.loc["确认", ["count", "cases"]].tolist() == [3, 2]
    assert acts.loc["结单", ["count", "cases"]].tolist() == [2, 2]
    assert dict(zip(g.start_activities.activity, g.start_activities["count"], strict=True)) == {
        "登记": 3
    }
    assert dict(zip(g.end_activities.activity, g.end_activities["count"], strict=True)) == {
        "结单": 2,
        "登记": 1,
    }
    assert (g.n_cases, g.n_events, g.time_basis, g.lifecycle) == (3, 8, "elapsed", False)


def test_dfg_ties_keep_export_order():
    """Equal timestamps keep the export order (stable), as pm4py does."""
    df = _log([("1", "乙", "2024-10-08 09:00"), ("1", "甲", "2024-10-08 09:00")])
    e = discover_dfg(df).edges
    assert list(zip(e.source, e.target, strict=True)) == [("乙", "甲")]
    assert e.wait_max_hours.iloc[0] == 0.0


def test_dfg_lifecycle_waits_and_processing():
    """With start times: wait = next start - previous completion (overlap -> 0), processing."""
    df = _log(
        [
            ("1", "a", "2024-10-08 10:00", "2024-10-08 09:00"),
            ("1", "b", "2024-10-08 11:00", "2024-10-08 10:30"),
            ("1", "c", "2024-10-08 12:00", "2024-10-08 10:50"),
            ("1", "d", "2024-10-08 13:00", None),
        ],
        start=True,
    )
    g = discover_dfg(df)
    waits = dict(
        zip(zip(g.edges.source, g.edges.target, strict=True), g.edges.wait_mean_hours, strict=True)
    )
    assert waits == {("a", "b"): 0.5, ("b", "c"): 0.0, ("c", "d"): 1.0}
    proc = g.activities.set_index("activity")["processing_mean_hours"]
    assert proc["a"] == 1.0
    assert proc["b"] == 0.5
    assert proc["c"] == pytest.approx(70 / 60)
    assert np.isnan(proc["d"])
    assert g.lifecycle


def test_dfg_department_is_most_frequent_owner(tiny):
    """The activity table names the department that most often performs each activity."""
    df = tiny.assign(
        department=["客服中心"] * 3 + ["客服中心", "售后部", "售后部", "客服中心", None]
    )
    acts = discover_dfg(df).activities.set_index("activity")
    assert acts.loc["确认", "department"] == "售后部"
    assert acts.loc["登记", "department"] == "客服中心"


def test_dfg_empty_and_single_event_logs(tiny):
    """An empty log and a log of single-event cases give empty edge tables, no crash."""
    empty = discover_dfg(tiny.iloc[:0])
    assert len(empty.edges) == 0
    assert empty.n_cases == 0
    single = discover_dfg(tiny[tiny.case_id == "C"])
    assert len(single.edges) == 0
    assert single.start_activities["count"].tolist() == [1]


def test_dfg_does_not_mutate_input(tiny):
    """Discovery, variants and filters leave the caller's DataFrame untouched."""
    before = tiny.copy()
    discover_dfg(tiny)
    variants(tiny)
    filter_variants(tiny, top=1)
    filter_cases(tiny, activity="结单")
    compare_periods(tiny)
    pd.testing.assert_frame_equal(tiny, before)


def test_dfg_business_calendar_uses_calendar_module(tiny):
    """With a calendar, waits are calendars.duration_hours of the same pairs."""
    calendars = pytest.importorskip("svcmining.calendars")
    cal = calendars.Calendar(hours=("09:00", "18:00"), timezone=TZ)
    g = discover_dfg(tiny, calendar=cal)
    assert g.time_basis == "business"
    row = g.edges.set_index(["source", "target"]).loc[("确认", "结单")]
    assert row.wait_mean_hours == pytest.approx(2.0)
    # overnight: 17:00 -> next day 10:00 is 2 business hours
    df = _log([("1", "a", "2024-10-08 17:00"), ("1", "b", "2024-10-09 10:00")])
    assert discover_dfg(df, calendar=cal).edges.wait_mean_hours.iloc[0] == pytest.approx(2.0)


def test_graph_repr_html_escapes_labels():
    """_repr_html_ escapes activity names (no HTML injection) and to_frame is a copy."""
    df = _log([("1", "<b>x</b>", "2024-10-08 09:00"), ("1", "y&z", "2024-10-08 10:00")])
    g = discover_dfg(df)
    out = g._repr_html_()
    assert "<b>x</b>" not in out
    assert "&lt;b&gt;x&lt;/b&gt;" in out
    frame = g.to_frame()
    frame.loc[0, "count"] = 99
    assert g.edges.loc[0, "count"] == 1


# ---------------------------------------------------------------------------- hypothesis


@st.composite
def random_logs(draw):
    n_cases = draw(st.integers(1, 8))
    rows = []
    for c in range(n_cases):
        length = draw(st.integers(1, 6))
        acts = draw(st.lists(st.sampled_from("abcd"), min_size=length, max_size=length))
        gaps = draw(st.lists(st.integers(1, 600), min_size=length, max_size=length))
        t = pd.Timestamp("2024-10-08 09:00")
        for a, g in zip(acts, gaps, strict=True):
            t = t + pd.Timedelta(minutes=g)
            rows.append((f"c{c}", a, t))
    df = pd.DataFrame(rows, columns=["case_id", "activity", "timestamp"])
    df["timestamp"] = df["timestamp"].dt.tz_localize(TZ)
    return df


def _naive_edges(df: pd.DataFrame) -> Counter:
    out: Counter = Counter()
    for _, g in df.groupby("case_id", sort=False):
        a = g["activity"].tolist()
        out.update(itertools.pairwise(a))
    return out


@settings(max_examples=60, deadline=None)
@given(random_logs(), st.randoms(use_true_random=False))
def test_dfg_and_variants_match_naive_and_ignore_order(df, rnd):
    """Edge counts and variants equal a naive per-case loop; shuffling rows/renaming cases
    changes nothing; waits are never negative."""
    g = discover_dfg(df)
    assert dict(
        zip(zip(g.edges.source, g.edges.target, strict=True), g.edges["count"], strict=True)
    ) == dict(_naive_edges(df))
    assert (g.edges.wait_max_hours >= 0).all()
    v = variants(df)
    naive = Counter(tuple(x["activity"]) for _, x in df.groupby("case_id", sort=False))
    assert dict(zip(v.sequence, v.cases, strict=True)) == dict(naive)
    assert v.cumulative_share.iloc[-1] == pytest.approx(1.0)
    idx = list(df.index)
    rnd.shuffle(idx)
    shuffled = df.loc[idx].assign(case_id=lambda d: "x" + d.case_id.str[::-1])
    g2 = discover_dfg(shuffled)
    pd.testing.assert_frame_equal(g.edges, g2.edges)
    pd.testing.assert_frame_equal(v, variants(shuffled))


# ---------------------------------------------------------------------------- variants


def test_variants_exact(tiny):
    """Variant table: ranks, sequences, shares and median durations, ties by sequence."""
    v = variants(tiny)
    assert v.columns.tolist() == [
        "variant_id",
        "sequence",
        "length",
        "cases",
        "share",
        "cumulative_share",
        "median_case_duration_hours",
    ]
    assert v.sequence.tolist() == [
        ("登记",),
        ("登记", "确认", "确认", "结单"),
        ("登记", "确认", "结单"),
    ]
    assert v.variant_id.tolist() == [1, 2, 3]
    assert v.length.tolist() == [1, 4, 3]
    assert v.cumulative_share.tolist() == pytest.approx([1 / 3, 2 / 3, 1.0])
    assert v.median_case_duration_hours.tolist() == pytest.approx([0.0, 2.5, 2 + 1 / 6])


def test_variants_frequency_order():
    """More frequent variants rank first; median of durations within a variant."""
    df = _log(
        [
            ("1", "a", "2024-10-08 09:00"),
            ("1", "b", "2024-10-08 10:00"),
            ("2", "a", "2024-10-08 09:00"),
            ("2", "b", "2024-10-08 12:00"),
            ("3", "b", "2024-10-08 09:00"),
        ]
    )
    v = variants(df)
    assert v.sequence.tolist() == [("a", "b"), ("b",)]
    assert v.cases.tolist() == [2, 1]
    assert v.median_case_duration_hours.tolist() == [2.0, 0.0]


# ---------------------------------------------------------------------------- filters


def test_filter_variants_top_and_coverage():
    """top keeps the k most frequent variants; coverage the smallest set reaching the share."""
    rows = []
    for i, seq in enumerate(["ab", "ab", "ab", "ac", "ac", "b"]):
        rows += [(f"{i}", a, f"2024-10-08 {9 + j:02d}:00") for j, a in enumerate(seq)]
    df = _log(rows)
    out = filter_variants(df, top=1)
    assert isinstance(out, TicketLog)
    assert sorted(out.events.case_id.unique()) == ["0", "1", "2"]
    assert filter_variants(df, coverage=0.5).n_cases == 3
    assert filter_variants(df, coverage=0.51).n_cases == 5
    assert filter_variants(df, coverage=1.0).n_cases == 6


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        ("contained", ["B"]),
        ("intersecting", ["A", "B", "C"]),
        ("started", ["B", "C"]),
        ("completed", ["A", "B"]),
    ],
)
def test_filter_time_modes(mode, expected):
    """Each time-window mode keeps the hand-picked tickets (window [start, end))."""
    df = _log(
        [
            ("A", "a", "2024-09-30 10:00"),
            ("A", "b", "2024-10-02 10:00"),
            ("B", "a", "2024-10-03 10:00"),
            ("B", "b", "2024-10-04 10:00"),
            ("C", "a", "2024-10-31 23:00"),
            ("C", "b", "2024-11-01 00:00"),
        ]
    )
    out = filter_time(df, "2024-10-01", "2024-11-01", mode=mode)
    assert sorted(out.events.case_id.unique()) == expected


def test_filter_time_trim_and_open_bounds():
    """trim cuts events outside the window; None leaves a side open."""
    df = _log([("A", "a", "2024-09-30 10:00"), ("A", "b", "2024-10-02 10:00")])
    assert filter_time(df, "2024-10-01", None, mode="trim").events.activity.tolist() == ["b"]
    assert filter_time(df, None, "2024-10-01", mode="trim").events.activity.tolist() == ["a"]


def test_filter_cases_conditions(tiny):
    """Scalar, list and callable conditions; a ticket needs a match for every condition."""
    df = tiny.assign(channel=["电话"] * 3 + ["微信"] * 4 + ["电话"])
    assert sorted(filter_cases(df, activity="结单").events.case_id.unique()) == ["A", "B"]
    assert sorted(filter_cases(df, channel=["微信"]).events.case_id.unique()) == ["B"]
    out = filter_cases(df, channel="电话", activity="结单")
    assert out.events.case_id.unique().tolist() == ["A"]
    assert len(out.events) == 3  # whole ticket kept
    out = filter_cases(df, activity=lambda s: s.str.startswith("确"))
    assert out.n_cases == 2


@pytest.mark.parametrize(
    ("func", "kwargs", "match"),
    [
        (filter_variants, {}, "exactly one of 'top'"),
        (filter_variants, {"top": 1, "coverage": 0.5}, "exactly one of 'top'"),
        (filter_variants, {"top": 0}, "'top' parameter of filter_variants"),
        (filter_variants, {"coverage": 0.0}, r"'coverage' parameter .* \(0, 1\]"),
        (filter_variants, {"coverage": 1.5}, "'coverage' parameter"),
        (filter_time, {"mode": "inside"}, r"'mode' parameter of filter_time must be one of"),
        (filter_time, {"start": "not a date"}, "'start' parameter of filter_time"),
        (filter_cases, {}, "at least one condition"),
        (filter_cases, {"colour": "red"}, "does not have"),
        (compare_periods, {"by": "fortnight"}, "'by' parameter of compare_periods"),
        (discover_model, {"algorithm": "alpha"}, "'algorithm' parameter of discover_model"),
        (discover_model, {"noise": 2}, "'noise' parameter of discover_model"),
    ],
)
def test_invalid_options_raise(tiny, func, kwargs, match):
    """Invalid options raise InvalidParameterError naming the valid values."""
    with pytest.raises(InvalidParameterError, match=match):
        func(tiny, **kwargs)


# ---------------------------------------------------------------------------- comparison


def test_compare_logs_statuses_and_changes(tiny):
    """New / kept / vanished edges and case-share changes between two logs."""
    a = tiny[tiny.case_id.isin(["A", "C"])]
    b = tiny[tiny.case_id == "B"]
    cmp = compare_logs(a, b, labels=("试点前", "试点后"))
    assert isinstance(cmp, LogComparison)
    assert cmp.periods.period.tolist() == ["试点前", "试点后"]
    assert cmp.periods.cases.tolist() == [2, 1]
    after = cmp.edges[cmp.edges.period == "试点后"].set_index(["source", "target"])
    assert after.loc[("确认", "确认"), "status"] == "new"
    assert after.loc[("登记", "确认"), "status"] == "kept"
    assert after.loc[("登记", "确认"), "case_share_change"] == pytest.approx(0.5)
    assert after.loc[("确认", "结单"), "wait_p50_change_hours"] == pytest.approx(0.0)
    back = compare_logs(b, a)
    gone = back.edges[back.edges.period == "after"].set_index(["source", "target"])
    assert gone.loc[("确认", "确认"), "status"] == "vanished"
    assert gone.loc[("确认", "确认"), "cases"] == 0
    assert gone.loc[("确认", "确认"), "case_share_change"] == pytest.approx(-1.0)
    assert "试点后" in cmp._repr_html_()


def test_compare_periods_by_month_assigns_cases_by_first_event():
    """A ticket opened 31 Oct and closed in Nov counts for October (its first event)."""
    df = _log(
        [
            ("1", "a", "2024-10-31 23:00"),
            ("1", "b", "2024-11-01 01:00"),
            ("2", "a", "2024-11-03 09:00"),
            ("2", "c", "2024-11-03 10:00"),
        ]
    )
    cmp = compare_periods(df, by="month")
    assert cmp.periods.period.tolist() == ["2024-10", "2024-11"]
    assert cmp.periods.cases.tolist() == [1, 1]
    nov = cmp.edges[cmp.edges.period == "2024-11"].set_index(["source", "target"])
    assert nov.status.to_dict() == {("a", "c"): "new", ("a", "b"): "vanished"}
    assert cmp.periods.median_case_duration_hours.tolist() == [2.0, 1.0]
    assert set(cmp.graphs) == {"2024-10", "2024-11"}


def test_compare_periods_by_column(tiny):
    """by=<column> groups tickets by the value on their first event."""
    df = tiny.assign(pilot=["前"] * 3 + ["后"] * 4 + ["前"])
    cmp = compare_periods(df, by="pilot")
    assert dict(zip(cmp.periods.period, cmp.periods.cases, strict=True)) == {"前": 2, "后": 1}


# ---------------------------------------------------------------------------- models


@pytest.mark.parametrize("algorithm", ["inductive", "heuristics"])
def test_discover_model_exports(tiny, tmp_path: Path, algorithm):
    """Both miners give a Petri net with markings and a BPMN, exportable to PNML/BPMN."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = discover_model(tiny, algorithm=algorithm, noise=0.0)
        assert {"登记", "确认", "结单"} <= set(model.to_frame().activity.dropna())
        pnml = model.save_pnml(tmp_path / "m.pnml")
        bpmn = model.save_bpmn(tmp_path / "m.bpmn")
    assert "<pnml" in pnml.read_text(encoding="utf-8")
    text = bpmn.read_text(encoding="utf-8")
    assert "definitions" in text
    # laid out by svcmining (no Graphviz): one shape per node, read back by pm4py
    assert text.count("<bpmndi:BPMNShape") == len(model.bpmn.get_nodes())
    assert text.count("<bpmndi:BPMNEdge") == len(model.bpmn.get_flows())
    import pm4py

    assert len(pm4py.read_bpmn(str(bpmn)).get_nodes()) == len(model.bpmn.get_nodes())
    assert "ProcessModel" in model._repr_html_()


# ---------------------------------------------------------------------------- real logs


def _pm4py_frame(events: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "case:concept:name": events["case_id"].astype(object),
            "concept:name": events["activity"].astype(object),
            "time:timestamp": events["timestamp"],
        }
    )


@pytest.mark.real_logs
@pytest.mark.parametrize(
    "rel",
    [
        "bpic2013_incidents/BPI_Challenge_2013_incidents.xes.gz",
        "helpdesk/helpdesk.xes.gz",
    ],
)
def test_real_logs_match_pm4py(real_logs, rel):
    """Edge/start/end counts and variants equal pm4py's; mean waits within 1e-6 relative."""
    import pm4py

    from svcmining import read_tickets

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        log = read_tickets(real_logs / rel)
    g = discover_dfg(log)
    df = _pm4py_frame(log.events)
    dfg, sa, ea = pm4py.discover_dfg(df.copy())
    perf, _, _ = pm4py.discover_performance_dfg(df.copy())
    ours = {(r.source, r.target): r for r in g.edges.itertuples()}
    assert {k: r.count for k, r in ours.items()} == dict(dfg)
    assert dict(zip(g.start_activities.activity, g.start_activities["count"], strict=True)) == sa
    assert dict(zip(g.end_activities.activity, g.end_activities["count"], strict=True)) == ea
    for k, r in ours.items():
        assert r.wait_mean_hours * 3600 == pytest.approx(perf[k]["mean"], rel=1e-6, abs=1e-6)
        assert r.wait_p50_hours * 3600 == pytest.approx(perf[k]["median"], rel=1e-6, abs=1e-6)
        assert r.wait_max_hours * 3600 == pytest.approx(perf[k]["max"], rel=1e-6, abs=1e-6)
    pv = pm4py.get_variants(df.copy())
    v = variants(log)
    assert dict(zip(v.sequence, v.cases, strict=True)) == {
        k: (len(x) if isinstance(x, list) else x) for k, x in pv.items()
    }


def test_compare_empty_log_and_column_order(tiny):
    """An empty log compares to an empty result with the usual columns, period first."""
    cmp = compare_periods(tiny.iloc[:0])
    assert len(cmp.periods) == 0
    full = compare_periods(tiny)
    assert cmp.edges.columns.tolist() == full.edges.columns.tolist()
    assert full.edges.columns.tolist()[:3] == ["period", "source", "target"]
    assert full.edges.columns.tolist()[-1] == "status"
    assert full.activities.columns.tolist()[:2] == ["period", "activity"]
    assert "0 periods" in cmp._repr_html_()


@pytest.mark.real_logs
@pytest.mark.slow
def test_real_lifecycle_waits_match_pm4py(real_logs):
    """BPIC 2012 with start/complete pairs: waits equal pm4py's start-aware performance DFG."""
    from pm4py.algo.discovery.dfg.adapters.pandas.df_statistics import get_dfg_graph

    from svcmining import read_tickets

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        log = read_tickets(real_logs / "bpic2012/BPI_Challenge_2012.xes.gz", lifecycle="pair")
    ev = log.events
    g = discover_dfg(log)
    assert g.lifecycle
    df = _pm4py_frame(ev).assign(start_timestamp=ev["start_timestamp"].fillna(ev["timestamp"]))
    perf = get_dfg_graph(
        df,
        measure="performance",
        start_timestamp_key="start_timestamp",
        timestamp_key="time:timestamp",
        sort_caseid_required=False,  # keep the canonical order (case, completion time)
        perf_aggregation_key="mean",
    )
    ours = dict(
        zip(zip(g.edges.source, g.edges.target, strict=True), g.edges.wait_mean_hours, strict=True)
    )
    assert set(ours) == set(perf)
    for k, v in perf.items():
        assert ours[k] * 3600 == pytest.approx(v, rel=1e-6, abs=1e-6)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.lists(st.sampled_from("ab"), min_size=1, max_size=12),
        min_size=1,
        max_size=12,
    )
)
def test_variants_exact_with_shared_prefixes(seqs):
    """Many cases sharing long prefixes: variant counts still equal a naive tuple count."""
    rows = []
    for c, seq in enumerate(seqs):
        rows += [(f"{c:03d}", a, f"2024-10-08 {9 + j:02d}:00") for j, a in enumerate(seq)]
    v = variants(_log(rows))
    assert dict(zip(v.sequence, v.cases, strict=True)) == dict(Counter(map(tuple, seqs)))
    assert v.cases.sum() == len(seqs)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from("abc"), st.integers(0, 300), st.integers(0, 300)),
        min_size=1,
        max_size=15,
    )
)
def test_lifecycle_waits_and_processing_never_negative(steps):
    """With arbitrary (even overlapping) start/complete pairs, waits and processing are >= 0."""
    t0 = pd.Timestamp("2024-10-08 09:00")
    rows = []
    for i, (a, offset, dur) in enumerate(steps):
        start = t0 + pd.Timedelta(minutes=offset)
        rows.append((f"{i % 3}", a, start + pd.Timedelta(minutes=dur), start))
    df = pd.DataFrame(rows, columns=["case_id", "activity", "timestamp", "start_timestamp"])
    for c in ("timestamp", "start_timestamp"):
        df[c] = df[c].dt.tz_localize(TZ)
    g = discover_dfg(df)
    assert (g.edges[["wait_mean_hours", "wait_p50_hours", "wait_max_hours"]] >= 0).all().all()
    assert (g.activities["processing_mean_hours"].dropna() >= 0).all()
    assert g.edges["count"].sum() == len(df) - df.case_id.nunique()


def test_calendar_plumbing_passes_tz_aware_series(tiny, monkeypatch):
    """With a calendar, duration_hours gets tz-aware Series in the log's zone and its hours are used."""
    import sys
    import types

    seen = {}

    def fake_duration_hours(start, end, calendar=None):
        seen["tz"] = str(start.dt.tz)
        seen["calendar"] = calendar
        return (end - start).dt.total_seconds() / 3600 / 2  # "half the elapsed time"

    fake = types.ModuleType("svcmining.calendars")
    fake.duration_hours = fake_duration_hours  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "svcmining.calendars", fake)
    g = discover_dfg(tiny, calendar="CAL")  # type: ignore[arg-type]
    assert seen == {"tz": TZ, "calendar": "CAL"}
    assert g.time_basis == "business"
    assert g.edges.set_index(["source", "target"]).loc[("确认", "结单"), "wait_mean_hours"] == 1.0
    v = variants(tiny, calendar="CAL")  # type: ignore[arg-type]
    assert v.median_case_duration_hours.tolist() == pytest.approx([0.0, 1.25, (2 + 1 / 6) / 2])
