"""The ``svcmining`` command line: exit codes, output formats, batch checks, report, demo."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from svcmining import __version__
from svcmining._explorer import strip_explorer
from svcmining.cli import CHECK_JSON_SCHEMA, excel_safe, main

HEADER = "工单编号,处理环节,处理时间,处理人,处理部门,受理渠道,优先级,客户编号,备注\n"
GOOD = ["投诉登记", "需求确认", "分类派单", "售后评估", "远程排障", "客户验收", "结单", "回访"]
DEPT = {
    "投诉登记": "客服中心",
    "需求确认": "客服中心",
    "分类派单": "客服中心",
    "售后评估": "售后部",
    "远程排障": "技术支持部",
    "上门维修": "上门服务",
    "客户验收": "客服中心",
    "结单": "客服中心",
    "回访": "客服中心",
}

SOP_YAML = """\
name: 投诉处理 SOP
steps:
  - {id: register, labels: [投诉登记], department: 客服中心}
  - {id: confirm, labels: [需求确认], department: 客服中心}
  - {id: assign, labels: [分类派单], department: 客服中心}
  - {id: assess, labels: [售后评估], department: 售后部}
  - {id: remote, labels: [远程排障], department: 技术支持部, repeatable: true}
  - {id: onsite, labels: [上门维修], department: 上门服务}
  - {id: accept, labels: [客户验收], department: 客服中心}
  - {id: close, labels: [结单], department: 客服中心}
  - {id: follow_up, labels: [回访], department: 客服中心, optional: true}
flow: [register, confirm, assign, assess, {choice: [remote, onsite]}, accept, close, follow_up]
"""


def _rows(case: str, day: str, seq: list[str], *, remark: str = "") -> str:
    out = []
    for i, act in enumerate(seq):
        dept = DEPT.get(act, "客服中心")
        out.append(
            f"{case},{act},{day} {9 + i:02d}:00,客服{i:02d},{dept},电话,普通,C{case[-2:]},{remark}\n"
        )
    return "".join(out)


@pytest.fixture
def exports(tmp_path: Path) -> dict[str, Path]:
    """Three monthly exports and an SOP: October and December conform, November has a
    ticket that skips the assessment and one with a formula-like activity label."""
    folder = tmp_path / "exports"
    folder.mkdir()
    oct_ = (
        HEADER
        + _rows("GD2410000001", "2024-10-08", GOOD)
        + _rows("GD2410000002", "2024-10-09", GOOD)
    )
    nov_seq = [a for a in GOOD if a != "售后评估"]
    nov = (
        HEADER
        + _rows("GD2411000001", "2024-11-05", GOOD)
        + _rows("GD2411000002", "2024-11-06", nov_seq)
        + _rows("-1001", "2024-11-07", ["投诉登记", "=HYPERLINK(1)", *GOOD[1:]], remark="@x")
    )
    dec = HEADER + _rows("1001", "2024-12-03", GOOD)
    paths = {}
    for name, text in (("2024-10", oct_), ("2024-11", nov), ("2024-12", dec)):
        p = folder / f"工单导出_{name}.csv"
        p.write_text(text, encoding="utf-8")
        paths[name] = p
    sop = tmp_path / "sop.yaml"
    sop.write_text(SOP_YAML, encoding="utf-8")
    paths["sop"] = sop
    paths["folder"] = folder
    return paths


def run(argv: list[str], capsys) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def check_args(exports, *extra) -> list[str]:
    return [
        "check",
        exports["folder"],
        "--sop",
        exports["sop"],
        "--timezone",
        "Asia/Shanghai",
        *extra,
    ]


# --------------------------------------------------------------------------- basics


def test_version(capsys):
    """--version prints the package version and exits 0."""
    code, out, _ = run(["--version"], capsys)
    assert code == 0
    assert out.strip() == f"svcmining {__version__}"


def test_no_command_prints_help(capsys):
    """No subcommand: help text and exit 2 (bad input)."""
    code, out, _ = run([], capsys)
    assert code == 2
    assert "check" in out and "report" in out


def test_usage_error_exits_2(capsys):
    """An unknown option is bad input: exit 2 with argparse's one-line usage error."""
    code, _, err = run(["check", "x.csv", "--sop", "s.yaml", "--format", "pdf"], capsys)
    assert code == 2
    assert "invalid choice: 'pdf'" in err


def test_help_imports_nothing_heavy():
    """--help does not import pandas, matplotlib or pm4py (so it starts fast)."""
    code = (
        "import sys, contextlib, io\n"
        "from svcmining.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    rc = main(['--help'])\n"
        "heavy = [m for m in ('pandas', 'numpy', 'matplotlib', 'pm4py') if m in sys.modules]\n"
        "print(rc, heavy)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip() == "0 []"


# --------------------------------------------------------------------------- check: exit codes


def test_check_passes(exports, capsys):
    """All thresholds hold: exit 0, one PASS line, nothing on stderr."""
    code, out, err = run(
        check_args(exports, "--min-fitness", "0.5", "--max-deviation-rate", "0.9"), capsys
    )
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].startswith("svcmining check against 投诉处理 SOP")
    assert len(lines) == 2
    assert lines[1].startswith("PASS")
    assert "6 tickets" in lines[1]
    assert err == ""


