"""Rework loops: one typed, costed rework taxonomy per ticket, activity and department.

:func:`find_rework` marks every piece of work a ticket did twice and gives each
occurrence exactly **one** primary ``kind``; :func:`augment` joins the case-level
flags back onto the event log and :func:`svcmining.filter_rework` selects tickets by kind.

What counts as rework
---------------------
The rework occurrences of a case are

(a) each **reopen cycle**, as every svcmining analysis judges it
    (:mod:`svcmining.states`): after a closing event (resolved or closed: 已解决, 结单,
    Resolved, Closed, ...), the events up to and including the next closing event form
    a cycle when they reopen the ticket -- a reopen label (重新打开, Reopened, ...) or work
    whose stage is not after the close's (e.g. 远程排障 again after 结单, Active after
    Resolved). A run of closing events (Resolved → Closed → Closed) is one closing; the
    ordinary post-close steps (回访 follow-up call, 质量抽检 quality check) are not
    rework. Events of a cycle are not counted again as other kinds.
(b) each **later execution of work already executed earlier in the case**, outside
    reopen cycles. Only work counts: a repeated waiting state (Pending, 挂起), closing
    state or bookkeeping row is not rework.

Kinds, by precedence (the first rule that applies wins)
-------------------------------------------------------
1. ``reopen``    -- (a) above; one occurrence per cycle.
2. ``self_loop`` -- the previous event of the case has the same activity: A, A.
3. ``ping_pong`` -- the event is the first event of a group (``group``, department by
   default) returning to the case after it handed the case off, and that group had
   already executed this same activity before: direct A→B→A, or indirect A→B→C→A
   with at most ``window`` other groups in between (detected by
   :func:`svcmining._pingpong.ping_pong_returns`). A plain return to a coordinating
   department for the *next* step repeats nothing and is not ping-pong.
4. ``back_loop`` -- the activity's stage is strictly earlier than the stage of the
   previous event (stage = ``sop.stage_of(activity)`` when an SOP is given, else the
   activity's median relative position ``pos / (len - 1)`` in its cases over the log).
5. ``redo``      -- the resource differs from the resource of this activity's previous
   execution (or either resource is missing: redo cannot be told from repeat then).
6. ``repeat``    -- the same resource did it again (edeaR's meaning).

Examples (department in brackets, resource after the slash; with the sample SOP)::

    登记 远程排障 远程排障                    -> 远程排障 #2: self_loop
    结单 远程排障 远程排障 结单               -> one reopen (not also a self_loop)
    评估[售后]/李 核实[销售] 评估[售后]/李    -> 评估 #2: ping_pong 售后部 → 销售部 → 售后部
                                                 (it is also a back_loop and a repeat)
    评估[售后] 排障[技术] 上门[上门] 评估[售后] -> 评估 #2: ping_pong, indirect (window 3)
    登记[客服] 评估[售后] 排障[技术] 验收[客服] -> no rework (客服 returns for the next step)
    评估/李 审批/张 评估/王 (one department)  -> 评估 #2: back_loop (评估 is before 审批)
    排障/李 上门/张 排障/王 (one department)  -> 排障 #2: redo (same stage as 上门)
    排障/李 上门/张 排障/李 (one department)  -> 排障 #2: repeat
    结单 重新打开 排障 验收 结单 回访         -> one reopen cycle (重新打开 … 结单);
                                                 回访 after the last close is not rework

Which labels close a ticket
---------------------------
The ticket-state model of :mod:`svcmining.states` (``states=``, or the SOP's
``states:``). ``close_activities`` replaces its closed and resolved labels for one call.

Cost
----
``rework_hours`` of an occurrence runs from the completion of the previous execution
of the activity (``first_at``; for a reopen: the close that was reopened) to the
completion of the repetition (``end_at``; for a reopen: the cycle's last event), in
business hours when a :class:`~svcmining.calendars.Calendar` is given. A case's
``rework_hours`` is the length of the *union* of its occurrence intervals, so it never
exceeds the case's ``cycle_hours``; ``rework_share`` is their ratio.

Hours lost, hours in rework loops
---------------------------------
*Hours lost* mean one thing in every svcmining analysis: the hours an occurrence took
beyond its target, in business hours under a calendar (:mod:`svcmining._hourslost`). A
rework loop's target is 0 -- work done twice should have been done once -- so an
occurrence's hours lost are its ``rework_hours``; summed over the loops
(``summary()["hours_lost"]``, :meth:`ReworkResult.lost_by_kind`) they are what
:func:`svcmining.pain_points` shows for its ``rework`` rows. Loops of different
activities can nest (a ping-pong inside a back loop), so the *hours in rework loops* of
the tickets -- each hour once, ``cases.rework_hours``, ``summary()["rework_hours"]`` --
can be fewer.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np
import pandas as pd

from ._reworkkernel import (
    REWORK_KINDS,
    ReworkAnalysis,
    ReworkKind,
    ReworkPart,
    ReworkResult,
    SOPLike,
)
from ._validation import check_positive_int
from .core import run
from .eventlog import LogLike, TicketLog, as_events, as_ticket_log
from .exceptions import InvalidParameterError, SchemaError
from .states import (
    DEFAULT_CLOSE_ACTIVITIES,
    DEFAULT_REOPEN_ACTIVITIES,
    TicketStates,
    as_states,
)

if TYPE_CHECKING:
    from .calendars import Calendar

__all__ = [
    "DEFAULT_CLOSE_ACTIVITIES",
    "DEFAULT_REOPEN_ACTIVITIES",
    "REWORK_KINDS",
    "ReworkAnalysis",
    "ReworkKind",
    "ReworkPart",
    "ReworkResult",
    "augment",
    "find_rework",
    "rework_analysis",
]

_L = TypeVar("_L", TicketLog, pd.DataFrame)


def find_rework(
    log: LogLike,
    *,
    close_activities: str | Sequence[str] | None = None,
    reopen_activities: str | Sequence[str] | None = None,
    group: str = "department",
    sop: SOPLike | str | os.PathLike[str] | None = None,
    calendar: Calendar | None = None,
    window: int = 3,
    states: TicketStates | None = None,
) -> ReworkResult:
    """Find rework loops and type each occurrence (see the module docstring for the rules).

    Each occurrence's ``rework_hours`` are its *hours lost* (a loop's target is 0: work
    done twice should have been done once), the figure :func:`svcmining.pain_points`
    ranks (:meth:`ReworkResult.lost_by_kind`, ``summary()["hours_lost"]``); a ticket's
    ``rework_hours`` are its *hours in rework loops* (each hour once when loops nest).

    Parameters
    ----------
    log : TicketLog or pandas.DataFrame
        The event log (canonical columns).
    close_activities : str or list of str, optional
        Labels that end a ticket, replacing the closed and resolved labels of the state
        model (:class:`svcmining.states.TicketStates`; compared loosely, a
        ``"Completed+Closed"`` join by its status). Pass ``[]`` to look for no reopens.
    reopen_activities : str or list of str, optional
        Labels that explicitly reopen a ticket. Default :data:`DEFAULT_REOPEN_ACTIVITIES`.
    states : TicketStates, optional
        The ticket-state model (default: the SOP's ``states:``, else the defaults).
    group : str
        Column whose changes are handoffs (ping-pong, ``by_department``). When the
        default ``"department"`` is missing from the log, no ping-pong is looked for.
    sop : SOP, optional
        Gives the stage order (``sop.stage_of(activity)``) for ``back_loop``; without
        it the activity's median relative position in the log is its stage.
    calendar : Calendar, optional
        Business calendar for ``rework_hours``/``cycle_hours`` (elapsed hours without).
    window : int
        Most groups in between for an indirect ping-pong (A→B→C→A is 2).

    Returns
    -------
    ReworkResult

    Examples
    --------
    >>> import pandas as pd
    >>> ts = pd.date_range("2024-10-08 09:00", periods=5, freq="h", tz="Asia/Shanghai")
    >>> df = pd.DataFrame({"case_id": "1", "timestamp": ts,
    ...                    "activity": ["投诉登记", "远程排障", "远程排障", "结单", "回访"]})
    >>> rw = find_rework(df)
    >>> rw.occurrences[["activity", "kind", "rework_hours"]].to_dict("records")
    [{'activity': '远程排障', 'kind': 'self_loop', 'rework_hours': 1.0}]
    """
    tlog = as_ticket_log(log)
    analysis = rework_analysis(
        tlog.events.columns,
        close_activities=close_activities,
        reopen_activities=reopen_activities,
        group=group,
        sop=sop,
        calendar=calendar,
        window=window,
        states=states,
    )
    return run(analysis, [tlog])


def rework_analysis(
    columns: Sequence[str] | pd.Index,
    *,
    close_activities: str | Sequence[str] | None = None,
    reopen_activities: str | Sequence[str] | None = None,
    group: str = "department",
    sop: SOPLike | str | os.PathLike[str] | None = None,
    calendar: Calendar | None = None,
    window: int = 3,
    states: TicketStates | None = None,
) -> ReworkAnalysis:
    """The :class:`ReworkAnalysis` of :func:`find_rework`'s options (checked) for a log
    with ``columns`` (the pandas and the Dask functions build it alike)."""
    fn = "find_rework"
    if not isinstance(group, str):
        raise InvalidParameterError(
            f"The 'group' parameter of {fn} must be a column name (str). Got {group!r} instead."
        )
    columns = pd.Index(columns)
    has_group = group in columns
    if not has_group and group != "department":
        raise SchemaError(
            f"The event log has no column {group!r} to group handoffs by (found: "
            f"{', '.join(map(str, columns[:20]))}). Pass group='department' or map it."
        )
    if isinstance(sop, str | os.PathLike | Mapping):  # a path or mapping, as check_sop accepts
        from .sop import as_sop

        sop = as_sop(sop, func=fn)
    if sop is not None and not callable(getattr(sop, "stage_of", None)):
        raise InvalidParameterError(
            f"The 'sop' parameter of {fn} must be an SOP with a stage_of(activity) method "
            f"(svcmining.load_sop). Got {type(sop).__name__} instead."
        )
    window = check_positive_int(fn, "window", window)
    st = as_states(
        states,
        sop=sop,
        close_activities=close_activities,
        reopen_activities=reopen_activities,
        func=fn,
    )
    return ReworkAnalysis(st, group, has_group, sop, calendar, window)


# --------------------------------------------------------------------------- helpers


def rework_result_for(
    log: LogLike, events: pd.DataFrame, rework: ReworkResult | None, fn: str
) -> Any:
    """The given ReworkResult checked against ``events``, or find_rework of ``log``."""
    if rework is None:
        return find_rework(log)
    if not isinstance(rework, ReworkResult):
        raise InvalidParameterError(
            f"The 'rework' parameter of {fn} must be a ReworkResult from find_rework. "
            f"Got {type(rework).__name__} instead."
        )
    if rework.n_log_events != len(events):
        raise InvalidParameterError(
            f"The ReworkResult given to {fn} was computed on a log with "
            f"{rework.n_log_events:,} events, this log has {len(events):,}; "
            "call find_rework on this log first."
        )
    return rework


def augment(log: _L, rework: ReworkResult | None = None) -> _L:
    """Join the case-level rework flags (and each event's rework kind) onto the event log.

    Adds ``has_rework``, ``n_rework``, ``rework_kinds``, ``n_reopen``, ``ping_pong``,
    ``rework_hours``, ``rework_share`` (per case) and ``rework_kind`` (per event: the
    kind of the occurrence at that event; every event of a reopen cycle is 'reopen';
    missing elsewhere). Returns a new object of the type given (TicketLog → TicketLog,
    DataFrame → DataFrame); the input is not modified.

    Examples
    --------
    >>> import pandas as pd
    >>> ts = pd.date_range("2024-10-08 09:00", periods=3, freq="h", tz="Asia/Shanghai")
    >>> df = pd.DataFrame({"case_id": "1", "timestamp": ts, "activity": ["登记", "排障", "排障"]})
    >>> augment(df)["rework_kind"].tolist()
    [nan, nan, 'self_loop']
    """
    events = as_events(log)
    rw = rework_result_for(log, events, rework, "augment")
    occ = rw.occurrences
    kind = np.full(len(events), None, dtype=object)
    if len(occ):
        reps = occ["n_events"].to_numpy(dtype=np.int64)
        start = occ["event_index"].to_numpy(dtype=np.int64)
        idx = np.repeat(start, reps) + (
            np.arange(reps.sum()) - np.repeat(np.cumsum(reps) - reps, reps)
        )
        kind[idx] = np.repeat(occ["kind"].to_numpy(dtype=object), reps)
    c = rw.cases.set_index("case_id")
    added: dict[str, str] = {
        "has_rework": "has_rework",
        "n_rework": "n_rework",
        "rework_kinds": "kinds",
        "n_reopen": "n_reopen",
        "ping_pong": "ping_pong",
        "rework_hours": "rework_hours",
        "rework_share": "rework_share",
    }
    out = events.drop(columns=[k for k in (*added, "rework_kind") if k in events.columns])
    out = out.copy()
    for new, col in added.items():
        out[new] = out["case_id"].map(c[col]).to_numpy()
    out["rework_kind"] = pd.Series(kind, index=out.index, dtype="str")
    if isinstance(log, TicketLog):
        return log.with_events(out)
    return out
