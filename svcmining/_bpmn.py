"""BPMN 2.0 export with diagram coordinates from svcmining's own layered layout.

pm4py's ``write_bpmn`` lays the diagram out with Graphviz ``dot`` (and fails without it).
Here every shape (``BPMNShape`` bounds) and every flow (``BPMNEdge`` waypoints) gets its
position from :mod:`svcmining._layout`, left to right in process order, and pm4py writes the
XML with that layout (``auto_layout=False``): no Graphviz needed, the same file everywhere.
"""

from __future__ import annotations

import os
from collections import deque
from pathlib import Path
from typing import Any

from . import _layout

TASK_H = 60.0
EVENT_WH = 36.0
GATEWAY_WH = 50.0
LAYER_GAP = 50.0
NODE_GAP = 30.0
MARGIN = 20.0


def _kind(node: Any) -> str:
    from pm4py.objects.bpmn.obj import BPMN

    if isinstance(node, BPMN.StartEvent | BPMN.EndEvent):
        return "event"
    if isinstance(node, BPMN.Gateway):
        return "gateway"
    return "task"


def _size(node: Any) -> tuple[float, float]:
    kind = _kind(node)
    if kind == "event":
        return (EVENT_WH, EVENT_WH)
    if kind == "gateway":
        return (GATEWAY_WH, GATEWAY_WH)
    name = str(node.get_name() or "")
    em = sum(14.0 if ord(ch) > 0x2E80 else 8.0 for ch in name)
    return (min(max(100.0, em + 24.0), 200.0), TASK_H)


def _ordered(bpmn: Any) -> tuple[list[Any], list[Any]]:
    """Nodes breadth-first from the start events, flows by their ends (deterministic)."""

    from pm4py.objects.bpmn.obj import BPMN

    succ: dict[Any, list[Any]] = {}
    pred: dict[Any, list[Any]] = {}
    for f in bpmn.get_flows():
        succ.setdefault(f.get_source(), []).append(f.get_target())
        pred.setdefault(f.get_target(), []).append(f.get_source())

    def named_near(n: Any, nbrs: dict[Any, list[Any]]) -> tuple[str, ...]:
        """Names of the named nodes reached from ``n`` through unnamed ones (gateways)."""
        found: set[str] = set()
        stack, seen = list(nbrs.get(n, [])), {n}
        while stack:
            m = stack.pop()
            if m in seen:
                continue
            seen.add(m)
            if m.get_name():
                found.add(str(m.get_name()))
            else:
                stack.extend(nbrs.get(m, []))
        return tuple(sorted(found))

    keys = {  # structural: pm4py's ids are random, the names and neighbourhoods are not
        n: (
            str(n.get_name() or ""),
            type(n).__name__,
            named_near(n, succ),
            named_near(n, pred),
            str(n.get_id()),
        )
        for n in bpmn.get_nodes()
    }

    def key(n: Any) -> tuple[str, str, tuple[str, ...], tuple[str, ...], str]:
        return keys[n]

    nodes = sorted(bpmn.get_nodes(), key=key)
    flows = sorted(
        bpmn.get_flows(), key=lambda f: (key(f.get_source()), key(f.get_target()), str(f.get_id()))
    )
    out: dict[Any, list[Any]] = {n: [] for n in nodes}
    for f in flows:
        out.setdefault(f.get_source(), []).append(f.get_target())

    queue = deque(n for n in nodes if isinstance(n, BPMN.StartEvent))
    seen: dict[Any, None] = {}
    while True:
        while queue:
            n = queue.popleft()
            if n in seen:
                continue
            seen[n] = None
            queue.extend(t for t in out.get(n, []) if t not in seen)
        rest = [n for n in nodes if n not in seen]
        if not rest:
            break
        queue.append(rest[0])
    return list(seen), flows


def lay_out(bpmn: Any) -> Any:
    """A pm4py ``BPMNLayout`` placing ``bpmn`` left to right (``bpmn`` is not changed).

    Bounds are top-left corners in BPMN's coordinates (y down, a 20 px margin); each flow's
    waypoints run from its source's border through its dummy points to its target's border.
    """
    from pm4py.objects.bpmn.obj import BPMN, BPMNLayout

    nodes, flows = _ordered(bpmn)
    ident = {n: f"n{i}" for i, n in enumerate(nodes)}
    starts = [n for n in nodes if isinstance(n, BPMN.StartEvent)]
    ends = [n for n in nodes if isinstance(n, BPMN.EndEvent)]
    lay = _layout.layered_layout(
        [ident[n] for n in nodes],
        {ident[n]: _size(n) for n in nodes},
        [_layout.LayoutEdge(ident[f.get_source()], ident[f.get_target()]) for f in flows],
        direction="LR",
        layer_gap=LAYER_GAP,
        node_gap=NODE_GAP,
        first=ident[starts[0]] if len(starts) == 1 else None,
        last=ident[ends[0]] if len(ends) == 1 else None,
        self_loop=30.0,
    )
    x0, _, _, y1 = lay.bounds()

    def to_bpmn(p: tuple[float, float]) -> tuple[float, float]:  # y up -> y down, margin
        return (round(p[0] - x0 + MARGIN, 1), round(y1 - p[1] + MARGIN, 1))

    layout = BPMNLayout()
    for n in nodes:
        (cx, cy), (w, h) = lay.center[ident[n]], lay.size[ident[n]]
        x, y = to_bpmn((cx - w / 2, cy + h / 2))
        nl = layout.get(n)
        nl.set_x(x)
        nl.set_y(y)
        nl.set_width(w)
        nl.set_height(h)
    for f, route in zip(flows, lay.routes, strict=True):
        fl = layout.get(f)
        fl.del_waypoints()
        for p in route:
            fl.add_waypoint(to_bpmn(p))
    return layout


def write_bpmn(bpmn: Any, path: str | os.PathLike[str]) -> Path:
    """Write ``bpmn`` (a pm4py BPMN object) as BPMN 2.0 XML with our layout; returns the path.

    Like pm4py, a path not ending in ``bpmn`` gets ``.bpmn`` appended.
    """
    import pm4py

    p = Path(path)
    if not str(p).lower().endswith("bpmn"):
        p = Path(f"{p}.bpmn")
    own = bpmn.get_layout()
    bpmn.set_layout(lay_out(bpmn))
    try:
        pm4py.write_bpmn(bpmn, str(p), auto_layout=False)
    finally:
        bpmn.set_layout(own)
    return p
