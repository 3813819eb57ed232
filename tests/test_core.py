"""The one core: every module decides closed tickets alike; results never depend on call order."""

from __future__ import annotations

import random
from pathlib import Path

import pandas as pd
import pytest

import svcmining as svc

REPO = Path(__file__).resolve().parents[1]
REAL = {
    "bpic2013_incidents": "bpic2013_incidents/BPI_Challenge_2013_incidents.xes.gz",
    "bpic2013_closed_problems": "bpic2013_closed_problems/BPI_Challenge_2013_closed_problems.xes.gz",
    "bpic2013_open_problems": "bpic2013_open_problems/BPI_Challenge_2013_open_problems.xes.gz",
    "helpdesk": "helpdesk/helpdesk.xes.gz",
    "bpic2012": "bpic2012/BPI_Challenge_2012.xes.gz",
    "road_traffic_fines": "road_traffic_fines/Road_Traffic_Fine_Management_Process.xes.gz",
}
SOPS = {
    "bpic2013_incidents": REPO / "sample_logs" / "sop_bpic2013_incidents.yaml",
    "sample_logs": REPO / "sample_logs" / "sop_complaint.yaml",
}


def _open_sets(log: svc.TicketLog, sop) -> dict[str, set[str]]:
    """The open tickets according to each module (same log, same SOP)."""
    by = "department" if "department" in log.events.columns else "resource"

    def opened(cases: pd.DataFrame) -> set[str]:
        return set(cases.loc[cases["open_at_cutoff"].astype(bool), "case_id"].astype(str))

    out = {
        "open_cases": set(svc.open_cases(log, sop=sop).loc[lambda s: s].index),
        "case_outcomes": opened(svc.case_outcomes(log, sop=sop, parts=())),
        "find_rework": opened(svc.find_rework(log, sop=sop).cases),
        "handoff_delays": opened(svc.handoff_delays(log, by=by, sop=sop).cases),
    }
    if sop is not None:
        out["check_sop"] = opened(svc.check_sop(log, sop, precision=False).cases)
        out["service_kpis"] = opened(svc.service_kpis(log, sop=sop, by="none").cases)
    else:
        out["service_kpis"] = opened(svc.service_kpis(log, by="none").cases)
    return out


def _assert_agree(sets: dict[str, set[str]]) -> int:
    ref = sets["open_cases"]
    for name, got in sets.items():
        assert got == ref, f"{name} disagrees with open_cases on {len(got ^ ref)} tickets"
    return len(ref)


@pytest.mark.real_logs
@pytest.mark.slow
@pytest.mark.parametrize("name", list(REAL))
def test_modules_agree_on_closed_tickets_on_real_logs(real_logs, name):
    """open_cases, case_outcomes, find_rework, handoff_delays, check_sop and service_kpis agree."""
    log = svc.read_tickets(real_logs / REAL[name])
    n_open = _assert_agree(_open_sets(log, None))
    if name in SOPS:
        _assert_agree(_open_sets(log, svc.load_sop(SOPS[name])))
    if name == "bpic2013_incidents":
        assert log.n_cases - n_open == 5574


def test_modules_agree_on_closed_tickets_on_the_sample_exports(sample_dir):
    """The same agreement on the bundled sample exports, with and without the SOP."""
    log = svc.read_tickets(sample_dir, timezone="Asia/Shanghai")
    n_open = _assert_agree(_open_sets(log, None))
    assert _assert_agree(_open_sets(log, svc.load_sop(SOPS["sample_logs"]))) == n_open
    truth = pd.read_csv(sample_dir / "truth" / "cases.csv", dtype={"case_id": str})
    if "open_at_cutoff" in truth.columns:
        assert n_open == int(truth["open_at_cutoff"].sum())


