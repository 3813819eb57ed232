"""Service KPIs and the pain-point map: the numbers service managers run their teams by.

:func:`service_kpis` gives one tidy table of the figures a monthly review asks for
(cases, cycle time, first-contact resolution, repeat contacts, reopen and rework rates,
handoff share, SLA attainment, SOP deviation rate, steps over a benchmark), by month
and overall. :func:`pain_points` ranks the breakpoints of the process by the hours they
cost. Both are built on :func:`svcmining.rework.find_rework`,
:func:`svcmining.handoffs.handoff_delays` and :func:`svcmining.conformance.check_sop`;
pass their results in (``rework=``, ``handoffs=``, ``conformance=``) to avoid computing
them twice.

Definitions
-----------
closed / open at cutoff
    A ticket is *closed* as every svcmining analysis judges it (:mod:`svcmining.states`):
    a closed event (结单, 已关闭, Closed, Done, ...; or ``close_activities``) and nothing
    that reopened it since its last closing (a reopen label, or work of a stage not after
    the close); ``closed_at`` is the time of its last closed event. Post-close steps
    (回访, 质量抽检) and runs of closing events do not reopen it; a ticket that is only
    resolved is open.
    Every other ticket is *open at the cutoff* (``cutoff``: default the last event
    of the log).
cycle time
    From the ticket's first event to ``closed_at``; for open tickets to the cutoff, as a
    **right-censored** observation (the ticket took *at least* that long). Percentiles
    and means use the Kaplan-Meier estimate: ``p50`` is the smallest duration ``t`` at
    which the estimated share of tickets closed by ``t`` reaches 50% (equal to the lower
    empirical quantile when nothing is censored; NaN when too few tickets closed to
    reach it); the mean is the area under the survival curve up to the longest observed
    duration (the plain mean when nothing is censored). In elapsed hours, and in
    business hours when a ``calendar`` is given.
period
    A ticket belongs to the period (month by default) of its first event, in the log's
    time zone; ``cases_closed`` counts closes in the period. ``all`` is the whole log.
step duration / time per stage
    ``timestamp - start_timestamp`` with lifecycle data, else the time since the
    previous event of the ticket (the first event has none), in elapsed hours (the
    way service teams quote them: "remote troubleshooting takes more than 4 hours").
    Per SOP step when an SOP is given (labels mapped to step ids), else per activity.
repeat contact
    The same customer (``customer_id``) opens another ticket within ``repeat_within``
    (default 7 days) after this one was opened: this ticket gets ``repeat_contact``.
first-contact resolution (FCR)
    Among closed tickets, the share resolved without a handoff, without rework and
    without a repeat contact (configurable with :class:`FCRDefinition`).
reopen rate / rework rate
    Share of tickets with a reopen cycle / with any rework occurrence (rework taxonomy
    of :mod:`svcmining.rework`; reopens and closings as :mod:`svcmining.states` judges
    them).
waiting hours / waiting share
    Time a ticket spends in waiting states (waiting on the customer or a third party:
    Pending, On Hold, Awaiting User Info, 待客户确认, 挂起 — :mod:`svcmining.states`),
    from the waiting event to the ticket's next event, up to its close (open tickets: up
    to the cutoff), in elapsed hours (``waiting_hours`` per ticket); the share is the
    sum over the tickets of their waiting hours / their cycle hours. Waiting is reported
    on its own: it is not rework, not handoff delay and (by default) not SLA time.
handoff share
    Hours waiting on handoffs between departments / the tickets' hours from first to last
    event (ratio of sums over the tickets, :mod:`svcmining.handoffs`). Without lifecycle
    data a handoff's delay runs to the receiving department's first *completed* step,
    so it includes that step's work.
SLA attainment / deviation rate
    Per SLA of the SOP: met / (met + breached), open tickets whose clock has not expired
    being censored, not counted; deviation rate: share of tickets with at least one SOP
    deviation (:func:`svcmining.check_sop`).
steps over a benchmark
    For each :class:`StepBenchmark`: share of the step's executions longer than its
    threshold (e.g. 远程排障 > 4 h) and longer than the benchmark (e.g. 1 h).
"""

from __future__ import annotations

import html
import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from ._groupstats import group_quantiles, group_stats
from ._repr import html_table, names, pct
from ._time import cutoff as cutoff_of
from ._time import hours
from ._validation import check_choice
from .eventlog import (
    LogLike,
    TicketLog,
    as_ticket_log,
    case_blocks,
    has_start_times,
    index_in,
    time_i8,
)
from .exceptions import InvalidParameterError
from .sop import as_sop
from .states import WAITING, TicketStates, active_clock, as_states, judge_log

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from .calendars import Calendar
    from .conformance import ConformanceResult
    from .discovery import ProcessGraph
    from .rework import ReworkResult

__all__ = [
    "FCRDefinition",
    "KPIAnalysis",
    "PainPoints",
    "ServiceKPIs",
    "StepBenchmark",
    "case_outcomes",
    "kpi_analysis",
    "pain_points",
    "service_kpis",
    "waiting_times",
]

Period = Literal["month", "week", "quarter", "none"]
_PERIOD_FREQ = {"month": "M", "week": "W-SUN", "quarter": "Q"}
ALL = "all"


# --------------------------------------------------------------------------- options


@dataclass(frozen=True)
class FCRDefinition:
    """What counts as first-contact resolution (defaults: the strict definition).

    Parameters
    ----------
    max_handoffs : int
        Most handoffs between departments a ticket may have (0: solved where it came in).
    allow_rework : bool
        Whether a ticket with rework (any kind, reopen included) can still count.
    allow_repeat_contact : bool
        Whether a ticket whose customer contacted again within ``repeat_within`` counts.

    Examples
    --------
    >>> FCRDefinition(max_handoffs=1).max_handoffs
    1
    """

    max_handoffs: int = 0
    allow_rework: bool = False
    allow_repeat_contact: bool = False


@dataclass(frozen=True)
class StepBenchmark:
    """A step whose duration is compared with a threshold and a benchmark.

    Parameters
    ----------
    activity : str
        Activity label (e.g. ``"远程排障"``).
    threshold : str or Timedelta
        Duration reported as "over" (e.g. ``"4h"``).
    benchmark : str or Timedelta, optional
        Best-in-class duration (e.g. ``"1h"``); in :func:`pain_points` the hours above
        it are the hours lost (the threshold when no benchmark is given).

    Examples
    --------
    >>> StepBenchmark("远程排障", "4h", "1h").threshold_hours
    4.0
    """

    activity: str
    threshold: str | pd.Timedelta
    benchmark: str | pd.Timedelta | None = None

    def __post_init__(self) -> None:
        _td_hours(self.threshold, "threshold")
        if self.benchmark is not None:
            _td_hours(self.benchmark, "benchmark")

    @property
    def threshold_hours(self) -> float:
        """The threshold in hours."""
        return _td_hours(self.threshold, "threshold")

    @property
    def benchmark_hours(self) -> float:
        """The benchmark in hours (the threshold when none is given)."""
        if self.benchmark is None:
            return self.threshold_hours
        return _td_hours(self.benchmark, "benchmark")


def _td_hours(value: Any, param: str) -> float:
    try:
        if isinstance(value, pd.Timedelta):
            td = value
        else:
            try:
                from .calendars import parse_duration

                td = parse_duration(value)
            except ImportError:  # calendars.py not there yet
                td = pd.Timedelta(value)
    except (ValueError, TypeError) as exc:
        raise InvalidParameterError(
            f"The {param!r} parameter must be a duration such as '4h' or '30min'. "
            f"Got {value!r} instead."
        ) from exc
    return float(td / pd.Timedelta(hours=1))


# --------------------------------------------------------------------------- helpers

# ------------------------------------------------------------------ the analyses used
# service_kpis, pain_points and drill_down take the results of find_rework, handoff_delays
# and check_sop by argument, and compute (once per call, never cached between calls) only
# those not given. A report computes each once and passes it to every section.


def _analyses(
    tlog: TicketLog,
    *,
    sop: Any,
    calendar: Calendar | None,
    states: TicketStates,
    cut: pd.Timestamp,
    given: tuple[ReworkResult | None, Any, ConformanceResult | None],
    need: Sequence[str] = ("rework", "handoffs", "conformance"),
) -> tuple[ReworkResult | None, Any, ConformanceResult | None]:
    """The rework, handoff and conformance results: ``given`` ones as they are, missing
    ones computed once (the SOP check beside the others on the second core)."""
    rework, handoffs, conformance = given
    from concurrent.futures import ThreadPoolExecutor

    checking = None
    if conformance is None and sop is not None and "conformance" in need:
        # numpy / pyarrow release the GIL in their loops: the independent SOP check runs
        # beside rework and handoffs
        from .conformance import check_sop

        pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="svcmining-sop")
        checking = pool.submit(check_sop, tlog, sop, precision=False, cutoff=cut, states=states)
        pool.shutdown(wait=False)
    if rework is None and "rework" in need:
        from .rework import find_rework

        rework = find_rework(tlog, states=states, sop=sop, calendar=calendar)
    if handoffs is None and "handoffs" in need and "department" in tlog.events.columns:
        from .handoffs import handoff_delays

        handoffs = handoff_delays(tlog, calendar=calendar, cutoff=cut, states=states, sop=sop)
    if checking is not None:
        conformance = checking.result()
    return rework, handoffs, conformance


def _period_labels(times: pd.Series, by: str) -> pd.Series:
    if by == "none":
        return pd.Series(ALL, index=times.index, dtype="str")
    # label each distinct day once (tickets of a year fall on a few hundred days)
    naive = times.dt.tz_localize(None).astype("datetime64[ns]")
    days = naive.to_numpy().astype("datetime64[D]")
    codes, uniq = pd.factorize(days)
    labels = pd.Series(pd.DatetimeIndex(uniq).to_period(_PERIOD_FREQ[by]).astype("str"))
    taken = labels.to_numpy(dtype=object)[codes] if len(uniq) else np.array([], dtype=object)
    out = pd.Series(taken, index=times.index, dtype="str")
    return out.where(np.asarray(codes) >= 0)


