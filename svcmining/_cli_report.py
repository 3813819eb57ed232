"""``svcmining report``, ``discover``, ``info`` and ``demo``: the HTML report, the process
map, the load report with a summary, and the tour of the bundled sample exports."""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path
from typing import Any

from . import __version__
from ._cli_check import LogResult, check_log, evaluate, render_text
from ._cli_common import (
    EXIT_OK,
    MAX_LISTED,
    add_load_options,
    display_path,
    fraction,
    load_logs,
    parse_benchmarks,
    parse_calendar,
    read_logs,
    read_sop,
    sample_dir,
)
from ._outfile import prepare_file, write_file
from ._safetext import escape_text
from .exceptions import InvalidParameterError

__all__ = [
    "DEFAULT_REPORT",
    "DEMO_THRESHOLDS",
    "add_demo_parser",
    "add_discover_parser",
    "add_info_parser",
    "add_report_parser",
    "check_report_out",
    "cmd_demo",
    "cmd_discover",
    "cmd_info",
    "cmd_report",
    "filters_text",
    "print_report_outcome",
    "summary_text",
]

DEFAULT_REPORT = Path("svcmining-report") / "report.html"


def print_report_outcome(rep: Any, path: Path) -> None:
    for s in rep.sections:
        if s.status == "failed":
            print(f"svcmining: warning: report section {s.key!r} {s.note}", file=sys.stderr)
    print(f"Report written to {display_path(path)}")


def check_report_out(out: str) -> Path:
    """``--out`` of report/demo: an .html file we can write, checked before the analysis."""
    if Path(out).suffix.lower() not in (".html", ".htm"):
        raise InvalidParameterError(
            f"--out {out}: the report is an HTML file; give a path ending in .html."
        )
    return prepare_file(out)


def cmd_report(args: argparse.Namespace) -> int:
    from .report import build_report

    out = check_report_out(args.out)
    sop = read_sop(args.sop) if args.sop else None
    cal = parse_calendar(args.calendar, sop)
    log = read_logs(args, args.logs, sop=sop, calendar=cal if cal != "sop" else None)
    rep = build_report(
        log,
        sop=sop,
        calendar=cal,
        title=args.title,
        precision=args.precision,
        benchmarks=parse_benchmarks(args.benchmark),
        lang=args.lang,
    )
    path = write_file(out, rep.to_html())
    print_report_outcome(rep, path)
    return EXIT_OK


def cmd_discover(args: argparse.Namespace) -> int:
    from .discovery import discover_dfg
    from .plots import plot_process_map

    out = Path(args.out)
    if out.suffix.lower() not in (".svg", ".png", ".pdf", ".dot", ".gv"):
        raise InvalidParameterError(
            f"--out {args.out}: the suffix picks the format; use .svg, .png, .pdf or .dot."
        )
    prepare_file(out, example="process-map.svg")
    cal = parse_calendar(args.calendar, None)
    log = read_logs(args, args.logs, calendar=cal)
    graph = discover_dfg(log, calendar=cal)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        pmap = plot_process_map(graph, metric=args.metric, min_share=args.min_share)
    for w in caught:
        print(f"svcmining: note: {w.message}", file=sys.stderr)
    write_file(out, lambda tmp: _save_map(pmap, tmp))
    print(
        f"Process map ({graph.n_cases:,} tickets, {len(graph.edges):,} transitions) written "
        f"to {display_path(out)}"
    )
    return EXIT_OK


def _save_map(pmap: Any, path: Path) -> None:
    """Save the map; in SVG and DOT text, control and bidi characters from labels become
    visible escapes (raw, they make the SVG ill-formed XML)."""
    pmap.save(path)
    if path.suffix.lower() in (".svg", ".dot", ".gv"):
        text = path.read_text(encoding="utf-8")
        safe = escape_text(text, keep="\n\r\t")
        if safe != text:
            path.write_text(safe, encoding="utf-8", newline="")


