"""Bad-input corpus (issue 11): every case ends in a fully accounted load or a typed error.

Each case builds its input files in ``tmp_path`` (nothing binary or large is stored in the
repository; the few readable SOP/calendar files live in ``tests/corpus/``) and runs one of
four entry points: the loader (:func:`svcmining.read_tickets`), the SOP loader
(:func:`svcmining.load_sop`), calendars (:meth:`svcmining.Calendar.from_spec`) or the command
line (:func:`svcmining.cli.main`). The outcome is either

* ``Ok``: a load whose report accounts for every row (``rows_read == rows_kept +
  rows_dropped``, exact counts per reason, every dropped reason with a file and line example), or
* ``Err``: a :class:`svcmining.SvcMiningError` of the expected type whose message names the file
  (and the line/column where one is at fault) — from the CLI: exit code 2 and exactly one line
  on stderr, never a traceback or an "internal error".

Cases that show a bug are marked ``xfail(strict=True)`` with the failure seen; the report of
issue 11 lists them for the module owners.
"""

from __future__ import annotations

import gzip
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import svcmining as svc
from svcmining.cli import main as cli_main

CORPUS = Path(__file__).resolve().parent / "corpus"
SAMPLE = Path(__file__).resolve().parents[1] / "sample_logs"

HEAD = "工单编号,处理环节,处理时间,处理人,处理部门,受理渠道,优先级,客户编号,备注\n"
ROWS = (
    "GD1,投诉登记,2024-10-08 09:00:00,客服01,客服中心,电话,普通,KH1,\n"
    "GD1,结单,2024-10-08 15:00:00,王芳,客服中心,电话,普通,KH1,\n"
    "GD2,投诉登记,2024-10-09 10:00:00,客服02,客服中心,微信,高,KH2,\n"
)
COLUMNS = HEAD.strip().split(",")
FULL = {c: [] for c in COLUMNS}


@dataclass(frozen=True)
class Ok:
    """A load that must succeed with these exact counts."""

    read: int
    kept: int
    dropped: dict[str, int] = field(default_factory=dict)
    check: Callable[[svc.TicketLog], None] | None = None


@dataclass(frozen=True)
class Err:
    """A typed error whose one-line message contains every fragment."""

    error: type[Exception]
    fragments: tuple[str, ...]


@dataclass(frozen=True)
class Case:
    """One corpus entry: files to write, the entry point, its arguments and the outcome."""

    id: str
    files: dict[str, Any]
    run: str  # "load" | "sop" | "calendar" | "cli"
    args: Any
    expect: Ok | Err
    xfail: str | None = None


def frame_csv(df: pd.DataFrame, **kw: Any) -> str:
    return df.to_csv(index=False, **kw)


def xlsx(sheets: dict[str, pd.DataFrame], *, title: str | None = None) -> bytes:
    """An Excel workbook; ``title`` adds a merged title row A1:last above the header."""
    from openpyxl.utils import get_column_letter

    buf = io.BytesIO()
    with pd.ExcelWriter(buf, engine="openpyxl") as xw:
        for name, df in sheets.items():
            df.to_excel(xw, sheet_name=name, index=False, startrow=1 if title else 0)
            if title:
                ws = xw.sheets[name]
                ws["A1"] = title
                ws.merge_cells(f"A1:{get_column_letter(df.shape[1])}1")
    return buf.getvalue()


def rows_frame() -> pd.DataFrame:
    return pd.read_csv(io.StringIO(HEAD + ROWS), dtype=str, keep_default_na=False)


def long_case(n: int) -> str:
    base = pd.Timestamp("2024-10-08 09:00")
    return HEAD + "".join(
        f"GD9,远程排障,{(base + pd.Timedelta(minutes=i)):%Y-%m-%d %H:%M:%S},客服01,技术支持部,电话,普通,KH9,\n"
        for i in range(n)
    )


def drop_column(col: str) -> str:
    df = rows_frame().drop(columns=[col])
    return frame_csv(df)


def xes_gz() -> bytes:
    events = "".join(
        f'<event><string key="concept:name" value="A{i}"/>'
        f'<date key="time:timestamp" value="2024-10-08T0{i}:00:00+08:00"/></event>'
        for i in range(1, 4)
    )
    xml = (
        '<?xml version="1.0" encoding="UTF-8"?><log xes.version="1.0">'
        f'<trace><string key="concept:name" value="T1"/>{events}</trace></log>'
    )
    return gzip.compress(xml.encode())


def expect_cols(*present: str, absent: tuple[str, ...] = ()) -> Callable[[svc.TicketLog], None]:
    def check(log: svc.TicketLog) -> None:
        for c in present:
            assert c in log.events.columns, c
        for c in absent:
            assert c not in log.events.columns, c

    return check


def expect_values(col: str, values: list[Any]) -> Callable[[svc.TicketLog], None]:
    def check(log: svc.TicketLog) -> None:
        got = [None if pd.isna(v) else v for v in log.events[col]]
        assert got == values

    return check


def _has_label(log: svc.TicketLog, label: str) -> None:
    assert label in set(log.events["activity"]), list(log.events["activity"])


def has_note(fragment: str) -> Callable[[svc.TicketLog], None]:
    def check(log: svc.TicketLog) -> None:
        assert any(fragment in n for n in log.report.notes), log.report.notes

    return check


def has_quality(check_name: str, events: int) -> Callable[[svc.TicketLog], None]:
    def check(log: svc.TicketLog) -> None:
        q = svc.check_quality(log, now=pd.Timestamp("2025-01-01", tz="Asia/Shanghai"))
        row = q[q["check"] == check_name]
        assert len(row) == 1 and int(row["events"].iloc[0]) == events, q

    return check


SH = {"timezone": "Asia/Shanghai"}
OK3 = Ok(read=3, kept=3)

