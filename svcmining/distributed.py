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
tables (equal counts and hours) may differ; in :func:`handoff_delays` the receiver expected
by a *pending* handoff of an open ticket is learned per partition (the most frequent next
group after the same group and activity), so pending rows can differ when partitions
disagree on that mode; floating-point sums are added per partition (last-digit rounding).

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
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import pandas as pd

from .calendars import Calendar
from .eventlog import LogLike, TicketLog, as_events, sort_events
from .exceptions import InvalidParameterError, SchemaError

if TYPE_CHECKING:
    import dask.dataframe as dd

    from .discovery import ProcessGraph
    from .handoffs import HandoffResult
    from .rework import ReworkResult

__all__ = [
    "DaskTicketLog",
    "as_dask_log",
    "discover_dfg",
    "find_rework",
    "handoff_delays",
    "read_tickets",
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

    def compute(self) -> TicketLog:
        """Bring the whole log into memory as a pandas :class:`TicketLog`."""
        events = _plain(self.events.compute().reset_index(drop=True))
        return TicketLog(events=as_events(events))

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

    if npartitions is not None and (
        isinstance(npartitions, bool) or not isinstance(npartitions, int) or npartitions < 1
    ):
        raise InvalidParameterError(
            "The 'npartitions' parameter of as_dask_log must be a positive int or None. "
            f"Got {npartitions!r} instead."
        )
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
    from .discovery import _frame, _hours

    events = _events(part)
    if len(events) == 0:
        return {"n_events": 0}
    fr = _frame(events)
    i = np.flatnonzero(fr.case[1:] == fr.case[:-1]) if len(fr.case) > 1 else np.array([], int)
    wait = _hours(fr.end_ns[i], fr.begin_ns[i + 1], fr.tz, calendar)
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
        out["deps"] = (
            pd.DataFrame({"activity": events["activity"], "department": events["department"]})
            .dropna()
            .value_counts(sort=False)
        )
    if fr.lifecycle:
        has_start = events["start_timestamp"].notna().to_numpy()
        proc = np.where(has_start, _hours(fr.begin_ns, fr.end_ns, fr.tz, calendar), np.nan)
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
    from .discovery import ProcessGraph, _group_stats
    from .discovery import discover_dfg as _pd_dfg

    dlog = _as_dask(log, "discover_dfg")
    parts = [p for p in _map(dlog, _dfg_part, calendar) if p["n_events"]]
    if not parts:
        return _pd_dfg(pd.DataFrame(dlog.events._meta), calendar=calendar)
    pairs = pd.concat([p["pairs"] for p in parts], ignore_index=True)
    key = pd.MultiIndex.from_frame(pairs[["source", "target"]])
    codes, uniq = pd.factorize(key)
    n_e = len(uniq)
    stats = _group_stats(codes, pairs["wait"].to_numpy(dtype=float), n_e, "wait")
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
        deps = pd.concat([p["deps"] for p in parts if "deps" in p]).groupby(level=[0, 1]).sum()
        best = (
            deps.reset_index(name="n")
            .sort_values(["activity", "n", "department"], ascending=[True, False, True])
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
        pstats = _group_stats(
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
