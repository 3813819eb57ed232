"""Header synonyms: how svcmining recognises the canonical columns in an export.

Headers are compared after :func:`normalise_header` (trimmed, case-folded, spaces,
underscores, hyphens and dots removed), so ``"Ticket No"``, ``"ticket_no"`` and
``"TICKET-NO"`` are the same header. The tables know the headers of ServiceNow
(``number``, ``incident_state``, ``sys_updated_at``, ``assignment_group``,
``assigned_to``, ``caller_id``, ``contact_type``, ``priority``), Jira (``Issue key``,
``Status``, ``Updated``, ``Assignee``, ``Component/s``, ``Team``, ``Priority``,
``Reporter``), Zendesk (``Ticket ID``, ``Status``, ``Updated at``, ``Assignee``,
``Group``, ``Priority``, ``Requester``, ``Via``), Freshdesk (``Ticket ID``, ``Status``,
``Last updated time``, ``Agent``, ``Group``, ``Priority``, ``Source``, ``Contact ID``)
and Chinese help-desk exports.

How a header is matched, best first (:func:`match_header`):

1. the canonical name itself (``priority``, ``channel``, ``case_id`` ...);
2. a name of :data:`HEADER_SYNONYMS` (earlier in its list ranks higher);
3. a name of :data:`FALLBACK_SYNONYMS`, used only when no better header is there
   (Jira's ``Created`` when ``Updated`` is missing, ServiceNow's ``state`` when
   ``incident_state`` is missing, ``urgency`` when there is no ``priority``).

An explicit ``mapping=`` always wins over these tables. When several source columns
match a *required* column equally well, or a required column matches none,
:func:`svcmining.read_tickets` raises a ``SchemaError`` that lists the columns found and
the mapping to pass; for an *optional* column it takes the best match and says so in
the load report, which lists every column it mapped by itself.
"""

from __future__ import annotations

import re

__all__ = [
    "FALLBACK_SYNONYMS",
    "HEADER_SYNONYMS",
    "XES_MAPPING",
    "canonical_for",
    "match_header",
    "normalise_header",
]

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
        "issue key",
        "key",
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
        "incident state",
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
        "sys updated at",
        "sys updated on",
        "last updated time",
        "last updated",
        "last update",
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
        "assigned agent",
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
        "component",
        "components",
        "component/s",
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
        "via",
        "source",
    ),
    "priority": ("优先级", "紧急程度", "紧急度", "priority"),
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
        "requester",
        "requester id",
        "reporter",
        "contact",
        "contact id",
    ),
    "lifecycle": ("生命周期", "lifecycle", "lifecycle:transition", "transition", "event type"),
    "sequence": ("序号", "顺序号", "流水号", "sequence", "seq", "seq no", "event order"),
    # ids of history rows only: a bare "sys_id" or "id" names the ticket in most exports
    "event_id": (
        "event id",
        "eventid",
        "audit id",
        "history id",
        "changelog id",
        "事件记录id",
        "操作记录id",
        "处理记录id",
        "日志id",
    ),
}

#: Lower-ranked headers: a column with one of these names is mapped only when no column
#: matches the canonical name or :data:`HEADER_SYNONYMS` (a ticket's creation time is an
#: event time only when the export has no update time).
FALLBACK_SYNONYMS: dict[str, tuple[str, ...]] = {
    "case_id": ("issue id", "id"),
    "activity": ("state", "ticket status", "issue status"),
    "timestamp": (
        "created",
        "created at",
        "created time",
        "created on",
        "sys created at",
        "sys created on",
        "opened at",
        "创建时间",
    ),
    "resource": ("sys updated by", "updated by", "responsible", "处理人账号"),
    "department": ("queue", "support group"),
    "channel": ("origin", "submission channel"),
    "priority": ("urgency", "severity", "紧急"),
    "customer_id": ("requester email", "customer email", "opened by"),
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


#: Match tiers of :func:`match_header`, best first.
EXACT, SYNONYM, FALLBACK = 0, 1, 2

# normalised header -> (canonical column, tier, position in its list)
_LOOKUP: dict[str, tuple[str, int, int]] = {}
for _tier, _table in ((SYNONYM, HEADER_SYNONYMS), (FALLBACK, FALLBACK_SYNONYMS)):
    for _canonical, _names in _table.items():
        for _pos, _name in enumerate(_names):
            _key = normalise_header(_name)
            _hit = (_canonical, _tier, _pos)
            if _LOOKUP.setdefault(_key, _hit)[0] != _canonical:  # pragma: no cover - table bug
                raise RuntimeError(f"header synonym {_name!r} is listed for two columns")
for _canonical in HEADER_SYNONYMS:
    _LOOKUP[normalise_header(_canonical)] = (_canonical, EXACT, 0)


def match_header(header: object) -> tuple[str, int, int] | None:
    """``(canonical column, tier, rank in its list)`` a source header stands for, or None.

    The tier is :data:`EXACT` (the canonical name), :data:`SYNONYM` or :data:`FALLBACK`.

    Examples
    --------
    >>> match_header("priority"), match_header("Urgency"), match_header("sys_updated_at")
    (('priority', 0, 0), ('priority', 2, 0), ('timestamp', 1, 15))
    """
    return _LOOKUP.get(normalise_header(header))


def canonical_for(header: object) -> str | None:
    """The canonical column a source header stands for, or None."""
    hit = _LOOKUP.get(normalise_header(header))
    return hit[0] if hit else None
