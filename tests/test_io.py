"""read_tickets: formats, encodings, time formats, mapping, dedupe, row accounting, errors."""

from __future__ import annotations

import gzip
import random
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import svcmining as svc
from svcmining.exceptions import (
    DataQualityWarning,
    InvalidParameterError,
    ReadError,
    SchemaError,
    StrictModeError,
)

HEAD = "工单编号,处理环节,处理时间,处理人,处理部门\n"
ROWS = (
    "GD1,投诉登记,2024-10-03 09:05:00,张伟,客服中心\n"
    "GD1,结单,2024-10-04 10:00:00,李娜,客服中心\n"
    "GD2,投诉登记,2024-10-05 11:30:00,张伟,客服中心\n"
)
SH = "Asia/Shanghai"


def ts(text: str, tz: str = SH) -> pd.Timestamp:
    return pd.Timestamp(text).tz_localize(tz)


def write(tmp: Path, files: dict[str, bytes | str]) -> None:
    for name, content in files.items():
        p = tmp / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)


def xes(events: list[dict[str, str]]) -> bytes:
    """A tiny XES document: one trace per case id, attributes as given (None = absent)."""
    traces: dict[str, list[dict[str, str]]] = {}
    for e in events:
        traces.setdefault(e["case"], []).append(e)
    parts = ['<?xml version="1.0" encoding="UTF-8"?>\n<log xes.version="1.0">']
    for case, evs in traces.items():
        parts.append(f'<trace><string key="concept:name" value="{case}"/>')
        for e in evs:
            parts.append("<event>")
            if e.get("name") is not None:
                parts.append(f'<string key="concept:name" value="{e["name"]}"/>')
            if e.get("time") is not None:
                parts.append(f'<date key="time:timestamp" value="{e["time"]}"/>')
            if e.get("res") is not None:
                parts.append(f'<string key="org:resource" value="{e["res"]}"/>')
            if e.get("life") is not None:
                parts.append(f'<string key="lifecycle:transition" value="{e["life"]}"/>')
            parts.append("</event>")
        parts.append("</trace>")
    parts.append("</log>")
    return "".join(parts).encode("utf-8")


def one_col_times(values: list[str]) -> str:
    return "工单编号,处理环节,处理时间\n" + "".join(
        f"T{i},登记,{v}\n" for i, v in enumerate(values)
    )


def xlsx_bytes(sheets: dict[str, pd.DataFrame]) -> bytes:
    import io

    buf = io.BytesIO()
    with pd.ExcelWriter(buf, engine="openpyxl") as xw:
        for name, df in sheets.items():
            df.to_excel(xw, sheet_name=name, index=False)
    return buf.getvalue()


XLSX_FRAME = pd.DataFrame(
    {
        "工单编号": ["1001", "1001"],
        "处理环节": ["投诉登记", "结单"],
        "处理时间": [pd.Timestamp("2024-10-03 09:05"), pd.Timestamp("2024-10-04 10:00")],
    }
)

Check = Callable[[svc.TicketLog], None]

