"""The report's figures (svcmining._reportparts.picture): a Graphviz map's raster figure is
inlined as the map's own SVG, drawn once; anything drawn on top of it keeps it a PNG."""

from __future__ import annotations

import base64
import io
import re

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pytest

from svcmining import _processmap
from svcmining._reportparts import picture

SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><text font-family="Times">a</text></svg>'


@pytest.fixture
def dot_map(monkeypatch):
    """A Graphviz ProcessMap whose dot is a stand-in: a 288 x 96 px PNG, a one-text SVG."""
    src = plt.figure(figsize=(3, 1), dpi=96)
    buf = io.BytesIO()
    src.savefig(buf, format="png", dpi=96)
    plt.close(src)
    calls: list[str] = []

    def fake_dot(source: str, fmt: str) -> bytes:
        calls.append(fmt)
        return buf.getvalue() if fmt == "png" else SVG

    monkeypatch.setattr(_processmap, "_run_dot", fake_dot)
    return _processmap.ProcessMap("graphviz", source="digraph { a -> b }"), calls


def _uri(html: str) -> tuple[str, bytes]:
    m = re.search(r'src="data:([^;]+);base64,([^"]+)"', html)
    assert m is not None
    return m.group(1), base64.b64decode(m.group(2))


def test_graphviz_map_figure_is_inlined_as_its_svg(dot_map):
    """The figure of ProcessMap.to_figure comes out as the map's SVG with the CJK font
    stack, its raster is never painted again, and the figure is closed."""
    m, calls = dot_map
    fig = m.to_figure()
    html = picture(fig, "pain-point map")
    mime, data = _uri(html)
    assert mime == "image/svg+xml"
    assert b"Microsoft YaHei" in data and b'font-family="Times"' not in data
    assert calls == ["png", "svg"]
    assert not plt.fignum_exists(fig.number)


def test_graphviz_map_figure_drawn_on_stays_png(dot_map):
    """A figure with something drawn on the map is the figure, not the map: a PNG."""
    m, _ = dot_map
    fig = m.to_figure()
    fig.axes[0].plot([0, 10], [0, 10])
    mime, data = _uri(picture(fig, "annotated map"))
    assert mime == "image/png" and data.startswith(b"\x89PNG\r\n\x1a\n")


def test_report_pain_point_map_is_drawn_once_as_a_map(sample_dir, monkeypatch):
    """The report inlines the pain-point map itself (PainPoints.map) as SVG: no raster
    copy is painted (ProcessMap.to_figure is never called), with or without Graphviz."""
    import svcmining as svc
    from svcmining._painpoints import PainPoints

    def no_raster(self):
        raise AssertionError("the report painted a raster copy of a map")

    monkeypatch.setattr(_processmap.ProcessMap, "to_figure", no_raster)
    log = svc.read_tickets(sample_dir / "工单导出_2024-10.csv", timezone="Asia/Shanghai")
    rep = svc.build_report(
        log,
        sop=sample_dir / "sop_complaint.yaml",
        sections=["pain_points", "process_map"],
        lang="en",
        interactive=False,
    )
    sec = rep.section("process_map")
    assert sec.status == "ok", sec.note
    alt = 'alt="process map with the top pain points marked"'
    assert alt in sec.body
    start = sec.body.rindex("<img", 0, sec.body.index(alt))
    tag = sec.body[start : sec.body.index(">", start)]
    assert 'src="data:image/svg+xml;base64,' in tag
    assert isinstance(rep.results["pain_points"], PainPoints)
    m = rep.results["pain_points"].map(lang="zh")
    assert isinstance(m, _processmap.ProcessMap)
