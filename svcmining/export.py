"""Hand a cleaned log on: pm4py's naming, and files that :func:`read_tickets` reads back as is.

:meth:`svcmining.TicketLog.to_pm4py` and :meth:`svcmining.TicketLog.write` are the public
entry points; this module holds their work and is below :mod:`svcmining.eventlog` (it
imports nothing of the package above :mod:`svcmining._outfile`), so the log's methods call
it without an import cycle.

Files
-----
``write`` chooses the format by the file's extension:

``.parquet``  the event table with its dtypes and time zone; the export metadata (below) in
              the file's key-value metadata under ``svcmining``.
``.csv``      UTF-8 with a byte-order mark (Excel opens it with the Chinese labels right),
              times written in the log's zone with their UTC offset, a missing value as an
              empty field and an empty text as ``""``. *Formula-safe*: a text cell (or
              header) that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
              return — which a spreadsheet would run as a formula — or with ``'`` is written
              with one ``'`` in front; :func:`read_tickets` removes it again. The metadata
              goes to a side file ``<file>.svcmining.json`` (with the CSV's SHA-256, so a CSV
              edited afterwards is read as an ordinary export).
``.xes``      XES 1.0 (``.xes.gz`` gzipped): ``case_id`` is the trace's ``concept:name``,
              ``activity`` ``concept:name``, ``timestamp`` ``time:timestamp``,
              ``start_timestamp`` ``start_timestamp``, ``resource`` ``org:resource``,
              ``department`` ``org:group``, ``lifecycle`` ``lifecycle:transition``; every
              other column keeps its name, typed (string, int, float, boolean, date), as a
              trace attribute when it is constant within every ticket, else as an event
              attribute. The metadata is the log attribute ``svcmining:export``. XES keeps
              times to the microsecond (as pm4py reads them).

The *export metadata* is a JSON object: the canonical columns, each column's dtype (and XES
key), the time zone, the mapping and load report of the log (``report.to_dict()``), whether it
was read as a state log, and the applied filters (``log.filters``, when the log has them).
:func:`read_export_metadata` returns it. :func:`read_tickets` recognises a file that carries it
and reads it back as it was written: the same columns, dtypes, values and time zone, no column
detected anew, nothing cleaned, deduplicated inside the file, paired or merged again; when it
is the only source, the log's ``filters`` are the written log's.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ._outfile import prepare_file, write_file
from ._synonyms import XES_MAPPING
from .exceptions import InvalidParameterError

__all__ = ["EXPORT_FORMATS", "read_export_metadata"]

#: File extensions :meth:`svcmining.TicketLog.write` writes, and the format of each.
EXPORT_FORMATS: dict[str, str] = {
    ".parquet": "parquet",
    ".csv": "csv",
    ".xes": "xes",
    ".xes.gz": "xes",
}
_META_KEY = "svcmining"  # Parquet key-value metadata
_XES_META_KEY = "svcmining:export"  # XES log attribute
_SIDE_SUFFIX = ".svcmining.json"  # CSV side file
_VERSION = 1
# columns with a fixed name in pm4py / XES: the names the XES reader maps back
_PM4PY_NAMES: dict[str, str] = XES_MAPPING
_EVENT_LEVEL = (*_PM4PY_NAMES, "sequence", "event_id")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "'")


# --------------------------------------------------------------------------- pm4py naming


def _case_constant(events: pd.DataFrame, column: str, case_codes: np.ndarray) -> bool:
    """Whether ``column`` has one value (or none) in every ticket (missing counts as a value)."""
    if not len(events):
        return False
    codes = pd.factorize(events[column], use_na_sentinel=True)[0]
    first = np.flatnonzero(np.r_[True, case_codes[1:] != case_codes[:-1]])
    return bool(np.array_equal(codes, codes[first][case_codes]))


def _case_codes(events: pd.DataFrame) -> np.ndarray:
    """Codes of the (contiguous) case blocks of a sorted log."""
    ids = events["case_id"].to_numpy(dtype=object)
    boundary = np.ones(len(ids), dtype=bool)
    boundary[1:] = ids[1:] != ids[:-1]
    return np.cumsum(boundary) - 1


def _free(name: str, used: set[str]) -> str:
    while name in used:
        name += "'"
    used.add(name)
    return name


def _pm4py_columns(events: pd.DataFrame) -> tuple[dict[str, str], list[str]]:
    """Column -> pm4py name, and the columns that are case attributes (``case:`` prefix)."""
    codes = _case_codes(events)
    names: dict[str, str] = {}
    used: set[str] = set()
    for col in events.columns:
        if col in _PM4PY_NAMES:
            names[col] = _free(_PM4PY_NAMES[col], used)
    case_level: list[str] = []
    for col in events.columns:
        if col in names:
            continue
        if col not in _EVENT_LEVEL and _case_constant(events, col, codes):
            case_level.append(col)
            text = str(col)  # a column already named case:... (an XES trace attribute) keeps it
            names[col] = _free(text if text.startswith("case:") else f"case:{text}", used)
        else:
            names[col] = _free(str(col), used)
    return names, case_level


def pm4py_frame(events: pd.DataFrame) -> pd.DataFrame:
    """The events in pm4py's naming (a new frame; see :meth:`svcmining.TicketLog.to_pm4py`)."""
    names, _ = _pm4py_columns(events)
    return events.rename(columns=names)


