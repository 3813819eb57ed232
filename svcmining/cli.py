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
``svcmining demo``
    The report and the SOP check on the bundled ``sample_logs/``; says where the report
    was written (default ``svcmining-report/report.html``).
``svcmining check-schema``
    Print the JSON Schema of ``check --format json``.

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
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from . import __version__

__all__ = ["CHECK_JSON_SCHEMA", "CHECK_SCHEMA_VERSION", "main"]

#: The files ``check --out DIR`` writes.
CHECK_OUT_FILES = ("check.txt", "check.json", "check.junit.xml", "check.md", "deviations.csv")

#: How many files or logs ``info`` and ``check`` list before summarising (``--all-files``).
MAX_LISTED = 10

EXIT_OK = 0
EXIT_CHECK_FAILED = 1
EXIT_BAD_INPUT = 2

CHECK_SCHEMA_VERSION = 1
FORMATS = ("text", "json", "csv", "junit", "markdown")
DEFAULT_REPORT = Path("svcmining-report") / "report.html"

# threshold option -> (metric in check_sop's summary, comparison, label)
THRESHOLDS: dict[str, tuple[str, str, str]] = {
    "min_fitness": ("log_fitness", ">=", "fitness"),
    "max_deviation_rate": ("deviation_rate", "<=", "deviation rate"),
    "min_sla_attainment": ("sla_attainment", ">=", "SLA attainment"),
}
METRICS = (
    "log_fitness",
    "average_trace_fitness",
    "conformance_rate",
    "deviation_rate",
    "sla_attainment",
    "precision",
)

_num = {"type": ["number", "null"]}
#: JSON Schema (draft 2020-12) of ``svcmining check --format json``.
CHECK_JSON_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "svcmining check result",
    "type": "object",
    "required": [
        "schema_version",
        "tool",
        "svcmining_version",
        "created",
        "sop",
        "thresholds",
        "passed",
        "exit_code",
        "logs",
    ],
    "properties": {
        "schema_version": {"const": CHECK_SCHEMA_VERSION},
        "tool": {"const": "svcmining check"},
        "svcmining_version": {"type": "string"},
        "created": {"type": "string", "description": "ISO 8601, UTC"},
        "sop": {
            "type": "object",
            "required": ["name", "path"],
            "properties": {"name": {"type": "string"}, "path": {"type": "string"}},
        },
        "thresholds": {
            "type": "object",
            "required": list(THRESHOLDS),
            "properties": dict.fromkeys(THRESHOLDS, _num),
        },
        "passed": {"type": "boolean", "description": "every log passed every threshold"},
        "exit_code": {"enum": [EXIT_OK, EXIT_CHECK_FAILED, EXIT_BAD_INPUT]},
        "logs": {
            "type": "array",
            "items": {
                "type": "object",
                "required": [
                    "log",
                    "files",
                    "status",
                    "error",
                    "tickets",
                    "events",
                    "metrics",
                    "checks",
                    "deviations",
                    "slas",
                    "load",
                ],
                "properties": {
                    "log": {"type": "string"},
                    "files": {"type": "array", "items": {"type": "string"}},
                    "status": {"enum": ["pass", "fail", "error"]},
                    "error": {"type": ["string", "null"]},
                    "tickets": {"type": ["integer", "null"]},
                    "events": {"type": ["integer", "null"]},
                    "metrics": {
                        "type": "object",
                        "required": list(METRICS),
                        "properties": dict.fromkeys(METRICS, _num),
                    },
                    "checks": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["threshold", "metric", "op", "limit", "value", "passed"],
                            "properties": {
                                "threshold": {"enum": list(THRESHOLDS)},
                                "metric": {"type": "string"},
                                "op": {"enum": [">=", "<="]},
                                "limit": {"type": "number"},
                                "value": _num,
                                "passed": {"type": "boolean"},
                            },
                        },
                    },
                    "deviations": {
                        "type": "object",
                        "description": "deviation type -> number of deviations",
                        "additionalProperties": {"type": "integer"},
                    },
                    "slas": {
                        "type": "object",
                        "description": "SLA id -> met, breached, censored, attainment (all "
                        "priorities together)",
                        "additionalProperties": {
                            "type": "object",
                            "required": ["met", "breached", "censored", "attainment"],
                            "properties": {
                                "met": {"type": "integer"},
                                "breached": {"type": "integer"},
                                "censored": {"type": "integer"},
                                "attainment": _num,
                            },
                        },
                    },
                    "load": {
                        "type": ["object", "null"],
                        "description": "LoadReport.to_dict() of the log",
                    },
                },
            },
        },
    },
}


