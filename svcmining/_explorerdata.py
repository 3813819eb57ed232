"""The steps of :func:`svcmining._explorer.explorer_data`, which gathers the explorer's data.

Each step computes one part of the data from the log's frame (:class:`CaseBasis`): the
process map's edges (:func:`map_edges`), its layout (:func:`node_sizes`,
:func:`lay_out_map`), the tickets behind edges and nodes (:func:`edge_tickets`,
:func:`map_nodes`), the variants (:func:`variant_rows`), the activity slider's maps
(:func:`slider_levels`), the pain points' examples (:func:`pain_rows`), the dotted chart
(:func:`dotted_chart`), the ticket table (:func:`ticket_table`, :func:`renumber_tickets`)
and the SOP overlay (:func:`sop_overlay`). Tickets are referred to by their case position
in the frame until :func:`renumber_tickets` turns them into rows of the ticket table.
"""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from . import _layout
from ._explorerstats import EventClock, edge_stats, event_clock, pair_codes, top_per_group, waits
from ._time import ns_hours

if TYPE_CHECKING:
    from .calendars import Calendar
    from .discovery import CodedFrame, ProcessGraph

__all__ = [
    "CaseBasis",
    "MapPlacement",
    "case_basis",
    "department_codes",
    "deviations_per_case",
    "dotted_chart",
    "edge_tickets",
    "empty_data",
    "filters_installed",
    "lay_out_map",
    "map_edges",
    "map_nodes",
    "node_sizes",
    "pain_rows",
    "referenced_tickets",
    "renumber_tickets",
    "slider_levels",
    "sop_overlay",
    "start_slider_levels",
    "ticket_holders",
    "ticket_table",
    "variant_rows",
]

_START, _END = "\u25b6", "\u25a0"  # start / end node ids (no activity label is one glyph)
_UNIT = 12.0  # pixels per layout unit
_NODE_PX, _SUB_PX, _EDGE_PX = 12.0, 10.0, 10.5  # font sizes of explorer.css, in pixels
_VIEW = (1140.0, 820.0)  # the map's largest box on the page, in pixels


def _text_width(s: str) -> float:
    return sum(1.0 if ord(ch) > 0x2E80 else 0.62 for ch in s)


def _r(v: float, nd: int = 2) -> float | None:
    f = float(v)
    return None if f != f else round(f, nd)


def _path_d(points: list[tuple[float, float]], height: float) -> str:
    """SVG path of the smooth curve through ``points`` (layout units, y up) in pixels."""

    def xy(p: tuple[float, float]) -> str:
        return f"{p[0] * _UNIT:.1f},{(height - p[1]) * _UNIT:.1f}"

    segs = _layout.bezier_segments(points)
    return f"M{xy(segs[0][0])}" + "".join(f"C{xy(b)} {xy(c)} {xy(d)}" for _, b, c, d in segs)


def _main_edges(edges: list[dict[str, Any]], n_cases: int, cap: int) -> list[int]:
    """Indices of the edges the layout places: of at least 1% of the tickets or the busiest
    way into or out of a step, the most frequent ``cap`` of them (in input order)."""
    order = sorted(range(len(edges)), key=lambda k: -edges[k]["count"])
    best: set[int] = set()
    seen_in: set[str] = set()
    seen_out: set[str] = set()
    for k in order:
        s, t = edges[k]["s"], edges[k]["t"]
        if s == t:
            continue
        if s not in seen_out:
            seen_out.add(s)
            best.add(k)
        if t not in seen_in:
            seen_in.add(t)
            best.add(k)
    main = [k for k in order if k in best or edges[k]["cases"] >= 0.01 * n_cases]
    return sorted(main[:cap])


def _map_layout(
    nodes: list[str],
    sizes: dict[str, tuple[float, float]],
    edges: list[_layout.LayoutEdge],
    label_sz: list[tuple[float, float]],
) -> tuple[_layout.GraphLayout, list[_layout.Box | None]]:
    """The layered layout (top-down; left-right instead when that shows clearly bigger in the
    page's map box) and a free spot on its own edge for every edge's label."""
    best: tuple[float, _layout.GraphLayout, list[_layout.Box | None]] | None = None
    order = sorted(range(len(edges)), key=lambda i: (-edges[i].weight, i))
    directions: tuple[_layout.Direction, ...] = ("TB", "LR")
    for direction in directions:
        lay = _layout.layered_layout(
            nodes,
            sizes,
            edges,
            direction=direction,
            layer_gap=2.6 if direction == "TB" else 5.0,
            node_gap=1.4,
            first=_START,
            last=_END,
            self_loop=1.2,
        )
        curves: list[np.ndarray | None] = [_layout.sample_curve(r) for r in lay.routes]
        obstacles = [lay.box(n, pad=0.1) for n in nodes]
        labels = _layout.place_labels(curves, list(label_sz), obstacles, order=order)
        x0, y0, x1, y1 = lay.bounds()
        scale = min(_VIEW[0] / ((x1 - x0 + 3) * _UNIT), _VIEW[1] / ((y1 - y0 + 3) * _UNIT))
        if best is None or scale > best[0] * 1.05:
            best = (scale, lay, labels)
        if scale >= 0.75:  # readable as it is: no second layout
            break
    assert best is not None
    return best[1], best[2]


