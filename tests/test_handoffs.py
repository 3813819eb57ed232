"""Tests for handoff delays (svcmining/handoffs.py)."""

from __future__ import annotations

import itertools
import json
import math
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from svcmining.calendars import Calendar
from svcmining.eventlog import TicketLog
from svcmining.exceptions import InvalidParameterError, SchemaError
from svcmining.handoffs import HandoffResult, handoff_delays

TZ = "Asia/Shanghai"


def t(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz=TZ)


def make(rows: list[tuple], **extra: list) -> pd.DataFrame:
    """rows: (case_id, activity, 'YYYY-MM-DD HH:MM', department)."""
    df = pd.DataFrame(
        {
            "case_id": pd.Series([r[0] for r in rows], dtype="str"),
            "activity": pd.Series([r[1] for r in rows], dtype="str"),
            "timestamp": pd.Series([t(r[2]) for r in rows], dtype=f"datetime64[us, {TZ}]"),
            "department": pd.Series([r[3] for r in rows], dtype="str"),
        }
    )
    for col, values in extra.items():
        df[col] = values
    return df


# Tue 8 Oct 2024 .. ; case 1 and 2 are closed, case 3 is open (waits after 分类派单)
SERVICE = [
    ("1", "投诉登记", "2024-10-08 09:00", "客服中心"),
    ("1", "分类派单", "2024-10-08 09:10", "客服中心"),
    ("1", "销售核实", "2024-10-08 11:10", "销售部"),  # 客服→销售 2 h
    ("1", "售后评估", "2024-10-09 09:10", "售后部"),  # 销售→售后 22 h (business 7 h)
    ("1", "远程排障", "2024-10-09 13:10", "技术支持部"),  # 售后→技术 4 h
    ("1", "客户验收", "2024-10-09 14:10", "客服中心"),  # 技术→客服 1 h
    ("1", "结单", "2024-10-09 14:20", "客服中心"),
    ("2", "投诉登记", "2024-10-08 10:00", "客服中心"),
    ("2", "销售核实", "2024-10-08 12:00", "销售部"),  # 客服→销售 2 h
    ("2", "售后评估", "2024-10-08 18:00", "售后部"),  # 销售→售后 6 h
    ("2", "结单", "2024-10-08 19:00", "客服中心"),  # 售后→客服 1 h
    ("3", "投诉登记", "2024-10-10 09:00", "客服中心"),
    ("3", "分类派单", "2024-10-10 10:00", "客服中心"),  # open: pending 客服→销售
]
CUTOFF = "2024-10-10 20:00"


def pair(ho: HandoffResult, a: str, b: str) -> pd.Series:
    m = ho.matrix
    return m[(m["from_group"] == a) & (m["to_group"] == b)].iloc[0]


# ------------------------------------------------------------------ exact fixtures


def test_handoffs_and_delays_elapsed():
    """Each consecutive department change is one handoff with its exact elapsed delay."""
    ho = handoff_delays(make(SERVICE), cutoff=CUTOFF)
    h = ho.handoffs
    assert list(h.columns) == [
        "case_id",
        "from_group",
        "to_group",
        "left_at",
        "picked_up_at",
        "delay_hours",
        "from_activity",
        "to_activity",
        "pending",
        "ping_pong",
        "target_hours",
        "hours_lost",
    ]
    obs = h[~h["pending"]]
    assert list(zip(obs["case_id"], obs["from_group"], obs["to_group"], strict=True)) == [
        ("1", "客服中心", "销售部"),
        ("1", "销售部", "售后部"),
        ("1", "售后部", "技术支持部"),
        ("1", "技术支持部", "客服中心"),
        ("2", "客服中心", "销售部"),
        ("2", "销售部", "售后部"),
        ("2", "售后部", "客服中心"),
    ]
    assert obs["delay_hours"].tolist() == [2.0, 22.0, 4.0, 1.0, 2.0, 6.0, 1.0]
    first = obs.iloc[0]
    assert first["left_at"] == t("2024-10-08 09:10")
    assert first["picked_up_at"] == t("2024-10-08 11:10")
    assert (first["from_activity"], first["to_activity"]) == ("分类派单", "销售核实")
    assert h["left_at"].dtype == make(SERVICE)["timestamp"].dtype


def test_pending_handoff_of_an_open_ticket():
    """An open ticket waiting after 分类派单 gets one pending 客服→销售 row, wait to the cutoff."""
    ho = handoff_delays(make(SERVICE), cutoff=CUTOFF)
    pend = ho.handoffs[ho.handoffs["pending"]]
    assert len(pend) == 1
    row = pend.iloc[0]
    assert (row["case_id"], row["from_group"], row["to_group"]) == ("3", "客服中心", "销售部")
    assert row["from_activity"] == "分类派单" and pd.isna(row["to_activity"])
    assert pd.isna(row["picked_up_at"]) and row["delay_hours"] == 10.0
    cases = ho.cases.set_index("case_id")
    assert cases["open_at_cutoff"].to_dict() == {"1": False, "2": False, "3": True}
    assert cases.loc["3", "n_handoffs"] == 0
    assert cases.loc["3", "waiting_hours"] == 10.0 and cases.loc["3", "handoff_hours"] == 10.0
    assert cases.loc["3", "cycle_hours"] == 11.0  # 09:00 -> cutoff 20:00