def test_check_fails_naming_threshold_figure_and_limit(exports, capsys):
    """A broken threshold: exit 1, the line and stderr name the metric, its value and the limit."""
    code, out, err = run(check_args(exports, "--max-deviation-rate", "0.1"), capsys)
    assert code == 1
    line = out.splitlines()[1]
    assert line.startswith("FAIL")
    # 2 of 6 tickets deviate (a skipped assessment, an unknown activity)
    assert "deviation rate 0.333 > max 0.100 FAILED" in line
    assert "check failed" in err and "deviation rate 0.333 > max 0.100" in err


def test_percent_threshold_accepted(exports, capsys):
    """Thresholds may be written as percentages ('95%')."""
    code, out, _ = run(check_args(exports, "--max-deviation-rate", "40%"), capsys)
    assert code == 0
    assert "deviation rate 0.333 <= max 0.400" in out


@pytest.mark.parametrize("bad", ["1.5", "-0.1", "abc"])
def test_bad_threshold_value(exports, capsys, bad):
    """A threshold outside 0..1 is a usage error (exit 2)."""
    code, _, err = run(check_args(exports, "--min-fitness", bad), capsys)
    assert code == 2
    assert "between 0 and 1" in err


def test_missing_log_file(exports, capsys):
    """A missing export: exit 2, one line naming the file, no traceback."""
    code, out, err = run(["check", exports["folder"] / "nope.csv", "--sop", exports["sop"]], capsys)
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1
    assert "nope.csv" in err and "Traceback" not in err


def test_missing_sop(exports, capsys):
    """A missing SOP file: exit 2, naming it and the option."""
    code, _, err = run(["check", exports["folder"], "--sop", "nosuch.yaml"], capsys)
    assert code == 2
    assert "nosuch.yaml" in err and "--sop" in err


def test_bad_sop(exports, tmp_path, capsys):
    """An invalid SOP: exit 2 with one line naming the SOP file."""
    bad = tmp_path / "bad_sop.yaml"
    bad.write_text("name: x\nsteps:\n  - {id: a, labels: [A]}\nflow: [a, b]\n", encoding="utf-8")
    code, _, err = run(["check", exports["folder"], "--sop", bad], capsys)
    assert code == 2
    assert "bad_sop.yaml" in err
    assert err.count("\n") == 1


def test_unknown_column_in_mapping(exports, tmp_path, capsys):
    """A mapping naming a column the export lacks: exit 2, saying which column."""
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text(
        "case_id: Ticket No\nactivity: 处理环节\ntimestamp: 处理时间\n", encoding="utf-8"
    )
    code, _, err = run(check_args(exports, "--mapping", mapping), capsys)
    assert code == 2
    assert "Ticket No" in err
    assert err.count("\n") == 1


def test_empty_export_is_bad_input(exports, capsys):
    """An export with a header and no rows cannot pass a contract: exit 2, saying so."""
    empty = exports["folder"] / "工单导出_2025-01.csv"
    empty.write_text(HEADER, encoding="utf-8")
    code, out, err = run(["check", empty, "--sop", exports["sop"]], capsys)
    assert code == 2
    assert out == ""
    assert "header but no data rows" in err and err.count("\n") == 1


def test_library_advice_gets_the_cli_spelling(exports, tmp_path, capsys):
    """Errors that suggest a Python keyword (mapping=...) also say which option to use."""
    no_time = tmp_path / "no_time.csv"
    no_time.write_text("工单编号,处理环节\nA1,投诉登记\n", encoding="utf-8")
    code, _, err = run(["check", no_time, "--sop", exports["sop"]], capsys)
    assert code == 2
    assert "timestamp" in err and "--mapping" in err
    assert err.count("\n") == 1


def test_debug_shows_traceback(exports):
    """--debug lets the exception propagate (traceback) instead of the one-line message."""
    from svcmining.exceptions import ReadError

    with pytest.raises(ReadError):
        main(
            ["--debug", "check", str(exports["folder"] / "nope.csv"), "--sop", str(exports["sop"])]
        )


# --------------------------------------------------------------------------- check: batches


def test_each_one_line_per_log_with_right_verdict(exports, capsys):
    """--each checks every export on its own: one line each; only November fails."""
    code, out, err = run(check_args(exports, "--each", "--max-deviation-rate", "0.0"), capsys)
    assert code == 1
    lines = out.splitlines()[1:]
    assert len(lines) == 3
    verdict = {line.split()[1].rstrip(":").rsplit("/", 1)[-1]: line.split()[0] for line in lines}
    assert verdict == {
        "工单导出_2024-10.csv": "PASS",
        "工单导出_2024-11.csv": "FAIL",
        "工单导出_2024-12.csv": "PASS",
    }
    assert "1 of 3 log(s)" in err


