"""Tests for svcmining.conformance: check_sop and compare_with_sop."""

from __future__ import annotations

import dataclasses
import random
import shutil
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from svcmining import _alignment, _automaton, conformance
from svcmining._alignment import _align, automaton_for
from svcmining.conformance import check_sop, compare_with_sop
from svcmining.exceptions import InvalidParameterError, SOPDefinitionError
from svcmining.sop import SOP, load_sop, sop_from_dict

REPO = Path(__file__).resolve().parents[1]
TZ = "Asia/Shanghai"

BASE = [
    ("投诉登记", "客服中心"),
    ("需求确认", "客服中心"),
    ("分类派单", "客服中心"),
    ("售后评估", "售后部"),
    ("远程排障", "技术支持部"),
    ("客户验收", "客服中心"),
    ("结单", "客服中心"),
    ("回访", "客服中心"),
]
CASES: dict[str, list[tuple[str, str]]] = {
    "ok": BASE,
    "skip": BASE[:1] + BASE[2:],
    "unk": [*BASE[:3], ("电话催办", "客服中心"), *BASE[3:]],
    "ooo": [*BASE[:3], BASE[4], BASE[3], *BASE[5:]],
    "dept": [*BASE[:3], ("售后评估", "客服中心"), *BASE[4:]],
    "both": [*BASE[:5], ("上门维修", "上门服务"), *BASE[5:]],
    "rep": [*BASE[:4], ("销售核实", "销售部"), ("售后评估", "售后部"), *BASE[4:]],
    "acc2": [*BASE[:6], ("客户验收", "客服中心"), *BASE[6:]],
    "reopen": [
        *BASE[:7],
        ("重新打开", "客服中心"),
        ("远程排障", "技术支持部"),
        ("远程排障", "技术支持部"),
        ("客户验收", "客服中心"),
        ("结单", "客服中心"),
        BASE[7],
    ],
}
# (type, step, position) per case, hand-derived from the SOP
EXPECTED = {
    "ok": [],
    "skip": [("skipped_step", "confirm", 1)],
    "unk": [("unknown_activity", None, 3)],
    "ooo": [("out_of_order", "remote", 3)],
    "dept": [("wrong_department", "assess", 3)],
    "both": [("inserted_step", "onsite", 5)],
    "rep": [("repeated_step", "assess", 5)],
    "acc2": [("repeated_step", "accept", 6)],
    "reopen": [],
}
# fitness = 1 - deviating moves / (trace length + 8 visible steps of the shortest SOP run)
FITNESS = {
    "ok": 1.0,
    "skip": 1 - 1 / 15,
    "unk": 1 - 1 / 17,
    "ooo": 1 - 2 / 16,
    "dept": 1.0,
    "both": 1 - 1 / 17,
    "rep": 1 - 1 / 18,
    "acc2": 1 - 1 / 17,
    "reopen": 1.0,
}


def make_log(cases: dict[str, list[tuple[str, str]]], step: str = "30min") -> pd.DataFrame:
    """Events 30 minutes apart from Mon 2024-11-04 09:00, priority 普通."""
    rows = []
    for cid, evs in cases.items():
        t = pd.Timestamp("2024-11-04 09:00", tz=TZ)
        for act, dep in evs:
            rows.append((cid, act, t, dep, "普通"))
            t += pd.Timedelta(step)
    return pd.DataFrame(
        rows, columns=["case_id", "activity", "timestamp", "department", "priority"]
    )


@pytest.fixture(scope="module")
def sop() -> SOP:
    """The complaint SOP without SLAs (flow and department checks only)."""
    full = load_sop(REPO / "sample_logs" / "sop_complaint.yaml")
    return dataclasses.replace(full, slas=())


@pytest.fixture(scope="module")
def res(sop: SOP) -> conformance.ConformanceResult:
    """check_sop on the hand-made cases."""
    return check_sop(make_log(CASES), sop)


@pytest.mark.parametrize("case", list(CASES))
def test_each_deviation_type_hand_computed(res: conformance.ConformanceResult, case: str) -> None:
    """Every deviation type is found exactly where it was put, and nothing else."""
    d = res.deviations[res.deviations["case_id"] == case]
    got = [
        (t, None if pd.isna(s) else s, int(p))
        for t, s, p in zip(d["type"], d["step"], d["position"], strict=True)
    ]
    assert got == EXPECTED[case]


