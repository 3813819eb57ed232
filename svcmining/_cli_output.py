"""How the command line writes a result table: a readable text table on the terminal, or
CSV, JSON or Parquet (``--format``, ``--out``).

* text: control and bidi characters escaped (:func:`svcmining._safetext.escape_text`),
  columns aligned by display width (a Chinese character takes two cells), long cells cut
  with "…", at most :data:`MAX_TABLE_ROWS` rows and then a count of the rest;
* CSV: formula-like text cells neutralised for Excel (``'=...``), controls escaped, times
  as ``2024-10-08 09:00:00+0800``; written to a file it starts with a BOM (Excel reads
  UTF-8 then);
* JSON: ``{"tool", "svcmining_version", "table", "columns", "rows"}`` with one object per
  row, exact strings (controls as ``\\u`` escapes), times in ISO 8601 with their offset,
  missing values ``null``;
* Parquet: the table as it is (dtypes and time zone kept).

pandas is imported inside the functions: the command line's ``--help`` never loads it.
"""

from __future__ import annotations

import json
import math
import unicodedata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import __version__
from ._cli_common import excel_safe
from ._outfile import prepare_file, write_file
from ._safetext import escape_text, json_safe
from .exceptions import InvalidParameterError

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "MAX_TABLE_ROWS",
    "OUTPUT_FORMATS",
    "csv_text",
    "emit_table",
    "json_text",
    "output_format",
    "text_table",
]

#: What ``--format`` of an analysis command accepts.
OUTPUT_FORMATS = ("table", "csv", "json", "parquet")
#: How many rows the text table shows before it counts the rest.
MAX_TABLE_ROWS = 50
_SUFFIXES = {".csv": "csv", ".json": "json", ".parquet": "parquet", ".txt": "table"}
_MAX_CELL = 80  # display columns of a text cell before it is cut
_ARROW = " → "


def output_format(fmt: str | None, out: str | None) -> str:
    """The format to write: ``--format``, else the suffix of ``--out``, else ``table``;
    checked before any export is read (a mismatch or an unknown suffix is bad input)."""
    if out is None:
        if fmt == "parquet":
            raise InvalidParameterError(
                "--format parquet writes a binary file: give --out FILE.parquet as well."
            )
        return fmt or "table"
    suffix = Path(out).suffix.lower()
    by_suffix = _SUFFIXES.get(suffix)
    if fmt is None:
        if by_suffix is None:
            raise InvalidParameterError(
                f"--out {escape_text(out)}: the suffix picks the format; use .csv, .json, "
                ".parquet or .txt (or give --format)."
            )
        return by_suffix
    if by_suffix is not None and by_suffix != fmt:
        raise InvalidParameterError(
            f"--out {escape_text(out)} is a {suffix} file but --format is {fmt}; give a file "
            f"name ending in .{'txt' if fmt == 'table' else fmt}, or leave out --format."
        )
    return fmt


def emit_table(
    frame: pd.DataFrame,
    *,
    fmt: str,
    out: str | None,
    title: str,
    table: str,
    tool: str,
    header: str = "",
) -> None:
    """Print or write ``frame`` as ``fmt``; with ``out`` one line on stdout says what was
    written where."""
    if out is None:
        if fmt == "table":
            print(text_table(frame, title=title, header=header, max_rows=MAX_TABLE_ROWS))
        elif fmt == "csv":
            print(csv_text(frame), end="")
        else:
            print(json_text(frame, tool=tool, table=table), end="")
        return
    path = prepare_file(out, example=f"{table}.{'txt' if fmt == 'table' else fmt}")
    if fmt == "parquet":
        write_file(path, lambda tmp: _to_parquet(frame, tmp))
    elif fmt == "csv":
        write_file(path, csv_text(frame, bom=True))
    elif fmt == "json":
        write_file(path, json_text(frame, tool=tool, table=table))
    else:
        write_file(path, text_table(frame, title=title, header=header, max_rows=None) + "\n")
    print(f"{title}: {len(frame):,} rows written to {escape_text(str(path))}")


# --------------------------------------------------------------------------- text


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in ("W", "F") else 1 for c in text)


def _cut(text: str, limit: int = _MAX_CELL) -> str:
    if _width(text) <= limit:
        return text
    out, used = [], 0
    for c in text:
        w = _width(c)
        if used + w > limit - 1:
            break
        out.append(c)
        used += w
    return "".join(out) + "…"


