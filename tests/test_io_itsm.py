"""read_tickets on ITSM exports: headers, DataFrames, formats, zones, state logs, lifecycle."""

from __future__ import annotations

import warnings
from pathlib import Path

import pandas as pd
import pytest

import svcmining as svc
from svcmining.exceptions import DataQualityWarning, InvalidParameterError, SchemaError

SH = "Asia/Shanghai"


def ts(text: str, tz: str = SH) -> pd.Timestamp:
    return pd.Timestamp(text).tz_localize(tz)


def load(tmp: Path, text: str, name: str = "a.csv", **kwargs) -> svc.TicketLog:
    path = tmp / name
    path.write_text(text, encoding="utf-8")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        return svc.read_tickets(path, **kwargs)


# A ServiceNow audit export: one row per update of any field, with the state at that time.
SERVICENOW = (
    "number,incident_state,sys_updated_at,assignment_group,assigned_to,priority,urgency,"
    "impact,caller_id,contact_type,sys_mod_count\n"
    "INC001,New,2024-11-04 09:00:00,L1,Ann,3 - Moderate,2 - Medium,2,U1,Phone,0\n"
    "INC001,New,2024-11-04 09:05:00,L1,Ann,3 - Moderate,1 - High,2,U1,Phone,1\n"
    "INC001,Active,2024-11-04 10:00:00,L2,Cem,3 - Moderate,2 - Medium,2,U1,Phone,2\n"
    "INC001,Active,2024-11-04 11:00:00,L2,Cem,2 - High,2 - Medium,2,U1,Phone,3\n"
    "INC001,Resolved,2024-11-04 12:00:00,L2,Cem,2 - High,2 - Medium,2,U1,Phone,4\n"
    "INC001,Active,2024-11-05 09:00:00,L2,Cem,2 - High,2 - Medium,2,U1,Phone,5\n"
    "INC001,Resolved,2024-11-05 10:00:00,L2,Cem,2 - High,2 - Medium,2,U1,Phone,6\n"
    "INC001,Closed,2024-11-08 10:00:00,L2,Cem,2 - High,2 - Medium,2,U1,Phone,7\n"
    "INC002,New,2024-11-04 09:30:00,L1,Ann,4 - Low,3 - Low,3,U2,Email,0\n"
    "INC002,Awaiting User Info,2024-11-04 10:30:00,L1,Ann,4 - Low,3 - Low,3,U2,Email,1\n"
    "INC002,Awaiting User Info,2024-11-04 10:40:00,L1,Dan,4 - Low,3 - Low,3,U2,Email,2\n"
    "INC002,Resolved,2024-11-04 11:30:00,L1,Dan,4 - Low,3 - Low,3,U2,Email,3\n"
)
SN_REQUIRED = {"case_id": "number", "activity": "incident_state", "timestamp": "sys_updated_at"}


# --------------------------------------------------------------------------- headers


def test_servicenow_with_required_mapping_loads_priority_not_urgency(tmp_path):
    """A mapping of the required fields is enough: 'priority' (exact) beats 'urgency', said so."""
    log = load(tmp_path, SERVICENOW, mapping=SN_REQUIRED, timezone=SH, state_log=False)
    assert log.n_events == 12
    assert log.events["priority"].iloc[:2].tolist() == ["3 - Moderate", "3 - Moderate"]
    assert log.events["urgency"].iloc[0] == "2 - Medium"  # kept as its own column
    notes = "\n".join(log.report.notes)
    assert "column 'priority' read as 'priority' (its exact name)" in notes
    assert "'urgency'" in notes


def test_auto_mapped_optional_columns_are_listed_with_their_source(tmp_path):
    """caller_id -> customer_id and contact_type -> channel are never mapped silently."""
    log = load(tmp_path, SERVICENOW, timezone=SH, state_log=False)
    assert log.report.mapping["a.csv"] == {
        "case_id": "number",
        "activity": "incident_state",
        "timestamp": "sys_updated_at",
        "department": "assignment_group",
        "resource": "assigned_to",
        "priority": "priority",
        "customer_id": "caller_id",
        "channel": "contact_type",
    }
    listed = [n for n in log.report.notes if "optional columns mapped" in n]
    assert listed == [
        "a.csv: optional columns mapped from the headers: resource <- 'assigned_to', "
        "department <- 'assignment_group', channel <- 'contact_type', priority <- 'priority', "
        "customer_id <- 'caller_id' (pass mapping= to map them otherwise)."
    ]


