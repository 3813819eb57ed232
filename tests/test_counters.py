"""check_counters: the export's own counters against derived handoffs, reopens and updates."""

from __future__ import annotations

import pandas as pd
import pytest

import svcmining as svc
from svcmining.counters import COUNTER_SYNONYMS, check_counters

# ServiceNow-shaped audit rows: number, state, assignment group, assignee and the
# ticket's counters at that update (reassignment_count, reopen_count, sys_mod_count)
SN_ROWS = [
    # INC001: no handoff, no reopen, 4 rows = 3 updates: all equal
    ("INC001", "New", "L1", "ann", "0", "0", "0"),
    ("INC001", "Active", "L1", "ann", "0", "0", "1"),
    ("INC001", "Resolved", "L1", "ann", "0", "0", "2"),
    ("INC001", "Closed", "L1", "ann", "0", "0", "3"),
    # INC002: L1 -> L2 once, Resolved -> Active once: all equal
    ("INC002", "New", "L1", "ann", "0", "0", "0"),
    ("INC002", "Active", "L2", "bob", "1", "0", "1"),
    ("INC002", "Resolved", "L2", "bob", "1", "0", "2"),
    ("INC002", "Active", "L2", "bob", "1", "1", "3"),
    ("INC002", "Resolved", "L2", "bob", "1", "1", "4"),
    ("INC002", "Closed", "L2", "bob", "1", "1", "5"),
    # INC003: the export missed updates: 2 handoffs seen, counter 3; 4 updates seen, 7
    ("INC003", "New", "L1", "ann", "0", "0", "0"),
    ("INC003", "Active", "L2", "bob", "2", "0", "3"),
    ("INC003", "Active", "L3", "cy", "3", "0", "5"),
    ("INC003", "Resolved", "L3", "cy", "3", "0", "6"),
    ("INC003", "Closed", "L3", "cy", "3", "0", "7"),
    # INC004: L1 -> L2 -> L1 is 2 handoffs, the system counted 1: above
    ("INC004", "New", "L1", "ann", "0", "0", "0"),
    ("INC004", "Active", "L2", "bob", "1", "0", "1"),
    ("INC004", "Active", "L1", "ann", "1", "0", "2"),
    ("INC004", "Resolved", "L1", "ann", "1", "0", "3"),
    ("INC004", "Closed", "L1", "ann", "1", "0", "4"),
    # INC005: reopened twice in the log, once by the counter: above
    ("INC005", "New", "L1", "ann", "0", "0", "0"),
    ("INC005", "Active", "L1", "ann", "0", "0", "1"),
    ("INC005", "Resolved", "L1", "ann", "0", "0", "2"),
    ("INC005", "Active", "L1", "ann", "0", "1", "3"),
    ("INC005", "Resolved", "L1", "ann", "0", "1", "4"),
    ("INC005", "Active", "L1", "ann", "0", "1", "5"),
    ("INC005", "Resolved", "L1", "ann", "0", "1", "6"),
    ("INC005", "Closed", "L1", "ann", "0", "1", "7"),
    # INC006: last reassignment value is not a number; no reopen counter at all
    ("INC006", "New", "L1", "ann", "0", None, "0"),
    ("INC006", "Active", "L1", "ann", "0", None, "1"),
    ("INC006", "Resolved", "L1", "ann", "two", None, "2"),
    ("INC006", "Closed", "L1", "ann", None, None, "3"),
]
SN_COLUMNS = [
    "case_id",
    "activity",
    "department",
    "resource",
    "reassignment_count",
    "reopen_count",
    "sys_mod_count",
]


def sn_events() -> pd.DataFrame:
    df = pd.DataFrame(SN_ROWS, columns=SN_COLUMNS)
    start = pd.Timestamp("2024-03-01 08:00", tz="UTC")
    df["timestamp"] = start + pd.to_timedelta(range(len(df)), unit="h")
    return df


def table(check) -> pd.DataFrame:
    return check.table.set_index("counter")