def test_each_keeps_going_after_a_bad_file(exports, capsys):
    """In a batch, an unreadable export is an ERROR line; the others are still checked; exit 2."""
    (exports["folder"] / "工单导出_2025-01.csv").write_bytes(b"")
    code, out, err = run(check_args(exports, "--each"), capsys)
    assert code == 2
    lines = out.splitlines()[1:]
    assert [line.split()[0] for line in lines] == ["PASS", "PASS", "PASS", "ERROR"]
    assert "2025-01" in lines[3]
    assert "could not be checked" in err


def test_globs_and_files_are_one_log_without_each(exports, capsys):
    """Several files / a glob without --each are loaded together as one log."""
    pattern = str(exports["folder"] / "*.csv")
    code, out, _ = run(
        ["check", pattern, "--sop", exports["sop"], "--timezone", "Asia/Shanghai"], capsys
    )
    assert code == 0  # no thresholds: reporting only
    assert "thresholds: none (reporting only)" in out
    assert len(out.splitlines()) == 2
    assert "6 tickets" in out


# --------------------------------------------------------------------------- check: formats


def _validate(instance, schema, path="$"):
    """A small JSON-Schema checker for the keywords CHECK_JSON_SCHEMA uses."""
    types = {
        "object": dict,
        "array": list,
        "string": str,
        "boolean": bool,
        "null": type(None),
        "number": (int, float),
        "integer": int,
    }
    if "const" in schema:
        assert instance == schema["const"], path
    if "enum" in schema:
        assert instance in schema["enum"], path
    if "type" in schema:
        allowed = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        ok = any(
            isinstance(instance, types[t])
            and not (t in ("number", "integer") and isinstance(instance, bool))
            for t in allowed
        )
        assert ok, f"{path}: {instance!r} is not {allowed}"
    if isinstance(instance, dict):
        for key in schema.get("required", []):
            assert key in instance, f"{path}: missing {key}"
        for key, value in instance.items():
            if key in schema.get("properties", {}):
                _validate(value, schema["properties"][key], f"{path}.{key}")
            elif isinstance(schema.get("additionalProperties"), dict):
                _validate(value, schema["additionalProperties"], f"{path}.{key}")
    if isinstance(instance, list) and "items" in schema:
        for i, item in enumerate(instance):
            _validate(item, schema["items"], f"{path}[{i}]")


def test_json_follows_schema(exports, capsys):
    """--format json: stdout is one JSON document valid against the versioned schema."""
    code, out, _ = run(
        check_args(exports, "--each", "--min-fitness", "0.99", "--format", "json"), capsys
    )
    assert code == 1
    doc = json.loads(out)
    _validate(doc, CHECK_JSON_SCHEMA)
    assert doc["schema_version"] == 1
    assert doc["exit_code"] == 1 and doc["passed"] is False
    assert doc["thresholds"] == {
        "min_fitness": 0.99,
        "max_deviation_rate": None,
        "min_sla_attainment": None,
    }
    by_log = {Path(r["log"]).name: r for r in doc["logs"]}
    nov = by_log["工单导出_2024-11.csv"]
    assert nov["status"] == "fail"
    assert nov["tickets"] == 3
    assert nov["deviations"] == {"skipped_step": 1, "unknown_activity": 1}
    assert nov["checks"][0]["threshold"] == "min_fitness" and nov["checks"][0]["passed"] is False
    assert nov["load"]["rows_read"] == 8 + 7 + 9
    oct_ = by_log["工单导出_2024-10.csv"]["metrics"]
    assert oct_["deviation_rate"] == 0.0 and oct_["conformance_rate"] == 1.0
    assert oct_["log_fitness"] == pytest.approx(1.0, abs=1e-4)  # pm4py's tau costs


@pytest.mark.skipif(
    __import__("importlib").util.find_spec("svcmining.calendars") is None,
    reason="SLAs need svcmining.calendars (not there yet)",
)
def test_json_per_sla_counts(exports, tmp_path, capsys):
    """The JSON result lists every SLA with met / breached / censored and its attainment."""
    sop = tmp_path / "sop_sla.yaml"
    sop.write_text(
        SOP_YAML
        + "slas:\n  - {id: assign_3h, from: register, to: assign, within: 3h, hours: elapsed}\n",
        encoding="utf-8",
    )
    code, out, _ = run(
        [
            "check",
            exports["2024-10"],
            "--sop",
            sop,
            "--timezone",
            "Asia/Shanghai",
            "--format",
            "json",
        ],
        capsys,
    )
    assert code == 0
    doc = json.loads(out)
    _validate(doc, CHECK_JSON_SCHEMA)
    assert doc["logs"][0]["slas"] == {
        "assign_3h": {"met": 2, "breached": 0, "censored": 0, "attainment": 1.0}
    }


def test_json_schema_is_itself_json(capsys):
    """The schema is plain JSON, printed by 'svcmining check-schema'."""
    assert json.loads(json.dumps(CHECK_JSON_SCHEMA)) == CHECK_JSON_SCHEMA
    code, out, _ = run(["check-schema"], capsys)
    assert code == 0
    assert json.loads(out) == CHECK_JSON_SCHEMA