# --------------------------------------------------------------------------- metadata


def _jsonable(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if value is None or isinstance(value, bool | int | float | str):
        return None if isinstance(value, float) and np.isnan(value) else value
    if value is pd.NA or value is pd.NaT:
        return None
    return str(value)


def _filters_records(filters: Any) -> list[dict[str, Any]] | None:
    if filters is None:
        return None
    if isinstance(filters, pd.DataFrame):
        return [_jsonable(r) for r in filters.to_dict("records")]
    return [_jsonable(f) for f in filters]


def _metadata(
    events: pd.DataFrame,
    fmt: str,
    *,
    report: Any,
    mapping: Mapping[str, Any],
    filters: Any,
    xes_keys: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    ts = events["timestamp"].dtype
    columns = []
    for col in events.columns:
        entry = {"name": str(col), "dtype": str(events[col].dtype)}
        if xes_keys is not None:
            entry["xes"] = xes_keys[col]
        columns.append(entry)
    return {
        "svcmining_export": _VERSION,
        "format": fmt,
        "rows": len(events),
        "timezone": str(getattr(ts, "tz", "UTC")),
        "columns": columns,
        "mapping": _jsonable(dict(mapping)),
        "state_log": bool(getattr(report, "state_log", False)),
        "report": _jsonable(report.to_dict()) if report is not None else None,
        "filters": _filters_records(filters),
    }


def read_export_metadata(path: str | os.PathLike[str]) -> dict[str, Any] | None:
    """The export metadata of a file written by :meth:`svcmining.TicketLog.write`.

    Returns the JSON object described in the module docstring (``report`` is the load
    report of the log that was written, ``filters`` its applied filters), or ``None`` when
    the file was not written by svcmining (or, for CSV, was changed since).

    Examples
    --------
    >>> meta = read_export_metadata("clean.parquet")  # doctest: +SKIP
    >>> meta["report"]["rows_read"], meta["timezone"]  # doctest: +SKIP
    (60683, 'Asia/Shanghai')
    """
    p = Path(path)
    fmt = _format_of(p)
    if fmt is None or not p.is_file():
        return None
    try:
        if fmt == "parquet":
            import pyarrow.parquet as pq

            raw = (pq.read_schema(p).metadata or {}).get(_META_KEY.encode())
            meta = json.loads(raw) if raw else None
        elif fmt == "csv":
            side = Path(str(p) + _SIDE_SUFFIX)
            if not side.is_file():
                return None
            meta = json.loads(side.read_text(encoding="utf-8"))
            if not isinstance(meta, dict) or meta.get("sha256") != _sha256(p):
                return None
        else:
            meta = _xes_metadata(p)
    except (OSError, ValueError, SyntaxError, EOFError):  # not ours: the reader will say why
        return None
    if not isinstance(meta, dict) or meta.get("svcmining_export") != _VERSION:
        return None
    return meta if meta.get("format") == fmt else None


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _xes_metadata(path: Path) -> Any:
    """The ``svcmining:export`` log attribute, read from the head of the file (before the
    first trace)."""
    from lxml import etree

    opener = gzip.open if path.name.lower().endswith(".gz") else open
    with opener(path, "rb") as fh:
        for _, elem in etree.iterparse(fh, events=("start",)):
            tag = str(elem.tag).rsplit("}", 1)[-1]
            if tag in ("trace", "event"):
                return None
            if tag == "string" and elem.get("key") == _XES_META_KEY:
                parent = elem.getparent()
                if parent is not None and str(parent.tag).rsplit("}", 1)[-1] == "log":
                    return json.loads(elem.get("value") or "null")
    return None


# --------------------------------------------------------------------------- writing


def _format_of(path: Path) -> str | None:
    name = path.name.lower()
    suffix = ".xes.gz" if name.endswith(".xes.gz") else path.suffix.lower()
    return EXPORT_FORMATS.get(suffix)


def write_events(
    events: pd.DataFrame,
    path: str | os.PathLike[str],
    *,
    report: Any = None,
    mapping: Mapping[str, Any] | None = None,
    filters: Any = None,
) -> Path:
    """Write a validated, sorted event table (see :meth:`svcmining.TicketLog.write`)."""
    p = Path(path)
    fmt = _format_of(p)
    if fmt is None:
        raise InvalidParameterError(
            f"TicketLog.write cannot tell the format of {p.name!r} from its extension; name "
            f"the file with one of {', '.join(EXPORT_FORMATS)} (e.g. clean.parquet)."
        )
    prepare_file(p, "TicketLog.write", "tickets.parquet")
    mapping = mapping or {}
    if fmt == "parquet":
        _write_parquet(
            events, p, _metadata(events, fmt, report=report, mapping=mapping, filters=filters)
        )
    elif fmt == "csv":
        _write_csv(
            events, p, _metadata(events, fmt, report=report, mapping=mapping, filters=filters)
        )
    else:
        _write_xes(events, p, report=report, mapping=mapping, filters=filters)
    return p


def _write_parquet(events: pd.DataFrame, path: Path, meta: dict[str, Any]) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(events, preserve_index=False)
    extra = {_META_KEY.encode(): json.dumps(meta, ensure_ascii=False).encode("utf-8")}
    table = table.replace_schema_metadata({**(table.schema.metadata or {}), **extra})
    write_file(path, lambda tmp: pq.write_table(table, tmp))


def _is_text(s: pd.Series) -> bool:
    return pd.api.types.is_string_dtype(s.dtype) or pd.api.types.is_object_dtype(s.dtype)


def _neutralise(values: pd.Series) -> pd.Series:
    """Text cells a spreadsheet would run as a formula (or starting with ``'``): ``'`` first."""
    text = values.astype("str").where(values.notna())
    risky = text.str.startswith(_FORMULA_START).fillna(False).astype(bool)
    return text.where(~risky, "'" + text) if risky.any() else text


def _neutralise_name(name: str) -> str:
    return "'" + name if name.startswith(_FORMULA_START) else name


def _csv_ready(events: pd.DataFrame) -> pd.DataFrame:
    """The table as CSV cells: text neutralised, other types as pyarrow writes them."""
    out = {}
    for col in events.columns:
        s = events[col]
        if _is_text(s) or isinstance(s.dtype, pd.CategoricalDtype):
            out[_neutralise_name(str(col))] = _neutralise(s)
        elif pd.api.types.is_datetime64_any_dtype(s.dtype):
            out[_neutralise_name(str(col))] = _coarsest_unit(s)
        elif pd.api.types.is_numeric_dtype(s.dtype) or pd.api.types.is_bool_dtype(s.dtype):
            out[_neutralise_name(str(col))] = s
        else:  # timedeltas, periods, intervals ...: as text
            out[_neutralise_name(str(col))] = _neutralise(s.astype("str").where(s.notna()))
    return pd.DataFrame(out, index=events.index)


def _coarsest_unit(times: pd.Series) -> pd.Series:
    """Times in the coarsest unit that holds them exactly: whole seconds are written
    ``2024-11-01 09:00:00+0800``, not with nine zero digits."""
    ns = times.dt.as_unit("ns")
    vals = ns.array.asi8[ns.notna().to_numpy()]
    for unit, factor in (("s", 10**9), ("ms", 10**6), ("us", 10**3)):
        if not np.any(vals % factor):
            return ns.dt.as_unit(unit)
    return ns


def _write_csv(events: pd.DataFrame, path: Path, meta: dict[str, Any]) -> None:
    import io

    import pyarrow as pa
    import pyarrow.csv as pacsv

    table = pa.Table.from_pandas(_csv_ready(events), preserve_index=False)
    buf = io.BytesIO()
    buf.write(b"\xef\xbb\xbf")
    pacsv.write_csv(table, buf, write_options=pacsv.WriteOptions(quoting_style="needed"))
    data = buf.getvalue()
    meta["sha256"] = hashlib.sha256(data).hexdigest()
    write_file(path, data)
    side = json.dumps(meta, ensure_ascii=False, indent=1)
    write_file(Path(str(path) + _SIDE_SUFFIX), side + "\n")


# XML 1.0 cannot hold these at all (even as character references)
_XML_ILLEGAL = "[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]"


def _xml_attr(values: pd.Series, column: str) -> pd.Series:
    """Text as an XML attribute value (quotes, markup and line breaks as references)."""
    try:
        text = values.astype("str")
        bad = text.str.contains(_XML_ILLEGAL, regex=True, na=False)
    except UnicodeEncodeError:  # a lone surrogate (an undecodable file name)
        text = values.astype(object).map(repr)
        bad = text.str.contains(r"\\ud[89a-f]", regex=True, na=False)
    if bad.any():
        example = text[bad].iloc[0]
        raise InvalidParameterError(
            f"Column {column!r} holds a control character XES (XML 1.0) cannot store, e.g. "
            f"{example!r}; write .parquet or .csv instead, or clean the column first."
        )
    for ch, ref in (
        ("&", "&amp;"),
        ("<", "&lt;"),
        (">", "&gt;"),
        ('"', "&quot;"),
        ("\t", "&#9;"),
        ("\n", "&#10;"),
        ("\r", "&#13;"),
    ):
        if text.str.contains(ch, regex=False, na=False).any():
            text = text.str.replace(ch, ref, regex=False)
    return text


def _xes_type(s: pd.Series) -> str:
    if pd.api.types.is_bool_dtype(s.dtype):
        return "boolean"
    if pd.api.types.is_integer_dtype(s.dtype):
        return "int"
    if pd.api.types.is_float_dtype(s.dtype):
        return "float"
    if pd.api.types.is_datetime64_any_dtype(s.dtype):
        return "date"
    return "string"


def _xes_values(s: pd.Series, kind: str, column: str) -> pd.Series:
    """Each value as XES text (missing stays missing)."""
    present = s.notna()
    if kind == "date":
        times = s if isinstance(s.dtype, pd.DatetimeTZDtype) else s.dt.tz_localize("UTC")
        text = times.dt.strftime("%Y-%m-%dT%H:%M:%S.%f%z")
        return text.str.replace(r"([+-]\d\d)(\d\d)$", r"\1:\2", regex=True).where(present)
    if kind == "boolean":
        return s.map({True: "true", False: "false"}).astype("str").where(present)
    if kind == "float":  # pyarrow writes the shortest text that reads back to the same float
        import pyarrow as pa

        text = pa.array(s.astype("float64"), from_pandas=True).cast(pa.string())
        return pd.Series(text.to_pandas(), index=s.index, dtype="str").where(present)
    if kind == "int":
        return s.astype("Int64").astype("str").where(present)
    return _xml_attr(s.where(present), column).where(present)


def _write_xes(
    events: pd.DataFrame,
    path: Path,
    *,
    report: Any,
    mapping: Mapping[str, Any],
    filters: Any,
) -> None:
    names, case_level = _pm4py_columns(events)
    # XES key of each column: the pm4py name without the trace prefix
    keys = {
        col: ("concept:name" if col == "case_id" else name[5:] if col in case_level else name)
        for col, name in names.items()
    }
    meta = _metadata(events, "xes", report=report, mapping=mapping, filters=filters, xes_keys=names)
    codes = _case_codes(events)
    first = (
        np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]]) if len(events) else np.zeros(0, int)
    )
    last = np.r_[first[1:] - 1, len(events) - 1] if len(events) else first

    def attrs(frame: pd.DataFrame, cols: list[str]) -> pd.Series:
        line = pd.Series("", index=frame.index, dtype="str")
        for col in cols:
            kind = _xes_type(frame[col])
            text = _xes_values(frame[col], kind, str(col))
            key = _xml_attr(pd.Series([keys[col]], dtype="str"), str(col)).iloc[0]
            piece = f'<{kind} key="{key}" value="' + text + '"/>'
            line = line + piece.fillna("")
        return line

    event_cols = [c for c in events.columns if c != "case_id" and c not in case_level]
    trace_frame = events.iloc[first].reset_index(drop=True)
    traces = "<trace>" + attrs(trace_frame, ["case_id", *case_level])
    body = "<event>" + attrs(events, event_cols) + "</event>"
    body = body.reset_index(drop=True)
    lines = body.to_numpy(dtype=object)
    open_at = np.full(len(events), "", dtype=object)
    open_at[first] = traces.to_numpy(dtype=object)
    close_at = np.full(len(events), "", dtype=object)
    close_at[last] = "</trace>"
    meta_text = _xml_attr(
        pd.Series([json.dumps(meta, ensure_ascii=False)], dtype="str"), "metadata"
    )
    head = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<log xes.version="1.0" xes.features="" xmlns="http://www.xes-standard.org/">\n'
        '<extension name="Concept" prefix="concept" uri="http://www.xes-standard.org/concept.xesext"/>\n'
        '<extension name="Time" prefix="time" uri="http://www.xes-standard.org/time.xesext"/>\n'
        '<extension name="Organizational" prefix="org" uri="http://www.xes-standard.org/org.xesext"/>\n'
        '<extension name="Lifecycle" prefix="lifecycle" uri="http://www.xes-standard.org/lifecycle.xesext"/>\n'
        f'<string key="{_XES_META_KEY}" value="{meta_text.iloc[0]}"/>\n'
    )
    text = head + "\n".join(open_at + lines + close_at) + ("\n" if len(events) else "") + "</log>\n"
    data = text.encode("utf-8")
    if path.name.lower().endswith(".gz"):
        data = gzip.compress(data, mtime=0)
    write_file(path, data)


