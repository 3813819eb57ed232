"""The canonical event-log contract that every svcmining function stands on.

An event log is a plain :class:`pandas.DataFrame`, one row per ticket step:

==================  ==========================  ========================================
column              dtype                       meaning
==================  ==========================  ========================================
``case_id``         ``str``                     ticket id (never parsed as a number/date)
``activity``        ``str``                     the step (处理环节), as exported
``timestamp``       ``datetime64[ns, tz]``      when the step completed (tz-aware)
``start_timestamp`` ``datetime64[ns, tz]``      when the step started (lifecycle data only)
``resource``        ``str``                     who handled it (处理人)
``department``      ``str``                     owning department (处理部门)
``channel``         ``str``                     contact channel (受理渠道)
``priority``        ``str``                     urgency (优先级)
``customer_id``     ``str``                     the customer (客户编号)
``lifecycle``       ``str``                     the source's lifecycle/status value
``sequence``        number                      tie-breaker for equal timestamps
``event_id``        ``str``                     the system's id of the history row (merges
                                                exports: the same id is the same event)
==================  ==========================  ========================================

Only ``case_id``, ``activity`` and ``timestamp`` are required; the others are present
when the export has them. Every other source column is passed through untouched,
under its source name. Rows are sorted by ``case_id`` and then ``timestamp``
(then ``sequence`` when mapped); ties keep the source order (stable sort).

:func:`svcmining.read_tickets` builds a :class:`TicketLog` (``.events``, ``.report``,
``.mapping``); every public analysis function accepts a ``TicketLog`` or a DataFrame
in the canonical columns and validates it on entry with :func:`as_events`. No
function mutates the frame it is given.
"""

from __future__ import annotations

import html
import os
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias

import numpy as np
import pandas as pd

from .exceptions import SchemaError
from .export import pm4py_frame, write_events

if TYPE_CHECKING:
    from ._loadreport import LoadReport

__all__ = [
    "CANONICAL_COLUMNS",
    "OPTIONAL_COLUMNS",
    "REQUIRED_COLUMNS",
    "LogLike",
    "TicketLog",
    "as_events",
    "as_ticket_log",
]

REQUIRED_COLUMNS: tuple[str, ...] = ("case_id", "activity", "timestamp")
OPTIONAL_COLUMNS: tuple[str, ...] = (
    "start_timestamp",
    "resource",
    "department",
    "channel",
    "priority",
    "customer_id",
    "lifecycle",
    "sequence",
    "event_id",
)
CANONICAL_COLUMNS: tuple[str, ...] = REQUIRED_COLUMNS + OPTIONAL_COLUMNS
TIME_COLUMNS: tuple[str, ...] = ("timestamp", "start_timestamp")
TEXT_COLUMNS: tuple[str, ...] = (
    "case_id",
    "activity",
    "resource",
    "department",
    "channel",
    "priority",
    "customer_id",
    "lifecycle",
    "event_id",
)
TIME_UNIT = "ns"


