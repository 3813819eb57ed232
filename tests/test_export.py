"""TicketLog.write / to_pm4py (svcmining.export) and read_tickets reading its own files back."""

from __future__ import annotations

import ast
import gzip
import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import svcmining as svc
from svcmining.exceptions import InvalidParameterError

FORMATS = [".parquet", ".csv", ".xes", ".xes.gz"]
SH = "Asia/Shanghai"


def _times(*values: str, tz: str = SH) -> pd.Series:
    """Times in `tz`, in nanoseconds (the unit read_tickets gives)."""
    return (
        pd.Series(pd.to_datetime(list(values), format="ISO8601"))
        .dt.tz_localize(tz)
        .dt.as_unit("ns")
    )


@pytest.fixture
def tiny() -> svc.TicketLog:
    """Two tickets: Chinese labels, formula-like text, '' next to missing, typed extras."""
    events = pd.DataFrame(
        {
            "case_id": ["T1", "T1", "T2", "T2", "T2"],
            "activity": ["投诉登记", "结单", "工单登记", '=HYPERLINK("http://x")', "结单"],
            "timestamp": _times(
                "2024-11-01 09:00",
                "2024-11-01 10:30",
                "2024-11-02 08:00",
                "2024-11-02 08:00",
                "2024-11-02 17:45:30.25",
            ),
            "resource": ["客服12", "李娜", "+86 王", None, "@张"],
            "department": ["客服中心", "售后部", "客服中心", "售后部", "售后部"],
            "channel": ["微信", "微信", "电话", "电话", "电话"],
            "备注": ["屏幕\n显示异常", "", None, "'引号", "-5"],
            "count": np.array([1, 2, 3, 4, 5], dtype="int64"),
            "score": [0.1, 1 / 3, np.nan, -2.5, 1e300],
            "urgent": [True, True, False, False, False],
            "due": _times("2024-11-03", "2024-11-03", "NaT", "NaT", "NaT", tz="UTC"),
        }
    )
    return svc.as_ticket_log(events)


def _read(path: Path, **kwargs) -> svc.TicketLog:
    with warnings.catch_warnings():
        warnings.simplefilter("error", svc.DataQualityWarning)  # an own file warns nothing
        return svc.read_tickets(path, **kwargs)


@pytest.mark.parametrize("ext", FORMATS)
def test_round_trip_is_identical(tmp_path, tiny, ext):
    """write -> read_tickets gives the same events: columns, order, dtypes, values, time zone."""
    path = tiny.write(tmp_path / f"log{ext}")
    back = _read(path)
    pd.testing.assert_frame_equal(back.events, tiny.events)
    assert str(back.events["timestamp"].dt.tz) == SH
    assert back.events.loc[3, "activity"] == '=HYPERLINK("http://x")'
    assert back.events.loc[1, "备注"] == "" and pd.isna(back.events.loc[2, "备注"])
    assert back.report.rows_read == back.report.rows_kept == 5
    assert back.report.rows_dropped == 0
    assert back.mapping == {c: c for c in ("case_id", "activity", "timestamp")} | {
        "resource": "resource",
        "department": "department",
        "channel": "channel",
    }


def test_csv_is_excel_ready_and_formula_safe(tmp_path, tiny):
    """The CSV starts with a BOM; text starting with = + - @ or ' gets one ' in front."""
    path = tiny.write(tmp_path / "log.csv")
    data = path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    raw = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    assert raw["activity"].tolist() == [
        "投诉登记",
        "结单",
        "工单登记",
        '\'=HYPERLINK("http://x")',
        "结单",
    ]
    assert raw["resource"].tolist() == ["客服12", "李娜", "'+86 王", "", "'@张"]
    assert raw["备注"].tolist() == ["屏幕\n显示异常", "", "", "''引号", "'-5"]
    assert raw["count"].tolist() == ["1", "2", "3", "4", "5"]  # numbers stay numbers
    assert raw["timestamp"].tolist()[::4] == [  # milliseconds: the finest the times need
        "2024-11-01 09:00:00.000+0800",
        "2024-11-02 17:45:30.250+0800",
    ]
    assert raw["due"].tolist() == ["2024-11-03 00:00:00Z"] * 2 + [""] * 3
    # a missing value is an empty field, an empty text a quoted one
    lines = data.decode("utf-8-sig").splitlines()  # line 2 holds the quoted line break
    assert lines[3].startswith('"T1","结单"') and ',"",2,' in lines[3]
    assert '08:00:00.000+0800,,"售后部"' in lines[5]
    side = json.loads(Path(str(path) + ".svcmining.json").read_text(encoding="utf-8"))
    assert side["format"] == "csv" and side["rows"] == 5 and side["timezone"] == SH