@pytest.mark.parametrize("case", list(CASES))
def test_fitness_hand_computed(res: conformance.ConformanceResult, case: str) -> None:
    """Per-case fitness = 1 - deviating moves / (len(trace) + best-worst cost)."""
    row = res.cases.set_index("case_id").loc[case]
    assert row["fitness"] == pytest.approx(FITNESS[case], abs=1e-12)
    assert row["conforming"] == (EXPECTED[case] == [])
    assert row["method"] == "alignments"


def test_summary_metrics(res: conformance.ConformanceResult) -> None:
    """Summary: conformance rate = conforming share, deviation rate its complement."""
    assert res.metric("cases") == 9
    assert res.metric("conformance_rate") == pytest.approx(2 / 9)
    assert res.metric("deviation_rate") == pytest.approx(7 / 9)
    # flow conforming: fitness 1 and no unknown activity (ok, dept, reopen)
    assert res.metric("flow_conformance_rate") == pytest.approx(3 / 9)
    assert np.isnan(res.metric("sla_attainment"))
    assert set(res.deviations["type"]) <= set(conformance.DEVIATION_TYPES)


def test_deviation_rows_carry_time_and_department(res: conformance.ConformanceResult) -> None:
    """A deviation row has the event's time and department (the 4th event of 'dept')."""
    d = res.deviations[res.deviations["type"] == "wrong_department"].iloc[0]
    assert d["at"] == pd.Timestamp("2024-11-04 10:30", tz=TZ)
    assert d["department"] == "客服中心"
    assert d["detail"] == "done by 客服中心, owned by 售后部"
    skip = res.deviations[res.deviations["type"] == "skipped_step"].iloc[0]
    assert skip["at"] == pd.Timestamp("2024-11-04 09:30", tz=TZ)  # where it was due


def test_step_table_counts(res: conformance.ConformanceResult) -> None:
    """Per-step table: deviations by type and the share of cases with a deviation there."""
    t = res.steps.set_index("step")
    assert t.loc["assess", "wrong_department"] == 1
    assert t.loc["assess", "repeated_step"] == 1
    assert t.loc["assess", "cases_with_deviation"] == 2
    assert t.loc["assess", "deviation_rate"] == pytest.approx(2 / 9)
    assert t.loc["confirm", "skipped_step"] == 1
    assert t.loc["register", "cases_with_step"] == 9


def test_step_tables_show_display_names(res: conformance.ConformanceResult, sop: SOP) -> None:
    """The per-step table carries each step's display name beside its id; tables for a
    reader show the name in the report's language and keep the id in ``step_id``."""
    from svcmining._sopcheck import with_step_names

    assert list(res.steps.columns[:3]) == ["step", "step_name", "label"]
    t = res.steps.set_index("step")
    assert t.loc["register", "step_name"] == "register the complaint / request"
    assert t.loc["quality", "label"] == "质量抽检"
    zh = with_step_names(res.steps, sop, "zh")
    assert list(zh.columns[:3]) == ["step", "step_id", "label"]
    assert zh["step"].tolist() == [st.label for st in sop.steps]
    assert zh["step_id"].tolist() == sop.step_ids
    en = with_step_names(res.steps, sop, "en")
    assert en["step"].iloc[4] == "after-sales assessment (before any execution)"
    dev = with_step_names(res.deviations, sop, "zh").set_index("case_id")
    assert (dev.loc["skip", "step"], dev.loc["skip", "step_id"]) == ("需求确认", "confirm")
    assert pd.isna(dev.loc["unk", "step"]) and pd.isna(dev.loc["unk", "step_id"])


def test_sop_drawing_words_follow_lang(
    res: conformance.ConformanceResult, monkeypatch: pytest.MonkeyPatch
) -> None:
    """lang='zh' writes the drawing's own words (legend, "not in SOP") in Chinese."""
    import matplotlib.pyplot as plt

    from svcmining import _processmap as plots

    assert '"电话催办\\n（不在 SOP 中） 1"' in res.comparison.to_dot(lang="zh")
    monkeypatch.setattr(plots, "graphviz_available", lambda: False)
    fig = res.plot(lang="zh")
    texts = {t.get_text() for t in fig.axes[0].texts}
    assert "（不在 SOP 中） 1" in texts and "(not in SOP) 1" not in texts
    assert res.comparison._map_spec(0.0, "zh").legend.startswith("黑色：走过的 SOP 流转")
    plt.close(fig)