# ----------------------------------------------------------------------------- loader cases
LOADER: list[Case] = [
    Case(
        "truncated_mid_record",
        {"a.csv": HEAD + ROWS + "GD2,结单,2024-10-0"},
        "load",
        SH,
        Ok(read=4, kept=3, dropped={"malformed_row": 1}),
    ),
    Case(
        # a typed error naming the file; its advice ("save as UTF-8") misses the cause
        "truncated_inside_utf8_character",
        {"a.csv": (HEAD + ROWS + "GD2,结单,2024-10-09 12:00:00,王芳,客服中心").encode()[:-2]},
        "load",
        SH,
        Err(svc.ReadError, ("a.csv", "encoding")),
    ),
    Case(
        "truncated_xlsx",
        {"a.xlsx": xlsx({"工单": rows_frame()})[:700]},
        "load",
        SH,
        Err(svc.ReadError, ("a.xlsx",)),
    ),
    Case(
        "truncated_xes_gz",
        {"a.xes.gz": xes_gz()[:-30]},
        "load",
        SH,
        Err(svc.ReadError, ("a.xes.gz",)),
    ),
    Case(
        "pipe_delimited",
        {"a.txt": (HEAD + ROWS).replace(",", "|")},
        "load",
        SH,
        OK3,
    ),
    Case(
        "semicolon_with_commas_in_remarks",
        {"a.csv": HEAD.replace(",", ";") + ROWS.replace(",", ";").replace(";\n", ";甲,乙,丙\n")},
        "load",
        SH,
        Ok(read=3, kept=3, check=expect_values("备注", ["甲,乙,丙"] * 3)),
    ),
    Case(
        "embedded_newlines_and_quotes",
        {"a.csv": HEAD + ROWS.replace("KH1,\n", 'KH1,"他说""不行""\n第二行"\n', 1)},
        "load",
        SH,
        Ok(read=3, kept=3, check=expect_values("备注", ['他说"不行"\n第二行', None, None])),
    ),
    Case(
        "unclosed_quote_swallows_rest",
        {"a.csv": HEAD + ROWS.replace("KH1,\n", 'KH1,"没有结束\n', 1)},
        "load",
        SH,
        Err(svc.ReadError, ("a.csv", "line 2")),
    ),
    Case(
        "mixed_encodings_in_one_folder",
        {
            "d/a.csv": (HEAD + ROWS).encode("utf-8-sig"),
            "d/b.csv": (HEAD + ROWS.replace("GD", "HB")).encode("gbk"),
            "d/c.csv": (HEAD + ROWS.replace("GD", "UC")).encode("utf-16"),
        },
        "load",
        {"source": "d", **SH},
        Ok(read=9, kept=9),
    ),
    Case(
        "utf16le_tab_unicode_text",
        {"a.txt": (HEAD + ROWS).replace(",", "\t").encode("utf-16")},
        "load",
        SH,
        OK3,
    ),
    Case(
        "bom_before_quoted_header",
        {"a.csv": ("\ufeff" + '"工单编号","处理环节","处理时间"\n"1","登记","2024-10-08 09:00"\n')},
        "load",
        SH,
        Ok(read=1, kept=1),
    ),
    Case("crlf_line_ends", {"a.csv": (HEAD + ROWS).replace("\n", "\r\n")}, "load", SH, OK3),
    Case(
        "bare_cr_line_ends",
        {"a.csv": (HEAD + ROWS).replace("\n", "\r")},
        "load",
        SH,
        OK3,
    ),
    Case(
        "excel_merged_title_row",
        {"a.xlsx": xlsx({"工单": rows_frame()}, title="工单导出报表 2024-10")},
        "load",
        SH,
        Err(svc.SchemaError, ("a.xlsx", "工单导出报表")),
    ),
    Case(
        "excel_several_sheets_all",
        {"a.xlsx": xlsx({"10月": rows_frame(), "11月": rows_frame().assign(工单编号="X")})},
        "load",
        {"sheet": "*", **SH},
        Ok(read=6, kept=6),
    ),
    Case(
        "excel_several_sheets_default_first",
        {"a.xlsx": xlsx({"10月": rows_frame(), "11月": rows_frame().assign(工单编号="X")})},
        "load",
        SH,
        Ok(read=3, kept=3, check=has_note("11月")),
    ),
    Case(
        "excel_numbers_stored_as_numbers_and_text",
        {
            "a.xlsx": xlsx(
                {
                    "s": pd.DataFrame(
                        {
                            "工单编号": [1001, "001002", 1001],
                            "处理环节": ["登记", "登记", "结单"],
                            "处理时间": [
                                "2024-10-08 09:00",
                                "2024-10-08 09:30",
                                "2024-10-08 10:00",
                            ],
                        }
                    )
                }
            )
        },
        "load",
        SH,
        Ok(read=3, kept=3, check=expect_values("case_id", ["001002", "1001", "1001"])),
    ),
    Case(
        "csv_ids_that_look_like_numbers_and_dates",
        {
            "a.csv": "工单编号,处理环节,处理时间\n00123,登记,2024-10-08 09:00\n1E5,登记,2024-10-08 09:00\n2024-10-01,登记,2024-10-08 09:00\n"
        },
        "load",
        SH,
        Ok(read=3, kept=3, check=expect_values("case_id", ["00123", "1E5", "2024-10-01"])),
    ),
    Case(
        "timestamps_in_the_future",
        {"a.csv": HEAD + ROWS.replace("2024-10-09", "2099-10-09")},
        "load",
        SH,
        Ok(read=3, kept=3, check=has_quality("future_timestamps", 1)),
    ),
    Case(
        "timestamps_before_2000",
        {"a.csv": HEAD + ROWS.replace("2024-10-08 09", "1970-01-01 09")},
        "load",
        SH,
        Ok(read=3, kept=3, check=has_quality("old_timestamps", 1)),
    ),
    Case(
        "duplicated_time_synonyms",
        {
            "a.csv": "工单编号,处理环节,处理时间,操作时间\n1,登记,2024-10-08 09:00,2024-10-08 09:01\n"
        },
        "load",
        SH,
        Err(svc.SchemaError, ("a.csv", "处理时间", "操作时间")),
    ),
    Case(
        "duplicated_column_names",
        {"a.csv": "工单编号,处理环节,处理时间,处理人,处理人\n1,登记,2024-10-08 09:00,甲,乙\n"},
        "load",
        SH,
        Err(svc.SchemaError, ("a.csv", "处理人")),
    ),
    Case(
        "one_event_cases",
        {
            "a.csv": HEAD
            + "".join(
                f"C{i},投诉登记,2024-10-08 09:0{i}:00,甲,客服中心,电话,普通,K,\n" for i in range(5)
            )
        },
        "load",
        SH,
        Ok(read=5, kept=5, check=has_quality("single_event_cases", 5)),
    ),
    Case(
        "ten_thousand_event_case",
        {"a.csv": long_case(10_000)},
        "load",
        SH,
        Ok(read=10_000, kept=10_000),
    ),
    *[
        Case(
            f"missing_required_{col}",
            {"a.csv": drop_column(col)},
            "load",
            SH,
            Err(svc.SchemaError, ("a.csv", canon)),
        )
        for col, canon in (
            ("工单编号", "case_id"),
            ("处理环节", "activity"),
            ("处理时间", "timestamp"),
        )
    ],
    *[
        Case(
            f"missing_optional_{canon}",
            {"a.csv": drop_column(col)},
            "load",
            SH,
            Ok(read=3, kept=3, check=expect_cols("case_id", absent=(canon,))),
        )
        for col, canon in (
            ("处理人", "resource"),
            ("处理部门", "department"),
            ("受理渠道", "channel"),
            ("优先级", "priority"),
            ("客户编号", "customer_id"),
        )
    ],
    Case(
        "junk_title_lines_above_header",
        {"a.csv": "工单导出报表\n导出时间: 2024-11-01\n" + HEAD + ROWS},
        "load",
        SH,
        Err(svc.SchemaError, ("a.csv", "工单导出报表")),
    ),
    Case(
        "trailing_total_row",
        {"a.csv": HEAD + ROWS + "合计,3,,,,,,,\n"},
        "load",
        SH,
        Ok(read=4, kept=3, dropped={"missing_timestamp": 1}),
    ),
    Case(
        "binary_garbage_named_csv",
        {"a.csv": bytes(range(256)) * 4},
        "load",
        SH,
        Err(svc.ReadError, ("a.csv",)),
    ),
    Case(
        "whitespace_only_file",
        {"a.csv": "  \n\n \t\n"},
        "load",
        SH,
        Err(svc.ReadError, ("a.csv",)),
    ),
    Case(
        "csv_named_xlsx",
        {"a.xlsx": HEAD + ROWS},
        "load",
        SH,
        Err(svc.ReadError, ("a.xlsx",)),
    ),
    Case(
        "header_cells_with_padding_and_fullwidth_space",
        {
            "a.csv": HEAD.replace("工单编号", " 工单编号\u3000").replace("处理时间", "处理时间 ")
            + ROWS
        },
        "load",
        SH,
        OK3,
    ),
    Case(
        "megabyte_remark",
        {"a.csv": HEAD + ROWS.replace("KH1,\n", "KH1," + "长" * 1_000_000 + "\n", 1)},
        "load",
        SH,
        OK3,
    ),
    Case(
        "every_time_unparseable",
        {"a.csv": HEAD + ROWS.replace("2024-10-0", "soon")},
        "load",
        SH,
        Err(svc.ReadError, ("a.csv", "unparseable")),
    ),
    Case(
        "folder_without_exports",
        {"d/readme.md": "nothing here"},
        "load",
        {"source": "d", **SH},
        Err(svc.ReadError, ("d",)),
    ),
    Case(
        "formula_text_stays_text",
        {"a.csv": HEAD + ROWS.replace("KH1,\n", 'KH1,"=HYPERLINK(""http://x"",""y"")"\n', 1)},
        "load",
        SH,
        Ok(read=3, kept=3, check=expect_values("备注", ['=HYPERLINK("http://x","y")', None, None])),
    ),
    Case(
        "exact_double_write_in_one_file",
        {"a.csv": HEAD + ROWS + ROWS.splitlines(keepends=True)[1]},
        "load",
        SH,
        Ok(read=4, kept=3, dropped={"duplicate_event": 1}),
    ),
    Case(
        "trailing_empty_fields_on_every_row",
        {
            "a.csv": "工单编号,处理环节,处理时间\n1,登记,2024-10-08 09:00,,\n1,结单,2024-10-08 10:00,,\n"
        },
        "load",
        SH,
        Ok(read=2, kept=2),
    ),
    Case(
        "xlsx_first_sheet_empty",
        {"a.xlsx": xlsx({"说明": pd.DataFrame(), "数据": rows_frame()})},
        "load",
        SH,
        Err(svc.SchemaError, ("a.xlsx", "说明")),
    ),
    Case(
        "mapping_yaml_gbk_encoded",
        {"a.csv": HEAD + ROWS, "m.yaml": "case_id: 工单编号\n".encode("gbk") + b"\xff\n"},
        "load",
        {"mapping": "m.yaml", **SH},
        Err(svc.SvcMiningError, ("m.yaml",)),
    ),
    Case(
        "utf8_with_one_stray_byte",
        {
            "a.csv": "case_id,activity,timestamp\nGD1,投诉登记,2024-10-08 09:00\n".encode()
            + b"\xbfD2,"
            + "结单,2024-10-08 10:00\n".encode()
        },
        "load",
        SH,
        Err(svc.ReadError, ("a.csv", "line 3", "not valid UTF-8")),
    ),
    Case(
        "utf8_bom_with_invalid_header_byte",
        {
            "a.csv": b"\xef\xbb\xbf\xbf"
            + "单编号,处理环节,处理时间\nGD1,登记,2024-10-08 09:00\n".encode()
        },
        "load",
        SH,
        Err(svc.ReadError, ("a.csv",)),
    ),
    Case(
        "unknown_encoding_given",
        {"a.csv": HEAD + ROWS},
        "load",
        {"encoding": "klingon-8", **SH},
        Err(svc.ReadError, ("a.csv", "klingon-8")),
    ),
    Case(
        "nul_bytes_inside_rows",
        {"a.csv": (HEAD + ROWS).replace("客服01", "客服\x0001")},
        "load",
        SH,
        OK3,
    ),
]