def test_formula_guard_on_header(tmp_path):
    """A header starting with = is guarded too and read back without the guard."""
    events = pd.DataFrame(
        {
            "case_id": ["1"],
            "activity": ["a"],
            "timestamp": _times("2024-01-01 00:00"),
            "=SUM(A1)": ["x"],
        }
    )
    log = svc.as_ticket_log(events)
    path = log.write(tmp_path / "h.csv")
    assert path.read_text(encoding="utf-8-sig").splitlines()[0].endswith(',"\'=SUM(A1)"')
    pd.testing.assert_frame_equal(_read(path).events, log.events)


def test_to_pm4py_naming(tiny):
    """pm4py names for the core columns, case: for columns constant in every ticket."""
    df = tiny.to_pm4py()
    assert df.columns.tolist() == [
        "case:concept:name",
        "concept:name",
        "time:timestamp",
        "org:resource",
        "org:group",
        "case:channel",
        "备注",
        "count",
        "score",
        "case:urgent",
        "case:due",
    ]
    assert df["case:concept:name"].tolist() == ["T1", "T1", "T2", "T2", "T2"]
    assert df["time:timestamp"].dtype == tiny.events["timestamp"].dtype
    assert "org:resource" not in tiny.events.columns  # the log is not renamed


def test_to_pm4py_lifecycle_and_start():
    """lifecycle -> lifecycle:transition; start_timestamp keeps pm4py's default start key."""
    events = pd.DataFrame(
        {
            "case_id": ["1", "1"],
            "activity": ["a", "b"],
            "timestamp": _times("2024-01-01 01:00", "2024-01-01 02:00"),
            "start_timestamp": _times("2024-01-01 00:30", "2024-01-01 01:30"),
            "lifecycle": ["complete", "complete"],
            "sequence": [1, 2],
        }
    )
    df = svc.as_ticket_log(events).to_pm4py()
    assert df.columns.tolist() == [
        "case:concept:name",
        "concept:name",
        "time:timestamp",
        "start_timestamp",
        "lifecycle:transition",
        "sequence",
    ]


def test_pm4py_takes_to_pm4py_as_is(tiny):
    """pm4py's DFG of to_pm4py() (no format_dataframe) equals svcmining's edge counts."""
    import pm4py

    dfg, starts, ends = pm4py.discover_dfg(tiny.to_pm4py())
    assert dfg == {("投诉登记", "结单"): 1, ("工单登记", '=HYPERLINK("http://x")'): 1} | {
        ('=HYPERLINK("http://x")', "结单"): 1
    }
    assert starts == {"投诉登记": 1, "工单登记": 1} and ends == {"结单": 2}
    assert dfg == _svc_dfg(tiny)
    variants = pm4py.get_variants(tiny.to_pm4py())
    assert {k: (len(v) if isinstance(v, list) else v) for k, v in variants.items()} == {
        ("投诉登记", "结单"): 1,
        ("工单登记", '=HYPERLINK("http://x")', "结单"): 1,
    }
    kept = pm4py.filter_start_activities(tiny.to_pm4py(), ["投诉登记"])
    assert kept["case:concept:name"].unique().tolist() == ["T1"]


def _svc_dfg(log: svc.TicketLog) -> dict[tuple[str, str], int]:
    g = svc.discover_dfg(log)
    return {
        (str(s), str(t)): int(n)
        for s, t, n in zip(g.edges["source"], g.edges["target"], g.edges["count"], strict=True)
    }


