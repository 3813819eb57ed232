"""The sections of the report (:mod:`svcmining.report`): one builder per section
that runs its analysis on the shared context and returns the section's HTML, and
the headline figures.
"""

from __future__ import annotations

import contextlib
import dataclasses
import html
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from . import conformance, rework  # looked up at call time (a test counts the calls)
from ._fonts import figure_svg
from ._glossary import glossary_section
from ._i18n import tr
from ._painpoints import evidence
from ._reportcolumns import value_label
from ._reportparts import (
    MAX_GROUPS_PLOTTED,
    dot_svg,
    escape_html,
    fmt_num,
    fmt_pct,
    frame_of,
    img_tag,
    kpi_tiles,
    picture,
    svg_with_font_stack,
    table_html,
)
from ._reporttext import (
    conformance_sentence,
    full_months,
    handoffs_sentence,
    kpi_month_table,
    kpis_sentence,
    month_change,
    pain_point_advice,
    pain_points_sentence,
    process_map_sentence,
    quality_sentence,
    rework_sentence,
    sla_month_change,
    variants_sentence,
)
from ._sopcheck import with_step_names
from .counters import check_counters
from .discovery import discover_dfg, variants
from .eventlog import TicketLog
from .plots import plot_process_map
from .quality import check_quality

if TYPE_CHECKING:
    from .calendars import Calendar
    from .sop import SOP


def _optional(module: str, name: str) -> Any:
    """``svcmining.<module>.<name>``, or None when that module is not installed yet."""
    import importlib

    try:
        mod = importlib.import_module(f".{module}", __package__)
    except ModuleNotFoundError as err:
        if err.name == f"{__package__}.{module}":
            return None
        raise
    return getattr(mod, name, None)


class NotAvailable(Exception):
    """A section's module is not part of this installation."""


class Skip(Exception):
    """A section cannot be built from this data / these options."""


# =============================================================================
# Sections
# =============================================================================
@dataclass
class Ctx:
    log: TicketLog
    events: pd.DataFrame
    sop: SOP | None
    calendar: Calendar | None
    results: dict[str, Any]
    top: int
    precision: bool
    max_seconds: float | None
    benchmarks: Sequence[Any] = ()
    ahead: dict[str, Any] = field(default_factory=dict)  # futures of results started early
    lang: str = "en"  # the language the report is written in (svcmining._i18n.tr)

    def tr(self, *, en: str, zh: str, **fields: Any) -> str:
        """``en`` or ``zh``, in the report's language, formatted with ``fields``."""
        return tr(self.lang, en=en, zh=zh, **fields)

    def h3(self, *, en: str, zh: str, **fields: Any) -> str:
        """A sub-heading in the report's language."""
        return f"<h3>{escape_html(self.tr(en=en, zh=zh, **fields))}</h3>"

    def table(self, df: pd.DataFrame, *, visible: int | None = None) -> str:
        """A table for a reader, in the report's language (all rows; ``visible`` shown)."""
        return table_html(df, lang=self.lang, visible=visible or 15)


def _not_installed(ctx: Ctx, module: str) -> str:
    return ctx.tr(en="{m} is not part of this installation", zh="当前安装中没有 {m}", m=module)


def lead(text: str) -> str:
    """The sentence that opens a section: its finding, in words."""
    return f'<p class="lead">{escape_html(text)}</p>'


