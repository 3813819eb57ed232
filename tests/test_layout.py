"""Tests for svcmining._layout (the built-in layered layout) on small hand-made graphs."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from svcmining import _layout
from svcmining._layout import LayoutEdge, layered_layout

E = LayoutEdge
REPO = Path(__file__).resolve().parents[1]


def _boxes_disjoint(lay: _layout.GraphLayout) -> bool:
    return not any(
        _layout.boxes_overlap(lay.box(a), lay.box(b))
        for a, b in itertools.combinations(lay.size, 2)
    )


def test_chain_layers_follow_process_order_top_to_bottom() -> None:
    """A chain start -> a -> b -> c -> end gets one layer per step, top to bottom, in a column."""
    nodes = ["s", "a", "b", "c", "t"]
    sizes = dict.fromkeys(nodes, (2.0, 1.0))
    edges = [E("s", "a"), E("a", "b"), E("b", "c"), E("c", "t")]
    lay = layered_layout(nodes, sizes, edges, layer_gap=1.0, node_gap=1.0, first="s", last="t")
    assert [lay.layer[n] for n in nodes] == [0, 1, 2, 3, 4]
    assert [lay.center[n] for n in nodes] == [(1.0, -2.0 * i) for i in range(5)]
    assert lay.kind == ["forward"] * 4
    assert lay.routes[0] == [(1.0, -0.5), (1.0, -1.5)]  # bottom border of s to top border of a
    assert lay.crossings == 0


def test_chain_left_to_right() -> None:
    """Left to right, layers advance along x by width + gap and the row keeps one y."""
    nodes = ["a", "b", "c"]
    sizes = {"a": (4.0, 1.0), "b": (2.0, 1.0), "c": (2.0, 1.0)}
    lay = layered_layout(nodes, sizes, [E("a", "b"), E("b", "c")], direction="LR", layer_gap=1.0)
    assert lay.center == {"a": (0.0, -0.5), "b": (4.0, -0.5), "c": (7.0, -0.5)}
    assert lay.routes[0] == [(2.0, -0.5), (3.0, -0.5)]


def test_diamond_centres_the_fork_and_the_join() -> None:
    """s -> a, b -> t: a and b share a layer side by side, s and t sit exactly between them."""
    nodes = ["s", "a", "b", "t"]
    sizes = dict.fromkeys(nodes, (2.0, 1.0))
    edges = [E("s", "a"), E("s", "b"), E("a", "t"), E("b", "t")]
    lay = layered_layout(nodes, sizes, edges, layer_gap=1.0, node_gap=1.0, first="s", last="t")
    assert lay.layer == {"s": 0, "a": 1, "b": 1, "t": 2}
    assert lay.rows == [["s"], ["a", "b"], ["t"]]
    assert lay.center == {"s": (2.5, 0.0), "a": (1.0, -2.0), "b": (4.0, -2.0), "t": (2.5, -4.0)}
    assert _boxes_disjoint(lay)


def test_loop_is_reversed_and_drawn_back_upwards() -> None:
    """A rework loop c -> b keeps b above c; the loop is a back edge running upwards."""
    nodes = ["s", "a", "b", "c", "t"]
    sizes = dict.fromkeys(nodes, (2.0, 1.0))
    edges = [E("s", "a", 10), E("a", "b", 10), E("b", "c", 10), E("c", "b", 3), E("c", "t", 10)]
    lay = layered_layout(nodes, sizes, edges, first="s", last="t")
    assert [lay.layer[n] for n in nodes] == [0, 1, 2, 3, 4]
    assert lay.kind[3] == "back"
    route = lay.routes[3]
    assert route[0][1] == lay.center["c"][1] + 0.5  # leaves c from its top
    assert route[-1][1] == lay.center["b"][1] - 0.5  # enters b from below
    # the two edges between b and c do not share a line
    assert lay.routes[2][0][0] != lay.routes[3][-1][0]


def test_heavy_flow_wins_the_cycle() -> None:
    """Of a two-way pair the heavier direction points forward, whatever the input order."""
    edges = [E("b", "a", 1), E("a", "b", 10)]
    assert _layout._linear_order(["b", "a"], edges, None, None) == ["a", "b"]
    assert _layout._back_edges(["b", "a"], edges, None) == {0}


def test_reopen_goes_after_the_close_it_follows() -> None:
    """A reopen entered mostly from close sits below close even when the weights tie.

    Drawn above, only close -> reopen (10) would point back; drawn below, reopen -> remote (6)
    and reopen -> onsite (4) do: a tie, which the rule "no step entered mostly against the
    flow" breaks (one ticket starts at reopen, which must not pull it to the top).
    """
    nodes = ["s", "reopen", "reg", "remote", "onsite", "close", "t"]
    sizes = dict.fromkeys(nodes, (2.0, 1.0))
    edges = [
        E("s", "reg", 100),
        E("reg", "remote", 60),
        E("reg", "onsite", 40),
        E("remote", "close", 66),
        E("onsite", "close", 44),
        E("close", "reopen", 10),
        E("reopen", "remote", 6),
        E("reopen", "onsite", 4),
        E("s", "reopen", 1),
        E("close", "t", 100),
        E("reopen", "t", 1),
    ]
    order = _layout._linear_order(nodes, edges, "s", "t")
    assert order.index("reopen") > order.index("close")
    lay = layered_layout(nodes, sizes, edges, first="s", last="t")
    assert lay.layer["reopen"] == lay.layer["close"] + 1
    assert [lay.kind[i] for i in (6, 7)] == ["back", "back"]


def test_source_slides_down_next_to_its_target() -> None:
    """A side entry x -> c sits one layer above c, not on the first layer (short edges)."""
    nodes = ["s", "a", "b", "c", "x", "t"]
    sizes = dict.fromkeys(nodes, (2.0, 1.0))
    edges = [E("s", "a"), E("a", "b"), E("b", "c"), E("x", "c"), E("c", "t")]
    lay = layered_layout(nodes, sizes, edges, first="s", last="t")
    assert lay.layer["x"] == lay.layer["b"] == 2
    assert lay.layer["t"] == 4


def test_long_edges_get_dummy_points_between_layers() -> None:
    """An edge over two layers runs through its dummy node straight along the middle layer."""
    nodes = ["s", "a", "b"]
    sizes = dict.fromkeys(nodes, (2.0, 1.0))
    lay = layered_layout(nodes, sizes, [E("s", "a"), E("a", "b"), E("s", "b")], layer_gap=1.0)
    assert len(lay.dummies) == 1
    route = lay.routes[2]
    assert len(route) == 4  # source border, the dummy's band (top, bottom), target border
    assert route[1][0] == route[2][0]
    assert (route[1][1], route[2][1]) == (-2.0 + 0.4, -2.0 - 0.4)  # a's layer is at y = -2
    assert abs(route[1][0] - lay.center["a"][0]) >= 1.0 + 0.6  # beside a, a gap away


def test_non_constraint_edges_do_not_shape_layers() -> None:
    """constraint=False edges (SOP extras) leave layers alone; a same-layer one is 'flat'."""
    nodes = ["s", "a", "b", "t"]
    sizes = dict.fromkeys(nodes, (2.0, 1.0))
    edges = [E("s", "a"), E("s", "b"), E("a", "t"), E("b", "t"), E("a", "b", constraint=False)]
    lay = layered_layout(nodes, sizes, edges, first="s", last="t")
    assert lay.layer == {"s": 0, "a": 1, "b": 1, "t": 2}
    assert lay.kind[4] == "flat"


def test_self_loop_is_a_small_loop_beside_the_node() -> None:
    """A self-loop starts and ends on the node's right border and keeps its room free."""
    nodes = ["a", "b"]
    sizes = dict.fromkeys(nodes, (2.0, 1.0))
    lay = layered_layout(
        nodes, sizes, [E("a", "a"), E("a", "b"), E("b", "b")], self_loop=1.0, node_gap=1.0
    )
    assert lay.kind[0] == "self"
    x, y = lay.center["a"]
    assert lay.routes[0][0] == (x + 1.0, y + 0.25)
    assert lay.routes[0][-1] == (x + 1.0, y - 0.25)
    assert max(p[0] for p in lay.routes[0]) == x + 1.0 + 0.8


