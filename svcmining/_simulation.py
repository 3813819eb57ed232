"""The seeded simulation behind :mod:`svcmining.datasets`: a business calendar on
integer minutes, the complaint process with its injected problems, ticket ids.
"""

from __future__ import annotations

import math
import random
from datetime import date, datetime, timedelta
from typing import Any

import pandas as pd

TZ = "Asia/Shanghai"
EPOCH = datetime(2024, 1, 1)  # a Monday; times are minutes since then, local (UTC+8, no DST)
_DAY = 1440
_WORK_START, _WORK_END = 540, 1080  # 09:00-18:00
_HOLIDAYS = frozenset((date(2024, 10, d) - EPOCH.date()).days for d in range(1, 8))
_EXTRA_WORKDAYS = frozenset(
    (d - EPOCH.date()).days for d in (date(2024, 9, 29), date(2024, 10, 12))
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

STAFF: dict[str, tuple[str, ...]] = {
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
MONTH_FILES = ("工单导出_2024-10.csv", "工单导出_2024-11.csv", "工单导出_2024-12.csv")
EXPORT_COLUMNS = (
    "工单编号", "处理环节", "处理时间", "处理人", "处理部门", "受理渠道", "优先级", "客户编号",
    "备注", "工单类型",
)  # fmt: skip
CANON = {
    "工单编号": "case_id",
    "处理环节": "activity",
    "处理时间": "timestamp",
    "处理人": "resource",
    "处理部门": "department",
    "受理渠道": "channel",
    "优先级": "priority",
    "客户编号": "customer_id",
}
RESPONSE_LIMIT_MIN = {"紧急": 60, "高": 240, "普通": 1440}
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


def business_minutes(a: int, b: int) -> int:
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


def minutes_of(ts: str | date | datetime) -> int:
    d = pd.Timestamp(ts).to_pydatetime().replace(tzinfo=None)
    return int((d - EPOCH).total_seconds() // 60)


# =============================================================================
# Simulation
# =============================================================================
class _Sim:
    """One seeded simulation: tickets as lists of [activity, minute, resource, dept, remark]."""

    def __init__(self, seed: int) -> None:
        self.r = random.Random(seed)  # noqa: S311 - reproducible sample data, not security

    def staff(self, dept: str) -> str:
        pool = STAFF[dept]
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
        tk = _Ticket(self, t0, ttype, priority)
        tk.register_and_assign(late)
        tk.assess()
        tk.work()
        tk.accept_and_close(late_reopen)
        tk.follow_up()
        return tk.ev, tk.inj, tk.lost

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


class _Ticket:
    """One simulated ticket, built step by step with the simulation's random stream (the
    steps draw from it in a fixed order: the same seed gives the same tickets)."""

    def __init__(self, sim: _Sim, t0: int, ttype: str, priority: str) -> None:
        self.sim, self.r = sim, sim.r
        self.t0, self.ttype, self.priority = t0, ttype, priority
        self.ev: list[list[Any]] = []
        self.inj: list[str] = []
        # injected delays: (mechanism, from minute, to minute, receiving event, free minutes)
        self.lost: list[tuple[str, int, int, int, int]] = []
        self.structural: str | None = None
        self.remote = False
        self.t_assign = 0
        self.assessor = ""

    def add(self, act: str, t: int, dept: str, res: str | None = None, remark: Any = None) -> int:
        ev = self.ev
        if ev and t < ev[-1][1]:
            t = ev[-1][1] + 1 + int(self.r.random() * 5)
        ev.append([act, t, res if res is not None else self.sim.staff(dept), dept, remark])
        return t

    def later(self, minutes: int) -> int:
        return _add_business(self.ev[-1][1], minutes)

    def register_and_assign(self, late: bool) -> None:
        r, t0, add = self.r, self.t0, self.add
        agent = self.sim.staff(CS)
        remarks = _REGISTER_REMARKS[self.ttype]
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
            self.inj.append(structural)
        self.structural = structural
        self.remote = r.random() < 0.6
        if structural == "ping_pong_indirect":
            self.remote = True
        # 需求确认 (5-10 min; next morning for a night-time online registration)
        if structural != "skip_confirm":
            base = t0 if _working(t0) else _add_business(t0, 0) + int(r.random() * 25)
            add(CONFIRM, base + 5 + int(r.random() * 6), CS, agent)
        # 分类派单 within 2 business hours of 投诉登记 (or an injected breach)
        if r.random() < 0.03:
            self.inj.append("sla_assign")
            bm = 150 + int(r.random() * 250)
        elif self.priority == "紧急":
            bm = 8 + int(r.random() * 30)
        else:
            bm = 15 + int(r.random() * 80)
        self.t_assign = add(ASSIGN, _add_business(t0, bm), CS)

    def execute(self, kind_remote: bool) -> None:
        if kind_remote:
            t_prev = self.ev[-1][1]
            self.add(REMOTE, t_prev + self.sim.remote_minutes(), TS)
            # beyond the 1 h best-in-class benchmark (40% take over 4 h)
            self.lost.append(
                ("slow_remote_troubleshooting", t_prev, self.ev[-1][1], len(self.ev) - 1, 60)
            )
        else:
            self.add(ONSITE, self.later(240 + int(self.r.random() * 900)), FS)

    def sales_then_assess(self, res: str | None = None) -> None:
        r, ev = self.r, self.ev
        self.add(SALES, self.later(30 + int(r.random() * 300)), SD)
        wait = int(60 * 31.5 * math.exp(r.gauss(0, 0.35)))
        self.add(ASSESS, self.sim.snap(ev[-1][1] + wait, 0.0), AS, res)
        self.lost.append(("sales_aftersales_gap", ev[-2][1], ev[-1][1], len(ev) - 1, 0))

    def assess(self) -> None:
        r, ev, add, later, structural = self.r, self.ev, self.add, self.later, self.structural
        if structural == "exec_before_assess":
            self.execute(True)
            self.remote = True
        # 销售核实 (tickets about what was sold or promised) and the slow way back
        p_sales = {"投诉": 0.42, "报修": 0.14, "咨询": 0.1}[self.ttype]
        sales = structural not in ("ping_pong_sales", "exec_before_assess") and r.random() < p_sales
        wrong_dept = r.random() < 0.02
        if wrong_dept:
            self.inj.append("wrong_department")
        assess_dept = CS if wrong_dept else AS
        if sales:
            self.sales_then_assess()
            if wrong_dept:
                ev[-1][3], ev[-1][2] = CS, self.sim.staff(CS)
        else:
            limit = RESPONSE_LIMIT_MIN[self.priority]
            if r.random() < 0.03:
                self.inj.append("sla_response")
                target = int(limit * (1.3 + 0.7 * r.random()))
            elif self.priority == "紧急":
                target = 20 + int(r.random() * 28)
            elif self.priority == "高":
                target = 45 + int(r.random() * 150)
            else:
                target = 90 + int(r.random() * 1000)
            used = business_minutes(self.t0, self.t_assign)
            add(ASSESS, _add_business(self.t0, max(target, used + 5)), assess_dept)
        self.assessor = ev[-1][2]
        if structural == "ping_pong_sales":
            self.sales_then_assess(self.assessor if r.random() < 0.5 else None)
        if r.random() < (0.25 if self.ttype == "投诉" else 0.1):
            add(APPROVE, later(30 + int(r.random() * 270)), AS, _SUPERVISORS[int(r.random() * 2)])
        if r.random() < 0.04:
            self.inj.append("chase_call")
            add(CHASE, later(60 + int(r.random() * 540)), CS, remark="客户来电催办")

    def work(self) -> None:
        r, add, later, structural = self.r, self.add, self.later, self.structural
        if structural == "ping_pong_indirect":
            self.execute(True)
            add(ONSITE, later(240 + int(r.random() * 660)), FS)
            add(ASSESS, later(60 + int(r.random() * 240)), AS, self.assessor)
            add(ONSITE, later(240 + int(r.random() * 660)), FS)
            self.remote = False
        elif structural != "exec_before_assess":
            self.execute(self.remote)
        if self.remote and structural is None and r.random() < 0.17:
            self.inj.append("self_loop_diagnosis")
            self.execute(True)

    def accept(self) -> int:
        r = self.r
        wait = int(r.random() * 2 * _DAY) if self.ttype == "投诉" else 0
        due = self.later(20 + int(r.random() * 280))
        t = self.add(ACCEPT, self.sim.snap(due + wait, 0.02), CS)
        if wait:  # complaints wait up to two days for the customer's acceptance
            self.lost.append(("complaint_acceptance_wait", due, t, len(self.ev) - 1, 0))
        return t

    def close(self) -> None:
        if self.r.random() < 0.01:
            self.inj.append("equal_timestamp")
            self.add(CLOSE, self.ev[-1][1], CS)
        else:
            self.add(CLOSE, self.later(5 + int(self.r.random() * 85)), CS)

    def accept_and_close(self, late_reopen: bool) -> None:
        r, ev, add, later, structural = self.r, self.ev, self.add, self.later, self.structural
        self.accept()
        if structural == "acceptance_failed":
            if r.random() < 0.75:
                add(CONFIRM, later(10 + int(r.random() * 50)), CS)
            self.execute(self.remote)
            self.accept()
        elif structural == "acceptance_retry":
            first = ev[-1][2]
            add(CHASE, later(60 + int(r.random() * 420)), CS, remark="客户未接听，改日验收")
            add(ACCEPT, later(30 + int(r.random() * 210)), CS, first if r.random() < 0.5 else None)
        self.close()
        if r.random() < 0.075 and structural is None and not late_reopen:
            cycles = 1 if r.random() < 0.8 else 2
            self.inj.append("reopen" if cycles == 1 else "reopen_twice")
            for _ in range(cycles):
                t_closed = ev[-1][1]
                add(REOPEN, self.sim.snap(ev[-1][1] + 120 + int(r.random() * 3 * _DAY), 0.1), CS)
                self.execute(self.remote if r.random() < 0.8 else not self.remote)
                self.accept()
                self.close()
                self.lost.append(("reopen_cycle", t_closed, ev[-1][1], len(ev) - 1, 0))

    def follow_up(self) -> None:
        """回访 24-48 h after 结单."""
        r, ev = self.r, self.ev
        u = r.random()
        if u < 0.03:
            self.inj.append("skip_follow_up")
            return
        t_close = ev[-1][1]
        if u < 0.06:
            self.inj.append("sla_follow_up")
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
        self.add(FOLLOW_UP, t, dept)
        if r.random() < 0.05:
            self.add(QUALITY, self.later(480 + int(r.random() * 1900)), QD)


def simulate(
    n_tickets: int, start: str | date, end: str | date, seed: int
) -> tuple[list[dict[str, Any]], int]:
    """Tickets (dicts with attributes and event lists), and the cutoff minute."""
    sim = _Sim(seed)
    r = sim.r
    lo = minutes_of(start)
    cutoff = minutes_of(pd.Timestamp(end)) + _DAY - 1  # end day 23:59
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
        d = EPOCH + timedelta(minutes=tk["events"][0][1])
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
