"""Tests for svcmining.filters: each filter on a tiny log, the stack, its YAML, pm4py parity."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import svcmining as svc
from svcmining.calendars import Calendar
from svcmining.eventlog import TicketLog
from svcmining.exceptions import InvalidParameterError
from svcmining.filters import (
    FILTERS,
    Attribute,
    Between,
    Deviation,
    Duration,
    Endpoints,
    FilterStack,
    Follows,
    Handoff,
    Rework,
    SLABreach,
    TimeFrame,
    Variants,
    apply_filters,
)

REPO = Path(__file__).resolve().parents[1]
SOP_PATH = REPO / "sample_logs" / "sop_complaint.yaml"
TZ = "Asia/Shanghai"

# T1 Mon 7 Oct: 4 h, 客服→售后→技术→客服, closed       (电话, score 1)
# T2 Tue 8 Oct: 1 h, 客服 only, closed                    (微信, score 5)
# T3 Wed 9 Oct 17:00 → Thu 10:00: 17 h, 评估 twice, open  (微信, score 3)
# T4 Thu 31 Oct 23:00 → Sat 2 Nov 09:00: 34 h, closed     (电话, score 4)
ROWS = [
    ("T1", "登记", "2024-10-07 09:00", "客服", "电话", 1),
    ("T1", "评估", "2024-10-07 10:00", "售后", "电话", 1),
    ("T1", "维修", "2024-10-07 12:00", "技术", "电话", 1),
    ("T1", "结单", "2024-10-07 13:00", "客服", "电话", 1),
    ("T2", "登记", "2024-10-08 09:00", "客服", "微信", 5),
    ("T2", "结单", "2024-10-08 10:00", "客服", "微信", 5),
    ("T3", "登记", "2024-10-09 17:00", "客服", "微信", 3),
    ("T3", "评估", "2024-10-09 17:30", "售后", "微信", 3),
    ("T3", "评估", "2024-10-10 09:30", "售后", "微信", 3),
    ("T3", "维修", "2024-10-10 10:00", "售后", "微信", 3),
    ("T4", "登记", "2024-10-31 23:00", "客服", "电话", 4),
    ("T4", "评估", "2024-11-01 08:00", "售后", "电话", 4),
    ("T4", "维修", "2024-11-01 20:00", "技术", "电话", 4),
    ("T4", "结单", "2024-11-02 09:00", "客服", "电话", 4),
]
ALL = ["T1", "T2", "T3", "T4"]
CAL = Calendar()  # Mon-Fri 09:00-18:00 Asia/Shanghai, no holidays


def tiny_frame() -> pd.DataFrame:
    """The four hand-made tickets above."""
    df = pd.DataFrame(
        ROWS, columns=["case_id", "activity", "timestamp", "department", "channel", "score"]
    )
    df["timestamp"] = pd.to_datetime(df["timestamp"]).dt.tz_localize(TZ)
    return df


@pytest.fixture
def tiny() -> TicketLog:
    """The tiny log as a TicketLog."""
    return svc.as_ticket_log(tiny_frame())


def ids(log: TicketLog) -> list[str]:
    return sorted(log.events["case_id"].unique().tolist())


OCT = ("2024-10-01", "2024-11-01")
CASES = [
    (TimeFrame(*OCT, mode="contained"), ["T1", "T2", "T3"]),
    (TimeFrame(*OCT, mode="intersecting"), ALL),
    (TimeFrame(*OCT, mode="started"), ALL),
    (TimeFrame("2024-10-07 14:00", "2024-10-08 09:00", mode="intersecting"), []),
    (TimeFrame("2024-10-07 14:00", "2024-10-08 09:00", mode="overlapping"), []),
    (TimeFrame("2024-10-07 12:30", "2024-10-08 09:00", mode="overlapping"), ["T1"]),
    (TimeFrame("2024-10-10", "2024-10-10 09:00", mode="overlapping"), ["T3"]),
    (TimeFrame("2024-10-10", "2024-10-10 09:00", mode="intersecting"), []),
    (TimeFrame(*OCT, mode="completed"), ["T1", "T2", "T3"]),
    (TimeFrame("2024-10-08", None, mode="started"), ["T2", "T3", "T4"]),
    (TimeFrame(*OCT, mode="contained", keep=False), ["T4"]),
    (Variants(top=1), ["T1", "T4"]),
    (Variants(coverage=0.5), ["T1", "T4"]),
    (Variants(coverage=0.51), ["T1", "T2", "T4"]),
    (Variants(sequences=[["登记", "结单"]]), ["T2"]),
    (Variants(top=1, keep=False), ["T2", "T3"]),
    (Attribute("channel", "equals", "微信"), ["T2", "T3"]),
    (Attribute("channel", "in", ["电话"]), ["T1", "T4"]),
    (Attribute("channel", "not_in", ["电话"]), ["T2", "T3"]),
    (Attribute("score", "range", [3, 4]), ["T3", "T4"]),
    (Attribute("score", "range", [None, 3]), ["T1", "T3"]),
    (Attribute("activity", "regex", "^维"), ["T1", "T3", "T4"]),
    (Attribute("activity", "regex", "^维", keep=False), ["T2"]),
    (Attribute("department", "equals", "技术"), ["T1", "T4"]),
    (Endpoints(start="登记"), ALL),
    (Endpoints(end="结单"), ["T1", "T2", "T4"]),
    (Endpoints(end="结单", keep=False), ["T3"]),
    (Endpoints(start="登记", end=["维修", "结单"]), ALL),
    (Endpoints(open_at_cutoff=True), ["T3"]),
    (Endpoints(open_at_cutoff=False), ["T1", "T2", "T4"]),
    (Follows("评估", "维修"), ["T1", "T3", "T4"]),
    (Follows("评估", "维修", max_hours=1), ["T3"]),
    (Follows("评估", "维修", min_hours=10), ["T4"]),
    (Follows("评估", "维修", keep=False), ["T2"]),
    (Follows("评估", "维修", same="department"), ["T3"]),
    (Follows("评估", "维修", different="department"), ["T1", "T4"]),
    (Follows("登记", "维修", relation="eventually"), ["T1", "T3", "T4"]),
    (Follows("登记", "维修", relation="eventually", max_hours=4), ["T1"]),
    (Follows("登记", "维修", relation="eventually", min_hours=18), ["T4"]),
    (Follows("评估", "维修", relation="eventually", same="department"), ["T3"]),
    (Follows("评估", "维修", relation="eventually", same="department", min_hours=10), ["T3"]),
    (Follows("评估", "维修", relation="eventually", same="department", min_hours=17), []),
    (Follows("评估", "维修", relation="eventually", different="department"), ["T1", "T4"]),
    (Follows("登记", "维修", relation="eventually", different="department"), ["T1", "T3", "T4"]),
    (Follows("维修", "登记", relation="eventually"), []),
    (Follows("评估", "评估", relation="eventually", max_hours=16), ["T3"]),
    (Follows("评估", "评估", relation="eventually", max_hours=15), []),
    (Follows("评估", "维修", max_hours=1, calendar=CAL), ["T3"]),
    (Follows("登记", "维修", relation="eventually", max_hours=2, calendar=CAL), ["T3"]),
    (Duration(min_hours=10), ["T3", "T4"]),
    (Duration(max_hours=4), ["T1", "T2"]),
    (Duration(min_hours=2, max_hours=17), ["T1", "T3"]),
    (Duration(percentile=(0.75, 1.0)), ["T4"]),
    (Duration(percentile=(0.0, 0.5)), ["T1", "T2"]),
    (Duration(min_hours=5, calendar=CAL), ["T4"]),
    (Duration(max_hours=2, calendar=CAL), ["T2", "T3"]),
    (Between("登记", "维修"), ["T1", "T3", "T4"]),
    (Between("登记", "维修", min_hours=10), ["T3", "T4"]),
    (Between("登记", "维修", max_hours=2, calendar=CAL), ["T3"]),
    (Between("登记", "维修", min_hours=10, keep=False), ["T1", "T2"]),
    (Rework(), ["T3"]),
    (Rework(kinds="self_loop"), ["T3"]),
    (Rework(kinds="reopen"), []),
    (Rework(keep=False), ["T1", "T2", "T4"]),
    (Handoff("客服", "售后"), ["T1", "T3", "T4"]),
    (Handoff("售后", "技术"), ["T1", "T4"]),
    (Handoff(None, "客服"), ["T1", "T4"]),
    (Handoff("售后", None, keep=False), ["T2", "T3"]),
    (Handoff(by="channel"), []),
]


@pytest.mark.parametrize(("flt", "expected"), CASES, ids=[repr(c[0]) for c in CASES])
def test_each_filter_keeps_the_hand_computed_tickets(tiny, flt, expected):
    """Every filter keeps exactly the tickets worked out by hand on the tiny log."""
    out = flt.apply(tiny)
    assert ids(out) == expected
    n_events = {c: int((tiny.events["case_id"] == c).sum()) for c in ALL}
    row = out.filters.iloc[-1]
    assert row["filter"] == repr(flt)
    assert (row["tickets_kept"], row["tickets_removed"]) == (len(expected), 4 - len(expected))
    kept_events = sum(n_events[c] for c in expected)
    assert (row["events_kept"], row["events_removed"]) == (kept_events, 14 - kept_events)


@pytest.mark.parametrize(
    ("flt", "activities"),
    [
        (TimeFrame(*OCT, mode="trim"), [4, 2, 4, 1]),
        (TimeFrame(*OCT, mode="trim", keep=False), [0, 0, 0, 3]),
        (Attribute("activity", "regex", "^维", level="event"), [1, 0, 1, 1]),
        (Attribute("department", "in", ["客服"], level="event", keep=False), [2, 0, 3, 2]),
        (
            Attribute("timestamp", "range", ["2024-10-09", "2024-10-10"], level="event"),
            [0, 0, 2, 0],
        ),
        (Between("登记", "维修", trim=True), [3, 0, 4, 3]),
        (Between("登记", "维修", min_hours=10, trim=True), [0, 0, 4, 3]),
        (Between("评估", "评估", trim=True), [0, 0, 2, 0]),
    ],
)
def test_event_level_filters_keep_the_hand_computed_events(tiny, flt, activities):
    """Event-level filters (trim, event attributes, trimmed between) keep exactly these events."""
    out = flt.apply(tiny)
    counts = out.events["case_id"].value_counts().reindex(ALL, fill_value=0).tolist()
    assert counts == activities
    assert out.filters["events_kept"].tolist() == [sum(activities)]


def test_open_at_cutoff_uses_the_library_judge(tiny):
    """Endpoints(open_at_cutoff) keeps exactly the tickets svc.open_cases calls open."""
    is_open = svc.open_cases(tiny)
    assert ids(Endpoints(open_at_cutoff=True).apply(tiny)) == sorted(is_open[is_open].index)
    out = Endpoints(open_at_cutoff=True, close_activities=["维修"]).apply(tiny)
    assert ids(out) == ["T2"]


def test_stack_applies_in_order_and_records_each_step(tiny):
    """A stack filters in order; log.filters has one exact row per filter, chains append."""
    stack = FilterStack([TimeFrame(*OCT, mode="contained"), Attribute("channel", "equals", "微信")])
    out = stack.apply(tiny)
    assert ids(out) == ["T2", "T3"]
    assert out.filters.to_dict("list") == {
        "filter": [repr(stack.filters[0]), repr(stack.filters[1])],
        "tickets_kept": [3, 2],
        "tickets_removed": [1, 1],
        "events_kept": [10, 6],
        "events_removed": [4, 4],
    }
    again = apply_filters(out, [Variants(top=1)])
    assert again.filters["tickets_kept"].tolist() == [3, 2, 1]
    assert tiny.filters.empty and list(tiny.filters.columns) == list(out.filters.columns)
    assert out.with_events(out.events).filters.equals(out.filters)


def test_keep_and_remove_partition_on_a_frame_input():
    """A DataFrame input is validated; keep and keep=False split its tickets without overlap."""
    df = tiny_frame().sample(frac=1, random_state=3)  # unsorted input
    kept = Follows("评估", "维修", max_hours=3).apply(df)
    removed = Follows("评估", "维修", max_hours=3, keep=False).apply(df)
    assert ids(kept) == ["T1", "T3"] and ids(removed) == ["T2", "T4"]


def test_wrappers_record_their_filter(tiny):
    """filter_time / filter_variants / filter_cases / filter_rework go through the filters."""
    out = svc.filter_time(tiny, *OCT, mode="completed")
    assert (
        ids(out) == ["T1", "T2", "T3"] and out.filters["filter"].str.startswith("TimeFrame").all()
    )
    assert ids(svc.filter_variants(tiny, top=1)) == ["T1", "T4"]
    assert ids(svc.filter_cases(tiny, channel="微信", activity=lambda s: s == "维修")) == ["T3"]
    assert svc.filter_cases(tiny, channel=["电话"]).filters["filter"].tolist() == [
        "Attribute(column='channel', op='in', value=('电话',))"
    ]
    assert svc.filter_rework(tiny_frame(), kind="self_loop")["case_id"].unique().tolist() == ["T3"]
    assert svc.filter_rework(tiny_frame(), kind=[]).empty


def test_reprs_are_readable():
    """A filter's repr names only what differs from the defaults."""
    assert repr(TimeFrame("2024-11-01", "2024-12-01 08:30")) == (
        "TimeFrame(start='2024-11-01', end='2024-12-01 08:30:00')"
    )
    assert repr(Follows("A", "B", max_hours=4, calendar=CAL)) == (
        "Follows(a=('A',), b=('B',), max_hours=4.0, calendar=business hours)"
    )
    assert repr(Handoff("售后部", "技术支持部")) == "Handoff(source='售后部', target='技术支持部')"
    assert "Variants(top=2)" in repr(FilterStack([Variants(top=2)]))


