"""datasets: the seeded sample generator, its exports and its ground truth."""

from __future__ import annotations

import hashlib
import io
import json
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from svcmining import _groundtruth, _simulation
from svcmining.datasets import (
    GeneratedTickets,
    generate_tickets,
    main,
    write_benchmark_exports,
    write_sample_exports,
)
from svcmining.exceptions import InvalidParameterError, ReadError, SchemaError

TZ = "Asia/Shanghai"
MONTHS = ("工单导出_2024-10.csv", "工单导出_2024-11.csv", "工单导出_2024-12.csv")


@pytest.fixture(scope="module")
def gen() -> GeneratedTickets:
    return generate_tickets()


def _committed(sample_dir: Path) -> Path:
    if not (sample_dir / "truth" / "load.json").is_file():
        pytest.skip("sample_logs not generated (python -m svcmining.datasets sample_logs)")
    return sample_dir


def _m(text: str) -> int:
    return _simulation.minutes_of(text)


# ---------------------------------------------------------------- reference pieces


def test_business_minutes_calendar():
    """Business minutes follow Mon-Fri 09-18, the Oct 2024 holidays and make-up workdays."""
    assert _simulation.business_minutes(_m("2024-11-08 17:00"), _m("2024-11-11 10:00")) == 120
    assert _simulation.business_minutes(_m("2024-09-30 17:00"), _m("2024-10-08 10:00")) == 120
    assert (
        _simulation.business_minutes(_m("2024-10-12 09:00"), _m("2024-10-12 18:00")) == 540
    )  # Sat
    assert _simulation.business_minutes(_m("2024-10-13 09:00"), _m("2024-10-13 18:00")) == 0  # Sun
    assert _simulation.business_minutes(_m("2024-11-11 20:00"), _m("2024-11-12 08:00")) == 0
    assert _simulation._add_business(_m("2024-11-08 17:30"), 60) == _m("2024-11-11 09:30")
    assert _simulation._add_business(_m("2024-09-30 20:00"), 0) == _m("2024-10-08 09:00")


def _ev(*spec: str, t0: int = 0) -> list[list[object]]:
    """'活动/部门/处理人' items, one minute apart."""
    out = []
    for i, s in enumerate(spec):
        act, dept, res = [*s.split("/"), None, None][:3]
        out.append([act, t0 + i, res or None, dept])
    return out


def _kinds(ev: list[list[object]]) -> list[tuple[str, str]]:
    n = len(ev)
    stage = {e[0]: i / (n - 1) for i, e in reversed(list(enumerate(ev)))}
    return [(a, k) for _, a, k in _groundtruth._rework_case(ev, stage)]


def test_reference_rework_kinds_hand_made():
    """The reference rules type hand-made sequences as process.md says."""
    # self loop
    assert _kinds(
        _ev("投诉登记/客服中心/a", "远程排障/技术/b", "远程排障/技术/c", "结单/客服中心/a")
    ) == [("远程排障", "self_loop")]
    # direct ping-pong 售后 → 销售 → 售后 (also a back loop, ping_pong wins)
    assert _kinds(
        _ev("派单/客服/a", "售后评估/售后/b", "销售核实/销售/c", "售后评估/售后/b", "结单/客服/a")
    ) == [("售后评估", "ping_pong")]
    # a plain return to 客服 for the next step is not ping-pong and not rework
    assert _kinds(_ev("派单/客服/a", "评估/售后/b", "排障/技术/c", "验收/客服/a")) == []
    # back loop inside one department
    assert _kinds(
        _ev("派单/客服/a", "评估/售后/b", "审批/售后/c", "评估/售后/d", "结单/客服/a")
    ) == [("评估", "back_loop")]
    # redo / repeat: a later activity again with a smaller-stage step between
    ev = _ev("登记/客服/a", "验收/客服/x", "催办/客服/y", "验收/客服/x", "回访/客服/z")
    stage = {"登记": 0.0, "催办": 0.3, "验收": 0.6, "回访": 1.0}
    assert [k for *_, k in _groundtruth._rework_case(ev, stage)] == ["repeat"]
    ev[3][2] = "w"
    assert [k for *_, k in _groundtruth._rework_case(ev, stage)] == ["redo"]
    # reopen cycle; 回访 after the last close is not rework
    ev = _ev(
        "登记/客服/a", "排障/技术/b", "验收/客服/a", "结单/客服/a", "重新打开/客服/a",
        "排障/技术/b", "验收/客服/a", "结单/客服/a", "回访/客服/a",
    )  # fmt: skip
    stage = {"登记": 0, "排障": 0.3, "验收": 0.5, "结单": 0.7, "重新打开": 0.8, "回访": 1}
    assert [(a, k) for _, a, k in _groundtruth._rework_case(ev, stage)] == [("结单", "reopen")]