def test_matrix_excludes_pending_waits_from_stats_by_default():
    """count/cases/pending/mean/p50/p90/total per pair; include_pending moves the stats only."""
    ho = handoff_delays(make(SERVICE), cutoff=CUTOFF)
    cs = pair(ho, "客服中心", "销售部")
    assert (cs["count"], cs["cases"], cs["pending"]) == (2, 3, 1)
    assert (cs["delay_mean_hours"], cs["delay_p50_hours"], cs["delay_p90_hours"]) == (2, 2, 2)
    assert cs["delay_total_hours"] == 14.0  # waiting hours include the wait so far
    sa = pair(ho, "销售部", "售后部")
    assert (sa["count"], sa["cases"], sa["pending"]) == (2, 2, 0)
    assert sa["delay_mean_hours"] == 14.0 and sa["delay_p50_hours"] == 14.0
    assert sa["delay_p90_hours"] == pytest.approx(20.4)  # 6 + 0.9 * 16
    assert sa["delay_total_hours"] == 28.0
    assert ho.matrix["count"].sum() == 7

    inc = pair(
        handoff_delays(make(SERVICE), cutoff=CUTOFF, include_pending=True), "客服中心", "销售部"
    )
    assert inc["delay_mean_hours"] == pytest.approx(14 / 3)
    assert inc["delay_p50_hours"] == 2.0
    assert inc["delay_p90_hours"] == pytest.approx(8.4)  # [2, 2, 10]: 2 + 0.8 * 8
    assert (inc["count"], inc["pending"], inc["delay_total_hours"]) == (2, 1, 14.0)


def test_hours_lost_beyond_the_peers_median():
    """hours_lost = delay beyond the other givers' median into the same step, per row,
    pair, ticket and summary; a pending wait is measured against all handoffs' median."""
    ho = handoff_delays(make(SERVICE), cutoff=CUTOFF)
    h = ho.handoffs
    # into 销售核实 / 远程排障 / 客户验收 / 结单 only one group hands over: its own median
    # (2, 4, 1, 1); into 售后评估 销售部's median of 22 and 6 is 14; the pending row waits
    # for an unknown step: the median of all seven completed delays [1,1,2,2,4,6,22] is 2
    assert h["target_hours"].tolist() == [2.0, 14.0, 4.0, 1.0, 2.0, 14.0, 1.0, 2.0]
    assert h["hours_lost"].tolist() == [0.0, 8.0, 0.0, 0.0, 0.0, 0.0, 0.0, 8.0]
    assert pair(ho, "销售部", "售后部")["hours_lost"] == 8.0
    assert pair(ho, "客服中心", "销售部")["hours_lost"] == 8.0  # the pending 10 h wait
    assert ho.matrix["hours_lost"].sum() == 16.0
    assert ho.cases.set_index("case_id")["hours_lost"].to_dict() == {"1": 8.0, "2": 0.0, "3": 8.0}
    s = ho.summary.set_index("metric")["value"]
    assert s["hours_lost"] == 16.0 and s["handoff_hours"] == 48.0


def test_hours_lost_beyond_a_fixed_benchmark():
    """benchmark='30min' is every handoff's target: each delay loses all but 0.5 h."""
    ho = handoff_delays(make(SERVICE), cutoff=CUTOFF, benchmark="30min")
    assert ho.handoffs["target_hours"].tolist() == [0.5] * 8
    assert ho.handoffs["hours_lost"].tolist() == [1.5, 21.5, 3.5, 0.5, 1.5, 5.5, 0.5, 9.5]
    assert pair(ho, "销售部", "售后部")["hours_lost"] == 27.0
    top = ho.top(1)
    assert top["pair"].tolist() == ["销售部 → 售后部"]
    assert top["share_of_lost"].tolist() == pytest.approx([27 / 44])


@pytest.mark.parametrize("bad", ["soon", -1.0, True, "-2h"])
def test_benchmark_must_be_a_duration(bad):
    """A benchmark that is no duration >= 0 is refused with the parameter's name."""
    with pytest.raises(InvalidParameterError, match="'benchmark' parameter of handoff_delays"):
        handoff_delays(make(SERVICE), benchmark=bad)


def test_cases_table():
    """Per ticket: handoffs, hours waiting, cycle time and share."""
    ho = handoff_delays(make(SERVICE), cutoff=CUTOFF)
    c = ho.cases.set_index("case_id")
    assert list(ho.cases.columns) == [
        "case_id",
        "n_handoffs",
        "handoff_hours",
        "cycle_hours",
        "handoff_share",
        "ping_pong",
        "open_at_cutoff",
        "waiting_hours",
        "hours_lost",
    ]
    assert c["n_handoffs"].tolist() == [4, 3, 0]
    assert c["handoff_hours"].tolist() == [29.0, 9.0, 10.0]
    assert c.loc["1", "cycle_hours"] == pytest.approx(29 + 1 / 3)
    assert c.loc["2", "cycle_hours"] == 9.0
    assert c.loc["1", "handoff_share"] == pytest.approx(29 / (29 + 1 / 3))
    assert c.loc["2", "handoff_share"] == 1.0
    assert not c["ping_pong"].any()


