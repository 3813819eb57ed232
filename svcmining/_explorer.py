"""The interactive explorer of the HTML report: its data and its HTML fragment.

:func:`explorer_data` gathers, from a log and the analyses the report already ran, what
the page's script needs: the process map laid out by :mod:`svcmining._layout` (node
boxes and edge curves), the counts and waits of every node and edge, the variants, the
tickets behind each of them, and the events of a sample of tickets for the dotted chart.
:func:`explorer_fragment` turns it into HTML: a hidden ``<section>``, the data as a JSON
block and the hand-written script ``svcmining/explorer/explorer.js`` (with its
stylesheet ``explorer.css``), which shows the section and draws everything in SVG. With
the script blocked the section stays hidden and the report's static pictures and tables
are all there is (progressive enhancement). :func:`csp_script_source` is the hash the
page's Content-Security-Policy allows the script by.

Size bound
----------
The embedded data does not grow with the log beyond these caps, so a report of a
1M-event log stays a few hundred kilobytes larger and responsive:

* the map keeps the ``max_nodes`` (80) most frequent activities and, between them, the
  ``max_edges`` (400) most frequent transitions (the rest are counted in ``dropped``);
* the activity slider's maps (the log without the hidden steps) are precomputed at its
  nine stops 10% … 90%, each with at most ``max_edges`` edges;
* every node, edge and variant lists at most ``top_tickets`` (50) tickets — the ones
  with the longest cycle time (nodes, variants) or the longest wait on that transition
  (edges) — plus the total number of its tickets;
* the variant explorer lists the ``max_variants`` (50) most frequent variants;
* the dotted chart shows at most ``max_dot_tickets`` (300) tickets, evenly spread over
  the tickets ordered by start, and at most ``max_dots`` (20,000) events;
* the ticket table holds one row per ticket referenced above (a union, so at most
  ``top_tickets × (nodes + edges + variants + slider edges) + max_dot_tickets`` rows; far
  fewer in practice as the longest tickets recur: 2,975 rows for the 6,500 tickets of
  ``sample_logs/``, whose explorer data is about 480 KB).
"""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import json
import re
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from . import _layout
from ._safetext import escape_text
from ._time import ns_hours
from .eventlog import LogLike, frame_of

if TYPE_CHECKING:
    from .calendars import Calendar
    from .discovery import ProcessGraph

__all__ = [
    "csp_script_source",
    "explorer_data",
    "explorer_fragment",
    "report_fragment",
    "strip_explorer",
    "ticket_rows",
]

_START, _END = "\u25b6", "\u25a0"  # start / end node ids (no activity label is one glyph)
_UNIT = 12.0  # pixels per layout unit
_NODE_PX, _SUB_PX, _EDGE_PX = 12.0, 10.0, 10.5  # font sizes of explorer.css, in pixels
_VIEW = (1140.0, 820.0)  # the map's largest box on the page, in pixels
_DATA_ID = "svcm-explorer-data"
_CODE_ID = "svcm-explorer-code"


# ----------------------------------------------------------------------------------------------
# package data


@cache
def _asset(name: str) -> str:
    return resources.files("svcmining").joinpath("explorer", name).read_text(encoding="utf-8")


def csp_script_source() -> str:
    """The CSP source (``'sha256-…'``) of the explorer's inline script."""
    digest = hashlib.sha256(_asset("explorer.js").encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode('ascii')}'"


# ----------------------------------------------------------------------------------------------
# data


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


def _top_per_group(
    group: np.ndarray, case: np.ndarray, score: np.ndarray, n_groups: int, top: int
) -> tuple[list[list[int]], np.ndarray]:
    """Per group, up to ``top`` distinct cases with the highest ``score`` (ties: lower case
    first), and the number of distinct cases of each group."""
    if len(group) == 0:
        return [[] for _ in range(n_groups)], np.zeros(n_groups, dtype=np.int64)
    order = np.lexsort((case, -score, group))
    g, c = group[order], case[order]
    # one row per (group, case): the case's highest score comes first after the sort
    key = g.astype(np.int64) * (int(case.max()) + 1) + c
    _, first = np.unique(key, return_index=True)
    first.sort()
    g, c = g[first], c[first]
    counts = np.bincount(g, minlength=n_groups)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    rank = np.arange(len(g)) - starts[g]
    keep = rank < top
    out: list[list[int]] = [[] for _ in range(n_groups)]
    for gi, ci in zip(g[keep].tolist(), c[keep].tolist(), strict=True):
        out[gi].append(ci)
    return out, counts.astype(np.int64)