# =============================================================================
# loading
# =============================================================================
def _sample_dir() -> Path:
    """The bundled sample exports: ``sample_logs/`` of a source checkout."""
    here = Path(__file__).resolve().parent.parent / "sample_logs"
    if here.is_dir():
        return here
    return Path.cwd() / "sample_logs"


def _add_load_options(p: argparse.ArgumentParser) -> None:
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
        "--all-files",
        action="store_true",
        help=f"list every export file (and with check --each every log); by default the "
        f"first {MAX_LISTED} and then counts",
    )


def _read(
    args: argparse.Namespace,
    sources: Sequence[str | Path],
    sop: Any = None,
    calendar: Any = None,
) -> Any:
    """Load the exports as the load options say; naive times are read in ``--timezone``,
    else the zone of the calendar given (``--calendar``), else the SOP calendar's zone."""
    import warnings

    from .io import read_tickets

    if args.mapping is not None and not Path(args.mapping).is_file():
        raise FileNotFoundError(f"{args.mapping}: mapping file not found; check --mapping.")
    salt = None
    if getattr(args, "pseudonymize", False):
        import os

        from .exceptions import InvalidParameterError

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
    if salt:
        from .privacy import pseudonymize

        log = pseudonymize(log, salt=salt)
    return log


def _load(args: argparse.Namespace) -> Any:
    return _read(args, args.logs)


def _load_sop(path: str | Path) -> Any:
    from .sop import load_sop

    if not Path(path).is_file():
        raise FileNotFoundError(f"{path}: SOP file not found; check --sop.")
    return load_sop(path)


def _calendar(value: str | None, sop: Any) -> Any:
    """``--calendar``: sop (the SOP's, default), none, a predefined name or a YAML file."""
    if value is None or value == "sop":
        return "sop" if sop is not None else None
    if value in ("none", "elapsed"):
        return None
    from .exceptions import InvalidParameterError

    p = Path(value)
    if p.suffix.lower() in (".yaml", ".yml", ".json") or p.is_file():
        if not p.is_file():
            raise FileNotFoundError(f"{value}: calendar file not found; check --calendar.")
        from ._textfile import read_text
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


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


# =============================================================================
# check
# =============================================================================
@dataclass
class _LogResult:
    log: str
    files: list[str]
    status: str = "pass"
    error: str | None = None
    tickets: int | None = None
    events: int | None = None
    seconds: float = 0.0
    metrics: dict[str, float | None] = field(default_factory=dict)
    checks: list[dict[str, Any]] = field(default_factory=list)
    deviations: dict[str, int] = field(default_factory=dict)
    slas: dict[str, dict[str, Any]] = field(default_factory=dict)
    load: dict[str, Any] | None = None
    deviation_rows: Any = None  # DataFrame of per-case deviations

    def to_json(self) -> dict[str, Any]:
        return {
            "log": self.log,
            "files": self.files,
            "status": self.status,
            "error": self.error,
            "tickets": self.tickets,
            "events": self.events,
            "metrics": {m: self.metrics.get(m) for m in METRICS},
            "checks": self.checks,
            "deviations": self.deviations,
            "slas": self.slas,
            "load": self.load,
        }


def _finite(v: Any) -> float | None:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if f == f and f not in (float("inf"), float("-inf")) else None


def _evaluate(res: _LogResult, conf: Any, thresholds: dict[str, float | None]) -> None:
    """Fill metrics, checks, deviations and status of ``res`` from a ConformanceResult."""
    values = dict(zip(conf.summary["metric"], conf.summary["value"], strict=True))
    res.metrics = {m: _finite(values.get(m)) for m in METRICS}
    res.tickets = int(values.get("cases", len(conf.cases)))
    dev = conf.deviations
    res.deviations = {str(k): int(v) for k, v in dev["type"].value_counts().items()}
    att = getattr(conf, "sla_attainment", None)
    if att is not None and len(att) and "priority" in att.columns:
        overall = att[att["priority"] == "all"]
        res.slas = {
            str(r["sla"]): {
                "met": int(r["met"]),
                "breached": int(r["breached"]),
                "censored": int(r["censored"]),
                "attainment": _finite(r["attainment"]),
            }
            for r in overall.to_dict("records")
        }
    res.deviation_rows = dev
    res.checks = []
    for name, limit in thresholds.items():
        if limit is None:
            continue
        metric, op, _ = THRESHOLDS[name]
        value = res.metrics.get(metric)
        ok = value is not None and (value >= limit if op == ">=" else value <= limit)
        res.checks.append(
            {
                "threshold": name,
                "metric": metric,
                "op": op,
                "limit": float(limit),
                "value": value,
                "passed": bool(ok),
            }
        )
    res.status = "pass" if all(c["passed"] for c in res.checks) else "fail"