# ----------------------------------------------------------------------------- SOP cases
SOP_OK = (SAMPLE / "sop_complaint.yaml").read_text(encoding="utf-8")

SOPS: list[Case] = [
    Case(
        "sop_empty_file", {"s.yaml": ""}, "sop", "s.yaml", Err(svc.SOPDefinitionError, ("s.yaml",))
    ),
    Case(
        "sop_only_comments",
        {"s.yaml": "# nothing yet\n"},
        "sop",
        "s.yaml",
        Err(svc.SOPDefinitionError, ("s.yaml",)),
    ),
    Case(
        "sop_top_level_list",
        {"s.yaml": "- register\n- close\n"},
        "sop",
        "s.yaml",
        Err(svc.SOPDefinitionError, ("s.yaml",)),
    ),
    Case(
        "sop_bad_yaml_indentation",
        {"s.yaml": "steps:\n  - id: a\n   labels: [x]\n"},
        "sop",
        "s.yaml",
        Err(svc.SOPDefinitionError, ("s.yaml", "line")),
    ),
    Case(
        "sop_python_object_tag",
        {"s.yaml": "steps: !!python/object/apply:os.system ['echo pwned']\n"},
        "sop",
        "s.yaml",
        Err(svc.SOPDefinitionError, ("s.yaml",)),
    ),
    Case(
        "sop_cyclic_flow_step_twice",
        {"s.yaml": "steps:\n  - {id: a, labels: [A]}\n  - {id: b, labels: [B]}\nflow: [a, b, a]\n"},
        "sop",
        "s.yaml",
        Err(svc.SOPDefinitionError, ("s.yaml", "a")),
    ),
    Case(
        "sop_flow_unknown_step",
        {"s.yaml": "steps:\n  - {id: a, labels: [A]}\nflow: [a, zz]\n"},
        "sop",
        "s.yaml",
        Err(svc.SOPDefinitionError, ("s.yaml", "zz")),
    ),
    Case(
        "sop_unreachable_step",
        {"s.yaml": "steps:\n  - {id: a, labels: [A]}\n  - {id: b, labels: [B]}\nflow: [a]\n"},
        "sop",
        "s.yaml",
        Err(svc.SOPDefinitionError, ("s.yaml", "b")),
    ),
    Case(
        "sop_sla_unknown_step",
        {"s.yaml": SOP_OK.replace("to: assign\n", "to: nowhere\n", 1)},
        "sop",
        "s.yaml",
        Err(svc.SOPDefinitionError, ("s.yaml", "nowhere")),
    ),
    Case(
        "sop_negative_sla",
        {"s.yaml": SOP_OK.replace("within: 2h", "within: -2h", 1)},
        "sop",
        "s.yaml",
        Err(svc.SOPDefinitionError, ("s.yaml", "-2h")),
    ),
    Case(
        "sop_calendar_without_hours",
        {"s.yaml": SOP_OK.replace('hours: ["09:00-18:00"]', "hours: []", 1)},
        "sop",
        "s.yaml",
        Err(svc.SOPDefinitionError, ("s.yaml", "hours")),
    ),
    Case(
        "sop_gbk_encoded",
        {"s.yaml": SOP_OK.encode("gbk", errors="replace") + b"\n# \xff\n"},
        "sop",
        "s.yaml",
        Err(svc.SOPDefinitionError, ("s.yaml",)),
    ),
    Case(
        "sop_duplicate_label",
        {"s.yaml": "steps:\n  - {id: a, labels: [A]}\n  - {id: b, labels: [A]}\nflow: [a, b]\n"},
        "sop",
        "s.yaml",
        Err(svc.SOPDefinitionError, ("s.yaml", "A")),
    ),
    Case(
        "sop_misspelt_top_level_key",
        {"s.yaml": SOP_OK.replace("steps:", "stpes:\n  - {id: x}\nsteps:", 1)},
        "sop",
        "s.yaml",
        Err(svc.SOPDefinitionError, ("s.yaml", "line", "stpes")),
    ),
    Case(
        "sop_step_without_id",
        {"s.yaml": "steps:\n  - {labels: [A]}\nflow: [a]\n"},
        "sop",
        "s.yaml",
        Err(svc.SOPDefinitionError, ("s.yaml", "line 2", "id")),
    ),
    Case(
        "sop_path_is_a_folder",
        {"s.yaml/readme.txt": ""},
        "sop",
        "s.yaml",
        Err(svc.SOPDefinitionError, ("s.yaml",)),
    ),
    Case(
        "bpmn_cyclic_without_end",
        {"s.bpmn": (CORPUS / "cyclic.bpmn").read_bytes()},
        "sop",
        "s.bpmn",
        Err(svc.SOPDefinitionError, ("s.bpmn", "孤立环节")),
    ),
    Case(
        "bpmn_truncated",
        {"s.bpmn": (CORPUS / "cyclic.bpmn").read_bytes()[:200]},
        "sop",
        "s.bpmn",
        Err(svc.SOPDefinitionError, ("s.bpmn",)),
    ),
]