def test_servicenow_counts_equal_below_above():
    """Per counter: exact tickets, equal, below, above, unparseable and shares."""
    t = table(check_counters(sn_events()))
    cols = ["column", "tickets", "equal", "below", "above", "unparseable"]
    assert t[cols].to_dict("index") == {
        "reassignments": {
            "column": "reassignment_count",
            "tickets": 5,
            "equal": 3,
            "below": 1,
            "above": 1,
            "unparseable": 1,
        },
        "reopens": {
            "column": "reopen_count",
            "tickets": 5,
            "equal": 4,
            "below": 0,
            "above": 1,
            "unparseable": 0,
        },
        "updates": {
            "column": "sys_mod_count",
            "tickets": 6,
            "equal": 5,
            "below": 1,
            "above": 0,
            "unparseable": 0,
        },
    }
    assert t["share_equal"].tolist() == pytest.approx([3 / 5, 4 / 5, 5 / 6])
    assert t["share_not_above"].tolist() == pytest.approx([4 / 5, 4 / 5, 1.0])
    assert t["derived_from"].str.contains("'department'").tolist() == [True, False, False]


def test_more_handoffs_than_counter_is_above_with_examples():
    """A ticket with more handoffs/reopens in the log than its counter is flagged above."""
    cc = check_counters(sn_events())
    t = table(cc)
    assert t.loc["reassignments", "examples"] == [
        "ticket INC004: reassignment_count 1, derived 2 (above)",
        "ticket INC003: reassignment_count 3, derived 2 (below)",
    ]
    assert t.loc["reopens", "examples"] == ["ticket INC005: reopen_count 1, derived 2 (above)"]
    assert cc.severity == "warning"
    above = cc.cases[cc.cases["agreement"] == "above"]
    assert above[["case_id", "counter", "system_value", "derived_value"]].values.tolist() == [
        ["INC004", "reassignments", 1, 2],
        ["INC005", "reopens", 1, 2],
    ]


def test_cases_table_uses_the_last_value_and_marks_unparseable():
    """A ticket's counter is its last non-missing value; an unparseable last value is kept out."""
    cc = check_counters(sn_events())
    c = cc.cases[cc.cases["counter"] == "reassignments"].set_index("case_id")
    assert c["system_value"].tolist()[:5] == [0, 1, 3, 1, 0]  # INC003: 0, 2, 3, 3, 3 -> 3
    assert c.loc["INC006", "agreement"] == "unparseable"
    assert pd.isna(c.loc["INC006", "system_value"])
    assert c.loc["INC006", "derived_value"] == 0
    # INC006 has no reopen counter at all: no row
    assert "INC006" not in set(cc.cases.loc[cc.cases["counter"] == "reopens", "case_id"])
    assert cc.notes == (
        "'reassignment_count': 1 value(s) are not a count and were not read (e.g. 'two').",
    )
    assert cc.disagreeing_events == 18  # INC003 (5), INC004 (5), INC005 (8)


def test_derived_values_are_the_analyses_figures():
    """Derived handoffs and reopens equal handoff_delays' and find_rework's; reusing them agrees."""
    ev = sn_events()
    log = svc.as_ticket_log(ev)
    ho = svc.handoff_delays(log)
    rw = svc.find_rework(log)
    cc = check_counters(log)
    d = cc.cases.pivot(index="case_id", columns="counter", values="derived_value")
    assert d["reassignments"].tolist() == ho.cases["n_handoffs"].tolist()
    assert d["reopens"].dropna().tolist() == rw.cases["n_reopen"].tolist()[:5]
    reused = check_counters(log, handoffs=ho, rework=rw)
    pd.testing.assert_frame_equal(reused.table, cc.table)
    pd.testing.assert_frame_equal(reused.cases, cc.cases)