# ----------------------------------------------------------------------------------------------
# YAML


def test_yaml_round_trip_of_every_filter(tmp_path):
    """to_yaml -> from_yaml gives an equal stack for every filter of the tiny-log table."""
    stack = FilterStack([c[0] for c in CASES], sop="sop.yaml")
    path = tmp_path / "filters.yaml"
    text = stack.to_yaml(path)
    assert "维修" in text  # Chinese labels written as text, not escapes
    back = FilterStack.from_yaml(path)
    assert dataclasses.replace(back, sop="sop.yaml") == stack
    assert back.sop == str(tmp_path / "sop.yaml")  # relative to the YAML file
    assert FilterStack.from_dict(stack.to_dict()) == stack
    times = FilterStack([Attribute("timestamp", "range", [pd.Timestamp("2024-10-09 08:00"), None])])
    times.to_yaml(path)
    assert "2024-10-09 08:00:00" in path.read_text(encoding="utf-8")
    assert ids(FilterStack.from_yaml(path).apply(tiny_frame())) == ["T3", "T4"]


def test_yaml_file_applies_like_python(tmp_path, tiny):
    """A hand-written filters.yaml (dates, business_hours, top-level calendar) slices as Python."""
    path = tmp_path / "filters.yaml"
    path.write_text(
        "calendar: {workdays: Mon-Fri, hours: ['09:00-18:00'], timezone: Asia/Shanghai}\n"
        "filters:\n"
        "  - time_frame: {start: 2024-10-01, end: 2024-11-01, mode: contained}\n"
        "  - follows: {a: 登记, b: 维修, relation: eventually, max_hours: 2, business_hours: true}\n",
        encoding="utf-8",
    )
    out = svc.apply_filters(tiny, path)
    python = FilterStack(
        [
            TimeFrame(*OCT, mode="contained"),
            Follows("登记", "维修", relation="eventually", max_hours=2, calendar=CAL),
        ]
    )
    assert FilterStack.from_yaml(path) == python
    assert ids(out) == ["T3"]
    assert out.filters.equals(python.apply(tiny).filters)
    assert ids(svc.apply_filters(tiny, str(path))) == ["T3"]
    assert ids(svc.apply_filters(tiny, {"filters": [{"variants": {"top": 1}}]})) == ["T1", "T4"]


