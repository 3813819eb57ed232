"""Tests for svcmining.plots (process maps); the label font is tested in test_fonts.py."""

from __future__ import annotations

import itertools
import warnings

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from svcmining import _fonts, _processmap
from svcmining import plots as plots_mod
from svcmining.discovery import compare_logs, discover_dfg
from svcmining.exceptions import InvalidParameterError
from svcmining.plots import ProcessMap, plot_difference_map, plot_process_map

TZ = "Asia/Shanghai"
needs_dot = pytest.mark.skipif(not plots_mod.graphviz_available(), reason="Graphviz not installed")


def _log(rows: list[tuple]) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=["case_id", "activity", "timestamp", "department"])
    df["timestamp"] = pd.to_datetime(df["timestamp"]).dt.tz_localize(TZ)
    return df


@pytest.fixture
def log() -> pd.DataFrame:
    """Three complaint tickets with a sales detour and a reopen loop."""
    rows = []
    paths = {
        "GD1": ["投诉登记", "分类派单", "售后评估", "远程排障", "结单"],
        "GD2": ["投诉登记", "分类派单", "销售核实", "售后评估", "上门维修", "结单"],
        "GD3": ["投诉登记", "分类派单", "售后评估", "远程排障", "结单", "重新打开", "远程排障"],
    }
    dept = {"销售核实": "销售部", "售后评估": "售后部", "远程排障": "技术支持部"}
    for case, acts in paths.items():
        t = pd.Timestamp("2024-10-08 09:00")
        for a in acts:
            t += pd.Timedelta(hours=2)
            rows.append((case, a, t, dept.get(a, "客服中心")))
    return _log(rows)


# ---------------------------------------------------------------------------- graphviz


def test_dot_source_labels_metric_and_escaping(log):
    """DOT text carries the CJK font, formatted wait labels and escaped special characters."""
    g = discover_dfg(log)
    spec = _processmap._map_spec(g, "wait_p50", 0.0, None, "TB", None)
    dot = _processmap._dot_source(spec)
    assert "投诉登记" in dot
    assert " 2.0 h " in dot  # every step waits 2 hours
    family = _fonts.cjk_font_family()
    if family:
        assert f'fontname="{family}"' in dot
    weird = log.assign(activity=log["activity"].replace({"结单": '<结单 & "close">'}))
    dot = _processmap._dot_source(
        _processmap._map_spec(discover_dfg(weird), "count", 0.0, None, "TB", None)
    )
    assert "&lt;结单 &amp; &quot;close&quot;&gt;" in dot
    assert '<结单 & "close">' not in dot


