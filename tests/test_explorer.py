"""The report's interactive explorer: its data (exact values on a tiny log), its HTML and
CSP, and the page in a real headless Chromium (slider, edge click, ticket table, no console
error or CSP violation, screenshots).

The browser tests reuse the DevTools-pipe driver of ``test_report_browser.py`` and skip the
same way when no Chromium is found. ``SVCMINING_SCREENSHOTS=DIR`` keeps their screenshots.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import time
import warnings
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from svcmining import _explorer, _explorerdata
from svcmining.report import build_report

T0 = pd.Timestamp("2024-10-08 09:00", tz="Asia/Shanghai")


def tiny() -> pd.DataFrame:
    """T1: A B C at 0, 1, 3 h; T2: A B C at 0, 2, 2.5 h; T3: A C at 0, 5 h (days apart)."""
    plan = {
        "T1": [("A", 0.0, "X"), ("B", 1.0, "Y"), ("C", 3.0, "X")],
        "T2": [("A", 0.0, "X"), ("B", 2.0, "Y"), ("C", 2.5, "X")],
        "T3": [("A", 0.0, "X"), ("C", 5.0, "X")],
    }
    rows = []
    for k, (case, steps) in enumerate(plan.items()):
        for act, h, dep in steps:
            rows.append(
                {
                    "case_id": case,
                    "activity": act,
                    "timestamp": T0 + pd.Timedelta(days=k) + pd.Timedelta(hours=h),
                    "resource": "r",
                    "department": dep,
                    "channel": "电话" if case != "T2" else "微信",
                }
            )
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def data() -> dict[str, Any]:
    return _explorer.explorer_data(tiny(), top_tickets=2)


def _rows(d: dict[str, Any], idx: list[int]) -> list[str]:
    return [d["cases"]["rows"][i][0] for i in idx]


def _edge(d: dict[str, Any], s: str, t: str) -> dict[str, Any]:
    (e,) = [e for e in d["edges"] if (e["s"], e["t"]) == (s, t)]
    return e


def test_edges_counts_waits_and_tickets(data):
    """Each edge carries its count, tickets, p50/p90 wait and its tickets by longest wait."""
    ab = _edge(data, "A", "B")
    assert (ab["count"], ab["cases"], ab["nt"]) == (2, 2, 2)
    assert ab["p50"] == 1.5 and ab["p90"] == 1.9
    assert _rows(data, ab["tk"]) == ["T2", "T1"]  # waits 2 h, then 1 h
    bc = _edge(data, "B", "C")
    assert _rows(data, bc["tk"]) == ["T1", "T2"]  # waits 2 h, then 0.5 h
    ac = _edge(data, "A", "C")
    assert (ac["count"], ac["p50"], _rows(data, ac["tk"])) == (1, 5.0, ["T3"])
    start = _edge(data, "\u25b6", "A")
    assert (start["count"], start["nt"], start["p50"]) == (3, 3, None)
    assert _rows(data, start["tk"]) == ["T3", "T1"]  # longest cycle first, capped at 2
    assert _edge(data, "C", "\u25a0")["count"] == 3
    assert len(data["edges"]) == 5


def test_nodes_top_tickets_capped_with_total(data):
    """A node lists its top_tickets longest tickets and the total; layout boxes are positive."""
    nodes = {n["id"]: n for n in data["nodes"]}
    assert set(nodes) == {"\u25b6", "A", "B", "C", "\u25a0"}
    a = nodes["A"]
    assert (a["count"], a["cases"], a["nt"], a["dep"]) == (3, 3, 3, "X")
    assert _rows(data, a["tk"]) == ["T3", "T1"]  # cycles 5 h, 3 h (T2: 2.5 h left out)
    assert (nodes["B"]["count"], _rows(data, nodes["B"]["tk"])) == (2, ["T1", "T2"])
    for n in data["nodes"]:
        assert n["w"] > 0 and n["h"] > 0 and 0 <= n["x"] <= data["width"]
    assert nodes["A"]["y"] < nodes["B"]["y"] < nodes["C"]["y"]  # top to bottom, in flow order


def test_variants_and_ticket_rows(data):
    """Variants with share and median; ticket rows with channel, department path and cycle."""
    v1, v2 = data["variants"]
    acts = data["acts"]
    assert [acts[a] for a in v1["seq"]] == ["A", "B", "C"]
    assert (v1["cases"], v1["share"], v1["median"], v1["dev"]) == (2, 0.6667, 2.75, None)
    assert _rows(data, v1["tk"]) == ["T1", "T2"]
    assert ([acts[a] for a in v2["seq"]], v2["cases"], v2["median"]) == (["A", "C"], 1, 5.0)
    cols = data["cases"]["cols"]
    assert cols == [
        "ticket",
        "start",
        "channel",
        "departments",
        "events",
        "cycle_hours",
        "variant",
    ]
    by_id = {r["ticket"]: r for r in _explorer.ticket_rows(data)}
    assert by_id["T2"] == {
        "ticket": "T2",
        "start": "2024-10-09 09:00",
        "channel": "微信",
        "departments": "X → Y → X",
        "events": 3,
        "cycle_hours": 2.5,
        "variant": 1,
    }
    assert by_id["T3"]["departments"] == "X" and by_id["T3"]["variant"] == 2
    assert data["cases"]["codes"]["channel"] == ["微信", "电话"]  # text stored once, as codes
    assert data["n_variants"] == 2 and data["dropped"] == {"nodes": 0, "edges": 0, "variants": 0}


def test_activity_slider_maps_bridge_hidden_steps(data):
    """With B hidden, T1 and T2 go A -> C directly: counts, waits and tickets of that map."""
    (one, two) = data["levels"]  # 10%..90% of 3 activities: 1 or 2 kept (3 is the full map)
    assert one["k"] == 1 and two["k"] == 2
    ac = {(e["s"], e["t"]): e for e in two["edges"]}[("A", "C")]
    assert (ac["count"], ac["cases"], ac["nt"]) == (3, 3, 3)
    assert (ac["p50"], ac["p90"]) == (3.0, 4.6)  # waits 3, 2.5 and 5 h
    assert _rows(data, ac["tk"]) == ["T3", "T1"]  # longest wait first, capped at 2
    assert sorted((e["s"], e["t"]) for e in two["edges"]) == [
        ("A", "C"),
        ("C", "\u25a0"),
        ("\u25b6", "A"),
    ]
    assert sorted((e["s"], e["t"], e["count"]) for e in one["edges"]) == [
        ("A", "\u25a0", 3),
        ("\u25b6", "A", 3),
    ]


def test_layout_places_main_edges_only():
    """Edges under 1% of tickets are laid out only when they are a step's busiest way."""
    edges = [
        {"s": "A", "t": "B", "count": 500, "cases": 500},
        {"s": "B", "t": "C", "count": 400, "cases": 400},
        {"s": "A", "t": "C", "count": 3, "cases": 3},  # rare, not needed: drawn by the script
        {"s": "C", "t": "D", "count": 2, "cases": 2},  # rare but D's only way in
        {"s": "C", "t": "C", "count": 1, "cases": 1},  # rare self-loop
    ]
    assert _explorerdata._main_edges(edges, 1000, 10) == [0, 1, 3]
    assert _explorerdata._main_edges(edges, 1000, 2) == [0, 1]


