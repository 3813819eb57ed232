"""``svcmining rework``, ``handoffs``, ``kpis`` and ``variants``: each analysis of the Python
API as a table on the terminal, or CSV / JSON / Parquet with ``--format`` and ``--out``.

Each command loads the exports with the shared loading options, runs the Python function
(:func:`~svcmining.find_rework`, :func:`~svcmining.handoff_delays`,
:func:`~svcmining.service_kpis`, :func:`~svcmining.variants`) and writes one of its tables
unchanged: what the command writes is what Python returns. ``--format`` and ``--out`` are
checked before any export is read. Exit codes as for the other commands: 0 ok, 2 bad
input (an unreadable or empty export, a bad SOP, calendar or option, an unknown column).
"""

from __future__ import annotations

import argparse
from typing import Any

from ._cli_common import (
    EXIT_OK,
    add_load_options,
    parse_benchmarks,
    parse_calendar,
    read_logs,
    read_sop,
)
from ._cli_output import OUTPUT_FORMATS, emit_table, output_format
from ._outfile import prepare_file
from ._safetext import escape_text
from .exceptions import InvalidParameterError

__all__ = [
    "HANDOFF_TABLES",
    "REWORK_TABLES",
    "add_analysis_parsers",
    "cmd_export",
    "cmd_handoffs",
    "cmd_kpis",
    "cmd_rework",
    "cmd_variants",
    "kpi_groups",
]

#: ``rework --table`` -> attribute of :class:`~svcmining.ReworkResult`
REWORK_TABLES = {
    "activity": "by_activity",
    "department": "by_department",
    "resource": "by_resource",
    "cases": "cases",
    "occurrences": "occurrences",
    "referrals": "referrals",
}
#: ``handoffs --table``: pairs (``HandoffResult.top``, worst first), handoffs, cases, summary
HANDOFF_TABLES = ("pairs", "handoffs", "cases", "summary")


def _prepare(args: argparse.Namespace, *, with_sop: bool = True) -> tuple[str, Any, Any, Any]:
    """Check ``--format``/``--out``, then read the SOP, the calendar and the exports:
    (format, log, sop, calendar). (The loader refuses an export without events.)"""
    fmt = output_format(args.format, args.out)
    if args.out is not None:  # a bad --out fails now, not after the analysis
        prepare_file(args.out, example=f"{args.command}.{'txt' if fmt == 'table' else fmt}")
    sop = read_sop(args.sop) if with_sop and args.sop else None
    cal = parse_calendar(args.calendar, sop)
    log = read_logs(args, args.logs, sop=sop, calendar=cal if cal != "sop" else None)
    if cal == "sop":
        cal = getattr(sop, "calendar", None)
    return fmt, log, sop, cal


def _emit(args: argparse.Namespace, fmt: str, frame: Any, title: str, table: str, head: str) -> int:
    emit_table(
        frame,
        fmt=fmt,
        out=args.out,
        title=title,
        table=table,
        tool=f"svcmining {args.command}",
        header=head,
    )
    return EXIT_OK


def cmd_rework(args: argparse.Namespace) -> int:
    """``svcmining rework``: one table of :func:`~svcmining.find_rework`."""
    from .rework import find_rework

    fmt, log, sop, cal = _prepare(args)
    rw = find_rework(log, sop=sop, calendar=cal, group=args.group)
    frame = getattr(rw, REWORK_TABLES[args.table])
    return _emit(args, fmt, frame, f"Rework ({args.table})", args.table, repr(rw))


def cmd_handoffs(args: argparse.Namespace) -> int:
    """``svcmining handoffs``: one table of :func:`~svcmining.handoff_delays`."""
    from .handoffs import handoff_delays

    fmt, log, sop, cal = _prepare(args)
    ho = handoff_delays(
        log, by=args.by, calendar=cal, sop=sop, include_pending=args.include_pending
    )
    if args.table == "pairs":
        frame = ho.top(args.top if args.top is not None else max(1, len(ho.matrix)))
    else:
        frame = getattr(ho, args.table)
        if args.top is not None:
            frame = frame.head(args.top)
    head = " ".join(repr(ho).split())
    return _emit(args, fmt, frame, f"Handoffs by {args.by} ({args.table})", args.table, head)


