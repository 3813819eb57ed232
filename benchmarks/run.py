"""svcmining vs pm4py on generated ticket exports: one table, one JSON file.

    python benchmarks/run.py --events 1000000            # all steps
    python benchmarks/run.py --events 1000000 --steps load dfg_variants
    python benchmarks/run.py --events 1000000 --repeat 3   # best of 3 runs per side

The exports (three monthly CSVs) are generated with the package's own generator
(``svcmining.datasets.write_benchmark_exports``) into ``benchmarks/data/`` and reused when
they exist. Every step runs in a fresh Python process, once for svcmining and once for the
pm4py-only equivalent, on the same data, so that timings and peak memory (max RSS of
the process) do not leak from one step into the next. Imports are not timed; preparing a
step's input (the loaded log) is not timed either, but counts in its peak RSS.

The load is also timed against a reference loader written directly in pyarrow (the
"arrow ref" column, :func:`_ref_load`): the same files decoded, times parsed, exports
concatenated, exact copies dropped and rows sorted, without svcmining's checks.

Results go to stdout as a table and to ``benchmarks/results/<date>-<events>.json``.
"""

from __future__ import annotations

import argparse
import codecs
import json
import platform
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
TZ = "Asia/Shanghai"
try:  # an installed svcmining (as the README says); else the checkout this script is in
    import svcmining

    # svcmining loads its modules on first use of a name; load them all now, as
    # `import pm4py` does for pm4py, so that no step times an import
    for name in svcmining.__all__:
        getattr(svcmining, name)
except ImportError:  # pragma: no cover - depends on how the script is run
    sys.path.insert(0, str(HERE.parent))


# ----------------------------------------------------------------------------- steps
# Each step: name -> (setup, svcmining_fn, pm4py_fn). setup(data_dir) returns the input;
# the fns take that input. Only the fns are timed.


def _csv_files(data: Path) -> list[Path]:
    return sorted(data.glob("*.csv"))


def _setup_files(data: Path) -> list[Path]:
    return _csv_files(data)


def _setup_log(data: Path) -> Any:
    import svcmining as svc

    return svc.read_tickets(_csv_files(data), timezone=TZ)


def _setup_pm4py_frame(data: Path) -> Any:
    """The canonical log renamed to pm4py's columns (what a pm4py user would have)."""
    log = _setup_log(data)
    ev = log.events.rename(
        columns={
            "case_id": "case:concept:name",
            "activity": "concept:name",
            "timestamp": "time:timestamp",
            "resource": "org:resource",
        }
    )
    return ev


def _svc_load(files: list[Path]) -> Any:
    import svcmining as svc

    return svc.read_tickets(files, timezone=TZ)


def _pm4py_load(files: list[Path]) -> Any:
    import pandas as pd
    import pm4py

    df = pd.concat([pd.read_csv(f, encoding=_encoding(f)) for f in files], ignore_index=True)
    # pm4py cannot parse "2024年12月3日 14:05" (the December export): a pm4py user has to
    # rewrite it first, so that is part of its load
    df["处理时间"] = (
        df["处理时间"].str.replace("年", "-").str.replace("月", "-").str.replace("日", "")
    )
    return pm4py.format_dataframe(
        df, case_id="工单编号", activity_key="处理环节", timestamp_key="处理时间"
    )


def _encoding(path: Path) -> str:
    head = path.read_bytes()[:200_000]
    if head.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    try:  # the head may end inside a character: decode it as an unfinished stream
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
        return "utf-8"
    except UnicodeDecodeError:
        return "gb18030"


# ----------------------------------------------------------------------------- reference loader
# The load written directly in pyarrow (a columnar engine), for the "load within 2x of a
# columnar reference" target: the same work on the same files — decode each export (UTF-8,
# UTF-8 with BOM or GB18030), read every cell as text, parse the time column with
# pyarrow's strptime per detected format, concatenate the exports, drop exact copies
# (every value equal) and sort by ticket and time — with none of svcmining's checks (no
# row accounting, cleaning of na_values, mapping detection or conflict resolution).