def _sec_quality(ctx: Ctx) -> str:
    parts = []
    rep = ctx.log.report
    if rep is not None:
        parts.append(
            kpi_tiles(
                [
                    (ctx.tr(en="rows read", zh="读取行数"), f"{rep.rows_read:,}"),
                    (ctx.tr(en="events kept", zh="保留事件"), f"{rep.rows_kept:,}"),
                    (ctx.tr(en="rows dropped", zh="舍弃行数"), f"{rep.rows_dropped:,}"),
                    (ctx.tr(en="conflicting copies", zh="冲突副本"), f"{len(rep.conflicts):,}"),
                    (ctx.tr(en="timezone", zh="时区"), rep.timezone),
                ]
            )
        )
        files = rep.files.copy()
        if "file" in files.columns:
            files["file"] = [Path(str(f)).name for f in files["file"]]
        parts.append(ctx.h3(en="Files read", zh="读取的文件") + ctx.table(files))
        if len(rep.dropped):
            dropped = rep.dropped.copy()
            dropped["examples"] = [
                "; ".join(f"{Path(str(f)).name} line {ln}: {v}" for f, ln, v in list(ex)[:3])
                for ex in dropped["examples"]
            ]
            parts.append(
                ctx.h3(en="Dropped rows by reason", zh="按原因统计的舍弃行") + ctx.table(dropped)
            )
        if len(rep.conflicts):
            conflicts = rep.conflicts.copy()
            for col in ("kept_file", "dropped_file"):
                if col in conflicts.columns:
                    conflicts[col] = [Path(str(f)).name for f in conflicts[col]]
            if "dropped_line" in conflicts.columns:  # a line number, not a quantity
                conflicts["dropped_line"] = conflicts["dropped_line"].astype(str)
            parts.append(
                ctx.h3(
                    en="Events exported twice with different values (newer export kept)",
                    zh="重复导出且取值不同的事件（保留较新的导出）",
                )
                + ctx.table(conflicts, visible=ctx.top)
            )
        if rep.notes:
            parts.append(
                ctx.h3(en="Notes", zh="说明")
                + "<ul>"
                + "".join(f"<li>{escape_html(str(n))}</li>" for n in rep.notes)
                + "</ul>"
            )
    else:
        note = ctx.tr(
            en="Built from a DataFrame: no load report.", zh="由 DataFrame 生成：没有加载报告。"
        )
        parts.append(f'<p class="note">{escape_html(note)}</p>')
    q = check_quality(ctx.log)
    ctx.results["quality"] = q
    shown = q.copy()
    if "examples" in shown.columns:
        shown["examples"] = ["; ".join(map(str, list(ex)[:2])) for ex in shown["examples"]]
    order = {"warning": 0, "info": 1, "ok": 2}
    shown = shown.sort_values(
        "severity", key=lambda s: s.map(order).fillna(3), kind="stable"
    ).reset_index(drop=True)
    parts.append(ctx.h3(en="Data-quality checks", zh="数据质量检查") + ctx.table(shown))
    parts.append(_counters_html(ctx))
    return lead(quality_sentence(rep, q, ctx.lang)) + "".join(parts)


def _counters_html(ctx: Ctx) -> str:
    """The system-counter cross-check (:func:`svcmining.check_counters`), when the export
    has counters (kept in ``results["counters"]``); empty otherwise."""
    cc = check_counters(ctx.log, sop=ctx.sop)
    ctx.results["counters"] = cc
    if not cc.found:
        return ""
    shown = cc.table.copy()
    shown["examples"] = ["; ".join(map(str, list(ex)[:3])) for ex in shown["examples"]]
    notes = "".join(f"<li>{html.escape(n)}</li>" for n in cc.notes)
    note = ctx.tr(
        en="The export's own per-ticket counters compared with what svcmining counted. "
        "Audit exports can miss updates, so a derived count below the counter happens; a "
        "derived count above it (column “Counted more”) is the suspicious direction: check "
        "the state labels or the grouping column.",
        zh="导出文件自带的工单计数器与 svcmining 统计值的对比。审计导出可能漏记更新，"
        "因此统计值低于计数器属正常；统计值高于计数器（“统计较多”列）才可疑："
        "请检查状态标签或分组列。",
    )
    return (
        ctx.h3(en="System counters", zh="系统计数器")
        + f'<p class="note">{escape_html(note)}</p>'
        + ctx.table(shown)
        + (f"<ul>{notes}</ul>" if notes else "")
    )


def _graph(ctx: Ctx) -> Any:
    """The process graph (:func:`svcmining.discover_dfg`), computed once for the sections."""
    if ctx.results.get("graph") is None:
        ctx.results["graph"] = discover_dfg(ctx.log, calendar=ctx.calendar)
    return ctx.results["graph"]