def test_business_hours_with_a_calendar():
    """With a Calendar the delays and cycle times are working hours (Mon-Fri 09-18)."""
    ho = handoff_delays(make(SERVICE), calendar=Calendar(), cutoff=CUTOFF)
    obs = ho.handoffs[~ho.handoffs["pending"]]
    # 2 h; Tue 11:10 -> Wed 09:10 = 6:50 + 0:10; 4 h; 1 h; 2 h; 12:00 -> 18:00; 18:00 -> 19:00
    assert obs["delay_hours"].round(6).tolist() == [2.0, 7.0, 4.0, 1.0, 2.0, 6.0, 0.0]
    c = ho.cases.set_index("case_id")
    assert c.loc["1", "cycle_hours"] == pytest.approx(9 + 5 + 1 / 3)
    assert c.loc["3", "waiting_hours"] == pytest.approx(8.0)  # Thu 10:00 -> 18:00
    assert ho.business_hours and "business hours" in repr(ho)


def test_business_hours_over_a_weekend():
    """Fri 17:00 -> Mon 10:00 is 65 elapsed hours but 2 business hours."""
    df = make([("1", "a", "2024-11-08 17:00", "A"), ("1", "b", "2024-11-11 10:00", "B")])
    assert handoff_delays(df).handoffs["delay_hours"].tolist() == [65.0]
    assert handoff_delays(df, calendar=Calendar()).handoffs["delay_hours"].tolist() == [2.0]


def test_lifecycle_delay_runs_to_the_receivers_start():
    """With start times the delay is giver's completion -> receiver's start; overlap -> 0."""
    df = make(
        [
            ("1", "a", "2024-10-08 10:00", "A"),
            ("1", "b", "2024-10-08 11:00", "B"),  # started 10:30
            ("1", "c", "2024-10-08 12:00", "C"),  # started 10:45, before B finished
            ("1", "d", "2024-10-08 13:00", "A"),  # no start recorded
        ],
        start_timestamp=pd.Series(
            [t("2024-10-08 09:00"), t("2024-10-08 10:30"), t("2024-10-08 10:45"), pd.NaT],
            dtype=f"datetime64[us, {TZ}]",
        ),
    )
    ho = handoff_delays(df)
    h = ho.handoffs
    assert h["delay_hours"].tolist() == [0.5, 0.0, 1.0]
    assert h["picked_up_at"].tolist() == [
        t("2024-10-08 10:30"),
        t("2024-10-08 10:45"),
        t("2024-10-08 13:00"),
    ]
    assert any("overlapping" in n for n in ho.notes)
    assert ho.cases["cycle_hours"].tolist() == [4.0]  # from A's start 09:00


def test_missing_groups_are_skipped_and_noted():
    """Events without a department are skipped: A, -, B is one handoff A→B from A's time."""
    df = make(
        [
            ("1", "a", "2024-10-08 09:00", "A"),
            ("1", "note", "2024-10-08 10:00", None),
            ("1", "b", "2024-10-08 11:00", "B"),
            ("1", "note", "2024-10-08 12:00", None),
            ("1", "c", "2024-10-08 13:00", "B"),
        ]
    )
    ho = handoff_delays(df)
    assert ho.handoffs[["from_group", "to_group", "delay_hours"]].values.tolist() == [
        ["A", "B", 2.0]
    ]
    assert ho.notes == (
        "2 events without a 'department' value were skipped for handoff detection.",
    )
    s = ho.summary.set_index("metric")["value"]
    assert s["skipped_events"] == 2


def test_ping_pong_handoffs_and_case_flag():
    """售后→销售→售后 redoing 售后评估 flags that handoff and the ticket (shared rule)."""
    df = make(
        [
            ("1", "分类派单", "2024-10-08 09:00", "客服中心"),
            ("1", "售后评估", "2024-10-08 10:00", "售后部"),
            ("1", "销售核实", "2024-10-08 12:00", "销售部"),
            ("1", "售后评估", "2024-10-09 12:00", "售后部"),
            ("1", "结单", "2024-10-09 13:00", "客服中心"),
            ("2", "分类派单", "2024-10-08 09:00", "客服中心"),
            ("2", "售后评估", "2024-10-08 10:00", "售后部"),
            ("2", "结单", "2024-10-08 11:00", "客服中心"),
        ]
    )
    ho = handoff_delays(df)
    assert ho.handoffs["ping_pong"].tolist() == [False, False, True, False, False, False]
    assert ho.cases["ping_pong"].tolist() == [True, False]
    assert pair(ho, "销售部", "售后部")["ping_pong"] == 1
    assert ho.summary.set_index("metric").loc["ping_pong_cases", "value"] == 1


