"""The event-level analyses on a Dask cluster, with the same tables as in pandas.

A :class:`DaskTicketLog` holds a ``dask.dataframe.DataFrame`` in the canonical columns,
**partitioned by case**: every ticket wholly in one partition, partitions in ascending case
order, each sorted like a pandas log. So a partition is a pandas log of whole tickets.

Every analysis is a context, a kernel and a combine (:mod:`svcmining.core`); :func:`run`,
the one driver here, runs the context chain (stages, cutoff, expected receivers ...), the
kernels on the partitions (workers) and the combine on the client. The pandas function is
the one-part case of the same code, so the tables equal pandas' for any partitioning by
case. The functions below have the names and options of the pandas functions.

>>> from svcmining import distributed as sd                       # doctest: +SKIP
>>> log = sd.read_tickets("exports/", timezone="Asia/Shanghai")   # doctest: +SKIP
>>> sd.discover_dfg(log).edges.head()                             # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np
import pandas as pd

from ._validation import check_positive_int
from .core import Analysis, run_with, split_by_case
from .eventlog import LogLike, TicketLog, as_ticket_log, sort_events
from .exceptions import SchemaError

if TYPE_CHECKING:
    import dask.dataframe as dd

    from .calendars import Calendar
    from .conformance import ConformanceResult
    from .discovery import ProcessGraph
    from .handoffs import HandoffResult
    from .kpis import ServiceKPIs
    from .rework import ReworkResult

__all__ = [
    "DaskTicketLog",
    "as_dask_log",
    "case_outcomes",
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


def _need_dask() -> None:
    try:
        import dask.dataframe  # noqa: F401
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise ImportError(
            "svcmining.distributed needs Dask: pip install 'svcmining[dask]' "
            "(dask[dataframe] and distributed)."
        ) from err


@dataclass(frozen=True, eq=False)
class DaskTicketLog:
    """An event log backed by a Dask DataFrame partitioned by case (``events``: canonical
    columns, whole cases per partition in ascending case order, each sorted by case and
    time), with the load ``report`` and ``mapping`` when read with :func:`read_tickets`."""

    events: dd.DataFrame
    report: Any = None
    mapping: Any = None

    @property
    def npartitions(self) -> int:
        """Number of partitions."""
        return int(self.events.npartitions)

    def persist(self) -> DaskTicketLog:
        """Keep the partitions in the workers' memory (``dask.persist``) for later analyses."""
        return DaskTicketLog(events=self.events.persist(), report=self.report, mapping=self.mapping)

    def compute(self) -> TicketLog:
        """Bring the whole log into memory as a pandas :class:`TicketLog`."""
        events = _plain(self.events.compute().reset_index(drop=True))
        return TicketLog(events=events)

    def __repr__(self) -> str:
        return f"DaskTicketLog({self.npartitions} partitions, columns={list(self.events.columns)})"


def _identity(part: pd.DataFrame) -> pd.DataFrame:
    return part


def _plain(part: pd.DataFrame) -> pd.DataFrame:
    """A partition as pandas logs hold it: Dask's ``string[pyarrow]`` (missing = ``pd.NA``)
    text columns back to the default ``str`` dtype (missing = NaN)."""
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

    A pandas log is validated and cut at case boundaries into ``npartitions`` (default: one
    per 250,000 events). A Dask DataFrame in the canonical columns is shuffled by
    ``case_id`` (into ``npartitions``, default its own count) and each partition sorted
    like a pandas log (ties keep their input order).

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"case_id": ["1", "1", "2"], "activity": ["登记", "结单", "登记"],
    ...                    "timestamp": pd.Timestamp("2024-10-08 09:00", tz="Asia/Shanghai")})
    >>> as_dask_log(df, npartitions=2).npartitions
    2
    """
    _need_dask()
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
    return DaskTicketLog(ddf, getattr(data, "report", None), getattr(data, "mapping", None))


def read_tickets(source: Any, *, npartitions: int | None = None, **options: Any) -> DaskTicketLog:
    """Read ticket exports into a :class:`DaskTicketLog` (``read_tickets(..., engine="dask")``).

    The pandas loader reads them (same ``options``, load report and validation); the log
    is then cut at case boundaries into ``npartitions`` (default: one per 250,000 events).

    Examples
    --------
    >>> log = read_tickets("sample_logs/", timezone="Asia/Shanghai")  # doctest: +SKIP
    """
    from .io import read_tickets as read_pandas

    options.pop("engine", None)
    return as_dask_log(read_pandas(source, **options), npartitions=npartitions)


def _as_dask(log: Any, func: str) -> DaskTicketLog:
    if isinstance(log, DaskTicketLog):
        return log
    if isinstance(log, TicketLog | pd.DataFrame) or type(log).__module__.startswith("dask"):
        return as_dask_log(log)
    raise SchemaError(
        f"svcmining.distributed.{func} expects a DaskTicketLog, a dask or pandas DataFrame "
        f"or a TicketLog; got {type(log).__name__}. Build one with as_dask_log(...)."
    )


def _apply(frame: pd.DataFrame, func: Callable[[TicketLog, Any], Any], arg: Any) -> Any:
    """``func(partition as a TicketLog, arg)`` (on a worker)."""
    return func(as_ticket_log(_plain(frame)), arg)


def run(analysis: Analysis[R], log: Any) -> R:
    """Run an analysis of :mod:`svcmining.core` on a Dask log: the kernels on the partitions,
    the combines on the client, the context chain first. The result equals
    ``svcmining.core.run(analysis, [pandas_log])``.

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