_REF_COLUMNS = {"工单编号": "case_id", "处理环节": "activity", "处理时间": "timestamp"}
_REF_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y年%m月%d日 %H:%M:%S",
    "%Y年%m月%d日 %H:%M",
)


def _ref_read(path: Path) -> Any:
    """One export as an Arrow table of text columns, renamed to the canonical names."""
    import io

    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv

    data = path.read_bytes()
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    elif _encoding(path) != "utf-8":
        data = data.decode("gb18030").encode("utf-8")
    header = data[: data.index(b"\n")].decode("utf-8").strip().split(",")
    table = pacsv.read_csv(
        io.BytesIO(data),
        read_options=pacsv.ReadOptions(column_names=header, skip_rows=1),
        convert_options=pacsv.ConvertOptions(column_types=dict.fromkeys(header, pa.string())),
    )
    table = table.rename_columns([_REF_COLUMNS.get(h, h) for h in header])
    text = table["timestamp"]
    # the format that reads most of a sample, then the leftovers with the next one
    times = pa.nulls(len(text), pa.timestamp("s")).to_numpy(zero_copy_only=False)
    todo = pc.is_valid(text).to_numpy(zero_copy_only=False)
    formats = list(_REF_FORMATS)
    while todo.any() and formats:
        sample = text.filter(pa.array(todo)).slice(0, 200)
        hits = [pc.strptime(sample, f, "s", error_is_null=True).null_count for f in formats]
        fmt = formats.pop(hits.index(min(hits)))
        parsed = pc.strptime(text, fmt, "s", error_is_null=True)
        ok = todo & pc.is_valid(parsed).to_numpy(zero_copy_only=False)
        times[ok] = parsed.to_numpy(zero_copy_only=False)[ok]
        todo &= ~ok
    ts = pc.assume_timezone(pa.array(times, pa.timestamp("s")).cast(pa.timestamp("ns")), TZ)
    return table.set_column(table.schema.get_field_index("timestamp"), "timestamp", ts)


def _ref_load(files: list[Path]) -> Any:
    """The reference loader: exports read, concatenated, exact copies dropped, sorted."""
    from concurrent.futures import ThreadPoolExecutor

    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    with ThreadPoolExecutor(2) as pool:  # as svcmining, two exports read at a time
        tables = list(pool.map(_ref_read, files))
    table = pa.concat_tables(tables, promote_options="permissive")
    # one sort by ticket and time, ties by every other value: exact copies are neighbours
    keys = ["case_id", "timestamp", *(c for c in table.column_names if c not in _SORT_FIRST)]
    table = table.take(pc.sort_indices(table, [(k, "ascending") for k in keys]))
    n = table.num_rows
    copy = np.ones(max(n - 1, 0), dtype=bool)  # row i + 1 equals row i in every column
    for col in table.columns:
        same = pc.equal(col.slice(1), col.slice(0, n - 1))
        copy &= pc.fill_null(same, col.slice(1).is_null()).to_numpy(zero_copy_only=False)
    return table.filter(pa.array(np.r_[True, ~copy])).to_pandas()


_SORT_FIRST = ("case_id", "timestamp")


def _svc_dfg_variants(log: Any) -> Any:
    import svcmining as svc

    return svc.discover_dfg(log), svc.variants(log)


def _pm4py_dfg_variants(df: Any) -> Any:
    import pm4py

    return (
        pm4py.discover_dfg(df),
        pm4py.discover_performance_dfg(df),
        pm4py.get_variants(df),
    )


SOP_FILE = HERE.parent / "sample_logs" / "sop_complaint.yaml"


def _svc_quality(log: Any) -> Any:
    import svcmining as svc

    return svc.check_quality(log)


def _svc_model(log: Any) -> Any:
    import svcmining as svc

    return svc.discover_model(log)


def _pm4py_model(df: Any) -> Any:
    import pm4py

    return pm4py.discover_petri_net_inductive(df)


def _svc_rework(log: Any) -> Any:
    import svcmining as svc

    return svc.find_rework(log)


def _pm4py_rework(df: Any) -> Any:
    import pm4py

    return pm4py.get_rework_cases_per_activity(df)


def _svc_handoffs(log: Any) -> Any:
    import svcmining as svc

    return svc.handoff_delays(log, by="department")


