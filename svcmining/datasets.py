"""Seeded synthetic ticket exports with exact ground truth (``sample_logs/``).

:func:`generate_tickets` simulates the complaint / after-sales process of
``sample_logs/sop_complaint.yaml`` (register → confirm → assign → [sales check] →
assess → [approve] → remote troubleshooting | on-site repair → accept → close →
follow-up → [quality check]) for a quarter of tickets, injects the rework, handoff and
SOP-deviation patterns our users report, and returns the true event log together
with its ground truth. :func:`write_sample_exports` writes it as the monthly exports
a help desk would produce (three CSVs in three encodings and time formats, an XLSX
workbook, faulty exports in ``broken/``) plus the truth in ``truth/``;
:func:`write_benchmark_exports` writes the same generator scaled to ~1M events.
``python -m svcmining.datasets OUT_DIR`` does the former from the command line.

How the truth is computed
-------------------------
Everything is computed from the generated (true, deduplicated, cut-off) sequences,
not from what was meant to be injected; ``cases.injected`` records the injected
pattern names per case for reference.

* ``rework`` — a straightforward per-case Python reference implementation of the
  shared taxonomy (``process.md``; the one :mod:`svcmining.rework` implements):
  reopen cycles after 结单 (the segment after a close counts when it holds a close, a
  重新打开 or an activity whose stage is earlier than 结单's; so 回访 / 质量抽检
  after the last close are not rework), then for later executions of an activity
  already executed: self_loop, ping_pong (first event of a department run returning
  after at most 3 runs of other departments, the department having executed the same
  activity before), back_loop (stage = the activity's median relative position
  ``pos / (len - 1)`` in its cases over the whole log, as without an SOP), redo,
  repeat. ``activity`` of a reopen occurrence is the close that was reopened (结单),
  ``at`` its first event's time.
* ``handoffs`` — per case and (from, to) department pair: the number of consecutive
  department changes and their delays (next department's first event − previous
  department's last event, elapsed hours).
* ``deviations`` — typed with the conformance vocabulary of :mod:`svcmining.conformance`:

  - ``skipped_step``: 需求确认 skipped; 回访 skipped; a duplicate twin (投诉登记,
    需求确认, 结单 only) skips 分类派单, 售后评估, the execution, 客户验收 and 回访.
    Steps an *open* ticket has simply not reached yet at the cutoff are **not**
    deviations (the ticket is incomplete, not off-process).
  - ``out_of_order``: 远程排障 done before 售后评估.
  - ``unknown_activity``: 电话催办 (customer chase call, no SOP step).
  - ``wrong_department``: 售后评估 done by 客服中心.
  - ``repeated_step``: a non-repeatable step done again outside a reopen cycle —
    售后评估 again after 销售核实 (ping-pong), 售后评估 again after the indirect
    售后部→技术支持部→上门服务 tour, 客户验收 (and the execution, and 需求确认 when
    re-confirmed) again after a failed acceptance, 客户验收 again after a chase call.
    远程排障 twice in a row is *not* a deviation (the SOP marks it repeatable), nor is
    anything inside a reopen cycle (the SOP's loop).
  - ``inserted_step``: both 远程排障 and 上门维修 in one pass (the indirect tour).
  - ``sla_breach``: the three SLAs of ``sop_complaint.yaml`` evaluated on the true
    times exactly as documented for :func:`svcmining.check_sop` — the clock stops at
    the first target at or after the first start event and starts at the last start
    event before that stop; business hours on the PRC 2024 calendar for
    ``assign_within_2h`` and ``response_by_priority``, elapsed for
    ``follow_up_24_48h`` (24–48 h); a target never done is breached once its
    deadline passed before the cutoff (the log's last event), otherwise censored.
    Injected breaches keep a wide margin from the limits; the 1.8-day sales wait
    causes further (implied) response breaches, all recorded.

  Structural patterns (skipped confirm, execution before assessment, ping-pong,
  failed acceptance, acceptance retry) are injected at most one per case and never
  together with a reopen cycle, so the optimal alignment's typing is unambiguous;
  the simple ones (skipped follow-up, wrong department, chase call, SLA breaches,
  self-loops) may co-occur with them and with reopens. Tickets registered in the
  last 13 days get no structural pattern and those of the last 20 days no reopen, so
  a ticket cut off by the export is never cut in the middle of one.

* ``bottlenecks`` — the delays the generator adds on purpose, recorded as it adds them
  (not re-derived), per pain point in :func:`svcmining.pain_points`' naming, in business
  hours (PRC 2024 calendar, 09:00-18:00): the sales → after-sales gap (from 销售核实 to
  售后评估, about 1.8 days), the wait of complaints for the customer's acceptance (up to
  two days beyond the normal call-back, named by the handoff into 客户验收), remote
  troubleshooting beyond the 1 h best-in-class benchmark, and reopen cycles (from the
  reopened 结单 to the next 结单).

Load truth (``load``)
---------------------
Rows are counted as :func:`svcmining.read_tickets` accounts for them:
``rows_read == rows_kept + sum(dropped.values())`` where ``dropped`` has
``missing_case_id``, ``unparseable_timestamp``, ``repeated_in_later_export`` (an
event a later monthly export repeats), ``duplicate_event`` (a system double-write
inside one file) and ``conflicting_duplicate`` (the older copy of an event a newer export
changed). ``events`` is the log ``read_tickets(...)`` must return with its default
``dedupe=True``; with ``dedupe="exports"`` the double-writes are kept
(``rows_kept_default_dedupe`` counts that load).
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import math
import random
import re
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "GeneratedTickets",
    "generate_tickets",
    "main",
    "write_benchmark_exports",
    "write_sample_exports",
]

TZ = "Asia/Shanghai"
_EPOCH = datetime(2024, 1, 1)  # a Monday; times are minutes since then, local (UTC+8, no DST)
_DAY = 1440
_WORK_START, _WORK_END = 540, 1080  # 09:00-18:00
_HOLIDAYS = frozenset((date(2024, 10, d) - _EPOCH.date()).days for d in range(1, 8))
_EXTRA_WORKDAYS = frozenset(
    (d - _EPOCH.date()).days for d in (date(2024, 9, 29), date(2024, 10, 12))
)

REGISTER, CONFIRM, ASSIGN, SALES, ASSESS, APPROVE = (
    "投诉登记",
    "需求确认",
    "分类派单",
    "销售核实",
    "售后评估",
    "主管审批",
)
REMOTE, ONSITE, ACCEPT, CLOSE, FOLLOW_UP, REOPEN, QUALITY, CHASE = (
    "远程排障",
    "上门维修",
    "客户验收",
    "结单",
    "回访",
    "重新打开",
    "质量抽检",
    "电话催办",
)
CS, AS, TS, FS, SD, QD = "客服中心", "售后部", "技术支持部", "上门服务", "销售部", "质量监督"

_STAFF: dict[str, tuple[str, ...]] = {
    CS: (
        "张伟", "王芳", "李娜", "刘洋", "陈静", "杨磊", "赵敏", "黄丽",
        "客服01", "客服02", "客服03", "客服05", "客服07", "客服08", "客服11", "客服12",
    ),
    AS: ("周强", "吴刚", "徐婷", "孙浩", "马琳", "朱军", "胡斌", "郭燕"),
    TS: ("林峰", "何勇", "高翔", "罗平", "梁晨", "宋杰", "郑凯", "谢涛", "韩冰", "唐亮"),
    FS: ("冯建国", "于海", "董明", "萧川", "程刚", "曹阳", "袁野", "邓超", "许文", "傅强"),
    SD: ("蒋欣", "沈悦", "韦华", "彭飞", "吕佳", "苏青"),
    QD: ("卢静", "蔡磊", "贾敏"),
}  # fmt: skip
_SUPERVISORS = ("周强", "吴刚")
_REGISTER_REMARKS: dict[str, tuple[str, ...]] = {
    "投诉": ("客户投诉维修后仍有故障", "客户对上次服务不满意", "投诉安装人员态度", "收费不符"),
    "报修": ("设备无法开机", "网络连接异常，间歇性断线", "屏幕显示异常", "异响，需检查"),
    "咨询": ("咨询保修政策", "咨询升级方案", "询问配件价格"),
}  # fmt: skip
_MONTH_FILES = ("工单导出_2024-10.csv", "工单导出_2024-11.csv", "工单导出_2024-12.csv")
_EXPORT_COLUMNS = (
    "工单编号", "处理环节", "处理时间", "处理人", "处理部门", "受理渠道", "优先级", "客户编号",
    "备注", "工单类型",
)  # fmt: skip
_CANON = {
    "工单编号": "case_id",
    "处理环节": "activity",
    "处理时间": "timestamp",
    "处理人": "resource",
    "处理部门": "department",
    "受理渠道": "channel",
    "优先级": "priority",
    "客户编号": "customer_id",
}
_RESPONSE_LIMIT_MIN = {"紧急": 60, "高": 240, "普通": 1440}
_STRUCTURAL = (
    ("skip_confirm", 0.03),
    ("exec_before_assess", 0.02),
    ("ping_pong_sales", 0.05),
    ("ping_pong_indirect", 0.03),
    ("acceptance_failed", 0.08),
    ("acceptance_retry", 0.015),
)


# =============================================================================
# Business calendar on integer minutes (reference implementation)
# =============================================================================
def _workday(day: int) -> bool:
    if day in _EXTRA_WORKDAYS:
        return True
    if day in _HOLIDAYS:
        return False
    return day % 7 < 5


def _add_business(t: int, minutes: int) -> int:
    """``t`` moved forward by ``minutes`` working minutes (0: to the next working minute)."""
    while True:
        day, mm = divmod(t, _DAY)
        if not _workday(day) or mm >= _WORK_END:
            t = (day + 1) * _DAY + _WORK_START
            continue
        if mm < _WORK_START:
            t = day * _DAY + _WORK_START
            mm = _WORK_START
        avail = _WORK_END - mm
        if minutes <= avail:
            return t + minutes
        minutes -= avail
        t = (day + 1) * _DAY + _WORK_START


def _business_minutes(a: int, b: int) -> int:
    """Working minutes in ``[a, b)``."""
    if b <= a:
        return 0
    total = 0
    for day in range(a // _DAY, b // _DAY + 1):
        if not _workday(day):
            continue
        lo = max(a, day * _DAY + _WORK_START)
        hi = min(b, day * _DAY + _WORK_END)
        if hi > lo:
            total += hi - lo
    return total


def _working(t: int) -> bool:
    day, mm = divmod(t, _DAY)
    return _workday(day) and _WORK_START <= mm < _WORK_END


def _minutes_of(ts: str | date | datetime) -> int:
    d = pd.Timestamp(ts).to_pydatetime().replace(tzinfo=None)
    return int((d - _EPOCH).total_seconds() // 60)


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
# Simulation
# =============================================================================
class _Sim:
    """One seeded simulation: tickets as lists of [activity, minute, resource, dept, remark]."""

    def __init__(self, seed: int) -> None:
        self.r = random.Random(seed)  # noqa: S311 - reproducible sample data, not security

    def staff(self, dept: str) -> str:
        pool = _STAFF[dept]
        return pool[int(self.r.random() * len(pool))]

    def remote_minutes(self) -> int:
        """Remote troubleshooting: ~40% over 4 h (never within 6 min of it), median ~2.8 h."""
        r = self.r
        if r.random() < 0.40:
            return int(246 + r.expovariate(1 / 420))
        return int(30 + 204 * r.random() ** 2)

    def register_time(self, lo: int, hi: int) -> int:
        """Registration minute: mostly on working days 09-18, some evenings/weekends."""
        r = self.r
        for _ in range(20):
            t = lo + int(r.random() * (hi - lo))
            if _working(t) or r.random() < 0.08:
                return t
        return t

    def snap(self, t: int, p_keep: float = 0.04) -> int:
        """Move a staff event into working time (a few stay in the evening/weekend)."""
        if _working(t) or self.r.random() < p_keep:
            return t
        return _add_business(t, int(self.r.random() * 45))

    def ticket(
        self,
        t0: int,
        ttype: str,
        channel: str,
        priority: str,
        *,
        late: bool = False,
        late_reopen: bool = False,
    ) -> tuple[list[list[Any]], list[str], list[tuple[str, int, int, int, int]]]:
        r = self.r
        ev: list[list[Any]] = []
        inj: list[str] = []
        # injected delays: (mechanism, from minute, to minute, receiving event, free minutes)
        lost: list[tuple[str, int, int, int, int]] = []

        def add(act: str, t: int, dept: str, res: str | None = None, remark: Any = None) -> int:
            if ev and t < ev[-1][1]:
                t = ev[-1][1] + 1 + int(r.random() * 5)
            ev.append([act, t, res if res is not None else self.staff(dept), dept, remark])
            return t

        def later(minutes: int) -> int:
            return _add_business(ev[-1][1], minutes)

        agent = self.staff(CS)
        remarks = _REGISTER_REMARKS[ttype]
        add(REGISTER, t0, CS, agent, remarks[int(r.random() * len(remarks))])
        u = r.random()
        structural = None
        acc = 0.0
        for name, p in _STRUCTURAL:
            acc += p
            if u < acc:
                structural = name
                break
        if late:  # may be cut off mid-pattern: keep open tickets' truth unambiguous
            structural = None
        if structural:
            inj.append(structural)
        remote = r.random() < 0.6
        if structural == "ping_pong_indirect":
            remote = True
        # 需求确认 (5-10 min; next morning for a night-time online registration)
        if structural != "skip_confirm":
            base = t0 if _working(t0) else _add_business(t0, 0) + int(r.random() * 25)
            add(CONFIRM, base + 5 + int(r.random() * 6), CS, agent)
        # 分类派单 within 2 business hours of 投诉登记 (or an injected breach)
        if r.random() < 0.03:
            inj.append("sla_assign")
            bm = 150 + int(r.random() * 250)
        elif priority == "紧急":
            bm = 8 + int(r.random() * 30)
        else:
            bm = 15 + int(r.random() * 80)
        t_assign = add(ASSIGN, _add_business(t0, bm), CS)

        def execute(kind_remote: bool) -> None:
            if kind_remote:
                t_prev = ev[-1][1]
                add(REMOTE, t_prev + self.remote_minutes(), TS)
                # beyond the 1 h best-in-class benchmark (40% take over 4 h)
                lost.append(("slow_remote_troubleshooting", t_prev, ev[-1][1], len(ev) - 1, 60))
            else:
                add(ONSITE, later(240 + int(r.random() * 900)), FS)

        if structural == "exec_before_assess":
            execute(True)
            remote = True
        # 销售核实 (tickets about what was sold or promised) and the slow way back
        p_sales = {"投诉": 0.42, "报修": 0.14, "咨询": 0.1}[ttype]
        sales = structural not in ("ping_pong_sales", "exec_before_assess") and r.random() < p_sales

        def sales_then_assess(res: str | None = None) -> None:
            add(SALES, later(30 + int(r.random() * 300)), SD)
            wait = int(60 * 31.5 * math.exp(r.gauss(0, 0.35)))
            add(ASSESS, self.snap(ev[-1][1] + wait, 0.0), AS, res)
            lost.append(("sales_aftersales_gap", ev[-2][1], ev[-1][1], len(ev) - 1, 0))

        wrong_dept = r.random() < 0.02
        if wrong_dept:
            inj.append("wrong_department")
        assess_dept = CS if wrong_dept else AS
        if sales:
            sales_then_assess()
            if wrong_dept:
                ev[-1][3], ev[-1][2] = CS, self.staff(CS)
        else:
            limit = _RESPONSE_LIMIT_MIN[priority]
            if r.random() < 0.03:
                inj.append("sla_response")
                target = int(limit * (1.3 + 0.7 * r.random()))
            elif priority == "紧急":
                target = 20 + int(r.random() * 28)
            elif priority == "高":
                target = 45 + int(r.random() * 150)
            else:
                target = 90 + int(r.random() * 1000)
            used = _business_minutes(t0, t_assign)
            add(ASSESS, _add_business(t0, max(target, used + 5)), assess_dept)
        assessor = ev[-1][2]
        if structural == "ping_pong_sales":
            sales_then_assess(assessor if r.random() < 0.5 else None)
        if r.random() < (0.25 if ttype == "投诉" else 0.1):
            add(APPROVE, later(30 + int(r.random() * 270)), AS, _SUPERVISORS[int(r.random() * 2)])
        if r.random() < 0.04:
            inj.append("chase_call")
            add(CHASE, later(60 + int(r.random() * 540)), CS, remark="客户来电催办")
        # execution
        if structural == "ping_pong_indirect":
            execute(True)
            add(ONSITE, later(240 + int(r.random() * 660)), FS)
            add(ASSESS, later(60 + int(r.random() * 240)), AS, assessor)
            add(ONSITE, later(240 + int(r.random() * 660)), FS)
            remote = False
        elif structural != "exec_before_assess":
            execute(remote)
        if remote and structural is None and r.random() < 0.17:
            inj.append("self_loop_diagnosis")
            execute(True)

        def accept() -> int:
            wait = int(r.random() * 2 * _DAY) if ttype == "投诉" else 0
            due = later(20 + int(r.random() * 280))
            t = add(ACCEPT, self.snap(due + wait, 0.02), CS)
            if wait:  # complaints wait up to two days for the customer's acceptance
                lost.append(("complaint_acceptance_wait", due, t, len(ev) - 1, 0))
            return t

        accept()
        if structural == "acceptance_failed":
            if r.random() < 0.75:
                add(CONFIRM, later(10 + int(r.random() * 50)), CS)
            execute(remote)
            accept()
        elif structural == "acceptance_retry":
            first = ev[-1][2]
            add(CHASE, later(60 + int(r.random() * 420)), CS, remark="客户未接听，改日验收")
            add(ACCEPT, later(30 + int(r.random() * 210)), CS, first if r.random() < 0.5 else None)

        def close() -> None:
            if r.random() < 0.01:
                inj.append("equal_timestamp")
                add(CLOSE, ev[-1][1], CS)
            else:
                add(CLOSE, later(5 + int(r.random() * 85)), CS)

        close()
        if r.random() < 0.075 and structural is None and not late_reopen:
            cycles = 1 if r.random() < 0.8 else 2
            inj.append("reopen" if cycles == 1 else "reopen_twice")
            for _ in range(cycles):
                t_closed = ev[-1][1]
                add(REOPEN, self.snap(ev[-1][1] + 120 + int(r.random() * 3 * _DAY), 0.1), CS)
                execute(remote if r.random() < 0.8 else not remote)
                accept()
                close()
                lost.append(("reopen_cycle", t_closed, ev[-1][1], len(ev) - 1, 0))
        # 回访 24-48 h after 结单
        u = r.random()
        if u < 0.03:
            inj.append("skip_follow_up")
        else:
            t_close = ev[-1][1]
            if u < 0.06:
                inj.append("sla_follow_up")
                if r.random() < 0.5:
                    t = t_close + 180 + int(r.random() * 1020)
                else:
                    t = t_close + 52 * 60 + int(r.random() * 58 * 60)
            else:
                t = t_close + 25 * 60 + int(r.random() * 22 * 60)
                for _ in range(6):
                    if _working(t):
                        break
                    t = t_close + 25 * 60 + int(r.random() * 22 * 60)
            dept = QD if r.random() < 0.1 else CS
            add(FOLLOW_UP, t, dept)
            if r.random() < 0.05:
                add(QUALITY, later(480 + int(r.random() * 1900)), QD)
        return ev, inj, lost

    def twin(self, t_orig: int) -> list[list[Any]]:
        """A duplicate ticket: same problem, other channel, within 2 h; closed as such."""
        r = self.r
        agent = self.staff(CS)
        t = t_orig + 10 + int(r.random() * 100)
        c = t + 5 + int(r.random() * 6)
        close = _add_business(c, 30 + int(r.random() * 210))
        return [
            [REGISTER, t, agent, CS, "同一问题再次来电"],
            [CONFIRM, c, agent, CS, None],
            [CLOSE, close, self.staff(CS), CS, "重复工单"],
        ]


def _simulate(
    n_tickets: int, start: str | date, end: str | date, seed: int
) -> tuple[list[dict[str, Any]], int]:
    """Tickets (dicts with attributes and event lists), and the cutoff minute."""
    sim = _Sim(seed)
    r = sim.r
    lo = _minutes_of(start)
    cutoff = _minutes_of(pd.Timestamp(end)) + _DAY - 1  # end day 23:59
    n_orig = round(n_tickets / 1.06)
    n_twin = n_tickets - n_orig
    twin_of = set(r.sample(range(n_orig), n_twin))
    n_customers = max(n_tickets * 3 // 4, 1)
    tickets: list[dict[str, Any]] = []
    for i in range(n_orig):
        ttype = r.choices(("投诉", "报修", "咨询"), (0.4, 0.4, 0.2))[0]
        channel = r.choices(("电话", "在线", "微信"), (0.6, 0.24, 0.16))[0]
        priority = r.choices(("紧急", "高", "普通"), (0.1, 0.3, 0.6))[0]
        customer = f"KH{100000 + int(r.random() * n_customers):06d}"
        t0 = sim.register_time(lo, cutoff)
        if channel == "电话" and not _working(t0):
            channel = r.choice(("在线", "微信"))
        ev, inj, lost = sim.ticket(
            t0,
            ttype,
            channel,
            priority,
            late=t0 > cutoff - 13 * _DAY,
            late_reopen=t0 > cutoff - 20 * _DAY,
        )
        tk: dict[str, Any] = {
            "key": i,
            "type": ttype,
            "channel": channel,
            "priority": priority,
            "customer": customer,
            "events": ev,
            "injected": inj,
            "lost": lost,
            "twin_of": None,
        }
        tickets.append(tk)
        if i in twin_of:
            other = r.choice([c for c in ("电话", "在线", "微信") if c != channel])
            tickets.append(
                {
                    "key": n_orig + len(tickets),
                    "type": ttype,
                    "channel": other,
                    "priority": priority,
                    "customer": customer,
                    "events": sim.twin(t0),
                    "injected": ["duplicate_twin"],
                    "lost": [],
                    "twin_of": i,
                }
            )
    # the export cutoff: later events do not exist yet
    for tk in tickets:
        full = tk["events"]
        kept = [e for e in full if e[1] <= cutoff]
        tk["truncated"] = len(kept) < len(full)
        tk["events"] = kept
        tk["lost"] = [x for x in tk["lost"] if x[3] < len(kept)]
    tickets = [tk for tk in tickets if tk["events"]]
    _assign_ids(tickets, r)
    return tickets, cutoff


def _assign_ids(tickets: list[dict[str, Any]], r: random.Random) -> None:
    """GD + yymm + 6 digits by registration month; November's new tickets use plain digits."""
    order = sorted(range(len(tickets)), key=lambda i: (tickets[i]["events"][0][1], i))
    counters: dict[tuple[int, int], int] = {}
    by_key = {tk["key"]: tk for tk in tickets}
    for i in order:
        tk = tickets[i]
        d = _EPOCH + timedelta(minutes=tk["events"][0][1])
        ym = (d.year, d.month)
        n = counters.get(ym, 0) + 1 + int(r.random() * 3)
        counters[ym] = n
        if ym == (2024, 11):
            tk["case_id"] = f"{1000000 + n}"
        else:
            tk["case_id"] = f"GD{d.year % 100:02d}{d.month:02d}{n:06d}"
    for tk in tickets:
        if tk["twin_of"] is not None:
            tk["duplicate_of"] = by_key[tk["twin_of"]]["case_id"]
        else:
            tk["duplicate_of"] = None


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
        ("response_by_priority", REGISTER, ASSESS, _RESPONSE_LIMIT_MIN[priority] / 60, 0.0, True),
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
            return (_business_minutes(a, b) if business else b - a) / 60

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
def _events_frame(tickets: list[dict[str, Any]]) -> pd.DataFrame:
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
        (np.datetime64(_EPOCH, "m") + minute.astype("timedelta64[m]")).astype("datetime64[ns]")
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
    bounds = np.array([_minutes_of("2024-11-01"), _minutes_of("2024-12-01")], dtype=np.int64)
    return np.searchsorted(bounds, minute, side="right")


