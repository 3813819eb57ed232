"""The report's glossary: what its words and figures mean, in English and Chinese.

One entry per term the report uses without explaining it on the spot: *hours lost* (the
one definition every section uses, :mod:`svcmining._hourslost`), *handoff waiting
hours*, *hours in rework loops*, the rework kinds of :func:`svcmining.find_rework`, the
deviation types of :func:`svcmining.check_sop`, how SLA attainment and breaches are
computed, the KPIs of :func:`svcmining.service_kpis` and the dashed lines of the charts.
:func:`glossary` gives the entries as a table, :func:`glossary_html` as the report's
last section (with the SOP's own SLA rules when an SOP is given).
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any

import pandas as pd

from ._chartwords import REWORK_KIND_NAMES
from ._i18n import tr
from .sop import CASE_START

__all__ = ["ENTRIES", "GROUPS", "Entry", "glossary", "glossary_html", "glossary_section"]


@dataclass(frozen=True)
class Entry:
    """One glossary entry: its group, the term and its meaning in both languages."""

    group: str
    key: str
    term_en: str
    term_zh: str
    en: str
    zh: str

    def term(self, lang: str) -> str:
        """The term in ``lang``, with the identifier the tables use after it when it differs."""
        name = tr(lang, en=self.term_en, zh=self.term_zh)
        return name if self.key in (name, *_NOT_IDENTIFIERS) else f"{name} ({self.key})"

    def meaning(self, lang: str) -> str:
        """The explanation in ``lang``."""
        return tr(lang, en=self.en, zh=self.zh)


#: Entry keys that name no column or value of a result (not shown after the term).
_NOT_IDENTIFIERS = frozenset(
    {"sla_clock", "sla_status", "sla_hours_lost", "kpi_dashed_line", "sop_dashed_paths"}
)

#: Group key -> (English, Chinese) heading, in glossary order.
GROUPS: dict[str, tuple[str, str]] = {
    "hours": ("Hours lost and other hours", "损失工时与其他工时"),
    "rework": ("Rework kinds", "返工类型"),
    "deviation": ("SOP deviation types", "SOP 偏差类型"),
    "sla": ("SLA rules", "SLA 规则"),
    "kpi": ("KPIs", "关键指标 (KPI)"),
    "chart": ("Lines in the charts", "图中的线"),
}

E = Entry
ENTRIES: tuple[Entry, ...] = (
    # ------------------------------------------------------------------ hours
    E(
        "hours", "hours_lost", "hours lost", "损失工时",
        "The hours a ticket spent beyond the target for a piece of work, summed over the "
        "tickets: for a handoff, its delay beyond the benchmark when one is given, else "
        "beyond the median delay of the other departments' handoffs into the same step; "
        "for a step, its duration beyond its benchmark, else beyond the step's median; "
        "for a rework loop, all of its hours (work done twice should have been done once); "
        "for an SLA, the hours beyond the limit of a step done late; for a deviating "
        "ticket (pain points only), its cycle time beyond the median of the conforming "
        "tickets. Business hours when a calendar is given, else elapsed hours; time "
        "waiting on the customer or a third party never counts. The same thing has the "
        "same hours lost in every section.",
        "工单在某项工作上超出其目标用时的小时数，按工单汇总：交接——超出基准（给定时）的延迟，"
        "否则超出其他部门交接到同一环节的延迟中位数的部分；环节——超出其基准（否则超出该环节中位数）"
        "的用时；返工循环——循环的全部时间（做两遍的工作本应一遍做完）；SLA——逾期完成的环节超出"
        "时限的小时数；偏差工单（仅痛点）——周期超出合规工单周期中位数的部分。给定工作日历时按工作"
        "小时计，否则按自然小时计；等待客户或第三方的"
        "时间从不计入。同一事项在每一节的损失工时相同。",
    ),
    E(
        "hours", "delay_total_hours", "handoff waiting hours", "交接等待工时",
        "All the time tickets waited between two departments (from the giver's last step "
        "to the receiver's first), however short each wait; per ticket handoff_hours. "
        "Not hours lost: a 10-minute handover is waiting time but no loss.",
        "工单在两个部门之间等待的全部时间（从交出方最后"
        "一步到接收方第一步），无论每次多短；每张工单的"
        "该值为 handoff_hours。它不是损失工时：10 分钟的交接是等待，但不是损失。",
    ),
    E(
        "hours", "rework_hours", "hours in rework loops", "返工循环工时",
        "Per ticket, the time inside its rework loops, each hour counted once even when "
        "loops nest (a ping-pong inside a back loop). The hours lost to rework count "
        "every loop's hours, so they can be more.",
        "每张工单处于返工循环内的时间，循环嵌套时（如回"
        "退中的来回推诿）每小时只计一次。返工的损失工时"
        "按每个循环各自计入，因此可能更多。",
    ),
    E(
        "hours", "business_hours", "business hours", "工作小时",
        "Hours inside the working time of the calendar (the SOP's: workdays, opening "
        "hours, holidays and make-up workdays); nights, weekends and holidays do not count.",
        "落在工作日历（SOP 的日历：工作日、营业时间、"
        "节假日与调休）工作时间内的小时；夜间、周末和节假日"
        "不计。",
    ),
    # ------------------------------------------------------------------ rework kinds
    E(
        "rework", "reopen", *REWORK_KIND_NAMES["reopen"],
        "The ticket was closed (or resolved) and work started again: the cycle from the "
        "close to the next close is one occurrence. The follow-up call after closing is "
        "not a reopen.",
        "工单已结单（或已解决）后又重新开始处理：从结单到下一次结单的整个循环算一次。结单后的回访"
        "不算重新打开。",
    ),
    E(
        "rework", "self_loop", *REWORK_KIND_NAMES["self_loop"],
        "The same step twice in a row (A, A).",
        "同一环节连续做了两次（A、A）。",
    ),
    E(
        "rework", "ping_pong", *REWORK_KIND_NAMES["ping_pong"],
        "A department gets the ticket back and redoes a step it had already done, after "
        "one (A → B → A) to three other departments in between (推诿).",
        "一个部门在交出工单后又收回，并重做自己已做过的环节，中"
        "间隔了 1 个（A → B → A）到 3 个其他部门。",
    ),
    E(
        "rework", "back_loop", *REWORK_KIND_NAMES["back_loop"],
        "A step of an earlier stage done again after a later one (e.g. confirming the need "
        "again after the assessment); stages from the SOP, else from the usual order.",
        "在后面的环节之后又做了更早阶段的环节（如评估后再"
        "次确认需求）；阶段取自 SOP，否则取自常见顺序。",
    ),
    E(
        "rework", "redo", *REWORK_KIND_NAMES["redo"],
        "A step done again by a different person than the last time.",
        "同一环节由与上次不同的人再做一次。",
    ),
    E(
        "rework", "repeat", *REWORK_KIND_NAMES["repeat"],
        "A step done again by the same person.",
        "同一环节由同一个人再做一次。",
    ),
    # ------------------------------------------------------------------ deviations
    E(
        "deviation", "unknown_activity", "unknown activity", "未知环节",
        "An activity no SOP step has.",
        "SOP 中没有的处理环节。",
    ),
    E(
        "deviation", "skipped_step", "skipped step", "跳过环节",
        "A step the SOP requires was not done. Steps an open ticket has not reached yet "
        "are pending, not skipped.",
        "SOP 要求的环节没有做。未结工单尚未走到的环节算待办，不算跳过。",
    ),
    E(
        "deviation", "out_of_order", "out of order", "顺序错误",
        "A step was done, but not where the SOP puts it.",
        "环节做了，但不在 SOP 规定的位置。",
    ),
    E(
        "deviation", "inserted_step", "extra branch", "多做分支",
        "A second branch of an either-or choice was done as well (e.g. both remote "
        "troubleshooting and an on-site repair).",
        "二选一的环节两个都做了（如既远程排障又上门维修）。",
    ),
    E(
        "deviation", "repeated_step", "repeated step", "重复环节",
        "A step the SOP does not allow to repeat was done again (a repeat inside an "
        "allowed loop, such as a reopen cycle, is no deviation).",
        "SOP 不允许重复的环节又做了一次（允许的循环内的重复，如重新打开循环，不算偏差）。",
    ),
    E(
        "deviation", "wrong_department", "wrong department", "部门错误",
        "A step done by a department that does not own it in the SOP.",
        "环节由 SOP 中不负责该环节的部门完成。",
    ),
    E(
        "deviation", "sla_breach", "SLA breach", "SLA 违约",
        "An SLA limit was exceeded (or a step came before its earliest time); see the SLA "
        "rules.",
        "超过了 SLA 时限（或环节早于最早时间）；见 SLA 规则。",
    ),
    E(
        "deviation", "not_fitting", "not fitting", "不符合（未分型）",
        "Only for tickets checked by the quick token replay (time limit): the ticket does "
        "not fit the SOP, without the kind of deviation.",
        "仅用于在时限内改用快速令牌重放检查的工单：工单不符合 SOP，但未区分偏差类型。",
    ),
    E(
        "deviation", "deviation_rate", "deviation rate", "偏差率",
        "The share of tickets with at least one deviation of any type (how often the SOP "
        "is not followed).",
        "至少有一处任意类型偏差的工单占比（SOP 未被执行的频率）。",
    ),
    # ------------------------------------------------------------------ SLA rules
    E(
        "sla", "sla_clock", "SLA clock", "SLA 计时",
        "Starts at the SLA's start step (the last one before the stop; or when the ticket "
        "was registered) and stops at the first target step after it; in business hours "
        "unless the SLA says elapsed; it stands still while the ticket waits on the "
        "customer or a third party (waiting states).",
        "从 SLA 的起始环节开始计时（取停止前最后一次"
        "；或工单登记时），到其后第一次目标环节停止；除非 "
        "SLA 规定按自然时间，否则按工作小时计；工单等待客户或第三方（等待状态）时计时暂停。",
    ),
    E(
        "sla", "sla_status", "met / breached / censored", "达标 / 违约 / 未到期",
        "Met: the target step came within the limit (and not before the earliest time of "
        "a 'between' rule). Breached: it came late or too early, or never came and the "
        "deadline passed before the export's cutoff. Censored: not done yet and the "
        "deadline not passed (open tickets): not counted.",
        "达标：目标环节在时限内完成（且不早于区间规则的"
        "最早时间）。违约：完成过晚或过早，或到导出截止"
        "时已过期限仍未完成。未到期：尚未完成且未过期限（未结工单），不计入。",
    ),
    E(
        "sla", "sla_attainment", "SLA attainment", "SLA 达标率",
        "Met / (met + breached), per SLA, per priority and overall; censored tickets are "
        "left out.",
        "达标数 / (达标数 + 违约数)，按 SLA、按优先级并汇总；未到期工单不计入。",
    ),
    E(
        "sla", "sla_hours_lost", "SLA hours lost", "SLA 损失工时",
        "Hours beyond the limit of each target step done late. A step done too early or "
        "never done is a breach but loses no hours here (a skipped step is a deviation).",
        "逾期完成的目标环节超出时限的小时数。过早完成或从未完成的环节算违约，但在此不计损失工时"
        "（跳过的环节是偏差）。",
    ),
    # ------------------------------------------------------------------ KPIs
    E(
        "kpi", "cycle_hours", "cycle time p50 / p90 / mean", "周期 p50 / p90 / 均值",
        "From a ticket's first event to its close; open tickets count as 'at least this "
        "long' (Kaplan-Meier estimate). p50: half of the tickets are closed within it; "
        "p90: nine in ten. cycle_business_hours: the same in business hours.",
        "从工单第一条记录到结单的时间；未结工单按“至少这么久”"
        "计入（Kaplan-Meier 估计）。p50：一半工单"
        "在此时间内结单；p90：九成工单。cycle_business_hours：按工作小时计的同一指标。",
    ),
    E(
        "kpi", "first_contact_resolution", "first-contact resolution (FCR)", "首次解决率 (FCR)",
        "Among closed tickets, the share resolved without a handoff, without rework and "
        "without the customer opening another ticket within 7 days.",
        "已结工单中，没有交接、没有返工、且客户 7 天内未再开工单的占比。",
    ),
    E(
        "kpi", "repeat_contact_rate", "repeat-contact rate", "重复来电率",
        "The share of tickets whose customer opened another ticket within 7 days.",
        "客户在 7 天内又开了一张工单的工单占比。",
    ),
    E(
        "kpi", "reopen_rate", "reopen rate", "重开率",
        "The share of tickets with at least one reopen cycle.",
        "至少重新打开过一次的工单占比。",
    ),
    E(
        "kpi", "rework_rate", "rework rate", "返工率",
        "The share of tickets with any rework (any of the rework kinds).",
        "有任意返工（任一返工类型）的工单占比。",
    ),
    E(
        "kpi", "handoff_share", "handoff share", "交接等待占比",
        "Handoff waiting hours / the tickets' hours from first to last event.",
        "交接等待工时 / 工单从第一条到最后一条记录的总时长。",
    ),
    E(
        "kpi", "waiting_share", "waiting share", "等待客户占比",
        "Time in waiting states (waiting on the customer or a third party) / cycle time.",
        "处于等待状态（等待客户或第三方）的时间 / 周期。",
    ),
    E(
        "kpi", "step_over_threshold_share", "steps over a threshold / benchmark",
        "超阈值 / 超基准占比",
        "For a step with a benchmark (e.g. remote troubleshooting > 4 h, benchmark 1 h): "
        "the share of its executions longer than the threshold / than the benchmark.",
        "对设了基准的环节（如远程排障 > 4 小时，基准 1 小时）：其执行中超过阈值 / 超过基准的占比。",
    ),
    E(
        "kpi", "open_at_cutoff", "open at cutoff", "截止时未结",
        "Tickets not closed when the export was taken (or reopened since their last close).",
        "导出时尚未结单（或上次结单后又被重新打开）的工单。",
    ),
    # ------------------------------------------------------------------ chart lines
    E(
        "chart", "kpi_dashed_line", "KPI charts: dotted and dashed lines", "KPI 图：点线与虚线",
        "Grey dotted line: the KPI over the whole log (all months together), to compare "
        "each month with; counts (tickets opened, closed) have none. Red dashed line: the "
        "target, from the SOP's targets or SLA targets, labelled with its value. With one "
        "month the KPIs are bars.",
        "灰色点线：整个日志（所有月份合计）的该 KPI 值，用于与各月比较；计数类指标"
        "（开单数、结单数）没有这条线。红色虚线：目标值（来自 SOP 的目标或 SLA 目标），"
        "标注其数值。只有一个月时以柱形显示。",
    ),
    E(
        "chart", "sop_dashed_paths", "SOP map: dashed lines and boxes", "SOP 图：虚线与虚线框",
        "Grey dashed arrows: paths the SOP allows that no ticket took. Red dashed boxes: "
        "steps that are not in the SOP. Red arrows: flows the SOP does not allow.",
        "灰色虚线箭头：SOP 允许但没有工单走过的路径。红色"
        "虚线框：SOP 中没有的环节。红色箭头：SOP 不允许"
        "的流转。",
    ),
)  # fmt: skip
del E


def glossary(lang: str = "en") -> pd.DataFrame:
    """The glossary as a table: ``group``, ``key``, ``term`` and ``meaning`` in ``lang``."""
    return pd.DataFrame(
        {
            "group": [tr(lang, en=GROUPS[e.group][0], zh=GROUPS[e.group][1]) for e in ENTRIES],
            "key": [e.key for e in ENTRIES],
            "term": [e.term(lang) for e in ENTRIES],
            "meaning": [e.meaning(lang) for e in ENTRIES],
        }
    )


def _h(td: Any) -> float:
    """Hours of a duration (a Timedelta or a number of hours)."""
    return td.total_seconds() / 3600 if hasattr(td, "total_seconds") else float(td)


def _step_label(sop: Any, step_id: str) -> str:
    """The SOP step's activity label as the data writes it (its id when unknown)."""
    try:
        return str(sop.step(step_id).label)
    except (AttributeError, KeyError, IndexError):
        return str(step_id)