# (id, files, kwargs, expected) — expected is either an exception (type, message fragment)
# or a dict of exact report counts plus optional "events" check.
CASES: list[tuple[str, dict[str, Any], dict[str, Any], Any]] = [
    ("utf8", {"a.csv": HEAD + ROWS}, {}, {"read": 3, "kept": 3, "dropped": {}}),
    (
        "utf8_bom",
        {"a.csv": b"\xef\xbb\xbf" + (HEAD + ROWS).encode()},
        {},
        {"read": 3, "kept": 3, "encoding": "utf-8-sig"},
    ),
    (
        "gbk",
        {"a.csv": (HEAD + ROWS).encode("gbk")},
        {},
        {"read": 3, "kept": 3, "encoding": "gb18030"},
    ),
    (
        "gbk_given",
        {"a.csv": (HEAD + ROWS).encode("gbk")},
        {"encoding": "gbk"},
        {"kept": 3, "encoding": "gbk"},
    ),
    (
        "wrong_encoding_given",
        {"a.csv": (HEAD + ROWS).encode("gbk")},
        {"encoding": "utf-8"},
        (ReadError, "cannot decode the file as utf-8"),
    ),
    ("utf16", {"a.csv": (HEAD + ROWS).encode("utf-16")}, {}, {"kept": 3, "encoding": "utf-16"}),
    (
        "iso_minutes",
        {"a.csv": one_col_times(["2024-10-03 14:05", "2024-10-03T14:06:07"])},
        {},
        {"kept": 2, "times": [ts("2024-10-03 14:05"), ts("2024-10-03 14:06:07")]},
    ),
    (
        "slash_format",
        {"a.csv": one_col_times(["2024/10/03 14:05", "2024/1/3 4:05"])},
        {},
        {"kept": 2, "times": [ts("2024-01-03 04:05"), ts("2024-10-03 14:05")]},
    ),
    (
        "chinese_format",
        {"a.csv": one_col_times(["2024年10月3日 14:05", "2024年12月13日 9:30"])},
        {},
        {"kept": 2, "times": [ts("2024-10-03 14:05"), ts("2024-12-13 09:30")]},
    ),
    (
        "dayfirst_given",
        {"a.csv": one_col_times(["03/10/2024 14:05", "04/10/2024 09:00"])},
        {"dayfirst": True},
        {"kept": 2, "times": [ts("2024-10-03 14:05"), ts("2024-10-04 09:00")]},
    ),
    (
        "monthfirst_given",
        {"a.csv": one_col_times(["03/10/2024 14:05"])},
        {"dayfirst": False},
        {"kept": 1, "times": [ts("2024-03-10 14:05")]},
    ),
    (
        "dayfirst_ambiguous",
        {"a.csv": one_col_times(["03/10/2024 14:05", "04/10/2024 09:00"])},
        {},
        (SchemaError, "pass dayfirst=True"),
    ),
    (
        "dayfirst_proven",
        {"a.csv": one_col_times(["03/10/2024 14:05", "25/10/2024 09:00"])},
        {},
        {"kept": 2, "times": [ts("2024-10-03 14:05"), ts("2024-10-25 09:00")]},
    ),
    (
        "excel_serial",
        {"a.csv": one_col_times(["45568.5", "45569.25"])},
        {},
        {"kept": 2, "times": [ts("2024-10-03 12:00"), ts("2024-10-04 06:00")]},
    ),
    (
        "epoch_seconds",
        {"a.csv": one_col_times(["1727942400"])},
        {},
        {"kept": 1, "times": [pd.Timestamp("2024-10-03 08:00", tz="UTC").tz_convert(SH)]},
    ),
    (
        "epoch_ms",
        {"a.csv": one_col_times(["1727942400000"])},
        {},
        {"kept": 1, "times": [pd.Timestamp("2024-10-03 08:00", tz="UTC").tz_convert(SH)]},
    ),
    (
        "mixed_offsets",
        {"a.csv": one_col_times(["2024-10-03T14:00:00+08:00", "2024-10-03T09:00:00+02:00"])},
        {},
        {"kept": 2, "times": [ts("2024-10-03 14:00"), ts("2024-10-03 15:00")]},
    ),
    (
        "chinese_am_pm",
        {"a.csv": one_col_times(["2024/10/3 下午 2:05:00", "2024/10/3 上午 9:05:00"])},
        {},
        {"kept": 2, "times": [ts("2024-10-03 14:05"), ts("2024-10-03 09:05")]},
    ),
    (
        "missing_time_column",
        {"a.csv": "工单编号,处理环节,处理人\nGD1,登记,张伟\n"},
        {},
        (SchemaError, "no column found for 'timestamp'"),
    ),
    (
        "ambiguous_activity",
        {"a.csv": "工单编号,处理环节,状态,处理时间\nGD1,登记,处理中,2024-10-03 09:00\n"},
        {},
        (SchemaError, "could each be 'activity'"),
    ),
    (
        "ambiguous_resolved_by_mapping",
        {"a.csv": "工单编号,处理环节,状态,处理时间\nGD1,登记,处理中,2024-10-03 09:00\n"},
        {"mapping": {"activity": "处理环节"}},
        {"kept": 1, "check": lambda log: log.events["状态"].tolist() == ["处理中"]},
    ),
    (
        "english_renamed_with_mapping",
        {
            "a.csv": "No,Step,When,Team\nINC1,Open,2024-10-03 09:00,L1\nINC1,Fix,2024-10-03 10:00,L2\n"
        },
        {
            "mapping": {
                "case_id": "No",
                "activity": "Step",
                "timestamp": "When",
                "department": "Team",
            }
        },
        {"kept": 2, "check": lambda log: log.events["department"].tolist() == ["L1", "L2"]},
    ),
    (
        "english_synonyms",
        {
            "a.csv": "Ticket ID,Status,Updated,Assignment Group,Contact Type\nINC1,New,2024-10-03 09:00,L1,phone\n"
        },
        {},
        {
            "kept": 1,
            "check": lambda log: (
                list(log.mapping) == ["case_id", "activity", "timestamp", "department", "channel"]
            ),
        },
    ),
    (
        "mapping_unknown_column",
        {"a.csv": HEAD + ROWS},
        {"mapping": {"activity": "Step"}},
        (SchemaError, "the file has no such column"),
    ),
    (
        "mapping_unknown_canonical",
        {"a.csv": HEAD + ROWS},
        {"mapping": {"ticket": "工单编号"}},
        (InvalidParameterError, "unknown canonical column"),
    ),
    ("empty_file", {"a.csv": b""}, {}, (ReadError, "the file is empty")),
    ("header_only", {"a.csv": HEAD}, {}, (ReadError, "a header but no data rows")),
    (
        "header_only_month_beside_data",
        {"m10.csv": HEAD, "m11.csv": HEAD + ROWS},
        {},
        {"read": 3, "kept": 3, "dropped": {}},
    ),
    (
        "nothing_usable",
        {"a.csv": HEAD + "GD1,登记,待定,张伟,客服中心\nGD2,登记,?,张伟,客服中心\n"},
        {},
        (ReadError, "none of the 2 rows is a usable event — unparseable_timestamp: 2"),
    ),
    (
        "nan_ids",
        {
            "a.csv": HEAD
            + ",登记,2024-10-03 09:00,张伟,客服中心\nNULL,登记,2024-10-03 09:00,张伟,客服中心\n"
            "无,登记,2024-10-03 09:00,张伟,客服中心\nGD9,登记,2024-10-03 09:00,张伟,客服中心\n"
        },
        {},
        {"read": 4, "kept": 1, "dropped": {"missing_case_id": 3}},
    ),
    (
        "na_values_extended",
        {
            "a.csv": HEAD
            + "?,登记,2024-10-03 09:00,张伟,客服中心\nGD9,登记,2024-10-03 09:00,?,客服中心\n"
        },
        {"na_values": [*svc.DEFAULT_NA_VALUES, "?"]},
        {
            "read": 2,
            "kept": 1,
            "dropped": {"missing_case_id": 1},
            "check": lambda log: log.events["resource"].isna().all(),
        },
    ),
    (
        "unparseable_and_missing_time",
        {
            "a.csv": HEAD
            + "GD1,登记,待定,张伟,客服中心\nGD2,登记,,张伟,客服中心\nGD3,登记,2024-10-03 09:00,张伟,客服中心\n"
        },
        {},
        {"read": 3, "kept": 1, "dropped": {"unparseable_timestamp": 1, "missing_timestamp": 1}},
    ),
    (
        "overlapping_months",
        {
            "m10.csv": HEAD + "GD1,投诉登记,2024-10-30 09:00,张伟,客服中心\n",
            "m11.csv": HEAD
            + "GD1,投诉登记,2024/10/30 09:00,张伟,客服中心\nGD1,结单,2024/11/02 09:00,李娜,客服中心\n",
        },
        {},
        {"read": 3, "kept": 2, "dropped": {"repeated_in_later_export": 1}},
    ),
    (
        "conflicting_months",
        {
            "m10.csv": HEAD + "GD1,投诉登记,2024-10-30 09:00,张伟,客服中心\n",
            "m11.csv": HEAD
            + "GD1,投诉登记,2024-10-30 09:00,王芳,客服中心\nGD1,结单,2024-11-02 09:00,李娜,客服中心\n",
        },
        {},
        {
            "read": 3,
            "kept": 2,
            "dropped": {"conflicting_duplicate": 1},
            "check": lambda log: (
                log.events["resource"].tolist() == ["王芳", "李娜"]
                and log.report.conflicts[["column", "kept_value", "dropped_value"]].values.tolist()
                == [["resource", "王芳", "张伟"]]
            ),
        },
    ),
    (
        "duplicate_within_file_dropped",
        {"a.csv": HEAD + ROWS + "GD1,结单,2024-10-04 10:00:00,李娜,客服中心\n"},
        {},
        {"read": 4, "kept": 3, "dropped": {"duplicate_event": 1}},
    ),
    (
        "duplicate_within_file_kept_dedupe_exports",
        {"a.csv": HEAD + ROWS + "GD1,结单,2024-10-04 10:00:00,李娜,客服中心\n"},
        {"dedupe": "exports"},
        {"read": 4, "kept": 4, "dropped": {}},
    ),
    (
        "duplicate_within_file_dedupe_all",
        {"a.csv": HEAD + ROWS + "GD1,结单,2024-10-04 10:00:00,李娜,客服中心\n"},
        {"dedupe": "all"},
        {"read": 4, "kept": 3, "dropped": {"duplicate_event": 1}},
    ),
    (
        "wrong_sheet",
        {"a.xlsx": xlsx_bytes({"10月": XLSX_FRAME})},
        {"sheet": "11月"},
        (ReadError, "no sheet named '11月'"),
    ),
    (
        "xlsx_datetime_cells",
        {"a.xlsx": xlsx_bytes({"10月": XLSX_FRAME, "11月": XLSX_FRAME.iloc[:1]})},
        {"sheet": "*"},
        {
            "read": 3,
            "kept": 2,
            "dropped": {"repeated_in_later_export": 1},
            "times": [ts("2024-10-03 09:05"), ts("2024-10-04 10:00")],
        },
    ),
    (
        "xes_missing_attributes",
        {
            "a.xes": xes(
                [
                    {"case": "c1", "name": "A", "time": "2024-10-03T09:00:00+08:00", "res": "r1"},
                    {"case": "c1", "name": None, "time": "2024-10-03T10:00:00+08:00"},
                    {"case": "c1", "name": "B", "time": None},
                    {"case": "c2", "name": "A", "time": "2024-10-04T09:00:00+08:00"},
                ]
            )
        },
        {},
        {"read": 4, "kept": 2, "dropped": {"missing_activity": 1, "missing_timestamp": 1}},
    ),
    (
        "xes_gz_lifecycle_pair",
        {
            "a.xes.gz": gzip.compress(
                xes(
                    [
                        {
                            "case": "c1",
                            "name": "A",
                            "time": "2024-10-03T09:00:00+00:00",
                            "life": "start",
                        },
                        {
                            "case": "c1",
                            "name": "A",
                            "time": "2024-10-03T09:30:00+00:00",
                            "life": "complete",
                        },
                        {
                            "case": "c1",
                            "name": "B",
                            "time": "2024-10-03T09:40:00+00:00",
                            "life": "schedule",
                        },
                        {
                            "case": "c1",
                            "name": "B",
                            "time": "2024-10-03T10:00:00+00:00",
                            "life": "complete",
                        },
                    ]
                ),
                mtime=0,
            )
        },
        {"lifecycle": "pair", "timezone": "UTC"},
        {
            "read": 4,
            "kept": 2,
            "dropped": {"lifecycle_other": 1, "lifecycle_start_merged": 1},
            "check": lambda log: (
                log.events["start_timestamp"].iloc[0] == pd.Timestamp("2024-10-03 09:00", tz="UTC")
                and pd.isna(log.events["start_timestamp"].iloc[1])
            ),
        },
    ),
    (
        "malformed_row",
        {"a.csv": HEAD + ROWS + "GD3,登记,2024-10-06 09:00,张伟,客服中心,多余,字段\n"},
        {},
        {
            "read": 4,
            "kept": 3,
            "dropped": {"malformed_row": 1},
            "check": lambda log: log.report.dropped.iloc[0]["examples"][0][1] == 5,
        },
    ),
    (
        "semicolon",
        {"a.csv": (HEAD + ROWS).replace(",", ";")},
        {},
        {"kept": 3, "check": lambda log: log.report.files.iloc[0]["delimiter"] == ";"},
    ),
    ("tsv", {"a.tsv": (HEAD + ROWS).replace(",", "\t")}, {}, {"kept": 3}),
    (
        "duplicated_header",
        {
            "a.csv": "工单编号,处理环节,处理时间,处理时间\nGD1,登记,2024-10-03 09:00,2024-10-03 09:00\n"
        },
        {},
        (SchemaError, "more than once"),
    ),
    (
        "strict_raises",
        {"a.csv": HEAD + ROWS + ",登记,2024-10-03 09:00,张伟,客服中心\n"},
        {"strict": True},
        (StrictModeError, "missing_case_id: 1"),
    ),
    (
        "strict_accepts_overlap",
        {
            "m10.csv": HEAD + "GD1,投诉登记,2024-10-30 09:00,张伟,客服中心\n",
            "m11.csv": HEAD + "GD1,投诉登记,2024-10-30 09:00,张伟,客服中心\n",
        },
        {"strict": True},
        {"read": 2, "kept": 1, "dropped": {"repeated_in_later_export": 1}},
    ),
    (
        "ids_stay_strings",
        {
            "a.csv": HEAD
            + "0012,登记,2024-10-03 09:00,张伟,客服中心\n1001,登记,2024-10-03 09:00,张伟,客服中心\n"
            "20241003,登记,2024-10-03 09:00,张伟,客服中心\n"
        },
        {},
        {
            "kept": 3,
            "check": lambda log: log.events["case_id"].tolist() == ["0012", "1001", "20241003"],
        },
    ),
    (
        "quoted_newline",
        {
            "a.csv": HEAD
            + 'GD1,登记,2024-10-03 09:00,"张\n伟",客服中心\n,登记,2024-10-03 09:00,张伟,客服中心\n'
        },
        {},
        {
            "read": 2,
            "kept": 1,
            "check": lambda log: log.report.dropped.iloc[0]["examples"][0][1] == 4,
        },
    ),
    ("no_such_file", {}, {"source": "nope.csv"}, (ReadError, "no such file or folder")),
    ("glob_no_match", {}, {"source": "*.nothing"}, (ReadError, "matches no file")),
    (
        "bad_timezone",
        {"a.csv": HEAD + ROWS},
        {"timezone": "Mars/Olympus"},
        (InvalidParameterError, "IANA time zone"),
    ),
    (
        "bad_lifecycle",
        {"a.csv": HEAD + ROWS},
        {"lifecycle": "merge"},
        (InvalidParameterError, "'lifecycle'"),
    ),
    (
        "unsupported_type",
        {"a.json": "{}"},
        {"source": "a.json"},
        (ReadError, "unsupported file type '.json'"),
    ),
]