def test_exact_canonical_header_beats_a_synonym_even_for_a_required_column(tmp_path):
    """'activity' (the canonical name) wins over 'status'; two synonyms stay an error."""
    log = load(
        tmp_path,
        "case_id,activity,status,timestamp\nT1,登记,处理中,2024-10-03 09:00\n",
        timezone=SH,
    )
    assert log.report.mapping["a.csv"]["activity"] == "activity"
    assert log.events["status"].tolist() == ["处理中"]
    with pytest.raises(SchemaError, match="could each be 'activity'"):
        load(tmp_path, "ticket,status,处理环节,time\nT1,a,b,2024-10-03 09:00\n", "b.csv")


def test_optional_ambiguity_takes_the_first_synonym_and_says_so(tmp_path):
    """Two equally good department headers: the first-listed synonym is taken, never an error."""
    log = load(
        tmp_path,
        "Issue key,Status,Updated,Team,Component/s\nK-1,Open,2024-10-03 09:00,T1,C1\n",
        timezone=SH,
    )
    assert log.report.mapping["a.csv"]["department"] == "Team"
    assert log.events["Component/s"].tolist() == ["C1"]
    assert any("'Team' read as 'department' (the first of" in n for n in log.report.notes)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (
            "Issue key,Issue id,Status,Created,Updated,Assignee,Component/s,Priority,Reporter",
            {
                "case_id": "Issue key",
                "activity": "Status",
                "timestamp": "Updated",
                "resource": "Assignee",
                "department": "Component/s",
                "priority": "Priority",
                "customer_id": "Reporter",
            },
        ),
        (
            "Ticket ID,Status,Updated at,Assignee,Group,Priority,Requester,Via",
            {
                "case_id": "Ticket ID",
                "activity": "Status",
                "timestamp": "Updated at",
                "resource": "Assignee",
                "department": "Group",
                "priority": "Priority",
                "customer_id": "Requester",
                "channel": "Via",
            },
        ),
        (
            "Ticket ID,Status,Last updated time,Agent,Group,Priority,Source,Contact ID",
            {
                "case_id": "Ticket ID",
                "activity": "Status",
                "timestamp": "Last updated time",
                "resource": "Agent",
                "department": "Group",
                "priority": "Priority",
                "channel": "Source",
                "customer_id": "Contact ID",
            },
        ),
        (
            "number,State,sys_updated_on,Assignment group,assigned_to",
            {
                "case_id": "number",
                "activity": "State",
                "timestamp": "sys_updated_on",
                "department": "Assignment group",
                "resource": "assigned_to",
            },
        ),
    ],
    ids=["jira", "zendesk", "freshdesk", "servicenow_state"],
)
def test_ticket_system_headers_are_known(tmp_path, header, expected):
    """Jira, Zendesk, Freshdesk and ServiceNow headers map without a mapping."""
    n = header.count(",") + 1
    row = ",".join(["X-1", "Open", "2024-11-04 09:12", *["v"] * (n - 3)])
    if header.startswith("Issue key"):  # Issue id and Created come before Updated
        row = "X-1,10001,Open,2024-11-01 08:00,2024-11-04 09:12,v,v,v,v"
    log = load(tmp_path, f"{header}\n{row}\n", timezone=SH)
    assert log.report.mapping["a.csv"] == expected
    assert log.events["timestamp"].tolist() == [ts("2024-11-04 09:12")]


# --------------------------------------------------------------------------- DataFrame