def test_returns_inside_a_reopen_cycle_or_self_loops_are_not_ping_pong():
    """Work redone after 结单/重新打开 is a reopen, and X[B] X[A] a self-loop: no ping-pong."""
    df = make(
        [
            ("1", "登记", "2024-10-08 09:00", "客服中心"),
            ("1", "远程排障", "2024-10-08 10:00", "技术支持部"),
            ("1", "结单", "2024-10-08 11:00", "客服中心"),
            ("1", "重新打开", "2024-10-08 12:00", "客服中心"),
            ("1", "远程排障", "2024-10-08 13:00", "技术支持部"),  # return, but in the cycle
            ("1", "结单", "2024-10-08 14:00", "客服中心"),
            ("2", "评估", "2024-10-08 09:00", "售后部"),
            ("2", "核实", "2024-10-08 10:00", "销售部"),
            ("2", "评估", "2024-10-08 11:00", "销售部"),
            ("2", "评估", "2024-10-08 12:00", "售后部"),  # return right after 评估: self_loop
        ]
    )
    ho = handoff_delays(df)
    assert not ho.handoffs["ping_pong"].any()
    assert ho.cases["ping_pong"].tolist() == [False, False]


def test_ping_pong_after_the_last_close_follows_find_rework():
    """After the last 结单: a later-stage return is ping-pong, an earlier-stage one a reopen."""
    from svcmining.rework import find_rework

    base = [
        ("登记", "客服中心"),
        ("评估", "售后部"),
        ("排障", "技术支持部"),
        ("验收", "客服中心"),
        ("结单", "客服中心"),
    ]
    rows = []
    for cid, tail in (
        ("A", [("回访", "客服中心"), ("抽检", "质量监督"), ("回访", "客服中心")]),
        ("B", [("抽检", "质量监督"), ("排障", "技术支持部"), ("验收", "客服中心")]),
        ("C", [("回访", "客服中心")]),
    ):
        for i, (act, dep) in enumerate(base + tail):
            rows.append((cid, act, f"2024-10-08 {9 + i:02d}:00", dep))
    df = make(rows)
    ho = handoff_delays(df)
    # A: 回访 #2 by 客服中心 after 质量监督, later stage than 结单 -> ping-pong
    # B: 排障 after 结单 is earlier than 结单 -> a reopen cycle, 验收 inside it too
    assert ho.cases.set_index("case_id")["ping_pong"].to_dict() == {
        "A": True,
        "B": False,
        "C": False,
    }
    rw = find_rework(df)
    theirs = rw.cases.set_index("case_id")["ping_pong"].astype(bool).to_dict()
    assert ho.cases.set_index("case_id")["ping_pong"].to_dict() == theirs


def test_any_column_can_be_the_group():
    """by='resource' finds handoffs between people (the department is ignored)."""
    df = make(
        SERVICE[:7], resource=pd.Series(["王", "王", "李", "李", "张", "王", "王"], dtype="str")
    )
    ho = handoff_delays(df, by="resource")
    assert ho.handoffs[["from_group", "to_group"]].values.tolist() == [
        ["王", "李"],
        ["李", "张"],
        ["张", "王"],
    ]
    assert ho.handoffs["delay_hours"].tolist() == [2.0, 4.0, 1.0]
    assert ho.by == "resource"


def test_open_ticket_whose_last_step_usually_ends_gives_no_pending_row():
    """No pending row when the step is usually last, done by the same group, or never seen."""
    rows = [
        ("1", "登记", "2024-10-08 09:00", "客服中心"),
        ("1", "评估", "2024-10-08 10:00", "售后部"),
        ("1", "结单", "2024-10-08 11:00", "客服中心"),
        ("2", "登记", "2024-10-08 09:00", "客服中心"),
        ("2", "评估", "2024-10-08 10:00", "售后部"),
        ("2", "结单", "2024-10-08 11:00", "客服中心"),  # open later: reopened
        ("2", "重新打开", "2024-10-08 12:00", "客服中心"),
        ("3", "登记", "2024-10-08 09:00", "客服中心"),
        ("3", "电话催办", "2024-10-08 09:30", "客服中心"),  # never seen elsewhere
    ]
    ho = handoff_delays(make(rows))
    assert not ho.handoffs["pending"].any()
    assert ho.cases["open_at_cutoff"].tolist() == [False, True, True]


def test_close_label_in_the_lifecycle_column_closes():
    """BPIC-style logs close with lifecycle 'Closed' on a 'Completed' activity."""
    df = make(
        [
            ("1", "Accepted", "2024-10-08 09:00", "G1"),
            ("1", "Completed", "2024-10-08 10:00", "G2"),
        ],
        lifecycle=pd.Series(["In Progress", "Closed"], dtype="str"),
    )
    ho = handoff_delays(df)
    assert ho.cases["open_at_cutoff"].tolist() == [False]


@pytest.mark.parametrize(
    "label", ["结 单", "ＣＬＯＳＥＤ", "Case-closed", " closed. ", "Completed+Closed"]
)
def test_close_labels_are_judged_as_the_quality_gate_judges_them(label):
    """Full-width, spaced or punctuated close labels close a ticket here as in open_cases."""
    from svcmining.quality import open_cases

    df = make(
        [
            ("1", "投诉登记", "2024-10-08 09:00", "客服中心"),
            ("1", "售后评估", "2024-10-08 10:00", "售后部"),
            ("1", label, "2024-10-08 11:00", "客服中心"),
            ("2", "投诉登记", "2024-10-08 09:00", "客服中心"),
            ("2", "售后评估", "2024-10-08 12:00", "售后部"),  # open: 售后部 → 客服中心 pending
        ]
    )
    ho = handoff_delays(df, cutoff="2024-10-08 13:00")
    assert ho.cases["open_at_cutoff"].tolist() == [False, True]
    assert ho.cases["open_at_cutoff"].tolist() == open_cases(df).tolist()
    assert ho.handoffs["pending"].tolist() == [False, False, False, True]