def discover_dfg(log: Any, *, calendar: Calendar | None = None) -> ProcessGraph:
    """:func:`svcmining.discover_dfg` on a Dask log: ``discover_dfg(as_dask_log(df))``."""
    from .discovery import DFGAnalysis

    return run(DFGAnalysis(calendar), _as_dask(log, "discover_dfg"))


def variants(log: Any, *, calendar: Calendar | None = None) -> pd.DataFrame:
    """:func:`svcmining.variants` on a Dask log: ``variants(as_dask_log(df))``."""
    from .discovery import VariantsAnalysis

    return run(VariantsAnalysis(calendar), _as_dask(log, "variants")).table


def find_rework(log: Any, **options: Any) -> ReworkResult:
    """:func:`svcmining.find_rework` on a Dask log (same options): the stages are the whole
    log's, ``event_index`` the row in the whole log. ``find_rework(as_dask_log(df))``."""
    from .rework import rework_analysis

    dlog = _as_dask(log, "find_rework")
    return run(rework_analysis(dlog.events.columns, **options), dlog)


def handoff_delays(log: Any, **options: Any) -> HandoffResult:
    """:func:`svcmining.handoff_delays` on a Dask log (same options): the cutoff, stages and
    receivers of pending handoffs are the whole log's. ``handoff_delays(as_dask_log(df))``."""
    from .handoffs import handoff_analysis

    dlog = _as_dask(log, "handoff_delays")
    return run(handoff_analysis(dlog.events.columns, **options), dlog)


def check_sop(
    log: Any, sop: Any, *, workers: Any = None, progress: Any = None, **options: Any
) -> ConformanceResult:
    """:func:`svcmining.check_sop` on a Dask log (same options): the whole log's variants are
    ranked and aligned once, on the client, in one time box (``max_seconds``); the tickets
    are checked on the partitions (``workers``, ``progress`` ignored)."""
    from .conformance import sop_check_analysis

    del workers, progress
    return run(sop_check_analysis(sop, **options), _as_dask(log, "check_sop"))


def service_kpis(log: Any, **options: Any) -> ServiceKPIs:
    """:func:`svcmining.service_kpis` on a Dask log (same options): rework, handoffs and
    conformance by this module (unless given), then the same
    :class:`~svcmining.kpis.KPIAnalysis` as pandas (ticket rows and step durations on
    the partitions; repeat contacts and the KPI table on the client)."""
    from .kpis import kpi_analysis

    dlog = _as_dask(log, "service_kpis")
    analysis, analyses = kpi_analysis(dlog, lambda a: run(a, dlog), functions=_FUNCS, **options)
    return replace(run(analysis, dlog), analyses=analyses)


def case_outcomes(log: Any, **options: Any) -> pd.DataFrame:
    """:func:`svcmining.case_outcomes` on a Dask log (same options), as :func:`service_kpis`."""
    from .kpis import outcomes_analysis

    dlog = _as_dask(log, "case_outcomes")
    return run(
        outcomes_analysis(dlog, lambda a: run(a, dlog), functions=_FUNCS, **options)[0], dlog
    )


_FUNCS: dict[str, Callable[..., Any]] = {
    "rework": find_rework,
    "handoffs": handoff_delays,
    "conformance": check_sop,
}