def test_dataframe_is_read_like_a_file(tmp_path):
    """A DataFrame: same mapping, parsing, dedupe and row accounting as its CSV; not modified."""
    text = (
        "工单编号,处理环节,处理时间,处理人\n"
        "GD1,投诉登记,2024-10-03 09:05,张伟\n"
        "GD1,结单,2024/10/04 10:00,李娜\n"
        ",投诉登记,2024-10-05 11:30,张伟\n"
        "GD2,投诉登记,待定,张伟\n"
        "GD1,结单,2024/10/04 10:00,李娜\n"
    )
    from_file = load(tmp_path, text, timezone=SH)
    frame = pd.read_csv(tmp_path / "a.csv", dtype=str, keep_default_na=False)
    before = frame.copy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        from_frame = svc.read_tickets(frame, timezone=SH)
    pd.testing.assert_frame_equal(frame, before)
    pd.testing.assert_frame_equal(from_frame.events, from_file.events)
    rep = from_frame.report
    assert (rep.rows_read, rep.rows_kept, rep.rows_dropped) == (5, 2, 3)
    assert rep.dropped_by_reason() == {
        "missing_case_id": 1,
        "unparseable_timestamp": 1,
        "duplicate_event": 1,
    }
    assert rep.files["file"].tolist() == ["<DataFrame>"]
    assert rep.files["format"].tolist() == ["dataframe"]
    # rows are numbered by position from 1
    examples = rep.dropped.set_index("reason").loc["missing_case_id", "examples"]
    assert examples == [("<DataFrame>", 3, "")]


def test_dataframe_with_typed_times(tmp_path):
    """Datetime columns of a DataFrame are used as they are (naive ones localised)."""
    frame = pd.DataFrame(
        {
            "case_id": ["A", "A"],
            "activity": ["New", "Closed"],
            "timestamp": pd.to_datetime(["2024-11-04 09:00", "2024-11-04 10:30"]),
        }
    )
    log = svc.read_tickets(frame, timezone=SH)
    assert log.events["timestamp"].tolist() == [ts("2024-11-04 09:00"), ts("2024-11-04 10:30")]


# --------------------------------------------------------------------------- time formats


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["04/Nov/24 9:12 AM", "05/NOV/24 12:05 pm"], ["2024-11-04 09:12", "2024-11-05 12:05"]),
        (["04-Nov-2024 09:12", "5-dec-2024 21:00"], ["2024-11-04 09:12", "2024-12-05 21:00"]),
        (["Nov 4, 2024 9:12 PM", "Dec 24, 2024 7:00 AM"], ["2024-11-04 21:12", "2024-12-24 07:00"]),
        (
            ["4 November 2024 09:12", "24 december 2024 07:00"],
            ["2024-11-04 09:12", "2024-12-24 07:00"],
        ),
        (["04/Nov/2024 21:12:05"], ["2024-11-04 21:12:05"]),
    ],
    ids=["jira", "dd-mon-yyyy", "mon-dd-yyyy-ampm", "full-month", "seconds"],
)
def test_month_name_formats(tmp_path, values, expected):
    """English month names (any case, 2- or 4-digit years, AM/PM) parse exactly."""
    text = "工单编号,处理环节,处理时间\n" + "".join(
        f'T{i},登记,"{v}"\n' for i, v in enumerate(values)
    )
    log = load(tmp_path, text, timezone=SH)
    assert sorted(log.events["timestamp"]) == [ts(x) for x in expected]


