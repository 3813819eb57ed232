"""The self-contained HTML report: sections, escaping, offline-ness, reuse of results."""

from __future__ import annotations

import base64
import html
import importlib.util
import re
import xml.etree.ElementTree as ET

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import svcmining._reportparts as parts
import svcmining._reportsections as sections
import svcmining.report as rp
from svcmining._explorer import strip_explorer
from svcmining.exceptions import InvalidParameterError

EVIL = "<script>alert(1)</script>"

SOP_YAML = """\
name: 投诉处理 <i>SOP</i>
steps:
  - {id: register, labels: [投诉登记], department: 客服中心}
  - {id: confirm, labels: [需求确认], department: 客服中心}
  - {id: assign, labels: [分类派单], department: 客服中心}
  - {id: sales_check, labels: [销售核实], department: 销售部, optional: true}
  - {id: assess, labels: [售后评估], department: 售后部}
  - {id: remote, labels: [远程排障], department: 技术支持部, repeatable: true}
  - {id: onsite, labels: [上门维修], department: 上门服务}
  - {id: accept, labels: [客户验收], department: 客服中心}
  - {id: close, labels: [结单], department: 客服中心}
  - {id: reopen, labels: [重新打开], department: 客服中心}
  - {id: follow_up, labels: [回访], department: 客服中心, optional: true}
flow:
  - register
  - confirm
  - assign
  - sales_check
  - assess
  - loop:
      do: [{choice: [remote, onsite]}, accept, close]
      redo: [reopen]
  - follow_up
"""

SEQUENCES = {
    "A1": ["投诉登记", "需求确认", "分类派单", "售后评估", "远程排障", "客户验收", "结单", "回访"],
    "A2": [
        "投诉登记",
        "需求确认",
        "分类派单",
        "销售核实",
        "售后评估",
        "上门维修",
        "客户验收",
        "结单",
    ],
    "A3": ["投诉登记", "需求确认", EVIL, "售后评估", "远程排障", "远程排障", "客户验收", "结单"],
    "A4": [
        "投诉登记",
        "分类派单",
        "售后评估",
        "远程排障",
        "客户验收",
        "结单",
        "重新打开",
        "远程排障",
        "客户验收",
        "结单",
    ],
}
DEPT = {
    "投诉登记": "客服中心",
    "需求确认": "客服中心",
    "分类派单": "客服中心",
    "销售核实": "销售部",
    "售后评估": "售后部",
    "远程排障": "技术支持部",
    "上门维修": "上门服务",
    "客户验收": "客服中心",
    "结单": "客服中心",
    "回访": "客服中心",
    "重新打开": "客服中心",
    EVIL: "<b>部门</b>",
}


def tiny_log() -> pd.DataFrame:
    """Four tickets of the sample process, one with a script tag as an activity label."""
    rows = []
    for i, (case, seq) in enumerate(SEQUENCES.items()):
        t0 = pd.Timestamp("2024-10-08 09:00", tz="Asia/Shanghai") + pd.Timedelta(days=9 * i)
        for j, a in enumerate(seq):
            rows.append(
                {
                    "case_id": case,
                    "activity": a,
                    "timestamp": t0 + pd.Timedelta(hours=3 * j),
                    "resource": f"客服{j % 3:02d}",
                    "department": DEPT[a],
                    "priority": "高" if i % 2 else "普通",
                }
            )
    df = pd.DataFrame(rows)
    df["timestamp"] = df["timestamp"].astype("datetime64[ns, Asia/Shanghai]")
    return df


@pytest.fixture(scope="module")
def sop_path(tmp_path_factory):
    """The SOP of the tiny log, written to a YAML file."""
    p = tmp_path_factory.mktemp("sop") / "sop.yaml"
    p.write_text(SOP_YAML, encoding="utf-8")
    return p


@pytest.fixture(scope="module")
def report(sop_path):
    """The full report of the tiny log against its SOP (built once)."""
    return rp.build_report(tiny_log(), sop=sop_path, title="周报 <report>", lang="en")


def _installed(module: str) -> bool:
    return importlib.util.find_spec(f"svcmining.{module}") is not None