def _fmt_times(minute: np.ndarray, style: int) -> pd.Series:
    """Export time texts: 0 '2024-10-03 14:05:00', 1 '2024/11/03 14:05', 2 '2024年12月3日 14:05'."""
    uniq, inv = np.unique(minute, return_inverse=True)  # format each distinct minute once
    return pd.Series(_fmt_unique(uniq, style).to_numpy(dtype=object)[inv])


def _fmt_unique(minute: np.ndarray, style: int) -> pd.Series:
    d = pd.Series(np.datetime64(_EPOCH, "m") + minute.astype("timedelta64[m]"))
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


def _file_rows(events: pd.DataFrame) -> list[pd.DataFrame]:
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
def generate_tickets(
    n_tickets: int = 6500,
    *,
    start: str | date = "2024-10-01",
    end: str | date = "2024-12-31",
    seed: int = 20241001,
) -> GeneratedTickets:
    """Simulate a quarter of service tickets with exact ground truth.

    Parameters
    ----------
    n_tickets : int
        Tickets including duplicate twins (about 6% are twins).
    start, end : date or "YYYY-MM-DD"
        Registration period; ``end`` 23:59 is the export cutoff (later events do not
        exist yet, so late tickets are open).
    seed : int
        Everything is a function of the seed.

    Returns
    -------
    GeneratedTickets
        The true log and its truth tables; ``load`` is filled in by
        :func:`write_sample_exports` (here it holds the counts and medians only).

    Examples
    --------
    >>> from svcmining.datasets import generate_tickets
    >>> g = generate_tickets(300, seed=1)
    >>> g.events["case_id"].map(type).eq(str).all()
    np.True_
    """
    from ._validation import check_positive_int

    n_tickets = check_positive_int("generate_tickets", "n_tickets", n_tickets)
    tickets, cutoff = _simulate(n_tickets, start, end, seed)
    return _truth(tickets, cutoff)


