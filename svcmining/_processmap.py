"""The process-map engine of :mod:`svcmining.plots` and every map-drawing ``.plot()``:
one abstract map drawn by Graphviz's ``dot`` or the built-in layout (:class:`ProcessMap`).
It reads a ``ProcessGraph`` or ``LogComparison`` by attribute and imports no analysis, so
:mod:`svcmining.discovery` draws with it and :mod:`svcmining.plots` sits above discovery.
"""

from __future__ import annotations

import html
import io
import itertools
import shutil
import subprocess
import textwrap
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from . import _layout
from ._chartwords import map_words, tickets_word
from ._fonts import cjk_font_family, figure_svg, graphviz_env, use_cjk_font
from ._i18n import LANGS
from ._safetext import escape_text
from ._validation import check_choice, check_fraction, check_positive_int
from .exceptions import InvalidParameterError, SvcMiningError

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    # svcmining.discovery's ProcessGraph and LogComparison, read by attribute: this module
    # sits below discovery (whose .plot() methods draw with it) and does not import it
    ProcessGraph = Any
    LogComparison = Any

Metric = Literal["count", "cases", "wait_p50", "wait_p90"]
Engine = Literal["auto", "graphviz", "matplotlib"]
_METRICS = ("count", "cases", "wait_p50", "wait_p90")
_ENGINES = ("auto", "graphviz", "matplotlib")
START_NODE, END_NODE = "__start__", "__end__"
_HIGHLIGHT = "#7b2cbf"  # purple: distinct from the blue and orange-red scales
_NO_DOT_ADVICE = (
    "Graphviz's `dot` program was not found; drawing the process map with svcmining's built-in "
    "layered layout. For the nicest maps install Graphviz (Debian/Ubuntu `sudo apt-get install "
    "graphviz`, macOS `brew install graphviz`, conda `conda install -c conda-forge graphviz`)."
)


def graphviz_available() -> bool:
    """Whether the Graphviz ``dot`` program is on the PATH."""
    return shutil.which("dot") is not None


# ----------------------------------------------------------------------------------------------
# the abstract map


@dataclass(frozen=True)
class MapNode:
    id: str
    title: str  # activity (empty for start/end)
    subtitle: str  # department · count
    fill: str
    kind: Literal["activity", "start", "end"] = "activity"
    highlight: bool = False
    border: str = "#4a6fa5"  # box outline (matplotlib drawing)
    dashed: bool = False  # dashed outline (matplotlib drawing)
    text_color: str = "black"


@dataclass(frozen=True)
class MapEdge:
    source: str
    target: str
    label: str
    color: str
    width: float
    style: Literal["solid", "dashed", "dotted"] = "solid"
    highlight: bool = False
    weight: float = -1.0  # flow used by the matplotlib layout (default: the width)
    constraint: bool = True  # False: the edge does not shape the layers (like Graphviz's)
    label_color: str = "#333333"


@dataclass(frozen=True)
class MapSpec:
    nodes: tuple[MapNode, ...]
    edges: tuple[MapEdge, ...]
    title: str
    legend: str
    colormap: str  # for the matplotlib colour bar
    value_range: tuple[float, float]
    colorbar_label: str
    rankdir: str = "TB"


def _hex(rgba: Any) -> str:
    from matplotlib.colors import to_hex

    return str(to_hex(rgba))


def _scale(values: np.ndarray) -> np.ndarray:
    """0..1 position of each value (square-root scale: keeps small flows visible)."""
    v = np.nan_to_num(np.asarray(values, dtype=float), nan=0.0)
    top = v.max() if len(v) else 0.0
    if top <= 0:
        return np.zeros(len(v))
    return np.sqrt(np.clip(v, 0, None) / top)


def _minmax(values: np.ndarray) -> np.ndarray:
    """0..1 position of each value between the smallest and the largest (NaN -> 0)."""
    v = np.asarray(values, dtype=float)
    if not len(v) or not np.isfinite(v).any():
        return np.zeros(len(v))
    lo, hi = np.nanmin(v), np.nanmax(v)
    out = (v - lo) / (hi - lo) if hi > lo else np.full(len(v), 0.5)
    return np.nan_to_num(out, nan=0.0)


def _fmt_hours(h: float, business: bool) -> str:
    if h != h:  # NaN
        return "–"
    if abs(h) < 1:
        return f"{h * 60:.0f} min"
    if business or abs(h) < 48:
        return f"{h:.1f} h"
    return f"{h / 24:.1f} d"