def test_unknown_activity_is_never_ignored(sop: SOP) -> None:
    """A conforming trace plus 5 foreign events: pm4py token replay says 1.0, we do not."""
    import pm4py

    junk = [*BASE, *[(f"乱码{i}", "客服中心") for i in range(5)]]
    log = make_log({"g": junk})
    r = check_sop(log, sop)
    assert r.cases["fitness"].item() == pytest.approx(1 - 5 / (13 + 8))
    assert (r.deviations["type"] == "unknown_activity").sum() == 5
    r_tr = check_sop(log, sop, method="token_replay")
    assert r_tr.cases["fitness"].item() < 1.0
    net, im, fm = sop.petri_net()
    pm = pm4py.fitness_token_based_replay(_pm4py_frame(log), net, im, fm)
    assert pm["log_fitness"] == 1.0  # what we protect users from


def _pm4py_frame(log: pd.DataFrame) -> pd.DataFrame:
    return log.rename(
        columns={
            "case_id": "case:concept:name",
            "activity": "concept:name",
            "timestamp": "time:timestamp",
        }
    )


def _random_traces(labels: list[str], n: int, seed: int) -> list[list[str]]:
    base = [a for a, _ in BASE]
    alts = [
        base,
        [*base[:3], "销售核实", *base[3:]],
        [*base[:4], "主管审批", "上门维修", *base[5:]],
        [*base[:7], "重新打开", "远程排障", "远程排障", "客户验收", "结单", "回访", "质量抽检"],
    ]
    rnd = random.Random(seed)
    out = []
    for _ in range(n):
        tr = list(rnd.choice(alts))
        for _ in range(rnd.randint(0, 3)):
            op = rnd.random()
            k = rnd.randrange(len(tr))
            if op < 0.35:
                del tr[k]
            elif op < 0.7:
                tr.insert(k, rnd.choice(labels))
            else:
                j = rnd.randrange(len(tr))
                tr[j], tr[k] = tr[k], tr[j]
        out.append(tr)
    return out


def test_alignment_costs_equal_pm4py(sop: SOP) -> None:
    """Our optimal alignment cost equals pm4py's A* cost on the same net, trace by trace."""
    from pm4py.algo.conformance.alignments.petri_net import algorithm as ali
    from pm4py.objects.log.obj import Event, Trace

    auto = automaton_for(sop)
    net, im, fm = sop.petri_net()
    for tr in _random_traces([*auto.labels, "电话催办"], 80, seed=7):
        seq = tuple(auto.labels.index(a) if a in auto.labels else -1 for a in tr)
        cost, moves = _align(auto, seq)
        ref = ali.apply_trace(Trace([Event({"concept:name": a}) for a in tr]), net, im, fm)
        assert cost == ref["cost"], tr
        # the moves replay the trace: every log position appears exactly once
        assert sorted(p for p, _ in moves if p >= 0) == list(range(len(tr)))


def _random_log(n: int, seed: int, unknown: bool = False) -> pd.DataFrame:
    labels = [a for a, _ in BASE] + ["销售核实", "主管审批", "上门维修", "重新打开", "质量抽检"]
    if unknown:
        labels.append("电话催办")
    dept = dict(BASE)
    cases = {
        f"T{i:04d}": [(a, dept.get(a, "售后部")) for a in tr]
        for i, tr in enumerate(_random_traces(labels, n, seed))
        if tr
    }
    return make_log(cases)


def test_log_fitness_and_precision_equal_pm4py(sop: SOP) -> None:
    """log fitness == pm4py.fitness_alignments, precision == pm4py.precision_alignments."""
    import pm4py

    log = _random_log(120, seed=11)
    r = check_sop(log, sop)
    net, im, fm = sop.petri_net()
    df = _pm4py_frame(log)
    fit = pm4py.fitness_alignments(df, net, im, fm, multi_processing=False)
    assert r.metric("log_fitness") == pytest.approx(fit["log_fitness"], abs=1e-12)
    assert r.metric("average_trace_fitness") == pytest.approx(
        fit["average_trace_fitness"], abs=1e-12
    )
    prec = pm4py.precision_alignments(df, net, im, fm, multi_processing=False)
    assert r.metric("precision") == pytest.approx(prec, abs=1e-12)


