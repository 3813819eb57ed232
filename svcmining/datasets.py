"""Seeded synthetic ticket exports with exact ground truth (``sample_logs/``).

:func:`generate_tickets` simulates the complaint / after-sales process of
``sample_logs/sop_complaint.yaml`` (register → confirm → assign → [sales check] →
assess → [approve] → remote troubleshooting | on-site repair → accept → close →
follow-up → [quality check]) for a quarter of tickets, injects the rework, handoff and
SOP-deviation patterns our users report, and returns the true event log together
with its ground truth. :func:`write_sample_exports` writes it as the monthly exports
a help desk would produce (three CSVs in three encodings and time formats, an XLSX
workbook, faulty exports in ``broken/``) plus the truth in ``truth/``;
:func:`write_benchmark_exports` writes the same generator scaled to ~1M events.
``python -m svcmining.datasets OUT_DIR`` does the former from the command line.

How the truth is computed
-------------------------
Everything is computed from the generated (true, deduplicated, cut-off) sequences,
not from what was meant to be injected; ``cases.injected`` records the injected
pattern names per case for reference.

* ``rework`` — a straightforward per-case Python reference implementation of the
  shared taxonomy (``process.md``; the one :mod:`svcmining.rework` implements):
  reopen cycles after 结单 (the segment after a close counts when it holds a close, a
  重新打开 or an activity whose stage is earlier than 结单's; so 回访 / 质量抽检
  after the last close are not rework), then for later executions of an activity
  already executed: self_loop, ping_pong (first event of a department run returning
  after at most 3 runs of other departments, the department having executed the same
  activity before), back_loop (stage = the activity's median relative position
  ``pos / (len - 1)`` in its cases over the whole log, as without an SOP), redo,
  repeat. ``activity`` of a reopen occurrence is the close that was reopened (结单),
  ``at`` its first event's time.
* ``handoffs`` — per case and (from, to) department pair: the number of consecutive
  department changes and their delays (next department's first event − previous
  department's last event, elapsed hours).
* ``deviations`` — typed with the conformance vocabulary of :mod:`svcmining.conformance`:

  - ``skipped_step``: 需求确认 skipped; 回访 skipped; a duplicate twin (投诉登记,
    需求确认, 结单 only) skips 分类派单, 售后评估, the execution, 客户验收 and 回访.
    Steps an *open* ticket has simply not reached yet at the cutoff are **not**
    deviations (the ticket is incomplete, not off-process).
  - ``out_of_order``: 远程排障 done before 售后评估.
  - ``unknown_activity``: 电话催办 (customer chase call, no SOP step).
  - ``wrong_department``: 售后评估 done by 客服中心.
  - ``repeated_step``: a non-repeatable step done again outside a reopen cycle —
    售后评估 again after 销售核实 (ping-pong), 售后评估 again after the indirect
    售后部→技术支持部→上门服务 tour, 客户验收 (and the execution, and 需求确认 when
    re-confirmed) again after a failed acceptance, 客户验收 again after a chase call.
    远程排障 twice in a row is *not* a deviation (the SOP marks it repeatable), nor is
    anything inside a reopen cycle (the SOP's loop).
  - ``inserted_step``: both 远程排障 and 上门维修 in one pass (the indirect tour).
  - ``sla_breach``: the three SLAs of ``sop_complaint.yaml`` evaluated on the true
    times exactly as documented for :func:`svcmining.check_sop` — the clock stops at
    the first target at or after the first start event and starts at the last start
    event before that stop; business hours on the PRC 2024 calendar for
    ``assign_within_2h`` and ``response_by_priority``, elapsed for
    ``follow_up_24_48h`` (24–48 h); a target never done is breached once its
    deadline passed before the cutoff (the log's last event), otherwise censored.
    Injected breaches keep a wide margin from the limits; the 1.8-day sales wait
    causes further (implied) response breaches, all recorded.

  Structural patterns (skipped confirm, execution before assessment, ping-pong,
  failed acceptance, acceptance retry) are injected at most one per case and never
  together with a reopen cycle, so the optimal alignment's typing is unambiguous;
  the simple ones (skipped follow-up, wrong department, chase call, SLA breaches,
  self-loops) may co-occur with them and with reopens. Tickets registered in the
  last 13 days get no structural pattern and those of the last 20 days no reopen, so
  a ticket cut off by the export is never cut in the middle of one.

* ``bottlenecks`` — the delays the generator adds on purpose, recorded as it adds them
  (not re-derived), per pain point in :func:`svcmining.pain_points`' naming, in business
  hours (PRC 2024 calendar, 09:00-18:00): the sales → after-sales gap (from 销售核实 to
  售后评估, about 1.8 days), the wait of complaints for the customer's acceptance (up to
  two days beyond the normal call-back, named by the handoff into 客户验收), remote
  troubleshooting beyond the 1 h best-in-class benchmark, and reopen cycles (from the
  reopened 结单 to the next 结单).

Load truth (``load``)
---------------------
Rows are counted as :func:`svcmining.read_tickets` accounts for them:
``rows_read == rows_kept + sum(dropped.values())`` where ``dropped`` has
``missing_case_id``, ``unparseable_timestamp``, ``repeated_in_later_export`` (an
event a later monthly export repeats), ``duplicate_event`` (a system double-write
inside one file) and ``conflicting_duplicate`` (the older copy of an event a newer export
changed). ``events`` is the log ``read_tickets(...)`` must return with its default
``dedupe=True``; with ``dedupe="exports"`` the double-writes are kept
(``rows_kept_default_dedupe`` counts that load).
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import math
import re
import zipfile
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ._groundtruth import GeneratedTickets, events_frame, file_rows, fmt_times, ground_truth
from ._simulation import CANON, EPOCH, EXPORT_COLUMNS, MONTH_FILES, STAFF, simulate
from ._simulation import TZ as TZ
from ._validation import check_positive_int

__all__ = [
    "GeneratedTickets",
    "generate_tickets",
    "main",
    "write_benchmark_exports",
    "write_sample_exports",
]


def generate_tickets(
    n_tickets: int = 6500,
    *,
    start: str | date = "2024-10-01",
    end: str | date = "2024-12-31",
    seed: int = 20241001,
) -> GeneratedTickets:
    """Simulate a quarter of service tickets with exact ground truth.

    Parameters
    ----------
    n_tickets : int
        Tickets including duplicate twins (about 6% are twins).
    start, end : date or "YYYY-MM-DD"
        Registration period; ``end`` 23:59 is the export cutoff (later events do not
        exist yet, so late tickets are open).
    seed : int
        Everything is a function of the seed.

    Returns
    -------
    GeneratedTickets
        The true log and its truth tables; ``load`` is filled in by
        :func:`write_sample_exports` (here it holds the counts and medians only).

    Examples
    --------
    >>> from svcmining.datasets import generate_tickets
    >>> g = generate_tickets(300, seed=1)
    >>> g.events["case_id"].map(type).eq(str).all()
    np.True_
    """
    n_tickets = check_positive_int("generate_tickets", "n_tickets", n_tickets)
    tickets, cutoff = simulate(n_tickets, start, end, seed)
    return ground_truth(tickets, cutoff)


_ENCODINGS = ("utf-8-sig", "gbk", "utf-8")


def _export_frame(part: pd.DataFrame, style: int) -> pd.DataFrame:
    out = part.rename(columns={v: k for k, v in CANON.items()})
    out["处理时间"] = fmt_times(part["_minute"].to_numpy(), style).to_numpy()
    return out[[*EXPORT_COLUMNS, "_minute"]].reset_index(drop=True)


def _messy_exports(
    events: pd.DataFrame, seed: int, *, messy: bool
) -> tuple[list[pd.DataFrame], dict[str, Any]]:
    """Monthly export tables (with ``_minute``) and the load accounting."""
    rng = np.random.default_rng(seed + 7)
    parts = file_rows(events)
    frames = [_export_frame(p, m) for m, p in enumerate(parts)]
    info: dict[str, Any] = {"conflicts": [], "double_writes": 0, "junk": {}}
    if not messy:
        return frames, info
    true_key = events["case_id"] + "|" + events["_minute"].astype("str")
    eq_ts = set(true_key[true_key.duplicated(keep=False)])
    # ~5 conflicting copies: an event exported in Oct or Nov and again next month, where
    # the older export still had another 处理人 (the newer one is the truth)
    used: set[str] = set()
    for m in (0, 1):
        older, newer = frames[m], frames[m + 1]
        key_o = older["工单编号"] + "|" + older["处理环节"] + "|" + older["_minute"].astype("str")
        key_n = newer["工单编号"] + "|" + newer["处理环节"] + "|" + newer["_minute"].astype("str")
        ok_key = ~(older["工单编号"] + "|" + older["_minute"].astype("str")).isin(eq_ts)
        cand = np.flatnonzero(key_o.isin(set(key_n)).to_numpy() & ok_key.to_numpy())
        n_pick = 3 if m == 0 else 2
        for i in np.sort(rng.choice(cand, size=min(n_pick, len(cand)), replace=False)):
            old_res = older.loc[i, "处理人"]
            dept = older.loc[i, "处理部门"]
            pool = [s for s in STAFF[dept] if s != old_res]
            wrong = pool[int(rng.integers(len(pool)))]
            older.loc[i, "处理人"] = wrong
            used.add(str(key_o.iloc[i]))
            info["conflicts"].append(
                {
                    "case_id": older.loc[i, "工单编号"],
                    "activity": older.loc[i, "处理环节"],
                    "timestamp": str(
                        pd.Timestamp(EPOCH) + pd.Timedelta(minutes=int(older.loc[i, "_minute"]))
                    )
                    + "+08:00",
                    "older_file": MONTH_FILES[m],
                    "older_resource": wrong,
                    "newer_file": MONTH_FILES[m + 1],
                    "newer_resource": old_res,
                }
            )
    # system double-writes (~0.3%), missing ids (~10), unparseable times (~10)
    out = []
    for m, f in enumerate(frames):
        key = f["工单编号"] + "|" + f["处理环节"] + "|" + f["_minute"].astype("str")
        ok = ~key.isin(used) & ~(f["工单编号"] + "|" + f["_minute"].astype("str")).isin(eq_ts)
        cand = np.flatnonzero(ok.to_numpy())
        n_dup = max(1, round(len(f) * 0.003))
        dup_rows = np.sort(rng.choice(cand, size=n_dup, replace=False))
        info["double_writes"] += n_dup
        junk_ids = np.sort(rng.choice(len(f), size=3 + m, replace=False))
        missing = f.iloc[junk_ids].copy()
        missing["工单编号"] = ""
        tbd_rows = np.sort(rng.choice(len(f), size=3 + (m != 1), replace=False))
        tbd = f.iloc[tbd_rows].copy()
        tbd["处理时间"] = "待定"
        tbd["处理环节"] = "上门维修"
        tbd["备注"] = "预约时间待定"
        pieces = [f, f.iloc[dup_rows], missing, tbd]
        order_key = np.concatenate(
            [np.arange(len(f)) * 4, dup_rows * 4 + 1, junk_ids * 4 + 2, tbd_rows * 4 + 3]
        )
        g = pd.concat(pieces, ignore_index=True)
        g = g.iloc[np.argsort(order_key, kind="stable")].reset_index(drop=True)
        info["junk"][MONTH_FILES[m]] = {
            "missing_case_id": len(missing),
            "unparseable_timestamp": len(tbd),
            "duplicate_event": n_dup,
        }
        out.append(g)
    return out, info


def _load_truth(
    frames: list[pd.DataFrame], info: dict[str, Any], gen_load: dict[str, Any], n_events: int
) -> dict[str, Any]:
    files = {name: len(f) for name, f in zip(MONTH_FILES, frames, strict=True)}
    rows_read = sum(files.values())
    junk = info["junk"]
    dropped = {
        "missing_case_id": sum(j["missing_case_id"] for j in junk.values()),
        "unparseable_timestamp": sum(j["unparseable_timestamp"] for j in junk.values()),
        "duplicate_event": sum(j["duplicate_event"] for j in junk.values()),
        "conflicting_duplicate": len(info["conflicts"]),
    }
    dropped["repeated_in_later_export"] = rows_read - n_events - sum(dropped.values())
    load = {
        "files": files,
        "rows_read": rows_read,
        "rows_kept": n_events,
        "dropped": dict(sorted(dropped.items())),
        "rows_kept_default_dedupe": n_events + dropped["duplicate_event"],
        "conflicts": sorted(info["conflicts"], key=lambda c: (c["case_id"], c["timestamp"])),
        "n_conflicts": len(info["conflicts"]),
        **gen_load,
        "note": (
            "rows_read == rows_kept + sum(dropped) for read_tickets(..., dedupe='all'); "
            "with the default dedupe=True the duplicate_event rows are kept "
            "(rows_kept_default_dedupe). SLA truth uses the last event as cutoff."
        ),
    }
    return load


def _write_csv(frame: pd.DataFrame, path: Path, encoding: str) -> None:
    text = frame.drop(columns="_minute").to_csv(index=False, lineterminator="\n")
    path.write_bytes(text.encode(encoding))


def _deterministic_zip(path: Path) -> None:
    """Rewrite a zip (xlsx) with fixed entry times so it is byte-identical per seed."""
    src = zipfile.ZipFile(path)
    entries = [(i.filename, src.read(i.filename)) for i in src.infolist()]
    src.close()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in entries:
            if name == "docProps/core.xml":  # openpyxl stamps the save time as "modified"
                data = re.sub(
                    rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)",
                    rb"\g<1>2025-01-01T00:00:00Z\g<2>",
                    data,
                )
            zi = zipfile.ZipInfo(name, date_time=(2025, 1, 1, 0, 0, 0))
            zi.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(zi, data)
    path.write_bytes(buf.getvalue())


def _write_xlsx(frames: list[pd.DataFrame], path: Path) -> None:
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    fixed = datetime(2025, 1, 1)
    wb.properties.created = fixed
    wb.properties.modified = fixed
    wb.properties.creator = "svcmining"
    for name, f in zip(("10月", "11月", "12月"), frames, strict=True):
        ws = wb.create_sheet(name)
        ws.append(list(EXPORT_COLUMNS))
        minutes = f["_minute"].to_numpy()
        times = f["处理时间"].to_numpy()
        cols = [f[c].to_numpy(dtype=object) for c in EXPORT_COLUMNS]
        for i in range(len(f)):
            row = [
                None if (isinstance(v, float) and math.isnan(v)) else v
                for v in (c[i] for c in cols)
            ]
            row[0] = row[0] if row[0] != "" else None
            if times[i] != "待定":
                row[2] = EPOCH + timedelta(minutes=int(minutes[i]))
            ws.append(row)
    wb.save(path)
    _deterministic_zip(path)


_BROKEN_README = """# Faulty exports (each must fail to load with a clear error)

