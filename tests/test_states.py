"""Tests for svcmining.states: the one ticket-state model, closings and reopens everywhere."""

from __future__ import annotations

import random

import numpy as np
import pandas as pd
import pytest

import svcmining as svc
from svcmining.states import TicketStates, closings

TZ = "Asia/Shanghai"


def tickets(traces: dict[str, list[str]]) -> pd.DataFrame:
    """One event per hour per ticket, in the order given."""
    rows = []
    for cid, acts in traces.items():
        ts = pd.date_range("2024-10-08 09:00", periods=len(acts), freq="h", tz=TZ)
        rows += [
            {"case_id": cid, "activity": a, "timestamp": t} for a, t in zip(acts, ts, strict=True)
        ]
    return pd.DataFrame(rows)


@pytest.mark.parametrize(
    ("label", "kind"),
    [
        # ServiceNow
        ("New", "working"),
        ("In Progress", "working"),
        ("Active", "working"),
        ("On Hold", "waiting"),
        ("Awaiting User Info", "waiting"),
        ("Awaiting Vendor", "waiting"),
        ("Resolved", "resolved"),
        ("Closed", "closed"),
        ("Canceled", "resolved"),
        # Jira Service Management
        ("Waiting for support", "working"),
        ("Queued+Awaiting Assignment", "working"),
        ("Waiting for customer", "waiting"),
        ("Reopened", "reopen"),
        ("Done", "closed"),
        # Zendesk / Freshdesk
        ("Pending", "waiting"),
        ("On-hold", "waiting"),
        ("Solved", "resolved"),
        ("Waiting on Third Party", "waiting"),
        # ITIL activity logs
        ("Caused By CI", "administrative"),
        ("Operator Update", "working"),
        # Chinese systems
        ("待处理", "working"),
        ("处理中", "working"),
        ("待客户确认", "waiting"),
        ("挂起", "waiting"),
        ("已解决", "resolved"),
        ("已关闭", "closed"),
        ("结单", "closed"),
        ("重新打开", "reopen"),
        # written loosely, or joined with a status (BPIC 2013)
        ("Ｃｌｏｓｅｄ", "closed"),
        (" closed. ", "closed"),
        ("结 单", "closed"),
        ("Completed+Closed", "closed"),
        ("Accepted+Wait - User", "waiting"),
        # work named as a step is work, not a state
        ("Resolve ticket", "working"),
    ],
)
def test_default_labels_of_common_ticket_systems(label, kind):
    """The defaults know the states of ServiceNow, Jira, Zendesk, ITIL and Chinese systems."""
    assert TicketStates().kind_of(label) == kind


SYSTEMS = {
    # ServiceNow audit-style states
    "sn-normal": ["New", "Active", "Awaiting User Info", "Active", "Resolved", "Closed"],
    "sn-reopen": ["New", "Active", "Resolved", "Active", "Resolved", "Closed"],
    "sn-closes": ["New", "Active", "Resolved", "Closed", "Closed"],
    # ITIL activity log: a bookkeeping row between two closes
    "itil": ["Open", "Assignment", "Closed", "Caused By CI", "Closed"],
    # Jira: an explicit reopen
    "jira": ["Open", "In Progress", "Resolved", "Reopened", "In Progress", "Resolved", "Closed"],
    # Zendesk: Solved -> Open is a reopen; Pending is a wait
    "zendesk": ["New", "Open", "Pending", "Open", "Solved", "Open", "Solved", "Closed"],
    # a Chinese system
    "cn": [
        "待处理",
        "处理中",
        "待客户确认",
        "处理中",
        "已解决",
        "重新打开",
        "处理中",
        "已解决",
        "已关闭",
    ],
    # still open: reopened after the last close
    "sn-open": ["New", "Active", "Resolved", "Closed", "Active"],
    # resolved, not yet closed
    "sn-resolved": ["New", "Active", "Resolved"],
}
EXPECTED_REOPENS = {
    "sn-normal": 0,
    "sn-reopen": 1,
    "sn-closes": 0,
    "itil": 0,
    "jira": 1,
    "zendesk": 1,
    "cn": 1,
    "sn-open": 1,
    "sn-resolved": 0,
}
EXPECTED_OPEN = {"sn-open", "sn-resolved"}


