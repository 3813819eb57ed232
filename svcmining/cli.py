"""The ``svcmining`` command line.

Exit codes: 0 ok, 1 a check failed, 2 bad input (one line on stderr naming the file
and the fix; the traceback only with ``--debug``). Heavy imports (pandas, pm4py)
happen inside the subcommands, so ``svcmining --help`` stays fast.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from . import __version__

__all__ = ["main"]

EXIT_OK = 0
EXIT_CHECK_FAILED = 1
EXIT_BAD_INPUT = 2


def _sample_dir() -> Path:
    """The bundled sample exports: ``sample_logs/`` of a source checkout."""
    here = Path(__file__).resolve().parent.parent / "sample_logs"
    if here.is_dir():
        return here
    return Path.cwd() / "sample_logs"


def _add_load_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("logs", nargs="+", help="export files, folders or globs")
    p.add_argument("--mapping", help="YAML file mapping canonical columns to source columns")
    p.add_argument("--timezone", default=None, help="zone of naive times, e.g. Asia/Shanghai")
    p.add_argument("--dayfirst", action="store_true", default=None, help="03/10/2024 = 3 Oct")
    p.add_argument("--encoding", default=None, help="text encoding of CSV files (detected)")
    p.add_argument("--sheet", default=None, help="Excel sheet name, or * for all sheets")


def _load(args: argparse.Namespace) -> Any:
    from .io import read_tickets

    return read_tickets(
        args.logs if len(args.logs) > 1 else args.logs[0],
        mapping=args.mapping,
        timezone=args.timezone,
        dayfirst=args.dayfirst,
        encoding=args.encoding,
        sheet=args.sheet,
    )


def _summary_text(log: Any) -> str:
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
                f"  {col} ({what}): " + ", ".join(f"{k} {v:,}" for k, v in top.head(7).items())
            )
    q = check_quality(log)
    flagged = q[q["severity"].isin(["warning", "info"])]
    if len(flagged):
        lines.append("")
        lines.append("Data quality")
        for rec in flagged.to_dict("records"):
            lines.append(
                f"  [{rec['severity']}] {rec['check']}: {rec['events']:,} events, "
                f"{rec['cases']:,} tickets"
            )
    return "\n".join(lines)


def _cmd_info(args: argparse.Namespace) -> int:
    log = _load(args)
    print(log.report.to_text() if log.report is not None else "")
    print(_summary_text(log))
    return EXIT_OK


def _cmd_demo(args: argparse.Namespace) -> int:
    folder = Path(args.sample_dir) if args.sample_dir else _sample_dir()
    if not folder.is_dir():
        raise FileNotFoundError(
            f"{folder}: sample exports not found; run the demo from a source checkout, or "
            "generate them with: python -m svcmining.datasets sample_logs/"
        )
    from .io import read_tickets

    print(f"svcmining {__version__} demo: the Oct-Dec 2024 sample exports in {folder}")
    print()
    log = read_tickets(folder, timezone="Asia/Shanghai")
    print(log.report.to_text() if log.report is not None else "")
    print(_summary_text(log))
    return EXIT_OK


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="svcmining",
        description="Process mining for service-ticket exports: load, check, discover.",
    )
    parser.add_argument("--version", action="version", version=f"svcmining {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    demo = sub.add_parser("demo", help="load the bundled sample exports and summarise them")
    demo.add_argument("--sample-dir", default=None, help=argparse.SUPPRESS)
    demo.set_defaults(func=_cmd_demo)
    info = sub.add_parser("info", help="load report, summary and data-quality findings")
    _add_load_options(info)
    info.set_defaults(func=_cmd_info)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_BAD_INPUT
    try:
        return int(args.func(args))
    except Exception as err:
        from .exceptions import SvcMiningError

        if args.debug:
            raise
        if isinstance(err, SvcMiningError | OSError):
            print(f"svcmining: error: {err}", file=sys.stderr)
            return EXIT_BAD_INPUT
        print(
            f"svcmining: internal error: {type(err).__name__}: {err} (rerun with --debug and "
            "report it)",
            file=sys.stderr,
        )
        return EXIT_BAD_INPUT


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