def _check_log(
    args: argparse.Namespace, name: str, sources: Sequence[str | Path], sop: Any
) -> _LogResult:
    from .conformance import check_sop

    t0 = time.perf_counter()
    res = _LogResult(log=name, files=[_display(Path(s)) for s in sources])
    log = _read(args, sources, sop=sop)
    res.events = len(log.events)
    if log.report is not None:
        res.load = log.report.to_dict()
        res.files = [_display(Path(str(f))) for f in log.report.files["file"]]
    if res.events == 0:
        from .exceptions import ReadError

        rep = log.report
        why = (
            f"all {rep.rows_read:,} rows were dropped (see 'svcmining info')"
            if rep is not None and rep.rows_read
            else "the export has no data rows"
        )
        raise ReadError(f"{name}: no events to check: {why}.")
    inner_bar = sys.stderr.isatty() and not getattr(args, "each", False)  # one log: its own bar
    conf = check_sop(
        log, sop, max_seconds=args.max_seconds, precision=args.precision, progress=inner_bar
    )
    _evaluate(res, conf, _thresholds(args))
    res.seconds = time.perf_counter() - t0
    return res


def _thresholds(args: argparse.Namespace) -> dict[str, float | None]:
    return {k: getattr(args, k, None) for k in THRESHOLDS}


def _fraction(text: str) -> float:
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