def _truth(tickets: list[dict[str, Any]], cutoff: int) -> GeneratedTickets:
    tickets = sorted(tickets, key=lambda t: t["case_id"])
    events = _events_frame(tickets)
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
        base = pd.Timestamp(_EPOCH)
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
    by_id = {tk["case_id"]: tk for tk in tickets}
    dup = pd.DataFrame(dup_rows, columns=["case_id", "duplicate_case_id", "customer_id"])
    dup["channel"] = [by_id[c]["channel"] for c in dup["case_id"]]
    dup["duplicate_channel"] = [by_id[c]["channel"] for c in dup["duplicate_case_id"]]
    dup["gap_minutes"] = [
        by_id[b]["events"][0][1] - by_id[a]["events"][0][1]
        for a, b in zip(dup["case_id"], dup["duplicate_case_id"], strict=True)
    ]
    dup = dup.sort_values("case_id", ignore_index=True)
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
        "cutoff": str(pd.Timestamp(_EPOCH) + pd.Timedelta(minutes=cutoff)) + "+08:00",
        "last_event": str(pd.Timestamp(_EPOCH) + pd.Timedelta(minutes=log_cutoff)) + "+08:00",
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


def _bottlenecks(tickets: list[dict[str, Any]]) -> pd.DataFrame:
    """Injected delays per pain point: business hours of each recorded interval."""
    rows: dict[tuple[str, str, str], list[Any]] = {}
    for tk in tickets:
        ev = tk["events"]
        for mech, a, b, idx, free in tk["lost"]:
            minutes = _business_minutes(a, b) - free
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
_ENCODINGS = ("utf-8-sig", "gbk", "utf-8")


