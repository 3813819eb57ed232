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


def _sec_quality(ctx: Ctx) -> str:
    parts = []
    rep = ctx.log.report
    if rep is not None:
        parts.append(
            kpi_tiles(
                [
                    ("rows read", f"{rep.rows_read:,}"),
                    ("events kept", f"{rep.rows_kept:,}"),
                    ("rows dropped", f"{rep.rows_dropped:,}"),
                    ("conflicting copies", f"{len(rep.conflicts):,}"),
                    ("timezone", rep.timezone),
                ]
            )
        )
        files = rep.files.copy()
        if "file" in files.columns:
            files["file"] = [Path(str(f)).name for f in files["file"]]
        parts.append("<h3>Files read</h3>" + table_html(files, max_rows=50))
        if len(rep.dropped):
            dropped = rep.dropped.copy()
            dropped["examples"] = [
                "; ".join(f"{Path(str(f)).name} line {ln}: {v}" for f, ln, v in list(ex)[:3])
                for ex in dropped["examples"]
            ]
            parts.append("<h3>Dropped rows by reason</h3>" + table_html(dropped))
        if len(rep.conflicts):
            conflicts = rep.conflicts.copy()
            for col in ("kept_file", "dropped_file"):
                if col in conflicts.columns:
                    conflicts[col] = [Path(str(f)).name for f in conflicts[col]]
            if "dropped_line" in conflicts.columns:  # a line number, not a quantity
                conflicts["dropped_line"] = conflicts["dropped_line"].astype(str)
            parts.append(
                "<h3>Events exported twice with different values (newer export kept)</h3>"
                + table_html(conflicts, max_rows=ctx.top)
            )
        if rep.notes:
            parts.append(
                "<h3>Notes</h3><ul>"
                + "".join(f"<li>{escape_html(str(n))}</li>" for n in rep.notes)
                + "</ul>"
            )
    else:
        parts.append('<p class="note">Built from a DataFrame: no load report.</p>')
    q = check_quality(ctx.log)
    ctx.results["quality"] = q
    shown = q.copy()
    if "examples" in shown.columns:
        shown["examples"] = ["; ".join(map(str, list(ex)[:2])) for ex in shown["examples"]]
    order = {"warning": 0, "info": 1, "ok": 2}
    shown = shown.sort_values(
        "severity", key=lambda s: s.map(order).fillna(3), kind="stable"
    ).reset_index(drop=True)
    parts.append("<h3>Data-quality checks</h3>" + table_html(shown, max_rows=50))
    parts.append(_counters_html(ctx))
    return "".join(parts)


def _counters_html(ctx: Ctx) -> str:
    """The system-counter cross-check (:func:`svcmining.check_counters`), when the export
    has counters (kept in ``results["counters"]``); empty otherwise."""
    cc = check_counters(ctx.log, sop=ctx.sop)
    ctx.results["counters"] = cc
    if not cc.found:
        return ""
    shown = cc.table.copy()
    for col in ("share_equal", "share_not_above"):
        shown[col] = [fmt_pct(v) for v in shown[col]]
    shown["examples"] = ["; ".join(map(str, list(ex)[:3])) for ex in shown["examples"]]
    notes = "".join(f"<li>{html.escape(n)}</li>" for n in cc.notes)
    return (
        "<h3>System counters</h3>"
        '<p class="note">The export\'s own per-ticket counters compared with what svcmining '
        "counted. Audit exports can miss updates, so a derived count below the counter "
        "happens; a derived count above it (column <i>above</i>) is the suspicious "
        "direction: check the state labels or the grouping column.</p>"
        + table_html(shown)
        + (f"<ul>{notes}</ul>" if notes else "")
    )


def _sec_process_map(ctx: Ctx) -> str:
    g = discover_dfg(ctx.log, calendar=ctx.calendar)
    ctx.results["graph"] = g
    basis = "business" if ctx.calendar is not None else "elapsed"
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # no-Graphviz advice: the map still draws
        m = plot_process_map(g, metric="cases", min_share=0.01, lang=ctx.lang)
    parts = [
        picture(
            m,
            "process map",
            "Steps and transitions used by at least 1% of tickets; labels: tickets.",
        )
    ]
    slow = g.edges.sort_values("wait_p50_hours", ascending=False, kind="stable")
    slow = slow[slow["cases"] >= max(1, int(0.01 * g.n_cases))]
    cols = [c for c in ("source", "target", "count", "cases") if c in slow.columns] + [
        c for c in slow.columns if c.startswith("wait_")
    ]
    parts.append(
        f"<h3>Slowest transitions (median wait, {basis} hours)</h3>"
        + table_html(slow[cols], max_rows=ctx.top)
    )
    return "".join(parts)


