"""The ticket-state model: the one place that decides what a label means.

Every svcmining analysis asks this module, and only this module, whether an event
closes a ticket, resolves it, reopens it, pauses it (waiting on the customer or a
third party) or is bookkeeping. :class:`TicketStates` holds the labels of each kind;
its defaults know the states of the common ticket systems (ServiceNow, Jira Service
Management, Zendesk, Freshdesk, ITIL activity logs, Chinese help desks). Override them
per call (``states=TicketStates(...)``, ``close_activities=[...]``) or in the SOP YAML
(``states:``).

Kinds of event
--------------
``working``
    Work on the ticket (the default for any label not listed below).
``waiting``
    The ticket waits on the customer or a third party: Pending, On Hold, Awaiting User
    Info, Waiting for customer, 待客户确认, 挂起. SLA clocks of ticket systems pause here.
``resolved``
    The work is done but the ticket is not formally closed: Resolved, Solved, 已解决.
``closed``
    The ticket is closed: Closed, Done, 结单, 已关闭.
``reopen``
    An explicit reopen: Reopened, 重新打开.
``administrative``
    Bookkeeping rows that are not work (ITIL's "Caused By CI", notifications).

How labels are compared
-----------------------
NFKC (full-width to half-width), case-folded, spaces and punctuation ignored
(``"Ｃｌｏｓｅｄ"``, ``" closed. "`` and ``"Case-closed"`` compare as ``closed`` and
``caseclosed``). A label ending in ``*`` matches every label that starts with it
(``"awaiting*"``). A label joined from name and status (``"Completed+Closed"``, as
BPIC 2013 is loaded with the status joined) is judged by its last ``+`` part too, and an
event's ``lifecycle`` status (BPIC 2013: activity ``Completed``, status ``Closed``) is
judged beside its activity: the event takes the strongest kind of the two (reopen >
closed > resolved > waiting > administrative > working).

Closing and reopening
---------------------
A *closing* is a run of resolved/closed events, with nothing but waiting or
administrative events between them (Resolved → Closed, Closed → Caused By CI → Closed):
one closing, never a reopen. After a closing, the ticket is **reopened** by the first
event that is an explicit reopen label, or work (a working event) whose stage does not
come after the stage of the closing event (Resolved → Active in ServiceNow, Solved →
Open in Zendesk, 结单 → 远程排障). Work whose stage comes after the close — the
follow-up call 回访, a quality check 质量抽检 — is a post-close step, not a reopen. The stage of an
activity is its SOP stage when an SOP is given, else its median relative position in
its tickets over the whole log. A ticket is *closed* at the cutoff when it has a closed
event and no reopen after its last closing; *resolved* when it was resolved (not
closed) and not reopened since.

Examples
--------
>>> s = TicketStates()
>>> [s.kind_of(x) for x in ["Resolved", "Closed", "Awaiting User Info", "重新打开", "Active"]]
['resolved', 'closed', 'waiting', 'reopen', 'working']
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal, get_args

import numpy as np
import pandas as pd

from .eventlog import last_per_case
from .exceptions import InvalidParameterError

__all__ = [
    "DEFAULT_ADMINISTRATIVE",
    "DEFAULT_CLOSE_ACTIVITIES",
    "DEFAULT_REOPEN_ACTIVITIES",
    "DEFAULT_RESOLVED",
    "DEFAULT_WAITING",
    "DEFAULT_WORKING",
    "STATE_KINDS",
    "ActivityStages",
    "Closings",
    "StagesAnalysis",
    "StagesPart",
    "StateKind",
    "TicketStates",
    "activity_stages",
    "as_states",
    "closings",
    "judge_log",
    "judge_tickets",
    "label_mask",
    "normalise_label",
]

StateKind = Literal["working", "waiting", "administrative", "resolved", "closed", "reopen"]
#: The kinds, weakest first: an event whose activity and status say different kinds takes
#: the strongest (its code is the position here).
STATE_KINDS: tuple[str, ...] = get_args(StateKind)
WORKING, WAITING, ADMINISTRATIVE, RESOLVED, CLOSED, REOPEN = range(6)

#: Labels that close a ticket (ServiceNow/Jira/Zendesk/Freshdesk ``Closed``, Jira ``Done``,
#: Chinese 结单 / 已关闭 …).
DEFAULT_CLOSE_ACTIVITIES: tuple[str, ...] = (
    "结单",
    "结案",
    "关单",
    "关闭",
    "已关闭",
    "工单关闭",
    "关闭工单",
    "办结",
    "已办结",
    "Closed",
    "Close",
    "Close ticket",
    "Ticket closed",
    "Case closed",
    "Closure",
    "Done",
)
#: Labels of the state "resolved, not yet closed" (the normal state before a close). A
#: step named as work ("Resolve ticket", 解决) is work, not a state: a step log repeats it.
DEFAULT_RESOLVED: tuple[str, ...] = (
    "已解决",
    "已处理完成",
    "Resolved",
    "Ticket resolved",
    "Solved",
    "Cancelled",
    "Canceled",
    "已取消",
)
#: Labels that explicitly reopen a ticket.
DEFAULT_REOPEN_ACTIVITIES: tuple[str, ...] = (
    "重新打开",
    "重开",
    "再次打开",
    "工单重开",
    "重启工单",
    "Reopen",
    "Reopened",
    "Re-open",
    "Re-opened",
    "Reopen ticket",
)
#: Labels of states that wait on the customer or a third party (SLA clocks pause there).
#: ``*`` matches any ending. Jira's "Waiting for support" is the team's own queue: working.
DEFAULT_WAITING: tuple[str, ...] = (
    "Pending",
    "Pending*",
    "On Hold",
    "On-hold",
    "Hold",
    "Awaiting*",
    "Waiting for customer",
    "Waiting on customer",
    "Waiting for third party",
    "Waiting on third party",
    "Waiting for vendor",
    "Waiting for reply",
    "Wait",
    "Wait - User",
    "Wait - Customer",
    "Wait - Vendor",
    "Wait - Implementation",
    "Wait - Third party",
    "Wait for customer",
    "待客户确认",
    "待客户反馈",
    "待客户回复",
    "等待客户",
    "等待客户确认",
    "等待客户反馈",
    "等待回复",
    "等待第三方",
    "挂起",
    "已挂起",
    "暂停",
)
#: Labels that are work even where a waiting pattern would match them: the team's own
#: queue (Jira's "Waiting for support", "Awaiting Assignment") is not a customer wait.
DEFAULT_WORKING: tuple[str, ...] = (
    "Waiting for support",
    "Waiting for agent",
    "Waiting for assignment",
    "Awaiting assignment",
    "Pending assignment",
)
#: Bookkeeping rows that are not work on the ticket.
DEFAULT_ADMINISTRATIVE: tuple[str, ...] = (
    "Caused By CI",
    "Notification",
    "Notify",
    "系统通知",
)

_KINDS = ("closed", "resolved", "reopen", "waiting", "administrative", "working")
_PUNCT = re.compile(r"[\s\-_.,;:!?'\"()\[\]（）【】，。；：！？、]+")


def normalise_label(label: object) -> str:
    """Label compared loosely: NFKC (full-width to half-width), case-folded, no punctuation.

    Examples
    --------
    >>> normalise_label(" Ｃａｓｅ-Closed. ")
    'caseclosed'
    """
    return _PUNCT.sub("", unicodedata.normalize("NFKC", str(label))).casefold()


class _Matcher:
    """Exact normalised labels plus ``prefix*`` patterns."""

    def __init__(self, labels: Iterable[str]) -> None:
        exact: set[str] = set()
        prefixes: list[str] = []
        for lab in labels:
            text = str(lab)
            if text.endswith("*"):
                prefixes.append(normalise_label(text[:-1]))
            else:
                exact.add(normalise_label(text))
        self.exact = frozenset(exact)
        self.prefixes = tuple(p for p in prefixes if p)

    def __call__(self, norm: str) -> bool:
        return norm in self.exact or any(norm.startswith(p) for p in self.prefixes)


def _labels_tuple(func: str, param: str, value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    try:
        items = tuple(value)
    except TypeError:
        raise InvalidParameterError(
            f"The {param!r} parameter of {func} must be a label or a list of labels. "
            f"Got {value!r} instead."
        ) from None
    if not all(isinstance(x, str) for x in items):
        raise InvalidParameterError(
            f"The {param!r} parameter of {func} must hold activity labels (str). Got {value!r}."
        )
    return items


@dataclass(frozen=True)
class TicketStates:
    """Which labels are waiting, resolved, closed, reopen and administrative states.

    Every other label is work. See the module docstring for how labels are compared
    and what a closing and a reopen are.

    Parameters
    ----------
    closed, resolved, reopen, waiting, administrative : tuple of str
        Labels of each kind (``*`` at the end matches any ending).

    Examples
    --------
    >>> s = TicketStates(closed=("Resolved",), resolved=())   # no separate close step
    >>> s.kind_of("Resolved")
    'closed'
    >>> TicketStates().kind_of("Completed+Closed")             # name + status
    'closed'
    """

    closed: tuple[str, ...] = DEFAULT_CLOSE_ACTIVITIES
    resolved: tuple[str, ...] = DEFAULT_RESOLVED
    reopen: tuple[str, ...] = DEFAULT_REOPEN_ACTIVITIES
    waiting: tuple[str, ...] = DEFAULT_WAITING
    administrative: tuple[str, ...] = DEFAULT_ADMINISTRATIVE
    working: tuple[str, ...] = DEFAULT_WORKING
    _matchers: tuple[_Matcher, ...] = field(
        init=False, repr=False, compare=False, hash=False, default=()
    )

    def __post_init__(self) -> None:
        for kind in _KINDS:
            value = getattr(self, kind)
            object.__setattr__(self, kind, _labels_tuple("TicketStates", kind, value))
        # matchers are derived from the labels, so they are part of the value, not a cache
        object.__setattr__(
            self,
            "_matchers",
            tuple(
                _Matcher(getattr(self, k))
                for k in ("waiting", "administrative", "resolved", "closed", "reopen", "working")
            ),
        )

    # ----------------------------------------------------------------- building

    @classmethod
    def from_spec(
        cls, spec: Mapping[str, Any], *, base: TicketStates | None = None
    ) -> TicketStates:
        """States from a mapping (the SOP YAML's ``states:``).

        Each kind given replaces the default list; ``extend: true`` adds to it instead.

        Examples
        --------
        >>> TicketStates.from_spec({"waiting": ["Vendor"], "extend": True}).kind_of("Vendor")
        'waiting'
        """
        if not isinstance(spec, Mapping):
            raise InvalidParameterError(
                f"'states' must be a mapping of kind -> labels. Got {type(spec).__name__}."
            )
        kinds = _KINDS
        unknown = sorted(str(k) for k in spec if k not in (*kinds, "extend"))
        if unknown:
            raise InvalidParameterError(
                f"Unknown key(s) {unknown} in 'states'; valid keys: {', '.join(kinds)}, extend."
            )
        extend = bool(spec.get("extend", False))
        start = base if base is not None else cls()
        changes: dict[str, Any] = {}
        for k in kinds:
            if k in spec and spec[k] is not None:
                labels = _labels_tuple("states", k, spec[k])
                changes[k] = (*getattr(start, k), *labels) if extend else labels
        return replace(start, **changes)

    def with_overrides(
        self,
        *,
        close_activities: str | Sequence[str] | None = None,
        reopen_activities: str | Sequence[str] | None = None,
        func: str = "svcmining",
    ) -> TicketStates:
        """These states with the closing / reopen labels of a call replaced.

        ``close_activities`` names every label that ends a ticket (it replaces both the
        closed and the resolved lists: pass ``["Resolved", "Closed"]`` to keep both);
        ``[]`` closes nothing.
        """
        out = self
        if close_activities is not None:
            labels = _labels_tuple(func, "close_activities", close_activities)
            out = replace(out, closed=labels, resolved=())
        if reopen_activities is not None:
            out = replace(out, reopen=_labels_tuple(func, "reopen_activities", reopen_activities))
        return out

    # ----------------------------------------------------------------- judging

    def _code(self, label: object) -> int:
        if label is None or (isinstance(label, float) and np.isnan(label)):
            return WORKING
        text = str(label)
        parts = [normalise_label(text)]
        if "+" in text:
            parts.append(normalise_label(text.rsplit("+", 1)[-1]))
        *matchers, work = self._matchers
        best = WORKING
        for norm in parts:
            for code, match in zip(
                (WAITING, ADMINISTRATIVE, RESOLVED, CLOSED, REOPEN), matchers, strict=True
            ):
                if code > best and match(norm) and not (code <= ADMINISTRATIVE and work(norm)):
                    best = code
        return best

    def kind_of(self, label: object) -> str:
        """The kind of one label (``'working'`` when no list has it)."""
        return STATE_KINDS[self._code(label)]

    def codes_of(self, uniques: Iterable[object]) -> np.ndarray:
        """Kind code (position in :data:`STATE_KINDS`) of each distinct label."""
        return np.fromiter((self._code(u) for u in uniques), dtype=np.int8)

    def classify(self, values: pd.Series | Sequence[object]) -> np.ndarray:
        """Kind code of each value, each distinct value judged once."""
        codes, uniques = pd.factorize(pd.Series(values, copy=False))
        kinds = np.append(self.codes_of(uniques), np.int8(WORKING))
        return kinds[codes]  # code -1 (missing) takes the trailing WORKING

    def event_kinds(
        self,
        act_codes: np.ndarray,
        act_uniques: Sequence[object],
        status_codes: np.ndarray | None = None,
        status_uniques: Sequence[object] | None = None,
    ) -> np.ndarray:
        """Kind code per event from its activity and (where given) its lifecycle status.

        The event takes the strongest kind of the two (see the module docstring).
        """
        kinds = np.append(self.codes_of(act_uniques), np.int8(WORKING))[act_codes]
        if status_codes is not None and status_uniques is not None:
            st = np.append(self.codes_of(status_uniques), np.int8(WORKING))[status_codes]
            kinds = np.maximum(kinds, st)
        return kinds.astype(np.int8, copy=False)

    def event_kinds_of(self, events: pd.DataFrame) -> np.ndarray:
        """:meth:`event_kinds` of a canonical event frame (``activity`` and ``lifecycle``)."""
        act_codes, act_uniques = pd.factorize(events["activity"])
        if "lifecycle" in events.columns:
            lc_codes, lc_uniques = pd.factorize(events["lifecycle"])
            return self.event_kinds(act_codes, act_uniques, lc_codes, lc_uniques)
        return self.event_kinds(act_codes, act_uniques)

    def summary(self) -> pd.DataFrame:
        """One row per kind with its labels (for the docs and the report)."""
        rows = [{"kind": k, "labels": ", ".join(getattr(self, k))} for k in _KINDS]
        return pd.DataFrame(rows)


def as_states(
    states: TicketStates | Mapping[str, Any] | None = None,
    *,
    sop: Any = None,
    close_activities: str | Sequence[str] | None = None,
    reopen_activities: str | Sequence[str] | None = None,
    func: str = "svcmining",
) -> TicketStates:
    """The states an analysis uses: given, else the SOP's, else the defaults; then overrides.

    The SOP's ``close`` steps add their labels to the closed labels.
    """
    add_sop_labels = not isinstance(states, TicketStates)  # a TicketStates given is final
    if states is None:
        base = getattr(sop, "states", None) or TicketStates()
    elif isinstance(states, TicketStates):
        base = states
    elif isinstance(states, Mapping):
        base = TicketStates.from_spec(states)
    else:
        raise InvalidParameterError(
            f"The 'states' parameter of {func} must be a TicketStates or a mapping of kind -> "
            f"labels. Got {type(states).__name__} instead."
        )
    if sop is not None and close_activities is None and add_sop_labels:
        extra = _sop_close_labels(sop)
        if extra:
            base = replace(base, closed=(*base.closed, *extra))
    return base.with_overrides(
        close_activities=close_activities, reopen_activities=reopen_activities, func=func
    )


def _sop_close_labels(sop: Any) -> tuple[str, ...]:
    out: list[str] = []
    for sid in getattr(sop, "close_steps", ()) or ():
        step = sop.step(sid)
        out.extend(str(lab) for lab in step.labels)
    return tuple(out)


def label_mask(values: pd.Series, labels: Sequence[str]) -> pd.Series:
    """Which values are one of ``labels`` (compared as the module docstring says).

    A joined label such as ``"Completed+Closed"`` matches on its last part.
    """
    match = _Matcher(labels)
    codes, uniques = pd.factorize(values)
    hit = np.fromiter(
        (
            match(normalise_label(u)) or match(normalise_label(str(u).rsplit("+", 1)[-1]))
            for u in uniques
        ),
        dtype=bool,
        count=len(uniques),
    )
    mask = np.append(hit, False)[codes]
    return pd.Series(mask, index=values.index)


@dataclass(frozen=True, eq=False)
class Closings:
    """Closings and reopen cycles of every ticket (see the module docstring).

    Per event (rows of a log sorted by case, then time): ``kinds`` (codes of
    :data:`STATE_KINDS`), ``closing`` (resolved or closed), ``reopen_at`` (the event
    reopens its ticket) and ``in_cycle`` (the event lies in a reopen cycle: from the first
    event after a closing to the next closing event, inclusive, when that stretch
    reopened the ticket). Per cycle: its first and last row. Per ticket (case code):
    ``n_reopen``, ``closed`` (closed at the cutoff), ``resolved`` (resolved, not closed,
    and not reopened since), ``closed_row`` (row of the last closed event, -1 when the
    ticket is not closed).
    """

    kinds: np.ndarray
    closing: np.ndarray
    reopen_at: np.ndarray
    in_cycle: np.ndarray
    cycle_first: np.ndarray
    cycle_last: np.ndarray
    n_reopen: np.ndarray
    closed: np.ndarray
    resolved: np.ndarray
    closed_row: np.ndarray

    @property
    def open(self) -> np.ndarray:
        """Per ticket: not closed at the cutoff."""
        return ~self.closed


def closings(
    case_codes: np.ndarray,
    n_cases: int,
    kinds: np.ndarray,
    stage: np.ndarray,
    times: np.ndarray | None = None,
) -> Closings:
    """Find every closing and reopen of every ticket, vectorised.

    Parameters
    ----------
    case_codes : array of int
        Case code of each event, in contiguous non-decreasing blocks 0 .. n_cases-1.
    n_cases : int
        Number of tickets.
    kinds : array of int8
        Kind code of each event (:meth:`TicketStates.event_kinds`).
    stage : array of float
        Stage of each event's activity; work at a stage not after the closing event's
        reopens (NaN: unknown, never reopens by stage).
    times : array of int, optional
        Event times (any int64 unit). Work logged at the very time of the close is not a
        reopen by stage (an export that lists tied rows in another order must not reopen
        the ticket); a reopen label still is.

    Examples
    --------
    >>> k = TicketStates().classify(["New", "Active", "Resolved", "Active", "Resolved", "Closed"])
    >>> c = closings(np.zeros(6, dtype=np.int64), 1, k, np.array([0, 1, 2, 1, 2, 3.0]))
    >>> int(c.n_reopen[0]), bool(c.closed[0]), c.in_cycle.astype(int).tolist()
    (1, True, [0, 0, 0, 1, 1, 0])
    """
    n = len(kinds)
    kinds = np.asarray(kinds, dtype=np.int8)
    closing = (kinds == RESOLVED) | (kinds == CLOSED)
    if n == 0:
        z = np.zeros(0, dtype=np.int64)
        zc = np.zeros(n_cases, dtype=np.int64)
        return Closings(
            kinds, closing, closing.copy(), closing.copy(), z, z, zc,
            np.zeros(n_cases, dtype=bool), np.zeros(n_cases, dtype=bool), zc - 1,
        )  # fmt: skip
    new_case = np.ones(n, dtype=bool)
    new_case[1:] = case_codes[1:] != case_codes[:-1]
    starts = np.flatnonzero(new_case)
    sizes = np.diff(np.append(starts, n))
    cs = np.cumsum(closing) - closing  # closings strictly before, over the whole log
    before = cs - np.repeat(cs[starts], sizes)  # ... within the ticket
    seg_start = new_case.copy()
    seg_start[1:] |= before[1:] != before[:-1]
    seg_starts = np.flatnonzero(seg_start)
    seg_id = np.cumsum(seg_start) - 1
    seg_after = before[seg_starts] >= 1  # the segment follows a closing event
    close_stage = np.full(len(seg_starts), np.nan)
    close_stage[seg_after] = np.asarray(stage, dtype=float)[seg_starts[seg_after] - 1]
    with np.errstate(invalid="ignore"):
        earlier = np.asarray(stage, dtype=float) <= close_stage[seg_id]
    if times is not None:
        t = np.asarray(times, dtype=np.int64)
        close_t = np.full(len(seg_starts), np.iinfo(np.int64).max, dtype=np.int64)
        close_t[seg_after] = t[seg_starts[seg_after] - 1]
        earlier &= t > close_t[seg_id]
    trigger = ((kinds == REOPEN) | ((kinds == WORKING) & earlier)) & seg_after[seg_id]
    seg_cycle = np.maximum.reduceat(trigger.astype(np.int8), seg_starts).astype(bool)
    in_cycle = seg_cycle[seg_id]
    seg_last = np.append(seg_starts[1:], n) - 1
    cycle_first, cycle_last = seg_starts[seg_cycle], seg_last[seg_cycle]
    # a cycle's trigger: its first reopening event
    reopen_at = np.zeros(n, dtype=bool)
    if trigger.any():
        trig_rows = np.flatnonzero(trigger)
        first_in_seg = np.r_[True, seg_id[trig_rows][1:] != seg_id[trig_rows][:-1]]
        reopen_at[trig_rows[first_in_seg]] = True
    n_reopen = np.bincount(case_codes[cycle_first], minlength=n_cases).astype(np.int64)
    last_trig = last_per_case(trigger, case_codes, n_cases)
    last_closed = last_per_case(kinds == CLOSED, case_codes, n_cases)
    last_resolved = last_per_case(kinds == RESOLVED, case_codes, n_cases)
    closed = last_closed > last_trig
    resolved = ~closed & (last_resolved > last_trig)
    closed_row = np.where(closed, last_closed, -1)
    return Closings(
        kinds=kinds,
        closing=closing,
        reopen_at=reopen_at,
        in_cycle=in_cycle,
        cycle_first=cycle_first,
        cycle_last=cycle_last,
        n_reopen=n_reopen,
        closed=closed,
        resolved=resolved,
        closed_row=closed_row,
    )


def activity_stages(
    act_codes: np.ndarray, act_uniques: Sequence[object], starts: np.ndarray, sop: Any = None
) -> np.ndarray:
    """Stage of each activity: its SOP stage (``sop.stage_of``), else its median relative
    position in its tickets over the log (NaN for an activity the SOP does not know)."""
    if sop is not None:
        return np.array(
            [np.nan if (s := sop.stage_of(str(a))) is None else float(s) for a in act_uniques],
            dtype=float,
        )
    from ._groupstats import position_medians

    return position_medians(act_codes, starts, len(act_uniques))


def judge_log(tlog: Any, states: TicketStates, sop: Any = None) -> Closings:
    """:func:`judge_tickets` of a :class:`~svcmining.eventlog.TicketLog`, computed once per
    state model and SOP and kept on the log (every analysis of the log shares it).

    Without an SOP the stages are the log's own (:class:`StagesAnalysis`), the very stage
    provider the analyses' contexts hand on: judged once for all of them.
    """
    if sop is None:
        from .core import run

        sop = run(StagesAnalysis(), [tlog])

    def judge() -> Closings:
        return judge_tickets(
            tlog.events,
            states,
            sop=sop,
            case_codes=tlog.case_index()[0],
            act=tlog.codes("activity"),
        )

    try:
        key = ("closings", states, sop)
        hash(key)
    except TypeError:  # a stage provider that cannot be a key: judged each time
        return judge()
    return tlog.derived(key, judge)


def judge_tickets(
    events: pd.DataFrame,
    states: TicketStates,
    *,
    sop: Any = None,
    case_codes: np.ndarray | None = None,
    act: tuple[np.ndarray, Sequence[object]] | None = None,
) -> Closings:
    """:func:`closings` of a canonical event frame (sorted by case, then time).

    Events are judged by their activity and, where the log has one, their ``lifecycle``
    status; stages by :func:`activity_stages`. ``case_codes`` (contiguous block codes) and
    ``act`` (activity codes and labels) save factorising again when the caller has them.
    """
    n = len(events)
    if case_codes is None:
        cid = events["case_id"]
        boundary = np.ones(n, dtype=bool)
        if n > 1:
            boundary[1:] = cid.to_numpy()[1:] != cid.to_numpy()[:-1]
        case_codes = np.cumsum(boundary) - 1
    n_cases = int(case_codes[-1]) + 1 if n else 0
    if act is None:
        codes, uniques = pd.factorize(events["activity"])
        act = (np.asarray(codes, dtype=np.int64), uniques)
    act_codes, act_uniques = act
    if "lifecycle" in events.columns:
        lc_codes, lc_uniques = pd.factorize(events["lifecycle"])
        kinds = states.event_kinds(act_codes, act_uniques, lc_codes, lc_uniques)
    else:
        kinds = states.event_kinds(act_codes, act_uniques)
    starts = np.flatnonzero(np.r_[True, case_codes[1:] != case_codes[:-1]]) if n else case_codes
    stage = activity_stages(act_codes, act_uniques, starts, sop)
    per_event = stage[act_codes] if n else np.zeros(0)
    times = np.asarray(events["timestamp"].array.asi8, dtype=np.int64) if n else None
    return closings(case_codes, n_cases, kinds, per_event, times)


def active_clock(
    case_codes: np.ndarray, kinds: np.ndarray, base: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """A clock that stands still while a ticket waits on the customer or a third party.

    ``base`` is each event's time on some clock (int64 UTC nanoseconds, or the business
    clock of :func:`svcmining.calendars.working_ns`). A waiting event (kind
    ``waiting``) starts a wait that lasts until the ticket's next event. Returns
    ``(clock, wait)``: ``wait`` is the length of the wait each event starts (0 for other
    events and for a ticket's last event), and ``clock = base - waits before the event``,
    so the difference of two events' clock values of one ticket is the time between them
    without the waits. Both int64, in ``base``'s unit.

    Examples
    --------
    >>> k = TicketStates().classify(["Active", "Pending", "Active", "Resolved"])
    >>> clock, wait = active_clock(np.zeros(4, dtype=np.int64), k, np.array([0, 2, 7, 9]))
    >>> wait.tolist(), (clock - clock[0]).tolist()
    ([0, 5, 0, 0], [0, 2, 2, 4])
    """
    base = np.asarray(base, dtype=np.int64)
    n = len(base)
    wait = np.zeros(n, dtype=np.int64)
    if n > 1:
        starts_wait = (np.asarray(kinds)[:-1] == WAITING) & (case_codes[1:] == case_codes[:-1])
        gap = base[1:] - base[:-1]
        wait[:-1] = np.where(starts_wait, gap, 0)
    before = np.cumsum(wait) - wait
    return base - before, wait


# ----------------------------------------------------------------------------------------------
# the stages of a whole log, as a context (svcmining.core)


class ActivityStages:
    """The stage of each activity of a log (its median relative position in its tickets).

    A stage provider like an SOP (``stage_of(activity)``), built over the *whole* log by
    :class:`StagesAnalysis` and handed to every part, so that a part of the log judges
    reopens and ping-pong with the same stages as the whole log. Equal stages compare
    and hash equal (the judged closings are kept on a log per stage provider).
    """

    __slots__ = ("_key", "_stage")

    def __init__(self, stages: Mapping[str, float]) -> None:
        self._stage = dict(stages)
        self._key = tuple(self._stage.items())

    def stage_of(self, activity: str) -> float | None:
        """The activity's stage, ``None`` for an activity the log does not hold."""
        return self._stage.get(activity)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ActivityStages) and self._key == other._key

    def __hash__(self) -> int:
        return hash(self._key)

    def __reduce__(self) -> tuple[Any, ...]:
        return (ActivityStages, (self._stage,))

    def __repr__(self) -> str:
        return f"ActivityStages({len(self._stage)} activities)"