# ----------------------------------------------------------------------------- calendar cases
CALENDARS: list[Case] = [
    Case(
        "calendar_no_workdays",
        {},
        "calendar",
        {"workdays": []},
        Err(svc.InvalidParameterError, ("workdays",)),
    ),
    Case(
        "calendar_no_hours",
        {},
        "calendar",
        {"hours": []},
        Err(svc.InvalidParameterError, ("hours",)),
    ),
    Case(
        "calendar_zero_length_hours",
        {},
        "calendar",
        {"hours": ["09:00-09:00"]},
        Err(svc.InvalidParameterError, ("09:00",)),
    ),
    Case(
        "calendar_hour_25",
        {},
        "calendar",
        {"hours": ["25:00-26:00"]},
        Err(svc.InvalidParameterError, ("25:00",)),
    ),
    Case(
        "calendar_unknown_day",
        {},
        "calendar",
        {"workdays": "Mon-Funday"},
        Err(svc.InvalidParameterError, ("Funday",)),
    ),
    Case(
        "calendar_bad_zone",
        {},
        "calendar",
        {"timezone": "Mars/Olympus"},
        Err(svc.InvalidParameterError, ("Mars/Olympus",)),
    ),
    Case(
        "calendar_bad_holiday",
        {},
        "calendar",
        {"holidays": ["2024-13-45"]},
        Err(svc.InvalidParameterError, ("2024-13-45",)),
    ),
    Case(
        "calendar_overlapping_hours",
        {},
        "calendar",
        {"hours": ["09:00-12:00", "11:00-14:00"]},
        Err(svc.InvalidParameterError, ("overlap",)),
    ),
    Case(
        "calendar_workday_7",
        {},
        "calendar",
        {"workdays": [7]},
        Err(svc.InvalidParameterError, ("7",)),
    ),
    Case(
        "calendar_unknown_key",
        {},
        "calendar",
        {"workhours": ["09:00-18:00"]},
        Err(svc.InvalidParameterError, ("workhours",)),
    ),
]