def test_yaml_calendar_from_the_sop_or_a_file(tmp_path):
    """'calendar: sop' takes the SOP's calendar; a calendar YAML file is read beside the file."""
    sop_cal = svc.load_sop(SOP_PATH).calendar
    (tmp_path / "cal.yaml").write_text(
        "calendar: {workdays: Mon-Fri, hours: ['09:00-12:00'], timezone: Asia/Shanghai}\n",
        encoding="utf-8",
    )
    path = tmp_path / "filters.yaml"
    path.write_text(
        f"sop: {SOP_PATH.as_posix()}\ncalendar: sop\nfilters:\n"
        "  - duration: {max_hours: 8, business_hours: true}\n"
        "  - follows: {a: x, b: y, max_hours: 1, calendar: cal.yaml}\n",
        encoding="utf-8",
    )
    stack = FilterStack.from_yaml(path)
    assert stack.filters[0].calendar == sop_cal
    assert stack.filters[1].calendar == Calendar(hours=(("09:00", "12:00"),))
    path.write_text("calendar: sop\nfilters: []\n", encoding="utf-8")
    with pytest.raises(InvalidParameterError, match="'calendar: sop' needs 'sop:'"):
        FilterStack.from_yaml(path)
    path.write_text("calendar: nope.yaml\n", encoding="utf-8")
    with pytest.raises(InvalidParameterError, match=r"calendar file 'nope\.yaml' does not exist"):
        FilterStack.from_yaml(path)


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("filters: [a: 1", r"filters\.yaml, line \d+: not valid YAML"),
        ("filter: []", r"unknown key 'filter'; valid keys: \{filters, calendar, sop\}"),
        ("filters:\n  - varients: {top: 1}", r"filter 1 has unknown name 'varients'; valid names"),
        ("filters:\n  - variants: {tpo: 1}", r"filter 1 \(variants\) has unknown key 'tpo'.*top"),
        ("filters:\n  - follows: {a: x}", r"filter 1 \(follows\) is missing a required key"),
        ("filters:\n  - attribute: {column: c, op: like}", r"'op' parameter of Attribute"),
        ("filters:\n  - follows: {a: x, b: y, business_hours: true}", "no calendar is given"),
        ("filters: {variants: {top: 1}}", "'filters' must be a list"),
        ("filters:\n  - [variants]", "filter 1 must be one mapping"),
        ("- 3", "filter 1 must be one mapping"),
    ],
)
def test_invalid_yaml_raises_typed_errors(tmp_path, text, match):
    """Bad filter files raise InvalidParameterError naming the file, the key and the choices."""
    path = tmp_path / "filters.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InvalidParameterError, match=match):
        FilterStack.from_yaml(path)


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: TimeFrame(mode="inside"), "'mode' parameter of TimeFrame must be one of"),
        (lambda: TimeFrame(start="soon"), "'start' parameter of TimeFrame"),
        (lambda: Variants(), "exactly one of 'top'"),
        (lambda: Variants(top=0), "'top' parameter of Variants"),
        (lambda: Attribute("c", "range", [1]), r"\[low, high\]"),
        (lambda: Attribute("c", "regex", "("), "not a valid regular expression"),
        (lambda: Attribute("c"), r"op='equals'\) must be one value"),
        (lambda: Attribute("c", "equals", ["a", "b"]), "use op='in'"),
        (lambda: Endpoints(), "at least one of"),
        (lambda: Follows("a", "b", relation="later"), "'relation' parameter of Follows"),
        (lambda: Follows("a", "b", same="x", different="y"), "at most one"),
        (lambda: Follows("a", "b", max_hours="4h"), "'max_hours' parameter of Follows"),
        (lambda: Duration(), "either 'min_hours'"),
        (lambda: Duration(percentile=(0.9, 0.1)), "low <= high"),
        (lambda: Between("a", ["a", "b"]), "share none"),
        (lambda: Rework(kinds="loop"), "'kinds' parameter of Rework must be one of"),
        (lambda: Deviation(types="late"), "'types' parameter of Deviation must be one of"),
        (lambda: Handoff(keep="yes"), "'keep' parameter of Handoff"),
        (lambda: FilterStack(["variants"]), "Item 1 of the FilterStack is not a filter"),
        (lambda: apply_filters(tiny_frame(), 3), "'filters' parameter of apply_filters"),
        (lambda: apply_filters(tiny_frame(), "nope.yaml"), "does not exist"),
        (lambda: Attribute("colour", "equals", 1).apply(tiny_frame()), "does not have"),
        (lambda: Deviation().apply(tiny_frame()), "needs an SOP"),
        (lambda: Attribute("score", "range", ["a", 3]).apply(tiny_frame()), "cannot compare"),
        (lambda: Endpoints(start=[]), "non-empty list of labels"),
    ],
)
def test_invalid_parameters_raise_typed_errors(make, match):
    """Every filter checks its options on entry with scikit-learn style messages."""
    with pytest.raises(InvalidParameterError, match=match):
        make()