def test_junit_one_testcase_per_log_and_threshold(exports, capsys):
    """--format junit: a testsuite per log, a testcase per threshold, failures where broken."""
    code, out, _ = run(
        check_args(
            exports,
            "--each",
            "--min-fitness",
            "0.9",
            "--max-deviation-rate",
            "0.0",
            "--format",
            "junit",
        ),
        capsys,
    )
    assert code == 1
    root = ET.fromstring(out.encode("utf-8"))
    assert root.tag == "testsuites"
    suites = root.findall("testsuite")
    assert len(suites) == 3
    assert root.get("tests") == "6" and root.get("failures") == "1" and root.get("errors") == "0"
    for s in suites:
        cases = s.findall("testcase")
        assert [c.get("name").split()[0] for c in cases] == ["min_fitness", "max_deviation_rate"]
    nov = next(s for s in suites if s.get("name").endswith("2024-11.csv"))
    failure = nov.find("testcase[2]/failure")
    assert failure is not None
    assert "deviation rate 0.667 > max 0.000" in failure.get("message")


def test_junit_marks_unreadable_log_as_error(exports, capsys):
    """A log that cannot be read is a JUnit <error>, not a failure."""
    (exports["folder"] / "工单导出_2025-01.csv").write_text("just one line\n", encoding="utf-8")
    code, out, _ = run(check_args(exports, "--each", "--format", "junit"), capsys)
    assert code == 2
    root = ET.fromstring(out.encode("utf-8"))
    assert root.get("errors") == "1"
    err = root.find(".//testcase/error")
    assert err is not None and err.get("type") == "bad_input"


def test_csv_deviations_are_excel_safe(exports, capsys):
    """--format csv: one row per deviation; cells starting with = + - @ are neutralised."""
    code, out, _ = run(check_args(exports, "--format", "csv"), capsys)
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert {r["type"] for r in rows} == {"skipped_step", "unknown_activity"}
    unknown = next(r for r in rows if r["type"] == "unknown_activity")
    assert unknown["activity"] == "'=HYPERLINK(1)"
    assert unknown["case_id"] == "'-1001"
    skipped = next(r for r in rows if r["type"] == "skipped_step")
    assert skipped["case_id"] == "GD2411000002"
    assert skipped["step"] == "assess"
    for r in rows:
        for v in r.values():
            assert (v or " ")[0] not in "=+-@", v


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+86", "'+86"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("投诉", "投诉"),
        ("a=b", "a=b"),
        (3, 3),
        (None, None),
    ],
)
def test_excel_safe(value, expected):
    """Formula-looking text cells get a leading apostrophe; other values are left alone."""
    assert excel_safe(value) == expected


def test_markdown_table(exports, capsys):
    """--format markdown: a table with a row per log, failed figures in bold."""
    code, out, _ = run(
        check_args(exports, "--each", "--max-deviation-rate", "0.0", "--format", "markdown"), capsys
    )
    assert code == 1
    lines = out.splitlines()
    table = [line for line in lines if line.startswith("|")]
    assert len(table) == 2 + 3
    assert "deviation rate (<= 0.000)" in table[0]
    nov = next(line for line in table if "2024-11" in line)
    assert "❌ fail" in nov and "**0.667** ✗" in nov


