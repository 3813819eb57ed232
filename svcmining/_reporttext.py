"""The report's words computed from the data: the one sentence that opens each section,
the month-over-month notes of the headline tiles, the pain points' "KPI it hurts" and
"first check", and the KPI table by month, in English or Chinese
(:func:`svcmining._i18n.tr`). Every function takes analysis results (duck-typed, as the
sections hold them) and the language; none runs an analysis.

>>> import pandas as pd
>>> m = pd.DataFrame({"pair": ["A → B", "B → C"], "cases": [3, 1],
...                   "delay_total_hours": [30.0, 10.0]})
>>> handoffs_sentence(m, "en")
'A → B is the costliest handoff: 3 tickets, 30 h of delay, 75.0% of all handoff delay.'
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from ._i18n import tr
from ._reportcolumns import KPI_LABELS, Kind, format_value, kpi_label, value_label

__all__ = [
    "conformance_sentence",
    "full_months",
    "handoffs_sentence",
    "kpi_month_table",
    "kpis_sentence",
    "month_change",
    "pain_point_advice",
    "pain_points_sentence",
    "process_map_sentence",
    "quality_sentence",
    "rework_sentence",
    "sla_month_change",
    "variants_sentence",
]


def _pct(v: float) -> str:
    return format_value(v, "percent")


# =============================================================================
# the sentences that open the sections
# =============================================================================
def pain_points_sentence(table: pd.DataFrame, lang: str) -> str:
    """The costliest pain point: what, how many tickets, hours lost, share of all lost."""
    if not len(table):
        return tr(lang, en="No pain points found.", zh="未发现痛点。")
    top = table.iloc[0]
    total = float(table["hours_lost"].sum())
    share = float(top["hours_lost"]) / total if total > 0 else float("nan")
    return tr(
        lang,
        en="The costliest pain point is {pp} ({kind}): {n:,} tickets, {h:,.0f} h lost, "
        "{share} of the hours lost over all {k:,} pain points.",
        zh="损失最大的痛点是 {pp}（{kind}）：{n:,} 张工单，损失 {h:,.0f} 小时，"
        "占全部 {k:,} 个痛点损失工时的 {share}。",
        pp=value_label(str(top["pain_point"]), lang),
        kind=value_label(str(top["kind"]), lang),
        n=int(top["cases"]),
        h=float(top["hours_lost"]),
        share=_pct(share),
        k=len(table),
    )


def process_map_sentence(edges: pd.DataFrame, n_cases: int, n_activities: int, lang: str) -> str:
    """How many tickets and activities, and the slowest transition used by ≥ 1% of tickets."""
    common = edges[edges["cases"] >= max(1, int(0.01 * n_cases))]
    common = common.dropna(subset=["wait_p50_hours"])
    if not len(common):
        return tr(
            lang,
            en="{n:,} tickets over {a:,} activities.",
            zh="{n:,} 张工单，涉及 {a:,} 个活动。",
            n=n_cases,
            a=n_activities,
        )
    slow = common.sort_values(["wait_p50_hours", "cases"], ascending=False, kind="stable").iloc[0]
    return tr(
        lang,
        en="{n:,} tickets pass through {a:,} activities; the slowest common transition is "
        "{s} → {t}: a median wait of {w:,.1f} h over {c:,} tickets.",
        zh="{n:,} 张工单经过 {a:,} 个活动；最慢的常见流转是 {s} → {t}："
        "{c:,} 张工单，等待中位数 {w:,.1f} 小时。",
        n=n_cases,
        a=n_activities,
        s=slow["source"],
        t=slow["target"],
        w=float(slow["wait_p50_hours"]),
        c=int(slow["cases"]),
    )


def variants_sentence(v: pd.DataFrame, top: int, lang: str) -> str:
    """How many paths; the share of the most frequent one and of the ``top`` most frequent."""
    if not len(v):
        return tr(lang, en="No variants.", zh="没有变体。")
    k = min(top, len(v))
    return tr(
        lang,
        en="{n:,} distinct paths; the most frequent is taken by {first} of tickets, "
        "the {k} most frequent by {cover}.",
        zh="共 {n:,} 条不同路径；最常见的一条占工单的 {first}，前 {k} 条合计占 {cover}。",
        n=len(v),
        first=_pct(float(v["share"].iloc[0])),
        k=k,
        cover=_pct(float(v["share"].head(k).sum())),
    )


def rework_sentence(summary: Any, by_activity: pd.DataFrame, lang: str) -> str:
    """Tickets with rework, hours lost, and the activity with the most rework hours."""
    n = int(summary.get("cases", 0))
    n_rw = int(summary.get("cases_with_rework", 0))
    hours = float(summary.get("hours_lost", summary.get("rework_hours", 0.0)))
    text = tr(
        lang,
        en="{r:,} of {n:,} tickets ({p}) went through rework, losing {h:,.0f} h",
        zh="{n:,} 张工单中有 {r:,} 张（{p}）发生返工，损失 {h:,.0f} 小时",
        r=n_rw,
        n=n,
        p=_pct(n_rw / n if n else float("nan")),
        h=hours,
    )
    if len(by_activity) and "rework_hours" in by_activity.columns and hours > 0:
        top = by_activity.sort_values("rework_hours", ascending=False, kind="stable").iloc[0]
        text += tr(
            lang,
            en="; the most at {a} ({h:,.0f} h)",
            zh="；最多的是 {a}（{h:,.0f} 小时）",
            a=top["activity"],
            h=float(top["rework_hours"]),
        )
    return text + tr(lang, en=".", zh="。")


def handoffs_sentence(matrix: pd.DataFrame, lang: str) -> str:
    """The department pair that loses most hours (``hours_lost``; the handoff waiting
    hours ``delay_total_hours`` when the result has no hours lost): tickets, hours, share."""
    lost = "hours_lost" in matrix.columns
    col = "hours_lost" if lost else "delay_total_hours"
    if not len(matrix) or float(matrix[col].sum()) <= 0:
        return tr(lang, en="No handoff delay.", zh="没有交接延误。")
    total = float(matrix[col].sum())
    top = matrix.sort_values(col, ascending=False, kind="stable").iloc[0]
    pair = top["pair"] if "pair" in matrix.columns else f"{top['from_group']} → {top['to_group']}"
    fields = {
        "pair": pair,
        "n": int(top["cases"]),
        "h": float(top[col]),
        "share": _pct(float(top[col]) / total),
    }
    if lost:
        return tr(
            lang,
            en="{pair} is the costliest handoff: {n:,} tickets, {h:,.0f} h lost, "
            "{share} of all hours lost at handoffs.",
            zh="{pair} 是代价最高的交接：{n:,} 张工单，损失 {h:,.0f} 小时，"
            "占全部交接损失工时的 {share}。",
            **fields,
        )
    return tr(
        lang,
        en="{pair} is the costliest handoff: {n:,} tickets, {h:,.0f} h of delay, "
        "{share} of all handoff delay.",
        zh="{pair} 是代价最高的交接：{n:,} 张工单，延误 {h:,.0f} 小时，占全部交接延误的 {share}。",
        **fields,
    )


def conformance_sentence(
    conforming: float, by_type: pd.DataFrame, sla: pd.DataFrame, lang: str
) -> str:
    """Share of tickets that follow the SOP, the most common deviation, the weakest SLA."""
    text = tr(
        lang,
        en="{p} of tickets follow the SOP",
        zh="{p} 的工单符合 SOP",
        p=_pct(conforming),
    )
    if len(by_type):
        top = by_type.sort_values("tickets", ascending=False, kind="stable").iloc[0]
        text += tr(
            lang,
            en="; the most common deviation is {t} ({n:,} tickets)",
            zh="；最常见的偏差是{t}（{n:,} 张工单）",
            t=value_label(str(top["type"]), lang),
            n=int(top["tickets"]),
        )
    overall = sla[sla["priority"].astype(str) == "all"] if "priority" in sla.columns else sla
    if len(overall) and "attainment" in overall.columns:
        low = overall.sort_values("attainment", kind="stable").iloc[0]
        text += tr(
            lang,
            en="; the weakest SLA is {s}, met by {p}",
            zh="；达标率最低的 SLA 是 {s}，为 {p}",
            s=low["sla"],
            p=_pct(float(low["attainment"])),
        )
    return text + tr(lang, en=".", zh="。")


def quality_sentence(load: Any, checks: pd.DataFrame, lang: str) -> str:
    """Rows read, kept and dropped, and how many data-quality checks warn."""
    warn = int((checks["severity"] == "warning").sum()) if "severity" in checks else 0
    text = ""
    if load is not None:
        text = tr(
            lang,
            en="{r:,} rows read, {k:,} events kept, {d:,} rows dropped; ",
            zh="读取 {r:,} 行，保留 {k:,} 个事件，舍弃 {d:,} 行；",
            r=int(load.rows_read),
            k=int(load.rows_kept),
            d=int(load.rows_dropped),
        )
    return text + tr(
        lang,
        en="{w:,} of {c:,} data-quality checks raised a warning.",
        zh="{c:,} 项数据质量检查中有 {w:,} 项发出警告。",
        w=warn,
        c=len(checks),
    )


# =============================================================================
# month over month
# =============================================================================
def full_months(timestamps: pd.Series) -> list[str]:
    """The months (``"YYYY-MM"``) the log covers from their first to their last day."""
    ts = timestamps.dropna()
    if not len(ts):
        return []
    first, last = ts.min(), ts.max()
    months = pd.period_range(first.tz_localize(None), last.tz_localize(None), freq="M")
    return [
        str(m)
        for m in months
        if first.date() <= m.start_time.date() and last.date() >= m.end_time.date()
    ]


def _kpi_by_period(kpis: Any) -> pd.DataFrame:
    """KPI values with no detail (one per KPI and period): kpi × period."""
    frame = kpis.to_frame()
    detail = frame["detail"].fillna("").astype(str) if "detail" in frame else ""
    top = frame[detail == ""]
    return top.pivot_table(index="kpi", columns="period", values="value", aggfunc="first")


def month_change(kpis: Any, kpi: str, months: Sequence[str], lang: str) -> str:
    """``"2024-12: 39.2% (−4.6 pp vs 2024-11)"``: the KPI in the last full month and its
    change from the month before ("" when there are not two full months or no values)."""
    if len(months) < 2 or kpis is None:
        return ""
    try:
        wide = _kpi_by_period(kpis)
        prev, last = (float(wide.loc[kpi, m]) for m in months[-2:])
    except (KeyError, ValueError, TypeError, AttributeError):
        return ""
    kind: Kind = KPI_LABELS[kpi].kind if kpi in KPI_LABELS else "number"
    return _change_text(prev, last, kind, months, lang)


def sla_month_change(
    slas: pd.DataFrame, events: pd.DataFrame, months: Sequence[str], lang: str
) -> str:
    """The month-over-month note of the overall SLA attainment: met / (met + breached) over
    all SLAs of the tickets opened in each month (the KPI table's per-SLA convention)."""
    if len(months) < 2 or not len(slas) or not {"case_id", "status"} <= set(slas.columns):
        return ""
    opened = events.groupby("case_id", sort=False)["timestamp"].min()
    month = slas["case_id"].map(opened).dt.strftime("%Y-%m")
    met = (slas["status"] == "met").groupby(month).sum()
    decided = slas["status"].isin(["met", "breached"]).groupby(month).sum()
    rate = met / decided.where(decided > 0)
    try:
        prev, last = (float(rate.loc[m]) for m in months[-2:])
    except KeyError:
        return ""
    return _change_text(prev, last, "percent", months, lang)


def _change_text(prev: float, last: float, kind: Kind, months: Sequence[str], lang: str) -> str:
    if prev != prev or last != last:
        return ""
    if kind == "percent":
        diff = (last - prev) * 100
        change = tr(lang, en="{d:+.1f} pp", zh="{d:+.1f} 个百分点", d=diff)
    elif prev:
        change = f"{(last - prev) / abs(prev) * 100:+,.1f}%"
    else:
        change = format_value(last - prev, kind)
    change = change.replace("-", "−")
    return tr(
        lang,
        en="{m}: {v} ({c} vs {p})",
        zh="{m}：{v}（较 {p} {c}）",
        m=months[-1],
        v=format_value(last, kind),
        c=change,
        p=months[-2],
    )


def kpis_sentence(kpis: Any, months: Sequence[str], cycle_kpi: str, lang: str) -> str:
    """The last two full months compared on cycle time and the rate that moved most."""
    if len(months) < 2:
        if months:
            return tr(
                lang,
                en="One full month of data ({m}): no month-over-month change yet.",
                zh="数据只覆盖一个完整月份（{m}），尚无环比变化。",
                m=months[0],
            )
        return tr(
            lang,
            en="The data covers no full month: no month-over-month change.",
            zh="数据未覆盖任何完整月份，无环比变化。",
        )
    wide = _kpi_by_period(kpis)
    prev, last = months[-2], months[-1]
    parts = []
    if cycle_kpi in wide.index:
        parts.append(
            (cycle_kpi, float(wide.loc[cycle_kpi, prev]), float(wide.loc[cycle_kpi, last]))
        )
    rates = [k for k, c in KPI_LABELS.items() if c.kind == "percent" and k in wide.index]
    moves = [(k, float(wide.loc[k, prev]), float(wide.loc[k, last])) for k in rates]
    moves = [m for m in moves if m[1] == m[1] and m[2] == m[2]]
    if moves:
        parts.append(max(moves, key=lambda m: abs(m[2] - m[1])))
    said = tr(lang, en="; ", zh="；").join(
        f"{kpi_label(k, lang)} {format_value(a, KPI_LABELS[k].kind)} → "
        f"{format_value(b, KPI_LABELS[k].kind)}"
        for k, a, b in parts
    )
    return tr(
        lang,
        en="{p} → {m}, the last two full months: {said}.",
        zh="最近两个完整月份 {p} → {m}：{said}。",
        p=prev,
        m=last,
        said=said,
    )


def kpi_month_table(
    kpis: Any, lang: str, step_names: Mapping[str, str] | None = None
) -> pd.DataFrame:
    """The KPIs as a reader's table: one row per KPI (and detail), one column per period,
    values already written (percent, hours, count); the headline KPIs before the steps.
    ``step_names`` shows SOP step ids in the detail column by their display names."""
    frame = kpis.to_frame()
    detail = frame["detail"].fillna("").astype(str)
    if step_names:
        detail = detail.map(lambda d: step_names.get(d, d))
    frame = frame.assign(detail=detail)
    later = frame["kpi"].astype(str).str.startswith("stage_")
    frame = pd.concat([frame[~later], frame[later]], ignore_index=True)
    kinds = {k: c.kind for k, c in KPI_LABELS.items()}
    frame["text"] = [
        format_value(v, kinds.get(str(k), "number"))
        for k, v in zip(frame["kpi"], frame["value"], strict=True)
    ]
    wide = frame.pivot_table(
        index=["kpi", "detail"], columns="period", values="text", aggfunc="first", sort=False
    )
    wide.columns = [str(c) for c in wide.columns]
    wide = wide.reset_index()
    periods = [c for c in wide.columns if c not in ("kpi", "detail")]
    periods = sorted(p for p in periods if p != "all") + (["all"] if "all" in periods else [])
    wide["kpi"] = [kpi_label(k, lang) for k in wide["kpi"]]
    return wide[["kpi", "detail", *periods]].fillna("")


# =============================================================================
# pain points
# =============================================================================
_KPI_HURT = {
    "handoff": ("handoff share, cycle time", "交接等待占比、处理周期"),
    "rework": ("rework rate, cycle time", "返工率、处理周期"),
    "deviation": ("deviation rate", "偏差率"),
    "sla": ("SLA attainment", "SLA 达标率"),
    "step": ("cycle time", "处理周期"),
}
_FIRST_CHECK = {
    "handoff": (
        "How tickets reach {x}: queue, assignment rule, information missing at handover",
        "{x}：排队情况、派单规则、交接时是否缺少信息",
    ),
    "rework": (
        "Open the example tickets: why was {x} done again?",
        "打开示例工单：{x} 为什么要重做？",
    ),
    "deviation": (
        "Is {x} needed as done, or is the SOP out of date?",
        "{x} 的做法是否必要，还是 SOP 已过时？",
    ),
    "sla": (
        "Who held the late tickets of {x}, and at which priority?",
        "{x} 超时的工单由谁处理、是什么优先级？",
    ),
    "step": (
        "Compare the slow {x} tickets with the benchmark: what do they wait for?",
        "对比 {x} 的慢工单与基准：它们在等什么？",
    ),
}


def pain_point_advice(table: pd.DataFrame, lang: str) -> pd.DataFrame:
    """The pain-point table with ``kpi_hurt`` and ``first_check`` columns (by kind)."""
    hurt = [
        tr(lang, en=_KPI_HURT[k][0], zh=_KPI_HURT[k][1]) if k in _KPI_HURT else ""
        for k in table["kind"].astype(str)
    ]
    check = []
    for kind, name in zip(table["kind"].astype(str), table["pain_point"].astype(str), strict=True):
        pair = _FIRST_CHECK.get(kind)
        check.append(tr(lang, en=pair[0], zh=pair[1], x=value_label(name, lang)) if pair else "")
    return table.assign(kpi_hurt=hurt, first_check=check)