def _tiny_log() -> pd.DataFrame:
    rows = [
        ("2", "投诉登记", "客服中心", "2024-10-08 09:00"),
        ("2", "售后评估", "售后部", "2024-10-08 11:00"),
        ("2", "远程排障", "技术支持部", "2024-10-09 10:00"),
        ("2", "结单", "客服中心", "2024-10-09 12:00"),
        ("2", "远程排障", "技术支持部", "2024-10-10 09:00"),
        ("1", "结单", "客服中心", "2024-10-08 15:00"),
        ("1", "投诉登记", "客服中心", "2024-10-08 09:00"),
        ("1", "售后评估", "售后部", "2024-10-08 10:00"),
        ("1", "回访", "客服中心", "2024-10-10 10:00"),
        ("3", "投诉登记", "客服中心", "2024-10-09 09:00"),
        ("3", "售后评估", "售后部", "2024-10-12 09:00"),
    ]
    for cid in ("4", "5"):  # two tickets of the usual flow: the stages of a normal ticket
        day = f"2024-10-1{cid}"
        rows += [
            (cid, "投诉登记", "客服中心", f"{day} 09:00"),
            (cid, "售后评估", "售后部", f"{day} 10:00"),
            (cid, "远程排障", "技术支持部", f"{day} 12:00"),
            (cid, "结单", "客服中心", f"{day} 13:00"),
            (cid, "回访", "客服中心", f"{day} 18:00"),
        ]
    df = pd.DataFrame(rows, columns=["case_id", "activity", "department", "timestamp"])
    df["timestamp"] = pd.to_datetime(df["timestamp"]).dt.tz_localize("Asia/Shanghai")
    df["customer_id"] = ["c1"] * 5 + ["c2"] * 4 + ["c1"] * 2 + ["c3"] * 10
    return df  # deliberately not sorted


def _run_all(data, sop) -> dict[str, object]:
    """Every public analysis, in a given order: results as comparable plain values."""
    return {
        "dfg": lambda: svc.discover_dfg(data).edges,
        "variants": lambda: svc.variants(data),
        "open": lambda: svc.open_cases(data).to_frame(),
        "quality": lambda: svc.check_quality(data).drop(columns=["examples"]),
        "rework": lambda: svc.find_rework(data).occurrences,
        "handoffs": lambda: svc.handoff_delays(data).handoffs,
        "conformance": lambda: svc.check_sop(data, sop, precision=False).cases,
        "outcomes": lambda: svc.case_outcomes(data, sop=sop),
        "kpis": lambda: svc.service_kpis(data, sop=sop).table,
        "pain": lambda: svc.pain_points(data, sop=sop).table,
    }


@pytest.mark.parametrize("wrap", [False, True])
def test_results_do_not_depend_on_call_order(wrap):
    """Every public function gives the same result in any call order, on a frame or a log."""
    sop = svc.load_sop(SOPS["sample_logs"])
    df = _tiny_log()
    original = df.copy()
    data = svc.as_ticket_log(df) if wrap else df
    calls = _run_all(data, sop)
    first = {k: f() for k, f in calls.items()}
    rnd = random.Random(11)
    for _ in range(3):
        order = list(calls)
        rnd.shuffle(order)
        fresh = _run_all(svc.as_ticket_log(df) if wrap else df, sop)
        for k in order:
            pd.testing.assert_frame_equal(fresh[k](), first[k], obj=k)
    pd.testing.assert_frame_equal(df, original)  # no function modified its input
    # and the frame gives what the log gives
    if wrap:
        for k, f in _run_all(df, sop).items():
            pd.testing.assert_frame_equal(f(), first[k], obj=k)


def test_sop_given_as_path_mapping_or_object_everywhere(tmp_path):
    """Every function that takes sop= accepts an SOP, a path or a mapping, with one result."""
    import yaml

    path = SOPS["sample_logs"]
    sop = svc.load_sop(path)
    spec = yaml.safe_load(path.read_text(encoding="utf-8"))
    log = svc.as_ticket_log(_tiny_log())
    for form in (path, str(path), spec):
        pd.testing.assert_frame_equal(
            svc.service_kpis(log, sop=form).table, svc.service_kpis(log, sop=sop).table
        )
        pd.testing.assert_frame_equal(
            svc.pain_points(log, sop=form).table, svc.pain_points(log, sop=sop).table
        )
        pd.testing.assert_frame_equal(
            svc.check_sop(log, form, precision=False).cases,
            svc.check_sop(log, sop, precision=False).cases,
        )
        assert svc.open_cases(log, sop=form).equals(svc.open_cases(log, sop=sop))