def _pm4py_handoffs(df: Any) -> Any:
    import pm4py

    return pm4py.discover_handover_of_work_network(df, resource_key="department")


def _svc_conformance(log: Any) -> Any:
    import svcmining as svc

    return svc.check_sop(log, svc.load_sop(SOP_FILE), method="alignments", precision=False)


def _pm4py_conformance(df: Any) -> Any:
    import pm4py

    import svcmining as svc

    net, im, fm = svc.load_sop(SOP_FILE).petri_net()
    return pm4py.conformance_diagnostics_alignments(df, net, im, fm, multi_processing=False)


def _svc_kpis(log: Any) -> Any:
    import svcmining as svc

    sop = svc.load_sop(SOP_FILE)
    # the KPIs' analyses are handed on to the pain points, as the report does (no call
    # reuses another's work behind the user's back)
    kpis = svc.service_kpis(log, sop=sop)
    return kpis, svc.pain_points(log, sop=sop, **kpis.analyses)


def _svc_pipeline(files: list[Path]) -> Any:
    """load, quality gate, DFG + variants, rework, handoffs, SOP check, KPIs, report."""
    import tempfile

    import svcmining as svc

    log = svc.read_tickets(files, timezone=TZ)
    report = svc.build_report(log, sop=SOP_FILE, progress=False)
    with tempfile.TemporaryDirectory() as tmp:
        report.save(Path(tmp) / "report.html")
    return report


def _pm4py_pipeline(files: list[Path]) -> Any:
    """What pm4py alone offers for the same questions, on the same files."""
    import svcmining as svc

    df = _pm4py_load(files)
    df = df.rename(columns={"处理部门": "department"})
    _pm4py_dfg_variants(df)
    _pm4py_model(df)
    _pm4py_rework(df)
    _pm4py_handoffs(df)
    net, im, fm = svc.load_sop(SOP_FILE).petri_net()
    import pm4py

    return pm4py.conformance_diagnostics_alignments(df, net, im, fm, multi_processing=False)


# ----------------------------------------------------------------------------- excel
# Reading workbooks: the sample workbook (three monthly sheets, 60k rows) and the same
# data as the CSV exports written once into one workbook (``_ensure_workbook``), each
# against pandas' fastest reader (``engine="calamine"``) + pm4py's ``format_dataframe``.

SAMPLE_WORKBOOK = HERE.parent / "sample_logs" / "xlsx" / "工单导出_2024Q4.xlsx"
WORKBOOK = "工单导出_2024Q4.xlsx"  # in the data folder


def _setup_sample_workbook(data: Path) -> Path:
    return SAMPLE_WORKBOOK


def _setup_workbook(data: Path) -> Path:
    return data / WORKBOOK


def _svc_excel(path: Path) -> Any:
    import svcmining as svc

    return svc.read_tickets(path, sheet="*", timezone=TZ)


def _pm4py_excel(path: Path) -> Any:
    import pandas as pd
    import pm4py

    sheets = pd.read_excel(path, sheet_name=None, engine="calamine")
    df = pd.concat(sheets.values(), ignore_index=True)
    # the time column mixes date cells and text (待定): pm4py needs it parsed first
    df["处理时间"] = pd.to_datetime(df["处理时间"], errors="coerce")
    return pm4py.format_dataframe(
        df, case_id="工单编号", activity_key="处理环节", timestamp_key="处理时间"
    )


def _ensure_workbook(data: Path, counts: dict[str, Any]) -> None:
    """Write the CSV exports into one workbook, a sheet each, times as date cells (once)."""
    import pandas as pd
    from openpyxl import Workbook

    path = data / WORKBOOK
    if path.exists() and "workbook_seconds" in counts:  # else the CSVs were regenerated
        return
    t0 = time.perf_counter()
    wb = Workbook(write_only=True)
    for f in _csv_files(data):
        df = pd.read_csv(f, dtype=str, keep_default_na=False, encoding=_encoding(f))
        text = df["处理时间"]
        when = pd.to_datetime(
            text.str.replace("年", "-").str.replace("月", "-").str.replace("日", ""),
            format="ISO8601",
            errors="coerce",
        )
        cells = df.astype(object).where(df != "", None)
        cells["处理时间"] = when.astype(object).where(when.notna(), text)
        ws = wb.create_sheet(f.stem[-7:])  # the month: 2024-10
        ws.append(list(df.columns))
        for row in cells.itertuples(index=False, name=None):
            ws.append(row)
    part = path.with_suffix(".part.xlsx")
    wb.save(part)
    part.rename(path)
    counts["workbook_seconds"] = round(time.perf_counter() - t0, 2)
    (data / "counts.json").write_text(json.dumps(counts, ensure_ascii=False, default=str, indent=2))


