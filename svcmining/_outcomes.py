"""Per-ticket outcomes of :mod:`svcmining.kpis` (split from kpis.py).

:func:`case_outcomes` (one row per ticket: close, cycle hours, waiting, repeat
contact, rework, handoffs, SOP conformance, first-contact resolution) and
:func:`waiting_times`, the options they take (:class:`FCRDefinition`,
:class:`StepBenchmark`) and the analyses they are built from
(:func:`given_analyses`: the results passed in, the missing ones computed once).
The definitions are in the docstring of :mod:`svcmining.kpis`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ._time import NS_PER_HOUR, CutoffAnalysis, hours
from ._time import cutoff as cutoff_of
from ._validation import check_choice
from .core import run
from .eventlog import (
    LogLike,
    TicketLog,
    as_ticket_log,
    has_start_times,
    index_in,
    time_i8,
)
from .exceptions import InvalidParameterError
from .sop import as_sop
from .states import (
    WAITING,
    StagesAnalysis,
    TicketStates,
    active_clock,
    as_states,
    judge_log,
)

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
    tlog: Any,
    *,
    sop: Any,
    calendar: Calendar | None,
    states: TicketStates,
    cut: pd.Timestamp,
    given: tuple[ReworkResult | None, Any, ConformanceResult | None],
    need: Sequence[str] = ("rework", "handoffs", "conformance"),
    functions: Mapping[str, Callable[..., Any]] | None = None,
) -> tuple[ReworkResult | None, Any, ConformanceResult | None]:
    """The rework, handoff and conformance results: ``given`` ones as they are, missing
    ones computed once (the SOP check beside the others on the second core).

    ``functions`` (``"rework"``, ``"handoffs"``, ``"conformance"``: functions with the
    options of ``find_rework``, ``handoff_delays`` and ``check_sop``, e.g. the Dask ones
    for a Dask log) replace the pandas functions; they run one after the other.
    """
    rework, handoffs, conformance = given
    from concurrent.futures import Future, ThreadPoolExecutor

    if functions is None:
        from .conformance import check_sop
        from .handoffs import handoff_delays
        from .rework import find_rework

        functions = {"rework": find_rework, "handoffs": handoff_delays, "conformance": check_sop}
        threads = True
    else:
        threads = False
    checking: Future[Any] | None = None
    if conformance is None and sop is not None and "conformance" in need:
        options = {"precision": False, "cutoff": cut, "states": states}
        if threads:
            # numpy / pyarrow release the GIL in their loops: the independent SOP check
            # runs beside rework and handoffs
            pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="svcmining-sop")
            checking = pool.submit(functions["conformance"], tlog, sop, **options)
            pool.shutdown(wait=False)
        else:
            conformance = functions["conformance"](tlog, sop, **options)
    if rework is None and "rework" in need:
        rework = functions["rework"](tlog, states=states, sop=sop, calendar=calendar)
    if handoffs is None and "handoffs" in need and "department" in tlog.events.columns:
        handoffs = functions["handoffs"](
            tlog, calendar=calendar, cutoff=cut, states=states, sop=sop
        )
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


def _first_value(
    events: pd.DataFrame, col: str, codes: np.ndarray, starts: np.ndarray
) -> pd.api.extensions.ExtensionArray | np.ndarray:
    """Each case's first non-missing value of ``col`` (in the column's dtype)."""
    s = events[col]
    rows = starts
    missing = s.isna().to_numpy()
    if missing[starts].any():  # the first row of a ticket whose first event has none
        ok = np.flatnonzero(~missing)
        first_ok = np.full(len(starts), -1, dtype=np.int64)
        c, at = np.unique(codes[ok], return_index=True)
        first_ok[c] = ok[at]
        rows = np.where(missing[starts] & (first_ok >= 0), first_ok, starts)
    return s.array.take(rows)


def repeat_contact(cases: pd.DataFrame, within_hours: float) -> pd.Series:
    """True where the same customer opened another ticket within ``within_hours`` after."""
    cust_codes = pd.factorize(cases["customer_id"])[0]
    t_ns = time_i8(cases["opened_at"].dt.as_unit("ns"))  # UTC nanoseconds
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
    analysis, _ = outcomes_analysis(
        tlog,
        lambda a: run(a, [tlog]),
        sop=sop,
        calendar=calendar,
        repeat_within=repeat_within,
        fcr=fcr,
        close_activities=close_activities,
        cutoff=cutoff,
        rework=rework,
        handoffs=handoffs,
        conformance=conformance,
        parts=parts,
        states=states,
    )
    return run(analysis, [tlog])


def outcomes_analysis(
    log: Any,
    run_on_log: Callable[[Any], Any],
    *,
    functions: Mapping[str, Callable[..., Any]] | None = None,
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
    func: str = "case_outcomes",
) -> tuple[OutcomesAnalysis, dict[str, Any]]:
    """The :class:`OutcomesAnalysis` of :func:`case_outcomes`' options (checked) and the
    analyses it consumes (``{"rework": ..., "handoffs": ..., "conformance": ...}``).

    ``log`` is a pandas or a Dask log; ``run_on_log(analysis)`` runs an analysis of
    :mod:`svcmining.core` over it (the export cutoff), and ``functions`` (default: the
    pandas ``find_rework``, ``handoff_delays`` and ``check_sop``) compute the results not
    given, once each.
    """
    for p in parts:
        check_choice(func, "parts", p, ("rework", "handoffs", "conformance"))
    if not isinstance(fcr, FCRDefinition):
        raise InvalidParameterError(
            f"The 'fcr' parameter must be an FCRDefinition. Got {fcr!r} instead."
        )
    within = td_hours(repeat_within, "repeat_within")
    sop = as_sop(sop, func=func)
    st = as_states(states, sop=sop, close_activities=close_activities, func=func)
    cut = run_on_log(CutoffAnalysis(cutoff, func))
    results = given_analyses(
        log,
        sop=sop,
        calendar=calendar,
        states=st,
        cut=cut,
        given=(rework, handoffs, conformance),
        need=parts,
        functions=functions,
    )
    whole = OutcomeContextAnalysis(
        cutoff=pd.Timestamp.now(tz="UTC") if pd.isna(cut) else cut,
        states=st,
        sop=sop,
        within_hours=within,
        facts=ticket_facts(*results),
    )
    analysis = OutcomesAnalysis(whole, calendar, fcr)
    return analysis, dict(zip(("rework", "handoffs", "conformance"), results, strict=True))


@dataclass(frozen=True, eq=False)
class TicketFacts:
    """What :func:`case_outcomes` takes from the analyses' results, one row per ticket.

    ``rework`` (``has_rework``, ``n_reopen``, ``ping_pong``, ``rework_hours``),
    ``handoffs`` (``n_handoffs``, ``handoff_hours``, ``span_hours``, ``handoff_share``),
    ``conformance`` (``conforming``, ``sla_breached``) and the SLA checks ``slas``
    (``sla``, ``status``), each with ``case_id``; ``None`` where the analysis was not
    run. The results list the log's tickets in log order, so row ``i`` is ticket code
    ``i`` (:func:`by_ticket_code` checks it, and looks the tickets up otherwise).
    """

    rework: pd.DataFrame | None = None
    handoffs: pd.DataFrame | None = None
    conformance: pd.DataFrame | None = None
    slas: pd.DataFrame | None = None


def ticket_facts(rework: Any, handoffs: Any, conformance: Any) -> TicketFacts:
    """The :class:`TicketFacts` of the results (``None`` for one not run)."""
    rw = ho = cf = slas = None
    if rework is not None:
        rw = rework.cases[["case_id", "has_rework", "n_reopen", "ping_pong", "rework_hours"]]
    if handoffs is not None:
        ho = handoff_cases(handoffs)[0].reset_index()
    if conformance is not None:
        cc = conformance.cases
        cf = pd.DataFrame(
            {
                "case_id": cc["case_id"],
                "conforming": cc["conforming"],
                "sla_breached": cc["sla_breaches"].astype("str").ne("").to_numpy(),
            }
        )
        slas = conformance.slas[["case_id", "sla", "status"]]
    return TicketFacts(rw, ho, cf, slas)


def by_ticket_code(ids: pd.Series, table: pd.DataFrame) -> np.ndarray:
    """The row of ``table`` of each ticket ``ids`` (the log's, in log order), -1 for none.

    A result of the same log lists its tickets in log order: the row is the ticket code
    (checked); otherwise the ticket ids are looked up.
    """
    theirs = table["case_id"]
    if len(theirs) == len(ids) and theirs.array.equals(ids.array):
        return np.arange(len(ids), dtype=np.int64)
    return index_in(ids, theirs)


def _taken(values: Any, at: np.ndarray, fill: Any, dtype: Any) -> np.ndarray:
    """``values[at]`` with ``fill`` where ``at`` is -1, as ``dtype``."""
    v = np.asarray(values)
    if len(v) == 0:
        return np.full(len(at), fill, dtype=dtype)
    out = v[np.maximum(at, 0)]
    if (at < 0).any():
        out = np.where(at >= 0, out, fill)
    return out.astype(dtype)


@dataclass(frozen=True, eq=False)
class OutcomeContext:
    """What a ticket's outcome depends on beyond its own events, the same for every part:
    the export ``cutoff``; the label judge ``states`` (closed, resolved, reopen and
    waiting labels) and the ``stages`` judging reopens by work (the SOP, or the whole
    log's :class:`~svcmining.states.ActivityStages`); the repeat-contact window
    ``within_hours``; the analyses' per-ticket ``facts``."""

    cutoff: pd.Timestamp
    states: TicketStates
    stages: Any
    within_hours: float
    facts: TicketFacts


@dataclass(frozen=True, eq=False)
class OutcomeContextAnalysis:
    """The :class:`OutcomeContext` as a kernel and a combine: the stages over the whole
    log (unless the SOP gives them); the cutoff and the facts come from the analyses'
    run (:func:`outcomes_analysis`), the judge and the window from the options."""

    cutoff: pd.Timestamp
    states: TicketStates
    sop: Any
    within_hours: float
    facts: TicketFacts

    def context(self) -> None:
        """No whole-log fact is needed first."""
        return None

    def kernel(self, part: TicketLog, ctx: None = None) -> Any:
        """The part's stage counts (nothing with an SOP)."""
        return None if self.sop is not None else StagesAnalysis().kernel(part)

    def combine(self, parts: Sequence[Any], ctx: None = None) -> OutcomeContext:
        """The context of the whole log."""
        stages = self.sop if self.sop is not None else StagesAnalysis().combine(parts)
        return OutcomeContext(self.cutoff, self.states, stages, self.within_hours, self.facts)


@dataclass(frozen=True, eq=False)
class OutcomesAnalysis:
    """:func:`case_outcomes` as a context, a kernel and a combine (:mod:`svcmining.core`).

    The kernel computes what a ticket's own events tell (opened, closed, cycle and waiting
    hours, first channel / priority / customer); the combine adds what needs the whole
    log: repeat contacts (the same customer's tickets may lie in other parts), the
    analyses' per-ticket columns taken by ticket code, and first-contact resolution.
    """

    whole: OutcomeContextAnalysis
    calendar: Calendar | None
    fcr: FCRDefinition

    def context(self) -> OutcomeContextAnalysis:
        """Cutoff, judge, stages, window and the analyses' facts of the whole log."""
        return self.whole

    def kernel(self, part: TicketLog, ctx: OutcomeContext) -> pd.DataFrame:
        """The per-ticket rows of ``part`` that its own events decide."""
        events = part.events
        cases = case_times(part, ctx.states, ctx.stages, ctx.cutoff)
        end = cases["closed_at"].where(~cases["open_at_cutoff"], ctx.cutoff)
        end = end.astype(cases["opened_at"].dtype)
        opened_ns = time_i8(cases["opened_at"].dt.as_unit("ns"))
        cycle_ns = time_i8(end.dt.as_unit("ns")) - opened_ns
        cases["cycle_hours"] = np.maximum(cycle_ns / NS_PER_HOUR, 0.0)
        if self.calendar is not None:
            cycle = hours(cases["opened_at"], end, self.calendar).clip(lower=0)
            cases["cycle_business_hours"] = cycle
        codes, starts = part.case_index()
        for col in ("channel", "priority", "customer_id"):
            if col in events.columns:
                cases[col] = _first_value(events, col, codes, starts)
        return cases.reset_index()

    def combine(self, parts: Sequence[pd.DataFrame], ctx: OutcomeContext) -> pd.DataFrame:
        """The :func:`case_outcomes` table of the whole log."""
        filled = [p for p in parts if len(p)] or list(parts[:1])
        cases = filled[0] if len(filled) == 1 else pd.concat(filled, ignore_index=True)
        if "customer_id" in cases.columns:  # the same customer's tickets span the parts
            cases["repeat_contact"] = repeat_contact(cases, ctx.within_hours * 1.0).to_numpy()
        else:
            cases["repeat_contact"] = False
        ids = cases["case_id"]
        fcr, facts = self.fcr, ctx.facts
        fcr_ok = ~cases["open_at_cutoff"].to_numpy(dtype=bool)
        if not fcr.allow_repeat_contact:
            fcr_ok &= ~cases["repeat_contact"].to_numpy(dtype=bool)
        if facts.rework is not None:
            rc, at = facts.rework, by_ticket_code(ids, facts.rework)
            cases["has_rework"] = _taken(rc["has_rework"], at, False, bool)
            cases["n_reopen"] = _taken(rc["n_reopen"], at, 0, np.int64)
            cases["reopened"] = cases["n_reopen"] > 0
            cases["ping_pong"] = _taken(rc["ping_pong"], at, False, bool)
            cases["rework_hours"] = _taken(rc["rework_hours"], at, 0.0, np.float64)
            if not fcr.allow_rework:
                fcr_ok &= ~cases["has_rework"].to_numpy()
        if facts.handoffs is not None:
            hc, at = facts.handoffs, by_ticket_code(ids, facts.handoffs)
            cases["n_handoffs"] = _taken(hc["n_handoffs"], at, 0, np.int64)
            cases["handoff_hours"] = _taken(hc["handoff_hours"], at, 0.0, np.float64)
            cases["span_hours"] = _taken(hc["span_hours"], at, np.nan, np.float64)
            cases["handoff_share"] = _taken(hc["handoff_share"], at, np.nan, np.float64)
            fcr_ok &= cases["n_handoffs"].to_numpy() <= fcr.max_handoffs
        cases["first_contact_resolved"] = fcr_ok
        if facts.conformance is not None:
            cc, at = facts.conformance, by_ticket_code(ids, facts.conformance)
            conforming = pd.array(cc["conforming"], dtype="boolean")
            cases["conforming"] = conforming.take(at, allow_fill=True)
            cases["deviating"] = ~cases["conforming"]
            cases["sla_breached"] = _taken(cc["sla_breached"], at, False, bool)
        return cases


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
