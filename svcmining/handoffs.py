"""Handoff delays: the "silent cost" of passing tickets between departments.

:func:`handoff_delays` finds every handoff of every ticket, measures how long the
ticket waited in between, and aggregates the delays per pair of groups (departments
by default; any column works: ``resource``, a team, ``channel``), per ticket and
overall.

Definitions
-----------
handoff
    Between two consecutive events of a ticket whose ``by`` value differs. Events
    whose ``by`` value is missing are skipped (the events on either side of them are
    then consecutive); how many were skipped is in the result's ``notes``.
delay
    From the giving group's last event (its completion ``timestamp``) to the
    receiving group's first event: its ``start_timestamp`` with lifecycle data, else
    its ``timestamp``. In elapsed hours, or in business hours under a
    :class:`~svcmining.calendars.Calendar`. A receiver that started before the giver
    completed (overlapping lifecycle data) has delay 0; those handoffs are counted in
    the notes.
open tickets (right-censoring)
    A ticket is *closed* as every svcmining analysis judges it
    (:mod:`svcmining.states`: a closed event -- activity or ``lifecycle`` status, e.g.
    BPIC 2013's Completed / Closed -- and nothing reopened it since its last closing);
    otherwise it is *open at the cutoff* (``cutoff``: default the last event of
    the log). An open ticket whose last step is normally followed by another group is
    *waiting on a handoff*: it gets one **pending** handoff row from that group to the
    group that most often comes next after the same (group, activity) in the log (a
    closed ticket's end counts as an outcome too, so a step that usually ends a ticket
    gives no pending row). Its ``picked_up_at`` is empty and its ``delay_hours`` is the
    wait so far (to the cutoff): a lower bound. Pending rows count in the hours lost
    (``handoff_hours``, ``delay_total_hours``) but not in ``count`` and, by default, not
    in the delay mean/median/p90 (``include_pending=True`` puts them in).
ping-pong
    A handoff whose receiving group takes the ticket back to redo an activity it
    already did, after 1 (direct A→B→A) to ``window`` (indirect A→B→C→A) other groups
    in between (the shared rule of :func:`svcmining._pingpong.ping_pong_returns`), that
    :func:`svcmining.find_rework` types as ``ping_pong``: a return inside a reopen
    cycle (after 结单) is rework of kind ``reopen``, and a return right after an event
    of the same activity is a ``self_loop`` -- neither is a ping-pong. A ticket is
    ``ping_pong`` when one of its handoffs is. (``find_rework`` with an SOP judges the
    work after the last close by SOP stages; here the stages are always the
    activities' median positions, as ``find_rework`` does without an SOP.)
cycle time and share
    A ticket's ``cycle_hours`` run from its first event (start) to its last event, or
    to the cutoff while it is open. Handoff waits of a ticket never overlap, so
    ``handoff_hours <= cycle_hours``; ``handoff_share`` is their ratio.

Worked example (elapsed hours)::

    ticket 1: 08 Oct 09:00 投诉登记 客服中心
              08 Oct 09:10 分类派单 客服中心
              08 Oct 11:10 销售核实 销售部      handoff 客服中心→销售部, 2.0 h
              09 Oct 11:10 售后评估 售后部      handoff 销售部→售后部, 24.0 h
              09 Oct 15:10 远程排障 技术支持部  handoff 售后部→技术支持部, 4.0 h
              (no 结单: open at the cutoff 09 Oct 18:10; when 远程排障 is usually followed
              by 客服中心 in the log, a pending 技术支持部→客服中心 handoff waits 3.0 h)
    n_handoffs 3, handoff_hours 33.0 (2 + 24 + 4 + 3 pending),
    cycle_hours 33.17 (08 Oct 09:00 → cutoff), handoff_share 0.995
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from ._groupstats import group_stats
from ._pingpong import returns_from_codes
from ._time import cutoff as cutoff_of
from ._validation import check_choice, check_positive_int
from .core import run
from .eventlog import (
    LogLike,
    TicketLog,
    as_ticket_log,
    has_start_times,
    time_i8,
)
from .exceptions import InvalidParameterError, SchemaError
from .states import (
    WAITING,
    WORKING,
    ActivityStages,
    StagesAnalysis,
    TicketStates,
    as_states,
    judge_log,
)

if TYPE_CHECKING:
    import matplotlib.axes
    import matplotlib.figure

    from .calendars import Calendar

__all__ = [
    "HandoffAnalysis",
    "HandoffContext",
    "HandoffContextAnalysis",
    "HandoffContextPart",
    "HandoffPart",
    "HandoffResult",
    "check_by",
    "handoff_analysis",
    "handoff_delays",
]

PlotKind = Literal["both", "heatmap", "map"]
HeatmapMetric = Literal["p50", "count", "total"]

_ARROW = " → "
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
]
_MATRIX_COLUMNS = [
    "from_group",
    "to_group",
    "count",
    "cases",
    "pending",
    "delay_mean_hours",
    "delay_p50_hours",
    "delay_p90_hours",
    "delay_total_hours",
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
        ``ping_pong`` (the receiver came back to redo its own work).
    matrix : pandas.DataFrame
        One row per (from_group, to_group) pair: ``count`` (handoffs seen), ``cases``,
        ``pending``, ``delay_mean_hours``, ``delay_p50_hours``, ``delay_p90_hours``
        (without pending waits unless ``include_pending``), ``delay_total_hours`` (all
        hours lost, pending waits included), ``ping_pong``.
    cases : pandas.DataFrame
        One row per ticket: ``case_id``, ``n_handoffs``, ``handoff_hours`` (incl. a
        pending wait), ``cycle_hours``, ``handoff_share``, ``ping_pong``,
        ``open_at_cutoff``, ``waiting_hours`` (the pending wait so far, 0 if none).
    summary : pandas.DataFrame
        Key figures as ``metric``, ``value``, ``unit``, ``detail`` rows: tickets,
        handoffs, the share of all ticket time spent waiting on handoffs, and the
        worst pairs by hours lost (``metric == 'worst_pair'``).
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
        """The ``n`` pairs that cost most hours (``delay_total_hours``), worst first.

        Adds ``pair`` ("销售部 → 售后部") and ``share_of_hours`` (of all handoff hours).
        """
        n = check_positive_int("HandoffResult.top", "n", n)
        m = self.matrix
        total = float(m["delay_total_hours"].sum())
        out = m.sort_values(
            ["delay_total_hours", "count", "from_group", "to_group"],
            ascending=[False, False, True, True],
            kind="stable",
        ).head(n)
        out = out.assign(
            pair=(out["from_group"] + _ARROW + out["to_group"]).astype("str"),
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


# --------------------------------------------------------------------------- core


def _i8_hours(start: np.ndarray, end: np.ndarray, unit: str = "ns") -> np.ndarray:
    out = (end - start) / _UNIT_PER_HOUR[unit]
    bad = (start == _NAT) | (end == _NAT)
    return np.where(bad, np.nan, out)


def handoff_delays(
    log: LogLike,
    *,
    by: str = "department",
    calendar: Calendar | None = None,
    include_pending: bool = False,
    cutoff: Any = None,
    close_activities: str | list[str] | tuple[str, ...] | None = None,
    window: int = 3,
    states: TicketStates | None = None,
    sop: Any = None,
) -> HandoffResult:
    """Measure the delay of every handoff between groups, per pair, ticket and overall.

    Definitions (handoff, delay, pending handoffs of open tickets, ping-pong, share of
    cycle time) are in the :mod:`svcmining.handoffs` module docstring, with a worked
    example.

    Parameters
    ----------
    log : TicketLog or pandas.DataFrame
        The event log (canonical columns) with the ``by`` column.
    by : str
        Column whose changes are handoffs: ``"department"`` (default), ``"resource"``,
        a team or any other column.
    calendar : Calendar, optional
        Business hours for the delays and cycle times (elapsed hours when ``None``).
    include_pending : bool
        Put the waits so far of pending handoffs (open tickets) into the delay mean,
        median and p90 of their pair. Default ``False``: those figures are computed
        from completed handoffs only, the pending ones are counted apart.
    cutoff : timestamp, optional
        The export's cutoff (naive times are in the log's time zone); default the last
        event of the log.
    close_activities : str or list of str, optional
        Labels that end a ticket (replace the closed and resolved labels of
        :class:`svcmining.states.TicketStates`).
    window : int
        Most groups between the two visits of a ping-pong return (default 3).
    states : TicketStates, optional
        The ticket-state model (default: the SOP's, else the defaults).
    sop : SOP, optional
        Adds its close steps' labels to the closed labels and gives the stages.

    Returns
    -------
    HandoffResult
        ``handoffs``, ``matrix``, ``cases``, ``summary``; ``plot()`` and ``top(n)``.

    Examples
    --------
    >>> import pandas as pd
    >>> from svcmining.handoffs import handoff_delays
    >>> ev = pd.DataFrame({
    ...     "case_id": ["1", "1", "1", "1"],
    ...     "activity": ["分类派单", "销售核实", "售后评估", "结单"],
    ...     "timestamp": pd.to_datetime(["2024-10-08 09:00", "2024-10-08 11:00",
    ...                                  "2024-10-09 11:00", "2024-10-09 12:00"]
    ...                                 ).tz_localize("Asia/Shanghai"),
    ...     "department": ["客服中心", "销售部", "售后部", "客服中心"]})
    >>> ho = handoff_delays(ev)
    >>> ho.handoffs[["from_group", "to_group", "delay_hours"]].values.tolist()
    [['客服中心', '销售部', 2.0], ['销售部', '售后部', 24.0], ['售后部', '客服中心', 1.0]]
    >>> ho.cases[["n_handoffs", "handoff_hours", "cycle_hours"]].to_dict("records")
    [{'n_handoffs': 3, 'handoff_hours': 27.0, 'cycle_hours': 27.0}]
    """
    check_by(by)
    tlog = as_ticket_log(log, required=(by,))
    analysis = handoff_analysis(
        tlog.events.columns,
        by=by,
        calendar=calendar,
        include_pending=include_pending,
        cutoff=cutoff,
        close_activities=close_activities,
        window=window,
        states=states,
        sop=sop,
    )
    return run(analysis, [tlog])


def check_by(by: Any) -> str:
    """``by`` if it can name a column of groups, else :class:`InvalidParameterError`."""
    if not isinstance(by, str) or by in ("case_id", "timestamp", "start_timestamp"):
        raise InvalidParameterError(
            "The 'by' parameter of handoff_delays must name a column of groups such as "
            f"'department', 'resource' or 'channel'. Got {by!r} instead."
        )
    return by


def handoff_analysis(
    columns: Sequence[str] | pd.Index,
    *,
    by: str = "department",
    calendar: Calendar | None = None,
    include_pending: bool = False,
    cutoff: Any = None,
    close_activities: str | list[str] | tuple[str, ...] | None = None,
    window: int = 3,
    states: TicketStates | None = None,
    sop: Any = None,
) -> HandoffAnalysis:
    """The :class:`HandoffAnalysis` of :func:`handoff_delays`' options (checked) for a log
    with ``columns`` (the pandas and the Dask functions build it alike)."""
    check_by(by)
    if by not in pd.Index(columns):
        raise SchemaError(
            f"The event log has no column {by!r} to find handoffs by (found: "
            f"{', '.join(map(str, list(columns)[:20]))}). Map it when loading or pass by=."
        )
    if not isinstance(include_pending, bool):
        raise InvalidParameterError(
            "The 'include_pending' parameter of handoff_delays must be True or False. "
            f"Got {include_pending!r} instead."
        )
    window = check_positive_int("handoff_delays", "window", window)
    if calendar is not None:
        from .calendars import Calendar as _Cal

        if not isinstance(calendar, _Cal):
            raise InvalidParameterError(
                "The 'calendar' parameter of handoff_delays must be a svcmining Calendar or "
                f"None. Got {type(calendar).__name__} instead."
            )
    from .sop import as_sop

    sop = as_sop(sop, func="handoff_delays")
    tstates = as_states(states, sop=sop, close_activities=close_activities, func="handoff_delays")
    return HandoffAnalysis(by, calendar, include_pending, cutoff, tstates, sop, window)


def _group_codes(tlog: TicketLog, by: str) -> tuple[np.ndarray, np.ndarray, pd.Index]:
    """Rows with a group, their group codes and the group names (sorted, as text)."""
    events = tlog.events
    n = len(events)
    grp_raw = events[by]
    if pd.api.types.is_string_dtype(grp_raw.dtype):
        g_all, g_names = tlog.codes(by, sort=True)  # codes in sorted-name order
        if n and g_all.min() >= 0:  # every event has a group (codes are read-only)
            return np.arange(n), g_all, g_names.astype("str")
        pos = np.flatnonzero(g_all >= 0)
        return pos, g_all[pos], g_names.astype("str")
    # numbers, categories ...: grouped by their text
    pos = np.flatnonzero(grp_raw.notna().to_numpy())
    g_codes, g_uniques = pd.factorize(grp_raw.iloc[pos].astype("str"), sort=True)
    return pos, np.asarray(g_codes, dtype=np.int64), pd.Index(g_uniques).astype("str")


@dataclass(frozen=True)
class HandoffContext:
    """The whole-log facts every part of a log needs for :func:`handoff_delays`.

    ``cutoff`` (the export's), ``stages`` (the activity stages that judge reopens, when
    no SOP gives them), ``groups`` (every group, sorted: the codes of ``from_group`` /
    ``to_group``), ``activities`` and, per (group, activity) key
    ``group * len(activities) + activity`` in ascending ``mode_key``, the group most
    often next (``mode_next``; -1 = a closed ticket's end), the receiver a pending
    handoff waits for.
    """

    cutoff: pd.Timestamp
    stages: ActivityStages | None
    groups: pd.Index
    activities: pd.Index
    mode_key: np.ndarray
    mode_next: np.ndarray


@dataclass(frozen=True, eq=False)
class HandoffContextPart:
    """What comes next after each (group, activity) in whole tickets, counted (codes
    local to the part: ``groups`` sorted, ``activities``), and the part's cutoff."""

    cutoff: pd.Timestamp
    groups: pd.Index
    activities: pd.Index
    group: np.ndarray
    activity: np.ndarray
    outcome: np.ndarray
    count: np.ndarray


@dataclass(frozen=True)
class HandoffContextAnalysis:
    """The :class:`HandoffContext` of a log as a kernel and a combine."""

    by: str
    cutoff: Any
    states: TicketStates
    sop: Any = None

    def context(self) -> StagesAnalysis | None:
        """The activity stages, unless the SOP gives them."""
        return StagesAnalysis() if self.sop is None else None

    def kernel(self, part: TicketLog, ctx: ActivityStages | None) -> HandoffContextPart:
        """The part's counts of next groups and its cutoff."""
        cut = cutoff_of(part.events, self.cutoff, func="handoff_delays")
        pos, g, g_names = _group_codes(part, self.by)
        act_codes, act_uniques = part.codes("activity")
        case_codes = part.case_index()[0]
        judged = judge_log(part, self.states, self.sop if self.sop is not None else ctx)
        c, a = case_codes[pos], act_codes[pos]
        # a closed ticket's end is an outcome (-1), an open ticket's end is censored
        last_of_case = np.ones(len(pos), dtype=bool)
        last_of_case[:-1] = c[1:] != c[:-1]
        nxt = np.full(len(pos), -1, dtype=np.int64)
        nxt[:-1] = np.where(last_of_case[:-1], -1, g[1:])
        counted = ~last_of_case | ~judged.open[c]
        n_a, n_g = max(len(act_uniques), 1), max(len(g_names), 1)
        key = ((g * n_a + a) * (n_g + 1) + (nxt + 1))[counted]
        n_key = n_g * n_a * (n_g + 1)
        if n_key <= 4 * len(key) + (1 << 16):  # a small key space: count, do not sort
            cnt_all = np.bincount(key, minlength=n_key)
            uniq = np.flatnonzero(cnt_all)
            cnt = cnt_all[uniq]
        else:
            uniq, cnt = np.unique(key, return_counts=True)
        ga, outcome = np.divmod(uniq, n_g + 1)
        grp, act = np.divmod(ga, n_a)
        return HandoffContextPart(
            cut, g_names, pd.Index(act_uniques), grp, act, outcome - 1, cnt.astype(np.int64)
        )

    def combine(
        self, parts: Sequence[HandoffContextPart], ctx: ActivityStages | None
    ) -> HandoffContext:
        """The log's cutoff, groups and expected next group per (group, activity)."""
        cuts = [p.cutoff for p in parts if not pd.isna(p.cutoff)]
        if len(parts) == 1:
            groups, acts = parts[0].groups, parts[0].activities
            g_maps = [np.arange(len(groups), dtype=np.int64)]
            a_maps = [np.arange(len(acts), dtype=np.int64)]
        else:
            groups = pd.Index(
                pd.unique(np.concatenate([np.asarray(p.groups, dtype=object) for p in parts]))
            ).sort_values()
            acts = pd.Index(
                pd.unique(np.concatenate([np.asarray(p.activities, dtype=object) for p in parts]))
            )
            g_maps = [np.asarray(groups.get_indexer(p.groups), dtype=np.int64) for p in parts]
            a_maps = [np.asarray(acts.get_indexer(p.activities), dtype=np.int64) for p in parts]
        n_a, n_g = max(len(acts), 1), max(len(groups), 1)
        keys, counts = [], []
        for p, gm, am in zip(parts, g_maps, a_maps, strict=True):
            nxt = np.where(p.outcome >= 0, gm[np.maximum(p.outcome, 0)] if len(gm) else -1, -1)
            keys.append((gm[p.group] * n_a + am[p.activity]) * (n_g + 1) + (nxt + 1))
            counts.append(p.count)
        key = np.concatenate(keys) if keys else np.zeros(0, np.int64)
        uniq, inv = np.unique(key, return_inverse=True)
        cnt = np.bincount(inv, weights=np.concatenate(counts) if counts else None)
        ga, outcome = uniq // (n_g + 1), uniq % (n_g + 1) - 1
        # per (group, activity): highest count, ties to the smallest outcome code
        o = np.lexsort((outcome, -cnt, ga))
        first = np.ones(len(o), dtype=bool)
        first[1:] = ga[o][1:] != ga[o][:-1]
        return HandoffContext(
            cutoff=max(cuts) if cuts else pd.NaT,
            stages=ctx,
            groups=groups,
            activities=acts,
            mode_key=ga[o][first],
            mode_next=outcome[o][first],
        )


@dataclass(frozen=True, eq=False)
class HandoffPart:
    """Handoffs and tickets of whole tickets: the rows, the group codes of each handoff
    (codes of :attr:`HandoffContext.groups`) and the counts behind the notes."""

    handoffs: pd.DataFrame
    cases: pd.DataFrame
    from_g: np.ndarray
    to_g: np.ndarray
    h_case: np.ndarray
    n_skipped: int
    n_overlapping: int


@dataclass(frozen=True)
class HandoffAnalysis:
    """:func:`handoff_delays` as a context (:class:`HandoffContext`), a kernel over whole
    tickets (handoffs, pending handoffs and tickets) and a combine (pair matrix and
    summary over all handoffs, in log order)."""

    by: str
    calendar: Calendar | None
    include_pending: bool
    cutoff: Any
    states: TicketStates
    sop: Any = None
    window: int = 3

    def context(self) -> HandoffContextAnalysis:
        """Cutoff, stages, groups and expected receivers of the whole log."""
        return HandoffContextAnalysis(self.by, self.cutoff, self.states, self.sop)

    def combine(self, parts: Sequence[HandoffPart], ctx: HandoffContext) -> HandoffResult:
        """The result over the whole log."""
        if len(parts) == 1:
            handoffs, cases = parts[0].handoffs, parts[0].cases
        else:
            handoffs = pd.concat([p.handoffs for p in parts], ignore_index=True)
            cases = pd.concat([p.cases for p in parts], ignore_index=True)
        off = np.cumsum([0] + [len(p.cases) for p in parts])[:-1]
        h_case = np.concatenate([p.h_case + o for p, o in zip(parts, off, strict=True)])
        from_g = np.concatenate([p.from_g for p in parts])
        to_g = np.concatenate([p.to_g for p in parts])
        matrix = _matrix(handoffs, from_g, to_g, h_case, ctx.groups, self.include_pending)
        n_skipped = sum(p.n_skipped for p in parts)
        n_neg = sum(p.n_overlapping for p in parts)
        notes: list[str] = []
        if n_skipped:
            notes.append(
                f"{n_skipped:,} events without a {self.by!r} value were skipped for handoff "
                "detection."
            )
        if n_neg:
            notes.append(
                f"{n_neg:,} handoffs where the receiver started before the giver "
                "finished (overlapping lifecycle data) count with delay 0."
            )
        return HandoffResult(
            handoffs=handoffs,
            matrix=matrix,
            cases=cases,
            summary=_summary(handoffs, matrix, cases, n_skipped),
            by=self.by,
            business_hours=self.calendar is not None,
            notes=tuple(notes),
        )

    def kernel(self, tlog: TicketLog, ctx: HandoffContext) -> HandoffPart:
        """The handoffs (observed and pending) and tickets of whole tickets ``tlog``."""
        return _handoff_part(self, tlog, ctx)


def _handoff_part(an: HandoffAnalysis, tlog: TicketLog, ctx: HandoffContext) -> HandoffPart:
    by, calendar = an.by, an.calendar
    events = tlog.events
    cut = ctx.cutoff
    n = len(events)
    ts = events["timestamp"]
    tz = ts.dt.tz
    ts_dtype = ts.dtype
    ts_i8 = time_i8(ts)
    if has_start_times(events):
        st = events["start_timestamp"]
        st = st.dt.tz_convert(tz) if isinstance(st.dtype, pd.DatetimeTZDtype) else st
        st_i8 = time_i8(st.astype(ts_dtype))
        begin_i8 = np.where(st.isna().to_numpy(), ts_i8, st_i8)
    else:
        begin_i8 = ts_i8

    # ---- integer codes, each column factorised once
    case_codes, case_starts = tlog.case_index()
    case_ids = tlog.codes("case_id")[1]  # the id of each case block
    pos, g_local, g_names = _group_codes(tlog, by)
    # codes of the whole log's groups (a pending handoff may wait for a group this part
    # of the log never saw)
    if len(g_names) == len(ctx.groups) and g_names.equals(ctx.groups):
        g = g_local
    else:
        g = np.asarray(ctx.groups.get_indexer(g_names), dtype=np.int64)[g_local]
    g_names = ctx.groups
    act_codes, act_uniques = tlog.codes("activity")
    every = len(pos) == n
    c = case_codes if every else case_codes[pos]
    a_sub = act_codes if every else act_codes[pos]
    n_skipped = int(n - len(pos))

    # ---- observed handoffs: consecutive grouped events of a case with another group
    if len(pos) > 1:
        change = np.flatnonzero((c[1:] == c[:-1]) & (g[1:] != g[:-1]))
    else:
        change = np.zeros(0, dtype=np.int64)
    give, take = pos[change], pos[change + 1]
    # ---- closings and reopens: the one rule of svcmining.states
    judged = judge_log(tlog, an.states, an.sop if an.sop is not None else ctx.stages)

    delay = _hours_i8(ts_i8[give], begin_i8[take], ts_dtype, calendar)
    # time the ticket waited on the customer or a third party (Pending, 挂起) between the
    # giver and the receiver is not handoff delay
    # (with start/complete data a wait is its own event's span, not a gap: nothing to take)
    waiting = (judged.kinds == WAITING) & (not has_start_times(events))
    if waiting.any():
        wait_h = np.zeros(n)
        w_rows = np.flatnonzero(waiting[:-1] & (case_codes[1:] == case_codes[:-1]))
        wait_h[w_rows] = _hours_i8(ts_i8[w_rows], ts_i8[w_rows + 1], ts_dtype, calendar)
        waited_before = np.cumsum(wait_h) - wait_h
        delay = delay - np.minimum(waited_before[take] - waited_before[give], delay)
    neg = delay < 0
    if neg.any():
        delay = np.where(neg, 0.0, delay)

    # ---- ping-pong: returns (first events of a run, i.e. receivers of a handoff) that
    # find_rework types as ping_pong: work, not inside a reopen cycle, not a self-loop
    ret_sub = returns_from_codes(c, g, a_sub, window=an.window)[0]
    pp_mark = np.zeros(n, dtype=bool)
    pp_mark[pos[ret_sub]] = True
    if pp_mark.any():
        self_loop = np.zeros(n, dtype=bool)
        self_loop[1:] = (act_codes[1:] == act_codes[:-1]) & (case_codes[1:] == case_codes[:-1])
        if getattr(tlog.report, "state_log", False):  # a stay going on (find_rework's rule)
            self_loop[:] = False
        pp_mark &= ~self_loop & ~judged.in_cycle & (judged.kinds == WORKING)
    is_open = judged.open

    pend_give = np.zeros(0, dtype=np.int64)
    pend_to = np.zeros(0, dtype=np.int64)
    if len(pos) and is_open.any():
        # the group most often next after the same (group, activity) in the whole log
        last_of_case = np.ones(len(pos), dtype=bool)
        last_of_case[:-1] = c[1:] != c[:-1]
        open_last = np.flatnonzero(last_of_case & is_open[c])
        n_a = max(len(ctx.activities), 1)
        a_map = np.asarray(ctx.activities.get_indexer(act_uniques), dtype=np.int64)
        want = g[open_last] * n_a + a_map[a_sub[open_last]]
        mode_ga, mode_next = ctx.mode_key, ctx.mode_next
        if len(mode_ga):
            at = np.minimum(np.searchsorted(mode_ga, want), len(mode_ga) - 1)
            expected = np.where(mode_ga[at] == want, mode_next[at], -1)
        else:
            expected = np.full(len(want), -1, dtype=np.int64)
        wait = (expected >= 0) & (expected != g[open_last])
        pend_give = pos[open_last[wait]]
        pend_to = expected[wait]
        give_g_pend = g[open_last[wait]]
    else:
        give_g_pend = np.zeros(0, dtype=np.int64)

    # ---- handoff table (observed + pending), in log order
    n_obs, n_pend = len(give), len(pend_give)
    cut_i8 = np.full(n_pend, _ts_i8(cut, ts_dtype), dtype=np.int64)
    pend_wait = np.clip(_hours_i8(ts_i8[pend_give], cut_i8, ts_dtype, calendar), 0.0, None)
    if n_pend and waiting.any():  # waits since the giver's last step, to the cutoff
        case_end = np.append(case_starts[1:], n)[case_codes[pend_give]] - 1
        last_wait = np.where(
            waiting[case_end],
            np.clip(_hours_i8(ts_i8[case_end], cut_i8, ts_dtype, calendar), 0.0, None),
            0.0,
        )
        within = waited_before[case_end] - waited_before[pend_give]
        pend_wait = np.clip(pend_wait - within - last_wait, 0.0, None)
    # observed and pending rows in log order, a pending row after the observed handoff
    # of the same event: each row goes straight to its place (both parts are sorted)
    obs_before = np.searchsorted(give, pend_give, "right")  # observed rows before each
    pend_at = np.arange(n_pend) + obs_before
    obs_at = np.arange(n_obs) + np.cumsum(np.bincount(obs_before, minlength=n_obs + 1))[:n_obs]

    def merged(obs: Any, pend: Any, dtype: Any) -> np.ndarray:
        if n_pend == 0:
            return np.asarray(obs, dtype=dtype)
        out = np.empty(n_obs + n_pend, dtype=dtype)
        out[obs_at] = obs
        out[pend_at] = pend
        return out

    give_all = merged(give, pend_give, np.int64)
    from_g = merged(g[change], give_g_pend, np.int64)
    to_g = merged(g[change + 1], pend_to, np.int64)
    pending = merged(False, True, bool)
    delay_all = merged(delay, pend_wait, float)
    h_case = case_codes[give_all]
    act_names = pd.Index(act_uniques).astype("str")
    handoffs = pd.DataFrame(
        {
            "case_id": _codes_to_str(case_ids, h_case),
            "from_group": _codes_to_str(g_names, from_g),
            "to_group": _codes_to_str(g_names, to_g),
            "left_at": _i8_to_ts(ts_i8[give_all], ts_dtype),
            "picked_up_at": _i8_to_ts(merged(begin_i8[take], _NAT, np.int64), ts_dtype),
            "delay_hours": delay_all,
            "from_activity": _codes_to_str(act_names, act_codes[give_all]),
            "to_activity": _codes_to_str(act_names, merged(act_codes[take], -1, np.int64)),
            "pending": pending,
            "ping_pong": merged(pp_mark[take], False, bool),
        }
    )

    cases = _cases(
        case_ids, case_starts, begin_i8, ts_i8, ts_dtype, is_open, cut, calendar, handoffs, h_case
    )
    return HandoffPart(
        handoffs=handoffs,
        cases=cases,
        from_g=from_g,
        to_g=to_g,
        h_case=h_case,
        n_skipped=n_skipped,
        n_overlapping=int(neg.sum()),
    )


_NAT = np.iinfo(np.int64).min


def _ts_i8(t: pd.Timestamp, dtype: Any) -> int:
    if pd.isna(t):  # an empty log has no cutoff
        return int(_NAT)
    utc = pd.Timestamp(t).tz_convert("UTC").tz_localize(None)
    return int(utc.to_datetime64().astype(f"datetime64[{dtype.unit}]").astype(np.int64))


def _i8_to_ts(values: np.ndarray, dtype: Any) -> pd.Series:
    naive = pd.Series(values.view(f"datetime64[{dtype.unit}]"), copy=False)  # min int64: NaT
    return naive.dt.tz_localize("UTC").dt.tz_convert(dtype.tz)


def _hours_i8(
    start: np.ndarray, end: np.ndarray, dtype: Any, calendar: Calendar | None
) -> np.ndarray:
    """Hours between integer times of ``dtype`` (NaT = min int64 gives NaN)."""
    if len(start) == 0:
        return np.zeros(0)
    if calendar is None:
        return _i8_hours(start, end, dtype.unit)
    from .calendars import duration_hours

    out = duration_hours(_i8_to_ts(start, dtype), _i8_to_ts(end, dtype), calendar)
    return np.asarray(out, dtype=float)


_UNIT_PER_HOUR = {"s": 3600.0, "ms": 3.6e6, "us": 3.6e9, "ns": 3.6e12}


def _codes_to_str(uniques: Any, codes: np.ndarray) -> pd.Series:
    """Labels of integer codes as a ``str`` Series (code -1 -> missing)."""
    u = pd.Index(uniques).astype("str")
    if len(u) == 0:
        return pd.Series(pd.NA, index=range(len(codes)), dtype="str")
    taken = u.take(codes, allow_fill=True, fill_value=None)
    return pd.Series(taken, dtype="str")


def _matrix(
    handoffs: pd.DataFrame,
    from_g: np.ndarray,
    to_g: np.ndarray,
    h_case: np.ndarray,
    g_names: pd.Index,
    include_pending: bool,
) -> pd.DataFrame:
    n_g = max(len(g_names), 1)
    pair = from_g * n_g + to_g
    if n_g * n_g <= max(4 * len(pair), 1 << 16):  # dense pair space: no sort needed
        present = np.bincount(pair, minlength=n_g * n_g) > 0
        pairs = np.flatnonzero(present)
        inv = (np.cumsum(present) - 1)[pair]
    else:
        pairs, inv = np.unique(pair, return_inverse=True)
    k = len(pairs)
    pending = handoffs["pending"].to_numpy(dtype=bool)
    d = handoffs["delay_hours"].to_numpy(dtype=float)
    pend_rows = np.flatnonzero(pending)  # few: open tickets only
    n_pend = np.bincount(inv[pend_rows], minlength=k)
    count = np.bincount(inv, minlength=k) - n_pend
    total = np.bincount(inv, weights=d, minlength=k)
    pp = np.bincount(inv[handoffs["ping_pong"].to_numpy(dtype=bool)], minlength=k)
    # distinct (case, pair) combinations: rows are in case order, so the stable sort
    # (timsort) of case * k + pair only reorders within each ticket
    combo = np.sort(h_case * max(k, 1) + inv, kind="stable")
    new_combo = np.ones(len(combo), dtype=bool)
    new_combo[1:] = combo[1:] != combo[:-1]
    n_case = np.bincount(combo[new_combo] % max(k, 1), minlength=k)
    if include_pending or len(pend_rows) == 0:
        stats = group_stats(inv, d, k, "delay")  # leaves NaN delays out
    else:
        stats = group_stats(inv[~pending], d[~pending], k, "delay")
    out = pd.DataFrame(
        {
            "from_group": _codes_to_str(g_names, pairs // n_g),
            "to_group": _codes_to_str(g_names, pairs % n_g),
            "count": count.astype(np.int64),
            "cases": n_case.astype(np.int64),
            "pending": n_pend.astype(np.int64),
            "delay_mean_hours": stats["delay_mean_hours"],
            "delay_p50_hours": stats["delay_p50_hours"],
            "delay_p90_hours": stats["delay_p90_hours"],
            "delay_total_hours": total.astype(float),
            "ping_pong": pp.astype(np.int64),
        }
    )
    return out[_MATRIX_COLUMNS]


def _cases(
    case_ids: pd.Index,
    case_starts: np.ndarray,
    begin_i8: np.ndarray,
    ts_i8: np.ndarray,
    ts_dtype: Any,
    is_open: np.ndarray,
    cut: pd.Timestamp,
    calendar: Calendar | None,
    handoffs: pd.DataFrame,
    h_case: np.ndarray,
) -> pd.DataFrame:
    n_cases = len(case_starts)
    if n_cases:  # times ascend within a case; start times need not
        last = ts_i8[np.append(case_starts[1:], len(ts_i8)) - 1]
        if begin_i8 is ts_i8:
            first = ts_i8[case_starts]
        else:
            first = np.minimum.reduceat(begin_i8, case_starts)
    else:
        first = last = np.zeros(0, dtype=np.int64)
    cut_i8 = _ts_i8(cut, ts_dtype)
    end = np.where(is_open & (last < cut_i8), cut_i8, last)
    cycle = _hours_i8(first, end, ts_dtype, calendar)
    pend = np.flatnonzero(handoffs["pending"].to_numpy(dtype=bool))  # few: open tickets
    d = handoffs["delay_hours"].to_numpy(dtype=float)
    n_pend = np.bincount(h_case[pend], minlength=n_cases)
    n_h = (np.bincount(h_case, minlength=n_cases) - n_pend).astype(np.int64)
    hours = np.bincount(h_case, weights=d, minlength=n_cases)
    waiting = np.bincount(h_case[pend], weights=d[pend], minlength=n_cases)
    pp = np.zeros(n_cases, dtype=bool)
    pp[h_case[handoffs["ping_pong"].to_numpy(dtype=bool)]] = True
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(cycle > 0, hours / np.where(cycle > 0, cycle, 1.0), np.nan)
    return pd.DataFrame(
        {
            "case_id": pd.Series(case_ids, dtype="str"),
            "n_handoffs": n_h,
            "handoff_hours": hours.astype(float),
            "cycle_hours": cycle.astype(float),
            "handoff_share": share,
            "ping_pong": pp,
            "open_at_cutoff": is_open.astype(bool),
            "waiting_hours": waiting.astype(float),
        }
    )


def _summary(
    handoffs: pd.DataFrame, matrix: pd.DataFrame, cases: pd.DataFrame, n_skipped: int
) -> pd.DataFrame:
    def values(frame: pd.DataFrame, name: str) -> np.ndarray:
        return frame[name].to_numpy()

    h_hours = float(np.nansum(values(cases, "handoff_hours")))
    c_hours = float(np.nansum(values(cases, "cycle_hours")))
    n_pending = int(np.count_nonzero(values(handoffs, "pending")))
    n_with = int(np.count_nonzero(values(cases, "n_handoffs")))
    rows: list[tuple[str, float, str, str]] = [
        ("cases", float(len(cases)), "tickets", ""),
        ("cases_with_handoffs", float(n_with), "tickets", ""),
        ("handoffs", float(len(handoffs) - n_pending), "handoffs", ""),
        ("pending_handoffs", float(n_pending), "handoffs", "open at cutoff"),
        ("open_cases", float(np.count_nonzero(values(cases, "open_at_cutoff"))), "tickets", ""),
        ("ping_pong_cases", float(np.count_nonzero(values(cases, "ping_pong"))), "tickets", ""),
        ("handoff_hours", h_hours, "hours", "all waits, pending included"),
        ("cycle_hours", c_hours, "hours", "all tickets"),
        (
            "handoff_share",
            h_hours / c_hours if c_hours > 0 else np.nan,
            "share",
            "of all ticket time spent waiting on handoffs",
        ),
        ("skipped_events", float(n_skipped), "events", "missing group"),
    ]
    worst = matrix.sort_values(
        ["delay_total_hours", "count", "from_group", "to_group"],
        ascending=[False, False, True, True],
        kind="stable",
    ).head(3)
    for r in worst.itertuples(index=False):  # at most 3 rows
        rows.append(
            (
                "worst_pair",
                float(r.delay_total_hours),
                "hours",
                f"{r.from_group}{_ARROW}{r.to_group}",
            )
        )
    out = pd.DataFrame(rows, columns=["metric", "value", "unit", "detail"])
    for col in ("metric", "unit", "detail"):
        out[col] = out[col].astype("str")
    return out