def test_reference_sla_rules():
    """SLA reference: business clocks, 24-48 h window, never-done targets vs the cutoff."""
    t0 = _m("2024-11-08 17:30")  # Friday
    ev = [
        ["投诉登记", t0, "a", "客服中心"],
        ["分类派单", _m("2024-11-11 10:00"), "a", "客服中心"],  # 1.5 business hours
        ["售后评估", _m("2024-11-11 13:00"), "b", "售后部"],  # 4.5 business hours
        ["结单", _m("2024-11-12 10:00"), "a", "客服中心"],
        ["回访", _m("2024-11-13 09:00"), "a", "客服中心"],  # 23 h: too early
    ]
    got = {s for s, *_ in _groundtruth._sla_case(ev, "高", cutoff=_m("2024-12-31 23:59"))}
    assert got == {"response_by_priority", "follow_up_24_48h"}
    got = {s for s, *_ in _groundtruth._sla_case(ev, "普通", cutoff=_m("2024-12-31 23:59"))}
    assert got == {"follow_up_24_48h"}
    # follow-up never done: breached only once 48 h have passed by the cutoff
    assert _groundtruth._sla_case(ev[:4], "普通", cutoff=_m("2024-11-14 09:00")) == []
    assert [
        s for s, *_ in _groundtruth._sla_case(ev[:4], "普通", cutoff=_m("2024-11-14 11:00"))
    ] == ["follow_up_24_48h"]


# ---------------------------------------------------------------- generated truth


def test_small_generation_is_deterministic():
    """The same seed gives identical frames; another seed gives another log."""
    a, b = generate_tickets(300, seed=5), generate_tickets(300, seed=5)
    for name in ("events", "cases", "handoffs", "deviations", "rework", "duplicates"):
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name))
    assert a.load == b.load
    c = generate_tickets(300, seed=6)
    assert not a.events["timestamp"].equals(c.events["timestamp"])


def test_events_contract(gen):
    """The true log: canonical columns, string ids, sorted, tz-aware, minute resolution."""
    ev = gen.events
    assert list(ev.columns[:8]) == [
        "case_id", "activity", "timestamp", "resource", "department", "channel", "priority",
        "customer_id",
    ]  # fmt: skip
    assert {"备注", "工单类型"} <= set(ev.columns)
    assert ev["case_id"].map(type).eq(str).all()
    assert str(ev["timestamp"].dt.tz) == TZ
    assert (ev["timestamp"].dt.second == 0).all()
    assert ev["case_id"].is_monotonic_increasing
    same = ev["case_id"].eq(ev["case_id"].shift())
    assert (ev["timestamp"].diff()[same] >= pd.Timedelta(0)).all()
    assert ev["timestamp"].max() <= pd.Timestamp("2024-12-31 23:59", tz=TZ)
    assert len(gen.cases) == ev["case_id"].nunique() >= 6000
    ids = gen.cases["case_id"]
    assert ids.str.fullmatch(r"GD24(10|12)\d{6}|1\d{6}").all()
    assert ids.str.fullmatch(r"1\d{6}").sum() > 1000  # November's plain-digit ids


