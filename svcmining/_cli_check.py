"""``svcmining check`` and ``svcmining check-schema``: the SOP check with thresholds as the
contract, its text / JSON / CSV / JUnit / Markdown outputs, and ``--each --jobs N``.

The JSON document and its schema (:data:`CHECK_JSON_SCHEMA`) are described in
:mod:`svcmining.cli`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import multiprocessing
import os
import sys
import time
import warnings
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import __version__
from ._cli_common import (
    EXIT_BAD_INPUT,
    EXIT_CHECK_FAILED,
    EXIT_OK,
    MAX_LISTED,
    add_load_options,
    display_path,
    fraction,
    one_line,
    read_logs,
    read_sop,
)
from ._cli_output import csv_text
from ._outfile import prepare_folder, write_file
from ._progress import progress_bar
from ._safetext import escape_text, json_safe
from .exceptions import ReadError, SvcMiningError

__all__ = [
    "CHECK_JSON_SCHEMA",
    "CHECK_OUT_FILES",
    "CHECK_SCHEMA_VERSION",
    "FORMATS",
    "METRICS",
    "THRESHOLDS",
    "LogResult",
    "add_check_parser",
    "add_schema_parser",
    "check_log",
    "cmd_check",
    "cmd_check_schema",
    "each_workers",
    "evaluate",
    "parse_jobs",
    "render_junit",
    "render_text",
]


#: The files ``check --out DIR`` writes.
CHECK_OUT_FILES = ("check.txt", "check.json", "check.junit.xml", "check.md", "deviations.csv")

CHECK_SCHEMA_VERSION = 1
FORMATS = ("text", "json", "csv", "junit", "markdown")

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


@dataclass
class LogResult:
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


def evaluate(res: LogResult, conf: Any, thresholds: dict[str, float | None]) -> None:
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


def check_log(
    args: argparse.Namespace, name: str, sources: Sequence[str | Path], sop: Any
) -> LogResult:
    from .conformance import check_sop

    t0 = time.perf_counter()
    res = LogResult(log=name, files=[display_path(Path(s)) for s in sources])
    log = read_logs(args, sources, sop=sop, filter_notes=not getattr(args, "each", False))
    res.events = len(log.events)
    if log.report is not None:
        res.load = log.report.to_dict()
        res.files = [display_path(Path(str(f))) for f in log.report.files["file"]]
    if res.events == 0:
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
    evaluate(res, conf, _thresholds(args))
    res.seconds = time.perf_counter() - t0
    return res


def _thresholds(args: argparse.Namespace) -> dict[str, float | None]:
    return {k: getattr(args, k, None) for k in THRESHOLDS}


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


def _text_line(r: LogResult) -> str:
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


def render_text(
    results: list[LogResult], sop_label: str, thresholds: dict, *, limit: int | None = None
) -> str:
    """The text report; ``limit`` lists at most that many logs (problems first, in order),
    then one line with the counts of the rest."""
    given = [
        f"{THRESHOLDS[k][2]} {THRESHOLDS[k][1]} {v:.3f}"
        for k, v in thresholds.items()
        if v is not None
    ]
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


def _render_markdown(results: list[LogResult], sop_label: str, thresholds: dict) -> str:
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

        def val(metric: str, failed: set[str] = failed, r: LogResult = r) -> str:
            text = _fmt(r.metrics.get(metric))
            return f"**{text}** ✗" if metric in failed else text

        lines.append(
            f"| {cell(r.log)} | {'✅ pass' if r.status == 'pass' else '❌ fail'} | "
            f"{r.tickets or 0:,} | {val('log_fitness')} | {val('deviation_rate')} | "
            f"{val('sla_attainment')} |"
        )
    return "\n".join(lines) + "\n"


def _render_csv(results: list[LogResult], *, bom: bool = False) -> str:
    import pandas as pd

    frames = []
    for r in results:
        d = r.deviation_rows
        if d is not None and len(d):
            frames.append(d.assign(log=r.log))
    from .conformance import DEVIATION_COLUMNS

    cols = ["log", *DEVIATION_COLUMNS]
    if frames:
        df = pd.concat(frames, ignore_index=True)
        df = df[[c for c in cols if c in df.columns]]
    else:
        df = pd.DataFrame(columns=cols)
    return csv_text(df, bom=bom)


def render_junit(results: list[LogResult], sop_label: str) -> str:
    x = escape_text  # XML 1.0 cannot hold controls, even as &#..;
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
        return [(f"{display_path(Path(common))} ({len(logs)} exports)", logs)]
    from ._readers import resolve_sources

    return [(display_path(p), [p]) for p in resolve_sources(list(args.logs))]


def _run_check(args: argparse.Namespace) -> tuple[list[LogResult], Any]:
    sop = read_sop(args.sop)
    groups = _check_groups(args)
    results: list[LogResult] = []
    bar = progress_bar(len(groups), desc="checking", unit="log")
    workers = each_workers(args, len(groups))
    if workers > 1:  # --each --jobs N: exports checked in N processes, same results
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
) -> LogResult:
    """One log's result; with --each a bad export becomes an ERROR line, not the end."""
    try:
        return check_log(args, name, sources, sop)
    except (SvcMiningError, OSError) as err:
        if not args.each:
            raise
        return LogResult(name, [str(s) for s in sources], "error", one_line(err, name))