# ----------------------------------------------------------------------------- CLI cases
CLI: list[Case] = [
    Case(
        "cli_missing_export",
        {},
        "cli",
        ["info", "nope.csv"],
        Err(svc.SvcMiningError, ("nope.csv",)),
    ),
    Case(
        "cli_empty_export",
        {"a.csv": ""},
        "cli",
        ["info", "a.csv"],
        Err(svc.SvcMiningError, ("a.csv",)),
    ),
    Case(
        "cli_bad_timezone",
        {"a.csv": HEAD + ROWS},
        "cli",
        ["info", "a.csv", "--timezone", "Mars/Olympus"],
        Err(svc.SvcMiningError, ("Mars/Olympus",)),
    ),
    Case(
        "cli_unknown_encoding",
        {"a.csv": HEAD + ROWS},
        "cli",
        ["info", "a.csv", "--encoding", "klingon-8"],
        Err(svc.SvcMiningError, ("klingon-8",)),
    ),
    Case(
        "cli_missing_sop",
        {"a.csv": HEAD + ROWS},
        "cli",
        ["check", "a.csv", "--sop", "none.yaml"],
        Err(svc.SvcMiningError, ("none.yaml",)),
    ),
    Case(
        "cli_cyclic_sop",
        {"a.csv": HEAD + ROWS, "s.yaml": "steps:\n  - {id: a, labels: [A]}\nflow: [a, zz]\n"},
        "cli",
        ["check", "a.csv", "--sop", "s.yaml"],
        Err(svc.SvcMiningError, ("s.yaml", "zz")),
    ),
    Case(
        "cli_fitness_above_one",
        {"a.csv": HEAD + ROWS},
        "cli",
        ["check", "a.csv", "--sop", str(SAMPLE / "sop_complaint.yaml"), "--min-fitness", "1.5"],
        Err(svc.SvcMiningError, ("1.5",)),
    ),
    Case(
        "cli_calendar_yaml_without_hours",
        {"a.csv": HEAD + ROWS, "cal.yaml": "workdays: Mon-Fri\nhours: []\n"},
        "cli",
        ["report", "a.csv", "--calendar", "cal.yaml", "--out", "r.html"],
        Err(svc.SvcMiningError, ("cal.yaml", "hours")),
    ),
    Case(
        "cli_calendar_method_name",
        {"a.csv": HEAD + ROWS},
        "cli",
        ["report", "a.csv", "--calendar", "from_spec", "--out", "r.html"],
        Err(svc.SvcMiningError, ("from_spec",)),
    ),
    Case(
        "cli_calendar_yaml_list",
        {"a.csv": HEAD + ROWS, "cal.yaml": "- Mon\n- Tue\n"},
        "cli",
        ["discover", "a.csv", "--calendar", "cal.yaml", "--out", "m.dot"],
        Err(svc.SvcMiningError, ("cal.yaml",)),
    ),
    Case(
        "cli_calendar_yaml_syntax_error",
        {"a.csv": HEAD + ROWS, "cal.yaml": "workdays: [Mon\nhours: x: y\n"},
        "cli",
        ["report", "a.csv", "--calendar", "cal.yaml", "--out", "r.html"],
        Err(svc.SvcMiningError, ("cal.yaml", "line")),
    ),
    Case(
        "cli_calendar_yaml_gbk_encoded",
        {"a.csv": HEAD + ROWS, "cal.yaml": "# 工作日\nworkdays: Mon-Fri\n".encode("gbk") + b"\xff"},
        "cli",
        ["report", "a.csv", "--calendar", "cal.yaml", "--out", "r.html"],
        Err(svc.SvcMiningError, ("cal.yaml",)),
    ),
    Case(
        "cli_mapping_yaml_gbk_encoded",
        {"a.csv": HEAD + ROWS, "m.yaml": "case_id: 工单编号\n".encode("gbk") + b"\xff"},
        "cli",
        ["info", "a.csv", "--mapping", "m.yaml"],
        Err(svc.SvcMiningError, ("m.yaml",)),
    ),
    Case(
        "cli_sop_is_a_folder",
        {"a.csv": HEAD + ROWS, "sopdir/x.txt": ""},
        "cli",
        ["check", "a.csv", "--sop", "sopdir"],
        Err(svc.SvcMiningError, ("sopdir",)),
    ),
    Case(
        "cli_discover_unknown_format",
        {"a.csv": HEAD + ROWS},
        "cli",
        ["discover", "a.csv", "--out", "map.exe"],
        Err(svc.SvcMiningError, ("map.exe",)),
    ),
    Case(
        "cli_report_out_is_a_folder",
        {"a.csv": HEAD + ROWS, "outdir/x.txt": ""},
        "cli",
        ["report", "a.csv", "--out", "outdir"],
        Err(svc.SvcMiningError, ("outdir",)),
    ),
    Case(
        "cli_bad_benchmark",
        {"a.csv": HEAD + ROWS},
        "cli",
        ["report", "a.csv", "--benchmark", "远程排障=soon", "--out", "r.html"],
        Err(svc.SvcMiningError, ("soon",)),
    ),
    Case(
        "cli_mapping_not_a_mapping",
        {"a.csv": HEAD + ROWS, "m.yaml": "- a\n- b\n"},
        "cli",
        ["info", "a.csv", "--mapping", "m.yaml"],
        Err(svc.SvcMiningError, ("m.yaml",)),
    ),
]

# ----------------------------------------------------------------------------- issue 21: loader
T3 = "工单编号,处理环节,处理时间\n"
T3E = "工单编号,处理环节,处理时间,操作记录ID\n"  # with the system's id of each history row
NY = {"timezone": "America/New_York"}


def at(text: str, tz: str = "Asia/Shanghai") -> pd.Timestamp:
    return pd.Timestamp(text, tz=tz)


def parquet(table: dict[str, Any], types: dict[str, Any]) -> bytes:
    """A Parquet file from columns and their pyarrow types."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    buf = io.BytesIO()
    pq.write_table(pa.table({k: pa.array(v, types[k]) for k, v in table.items()}), buf)
    return buf.getvalue()


def parquet_types() -> dict[str, Any]:
    import pyarrow as pa

    return {
        "int": pa.int64(),
        "float": pa.float64(),
        "str": pa.string(),
        "ms": pa.timestamp("ms"),
    }


PQ = parquet_types()


def xes_events(*events: str) -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8"?><log xes.version="1.0">'
        f'<trace><string key="concept:name" value="T1"/>{"".join(events)}</trace></log>'
    )


def xes_event(name: str, time: str, extra: str = "") -> str:
    return (
        f'<event><string key="concept:name" value="{name}"/>'
        f'<date key="time:timestamp" value="{time}"/>{extra}</event>'
    )


def _note_has(log: svc.TicketLog, text: str) -> None:
    assert any(text in n for n in log.report.notes), log.report.notes


def _only_conflict(log: svc.TicketLog, column: str, kept: str, dropped_file: str) -> None:
    """One conflict: ``column`` was empty in ``dropped_file`` and is ``kept`` now."""
    rows = log.report.conflicts
    assert len(rows) == 1, rows
    got = rows.iloc[0]
    assert (got["column"], got["kept_value"], got["dropped_file"]) == (column, kept, dropped_file)
    assert pd.isna(got["dropped_value"])


def expect_all(*checks: Callable[[svc.TicketLog], None]) -> Callable[[svc.TicketLog], None]:
    def check(log: svc.TicketLog) -> None:
        for c in checks:
            c(log)

    return check


def expect_conflicts(rows: list[list[str]]) -> Callable[[svc.TicketLog], None]:
    """The conflicts table's (column, kept value, kept file, dropped value, dropped file)."""

    def check(log: svc.TicketLog) -> None:
        cols = ["column", "kept_value", "kept_file", "dropped_value", "dropped_file"]
        assert log.report.conflicts[cols].values.tolist() == rows, log.report.conflicts

    return check


REMARK_CRLF = (
    'GD1,登记,2024-10-08 09:00,"第一行\r\n第二行"\r\nGD1,结单,2024-10-08 10:00,"甲\r\n乙"\r'
)
BIG_CELL = 34_000_000  # more than two of pyarrow's 16 MB blocks