def test_workers_do_not_change_results(sop: SOP, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two processes over small chunks give exactly the one-process result."""
    log = _random_log(150, seed=3, unknown=True)
    one = check_sop(log, sop, workers=1, precision=False)
    monkeypatch.setattr(_alignment, "_PARALLEL_MIN_VARIANTS", 1)
    monkeypatch.setattr(_alignment, "_CHUNK", 7)
    two = check_sop(log, sop, workers=2, precision=False)
    pd.testing.assert_frame_equal(one.cases, two.cases)
    pd.testing.assert_frame_equal(one.deviations, two.deviations)


def test_time_box_falls_back_to_token_replay(sop: SOP) -> None:
    """max_seconds=0: every variant is token-replayed and the method column says so."""
    r = check_sop(make_log(CASES), sop, max_seconds=0)
    assert set(r.cases["method"]) == {"token_replay"}
    assert r.metric("cases_token_replay") == 9
    by = r.cases.set_index("case_id")
    assert by.loc["ok", "fitness"] == 1.0
    assert by.loc["ok", "conforming"]
    assert "not_fitting" in by.loc["skip", "deviation_types"]
    assert "unknown_activity" in by.loc["unk", "deviation_types"]
    assert by.loc["dept", "deviation_types"] == "wrong_department"


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(seed=st.integers(0, 10_000))
def test_shuffle_and_rename_change_nothing(sop: SOP, seed: int) -> None:
    """Shuffling rows and renaming cases leaves every per-case result unchanged."""
    log = make_log(CASES)
    r1 = check_sop(log, sop, precision=False)
    rnd = np.random.default_rng(seed)
    names = {c: f"X{rnd.integers(1e9)}-{c}" for c in CASES}
    shuffled = log.sample(frac=1.0, random_state=seed).assign(
        case_id=lambda d: d["case_id"].map(names)
    )
    r2 = check_sop(shuffled, sop, precision=False)
    back = {v: k for k, v in names.items()}
    c2 = r2.cases.assign(case_id=r2.cases["case_id"].map(back)).set_index("case_id")
    c1 = r1.cases.set_index("case_id")
    cols = ["fitness", "n_deviations", "deviation_types", "conforming"]
    pd.testing.assert_frame_equal(c1.loc[sorted(c1.index), cols], c2.loc[sorted(c1.index), cols])
    assert (r2.cases["fitness"].between(0, 1)).all()


def test_input_is_not_modified(sop: SOP) -> None:
    """check_sop never mutates the caller's frame."""
    log = make_log(CASES)
    before = log.copy()
    check_sop(log, sop, precision=False)
    pd.testing.assert_frame_equal(log, before)


# ---- SLAs ---------------------------------------------------------------------
SLA_SOP = {
    "steps": ["a", "b", "c"],
    "slas": [
        {"id": "ab", "from": "a", "to": "b", "within": "2h", "hours": "elapsed"},
        {"id": "bc", "from": "b", "to": "c", "between": ["24h", "48h"], "hours": "elapsed"},
        {"id": "ac", "from": "a", "to": "c", "by_priority": {"P1": "1h"}, "within": "100h",
         "hours": "elapsed"},
    ],
}  # fmt: skip


def _timed(rows: list[tuple[str, str, str, str]]) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=["case_id", "activity", "timestamp", "priority"])
    df["timestamp"] = pd.to_datetime(df["timestamp"]).dt.tz_localize(TZ)
    return df


