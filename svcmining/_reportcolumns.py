"""The report's column catalog: what every table column is called for a reader, in English
and Chinese, and how its values are written (percent, hours, count ...).

:func:`column_label` and :func:`format_value` are applied by
:func:`svcmining._reportparts.table_html`, so every table of the report shows
``Median wait (h)`` instead of ``wait_p50_hours`` and ``4.7%`` instead of ``0.047``.
A column missing from the catalog is still shown readably: its kind is guessed from
its name (``*_hours`` → hours, ``share*`` / ``*_rate`` → percent, ``n_*`` → count) and
its underscores become spaces.

>>> column_label("wait_p50_hours", "en"), column_label("wait_p50_hours", "zh")
('Median wait (h)', '等待中位数 (小时)')
>>> format_value(0.0471, "percent"), format_value(12876.7, "hours"), format_value(1234, "count")
('4.7%', '12,876.7', '1,234')
"""

from __future__ import annotations

import math
from typing import Any, Literal, NamedTuple

from ._chartwords import REWORK_KIND_NAMES
from ._i18n import tr

__all__ = [
    "COLUMNS",
    "KPI_LABELS",
    "VALUE_LABELS",
    "Column",
    "Kind",
    "column_kind",
    "column_label",
    "format_value",
    "kpi_label",
    "value_label",
]

Kind = Literal["percent", "hours", "count", "number", "text", "id"]


class Column(NamedTuple):
    """A column as a reader sees it: its name in both languages and the kind of its values."""

    en: str
    zh: str
    kind: Kind


def _c(en: str, zh: str, kind: Kind = "text") -> Column:
    return Column(en, zh, kind)