def test_time_format_wins_over_detection(tmp_path):
    """time_format= reads what detection does not; a value that does not fit it is dropped."""
    text = "工单编号,处理环节,处理时间\nT1,登记,2024|11|04 09h12\nT2,登记,2024-11-04 09:12\n"
    log = load(tmp_path, text, timezone=SH, time_format="%Y|%m|%d %Hh%M")
    assert log.events["timestamp"].tolist() == [ts("2024-11-04 09:12")]
    assert log.report.dropped_by_reason() == {"unparseable_timestamp": 1}
    with pytest.raises(InvalidParameterError, match="'time_format'"):
        load(tmp_path, text, time_format="YYYY-MM-DD")


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"date_order": "mdy"}, "2024-03-10 09:00"),
        ({"date_order": "dmy"}, "2024-10-03 09:00"),
        ({"dayfirst": False}, "2024-03-10 09:00"),
    ],
)
def test_date_order(tmp_path, kwargs, expected):
    """date_order='mdy' reads US month-first dates; 'dmy' day-first."""
    log = load(
        tmp_path, "工单编号,处理环节,处理时间\nT1,登记,03/10/2024 09:00\n", timezone=SH, **kwargs
    )
    assert log.events["timestamp"].tolist() == [ts(expected)]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"date_order": "dmy", "dayfirst": False}, "disagree"),
        ({"date_order": "myd"}, "'date_order'"),
        ({"state_log": "yes"}, "'state_log'"),
        ({"lifecycle": "merge"}, "'lifecycle'"),
    ],
)
def test_bad_options(tmp_path, kwargs, match):
    """Loader options are checked on entry with the accepted values."""
    with pytest.raises(InvalidParameterError, match=match):
        load(tmp_path, "工单编号,处理环节,处理时间\nT1,登记,03/10/2024 09:00\n", **kwargs)


# --------------------------------------------------------------------------- time zone


def test_sop_calendar_zone_reads_naive_times(tmp_path, sample_dir):
    """Naive times are read in the SOP calendar's zone; timezone= still wins; UTC is counted."""
    text = "工单编号,处理环节,处理时间\nT1,投诉登记,2024-10-08 09:00\nT1,结单,2024-10-08 10:00\n"
    sop_path = sample_dir / "sop_complaint.yaml"
    log = load(tmp_path, text, sop=sop_path)
    assert log.events["timestamp"].tolist() == [ts("2024-10-08 09:00"), ts("2024-10-08 10:00")]
    assert (log.report.timezone, log.report.naive_as_utc) == (SH, 0)
    assert any("time zone of the SOP's calendar" in n for n in log.report.notes)
    sop = svc.load_sop(sop_path)
    berlin = load(tmp_path, text, sop=sop, timezone="Europe/Berlin")
    assert berlin.events["timestamp"].iloc[0] == ts("2024-10-08 09:00", "Europe/Berlin")
    utc = load(tmp_path, text)
    assert (utc.report.timezone, utc.report.naive_as_utc) == ("UTC", 2)


# --------------------------------------------------------------------------- state logs


def test_servicenow_audit_rows_merge_into_stays(tmp_path):
    """Status repeats merge (first time, last values); a reassignment keeps its row."""
    log = load(tmp_path, SERVICENOW, timezone=SH)
    ev = log.events
    assert ev["activity"].tolist() == [
        "New",
        "Active",
        "Resolved",
        "Active",
        "Resolved",
        "Closed",
        "New",
        "Awaiting User Info",
        "Awaiting User Info",  # Ann -> Dan: a reassignment inside the wait is its own event
        "Resolved",
    ]
    assert ev["timestamp"].iloc[[0, 1, 7, 8]].tolist() == [
        ts("2024-11-04 09:00"),
        ts("2024-11-04 10:00"),
        ts("2024-11-04 10:30"),
        ts("2024-11-04 10:40"),
    ]
    # the latest values of the stay: New ended at urgency 1, Active at priority 2
    assert ev["urgency"].iloc[0] == "1 - High"
    assert ev["resource"].iloc[[0, 1, 7, 8]].tolist() == ["Ann", "Cem", "Ann", "Dan"]
    assert ev["priority"].iloc[1] == "2 - High"
    assert ev["sys_mod_count"].iloc[[0, 1]].tolist() == ["1", "3"]
    rep = log.report
    assert rep.state_log
    assert (rep.rows_read, rep.rows_kept, rep.rows_dropped) == (12, 10, 2)
    assert rep.dropped_by_reason() == {"status_repeat_merged": 2}
    examples = rep.dropped.set_index("reason").loc["status_repeat_merged", "examples"]
    assert examples == [("a.csv", 3, "New"), ("a.csv", 5, "Active")]
    assert any(n.startswith("2 status-repeat rows merged") for n in rep.notes)


