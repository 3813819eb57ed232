"""The words the charts write, in English and Chinese (:func:`svcmining._i18n.tr`).

The display names of the rework kinds (the glossary's terms, one table), the charts' names
for the usual grouping columns, and the process map's legend, colour-bar label and title.
Data labels (activities, departments) are not words of the charts: they stay as written.
"""

from __future__ import annotations

from ._i18n import tr

__all__ = [
    "GROUP_NAMES",
    "REWORK_KIND_NAMES",
    "group_name",
    "map_words",
    "rework_kind_name",
    "tickets_word",
]

#: Display names (English, Chinese) of the rework kinds of :func:`svcmining.find_rework`,
#: as the glossary and the charts write them.
REWORK_KIND_NAMES: dict[str, tuple[str, str]] = {
    "reopen": ("reopen", "重新打开"),
    "self_loop": ("self-loop", "原地重复"),
    "ping_pong": ("ping-pong", "来回推诿"),
    "back_loop": ("back loop", "回退"),
    "redo": ("redo", "换人重做"),
    "repeat": ("repeat", "同人重复"),
}

#: The charts' words (English, Chinese) for the usual grouping columns.
GROUP_NAMES: dict[str, tuple[str, str]] = {
    "department": ("department", "部门"),
    "team": ("team", "团队"),
    "resource": ("resource", "处理人"),
    "group": ("group", "组"),
    "channel": ("channel", "渠道"),
    "priority": ("priority", "优先级"),
}


def rework_kind_name(lang: str, kind: str) -> str:
    """The display name of a rework kind in ``lang`` (an unknown kind as it is)."""
    en, zh = REWORK_KIND_NAMES.get(kind, (kind, kind))
    return tr(lang, en=en, zh=zh)


def group_name(lang: str, column: str) -> str:
    """A grouping column's name in ``lang`` (an unknown column as it is)."""
    en, zh = GROUP_NAMES.get(column, (column, column))
    return tr(lang, en=en, zh=zh)


def tickets_word(n: int, lang: str) -> str:
    """``n`` tickets in ``lang``: "1 ticket", "1,200 tickets", "1,200 张工单"."""
    return tr(lang, en="{n:,} ticket" if n == 1 else "{n:,} tickets", zh="{n:,} 张工单", n=n)


def map_words(metric: str, business: bool, min_share: float, lang: str) -> tuple[str, str, str]:
    """The map's legend, colour-bar label and default title in ``lang``."""
    hidden = (
        tr(
            lang,
            en="; edges and steps below {s:.0%} of tickets hidden",
            zh="；低于 {s:.0%} 工单的连线和环节已隐藏",
            s=min_share,
        )
        if min_share > 0
        else ""
    )
    boxes = (
        tr(lang, en="tickets", zh="工单数")
        if metric == "cases"
        else tr(lang, en="events", zh="事件数")
    )
    tail = tr(
        lang,
        en=". Width and colour grow with the value. Boxes: step, owner, {b}.",
        zh="。线宽和颜色随数值增大。方框：环节、负责部门、{b}。",
        b=boxes,
    )
    if metric == "count":
        what = tr(
            lang,
            en="Edge label: times one step directly follows another (events)",
            zh="连线标注：一个环节紧接另一个环节的次数（事件）",
        )
        bar = tr(lang, en="directly-follows count", zh="直接跟随次数")
        title = tr(lang, en="Process map — frequency", zh="流程图 — 频次")
    elif metric == "cases":
        what = tr(
            lang,
            en="Edge label: tickets with this transition (share of all tickets)",
            zh="连线标注：经过此流转的工单数（占全部工单的比例）",
        )
        bar = tr(lang, en="tickets", zh="工单数")
        title = tr(lang, en="Process map — tickets", zh="流程图 — 工单数")
    else:
        p50 = metric == "wait_p50"
        q = (
            tr(lang, en="median (p50)", zh="中位数 (p50)")
            if p50
            else tr(lang, en="90th percentile (p90)", zh="第 90 百分位 (p90)")
        )
        unit = (
            tr(lang, en="business hours", zh="工作小时")
            if business
            else tr(lang, en="elapsed time", zh="自然时间")
        )
        what = tr(
            lang,
            en="Edge label: {q} waiting time between the two steps, {unit}",
            zh="连线标注：两个环节之间等待时间的{q}，{unit}",
            q=q,
            unit=unit,
        )
        bar = tr(lang, en="waiting time {p}, hours", zh="等待时间 {p}，小时", p=metric[-3:])
        title = (
            tr(lang, en="Process map — median waiting time", zh="流程图 — 等待时间中位数")
            if p50
            else tr(lang, en="Process map — p90 waiting time", zh="流程图 — p90 等待时间")
        )
    return what + hidden + tail, bar, title
