"""Reading workbook exports (.xlsx, .xlsm, .xls, .ods) for :mod:`svcmining.io`: python-calamine.

The cells are read as pandas' openpyxl reader read them (what svcmining used before;
calamine reads the same workbook about 8× faster), every value as text:

- the sheet's row 1 is the header, every row below it down to the last row holding a
  value is a record, blank rows included (their line is the sheet's row number);
  an empty header cell names its column ``Unnamed: <position>``, a repeated header gets
  ``.1``, ``.2`` ... (as pandas names them);
- text cells keep their text exactly (ids with leading zeros, ``001002``, stay so);
- number cells: whole numbers without ``.0`` (``1001``), others as Python writes
  them (``2.5``, ``1.5e-07``); the number format is not applied (``1002`` shown as
  ``001002`` reads ``1002``; 50% reads ``0.5``);
- cells with a date or time number format: ``2024-10-03 09:05:00`` (microseconds only
  when present), a date format ``2024-10-08 00:00:00``, a serial below 1 with a time
  format ``09:30:00``, a duration format ``1 day, 6:00:00``;
- booleans ``True``/``False``; formulas their cached result (none: empty); error cells
  (``#N/A``, ``#DIV/0!``) are empty;
- a merged range holds its value in its top-left cell only, the other cells are empty;
- hidden rows and hidden sheets are read like the others.

What the loader should tell the user about a sheet (merged ranges, hidden rows, a hidden
sheet) comes back as the sheet's note. Hidden rows are found in the sheet's XML (one streaming
pass over the zip member, only in .xlsx/.xlsm: calamine does not report them).
"""

from __future__ import annotations

import datetime as _dt
import html
import posixpath
import re
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import IO

import numpy as np
import pandas as pd

from ._readers import Raw, check_header
from .exceptions import ReadError

__all__ = ["WORKBOOK_SUFFIXES", "read_excel"]

#: File suffixes read as workbooks (lower case).
WORKBOOK_SUFFIXES: tuple[str, ...] = (".xlsx", ".xlsm", ".xls", ".ods")
_FORMATS = {".xlsx": "xlsx", ".xlsm": "xlsx", ".xls": "xls", ".ods": "ods"}
_EXAMPLES = 5
_CHUNK = 1 << 20
_OVERLAP = 4096  # longer than any <row ...> start tag
_MAX_INDEX_BYTES = 16 << 20  # workbook.xml and its relationships are a few kB
_HIDDEN_ROW = re.compile(rb"<row\s[^>]*?\bhidden=[\"'](?:1|true)[\"'][^>]*>")
_ROW_NUMBER = re.compile(rb"\sr=[\"'](\d+)[\"']")
_SHEET_TAG = re.compile(r"<(?:\w+:)?sheet\s[^>]*>")
_REL_TAG = re.compile(r"<(?:\w+:)?Relationship\s[^>]*>")


def read_excel(path: Path, sheet: str | int | None) -> list[Raw]:
    """The chosen sheets of a workbook: ``None`` the first, ``"*"`` all, else a name or index.

    Each sheet is one :class:`Raw` (``frame``: a "str" column per header cell; ``lines``:
    the sheet's row numbers; ``fmt``: "xlsx", "xls" or "ods"; ``note``: what the user
    should know). Raises :class:`ReadError` for a file that is not a readable workbook or
    a sheet it does not have, :class:`SchemaError` for a header naming a column twice.
    """
    from python_calamine import CalamineWorkbook, SheetVisibleEnum

    fmt = _FORMATS.get(path.suffix.lower(), "xlsx")
    try:
        book = CalamineWorkbook.from_path(str(path))
    except Exception as err:  # calamine raises several types for a broken workbook
        raise ReadError(
            f"{path}: not a readable {path.suffix or '.xlsx'} workbook "
            f"({type(err).__name__}: {err})."
        ) from None
    with book:  # closes the file
        names = [str(s) for s in book.sheet_names]
        hidden_sheets = {
            str(m.name) for m in book.sheets_metadata if m.visible != SheetVisibleEnum.Visible
        }
        chosen = _choose(names, sheet, path)
        hidden_rows = _hidden_rows(path, chosen) if fmt == "xlsx" else {}
        out = []
        for name in chosen:
            try:
                data = book.get_sheet_by_name(name)
                cells = _cells(data.to_python(skip_empty_area=False))  # the list is freed
                merged = data.merged_cell_ranges or []
            except Exception as err:  # a damaged sheet part
                raise ReadError(
                    f"{path}: sheet {name!r} cannot be read ({type(err).__name__}: {err})."
                ) from None
            frame = _frame(cells)
            del cells
            check_header(list(frame.columns), path)
            lines = np.arange(2, len(frame) + 2, dtype=np.int64)
            notes = []
            if sheet is None and len(names) > 1:
                notes.append(
                    f"{path.name}: read only its first sheet {names[0]!r}; the workbook also has "
                    f"{', '.join(map(repr, names[1:]))} (pass sheet='*' to read every sheet)."
                )
            label = f"{path.name}[{name}]"
            if name in hidden_sheets:
                notes.append(f"{label}: the sheet is hidden in the workbook; it was read.")
            notes.extend(_merged_note(label, merged, len(frame) + 1, frame.shape[1]))
            notes.extend(_hidden_note(label, hidden_rows.get(name, ()), len(frame) + 1))
            out.append(Raw(frame, lines, fmt, sheet=name, note=" ".join(notes)))
    return out