# ----------------------------------------------------------------------------- polars
# The aggregation steps written directly in polars (a columnar engine), for the "within 2x
# of polars" target: the same figures from the same loaded log, converted to a polars
# frame before timing. The log is sorted by case and time, so "next event of the same
# ticket" is a shift guarded by a case comparison. Skipped when polars is not installed.


def _setup_polars_frame(data: Path) -> Any:
    import polars as pl

    ev = _setup_log(data).events
    return pl.from_pandas(ev[["case_id", "activity", "timestamp", "department"]])


def _polars_next(df: Any) -> Any:
    import polars as pl

    same = pl.col("case_id").shift(-1) == pl.col("case_id")
    return df.lazy().with_columns(
        pl.when(same).then(pl.col("activity").shift(-1)).alias("next_activity"),
        pl.when(same).then(pl.col("department").shift(-1)).alias("next_department"),
        pl.when(same)
        .then((pl.col("timestamp").shift(-1) - pl.col("timestamp")).dt.total_seconds() / 3600)
        .alias("wait_hours"),
    )


def _polars_stats(col: str) -> list[Any]:
    import polars as pl

    return [
        pl.len().alias("count"),
        pl.col("case_id").n_unique().alias("cases"),
        pl.col(col).mean().alias("mean"),
        pl.col(col).median().alias("p50"),
        pl.col(col).quantile(0.9, interpolation="linear").alias("p90"),
        pl.col(col).max().alias("max"),
    ]


def _polars_dfg_variants(df: Any) -> Any:
    import polars as pl

    nxt = _polars_next(df)
    edges = (
        nxt.filter(pl.col("next_activity").is_not_null())
        .group_by("activity", "next_activity")
        .agg(_polars_stats("wait_hours"))
    )
    per_case = (
        df.lazy()
        .group_by("case_id", maintain_order=True)
        .agg(
            pl.col("activity").alias("sequence"),
            (
                (pl.col("timestamp").last() - pl.col("timestamp").first()).dt.total_seconds() / 3600
            ).alias("hours"),
        )
    )
    ends = per_case.select(
        pl.col("sequence").list.first().alias("start"), pl.col("sequence").list.last().alias("end")
    )
    variants = (
        per_case.group_by("sequence")
        .agg(pl.len().alias("cases"), pl.col("hours").median().alias("median_hours"))
        .sort("cases", descending=True)
    )
    return pl.collect_all(
        [
            edges,
            variants,
            ends.group_by("start").len(),
            ends.group_by("end").len(),
            df.lazy()
            .group_by("activity")
            .agg(pl.len(), pl.col("case_id").n_unique().alias("cases")),
        ]
    )


def _polars_handoffs(df: Any) -> Any:
    import polars as pl

    nxt = _polars_next(df.filter(pl.col("department").is_not_null()))
    hand = nxt.filter(
        pl.col("next_department").is_not_null()
        & (pl.col("next_department") != pl.col("department"))
    )
    pairs = hand.group_by("department", "next_department").agg(
        *_polars_stats("wait_hours"), pl.col("wait_hours").sum().alias("total")
    )
    cases = (
        df.lazy()
        .group_by("case_id")
        .agg(
            (
                (pl.col("timestamp").max() - pl.col("timestamp").min()).dt.total_seconds() / 3600
            ).alias("cycle_hours")
        )
    )
    per_case = hand.group_by("case_id").agg(
        pl.len().alias("n_handoffs"), pl.col("wait_hours").sum().alias("handoff_hours")
    )
    return pl.collect_all([hand, pairs, cases.join(per_case, on="case_id", how="left")])


