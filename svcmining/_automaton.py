"""The reachability graph of an SOP's Petri net: the automaton behind alignments.

Markings are states and transitions labelled edges; with the all-pairs model-move cost
matrix (pm4py's standard costs: visible model move ``MOVE_COST``, silent move
``TAU_COST``) an optimal alignment is a shortest path, and the fewest visible moves
before a label can fire is its *stage*. Used by :mod:`svcmining.conformance` (alignments,
precision, allowed flows) and :mod:`svcmining.sop` (the stages of a BPMN model). Nets
whose graph has more than ``MAX_STATES`` states raise :class:`TooLarge`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["INF", "MAX_STATES", "MOVE_COST", "TAU_COST", "Automaton", "TooLarge", "build_automaton"]

MOVE_COST = 10_000  # pm4py's STD_MODEL_LOG_MOVE_COST
TAU_COST = 1  # pm4py's STD_TAU_COST
INF = np.int64(1) << 50
MAX_STATES = 1500


@dataclass
class Automaton:
    labels: list[str]  # visible label per index
    n_states: int
    init: int
    final: int
    edge_src: np.ndarray  # visible edges
    edge_dst: np.ndarray
    edge_lab: np.ndarray
    dist: np.ndarray  # all-pairs model-move cost (S x S), INF when unreachable
    nxt: np.ndarray  # next state on the cheapest model-move path
    step_lab: np.ndarray  # label index of the cheapest edge i -> j (-1 tau, -2 none)

    @property
    def best_worst_cost(self) -> int:
        return int(self.dist[self.init, self.final])

    def label_depths(self) -> dict[str, int]:
        """Fewest visible model moves before each label can fire (its stage)."""
        vis = self.dist // MOVE_COST
        out: dict[str, int] = {}
        for s, lab in zip(self.edge_src, self.edge_lab, strict=True):
            if self.dist[self.init, s] >= INF:
                continue
            d = int(vis[self.init, s])
            name = self.labels[lab]
            out[name] = min(out.get(name, d), d)
        return out

    def model_path(self, i: int, j: int) -> list[int]:
        """Visible labels (indices) on the cheapest model-move path i -> j."""
        out = []
        while i != j:
            k = int(self.nxt[i, j])
            lab = int(self.step_lab[i, k])
            if lab >= 0:
                out.append(lab)
            i = k
        return out


def build_automaton(net: Any, im: Any, fm: Any) -> Automaton:
    places = sorted(net.places, key=lambda p: str(p.name))
    pidx = {p: i for i, p in enumerate(places)}
    trans = sorted(net.transitions, key=lambda t: (str(t.label), str(t.name)))
    labels = sorted({t.label for t in trans if t.label is not None})
    lidx = {lab: i for i, lab in enumerate(labels)}
    pre = []
    post = []
    for t in trans:
        a = np.zeros(len(places), dtype=np.int64)
        b = np.zeros(len(places), dtype=np.int64)
        for arc in t.in_arcs:
            a[pidx[arc.source]] += arc.weight
        for arc in t.out_arcs:
            b[pidx[arc.target]] += arc.weight
        pre.append(a)
        post.append(b)

    def mark(m: Any) -> tuple[int, ...]:
        v = np.zeros(len(places), dtype=np.int64)
        for p, c in m.items():
            v[pidx[p]] = c
        return tuple(int(x) for x in v)

    m0 = mark(im)
    states = {m0: 0}
    queue = [m0]
    edges: list[tuple[int, int, int]] = []  # (src, dst, label index or -1)
    head = 0
    while head < len(queue):
        m = queue[head]
        head += 1
        mv = np.array(m, dtype=np.int64)
        for t, a, b in zip(trans, pre, post, strict=True):
            if np.all(mv >= a):
                m2 = tuple(int(x) for x in mv - a + b)
                if m2 not in states:
                    if len(states) >= MAX_STATES:
                        raise TooLarge
                    states[m2] = len(states)
                    queue.append(m2)
                edges.append((states[m], states[m2], lidx[t.label] if t.label is not None else -1))
    n = len(states)
    final = states.get(mark(fm), -1) if fm is not None else -1
    dist = np.full((n, n), INF, dtype=np.int64)
    np.fill_diagonal(dist, 0)
    step_lab = np.full((n, n), -2, dtype=np.int64)
    for s, d, lab in edges:
        c = TAU_COST if lab < 0 else MOVE_COST
        if s != d and c < dist[s, d]:
            dist[s, d] = c
            step_lab[s, d] = lab
    nxt = np.tile(np.arange(n, dtype=np.int64), (n, 1))
    for k in range(n):
        via = dist[:, k, None] + dist[None, k, :]
        better = via < dist
        if better.any():
            dist = np.where(better, via, dist)
            nxt = np.where(better, nxt[:, k, None], nxt)
    dist = np.minimum(dist, INF)
    vis = [(s, d, lab) for s, d, lab in edges if lab >= 0]
    return Automaton(
        labels=labels,
        n_states=n,
        init=0,
        final=final,
        edge_src=np.array([e[0] for e in vis], dtype=np.int64),
        edge_dst=np.array([e[1] for e in vis], dtype=np.int64),
        edge_lab=np.array([e[2] for e in vis], dtype=np.int64),
        dist=dist,
        nxt=nxt,
        step_lab=step_lab,
    )


class TooLarge(Exception):
    pass