def test_sla_met_breached_early_and_censored() -> None:
    """Within / between / per-priority limits; a target never done is censored until due."""
    s = sop_from_dict(SLA_SOP)
    log = _timed(
        [
            ("c1", "a", "2024-11-04 09:00", "P1"),
            ("c1", "b", "2024-11-04 10:00", "P1"),
            ("c1", "c", "2024-11-05 15:00", "P1"),  # 29 h after b, 30 h after a
            ("c2", "a", "2024-11-04 09:00", "P2"),
            ("c2", "b", "2024-11-04 12:00", "P2"),  # 3 h > 2 h
            ("c2", "c", "2024-11-05 08:00", "P2"),  # 20 h < 24 h: too early
            ("c3", "a", "2024-11-06 09:00", "P2"),
            ("c3", "b", "2024-11-06 10:00", "P2"),  # open: no c yet
            ("c4", "a", "2024-11-01 09:00", "P2"),
            ("c4", "b", "2024-11-01 10:00", "P2"),  # open: no c, 48 h long past
        ]
    )
    r = check_sop(log, s, cutoff="2024-11-07 09:00", precision=False)
    st_ = r.slas.set_index(["case_id", "sla"])["status"].to_dict()
    assert st_ == {
        ("c1", "ab"): "met",
        ("c1", "ac"): "breached",  # P1: 30 h > 1 h
        ("c1", "bc"): "met",
        ("c2", "ab"): "breached",
        ("c2", "ac"): "met",  # P2 default 100 h
        ("c2", "bc"): "breached",
        ("c3", "ab"): "met",
        ("c3", "ac"): "censored",  # 24 h so far < 100 h
        ("c3", "bc"): "censored",  # 23 h so far < 48 h
        ("c4", "ab"): "met",
        ("c4", "ac"): "breached",  # 144 h so far > 100 h
        ("c4", "bc"): "breached",
    }
    actual = r.slas.set_index(["case_id", "sla"])["actual_hours"]
    assert actual[("c1", "ac")] == 30.0
    assert actual[("c2", "bc")] == 20.0
    assert np.isnan(actual[("c3", "bc")])
    br = r.deviations[r.deviations["type"] == "sla_breach"]
    row = br[(br["case_id"] == "c2") & (br["sla"] == "ab")].iloc[0]
    assert (row["limit_hours"], row["actual_hours"], row["step"]) == (2.0, 3.0, "b")
    att = r.sla_attainment.set_index(["sla", "priority"])
    assert att.loc[("ac", "all"), "met"] == 1
    assert att.loc[("ac", "all"), "breached"] == 2
    assert att.loc[("ac", "all"), "censored"] == 1
    assert att.loc[("ac", "P1"), "attainment"] == 0.0
    assert r.metric("sla_attainment") == pytest.approx(5 / 10)
    assert r.cases.set_index("case_id").loc["c2", "sla_breaches"] == "ab;bc"


def test_sla_from_last_close_before_follow_up() -> None:
    """The clock starts at the last 'from' before the target (e.g. the last close)."""
    s = sop_from_dict(
        {
            "steps": ["x", {"id": "close", "repeatable": True}, "fu"],
            "slas": [{"id": "fu", "from": "close", "to": "fu", "within": "48h",
                      "hours": "elapsed"}],
        }
    )  # fmt: skip
    log = _timed(
        [
            ("k", "x", "2024-11-01 09:00", "P"),
            ("k", "close", "2024-11-01 10:00", "P"),
            ("k", "close", "2024-11-04 10:00", "P"),
            ("k", "fu", "2024-11-05 10:00", "P"),
        ]
    )
    r = check_sop(log, s, precision=False)
    row = r.slas.iloc[0]
    assert (row["status"], row["actual_hours"]) == ("met", 24.0)


def test_sla_in_business_hours_with_the_sop_calendar() -> None:
    """Register Fri 17:00, assign Mon 10:30 = 2.5 business hours > 2 h: breached."""
    pytest.importorskip("svcmining.calendars")
    full = load_sop(REPO / "sample_logs" / "sop_complaint.yaml")
    log = pd.DataFrame(
        {
            "case_id": ["1001", "1001", "1002", "1002"],
            "activity": ["投诉登记", "分类派单", "投诉登记", "分类派单"],
            "timestamp": pd.to_datetime(
                ["2024-11-08 17:00", "2024-11-11 10:30", "2024-09-30 17:30", "2024-10-08 10:00"]
            ).tz_localize(TZ),
            "priority": ["普通", "普通", "普通", "普通"],
        }
    )
    r = check_sop(log, full, precision=False)
    a = r.slas[r.slas["sla"] == "assign_within_2h"].set_index("case_id")
    assert a.loc["1001", "actual_hours"] == pytest.approx(2.5)
    assert a.loc["1001", "status"] == "breached"
    # Mon 30 Sep 17:30 -> Tue 8 Oct 10:00 across the National Day holiday: 0.5 + 1 = 1.5 h
    assert a.loc["1002", "actual_hours"] == pytest.approx(1.5)
    assert a.loc["1002", "status"] == "met"