def _sec_process_map(ctx: Ctx) -> str:
    g = _graph(ctx)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # no-Graphviz advice: the map still draws
        m = plot_process_map(g, metric="cases", min_share=0.01, lang=ctx.lang)
    parts = [
        lead(process_map_sentence(g.edges, g.n_cases, len(g.activities), ctx.lang)),
        _pain_point_map(ctx),
        _pain_points_on_map(ctx),
        ctx.h3(en="How many tickets take each path", zh="各路径的工单数"),
        picture(
            m,
            ctx.tr(en="process map", zh="流程图"),
            ctx.tr(
                en="Steps and transitions used by at least 1% of tickets; labels: tickets.",
                zh="至少 1% 的工单经过的步骤和流转；标注为工单数。",
            ),
        ),
    ]
    slow = g.edges.sort_values("wait_p50_hours", ascending=False, kind="stable")
    slow = slow[slow["cases"] >= max(1, int(0.01 * g.n_cases))]
    cols = [c for c in ("source", "target", "count", "cases") if c in slow.columns] + [
        c for c in slow.columns if c.startswith("wait_")
    ]
    parts.append(
        ctx.h3(
            en="Transitions by median wait ({basis} hours)",
            zh="按等待中位数排序的流转（{basis}）",
            basis=ctx.tr(en="business", zh="工作小时")
            if ctx.calendar is not None
            else ctx.tr(en="elapsed", zh="自然小时"),
        )
        + ctx.table(slow[cols], visible=ctx.top)
    )
    return "".join(parts)


def _pain_point_map(ctx: Ctx) -> str:
    """The process map with the top pain points marked (:meth:`PainPoints.map`: the map
    itself, inlined as SVG, never painted as a raster first)."""
    plot = getattr(ctx.results.get("pain_points"), "map", None)
    if not callable(plot):
        return ""
    return picture(
        plot(lang=ctx.lang),
        ctx.tr(en="process map with the top pain points marked", zh="标出主要痛点的流程图"),
        ctx.tr(
            en="The top pain points marked on the process map; edge labels: median wait.",
            zh="流程图上标出的主要痛点；连线标注为等待时间中位数。",
        ),
    )


def _pain_points_on_map(ctx: Ctx) -> str:
    """The top pain points, listed under the map (where on the map, how much they cost)."""
    table = getattr(ctx.results.get("pain_points"), "table", None)
    if not isinstance(table, pd.DataFrame) or not len(table):
        return ""
    table = _named_pain_points(ctx, table.head(5))
    items = "".join(
        "<li>"
        + escape_html(
            ctx.tr(
                en="{pp} ({kind}): {n:,} tickets, {h:,.0f} h lost",
                zh="{pp}（{kind}）：{n:,} 张工单，损失 {h:,.0f} 小时",
                pp=value_label(str(r["pain_point"]), ctx.lang),
                kind=value_label(str(r["kind"]), ctx.lang),
                n=int(r["cases"]),
                h=float(r["hours_lost"]),
            )
        )
        + "</li>"
        for _, r in table.head(5).iterrows()
    )
    return (
        ctx.h3(en="Where the top pain points are on the map", zh="图中的主要痛点")
        + f'<ol class="marks">{items}</ol>'
    )


def _sec_variants(ctx: Ctx) -> str:
    v = variants(ctx.log, calendar=ctx.calendar)
    ctx.results["variants"] = v
    shown = v.copy()
    shown["sequence"] = [" → ".join(map(str, s)) for s in shown["sequence"]]
    cols = [c for c in shown.columns if c != "sequence"] + ["sequence"]
    return lead(variants_sentence(v, ctx.top, ctx.lang)) + ctx.table(shown[cols], visible=ctx.top)


