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

*svcmining's own files* (written by :meth:`TicketLog.write`, see :mod:`svcmining.export`)
are read as they were written: the same columns, dtypes, values and time zone (the default
zone when ``timezone=`` is not given), no column detected anew, no text cleaned, no copy inside
the file removed, no lifecycle pairing or state merging again (the state-log flag of the
first load is restored; ``log.filters`` are the written log's when the file is the only
source). A note in the load report says so.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from ._loadreport import DROP_REASONS as DROP_REASONS
from ._loadreport import Drops, LoadReport
from ._mapping import canonical_frame, load_mapping, map_columns, mapping_notes
from ._merge import (
    UPDATE_COUNTER_HEADERS,
    WORKING_STATUSES,
    collapse_state_repeats,
    dedupe_events,
    detect_state_log,
    pair_lifecycle,
    pair_wanted,
    source_order_findings,
)
from ._progress import progress_bar
from ._readers import (
    EXPORT_SUFFIXES,
    FRAME_SOURCE,
    Raw,
    export_suffix,
    read_frame,
    read_parquet,
    records_frame,
    resolve_sources,
)
from ._readers_csv import read_csv
from ._readers_excel import WORKBOOK_SUFFIXES, read_excel
from ._readers_xes import read_xes
from .eventlog import (
    CANONICAL_COLUMNS,
    FILTER_COLUMNS,
    OPTIONAL_COLUMNS,
    REQUIRED_COLUMNS,
    TEXT_COLUMNS,
    TicketLog,
    join_chunks,
    no_filters,
    seed_case_codes,
    sort_order,
    sorted_codes,
    take_columns,
)
from .exceptions import (
    DataQualityWarning,
    InvalidParameterError,
    ReadError,
    StrictModeError,
)
from .export import read_export_frame, read_export_metadata
from .sop import load_sop
from .states import TicketStates

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
_BATCH_FILE_ROWS = 10_000  # CSV files up to this size are read in batches of one header
_BATCH_ROWS = 1_000_000


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

    return load_sop(sop)


def _raise_no_events(file_names: list[str], rows_read: int, drops: Drops) -> None:
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
    dayfirst, sop, sop_zone, tz = _checked_options(
        dedupe=dedupe,
        lifecycle=lifecycle,
        state_log=state_log,
        engine=engine,
        dayfirst=dayfirst,
        date_order=date_order,
        time_format=time_format,
        sop=sop,
        timezone=timezone,
    )
    na = frozenset(str(v) for v in na_values) | {""}
    explicit = load_mapping(mapping)
    is_frame = isinstance(source, pd.DataFrame)
    if isinstance(source, list | tuple) and any(isinstance(x, pd.DataFrame) for x in source):
        raise InvalidParameterError(
            "read_tickets reads one DataFrame at a time; join several first with "
            "pd.concat([...], ignore_index=True), or pass file paths."
        )
    paths = [Path(FRAME_SOURCE)] if is_frame else resolve_sources(source)
    # files svcmining wrote (TicketLog.write) are read back as written
    own: list[Mapping[str, Any] | None] = [
        None if is_frame else read_export_metadata(p) for p in paths
    ]
    own_zones = {str(m.get("timezone")) for m in own if m is not None}
    if timezone is None and sop_zone is None and None not in own and len(own_zones) == 1:
        tz = own_zones.pop()  # the zone the log was written in
    reading = _Reading(explicit, tz=tz, dayfirst=dayfirst, na=na, time_format=time_format)
    reading.own = own
    reading.read(
        paths,
        source if isinstance(source, pd.DataFrame) else None,
        encoding=encoding,
        sheet=sheet,
        progress=progress,
    )
    naive_as_utc = _naive_notes(reading, timezone=timezone, sop_zone=sop_zone, tz=tz)
    return _assemble(
        reading,
        tz=tz,
        dedupe=dedupe,
        lifecycle=lifecycle,
        state_log=state_log,
        strict=strict,
        states=getattr(sop, "states", None) or TicketStates(),
        naive_as_utc=naive_as_utc,
    )


# --------------------------------------------------------------------------- steps of read_tickets


def _checked_options(
    *,
    dedupe: Any,
    lifecycle: Any,
    state_log: Any,
    engine: Any,
    dayfirst: bool | None,
    date_order: str | None,
    time_format: Any,
    sop: Any,
    timezone: str | None,
) -> tuple[bool | None, Any, str | None, str]:
    """read_tickets' options checked: ``(dayfirst, sop, zone of the SOP, zone of the log)``."""
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
    return dayfirst, sop, sop_zone, tz