def _choose(names: list[str], sheet: str | int | None, path: Path) -> list[str]:
    if sheet is None:
        if not names:
            raise ReadError(f"{path}: the workbook has no sheets.")
        return [names[0]]
    if sheet == "*":
        return list(names)
    if isinstance(sheet, int):
        if not 0 <= sheet < len(names):
            raise ReadError(
                f"{path}: there is no sheet number {sheet}; the workbook has {len(names)} "
                f"sheet(s): {', '.join(names)}."
            )
        return [names[sheet]]
    if sheet not in names:
        raise ReadError(
            f"{path}: no sheet named {sheet!r}; the workbook has: {', '.join(names)}. "
            "Pass sheet= one of those (or sheet='*' for all)."
        )
    return [sheet]


# --------------------------------------------------------------------------- cells


def _text(value: object) -> str:
    """One non-text cell as text (as pandas' openpyxl reader and ``str`` wrote it)."""
    kind = type(value)
    if kind is float:
        number: float = value  # type: ignore[assignment]
        return str(int(number)) if number.is_integer() else repr(number)
    if kind is _dt.date:  # calamine: a date format on a whole day; openpyxl: midnight
        return f"{value} 00:00:00"
    if kind is bool:
        return "True" if value else "False"
    return str(value)  # int, datetime, time, timedelta


def _texts(column: np.ndarray) -> np.ndarray:
    """A column of cells as text (object array of ``str``)."""
    if set(map(type, column)) <= {str}:
        return column
    return np.fromiter(
        (v if type(v) is str else _text(v) for v in column), dtype=object, count=len(column)
    )


def _is_blank(cells: Iterable[object]) -> bool:
    return all(isinstance(v, str) and v == "" for v in cells)


def _cells(rows: Sequence[Sequence[object]]) -> np.ndarray:
    """The sheet's cells as a 2-D object array (rows x columns; 0 x 0 when empty)."""
    if not rows or not rows[0]:
        return np.empty((0, 0), dtype=object)
    cells = np.array(rows, dtype=object)
    if cells.ndim != 2:  # pragma: no cover - calamine returns a rectangle
        width = max(map(len, rows))
        cells = np.array([[*r, *[""] * (width - len(r))] for r in rows], dtype=object)
    return cells


def _frame(cells: np.ndarray) -> pd.DataFrame:
    """The records below the header row, one "str" column per header cell."""
    # pandas' reader trims trailing blank rows and columns (calamine may keep cells
    # holding an empty string there)
    n_rows, n_cols = cells.shape
    while n_rows and _is_blank(cells[n_rows - 1, :n_cols]):
        n_rows -= 1
    while n_cols and _is_blank(cells[:n_rows, n_cols - 1]):
        n_cols -= 1
    if not n_rows:
        return pd.DataFrame()
    header = [_text(v) if type(v) is not str else v for v in cells[0, :n_cols]]
    names = _mangle([h if h != "" else f"Unnamed: {i}" for i, h in enumerate(header)], header)
    body = cells[1:n_rows, :n_cols]
    frame = pd.DataFrame(
        {i: pd.array(_texts(body[:, i]), dtype="str") for i in range(n_cols)},
        index=pd.RangeIndex(len(body)),
    )
    frame.columns = pd.Index([n.strip() for n in names])
    return frame