def _fmt_signed_hours(h: float, business: bool) -> str:
    if h != h:
        return ""
    return ("+" if h >= 0 else "−") + _fmt_hours(abs(h), business)


def _highlight_sets(
    highlight: str | tuple[str, str] | Iterable[str | tuple[str, str]] | None,
    activities: set[str],
    edges: set[tuple[str, str]],
) -> tuple[set[str], set[tuple[str, str]]]:
    if highlight is None:
        return set(), set()
    if hasattr(highlight, "edge_highlights"):
        # a result that marks edges (e.g. find_rework's loops): those still on the map
        loops = highlight.edge_highlights()
        pairs_all = set(zip(loops["source"].astype(str), loops["target"].astype(str), strict=True))
        return set(), pairs_all & edges
    items: list[Any]
    if isinstance(highlight, str) or (
        isinstance(highlight, tuple)
        and len(highlight) == 2
        and all(isinstance(x, str) for x in highlight)
        and tuple(highlight) in edges
    ):
        items = [highlight]
    else:
        items = list(highlight)
    acts: set[str] = set()
    pairs: set[tuple[str, str]] = set()
    unknown: list[Any] = []
    for item in items:
        if isinstance(item, str):
            if item in activities:
                acts.add(item)
            else:
                unknown.append(item)
        elif isinstance(item, tuple | list) and len(item) == 2:
            pair = (str(item[0]), str(item[1]))
            if pair in edges:
                pairs.add(pair)
            else:
                unknown.append(pair)
        else:
            unknown.append(item)
    if unknown:
        raise InvalidParameterError(
            f"The 'highlight' parameter of plot_process_map names activities or edges not on the "
            f"map: {unknown[:5]}. Give activity names or (source, target) pairs from "
            "graph.activities / graph.edges (check min_share)."
        )
    return acts, pairs


def _map_spec(
    g: ProcessGraph,
    metric: Metric,
    min_share: float,
    highlight: Any,
    rankdir: str,
    title: str | None,
    lang: str = "en",
) -> MapSpec:
    from matplotlib import colormaps

    n = max(g.n_cases, 1)
    acts = g.activities
    keep_act = acts[acts["cases"] / n >= min_share]
    act_names = [str(a) for a in keep_act["activity"]]
    act_set = set(act_names)
    e = g.edges
    e = e[(e["cases"] / n >= min_share) & e["source"].isin(act_set) & e["target"].isin(act_set)]
    business = g.time_basis == "business"
    col = {"count": "count", "cases": "cases", "wait_p50": "wait_p50_hours"}.get(
        metric, "wait_p90_hours"
    )
    values = e[col].to_numpy(dtype=float)
    pos = _scale(values) if metric in ("count", "cases") else _minmax(values)
    cmap = colormaps["Blues" if metric in ("count", "cases") else "OrRd"]
    if metric == "count":
        labels = [f"{int(v):,}" for v in values]
    elif metric == "cases":
        labels = [f"{int(v):,} ({v / n:.0%})" for v in values]
    else:
        labels = [_fmt_hours(v, business) for v in values]
    hl_acts, hl_edges = _highlight_sets(
        highlight, act_set, set(zip(e["source"], e["target"], strict=True))
    )

    node_metric = "cases" if metric == "cases" else "count"
    nvals = keep_act[node_metric].to_numpy(dtype=float)
    npos = _scale(nvals)
    ncmap = colormaps["Blues"]
    has_dep = "department" in keep_act.columns
    nodes = [
        MapNode(START_NODE, "", "", "#2ca02c", "start"),
        MapNode(END_NODE, "", "", "#555555", "end"),
    ]
    ids = {}
    for i, (name, v, p) in enumerate(zip(act_names, nvals, npos, strict=True)):
        ids[name] = f"n{i}"
        dep = keep_act["department"].iloc[i] if has_dep else None
        sub = tickets_word(int(v), lang) if node_metric == "cases" else f"{int(v):,}"
        if isinstance(dep, str) and dep:
            sub = f"{dep} · {sub}"
        nodes.append(
            MapNode(ids[name], name, sub, _hex(ncmap(0.06 + 0.34 * p)), "activity", name in hl_acts)
        )
    edges = []
    flows = e["count"].to_numpy(dtype=float)  # the layout follows the flow, whatever the metric
    for (s, t), lab, p, f in zip(
        zip(e["source"], e["target"], strict=True), labels, pos, flows, strict=True
    ):
        edges.append(
            MapEdge(
                ids[s],
                ids[t],
                lab,
                _hex(cmap(0.35 + 0.65 * p)),
                0.8 + 4.2 * p,
                "solid",
                (s, t) in hl_edges,
                weight=f,
            )
        )
    grey = "#9a9a9a"
    for frame, start in ((g.start_activities, True), (g.end_activities, False)):
        for a, c in zip(frame["activity"], frame["count"], strict=True):
            if a in ids and c / n >= min_share:
                lab = f"{int(c):,}" if metric in ("count", "cases") else ""
                src, tgt = (START_NODE, ids[a]) if start else (ids[a], END_NODE)
                edges.append(MapEdge(src, tgt, lab, grey, 0.8, "dashed", weight=float(c)))
    if min_share > 0:  # steps left without any edge would float around: drop them
        linked = {x for ed in edges for x in (ed.source, ed.target)}
        nodes = [nd for nd in nodes if nd.kind != "activity" or nd.id in linked]
    vr = (float(np.nanmin(values)), float(np.nanmax(values))) if len(values) else (0.0, 1.0)
    legend, bar, default_title = map_words(metric, business, min_share, lang)
    return MapSpec(
        tuple(nodes),
        tuple(edges),
        default_title if title is None else title,
        legend,
        "Blues" if metric in ("count", "cases") else "OrRd",
        vr,
        bar,
        rankdir,
    )