def test_out_dir_writes_every_format(exports, tmp_path, capsys):
    """--out DIR writes text, JSON, JUnit, Markdown and a BOM-marked CSV; stdout keeps the chosen format."""
    out_dir = tmp_path / "ci"
    code, out, err = run(check_args(exports, "--out", out_dir, "--format", "json"), capsys)
    assert code == 0
    json.loads(out)
    names = sorted(p.name for p in out_dir.iterdir())
    assert names == ["check.json", "check.junit.xml", "check.md", "check.txt", "deviations.csv"]
    assert (out_dir / "deviations.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    ET.parse(out_dir / "check.junit.xml")
    assert json.loads((out_dir / "check.json").read_text(encoding="utf-8"))["exit_code"] == 0
    assert "wrote" in err and str(out_dir) in err


def test_stdout_has_only_results(exports, capsys):
    """Progress and messages never reach stdout: the JSON output parses as a whole."""
    code, out, _ = run(
        check_args(exports, "--each", "--format", "json", "--max-deviation-rate", "0"), capsys
    )
    assert code == 1
    assert json.loads(out)["passed"] is False


@pytest.mark.skipif(
    __import__("importlib").util.find_spec("svcmining.calendars") is None,
    reason="SLAs need svcmining.calendars (not there yet)",
)
def test_sla_threshold(exports, tmp_path, capsys):
    """--min-sla-attainment compares the share of SLA instances met with the limit."""
    sop = tmp_path / "sop_sla.yaml"
    sop.write_text(
        SOP_YAML
        + "slas:\n  - {id: assign_fast, from: register, to: assign, within: 1h, hours: elapsed}\n",
        encoding="utf-8",
    )
    # every ticket assigns 2 h (confirm at +1 h, assign at +2 h) after registering: none met
    code, out, _ = run(
        [
            "check",
            exports["folder"] / "工单导出_2024-10.csv",
            "--sop",
            sop,
            "--timezone",
            "Asia/Shanghai",
            "--min-sla-attainment",
            "0.5",
        ],
        capsys,
    )
    assert code == 1
    assert "SLA attainment 0.000 < min 0.500 FAILED" in out


# --------------------------------------------------------------------------- other subcommands


def test_report_command(exports, tmp_path, capsys):
    """report writes one HTML file and says where."""
    out_file = tmp_path / "r" / "report.html"
    code, out, err = run(
        [
            "report",
            exports["folder"],
            "--sop",
            exports["sop"],
            "--timezone",
            "Asia/Shanghai",
            "--out",
            out_file,
            "--title",
            "十月报告",
        ],
        capsys,
    )
    assert code == 0, err
    assert out_file.is_file()
    assert "Report written to" in out and "report.html" in out
    text = out_file.read_text(encoding="utf-8")
    assert "<title>十月报告</title>" in text
    assert "<script" not in strip_explorer(text).lower()


def test_report_without_graphviz_prints_one_clean_note(exports, tmp_path, capsys, monkeypatch):
    """Without Graphviz the report prints one `svcmining: note:` line, no Python warning."""
    import svcmining._processmap

    monkeypatch.setattr(svcmining._processmap, "graphviz_available", lambda: False)
    code, _, err = run(
        ["report", exports["folder"], "--sop", exports["sop"], "--out", tmp_path / "r.html"],
        capsys,
    )
    assert code == 0, err
    lines = err.splitlines()
    assert all(line.startswith("svcmining: note: ") for line in lines), err
    assert len([line for line in lines if "Graphviz" in line]) == 1, err
    assert len(set(lines)) == len(lines)
    assert "UserWarning" not in err and ".py:" not in err


def test_cli_warnings_are_deduplicated_one_line_notes(exports, capsys, monkeypatch):
    """Each distinct warning of a command prints once, as `svcmining: note: <message>`."""
    import warnings

    import svcmining._cli_report

    def noisy(args):
        for _ in range(3):
            warnings.warn("Graphviz is\n  missing.", UserWarning, stacklevel=1)
        warnings.warn("Second thing.", RuntimeWarning, stacklevel=1)
        return 0

    monkeypatch.setattr(svcmining._cli_report, "cmd_info", noisy)
    code, out, err = run(["info", exports["folder"]], capsys)
    assert code == 0
    assert out == ""
    assert err == "svcmining: note: Graphviz is missing.\nsvcmining: note: Second thing.\n"
    code, _, err = run(["info", exports["folder"]], capsys)
    assert err.count("svcmining: note: Graphviz is missing.") == 1  # again on the next run


def test_report_benchmark_option(exports, tmp_path, capsys):
    """--benchmark STEP=LIMIT/BEST reaches the KPI section; a malformed one is bad input."""
    pytest.importorskip("svcmining.kpis")
    target = tmp_path / "b.html"
    code, _, err = run(
        [
            "report",
            exports["folder"],
            "--timezone",
            "Asia/Shanghai",
            "--out",
            target,
            "--benchmark",
            "远程排障=2h/1h",
        ],
        capsys,
    )
    assert code == 0, err
    assert "远程排障 &gt; 2h" in target.read_text(encoding="utf-8")  # the KPI row, escaped
    code, _, err = run(
        ["report", exports["folder"], "--benchmark", "远程排障", "--out", target], capsys
    )
    assert code == 2
    assert "STEP=LIMIT" in err


@pytest.mark.parametrize("how", ["china_2024", "file", "none"])
def test_report_calendar_option(exports, tmp_path, capsys, how):
    """--calendar takes a predefined calendar, a YAML file or 'none' (elapsed hours)."""
    pytest.importorskip("svcmining.calendars")
    value = how
    if how == "file":
        cal = tmp_path / "cal.yaml"
        cal.write_text(
            "calendar:\n  workdays: Mon-Fri\n  hours: ['09:00-18:00']\n  timezone: Asia/Shanghai\n",
            encoding="utf-8",
        )
        value = str(cal)
    target = tmp_path / f"{how}.html"
    code, _, err = run(
        [
            "report",
            exports["folder"],
            "--timezone",
            "Asia/Shanghai",
            "--calendar",
            value,
            "--out",
            target,
            "--title",
            "x",
            "--lang",
            "en",
        ],
        capsys,
    )
    assert code == 0, err
    text = target.read_text(encoding="utf-8")
    expected = "elapsed hours" if how == "none" else "business hours (calendar)"
    assert f"hours: {expected}" in text


def test_report_bad_calendar(exports, tmp_path, capsys):
    """An unknown --calendar value is bad input with the accepted forms listed."""
    code, _, err = run(
        [
            "report",
            exports["folder"],
            "--calendar",
            "no_such_calendar",
            "--out",
            tmp_path / "x.html",
        ],
        capsys,
    )
    assert code == 2
    assert "--calendar" in err


def test_discover_writes_map(exports, tmp_path, capsys):
    """discover writes the process map in the format its suffix names."""
    target = tmp_path / "map.svg"
    code, out, _ = run(
        ["discover", exports["folder"], "--out", target, "--timezone", "Asia/Shanghai"], capsys
    )
    assert code == 0
    assert target.read_bytes().lstrip().startswith((b"<?xml", b"<svg"))
    assert "6 tickets" in out


def test_discover_bad_suffix(exports, tmp_path, capsys):
    """A map file with an unknown suffix is bad input."""
    code, _, err = run(["discover", exports["folder"], "--out", tmp_path / "map.bmp"], capsys)
    assert code == 2
    assert ".svg" in err


# --------------------------------------------------------------------------- many files (issue 21)
def _many(folder: Path, n: int) -> Path:
    """``n`` two-row exports e00.csv, e01.csv, ... (one ticket each)."""
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        (folder / f"e{i:02d}.csv").write_text(
            HEADER + _rows(f"GD{i}", "2024-10-08", ["投诉登记", "需求确认"]), encoding="utf-8"
        )
    return folder


def test_info_lists_the_first_ten_files_then_counts(tmp_path, capsys):
    """`info` over 25 exports: 10 file lines, then one line counting the other 15."""
    folder = _many(tmp_path / "m", 25)
    code, out, _ = run(["info", folder, "--timezone", "Asia/Shanghai"], capsys)
    assert code == 0
    files = [ln for ln in out.splitlines() if ln.startswith("  e")]
    assert files[0].startswith("  e00.csv: 2 rows") and len(files) == 10
    assert "  ... and 15 more file(s), 30 rows (csv 15)" in out
    assert "(--all-files lists every file)" in out


def test_info_all_files_lists_every_file(tmp_path, capsys):
    """`info --all-files` lists all 25 exports and no summary line."""
    folder = _many(tmp_path / "m", 25)
    code, out, _ = run(["info", folder, "--timezone", "Asia/Shanghai", "--all-files"], capsys)
    assert code == 0
    assert len([ln for ln in out.splitlines() if ln.startswith("  e")]) == 25
    assert "more file(s)" not in out


def test_check_each_lists_problems_first_then_counts(tmp_path, capsys):
    """`check --each` over 13 logs (one bad): 10 lines, the bad one among them, then counts;
    JSON keeps all 13."""
    folder = _many(tmp_path / "m", 12)
    (folder / "z_bad.csv").write_text("", encoding="utf-8")
    sop = tmp_path / "sop.yaml"
    sop.write_text(SOP_YAML, encoding="utf-8")
    argv = ["check", folder, "--each", "--sop", sop, "--timezone", "Asia/Shanghai"]
    code, out, _ = run(argv, capsys)
    assert code == 2
    lines = out.splitlines()
    assert [ln.split()[0] for ln in lines[1:11]] == ["PASS"] * 9 + ["ERROR"]
    assert lines[11] == (
        "... 13 logs in all (12 pass, 0 fail, 1 error); 3 not listed (--all-files lists every "
        "log; --format json or --out DIR keep them all)"
    )
    code, out, _ = run([*argv, "--all-files"], capsys)
    assert len(out.splitlines()) == 14
    code, out, _ = run([*argv, "--format", "json"], capsys)
    assert len(json.loads(out)["logs"]) == 13


def test_nothing_on_stderr_in_a_pipe(tmp_path):
    """Run as a subprocess with piped stderr, check --each writes no progress at all."""
    import os

    folder = _many(tmp_path / "m", 4)
    sop = tmp_path / "sop.yaml"
    sop.write_text(SOP_YAML, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "svcmining",
            "check",
            str(folder),
            "--each",
            "--sop",
            str(sop),
            "--timezone",
            "Asia/Shanghai",
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    assert len(json.loads(proc.stdout)["logs"]) == 4


def test_progress_is_shown_on_a_terminal(tmp_path, capsys, monkeypatch):
    """With stderr a (simulated) terminal, reading 3 exports draws a 'reading' bar."""
    import svcmining as svc
    import svcmining._progress as progress

    folder = _many(tmp_path / "m", 3)
    monkeypatch.setattr(progress, "DELAY_SECONDS", 0.0)
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    svc.read_tickets(folder, timezone="Asia/Shanghai")
    err = capsys.readouterr().err
    assert "reading:" in err and "/3 [" in err
    assert progress.progress_bar(3, desc="x", unit="file") is not None
    assert progress.progress_bar(3, desc="x", unit="file", enabled=False) is None
    assert progress.progress_bar(1, desc="x", unit="file") is None


def test_no_progress_when_stderr_is_not_a_terminal(tmp_path, capsys, monkeypatch):
    """Without a terminal nothing is drawn, even with no delay."""
    import svcmining as svc
    import svcmining._progress as progress

    folder = _many(tmp_path / "m", 3)
    monkeypatch.setattr(progress, "DELAY_SECONDS", 0.0)
    monkeypatch.setattr(sys.stderr, "isatty", lambda: False)
    svc.read_tickets(folder, timezone="Asia/Shanghai")
    assert capsys.readouterr().err == ""


def test_report_sections_progress_on_a_terminal(tmp_path, capsys, monkeypatch):
    """`report` on a (simulated) terminal shows the per-section bar on stderr only."""
    import svcmining._progress as progress

    folder = _many(tmp_path / "m", 2)
    monkeypatch.setattr(progress, "DELAY_SECONDS", 0.0)
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    code, out, err = run(["report", folder, "--out", tmp_path / "r.html"], capsys)
    assert code == 0
    assert "report:" in err and "section/s]" in err
    assert "section/s]" not in out


def test_check_each_in_parallel_gives_the_same_results(tmp_path, capsys):
    """`check --each --jobs 2` runs two processes; the JSON is identical to the one-process
    run (same logs, order, metrics, errors)."""
    folder = _many(tmp_path / "m", 15)
    (folder / "e03.csv").write_text(
        HEADER + _rows("GD3", "2024-10-08", ["投诉登记", "结单", "需求确认"]), encoding="utf-8"
    )
    (folder / "z_bad.csv").write_text("", encoding="utf-8")
    sop = tmp_path / "sop.yaml"
    sop.write_text(SOP_YAML, encoding="utf-8")
    argv = ["check", folder, "--each", "--sop", sop, "--timezone", "Asia/Shanghai",
            "--format", "json"]  # fmt: skip
    code1, out1, _ = run(argv, capsys)
    code2, out2, _ = run([*argv, "--jobs", "2"], capsys)
    one, two = json.loads(out1), json.loads(out2)
    one.pop("created"), two.pop("created")
    assert code1 == code2 == 2
    assert one == two
    assert [log["status"] for log in one["logs"]] == ["pass"] * 15 + ["error"]
    assert one["logs"][3]["deviations"] != {}


def test_each_workers_rule(monkeypatch):
    """--jobs N: N processes (at most one per 8 logs); auto: idle cores; 1 without --each."""
    import argparse
    import os

    import svcmining._cli_check as cli

    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(8)), raising=False)
    monkeypatch.setattr(os, "getloadavg", lambda: (0.2, 0.0, 0.0))
    assert cli.each_workers(argparse.Namespace(each=True, jobs=1), 5000) == 1
    assert cli.each_workers(argparse.Namespace(each=True, jobs=4), 5000) == 4
    assert cli.each_workers(argparse.Namespace(each=True, jobs=4), 16) == 2
    assert cli.each_workers(argparse.Namespace(each=False, jobs=4), 5000) == 1
    auto = argparse.Namespace(each=True, jobs=cli.parse_jobs("auto"))
    assert cli.each_workers(auto, 5000) == 8
    monkeypatch.setattr(os, "getloadavg", lambda: (5.6, 0.0, 0.0))  # 2 cores idle
    assert cli.each_workers(auto, 5000) == 2
    monkeypatch.setattr(os, "getloadavg", lambda: (9.0, 0.0, 0.0))  # a busy machine
    assert cli.each_workers(auto, 5000) == 1


