"""Reading XES (.xes, .xes.gz) exports for :mod:`svcmining.io`, nested attributes
and containers flattened into columns.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ._readers import Raw, export_suffix
from ._synonyms import XES_MAPPING
from .exceptions import (
    ReadError,
)


def read_xes(path: Path) -> Raw:
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
    return Raw(
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

    opener = gzip.open if export_suffix(path) == ".xes.gz" else open
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