# ----------------------------------------------------------------------------------------------
# Graphviz rendering


def _html_text(s: str) -> str:
    """Text for a Graphviz HTML label: control and bidi characters shown as escapes
    (Graphviz refuses them), markup escaped."""

    return html.escape(escape_text(s), quote=True).replace("&#x27;", "&#39;")


def _dot_source(spec: MapSpec) -> str:
    font = cjk_font_family() or "sans-serif"
    q = font.replace("\\", "\\\\").replace('"', '\\"')
    title = '<BR ALIGN="LEFT"/>'.join(f"<B>{_html_text(t)}</B>" for t in spec.title.split("\n"))
    lines = [
        "digraph process_map {",
        f'  graph [rankdir={spec.rankdir}, fontname="{q}", fontsize=10, labelloc=b, '
        f'labeljust=l, nodesep=0.35, ranksep=0.45, bgcolor="white", '
        f'label=<{title}<BR ALIGN="LEFT"/>'
        f'{_html_text(spec.legend)}<BR ALIGN="LEFT"/>>];',
        f'  node [fontname="{q}", fontsize=11, shape=box, style="rounded,filled", '
        f'color="#4a6fa5", penwidth=1];',
        f'  edge [fontname="{q}", fontsize=9, arrowsize=0.7];',
    ]
    for nd in spec.nodes:
        if nd.kind == "start":
            lines.append(
                f'  {nd.id} [shape=circle, label="", width=0.22, fillcolor="{nd.fill}", '
                f'color="{nd.fill}", tooltip="start"];'
            )
        elif nd.kind == "end":
            lines.append(
                f'  {nd.id} [shape=doublecircle, label="", width=0.16, fillcolor="{nd.fill}", '
                f'color="{nd.fill}", tooltip="end"];'
            )
        else:
            label = (
                f"<{_html_text(nd.title)}<BR/>"
                f'<FONT POINT-SIZE="9" COLOR="#444444">{_html_text(nd.subtitle)}</FONT>>'
            )
            extra = f', color="{_HIGHLIGHT}", penwidth=2.5' if nd.highlight else ""
            lines.append(f'  {nd.id} [label={label}, fillcolor="{nd.fill}"{extra}];')
    for ed in spec.edges:
        color = _HIGHLIGHT if ed.highlight else ed.color
        width = ed.width + (1.5 if ed.highlight else 0)
        attrs = [
            f"label=<{_html_text(' ' + ed.label + ' ')}>" if ed.label else 'label=""',
            f"penwidth={width:.2f}",
            f'color="{color}"',
            f'fontcolor="{"#5a1e7a" if ed.highlight else "#333333"}"',
        ]
        if ed.style != "solid":
            attrs.append(f"style={ed.style}")
        lines.append(f"  {ed.source} -> {ed.target} [{', '.join(attrs)}];")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _run_dot(source: str, fmt: str) -> bytes:
    exe = shutil.which("dot")
    if exe is None:
        raise SvcMiningError(_NO_DOT_ADVICE)
    try:
        done = subprocess.run(  # noqa: S603 - fixed program, DOT text on stdin
            [exe, f"-T{fmt}", *(["-Gdpi=144"] if fmt == "png" else [])],
            input=source.encode("utf-8"),
            capture_output=True,
            timeout=120,
            check=False,
            env=graphviz_env(),  # Graphviz finds the bundled font when no CJK font is installed
        )
    except subprocess.TimeoutExpired as exc:
        raise SvcMiningError("Graphviz took longer than 120 s to lay out the map.") from exc
    if done.returncode != 0:
        raise SvcMiningError(
            "Graphviz failed to draw the map: " + done.stderr.decode("utf-8", "replace")[:500]
        )
    return done.stdout