NEEDS = {
    "quality": ["quality"],
    "process_map": ["discovery", "plots"],
    "variants": ["discovery"],
    "rework": ["rework", "_pingpong", "calendars"],
    "handoffs": ["handoffs"],
    "conformance": ["conformance", "calendars"],
    "kpis": ["kpis", "handoffs", "calendars"],
    "pain_points": ["kpis", "handoffs", "calendars"],
    "glossary": ["_glossary"],
}


def test_sections_in_order_and_none_failed(report):
    """Every section is there, in order; none fails, missing modules say 'not available'."""
    assert [s.key for s in report.sections] == list(rp.REPORT_SECTIONS)
    for s in report.sections:
        assert s.status != "failed", (s.key, s.note)
        if all(_installed(m) for m in NEEDS[s.key]):
            assert s.status == "ok", (s.key, s.note)
        else:
            assert s.status in ("ok", "not_available"), (s.key, s.note)
    for key in ("quality", "process_map", "variants"):
        assert report.section(key).status == "ok"


def test_labels_are_escaped(report):
    """Script tags and markup from activity, department, SOP and title never reach the HTML raw."""
    text = report.to_html()
    assert "<script" not in strip_explorer(text).lower()  # only the explorer's two scripts
    assert EVIL not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "<b>部门</b>" not in text
    assert "<i>SOP</i>" not in text
    assert "周报 &lt;report&gt;" in text


def test_hostile_labels_do_not_break_anything(sop_path):
    """Quotes, backslashes, newlines and markup in labels: every section builds, nothing raw."""
    df = tiny_log()
    df.loc[df["activity"] == "远程排障", "activity"] = 'x"y\\ <img src=x onerror=alert(1)> &\n z'
    df.loc[df["activity"] == "售后评估", "department"] = "</svg><script>alert(2)</script>"
    rep = rp.build_report(df, sop=sop_path)
    assert rep.failed == [], [(s.key, s.note) for s in rep.failed]
    text = rep.to_html()
    assert "<img src=x" not in text and "<script" not in strip_explorer(text).lower()
    assert "&lt;img src=x onerror=alert(1)&gt;" in text


def test_self_contained_and_offline(report):
    """Every src/href is a data: URI or an in-page anchor, and a CSP forbids loading anything."""
    text = report.to_html()
    refs = re.findall(r'(?:src|href)="([^"]*)"', text)
    assert refs, "the report has figures and a table of contents"
    assert all(r.startswith(("data:", "#")) for r in refs), [r[:40] for r in refs]
    assert "Content-Security-Policy" in text
    assert "default-src 'none'" in text
    assert "@import" not in text and not re.search(r"url\((?!#)", text)  # in-page only


def test_figures_decode(report):
    """Inlined Graphviz maps are SVG with a CJK font stack; matplotlib charts are valid PNG."""
    text = report.to_html()
    svgs = re.findall(r'src="data:image/svg\+xml;base64,([^"]+)"', text)
    pngs = re.findall(r'src="data:image/png;base64,([^"]+)"', text)
    assert len(svgs) >= 2  # process map, SOP overlay
    for u in svgs:
        data = base64.b64decode(u)
        assert ET.fromstring(data).tag.endswith("svg")
        if b"<text" in data:
            assert b"Microsoft YaHei" in data  # the stack replaces Graphviz's single font
    for u in pngs:
        assert base64.b64decode(u).startswith(b"\x89PNG\r\n\x1a\n")
    if report.section("rework").status == "ok":
        assert pngs  # the rework chart


def test_chinese_text_in_html(report):
    """Chinese activity and department labels appear as text, and a CJK font stack is declared."""
    text = report.to_html()
    assert '<meta charset="utf-8">' in text
    for label in ("投诉登记", "远程排障", "客服中心"):
        assert label in text
    assert "Noto Sans CJK SC" in text and "Microsoft YaHei" in text


def test_section_renders_alone(report):
    """Each section shows on its own in a notebook (its own styles, its heading)."""
    sec = report.section("variants")
    html_text = sec._repr_html_()
    assert html_text.startswith('<div class="svcm-report"><style>')
    assert "<h2>Variants" in html_text
    assert "投诉登记" in html_text
    with pytest.raises(InvalidParameterError, match=r"'key' parameter of Report\.section"):
        report.section("nope")


