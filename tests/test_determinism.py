"""Same input and options, same bytes (issue 11).

``svcmining check --out DIR`` run twice on the same exports must write byte-identical JSON and
CSV, apart from the one explicit generated-at field (``created``). Each run is a separate
Python process, so hash seeds, dict order and import state differ between the runs.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "sample_logs"
SOP = SAMPLE / "sop_complaint.yaml"
GENERATED_AT = ("created",)


def _run_check(out: Path, *exports: Path, seed: str) -> None:
    env = {**os.environ, "PYTHONHASHSEED": seed, "MPLBACKEND": "Agg", "PYTHONPATH": str(REPO)}
    cmd = [
        sys.executable,
        "-m",
        "svcmining.cli",
        "check",
        *map(str, exports),
        "--sop",
        str(SOP),
        "--timezone",
        "Asia/Shanghai",
        "--out",
        str(out),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, env=env, timeout=300)
    assert proc.returncode in (0, 1), proc.stderr


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory) -> tuple[Path, Path]:
    tmp = tmp_path_factory.mktemp("determinism")
    export = SAMPLE / "工单导出_2024-10.csv"
    _run_check(tmp / "a", export, seed="1")
    _run_check(tmp / "b", export, seed="4242")
    return tmp / "a", tmp / "b"


def _without(doc: object, keys: tuple[str, ...]) -> object:
    if isinstance(doc, dict):
        return {k: _without(v, keys) for k, v in doc.items() if k not in keys}
    if isinstance(doc, list):
        return [_without(v, keys) for v in doc]
    return doc


def test_csv_outputs_byte_identical(two_runs):
    """deviations.csv is byte-identical run after run."""
    a, b = two_runs
    assert (a / "deviations.csv").read_bytes() == (b / "deviations.csv").read_bytes()


def test_text_and_markdown_byte_identical(two_runs):
    """check.txt and check.md carry no run-dependent content."""
    a, b = two_runs
    for name in ("check.txt", "check.md"):
        assert (a / name).read_bytes() == (b / name).read_bytes(), name


def test_json_identical_but_for_generated_at_and_timing(two_runs):
    """check.json differs between runs only in `created` and the measured `seconds`."""
    a, b = two_runs
    docs = [json.loads((d / "check.json").read_text(encoding="utf-8")) for d in (a, b)]
    assert _without(docs[0], (*GENERATED_AT, "seconds")) == _without(
        docs[1], (*GENERATED_AT, "seconds")
    )


def test_json_byte_identical_but_for_generated_at(two_runs):
    """Only the explicit generated-at field may differ between two runs' check.json."""
    a, b = two_runs
    texts = [(d / "check.json").read_text(encoding="utf-8") for d in (a, b)]
    lines = [
        [
            ln
            for ln in t.splitlines()
            if not ln.strip().startswith(tuple(f'"{k}"' for k in GENERATED_AT))
        ]
        for t in texts
    ]
    assert lines[0] == lines[1]


def test_json_keys_sorted(two_runs):
    """check.json objects have their keys in sorted order (stable diffs for any consumer)."""
    doc = json.loads((two_runs[0] / "check.json").read_text(encoding="utf-8"))

    def unsorted(x: object, path: str) -> list[str]:
        if isinstance(x, dict):
            here = [path or "/"] if list(x) != sorted(x) else []
            return here + [p for k, v in x.items() for p in unsorted(v, f"{path}/{k}")]
        if isinstance(x, list):
            return [p for i, v in enumerate(x) for p in unsorted(v, f"{path}[{i}]")]
        return []

    assert not unsorted(doc, "")


def test_shuffled_export_gives_same_csv(tmp_path):
    """An export with its rows in another order gives the same deviations.csv and metrics."""
    import pandas as pd

    src = SAMPLE / "工单导出_2024-10.csv"
    df = pd.read_csv(src, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    # equal-time events keep their export order by contract, so only shuffle untied rows
    tied = df.duplicated(["工单编号", "处理时间"], keep=False)
    shuffled = pd.concat([df[~tied].sample(frac=1.0, random_state=7), df[tied]])
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / src.name).write_text(shuffled.to_csv(index=False), encoding="utf-8")
    _run_check(tmp_path / "a", src, seed="1")
    _run_check(tmp_path / "b", tmp_path / "in" / src.name, seed="2")
    csv_a = (tmp_path / "a" / "deviations.csv").read_text(encoding="utf-8-sig")
    csv_b = (tmp_path / "b" / "deviations.csv").read_text(encoding="utf-8-sig")
    # the log column names the export path, which differs; compare the rest
    strip = [ln.split(",", 1)[1] for ln in csv_a.splitlines()]
    strip_b = [ln.split(",", 1)[1] for ln in csv_b.splitlines()]
    assert strip == strip_b
    docs = [json.loads((tmp_path / d / "check.json").read_text(encoding="utf-8")) for d in "ab"]
    assert docs[0]["logs"][0]["metrics"] == docs[1]["logs"][0]["metrics"]