@dataclass(frozen=True, eq=False)
class StagesPart:
    """Events per (activity, ticket length, position) of whole tickets: additive counts
    that hold every value behind the exact median relative position of each activity."""

    labels: pd.Index
    act: np.ndarray
    length: np.ndarray
    pos: np.ndarray
    count: np.ndarray


@dataclass(frozen=True)
class StagesAnalysis:
    """The activity stages as a kernel and a combine (the context of rework, handoffs).

    The combine finds each activity's two middle relative positions by walking the
    added counts in order of value: the median ``(a + b) / 2`` is bit for bit
    :func:`activity_stages` of the whole log.
    """

    def context(self) -> None:
        """No whole-log fact is needed."""
        return None

    def kernel(self, part: Any, ctx: None = None) -> StagesPart:
        """Counts of events per activity, ticket length and position of ``part`` (counted
        once per log, kept on it)."""
        return part.derived(("stage counts",), lambda: _stage_counts(part))

    def combine(self, parts: Sequence[StagesPart], ctx: None = None) -> ActivityStages:
        """The stage of every activity of the log."""
        if len(parts) == 1:
            labels, act = parts[0].labels, parts[0].act
        else:
            allv = np.concatenate([np.asarray(p.labels, dtype=object) for p in parts])
            labels = pd.Index(pd.unique(allv))
            act = np.concatenate(
                [np.asarray(labels.get_indexer(p.labels), dtype=np.int64)[p.act] for p in parts]
            )
        length = np.concatenate([p.length for p in parts])
        pos = np.concatenate([p.pos for p in parts])
        cnt = np.concatenate([p.count for p in parts])
        value = pos / np.maximum(length - 1, 1)  # the relative position (as activity_stages)
        order = np.lexsort((value, act))
        act, value, cnt = act[order], value[order], cnt[order]
        n_act = len(labels)
        total = np.bincount(act, weights=cnt, minlength=n_act).astype(np.int64)
        before = np.concatenate([[0], np.cumsum(total)[:-1]])
        cum = np.cumsum(cnt)
        lo = np.searchsorted(cum, before + (total - 1) // 2, side="right")
        hi = np.searchsorted(cum, before + total // 2, side="right")
        top = max(len(value) - 1, 0)
        med = (value[np.minimum(lo, top)] + value[np.minimum(hi, top)]) / 2 if len(value) else []
        return ActivityStages(
            {str(a): float(m) for a, m, t in zip(labels, med, total, strict=False) if t > 0}
        )


def _stage_counts(part: Any) -> StagesPart:
    """:meth:`StagesAnalysis.kernel` of a log, computed."""
    act, labels = part.codes("activity")
    n = len(act)
    starts = part.case_index()[1]
    sizes = np.diff(np.append(starts, n))
    width = int(sizes.max()) + 1 if n else 1
    # key = (activity * width + ticket length) * width + position in the ticket
    key = np.repeat(sizes.astype(np.int64) * width - starts, sizes)
    key += np.arange(n)
    key += np.asarray(act, dtype=np.int64) * (width * width)
    space = max(len(labels), 1) * width * width
    if space <= 4 * n + (1 << 16):  # a small key space: count, do not sort
        counts = np.bincount(key, minlength=space)
        uniq = np.flatnonzero(counts)
        cnt = counts[uniq]
    else:
        uniq, cnt = np.unique(key, return_counts=True)
    rest, p = np.divmod(uniq, width)
    a, ln = np.divmod(rest, width)
    return StagesPart(pd.Index(labels), a, ln, p, cnt.astype(np.int64))