# --------------------------------------------------------------------------- reading back


def read_export_frame(path: Path, meta: Mapping[str, Any]) -> tuple[pd.DataFrame, np.ndarray]:
    """The event table of a file svcmining wrote (``meta`` its metadata), as it was written,
    and each row's line (CSV: as a spreadsheet numbers it; else the position from 1)."""
    fmt = meta["format"]
    columns = [c["name"] for c in meta["columns"]]
    if fmt == "parquet":
        frame = pd.read_parquet(path)
        lines = np.arange(1, len(frame) + 1)
    elif fmt == "csv":
        frame, lines = _read_csv_export(path, columns)
    else:
        import warnings

        import pm4py

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            frame = pm4py.read_xes(
                str(path), return_legacy_log_object=False, show_progress_bar=False
            )
        by_key = {c["xes"]: c["name"] for c in meta["columns"]}
        frame = frame.rename(columns=by_key)
        for col in columns:
            if col not in frame.columns:  # an attribute no event has
                frame[col] = pd.Series(np.nan, index=frame.index)
        lines = np.arange(1, len(frame) + 1)
    frame = frame[columns].reset_index(drop=True)
    return _restore_dtypes(frame, meta["columns"]), lines


def _read_csv_export(path: Path, columns: list[str]) -> tuple[pd.DataFrame, np.ndarray]:
    import io

    import pyarrow as pa
    import pyarrow.csv as pacsv

    data = path.read_bytes()
    table = pacsv.read_csv(
        io.BytesIO(data[3:] if data.startswith(b"\xef\xbb\xbf") else data),
        read_options=pacsv.ReadOptions(column_names=columns, skip_rows=1),
        parse_options=pacsv.ParseOptions(newlines_in_values=True),
        convert_options=pacsv.ConvertOptions(
            column_types=dict.fromkeys(columns, pa.string()),
            null_values=[""],
            strings_can_be_null=True,
            quoted_strings_can_be_null=False,
        ),
    )
    frame = table.to_pandas()
    n = len(frame)
    if data.count(b"\n") - data.endswith(b"\n") == n:
        lines = np.arange(2, n + 2)
    else:  # quoted line breaks: each record's first line
        import csv

        text = data.decode("utf-8-sig")
        reader = csv.reader(io.StringIO(text, newline=""))
        next(reader, None)
        starts, start = [], reader.line_num + 1
        for _ in reader:
            starts.append(start)
            start = reader.line_num + 1
        lines = np.asarray(starts[:n], dtype=np.int64)
    for col in frame.columns:  # remove the formula guard
        s = frame[col]
        guarded = s.str.startswith("'").fillna(False).astype(bool)
        if guarded.any():
            frame[col] = s.where(~guarded, s.str.slice(1))
    return frame, lines