@pytest.mark.parametrize(("case", "files", "kwargs", "expected"), CASES, ids=[c[0] for c in CASES])
def test_bad_input_table(tmp_path, monkeypatch, case, files, kwargs, expected):
    """Each messy export loads to exact report counts, or fails with a typed, helpful error."""
    write(tmp_path, files)
    monkeypatch.chdir(tmp_path)
    kwargs = dict(kwargs)
    source = kwargs.pop("source", sorted(files)[0] if len(files) == 1 else ".")
    kwargs.setdefault("timezone", SH)
    if isinstance(expected, tuple):
        err, fragment = expected
        with pytest.raises(err) as info:
            svc.read_tickets(source, **kwargs)
        assert fragment in str(info.value)
        assert isinstance(info.value, svc.SvcMiningError)
        return
    log = svc.read_tickets(source, **kwargs)
    rep = log.report
    assert rep.rows_read == rep.rows_kept + rep.rows_dropped
    assert rep.rows_kept == len(log.events)
    if "read" in expected:
        assert rep.rows_read == expected["read"]
    if "kept" in expected:
        assert rep.rows_kept == expected["kept"]
    if "dropped" in expected:
        assert rep.dropped_by_reason() == expected["dropped"]
    if "encoding" in expected:
        assert rep.files.iloc[0]["encoding"] == expected["encoding"]
    if "times" in expected:
        assert sorted(log.events["timestamp"].tolist()) == sorted(expected["times"])
        assert str(log.events["timestamp"].dt.tz) == SH
    if "check" in expected:
        assert expected["check"](log)
    svc.as_events(log.events)  # the result satisfies the contract