def test_key_figures_first(report):
    """A key-figures block opens the report: tickets, and what the built sections measured."""
    head = {label: value for label, value, *_ in report.meta["headline"]}
    assert head["tickets"] == "4"
    if report.section("conformance").status == "ok":
        assert head["deviation rate vs SOP"] == "50.0%"  # A3 unknown activity, A4 skipped confirm
    text = report.to_html()
    assert text.index("Key figures") < text.index("Pain points ranked by hours lost</h2>")


def test_to_frame_lists_sections(report):
    """to_frame gives one row per section with its status."""
    df = report.to_frame()
    assert list(df.columns) == ["section", "title", "status", "note", "seconds"]
    assert df["section"].tolist() == list(rp.REPORT_SECTIONS)
    assert (df["seconds"] >= 0).all()


def test_results_are_kept_for_reuse(report):
    """The analysis objects behind the sections are available without recomputing."""
    from svcmining.discovery import ProcessGraph

    assert isinstance(report.results["graph"], ProcessGraph)
    assert report.results["variants"]["cases"].sum() == 4
    if report.section("conformance").status == "ok":
        from svcmining.conformance import ConformanceResult

        assert isinstance(report.results["conformance"], ConformanceResult)


def test_without_sop_conformance_is_skipped():
    """No SOP: the conformance section says it was skipped and how to give one."""
    rep = rp.build_report(tiny_log(), sections=["variants", "conformance"])
    assert [s.key for s in rep.sections] == ["variants", "conformance"]
    conf = rep.section("conformance")
    assert conf.status == "skipped"
    assert "--sop" in conf.note
    assert conf.note.startswith("已跳过：未提供 SOP")  # Chinese labels: a Chinese report
    assert 'class="status status-skipped">已跳过<' in rep.to_html()


def test_failing_section_keeps_the_report(monkeypatch):
    """One analysis raising does not lose the report; the section says what failed."""

    def boom(ctx):
        raise ValueError("kaputt <b>")

    monkeypatch.setitem(sections.BUILDERS, "variants", boom)
    rep = rp.build_report(tiny_log(), sections=["quality", "variants"])
    assert rep.section("quality").status == "ok"
    bad = rep.section("variants")
    assert bad.status == "failed"
    assert "ValueError: kaputt <b>" in bad.note
    assert rep.failed == [bad]
    assert "kaputt &lt;b&gt;" in rep.to_html()


def test_input_not_mutated(sop_path):
    """Building a report leaves the caller's DataFrame unchanged."""
    df = tiny_log()
    before = df.copy()
    rp.build_report(df, sop=sop_path, sections=["quality", "process_map", "rework"])
    pd.testing.assert_frame_equal(df, before)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"sections": ["nope"]}, r"'sections' parameter of build_report"),
        ({"calendar": "weekly"}, "'calendar' parameter of build_report"),
        ({"calendar": 3}, "'calendar' parameter of build_report"),
        ({"top": 0}, "'top' parameter of build_report"),
    ],
)
def test_bad_options(kwargs, match):
    """Invalid options raise InvalidParameterError naming the parameter."""
    with pytest.raises(InvalidParameterError, match=match):
        rp.build_report(tiny_log(), **kwargs)


def test_save_writes_one_html_file(tmp_path):
    """save() writes one UTF-8 HTML file (folders created) and refuses other suffixes."""
    rep = rp.build_report(tiny_log(), sections=["variants"])
    path = rep.save(tmp_path / "deep" / "r.html")
    assert path.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert list((tmp_path / "deep").iterdir()) == [path]
    with pytest.raises(InvalidParameterError, match=r"\.html"):
        rep.save(tmp_path / "r.pdf")


def test_render_report(tmp_path):
    """render_report builds and saves in one call."""
    p = rp.render_report(tiny_log(), tmp_path / "x.html", sections=["quality"])
    assert "附录：数据质量与加载报告</h2>" in p.read_text(encoding="utf-8")  # Chinese labels: zh
    p = rp.render_report(tiny_log(), tmp_path / "y.html", sections=["quality"], lang="en")
    assert "Appendix: data quality and load report</h2>" in p.read_text(encoding="utf-8")