def test_proportions_plausible(gen):
    """Channel, priority, open, duplicate, rework and deviation shares are in their ranges."""
    c = gen.cases
    n = len(c)
    assert 0.43 <= (c["channel"] == "电话").mean() <= 0.57
    pr = c["priority"].value_counts(normalize=True)
    assert 0.07 <= pr["紧急"] <= 0.13 and 0.25 <= pr["高"] <= 0.35
    assert 0.02 <= c["open_at_cutoff"].mean() <= 0.06
    assert 0.04 <= len(gen.duplicates) / n <= 0.08
    assert (gen.duplicates["gap_minutes"].between(1, 120)).all()
    assert (gen.duplicates["channel"] != gen.duplicates["duplicate_channel"]).all()
    share = gen.rework.groupby("kind")["case_id"].nunique() / n
    assert 0.06 <= share["self_loop"] <= 0.10
    assert 0.04 <= share["back_loop"] <= 0.08
    assert 0.03 <= share["reopen"] <= 0.07
    assert 0.08 <= share["ping_pong"] <= 0.20
    assert share["redo"] > 0 and share["repeat"] > 0
    kinds = set(gen.deviations["type"])
    assert kinds == {
        "skipped_step", "inserted_step", "out_of_order", "unknown_activity",
        "wrong_department", "sla_breach", "repeated_step",
    }  # fmt: skip


def test_story_figures(gen):
    """Remote > 4 h ~40%, complaint cycle ~5 d, sales → after-sales wait ~1.8 d."""
    ev = gen.events
    same = ev["case_id"].eq(ev["case_id"].shift())
    dur = ev["timestamp"].diff().dt.total_seconds() / 3600
    remote = (ev["activity"] == "远程排障") & same
    over = (dur[remote] > 4).mean()
    assert 0.35 <= over <= 0.45
    assert over == pytest.approx(gen.load["remote_over_4h_share"])
    assert 2.0 <= dur[remote].median() <= 3.0
    c = gen.cases[(gen.cases["工单类型"] == "投诉") & ~gen.cases["open_at_cutoff"]]
    days = (c["closed_at"] - c["opened_at"]).dt.total_seconds() / 86400
    assert 4.0 <= days.mean() <= 6.0
    med = gen.load["sales_to_aftersales_median_hours"]
    assert 1.5 * 24 <= med <= 2.1 * 24
    h = gen.handoffs
    delays = h.loc[(h["from_department"] == "销售部") & (h["to_department"] == "售后部")]
    allv = [float(x) for s in delays["delay_hours"] for x in s.split(";")]
    assert np.median(allv) == pytest.approx(med)


def test_truth_tables_consistent(gen):
    """Case flags agree with the rework/deviation/handoff tables; handoff delays >= 0."""
    c = gen.cases.set_index("case_id")
    rw = gen.rework
    kinds = rw.groupby("case_id")["kind"].agg(lambda s: ";".join(sorted(set(s))))
    assert (c.loc[kinds.index, "rework_kinds"] == kinds).all()
    assert (c.loc[~c.index.isin(kinds.index), "rework_kinds"] == "").all()
    pp = set(rw.loc[rw["kind"] == "ping_pong", "case_id"])
    assert set(c.index[c["ping_pong"]]) == pp
    nre = rw[rw["kind"] == "reopen"].groupby("case_id").size()
    assert (c.loc[nre.index, "n_reopen"] == nre).all()
    assert (gen.handoffs["delay_hours_sum"] >= 0).all()
    nh = gen.handoffs.groupby("case_id")["count"].sum()
    assert (c.loc[nh.index, "n_handoffs"] == nh).all()
    dev_cases = set(gen.deviations["case_id"])
    assert set(c.index[c["deviation_types"] != ""]) == dev_cases
    twins = c[c["duplicate_of"].notna()]
    assert set(twins.index) == set(gen.duplicates["duplicate_case_id"])
    assert c["in_files"].str.fullmatch(r"2024-1[012](;2024-1[012])*").all()


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000))
def test_invariants_any_seed(seed):
    """Any seed: times ordered and whole minutes, delays >= 0 and within the case duration."""
    g = generate_tickets(150, seed=seed)
    ev = g.events
    same = ev["case_id"].eq(ev["case_id"].shift())
    assert (ev["timestamp"].diff()[same] >= pd.Timedelta(0)).all()
    assert (ev["timestamp"].dt.second == 0).all()
    span = ev.groupby("case_id")["timestamp"].agg(lambda s: (s.max() - s.min()).total_seconds())
    tot = g.handoffs.groupby("case_id")["delay_hours_sum"].sum() * 3600
    assert (tot <= span.loc[tot.index] + 1e-6).all()
    assert (g.handoffs["delay_hours_sum"] >= 0).all()