def _sec_variants(ctx: Ctx) -> str:
    v = variants(ctx.log, calendar=ctx.calendar)
    ctx.results["variants"] = v
    n = len(v)
    top = v.head(ctx.top)
    cover = float(top["share"].sum()) if n else 0.0
    shown = top.copy()
    shown["sequence"] = [" → ".join(map(str, s)) for s in shown["sequence"]]
    cols = [c for c in shown.columns if c != "sequence"] + ["sequence"]
    return (
        f"<p>{n:,} distinct variants; the {len(top)} most frequent cover {fmt_pct(cover)} of "
        "tickets.</p>" + table_html(shown[cols], max_rows=ctx.top)
    )


def _sec_rework(ctx: Ctx) -> str:
    rw = rework.find_rework(ctx.log, sop=ctx.sop, calendar=ctx.calendar)
    ctx.results["rework"] = rw
    s = dict(rw.summary())
    n_cases = int(s.get("cases", 0)) or 1
    n_rw = int(s.get("cases_with_rework", 0))
    tiles = [
        (
            "tickets with rework",
            f"{n_rw:,} ({n_rw / n_cases * 100:.1f}%)",
        ),
        ("rework occurrences", f"{s.get('occurrences', 0):,}"),
        ("hours in rework loops", f"{s.get('rework_hours', 0.0):,.0f}"),
        ("hours lost to rework", f"{s.get('hours_lost', 0.0):,.0f}"),
    ]
    kinds = pd.DataFrame(
        {
            "kind": [k[2:] for k in s if k.startswith("n_")],
            "occurrences": [int(s[k]) for k in s if k.startswith("n_")],
        }
    )
    parts = [kpi_tiles(tiles), "<h3>Occurrences by kind</h3>" + table_html(kinds)]
    occ = rw.occurrences
    if len(occ):
        caption = ""
        groups = occ.groupby("again_group", dropna=False)["rework_hours"].sum()
        if len(groups) > MAX_GROUPS_PLOTTED:  # a readable chart: the costliest groups only
            top = groups.sort_values(ascending=False, kind="stable").index[:MAX_GROUPS_PLOTTED]
            shown = dataclasses.replace(rw, occurrences=occ[occ["again_group"].isin(top)])
            caption = (
                f"The {MAX_GROUPS_PLOTTED} {rw.group} values with most hours lost of "
                f"{len(groups):,}."
            )
        else:
            shown = rw
        parts.append(
            picture(shown.plot(metric="hours", lang=ctx.lang), "rework by group and kind", caption)
        )
    by_act = rw.by_activity.sort_values("rework_hours", ascending=False, kind="stable")
    by_act = by_act.reset_index() if "activity" not in by_act.columns else by_act
    parts.append("<h3>By activity</h3>" + table_html(by_act, max_rows=ctx.top))
    return "".join(parts)