def kpi_groups(log: Any, column: str) -> list[Any]:
    """The values of ``column`` that ``kpis --by`` reports, sorted (missing values form no
    group)."""
    events = log.events
    if column in ("case_id", "timestamp", "start_timestamp"):
        raise InvalidParameterError(
            f"--by {column}: give a column that groups tickets, such as channel, department, "
            "priority or resource (not the ticket id or a time)."
        )
    if column not in events.columns:
        raise InvalidParameterError(
            f"--by {column}: the log has no column {column!r}; columns: "
            f"{', '.join(map(str, events.columns))}."
        )
    return sorted(events[column].dropna().unique().tolist(), key=str)


def cmd_kpis(args: argparse.Namespace) -> int:
    """``svcmining kpis``: the tidy table of :func:`~svcmining.service_kpis`; with ``--by``
    one block per value of a column (the tickets that have it, each block on its own)."""
    import pandas as pd

    from ._filtercalls import filter_cases
    from .kpis import service_kpis

    benchmarks = parse_benchmarks(args.benchmark)
    fmt, log, sop, cal = _prepare(args)
    options: dict[str, Any] = {
        "sop": sop,
        "calendar": cal,
        "by": args.period,
        "benchmarks": benchmarks,
    }
    if args.by is None:
        frame = service_kpis(log, **options).table
        title = "Service KPIs" + (f" by {args.period}" if args.period != "none" else "")
    else:
        cutoff = log.events["timestamp"].max()  # the whole export's cutoff, for every group
        parts = []
        for value in kpi_groups(log, args.by):
            sub = filter_cases(log, **{args.by: value})
            table = service_kpis(sub, cutoff=cutoff, **options).table
            parts.append(table.assign(**{args.by: value})[[args.by, *table.columns]])
        frame = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
        title = f"Service KPIs by {args.by}" + (
            f" and {args.period}" if args.period != "none" else ""
        )
    return _emit(args, fmt, frame, title, "kpis", "")


def cmd_variants(args: argparse.Namespace) -> int:
    """``svcmining variants``: :func:`~svcmining.variants`, most frequent first."""
    from .discovery import variants

    fmt, log, _, cal = _prepare(args, with_sop=False)
    frame = variants(log, calendar=cal)
    n = len(frame)
    if args.top is not None:
        frame = frame.head(args.top)
    head = f"{n:,} variants of {log.events['case_id'].nunique():,} tickets"
    return _emit(args, fmt, frame, "Variants", "variants", head)


def cmd_export(args: argparse.Namespace) -> int:
    """``svcmining export``: the loaded (and ``--filter``-ed) log written with
    :meth:`~svcmining.TicketLog.write` (Parquet, CSV or XES by the suffix of ``--out``)."""
    from .export import EXPORT_FORMATS

    if not args.out.lower().endswith(tuple(EXPORT_FORMATS)):
        raise InvalidParameterError(
            f"--out {escape_text(args.out)}: the suffix picks the format; use "
            f"{', '.join(EXPORT_FORMATS)}."
        )
    path = prepare_file(args.out, example="clean.parquet")
    sop = read_sop(args.sop) if args.sop else None
    log = read_logs(args, args.logs, sop=sop)
    written = log.write(path)
    print(
        f"{log.events['case_id'].nunique():,} tickets, {len(log.events):,} events written to "
        f"{escape_text(str(written))}"
    )
    return EXIT_OK


# =============================================================================
# the subcommands' options
# =============================================================================
def _positive(text: str) -> int:
    """argparse type: a positive whole number."""
    try:
        n = int(text)
    except ValueError:
        n = 0
    if n < 1:
        raise argparse.ArgumentTypeError(f"expected a positive whole number, got {text!r}")
    return n


