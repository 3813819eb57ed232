"""Process maps: Graphviz when the ``dot`` program exists, else a built-in layered layout.

Both engines draw the same abstract map (nodes, edges, colours, widths, a legend), so a map
looks alike with or without Graphviz. Chinese labels render with the CJK font found by
:mod:`svcmining._fonts` (Graphviz ``fontname`` and matplotlib rcParams).

The plot rule, for the whole package
------------------------------------
* Every result's ``.plot()`` (:class:`~svcmining.ProcessGraph`, ``LogComparison``,
  ``ReworkResult``, ``HandoffResult``, ``ConformanceResult``, ``SOPComparison``,
  ``ServiceKPIs``, ``PainPoints``, ``DrillDown``) returns a
  :class:`matplotlib.figure.Figure`. Where it draws a single axes it takes ``ax=`` and
  then draws there and returns ``ax.figure``. Nothing calls ``plt.show()``.
* The map-drawing functions :func:`plot_process_map`, :func:`plot_difference_map` and
  :func:`plot_periods` return a :class:`ProcessMap`: it shows inline in Jupyter (SVG from
  Graphviz), ``.save(path)`` writes SVG/PNG/PDF (and DOT for a Graphviz map), and
  ``.to_figure()`` gives the matplotlib figure (what the map-drawing ``.plot()`` methods
  return).

>>> import svcmining as svc                                           # doctest: +SKIP
>>> m = svc.plot_process_map(svc.discover_dfg(log), metric="wait_p50")  # doctest: +SKIP
>>> m.save("map.svg")                                                 # doctest: +SKIP
>>> fig = svc.discover_dfg(log).plot(metric="wait_p50")  # a Figure    # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Literal

from ._processmap import (
    Engine,
    Metric,
    ProcessMap,
    difference_map,
    graphviz_available,
    periods_map,
    process_map,
)
from .discovery import LogComparison, ProcessGraph, discover_dfg

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from .eventlog import LogLike

__all__ = [
    "ProcessMap",
    "graphviz_available",
    "plot_difference_map",
    "plot_periods",
    "plot_process_map",
]


def _as_graph(graph: ProcessGraph | LogLike) -> ProcessGraph:
    if isinstance(graph, ProcessGraph):
        return graph
    return discover_dfg(graph)


def plot_process_map(
    graph: ProcessGraph | LogLike,
    *,
    metric: Metric = "count",
    min_share: float = 0.0,
    highlight: str | tuple[str, str] | Iterable[str | tuple[str, str]] | None = None,
    engine: Engine = "auto",
    rankdir: Literal["TB", "LR"] = "TB",
    title: str | None = None,
    ax: Axes | None = None,
    lang: str = "en",
) -> ProcessMap:
    """Draw a process map (directly-follows graph) with Chinese labels rendered properly.

    Parameters
    ----------
    graph : ProcessGraph, TicketLog or pandas.DataFrame
        A graph from :func:`svcmining.discover_dfg`, or a log (discovered first).
    metric : {"count", "cases", "wait_p50", "wait_p90"}
        What edge labels, widths and colours show: transitions, tickets, or the median /
        90th-percentile waiting time.
    min_share : float
        Hide steps and edges seen in fewer than this share of tickets (0..1).
    highlight : str, (source, target), a list of them, or a ReworkResult
        Steps / edges to draw highlighted (e.g. a bottleneck). A result with an
        ``edge_highlights()`` table, such as :func:`svcmining.find_rework`'s, highlights
        its loop edges that are on the map.
    engine : {"auto", "graphviz", "matplotlib"}
        ``auto`` uses Graphviz when the ``dot`` program exists, else matplotlib (with one
        warning).
    rankdir : {"TB", "LR"}
        Graphviz layout direction (top-bottom or left-right).
    title : str, optional
        Title above the legend.
    ax : matplotlib Axes, optional
        Draw into this axes (Graphviz output is placed in it as an image).
    lang : {"en", "zh"}
        The language of the default title, the legend, the colour bar and the tickets
        under each step; activity and department labels stay as the data writes them.

    Returns
    -------
    ProcessMap
        Shows inline in Jupyter; ``.save("map.svg" | ".png" | ".pdf")``.

    Examples
    --------
    >>> m = plot_process_map(discover_dfg(log), metric="wait_p50", min_share=0.05)  # doctest: +SKIP
    >>> m.save("map.png")                                                           # doctest: +SKIP
    """
    return process_map(
        _as_graph(graph),
        metric=metric,
        min_share=min_share,
        highlight=highlight,
        engine=engine,
        rankdir=rankdir,
        title=title,
        ax=ax,
        lang=lang,
    )


def plot_difference_map(
    comparison: LogComparison,
    *,
    period: str | None = None,
    min_share: float = 0.0,
    engine: Engine = "auto",
    rankdir: Literal["TB", "LR"] = "TB",
    title: str | None = None,
    ax: Axes | None = None,
) -> ProcessMap:
    """Draw how the process changed in ``period`` against the period before it.

    Parameters
    ----------
    comparison : LogComparison
        From :func:`svcmining.compare_periods` or :func:`svcmining.compare_logs`.
    period : str, optional
        The period to show (default: the last); compared with the one before it.
    min_share : float
        Hide edges used by fewer than this share of tickets in both periods.
    engine, rankdir, title, ax
        As :func:`plot_process_map`.

    Returns
    -------
    ProcessMap

    Examples
    --------
    >>> plot_difference_map(compare_periods(log, by="month"))  # doctest: +SKIP
    """
    return difference_map(
        comparison,
        period=period,
        min_share=min_share,
        engine=engine,
        rankdir=rankdir,
        title=title,
        ax=ax,
    )


def plot_periods(
    comparison: LogComparison,
    *,
    metric: Metric = "cases",
    min_share: float = 0.0,
    engine: Engine = "auto",
    ncols: int | None = None,
) -> ProcessMap:
    """Process maps of every period side by side (one panel per period).

    Parameters
    ----------
    comparison : LogComparison
        From :func:`svcmining.compare_periods` or :func:`svcmining.compare_logs`.
    metric, min_share, engine
        As :func:`plot_process_map`, for every panel.
    ncols : int, optional
        Panels per row (default: all periods in one row, at most 4).

    Returns
    -------
    ProcessMap
        A matplotlib figure holding the panels.

    Examples
    --------
    >>> plot_periods(compare_periods(log, by="month"), metric="wait_p50")  # doctest: +SKIP
    """
    return periods_map(comparison, metric=metric, min_share=min_share, engine=engine, ncols=ncols)