# ----------------------------------------------------------------------------------------------
# matplotlib: the built-in layered layout (svcmining._layout) and edge labels on free spots

_UNIT_PT = 11.52  # one layout unit is 0.16 inch = 11.52 pt (about one CJK character at 10 pt)
_BOX_H = 1.7
_LABEL_PT = 7.5


def _text_width(s: str) -> float:
    """Approximate width of ``s`` in em (CJK characters are about one em wide)."""
    return sum(1.0 if ord(ch) > 0x2E80 else 0.62 for ch in s)


def _label_size(label: str, fontsize: float = _LABEL_PT) -> tuple[float, float]:
    """Width and height of an edge label with its white box, in layout units."""
    em = fontsize / _UNIT_PT
    return (_text_width(label) * em + 0.3, 1.25 * em + 0.2)


@dataclass
class _Geometry:
    """Everything the matplotlib drawing needs: layout, curves, label boxes (layout units)."""

    layout: _layout.GraphLayout
    curves: list[np.ndarray]
    labels: list[_layout.Box | None]  # edge index -> label box (None: no label)
    node_ids: list[str]


def _node_size(nd: MapNode) -> tuple[float, float]:
    if nd.kind != "activity":
        return (0.8, 0.8)
    return (max(_text_width(nd.title), _text_width(nd.subtitle) * 0.8) + 1.4, _BOX_H)


def _map_geometry(spec: MapSpec) -> _Geometry:
    """Lay out ``spec`` with the layered layout and place its edge labels."""
    direction: _layout.Direction = "LR" if spec.rankdir == "LR" else "TB"
    sizes = {nd.id: _node_size(nd) for nd in spec.nodes}
    label_sz = [_label_size(ed.label) if ed.label else None for ed in spec.edges]
    room: dict[str, float] = {}
    for ed, sz in zip(spec.edges, label_sz, strict=True):
        if ed.source == ed.target and sz is not None:  # a self-loop's label sits beside it
            room[ed.source] = max(room.get(ed.source, 0.0), sz[0] if direction == "TB" else sz[1])
    widest = max((sz[0] for sz in label_sz if sz is not None), default=2.0)
    edges = [
        _layout.LayoutEdge(
            ed.source, ed.target, ed.weight if ed.weight >= 0 else ed.width, ed.constraint
        )
        for ed in spec.edges
    ]
    gap = 1.9 if direction == "TB" else float(np.clip(widest + 1.2, 3.0, 9.0))
    order = sorted(range(len(edges)), key=lambda i: (-edges[i].weight, i))
    for attempt in range(4):  # labels crowded between two layers: space the layers out
        lay = _layout.layered_layout(
            [nd.id for nd in spec.nodes],
            sizes,
            edges,
            direction=direction,
            layer_gap=gap * 1.4**attempt,
            node_gap=1.2,
            first=START_NODE if any(nd.id == START_NODE for nd in spec.nodes) else None,
            last=END_NODE if any(nd.id == END_NODE for nd in spec.nodes) else None,
            self_loop=1.0,
            extra_room=room,
        )
        curves = [_layout.sample_curve(r) for r in lay.routes]
        obstacles = [lay.box(nd.id, pad=0.1) for nd in spec.nodes]
        labels = _layout.place_labels(curves, label_sz, obstacles, order=order)
        placed = [b for b in labels if b is not None]
        if not any(
            _layout.boxes_overlap(a, b)
            for i, a in enumerate(placed)
            for b in itertools.chain(placed[i + 1 :], obstacles)
        ):
            break
    return _Geometry(lay, curves, labels, [nd.id for nd in spec.nodes])