# ----------------------------------------------------------------------------------------------
# SOP-based filters

SOP_CASES = {
    "ok": ["投诉登记", "需求确认", "分类派单", "售后评估", "远程排障", "客户验收", "结单"],
    "skip": ["投诉登记", "分类派单", "售后评估", "远程排障", "客户验收", "结单"],
    "dept": ["投诉登记", "需求确认", "分类派单", "售后评估*", "远程排障", "客户验收", "结单"],
    "slow": ["投诉登记", "需求确认", "分类派单+3h", "售后评估", "远程排障", "客户验收", "结单"],
}
DEPT = {"售后评估": "售后部", "远程排障": "技术支持部"}


@pytest.fixture(scope="module")
def sop_log() -> TicketLog:
    """Four tickets against the sample complaint SOP, 30 min apart from Mon 4 Nov 09:00."""
    rows = []
    for cid, steps in SOP_CASES.items():
        t = pd.Timestamp("2024-11-04 09:00", tz=TZ)
        for step in steps:
            act = step.split("+")[0].rstrip("*")
            if step.endswith("+3h"):
                t += pd.Timedelta("3h")
            dep = "客服中心" if step.endswith("*") else DEPT.get(act, "客服中心")
            rows.append((cid, act, t, dep, "普通"))
            t += pd.Timedelta("30min")
    df = pd.DataFrame(rows, columns=["case_id", "activity", "timestamp", "department", "priority"])
    return svc.as_ticket_log(df)