@pytest.mark.parametrize("bad", ["0", "-2", "many"])
def test_bad_jobs_value(tmp_path, capsys, bad):
    """--jobs takes a positive number or 'auto'; anything else is one error line, exit 2."""
    code, _, err = run(["check", tmp_path, "--sop", tmp_path / "s.yaml", "--jobs", bad], capsys)
    assert code == 2
    assert err.splitlines()[-1] == (
        "svcmining check: error: argument --jobs: give a number of processes (1, 2, ...) or "
        f"'auto' (one per idle core), got '{bad}'"
    )


def test_info(exports, capsys):
    """info prints the load report and the summary."""
    code, out, _ = run(["info", exports["folder"], "--timezone", "Asia/Shanghai"], capsys)
    assert code == 0
    assert "Read 48 rows from 3 file(s)" in out
    assert "6 tickets" in out


def test_demo_on_a_folder(exports, tmp_path, capsys):
    """demo: load report, the check (all months, then each) and where the report went."""
    (exports["folder"] / "sop_complaint.yaml").write_text(SOP_YAML, encoding="utf-8")
    target = tmp_path / "out" / "report.html"
    code, out, err = run(["demo", "--sample-dir", exports["folder"], "--out", target], capsys)
    assert code == 0, err
    assert target.is_file()
    lines = out.splitlines()
    checks = [line for line in lines if line.startswith(("PASS", "FAIL"))]
    assert len(checks) == 1 + 3
    assert "(all months)" in checks[0]
    assert [line.split()[0] for line in checks[1:]] == ["PASS", "FAIL", "PASS"]  # deviation rate
    assert lines[-1] == f"Report written to {target}"
    assert "svcmining: warning" not in err