def _projected_edges(
    fr: Any,
    idx: np.ndarray,
    cycle: np.ndarray,
    calendar: Calendar | None,
    top: int,
    max_edges: int,
    clock: EventClock | None = None,
) -> list[dict[str, Any]]:
    """The directly-follows edges of the log with only the events ``idx`` (positions, in
    order; those of the activities shown): the map of the activity slider, where a path
    through a hidden step becomes an edge between the steps shown (as Disco draws it).
    Edges carry activity labels, counts, waits and their top tickets (case positions); the
    most frequent ``max_edges`` are kept."""
    labels = [str(x) for x in fr.labels]
    n_act = len(labels)
    case, act = fr.case[idx], fr.act[idx]
    out: list[dict[str, Any]] = []
    if len(idx) == 0:
        return out
    i = np.flatnonzero(case[1:] == case[:-1])
    wait = waits(fr, clock, calendar, idx[i], idx[i + 1])
    if fr.lifecycle:
        wait = np.maximum(wait, 0.0)
    pair = act[i] * n_act + act[i + 1]
    if n_act * n_act <= 1 << 16:  # the pairs themselves as group codes (a radix sort's keys)
        codes, uniq = pair, np.arange(n_act * n_act)
    else:
        codes, uniq = pair_codes(pair, n_act * n_act)
    n_e = len(uniq)
    p50, p90, tk, n_cases = edge_stats(codes, case[i], wait, n_e, top)
    counts = np.bincount(codes, minlength=n_e)
    for k in np.flatnonzero(counts).tolist():
        out.append(
            {
                "s": labels[int(uniq[k]) // n_act],
                "t": labels[int(uniq[k]) % n_act],
                "count": int(counts[k]),
                "cases": int(n_cases[k]),
                "p50": _r(p50[k]),
                "p90": _r(p90[k]),
                "tk": tk[k],
                "nt": int(n_cases[k]),
            }
        )
    first = np.r_[True, case[1:] != case[:-1]]
    last = np.r_[case[1:] != case[:-1], True]
    for mask, at_start in ((first, True), (last, False)):
        ends_tk, ends_n = top_per_group(act[mask], case[mask], cycle[case[mask]], n_act, top)
        for a in np.flatnonzero(ends_n).tolist():
            out.append(
                {
                    "s": _START if at_start else labels[a],
                    "t": labels[a] if at_start else _END,
                    "count": int(ends_n[a]),
                    "cases": int(ends_n[a]),
                    "p50": None,
                    "p90": None,
                    "tk": ends_tk[a],
                    "nt": int(ends_n[a]),
                }
            )
    out.sort(key=lambda e: (-e["count"], e["s"], e["t"]))
    return out[:max_edges]


def filters_installed() -> bool:
    """Whether the typed filter stack (:mod:`svcmining.filters`) is installed."""
    try:
        return importlib.util.find_spec(f"{__package__}.filters") is not None
    except (ImportError, ValueError):
        return False


def _q(s: str) -> str:
    """A label as a Python / YAML flow string literal (JSON strings are both)."""
    return json.dumps(str(s), ensure_ascii=False)


def _node_filter(label: str, stack: bool) -> dict[str, str]:
    if stack:
        return {
            "py": "from svcmining.filters import Attribute\n"
            f'sliced = svc.apply_filters(log, [Attribute("activity", "equals", {_q(label)})])',
            "yaml": "filters:\n  - attribute: "
            f"{{column: activity, op: equals, value: {_q(label)}}}",
        }
    return {"py": f"sliced = svc.filter_cases(log, activity={_q(label)})", "yaml": ""}


def _edge_filter(a: str, b: str, stack: bool, projected: bool = False) -> dict[str, str]:
    """Python (and filters.yaml) that selects the tickets of edge ``a`` -> ``b``.

    ``projected``: the edge of an activity-slider map, in the log with only the activities
    ``KEPT`` (the script puts ``KEPT = [...]`` first; there is no YAML for it then).
    """
    ev = 'log.events[log.events["activity"].isin(KEPT)]' if projected else "log.events"
    if a == _START or b == _END:
        which, lab = ("start", b) if a == _START else ("end", a)
        if stack:
            pre = 'Attribute("activity", "in", KEPT, level="event"), ' if projected else ""
            return {
                "py": "from svcmining.filters import Attribute, Endpoints\n"
                f"sliced = svc.apply_filters(log, [{pre}Endpoints({which}=[{_q(lab)}])])",
                "yaml": "" if projected else f"filters:\n  - endpoints: {{{which}: [{_q(lab)}]}}",
            }
        pos = "0" if which == "start" else "-1"
        return {
            "py": f"ev = {ev}\n"
            f'first = ev.groupby("case_id", sort=False)["activity"].nth({pos})\n'
            f'ids = ev.loc[first.index, "case_id"][first == {_q(lab)}]\n'
            "sliced = svc.filter_cases(log, case_id=list(ids))",
            "yaml": "",
        }
    if stack:
        pre = 'Attribute("activity", "in", KEPT, level="event"), ' if projected else ""
        return {
            "py": "from svcmining.filters import Attribute, Follows\n"
            f"sliced = svc.apply_filters(log, [{pre}Follows({_q(a)}, {_q(b)})])",
            "yaml": ""
            if projected
            else f"filters:\n  - follows: {{a: {_q(a)}, b: {_q(b)}, relation: directly}}",
        }
    return {
        "py": f"ev = {ev}\n"
        'nxt = ev.groupby("case_id", sort=False)["activity"].shift(-1)\n'
        f'ids = ev.loc[(ev["activity"] == {_q(a)}) & (nxt == {_q(b)}), "case_id"].unique()\n'
        "sliced = svc.filter_cases(log, case_id=list(ids))",
        "yaml": "",
    }


def _variant_filter(seq: list[str], stack: bool) -> dict[str, str]:
    lst = "[" + ", ".join(_q(s) for s in seq) + "]"
    if stack:
        return {
            "py": "from svcmining.filters import Variants\n"
            f"sliced = svc.apply_filters(log, [Variants(sequences=[{lst}])])",
            "yaml": f"filters:\n  - variants: {{sequences: [{lst}]}}",
        }
    return {
        "py": 'seq = log.events.groupby("case_id", sort=False)["activity"].agg(tuple)\n'
        f"ids = seq.index[seq.map(lambda s: s == tuple({lst}))]\n"
        "sliced = svc.filter_cases(log, case_id=list(ids))",
        "yaml": "",
    }


def _first_per_case(
    col: pd.Series, case: np.ndarray, n_cases: int, cases: np.ndarray
) -> list[str | None]:
    """The first non-missing value of ``col`` in each case of ``cases`` (None where it has
    none); ``case``: every event's case, ascending. Only those values are converted."""
    idx = np.flatnonzero(col.notna().to_numpy())
    at = np.full(n_cases, -1, dtype=np.int64)  # each case's first event with a value
    if len(idx):
        c = case[idx]
        first = np.ones(len(c), dtype=bool)
        first[1:] = c[1:] != c[:-1]
        at[c[first]] = idx[first]
    pos = at[cases]
    out: list[str | None] = [None] * len(pos)
    has = np.flatnonzero(pos >= 0)
    vals = col.iloc[pos[has]].to_numpy().tolist()
    for k, v in zip(has.tolist(), vals, strict=True):
        out[k] = str(v)
    return out


# ----------------------------------------------------------------------------------------------
# the steps


@dataclass(frozen=True)
class CaseBasis:
    """What the steps share: discovery's frame of the log (events sorted by case and time,
    activities and cases as codes), the activity labels and every ticket's start and cycle
    time, and the options that apply to every step."""

    fr: CodedFrame
    labels: list[str]
    act_index: dict[str, int]  # activity label -> code
    ends: np.ndarray  # every ticket's last event
    case_begin: np.ndarray  # every ticket's first start, in epoch nanoseconds
    cycle: np.ndarray  # every ticket's cycle time in hours (business hours under calendar)
    clock: EventClock | None  # every event's begin and end on one clock (see event_clock)
    calendar: Calendar | None
    stack: bool  # whether the filter code may use svcmining.filters
    top: int  # at most this many tickets per node, edge, variant and pain point
    n_cases: int


def case_basis(fr: CodedFrame, calendar: Calendar | None, stack: bool, top: int) -> CaseBasis:
    """The :class:`CaseBasis` of discovery's frame ``fr``."""
    labels = [str(x) for x in fr.labels]
    ends = fr.case_start + fr.case_len - 1
    case_begin = np.minimum.reduceat(fr.begin_ns, fr.case_start)
    case_end = fr.end_ns[ends]
    cycle = np.asarray(ns_hours(case_begin, case_end, fr.tz, calendar), dtype=float)
    act_index = {a: i for i, a in enumerate(labels)}
    clock = event_clock(fr, calendar)
    return CaseBasis(
        fr, labels, act_index, ends, case_begin, cycle, clock, calendar, stack, top, fr.n_cases
    )


def empty_data(calendar: Calendar | None, stack: bool) -> dict[str, Any]:
    """The explorer's data of an empty log (and the keys every data starts with)."""
    return {
        "basis": "business" if calendar is not None else "elapsed",
        "n_cases": 0,
        "n_events": 0,
        "acts": [],
        "deps": [],
        "nodes": [],
        "edges": [],
        "levels": [],
        "direction": "TB",
        "variants": [],
        "cases": {"cols": [], "rows": [], "codes": {}},
        "dots": None,
        "pains": [],
        "sop": False,
        "dropped": {"nodes": 0, "edges": 0, "variants": 0},
        "width": 0,
        "height": 0,
        "stack": stack,
    }


def map_edges(
    graph: ProcessGraph, max_nodes: int, max_edges: int
) -> tuple[pd.DataFrame, list[str], list[dict[str, Any]], int]:
    """The map's activities (most frequent first), the ``max_nodes`` kept, the edges
    between them (the ``max_edges`` most frequent, then the start and end edges) and the
    number of edges dropped."""
    acts = graph.activities.sort_values(["count", "activity"], ascending=[False, True])
    kept = [str(a) for a in acts["activity"].head(max_nodes)]
    kept_set = set(kept)
    ed = graph.edges
    ed = ed[ed["source"].isin(kept_set) & ed["target"].isin(kept_set)]
    n_dropped_edges = len(graph.edges) - min(len(ed), max_edges)
    ed = ed.head(max_edges)
    starts = graph.start_activities[graph.start_activities["activity"].isin(kept_set)]
    finals = graph.end_activities[graph.end_activities["activity"].isin(kept_set)]
    edge_rows: list[dict[str, Any]] = []
    for r in ed.itertuples(index=False):
        edge_rows.append(
            {
                "s": str(r.source),
                "t": str(r.target),
                "count": int(r.count),
                "cases": int(r.cases),
                "p50": _r(r.wait_p50_hours),
                "p90": _r(r.wait_p90_hours),
            }
        )
    for df, start in ((starts, True), (finals, False)):
        for r in df.itertuples(index=False):
            a = str(r.activity)
            edge_rows.append(
                {
                    "s": _START if start else a,
                    "t": a if start else _END,
                    "count": int(r.count),
                    "cases": int(r.count),
                    "p50": None,
                    "p90": None,
                }
            )
    return acts, kept, edge_rows, n_dropped_edges


def _departments_of(acts: pd.DataFrame) -> dict[str, Any]:
    """Activity label -> its department (empty without the column)."""
    return (
        dict(zip(acts["activity"].astype(str), acts["department"], strict=True))
        if "department" in acts.columns
        else {}
    )


def node_sizes(acts: pd.DataFrame, kept: list[str]) -> dict[str, tuple[float, float]]:
    """The size of every node's box in layout units, start and end nodes included."""
    dep_of = _departments_of(acts)
    node_cases = dict(zip(acts["activity"].astype(str), acts["cases"].astype(int), strict=True))
    sizes: dict[str, tuple[float, float]] = {_START: (1.2, 1.2), _END: (1.2, 1.2)}
    for a in kept:  # the script writes "department · N tickets" under the label
        dep = dep_of.get(a)
        sub = (f"{dep} · " if isinstance(dep, str) else "") + f"{node_cases[a]:,} tickets"
        w = max(_text_width(a) * _NODE_PX, _text_width(sub) * _SUB_PX) / _UNIT
        sizes[a] = (w + 1.4, 2.7)
    return sizes


@dataclass(frozen=True)
class MapPlacement:
    """The map's layout and where it sits on the page: x shifted by ``shift_x`` and
    ``height`` the top (layout units), ``width_px`` × ``height_px`` its size in pixels."""

    lay: _layout.GraphLayout
    shift_x: float
    height: float
    width_px: float
    height_px: float


def lay_out_map(
    kept: list[str],
    sizes: dict[str, tuple[float, float]],
    edge_rows: list[dict[str, Any]],
    n_cases: int,
    max_layout_edges: int,
) -> MapPlacement:
    """Lay the map out and give each placed edge of ``edge_rows`` its SVG path (``d``) and
    label spot (``lx``, ``ly``), in place. ``kept``: the activities shown."""
    node_ids = [_START, *kept, _END]
    # the layout places the main edges only (its cost grows fast with edges, not with
    # events): those of at least 1% of the tickets, every step's busiest way in and out,
    # at most max_layout_edges; the script draws the rarer ones as plain curves
    laid = _main_edges(edge_rows, n_cases, max_layout_edges)
    layout_edges = [
        _layout.LayoutEdge(edge_rows[k]["s"], edge_rows[k]["t"], float(edge_rows[k]["count"]))
        for k in laid
    ]
    label_sz = [
        (
            max(_text_width(f"{edge_rows[k]['count']:,}"), _text_width("999.9 h"))
            * _EDGE_PX
            / _UNIT
            + 0.4,
            1.2,
        )
        for k in laid
    ]
    lay, label_boxes = _map_layout(node_ids, sizes, layout_edges, label_sz)
    x0, y0, x1, y1 = lay.bounds()
    for lb in label_boxes:
        if lb is not None:
            x0, y0, x1, y1 = min(x0, lb[0]), min(y0, lb[1]), max(x1, lb[2]), max(y1, lb[3])
    pad = 1.5
    shift_x = -x0 + pad
    height = y1 + pad  # y up -> SVG y down: y_svg = (height - y)
    for j, k in enumerate(laid):
        e = edge_rows[k]
        pts = [(x + shift_x, y) for x, y in lay.routes[j]]
        e["d"] = _path_d(pts, height)
        box = label_boxes[j]
        if box is None:  # no free spot: the middle of the curve
            curve = _layout.sample_curve(lay.routes[j])
            mx, my = curve[len(curve) // 2]
        else:
            mx, my = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
        e["lx"], e["ly"] = round((mx + shift_x) * _UNIT, 1), round((height - my) * _UNIT, 1)
    width_px = (x1 - x0 + 2 * pad) * _UNIT
    height_px = (y1 - y0 + 2 * pad) * _UNIT
    return MapPlacement(lay, shift_x, height, width_px, height_px)


def edge_tickets(base: CaseBasis, edge_rows: list[dict[str, Any]]) -> None:
    """Give every edge of ``edge_rows`` its top tickets (``tk``, the longest wait on the
    transition first; the longest cycle for start and end edges), their number (``nt``)
    and its filter code (``f``), in place."""
    fr, n_act, top, stack = base.fr, len(base.labels), base.top, base.stack
    act_index = base.act_index
    i = np.flatnonzero(fr.case[1:] == fr.case[:-1])
    pair = fr.act[i] * n_act + fr.act[i + 1]
    wait = waits(fr, base.clock, base.calendar, i, i + 1)
    codes, pair_uniq = pair_codes(pair, n_act * n_act)
    edge_top, edge_n = top_per_group(codes, fr.case[i], wait, len(pair_uniq), top)
    pair_at = {int(p): k for k, p in enumerate(pair_uniq.tolist())}
    all_cases = np.arange(base.n_cases)
    start_top, start_n = top_per_group(fr.act[fr.case_start], all_cases, base.cycle, n_act, top)
    end_top, end_n = top_per_group(fr.act[base.ends], all_cases, base.cycle, n_act, top)
    for e in edge_rows:
        if e["s"] == _START:
            ai = act_index[e["t"]]
            e["tk"], e["nt"] = start_top[ai], int(start_n[ai])
            e["f"] = _edge_filter(_START, e["t"], stack)
        elif e["t"] == _END:
            ai = act_index[e["s"]]
            e["tk"], e["nt"] = end_top[ai], int(end_n[ai])
            e["f"] = _edge_filter(e["s"], _END, stack)
        else:
            k = pair_at[act_index[e["s"]] * n_act + act_index[e["t"]]]
            e["tk"], e["nt"] = edge_top[k], int(edge_n[k])
            e["f"] = _edge_filter(e["s"], e["t"], stack)


def map_nodes(
    base: CaseBasis, kept: list[str], acts: pd.DataFrame, place: MapPlacement
) -> list[dict[str, Any]]:
    """The map's nodes: their boxes in pixels, counts and, for activities, department,
    top tickets (the longest cycle first) and filter code. ``kept``: the activities shown."""
    fr, n_cases, lay = base.fr, base.n_cases, place.lay
    node_top, node_n = top_per_group(
        fr.act, fr.case, base.cycle[fr.case], len(base.labels), base.top
    )
    dep_of = _departments_of(acts)
    cnt = dict(zip(acts["activity"].astype(str), acts["count"].astype(int), strict=True))
    nodes: list[dict[str, Any]] = []
    for nid in [_START, *kept, _END]:
        (cx, cy), (w, h) = lay.center[nid], lay.size[nid]
        nd: dict[str, Any] = {
            "id": nid,
            "x": round((cx + place.shift_x - w / 2) * _UNIT, 1),
            "y": round((place.height - cy - h / 2) * _UNIT, 1),
            "w": round(w * _UNIT, 1),
            "h": round(h * _UNIT, 1),
        }
        if nid in (_START, _END):
            nd["kind"] = "start" if nid == _START else "end"
            nd["count"] = n_cases
        else:
            ai = base.act_index[nid]
            dep = dep_of.get(nid)
            nd.update(
                kind="activity",
                count=int(cnt[nid]),
                cases=int(node_n[ai]),
                dep=None if dep is None or pd.isna(dep) else str(dep),
                tk=node_top[ai],
                nt=int(node_n[ai]),
                f=_node_filter(nid, base.stack),
            )
        nodes.append(nd)
    return nodes


def deviations_per_case(cr: Any, id_pos: pd.Index, n_cases: int) -> np.ndarray:
    """The number of SOP deviations of every ticket, from the conformance result ``cr``
    (``id_pos``: the tickets' ids as strings, in case order); zeros without it."""
    dev_per_case = np.zeros(n_cases, dtype=np.int64)
    dev_cases = getattr(cr, "cases", None)
    if isinstance(dev_cases, pd.DataFrame) and {"case_id", "n_deviations"} <= set(dev_cases):
        pos = id_pos.get_indexer(dev_cases["case_id"].astype(str))
        ok = pos >= 0
        dev_per_case[pos[ok]] = dev_cases["n_deviations"].to_numpy()[ok].astype(np.int64)
    return dev_per_case


def variant_rows(
    base: CaseBasis,
    vcode: np.ndarray,
    dev_per_case: np.ndarray | None,
    max_variants: int,
) -> tuple[list[dict[str, Any]], int, np.ndarray]:
    """The ``max_variants`` most frequent variants (``vcode``: every ticket's variant), the
    number of variants and every ticket's variant rank (1 = the most frequent).
    ``dev_per_case``: deviations per ticket, None without a conformance result."""
    fr, labels, n_cases, cycle = base.fr, base.labels, base.n_cases, base.cycle
    n_var = int(vcode.max()) + 1
    vcount = np.bincount(vcode, minlength=n_var)
    first_case = np.full(n_var, -1, dtype=np.int64)
    first_case[vcode[::-1]] = np.arange(n_cases)[::-1]
    seqs = [
        tuple(fr.act[s : s + ln].tolist())
        for s, ln in zip(fr.case_start[first_case], fr.case_len[first_case], strict=True)
    ]
    vorder = sorted(range(n_var), key=lambda v: (-vcount[v], [labels[a] for a in seqs[v]]))
    vmed = pd.Series(cycle).groupby(vcode).median().to_numpy()
    var_top, _ = top_per_group(vcode, np.arange(n_cases), cycle, n_var, base.top)
    devs = dev_per_case if dev_per_case is not None else np.zeros(n_cases, dtype=np.int64)
    vdev = np.bincount(vcode, weights=devs > 0, minlength=n_var)
    variants: list[dict[str, Any]] = []
    for v in vorder[:max_variants]:
        seq = [labels[a] for a in seqs[v]]
        variants.append(
            {
                "seq": list(seqs[v]),
                "cases": int(vcount[v]),
                "share": _r(vcount[v] / n_cases, 4),
                "median": _r(vmed[v]),
                "dev": int(vdev[v]) if dev_per_case is not None else None,
                "tk": var_top[v],
                "nt": int(vcount[v]),
                "f": _variant_filter(seq, base.stack),
            }
        )
    vrank = np.empty(n_var, dtype=np.int64)
    vrank[vorder] = np.arange(1, n_var + 1)
    return variants, n_var, vrank[vcode]


def slider_levels(base: CaseBasis, kept: list[str], max_edges: int) -> list[dict[str, Any]]:
    """The activity slider's maps: the log with only the most frequent activities, at the
    stops 10% … 90% of the ``kept`` ones (the full map is the last stop)."""
    return start_slider_levels(base, kept, max_edges, None)()


def start_slider_levels(
    base: CaseBasis, kept: list[str], max_edges: int, pool: Executor | None
) -> Callable[[], list[dict[str, Any]]]:
    """Start :func:`slider_levels` on ``pool`` (its stops are independent and numpy releases
    the GIL in their loops, so they run beside other work); returns the function that
    waits for them and gives the levels. Without a pool, or on a small log, they are
    computed here."""
    rank_of = np.full(len(base.labels), len(kept), dtype=np.int64)  # an activity's rank
    rank_of[[base.act_index[a] for a in kept]] = np.arange(len(kept))
    ev_rank = rank_of[base.fr.act].astype(np.int16 if len(kept) < 1 << 15 else np.int64)
    stops = sorted({max(1, -(-len(kept) * p // 100)) for p in range(10, 100, 10)})
    stops = [k for k in stops if k < len(kept)]

    def level(k: int) -> dict[str, Any]:
        idx = np.flatnonzero(ev_rank < k)  # the events of the k most frequent activities
        edges = _projected_edges(
            base.fr, idx, base.cycle, base.calendar, base.top, max_edges, base.clock
        )
        for e in edges:
            e["f"] = _edge_filter(e["s"], e["t"], base.stack, projected=True)
        kept_list = "[" + ", ".join(_q(a) for a in kept[:k]) + "]"
        return {"k": k, "edges": edges, "kept": f"KEPT = {kept_list}"}

    if pool is None or base.n_cases * len(stops) <= 100_000:
        levels = [level(k) for k in stops]
        return lambda: levels
    futures = [pool.submit(level, k) for k in stops]
    return lambda: [f.result() for f in futures]


def pain_rows(
    results: dict[str, Any], id_pos: pd.Index, case_ids: np.ndarray, top: int, max_rows: int
) -> list[dict[str, Any]]:
    """The example tickets of the first ``max_rows`` rows of the report's ranked pain-point
    table (``id_pos``: the tickets' ids as strings, ``case_ids`` as they are)."""
    pains: list[dict[str, Any]] = []
    pp_table = getattr(results.get("pain_points"), "table", None)
    if isinstance(pp_table, pd.DataFrame) and {"pain_point", "example_cases"} <= set(pp_table):
        for r in pp_table.head(max_rows).itertuples(index=False):
            ids = [x for x in str(r.example_cases or "").split(";") if x]
            pos = id_pos.get_indexer(ids)
            tk = [int(x) for x in pos[pos >= 0]][:top]
            pains.append(
                {
                    "name": str(r.pain_point),
                    "nt": int(getattr(r, "cases", len(tk))),
                    "tk": tk,
                    "f": {
                        "py": "sliced = svc.filter_cases(log, case_id="
                        + "["
                        + ", ".join(_q(case_ids[x]) for x in tk)
                        + "])  # the costliest examples",
                        "yaml": "",
                    },
                }
            )
    return pains


def department_codes(events: pd.DataFrame) -> tuple[list[str], np.ndarray | None]:
    """The departments (sorted) and every event's code into them (None without the
    column; -1 where missing)."""
    if "department" not in events.columns:
        return [], None
    dep_codes, dep_names = pd.factorize(events["department"], sort=True)
    return [str(x) for x in dep_names], np.asarray(dep_codes)


def dotted_chart(
    base: CaseBasis, dep_codes: np.ndarray | None, max_dot_tickets: int, max_dots: int
) -> dict[str, Any] | None:
    """The dotted chart: the events of at most ``max_dot_tickets`` tickets evenly spread
    over the start order, at most ``max_dots`` events (None when no ticket fits)."""
    fr, n_cases, calendar = base.fr, base.n_cases, base.calendar
    by_start = np.argsort(base.case_begin, kind="stable")
    n_dot = min(max_dot_tickets, n_cases)
    dot_cases = by_start[np.unique(np.linspace(0, n_cases - 1, n_dot).round().astype(int))]
    budget = max_dots
    chosen = []
    for c in dot_cases.tolist():  # at most max_dot_tickets iterations
        if budget < fr.case_len[c]:
            break
        chosen.append(c)
        budget -= int(fr.case_len[c])
    if not chosen:
        return None
    ev_idx = np.concatenate(
        [np.arange(fr.case_start[c], fr.case_start[c] + fr.case_len[c]) for c in chosen]
    )
    t_ns = fr.end_ns[ev_idx]
    t0 = int(fr.end_ns.min())
    dots: dict[str, Any] = {
        "case": fr.case[ev_idx].tolist(),
        "t": ((t_ns - t0) / 60e9).round(1).tolist(),  # minutes since the first event
        "a": fr.act[ev_idx].tolist(),
        "d": dep_codes[ev_idx].tolist() if dep_codes is not None else None,
        "t0": t0 // 1_000_000,  # epoch milliseconds
        "b": None,
    }
    if calendar is not None:  # business hours since the first event
        bh = ns_hours(np.full(len(ev_idx), t0), t_ns, fr.tz, calendar)
        dots["b"] = np.asarray(bh, dtype=float).round(2).tolist()
    return dots


def ticket_holders(
    edges: list[dict[str, Any]],
    levels: list[dict[str, Any]],
    nodes: list[dict[str, Any]],
    variants: list[dict[str, Any]],
    pains: list[dict[str, Any]],
) -> list[dict[str, Any]]:
    """Everything that lists tickets (``tk``): the edges, the slider levels' edges, the
    activity nodes, the variants and the pain points."""
    return [
        *edges,
        *(e for lv in levels for e in lv["edges"]),
        *(node for node in nodes if "tk" in node),
        *variants,
        *pains,
    ]


def referenced_tickets(holders: list[dict[str, Any]], dots: dict[str, Any] | None) -> list[int]:
    """The tickets (case positions) referred to by the ``tk`` of ``holders`` and by the
    dotted chart, in case order: the rows of the ticket table."""
    used: set[int] = set()
    for h in holders:
        used.update(h["tk"])
    if dots is not None:
        used.update(dots["case"])
    return sorted(used)


def renumber_tickets(
    holders: list[dict[str, Any]], dots: dict[str, Any] | None, rows_of: list[int]
) -> None:
    """Refer to tickets by their row of the ticket table (``rows_of``: the case position of
    each row) instead of their case position, in place."""
    row_at = {c: k for k, c in enumerate(rows_of)}
    for h in holders:
        h["tk"] = [row_at[c] for c in h["tk"]]
    if dots is not None:
        dots["case"] = [row_at[c] for c in dots["case"]]


def _text_codes(
    events: pd.DataFrame, case: np.ndarray, rows_of: list[int], n_cases: int
) -> list[tuple[str, list[str], list[int | None]]]:
    """The channel and priority columns of the ticket table (each ticket's first value),
    as codes into the sorted list of their values: (column, values, codes)."""
    out: list[tuple[str, list[str], list[int | None]]] = []
    for col in ("channel", "priority"):
        if col in events.columns:
            picked = _first_per_case(
                events[col], case, n_cases, np.asarray(rows_of, dtype=np.int64)
            )
            names = sorted({v for v in picked if v is not None})
            at = {v: k for k, v in enumerate(names)}
            out.append((col, names, [None if v is None else at[v] for v in picked]))
    return out


def _department_paths(
    base: CaseBasis, dep_codes: np.ndarray, rows_of: list[int]
) -> list[list[int]]:
    """Every row's department path: the codes of its departments, repeats collapsed."""
    fr = base.fr
    sel = np.asarray(rows_of, dtype=np.int64)
    lens = fr.case_len[sel]
    row = np.repeat(np.arange(len(sel)), lens)  # the rows' events, row by row
    ev = np.repeat(fr.case_start[sel] - np.cumsum(lens) + lens, lens) + np.arange(len(row))
    d = dep_codes[ev]
    ok = d >= 0
    row, d = row[ok], d[ok]
    keep = np.ones(len(d), dtype=bool)  # repeats within a row collapsed
    keep[1:] = (d[1:] != d[:-1]) | (row[1:] != row[:-1])
    row, d = row[keep], d[keep]
    cuts = np.searchsorted(row, np.arange(1, len(sel)))
    return [part.tolist() for part in np.split(d, cuts)] if len(sel) else []


def ticket_table(
    base: CaseBasis,
    events: pd.DataFrame,
    rows_of: list[int],
    case_ids: np.ndarray,
    departments: tuple[list[str], np.ndarray | None],
    results: dict[str, Any],
    dev_per_case: np.ndarray | None,
    variant_rank: np.ndarray,
) -> dict[str, Any]:
    """The ticket table: one row per ticket of ``rows_of`` (case positions), with its
    columns (``cols``) and the lists the text columns are codes into (``codes``)."""
    fr = base.fr
    sel = np.asarray(rows_of, dtype=np.int64)
    cols = ["ticket", "start"]
    table: list[list[Any]] = [
        [str(x) for x in case_ids[sel]],
        list(
            pd.DatetimeIndex(base.case_begin[sel].view("M8[ns]"))
            .tz_localize("UTC")
            .tz_convert(fr.tz)
            .strftime("%Y-%m-%d %H:%M")
        ),
    ]
    codes: dict[str, list[str]] = {}  # text columns stored as codes into these lists
    for col, names, picked in _text_codes(events, fr.case, rows_of, base.n_cases):
        cols.append(col)
        codes[col] = names
        table.append(picked)
    deps, dep_codes = departments
    if dep_codes is not None:
        cols.append("departments")
        codes["departments"] = deps
        table.append(_department_paths(base, dep_codes, rows_of))
    cols += ["events", "cycle_hours"]
    table.append(fr.case_len[sel].astype(int).tolist())
    table.append([_r(x, 1) for x in base.cycle[sel]])
    rw = results.get("rework")
    rw_cases = getattr(rw, "cases", None)
    if isinstance(rw_cases, pd.DataFrame) and {"case_id", "n_rework"} <= set(rw_cases):
        per = pd.Series(rw_cases["n_rework"].to_numpy(), index=rw_cases["case_id"].astype(str))
        per = per[~per.index.duplicated()]
        cols.append("rework")
        table.append(
            [int(x) for x in per.reindex([str(x) for x in case_ids[sel]]).fillna(0).to_numpy()]
        )
    if dev_per_case is not None:
        cols.append("deviations")
        table.append(dev_per_case[sel].astype(int).tolist())
    cols.append("variant")
    table.append(variant_rank[sel].astype(int).tolist())
    rows = [list(r) for r in zip(*table, strict=True)]
    return {"cols": cols, "rows": rows, "codes": codes}


def sop_overlay(cr: Any, edge_rows: list[dict[str, Any]]) -> bool:
    """Judge each drawn edge conforming / extra as ``check_sop``'s comparison did (``sop``
    of each edge, in place); False when the conformance result ``cr`` has none."""
    comp = getattr(cr, "comparison", None)
    comp_edges = getattr(comp, "edges", None)
    if not (isinstance(comp_edges, pd.DataFrame) and len(comp_edges)):
        return False
    status = {
        (_START if s == "[start]" else str(s), _END if t == "[end]" else str(t)): str(st)
        for s, t, st in zip(
            comp_edges["source"], comp_edges["target"], comp_edges["status"], strict=True
        )
    }
    for e in edge_rows:
        e["sop"] = status.get((e["s"], e["t"]))
    return True