@dataclass(frozen=True, eq=False)
class TicketLog:
    """A loaded, validated ticket event log that owns its integer codes.

    Building one validates ``events`` against the contract (a DataFrame that is not
    sorted by case and time is replaced by a sorted copy; the frame given is never
    modified). The integer codes the analyses need (of ``case_id``, ``activity``,
    ``department`` …, the case blocks) are computed on first use, once, and kept on
    the log itself (:meth:`codes`, :meth:`case_index`): every analysis given the same
    ``TicketLog`` shares them, and nothing depends on which function ran first. The
    events of a ``TicketLog`` must not be modified in place.

    Attributes
    ----------
    events : pandas.DataFrame
        The canonical event table (see the module docstring for the columns).
    report : LoadReport or None
        What was read, kept and dropped, and why (``None`` for a log built from
        a DataFrame with :func:`as_ticket_log`).
    mapping : dict
        Canonical column name -> source column name, as used for the load.
    filters : pandas.DataFrame
        The filters applied to get this log, in order (:mod:`svcmining.filters`): one row
        each, ``filter`` (its repr), ``tickets_kept``, ``tickets_removed``,
        ``events_kept``, ``events_removed``; empty for an unfiltered log.
    """

    events: pd.DataFrame
    report: LoadReport | None = None
    mapping: Mapping[str, Any] = field(default_factory=dict)
    _valid: bool = field(default=False, repr=False, compare=False)
    filters: pd.DataFrame = field(default_factory=lambda: no_filters(), repr=False, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.events, pd.DataFrame):
            raise SchemaError(
                f"TicketLog needs a pandas DataFrame of events, got {type(self.events).__name__}."
            )
        if not self._valid:  # validated (and sorted) once, when the log is built
            object.__setattr__(self, "events", _validate_frame(self.events, ()))
            object.__setattr__(self, "_valid", True)

    @cached_property
    def _coded(self) -> _Codes:
        return _Codes(self.events)

    def codes(self, column: str, *, sort: bool = False) -> tuple[np.ndarray, pd.Index]:
        """``pandas.factorize(events[column], sort=sort)`` as (int64 codes, uniques), once.

        Computed on first use and kept on this log; the codes are read-only. For
        ``case_id`` the codes number the case blocks in log order (equal to both orders
        of pandas' codes, since the log is sorted by case).
        """
        return self._coded.get(column, sort)

    def derived(self, key: Any, compute: Any) -> Any:
        """``compute()`` once per ``key`` for this log, kept on the log (e.g. the closings
        judged under one state model: every analysis of the log shares them)."""
        memo = self._coded.memo
        if key not in memo:
            memo[key] = compute()
        return memo[key]

    def case_index(self) -> tuple[np.ndarray, np.ndarray]:
        """Case code of each event (contiguous blocks 0..k-1) and where each case starts."""
        codes = self.codes("case_id")[0]
        return codes, np.flatnonzero(_block_starts(codes))

    @property
    def n_cases(self) -> int:
        """Number of distinct tickets."""
        return len(self.codes("case_id")[1])

    @property
    def n_events(self) -> int:
        """Number of events (rows)."""
        return len(self.events)

    @property
    def activities(self) -> list[str]:
        """Activity labels, most frequent first."""
        return [str(a) for a in self.events["activity"].value_counts().index]

    @property
    def has_lifecycle(self) -> bool:
        """Whether events carry a start time (start/complete pairs)."""
        return has_start_times(self.events)

    def with_events(self, events: pd.DataFrame) -> TicketLog:
        """A new log with other events (e.g. a filtered subset), same report, mapping and
        applied filters."""
        return TicketLog(
            events=events, report=self.report, mapping=self.mapping, filters=self.filters
        )

    def to_pm4py(self) -> pd.DataFrame:
        """The events in pm4py's naming, for pm4py's functions as they are (a new frame).

        ``case_id`` -> ``case:concept:name``, ``activity`` -> ``concept:name``, ``timestamp``
        -> ``time:timestamp``, ``resource`` -> ``org:resource``, ``department`` ->
        ``org:group``, ``lifecycle`` -> ``lifecycle:transition``; ``start_timestamp`` keeps
        its name (pm4py's default start key). Every other column that has one value in each
        ticket is a case attribute, ``case:<name>``; the rest keep their names. Rows, dtypes
        and the time zone are the log's; no ``format_dataframe`` is needed.

        Examples
        --------
        >>> import pm4py                                    # doctest: +SKIP
        >>> dfg, starts, ends = pm4py.discover_dfg(log.to_pm4py())  # doctest: +SKIP
        """
        return pm4py_frame(self.events)

    def write(self, path: str | os.PathLike[str]) -> Path:
        """Write the log to ``.parquet``, ``.csv`` or ``.xes``/``.xes.gz`` (by extension).

        The canonical columns, the other columns, their dtypes and the time zone are kept,
        and :func:`svcmining.read_tickets` reads the file back to the same event table. The
        load report, the mapping and the applied filters (``filters``, when the log has
        them) go along: Parquet key-value metadata, an XES log attribute, or a side file
        ``<file>.svcmining.json`` for CSV (:func:`svcmining.read_export_metadata` reads
        them). CSV is UTF-8 with a byte-order mark (for Excel) and formula-safe: a text
        cell starting with ``= + - @``, a tab, a carriage return or ``'`` gets a ``'`` in
        front, which ``read_tickets`` removes. See :mod:`svcmining.export`.

        Returns the path written. The file is written beside the target and renamed over
        it (never through a symbolic link).

        Raises
        ------
        InvalidParameterError
            An unknown extension, a path that is a folder or a link, or (XES) text with a
            control character XML cannot hold.

        Examples
        --------
        >>> log.write("clean.parquet")                      # doctest: +SKIP
        >>> svc.read_tickets("clean.parquet").events.equals(log.events)  # doctest: +SKIP
        True
        """
        return write_events(
            self.events,
            path,
            report=self.report,
            mapping=self.mapping,
            filters=getattr(self, "filters", None),
        )

    def summary(self) -> pd.Series:
        """Cases, events, activities, time span and the optional columns present."""
        ev = self.events
        return pd.Series(
            {
                "cases": self.n_cases,
                "events": self.n_events,
                "activities": int(ev["activity"].nunique()),
                "first_event": ev["timestamp"].min() if len(ev) else pd.NaT,
                "last_event": ev["timestamp"].max() if len(ev) else pd.NaT,
                "columns": ", ".join(c for c in OPTIONAL_COLUMNS if c in ev.columns),
            },
            name="log",
        )

    def __len__(self) -> int:
        return len(self.events)

    def __repr__(self) -> str:
        s = self.summary()
        return (
            f"TicketLog({s['cases']:,} cases, {s['events']:,} events, "
            f"{s['activities']} activities, {s['first_event']} .. {s['last_event']})"
        )

    def _repr_html_(self) -> str:
        head = html.escape(repr(self))
        return f"<p><b>{head}</b></p>" + self.events.head(10).to_html(escape=True)


