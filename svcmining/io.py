"""Read ticket-system exports into one trustworthy event log.

:func:`read_tickets` reads CSV/TSV, Excel (.xlsx), Parquet and XES (.xes, .xes.gz)
exports — a file, a list of files, a folder (the export files directly in it, not
its subfolders) or a glob — maps their columns to the canonical contract
(:mod:`svcmining.eventlog`), parses the time columns, merges monthly files, removes
repeated events and accounts for every row in a :class:`LoadReport`.

Nothing is dropped without being counted: ``report.rows_read == report.rows_kept +
report.rows_dropped`` always holds, and ``report.dropped`` says why, with up to five
examples (file, line, value) per reason. Lines are numbered as a spreadsheet shows
them: the header is line 1, the first data row line 2 (for XES: the event's
position in the file, from 1).

Drop reasons
------------
``malformed_row``           a CSV line with the wrong number of fields
``missing_case_id``         no ticket id (empty or one of ``na_values``)
``missing_activity``        no activity
``unparseable_timestamp``   the time could not be read in any known format
``missing_timestamp``       no time at all
``repeated_in_later_export`` an exact copy of an event that an earlier export holds
                            (overlapping monthly exports): the same event, kept once
``duplicate_event``         an exact copy of an event inside the same file (a double
                            write): same ticket, activity, time and every other value
``conflicting_duplicate``   same ticket, activity and time as an event in a *newer*
                            export, but other values: the newer export's copy is
                            kept; both are listed in ``report.conflicts``
``lifecycle_start_merged``  with ``lifecycle="pair"``: a START row merged into its
                            COMPLETE row (as ``start_timestamp``)
``lifecycle_other``         with ``lifecycle="pair"``: a lifecycle transition other
                            than start/complete (e.g. schedule)
"""

from __future__ import annotations

import csv
import glob as globlib
import html
import io as _io
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from ._synonyms import XES_MAPPING, canonical_for
from ._timeparse import parse_times
from .eventlog import (
    OPTIONAL_COLUMNS,
    REQUIRED_COLUMNS,
    TEXT_COLUMNS,
    TIME_COLUMNS,
    TicketLog,
    seed_case_codes,
    shared_event_keys,
    sort_order,
    time_i8,
)
from .exceptions import (
    DataQualityWarning,
    InvalidParameterError,
    ReadError,
    SchemaError,
    StrictModeError,
)

__all__ = ["DEFAULT_NA_VALUES", "EXPORT_SUFFIXES", "LoadReport", "read_tickets"]

DEFAULT_NA_VALUES: tuple[str, ...] = (
    "",
    "NULL",
    "null",
    "Null",
    "NONE",
    "None",
    "none",
    "NaN",
    "nan",
    "NaT",
    "N/A",
    "n/a",
    "NA",
    "#N/A",
    "无",
    "空",
    "(空)",
    "（空）",
)
EXPORT_SUFFIXES: tuple[str, ...] = (
    ".csv",
    ".tsv",
    ".txt",
    ".xlsx",
    ".xlsm",
    ".parquet",
    ".xes",
    ".xes.gz",
)
DROP_REASONS: dict[str, str] = {
    "malformed_row": "CSV line with the wrong number of fields",
    "missing_case_id": "no ticket id",
    "missing_activity": "no activity",
    "unparseable_timestamp": "time could not be parsed",
    "missing_timestamp": "no time",
    "repeated_in_later_export": "exact copy of an event an earlier export holds",
    "duplicate_event": "exact copy of an event in the same file (double write)",
    "conflicting_duplicate": "older copy of an event that a newer export changed",
    "lifecycle_start_merged": "START row merged into its COMPLETE row",
    "lifecycle_other": "lifecycle transition other than start/complete",
}
_MAX_EXAMPLES = 5
_LIFECYCLE_START = ("start", "started", "开始")
_LIFECYCLE_COMPLETE = ("complete", "completed", "end", "完成", "结束")


# --------------------------------------------------------------------------- report


