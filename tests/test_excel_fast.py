"""Workbooks read through python-calamine (svcmining._readers_excel): cells, sheets, notes."""

from __future__ import annotations

import datetime as dt
import gc
import io
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import svcmining as svc
from svcmining._readers_excel import _a1, _scan_hidden, read_excel
from svcmining.exceptions import DataQualityWarning, ReadError

SH = "Asia/Shanghai"
SAMPLES = Path(__file__).resolve().parent.parent / "sample_logs"
HEADER = ["工单编号", "处理环节", "处理时间", "处理人", "耗时", "备注"]


def ts(text: str) -> pd.Timestamp:
    return pd.Timestamp(text).tz_localize(SH)


def tricky_workbook(path: Path) -> Path:
    """Three sheets: typed cells, a merged id and resource, a hidden row, a blank row;
    a hidden sheet; a sheet of Excel serial numbers with a hidden row."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "10月"
    ws.append(HEADER)
    ws.append(["007", "登记", dt.datetime(2024, 10, 8, 9, 0), "客服01", 2.5, True])  # row 2
    ws.append([1001, "登记", dt.datetime(2024, 10, 8), "客服02", 1002.0, "  留言 "])  # row 3
    ws.append([1001, "派单", dt.datetime(2024, 10, 8, 10, 30, 15), "客服03", 1.5e-7, None])
    ws.append([1001, "结单", dt.datetime(2024, 10, 8, 11, 0), None, 3, None])  # row 5
    ws.append([None] * 6)  # row 6: blank
    ws.append(["GD9", "登记", dt.datetime(2024, 10, 9, 9, 0), "客服01", None, None])  # row 7
    ws.append([None, "结单", dt.datetime(2024, 10, 9, 10, 0), "客服01", None, None])  # row 8
    ws["C3"].number_format = "yyyy-mm-dd"  # a date cell: midnight
    ws.merge_cells("D4:D5")  # one resource for two rows: only D4 holds it
    ws.merge_cells("A7:A8")  # one ticket id for two rows: only A7 holds it
    ws.row_dimensions[3].hidden = True
    hidden = wb.create_sheet("11月")
    hidden.append(HEADER[:3])
    hidden.append(["007", "结单", dt.datetime(2024, 11, 1, 9, 0)])
    hidden.sheet_state = "hidden"
    serials = wb.create_sheet("serials")
    serials.append(HEADER[:3])
    serials.append(["000123", "登记", 45573.375])  # 2024-10-08 09:00, a plain number
    serials.append(["000123", "结单", 45573.5])
    serials.row_dimensions[3].hidden = True  # found in this sheet's own XML part
    wb.save(path)
    return path


def cells(frame: pd.DataFrame) -> list[list[object]]:
    return [[None if pd.isna(v) else v for v in row] for row in frame.to_numpy().tolist()]


def test_cells_are_read_as_text_exactly(tmp_path):
    """Text ids keep leading zeros, whole numbers lose .0, date cells print as pandas did."""
    book = read_excel(tricky_workbook(tmp_path / "a.xlsx"), "10月")
    assert len(book) == 1
    sheet = book[0]
    assert (sheet.sheet, sheet.fmt) == ("10月", "xlsx")
    assert list(sheet.frame.columns) == HEADER
    assert cells(sheet.frame) == [
        ["007", "登记", "2024-10-08 09:00:00", "客服01", "2.5", "True"],
        ["1001", "登记", "2024-10-08 00:00:00", "客服02", "1002", "  留言 "],
        ["1001", "派单", "2024-10-08 10:30:15", "客服03", "1.5e-07", ""],
        ["1001", "结单", "2024-10-08 11:00:00", "", "3", ""],
        ["", "", "", "", "", ""],
        ["GD9", "登记", "2024-10-09 09:00:00", "客服01", "", ""],
        ["", "结单", "2024-10-09 10:00:00", "客服01", "", ""],
    ]
    assert sheet.lines.tolist() == [2, 3, 4, 5, 6, 7, 8]


def test_merged_ranges_and_hidden_rows_are_noted(tmp_path):
    """The note names the merged ranges (top-left cell only) and the hidden rows (read)."""
    (sheet,) = read_excel(tricky_workbook(tmp_path / "a.xlsx"), None)
    assert sheet.note == (
        "a.xlsx: read only its first sheet '10月'; the workbook also has '11月', 'serials' "
        "(pass sheet='*' to read every sheet). "
        "a.xlsx[10月]: 2 merged cell range(s) (e.g. D4:D5, A7:A8): a merged range holds its "
        "value in its top-left cell only; its other cells were read as empty. "
        "a.xlsx[10月]: 1 row(s) hidden in the workbook (e.g. row 3) were read like the "
        "others; delete them in the export if they should not count."
    )


def test_every_sheet_with_star_and_hidden_sheet_noted(tmp_path):
    """sheet='*' reads every sheet in workbook order; a hidden sheet is read and noted."""
    book = read_excel(tricky_workbook(tmp_path / "a.xlsx"), "*")
    assert [s.sheet for s in book] == ["10月", "11月", "serials"]
    assert cells(book[1].frame) == [["007", "结单", "2024-11-01 09:00:00"]]
    assert book[1].note == "a.xlsx[11月]: the sheet is hidden in the workbook; it was read."
    assert cells(book[2].frame) == [["000123", "登记", "45573.375"], ["000123", "结单", "45573.5"]]
    assert book[2].note == (
        "a.xlsx[serials]: 1 row(s) hidden in the workbook (e.g. row 3) were read like the "
        "others; delete them in the export if they should not count."
    )


def test_same_cells_as_pandas_openpyxl_reader(tmp_path):
    """Every sheet reads as pd.read_excel(engine='openpyxl', dtype=str) read it before."""
    path = tricky_workbook(tmp_path / "a.xlsx")
    before = pd.read_excel(
        path, sheet_name=None, engine="openpyxl", dtype=str, keep_default_na=False, na_filter=False
    )
    now = {s.sheet: s.frame for s in read_excel(path, "*")}
    assert list(now) == list(before)
    for name, frame in before.items():
        frame.columns = pd.Index([str(c).strip() for c in frame.columns])
        assert list(now[name].columns) == list(frame.columns), name
        assert cells(now[name]) == cells(frame), name


def test_header_cells_named_as_pandas_names_them(tmp_path):
    """Empty header cells are 'Unnamed: i', repeated ones 'x.1' (named columns first)."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(["x", None, "x", "x.1", 2024, " y "])
    ws.append(["a", "b", "c", "d", "e", "f"])
    ws["H5"].number_format = "0.00"  # a styled empty cell beyond the data: not a column
    wb.save(tmp_path / "h.xlsx")
    (sheet,) = read_excel(tmp_path / "h.xlsx", None)
    assert list(sheet.frame.columns) == ["x", "Unnamed: 1", "x.2", "x.1", "2024", "y"]
    assert cells(sheet.frame) == [["a", "b", "c", "d", "e", "f"]]


