"""Reading CSV/TSV exports for :mod:`svcmining.io`: encoding and delimiter detection,
malformed lines counted with their line numbers.
"""

from __future__ import annotations

import csv
import io as _io
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ._readers import Raw, check_header, named_columns
from .exceptions import (
    ReadError,
)

_SNIFF_BYTES = 1 << 20


_SMALL_CSV = 1 << 16  # bytes: smaller CSV files are parsed with the csv module


def _detect_encoding(data: bytes, path: Path) -> tuple[str, str | None]:
    """The file's encoding, and its text when finding out meant decoding it (GB18030)."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16", None
    try:
        if not _valid_utf8(data):
            data.decode("utf-8")  # raises, with the place of the first bad byte
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


def _valid_utf8(data: bytes) -> bool:
    """Whether ``data`` is valid UTF-8, checked by pyarrow without building a Python string
    (the same rules as Python's decoder: no surrogates, overlong forms or code points above
    U+10FFFF)."""
    import pyarrow as pa

    ends = pa.array([0, len(data)], type=pa.int64()).buffers()[1]
    blob = pa.Array.from_buffers(pa.large_binary(), 1, [None, ends, pa.py_buffer(data)])
    try:
        blob.cast(pa.large_string())
    except pa.ArrowInvalid:
        return False
    return True


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


def read_csv(path: Path, encoding: str | None) -> Raw:
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
        decoded = None  # (decoded only to check the encoding)
        payload = data[3:] if data.startswith(b"\xef\xbb\xbf") else data
        arrow_enc = "utf8"
    else:  # transcoded once here (Python's codecs are faster than pyarrow's transcoding)
        text = decoded if decoded is not None else _decode(data, enc, path)
        decoded = None
        payload = text.lstrip("\ufeff").encode("utf-8")
        del text
        arrow_enc = "utf8"
    del data  # the file lives on as ``payload`` only (a 10M-row export is gigabytes of text)
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
        return Raw(frame, lines, "csv", enc, delim, malformed=malformed, records=records)
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
    return Raw(frame, lines, "csv", enc, delim, malformed=malformed)


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
        check_header(names, path)
        names = named_columns(names) if any(names) else names
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
        raise _unclosed_quote(path, start, err) from None
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
    check_header(names, path)
    names = named_columns(names) if any(names) else names
    # spreadsheet exports often end every data line with empty surplus fields ("a,b,c,,"):
    # read them under placeholder names and drop them when they are empty everywhere
    column_names = list(header)
    surplus = _surplus_empty_fields(head, delim, len(header))
    if surplus:
        column_names += [f"\x00surplus{i}" for i in range(surplus)]

    def read(block_size: int) -> pa.Table:
        return pacsv.read_csv(
            pa.BufferReader(payload),  # no copy, read without the interpreter
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
                # the payload is valid UTF-8 already (checked or transcoded by read_csv)
                check_utf8=False,
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
        raise _unclosed_quote(path, start, err) from None
    if len(bad) == len(malformed):
        malformed[:] = bad
    lines = np.asarray(kept[:n], dtype=np.int64)
    if len(lines) < n:  # pragma: no cover - csv and pyarrow disagree; fall back to record order
        lines = np.concatenate([lines, np.arange(len(lines), n) + 2])
    return lines


def _unclosed_quote(path: Any, line: int, err: csv.Error) -> ReadError:
    """The error for a CSV the csv module cannot split: most often a quote never closed."""
    return ReadError(
        f'{path}: line {line}: {err} — probably a quote (") that is never closed, which '
        "would swallow the lines after it; fix the quoting of that line and export again."
    )