def summary_text(log: Any) -> str:
    import pandas as pd

    from .quality import check_quality, open_cases

    ev = log.events
    lines = ["", "Summary"]
    s = log.summary()
    lines.append(
        f"  {s['cases']:,} tickets, {s['events']:,} events, {s['activities']} activities, "
        f"{s['first_event']:%Y-%m-%d} .. {s['last_event']:%Y-%m-%d}"
    )
    first = ev.groupby("case_id", sort=False)["timestamp"].agg(["min", "max"])
    is_open = open_cases(log)
    closed = first[~is_open.reindex(first.index).to_numpy()]
    cycle = (closed["max"] - closed["min"]) / pd.Timedelta(hours=1)
    month = first["min"].dt.strftime("%Y-%m")
    per_month = month.value_counts().sort_index()
    shown = per_month if len(per_month) <= 12 else per_month.tail(12)
    more = "" if len(per_month) <= 12 else f" (last 12 of {len(per_month)} months)"
    lines.append(
        f"  tickets opened per month{more}: " + ", ".join(f"{m} {n:,}" for m, n in shown.items())
    )
    lines.append(
        f"  open at the end of the export: {int(is_open.sum()):,}; closed tickets' cycle time "
        f"median {cycle.median() / 24:.1f} days, mean {cycle.mean() / 24:.1f} days"
    )
    for col in ("channel", "department", "priority"):
        if col in ev.columns:
            top = (
                ev.drop_duplicates("case_id")[col].value_counts()
                if col != "department"
                else (ev[col].value_counts())
            )
            what = "events" if col == "department" else "tickets"
            lines.append(
                f"  {col} ({what}): "
                + ", ".join(f"{escape_text(str(k))} {v:,}" for k, v in top.head(7).items())
            )
    q = check_quality(log)
    flagged = q[q["severity"].isin(["warning", "info"])]
    if len(flagged):
        lines.append("")
        lines.append("Data quality")
        for rec in flagged.to_dict("records"):
            if rec["events"] or rec["cases"]:
                what = f"{rec['events']:,} events, {rec['cases']:,} tickets"
            else:  # a finding about columns, not events
                what = ", ".join(escape_text(str(e)) for e in rec["examples"])
            lines.append(f"  [{rec['severity']}] {rec['check']}: {what}")
    return "\n".join(lines)


def cmd_info(args: argparse.Namespace) -> int:
    log = load_logs(args, filter_notes=False)
    if log.report is not None:
        print(log.report.to_text(max_files=None if args.all_files else MAX_LISTED))
        if not args.all_files and len(log.report.files) > MAX_LISTED:
            print("  (--all-files lists every file)")
    else:
        print("")
    if len(log.filters):
        print(filters_text(log.filters))
    print(summary_text(log))
    return EXIT_OK


def filters_text(filters: Any) -> str:
    """The ``Filters`` block of ``info --filter``: one line per filter applied, in order."""
    lines = ["", "Filters (in order)"]
    for rec in filters.to_dict("records"):
        kept, gone = rec["tickets_kept"], rec["tickets_removed"]
        lines.append(
            f"  {escape_text(str(rec['filter']))}: kept {kept:,} of {kept + gone:,} tickets, "
            f"{rec['events_kept']:,} of {rec['events_kept'] + rec['events_removed']:,} events"
        )
    return "\n".join(lines)


#: Thresholds the demo checks the sample exports against (a monthly contract).
DEMO_THRESHOLDS: dict[str, float | None] = {
    "min_fitness": 0.9,
    "max_deviation_rate": 0.55,
    "min_sla_attainment": 0.85,
}


def _demo_benchmarks() -> tuple[Any, ...]:
    """Remote troubleshooting over 4 h, against the 1 h benchmark (the users' own figure)."""
    try:
        from .kpis import StepBenchmark
    except ImportError:  # pragma: no cover - kpis not installed
        return ()
    return (StepBenchmark("远程排障", "4h", "1h"),)


def _demo_title(lang: str | None) -> str:
    """The demo report's title, in its language (the sample labels are Chinese: zh)."""
    if lang == "en":
        return "Sample service process report (Oct-Dec 2024)"
    return "示例服务流程报告（2024 年 10-12 月）"


def _add_lang_option(parser: Any) -> None:
    """``--lang {en,zh}``: the language the report is written in."""
    parser.add_argument(
        "--lang",
        choices=("en", "zh"),
        default=None,
        help="the language of the report's text (default: from the data; Chinese "
        "activity labels give zh)",
    )