class _Reading:
    """One read_tickets call while it reads its sources: the rows of every file, mapped
    and parsed, with the row accounting, mappings and notes.

    Small files with the same header are mapped and parsed together, in one batch (a
    folder of thousands of two-row exports costs one pass, not thousands); each keeps
    its own file index, lines and row accounting.
    """

    def __init__(
        self,
        explicit: dict[str, Any],
        *,
        tz: str,
        dayfirst: bool | None,
        na: frozenset[str],
        time_format: str | None,
    ) -> None:
        self.explicit = explicit
        self.tz = tz
        self.dayfirst = dayfirst
        self.na = na
        self.time_format = time_format
        self.drops = Drops()
        self.notes: list[str] = []
        self.frames: list[pd.DataFrame] = []
        self.file_rows: list[dict[str, Any]] = []
        self.file_names: list[str] = []
        self.mappings: dict[str, dict[str, Any]] = {}
        self.naive_total = 0
        self.rows_read = 0
        self.batch: list[tuple[int, Raw]] = []
        self.batch_rows = 0  # rows in the batch
        self.own: list[Mapping[str, Any] | None] = []  # export metadata of each path, if ours
        self.own_files: list[int] = []  # files svcmining wrote

    @property
    def all_own(self) -> bool:
        """Every source was written by svcmining (TicketLog.write)."""
        return bool(self.own) and None not in self.own

    def read(
        self,
        paths: list[Path],
        frame: pd.DataFrame | None,
        *,
        encoding: str | None,
        sheet: str | int | None,
        progress: bool | None,
    ) -> None:
        """Read every source in order (``frame``: the DataFrame given instead of files)."""
        bar = progress_bar(len(paths), desc="reading", unit="file", enabled=progress)
        # CSV exports are read two at a time: pyarrow parses one while Python decodes the
        # next (decoding a GBK export holds the interpreter); results are used in order
        own = self.own or [None] * len(paths)
        csv_at = [
            i
            for i, p in enumerate(paths)
            if export_suffix(p) in (".csv", ".tsv", ".txt") and own[i] is None
        ]
        reading: dict[int, Any] = {}
        pool = None
        if len(csv_at) > 1:
            pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="svcmining-read")
            reading = {i: pool.submit(read_csv, paths[i], encoding) for i in csv_at}
        try:
            for at, path in enumerate(paths):
                if bar is not None:
                    bar.update(at - bar.n)  # files done so far
                suffix = export_suffix(path)
                meta = own[at]
                if meta is not None:
                    raws = [_read_own(path, meta)]
                elif suffix in (".csv", ".tsv", ".txt"):
                    raws = [reading.pop(at).result() if at in reading else read_csv(path, encoding)]
                elif suffix in WORKBOOK_SUFFIXES:
                    raws = read_excel(path, sheet)
                elif suffix == ".parquet":
                    raws = [read_parquet(path)]
                elif suffix in (".xes", ".xes.gz"):
                    raws = [read_xes(path)]
                elif frame is not None:
                    raws = [read_frame(frame)]
                else:
                    raise ReadError(
                        f"{path}: unsupported file type {suffix!r}; svcmining reads "
                        f"{', '.join(EXPORT_SUFFIXES)}."
                    )
                for raw in raws:
                    self.add(raw, path)
            self.flush()
        finally:
            if bar is not None:
                bar.update(len(paths) - bar.n)
                bar.close()
            if pool is not None:
                pool.shutdown(wait=False, cancel_futures=True)

    def add(self, raw: Raw, path: Path) -> None:
        """Account for one file (or sheet) and add it to the batch."""
        label = path.name if not raw.sheet else f"{path.name}[{raw.sheet}]"
        if label in self.file_names:
            label = str(path)
        idx = len(self.file_names)
        self.file_names.append(label)
        if raw.own is not None:
            self.own_files.append(idx)
        if raw.note:
            self.notes.append(raw.note)
            if raw.own is None:  # the note on an own file is no quality problem
                warnings.warn(raw.note, DataQualityWarning, stacklevel=4)
        n_rows = raw.n_rows + len(raw.malformed)
        self.rows_read += n_rows
        if raw.malformed:
            self.drops.add(
                "malformed_row",
                [label] * len(raw.malformed),
                [ln for ln, _ in raw.malformed],
                [t for _, t in raw.malformed],
            )
        self.file_rows.append(
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
        small = raw.fmt == "csv" and raw.own is None and raw.n_rows <= _BATCH_FILE_ROWS
        if self.batch and not (
            small
            and list(raw.frame.columns) == list(self.batch[0][1].frame.columns)
            and self.batch_rows < _BATCH_ROWS
        ):
            self.flush()
        self.batch.append((idx, raw))
        self.batch_rows += raw.n_rows
        if not small:
            self.flush()

    def flush(self) -> None:
        """Map and parse the batch into one canonical frame."""
        batch, file_names = self.batch, self.file_names
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
                pieces.append(records_frame(names, pending))
                pending = []
            pieces.append(r.frame)
        if pending or not pieces:
            pieces.append(records_frame(names, pending))
        frame = pieces[0] if len(pieces) == 1 else pd.concat(pieces, ignore_index=True)
        if len(batch) == 1:
            raw, row_files, where = first, None, file_names[first_idx]
            if first.records is not None:
                raw = Raw(frame, first.lines, first.fmt, default_mapping=first.default_mapping)
        else:
            raw = Raw(frame, np.concatenate([r.lines for _, r in batch]), first.fmt)
            row_files = np.repeat(
                np.array([i for i, _ in batch], dtype=np.int32), [r.n_rows for _, r in batch]
            )
            where = (
                f"{file_names[first_idx]} (and {len(batch) - 1:,} more file(s) with the same "
                "header, read together)"
            )
        col_map = map_columns(
            list(raw.frame.columns),
            self.explicit,
            raw.default_mapping,
            where,
            detect=first.own is None,
        )
        canon, formats, localised = canonical_frame(
            raw,
            first_idx,
            where,
            col_map,
            tz=self.tz,
            dayfirst=self.dayfirst,
            na=self.na,
            drops=self.drops,
            notes=self.notes,
            row_files=row_files,
            file_names=file_names,
            time_format=self.time_format,
        )
        self.naive_total += localised
        self.frames.append(canon)
        for idx, _ in batch:
            self.mappings[file_names[idx]] = col_map
            self.file_rows[idx]["time_formats"] = ", ".join(formats)
        batch.clear()
        self.batch_rows = 0
        import pyarrow as pa

        pa.default_memory_pool().release_unused()  # the raw columns replaced by cleaned ones


def _read_own(path: Path, meta: Mapping[str, Any]) -> Raw:
    """A file :meth:`TicketLog.write` wrote, as it was written (see :mod:`svcmining.export`)."""
    try:
        frame, lines = read_export_frame(path, meta)
    except Exception as err:  # pyarrow/lxml raise many types for a damaged file
        raise ReadError(
            f"{path}: svcmining wrote this file, but it cannot be read back "
            f"({type(err).__name__}: {err}); write it again."
        ) from None
    fmt = str(meta["format"])
    report = meta.get("report") or {}
    filters = meta.get("filters") or []
    origin = (
        f" The log was loaded from {len(report.get('files', []))} file(s): read "
        f"{int(report.get('rows_read', 0)):,} rows, kept {int(report.get('rows_kept', 0)):,}, "
        f"dropped {int(report.get('rows_dropped', 0)):,}"
        if report
        else " The log was not loaded by read_tickets (no load report)"
    )
    note = (
        f"{path.name}: written by svcmining (TicketLog.write), read as written: its columns, "
        f"dtypes and time zone {meta.get('timezone')}; nothing detected, cleaned, deduplicated "
        f"inside the file, paired or merged again.{origin}; {len(filters)} filter(s) applied. "
        "svcmining.read_export_metadata(path) has its load report and filters."
    )
    identity = {c: c for c in CANONICAL_COLUMNS if c in frame.columns}
    enc = "utf-8-sig" if fmt == "csv" else ""
    delimiter = "," if fmt == "csv" else ""
    return Raw(frame, lines, fmt, enc, delimiter, default_mapping=identity, own=meta, note=note)


def _own_filters(own: Sequence[Mapping[str, Any] | None]) -> pd.DataFrame:
    """The filters applied to the log svcmining wrote, when that file is the only source
    (the filters of several files do not make one stack)."""
    if len(own) != 1 or own[0] is None:
        return no_filters()
    rows = own[0].get("filters") or []
    empty = no_filters()
    try:
        table = pd.DataFrame.from_records(list(rows), columns=list(FILTER_COLUMNS))
        return table.astype(empty.dtypes.to_dict()) if len(table) else empty
    except (TypeError, ValueError):  # another version's table: the metadata still has it
        return empty


def _naive_notes(reading: _Reading, *, timezone: str | None, sop_zone: str | None, tz: str) -> int:
    """Notes on the mappings and on times without a UTC offset; the count read as UTC."""
    notes, naive_total = reading.notes, reading.naive_total
    notes.extend(mapping_notes(reading.mappings))
    naive_as_utc = naive_total if timezone is None and sop_zone is None else 0
    if naive_as_utc:
        msg = (
            f"{naive_total:,} time(s) had no UTC offset and were read as UTC; pass "
            "timezone='Asia/Shanghai' (or your zone; on the command line --timezone ZONE) so "
            "business hours and SLAs are right."
        )
        notes.append(msg)
        warnings.warn(msg, DataQualityWarning, stacklevel=3)
    elif timezone is None and naive_total:
        notes.append(
            f"{naive_total:,} time(s) without a UTC offset were read in {tz}, the time zone "
            "of the SOP's calendar (pass timezone= to read them in another zone)."
        )
    return naive_as_utc


def _check_strict(drops: Drops) -> None:
    """strict=True: raise when any row would be dropped."""
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


def _assemble(
    reading: _Reading,
    *,
    tz: str,
    dedupe: bool | str,
    lifecycle: str,
    state_log: bool | str,
    strict: bool,
    states: TicketStates,
    naive_as_utc: int,
) -> TicketLog:
    """The read rows as one log: copies removed, lifecycle pairs and state stays merged,
    sorted by case and time, with its load report."""
    drops, notes, file_names = reading.drops, reading.notes, reading.file_names
    frames, rows_read, mappings = reading.frames, reading.rows_read, reading.mappings
    events = pd.concat(frames, ignore_index=True, sort=False) if frames else pd.DataFrame()
    frames.clear()  # the files' frames live on in ``events`` only (their blocks are freed below)
    for col in TEXT_COLUMNS:
        if col in events.columns and events[col].dtype != "str":
            events[col] = events[col].astype("str").where(events[col].notna())
    conflicts = pd.DataFrame()
    events = events.reset_index(drop=True)
    if events.columns.is_unique:
        join_chunks(events)
    case_codes = sorted_codes(events["case_id"])
    keep = np.ones(len(events), dtype=bool)
    # one sort by case and time: finds the candidate copies and orders the log
    order = sort_order(events, case_codes=case_codes)
    if dedupe and len(events):
        within = dedupe is True or dedupe == "all"
        keep, conflicts = dedupe_events(
            events,
            case_codes,
            file_names,
            drops,
            within_files=within,
            order=order,
            notes=notes,
            exempt=reading.own_files,
        )
    # svcmining's own files were paired and merged (or not) when first read
    pair = lifecycle == "pair" or (lifecycle == "auto" and not reading.all_own)
    if len(events) and pair and pair_wanted(events, lifecycle, notes):
        events = pair_lifecycle(events[keep], file_names, drops, notes).reset_index(drop=True)
        case_codes = sorted_codes(events["case_id"])
        keep = np.ones(len(events), dtype=bool)
        order = sort_order(events, case_codes=case_codes)
    if strict:
        _check_strict(drops)
    if not keep.any():
        _raise_no_events(file_names, rows_read, drops)
    order = order[keep[order]]  # the sort is stable: dropping rows keeps it sorted
    findings = source_order_findings(events, order, case_codes, file_names)
    if events.columns.is_unique:  # each column freed once taken (see take_columns)
        columns, index = dict(events.items()), events.index
        del events
        events = take_columns(columns, index, order)
    else:
        events = events.take(order)
    if state_log == "auto" and reading.all_own:  # as it was read the first time; merged then
        is_state_log = any(bool(m.get("state_log")) for m in reading.own if m is not None)
    elif detect_state_log(events, state_log, states, notes):
        is_state_log = True
        events, stays = collapse_state_repeats(events, case_codes[order], file_names, drops, notes)
        order = order[stays]
    else:
        is_state_log = False
    first_own = reading.own[0] if reading.all_own else None
    written = [str(c["name"]) for c in first_own["columns"]] if first_own is not None else []
    ordered = [
        c for c in (written or (*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS)) if c in events.columns
    ]
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
        files=pd.DataFrame(reading.file_rows),
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
    log = TicketLog(
        events=events,
        report=report,
        mapping=dict(first_map),
        filters=_own_filters(reading.own),
        _valid=True,
    )
    seed_case_codes(log, case_codes[order])  # the sort's case codes, rows kept
    return log