def test_deviation_and_sla_filters(sop_log):
    """Deviation / SLABreach keep the tickets check_sop finds, by type and SLA id."""
    sop = svc.load_sop(SOP_PATH)
    assert ids(Deviation(types="skipped_step").apply(sop_log, sop=sop)) == ["skip"]
    assert ids(Deviation(types="wrong_department").apply(sop_log, sop=sop)) == ["dept"]
    out = Deviation(types=["skipped_step", "wrong_department"], keep=False).apply(sop_log, sop=sop)
    assert ids(out) == ["ok", "slow"]
    assert ids(SLABreach(slas="assign_within_2h", sop=SOP_PATH).apply(sop_log)) == ["slow"]
    stack = FilterStack([SLABreach(slas="assign_within_2h", keep=False)], sop=SOP_PATH)
    assert ids(stack.apply(sop_log)) == ["dept", "ok", "skip"]
    closed = FilterStack([Endpoints(open_at_cutoff=False)], sop=os.fspath(SOP_PATH))
    assert ids(closed.apply(sop_log)) == ["dept", "ok", "skip", "slow"]
    assert ids(Rework(keep=False).apply(sop_log, sop=SOP_PATH)) == ["dept", "ok", "skip", "slow"]


# ----------------------------------------------------------------------------------------------
# invariant