def _seconds(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if v <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, got {text!r}")
    return v


def _fmt(v: float | None) -> str:
    return "n/a" if v is None else f"{v:.3f}"


def _check_phrase(c: dict[str, Any]) -> str:
    label = THRESHOLDS[c["threshold"]][2]
    word = "min" if c["op"] == ">=" else "max"
    if c["value"] is None:
        return f"{label} not measured ({word} {c['limit']:.3f})"
    rel = c["op"] if c["passed"] else ("<" if c["op"] == ">=" else ">")
    return f"{label} {_fmt(c['value'])} {rel} {word} {c['limit']:.3f}"


def _text_line(r: _LogResult) -> str:
    from ._safetext import escape_text

    log = escape_text(r.log)
    if r.status == "error":
        return f"ERROR  {log}: {escape_text(r.error or '')}"
    head = f"{r.status.upper()}   {log}: {r.tickets or 0:,} tickets, {r.events or 0:,} events"
    parts = []
    checked = {THRESHOLDS[c["threshold"]][0] for c in r.checks}
    for c in r.checks:
        parts.append(_check_phrase(c) + ("" if c["passed"] else " FAILED"))
    for metric, label in (
        ("log_fitness", "fitness"),
        ("deviation_rate", "deviation rate"),
        ("sla_attainment", "SLA attainment"),
    ):
        if metric not in checked:
            parts.append(f"{label} {_fmt(r.metrics.get(metric))}")
    return head + "; " + "; ".join(parts)


def _render_text(
    results: list[_LogResult], sop_label: str, thresholds: dict, *, limit: int | None = None
) -> str:
    """The text report; ``limit`` lists at most that many logs (problems first, in order),
    then one line with the counts of the rest."""
    given = [
        f"{THRESHOLDS[k][2]} {THRESHOLDS[k][1]} {v:.3f}"
        for k, v in thresholds.items()
        if v is not None
    ]
    from ._safetext import escape_text

    lines = [
        f"svcmining check against {escape_text(sop_label)}; thresholds: "
        + (", ".join(given) if given else "none (reporting only)")
    ]
    shown = results
    if limit is not None and len(results) > limit:
        problems = [i for i, r in enumerate(results) if r.status != "pass"][:limit]
        passes = [i for i, r in enumerate(results) if r.status == "pass"]
        keep = sorted(problems + passes[: limit - len(problems)])
        shown = [results[i] for i in keep]
    lines.extend(_text_line(r) for r in shown)
    if len(shown) < len(results):
        counts = {s: sum(r.status == s for r in results) for s in ("pass", "fail", "error")}
        lines.append(
            f"... {len(results):,} logs in all ({counts['pass']:,} pass, {counts['fail']:,} "
            f"fail, {counts['error']:,} error); {len(results) - len(shown):,} not listed "
            "(--all-files lists every log; --format json or --out DIR keep them all)"
        )
    return "\n".join(lines) + "\n"


def _render_json(doc: dict[str, Any]) -> str:
    import json

    from ._safetext import json_safe

    # byte-identical run after run: sorted keys, floats to 6 decimals, no run times
    text = json.dumps(
        _fixed_floats(doc), ensure_ascii=False, indent=2, allow_nan=False, sort_keys=True
    )
    return json_safe(text) + "\n"


def _fixed_floats(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, 6)
    if isinstance(value, dict):
        return {k: _fixed_floats(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_fixed_floats(v) for v in value]
    return value


def _render_markdown(results: list[_LogResult], sop_label: str, thresholds: dict) -> str:
    from ._safetext import escape_text

    def cell(text: str) -> str:
        return escape_text(text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " "))

    def limit(metric: str) -> str:
        for k, (m, op, _) in THRESHOLDS.items():
            if m == metric and thresholds.get(k) is not None:
                return f" ({op} {thresholds[k]:.3f})"
        return ""

    lines = [
        f"## svcmining check: {cell(sop_label)}",
        "",
        "| log | result | tickets | fitness"
        + limit("log_fitness")
        + " | deviation rate"
        + limit("deviation_rate")
        + " | SLA attainment"
        + limit("sla_attainment")
        + " |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for r in results:
        if r.status == "error":
            lines.append(f"| {cell(r.log)} | **error**: {cell(r.error or '')} | | | | |")
            continue
        failed = {c["metric"] for c in r.checks if not c["passed"]}

        def val(metric: str, failed: set[str] = failed, r: _LogResult = r) -> str:
            text = _fmt(r.metrics.get(metric))
            return f"**{text}** ✗" if metric in failed else text

        lines.append(
            f"| {cell(r.log)} | {'✅ pass' if r.status == 'pass' else '❌ fail'} | "
            f"{r.tickets or 0:,} | {val('log_fitness')} | {val('deviation_rate')} | "
            f"{val('sla_attainment')} |"
        )
    return "\n".join(lines) + "\n"


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")


def excel_safe(value: Any) -> Any:
    """Neutralise a text cell that Excel would run as a formula (prefix ``'``)."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _render_csv(results: list[_LogResult], *, bom: bool = False) -> str:
    import pandas as pd

    from ._safetext import escape_text

    frames = []
    for r in results:
        d = r.deviation_rows
        if d is not None and len(d):
            frames.append(d.assign(log=r.log))
    from .conformance import _DEV_COLUMNS

    cols = ["log", *_DEV_COLUMNS]
    if frames:
        df = pd.concat(frames, ignore_index=True)
        df = df[[c for c in cols if c in df.columns]]
    else:
        df = pd.DataFrame(columns=cols)
    out = df.copy()
    for c in out.columns:
        if not pd.api.types.is_numeric_dtype(out[c]):
            s = out[c]
            if isinstance(s.dtype, pd.DatetimeTZDtype):
                out[c] = s.dt.strftime("%Y-%m-%d %H:%M:%S%z")
                continue
            out[c] = [
                excel_safe(escape_text(v, keep="\t\n\r")) if isinstance(v, str) else v
                for v in s.astype(object)
            ]
    text = out.to_csv(index=False, lineterminator="\r\n")
    return ("\ufeff" + text) if bom else text


def _render_junit(results: list[_LogResult], sop_label: str) -> str:
    import xml.etree.ElementTree as ET

    from ._safetext import escape_text as x  # XML 1.0 cannot hold controls, even as &#..;

    root = ET.Element("testsuites", name="svcmining check")
    total = fails = errors = 0
    total_time = 0.0
    for r in results:
        suite = ET.SubElement(root, "testsuite", name=x(r.log))
        props = ET.SubElement(suite, "properties")
        ET.SubElement(props, "property", name="sop", value=x(sop_label))
        for k, v in (("tickets", r.tickets), ("events", r.events)):
            if v is not None:
                ET.SubElement(props, "property", name=k, value=str(v))
        for m in METRICS:
            if r.metrics.get(m) is not None:
                ET.SubElement(props, "property", name=m, value=f"{r.metrics[m]:.6f}")
        n = f = e = 0
        if r.status == "error":
            case = ET.SubElement(
                suite,
                "testcase",
                classname=x(r.log),
                name="load and check",
                time=f"{r.seconds:.3f}",
            )
            err = ET.SubElement(case, "error", message=x(r.error or ""), type="bad_input")
            err.text = x(r.error or "")
            n, e = 1, 1
        elif not r.checks:
            ET.SubElement(
                suite,
                "testcase",
                classname=x(r.log),
                name="conformance checked (no thresholds)",
                time=f"{r.seconds:.3f}",
            )
            n = 1
        else:
            share = r.seconds / len(r.checks)
            for c in r.checks:
                case = ET.SubElement(
                    suite,
                    "testcase",
                    classname=x(r.log),
                    name=f"{c['threshold']} ({c['metric']} {c['op']} {c['limit']:g})",
                    time=f"{share:.3f}",
                )
                n += 1
                if not c["passed"]:
                    f += 1
                    msg = x(_check_phrase(c))
                    fail = ET.SubElement(case, "failure", message=msg, type="threshold")
                    fail.text = f"{x(r.log)}: {msg}"
        suite.set("tests", str(n))
        suite.set("failures", str(f))
        suite.set("errors", str(e))
        suite.set("skipped", "0")
        suite.set("time", f"{r.seconds:.3f}")
        total, fails, errors = total + n, fails + f, errors + e
        total_time += r.seconds
    root.set("tests", str(total))
    root.set("failures", str(fails))
    root.set("errors", str(errors))
    root.set("time", f"{total_time:.3f}")
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _check_groups(args: argparse.Namespace) -> list[tuple[str, list[str | Path]]]:
    """(name, sources) per log: all LOGS as one, or one per export file with --each."""
    if not args.each:
        logs = list(args.logs)
        if len(logs) == 1:
            return [(logs[0], logs)]
        common = os.path.commonpath([str(Path(x).resolve()) for x in logs])
        return [(f"{_display(Path(common))} ({len(logs)} exports)", logs)]
    from .io import _resolve_sources

    return [(_display(p), [p]) for p in _resolve_sources(list(args.logs))]


def _run_check(args: argparse.Namespace) -> tuple[list[_LogResult], Any]:
    sop = _load_sop(args.sop)
    groups = _check_groups(args)
    results: list[_LogResult] = []
    from ._progress import progress_bar

    bar = progress_bar(len(groups), desc="checking", unit="log")
    workers = _each_workers(args, len(groups))
    if workers > 1:  # --each --jobs N: exports checked in N processes, same results
        import multiprocessing

        ctx = multiprocessing.get_context("spawn")  # no fork of a threaded process
        with ctx.Pool(workers, initializer=_each_worker_init, initargs=(vars(args),)) as pool:
            chunk = max(1, min(32, len(groups) // (4 * workers)))
            for res in pool.imap(_each_worker_check, groups, chunksize=chunk):
                results.append(res)
                if bar is not None:
                    bar.update(1)
    else:
        for name, sources in groups:
            results.append(_check_one(args, name, sources, sop))
            if bar is not None:
                bar.update(1)
    if bar is not None:
        bar.close()
    return results, sop


def _check_one(
    args: argparse.Namespace, name: str, sources: Sequence[str | Path], sop: Any
) -> _LogResult:
    """One log's result; with --each a bad export becomes an ERROR line, not the end."""
    from .exceptions import SvcMiningError

    try:
        return _check_log(args, name, sources, sop)
    except (SvcMiningError, OSError) as err:
        if not args.each:
            raise
        return _LogResult(name, [str(s) for s in sources], "error", _one_line(err, name))


def _jobs(text: str) -> int:
    """argparse type for ``--jobs``: a positive number of processes, or ``auto`` (0: one per
    idle core)."""
    if text == "auto":
        return 0
    try:
        n = int(text)
    except ValueError:
        n = -1
    if n < 1:
        raise argparse.ArgumentTypeError(
            f"give a number of processes (1, 2, ...) or 'auto' (one per idle core), got {text!r}"
        )
    return n


def _each_workers(args: argparse.Namespace, n_logs: int) -> int:
    """Processes for ``check --each --jobs N``: N (``auto``: one per idle core, i.e. cores
    minus the load average, as ``make -l``), at most one per 8 logs; 1 without --each."""
    jobs = getattr(args, "jobs", 1)
    if not args.each or jobs == 1:
        return 1
    if jobs == 0:
        try:
            cores = len(os.sched_getaffinity(0))
        except AttributeError:  # pragma: no cover - not on Linux
            cores = os.cpu_count() or 1
        try:
            jobs = int(cores - os.getloadavg()[0] + 0.5)
        except (AttributeError, OSError):  # pragma: no cover - no load average (Windows)
            jobs = cores
    return max(1, min(jobs, n_logs // 8))


_EACH_STATE: dict[str, Any] = {}  # per worker process: its parsed options and SOP


def _each_worker_init(options: dict[str, Any]) -> None:
    import warnings

    warnings.simplefilter("ignore")  # as in the parent: findings go to the load report
    args = argparse.Namespace(**options)
    _EACH_STATE["args"] = args
    _EACH_STATE["sop"] = _load_sop(args.sop)


def _each_worker_check(group: tuple[str, list[str | Path]]) -> _LogResult:
    name, sources = group
    return _check_one(_EACH_STATE["args"], name, sources, _EACH_STATE["sop"])


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


def _one_line(err: BaseException, name: str | None = None) -> str:
    """The error as one line (without a repeated file name), with the CLI equivalent of any
    keyword argument it suggests."""
    from ._safetext import escape_text, shorten

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


def _exit_code(results: list[_LogResult]) -> int:
    if any(r.status == "error" for r in results):
        return EXIT_BAD_INPUT
    if any(r.status == "fail" for r in results):
        return EXIT_CHECK_FAILED
    return EXIT_OK


def _json_doc(
    results: list[_LogResult], sop: Any, sop_path: str, thresholds: dict, code: int
) -> dict[str, Any]:
    import datetime as dt

    return {
        "schema_version": CHECK_SCHEMA_VERSION,
        "tool": "svcmining check",
        "svcmining_version": __version__,
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "sop": {"name": str(sop.name), "path": sop_path},
        "thresholds": {k: thresholds.get(k) for k in THRESHOLDS},
        "passed": code == EXIT_OK,
        "exit_code": code,
        "logs": [r.to_json() for r in results],
    }


def _emit_check(
    results: list[_LogResult],
    sop: Any,
    sop_path: str,
    thresholds: dict,
    fmt: str,
    out: str | None,
    *,
    all_files: bool = True,
) -> int:
    from ._safetext import escape_text

    code = _exit_code(results)
    sop_label = f"{sop.name} ({sop_path})"
    rendered = {
        "text": lambda: _render_text(results, sop_label, thresholds),
        "text-summary": lambda: _render_text(
            results, sop_label, thresholds, limit=None if all_files else MAX_LISTED
        ),
        "json": lambda: _render_json(_json_doc(results, sop, sop_path, thresholds, code)),
        "csv": lambda: _render_csv(results),
        "junit": lambda: _render_junit(results, sop_label),
        "markdown": lambda: _render_markdown(results, sop_label, thresholds),
    }
    sys.stdout.write(rendered["text-summary" if fmt == "text" else fmt]())
    sys.stdout.flush()
    if out is not None:
        from ._outfile import prepare_folder, write_file

        folder = prepare_folder(out, CHECK_OUT_FILES)
        files = {
            "check.txt": rendered["text"](),
            "check.json": rendered["json"](),
            "check.junit.xml": rendered["junit"](),
            "check.md": rendered["markdown"](),
            "deviations.csv": _render_csv(results, bom=True),
        }
        for fname, text in files.items():
            write_file(folder / fname, text)
        print(f"svcmining: wrote {', '.join(files)} to {folder}", file=sys.stderr)
    if code == EXIT_CHECK_FAILED:
        bad = [
            f"{escape_text(r.log)}: "
            + ", ".join(_check_phrase(c) for c in r.checks if not c["passed"])
            for r in results
            if r.status == "fail"
        ]
        more = f"; ... and {len(bad) - MAX_LISTED:,} more" if len(bad) > MAX_LISTED else ""
        print(
            f"svcmining: check failed for {len(bad)} of {len(results)} log(s): "
            + "; ".join(bad[:MAX_LISTED])
            + more,
            file=sys.stderr,
        )
    elif code == EXIT_BAD_INPUT:
        n = sum(r.status == "error" for r in results)
        print(
            f"svcmining: error: {n} log(s) could not be checked (see ERROR lines)", file=sys.stderr
        )
    return code


def _cmd_check_schema(args: argparse.Namespace) -> int:
    sys.stdout.write(_render_json(CHECK_JSON_SCHEMA))
    return EXIT_OK


def _cmd_check(args: argparse.Namespace) -> int:
    if args.out is not None:  # a bad --out fails now, not after the analysis
        from ._outfile import prepare_folder

        prepare_folder(args.out, CHECK_OUT_FILES)
    results, sop = _run_check(args)
    return _emit_check(
        results,
        sop,
        args.sop,
        _thresholds(args),
        args.format,
        args.out,
        all_files=args.all_files,
    )


# =============================================================================
# report, discover, info, demo
# =============================================================================
def _print_report_outcome(rep: Any, path: Path) -> None:
    for s in rep.sections:
        if s.status == "failed":
            print(f"svcmining: warning: report section {s.key!r} {s.note}", file=sys.stderr)
    print(f"Report written to {_display(path)}")


def _benchmarks(specs: Sequence[str]) -> tuple[Any, ...]:
    """``--benchmark 远程排障=4h/1h`` -> StepBenchmark("远程排障", "4h", "1h")."""
    if not specs:
        return ()
    from .calendars import parse_duration
    from .exceptions import InvalidParameterError
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


def _check_report_out(out: str) -> Path:
    """``--out`` of report/demo: an .html file we can write, checked before the analysis."""
    from ._outfile import prepare_file

    if Path(out).suffix.lower() not in (".html", ".htm"):
        from .exceptions import InvalidParameterError

        raise InvalidParameterError(
            f"--out {out}: the report is an HTML file; give a path ending in .html."
        )
    return prepare_file(out)


def _cmd_report(args: argparse.Namespace) -> int:
    from ._outfile import write_file
    from .report import build_report

    out = _check_report_out(args.out)
    sop = _load_sop(args.sop) if args.sop else None
    cal = _calendar(args.calendar, sop)
    log = _read(args, args.logs, sop=sop, calendar=cal if cal != "sop" else None)
    rep = build_report(
        log,
        sop=sop,
        calendar=cal,
        title=args.title,
        precision=args.precision,
        benchmarks=_benchmarks(args.benchmark),
    )
    path = write_file(out, rep.to_html())
    _print_report_outcome(rep, path)
    return EXIT_OK


def _cmd_discover(args: argparse.Namespace) -> int:
    import warnings

    from .discovery import discover_dfg
    from .plots import plot_process_map

    out = Path(args.out)
    if out.suffix.lower() not in (".svg", ".png", ".pdf", ".dot", ".gv"):
        from .exceptions import InvalidParameterError

        raise InvalidParameterError(
            f"--out {args.out}: the suffix picks the format; use .svg, .png, .pdf or .dot."
        )
    from ._outfile import prepare_file, write_file

    prepare_file(out, example="process-map.svg")
    cal = _calendar(args.calendar, None)
    log = _read(args, args.logs, calendar=cal)
    graph = discover_dfg(log, calendar=cal)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        pmap = plot_process_map(graph, metric=args.metric, min_share=args.min_share)
    for w in caught:
        print(f"svcmining: note: {w.message}", file=sys.stderr)
    write_file(out, lambda tmp: _save_map(pmap, tmp))
    print(
        f"Process map ({graph.n_cases:,} tickets, {len(graph.edges):,} transitions) written "
        f"to {_display(out)}"
    )
    return EXIT_OK


def _save_map(pmap: Any, path: Path) -> None:
    """Save the map; in SVG and DOT text, control and bidi characters from labels become
    visible escapes (raw, they make the SVG ill-formed XML)."""
    pmap.save(path)
    if path.suffix.lower() in (".svg", ".dot", ".gv"):
        from ._safetext import escape_text

        text = path.read_text(encoding="utf-8")
        safe = escape_text(text, keep="\n\r\t")
        if safe != text:
            path.write_text(safe, encoding="utf-8", newline="")


def _summary_text(log: Any) -> str:
    import pandas as pd

    from ._safetext import escape_text
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


def _cmd_info(args: argparse.Namespace) -> int:
    log = _load(args)
    if log.report is not None:
        print(log.report.to_text(max_files=None if args.all_files else MAX_LISTED))
        if not args.all_files and len(log.report.files) > MAX_LISTED:
            print("  (--all-files lists every file)")
    else:
        print("")
    print(_summary_text(log))
    return EXIT_OK


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


def _cmd_demo(args: argparse.Namespace) -> int:
    from .io import EXPORT_SUFFIXES, _resolve_sources
    from .report import build_report

    folder = Path(args.sample_dir) if args.sample_dir else _sample_dir()
    has_exports = folder.is_dir() and any(
        f.is_file() and f.name.lower().endswith(tuple(EXPORT_SUFFIXES)) for f in folder.iterdir()
    )
    if not has_exports:
        raise FileNotFoundError(
            f"{folder}: sample exports not found; run the demo from a source checkout, or "
            "generate them with: python -m svcmining.datasets sample_logs/"
        )
    sop_path = folder / "sop_complaint.yaml"
    out = _check_report_out(args.out)
    t0 = time.perf_counter()
    print(f"svcmining {__version__} demo: the Oct-Dec 2024 sample exports in {_display(folder)}")
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
    log = _read(ns, [folder])
    print(log.report.to_text() if log.report is not None else "")
    print(_summary_text(log))
    print()
    sop = _load_sop(sop_path)
    thresholds = dict(DEMO_THRESHOLDS)
    if not sop.slas:
        thresholds["min_sla_attainment"] = None
        ns.min_sla_attainment = None
    rep = build_report(
        log,
        sop=sop,
        title="Sample service process report (Oct-Dec 2024)",
        benchmarks=_demo_benchmarks(),
    )
    from ._outfile import write_file

    write_file(out, rep.to_html())

    # the check: all months together (from the report's conformance result), then each month
    results: list[_LogResult] = []
    conf = rep.results.get("conformance")
    files = [_display(Path(str(f))) for f in log.report.files["file"]] if log.report else []
    if conf is not None:
        res = _LogResult(f"{_display(folder)} (all months)", files, events=len(log.events))
        _evaluate(res, conf, thresholds)
        results.append(res)
    for path in _resolve_sources([folder]):
        results.append(_check_log(ns, _display(path), [path], sop))
    sop_label = f"{sop.name} ({_display(sop_path)})"
    print("Check against the SOP (as 'svcmining check', which exits 1 when a threshold fails):")
    print(_render_text(results, sop_label, thresholds).rstrip())
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
        f"  the same from a shell: svcmining check {_display(folder)} --each "
        f"--sop {_display(sop_path)} --timezone Asia/Shanghai {limits}"
    )
    print()
    _print_report_outcome(rep, out)
    print(f"(demo took {time.perf_counter() - t0:.1f} s)", file=sys.stderr)
    return EXIT_OK


# =============================================================================
# parser and main
# =============================================================================
def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="svcmining",
        description="Process mining for service-ticket exports: load, check, discover, report.",
        epilog="Exit codes: 0 ok, 1 a check failed, 2 bad input. --debug shows tracebacks.",
    )
    parser.add_argument("--version", action="version", version=f"svcmining {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    demo = sub.add_parser(
        "demo", help="report and SOP check on the bundled sample exports (sample_logs/)"
    )
    demo.add_argument("--sample-dir", default=None, help=argparse.SUPPRESS)
    demo.add_argument(
        "--out",
        default=str(DEFAULT_REPORT),
        help=f"where to write the HTML report (default {DEFAULT_REPORT})",
    )
    demo.set_defaults(func=_cmd_demo)

    check = sub.add_parser(
        "check",
        help="check exports against an SOP; exit 1 when a threshold fails",
        description="Check exports against the SOP. Thresholds are the contract: exit 0 when "
        "all hold, 1 when any fails, 2 for bad input.",
    )
    _add_load_options(check)
    check.add_argument("--sop", required=True, help="the SOP (YAML or BPMN)")
    check.add_argument(
        "--each", action="store_true", help="check every export file on its own (a batch)"
    )
    check.add_argument(
        "--jobs",
        type=_jobs,
        default=1,
        metavar="N",
        help="with --each: check the exports in N processes ('auto': one per idle core); "
        "the results are the same (default 1)",
    )
    check.add_argument(
        "--min-fitness",
        type=_fraction,
        default=None,
        metavar="F",
        help="lowest acceptable log fitness (0..1)",
    )
    check.add_argument(
        "--max-deviation-rate",
        type=_fraction,
        default=None,
        metavar="R",
        help="highest acceptable share of tickets with a deviation (0..1)",
    )
    check.add_argument(
        "--min-sla-attainment",
        type=_fraction,
        default=None,
        metavar="A",
        help="lowest acceptable share of SLA instances met (0..1)",
    )
    check.add_argument(
        "--max-seconds",
        type=_seconds,
        default=None,
        metavar="N",
        help="time box for the alignments (the rest by token replay)",
    )
    check.add_argument("--precision", action="store_true", help="also compute ETC precision")
    check.add_argument("--format", choices=FORMATS, default="text", help="stdout format")
    check.add_argument(
        "--out",
        default=None,
        metavar="DIR",
        help="also write check.txt/.json/.junit.xml/.md and deviations.csv to DIR",
    )
    check.set_defaults(func=_cmd_check)

    report = sub.add_parser("report", help="write one self-contained HTML report")
    _add_load_options(report)
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
    report.set_defaults(func=_cmd_report)

    info = sub.add_parser("info", help="load report, summary and data-quality findings")
    _add_load_options(info)
    info.set_defaults(func=_cmd_info)

    discover = sub.add_parser("discover", help="draw the process map")
    _add_load_options(discover)
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
        type=_fraction,
        default=0.0,
        help="hide steps and edges of fewer than this share of tickets",
    )
    discover.add_argument(
        "--calendar", default=None, help="'none' (default), 'china_2024' or a YAML calendar file"
    )
    discover.set_defaults(func=_cmd_discover)

    schema = sub.add_parser(
        "check-schema", help="print the JSON Schema of 'svcmining check --format json'"
    )
    schema.set_defaults(func=_cmd_check_schema)
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
    import warnings

    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse: --help/--version (0) or a usage error (2)
        return int(exc.code) if isinstance(exc.code, int) else EXIT_BAD_INPUT
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_BAD_INPUT
    os.environ.setdefault("MPLBACKEND", "Agg")  # never open windows from the command line
    from ._safetext import guard_streams

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
    except Exception as err:
        from .exceptions import SvcMiningError

        if args.debug:
            raise
        if isinstance(err, SvcMiningError | OSError):
            print(f"svcmining: error: {_one_line(err)}", file=sys.stderr)
            return EXIT_BAD_INPUT
        print(
            f"svcmining: internal error: {type(err).__name__}: {_one_line(err)} (rerun with "
            "--debug and report it)",
            file=sys.stderr,
        )
        return EXIT_BAD_INPUT
    finally:
        sys.stdout.flush()
        restore_streams()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