def test_pain_points_list_their_example_tickets():
    """A pain-point row lists its example tickets (unknown ids dropped) and its ticket count."""
    from types import SimpleNamespace

    table = pd.DataFrame(
        {
            "pain_point": ["X → Y", "C"],
            "cases": [2, 7],
            "example_cases": ["T2;T1;nope", ""],
        }
    )
    d = _explorer.explorer_data(tiny(), results={"pain_points": SimpleNamespace(table=table)})
    first, second = d["pains"]
    assert (first["name"], first["nt"], _rows(d, first["tk"])) == ("X → Y", 2, ["T2", "T1"])
    assert first["f"]["py"].startswith('sliced = svc.filter_cases(log, case_id=["T2", "T1"])')
    assert (second["nt"], second["tk"]) == (7, [])


def test_dotted_chart_events(data):
    """The dotted chart holds every event of the sampled tickets, minutes since the first."""
    dots = data["dots"]
    assert len(dots["t"]) == 8
    assert dots["t"][:3] == [0.0, 60.0, 180.0]
    assert dots["t"][-2:] == [2880.0, 3180.0]
    assert [data["acts"][a] for a in dots["a"][:3]] == ["A", "B", "C"]
    assert [data["deps"][d] for d in dots["d"][:3]] == ["X", "Y", "X"]
    assert dots["b"] is None  # no calendar: no business-hours axis