def _sec_rework(ctx: Ctx) -> str:
    rw = rework.find_rework(ctx.log, sop=ctx.sop, calendar=ctx.calendar)
    ctx.results["rework"] = rw
    s = dict(rw.summary())
    n_cases = int(s.get("cases", 0)) or 1
    n_rw = int(s.get("cases_with_rework", 0))
    tiles = [
        (
            ctx.tr(en="tickets with rework", zh="有返工的工单"),
            f"{n_rw:,} ({fmt_pct(n_rw / n_cases)})",
        ),
        (ctx.tr(en="rework occurrences", zh="返工次数"), f"{s.get('occurrences', 0):,}"),
        (
            ctx.tr(en="hours in rework loops", zh="返工循环耗时"),
            f"{s.get('rework_hours', 0.0):,.0f}",
        ),
        (ctx.tr(en="hours lost to rework", zh="返工损失工时"), f"{s.get('hours_lost', 0.0):,.0f}"),
    ]
    kinds = pd.DataFrame(
        {
            "kind": [k[2:] for k in s if k.startswith("n_")],
            "occurrences": [int(s[k]) for k in s if k.startswith("n_")],
        }
    )
    by_act = rw.by_activity.sort_values("rework_hours", ascending=False, kind="stable")
    by_act = by_act.reset_index() if "activity" not in by_act.columns else by_act
    parts = [
        lead(rework_sentence(s, by_act, ctx.lang)),
        kpi_tiles(tiles),
        ctx.h3(en="Occurrences by kind", zh="按类型统计的返工次数") + ctx.table(kinds),
    ]
    occ = rw.occurrences
    if len(occ):
        caption = ""
        groups = occ.groupby("again_group", dropna=False)["rework_hours"].sum()
        if len(groups) > MAX_GROUPS_PLOTTED:  # a readable chart: the costliest groups only
            top = groups.sort_values(ascending=False, kind="stable").index[:MAX_GROUPS_PLOTTED]
            shown = dataclasses.replace(rw, occurrences=occ[occ["again_group"].isin(top)])
            caption = ctx.tr(
                en="The {k} {g} values with most hours lost of {n:,}.",
                zh="{n:,} 个{g}中损失工时最多的 {k} 个。",
                k=MAX_GROUPS_PLOTTED,
                g=rw.group,
                n=len(groups),
            )
        else:
            shown = rw
        alt = ctx.tr(en="rework by group and kind", zh="按组和类型统计的返工")
        parts.append(picture(shown.plot(metric="hours", lang=ctx.lang), alt, caption))
    parts.append(ctx.h3(en="By activity", zh="按活动") + ctx.table(by_act, visible=ctx.top))
    return "".join(parts)


def _sec_handoffs(ctx: Ctx) -> str:
    handoff_delays = _optional("handoffs", "handoff_delays")
    if handoff_delays is None:
        raise NotAvailable(_not_installed(ctx, "svcmining.handoffs"))
    if "department" not in ctx.events.columns:
        raise Skip(ctx.tr(en="the log has no department column", zh="日志没有部门列"))
    ho = handoff_delays(ctx.log, by="department", calendar=ctx.calendar)
    ctx.results["handoffs"] = ho
    parts = []
    m = getattr(ho, "matrix", None)
    if isinstance(m, pd.DataFrame) and len(m) and callable(getattr(ho, "top", None)):
        m = ho.top(len(m))  # every pair, worst first, with "pair" and its share of the hours
    if isinstance(m, pd.DataFrame) and {"delay_total_hours", "cases"} <= set(m.columns):
        parts.append(lead(handoffs_sentence(m, ctx.lang)))
    cases = getattr(ho, "cases", None)
    if isinstance(cases, pd.DataFrame) and len(cases):
        tiles = []
        if "n_handoffs" in cases.columns:
            tiles.append(
                (ctx.tr(en="handoffs", zh="交接次数"), f"{int(cases['n_handoffs'].sum()):,}")
            )
        if "handoff_hours" in cases.columns and "cycle_hours" in cases.columns:
            share = cases["handoff_hours"].sum() / max(cases["cycle_hours"].sum(), 1e-9)
            label = ctx.tr(
                en="share of ticket time waiting on handoffs", zh="工单时间中等待交接的占比"
            )
            tiles.append((label, fmt_pct(share)))
        if "ping_pong" in cases.columns:
            label = ctx.tr(en="ping-pong tickets", zh="来回推诿的工单")
            tiles.append((label, f"{int(cases['ping_pong'].sum()):,}"))
        parts.append(kpi_tiles(tiles))
    plot = getattr(ho, "plot", None)
    if callable(plot):
        parts.append(picture(plot(lang=ctx.lang), ctx.tr(en="handoff heatmap", zh="交接热力图")))
    if isinstance(m, pd.DataFrame) and "delay_total_hours" in m.columns:
        rank = "hours_lost" if "hours_lost" in m.columns else "delay_total_hours"
        worst = m.sort_values(rank, ascending=False, kind="stable")
        lead_cols = [c for c in ("pair",) if c in worst.columns]
        rest = [c for c in worst.columns if c not in ("pair", "from_group", "to_group")]
        worst = worst[lead_cols + rest] if lead_cols else worst
        parts.append(
            ctx.h3(en="Department pairs by hours lost", zh="按损失工时排序的部门交接")
            + ctx.table(worst, visible=ctx.top)
        )
    return "".join(parts)