def _sec_handoffs(ctx: Ctx) -> str:
    handoff_delays = _optional("handoffs", "handoff_delays")
    if handoff_delays is None:
        raise NotAvailable("svcmining.handoffs is not part of this installation")
    if "department" not in ctx.events.columns:
        raise Skip("the log has no department column")
    ho = handoff_delays(ctx.log, by="department", calendar=ctx.calendar)
    ctx.results["handoffs"] = ho
    parts = []
    cases = getattr(ho, "cases", None)
    if isinstance(cases, pd.DataFrame) and len(cases):
        tiles = []
        if "n_handoffs" in cases.columns:
            tiles.append(("handoffs", f"{int(cases['n_handoffs'].sum()):,}"))
        if "handoff_hours" in cases.columns and "cycle_hours" in cases.columns:
            share = cases["handoff_hours"].sum() / max(cases["cycle_hours"].sum(), 1e-9)
            tiles.append(("share of ticket time waiting on handoffs", fmt_pct(share)))
        if "ping_pong" in cases.columns:
            tiles.append(("ping-pong tickets", f"{int(cases['ping_pong'].sum()):,}"))
        parts.append(kpi_tiles(tiles))
    plot = getattr(ho, "plot", None)
    if callable(plot):
        parts.append(picture(plot(lang=ctx.lang), "handoff heatmap"))
    top = getattr(ho, "top", None)
    worst = top(ctx.top) if callable(top) else None
    if not isinstance(worst, pd.DataFrame):
        m = getattr(ho, "matrix", None)
        worst = (
            m.sort_values("delay_total_hours", ascending=False, kind="stable")
            if isinstance(m, pd.DataFrame) and "delay_total_hours" in m.columns
            else m
        )
    if isinstance(worst, pd.DataFrame):
        parts.append("<h3>Worst pairs (hours lost)</h3>" + table_html(worst, max_rows=ctx.top))
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
        raise Skip("no SOP given (svcmining report --sop sop.yaml)")
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

    parts = [
        kpi_tiles(
            [
                ("log fitness", fmt_num(metric("log_fitness"))),
                ("conforming tickets", fmt_pct(metric("conformance_rate"))),
                ("deviation rate", fmt_pct(metric("deviation_rate"))),
                ("SLA attainment", fmt_pct(metric("sla_attainment"))),
            ]
            + ([("precision", fmt_num(metric("precision")))] if ctx.precision else [])
        )
    ]
    comparison, hidden = _readable_comparison(cr.comparison, len(cr.cases))
    svg = dot_svg(comparison.to_dot(lang=ctx.lang))
    if svg is None:  # no Graphviz: svcmining's own layered layout, as SVG
        import matplotlib.pyplot as plt

        fig = comparison.plot(lang=ctx.lang).get_figure()
        svg = figure_svg(fig)
        plt.close(fig)
    note = (
        f" {hidden:,} flows outside the SOP used by fewer than "
        f"{_MIN_EXTRA_SHARE:.0%} of tickets are not drawn (see the table of flows "
        "outside the SOP)."
        if hidden
        else ""
    )
    parts.append(
        img_tag(
            svg_with_font_stack(svg),
            "image/svg+xml",
            "SOP with the actual flows overlaid",
            "The SOP with the actual flows: black = allowed (transitions), red = not in the "
            "SOP, grey dashed = SOP paths never taken; red dashed boxes = steps not in the "
            "SOP." + note,
        )
    )
    dev = cr.deviations
    if len(dev):
        by_type = (
            dev.groupby("type", sort=False)
            .agg(deviations=("case_id", "size"), tickets=("case_id", "nunique"))
            .reset_index()
            .sort_values("deviations", ascending=False, kind="stable")
        )
        parts.append("<h3>Deviations by type</h3>" + table_html(by_type))
    extra = getattr(cr.comparison, "extra", None)
    if isinstance(extra, pd.DataFrame) and len(extra):
        cols = [c for c in ("source", "target", "count", "cases", "median_hours") if c in extra]
        parts.append(
            "<h3>Flows outside the SOP (most frequent)</h3>"
            + table_html(extra[cols], max_rows=ctx.top)
        )
    steps = with_step_names(cr.steps, ctx.sop, ctx.lang)  # display names; ids in step_id
    parts.append("<h3>Per SOP step</h3>" + table_html(steps, max_rows=40))
    if len(cr.sla_attainment):
        parts.append("<h3>SLA attainment</h3>" + table_html(cr.sla_attainment, max_rows=40))
    if len(dev):
        cols = [
            c
            for c in ("case_id", "type", "step", "activity", "at", "department", "detail")
            if c in dev.columns
        ]
        examples = dev.groupby("type", sort=False).head(3)[cols]  # a few of every type
        examples = with_step_names(examples, ctx.sop, ctx.lang)
        parts.append(
            "<h3>Example deviations (up to 3 per type)</h3>" + table_html(examples, max_rows=30)
        )
    return "".join(parts)


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
        raise NotAvailable("svcmining.kpis is not part of this installation")
    k = service_kpis(
        ctx.log, sop=ctx.sop, calendar=ctx.calendar, by="month", **_reuse(service_kpis, ctx)
    )
    ctx.results["kpis"] = k
    parts = []
    plot = getattr(k, "plot", None)
    if callable(plot) and not isinstance(k, pd.DataFrame):
        parts.append(picture(plot(sop=ctx.sop, lang=ctx.lang), "KPI dashboard, month over month"))
    wide = getattr(k, "wide", None)
    if callable(wide):
        table = wide().reset_index()
        if "kpi" in table.columns:  # headline KPIs first, the per-stage times after them
            later = table["kpi"].astype(str).str.startswith("stage_")
            table = pd.concat([table[~later], table[later]], ignore_index=True)
        parts.append(table_html(table, max_rows=80))
    else:
        frame = frame_of(k)
        if frame is not None:
            parts.append(table_html(_kpi_wide(frame), max_rows=80))
    return "".join(parts)