LOADER_21: list[Case] = [
    Case(
        "date_only_is_local_midnight_shanghai",
        {"a.csv": T3 + "1,登记,2024-10-08\n1,结单,2024-10-09\n"},
        "load",
        SH,
        Ok(2, 2, check=expect_values("timestamp", [at("2024-10-08"), at("2024-10-09")])),
    ),
    Case(
        "date_only_is_local_midnight_new_york",
        {"a.csv": T3 + "1,登记,2024-10-08\n"},
        "load",
        NY,
        Ok(1, 1, check=expect_values("timestamp", [at("2024-10-08", "America/New_York")])),
    ),
    Case(
        "compact_yyyymmddhhmm_numbers",
        {"a.csv": T3 + "1,登记,202410080900\n1,结单,202410081030\n"},
        "load",
        SH,
        Ok(
            2,
            2,
            check=expect_values("timestamp", [at("2024-10-08 09:00"), at("2024-10-08 10:30")]),
        ),
    ),
    Case(
        "compact_yyyymmddhh_numbers",
        {"a.csv": T3 + "1,登记,2024100809\n1,结单,2024100810\n"},
        "load",
        SH,
        Ok(
            2,
            2,
            check=expect_values("timestamp", [at("2024-10-08 09:00"), at("2024-10-08 10:00")]),
        ),
    ),
    Case(
        "compact_numbers_in_a_parquet_int_column",
        {
            "a.parquet": parquet(
                {"工单编号": ["1"], "处理环节": ["登记"], "处理时间": [202410080900]},
                {"工单编号": PQ["str"], "处理环节": PQ["str"], "处理时间": PQ["int"]},
            )
        },
        "load",
        SH,
        Ok(1, 1, check=expect_values("timestamp", [at("2024-10-08 09:00")])),
    ),
    Case(
        "epoch_seconds_column_with_one_epoch_ms_value",
        {"a.csv": T3 + "1,登记,1728349200\n1,派单,1728352800000\n1,结单,1728356400\n"},
        "load",
        SH,
        Ok(
            3,
            2,
            {"unparseable_timestamp": 1},
            check=expect_all(
                expect_values("timestamp", [at("2024-10-08 09:00"), at("2024-10-08 11:00")]),
                has_note("epoch seconds"),
            ),
        ),
    ),
    Case(
        "epoch_seconds_column_with_a_zero",
        {"a.csv": T3 + "1,登记,1728349200\n1,派单,0\n1,结单,1728356400\n"},
        "load",
        SH,
        Ok(
            3,
            2,
            {"unparseable_timestamp": 1},
            check=expect_values("timestamp", [at("2024-10-08 09:00"), at("2024-10-08 11:00")]),
        ),
    ),
    Case(
        "epoch_ms_column_with_one_seconds_value",
        {"a.csv": T3 + "1,登记,1728349200000\n1,派单,1728352800\n1,结单,1728356400000\n"},
        "load",
        SH,
        Ok(
            3,
            2,
            {"unparseable_timestamp": 1},
            check=expect_values("timestamp", [at("2024-10-08 09:00"), at("2024-10-08 11:00")]),
        ),
    ),
    *[
        Case(
            f"out_of_range_time_{name}",
            {"a.csv": T3 + f"1,登记,{value}\n1,结单,2024-10-08 09:00\n"},
            "load",
            {"timezone": tz},
            Ok(2, 1, {"unparseable_timestamp": 1}),
        )
        for name, value, tz in (
            ("2262_new_york", "2262-04-11 23:50", "America/New_York"),
            ("1677_shanghai", "1677-09-21 08:00", "Asia/Shanghai"),
            ("2300", "2300-01-01 09:00", "Asia/Shanghai"),
            ("2300_with_offset", "2300-01-01T09:00:00+08:00", "Asia/Shanghai"),
            ("year_1728_digits", "17280304092000", "Asia/Shanghai"),
        )
    ],
    Case(
        "parquet_timestamp_ms_year_2300",
        {
            "a.parquet": parquet(
                {
                    "工单编号": ["1", "1"],
                    "处理环节": ["登记", "结单"],
                    "处理时间": [pd.Timestamp("2300-01-01"), pd.Timestamp("2024-10-08 09:00")],
                },
                {"工单编号": PQ["str"], "处理环节": PQ["str"], "处理时间": PQ["ms"]},
            )
        },
        "load",
        SH,
        Ok(2, 1, {"unparseable_timestamp": 1}),
    ),
    Case(
        "parquet_int64_ids_with_a_null_match_csv_ids",
        {
            "d/a.csv": T3 + "1001,登记,2024-10-08 09:00\n",
            "d/b.parquet": parquet(
                {
                    "工单编号": [1001, None, 1002],
                    "处理环节": ["结单", "登记", "登记"],
                    "处理时间": ["2024-10-08 10:00"] * 3,
                },
                {"工单编号": PQ["int"], "处理环节": PQ["str"], "处理时间": PQ["str"]},
            ),
        },
        "load",
        {"source": "d", **SH},
        Ok(
            4,
            3,
            {"missing_case_id": 1},
            check=expect_values("case_id", ["1001", "1001", "1002"]),
        ),
    ),
    Case(
        "float_ids_written_with_point_zero_in_csv",
        {"a.csv": T3 + "1001.0,登记,2024-10-08 09:00\n1002.0,登记,2024-10-08 09:00\n"},
        "load",
        SH,
        Ok(
            2,
            2,
            check=expect_all(expect_values("case_id", ["1001", "1002"]), has_note("'.0'")),
        ),
    ),
    Case(
        "float_ids_in_excel",
        {
            "a.xlsx": xlsx(
                {
                    "s": pd.DataFrame(
                        {
                            "工单编号": [1001.0, None, 1002.0],
                            "处理环节": ["登记"] * 3,
                            "处理时间": ["2024-10-08 09:00"] * 3,
                        }
                    )
                }
            )
        },
        "load",
        SH,
        Ok(3, 2, {"missing_case_id": 1}, check=expect_values("case_id", ["1001", "1002"])),
    ),
    Case(
        "xes_nested_attribute_keeps_its_value",
        {
            "a.xes": xes_events(
                xes_event(
                    "登记",
                    "2024-10-08T09:00:00+08:00",
                    '<string key="org:resource" value="客服01">'
                    '<string key="org:role" value="坐席"/></string>',
                ),
                xes_event(
                    "结单",
                    "2024-10-08T10:00:00+08:00",
                    '<string key="org:resource" value="客服02"/>',
                ),
            )
        },
        "load",
        SH,
        Ok(
            2,
            2,
            check=expect_all(
                expect_values("resource", ["客服01", "客服02"]),
                expect_values("org:resource:org:role", ["坐席", None]),
                has_note("org:resource:org:role"),
            ),
        ),
    ),
    Case(
        "xes_container_attribute_becomes_columns",
        {
            "a.xes": xes_events(
                xes_event(
                    "登记",
                    "2024-10-08T09:00:00+08:00",
                    '<container key="客户"><string key="姓名" value="张三"/>'
                    '<int key="等级" value="3"/></container>',
                ),
                xes_event("结单", "2024-10-08T10:00:00+08:00"),
            )
        },
        "load",
        SH,
        Ok(
            2,
            2,
            check=expect_all(
                expect_values("客户:姓名", ["张三", None]),
                expect_values("客户:等级", ["3", None]),
                has_note("<container>"),
            ),
        ),
    ),
    Case(
        "source_column_named_like_a_canonical_one",
        {"a.csv": "Ticket No,case_id,处理环节,处理时间\nT1,旧编号1,登记,2024-10-08 09:00\n"},
        "load",
        {"mapping": {"case_id": "Ticket No"}, **SH},
        Ok(
            1,
            1,
            check=expect_all(
                expect_values("case_id", ["T1"]),
                expect_values("case_id (source)", ["旧编号1"]),
                has_note("'case_id (source)'"),
                has_quality("unmapped_columns", 0),
            ),
        ),
    ),
    Case(
        "source_columns_named_like_internal_ones",
        {"a.csv": T3.strip() + ",_line,_file\n1,登记,2024-10-08 09:00,第7行,旧文件.csv\n"},
        "load",
        SH,
        Ok(
            1,
            1,
            check=expect_all(
                expect_values("_line (source)", ["第7行"]),
                expect_values("_file (source)", ["旧文件.csv"]),
            ),
        ),
    ),
    Case(
        "one_bare_cr_keeps_quoted_crlf_in_remarks",
        {
            "a.csv": "工单编号,处理环节,处理时间,备注\r\n"
            + REMARK_CRLF
            + "GD2,登记,2024-10-09 09:00,\r\n"
        },
        "load",
        SH,
        Ok(3, 3, check=expect_values("备注", ["第一行\r\n第二行", "甲\r\n乙", None])),
    ),
    Case(
        "bare_cr_line_with_a_bad_row_names_its_line",
        {
            "a.csv": "工单编号,处理环节,处理时间\r1,登记,2024-10-08 09:00\r1,结单\r1,关闭,2024-10-08 10:00\r"
        },
        "load",
        SH,
        Ok(3, 2, {"malformed_row": 1}, check=lambda log: _line_of(log, "malformed_row", 3)),
    ),
    Case(
        "merge_value_changed_and_changed_back",
        {
            "d/m10.csv": T3.strip() + ",处理人\nT1,登记,2024-10-30 09:00,amy\n",
            "d/m11.csv": T3.strip() + ",处理人\nT1,登记,2024-10-30 09:00,bob\n",
            "d/m12.csv": T3.strip() + ",处理人\nT1,登记,2024-10-30 09:00,amy\n",
        },
        "load",
        {"source": "d", **SH},
        Ok(
            3,
            1,
            {"repeated_in_later_export": 1, "conflicting_duplicate": 1},
            check=expect_all(
                expect_values("resource", ["amy"]),
                expect_conflicts([["resource", "amy", "m12.csv", "bob", "m11.csv"]]),
            ),
        ),
    ),
    Case(
        "merge_later_export_corrects_a_time",
        {
            "d/m10.csv": T3 + "T1,登记,2024-10-31 09:00\nT1,结单,2024-10-31 23:00\n",
            "d/m11.csv": T3 + "T1,登记,2024-10-31 09:00\nT1,结单,2024-10-31 23:05\n",
        },
        "load",
        {"source": "d", **SH},
        Ok(
            4,
            2,
            {"repeated_in_later_export": 1, "conflicting_duplicate": 1},
            check=expect_all(
                expect_values("timestamp", [at("2024-10-31 09:00"), at("2024-10-31 23:05")]),
                expect_conflicts(
                    [
                        [
                            "timestamp",
                            "2024-10-31 23:05:00+08:00",
                            "m11.csv",
                            "2024-10-31 23:00:00+08:00",
                            "m10.csv",
                        ]
                    ]
                ),
            ),
        ),
    ),
    Case(
        "merge_exports_of_different_time_precision",
        {
            "d/m10.csv": T3 + "T1,登记,2024-10-31 09:00:37\nT1,派单,2024-10-31 09:10:05\n",
            "d/m11.csv": T3
            + "T1,登记,2024-10-31 09:00\nT1,派单,2024-10-31 09:10\nT1,结单,2024-11-02 09:00\n",
        },
        "load",
        {"source": "d", **SH},
        Ok(
            5,
            3,
            {"conflicting_duplicate": 2},
            check=expect_all(
                expect_values("activity", ["登记", "派单", "结单"]),
                expect_values(
                    "timestamp",
                    [at("2024-10-31 09:00"), at("2024-10-31 09:10"), at("2024-11-02 09:00")],
                ),
            ),
        ),
    ),
    Case(
        "merge_keeps_distinct_events_outside_the_newer_span",
        {
            "d/m10.csv": T3 + "T1,派单,2024-10-30 09:00\n",
            "d/m11.csv": T3 + "T1,派单,2024-11-02 09:00\nT2,登记,2024-11-05 09:00\n",
        },
        "load",
        {"source": "d", **SH},
        Ok(3, 3),
    ),
    Case(
        "now_and_today_are_no_times",
        {
            "a.csv": T3
            + "1,登记,2024-10-08 09:00\n1,结单,now\n2,登记,Today\n2,结单,2024-10-08 10:00\n"
        },
        "load",
        SH,
        Ok(
            4,
            2,
            {"unparseable_timestamp": 2},
            check=lambda log: _examples_are(
                log, "unparseable_timestamp", [("a.csv", 3, "now"), ("a.csv", 4, "Today")]
            ),
        ),
    ),
    Case(
        "now_is_no_time_under_an_explicit_format",
        {"a.csv": T3 + "1,登记,2024-10-08 09:00\n1,结单,NOW\n"},
        "load",
        {**SH, "time_format": "%Y-%m-%d %H:%M"},
        Ok(2, 1, {"unparseable_timestamp": 1}),
    ),
    Case(
        "merge_by_event_id_newest_wins_for_activity_and_time",
        {
            "d/m10.csv": T3E + "T1,登记,2024-10-31 09:00,e1\nT1,结单,2024-10-31 23:00,e2\n",
            "d/m11.csv": T3E + "T1,受理,2024-10-31 09:00,e1\nT1,结单,2024-10-31 23:05,e2\n",
        },
        "load",
        {"source": "d", **SH},
        Ok(
            4,
            2,
            {"conflicting_duplicate": 2},
            check=expect_all(
                expect_values("activity", ["受理", "结单"]),
                expect_values("timestamp", [at("2024-10-31 09:00"), at("2024-10-31 23:05")]),
                expect_conflicts(
                    [
                        ["activity", "受理", "m11.csv", "登记", "m10.csv"],
                        [
                            "timestamp",
                            "2024-10-31 23:05:00+08:00",
                            "m11.csv",
                            "2024-10-31 23:00:00+08:00",
                            "m10.csv",
                        ],
                    ]
                ),
            ),
        ),
    ),
    Case(
        "merge_by_event_id_keeps_two_closes_with_different_ids",
        {
            "d/m10.csv": T3E + "T1,登记,2024-10-31 09:00,e1\nT1,结单,2024-10-31 23:00,e2\n",
            "d/m11.csv": T3E + "T1,登记,2024-10-31 09:00,e1\nT1,结单,2024-10-31 23:05,e3\n",
        },
        "load",
        {"source": "d", **SH},
        Ok(
            4,
            3,
            {"repeated_in_later_export": 1},
            check=expect_values("event_id", ["e1", "e2", "e3"]),
        ),
    ),
    Case(
        "merge_event_id_that_is_no_row_id_falls_back_to_time_with_a_note",
        {
            "d/m10.csv": T3E + "T1,登记,2024-10-31 09:00,x\nT1,结单,2024-10-31 23:00,x\n",
            "d/m11.csv": T3E + "T1,登记,2024-10-31 09:00,x\nT1,结单,2024-10-31 23:05,x\n",
        },
        "load",
        {"source": "d", **SH},
        Ok(
            4,
            2,
            {"repeated_in_later_export": 1, "conflicting_duplicate": 1},
            check=expect_all(
                expect_values("timestamp", [at("2024-10-31 09:00"), at("2024-10-31 23:05")]),
                lambda log: _note_has(log, "the event_id column is not a row id"),
            ),
        ),
    ),
    Case(
        "merge_older_export_without_event_ids_matches_by_time",
        {
            "d/m10.csv": T3 + "T1,登记,2024-10-31 09:00\n",
            "d/m11.csv": T3E + "T1,登记,2024-10-31 09:00,1001\nT1,结单,2024-11-01 09:00,1002\n",
        },
        "load",
        {"source": "d", **SH},
        Ok(
            3,
            2,
            {"conflicting_duplicate": 1},
            check=expect_all(
                expect_values("event_id", ["1001", "1002"]),
                lambda log: _only_conflict(log, "event_id", "1001", "m10.csv"),
            ),
        ),
    ),
    Case(
        "header_longer_than_64_kb",
        {
            "a.csv": T3.strip()
            + "".join(f",扩展字段{i:04d}" for i in range(4000))
            + "\n1,登记,2024-10-08 09:00"
            + ",x" * 4000
            + "\n1,结单,2024-10-08 10:00"
            + "," * 4000
            + "\n"
        },
        "load",
        SH,
        Ok(2, 2, check=expect_values("扩展字段3999", ["x", None])),
    ),
    Case(
        "cell_bigger_than_the_csv_block",
        {
            "a.csv": T3.strip()
            + ',备注\n1,登记,2024-10-08 09:00,"'
            + "x" * BIG_CELL
            + '"\n1,结单,2024-10-08 10:00,好\n'
        },
        "load",
        SH,
        Ok(2, 2, check=lambda log: _cell_lengths(log, "备注", [BIG_CELL, 1])),
    ),
    Case(
        "gbk_tail_in_a_utf8_file",
        {
            "a.csv": (HEAD + ROWS).encode()
            + "GD3,投诉登记,2024-10-09 10:00:00,王芳,技术支持部,电话,高,KH3,\n".encode("gbk")
        },
        "load",
        SH,
        Err(svc.ReadError, ("a.csv", "line 5", "GBK", "UTF-8", "byte offset")),
    ),
]


