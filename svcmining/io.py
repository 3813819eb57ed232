"""Read ticket-system exports into one trustworthy event log.

:func:`read_tickets` reads CSV/TSV, Excel (.xlsx, .xlsm, .xls), OpenDocument (.ods),
Parquet and XES (.xes, .xes.gz) exports — a file, a list of files, a folder (the export
files directly in it, not its subfolders) or a glob — maps their columns to the canonical contract
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
``repeated_in_later_export`` an event that a newer export holds too, with every value
                            equal (overlapping monthly exports): kept once, as the
                            newer export has it
``duplicate_event``         an exact copy of an event inside the same file (a double
                            write): same ticket, activity, time and every other value
``conflicting_duplicate``   the same event as one in a *newer* export (see
                            :func:`_match_exports`: same ticket and activity, time equal
                            at the coarser precision of the two, or a time the newer
                            export corrected), with other values: the newer export's
                            copy is kept; each changed value is in ``report.conflicts``
``lifecycle_start_merged``  with ``lifecycle="pair"``: a START row merged into its
                            COMPLETE row (as ``start_timestamp``)
``lifecycle_other``         with ``lifecycle="pair"``: a lifecycle transition other
                            than start/complete (e.g. schedule)
``status_repeat_merged``    a state log (an audit export: the activity column holds
                            the ticket's state): a row repeating the state of the row
                            before it, merged into the first row of that stay

Exports of ticket systems
-------------------------
*Lifecycle data* (XES ``lifecycle:transition`` start/complete, BPIC 2012 style) is
paired by default too (``lifecycle="auto"``, counted as above): when the lifecycle
column holds only XES transitions (start, complete, schedule, suspend ...) and both
start and complete occur,
each COMPLETE of an activity in a ticket closes the oldest START of that activity still
open before it (in time order) and the two become one event with ``start_timestamp``; a
COMPLETE with no open START, or a START never completed, stays alone (noted); an event
without a transition counts as a COMPLETE (the XES default). The other
transitions (SCHEDULE: when the item was offered, not worked) are dropped, counted. A
lifecycle column that holds statuses (BPIC 2013: In Progress, Closed) is kept as it is.

*State logs* (audit exports of ServiceNow, Jira, Zendesk ...: one row per update of any
field, with the ticket's state at that moment) are told from *step logs* (one row per
piece of work) by this rule: a state log when the export has an
update-counter column (``sys_mod_count``, ``mod_count``, ``update_count``), or when at
least 80% of the events carry a state label — a non-working state of
:class:`svcmining.TicketStates` (waiting, resolved, closed, reopen) or a common working
status (:data:`WORKING_STATUSES`: New, Open, Active, In Progress, 处理中 ...) — and both
a working status and a non-working state occur. In a state log, consecutive rows of
one ticket with the same state (and lifecycle status) and the same owner (department
and resource) are one stay in that state: they are merged into one event at the time of
the first row, carrying the values of the last row of the stay for every other column
(the latest snapshot of the ticket's fields); ``start_timestamp`` and the line number
are the first row's. A row that reassigns the ticket (another department or resource)
is a handoff and stays its own event; the analyses read a state repeated across such
rows as one continued stay, not as repeated work. A state left and
entered again (Active, Resolved, Active) stays two stays. ``state_log=False`` keeps
every row, ``state_log=True`` treats any export as a state log.
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

from ._excel import WORKBOOK_SUFFIXES, read_workbook
from ._synonyms import EXACT, XES_MAPPING, match_header, normalise_header
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
from .states import CLOSED, REOPEN, RESOLVED, WAITING, TicketStates, normalise_label

__all__ = [
    "DEFAULT_NA_VALUES",
    "EXPORT_SUFFIXES",
    "UPDATE_COUNTER_HEADERS",
    "WORKING_STATUSES",
    "LoadReport",
    "read_tickets",
]

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
    ".xls",
    ".ods",
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
    "repeated_in_later_export": "the same event, unchanged, in a newer export",
    "duplicate_event": "exact copy of an event in the same file (double write)",
    "conflicting_duplicate": "older copy of an event that a newer export changed (see conflicts)",
    "lifecycle_start_merged": "START row merged into its COMPLETE row",
    "lifecycle_other": "lifecycle transition other than start/complete",
    "status_repeat_merged": "state-log row repeating its ticket's state, merged into the stay",
}
#: Working statuses of ticket systems, the evidence (besides the non-working states of
#: :class:`svcmining.TicketStates`) that an activity column holds states, not steps.
WORKING_STATUSES: tuple[str, ...] = (
    "New",
    "Open",
    "Opened",
    "Active",
    "In Progress",
    "Work in Progress",
    "Assigned",
    "Waiting for support",
    "To Do",
    "Triage",
    "待处理",
    "处理中",
    "已受理",
    "新建",
    "已分配",
    "进行中",
)
#: Headers of update counters: an export that has one writes a row per update (a state log).
UPDATE_COUNTER_HEADERS: tuple[str, ...] = (
    "sys_mod_count",
    "mod_count",
    "modcount",
    "update_count",
    "updates",
    "修改次数",
    "更新次数",
)
# XES lifecycle transitions (standard extension), casefolded
_XES_TRANSITIONS = frozenset(
    {
        "schedule",
        "assign",
        "reassign",
        "start",
        "suspend",
        "resume",
        "complete",
        "autoskip",
        "manualskip",
        "withdraw",
        "ate_abort",
        "pi_abort",
        "unknown",
    }
)
_MAX_EXAMPLES = 5
_BATCH_FILE_ROWS = 10_000  # CSV files up to this size are read in batches of one header
_BATCH_ROWS = 1_000_000
_LIFECYCLE_START = ("start", "started", "开始")
_LIFECYCLE_COMPLETE = ("complete", "completed", "end", "完成", "结束")
_FRAME_SOURCE = "<DataFrame>"


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
        Everything else the load decided that a user should know (mapped optional
        columns, merged status repeats, paired lifecycle rows ...).
    findings : DataFrame
        Quality findings only the load can see (they need the source order); merged
        into :func:`svcmining.check_quality`'s table.
    naive_as_utc : int
        Times without a UTC offset that were read as UTC because no zone was given
        (``timezone=`` or an SOP calendar); 0 when a zone was given.
    state_log : bool
        The export was read as a state log (status repeats merged).
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
    naive_as_utc: int = 0
    state_log: bool = False

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
            "naive_as_utc": self.naive_as_utc,
            "state_log": self.state_log,
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

    def __repr__(self) -> str:
        reasons = ", ".join(f"{r} {n:,}" for r, n in list(self.dropped_by_reason().items())[:4])
        if len(self.dropped) > 4:
            reasons += f", … ({len(self.dropped) - 4} more)"
        return (
            f"LoadReport({len(self.files)} file(s), {self.rows_read:,} rows read, "
            f"{self.rows_kept:,} kept, {self.rows_dropped:,} dropped"
            + (f" ({reasons})" if reasons else "")
            + f", {len(self.conflicts):,} conflicts, {len(self.notes)} notes, {self.timezone})"
        )

    def _repr_html_(self) -> str:
        lines = self.to_text().splitlines()
        body = "".join(f"<li>{html.escape(line.strip())}</li>" for line in lines[:25])
        if len(lines) > 25:
            body += f"<li>… {len(lines) - 25:,} more lines (print the report for all)</li>"
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
    # a small CSV's records, turned into ``frame`` together with its batch (see read_tickets)
    records: list[list[str]] | None = None

    @property
    def n_rows(self) -> int:
        return len(self.frame) if self.records is None else len(self.records)


def _records_frame(names: list[str], records: list[list[str]]) -> pd.DataFrame:
    """Records of equal width as a frame of strings with the columns ``names``."""
    cells = np.empty((len(records), len(names)), dtype=object)
    if records:
        cells[:] = records
    frame = pd.DataFrame(
        {i: pd.array(cells[:, i], dtype="str") for i in range(len(names))},
        index=pd.RangeIndex(len(records)),
    )
    frame.columns = pd.Index(names)
    return frame


def _detect_encoding(data: bytes, path: Path) -> tuple[str, str | None]:
    """The file's encoding, and its text when finding out meant decoding it (GB18030)."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16", None
    try:
        data.decode("utf-8")
        return ("utf-8-sig" if data.startswith(b"\xef\xbb\xbf") else "utf-8"), None
    except UnicodeDecodeError as err:
        _refuse_broken_utf8(data, path, err)
        _refuse_mixed_encodings(data, path, err)
        first_bad = err.start
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
    line = data[:first_bad].count(b"\n") + 1
    raise ReadError(
        f"{path}: cannot tell the text encoding (not UTF-8, UTF-8 with BOM or GBK/GB18030; "
        f"the first byte that is not UTF-8 is on line {line}, byte offset {first_bad}); "
        "save the export as UTF-8, or pass encoding='...' to read_tickets."
    )