_MIN_EXTRA_SHARE = 0.01


def _readable_comparison(comparison: Any, n_cases: int) -> tuple[Any, int]:
    """The SOP overlay without the long tail of rare extra flows (a readable picture)."""
    edges = getattr(comparison, "edges", None)
    if not isinstance(edges, pd.DataFrame) or not {"status", "cases"} <= set(edges.columns):
        return comparison, 0
    rare_extra = (edges["status"] == "extra") & (edges["cases"] < _MIN_EXTRA_SHARE * n_cases)
    if not rare_extra.any() or not dataclasses.is_dataclass(comparison):
        return comparison, 0
    if isinstance(comparison, type):  # a class, not a result: nothing to filter
        return comparison, 0
    kept = edges[~rare_extra].reset_index(drop=True)
    return dataclasses.replace(comparison, edges=kept), int(rare_extra.sum())


def _sec_conformance(ctx: Ctx) -> str:
    if ctx.sop is None:
        raise Skip(
            ctx.tr(
                en="no SOP given (svcmining report --sop sop.yaml)",
                zh="未提供 SOP（svcmining report --sop sop.yaml）",
            )
        )
    started = ctx.ahead.pop("conformance", None)
    if started is not None:
        cr = started.result()
    else:
        cr = conformance.check_sop(
            ctx.log, ctx.sop, precision=ctx.precision, max_seconds=ctx.max_seconds
        )
    ctx.results["conformance"] = cr

    def metric(name: str) -> float:
        try:
            return float(cr.metric(name))
        except (KeyError, ValueError, TypeError):
            return float("nan")

    dev = cr.deviations
    by_type = (
        dev.groupby("type", sort=False)
        .agg(deviations=("case_id", "size"), tickets=("case_id", "nunique"))
        .reset_index()
        .sort_values("deviations", ascending=False, kind="stable")
        if len(dev)
        else pd.DataFrame(columns=["type", "deviations", "tickets"])
    )
    parts = [
        lead(
            conformance_sentence(metric("conformance_rate"), by_type, cr.sla_attainment, ctx.lang)
        ),
        kpi_tiles(
            [
                (ctx.tr(en="log fitness", zh="日志拟合度"), fmt_num(metric("log_fitness"))),
                (
                    ctx.tr(en="conforming tickets", zh="合规工单"),
                    fmt_pct(metric("conformance_rate")),
                ),
                (ctx.tr(en="deviation rate", zh="偏差率"), fmt_pct(metric("deviation_rate"))),
                (ctx.tr(en="SLA attainment", zh="SLA 达标率"), fmt_pct(metric("sla_attainment"))),
            ]
            + (
                [(ctx.tr(en="precision", zh="精确度"), fmt_num(metric("precision")))]
                if ctx.precision
                else []
            )
        ),
        _sop_picture(ctx, cr),
    ]
    if len(dev):
        parts.append(ctx.h3(en="Deviations by type", zh="按类型统计的偏差") + ctx.table(by_type))
    extra = getattr(cr.comparison, "extra", None)
    if isinstance(extra, pd.DataFrame) and len(extra):
        cols = [c for c in ("source", "target", "count", "cases", "median_hours") if c in extra]
        parts.append(
            ctx.h3(en="Flows outside the SOP (most frequent first)", zh="SOP 之外的流转（按频次）")
            + ctx.table(extra[cols], visible=ctx.top)
        )
    steps = with_step_names(cr.steps, ctx.sop, ctx.lang)  # display names; ids in step_id
    parts.append(ctx.h3(en="Per SOP step", zh="各 SOP 步骤") + ctx.table(steps))
    if len(cr.sla_attainment):
        parts.append(ctx.h3(en="SLA attainment", zh="SLA 达标情况") + ctx.table(cr.sla_attainment))
    if len(dev):
        cols = [
            c
            for c in ("case_id", "type", "step", "activity", "at", "department", "detail")
            if c in dev.columns
        ]
        examples = dev.groupby("type", sort=False).head(3)[cols]  # a few of every type
        examples = with_step_names(examples, ctx.sop, ctx.lang)
        parts.append(
            ctx.h3(en="Example deviations (up to 3 per type)", zh="偏差示例（每类最多 3 条）")
            + ctx.table(examples)
        )
    return "".join(parts)