# ---- compare_with_sop ------------------------------------------------------------
def test_compare_with_sop_edges(sop: SOP) -> None:
    """Extra flows with counts, conforming flows, unused SOP paths; unknown nodes listed."""
    cmp = compare_with_sop(make_log(CASES), sop)
    e = cmp.edges.set_index(["source", "target"])
    assert e.loc[("投诉登记", "需求确认"), "status"] == "conforming"
    assert e.loc[("投诉登记", "需求确认"), "count"] == 8
    assert e.loc[("投诉登记", "分类派单"), "status"] == "extra"  # the skipped confirm
    assert e.loc[("分类派单", "电话催办"), "status"] == "extra"
    assert e.loc[("主管审批", "上门维修"), "status"] == "unused"
    assert e.loc[("[start]", "投诉登记"), "cases"] == 9
    assert e.loc[("结单", "重新打开"), "status"] == "conforming"
    assert e.loc[("投诉登记", "需求确认"), "mean_hours"] == 0.5
    nodes = cmp.nodes.set_index("activity")
    assert pd.isna(nodes.loc["电话催办", "step_id"])
    assert set(cmp.extra["status"]) == {"extra"}
    rare = compare_with_sop(make_log(CASES), sop, rare=0.5).edges.set_index(["source", "target"])
    assert rare.loc[("结单", "重新打开"), "status"] == "rare"


