"""One definition of "hours lost": every section that shows the hours lost of a thing shows
the same number (pain points, handoff pairs, rework, SLAs), and an independent plain-pandas
computation of the definition agrees (svcmining/_hourslost.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import svcmining as svc
from svcmining._glossary import ENTRIES, GROUPS, glossary, glossary_html
from svcmining._hourslost import hours_beyond, peer_targets
from svcmining.rework import REWORK_KINDS
from svcmining.sop import sop_from_dict

TZ = "Asia/Shanghai"

# Tue 8 Oct 2024; (case, activity, time, department, resource)
ROWS = [
    ("T1", "登记", "09:00", "客服中心", "r1"),
    ("T1", "核实", "10:00", "销售部", "r2"),  # 客服→销售 1 h into 核实
    ("T1", "评估", "17:00", "售后部", "r3"),  # 销售→售后 7 h into 评估
    ("T1", "结单", "18:00", "客服中心", "r1"),  # 售后→客服 1 h
    ("T2", "登记", "09:00", "客服中心", "r1"),
    ("T2", "评估", "11:00", "售后部", "r3"),  # 客服→售后 2 h into 评估
    ("T2", "结单", "12:00", "客服中心", "r1"),  # 售后→客服 1 h
    ("T3", "登记", "09:00", "客服中心", "r1"),
    ("T3", "评估", "12:00", "售后部", "r3"),  # 客服→售后 3 h into 评估
    ("T3", "核实", "13:00", "销售部", "r2"),  # 售后→销售 1 h into 核实
    ("T3", "评估", "15:00", "售后部", "r3"),  # 销售→售后 2 h; ping-pong 售后→销售→售后
    ("T3", "结单", "16:00", "客服中心", "r1"),  # 售后→客服 1 h
]

SOP = {
    "name": "tiny",
    "steps": [
        {"id": "register", "labels": ["登记"], "department": "客服中心"},
        {"id": "check", "labels": ["核实"], "department": "销售部", "optional": True},
        {"id": "assess", "labels": ["评估"], "department": "售后部"},
        {"id": "close", "labels": ["结单"], "department": "客服中心"},
    ],
    "flow": ["register", "check", "assess", "close"],
    "close": "close",
    "slas": [{"id": "assess_within_2h", "from": "register", "to": "assess", "within": "2h"}],
}


def tiny() -> pd.DataFrame:
    df = pd.DataFrame(ROWS, columns=["case_id", "activity", "time", "department", "resource"])
    df["timestamp"] = pd.to_datetime("2024-10-08 " + df.pop("time")).dt.tz_localize(TZ)
    return df


def plain_handoffs(events: pd.DataFrame) -> pd.DataFrame:
    """The completed handoffs and their hours lost, by the definition, in plain pandas.

    A handoff: consecutive events of a ticket in different departments; its delay in
    elapsed hours; its target: the median delay of the handoffs into the same activity
    from the other departments (all of them when no other department hands over into it).
    """
    ev = events.reset_index(drop=True)
    nxt = ev.groupby("case_id", sort=False)[["department", "activity", "timestamp"]].shift(-1)
    ho = pd.DataFrame(
        {
            "case_id": ev["case_id"].astype(str),
            "from_group": ev["department"],
            "to_group": nxt["department"],
            "to_activity": nxt["activity"],
            "delay": (nxt["timestamp"] - ev["timestamp"]).dt.total_seconds() / 3600,
        }
    )
    ho = ho[ho["to_group"].notna() & (ho["to_group"] != ho["from_group"])].copy()
    targets = {}
    for act, giver in set(zip(ho["to_activity"], ho["from_group"], strict=True)):
        into = ho[ho["to_activity"] == act]
        others = into[into["from_group"] != giver]
        targets[act, giver] = float((others if len(others) else into)["delay"].median())
    ho["target"] = [targets[k] for k in zip(ho["to_activity"], ho["from_group"], strict=True)]
    ho["lost"] = (ho["delay"] - ho["target"]).clip(lower=0)
    return ho


# ------------------------------------------------------------------ the rule itself


def test_hours_beyond_is_the_excess_or_zero():
    """hours_beyond: actual - target when positive, else 0; missing values lose nothing."""
    got = hours_beyond([3.0, 1.0, np.nan, 2.0 + 1e-9], [1.0, 2.0, 1.0, 2.0])
    assert got.tolist() == [2.0, 0.0, 0.0, 0.0]


def test_peer_targets_use_the_other_givers_median():
    """The target of a handoff is the other givers' median into the same step; a
    benchmark replaces it; pending rows are left out of the medians."""
    hand = pd.DataFrame(
        {
            "from_group": ["A", "A", "B", "C", "A"],
            "to_activity": ["x", "x", "x", "y", None],
            "delay_hours": [10.0, 2.0, 4.0, 6.0, 50.0],
            "pending": [False, False, False, False, True],
        }
    )
    # A into x: B's 4; B into x: A's median 6; C into y: its own 6; pending: all 5 of 4
    assert peer_targets(hand).tolist() == [4.0, 4.0, 6.0, 6.0, 5.0]
    assert peer_targets(hand, 0.5).tolist() == [0.5] * 5


# ------------------------------------------------------------------ tiny fixture


@pytest.fixture(scope="module")
def tiny_results():
    sop = sop_from_dict(SOP)
    log = tiny()
    rw = svc.find_rework(log, sop=sop)
    ho = svc.handoff_delays(log, sop=sop)
    cr = svc.check_sop(log, sop)
    pp = svc.pain_points(log, sop=sop, rework=rw, handoffs=ho, conformance=cr)
    fresh = svc.pain_points(log, sop=sop)  # computing the analyses itself
    return log, rw, ho, cr, pp, fresh


def test_tiny_handoff_hours_lost_agree(tiny_results):
    """销售部 → 售后部 loses 4.5 h (T1's 7 h against the front desk's 2.5 h median into
    评估) in the pain points, the handoff pair and the plain computation; its handoff
    waiting hours (9 h) are another figure."""
    log, _, ho, _, pp, fresh = tiny_results
    pair = ho.matrix.set_index(["from_group", "to_group"]).loc[("销售部", "售后部")]
    assert pair["hours_lost"] == 4.5 and pair["delay_total_hours"] == 9.0
    for table in (pp.table, fresh.table):
        row = table.set_index("pain_point").loc["销售部 → 售后部"]
        assert (row["kind"], row["hours_lost"], row["cases"]) == ("handoff", 4.5, 1)
    plain = plain_handoffs(log)
    assert plain.groupby(["from_group", "to_group"])["lost"].sum()[("销售部", "售后部")] == 4.5
    # every pair and every ticket: the same hours lost
    mine = ho.matrix.set_index(["from_group", "to_group"])["hours_lost"]
    theirs = plain.groupby(["from_group", "to_group"])["lost"].sum()
    pd.testing.assert_series_equal(mine.sort_index(), theirs.sort_index(), check_names=False)
    per_case = plain.groupby("case_id")["lost"].sum().reindex(["T1", "T2", "T3"], fill_value=0)
    assert ho.cases.set_index("case_id")["hours_lost"].tolist() == per_case.tolist()
    assert per_case.tolist() == [4.5, 0.0, 0.0]
    # the worst pair of the handoff section is the pain point's pair, with its hours
    assert ho.top(1)[["pair", "hours_lost"]].values.tolist() == [["销售部 → 售后部", 4.5]]
    worst = ho.summary[ho.summary["metric"] == "worst_pair"].iloc[0]
    assert (worst["detail"], worst["value"]) == ("销售部 → 售后部", 4.5)


def test_tiny_fixed_handoff_benchmark_agrees(tiny_results):
    """A fixed benchmark gives the same hours lost in pain_points(handoff_benchmark=) and
    handoff_delays(benchmark=): 销售部 → 售后部 6.5 + 1.5 = 8 h beyond 30 minutes."""
    log, *_ = tiny_results
    sop = sop_from_dict(SOP)
    ho = svc.handoff_delays(log, sop=sop, benchmark="30min")
    pair = ho.matrix.set_index(["from_group", "to_group"]).loc[("销售部", "售后部"), "hours_lost"]
    pp = svc.pain_points(log, sop=sop, handoff_benchmark="30min").table
    shown = pp.set_index("pain_point").loc["销售部 → 售后部", "hours_lost"]
    assert pair == shown == 8.0
    handoff_rows = pp[pp["kind"] == "handoff"].set_index("pain_point")["hours_lost"]
    top = ho.top(len(ho.matrix)).set_index("pair")["hours_lost"]
    assert handoff_rows.to_dict() == top[top > 0].to_dict()


def test_tiny_rework_hours_lost_agree(tiny_results):
    """T3's ping-pong on 评估 loses the loop's 3 h (12:00 → 15:00) in the pain points, in
    the rework result and per ticket."""
    _, rw, _, _, pp, _ = tiny_results
    row = pp.table.set_index("pain_point").loc["ping_pong: 评估"]
    assert (row["kind"], row["hours_lost"], row["cases"]) == ("rework", 3.0, 1)
    by_kind = rw.lost_by_kind().set_index("pain_point")
    assert by_kind.loc["ping_pong: 评估", "hours_lost"] == 3.0
    assert rw.summary()["hours_lost"] == 3.0 == rw.summary()["rework_hours"]
    assert rw.cases.set_index("case_id").loc["T3", "rework_hours"] == 3.0


def test_tiny_sla_hours_lost_agree(tiny_results):
    """assess_within_2h: T1 is 6 h late (8 h), T3 1 h (3 h), T2 met: 7 h lost in the pain
    points, the SLA table and the attainment table."""
    _, _, _, cr, pp, _ = tiny_results
    per_case = cr.slas.set_index("case_id")["hours_lost"]
    assert per_case.to_dict() == {"T1": 6.0, "T2": 0.0, "T3": 1.0}
    att = cr.sla_attainment.set_index(["sla", "priority"]).loc[("assess_within_2h", "all")]
    assert (att["met"], att["breached"], att["hours_lost"]) == (1, 2, 7.0)
    row = pp.table.set_index("pain_point").loc["SLA assess_within_2h"]
    assert (row["kind"], row["hours_lost"], row["cases"]) == ("sla", 7.0, 2)


# ------------------------------------------------------------------ sample exports


@pytest.fixture(scope="module")
def sample(sample_dir):
    if not any(sample_dir.glob("*.csv")):
        pytest.skip("sample_logs/ not generated")
    log = svc.read_tickets(sample_dir, timezone=TZ)
    sop = svc.load_sop(sample_dir / "sop_complaint.yaml")
    return log, sop


def test_sample_handoff_hours_lost_agree_with_plain_pandas(sample):
    """On the sample exports (elapsed hours) every pair's hours lost are the same in the
    pain points, the handoff matrix and a plain-pandas computation (plus the pending
    waits of open tickets beyond the median of all handoffs), per pair and per ticket."""
    log, _ = sample
    ho = svc.handoff_delays(log)
    pp = svc.pain_points(log, handoffs=ho)
    h = ho.handoffs
    done, pend = h[~h["pending"]], h[h["pending"]]
    plain = plain_handoffs(log.events)
    assert len(plain) == len(done)
    np.testing.assert_allclose(done["hours_lost"], plain["lost"], atol=1e-9)
    # pending waits: the wait so far beyond the median of all completed handoffs
    cutoff = log.events["timestamp"].max()
    waited = (cutoff - pend["left_at"]).dt.total_seconds() / 3600
    np.testing.assert_allclose(
        pend["hours_lost"], (waited - plain["delay"].median()).clip(lower=0), atol=1e-9
    )
    key = ["from_group", "to_group"]
    want = (
        pd.concat([plain[[*key, "lost"]], pend[key].assign(lost=pend["hours_lost"])])
        .groupby(key)["lost"]
        .sum()
    )
    matrix = ho.matrix.set_index(key)["hours_lost"]
    np.testing.assert_allclose(matrix.sort_index(), want.reindex(matrix.sort_index().index))
    rows = pp.table[pp.table["kind"] == "handoff"]
    pairs = rows["pain_point"].str.split(" → ", expand=True)
    shown = matrix.reindex(pd.MultiIndex.from_frame(pairs, names=key))
    np.testing.assert_allclose(rows["hours_lost"], shown.to_numpy(), rtol=1e-12)
    per_case = (
        pd.concat([plain[["case_id", "lost"]], pend[["case_id"]].assign(lost=pend["hours_lost"])])
        .groupby("case_id")["lost"]
        .sum()
    )
    mine = ho.cases.set_index("case_id")["hours_lost"]
    np.testing.assert_allclose(mine.reindex(per_case.index), per_case, atol=1e-9)
    assert mine.drop(per_case.index).eq(0).all()
    # hours lost are part of the waiting: never more, per handoff and per ticket
    assert (h["hours_lost"] <= h["delay_hours"]).all()
    assert (ho.cases["hours_lost"] <= ho.cases["handoff_hours"] + 1e-9).all()


def test_sample_sections_show_one_figure_per_thing(sample):
    """With the SOP's calendar (the demo's setting) the top pain point, the worst handoff
    pair, the rework rows and the SLA rows carry the same hours lost in every section."""
    log, sop = sample
    cal = sop.calendar
    rw = svc.find_rework(log, sop=sop, calendar=cal)
    ho = svc.handoff_delays(log, calendar=cal)
    cr = svc.check_sop(log, sop)
    bench = [svc.StepBenchmark("远程排障", "4h", "1h")]
    pp = svc.pain_points(
        log, sop=sop, benchmarks=bench, rework=rw, handoffs=ho, conformance=cr
    ).table.set_index("pain_point")
    # handoffs: the worst pair is the top pain point, with the same hours
    top = ho.top(1).iloc[0]
    assert pp.index[0] == top["pair"] == "销售部 → 售后部"
    assert pp["hours_lost"].iloc[0] == pytest.approx(top["hours_lost"], rel=1e-12)
    # rework: each rework row is the rework result's hours lost of that kind and activity
    by_kind = rw.lost_by_kind().set_index("pain_point")
    rework_rows = pp[pp["kind"] == "rework"]
    rows = rework_rows["hours_lost"]
    np.testing.assert_allclose(rows, by_kind["hours_lost"].reindex(rows.index), rtol=1e-12)
    assert rework_rows["cases"].tolist() == by_kind["cases"].reindex(rows.index).tolist()
    assert rows.sum() == pytest.approx(rw.summary()["hours_lost"], rel=1e-12)
    # hours in rework loops count each ticket hour once: never more than the hours lost
    assert rw.summary()["rework_hours"] <= rw.summary()["hours_lost"]
    # SLAs: each SLA row is the attainment table's hours lost of that SLA
    att = cr.sla_attainment
    att = att[att["priority"] == "all"].set_index("sla")["hours_lost"]
    sla_rows = pp[pp["kind"] == "sla"]["hours_lost"]
    np.testing.assert_allclose(
        sla_rows, att.reindex(sla_rows.index.str.removeprefix("SLA ")), rtol=1e-12
    )
    s = cr.slas
    late = s[s["to_at"].notna()]
    plain = (late["actual_hours"] - late["limit_hours"]).clip(lower=0).groupby(late["sla"]).sum()
    np.testing.assert_allclose(att.reindex(plain.index), plain, rtol=1e-12)


# ------------------------------------------------------------------ glossary


def test_glossary_has_every_term_in_both_languages():
    """The glossary explains hours lost, every rework kind and deviation type, the SLA
    rules, the KPIs and the charts' dashed lines, in English and in Chinese."""
    keys = {e.key for e in ENTRIES}
    assert {"hours_lost", "delay_total_hours", "rework_hours"} <= keys
    assert set(REWORK_KINDS) <= keys
    deviation_types = {
        "unknown_activity", "skipped_step", "out_of_order", "inserted_step",
        "repeated_step", "wrong_department", "sla_breach", "not_fitting",
    }  # fmt: skip
    assert deviation_types <= keys
    assert {"sla_attainment", "first_contact_resolution", "cycle_hours"} <= keys
    assert {"kpi_dashed_line"} <= keys
    assert {e.group for e in ENTRIES} == set(GROUPS)
    for e in ENTRIES:
        assert e.en and e.zh and e.en != e.zh, e.key
    en, zh = glossary("en"), glossary("zh")
    assert len(en) == len(zh) == len(ENTRIES)
    assert en.loc[en["key"] == "hours_lost", "term"].item() == "hours lost (hours_lost)"
    assert zh.loc[zh["key"] == "hours_lost", "term"].item() == "损失工时 (hours_lost)"


def test_glossary_html_lists_the_sops_slas_escaped():
    """The glossary section names its hours, lists the SOP's SLA rules and escapes text."""
    sop = sop_from_dict(SOP)
    out = glossary_html("zh", sop)
    assert "<h3>返工类型</h3>" in out and "本报告中的小时均为自然小时。" in out
    assert "<td>assess_within_2h</td><td>登记 → 评估</td><td>≤ 2 h</td>" in out
    assert "<dt><b>重新打开 (reopen)</b></dt>" in out and "<dt><b>SLA 计时</b></dt>" in out
    en = glossary_html("en", None, business_hours=True)
    assert "business hours of the SOP&#x27;s calendar" in en and "<table>" not in en


def test_report_ends_with_the_glossary():
    """The report's last section is the glossary, in the report's language."""
    rep = svc.build_report(
        tiny(), sop=sop_from_dict(SOP), sections=["rework", "glossary"], lang="en"
    )
    assert rep.sections[-1].key == "glossary" and rep.sections[-1].status == "ok"
    assert "hours lost" in rep.sections[-1].body