FILTER_COLUMNS: tuple[str, ...] = (
    "filter",
    "tickets_kept",
    "tickets_removed",
    "events_kept",
    "events_removed",
)


def no_filters() -> pd.DataFrame:
    """The empty table of applied filters (:attr:`TicketLog.filters` of an unfiltered log)."""
    return pd.DataFrame(
        {c: pd.Series(dtype="str" if c == "filter" else "int64") for c in FILTER_COLUMNS}
    )


class _Codes:
    """The integer codes of one log's columns, computed on first use (owned by a TicketLog)."""

    def __init__(self, events: pd.DataFrame) -> None:
        self._events = events
        self._cache: dict[tuple[str, bool], tuple[np.ndarray, pd.Index]] = {}
        self.memo: dict[Any, Any] = {}

    def get(self, column: str, sort: bool) -> tuple[np.ndarray, pd.Index]:
        hit = self._cache.get((column, sort))
        if hit is not None:
            return hit
        other = self._cache.get((column, not sort))
        if other is not None and isinstance(other[1].dtype, pd.StringDtype):
            # the other order is known: reorder its few uniques instead of hashing every row
            codes, uniques = _reordered(other[0], other[1], sort=sort)
        else:
            codes, uniques = _factorize(self._events[column], sort=sort)
        self.put(column, sort, codes, uniques)
        return codes, uniques

    def put(self, column: str, sort: bool, codes: np.ndarray, uniques: pd.Index) -> None:
        codes = np.asarray(codes, dtype=np.int64)
        codes.flags.writeable = False
        self._cache[(column, sort)] = (codes, uniques)


def seed_case_codes(log: TicketLog, sorted_codes: np.ndarray) -> None:
    """Give ``log`` the case codes of its sort, so no analysis factorises the ids again.

    ``sorted_codes`` are ``pandas.factorize(case_id, sort=True)`` codes of a larger frame
    taken in the rows of ``log.events`` (non-decreasing; codes of dropped tickets may be
    missing): :func:`read_tickets` has them from its sort.
    """
    if len(log.events) == 0:
        return
    boundary = _block_starts(sorted_codes)
    codes = np.cumsum(boundary) - 1
    ids = pd.Index(log.events["case_id"].iloc[np.flatnonzero(boundary)].array)
    for sort in (True, False):
        log._coded.put("case_id", sort, codes, ids)


def frame_of(data: TicketLog | pd.DataFrame) -> pd.DataFrame:
    """The event frame of a log (a frame passes as is; nothing is validated here)."""
    return data.events if isinstance(data, TicketLog) else data