@st.composite
def logs(draw):
    n = draw(st.integers(1, 30))
    cases = draw(st.lists(st.sampled_from("abcdef"), min_size=n, max_size=n))
    acts = draw(st.lists(st.sampled_from(["登记", "评估", "维修", "结单"]), min_size=n, max_size=n))
    deps = draw(st.lists(st.sampled_from(["客服", "售后", None]), min_size=n, max_size=n))
    mins = draw(st.lists(st.integers(0, 60 * 24 * 5), min_size=n, max_size=n))
    ts = pd.Timestamp("2024-10-07", tz=TZ) + pd.to_timedelta(mins, unit="min")
    return pd.DataFrame({"case_id": cases, "activity": acts, "timestamp": ts, "department": deps})


FILTER_SAMPLES = [
    TimeFrame("2024-10-08", "2024-10-10", mode="contained"),
    Variants(top=2),
    Attribute("department", "equals", "售后"),
    Endpoints(start="登记", end="结单"),
    Follows("评估", "维修", relation="eventually", max_hours=20, different="department"),
    Follows("评估", "维修", same="department", calendar=CAL, max_hours=3),
    Duration(percentile=(0.5, 1.0)),
    Between("登记", "结单", min_hours=5),
    Handoff("客服", "售后"),
]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(df=logs(), i=st.integers(0, len(FILTER_SAMPLES) - 1))
def test_keep_and_remove_partition_the_tickets(df, i):
    """For every ticket-level filter, keep and keep=False split the tickets (whole tickets)."""
    flt = FILTER_SAMPLES[i]
    log = svc.as_ticket_log(df)
    kept = flt.apply(log)
    removed = dataclasses.replace(flt, keep=False).apply(log)
    a, b = set(kept.events["case_id"]), set(removed.events["case_id"])
    assert a.isdisjoint(b) and a | b == set(log.events["case_id"])
    assert kept.n_events + removed.n_events == log.n_events
    row = kept.filters.iloc[0]
    assert row["tickets_kept"] + row["tickets_removed"] == log.n_cases