def _export_frame(part: pd.DataFrame, style: int) -> pd.DataFrame:
    out = part.rename(columns={v: k for k, v in _CANON.items()})
    out["处理时间"] = _fmt_times(part["_minute"].to_numpy(), style).to_numpy()
    return out[[*_EXPORT_COLUMNS, "_minute"]].reset_index(drop=True)


def _messy_exports(
    events: pd.DataFrame, seed: int, *, messy: bool
) -> tuple[list[pd.DataFrame], dict[str, Any]]:
    """Monthly export tables (with ``_minute``) and the load accounting."""
    rng = np.random.default_rng(seed + 7)
    parts = _file_rows(events)
    frames = [_export_frame(p, m) for m, p in enumerate(parts)]
    info: dict[str, Any] = {"conflicts": [], "double_writes": 0, "junk": {}}
    if not messy:
        return frames, info
    true_key = events["case_id"] + "|" + events["_minute"].astype("str")
    eq_ts = set(true_key[true_key.duplicated(keep=False)])
    # ~5 conflicting copies: an event exported in Oct or Nov and again next month, where
    # the older export still had another 处理人 (the newer one is the truth)
    used: set[str] = set()
    for m in (0, 1):
        older, newer = frames[m], frames[m + 1]
        key_o = older["工单编号"] + "|" + older["处理环节"] + "|" + older["_minute"].astype("str")
        key_n = newer["工单编号"] + "|" + newer["处理环节"] + "|" + newer["_minute"].astype("str")
        ok_key = ~(older["工单编号"] + "|" + older["_minute"].astype("str")).isin(eq_ts)
        cand = np.flatnonzero(key_o.isin(set(key_n)).to_numpy() & ok_key.to_numpy())
        n_pick = 3 if m == 0 else 2
        for i in np.sort(rng.choice(cand, size=min(n_pick, len(cand)), replace=False)):
            old_res = older.loc[i, "处理人"]
            dept = older.loc[i, "处理部门"]
            pool = [s for s in _STAFF[dept] if s != old_res]
            wrong = pool[int(rng.integers(len(pool)))]
            older.loc[i, "处理人"] = wrong
            used.add(str(key_o.iloc[i]))
            info["conflicts"].append(
                {
                    "case_id": older.loc[i, "工单编号"],
                    "activity": older.loc[i, "处理环节"],
                    "timestamp": str(
                        pd.Timestamp(_EPOCH) + pd.Timedelta(minutes=int(older.loc[i, "_minute"]))
                    )
                    + "+08:00",
                    "older_file": _MONTH_FILES[m],
                    "older_resource": wrong,
                    "newer_file": _MONTH_FILES[m + 1],
                    "newer_resource": old_res,
                }
            )
    # system double-writes (~0.3%), missing ids (~10), unparseable times (~10)
    out = []
    for m, f in enumerate(frames):
        key = f["工单编号"] + "|" + f["处理环节"] + "|" + f["_minute"].astype("str")
        ok = ~key.isin(used) & ~(f["工单编号"] + "|" + f["_minute"].astype("str")).isin(eq_ts)
        cand = np.flatnonzero(ok.to_numpy())
        n_dup = max(1, round(len(f) * 0.003))
        dup_rows = np.sort(rng.choice(cand, size=n_dup, replace=False))
        info["double_writes"] += n_dup
        junk_ids = np.sort(rng.choice(len(f), size=3 + m, replace=False))
        missing = f.iloc[junk_ids].copy()
        missing["工单编号"] = ""
        tbd_rows = np.sort(rng.choice(len(f), size=3 + (m != 1), replace=False))
        tbd = f.iloc[tbd_rows].copy()
        tbd["处理时间"] = "待定"
        tbd["处理环节"] = "上门维修"
        tbd["备注"] = "预约时间待定"
        pieces = [f, f.iloc[dup_rows], missing, tbd]
        order_key = np.concatenate(
            [np.arange(len(f)) * 4, dup_rows * 4 + 1, junk_ids * 4 + 2, tbd_rows * 4 + 3]
        )
        g = pd.concat(pieces, ignore_index=True)
        g = g.iloc[np.argsort(order_key, kind="stable")].reset_index(drop=True)
        info["junk"][_MONTH_FILES[m]] = {
            "missing_case_id": len(missing),
            "unparseable_timestamp": len(tbd),
            "duplicate_event": n_dup,
        }
        out.append(g)
    return out, info