def _cell(value: Any) -> str:
    """One value as table text (missing: empty)."""
    import pandas as pd

    if isinstance(value, tuple | list):
        return escape_text(_ARROW.join(map(str, value)))
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        if value.is_integer() and abs(value) < 1e15:
            return f"{int(value):,}"
        return f"{value:.3f}" if abs(value) < 1 else f"{value:,.1f}"
    return escape_text(str(value))


def text_table(
    frame: pd.DataFrame, *, title: str, header: str = "", max_rows: int | None = MAX_TABLE_ROWS
) -> str:
    """``frame`` as aligned text under ``title`` (and a ``header`` line); at most
    ``max_rows`` rows, then one line counting the rest."""
    import pandas as pd

    lines = [escape_text(title)]
    if header:
        lines.append(escape_text(header))
    if frame.empty:
        lines.append("(no rows)")
        return "\n".join(lines)
    shown = frame if max_rows is None else frame.head(max_rows)
    names = [escape_text(str(c)) for c in frame.columns]
    numeric = [
        pd.api.types.is_numeric_dtype(frame[c]) and not pd.api.types.is_bool_dtype(frame[c])
        for c in frame.columns
    ]
    cells = [[_cut(_cell(v)) for v in shown[c].astype(object)] for c in frame.columns]
    widths = [
        max([_width(n), *(_width(v) for v in col)]) for n, col in zip(names, cells, strict=True)
    ]

    def row(values: list[str]) -> str:
        parts = []
        for v, w, right in zip(values, widths, numeric, strict=True):
            pad = " " * (w - _width(v))
            parts.append(pad + v if right else v + pad)
        return "  ".join(parts).rstrip()

    lines.append(row(names))
    lines.append("  ".join("-" * w for w in widths))
    lines.extend(row([col[i] for col in cells]) for i in range(len(shown)))
    if len(shown) < len(frame):
        lines.append(
            f"... {len(frame) - len(shown):,} more rows of {len(frame):,} (--format csv, json "
            "or parquet with --out FILE writes every row)"
        )
    return "\n".join(lines)


# --------------------------------------------------------------------------- files


def csv_text(frame: pd.DataFrame, *, bom: bool = False) -> str:
    """``frame`` as CSV text: text cells with controls escaped and formula-like cells
    neutralised (``'=...``), times with their offset, sequences joined with " → "."""
    import pandas as pd

    out = frame.copy()
    for c in out.columns:
        s = out[c]
        if pd.api.types.is_numeric_dtype(s):
            continue
        if isinstance(s.dtype, pd.DatetimeTZDtype):
            out[c] = s.dt.strftime("%Y-%m-%d %H:%M:%S%z")
            continue
        values = []
        for v in s.astype(object):
            if isinstance(v, tuple | list):
                v = _ARROW.join(map(str, v))
            if isinstance(v, str):
                v = excel_safe(escape_text(v, keep="\t\n\r"))
            values.append(v)
        out[c] = pd.Series(values, index=out.index, dtype=object)
    text = out.to_csv(index=False, lineterminator="\r\n")
    return ("\ufeff" + text) if bom else text


def _json_value(value: Any) -> Any:
    import pandas as pd

    if isinstance(value, tuple | list):
        return [_json_value(v) for v in value]
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    if hasattr(value, "item"):  # a numpy scalar
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def json_text(frame: pd.DataFrame, *, tool: str, table: str) -> str:
    """``frame`` as a JSON document: ``tool``, ``svcmining_version``, ``table``,
    ``columns`` and ``rows`` (one object per row)."""
    columns = [str(c) for c in frame.columns]
    data = [[_json_value(v) for v in frame[c].astype(object)] for c in frame.columns]
    rows = [dict(zip(columns, vals, strict=True)) for vals in zip(*data, strict=True)]
    doc = {
        "tool": tool,
        "svcmining_version": __version__,
        "table": table,
        "columns": columns,
        "rows": rows,
    }
    return json_safe(json.dumps(doc, ensure_ascii=False, indent=1, allow_nan=False)) + "\n"


def _to_parquet(frame: pd.DataFrame, path: Path) -> None:
    out = frame.copy()
    for c in out.columns:
        if out[c].dtype == object and out[c].map(lambda v: isinstance(v, tuple)).any():
            out[c] = out[c].map(lambda v: list(v) if isinstance(v, tuple) else v)
    out.to_parquet(path, index=False)
