"""The event-level analyses on a Dask cluster, with the same numbers as in pandas.

A :class:`DaskTicketLog` holds a ``dask.dataframe.DataFrame`` in the canonical columns,
**partitioned by case**: every ticket lies wholly in one partition, partitions follow each
other in ascending case order and each partition is sorted like a pandas log (case, time,
ties in input order). So a partition is a valid pandas log of whole tickets, and the
analyses run the ordinary pandas kernels of svcmining on each partition (on the workers)
and combine the partial results on the client:

- counts and sums are added (tickets are disjoint, so per-ticket counts simply add up);
- ratios are recomputed from the combined counts;
- medians and p50/p90 are **exact**: the partitions send the values behind each quantile
  (one float per directly-follows pair, per handoff or per ticket), and the client
  computes the quantiles with the same linear interpolation as the pandas kernels.
- statistics that depend on the whole log are computed over the whole log first and
  handed to every partition: the activity stages of :func:`find_rework` (median relative
  position of each activity) and the cutoff of :func:`handoff_delays`.

The functions here have the names and signatures of the pandas functions
(``svcmining.distributed.discover_dfg(dask_log)`` ...); the pandas functions themselves do
not dispatch on Dask logs. They use the current Dask scheduler: the
``distributed.Client`` created last, or Dask's local threads when there is none.

Differences from pandas (documented, tested): row order among ties of the aggregated
tables (equal counts and hours) may differ; floating-point sums are added per partition
(last-digit rounding). :func:`handoff_delays` learns two things inside each partition that
pandas learns over the whole log, because the pandas function has no parameter to pass
them in: the receiver expected by a *pending* handoff of an open ticket (the most frequent
next group after the same group and activity) and the activity stages that decide whether a
return *after a close* is a reopen cycle rather than ping-pong. Pending rows and the
``ping_pong`` flag of returns after a close can therefore differ when partitions disagree
(observed handoffs, their delays and quantiles are exact; on ``sample_logs/`` and BPIC 2013
incidents every table is equal).

Examples
--------
>>> from dask.distributed import Client            # doctest: +SKIP
>>> client = Client("tcp://scheduler:8786")         # doctest: +SKIP
>>> from svcmining import distributed as sd         # doctest: +SKIP
>>> log = sd.read_tickets("exports/", timezone="Asia/Shanghai")  # doctest: +SKIP
>>> sd.discover_dfg(log).edges.head()               # doctest: +SKIP
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, cast

import numpy as np
import pandas as pd

from ._validation import check_positive_int
from .calendars import Calendar
from .eventlog import LogLike, TicketLog, as_events, as_ticket_log, sort_events
from .exceptions import InvalidParameterError, SchemaError

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
    "service_kpis",
    "variants",
]

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


def _split_by_case(events: pd.DataFrame, npartitions: int) -> list[pd.DataFrame]:
    """Cut a sorted pandas log into ``npartitions`` pieces at case boundaries."""
    n = len(events)
    if n == 0:
        return [events]
    codes = pd.factorize(events["case_id"])[0]
    starts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]])
    want = np.linspace(0, n, npartitions + 1)[1:-1]
    cuts = np.unique(starts[np.minimum(np.searchsorted(starts, want), len(starts) - 1)])
    cuts = cuts[(cuts > 0) & (cuts < n)]
    bounds = np.r_[0, cuts, n]
    return [events.iloc[a:b].reset_index(drop=True) for a, b in itertools.pairwise(bounds)]


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


def _events(part: pd.DataFrame) -> pd.DataFrame:
    return as_events(_plain(part))


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
    events = as_events(data)
    if npartitions is None:
        npartitions = max(1, -(-len(events) // _DEFAULT_EVENTS_PER_PARTITION))
    parts = _split_by_case(events, npartitions)
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


def _map(log: DaskTicketLog, func: Callable[..., Any], *args: Any) -> list[Any]:
    """Run ``func(partition, *args)`` on every partition (on the workers); results in order."""
    import dask

    parts = log.events.to_delayed()
    tasks = [dask.delayed(func)(p, *args) for p in parts]
    return list(dask.compute(*tasks))


# ----------------------------------------------------------------------------------------------
# discover_dfg


def _dfg_part(part: pd.DataFrame, calendar: Calendar | None) -> dict[str, Any]:
    from ._time import ns_hours
    from .discovery import _frame

    events = _events(part)
    if len(events) == 0:
        return {"n_events": 0}
    fr = _frame(events)
    i = np.flatnonzero(fr.case[1:] == fr.case[:-1]) if len(fr.case) > 1 else np.array([], int)
    wait = ns_hours(fr.end_ns[i], fr.begin_ns[i + 1], fr.tz, calendar)
    if fr.lifecycle:
        wait = np.maximum(wait, 0.0)
    pairs = pd.DataFrame(
        {
            "source": fr.labels[fr.act[i]],
            "target": fr.labels[fr.act[i + 1]],
            "case": fr.case[i],
            "wait": np.asarray(wait, dtype=float),
        }
    )
    pair_cases = (
        pairs.drop_duplicates(["source", "target", "case"])
        .groupby(["source", "target"], sort=False)
        .size()
    )
    act = pd.DataFrame({"activity": fr.labels[fr.act], "case": fr.case})
    acts = act.groupby("activity", sort=False).agg(
        count=("case", "size"), cases=("case", "nunique")
    )
    out: dict[str, Any] = {
        "n_events": len(events),
        "n_cases": fr.n_cases,
        "lifecycle": fr.lifecycle,
        "tz": fr.tz,
        "pairs": pairs[["source", "target", "wait"]],
        "pair_cases": pair_cases,
        "acts": acts,
        "starts": pd.Series(fr.labels[fr.act[fr.case_start]]).value_counts(),
        "ends": pd.Series(fr.labels[fr.act[fr.case_start + fr.case_len - 1]]).value_counts(),
    }
    if "department" in events.columns:
        # owner = most frequent department; ties go to the first seen in the log (as in pandas)
        out["deps"] = (
            pd.DataFrame(
                {
                    "activity": events["activity"],
                    "department": events["department"],
                    "pos": np.arange(len(events)),
                }
            )
            .dropna()
            .groupby(["activity", "department"], sort=False)["pos"]
            .agg(n="size", first="min")
        )
    if fr.lifecycle:
        has_start = events["start_timestamp"].notna().to_numpy()
        proc = np.where(has_start, ns_hours(fr.begin_ns, fr.end_ns, fr.tz, calendar), np.nan)
        out["proc"] = pd.DataFrame({"activity": fr.labels[fr.act], "h": proc.astype(float)})
    return out


def _endpoints(series: list[pd.Series]) -> pd.DataFrame:
    s = pd.concat(series).groupby(level=0).sum() if series else pd.Series(dtype=np.int64)
    t = pd.DataFrame(
        {"activity": pd.array(s.index.astype(str), dtype="str"), "count": s.to_numpy(np.int64)}
    )
    return t.sort_values(["count", "activity"], ascending=[False, True], ignore_index=True)


def discover_dfg(log: Any, *, calendar: Calendar | None = None) -> ProcessGraph:
    """:func:`svcmining.discover_dfg` on a Dask log (same tables, exact quantiles).

    Parameters
    ----------
    log : DaskTicketLog or dask.dataframe.DataFrame
        The log (see :func:`as_dask_log`).
    calendar : Calendar, optional
        Business calendar; waits are then business hours.

    Returns
    -------
    ProcessGraph

    Examples
    --------
    >>> graph = discover_dfg(as_dask_log(df))  # doctest: +SKIP
    """
    from ._groupstats import group_stats
    from .discovery import ProcessGraph
    from .discovery import discover_dfg as _pd_dfg

    dlog = _as_dask(log, "discover_dfg")
    parts = [p for p in _map(dlog, _dfg_part, calendar) if p["n_events"]]
    if not parts:
        return _pd_dfg(pd.DataFrame(dlog.events._meta), calendar=calendar)
    pairs = pd.concat([p["pairs"] for p in parts], ignore_index=True)
    key = pd.MultiIndex.from_frame(pairs[["source", "target"]])
    codes, uniq = pd.factorize(key)
    n_e = len(uniq)
    stats = group_stats(codes, pairs["wait"].to_numpy(dtype=float), n_e, "wait")
    pair_cases = pd.concat([p["pair_cases"] for p in parts]).groupby(level=[0, 1]).sum()
    uniq_mi = pd.MultiIndex.from_tuples(list(uniq), names=["source", "target"])
    edges = pd.DataFrame(
        {
            "source": pd.array(uniq_mi.get_level_values(0).astype(str), dtype="str"),
            "target": pd.array(uniq_mi.get_level_values(1).astype(str), dtype="str"),
            "count": np.bincount(codes, minlength=n_e).astype(np.int64),
            "cases": pair_cases.reindex(uniq_mi).to_numpy(dtype=np.int64),
            **stats,
        }
    ).sort_values(["count", "source", "target"], ascending=[False, True, True], ignore_index=True)

    acts = pd.concat([p["acts"] for p in parts]).groupby(level=0, sort=False).sum()
    activities = pd.DataFrame(
        {
            "activity": pd.array(acts.index.astype(str), dtype="str"),
            "count": acts["count"].to_numpy(np.int64),
            "cases": acts["cases"].to_numpy(np.int64),
        }
    )
    if any("deps" in p for p in parts):
        offsets = np.cumsum([0] + [p["n_events"] for p in parts])[:-1]
        deps = (
            pd.concat(
                [
                    p["deps"].assign(first=p["deps"]["first"] + off)
                    for p, off in zip(parts, offsets, strict=True)
                    if "deps" in p
                ]
            )
            .groupby(level=[0, 1])
            .agg({"n": "sum", "first": "min"})
        )
        best = (
            deps.reset_index()
            .sort_values(["activity", "n", "first"], ascending=[True, False, True])
            .drop_duplicates("activity")
            .set_index("activity")["department"]
        )
        activities.insert(
            1, "department", pd.array(best.reindex(activities["activity"]).to_numpy(), "str")
        )
    lifecycle = bool(parts[0]["lifecycle"]) or any(p["lifecycle"] for p in parts)
    if lifecycle:
        proc = pd.concat([p["proc"] for p in parts if "proc" in p], ignore_index=True)
        a_codes = pd.Index(activities["activity"]).get_indexer(proc["activity"])
        pstats = group_stats(
            a_codes, proc["h"].to_numpy(dtype=float), len(activities), "processing"
        )
        for name, values in pstats.items():
            activities[name] = values
    activities = activities.sort_values(
        ["count", "activity"], ascending=[False, True], ignore_index=True
    )
    return ProcessGraph(
        edges=edges,
        activities=activities,
        start_activities=_endpoints([p["starts"] for p in parts]),
        end_activities=_endpoints([p["ends"] for p in parts]),
        n_cases=int(sum(p["n_cases"] for p in parts)),
        n_events=int(sum(p["n_events"] for p in parts)),
        time_basis="elapsed" if calendar is None else "business",
        lifecycle=lifecycle,
    )


# ----------------------------------------------------------------------------------------------
# variants


def _variants_part(part: pd.DataFrame, calendar: Calendar | None) -> tuple[pd.Series, np.ndarray]:
    from .discovery import _case_durations, _variant_table

    events = _events(part)
    if len(events) == 0:
        return pd.Series([], dtype=object), np.array([], dtype=float)
    table, rank = _variant_table(events, calendar)
    seq = table["sequence"].to_numpy()[rank - 1]
    dur = _case_durations(events, calendar).to_numpy(dtype=float)
    return pd.Series(seq, dtype=object), dur


def variants(log: Any, *, calendar: Calendar | None = None) -> pd.DataFrame:
    """:func:`svcmining.variants` on a Dask log (exact medians).

    Each partition sends the variant (activity sequence) and duration of each of its
    tickets; the client counts and ranks the variants like the pandas function.

    Parameters
    ----------
    log : DaskTicketLog or dask.dataframe.DataFrame
        The log.
    calendar : Calendar, optional
        Business calendar for the case durations.

    Returns
    -------
    pandas.DataFrame
        The columns of :func:`svcmining.variants`.

    Examples
    --------
    >>> variants(as_dask_log(df))  # doctest: +SKIP
    """
    dlog = _as_dask(log, "variants")
    parts = _map(dlog, _variants_part, calendar)
    seq = pd.concat([s for s, _ in parts], ignore_index=True)
    dur = np.concatenate([d for _, d in parts]) if parts else np.array([], float)
    codes, uniq = pd.factorize(seq)
    n_var = len(uniq)
    counts = np.bincount(codes, minlength=n_var)
    sequences = list(uniq)
    median = (
        pd.Series(dur).groupby(codes).median().reindex(range(n_var)).to_numpy()
        if n_var
        else np.array([], float)
    )
    order = sorted(range(n_var), key=lambda v: (-counts[v], sequences[v]))
    share = counts[order] / max(len(seq), 1)
    return pd.DataFrame(
        {
            "variant_id": np.arange(1, n_var + 1, dtype=np.int64),
            "sequence": pd.Series([sequences[v] for v in order], dtype=object),
            "length": np.array([len(sequences[v]) for v in order], dtype=np.int64),
            "cases": counts[order].astype(np.int64),
            "share": share,
            "cumulative_share": np.cumsum(share),
            "median_case_duration_hours": median[order] if n_var else [],
        }
    )


# ----------------------------------------------------------------------------------------------
# find_rework


@dataclass(frozen=True)
class _Stages:
    """Stage per activity from the whole log (median relative position), for every partition."""

    stages: dict[str, float]

    def stage_of(self, activity: str) -> float | None:
        return self.stages.get(activity)


def _rel_positions(part: pd.DataFrame) -> pd.DataFrame:
    events = _events(part)
    codes = pd.factorize(events["case_id"])[0]
    n = len(events)
    starts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]]) if n else np.zeros(0, int)
    sizes = np.diff(np.append(starts, n))
    pos = np.arange(n) - np.repeat(starts, sizes)
    length = np.repeat(sizes, sizes)
    rel = np.where(length > 1, pos / np.maximum(length - 1, 1), 0.0)
    return pd.DataFrame({"activity": events["activity"].to_numpy(), "rel": rel})


def _rework_part(part: pd.DataFrame, kwargs: dict[str, Any]) -> tuple[ReworkResult, int]:
    from .rework import find_rework as _pd_rework

    events = _events(part)
    return _pd_rework(events, **kwargs), len(events)


def _sum_table(tables: list[pd.DataFrame], key: str | list[str]) -> pd.DataFrame:
    t = pd.concat(tables, ignore_index=True)
    keys = [key] if isinstance(key, str) else key
    num = [c for c in t.columns if c not in keys and c != "rework_rate"]
    return t.groupby(keys, sort=False, dropna=False)[num].sum().reset_index()


def find_rework(
    log: Any,
    *,
    close_activities: str | Sequence[str] | None = None,
    reopen_activities: str | Sequence[str] | None = None,
    group: str = "department",
    sop: Any = None,
    calendar: Calendar | None = None,
    window: int = 3,
) -> ReworkResult:
    """:func:`svcmining.find_rework` on a Dask log (same occurrences and tables).

    Without an SOP the activity stages (median relative position of each activity in its
    tickets) are computed over the whole log first, as in pandas. ``event_index`` is the
    row position in the whole sorted log.

    Parameters
    ----------
    log : DaskTicketLog or dask.dataframe.DataFrame
        The log.
    close_activities, reopen_activities, group, sop, calendar, window
        As for :func:`svcmining.find_rework`.

    Returns
    -------
    ReworkResult

    Examples
    --------
    >>> find_rework(as_dask_log(df)).summary()  # doctest: +SKIP
    """
    from .rework import ReworkResult

    dlog = _as_dask(log, "find_rework")
    if sop is None:
        rel = pd.concat(_map(dlog, _rel_positions), ignore_index=True)
        med = rel.groupby("activity", sort=False)["rel"].median()
        sop = _Stages({str(k): float(v) for k, v in med.items()})
    kwargs = {
        "close_activities": close_activities,
        "reopen_activities": reopen_activities,
        "group": group,
        "sop": sop,
        "calendar": calendar,
        "window": window,
    }
    results = cast(list[tuple[ReworkResult, int]], _map(dlog, _rework_part, kwargs))
    offsets = np.cumsum([0] + [n for _, n in results])[:-1]
    occ = pd.concat(
        [
            r.occurrences.assign(event_index=r.occurrences["event_index"] + off)
            for (r, _), off in zip(results, offsets, strict=True)
        ],
        ignore_index=True,
    )
    cases = pd.concat([r.cases for r, _ in results], ignore_index=True)
    by_act = _sum_table([r.by_activity for r, _ in results], "activity")
    with np.errstate(divide="ignore", invalid="ignore"):
        by_act.insert(
            6, "rework_rate", by_act["n_rework_cases"] / by_act["n_cases"].replace(0, np.nan)
        )
    by_act = by_act.sort_values(
        ["rework_hours", "n_rework", "activity"], ascending=[False, False, True], ignore_index=True
    )
    tabs = []
    for attr, name in (("by_department", group), ("by_resource", "resource")):
        t = _sum_table([getattr(r, attr) for r, _ in results], name)
        if len(t):
            with np.errstate(divide="ignore", invalid="ignore"):
                t.insert(3, "rework_rate", t["n_rework"] / t["n_events"].replace(0, np.nan))
        else:
            t = getattr(results[0][0], attr).iloc[:0]
        tabs.append(
            t.sort_values(
                ["rework_hours", "n_rework", name],
                ascending=[False, False, True],
                ignore_index=True,
            )
        )
    ref_keys = ["first_resource", "again_resource", "first_group", "again_group"]
    refs = _sum_table([r.referrals for r, _ in results], ref_keys)
    refs = refs.sort_values(["n_rework", *ref_keys], ascending=[False, True, True, True, True])
    first = results[0][0]
    return ReworkResult(
        occurrences=occ,
        cases=cases,
        by_activity=by_act[first.by_activity.columns],
        by_department=tabs[0][first.by_department.columns],
        by_resource=tabs[1][first.by_resource.columns],
        referrals=refs.reset_index(drop=True)[first.referrals.columns],
        group=first.group,
        n_log_events=int(sum(n for _, n in results)),
    )


# ----------------------------------------------------------------------------------------------
# handoff_delays


def _max_time(part: pd.DataFrame) -> Any:
    return part["timestamp"].max() if len(part) else pd.NaT


def _handoff_part(part: pd.DataFrame, kwargs: dict[str, Any]) -> HandoffResult:
    from .handoffs import handoff_delays as _pd_handoffs

    return _pd_handoffs(_events(part), **kwargs)


def handoff_delays(
    log: Any,
    *,
    by: str = "department",
    calendar: Calendar | None = None,
    include_pending: bool = False,
    cutoff: Any = None,
    close_activities: str | list[str] | tuple[str, ...] | None = None,
    window: int = 3,
) -> HandoffResult:
    """:func:`svcmining.handoff_delays` on a Dask log (exact p50/p90 per pair).

    The cutoff (default: the last event time of the whole log) is fixed before the
    partitions run. See the module docstring for pending handoffs.

    Parameters
    ----------
    log : DaskTicketLog or dask.dataframe.DataFrame
        The log.
    by, calendar, include_pending, cutoff, close_activities, window
        As for :func:`svcmining.handoff_delays`.

    Returns
    -------
    HandoffResult

    Examples
    --------
    >>> handoff_delays(as_dask_log(df)).matrix  # doctest: +SKIP
    """
    from .handoffs import HandoffResult, _matrix, _summary

    dlog = _as_dask(log, "handoff_delays")
    if cutoff is None:
        times = [t for t in _map(dlog, _max_time) if not pd.isna(t)]
        cutoff = max(times) if times else None
    kwargs = {
        "by": by,
        "calendar": calendar,
        "include_pending": include_pending,
        "cutoff": cutoff,
        "close_activities": close_activities,
        "window": window,
    }
    results = cast(list[HandoffResult], _map(dlog, _handoff_part, kwargs))
    hand = pd.concat([r.handoffs for r in results], ignore_index=True)
    cases = pd.concat([r.cases for r in results], ignore_index=True)
    groups = pd.concat([hand["from_group"], hand["to_group"]], ignore_index=True)
    g_codes, g_names = pd.factorize(groups, sort=True)
    n_h = len(hand)
    h_case = pd.factorize(hand["case_id"])[0].astype(np.int64)
    matrix = _matrix(
        hand,
        np.asarray(g_codes[:n_h], dtype=np.int64),
        np.asarray(g_codes[n_h:], dtype=np.int64),
        h_case,
        pd.Index(g_names),
        include_pending,
    )
    skipped = 0
    notes: list[str] = []
    for r in results:
        s = r.summary.set_index("metric")["value"]
        skipped += int(s.get("skipped_events", 0))
        notes.extend(n for n in r.notes if n not in notes)
    summary = _summary(hand, matrix, cases, skipped)
    return HandoffResult(
        handoffs=hand,
        matrix=matrix,
        cases=cases,
        summary=summary,
        by=results[0].by,
        business_hours=calendar is not None,
        notes=tuple(notes),
    )


# ----------------------------------------------------------------------------------------------
# check_sop (per variant)


def _sop_part(part: pd.DataFrame, sop: Any, kwargs: dict[str, Any]) -> dict[str, Any]:
    from .conformance import _encode
    from .conformance import check_sop as _pd_check
    from .discovery import _variant_table

    events = _events(part)
    if len(events) == 0:
        return {"n_events": 0}
    res = _pd_check(events, sop, precision=False, progress=False, workers=1, **kwargs)
    table, rank = _variant_table(events, None)
    seqs = table["sequence"].to_numpy()[rank - 1]
    # the flows of compare_with_sop: node = primary step label (or the activity), per event
    coded = _encode(events, sop)
    prim = np.array(
        [
            sop.steps[k].label if k >= 0 else a
            for a, k in zip(coded.act_names, coded.step_of_act.tolist(), strict=True)
        ],
        dtype=object,
    )
    node = prim[coded.act_codes]
    new_case = np.zeros(len(node), dtype=bool)
    new_case[coded.starts] = True
    end_case = np.r_[new_case[1:], True]
    src = np.concatenate([np.array(["[start]"], dtype=object), node[:-1]])
    src = np.where(new_case, "[start]", src).astype(object)
    hours = np.r_[np.nan, np.diff(coded.ts_ns) / 3.6e12]
    hours[new_case] = np.nan
    flows = pd.DataFrame(
        {
            "source": np.concatenate([src, node[end_case]]),
            "target": np.concatenate([node, np.full(int(end_case.sum()), "[end]", dtype=object)]),
            "case": np.r_[coded.case_codes, coded.case_codes[end_case]],
            "hours": np.r_[hours, np.full(int(end_case.sum()), np.nan)],
        }
    )
    return {
        "n_events": len(events),
        "result": res,
        "sequences": pd.Series(seqs, dtype=object),
        "activities": set(coded.act_names),
        "flows": flows,
        "nodes": pd.Series(node).value_counts(),
    }


def check_sop(
    log: Any,
    sop: Any,
    *,
    method: Literal["alignments", "token_replay", "auto"] = "auto",
    max_seconds: float | None = None,
    workers: int | None = None,
    precision: bool = True,
    cutoff: pd.Timestamp | str | None = None,
    progress: bool | None = None,
) -> ConformanceResult:
    """:func:`svcmining.check_sop` on a Dask log, each variant aligned in its partition.

    Every partition checks its tickets with the pandas kernel (one alignment per variant
    of the partition, ``workers=1`` inside a Dask worker). The client then ranks the
    variants over the whole log (``variant`` = global rank, as in pandas), adds counts,
    recomputes the rates, the log fitness (exact: from each partition's aligned cost) and
    the ETC precision once over the global variants and their frequencies. The cutoff
    (default: the last event of the whole log) is fixed before the partitions run.
    ``max_seconds`` is a time box per partition; ``workers`` and ``progress`` are accepted
    for signature compatibility (Dask decides the parallelism).

    Parameters
    ----------
    log : DaskTicketLog or dask.dataframe.DataFrame
        The log.
    sop : SOP or path
        From :func:`svcmining.load_sop`, or the path of a YAML / BPMN SOP.
    method, max_seconds, workers, precision, cutoff, progress
        As for :func:`svcmining.check_sop`.

    Returns
    -------
    ConformanceResult

    Examples
    --------
    >>> check_sop(as_dask_log(df), "sop.yaml").summary  # doctest: +SKIP
    """
    import time

    from .conformance import (
        MOVE_COST,
        ConformanceResult,
        _allowed_pairs,
        _as_sop,
        _automaton_for,
        _classify_flows,
        _pm4py_best_worst,
        _pm4py_precision,
        _precision,
        _sla_attainment,
        _summary_frame,
        _TooLarge,
    )

    t0 = time.perf_counter()
    del workers, progress
    sop = _as_sop(sop)
    dlog = _as_dask(log, "check_sop")
    if cutoff is None:
        times = [t for t in _map(dlog, _max_time) if not pd.isna(t)]
        cutoff = max(times) if times else None
    kwargs = {"method": method, "max_seconds": max_seconds, "cutoff": cutoff}
    parts = [p for p in _map(dlog, _sop_part, sop, kwargs) if p["n_events"]]
    if not parts:
        from .conformance import check_sop as _pd_check

        return _pd_check(_plain(dlog.events._meta), sop, precision=precision, progress=False)
    results: list[ConformanceResult] = [p["result"] for p in parts]

    # ---- global variants: codes as in the pandas kernel, ranked by frequency
    net, im, fm = sop.petri_net()
    try:
        auto = _automaton_for(sop)
    except _TooLarge:
        auto = None
    model_labels = (
        auto.labels
        if auto is not None
        else sorted({t.label for t in net.transitions if t.label is not None})
    )
    n_model = len(model_labels)
    lab_map = sop.label_map()
    lab_index = {lab: i for i, lab in enumerate(model_labels)}
    act_names = sorted(set().union(*(p["activities"] for p in parts)))
    unknown = [a for a in act_names if lab_map.get(a) not in lab_index]
    code_of = {a: lab_index[lab_map[a]] for a in act_names if a not in unknown}
    code_of.update({a: n_model + i for i, a in enumerate(unknown)})
    seq_all = pd.concat([p["sequences"] for p in parts], ignore_index=True)
    s_codes, s_uniq = pd.factorize(seq_all)
    freq = np.bincount(s_codes, minlength=len(s_uniq))
    code_seqs = [tuple(code_of[a] for a in s) for s in s_uniq]
    order = sorted(range(len(s_uniq)), key=lambda v: (-freq[v], code_seqs[v]))
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))

    # ---- per case / per deviation / per SLA: concatenated (tickets in log order)
    cases = pd.concat([r.cases for r in results], ignore_index=True)
    cases["variant"] = rank[s_codes]
    deviations = pd.concat([r.deviations for r in results], ignore_index=True)
    slas = pd.concat([r.slas for r in results], ignore_index=True)
    n_cases = len(cases)

    steps = results[0].steps.copy()
    num = [c for c in steps.columns if c not in ("step", "label", "deviation_rate")]
    steps[num] = sum(r.steps[num].to_numpy() for r in results)
    steps["deviation_rate"] = steps["cases_with_deviation"] / n_cases if n_cases else np.nan

    # ---- flows against the SOP (compare_with_sop)
    flows = pd.concat([p["flows"] for p in parts], ignore_index=True)
    g = flows.groupby(["source", "target"], sort=True)
    case_counts = (
        pd.concat(
            [
                p["flows"]
                .drop_duplicates(["source", "target", "case"])
                .value_counts(["source", "target"])
                for p in parts
            ]
        )
        .groupby(level=[0, 1])
        .sum()
    )
    taken = pd.DataFrame(
        {
            "count": g.size(),
            "cases": case_counts,
            "mean_hours": g["hours"].mean(),
            "median_hours": g["hours"].median(),
        }
    ).reset_index()
    taken["cases"] = taken["cases"].astype(np.int64)
    taken = taken[["count", "cases", "mean_hours", "median_hours", "source", "target"]]
    node_counts = pd.concat([p["nodes"] for p in parts]).groupby(level=0).sum()
    comparison = _classify_flows(
        taken,
        node_counts,
        n_cases,
        sop,
        _allowed_pairs(auto) if auto is not None else None,
        0.0,
    )

    # ---- summary
    def metric(r: ConformanceResult, name: str) -> float:
        return float(r.summary.set_index("metric")["value"][name])

    bwc = auto.best_worst_cost if auto is not None else _pm4py_best_worst(net, im, fm)
    cost = den = 0.0
    for r in results:
        al = (r.cases["method"] == "alignments").to_numpy()
        if al.any():
            b = float((MOVE_COST * r.cases["n_events"].to_numpy()[al] + bwc).sum())
            cost += (1.0 - metric(r, "log_fitness")) * b
            den += b
    if den > 0:
        log_fitness = 1.0 - cost / den
    else:
        log_fitness = float(cases["fitness"].mean()) if n_cases else float("nan")
    prec = float("nan")
    if precision and len(order):
        as_model = [tuple(c if c < n_model else -1 for c in code_seqs[v]) for v in order]
        f_sorted = freq[order]
        if auto is not None:
            prec = _precision(auto, as_model, f_sorted)
        else:
            prec = _pm4py_precision(net, im, fm, model_labels, as_model, f_sorted)
    n_flow = sum(round(metric(r, "flow_conformance_rate") * len(r.cases)) for r in results)
    summary = _summary_frame(
        cases,
        n_variants=len(order),
        log_fitness=log_fitness,
        precision=prec,
        flow_rate=n_flow / n_cases if n_cases else float("nan"),
        slas=slas,
        seconds=time.perf_counter() - t0,
    )
    return ConformanceResult(
        summary=summary,
        cases=cases,
        deviations=deviations,
        steps=steps,
        slas=slas,
        sla_attainment=_sla_attainment(slas, sop),
        comparison=comparison,
    )


# ----------------------------------------------------------------------------------------------
# service_kpis


def _kpi_part(part: pd.DataFrame, kwargs: dict[str, Any], by: str, sop: Any) -> dict[str, Any]:
    from .kpis import _period_labels, _step_durations, case_outcomes

    plog = as_ticket_log(_events(part))
    events = plog.events
    if len(events) == 0:
        return {"n_events": 0}
    cases = case_outcomes(plog, sop=sop, **kwargs)
    cases["period"] = _period_labels(cases["opened_at"], by).to_numpy()
    from .states import as_states

    st = as_states(None, sop=sop, close_activities=kwargs.get("close_activities"))
    step_h = _step_durations(plog, None, st).to_numpy(dtype="float64")
    codes = pd.factorize(events["case_id"])[0]
    if sop is not None:
        step_of = {lab: s.id for s in sop.steps for lab in s.labels}
        stage = events["activity"].map(step_of).fillna(events["activity"]).astype(str)
    else:
        stage = events["activity"].astype(str)
    steps = pd.DataFrame(
        {
            "period": cases["period"].to_numpy()[codes],
            "stage": stage.to_numpy(),
            "activity": events["activity"].astype(str).to_numpy(),
            "h": step_h,
        }
    )
    return {"n_events": len(events), "cases": cases, "steps": steps}


def service_kpis(
    log: Any,
    *,
    sop: Any = None,
    calendar: Calendar | None = None,
    by: Literal["month", "week", "quarter", "none"] = "month",
    benchmarks: Sequence[Any] = (),
    fcr: Any = None,
    repeat_within: str | pd.Timedelta = "7d",
    close_activities: Sequence[str] | None = None,
    cutoff: Any = None,
) -> ServiceKPIs:
    """:func:`svcmining.service_kpis` on a Dask log (exact medians and quantiles).

    Rework, handoffs and (with an SOP) conformance are first computed over the whole log
    with the functions of this module; every partition then builds its per-ticket table
    (:func:`svcmining.case_outcomes`) and its step durations, and the client recomputes the
    cross-ticket repeat contacts (same customer, another ticket within ``repeat_within``)
    and the KPI table from the combined rows.

    Parameters
    ----------
    log : DaskTicketLog or dask.dataframe.DataFrame
        The log.
    sop, calendar, by, benchmarks, fcr, repeat_within, close_activities, cutoff
        As for :func:`svcmining.service_kpis` (``fcr`` default: ``FCRDefinition()``).

    Returns
    -------
    ServiceKPIs

    Examples
    --------
    >>> service_kpis(as_dask_log(df)).table  # doctest: +SKIP
    """
    from ._validation import check_choice
    from .kpis import (
        FCRDefinition,
        StepBenchmark,
        _kpi_table,
        _period_labels,
        _repeat_contact,
        _td_hours,
    )

    check_choice("service_kpis", "by", by, ("month", "week", "quarter", "none"))
    for b in benchmarks:
        if not isinstance(b, StepBenchmark):
            raise InvalidParameterError(
                "The 'benchmarks' parameter of service_kpis must hold StepBenchmark objects. "
                f"Got {b!r} instead."
            )
    fcr = FCRDefinition() if fcr is None else fcr
    within = _td_hours(repeat_within, "repeat_within")
    if sop is not None:
        from .conformance import _as_sop

        sop = _as_sop(sop)
    dlog = _as_dask(log, "service_kpis")
    if calendar is None and sop is not None:
        calendar = getattr(sop, "calendar", None)
    if cutoff is None:
        times = [t for t in _map(dlog, _max_time) if not pd.isna(t)]
        cut = max(times) if times else pd.Timestamp.now(tz="UTC")
    else:
        cut = pd.Timestamp(cutoff)
        if cut.tzinfo is None:
            cut = cut.tz_localize(dlog.events._meta["timestamp"].dt.tz)
    ca = None if close_activities is None else list(close_activities)
    rework = find_rework(dlog, close_activities=ca, sop=sop, calendar=calendar)
    has_dept = "department" in dlog.events.columns
    handoffs = handoff_delays(dlog, calendar=calendar) if has_dept else None
    conformance = check_sop(dlog, sop, precision=False, cutoff=cut) if sop is not None else None
    kwargs = {
        "calendar": calendar,
        "repeat_within": repeat_within,
        "fcr": fcr,
        "close_activities": ca,
        "cutoff": cut,
        "rework": rework,
        "handoffs": handoffs,
        "conformance": conformance,
    }
    parts = [p for p in _map(dlog, _kpi_part, kwargs, by, sop) if p["n_events"]]
    cases = pd.concat([p["cases"] for p in parts], ignore_index=True)
    if "customer_id" in cases.columns:
        # repeat contacts span tickets of several partitions: recomputed over all tickets
        rep = _repeat_contact(cases, within * 1.0).to_numpy()
        cases["repeat_contact"] = rep
        if not fcr.allow_repeat_contact:
            cases["first_contact_resolved"] = cases["first_contact_resolved"].to_numpy() & ~rep
    cases = cases.set_index("case_id") if "case_id" in cases.columns else cases
    cases = cases.reset_index()
    steps = pd.concat([p["steps"] for p in parts], ignore_index=True)
    closed_period = _period_labels(cases["closed_at"].dropna(), by)
    slas = None
    if conformance is not None:
        slas = conformance.slas.assign(
            period=lambda d: d["case_id"].astype("str").map(cases.set_index("case_id")["period"])
        )
    ok = steps["h"].notna().to_numpy()
    sdf = steps[ok]
    stage_by = sdf.groupby(["period", "stage"], sort=True)["h"].agg(["median", "mean", "size"])
    stage_all = sdf.groupby("stage", sort=True)["h"].agg(["median", "mean", "size"])
    bench = []
    for b in benchmarks:
        m = sdf[sdf["activity"] == b.activity]
        bd = pd.DataFrame(
            {
                "p": m["period"].to_numpy(),
                "t": m["h"].to_numpy() > b.threshold_hours,
                "b": m["h"].to_numpy() > b.benchmark_hours,
            }
        )
        bench.append((b, bd.groupby("p").agg(["mean", "size"]), bd[["t", "b"]].mean()))
    return _kpi_table(cases, closed_period, stage_by, stage_all, bench, slas, by)
