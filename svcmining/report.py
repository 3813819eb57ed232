"""One self-contained HTML report of a ticket log, for managers who never open Python.

:func:`build_report` runs the analyses of the package on a log and collects their
tables and pictures into a :class:`Report`; :meth:`Report.save` writes **one** HTML
file that opens offline: every figure is inlined (SVG/PNG as ``data:`` URIs), there is
no external script, stylesheet or font, and a Content-Security-Policy forbids the page
to load anything from the network. The one script is the interactive explorer
(:mod:`svcmining._explorer`, ``interactive=False`` leaves it out), inline and allowed by
its hash; with scripts blocked the page shows its static pictures and tables. Chinese
labels render with a declared CJK font stack (Noto Sans CJK / Source Han Sans /
PingFang / Microsoft YaHei …); matplotlib figures carry their glyphs as paths. Every
label that comes from the data is HTML-escaped.

Sections (``Report.section(key)``; each shows on its own in a notebook):

=================  ===============================================================
``quality``        the load report (files, rows kept and dropped per reason) and the
                   data-quality findings (:func:`svcmining.check_quality`)
``process_map``    the process map (:func:`svcmining.plot_process_map`) and the
                   slowest transitions
``variants``       the most frequent variants (:func:`svcmining.variants`)
``rework``         rework loops by kind and department (:func:`svcmining.find_rework`)
``handoffs``       handoff heatmap and the worst department pairs
                   (:func:`svcmining.handoff_delays`)
``conformance``    SOP conformance, deviations, SLA attainment and the SOP drawn with
                   the actual flows overlaid (:func:`svcmining.check_sop`)
``kpis``           service KPIs month over month (:func:`svcmining.service_kpis`)
``pain_points``    breakpoints ranked by hours lost (:func:`svcmining.pain_points`)
=================  ===============================================================

A section whose module is not part of the installation says *not available*; one
that fails says so with the error (the rest of the report is still written).
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import datetime as _dt
import html
import io
import os
import re
import shutil
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import pandas as pd

from . import __version__
from ._safetext import escape_text
from .eventlog import LogLike, TicketLog, as_events, as_ticket_log
from .exceptions import InvalidParameterError, SvcMiningError

if TYPE_CHECKING:
    from .calendars import Calendar
    from .sop import SOP

__all__ = ["REPORT_SECTIONS", "Report", "ReportSection", "build_report", "render_report"]

#: Section keys in report order, with their titles.
REPORT_SECTIONS: dict[str, str] = {
    "quality": "Data quality and load report",
    "process_map": "Process map",
    "variants": "Variants",
    "rework": "Rework",
    "handoffs": "Handoffs between departments",
    "conformance": "SOP conformance",
    "kpis": "Service KPIs month over month",
    "pain_points": "Pain points ranked by hours lost",
}

Status = Literal["ok", "not_available", "skipped", "failed"]

#: Fonts the page asks for, in order; Chinese renders with the first one installed.
FONT_STACK = (
    'system-ui, -apple-system, "Segoe UI", "Noto Sans CJK SC", "Noto Sans SC", '
    '"Source Han Sans SC", "PingFang SC", "Hiragino Sans GB", "Microsoft YaHei", '
    '"WenQuanYi Micro Hei", "Droid Sans Fallback", sans-serif'
)
_SVG_FONT_STACK = (
    "Noto Sans CJK SC, Noto Sans SC, Source Han Sans SC, PingFang SC, Hiragino Sans GB, "
    "Microsoft YaHei, WenQuanYi Micro Hei, SimHei, sans-serif"
)
# No scripts, nothing from the network: images only as data: URIs, inline styles only.
_CSP = (
    "default-src 'none'; img-src data:; style-src 'unsafe-inline'; base-uri 'none'; "
    "form-action 'none'"
)

_CSS = f"""
.svcm-report {{ font-family: {FONT_STACK}; color: #1f2328; line-height: 1.45;
  max-width: 1180px; margin: 0 auto; padding: 0 18px 40px; }}
.svcm-report h1 {{ font-size: 1.6em; margin: 18px 0 4px; }}
.svcm-report h2 {{ font-size: 1.3em; border-bottom: 2px solid #d0d7de; padding-bottom: 4px;
  margin-top: 34px; }}