def _bezier_path(points: list[tuple[float, float]]) -> Any:
    """A matplotlib Path along the smooth curve through ``points``."""
    from matplotlib.path import Path as MplPath

    segs = _layout.bezier_segments(points)
    verts = [segs[0][0]]
    codes = [MplPath.MOVETO]
    for _, c1, c2, p3 in segs:
        verts += [c1, c2, p3]
        codes += [MplPath.CURVE4] * 3
    return MplPath(verts, codes)


def _draw_nodes(ax: Axes, nodes: dict[str, MapNode], lay: Any, k: float) -> None:
    """The activity boxes (title and figures) and the start and end circles."""
    from matplotlib.patches import Circle, FancyBboxPatch

    for nid, nd in nodes.items():
        x, y = lay.center[nid]
        if nd.kind != "activity":
            ax.add_patch(Circle((x, y), 0.4, fc=nd.fill, ec="#333333", lw=0.8, zorder=3))
            continue
        w, h = lay.size[nid]
        ax.add_patch(
            FancyBboxPatch(
                (x - w / 2, y - h / 2),
                w,
                h,
                boxstyle="round,pad=0,rounding_size=0.35",
                fc=nd.fill,
                ec=_HIGHLIGHT if nd.highlight else nd.border,
                lw=2.5 if nd.highlight else 1.0,
                ls="--" if nd.dashed else "-",
                zorder=3,
            )
        )
        ax.text(
            x,
            y + 0.3,
            nd.title,
            ha="center",
            va="center",
            fontsize=10 * k,
            color=nd.text_color,
            zorder=4,
        )
        ax.text(
            x,
            y - 0.42,
            nd.subtitle,
            ha="center",
            va="center",
            fontsize=7.5 * k,
            color="#444444" if nd.text_color == "black" else nd.text_color,
            zorder=4,
        )


def draw_matplotlib(spec: MapSpec, ax: Axes | None) -> Figure:
    import matplotlib.pyplot as plt
    from matplotlib import colormaps
    from matplotlib.colors import Normalize
    from matplotlib.patches import FancyArrowPatch

    use_cjk_font()
    nodes = {nd.id: nd for nd in spec.nodes}
    geo = _map_geometry(spec)
    lay = geo.layout
    bx0, by0, bx1, by1 = lay.bounds()
    for box in geo.labels:
        if box is not None:
            bx0, by0 = min(bx0, box[0]), min(by0, box[1])
            bx1, by1 = max(bx1, box[2]), max(by1, box[3])
    x0, x1 = bx0 - 0.8, bx1 + 0.8
    y0, y1 = by0 - 0.8, by1 + 0.8
    inch = _UNIT_PT / 72  # inches per layout unit
    own_figure = ax is None
    if ax is None:
        more = 0.25 * spec.title.count("\n")  # room for a title of several lines
        fig_w = min(max((x1 - x0) * inch + 1.6, 6.0), 40.0)
        fig_h = min(max((y1 - y0) * inch + 1.4, 3.0), 60.0) + more
        fig, ax = plt.subplots(figsize=(fig_w, fig_h), layout="constrained")
        k = min(1.0, (fig_w - 1.6) / ((x1 - x0) * inch), (fig_h - 1.4 - more) / ((y1 - y0) * inch))
    else:
        fig = ax.get_figure()  # type: ignore[assignment]
        # fonts are in points, the layout in data units: shrink text to the axes' size
        bbox = ax.get_position()
        avail_w = bbox.width * fig.get_figwidth()
        avail_h = bbox.height * fig.get_figheight()
        k = float(
            np.clip(min(avail_w / ((x1 - x0) * inch), avail_h / ((y1 - y0) * inch)), 0.25, 1.5)
        )
    ax.set_axis_off()
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect("equal")
    _draw_nodes(ax, nodes, lay, k)
    for i, ed in enumerate(spec.edges):
        color = _HIGHLIGHT if ed.highlight else ed.color
        lw = ed.width + (1.5 if ed.highlight else 0)
        ls = {"solid": "-", "dashed": "--", "dotted": ":"}[ed.style]
        ax.add_patch(
            FancyArrowPatch(
                path=_bezier_path(lay.routes[i]),
                arrowstyle="-|>",
                mutation_scale=10 * k,
                lw=lw,
                color=color,
                ls=ls,
                zorder=2,
                shrinkA=0,
                shrinkB=0,
            )
        )
        box = geo.labels[i]
        if ed.label and box is not None:
            ax.text(
                (box[0] + box[2]) / 2,
                (box[1] + box[3]) / 2,
                ed.label,
                ha="center",
                va="center",
                fontsize=_LABEL_PT * k,
                color="#5a1e7a" if ed.highlight else ed.label_color,
                zorder=5,
                bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.85},
            )
    ax.set_title(spec.title, fontsize=12 * k, loc="left")
    if own_figure:  # as a figure label, so the constrained layout keeps room for it
        chars = max(int(fig.get_figwidth() * 72 / (8 * k * 0.62)) - 4, 40)
        fig.supxlabel(
            textwrap.fill(spec.legend, chars),
            x=0.01,
            ha="left",
            fontsize=8 * k,
            color="#333333",
        )
    else:
        ax.text(
            0.0,
            0.0,
            spec.legend,
            transform=ax.transAxes,
            ha="left",
            va="top",
            fontsize=7 * k,
            wrap=True,
            color="#333333",
        )
    if spec.colormap:  # maps coloured by a metric get a colour bar
        sm = plt.cm.ScalarMappable(norm=Normalize(*spec.value_range), cmap=colormaps[spec.colormap])
        cb = fig.colorbar(sm, ax=ax, shrink=0.25, pad=0.01, aspect=12, location="right")
        cb.set_label(spec.colorbar_label, fontsize=8 * k)
        cb.ax.tick_params(labelsize=7 * k)
    return fig


