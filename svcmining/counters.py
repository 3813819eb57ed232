"""The ticket system's own counters, cross-checked against what svcmining counts.

Ticket systems keep counters on the ticket: ServiceNow ``reassignment_count``,
``reopen_count`` and ``sys_mod_count``, ITIL exports ``# Reassignments``, Chinese
exports 转派次数 / 重开次数. :func:`check_counters` finds them among the log's
pass-through columns (or takes them from ``counters=``) and compares each ticket's
counter with the figure svcmining derives from the events. It is how a user learns to
trust the handoff and reopen figures, or learns what the export is missing.

Which counters, derived how
---------------------------
``reassignments``
    Handoffs of the ticket (:func:`svcmining.handoff_delays`: changes of the ``by``
    column between consecutive events; events without a value are skipped, so a first
    assignment is not a reassignment). ``by`` is ``department`` (the assignment group)
    for group counters (``reassignment_count``, ``# Reassignments``, 转派次数 …) and
    ``resource`` for assignee counters (``assignee_change_count``, 处理人变更次数 …).
``reopens``
    Reopens of the ticket as :func:`svcmining.find_rework` counts them (``n_reopen``):
    the one rule of :mod:`svcmining.states` — the ticket leaves a resolved or closed
    state for work, or takes an explicit reopen label.
``updates``
    Update counters (``sys_mod_count``, ``# Updates``, 更新次数): the ticket's events
    after its first one (an audit export writes one row per update; the counter is 0
    when the ticket was created). In a state log whose status repeats were merged at
    load, fewer rows remain, so this figure is lower.

How a counter's value is read
-----------------------------
A ticket's counter is its **last** non-missing value in the ticket (the counters only
grow; the last row is the latest snapshot). Numbers and text numbers (``"3"``,
``"3.0"``, ``"1,024"``, full-width ``"３"``) are read; anything else (``"n/a-ish"``,
``2.5``, ``-1``, ``True``) is *unparseable*: reported, never guessed, and the ticket is
left out of the comparison when its last value is one.

Which direction is suspicious
-----------------------------
Audit snapshots can miss updates, so a derived count **below** the counter is
expected now and then (``below``). A derived count **above** the counter means
svcmining saw handoffs, reopens or updates the system did not count: a wrong label
model (a state counted as a reopen), a grouping column that is not the assignment
group, or merged tickets — the direction to look at (``above``).

Examples
--------
>>> import pandas as pd
>>> ev = pd.DataFrame({"case_id": ["1", "1", "1", "2", "2"],
...     "activity": ["New", "Active", "Resolved", "New", "Resolved"],
...     "timestamp": pd.date_range("2024-10-01", periods=5, freq="h", tz="UTC"),
...     "department": ["L1", "L2", "L2", "L1", "L1"],
...     "reassignment_count": ["0", "1", "1", "0", "1"]})
>>> check_counters(ev).table[["counter", "tickets", "equal", "below", "above"]].to_dict("records")
[{'counter': 'reassignments', 'tickets': 2, 'equal': 1, 'below': 1, 'above': 0}]
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, get_args

import numpy as np
import pandas as pd

from ._repr import html_table
from .eventlog import CANONICAL_COLUMNS, LogLike, TicketLog, as_ticket_log, last_per_case
from .exceptions import InvalidParameterError, SchemaError
from .handoffs import HandoffResult, handoff_delays
from .rework import ReworkResult
from .sop import as_sop
from .states import TicketStates, as_states, judge_tickets

__all__ = [
    "ASSIGNEE_COUNTER_HEADERS",
    "COUNTER_KINDS",
    "COUNTER_SYNONYMS",
    "CounterCheck",
    "CounterKind",
    "check_counters",
]

CounterKind = Literal["reassignments", "reopens", "updates"]
#: The kinds of counter compared, in table order.
COUNTER_KINDS: tuple[str, ...] = get_args(CounterKind)

#: Headers of the counters, per kind (compared ignoring case, spaces and punctuation).
COUNTER_SYNONYMS: dict[str, tuple[str, ...]] = {
    "reassignments": (
        "reassignment_count",
        "reassignments",
        "# Reassignments",
        "No. of Reassignments",
        "Number of reassignments",
        "Reassignment count",
        "reassign_count",
        "group_reassignment_count",
        "转派次数",
        "改派次数",
        "转派数",
        "转单次数",
    ),
    "reopens": (
        "reopen_count",
        "reopens",
        "# Reopens",
        "No. of Reopens",
        "Number of reopens",
        "Reopen count",
        "reopened_count",
        "times reopened",
        "重开次数",
        "重新打开次数",
        "重开数",
    ),
    "updates": (
        "sys_mod_count",
        "# Updates",
        "updates",
        "update_count",
        "mod_count",
        "No. of updates",
        "Number of updates",
        "更新次数",
        "修改次数",
    ),
}
#: Reassignment counters about assignees, not groups: compared with handoffs between
#: resources (``by="resource"``).
ASSIGNEE_COUNTER_HEADERS: tuple[str, ...] = (
    "assignee_change_count",
    "assignee changes",
    "# Assignee changes",
    "No. of assignee changes",
    "assigned_to_count",
    "处理人变更次数",
    "转交处理人次数",
)

_TABLE_COLUMNS = [
    "counter",
    "column",
    "derived_from",
    "tickets",
    "equal",
    "below",
    "above",
    "unparseable",
    "share_equal",
    "share_not_above",
    "examples",
]
_CASE_COLUMNS = ["case_id", "counter", "column", "system_value", "derived_value", "agreement"]
_MAX_EXAMPLES = 5
_NON_WORD = re.compile(r"[\W_]+")
_PLAIN = re.compile(r"^\+?\d+(?:\.0*)?$")
_THOUSANDS = re.compile(r"^\d{1,3}(?:,\d{3})+$")


def _header_key(name: object) -> str:
    """Header compared loosely: NFKC, case-folded, no spaces or punctuation."""
    return _NON_WORD.sub("", unicodedata.normalize("NFKC", str(name))).casefold()


_LOOKUP: dict[str, tuple[str, str | None]] = {}
for _kind, _names in COUNTER_SYNONYMS.items():
    for _name in _names:
        _LOOKUP[_header_key(_name)] = (_kind, None)
for _name in ASSIGNEE_COUNTER_HEADERS:
    _LOOKUP[_header_key(_name)] = ("reassignments", "resource")


# --------------------------------------------------------------------------- result


@dataclass(frozen=True, eq=False)
class CounterCheck:
    """What :func:`check_counters` found (see :mod:`svcmining.counters` for the rules).

    Attributes
    ----------
    table : pandas.DataFrame
        One row per counter column found: ``counter`` (reassignments / reopens /
        updates), ``column`` (the source column), ``derived_from`` (what svcmining
        counted), ``tickets`` (tickets with a readable counter value), ``equal``,
        ``below`` (derived < counter), ``above`` (derived > counter: the suspicious
        direction), ``unparseable`` (tickets whose last counter value is not a count),
        ``share_equal``, ``share_not_above`` (of ``tickets``; NaN without tickets) and
        ``examples`` (a few disagreeing tickets, ``above`` first). Empty when the log
        has no counter.
    cases : pandas.DataFrame
        One row per ticket and counter: ``case_id``, ``counter``, ``column``,
        ``system_value`` (the counter, missing when unparseable), ``derived_value``
        (missing when not compared), ``agreement`` ('equal', 'below', 'above',
        'unparseable', 'not compared').
    notes : tuple of str
        What was not compared and why; unparseable values with examples.
    disagreeing_events : int
        Events of the tickets whose derived value differs from a counter.
    """

    table: pd.DataFrame
    cases: pd.DataFrame
    notes: tuple[str, ...] = ()
    disagreeing_events: int = 0

    @property
    def found(self) -> bool:
        """Whether the log has any counter column."""
        return len(self.table) > 0

    @property
    def severity(self) -> str:
        """'warning' when a derived value is above a counter, 'info' when only below (or
        unparseable), else 'ok' (also when there is no counter)."""
        t = self.table
        if not len(t):
            return "ok"
        if int(t["above"].sum()):
            return "warning"
        if int(t["below"].sum()) or int(t["unparseable"].sum()):
            return "info"
        return "ok"

    def to_frame(self) -> pd.DataFrame:
        """The counter table (one row per counter column)."""
        return self.table.copy()

    def disagreements(self) -> pd.DataFrame:
        """The rows of :attr:`cases` whose derived value is not equal to the counter."""
        c = self.cases
        return c[c["agreement"].isin(["above", "below"])].reset_index(drop=True)

    def describe(self) -> str:
        """One line per counter: what was compared and how well it agreed."""
        if not self.found:
            return "no counter column found"
        parts = []
        for r in self.table.itertuples(index=False):
            if pd.isna(r.share_equal):
                parts.append(f"{r.column}: no ticket compared ({r.derived_from})")
                continue
            parts.append(
                f"{r.column} vs {r.derived_from}: {r.equal:,} of {r.tickets:,} tickets equal "
                f"({r.share_equal:.1%}), {r.below:,} below, {r.above:,} above"
            )
        return "; ".join(parts)

    def examples(self, n: int = _MAX_EXAMPLES) -> list[str]:
        """Up to ``n`` disagreeing tickets over all counters, ``above`` ones first, then the
        notes (columns not compared, unparseable values)."""
        out: list[str] = []
        for direction in ("above", "below"):
            for exs in self.table["examples"]:
                out.extend(e for e in exs if e.endswith(f"({direction})"))
        return [*out, *self.notes][:n]

    def __repr__(self) -> str:
        return f"CounterCheck({self.describe()})"

    def _repr_html_(self) -> str:
        notes = "".join(f"<li>{html.escape(n)}</li>" for n in self.notes)
        return (
            f"<p><b>{html.escape(repr(self))}</b></p>"
            + (f"<ul>{notes}</ul>" if notes else "")
            + html_table(self.table, "Counters")
            + html_table(self.disagreements(), "Disagreeing tickets")
        )


# --------------------------------------------------------------------------- core


def check_counters(
    log: LogLike,
    *,
    counters: Mapping[str, str] | None = None,
    handoffs: Any = None,
    rework: Any = None,
    by: str | None = None,
    states: TicketStates | Mapping[str, Any] | None = None,
    sop: Any = None,
) -> CounterCheck:
    """Compare the export's own per-ticket counters with svcmining's handoffs and reopens.

    Parameters
    ----------
    log : TicketLog or DataFrame
        The event log; counters are found among its pass-through columns by
        :data:`COUNTER_SYNONYMS` and :data:`ASSIGNEE_COUNTER_HEADERS`.
    counters : dict, optional
        ``{kind: column}`` with kind one of :data:`COUNTER_KINDS`
        (``{"reassignments": "my column"}``): compare exactly these columns instead of
        the ones found by their headers (``{}`` compares none).
    handoffs : HandoffResult, optional
        A :func:`svcmining.handoff_delays` result of this log to reuse (for the
        reassignment counters grouped by its ``by`` column).
    rework : ReworkResult, optional
        A :func:`svcmining.find_rework` result of this log to reuse for reopens.
    by : str, optional
        Column whose changes are reassignments (default ``department`` for group
        counters, ``resource`` for assignee counters).
    states : TicketStates or mapping, optional
        The ticket-state model for reopens (default: the SOP's, else the defaults).
    sop : SOP, mapping or path, optional
        Gives the stages that tell a reopen from a post-close step, and its states.

    Returns
    -------
    CounterCheck
        ``table`` (one row per counter), ``cases`` (one row per ticket and counter),
        ``notes``; ``severity`` and ``describe()`` for the data-quality gate.

    Examples
    --------
    >>> import pandas as pd
    >>> ev = pd.DataFrame({"case_id": ["7", "7", "7", "7"],
    ...     "activity": ["New", "Resolved", "Active", "Resolved"],
    ...     "timestamp": pd.date_range("2024-10-01", periods=4, freq="h", tz="UTC"),
    ...     "重开次数": [0, 0, 1, 1]})
    >>> check_counters(ev).cases[["case_id", "system_value", "derived_value"]].values.tolist()
    [['7', 1, 1]]
    """
    fn = "check_counters"
    tlog = as_ticket_log(log)
    events = tlog.events
    found = _counter_columns(events, counters, fn)
    if by is not None and (
        not isinstance(by, str) or by in ("case_id", "activity", "timestamp", "start_timestamp")
    ):
        raise InvalidParameterError(
            f"The 'by' parameter of {fn} must name a column of groups such as 'department' or "
            f"'resource'. Got {by!r} instead."
        )
    if not found:
        return _empty()

    sop = as_sop(sop, func=fn)
    st = as_states(states, sop=sop, func=fn)
    codes, starts = tlog.case_index()
    n = len(events)
    n_cases = len(starts)
    sizes = np.diff(np.append(starts, n)).astype(np.int64)
    case_ids = pd.Index(events["case_id"].iloc[starts].to_numpy(), dtype="str")

    rows: list[dict[str, Any]] = []
    per_case: list[pd.DataFrame] = []
    notes: list[str] = []
    derived_cache: dict[tuple[str, str], np.ndarray] = {}
    disagree = np.zeros(n_cases, dtype=bool)
    for kind, column, default_by in found:  # a loop over a handful of counter columns
        value, bad, has, n_bad_values, bad_examples = _read_counter(events[column], codes, n_cases)
        if n_bad_values:
            notes.append(
                f"{column!r}: {n_bad_values:,} value(s) are not a count and were not read "
                f"(e.g. {', '.join(repr(x) for x in bad_examples)})."
            )
        group = by if by is not None else default_by
        derived, derived_from = _derived(
            kind, group, tlog, st, sop, handoffs, rework, case_ids, sizes, derived_cache, fn
        )
        readable = has & ~bad
        if derived is None:
            notes.append(f"{column!r} was not compared: {derived_from}.")
            agreement = np.where(bad, "unparseable", "not compared")
            d_vals = np.zeros(n_cases, dtype=np.int64)
            compared = np.zeros(n_cases, dtype=bool)
        else:
            d_vals = derived
            compared = readable
            agreement = np.select(
                [bad, d_vals < value, d_vals > value], ["unparseable", "below", "above"], "equal"
            )
        eq = compared & (agreement == "equal")
        below = compared & (agreement == "below")
        above = compared & (agreement == "above")
        disagree |= below | above
        n_t = int(compared.sum())
        examples = [
            f"ticket {case_ids[i]}: {column} {int(value[i])}, derived {int(d_vals[i])} "
            f"({'above' if above[i] else 'below'})"
            for i in np.r_[np.flatnonzero(above), np.flatnonzero(below)][:_MAX_EXAMPLES]
        ]
        rows.append(
            {
                "counter": kind,
                "column": str(column),
                "derived_from": derived_from,
                "tickets": n_t,
                "equal": int(eq.sum()),
                "below": int(below.sum()),
                "above": int(above.sum()),
                "unparseable": int((has & bad).sum()),
                "share_equal": eq.sum() / n_t if n_t else np.nan,
                "share_not_above": (eq.sum() + below.sum()) / n_t if n_t else np.nan,
                "examples": examples,
            }
        )
        keep = np.flatnonzero(has)
        per_case.append(
            pd.DataFrame(
                {
                    "case_id": pd.Series(case_ids[keep], dtype="str"),
                    "counter": kind,
                    "column": str(column),
                    "system_value": pd.arrays.IntegerArray(value[keep], bad[keep]),
                    "derived_value": pd.arrays.IntegerArray(
                        d_vals[keep].astype(np.int64), np.full(len(keep), derived is None)
                    ),
                    "agreement": pd.Series(agreement[keep], dtype="str"),
                }
            )
        )
    table = pd.DataFrame(rows, columns=_TABLE_COLUMNS)
    for col in ("tickets", "equal", "below", "above", "unparseable"):
        table[col] = table[col].astype(np.int64)
    for col in ("share_equal", "share_not_above"):
        table[col] = table[col].astype(float)
    cases = pd.concat(per_case, ignore_index=True)[_CASE_COLUMNS]
    return CounterCheck(
        table=table,
        cases=cases,
        notes=tuple(notes),
        disagreeing_events=int(sizes[disagree].sum()),
    )


def _empty() -> CounterCheck:
    table = pd.DataFrame({c: pd.Series(dtype=object) for c in _TABLE_COLUMNS})
    for col in ("tickets", "equal", "below", "above", "unparseable"):
        table[col] = table[col].astype(np.int64)
    for col in ("share_equal", "share_not_above"):
        table[col] = table[col].astype(float)
    for col in ("counter", "column", "derived_from"):
        table[col] = table[col].astype("str")
    cases = pd.DataFrame(
        {
            "case_id": pd.Series(dtype="str"),
            "counter": pd.Series(dtype="str"),
            "column": pd.Series(dtype="str"),
            "system_value": pd.Series(dtype="Int64"),
            "derived_value": pd.Series(dtype="Int64"),
            "agreement": pd.Series(dtype="str"),
        }
    )
    return CounterCheck(table=table, cases=cases)


def _counter_columns(
    events: pd.DataFrame, counters: Mapping[str, str] | None, fn: str
) -> list[tuple[str, str, str]]:
    """(kind, column, default by) of every counter to compare, in log column order."""
    if counters is None:
        out = []
        for col in events.columns:
            if col in CANONICAL_COLUMNS or str(col).startswith("_"):
                continue
            hit = _LOOKUP.get(_header_key(col))
            if hit is not None:
                out.append((hit[0], col, hit[1] or "department"))
        return out
    if not isinstance(counters, Mapping):
        raise InvalidParameterError(
            f"The 'counters' parameter of {fn} must be a dict {{kind: column}} with kind one "
            f"of {', '.join(map(repr, COUNTER_KINDS))}. Got {type(counters).__name__} instead."
        )
    out = []
    for kind, col in counters.items():
        if kind not in COUNTER_KINDS:
            raise InvalidParameterError(
                f"The 'counters' parameter of {fn} has the key {kind!r}; keys must be one of "
                f"{{{', '.join(map(repr, COUNTER_KINDS))}}}."
            )
        if col not in events.columns:
            cols = ", ".join(map(str, events.columns[:30]))
            raise SchemaError(
                f"counters={{{kind!r}: {col!r}}}: the log has no column {col!r} (columns: "
                f"{cols}). Name a column of the log."
            )
        out.append((str(kind), col, "department"))
    return out


def _read_counter(
    raw: pd.Series, codes: np.ndarray, n_cases: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int, list[str]]:
    """Per ticket: last non-missing counter value, whether it is unparseable, whether there
    is one; and how many values of the column are unparseable, with a few examples."""
    n = len(raw)
    missing = raw.isna().to_numpy().copy()
    value = np.zeros(n, dtype=float)
    ok = np.zeros(n, dtype=bool)
    present = np.flatnonzero(~missing)
    s = raw.iloc[present]
    if pd.api.types.is_bool_dtype(s.dtype):
        pass  # True/False is not a count
    elif pd.api.types.is_numeric_dtype(s.dtype):
        v = s.to_numpy(dtype=float)
        good = np.isfinite(v) & (v >= 0) & (v == np.floor(v))
        value[present] = np.where(good, v, 0.0)
        ok[present] = good
    else:
        text = s.astype("str").str.normalize("NFKC").str.strip()
        blank = (text == "").to_numpy()
        missing[present[blank]] = True
        plain = text.str.fullmatch(_PLAIN.pattern).to_numpy(dtype=bool)
        thousands = text.str.fullmatch(_THOUSANDS.pattern).to_numpy(dtype=bool)
        good = (plain | thousands) & ~blank
        cleaned = text.str.replace(",", "", regex=False).str.lstrip("+")
        nums = pd.to_numeric(cleaned.where(good), errors="coerce").to_numpy(dtype=float)
        good &= np.isfinite(nums)
        value[present] = np.where(good, np.floor(np.nan_to_num(nums)), 0.0)
        ok[present] = good
    unparse = ~missing & ~ok
    rows = last_per_case(~missing, codes, n_cases)
    has = rows >= 0
    at = np.where(has, rows, 0)
    per_value = np.where(has, value[at] if n else 0.0, 0.0).astype(np.int64)
    per_bad = has & (unparse[at] if n else False)
    bad_rows = np.flatnonzero(unparse)
    examples = list(dict.fromkeys(str(x) for x in raw.iloc[bad_rows[:50]]))[:3]
    return per_value, per_bad, has, len(bad_rows), examples


def _derived(
    kind: str,
    group: str,
    tlog: TicketLog,
    states: TicketStates,
    sop: Any,
    handoffs: Any,
    rework: Any,
    case_ids: pd.Index,
    sizes: np.ndarray,
    cache: dict[tuple[str, str], np.ndarray],
    fn: str,
) -> tuple[np.ndarray | None, str]:
    """svcmining's per-ticket figure for a counter kind (None when it cannot be derived),
    and a description of it."""
    events = tlog.events
    if kind == "updates":
        return sizes - 1, "events after the ticket's first (audit rows)"
    if kind == "reopens":
        what = "reopens (find_rework n_reopen)"
        if ("reopens", "") in cache:
            return cache[("reopens", "")], what
        if rework is not None:
            if not isinstance(rework, ReworkResult):
                raise InvalidParameterError(
                    f"The 'rework' parameter of {fn} must be a ReworkResult from find_rework. "
                    f"Got {type(rework).__name__} instead."
                )
            out = _aligned(rework.cases, "n_reopen", case_ids, "rework", "find_rework", fn)
        else:
            codes = tlog.case_index()[0]
            judged = judge_tickets(
                events, states, sop=sop, case_codes=codes, act=tlog.codes("activity")
            )
            out = np.asarray(judged.n_reopen, dtype=np.int64)
        cache[("reopens", "")] = out
        return out, what
    # reassignments
    what = f"handoffs by {group!r} (handoff_delays n_handoffs)"
    if group not in events.columns:
        return None, (
            f"the log has no {group!r} column to count handoffs by (map the assignment group "
            "to 'department', or pass by=)"
        )
    if ("reassignments", group) in cache:
        return cache[("reassignments", group)], what

    if handoffs is not None and not isinstance(handoffs, HandoffResult):
        raise InvalidParameterError(
            f"The 'handoffs' parameter of {fn} must be a HandoffResult from handoff_delays. "
            f"Got {type(handoffs).__name__} instead."
        )
    if handoffs is not None and handoffs.by == group:
        out = _aligned(handoffs.cases, "n_handoffs", case_ids, "handoffs", "handoff_delays", fn)
    else:
        ho = handoff_delays(tlog, by=group, states=states, sop=sop)
        out = _aligned(ho.cases, "n_handoffs", case_ids, "handoffs", "handoff_delays", fn)
    cache[("reassignments", group)] = out
    return out, what


def _aligned(
    cases: pd.DataFrame, col: str, case_ids: pd.Index, param: str, maker: str, fn: str
) -> np.ndarray:
    """A per-ticket column of another result, in this log's ticket order."""
    values = cases.set_index(cases["case_id"].astype("str"))[col]
    got = values.reindex(case_ids) if values.index.is_unique else values.iloc[:0]
    if len(values) != len(case_ids) or got.isna().any():
        raise InvalidParameterError(
            f"The {param!r} parameter of {fn} was computed on another log ({len(values):,} "
            f"tickets, this log has {len(case_ids):,}); call {maker} on this log first."
        )
    return got.to_numpy(dtype=np.int64)