def _projected_edges(
    fr: Any,
    keep: np.ndarray,
    cycle: np.ndarray,
    calendar: Calendar | None,
    top: int,
    max_edges: int,
) -> list[dict[str, Any]]:
    """The directly-follows edges of the log with only the activities ``keep`` (a mask over
    activity codes): the map of the activity slider, where a path through a hidden step
    becomes an edge between the steps shown (as Disco draws it). Edges carry activity
    labels, counts, waits and their top tickets (case positions); the most frequent
    ``max_edges`` are kept."""
    from ._groupstats import group_stats

    labels = [str(x) for x in fr.labels]
    n_act = len(labels)
    idx = np.flatnonzero(keep[fr.act])
    case, act = fr.case[idx], fr.act[idx]
    out: list[dict[str, Any]] = []
    if len(idx) == 0:
        return out
    i = np.flatnonzero(case[1:] == case[:-1])
    wait = np.asarray(
        ns_hours(fr.end_ns[idx[i]], fr.begin_ns[idx[i + 1]], fr.tz, calendar), dtype=float
    )
    if fr.lifecycle:
        wait = np.maximum(wait, 0.0)
    codes, uniq = pd.factorize(act[i] * n_act + act[i + 1])
    codes = np.asarray(codes, dtype=np.int64)
    uniq = np.asarray(uniq, dtype=np.int64)
    n_e = len(uniq)
    stats = group_stats(codes, wait, n_e, "wait")
    tk, n_cases = _top_per_group(codes, case[i], wait, n_e, top)
    counts = np.bincount(codes, minlength=n_e)
    for k in range(n_e):
        out.append(
            {
                "s": labels[int(uniq[k]) // n_act],
                "t": labels[int(uniq[k]) % n_act],
                "count": int(counts[k]),
                "cases": int(n_cases[k]),
                "p50": _r(stats["wait_p50_hours"][k]),
                "p90": _r(stats["wait_p90_hours"][k]),
                "tk": tk[k],
                "nt": int(n_cases[k]),
            }
        )
    first = np.r_[True, case[1:] != case[:-1]]
    last = np.r_[case[1:] != case[:-1], True]
    for mask, at_start in ((first, True), (last, False)):
        ends_tk, ends_n = _top_per_group(act[mask], case[mask], cycle[case[mask]], n_act, top)
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


def _filters_module() -> bool:
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


def _first_per_case(col: pd.Series, case: np.ndarray, n_cases: int) -> list[Any]:
    """The first non-missing value of ``col`` in every case (None where it has none)."""
    ok = col.notna().to_numpy()
    idx = np.flatnonzero(ok)
    out: list[Any] = [None] * n_cases
    if len(idx):
        c, first = np.unique(case[idx], return_index=True)
        vals = col.to_numpy()[idx[first]]
        for ci, v in zip(c.tolist(), vals.tolist(), strict=True):
            out[ci] = str(v)
    return out


def explorer_data(
    log: LogLike,
    *,
    graph: ProcessGraph | None = None,
    results: dict[str, Any] | None = None,
    calendar: Calendar | None = None,
    top_tickets: int = 50,
    max_nodes: int = 80,
    max_edges: int = 400,
    max_layout_edges: int = 60,
    max_variants: int = 50,
    max_dot_tickets: int = 300,
    max_dots: int = 20_000,
) -> dict[str, Any]:
    """Everything the explorer's script shows, as plain JSON-ready values.

    Tickets are referred to by their row in ``cases["rows"]``; activities and
    departments by their index in ``acts`` / ``deps``. In the rows, the columns named in
    ``cases["codes"]`` hold codes into its lists (the department path: a list of codes).
    :func:`ticket_rows` decodes them. Hours are business hours under
    ``calendar``, else elapsed hours. See the module docstring for the caps.
    """
    from .discovery import case_variants, coded_frame, discover_dfg

    results = results or {}
    events = frame_of(log)
    if graph is None:
        graph = discover_dfg(log, calendar=calendar)
    n_ev = len(events)
    stack = _filters_module()
    empty: dict[str, Any] = {
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
    if n_ev == 0:
        return empty
    fr = coded_frame(log)
    n_cases = fr.n_cases
    labels = [str(x) for x in fr.labels]
    ends = fr.case_start + fr.case_len - 1
    case_begin = np.minimum.reduceat(fr.begin_ns, fr.case_start)
    case_end = fr.end_ns[ends]
    cycle = np.asarray(ns_hours(case_begin, case_end, fr.tz, calendar), dtype=float)

    # -- map: the most frequent activities and, between them, the most frequent edges
    acts = graph.activities.sort_values(["count", "activity"], ascending=[False, True])
    kept = [str(a) for a in acts["activity"].head(max_nodes)]
    kept_set = set(kept)
    act_index = {a: i for i, a in enumerate(labels)}
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
    node_ids = [_START, *kept, _END]
    dep_of = (
        dict(zip(acts["activity"].astype(str), acts["department"], strict=True))
        if "department" in acts.columns
        else {}
    )
    cnt = dict(zip(acts["activity"].astype(str), acts["count"].astype(int), strict=True))
    node_cases = dict(zip(acts["activity"].astype(str), acts["cases"].astype(int), strict=True))
    sizes: dict[str, tuple[float, float]] = {_START: (1.2, 1.2), _END: (1.2, 1.2)}
    for a in kept:  # the script writes "department · N tickets" under the label
        dep = dep_of.get(a)
        sub = (f"{dep} · " if isinstance(dep, str) else "") + f"{node_cases[a]:,} tickets"
        w = max(_text_width(a) * _NODE_PX, _text_width(sub) * _SUB_PX) / _UNIT
        sizes[a] = (w + 1.4, 2.7)
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

    # -- tickets behind nodes (longest cycle first) and edges (longest wait first)
    n_act = len(labels)
    node_top, node_n = _top_per_group(fr.act, fr.case, cycle[fr.case], n_act, top_tickets)
    i = np.flatnonzero(fr.case[1:] == fr.case[:-1])
    pair = fr.act[i] * n_act + fr.act[i + 1]
    wait = np.asarray(ns_hours(fr.end_ns[i], fr.begin_ns[i + 1], fr.tz, calendar), dtype=float)
    pair_codes, pair_uniq = pd.factorize(pair)
    edge_top, edge_n = _top_per_group(
        np.asarray(pair_codes), fr.case[i], wait, len(pair_uniq), top_tickets
    )
    pair_at = {int(p): k for k, p in enumerate(np.asarray(pair_uniq))}
    start_top, start_n = _top_per_group(
        fr.act[fr.case_start], np.arange(n_cases), cycle, n_act, top_tickets
    )
    end_top, end_n = _top_per_group(fr.act[ends], np.arange(n_cases), cycle, n_act, top_tickets)
    used: set[int] = set()
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
        used.update(e["tk"])
    nodes: list[dict[str, Any]] = []
    for nid in node_ids:
        (cx, cy), (w, h) = lay.center[nid], lay.size[nid]
        nd: dict[str, Any] = {
            "id": nid,
            "x": round((cx + shift_x - w / 2) * _UNIT, 1),
            "y": round((height - cy - h / 2) * _UNIT, 1),
            "w": round(w * _UNIT, 1),
            "h": round(h * _UNIT, 1),
        }
        if nid in (_START, _END):
            nd["kind"] = "start" if nid == _START else "end"
            nd["count"] = n_cases
        else:
            ai = act_index[nid]
            dep = dep_of.get(nid)
            nd.update(
                kind="activity",
                count=int(cnt[nid]),
                cases=int(node_n[ai]),
                dep=None if dep is None or pd.isna(dep) else str(dep),
                tk=node_top[ai],
                nt=int(node_n[ai]),
                f=_node_filter(nid, stack),
            )
            used.update(node_top[ai])
        nodes.append(nd)

    # -- variants
    vcode = case_variants(fr)
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
    var_top, _ = _top_per_group(vcode, np.arange(n_cases), cycle, n_var, top_tickets)
    dev_per_case = np.zeros(n_cases, dtype=np.int64)
    cr = results.get("conformance")
    case_ids = events["case_id"].to_numpy()[fr.case_start]
    id_pos = pd.Index(pd.Series(case_ids).astype(str))
    dev_cases = getattr(cr, "cases", None)
    if isinstance(dev_cases, pd.DataFrame) and {"case_id", "n_deviations"} <= set(dev_cases):
        pos = id_pos.get_indexer(dev_cases["case_id"].astype(str))
        ok = pos >= 0
        dev_per_case[pos[ok]] = dev_cases["n_deviations"].to_numpy()[ok].astype(np.int64)
    vdev = np.bincount(vcode, weights=dev_per_case > 0, minlength=n_var)
    variants: list[dict[str, Any]] = []
    for v in vorder[:max_variants]:
        seq = [labels[a] for a in seqs[v]]
        variants.append(
            {
                "seq": list(seqs[v]),
                "cases": int(vcount[v]),
                "share": _r(vcount[v] / n_cases, 4),
                "median": _r(vmed[v]),
                "dev": int(vdev[v]) if cr is not None else None,
                "tk": var_top[v],
                "nt": int(vcount[v]),
                "f": _variant_filter(seq, stack),
            }
        )
        used.update(var_top[v])

    # -- the activity slider's maps: the log with only the most frequent activities
    levels: list[dict[str, Any]] = []
    rank_codes = np.asarray([act_index[a] for a in kept], dtype=np.int64)
    for k in sorted({max(1, -(-len(kept) * p // 100)) for p in range(10, 100, 10)}):
        if k >= len(kept):
            continue
        keep_mask = np.zeros(n_act, dtype=bool)
        keep_mask[rank_codes[:k]] = True
        level_edges = _projected_edges(fr, keep_mask, cycle, calendar, top_tickets, max_edges)
        for e in level_edges:
            used.update(e["tk"])
            e["f"] = _edge_filter(e["s"], e["t"], stack, projected=True)
        kept_list = "[" + ", ".join(_q(a) for a in kept[:k]) + "]"
        levels.append({"k": k, "edges": level_edges, "kept": f"KEPT = {kept_list}"})

    # -- pain points (rows of the report's ranked table): their example tickets
    pains: list[dict[str, Any]] = []
    pp_table = getattr(results.get("pain_points"), "table", None)
    if isinstance(pp_table, pd.DataFrame) and {"pain_point", "example_cases"} <= set(pp_table):
        for r in pp_table.head(max_variants).itertuples(index=False):
            ids = [x for x in str(r.example_cases or "").split(";") if x]
            pos = id_pos.get_indexer(ids)
            tk = [int(x) for x in pos[pos >= 0]][:top_tickets]
            used.update(tk)
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

    # -- dotted chart: tickets evenly spread over the start order, events capped
    by_start = np.argsort(case_begin, kind="stable")
    n_dot = min(max_dot_tickets, n_cases)
    dot_cases = by_start[np.unique(np.linspace(0, n_cases - 1, n_dot).round().astype(int))]
    budget = max_dots
    chosen = []
    for c in dot_cases.tolist():  # at most max_dot_tickets iterations
        if budget < fr.case_len[c]:
            break
        chosen.append(c)
        budget -= int(fr.case_len[c])
    dots: dict[str, Any] | None = None
    deps: list[str] = []
    dep_codes = None
    if "department" in events.columns:
        dep_codes, dep_names = pd.factorize(events["department"], sort=True)
        deps = [str(x) for x in dep_names]
    if chosen:
        ev_idx = np.concatenate(
            [np.arange(fr.case_start[c], fr.case_start[c] + fr.case_len[c]) for c in chosen]
        )
        t_ns = fr.end_ns[ev_idx]
        t0 = int(fr.end_ns.min())
        dots = {
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
        used.update(chosen)

    # -- the ticket table: one row per ticket referenced above
    rows_of = sorted(used)
    row_at = {c: k for k, c in enumerate(rows_of)}
    sel = np.asarray(rows_of, dtype=np.int64)
    cols = ["ticket", "start"]
    table: list[list[Any]] = [
        [str(x) for x in case_ids[sel]],
        [
            pd.Timestamp(int(t), tz="UTC").tz_convert(fr.tz).strftime("%Y-%m-%d %H:%M")
            for t in case_begin[sel]
        ],
    ]
    codes: dict[str, list[str]] = {}  # text columns stored as codes into these lists
    for col in ("channel", "priority"):
        if col in events.columns:
            vals = _first_per_case(events[col], fr.case, n_cases)
            picked = [vals[c] for c in rows_of]
            names = sorted({v for v in picked if v is not None})
            at = {v: k for k, v in enumerate(names)}
            cols.append(col)
            codes[col] = names
            table.append([None if v is None else at[v] for v in picked])
    if dep_codes is not None:
        paths = []
        for c in rows_of:  # bounded by the caps above, never by the log
            d = dep_codes[fr.case_start[c] : fr.case_start[c] + fr.case_len[c]]
            d = d[d >= 0]
            keep = np.r_[True, d[1:] != d[:-1]] if len(d) else np.array([], bool)
            paths.append(d[keep].tolist())  # the department path, codes into deps
        cols.append("departments")
        codes["departments"] = deps
        table.append(paths)
    cols += ["events", "cycle_hours"]
    table.append(fr.case_len[sel].astype(int).tolist())
    table.append([_r(x, 1) for x in cycle[sel]])
    rw = results.get("rework")
    rw_cases = getattr(rw, "cases", None)
    if isinstance(rw_cases, pd.DataFrame) and {"case_id", "n_rework"} <= set(rw_cases):
        per = pd.Series(rw_cases["n_rework"].to_numpy(), index=rw_cases["case_id"].astype(str))
        per = per[~per.index.duplicated()]
        cols.append("rework")
        table.append(
            [int(x) for x in per.reindex([str(x) for x in case_ids[sel]]).fillna(0).to_numpy()]
        )
    if cr is not None:
        cols.append("deviations")
        table.append(dev_per_case[sel].astype(int).tolist())
    cols.append("variant")
    vrank = np.empty(n_var, dtype=np.int64)
    vrank[vorder] = np.arange(1, n_var + 1)
    table.append(vrank[vcode[sel]].astype(int).tolist())
    rows = [list(r) for r in zip(*table, strict=True)]

    def remap(xs: list[int]) -> list[int]:
        return [row_at[c] for c in xs]

    for e in edge_rows + [e for lv in levels for e in lv["edges"]]:
        e["tk"] = remap(e["tk"])
    for node in nodes:
        if "tk" in node:
            node["tk"] = remap(node["tk"])
    for var in variants:
        var["tk"] = remap(var["tk"])
    if dots is not None:
        dots["case"] = [row_at[c] for c in dots["case"]]
    for pain in pains:
        pain["tk"] = remap(pain["tk"])

    # -- SOP overlay: each drawn edge judged conforming / extra by check_sop
    sop_on = False
    comp = getattr(cr, "comparison", None)
    comp_edges = getattr(comp, "edges", None)
    if isinstance(comp_edges, pd.DataFrame) and len(comp_edges):
        status = {
            (_START if s == "[start]" else str(s), _END if t == "[end]" else str(t)): str(st)
            for s, t, st in zip(
                comp_edges["source"], comp_edges["target"], comp_edges["status"], strict=True
            )
        }
        for e in edge_rows:
            e["sop"] = status.get((e["s"], e["t"]))
        sop_on = True

    out = dict(empty)
    out.update(
        n_cases=n_cases,
        n_events=n_ev,
        acts=labels,
        deps=deps,
        nodes=nodes,
        edges=edge_rows,
        levels=levels,
        direction=lay.direction,
        variants=variants,
        n_variants=n_var,
        cases={"cols": cols, "rows": rows, "codes": codes},
        dots=dots,
        pains=pains,
        sop=sop_on,
        dropped={
            "nodes": len(graph.activities) - len(kept),
            "edges": n_dropped_edges,
            "variants": max(n_var - max_variants, 0),
        },
        width=round(width_px, 1),
        height=round(height_px, 1),
        top_tickets=top_tickets,
    )
    return out


def ticket_rows(data: dict[str, Any]) -> list[dict[str, Any]]:
    """The ticket table of :func:`explorer_data` as records with its codes decoded (the
    department path joined with arrows), as the page shows it."""
    cols, codes = data["cases"]["cols"], data["cases"]["codes"]
    out = []
    for row in data["cases"]["rows"]:
        rec = {}
        for c, v in zip(cols, row, strict=True):
            if c in codes and isinstance(v, list):
                v = " → ".join(codes[c][x] for x in v)
            elif c in codes and v is not None:
                v = codes[c][v]
            rec[c] = v
        out.append(rec)
    return out


# ----------------------------------------------------------------------------------------------
# HTML


def _visible(obj: Any) -> Any:
    """``obj`` with control and bidi characters in every string written as visible escapes
    (as the rest of the report shows labels)."""
    if isinstance(obj, str):
        return escape_text(obj, keep="\n")  # the filter code's own line breaks stay
    if isinstance(obj, list):
        return [_visible(x) for x in obj]
    if isinstance(obj, dict):
        return {k: _visible(v) for k, v in obj.items()}
    return obj


def _json_for_html(data: Any) -> str:
    """JSON that cannot end its ``<script>`` element early: ``<``, ``>``, ``&`` escaped;
    control and bidi characters shown as escapes."""
    text = json.dumps(_visible(data), ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def explorer_fragment(data: dict[str, Any]) -> str:
    """The explorer as HTML: a hidden section the script shows, the data and the script."""
    return (
        '<section id="explorer" class="svcm-explorer" hidden>'
        "<h2>Explore the process</h2>"
        '<p class="note">Interactive: move the sliders, switch the measure, drag to pan, '
        "scroll to zoom; click a step, a transition or a variant to list its tickets.</p>"
        '<div id="svcm-x"></div></section>'
        f"<style>{_asset('explorer.css')}</style>"
        f'<script type="application/json" id="{_DATA_ID}">{_json_for_html(data)}</script>'
        f'<script id="{_CODE_ID}">{_asset("explorer.js")}</script>'
    )


_DATA_RE = re.compile(
    rf'<script type="application/json" id="{_DATA_ID}">([^<]*)</script>', re.IGNORECASE
)


def strip_explorer(page: str) -> str:
    """``page`` without the explorer's two script elements (for checks that nothing else in a
    report is a script). Raises ``ValueError`` when they are not exactly what
    :func:`explorer_fragment` writes: the data must parse as JSON with no raw ``<``, and the
    code must be the packaged script, byte for byte."""
    code = f'<script id="{_CODE_ID}">{_asset("explorer.js")}</script>'
    out = page
    if code in out:
        out = out.replace(code, "", 1)
        m = _DATA_RE.search(out)
        if m is None:
            raise ValueError("the explorer's script is there but its data block is not")
        json.loads(m.group(1))
        out = out[: m.start()] + out[m.end() :]
    return out


def report_fragment(log: LogLike, results: dict[str, Any], calendar: Calendar | None) -> str:
    """The explorer for :func:`svcmining.build_report`, from the results its sections
    computed (``""`` when the process map was not built). An error here leaves the explorer
    out with a warning; the static report is written all the same."""
    import warnings

    graph = results.get("graph")
    if graph is None:
        return ""
    try:
        data = explorer_data(log, graph=graph, results=results, calendar=calendar)
    except Exception as exc:  # the static report must not be lost to the explorer
        warnings.warn(
            f"The report's interactive explorer was left out: {type(exc).__name__}: {exc}",
            RuntimeWarning,
            stacklevel=3,
        )
        return ""
    return explorer_fragment(data) if data["nodes"] else ""
