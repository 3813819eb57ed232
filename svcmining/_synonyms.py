"""Header synonyms: how svcmining recognises the canonical columns in an export.

Headers are compared after :func:`normalise_header` (trimmed, case-folded, spaces,
underscores, hyphens and dots removed), so ``"Ticket No"``, ``"ticket_no"`` and
``"TICKET-NO"`` are the same header. An explicit ``mapping=`` always wins over this
table. When two source columns match the same canonical column, or a required
column matches none, :func:`svcmining.read_tickets` raises a ``SchemaError`` that
lists the columns found and the mapping to pass.
"""

from __future__ import annotations

import re

__all__ = ["HEADER_SYNONYMS", "XES_MAPPING", "normalise_header"]

HEADER_SYNONYMS: dict[str, tuple[str, ...]] = {
    "case_id": (
        "工单编号",
        "工单号",
        "工单id",
        "工单",
        "单号",
        "投诉编号",
        "案件编号",
        "案例编号",
        "服务单号",
        "case_id",
        "caseid",
        "case",
        "ticket id",
        "ticketid",
        "ticket no",
        "ticket number",
        "ticket",
        "number",
        "incident id",
        "incident number",
        "sr number",
        "request id",
        "case:concept:name",
    ),
    "activity": (
        "处理环节",
        "环节",
        "活动",
        "处理步骤",
        "步骤",
        "操作",
        "操作类型",
        "状态",
        "工单状态",
        "activity",
        "activity name",
        "status",
        "step",
        "action",
        "task",
        "event",
        "concept:name",
    ),
    "timestamp": (
        "处理时间",
        "操作时间",
        "时间",
        "完成时间",
        "发生时间",
        "记录时间",
        "日期时间",
        "更新时间",
        "timestamp",
        "time",
        "datetime",
        "date time",
        "event time",
        "updated",
        "updated at",
        "complete timestamp",
        "end time",
        "completed at",
        "time:timestamp",
    ),
    "start_timestamp": (
        "开始时间",
        "开始处理时间",
        "start time",
        "start timestamp",
        "started at",
        "start",
        "start_timestamp",
    ),
    "resource": (
        "处理人",
        "操作人",
        "经办人",
        "处理人员",
        "负责人",
        "员工",
        "坐席",
        "resource",
        "assigned to",
        "assignee",
        "agent",
        "user",
        "owner",
        "performer",
        "handled by",
        "org:resource",
    ),
    "department": (
        "处理部门",
        "所属部门",
        "部门",
        "处理组",
        "处理团队",
        "团队",
        "班组",
        "department",
        "dept",
        "assignment group",
        "group",
        "team",
        "org:group",
    ),
    "channel": (
        "受理渠道",
        "渠道",
        "来源渠道",
        "来源",
        "受理方式",
        "contact type",
        "channel",
        "source",
    ),
    "priority": ("优先级", "紧急程度", "紧急度", "priority", "urgency"),
    "customer_id": (
        "客户编号",
        "客户",
        "客户id",
        "客户号",
        "用户编号",
        "customer",
        "customer id",
        "client",
        "client id",
        "caller",
        "caller id",
    ),
    "lifecycle": ("生命周期", "lifecycle", "lifecycle:transition", "transition", "event type"),
    "sequence": ("序号", "顺序号", "流水号", "sequence", "seq", "seq no", "event order"),
}

# What an XES file's standard attribute keys mean in canonical terms.
XES_MAPPING: dict[str, str] = {
    "case_id": "case:concept:name",
    "activity": "concept:name",
    "timestamp": "time:timestamp",
    "start_timestamp": "start_timestamp",
    "resource": "org:resource",
    "department": "org:group",
    "lifecycle": "lifecycle:transition",
}

_STRIP = re.compile(r"[\s_\-.·\ufeff]+")


def normalise_header(name: object) -> str:
    """Header as compared against the synonym table (``" Ticket_No "`` -> ``"ticketno"``)."""
    return _STRIP.sub("", str(name)).casefold()


_LOOKUP: dict[str, str] = {}
for _canonical, _names in HEADER_SYNONYMS.items():
    for _name in _names:
        _key = normalise_header(_name)
        if _LOOKUP.setdefault(_key, _canonical) != _canonical:  # pragma: no cover - table bug
            raise RuntimeError(f"header synonym {_name!r} is listed for two columns")


def canonical_for(header: object) -> str | None:
    """The canonical column a source header stands for, or None."""
    return _LOOKUP.get(normalise_header(header))