def test_plot_draws_the_sop_without_graphviz(
    res: conformance.ConformanceResult, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without dot, plot() draws the overlay with the built-in layout: same marks as to_dot."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

    from svcmining import _processmap as plots

    monkeypatch.setattr(plots, "graphviz_available", lambda: False)
    fig = res.plot()
    assert isinstance(fig, matplotlib.figure.Figure)
    ax = fig.axes[0]
    texts = {t.get_text() for t in ax.texts}
    assert {"投诉登记", "质量抽检", "电话催办", "(not in SOP) 1", "10"} <= texts
    arrows = [p for p in ax.patches if isinstance(p, FancyArrowPatch)]
    colours = [matplotlib.colors.to_hex(p.get_edgecolor()) for p in arrows]
    n = res.comparison.edges["status"].value_counts()
    assert colours.count("#d62728") == n["extra"] == 9  # red: flows not in the SOP
    assert colours.count("#b3b3b3") == n["unused"] == 8  # grey: SOP flows never taken
    assert sum(p.get_linestyle() == "--" for p in arrows) == 8  # ... and dashed
    assert colours.count("#222222") == n["conforming"] == 14
    boxes = [p for p in ax.patches if isinstance(p, FancyBboxPatch)]
    assert sum(p.get_linestyle() == "--" for p in boxes) == 1  # 电话催办, not in the SOP
    assert len(boxes) == 14
    # the SOP's own flows set the layers: steps in SOP order top to bottom
    spec = res.comparison._map_spec(0.0)
    lay = plots._map_geometry(spec).layout
    y = {a: lay.center[a][1] for a in ("投诉登记", "需求确认", "分类派单", "客户验收", "结单")}
    assert y["投诉登记"] > y["需求确认"] > y["分类派单"] > y["客户验收"] > y["结单"]
    # min_share hides the rare extra flows
    lean = res.comparison._map_spec(0.5)
    assert not [e for e in lean.edges if e.color == "#d62728"]
    plt.close(ax.figure)
    fig, given = plt.subplots()
    assert res.comparison.plot(ax=given) is given.figure
    plt.close(fig)


def test_plot_draws_the_sop(res: conformance.ConformanceResult) -> None:
    """plot() returns a matplotlib Figure with the rendered graph (Graphviz engine)."""
    if shutil.which("dot") is None:
        pytest.skip("Graphviz 'dot' not installed")
    import matplotlib.pyplot as plt

    fig = res.plot()
    assert len(fig.axes[0].images) == 1
    plt.close(fig)
    dot = res.comparison.to_dot()
    assert '"分类派单" -> "电话催办" [color=red' in dot
    assert "<table" in res._repr_html_()


PARAM_ERRORS = [
    ({"method": "fast"}, "The 'method' parameter of check_sop must be one of"),
    ({"max_seconds": -1}, "The 'max_seconds' parameter of check_sop"),
    ({"workers": 0}, "The 'workers' parameter of check_sop"),
]


@pytest.mark.parametrize(("kwargs", "match"), PARAM_ERRORS)
def test_invalid_options(sop: SOP, kwargs: dict, match: str) -> None:
    """Bad option values raise InvalidParameterError with a scikit-learn style message."""
    with pytest.raises(InvalidParameterError, match=match):
        check_sop(make_log(CASES), sop, **kwargs)


def test_sop_may_be_a_path() -> None:
    """check_sop accepts the SOP file path directly; a wrong type is rejected."""
    r = check_sop(make_log({"ok": BASE}), REPO / "sample_logs" / "sop_complaint.yaml",
                  precision=False)  # fmt: skip
    assert r.metric("cases") == 1
    with pytest.raises(InvalidParameterError, match="'sop' parameter"):
        check_sop(make_log({"ok": BASE}), 42)  # type: ignore[arg-type]


# ---- real logs -----------------------------------------------------------------
@pytest.mark.real_logs
def test_bpic2013_incidents(real_logs: Path) -> None:
    """BPIC 2013 incidents against its SOP: all cases aligned, Unmatched flagged, fitness
    equals pm4py's on a sample of cases."""
    import pm4py

    from svcmining import read_tickets

    log = read_tickets(real_logs / "bpic2013_incidents" / "BPI_Challenge_2013_incidents.xes.gz")
    sop = load_sop(REPO / "sample_logs" / "sop_bpic2013_incidents.yaml")
    r = check_sop(log, sop)
    assert r.metric("cases") == 7554
    ev = log.events
    n_var = ev.groupby("case_id", sort=False)["activity"].agg(tuple).nunique()
    assert r.metric("variants") == n_var
    assert r.metric("cases_aligned") == 7554
    assert (r.deviations["type"] == "unknown_activity").sum() == 5  # Unmatched
    assert 0.9 < r.metric("log_fitness") < 1.0
    assert 0.0 < r.metric("precision") <= 1.0
    # fitness equals pm4py's on 150 cases without unknown activities
    ids = sorted(set(ev["case_id"]) - set(ev.loc[ev["activity"] == "Unmatched", "case_id"]))[:150]
    sub = ev[ev["case_id"].isin(ids)][["case_id", "activity", "timestamp"]]
    r_sub = check_sop(sub, sop, precision=False)
    net, im, fm = sop.petri_net()
    fit = pm4py.fitness_alignments(_pm4py_frame(sub), net, im, fm, multi_processing=False)
    assert r_sub.metric("log_fitness") == pytest.approx(fit["log_fitness"], abs=1e-12)


def test_huge_state_space_falls_back_to_pm4py(sop: SOP, monkeypatch: pytest.MonkeyPatch) -> None:
    """Nets too large for the reachability graph use pm4py's A*: same fitness and types."""
    fast = check_sop(make_log(CASES), sop, precision=False)
    big = dataclasses.replace(sop)  # a fresh SOP object: no cached automaton
    monkeypatch.setattr(_automaton, "MAX_STATES", 3)
    slow = check_sop(make_log(CASES), big, precision=False)
    pd.testing.assert_series_equal(fast.cases["fitness"], slow.cases["fitness"])
    assert fast.metric("log_fitness") == pytest.approx(slow.metric("log_fitness"), abs=1e-12)
    assert sorted(fast.deviations["type"]) == sorted(slow.deviations["type"])
    assert set(slow.comparison.edges["status"]) == {"not_checked"}
    with pytest.raises(SOPDefinitionError, match="too many states"):
        compare_with_sop(make_log(CASES), big)


# ---- the generated sample exports vs their ground truth -----------------------------
@pytest.mark.slow
def test_sample_logs_deviations_match_truth(sample_dir: Path) -> None:
    """Every injected/implied deviation in sample_logs/truth is found, and nothing else
    (recall and precision 1 per type, on (case, type) pairs)."""
    truth_file = sample_dir / "truth" / "deviations.csv"
    if not truth_file.is_file() or not any(sample_dir.glob("*.csv")):
        pytest.skip("sample_logs/truth/deviations.csv not generated yet (svcmining.datasets)")
    from svcmining import read_tickets

    log = read_tickets(sample_dir, timezone=TZ, dedupe="all")  # the true log of the truth
    res = check_sop(log, sample_dir / "sop_complaint.yaml", precision=False)
    truth = pd.read_csv(truth_file, dtype=str, keep_default_na=False)
    got = res.deviations
    problems = []
    for kind in sorted(set(truth["type"]) | set(got["type"])):
        t = set(truth.loc[truth["type"] == kind, "case_id"])
        g = set(got.loc[got["type"] == kind, "case_id"])
        if t != g:
            problems.append(
                f"{kind}: missed {len(t - g)} e.g. {sorted(t - g)[:5]}, "
                f"extra {len(g - t)} e.g. {sorted(g - t)[:5]}"
            )
    assert not problems, "\n".join(problems)
    # SLA breaches per case equal the truth's cases.sla_breaches
    cases = pd.read_csv(sample_dir / "truth" / "cases.csv", dtype=str, keep_default_na=False)
    mine = res.cases.set_index("case_id")["sla_breaches"]
    theirs = cases.set_index("case_id")["sla_breaches"].reindex(mine.index)
    differ = mine[mine != theirs]
    assert differ.empty, differ.head()
    # open tickets: the same ones, and their unreached steps are pending, not skipped
    open_truth = set(cases.loc[cases["open_at_cutoff"] == "True", "case_id"])
    assert set(res.cases.loc[res.cases["open_at_cutoff"], "case_id"]) == open_truth


def test_compare_with_a_discovered_graph(sop: SOP) -> None:
    """compare_with_sop(discover_dfg(log)) gives the same flows, counts and statuses."""
    discovery = pytest.importorskip("svcmining.discovery")
    log = make_log(CASES)
    from_log = compare_with_sop(log, sop).edges
    from_graph = compare_with_sop(discovery.discover_dfg(log), sop).edges
    cols = ["source", "target", "status", "count", "cases"]
    key = ["source", "target"]
    a = from_log[cols].sort_values(key, ignore_index=True)
    b = from_graph[cols].sort_values(key, ignore_index=True)
    pd.testing.assert_frame_equal(a, b, check_dtype=False)
    m = from_log.merge(from_graph, on=key)
    np.testing.assert_allclose(m["mean_hours_x"], m["mean_hours_y"], equal_nan=True)


def test_unreached_steps_of_open_tickets_are_pending() -> None:
    """Open tickets and a follow-up not yet due are pending; an overdue one is skipped."""
    full = load_sop(REPO / "sample_logs" / "sop_complaint.yaml")
    rows = []
    cases = {
        "open": (BASE[:4], "2024-12-30 09:00"),  # no 结单 yet
        "fresh": (BASE[:7], "2024-12-30 09:00"),  # closed 12:00, follow-up due until +48 h
        "old": (BASE[:7], "2024-12-20 09:00"),  # closed 10 days before the cutoff
    }
    for cid, (evs, start) in cases.items():
        t = pd.Timestamp(start, tz=TZ)
        for act, dep in evs:
            rows.append((cid, act, t, dep, "普通"))
            t += pd.Timedelta("30min")
    log = pd.DataFrame(rows, columns=["case_id", "activity", "timestamp", "department", "priority"])
    r = check_sop(log, full, cutoff="2024-12-31 23:59", precision=False)
    c = r.cases.set_index("case_id")
    assert c.loc["open", "open_at_cutoff"]
    assert not c.loc["fresh", "open_at_cutoff"]
    assert c.loc["open", "pending_steps"] == "onsite;accept;close;follow_up"
    assert c.loc["fresh", "pending_steps"] == "follow_up"
    assert c.loc["old", "pending_steps"] == ""
    skipped = r.deviations[r.deviations["type"] == "skipped_step"]
    assert skipped["case_id"].tolist() == ["old"]
    assert skipped["step"].tolist() == ["follow_up"]
    assert c.loc["open", "conforming"]
    assert c.loc["old", "sla_breaches"] == "follow_up_24_48h"
    assert c.loc["fresh", "sla_breaches"] == ""


def test_to_dot_min_share_hides_rare_extra_flows(res: conformance.ConformanceResult) -> None:
    """min_share drops extra flows below the share of tickets, keeps the SOP's own flows."""
    full = res.comparison.to_dot()
    lean = res.comparison.to_dot(min_share=0.5)
    assert '"分类派单" -> "电话催办"' in full
    assert '"分类派单" -> "电话催办"' not in lean
    assert '"投诉登记" -> "需求确认"' in lean
    assert '"主管审批" -> "上门维修" [color=gray70, style=dashed]' in lean