def _sop_picture(ctx: Ctx, cr: Any) -> str:
    """The SOP drawn with the actual flows overlaid (Graphviz, else the built-in layout)."""
    comparison, hidden = _readable_comparison(cr.comparison, len(cr.cases))
    svg = dot_svg(comparison.to_dot(lang=ctx.lang))
    if svg is None:  # no Graphviz: svcmining's own layered layout, as SVG
        import matplotlib.pyplot as plt

        fig = comparison.plot(lang=ctx.lang).get_figure()
        svg = figure_svg(fig)
        plt.close(fig)
    note = (
        ctx.tr(
            en=" {n:,} flows outside the SOP used by fewer than {p} of tickets are not drawn "
            "(see the table of flows outside the SOP).",
            zh=" 另有 {n:,} 条 SOP 之外、工单占比低于 {p} 的流转未画出（见 SOP 之外的流转表）。",
            n=hidden,
            p=f"{_MIN_EXTRA_SHARE:.0%}",
        )
        if hidden
        else ""
    )
    return img_tag(
        svg_with_font_stack(svg),
        "image/svg+xml",
        ctx.tr(en="SOP with the actual flows overlaid", zh="SOP 与实际流转叠加"),
        ctx.tr(
            en="The SOP with the actual flows: black = allowed (transitions), red = not in the "
            "SOP, grey dashed = SOP paths never taken; red dashed boxes = steps not in the SOP.",
            zh="SOP 与实际流转：黑色 = 允许的流转，红色 = 不在 SOP 中，灰色虚线 = 从未走过的 "
            "SOP 路径；红色虚线框 = 不在 SOP 中的步骤。",
        )
        + note,
    )


def _reuse(func: Callable[..., Any], ctx: Ctx) -> dict[str, Any]:
    """Results computed by earlier sections, for the keyword arguments ``func`` accepts."""
    import inspect

    try:
        params = inspect.signature(func).parameters
    except (TypeError, ValueError):
        return {}
    out: dict[str, Any] = {}
    for key in ("rework", "handoffs", "conformance", "graph"):
        if key in params and ctx.results.get(key) is not None:
            out[key] = ctx.results[key]
    if "benchmarks" in params and ctx.benchmarks:
        out["benchmarks"] = ctx.benchmarks
    return out


