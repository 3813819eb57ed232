"""``svcmining rework|handoffs|kpis|variants``: the tables the command line writes are the
Python API's tables (ids, counts, values), safe on a terminal and in Excel, with the usual
exit codes."""

from __future__ import annotations

import io
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

HEADER = "工单编号,处理环节,处理时间,处理人,处理部门,受理渠道\n"


def run(argv: list, capsys) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def read_csv(path: Path) -> pd.DataFrame:
    text = path.read_text(encoding="utf-8")
    assert text.startswith("\ufeff")  # Excel reads the file as UTF-8
    return pd.read_csv(io.StringIO(text[1:]), keep_default_na=False)


def read_json(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def oct_log():
    """The October sample export, read as the command line reads it."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return svc.read_tickets(OCT, timezone="Asia/Shanghai")


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    """Three tickets by hand: T1 and T2 登记 → 处理 → 结单, T3 登记 → 结单 (channels 电话,
    电话, 微信); T2's 处理 is done by 售后部, all else by 客服中心."""
    rows = [
        ("T1", "登记", "2024-10-08 09:00", "客服中心", "电话"),
        ("T1", "处理", "2024-10-08 10:00", "客服中心", "电话"),
        ("T1", "结单", "2024-10-08 12:00", "客服中心", "电话"),
        ("T2", "登记", "2024-10-09 09:00", "客服中心", "电话"),
        ("T2", "处理", "2024-10-09 13:00", "售后部", "电话"),
        ("T2", "结单", "2024-10-09 14:00", "客服中心", "电话"),
        ("T3", "登记", "2024-10-10 09:00", "客服中心", "微信"),
        ("T3", "结单", "2024-10-10 09:30", "客服中心", "微信"),
    ]
    path = tmp_path / "tiny.csv"
    text = HEADER + "".join(
        f"{c},{a},{t},r{i},{d},{ch}\n" for i, (c, a, t, d, ch) in enumerate(rows)
    )
    path.write_text(text, encoding="utf-8")
    return path


# --------------------------------------------------------------------------- hand-made log


def test_variants_of_a_hand_made_log(tiny, tmp_path, capsys):
    """variants on three tickets: 2 x 登记→处理→结单, 1 x 登记→结单, in that order."""
    out_file = tmp_path / "v.json"
    code, out, err = run(["variants", tiny, *TZ, "--out", out_file], capsys)
    assert code == 0, err
    assert out == f"Variants: 2 rows written to {out_file}\n"
    rows = read_json(out_file)["rows"]
    assert [(r["variant_id"], r["sequence"], r["cases"]) for r in rows] == [
        (1, ["登记", "处理", "结单"], 2),
        (2, ["登记", "结单"], 1),
    ]
    # T1 takes 3 h, T2 5 h: median 4 h; T3 0.5 h
    assert [r["median_case_duration_hours"] for r in rows] == [4.0, 0.5]


def test_handoffs_of_a_hand_made_log(tiny, tmp_path, capsys):
    """handoffs pairs: 客服中心→售后部 once (4 h), 售后部→客服中心 once (1 h), worst first."""
    out_file = tmp_path / "h.csv"
    code, _, err = run(["handoffs", tiny, *TZ, "--out", out_file], capsys)
    assert code == 0, err
    got = read_csv(out_file)
    assert got[["from_group", "to_group", "count", "delay_total_hours"]].values.tolist() == [
        ["客服中心", "售后部", 1, 4.0],
        ["售后部", "客服中心", 1, 1.0],
    ]
    assert got["pair"].tolist() == ["客服中心 → 售后部", "售后部 → 客服中心"]


def test_kpis_by_channel_of_a_hand_made_log(tiny, tmp_path, capsys):
    """kpis --by channel: 电话 has T1, T2 (2 opened, cycle p50 3 h), 微信 has T3 (1 opened)."""
    out_file = tmp_path / "k.json"
    argv = ["kpis", tiny, *TZ, "--by", "channel", "--period", "none", "--out", out_file]
    code, _, err = run(argv, capsys)
    assert code == 0, err
    rows = read_json(out_file)["rows"]
    opened = {r["channel"]: r["value"] for r in rows if r["kpi"] == "cases_opened"}
    assert opened == {"微信": 1, "电话": 2}
    p50 = {r["channel"]: r["value"] for r in rows if r["kpi"] == "cycle_hours_p50"}
    assert p50 == {"微信": 0.5, "电话": 3.0}
    assert rows[0]["channel"] == "微信"  # groups sorted, the column first
    assert read_json(out_file)["columns"][0] == "channel"


def test_kpis_by_department_counts_a_ticket_in_every_department(tiny, tmp_path, capsys):
    """kpis --by department: 客服中心 has all 3 tickets, 售后部 only T2 (it went through it)."""
    out_file = tmp_path / "k.csv"
    argv = ["kpis", tiny, *TZ, "--by", "department", "--period", "none", "--out", out_file]
    code, _, err = run(argv, capsys)
    assert code == 0, err
    got = read_csv(out_file)
    opened = got[got["kpi"] == "cases_opened"].set_index("department")["value"].to_dict()
    assert opened == {"售后部": 1, "客服中心": 3}


def test_text_table_is_aligned_by_display_width(tiny, capsys):
    """The terminal table: title, a header line, Chinese cells padded by display width."""
    code, out, err = run(["variants", tiny, *TZ], capsys)
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == "Variants"
    assert lines[1] == "2 variants of 3 tickets"
    assert lines[2].split() == [
        "variant_id",
        "sequence",
        "length",
        "cases",
        "share",
        "cumulative_share",
        "median_case_duration_hours",
    ]
    # "登记 → 处理 → 结单" is 18 columns wide (a Chinese character takes 2), the widest
    # cell of its column; "登记 → 结单" (11) is padded with 7 spaces
    assert lines[4].startswith("         1  登记 → 处理 → 结单       3      2  0.667")
    assert lines[5].startswith("         2  登记 → 结单              2      1  0.333")


def test_text_table_escapes_controls_and_csv_neutralises_formulas(tmp_path, capsys):
    """A department holding ESC and formula-like activities: the table shows \\x1b, a CSV
    cell starting like a formula starts with a quote mark."""
    path = tmp_path / "hostile.csv"
    path.write_text(
        HEADER
        + "T1,登记,2024-10-08 09:00,a,客服\x1b]0;x\x07中心,电话\n"
        + "T1,=HYPERLINK(1),2024-10-08 10:00,b,售后部,电话\n"
        + "T2,+SUM(1),2024-10-09 09:00,c,售后部,电话\n",
        encoding="utf-8",
    )
    code, out, _ = run(["handoffs", path, *TZ], capsys)
    assert code == 0
    assert "\x1b" not in out and "\x07" not in out
    assert "客服\\x1b]0;x\\x07中心" in out
    code, out, _ = run(["variants", path, *TZ, "--format", "csv"], capsys)
    assert code == 0
    assert out.splitlines()[1:] == [
        "1,'+SUM(1),1,1,0.5,0.5,0.0",
        "2,登记 → =HYPERLINK(1),2,1,0.5,1.0,1.0",
    ]
    out_file = tmp_path / "rework.csv"
    code, _, _ = run(["rework", path, *TZ, "--out", out_file], capsys)
    assert code == 0
    assert set(read_csv(out_file)["activity"]) == {"登记", "'=HYPERLINK(1)", "'+SUM(1)"}


# --------------------------------------------------------------------------- = the Python API


def test_rework_by_activity_csv_equals_python(oct_log, tmp_path, capsys):
    """rework --out x.csv writes find_rework(log).by_activity: activities, counts, hours."""
    out_file = tmp_path / "rework.csv"
    code, _, err = run(["rework", OCT, *TZ, "--out", out_file], capsys)
    assert code == 0, err
    want = svc.find_rework(oct_log).by_activity
    got = read_csv(out_file)
    assert list(got.columns) == list(want.columns)
    pd.testing.assert_frame_equal(got, want, check_dtype=False)


def test_rework_occurrences_json_equals_python(oct_log, tmp_path, capsys):
    """rework --table occurrences --format json: the same occurrences (case, activity, kind,
    times with their offset) in the same order."""
    out_file = tmp_path / "occ.json"
    argv = ["rework", OCT, *TZ, "--table", "occurrences", "--format", "json", "--out", out_file]
    code, out, err = run(argv, capsys)
    assert code == 0, err
    want = svc.find_rework(oct_log).occurrences
    doc = read_json(out_file)
    assert doc["tool"] == "svcmining rework" and doc["table"] == "occurrences"
    assert f"{len(want):,} rows written" in out
    rows = doc["rows"]
    assert [(r["case_id"], r["activity"], r["kind"]) for r in rows] == list(
        zip(want["case_id"], want["activity"], want["kind"], strict=True)
    )
    assert [r["again_at"] for r in rows] == [t.isoformat() for t in want["again_at"]]
    assert rows[0]["again_at"].endswith("+08:00")
    assert [r["rework_hours"] for r in rows] == want["rework_hours"].tolist()


def test_handoffs_csv_equals_python(oct_log, tmp_path, capsys):
    """handoffs --out x.csv writes handoff_delays(log).top(all): pairs, counts, hours."""
    out_file = tmp_path / "pairs.csv"
    code, _, err = run(["handoffs", OCT, *TZ, "--out", out_file], capsys)
    assert code == 0, err
    ho = svc.handoff_delays(oct_log)
    want = ho.top(len(ho.matrix))
    pd.testing.assert_frame_equal(read_csv(out_file), want, check_dtype=False)


def test_handoffs_table_top_json_equals_python(oct_log, capsys):
    """handoffs --table handoffs --top 5 --format json: the first 5 handoffs on stdout."""
    argv = ["handoffs", OCT, *TZ, "--table", "handoffs", "--top", "5", "--format", "json"]
    code, out, err = run(argv, capsys)
    assert code == 0, err
    want = svc.handoff_delays(oct_log).handoffs.head(5)
    rows = json.loads(out)["rows"]
    assert [(r["case_id"], r["from_group"], r["to_group"], r["delay_hours"]) for r in rows] == list(
        zip(want["case_id"], want["from_group"], want["to_group"], want["delay_hours"], strict=True)
    )


def test_kpis_with_sop_json_equals_python(oct_log, tmp_path, capsys):
    """kpis --sop --out x.json writes service_kpis(log, sop=...).table, row for row."""
    out_file = tmp_path / "kpis.json"
    code, _, err = run(["kpis", OCT, *TZ, "--sop", SOP, "--out", out_file], capsys)
    assert code == 0, err
    want = svc.service_kpis(oct_log, sop=svc.load_sop(SOP)).table
    doc = read_json(out_file)
    assert doc["columns"] == list(want.columns)
    got = pd.DataFrame(doc["rows"])
    assert got[["period", "kpi", "detail", "n"]].values.tolist() == (
        want[["period", "kpi", "detail", "n"]].values.tolist()
    )
    values = [None if pd.isna(v) else float(v) for v in want["value"]]
    assert got["value"].tolist() == values
    assert "sla_attainment" in set(got["kpi"])  # the SOP's SLAs were used


def test_kpis_by_channel_equals_python_per_channel(oct_log, tmp_path, capsys):
    """kpis --by channel writes, per channel, service_kpis of the tickets of that channel
    (cut off where the whole export ends); each block opens its channel's tickets."""
    out_file = tmp_path / "kpis.parquet"
    argv = ["kpis", OCT, *TZ, "--by", "channel", "--period", "none", "--out", out_file]
    code, _, err = run(argv, capsys)
    assert code == 0, err
    got = pd.read_parquet(out_file)
    cutoff = oct_log.events["timestamp"].max()
    channels = sorted(oct_log.events["channel"].dropna().unique())
    want = pd.concat(
        [
            svc.service_kpis(svc.filter_cases(oct_log, channel=c), by="none", cutoff=cutoff)
            .table.assign(channel=c)
            .pipe(lambda t: t[["channel", *t.columns[:-1]]])
            for c in channels
        ],
        ignore_index=True,
    )
    pd.testing.assert_frame_equal(got, want, check_dtype=False)
    per_ticket = oct_log.events.drop_duplicates("case_id")["channel"].value_counts()
    opened = got[got["kpi"] == "cases_opened"].set_index("channel")["value"]
    assert opened.to_dict() == {c: float(per_ticket[c]) for c in channels}


def test_variants_top_parquet_equals_python(oct_log, tmp_path, capsys):
    """variants --top 5 --out x.parquet writes variants(log).head(5)."""
    out_file = tmp_path / "v.parquet"
    code, _, err = run(["variants", OCT, *TZ, "--top", "5", "--out", out_file], capsys)
    assert code == 0, err
    got = pd.read_parquet(out_file)
    want = svc.variants(oct_log).head(5)
    assert [tuple(s) for s in got["sequence"]] == list(want["sequence"])
    pd.testing.assert_frame_equal(
        got.drop(columns="sequence"), want.drop(columns="sequence"), check_dtype=False
    )


# --------------------------------------------------------------------------- options, exit codes


@pytest.mark.parametrize("command", ["rework", "handoffs", "kpis", "variants"])
def test_every_analysis_takes_the_shared_loading_options(command):
    """Each analysis parses the loading options of the other commands (one builder)."""
    from svcmining.cli import _parser

    options = "--mapping m.yaml --timezone UTC --sheet S --state-log no --date-order mdy"
    options += " --lifecycle pair --encoding gbk"
    args = _parser().parse_args([command, "a.xlsx", *options.split()])
    assert (args.mapping, args.timezone, args.sheet, args.state_log) == ("m.yaml", "UTC", "S", "no")
    assert (args.date_order, args.lifecycle, args.encoding) == ("mdy", "pair", "gbk")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["variants", "nope.csv"], "nope.csv"),
        (["variants", OCT, "--format", "parquet"], "give --out FILE.parquet"),
        (["variants", OCT, "--out", "v.xlsx"], "use .csv, .json, .parquet or .txt"),
        (["variants", OCT, "--out", "v.csv", "--format", "json"], "is a .csv file but --format"),
        (["variants", OCT, "--top", "0"], "expected a positive whole number"),
        (["kpis", OCT, "--by", "nope"], "--by nope: the log has no column 'nope'"),
        (["kpis", OCT, "--by", "timestamp"], "--by timestamp: give a column that groups"),
        (["kpis", OCT, "--benchmark", "远程排障"], "write STEP=LIMIT"),
        (["rework", OCT, "--table", "team"], "invalid choice: 'team'"),
        (["rework", OCT, "--sop", "missing.yaml"], "missing.yaml: SOP file not found"),
        (["handoffs", OCT, "--calendar", "mars"], "--calendar 'mars'"),
    ],
)
def test_bad_input_exits_2_with_one_line(argv, message, capsys, tmp_path, monkeypatch):
    """Bad input to an analysis: exit 2, nothing on stdout, the message on stderr."""
    monkeypatch.chdir(tmp_path)
    code, out, err = run(argv, capsys)
    assert code == 2
    assert out == ""
    assert message in err
    assert "Traceback" not in err and "internal error" not in err