# ----------------------------------------------------------------------------------------------
# the result object


@dataclass(frozen=True, eq=False)
class ProcessMap:
    """A drawn process map; displays inline in Jupyter and saves to SVG/PNG/PDF.

    Attributes
    ----------
    engine : {"graphviz", "matplotlib"}
        Which renderer drew it.
    source : str or None
        The Graphviz DOT text (graphviz engine).
    figure : matplotlib.figure.Figure or None
        The figure (matplotlib engine, or graphviz drawn into a given ``ax``); see
        :meth:`to_figure` for a figure in every case.
    """

    engine: Literal["graphviz", "matplotlib"]
    source: str | None = None
    figure: Figure | None = None

    def to_figure(self) -> Figure:
        """The map as a matplotlib figure.

        The drawn figure for the matplotlib engine (or a map drawn into a given ``ax``);
        for a Graphviz map, a new figure showing Graphviz's PNG at its natural size.
        """
        if self.figure is not None:
            return self.figure
        import matplotlib.image as mpimg
        import matplotlib.pyplot as plt

        assert self.source is not None
        img = mpimg.imread(io.BytesIO(self.render("png")), format="png")
        h, w = img.shape[:2]
        fig = plt.figure(figsize=(max(w / 144, 1.0), max(h / 144, 1.0)), dpi=144)
        ax = fig.add_axes((0.0, 0.0, 1.0, 1.0))
        ax.imshow(img)
        ax.set_axis_off()
        # the map it shows, so that a report inlines the map itself (as SVG, drawn once by
        # Graphviz) instead of painting and re-encoding this raster copy of it
        fig.svcmining_map = self  # type: ignore[attr-defined]
        return fig

    def render(self, fmt: Literal["svg", "png", "pdf"] = "svg") -> bytes:
        """The map as SVG/PNG/PDF bytes."""
        check_choice("ProcessMap.render", "fmt", fmt, ("svg", "png", "pdf"))
        if self.source is not None:
            return _run_dot(self.source, fmt)
        assert self.figure is not None
        if fmt == "svg":
            return figure_svg(self.figure)
        buf = io.BytesIO()
        self.figure.savefig(buf, format=fmt, dpi=144, bbox_inches="tight")
        return buf.getvalue()

    def save(self, path: str | Path) -> Path:
        """Write the map to ``path``; the suffix picks the format (.svg, .png, .pdf, .dot)."""
        p = Path(path)
        fmt = p.suffix.lower().lstrip(".")
        check_choice("ProcessMap.save", "suffix", fmt, ("svg", "png", "pdf", "dot", "gv"))
        if fmt in ("dot", "gv"):
            if self.source is None:
                raise InvalidParameterError(
                    "Only a Graphviz-drawn map has DOT source; save as .svg, .png or .pdf."
                )
            p.write_text(self.source, encoding="utf-8")
        else:
            p.write_bytes(self.render(fmt))  # type: ignore[arg-type]
        return p

    def _repr_svg_(self) -> str | None:
        if self.source is None:
            return None
        return self.render("svg").decode("utf-8")

    def _repr_png_(self) -> bytes | None:
        if self.source is not None:
            return None
        return self.render("png")

    def __repr__(self) -> str:
        return f"ProcessMap(engine={self.engine!r})"