POLARS: dict[str, Callable[[Any], Any]] = {
    "dfg_variants": _polars_dfg_variants,
    "handoffs": _polars_handoffs,
}


REFERENCE: dict[str, Callable[[Any], Any]] = {"load": _ref_load}


Step = tuple[Callable[[Path], Any], Callable[[Any], Any], Callable[[Any], Any] | None]
STEPS: dict[str, Step] = {
    "load": (_setup_files, _svc_load, _pm4py_load),
    "quality": (_setup_log, _svc_quality, None),
    "dfg_variants": (_setup_log, _svc_dfg_variants, _pm4py_dfg_variants),
    "model": (_setup_log, _svc_model, _pm4py_model),
    "rework": (_setup_log, _svc_rework, _pm4py_rework),
    "handoffs": (_setup_log, _svc_handoffs, _pm4py_handoffs),
    "conformance": (_setup_log, _svc_conformance, _pm4py_conformance),
    "kpis": (_setup_log, _svc_kpis, None),
    "pipeline": (_setup_files, _svc_pipeline, _pm4py_pipeline),
    "excel_sample": (_setup_sample_workbook, _svc_excel, _pm4py_excel),
    "excel": (_setup_workbook, _svc_excel, _pm4py_excel),
}
PM4PY_SETUP: dict[str, Callable[[Path], Any]] = dict.fromkeys(
    ("dfg_variants", "model", "rework", "handoffs", "conformance"), _setup_pm4py_frame
)


# ----------------------------------------------------------------------------- runner


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _child(step: str, side: str, data: Path) -> None:
    """Run one side of one step in this (fresh) process and print a JSON line."""
    setup, svc_fn, pm_fn = STEPS[step]
    # import costs are not part of the timing (svcmining imports pm4py and matplotlib
    # lazily, when a step needs them: import them here, on both sides)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot
    import pm4py  # noqa: F401

    import svcmining

    # svcmining loads its modules on first use of a name; load them all now, as
    # `import pm4py` does for pm4py, so that no step times an import
    for name in svcmining.__all__:
        getattr(svcmining, name)

    if side == "pm4py":
        setup = PM4PY_SETUP.get(step, setup)
    elif side == "polars":
        setup = _setup_polars_frame

    inp = setup(data)
    sides = {
        "svcmining": svc_fn,
        "pm4py": pm_fn,
        "polars": POLARS.get(step),
        "reference": REFERENCE.get(step),
    }
    fn = sides[side]
    assert fn is not None
    t0, cpu0 = time.perf_counter(), time.process_time()
    out = fn(inp)
    seconds, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    rows = len(out.events) if hasattr(out, "events") else len(out) if step == "load" else None
    print(
        json.dumps(
            {"seconds": seconds, "cpu_seconds": cpu, "peak_rss_mib": _peak_rss_mib(), "rows": rows}
        )
    )


def _run(step: str, side: str, data: Path, repeat: int = 1) -> dict[str, Any]:
    runs = []
    for _ in range(repeat):
        out = subprocess.run(
            [sys.executable, __file__, "--child", step, side, "--data", str(data)],
            check=True,
            capture_output=True,
            text=True,
        )
        runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
    return {
        "seconds": min(r["seconds"] for r in runs),
        "peak_rss_mib": max(r["peak_rss_mib"] for r in runs),
        "runs_seconds": [r["seconds"] for r in runs],
        "cpu_seconds": min(r["cpu_seconds"] for r in runs),  # all threads of the process
        "rows": runs[-1].get("rows"),
    }