def _mangle(names: list[str], header: list[str]) -> list[str]:
    """Repeated header names made unique as pandas does (``x``, ``x.1``; named first)."""
    unnamed = [i for i, h in enumerate(header) if h == ""]
    order = [i for i in range(len(names)) if header[i] != ""] + unnamed
    out = list(names)
    counts: dict[str, int] = {}
    for i in order:
        col = old = out[i]
        count = counts.get(col, 0)
        while count > 0:
            counts[old] = count + 1
            col = f"{old}.{count}"
            count = count + 1 if col in out else counts.get(col, 0)
        out[i] = col
        counts[col] = count + 1
    return out


# --------------------------------------------------------------------------- notes


def _a1(row: int, col: int) -> str:
    """``(0, 0)`` -> ``A1``."""
    letters = ""
    col += 1
    while col:
        col, rest = divmod(col - 1, 26)
        letters = chr(65 + rest) + letters
    return f"{letters}{row + 1}"


def _merged_note(
    label: str, merged: list[tuple[tuple[int, int], tuple[int, int]]], n_rows: int, n_cols: int
) -> list[str]:
    inside = sorted(
        (start, end) for start, end in merged if start[0] < n_rows and start[1] < max(n_cols, 1)
    )
    if not inside:
        return []
    shown = ", ".join(f"{_a1(*s)}:{_a1(*e)}" for s, e in inside[:_EXAMPLES])
    return [
        f"{label}: {len(inside):,} merged cell range(s) (e.g. {shown}): a merged range holds "
        "its value in its top-left cell only; its other cells were read as empty."
    ]


def _hidden_note(label: str, hidden: Iterable[int], last_row: int) -> list[str]:
    rows = sorted(r for r in hidden if 2 <= r <= last_row)
    if not rows:
        return []
    shown = ", ".join(map(str, rows[:_EXAMPLES]))
    return [
        f"{label}: {len(rows):,} row(s) hidden in the workbook (e.g. row {shown}) were read "
        "like the others; delete them in the export if they should not count."
    ]


def _hidden_rows(path: Path, names: list[str]) -> dict[str, list[int]]:
    """Sheet name -> numbers of its rows marked hidden (``<row hidden="1">``), for ``names``.

    Best effort: a workbook whose parts cannot be located gives no hidden rows.
    """
    out: dict[str, list[int]] = {}
    try:
        with zipfile.ZipFile(path) as zf:
            parts = _sheet_parts(zf)
            for name in names:
                part = parts.get(name)
                if part is not None and part in zf.NameToInfo:
                    with zf.open(part) as stream:
                        out[name] = _scan_hidden(stream)
    except (OSError, zipfile.BadZipFile, KeyError, ValueError, EOFError):
        return {}
    return out


def _sheet_parts(zf: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name -> its zip member (``xl/worksheets/sheet1.xml``); {} for odd workbooks."""
    parts = ("xl/workbook.xml", "xl/_rels/workbook.xml.rels")
    if any(zf.getinfo(p).file_size > _MAX_INDEX_BYTES for p in parts):
        return {}  # an index part this large is no workbook a ticket system wrote
    book, rels = (zf.read(p).decode("utf-8", "replace") for p in parts)
    targets = {}
    for tag in _REL_TAG.findall(rels):
        a = _attrs_quoted(tag)
        if "Id" in a and "Target" in a:
            target = a["Target"]
            full = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
            targets[a["Id"]] = posixpath.normpath(full)
    out = {}
    for tag in _SHEET_TAG.findall(book):
        a = _attrs_quoted(tag)
        rid = next((v for k, v in a.items() if k.endswith(":id")), None)
        if "name" in a and rid in targets:
            out[a["name"]] = targets[rid]
    return out


def _attrs_quoted(tag: str) -> dict[str, str]:
    """The attributes of one XML start tag (entities decoded)."""
    return {
        m.group(1): html.unescape(m.group(2) if m.group(2) is not None else m.group(3))
        for m in re.finditer(r"([\w:]+)\s*=\s*(?:\"([^\"]*)\"|'([^']*)')", tag)
    }


def _scan_hidden(stream: IO[bytes]) -> list[int]:
    """Row numbers of ``<row ... hidden="1">`` tags in a sheet's XML, read in chunks."""
    found: set[int] = set()
    tail = b""
    while chunk := stream.read(_CHUNK):
        buf = tail + chunk
        if b"hidden=" in buf:
            for tag in _HIDDEN_ROW.findall(buf):
                number = _ROW_NUMBER.search(tag)
                if number is not None:
                    found.add(int(number.group(1)))
        tail = buf[-_OVERLAP:]
    return sorted(found)