@dataclass(frozen=True)
class LoadReport:
    """What a load read, kept and dropped, and why.

    Attributes
    ----------
    files : DataFrame
        One row per file: ``file``, ``format``, ``encoding``, ``delimiter``, ``sheet``,
        ``rows_read``, ``time_formats``.
    rows_read, rows_kept, rows_dropped : int
        ``rows_read == rows_kept + rows_dropped`` always.
    dropped : DataFrame
        ``reason``, ``rows``, ``description``, ``examples`` (up to five
        ``(file, line, value)`` tuples), one row per reason that occurred.
    conflicts : DataFrame
        Events exported twice with different values: ``case_id``, ``activity``,
        ``timestamp``, ``column``, ``kept_value``, ``kept_file``, ``dropped_value``,
        ``dropped_file``, ``dropped_line``.
    timezone : str
        The zone naive times were localised to and all times are expressed in.
    mapping : dict
        Canonical column -> source column, per file.
    notes : tuple of str
        Everything else the load decided that a user should know.
    findings : DataFrame
        Quality findings only the load can see (they need the source order); merged
        into :func:`svcmining.check_quality`'s table.
    """

    files: pd.DataFrame
    rows_read: int
    rows_kept: int
    rows_dropped: int
    dropped: pd.DataFrame
    conflicts: pd.DataFrame
    timezone: str
    mapping: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    findings: pd.DataFrame = field(default_factory=pd.DataFrame)

    def dropped_by_reason(self) -> dict[str, int]:
        """``{reason: rows}`` for the reasons that occurred."""
        return {
            str(r): int(n)
            for r, n in zip(self.dropped["reason"], self.dropped["rows"], strict=True)
        }

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready summary (counts, files, reasons with examples, notes)."""
        return {
            "rows_read": self.rows_read,
            "rows_kept": self.rows_kept,
            "rows_dropped": self.rows_dropped,
            "timezone": self.timezone,
            "files": [
                {k: (v if not isinstance(v, np.integer) else int(v)) for k, v in rec.items()}
                for rec in self.files.to_dict("records")
            ],
            "dropped": {
                str(r["reason"]): {
                    "rows": int(r["rows"]),
                    "examples": [list(map(str, e)) for e in r["examples"]],
                }
                for r in self.dropped.to_dict("records")
            },
            "conflicts": len(self.conflicts),
            "notes": list(self.notes),
        }

    def to_text(self, *, max_files: int | None = None) -> str:
        """The report as plain text, for terminals and logs.

        ``max_files`` lists only the first files, then one line with the count of the rest.
        """
        lines = [
            f"Read {self.rows_read:,} rows from {len(self.files)} file(s); "
            f"kept {self.rows_kept:,} events, dropped {self.rows_dropped:,}.",
        ]
        shown = self.files if max_files is None else self.files.head(max_files)
        for rec in shown.to_dict("records"):
            enc = f", {rec['encoding']}" if rec.get("encoding") else ""
            fmts = f", times: {rec['time_formats']}" if rec.get("time_formats") else ""
            lines.append(f"  {rec['file']}: {rec['rows_read']:,} rows ({rec['format']}{enc}{fmts})")
        if len(shown) < len(self.files):
            rest = self.files.iloc[len(shown) :]
            kinds = ", ".join(f"{k} {n:,}" for k, n in rest["format"].value_counts().items())
            lines.append(
                f"  ... and {len(rest):,} more file(s), {int(rest['rows_read'].sum()):,} rows "
                f"({kinds})"
            )
        if len(self.dropped):
            lines.append("Dropped rows by reason:")
            for rec in self.dropped.to_dict("records"):
                ex = "; ".join(f"{f} line {ln}: {v!r}" for f, ln, v in rec["examples"][:3])
                lines.append(f"  {rec['reason']}: {rec['rows']:,} ({rec['description']}) e.g. {ex}")
        if len(self.conflicts):
            lines.append(
                f"Conflicting copies across exports: {len(self.conflicts):,} value(s) differ "
                "(newer export kept; see report.conflicts)."
            )
        lines.extend(f"Note: {n}" for n in self.notes)
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.to_text()

    def _repr_html_(self) -> str:
        body = "".join(
            f"<li>{html.escape(line.strip())}</li>" for line in self.to_text().splitlines()
        )
        return f"<div><b>Load report</b><ul>{body}</ul></div>"


# --------------------------------------------------------------------------- sources


def _resolve_sources(source: str | Path | Sequence[str | Path]) -> list[Path]:
    items: Iterable[str | Path]
    if isinstance(source, str | Path):
        items = [source]
    elif isinstance(source, Sequence):
        items = source
    else:
        raise InvalidParameterError(
            "The 'source' parameter of read_tickets must be a path, a folder, a glob or a list "
            f"of paths. Got {type(source).__name__} instead."
        )
    paths: list[Path] = []
    for item in items:
        text = str(item)
        p = Path(text)
        if p.is_dir():
            found = sorted(f for f in p.iterdir() if f.is_file() and _suffix(f) in EXPORT_SUFFIXES)
            if not found:
                raise ReadError(
                    f"{p}: the folder holds no export files ({', '.join(EXPORT_SUFFIXES)}); "
                    "point read_tickets at the files or at the folder that holds them."
                )
            paths.extend(found)
        elif p.is_file():
            paths.append(p)
        elif any(ch in text for ch in "*?["):
            matched = sorted(Path(m) for m in globlib.glob(text) if Path(m).is_file())  # noqa: PTH207 - absolute patterns
            if not matched:
                raise ReadError(f"{text}: the pattern matches no file; check the path and pattern.")
            paths.extend(matched)
        else:
            raise ReadError(f"{text}: no such file or folder; check the path.")
    if not paths:
        raise ReadError("read_tickets got an empty list of sources; give at least one export file.")
    unique = list(dict.fromkeys(p.resolve() for p in paths))
    return unique


def _suffix(path: Path) -> str:
    name = path.name.lower()
    return ".xes.gz" if name.endswith(".xes.gz") else path.suffix.lower()


# --------------------------------------------------------------------------- raw readers


@dataclass
class _Raw:
    """One file's rows as read (all values as text, or typed for Parquet/XES)."""

    frame: pd.DataFrame
    lines: np.ndarray  # line number of each row, as a user would find it
    fmt: str
    encoding: str = ""
    delimiter: str = ""
    sheet: str = ""
    malformed: list[tuple[int, str]] = field(default_factory=list)
    default_mapping: dict[str, str] = field(default_factory=dict)
    note: str = ""