def _kpi_wide(frame: pd.DataFrame) -> pd.DataFrame:
    """A tidy KPI table (kpi × period) shown as one row per KPI, one column per period."""
    kpi_col = next((c for c in ("kpi", "metric", "name") if c in frame.columns), None)
    period_col = next((c for c in ("period", "month", "by") if c in frame.columns), None)
    if kpi_col and period_col and "value" in frame.columns:
        index = [kpi_col] + [c for c in ("unit",) if c in frame.columns]
        try:
            wide = frame.pivot_table(
                index=index, columns=period_col, values="value", aggfunc="first", sort=False
            )
            wide.columns = [str(c) for c in wide.columns]
            return wide.reset_index()
        except (ValueError, TypeError):
            return frame
    return frame


def _sec_pain_points(ctx: Ctx) -> str:
    pain_points = _optional("kpis", "pain_points")
    if pain_points is None:
        raise NotAvailable("svcmining.kpis (pain_points) is not part of this installation")
    pp = pain_points(ctx.log, sop=ctx.sop, calendar=ctx.calendar, **_reuse(pain_points, ctx))
    ctx.results["pain_points"] = pp
    parts = []
    plot = getattr(pp, "plot", None)
    if callable(plot) and not isinstance(pp, pd.DataFrame):
        parts.append(picture(plot(lang=ctx.lang), "pain-point map"))
    frame = frame_of(pp)
    if frame is not None:
        preferred = [
            "rank",
            "pain_point",
            "kind",
            "module",
            "cases",
            "hours_lost",
            "share_of_lost",
            "hours_lost_per_case",
            "p50_hours",
            "p90_hours",
            "evidence",
            "example_cases",
        ]
        cols = [c for c in preferred if c in frame.columns] or list(frame.columns)
        parts.append(table_html(frame[cols], max_rows=ctx.top + 5))
    return "".join(parts)


BUILDERS: dict[str, Callable[[Ctx], str]] = {
    "quality": _sec_quality,
    "process_map": _sec_process_map,
    "variants": _sec_variants,
    "rework": _sec_rework,
    "handoffs": _sec_handoffs,
    "conformance": _sec_conformance,
    "kpis": _sec_kpis,
    "pain_points": _sec_pain_points,
    "glossary": glossary_section,
}


def headline_figures(ctx: Ctx) -> list[tuple[str, str]]:
    """The few figures a manager reads first, from the sections that were built."""
    out: list[tuple[str, str]] = [("tickets", f"{ctx.events['case_id'].nunique():,}")]
    res = ctx.results
    k = res.get("kpis")
    value = getattr(k, "value", None)
    if callable(value):
        business = ctx.calendar is not None
        kpi = "cycle_business_hours_p50" if business else "cycle_hours_p50"
        try:
            v = float(value(kpi))
        except (KeyError, ValueError, TypeError):
            v = float("nan")
        if v == v:
            unit = "business hours" if business else "hours"
            out.append((f"median cycle time ({unit})", f"{v:,.1f}"))
    cr = res.get("conformance")
    if cr is not None:
        for label, name in (
            ("deviation rate vs SOP", "deviation_rate"),
            ("SLA attainment", "sla_attainment"),
        ):
            with contextlib.suppress(KeyError, ValueError, TypeError):
                out.append((label, fmt_pct(cr.metric(name))))
    rw = res.get("rework")
    if rw is not None and len(rw.cases):
        out.append(("tickets with rework", fmt_pct(float(rw.cases["has_rework"].mean()))))
    ho = res.get("handoffs")
    cases = getattr(ho, "cases", None)
    if isinstance(cases, pd.DataFrame) and {"handoff_hours", "cycle_hours"} <= set(cases.columns):
        total = float(cases["cycle_hours"].sum())
        if total > 0:
            out.append(
                ("ticket time waiting on handoffs", fmt_pct(cases["handoff_hours"].sum() / total))
            )
    pp = res.get("pain_points")
    table = getattr(pp, "table", None)
    if isinstance(table, pd.DataFrame) and len(table) and "pain_point" in table.columns:
        top = table.iloc[0]
        hours = (
            f" ({float(top['hours_lost']):,.0f} h lost)" if "hours_lost" in table.columns else ""
        )
        out.append(("top pain point", f"{top['pain_point']}{hours}"))
    return out
