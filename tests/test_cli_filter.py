"""``--filter FILE`` on the command line and ``svcmining export``: the CLI slices the log
exactly as ``svcmining.apply_filters(log, FILE)`` does, on every command."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pandas as pd
import pytest

import svcmining as svc
from svcmining.cli import main

REPO = Path(__file__).resolve().parents[1]
OCT = REPO / "sample_logs" / "工单导出_2024-10.csv"
SOP = REPO / "sample_logs" / "sop_complaint.yaml"
TZ = ["--timezone", "Asia/Shanghai"]

FILTERS = """\
filters:
  - attribute: {column: channel, op: equals, value: 电话}
  - endpoints: {end: 回访}
"""
HEADER = "工单编号,处理环节,处理时间,处理人,处理部门,受理渠道\n"


def run(argv: list, capsys) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def oct_log():
    """The October sample export, read as the command line reads it."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return svc.read_tickets(OCT, timezone="Asia/Shanghai")


@pytest.fixture
def stack(tmp_path: Path) -> Path:
    """Phone tickets that end with the follow-up call (回访)."""
    path = tmp_path / "filters.yaml"
    path.write_text(FILTERS, encoding="utf-8")
    return path


@pytest.fixture
def sliced(oct_log, stack):
    """The October log sliced by the stack in Python."""
    return svc.apply_filters(oct_log, stack)


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    """Three tickets by hand: T1 (3 events) and T2 (3) by 电话, T3 (2) by 微信."""
    rows = [
        ("T1", "登记", "2024-10-08 09:00", "电话"),
        ("T1", "处理", "2024-10-08 10:00", "电话"),
        ("T1", "结单", "2024-10-08 12:00", "电话"),
        ("T2", "登记", "2024-10-09 09:00", "电话"),
        ("T2", "处理", "2024-10-09 13:00", "电话"),
        ("T2", "结单", "2024-10-09 14:00", "电话"),
        ("T3", "登记", "2024-10-10 09:00", "微信"),
        ("T3", "结单", "2024-10-10 09:30", "微信"),
    ]
    path = tmp_path / "tiny.csv"
    body = "".join(f"{c},{a},{t},r{i},客服中心,{ch}\n" for i, (c, a, t, ch) in enumerate(rows))
    path.write_text(HEADER + body, encoding="utf-8")
    return path


# --------------------------------------------------------------------------- = Python


def test_export_filter_parquet_reads_back_as_the_python_slice(sliced, stack, tmp_path, capsys):
    """export --filter --out x.parquet: read back, the events are apply_filters' events."""
    out_file = tmp_path / "clean.parquet"
    code, out, err = run(["export", OCT, *TZ, "--filter", stack, "--out", out_file], capsys)
    assert code == 0, err
    n = sliced.events["case_id"].nunique()
    assert out == f"{n:,} tickets, {len(sliced.events):,} events written to {out_file}\n"
    back = svc.read_tickets(out_file)
    pd.testing.assert_frame_equal(back.events, sliced.events)
    assert back.events["case_id"].nunique() == 619  # 913 phone tickets, 619 end with 回访


def test_variants_filter_equals_python(sliced, stack, tmp_path, capsys):
    """variants --filter writes variants(apply_filters(log, FILE))."""
    out_file = tmp_path / "v.json"
    argv = ["variants", OCT, *TZ, "--filter", stack, "--out", out_file]
    code, _, err = run(argv, capsys)
    assert code == 0, err
    rows = json.loads(out_file.read_text(encoding="utf-8"))["rows"]
    want = svc.variants(sliced)
    assert [(tuple(r["sequence"]), r["cases"]) for r in rows] == list(
        zip(want["sequence"], want["cases"], strict=True)
    )
    assert "svcmining: note: filter Endpoints(end=('回访',)): kept 619 of 913 tickets" in err


def test_kpis_filter_equals_python(sliced, stack, tmp_path, capsys):
    """kpis --filter writes service_kpis(apply_filters(log, FILE)).table."""
    out_file = tmp_path / "k.parquet"
    code, _, err = run(["kpis", OCT, *TZ, "--filter", stack, "--out", out_file], capsys)
    assert code == 0, err
    pd.testing.assert_frame_equal(pd.read_parquet(out_file), svc.service_kpis(sliced).table)


def test_check_filter_checks_the_slice(sliced, stack, capsys):
    """check --filter --format json: the tickets and events checked are the slice's."""
    argv = ["check", OCT, *TZ, "--sop", SOP, "--filter", stack, "--format", "json"]
    code, out, err = run(argv, capsys)
    assert code == 0, err
    log = json.loads(out)["logs"][0]
    assert (log["tickets"], log["events"]) == (619, len(sliced.events))