def _examples_are(log: svc.TicketLog, reason: str, examples: list[tuple[str, int, str]]) -> None:
    rec = log.report.dropped.set_index("reason").loc[reason]
    assert [tuple(e) for e in rec["examples"]] == examples, rec["examples"]


def _line_of(log: svc.TicketLog, reason: str, line: int) -> None:
    rec = log.report.dropped.set_index("reason").loc[reason]
    assert [e[1] for e in rec["examples"]] == [line], rec["examples"]


def _cell_lengths(log: svc.TicketLog, col: str, lengths: list[int]) -> None:
    assert [len(v) for v in log.events[col]] == lengths


CASES = [*LOADER, *LOADER_21, *SOPS, *CALENDARS, *CLI]


def _write(tmp: Path, files: dict[str, Any]) -> None:
    for name, content in files.items():
        p = tmp / name
        p.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, str):
            p.write_text(content, encoding="utf-8", newline="")
        else:
            p.write_bytes(content)


def _check_ok(log: svc.TicketLog, expect: Ok) -> None:
    rep = log.report
    assert rep.rows_read == rep.rows_kept + rep.rows_dropped
    assert (rep.rows_read, rep.rows_kept) == (expect.read, expect.kept), rep.to_text()
    assert rep.dropped_by_reason() == expect.dropped, rep.to_text()
    for examples in rep.dropped["examples"] if len(rep.dropped) else []:
        assert examples and all(len(e) == 3 and e[0] and e[1] for e in examples)
    if expect.check:
        expect.check(log)