def _load_truth(
    frames: list[pd.DataFrame], info: dict[str, Any], gen_load: dict[str, Any], n_events: int
) -> dict[str, Any]:
    files = {name: len(f) for name, f in zip(_MONTH_FILES, frames, strict=True)}
    rows_read = sum(files.values())
    junk = info["junk"]
    dropped = {
        "missing_case_id": sum(j["missing_case_id"] for j in junk.values()),
        "unparseable_timestamp": sum(j["unparseable_timestamp"] for j in junk.values()),
        "duplicate_event": sum(j["duplicate_event"] for j in junk.values()),
        "conflicting_duplicate": len(info["conflicts"]),
    }
    dropped["repeated_in_later_export"] = rows_read - n_events - sum(dropped.values())
    load = {
        "files": files,
        "rows_read": rows_read,
        "rows_kept": n_events,
        "dropped": dict(sorted(dropped.items())),
        "rows_kept_default_dedupe": n_events + dropped["duplicate_event"],
        "conflicts": sorted(info["conflicts"], key=lambda c: (c["case_id"], c["timestamp"])),
        "n_conflicts": len(info["conflicts"]),
        **gen_load,
        "note": (
            "rows_read == rows_kept + sum(dropped) for read_tickets(..., dedupe='all'); "
            "with the default dedupe=True the duplicate_event rows are kept "
            "(rows_kept_default_dedupe). SLA truth uses the last event as cutoff."
        ),
    }
    return load


