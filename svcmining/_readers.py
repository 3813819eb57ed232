"""Readers shared by every export format of :mod:`svcmining.io`.

Resolving sources (files, folders, globs), one file's rows as read (:class:`Raw`),
the header check, and the Parquet and DataFrame readers.
"""

from __future__ import annotations

import glob as globlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .exceptions import (
    InvalidParameterError,
    ReadError,
    SchemaError,
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
FRAME_SOURCE = "<DataFrame>"


# --------------------------------------------------------------------------- sources


def resolve_sources(source: str | Path | Sequence[str | Path]) -> list[Path]:
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
            found = sorted(
                f for f in p.iterdir() if f.is_file() and export_suffix(f) in EXPORT_SUFFIXES
            )
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


def export_suffix(path: Path) -> str:
    name = path.name.lower()
    return ".xes.gz" if name.endswith(".xes.gz") else path.suffix.lower()


# --------------------------------------------------------------------------- raw readers


@dataclass
class Raw:
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
    # the export metadata of a file svcmining wrote (TicketLog.write): read as written
    own: Mapping[str, Any] | None = None

    @property
    def n_rows(self) -> int:
        return len(self.frame) if self.records is None else len(self.records)


def records_frame(names: list[str], records: list[list[str]]) -> pd.DataFrame:
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


def check_header(names: list[str], path: Path) -> None:
    seen: dict[str, int] = {}
    for name in names:
        seen[name] = seen.get(name, 0) + 1
    dups = [n for n, c in seen.items() if c > 1 and n]
    if dups:
        raise SchemaError(
            f"{path}: the header names {', '.join(map(repr, dups))} more than once; rename the "
            "duplicated columns in the export so each column has one name."
        )


def named_columns(names: list[str]) -> list[str]:
    """Header names with each empty one named ``Unnamed: <position>`` (as pandas and the
    Excel reader do), so that a header with several empty cells gives distinct columns."""
    return [n if n != "" else f"Unnamed: {i}" for i, n in enumerate(names)]


def read_parquet(path: Path) -> Raw:
    try:
        frame = pd.read_parquet(path)
    except Exception as err:  # pyarrow raises several types for a broken file
        raise ReadError(
            f"{path}: not a readable Parquet file ({type(err).__name__}: {err})."
        ) from None
    return Raw(frame.reset_index(drop=True), np.arange(1, len(frame) + 1), "parquet")


def read_frame(frame: pd.DataFrame) -> Raw:
    """A DataFrame given to :func:`read_tickets`, read as an export (never modified).

    Its rows are numbered by position from 1 (as XES events are).
    """
    names = [str(c).strip() for c in frame.columns]
    check_header(names, Path(FRAME_SOURCE))
    out = frame.set_axis(names, axis=1).reset_index(drop=True)
    return Raw(out, np.arange(1, len(out) + 1), "dataframe")
