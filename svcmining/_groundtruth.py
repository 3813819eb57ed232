"""The ground truth of :mod:`svcmining.datasets`: reference implementations per case in
plain Python (rework, ping-pong, handoffs, SLAs, deviations, injected delays), written
without the analyses they check, and the frames of a generated quarter.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ._simulation import (
    ACCEPT,
    AS,
    ASSESS,
    ASSIGN,
    CHASE,
    CLOSE,
    CONFIRM,
    EPOCH,
    FOLLOW_UP,
    ONSITE,
    REGISTER,
    REMOTE,
    REOPEN,
    RESPONSE_LIMIT_MIN,
    SD,
    TZ,
    business_minutes,
    minutes_of,
)


# =============================================================================
# The result
# =============================================================================
@dataclass(frozen=True)
class GeneratedTickets:
    """A generated quarter of tickets and its ground truth.

    Attributes
    ----------
    events : DataFrame
        The true log (what a correct loader returns with ``dedupe="all"``): canonical
        columns ``case_id``, ``activity``, ``timestamp`` (Asia/Shanghai), ``resource``,
        ``department``, ``channel``, ``priority``, ``customer_id`` plus ``备注`` and
        ``工单类型``, sorted by case and time.
    cases : DataFrame
        Ground truth per case (see the module docstring).
    handoffs : DataFrame
        Per case and (from_department, to_department): ``count``, ``delay_hours_sum``,
        ``delay_hours`` (``;``-joined, in order).
    deviations : DataFrame
        ``case_id``, ``type``, ``step``, ``detail`` — one row per deviation.
    rework : DataFrame
        ``case_id``, ``activity``, ``kind``, ``at`` — one row per rework occurrence.
    duplicates : DataFrame
        Pairs of tickets that are one customer problem registered via two channels.
    bottlenecks : DataFrame
        The delays the generator injected on purpose, per pain point as
        :func:`svcmining.pain_points` names it: ``pain_point``, ``kind``, ``mechanism``,
        ``occurrences``, ``cases`` and ``hours`` (business hours on the PRC 2024 calendar
        of ``sop_complaint.yaml``), most hours first. See the module docstring.
    load : dict
        What a correct loader reports for the exports (rows per file, drops per reason,
        conflicts, counts, the sales → after-sales median delay ...).
    """

    events: pd.DataFrame
    cases: pd.DataFrame
    handoffs: pd.DataFrame
    deviations: pd.DataFrame
    rework: pd.DataFrame
    duplicates: pd.DataFrame
    load: dict[str, Any]
    bottlenecks: pd.DataFrame = field(default_factory=pd.DataFrame)

    def to_frame(self) -> pd.DataFrame:
        """The true event log (``events``)."""
        return self.events

    def __repr__(self) -> str:
        return (
            f"GeneratedTickets({self.load.get('n_cases', len(self.cases)):,} cases, "
            f"{len(self.events):,} events, {len(self.rework):,} rework occurrences, "
            f"{len(self.deviations):,} deviations)"
        )


# =============================================================================
# Ground truth (reference implementations, per case, plain Python)
# =============================================================================
def _stages(tickets: list[dict[str, Any]]) -> dict[str, float]:
    """Median relative position ``pos / (len - 1)`` of each activity in its cases."""
    rel: dict[str, list[float]] = {}
    for tk in tickets:
        ev = tk["events"]
        n = len(ev)
        for pos, e in enumerate(ev):
            rel.setdefault(e[0], []).append(pos / (n - 1) if n > 1 else 0.0)
    return {a: float(np.median(v)) for a, v in rel.items()}


def _rework_case(ev: list[list[Any]], stage: dict[str, float], window: int = 3) -> list[tuple]:
    """Rework occurrences of one case: (position, activity, kind) — the reference rules."""
    n = len(ev)
    acts = [e[0] for e in ev]
    out: list[tuple[int, str, str]] = []
    in_cycle = [False] * n
    # (a) reopen cycles: segments after each close
    closes = [i for i, a in enumerate(acts) if a == CLOSE]
    for k, c in enumerate(closes):
        seg_end = closes[k + 1] if k + 1 < len(closes) else n - 1
        seg = range(c + 1, seg_end + 1)
        if not seg:
            continue
        is_cycle = any(acts[j] in (CLOSE, REOPEN) or stage[acts[j]] < stage[CLOSE] for j in seg)
        if is_cycle:
            for j in seg:
                in_cycle[j] = True
            out.append((c + 1, CLOSE, "reopen"))
    # department runs (all events have a department here)
    run_of = [0] * n
    run_group: list[str] = []
    for i, e in enumerate(ev):
        if i == 0 or e[3] != ev[i - 1][3]:
            run_group.append(e[3])
        run_of[i] = len(run_group) - 1
    for i in range(n):
        a = acts[i]
        prev = [j for j in range(i) if acts[j] == a]
        if not prev or in_cycle[i]:
            continue
        j = prev[-1]
        if acts[i - 1] == a:
            kind = "self_loop"
        elif _ping_pong(i, ev, run_of, run_group, window):
            kind = "ping_pong"
        elif stage[a] < stage[acts[i - 1]]:
            kind = "back_loop"
        elif ev[i][2] is None or ev[j][2] is None or ev[i][2] != ev[j][2]:
            kind = "redo"
        else:
            kind = "repeat"
        out.append((i, a, kind))
    out.sort()
    return out


def _ping_pong(
    i: int, ev: list[list[Any]], run_of: list[int], run_group: list[str], window: int
) -> bool:
    r = run_of[i]
    if r == 0 or run_of[i - 1] == r:  # not the first event of a run
        return False
    g = ev[i][3]
    prev_runs = [q for q in range(r) if run_group[q] == g]
    if not prev_runs or r - prev_runs[-1] - 1 > window:
        return False
    return any(ev[j][0] == ev[i][0] and ev[j][3] == g for j in range(i))


def _handoffs_case(ev: list[list[Any]]) -> list[tuple[str, str, float]]:
    out = []
    for i in range(1, len(ev)):
        if ev[i][3] != ev[i - 1][3]:
            out.append((ev[i - 1][3], ev[i][3], (ev[i][1] - ev[i - 1][1]) / 60))
    return out


def _sla_case(
    ev: list[list[Any]], priority: str, cutoff: int
) -> list[tuple[str, str, float, float]]:
    """Breached SLAs of one case: (sla id, target step, limit hours, actual hours)."""
    out = []
    specs = (
        ("assign_within_2h", REGISTER, ASSIGN, 2.0, 0.0, True),
        ("response_by_priority", REGISTER, ASSESS, RESPONSE_LIMIT_MIN[priority] / 60, 0.0, True),
        ("follow_up_24_48h", CLOSE, FOLLOW_UP, 48.0, 24.0, False),
    )
    for sla, frm, to, limit, lower, business in specs:
        froms = [e[1] for e in ev if e[0] == frm]
        if not froms:
            continue
        first_from = min(froms)
        tos = [e[1] for e in ev if e[0] == to and e[1] >= first_from]
        to_at = min(tos) if tos else None
        start = max(t for t in froms if to_at is None or t <= to_at)

        def hours(a: int, b: int, business: bool = business) -> float:
            return (business_minutes(a, b) if business else b - a) / 60

        if to_at is None:
            so_far = hours(start, cutoff)
            if so_far > limit:
                out.append((sla, to, limit, math.nan))
        else:
            actual = hours(start, to_at)
            if actual > limit or actual < lower:
                out.append((sla, to, limit, actual))
    return out


def _deviations_case(tk: dict[str, Any], cutoff: int) -> list[tuple[str, str, str]]:
    """(type, step, detail) of one case (see the module docstring for the rules)."""
    ev = tk["events"]
    acts = [e[0] for e in ev]
    inj = set(tk["injected"])
    has_close = CLOSE in acts
    out: list[tuple[str, str, str]] = []
    close_pos = [i for i, a in enumerate(acts) if a == CLOSE]
    reopen_pos = [i for i, a in enumerate(acts) if a == REOPEN]
    is_open = not close_pos or (bool(reopen_pos) and reopen_pos[-1] > close_pos[-1])
    if not is_open and FOLLOW_UP not in acts:
        last_close = max(e[1] for e in ev if e[0] == CLOSE)
        if last_close + 48 * 60 < cutoff:
            out.append(("skipped_step", "follow_up", "回访 not done (48 h passed)"))
    if "duplicate_twin" in inj:
        if has_close:
            for step in ("assign", "assess", "execute", "accept"):
                out.append(("skipped_step", step, "duplicate ticket closed after registration"))
    else:
        if "skip_confirm" in inj and CONFIRM not in acts and ASSIGN in acts:
            out.append(("skipped_step", "confirm", "需求确认 not done"))
        if "exec_before_assess" in inj and ASSESS in acts:
            out.append(("out_of_order", "remote", "远程排障 before 售后评估"))
        for e in ev:
            if e[0] == CHASE:
                out.append(("unknown_activity", "", "电话催办 is no SOP step"))
            if e[0] == ASSESS and e[3] != AS:
                out.append(("wrong_department", "assess", f"售后评估 by {e[3]}"))
        if "ping_pong_sales" in inj and acts.count(ASSESS) >= 2:
            out.append(("repeated_step", "assess", "售后评估 again after 销售核实"))
        if "ping_pong_indirect" in inj:
            if acts.count(ONSITE) >= 1 and REMOTE in acts:
                out.append(("inserted_step", "onsite", "远程排障 and 上门维修 both done"))
            if acts.count(ASSESS) >= 2:
                out.append(("repeated_step", "assess", "售后评估 again after 上门维修"))
        if "acceptance_failed" in inj:
            first_close = acts.index(CLOSE) if has_close else len(acts)
            before = acts[:first_close]
            k = before.index(ACCEPT) if ACCEPT in before else first_close
            if acts.count(CONFIRM) >= 2 or any(
                a in (REMOTE, ONSITE, ACCEPT) for a in before[k + 1 :]
            ):
                out.append(("repeated_step", "accept", "execution and 客户验收 again"))
        if "acceptance_retry" in inj:
            first_close = acts.index(CLOSE) if has_close else len(acts)
            if acts[:first_close].count(ACCEPT) >= 2:
                out.append(("repeated_step", "accept", "客户验收 again after 电话催办"))
    for sla, step, limit, actual in _sla_case(ev, tk["priority"], cutoff):
        detail = (
            f"{sla}: not done within {limit:g} h"
            if math.isnan(actual)
            else f"{sla}: {actual:.2f} h (limit {limit:g} h)"
        )
        out.append(("sla_breach", step, detail))
    return out


# =============================================================================
# Assembling frames
# =============================================================================
def events_frame(tickets: list[dict[str, Any]]) -> pd.DataFrame:
    rows: dict[str, list[Any]] = {
        k: [] for k in ("case_id", "activity", "minute", "resource", "department", "备注")
    }
    attrs: dict[str, list[Any]] = {
        k: [] for k in ("channel", "priority", "customer_id", "工单类型")
    }
    for tk in sorted(tickets, key=lambda t: t["case_id"]):
        for e in tk["events"]:
            rows["case_id"].append(tk["case_id"])
            rows["activity"].append(e[0])
            rows["minute"].append(e[1])
            rows["resource"].append(e[2])
            rows["department"].append(e[3])
            rows["备注"].append(e[4])
            attrs["channel"].append(tk["channel"])
            attrs["priority"].append(tk["priority"])
            attrs["customer_id"].append(tk["customer"])
            attrs["工单类型"].append(tk["type"])
    minute = np.asarray(rows.pop("minute"), dtype=np.int64)
    ts = pd.Series(
        (np.datetime64(EPOCH, "m") + minute.astype("timedelta64[m]")).astype("datetime64[ns]")
    ).dt.tz_localize(TZ)
    df = pd.DataFrame(
        {
            "case_id": pd.Series(rows["case_id"], dtype="str"),
            "activity": pd.Series(rows["activity"], dtype="str"),
            "timestamp": ts,
            "resource": pd.Series(rows["resource"], dtype="str"),
            "department": pd.Series(rows["department"], dtype="str"),
            "channel": pd.Series(attrs["channel"], dtype="str"),
            "priority": pd.Series(attrs["priority"], dtype="str"),
            "customer_id": pd.Series(attrs["customer_id"], dtype="str"),
            "备注": pd.Series(rows["备注"], dtype="str"),
            "工单类型": pd.Series(attrs["工单类型"], dtype="str"),
        }
    )
    df["_minute"] = minute
    return df


def _month_index(minute: np.ndarray) -> np.ndarray:
    """0, 1, 2 for Oct, Nov, Dec 2024 (by local time); others clipped into that range."""
    bounds = np.array([minutes_of("2024-11-01"), minutes_of("2024-12-01")], dtype=np.int64)
    return np.searchsorted(bounds, minute, side="right")


def fmt_times(minute: np.ndarray, style: int) -> pd.Series:
    """Export time texts: 0 '2024-10-03 14:05:00', 1 '2024/11/03 14:05', 2 '2024年12月3日 14:05'."""
    uniq, inv = np.unique(minute, return_inverse=True)  # format each distinct minute once
    return pd.Series(_fmt_unique(uniq, style).to_numpy(dtype=object)[inv])


def _fmt_unique(minute: np.ndarray, style: int) -> pd.Series:
    d = pd.Series(np.datetime64(EPOCH, "m") + minute.astype("timedelta64[m]"))
    y = d.dt.year.astype("str")
    mo = d.dt.month
    da = d.dt.day
    hm = d.dt.hour.astype("str").str.zfill(2) + ":" + d.dt.minute.astype("str").str.zfill(2)
    if style == 0:
        return (
            y
            + "-"
            + mo.astype("str").str.zfill(2)
            + "-"
            + da.astype("str").str.zfill(2)
            + (" " + hm + ":00")
        )
    if style == 1:
        return (
            y
            + "/"
            + mo.astype("str").str.zfill(2)
            + "/"
            + da.astype("str").str.zfill(2)
            + (" " + hm)
        )
    return y + "年" + mo.astype("str") + "月" + da.astype("str") + "日 " + hm


def file_rows(events: pd.DataFrame) -> list[pd.DataFrame]:
    """Rows of each monthly export: tickets active that month, their history to its end."""
    month = _month_index(events["_minute"].to_numpy())
    codes, uniques = pd.factorize(events["case_id"])
    out = []
    for m in range(3):
        active = np.zeros(len(uniques), dtype=bool)
        active[codes[month == m]] = True
        sel = active[codes] & (month <= m)
        part = events[sel].copy()
        part["_month"] = m
        out.append(part)
    return out


# =============================================================================
# Public API
# =============================================================================


def ground_truth(tickets: list[dict[str, Any]], cutoff: int) -> GeneratedTickets:
    tickets = sorted(tickets, key=lambda t: t["case_id"])
    events = events_frame(tickets)
    stage = _stages(tickets)
    log_cutoff = int(events["_minute"].max())
    month = _month_index(events["_minute"].to_numpy())
    months_of = pd.Series(month).groupby(events["case_id"].to_numpy()).unique()
    rw_rows, ho_rows, dev_rows, case_rows, dup_rows = [], [], [], [], []
    for tk in tickets:
        ev = tk["events"]
        cid = tk["case_id"]
        occ = _rework_case(ev, stage)
        for pos, act, kind in occ:
            rw_rows.append((cid, act, kind, ev[pos][1], pos))
        pairs: dict[tuple[str, str], list[float]] = {}
        for a, b, h in _handoffs_case(ev):
            pairs.setdefault((a, b), []).append(h)
        for (a, b), hs in pairs.items():
            ho_rows.append((cid, a, b, len(hs), round(sum(hs), 4), ";".join(f"{h:g}" for h in hs)))
        devs = _deviations_case(tk, log_cutoff)
        for typ, step, detail in devs:
            dev_rows.append((cid, typ, step, detail))
        acts = [e[0] for e in ev]
        close_pos = [i for i, a in enumerate(acts) if a == CLOSE]
        reopen_pos = [i for i, a in enumerate(acts) if a == REOPEN]
        is_open = not close_pos or (bool(reopen_pos) and reopen_pos[-1] > close_pos[-1])
        case_rows.append(
            {
                "case_id": cid,
                "工单类型": tk["type"],
                "channel": tk["channel"],
                "priority": tk["priority"],
                "customer_id": tk["customer"],
                "opened_at": ev[0][1],
                "closed_at": None if is_open else ev[close_pos[-1]][1],
                "open_at_cutoff": is_open,
                "rework_kinds": ";".join(sorted({k for _, _, k in occ})),
                "n_reopen": sum(1 for _, _, k in occ if k == "reopen"),
                "ping_pong": any(k == "ping_pong" for _, _, k in occ),
                "n_handoffs": sum(len(v) for v in pairs.values()),
                "deviation_types": ";".join(sorted({d[0] for d in devs})),
                "sla_breaches": ";".join(
                    sorted({d[2].split(":")[0] for d in devs if d[0] == "sla_breach"})
                ),
                "duplicate_of": tk["duplicate_of"],
                "injected": ";".join(sorted(set(tk["injected"]))),
                "in_files": ";".join(
                    f"2024-{10 + m}" for m in sorted(int(x) for x in months_of[cid]) if 0 <= m <= 2
                ),
            }
        )
        if tk["duplicate_of"] is not None:
            dup_rows.append((tk["duplicate_of"], cid, tk["customer"]))

    def to_ts(values: Sequence[Any]) -> pd.Series:
        m = pd.Series(values, dtype="float64")
        base = pd.Timestamp(EPOCH)
        return (base + pd.to_timedelta(m, unit="min")).dt.tz_localize(TZ)

    cases = pd.DataFrame(case_rows)
    cases["opened_at"] = to_ts(cases["opened_at"])
    cases["closed_at"] = to_ts(cases["closed_at"])
    for col in ("case_id", "duplicate_of"):
        cases[col] = cases[col].astype("str")
    rework = pd.DataFrame(rw_rows, columns=["case_id", "activity", "kind", "at", "position"])
    rework["at"] = to_ts(rework["at"])
    rework = rework.sort_values(["case_id", "position"], ignore_index=True)
    handoffs = pd.DataFrame(
        ho_rows,
        columns=[
            "case_id", "from_department", "to_department", "count", "delay_hours_sum",
            "delay_hours",
        ],
    )  # fmt: skip
    handoffs = handoffs.sort_values(
        ["case_id", "from_department", "to_department"], ignore_index=True
    )
    deviations = pd.DataFrame(dev_rows, columns=["case_id", "type", "step", "detail"])
    deviations = deviations.sort_values(["case_id", "type", "step", "detail"], ignore_index=True)
    dup = _duplicates_table(dup_rows, tickets)
    bottlenecks = _bottlenecks(tickets)
    sales_delays = [
        float(h) for _, a, b, _, _, hs in ho_rows if a == SD and b == AS for h in hs.split(";")
    ]
    remote_dur: list[int] = []
    for tk in tickets:
        ev = tk["events"]
        remote_dur.extend(ev[i][1] - ev[i - 1][1] for i in range(1, len(ev)) if ev[i][0] == REMOTE)
    load = {
        "n_cases": len(cases),
        "n_events": len(events),
        "open_at_cutoff": int(cases["open_at_cutoff"].sum()),
        "cutoff": str(pd.Timestamp(EPOCH) + pd.Timedelta(minutes=cutoff)) + "+08:00",
        "last_event": str(pd.Timestamp(EPOCH) + pd.Timedelta(minutes=log_cutoff)) + "+08:00",
        "sales_to_aftersales_median_hours": float(np.median(sales_delays))
        if sales_delays
        else math.nan,
        "remote_over_4h_share": float(np.mean(np.array(remote_dur) > 240))
        if remote_dur
        else math.nan,
        "equal_timestamps": int(
            (
                (events["case_id"] == events["case_id"].shift())
                & (events["_minute"] == events["_minute"].shift())
            ).sum()
        ),
    }
    return GeneratedTickets(
        events=events.drop(columns="_minute"),
        cases=cases,
        handoffs=handoffs,
        deviations=deviations,
        rework=rework.drop(columns="position"),
        duplicates=dup,
        load=load,
        bottlenecks=bottlenecks,
    )


def _duplicates_table(dup_rows: list[tuple], tickets: list[dict[str, Any]]) -> pd.DataFrame:
    """The true duplicate tickets: original, duplicate, customer, channels and the gap."""
    by_id = {tk["case_id"]: tk for tk in tickets}
    dup = pd.DataFrame(dup_rows, columns=["case_id", "duplicate_case_id", "customer_id"])
    dup["channel"] = [by_id[c]["channel"] for c in dup["case_id"]]
    dup["duplicate_channel"] = [by_id[c]["channel"] for c in dup["duplicate_case_id"]]
    dup["gap_minutes"] = [
        by_id[b]["events"][0][1] - by_id[a]["events"][0][1]
        for a, b in zip(dup["case_id"], dup["duplicate_case_id"], strict=True)
    ]
    return dup.sort_values("case_id", ignore_index=True)


def _bottlenecks(tickets: list[dict[str, Any]]) -> pd.DataFrame:
    """Injected delays per pain point: business hours of each recorded interval."""
    rows: dict[tuple[str, str, str], list[Any]] = {}
    for tk in tickets:
        ev = tk["events"]
        for mech, a, b, idx, free in tk["lost"]:
            minutes = business_minutes(a, b) - free
            if minutes <= 0:
                continue
            if mech == "slow_remote_troubleshooting":
                kind, name = "step", ev[idx][0]
            elif mech == "reopen_cycle":
                kind, name = "rework", f"reopen: {CLOSE}"
            elif ev[idx - 1][3] != ev[idx][3]:
                kind, name = "handoff", f"{ev[idx - 1][3]} → {ev[idx][3]}"
            else:
                kind, name = "step", ev[idx][0]
            row = rows.setdefault((name, kind, mech), [0, set(), 0])
            row[0] += 1
            row[1].add(tk["case_id"])
            row[2] += minutes
    out = pd.DataFrame(
        [(n, k, m, occ, len(cases), mins / 60) for (n, k, m), (occ, cases, mins) in rows.items()],
        columns=["pain_point", "kind", "mechanism", "occurrences", "cases", "hours"],
    )
    return out.sort_values(["hours", "pain_point"], ascending=[False, True], ignore_index=True)


# =============================================================================
# Exports
# =============================================================================