def test_caps_bound_the_data():
    """max_nodes / max_edges / max_variants / dot caps bound what is embedded, counted."""
    d = _explorer.explorer_data(
        tiny(), top_tickets=1, max_nodes=2, max_variants=1, max_dot_tickets=2, max_dots=5
    )
    assert {n["id"] for n in d["nodes"]} == {"\u25b6", "A", "C", "\u25a0"}
    assert d["dropped"] == {"nodes": 1, "edges": 2, "variants": 1}
    assert all(len(e["tk"]) <= 1 for e in d["edges"])
    assert len(d["variants"]) == 1
    # 2 tickets evenly over the start order: T1 (3 events) and T3 (2): both fit in 5 dots
    assert _rows(d, sorted(set(d["dots"]["case"]))) == ["T1", "T3"]
    d4 = _explorer.explorer_data(tiny(), max_dot_tickets=2, max_dots=4)
    assert _rows(d4, sorted(set(d4["dots"]["case"]))) == ["T1"]  # T3 would pass 4


def test_filter_code_runs_and_matches_tickets(data):
    """The Python shown for an edge selects exactly the edge's tickets."""
    import svcmining as svc

    log = svc.as_ticket_log(tiny())
    for s, t, want in (("A", "B", {"T1", "T2"}), ("A", "C", {"T3"})):
        code = _edge(data, s, t)["f"]["py"]
        scope: dict[str, Any] = {"svc": svc, "log": log}
        exec("import svcmining as svc\n" + code, scope)
        assert set(scope["sliced"].events["case_id"]) == want
    two = data["levels"][1]
    ac = {(e["s"], e["t"]): e for e in two["edges"]}[("A", "C")]
    scope = {"log": log}
    exec("import svcmining as svc\n" + two["kept"] + "\n" + ac["f"]["py"], scope)
    assert set(scope["sliced"].events["case_id"]) == {"T1", "T2", "T3"}  # B hidden
    v1 = data["variants"][0]["f"]["py"]
    scope = {"log": log}
    exec("import svcmining as svc\n" + v1, scope)
    assert set(scope["sliced"].events["case_id"]) == {"T1", "T2"}


@pytest.mark.parametrize("stack", [True, False])
def test_filter_code_of_every_kind_selects_its_tickets(stack, tmp_path):
    """Node, edge, start/end, projected edge and variant code (filter stack or plain pandas)
    and the filters.yaml give exactly the element's tickets."""
    import svcmining as svc

    log = svc.as_ticket_log(tiny())
    kept = 'KEPT = ["A", "C"]\n'
    cases = [
        (_explorerdata._node_filter("B", stack), {"T1", "T2"}),
        (_explorerdata._edge_filter("A", "B", stack), {"T1", "T2"}),
        (_explorerdata._edge_filter("\u25b6", "A", stack), {"T1", "T2", "T3"}),
        (_explorerdata._edge_filter("B", "\u25a0", stack), set()),
        (_explorerdata._edge_filter("C", "\u25a0", stack), {"T1", "T2", "T3"}),
        (_explorerdata._edge_filter("A", "C", stack, projected=True), {"T1", "T2", "T3"}),
        (_explorerdata._variant_filter(["A", "C"], stack), {"T3"}),
    ]
    for k, (f, want) in enumerate(cases):
        scope: dict[str, Any] = {"log": log}
        exec("import svcmining as svc\n" + kept + f["py"], scope)
        assert set(scope["sliced"].events["case_id"]) == want, f["py"]
        if f["yaml"]:
            path = tmp_path / f"f{k}.yaml"
            path.write_text(f["yaml"], encoding="utf-8")
            assert set(svc.apply_filters(log, path).events["case_id"]) == want, f["yaml"]
    assert bool(cases[1][0]["yaml"]) is stack  # YAML only with the filter stack