def test_service_kpis_with_an_sop_checks_the_sop_once(monkeypatch):
    """service_kpis(df, sop=...) runs check_sop once (it ran twice on a DataFrame)."""
    import svcmining.conformance as conf

    calls = []
    orig = conf.check_sop

    def counting(*a, **k):
        calls.append(1)
        return orig(*a, **k)

    monkeypatch.setattr(conf, "check_sop", counting)
    svc.service_kpis(_tiny_log(), sop=svc.load_sop(SOPS["sample_logs"]))
    assert len(calls) == 1


def _count_analyses(monkeypatch) -> dict[str, int]:
    """Count the calls of find_rework, handoff_delays and check_sop from now on."""
    import svcmining.conformance as conf
    import svcmining.handoffs as ho
    import svcmining.rework as rw

    counts = {"rework": 0, "handoffs": 0, "check_sop": 0}

    def counted(mod, name, key):
        orig = getattr(mod, name)

        def wrapper(*a, **k):
            counts[key] += 1
            return orig(*a, **k)

        monkeypatch.setattr(mod, name, wrapper)

    counted(rw, "find_rework", "rework")
    counted(ho, "handoff_delays", "handoffs")
    counted(conf, "check_sop", "check_sop")
    return counts


def test_one_report_runs_each_analysis_once(monkeypatch, sample_dir):
    """build_report runs find_rework, handoff_delays and check_sop once each."""
    counts = _count_analyses(monkeypatch)
    log = svc.as_ticket_log(_tiny_log())
    rep = svc.build_report(log, sop=svc.load_sop(SOPS["sample_logs"]))
    assert not rep.failed
    assert counts == {"rework": 1, "handoffs": 1, "check_sop": 1}


def test_composites_run_each_analysis_once_and_reuse_results(monkeypatch):
    """case_outcomes and service_kpis run each analysis once; given results are consumed
    (by ticket code) without running anything, with the same per-ticket table."""
    counts = _count_analyses(monkeypatch)
    sop = svc.load_sop(SOPS["sample_logs"])
    log = svc.as_ticket_log(_tiny_log())
    alone = svc.case_outcomes(log, sop=sop, calendar=sop.calendar)
    assert counts == {"rework": 1, "handoffs": 1, "check_sop": 1}
    kpis = svc.service_kpis(log, sop=sop)
    assert counts == {"rework": 2, "handoffs": 2, "check_sop": 2}
    reused = svc.case_outcomes(log, sop=sop, calendar=sop.calendar, **kpis.analyses)
    svc.pain_points(log, sop=sop, **kpis.analyses)
    assert counts == {"rework": 2, "handoffs": 2, "check_sop": 2}
    pd.testing.assert_frame_equal(reused, alone)
    pd.testing.assert_frame_equal(kpis.cases.drop(columns="period"), alone)
    # c1 opens ticket 2 on 10-08 and 3 on 10-09, c3 opens 4 on 10-14 and 5 on 10-15
    assert alone["repeat_contact"].tolist() == [False, True, False, True, False]
    # ticket 2: 客服>售后>技术>客服>技术 (its last handoff, to 客服, is pending); 3: 客服>售后
    assert alone["n_handoffs"].tolist() == [2, 4, 1, 3, 3]


def test_closed_count_is_consistent_on_the_tiny_log():
    """Ticket 1 closed (回访 after 结单 is no reopen); 2 reopened by work; 3 never closed."""
    expected_open = {"1": False, "2": True, "3": True, "4": False, "5": False}
    assert svc.open_cases(_tiny_log()).to_dict() == expected_open
    rw = svc.find_rework(_tiny_log())
    assert dict(zip(rw.cases["case_id"], rw.cases["n_reopen"], strict=True)) == {
        "1": 0,
        "2": 1,
        "3": 0,
        "4": 0,
        "5": 0,
    }
    assert rw.cases["open_at_cutoff"].tolist() == list(expected_open.values())
