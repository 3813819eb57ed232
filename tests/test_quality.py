"""check_quality and open_cases: exact counts on tiny hand-made exports."""

from __future__ import annotations

import pandas as pd

import svcmining as svc

SH = "Asia/Shanghai"
HEAD = "工单编号,处理环节,处理时间,处理人\n"


def load(tmp_path, body: str, **kwargs) -> svc.TicketLog:
    (tmp_path / "a.csv").write_text(HEAD + body, encoding="utf-8")
    return svc.read_tickets(tmp_path / "a.csv", timezone=SH, **kwargs)


def findings(log, **kwargs) -> pd.DataFrame:
    return svc.check_quality(log, **kwargs).set_index("check")


def test_every_check_is_listed(tmp_path):
    """All checks appear in the table, also those that found nothing (severity ok)."""
    log = load(tmp_path, "1,登记,2024-10-01 09:00,a\n1,结单,2024-10-01 10:00,a\n")
    q = findings(log)
    assert list(q.index) == list(svc.QUALITY_CHECKS)
    assert (q["severity"] == "ok").all()
    assert (q["events"] == 0).all()


def test_equal_timestamps_and_duplicates(tmp_path):
    """Equal times within a ticket and exact in-file copies are counted per event and ticket."""
    body = (
        "1,登记,2024-10-01 09:00,a\n1,确认,2024-10-01 09:00,a\n1,结单,2024-10-01 10:00,a\n"
        "2,登记,2024-10-02 09:00,a\n2,登记,2024-10-02 09:00,a\n2,结单,2024-10-02 11:00,a\n"
    )
    q = findings(load(tmp_path, body, dedupe="exports"))
    assert (q.loc["equal_timestamps", "events"], q.loc["equal_timestamps", "cases"]) == (2, 2)
    assert (q.loc["duplicate_rows", "events"], q.loc["duplicate_rows", "cases"]) == (1, 1)


def test_source_order_findings(tmp_path):
    """Out-of-order export rows and events dated before the ticket's first row are found."""
    body = (
        "1,结单,2024-10-01 12:00,a\n"  # listed first, but dated last
        "1,登记,2024-10-01 09:00,a\n"
        "1,确认,2024-10-01 10:00,a\n"
        "2,登记,2024-10-02 09:00,a\n2,结单,2024-10-02 11:00,a\n"
    )
    q = findings(load(tmp_path, body))
    assert q.loc["out_of_source_order", "events"] == 1
    assert q.loc["out_of_source_order", "examples"] == ["a.csv line 2: ticket 1"]
    assert q.loc["before_case_start", "events"] == 2  # 登记 and 确认 precede the first row
    assert q.loc["before_case_start", "cases"] == 1


def test_open_cases_right_censoring_flags(tmp_path):
    """Open: no close, or reopened after the last close; a follow-up call does not reopen."""
    body = (
        "1,登记,2024-10-01 09:00,a\n1,结单,2024-10-01 10:00,a\n"
        "2,登记,2024-10-02 09:00,a\n"
        "3,登记,2024-10-03 09:00,a\n3,Closed,2024-10-03 10:00,a\n3,重新打开,2024-10-04 10:00,a\n"
        "4,登记,2024-10-03 09:00,a\n4,关闭,2024-10-03 10:00,a\n4,回访,2024-10-05 10:00,a\n"
    )
    log = load(tmp_path, body)
    assert svc.open_cases(log).to_dict() == {"1": False, "2": True, "3": True, "4": False}
    assert svc.open_cases(log, close_activities=["结单"]).to_dict() == {
        "1": False,
        "2": True,
        "3": True,
        "4": True,
    }
    q = findings(log)
    assert (q.loc["open_at_cutoff", "cases"], q.loc["open_at_cutoff", "events"]) == (2, 4)
    assert svc.open_cases(log.events.assign(activity="x", lifecycle="Closed")).sum() == 0


def test_near_duplicate_labels_and_old_future_times(tmp_path):
    """'Close' vs 'close ' vs full-width 'Ｃｌｏｓｅ' are one label; 1999 and 2099 are flagged."""
    body = (
        "1,Close,2024-10-01 09:00,a\n2,close ,2024-10-01 09:00,a\n3,Ｃｌｏｓｅ,2024-10-01 09:00,a\n"
        "4,登记,1999-12-31 09:00,a\n5,登记,2099-01-01 09:00,a\n"
    )
    q = findings(load(tmp_path, body), now=pd.Timestamp("2026-01-01", tz="UTC"))
    assert q.loc["near_duplicate_labels", "events"] == 3
    assert q.loc["near_duplicate_labels", "examples"] == ["'Close' / 'close' / 'Ｃｌｏｓｅ'"]
    assert q.loc["old_timestamps", "events"] == 1
    assert q.loc["future_timestamps", "events"] == 1
    assert q.loc["single_event_cases", "cases"] == 5


def test_conflicts_missing_values_unmapped(tmp_path):
    """Conflicts from the load, missing optional values and pass-through columns are reported."""
    (tmp_path / "m10.csv").write_text(
        "工单编号,处理环节,处理时间,处理人,备注\n1,登记,2024-10-01 09:00,a,x\n1,确认,2024-10-01 10:00,,y\n",
        encoding="utf-8",
    )
    (tmp_path / "m11.csv").write_text(
        "工单编号,处理环节,处理时间,处理人,备注\n1,登记,2024-10-01 09:00,b,x\n", encoding="utf-8"
    )
    log = svc.read_tickets(tmp_path, timezone=SH)
    q = findings(log)
    assert q.loc["conflicting_copies", "events"] == 1
    assert q.loc["conflicting_copies", "examples"] == ["ticket 1: 登记 resource 'a' -> 'b'"]
    assert q.loc["missing_values", "events"] == 1
    assert q.loc["unmapped_columns", "examples"] == ["备注"]


def test_check_quality_accepts_plain_frame():
    """A canonical DataFrame (no load report) is checked too; load-only checks are omitted."""
    ev = pd.DataFrame(
        {
            "case_id": ["1", "1"],
            "activity": ["登记", "结单"],
            "timestamp": pd.to_datetime(["2024-10-01 09:00", "2024-10-01 09:00"]).tz_localize(SH),
        }
    )
    q = findings(ev)
    assert "out_of_source_order" not in q.index
    assert q.loc["equal_timestamps", "events"] == 1


def test_public_names_all_resolve():
    """Every name in svcmining.__all__ imports lazily, and the export table matches __all__."""
    from svcmining import _EXPORTS

    assert set(svc.__all__) == {*_EXPORTS, "__version__", "augment_rework"}
    for name in svc.__all__:
        assert getattr(svc, name) is not None