def _restore_dtypes(frame: pd.DataFrame, columns: list[Mapping[str, Any]]) -> pd.DataFrame:
    """Each column back in the dtype it was written with (text it cannot be is kept as text)."""
    out = {}
    for spec in columns:
        name, dtype = spec["name"], spec["dtype"]
        s = frame[name]
        if str(s.dtype) == dtype:
            out[name] = s
            continue
        if dtype.startswith("datetime64"):
            parsed = pd.to_datetime(s, format="ISO8601", utc=True) if _is_text(s) else s
            target = pd.api.types.pandas_dtype(dtype)
            if isinstance(target, pd.DatetimeTZDtype):
                if not isinstance(parsed.dtype, pd.DatetimeTZDtype):
                    parsed = parsed.dt.tz_localize("UTC")
                parsed = parsed.dt.tz_convert(target.tz)
            elif isinstance(parsed.dtype, pd.DatetimeTZDtype):
                parsed = parsed.dt.tz_convert("UTC").dt.tz_localize(None)
            out[name] = parsed.astype(target)
        elif dtype in ("bool", "boolean"):
            if _is_text(s):
                s = s.map({"true": True, "false": False, "True": True, "False": False})
            out[name] = s.astype(dtype)
        elif dtype == "object":
            out[name] = s.astype(object).where(s.notna(), None)
        else:
            try:
                out[name] = s.astype(dtype)
            except (TypeError, ValueError):  # written as text (e.g. a timedelta): kept as text
                out[name] = s
    return pd.DataFrame(out, index=frame.index)