def test_table_escapes_and_formats():
    """The table helper escapes cells and headers and formats numbers and sequences."""
    df = pd.DataFrame(
        {
            "<th>": ["<b>x</b>", "y"],
            "n": [1234567, 2],
            "share": [0.12345, float("nan")],
            "seq": [("a", "b"), ("c",)],
        }
    )
    out = parts.table_html(df)
    assert "&lt;th&gt;" in out and "&lt;b&gt;x&lt;/b&gt;" in out
    assert "1,234,567" in out and "12.3%" in out  # "share": a percentage
    assert "a → b" in out
    assert "<b>" not in out


def test_long_table_has_every_row():
    """A long table keeps every row: the first ``visible`` show, the rest are collapsed."""
    out = parts.table_html(pd.DataFrame({"a": range(30)}), visible=10)
    assert out.count("<tr>") == 31  # header + all 30 rows
    first, rest = out.split('<tbody class="rest">')
    assert first.count("<tr>") == 11 and rest.count("<tr>") == 20
    assert [int(v) for v in re.findall(r'<td class="num">(\d+)</td>', out)] == list(range(30))
    assert "<details" in out and "show all 30 rows (20 more)" in out
    assert "not shown" not in out


@pytest.mark.slow
def test_sample_logs_report(sample_dir):
    """On the bundled sample exports every available section builds without failing."""
    if not sorted(sample_dir.glob("*.csv")):
        pytest.skip(f"no sample exports in {sample_dir} yet (python -m svcmining.datasets)")
    import svcmining as svc

    log = svc.read_tickets(sample_dir, timezone="Asia/Shanghai")
    rep = rp.build_report(log, sop=sample_dir / "sop_complaint.yaml")
    assert rep.failed == [], [(s.key, s.note) for s in rep.failed]
    assert rep.section("conformance").status == "ok"
    assert rep.meta["cases"] == log.n_cases
    # Chinese labels: a Chinese report by default, every header in words, every row there
    page = rep.to_html()
    assert rep.lang == "zh" and '<html lang="zh">' in page
    assert "<h2>按损失工时排序的痛点</h2>" in page and "<h2>部门间交接</h2>" in page
    headers = re.findall(r"<th[^>]*>(.*?)</th>", page)
    assert headers and not [h for h in headers if "_" in h]
    assert "not shown" not in page and "more rows" not in page
    assert (
        page.index('id="pain_points"') < page.index('id="process_map"') < page.index('id="quality"')
    )


def test_row_order_does_not_matter(sop_path):
    """Shuffling the input rows gives the same report sections, byte for byte."""
    df = tiny_log()
    shuffled = df.sample(frac=1.0, random_state=7).reset_index(drop=True)
    keys = ["quality", "process_map", "variants", "rework", "conformance"]
    a = rp.build_report(df, sop=sop_path, sections=keys)
    b = rp.build_report(shuffled, sop=sop_path, sections=keys)
    for key in keys:
        assert a.section(key).body == b.section(key).body, key


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=40))
def test_table_never_emits_raw_markup(text):
    """Whatever text a cell holds, the table shows it escaped: no raw '<' or '&' from data,
    and control/bidi characters as visible escapes (issue 21)."""
    from svcmining._safetext import escape_text, has_unsafe

    out = parts.table_html(pd.DataFrame({"label": [text], "n": [1]}))
    body = out.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    cells = re.findall(r"<td[^>]*>(.*?)</td>", body, flags=re.S)
    assert cells[0] == html.escape(escape_text(str(parts._fmt_cell(text))))
    assert "<" not in cells[0] and not has_unsafe(cells[0])


def test_missing_module_is_not_available(monkeypatch):
    """A section whose module is not installed says 'not available' instead of failing."""
    real = sections._optional
    monkeypatch.setattr(sections, "_optional", lambda m, n: None if m == "handoffs" else real(m, n))

    def needs_missing(ctx):
        raise ModuleNotFoundError("No module named 'svcmining._nothing'", name="svcmining._nothing")

    monkeypatch.setitem(sections.BUILDERS, "variants", needs_missing)
    rep = rp.build_report(tiny_log(), sections=["variants", "handoffs"])
    assert rep.section("handoffs").status == "not_available"
    assert "svcmining.handoffs" in rep.section("handoffs").note
    assert rep.section("variants").status == "not_available"
    assert "svcmining._nothing" in rep.section("variants").note
    assert rep.failed == []