def test_demo_without_exports(tmp_path, capsys):
    """demo on a folder without exports: exit 2 saying how to generate them."""
    code, _, err = run(["demo", "--sample-dir", tmp_path], capsys)
    assert code == 2
    assert "python -m svcmining.datasets" in err


# --------------------------------------------------------------------------- the bundled samples


def _sample_exports(sample_dir: Path) -> list[Path]:
    found = (
        sorted(p for p in sample_dir.iterdir() if p.suffix == ".csv") if sample_dir.is_dir() else []
    )
    if not found:
        pytest.skip(
            f"no sample exports in {sample_dir} yet (python -m svcmining.datasets sample_logs/)"
        )
    return found


@pytest.mark.slow
def test_demo(sample_dir, tmp_path, capsys):
    """demo writes the report of the sample exports, shows the SOP check and says where."""
    _sample_exports(sample_dir)
    target = tmp_path / "demo" / "report.html"
    code, out, err = run(["demo", "--out", target], capsys)
    assert code == 0, err
    assert target.is_file()
    assert "Report written to" in out and "report.html" in out
    assert "Check against the SOP" in out
    assert "svcmining: warning" not in err


@pytest.mark.slow
def test_each_over_monthly_samples(sample_dir, capsys):
    """check --each over the three monthly sample exports: one line each, verdicts as computed."""
    files = _sample_exports(sample_dir)
    from svcmining.conformance import check_sop
    from svcmining.io import read_tickets
    from svcmining.sop import load_sop

    sop = load_sop(sample_dir / "sop_complaint.yaml")
    rates = {}
    for f in files:
        res = check_sop(read_tickets(f, timezone="Asia/Shanghai"), sop, precision=False)
        rates[f.name] = res.metric("deviation_rate")
    limit = float(f"{sorted(rates.values())[len(rates) // 2]:.6f}")  # the median month passes
    code, out, _ = run(
        [
            "check",
            *files,
            "--each",
            "--sop",
            sample_dir / "sop_complaint.yaml",
            "--timezone",
            "Asia/Shanghai",
            "--max-deviation-rate",
            str(limit),
        ],
        capsys,
    )
    lines = out.splitlines()[1:]
    assert len(lines) == len(files)
    for f, line in zip(files, lines, strict=True):
        assert f.name in line
        expected = "PASS" if rates[f.name] <= limit else "FAIL"
        assert line.split()[0] == expected, (line, rates)
    assert code == (1 if any(line.startswith("FAIL") for line in lines) else 0)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=20))