def test_bad_input_table_is_big_enough():
    """The issue asks for at least 25 bad-input cases."""
    assert len(CASES) >= 25


def test_canonical_contract(tmp_path):
    """Columns, dtypes and order of a loaded log are the documented contract."""
    write(tmp_path, {"a.csv": HEAD + ROWS})
    log = svc.read_tickets(tmp_path / "a.csv", timezone=SH)
    ev = log.events
    assert list(ev.columns) == ["case_id", "activity", "timestamp", "resource", "department"]
    assert pd.api.types.is_string_dtype(ev["case_id"].dtype)
    assert isinstance(ev["timestamp"].dtype, pd.DatetimeTZDtype)
    assert ev["timestamp"].dtype.unit == "ns"
    assert ev["case_id"].tolist() == ["GD1", "GD1", "GD2"]
    assert log.mapping == {
        "case_id": "工单编号",
        "activity": "处理环节",
        "timestamp": "处理时间",
        "resource": "处理人",
        "department": "处理部门",
    }


def test_ties_keep_source_order(tmp_path):
    """Events with equal times keep the export's order (stable sort)."""
    body = "GD1,B,2024-10-03 09:00,x,d\nGD1,A,2024-10-03 09:00,x,d\nGD1,C,2024-10-03 08:00,x,d\n"
    write(tmp_path, {"a.csv": HEAD + body})
    log = svc.read_tickets(tmp_path / "a.csv", timezone=SH)
    assert log.events["activity"].tolist() == ["C", "B", "A"]