def test_reopens_of_hand_made_tickets_of_each_system():
    """Reopens: leaving resolved/closed for work or a reopen label; runs of closes are one."""
    df = tickets(SYSTEMS)
    rw = svc.find_rework(df)
    got = dict(zip(rw.cases["case_id"], rw.cases["n_reopen"], strict=True))
    assert got == EXPECTED_REOPENS
    assert set(svc.open_cases(df).loc[lambda s: s].index) == EXPECTED_OPEN


def test_service_kpis_reopen_rate_of_the_hand_made_tickets():
    """The reopen rate is the share of tickets reopened (5 of 9 here)."""
    k = svc.service_kpis(tickets(SYSTEMS), by="none")
    assert k.value("reopen_rate", period="all") == pytest.approx(5 / 9)
    assert k.value("cases_closed", period="all") == 7


def test_post_close_steps_are_not_reopens_and_closing_states_are_not_rework():
    """回访 after 结单 is a post-close step; Closed, Closed and Pending, Pending are not rework."""
    df = tickets(
        {
            "a": ["投诉登记", "远程排障", "结单", "回访"],
            "b": ["投诉登记", "远程排障", "结单", "远程排障", "结单", "回访"],
            "c": ["投诉登记", "远程排障", "结单", "结单"],
            "d": ["投诉登记", "Pending", "Pending", "远程排障", "结单"],
        }
    )
    rw = svc.find_rework(df)
    got = dict(zip(rw.cases["case_id"], rw.cases["n_reopen"], strict=True))
    assert got == {"a": 0, "b": 1, "c": 0, "d": 0}
    kinds = rw.occurrences.groupby("case_id")["kind"].apply(list).to_dict()
    assert kinds == {"b": ["reopen"]}


def test_sop_states_override_the_defaults():
    """An SOP's states: and close: steps change what closes and what waits, for every module."""
    sop = {
        "steps": [
            {"id": "work", "labels": ["Fix"]},
            {"id": "done", "labels": ["Erledigt"]},
        ],
        "flow": ["work", "done"],
        "close": "done",
        "states": {"waiting": ["Kunde"], "extend": True},
    }
    df = tickets({"1": ["Fix", "Kunde", "Kunde", "Fix", "Erledigt"], "2": ["Fix"]})
    assert svc.open_cases(df, sop=sop).to_dict() == {"1": False, "2": True}
    assert svc.open_cases(df).to_dict() == {"1": True, "2": True}  # Erledigt unknown without it
    rw = svc.find_rework(df, sop=sop)
    assert rw.occurrences.empty  # Kunde twice is a wait; Fix after it is the work resumed
    assert not svc.find_rework(df).occurrences.empty  # without the SOP's states: a redo


def test_closings_vectorised_equals_a_plain_walk():
    """closings() equals a per-ticket walk of the stated rule on random sequences."""
    rnd = random.Random(5)
    kinds_pool = [0, 0, 0, 1, 2, 3, 4, 5]  # working, waiting, admin, resolved, closed, reopen
    for _ in range(300):
        n_cases = rnd.randint(1, 5)
        codes, kinds, stage = [], [], []
        for c in range(n_cases):
            for _ in range(rnd.randint(1, 8)):
                codes.append(c)
                kinds.append(rnd.choice(kinds_pool))
                stage.append(float(rnd.randint(0, 3)))
        codes_a = np.array(codes)
        res = closings(codes_a, n_cases, np.array(kinds, dtype=np.int8), np.array(stage))
        for c in range(n_cases):
            ks = [k for k, cc in zip(kinds, codes, strict=True) if cc == c]
            ss = [s for s, cc in zip(stage, codes, strict=True) if cc == c]

            def last_closing(k, ks=ks):
                return max((q for q in range(k) if ks[q] in (3, 4)), default=None)

            triggers = [
                k
                for k in range(len(ks))
                if (q := last_closing(k)) is not None
                and (ks[k] == 5 or (ks[k] == 0 and ss[k] <= ss[q]))
            ]
            n_reopen = len({last_closing(k) for k in triggers})
            tail = ks[max(triggers, default=-1) + 1 :]
            closed = 4 in tail
            resolved = not closed and 3 in tail
            assert res.n_reopen[c] == n_reopen, (ks, ss)
            assert bool(res.closed[c]) == closed, (ks, ss)
            assert bool(res.resolved[c]) == resolved, (ks, ss)