def km_quantiles(
    durations: np.ndarray, observed: np.ndarray, qs: Sequence[float]
) -> tuple[list[float], float]:
    """Kaplan-Meier quantiles and restricted mean of right-censored durations.

    Parameters
    ----------
    durations : array of float
        Observed durations (closed) or durations so far (censored).
    observed : array of bool
        True where the duration ended (the ticket closed).
    qs : sequence of float
        Quantiles in (0, 1).

    Returns
    -------
    (list of float, float)
        The quantiles (NaN when the estimated closed share never reaches ``q``) and the
        area under the survival curve up to the longest duration.

    Examples
    --------
    >>> km_quantiles(np.array([1.0, 2.0, 3.0]), np.array([True, True, False]), [0.5])
    ([2.0], 2.0)
    """
    d = np.asarray(durations, dtype="float64")
    o = np.asarray(observed, dtype=bool)
    keep = ~np.isnan(d)
    d, o = d[keep], o[keep]
    if len(d) == 0:
        return [float("nan")] * len(qs), float("nan")
    order = np.lexsort((~o, d))  # at equal times, events before censorings
    d, o = d[order], o[order]
    times, first = np.unique(d, return_index=True)
    n_at = len(d) - first  # at risk at each distinct time
    ev = np.add.reduceat(o.astype("int64"), first)
    surv = np.cumprod(1.0 - ev / n_at)
    out = []
    for q in qs:
        hit = np.nonzero(1.0 - surv >= q - 1e-12)[0]
        out.append(float(times[hit[0]]) if len(hit) else float("nan"))
    prev_s = np.concatenate(([1.0], surv[:-1]))
    widths = np.diff(np.concatenate(([0.0], times)))
    mean = float(np.sum(prev_s * widths))
    return out, mean


def _step_durations(
    tlog: TicketLog, calendar: Calendar | None, states: TicketStates | None = None
) -> pd.Series:
    """Per event: start→completion with lifecycle data, else previous event → this one.

    With ``states``, time the ticket spent waiting (a waiting state until this event) is
    left out: the step after a wait on the customer did not take that long.
    """
    events = tlog.events
    ts = events["timestamp"]
    codes = tlog.case_index()[0]
    same_case = np.zeros(len(events), dtype=bool)
    same_case[1:] = codes[1:] == codes[:-1]
    if not has_start_times(events):  # previous event -> this one: one clock value per event
        from .calendars import working_ns

        clock = time_i8(ts.dt.as_unit("ns")) if calendar is None else working_ns(ts, calendar)
        if states is not None:
            act = tlog.codes("activity")
            lc = tlog.codes("lifecycle") if "lifecycle" in events.columns else (None, None)
            kinds = states.event_kinds(act[0], act[1], lc[0], lc[1])
            clock = active_clock(codes, kinds, clock)[0]
        out = np.full(len(events), np.nan)
        out[1:] = np.where(same_case[1:], (clock[1:] - clock[:-1]) / 3.6e12, np.nan)
        return pd.Series(out, index=events.index)
    prev = ts.shift().where(pd.Series(same_case, index=events.index))
    start = events["start_timestamp"].where(events["start_timestamp"].notna(), prev)
    out_h = hours(start.astype(ts.dtype), ts, calendar)
    if states is not None:  # a waiting step's own span is a wait, not a step's duration
        act = tlog.codes("activity")
        lc = tlog.codes("lifecycle") if "lifecycle" in events.columns else (None, None)
        waiting = states.event_kinds(act[0], act[1], lc[0], lc[1]) == WAITING
        out_h = out_h.where(~waiting)
    return out_h


def _event_waits(
    tlog: TicketLog, judged: Any, cutoff: pd.Timestamp, calendar: Calendar | None
) -> np.ndarray:
    """Per event: nanoseconds of the wait on the customer / a third party it starts (until
    the ticket's next event, or the cutoff while still waiting), up to the ticket's close;
    elapsed, or business time under ``calendar``."""
    from .calendars import working_ns

    ts = tlog.events["timestamp"]
    codes, starts = tlog.case_index()
    n_cases = len(starts)
    # events and cutoff on one clock (business clock values of two calls differ by a constant)
    last = np.append(starts[1:], len(ts)) - 1 if n_cases else starts
    with_cut = (
        pd.concat(
            [ts.reset_index(drop=True), pd.Series([pd.Timestamp(cutoff)]).dt.tz_convert(ts.dt.tz)],
            ignore_index=True,
        )
        if n_cases
        else ts
    )
    clock = (
        time_i8(with_cut.dt.as_unit("ns")) if calendar is None else working_ns(with_cut, calendar)
    )
    ns = clock[: len(ts)]
    wait = active_clock(codes, judged.kinds, ns)[1].astype(float)
    if n_cases:
        is_open = judged.open
        close_row = np.maximum(judged.closed_row, 0)
        cut_ns = int(clock[-1])
        open_wait = is_open & (judged.kinds[last] == WAITING)
        wait[last[open_wait]] = np.maximum(cut_ns - ns[last[open_wait]], 0)
        end_row = np.where(is_open, last, close_row)
        wait[np.arange(len(ts)) > end_row[codes]] = 0.0  # after the close: not the ticket's
    return wait


def _case_times(
    tlog: TicketLog,
    states: TicketStates,
    sop: Any,
    cutoff: pd.Timestamp,
    calendar: Calendar | None = None,
) -> pd.DataFrame:
    """Per case (sorted ids): opened_at, closed_at (NaT when open), open_at_cutoff and
    waiting_hours (elapsed hours in waiting states up to the close, or the cutoff).

    Closed and open as :mod:`svcmining.states` judges them (the rule every module uses).
    """
    events = tlog.events
    ts = events["timestamp"]
    codes, starts = tlog.case_index()
    judged = judge_log(tlog, states, sop)
    is_open = judged.open
    opened = ts.iloc[starts].reset_index(drop=True)
    close_row = np.maximum(judged.closed_row, 0)
    close_t = ts.iloc[close_row].reset_index(drop=True) if len(ts) else opened
    closed_at = close_t.where(~pd.Series(is_open)).astype(ts.dtype)
    n_cases = len(starts)
    wait = _event_waits(tlog, judged, cutoff, calendar)
    waiting_hours = np.bincount(codes, weights=wait, minlength=n_cases) / 3.6e12
    index = pd.Index(events["case_id"].iloc[starts].astype("str").to_numpy(), name="case_id")
    out = pd.DataFrame(
        {
            "opened_at": opened,
            "closed_at": closed_at,
            "open_at_cutoff": is_open.astype(bool),
            "waiting_hours": waiting_hours,
        }
    )
    out.index = index
    return out


def _first_value(events: pd.DataFrame, col: str, starts: np.ndarray) -> np.ndarray:
    """Each case's first non-missing value of ``col``."""
    s = events[col]
    first = s.iloc[starts].reset_index(drop=True)
    missing = first.isna().to_numpy()
    if missing.any():
        later = s.groupby(events["case_id"], sort=True).first().reset_index(drop=True)
        first = first.where(~missing, later)
    return first.to_numpy()


def _repeat_contact(cases: pd.DataFrame, within_hours: float) -> pd.Series:
    """True where the same customer opened another ticket within ``within_hours`` after."""
    cust_codes = pd.factorize(cases["customer_id"])[0]
    t = cases["opened_at"].dt.tz_convert("UTC").dt.tz_localize(None)
    t_ns = t.to_numpy().astype("datetime64[ns]").astype("int64")
    ok = cust_codes >= 0
    idx = np.flatnonzero(ok)
    order = idx[np.lexsort((t_ns[idx], cust_codes[idx]))]
    c, tt = cust_codes[order], t_ns[order]
    nxt_same = np.r_[c[1:] == c[:-1], False]
    gap = np.r_[tt[1:] - tt[:-1], 0] / 3.6e12
    rep = np.zeros(len(cases), dtype=bool)
    rep[order] = nxt_same & (gap <= within_hours)
    return pd.Series(rep, index=cases.index)


