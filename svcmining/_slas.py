"""The SLA tables of :func:`svcmining.check_sop` (split from conformance.py).

:func:`sla_table` measures every SLA of the SOP on every ticket (met, breached or
right-censored at the cutoff, clocks stopped in waiting states);
:func:`sla_attainment` sums it per SLA and priority.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ._automaton import TAU_COST as TAU_COST
from ._hourslost import hours_beyond
from ._sopcodes import NAT, Coded, from_ns, to_ns
from .sop import CASE_START, SOP

_SLA_COLUMNS = [
    "case_id", "sla", "priority", "from_at", "to_at", "lower_hours", "limit_hours",
    "actual_hours", "status", "detail", "hours_lost",
]  # fmt: skip


_BIG = np.iinfo(np.int64).max


_STATUS = pd.Index(["met", "breached", "censored"], dtype="str")


def sla_table(
    coded: Coded,
    sop: SOP,
    cutoff: pd.Timestamp,
    waiting: np.ndarray | None = None,
    events: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, np.ndarray]:
    """Per case and SLA: clock start/stop, limits, business/elapsed hours and status.

    The clock stops at the first ``to`` event at or after the first ``from`` event and
    starts at the last ``from`` event at or before that stop (e.g. the last close before
    the follow-up call). It stands still while the ticket is in a pause state (the SLA's
    ``pause_in`` labels, else the waiting states: ``waiting`` marks those events; a wait
    lasts until the ticket's next event, or the cutoff). ``hours_lost`` are the clock's
    hours beyond the limit when the step was done (:mod:`svcmining._hourslost`); a step
    done too early, or not done (skipped, or still due at the cutoff: a breach of the
    attainment, and for a skipped step a deviation), loses none. Also returns the case
    code of every row.
    """
    from .calendars import duration_hours

    if not sop.slas or not coded.n_cases:
        return pd.DataFrame(columns=_SLA_COLUMNS), np.zeros(0, dtype=np.int64)
    n = coded.n_cases
    cc = coded.case_codes
    ts = coded.ts_ns
    step = coded.step_codes()
    sidx = {st.id: i for i, st in enumerate(sop.steps)}
    cut_ns = int(to_ns(pd.Series([cutoff]))[0])
    out = []
    codes = []
    case_str = pd.array(coded.case_ids, dtype="str")  # converted once, taken per SLA
    row_no = np.arange(len(ts), dtype=np.int64)
    case_end = np.append(coded.starts[1:], len(ts)) - 1
    big_row = np.iinfo(np.int64).max
    for sla in sop.slas:
        cal = sop.calendar if sla.hours == "business" else None
        is_to = step == sidx[sla.to]
        if sla.from_step == CASE_START:
            from_first = ts[coded.starts].copy()
        else:
            is_from = step == sidx[sla.from_step]
            from_first = np.full(n, _BIG, dtype=np.int64)
            np.minimum.at(from_first, cc[is_from], ts[is_from])
        to_at = np.full(n, _BIG, dtype=np.int64)
        to_row = np.full(n, big_row, dtype=np.int64)
        ok = is_to & (ts >= from_first[cc])
        np.minimum.at(to_at, cc[ok], ts[ok])
        np.minimum.at(to_row, cc[ok], row_no[ok])
        if sla.from_step == CASE_START:
            from_at = from_first
            from_row = coded.starts.astype(np.int64)
        else:
            from_at = np.full(n, NAT, dtype=np.int64)
            from_row = np.full(n, -1, dtype=np.int64)
            ok = is_from & (ts <= to_at[cc])
            np.maximum.at(from_at, cc[ok], ts[ok])
            np.maximum.at(from_row, cc[ok], row_no[ok])
        has_from = (from_at != NAT) & (from_at != _BIG)
        rows = np.flatnonzero(has_from)
        f_ns = from_at[rows]
        t_ns = to_at[rows]
        has_to = t_ns != _BIG
        t_ns = np.where(has_to, t_ns, NAT)
        prio = coded.priority[rows] if coded.priority is not None else np.full(len(rows), None)
        from_s = from_ns(f_ns, coded.tz)
        to_s = from_ns(t_ns, coded.tz)
        actual = np.asarray(duration_hours(from_s, to_s, cal), dtype=float)
        so_far = np.asarray(
            duration_hours(
                from_s, from_ns(np.full(len(rows), cut_ns, dtype=np.int64), coded.tz), cal
            ),
            dtype=float,
        )
        pause = _pause_events(sla, waiting, events)
        if pause is not None and pause.any() and len(rows):
            fr = from_row[rows]
            tr = np.where(has_to, to_row[rows], case_end[rows])
            actual, so_far = _minus_pauses(
                pause,
                ts,
                cc,
                cut_ns,
                coded.tz,
                cal,
                (fr, tr, case_end[rows]),
                has_to,
                actual,
                so_far,
            )
        if sla.by_priority:
            p_codes, p_uniq = pd.factorize(pd.Series(prio, dtype=object))
            lut = np.array([sla.upper_hours(p) for p in p_uniq] + [sla.upper_hours()])
            limit = lut[np.where(p_codes >= 0, p_codes, len(p_uniq))]
        else:
            limit = np.full(len(rows), sla.upper_hours())
        lower = sla.lower_hours
        status, detail = _status_detail(sla, cal, has_to, actual, so_far, limit, lower)
        out.append(
            pd.DataFrame(
                {
                    "case_id": case_str.take(rows),
                    "sla": pd.Index([sla.id], dtype="str").take(np.zeros(len(rows), np.int64)),
                    "priority": prio,
                    "from_at": from_s,
                    "to_at": to_s,
                    "lower_hours": lower,
                    "limit_hours": limit,
                    "actual_hours": actual,
                    "status": status,
                    "detail": detail,
                    # hours lost: the step done beyond the limit (never done: none)
                    "hours_lost": hours_beyond(np.where(has_to, actual, np.nan), limit),
                }
            )
        )
        codes.append(rows)
    res = pd.concat(out, ignore_index=True)
    code = np.concatenate(codes)
    rank = np.repeat(np.arange(len(out)), [len(c) for c in codes])
    order = np.lexsort((rank, code))
    return res.iloc[order].reset_index(drop=True), code[order]


def _status_detail(
    sla: Any,
    cal: Any,
    has_to: np.ndarray,
    actual: np.ndarray,
    so_far: np.ndarray,
    limit: np.ndarray,
    lower: float,
) -> tuple[pd.Index, pd.Index]:
    """Per row of one SLA: its status (met / breached / censored) and its detail text."""
    late = actual > limit
    early = actual < lower
    # text columns from small integer codes (a take, not a string per row)
    status = _STATUS.take(
        np.where(has_to, np.where(late | early, 1, 0), np.where(so_far > limit, 1, 2))
    )
    unit = "business" if cal is not None else "elapsed"
    details = pd.Index(
        [
            f"{sla.to} not done within the limit",
            f"{sla.to} too early ({unit} hours)",
            f"{sla.to} after the limit ({unit} hours)",
        ],
        dtype="str",
    )
    detail = details.take(np.where(~has_to, 0, np.where(early, 1, 2)))
    return status, detail


def _minus_pauses(
    pause: np.ndarray,
    ts: np.ndarray,
    cc: np.ndarray,
    cut_ns: int,
    tz: Any,
    cal: Any,
    bounds: tuple[np.ndarray, np.ndarray, np.ndarray],
    has_to: np.ndarray,
    actual: np.ndarray,
    so_far: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """``actual`` and ``so_far`` hours of one SLA without the time its clock stood still.

    The clock stands still from a pausing event to the ticket's next event (the ticket's
    last event: to the cutoff); on integer clock values (elapsed or business ns), so a
    wait that fills the whole interval leaves exactly 0. ``bounds``: per row, the event
    rows where the clock starts, where it stops (the case's last event when not stopped)
    and the case's last event.
    """
    from .calendars import working_ns

    fr, tr, last = bounds
    # the events and the cutoff on one clock (business clock values of different
    # calls differ by a constant)
    if cal is None:
        base, cut_clock = ts, cut_ns
    else:
        both = working_ns(from_ns(np.append(ts, cut_ns), tz), cal)
        base, cut_clock = both[:-1], int(both[-1])
    hold = np.zeros(len(ts), dtype=np.int64)
    p_rows = np.flatnonzero(pause[:-1] & (cc[1:] == cc[:-1]))
    hold[p_rows] = base[p_rows + 1] - base[p_rows]
    held = np.cumsum(hold) - hold  # held before each event
    actual = np.where(has_to, actual - (held[tr] - held[fr]) / 3.6e12, actual)
    tail = np.where(pause[last], np.maximum(cut_clock - base[last], 0), 0)
    so_far = so_far - ((held[last] - held[fr]) + tail) / 3.6e12
    return actual, so_far


def _pause_events(
    sla: Any, waiting: np.ndarray | None, events: pd.DataFrame | None
) -> np.ndarray | None:
    """Events that hold an SLA's clock: its ``pause_in`` labels, else the waiting states."""
    labels = getattr(sla, "pause_in", None)
    if labels is None:
        return waiting
    if not labels or events is None:
        return None
    from .states import label_mask

    mask = label_mask(events["activity"], labels).to_numpy()
    if "lifecycle" in events.columns:
        mask |= label_mask(events["lifecycle"].fillna(""), labels).to_numpy()
    return mask


def sla_attainment(sla_tab: pd.DataFrame, sop: SOP) -> pd.DataFrame:
    """Per SLA (``sla``: its id, ``sla_name``: its readable name) and priority (and
    ``all``): met, breached and censored tickets, ``attainment`` = met / (met + breached)
    and ``hours_lost`` beyond the limits."""
    cols = [
        "sla", "sla_name", "priority", "met", "breached", "censored", "attainment", "hours_lost",
    ]  # fmt: skip
    if not len(sla_tab):
        return pd.DataFrame(columns=cols)
    t = pd.DataFrame(
        {
            "sla": sla_tab["sla"].astype("str"),
            "priority": sla_tab["priority"].astype("str").fillna("(none)"),
            "status": sla_tab["status"].astype("str"),
        }
    )
    per = t.value_counts(sort=False).unstack("status", fill_value=0)
    tot = t[["sla", "status"]].value_counts(sort=False).unstack("status", fill_value=0)
    tot.index = pd.MultiIndex.from_arrays(
        [tot.index, ["all"] * len(tot)], names=["sla", "priority"]
    )
    both = pd.concat([per, tot])
    for c in ("met", "breached", "censored"):
        if c not in both.columns:
            both[c] = 0
    both = both[["met", "breached", "censored"]].reset_index()
    both.columns.name = None
    # hours lost beyond the limits, per SLA and priority and per SLA ("all")
    h = t.assign(h=sla_tab["hours_lost"].to_numpy(dtype="float64"))
    per_h = h.groupby(["sla", "priority"], sort=False)["h"].sum()
    tot_h = h.groupby("sla", sort=False)["h"].sum()
    key = pd.MultiIndex.from_arrays([both["sla"], both["priority"]])
    both["hours_lost"] = np.where(
        both["priority"].eq("all").to_numpy(),
        both["sla"].map(tot_h).to_numpy(dtype="float64"),
        per_h.reindex(key).to_numpy(dtype="float64"),
    )
    n = both["met"] + both["breached"]
    both["attainment"] = np.where(n > 0, both["met"] / n.where(n > 0, 1), np.nan)
    order = {s.id: i for i, s in enumerate(sop.slas)}
    names = {s.id: s.name for s in sop.slas}
    both["sla_name"] = both["sla"].map(names).fillna(both["sla"]).astype("str")
    both = both.assign(_o=both["sla"].map(order), _a=both["priority"].eq("all"))
    return (
        both.sort_values(["_o", "_a", "priority"], kind="stable")
        .drop(columns=["_o", "_a"])[cols]
        .reset_index(drop=True)
    )