@pytest.mark.real_logs
def test_helpdesk_has_three_reopens(helpdesk_log):
    """Helpdesk: 3 reopens (two Closed → Take in charge, one Closed → VERIFIED); no phantom."""
    rw = svc.find_rework(helpdesk_log)
    assert int(rw.cases["n_reopen"].sum()) == 3
    assert int((rw.cases["n_reopen"] > 0).sum()) == 3


def _bpic_reference_reopens(events: pd.DataFrame) -> dict[str, int]:
    """Per ticket: a closing status (Resolved, Closed) followed, after waits, by work.

    Written from the BPIC 2013 statuses directly: work is Accepted (In Progress,
    Assigned) or Queued (Awaiting Assignment); waits are Accepted+Wait*; every stretch
    after a closing that reaches work counts once.
    """
    out: dict[str, int] = {}
    for cid, g in events.groupby("case_id", sort=False):
        status = g["lifecycle"].tolist()
        act = g["activity"].tolist()
        n, after_close = 0, False
        for a, s in zip(act, status, strict=True):
            if s in ("Resolved", "Closed"):
                after_close = True
            elif s.startswith("Wait"):
                continue
            elif after_close and a in ("Accepted", "Queued"):
                n += 1
                after_close = False
        out[cid] = n
    return out


@pytest.mark.real_logs
def test_bpic2013_reopens_per_ticket_equal_a_reference(incidents_log):
    """BPIC 2013 incidents: every ticket's reopen count equals the plain reference."""
    rw = svc.find_rework(incidents_log)
    ours = dict(zip(rw.cases["case_id"], rw.cases["n_reopen"].astype(int), strict=True))
    ref = _bpic_reference_reopens(incidents_log.events)
    assert ours == ref
    assert sum(ref.values()) > 300  # the log does reopen tickets


@pytest.mark.real_logs
def test_bpic2013_service_kpis_counts_5574_closed(incidents_log):
    """BPIC 2013 incidents: 5,574 tickets are closed (not every ticket open)."""
    k = svc.service_kpis(incidents_log, by="none")
    assert k.value("cases_closed", period="all") == 5574
    assert k.value("open_at_cutoff", period="all") == 7554 - 5574
    assert not np.isnan(k.value("cycle_hours_p50", period="all"))
    assert not np.isnan(k.value("first_contact_resolution", period="all"))


def _at(rows: list[tuple[str, str, str, str]]) -> pd.DataFrame:
    """Rows (case, activity, department, HH:MM on 2024-10-08)."""
    df = pd.DataFrame(rows, columns=["case_id", "activity", "department", "timestamp"])
    df["timestamp"] = pd.to_datetime("2024-10-08 " + df["timestamp"]).dt.tz_localize(TZ)
    return df


def test_waiting_is_not_rework_time():
    """Fix, Pending (5 h on the customer), Check, Fix: the repetition costs 2 h, not 7 h."""
    df = _at(
        [
            ("1", "Fix", "A", "09:00"),
            ("1", "Pending", "A", "10:00"),
            ("1", "Check", "A", "15:00"),
            ("1", "Fix", "A", "16:00"),
        ]
    )
    rw = svc.find_rework(df)
    assert rw.occurrences["rework_hours"].tolist() == [2.0]
    assert rw.cases["rework_hours"].tolist() == [2.0]
    # Fix, Pending, Fix is the same work resumed after the wait: no rework at all
    resumed = _at(
        [("1", "Fix", "A", "09:00"), ("1", "Pending", "A", "10:00"), ("1", "Fix", "A", "15:00")]
    )
    assert svc.find_rework(resumed).occurrences.empty


def test_waiting_is_not_handoff_delay():
    """A ticket that waited on the user before moving to B has no handoff delay for it."""
    df = _at(
        [
            ("1", "Active", "A", "09:00"),
            ("1", "Awaiting User Info", "A", "10:00"),
            ("1", "Active", "B", "15:00"),
            ("2", "Active", "A", "09:00"),
            ("2", "Pending", "A", "10:00"),
            ("2", "Active", "A", "12:00"),
            ("2", "Active", "B", "15:00"),
        ]
    )
    ho = svc.handoff_delays(df)
    assert ho.handoffs[["case_id", "delay_hours"]].values.tolist() == [["1", 0.0], ["2", 3.0]]