- `missing_time_column.csv`: no 处理时间 (time) column
  -> `SchemaError` (required column timestamp missing; the columns found are listed).
- `two_activity_columns.csv`: both 处理环节 and 状态 look like the activity
  -> `SchemaError` (ambiguous activity column; pass a mapping).
- `empty.csv`: 0 bytes -> `ReadError` (the file is empty).
- `header_only.csv`: a header row and no data -> `ReadError`/`SchemaError` (no events).
- `bad_encoding.csv`: Latin-1/C1-control bytes that are neither UTF-8 nor GBK/GB18030
  -> `ReadError` (cannot tell the text encoding; pass encoding=...).
- `unparseable_times.csv`: no 处理时间 value is a time
  -> `SchemaError`/`ReadError` (no parseable timestamps; every row unparseable_timestamp).
"""


def _write_broken(folder: Path, sample: pd.DataFrame) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    s = sample.drop(columns="_minute").head(12).reset_index(drop=True)
    enc = "utf-8"
    (folder / "missing_time_column.csv").write_bytes(
        s.drop(columns="处理时间").to_csv(index=False, lineterminator="\n").encode(enc)
    )
    two = s.copy()
    two.insert(2, "状态", two["处理环节"].map(lambda a: f"{a}完成"))
    (folder / "two_activity_columns.csv").write_bytes(
        two.to_csv(index=False, lineterminator="\n").encode(enc)
    )
    (folder / "empty.csv").write_bytes(b"")
    (folder / "header_only.csv").write_bytes((",".join(EXPORT_COLUMNS) + "\n").encode(enc))
    # Latin-1 / C1-control bytes (ÿ, \x81 ...) that neither UTF-8 nor GBK/GB18030 decode
    latin = ",".join(EXPORT_COLUMNS[:4]).encode("gbk") + b"\n"
    latin += b"".join(
        b"GD2410%06d,\xff\x81\x8d\x90\xe9\x9d,2024-10-08 10:%02d,\xff\xfe\x81\n" % (i, i)
        for i in range(12)
    )
    (folder / "bad_encoding.csv").write_bytes(latin)
    bad = s.copy()
    bad["处理时间"] = ["待定", "未知", "--", "下周一", "TBD", "待定"] * 2
    (folder / "unparseable_times.csv").write_bytes(
        bad.to_csv(index=False, lineterminator="\n").encode(enc)
    )
    (folder / "README.md").write_text(_BROKEN_README, encoding="utf-8")


def _write_truth(folder: Path, g: GeneratedTickets) -> None:
    folder.mkdir(parents=True, exist_ok=True)

    def w(df: pd.DataFrame, name: str) -> None:
        out = df.copy()
        for c in out.columns:
            if isinstance(out[c].dtype, pd.DatetimeTZDtype):
                out[c] = (
                    out[c]
                    .dt.strftime("%Y-%m-%d %H:%M:%S%z")
                    .str.replace(r"(\d\d)(\d\d)$", r"\1:\2", regex=True)
                )
        (folder / name).write_bytes(out.to_csv(index=False, lineterminator="\n").encode("utf-8"))

    w(g.cases, "cases.csv")
    w(g.rework, "rework.csv")
    w(g.handoffs, "handoffs.csv")
    w(g.deviations, "deviations.csv")
    w(g.duplicates, "duplicates.csv")
    w(g.bottlenecks, "bottlenecks.csv")
    (folder / "load.json").write_text(
        json.dumps(g.load, ensure_ascii=False, indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )


def write_sample_exports(
    folder: str | Path,
    *,
    n_tickets: int = 6500,
    seed: int = 20241001,
    xlsx: bool = True,
    broken: bool = True,
) -> GeneratedTickets:
    """Write the Oct-Dec 2024 monthly exports, the XLSX workbook, broken files and truth.

    Parameters
    ----------
    folder : path
        Output folder (``sample_logs/``); created if needed.
    n_tickets, seed
        As for :func:`generate_tickets`.
    xlsx : bool
        Also write ``xlsx/工单导出_2024Q4.xlsx`` (three sheets with datetime cells).
    broken : bool
        Also write ``broken/`` (faulty exports, each showing one loader error).

    Returns
    -------
    GeneratedTickets
        With ``load`` completed (rows per file, drops per reason, conflicts).

    Examples
    --------
    >>> from svcmining.datasets import write_sample_exports
    >>> g = write_sample_exports("sample_logs/")   # doctest: +SKIP
    """
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    tickets, cutoff = simulate(n_tickets, "2024-10-01", "2024-12-31", seed)
    g = ground_truth(tickets, cutoff)
    events = events_frame(sorted(tickets, key=lambda t: t["case_id"]))
    frames, info = _messy_exports(events, seed, messy=True)
    load = _load_truth(frames, info, g.load, len(g.events))
    g = GeneratedTickets(
        events=g.events,
        cases=g.cases,
        handoffs=g.handoffs,
        deviations=g.deviations,
        rework=g.rework,
        duplicates=g.duplicates,
        load=load,
        bottlenecks=g.bottlenecks,
    )
    for name, f, enc in zip(MONTH_FILES, frames, _ENCODINGS, strict=True):
        _write_csv(f, out / name, enc)
    if xlsx:
        (out / "xlsx").mkdir(exist_ok=True)
        _write_xlsx(frames, out / "xlsx" / "工单导出_2024Q4.xlsx")
    if broken:
        _write_broken(out / "broken", _export_frame(events.head(12), 0))
    _write_truth(out / "truth", g)
    return g


def write_benchmark_exports(
    folder: str | Path, *, n_events: int = 1_000_000, seed: int = 20241002
) -> dict[str, Any]:
    """Write three monthly CSV exports of about ``n_events`` true events (for benchmarks).

    The same simulation as the samples, scaled (~110k tickets for 1M events); no
    XLSX, no broken files, no injected row faults (monthly overlap only).

    Returns
    -------
    dict
        ``rows`` (CSV data rows), ``events`` (true events), ``cases``, ``files``.

    Examples
    --------
    >>> from svcmining.datasets import write_benchmark_exports
    >>> counts = write_benchmark_exports("benchmarks/data/1m")   # doctest: +SKIP
    """
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    n_tickets = max(1, round(n_events / 8.58))
    tickets, _ = simulate(n_tickets, "2024-10-01", "2024-12-31", seed)
    events = events_frame(sorted(tickets, key=lambda t: t["case_id"]))
    frames, _ = _messy_exports(events, seed, messy=False)
    files = {}
    for name, f, enc in zip(MONTH_FILES, frames, _ENCODINGS, strict=True):
        _write_csv(f, out / name, enc)
        files[name] = len(f)
    return {
        "rows": sum(files.values()),
        "events": len(events),
        "cases": len(tickets),
        "files": files,
        "seed": seed,
    }


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m svcmining.datasets OUT_DIR [--tickets N] [--events N] [--seed S]``."""
    parser = argparse.ArgumentParser(
        prog="python -m svcmining.datasets",
        description="Write the seeded sample exports (or, with --events, benchmark exports).",
    )
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--tickets", type=int, default=6500)
    parser.add_argument("--events", type=int, default=None, help="benchmark exports instead")
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args(argv)
    if args.events:
        kw = {} if args.seed is None else {"seed": args.seed}
        counts = write_benchmark_exports(args.out_dir, n_events=args.events, **kw)
        print(json.dumps(counts, ensure_ascii=False))
    else:
        g = write_sample_exports(
            args.out_dir, n_tickets=args.tickets, seed=20241001 if args.seed is None else args.seed
        )
        print(g)
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