#: identifier column -> how it is shown (units: hours columns get "(h)" / "(小时)").
COLUMNS: dict[str, Column] = {
    # the log
    "case_id": _c("Ticket", "工单", "id"),
    "activity": _c("Activity", "活动"),
    "timestamp": _c("Time", "时间"),
    "department": _c("Department", "部门"),
    "priority": _c("Priority", "优先级"),
    "channel": _c("Channel", "渠道"),
    "resource": _c("Handler", "处理人"),
    "source": _c("From", "从"),
    "target": _c("To", "到"),
    "from_group": _c("From", "从"),
    "to_group": _c("To", "到"),
    "pair": _c("Handoff", "交接"),
    "sequence": _c("Path", "路径"),
    "label": _c("Label", "标签"),
    "step": _c("SOP step", "SOP 步骤"),
    "step_id": _c("Step id (SOP)", "步骤编号 (SOP)"),
    "at": _c("When", "时间"),
    "detail": _c("Detail", "明细"),
    "kpi": _c("KPI", "指标"),
    "all": _c("All", "全部", "number"),
    # counts
    "count": _c("Times", "次数", "count"),
    "cases": _c("Tickets", "工单数", "count"),
    "tickets": _c("Tickets", "工单数", "count"),
    "events": _c("Events", "事件数", "count"),
    "rows": _c("Rows", "行数", "count"),
    "rows_read": _c("Rows read", "读取行数", "count"),
    "occurrences": _c("Occurrences", "发生次数", "count"),
    "deviations": _c("Deviations", "偏差数", "count"),
    "pending": _c("Still waiting", "仍在等待", "count"),
    "ping_pong": _c("Ping-pong", "来回推诿", "count"),
    "length": _c("Steps", "步数", "count"),
    "rank": _c("Rank", "排名", "count"),
    "variant_id": _c("Variant", "变体", "id"),
    "n_events": _c("Events", "事件数", "count"),
    "n_cases": _c("Tickets", "工单数", "count"),
    "n_cases_repeated": _c("Tickets doing it twice or more", "重复执行的工单", "count"),
    "n_rework": _c("Rework occurrences", "返工次数", "count"),
    "n_rework_cases": _c("Tickets with rework", "有返工的工单", "count"),
    "n_reopen": _c("Reopen", "重新打开", "count"),
    "n_self_loop": _c("Self-loop", "原地重复", "count"),
    "n_ping_pong": _c("Ping-pong", "来回推诿", "count"),
    "n_back_loop": _c("Back loop", "回退", "count"),
    "n_redo": _c("Redo", "换人重做", "count"),
    "n_repeat": _c("Repeat", "同人重复", "count"),
    "n_handoffs": _c("Handoffs", "交接次数", "count"),
    "cases_with_step": _c("Tickets at this step", "经过此步骤的工单", "count"),
    "cases_with_deviation": _c("Tickets with a deviation", "有偏差的工单", "count"),
    "skipped_step": _c("Skipped step", "跳过环节", "count"),
    "inserted_step": _c("Extra branch", "多做分支", "count"),
    "out_of_order": _c("Out of order", "顺序错误", "count"),
    "wrong_department": _c("Wrong department", "部门错误", "count"),
    "sla_breach": _c("SLA breach", "SLA 违约", "count"),
    "repeated_step": _c("Repeated step", "重复环节", "count"),
    "met": _c("Met", "达标", "count"),
    "breached": _c("Breached", "超时", "count"),
    "censored": _c("Still open", "尚未结束", "count"),
    "equal": _c("Equal", "一致", "count"),
    "below": _c("Counted fewer", "统计较少", "count"),
    "above": _c("Counted more", "统计较多", "count"),
    "unparseable": _c("Unreadable", "无法解析", "count"),
    "dropped_line": _c("Line", "行号", "id"),
    # hours
    "wait_p50_hours": _c("Median wait", "等待中位数", "hours"),
    "wait_p90_hours": _c("90th-percentile wait", "等待 P90", "hours"),
    "wait_mean_hours": _c("Mean wait", "平均等待", "hours"),
    "wait_max_hours": _c("Longest wait", "最长等待", "hours"),
    "median_case_duration_hours": _c("Median ticket duration", "工单时长中位数", "hours"),
    "median_hours": _c("Median time", "时长中位数", "hours"),
    "mean_hours": _c("Mean time", "平均时长", "hours"),
    "rework_hours": _c("Hours in rework loops", "返工循环工时", "hours"),
    "delay_mean_hours": _c("Mean delay", "平均延误", "hours"),
    "delay_p50_hours": _c("Median delay", "延误中位数", "hours"),
    "delay_p90_hours": _c("90th-percentile delay", "延误 P90", "hours"),
    "delay_total_hours": _c("Handoff waiting hours", "交接等待工时", "hours"),
    "handoff_hours": _c("Handoff waiting hours", "交接等待工时", "hours"),
    "cycle_hours": _c("Cycle time", "处理周期", "hours"),
    "hours_lost": _c("Hours lost", "损失工时", "hours"),
    "hours_lost_per_case": _c("Hours lost per ticket", "每单损失工时", "hours"),
    "p50_hours": _c("Median", "中位数", "hours"),
    "p90_hours": _c("90th percentile", "P90", "hours"),
    "baseline_hours": _c("Expected", "基准", "hours"),
    # shares and rates
    "share": _c("Share of tickets", "工单占比", "percent"),
    "cumulative_share": _c("Cumulative share", "累计占比", "percent"),
    "rework_rate": _c("Rework rate", "返工率", "percent"),
    "deviation_rate": _c("Deviation rate", "偏差率", "percent"),
    "attainment": _c("Attainment", "达标率", "percent"),
    "share_of_hours": _c("Share of all handoff waiting", "占全部交接等待", "percent"),
    "share_of_lost": _c("Share of all hours lost", "占全部损失工时", "percent"),
    "share_of_ticket_hours": _c("Share of all ticket time", "占全部工单时间", "percent"),
    "handoff_share": _c("Share of time in handoffs", "交接时间占比", "percent"),
    "share_equal": _c("Equal", "一致比例", "percent"),
    "share_not_above": _c("Not counted more", "未多计比例", "percent"),
    # pain points
    "pain_point": _c("Pain point", "痛点"),
    "kind": _c("Kind", "类型"),
    "module": _c("Found by", "来源分析"),
    "kpi_hurt": _c("KPI it hurts", "影响的指标"),
    "first_check": _c("Suggested first check", "建议先查"),
    "evidence": _c("Evidence", "依据"),
    "example_cases": _c("Example tickets", "示例工单"),
    "examples": _c("Examples", "示例"),
    # conformance
    "type": _c("Type", "类型"),
    "sla": _c("SLA", "SLA"),
    "sla_name": _c("SLA name", "SLA 名称"),
    # load report and quality
    "file": _c("File", "文件"),
    "format": _c("Format", "格式"),
    "encoding": _c("Encoding", "编码"),
    "delimiter": _c("Delimiter", "分隔符"),
    "sheet": _c("Sheet", "工作表"),
    "time_formats": _c("Time formats", "时间格式"),
    "reason": _c("Reason", "原因"),
    "column": _c("Column", "列"),
    "check": _c("Check", "检查项"),
    "severity": _c("Severity", "严重程度"),
    "description": _c("Description", "说明"),
    "kept_file": _c("Kept from file", "保留自文件"),
    "dropped_file": _c("Dropped from file", "舍弃自文件"),
    "kept_value": _c("Kept value", "保留的值"),
    "dropped_value": _c("Dropped value", "舍弃的值"),
    "counter": _c("Counter", "计数器"),
    "derived_from": _c("Derived from", "推算依据"),
}