def test_sequence_column_breaks_ties(tmp_path):
    """A mapped sequence column orders events with equal times."""
    text = "工单编号,处理环节,处理时间,序号\nGD1,B,2024-10-03 09:00,2\nGD1,A,2024-10-03 09:00,1\n"
    write(tmp_path, {"a.csv": text})
    log = svc.read_tickets(tmp_path / "a.csv", timezone=SH)
    assert log.events["activity"].tolist() == ["A", "B"]


def test_naive_times_without_timezone_warn(tmp_path):
    """Naive times read without timezone= are UTC, said loudly (never a silent guess)."""
    write(tmp_path, {"a.csv": HEAD + ROWS})
    with pytest.warns(DataQualityWarning, match="timezone="):
        log = svc.read_tickets(tmp_path / "a.csv")
    assert str(log.events["timestamp"].dt.tz) == "UTC"
    assert any("timezone=" in n for n in log.report.notes)


def test_folder_reads_only_exports_directly_in_it(tmp_path):
    """A folder means its export files, not subfolders or other file types."""
    write(
        tmp_path,
        {
            "m10.csv": HEAD + ROWS,
            "notes.md": "# not an export",
            "sub/m11.csv": HEAD + "GD5,登记,2024-11-03 09:00,x,d\n",
        },
    )
    log = svc.read_tickets(tmp_path, timezone=SH)
    assert list(log.report.files["file"]) == ["m10.csv"]
    assert log.n_events == 3


