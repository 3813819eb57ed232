"""Reading Excel (.xlsx, .xlsm) exports for :mod:`svcmining.io`."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ._readers import Raw, check_header
from .exceptions import (
    ReadError,
)


def read_excel(path: Path, sheet: str | int | None) -> list[Raw]:
    try:
        import openpyxl
    except ImportError as err:  # pragma: no cover - a dependency
        raise ReadError(f"{path}: reading Excel needs openpyxl ({err}).") from None
    try:
        book = pd.ExcelFile(path, engine="openpyxl")
    except Exception as err:  # openpyxl raises many types for a broken workbook
        raise ReadError(
            f"{path}: not a readable .xlsx workbook ({type(err).__name__}: {err})."
        ) from None
    del openpyxl
    with book:  # closes the workbook file (no ResourceWarning)
        return _read_sheets(book, path, sheet)


def _read_sheets(book: pd.ExcelFile, path: Path, sheet: str | int | None) -> list[Raw]:
    names = [str(s) for s in book.sheet_names]
    if sheet is None:
        chosen: list[str | int] = [names[0]]
    elif sheet == "*":
        chosen = list(names)
    elif isinstance(sheet, int):
        if not 0 <= sheet < len(names):
            raise ReadError(
                f"{path}: there is no sheet number {sheet}; the workbook has {len(names)} "
                f"sheet(s): {', '.join(names)}."
            )
        chosen = [names[sheet]]
    else:
        if sheet not in names:
            raise ReadError(
                f"{path}: no sheet named {sheet!r}; the workbook has: {', '.join(names)}. "
                "Pass sheet= one of those (or sheet='*' for all)."
            )
        chosen = [sheet]
    out = []
    for name in chosen:
        frame = pd.read_excel(
            book, sheet_name=name, dtype=str, keep_default_na=False, na_filter=False
        )
        frame.columns = pd.Index([str(c).strip() for c in frame.columns])
        check_header(list(frame.columns), path)
        # read_excel drops blank rows; the line numbers are the sheet's rows of kept records
        note = ""
        if sheet is None and len(names) > 1:
            note = (
                f"{path.name}: read only its first sheet {names[0]!r}; the workbook also has "
                f"{', '.join(map(repr, names[1:]))} (pass sheet='*' to read every sheet)."
            )
        out.append(Raw(frame, np.arange(2, len(frame) + 2), "xlsx", sheet=str(name), note=note))
    return out