def test_summary_top_and_repr():
    """summary: share of ticket time waiting; top(n) ranks pairs by hours lost."""
    ho = handoff_delays(make(SERVICE), cutoff=CUTOFF)
    s = ho.summary.set_index("metric")
    assert s.loc["handoffs", "value"] == 7 and s.loc["pending_handoffs", "value"] == 1
    assert s.loc["handoff_hours", "value"] == 48.0
    assert s.loc["handoff_share", "value"] == pytest.approx(48 / (29 + 1 / 3 + 9 + 11))
    worst = ho.summary[ho.summary["metric"] == "worst_pair"]
    assert worst["detail"].tolist() == [
        "销售部 → 售后部",
        "客服中心 → 销售部",
        "售后部 → 技术支持部",
    ]
    top = ho.top(2)
    assert top["pair"].tolist() == ["销售部 → 售后部", "客服中心 → 销售部"]
    assert top["share_of_hours"].tolist() == pytest.approx([28 / 48, 14 / 48])
    assert "7 handoffs in 3 tickets" in repr(ho)
    assert ho.to_frame().equals(ho.handoffs) and ho.to_frame() is not ho.handoffs


def test_html_escapes_labels():
    """Group labels from the data are HTML-escaped in the notebook view."""
    df = make(
        [
            ("1", "a", "2024-10-08 09:00", "<b>A</b>"),
            ("1", "b", "2024-10-08 10:00", "B&C"),
        ]
    )
    out = handoff_delays(df)._repr_html_()
    assert "<b>A</b>" not in out and "&lt;b&gt;A&lt;/b&gt;" in out and "B&amp;C" in out


def test_input_is_not_mutated_and_ticketlog_equals_frame():
    """The input frame is left as is; a TicketLog gives the same result as its frame."""
    df = make(SERVICE).iloc[::-1]  # unsorted input
    before = df.copy()
    a = handoff_delays(df, cutoff=CUTOFF)
    pd.testing.assert_frame_equal(df, before)
    b = handoff_delays(TicketLog(events=make(SERVICE)), cutoff=CUTOFF)
    for name in ("handoffs", "matrix", "cases", "summary"):
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name))


def test_empty_and_single_group_logs():
    """A log without handoffs (or without events) gives empty tables with the right columns."""
    df = make([("1", "a", "2024-10-08 09:00", "A"), ("1", "结单", "2024-10-08 10:00", "A")])
    ho = handoff_delays(df)
    assert ho.handoffs.empty and ho.matrix.empty
    assert ho.cases["n_handoffs"].tolist() == [0] and ho.cases["handoff_share"].tolist() == [0.0]
    assert ho.top(5).empty
    fig = ho.plot()
    assert len(fig.axes) == 2
    empty = handoff_delays(make(SERVICE).iloc[:0])
    assert empty.handoffs.empty and empty.cases.empty and empty.matrix.empty
    assert "0 handoffs in 0 tickets" in repr(empty)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"by": "case_id"}, InvalidParameterError, "'by' parameter of handoff_delays"),
        ({"by": "team"}, SchemaError, "'team'"),
        ({"include_pending": "yes"}, InvalidParameterError, "'include_pending' parameter"),
        ({"window": 0}, InvalidParameterError, "'window' parameter of handoff_delays"),
        ({"calendar": "Mon-Fri"}, InvalidParameterError, "'calendar' parameter"),
        ({"cutoff": "soon"}, InvalidParameterError, "'cutoff' parameter"),
    ],
)
def test_bad_arguments(kwargs, error, match):
    """Invalid options raise InvalidParameterError / SchemaError with a clear message."""
    with pytest.raises(error, match=match):
        handoff_delays(make(SERVICE), **kwargs)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"kind": "pie"}, "'kind' parameter of HandoffResult.plot"),
        ({"metric": "mean"}, "'metric' parameter of HandoffResult.plot"),
        ({"max_groups": 0}, "'max_groups'"),
    ],
)
def test_bad_plot_arguments(kwargs, match):
    """plot() checks its options."""
    with pytest.raises(InvalidParameterError, match=match):
        handoff_delays(make(SERVICE)).plot(**kwargs)


# ------------------------------------------------------------------ plots


def test_map_labels_of_crossing_edges_do_not_overlap():
    """A label sits at its arc's apex unless another label is there; then further along."""
    from svcmining._handoffresult import _LABEL_H, _LABEL_W, _label_spot

    placed: list[tuple[float, float]] = []
    first = _label_spot((-1.0, 0.0), (1.0, 0.0), placed)
    assert first == pytest.approx((0.0, -0.18))  # apex: midpoint + 0.09 * (dy, -dx)
    second = _label_spot((-1.0, 0.05), (1.0, -0.05), placed)  # crosses near the same apex
    assert abs(second[0] - first[0]) >= _LABEL_W or abs(second[1] - first[1]) >= _LABEL_H
    assert placed == [first, second]