def log_codes(data: TicketLog | pd.DataFrame, column: str, *, sort: bool = False) -> Any:
    """:meth:`TicketLog.codes` of a log, or the plain factorisation of a frame's column."""
    if isinstance(data, TicketLog):
        return data.codes(column, sort=sort)
    return _factorize(data[column], sort=sort)


LogLike: TypeAlias = TicketLog | pd.DataFrame


def has_start_times(events: pd.DataFrame) -> bool:
    """Whether ``events`` has a ``start_timestamp`` column with at least one value."""
    return "start_timestamp" in events.columns and bool(events["start_timestamp"].notna().any())


def time_i8(times: pd.Series) -> np.ndarray:
    """Integer view of a datetime column (its own unit; NaT is the minimum int64)."""
    return np.asarray(times.array.asi8 if hasattr(times.array, "asi8") else times.astype("int64"))


def sort_order(events: pd.DataFrame, *, case_codes: np.ndarray | None = None) -> np.ndarray:
    """Positions that sort ``events`` by case, time (and ``sequence``), ties in input order.

    ``case_codes`` (the sorted codes of ``case_id``) saves factorising the ids again.
    """
    if not len(events):
        return np.arange(0)
    codes = pd.factorize(events["case_id"], sort=True)[0] if case_codes is None else case_codes
    keys: list[np.ndarray] = [time_i8(events["timestamp"]), codes]
    if "sequence" in events.columns:
        keys.insert(0, pd.to_numeric(events["sequence"], errors="coerce").to_numpy(dtype=float))
    else:
        key = _case_time_key(np.asarray(codes, dtype=np.int64), keys[0])
        if key is not None:
            return np.argsort(key, kind="stable")
    return np.lexsort(keys)  # stable: equal keys keep their input order


def _case_time_key(codes: np.ndarray, ts: np.ndarray) -> np.ndarray | None:
    """One int64 key that sorts as (case code, time), or None when it would not fit.

    Times are counted in their common step (an export of whole minutes in minutes), so
    one stable sort of one key replaces lexsort's sort per key.
    """
    if not len(ts) or (ts == np.iinfo(np.int64).min).any():  # NaT
        return None
    lo = int(ts.min())
    if int(ts.max()) - lo >= 1 << 62:  # the difference would not fit in int64
        return None
    rel = ts - lo
    step = int(np.gcd.reduce(rel)) or 1
    span = int(rel.max()) // step + 1
    c = codes - int(codes.min())
    if (int(c.max()) + 1) * span >= 1 << 62:
        return None
    return c * span + rel // step


def _is_sorted(events: pd.DataFrame) -> bool:
    """Case blocks in ascending id order and times non-decreasing within each case.

    Neighbours are compared (no hashing or sorting of the ids): each id is less than or
    equal to the next, and where equal the time does not go back.
    """
    n = len(events)
    if n < 2:
        return True
    cid = events["case_id"]
    ts = time_i8(events["timestamp"])
    arr = getattr(cid.array, "_pa_array", None)
    if arr is not None:
        import pyarrow as pa
        import pyarrow.compute as pc

        flat = arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr
        if flat.null_count:
            return False
        a, b = flat.slice(0, n - 1), flat.slice(1)
        less = np.asarray(pc.less(a, b).to_numpy(zero_copy_only=False), dtype=bool)
        equal = np.asarray(pc.equal(a, b).to_numpy(zero_copy_only=False), dtype=bool)
    else:
        vals = cid.to_numpy(dtype=object)
        try:
            less = np.asarray(vals[:-1] < vals[1:], dtype=bool)
            equal = np.asarray(vals[:-1] == vals[1:], dtype=bool)
        except TypeError:  # mixed types: fall back to pandas' order
            codes = pd.factorize(cid, sort=True)[0]
            return _in_order(codes, ts)
    return bool(np.all(less | (equal & (ts[1:] >= ts[:-1]))))


def _in_order(codes: np.ndarray, ts: np.ndarray) -> bool:
    """Case codes non-decreasing and times non-decreasing within each case."""
    if len(codes) < 2:
        return True
    step = np.diff(codes)
    return bool(np.all((step > 0) | ((step == 0) & (ts[1:] >= ts[:-1]))))