@pytest.mark.parametrize("ext", [".parquet", ".csv", ".xes.gz"])
def test_metadata_carries_report_and_filters(tmp_path, ext):
    """The load report, mapping and the log's filters table go along in every format."""
    export = tmp_path / "工单导出.csv"
    export.write_text(
        "工单编号,处理环节,处理时间,处理人\n"
        "T1,投诉登记,2024-11-01 09:00,客服12\n"
        "T1,投诉登记,2024-11-01 09:00,客服12\n"
        ",结单,2024-11-01 10:00,李娜\n"
        "T1,结单,2024-11-01 11:00,李娜\n",
        encoding="utf-8",
    )
    log = svc.apply_filters(svc.read_tickets(export, timezone=SH), svc.Variants(top=3))
    path = log.write(tmp_path / "out" / f"clean{ext}")
    meta = svc.read_export_metadata(path)
    assert meta is not None
    assert meta["report"]["rows_read"] == 4
    assert meta["report"]["rows_kept"] == 2
    assert {k: v["rows"] for k, v in meta["report"]["dropped"].items()} == {
        "missing_case_id": 1,
        "duplicate_event": 1,
    }
    assert meta["report"]["dropped"]["missing_case_id"]["examples"] == [["工单导出.csv", "4", ""]]
    assert meta["mapping"] == {
        "case_id": "工单编号",
        "activity": "处理环节",
        "timestamp": "处理时间",
        "resource": "处理人",
    }
    assert meta["filters"] == [
        {
            "filter": "Variants(top=3)",
            "tickets_kept": 1,
            "tickets_removed": 0,
            "events_kept": 2,
            "events_removed": 0,
        }
    ]
    assert meta["timezone"] == SH and meta["rows"] == 2 and meta["state_log"] is False
    assert [c["name"] for c in meta["columns"]] == ["case_id", "activity", "timestamp", "resource"]
    back = _read(path)
    pd.testing.assert_frame_equal(back.filters, log.filters)  # log.filters comes back too
    assert back.report.notes[0].startswith(f"clean{ext}: written by svcmining (TicketLog.write)")
    assert "1 file(s): read 4 rows, kept 2, dropped 2; 1 filter(s) applied" in back.report.notes[0]


def test_log_without_report_writes_none(tmp_path, tiny):
    """A log built from a DataFrame has no load report (None) and no filter applied ([])."""
    meta = svc.read_export_metadata(tiny.write(tmp_path / "t.parquet"))
    assert meta is not None and meta["report"] is None and meta["filters"] == []
    back = _read(tmp_path / "t.parquet")
    assert "not loaded by read_tickets" in back.report.notes[0]
    pd.testing.assert_frame_equal(back.filters, tiny.filters)  # none applied: the empty table


def test_not_an_export_has_no_metadata(tmp_path):
    """Files svcmining did not write (or other extensions) have no export metadata."""
    sample = Path(__file__).parents[1] / "sample_logs" / "工单导出_2024-10.csv"
    assert svc.read_export_metadata(sample) is None
    assert svc.read_export_metadata(tmp_path / "missing.parquet") is None
    assert svc.read_export_metadata(tmp_path / "x.txt") is None


@pytest.mark.parametrize(
    ("name", "data", "match"),
    [
        ("a.xes", b"<log><trace><bad", "not a readable XES log"),
        ("b.xes.gz", gzip.compress(b'<log><string key="x"')[:-5], "not a readable XES log"),
        ("c.parquet", b"PAR1xx", "not a readable Parquet file"),
    ],
)
def test_broken_files_are_not_exports(tmp_path, name, data, match):
    """A damaged file has no export metadata; read_tickets still says what is wrong with it."""
    path = tmp_path / name
    path.write_bytes(data)
    assert svc.read_export_metadata(path) is None
    with pytest.raises(svc.ReadError, match=match):
        svc.read_tickets(path)


def test_edited_csv_is_read_as_an_ordinary_export(tmp_path, tiny):
    """A CSV changed after writing no longer matches its side file: read as any export."""
    path = tiny.write(tmp_path / "log.csv")
    path.write_bytes(path.read_bytes().replace("李娜".encode(), "李四".encode()))  # edited
    assert svc.read_export_metadata(path) is None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        back = svc.read_tickets(path, timezone=SH)
    # the guard stays, as Excel would show it, and the extras are text again
    assert back.events.loc[3, "activity"] == '\'=HYPERLINK("http://x")'
    assert back.events.loc[1, "resource"] == "李四"
    assert back.events["count"].dtype != np.int64


@pytest.mark.parametrize("ext", FORMATS)
def test_own_file_is_not_cleaned_again(tmp_path, ext):
    """Copies kept with dedupe=False, start/complete rows kept, an unmapped 'Team' column,
    a text id like '1001.0' and the state-log flag all survive a round trip."""
    events = pd.DataFrame(
        {
            "case_id": ["1001.0", "1001.0", "1001.0", "1001.0"],
            "activity": ["New", "New", "Resolved", "Resolved"],
            "timestamp": _times(
                "2024-01-01 08:00", "2024-01-01 08:00", "2024-01-01 09:00", "2024-01-01 10:00"
            ),
            "lifecycle": ["start", "start", "complete", "complete"],
            "Team": ["A", "A", "B", "B"],
            "note": [" padded ", " padded ", "NULL", "无"],
        }
    )
    log = svc.as_ticket_log(events)
    path = log.write(tmp_path / f"own{ext}")
    back = _read(path)
    pd.testing.assert_frame_equal(back.events, log.events)
    assert "department" not in back.mapping
    assert back.report.state_log is False