def test_json_cannot_close_its_script():
    """Labels with </script> and <!-- stay inside the JSON block (escaped < > &)."""
    df = tiny()
    df.loc[df["activity"] == "B", "activity"] = "</script><script>alert(1)</script><!--&"
    html = _explorer.explorer_fragment(_explorer.explorer_data(df))
    m = re.search(r'id="svcm-explorer-data">(.*?)</script>', html, re.S)
    assert m is not None
    assert "<" not in m.group(1) and ">" not in m.group(1)
    assert "</script><script>alert(1)</script><!--&" in json.loads(m.group(1))["acts"]
    assert _explorer.strip_explorer(html).count("<script") == 0


def test_csp_hash_is_the_scripts_hash(tmp_path):
    """The report's CSP allows exactly the inline script's sha256 and nothing else."""
    rep = build_report(tiny(), sections=["process_map", "variants"])
    page = rep.to_html()
    csp = re.search(r'Content-Security-Policy" content="([^"]+)"', page).group(1)
    code = re.search(r'<script id="svcm-explorer-code">(.*?)</script>', page, re.S).group(1)
    digest = base64.b64encode(hashlib.sha256(code.encode("utf-8")).digest()).decode()
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["script-src"] == f"'sha256-{digest}'"
    assert directives["default-src"] == "'none'"
    assert "<script" not in _explorer.strip_explorer(page)


def test_interactive_false_has_no_script():
    """build_report(interactive=False) writes a page without any script."""
    page = build_report(tiny(), sections=["process_map"], interactive=False).to_html()
    assert "<script" not in page and "script-src" not in page


def test_explorer_words_follow_lang():
    """lang= goes into the data and the fragment's heading; the script's string table has
    the same phrases in English and Chinese; a bad lang is refused."""
    from svcmining.exceptions import InvalidParameterError

    zh = _explorer.explorer_data(tiny(), lang="zh")
    assert zh["lang"] == "zh" and _explorer.explorer_data(tiny())["lang"] == "en"
    assert _explorer.explorer_data(tiny().iloc[:0], lang="zh")["lang"] == "zh"
    html = _explorer.explorer_fragment(zh)
    assert "<h2>探索流程</h2>" in html and "Explore the process" not in html
    assert "<h2>Explore the process</h2>" in _explorer.explorer_fragment({"lang": "en"})
    with pytest.raises(InvalidParameterError, match="'lang' parameter of explorer_data"):
        _explorer.explorer_data(tiny(), lang="fr")
    js = _explorer._asset("explorer.js")
    en_block = js[js.index("    en: {") : js.index("    zh: {")]
    zh_block = js[js.index("    zh: {") : js.index("  var STR = ")]
    keys = re.compile(r"(?:^\s*|, )(\w+): ", re.M)  # the keys, not a colon in a phrase
    assert keys.findall(en_block)[1:] == keys.findall(zh_block)[1:]  # after "en"/"zh" itself
    used = set(re.findall(r"STR\.(\w+)|tx\(\"(\w+)\"", js))
    assert {k for pair in used for k in pair if k} <= set(keys.findall(en_block))


def test_empty_log_has_no_explorer():
    """A log with no events gives an empty explorer and no fragment in the report."""
    d = _explorer.explorer_data(tiny().iloc[:0])
    assert d["nodes"] == [] and d["cases"]["rows"] == []


# ------------------------------------------------------------------------- in Chromium

from test_report_browser import CHROMIUM, SOP_YAML, Browser, _tiny_log  # noqa: E402

needs_chromium = pytest.mark.skipif(
    CHROMIUM is None,
    reason="no Chromium binary found (apt-get install chromium, or set SVCMINING_CHROMIUM)",
)

_WATCH = """window.__svcmCsp = [];
document.addEventListener('securitypolicyviolation',
  e => window.__svcmCsp.push(e.violatedDirective + ' ' + e.blockedURI));"""