def sorted_codes(ids: pd.Series) -> np.ndarray:
    """``pandas.factorize(ids, sort=True)[0]`` (int64): for Arrow text without missing values
    by pyarrow, which hashes the rows once and sorts only the distinct ids."""
    arr = getattr(ids.array, "_pa_array", None)
    if arr is None or not len(ids) or arr.null_count:
        return np.asarray(pd.factorize(ids, sort=True)[0], dtype=np.int64)
    import pyarrow as pa
    import pyarrow.compute as pc

    flat = arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr
    encoded = pc.dictionary_encode(flat)
    perm = pc.array_sort_indices(encoded.dictionary).to_numpy()  # rank -> code
    rank = np.empty(len(perm), dtype=np.int64)
    rank[perm] = np.arange(len(perm))
    return rank[encoded.indices.to_numpy(zero_copy_only=False)]


_PARALLEL_TAKE_ROWS = 100_000


def take_columns(columns: dict[Any, pd.Series], index: pd.Index, order: np.ndarray) -> pd.DataFrame:
    """The frame of ``columns`` with its rows taken in ``order``: the text columns become
    one Arrow chunk each (the exports' chunks joined), gathered two at a time (pyarrow
    releases the interpreter while it copies).

    Each column is removed from ``columns`` when it is taken, so that a caller that holds no
    other reference to it frees it then (and pyarrow's allocator returns it to the system):
    the log is never held twice in memory.
    """
    import pyarrow as pa

    names = list(columns)
    arrow_pool = pa.default_memory_pool()

    def take(name: Any) -> Any:
        taken = columns.pop(name).array.take(order)
        # the column's old buffers are free now: hand them back to the system, so that
        # the taken columns do not pile up on top of memory the allocator keeps
        arrow_pool.release_unused()
        return taken

    if len(order) < _PARALLEL_TAKE_ROWS or len(names) < 2:
        taken = {name: take(name) for name in names}
    else:
        with ThreadPoolExecutor(max_workers=2, thread_name_prefix="svcmining-take") as pool:
            taken = dict(zip(names, pool.map(take, names), strict=True))
    return pd.DataFrame(taken, index=index.take(order))


def join_chunks(events: pd.DataFrame) -> None:
    """Each Arrow text column of the loader's ``events`` in one chunk (the exports' chunks
    joined), in place and one column at a time: the old chunks are freed column by column,
    so the log is never held twice. pyarrow's take on a column of many chunks joins them
    first, for every take however small; joined once, every later take reads one array.
    """
    import pyarrow as pa

    for name in events.columns:
        col = events[name]
        arr = getattr(col.array, "_pa_array", None)
        if arr is not None and arr.num_chunks > 1:
            flat = arr.combine_chunks().to_pandas(types_mapper={arr.type: col.dtype}.get)
            del col, arr
            events[name] = pd.Series(flat.array, index=events.index, name=name)
    pa.default_memory_pool().release_unused()


def take_positions(frame: pd.DataFrame, positions: np.ndarray) -> pd.DataFrame:
    """``frame.iloc[positions]``, the Arrow columns taken by pyarrow itself.

    pandas' take on a column of many Arrow chunks (the exports joined) costs about a copy
    of the whole column however few the rows (0.6 s for five rows of a 10M-row log).
    """
    if not frame.columns.is_unique:
        return frame.iloc[positions]
    import pyarrow as pa

    pos = np.asarray(positions, dtype=np.int64)
    at = pa.array(pos)
    columns = {}
    for name, col in frame.items():
        arr = getattr(col.array, "_pa_array", None)
        if arr is None:
            columns[name] = col.array.take(pos)
        else:
            taken = arr.take(at)
            columns[name] = taken.to_pandas(types_mapper={taken.type: col.dtype}.get).array
    return pd.DataFrame(columns, index=frame.index.take(pos))


def sort_events(events: pd.DataFrame) -> pd.DataFrame:
    """Sort by case, time (and ``sequence`` where present), keeping ties in input order."""
    return events.take(sort_order(events)).reset_index(drop=True)


