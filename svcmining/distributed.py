"""The event-level analyses on a Dask cluster, with the same numbers as in pandas.

A :class:`DaskTicketLog` holds a ``dask.dataframe.DataFrame`` in the canonical columns,
**partitioned by case**: every ticket lies wholly in one partition, partitions follow each
other in ascending case order and each partition is sorted like a pandas log (case, time,
ties in input order). So a partition is a valid pandas log of whole tickets.

Every analysis is written once, as a context, a kernel and a combine
(:mod:`svcmining.core`); the pandas function runs it on one part, and :func:`run` here --
the one driver of this module -- runs the same kernels on the partitions (on the workers)
and the combines on the client: first the context chain (the whole-log facts: activity
stages, cutoff, expected receivers of pending handoffs ...), then the kernel with that
context on every partition, then the combine over the partial results in partition order.
So the tables are those of pandas, row for row, for any partitioning by case
(``tests/test_partition_invariance.py``).

The functions here have the names and signatures of the pandas functions
(``svcmining.distributed.discover_dfg(dask_log)`` ...); the pandas functions themselves do
not dispatch on Dask logs. They use the current Dask scheduler: the
``distributed.Client`` created last, or Dask's local threads when there is none.

Examples
--------
>>> from dask.distributed import Client            # doctest: +SKIP
>>> client = Client("tcp://scheduler:8786")         # doctest: +SKIP
>>> from svcmining import distributed as sd         # doctest: +SKIP
>>> log = sd.read_tickets("exports/", timezone="Asia/Shanghai")  # doctest: +SKIP
>>> sd.discover_dfg(log).edges.head()               # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np
import pandas as pd

from ._validation import check_positive_int
from .calendars import Calendar
from .core import Analysis, run_with, split_by_case
from .eventlog import LogLike, TicketLog, as_ticket_log, sort_events
from .exceptions import SchemaError

if TYPE_CHECKING:
    import dask.dataframe as dd

    from .conformance import ConformanceResult
    from .discovery import ProcessGraph
    from .handoffs import HandoffResult
    from .kpis import ServiceKPIs
    from .rework import ReworkResult

__all__ = [
    "DaskTicketLog",
    "as_dask_log",
    "check_sop",
    "discover_dfg",
    "find_rework",
    "handoff_delays",
    "read_tickets",
    "run",
    "service_kpis",
    "variants",
]

R = TypeVar("R")
_ROW = "_svc_row"
_DEFAULT_EVENTS_PER_PARTITION = 250_000


def _need_dask() -> Any:
    try:
        import dask
        import dask.dataframe
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise ImportError(
            "svcmining.distributed needs Dask: pip install 'svcmining[dask]' "
            "(dask[dataframe] and distributed)."
        ) from err
    return dask


@dataclass(frozen=True, eq=False)
class DaskTicketLog:
    """An event log backed by a Dask DataFrame partitioned by case.

    Attributes
    ----------
    events : dask.dataframe.DataFrame
        Canonical columns; every case wholly inside one partition, partitions in ascending
        case order, each sorted by case and time.
    report, mapping : optional
        The load report and column mapping when read with :func:`read_tickets`.
    """

    events: dd.DataFrame
    report: Any = None
    mapping: Any = None

    @property
    def npartitions(self) -> int:
        """Number of partitions."""
        return int(self.events.npartitions)

    def persist(self) -> DaskTicketLog:
        """Keep the partitions in the workers' memory (``dask.persist``): later analyses
        then start from there instead of re-sending or re-reading the data."""
        return DaskTicketLog(events=self.events.persist(), report=self.report, mapping=self.mapping)

    def compute(self) -> TicketLog:
        """Bring the whole log into memory as a pandas :class:`TicketLog`."""
        events = _plain(self.events.compute().reset_index(drop=True))
        return TicketLog(events=events)

    def __repr__(self) -> str:
        return f"DaskTicketLog({self.npartitions} partitions, columns={list(self.events.columns)})"


# ----------------------------------------------------------------------------------------------
# building a Dask log


def _identity(part: pd.DataFrame) -> pd.DataFrame:
    return part


def _plain(part: pd.DataFrame) -> pd.DataFrame:
    """A partition as the pandas kernels expect it: Dask's text columns back to ``str``.

    Dask may turn text columns into ``string[pyarrow]`` (missing = ``pd.NA``); pandas logs
    use the default ``str`` dtype (missing = NaN). Convert so the kernels see the same data.
    """
    conv = {
        c: "str"
        for c, t in part.dtypes.items()
        if isinstance(t, pd.StringDtype) and t != pd.StringDtype(na_value=np.nan)
    }
    return part.astype(conv) if conv else part


def _sort_partition(part: pd.DataFrame) -> pd.DataFrame:
    part = _plain(part.reset_index())
    part = part.sort_values(_ROW, kind="stable")
    return sort_events(part).drop(columns=_ROW)


def as_dask_log(
    data: LogLike | dd.DataFrame | DaskTicketLog,
    *,
    npartitions: int | None = None,
) -> DaskTicketLog:
    """A :class:`DaskTicketLog` from a pandas log or a user's own Dask DataFrame.

    Parameters
    ----------
    data : TicketLog, pandas.DataFrame, dask.dataframe.DataFrame or DaskTicketLog
        A pandas log is validated and cut into partitions at case boundaries. A Dask
        DataFrame in the canonical columns (``case_id`` str, ``activity`` str,
        ``timestamp`` tz-aware, ...) is repartitioned by case (a shuffle on ``case_id``)
        and each partition sorted like a pandas log (ties keep their input order).
    npartitions : int, optional
        Partitions for a pandas log (default: one per 250,000 events, at least 1) or for a
        Dask DataFrame (default: its own partition count).

    Returns
    -------
    DaskTicketLog

    Examples
    --------
    >>> import pandas as pd
    >>> ts = pd.to_datetime(["2024-10-08 09:00", "2024-10-08 11:00", "2024-10-08 09:30"]
    ...                     ).tz_localize("Asia/Shanghai")
    >>> df = pd.DataFrame({"case_id": ["1", "1", "2"], "activity": ["登记", "结单", "登记"],
    ...                    "timestamp": ts})
    >>> as_dask_log(df, npartitions=2).npartitions
    2
    """
    dask = _need_dask()
    import dask.dataframe as ddf_mod

    if npartitions is not None:
        npartitions = check_positive_int("as_dask_log", "npartitions", npartitions)
    if isinstance(data, DaskTicketLog):
        return data
    if isinstance(data, ddf_mod.DataFrame):
        missing = [c for c in ("case_id", "activity", "timestamp") if c not in data.columns]
        if missing:
            raise SchemaError(
                f"The Dask DataFrame lacks the canonical column(s) {missing}; found "
                f"{list(data.columns)}. Rename the columns (case_id, activity, timestamp, ...) "
                "before as_dask_log."
            )
        n = npartitions or int(data.npartitions)
        with_row = data.assign(**{_ROW: 1})
        with_row[_ROW] = with_row[_ROW].cumsum()
        shuffled = with_row.set_index("case_id", npartitions=n)
        meta = _sort_partition(shuffled._meta)
        events = shuffled.map_partitions(_sort_partition, meta=meta)
        return DaskTicketLog(events=events)
    tlog = as_ticket_log(data)
    events = tlog.events
    if npartitions is None:
        npartitions = max(1, -(-len(events) // _DEFAULT_EVENTS_PER_PARTITION))
    parts = [p.events for p in split_by_case(tlog, npartitions)]
    ddf = ddf_mod.from_map(_identity, parts, meta=events.iloc[:0], enforce_metadata=False)
    del dask
    report = getattr(data, "report", None)
    mapping = getattr(data, "mapping", None)
    return DaskTicketLog(events=ddf, report=report, mapping=mapping)


def read_tickets(source: Any, *, npartitions: int | None = None, **options: Any) -> DaskTicketLog:
    """Read ticket exports into a :class:`DaskTicketLog` (``read_tickets(..., engine="dask")``).

    The exports are read by the pandas loader (same options, same load report and row
    accounting, same validation) and the log is then cut into partitions at case
    boundaries, so the Dask log holds exactly the events of the pandas log.

    Parameters
    ----------
    source : path, folder, glob or list of them
        As for :func:`svcmining.read_tickets`.
    npartitions : int, optional
        Partitions (default: one per 250,000 events).
    **options
        Any option of :func:`svcmining.read_tickets` (``mapping``, ``timezone``, ...).

    Returns
    -------
    DaskTicketLog

    Examples
    --------
    >>> log = read_tickets("sample_logs/", timezone="Asia/Shanghai")  # doctest: +SKIP
    """
    from .io import read_tickets as _read

    options.pop("engine", None)
    return as_dask_log(_read(source, **options), npartitions=npartitions)


def _as_dask(log: Any, func: str) -> DaskTicketLog:
    if isinstance(log, DaskTicketLog):
        return log
    if isinstance(log, TicketLog | pd.DataFrame) or type(log).__module__.startswith("dask"):
        return as_dask_log(log)
    raise SchemaError(
        f"svcmining.distributed.{func} expects a DaskTicketLog, a dask or pandas DataFrame "
        f"or a TicketLog; got {type(log).__name__}. Build one with as_dask_log(...)."
    )


# ----------------------------------------------------------------------------------------------
# the one driver


def _apply(frame: pd.DataFrame, func: Callable[[TicketLog, Any], Any], arg: Any) -> Any:
    """``func(partition as a TicketLog, arg)`` (on a worker)."""
    return func(as_ticket_log(_plain(frame)), arg)


def run(analysis: Analysis[R], log: Any) -> R:
    """Run an analysis of :mod:`svcmining.core` on a Dask log: its kernels on the partitions
    (the workers), its combines on the client, the context chain first.

    Parameters
    ----------
    analysis : svcmining.core.Analysis
        E.g. ``svcmining.discovery.DFGAnalysis()``.
    log : DaskTicketLog or dask.dataframe.DataFrame
        The log (see :func:`as_dask_log`).

    Returns
    -------
    The analysis' result, equal to ``svcmining.core.run(analysis, [pandas_log])``.

    Examples
    --------
    >>> from svcmining.discovery import DFGAnalysis
    >>> run(DFGAnalysis(), as_dask_log(df)).edges  # doctest: +SKIP
    """
    import dask

    parts = _as_dask(log, "run").events.to_delayed()

    def mapper(func: Callable[[TicketLog, Any], Any], arg: Any) -> list[Any]:
        return list(dask.compute(*[dask.delayed(_apply)(p, func, arg) for p in parts]))

    return run_with(analysis, mapper)


# ----------------------------------------------------------------------------------------------
# the public functions, as in pandas


def discover_dfg(log: Any, *, calendar: Calendar | None = None) -> ProcessGraph:
    """:func:`svcmining.discover_dfg` on a Dask log (same tables, exact quantiles).

    Examples
    --------
    >>> graph = discover_dfg(as_dask_log(df))  # doctest: +SKIP
    """
    from .discovery import DFGAnalysis

    return run(DFGAnalysis(calendar), _as_dask(log, "discover_dfg"))


def variants(log: Any, *, calendar: Calendar | None = None) -> pd.DataFrame:
    """:func:`svcmining.variants` on a Dask log (exact medians).

    Examples
    --------
    >>> variants(as_dask_log(df))  # doctest: +SKIP
    """
    from .discovery import VariantsAnalysis

    return run(VariantsAnalysis(calendar), _as_dask(log, "variants")).table


def find_rework(log: Any, **options: Any) -> ReworkResult:
    """:func:`svcmining.find_rework` on a Dask log (same options, same tables).

    The activity stages are those of the whole log; ``event_index`` is the row position
    in the whole sorted log.

    Examples
    --------
    >>> find_rework(as_dask_log(df)).summary()  # doctest: +SKIP
    """
    from .rework import rework_analysis

    dlog = _as_dask(log, "find_rework")
    return run(rework_analysis(dlog.events.columns, **options), dlog)


def handoff_delays(log: Any, **options: Any) -> HandoffResult:
    """:func:`svcmining.handoff_delays` on a Dask log (same options, same tables).

    The cutoff, the activity stages and the receiver a pending handoff waits for are
    those of the whole log.

    Examples
    --------
    >>> handoff_delays(as_dask_log(df)).matrix  # doctest: +SKIP
    """
    from .handoffs import check_by, handoff_analysis

    dlog = _as_dask(log, "handoff_delays")
    check_by(options.get("by", "department"))
    return run(handoff_analysis(dlog.events.columns, **options), dlog)


def check_sop(
    log: Any, sop: Any, *, workers: Any = None, progress: Any = None, **options: Any
) -> ConformanceResult:
    """:func:`svcmining.check_sop` on a Dask log (same options, same tables).

    The variants of the whole log are ranked and aligned once, on the client, within one
    time box (``max_seconds``); the tickets are checked on the partitions. ``workers``
    and ``progress`` are accepted and ignored.

    Examples
    --------
    >>> check_sop(as_dask_log(df), "sop.yaml").summary  # doctest: +SKIP
    """
    from .conformance import sop_check_analysis

    del workers, progress
    return run(sop_check_analysis(sop, **options), _as_dask(log, "check_sop"))


def service_kpis(
    log: Any,
    *,
    sop: Any = None,
    calendar: Calendar | None = None,
    close_activities: Sequence[str] | None = None,
    cutoff: Any = None,
    **options: Any,
) -> ServiceKPIs:
    """:func:`svcmining.service_kpis` on a Dask log (same options, exact quantiles).

    Rework, handoffs and (with an SOP) conformance are computed over the whole log by the
    functions of this module, then :class:`svcmining.kpis.KPIAnalysis` builds the ticket
    rows on the partitions and the KPI table on the client.

    Examples
    --------
    >>> service_kpis(as_dask_log(df)).table  # doctest: +SKIP
    """
    from ._time import CutoffAnalysis
    from .kpis import kpi_analysis
    from .sop import as_sop

    sop = None if sop is None else as_sop(sop, func="service_kpis")
    dlog = _as_dask(log, "service_kpis")
    if calendar is None and sop is not None:
        calendar = getattr(sop, "calendar", None)
    cut = run(CutoffAnalysis(cutoff, "service_kpis"), dlog)
    ca = None if close_activities is None else list(close_activities)
    has_dept = "department" in dlog.events.columns
    analysis = kpi_analysis(
        sop=sop,
        calendar=calendar,
        close_activities=ca,
        cutoff=cut,
        rework=find_rework(dlog, close_activities=ca, sop=sop, calendar=calendar),
        handoffs=handoff_delays(dlog, calendar=calendar) if has_dept else None,
        conformance=None if sop is None else check_sop(dlog, sop, precision=False, cutoff=cut),
        **options,
    )
    return run(analysis, dlog)