def test_excel_safe_never_leaves_a_formula(text):
    """No text cell leaves excel_safe starting with a formula character; others are unchanged."""
    out = excel_safe(text)
    assert not out.startswith(("=", "+", "-", "@", "\t", "\r", "\n"))
    assert out in (text, "'" + text)


# --------------------------------------------------------------------------- time zones


@pytest.mark.slow
def test_check_reads_naive_times_in_the_sop_calendar_zone(sample_dir, capsys):
    """Without --timezone, check reads the samples in the SOP calendar's zone (Asia/Shanghai)."""
    _sample_exports(sample_dir)
    code, out, err = run(
        [
            "check",
            sample_dir,
            "--sop",
            sample_dir / "sop_complaint.yaml",
            "--max-deviation-rate",
            "0.5",
        ],
        capsys,
    )
    assert code == 0, err
    assert "deviation rate 0.427" in out and "SLA attainment 0.873" in out
    assert "read as UTC" not in err


def test_utc_note_is_one_line_naming_the_flag(exports, capsys):
    """Naive times read as UTC: one stderr line naming --timezone, once per command."""
    code, _, err = run(["check", exports["folder"], "--sop", exports["sop"], "--each"], capsys)
    notes = [line for line in err.splitlines() if "read as UTC" in line]
    assert code == 0 and len(notes) == 1, err  # no threshold given: exit 0
    assert notes[0].startswith("svcmining: note: ") and "--timezone ZONE" in notes[0]
    code, _, err = run(["info", exports["folder"]], capsys)
    assert code == 0 and sum("read as UTC" in line for line in err.splitlines()) == 1
    code, _, err = run(["info", exports["folder"], "--timezone", "Asia/Shanghai"], capsys)
    assert code == 0 and "read as UTC" not in err


def test_date_order_and_time_format_options(tmp_path, capsys):
    """--date-order mdy and --time-format reach the loader."""
    us = tmp_path / "us.csv"
    us.write_text("工单编号,处理环节,处理时间\nT1,登记,03/10/2024 09:00\n", encoding="utf-8")
    code, out, err = run(["info", us, "--date-order", "mdy", "--timezone", "UTC"], capsys)
    assert code == 0, err
    assert "2024-03-10 .. 2024-03-10" in out
    odd = tmp_path / "odd.csv"
    odd.write_text("工单编号,处理环节,处理时间\nT1,登记,2024|11|04 09h12\n", encoding="utf-8")
    code, out, err = run(
        ["info", odd, "--time-format", "%Y|%m|%d %Hh%M", "--timezone", "UTC"], capsys
    )
    assert code == 0, err
    assert "2024-11-04 .. 2024-11-04" in out