#: enumerated values written by the analyses (not data labels) -> (en, zh)
VALUE_LABELS: dict[str, tuple[str, str]] = {
    # rework kinds: the glossary's terms (one table, svcmining._chartwords)
    **REWORK_KIND_NAMES,
    # deviation types
    "unknown_activity": ("unknown activity", "未知环节"),
    "skipped_step": ("skipped step", "跳过环节"),
    "out_of_order": ("out of order", "顺序错误"),
    "inserted_step": ("extra branch", "多做分支"),
    "repeated_step": ("repeated step", "重复环节"),
    "wrong_department": ("wrong department", "部门错误"),
    "sla_breach": ("SLA breach", "SLA 违约"),
    "not_fitting": ("not fitting", "不符合（未分型）"),
    # pain-point kinds and the analyses that found them
    "handoff": ("handoff", "交接"),
    "rework": ("rework", "返工"),
    "deviation": ("SOP deviation", "SOP 偏差"),
    "sla": ("SLA", "SLA"),
    "step": ("slow step", "慢步骤"),
    "handoffs": ("handoffs", "交接分析"),
    "conformance": ("SOP check", "SOP 检查"),
    "kpis": ("KPIs", "指标"),
    # the total row of a per-priority table
    "all": ("all", "全部"),
    # severities
    "warning": ("warning", "警告"),
    "info": ("info", "提示"),
    "ok": ("ok", "正常"),
}