# ----------------------------------------------------------------------------------------------
# equality with pm4py on BPIC 2013 incidents


@pytest.fixture(scope="module")
def pm_df(incidents_log):
    """The incidents log in pm4py's naming (the boundary conversion of svcmining)."""
    from svcmining._model import to_pm4py

    return to_pm4py(incidents_log.events)


def pm_ids(df: pd.DataFrame) -> list[str]:
    return sorted(df["case:concept:name"].astype(str).unique().tolist())


@pytest.mark.real_logs
@pytest.mark.parametrize(
    ("mode", "pm_mode", "lo", "hi"),
    [
        ("contained", "traces_contained", "2012-04-15 00:00:00", "2012-05-20 00:00:00"),
        ("overlapping", "traces_intersecting", "2011-01-01 00:00:00", "2012-04-01 00:00:00"),
        ("trim", "events", "2011-01-01 00:00:00", "2012-04-01 00:00:00"),
    ],
)
def test_time_frame_equals_pm4py(incidents_log, pm_df, mode, pm_mode, lo, hi):
    """TimeFrame modes keep the tickets (events) of pm4py.filter_time_range on BPIC 2013."""
    import pm4py

    ours = TimeFrame(lo, hi, mode=mode).apply(incidents_log)
    theirs = pm4py.filter_time_range(pm_df, lo, hi, mode=pm_mode)
    assert ids(ours) == pm_ids(theirs) and ours.n_events == len(theirs)
    assert 0 < ours.n_cases < incidents_log.n_cases


