"""Handoff delays: the "silent cost" of passing tickets between departments.

:func:`handoff_delays` finds every handoff of every ticket, measures how long the
ticket waited in between, and aggregates the delays per pair of groups (departments
by default; any column works: ``resource``, a team, ``channel``), per ticket and
overall.

Definitions
-----------
handoff
    Between two consecutive events of a ticket whose ``by`` value differs. Events
    whose ``by`` value is missing are skipped (the events on either side of them are
    then consecutive); how many were skipped is in the result's ``notes``.
delay
    From the giving group's last event (its completion ``timestamp``) to the
    receiving group's first event: its ``start_timestamp`` with lifecycle data, else
    its ``timestamp``. In elapsed hours, or in business hours under a
    :class:`~svcmining.calendars.Calendar`. A receiver that started before the giver
    completed (overlapping lifecycle data) has delay 0; those handoffs are counted in
    the notes.
open tickets (right-censoring)
    A ticket is *closed* as every svcmining analysis judges it
    (:mod:`svcmining.states`: a closed event -- activity or ``lifecycle`` status, e.g.
    BPIC 2013's Completed / Closed -- and nothing reopened it since its last closing);
    otherwise it is *open at the cutoff* (``cutoff``: default the last event of
    the log). An open ticket whose last step is normally followed by another group is
    *waiting on a handoff*: it gets one **pending** handoff row from that group to the
    group that most often comes next after the same (group, activity) in the log (a
    closed ticket's end counts as an outcome too, so a step that usually ends a ticket
    gives no pending row). Its ``picked_up_at`` is empty and its ``delay_hours`` is the
    wait so far (to the cutoff): a lower bound. Pending rows count in the handoff waiting
    hours (``handoff_hours``, ``delay_total_hours``) and in the hours lost but not in
    ``count`` and, by default, not in the delay mean/median/p90 (``include_pending=True``
    puts them in).
handoff waiting hours
    The sum of the delays (``delay_total_hours`` of a pair, ``handoff_hours`` of a
    ticket): all the time tickets waited between departments, however short each wait.
hours lost
    What a handoff took beyond its target (``target_hours``): the ``benchmark`` when
    given (e.g. ``"30min"``, the industry figure for passing information between
    departments), else what handing a ticket over into the same step takes when the
    *other* groups do it -- the median delay of their completed handoffs into that
    activity (the median of all handoffs into it when nobody else hands over into it;
    of all handoffs for a pending row, whose next step is unknown). ``hours_lost =
    max(delay_hours - target_hours, 0)`` per handoff, summed per pair, ticket and log.
    A giver slow every time stands out against the rest ("sales → after-sales takes two
    days where the front desk takes hours") instead of raising its own yardstick. This
    is the one definition of hours lost of svcmining (:mod:`svcmining._hourslost`):
    :func:`svcmining.pain_points` shows exactly these figures for its handoff rows.
ping-pong
    A handoff whose receiving group takes the ticket back to redo an activity it
    already did, after 1 (direct A→B→A) to ``window`` (indirect A→B→C→A) other groups
    in between (the shared rule of :func:`svcmining._pingpong.ping_pong_returns`), that
    :func:`svcmining.find_rework` types as ``ping_pong``: a return inside a reopen
    cycle (after 结单) is rework of kind ``reopen``, and a return right after an event
    of the same activity is a ``self_loop`` -- neither is a ping-pong. A ticket is
    ``ping_pong`` when one of its handoffs is. (``find_rework`` with an SOP judges the
    work after the last close by SOP stages; here the stages are always the
    activities' median positions, as ``find_rework`` does without an SOP.)
cycle time and share
    A ticket's ``cycle_hours`` run from its first event (start) to its last event, or
    to the cutoff while it is open. Handoff waits of a ticket never overlap, so
    ``handoff_hours <= cycle_hours``; ``handoff_share`` is their ratio.

Worked example (elapsed hours)::

    ticket 1: 08 Oct 09:00 投诉登记 客服中心
              08 Oct 09:10 分类派单 客服中心
              08 Oct 11:10 销售核实 销售部      handoff 客服中心→销售部, 2.0 h
              09 Oct 11:10 售后评估 售后部      handoff 销售部→售后部, 24.0 h
              09 Oct 15:10 远程排障 技术支持部  handoff 售后部→技术支持部, 4.0 h
              (no 结单: open at the cutoff 09 Oct 18:10; when 远程排障 is usually followed
              by 客服中心 in the log, a pending 技术支持部→客服中心 handoff waits 3.0 h)
    n_handoffs 3, handoff_hours 33.0 (2 + 24 + 4 + 3 pending),
    cycle_hours 33.17 (08 Oct 09:00 → cutoff), handoff_share 0.995;
    with benchmark="30min": hours_lost 1.5 + 23.5 + 3.5 + 2.5 = 31.0
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd

from ._handoffkernel import (
    HandoffAnalysis,
    HandoffContext,
    HandoffContextAnalysis,
    HandoffContextPart,
    HandoffPart,
)
from ._handoffresult import HandoffResult
from ._validation import check_positive_int
from .core import run
from .eventlog import (
    LogLike,
    as_ticket_log,
)
from .exceptions import InvalidParameterError, SchemaError
from .states import (
    TicketStates,
    as_states,
)

if TYPE_CHECKING:
    from .calendars import Calendar

__all__ = [
    "HandoffAnalysis",
    "HandoffContext",
    "HandoffContextAnalysis",
    "HandoffContextPart",
    "HandoffPart",
    "HandoffResult",
    "benchmark_hours",
    "check_by",
    "handoff_analysis",
    "handoff_delays",
]


def handoff_delays(
    log: LogLike,
    *,
    by: str = "department",
    calendar: Calendar | None = None,
    include_pending: bool = False,
    cutoff: Any = None,
    close_activities: str | list[str] | tuple[str, ...] | None = None,
    window: int = 3,
    states: TicketStates | None = None,
    sop: Any = None,
    benchmark: str | pd.Timedelta | None = None,
) -> HandoffResult:
    """Measure the delay of every handoff between groups, per pair, ticket and overall.

    Definitions (handoff, delay, pending handoffs of open tickets, ping-pong, share of
    cycle time, handoff waiting hours, hours lost) are in the :mod:`svcmining.handoffs`
    module docstring, with a worked example. In short: ``delay_total_hours`` are the
    *handoff waiting hours* (all delays); ``hours_lost`` are the delays beyond their
    target (the ``benchmark``, else the other groups' median handoff into the same
    step), the figure :func:`svcmining.pain_points` ranks.

    Parameters
    ----------
    log : TicketLog or pandas.DataFrame
        The event log (canonical columns) with the ``by`` column.
    by : str
        Column whose changes are handoffs: ``"department"`` (default), ``"resource"``,
        a team or any other column.
    calendar : Calendar, optional
        Business hours for the delays and cycle times (elapsed hours when ``None``).
    include_pending : bool
        Put the waits so far of pending handoffs (open tickets) into the delay mean,
        median and p90 of their pair. Default ``False``: those figures are computed
        from completed handoffs only, the pending ones are counted apart.
    cutoff : timestamp, optional
        The export's cutoff (naive times are in the log's time zone); default the last
        event of the log.
    close_activities : str or list of str, optional
        Labels that end a ticket (replace the closed and resolved labels of
        :class:`svcmining.states.TicketStates`).
    window : int
        Most groups between the two visits of a ping-pong return (default 3).
    states : TicketStates, optional
        The ticket-state model (default: the SOP's, else the defaults).
    sop : SOP, optional
        Adds its close steps' labels to the closed labels and gives the stages.
    benchmark : str or Timedelta, optional
        The target of every handoff (e.g. ``"30min"``): delays up to it lose no hours.
        Default: the median delay of the other groups' handoffs into the same step.

    Returns
    -------
    HandoffResult
        ``handoffs``, ``matrix``, ``cases``, ``summary``; ``plot()`` and ``top(n)``.

    Examples
    --------
    >>> import pandas as pd
    >>> from svcmining.handoffs import handoff_delays
    >>> ev = pd.DataFrame({
    ...     "case_id": ["1", "1", "1", "1"],
    ...     "activity": ["分类派单", "销售核实", "售后评估", "结单"],
    ...     "timestamp": pd.to_datetime(["2024-10-08 09:00", "2024-10-08 11:00",
    ...                                  "2024-10-09 11:00", "2024-10-09 12:00"]
    ...                                 ).tz_localize("Asia/Shanghai"),
    ...     "department": ["客服中心", "销售部", "售后部", "客服中心"]})
    >>> ho = handoff_delays(ev)
    >>> ho.handoffs[["from_group", "to_group", "delay_hours"]].values.tolist()
    [['客服中心', '销售部', 2.0], ['销售部', '售后部', 24.0], ['售后部', '客服中心', 1.0]]
    >>> ho.cases[["n_handoffs", "handoff_hours", "cycle_hours"]].to_dict("records")
    [{'n_handoffs': 3, 'handoff_hours': 27.0, 'cycle_hours': 27.0}]
    """
    check_by(by)
    tlog = as_ticket_log(log, required=(by,))
    analysis = handoff_analysis(
        tlog.events.columns,
        by=by,
        calendar=calendar,
        include_pending=include_pending,
        cutoff=cutoff,
        close_activities=close_activities,
        window=window,
        states=states,
        sop=sop,
        benchmark=benchmark,
    )
    return run(analysis, [tlog])


def check_by(by: Any) -> str:
    """``by`` if it can name a column of groups, else :class:`InvalidParameterError`."""
    if not isinstance(by, str) or by in ("case_id", "timestamp", "start_timestamp"):
        raise InvalidParameterError(
            "The 'by' parameter of handoff_delays must name a column of groups such as "
            f"'department', 'resource' or 'channel'. Got {by!r} instead."
        )
    return by


def handoff_analysis(
    columns: Sequence[str] | pd.Index,
    *,
    by: str = "department",
    calendar: Calendar | None = None,
    include_pending: bool = False,
    cutoff: Any = None,
    close_activities: str | list[str] | tuple[str, ...] | None = None,
    window: int = 3,
    states: TicketStates | None = None,
    sop: Any = None,
    benchmark: str | pd.Timedelta | None = None,
) -> HandoffAnalysis:
    """The :class:`HandoffAnalysis` of :func:`handoff_delays`' options (checked) for a log
    with ``columns`` (the pandas and the Dask functions build it alike)."""
    check_by(by)
    if by not in pd.Index(columns):
        raise SchemaError(
            f"The event log has no column {by!r} to find handoffs by (found: "
            f"{', '.join(map(str, list(columns)[:20]))}). Map it when loading or pass by=."
        )
    if not isinstance(include_pending, bool):
        raise InvalidParameterError(
            "The 'include_pending' parameter of handoff_delays must be True or False. "
            f"Got {include_pending!r} instead."
        )
    window = check_positive_int("handoff_delays", "window", window)
    if calendar is not None:
        from .calendars import Calendar as _Cal

        if not isinstance(calendar, _Cal):
            raise InvalidParameterError(
                "The 'calendar' parameter of handoff_delays must be a svcmining Calendar or "
                f"None. Got {type(calendar).__name__} instead."
            )
    from .sop import as_sop

    sop = as_sop(sop, func="handoff_delays")
    tstates = as_states(states, sop=sop, close_activities=close_activities, func="handoff_delays")
    bench = None if benchmark is None else benchmark_hours(benchmark)
    return HandoffAnalysis(by, calendar, include_pending, cutoff, tstates, sop, window, bench)


def benchmark_hours(benchmark: Any) -> float:
    """The ``benchmark`` of :func:`handoff_delays` in hours (a duration >= 0)."""
    try:
        td = pd.Timedelta(benchmark)
    except (TypeError, ValueError):
        td = pd.NaT
    if pd.isna(td) or isinstance(benchmark, bool) or td < pd.Timedelta(0):
        raise InvalidParameterError(
            "The 'benchmark' parameter of handoff_delays must be a duration >= 0 such as "
            f"'30min' or '2h'. Got {benchmark!r} instead."
        )
    return float(td / pd.Timedelta(hours=1))