@needs_dot
def test_graphviz_saves_svg_png_pdf(log, tmp_path):
    """The Graphviz map saves to SVG (with Chinese text), PNG and PDF and shows in Jupyter."""
    m = plot_process_map(discover_dfg(log), metric="cases", highlight="销售核实")
    assert isinstance(m, ProcessMap)
    assert m.engine == "graphviz"
    svg = m.save(tmp_path / "map.svg").read_text(encoding="utf-8")
    assert "投诉登记" in svg
    assert "技术支持部" in svg
    assert m.save(tmp_path / "map.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert m.save(tmp_path / "map.pdf").read_bytes()[:4] == b"%PDF"
    assert m.save(tmp_path / "map.dot").read_text(encoding="utf-8").startswith("digraph")
    assert "<svg" in (m._repr_svg_() or "")
    assert m._repr_png_() is None


@needs_dot
def test_graphviz_escaped_labels_render(log, tmp_path):
    """Labels with <, &, quotes and apostrophes go through dot without errors."""
    weird = log.assign(activity=log["activity"].replace({"结单": "<b>结单</b> & 'x' \"y\" \\n"}))
    svg = plot_process_map(weird).save(tmp_path / "w.svg").read_text(encoding="utf-8")
    assert "&lt;b&gt;结单&lt;/b&gt;" in svg


@needs_dot
def test_graphviz_into_given_axes(log):
    """With ax=, the Graphviz drawing is placed into that matplotlib axes."""
    fig, ax = plt.subplots()
    m = plot_process_map(log, ax=ax)
    assert m.figure is fig
    assert len(ax.images) == 1
    plt.close(fig)


# ---------------------------------------------------------------------------- matplotlib


def test_fallback_without_dot_warns_once_and_draws(log, tmp_path, monkeypatch):
    """Without the dot program: one warning, a matplotlib figure, a non-empty PNG."""
    monkeypatch.setattr(_processmap, "graphviz_available", lambda: False)
    with pytest.warns(UserWarning, match="Graphviz") as record:
        m = plot_process_map(discover_dfg(log), metric="wait_p90", highlight=("结单", "重新打开"))
    assert len([w for w in record if "Graphviz" in str(w.message)]) == 1
    assert m.engine == "matplotlib"
    assert m.source is None
    png = m.save(tmp_path / "fallback.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert png.stat().st_size > 10_000
    assert (m._repr_png_() or b"")[:4] == b"\x89PNG"
    assert m._repr_svg_() is None
    texts = {t.get_text() for t in m.figure.axes[0].texts}
    assert {"投诉登记", "重新打开", "技术支持部 · 3"} <= texts
    with pytest.raises(InvalidParameterError, match="DOT source"):
        m.save(tmp_path / "x.dot")
    plt.close(m.figure)


def test_matplotlib_engine_draws_into_axes(log):
    """engine='matplotlib' draws into a given axes without a warning."""
    fig, ax = plt.subplots()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        m = plot_process_map(log, engine="matplotlib", ax=ax)
    assert m.figure is fig
    assert any(t.get_text() == "售后评估" for t in ax.texts)
    plt.close(fig)


def test_layout_layers_follow_the_process(log):
    """The layered layout puts steps in process order and loops back upwards."""
    spec = _processmap._map_spec(discover_dfg(log), "count", 0.0, None, "TB", None)
    lay = _processmap._map_geometry(spec).layout
    name = {nd.title: nd.id for nd in spec.nodes}
    y = {a: lay.center[i][1] for a, i in name.items() if a}
    assert y["投诉登记"] > y["分类派单"] > y["售后评估"] > y["远程排障"] > y["结单"]
    assert y["结单"] > y["重新打开"]
    back = {
        (ed.source, ed.target) for ed, k in zip(spec.edges, lay.kind, strict=True) if k == "back"
    }
    assert back == {(name["重新打开"], name["远程排障"])}  # the reopen loop, drawn upwards
    # nodes of one layer never overlap
    rows: dict[float, list[tuple[float, float]]] = {}
    for nid, (x, yy) in lay.center.items():
        rows.setdefault(yy, []).append((x - lay.size[nid][0] / 2, x + lay.size[nid][0] / 2))
    for spans in rows.values():
        spans.sort()
        assert all(b[0] - a[1] >= 1.2 - 1e-9 for a, b in itertools.pairwise(spans))


@pytest.mark.parametrize("rankdir", ["TB", "LR"])
def test_sample_map_has_no_overlaps(sample_dir, rankdir):
    """On the sample logs' map no node boxes overlap, and no edge label covers a node or label."""
    from svcmining import _layout
    from svcmining.io import read_tickets

    g = discover_dfg(read_tickets(sample_dir, timezone=TZ))
    spec = _processmap._map_spec(g, "count", 0.0, None, rankdir, None)
    geo = _processmap._map_geometry(spec)
    lay = geo.layout
    nodes = [lay.box(nd.id) for nd in spec.nodes]
    labels = [b for b in geo.labels if b is not None]
    assert len(nodes) == 16
    assert len(labels) == sum(bool(ed.label) for ed in spec.edges) > 50
    overlap = _layout.boxes_overlap
    assert not [(a, b) for a, b in itertools.combinations(nodes, 2) if overlap(a, b)]
    assert not [(a, b) for a in labels for b in nodes if overlap(a, b)]
    assert not [(a, b) for a, b in itertools.combinations(labels, 2) if overlap(a, b)]
    # each label touches its own edge: the (densified) curve reaches the label's box
    for curve, box in zip(geo.curves, geo.labels, strict=True):
        if box is not None:
            t = np.linspace(0, len(curve) - 1, 40 * len(curve))
            x = np.interp(t, np.arange(len(curve)), curve[:, 0])
            y = np.interp(t, np.arange(len(curve)), curve[:, 1])
            dx = np.maximum(np.maximum(box[0] - x, x - box[2]), 0)
            dy = np.maximum(np.maximum(box[1] - y, y - box[3]), 0)
            assert np.hypot(dx, dy).min() <= 0.06


def test_map_geometry_is_deterministic(log):
    """Drawing the same map twice gives the same coordinates, routes and label spots."""
    spec = _processmap._map_spec(discover_dfg(log), "count", 0.0, None, "TB", None)
    a, b = _processmap._map_geometry(spec), _processmap._map_geometry(spec)
    assert a.layout.center == b.layout.center
    assert a.layout.routes == b.layout.routes
    assert a.labels == b.labels


# ---------------------------------------------------------------------------- options


def test_min_share_hides_rare_edges_and_steps(log):
    """min_share drops steps and edges seen in fewer tickets than the share."""
    g = discover_dfg(log)
    full = _processmap._map_spec(g, "count", 0.0, None, "TB", None)
    cut = _processmap._map_spec(g, "count", 0.5, None, "TB", None)
    titles = {nd.title for nd in cut.nodes}
    assert "销售核实" in {nd.title for nd in full.nodes}
    assert "销售核实" not in titles
    assert "重新打开" not in titles
    assert len(cut.edges) < len(full.edges)
    assert "hidden" in cut.legend


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"metric": "foo"}, r"'metric' parameter of plot_process_map must be one of"),
        ({"engine": "tikz"}, "'engine' parameter"),
        ({"min_share": 1.5}, "'min_share' parameter"),
        ({"rankdir": "BT"}, "'rankdir' parameter"),
        ({"highlight": "不存在"}, "'highlight' parameter"),
        ({"highlight": [("结单", "投诉登记")]}, "'highlight' parameter"),
    ],
)
def test_invalid_options_raise(log, kwargs, match):
    """Invalid options raise InvalidParameterError naming the valid values."""
    with pytest.raises(InvalidParameterError, match=match):
        plot_process_map(log, **kwargs)


