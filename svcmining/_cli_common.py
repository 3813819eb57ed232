"""What every ``svcmining`` subcommand shares: the loading options and how they are read,
the exit codes, argument types, paths as shown, errors as one line, and the formula-safe
CSV cell.

Only light modules are imported at the top (the command line's ``--help`` must not import
pandas); the loaders are imported inside the functions that use them.
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

from ._safetext import escape_text, shorten
from ._textfile import read_text
from .exceptions import InvalidParameterError, ReadError

__all__ = [
    "EXIT_BAD_INPUT",
    "EXIT_CHECK_FAILED",
    "EXIT_OK",
    "MAX_LISTED",
    "add_load_options",
    "display_path",
    "excel_safe",
    "fraction",
    "load_logs",
    "one_line",
    "parse_benchmarks",
    "parse_calendar",
    "read_logs",
    "read_sop",
    "sample_dir",
]

#: How many files or logs ``info`` and ``check`` list before summarising (``--all-files``).
MAX_LISTED = 10

EXIT_OK = 0
EXIT_CHECK_FAILED = 1
EXIT_BAD_INPUT = 2


def sample_dir() -> Path:
    """The bundled sample exports: ``sample_logs/`` of a source checkout."""
    here = Path(__file__).resolve().parent.parent / "sample_logs"
    if here.is_dir():
        return here
    return Path.cwd() / "sample_logs"


def add_load_options(p: argparse.ArgumentParser) -> None:
    """The loading options every command that reads exports shares (LOGS, --mapping, ...)."""
    p.add_argument("logs", nargs="+", help="export files, folders or globs")
    p.add_argument("--mapping", help="YAML file mapping canonical columns to source columns")
    p.add_argument(
        "--timezone",
        default=None,
        help="zone of naive times, e.g. Asia/Shanghai (default: the SOP calendar's zone, else UTC)",
    )
    p.add_argument("--dayfirst", action="store_true", default=None, help="03/10/2024 = 3 Oct")
    p.add_argument(
        "--date-order",
        choices=("dmy", "mdy", "ymd"),
        default=None,
        help="order of day, month and year in dates such as 03/10/2024 (mdy: US exports)",
    )
    p.add_argument(
        "--time-format",
        default=None,
        metavar="FMT",
        help="strptime format of the time columns, e.g. '%%d.%%m.%%Y %%H:%%M' (wins over "
        "detection)",
    )
    p.add_argument(
        "--lifecycle",
        choices=("auto", "keep", "pair"),
        default="auto",
        help="pair START/COMPLETE rows of lifecycle data (auto: when the column holds them)",
    )
    p.add_argument(
        "--state-log",
        choices=("auto", "yes", "no"),
        default="auto",
        help="an audit export whose activity column is the ticket's state: merge status "
        "repeats (auto: detected)",
    )
    p.add_argument("--encoding", default=None, help="text encoding of CSV files (detected)")
    p.add_argument("--sheet", default=None, help="Excel sheet name, or * for all sheets")
    p.add_argument(
        "--pseudonymize",
        action="store_true",
        help="replace customer ids and staff names with stable keyed hashes before any output "
        "(salt from --salt or the SVCMINING_SALT environment variable)",
    )
    p.add_argument("--salt", default=None, help="secret salt for --pseudonymize")
    p.add_argument(
        "--filter",
        default=None,
        metavar="FILE",
        help="slice the log with the filter stack in FILE (filters.yaml, as "
        "svcmining.apply_filters reads it) before anything else",
    )
    p.add_argument(
        "--all-files",
        action="store_true",
        help=f"list every export file (and with check --each every log); by default the "
        f"first {MAX_LISTED} and then counts",
    )


def read_logs(
    args: argparse.Namespace,
    sources: Sequence[str | Path],
    sop: Any = None,
    calendar: Any = None,
    *,
    filter_notes: bool = True,
) -> Any:
    """Load the exports as the load options say; naive times are read in ``--timezone``,
    else the zone of the calendar given (``--calendar``), else the SOP calendar's zone.

    ``--filter FILE`` (read before the exports, so a bad file fails at once) is applied
    to the loaded log with the SOP given, before ``--pseudonymize``; with ``filter_notes``
    one line per filter on stderr says what it kept. A stack that keeps nothing is bad
    input."""
    from .io import read_tickets

    if args.mapping is not None and not Path(args.mapping).is_file():
        raise FileNotFoundError(f"{args.mapping}: mapping file not found; check --mapping.")
    stack = None
    if getattr(args, "filter", None) is not None:
        from .filters import FilterStack

        if not Path(args.filter).is_file():
            raise FileNotFoundError(f"{args.filter}: filter file not found; check --filter.")
        stack = FilterStack.from_yaml(args.filter, calendar=calendar)
    salt = None
    if getattr(args, "pseudonymize", False):
        salt = args.salt or os.environ.get("SVCMINING_SALT")
        if not salt:
            raise InvalidParameterError(
                "--pseudonymize needs a secret salt: pass --salt or set SVCMINING_SALT."
            )
    timezone = args.timezone
    if timezone is None and calendar is not None:
        timezone = getattr(calendar, "timezone", None)
    how = getattr(args, "state_log", "auto")
    state_log: bool | Literal["auto"] = "auto" if how == "auto" else how == "yes"
    with warnings.catch_warnings():
        # the CLI reports data-quality warnings through the load report, not as Python warnings
        warnings.simplefilter("ignore")
        log = read_tickets(
            list(sources) if len(sources) > 1 else sources[0],
            mapping=args.mapping,
            timezone=timezone,
            dayfirst=args.dayfirst,
            date_order=getattr(args, "date_order", None),
            time_format=getattr(args, "time_format", None),
            encoding=args.encoding,
            sheet=args.sheet,
            lifecycle=getattr(args, "lifecycle", "auto"),
            state_log=state_log,
            sop=sop,
        )
    report = log.report
    if report is not None and report.naive_as_utc and not getattr(args, "utc_noted", False):
        args.utc_noted = True  # one line per command, however many logs it reads
        print(
            f"svcmining: note: {report.naive_as_utc:,} time(s) without a UTC offset were read "
            "as UTC; pass --timezone ZONE (e.g. --timezone Asia/Shanghai), or an SOP whose "
            "calendar declares the zone, if they are local times.",
            file=sys.stderr,
        )
    if stack is not None:
        log = _apply_stack(stack, log, args.filter, sop, notes=filter_notes)
    if salt:
        from .privacy import pseudonymize

        log = pseudonymize(log, salt=salt)
    return log


def _apply_stack(stack: Any, log: Any, path: str, sop: Any, *, notes: bool) -> Any:
    """``--filter``: the stack applied to ``log`` (as ``apply_filters(log, path, sop=sop)``)."""
    before = len(log.filters)
    n_tickets = log.events["case_id"].nunique()
    out = stack.apply(log, sop=sop)
    if notes:
        for rec in out.filters.iloc[before:].to_dict("records"):
            kept, gone = rec["tickets_kept"], rec["tickets_removed"]
            print(
                f"svcmining: note: filter {escape_text(str(rec['filter']))}: kept {kept:,} of "
                f"{kept + gone:,} tickets, {rec['events_kept']:,} events",
                file=sys.stderr,
            )
    if len(out.events) == 0:
        raise ReadError(
            f"{path}: the filters keep none of the {n_tickets:,} tickets; loosen the filter "
            "stack (or check it against 'svcmining info --filter')."
        )
    return out


def load_logs(args: argparse.Namespace, *, filter_notes: bool = True) -> Any:
    """Load ``LOGS`` of a command with its load options."""
    return read_logs(args, args.logs, filter_notes=filter_notes)


def read_sop(path: str | Path) -> Any:
    """``--sop``: the SOP file (YAML or BPMN), checked to exist first."""
    from .sop import load_sop

    if not Path(path).is_file():
        raise FileNotFoundError(f"{path}: SOP file not found; check --sop.")
    return load_sop(path)


def parse_benchmarks(specs: Sequence[str]) -> tuple[Any, ...]:
    """``--benchmark 远程排障=4h/1h`` -> StepBenchmark("远程排障", "4h", "1h")."""
    if not specs:
        return ()
    from .calendars import parse_duration
    from .kpis import StepBenchmark

    out = []
    for spec in specs:
        step, sep, limits = spec.partition("=")
        limit, _, best = limits.partition("/")
        if not sep or not step.strip() or not limit.strip():
            raise InvalidParameterError(
                f"--benchmark {spec!r}: write STEP=LIMIT or STEP=LIMIT/BEST, e.g. 远程排障=4h/1h."
            )
        parse_duration(limit.strip())  # fail early, with the accepted forms
        if best.strip():
            parse_duration(best.strip())
        out.append(StepBenchmark(step.strip(), limit.strip(), best.strip() or None))
    return tuple(out)


def parse_calendar(value: str | None, sop: Any) -> Any:
    """``--calendar``: sop (the SOP's, default), none, a predefined name or a YAML file."""
    if value is None or value == "sop":
        return "sop" if sop is not None else None
    if value in ("none", "elapsed"):
        return None
    p = Path(value)
    if p.suffix.lower() in (".yaml", ".yml", ".json") or p.is_file():
        if not p.is_file():
            raise FileNotFoundError(f"{value}: calendar file not found; check --calendar.")
        from ._yaml import load_yaml

        text = read_text(p, "calendar file")
        spec, _ = load_yaml(text, value, what="calendar file", error=InvalidParameterError)
        if isinstance(spec, dict) and isinstance(spec.get("calendar"), dict):
            spec = spec["calendar"]
        if not isinstance(spec, dict):
            raise InvalidParameterError(
                f"{value}: a calendar file holds a mapping (workdays, hours, holidays, "
                "extra_workdays, timezone), optionally under a 'calendar:' key."
            )
        from .calendars import Calendar

        try:
            return Calendar.from_spec(spec)
        except (ValueError, TypeError) as exc:
            raise InvalidParameterError(f"{value}: bad calendar: {exc}") from None
    from .calendars import Calendar

    presets = {"china_2024": Calendar.china_2024}
    if value not in presets:
        raise InvalidParameterError(
            f"--calendar {value!r}: give 'sop' (the SOP's calendar), 'none' (elapsed hours), "
            f"a predefined calendar ({', '.join(presets)}), or a YAML file."
        )
    return presets[value]()


def display_path(path: Path) -> str:
    """``path`` relative to the working folder when it lies inside it, else as given."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def fraction(text: str) -> float:
    """argparse type: a number in [0, 1] ('95%' accepted)."""
    t = text.strip()
    try:
        v = float(t[:-1]) / 100 if t.endswith("%") else float(t)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a number between 0 and 1, got {text!r}"
        ) from None
    if not 0 <= v <= 1:
        raise argparse.ArgumentTypeError(f"expected a number between 0 and 1, got {text!r}")
    return v


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")


def excel_safe(value: Any) -> Any:
    """Neutralise a text cell that Excel would run as a formula (prefix ``'``)."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


# Python-API advice in library messages, and what to type on the command line instead
_CLI_HINTS = (
    ("mapping=", "on the command line: put the mapping in a YAML file and pass --mapping FILE"),
    ("encoding=", "on the command line: --encoding NAME"),
    ("dayfirst=", "on the command line: --dayfirst or --date-order dmy|mdy"),
    ("timezone=", "on the command line: --timezone ZONE"),
    ("time_format=", "on the command line: --time-format FMT"),
    ("state_log=", "on the command line: --state-log yes|no"),
    ("lifecycle=", "on the command line: --lifecycle auto|keep|pair"),
)


def one_line(err: BaseException, name: str | None = None) -> str:
    """The error as one line (without a repeated file name), with the CLI equivalent of any
    keyword argument it suggests."""
    text = " ".join(str(err).split())
    if name is not None:
        for prefix in (name, str(Path(name).resolve()), Path(name).name):
            if text.startswith(prefix + ": "):
                text = text[len(prefix) + 2 :]
                break
    text = shorten(escape_text(text), 600)  # a message never floods the terminal
    hints = [hint for key, hint in _CLI_HINTS if key in text]
    if hints:
        text = f"{text.rstrip('.')}. ({'; '.join(hints)})"
    return text