def test_plot_heatmap_and_map_render_chinese():
    """plot() returns a figure with the heatmap and the map; Chinese glyphs are found."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.figure import Figure

    ho = handoff_delays(make(SERVICE), cutoff=CUTOFF)
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*missing from font.*")
        fig = ho.plot()
        fig.canvas.draw()
    assert isinstance(fig, Figure)
    heat, net = fig.axes[0], fig.axes[1]
    assert len(fig.axes) == 3  # + the colour bar
    labels = [x.get_text() for x in heat.get_xticklabels()]
    assert set(labels) == {"客服中心", "销售部", "售后部", "技术支持部"}
    cell_texts = [x.get_text() for x in heat.texts]
    # 销售部 → 售后部: 2 handoffs; 22 h waited against a 14 h peer target = 8 h lost
    assert "2\n8" in cell_texts
    assert {"客服中心", "销售部"} <= {x.get_text() for x in net.texts}
    plt.close(fig)

    _, ax = plt.subplots()
    fig2 = ho.plot(kind="heatmap", metric="count", ax=ax)
    assert fig2 is ax.figure
    plt.close(fig2)
    fig3 = ho.plot(kind="map", max_groups=2)
    nodes = [x.get_text() for x in fig3.axes[0].texts if x.get_zorder() == 4]
    assert len(nodes) == 2  # only the two busiest groups
    plt.close(fig3)
    with pytest.raises(InvalidParameterError, match="kind='both'"):
        ho.plot(ax=ax)


def _heat_cells(fig) -> dict[tuple[str, str], str]:
    """(from, to) -> the text printed in that heatmap cell."""
    ax = fig.axes[0]
    cols = [x.get_text() for x in ax.get_xticklabels()]
    rows = [x.get_text() for x in ax.get_yticklabels()]
    return {
        (rows[round(t.get_position()[1])], cols[round(t.get_position()[0])]): t.get_text()
        for t in ax.texts
    }


def _pairs_by_pandas(df: pd.DataFrame) -> dict[tuple[str, str], int]:
    """Handoffs counted independently: consecutive events of a ticket in two departments."""
    d = df.sort_values(["case_id", "timestamp"], kind="stable")
    prev = d.groupby("case_id")["department"].shift()
    moved = d[prev.notna() & (prev != d["department"])]
    counts = moved.groupby([prev[moved.index], moved["department"]]).size()
    return {(str(a), str(b)): int(n) for (a, b), n in counts.items()}


# case 4 waits 100 h once (客服中心 -> 质量监督): one handoff, the longest median
ONE_SLOW = [
    ("4", "投诉登记", "2024-10-08 09:00", "客服中心"),
    ("4", "质量抽检", "2024-10-12 13:00", "质量监督"),
]


def test_heatmap_prints_counts_and_colours_by_the_named_metric():
    """Cells print the handoff count (= an independent groupby) and the metric; the
    colour, title and colour bar follow ``metric``; cells with < min_count are hatched."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    df = make(SERVICE + ONE_SLOW)
    ho = handoff_delays(df, cutoff=CUTOFF)
    fig = ho.plot(kind="heatmap", metric="p50", min_count=2)
    cells = _heat_cells(fig)
    assert {k: int(v.split("\n")[0]) for k, v in cells.items()} == _pairs_by_pandas(df)
    assert cells[("销售部", "售后部")] == "2\n14"  # median of 22 h and 6 h
    assert cells[("客服中心", "质量监督")] == "1\n100"
    ax = fig.axes[0]
    colours = ax.images[0].get_array()
    groups = [x.get_text() for x in ax.get_xticklabels()]
    darkest = np.unravel_index(int(np.ma.argmax(colours)), colours.shape)
    assert (groups[darkest[0]], groups[darkest[1]]) == ("销售部", "售后部")
    hatched = [
        (round(p.get_y() + 0.5), round(p.get_x() + 0.5)) for p in ax.patches if p.get_hatch()
    ]
    one = [
        (groups.index(a), groups.index(b)) for (a, b), n in _pairs_by_pandas(df).items() if n < 2
    ]
    assert sorted(hatched) == sorted(one)  # the 1-handoff cells, the 100 h one among them
    assert "median wait per handoff" in ax.get_title()
    assert "fewer than 2 handoffs" in ax.get_title()
    assert fig.axes[1].get_ylabel() == "median wait per handoff (hours)"
    plt.close(fig)

    fig = ho.plot(kind="heatmap", metric="count", lang="zh")
    assert _heat_cells(fig)[("客服中心", "质量监督")] == "1"
    assert not [p for p in fig.axes[0].patches if p.get_hatch()]  # counts are never hatched
    assert fig.axes[1].get_ylabel() == "交接次数"
    assert fig.axes[0].get_xlabel() == "接收部门"
    plt.close(fig)

    fig = ho.plot(kind="heatmap")  # the default: hours lost, as the report ranks pairs
    assert _heat_cells(fig)[("销售部", "售后部")] == "2\n8"  # 22 h - 14 h target, 6 h none
    assert fig.axes[1].get_ylabel() == "hours lost on handoffs (hours)"
    plt.close(fig)

    fig = ho.plot(kind="heatmap", metric="total")  # all the waiting: 22 h + 6 h
    assert _heat_cells(fig)[("销售部", "售后部")] == "2\n28"
    assert fig.axes[1].get_ylabel() == "handoff waiting hours (hours)"
    plt.close(fig)