def as_events(data: LogLike, *, required: tuple[str, ...] = ()) -> pd.DataFrame:
    """Validate ``data`` against the canonical contract and return the event frame.

    A :class:`TicketLog` is trusted (it was validated when it was built); a
    DataFrame is checked on every call: required columns present, text id columns as
    strings, tz-aware timestamps with no missing values. An unsorted frame is sorted
    (a new frame: the input is never modified). To pay the check once for many calls,
    wrap the frame once with :func:`as_ticket_log`.

    Parameters
    ----------
    data : TicketLog or pandas.DataFrame
        The log.
    required : tuple of str
        Further columns the calling analysis needs (e.g. ``("department",)``).

    Raises
    ------
    SchemaError
        When a column is missing or has the wrong type; the message says how to fix it.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"case_id": ["1", "1"], "activity": ["登记", "结单"],
    ...                    "timestamp": pd.to_datetime(["2024-10-01 09:00", "2024-10-01 10:00"]
    ...                                                ).tz_localize("Asia/Shanghai")})
    >>> as_events(df)["activity"].tolist()
    ['登记', '结单']
    """
    if isinstance(data, TicketLog):
        events = data.events
        _check_required(events, required)
        return events
    if not isinstance(data, pd.DataFrame):
        raise SchemaError(
            f"Expected a TicketLog or a pandas DataFrame, got {type(data).__name__}. "
            "Load exports with svcmining.read_tickets(...)."
        )
    return _validate_frame(data, required)


def factorized(events: pd.DataFrame, column: str, *, sort: bool = False) -> Any:
    """``pandas.factorize(events[column], sort=sort)`` as (int64 codes, uniques).

    Nothing is cached: a :class:`TicketLog` keeps its codes itself (:meth:`TicketLog.codes`).
    """
    return _factorize(events[column], sort=sort)


def _factorize(col: pd.Series, *, sort: bool) -> tuple[np.ndarray, pd.Index]:
    """``pandas.factorize`` as (int64 codes, Index); case ids of a sorted log by their blocks.

    In a log sorted by case, each ticket's events form one block and the blocks' ids
    ascend, so the block numbers are the codes in both orders (sorted and first
    appearance). Finding the blocks compares neighbours instead of hashing every row;
    where the ids of successive blocks do not strictly ascend, pandas factorises.
    """
    if col.name == "case_id" and len(col) > 1:
        codes, starts = case_blocks(col)
        ids = pd.Index(col.iloc[starts].array)
        if _ascending(ids):
            return codes, ids
    codes, uniques = pd.factorize(col, sort=sort)
    return np.asarray(codes, dtype=np.int64), pd.Index(uniques)


def _ascending(ids: pd.Index) -> bool:
    """Whether text ``ids`` strictly ascend (none missing), as pandas sorts text."""
    if len(ids) < 2:
        return not ids.hasnans
    arr = getattr(ids.array, "_pa_array", None)
    if arr is not None:
        import pyarrow as pa
        import pyarrow.compute as pc

        flat = arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr
        less = pc.less(flat.slice(0, len(flat) - 1), flat.slice(1))
        return bool(pc.all(less).as_py()) and less.null_count == 0
    if not pd.api.types.is_string_dtype(ids.dtype) or ids.hasnans:
        return False
    vals = ids.to_numpy(dtype=object)
    return bool(np.all(vals[:-1] < vals[1:]))


def _reordered(codes: np.ndarray, uniques: pd.Index, *, sort: bool) -> tuple[np.ndarray, pd.Index]:
    """The factorisation of the same values in the other order of uniques.

    ``sort=True``: uniques sorted as ``pandas.factorize(..., sort=True)`` sorts them
    (``argsort`` of the uniques); ``sort=False``: in order of first appearance.
    """
    ok = codes >= 0
    if len(uniques) == 0:  # nothing but missing values
        return np.array(codes, dtype=np.int64), uniques
    if sort:
        perm = np.asarray(uniques.argsort(), dtype=np.int64)  # new position -> old code
    else:
        perm = np.asarray(pd.unique(codes[ok]), dtype=np.int64)  # first appearance
    new_of_old = np.empty(len(uniques), dtype=np.int64)
    new_of_old[perm] = np.arange(len(perm))
    return np.where(ok, new_of_old[np.maximum(codes, 0)], -1), uniques.take(perm)