def test_waiting_hours_per_ticket_and_kpi():
    """waiting_hours: time in waiting states up to the close, or to the cutoff when open."""
    df = _at(
        [
            ("1", "New", "A", "09:00"),
            ("1", "Pending", "A", "10:00"),
            ("1", "Active", "A", "15:00"),
            ("1", "Resolved", "A", "16:00"),
            ("1", "Closed", "A", "17:00"),
            ("2", "New", "A", "09:00"),
            ("2", "挂起", "A", "11:00"),
        ]
    )
    oc = svc.case_outcomes(df, parts=(), cutoff="2024-10-08 19:00")
    assert oc["waiting_hours"].tolist() == [5.0, 8.0]
    assert oc["cycle_hours"].tolist() == [8.0, 10.0]
    k = svc.service_kpis(df, cutoff="2024-10-08 19:00", by="none")
    assert k.value("waiting_share", period="all") == pytest.approx(13 / 18)


def test_sla_clocks_pause_in_waiting_states():
    """An SLA stands still while the ticket waits (default), unless pause_in: [] says never."""
    spec = {
        "steps": [
            {"id": "new", "labels": ["New"]},
            {"id": "work", "labels": ["Active"], "repeatable": True},
            {"id": "resolve", "labels": ["Resolved"]},
        ],
        "flow": ["new", "work", "resolve"],
        "slas": [{"id": "resolve_4h", "from": "new", "to": "resolve", "within": "4h",
                  "hours": "elapsed"}],
    }  # fmt: skip
    df = _at(
        [
            ("1", "New", "A", "09:00"),
            ("1", "Pending", "A", "10:00"),
            ("1", "Active", "A", "15:00"),
            ("1", "Resolved", "A", "16:00"),
        ]
    )
    res = svc.check_sop(df, spec, precision=False)
    row = res.slas.iloc[0]
    assert (row["actual_hours"], row["status"]) == (2.0, "met")
    never = dict(spec, slas=[dict(spec["slas"][0], pause_in=[])])
    row = svc.check_sop(df, never, precision=False).slas.iloc[0]
    assert (row["actual_hours"], row["status"]) == (7.0, "breached")


def test_waiting_is_not_an_hour_lost_in_pain_points():
    """A deviating ticket that only waited on the customer longer loses no hours."""
    spec = {
        "steps": [
            {"id": "new", "labels": ["New"]},
            {"id": "work", "labels": ["Active"]},
            {"id": "close", "labels": ["Closed"]},
        ],
        "flow": ["new", "work", "close"],
    }
    rows = []
    for c in ("1", "2", "3"):  # conforming, 2 h of work each
        rows += [(c, "New", "A", "09:00"), (c, "Active", "A", "10:00"), (c, "Closed", "A", "11:00")]
    # deviating (skips Active), waits 6 h on the customer, then 1 h to close: 1 h of process
    rows += [
        ("4", "New", "A", "09:00"),
        ("4", "Pending", "A", "09:30"),
        ("4", "Closed", "A", "16:30"),
    ]
    pp = svc.pain_points(_at(rows), sop=spec)
    dev = pp.table[pp.table["kind"] == "deviation"]
    assert dev.empty or float(dev["hours_lost"].sum()) == 0.0


def test_sla_clock_paused_to_the_cutoff_under_a_business_calendar():
    """A ticket waiting on the customer since Mon 10:00 is censored, not breached, two weeks on."""
    spec = {
        "calendar": {"workdays": "Mon-Fri", "hours": ["09:00-18:00"], "timezone": "UTC"},
        "steps": [
            {"id": "reg", "labels": ["登记"]},
            {"id": "fix", "labels": ["处理"]},
            {"id": "close", "labels": ["结单"]},
        ],
        "flow": ["reg", "fix", "close"],
        "close": "close",
        "slas": [{"id": "resolve", "from": "reg", "to": "close", "within": "16h"}],
    }
    ev = pd.DataFrame(
        {
            "case_id": ["A", "A", "B", "B"],
            "activity": ["登记", "待客户确认", "登记", "结单"],
            "timestamp": pd.to_datetime(
                ["2024-11-04 09:00", "2024-11-04 10:00", "2024-10-01 09:00", "2024-10-01 10:00"]
            ).tz_localize("UTC"),
        }
    )
    res = svc.check_sop(ev, spec, cutoff="2024-11-18 09:00", precision=False)
    status = dict(zip(res.slas["case_id"], res.slas["status"], strict=True))
    assert status == {"A": "censored", "B": "met"}