def _ensure_data(events: int, data: Path) -> dict[str, Any]:
    from svcmining.datasets import write_benchmark_exports

    marker = data / "counts.json"
    if marker.exists():
        counts = json.loads(marker.read_text())
        if counts.get("requested_events") == events:
            return counts
    data.mkdir(parents=True, exist_ok=True)
    for old in data.glob("*.csv"):
        old.unlink()
    t0 = time.perf_counter()
    counts = dict(write_benchmark_exports(data, n_events=events))
    counts["requested_events"] = events
    counts["generate_seconds"] = round(time.perf_counter() - t0, 2)
    marker.write_text(json.dumps(counts, ensure_ascii=False, default=str, indent=2))
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--steps", nargs="*", default=list(STEPS), choices=list(STEPS))
    parser.add_argument("--data", type=Path, default=None)
    parser.add_argument("--child", nargs=2, metavar=("STEP", "SIDE"), help=argparse.SUPPRESS)
    parser.add_argument("--no-pm4py", action="store_true", help="time svcmining only")
    parser.add_argument(
        "--repeat", type=int, default=1, help="runs per side; the fastest is reported"
    )
    args = parser.parse_args(argv)
    if args.child:
        _child(args.child[0], args.child[1], args.data)
        return 0
    data = args.data or HERE / "data" / f"events-{args.events}"
    counts = _ensure_data(args.events, data)
    print(f"data: {data} ({counts.get('rows', '?')} rows, {counts.get('cases', '?')} cases)")
    if "excel" in args.steps:
        _ensure_workbook(data, counts)
    try:
        import polars  # noqa: F401

        has_polars = not args.no_pm4py
    except ImportError:
        has_polars = False
        print("polars is not installed: the polars column stays empty (pip install polars)")
    rows = []
    for step in args.steps:
        s = _run(step, "svcmining", data, args.repeat)
        p = (
            None
            if args.no_pm4py or STEPS[step][2] is None
            else _run(step, "pm4py", data, args.repeat)
        )
        pl = _run(step, "polars", data, args.repeat) if step in POLARS and has_polars else None
        ref = _run(step, "reference", data, args.repeat) if step in REFERENCE else None
        rows.append({"step": step, "svcmining": s, "pm4py": p, "polars": pl, "reference": ref})
    header = (
        f"{'step':<16}{'svcmining s':>13}{'pm4py s':>10}{'ratio':>8}"
        f"{'polars s':>10}{'svc/polars':>12}{'arrow ref s':>13}{'svc/ref':>9}"
        f"{'svc RSS MiB':>13}{'pm4py RSS MiB':>15}{'svc CPU s':>11}"
    )
    print(header)
    print("-" * len(header))
    for r in rows:
        s, p, q, a = r["svcmining"], r["pm4py"], r["polars"], r["reference"]
        ratio = f"{p['seconds'] / s['seconds']:.2f}x" if p else "-"
        p_s = p["seconds"] if p else float("nan")
        p_rss = p["peak_rss_mib"] if p else float("nan")
        q_s = q["seconds"] if q else float("nan")
        vs_q = f"{s['seconds'] / q['seconds']:.2f}x" if q else "-"
        a_s = a["seconds"] if a else float("nan")
        vs_a = f"{s['seconds'] / a['seconds']:.2f}x" if a else "-"
        print(
            f"{r['step']:<16}{s['seconds']:>13.2f}{p_s:>10.2f}{ratio:>8}"
            f"{q_s:>10.2f}{vs_q:>12}{a_s:>13.2f}{vs_a:>9}"
            f"{s['peak_rss_mib']:>13.0f}{p_rss:>15.0f}{s['cpu_seconds']:>11.2f}"
        )
    for r in rows:
        a = r["reference"]
        if a and a.get("rows") != r["svcmining"].get("rows"):
            print(
                f"{r['step']}: svcmining keeps {r['svcmining'].get('rows')} rows, the arrow "
                f"reference {a.get('rows')} (it drops exact copies only; svcmining also "
                "resolves changed copies across exports)"
            )
    out_dir = HERE / "results"
    out_dir.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    result = {
        "generated_at": stamp,
        "events": args.events,
        "repeat": args.repeat,
        "data": counts,
        "machine": {
            "python": platform.python_version(),
            "cpus": _cpus(),
            "platform": platform.platform(),
        },
        "steps": rows,
    }
    path = out_dir / f"{stamp}-{args.events}.json"
    path.write_text(json.dumps(result, indent=2, ensure_ascii=False, default=str))
    print(f"\nwritten: {path}")
    return 0


def _cpus() -> int:
    import os

    return os.cpu_count() or 0


if __name__ == "__main__":
    sys.exit(main())