@pytest.fixture(scope="module")
def chrome(tmp_path_factory):
    """One headless Chromium for the module."""
    if CHROMIUM is None:
        pytest.skip("no Chromium binary found")
    b = Browser(tmp_path_factory.mktemp("chromium-profile"))
    try:
        b.send("Browser.getVersion", timeout=60)
    except Exception as exc:
        b.close()
        if os.environ.get("SVCMINING_REQUIRE_CHROMIUM"):
            raise
        pytest.skip(f"Chromium at {CHROMIUM} did not start: {exc}")
    yield b
    b.close()


class Page:
    """One tab of ``chrome`` with the page at ``path`` loaded."""

    def __init__(self, b: Browser, path: Path, *, scripts: bool = True) -> None:
        self.b = b
        self.target = b.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.s = b.send("Target.attachToTarget", {"targetId": self.target, "flatten": True})[
            "sessionId"
        ]
        for domain in ("Page", "Runtime", "Log", "Network"):
            b.send(f"{domain}.enable", session=self.s)
        b.send(
            "Emulation.setDeviceMetricsOverride",
            {"width": 1280, "height": 900, "deviceScaleFactor": 1, "mobile": False},
            session=self.s,
        )
        if not scripts:
            b.send("Emulation.setScriptExecutionDisabled", {"value": True}, session=self.s)
        else:
            b.send("Page.addScriptToEvaluateOnNewDocument", {"source": _WATCH}, session=self.s)
        b.events.clear()
        t0 = time.perf_counter()
        b.send("Page.navigate", {"url": path.resolve().as_uri()}, session=self.s)
        b.wait_for("Page.loadEventFired", timeout=120)
        self.load_seconds = time.perf_counter() - t0

    def js(self, expr: str) -> Any:
        out = self.b.send(
            "Runtime.evaluate",
            {"expression": expr, "returnByValue": True, "awaitPromise": True},
            session=self.s,
        )
        if "exceptionDetails" in out:
            raise AssertionError(f"{expr}: {out['exceptionDetails']}")
        return out["result"].get("value")

    def click(self, selector: str) -> None:
        """A real mouse click at the middle of the element (scrolled into view)."""
        box = self.js(
            f"(() => {{ const e = document.querySelector({json.dumps(selector)});"
            "e.scrollIntoView({block: 'center'}); const r = e.getBoundingClientRect();"
            "return [r.x + r.width / 2, r.y + r.height / 2]; })()"
        )
        for kind in ("mousePressed", "mouseReleased"):
            self.b.send(
                "Input.dispatchMouseEvent",
                {"type": kind, "x": box[0], "y": box[1], "button": "left", "clickCount": 1},
                session=self.s,
            )

    def screenshot(self, path: Path, selector: str = "#explorer") -> None:
        r = self.js(
            f"(() => {{ const r = document.querySelector({json.dumps(selector)})"
            ".getBoundingClientRect(); return [r.x + scrollX, r.y + scrollY, r.width, "
            "r.height]; })()"
        )
        shot = self.b.send(
            "Page.captureScreenshot",
            {
                "format": "png",
                "captureBeyondViewport": True,
                "clip": {"x": r[0], "y": r[1], "width": r[2], "height": r[3], "scale": 1},
            },
            session=self.s,
        )
        png = base64.b64decode(shot["data"])
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5000
        path.write_bytes(png)

    def problems(self) -> dict[str, list[Any]]:
        ev = self.b.events
        return {
            "console": [
                e["params"]
                for e in ev
                if (
                    e.get("method") == "Runtime.consoleAPICalled"
                    and e["params"]["type"] in ("error", "warning")
                )
                or e.get("method") == "Runtime.exceptionThrown"
                or (
                    e.get("method") == "Log.entryAdded"
                    and e["params"]["entry"]["level"] in ("error", "warning")
                )
            ],
            "requests": [
                e["params"]["request"]["url"]
                for e in ev
                if e.get("method") == "Network.requestWillBeSent"
                and not e["params"]["request"]["url"].startswith(("file:", "data:"))
            ],
        }

    def close(self) -> None:
        self.b.send("Target.closeTarget", {"targetId": self.target})


def _shots(tmp_path: Path) -> Path:
    out = Path(os.environ.get("SVCMINING_SCREENSHOTS", tmp_path))
    out.mkdir(parents=True, exist_ok=True)
    return out