def test_reassignments_inside_a_state_are_handoffs_not_rework(tmp_path):
    """Active(L1), Active(L2), Active(L1): two handoffs and one ping-pong, no self-loop."""
    text = (
        "number,incident_state,sys_updated_at,assignment_group,assigned_to,sys_mod_count\n"
        "INC9,New,2024-11-04 09:00:00,L1,Ann,0\n"
        "INC9,Active,2024-11-04 09:10:00,L1,Ann,1\n"
        "INC9,Active,2024-11-04 09:20:00,L1,Ann,2\n"
        "INC9,Active,2024-11-04 10:00:00,L2,Bob,3\n"
        "INC9,Active,2024-11-04 12:00:00,L1,Ann,4\n"
        "INC9,Resolved,2024-11-04 13:00:00,L1,Ann,5\n"
    )
    log = load(tmp_path, text, timezone=SH)
    assert log.report.dropped_by_reason() == {"status_repeat_merged": 1}
    ho = svc.handoff_delays(log)
    assert ho.handoffs[["from_group", "to_group"]].values.tolist() == [["L1", "L2"], ["L2", "L1"]]
    rw = svc.find_rework(log)
    assert rw.occurrences["kind"].tolist() == ["ping_pong"]
    assert ho.handoffs["ping_pong"].tolist() == [False, True]


def test_state_log_false_keeps_every_row(tmp_path):
    """state_log=False keeps the audit rows as they are."""
    log = load(tmp_path, SERVICENOW, timezone=SH, state_log=False)
    assert (log.n_events, log.report.state_log, log.report.rows_dropped) == (12, False, 0)


JIRA_STATES = (
    "Issue key,Status,Updated,Assignee\n"
    "K-1,Open,04/Nov/24 9:00 AM,a\n"
    "K-1,In Progress,04/Nov/24 9:30 AM,a\n"
    "K-1,In Progress,04/Nov/24 10:00 AM,a\n"
    "K-1,Waiting for customer,04/Nov/24 11:00 AM,b\n"
    "K-1,In Progress,04/Nov/24 1:00 PM,b\n"
    "K-1,Resolved,04/Nov/24 2:00 PM,b\n"
    "K-1,Reopened,05/Nov/24 9:00 AM,b\n"
    "K-1,Resolved,05/Nov/24 10:00 AM,b\n"
    "K-1,Closed,06/Nov/24 10:00 AM,b\n"
    "K-1,Closed,06/Nov/24 10:05 AM,b\n"
)


def test_state_log_detected_from_labels(tmp_path):
    """Without a counter column, an activity column of ticket states is a state log."""
    log = load(tmp_path, JIRA_STATES, timezone=SH)
    assert log.report.state_log
    assert log.report.dropped_by_reason() == {"status_repeat_merged": 2}
    assert log.events["activity"].tolist() == [
        "Open",
        "In Progress",
        "Waiting for customer",
        "In Progress",
        "Resolved",
        "Reopened",
        "Resolved",
        "Closed",
    ]
    assert log.events["resource"].iloc[-1] == "b"


STEP_LOG = (
    "工单编号,处理环节,处理时间\n"
    "GD1,投诉登记,2024-10-03 09:00\n"
    "GD1,远程排障,2024-10-03 10:00\n"
    "GD1,远程排障,2024-10-03 11:00\n"
    "GD1,结单,2024-10-03 12:00\n"
    "GD1,结单,2024-10-03 12:30\n"
)


def test_step_log_repeats_stay(tmp_path):
    """A step log (work steps, not states) keeps a repeated step: a self-loop is rework."""
    log = load(tmp_path, STEP_LOG, timezone=SH)
    assert (log.n_events, log.report.state_log, log.report.rows_dropped) == (5, False, 0)
    forced = load(tmp_path, STEP_LOG, timezone=SH, state_log=True)
    assert forced.events["activity"].tolist() == ["投诉登记", "远程排障", "结单"]
    assert forced.report.dropped_by_reason() == {"status_repeat_merged": 2}