def _sla_rules(lang: str, sop: Any) -> str:
    """The SOP's SLAs as a small table (id, from → to, limit, hours), or ''."""
    slas = getattr(sop, "slas", None) or ()
    if not slas:
        return ""
    rows = []
    for s in slas:
        prio = getattr(s, "by_priority", None) or {}
        limit = ", ".join(f"{p} ≤ {_h(h):g} h" for p, h in prio.items())
        upper = s.upper_hours()
        lower = getattr(s, "lower_hours", 0.0) or 0.0
        span = f"{lower:g}–{upper:g} h" if lower else f"≤ {upper:g} h"
        if limit and upper == upper:  # a limit for the tickets without a listed priority
            limit = f"{limit}; {tr(lang, en='otherwise', zh='其他')} {span}"
        limit = limit or span
        basis = (
            tr(lang, en="business", zh="工作小时")
            if getattr(s, "hours", "business") == "business"
            else tr(lang, en="elapsed", zh="自然小时")
        )
        start = (
            tr(lang, en="registered", zh="工单创建")
            if s.from_step == CASE_START
            else _step_label(sop, s.from_step)
        )
        name = getattr(s, "name", "") or s.id
        sla = name if name == s.id else f"{name} ({s.id})"  # the tables' sla column: the id
        cells = (sla, f"{start} → {_step_label(sop, s.to)}", limit, basis)
        rows.append("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in cells) + "</tr>")
    head = "".join(
        f"<th>{html.escape(h)}</th>"
        for h in (
            tr(lang, en="SLA", zh="SLA"),
            tr(lang, en="from → to", zh="起 → 止"),
            tr(lang, en="limit", zh="时限"),
            tr(lang, en="hours", zh="计时方式"),
        )
    )
    return (
        f"<p>{html.escape(tr(lang, en='The SLAs of this SOP:', zh='本 SOP 的 SLA：'))}</p>"
        f'<div class="tbl"><table><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}'
        "</tbody></table></div>"
    )


def glossary_html(lang: str = "en", sop: Any = None, *, business_hours: bool = False) -> str:
    """The glossary as the report's section body: one definition list per group.

    ``sop`` adds its SLA rules under the SLA group; ``business_hours`` says which hours
    this report's figures are in.
    """
    basis = (
        tr(
            lang,
            en="Hours in this report are business hours of the SOP's calendar.",
            zh="本报告中的小时均为 SOP 工作日历的工作小时。",
        )
        if business_hours
        else tr(
            lang,
            en="Hours in this report are elapsed (calendar) hours.",
            zh="本报告中的小时均为自然小时。",
        )
    )
    parts = [f'<p class="note">{html.escape(basis)}</p>']
    for group, (en, zh) in GROUPS.items():
        items = "".join(
            f"<dt><b>{html.escape(e.term(lang))}</b></dt><dd>{html.escape(e.meaning(lang))}</dd>"
            for e in ENTRIES
            if e.group == group
        )
        parts.append(f"<h3>{html.escape(tr(lang, en=en, zh=zh))}</h3><dl>{items}</dl>")
        if group == "sla" and sop is not None:
            parts.append(_sla_rules(lang, sop))
    return "".join(parts)


def glossary_section(ctx: Any) -> str:
    """The report section (a builder of :mod:`svcmining._reportsections`): the glossary
    in the report's language (``ctx.lang``), with the SOP's SLAs (``ctx.sop``)."""
    return glossary_html(
        getattr(ctx, "lang", "en"),
        getattr(ctx, "sop", None),
        business_hours=getattr(ctx, "calendar", None) is not None,
    )