def _brute_force_min(rows: list[list[str]], down: dict[str, list[str]]) -> int:
    return min(
        _layout.count_crossings([list(p) for p in perm], down)
        for perm in itertools.product(*(itertools.permutations(r) for r in rows))
    )


def test_crossings_reach_the_minimum_on_a_known_graph() -> None:
    """A graph whose input order has 9 crossings is drawn with the brute-force minimum (2)."""
    nodes = ["a", "b", "c", "x", "y", "z", "p", "q"]
    sizes = dict.fromkeys(nodes, (1.0, 1.0))
    edges = [
        E("a", "z"),
        E("a", "y"),
        E("b", "x"),
        E("b", "z"),
        E("c", "x"),
        E("c", "y"),
        E("x", "q"),
        E("y", "p"),
        E("z", "p"),
        E("z", "q"),
    ]
    lay = layered_layout(nodes, sizes, edges)
    assert lay.layer == {"a": 0, "b": 0, "c": 0, "x": 1, "y": 1, "z": 1, "p": 2, "q": 2}
    down: dict[str, list[str]] = {}
    for e in edges:
        down.setdefault(e.source, []).append(e.target)
    naive = [["a", "b", "c"], ["x", "y", "z"], ["p", "q"]]
    # naive: 7 between the first two layers, 2 below; at best a-z/c-y and c-x/b-z cross
    assert _layout.count_crossings(naive, down) == 9
    assert _layout.count_crossings([["a", "c", "b"], ["y", "z", "x"], ["p", "q"]], down) == 2
    assert _brute_force_min(naive, down) == 2
    assert lay.crossings == 2
    assert _layout.count_crossings(lay.rows, down) == 2