def test_chinese_state_log(tmp_path):
    """Chinese ticket states (待处理, 处理中, 待客户确认, 已解决) are recognised as a state log."""
    text = (
        "工单编号,工单状态,更新时间\n"
        "GD1,待处理,2024-10-03 09:00\n"
        "GD1,处理中,2024-10-03 09:30\n"
        "GD1,处理中,2024-10-03 09:40\n"
        "GD1,待客户确认,2024-10-03 10:00\n"
        "GD1,已解决,2024-10-03 11:00\n"
    )
    log = load(tmp_path, text, timezone=SH)
    assert log.events["activity"].tolist() == ["待处理", "处理中", "待客户确认", "已解决"]
    assert log.report.dropped_by_reason() == {"status_repeat_merged": 1}


def test_sample_exports_are_step_logs(sample_dir):
    """The bundled sample exports are read as step logs: nothing merged."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        log = svc.read_tickets(sample_dir, timezone=SH)
    assert not log.report.state_log
    assert "status_repeat_merged" not in log.report.dropped_by_reason()


# --------------------------------------------------------------------------- lifecycle


def xes(events: list[tuple[str, str, str, str]]) -> bytes:
    """A tiny XES log: (case, activity, time, lifecycle) per event ("" = no lifecycle)."""
    parts = ['<?xml version="1.0" encoding="UTF-8"?>\n<log xes.version="1.0">']
    for case in dict.fromkeys(e[0] for e in events):
        parts.append(f'<trace><string key="concept:name" value="{case}"/>')
        for c, name, time, life in events:
            if c == case:
                lc = f'<string key="lifecycle:transition" value="{life}"/>' if life else ""
                parts.append(
                    f'<event><string key="concept:name" value="{name}"/>'
                    f'<date key="time:timestamp" value="{time}"/>{lc}</event>'
                )
        parts.append("</trace>")
    parts.append("</log>")
    return "".join(parts).encode("utf-8")


def test_lifecycle_start_complete_paired_by_default(tmp_path):
    """START/COMPLETE rows are one event by default; SCHEDULE dropped, counted; keep keeps."""
    path = tmp_path / "a.xes"
    path.write_bytes(
        xes(
            [
                ("c1", "W", "2024-10-03T08:00:00+00:00", "schedule"),
                ("c1", "W", "2024-10-03T09:00:00+00:00", "start"),
                ("c1", "W", "2024-10-03T09:30:00+00:00", "complete"),
                ("c1", "W", "2024-10-03T10:00:00+00:00", "start"),
                ("c1", "W", "2024-10-03T10:20:00+00:00", "complete"),
                ("c1", "A", "2024-10-03T11:00:00+00:00", "complete"),
            ]
        )
    )
    log = svc.read_tickets(path, timezone="UTC")
    ev = log.events
    assert ev["activity"].tolist() == ["W", "W", "A"]
    assert ev["start_timestamp"].iloc[:2].tolist() == [
        pd.Timestamp("2024-10-03 09:00", tz="UTC"),
        pd.Timestamp("2024-10-03 10:00", tz="UTC"),
    ]
    assert log.report.dropped_by_reason() == {"lifecycle_other": 1, "lifecycle_start_merged": 2}
    assert any("paired into one event" in n for n in log.report.notes)
    kept = svc.read_tickets(path, timezone="UTC", lifecycle="keep")
    assert kept.n_events == 6


def test_lifecycle_statuses_are_not_paired(tmp_path):
    """A lifecycle column of statuses (BPIC 2013: In Progress, Closed) or only 'complete' stays."""
    path = tmp_path / "a.xes"
    path.write_bytes(
        xes(
            [
                ("c1", "Accepted", "2024-10-03T09:00:00+00:00", "In Progress"),
                ("c1", "Completed", "2024-10-03T10:00:00+00:00", "Closed"),
                ("c2", "Accepted", "2024-10-03T09:00:00+00:00", "start"),
            ]
        )
    )
    log = svc.read_tickets(path, timezone="UTC")
    assert log.events["lifecycle"].tolist() == ["In Progress", "Closed", "start"]
    assert log.report.rows_dropped == 0
    path2 = tmp_path / "b.xes"
    path2.write_bytes(
        xes(
            [
                ("c1", "A", "2024-10-03T09:00:00+00:00", "complete"),
                ("c1", "B", "2024-10-03T10:00:00+00:00", "complete"),
            ]
        )
    )
    assert svc.read_tickets(path2, timezone="UTC").events["lifecycle"].tolist() == [
        "complete",
        "complete",
    ]


def test_lifecycle_complete_without_start_does_not_take_a_later_start(tmp_path):
    """A COMPLETE before any START stays alone; the START pairs with the COMPLETE after it."""
    path = tmp_path / "a.xes"
    path.write_bytes(
        xes(
            [
                ("c1", "W", "2024-10-03T01:00:00+00:00", "complete"),
                ("c1", "W", "2024-10-03T02:00:00+00:00", "start"),
                ("c1", "W", "2024-10-03T03:00:00+00:00", "complete"),
            ]
        )
    )
    ev = svc.read_tickets(path, timezone="UTC").events
    assert ev["timestamp"].dt.hour.tolist() == [1, 3]
    assert pd.isna(ev["start_timestamp"].iloc[0])
    assert ev["start_timestamp"].iloc[1] == pd.Timestamp("2024-10-03 02:00", tz="UTC")


def test_zendesk_ticket_export_headers(tmp_path):
    """Zendesk's own export: 'Id' (fallback id), 'Updated at' over 'Created at', said so."""
    log = load(
        tmp_path,
        "Id,Requester,Requester id,Assignee,Group,Status,Priority,Via,Created at,Updated at\n"
        "77,Ann,9001,Bo,Support,solved,high,Mail,2024-11-04 08:00,2024-11-04 09:12\n",
        timezone=SH,
    )
    assert log.report.mapping["a.csv"] == {
        "case_id": "Id",
        "customer_id": "Requester",
        "resource": "Assignee",
        "department": "Group",
        "activity": "Status",
        "priority": "Priority",
        "channel": "Via",
        "timestamp": "Updated at",
    }
    assert log.events["timestamp"].tolist() == [ts("2024-11-04 09:12")]
    notes = "\n".join(log.report.notes)
    assert "column 'Updated at' read as 'timestamp' (a better-known name)" in notes
    assert "column 'Requester' read as 'customer_id' (the first of equally good names)" in notes