#: service KPIs (svcmining.service_kpis) -> (en, zh, kind)
KPI_LABELS: dict[str, Column] = {
    "cases_opened": _c("Tickets opened", "新建工单", "count"),
    "cases_closed": _c("Tickets closed", "结单工单", "count"),
    "open_at_cutoff": _c("Open at the end of the data", "数据截止时未结", "count"),
    "cycle_hours_p50": _c("Median cycle time (h)", "处理周期中位数 (小时)", "hours"),
    "cycle_hours_p90": _c("90th-percentile cycle time (h)", "处理周期 P90 (小时)", "hours"),
    "cycle_hours_mean": _c("Mean cycle time (h)", "平均处理周期 (小时)", "hours"),
    "cycle_business_hours_p50": _c(
        "Median cycle time (business h)", "处理周期中位数 (工作小时)", "hours"
    ),
    "cycle_business_hours_p90": _c(
        "90th-percentile cycle time (business h)", "处理周期 P90 (工作小时)", "hours"
    ),
    "cycle_business_hours_mean": _c(
        "Mean cycle time (business h)", "平均处理周期 (工作小时)", "hours"
    ),
    "stage_hours_p50": _c("Median time in step (h)", "步骤时长中位数 (小时)", "hours"),
    "stage_hours_mean": _c("Mean time in step (h)", "步骤平均时长 (小时)", "hours"),
    "first_contact_resolution": _c("First-contact resolution", "首次解决率", "percent"),
    "repeat_contact_rate": _c("Repeat-contact rate", "重复来电率", "percent"),
    "reopen_rate": _c("Reopen rate", "重开率", "percent"),
    "rework_rate": _c("Tickets with rework", "返工工单占比", "percent"),
    "waiting_share": _c("Share of time waiting (on hold)", "挂起等待时间占比", "percent"),
    "handoff_share": _c("Share of time waiting on handoffs", "交接等待时间占比", "percent"),
    "deviation_rate": _c("Tickets deviating from the SOP", "偏离 SOP 的工单占比", "percent"),
    "sla_attainment": _c("SLA attainment", "SLA 达标率", "percent"),
    "step_over_threshold_share": _c("Step over its limit", "步骤超出上限的占比", "percent"),
    "step_over_benchmark_share": _c(
        "Step over its best-in-class benchmark", "步骤超出标杆的占比", "percent"
    ),
}


def _guess(col: str) -> Kind:
    if col.endswith("_hours") or col.endswith("_h"):
        return "hours"
    if col.startswith("share") or col.endswith(("_rate", "_share", "_pct")):
        return "percent"
    if col.startswith("n_"):
        return "count"
    return "number"


def column_kind(col: Any) -> Kind:
    """How the values of ``col`` are written (catalog, else guessed from the name)."""
    spec = COLUMNS.get(str(col))
    return spec.kind if spec is not None else _guess(str(col))


def column_label(col: Any, lang: str) -> str:
    """The header of ``col`` for a reader, with its unit (hours: "(h)" / "(小时)")."""
    name = str(col)
    spec = COLUMNS.get(name)
    if spec is None:
        words = name.removeprefix("n_").removesuffix("_hours").replace("_", " ").strip()
        label = words[:1].upper() + words[1:] if words else name
        kind = _guess(name)
    else:
        label, kind = tr(lang, en=spec.en, zh=spec.zh), spec.kind
    if kind == "hours":
        label += tr(lang, en=" (h)", zh=" (小时)")
    return label


def value_label(value: Any, lang: str) -> Any:
    """An enumerated value of the analyses (``ping_pong``, ``skipped_step`` ...) in words;
    ``"repeated_step: accept"`` keeps its data part; anything else unchanged."""
    if not isinstance(value, str):
        return value
    head, sep, rest = value.partition(": ")
    pair = VALUE_LABELS.get(head)
    if pair is None:
        return value
    return tr(lang, en=pair[0], zh=pair[1]) + sep + rest


def kpi_label(kpi: Any, lang: str) -> str:
    """A service KPI's name for a reader."""
    spec = KPI_LABELS.get(str(kpi))
    if spec is None:
        return str(kpi).replace("_", " ")
    return tr(lang, en=spec.en, zh=spec.zh)


def format_value(v: Any, kind: Kind) -> str:
    """``v`` written as ``kind``: ``4.7%``, ``12,876.7`` (hours), ``1,234`` (count)."""
    if v is None or isinstance(v, str | bool):
        return "" if v is None else str(v)
    try:
        f = float(v)
    except (TypeError, ValueError):
        return str(v)
    if math.isnan(f):
        return ""
    if kind == "percent":
        return f"{f * 100:.1f}%"
    if kind == "hours":
        return f"{f:,.1f}"
    if kind == "count":
        return f"{f:,.0f}"
    if kind == "id":
        return f"{f:.0f}" if f == int(f) else str(v)
    if abs(f) >= 1000 or f == int(f):
        return f"{f:,.0f}"
    return f"{f:,.3f}".rstrip("0").rstrip(".")