def test_chinese_headers_read_from_an_export(tmp_path):
    """转派次数 / 重开次数 of a Chinese export are found by their headers and compared."""
    head = "工单编号,工单状态,处理时间,处理部门,处理人,转派次数,重开次数\n"
    body = (
        "A1,新建,2024-10-01 09:00,客服,张,0,0\n"
        "A1,处理中,2024-10-01 10:00,技术,李,1,0\n"
        "A1,已解决,2024-10-01 11:00,技术,李,1,0\n"
        "A1,已关闭,2024-10-01 12:00,客服,张,2,0\n"
        "A2,新建,2024-10-02 09:00,客服,张,0,0\n"
        "A2,处理中,2024-10-02 10:00,客服,张,0,0\n"
        "A2,已解决,2024-10-02 11:00,客服,张,0,0\n"
        "A2,重新打开,2024-10-02 12:00,客服,张,0,1\n"
        "A2,处理中,2024-10-02 13:00,技术,李,1,1\n"
        "A2,已解决,2024-10-02 14:00,技术,李,1,1\n"
        "A2,已关闭,2024-10-02 15:00,技术,李,1,1\n"
        "A3,新建,2024-10-03 09:00,客服,张,0,\n"
        "A3,处理中,2024-10-03 10:00,技术,李,1,\n"
        "A3,已解决,2024-10-03 11:00,售后,王,1,\n"
    )
    (tmp_path / "a.csv").write_text(head + body, encoding="utf-8")
    log = svc.read_tickets(tmp_path / "a.csv", timezone="Asia/Shanghai")
    t = table(check_counters(log))
    assert t[["column", "tickets", "equal", "below", "above"]].to_dict("index") == {
        "reassignments": {"column": "转派次数", "tickets": 3, "equal": 2, "below": 0, "above": 1},
        "reopens": {"column": "重开次数", "tickets": 2, "equal": 2, "below": 0, "above": 0},
    }
    assert t.loc["reassignments", "examples"] == ["ticket A3: 转派次数 1, derived 2 (above)"]


def test_no_counter_gives_an_empty_table_and_ok():
    """A log without counter columns: empty table, severity ok, quality row ok with 0 events."""
    ev = sn_events().drop(columns=["reassignment_count", "reopen_count", "sys_mod_count"])
    cc = check_counters(ev)
    assert not cc.found
    assert cc.table.empty and cc.cases.empty
    assert list(cc.table.columns)[:4] == ["counter", "column", "derived_from", "tickets"]
    assert cc.severity == "ok"
    q = svc.check_quality(ev).set_index("check").loc["system_counters"]
    assert (q["severity"], q["events"], q["cases"], q["examples"]) == ("ok", 0, 0, [])
    assert q["description"].endswith("no counter column found")


def test_quality_row_reports_the_comparison():
    """check_quality's system_counters row: warning, disagreeing tickets, above examples first."""
    q = svc.check_quality(sn_events()).set_index("check").loc["system_counters"]
    assert (q["severity"], q["events"], q["cases"]) == ("warning", 18, 3)
    assert q["examples"] == [
        "ticket INC004: reassignment_count 1, derived 2 (above)",
        "ticket INC005: reopen_count 1, derived 2 (above)",
        "ticket INC003: reassignment_count 3, derived 2 (below)",
        "ticket INC003: sys_mod_count 7, derived 4 (below)",
        "'reassignment_count': 1 value(s) are not a count and were not read (e.g. 'two').",
    ]
    assert "reassignment_count vs handoffs by 'department'" in q["description"]
    assert "3 of 5 tickets equal (60.0%), 1 below, 1 above" in q["description"]


def test_quality_severity_info_when_only_below_and_ok_when_equal():
    """Only derived-below disagreements are info; full agreement is ok with 0 events."""
    ev = sn_events()
    ev = ev[ev["case_id"].isin(["INC001", "INC002", "INC003"])]
    q = svc.check_quality(ev).set_index("check").loc["system_counters"]
    assert (q["severity"], q["events"], q["cases"]) == ("info", 5, 1)
    ev2 = ev[ev["case_id"].isin(["INC001", "INC002"])]
    q2 = svc.check_quality(ev2).set_index("check").loc["system_counters"]
    assert (q2["severity"], q2["events"], q2["cases"]) == ("ok", 0, 0)


