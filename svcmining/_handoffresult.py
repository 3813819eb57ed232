"""The result of :func:`svcmining.handoffs.handoff_delays`: :class:`HandoffResult`, its
tables and its drawings (a heatmap of the group pairs and a map of the groups).

The rules are in the docstring of :mod:`svcmining.handoffs`, which holds the public functions.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd

from ._validation import check_choice, check_positive_int
from .exceptions import InvalidParameterError

if TYPE_CHECKING:
    import matplotlib.axes
    import matplotlib.figure


PlotKind = Literal["both", "heatmap", "map"]
HeatmapMetric = Literal["p50", "count", "total"]

ARROW = " → "
_HANDOFF_COLUMNS = [
    "case_id",
    "from_group",
    "to_group",
    "left_at",
    "picked_up_at",
    "delay_hours",
    "from_activity",
    "to_activity",
    "pending",
    "ping_pong",
    "target_hours",
    "hours_lost",
]
MATRIX_COLUMNS = [
    "from_group",
    "to_group",
    "count",
    "cases",
    "pending",
    "delay_mean_hours",
    "delay_p50_hours",
    "delay_p90_hours",
    "delay_total_hours",
    "hours_lost",
    "ping_pong",
]


@dataclass(frozen=True, eq=False)
class HandoffResult:
    """What :func:`handoff_delays` found (see :mod:`svcmining.handoffs` for definitions).

    Attributes
    ----------
    handoffs : pandas.DataFrame
        One row per handoff, in log order: ``case_id``, ``from_group``, ``to_group``,
        ``left_at``, ``picked_up_at`` (NaT while pending), ``delay_hours``,
        ``from_activity``, ``to_activity``, ``pending`` (waiting at the cutoff),
        ``ping_pong`` (the receiver came back to redo its own work), ``target_hours``
        (what the handoff should take: the ``benchmark``, else the median delay of the
        other groups' handoffs into the same step) and ``hours_lost`` (the delay beyond
        the target, 0 when within it; a pending row: the wait so far beyond it).
        *Hours lost* mean the same in every svcmining analysis (see
        :mod:`svcmining.handoffs`).
    matrix : pandas.DataFrame
        One row per (from_group, to_group) pair: ``count`` (handoffs seen), ``cases``,
        ``pending``, ``delay_mean_hours``, ``delay_p50_hours``, ``delay_p90_hours``
        (without pending waits unless ``include_pending``), ``delay_total_hours`` (the
        pair's *handoff waiting hours*: all its delays, pending waits included),
        ``hours_lost`` (the sum of its handoffs' ``hours_lost``: what
        :func:`svcmining.pain_points` shows for the pair), ``ping_pong``.
    cases : pandas.DataFrame
        One row per ticket: ``case_id``, ``n_handoffs``, ``handoff_hours`` (handoff
        waiting hours, incl. a pending wait), ``cycle_hours``, ``handoff_share``,
        ``ping_pong``, ``open_at_cutoff``, ``waiting_hours`` (the pending wait so far, 0
        if none), ``hours_lost`` (the ticket's handoff hours lost).
    summary : pandas.DataFrame
        Key figures as ``metric``, ``value``, ``unit``, ``detail`` rows: tickets,
        handoffs, the handoff waiting hours (``handoff_hours``) and their share of all
        ticket time, the hours lost (``hours_lost``) and the worst pairs by hours lost
        (``metric == 'worst_pair'``).
    by : str
        The column whose changes are handoffs.
    business_hours : bool
        Whether hours are business hours (a calendar was given).
    notes : tuple of str
        What was skipped or adjusted (missing groups, overlapping handoffs, ...).
    """

    handoffs: pd.DataFrame
    matrix: pd.DataFrame
    cases: pd.DataFrame
    summary: pd.DataFrame
    by: str = "department"
    business_hours: bool = False
    notes: tuple[str, ...] = ()

    def to_frame(self) -> pd.DataFrame:
        """The handoff table (one row per handoff)."""
        return self.handoffs.copy()

    def top(self, n: int = 10) -> pd.DataFrame:
        """The ``n`` pairs with most hours lost (``hours_lost``), worst first.

        Ties by handoff waiting hours (``delay_total_hours``). Adds ``pair``
        ("销售部 → 售后部"), ``share_of_lost`` (of all handoff hours lost) and
        ``share_of_hours`` (of all handoff waiting hours).
        """
        n = check_positive_int("HandoffResult.top", "n", n)
        m = self.matrix
        total = float(m["delay_total_hours"].sum())
        total_lost = float(m["hours_lost"].sum())
        out = m.sort_values(
            ["hours_lost", "delay_total_hours", "count", "from_group", "to_group"],
            ascending=[False, False, False, True, True],
            kind="stable",
        ).head(n)
        out = out.assign(
            pair=(out["from_group"] + ARROW + out["to_group"]).astype("str"),
            share_of_lost=out["hours_lost"] / total_lost if total_lost > 0 else np.nan,
            share_of_hours=out["delay_total_hours"] / total if total > 0 else np.nan,
        )
        return out.reset_index(drop=True)

    def __repr__(self) -> str:
        s = self.summary.set_index("metric")["value"]
        unit = "business hours" if self.business_hours else "hours"
        share = s.get("handoff_share", np.nan)
        share_txt = "n/a" if pd.isna(share) else f"{share:.1%}"
        return (
            f"HandoffResult(by={self.by!r}: {int(s.get('handoffs', 0)):,} handoffs in "
            f"{int(s.get('cases', 0)):,} tickets, {int(s.get('pending_handoffs', 0)):,} pending; "
            f"{share_txt} of ticket time waiting on handoffs, in {unit})"
        )

    def _repr_html_(self) -> str:
        head = html.escape(repr(self))
        notes = "".join(f"<li>{html.escape(n)}</li>" for n in self.notes)
        return (
            f"<p><b>{head}</b></p>"
            + (f"<ul>{notes}</ul>" if notes else "")
            + "<p>Worst pairs (hours lost)</p>"
            + self.top(10).to_html(escape=True, index=False)
            + "<p>Summary</p>"
            + self.summary.to_html(escape=True, index=False)
        )

    # ------------------------------------------------------------------ plots
    def plot(
        self,
        *,
        kind: PlotKind = "both",
        metric: HeatmapMetric = "p50",
        max_groups: int = 15,
        ax: matplotlib.axes.Axes | None = None,
    ) -> matplotlib.figure.Figure:
        """Heatmap of from × to (count and p50 delay) and/or the department map.

        Parameters
        ----------
        kind : {'both', 'heatmap', 'map'}
            ``'both'`` (default) draws the heatmap and the map side by side in a new
            figure; ``'heatmap'`` / ``'map'`` draw one of them (on ``ax`` if given).
        metric : {'p50', 'count', 'total'}
            What colours the heatmap cells (p50 delay, handoff count or total hours
            lost); every cell is annotated with its count and p50 delay.
        max_groups : int
            Show the groups with the most handoffs only (default 15).
        ax : matplotlib Axes, optional
            Where to draw a single view (not with ``kind='both'``).

        Returns
        -------
        matplotlib.figure.Figure
        """
        check_choice("HandoffResult.plot", "kind", kind, ("both", "heatmap", "map"))
        check_choice("HandoffResult.plot", "metric", metric, ("p50", "count", "total"))
        max_groups = check_positive_int("HandoffResult.plot", "max_groups", max_groups)
        if kind == "both" and ax is not None:
            raise InvalidParameterError(
                "HandoffResult.plot draws two views for kind='both'; pass ax= only with "
                "kind='heatmap' or kind='map'."
            )
        import matplotlib.pyplot as plt

        from ._fonts import use_cjk_font

        use_cjk_font()
        groups = self._top_groups(max_groups)
        if kind == "both":
            fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(15, 6.5))
            self._draw_heatmap(ax1, groups, metric)
            self._draw_map(ax2, groups)
            fig.tight_layout()
            return fig
        if ax is None:
            _, ax = plt.subplots(figsize=(8, 6.5))
        if kind == "heatmap":
            self._draw_heatmap(ax, groups, metric)
        else:
            self._draw_map(ax, groups)
        return ax.figure  # type: ignore[return-value]

    def _top_groups(self, max_groups: int) -> list[str]:
        m = self.matrix
        if m.empty:
            return []
        vol = pd.concat(
            [
                m.groupby("from_group")["count"].sum(),
                m.groupby("to_group")["count"].sum(),
            ]
        )
        vol = vol.groupby(level=0).sum()
        order = sorted(vol.index, key=lambda g: (-vol[g], str(g)))
        return [str(g) for g in order[:max_groups]]

    def _unit(self) -> str:
        return "business h" if self.business_hours else "h"

    def _draw_heatmap(self, ax: matplotlib.axes.Axes, groups: list[str], metric: str) -> None:
        m = self.matrix
        if not groups:
            _empty_axes(ax, "no handoffs found")
            return
        sub = m[m["from_group"].isin(groups) & m["to_group"].isin(groups)]
        col = {"p50": "delay_p50_hours", "count": "count", "total": "delay_total_hours"}[metric]
        pos = {g: i for i, g in enumerate(groups)}
        k = len(groups)
        val = np.full((k, k), np.nan)
        cnt = np.zeros((k, k), dtype=np.int64)
        p50 = np.full((k, k), np.nan)
        r = sub["from_group"].map(pos).to_numpy(dtype=np.int64)
        c = sub["to_group"].map(pos).to_numpy(dtype=np.int64)
        val[r, c] = sub[col].to_numpy(dtype=float)
        cnt[r, c] = sub["count"].to_numpy(dtype=np.int64)
        p50[r, c] = sub["delay_p50_hours"].to_numpy(dtype=float)
        im = ax.imshow(np.ma.masked_invalid(val), cmap="OrRd", aspect="auto")
        cbar_label = {
            "p50": f"median delay ({self._unit()})",
            "count": "handoffs",
            "total": f"hours lost ({self._unit()})",
        }[metric]
        ax.figure.colorbar(im, ax=ax, label=cbar_label, shrink=0.8)
        finite = val[np.isfinite(val)]
        hi = float(finite.max()) if finite.size else 0.0
        size = max(5.0, min(9.0, 90.0 / k))
        for i, j in zip(*np.nonzero((cnt > 0) | np.isfinite(val)), strict=True):
            dark = np.isfinite(val[i, j]) and hi > 0 and val[i, j] > 0.6 * hi
            txt = f"{cnt[i, j]:,}\n" + ("—" if np.isnan(p50[i, j]) else _fmt_h(p50[i, j]))
            ax.text(
                j,
                i,
                txt,
                ha="center",
                va="center",
                fontsize=size,
                color="white" if dark else "black",
            )
        ax.set_xticks(range(k), groups, rotation=45, ha="right")
        ax.set_yticks(range(k), groups)
        ax.set_xlabel(f"to {self.by} (receiver)")
        ax.set_ylabel(f"from {self.by} (giver)")
        n_all = len(set(m["from_group"]) | set(m["to_group"]))
        more = f" (top {k} of {n_all})" if n_all > k else ""
        ax.set_title(f"Handoffs: count and median delay{more}", y=1.0)

    def _draw_map(self, ax: matplotlib.axes.Axes, groups: list[str]) -> None:
        from matplotlib.patches import FancyArrowPatch

        m = self.matrix
        if not groups:
            _empty_axes(ax, "no handoffs found")
            return
        sub = m[
            m["from_group"].isin(groups)
            & m["to_group"].isin(groups)
            & ((m["count"] > 0) | (m["pending"] > 0))
        ]
        sub = sub.sort_values(["count", "from_group", "to_group"], ascending=[False, True, True])
        sub = sub.head(40)
        k = len(groups)
        angle = np.pi / 2 - 2 * np.pi * np.arange(k) / max(k, 1)
        xy = {g: (float(np.cos(a)), float(np.sin(a))) for g, a in zip(groups, angle, strict=True)}
        cmax = float(sub["count"].max()) if len(sub) else 1.0
        p = sub["delay_p50_hours"].to_numpy(dtype=float)
        pmax = float(np.nanmax(p)) if np.isfinite(p).any() else 1.0
        import matplotlib.pyplot as plt

        cmap = plt.get_cmap("OrRd")
        placed: list[tuple[float, float]] = []  # edge labels drawn so far
        for rank, row in enumerate(sub.itertuples(index=False)):  # at most 40 edges
            a, b = xy[row.from_group], xy[row.to_group]
            width = 0.8 + 5.0 * float(row.count) / max(cmax, 1.0)
            d = float(row.delay_p50_hours)
            color = cmap(0.3 + 0.7 * (d / pmax if pmax > 0 and np.isfinite(d) else 0.0))
            arrow = FancyArrowPatch(
                a,
                b,
                connectionstyle="arc3,rad=0.18",
                arrowstyle="-|>",
                mutation_scale=12 + width * 2,
                linewidth=width,
                color=color,
                shrinkA=22,
                shrinkB=22,
                alpha=0.9,
                zorder=1,
            )
            ax.add_patch(arrow)
            if rank >= 12:  # label the busiest edges only
                continue
            lx, ly = _label_spot(a, b, placed)
            label = f"{int(row.count):,} · " + ("—" if not np.isfinite(d) else _fmt_h(d))
            ax.text(
                lx,
                ly,
                label,
                fontsize=7,
                ha="center",
                va="center",
                color="#333333",
                zorder=3,
                bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.8},
            )
        for g, (x, y) in xy.items():
            ax.text(
                x,
                y,
                g,
                ha="center",
                va="center",
                fontsize=9,
                zorder=4,
                bbox={"boxstyle": "round,pad=0.4", "fc": "#eef3fb", "ec": "#4a6fa5"},
            )
        ax.set_xlim(-1.35, 1.35)
        ax.set_ylim(-1.35, 1.35)
        ax.set_aspect("equal")
        ax.set_axis_off()
        ax.set_title(f"{self.by} map: handoffs (count · median delay, {self._unit()})", y=1.0)


# An edge label's box on the map, in data units (7-point text, axes about 2.7 units wide).
_LABEL_W, _LABEL_H = 0.30, 0.08


def _label_spot(
    a: tuple[float, float], b: tuple[float, float], placed: list[tuple[float, float]]
) -> tuple[float, float]:
    """Where to put the label of the arc a → b: its apex, or further along it if taken.

    The arc is matplotlib's ``arc3,rad=0.18`` (a quadratic Bezier through the control
    point ``mid + 0.18 * (dy, -dx)``). Places along the arc are tried from the apex
    outwards; the first whose box misses every label in ``placed`` is taken (the apex
    when all collide) and appended to ``placed``.
    """
    ax_, ay_ = a
    bx, by = b
    cx = (ax_ + bx) / 2 + 0.18 * (by - ay_)
    cy = (ay_ + by) / 2 - 0.18 * (bx - ax_)
    spots = []
    for t in (0.5, 0.38, 0.62, 0.28, 0.72):  # apex first, then outwards
        u = 1 - t
        spots.append(
            (u * u * ax_ + 2 * u * t * cx + t * t * bx, u * u * ay_ + 2 * u * t * cy + t * t * by)
        )
    spot = next(
        (
            (x, y)
            for x, y in spots
            if all(abs(x - px) >= _LABEL_W or abs(y - py) >= _LABEL_H for px, py in placed)
        ),
        spots[0],
    )
    placed.append(spot)
    return spot


def _empty_axes(ax: matplotlib.axes.Axes, text: str) -> None:
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes)
    ax.set_axis_off()


def _fmt_h(h: float) -> str:
    if h >= 48:
        return f"{h / 24:.1f}d"
    if h >= 10:
        return f"{h:.0f}h"
    if h >= 1:
        return f"{h:.1f}h"
    return f"{h * 60:.0f}min"