def test_invalid_n_tickets():
    """A non-positive ticket count is an InvalidParameterError naming the parameter."""
    with pytest.raises(InvalidParameterError, match="'n_tickets' parameter of generate_tickets"):
        generate_tickets(0)


# ---------------------------------------------------------------- committed exports


def test_load_accounting_identity(sample_dir):
    """load.json: rows_read == rows_kept + sum(dropped), per-file rows match the CSV files."""
    d = _committed(sample_dir)
    load = json.loads((d / "truth" / "load.json").read_text(encoding="utf-8"))
    assert load["rows_read"] == load["rows_kept"] + sum(load["dropped"].values())
    assert load["rows_read"] == sum(load["files"].values())
    assert load["rows_kept"] == load["n_events"]
    encodings = {MONTHS[0]: "utf-8-sig", MONTHS[1]: "gbk", MONTHS[2]: "utf-8"}
    for name, rows in load["files"].items():
        df = pd.read_csv(d / name, dtype=str, keep_default_na=False, encoding=encodings[name])
        assert len(df) == rows
    assert 5 <= load["dropped"]["missing_case_id"] <= 15
    assert 5 <= load["dropped"]["unparseable_timestamp"] <= 15
    assert load["n_conflicts"] == load["dropped"]["conflicting_duplicate"] == 5
    assert 0.002 <= load["dropped"]["duplicate_event"] / load["rows_read"] <= 0.004
    assert load["equal_timestamps"] > 0
    assert (
        load["rows_kept_default_dedupe"] == load["rows_kept"] + load["dropped"]["duplicate_event"]
    )


def test_export_encodings_and_time_formats(sample_dir):
    """Oct: UTF-8 BOM + ISO seconds; Nov: GBK + slashes; Dec: UTF-8 + 年月日; all minutes."""
    d = _committed(sample_dir)
    raw = [(d / m).read_bytes() for m in MONTHS]
    assert raw[0].startswith(b"\xef\xbb\xbf")
    with pytest.raises(UnicodeDecodeError):
        raw[1].decode("utf-8")
    nov = raw[1].decode("gbk")
    assert not raw[2].startswith(b"\xef\xbb\xbf")
    dec = raw[2].decode("utf-8")
    oct_ = raw[0].decode("utf-8-sig")
    header = "工单编号,处理环节,处理时间,处理人,处理部门,受理渠道,优先级,客户编号,备注,工单类型"
    for text in (oct_, nov, dec):
        assert text.splitlines()[0] == header
    pats = (
        r"\d{4}-\d\d-\d\d \d\d:\d\d:00",
        r"\d{4}/\d\d/\d\d \d\d:\d\d",
        r"\d{4}年\d{1,2}月\d{1,2}日 \d\d:\d\d",
    )
    for text, pat in zip((oct_, nov, dec), pats, strict=True):
        times = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)["处理时间"]
        ok = times.str.fullmatch(pat)
        assert (ok | (times == "待定")).all()
        assert (times == "待定").sum() >= 3


def test_ids_stay_strings(sample_dir):
    """Plain-digit November ids and GD ids are read back as the same strings."""
    d = _committed(sample_dir)
    nov = pd.read_csv(d / MONTHS[1], dtype=str, keep_default_na=False, encoding="gbk")
    ids = nov["工单编号"]
    assert ids.str.fullmatch(r"1\d{6}").any() and ids.str.startswith("GD2410").any()
    assert set(ids[ids != ""]) <= set(pd.read_csv(d / "truth" / "cases.csv", dtype=str)["case_id"])


@pytest.mark.slow
def test_loader_returns_the_true_log(sample_dir, gen):
    """read_tickets (default dedupe) returns exactly the generator's events and its drop counts."""
    import svcmining as svc

    d = _committed(sample_dir)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        log = svc.read_tickets(d, timezone=TZ)
    load = json.loads((d / "truth" / "load.json").read_text(encoding="utf-8"))
    got = log.events[list(gen.events.columns)].reset_index(drop=True)
    pd.testing.assert_frame_equal(got, gen.events, check_dtype=False)
    assert log.report.dropped_by_reason() == load["dropped"]
    assert log.report.rows_read == load["rows_read"]
    conf = log.report.conflicts
    assert sorted(conf["kept_value"]) == sorted(c["newer_resource"] for c in load["conflicts"])