# ---------------------------------------------------------------------------- difference map


@pytest.mark.parametrize("engine", ["auto", "matplotlib"])
def test_difference_map(log, engine, tmp_path):
    """A before/after comparison draws a difference map with new/vanished paths."""
    before = log[log.case_id != "GD2"]
    after = log[log.case_id != "GD3"]
    cmp = compare_logs(before, after, labels=("试点前", "试点后"))
    spec = _processmap._diff_spec(cmp, None, 0.0, "TB", None)
    styles = {e.style for e in spec.edges}
    assert {"dashed", "dotted"} <= styles  # new (销售核实) and vanished (重新打开) paths
    assert "试点后 vs 试点前" in spec.legend
    fig = cmp.plot(engine=engine)
    assert isinstance(fig, Figure)
    fig.savefig(tmp_path / "diff.png")
    assert (tmp_path / "diff.png").stat().st_size > 1000
    plt.close(fig)
    with pytest.raises(InvalidParameterError, match="'period' parameter"):
        plot_difference_map(cmp, period="试点前")


def test_side_by_side_panels(log, tmp_path):
    """kind='side_by_side' draws one panel per period; an unknown kind is rejected."""
    before = log[log.case_id != "GD2"]
    after = log[log.case_id != "GD3"]
    cmp = compare_logs(before, after)
    fig = cmp.plot(kind="side_by_side", engine="matplotlib", metric="wait_p50")
    assert isinstance(fig, Figure)
    assert sum(len(ax.images) for ax in fig.axes) == 2
    m = plots_mod.plot_periods(cmp, engine="matplotlib", metric="wait_p50")
    assert isinstance(m, ProcessMap)
    assert m.save(tmp_path / "sbs.png").stat().st_size > 1000
    plt.close(fig)
    plt.close(m.figure)
    with pytest.raises(InvalidParameterError, match="'kind' parameter"):
        cmp.plot(kind="overlay")
    with pytest.raises(InvalidParameterError, match="'ncols' parameter"):
        plots_mod.plot_periods(cmp, ncols=0)


def test_matplotlib_text_shrinks_in_small_axes(log):
    """In a small given axes the map's fonts shrink with it (labels stay inside boxes)."""
    fig, (small, _) = plt.subplots(1, 2, figsize=(6, 4))
    plot_process_map(log, engine="matplotlib", ax=small)
    sizes = [t.get_fontsize() for t in small.texts if t.get_text() == "投诉登记"]
    assert sizes
    assert sizes[0] < 10
    plt.close(fig)


def test_highlight_rework_loops(tmp_path):
    """plot_process_map(highlight=rw) marks exactly the rework loop edges that are on the map."""
    import pandas as pd

    import svcmining as svc
    from svcmining._processmap import _highlight_sets

    ts = pd.to_datetime(
        ["2024-10-01 09:00", "2024-10-01 10:00", "2024-10-01 11:00", "2024-10-01 12:00"]
    ).tz_localize("Asia/Shanghai")
    ev = pd.DataFrame(
        {
            "case_id": ["1"] * 4,
            "activity": ["登记", "排障", "排障", "结单"],
            "timestamp": ts,
            "resource": ["a", "b", "c", "a"],
        }
    )
    rw = svc.find_rework(ev)
    g = svc.discover_dfg(ev)
    edges = set(zip(g.edges["source"], g.edges["target"], strict=True))
    acts, pairs = _highlight_sets(rw, set(g.activities["activity"]), edges)
    assert (acts, pairs) == (set(), {("排障", "排障")})
    svc.plot_process_map(g, highlight=rw, engine="matplotlib").save(tmp_path / "m.png")
    assert (tmp_path / "m.png").stat().st_size > 0
