"""Which texts of a matplotlib figure overlap on the canvas (for the chart tests).

Every visible, non-empty text the figure draws (titles, axis labels, tick labels inside
the view, annotations, legend entries, figure texts) is taken as the rectangle the
renderer gives it, rotated as the text is; two texts overlap when these rectangles
intersect by more than half a pixel (separating-axis test).
"""

from __future__ import annotations

import itertools
import math

import numpy as np
from matplotlib.figure import Figure
from matplotlib.text import Text


def _ticklabels(ax) -> list[Text]:
    out = []
    for axis in (ax.xaxis, ax.yaxis):
        lo, hi = sorted(axis.get_view_interval())
        for tick in axis.get_major_ticks() + axis.get_minor_ticks():
            if lo - 1e-9 <= tick.get_loc() <= hi + 1e-9:
                out += [t for t in (tick.label1, tick.label2) if t.get_visible()]
    return out


def drawn_texts(fig: Figure) -> list[Text]:
    """The texts the figure shows."""
    texts: list[Text] = list(fig.texts)
    for leg in fig.legends:
        texts += list(leg.get_texts())
    for ax in fig.axes:
        if not ax.get_visible():
            continue
        texts += [ax.title, ax._left_title, ax._right_title, ax.xaxis.label, ax.yaxis.label]
        texts += list(ax.texts) + _ticklabels(ax)
        leg = ax.get_legend()
        if leg is not None:
            texts += list(leg.get_texts())
    return [t for t in texts if t.get_visible() and t.get_text().strip()]


def _corners(t: Text, renderer) -> np.ndarray:
    box = t.get_window_extent(renderer)
    angle = t.get_rotation() % 180
    if angle in (0, 90):
        return np.array([[box.x0, box.y0], [box.x1, box.y0], [box.x1, box.y1], [box.x0, box.y1]])
    t.set_rotation(0)
    flat = t.get_window_extent(renderer)
    t.set_rotation(angle)
    w, h = flat.width / 2, flat.height / 2
    th = math.radians(angle)
    rot = np.array([[math.cos(th), -math.sin(th)], [math.sin(th), math.cos(th)]])
    local = np.array([[-w, -h], [w, -h], [w, h], [-w, h]])
    centre = np.array([(box.x0 + box.x1) / 2, (box.y0 + box.y1) / 2])
    return local @ rot.T + centre


def _intersect(a: np.ndarray, b: np.ndarray, tol: float = 0.5) -> bool:
    for poly in (a, b):
        for i in range(4):
            edge = poly[(i + 1) % 4] - poly[i]
            normal = np.array([-edge[1], edge[0]])
            n = np.hypot(*normal)
            if n == 0:
                continue
            normal = normal / n
            pa, pb = a @ normal, b @ normal
            if pa.max() - tol <= pb.min() or pb.max() - tol <= pa.min():
                return False
    return True


def overlapping_texts(fig: Figure) -> list[tuple[str, str]]:
    """Pairs of texts of ``fig`` whose drawn rectangles intersect."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    texts = drawn_texts(fig)
    polys = [_corners(t, renderer) for t in texts]
    return [
        (texts[i].get_text(), texts[j].get_text())
        for i, j in itertools.combinations(range(len(texts)), 2)
        if _intersect(polys[i], polys[j])
    ]