def _detect_encoding(data: bytes, path: Path) -> tuple[str, str | None]:
    """The file's encoding, and its text when finding out meant decoding it (GB18030)."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16", None
    try:
        data.decode("utf-8")
        return ("utf-8-sig" if data.startswith(b"\xef\xbb\xbf") else "utf-8"), None
    except UnicodeDecodeError as err:
        _refuse_broken_utf8(data, path, err)
    try:
        return "gb18030", data.decode("gb18030")
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(data[:200_000]).best()
    if best is not None and best.encoding:
        try:
            return str(best.encoding), data.decode(best.encoding)
        except (UnicodeDecodeError, LookupError):
            pass
    raise ReadError(
        f"{path}: cannot tell the text encoding (not UTF-8, UTF-8 with BOM or GBK/GB18030); "
        "save the export as UTF-8, or pass encoding='...' to read_tickets."
    )


_SNIFF_BYTES = 1 << 20


def _refuse_broken_utf8(data: bytes, path: Path, err: UnicodeDecodeError) -> None:
    """A UTF-8 file with a few invalid bytes is damaged UTF-8, not GBK: say where, never guess.

    (Almost any byte string decodes as GB18030, so falling back to it would turn every
    Chinese label into mojibake without a word.)
    """

    def counts(chunk: bytes) -> tuple[int, int]:
        """Invalid sequences, and valid non-ASCII characters (the evidence for UTF-8)."""
        text = chunk.decode("utf-8", errors="replace")
        bad = text.count("\ufffd")
        ascii_ = len(chunk) - len(chunk.translate(None, bytes(range(128))))  # 1 char each
        return bad, len(text) - ascii_ - bad

    def damaged_utf8(bad: int, good: int) -> bool:
        # many valid UTF-8 characters around a few bad bytes; a GBK file has (almost) none
        return good >= 20 * bad or (bad <= 3 and good >= 2 * bad)

    if len(data) > _SNIFF_BYTES and not data.startswith(b"\xef\xbb\xbf"):
        # a head that is plainly another encoding settles it without decoding everything
        bad, good = counts(data[:_SNIFF_BYTES])
        if bad > 3 and not damaged_utf8(bad, good):
            return
    bad, good = counts(data)
    if data.startswith(b"\xef\xbb\xbf") or damaged_utf8(bad, good):
        line = data[: err.start].count(b"\n") + 1
        raise ReadError(
            f"{path}: line {line} has bytes that are not valid UTF-8 ({bad} such place(s)) in "
            "a file that is otherwise UTF-8; fix or re-export that line, or pass encoding= if "
            "the file really is in another encoding."
        )


def _sniff_delimiter(text: str, path: Path) -> str:
    if path.suffix.lower() == ".tsv":
        return "\t"
    head = "\n".join(text.splitlines()[:20])
    try:
        return csv.Sniffer().sniff(head, delimiters=",;\t|").delimiter
    except csv.Error:
        counts = {d: head.splitlines()[0].count(d) if head else 0 for d in ",;\t|"}
        best = max(counts, key=lambda d: counts[d])
        return best if counts[best] else ","


def _read_csv(path: Path, encoding: str | None) -> _Raw:
    data = path.read_bytes()
    if not data or data.isspace():
        raise ReadError(f"{path}: the file is empty; export it again with a header row and data.")
    decoded: str | None = None
    if encoding:  # given, not detected: make sure it fits before parsing
        enc = encoding
        decoded = _decode(data, enc, path)
    else:
        enc, decoded = _detect_encoding(data, path)
    codec = enc.replace("_", "-").lower()
    if codec in ("utf-8", "utf8", "utf-8-sig"):
        payload = data[3:] if data.startswith(b"\xef\xbb\xbf") else data
        arrow_enc = "utf8"
    else:  # transcoded once here (Python's codecs are faster than pyarrow's transcoding)
        text = decoded if decoded is not None else _decode(data, enc, path)
        payload = text.lstrip("\ufeff").encode("utf-8")
        arrow_enc = "utf8"
    if b"\r" in payload and payload.count(b"\r") != payload.count(b"\r\n"):  # bare CR
        payload = payload.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    head = payload[:65_536].decode(arrow_enc, errors="ignore")
    delim = _sniff_delimiter(head, path)
    malformed: list[tuple[int, str]] = []
    frame = _csv_frame(payload, arrow_enc, head, delim, path, malformed)
    if frame.columns.size == 0:
        raise ReadError(f"{path}: no header row found; the first line must name the columns.")
    # line of each record: fast path when every record is one physical line
    n = len(frame)
    if not malformed and payload.count(b"\n") - payload.endswith(b"\n") == n:
        lines = np.arange(2, n + 2)
    else:
        lines = _record_lines(payload.decode(arrow_enc), delim, n, malformed, path)
    return _Raw(frame, lines, "csv", enc, delim, malformed=malformed)


def _decode(data: bytes, enc: str, path: Path) -> str:
    try:
        return data.decode(enc)
    except (UnicodeDecodeError, LookupError) as err:
        raise ReadError(
            f"{path}: cannot decode the file as {enc} ({err}); pass the right encoding= "
            "(e.g. 'gbk', 'utf-8-sig')."
        ) from None


def _csv_frame(
    payload: bytes,
    encoding: str,
    head: str,
    delim: str,
    path: Path,
    malformed: list[tuple[int, str]],
) -> pd.DataFrame:
    """All cells as strings; lines with the wrong number of fields are set aside."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    def on_invalid(row: Any) -> str:
        try:
            text = str(row.text)
        except UnicodeDecodeError:  # the row's bytes; the decoding error is reported below
            text = "<undecodable>"
        malformed.append((-1, text))
        return "skip"

    try:
        header = next(csv.reader(_io.StringIO(head.split("\n", 1)[0]), delimiter=delim), [])
    except csv.Error as err:
        raise ReadError(f"{path}: line 1 (the header) cannot be read ({err}).") from None
    names = [h.strip() for h in header]
    _check_header(names, path)
    # spreadsheet exports often end every data line with empty surplus fields ("a,b,c,,"):
    # read them under placeholder names and drop them when they are empty everywhere
    column_names = list(header)
    surplus = _surplus_empty_fields(head, delim, len(header))
    if surplus:
        column_names += [f"\x00surplus{i}" for i in range(surplus)]
    try:
        table = pacsv.read_csv(
            _io.BytesIO(payload),
            read_options=pacsv.ReadOptions(
                use_threads=True,
                block_size=1 << 24,
                encoding=encoding,
                column_names=column_names,
                skip_rows=1,
            ),
            parse_options=pacsv.ParseOptions(
                delimiter=delim,
                # quoted newlines are possible only where quotes are (slower parser)
                newlines_in_values=b'"' in payload,
                invalid_row_handler=on_invalid,
            ),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(column_names, pa.string()),
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except (pa.ArrowInvalid, UnicodeDecodeError) as err:
        raise ReadError(f"{path}: not a readable CSV export ({err}).") from None
    try:
        frame = table.to_pandas()
    except UnicodeDecodeError as err:
        raise ReadError(f"{path}: not readable as {encoding} ({err}); pass encoding=.") from None
    if surplus:
        extra = frame.iloc[:, len(header) :]
        if (extra.apply(lambda s: s.str.strip()) == "").all().all():
            frame = frame.iloc[:, : len(header)]
        else:
            raise ReadError(
                f"{path}: the data lines have {surplus} field(s) more than the header and some "
                "are not empty; add the missing column names to the header line."
            )
    if frame.shape[1] != len(names):
        raise ReadError(
            f"{path}: the header line cannot be split into columns consistently (quotes or "
            f"delimiters in it look damaged: {head.splitlines()[0][:80]!r}); fix the first line."
        )
    frame.columns = pd.Index(names)
    return frame


def _surplus_empty_fields(head: str, delim: str, width: int) -> int:
    """How many empty fields every sampled data line has beyond the header (0 if not so)."""
    lines = head.split("\n")[1:-1][:200]  # whole lines only
    if not lines:
        return 0
    try:
        records = [r for r in csv.reader(lines, delimiter=delim) if r]
    except csv.Error:
        return 0
    widths = {len(r) for r in records}
    if len(widths) != 1 or (w := widths.pop()) <= width:
        return 0
    if any(f.strip() for r in records for f in r[width:]):
        return 0
    return w - width


def _record_lines(
    text: str, delim: str, n: int, malformed: list[tuple[int, str]], path: Path
) -> np.ndarray:
    """Starting line of each kept record; numbers the malformed ones in ``malformed``.

    The slow path, taken only when a file has quoted newlines or malformed lines.
    """
    reader = csv.reader(_io.StringIO(text, newline=""), delimiter=delim, strict=True)
    kept: list[int] = []
    bad: list[tuple[int, str]] = []
    start = 1
    try:
        header = next(reader, [])
        width = len(header)
        start = reader.line_num + 1
        for record in reader:
            surplus_empty = len(record) > width and not any(f.strip() for f in record[width:])
            if record and len(record) != width and not surplus_empty:
                bad.append((start, delim.join(record)))
            elif record:
                kept.append(start)
            start = reader.line_num + 1
    except csv.Error as err:
        raise ReadError(
            f'{path}: line {start}: {err} — probably a quote (") that is never closed, which '
            "would swallow the lines after it; fix the quoting of that line and export again."
        ) from None
    if len(bad) == len(malformed):
        malformed[:] = bad
    lines = np.asarray(kept[:n], dtype=np.int64)
    if len(lines) < n:  # pragma: no cover - csv and pyarrow disagree; fall back to record order
        lines = np.concatenate([lines, np.arange(len(lines), n) + 2])
    return lines


def _check_header(names: list[str], path: Path) -> None:
    seen: dict[str, int] = {}
    for name in names:
        seen[name] = seen.get(name, 0) + 1
    dups = [n for n, c in seen.items() if c > 1 and n]
    if dups:
        raise SchemaError(
            f"{path}: the header names {', '.join(map(repr, dups))} more than once; rename the "
            "duplicated columns in the export so each column has one name."
        )


def _read_excel(path: Path, sheet: str | int | None) -> list[_Raw]:
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
        _check_header(list(frame.columns), path)
        # read_excel drops blank rows; the line numbers are the sheet's rows of kept records
        note = ""
        if sheet is None and len(names) > 1:
            note = (
                f"{path.name}: read only its first sheet {names[0]!r}; the workbook also has "
                f"{', '.join(map(repr, names[1:]))} (pass sheet='*' to read every sheet)."
            )
        out.append(_Raw(frame, np.arange(2, len(frame) + 2), "xlsx", sheet=str(name), note=note))
    return out


def _read_parquet(path: Path) -> _Raw:
    try:
        frame = pd.read_parquet(path)
    except Exception as err:  # pyarrow raises several types for a broken file
        raise ReadError(
            f"{path}: not a readable Parquet file ({type(err).__name__}: {err})."
        ) from None
    return _Raw(frame.reset_index(drop=True), np.arange(1, len(frame) + 1), "parquet")


def _read_xes(path: Path) -> _Raw:
    import pm4py

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            frame = pm4py.read_xes(
                str(path), return_legacy_log_object=False, show_progress_bar=False
            )
    except Exception as err:  # lxml/gzip errors of several types
        raise ReadError(f"{path}: not a readable XES log ({type(err).__name__}: {err}).") from None
    if not isinstance(frame, pd.DataFrame):  # pragma: no cover - pm4py API guard
        raise ReadError(f"{path}: pm4py did not return an event table.")
    frame = frame.reset_index(drop=True)
    mapping = {canon: src for canon, src in XES_MAPPING.items() if src in frame.columns}
    return _Raw(frame, np.arange(1, len(frame) + 1), "xes", default_mapping=mapping)


# --------------------------------------------------------------------------- mapping


def _load_mapping(mapping: Mapping[str, Any] | str | Path | None) -> dict[str, Any]:
    if mapping is None:
        return {}
    if isinstance(mapping, str | Path):
        from ._textfile import read_text
        from ._yaml import load_yaml

        p = Path(mapping)
        text = read_text(p, "mapping file")
        loaded, _ = load_yaml(text, str(p), what="mapping file", error=SchemaError, bools=False)
        if isinstance(loaded, dict) and isinstance(loaded.get("mapping"), dict):
            loaded = loaded["mapping"]
        if not isinstance(loaded, dict):
            raise SchemaError(
                f"{p}: a mapping file must hold 'canonical: source column' pairs, e.g. "
                "'case_id: Ticket No'."
            )
        mapping = loaded
    if not isinstance(mapping, Mapping):
        raise InvalidParameterError(
            "The 'mapping' parameter of read_tickets must be a dict {canonical: source column} or "
            f"a YAML file path. Got {type(mapping).__name__} instead."
        )
    known = set(REQUIRED_COLUMNS) | set(OPTIONAL_COLUMNS)
    bad = [k for k in mapping if k not in known]
    if bad:
        raise InvalidParameterError(
            f"The mapping names unknown canonical column(s) {bad}; use some of "
            f"{sorted(known)}, e.g. {{'case_id': 'Ticket No'}}."
        )
    out: dict[str, Any] = {}
    for key, value in mapping.items():
        if key == "activity" and isinstance(value, list | tuple):
            out[key] = [str(v) for v in value]
        elif isinstance(value, Mapping | list | tuple):
            raise SchemaError(
                f"The mapping gives {key!r} a {type(value).__name__}; it takes one column "
                f"name, e.g. '{key}: Ticket No'."
            )
        else:
            out[key] = str(value)
    return out


def _map_columns(
    columns: Sequence[str], explicit: Mapping[str, Any], defaults: Mapping[str, str], where: str
) -> dict[str, Any]:
    """Canonical -> source column for one file; explicit mapping wins over detection."""
    cols = [str(c) for c in columns]
    mapping: dict[str, Any] = {}
    for canon, src in explicit.items():
        srcs = src if isinstance(src, list) else [src]
        missing = [s for s in srcs if s not in cols]
        if missing:
            raise SchemaError(
                f"{where}: the mapping says {canon!r} is column {missing[0]!r}, but the file has "
                f"no such column (found: {', '.join(cols)}). Fix the mapping."
            )
        mapping[canon] = src
    used = {s for v in mapping.values() for s in (v if isinstance(v, list) else [v])}
    for canon, src in defaults.items():
        if canon not in mapping and src in cols and src not in used:
            mapping[canon] = src
            used.add(src)
    candidates: dict[str, list[str]] = {}
    for col in cols:
        if col in used:
            continue
        canon_for = canonical_for(col)
        if canon_for and canon_for not in mapping:
            candidates.setdefault(canon_for, []).append(col)
    for canon, srcs in candidates.items():
        if len(srcs) > 1:
            raise SchemaError(
                f"{where}: columns {', '.join(map(repr, srcs))} could each be {canon!r}; say which "
                f"one with mapping={{{canon!r}: {srcs[0]!r}}} (columns found: {', '.join(cols)})."
            )
        mapping[canon] = srcs[0]
    missing_req = [c for c in REQUIRED_COLUMNS if c not in mapping]
    if missing_req:
        need = ", ".join(f"{c!r}: '<column>'" for c in missing_req)
        raise SchemaError(
            f"{where}: no column found for {', '.join(map(repr, missing_req))} (columns found: "
            f"{', '.join(cols)}). Pass mapping={{{need}}}."
        )
    return mapping


# --------------------------------------------------------------------------- canonical frame


class _Drops:
    """Row accounting: counts and examples per drop reason."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}
        self.examples: dict[str, list[tuple[str, int, str]]] = {}

    def add(
        self, reason: str, files: Sequence[str], lines: Sequence[int], values: Sequence[Any]
    ) -> None:
        n = len(lines)
        if not n:
            return
        self.counts[reason] = self.counts.get(reason, 0) + n
        ex = self.examples.setdefault(reason, [])
        for f, ln, v in zip(files, lines, values, strict=False):
            if len(ex) >= _MAX_EXAMPLES:
                break
            ex.append((str(f), int(ln), "" if v is None or v is pd.NA else str(v)))

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def table(self) -> pd.DataFrame:
        order = [r for r in DROP_REASONS if r in self.counts]
        return pd.DataFrame(
            {
                "reason": order,
                "rows": [self.counts[r] for r in order],
                "description": [DROP_REASONS[r] for r in order],
                "examples": [self.examples.get(r, []) for r in order],
            }
        )


def _clean_text(s: pd.Series, na: frozenset[str]) -> pd.Series:
    """Strings stripped, with the ``na_values`` (and blank cells) as missing."""
    if not pd.api.types.is_string_dtype(s.dtype) and not pd.api.types.is_object_dtype(s.dtype):
        s = s.astype("str").where(s.notna())
    s = s.astype("str")
    arr = getattr(s.array, "_pa_array", None)
    if arr is not None:  # pyarrow-backed text: trim, blank out and rebuild in pyarrow
        import pyarrow as pa
        import pyarrow.compute as pc

        trimmed = pc.utf8_trim_whitespace(arr)
        hit = pc.is_in(trimmed, value_set=pa.array(sorted(na), type=trimmed.type))
        cleaned = pc.if_else(hit, pa.scalar(None, type=trimmed.type), trimmed)
        return pd.Series(
            cleaned.to_pandas(types_mapper={trimmed.type: s.dtype}.get), index=s.index, name=s.name
        )
    out = s.where(s.notna()).str.strip()
    return out.mask(out.isin(na))


def _canonical(
    raw: _Raw,
    file_index: int,
    label: str,
    mapping: Mapping[str, Any],
    *,
    tz: str,
    dayfirst: bool | None,
    na: frozenset[str],
    drops: _Drops,
    notes: list[str],
) -> tuple[pd.DataFrame, list[str], int]:
    """One file's rows in the canonical columns, with provenance ``_file``/``_line``.

    Also returns the time formats found and how many naive times were localised.
    """
    frame = raw.frame
    src_cols = {s for v in mapping.values() for s in (v if isinstance(v, list) else [v])}
    out: dict[str, pd.Series] = {}
    for canon, src in mapping.items():
        if canon in TIME_COLUMNS:
            continue
        if isinstance(src, list):
            parts = [_clean_text(frame[c], na) for c in src]
            joined = parts[0]
            for part in parts[1:]:
                joined = joined + "+" + part.fillna("")
            out[canon] = joined
        elif canon == "sequence":
            out[canon] = pd.to_numeric(frame[src], errors="coerce")
        else:
            out[canon] = _clean_text(frame[src], na)
    formats: list[str] = []
    localised = 0
    for canon in TIME_COLUMNS:
        if canon not in mapping:
            continue
        parsed = parse_times(
            frame[mapping[canon]], tz=tz, dayfirst=dayfirst, column=mapping[canon], where=label
        )
        out[canon] = parsed.times
        localised += parsed.localised
        formats.extend(f for f in parsed.formats if f not in formats)
        if parsed.dst_resolved:
            notes.append(
                f"{label}: {parsed.dst_resolved} naive time(s) in column {mapping[canon]!r} fell "
                f"into a daylight-saving change in {tz}; ambiguous ones were read as summer time, "
                "missing ones shifted forward."
            )
    for col in frame.columns:
        if col in src_cols or col in out:
            continue
        s = frame[col]
        out[col] = _clean_text(s, na) if raw.fmt in ("csv", "xlsx") else s
    canon_frame = pd.DataFrame(out, index=frame.index)
    canon_frame["_file"] = np.int32(file_index)
    canon_frame["_line"] = raw.lines

    # rows that cannot be events: missing id, activity or time
    keep = pd.Series(True, index=canon_frame.index)
    for reason, col, raw_col in (
        ("missing_case_id", "case_id", mapping["case_id"]),
        ("missing_activity", "activity", mapping["activity"]),
        ("unparseable_timestamp", "timestamp", mapping["timestamp"]),
    ):
        bad = canon_frame[col].isna() & keep
        if col == "timestamp" and bad.any():
            raw_ts = frame[mapping["timestamp"]]
            blank = raw_ts.isna() | raw_ts.astype("str").str.strip().isin(na)
            missing = bad & blank
            if missing.any():
                lines = canon_frame.loc[missing, "_line"].tolist()
                drops.add("missing_timestamp", [label] * len(lines), lines, [""] * len(lines))
                keep &= ~missing
                bad &= ~missing
        if bad.any():
            src = raw_col[0] if isinstance(raw_col, list) else raw_col
            values = frame.loc[bad, src].iloc[:_MAX_EXAMPLES].tolist()
            lines = canon_frame.loc[bad, "_line"].tolist()
            drops.add(
                reason, [label] * len(lines), lines, values + [""] * (len(lines) - len(values))
            )
            keep &= ~bad
    if "start_timestamp" in mapping:
        raw_start = frame[mapping["start_timestamp"]]
        lost = canon_frame["start_timestamp"].isna() & raw_start.notna() & keep
        lost &= ~_clean_text(raw_start, na).isna() if raw.fmt in ("csv", "xlsx") else lost
        if lost.any():
            notes.append(
                f"{label}: {int(lost.sum())} start time(s) in column "
                f"{mapping['start_timestamp']!r} "
                "could not be parsed; those events are kept without a start time "
                f"(e.g. line {int(canon_frame.loc[lost, '_line'].iloc[0])})."
            )
    return canon_frame[keep], formats, localised


def _dedupe(
    events: pd.DataFrame,
    case_codes: np.ndarray,
    file_names: list[str],
    drops: _Drops,
    *,
    within_files: bool,
    order: np.ndarray | None = None,
) -> tuple[np.ndarray, pd.DataFrame]:
    """Find repeated copies of events; resolve cross-file conflicts for the newer export.

    An exact copy of an event that an earlier file holds is the same event exported
    twice (overlapping monthly exports) and is always removed. Exact copies inside one
    file are removed only with ``within_files`` (the ticket system did record them twice).
    Returns the rows to keep (a boolean mask over ``events``) and the conflicts table.
    ``case_codes`` are integer codes of ``case_id``; ``order`` sorts the rows by case
    and time (:func:`sort_order`), when known.
    """
    n = len(events)
    value_cols = [c for c in events.columns if c not in ("_file", "_line")]
    key = ["case_id", "activity", "timestamp"]
    # only rows sharing (case, activity, time) with another row can be copies: find them
    # on integer keys (one sort), then compare all values on those few rows only
    shared = shared_event_keys(events, case_codes, order=order)
    keep = np.ones(n, dtype=bool)
    conflicts = pd.DataFrame(
        columns=[
            "case_id",
            "activity",
            "timestamp",
            "column",
            "kept_value",
            "kept_file",
            "dropped_value",
            "dropped_file",
            "dropped_line",
        ]
    )
    if not shared.any():
        return keep, conflicts
    candidates = events[shared]
    repeated = candidates.duplicated(subset=value_cols, keep="first").to_numpy()
    within_c = candidates.duplicated(subset=[*value_cols, "_file"], keep="first").to_numpy()
    cand_pos = np.flatnonzero(shared)
    across = cand_pos[repeated & ~within_c]
    within = cand_pos[within_c]
    for reason, rows in (("repeated_in_later_export", across), ("duplicate_event", within)):
        if reason == "duplicate_event" and not within_files:
            continue
        if len(rows):
            dup = events.iloc[rows]
            drops.add(
                reason,
                [file_names[i] for i in dup["_file"].iloc[:_MAX_EXAMPLES]],
                dup["_line"].tolist(),
                dup["case_id"].iloc[:_MAX_EXAMPLES].tolist(),
            )
            keep[rows] = False
    remaining = keep[cand_pos]
    cand = candidates[remaining]
    cand = cand[cand.duplicated(subset=key, keep=False).to_numpy()]
    if len(cand):
        n_files = cand.groupby(key, sort=False)["_file"].transform("nunique")
        cand = cand[n_files > 1]
    if len(cand):
        newest = cand.groupby(key, sort=False)["_file"].transform("max")
        older = cand[cand["_file"] != newest]
        kept = cand[cand["_file"] == newest].drop_duplicates(subset=key, keep="last")
        pairs = older.merge(kept, on=key, suffixes=("_old", "_new"))
        rows_out = []
        for col in value_cols:
            if col in key:
                continue
            a, b = pairs[f"{col}_old"], pairs[f"{col}_new"]
            differ = ~((a == b) | (a.isna() & b.isna())).astype(bool)
            if differ.any():
                sub = pairs[differ]
                rows_out.append(
                    pd.DataFrame(
                        {
                            "case_id": sub["case_id"],
                            "activity": sub["activity"],
                            "timestamp": sub["timestamp"],
                            "column": col,
                            "kept_value": sub[f"{col}_new"]
                            .astype("str")
                            .where(sub[f"{col}_new"].notna()),
                            "kept_file": [file_names[i] for i in sub["_file_new"]],
                            "dropped_value": sub[f"{col}_old"]
                            .astype("str")
                            .where(sub[f"{col}_old"].notna()),
                            "dropped_file": [file_names[i] for i in sub["_file_old"]],
                            "dropped_line": sub["_line_old"].to_numpy(),
                        }
                    )
                )
        if rows_out:
            conflicts = pd.concat(rows_out, ignore_index=True).sort_values(
                ["case_id", "timestamp", "activity", "column"], kind="stable", ignore_index=True
            )
        drops.add(
            "conflicting_duplicate",
            [file_names[i] for i in older["_file"].iloc[:_MAX_EXAMPLES]],
            older["_line"].tolist(),
            older["case_id"].iloc[:_MAX_EXAMPLES].tolist(),
        )
        keep[events.index.get_indexer(older.index)] = False
    return keep, conflicts


def _pair_lifecycle(
    events: pd.DataFrame, file_names: list[str], drops: _Drops, notes: list[str]
) -> pd.DataFrame:
    """Merge START rows into their COMPLETE rows (k-th start with k-th complete, by activity)."""
    if "lifecycle" not in events.columns:
        raise SchemaError(
            "lifecycle='pair' needs a lifecycle column (e.g. XES lifecycle:transition); map it "
            "with mapping={'lifecycle': '<column>'}."
        )
    life = events["lifecycle"].str.strip().str.casefold()
    is_start = life.isin(_LIFECYCLE_START)
    is_complete = life.isin(_LIFECYCLE_COMPLETE)
    other = ~(is_start | is_complete)
    if other.any():
        sub = events[other]
        drops.add(
            "lifecycle_other",
            [file_names[i] for i in sub["_file"].iloc[:_MAX_EXAMPLES]],
            sub["_line"].tolist(),
            sub["lifecycle"].iloc[:_MAX_EXAMPLES].tolist(),
        )
    ev = events[~other].copy()
    ev["_is_start"] = is_start[~other].to_numpy()
    ev = ev.sort_values(["case_id", "activity", "timestamp", "_file", "_line"], kind="stable")
    grp = [ev["case_id"], ev["activity"], ev["_is_start"]]
    ev["_k"] = ev.groupby(grp, sort=False).cumcount()
    starts = ev[ev["_is_start"]][["case_id", "activity", "_k", "timestamp"]].rename(
        columns={"timestamp": "_start"}
    )
    comp = ev[~ev["_is_start"]].reset_index()
    merged = comp.merge(
        starts.reset_index(), on=["case_id", "activity", "_k"], how="left", suffixes=("", "_s")
    )
    ok = merged["_start"].notna() & (merged["_start"] <= merged["timestamp"])
    start_idx = merged.loc[ok, "index_s"].astype(np.int64)
    comp_start = pd.Series(pd.NaT, index=comp["index"], dtype=events["timestamp"].dtype)
    comp_start[merged.loc[ok, "index"].to_numpy()] = merged.loc[ok, "_start"].to_numpy()
    result = events.loc[~other].copy()
    result["start_timestamp"] = pd.Series(
        pd.NaT, index=result.index, dtype=events["timestamp"].dtype
    )
    result.loc[comp_start.index, "start_timestamp"] = comp_start
    merged_rows = result.loc[start_idx.to_numpy()]
    drops.add(
        "lifecycle_start_merged",
        [file_names[i] for i in merged_rows["_file"].iloc[:_MAX_EXAMPLES]],
        merged_rows["_line"].tolist(),
        merged_rows["activity"].iloc[:_MAX_EXAMPLES].tolist(),
    )
    result = result.drop(index=start_idx.to_numpy())
    lone = result["lifecycle"].str.strip().str.casefold().isin(_LIFECYCLE_START)
    if lone.any():
        result.loc[lone, "start_timestamp"] = result.loc[lone, "timestamp"]
        notes.append(
            f"{int(lone.sum())} START row(s) had no matching COMPLETE; kept as events that "
            "started and have no recorded completion (timestamp = start time)."
        )
    n_unmatched = int((~ok).sum())
    if n_unmatched:
        notes.append(f"{n_unmatched} COMPLETE row(s) had no START; kept without a start time.")
    return result.drop(columns=["lifecycle"])


def _source_order_findings(
    events: pd.DataFrame, order: np.ndarray, case_codes: np.ndarray, file_names: list[str]
) -> pd.DataFrame:
    """Events whose time order differs from their export order (``events`` in export order).

    ``order`` lists the kept rows sorted by case and time; ``case_codes`` are the sorted
    codes of ``case_id``.
    """
    columns = ["check", "severity", "events", "cases", "description", "examples"]
    if not len(order):
        return pd.DataFrame(columns=columns)
    codes = case_codes[order]
    ts = time_i8(events["timestamp"])
    starts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]])
    block = np.cumsum(np.r_[True, codes[1:] != codes[:-1]]) - 1
    first_src = np.minimum.reduceat(order, starts)  # each case's first row in the export
    before_first = ts[order] < ts[first_src][block]
    inverted = np.r_[False, (codes[1:] == codes[:-1]) & (order[1:] < order[:-1])]
    rows = []
    for check, mask, text in (
        (
            "out_of_source_order",
            inverted,
            "events the export lists before an earlier-dated event of the same ticket (the log is "
            "ordered by time; check the export's sort order or the clock)",
        ),
        (
            "before_case_start",
            before_first,
            "events dated before the ticket's first exported event (usually its registration): "
            "clock or data-entry errors",
        ),
    ):
        pos = order[mask]
        sub = events.iloc[pos[:5]]
        examples = [
            f"{file_names[f]} line {ln}: ticket {c}"
            for f, ln, c in zip(sub["_file"], sub["_line"], sub["case_id"], strict=True)
        ]
        rows.append(
            {
                "check": check,
                "severity": "warning",
                "events": int(mask.sum()),
                "cases": int(np.unique(codes[mask]).size),
                "description": text,
                "examples": examples,
            }
        )
    return pd.DataFrame(rows, columns=columns)


def _raise_no_events(file_names: list[str], rows_read: int, drops: _Drops) -> None:
    """A load that keeps no event at all is bad input: say why, with examples."""
    where = ", ".join(file_names[:3]) + (
        f" and {len(file_names) - 3} more" if len(file_names) > 3 else ""
    )
    if rows_read == 0:
        raise ReadError(
            f"{where}: the export has a header but no data rows; export the tickets again "
            "(or check that you picked the right file or sheet)."
        )
    reasons = "; ".join(
        f"{r}: {n:,} (e.g. {drops.examples[r][0][0]} line {drops.examples[r][0][1]}: "
        f"{drops.examples[r][0][2]!r})"
        for r, n in drops.counts.items()
        if drops.examples.get(r)
    )
    if max(drops.counts, key=lambda r: drops.counts[r]) == "malformed_row":
        advice = (
            "The rows have another number of fields than the header: check the delimiter, "
            "and trailing separators at the ends of the lines."
        )
    else:
        advice = (
            "Check the column mapping and the time format (pass mapping= or dayfirst=), or "
            "the export itself."
        )
    raise ReadError(
        f"{where}: none of the {rows_read:,} rows is a usable event — {reasons}. {advice}"
    )


# --------------------------------------------------------------------------- entry point


def read_tickets(
    source: str | Path | Sequence[str | Path],
    *,
    mapping: Mapping[str, Any] | str | Path | None = None,
    timezone: str | None = None,
    dayfirst: bool | None = None,
    encoding: str | None = None,
    sheet: str | int | None = None,
    na_values: Iterable[str] = DEFAULT_NA_VALUES,
    dedupe: bool | Literal["all", "exports"] = True,
    lifecycle: Literal["keep", "pair"] = "keep",
    strict: bool = False,
    engine: Literal["pandas", "dask"] = "pandas",
    progress: bool | None = None,
) -> TicketLog:
    """Read ticket exports into one canonical, validated event log.

    Parameters
    ----------
    source : path, folder, glob or list of them
        Exports: CSV/TSV/TXT, XLSX, Parquet, XES or XES.gz. A folder means the export
        files directly in it (sorted by name: name monthly exports so that they sort
        in time, e.g. ``工单导出_2024-10.csv``), not its subfolders.
    mapping : dict or YAML path, optional
        Canonical column -> source column, e.g. ``{"case_id": "Ticket No",
        "activity": "Status", "timestamp": "Updated", "department": "Team"}``; wins
        over header detection (see :data:`svcmining.HEADER_SYNONYMS`). ``activity``
        may be a list of columns, joined with ``+`` (e.g. XES name + lifecycle).
    timezone : str, optional
        IANA zone for naive times (e.g. ``"Asia/Shanghai"``); all times are converted
        to it. Default: UTC, with a :class:`DataQualityWarning` when naive times occur.
    dayfirst : bool, optional
        Day/month order for ``03/10/2024``; only needed when the data does not prove it.
    encoding : str, optional
        Text encoding of CSV files; detected (UTF-8, UTF-8-BOM, GBK/GB18030) when omitted.
    sheet : str, int or ``"*"``, optional
        Excel sheet name or index; ``"*"`` reads all sheets; default the first sheet.
    na_values : iterable of str
        Cell texts that mean missing (default :data:`DEFAULT_NA_VALUES`; pass
        ``[*DEFAULT_NA_VALUES, "?"]`` to extend).
    dedupe : bool, "all" or "exports"
        ``True`` (same as ``"all"``): every exact copy of an event is kept once — events
        repeated by overlapping monthly exports and double writes inside one file (same
        ticket, activity, time and every other value) — and copies that a newer export
        changed are resolved in its favour (listed in ``report.conflicts``).
        ``"exports"``: only copies across exports are removed; copies inside one file are
        kept (:func:`check_quality` reports them). ``False``: keep every row.
    lifecycle : {"keep", "pair"}
        ``"pair"`` merges START and COMPLETE rows of one activity instance into one
        event with ``start_timestamp`` (other transitions are dropped, counted).
    strict : bool
        Raise :class:`StrictModeError` instead of dropping any row (events repeated by
        an overlapping later export are the same event and do not count as dropped).
    engine : {'pandas', 'dask'}
        ``'dask'`` returns a :class:`svcmining.distributed.DaskTicketLog` (same events and
        report, partitioned by case) for the functions of :mod:`svcmining.distributed`.
    progress : bool, optional
        Show a bar per export file on stderr when reading takes over 2 s; default only
        when stderr is a terminal.

    Returns
    -------
    TicketLog
        ``.events`` (canonical DataFrame), ``.report`` (:class:`LoadReport`), ``.mapping``.

    Raises
    ------
    ReadError
        A file is missing, empty, unreadable or undecodable.
    SchemaError
        Required columns are missing or ambiguous; the message lists the columns found
        and the mapping to pass.

    Examples
    --------
    >>> import svcmining as svc
    >>> log = svc.read_tickets("sample_logs/", timezone="Asia/Shanghai")  # doctest: +SKIP
    >>> print(log.report)                                                  # doctest: +SKIP
    """
    if engine == "dask":  # same loader, then partitioned by case (svcmining.distributed)
        from .distributed import as_dask_log

        pandas_log = read_tickets(
            source,
            mapping=mapping,
            timezone=timezone,
            dayfirst=dayfirst,
            encoding=encoding,
            sheet=sheet,
            na_values=na_values,
            dedupe=dedupe,
            lifecycle=lifecycle,
            strict=strict,
            progress=progress,
        )
        return as_dask_log(pandas_log)  # type: ignore[return-value]
    if engine != "pandas":
        raise InvalidParameterError(
            "The 'engine' parameter of read_tickets must be one of {'pandas', 'dask'}. "
            f"Got {engine!r} instead."
        )
    if dedupe not in (True, False, "all", "exports"):
        raise InvalidParameterError(
            "The 'dedupe' parameter of read_tickets must be one of "
            "{True, False, 'all', 'exports'}. "
            f"Got {dedupe!r} instead."
        )
    if lifecycle not in ("keep", "pair"):
        raise InvalidParameterError(
            "The 'lifecycle' parameter of read_tickets must be one of {'keep', 'pair'}. "
            f"Got {lifecycle!r} instead."
        )
    if timezone is not None:
        try:
            pd.Timestamp("2024-01-01").tz_localize(timezone)
        except Exception:
            raise InvalidParameterError(
                f"The 'timezone' parameter of read_tickets must be an IANA time zone such as "
                f"'Asia/Shanghai' or 'UTC'. Got {timezone!r} instead."
            ) from None
    tz = timezone or "UTC"
    na = frozenset(str(v) for v in na_values) | {""}
    explicit = _load_mapping(mapping)
    paths = _resolve_sources(source)
    drops = _Drops()
    notes: list[str] = []
    frames: list[pd.DataFrame] = []
    file_rows: list[dict[str, Any]] = []
    file_names: list[str] = []
    mappings: dict[str, dict[str, Any]] = {}
    naive_total = 0
    rows_read = 0
    from ._progress import progress_bar

    bar = progress_bar(len(paths), desc="reading", unit="file", enabled=progress)
    # CSV exports are read two at a time: pyarrow parses one while Python decodes the
    # next (decoding a GBK export holds the interpreter); results are used in order
    csv_at = [i for i, p in enumerate(paths) if _suffix(p) in (".csv", ".tsv", ".txt")]
    reading: dict[int, Any] = {}
    pool = None
    if len(csv_at) > 1:
        from concurrent.futures import ThreadPoolExecutor

        pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="svcmining-read")
        reading = {i: pool.submit(_read_csv, paths[i], encoding) for i in csv_at}
    try:
        for at, path in enumerate(paths):
            if bar is not None:
                bar.update(at - bar.n)  # files done so far
            suffix = _suffix(path)
            if suffix in (".csv", ".tsv", ".txt"):
                raws = [reading[at].result() if at in reading else _read_csv(path, encoding)]
            elif suffix in (".xlsx", ".xlsm"):
                raws = _read_excel(path, sheet)
            elif suffix == ".parquet":
                raws = [_read_parquet(path)]
            elif suffix in (".xes", ".xes.gz"):
                raws = [_read_xes(path)]
            else:
                raise ReadError(
                    f"{path}: unsupported file type {suffix!r}; svcmining reads "
                    f"{', '.join(EXPORT_SUFFIXES)}."
                )
            for raw in raws:
                label = path.name if not raw.sheet else f"{path.name}[{raw.sheet}]"
                if label in file_names:
                    label = str(path)
                idx = len(file_names)
                file_names.append(label)
                if raw.note:
                    notes.append(raw.note)
                    warnings.warn(raw.note, DataQualityWarning, stacklevel=2)
                n_rows = len(raw.frame) + len(raw.malformed)
                rows_read += n_rows
                if raw.malformed:
                    drops.add(
                        "malformed_row",
                        [label] * len(raw.malformed),
                        [ln for ln, _ in raw.malformed],
                        [t for _, t in raw.malformed],
                    )
                col_map = _map_columns(
                    list(raw.frame.columns), explicit, raw.default_mapping, label
                )
                mappings[label] = col_map
                canon, formats, localised = _canonical(
                    raw,
                    idx,
                    label,
                    col_map,
                    tz=tz,
                    dayfirst=dayfirst,
                    na=na,
                    drops=drops,
                    notes=notes,
                )
                naive_total += localised
                frames.append(canon)
                file_rows.append(
                    {
                        "file": label,
                        "format": raw.fmt,
                        "encoding": raw.encoding,
                        "delimiter": raw.delimiter,
                        "sheet": raw.sheet,
                        "rows_read": n_rows,
                        "time_formats": ", ".join(formats),
                    }
                )
    finally:
        if bar is not None:
            bar.update(len(paths) - bar.n)
            bar.close()
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
    if timezone is None and naive_total:
        msg = (
            f"{naive_total:,} time(s) had no UTC offset and were read as UTC; pass "
            "timezone='Asia/Shanghai' (or your zone) so business hours and SLAs are right."
        )
        notes.append(msg)
        warnings.warn(msg, DataQualityWarning, stacklevel=2)
    events = pd.concat(frames, ignore_index=True, sort=False) if frames else pd.DataFrame()
    for col in TEXT_COLUMNS:
        if col in events.columns:
            events[col] = events[col].astype("str").where(events[col].notna())
    conflicts = pd.DataFrame()
    events = events.reset_index(drop=True)
    case_codes = pd.factorize(events["case_id"], sort=True)[0] if len(events) else np.zeros(0, int)
    keep = np.ones(len(events), dtype=bool)
    # one sort by case and time: finds the candidate copies and orders the log
    order = sort_order(events, case_codes=case_codes)
    if dedupe and len(events):
        within = dedupe is True or dedupe == "all"
        keep, conflicts = _dedupe(
            events, case_codes, file_names, drops, within_files=within, order=order
        )
    if lifecycle == "pair" and len(events):
        events = _pair_lifecycle(events[keep], file_names, drops, notes).reset_index(drop=True)
        case_codes = pd.factorize(events["case_id"], sort=True)[0]
        keep = np.ones(len(events), dtype=bool)
        order = sort_order(events, case_codes=case_codes)
    if strict:
        strict_drops = drops.total - drops.counts.get("repeated_in_later_export", 0)
        if strict_drops:
            detail = "; ".join(
                f"{r}: {n} (e.g. {drops.examples[r][0][0]} line {drops.examples[r][0][1]})"
                for r, n in drops.counts.items()
                if drops.examples.get(r)
            )
            raise StrictModeError(
                f"strict=True and {strict_drops:,} row(s) would be dropped — {detail}. Fix the "
                "export, or load with strict=False and read log.report."
            )
    if not keep.any():
        _raise_no_events(file_names, rows_read, drops)
    order = order[keep[order]]  # the sort is stable: dropping rows keeps it sorted
    findings = _source_order_findings(events, order, case_codes, file_names)
    events = events.take(order)
    ordered = [c for c in (*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS) if c in events.columns]
    rest = [c for c in events.columns if c not in ordered and c not in ("_file", "_line")]
    events = events[ordered + rest].reset_index(drop=True)
    if "timestamp" not in events.columns:
        events = pd.DataFrame(
            {
                "case_id": pd.Series(dtype="str"),
                "activity": pd.Series(dtype="str"),
                "timestamp": pd.Series(dtype=f"datetime64[ns, {tz}]"),
            }
        )
    report = LoadReport(
        files=pd.DataFrame(file_rows),
        rows_read=rows_read,
        rows_kept=len(events),
        rows_dropped=drops.total,
        dropped=drops.table(),
        conflicts=conflicts.reset_index(drop=True),
        timezone=tz,
        mapping=mappings,
        notes=tuple(notes),
        findings=findings,
    )
    if report.rows_read != report.rows_kept + report.rows_dropped:  # pragma: no cover - invariant
        raise AssertionError(
            f"row accounting broken: read {report.rows_read}, kept {report.rows_kept}, "
            f"dropped {report.rows_dropped}"
        )
    first_map = next(iter(mappings.values()), {})
    log = TicketLog(events=events, report=report, mapping=dict(first_map))
    seed_case_codes(log.events, case_codes[order])  # the sort's case codes, rows kept
    return log