def _run(case: Case, tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    if case.run == "load":
        kwargs = dict(case.args)
        source = kwargs.pop("source", next(iter(case.files), "a.csv"))
        source = [tmp / s for s in source] if isinstance(source, list) else tmp / source
        if isinstance(case.expect, Ok):
            _check_ok(svc.read_tickets(source, **kwargs), case.expect)
        else:
            with pytest.raises(case.expect.error) as info:
                svc.read_tickets(source, **kwargs)
            _check_message(str(info.value), case.expect)
    elif case.run == "sop":
        assert isinstance(case.expect, Err)
        with pytest.raises(case.expect.error) as info:
            svc.load_sop(tmp / case.args)
        _check_message(str(info.value), case.expect)
    elif case.run == "calendar":
        assert isinstance(case.expect, Err)
        with pytest.raises(case.expect.error) as info:
            svc.Calendar.from_spec(case.args)
        _check_message(str(info.value), case.expect)
    else:
        assert isinstance(case.expect, Err)
        capsys.readouterr()
        code = cli_main(case.args)
        err = capsys.readouterr().err
        assert code == 2, err
        # argparse usage errors print the usage block first; then one error line (notes such
        # as "Graphviz not found" may come before it, one line each)
        lines = [
            ln
            for ln in err.strip().splitlines()
            if ln.startswith("svcmining") and not ln.startswith("svcmining: note: ")
        ]
        assert len(lines) == 1 and err.strip().splitlines()[-1] == lines[0], err
        assert "Traceback" not in err and "internal error" not in err, err
        _check_message(lines[0], case.expect)


def _check_message(msg: str, expect: Err) -> None:
    assert "\n" not in msg.strip() or len(msg) < 2000
    for fragment in expect.fragments:
        assert fragment in msg, f"{fragment!r} not in {msg!r}"


@pytest.mark.parametrize(
    "case",
    [
        pytest.param(
            c, id=c.id, marks=[pytest.mark.xfail(strict=True, reason=c.xfail)] if c.xfail else []
        )
        for c in CASES
    ],
)
def test_corpus_case(case, tmp_path, monkeypatch, capsys):
    """A bad input ends in an accounted load or a typed error naming file/line/column."""
    monkeypatch.chdir(tmp_path)
    _write(tmp_path, case.files)
    _run(case, tmp_path, capsys)


def test_corpus_is_big_enough():
    """The corpus keeps at least 40 cases across loader, SOP files, calendars and the CLI."""
    kinds = {c.run for c in CASES}
    assert len(CASES) >= 40 and kinds == {"load", "sop", "calendar", "cli"}
    assert len({c.id for c in CASES}) == len(CASES)


def test_gbk_config_files_are_read(tmp_path):
    """Mapping, SOP and calendar YAML saved as GBK (Chinese Windows) are read, not refused."""
    (tmp_path / "a.csv").write_text(HEAD + ROWS, encoding="utf-8")
    (tmp_path / "m.yaml").write_bytes("case_id: 工单编号\nactivity: 处理环节\n".encode("gbk"))
    log = svc.read_tickets(tmp_path / "a.csv", mapping=tmp_path / "m.yaml", **SH)
    assert log.mapping["case_id"] == "工单编号"
    (tmp_path / "s.yaml").write_bytes(SOP_OK.encode("gbk", errors="replace"))
    assert svc.load_sop(tmp_path / "s.yaml").steps