def _sec_kpis(ctx: Ctx) -> str:
    service_kpis = _optional("kpis", "service_kpis")
    if service_kpis is None:
        raise NotAvailable(_not_installed(ctx, "svcmining.kpis"))
    k = service_kpis(
        ctx.log, sop=ctx.sop, calendar=ctx.calendar, by="month", **_reuse(service_kpis, ctx)
    )
    ctx.results["kpis"] = k
    months = full_months(ctx.events["timestamp"])
    cycle = "cycle_business_hours_p50" if ctx.calendar is not None else "cycle_hours_p50"
    parts = [lead(kpis_sentence(k, months, cycle, ctx.lang))]
    plot = getattr(k, "plot", None)
    if callable(plot) and not isinstance(k, pd.DataFrame):
        alt = ctx.tr(en="KPI dashboard, month over month", zh="月度指标看板")
        parts.append(picture(plot(sop=ctx.sop, lang=ctx.lang), alt))
    if callable(getattr(k, "to_frame", None)) and not isinstance(k, pd.DataFrame):
        names = ctx.sop.display_names(ctx.lang) if ctx.sop is not None else {}
        parts.append(ctx.table(kpi_month_table(k, ctx.lang, names), visible=20))
    else:
        frame = frame_of(k)
        if frame is not None:
            parts.append(ctx.table(frame, visible=20))
    return "".join(parts)


#: The pain-point table's columns, in the order a manager reads them.
_PAIN_COLUMNS = (
    "rank",
    "pain_point",
    "kind",
    "cases",
    "hours_lost",
    "share_of_lost",
    "hours_lost_per_case",
    "kpi_hurt",
    "first_check",
    "example_cases",
    "evidence",
)


def _named_pain_points(ctx: Ctx, table: pd.DataFrame) -> pd.DataFrame:
    """Pain points of SOP deviations ("repeated_step: accept") name the SOP step by its
    display name in the report's language ("repeated_step: 客户验收")."""
    if ctx.sop is None or not {"pain_point", "kind"} <= set(table.columns):
        return table
    names = ctx.sop.display_names(ctx.lang)

    def named(text: str, kind: str) -> str:
        head, sep, step = text.partition(": ")
        return f"{head}{sep}{names.get(step, step)}" if sep and kind == "deviation" else text

    shown = [named(str(t), str(k)) for t, k in zip(table["pain_point"], table["kind"], strict=True)]
    return table.assign(pain_point=shown)


def _sec_pain_points(ctx: Ctx) -> str:
    pain_points = _optional("kpis", "pain_points")
    if pain_points is None:
        raise NotAvailable(_not_installed(ctx, "svcmining.kpis (pain_points)"))
    _graph(ctx)
    pp = pain_points(ctx.log, sop=ctx.sop, calendar=ctx.calendar, **_reuse(pain_points, ctx))
    ctx.results["pain_points"] = pp
    parts = []
    frame = frame_of(pp)
    if frame is not None and {"pain_point", "kind", "cases", "hours_lost"} <= set(frame.columns):
        frame = _named_pain_points(ctx, frame)
        parts.append(lead(pain_points_sentence(frame, ctx.lang)))
        frame = pain_point_advice(frame, ctx.lang)
        if "evidence" in frame.columns and {"cases_all", "occurrences_all"} <= set(frame.columns):
            frame["evidence"] = evidence(frame, ctx.lang)  # in the report's language
        if "example_cases" in frame.columns:  # "a;b;c" -> "a; b; c": lets the cell wrap
            frame["example_cases"] = frame["example_cases"].astype(str).str.replace(";", "; ")
        cols = [c for c in _PAIN_COLUMNS if c in frame.columns]
        parts.append(ctx.table(frame[cols], visible=ctx.top))
    elif frame is not None:
        parts.append(ctx.table(frame, visible=ctx.top))
    return "".join(parts)


BUILDERS: dict[str, Callable[[Ctx], str]] = {
    "pain_points": _sec_pain_points,
    "process_map": _sec_process_map,
    "variants": _sec_variants,
    "rework": _sec_rework,
    "handoffs": _sec_handoffs,
    "conformance": _sec_conformance,
    "kpis": _sec_kpis,
    "quality": _sec_quality,
    "glossary": glossary_section,
}