def test_discover_filter_maps_the_slice(stack, tmp_path, capsys):
    """discover --filter: the map is drawn from the 619 tickets of the slice."""
    code, out, err = run(
        ["discover", OCT, *TZ, "--filter", stack, "--out", tmp_path / "m.svg"], capsys
    )
    assert code == 0, err
    assert out.startswith("Process map (619 tickets,")


def test_report_filter_reports_on_the_slice(sliced, stack, tmp_path, capsys, monkeypatch):
    """report --filter hands the sliced log to build_report."""
    import svcmining.report

    seen = {}

    class Done:
        sections = ()

        def to_html(self) -> str:
            return "<html></html>"

    def fake_build_report(log, **kwargs):
        seen["events"] = log.events
        return Done()

    monkeypatch.setattr(svcmining.report, "build_report", fake_build_report)
    argv = ["report", OCT, *TZ, "--filter", stack, "--out", tmp_path / "r.html"]
    code, _, err = run(argv, capsys)
    assert code == 0, err
    pd.testing.assert_frame_equal(seen["events"], sliced.events)


def test_info_filter_lists_each_filter_with_counts(tiny, tmp_path, capsys):
    """info --filter prints the filters in order: 2 of 3 tickets and 6 of 8 events kept."""
    path = tmp_path / "phone.yaml"
    path.write_text(
        "filters:\n  - attribute: {column: channel, op: equals, value: 电话}\n", encoding="utf-8"
    )
    code, out, err = run(["info", tiny, *TZ, "--filter", path], capsys)
    assert code == 0, err
    assert (
        "Filters (in order)\n"
        "  Attribute(column='channel', value='电话'): kept 2 of 3 tickets, 6 of 8 events\n"
    ) in out
    assert "  2 tickets, 6 events" in out
    assert err == ""  # info shows the filters on stdout, not as notes


def test_filter_applies_before_pseudonymize(tiny, tmp_path, capsys):
    """A filter naming a staff member keeps that ticket under --pseudonymize too (the
    filter sees the real names, the output only hashes)."""
    path = tmp_path / "r4.yaml"
    path.write_text(
        "filters:\n  - attribute: {column: resource, op: equals, value: r4}\n", encoding="utf-8"
    )
    out_file = tmp_path / "x.parquet"
    argv = ["export", tiny, *TZ, "--filter", path, "--pseudonymize", "--salt", "s3cret"]
    code, _, err = run([*argv, "--out", out_file], capsys)
    assert code == 0, err
    events = pd.read_parquet(out_file)
    assert events["case_id"].tolist() == ["T2", "T2", "T2"]  # r4 did T2's 处理
    assert not {"r3", "r4", "r5"} & set(events["resource"])  # staff names are hashed


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("filters:\n  - attribute: {colum: channel}\n", "unknown key 'colum'"),
        ("filters:\n  - sideways: {}\n", "sideways"),
        ("filters: [\n", "filters.yaml"),
        (
            "filters:\n  - attribute: {column: channel, op: equals, value: 火星}\n",
            "the filters keep none of the 3 tickets",
        ),
    ],
)
def test_bad_filter_file_exits_2(tiny, tmp_path, capsys, text, message):
    """A filter file with an unknown key, an unknown filter, broken YAML or that keeps
    nothing: exit 2, one line on stderr."""
    path = tmp_path / "filters.yaml"
    path.write_text(text, encoding="utf-8")
    code, out, err = run(["variants", tiny, *TZ, "--filter", path], capsys)
    assert code == 2 and out == ""
    assert message in err
    assert "Traceback" not in err and "internal error" not in err


def test_missing_filter_file_fails_before_reading(tmp_path, capsys, monkeypatch):
    """--filter naming no file: exit 2 before any export is read."""
    import svcmining.io

    def no_read(*args, **kwargs):
        raise AssertionError("the exports were read before --filter was checked")

    monkeypatch.setattr(svcmining.io, "read_tickets", no_read)
    code, _, err = run(["info", OCT, "--filter", tmp_path / "nope.yaml"], capsys)
    assert code == 2
    assert "nope.yaml: filter file not found; check --filter." in err


@pytest.mark.parametrize("suffix", [".xlsx", ".txt"])
def test_export_bad_suffix_exits_2(tmp_path, capsys, suffix):
    """export --out with a suffix it cannot write: exit 2 naming the formats."""
    code, _, err = run(["export", OCT, "--out", tmp_path / f"x{suffix}"], capsys)
    assert code == 2
    assert ".parquet, .csv, .xes, .xes.gz" in err