def _write_csv(frame: pd.DataFrame, path: Path, encoding: str) -> None:
    text = frame.drop(columns="_minute").to_csv(index=False, lineterminator="\n")
    path.write_bytes(text.encode(encoding))


def _deterministic_zip(path: Path) -> None:
    """Rewrite a zip (xlsx) with fixed entry times so it is byte-identical per seed."""
    src = zipfile.ZipFile(path)
    entries = [(i.filename, src.read(i.filename)) for i in src.infolist()]
    src.close()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in entries:
            if name == "docProps/core.xml":  # openpyxl stamps the save time as "modified"
                data = re.sub(
                    rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)",
                    rb"\g<1>2025-01-01T00:00:00Z\g<2>",
                    data,
                )
            zi = zipfile.ZipInfo(name, date_time=(2025, 1, 1, 0, 0, 0))
            zi.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(zi, data)
    path.write_bytes(buf.getvalue())


def _write_xlsx(frames: list[pd.DataFrame], path: Path) -> None:
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    fixed = datetime(2025, 1, 1)
    wb.properties.created = fixed
    wb.properties.modified = fixed
    wb.properties.creator = "svcmining"
    for name, f in zip(("10月", "11月", "12月"), frames, strict=True):
        ws = wb.create_sheet(name)
        ws.append(list(_EXPORT_COLUMNS))
        minutes = f["_minute"].to_numpy()
        times = f["处理时间"].to_numpy()
        cols = [f[c].to_numpy(dtype=object) for c in _EXPORT_COLUMNS]
        for i in range(len(f)):
            row = [
                None if (isinstance(v, float) and math.isnan(v)) else v
                for v in (c[i] for c in cols)
            ]
            row[0] = row[0] if row[0] != "" else None
            if times[i] != "待定":
                row[2] = _EPOCH + timedelta(minutes=int(minutes[i]))
            ws.append(row)
    wb.save(path)
    _deterministic_zip(path)