def test_an_export_without_events_is_bad_input(tmp_path, capsys):
    """A header-only export: exit 2, one line naming the file and saying it has no rows."""
    path = tmp_path / "empty.csv"
    path.write_text(HEADER, encoding="utf-8")
    code, out, err = run(["rework", path, *TZ], capsys)
    assert code == 2 and out == ""
    assert err.count("\n") == 1
    assert "empty.csv: the export has a header but no data rows" in err


def test_bad_out_fails_before_reading(tmp_path, capsys, monkeypatch):
    """--out naming a folder is refused before any export is read."""
    import svcmining._cli_analyses as analyses

    def no_analysis(*args, **kwargs):
        raise AssertionError("the exports were read before --out was checked")

    monkeypatch.setattr(analyses, "read_logs", no_analysis)
    code, _, err = run(["variants", OCT, "--out", tmp_path, "--format", "csv"], capsys)
    assert code == 2
    assert "it is a folder" in err


def test_a_closed_pipe_is_quiet():
    """`svcmining ... | head`: a reader that leaves early gives no error line and exit 141
    (128 + SIGPIPE, as the shell reports a cut pipe), not 'error: Broken pipe' and 2."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "PYTHONPATH": str(REPO)}
    cmd = [sys.executable, "-m", "svcmining", "variants", str(OCT), *TZ, "--format", "csv"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=REPO)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # the reader is gone before any of the 30 kB is written
    err = proc.stderr.read().decode("utf-8")
    assert proc.wait(timeout=300) == 141
    assert err == ""
