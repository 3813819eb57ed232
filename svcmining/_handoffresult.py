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

from ._chartwords import group_name
from ._i18n import LANGS, tr
from ._validation import check_choice, check_positive_int
from .exceptions import InvalidParameterError

if TYPE_CHECKING:
    import matplotlib.axes
    import matplotlib.figure


PlotKind = Literal["both", "heatmap", "map"]
HeatmapMetric = Literal["lost", "total", "p50", "count"]

ARROW = " → "
# the chart's words for the usual grouping columns: (en, zh)
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
        metric: HeatmapMetric = "lost",
        max_groups: int = 15,
        min_count: int = 5,
        lang: str = "en",
        ax: matplotlib.axes.Axes | None = None,
    ) -> matplotlib.figure.Figure:
        """Heatmap of from × to (coloured by ``metric``, with counts) and/or the department map.

        Parameters
        ----------
        kind : {'both', 'heatmap', 'map'}
            ``'both'`` (default) draws the heatmap and the map side by side in a new
            figure; ``'heatmap'`` / ``'map'`` draw one of them (on ``ax`` if given).
        metric : {'lost', 'total', 'p50', 'count'}
            What colours the heatmap cells: ``'lost'`` (default) the hours lost on the
            pair's handoffs (``hours_lost``, the ranking of :meth:`top`), ``'total'`` the
            handoff waiting hours (``delay_total_hours``), ``'p50'`` the median delay of
            one handoff, ``'count'`` the number of handoffs. The title
            and the colour bar name it; every cell prints its number of handoffs and,
            below it, the metric (in hours).
        max_groups : int
            Show the groups with the most handoffs only (default 15).
        min_count : int
            Cells with fewer handoffs than this (default 5) are not coloured by ``'lost'``,
            ``'total'`` or ``'p50'`` but hatched grey, as the figure's note says: a median
            or a sum of two waits is not the darkest cell by accident.
        lang : {'en', 'zh'}
            The language of the title, axis labels, colour bar and note.
        ax : matplotlib Axes, optional
            Where to draw a single view (not with ``kind='both'``).

        Returns
        -------
        matplotlib.figure.Figure
        """
        check_choice("HandoffResult.plot", "kind", kind, ("both", "heatmap", "map"))
        check_choice("HandoffResult.plot", "metric", metric, ("lost", "total", "p50", "count"))
        max_groups = check_positive_int("HandoffResult.plot", "max_groups", max_groups)
        min_count = check_positive_int("HandoffResult.plot", "min_count", min_count)
        check_choice("HandoffResult.plot", "lang", lang, LANGS)
        if kind == "both" and ax is not None:
            raise InvalidParameterError(
                "HandoffResult.plot draws two views for kind='both'; pass ax= only with "
                "kind='heatmap' or kind='map'."
            )
        import matplotlib.pyplot as plt

        from ._fonts import use_cjk_font

        use_cjk_font()
        groups = self._top_groups(max_groups)
        k = len(groups)
        heat_w, heat_h = max(7.5, 3.5 + 0.62 * k), max(6.5, 3.0 + 0.5 * k)
        if kind == "both":
            fig, (ax1, ax2) = plt.subplots(
                1, 2, figsize=(heat_w + 7.0, heat_h), width_ratios=(heat_w, 7.0)
            )
            self._draw_heatmap(ax1, groups, metric, min_count, lang)
            self._draw_map(ax2, groups, lang)
            fig.tight_layout()
            return fig
        if ax is None:
            _, ax = plt.subplots(figsize=(heat_w, heat_h) if kind == "heatmap" else (8, 6.5))
        if kind == "heatmap":
            self._draw_heatmap(ax, groups, metric, min_count, lang)
        else:
            self._draw_map(ax, groups, lang)
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

    def _unit(self, lang: str = "en") -> str:
        if self.business_hours:
            return tr(lang, en="business hours", zh="工作小时")
        return tr(lang, en="hours", zh="小时")

    def _draw_heatmap(
        self,
        ax: matplotlib.axes.Axes,
        groups: list[str],
        metric: str,
        min_count: int = 5,
        lang: str = "en",
    ) -> None:
        from matplotlib.patches import Rectangle
        from matplotlib.ticker import FuncFormatter

        m = self.matrix
        if not groups:
            _empty_axes(ax, tr(lang, en="no handoffs found", zh="没有发现交接"))
            return
        sub = m[m["from_group"].isin(groups) & m["to_group"].isin(groups)]
        col = {
            "p50": "delay_p50_hours",
            "count": "count",
            "total": "delay_total_hours",
            "lost": "hours_lost",
        }[metric]
        pos = {g: i for i, g in enumerate(groups)}
        k = len(groups)
        val = np.full((k, k), np.nan)
        cnt = np.zeros((k, k), dtype=np.int64)
        r = sub["from_group"].map(pos).to_numpy(dtype=np.int64)
        c = sub["to_group"].map(pos).to_numpy(dtype=np.int64)
        val[r, c] = sub[col].to_numpy(dtype=float)
        cnt[r, c] = sub["count"].to_numpy(dtype=np.int64)
        # too few handoffs for a median or a sum to mean much: hatched, not coloured
        few = (cnt < min_count) & (cnt > 0) if metric != "count" else np.zeros((k, k), bool)
        shown = np.where(few, np.nan, val)
        finite = shown[np.isfinite(shown)]
        hi = float(finite.max()) if finite.size else 0.0
        im = ax.imshow(
            np.ma.masked_invalid(shown), cmap="OrRd", aspect="auto", vmin=0.0, vmax=hi or 1.0
        )
        unit = self._unit(lang)
        what = {
            "p50": tr(lang, en="median wait per handoff", zh="每次交接的等待中位数"),
            "count": tr(lang, en="number of handoffs", zh="交接次数"),
            "total": tr(lang, en="handoff waiting hours", zh="交接等待工时"),
            "lost": tr(lang, en="hours lost on handoffs", zh="交接损失工时"),
        }[metric]
        cbar_label = what if metric == "count" else f"{what} ({unit})"
        cbar = ax.figure.colorbar(
            im, ax=ax, shrink=0.8, format=FuncFormatter(lambda x, _: _fmt_num(x))
        )
        cbar.set_label(cbar_label, fontsize=9)
        cbar.ax.tick_params(labelsize=8)
        for i, j in zip(*np.nonzero(few), strict=True):
            ax.add_patch(
                Rectangle(
                    (j - 0.5, i - 0.5),
                    1.0,
                    1.0,
                    facecolor="#f0f0f0",
                    edgecolor="#b0b0b0",
                    hatch="///",
                    linewidth=0.0,
                    zorder=1,
                )
            )
        size = max(6.0, min(9.0, 100.0 / k))
        for i, j in zip(*np.nonzero((cnt > 0) | np.isfinite(val)), strict=True):
            dark = bool(
                not few[i, j] and np.isfinite(val[i, j]) and hi > 0 and val[i, j] > 0.6 * hi
            )
            txt = f"{cnt[i, j]:,}"
            if metric != "count":
                txt += "\n" + ("—" if np.isnan(val[i, j]) else _fmt_num(val[i, j]))
            ax.text(
                j,
                i,
                txt,
                ha="center",
                va="center",
                fontsize=size,
                color="white" if dark else ("#555555" if few[i, j] else "black"),
                zorder=2,
            )
        tick = 9.0 if k <= 10 else 8.0
        ax.set_xticks(range(k), groups, rotation=45, ha="right", rotation_mode="anchor")
        ax.set_yticks(range(k), groups)
        ax.tick_params(labelsize=tick)
        by = group_name(lang, self.by)
        ax.set_xlabel(tr(lang, en="to {by} (receiver)", zh="接收{by}", by=by))
        ax.set_ylabel(tr(lang, en="from {by} (giver)", zh="移交{by}", by=by))
        n_all = len(set(m["from_group"]) | set(m["to_group"]))
        more = (
            tr(lang, en=" (top {k} of {n})", zh="（前 {k} 个，共 {n} 个）", k=k, n=n_all)
            if n_all > k
            else ""
        )
        numbers = (
            tr(lang, en="numbers: handoffs", zh="数字：交接次数")
            if metric == "count"
            else tr(
                lang,
                en="numbers: handoffs, then {what} ({unit})",
                zh="数字：交接次数，下方为{what}（{unit}）",
                what=what,
                unit=unit,
            )
        )
        title = tr(lang, en="Handoffs: colour = {what}", zh="交接热力图：颜色 = {what}", what=what)
        note = numbers
        if few.any():
            note += tr(
                lang,
                en="\nhatched grey: fewer than {n} handoffs, not coloured",
                zh="\n灰色斜线：少于 {n} 次交接，不着色",
                n=min_count,
            )
        ax.set_title(f"{title}{more}\n{note}", fontsize=9.5, y=1.0)

    def _draw_map(self, ax: matplotlib.axes.Axes, groups: list[str], lang: str = "en") -> None:
        from matplotlib.patches import FancyArrowPatch

        m = self.matrix
        if not groups:
            _empty_axes(ax, tr(lang, en="no handoffs found", zh="没有发现交接"))
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
        by = group_name(lang, self.by)
        ax.set_title(
            tr(
                lang,
                en="{by} map: handoffs (count · median delay, {unit})",
                zh="{by}交接图：交接次数 · 等待中位数（{unit}）",
                by=by,
                unit=self._unit(lang),
            ),
            y=1.0,
        )


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


def _fmt_num(h: float) -> str:
    """Hours as a short number: 1,234 / 56 / 7.8 / 8 / 0.25."""
    if h == 0:
        return "0"
    if h >= 100:
        return f"{h:,.0f}"
    if h >= 10:
        return f"{h:.0f}"
    text = f"{h:.1f}" if h >= 1 else f"{h:.2f}"
    return text.rstrip("0").rstrip(".")  # 8, not 8.0


def _fmt_h(h: float) -> str:
    if h >= 48:
        return f"{h / 24:.1f}d"
    if h >= 10:
        return f"{h:.0f}h"
    if h >= 1:
        return f"{h:.1f}h"
    return f"{h * 60:.0f}min"
