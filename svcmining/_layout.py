"""Layered (Sugiyama-style) layout shared by the process map, the SOP diagram and BPMN export.

The steps are the classic ones (Sugiyama, Tagawa & Toda 1981; Gansner et al. 1993):

1. **cycle removal** – a node order with little weight pointing backwards (``start`` first,
   ``end`` last): breadth-first in process order and Eades, Lin & Smyth's (1993) greedy
   feedback-arc-set order, each improved by sifting single nodes, no step entered mostly
   against the flow; the edges pointing backwards are laid out reversed and drawn back (the
   light loops, not the main flow);
2. **layering** – longest path from the sources, the last node (``end``) alone at the bottom,
   then each node slides between its neighbours to shorten its weighted edges (a coordinate
   descent on the network-simplex objective);
3. **dummy nodes** on every edge longer than one layer, so long edges route between layers;
4. **crossing minimisation** – alternating median/barycentre sweeps plus adjacent
   transpositions, several passes, keeping the order with the fewest crossings;
5. **coordinates** – the quadratic program "edges as straight as possible, nodes at least
   their size plus a gap apart, order kept", solved exactly layer by layer (weighted
   isotonic regression by pool-adjacent-violators) and swept until it settles; edges through
   dummy nodes weigh more, so long edges run straight (Gansner's 1/2/8 weights);
6. **routes** – each edge as a list of points from the source's border through its dummy
   nodes to the target's border; :func:`bezier_segments` turns them into smooth curves.

:func:`place_labels` then puts each edge label at a free spot on its own edge.
Everything is deterministic: ties break by input order.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

Direction = Literal["TB", "LR"]
Point = tuple[float, float]
Box = tuple[float, float, float, float]  # x0, y0, x1, y1


@dataclass(frozen=True)
class LayoutEdge:
    """An edge to lay out; ``constraint=False`` edges do not influence the layers."""

    source: str
    target: str
    weight: float = 1.0
    constraint: bool = True


@dataclass
class GraphLayout:
    """Where everything goes. Coordinates: x to the right, y up (matplotlib's convention).

    Attributes
    ----------
    center, size : node id -> (x, y) centre and (width, height)
    layer : node id -> layer index (0 = first)
    rows : node ids (and dummy ids ``"\\0d..."``) per layer, in drawing order
    routes : per edge, points from the source's border to the target's border
    kind : per edge, ``forward``, ``back`` (drawn against the flow), ``flat`` (same layer)
        or ``self`` (a self-loop)
    crossings : edge crossings between adjacent layers in the chosen order
    """

    center: dict[str, Point]
    size: dict[str, Point]
    layer: dict[str, int]
    rows: list[list[str]]
    routes: list[list[Point]]
    kind: list[str]
    crossings: int
    direction: Direction = "TB"
    dummies: set[str] = field(default_factory=set)

    def box(self, node: str, pad: float = 0.0) -> Box:
        """The node's bounding box, grown by ``pad`` on every side."""
        (x, y), (w, h) = self.center[node], self.size[node]
        return (x - w / 2 - pad, y - h / 2 - pad, x + w / 2 + pad, y + h / 2 + pad)

    def bounds(self) -> Box:
        """Bounding box of all nodes and edge routes."""
        pts = [p for r in self.routes for p in r]
        boxes = [self.box(n) for n in self.size]
        if not boxes:
            return (0.0, 0.0, 0.0, 0.0)
        xs = [b[0] for b in boxes] + [b[2] for b in boxes] + [p[0] for p in pts]
        ys = [b[1] for b in boxes] + [b[3] for b in boxes] + [p[1] for p in pts]
        return (min(xs), min(ys), max(xs), max(ys))


# ----------------------------------------------------------------------------------------------
# 1. cycle removal


def _linear_order(
    nodes: Sequence[str], edges: Sequence[LayoutEdge], first: str | None, last: str | None
) -> list[str]:
    """A node sequence with little edge weight pointing backwards; ``first`` leads, ``last`` closes.

    Two starts: breadth-first from ``first`` (heaviest edge first: the process order), and
    Eades-Lin-Smyth's greedy (peel sinks to the back and sources to the front, else the node
    whose outgoing weight most exceeds its incoming weight; ties by input order). In each,
    every node then moves to the place where the weight of its backward edges is least, until
    nothing moves (sifting). The start with less backward weight wins (ties: breadth-first).
    Both first avoid *stranded* steps, entered mostly by backward edges (a reopen drawn
    above the close it mostly follows); a step left only by backward edges (a loop back) is
    fine.
    """
    pos_in = {n: i for i, n in enumerate(nodes)}
    w_out: dict[str, dict[str, float]] = {n: {} for n in nodes}
    w_in: dict[str, dict[str, float]] = {n: {} for n in nodes}
    for e in edges:
        if e.constraint and e.source != e.target:
            w_out[e.source][e.target] = w_out[e.source].get(e.target, 0.0) + max(e.weight, 1e-9)
            w_in[e.target][e.source] = w_in[e.target].get(e.source, 0.0) + max(e.weight, 1e-9)
    alive = set(nodes)
    head: list[str] = []
    tail: list[str] = []

    if first is not None and first in alive:
        head.append(first)
        alive.discard(first)
    if last is not None and last in alive:
        tail.append(last)
        alive.discard(last)
    while alive:
        changed = True
        while changed:
            changed = False
            for n in sorted(alive, key=lambda m: -pos_in[m]):  # sinks, last first
                if not any(t in alive for t in w_out[n]):
                    tail.insert(0, n)
                    alive.discard(n)
                    changed = True
            for n in sorted(alive, key=lambda m: pos_in[m]):  # sources
                if n in alive and not any(s in alive for s in w_in[n]):
                    head.append(n)
                    alive.discard(n)
                    changed = True
        if not alive:
            break
        best = max(
            sorted(alive, key=lambda m: pos_in[m]),
            key=lambda m: (
                sum(w for t, w in w_out[m].items() if t in alive)
                - sum(w for s, w in w_in[m].items() if s in alive)
            ),
        )
        head.append(best)
        alive.discard(best)
    fixed = {first, last}
    in_total = {n: sum(w_in[n].values()) for n in nodes}

    def sift(seq: list[str]) -> list[str]:
        for _ in range(8):
            moved = False
            for n in list(seq):
                if n in fixed:
                    continue
                rest = [m for m in seq if m != n]
                idx = {m: i for i, m in enumerate(rest)}
                lo = 1 if first is not None and first in idx else 0
                hi = len(rest) - (1 if last is not None and last in idx else 0)
                cur = seq.index(n)

                # the in-weight each out-neighbour t gets from ahead of it, n aside
                ahead = {
                    t: sum(w for u, w in w_in[t].items() if u != n and idx[u] < idx[t])
                    for t in w_out[n]
                }

                def cost(
                    j: int,
                    n: str = n,
                    idx: dict[str, int] = idx,
                    ahead: dict[str, float] = ahead,
                ) -> tuple[int, float]:
                    # n at place j: n and its successors entered mostly against the order?
                    fwd = sum(w for u, w in w_in[n].items() if idx[u] < j)
                    stranded = int(in_total[n] - fwd > fwd)
                    for t, w in w_out[n].items():
                        f = ahead[t] + (w if j <= idx[t] else 0.0)
                        stranded += int(in_total[t] - f > f)
                    back = sum(w for t, w in w_out[n].items() if idx[t] < j)
                    return (stranded, back + sum(w for u, w in w_in[n].items() if idx[u] >= j))

                best_j = min(range(lo, hi + 1), key=lambda j: (cost(j), abs(j - cur)))
                if cost(best_j) < cost(cur):
                    seq = [*rest[:best_j], n, *rest[best_j:]]
                    moved = True
            if not moved:
                break
        return seq

    def back_weight(seq: list[str]) -> tuple[int, float]:
        """(steps entered mostly against the order, weight pointing backwards)."""
        pos = {n: i for i, n in enumerate(seq)}
        stranded = 0
        for n in seq:
            fwd = sum(w for u, w in w_in[n].items() if pos[u] < pos[n])
            stranded += int(in_total[n] - fwd > fwd)
        return (stranded, sum(w for u in seq for v, w in w_out[u].items() if pos[v] < pos[u]))

    # second start: breadth-first from the first node, heaviest edges first (process order)
    bfs: list[str] = []
    seen = {last}
    queue = [first] if first is not None else []
    for root in itertools.chain(queue[:1], nodes):
        if root in seen:
            continue
        queue = [root]
        seen.add(root)
        while queue:
            n = queue.pop(0)
            bfs.append(n)
            for t, _w in sorted(w_out[n].items(), key=lambda tw: (-tw[1], pos_in[tw[0]])):
                if t not in seen:
                    seen.add(t)
                    queue.append(t)
    if last is not None and last in pos_in:
        bfs.append(last)
    candidates = [sift(bfs), sift(head + tail)]  # ties: the breadth-first one
    return min(candidates, key=back_weight)


def _back_edges(
    nodes: Sequence[str], edges: Sequence[LayoutEdge], first: str | None, last: str | None = None
) -> set[int]:
    """Indices of constraint edges pointing backwards in :func:`_linear_order`."""
    pos = {n: i for i, n in enumerate(_linear_order(nodes, edges, first, last))}
    return {
        i
        for i, e in enumerate(edges)
        if e.constraint and e.source != e.target and pos[e.source] > pos[e.target]
    }


# ----------------------------------------------------------------------------------------------
# 2. layering


def _layers(
    nodes: Sequence[str],
    dag: Sequence[tuple[str, str, float]],
    first: str | None,
    last: str | None,
) -> dict[str, int]:
    preds: dict[str, list[tuple[str, float]]] = {n: [] for n in nodes}
    succs: dict[str, list[tuple[str, float]]] = {n: [] for n in nodes}
    for s, t, w in dag:
        preds[t].append((s, w))
        succs[s].append((t, w))
    # topological order (Kahn), ties by input order
    indeg = {n: len(preds[n]) for n in nodes}
    pos = {n: i for i, n in enumerate(nodes)}
    ready = sorted((n for n in nodes if indeg[n] == 0), key=lambda n: (n != first, pos[n]))
    topo: list[str] = []
    while ready:
        n = ready.pop(0)
        topo.append(n)
        for t, _ in succs[n]:
            indeg[t] -= 1
            if indeg[t] == 0:
                ready.append(t)
                ready.sort(key=lambda m: (m != first, pos[m]))
    layer = dict.fromkeys(nodes, 0)
    for n in topo:
        for t, _ in succs[n]:
            layer[t] = max(layer[t], layer[n] + 1)
    if first is not None and first in layer:  # nothing but the start on the first layer
        for n in nodes:
            if n != first:
                layer[n] += 1
        layer[first] = 0
    top = max(layer.values(), default=0)
    if last is not None and last in layer:
        top = max((v for k, v in layer.items() if k != last), default=0) + 1
        layer[last] = top
    # slide nodes to shorten their weighted edges (coordinate descent on sum w * length)
    for _ in range(8):
        moved = False
        for n in reversed(topo):
            if n in (first, last):
                continue
            lo = max((layer[s] + 1 for s, _ in preds[n]), default=layer[n])
            hi = min((layer[t] - 1 for t, _ in succs[n]), default=layer[n])
            if first is not None and first in layer:
                lo = max(lo, 1)
            if last is not None and last in layer:
                hi = min(hi, top - 1)
            w_in = sum(w for _, w in preds[n])
            w_out = sum(w for _, w in succs[n])
            want = layer[n]
            if w_out > w_in and hi > layer[n]:
                want = hi
            elif w_in > w_out and lo < layer[n]:
                want = lo
            if want != layer[n]:
                layer[n] = want
                moved = True
        if not moved:
            break
    used = sorted(set(layer.values()))  # drop empty layers
    rank = {v: i for i, v in enumerate(used)}
    return {n: rank[v] for n, v in layer.items()}


# ----------------------------------------------------------------------------------------------
# 4. crossing minimisation


def _pair_crossings(
    upper: list[str], lower: list[str], segs: Mapping[str, list[str]], pos: Mapping[str, int]
) -> int:
    a: list[int] = []
    b: list[int] = []
    for u in upper:
        for v in segs.get(u, ()):
            a.append(pos[u])
            b.append(pos[v])
    if len(a) < 2:
        return 0
    x, y = np.asarray(a), np.asarray(b)
    return int(np.sum((x[:, None] < x[None, :]) & (y[:, None] > y[None, :])))


def count_crossings(rows: Sequence[Sequence[str]], down: Mapping[str, list[str]]) -> int:
    """Crossings between segments of adjacent layers (``down``: node -> nodes one layer below)."""
    pos = {n: i for row in rows for i, n in enumerate(row)}
    return sum(
        _pair_crossings(list(rows[i]), list(rows[i + 1]), down, pos) for i in range(len(rows) - 1)
    )


def _order(
    rows: list[list[str]], down: dict[str, list[str]], up: dict[str, list[str]], passes: int = 24
) -> tuple[list[list[str]], int]:
    def crossings(rs: list[list[str]]) -> int:
        return count_crossings(rs, down)

    best = [list(r) for r in rows]
    best_c = crossings(best)
    cur = [list(r) for r in rows]
    since_better = 0
    for p in range(passes):
        if best_c == 0:
            break
        going_down = p % 2 == 0
        seq = range(1, len(cur)) if going_down else range(len(cur) - 2, -1, -1)
        for li in seq:
            ref = cur[li - 1] if going_down else cur[li + 1]
            rpos = {n: i for i, n in enumerate(ref)}
            nbrs = up if going_down else down
            keys = {}
            for i, n in enumerate(cur[li]):
                ps = sorted(rpos[m] for m in nbrs.get(n, ()) if m in rpos)
                if not ps:
                    keys[n] = float(i)
                elif len(ps) % 2:  # median, barycentre of the two middles when even
                    keys[n] = float(ps[len(ps) // 2])
                else:
                    keys[n] = (ps[len(ps) // 2 - 1] + ps[len(ps) // 2]) / 2
                keys[n] = 0.5 * keys[n] + 0.5 * sum(ps) / len(ps) if ps else keys[n]
            cur[li].sort(key=lambda n: keys[n])
        _transpose(cur, down)
        c = crossings(cur)
        if c < best_c:
            best, best_c, since_better = [list(r) for r in cur], c, 0
        else:
            since_better += 1
            if since_better >= 6:
                break
    return best, best_c


def _transpose(rows: list[list[str]], down: Mapping[str, list[str]]) -> None:
    """Swap neighbours in a layer while that lowers the crossings with both adjacent layers."""
    up: dict[str, list[str]] = {}
    for u, vs in down.items():
        for v in vs:
            up.setdefault(v, []).append(u)

    def local(li: int) -> int:
        pos = {n: i for i, n in enumerate(rows[li])}
        c = 0
        if li > 0:
            pp = {n: i for i, n in enumerate(rows[li - 1])}
            pp.update(pos)
            c += _pair_crossings(rows[li - 1], rows[li], down, pp)
        if li + 1 < len(rows):
            pp = {n: i for i, n in enumerate(rows[li + 1])}
            pp.update(pos)
            c += _pair_crossings(rows[li], rows[li + 1], down, pp)
        return c

    for _ in range(4):
        improved = False
        for li, row in enumerate(rows):
            if len(row) < 2 or len(row) > 60:
                continue
            base = local(li)
            for k in range(len(row) - 1):
                row[k], row[k + 1] = row[k + 1], row[k]
                c = local(li)
                if c < base:
                    base, improved = c, True
                else:
                    row[k], row[k + 1] = row[k + 1], row[k]
        if not improved:
            break


# ----------------------------------------------------------------------------------------------
# 5. coordinates


def _pava(target: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """Weighted isotonic (non-decreasing) regression by pool-adjacent-violators."""
    vals: list[float] = []
    wts: list[float] = []
    cnt: list[int] = []
    for t, w in zip(target.tolist(), weight.tolist(), strict=True):
        vals.append(t)
        wts.append(w)
        cnt.append(1)
        while len(vals) > 1 and vals[-2] > vals[-1]:
            w2 = wts[-2] + wts[-1]
            v2 = (vals[-2] * wts[-2] + vals[-1] * wts[-1]) / w2
            c2 = cnt[-2] + cnt[-1]
            del vals[-2:], wts[-2:], cnt[-2:]
            vals.append(v2)
            wts.append(w2)
            cnt.append(c2)
    return np.repeat(vals, cnt)


def _coordinates(
    rows: list[list[str]],
    nbrs: Mapping[str, list[tuple[str, float]]],
    lo_ext: Mapping[str, float],
    hi_ext: Mapping[str, float],
    gap: float,
    dummies: set[str],
) -> dict[str, float]:
    """Order-axis positions: minimise sum w * (x_u - x_v)^2 keeping order and spacing."""

    def space(a: str, b: str) -> float:
        n_dummy = (a in dummies) + (b in dummies)
        return hi_ext[a] + lo_ext[b] + (gap if n_dummy == 0 else 0.5 * gap if n_dummy == 1 else 0.3)

    index = {n: i for i, n in enumerate(n for row in rows for n in row)}
    x = np.zeros(len(index))
    layers = []  # per layer: node indices, spacing offsets, neighbour arrays, weights
    for row in rows:
        ids = np.array([index[n] for n in row], dtype=np.int64)
        sep = np.zeros(len(row))
        for k in range(1, len(row)):
            sep[k] = sep[k - 1] + space(row[k - 1], row[k])
        x[ids] = sep - sep[-1] / 2 if len(row) else sep  # start packed and centred
        at = np.array([k for k, n in enumerate(row) for _ in nbrs.get(n, ())], dtype=np.int64)
        nb = np.array([index[m] for n in row for m, _ in nbrs.get(n, ())], dtype=np.int64)
        w = np.array([wt for n in row for _, wt in nbrs.get(n, ())], dtype=float)
        layers.append((ids, sep, at, nb, w, np.bincount(at, weights=w, minlength=len(row))))
    # a sweep costs about one pass over the nodes: cap the work on very large graphs
    sweeps = int(np.clip(4e6 / max(len(index), 1) / 10, 40, 400))
    for sweep in range(sweeps):
        change = 0.0
        seq = range(len(rows)) if sweep % 2 == 0 else range(len(rows) - 1, -1, -1)
        for li in seq:
            ids, sep, at_l, nb_l, w_l, tot = layers[li]
            if not len(ids):
                continue
            pull = np.bincount(at_l, weights=w_l * x[nb_l], minlength=len(ids))
            free = tot <= 0  # no neighbours: stay put (a faint pull to the current spot)
            tgt = np.where(free, x[ids], pull / np.where(free, 1.0, tot))
            new = _pava(tgt - sep, np.where(free, 1e-3, tot)) + sep
            change = max(change, float(np.abs(new - x[ids]).max()))
            x[ids] = new
        if change < 1e-7:
            break
    return {n: float(x[i]) for n, i in index.items()}


# ----------------------------------------------------------------------------------------------
# the driver and its steps


def _with_constraints(edges: Sequence[LayoutEdge]) -> list[LayoutEdge]:
    """``edges``, a non-constraint edge made a constraint when one of its ends is reached by
    non-constraint edges only (such a node would float on the first layer: let its edges
    place it)."""
    constrained = {n for e in edges if e.constraint for n in (e.source, e.target)}
    return [
        e
        if e.constraint or (e.source in constrained and e.target in constrained)
        else LayoutEdge(e.source, e.target, e.weight, True)
        for e in edges
    ]


def _dag(edges: Sequence[LayoutEdge], back: set[int]) -> list[tuple[str, str, float]]:
    """Step 1's acyclic graph: the constraint edges (no self-loops), ``back`` ones reversed."""
    dag: list[tuple[str, str, float]] = []
    for i, e in enumerate(edges):
        if not e.constraint or e.source == e.target:
            continue
        s, t = (e.target, e.source) if i in back else (e.source, e.target)
        dag.append((s, t, e.weight))
    return dag


@dataclass
class _Chains:
    """Step 3: every non-self, non-flat edge as a chain of segments between adjacent layers
    from its upper to its lower end, through dummy nodes."""

    down: dict[str, list[str]]  # node -> nodes one layer below, segment by segment
    up: dict[str, list[str]]  # node -> nodes one layer above
    seg_w: dict[tuple[str, str], float]  # segment -> its weight in the coordinates' objective
    chains: dict[int, list[str]]  # edge index -> its chain
    kind: list[str]  # per edge: forward, back, flat or self
    dummies: set[str]


def _dummy_chains(
    nodes: Sequence[str], edges: Sequence[LayoutEdge], layer: dict[str, int]
) -> _Chains:
    """The :class:`_Chains` of ``edges``; each dummy node is added to ``layer``."""
    ch = _Chains({n: [] for n in nodes}, {n: [] for n in nodes}, {}, {}, [], set())
    max_w = max((e.weight for e in edges), default=1.0) or 1.0
    for i, e in enumerate(edges):
        if e.source == e.target:
            ch.kind.append("self")
            continue
        ls, lt = layer[e.source], layer[e.target]
        if ls == lt:
            ch.kind.append("flat")
            continue
        ch.kind.append("forward" if ls < lt else "back")
        a, b = (e.source, e.target) if ls < lt else (e.target, e.source)
        chain = [a]
        for li in range(layer[a] + 1, layer[b]):
            d = f"\0d{i}_{li}"
            layer[d] = li
            ch.dummies.add(d)
            ch.down[d], ch.up[d] = [], []
            chain.append(d)
        chain.append(b)
        # heavy flows pull hardest, so the main path runs straight and rare edges bend
        strength = 0.1 + float(np.sqrt(min(max(e.weight, 0.0) / max_w, 1.0)))
        for u, v in itertools.pairwise(chain):
            ch.down[u].append(v)
            ch.up[v].append(u)
            omega = (
                8.0
                if (u in ch.dummies and v in ch.dummies)
                else 2.0
                if (u in ch.dummies or v in ch.dummies)
                else 1.0
            )
            ch.seg_w[(u, v)] = ch.seg_w.get((u, v), 0.0) + omega * strength
        ch.chains[i] = chain
    return ch


def _initial_rows(
    nodes: Sequence[str], layer: Mapping[str, int], up: Mapping[str, list[str]]
) -> list[list[str]]:
    """Step 4's start: layer by layer, by the mean position of the nodes above, then input
    order."""
    n_layers = max(layer.values(), default=0) + 1
    rows: list[list[str]] = [[] for _ in range(n_layers)]
    pos_in = {n: i for i, n in enumerate(nodes)}
    rank: dict[str, float] = {}
    members: dict[int, list[str]] = {}
    for n, li in layer.items():
        members.setdefault(li, []).append(n)
    for li in range(n_layers):

        def key(n: str) -> tuple[float, int]:
            ps = [rank[u] for u in up.get(n, []) if u in rank]
            own = pos_in.get(n, len(pos_in))
            return (sum(ps) / len(ps) if ps else float(own), own)

        rows[li] = sorted(members.get(li, []), key=key)
        for k, n in enumerate(rows[li]):
            rank[n] = float(k)
    return rows


@dataclass(frozen=True)
class _Axes:
    """Step 5's two axes: the order axis ("breadth", along a layer) and the layer axis
    ("depth"), and how they map to the drawing's x and y."""

    direction: Direction
    sizes: Mapping[str, Point]
    dummies: set[str]

    def breadth(self, n: str) -> float:
        if n in self.dummies:
            return 0.0
        w, h = self.sizes[n]
        return w if self.direction == "TB" else h

    def depth(self, n: str) -> float:
        if n in self.dummies:
            return 0.0
        w, h = self.sizes[n]
        return h if self.direction == "TB" else w

    def place(self, o: float, d: float) -> Point:
        """Order/layer coordinates -> drawing x, y."""
        return (o, -d) if self.direction == "TB" else (d, -o)


@dataclass(frozen=True)
class _Placed:
    """Step 5's result: every node's order-axis position ``xo``, each layer's position
    ``lpos`` on the layer axis and depth ``row_depth``."""

    axes: _Axes
    layer: Mapping[str, int]
    xo: Mapping[str, float]
    lpos: list[float]
    row_depth: list[float]

    def center(self, n: str) -> Point:
        return self.axes.place(self.xo[n], self.lpos[self.layer[n]])

    def port(self, n: str, toward_higher_layer: bool, offset: float = 0.0) -> Point:
        """Where an edge leaves or enters ``n``: its border facing the next (or previous)
        layer, ``offset`` along the layer from its centre."""
        o, d = self.xo[n], self.lpos[self.layer[n]]
        half = self.axes.depth(n) / 2
        return self.axes.place(o + offset, d + half if toward_higher_layer else d - half)


def _place(
    rows: list[list[str]],
    layer: Mapping[str, int],
    ch: _Chains,
    axes: _Axes,
    edges: Sequence[LayoutEdge],
    opts: tuple[float, float, float, Mapping[str, float]],
) -> _Placed:
    """Step 5: coordinates on both axes (``opts``: layer gap, node gap, self-loop room,
    extra room per node)."""
    layer_gap, node_gap, self_loop, extra_room = opts
    dummies = ch.dummies
    has_loop = {e.source for e in edges if e.source == e.target}
    lo_ext = {n: axes.breadth(n) / 2 + (0.15 if n in dummies else 0.0) for n in layer}
    hi_ext = {
        n: axes.breadth(n) / 2
        + (self_loop if n in has_loop else 0.0)
        + extra_room.get(n, 0.0)
        + (0.15 if n in dummies else 0.0)
        for n in layer
    }
    nbrs: dict[str, list[tuple[str, float]]] = {n: [] for n in layer}
    for (u, v), w in ch.seg_w.items():
        nbrs[u].append((v, w))
        nbrs[v].append((u, w))
    xo = _coordinates(rows, nbrs, lo_ext, hi_ext, node_gap, dummies)
    shift = min((xo[n] - lo_ext[n] for n in xo), default=0.0)
    xo = {n: v - shift for n, v in xo.items()}
    row_depth = [max((axes.depth(n) for n in row), default=0.0) for row in rows]
    lpos: list[float] = []
    acc = 0.0
    for li in range(len(rows)):
        if li:
            acc += row_depth[li - 1] / 2 + layer_gap + row_depth[li] / 2
        lpos.append(acc)
    return _Placed(axes, layer, xo, lpos, row_depth)


def _self_loop_route(center: Point, size: Point, direction: Direction, r: float) -> list[Point]:
    """A self-loop of radius ``r`` beside its node (right of it top-to-bottom, below it
    left-to-right)."""
    (cx, cy), (w, h) = center, size
    if direction == "TB":
        return [
            (cx + w / 2, cy + h / 4),
            (cx + w / 2 + r, cy + h / 3),
            (cx + w / 2 + r, cy - h / 3),
            (cx + w / 2, cy - h / 4),
        ]
    return [
        (cx - w / 4, cy - h / 2),
        (cx - w / 3, cy - h / 2 - r),
        (cx + w / 3, cy - h / 2 - r),
        (cx + w / 4, cy - h / 2),
    ]


def _chain_route(
    e: LayoutEdge, ek: str, chain: list[str], pl: _Placed, two_way: bool
) -> list[Point]:
    """Step 6 for a forward or back edge: from the upper end's border through its dummy
    nodes to the lower end's border (reversed for a back edge)."""
    axes = pl.axes
    # a two-way pair between adjacent layers: move both ends off the centre line
    off = 0.0
    if len(chain) == 2 and two_way:
        bmin = min(axes.breadth(e.source), axes.breadth(e.target))
        off = (0.18 * bmin) * (1 if ek == "back" else -1)
    pts: list[Point] = [pl.port(chain[0], True, off)]
    for d in chain[1:-1]:  # through the dummy nodes: along the layer's band, so the
        # curve passes beside the layer's real nodes instead of cutting their corners
        half = pl.row_depth[pl.layer[d]] * 0.4
        pts.append(axes.place(pl.xo[d], pl.lpos[pl.layer[d]] - half))
        pts.append(axes.place(pl.xo[d], pl.lpos[pl.layer[d]] + half))
    pts.append(pl.port(chain[-1], False, off))
    pts = [p for j, p in enumerate(pts) if j == 0 or p != pts[j - 1]]
    return pts if ek == "forward" else pts[::-1]


def _routes(
    edges: Sequence[LayoutEdge],
    ch: _Chains,
    pl: _Placed,
    size: Mapping[str, Point],
    layer_gap: float,
    self_loop: float,
) -> list[list[Point]]:
    """Step 6: every edge as points from its source's border to its target's border."""
    pairs = {(e.source, e.target) for e in edges}
    routes: list[list[Point]] = []
    for i, e in enumerate(edges):
        ek = ch.kind[i]
        if ek == "self":
            c = pl.center(e.source)
            routes.append(_self_loop_route(c, size[e.source], pl.axes.direction, self_loop * 0.8))
        elif ek == "flat":  # arc over the layer, away from the flow
            a, b = e.source, e.target
            d0 = pl.lpos[pl.layer[a]] - pl.row_depth[pl.layer[a]] / 2
            mid = pl.axes.place((pl.xo[a] + pl.xo[b]) / 2, d0 - layer_gap * 0.45)
            routes.append([pl.port(a, False, 0.0), mid, pl.port(b, False, 0.0)])
        else:
            two_way = (e.target, e.source) in pairs
            routes.append(_chain_route(e, ek, ch.chains[i], pl, two_way))
    return routes


def layered_layout(
    nodes: Sequence[str],
    sizes: Mapping[str, Point],
    edges: Sequence[LayoutEdge],
    *,
    direction: Direction = "TB",
    layer_gap: float = 2.0,
    node_gap: float = 1.0,
    first: str | None = None,
    last: str | None = None,
    self_loop: float = 1.0,
    extra_room: Mapping[str, float] | None = None,
) -> GraphLayout:
    """Lay out a directed graph in layers (see the module docstring).

    ``nodes`` in process order; ``sizes`` are (width, height); ``first`` / ``last`` go alone on
    the first / last layer; ``self_loop`` is the room kept beside a node for its self-loop
    (right of it top-to-bottom, below it left-to-right); ``extra_room`` adds room on that side
    (for a self-loop's label, say).
    """
    nodes = list(dict.fromkeys(nodes))
    edges = _with_constraints(edges)
    back = _back_edges(nodes, edges, first, last)  # 1. cycle removal
    layer = _layers(nodes, _dag(edges, back), first, last)  # 2. layering
    ch = _dummy_chains(nodes, edges, layer)  # 3. dummy nodes (added to layer)
    rows, crossings = _order(_initial_rows(nodes, layer, ch.up), ch.down, ch.up)  # 4.
    axes = _Axes(direction, sizes, ch.dummies)
    pl = _place(rows, layer, ch, axes, edges, (layer_gap, node_gap, self_loop, extra_room or {}))
    center = {n: pl.center(n) for n in layer}
    size: dict[str, Point] = {n: (float(sizes[n][0]), float(sizes[n][1])) for n in nodes}
    return GraphLayout(
        center={n: center[n] for n in nodes},
        size=size,
        layer={n: layer[n] for n in nodes},
        rows=rows,
        routes=_routes(edges, ch, pl, size, layer_gap, self_loop),  # 6. routes
        kind=ch.kind,
        crossings=crossings,
        direction=direction,
        dummies=ch.dummies,
    )


# ----------------------------------------------------------------------------------------------
# curves and labels


def bezier_segments(points: Sequence[Point]) -> list[tuple[Point, Point, Point, Point]]:
    """Cubic Bézier pieces of the Catmull-Rom spline through ``points``."""

    def pt(v: np.ndarray) -> Point:
        return (float(v[0]), float(v[1]))

    p = np.asarray(points, dtype=float)
    if len(p) == 2:
        a, b = p
        return [(pt(a), pt(a + (b - a) / 3), pt(a + 2 * (b - a) / 3), pt(b))]
    ext = np.vstack([p[0], p, p[-1]])
    out = []
    for k in range(1, len(ext) - 2):
        p0, p1, p2, p3 = ext[k - 1], ext[k], ext[k + 1], ext[k + 2]
        out.append((pt(p1), pt(p1 + (p2 - p0) / 6), pt(p2 - (p3 - p1) / 6), pt(p2)))
    return out


def sample_curve(points: Sequence[Point], per_segment: int = 24) -> np.ndarray:
    """Dense points on the smooth curve through ``points`` (n x 2)."""
    t = np.linspace(0.0, 1.0, per_segment, endpoint=False)[:, None]
    parts = []
    for a, b, c, d in bezier_segments(points):
        a_, b_, c_, d_ = (np.asarray(v) for v in (a, b, c, d))
        parts.append(
            (1 - t) ** 3 * a_ + 3 * (1 - t) ** 2 * t * b_ + 3 * (1 - t) * t**2 * c_ + t**3 * d_
        )
    parts.append(np.asarray([points[-1]], dtype=float))
    return np.vstack(parts)


def boxes_overlap(a: Box, b: Box) -> bool:
    """Whether two boxes overlap with positive area."""
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _overlap_area(a: Box, b: Box) -> float:
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    return w * h if w > 0 and h > 0 else 0.0


def place_labels(
    curves: Sequence[np.ndarray | None],
    sizes: Sequence[Point | None],
    obstacles: Sequence[Box],
    *,
    order: Sequence[int] | None = None,
    pad: float = 0.08,
) -> list[Box | None]:
    """A box per label on its own curve, clear of ``obstacles`` and of each other.

    Candidates run outwards from the middle of the curve (centred on it, then just beside it:
    left, right, below, above);
    the first free one wins; with none free, the one with the least overlap. Labels are placed
    in ``order`` (default: input order), so the first ones get the best spots.
    """
    placed: list[Box | None] = [None] * len(curves)
    taken: list[Box] = []
    fracs = [0.5]
    for k in range(1, 23):
        fracs += [0.5 - 0.02 * k, 0.5 + 0.02 * k]
    for i in order if order is not None else range(len(curves)):
        curve, sz = curves[i], sizes[i]
        if curve is None or sz is None or len(curve) < 2:
            continue
        w, h = sz
        seg = np.hypot(*np.diff(curve, axis=0).T)
        cum = np.concatenate([[0.0], np.cumsum(seg)])
        total = cum[-1]
        best: tuple[float, Box] | None = None
        found = None
        # centred on the edge, then beside it (left, right, below, above), touching it
        for sx, sy in ((0.0, 0.0), (-0.5, 0.0), (0.5, 0.0), (0.0, -0.5), (0.0, 0.5)):
            for f in fracs:
                px, py = (
                    np.interp(f * total, cum, curve[:, 0]),
                    np.interp(f * total, cum, curve[:, 1]),
                )
                cx, cy = px + sx * (w + 0.1), py + sy * (h + 0.1)
                box = (cx - w / 2 - pad, cy - h / 2 - pad, cx + w / 2 + pad, cy + h / 2 + pad)
                cost = sum(_overlap_area(box, o) for o in obstacles) * 10 + sum(
                    _overlap_area(box, o) for o in taken
                )
                if cost == 0:
                    found = box
                    break
                if best is None or cost < best[0]:
                    best = (cost, box)
            if found is not None:
                break
        chosen = found if found is not None else best[1]  # type: ignore[index]
        taken.append(chosen)
        placed[i] = (chosen[0] + pad, chosen[1] + pad, chosen[2] - pad, chosen[3] - pad)
    return placed
