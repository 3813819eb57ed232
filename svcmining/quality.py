"""The data-quality gate: what in a loaded log deserves a look before any analysis.

:func:`check_quality` returns one row per check — also the checks that found
nothing, so a reader sees what was checked — with the number of events and cases
concerned, a severity and up to five examples. :func:`open_cases` marks tickets
still open at the end of the export (no closing activity): later duration and SLA
figures treat them as right-censored instead of as fast tickets.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from ._loadreport import LoadReport
from .counters import check_counters
from .eventlog import (
    OPTIONAL_COLUMNS,
    REQUIRED_COLUMNS,
    LogLike,
    TicketLog,
    as_ticket_log,
    case_index,
    shared_event_keys,
    time_i8,
)
from .sop import as_sop
from .states import TicketStates, as_states, judge_log, normalise_label

__all__ = ["QUALITY_CHECKS", "check_quality", "open_cases"]

QUALITY_CHECKS: dict[str, str] = {
    "equal_timestamps": "events with the same time as the previous event of their ticket: "
    "their order is the export's order, not proven by time",
    "out_of_source_order": "events the export lists before an earlier-dated event of the same "
    "ticket (the log is ordered by time; check the export's sort order or the clock)",
    "before_case_start": "events dated before the ticket's first exported event (usually its "
    "registration): clock or data-entry errors",
    "open_at_cutoff": "tickets with no closing activity by the end of the export: durations and "
    "SLAs treat them as right-censored",
    "duplicate_rows": "exact copies of an event (kept only when loaded with dedupe='exports' "
    "or dedupe=False)",
    "near_duplicate_labels": "activity labels that differ only in case, spaces, punctuation or "
    "full-width characters (e.g. 'Close' and 'close '): map them to one label",
    "conflicting_copies": "events exported twice with different values (newer export kept)",
    "single_event_cases": "tickets with only one event",
    "future_timestamps": "events dated after the load time",
    "old_timestamps": "events dated before 2000-01-01",
    "missing_values": "events with no value in an optional canonical column",
    "unmapped_columns": "source columns not mapped to a canonical column (passed through)",
    "system_counters": "the export's own per-ticket counters (reassignment_count, reopen_count, "
    "sys_mod_count, 转派次数 ...) compared with svcmining's handoffs, reopens and updates "
    "(svcmining.check_counters); a derived count above the counter is suspicious",
}
_COLUMNS = ["check", "severity", "events", "cases", "description", "examples"]


def open_cases(
    log: LogLike,
    *,
    close_activities: Sequence[str] | None = None,
    reopen_activities: Sequence[str] | None = None,
    states: TicketStates | None = None,
    sop: Any = None,
) -> pd.Series:
    """Whether each ticket is still open at the end of the export (not closed).

    A ticket is closed when it has a closed event (its activity, or its ``lifecycle``
    status where the log has one — BPIC 2013: ``Completed`` / ``Closed`` — is a closed
    label of :class:`svcmining.states.TicketStates`: 结单, 关闭, Closed, Done, ...) and
    nothing reopened it since its last closing: an explicit reopen label (重新打开,
    Reopened, ...) or work of an earlier stage than the close (Closed → In Progress).
    Ordinary steps after a close (回访 follow-up call, quality checks) and runs of closing
    events (Resolved → Closed → Closed) do not reopen it. The rule is the one every
    svcmining analysis uses (:mod:`svcmining.states`). A ticket that was only resolved
    (Resolved, Solved) is still open here.

    Parameters
    ----------
    log : TicketLog or DataFrame
        The event log.
    close_activities, reopen_activities : list of str, optional
        Replace the closing (closed and resolved) / reopen labels.
    states : TicketStates, optional
        The ticket-state model (default: the SOP's, else the defaults).
    sop : SOP, optional
        Adds its ``close`` steps' labels to the closed labels and gives the stages.

    Returns
    -------
    pandas.Series
        Boolean, indexed by ``case_id`` (sorted), named ``open_at_cutoff``.

    Examples
    --------
    >>> import pandas as pd
    >>> ev = pd.DataFrame({"case_id": ["1", "1", "1", "2"],
    ...     "activity": ["登记", "结单", "回访", "登记"],
    ...     "timestamp": pd.to_datetime(["2024-10-01 09:00", "2024-10-01 10:00",
    ...         "2024-10-02 10:00", "2024-10-02 09:00"]).tz_localize("Asia/Shanghai")})
    >>> open_cases(ev).to_dict()
    {'1': False, '2': True}
    """
    tlog = as_ticket_log(log)
    events = tlog.events

    sop = as_sop(sop, func="open_cases")
    st = as_states(
        states,
        sop=sop,
        close_activities=close_activities,
        reopen_activities=reopen_activities,
        func="open_cases",
    )
    starts = tlog.case_index()[1]
    is_open = _open_per_case(tlog, st, sop)
    out = pd.Series(is_open, index=pd.Index(events["case_id"].iloc[starts].to_numpy(), dtype="str"))
    if not out.index.is_monotonic_increasing:
        out = out.sort_index(kind="stable")
    return out.rename("open_at_cutoff").rename_axis("case_id")


def _open_per_case(tlog: TicketLog, states: TicketStates, sop: Any) -> np.ndarray:
    """Open at the cutoff, per case block (see :func:`open_cases`)."""
    return judge_log(tlog, states, sop).open


def _finding(
    check: str,
    mask: pd.Series | np.ndarray,
    events: pd.DataFrame,
    examples: list[str] | None = None,
    severity: str = "warning",
    case_codes: np.ndarray | None = None,
) -> dict[str, object]:
    rows = np.flatnonzero(np.asarray(mask, dtype=bool))
    if case_codes is None:
        case_codes = case_index(events)[0]
    cc = case_codes[rows]  # case blocks are contiguous: count the changes
    n_cases = int(np.count_nonzero(cc[1:] != cc[:-1]) + 1) if len(cc) else 0
    if examples is None:
        sub = events[["case_id", "activity", "timestamp"]].iloc[rows[:5]]
        examples = [
            f"ticket {c}: {a} at {t}"
            for c, a, t in zip(sub["case_id"], sub["activity"], sub["timestamp"], strict=True)
        ]
    return {
        "check": check,
        "severity": severity if len(rows) else "ok",
        "events": len(rows),
        "cases": n_cases,
        "description": QUALITY_CHECKS[check],
        "examples": examples if len(rows) else [],
    }


def _open_row(tlog: TicketLog, st: TicketStates, starts: np.ndarray, sizes: np.ndarray) -> dict:
    """The open_at_cutoff finding: tickets not closed at the end of the export."""
    events = tlog.events
    is_open = _open_per_case(tlog, st, None)
    last_open = events.iloc[(starts + sizes - 1)[is_open][:5]]
    return {
        "check": "open_at_cutoff",
        "severity": "info" if is_open.any() else "ok",
        "events": int(sizes[is_open].sum()),
        "cases": int(is_open.sum()),
        "description": QUALITY_CHECKS["open_at_cutoff"],
        "examples": [
            f"ticket {c}: last event {a} at {t}"
            for c, a, t in zip(
                last_open["case_id"].iloc[:5],
                last_open["activity"].iloc[:5],
                last_open["timestamp"].iloc[:5],
                strict=True,
            )
        ],
    }


def _conflicts_row(report: LoadReport | None) -> dict:
    """The conflicting_copies finding: values a newer export changed (from the load)."""
    n_conf = len(report.conflicts) if report is not None else 0
    conf_examples = (
        [
            f"ticket {r.case_id}: {r.activity} {r.column} {r.dropped_value!r} -> {r.kept_value!r}"
            for r in report.conflicts.head(5).itertuples()
        ]
        if report is not None and n_conf
        else []
    )
    return {
        "check": "conflicting_copies",
        "severity": "warning" if n_conf else "ok",
        "events": n_conf,
        "cases": int(report.conflicts["case_id"].nunique()) if report is not None and n_conf else 0,
        "description": QUALITY_CHECKS["conflicting_copies"],
        "examples": conf_examples,
    }


def check_quality(
    log: LogLike,
    *,
    close_activities: Sequence[str] | None = None,
    states: TicketStates | None = None,
    now: pd.Timestamp | None = None,
) -> pd.DataFrame:
    """Check a loaded log for the problems that distort process-mining figures.

    Parameters
    ----------
    log : TicketLog or DataFrame
        The event log. A :class:`TicketLog` from :func:`read_tickets` adds the checks
        that need the source order and the load's conflicts and unmapped columns.
    close_activities : list of str, optional
        Labels that end a ticket (default: the closed and resolved labels of
        :class:`svcmining.states.TicketStates`).
    states : TicketStates, optional
        The ticket-state model (see :func:`open_cases`).
    now : Timestamp, optional
        The time after which events count as "in the future" (default: now).

    Returns
    -------
    pandas.DataFrame
        One row per check (:data:`QUALITY_CHECKS`): ``check``, ``severity`` (``ok``,
        ``info``, ``warning``), ``events``, ``cases``, ``description``, ``examples``.

    Examples
    --------
    >>> import svcmining as svc
    >>> log = svc.read_tickets("sample_logs/", timezone="Asia/Shanghai")  # doctest: +SKIP
    >>> svc.check_quality(log).query("severity != 'ok'")                   # doctest: +SKIP
    """
    tlog = as_ticket_log(log)
    events = tlog.events
    report = tlog.report
    rows: list[dict[str, object]] = []
    codes, starts = tlog.case_index()
    n = len(events)
    ts = time_i8(events["timestamp"])
    equal_ts = np.zeros(n, dtype=bool)
    equal_ts[1:] = (codes[1:] == codes[:-1]) & (ts[1:] == ts[:-1])
    rows.append(_finding("equal_timestamps", equal_ts, events, case_codes=codes))

    load_findings = report.findings if report is not None and len(report.findings) else None
    for check in ("out_of_source_order", "before_case_start"):
        if load_findings is not None and check in set(load_findings["check"]):
            rec = load_findings.set_index("check").loc[check]
            rows.append(
                {
                    "check": check,
                    "severity": rec["severity"] if rec["events"] else "ok",
                    "events": int(rec["events"]),
                    "cases": int(rec["cases"]),
                    "description": QUALITY_CHECKS[check],
                    "examples": list(rec["examples"]),
                }
            )

    st = as_states(states, close_activities=close_activities, func="check_quality")
    sizes = np.diff(np.append(starts, n))
    rows.append(_open_row(tlog, st, starts, sizes))
    # exact copies share (case, activity, time): compare whole rows only where they do
    shared = shared_event_keys(events, codes)
    dup = np.zeros(len(events), dtype=bool)
    if shared.any():
        dup[shared] = events[shared].duplicated(keep="first").to_numpy()
    rows.append(_finding("duplicate_rows", dup, events, case_codes=codes))

    act, act_labels = tlog.codes("activity")
    labels = pd.Series(act_labels, dtype=object)
    keys = labels.map(normalise_label)
    groups = labels.groupby(keys.to_numpy()).agg(list)
    clashes = groups[groups.map(len) > 1]
    clash_labels = {lab for grp in clashes for lab in grp}
    clash_code = labels.isin(clash_labels).to_numpy()
    rows.append(
        _finding(
            "near_duplicate_labels",
            np.where(act >= 0, clash_code[np.maximum(act, 0)] if len(labels) else False, False),
            events,
            examples=[" / ".join(repr(x) for x in sorted(g)) for g in clashes.iloc[:5]],
            case_codes=codes,
        )
    )
    rows.append(_conflicts_row(report))
    single = np.repeat(sizes == 1, sizes)
    rows.append(_finding("single_event_cases", single, events, severity="info", case_codes=codes))
    now_ts = pd.Timestamp.now(tz="UTC") if now is None else pd.Timestamp(now)
    if now_ts.tzinfo is None:
        now_ts = now_ts.tz_localize("UTC")
    rows.append(
        _finding("future_timestamps", events["timestamp"] > now_ts, events, case_codes=codes)
    )
    old_ts = events["timestamp"] < pd.Timestamp("2000-01-01", tz="UTC")
    rows.append(_finding("old_timestamps", old_ts, events, case_codes=codes))
    optional = [c for c in OPTIONAL_COLUMNS if c in events.columns and c not in ("sequence",)]
    if optional:
        missing = events[optional].isna()
        rows.append(
            _finding(
                "missing_values",
                missing.any(axis=1),
                events,
                examples=[f"{c}: {int(k):,} events" for c, k in missing.sum().items() if k][:5],
                severity="info",
                case_codes=codes,
            )
        )
    canonical = set(REQUIRED_COLUMNS) | set(OPTIONAL_COLUMNS)
    unmapped = [str(c) for c in events.columns if c not in canonical]
    rows.append(
        {
            "check": "unmapped_columns",
            "severity": "info" if unmapped else "ok",
            "events": 0,
            "cases": 0,
            "description": QUALITY_CHECKS["unmapped_columns"],
            "examples": unmapped[:5]
            + ([f"... {len(unmapped) - 5} more"] if len(unmapped) > 5 else []),
        }
    )

    cc = check_counters(tlog, states=st)
    rows.append(
        {
            "check": "system_counters",
            "severity": cc.severity,
            "events": cc.disagreeing_events,
            "cases": len(cc.disagreements()["case_id"].unique()),
            "description": f"{QUALITY_CHECKS['system_counters']}: {cc.describe()}",
            "examples": cc.examples(),
        }
    )
    return pd.DataFrame(rows, columns=_COLUMNS)
