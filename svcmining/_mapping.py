"""Column mapping and the canonical frame for :mod:`svcmining.io`: source headers to
canonical columns, text cleaned, ids and times parsed, every dropped row counted.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ._loadreport import MAX_EXAMPLES, Drops
from ._readers import Raw
from ._synonyms import EXACT, match_header
from ._textfile import read_text
from ._timeparse import parse_times
from ._yaml import load_yaml
from .eventlog import (
    OPTIONAL_COLUMNS,
    REQUIRED_COLUMNS,
    TIME_COLUMNS,
)
from .exceptions import (
    InvalidParameterError,
    SchemaError,
)

# --------------------------------------------------------------------------- mapping


def load_mapping(mapping: Mapping[str, Any] | str | Path | None) -> dict[str, Any]:
    if mapping is None:
        return {}
    if isinstance(mapping, str | Path):
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


def map_columns(
    columns: Sequence[str],
    explicit: Mapping[str, Any],
    defaults: Mapping[str, str],
    where: str,
    *,
    detect: bool = True,
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
    for pos, col in enumerate(cols if detect else ()):  # svcmining's own files: no detection
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
        if canon in mapping and canon not in explicit and detect
    ]
    if auto:
        decisions.append(
            "optional columns mapped from the headers: "
            + ", ".join(auto)
            + " (pass mapping= to map them otherwise)."
        )
    mapping.decisions = tuple(decisions)
    return mapping


def mapping_notes(mappings: Mapping[str, Any]) -> list[str]:
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


def _clean_text(s: pd.Series, na: frozenset[str]) -> pd.Series:
    """Strings stripped, with the ``na_values`` (and blank cells) as missing."""
    if not pd.api.types.is_string_dtype(s.dtype) and not pd.api.types.is_object_dtype(s.dtype):
        s = s.astype("str").where(s.notna())
    s = s.astype("str")
    arr = getattr(s.array, "_pa_array", None)
    if arr is not None:  # pyarrow-backed text: cleaned in pyarrow
        cleaned = _clean_arrow(arr, na)
        if cleaned is None:  # nothing to trim or blank out: the column as it is
            return s
        return pd.Series(
            cleaned.to_pandas(types_mapper={cleaned.type: s.dtype}.get), index=s.index, name=s.name
        )
    out = s.where(s.notna()).str.strip()
    return out.mask(out.isin(na))


def _clean_arrow(arr: Any, na: frozenset[str]) -> Any:
    """An Arrow text column stripped, with the ``na`` values as null; ``None`` when that
    changes nothing.

    A chunk whose values start and end with no whitespace (:func:`_may_be_padded`, read on
    its bytes) only has its ``na`` values blanked. Any other chunk is dictionary-encoded and
    only its distinct values are cleaned (an export repeats the same few activities, people
    and teams). A chunk is rebuilt only when one of its values changes.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    chunks = arr.chunks if isinstance(arr, pa.ChunkedArray) else [arr]
    na_set = pa.array(sorted(na), type=arr.type)
    out, changed = [], False
    for chunk in chunks:
        if not _may_be_padded(chunk):
            hit = pc.is_in(chunk, value_set=na_set)
            if pc.any(hit).as_py():
                changed = True
                chunk = pc.if_else(hit, pa.scalar(None, type=chunk.type), chunk)
            out.append(chunk)
            continue
        encoded = pc.dictionary_encode(chunk)
        values = encoded.dictionary
        trimmed = pc.utf8_trim_whitespace(values)
        hit = pc.is_in(trimmed, value_set=na_set)
        if not pc.any(hit).as_py() and pc.all(pc.equal(trimmed, values)).as_py() is not False:
            out.append(chunk)
            continue
        changed = True
        cleaned = pc.if_else(hit, pa.scalar(None, type=trimmed.type), trimmed)
        out.append(cleaned.take(encoded.indices))
    return pa.chunked_array(out, type=arr.type) if changed else None


# First bytes of the characters pyarrow's utf8_trim_whitespace (and str.strip) remove: ASCII
# \t-\r, \x1c-\x1f and space; U+0085 and U+00A0 (C2 ..); U+1680 (E1 ..); U+2000-U+200A,
# U+2028, U+2029, U+202F, U+205F (E2 ..); U+3000 (E3 ..).
_SPACE_ASCII = np.zeros(256, dtype=bool)
_SPACE_ASCII[[9, 10, 11, 12, 13, 28, 29, 30, 31, 32]] = True
_SPACE_LEAD = _SPACE_ASCII.copy()
_SPACE_LEAD[[0xC2, 0xE1, 0xE2, 0xE3]] = True