def case_blocks(case_id: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Codes 0..k-1 of the (contiguous) case blocks and the position where each starts."""
    n = len(case_id)
    if n == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    arr = getattr(case_id.array, "_pa_array", None)
    boundary = np.ones(n, dtype=bool)
    if arr is not None and n > 1:
        import pyarrow as pa
        import pyarrow.compute as pc

        flat = arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr
        ne = pc.not_equal(flat.slice(1), flat.slice(0, n - 1))
        boundary[1:] = np.asarray(ne.to_numpy(zero_copy_only=False), dtype=bool)
    elif n > 1:
        vals = case_id.to_numpy(dtype=object)
        boundary[1:] = vals[1:] != vals[:-1]
    codes = np.cumsum(boundary) - 1
    return codes.astype(np.int64), np.flatnonzero(boundary)


def case_index(data: TicketLog | pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """:func:`case_blocks` of a log (its own codes) or of a sorted contract frame."""
    if isinstance(data, TicketLog):
        return data.case_index()
    return case_blocks(data["case_id"])


def _block_starts(codes: np.ndarray) -> np.ndarray:
    """Where a run of equal codes begins (the first row always does)."""
    boundary = np.ones(len(codes), dtype=bool)
    boundary[1:] = codes[1:] != codes[:-1]
    return boundary


def last_per_case(mask: np.ndarray, case_codes: np.ndarray, n_cases: int) -> np.ndarray:
    """Row of each case's last event where ``mask`` holds (-1 for none).

    ``case_codes`` are the codes of contiguous case blocks (not decreasing along the log,
    as :func:`case_blocks` gives them).
    """
    rows = np.flatnonzero(mask)
    out = np.full(n_cases, -1, dtype=np.int64)
    if len(rows):
        cc = case_codes[rows]
        last = np.r_[cc[1:] != cc[:-1], True]
        out[cc[last]] = rows[last]
    return out


def index_in(values: Any, vocabulary: Any) -> np.ndarray:
    """Position of each value in ``vocabulary`` (distinct labels), -1 where absent or missing.

    ``pandas.Index(vocabulary).get_indexer(values)`` for text labels, by pyarrow's hash
    lookup: on a hundred thousand ticket ids it is about four times faster than pandas'.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    def arrow(x: Any) -> Any:
        arr = pa.array(pd.Series(x, copy=False).astype("str"))
        return arr.cast(pa.large_string()) if arr.type != pa.large_string() else arr

    found = pc.index_in(arrow(values), value_set=arrow(vocabulary))
    return np.asarray(found.fill_null(-1).to_numpy(zero_copy_only=False), dtype=np.int64)


def map_distinct(values: pd.Series, mapping: Mapping[Any, Any]) -> pd.Series:
    """``values.map(mapping)``, looking each distinct value up once.

    ``Series.map`` with a dict hashes every row through Python objects; on text columns
    of hundreds of thousands of rows with a handful of distinct labels (deviation types,
    SLA ids, SOP steps), factorising first is an order of magnitude faster.
    """
    codes, uniques = pd.factorize(values)
    mapped = pd.Series(np.asarray(uniques, dtype=object), dtype=object).map(mapping)
    mapped = mapped.infer_objects()
    out = mapped.reindex(codes)  # code -1 (missing value) is not a label: NaN
    out.index = values.index
    return out


def shared_event_keys(
    events: pd.DataFrame,
    case_codes: np.ndarray | None = None,
    *,
    order: np.ndarray | None = None,
) -> np.ndarray:
    """Rows whose (case_id, activity, timestamp) another row has too (candidate copies).

    Found on integer keys, so that a row-by-row comparison of all columns
    (``DataFrame.duplicated``) is needed only on these few rows. ``case_codes`` are codes
    of ``case_id`` when the caller has them; ``order`` positions that sort the rows by
    case and time (:func:`sort_order`), when the caller has them. Rows sharing case and
    time sit next to each other in that order; only those few are then compared on
    their activity. Events already in case/time order need no sort at all.
    """
    n = len(events)
    if case_codes is None:
        case_codes = factorized(events, "case_id")[0]
    cc = np.asarray(case_codes, dtype=np.int64)
    ts = time_i8(events["timestamp"])
    if order is None:
        order = np.arange(n) if _in_order(cc, ts) else np.lexsort((ts, cc))
    c_o, t_o = cc[order], ts[order]
    same = (c_o[1:] == c_o[:-1]) & (t_o[1:] == t_o[:-1])
    shared = np.zeros(n, dtype=bool)
    if not same.any():
        return shared
    # the few rows that share case and time with a neighbour: which share the activity too
    cand = np.zeros(n, dtype=bool)
    cand[order[1:][same]] = True
    cand[order[:-1][same]] = True
    rows = np.flatnonzero(cand)
    act = pd.factorize(take_positions(events[["activity"]], rows)["activity"])[0].astype(np.int64)
    c_r, t_r = cc[rows], ts[rows]
    o = np.lexsort((act, t_r, c_r))
    c_r, t_r, act, rows = c_r[o], t_r[o], act[o], rows[o]
    eq = (c_r[1:] == c_r[:-1]) & (t_r[1:] == t_r[:-1]) & (act[1:] == act[:-1])
    shared[rows[1:][eq]] = True
    shared[rows[:-1][eq]] = True
    return shared


def as_ticket_log(data: LogLike, *, required: tuple[str, ...] = ()) -> TicketLog:
    """Wrap a canonical DataFrame as a validated :class:`TicketLog` (a TicketLog passes as is).

    A DataFrame is validated (and sorted where needed) by this call; the log then keeps
    its integer codes, so many analyses of one log share them.
    """
    if isinstance(data, TicketLog):
        _check_required(data.events, required)
        return data
    return TicketLog(events=as_events(data, required=required), _valid=True)


def _check_required(events: pd.DataFrame, required: tuple[str, ...]) -> None:
    missing = [c for c in (*REQUIRED_COLUMNS, *required) if c not in events.columns]
    if missing:
        found = ", ".join(map(str, events.columns[:20]))
        raise SchemaError(
            f"The event log has no column {', '.join(repr(m) for m in missing)} "
            f"(found: {found}). Map it when loading, e.g. "
            f"read_tickets(..., mapping={{{missing[0]!r}: '<source column>'}})."
        )


def _validate_frame(df: pd.DataFrame, required: tuple[str, ...]) -> pd.DataFrame:
    _check_required(df, required)
    if df.columns.duplicated().any():
        dups = sorted({str(c) for c in df.columns[df.columns.duplicated()]})
        raise SchemaError(f"The event log has duplicated columns {dups}; rename them first.")
    out = df
    changed = False
    for col in TIME_COLUMNS:
        if col not in out.columns:
            continue
        s = out[col]
        if not isinstance(s.dtype, pd.DatetimeTZDtype):
            if pd.api.types.is_datetime64_dtype(s.dtype):
                raise SchemaError(
                    f"Column {col!r} holds naive datetimes; svcmining needs time-zone aware "
                    f"ones. Use df[{col!r}].dt.tz_localize('Asia/Shanghai') (your zone), or load "
                    "the export with read_tickets(..., timezone=...)."
                )
            raise SchemaError(
                f"Column {col!r} has dtype {s.dtype}, expected tz-aware datetimes. Parse it "
                "with pandas.to_datetime(..., format=...) and tz_localize, or load the export "
                "with svcmining.read_tickets."
            )
    for col in ("case_id", "activity", "timestamp"):
        n_missing = int(out[col].isna().sum())
        if n_missing:
            raise SchemaError(
                f"Column {col!r} has {n_missing:,} missing values; every event needs a "
                "case id, an activity and a timestamp. Drop those rows first, or load the "
                "export with read_tickets, which drops and reports them."
            )
    for col in TEXT_COLUMNS:
        if col in out.columns and not pd.api.types.is_string_dtype(out[col].dtype):
            if not changed:
                out = out.copy()
                changed = True
            out[col] = out[col].astype("str").where(out[col].notna())
    if not _is_sorted(out):
        out = sort_events(out)
    elif not changed and not isinstance(out.index, pd.RangeIndex):
        out = out.reset_index(drop=True)
    return out