@pytest.mark.slow
def test_regenerates_byte_identically(sample_dir, tmp_path):
    """write_sample_exports with the default arguments reproduces the committed files."""
    d = _committed(sample_dir)
    write_sample_exports(tmp_path)
    ours = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file())
    assert ours
    for rel in ours:
        a = hashlib.sha256((tmp_path / rel).read_bytes()).hexdigest()
        b = hashlib.sha256((d / rel).read_bytes()).hexdigest()
        assert a == b, rel
    total = sum(p.stat().st_size for p in d.rglob("*") if p.is_file())
    assert total < 15 * 2**20


def test_xlsx_sheets(sample_dir):
    """The workbook has the three monthly sheets with real datetime cells."""
    from openpyxl import load_workbook

    d = _committed(sample_dir)
    wb = load_workbook(d / "xlsx" / "工单导出_2024Q4.xlsx", read_only=True)
    assert wb.sheetnames == ["10月", "11月", "12月"]
    rows = list(wb["11月"].iter_rows(min_row=1, max_row=3, values_only=True))
    assert rows[0][:3] == ("工单编号", "处理环节", "处理时间")
    assert all(hasattr(r[2], "year") for r in rows[1:])
    wb.close()


@pytest.mark.parametrize(
    ("name", "error", "match"),
    [
        ("missing_time_column.csv", SchemaError, "timestamp"),
        ("two_activity_columns.csv", SchemaError, "状态"),
        ("empty.csv", ReadError, "empty"),
        ("bad_encoding.csv", ReadError, "encoding"),
        ("header_only.csv", ReadError, "header but no data rows"),
        ("unparseable_times.csv", ReadError, "unparseable_timestamp"),
    ],
)
def test_broken_exports_fail_clearly(sample_dir, name, error, match):
    """Each faulty export in broken/ fails with its documented error."""
    import svcmining as svc

    d = _committed(sample_dir) / "broken"
    assert name in (d / "README.md").read_text(encoding="utf-8")
    with pytest.raises(error, match=match):
        svc.read_tickets(d / name, timezone=TZ)


# ---------------------------------------------------------------- benchmark + CLI


def test_benchmark_exports_small(tmp_path):
    """write_benchmark_exports writes three monthly CSVs whose rows it counts."""
    counts = write_benchmark_exports(tmp_path, n_events=20_000, seed=3)
    files = sorted(p.name for p in tmp_path.glob("*.csv"))
    assert files == sorted(MONTHS)
    assert counts["rows"] == sum(counts["files"].values()) >= counts["events"]
    assert 15_000 <= counts["events"] <= 25_000
    n = sum(
        len(pd.read_csv(tmp_path / m, dtype=str, encoding=e))
        for m, e in zip(MONTHS, ("utf-8-sig", "gbk", "utf-8"), strict=True)
    )
    assert n == counts["rows"]


def test_cli_main(tmp_path, capsys):
    """python -m svcmining.datasets OUT --tickets N writes the exports and truth."""
    assert main([str(tmp_path), "--tickets", "200"]) == 0
    assert "GeneratedTickets(" in capsys.readouterr().out
    assert (tmp_path / "truth" / "cases.csv").is_file()
    assert (tmp_path / "xlsx" / "工单导出_2024Q4.xlsx").is_file()
    assert re.search(r"missing_time_column", (tmp_path / "broken" / "README.md").read_text("utf-8"))


def test_in_files_matches_the_exports(sample_dir):
    """cases.in_files names exactly the monthly exports that hold the ticket."""
    d = _committed(sample_dir)
    cases = pd.read_csv(d / "truth" / "cases.csv", dtype=str)
    for name, enc in zip(MONTHS, ("utf-8-sig", "gbk", "utf-8"), strict=True):
        ids = pd.read_csv(d / name, dtype=str, keep_default_na=False, encoding=enc)["工单编号"]
        month = name[-11:-4]
        expected = set(cases.loc[cases["in_files"].str.contains(month), "case_id"])
        assert set(ids[ids != ""]) == expected
