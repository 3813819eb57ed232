"""The ``svcmining`` command line.

Subcommands
-----------
``svcmining check LOGS... --sop SOP [--each [--jobs N]] [--min-fitness F] [--max-deviation-rate R]
[--min-sla-attainment A] [--max-seconds N] [--format text|json|csv|junit|markdown] [--out DIR]``
    Check exports against the SOP; the thresholds are the contract. LOGS are files,
    folders or globs, checked together as one log, or one by one with ``--each`` (one
    result line per log: a batch of months or teams). ``--out DIR`` also writes
    ``check.txt``, ``check.json``, ``check.junit.xml``, ``check.md`` and
    ``deviations.csv`` (UTF-8 with BOM, one row per deviation, formula-like cells
    neutralised for Excel) into DIR.
``svcmining report LOGS... [--sop SOP] [--out report.html] [--calendar sop|none|NAME|FILE]
[--benchmark STEP=LIMIT[/BEST]]``
    One self-contained HTML report (see :mod:`svcmining.report`).
``svcmining info LOGS...``
    Load report, summary and data-quality findings.
``svcmining discover LOGS... [--out map.svg]``
    Draw the process map (SVG, PNG, PDF or DOT by the suffix).
``svcmining rework|handoffs|kpis|variants LOGS... [--sop SOP] [--calendar ...]
[--format table|csv|json|parquet] [--out FILE]``
    One table of an analysis (:func:`~svcmining.find_rework`,
    :func:`~svcmining.handoff_delays`, :func:`~svcmining.service_kpis`,
    :func:`~svcmining.variants`): readable text on the terminal, or the whole table as CSV
    (Excel-safe), JSON or Parquet. ``rework --table activity|department|resource|cases|
    occurrences|referrals``; ``handoffs --by COLUMN --table pairs|handoffs|cases|summary
    [--top N]``; ``kpis --period month|week|quarter|none [--by COLUMN] [--benchmark ...]``;
    ``variants [--top N]``.
``svcmining export LOGS... --out FILE [--filter FILE]``
    Write the loaded (and filtered) log to ``.parquet``, ``.csv`` or ``.xes`` for other
    tools (:meth:`svcmining.TicketLog.write`).
``svcmining demo``
    The report and the SOP check on the bundled ``sample_logs/``; says where the report
    was written (default ``svcmining-report/report.html``).
``svcmining check-schema``
    Print the JSON Schema of ``check --format json``.

Every command that reads exports takes the same loading options (``--mapping``,
``--timezone``, ``--sheet``, ``--state-log``, ... and ``--filter FILE``: the filter stack
of ``svcmining.apply_filters``, applied right after loading).

Exit codes: 0 ok, 1 a check failed (the failed thresholds are named, with the figure
and the limit), 2 bad input (unreadable or empty export, bad SOP, unknown column: one
line on stderr naming the file and the fix; the traceback only with ``--debug``).
Results go to stdout; progress bars (on a terminal only) and messages go to stderr.
Heavy imports (pandas, pm4py) happen inside the subcommands, so ``svcmining --help``
stays fast.

The JSON document of ``check`` (schema :data:`CHECK_JSON_SCHEMA`, ``"schema_version": 1``)
holds ``thresholds`` (null when not given), ``passed``, ``exit_code`` and one entry per
log in ``logs``: ``log``, ``files``, ``status`` (pass / fail / error), ``error``,
``tickets``, ``events``, ``seconds``, ``metrics`` (log_fitness, average_trace_fitness,
conformance_rate, deviation_rate, sla_attainment, precision; null when not measured),
``checks`` (threshold, metric, op, limit, value, passed), ``deviations`` (count per
type), ``slas`` (per SLA: met, breached, censored, attainment) and ``load`` (the load
report). Within a schema version fields may be added,
never removed or changed in meaning. A threshold whose metric cannot be measured
(e.g. SLA attainment with no SLA instance decided) fails.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import warnings
from collections.abc import Sequence
from typing import Any

from . import __version__
from ._cli_analyses import add_analysis_parsers
from ._cli_check import (
    CHECK_JSON_SCHEMA,
    CHECK_SCHEMA_VERSION,
    add_check_parser,
    add_schema_parser,
)
from ._cli_common import EXIT_BAD_INPUT, excel_safe, one_line
from ._cli_report import (
    add_demo_parser,
    add_discover_parser,
    add_info_parser,
    add_report_parser,
)
from ._safetext import guard_streams, raw_stream
from .exceptions import SvcMiningError

__all__ = ["CHECK_JSON_SCHEMA", "CHECK_SCHEMA_VERSION", "excel_safe", "main"]

#: Exit code when the reader of stdout went away (128 + SIGPIPE, as the shell reports it).
EXIT_BROKEN_PIPE = 141


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="svcmining",
        description="Process mining for service-ticket exports: load, check, discover, analyse, "
        "report.",
        epilog="Exit codes: 0 ok, 1 a check failed, 2 bad input. --debug shows tracebacks.",
    )
    parser.add_argument("--version", action="version", version=f"svcmining {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    add_demo_parser(sub)
    add_check_parser(sub)
    add_report_parser(sub)
    add_info_parser(sub)
    add_discover_parser(sub)
    add_analysis_parsers(sub)
    add_schema_parser(sub)
    return parser


def _show_warning_as_note(seen: set[str]) -> Any:
    """A ``warnings.showwarning`` that prints each distinct warning once, as one line."""

    def show(message: Any, *args: Any, **kwargs: Any) -> None:
        text = " ".join(str(message).split())
        if text not in seen:
            seen.add(text)
            print(f"svcmining: note: {text}", file=sys.stderr)

    return show


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (0 ok, 1 check failed, 2 bad input)."""
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse: --help/--version (0) or a usage error (2)
        return int(exc.code) if isinstance(exc.code, int) else EXIT_BAD_INPUT
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_BAD_INPUT
    os.environ.setdefault("MPLBACKEND", "Agg")  # never open windows from the command line
    restore_streams = guard_streams()  # data never writes raw controls to a terminal
    try:
        # every warning a command raises is one line `svcmining: note: ...`, never a
        # Python warning with a source line
        with warnings.catch_warnings():
            warnings.showwarning = _show_warning_as_note(set())
            return int(args.func(args))
    except KeyboardInterrupt:
        print("svcmining: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader stopped early (`svcmining variants ... | head`)
        _drop_stdout()
        return EXIT_BROKEN_PIPE
    except Exception as err:
        if args.debug:
            raise
        if isinstance(err, SvcMiningError | OSError):
            print(f"svcmining: error: {one_line(err)}", file=sys.stderr)
            return EXIT_BAD_INPUT
        print(
            f"svcmining: internal error: {type(err).__name__}: {one_line(err)} (rerun with "
            "--debug and report it)",
            file=sys.stderr,
        )
        return EXIT_BAD_INPUT
    finally:
        try:
            sys.stdout.flush()
        except BrokenPipeError:
            _drop_stdout()
        restore_streams()


def _drop_stdout() -> None:
    """After a broken pipe: send what is still buffered to the null device, so neither
    this run nor Python's exit reports the closed pipe as an error."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, raw_stream(sys.stdout).fileno())
        os.close(devnull)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