def _add_output_options(p: argparse.ArgumentParser, *, sop: bool = True) -> None:
    add_load_options(p)
    if sop:
        p.add_argument("--sop", default=None, help="the SOP (YAML or BPMN)")
    p.add_argument(
        "--calendar",
        default=None,
        help="business hours: 'sop' (the SOP's calendar, default with --sop), 'none' "
        "(elapsed hours), a predefined calendar such as 'china_2024', or a YAML file",
    )
    p.add_argument(
        "--format",
        choices=OUTPUT_FORMATS,
        default=None,
        help="table (readable text, default), csv (Excel-safe), json or parquet (needs "
        "--out); with --out the suffix picks it",
    )
    p.add_argument(
        "--out",
        default=None,
        metavar="FILE",
        help="write the whole table to FILE (.csv, .json, .parquet or .txt) instead of stdout",
    )


def add_analysis_parsers(sub: Any) -> None:
    """Register ``rework``, ``handoffs``, ``kpis`` and ``variants`` on ``sub``."""
    rework = sub.add_parser("rework", help="rework loops: by activity, department, ...")
    _add_output_options(rework)
    rework.add_argument(
        "--table",
        choices=tuple(REWORK_TABLES),
        default="activity",
        help="which table: per activity (default), department or resource, per ticket, "
        "each occurrence, or who redid whose work (referrals)",
    )
    rework.add_argument(
        "--group", default="department", help="column whose changes are handoffs (ping-pong)"
    )
    rework.set_defaults(func=cmd_rework)

    handoffs = sub.add_parser("handoffs", help="handoff delays between departments")
    _add_output_options(handoffs)
    handoffs.add_argument(
        "--by", default="department", help="column whose changes are handoffs (department)"
    )
    handoffs.add_argument(
        "--table",
        choices=HANDOFF_TABLES,
        default="pairs",
        help="which table: pairs worst first (default), each handoff, per ticket, summary",
    )
    handoffs.add_argument(
        "--include-pending",
        action="store_true",
        help="count the waits so far of pending handoffs in the delay figures",
    )
    handoffs.add_argument(
        "--top", type=_positive, default=None, metavar="N", help="only the first N rows"
    )
    handoffs.set_defaults(func=cmd_handoffs)

    kpis = sub.add_parser("kpis", help="service KPIs by month (or by channel, department...)")
    _add_output_options(kpis)
    kpis.add_argument(
        "--period",
        choices=("month", "week", "quarter", "none"),
        default="month",
        help="period of the tickets' opening (default month; 'none': overall only)",
    )
    kpis.add_argument(
        "--by",
        default=None,
        metavar="COLUMN",
        help="one block of KPIs per value of COLUMN, e.g. channel or department (a ticket "
        "counts for every value it has)",
    )
    kpis.add_argument(
        "--benchmark",
        action="append",
        default=[],
        metavar="STEP=LIMIT[/BEST]",
        help="share of a step's executions over a limit (and a benchmark), e.g. "
        "远程排障=4h/1h (repeatable)",
    )
    kpis.set_defaults(func=cmd_kpis)

    variants = sub.add_parser("variants", help="the variants, most frequent first")
    _add_output_options(variants, sop=False)
    variants.add_argument(
        "--top", type=_positive, default=None, metavar="N", help="only the N most frequent"
    )
    variants.set_defaults(func=cmd_variants)

    export = sub.add_parser(
        "export", help="write the (filtered) log to Parquet, CSV or XES for other tools"
    )
    add_load_options(export)
    export.add_argument(
        "--out",
        required=True,
        metavar="FILE",
        help="the file to write: .parquet, .csv (UTF-8 with BOM, formula-safe), .xes or .xes.gz",
    )
    export.add_argument(
        "--sop", default=None, help="the SOP, for filters on deviations, SLAs and stages"
    )
    export.set_defaults(func=cmd_export)