def test_explicit_counters_and_assignee_counters():
    """counters= names the columns; an assignee counter is compared with resource handoffs."""
    ev = sn_events().rename(columns={"reassignment_count": "grp moves"})
    cc = check_counters(ev, counters={"reassignments": "grp moves"})
    assert table(cc).loc["reassignments", ["column", "equal", "below", "above"]].tolist() == [
        "grp moves",
        3,
        1,
        1,
    ]
    assert check_counters(ev, counters={}).found is False
    # an assignee counter: handoffs between resources (INC002 ann -> bob, INC004 ann->bob->ann)
    ev2 = sn_events().drop(columns=["reassignment_count", "reopen_count", "sys_mod_count"])
    ev2["# Assignee changes"] = ev2["case_id"].map({"INC002": 1, "INC004": 1}).astype("Int64")
    t = table(check_counters(ev2))
    assert t.loc["reassignments", "derived_from"].startswith("handoffs by 'resource'")
    assert t.loc["reassignments", ["tickets", "equal", "above"]].tolist() == [2, 1, 1]


def test_missing_group_column_is_not_compared():
    """Without the grouping column the reassignment counter is listed, not compared."""
    ev = sn_events().drop(columns=["department", "reopen_count", "sys_mod_count"])
    cc = check_counters(ev)
    row = table(cc).loc["reassignments"]
    assert (row["tickets"], row["equal"], row["above"]) == (0, 0, 0)
    assert pd.isna(row["share_equal"])
    assert "no 'department' column" in row["derived_from"]
    assert cc.describe().startswith("reassignment_count: no ticket compared (the log has no")
    assert set(cc.cases["agreement"]) == {"not compared", "unparseable"}
    assert cc.severity == "info"  # INC006's unparseable value


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["3", "3.0", " 1,024 ", "３"], [3, 3, 1024, 3]),
        ([3, 2.0, 7, 0], [3, 2, 7, 0]),
    ],
)
def test_text_and_number_values_are_read(values, expected):
    """Counts written as text, with thousands separators, full-width or as floats are read."""
    ev = pd.DataFrame(
        {
            "case_id": ["a", "b", "c", "d"],
            "activity": "New",
            "timestamp": pd.Timestamp("2024-01-01", tz="UTC"),
            "sys_mod_count": values,
        }
    )
    cc = check_counters(ev)
    assert cc.cases["system_value"].tolist() == expected


@pytest.mark.parametrize("bad", ["n/a", "2.5", "-1", "x3"])
def test_unparseable_values_are_reported_not_guessed(bad):
    """A value that is not a non-negative whole number is unparseable, never read as 0."""
    ev = pd.DataFrame(
        {
            "case_id": ["a", "a"],
            "activity": ["New", "Active"],
            "timestamp": pd.date_range("2024-01-01", periods=2, freq="h", tz="UTC"),
            "reopen_count": ["0", bad],
        }
    )
    cc = check_counters(ev)
    assert table(cc).loc["reopens", ["tickets", "unparseable"]].tolist() == [0, 1]
    assert cc.notes == (
        f"'reopen_count': 1 value(s) are not a count and were not read (e.g. {bad!r}).",
    )