def test_close_activities_and_an_sop_give_one_judgement_everywhere():
    """With close_activities= and sop= together, KPIs, rework and open_cases agree."""
    sop = {
        "steps": [
            {"id": "reg", "labels": ["登记"]},
            {"id": "fix", "labels": ["处理"]},
            {"id": "close", "labels": ["结单"]},
        ],
        "flow": ["reg", "fix", "close"],
        "close": "close",
    }
    ev = _at(
        [
            ("A", a, "x", f"{9 + i:02d}:00")
            for i, a in enumerate(["登记", "处理", "结单", "处理", "结单"])
        ]
    )
    co = svc.case_outcomes(ev, sop=sop, close_activities=["已解决"])
    rw = svc.find_rework(ev, sop=sop, close_activities=["已解决"])
    is_open = svc.open_cases(ev, sop=sop, close_activities=["已解决"])
    assert co["open_at_cutoff"].tolist() == [True] == is_open.tolist()
    assert co["n_reopen"].tolist() == [0] == rw.cases["n_reopen"].tolist()


def test_an_empty_log_gives_empty_figures_not_errors():
    """service_kpis, case_outcomes and pain_points on an empty log: zeros and empty tables."""
    empty = pd.DataFrame(
        {
            "case_id": pd.Series([], dtype="str"),
            "activity": pd.Series([], dtype="str"),
            "department": pd.Series([], dtype="str"),
            "timestamp": pd.Series([], dtype="datetime64[ns, UTC]"),
        }
    )
    assert svc.service_kpis(empty).value("cases_opened") == 0
    assert len(svc.case_outcomes(empty)) == 0
    assert len(svc.pain_points(empty).table) == 0


def test_work_logged_at_the_time_of_the_close_does_not_reopen():
    """客户验收 and 结单 at the same minute, in either order: the ticket is closed."""
    base = [("1", "投诉登记", "A", "09:00"), ("1", "远程排障", "B", "10:00")]
    tied = [("1", "客户验收", "A", "11:00"), ("1", "结单", "A", "11:00")]
    usual = [(c, a, "A", t) for c in "234" for a, t in (("投诉登记", "09:00"), ("远程排障", "10:00"), ("客户验收", "11:00"), ("结单", "12:00"))]  # fmt: skip
    for order in (tied, tied[::-1]):
        df = _at(base + order + usual)
        assert not svc.open_cases(df)["1"]
        assert svc.find_rework(df).cases.set_index("case_id").loc["1", "n_reopen"] == 0


def test_work_resumed_after_a_customer_wait_is_not_rework():
    """Jira: In Progress, Waiting for customer, In Progress is one piece of work, not a redo."""
    df = _at(
        [
            ("J-1", "Open", "A", "09:00"),
            ("J-1", "In Progress", "A", "10:00"),
            ("J-1", "Waiting for customer", "A", "11:00"),
            ("J-1", "In Progress", "A", "21:00"),
            ("J-1", "Resolved", "A", "22:00"),
            ("J-1", "Closed", "A", "23:00"),
        ]
    )
    rw = svc.find_rework(df)
    assert rw.occurrences.empty
    oc = svc.case_outcomes(df, parts=("rework",))
    assert oc["first_contact_resolved"].tolist() == [True]
    assert oc["waiting_hours"].tolist() == [10.0]


def test_waiting_times_per_ticket_and_state():
    """waiting_times: per ticket and waiting state; its sum per ticket is waiting_hours."""
    df = _at(
        [
            ("1", "New", "A", "09:00"),
            ("1", "Pending", "A", "10:00"),
            ("1", "Active", "A", "12:00"),
            ("1", "On Hold", "A", "13:00"),
            ("1", "Active", "A", "16:00"),
            ("1", "Pending", "A", "17:00"),
            ("1", "Resolved", "A", "18:00"),
            ("1", "Closed", "A", "19:00"),
            ("2", "New", "A", "09:00"),
            ("2", "挂起", "A", "11:00"),
        ]
    )
    wt = svc.waiting_times(df, cutoff="2024-10-08 20:00")
    assert wt.values.tolist() == [
        ["1", "On Hold", 1, 3.0],
        ["1", "Pending", 2, 3.0],
        ["2", "挂起", 1, 9.0],
    ]
    oc = svc.case_outcomes(df, parts=(), cutoff="2024-10-08 20:00")
    per_ticket = wt.groupby("case_id")["waiting_hours"].sum()
    assert per_ticket.to_dict() == dict(zip(oc["case_id"], oc["waiting_hours"], strict=True))