_BROKEN_README = """# Faulty exports (each must fail to load with a clear error)

- `missing_time_column.csv`: no 处理时间 (time) column
  -> `SchemaError` (required column timestamp missing; the columns found are listed).
- `two_activity_columns.csv`: both 处理环节 and 状态 look like the activity
  -> `SchemaError` (ambiguous activity column; pass a mapping).
- `empty.csv`: 0 bytes -> `ReadError` (the file is empty).
- `header_only.csv`: a header row and no data -> `ReadError`/`SchemaError` (no events).
- `bad_encoding.csv`: Latin-1/C1-control bytes that are neither UTF-8 nor GBK/GB18030
  -> `ReadError` (cannot tell the text encoding; pass encoding=...).
- `unparseable_times.csv`: no 处理时间 value is a time
  -> `SchemaError`/`ReadError` (no parseable timestamps; every row unparseable_timestamp).
"""


def _write_broken(folder: Path, sample: pd.DataFrame) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    s = sample.drop(columns="_minute").head(12).reset_index(drop=True)
    enc = "utf-8"
    (folder / "missing_time_column.csv").write_bytes(
        s.drop(columns="处理时间").to_csv(index=False, lineterminator="\n").encode(enc)
    )
    two = s.copy()
    two.insert(2, "状态", two["处理环节"].map(lambda a: f"{a}完成"))
    (folder / "two_activity_columns.csv").write_bytes(
        two.to_csv(index=False, lineterminator="\n").encode(enc)
    )
    (folder / "empty.csv").write_bytes(b"")
    (folder / "header_only.csv").write_bytes((",".join(_EXPORT_COLUMNS) + "\n").encode(enc))
    # Latin-1 / C1-control bytes (ÿ, \x81 ...) that neither UTF-8 nor GBK/GB18030 decode
    latin = ",".join(_EXPORT_COLUMNS[:4]).encode("gbk") + b"\n"
    latin += b"".join(
        b"GD2410%06d,\xff\x81\x8d\x90\xe9\x9d,2024-10-08 10:%02d,\xff\xfe\x81\n" % (i, i)
        for i in range(12)
    )
    (folder / "bad_encoding.csv").write_bytes(latin)
    bad = s.copy()
    bad["处理时间"] = ["待定", "未知", "--", "下周一", "TBD", "待定"] * 2
    (folder / "unparseable_times.csv").write_bytes(
        bad.to_csv(index=False, lineterminator="\n").encode(enc)
    )
    (folder / "README.md").write_text(_BROKEN_README, encoding="utf-8")


