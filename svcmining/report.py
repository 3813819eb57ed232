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

The report tells one story, in this order: the headline tiles (each with its change
from the month before, over the last two full months), then the sections below; each
section opens with one sentence stating its finding, computed from the data. It is
written in English or Chinese (``lang=``; by default Chinese when the activity labels
are Chinese, :func:`svcmining._i18n.default_lang`); labels from the data stay as they
are. Tables show human column names with units, percentages and thousands separators
(:mod:`svcmining._reportcolumns`); every row is in the page, the long tail behind a
"show all" switch (a table over 2,000 rows also offers itself as a CSV download).

Sections (``Report.section(key)``; each shows on its own in a notebook):

=================  ===============================================================
``pain_points``    breakpoints ranked by hours lost, with the KPI each one hurts and
                   a first check (:func:`svcmining.pain_points`)
``process_map``    the process map (:func:`svcmining.plot_process_map`), the top
                   pain points listed under it, the transitions by wait
``variants``       the most frequent variants (:func:`svcmining.variants`)
``rework``         rework loops by kind and department (:func:`svcmining.find_rework`)
``handoffs``       handoff heatmap and the worst department pairs
                   (:func:`svcmining.handoff_delays`)
``conformance``    SOP conformance, deviations, SLA attainment and the SOP drawn with
                   the actual flows overlaid (:func:`svcmining.check_sop`)
``kpis``           service KPIs month over month (:func:`svcmining.service_kpis`)
``quality``        appendix: the load report (files, rows kept and dropped per reason)
                   and the data-quality findings (:func:`svcmining.check_quality`)
``glossary``       what hours lost, rework kinds, deviation types, SLA rules, KPIs and
                   the charts' dashed lines mean (last)
=================  ===============================================================