def test_pava_is_weighted_isotonic_regression() -> None:
    """Pool-adjacent-violators: exact pooled means, order kept."""
    np.testing.assert_allclose(_layout._pava(np.array([3.0, 1.0, 2.0]), np.ones(3)), [2, 2, 2])
    np.testing.assert_allclose(
        _layout._pava(np.array([1.0, 3.0, 2.0]), np.array([1.0, 1.0, 2.0])), [1, 7 / 3, 7 / 3]
    )
    np.testing.assert_allclose(_layout._pava(np.array([0.0, 5.0]), np.ones(2)), [0, 5])


def test_label_moves_along_its_edge_off_an_obstacle() -> None:
    """A label whose middle spot is covered moves along its own edge to the nearest free spot."""
    curve = np.column_stack([np.linspace(0, 10, 101), np.zeros(101)])
    (box,) = _layout.place_labels([curve], [(1.0, 0.5)], [(4.0, -1.0, 6.0, 1.0)], pad=0.0)
    assert box is not None
    assert not _layout.boxes_overlap(box, (4.0, -1.0, 6.0, 1.0))
    assert (box[1] + box[3]) / 2 == 0.0  # still on the edge
    # the nearest free spot in steps of 2 % of the edge: centre at 34 %, before the obstacle
    assert box == pytest.approx((2.9, -0.25, 3.9, 0.25))
    # a second label on the same edge avoids the first
    boxes = _layout.place_labels([curve, curve], [(1.0, 0.5), (1.0, 0.5)], [], pad=0.0)
    assert not _layout.boxes_overlap(boxes[0], boxes[1])  # type: ignore[arg-type]


def test_layout_is_deterministic_across_hash_seeds() -> None:
    """The same graph gives the same coordinates in fresh interpreters with other hash seeds."""
    code = (
        "from svcmining._layout import LayoutEdge as E, layered_layout as L\n"
        "n=['s','a','b','c','d','t']\n"
        "e=[E('s','a',5),E('a','b',3),E('a','c',2),E('b','d'),E('c','d'),E('d','a',1),"
        "E('d','t',5),E('b','t'),E('c','c')]\n"
        "l=L(n,{k:(2.0,1.0) for k in n},e,first='s',last='t')\n"
        "print(sorted(l.center.items()), l.routes, l.rows)\n"
    )
    outs = {
        subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(REPO)},
        ).stdout
        for seed in ("1", "2", "3")
    }
    assert len(outs) == 1


@pytest.mark.parametrize("direction", ["TB", "LR"])
def test_no_node_boxes_overlap_on_a_busy_graph(direction: _layout.Direction) -> None:
    """Every pair of the 12 steps of a dense, loopy graph is drawn apart, both directions."""
    nodes = [f"n{i}" for i in range(12)]
    sizes = {n: (1.0 + (i % 4), 1.0 + (i % 2)) for i, n in enumerate(nodes)}
    rng = np.random.default_rng(7)
    edges = [E(nodes[i], nodes[i + 1], 10) for i in range(11)]
    edges += [
        E(nodes[a], nodes[b], float(w))
        for a, b, w in zip(
            rng.integers(0, 12, 30).tolist(),
            rng.integers(0, 12, 30).tolist(),
            rng.integers(1, 9, 30).tolist(),
            strict=True,
        )
    ]
    lay = layered_layout(nodes, sizes, edges, direction=direction, first="n0", last="n11")
    assert _boxes_disjoint(lay)
    assert lay.layer["n0"] == 0
    assert lay.layer["n11"] == max(lay.layer.values())
    for e, r, k in zip(edges, lay.routes, lay.kind, strict=True):
        assert len(r) >= 2
        if k == "forward":  # forward edges advance layer by layer
            depth = [-p[1] for p in r] if direction == "TB" else [p[0] for p in r]
            assert depth == sorted(depth), (e, r)
