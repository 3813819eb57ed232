"""The Jupyter walkthroughs in notebooks/: shape of the committed files, and a full run of each."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
EXPECTED = [
    "01_quickstart.ipynb",
    "02_loading_messy_exports.ipynb",
    "03_rework_loops.ipynb",
    "04_handoff_delays.ipynb",
    "05_sop_conformance.ipynb",
    "06_real_world_bpic2013.ipynb",
]


def _read(name: str):
    return nbformat.read(NOTEBOOKS / name, as_version=4)


def test_all_walkthroughs_present():
    """The six walkthroughs the docs promise exist, and no other notebook sneaks in untested."""
    assert sorted(p.name for p in NOTEBOOKS.glob("*.ipynb")) == EXPECTED


@pytest.mark.parametrize("name", EXPECTED)
def test_first_cell_states_question_data_answer(name):
    """Each notebook opens with a markdown cell giving a title, the question, the data and the answer."""
    first = _read(name).cells[0]
    assert first.cell_type == "markdown"
    text = first.source
    assert text.lstrip().startswith("# ")
    for part in ("**Question:**", "**Data:**", "**Answer:**"):
        assert part in text, f"{name}: first cell lacks {part}"


@pytest.mark.parametrize("name", EXPECTED)
def test_no_outputs_committed(name):
    """Notebooks are committed with outputs and execution counts stripped."""
    for i, cell in enumerate(_read(name).cells):
        if cell.cell_type == "code":
            assert cell.get("outputs", []) == [], f"{name} cell {i} has outputs"
            assert cell.get("execution_count") is None, f"{name} cell {i} has an execution count"


@pytest.mark.parametrize("name", EXPECTED)
def test_only_public_api(name):
    """Notebooks use svcmining's public API only: no private modules, no functions defined inline."""
    for cell in _read(name).cells:
        if cell.cell_type != "code":
            continue
        assert not re.search(
            r"svcmining\.\w*\._|svcmining\._|from svcmining\.\w+ import _", cell.source
        )
        assert not re.search(r"^\s*(def|class) ", cell.source, re.MULTILINE), (
            "library code in a notebook"
        )


@pytest.mark.slow
@pytest.mark.parametrize("name", EXPECTED)
def test_notebook_executes(name):
    """Each notebook runs top to bottom without an error (cwd notebooks/, kernel python3).

    The notebooks that read ../shared/real_logs say so and skip those parts when it is absent.
    """
    nbclient = pytest.importorskip("nbclient")
    import svcmining

    nb = _read(name)
    client = nbclient.NotebookClient(
        nb,
        timeout=300,
        kernel_name="python3",
        resources={"metadata": {"path": str(NOTEBOOKS)}},
    )
    # the kernel imports the same svcmining as this test process (installed or source tree)
    package_root = str(Path(svcmining.__file__).resolve().parents[1])
    pythonpath = os.pathsep.join(p for p in (package_root, os.environ.get("PYTHONPATH")) if p)
    env = {**os.environ, "PYTHONPATH": pythonpath}
    client.execute(env=env)
    errors = [
        o
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.get("outputs", [])
        if o.output_type == "error"
    ]
    assert not errors