def test_glob_and_list_sources(tmp_path):
    """A glob and a list of files read the same events as the folder."""
    write(tmp_path, {"m10.csv": HEAD + ROWS, "m11.csv": HEAD + "GD5,登记,2024-11-03 09:00,x,d\n"})
    a = svc.read_tickets(tmp_path, timezone=SH).events
    b = svc.read_tickets(str(tmp_path / "m1*.csv"), timezone=SH).events
    c = svc.read_tickets([tmp_path / "m11.csv", tmp_path / "m10.csv"], timezone=SH).events
    pd.testing.assert_frame_equal(a, b)
    pd.testing.assert_frame_equal(a, c)


def test_parquet_typed_columns(tmp_path):
    """Parquet ids stored as integers become strings; datetime columns are localised."""
    df = pd.DataFrame(
        {
            "case_id": [1001, 1001],
            "activity": ["登记", "结单"],
            "timestamp": pd.to_datetime(["2024-10-03 09:00", "2024-10-03 10:00"]),
        }
    )
    df.to_parquet(tmp_path / "a.parquet")
    log = svc.read_tickets(tmp_path / "a.parquet", timezone=SH)
    assert log.events["case_id"].tolist() == ["1001", "1001"]
    assert log.events["timestamp"].iloc[0] == ts("2024-10-03 09:00")


def test_mapping_yaml_file(tmp_path):
    """A mapping can be a YAML file of canonical: source pairs."""
    write(
        tmp_path,
        {
            "a.csv": "No,Step,When\nINC1,Open,2024-10-03 09:00\n",
            "map.yaml": "case_id: No\nactivity: Step\ntimestamp: When\n",
        },
    )
    log = svc.read_tickets(tmp_path / "a.csv", mapping=tmp_path / "map.yaml", timezone=SH)
    assert log.events["activity"].tolist() == ["Open"]


def test_composite_activity(tmp_path):
    """activity may join several columns (e.g. XES name + status) with '+'."""
    write(tmp_path, {"a.csv": "case,name,status,time\n1,Accepted,In Progress,2024-10-03 09:00\n"})
    log = svc.read_tickets(
        tmp_path / "a.csv",
        mapping={"case_id": "case", "activity": ["name", "status"], "timestamp": "time"},
        timezone=SH,
    )
    assert log.events["activity"].tolist() == ["Accepted+In Progress"]


def test_input_frame_not_mutated_and_validation():
    """as_events sorts a copy of an unsorted frame and never touches the input."""
    df = pd.DataFrame(
        {
            "case_id": [2, 1],
            "activity": ["a", "b"],
            "timestamp": pd.to_datetime(["2024-10-03 09:00", "2024-10-03 10:00"]).tz_localize(SH),
        }
    )
    before = df.copy()
    ev = svc.as_events(df)
    pd.testing.assert_frame_equal(df, before)
    assert ev["case_id"].tolist() == ["1", "2"]
    with pytest.raises(SchemaError, match="naive datetimes"):
        svc.as_events(df.assign(timestamp=df["timestamp"].dt.tz_localize(None)))
    with pytest.raises(SchemaError, match="no column 'activity'"):
        svc.as_events(df.drop(columns="activity"))


# ----------------------------------------------------------------------------- properties

_EVENTS = [
    (f"C{c}", f"A{a}", f"2024-10-{1 + d:02d} {h:02d}:{m:02d}")
    for c, a, d, h, m in [
        (1, 1, 0, 9, 0),
        (1, 2, 0, 10, 0),
        (1, 3, 1, 9, 30),
        (2, 1, 2, 9, 0),
        (2, 3, 2, 11, 0),
        (3, 1, 3, 8, 0),
        (3, 2, 4, 8, 0),
        (3, 2, 5, 8, 0),
        (4, 1, 6, 9, 0),
        (4, 4, 7, 9, 0),
    ]
]


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(seed=st.integers(0, 10_000), n_files=st.integers(1, 3))
def test_shuffle_and_split_give_same_events(tmp_path_factory, seed, n_files):
    """Shuffling rows or cutting one export by time into several files gives the same events.

    The cuts are in time, as monthly exports are: a row of an older export inside the
    time span of a newer one that the newer one does not hold is read as an event whose
    time the newer export corrected (see ``_match_exports``), so arbitrary splits of one
    export are not several exports.
    """
    rng = random.Random(seed)
    rows = sorted(_EVENTS, key=lambda r: r[2])
    reference_dir = tmp_path_factory.mktemp("ref")
    (reference_dir / "all.csv").write_text(
        "工单编号,处理环节,处理时间\n" + "".join(",".join(r) + "\n" for r in rows), encoding="utf-8"
    )
    reference = svc.read_tickets(reference_dir / "all.csv", timezone=SH).events
    split_dir = tmp_path_factory.mktemp("split")
    cuts = sorted(rng.sample(range(1, len(rows)), n_files - 1))
    for i, (lo, hi) in enumerate(zip([0, *cuts], [*cuts, len(rows)], strict=True)):
        chunk = rows[lo:hi]
        # overlapping exports: each later file repeats one row of the previous file
        if i and rng.random() < 0.5:
            chunk = [rows[lo - 1], *chunk]
        rng.shuffle(chunk)
        (split_dir / f"part{i}.csv").write_text(
            "工单编号,处理环节,处理时间\n" + "".join(",".join(r) + "\n" for r in chunk),
            encoding="gbk" if i == 1 else "utf-8",
        )
    got = svc.read_tickets(split_dir, timezone=SH)
    pd.testing.assert_frame_equal(got.events, reference)
    assert got.report.rows_read == got.report.rows_kept + got.report.rows_dropped