def _may_be_padded(chunk: Any) -> bool:
    """Whether a value of an Arrow text array may start or end with whitespace.

    Read on the bytes (no value is hashed or copied): the first byte of each value, and
    the last character's first byte (the last byte, or the one two or three bytes before
    it for a two- or three-byte character) against :data:`_SPACE_LEAD`. ``False`` is
    certain; ``True`` may be a false alarm (e.g. a value starting with ``、``, or bytes of
    a neighbouring value read for an empty or short one), which only costs the exact path.
    """
    import pyarrow as pa

    if chunk.type not in (pa.string(), pa.large_string()):
        return True
    _, offsets, data = chunk.buffers()
    if data is None or not len(chunk) or not len(data):
        return False
    width = 8 if chunk.type == pa.large_string() else 4
    off = np.frombuffer(
        offsets, dtype=f"<i{width}", count=len(chunk) + 1, offset=chunk.offset * width
    )
    raw = np.frombuffer(data, dtype=np.uint8)
    end = off[1:]
    if _SPACE_LEAD[raw.take(off[:-1], mode="clip")].any():
        return True
    if _SPACE_ASCII[raw.take(end - 1, mode="clip")].any():
        return True
    if (raw.take(end - 2, mode="clip") == 0xC2).any():  # U+0085, U+00A0
        return True
    third = raw.take(end - 3, mode="clip")
    return bool(((third >= 0xE1) & (third <= 0xE3)).any())


_INTERNAL = ("_file", "_line")  # provenance columns of the loader (dropped at the end)
_TEXT_FORMATS = ("csv", "xlsx", "xls", "ods")  # read as text: stripped, na_values missing


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
    valid = ids.notna().to_numpy()
    if not valid.any() or not re.fullmatch(r"[+-]?\d+\.0+", str(ids.iloc[int(valid.argmax())])):
        return ids  # (not all ids are such when the first is not: no scan of the column)
    present = ids.dropna()
    if not bool(present.str.fullmatch(r"[+-]?\d+\.0+").all()):
        return ids
    notes.append(
        f"{label}: every ticket id is written as a whole number with '.0' (e.g. "
        f"{present.iloc[0]!r}), as a float column is exported; read without the '.0' so the "
        "same ticket from another export is one case."
    )
    return ids.str.replace(r"\.0+$", "", regex=True)


def _pass_through(
    raw: Raw,
    src_cols: set[str],
    out: dict[str, pd.Series],
    label: str,
    mapping: Mapping[str, Any],
    na: frozenset[str],
    notes: list[str],
) -> None:
    """Add the unmapped source columns to ``out`` under their names; a name that is taken
    (a canonical or internal column) gets `` (source)`` and a note."""
    frame = raw.frame
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
        out[name] = _clean_text(s, na) if raw.fmt in _TEXT_FORMATS and raw.own is None else s


def canonical_frame(
    raw: Raw,
    file_index: int,
    label: str,
    mapping: Mapping[str, Any],
    *,
    tz: str,
    dayfirst: bool | None,
    time_format: str | None = None,
    na: frozenset[str],
    drops: Drops,
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
        if raw.own is not None and not isinstance(src, list):  # written by svcmining: as is
            out[canon] = frame[src]
        elif isinstance(src, list):
            parts = [_clean_text(frame[c], na) for c in src]
            joined = parts[0]
            for part in parts[1:]:
                joined = joined + "+" + part.fillna("")
            out[canon] = joined
        elif canon == "sequence":
            out[canon] = pd.to_numeric(frame[src], errors="coerce")
        elif canon in ("case_id", "event_id"):
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
    _pass_through(raw, src_cols, out, label, mapping, na, notes)
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
            values = frame.loc[bad, src].iloc[:MAX_EXAMPLES].tolist()
            lines = canon_frame.loc[bad, "_line"].tolist()
            drops.add(reason, files_of(bad), lines, values + [""] * (len(lines) - len(values)))
            keep &= ~bad
    if "start_timestamp" in mapping:
        raw_start = frame[mapping["start_timestamp"]]
        lost = canon_frame["start_timestamp"].isna() & raw_start.notna() & keep
        lost &= ~_clean_text(raw_start, na).isna() if raw.fmt in _TEXT_FORMATS else lost
        if lost.any():
            notes.append(
                f"{label}: {int(lost.sum())} start time(s) in column "
                f"{mapping['start_timestamp']!r} "
                "could not be parsed; those events are kept without a start time "
                f"(e.g. line {int(canon_frame.loc[lost, '_line'].iloc[0])})."
            )
    return (canon_frame if keep.all() else canon_frame[keep]), formats, localised