def headline_figures(ctx: Ctx) -> list[tuple[str, str, str]]:
    """The few figures a manager reads first, from the sections that were built: (label,
    value, change in the last full month against the one before, or "")."""
    res = ctx.results
    k = res.get("kpis")
    months = full_months(ctx.events["timestamp"])

    def change(kpi: str) -> str:
        return month_change(k, kpi, months, ctx.lang) if k is not None else ""

    out = [
        (
            ctx.tr(en="tickets", zh="工单数"),
            f"{ctx.events['case_id'].nunique():,}",
            change("cases_opened"),
        )
    ]
    value = getattr(k, "value", None)
    if callable(value):
        business = ctx.calendar is not None
        kpi = "cycle_business_hours_p50" if business else "cycle_hours_p50"
        try:
            v = float(value(kpi))
        except (KeyError, ValueError, TypeError):
            v = float("nan")
        if v == v:
            label = (
                ctx.tr(en="median cycle time (business hours)", zh="处理周期中位数（工作小时）")
                if business
                else ctx.tr(en="median cycle time (hours)", zh="处理周期中位数（小时）")
            )
            out.append((label, f"{v:,.1f}", change(kpi)))
    cr = res.get("conformance")
    if cr is not None:
        for label, name in (
            (ctx.tr(en="deviation rate vs SOP", zh="SOP 偏差率"), "deviation_rate"),
            (ctx.tr(en="SLA attainment", zh="SLA 达标率"), "sla_attainment"),
        ):
            with contextlib.suppress(KeyError, ValueError, TypeError):
                note = (
                    sla_month_change(cr.slas, ctx.events, months, ctx.lang)
                    if name == "sla_attainment"
                    else change(name)
                )
                out.append((label, fmt_pct(cr.metric(name)), note))
    rw = res.get("rework")
    if rw is not None and len(rw.cases):
        out.append(
            (
                ctx.tr(en="tickets with rework", zh="有返工的工单"),
                fmt_pct(float(rw.cases["has_rework"].mean())),
                change("rework_rate"),
            )
        )
    ho = res.get("handoffs")
    cases = getattr(ho, "cases", None)
    if isinstance(cases, pd.DataFrame) and {"handoff_hours", "cycle_hours"} <= set(cases.columns):
        total = float(cases["cycle_hours"].sum())
        if total > 0:
            share = fmt_pct(cases["handoff_hours"].sum() / total)
            label = ctx.tr(en="ticket time waiting on handoffs", zh="等待交接的时间占比")
            out.append((label, share, change("handoff_share")))
    pp = res.get("pain_points")
    table = getattr(pp, "table", None)
    if isinstance(table, pd.DataFrame) and len(table) and "pain_point" in table.columns:
        table = _named_pain_points(ctx, table.head(1))
    if isinstance(table, pd.DataFrame) and len(table) and "pain_point" in table.columns:
        top = table.iloc[0]
        hours = (
            ctx.tr(en=" ({h:,.0f} h lost)", zh="（损失 {h:,.0f} 小时）", h=float(top["hours_lost"]))
            if "hours_lost" in table.columns
            else ""
        )
        label = ctx.tr(en="top pain point", zh="首要痛点")
        out.append((label, f"{value_label(str(top['pain_point']), ctx.lang)}{hours}", ""))
    return out


def months_note(ctx: Ctx) -> str:
    """Which months the headline changes compare (the last two full months), in words."""
    months = full_months(ctx.events["timestamp"])
    if len(months) >= 2:
        return ctx.tr(
            en="Changes compare {m} with {p}, the last two full months of the data.",
            zh="变化为 {m} 与 {p} 的对比（数据中最近两个完整月份）。",
            m=months[-1],
            p=months[-2],
        )
    return ctx.tr(
        en="The data does not cover two full months: no month-over-month change.",
        zh="数据不足两个完整月份，无环比变化。",
    )