# ----------------------------------------------------------------------------- real logs


@pytest.mark.real_logs
def test_bpic2013_incidents_counts(incidents_log):
    """BPIC 2013 incidents: 7,554 cases and 65,533 events, org:group as department."""
    log = incidents_log
    assert log.n_cases == 7_554
    assert log.n_events == 65_533
    assert log.report.rows_read == 65_533
    assert log.events["department"].nunique() == 649
    assert log.events["lifecycle"].nunique() == 13


@pytest.mark.real_logs
def test_helpdesk_counts(real_logs, helpdesk_log):
    """Helpdesk: 4,580 cases and all 21,348 events; 127 of them are exact double writes."""
    kept_all = svc.read_tickets(real_logs / "helpdesk" / "helpdesk.xes.gz", dedupe=False)
    assert (kept_all.n_cases, kept_all.n_events) == (4_580, 21_348)
    q = svc.check_quality(kept_all).set_index("check")
    assert q.loc["duplicate_rows", "events"] == 127
    log = helpdesk_log  # default: exact copies kept once, every row accounted for
    assert (log.n_cases, log.n_events) == (4_580, 21_348 - 127)
    assert log.report.rows_read == 21_348
    assert log.report.dropped_by_reason() == {"duplicate_event": 127}


@pytest.mark.real_logs
def test_bpic2012_all_rows_and_lifecycle_pairs(real_logs):
    """BPIC 2012: all 262,200 events read; by default START rows merge into COMPLETE rows, all
    accounted, and no START -> COMPLETE of one work item is a self-loop."""
    path = real_logs / "bpic2012" / "BPI_Challenge_2012.xes.gz"
    kept = svc.read_tickets(path, lifecycle="keep")
    assert (kept.n_cases, kept.n_events) == (13_087, 262_200)
    paired = svc.read_tickets(path)  # lifecycle="auto": the column holds start/complete
    rep = paired.report
    assert rep.rows_read == 262_200
    dropped = rep.dropped_by_reason()
    assert dropped["lifecycle_other"] == 26_318  # SCHEDULE rows
    # every START either merged into a COMPLETE or kept alone (noted)
    starts_alone = int((paired.events["start_timestamp"] == paired.events["timestamp"]).sum())
    assert dropped["lifecycle_start_merged"] + starts_alone >= 71_376 - 0
    assert rep.rows_kept == 164_506 + (71_376 - dropped["lifecycle_start_merged"])
    assert rep.rows_read == rep.rows_kept + rep.rows_dropped
    ev = paired.events
    both = ev["start_timestamp"].notna()
    assert (ev.loc[both, "start_timestamp"] <= ev.loc[both, "timestamp"]).all()
    assert paired.n_cases == 13_087

    # one work item = a START row directly followed by the COMPLETE row of its activity
    k = kept.events
    item = (
        (k["case_id"] == k["case_id"].shift(-1))
        & (k["activity"] == k["activity"].shift(-1))
        & (k["lifecycle"].str.casefold() == "start")
        & (k["lifecycle"].shift(-1).str.casefold() == "complete")
    )
    items = set(
        zip(
            k.loc[item, "case_id"],
            k.loc[item, "activity"],
            k.loc[item, "timestamp"],
            k["timestamp"].shift(-1)[item],
            strict=True,
        )
    )

    def one_item_self_loops(log: svc.TicketLog) -> int:
        occ = svc.find_rework(log).occurrences
        at = occ.loc[occ["kind"] == "self_loop", "event_index"].to_numpy()
        e = log.events
        pairs = zip(
            e["case_id"].to_numpy()[at],
            e["activity"].to_numpy()[at],
            e["timestamp"].iloc[at - 1],
            e["timestamp"].iloc[at],
            strict=True,
        )
        return sum(p in items for p in pairs)

    assert one_item_self_loops(kept) > 40_000  # what the rows kept apart count as rework
    assert one_item_self_loops(paired) == 0


def test_no_pandas_format_dataframe_guessing(tmp_path):
    """Ticket ids that look like dates or numbers are never parsed (pm4py's pitfall)."""
    write(tmp_path, {"a.csv": HEAD + "2024-10-03,登记,2024-10-03 09:00,1001,1.5\n"})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        log = svc.read_tickets(tmp_path / "a.csv", timezone=SH)
    row = log.events.iloc[0]
    assert (row["case_id"], row["resource"], row["department"]) == ("2024-10-03", "1001", "1.5")