def test_load_accounts_for_every_row_of_every_sheet(tmp_path):
    """read_tickets over the workbook: exact events, drops with sheet lines, notes."""
    path = tricky_workbook(tmp_path / "a.xlsx")
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        log = svc.read_tickets(path, sheet="*", timezone=SH)
    rep = log.report
    warned = [str(w.message) for w in seen if w.category is DataQualityWarning]
    assert warned == list(rep.notes[:3])
    assert len(warned) == 3  # 10月 (merged ranges, hidden row), 11月 (hidden), serials
    assert (rep.rows_read, rep.rows_kept, rep.rows_dropped) == (10, 8, 2)
    assert rep.files[["file", "format", "sheet", "rows_read"]].to_numpy().tolist() == [
        ["a.xlsx[10月]", "xlsx", "10月", 7],
        ["a.xlsx[11月]", "xlsx", "11月", 1],
        ["a.xlsx[serials]", "xlsx", "serials", 2],
    ]
    assert rep.dropped_by_reason() == {"missing_case_id": 2}
    examples = rep.dropped.set_index("reason").loc["missing_case_id", "examples"]
    assert [tuple(e[:2]) for e in examples] == [("a.xlsx[10月]", 6), ("a.xlsx[10月]", 8)]
    ev = log.events
    assert cells(ev[["case_id", "activity", "timestamp", "resource"]]) == [
        ["000123", "登记", ts("2024-10-08 09:00"), None],
        ["000123", "结单", ts("2024-10-08 12:00"), None],
        ["007", "登记", ts("2024-10-08 09:00"), "客服01"],
        ["007", "结单", ts("2024-11-01 09:00"), None],
        ["1001", "登记", ts("2024-10-08 00:00"), "客服02"],
        ["1001", "派单", ts("2024-10-08 10:30:15"), "客服03"],
        ["1001", "结单", ts("2024-10-08 11:00"), None],
        ["GD9", "登记", ts("2024-10-09 09:00"), "客服01"],
    ]
    assert cells(ev[["耗时", "备注"]].iloc[2:7]) == [
        ["2.5", "True"],
        [None, None],
        ["1002", "留言"],
        ["1.5e-07", None],
        ["3", None],
    ]
    assert any("row 3" in n and "hidden" in n for n in rep.notes)
    assert "a.xlsx[11月]: the sheet is hidden in the workbook; it was read." in rep.notes