def test_lifecycle_event_without_transition_is_a_complete(tmp_path):
    """An event without lifecycle:transition in paired data is kept as a complete, not dropped."""
    path = tmp_path / "a.xes"
    path.write_bytes(
        xes(
            [
                ("c1", "W", "2024-10-03T09:00:00+00:00", "start"),
                ("c1", "W", "2024-10-03T09:30:00+00:00", "complete"),
                ("c1", "A", "2024-10-03T10:00:00+00:00", ""),
            ]
        )
    )
    log = svc.read_tickets(path, timezone="UTC")
    assert log.events["activity"].tolist() == ["W", "A"]
    assert log.report.dropped_by_reason() == {"lifecycle_start_merged": 1}


def test_partly_state_labelled_log_is_a_step_log_with_a_hint(tmp_path):
    """60% state labels: not merged, and the report says how to force a state log."""
    text = (
        "工单编号,处理环节,处理时间\n"
        "GD1,New,2024-10-03 09:00\n"
        "GD1,Review,2024-10-03 09:30\n"
        "GD1,Review,2024-10-03 09:40\n"
        "GD1,Active,2024-10-03 10:00\n"
        "GD1,Resolved,2024-10-03 11:00\n"
    )
    log = load(tmp_path, text, timezone=SH)
    assert (log.n_events, log.report.state_log) == (5, False)
    assert any(
        n.startswith("60% of the events carry ticket-state labels") for n in log.report.notes
    )


def test_a_list_of_dataframes_is_refused_with_the_fix():
    """Several DataFrames: an InvalidParameterError saying to concatenate them."""
    frame = pd.DataFrame({"case_id": ["A"], "activity": ["New"], "timestamp": ["2024-11-04"]})
    with pytest.raises(InvalidParameterError, match=r"pd\.concat"):
        svc.read_tickets([frame, frame])