def test_heatmap_with_twelve_departments_is_readable():
    """With 12 departments of long names no two texts of the heatmap overlap."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from _overlap import overlapping_texts

    deps = [f"{name}服务中心" for name in "东南西北中上下左右前后内"]
    rows = []
    for c in range(40):
        for step in range(6):
            dep = deps[(c * 7 + step * (c % 5 + 1)) % 12]
            rows.append((str(c), f"步骤{step}", f"2024-10-{8 + step:02d} {9 + c % 8:02d}:00", dep))
    df = make(rows)
    ho = handoff_delays(df)
    for lang in ("en", "zh"):
        fig = ho.plot(kind="heatmap", lang=lang)
        assert overlapping_texts(fig) == []
        cells = _heat_cells(fig)
        assert {k: int(v.split("\n")[0]) for k, v in cells.items()} == _pairs_by_pandas(df)
        plt.close(fig)


# ------------------------------------------------------------------ invariants

CASES = ["c1", "c2", "c3", "c4"]
GROUPS = ["客服", "售后", "技术", "销售", None]
ACTS = ["登记", "评估", "排障", "结单"]


@st.composite
def random_logs(draw):
    n = draw(st.integers(min_value=1, max_value=30))
    rows = []
    clock = {c: pd.Timestamp("2024-11-08 08:00", tz=TZ) for c in CASES}
    for _ in range(n):
        c = draw(st.sampled_from(CASES))
        clock[c] = clock[c] + pd.Timedelta(minutes=draw(st.integers(1, 3000)))
        back = draw(st.integers(0, 600))
        rows.append(
            (
                c,
                draw(st.sampled_from(ACTS)),
                clock[c],
                draw(st.sampled_from(GROUPS)),
                clock[c] - pd.Timedelta(minutes=back),
            )
        )
    df = pd.DataFrame(rows, columns=["case_id", "activity", "timestamp", "department", "start"])
    for col in ("case_id", "activity", "department"):
        df[col] = df[col].astype("str")
    df["timestamp"] = df["timestamp"].astype(f"datetime64[us, {TZ}]")
    if draw(st.booleans()):
        df["start_timestamp"] = df["start"].astype(f"datetime64[us, {TZ}]")
    return df.drop(columns="start")


def canon(ho: HandoffResult) -> tuple[pd.DataFrame, ...]:
    h = ho.handoffs.sort_values(["case_id", "left_at", "pending"], kind="stable")
    c = ho.cases.sort_values("case_id", kind="stable")
    return tuple(x.reset_index(drop=True) for x in (h, ho.matrix, c))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(random_logs(), st.booleans(), st.randoms(use_true_random=False))
def test_invariants(df, business, rnd):
    """Delays >= 0, handoff_hours <= cycle_hours; shuffling rows or renaming cases changes nothing."""
    cal = Calendar() if business else None
    ho = handoff_delays(df, calendar=cal)
    assert (ho.handoffs["delay_hours"] >= 0).all()
    c = ho.cases
    assert (c["handoff_hours"] <= c["cycle_hours"] + 1e-9).all()
    assert ((c["handoff_share"].fillna(0) >= 0) & (c["handoff_share"].fillna(0) <= 1 + 1e-9)).all()
    assert ho.matrix["count"].sum() == (~ho.handoffs["pending"]).sum() == c["n_handoffs"].sum()

    shuffled = df.sample(frac=1.0, random_state=rnd.randint(0, 10_000))
    for a, b in zip(canon(ho), canon(handoff_delays(shuffled, calendar=cal)), strict=True):
        pd.testing.assert_frame_equal(a, b)

    names = {cid: f"T{999 - i}" for i, cid in enumerate(CASES)}  # reverses the sort order
    renamed = df.assign(case_id=df["case_id"].map(names).astype("str"))
    ho2 = handoff_delays(renamed, calendar=cal)
    back = {v: k for k, v in names.items()}
    a_h, a_m, a_c = canon(ho)
    b_h, b_m, b_c = (
        x.assign(case_id=x["case_id"].map(back).astype("str")) if "case_id" in x else x
        for x in (ho2.handoffs, ho2.matrix, ho2.cases)
    )
    b_h = b_h.sort_values(["case_id", "left_at", "pending"], kind="stable").reset_index(drop=True)
    b_c = b_c.sort_values("case_id", kind="stable").reset_index(drop=True)
    pd.testing.assert_frame_equal(a_h, b_h)
    pd.testing.assert_frame_equal(a_m, b_m.reset_index(drop=True))
    pd.testing.assert_frame_equal(a_c, b_c)


# ------------------------------------------------------------------ real logs


def test_bpic2013_counts_match_an_independent_reference(incidents_log):
    """BPIC 2013 incidents (org:group): per-case handoff counts and matrix totals are exact."""
    ho = handoff_delays(incidents_log)
    ev = incidents_log.events
    # reference 1: runs of equal groups per case via itertools.groupby, in plain Python
    ref: dict[str, int] = {}
    grouped = ev[ev["department"].notna()]
    for cid, rows in itertools.groupby(
        zip(grouped["case_id"], grouped["department"], strict=True), key=lambda r: r[0]
    ):
        runs = [k for k, _ in itertools.groupby(g for _, g in rows)]
        ref[cid] = len(runs) - 1
    ours = ho.cases.set_index("case_id")["n_handoffs"]
    assert ours.to_dict() == {k: ref.get(k, 0) for k in ours.index}
    # reference 2: consecutive group changes with pandas shift
    same_case = grouped["case_id"].eq(grouped["case_id"].shift())
    changes = int((same_case & grouped["department"].ne(grouped["department"].shift())).sum())
    assert ho.matrix["count"].sum() == changes == 9454
    assert (ho.handoffs["delay_hours"] >= 0).all()
    assert (ho.cases["handoff_hours"] <= ho.cases["cycle_hours"] + 1e-9).all()
    # lifecycle 'Closed' closes: most incidents are closed
    assert ho.cases["open_at_cutoff"].mean() < 0.5


def test_bpic2013_counts_equal_pm4py_handover_network(incidents_log):
    """pm4py's handover network (beta=0) is our pair count / (events - cases), self-loops aside."""
    pm4py = pytest.importorskip("pm4py")
    ev = incidents_log.events
    df = ev.rename(
        columns={
            "case_id": "case:concept:name",
            "activity": "concept:name",
            "timestamp": "time:timestamp",
            "department": "org:resource",
        }
    )[["case:concept:name", "concept:name", "time:timestamp", "org:resource"]]
    net = pm4py.discover_handover_of_work_network(df, beta=0)
    ho = handoff_delays(incidents_log)
    ours = {
        (a, b): n
        for a, b, n in zip(
            ho.matrix["from_group"], ho.matrix["to_group"], ho.matrix["count"], strict=True
        )
    }
    denom = len(ev) - ev["case_id"].nunique()
    theirs = {k: round(v * denom) for k, v in net.connections.items() if k[0] != k[1]}
    assert theirs == ours