A section whose module is not part of the installation says *not available*; one
that fails says so with the error (the rest of the report is still written).
"""

from __future__ import annotations

import datetime as _dt
import html
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import pandas as pd

from . import conformance  # looked up at call time (a test counts the calls)
from ._explorer import report_fragment
from ._i18n import check_lang, default_lang, tr
from ._progress import progress_bar
from ._reportparts import escape_html, kpi_tiles
from ._reportsections import BUILDERS, Ctx, NotAvailable, Skip, headline_figures, months_note
from ._repr import html_table
from ._validation import check_positive_int
from ._version import __version__
from .calendars import Calendar
from .eventlog import LogLike, as_events, as_ticket_log
from .exceptions import InvalidParameterError
from .sop import load_sop

if TYPE_CHECKING:
    from .sop import SOP

__all__ = ["REPORT_SECTIONS", "Report", "ReportSection", "build_report", "render_report"]

#: Section keys in report order (the story a manager reads), with their English titles.
REPORT_SECTIONS: dict[str, str] = {
    "pain_points": "Pain points ranked by hours lost",
    "process_map": "Process map",
    "variants": "Variants",
    "rework": "Rework",
    "handoffs": "Handoffs between departments",
    "conformance": "SOP conformance and SLAs",
    "kpis": "Service KPIs month over month",
    "quality": "Appendix: data quality and load report",
    "glossary": "Glossary",  # last, after the appendix
}
#: The titles in Chinese (a key missing here shows its English title).
SECTION_TITLES_ZH: dict[str, str] = {
    "pain_points": "按损失工时排序的痛点",
    "process_map": "流程图",
    "variants": "流程变体",
    "rework": "返工",
    "handoffs": "部门间交接",
    "conformance": "SOP 符合性与 SLA",
    "kpis": "月度服务指标",
    "quality": "附录：数据质量与加载报告",
    "glossary": "术语表",
}
#: Sections built after the others, whose results they reuse (the pain points reuse
#: rework, handoffs, conformance and the graph; the map lists the top pain points).
_BUILT_LAST = ("pain_points", "process_map")

Status = Literal["ok", "not_available", "skipped", "failed"]

#: Fonts the page asks for, in order; Chinese renders with the first one installed.
FONT_STACK = (
    'system-ui, -apple-system, "Segoe UI", "Noto Sans CJK SC", "Noto Sans SC", '
    '"Source Han Sans SC", "PingFang SC", "Hiragino Sans GB", "Microsoft YaHei", '
    '"WenQuanYi Micro Hei", "Droid Sans Fallback", sans-serif'
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
.svcm-report .kpi i {{ display: block; color: #57606a; font-size: 0.75em;
  font-style: normal; }}
.svcm-report .note {{ color: #57606a; font-size: 0.9em; }}
.svcm-report p.lead {{ font-size: 1.05em; font-weight: 600; margin: 8px 0 10px; }}
.svcm-report .tblwrap {{ display: flex; flex-direction: column; }}
.svcm-report .tblwrap details.rows {{ order: 2; font-size: 0.85em; margin: -6px 0 12px; }}
.svcm-report details.rows summary {{ cursor: pointer; color: #0969da; }}
.svcm-report details.rows:not([open]) + .tbl tbody.rest {{ display: none; }}
.svcm-report details.rows[open] summary .more,
  .svcm-report details.rows:not([open]) summary .less {{ display: none; }}
@media print {{
  .svcm-report nav {{ display: none; }}
  .svcm-report section {{ break-before: page; }}
  .svcm-report .tbl {{ overflow: visible; }}
  .svcm-report tbody.rest {{ display: table-row-group !important; }}
  .svcm-report details.rows {{ display: none; }}
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
    lang : {"en", "zh"}
        The language it is written in.
    """

    key: str
    title: str
    body: str
    status: Status = "ok"
    note: str = ""
    seconds: float = 0.0
    lang: str = "en"

    def to_html(self) -> str:
        """The section as an HTML fragment (``<section id=key>``)."""
        badge = "" if self.status == "ok" else _status_text(self.status, self.lang)
        badge_html = (
            f'<span class="status status-{self.status}">{escape_html(badge)}</span>'
            if badge
            else ""
        )
        note = f'<p class="note">{escape_html(self.note)}</p>' if self.note else ""
        return (
            f'<section id="{escape_html(self.key)}"><h2>{escape_html(self.title)}{badge_html}'
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
    lang : {"en", "zh"}
        The language the report is written in.
    """

    title: str
    sections: tuple[ReportSection, ...]
    results: Mapping[str, Any] = field(default_factory=dict)
    created: str = ""
    meta: Mapping[str, Any] = field(default_factory=dict)
    explorer: str = ""  # the interactive explorer (svcmining._explorer), shown by its script
    lang: str = "en"

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

    def _facts(self, keys: Sequence[str]) -> list[str]:
        """The log's facts (tickets, events, period ...) as "label: value", in the language."""
        lang = self.lang
        labels = {
            "cases": tr(lang, en="tickets", zh="工单"),
            "events": tr(lang, en="events", zh="事件"),
            "activities": tr(lang, en="activities", zh="活动"),
            "period": tr(lang, en="period", zh="时间范围"),
            "sop": "SOP",
            "calendar": tr(lang, en="hours", zh="时长口径"),
        }
        facts = []
        for key in keys:
            value = self.meta.get(key)
            if value in (None, ""):
                continue
            text = f"{value:,}" if isinstance(value, int) else str(value)
            if key == "calendar":
                text = _calendar_text(text, lang)
            facts.append(tr(lang, en="{k}: {v}", zh="{k}：{v}", k=labels[key], v=text))
        return facts

    def _body(self) -> str:
        meta = self.meta
        lang = self.lang
        facts = [
            escape_html(f)
            for f in self._facts(("cases", "events", "activities", "period", "sop", "calendar"))
        ]
        toc = "".join(
            f'<li><a href="#{escape_html(s.key)}">{escape_html(s.title)}</a>'
            + (f" ({escape_html(_status_text(s.status, lang))})" if s.status != "ok" else "")
            + "</li>"
            for s in self.sections
        )
        headline = meta.get("headline") or []
        months = str(meta.get("months_note") or "")
        key_figures = (
            '<section id="key_figures"><h2>'
            + escape_html(tr(lang, en="Key figures", zh="关键数字"))
            + "</h2>"
            + kpi_tiles(headline)
            + (f'<p class="note">{escape_html(months)}</p>' if months else "")
            + "</section>"
            if headline
            else ""
        )
        built = tr(lang, en="built", zh="生成于")
        return (
            f"<header><h1>{escape_html(self.title)}</h1>"
            f'<p class="meta">{" · ".join(facts)}</p>'
            f'<p class="meta">svcmining {escape_html(__version__)}, {escape_html(built)} '
            f"{escape_html(self.created)}</p></header>"
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
            f'<html lang="{escape_html(self.lang)}"><head><meta charset="utf-8">'
            f'<meta http-equiv="Content-Security-Policy" content="{csp}">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f'<meta name="generator" content="svcmining {escape_html(__version__)}">'
            f"<title>{escape_html(self.title)}</title><style>{_CSS}</style></head>"
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
        meta = self.meta
        facts = self._facts(("cases", "events", "period"))
        headline = meta.get("headline") or []
        sections = self.to_frame()[["title", "status", "note", "seconds"]]
        return (
            f'<div class="svcm-report"><style>{_CSS}</style>'
            f"<h1>{html.escape(self.title)}</h1>"
            f'<p class="meta">{html.escape(" · ".join(facts))}</p>'
            + (kpi_tiles(headline[:12]) if headline else "")
            + html_table(sections, tr(self.lang, en="Sections", zh="章节"), max_rows=20)
            + tr(
                self.lang,
                en="<p>The full report with its pictures: <code>report.save('report.html')</code>; "
                "one section inline: <code>report.section('rework')</code>.</p>",
                zh="<p>含图片的完整报告：<code>report.save('report.html')</code>；"
                "单独查看一节：<code>report.section('rework')</code>。</p>",
            )
            + "</div>"
        )

    def __repr__(self) -> str:
        states = ", ".join(f"{s.key}: {s.status}" for s in self.sections)
        n = self.meta.get("cases")
        size = f"{n:,} tickets; " if isinstance(n, int) else ""
        return f"Report({self.title!r}; {size}{states})"


def _status_text(status: str, lang: str) -> str:
    texts = {
        "not_available": ("not available", "不可用"),
        "skipped": ("skipped", "已跳过"),
        "failed": ("failed", "失败"),
    }
    en, zh = texts.get(status, (status.replace("_", " "), status.replace("_", " ")))
    return tr(lang, en=en, zh=zh)


def _calendar_text(text: str, lang: str) -> str:
    if text == "business hours (calendar)":
        return tr(lang, en=text, zh="工作小时（按日历）")
    if text == "elapsed hours":
        return tr(lang, en=text, zh="自然小时")
    return text


def section_title(key: str, lang: str) -> str:
    """The title of section ``key`` in ``lang``."""
    en = REPORT_SECTIONS.get(key, key)
    return tr(lang, en=en, zh=SECTION_TITLES_ZH.get(key, en))


def _run_section(key: str, ctx: Ctx) -> ReportSection:
    title = section_title(key, ctx.lang)
    t0 = time.perf_counter()
    lang = ctx.lang
    failed = tr(lang, en="Failed", zh="失败")
    try:
        body = BUILDERS[key](ctx)
        status: Status = "ok"
        note = ""
    except NotAvailable as exc:
        body, status = "", "not_available"
        note = tr(lang, en="Not available: {e}.", zh="不可用：{e}。", e=exc)
    except Skip as exc:
        body, status = "", "skipped"
        note = tr(lang, en="Skipped: {e}.", zh="已跳过：{e}。", e=exc)
    except ModuleNotFoundError as exc:
        if not (exc.name or "").startswith(f"{__package__}."):
            body, status, note = "", "failed", f"{failed}: {type(exc).__name__}: {exc}"
        else:
            body, status = "", "not_available"
            note = tr(
                lang,
                en="Not available: it needs {m}, which is not part of this installation.",
                zh="不可用：需要 {m}，当前安装中没有。",
                m=exc.name,
            )
    except Exception as exc:  # one failing analysis must not lose the whole report
        body, status, note = "", "failed", f"{failed}: {type(exc).__name__}: {exc}"
    return ReportSection(key, title, body, status, note, time.perf_counter() - t0, lang)


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
    lang: Literal["en", "zh"] | None = None,
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
    lang : {"en", "zh"}, optional
        The language of every heading, sentence, column name and note the report writes
        (labels from the data stay as they are). Default: from the data, ``"zh"`` when
        the activity labels are Chinese (:func:`svcmining._i18n.default_lang`).

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
    top = check_positive_int("build_report", "top", top)
    lang = check_lang("build_report", lang)  # type: ignore[assignment]
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
        sop = load_sop(sop)
    sop_obj: SOP | None = sop  # type: ignore[assignment]
    cal = _resolve_calendar(calendar, sop_obj)
    if lang is None:
        lang = default_lang(events["activity"].unique().tolist())
    ctx = Ctx(ticket_log, events, sop_obj, cal, {}, top, precision, max_seconds, tuple(benchmarks))
    ctx.lang = lang
    if sop_obj is not None and "conformance" in keys:
        # the SOP check needs no other section: start it now on the second core, beside the
        # sections before it (numpy / pyarrow release the GIL in their loops)
        from concurrent.futures import ThreadPoolExecutor

        pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="svcmining-sop")
        ctx.ahead["conformance"] = pool.submit(
            conformance.check_sop,
            ticket_log,
            sop_obj,
            precision=precision,
            max_seconds=max_seconds,
            progress=False,
        )
        pool.shutdown(wait=False)
    bar = progress_bar(len(keys), desc="report", unit="section", enabled=progress)
    built: dict[str, ReportSection] = {}
    late = [k for k in _BUILT_LAST if k in keys]
    for k in [k for k in keys if k not in late] + late:
        if bar is not None:
            bar.set_postfix_str(k)
        built[k] = _run_section(k, ctx)
        if bar is not None:
            bar.update(1)
    if bar is not None:
        bar.close()
    secs = tuple(built[k] for k in keys)
    ts = events["timestamp"]
    meta: dict[str, Any] = {
        "cases": len(ticket_log.codes("case_id")[1]),  # the coded log's counts
        "events": len(events),
        "activities": len(ticket_log.codes("activity")[1]),
        "period": (f"{ts.min():%Y-%m-%d} .. {ts.max():%Y-%m-%d}" if len(events) else ""),
        "sop": sop_obj.name if sop_obj is not None else "",
        "calendar": "business hours (calendar)" if cal is not None else "elapsed hours",
        "lang": lang,
    }
    if ticket_log.report is not None:
        meta["files"] = [Path(str(f)).name for f in ticket_log.report.files.get("file", [])]
    meta["headline"] = headline_figures(ctx)
    meta["months_note"] = months_note(ctx)
    explorer = report_fragment(ticket_log, ctx.results, cal, ctx.lang) if interactive else ""
    created = _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return Report(
        title=title or tr(lang, en="Service process report", zh="服务流程报告"),
        sections=secs,
        results=ctx.results,
        created=created,
        meta=meta,
        explorer=explorer,
        lang=lang,
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