def _render(spec: MapSpec, engine: Engine, ax: Axes | None) -> ProcessMap:
    check_choice("plot_process_map", "engine", engine, _ENGINES)
    use_dot = engine in ("auto", "graphviz") and graphviz_available()
    if engine in ("auto", "graphviz") and not use_dot:
        warnings.warn(_NO_DOT_ADVICE, UserWarning, stacklevel=3)
    if use_dot:
        source = _dot_source(spec)
        if ax is None:
            return ProcessMap("graphviz", source=source)
        import matplotlib.image as mpimg

        img = mpimg.imread(io.BytesIO(_run_dot(source, "png")), format="png")
        ax.imshow(img)
        ax.set_axis_off()
        return ProcessMap("graphviz", source=source, figure=ax.get_figure())  # type: ignore[arg-type]
    return ProcessMap("matplotlib", figure=draw_matplotlib(spec, ax))


def _diff_spec(
    cmp: LogComparison, period: str | None, min_share: float, rankdir: str, title: str | None
) -> MapSpec:
    from matplotlib import colormaps

    periods = [str(p) for p in cmp.periods["period"]]
    if len(periods) < 2:
        raise InvalidParameterError("A difference map needs at least two periods.")
    if period is None:
        period = periods[-1]
    check_choice("plot_difference_map", "period", period, periods[1:])
    prev = periods[periods.index(period) - 1]
    e = cmp.edges[cmp.edges["period"] == period]
    e = e[(e["case_share"] >= min_share) | (e["case_share"] - e["case_share_change"] >= min_share)]
    acts = cmp.activities[cmp.activities["period"] == period]
    cur_g, prev_g = cmp.graphs[period], cmp.graphs[prev]
    on_map = set(e["source"]) | set(e["target"])
    rank = {str(a): i for i, a in enumerate(cur_g.activities["activity"])}
    rank.update({str(a): len(rank) + i for i, a in enumerate(prev_g.activities["activity"])})
    names = sorted(on_map, key=lambda a: (rank.get(a, len(rank)), a))
    act_cases = dict(zip(acts["activity"], acts["cases"], strict=True))
    act_change = dict(zip(acts["activity"], acts["case_share_change"], strict=True))
    business = cmp.graphs[period].time_basis == "business"
    cmap = colormaps["RdBu_r"]
    ch = e["case_share_change"].to_numpy(dtype=float)
    top = float(np.nanmax(np.abs(ch))) if len(ch) and np.isfinite(ch).any() else 1.0
    top = top or 1.0
    ids = {a: f"n{i}" for i, a in enumerate(names)}
    nodes = [
        MapNode(START_NODE, "", "", "#2ca02c", "start"),
        MapNode(END_NODE, "", "", "#555555", "end"),
    ]
    nodes += [
        MapNode(
            ids[a],
            a,
            f"{int(act_cases.get(a, 0)):,} tickets ({act_change.get(a, 0.0) * 100:+.1f} pp)",
            "#eef2f7",
        )
        for a in names
    ]
    edges = []
    for r in e.itertuples(index=False):
        c = float(r.case_share_change)
        p = 0.5 + 0.5 * c / top
        style: Literal["solid", "dashed", "dotted"]
        if r.status == "new":
            style, color = "dashed", "#1a9850"
        elif r.status == "vanished":
            style, color = "dotted", "#7f7f7f"
        else:
            style, color = "solid", _hex(cmap(p))
        wait = _fmt_signed_hours(float(r.wait_p50_change_hours), business)
        label = f"{c * 100:+.1f} pp" + (f" | p50 {wait}" if wait else "")
        if r.status in ("new", "vanished"):
            label = f"{r.status}: {label}"
        edges.append(
            MapEdge(
                ids[r.source],
                ids[r.target],
                label,
                color,
                0.8 + 4.2 * abs(c) / top,
                style,
                weight=float(r.case_share) + float(r.case_share) - c,
            )
        )
    for attr, is_start in (("start_activities", True), ("end_activities", False)):
        share: dict[str, float] = {}  # the larger share of tickets starting/ending there
        for g in (cur_g, prev_g):
            frame = getattr(g, attr)
            for a, c in zip(frame["activity"], frame["count"], strict=True):
                if a in ids:
                    share[a] = max(share.get(a, 0.0), float(c) / max(g.n_cases, 1))
        for a, w in share.items():
            pair = (START_NODE, ids[a]) if is_start else (ids[a], END_NODE)
            edges.append(MapEdge(*pair, "", "#9a9a9a", 0.8, "dashed", weight=w))
    legend = (
        f"{period} vs {prev}. Edge label: change in the share of tickets using the transition "
        "(percentage points) | change of the median wait. Red = more tickets, blue = fewer; "
        "green dashed = new path, grey dotted = vanished path."
    )
    return MapSpec(
        tuple(nodes),
        tuple(edges),
        title or f"Process changes {prev} → {period}",
        legend,
        "RdBu_r",
        (-top * 100, top * 100),
        "change in share of tickets (pp)",
        rankdir,
    )