# what the explorer writes, per language of its data (its string table in explorer.js)
WORDS = {
    "en": {
        "transition": "Transition ",
        "bridged": "(without the steps the activity slider hides)",
        "ticket": "Ticket",
        "cycle": "Cycle",
        "variant1": "Variant #1",
        "pain": "Pain point ",
        "tabs": ["Process map", "Variants", "Dotted chart"],
    },
    "zh": {
        "transition": "流转 ",
        "bridged": "（不含活动滑块隐藏的步骤）",
        "ticket": "工单",
        "cycle": "周期",
        "variant1": "变体 #1",
        "pain": "痛点 ",
        "tabs": ["流程图", "变体", "点图"],
    },
}


def _words(page: Page) -> dict[str, Any]:
    """WORDS in the language of the page's explorer data."""
    lang = page.js("JSON.parse(document.getElementById('svcm-explorer-data').textContent).lang")
    return WORDS[lang or "en"]


def _drive(page: Page, shots: Path, name: str) -> dict[str, Any]:
    """The browser steps every report goes through; returns what was seen."""
    seen: dict[str, Any] = {}
    w = _words(page)
    tabs = page.js(
        "[...document.querySelectorAll('#svcm-x .x-tabs button')].map(b => b.textContent)"
    )
    assert tabs == w["tabs"]
    assert page.js("document.getElementById('explorer').hidden") is False
    n_acts = page.js("document.querySelectorAll('#svcm-x .x-node.x-activity').length")
    visible = "(() => [...document.querySelectorAll('#svcm-x .x-node.x-activity')]" + (
        ".filter(g => g.style.display !== 'none').length)()"
    )
    assert page.js(visible) == n_acts  # the activity slider starts at 100%
    page.screenshot(shots / f"{name}-map.png")
    # the activity slider to 30%: only the most frequent 30% of the steps stay
    page.js(
        "(() => { const s = document.getElementById('svcm-x-activities'); s.value = 30;"
        "s.dispatchEvent(new Event('input')); })()"
    )
    seen["after_slider"] = page.js(visible)
    assert seen["after_slider"] == max(1, -(-n_acts * 30 // 100))
    # the steps shown stay connected: hidden steps are bridged (the map of the log without
    # them), every step shown has a drawn way in and out
    ends = page.js(
        "[...document.querySelectorAll('#svcm-x .x-lab')].filter(g => g.style.display "
        "!== 'none').length"
    )
    assert ends >= seen["after_slider"] + 1
    page.click("#svcm-x .x-lab:not([style*='none']) text")
    title = page.js("document.querySelector('#svcm-x-tickets h3').textContent")
    assert title.startswith(w["transition"]) and title.endswith(w["bridged"])
    assert page.js("document.querySelector('#svcm-x-tickets pre').textContent").count("KEPT")
    page.screenshot(shots / f"{name}-slider.png")
    page.js(
        "(() => { const s = document.getElementById('svcm-x-activities'); s.value = 100;"
        "s.dispatchEvent(new Event('input')); })()"
    )
    # performance view: labels become hours
    page.js(
        "(() => { const s = document.getElementById('svcm-x-measure'); s.value = 'p50';"
        "s.dispatchEvent(new Event('change')); })()"
    )
    labels = page.js(
        "[...document.querySelectorAll('#svcm-x .x-lab')].filter(g => g.style.display "
        "!== 'none').map(g => g.querySelector('text').textContent).filter(t => t)"
    )
    assert labels and all(t.endswith(" h") for t in labels), labels
    # click the busiest visible transition between two steps (a real mouse click)
    page.js(
        "(() => { const es = [...document.querySelectorAll('#svcm-x .x-lab')].filter("
        "g => g.style.display !== 'none' && g.querySelector('text').textContent);"
        "es[0].id = 'svcm-test-edge'; })()"
    )
    page.click("#svcm-test-edge text")
    title = page.js("document.querySelector('#svcm-x-tickets h3').textContent")
    edge = page.js("document.getElementById('svcm-test-edge').dataset.edge")
    assert title == w["transition"] + edge
    n_rows = page.js("document.querySelectorAll('#svcm-x-tickets table tbody tr').length")
    assert n_rows >= 1
    heads = page.js("[...document.querySelectorAll('#svcm-x-tickets th')].map(t => t.textContent)")
    assert heads[0] == w["ticket"] and any(h.startswith(w["cycle"]) for h in heads)
    assert page.js("document.querySelector('#svcm-x-tickets pre').textContent").startswith(
        "import svcmining as svc"
    )
    # sort the ticket table by cycle time: a number column sorts longest first, then back
    col = next(i for i, h in enumerate(heads) if h.startswith(w["cycle"]))
    cycles = (
        f"[...document.querySelectorAll('#svcm-x-tickets tbody td:nth-child({col + 1})')]"
        ".map(t => parseFloat(t.textContent.replace(/,/g, '')))"
    )
    page.click(f"#svcm-x-tickets th:nth-child({col + 1})")
    cyc = page.js(cycles)
    assert cyc == sorted(cyc, reverse=True) and len(cyc) == n_rows
    page.click(f"#svcm-x-tickets th:nth-child({col + 1})")
    assert page.js(cycles) == sorted(cyc)
    page.screenshot(shots / f"{name}-clicked.png")
    seen["edge_title"], seen["rows"] = title, n_rows
    # variants: click the first one
    page.click("#svcm-x .x-tabs button[data-view='1']")
    page.click("#svcm-x-variant-table tbody tr")
    assert page.js("document.querySelector('#svcm-x-tickets h3').textContent").startswith(
        w["variant1"]
    )
    # dotted chart: drawn, with coloured dots
    page.click("#svcm-x .x-tabs button[data-view='2']")
    inked = page.js(
        "(() => { const c = document.getElementById('svcm-x-canvas');"
        "const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; let n = 0;"
        "for (let i = 0; i < d.length; i += 4) { if (d[i + 3] && (d[i] !== d[i + 1] ||"
        " d[i + 1] !== d[i + 2])) n++; } return n; })()"
    )
    assert inked > 50
    page.screenshot(shots / f"{name}-dots.png")
    page.js(
        "(() => { const s = document.getElementById('svcm-x-time'); s.value = 'r';"
        "s.dispatchEvent(new Event('change')); })()"
    )
    page.screenshot(shots / f"{name}-dots-relative.png")
    assert page.js("window.__svcmCsp") == []
    problems = page.problems()
    assert problems == {"console": [], "requests": []}, problems
    return seen


@needs_chromium
def test_explorer_in_browser_tiny(chrome, tmp_path):
    """Tiny Chinese report with an SOP: slider, overlay, edge click, tables, no errors."""
    sop = tmp_path / "sop.yaml"
    sop.write_text(SOP_YAML, encoding="utf-8")
    path = build_report(_tiny_log(), sop=sop).save(tmp_path / "report.html")
    page = Page(chrome, path)
    try:
        page.js(
            "(() => { const s = document.getElementById('svcm-x-sop'); s.checked = true;"
            "s.dispatchEvent(new Event('change')); })()"
        )
        assert page.js("document.querySelectorAll('#svcm-x .x-edge.extra').length") >= 1
        seen = _drive(page, _shots(tmp_path), "tiny")
        assert seen["rows"] >= 1
        # a label with a script tag is drawn as text and ran nothing
        assert page.js("document.getElementById('svcm-x').textContent").count("<script>") >= 1
        assert not [e for e in chrome.events if e.get("method") == "Page.javascriptDialogOpening"]
    finally:
        page.close()


@needs_chromium
def test_explorer_in_chinese_in_browser(chrome, tmp_path):
    """lang="zh": buttons, headings, table headers and messages are Chinese; the page's
    CSP allows the script by its hash (no violation, no console error)."""
    data = _explorer.explorer_data(tiny(), lang="zh")
    page_html = (
        '<!doctype html><html lang="zh"><head><meta charset="utf-8">'
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        f"script-src {_explorer.csp_script_source()}; style-src 'unsafe-inline'\">"
        f"</head><body>{_explorer.explorer_fragment(data)}</body></html>"
    )
    path = tmp_path / "zh.html"
    path.write_text(page_html, encoding="utf-8")
    page = Page(chrome, path)
    try:
        shots = _shots(tmp_path)
        assert page.js("document.querySelector('#explorer h2').textContent") == "探索流程"
        labels = page.js(
            "[...document.querySelectorAll('#svcm-x .x-bar label')].map(l => l.firstChild.textContent)"
        )
        assert labels[:3] == ["度量 ", "活动 ", "路径 "]
        assert page.js("document.getElementById('svcm-x-status').textContent") == "标签：工单数"
        page.screenshot(shots / "zh-map.png")
        page.click("#svcm-x .x-lab text")
        assert page.js("document.querySelector('#svcm-x-tickets h3').textContent").startswith(
            "流转 "
        )
        heads = page.js(
            "[...document.querySelectorAll('#svcm-x-tickets th')].map(t => t.textContent)"
        )
        assert heads[0] == "工单" and "周期（小时）" in heads
        note = page.js("document.querySelector('#svcm-x-tickets p.note').textContent")
        assert re.fullmatch(r"\d+ 次。( 等待：中位数 .+，90 分位 .+。)? .*张工单.*", note), note
        page.click("#svcm-x .x-tabs button[data-view='1']")
        assert page.js("document.querySelector('#svcm-x-variants p.note').textContent") == (
            "共 2 个变体。点击一行查看其工单。"
        )
        page.screenshot(shots / "zh-variants.png")
        assert page.js("window.__svcmCsp") == []
        assert page.problems() == {"console": [], "requests": []}
    finally:
        page.close()


@needs_chromium
def test_explorer_blocked_scripts_leave_static_report(chrome, tmp_path):
    """With scripts disabled the explorer stays hidden; the static figures all load."""
    path = build_report(_tiny_log()).save(tmp_path / "report.html")
    page = Page(chrome, path, scripts=False)
    try:
        assert page.js("document.getElementById('explorer').hidden") is True
        imgs = page.js("[...document.images].map(i => i.complete && i.naturalWidth > 0)")
        assert imgs and all(imgs)
        assert page.js("document.querySelectorAll('#svcm-x svg').length") == 0
    finally:
        page.close()


@needs_chromium
@pytest.mark.slow
def test_explorer_sample_logs_in_browser(chrome, sample_dir, tmp_path):
    """The demo-sized Chinese report: loads offline, slider, edge click, dotted chart."""
    import svcmining as svc

    exports = sorted(sample_dir.glob("*.csv"))
    if not exports:
        pytest.skip(f"no sample exports in {sample_dir}")
    log = svc.read_tickets(exports, timezone="Asia/Shanghai")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rep = build_report(log, sop=sample_dir / "sop_complaint.yaml")
    path = rep.save(tmp_path / "sample.html")
    page = Page(chrome, path)
    try:
        seen = _drive(page, _shots(tmp_path), "sample")
        assert "→" in seen["edge_title"]
        # a row of the ranked pain points lists its example tickets in the explorer
        page.click("#pain_points table tbody tr")
        head = page.js("document.querySelector('#svcm-x-tickets h3').textContent")
        first = page.js("document.querySelector('#pain_points table tbody tr').textContent")
        pain = _words(page)["pain"]
        assert head.startswith(pain) and head[len(pain) :] in first
        assert page.js("document.querySelectorAll('#svcm-x-tickets tbody tr').length") >= 1
        page.screenshot(_shots(tmp_path) / "sample-pain.png", "#svcm-x-tickets")
        assert page.problems() == {"console": [], "requests": []}
        assert page.load_seconds < 30
    finally:
        page.close()


@needs_chromium
@pytest.mark.slow
@pytest.mark.real_logs
def test_explorer_bpic2013_in_browser(chrome, incidents_log, tmp_path):
    """BPIC 2013 incidents (7,554 tickets): the explorer loads and answers clicks."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rep = build_report(incidents_log, sections=["process_map", "variants", "rework"])
    path = rep.save(tmp_path / "bpic2013.html")
    page = Page(chrome, path)
    try:
        _drive(page, _shots(tmp_path), "bpic2013")
        assert page.load_seconds < 30
    finally:
        page.close()
