"""Slice a ticket log: small typed filters, a stack of them, and one YAML format for it.

Each filter is a frozen dataclass with a readable ``repr``; :class:`FilterStack` applies
them in order. Every application appends one row to the result's ``filters`` table (the
filter's repr, tickets and events kept and removed): a report can say what slice it is about.

==================  =========================================================================
filter              keeps (``keep=False`` removes them instead)
==================  =========================================================================
:class:`TimeFrame`  tickets contained in / intersecting / overlapping / started / completed
                    in a window, or only the events in it (``mode="trim"``)
:class:`Variants`   the tickets of the top N variants, of the variants covering a share of
                    tickets, or of given activity sequences
:class:`Attribute`  tickets with an event (``level="ticket"``) or the events
                    (``level="event"``) whose column equals / is in / is not in / lies in a
                    range / matches a regex
:class:`Endpoints`  tickets that start / end with given activities, or are open (or closed)
                    at the cutoff, as :mod:`svcmining.states` judges them
:class:`Follows`    tickets where A is directly / eventually followed by B, within a time
                    (business hours under a calendar), by the same / another department
:class:`Duration`   tickets whose duration (first start to last completion) lies in a range
                    of hours or in a percentile band
:class:`Between`    tickets whose wait from an A to the next B lies in a range (optionally
                    trimmed to those stretches, as pm4py's ``filter_between``)
:class:`Rework`     tickets with rework (of given kinds, :func:`svcmining.find_rework`)
:class:`Deviation`  tickets with SOP deviations of given types (:func:`svcmining.check_sop`)
:class:`SLABreach`  tickets that breached an SLA of the SOP
:class:`Handoff`    tickets handed from one department (or any group column) to another
==================  =========================================================================

The YAML format (``filters.yaml``)::

    calendar: sop               # of ``business_hours: true``: sop, china_2024, a file, a spec
    sop: sop.yaml               # optional: the SOP of deviation / sla_breach filters
    filters:
      - time_frame: {start: 2024-11-01, end: 2024-12-01, mode: started}
      - attribute: {column: channel, op: equals, value: 微信}
      - follows: {a: 售后评估, b: 上门维修, max_hours: 4, business_hours: true}
      - duration: {percentile: [0.9, 1.0]}

``svc.apply_filters(log, "filters.yaml")`` applies it; ``.filters`` of the result says what it did.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal

import numpy as np
import pandas as pd

from . import _filterargs as args
from . import _filterrules as rules
from ._filterargs import ApplyContext, Filter
from ._validation import check_choice, check_fraction, check_positive_int
from .eventlog import LogLike, TicketLog
from .exceptions import InvalidParameterError

if TYPE_CHECKING:
    from .calendars import Calendar

__all__ = [
    "FILTERS",
    "Attribute",
    "Between",
    "Deviation",
    "Duration",
    "Endpoints",
    "Filter",
    "FilterStack",
    "Follows",
    "Handoff",
    "Rework",
    "SLABreach",
    "TimeFrame",
    "Variants",
    "apply_filters",
]

_TIME_MODES = ("contained", "intersecting", "overlapping", "started", "completed", "trim")
_OPS = ("equals", "in", "not_in", "range", "regex")


@dataclass(frozen=True, repr=False)
class TimeFrame(Filter):
    """Tickets (or events) in the window ``[start, end)`` of completion times.

    ``mode``: ``contained`` (every event in the window), ``intersecting`` (at least one),
    ``overlapping`` (the ticket's span, first to last event, overlaps the window: pm4py's
    ``traces_intersecting``, Disco's "intersecting"), ``started`` / ``completed`` (the
    first / last event in it), ``trim`` (keep only the events in the window). Naive bounds
    are in the log's time zone; ``None`` leaves a side open. ``keep=False`` removes what
    would be kept.

    Examples
    --------
    >>> TimeFrame("2024-11-01", "2024-12-01", mode="started")
    TimeFrame(start='2024-11-01', end='2024-12-01', mode='started')
    """

    start: pd.Timestamp | None = None
    end: pd.Timestamp | None = None
    mode: Literal["contained", "intersecting", "overlapping", "started", "completed", "trim"] = (
        "intersecting"
    )
    keep: bool = True
    key: ClassVar[str] = "time_frame"

    def __post_init__(self) -> None:
        object.__setattr__(self, "start", args.when("TimeFrame", "start", self.start))
        object.__setattr__(self, "end", args.when("TimeFrame", "end", self.end))
        check_choice("TimeFrame", "mode", self.mode, _TIME_MODES)
        args.flag("TimeFrame", "keep", self.keep)

    def _keep(self, log: TicketLog, ctx: ApplyContext) -> np.ndarray:
        events = log.events
        ts = events["timestamp"]
        tz = ts.dt.tz
        lo, hi = args.in_zone(self.start, tz), args.in_zone(self.end, tz)
        inside = np.ones(len(events), dtype=bool)
        if lo is not None:
            inside &= (ts >= lo).to_numpy()
        if hi is not None:
            inside &= (ts < hi).to_numpy()
        if self.mode == "trim":
            return inside if self.keep else ~inside
        codes, starts, n_cases = rules.case_of(log)
        if self.mode == "contained":
            case_ok = ~rules.any_per_case(~inside, codes, n_cases)
        elif self.mode == "intersecting":
            case_ok = rules.any_per_case(inside, codes, n_cases)
        elif self.mode == "started":
            case_ok = inside[starts]
        else:
            last = np.r_[starts[1:], len(events)] - 1 if n_cases else starts
            if self.mode == "completed":
                case_ok = inside[last]
            else:  # overlapping: first event before the end, last at or after the start
                first_t, last_t = ts.iloc[starts], ts.iloc[last]
                case_ok = np.ones(n_cases, dtype=bool)
                if hi is not None:
                    case_ok &= (first_t < hi).to_numpy()
                if lo is not None:
                    case_ok &= (last_t >= lo).to_numpy()
        return self._cases(log, case_ok)


@dataclass(frozen=True, repr=False)
class Variants(Filter):
    """The tickets of the ``top`` most frequent variants, of the most frequent variants
    covering ``coverage`` of the tickets, or of the given activity ``sequences``.

    Give exactly one of the three. Variants are ranked as :func:`svcmining.variants` ranks
    them (by tickets, ties by the sequence).

    Examples
    --------
    >>> Variants(top=3)
    Variants(top=3)
    """

    top: int | None = None
    coverage: float | None = None
    sequences: tuple[tuple[str, ...], ...] | None = None
    keep: bool = True
    key: ClassVar[str] = "variants"

    def __post_init__(self) -> None:
        given = [x is not None for x in (self.top, self.coverage, self.sequences)]
        if sum(given) != 1:
            raise InvalidParameterError(
                "Variants needs exactly one of 'top' (number of variants), 'coverage' (share "
                f"of tickets) and 'sequences'. Got top={self.top!r}, coverage="
                f"{self.coverage!r}, sequences={self.sequences!r}."
            )
        if self.top is not None:
            check_positive_int("Variants", "top", self.top)
        if self.coverage is not None:
            object.__setattr__(
                self,
                "coverage",
                check_fraction("Variants", "coverage", self.coverage, low_open=True),
            )
        if self.sequences is not None:
            if isinstance(self.sequences, str) or not isinstance(self.sequences, Sequence):
                raise InvalidParameterError(
                    "The 'sequences' parameter of Variants must be a list of activity "
                    f"sequences (lists of labels). Got {self.sequences!r} instead."
                )
            seqs = tuple(args.labels("Variants", "sequences", s) for s in self.sequences)
            object.__setattr__(self, "sequences", seqs)
        args.flag("Variants", "keep", self.keep)

    def _keep(self, log: TicketLog, ctx: ApplyContext) -> np.ndarray:
        from .discovery import variant_table

        table, case_rank = variant_table(log, None)
        if self.top is not None:
            case_ok = case_rank <= self.top
        elif self.coverage is not None:
            cum = table["cumulative_share"].to_numpy()
            n_keep = int(np.searchsorted(cum, self.coverage - 1e-12, side="left")) + 1
            case_ok = case_rank <= n_keep
        else:
            wanted = set(self.sequences or ())
            ranks = table.loc[table["sequence"].map(lambda s: s in wanted), "variant_id"]
            case_ok = np.isin(case_rank, ranks.to_numpy())
        return self._cases(log, case_ok)


@dataclass(frozen=True, repr=False)
class Attribute(Filter):
    """Tickets (``level="ticket"``: with at least one matching event) or events
    (``level="event"``) whose ``column`` matches.

    ``op``: ``equals`` (``value`` a scalar), ``in`` / ``not_in`` (a list), ``range``
    (``[low, high]``, both inclusive, ``None`` open; numbers or times, naive times in the
    log's zone), ``regex`` (``re.search`` on the text). A missing value matches only
    ``not_in``. ``keep=False`` removes the matching tickets or events instead.

    Examples
    --------
    >>> Attribute("channel", "in", ["微信", "电话"])
    Attribute(column='channel', op='in', value=('微信', '电话'))
    """

    column: str
    op: Literal["equals", "in", "not_in", "range", "regex"] = "equals"
    value: Any = None
    level: Literal["ticket", "event"] = "ticket"
    keep: bool = True
    key: ClassVar[str] = "attribute"

    def __post_init__(self) -> None:
        if not isinstance(self.column, str) or not self.column:
            raise InvalidParameterError(
                f"The 'column' parameter of Attribute must be a column name. Got {self.column!r}."
            )
        check_choice("Attribute", "op", self.op, _OPS)
        check_choice("Attribute", "level", self.level, ("ticket", "event"))
        args.flag("Attribute", "keep", self.keep)
        v = self.value
        if self.op in ("in", "not_in", "range"):
            if isinstance(v, str) or not isinstance(v, Sequence | set | frozenset):
                raise InvalidParameterError(
                    f"The 'value' of Attribute(op={self.op!r}) must be a list. Got {v!r} instead."
                )
            v = tuple(sorted(v, key=str)) if isinstance(v, set | frozenset) else tuple(v)
            if self.op == "range" and len(v) != 2:
                raise InvalidParameterError(
                    f"The 'value' of Attribute(op='range') must be [low, high] (None for an "
                    f"open side). Got {self.value!r} instead."
                )
            object.__setattr__(self, "value", v)
        elif self.op == "equals" and (v is None or isinstance(v, Sequence | Mapping | set)):
            if not isinstance(v, str):
                raise InvalidParameterError(
                    "The 'value' of Attribute(op='equals') must be one value (use op='in' for "
                    f"a list, op='not_in' to match missing values). Got {v!r} instead."
                )
        elif self.op == "regex":
            if not isinstance(v, str):
                raise InvalidParameterError(
                    f"The 'value' of Attribute(op='regex') must be a regular expression. Got {v!r}."
                )
            try:
                re.compile(v)
            except re.error as exc:
                raise InvalidParameterError(
                    f"The 'value' of Attribute(op='regex') is not a valid regular expression "
                    f"({exc}). Got {v!r}."
                ) from exc

    def matches(self, events: pd.DataFrame) -> np.ndarray:
        """Per event: its ``column`` matches the condition."""
        if self.column not in events.columns:
            raise InvalidParameterError(
                f"Attribute filters on column {self.column!r}, which the log does not have. "
                f"Available columns: {', '.join(map(str, events.columns))}."
            )
        col = events[self.column]
        try:
            hit = self._compare(col)
        except TypeError as exc:
            raise InvalidParameterError(
                f"Attribute cannot compare column {self.column!r} ({col.dtype}) with "
                f"{self.value!r} ({exc}); give values of the column's kind."
            ) from None
        return np.asarray(pd.Series(hit).fillna(False).to_numpy(dtype=bool), dtype=bool)

    def _compare(self, col: pd.Series) -> Any:
        if self.op == "equals":
            hit = col == args.like(col, self.value)
        elif self.op in ("in", "not_in"):
            hit = col.isin([args.like(col, x) for x in self.value])
            if self.op == "not_in":
                hit = ~hit.fillna(False).astype(bool)
        elif self.op == "range":
            lo, hi = (args.like(col, x) for x in self.value)
            hit = pd.Series(True, index=col.index)
            if lo is not None:
                hit &= col >= lo
            if hi is not None:
                hit &= col <= hi
        else:
            text = col.astype("str").where(col.notna())
            hit = text.str.contains(self.value, regex=True)
        return hit

    def _keep(self, log: TicketLog, ctx: ApplyContext) -> np.ndarray:
        hit = self.matches(log.events)
        if self.level == "event":
            return hit if self.keep else ~hit
        codes, _, n_cases = rules.case_of(log)
        return self._cases(log, rules.any_per_case(hit, codes, n_cases))


@dataclass(frozen=True, repr=False)
class Endpoints(Filter):
    """Tickets that start with one of ``start``, end with one of ``end`` and (when
    ``open_at_cutoff`` is given) are open (True) or closed (False) at the cutoff.

    Open and closed are judged by :mod:`svcmining.states` (the one judge every analysis
    uses), with the SOP's states when one is given to :meth:`FilterStack.apply`;
    ``close_activities`` replaces the closing labels. The conditions given all hold.

    Examples
    --------
    >>> Endpoints(start="工单登记", open_at_cutoff=True)
    Endpoints(start=('工单登记',), open_at_cutoff=True)
    """

    start: tuple[str, ...] | None = None
    end: tuple[str, ...] | None = None
    open_at_cutoff: bool | None = None
    close_activities: tuple[str, ...] | None = None
    keep: bool = True
    key: ClassVar[str] = "endpoints"

    def __post_init__(self) -> None:
        for name in ("start", "end", "close_activities"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, args.labels("Endpoints", name, value))
        if self.open_at_cutoff is not None:
            args.flag("Endpoints", "open_at_cutoff", self.open_at_cutoff)
        if self.start is None and self.end is None and self.open_at_cutoff is None:
            raise InvalidParameterError(
                "Endpoints needs at least one of 'start', 'end' and 'open_at_cutoff'."
            )
        args.flag("Endpoints", "keep", self.keep)

    def _keep(self, log: TicketLog, ctx: ApplyContext) -> np.ndarray:
        events = log.events
        _, starts, n_cases = rules.case_of(log)
        ends = np.r_[starts[1:], len(events)] - 1 if n_cases else starts
        case_ok = np.ones(n_cases, dtype=bool)
        act = events["activity"]
        if self.start is not None:
            case_ok &= act.iloc[starts].isin(self.start).to_numpy()
        if self.end is not None:
            case_ok &= act.iloc[ends].isin(self.end).to_numpy()
        if self.open_at_cutoff is not None:
            from .states import as_states, judge_log

            st = as_states(
                None, sop=ctx.sop, close_activities=self.close_activities, func="Endpoints"
            )
            is_open = judge_log(log, st, ctx.sop).open
            case_ok &= is_open if self.open_at_cutoff else ~is_open
        return self._cases(log, case_ok)


@dataclass(frozen=True, repr=False)
class Follows(Filter):
    """Tickets where an ``a`` event is followed by a ``b`` event.

    ``relation``: ``directly`` (the very next event) or ``eventually`` (any later event).
    ``min_hours`` / ``max_hours`` bound the time from the A to the B (completion times;
    business hours under ``calendar``). ``same`` / ``different`` name a column (e.g.
    ``department``, ``resource``) whose value must be equal / differ between the A and the
    B (a missing value matches neither). ``keep=False`` removes these tickets.

    Examples
    --------
    >>> Follows("售后评估", "上门维修", relation="eventually", max_hours=4)
    Follows(a=('售后评估',), b=('上门维修',), relation='eventually', max_hours=4.0)
    """

    a: tuple[str, ...]
    b: tuple[str, ...]
    relation: Literal["directly", "eventually"] = "directly"
    min_hours: float | None = None
    max_hours: float | None = None
    calendar: Calendar | None = None
    same: str | None = None
    different: str | None = None
    keep: bool = True
    key: ClassVar[str] = "follows"

    def __post_init__(self) -> None:
        object.__setattr__(self, "a", args.labels("Follows", "a", self.a))
        object.__setattr__(self, "b", args.labels("Follows", "b", self.b))
        check_choice("Follows", "relation", self.relation, ("directly", "eventually"))
        object.__setattr__(self, "min_hours", args.hours("Follows", "min_hours", self.min_hours))
        object.__setattr__(self, "max_hours", args.hours("Follows", "max_hours", self.max_hours))
        object.__setattr__(self, "calendar", args.calendar_of("Follows", self.calendar))
        if self.same is not None and self.different is not None:
            raise InvalidParameterError(
                "Follows takes at most one of 'same' and 'different' (a column name)."
            )
        args.flag("Follows", "keep", self.keep)

    def _keep(self, log: TicketLog, ctx: ApplyContext) -> np.ndarray:
        events = log.events
        codes, _, n_cases = rules.case_of(log)
        act = events["activity"]
        hit = rules.follows_pairs(
            codes,
            act.isin(self.a).to_numpy(dtype=bool),
            act.isin(self.b).to_numpy(dtype=bool),
            rules.clock_ns(events["timestamp"], self.calendar),
            directly=self.relation == "directly",
            min_ns=rules.hours_ns(self.min_hours, 0),
            max_ns=rules.hours_ns(self.max_hours, rules.NEVER_NS),
            values=args.value_codes(events, self.same or self.different, "Follows"),
            same=self.same is not None,
        )
        return self._cases(log, rules.any_per_case(hit, codes, n_cases))


@dataclass(frozen=True, repr=False)
class Duration(Filter):
    """Tickets whose duration (first start to last completion) is in
    ``[min_hours, max_hours]``, or in the ``percentile`` band ``[low, high]`` (shares in
    [0, 1]: ``[0.9, 1.0]`` is the slowest 10 %, thresholds by linear interpolation).

    Business hours under ``calendar``, else elapsed hours. Bounds are inclusive.

    Examples
    --------
    >>> Duration(percentile=(0.9, 1.0))
    Duration(percentile=(0.9, 1.0))
    """

    min_hours: float | None = None
    max_hours: float | None = None
    percentile: tuple[float, float] | None = None
    calendar: Calendar | None = None
    keep: bool = True
    key: ClassVar[str] = "duration"

    def __post_init__(self) -> None:
        object.__setattr__(self, "min_hours", args.hours("Duration", "min_hours", self.min_hours))
        object.__setattr__(self, "max_hours", args.hours("Duration", "max_hours", self.max_hours))
        object.__setattr__(self, "calendar", args.calendar_of("Duration", self.calendar))
        hours_given = self.min_hours is not None or self.max_hours is not None
        if hours_given == (self.percentile is not None):
            raise InvalidParameterError(
                "Duration needs either 'min_hours' / 'max_hours' or 'percentile' "
                f"([low, high] shares), not both nor neither. Got {self!r}."
            )
        if self.percentile is not None:
            p = self.percentile
            if isinstance(p, str) or not isinstance(p, Sequence) or len(p) != 2:
                raise InvalidParameterError(
                    "The 'percentile' parameter of Duration must be [low, high] with "
                    f"0 <= low <= high <= 1. Got {p!r} instead."
                )
            lo = check_fraction("Duration", "percentile", p[0])
            hi = check_fraction("Duration", "percentile", p[1])
            if lo > hi:
                raise InvalidParameterError(
                    f"The 'percentile' parameter of Duration must have low <= high. Got {p!r}."
                )
            object.__setattr__(self, "percentile", (lo, hi))
        args.flag("Duration", "keep", self.keep)

    def _keep(self, log: TicketLog, ctx: ApplyContext) -> np.ndarray:
        dur = rules.case_hours(log, self.calendar)
        if self.percentile is not None:
            if len(dur):
                lo, hi = np.quantile(dur, self.percentile)
            else:
                lo = hi = 0.0
        else:
            lo = -np.inf if self.min_hours is None else self.min_hours
            hi = np.inf if self.max_hours is None else self.max_hours
        return self._cases(log, (dur >= lo) & (dur <= hi))


@dataclass(frozen=True, repr=False)
class Between(Filter):
    """Tickets with a stretch from an ``a`` to the next ``b`` whose wait (from the A's to
    the B's completion; business hours under ``calendar``) is in ``[min_hours, max_hours]``.

    Stretches are pm4py's ``filter_between`` sub-cases: from the first A after the previous
    stretch to the next B. ``trim=True`` keeps only the events of the stretches that
    qualify (ticket ids unchanged); ``keep=False`` removes the tickets instead.

    Examples
    --------
    >>> Between("售后评估", "上门维修", min_hours=24)
    Between(a=('售后评估',), b=('上门维修',), min_hours=24.0)
    """

    a: tuple[str, ...]
    b: tuple[str, ...]
    min_hours: float | None = None
    max_hours: float | None = None
    calendar: Calendar | None = None
    trim: bool = False
    keep: bool = True
    key: ClassVar[str] = "between"

    def __post_init__(self) -> None:
        object.__setattr__(self, "a", args.labels("Between", "a", self.a))
        object.__setattr__(self, "b", args.labels("Between", "b", self.b))
        if set(self.a) & set(self.b) and set(self.a) != set(self.b):
            raise InvalidParameterError(
                "Between needs 'a' and 'b' to be the same activities or to share none; "
                f"both name {sorted(set(self.a) & set(self.b))}."
            )
        object.__setattr__(self, "min_hours", args.hours("Between", "min_hours", self.min_hours))
        object.__setattr__(self, "max_hours", args.hours("Between", "max_hours", self.max_hours))
        object.__setattr__(self, "calendar", args.calendar_of("Between", self.calendar))
        args.flag("Between", "trim", self.trim)
        args.flag("Between", "keep", self.keep)
        if self.trim and not self.keep:
            raise InvalidParameterError("Between cannot both trim and remove (keep=False).")

    def _keep(self, log: TicketLog, ctx: ApplyContext) -> np.ndarray:
        events = log.events
        codes, _, n_cases = rules.case_of(log)
        act = events["activity"]
        first, last = rules.between_segments(
            codes,
            act.isin(self.a).to_numpy(dtype=bool),
            act.isin(self.b).to_numpy(dtype=bool),
            set(self.a) == set(self.b),
        )
        clock = rules.clock_ns(events["timestamp"], self.calendar)
        wait = clock[last] - clock[first]
        ok = (wait >= rules.hours_ns(self.min_hours, -rules.NEVER_NS)) & (
            wait <= rules.hours_ns(self.max_hours, rules.NEVER_NS)
        )
        if self.trim:
            return rules.mark_stretches(len(events), first[ok], last[ok])
        case_ok = np.zeros(n_cases, dtype=bool)
        case_ok[codes[first[ok]]] = True
        return self._cases(log, case_ok)


@dataclass(frozen=True, repr=False)
class Rework(Filter):
    """Tickets with rework of one of ``kinds`` (any kind when empty), as
    :func:`svcmining.find_rework` types it (with the SOP given to the stack, if any).

    Examples
    --------
    >>> Rework(kinds="reopen", keep=False)
    Rework(kinds=('reopen',), keep=False)
    """

    kinds: tuple[str, ...] = ()
    keep: bool = True
    key: ClassVar[str] = "rework"

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "kinds", args.kinds("Rework", "kinds", self.kinds, rules.rework_kinds())
        )
        args.flag("Rework", "keep", self.keep)

    def _keep(self, log: TicketLog, ctx: ApplyContext) -> np.ndarray:
        from .rework import find_rework

        rw = ctx.rework if ctx.rework is not None else find_rework(log, sop=ctx.sop)
        occ = rw.occurrences
        kinds = self.kinds or rules.rework_kinds()
        selected = occ.loc[occ["kind"].isin(kinds), "case_id"].unique()
        starts = log.case_index()[1]
        case_ok = log.events["case_id"].iloc[starts].isin(selected).to_numpy(dtype=bool)
        return self._cases(log, case_ok)


@dataclass(frozen=True, repr=False)
class Deviation(Filter):
    """Tickets with an SOP deviation of one of ``types`` (any type when empty), as
    :func:`svcmining.check_sop` finds them (steps not reached yet by open tickets are not
    deviations). ``sop``: the SOP file (else the SOP of the stack).

    Examples
    --------
    >>> Deviation(types=["skipped_step", "wrong_department"])
    Deviation(types=('skipped_step', 'wrong_department'))
    """

    types: tuple[str, ...] = ()
    sop: str | None = None
    keep: bool = True
    key: ClassVar[str] = "deviation"

    def __post_init__(self) -> None:
        types = args.kinds("Deviation", "types", self.types, rules.deviation_types())
        object.__setattr__(self, "types", types)
        if self.sop is not None:
            object.__setattr__(self, "sop", os.fspath(self.sop))
        args.flag("Deviation", "keep", self.keep)

    def _keep(self, log: TicketLog, ctx: ApplyContext) -> np.ndarray:
        dev = rules.conformance(log, self.sop or ctx.sop, "Deviation").deviations
        types = self.types or rules.deviation_types()
        return self._cases(log, rules.case_ids_ok(log, dev.loc[dev["type"].isin(types), "case_id"]))


@dataclass(frozen=True, repr=False)
class SLABreach(Filter):
    """Tickets that breached one of the SOP's SLAs (``slas``: their ids; all when empty).

    Examples
    --------
    >>> SLABreach(slas="first_response", keep=False)
    SLABreach(slas=('first_response',), keep=False)
    """

    slas: tuple[str, ...] = ()
    sop: str | None = None
    keep: bool = True
    key: ClassVar[str] = "sla_breach"

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "slas", args.labels("SLABreach", "slas", self.slas, allow_none=True)
        )
        if self.sop is not None:
            object.__setattr__(self, "sop", os.fspath(self.sop))
        args.flag("SLABreach", "keep", self.keep)

    def _keep(self, log: TicketLog, ctx: ApplyContext) -> np.ndarray:
        slas = rules.conformance(log, self.sop or ctx.sop, "SLABreach").slas
        hit = slas["status"] == "breached"
        if self.slas:
            hit &= slas["sla"].isin(self.slas)
        return self._cases(log, rules.case_ids_ok(log, slas.loc[hit, "case_id"]))


@dataclass(frozen=True, repr=False)
class Handoff(Filter):
    """Tickets handed from ``source`` to ``target`` (values of ``by``; None: any), as
    :func:`svcmining.handoff_delays` defines a handoff (consecutive events of a ticket
    with different groups, events without a group skipped).

    Examples
    --------
    >>> Handoff("售后部", "技术支持部")
    Handoff(source='售后部', target='技术支持部')
    """

    source: str | None = None
    target: str | None = None
    by: str = "department"
    keep: bool = True
    key: ClassVar[str] = "handoff"

    def __post_init__(self) -> None:
        for name in ("source", "target", "by"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, str):
                raise InvalidParameterError(
                    f"The {name!r} parameter of Handoff must be text. Got {value!r} instead."
                )
        args.flag("Handoff", "keep", self.keep)

    def _keep(self, log: TicketLog, ctx: ApplyContext) -> np.ndarray:
        events = log.events
        args.value_codes(events, self.by, "Handoff")
        codes, _, n_cases = rules.case_of(log)
        hit = rules.handoff_rows(codes, events[self.by], self.source, self.target)
        return self._cases(log, rules.any_per_case(hit, codes, n_cases))


_CLASSES = (TimeFrame, Variants, Attribute, Endpoints, Follows, Duration, Between, Rework)
FILTERS: dict[str, type[Filter]] = {c.key: c for c in (*_CLASSES, Deviation, SLABreach, Handoff)}
"""YAML name -> filter class."""


# ----------------------------------------------------------------------------------------------
# the stack and its YAML format


@dataclass(frozen=True)
class FilterStack:
    """Filters applied in order (each to the result of the one before).

    Build it from filter objects, a list of ``{name: {parameter: value}}`` mappings, a
    mapping with ``filters:`` (and optional ``calendar:`` / ``sop:``), or a YAML file
    (:meth:`from_yaml`); :meth:`to_yaml` writes it back.

    Examples
    --------
    >>> stack = FilterStack([TimeFrame("2024-11-01", "2024-12-01"), Variants(top=5)])
    >>> len(stack), FilterStack.from_dict(stack.to_dict()) == stack
    (2, True)
    """

    filters: tuple[Filter, ...] = field(default_factory=tuple)
    sop: str | None = None

    def __post_init__(self) -> None:
        items = self.filters
        if isinstance(items, Filter):
            items = (items,)
        if not isinstance(items, Sequence):
            raise InvalidParameterError(
                f"FilterStack needs a list of filters. Got {type(items).__name__} instead."
            )
        for i, f in enumerate(items, start=1):
            if not isinstance(f, Filter):
                raise InvalidParameterError(
                    f"Item {i} of the FilterStack is not a filter: {f!r}. Use one of "
                    f"{', '.join(c.__name__ for c in FILTERS.values())}."
                )
        object.__setattr__(self, "filters", tuple(items))
        if self.sop is not None:
            object.__setattr__(self, "sop", os.fspath(self.sop))

    def __len__(self) -> int:
        return len(self.filters)

    def __iter__(self) -> Iterator[Filter]:
        return iter(self.filters)

    def __repr__(self) -> str:
        inner = "".join(f"\n  {f!r}," for f in self.filters)
        sop = f"\n  sop={self.sop!r}," if self.sop else ""
        return f"FilterStack([{inner}\n]{sop})" if self.filters else "FilterStack([])"

    def apply(self, log: LogLike, *, sop: Any = None, rework: Any = None) -> TicketLog:
        """The filters applied in order to ``log``: a new :class:`TicketLog` whose
        ``filters`` table has one more row per filter. ``sop`` (an SOP or a path) serves
        the filters that need one and name none (default: the stack's ``sop``); ``rework``
        a :class:`~svcmining.rework.ReworkResult` of ``log`` for a first filter of rework."""
        the_sop = sop if sop is not None else self.sop
        return args.apply_in_order(log, self.filters, sop=the_sop, rework=rework)

    # -- dict / YAML --------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """The mapping :meth:`from_dict` reads (``filters:`` and ``sop:`` when set)."""
        out: dict[str, Any] = {}
        if self.sop is not None:
            out["sop"] = self.sop
        out["filters"] = [f.to_dict() for f in self.filters]
        return out

    def to_yaml(self, path: str | os.PathLike[str] | None = None) -> str:
        """The stack as YAML text (UTF-8); written to ``path`` too when given."""
        from ._yaml import dump_yaml

        text = dump_yaml(self.to_dict())
        if path is not None:
            Path(path).write_text(text, encoding="utf-8")
        return text

    @classmethod
    def from_dict(
        cls,
        spec: Mapping[str, Any] | Sequence[Any],
        *,
        calendar: Any = None,
        source: str = "the filter spec",
    ) -> FilterStack:
        """Build a stack from ``{"filters": [...], "calendar": ..., "sop": ...}`` or a list.

        Each item is ``{name: {parameter: value}}`` with a name of :data:`FILTERS`.
        ``business_hours: true`` in an item uses the spec's ``calendar`` (a calendar spec
        mapping or ``china_2024``), else ``calendar``.
        """
        items, sop = args.parse_spec(spec, calendar, source, None, FILTERS)
        return FilterStack(tuple(items), sop=sop)

    @classmethod
    def from_yaml(cls, path: str | os.PathLike[str], *, calendar: Any = None) -> FilterStack:
        """Read a ``filters.yaml`` file (see the module docstring for the format).

        A relative ``sop:`` path is read from the YAML file's folder. Invalid YAML,
        unknown filters and unknown keys raise :class:`InvalidParameterError` naming the
        file, the item and the valid choices.
        """
        from ._textfile import read_text
        from ._yaml import load_yaml

        p = Path(path)
        if not p.is_file():
            raise InvalidParameterError(
                f"Filter file {os.fspath(p)!r} does not exist; give the path of a "
                "filters.yaml file (or a FilterStack, a list or a mapping)."
            )
        text = read_text(p, "filter file")
        data, _ = load_yaml(
            text, os.fspath(p), what="filter file", error=InvalidParameterError, bools=True
        )
        items, sop = args.parse_spec(data, calendar, os.fspath(p), p.parent, FILTERS)
        return FilterStack(tuple(items), sop=sop)


FilterSpec = FilterStack | Filter | Sequence[Any] | Mapping[str, Any] | str | os.PathLike[str]


def as_filter_stack(filters: FilterSpec, *, calendar: Any = None) -> FilterStack:
    """A :class:`FilterStack` from any accepted form (see :func:`apply_filters`)."""
    if isinstance(filters, FilterStack):
        return filters
    if isinstance(filters, Filter):
        return FilterStack((filters,))
    if isinstance(filters, str | os.PathLike):
        return FilterStack.from_yaml(filters, calendar=calendar)
    if isinstance(filters, Mapping | Sequence):
        return FilterStack.from_dict(filters, calendar=calendar)
    raise InvalidParameterError(
        "The 'filters' parameter of apply_filters must be a path to a filters.yaml file, a "
        f"FilterStack, a filter, a list or a mapping. Got {type(filters).__name__} instead."
    )


def apply_filters(
    log: LogLike, filters: FilterSpec, *, sop: Any = None, calendar: Any = None
) -> TicketLog:
    """Apply a filter stack to ``log``, in order.

    Parameters
    ----------
    log : TicketLog or pandas.DataFrame
        The event log.
    filters : path, FilterStack, filter, list or mapping
        A ``filters.yaml`` file (see :mod:`svcmining.filters` for the format), a
        :class:`FilterStack`, one filter, a list of filters or of
        ``{name: {parameter: value}}`` mappings, or a mapping with ``filters:``.
    sop : SOP or path, optional
        The SOP of ``deviation``, ``sla_breach``, ``rework`` and ``endpoints`` (open at
        the cutoff) filters that name none (overrides the file's ``sop:``).
    calendar : Calendar, mapping or 'china_2024', optional
        The calendar of filters with ``business_hours: true`` when the file names none.

    Returns
    -------
    TicketLog
        A new log; its ``filters`` table has one row per filter applied (repr, tickets
        and events kept and removed) after the rows the input log had.

    Examples
    --------
    >>> import pandas as pd
    >>> ts = pd.date_range("2024-10-08 09:00", periods=3, freq="h", tz="Asia/Shanghai")
    >>> df = pd.DataFrame({"case_id": ["1", "1", "2"], "timestamp": ts,
    ...                    "activity": ["登记", "结单", "登记"]})
    >>> out = apply_filters(df, [{"endpoints": {"end": "结单"}}])
    >>> out.events["case_id"].unique().tolist()
    ['1']
    >>> out.filters[["tickets_kept", "tickets_removed"]].values.tolist()
    [[1, 1]]
    """
    return as_filter_stack(filters, calendar=calendar).apply(log, sop=sop)