# ------------------------------------------------------------------ sample logs (generator truth)


def _truth(sample_dir):
    truth = sample_dir / "truth"
    if not (truth / "handoffs.csv").is_file() or not (truth / "load.json").is_file():
        pytest.skip(f"generator truth not found in {truth} (sample_logs not generated yet)")
    return truth


def test_sample_logs_against_generator_truth(sample_dir):
    """Per ticket and pair: counts and delays exact; open and ping-pong flags; 销售→售后 median."""
    truth = _truth(sample_dir)
    import svcmining as svc

    log = svc.read_tickets(sample_dir, timezone=TZ)
    ho = handoff_delays(log)
    th = pd.read_csv(truth / "handoffs.csv", dtype={"case_id": str})
    obs = ho.handoffs[~ho.handoffs["pending"]]
    got = obs.groupby(["case_id", "from_group", "to_group"]).agg(
        count=("delay_hours", "size"), hours=("delay_hours", "sum")
    )
    want = th.set_index(["case_id", "from_department", "to_department"])
    assert got.index.sort_values().tolist() == want.index.sort_values().tolist()
    assert got["count"].to_dict() == want["count"].to_dict()
    diff = (got["hours"] - want["delay_hours_sum"].reindex(got.index)).abs()
    assert diff.max() < 1e-3  # the truth is rounded to 4 decimals
    per_pair = want.groupby(level=[1, 2])["count"].sum()
    matrix = ho.matrix.set_index(["from_group", "to_group"])["count"]
    assert matrix[matrix > 0].to_dict() == per_pair.to_dict()

    tc = pd.read_csv(truth / "cases.csv", dtype={"case_id": str}).set_index("case_id")
    cases = ho.cases.set_index("case_id")
    assert cases.index.sort_values().tolist() == tc.index.sort_values().tolist()
    assert cases["n_handoffs"].to_dict() == tc["n_handoffs"].to_dict()
    assert cases["open_at_cutoff"].to_dict() == tc["open_at_cutoff"].astype(bool).to_dict()
    assert cases["ping_pong"].to_dict() == tc["ping_pong"].astype(bool).to_dict()

    load = json.loads((truth / "load.json").read_text(encoding="utf-8"))
    median = load["sales_to_aftersales_median_hours"]
    ours = pair(ho, "销售部", "售后部")["delay_p50_hours"]
    assert math.isclose(ours, median, rel_tol=0.01)


def test_ping_pong_flags_equal_find_rework(incidents_log):
    """The ticket ping-pong flag is find_rework's (shared rule, reopen/self-loop precedence)."""
    from svcmining.rework import find_rework

    ho = handoff_delays(incidents_log)
    rw = find_rework(incidents_log)
    ours = ho.cases.set_index("case_id")["ping_pong"]
    theirs = rw.cases.set_index("case_id")["ping_pong"].reindex(ours.index, fill_value=False)
    assert ours.sum() > 100
    assert ours.to_dict() == theirs.astype(bool).to_dict()