@pytest.mark.real_logs
def test_variants_endpoints_and_follows_equal_pm4py(incidents_log, pm_df):
    """Variants top k, start/end activities, directly/eventually follows equal pm4py's."""
    import pm4py

    pairs = [
        (Variants(top=5), pm4py.filter_variants_top_k(pm_df, 5)),
        (Endpoints(start="Queued"), pm4py.filter_start_activities(pm_df, ["Queued"])),
        (Endpoints(end="Completed"), pm4py.filter_end_activities(pm_df, ["Completed"])),
        (
            Endpoints(end="Completed", keep=False),
            pm4py.filter_end_activities(pm_df, ["Completed"], retain=False),
        ),
        (
            Follows("Queued", "Completed"),
            pm4py.filter_directly_follows_relation(pm_df, [("Queued", "Completed")]),
        ),
        (
            Follows("Queued", "Completed", relation="eventually"),
            pm4py.filter_eventually_follows_relation(pm_df, [("Queued", "Completed")]),
        ),
        (
            Follows("Completed", "Accepted", relation="eventually", keep=False),
            pm4py.filter_eventually_follows_relation(
                pm_df, [("Completed", "Accepted")], retain=False
            ),
        ),
    ]
    for flt, theirs in pairs:
        ours = flt.apply(incidents_log)
        assert ids(ours) == pm_ids(theirs), repr(flt)
        assert 0 < ours.n_cases < incidents_log.n_cases, repr(flt)


@pytest.mark.real_logs
def test_duration_and_between_equal_pm4py(incidents_log, pm_df):
    """Duration equals pm4py.filter_case_performance; Between(trim) pm4py.filter_between."""
    import pm4py

    ours = Duration(min_hours=24, max_hours=24 * 7).apply(incidents_log)
    theirs = pm4py.filter_case_performance(pm_df, 24 * 3600, 24 * 7 * 3600)
    assert ids(ours) == pm_ids(theirs) and 0 < ours.n_cases < incidents_log.n_cases
    ours = Between("Queued", "Completed", trim=True).apply(incidents_log)
    theirs = pm4py.filter_between(pm_df, "Queued", "Completed")
    key = ["case_id", "activity", "timestamp"]
    mine = ours.events[key].astype({"case_id": str, "activity": str})
    other = pd.DataFrame(
        {
            "case_id": theirs["case:concept:name"].str.split("##@@").str[0],
            "activity": theirs["concept:name"].astype(str),
            "timestamp": theirs["time:timestamp"],
        }
    )
    sort = mine.sort_values(key).reset_index(drop=True)
    assert sort.equals(other.sort_values(key).reset_index(drop=True).astype(sort.dtypes))
    assert len(sort) > 1000


def test_registry_names_every_public_filter():
    """FILTERS maps each YAML name to its class, and svcmining exports them all."""
    assert set(FILTERS) == {
        "time_frame", "variants", "attribute", "endpoints", "follows", "duration",
        "between", "rework", "deviation", "sla_breach", "handoff",
    }  # fmt: skip
    for cls in FILTERS.values():
        assert getattr(svc, cls.__name__) is cls
    assert svc.apply_filters is apply_filters and np.all([callable(svc.FilterStack)])


def test_docstring_examples_run():
    """The examples in the filters' docstrings run and print what they show."""
    import doctest

    import svcmining.filters

    result = doctest.testmod(svcmining.filters, optionflags=doctest.ELLIPSIS)
    assert result.attempted >= 12 and result.failed == 0


@pytest.mark.parametrize("flt", [c[0] for c in CASES], ids=repr)
def test_filters_on_an_empty_log(flt):
    """On a log without events every filter returns an empty log and a row of zeros."""
    out = flt.apply(tiny_frame().iloc[:0])
    assert out.n_events == 0
    assert out.filters.iloc[0, 1:].tolist() == [0, 0, 0, 0]