def process_map(
    graph: ProcessGraph,
    *,
    metric: Metric = "count",
    min_share: float = 0.0,
    highlight: str | tuple[str, str] | Iterable[str | tuple[str, str]] | None = None,
    engine: Engine = "auto",
    rankdir: Literal["TB", "LR"] = "TB",
    title: str | None = None,
    ax: Axes | None = None,
    lang: str = "en",
) -> ProcessMap:
    """The map of a ProcessGraph: :func:`svcmining.plots.plot_process_map` without the log."""
    check_choice("plot_process_map", "metric", metric, _METRICS)
    check_choice("plot_process_map", "lang", lang, LANGS)
    check_choice("plot_process_map", "engine", engine, _ENGINES)
    check_choice("plot_process_map", "rankdir", rankdir, ("TB", "LR"))
    min_share = check_fraction("plot_process_map", "min_share", min_share)
    g = graph
    spec = _map_spec(g, metric, min_share, highlight, rankdir, title, lang)
    return _render(spec, engine, ax)


def difference_map(
    comparison: LogComparison,
    *,
    period: str | None = None,
    min_share: float = 0.0,
    engine: Engine = "auto",
    rankdir: Literal["TB", "LR"] = "TB",
    title: str | None = None,
    ax: Axes | None = None,
) -> ProcessMap:
    """The body of :func:`svcmining.plots.plot_difference_map`."""
    check_choice("plot_difference_map", "engine", engine, _ENGINES)
    check_choice("plot_difference_map", "rankdir", rankdir, ("TB", "LR"))
    min_share = check_fraction("plot_difference_map", "min_share", min_share)
    spec = _diff_spec(comparison, period, min_share, rankdir, title)
    return _render(spec, engine, ax)


def periods_map(
    comparison: LogComparison,
    *,
    metric: Metric = "cases",
    min_share: float = 0.0,
    engine: Engine = "auto",
    ncols: int | None = None,
) -> ProcessMap:
    """The body of :func:`svcmining.plots.plot_periods`."""
    import matplotlib.pyplot as plt

    check_choice("plot_periods", "metric", metric, _METRICS)
    check_choice("plot_periods", "engine", engine, _ENGINES)
    min_share = check_fraction("plot_periods", "min_share", min_share)
    labels = [str(p) for p in comparison.periods["period"]]
    if not labels:
        raise InvalidParameterError("plot_periods needs at least one period.")
    cols = ncols if ncols is not None else min(len(labels), 4)
    cols = check_positive_int("plot_periods", "ncols", cols)
    rows = -(-len(labels) // cols)
    use_cjk_font()
    fig, axes = plt.subplots(
        rows, cols, figsize=(6.5 * cols, 9 * rows), squeeze=False, layout="constrained"
    )
    import matplotlib.image as mpimg

    used = "matplotlib"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for ax, label in zip(axes.flat, labels, strict=False):
            g = comparison.graphs[label]
            m = process_map(
                g,
                metric=metric,
                min_share=min_share,
                engine=engine,
                title=f"{label} — {g.n_cases:,} tickets",
            )
            used = m.engine
            ax.imshow(mpimg.imread(io.BytesIO(m.render("png")), format="png"))
            ax.set_axis_off()
            if m.figure is not None:
                plt.close(m.figure)
    for ax in list(axes.flat)[len(labels) :]:
        ax.set_axis_off()
    if any("Graphviz" in str(w.message) for w in caught):
        warnings.warn(_NO_DOT_ADVICE, UserWarning, stacklevel=2)
    return ProcessMap(used, figure=fig)  # type: ignore[arg-type]