def parse_jobs(text: str) -> int:
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


def each_workers(args: argparse.Namespace, n_logs: int) -> int:
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
    warnings.simplefilter("ignore")  # as in the parent: findings go to the load report
    args = argparse.Namespace(**options)
    _EACH_STATE["args"] = args
    _EACH_STATE["sop"] = read_sop(args.sop)


def _each_worker_check(group: tuple[str, list[str | Path]]) -> LogResult:
    name, sources = group
    return _check_one(_EACH_STATE["args"], name, sources, _EACH_STATE["sop"])


def _exit_code(results: list[LogResult]) -> int:
    if any(r.status == "error" for r in results):
        return EXIT_BAD_INPUT
    if any(r.status == "fail" for r in results):
        return EXIT_CHECK_FAILED
    return EXIT_OK


def _json_doc(
    results: list[LogResult], sop: Any, sop_path: str, thresholds: dict, code: int
) -> dict[str, Any]:
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
    results: list[LogResult],
    sop: Any,
    sop_path: str,
    thresholds: dict,
    fmt: str,
    out: str | None,
    *,
    all_files: bool = True,
) -> int:
    code = _exit_code(results)
    sop_label = f"{sop.name} ({sop_path})"
    rendered = {
        "text": lambda: render_text(results, sop_label, thresholds),
        "text-summary": lambda: render_text(
            results, sop_label, thresholds, limit=None if all_files else MAX_LISTED
        ),
        "json": lambda: _render_json(_json_doc(results, sop, sop_path, thresholds, code)),
        "csv": lambda: _render_csv(results),
        "junit": lambda: render_junit(results, sop_label),
        "markdown": lambda: _render_markdown(results, sop_label, thresholds),
    }
    sys.stdout.write(rendered["text-summary" if fmt == "text" else fmt]())
    sys.stdout.flush()
    if out is not None:
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


def cmd_check_schema(args: argparse.Namespace) -> int:
    sys.stdout.write(_render_json(CHECK_JSON_SCHEMA))
    return EXIT_OK


def cmd_check(args: argparse.Namespace) -> int:
    if args.out is not None:  # a bad --out fails now, not after the analysis
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
# the subcommands' options
# =============================================================================
def add_check_parser(sub: Any) -> None:
    """Register ``svcmining check`` on the subcommand parsers ``sub``."""
    check = sub.add_parser(
        "check",
        help="check exports against an SOP; exit 1 when a threshold fails",
        description="Check exports against the SOP. Thresholds are the contract: exit 0 when "
        "all hold, 1 when any fails, 2 for bad input.",
    )
    add_load_options(check)
    check.add_argument("--sop", required=True, help="the SOP (YAML or BPMN)")
    check.add_argument(
        "--each", action="store_true", help="check every export file on its own (a batch)"
    )
    check.add_argument(
        "--jobs",
        type=parse_jobs,
        default=1,
        metavar="N",
        help="with --each: check the exports in N processes ('auto': one per idle core); "
        "the results are the same (default 1)",
    )
    check.add_argument(
        "--min-fitness",
        type=fraction,
        default=None,
        metavar="F",
        help="lowest acceptable log fitness (0..1)",
    )
    check.add_argument(
        "--max-deviation-rate",
        type=fraction,
        default=None,
        metavar="R",
        help="highest acceptable share of tickets with a deviation (0..1)",
    )
    check.add_argument(
        "--min-sla-attainment",
        type=fraction,
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
    check.set_defaults(func=cmd_check)


def add_schema_parser(sub: Any) -> None:
    """Register ``svcmining check-schema`` on the subcommand parsers ``sub``."""
    schema = sub.add_parser(
        "check-schema", help="print the JSON Schema of 'svcmining check --format json'"
    )
    schema.set_defaults(func=cmd_check_schema)