.svcm-report h3 {{ font-size: 1.05em; margin: 18px 0 6px; }}
.svcm-report .meta {{ color: #57606a; font-size: 0.9em; }}
.svcm-report nav ol {{ columns: 2; font-size: 0.95em; }}
.svcm-report table {{ border-collapse: collapse; font-size: 0.86em; margin: 6px 0 12px; }}
.svcm-report th, .svcm-report td {{ border: 1px solid #d0d7de; padding: 3px 7px;
  text-align: left; vertical-align: top; }}
.svcm-report th {{ background: #f3f5f8; }}
.svcm-report td.num, .svcm-report th.num {{ text-align: right; white-space: nowrap; }}
.svcm-report th {{ white-space: nowrap; }}
.svcm-report td.nw {{ white-space: nowrap; }}
.svcm-report td.long {{ min-width: 26em; }}
.svcm-report .tbl {{ overflow-x: auto; max-width: 100%; }}
.svcm-report figure {{ margin: 10px 0 16px; overflow-x: auto; }}
.svcm-report figure img {{ max-width: 100%; height: auto; border: 1px solid #eaeef2; }}
.svcm-report figcaption {{ color: #57606a; font-size: 0.85em; }}
.svcm-report .status {{ display: inline-block; font-size: 0.75em; padding: 1px 7px;
  border-radius: 9px; margin-left: 8px; vertical-align: middle; }}
.svcm-report .status-ok {{ background: #dafbe1; color: #116329; }}
.svcm-report .status-not_available, .svcm-report .status-skipped
  {{ background: #eaeef2; color: #57606a; }}
.svcm-report .status-failed {{ background: #ffebe9; color: #a40e26; }}
.svcm-report .kpis {{ display: flex; flex-wrap: wrap; gap: 10px; margin: 8px 0; }}
.svcm-report .kpi {{ border: 1px solid #d0d7de; border-radius: 6px; padding: 6px 12px;
  min-width: 120px; }}
.svcm-report .kpi b {{ display: block; font-size: 1.25em; }}
.svcm-report .kpi span {{ color: #57606a; font-size: 0.8em; }}
.svcm-report .note {{ color: #57606a; font-size: 0.9em; }}
@media print {{
  .svcm-report nav {{ display: none; }}
  .svcm-report section {{ break-before: page; }}
  .svcm-report .tbl {{ overflow: visible; }}
}}
"""


# =============================================================================
# Result objects
# =============================================================================
@dataclass(frozen=True, eq=False)
class ReportSection:
    """One section of a :class:`Report`: an HTML fragment and how it went.

    Attributes
    ----------
    key : str
        One of :data:`REPORT_SECTIONS`.
    title : str
        The heading.
    body : str
        The HTML fragment (data labels escaped, figures inlined).
    status : {"ok", "not_available", "skipped", "failed"}
        ``not_available``: the analysis module is not part of this installation;
        ``skipped``: the data or options do not allow it (e.g. no SOP given);
        ``failed``: the analysis raised an error (in ``note``).
    note : str
        Why a section was skipped or failed.
    seconds : float
        Time the section took.
    """

    key: str
    title: str
    body: str
    status: Status = "ok"
    note: str = ""
    seconds: float = 0.0

    def to_html(self) -> str:
        """The section as an HTML fragment (``<section id=key>``)."""
        badge = "" if self.status == "ok" else self.status.replace("_", " ")
        badge_html = (
            f'<span class="status status-{self.status}">{_h(badge)}</span>' if badge else ""
        )
        note = f'<p class="note">{_h(self.note)}</p>' if self.note else ""
        return (
            f'<section id="{_h(self.key)}"><h2>{_h(self.title)}{badge_html}'
            f"</h2>{note}{self.body}</section>"
        )

    def _repr_html_(self) -> str:
        return f'<div class="svcm-report"><style>{_CSS}</style>{self.to_html()}</div>'

    def __repr__(self) -> str:
        return f"ReportSection({self.key!r}, status={self.status!r}, {self.seconds:.1f} s)"


@dataclass(frozen=True, eq=False)
class Report:
    """A built report: sections in order, and the analysis results behind them.

    Attributes
    ----------
    title : str
        The report's title.
    sections : tuple of ReportSection
        In :data:`REPORT_SECTIONS` order.
    results : Mapping[str, Any]
        The analysis objects the sections show (``"graph"``, ``"variants"``,
        ``"rework"``, ``"handoffs"``, ``"conformance"``, ``"kpis"``,
        ``"pain_points"``, ``"quality"``), for reuse without recomputing.
    created : str
        When it was built (ISO 8601, UTC).
    meta : Mapping[str, Any]
        Tickets, events, period, SOP name, calendar, files.
    """

    title: str
    sections: tuple[ReportSection, ...]
    results: Mapping[str, Any] = field(default_factory=dict)
    created: str = ""
    meta: Mapping[str, Any] = field(default_factory=dict)
    explorer: str = ""  # the interactive explorer (svcmining._explorer), shown by its script

    def section(self, key: str) -> ReportSection:
        """The section ``key`` (one of :data:`REPORT_SECTIONS`)."""
        for s in self.sections:
            if s.key == key:
                return s
        raise InvalidParameterError(
            f"The 'key' parameter of Report.section must be one of "
            f"{{{', '.join(repr(s.key) for s in self.sections)}}}. Got {key!r} instead."
        )

    @property
    def failed(self) -> list[ReportSection]:
        """Sections whose analysis raised an error."""
        return [s for s in self.sections if s.status == "failed"]

    def to_frame(self) -> pd.DataFrame:
        """One row per section: ``section``, ``title``, ``status``, ``note``, ``seconds``."""
        return pd.DataFrame(
            {
                "section": [s.key for s in self.sections],
                "title": [s.title for s in self.sections],
                "status": [s.status for s in self.sections],
                "note": [s.note for s in self.sections],
                "seconds": [round(s.seconds, 3) for s in self.sections],
            }
        )

    def _body(self) -> str:
        meta = self.meta
        facts = []
        for label, key in (
            ("tickets", "cases"),
            ("events", "events"),
            ("activities", "activities"),
            ("period", "period"),
            ("SOP", "sop"),
            ("hours", "calendar"),
        ):
            if meta.get(key) not in (None, ""):
                value = meta[key]
                text = f"{value:,}" if isinstance(value, int) else str(value)
                facts.append(f"{_h(label)}: {_h(text)}")
        toc = "".join(
            f'<li><a href="#{_h(s.key)}">{_h(s.title)}</a>'
            + (f" ({_h(s.status.replace('_', ' '))})" if s.status != "ok" else "")
            + "</li>"
            for s in self.sections
        )
        headline = meta.get("headline") or []
        key_figures = (
            '<section id="key_figures"><h2>Key figures</h2>' + _kpi_tiles(headline) + "</section>"
            if headline
            else ""
        )
        return (
            f"<header><h1>{_h(self.title)}</h1>"
            f'<p class="meta">{" · ".join(facts)}</p>'
            f'<p class="meta">svcmining {_h(__version__)}, built '
            f"{_h(self.created)}</p></header>"
            f"<nav><ol>{toc}</ol></nav>"
            + key_figures
            + "".join(
                s.to_html() + (self.explorer if s.key == "process_map" else "")
                for s in self.sections
            )
        )

    def to_html(self) -> str:
        """The whole report as one self-contained HTML document."""
        csp = _CSP
        if self.explorer:  # its inline script only, allowed by its hash
            from ._explorer import csp_script_source

            csp += f"; script-src {csp_script_source()}"
        return (
            "<!DOCTYPE html>\n"
            '<html lang="en"><head><meta charset="utf-8">'
            f'<meta http-equiv="Content-Security-Policy" content="{csp}">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f'<meta name="generator" content="svcmining {_h(__version__)}">'
            f"<title>{_h(self.title)}</title><style>{_CSS}</style></head>"
            f'<body><main class="svcm-report">{self._body()}</main></body></html>\n'
        )

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the report to ``path`` (folders are created); returns the path."""
        p = Path(path)
        if p.suffix.lower() not in (".html", ".htm"):
            raise InvalidParameterError(
                f"The report is an HTML file; give a path ending in .html. Got {str(p)!r}."
            )
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(self.to_html(), encoding="utf-8")
        return p

    def _repr_html_(self) -> str:
        """Header, key figures and the section list; the pictures stay in the saved file."""
        from ._repr import html_table

        meta = self.meta
        facts = [
            f"{label}: {meta[key]:,}" if isinstance(meta[key], int) else f"{label}: {meta[key]}"
            for label, key in (("tickets", "cases"), ("events", "events"), ("period", "period"))
            if meta.get(key) not in (None, "")
        ]
        headline = meta.get("headline") or []
        sections = self.to_frame()[["title", "status", "note", "seconds"]]
        return (
            f'<div class="svcm-report"><style>{_CSS}</style>'
            f"<h1>{html.escape(self.title)}</h1>"
            f'<p class="meta">{html.escape(" · ".join(facts))}</p>'
            + (_kpi_tiles(headline[:12]) if headline else "")
            + html_table(sections, "Sections", max_rows=20)
            + "<p>The full report with its pictures: <code>report.save('report.html')</code>; "
            "one section inline: <code>report.section('rework')</code>.</p></div>"
        )

    def __repr__(self) -> str:
        states = ", ".join(f"{s.key}: {s.status}" for s in self.sections)
        n = self.meta.get("cases")
        size = f"{n:,} tickets; " if isinstance(n, int) else ""
        return f"Report({self.title!r}; {size}{states})"


# =============================================================================
# HTML helpers
# =============================================================================
def _h(text: str) -> str:
    """Data text as HTML: controls and bidi overrides shown as escapes, then HTML-escaped."""
    return html.escape(escape_text(text))


def _fmt_cell(v: Any) -> Any:
    if isinstance(v, float):
        if pd.isna(v):
            return ""
        if abs(v) >= 1000:
            return f"{v:,.0f}"
        return f"{v:,.3f}".rstrip("0").rstrip(".") if v != int(v) else f"{int(v):,}"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, int):
        return f"{v:,}"
    if isinstance(v, pd.Timestamp):
        return "" if pd.isna(v) else v.strftime("%Y-%m-%d %H:%M")
    if isinstance(v, tuple | list):
        return " → ".join(map(str, v))
    if v is None or (not isinstance(v, str) and pd.api.types.is_scalar(v) and pd.isna(v)):
        return ""
    return v


def _table(df: pd.DataFrame, *, max_rows: int = 15, caption: str = "") -> str:
    """A DataFrame as an escaped HTML table (numbers formatted, right-aligned)."""
    if df is None or len(df) == 0:
        return '<p class="note">(none)</p>'
    shown = df.head(max_rows)
    num_cols = {c for c in shown.columns if pd.api.types.is_numeric_dtype(shown[c])}
    head = "".join(
        f'<th class="{"num" if c in num_cols else ""}">{_h(str(c))}</th>' for c in shown.columns
    )
    rows = []
    cols = list(shown.columns)
    for rec in shown.itertuples(index=False, name=None):
        cells = []
        for c, v in zip(cols, rec, strict=True):
            text = str(_fmt_cell(v))
            if c in num_cols:
                cls = ' class="num"'
            elif len(text) > 60:
                cls = ' class="long"'  # evidence, sequences: give them room, not tall rows
            elif len(text) <= 14:
                cls = ' class="nw"'
            else:
                cls = ""
            cells.append(f"<td{cls}>{_h(text)}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    cap = f"<caption>{_h(caption)}</caption>" if caption else ""
    more = (
        f'<p class="note">… {len(df) - max_rows:,} more rows not shown</p>'
        if len(df) > max_rows
        else ""
    )
    return (
        f'<div class="tbl"><table>{cap}<thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div>{more}"
    )


def _kpi_tiles(items: Sequence[tuple[str, str]]) -> str:
    tiles = "".join(f'<div class="kpi"><b>{_h(v)}</b><span>{_h(k)}</span></div>' for k, v in items)
    return f'<div class="kpis">{tiles}</div>'


def _img(data: bytes, mime: str, alt: str, caption: str = "") -> str:
    uri = f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"
    cap = f"<figcaption>{_h(caption)}</figcaption>" if caption else ""
    return f'<figure><img alt="{_h(alt)}" src="{uri}">{cap}</figure>'


_PNG_DPI = 110
# zlib level of the inlined PNGs: level 1 encodes a dashboard ~4x faster than the
# default 6, for a somewhat larger file (charts are flat colour areas)
_PNG_COMPRESS = 1
_MAX_GROUPS_PLOTTED = 15

_FONT_ATTR = re.compile(r'font-family="[^"]*"')


def _svg_with_font_stack(svg: bytes) -> bytes:
    """Graphviz SVG names one font; give the browser the whole CJK stack instead. Control
    and bidi characters from labels become visible escapes (raw, they make the SVG
    ill-formed XML)."""
    text = escape_text(svg.decode("utf-8"), keep="\n\r\t")
    text = _FONT_ATTR.sub(f'font-family="{_SVG_FONT_STACK}"', text)
    return text.encode("utf-8")


def _figure_of(obj: Any) -> Any:
    """The matplotlib Figure behind a Figure, Axes or array of Axes (else None)."""
    from matplotlib.figure import Figure

    if isinstance(obj, Figure):
        return obj
    if hasattr(obj, "get_figure") and callable(obj.get_figure):
        fig = obj.get_figure()
        while fig is not None and not isinstance(fig, Figure) and hasattr(fig, "get_figure"):
            fig = fig.get_figure()  # subfigures
        return fig
    if (isinstance(obj, Sequence) and not isinstance(obj, str | bytes)) or hasattr(obj, "flat"):
        items = list(obj.flat) if hasattr(obj, "flat") else list(obj)
        for item in items:
            fig = _figure_of(item)
            if fig is not None:
                return fig
    return None


def _picture(obj: Any, alt: str, caption: str = "") -> str:
    """Inline a plot result: a Graphviz ProcessMap as SVG, a matplotlib Figure/Axes as PNG."""
    if obj is None:
        return ""
    render = getattr(obj, "render", None)
    if callable(render) and getattr(obj, "source", None) is not None:
        return _img(_svg_with_font_stack(render("svg")), "image/svg+xml", alt, caption)
    if callable(render) and getattr(obj, "engine", None) == "matplotlib":
        # a process map from the built-in layout: SVG too (glyphs as paths, sharp at any zoom)
        import matplotlib.pyplot as plt

        svg = render("svg")
        plt.close(obj.figure)
        return _img(svg, "image/svg+xml", alt, caption)
    fig = _figure_of(getattr(obj, "figure", None) if callable(render) else obj)
    if fig is None:
        return ""
    import matplotlib.pyplot as plt

    png = _png(fig)  # PNG: glyphs baked in (no font needed), fast and small for big charts
    plt.close(fig)
    return _img(png, "image/png", alt, caption)


def _png(fig: Any) -> bytes:
    """The figure as PNG at ``_PNG_DPI``, drawn once where its layout is already done.

    ``savefig`` draws a figure twice when it has a layout engine (or a tight bounding
    box is asked for): once to lay it out, once to paint. A figure laid out by
    ``tight_layout`` or constrained layout (all of svcmining's own) is painted in one
    draw here; any other figure is saved with a tight bounding box, so that no label is
    cut off.
    """
    buf = io.BytesIO()
    if fig.get_layout_engine() is None:
        fig.savefig(
            buf,
            format="png",
            dpi=_PNG_DPI,
            bbox_inches="tight",
            pil_kwargs={"compress_level": _PNG_COMPRESS},
        )
        return buf.getvalue()
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from PIL import Image

    fig.set_dpi(_PNG_DPI)
    canvas = FigureCanvasAgg(fig)
    canvas.draw()  # a constrained layout is done inside this draw
    width, height = canvas.get_width_height(physical=True)
    Image.frombuffer("RGBA", (width, height), canvas.buffer_rgba(), "raw", "RGBA", 0, 1).save(
        buf, format="png", compress_level=_PNG_COMPRESS
    )
    return buf.getvalue()


def _dot_svg(source: str) -> bytes | None:
    exe = shutil.which("dot")
    if exe is None:
        return None
    done = subprocess.run(  # noqa: S603 - fixed program, our DOT text on stdin
        [exe, "-Tsvg"], input=source.encode("utf-8"), capture_output=True, timeout=120, check=False
    )
    if done.returncode != 0:
        raise SvcMiningError(
            "Graphviz failed to draw the SOP: " + done.stderr.decode("utf-8", "replace")[:300]
        )
    return done.stdout


def _frame_of(obj: Any) -> pd.DataFrame | None:
    if isinstance(obj, pd.DataFrame):
        return obj
    to_frame = getattr(obj, "to_frame", None)
    if callable(to_frame):
        out = to_frame()
        return out if isinstance(out, pd.DataFrame) else None
    return None


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


class _NotAvailable(Exception):
    """A section's module is not part of this installation."""


class _Skip(Exception):
    """A section cannot be built from this data / these options."""


def _fmt_num(v: Any, digits: int = 3) -> str:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return str(v)
    if pd.isna(f):
        return "n/a"
    return f"{f:.{digits}f}"


def _pct(v: Any) -> str:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return str(v)
    return "n/a" if pd.isna(f) else f"{f * 100:.1f}%"


# =============================================================================
# Sections
# =============================================================================
@dataclass
class _Ctx:
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


def _sec_quality(ctx: _Ctx) -> str:
    from .quality import check_quality

    parts = []
    rep = ctx.log.report
    if rep is not None:
        parts.append(
            _kpi_tiles(
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
        parts.append("<h3>Files read</h3>" + _table(files, max_rows=50))
        if len(rep.dropped):
            dropped = rep.dropped.copy()
            dropped["examples"] = [
                "; ".join(f"{Path(str(f)).name} line {ln}: {v}" for f, ln, v in list(ex)[:3])
                for ex in dropped["examples"]
            ]
            parts.append("<h3>Dropped rows by reason</h3>" + _table(dropped))
        if len(rep.conflicts):
            conflicts = rep.conflicts.copy()
            for col in ("kept_file", "dropped_file"):
                if col in conflicts.columns:
                    conflicts[col] = [Path(str(f)).name for f in conflicts[col]]
            if "dropped_line" in conflicts.columns:  # a line number, not a quantity
                conflicts["dropped_line"] = conflicts["dropped_line"].astype(str)
            parts.append(
                "<h3>Events exported twice with different values (newer export kept)</h3>"
                + _table(conflicts, max_rows=ctx.top)
            )
        if rep.notes:
            parts.append(
                "<h3>Notes</h3><ul>"
                + "".join(f"<li>{_h(str(n))}</li>" for n in rep.notes)
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
    parts.append("<h3>Data-quality checks</h3>" + _table(shown, max_rows=50))
    parts.append(_counters_html(ctx))
    return "".join(parts)


def _counters_html(ctx: _Ctx) -> str:
    """The system-counter cross-check (:func:`svcmining.check_counters`), when the export
    has counters (kept in ``results["counters"]``); empty otherwise."""
    from .counters import check_counters

    cc = check_counters(ctx.log, sop=ctx.sop)
    ctx.results["counters"] = cc
    if not cc.found:
        return ""
    shown = cc.table.copy()
    for col in ("share_equal", "share_not_above"):
        shown[col] = [_pct(v) for v in shown[col]]
    shown["examples"] = ["; ".join(map(str, list(ex)[:3])) for ex in shown["examples"]]
    notes = "".join(f"<li>{html.escape(n)}</li>" for n in cc.notes)
    return (
        "<h3>System counters</h3>"
        '<p class="note">The export\'s own per-ticket counters compared with what svcmining '
        "counted. Audit exports can miss updates, so a derived count below the counter "
        "happens; a derived count above it (column <i>above</i>) is the suspicious "
        "direction: check the state labels or the grouping column.</p>"
        + _table(shown)
        + (f"<ul>{notes}</ul>" if notes else "")
    )


def _sec_process_map(ctx: _Ctx) -> str:
    from .discovery import discover_dfg
    from .plots import plot_process_map

    g = discover_dfg(ctx.log, calendar=ctx.calendar)
    ctx.results["graph"] = g
    basis = "business" if ctx.calendar is not None else "elapsed"
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # no-Graphviz advice: the map still draws
        m = plot_process_map(g, metric="cases", min_share=0.01)
    parts = [
        _picture(
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
        + _table(slow[cols], max_rows=ctx.top)
    )
    return "".join(parts)


def _sec_variants(ctx: _Ctx) -> str:
    from .discovery import variants

    v = variants(ctx.log, calendar=ctx.calendar)
    ctx.results["variants"] = v
    n = len(v)
    top = v.head(ctx.top)
    cover = float(top["share"].sum()) if n else 0.0
    shown = top.copy()
    shown["sequence"] = [" → ".join(map(str, s)) for s in shown["sequence"]]
    cols = [c for c in shown.columns if c != "sequence"] + ["sequence"]
    return (
        f"<p>{n:,} distinct variants; the {len(top)} most frequent cover {_pct(cover)} of "
        "tickets.</p>" + _table(shown[cols], max_rows=ctx.top)
    )


def _sec_rework(ctx: _Ctx) -> str:
    from .rework import find_rework

    rw = find_rework(ctx.log, sop=ctx.sop, calendar=ctx.calendar)
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
        ("hours lost", f"{s.get('rework_hours', 0.0):,.0f}"),
    ]
    kinds = pd.DataFrame(
        {
            "kind": [k[2:] for k in s if k.startswith("n_")],
            "occurrences": [int(s[k]) for k in s if k.startswith("n_")],
        }
    )
    parts = [_kpi_tiles(tiles), "<h3>Occurrences by kind</h3>" + _table(kinds)]
    occ = rw.occurrences
    if len(occ):
        caption = ""
        groups = occ.groupby("again_group", dropna=False)["rework_hours"].sum()
        if len(groups) > _MAX_GROUPS_PLOTTED:  # a readable chart: the costliest groups only
            top = groups.sort_values(ascending=False, kind="stable").index[:_MAX_GROUPS_PLOTTED]
            shown = dataclasses.replace(rw, occurrences=occ[occ["again_group"].isin(top)])
            caption = (
                f"The {_MAX_GROUPS_PLOTTED} {rw.group} values with most hours lost of "
                f"{len(groups):,}."
            )
        else:
            shown = rw
        parts.append(_picture(shown.plot(metric="hours"), "rework by group and kind", caption))
    by_act = rw.by_activity.sort_values("rework_hours", ascending=False, kind="stable")
    by_act = by_act.reset_index() if "activity" not in by_act.columns else by_act
    parts.append("<h3>By activity</h3>" + _table(by_act, max_rows=ctx.top))
    return "".join(parts)


def _sec_handoffs(ctx: _Ctx) -> str:
    handoff_delays = _optional("handoffs", "handoff_delays")
    if handoff_delays is None:
        raise _NotAvailable("svcmining.handoffs is not part of this installation")
    if "department" not in ctx.events.columns:
        raise _Skip("the log has no department column")
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
            tiles.append(("share of ticket time waiting on handoffs", _pct(share)))
        if "ping_pong" in cases.columns:
            tiles.append(("ping-pong tickets", f"{int(cases['ping_pong'].sum()):,}"))
        parts.append(_kpi_tiles(tiles))
    plot = getattr(ho, "plot", None)
    if callable(plot):
        parts.append(_picture(plot(), "handoff heatmap"))
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
        parts.append("<h3>Worst pairs (hours lost)</h3>" + _table(worst, max_rows=ctx.top))
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


def _sec_conformance(ctx: _Ctx) -> str:
    if ctx.sop is None:
        raise _Skip("no SOP given (svcmining report --sop sop.yaml)")
    from .conformance import check_sop

    started = ctx.ahead.pop("conformance", None)
    if started is not None:
        cr = started.result()
    else:
        cr = check_sop(ctx.log, ctx.sop, precision=ctx.precision, max_seconds=ctx.max_seconds)
    ctx.results["conformance"] = cr

    def metric(name: str) -> float:
        try:
            return float(cr.metric(name))
        except (KeyError, ValueError, TypeError):
            return float("nan")

    parts = [
        _kpi_tiles(
            [
                ("log fitness", _fmt_num(metric("log_fitness"))),
                ("conforming tickets", _pct(metric("conformance_rate"))),
                ("deviation rate", _pct(metric("deviation_rate"))),
                ("SLA attainment", _pct(metric("sla_attainment"))),
            ]
            + ([("precision", _fmt_num(metric("precision")))] if ctx.precision else [])
        )
    ]
    comparison, hidden = _readable_comparison(cr.comparison, len(cr.cases))
    svg = _dot_svg(comparison.to_dot())
    if svg is None:  # no Graphviz: svcmining's own layered layout, as SVG
        import matplotlib.pyplot as plt

        from .plots import _figure_svg

        fig = comparison.plot().get_figure()
        svg = _figure_svg(fig)
        plt.close(fig)
    note = (
        f" {hidden:,} flows outside the SOP used by fewer than "
        f"{_MIN_EXTRA_SHARE:.0%} of tickets are not drawn (see the table of flows "
        "outside the SOP)."
        if hidden
        else ""
    )
    parts.append(
        _img(
            _svg_with_font_stack(svg),
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
        parts.append("<h3>Deviations by type</h3>" + _table(by_type))
    extra = getattr(cr.comparison, "extra", None)
    if isinstance(extra, pd.DataFrame) and len(extra):
        cols = [c for c in ("source", "target", "count", "cases", "median_hours") if c in extra]
        parts.append(
            "<h3>Flows outside the SOP (most frequent)</h3>" + _table(extra[cols], max_rows=ctx.top)
        )
    parts.append("<h3>Per SOP step</h3>" + _table(cr.steps, max_rows=40))
    if len(cr.sla_attainment):
        parts.append("<h3>SLA attainment</h3>" + _table(cr.sla_attainment, max_rows=40))
    if len(dev):
        cols = [
            c
            for c in ("case_id", "type", "step", "activity", "at", "department", "detail")
            if c in dev.columns
        ]
        examples = dev.groupby("type", sort=False).head(3)[cols]  # a few of every type
        parts.append(
            "<h3>Example deviations (up to 3 per type)</h3>" + _table(examples, max_rows=30)
        )
    return "".join(parts)


def _reuse(func: Callable[..., Any], ctx: _Ctx) -> dict[str, Any]:
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


def _sec_kpis(ctx: _Ctx) -> str:
    service_kpis = _optional("kpis", "service_kpis")
    if service_kpis is None:
        raise _NotAvailable("svcmining.kpis is not part of this installation")
    k = service_kpis(
        ctx.log, sop=ctx.sop, calendar=ctx.calendar, by="month", **_reuse(service_kpis, ctx)
    )
    ctx.results["kpis"] = k
    parts = []
    plot = getattr(k, "plot", None)
    if callable(plot) and not isinstance(k, pd.DataFrame):
        parts.append(_picture(plot(), "KPI dashboard, month over month"))
    wide = getattr(k, "wide", None)
    if callable(wide):
        table = wide().reset_index()
        if "kpi" in table.columns:  # headline KPIs first, the per-stage times after them
            later = table["kpi"].astype(str).str.startswith("stage_")
            table = pd.concat([table[~later], table[later]], ignore_index=True)
        parts.append(_table(table, max_rows=80))
    else:
        frame = _frame_of(k)
        if frame is not None:
            parts.append(_table(_kpi_wide(frame), max_rows=80))
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


def _sec_pain_points(ctx: _Ctx) -> str:
    pain_points = _optional("kpis", "pain_points")
    if pain_points is None:
        raise _NotAvailable("svcmining.kpis (pain_points) is not part of this installation")
    pp = pain_points(ctx.log, sop=ctx.sop, calendar=ctx.calendar, **_reuse(pain_points, ctx))
    ctx.results["pain_points"] = pp
    parts = []
    plot = getattr(pp, "plot", None)
    if callable(plot) and not isinstance(pp, pd.DataFrame):
        parts.append(_picture(plot(), "pain-point map"))
    frame = _frame_of(pp)
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
        parts.append(_table(frame[cols], max_rows=ctx.top + 5))
    return "".join(parts)


_BUILDERS: dict[str, Callable[[_Ctx], str]] = {
    "quality": _sec_quality,
    "process_map": _sec_process_map,
    "variants": _sec_variants,
    "rework": _sec_rework,
    "handoffs": _sec_handoffs,
    "conformance": _sec_conformance,
    "kpis": _sec_kpis,
    "pain_points": _sec_pain_points,
}


def _run_section(key: str, ctx: _Ctx) -> ReportSection:
    title = REPORT_SECTIONS[key]
    t0 = time.perf_counter()
    try:
        body = _BUILDERS[key](ctx)
        status: Status = "ok"
        note = ""
    except _NotAvailable as exc:
        body, status, note = "", "not_available", f"Not available: {exc}."
    except _Skip as exc:
        body, status, note = "", "skipped", f"Skipped: {exc}."
    except ModuleNotFoundError as exc:
        if not (exc.name or "").startswith(f"{__package__}."):
            body, status, note = "", "failed", f"Failed: {type(exc).__name__}: {exc}"
        else:
            body, status = "", "not_available"
            note = f"Not available: it needs {exc.name}, which is not part of this installation."
    except Exception as exc:  # one failing analysis must not lose the whole report
        body, status, note = "", "failed", f"Failed: {type(exc).__name__}: {exc}"
    return ReportSection(key, title, body, status, note, time.perf_counter() - t0)


def _headline(ctx: _Ctx) -> list[tuple[str, str]]:
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
                out.append((label, _pct(cr.metric(name))))
    rw = res.get("rework")
    if rw is not None and len(rw.cases):
        out.append(("tickets with rework", _pct(float(rw.cases["has_rework"].mean()))))
    ho = res.get("handoffs")
    cases = getattr(ho, "cases", None)
    if isinstance(cases, pd.DataFrame) and {"handoff_hours", "cycle_hours"} <= set(cases.columns):
        total = float(cases["cycle_hours"].sum())
        if total > 0:
            out.append(
                ("ticket time waiting on handoffs", _pct(cases["handoff_hours"].sum() / total))
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


# =============================================================================
# Public functions
# =============================================================================
def _resolve_calendar(calendar: Any, sop: SOP | None) -> Calendar | None:
    if calendar is None:
        return None
    if isinstance(calendar, str):
        if calendar == "sop":
            return sop.calendar if sop is not None else None
        if calendar in ("none", "elapsed"):
            return None
        raise InvalidParameterError(
            "The 'calendar' parameter of build_report must be a Calendar, 'sop', 'none' or "
            f"None. Got {calendar!r} instead."
        )
    from .calendars import Calendar

    if not isinstance(calendar, Calendar):
        raise InvalidParameterError(
            "The 'calendar' parameter of build_report must be a Calendar, 'sop', 'none' or "
            f"None. Got {type(calendar).__name__} instead."
        )
    return calendar


def build_report(
    log: LogLike,
    *,
    sop: SOP | str | os.PathLike[str] | None = None,
    calendar: Calendar | Literal["sop", "none"] | None = "sop",
    title: str | None = None,
    sections: Sequence[str] | None = None,
    top: int = 10,
    precision: bool = False,
    max_seconds: float | None = None,
    benchmarks: Sequence[Any] = (),
    progress: bool | None = None,
    interactive: bool = True,
) -> Report:
    """Run the analyses on a log and collect them into a :class:`Report`.

    Parameters
    ----------
    log : TicketLog or pandas.DataFrame
        The event log (a :class:`TicketLog` from :func:`svcmining.read_tickets` adds
        the load report).
    sop : SOP or path, optional
        The designed process (:func:`svcmining.load_sop`); without it the conformance
        section is skipped.
    calendar : Calendar, "sop", "none" or None
        Business calendar for durations; ``"sop"`` (default) uses the SOP's calendar
        when it has one; ``"none"``/``None``: elapsed hours.
    title : str, optional
        Report title (default "Service process report").
    sections : list of str, optional
        Keys of :data:`REPORT_SECTIONS` to build (default all), e.g. ``["rework"]``.
    top : int
        Rows in the "top N" tables (variants, slowest transitions, worst pairs ...).
    precision : bool
        Also compute the SOP's ETC precision (slow on large logs).
    max_seconds : float, optional
        Time box for the SOP alignments (see :func:`svcmining.check_sop`).
    benchmarks : list of StepBenchmark, optional
        Steps compared with a duration benchmark in the KPI and pain-point sections,
        e.g. ``[svc.StepBenchmark("远程排障", "4h", "1h")]``.
    progress : bool, optional
        Show a tqdm bar over the sections on stderr; default only when stderr is a
        terminal.
    interactive : bool
        Add the interactive explorer (process map with sliders, variants, dotted chart,
        tickets behind each element; an inline script allowed by its hash in the page's
        Content-Security-Policy). ``False``: a page with no script at all.

    Returns
    -------
    Report
        ``.save("report.html")`` writes one self-contained file; ``.section(key)``
        shows one section in a notebook; ``.results`` holds the analysis objects.

    Examples
    --------
    >>> import svcmining as svc                                             # doctest: +SKIP
    >>> log = svc.read_tickets("sample_logs/", timezone="Asia/Shanghai")   # doctest: +SKIP
    >>> rep = svc.build_report(log, sop="sample_logs/sop_complaint.yaml")  # doctest: +SKIP
    >>> rep.save("svcmining-report/report.html")                           # doctest: +SKIP
    >>> rep.section("rework")                                              # doctest: +SKIP
    """
    from ._validation import check_positive_int

    top = check_positive_int("build_report", "top", top)
    if sections is None:
        keys = list(REPORT_SECTIONS)
    else:
        if isinstance(sections, str):
            sections = [sections]
        for k in sections:
            if k not in REPORT_SECTIONS:
                raise InvalidParameterError(
                    "The 'sections' parameter of build_report must hold keys of "
                    f"{{{', '.join(repr(s) for s in REPORT_SECTIONS)}}}. Got {k!r} instead."
                )
        keys = [k for k in REPORT_SECTIONS if k in set(sections)]
    ticket_log = as_ticket_log(log)
    events = as_events(ticket_log)
    if sop is not None and not hasattr(sop, "steps"):
        from .sop import load_sop

        sop = load_sop(sop)
    sop_obj: SOP | None = sop  # type: ignore[assignment]
    cal = _resolve_calendar(calendar, sop_obj)
    ctx = _Ctx(ticket_log, events, sop_obj, cal, {}, top, precision, max_seconds, tuple(benchmarks))
    if sop_obj is not None and "conformance" in keys:
        # the SOP check needs no other section: start it now on the second core, beside the
        # sections before it (numpy / pyarrow release the GIL in their loops)
        from concurrent.futures import ThreadPoolExecutor

        from .conformance import check_sop

        pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="svcmining-sop")
        ctx.ahead["conformance"] = pool.submit(
            check_sop,
            ticket_log,
            sop_obj,
            precision=precision,
            max_seconds=max_seconds,
            progress=False,
        )
        pool.shutdown(wait=False)
    from ._progress import progress_bar

    bar = progress_bar(len(keys), desc="report", unit="section", enabled=progress)
    secs_list = []
    for k in keys:
        if bar is not None:
            bar.set_postfix_str(k)
        secs_list.append(_run_section(k, ctx))
        if bar is not None:
            bar.update(1)
    if bar is not None:
        bar.close()
    secs = tuple(secs_list)
    ts = events["timestamp"]
    meta: dict[str, Any] = {
        "cases": int(events["case_id"].nunique()),
        "events": len(events),
        "activities": int(events["activity"].nunique()),
        "period": (f"{ts.min():%Y-%m-%d} .. {ts.max():%Y-%m-%d}" if len(events) else ""),
        "sop": sop_obj.name if sop_obj is not None else "",
        "calendar": "business hours (calendar)" if cal is not None else "elapsed hours",
    }
    if ticket_log.report is not None:
        meta["files"] = [Path(str(f)).name for f in ticket_log.report.files.get("file", [])]
    meta["headline"] = _headline(ctx)
    from ._explorer import report_fragment

    explorer = report_fragment(ticket_log, ctx.results, cal) if interactive else ""
    created = _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return Report(
        title=title or "Service process report",
        sections=secs,
        results=ctx.results,
        created=created,
        meta=meta,
        explorer=explorer,
    )


def render_report(
    log: LogLike,
    path: str | os.PathLike[str] = "svcmining-report/report.html",
    **options: Any,
) -> Path:
    """Build the report (options as :func:`build_report`) and write it to ``path``.

    Examples
    --------
    >>> render_report(log, "report.html", sop="sample_logs/sop_complaint.yaml")  # doctest: +SKIP
    """
    return build_report(log, **options).save(path)