def _handoff_cases(handoffs: Any) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(per-case n_handoffs / handoff_hours / span_hours / handoff_share, per-handoff table)."""
    if handoffs is None:
        empty = pd.DataFrame(columns=["n_handoffs", "handoff_hours", "span_hours"])
        return empty, pd.DataFrame()
    c = handoffs.cases.set_index("case_id")
    c = c[["n_handoffs", "handoff_hours", "cycle_hours", "handoff_share"]].rename(
        columns={"cycle_hours": "span_hours"}
    )
    c.index = c.index.astype("str")
    return c, handoffs.handoffs


# --------------------------------------------------------------------------- case table


def case_outcomes(
    log: LogLike,
    *,
    sop: Any = None,
    calendar: Calendar | None = None,
    repeat_within: str | pd.Timedelta = "7d",
    fcr: FCRDefinition = FCRDefinition(),
    close_activities: Sequence[str] | None = None,
    cutoff: Any = None,
    rework: ReworkResult | None = None,
    handoffs: Any = None,
    conformance: ConformanceResult | None = None,
    parts: Sequence[str] = ("rework", "handoffs", "conformance"),
    states: TicketStates | None = None,
) -> pd.DataFrame:
    """One row per ticket with the flags and durations the KPIs are computed from.

    Columns: ``case_id``, ``opened_at``, ``closed_at``, ``open_at_cutoff``,
    ``cycle_hours`` (to the close, or to the cutoff for open tickets),
    ``cycle_business_hours`` (with a calendar), ``waiting_hours`` (time in waiting
    states, see the module docstring), ``channel`` / ``priority`` /
    ``customer_id`` (first value, when present), ``repeat_contact``; with rework:
    ``has_rework``, ``reopened``, ``n_reopen``, ``ping_pong``, ``rework_hours``; with
    handoffs (a ``department`` column): ``n_handoffs``, ``handoff_hours``,
    ``span_hours`` (first to last event, in the handoff module's hours) and
    ``handoff_share`` (their ratio); then
    ``first_contact_resolved`` (NaN-free bool; False for open tickets); with an SOP:
    ``conforming``, ``deviating``, ``sla_breached``. See the module docstring for the
    definitions.

    Examples
    --------
    >>> import pandas as pd
    >>> ev = pd.DataFrame({"case_id": ["1", "1"], "activity": ["投诉登记", "结单"],
    ...     "timestamp": pd.to_datetime(["2024-10-08 09:00", "2024-10-08 11:30"]
    ...                                 ).tz_localize("Asia/Shanghai")})
    >>> case_outcomes(ev, parts=())["cycle_hours"].tolist()
    [2.5]
    """
    tlog = as_ticket_log(log)
    events = tlog.events
    for p in parts:
        check_choice("case_outcomes", "parts", p, ("rework", "handoffs", "conformance"))
    if not isinstance(fcr, FCRDefinition):
        raise InvalidParameterError(
            f"The 'fcr' parameter must be an FCRDefinition. Got {fcr!r} instead."
        )
    within = _td_hours(repeat_within, "repeat_within")
    sop = as_sop(sop, func="case_outcomes")
    st = as_states(states, sop=sop, close_activities=close_activities, func="case_outcomes")
    cut = cutoff_of(events, cutoff, func="case_outcomes")
    given = (rework, handoffs, conformance)
    results = _analyses(
        tlog, sop=sop, calendar=calendar, states=st, cut=cut, given=given, need=parts
    )
    return _outcomes(tlog, st, sop, cut, calendar, within, fcr, *results)


def _outcomes(
    tlog: TicketLog,
    states: TicketStates,
    sop: Any,
    cut: pd.Timestamp,
    calendar: Calendar | None,
    within: float,
    fcr: FCRDefinition,
    rework: ReworkResult | None,
    handoffs: Any,
    conformance: ConformanceResult | None,
) -> pd.DataFrame:
    """The per-ticket table of :func:`case_outcomes` from the analyses' results."""
    events = tlog.events
    cases = _case_times(tlog, states, sop, cut)
    end = cases["closed_at"].where(~cases["open_at_cutoff"], cut).astype(cases["opened_at"].dtype)
    cases["cycle_hours"] = hours(cases["opened_at"], end, None).clip(lower=0)
    if calendar is not None:
        cases["cycle_business_hours"] = hours(cases["opened_at"], end, calendar).clip(lower=0)
    starts = tlog.case_index()[1]
    for col in ("channel", "priority", "customer_id"):
        if col in events.columns:
            cases[col] = _first_value(events, col, starts)
    if "customer_id" in cases.columns:
        cases["repeat_contact"] = _repeat_contact(cases, within * 1.0)
    else:
        cases["repeat_contact"] = False
    fcr_ok = ~cases["open_at_cutoff"]
    if not fcr.allow_repeat_contact:
        fcr_ok &= ~cases["repeat_contact"]
    if rework is not None:
        rc = rework.cases.set_index("case_id")
        rc.index = rc.index.astype("str")
        cases["has_rework"] = rc["has_rework"].reindex(cases.index, fill_value=False).astype(bool)
        cases["n_reopen"] = rc["n_reopen"].reindex(cases.index, fill_value=0).astype("int64")
        cases["reopened"] = cases["n_reopen"] > 0
        cases["ping_pong"] = rc["ping_pong"].reindex(cases.index, fill_value=False).astype(bool)
        cases["rework_hours"] = rc["rework_hours"].reindex(cases.index, fill_value=0.0)
        if not fcr.allow_rework:
            fcr_ok &= ~cases["has_rework"]
    if handoffs is not None:
        per, _ = _handoff_cases(handoffs)
        cases["n_handoffs"] = per["n_handoffs"].reindex(cases.index, fill_value=0).astype("int64")
        cases["handoff_hours"] = (
            per["handoff_hours"].reindex(cases.index, fill_value=0.0).astype("float64")
        )
        cases["span_hours"] = per["span_hours"].reindex(cases.index).astype("float64")
        cases["handoff_share"] = per["handoff_share"].reindex(cases.index).astype("float64")
        fcr_ok &= cases["n_handoffs"] <= fcr.max_handoffs
    cases["first_contact_resolved"] = fcr_ok.astype(bool)
    if conformance is not None:
        cc = conformance.cases.set_index("case_id")
        cc.index = cc.index.astype("str")
        cases["conforming"] = cc["conforming"].reindex(cases.index).astype("boolean")
        cases["deviating"] = ~cases["conforming"]
        cases["sla_breached"] = (
            cc["sla_breaches"].astype("str").ne("").reindex(cases.index, fill_value=False)
        ).astype(bool)
    return cases.reset_index()


def waiting_times(
    log: LogLike,
    *,
    states: TicketStates | None = None,
    sop: Any = None,
    calendar: Calendar | None = None,
    cutoff: Any = None,
) -> pd.DataFrame:
    """Time each ticket waited on the customer or a third party, per waiting state.

    A wait starts at an event in a waiting state (Pending, On Hold, Awaiting User Info,
    Waiting for customer, 待客户确认, 挂起 …; :mod:`svcmining.states`) and lasts until the
    ticket's next event; a ticket still waiting at the cutoff waits until then. Waits after
    a ticket's close are not counted. The same hours make ``waiting_hours`` of
    :func:`case_outcomes` (there in elapsed hours); they are reported apart because they
    are neither rework, nor handoff delay, nor hours lost.

    Returns
    -------
    pandas.DataFrame
        One row per ticket and waiting state: ``case_id``, ``state`` (the label, with its
        lifecycle status where the log has one), ``waits`` (how many times it entered the
        state) and ``waiting_hours`` (elapsed, or business hours under ``calendar``).

    Examples
    --------
    >>> import pandas as pd
    >>> ts = pd.date_range("2024-10-08 09:00", periods=4, freq="2h", tz="Asia/Shanghai")
    >>> ev = pd.DataFrame({"case_id": "1", "timestamp": ts,
    ...                    "activity": ["登记", "待客户确认", "处理", "结单"]})
    >>> waiting_times(ev)[["state", "waits", "waiting_hours"]].to_dict("records")
    [{'state': '待客户确认', 'waits': 1, 'waiting_hours': 2.0}]
    """
    tlog = as_ticket_log(log)
    events = tlog.events
    sop = as_sop(sop, func="waiting_times")
    st = as_states(states, sop=sop, func="waiting_times")
    cut = cutoff_of(events, cutoff, func="waiting_times")
    wait = _event_waits(tlog, judge_log(tlog, st, sop), cut, calendar) / 3.6e12  # hours
    codes = tlog.case_index()[0]
    rows = np.flatnonzero(wait > 0)
    label = events["activity"].astype("str")
    if "lifecycle" in events.columns:
        label = label.where(
            events["lifecycle"].isna(), label + "+" + events["lifecycle"].astype("str")
        )
    frame = pd.DataFrame(
        {
            "case_id": events["case_id"].to_numpy()[rows],
            "state": label.to_numpy()[rows],
            "c": codes[rows],
            "h": wait[rows],
        }
    )
    out = (
        frame.groupby(["c", "case_id", "state"], sort=True)
        .agg(waits=("h", "size"), waiting_hours=("h", "sum"))
        .reset_index()
        .drop(columns="c")
    )
    out["case_id"] = out["case_id"].astype("str")
    out["state"] = out["state"].astype("str")
    out["waits"] = out["waits"].astype("int64")
    return out


# --------------------------------------------------------------------------- KPIs


_KPI_COLUMNS = ["period", "kpi", "detail", "value", "unit", "n"]


@dataclass(frozen=True, eq=False)
class ServiceKPIs:
    """What :func:`service_kpis` computed.

    Attributes
    ----------
    table : pandas.DataFrame
        Tidy: ``period`` (e.g. ``"2024-10"``, or ``"all"``), ``kpi``, ``detail`` (SLA id,
        SOP step, "远程排障 > 4h"...; empty when none), ``value``, ``unit`` (``cases``,
        ``hours``, ``business_hours``, ``share``) and ``n`` (the denominator: tickets, or
        step executions).
    cases : pandas.DataFrame
        The per-ticket table the KPIs come from (see :func:`case_outcomes`), with
        ``period``.
    by : str
        The period length.
    analyses : dict
        The :func:`~svcmining.find_rework`, :func:`~svcmining.handoff_delays` and
        :func:`~svcmining.check_sop` results the KPIs were computed from (``rework``,
        ``handoffs``, ``conformance``; ``None`` where not run), to pass on to other
        analyses of the same log instead of computing them again:
        ``pain_points(log, sop=sop, **kpis.analyses)``.
    """

    table: pd.DataFrame
    cases: pd.DataFrame
    by: str = "month"
    analyses: Mapping[str, Any] = field(default_factory=dict, repr=False)

    def to_frame(self) -> pd.DataFrame:
        """The tidy KPI table."""
        return self.table.copy()

    def wide(self) -> pd.DataFrame:
        """KPIs as rows (``kpi``, ``detail``), periods as columns."""
        t = self.table
        w = t.pivot_table(
            index=["kpi", "detail"], columns="period", values="value", aggfunc="first", sort=False
        )
        cols = [c for c in w.columns if c != ALL] + ([ALL] if ALL in w.columns else [])
        return w[cols]

    def value(self, kpi: str, detail: str = "", period: str = ALL) -> float:
        """One KPI value (NaN when absent)."""
        t = self.table
        hit = t[(t["kpi"] == kpi) & (t["detail"] == detail) & (t["period"] == period)]
        return float(hit["value"].iloc[0]) if len(hit) else float("nan")

    def plot(self, *, kpis: Sequence[str] | None = None) -> Figure:
        """A small dashboard: one panel per KPI, month over month (the overall as a line)."""
        import matplotlib.pyplot as plt
        from matplotlib.ticker import MaxNLocator

        from ._fonts import use_cjk_font

        use_cjk_font()
        t = self.table
        default = [
            "cases_opened",
            "cycle_hours_p50",
            "first_contact_resolution",
            "repeat_contact_rate",
            "reopen_rate",
            "rework_rate",
            "handoff_share",
            "sla_attainment",
            "deviation_rate",
            "step_over_threshold_share",
        ]
        names = list(kpis) if kpis is not None else [k for k in default if k in set(t["kpi"])]
        n = max(len(names), 1)
        ncol = min(3, n)
        nrow = (n + ncol - 1) // ncol
        fig, axes = plt.subplots(nrow, ncol, figsize=(4.2 * ncol, 2.8 * nrow), squeeze=False)
        for ax, name in zip(axes.flat, names, strict=False):
            sub = t[t["kpi"] == name]
            per = sub[sub["period"] != ALL]
            for detail, g in per.groupby("detail", sort=False):
                ax.plot(g["period"], g["value"], marker="o", label=str(detail) or None)
            tot = sub[sub["period"] == ALL]
            if len(tot) == 1 and (tot["unit"] != "cases").all():  # counts: no overall line
                ax.axhline(float(tot["value"].iloc[0]), color="grey", ls="--", lw=0.8)
            unit = sub["unit"].iloc[0] if len(sub) else ""
            # y given: no search for decorations above the panel (there are none)
            ax.set_title(f"{name} ({unit})", fontsize=9, y=1.0)
            ax.tick_params(labelsize=7)
            ax.yaxis.set_major_locator(MaxNLocator(nbins=4, steps=[1, 2, 5, 10]))
            if len(set(per["detail"])) > 1:
                ax.legend(fontsize=6)
        for ax in list(axes.flat)[len(names) :]:
            ax.set_axis_off()
        fig.tight_layout()
        return fig

    def _headline(self) -> str:
        t = self.table
        periods = [str(p) for p in dict.fromkeys(t["period"]) if p != ALL]
        parts = []
        headline = ("cases_opened", "cycle_hours_p50", "first_contact_resolution", "sla_attainment")
        for kpi in headline:
            v = self.value(kpi)
            if v == v:  # not NaN
                unit = t.loc[t["kpi"] == kpi, "unit"].iloc[0]
                parts.append(f"{kpi} {pct(v) if unit == 'share' else f'{v:,.4g}'}")
        return (
            f"by {self.by}, {len(periods)} periods ({names(periods, limit=3)}), "
            f"{t['kpi'].nunique()} KPIs" + (f"; overall {', '.join(parts)}" if parts else "")
        )

    def __repr__(self) -> str:
        return f"ServiceKPIs({self._headline()})"

    def _repr_html_(self) -> str:
        wide = self.wide()
        periods = [c for c in wide.columns if c != ALL]
        keep = periods[-8:] + [c for c in wide.columns if c == ALL]  # the latest periods
        note = f"<p>… {len(periods) - 8} earlier periods</p>" if len(periods) > 8 else ""
        return (
            f"<p><b>Service KPIs</b>: {html.escape(self._headline())}</p>"
            + html_table(wide[keep].reset_index(), max_rows=25, float_format=lambda x: f"{x:.3g}")
            + note
        )


def _rows(period: str, kpi: str, detail: str, value: float, unit: str, n: int) -> dict[str, Any]:
    return {
        "period": period,
        "kpi": kpi,
        "detail": detail,
        "value": float(value),
        "unit": unit,
        "n": int(n),
    }


def _share(mask: pd.Series) -> float:
    m = mask.dropna()
    return float(m.mean()) if len(m) else float("nan")


def service_kpis(
    log: LogLike,
    *,
    sop: Any = None,
    calendar: Calendar | None = None,
    by: Period = "month",
    benchmarks: Sequence[StepBenchmark] = (),
    fcr: FCRDefinition = FCRDefinition(),
    repeat_within: str | pd.Timedelta = "7d",
    close_activities: Sequence[str] | None = None,
    cutoff: Any = None,
    rework: ReworkResult | None = None,
    handoffs: Any = None,
    conformance: ConformanceResult | None = None,
    states: TicketStates | None = None,
) -> ServiceKPIs:
    """The service KPIs of a ticket log, by period and overall, in one tidy table.

    See the module docstring for every definition.

    Parameters
    ----------
    log : TicketLog or pandas.DataFrame
        The event log.
    sop : SOP, optional
        Enables SLA attainment, the deviation rate (via :func:`svcmining.check_sop`,
        the slowest part: pass ``conformance=`` to reuse a result) and time per SOP step.
    calendar : Calendar, optional
        Business hours for cycle times, stage times and handoffs (default: the SOP's).
    by : {'month', 'week', 'quarter', 'none'}
        Period of the tickets' opening.
    benchmarks : sequence of StepBenchmark
        Steps to report as "share over threshold / over benchmark".
    fcr : FCRDefinition
        What counts as first-contact resolution.
    repeat_within : str or Timedelta
        Window for a repeat contact by the same customer (default ``"7d"``).
    close_activities : list of str, optional
        Labels closing a ticket (default the rework module's list).
    cutoff : timestamp, optional
        When the export was taken (default: the last event).
    rework, handoffs, conformance : results, optional
        Precomputed :func:`find_rework`, :func:`handoff_delays`, :func:`check_sop`.

    Returns
    -------
    ServiceKPIs

    Examples
    --------
    >>> import svcmining as svc                                        # doctest: +SKIP
    >>> bench = [svc.StepBenchmark("远程排障", "4h", "1h")]           # doctest: +SKIP
    >>> k = svc.service_kpis(svc.read_tickets("sample_logs/"), benchmarks=bench)  # doctest: +SKIP
    >>> k.value("cycle_hours_p50")                                    # doctest: +SKIP
    """
    check_choice("service_kpis", "by", by, ("month", "week", "quarter", "none"))
    for b in benchmarks:
        if not isinstance(b, StepBenchmark):
            raise InvalidParameterError(
                "The 'benchmarks' parameter of service_kpis must hold StepBenchmark objects. "
                f"Got {b!r} instead."
            )
    tlog = as_ticket_log(log)
    events = tlog.events
    if not isinstance(fcr, FCRDefinition):
        raise InvalidParameterError(
            f"The 'fcr' parameter must be an FCRDefinition. Got {fcr!r} instead."
        )
    within = _td_hours(repeat_within, "repeat_within")
    sop = as_sop(sop, func="service_kpis")
    if calendar is None and sop is not None:
        calendar = getattr(sop, "calendar", None)
    st = as_states(states, sop=sop, close_activities=close_activities, func="service_kpis")
    cut = cutoff_of(events, cutoff, func="service_kpis")
    given = (rework, handoffs, conformance)
    rework, handoffs, conformance = _analyses(
        tlog, sop=sop, calendar=calendar, states=st, cut=cut, given=given
    )
    cases = _outcomes(tlog, st, sop, cut, calendar, within, fcr, rework, handoffs, conformance)
    cases["period"] = _period_labels(cases["opened_at"], by).to_numpy()
    closed_period = _period_labels(cases["closed_at"].dropna(), by)

    slas = None
    if conformance is not None:
        at = index_in(conformance.slas["case_id"], cases["case_id"])
        period = cases["period"].to_numpy(dtype=object)[np.maximum(at, 0)]
        slas = conformance.slas.assign(
            period=pd.Series(np.where(at >= 0, period, None), dtype="str")
        )

    # step durations (per event, elapsed), attributed to the ticket's period; integer codes
    step_h = _step_durations(tlog, None, st).to_numpy(dtype="float64")
    starts = tlog.case_index()[1]  # cases are in log order = row order of ``cases``
    case_codes = np.repeat(np.arange(len(starts)), np.diff(np.r_[starts, len(events)]))
    period_codes, period_names = pd.factorize(cases["period"], sort=True)
    ev_pc = np.asarray(period_codes)[case_codes]
    act_codes, act_names = tlog.codes("activity", sort=True)
    if sop is not None:
        step_of = {lab: s.id for s in sop.steps for lab in s.labels}
        stage_names = pd.Series(act_names).map(step_of).fillna(pd.Series(act_names)).astype(str)
    else:
        stage_names = pd.Series(act_names).astype(str)
    ok = ~np.isnan(step_h)
    stage_codes, stage_uniq = pd.factorize(stage_names, sort=True)
    ev_stage = np.asarray(stage_codes, dtype=np.int64)[act_codes[ok]]
    stage_by = _median_mean_size(
        ev_pc[ok], ev_stage, step_h[ok], len(period_names), pd.Index(stage_uniq, name="stage")
    )
    stage_all = _median_mean_size(
        np.zeros(int(ok.sum()), dtype=np.int64),
        ev_stage,
        step_h[ok],
        1,
        pd.Index(stage_uniq, name="stage"),
    ).droplevel("p")
    bench_rows: list[tuple[StepBenchmark, pd.DataFrame, pd.Series]] = []
    for b in benchmarks:
        hit = np.flatnonzero(np.asarray(act_names) == b.activity)
        m = ok & (act_codes == hit[0]) if len(hit) else np.zeros(len(ok), dtype=bool)
        bd = pd.DataFrame(
            {
                "p": ev_pc[m],
                "t": step_h[m] > b.threshold_hours,
                "b": step_h[m] > b.benchmark_hours,
            }
        )
        bench_rows.append((b, bd.groupby("p").agg(["mean", "size"]), bd[["t", "b"]].mean()))
    names = dict(enumerate(period_names))
    stage_by = stage_by.rename(index=names, level="p")
    bench_rows = [(b, by_p.rename(index=names), overall) for b, by_p, overall in bench_rows]
    out = _kpi_table(cases, closed_period, stage_by, stage_all, bench_rows, slas, by)
    return replace(
        out, analyses={"rework": rework, "handoffs": handoffs, "conformance": conformance}
    )


def _median_mean_size(
    p: np.ndarray, stage: np.ndarray, h: np.ndarray, n_p: int, stages: pd.Index
) -> pd.DataFrame:
    """``median``, ``mean``, ``size`` of ``h`` per (p, stage) seen, sorted by (p, stage)."""
    k = len(stages)
    key = p * k + stage
    size = np.bincount(key, minlength=n_p * k)
    stats = group_stats(key, h, n_p * k, "h")
    seen = np.flatnonzero(size)
    index = pd.MultiIndex.from_arrays(
        [seen // max(k, 1), stages.take(seen % max(k, 1))], names=["p", "stage"]
    )
    return pd.DataFrame(
        {
            "median": stats["h_p50_hours"][seen],
            "mean": stats["h_mean_hours"][seen],
            "size": size[seen].astype(np.int64),
        },
        index=index,
    )


def _kpi_table(
    cases: pd.DataFrame,
    closed_period: pd.Series,
    stage_by: pd.DataFrame,
    stage_all: pd.DataFrame,
    bench_rows: Sequence[tuple[StepBenchmark, pd.DataFrame, pd.Series]],
    slas: pd.DataFrame | None,
    by: str,
) -> ServiceKPIs:
    """The tidy KPI table, per period and overall, from per-ticket outcomes and step stats.

    ``stage_by`` is indexed by (period, stage) and each benchmark's table by period (period
    labels as in ``cases["period"]``). Shared by :func:`service_kpis` and its Dask version.
    """
    per_idx = cases.groupby("period", sort=True).indices
    closed_counts = closed_period.value_counts()
    periods = sorted(cases["period"].unique()) + ([ALL] if by != "none" else [])
    stage_periods = set(stage_by.index.get_level_values(0))
    sla_counts = None if slas is None else _sla_counts(slas)
    rows: list[dict[str, Any]] = []
    for per in periods:
        c = cases if per == ALL else cases.iloc[per_idx[per]]
        n = len(c)
        rows.append(_rows(per, "cases_opened", "", n, "cases", n))
        n_closed = len(closed_period) if per == ALL else int(closed_counts.get(per, 0))
        rows.append(_rows(per, "cases_closed", "", n_closed, "cases", n))
        rows.append(_rows(per, "open_at_cutoff", "", c["open_at_cutoff"].sum(), "cases", n))
        closed = ~c["open_at_cutoff"].to_numpy()
        for col, unit in (("cycle_hours", "hours"), ("cycle_business_hours", "business_hours")):
            if col not in c.columns:
                continue
            (p50, p90), mean = km_quantiles(c[col].to_numpy(), closed, [0.5, 0.9])
            rows.append(_rows(per, f"{col}_p50", "", p50, unit, n))
            rows.append(_rows(per, f"{col}_p90", "", p90, unit, n))
            rows.append(_rows(per, f"{col}_mean", "", mean, unit, n))
        if per == ALL:
            stg = stage_all
        elif per in stage_periods:
            stg = stage_by.xs(per, level=0)
        else:
            stg = stage_all[:0]
        for name, med_, mean_, size_ in zip(
            stg.index, stg["median"], stg["mean"], stg["size"], strict=True
        ):
            rows.append(_rows(per, "stage_hours_p50", str(name), med_, "hours", size_))
            rows.append(_rows(per, "stage_hours_mean", str(name), mean_, "hours", size_))
        n_cl = int(closed.sum())
        fcr_v = c.loc[closed, "first_contact_resolved"].mean() if n_cl else np.nan
        rows.append(_rows(per, "first_contact_resolution", "", fcr_v, "share", n_cl))
        rows.append(_rows(per, "repeat_contact_rate", "", _share(c["repeat_contact"]), "share", n))
        if "has_rework" in c.columns:
            rows.append(_rows(per, "reopen_rate", "", _share(c["reopened"]), "share", n))
            rows.append(_rows(per, "rework_rate", "", _share(c["has_rework"]), "share", n))
        if "waiting_hours" in c.columns and "cycle_hours" in c.columns:
            tot = float(c["cycle_hours"].sum())
            wshare = float(c["waiting_hours"].sum()) / tot if tot > 0 else np.nan
            rows.append(_rows(per, "waiting_share", "", min(wshare, 1.0), "share", n))
        if "handoff_hours" in c.columns:
            tot = float(c["span_hours"].sum())
            share = float(c["handoff_hours"].sum()) / tot if tot > 0 else np.nan
            rows.append(_rows(per, "handoff_share", "", min(share, 1.0), "share", n))
        if "conforming" in c.columns:
            rows.append(_rows(per, "deviation_rate", "", _share(c["deviating"]), "share", n))
        if sla_counts is not None:
            for sla_id, met, br in sla_counts.get(per, []):
                att = met / (met + br) if met + br else np.nan
                rows.append(_rows(per, "sla_attainment", str(sla_id), att, "share", met + br))
        for b, by_p, overall in bench_rows:
            label_t = f"{b.activity} > {b.threshold_hours:g}h"
            label_b = f"{b.activity} > {b.benchmark_hours:g}h"
            if per == ALL:
                nx = int(sum(by_p[("t", "size")])) if len(by_p) else 0
                over_t, over_b = float(overall["t"]), float(overall["b"])
            elif per in by_p.index:
                nx = int(by_p.loc[per, ("t", "size")])
                over_t = float(by_p.loc[per, ("t", "mean")])
                over_b = float(by_p.loc[per, ("b", "mean")])
            else:
                nx, over_t, over_b = 0, np.nan, np.nan
            rows.append(_rows(per, "step_over_threshold_share", label_t, over_t, "share", nx))
            rows.append(_rows(per, "step_over_benchmark_share", label_b, over_b, "share", nx))
    table = pd.DataFrame(rows, columns=_KPI_COLUMNS)
    table["value"] = table["value"].astype("float64")
    return ServiceKPIs(table=table, cases=cases, by=by)


def _sla_counts(slas: pd.DataFrame) -> dict[str, list[tuple[Any, int, int]]]:
    """Per period (and ``ALL``): (sla, met, breached) in order of first appearance."""
    met = (slas["status"] == "met").to_numpy()
    br = (slas["status"] == "breached").to_numpy()
    frame = pd.DataFrame({"period": slas["period"], "sla": slas["sla"], "met": met, "br": br})
    out: dict[str, list[tuple[Any, int, int]]] = {}
    per = frame.groupby(["period", "sla"], sort=False)[["met", "br"]].sum()
    for (period, sla_id), m, b in zip(per.index, per["met"], per["br"], strict=True):
        out.setdefault(period, []).append((sla_id, int(m), int(b)))
    total = frame.groupby("sla", sort=False)[["met", "br"]].sum()
    out[ALL] = [
        (sla_id, int(m), int(b))
        for sla_id, m, b in zip(total.index, total["met"], total["br"], strict=True)
    ]
    return out


# --------------------------------------------------------------------------- pain points

#: Losses below a millisecond are rounding noise (durations computed by subtraction).
_NO_LOSS_HOURS = 1e-6 / 3.6

_PP_COLUMNS = [
    "rank",
    "pain_point",
    "kind",
    "module",
    "cases",
    "occurrences",
    "hours_lost",
    "hours_lost_per_case",
    "share_of_lost",
    "share_of_ticket_hours",
    "p50_hours",
    "p90_hours",
    "baseline_hours",
    "example_cases",
    "evidence",
]


@dataclass(frozen=True, eq=False)
class PainPoints:
    """Breakpoints of the process ranked by hours lost (see :func:`pain_points`).

    Attributes
    ----------
    table : pandas.DataFrame
        One row per breakpoint, most hours lost first: ``rank``, ``pain_point`` (e.g.
        "销售部 → 售后部"), ``kind`` (``handoff``, ``step``, ``wait``, ``rework``,
        ``deviation``, ``sla``), ``module`` (which analysis found it), ``cases``,
        ``occurrences``, ``hours_lost``, ``hours_lost_per_case``, ``share_of_lost``
        (of the hours lost of all rows; the perspectives overlap, see
        :func:`pain_points`), ``share_of_ticket_hours`` (of all tickets' cycle hours),
        ``p50_hours`` / ``p90_hours`` (of the per-occurrence durations),
        ``baseline_hours`` (what counts as no loss), ``example_cases`` (";"-joined, the
        costliest) and ``evidence`` (one sentence).
    locations : pandas.DataFrame
        Where each breakpoint sits on the process map: ``rank``, ``source``, ``target``
        (an edge) or ``target`` alone with an empty ``source`` (a step), ``count``.
    graph : ProcessGraph
        The process map the breakpoints are drawn on (discovered when asked for).
    """

    table: pd.DataFrame
    locations: pd.DataFrame
    _events: pd.DataFrame | None = field(default=None, repr=False)
    _calendar: Any = field(default=None, repr=False)
    _graph: ProcessGraph | None = field(default=None, repr=False)

    @property
    def graph(self) -> ProcessGraph:
        """The process map (directly-follows graph) the breakpoints are drawn on."""
        from .discovery import discover_dfg

        if self._graph is not None:
            return self._graph
        if self._events is None:
            raise InvalidParameterError("This PainPoints result has no log to draw a map from.")
        graph = discover_dfg(self._events, calendar=self._calendar)
        object.__setattr__(self, "_graph", graph)  # drawn once, however often plotted
        return graph

    def to_frame(self) -> pd.DataFrame:
        """The ranked table."""
        return self.table.copy()

    def top(self, n: int = 10) -> pd.DataFrame:
        """The ``n`` costliest breakpoints."""
        return self.table.head(n).copy()

    def plot(
        self, *, n: int = 5, metric: str = "wait_p50", engine: str = "auto", ax: Any = None
    ) -> Figure:
        """The "pain-point map": the process map with the top ``n`` breakpoints in red.

        Options as :func:`svcmining.plots.plot_process_map` (``ax=`` draws into an
        axes); returns the matplotlib figure.
        """
        from .plots import plot_process_map

        graph = self.graph
        e = graph.edges
        on_map = set(zip(e["source"].astype(str), e["target"].astype(str), strict=True))
        acts = set(graph.activities["activity"].astype(str))
        loc = self.locations[self.locations["rank"] <= n]
        items: list[Any] = []
        for s, t in zip(loc["source"], loc["target"], strict=True):
            if s and (s, t) in on_map:
                items.append((s, t))
            elif not s and t in acts:
                items.append(t)
        items = list(dict.fromkeys(items))
        top = self.table.head(n)
        title = "痛点 / pain points: " + "; ".join(
            f"{r}. {p} ({h:,.0f} h)"
            for r, p, h in zip(top["rank"], top["pain_point"], top["hours_lost"], strict=True)
        )
        return plot_process_map(
            graph,
            metric=metric,  # type: ignore[arg-type]
            highlight=items or None,
            engine=engine,  # type: ignore[arg-type]
            title=title,
            ax=ax,
        ).to_figure()

    def __repr__(self) -> str:
        top = "; ".join(
            f"{r}. {p} ({h:,.0f} h)"
            for r, p, h in zip(
                self.table["rank"].head(3),
                self.table["pain_point"].head(3),
                self.table["hours_lost"].head(3),
                strict=True,
            )
        )
        return f"PainPoints({len(self.table):,} breakpoints" + (f"; top {top})" if top else ")")

    def _repr_html_(self) -> str:
        cols = [c for c in _PP_COLUMNS if c not in ("evidence",)]
        return "<p><b>Pain points (hours lost)</b></p>" + html_table(
            self.table[cols], max_rows=20, max_columns=len(cols), float_format=lambda x: f"{x:,.3g}"
        )


@dataclass(frozen=True)
class _Source:
    """One analysis' breakpoints in coded form: one entry per occurrence."""

    kind: str
    module: str
    names: np.ndarray  # group names
    g: np.ndarray  # group code per occurrence
    case: np.ndarray  # global case code per occurrence
    lost: np.ndarray
    dur: np.ndarray
    base: np.ndarray
    src: np.ndarray  # activity code of the map location's source (-1: a step)
    tgt: np.ndarray  # activity code of the map location's target (-1: none)


def _group_codes(*cols: pd.Series, sep: str = "") -> tuple[np.ndarray, np.ndarray]:
    """Integer group codes and names for one label column or a pair joined by ``sep``."""
    codes, uniq = pd.factorize(cols[0], use_na_sentinel=False)
    uniq = pd.Index(uniq).astype(object).fillna("").astype(str)
    if len(cols) == 1:
        return codes.astype("int64"), np.asarray(uniq, dtype=object)
    c2, u2 = pd.factorize(cols[1], use_na_sentinel=False)
    u2 = pd.Index(u2).astype(object).fillna("").astype(str)
    key = codes.astype("int64") * len(u2) + c2
    gk, ukey = pd.factorize(key)
    u1 = np.asarray(uniq, dtype=object)
    u2a = np.asarray(u2, dtype=object)
    names = np.array([f"{u1[k // len(u2)]}{sep}{u2a[k % len(u2)]}" for k in ukey], dtype=object)
    return gk.astype("int64"), names


def _in_vocab(values: Any, vocab: pd.Index) -> np.ndarray:
    """Codes of ``values`` in ``vocab`` (-1 where absent or missing)."""
    codes, uniq = pd.factorize(pd.Series(values))
    found = np.r_[np.asarray(vocab.get_indexer(uniq), dtype="int64"), -1]
    return found[codes]  # code -1 (missing) picks the trailing -1


def _aggregate(
    src: _Source, n_case: int, case_names: np.ndarray, vocab: pd.Index, n_examples: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per group of one source: counts, hours lost, quantiles, examples and map locations."""
    n_groups = len(src.names)
    g = src.g
    n_all = np.bincount(g, minlength=n_groups)
    both = pd.unique(g * n_case + src.case)
    cases_all = np.bincount(both // n_case, minlength=n_groups)
    p50, p90 = _quantiles(g, src.dur, n_groups, (0.5, 0.9))
    (base,) = _quantiles(g, src.base, n_groups, (0.5,))
    pos = np.nan_to_num(src.lost) > _NO_LOSS_HOURS  # float noise of a subtraction is no loss
    gp, lp, cp = g[pos], src.lost[pos], src.case[pos]
    hours = np.bincount(gp, weights=lp, minlength=n_groups)
    occ = np.bincount(gp, minlength=n_groups)
    inv, ukey = pd.factorize(gp * n_case + cp)
    per_case = np.bincount(inv, weights=lp, minlength=len(ukey))
    ug, uc = ukey // n_case, ukey % n_case
    cases = np.bincount(ug, minlength=n_groups)
    # the costliest tickets of each group (ties by case id)
    order = np.lexsort((uc, -per_case, ug))
    gs = ug[order]
    starts = np.flatnonzero(np.r_[True, gs[1:] != gs[:-1]]) if len(gs) else np.array([], int)
    rank_in = np.arange(len(gs)) - np.repeat(starts, np.diff(np.r_[starts, len(gs)]))
    sel = order[rank_in < n_examples]
    ex = (
        pd.Series(case_names[uc[sel]].astype(str))
        .groupby(ug[sel], sort=False)
        .agg(";".join)
        .reindex(range(n_groups))
        .fillna("")
    )
    table = pd.DataFrame(
        {
            "pain_point": src.names.astype(str),
            "kind": src.kind,
            "module": src.module,
            "cases": cases,
            "occurrences": occ,
            "hours_lost": hours,
            "p50_hours": p50,
            "p90_hours": p90,
            "baseline_hours": base,
            "example_cases": ex.to_numpy(),
            "_n_all": n_all,
            "_cases_all": cases_all,
            "_g": np.arange(n_groups),
        }
    )
    v = len(vocab) + 1
    lkey = (gp * v + (src.src[pos] + 1)) * v + (src.tgt[pos] + 1)
    lcodes, lk = pd.factorize(lkey)
    cnt = np.bincount(lcodes, minlength=len(lk))
    lg = lk // (v * v)
    ls = (lk // v) % v - 1
    lt = lk % v - 1
    has_t = lt >= 0  # pending handoffs have no target yet: no place on the map
    lg, ls, lt, cnt = lg[has_t], ls[has_t], lt[has_t], cnt[has_t]
    o = np.lexsort((-cnt, lg))
    lg, ls, lt, cnt = lg[o], ls[o], lt[o], cnt[o]
    st = np.flatnonzero(np.r_[True, lg[1:] != lg[:-1]]) if len(lg) else np.array([], int)
    r_in = np.arange(len(lg)) - np.repeat(st, np.diff(np.r_[st, len(lg)]))
    keep = r_in < 3
    names = np.r_[np.asarray(vocab, dtype=object), np.array([""], dtype=object)]
    loc = pd.DataFrame(
        {
            "_g": lg[keep],
            "source": names[ls[keep]],  # -1 → "" (last entry)
            "target": names[lt[keep]],
            "count": cnt[keep],
        }
    )
    return table[table["hours_lost"] > 0], loc


def _quantiles(
    g: np.ndarray, values: np.ndarray, n_groups: int, qs: tuple[float, ...]
) -> np.ndarray:
    """Linear quantiles ``qs`` of the non-NaN ``values`` per group (rows: the quantiles)."""
    v = np.asarray(values, dtype="float64")
    ok = ~np.isnan(v)
    return group_quantiles(g[ok], v[ok], n_groups, qs)[0]


def _rank(
    sources: list[_Source],
    n_case: int,
    case_names: np.ndarray,
    vocab: pd.Index,
    n_examples: int,
    total_cycle: float,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """All sources' groups in one table ranked by hours lost, and their map locations."""
    tables, locs = [], []
    for i, src in enumerate(sources):
        if not len(src.g):
            continue
        t, loc = _aggregate(src, n_case, case_names, vocab, n_examples)
        tables.append(t.assign(_s=i))
        locs.append(loc.assign(_s=i))
    if not tables:
        return (
            pd.DataFrame(columns=_PP_COLUMNS),
            pd.DataFrame(columns=["rank", "source", "target", "count"]),
        )
    agg = pd.concat(tables, ignore_index=True)
    total = float(agg["hours_lost"].sum())
    agg["hours_lost_per_case"] = agg["hours_lost"] / agg["cases"]
    agg["share_of_lost"] = agg["hours_lost"] / total if total > 0 else np.nan
    agg["share_of_ticket_hours"] = agg["hours_lost"] / total_cycle if total_cycle > 0 else np.nan
    agg = agg.sort_values(
        ["hours_lost", "pain_point", "kind"], ascending=[False, True, True], kind="stable"
    ).reset_index(drop=True)
    agg["rank"] = np.arange(1, len(agg) + 1)
    agg["evidence"] = [
        f"{c} of {ca} tickets ({o} of {n} occurrences) over {b:.2f} h; "
        f"median {p50:.1f} h, p90 {p90:.1f} h"
        for c, ca, o, n, b, p50, p90 in zip(
            agg["cases"],
            agg["_cases_all"],
            agg["occurrences"],
            agg["_n_all"],
            agg["baseline_hours"],
            agg["p50_hours"],
            agg["p90_hours"],
            strict=True,
        )
    ]
    loc = pd.concat(locs, ignore_index=True).merge(
        agg[["_s", "_g", "rank"]], on=["_s", "_g"], how="inner"
    )
    loc = (
        loc[["rank", "source", "target", "count"]]
        .sort_values(["rank", "count"], ascending=[True, False], kind="stable")
        .reset_index(drop=True)
        .astype({"rank": "int64", "count": "int64"})
    )
    for c in ("cases", "occurrences"):
        agg[c] = agg[c].astype("int64")
    return agg[_PP_COLUMNS], loc


def _peer_baseline(hand: pd.DataFrame, done: np.ndarray) -> np.ndarray:
    """Per handoff: what handing a ticket over into the same step takes when *others* do it.

    The median delay of the completed handoffs into the same activity from the other
    giving groups (so that a giver who is slow every time stands out against the rest);
    the median of all handoffs into the activity when nobody else hands over into it, and
    the median of all handoffs when the activity is unknown (pending handoffs).
    """
    ok = np.isfinite(done)
    overall = float(np.median(done[ok])) if ok.any() else 0.0
    base = np.full(len(done), overall)
    to_c = np.asarray(pd.factorize(hand["to_activity"])[0], dtype=np.int64)  # missing: -1
    from_c = np.asarray(pd.factorize(hand["from_group"])[0], dtype=np.int64)
    rows = np.flatnonzero(to_c >= 0)
    if not len(rows):
        return base
    # one sort by receiving activity: each activity's handoffs are one slice
    rows = rows[np.argsort(to_c[rows], kind="stable")]
    acts = to_c[rows]
    cuts = np.flatnonzero(np.r_[True, acts[1:] != acts[:-1], True])
    for lo, hi in itertools.pairwise(cuts):  # a loop over activities, not handoffs
        idx = rows[lo:hi]
        giver, vals, good = from_c[idx], done[idx], ok[idx]
        own = float(np.median(vals[good])) if good.any() else overall
        for gv in np.unique(giver):  # the few groups handing over into this activity
            mine = giver == gv
            others = good & ~mine
            base[idx[mine]] = float(np.median(vals[others])) if others.any() else own
    return base


def pain_points(
    log: LogLike,
    *,
    sop: Any = None,
    calendar: Calendar | None = None,
    benchmarks: Sequence[StepBenchmark] = (),
    handoff_benchmark: str | pd.Timedelta | None = None,
    close_activities: Sequence[str] | None = None,
    examples: int = 3,
    rework: ReworkResult | None = None,
    handoffs: Any = None,
    conformance: ConformanceResult | None = None,
    graph: ProcessGraph | None = None,
    states: TicketStates | None = None,
) -> PainPoints:
    """Rank the breakpoints of the process by impact = cases affected × hours lost.

    Each analysis contributes the breakpoints it sees, with its own notion of a lost
    hour (business hours with a calendar, else elapsed hours):

    - ``handoff`` (:mod:`svcmining.handoffs`), per department pair: the delay of each
      handoff above what handing a ticket over into the same step takes when the *other*
      groups do it (the median delay of their handoffs into that activity; the pair's own
      median when nobody else hands over into it), so a giver who is slow every time
      stands out against the rest ("sales → after-sales takes two days where the front
      desk takes hours") instead of raising the yardstick it is measured by; a fixed
      ``handoff_benchmark`` (e.g. ``"30min"``, the industry benchmark) replaces it. Waits
      of pending handoffs (open tickets) count as lost hours but not in the medians;
    - ``step`` (this module), per activity: each execution's duration (see the module
      docstring) above the step's :class:`StepBenchmark` benchmark, else above the
      step's own median (time beyond the typical duration). Without lifecycle data the
      duration of a step handed over by another department is that handoff's delay, so
      it is counted under ``handoff`` only (except for benchmarked steps);
    - ``wait`` (lifecycle data only), per directly-follows edge: the wait from one
      step's completion to the next one's start above the edge's median;
    - ``rework`` (:mod:`svcmining.rework`), per kind and activity: ``rework_hours``;
    - ``deviation`` (:mod:`svcmining.conformance`, with an SOP), per deviation type and
      step: the cycle time of each affected ticket above the median cycle time of the
      conforming tickets (cycle times without the waits on the customer);
    - ``sla`` (with an SOP), per SLA: the hours beyond the limit of each breach.

    Time a ticket waits on the customer or a third party (waiting states,
    :mod:`svcmining.states`) is never an hour lost: handoff delays, rework hours, step
    durations and these cycle times leave it out.

    ``hours_lost`` is the sum over the affected tickets (so it is cases affected ×
    hours lost per case); ``cases`` and ``occurrences`` count only those with a loss.
    The perspectives overlap (a ping-pong is also a handoff; a slow step is part of a
    deviating ticket's cycle time), so ``share_of_lost`` compares breakpoints with each
    other; it is not a share of real time.

    Parameters
    ----------
    log : TicketLog or pandas.DataFrame
        The event log.
    sop : SOP, optional
        Adds the deviation and SLA breakpoints (via :func:`svcmining.check_sop`).
    calendar : Calendar, optional
        Business hours (default: the SOP's calendar).
    benchmarks : sequence of StepBenchmark
        Step benchmarks (e.g. ``StepBenchmark("远程排障", "4h", "1h")``).
    handoff_benchmark : str or Timedelta, optional
        A handoff delay up to this is not a loss (default: the median delay of the
        handoffs into the same step).
    close_activities : list of str, optional
        Labels closing a ticket.
    examples : int
        Example ticket ids per breakpoint (the costliest first).
    rework, handoffs, conformance : results, optional
        Precomputed results to reuse.
    graph : ProcessGraph, optional
        The :func:`svcmining.discover_dfg` result of the same log and calendar, to draw
        the pain-point map on (computed when first plotted otherwise).

    Returns
    -------
    PainPoints

    Examples
    --------
    >>> import svcmining as svc                                      # doctest: +SKIP
    >>> bench = [svc.StepBenchmark("远程排障", "4h", "1h")]         # doctest: +SKIP
    >>> pp = svc.pain_points(svc.read_tickets("sample_logs/"), benchmarks=bench)  # doctest: +SKIP
    >>> pp.top(5)                                                   # doctest: +SKIP
    >>> pp.plot()                                                   # doctest: +SKIP
    """
    tlog = as_ticket_log(log)
    events = tlog.events
    for b in benchmarks:
        if not isinstance(b, StepBenchmark):
            raise InvalidParameterError(
                "The 'benchmarks' parameter of pain_points must hold StepBenchmark objects. "
                f"Got {b!r} instead."
            )
    if isinstance(examples, bool) or not isinstance(examples, int) or examples < 0:
        raise InvalidParameterError(
            f"The 'examples' parameter of pain_points must be an integer >= 0. Got {examples!r}."
        )
    sop = as_sop(sop, func="pain_points")
    if calendar is None and sop is not None:
        calendar = getattr(sop, "calendar", None)
    ho_bench = (
        None if handoff_benchmark is None else _td_hours(handoff_benchmark, "handoff_benchmark")
    )
    bench = {b.activity: b.benchmark_hours for b in benchmarks}
    st = as_states(states, sop=sop, close_activities=close_activities, func="pain_points")
    cut = cutoff_of(events, None, func="pain_points")
    given = (rework, handoffs, conformance)
    rework, handoffs, conformance = _analyses(
        tlog, sop=sop, calendar=calendar, states=st, cut=cut, given=given
    )
    case_codes, case_uniques = tlog.codes("case_id", sort=True)
    case_names = np.asarray(case_uniques, dtype=object)
    case_labels = case_uniques.astype("str")
    n_case = max(len(case_names), 1)
    act_codes, act_names = tlog.codes("activity", sort=True)
    vocab = pd.Index(np.asarray(act_names, dtype=object))
    sources: list[_Source] = []

    def case_of(ids: pd.Series) -> np.ndarray:
        # rows of a result come ticket by ticket: look up each run of one id once
        ids = ids.reset_index(drop=True)
        codes, starts = case_blocks(ids)
        first = pd.Index(ids.iloc[starts].astype("str"))
        return index_in(first, case_labels)[codes]

    # handoffs
    if handoffs is not None:
        _, hand = _handoff_cases(handoffs)
        if len(hand):
            d = hand["delay_hours"].to_numpy(dtype="float64")
            pending = (
                hand["pending"].to_numpy(dtype=bool)
                if "pending" in hand.columns
                else np.zeros(len(d), dtype=bool)
            )
            done = np.where(pending, np.nan, d)  # waits so far: lost hours, not durations
            if ho_bench is None:
                base_h = _peer_baseline(hand, done)
            else:
                base_h = np.full(len(d), ho_bench)
            g, names = _group_codes(hand["from_group"], hand["to_group"], sep=" → ")
            sources.append(
                _Source(
                    "handoff",
                    "handoffs",
                    names,
                    g,
                    case_of(hand["case_id"]),
                    np.clip(np.nan_to_num(d) - base_h, 0, None),
                    done,
                    np.where(pending, np.nan, base_h),
                    _in_vocab(hand["from_activity"], vocab),
                    _in_vocab(hand["to_activity"], vocab),
                )
            )

    # steps (and waits with lifecycle data)
    cc = np.asarray(case_codes, dtype="int64")
    ac = np.asarray(act_codes, dtype="int64")
    same = np.r_[False, cc[1:] == cc[:-1]]
    dur = _step_durations(tlog, calendar, st).to_numpy(dtype="float64")
    ok = ~np.isnan(dur)
    if "department" in events.columns and not has_start_times(events):
        # a wait across departments is a handoff, counted there once; benchmarked steps
        # are counted whoever handed them over
        dep_codes = tlog.codes("department")[0]
        same_dep = np.r_[False, (dep_codes[1:] == dep_codes[:-1]) & (dep_codes[1:] >= 0)]
        no_dep = dep_codes < 0
        benched = np.isin(ac, [vocab.get_loc(x) for x in bench if x in vocab])
        ok &= same_dep | no_dep | np.r_[True, dep_codes[:-1] < 0] | benched
    h = dur[ok]
    a = ac[ok]
    med = pd.Series(h).groupby(a).median()
    base_act = np.full(len(vocab), np.nan)
    base_act[med.index.to_numpy()] = med.to_numpy()
    for act_label, hours_ in bench.items():
        if act_label in vocab:
            base_act[vocab.get_loc(act_label)] = hours_
    base = base_act[a]
    sources.append(
        _Source(
            "step",
            "kpis",
            np.asarray(vocab, dtype=object),
            a,
            cc[ok],
            np.clip(h - base, 0, None),
            h,
            base,
            np.full(len(a), -1, dtype="int64"),
            a,
        )
    )
    if has_start_times(events):
        ts = events["timestamp"]
        prev_end = ts.shift().where(pd.Series(same, index=events.index)).astype(ts.dtype)
        start = events["start_timestamp"].astype(ts.dtype)
        w = hours(prev_end, start, calendar).clip(lower=0).to_numpy(dtype="float64")
        okw = ~np.isnan(w) & same
        prev_code = np.r_[-1, ac[:-1]][okw]
        this_code = ac[okw]
        ww = w[okw]
        edge = prev_code * len(vocab) + this_code
        g, ukey = pd.factorize(edge)
        names = np.array(
            [f"{vocab[k // len(vocab)]} → {vocab[k % len(vocab)]}" for k in ukey], dtype=object
        )
        wb = pd.Series(ww).groupby(g).transform("median").to_numpy()
        sources.append(
            _Source(
                "wait",
                "discovery",
                names,
                g.astype("int64"),
                cc[okw],
                np.clip(ww - wb, 0, None),
                ww,
                wb,
                prev_code,
                this_code,
            )
        )

    # rework
    assert rework is not None  # computed by _analyses when not given
    occ = rework.occurrences
    if len(occ):
        tgt = occ["activity"]
        if "cycle_first_activity" in occ.columns:
            tgt = tgt.where(occ["kind"] != "reopen", occ["cycle_first_activity"])
        rh = occ["rework_hours"].to_numpy(dtype="float64")
        g, names = _group_codes(occ["kind"], occ["activity"], sep=": ")
        sources.append(
            _Source(
                "rework",
                "rework",
                names,
                g,
                case_of(occ["case_id"]),
                np.nan_to_num(rh),
                rh,
                np.zeros(len(rh)),
                _in_vocab(occ["prev_activity"], vocab),
                _in_vocab(tgt, vocab),
            )
        )

    # SOP deviations and SLA breaches
    times = _case_times(tlog, st, sop, cut, calendar)
    end = times["closed_at"].where(~times["open_at_cutoff"], cut).astype(times["opened_at"].dtype)
    # cycle time without the waits on the customer: waiting is not a loss of the process
    cyc = (hours(times["opened_at"], end, calendar) - times["waiting_hours"]).clip(lower=0)
    if conformance is not None:
        # cycle times and the check's cases are both one row per ticket in case order:
        # positions stand for ids there (a label look-up otherwise)
        by_code = cyc.index.equals(case_labels)
        cyc_of = np.r_[cyc.to_numpy(dtype="float64"), np.nan]  # by ticket code; -1: unknown
        ccf_ids = conformance.cases["case_id"]
        is_conf = conformance.cases["conforming"].astype(bool).to_numpy()
        if by_code and pd.Index(ccf_ids.astype("str")).equals(case_labels):
            conf_cyc = pd.Series(cyc_of[:-1][is_conf])
        else:
            conf_cyc = cyc.reindex(pd.Index(ccf_ids.astype("str"))[is_conf])
        ref = float(conf_cyc.median()) if is_conf.any() else float(cyc.median())
        dev = conformance.deviations
        dev = dev[dev["type"] != "sla_breach"].drop_duplicates(["case_id", "type", "step"])
        if len(dev):
            cid = dev["case_id"].astype(str)
            step = dev["step"].astype(object).fillna(dev["activity"]).fillna("").astype(str)
            dev_case = case_of(cid)
            if by_code:
                ch = cyc_of[dev_case]
            else:
                ch = cid.map(cyc).to_numpy(dtype="float64")
            g, names = _group_codes(dev["type"], step, sep=": ")
            names = np.array([n[:-2] if n.endswith(": ") else n for n in names], dtype=object)
            sources.append(
                _Source(
                    "deviation",
                    "conformance",
                    names,
                    g,
                    dev_case,
                    np.clip(np.nan_to_num(ch - ref), 0, None),
                    ch,
                    np.full(len(ch), ref),
                    np.full(len(ch), -1, dtype="int64"),
                    _in_vocab(dev["activity"], vocab),
                )
            )
        sl = conformance.slas[conformance.slas["status"] == "breached"]
        if len(sl):
            to_label = {x.id: sop.step(x.to).label for x in sop.slas} if sop is not None else {}
            act_h = sl["actual_hours"].to_numpy(dtype="float64")
            lim = sl["limit_hours"].to_numpy(dtype="float64")
            g, names = _group_codes(sl["sla"])
            sources.append(
                _Source(
                    "sla",
                    "conformance",
                    np.array([f"SLA {n}" for n in names], dtype=object),
                    g,
                    case_of(sl["case_id"].astype(str)),
                    np.clip(np.nan_to_num(act_h - lim), 0, None),
                    act_h,
                    lim,
                    np.full(len(lim), -1, dtype="int64"),
                    _in_vocab(sl["sla"].map(to_label), vocab),
                )
            )

    table, loc = _rank(sources, n_case, case_names, vocab, examples, float(cyc.sum()))
    if graph is not None:
        from .discovery import ProcessGraph as _Graph

        if not isinstance(graph, _Graph):
            raise InvalidParameterError(
                "The 'graph' parameter of pain_points must be a ProcessGraph (discover_dfg). "
                f"Got {type(graph).__name__} instead."
            )
        if graph.time_basis != ("business" if calendar is not None else "elapsed"):
            graph = None  # drawn on other hours than the breakpoints: draw it again
    return PainPoints(table=table, locations=loc, _events=events, _calendar=calendar, _graph=graph)


# --------------------------------------------------------------------------- over parts (Dask)


def kpi_analysis(
    *,
    sop: Any,
    calendar: Calendar | None,
    close_activities: list[str] | None,
    cutoff: pd.Timestamp,
    rework: ReworkResult,
    handoffs: Any,
    conformance: ConformanceResult | None,
    by: str = "month",
    benchmarks: Sequence[Any] = (),
    fcr: FCRDefinition | None = None,
    repeat_within: str | pd.Timedelta = "7d",
) -> KPIAnalysis:
    """The :class:`KPIAnalysis` of :func:`service_kpis`' options (checked), given the whole
    log's cutoff (``NaT`` for an empty log: now) and analyses."""
    check_choice("service_kpis", "by", by, ("month", "week", "quarter", "none"))
    for b in benchmarks:
        if not isinstance(b, StepBenchmark):
            raise InvalidParameterError(
                "The 'benchmarks' parameter of service_kpis must hold StepBenchmark objects. "
                f"Got {b!r} instead."
            )
    _td_hours(repeat_within, "repeat_within")
    options = {
        "calendar": calendar,
        "repeat_within": repeat_within,
        "fcr": FCRDefinition() if fcr is None else fcr,
        "close_activities": close_activities,
        "cutoff": pd.Timestamp.now(tz="UTC") if pd.isna(cutoff) else cutoff,
        "rework": rework,
        "handoffs": handoffs,
        "conformance": conformance,
    }
    return KPIAnalysis(options, by, sop, tuple(benchmarks))


@dataclass(frozen=True)
class KPIAnalysis:
    """The per-ticket and per-step part of :func:`service_kpis` over parts of whole tickets
    (:mod:`svcmining.core`; run by :func:`svcmining.distributed.service_kpis` with the
    whole log's cutoff, rework, handoffs and conformance in ``options``).

    The kernel builds its tickets' :func:`case_outcomes` rows and step durations; the
    combine recomputes the cross-ticket repeat contacts (same customer, another ticket
    within ``repeat_within``) and the KPI table from all rows. (The pandas
    :func:`service_kpis` does not run through this combine yet.)
    """

    options: Mapping[str, Any]
    by: str = "month"
    sop: Any = None
    benchmarks: tuple[StepBenchmark, ...] = ()

    def context(self) -> None:
        """The whole-log facts come in ``options``."""
        return None

    def kernel(self, part: TicketLog, ctx: None = None) -> dict[str, Any]:
        """The part's ticket rows and step durations."""
        return _kpi_part(part, dict(self.options), self.by, self.sop)

    def combine(self, all_parts: Sequence[dict[str, Any]], ctx: None = None) -> ServiceKPIs:
        """The KPI table over the whole log."""
        by, benchmarks, fcr = self.by, self.benchmarks, self.options["fcr"]
        conformance = self.options.get("conformance")
        within = _td_hours(self.options["repeat_within"], "repeat_within")
        parts = [p for p in all_parts if p["n_events"]]
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
                period=lambda d: (
                    d["case_id"].astype("str").map(cases.set_index("case_id")["period"])
                )
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


def _kpi_part(plog: TicketLog, kwargs: dict[str, Any], by: str, sop: Any) -> dict[str, Any]:
    events = plog.events
    if len(events) == 0:
        return {"n_events": 0}
    cases = case_outcomes(plog, sop=sop, **kwargs)
    cases["period"] = _period_labels(cases["opened_at"], by).to_numpy()
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