def cmd_demo(args: argparse.Namespace) -> int:
    from ._readers import resolve_sources
    from .io import EXPORT_SUFFIXES
    from .report import build_report

    folder = Path(args.sample_dir) if args.sample_dir else sample_dir()
    has_exports = folder.is_dir() and any(
        f.is_file() and f.name.lower().endswith(tuple(EXPORT_SUFFIXES)) for f in folder.iterdir()
    )
    if not has_exports:
        raise FileNotFoundError(
            f"{folder}: sample exports not found; run the demo from a source checkout, or "
            "generate them with: python -m svcmining.datasets sample_logs/"
        )
    sop_path = folder / "sop_complaint.yaml"
    out = check_report_out(args.out)
    t0 = time.perf_counter()
    print(
        f"svcmining {__version__} demo: the Oct-Dec 2024 sample exports in {display_path(folder)}"
    )
    print()
    ns = argparse.Namespace(
        mapping=None,
        timezone="Asia/Shanghai",
        dayfirst=None,
        encoding=None,
        sheet=None,
        max_seconds=None,
        precision=False,
        **DEMO_THRESHOLDS,
    )
    log = read_logs(ns, [folder])
    print(log.report.to_text() if log.report is not None else "")
    print(summary_text(log))
    print()
    sop = read_sop(sop_path)
    thresholds = dict(DEMO_THRESHOLDS)
    if not sop.slas:
        thresholds["min_sla_attainment"] = None
        ns.min_sla_attainment = None
    rep = build_report(
        log,
        sop=sop,
        title=_demo_title(args.lang),
        benchmarks=_demo_benchmarks(),
        lang=args.lang,
    )

    write_file(out, rep.to_html())

    # the check: all months together (from the report's conformance result), then each month
    results: list[LogResult] = []
    conf = rep.results.get("conformance")
    files = [display_path(Path(str(f))) for f in log.report.files["file"]] if log.report else []
    if conf is not None:
        res = LogResult(f"{display_path(folder)} (all months)", files, events=len(log.events))
        evaluate(res, conf, thresholds)
        results.append(res)
    for path in resolve_sources([folder]):
        results.append(check_log(ns, display_path(path), [path], sop))
    sop_label = f"{sop.name} ({display_path(sop_path)})"
    print("Check against the SOP (as 'svcmining check', which exits 1 when a threshold fails):")
    print(render_text(results, sop_label, thresholds).rstrip())
    if results and results[0].deviations:
        dev = results[0].deviations
        print(
            "  deviations by type (all months): "
            + ", ".join(f"{k} {v:,}" for k, v in sorted(dev.items(), key=lambda kv: -kv[1]))
        )
    limits = " ".join(
        f"--{k.replace('_', '-')} {v}" for k, v in thresholds.items() if v is not None
    )
    print(
        f"  the same from a shell: svcmining check {display_path(folder)} --each "
        f"--sop {display_path(sop_path)} --timezone Asia/Shanghai {limits}"
    )
    print()
    print_report_outcome(rep, out)
    print(f"(demo took {time.perf_counter() - t0:.1f} s)", file=sys.stderr)
    return EXIT_OK


# =============================================================================
# the subcommands' options
# =============================================================================


def add_demo_parser(sub: Any) -> None:
    """Register ``svcmining demo`` on the subcommand parsers ``sub``."""
    demo = sub.add_parser(
        "demo", help="report and SOP check on the bundled sample exports (sample_logs/)"
    )
    demo.add_argument("--sample-dir", default=None, help=argparse.SUPPRESS)
    demo.add_argument(
        "--out",
        default=str(DEFAULT_REPORT),
        help=f"where to write the HTML report (default {DEFAULT_REPORT})",
    )
    _add_lang_option(demo)
    demo.set_defaults(func=cmd_demo)


def add_report_parser(sub: Any) -> None:
    """Register ``svcmining report`` on the subcommand parsers ``sub``."""
    report = sub.add_parser("report", help="write one self-contained HTML report")
    add_load_options(report)
    report.add_argument("--sop", default=None, help="the SOP (YAML or BPMN), for conformance")
    report.add_argument("--out", default=str(DEFAULT_REPORT), help="the HTML file to write")
    report.add_argument(
        "--calendar",
        default=None,
        help="business hours: 'sop' (the SOP's calendar, default), 'none' (elapsed hours), "
        "a predefined calendar such as 'china_2024', or a YAML file",
    )
    report.add_argument("--title", default=None, help="report title")
    report.add_argument(
        "--benchmark",
        action="append",
        default=[],
        metavar="STEP=LIMIT[/BEST]",
        help="compare a step's duration with a limit and a best-in-class benchmark, "
        "e.g. 远程排障=4h/1h (repeatable)",
    )
    report.add_argument("--precision", action="store_true", help="also compute ETC precision")
    _add_lang_option(report)
    report.set_defaults(func=cmd_report)


def add_info_parser(sub: Any) -> None:
    """Register ``svcmining info`` on the subcommand parsers ``sub``."""
    info = sub.add_parser("info", help="load report, summary and data-quality findings")
    add_load_options(info)
    info.set_defaults(func=cmd_info)


def add_discover_parser(sub: Any) -> None:
    """Register ``svcmining discover`` on the subcommand parsers ``sub``."""
    discover = sub.add_parser("discover", help="draw the process map")
    add_load_options(discover)
    discover.add_argument(
        "--out",
        default="process-map.svg",
        help="the map file; .svg, .png, .pdf or .dot (default process-map.svg)",
    )
    discover.add_argument(
        "--metric",
        choices=("count", "cases", "wait_p50", "wait_p90"),
        default="cases",
        help="what edges show",
    )
    discover.add_argument(
        "--min-share",
        type=fraction,
        default=0.0,
        help="hide steps and edges of fewer than this share of tickets",
    )
    discover.add_argument(
        "--calendar", default=None, help="'none' (default), 'china_2024' or a YAML calendar file"
    )
    discover.set_defaults(func=cmd_discover)