def _write_truth(folder: Path, g: GeneratedTickets) -> None:
    folder.mkdir(parents=True, exist_ok=True)

    def w(df: pd.DataFrame, name: str) -> None:
        out = df.copy()
        for c in out.columns:
            if isinstance(out[c].dtype, pd.DatetimeTZDtype):
                out[c] = (
                    out[c]
                    .dt.strftime("%Y-%m-%d %H:%M:%S%z")
                    .str.replace(r"(\d\d)(\d\d)$", r"\1:\2", regex=True)
                )
        (folder / name).write_bytes(out.to_csv(index=False, lineterminator="\n").encode("utf-8"))

    w(g.cases, "cases.csv")
    w(g.rework, "rework.csv")
    w(g.handoffs, "handoffs.csv")
    w(g.deviations, "deviations.csv")
    w(g.duplicates, "duplicates.csv")
    w(g.bottlenecks, "bottlenecks.csv")
    (folder / "load.json").write_text(
        json.dumps(g.load, ensure_ascii=False, indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )


def write_sample_exports(
    folder: str | Path,
    *,
    n_tickets: int = 6500,
    seed: int = 20241001,
    xlsx: bool = True,
    broken: bool = True,
) -> GeneratedTickets:
    """Write the Oct-Dec 2024 monthly exports, the XLSX workbook, broken files and truth.

    Parameters
    ----------
    folder : path
        Output folder (``sample_logs/``); created if needed.
    n_tickets, seed
        As for :func:`generate_tickets`.
    xlsx : bool
        Also write ``xlsx/工单导出_2024Q4.xlsx`` (three sheets with datetime cells).
    broken : bool
        Also write ``broken/`` (faulty exports, each showing one loader error).

    Returns
    -------
    GeneratedTickets
        With ``load`` completed (rows per file, drops per reason, conflicts).

    Examples
    --------
    >>> from svcmining.datasets import write_sample_exports
    >>> g = write_sample_exports("sample_logs/")   # doctest: +SKIP
    """
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    tickets, cutoff = _simulate(n_tickets, "2024-10-01", "2024-12-31", seed)
    g = _truth(tickets, cutoff)
    events = _events_frame(sorted(tickets, key=lambda t: t["case_id"]))
    frames, info = _messy_exports(events, seed, messy=True)
    load = _load_truth(frames, info, g.load, len(g.events))
    g = GeneratedTickets(
        events=g.events,
        cases=g.cases,
        handoffs=g.handoffs,
        deviations=g.deviations,
        rework=g.rework,
        duplicates=g.duplicates,
        load=load,
        bottlenecks=g.bottlenecks,
    )
    for name, f, enc in zip(_MONTH_FILES, frames, _ENCODINGS, strict=True):
        _write_csv(f, out / name, enc)
    if xlsx:
        (out / "xlsx").mkdir(exist_ok=True)
        _write_xlsx(frames, out / "xlsx" / "工单导出_2024Q4.xlsx")
    if broken:
        _write_broken(out / "broken", _export_frame(events.head(12), 0))
    _write_truth(out / "truth", g)
    return g


def write_benchmark_exports(
    folder: str | Path, *, n_events: int = 1_000_000, seed: int = 20241002
) -> dict[str, Any]:
    """Write three monthly CSV exports of about ``n_events`` true events (for benchmarks).

    The same simulation as the samples, scaled (~110k tickets for 1M events); no
    XLSX, no broken files, no injected row faults (monthly overlap only).

    Returns
    -------
    dict
        ``rows`` (CSV data rows), ``events`` (true events), ``cases``, ``files``.

    Examples
    --------
    >>> from svcmining.datasets import write_benchmark_exports
    >>> counts = write_benchmark_exports("benchmarks/data/1m")   # doctest: +SKIP
    """
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    n_tickets = max(1, round(n_events / 8.58))
    tickets, _ = _simulate(n_tickets, "2024-10-01", "2024-12-31", seed)
    events = _events_frame(sorted(tickets, key=lambda t: t["case_id"]))
    frames, _ = _messy_exports(events, seed, messy=False)
    files = {}
    for name, f, enc in zip(_MONTH_FILES, frames, _ENCODINGS, strict=True):
        _write_csv(f, out / name, enc)
        files[name] = len(f)
    return {
        "rows": sum(files.values()),
        "events": len(events),
        "cases": len(tickets),
        "files": files,
        "seed": seed,
    }


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m svcmining.datasets OUT_DIR [--tickets N] [--events N] [--seed S]``."""
    parser = argparse.ArgumentParser(
        prog="python -m svcmining.datasets",
        description="Write the seeded sample exports (or, with --events, benchmark exports).",
    )
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--tickets", type=int, default=6500)
    parser.add_argument("--events", type=int, default=None, help="benchmark exports instead")
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args(argv)
    if args.events:
        kw = {} if args.seed is None else {"seed": args.seed}
        counts = write_benchmark_exports(args.out_dir, n_events=args.events, **kw)
        print(json.dumps(counts, ensure_ascii=False))
    else:
        g = write_sample_exports(
            args.out_dir, n_tickets=args.tickets, seed=20241001 if args.seed is None else args.seed
        )
        print(g)
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
