"""Per-ticket outcomes of :mod:`svcmining.kpis` (split from kpis.py).

:func:`case_outcomes` (one row per ticket: close, cycle hours, waiting, repeat
contact, rework, handoffs, SOP conformance, first-contact resolution) and
:func:`waiting_times`, the options they take (:class:`FCRDefinition`,
:class:`StepBenchmark`) and the analyses they are built from
(:func:`given_analyses`: the results passed in, the missing ones computed once).
The definitions are in the docstring of :mod:`svcmining.kpis`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ._time import cutoff as cutoff_of
from ._time import hours
from ._validation import check_choice
from .eventlog import (
    LogLike,
    TicketLog,
    as_ticket_log,
    has_start_times,
    time_i8,
)
from .exceptions import InvalidParameterError
from .sop import as_sop
from .states import WAITING, TicketStates, active_clock, as_states, judge_log

if TYPE_CHECKING:
    from .calendars import Calendar
    from .conformance import ConformanceResult
    from .rework import ReworkResult


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
        td_hours(self.threshold, "threshold")
        if self.benchmark is not None:
            td_hours(self.benchmark, "benchmark")

    @property
    def threshold_hours(self) -> float:
        """The threshold in hours."""
        return td_hours(self.threshold, "threshold")

    @property
    def benchmark_hours(self) -> float:
        """The benchmark in hours (the threshold when none is given)."""
        if self.benchmark is None:
            return self.threshold_hours
        return td_hours(self.benchmark, "benchmark")


def td_hours(value: Any, param: str) -> float:
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


def given_analyses(
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


def step_durations(
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


def case_times(
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


def repeat_contact(cases: pd.DataFrame, within_hours: float) -> pd.Series:
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


def handoff_cases(handoffs: Any) -> tuple[pd.DataFrame, pd.DataFrame]:
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
    within = td_hours(repeat_within, "repeat_within")
    sop = as_sop(sop, func="case_outcomes")
    st = as_states(states, sop=sop, close_activities=close_activities, func="case_outcomes")
    cut = cutoff_of(events, cutoff, func="case_outcomes")
    given = (rework, handoffs, conformance)
    results = given_analyses(
        tlog, sop=sop, calendar=calendar, states=st, cut=cut, given=given, need=parts
    )
    return outcome_table(tlog, st, sop, cut, calendar, within, fcr, *results)


def outcome_table(
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
    cases = case_times(tlog, states, sop, cut)
    end = cases["closed_at"].where(~cases["open_at_cutoff"], cut).astype(cases["opened_at"].dtype)
    cases["cycle_hours"] = hours(cases["opened_at"], end, None).clip(lower=0)
    if calendar is not None:
        cases["cycle_business_hours"] = hours(cases["opened_at"], end, calendar).clip(lower=0)
    starts = tlog.case_index()[1]
    for col in ("channel", "priority", "customer_id"):
        if col in events.columns:
            cases[col] = _first_value(events, col, starts)
    if "customer_id" in cases.columns:
        cases["repeat_contact"] = repeat_contact(cases, within * 1.0)
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
        per, _ = handoff_cases(handoffs)
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