def _refuse_mixed_encodings(data: bytes, path: Path, err: UnicodeDecodeError) -> None:
    """UTF-8 text up to some line and GBK after it (two exports pasted together): say where.

    Decoding the whole file as GB18030 would turn the UTF-8 part into mojibake.
    """
    start = data.rfind(b"\n", 0, err.start) + 1  # the line where UTF-8 stops
    head = data[:start].decode("utf-8", errors="replace")
    if sum(ord(ch) > 127 for ch in head) < 10:  # too little UTF-8 evidence before it
        return
    try:
        data[start:].decode("gb18030")
    except UnicodeDecodeError:
        return
    line = data[:start].count(b"\n") + 1
    raise ReadError(
        f"{path}: the file is UTF-8 up to line {line - 1} and GBK/GB18030 from line {line} "
        f"(byte offset {err.start}) on — two encodings in one file, e.g. exports pasted "
        f"together; convert lines {line}- to UTF-8 (or export the whole file again as UTF-8)."
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
    lines = text.splitlines()[:20]
    if lines:  # one candidate in the header and at least as many in every line: no doubt
        found = [d for d in ",;\t|" if d in lines[0]]
        if len(found) == 1 and all(ln.count(found[0]) >= lines[0].count(found[0]) for ln in lines):
            return found[0]
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
    # bare CR line ends are read as they are (pyarrow and csv both end a line at \r):
    # rewriting them would also rewrite the CRLF quoted inside remarks
    bare_cr = b"\r" in payload and payload.count(b"\r") != payload.count(b"\r\n")
    # the head for sniffing: the whole header line (a 4,000-column export's header is
    # longer than 64 kB) and about 64 kB of data lines after it
    header_end = max(payload.find(b"\n"), payload.find(b"\r") if bare_cr else -1)
    head = payload[: max(header_end, 0) + 65_536].decode(arrow_enc, errors="ignore")
    if bare_cr:
        head = head.replace("\r\n", "\n").replace("\r", "\n")
    delim = _sniff_delimiter(head, path)
    malformed: list[tuple[int, str]] = []
    if len(payload) <= _SMALL_CSV:  # the csv module, without pyarrow's per-call set-up
        names, records, lines = _small_csv_records(
            payload.decode(arrow_enc), delim, path, malformed
        )
        frame = pd.DataFrame(columns=pd.Index(names))  # no rows: they stay in records
        return _Raw(frame, lines, "csv", enc, delim, malformed=malformed, records=records)
    frame = _csv_frame(payload, arrow_enc, head, delim, path, malformed)
    if frame.columns.size == 0:
        raise ReadError(f"{path}: no header row found; the first line must name the columns.")
    # line of each record: fast path when every record is one physical line
    n = len(frame)
    if not malformed and not bare_cr and payload.count(b"\n") - payload.endswith(b"\n") == n:
        lines = np.arange(2, n + 2)
    else:
        surplus = _surplus_empty_fields(head, delim, frame.shape[1])
        lines = _record_lines(payload.decode(arrow_enc), delim, n, malformed, path, surplus)
    return _Raw(frame, lines, "csv", enc, delim, malformed=malformed)


_SMALL_CSV = 1 << 16  # bytes: smaller CSV files are parsed with the csv module


def _small_csv_records(
    text: str, delim: str, path: Path, malformed: list[tuple[int, str]]
) -> tuple[list[str], list[list[str]], np.ndarray]:
    """A small CSV's header, records and each record's line (the rules of pyarrow's path).

    Records with another number of fields than the header go to ``malformed`` (with
    their line); when every sampled line ends in the same empty surplus fields
    (``a,b,c,,``), those are cut instead.
    """
    text = text.lstrip("\ufeff")
    reader = csv.reader(_io.StringIO(text, newline=""), delimiter=delim, strict=True)
    records: list[list[str]] = []
    lines: list[int] = []
    start = 1
    try:
        header = next(reader, [])
        names = [h.strip() for h in header]
        _check_header(names, path)
        width = len(header)
        # as pyarrow's path: every line may end in the same number of surplus empty fields
        surplus = _surplus_empty_fields(text, delim, width)
        start = reader.line_num + 1
        for record in reader:
            if record:
                if len(record) == width + surplus:
                    if surplus and any(f.strip() for f in record[width:]):
                        raise ReadError(
                            f"{path}: the data lines have {surplus} field(s) more than the "
                            "header and some are not empty; add the missing column names to "
                            "the header line."
                        )
                    records.append(record[:width])
                    lines.append(start)
                else:
                    malformed.append((start, delim.join(record)))
            start = reader.line_num + 1
    except csv.Error as err:
        raise ReadError(
            f'{path}: line {start}: {err} — probably a quote (") that is never closed, which '
            "would swallow the lines after it; fix the quoting of that line and export again."
        ) from None
    if not names or names == [""]:
        raise ReadError(f"{path}: no header row found; the first line must name the columns.")
    return names, records, np.asarray(lines, dtype=np.int64)


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

    def read(block_size: int) -> pa.Table:
        return pacsv.read_csv(
            _io.BytesIO(payload),
            read_options=pacsv.ReadOptions(
                use_threads=True,
                block_size=block_size,
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

    try:
        try:
            table = read(1 << 24)
        except pa.ArrowInvalid as err:
            # a record (a huge cell or header) longer than the 16 MB block: read in one block
            if "straddling" not in str(err) or len(payload) < 1 << 24:
                raise
            malformed.clear()
            table = read(min(len(payload) + 1, (1 << 31) - 1))
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
    text: str,
    delim: str,
    n: int,
    malformed: list[tuple[int, str]],
    path: Path,
    surplus: int = 0,
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
            # the width pyarrow read: the header's, or that plus the empty surplus fields
            if record and len(record) != width + surplus:
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
    out = []
    for read in read_workbook(path, sheet):  # python-calamine (see svcmining._excel)
        _check_header(list(read.frame.columns), path)
        out.append(_Raw(read.frame, read.lines, read.fmt, sheet=read.name, note=read.note))
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
    notes: list[str] = []
    frame = _flatten_nested_attributes(frame, path, notes)
    frame = _add_containers(frame, path, notes)
    mapping = {canon: src for canon, src in XES_MAPPING.items() if src in frame.columns}
    return _Raw(
        frame, np.arange(1, len(frame) + 1), "xes", default_mapping=mapping, note=" ".join(notes)
    )


def _flat_children(prefix: str, children: Any, out: dict[str, Any]) -> None:
    """``{prefix:key: value}`` for the children of a nested XES attribute (depth first)."""
    items = children.items() if isinstance(children, dict) else children or ()
    for item in items:
        if not (isinstance(item, tuple | list) and len(item) == 2):
            continue
        key, value = item
        name = f"{prefix}:{key}"
        if isinstance(value, dict) and "children" in value:
            _put(out, name, value.get("value"))
            _flat_children(name, value["children"], out)
        else:
            _put(out, name, value)


def _put(out: dict[str, Any], name: str, value: Any) -> None:
    """Set a flattened attribute; a key repeated in a list joins its values with '; '."""
    if value is None:
        return
    out[name] = f"{out[name]}; {value}" if name in out else value


def _flatten_nested_attributes(frame: pd.DataFrame, path: Path, notes: list[str]) -> pd.DataFrame:
    """Nested XES attributes (pm4py gives ``{'value': ..., 'children': ...}``) as columns.

    The attribute keeps its own value; each child becomes a column ``parent:child``
    (``org:resource:org:role``), lists likewise (``list key:item key``).
    """
    added: list[str] = []
    for col in list(frame.columns):
        s = frame[col]
        if s.dtype != object:
            continue
        nested = s.map(lambda v: isinstance(v, dict) and "children" in v).astype(bool)
        if not nested.any():
            continue
        frame = frame.copy() if not added else frame
        inner = s[nested]
        frame[col] = s.where(~nested, inner.map(lambda v: v.get("value")))
        records = []
        for v in inner:
            flat: dict[str, Any] = {}
            _flat_children(str(col), v["children"], flat)
            records.append(flat)
        children = pd.DataFrame.from_records(records, index=inner.index)
        added += _add_columns(frame, children)
    if added:
        notes.append(
            f"{path.name}: nested XES attributes keep their own value; their children are read "
            f"as columns {_names(added)}."
        )
    return frame


def _add_columns(frame: pd.DataFrame, extra: pd.DataFrame) -> list[str]:
    """Add ``extra``'s columns to ``frame`` (aligned on its index) under free names."""
    added: list[str] = []
    for col in extra.columns:
        name = str(col)
        while name in frame.columns:
            name += "'"
        frame[name] = extra[col].reindex(frame.index)
        added.append(name)
    return added


def _names(added: list[str]) -> str:
    """The first five names, and how many more."""
    more = f" and {len(added) - 5} more" if len(added) > 5 else ""
    return ", ".join(map(repr, added[:5])) + more


def _add_containers(frame: pd.DataFrame, path: Path, notes: list[str]) -> pd.DataFrame:
    """Event ``<container>`` attributes (pm4py skips them) as columns ``container:child``."""
    import gzip

    opener = gzip.open if _suffix(path) == ".xes.gz" else open
    try:
        with opener(path, "rb") as fh:
            if b"<container" not in fh.read():
                return frame
    except OSError:  # pragma: no cover - pm4py read it a moment ago
        return frame
    from lxml import etree

    def local(tag: Any) -> str:
        return str(tag).rsplit("}", 1)[-1]

    def walk(elem: Any, prefix: str, out: dict[str, Any]) -> None:
        for child in elem:
            key = child.get("key")
            if key is None:  # <values> of a list
                walk(child, prefix, out)
                continue
            name = f"{prefix}:{key}"
            _put(out, name, child.get("value"))
            walk(child, name, out)

    rows: list[dict[str, Any]] = []
    names: list[Any] = []
    other = 0
    with opener(path, "rb") as fh:
        for _, elem in etree.iterparse(fh, events=("end",)):
            tag = local(elem.tag)
            if tag == "container" and local(elem.getparent().tag) != "event":
                other += elem.getparent() is not None and local(elem.getparent().tag) != "container"
            if tag != "event":
                continue
            flat: dict[str, Any] = {}
            for attr in elem:
                if local(attr.tag) == "container" and attr.get("key") is not None:
                    walk(attr, attr.get("key"), flat)
                if attr.get("key") == "concept:name":
                    names.append(attr.get("value"))
            if len(names) < len(rows) + 1:
                names.append(None)
            rows.append(flat)
            elem.clear()
    if other:
        notes.append(
            f"{path.name}: {other} <container> attribute(s) of traces or the log are not read "
            "(only event containers become columns)."
        )
    same_order = len(rows) == len(frame) and (
        "concept:name" not in frame.columns
        or all(
            (a is None and pd.isna(b)) or a == b
            for a, b in zip(names, frame["concept:name"], strict=True)
        )
    )
    if not same_order:
        notes.append(
            f"{path.name}: event <container> attributes could not be matched to the events read "
            "and are not read; export them as plain attributes."
        )
        return frame
    found = pd.DataFrame.from_records(rows, index=frame.index)
    if found.empty:
        return frame
    frame = frame.copy()
    added = _add_columns(frame, found)
    notes.append(f"{path.name}: XES <container> attributes are read as columns {_names(added)}.")
    return frame


def _read_frame(frame: pd.DataFrame) -> _Raw:
    """A DataFrame given to :func:`read_tickets`, read as an export (never modified).

    Its rows are numbered by position from 1 (as XES events are).
    """
    names = [str(c).strip() for c in frame.columns]
    _check_header(names, Path(_FRAME_SOURCE))
    out = frame.set_axis(names, axis=1).reset_index(drop=True)
    return _Raw(out, np.arange(1, len(out) + 1), "dataframe")


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


class _ColumnMap(dict[str, Any]):
    """Canonical -> source column of one file, and what detection decided by itself.

    ``decisions`` are sentences without the file name; :func:`read_tickets` puts them
    in the load report once per group of files that share them.
    """

    decisions: tuple[str, ...] = ()


def _map_columns(
    columns: Sequence[str], explicit: Mapping[str, Any], defaults: Mapping[str, str], where: str
) -> _ColumnMap:
    """Canonical -> source column for one file; explicit mapping wins over detection.

    Detection takes, per canonical column, the best-matching header (:func:`match_header`:
    the exact canonical name, then a synonym, then a fallback name). Two equally good
    headers for a *required* column are an error; for an optional column the one listed
    first in the synonym table (then the leftmost) is taken, and the load report says so.
    """
    cols = [str(c) for c in columns]
    mapping = _ColumnMap()
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
    candidates: dict[str, list[tuple[int, int, int, str]]] = {}
    for pos, col in enumerate(cols):
        if col in used:
            continue
        hit = match_header(col)
        if hit and hit[0] not in mapping:
            candidates.setdefault(hit[0], []).append((hit[1], hit[2], pos, col))
    decisions: list[str] = []
    for canon, found in candidates.items():
        found.sort()
        best_tier = found[0][0]
        top = [f[3] for f in found if f[0] == best_tier]
        if len(top) > 1 and canon in REQUIRED_COLUMNS:
            raise SchemaError(
                f"{where}: columns {', '.join(map(repr, top))} could each be {canon!r}; say which "
                f"one with mapping={{{canon!r}: {top[0]!r}}} (columns found: {', '.join(cols)})."
            )
        chosen = top[0]
        mapping[canon] = chosen
        others = [f[3] for f in found[1:]]
        if others:
            why = (
                "its exact name"
                if best_tier == EXACT
                else "the first of equally good names"
                if len(top) > 1
                else "a better-known name"
            )
            decisions.append(
                f"column {chosen!r} read as {canon!r} ({why}); other candidate(s) "
                f"{', '.join(map(repr, others))} kept as their own column(s) (pass "
                f"mapping={{{canon!r}: '<column>'}} to choose)."
            )
    missing_req = [c for c in REQUIRED_COLUMNS if c not in mapping]
    if missing_req:
        need = ", ".join(f"{c!r}: '<column>'" for c in missing_req)
        raise SchemaError(
            f"{where}: no column found for {', '.join(map(repr, missing_req))} (columns found: "
            f"{', '.join(cols)}). Pass mapping={{{need}}}."
        )
    auto = [
        f"{canon} <- {mapping[canon]!r}"
        for canon in OPTIONAL_COLUMNS
        if canon in mapping and canon not in explicit
    ]
    if auto:
        decisions.append(
            "optional columns mapped from the headers: "
            + ", ".join(auto)
            + " (pass mapping= to map them otherwise)."
        )
    mapping.decisions = tuple(decisions)
    return mapping


def _mapping_notes(mappings: Mapping[str, Any]) -> list[str]:
    """The mapping decisions of every file, each said once with the files it concerns."""
    files_of: dict[str, list[str]] = {}
    for label, col_map in mappings.items():
        for text in getattr(col_map, "decisions", ()):
            files = files_of.setdefault(text, [])
            if label not in files:
                files.append(label)
    out = []
    for text, files in files_of.items():
        where = ", ".join(files[:3]) + (f" and {len(files) - 3} more" if len(files) > 3 else "")
        out.append(f"{where}: {text}")
    return out


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


_INTERNAL = ("_file", "_line")  # provenance columns of the loader (dropped at the end)


def _float_ids(s: pd.Series) -> pd.Series:
    """Ticket ids a container stored as floats (Parquet int64 with a null) as integers."""
    if not pd.api.types.is_float_dtype(s.dtype):
        return s
    vals = s.dropna().to_numpy(dtype="float64")
    whole = len(vals) and np.isfinite(vals).all() and (vals == np.floor(vals)).all()
    if whole and np.abs(vals).max() < 2**53:
        return s.astype("Int64").astype("str").where(s.notna())
    return s


def _whole_number_ids(ids: pd.Series, label: str, notes: list[str]) -> pd.Series:
    """A text id column that is all ``1001.0`` (a float rendering) as ``1001``, with a note."""
    present = ids.dropna()
    if present.empty or not bool(present.str.fullmatch(r"[+-]?\d+\.0+").all()):
        return ids
    notes.append(
        f"{label}: every ticket id is written as a whole number with '.0' (e.g. "
        f"{present.iloc[0]!r}), as a float column is exported; read without the '.0' so the "
        "same ticket from another export is one case."
    )
    return ids.str.replace(r"\.0+$", "", regex=True)


def _canonical(
    raw: _Raw,
    file_index: int,
    label: str,
    mapping: Mapping[str, Any],
    *,
    tz: str,
    dayfirst: bool | None,
    time_format: str | None = None,
    na: frozenset[str],
    drops: _Drops,
    notes: list[str],
    row_files: np.ndarray | None = None,
    file_names: Sequence[str] = (),
) -> tuple[pd.DataFrame, list[str], int]:
    """One file's rows in the canonical columns, with provenance ``_file``/``_line``.

    ``row_files`` gives each row's file index when ``raw`` joins several files with the
    same header (``label`` then names the batch; drops name each row's own file).
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
        elif canon == "case_id":
            out[canon] = _whole_number_ids(_clean_text(_float_ids(frame[src]), na), label, notes)
        else:
            out[canon] = _clean_text(frame[src], na)
    formats: list[str] = []
    localised = 0
    for canon in TIME_COLUMNS:
        if canon not in mapping:
            continue
        parsed = parse_times(
            frame[mapping[canon]],
            tz=tz,
            dayfirst=dayfirst,
            column=mapping[canon],
            where=label,
            time_format=time_format,
        )
        out[canon] = parsed.times
        localised += parsed.localised
        formats.extend(f for f in parsed.formats if f not in formats)
        notes.extend(f"{label}: {n}" for n in parsed.notes)
        if parsed.dst_resolved:
            notes.append(
                f"{label}: {parsed.dst_resolved} naive time(s) in column {mapping[canon]!r} fell "
                f"into a daylight-saving change in {tz}; ambiguous ones were read as summer time, "
                "missing ones shifted forward."
            )
    for col in frame.columns:
        if col in src_cols:
            continue
        s = frame[col]
        name = col
        if name in out or name in _INTERNAL:  # same name as a canonical or internal column
            name = f"{col} (source)"
            while name in out or name in frame.columns:
                name += "'"
            notes.append(
                f"{label}: column {col!r} is kept as {name!r}, because {col!r} is "
                + (
                    "an internal column of the log"
                    if col in _INTERNAL
                    else f"the canonical column mapped from {mapping[col]!r}"
                )
                + "; map it explicitly if it is the one you meant."
            )
        out[name] = _clean_text(s, na) if raw.fmt in ("csv", "xlsx", "xls", "ods") else s
    canon_frame = pd.DataFrame(out, index=frame.index)
    canon_frame["_file"] = np.int32(file_index) if row_files is None else row_files

    def files_of(mask: pd.Series) -> list[str]:
        if row_files is None:
            return [label] * int(mask.sum())
        return [file_names[i] for i in canon_frame.loc[mask, "_file"]]

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
                drops.add("missing_timestamp", files_of(missing), lines, [""] * len(lines))
                keep &= ~missing
                bad &= ~missing
        if bad.any():
            src = raw_col[0] if isinstance(raw_col, list) else raw_col
            values = frame.loc[bad, src].iloc[:_MAX_EXAMPLES].tolist()
            lines = canon_frame.loc[bad, "_line"].tolist()
            drops.add(reason, files_of(bad), lines, values + [""] * (len(lines) - len(values)))
            keep &= ~bad
    if "start_timestamp" in mapping:
        raw_start = frame[mapping["start_timestamp"]]
        lost = canon_frame["start_timestamp"].isna() & raw_start.notna() & keep
        lost &= (
            ~_clean_text(raw_start, na).isna() if raw.fmt in ("csv", "xlsx", "xls", "ods") else lost
        )
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
    """Find repeated copies of events; across exports the newest export's copy wins.

    Exact copies inside one file are removed only with ``within_files`` (the ticket
    system did record them twice). Across exports, a row of an older export is the same
    event as a row of a newer one (:func:`_match_exports`) and is dropped: as
    ``repeated_in_later_export`` when every value is equal, else as
    ``conflicting_duplicate`` with one row per changed value in the conflicts table.
    Returns the rows to keep (a boolean mask over ``events``) and the conflicts table.
    ``case_codes`` are integer codes of ``case_id``; ``order`` sorts the rows by case
    and time (:func:`sort_order`), when known.
    """
    n = len(events)
    value_cols = [c for c in events.columns if c not in ("_file", "_line")]
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
    # exact copies inside one file: only rows sharing (case, activity, time) can be
    # copies; found on integer keys, then all values compared on those few rows
    shared = shared_event_keys(events, case_codes, order=order)
    if within_files and shared.any():
        candidates = events[shared]
        within_c = candidates.duplicated(subset=[*value_cols, "_file"], keep="first").to_numpy()
        rows = np.flatnonzero(shared)[within_c]
        if len(rows):
            dup = events.iloc[rows]
            drops.add(
                "duplicate_event",
                [file_names[i] for i in dup["_file"].iloc[:_MAX_EXAMPLES]],
                dup["_line"].tolist(),
                dup["case_id"].iloc[:_MAX_EXAMPLES].tolist(),
            )
            keep[rows] = False
    older, newer = _match_exports(events, case_codes, keep)
    if not len(older):
        return keep, conflicts
    old_ev, new_ev = events.iloc[older], events.iloc[newer]
    same = np.ones(len(older), dtype=bool)
    rows_out = []
    for col in value_cols:
        a, b = old_ev[col].reset_index(drop=True), new_ev[col].reset_index(drop=True)
        differ = ~((a == b) | (a.isna() & b.isna())).fillna(False).astype(bool).to_numpy()
        if not differ.any():
            continue
        same &= ~differ
        kept_at = new_ev.iloc[differ]
        dropped_at = old_ev.iloc[differ]
        rows_out.append(
            pd.DataFrame(
                {
                    "case_id": kept_at["case_id"].to_numpy(),
                    "activity": kept_at["activity"].to_numpy(),
                    "timestamp": kept_at["timestamp"].array,
                    "column": col,
                    "kept_value": kept_at[col].astype("str").where(kept_at[col].notna()).to_numpy(),
                    "kept_file": [file_names[i] for i in kept_at["_file"]],
                    "dropped_value": dropped_at[col]
                    .astype("str")
                    .where(dropped_at[col].notna())
                    .to_numpy(),
                    "dropped_file": [file_names[i] for i in dropped_at["_file"]],
                    "dropped_line": dropped_at["_line"].to_numpy(),
                }
            )
        )
    if rows_out:
        conflicts = pd.concat(rows_out, ignore_index=True)
        conflicts = conflicts.sort_values(
            ["case_id", "timestamp", "activity", "column"], kind="stable", ignore_index=True
        )
    for reason, mask in (("repeated_in_later_export", same), ("conflicting_duplicate", ~same)):
        dup = old_ev[mask]
        drops.add(
            reason,
            [file_names[i] for i in dup["_file"].iloc[:_MAX_EXAMPLES]],
            dup["_line"].tolist(),
            dup["case_id"].iloc[:_MAX_EXAMPLES].tolist(),
        )
    keep[older] = False
    return keep, conflicts


def _match_exports(
    events: pd.DataFrame, case_codes: np.ndarray, keep: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Pairs (row of an older export, row of the newest export holding the same event).

    Exports are ordered by file (a folder's files sorted by name; a list as given);
    they are taken from the newest to the oldest, each matched one-to-one against the
    events the newer ones hold. A row of an older export is the same event as a row of a
    newer one when both have the same ticket and activity and

    1. their times are equal at the coarser time precision of the two exports (an export
       whose times all fall on whole minutes has minute precision, on whole seconds
       second precision): ``09:00:37`` and ``09:00`` are one event; several occurrences
       within the same key are paired in time order (first with first); else
    2. the time was corrected: the older row lies inside the time span of the newer
       exports, which do not list it at that time, and the newer exports have an
       occurrence of that ticket's activity that nothing in the older export matched;
       the k-th such row of the older export is paired with the k-th of the newer ones,
       in time order.

    Only tickets that occur in more than one export are looked at.
    """
    empty = np.zeros(0, dtype=np.int64)
    files = events["_file"].to_numpy(dtype=np.int64)
    live = np.flatnonzero(keep)
    if not len(live) or files[live].min() == files[live].max():
        return empty, empty
    n_files = int(files.max()) + 1
    cc = np.asarray(case_codes, dtype=np.int64)
    pair = np.unique(cc[live] * n_files + files[live])
    per_case = np.bincount(pair // n_files, minlength=int(cc.max()) + 1)
    rows = live[per_case[cc[live]] >= 2]
    if not len(rows):
        return empty, empty
    ts = time_i8(events["timestamp"])
    unit = getattr(events["timestamp"].dtype, "unit", "ns")
    second = {"s": 1, "ms": 1_000, "us": 1_000_000, "ns": 1_000_000_000}[unit]
    # each export's precision and time span (over all its rows)
    off_minute = np.bincount(files, weights=(ts % (60 * second) != 0), minlength=n_files) > 0
    off_second = np.bincount(files, weights=(ts % second != 0), minlength=n_files) > 0
    precision = np.where(off_second, 1, np.where(off_minute, second, 60 * second))
    span = pd.DataFrame({"f": files, "t": ts}).groupby("f")["t"].agg(["min", "max"])
    act = pd.factorize(events["activity"].iloc[rows])[0].astype(np.int64)
    sub = pd.DataFrame({"pos": rows, "c": cc[rows], "a": act, "ts": ts[rows], "f": files[rows]})
    sub["p"] = precision[sub["f"].to_numpy()]
    older: list[np.ndarray] = []
    newer: list[np.ndarray] = []
    held: list[pd.DataFrame] = []  # the newest copy of every event seen so far
    lo = hi = None
    for f in sorted(sub["f"].unique(), reverse=True):
        rows_f = sub[sub["f"] == f]
        if held:
            known = pd.concat(held, ignore_index=True)
            free = np.ones(len(known), dtype=bool)
            pf = int(precision[f])
            for q in sorted(known["p"].unique()):
                step = max(pf, int(q))
                cand = known[(known["p"] == q) & free]
                if cand.empty or rows_f.empty:
                    continue
                i, j = _pair_in_order(
                    rows_f.assign(t=rows_f["ts"] // step), cand.assign(t=cand["ts"] // step), "t"
                )
                older.append(i)
                newer.append(j)
                rows_f = rows_f[~rows_f["pos"].isin(i)]
                free &= ~known["pos"].isin(j).to_numpy()
            inside = rows_f[(rows_f["ts"] >= lo) & (rows_f["ts"] <= hi)]
            if len(inside) and free.any():
                i, j = _pair_in_order(inside, known[free], None)
                older.append(i)
                newer.append(j)
                rows_f = rows_f[~rows_f["pos"].isin(i)]
        held.append(rows_f)
        f_lo, f_hi = int(span.loc[f, "min"]), int(span.loc[f, "max"])
        lo = f_lo if lo is None else min(lo, f_lo)
        hi = f_hi if hi is None else max(hi, f_hi)
    if not older:
        return empty, empty
    return np.concatenate(older), np.concatenate(newer)


def _pair_in_order(
    old: pd.DataFrame, new: pd.DataFrame, time_key: str | None
) -> tuple[np.ndarray, np.ndarray]:
    """One-to-one pairs: k-th old row of a (ticket, activity[, time]) group with the k-th new."""
    by = ["c", "a"] if time_key is None else ["c", "a", time_key]
    ranked = []
    for part in (old, new):
        part = part.sort_values([*by, "ts", "pos"], kind="stable")
        ranked.append(part.assign(k=part.groupby(by, sort=False).cumcount()))
    pairs = ranked[0].merge(ranked[1], on=[*by, "k"], suffixes=("_o", "_n"))
    return pairs["pos_o"].to_numpy(dtype=np.int64), pairs["pos_n"].to_numpy(dtype=np.int64)


def _pair_lifecycle(
    events: pd.DataFrame, file_names: list[str], drops: _Drops, notes: list[str]
) -> pd.DataFrame:
    """Merge START rows into their COMPLETE rows (k-th start with k-th complete, by activity)."""
    if "lifecycle" not in events.columns:
        raise SchemaError(
            "lifecycle='pair' needs a lifecycle column (e.g. XES lifecycle:transition); map it "
            "with mapping={'lifecycle': '<column>'}."
        )
    # an event without a transition is a complete one (the XES lifecycle default)
    life = events["lifecycle"].fillna("complete").str.strip().str.casefold()
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
    # in time order per (ticket, activity), each COMPLETE closes the oldest open START; a
    # COMPLETE with no START open (e.g. before the first START) closes none: the k-th START
    # goes with the k-th *matched* COMPLETE (matched = c - running max of (c - s), clipped)
    key = [ev["case_id"], ev["activity"]]
    is_start = ev["_is_start"].to_numpy()
    n_start = pd.Series(is_start.astype(np.int64), index=ev.index).groupby(key).cumsum()
    n_comp = pd.Series((~is_start).astype(np.int64), index=ev.index).groupby(key).cumsum()
    matched = n_comp - (n_comp - n_start).groupby(key).cummax().clip(lower=0)
    closes = ~is_start & (matched > matched.groupby(key).shift(1, fill_value=0)).to_numpy()
    ev["_k"] = np.where(is_start, n_start - 1, np.where(closes, matched - 1, -1))
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


def _pair_wanted(events: pd.DataFrame, lifecycle: str, notes: list[str]) -> bool:
    """Whether to pair START/COMPLETE rows: always, never, or (``"auto"``) when the
    lifecycle column holds XES transitions only, with both start and complete among them."""
    if lifecycle != "auto":
        return lifecycle == "pair"
    if "lifecycle" not in events.columns:
        return False
    uniques = pd.unique(events["lifecycle"].dropna())
    found = {str(v).strip().casefold() for v in uniques}
    standard = _XES_TRANSITIONS | set(_LIFECYCLE_START) | set(_LIFECYCLE_COMPLETE)
    if not found or not found <= standard:
        return False
    if not (found & set(_LIFECYCLE_START) and found & set(_LIFECYCLE_COMPLETE)):
        return False
    notes.append(
        "the lifecycle column holds start/complete transitions: the START and COMPLETE rows "
        "of each activity instance were paired into one event with start_timestamp (other "
        "transitions such as SCHEDULE dropped, counted); pass lifecycle='keep' to keep every row."
    )
    return True


def _dayfirst_of(dayfirst: bool | None, date_order: str | None) -> bool | None:
    """``dayfirst`` from ``date_order`` (dmy, mdy, ymd); the two must not disagree."""
    if date_order is None:
        return dayfirst
    implied = {"dmy": True, "mdy": False, "ymd": None}
    if date_order not in implied:
        raise InvalidParameterError(
            "The 'date_order' parameter of read_tickets must be one of {'dmy', 'mdy', 'ymd'}. "
            f"Got {date_order!r} instead."
        )
    order = implied[date_order]
    if order is None:
        return dayfirst
    if dayfirst is not None and dayfirst != order:
        raise InvalidParameterError(
            f"read_tickets got date_order={date_order!r} and dayfirst={dayfirst!r}, which "
            "disagree; pass only one of them."
        )
    return order


def _sop_of(sop: Any) -> Any:
    """The SOP given to :func:`read_tickets`: an SOP object, or a path to load."""
    if sop is None or not isinstance(sop, str | Path):
        return sop
    from .sop import load_sop

    return load_sop(sop)


_STATE_SHARE = 0.8  # share of events with state labels that makes an activity column a state


def _is_state_log(
    events: pd.DataFrame, state_log: bool | str, states: TicketStates, notes: list[str]
) -> bool:
    """Whether the activity column holds the ticket's state (see the module docstring)."""
    if state_log is False or not len(events):
        return False
    if state_log is True:
        notes.append("read as a state log (state_log=True).")
        return True
    counters = {normalise_header(h) for h in UPDATE_COUNTER_HEADERS}
    counter = next((c for c in events.columns if normalise_header(c) in counters), None)
    if counter is not None:
        notes.append(
            f"read as a state log (an audit export): it has the update counter {counter!r}, so "
            "a row is written per update of any field (pass state_log=False to keep every row)."
        )
        return True
    codes, uniques = pd.factorize(events["activity"])
    rows = np.bincount(codes[codes >= 0], minlength=len(uniques))
    kinds = states.codes_of(uniques)
    working_status = {normalise_label(x) for x in WORKING_STATUSES}
    is_work = np.fromiter(
        (normalise_label(u) in working_status for u in uniques), dtype=bool, count=len(uniques)
    )
    is_other = np.isin(kinds, (WAITING, RESOLVED, CLOSED, REOPEN))
    is_work &= ~is_other
    share = float(rows[is_work | is_other].sum()) / max(int(rows.sum()), 1)
    if share < _STATE_SHARE or not is_work.any() or not is_other.any():
        if share >= 0.5 and is_work.any() and is_other.any():
            notes.append(
                f"{share:.0%} of the events carry ticket-state labels, below the "
                f"{_STATE_SHARE:.0%} that makes an export a state log: read as one row per step; "
                "pass state_log=True if it is an audit export (one row per update)."
            )
        return False
    shown = [str(u) for u in np.asarray(uniques, dtype=object)[is_work | is_other][:4]]
    notes.append(
        f"read as a state log (an audit export): {share:.0%} of the events carry ticket-state "
        f"labels ({', '.join(map(repr, shown))} ...), so the activity column holds the ticket's "
        "state (pass state_log=False to read it as one row per step)."
    )
    return True


def _collapse_state_repeats(
    events: pd.DataFrame,
    case_codes: np.ndarray,
    file_names: list[str],
    drops: _Drops,
    notes: list[str],
) -> tuple[pd.DataFrame, np.ndarray]:
    """Merge each run of consecutive rows of a ticket in the same state into one event.

    ``events`` is sorted by case and time and ``case_codes`` are its case codes. A run
    ends where the state, its lifecycle status, the department (assignment group) or the
    resource (assignee) changes: a reassignment is a handoff and keeps its row. The event
    keeps the first row's time, ``start_timestamp`` and provenance and takes every other
    value from the last row of the run (the latest snapshot). Returns the merged events
    and which rows of ``events`` start a run (the rows kept).
    """
    n = len(events)
    act = pd.factorize(events["activity"])[0]
    repeat = np.zeros(n, dtype=bool)
    repeat[1:] = (case_codes[1:] == case_codes[:-1]) & (act[1:] == act[:-1])
    # the state's lifecycle status, and its owner: a row that reassigns the ticket (another
    # assignment group or assignee) is a handoff inside the stay, kept as its own event
    for col in ("lifecycle", "department", "resource"):
        if col in events.columns:
            own = pd.factorize(events[col])[0]
            repeat[1:] &= own[1:] == own[:-1]
    first = ~repeat
    if not repeat.any():
        return events, first
    first_pos = np.flatnonzero(first)
    last_pos = np.append(first_pos[1:], n) - 1
    merged = events.iloc[last_pos].set_axis(events.index[first_pos])
    for col in ("timestamp", "start_timestamp", "_file", "_line"):
        if col in events.columns:
            merged[col] = events[col].iloc[first_pos].array
    gone = events[repeat]
    drops.add(
        "status_repeat_merged",
        [file_names[i] for i in gone["_file"].iloc[:_MAX_EXAMPLES]],
        gone["_line"].tolist(),
        gone["activity"].iloc[:_MAX_EXAMPLES].tolist(),
    )
    notes.append(
        f"{int(repeat.sum()):,} status-repeat rows merged: consecutive rows of a ticket in the "
        "same state are one stay in it, kept as one event at the first row's time with the "
        "last row's values."
    )
    return merged, first


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
    source: str | Path | Sequence[str | Path] | pd.DataFrame,
    *,
    mapping: Mapping[str, Any] | str | Path | None = None,
    timezone: str | None = None,
    dayfirst: bool | None = None,
    date_order: Literal["dmy", "mdy", "ymd"] | None = None,
    time_format: str | None = None,
    encoding: str | None = None,
    sheet: str | int | None = None,
    na_values: Iterable[str] = DEFAULT_NA_VALUES,
    dedupe: bool | Literal["all", "exports"] = True,
    lifecycle: Literal["auto", "keep", "pair"] = "auto",
    state_log: bool | Literal["auto"] = "auto",
    sop: Any = None,
    strict: bool = False,
    engine: Literal["pandas", "dask"] = "pandas",
    progress: bool | None = None,
) -> TicketLog:
    """Read ticket exports into one canonical, validated event log.

    Parameters
    ----------
    source : path, folder, glob, list of them, or a DataFrame
        Exports: CSV/TSV/TXT, XLSX, Parquet, XES or XES.gz. A folder means the export
        files directly in it (sorted by name: name monthly exports so that they sort
        in time, e.g. ``工单导出_2024-10.csv``), not its subfolders. A pandas DataFrame
        is read as one export named ``"<DataFrame>"`` (rows numbered from 1), with the
        same mapping, parsing and row accounting as a file; it is not modified.
    mapping : dict or YAML path, optional
        Canonical column -> source column, e.g. ``{"case_id": "Ticket No",
        "activity": "Status", "timestamp": "Updated", "department": "Team"}``; wins
        over header detection (see :data:`svcmining.HEADER_SYNONYMS`). ``activity``
        may be a list of columns, joined with ``+`` (e.g. XES name + lifecycle).
        Columns detected from the headers are listed in ``report.notes``.
    timezone : str, optional
        IANA zone for naive times (e.g. ``"Asia/Shanghai"``); all times are converted
        to it. Default: the zone of ``sop``'s calendar when given, else UTC, with a
        :class:`DataQualityWarning` when naive times occur.
    dayfirst : bool, optional
        Day/month order for ``03/10/2024``; only needed when the data does not prove it.
    date_order : {"dmy", "mdy", "ymd"}, optional
        The same, named by order: ``"dmy"`` is ``dayfirst=True``, ``"mdy"`` (US exports)
        ``dayfirst=False``; ``"ymd"`` says dates are year first (``2024/10/03``, always
        read so) and leaves ``03/10/2024``-style values to prove their order.
    time_format : str, optional
        A ``strptime`` format (``"%d.%m.%Y %H.%M"``) for the time columns, for what
        detection does not know; it replaces detection (values that do not fit it are
        dropped as ``unparseable_timestamp``). ``%z`` in it reads UTC offsets.
        Detection knows ISO 8601, ``YYYY/MM/DD``, Chinese dates, numbers (Excel, epoch)
        and English month names (Jira's ``04/Nov/24 9:12 AM``, ``04-Nov-2024 09:12``).
    encoding : str, optional
        Text encoding of CSV files; detected (UTF-8, UTF-8-BOM, GBK/GB18030) when omitted.
    sheet : str, int or ``"*"``, optional
        Workbook sheet name or index; ``"*"`` reads all sheets; default the first sheet.
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
    lifecycle : {"auto", "keep", "pair"}
        ``"pair"`` merges START and COMPLETE rows of one activity instance into one
        event with ``start_timestamp`` (other transitions, e.g. SCHEDULE, are dropped,
        counted); ``"auto"`` (default) pairs when the lifecycle column holds XES
        start/complete transitions and keeps it otherwise (see the module docstring);
        ``"keep"`` never pairs.
    state_log : bool or "auto"
        Whether the activity column holds the ticket's state (an audit export): then
        consecutive rows of a ticket repeating its state are merged into one event
        (counted as ``status_repeat_merged``). ``"auto"`` (default) decides from the
        data (see the module docstring); ``False`` keeps every row; ``True`` forces it.
    sop : SOP or path, optional
        An SOP (:func:`svcmining.load_sop`): the zone of its calendar is the zone of naive
        times unless ``timezone`` is given, and its ``states:`` judge the state labels.
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
            date_order=date_order,
            time_format=time_format,
            encoding=encoding,
            sheet=sheet,
            na_values=na_values,
            dedupe=dedupe,
            lifecycle=lifecycle,
            state_log=state_log,
            sop=sop,
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
    if lifecycle not in ("auto", "keep", "pair"):
        raise InvalidParameterError(
            "The 'lifecycle' parameter of read_tickets must be one of {'auto', 'keep', 'pair'}. "
            f"Got {lifecycle!r} instead."
        )
    if state_log not in (True, False, "auto"):
        raise InvalidParameterError(
            "The 'state_log' parameter of read_tickets must be one of {True, False, 'auto'}. "
            f"Got {state_log!r} instead."
        )
    dayfirst = _dayfirst_of(dayfirst, date_order)
    if time_format is not None and (not isinstance(time_format, str) or "%" not in time_format):
        raise InvalidParameterError(
            "The 'time_format' parameter of read_tickets must be a strptime format such as "
            f"'%d.%m.%Y %H:%M'. Got {time_format!r} instead."
        )
    sop = _sop_of(sop)
    sop_zone = getattr(getattr(sop, "calendar", None), "timezone", None)
    if timezone is not None:
        try:
            pd.Timestamp("2024-01-01").tz_localize(timezone)
        except Exception:
            raise InvalidParameterError(
                f"The 'timezone' parameter of read_tickets must be an IANA time zone such as "
                f"'Asia/Shanghai' or 'UTC'. Got {timezone!r} instead."
            ) from None
    tz = timezone or sop_zone or "UTC"
    na = frozenset(str(v) for v in na_values) | {""}
    explicit = _load_mapping(mapping)
    is_frame = isinstance(source, pd.DataFrame)
    if isinstance(source, list | tuple) and any(isinstance(x, pd.DataFrame) for x in source):
        raise InvalidParameterError(
            "read_tickets reads one DataFrame at a time; join several first with "
            "pd.concat([...], ignore_index=True), or pass file paths."
        )
    paths = [Path(_FRAME_SOURCE)] if is_frame else _resolve_sources(source)
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
    # small files with the same header are mapped and parsed together, in one batch
    # (a folder of thousands of two-row exports costs one pass, not thousands); each
    # keeps its own file index, lines and row accounting
    batch: list[tuple[int, _Raw]] = []
    batch_rows = [0]  # rows in the batch

    def flush() -> None:
        nonlocal naive_total
        if not batch:
            return
        first_idx, first = batch[0]
        names = list(first.frame.columns)
        pieces: list[pd.DataFrame] = []
        pending: list[list[str]] = []
        for _, r in batch:  # records of consecutive small files become one frame
            if r.records is not None:
                pending.extend(r.records)
                continue
            if pending:
                pieces.append(_records_frame(names, pending))
                pending = []
            pieces.append(r.frame)
        if pending or not pieces:
            pieces.append(_records_frame(names, pending))
        frame = pieces[0] if len(pieces) == 1 else pd.concat(pieces, ignore_index=True)
        if len(batch) == 1:
            raw, row_files, where = first, None, file_names[first_idx]
            if first.records is not None:
                raw = _Raw(frame, first.lines, first.fmt, default_mapping=first.default_mapping)
        else:
            raw = _Raw(frame, np.concatenate([r.lines for _, r in batch]), first.fmt)
            row_files = np.repeat(
                np.array([i for i, _ in batch], dtype=np.int32), [r.n_rows for _, r in batch]
            )
            where = (
                f"{file_names[first_idx]} (and {len(batch) - 1:,} more file(s) with the same "
                "header, read together)"
            )
        col_map = _map_columns(list(raw.frame.columns), explicit, raw.default_mapping, where)
        canon, formats, localised = _canonical(
            raw,
            first_idx,
            where,
            col_map,
            tz=tz,
            dayfirst=dayfirst,
            na=na,
            drops=drops,
            notes=notes,
            row_files=row_files,
            file_names=file_names,
            time_format=time_format,
        )
        naive_total += localised
        frames.append(canon)
        for idx, _ in batch:
            mappings[file_names[idx]] = col_map
            file_rows[idx]["time_formats"] = ", ".join(formats)
        batch.clear()
        batch_rows[0] = 0

    try:
        for at, path in enumerate(paths):
            if bar is not None:
                bar.update(at - bar.n)  # files done so far
            suffix = _suffix(path)
            if suffix in (".csv", ".tsv", ".txt"):
                raws = [reading.pop(at).result() if at in reading else _read_csv(path, encoding)]
            elif suffix in WORKBOOK_SUFFIXES:
                raws = _read_excel(path, sheet)
            elif suffix == ".parquet":
                raws = [_read_parquet(path)]
            elif suffix in (".xes", ".xes.gz"):
                raws = [_read_xes(path)]
            elif is_frame:
                raws = [_read_frame(source)]
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
                n_rows = raw.n_rows + len(raw.malformed)
                rows_read += n_rows
                if raw.malformed:
                    drops.add(
                        "malformed_row",
                        [label] * len(raw.malformed),
                        [ln for ln, _ in raw.malformed],
                        [t for _, t in raw.malformed],
                    )
                file_rows.append(
                    {
                        "file": label,
                        "format": raw.fmt,
                        "encoding": raw.encoding,
                        "delimiter": raw.delimiter,
                        "sheet": raw.sheet,
                        "rows_read": n_rows,
                        "time_formats": "",
                    }
                )
                small = raw.fmt == "csv" and raw.n_rows <= _BATCH_FILE_ROWS
                if batch and not (
                    small
                    and list(raw.frame.columns) == list(batch[0][1].frame.columns)
                    and batch_rows[0] < _BATCH_ROWS
                ):
                    flush()
                batch.append((idx, raw))
                batch_rows[0] += raw.n_rows
                if not small:
                    flush()
        flush()
    finally:
        if bar is not None:
            bar.update(len(paths) - bar.n)
            bar.close()
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
    notes.extend(_mapping_notes(mappings))
    naive_as_utc = naive_total if timezone is None and sop_zone is None else 0
    if naive_as_utc:
        msg = (
            f"{naive_total:,} time(s) had no UTC offset and were read as UTC; pass "
            "timezone='Asia/Shanghai' (or your zone; on the command line --timezone ZONE) so "
            "business hours and SLAs are right."
        )
        notes.append(msg)
        warnings.warn(msg, DataQualityWarning, stacklevel=2)
    elif timezone is None and naive_total:
        notes.append(
            f"{naive_total:,} time(s) without a UTC offset were read in {tz}, the time zone "
            "of the SOP's calendar (pass timezone= to read them in another zone)."
        )
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
    if len(events) and _pair_wanted(events, lifecycle, notes):
        events = _pair_lifecycle(events[keep], file_names, drops, notes).reset_index(drop=True)
        case_codes = pd.factorize(events["case_id"], sort=True)[0]
        keep = np.ones(len(events), dtype=bool)
        order = sort_order(events, case_codes=case_codes)
    if strict:
        # merged rows (a START into its COMPLETE) are the same event, not a loss
        strict_drops = drops.total - sum(
            drops.counts.get(r, 0) for r in ("repeated_in_later_export", "lifecycle_start_merged")
        )
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
    states = getattr(sop, "states", None) or TicketStates()
    is_state_log = _is_state_log(events, state_log, states, notes)
    if is_state_log:
        events, stays = _collapse_state_repeats(events, case_codes[order], file_names, drops, notes)
        order = order[stays]
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
        mapping={label: dict(m) for label, m in mappings.items()},
        notes=tuple(notes),
        findings=findings,
        naive_as_utc=naive_as_utc,
        state_log=is_state_log,
    )
    if report.rows_read != report.rows_kept + report.rows_dropped:  # pragma: no cover - invariant
        raise AssertionError(
            f"row accounting broken: read {report.rows_read}, kept {report.rows_kept}, "
            f"dropped {report.rows_dropped}"
        )
    first_map = next(iter(mappings.values()), {})
    # built from the contract's own sort: no second validation
    log = TicketLog(events=events, report=report, mapping=dict(first_map), _valid=True)
    seed_case_codes(log, case_codes[order])  # the sort's case codes, rows kept
    return log