def test_sample_workbook_loads_the_same_events_as_the_csv_exports():
    """The Q4 workbook (datetime cells) and the three CSV exports give one event table."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        book = svc.read_tickets(SAMPLES / "xlsx" / "工单导出_2024Q4.xlsx", sheet="*", timezone=SH)
        csvs = svc.read_tickets(sorted(SAMPLES.glob("*.csv")), timezone=SH)
    pd.testing.assert_frame_equal(book.events, csvs.events)
    a, b = book.report, csvs.report
    assert (a.rows_read, a.rows_kept, a.rows_dropped) == (b.rows_read, b.rows_kept, b.rows_dropped)
    assert a.dropped_by_reason() == b.dropped_by_reason()
    # the same rows dropped, at the same lines (sheet row = CSV line)
    for ra, rb in zip(a.dropped["examples"], b.dropped["examples"], strict=True):
        assert [e[1:] for e in ra] == [e[1:] for e in rb]
    assert a.files["rows_read"].tolist() == b.files["rows_read"].tolist()
    assert a.files["sheet"].tolist() == ["10月", "11月", "12月"]


def ods_bytes(rows: list[list[object]], name: str = "工单") -> bytes:
    """A minimal OpenDocument spreadsheet: strings, floats and date cells."""

    def cell(v: object) -> str:
        if v is None:
            return "<table:table-cell/>"
        if isinstance(v, float):
            return f'<table:table-cell office:value-type="float" office:value="{v}"/>'
        if isinstance(v, dt.datetime):
            return (
                f'<table:table-cell office:value-type="date" office:date-value="{v.isoformat()}"/>'
            )
        return (
            f'<table:table-cell office:value-type="string"><text:p>{v}</text:p></table:table-cell>'
        )

    table = "".join(
        "<table:table-row>" + "".join(map(cell, r)) + "</table:table-row>" for r in rows
    )
    content = (
        '<?xml version="1.0" encoding="UTF-8"?><office:document-content '
        'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
        f'<office:body><office:spreadsheet><table:table table:name="{name}">{table}'
        "</table:table></office:spreadsheet></office:body></office:document-content>"
    )
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        z.writestr("content.xml", content)
        z.writestr(
            "META-INF/manifest.xml",
            '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:manifest='
            '"urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
            '<manifest:file-entry manifest:full-path="/" manifest:media-type='
            '"application/vnd.oasis.opendocument.spreadsheet"/></manifest:manifest>',
        )
    return buf.getvalue()


def test_ods_workbook_reads_like_xlsx(tmp_path):
    """An .ods export loads: text ids keep zeros, numbers lose .0, date cells are times."""
    (tmp_path / "a.ods").write_bytes(
        ods_bytes(
            [
                HEADER[:3],
                ["007", "登记", dt.datetime(2024, 10, 8, 9, 5)],
                [1001.0, "结单", dt.datetime(2024, 10, 8, 10, 0)],
            ]
        )
    )
    (sheet,) = read_excel(tmp_path / "a.ods", None)
    assert (sheet.fmt, sheet.note) == ("ods", "")
    assert cells(sheet.frame) == [
        ["007", "登记", "2024-10-08 09:05:00"],
        ["1001", "结单", "2024-10-08 10:00:00"],
    ]
    log = svc.read_tickets(tmp_path, timezone=SH)  # a folder: .ods is an export suffix
    assert log.events[["case_id", "timestamp"]].to_numpy().tolist() == [
        ["007", ts("2024-10-08 09:05")],
        ["1001", ts("2024-10-08 10:00")],
    ]
    assert log.report.files["format"].tolist() == ["ods"]


@pytest.mark.parametrize(
    ("sheet", "match"),
    [
        (3, r"no sheet number 3; the workbook has 3 sheet\(s\): 10月, 11月, serials"),
        ("12月", "no sheet named '12月'"),
    ],
)
def test_sheet_not_in_workbook(tmp_path, sheet, match):
    """A sheet index or name the workbook lacks is a ReadError listing its sheets."""
    with pytest.raises(ReadError, match=match):
        read_excel(tricky_workbook(tmp_path / "a.xlsx"), sheet)


def test_workbooks_are_closed_even_when_unreadable(tmp_path):
    """Neither a read nor a refused workbook leaves a file open (no ResourceWarning)."""
    good = tricky_workbook(tmp_path / "a.xlsx")
    bad = tmp_path / "b.xlsx"
    bad.write_bytes(good.read_bytes()[:500])
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        read_excel(good, "*")
        with pytest.raises(ReadError, match=r"not a readable \.xlsx workbook"):
            read_excel(bad, None)
        gc.collect()
    assert not [w for w in seen if issubclass(w.category, ResourceWarning)], seen


def test_hidden_rows_found_across_chunk_boundaries():
    """A <row hidden> tag split by the streaming chunk is found once."""
    xml = b"".join(
        b'<row r="%d" spans="1:3"%s><c r="A%d"/></row>' % (i, b' hidden="1"' * (i % 7 == 0), i)
        for i in range(1, 200_000)
    )
    found = _scan_hidden(io.BytesIO(xml))
    assert found == [i for i in range(1, 200_000) if i % 7 == 0]


def test_a1_names():
    """Zero-based (row, column) pairs print as Excel cell names."""
    assert [_a1(0, 0), _a1(6, 1), _a1(0, 25), _a1(9, 26), _a1(0, 701), _a1(0, 702)] == [
        "A1",
        "B7",
        "Z1",
        "AA10",
        "ZZ1",
        "AAA1",
    ]


def test_frame_columns_are_text(tmp_path):
    """Every column of a sheet is a pandas string column (what the loader cleans)."""
    (sheet,) = read_excel(tricky_workbook(tmp_path / "a.xlsx"), None)
    assert all(pd.api.types.is_string_dtype(t) for t in sheet.frame.dtypes)
    assert sheet.lines.dtype == np.int64