def test_state_log_flag_goes_along(tmp_path):
    """A log read as a state log is a state log again when read back (rework reads the flag)."""
    events = pd.DataFrame(
        {
            "case_id": ["1", "1", "1"],
            "activity": ["New", "Active", "Resolved"],
            "timestamp": _times("2024-01-01 08:00", "2024-01-01 09:00", "2024-01-01 10:00"),
            "sys_mod_count": ["1", "2", "3"],
        }
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        log = svc.read_tickets(events, timezone=SH)
    assert log.report.state_log is True
    back = _read(log.write(tmp_path / "s.parquet"))
    assert back.report.state_log is True
    pd.testing.assert_frame_equal(back.events, log.events)


def test_write_refuses_bad_paths(tmp_path, tiny):
    """Unknown extension, a folder, a symbolic link: InvalidParameterError saying what to do."""
    with pytest.raises(InvalidParameterError, match=r"'log\.txt'.*\.parquet, \.csv, \.xes"):
        tiny.write(tmp_path / "log.txt")
    (tmp_path / "dir.parquet").mkdir()
    with pytest.raises(InvalidParameterError, match="it is a folder"):
        tiny.write(tmp_path / "dir.parquet")
    target = tmp_path / "real.csv"
    target.write_text("keep")
    (tmp_path / "link.csv").symlink_to(target)
    with pytest.raises(InvalidParameterError, match="symbolic link"):
        tiny.write(tmp_path / "link.csv")
    assert target.read_text() == "keep"


def test_xes_refuses_control_characters(tmp_path):
    """XML 1.0 cannot hold \\x01: the error names the column and suggests Parquet or CSV."""
    events = pd.DataFrame(
        {"case_id": ["1"], "activity": ["a\x01b"], "timestamp": _times("2024-01-01 00:00")}
    )
    with pytest.raises(InvalidParameterError, match=r"Column 'activity'.*\.parquet or \.csv"):
        svc.as_ticket_log(events).write(tmp_path / "x.xes")
    assert not (tmp_path / "x.xes").exists()


def test_xes_is_standard_and_pm4py_reads_it(tmp_path, tiny):
    """pm4py reads the XES itself: trace attributes case:, typed event attributes."""
    import pm4py

    path = tiny.write(tmp_path / "log.xes.gz")
    text = gzip.decompress(path.read_bytes()).decode("utf-8")
    assert '<string key="concept:name" value="T1"/><string key="channel" value="微信"/>' in text
    assert '<string key="备注" value="屏幕&#10;显示异常"/>' in text
    assert '<date key="time:timestamp" value="2024-11-01T09:00:00.000000+08:00"/>' in text
    assert '<int key="count" value="2"/>' in text
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        df = pm4py.read_xes(str(path), return_legacy_log_object=False, show_progress_bar=False)
    assert df["case:channel"].tolist() == ["微信", "微信", "电话", "电话", "电话"]
    assert pm4py.discover_dfg(df)[0] == _svc_dfg(tiny)


def _package_imports(module: str) -> set[str]:
    tree = ast.parse((Path(svc.__file__).parent / f"{module}.py").read_text(encoding="utf-8"))
    return {
        node.module
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.level == 1 and node.module
    }


def test_export_module_is_below_eventlog():
    """export.py imports only _outfile, _synonyms (pm4py's names) and exceptions, and those
    import nothing that reaches eventlog (no cycle with eventlog, which calls export)."""
    assert _package_imports("export") == {"_outfile", "_synonyms", "exceptions"}
    assert _package_imports("_synonyms") == set()
    assert _package_imports("_outfile") <= {"exceptions", "_safetext"}
    assert _package_imports("_safetext") == set()
    assert _package_imports("exceptions") == set()


# ---------------------------------------------------------------------------- real exports


@pytest.fixture(scope="module")
def sample_log(sample_dir) -> svc.TicketLog:
    """The bundled exports read once for this module."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return svc.read_tickets(sample_dir, timezone=SH)


@pytest.mark.parametrize("ext", [".parquet", ".csv", ".xes.gz"])
def test_sample_logs_round_trip(tmp_path, sample_log, ext):
    """The bundled exports (55,786 events, Chinese labels, Asia/Shanghai) come back identical."""
    log = sample_log
    back = _read(log.write(tmp_path / f"sample{ext}"))
    assert len(back.events) == 55786
    pd.testing.assert_frame_equal(back.events, log.events)


def test_sample_logs_dfg_equals_pm4py(sample_log):
    """pm4py.discover_dfg(log.to_pm4py()) equals svc.discover_dfg(log) on the sample exports."""
    import pm4py

    log = sample_log
    df = log.to_pm4py()
    assert df.columns.tolist() == [
        "case:concept:name",
        "concept:name",
        "time:timestamp",
        "org:resource",
        "org:group",
        "case:channel",
        "case:priority",
        "case:customer_id",
        "备注",
        "case:工单类型",
    ]
    dfg, starts, ends = pm4py.discover_dfg(df)
    assert dfg == _svc_dfg(log)
    assert (len(dfg), sum(dfg.values()), dfg[("投诉登记", "需求确认")]) == (39, 49286, 6346)
    assert sum(starts.values()) == sum(ends.values()) == 6500
    g = svc.discover_dfg(log)
    assert starts == dict(
        zip(g.start_activities.activity, g.start_activities["count"], strict=True)
    )
    assert ends == dict(zip(g.end_activities.activity, g.end_activities["count"], strict=True))


@pytest.mark.real_logs
@pytest.mark.parametrize("ext", [".parquet", ".csv", ".xes.gz"])
def test_bpic2013_round_trip(tmp_path, incidents_log, ext):
    """BPIC 2013 incidents (65,533 events, UTC, 6 extra attributes) come back identical."""
    back = _read(incidents_log.write(tmp_path / f"incidents{ext}"))
    assert len(back.events) == 65533
    pd.testing.assert_frame_equal(back.events, incidents_log.events)


@pytest.mark.real_logs
def test_bpic2013_dfg_equals_pm4py(incidents_log):
    """pm4py's DFG of to_pm4py() equals svcmining's counts on BPIC 2013 incidents."""
    import pm4py

    dfg, starts, ends = pm4py.discover_dfg(incidents_log.to_pm4py())
    assert dfg == _svc_dfg(incidents_log)
    assert sum(dfg.values()) == 65533 - 7554
    assert sum(starts.values()) == sum(ends.values()) == 7554


def test_case_prefixed_column_keeps_its_name(tmp_path):
    """A column already named case:... (an unmapped XES trace attribute) is not prefixed twice."""
    events = pd.DataFrame(
        {
            "case_id": ["1", "1", "2"],
            "activity": ["a", "b", "a"],
            "timestamp": _times("2024-01-01 01:00", "2024-01-01 02:00", "2024-01-02 01:00"),
            "case:variant": ["v1", "v1", "v2"],
        }
    )
    log = svc.as_ticket_log(events)
    assert log.to_pm4py().columns.tolist()[-1] == "case:variant"
    pd.testing.assert_frame_equal(_read(log.write(tmp_path / "v.xes")).events, log.events)


_TEXT = st.text(alphabet="=+-@'\t\r\n \",;|中文aZ0\\<&>", max_size=6)


@pytest.mark.parametrize("ext", FORMATS)
@settings(max_examples=25, deadline=None)
@given(activities=st.lists(_TEXT, min_size=1, max_size=5), data=st.data())
def test_any_text_round_trips(ext, activities, data):
    """Whatever text the cells hold (formula starts, quotes, line breaks, '' and missing), the
    file reads back to the same events."""
    import tempfile

    n = len(activities)
    notes = data.draw(st.lists(st.none() | _TEXT, min_size=n, max_size=n))
    events = pd.DataFrame(
        {
            "case_id": [f"T{i % 2}" for i in range(n)],
            "activity": activities,
            "timestamp": _times(*[f"2024-01-01 0{i}:00" for i in range(n)]),
            "备注": pd.array(notes, dtype="str"),
        }
    )
    log = svc.as_ticket_log(events)
    with tempfile.TemporaryDirectory() as folder:
        back = _read(log.write(Path(folder) / f"t{ext}"))
    pd.testing.assert_frame_equal(back.events, log.events)


def test_slice_written_and_read_keeps_its_filter_history(tmp_path, sample_log):
    """A slice written and read back keeps its filters; a further filter is added after them."""
    sliced = svc.apply_filters(sample_log, svc.Variants(top=3))
    back = _read(sliced.write(tmp_path / "slice.csv"))
    pd.testing.assert_frame_equal(back.events, sliced.events)
    again = svc.apply_filters(back, svc.Variants(top=1))
    assert again.filters.to_numpy().tolist() == [
        ["Variants(top=3)", 2614, 3886, 19087, 36699],
        ["Variants(top=1)", 1222, 1392, 9776, 9311],
    ]