def test_header_synonyms_are_loose():
    """Synonyms match ignoring case, spaces and punctuation (# Reassignments, No. of Reopens)."""
    ev = sn_events().drop(columns=["reassignment_count", "reopen_count", "sys_mod_count"])
    ev["# REASSIGNMENTS"] = "0"
    ev["No. of Reopens"] = "0"
    ev["更新次数"] = "0"
    t = table(check_counters(ev))
    assert t["column"].to_dict() == {
        "reassignments": "# REASSIGNMENTS",
        "reopens": "No. of Reopens",
        "updates": "更新次数",
    }
    assert set(COUNTER_SYNONYMS) == {"reassignments", "reopens", "updates"}


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"counters": {"moves": "reassignment_count"}}, svc.InvalidParameterError, "keys must"),
        ({"counters": {"reopens": "nope"}}, svc.SchemaError, "no column 'nope'"),
        ({"counters": ["reopen_count"]}, svc.InvalidParameterError, "must be a dict"),
        ({"by": "timestamp"}, svc.InvalidParameterError, "'by' parameter"),
        ({"handoffs": "x"}, svc.InvalidParameterError, "HandoffResult"),
        ({"rework": 3}, svc.InvalidParameterError, "ReworkResult"),
    ],
)
def test_bad_options(kwargs, error, match):
    """Bad options are refused with a message that says what was expected."""
    with pytest.raises(error, match=match):
        check_counters(sn_events(), **kwargs)


def test_results_of_another_log_are_refused():
    """A handoff or rework result of another log cannot stand in for this log's figures."""
    other = svc.as_ticket_log(sn_events().iloc[:4])
    with pytest.raises(svc.InvalidParameterError, match="another log"):
        check_counters(sn_events(), handoffs=svc.handoff_delays(other))
    with pytest.raises(svc.InvalidParameterError, match="another log"):
        check_counters(sn_events(), rework=svc.find_rework(other))


def test_report_shows_the_counter_table():
    """The report's data-quality section shows the counter table only when counters exist."""
    rep = svc.build_report(sn_events(), sections=["quality"])
    body = rep.section("quality").body
    assert "<h3>System counters</h3>" in body
    assert "ticket INC004: reassignment_count 1, derived 2 (above)" in body
    assert rep.results["counters"].found
    plain = sn_events().drop(columns=["reassignment_count", "reopen_count", "sys_mod_count"])
    rep2 = svc.build_report(plain, sections=["quality"])
    assert "System counters" not in rep2.section("quality").body


@pytest.mark.real_logs
def test_bpic2013_incidents_has_no_counters(incidents_log):
    """BPIC 2013 incidents has no counter column: an empty check, and the quality row is ok."""
    cc = check_counters(incidents_log)
    assert not cc.found and cc.cases.empty
    q = svc.check_quality(incidents_log).set_index("check").loc["system_counters"]
    assert (q["severity"], q["events"]) == ("ok", 0)
    # explicit columns are compared on the real log: a per-ticket row count (every ticket
    # is one update below it) and a zero reassignment counter (every ticket with a
    # handoff between org:group values is above it)
    ev = incidents_log.events
    log = incidents_log.with_events(
        ev.assign(n_rows=ev.groupby("case_id", sort=False)["case_id"].transform("size"), zero=0)
    )
    t = table(check_counters(log, counters={"updates": "n_rows", "reassignments": "zero"}))
    assert t.loc["updates", ["tickets", "equal", "below", "above"]].tolist() == [7554, 0, 7554, 0]
    moved = int((svc.handoff_delays(incidents_log).cases["n_handoffs"] > 0).sum())
    assert t.loc["reassignments", ["tickets", "above"]].tolist() == [7554, moved]
    assert 0 < moved < 7554


def test_row_order_and_case_names_change_nothing():
    """Shuffled rows give the same comparison; renamed tickets only rename the cases table."""
    ev = sn_events()
    base = check_counters(ev)
    shuffled = check_counters(ev.sample(frac=1.0, random_state=7))
    pd.testing.assert_frame_equal(shuffled.table, base.table)
    pd.testing.assert_frame_equal(shuffled.cases, base.cases)
    renamed = check_counters(ev.assign(case_id="T-" + ev["case_id"]))
    pd.testing.assert_frame_equal(
        renamed.table.drop(columns="examples"), base.table.drop(columns="examples")
    )
    assert (renamed.cases["case_id"] == "T-" + base.cases["case_id"]).all()