# ----------------------------------------------------------------------------- issue 21


def test_excel_workbook_is_closed(tmp_path):
    """Reading an .xlsx leaves no open file behind (no ResourceWarning)."""
    import gc

    frame = pd.DataFrame(
        {"工单编号": ["GD1"], "处理环节": ["登记"], "处理时间": ["2024-10-03 09:00"]}
    )
    frame.to_excel(tmp_path / "a.xlsx", index=False)
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always", ResourceWarning)
        log = svc.read_tickets(tmp_path / "a.xlsx", timezone=SH)
        gc.collect()
    assert log.n_events == 1
    assert not [w for w in seen if issubclass(w.category, ResourceWarning)], seen


def test_many_small_files_are_mapped_and_parsed_once(tmp_path, monkeypatch):
    """300 two-row exports with one header: times parsed in one batch, rows accounted per file."""
    from svcmining import _mapping

    calls = []
    real = _mapping.parse_times

    def counting(*args: Any, **kwargs: Any) -> Any:
        calls.append(kwargs.get("where"))
        return real(*args, **kwargs)

    monkeypatch.setattr(_mapping, "parse_times", counting)
    for i in range(300):
        bad = "坏时间" if i == 7 else "2024-10-03 10:00"
        (tmp_path / f"e{i:03d}.csv").write_text(
            f"{HEAD}T{i},登记,2024-10-03 09:00,张伟,客服中心\nT{i},结单,{bad},李娜,客服中心\n",
            encoding="utf-8",
        )
    log = svc.read_tickets(tmp_path, timezone=SH)
    assert len(calls) == 1 and "299 more file(s)" in calls[0]
    rep = log.report
    assert (rep.rows_read, rep.rows_kept) == (600, 599)
    assert rep.dropped["examples"].iloc[0] == [("e007.csv", 3, "坏时间")]
    assert rep.files["rows_read"].tolist() == [2] * 300
    assert set(rep.mapping) == {f"e{i:03d}.csv" for i in range(300)}
    assert log.events.groupby("case_id").size().eq(2).sum() == 299


def test_small_and_large_csv_paths_agree(tmp_path):
    """The csv-module path for small files reads as pyarrow's path for big ones (values, lines)."""
    body = (
        'GD1,登记,2024-10-03 09:00,"张 ""伟""",客服中心\n'
        "GD1,结单,2024-10-03 10:00,,客服中心,,\n"
        "GD2,登记\n"
        'GD2,结单,2024-10-03 11:00,"李\r\n娜",客服中心\n'
    )
    (tmp_path / "small.csv").write_text(HEAD + body, encoding="utf-8", newline="")
    pad = "".join(f"P{i},登记,2024-10-04 09:00,王,客服中心\n" for i in range(3000))
    (tmp_path / "big.csv").write_text(HEAD + body + pad, encoding="utf-8", newline="")
    small = svc.read_tickets(tmp_path / "small.csv", timezone=SH)
    big = svc.read_tickets(tmp_path / "big.csv", timezone=SH)
    assert (tmp_path / "small.csv").stat().st_size < 1 << 16 < (tmp_path / "big.csv").stat().st_size
    pd.testing.assert_frame_equal(small.events, big.events[big.events["case_id"].str[0] == "G"])
    lines = [(ln, v) for _, ln, v in small.report.dropped["examples"].iloc[0]]
    assert lines == [(ln, v) for _, ln, v in big.report.dropped["examples"].iloc[0]]
    assert lines == [(3, "GD1,结单,2024-10-03 10:00,,客服中心,,"), (4, "GD2,登记")]
    assert small.events["resource"].tolist() == ['张 "伟"', "李\r\n娜"]


@pytest.mark.parametrize("rows", [1, 3000])  # the small-file reader and pyarrow's
def test_header_with_several_empty_names_reads_as_unnamed_columns(tmp_path, rows):
    """Empty header cells become ``Unnamed: <position>`` (as pandas and the Excel reader
    name them), so two of them are two columns, not one name held twice (a fuzz find)."""
    body = "".join(f"T{i},投诉登记,2024-10-08 09:00,a{i},\n" for i in range(rows))
    path = tmp_path / "blank_names.csv"
    path.write_text("工单号,处理环节,时间,,\n" + body, encoding="utf-8")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", svc.DataQualityWarning)
        log = svc.read_tickets(path, timezone="Asia/Shanghai")
    ev = log.events
    assert "Unnamed: 3" in ev.columns and "Unnamed: 4" in ev.columns
    assert list(ev.sort_values("case_id")["Unnamed: 3"])[:1] == ["a0"]
    assert ev["Unnamed: 4"].isna().all()
    assert log.report.rows_kept == rows
