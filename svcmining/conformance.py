"""Check every ticket against the designed SOP: order, departments and SLAs.

:func:`check_sop` aligns each *variant* (distinct activity sequence) once to the
SOP's Petri net and spreads the result to its cases; :func:`compare_with_sop`
contrasts the flows the tickets take with the flows the SOP allows.

How the alignment is computed
-----------------------------
The SOP net is small and bounded, so its reachability graph (markings as states,
transitions as labelled edges) is built once. An optimal alignment of a trace is a
shortest path in (trace position x state) with pm4py's standard costs — synchronous
move 0, log move 10000, visible model move 10000, silent (tau) move 1 — so the
alignment costs, per-trace fitness (``1 - cost // 10000 / (len(trace) + best_worst)``)
and log fitness (``1 - sum cost / sum (10000 * len(trace) + best_worst_cost)``) are
exactly pm4py's ``fitness_alignments`` on the same net. With the all-pairs model-move
cost matrix precomputed, each trace needs one vectorised min-plus step per event,
which is why 2,000+ variants take seconds rather than minutes. Nets whose
reachability graph exceeds ``_MAX_STATES`` states fall back to
``pm4py.conformance_diagnostics_alignments`` per variant.

Activities that belong to no SOP step are **never ignored**: they are log moves in
the alignment (cost, lower fitness) and ``unknown_activity`` deviations — unlike
pm4py's token replay, which skips them and can give a garbage case fitness 1.

Using both cores, reproducibly
------------------------------
``workers`` (default ``min(2, os.cpu_count())``) processes work on fixed chunks of
variants (sorted by frequency, then by the sequence itself) in a
``ProcessPoolExecutor``; results are put back in variant order, so the output does
not depend on scheduling. Fewer than ``_PARALLEL_MIN_VARIANTS`` variants are done
in-process (starting processes would cost more than it saves). With
``max_seconds``, chunks not started in time are replayed with token replay instead
(also reproducible given which chunks fell back); the ``method`` column of
``cases`` says which method each case got.

Deviation types (``deviations.type``)
-------------------------------------
- ``unknown_activity`` — an activity no SOP step has (a log move);
- ``skipped_step`` — a step the SOP requires was not done (a model move). Steps a
  ticket has simply not reached yet are *pending*, not skipped (``cases.pending_steps``):
  all of them while the ticket is open at the cutoff (the SOP's ``close`` step not done;
  without one, while its last step is not one the SOP may end with), and a step whose
  SLA clock is still running (e.g. the follow-up call within 48 h of closing). The
  step of a skipped ``choice`` names one branch; ``detail`` lists all of them;
- ``out_of_order`` — a step was done, but not where the SOP puts it (a log move and
  a model move of the same step form one out-of-order deviation; a log move of a
  step done once in the case and not paired is also out of order);
- ``inserted_step`` — a second branch of a ``choice`` block was done as well
  (e.g. both remote troubleshooting and an on-site repair);
- ``repeated_step`` — a non-repeatable step done again where the SOP does not allow
  it (a repeat inside an allowed loop, e.g. a reopen cycle, is not a deviation);
- ``wrong_department`` — a step done by a department that does not own it;
- ``sla_breach`` — an SLA limit exceeded (or a ``between`` lower limit not reached),
  with ``limit_hours`` and ``actual_hours``; a target step never done counts as
  breached once its deadline passed before the log's cutoff, and is
  right-censored (``status='censored'``, not counted) while the deadline has not;
- ``not_fitting`` — only for variants replayed by token replay (time box / ``method=
  'token_replay'``): the trace does not fit, the kind of deviation is not typed.

Fitness is the alignment's, also for open tickets (an unfinished ticket has lower
fitness); ``conforming`` means no deviation of any kind, so an open ticket on track
conforms.
"""

from __future__ import annotations

import html
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from ._alignment import SOPContext as SOPContext
from ._alignment import SOPVariantsAnalysis as SOPVariantsAnalysis
from ._alignment import SOPVariantsPart as SOPVariantsPart
from ._alignment import allowed_pairs, automaton_for
from ._automaton import MAX_STATES as _MAX_STATES
from ._automaton import TAU_COST as TAU_COST
from ._automaton import Automaton as _Automaton
from ._automaton import TooLarge as _TooLarge
from ._i18n import tr
from ._repr import counts, html_table, pct
from ._slas import sla_attainment
from ._sopcheck import SOPCheckPart as SOPCheckPart
from ._sopcheck import check_part, summary_frame
from ._sopcodes import DEVIATION_TYPES as DEVIATION_TYPES
from ._sopcodes import Coded, encode, flow_parts
from ._validation import check_choice, check_positive_int
from .core import run
from .eventlog import LogLike, as_events, as_ticket_log
from .exceptions import InvalidParameterError, SOPDefinitionError
from .sop import SOP, as_sop
from .states import TicketStates

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure


__all__ = [
    "ConformanceResult",
    "SOPCheckAnalysis",
    "SOPCheckPart",
    "SOPComparison",
    "SOPContext",
    "SOPVariantsAnalysis",
    "SOPVariantsPart",
    "check_sop",
    "compare_with_sop",
    "sop_check_analysis",
]

DEVIATION_COLUMNS = [
    "case_id",
    "type",
    "step",
    "activity",
    "position",
    "at",
    "department",
    "detail",
    "sla",
    "limit_hours",
    "actual_hours",
]


@dataclass(frozen=True, eq=False)
class SOPComparison:
    """Flows the tickets take versus the flows the SOP allows.

    Attributes
    ----------
    edges : pandas.DataFrame
        One row per directly-follows pair: ``source``, ``target`` (primary step labels;
        ``[start]`` / ``[end]``), ``status`` (``conforming`` / ``extra`` / ``rare`` /
        ``unused``), ``count`` (transitions), ``cases``, ``mean_hours``,
        ``median_hours`` (elapsed hours between the two events).
    nodes : pandas.DataFrame
        ``activity``, ``step_id`` (None for unknown activities), ``stage``, ``count``.
    """

    edges: pd.DataFrame
    nodes: pd.DataFrame
    sop_name: str = "SOP"

    @property
    def extra(self) -> pd.DataFrame:
        """Edges taken that the SOP does not allow, most frequent first."""
        e = self.edges
        return e[e["status"] == "extra"].sort_values("count", ascending=False, kind="stable")

    @property
    def unused(self) -> pd.DataFrame:
        """SOP paths never (``unused``) or rarely (``rare``) taken."""
        e = self.edges
        return e[e["status"].isin(["unused", "rare"])]

    def to_frame(self) -> pd.DataFrame:
        """The edges table."""
        return self.edges.copy()

    def to_dot(self, *, min_share: float = 0.0, lang: str = "en") -> str:
        """Graphviz source: SOP flows (black), extra flows (red, counts), unused (grey).

        Extra flows taken by fewer than ``min_share`` of the tickets are left out;
        ``lang`` ("en" / "zh"): the language of the words it adds ("not in SOP").
        """
        from ._fonts import cjk_font_family

        font = cjk_font_family() or "Helvetica"
        q = _dot_quote
        lines = [
            "digraph sop {",
            "  rankdir=LR;",
            f"  graph [fontname={q(font)}, label={q(self.sop_name)}, labelloc=t];",
            f"  node [shape=box, style=rounded, fontname={q(font)}, fontsize=11];",
            f"  edge [fontname={q(font)}, fontsize=9];",
            '  "[start]" [shape=circle, label="", width=0.25, style=filled, fillcolor=black];',
            '  "[end]" [shape=doublecircle, label="", width=0.2, style=filled, fillcolor=black];',
        ]
        for r in self.nodes.itertuples(index=False):
            n = f"{int(r.count):,}"
            if r.step_id is None or pd.isna(r.step_id):
                label = q(f"{r.activity}\n{_not_in_sop(lang)} {n}")
                lines.append(
                    f'  {q(r.activity)} [color=red, fontcolor=red, style="rounded,dashed", '
                    f"label={label}];"
                )
            else:
                lines.append(f"  {q(r.activity)} [label={q(f'{r.activity}' + chr(10) + n)}];")
        starts = self.edges.loc[self.edges["source"] == "[start]", "cases"]
        floor = min_share * float(starts.sum())
        for r in self.edges.itertuples(index=False):
            if r.status == "extra" and r.cases < floor:
                continue
            if r.status == "conforming":
                attr = f"label={q(f'{int(r.count):,}')}"
            elif r.status == "extra":
                attr = (
                    "color=red, fontcolor=red, penwidth=1.6, constraint=false, "
                    f"label={q(f'{int(r.count):,}')}"
                )
            elif r.status == "rare":
                attr = f"color=gray50, fontcolor=gray50, label={q(f'{int(r.count):,}')}"
            else:
                attr = "color=gray70, style=dashed"
            lines.append(f"  {q(r.source)} -> {q(r.target)} [{attr}];")
        lines.append("}")
        return "\n".join(lines)

    def _map_spec(self, min_share: float, lang: str = "en") -> Any:
        """The overlay as the abstract map :mod:`svcmining.plots` draws without Graphviz."""
        from . import _processmap as plots

        ids = {"[start]": plots.START_NODE, "[end]": plots.END_NODE}
        nodes = [
            plots.MapNode(plots.START_NODE, "", "", "#222222", kind="start"),
        ]
        for r in self.nodes.itertuples(index=False):
            n = f"{int(r.count):,}"
            if r.step_id is None or pd.isna(r.step_id):
                nodes.append(
                    plots.MapNode(
                        str(r.activity),
                        str(r.activity),
                        f"{_not_in_sop(lang)} {n}",
                        "#fff1f0",
                        border="#d62728",
                        dashed=True,
                        text_color="#c0161e",
                    )
                )
            else:
                nodes.append(plots.MapNode(str(r.activity), str(r.activity), n, "#ffffff"))
        nodes.append(plots.MapNode(plots.END_NODE, "", "", "#222222", kind="end"))
        starts = self.edges.loc[self.edges["source"] == "[start]", "cases"]
        floor = min_share * float(starts.sum())
        style = {  # status -> colour, width, line style, label colour
            "conforming": ("#222222", 1.3, "solid", "#222222"),
            "extra": ("#d62728", 1.6, "solid", "#c0161e"),
            "rare": ("#7f7f7f", 1.0, "solid", "#7f7f7f"),
            "unused": ("#b3b3b3", 1.0, "dashed", "#7f7f7f"),
        }
        edges = []
        for r in self.edges.itertuples(index=False):
            if r.status == "extra" and r.cases < floor:
                continue
            color, width, line, label_color = style[str(r.status)]
            edges.append(
                plots.MapEdge(
                    ids.get(str(r.source), str(r.source)),
                    ids.get(str(r.target), str(r.target)),
                    "" if r.status == "unused" else f"{int(r.count):,}",
                    color,
                    width,
                    style=line,  # type: ignore[arg-type]
                    weight=float(max(int(r.count), 1)),
                    constraint=r.status != "extra",
                    label_color=label_color,
                )
            )
        return plots.MapSpec(
            nodes=tuple(nodes),
            edges=tuple(edges),
            title=self.sop_name,
            legend=tr(
                lang,
                en="Black: SOP flows taken (transitions). Red: flows not in the SOP. Grey: rare "
                "SOP flows; grey dashed: SOP flows never taken. Red dashed boxes: steps not in "
                "the SOP.",
                zh="黑色：走过的 SOP 流转（次数）。红色：SOP 之外的流转。灰色：少见的 SOP 流转；"
                "灰色虚线：从未走过的 SOP 流转。红色虚线框：不在 SOP 中的步骤。",
            ),
            colormap="",
            value_range=(0.0, 1.0),
            colorbar_label="",
            rankdir="TB",
        )

    def plot(self, *, ax: Axes | None = None, min_share: float = 0.0, lang: str = "en") -> Figure:
        """Draw the SOP with the actual flows overlaid; a Figure (``ax.figure`` with ``ax=``).

        ``min_share`` hides extra flows taken by fewer than that share of the tickets
        (e.g. ``0.01``) to keep busy maps readable.

        Conforming flows are black with counts, extra flows red with counts, unused SOP
        paths grey dashed; activities not in the SOP are red dashed boxes. Graphviz's
        ``dot`` draws it when installed, else svcmining's built-in layered layout.
        """
        import matplotlib.image as mpimg
        import matplotlib.pyplot as plt

        from ._fonts import use_cjk_font
        from ._processmap import draw_matplotlib, graphviz_available

        use_cjk_font()
        if not graphviz_available():
            fig = draw_matplotlib(self._map_spec(min_share, lang), ax)
            return ax.figure if ax is not None else fig  # type: ignore[return-value]
        from ._fonts import graphviz_env

        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "sop.png"
            subprocess.run(  # noqa: S603 - fixed arguments, our own dot source
                ["dot", "-Tpng", "-Gdpi=110", "-o", str(out)],  # noqa: S607
                input=self.to_dot(min_share=min_share, lang=lang).encode("utf-8"),
                check=True,
                capture_output=True,
                timeout=120,
                env=graphviz_env(),
            )
            img = mpimg.imread(out)
        if ax is None:
            h, w = img.shape[:2]
            _, ax = plt.subplots(figsize=(min(w / 110, 30), min(h / 110, 30)))
        ax.imshow(img)
        ax.set_axis_off()
        return ax.figure  # type: ignore[return-value]

    def __repr__(self) -> str:
        statuses = counts(self.edges["status"]) or "no flows"
        return (
            f"SOPComparison({self.sop_name!r}: {len(self.nodes):,} activities, "
            f"{len(self.edges):,} flows ({statuses}))"
        )

    def _repr_html_(self) -> str:
        head = ", ".join(f"{k}: {v}" for k, v in self.edges["status"].value_counts().items())
        return f"<p><b>SOP comparison ({html.escape(head)})</b></p>" + html_table(
            self.edges, max_rows=20
        )


@dataclass(frozen=True, eq=False)
class ConformanceResult:
    """What :func:`check_sop` found.

    Attributes
    ----------
    summary : pandas.DataFrame
        ``metric``, ``value``: cases, variants, log_fitness (pm4py's alignment log
        fitness), average_trace_fitness, precision (ETC alignments), conformance_rate
        (share of cases with no deviation of any kind), flow_conformance_rate (fitness
        1 and no unknown activity), deviation_rate (1 - conformance_rate),
        sla_attainment (met / (met + breached), all SLAs), cases_aligned,
        cases_token_replay, seconds.
    cases : pandas.DataFrame
        Per ticket: ``case_id``, ``variant``, ``n_events``, ``fitness``, ``method``,
        ``n_deviations``, ``deviation_types``, ``conforming``, ``sla_breaches``
        (``;``-joined SLA ids), ``open_at_cutoff``, ``pending_steps`` (steps not reached
        yet that are not deviations, in SOP order).
    deviations : pandas.DataFrame
        One row per deviation (see the module docstring for the types): ``case_id``,
        ``type``, ``step``, ``activity``, ``position`` (event position in the case, or
        where a skipped step was due), ``at``, ``department``, ``detail``, ``sla``,
        ``limit_hours``, ``actual_hours``.
    steps : pandas.DataFrame
        Per SOP step: ``step`` (id), ``step_name`` (the SOP's ``name``, else the primary
        label), ``label``, ``cases_with_step``, ``deviations`` per type
        and ``deviation_rate`` (cases with a deviation at that step / all cases).
    slas : pandas.DataFrame
        Per case and SLA: ``case_id``, ``sla``, ``priority``, ``from_at``, ``to_at``,
        ``lower_hours``, ``limit_hours``, ``actual_hours``, ``status`` (``met`` /
        ``breached`` / ``censored``), ``hours_lost`` (hours beyond the limit of a step
        done late; 0 when done in time, too early or not done).
    sla_attainment : pandas.DataFrame
        Per SLA (``sla``: its id; ``sla_name``: its ``name:`` in the SOP, else the id) and
        priority (``priority`` = ``all`` for the total): ``met``, ``breached``,
        ``censored``, ``attainment``, ``hours_lost``.
    comparison : SOPComparison
        The flows (see :func:`compare_with_sop`).
    """

    summary: pd.DataFrame
    cases: pd.DataFrame
    deviations: pd.DataFrame
    steps: pd.DataFrame
    slas: pd.DataFrame
    sla_attainment: pd.DataFrame
    comparison: SOPComparison

    def metric(self, name: str) -> float:
        """One value of ``summary`` by name."""
        s = self.summary.set_index("metric")["value"]
        return float(s[name])

    def to_frame(self) -> pd.DataFrame:
        """The per-case table."""
        return self.cases.copy()

    def plot(self, *, ax: Axes | None = None, min_share: float = 0.0, lang: str = "en") -> Figure:
        """The SOP drawn with the actual flows overlaid (see :meth:`SOPComparison.plot`)."""
        return self.comparison.plot(ax=ax, min_share=min_share, lang=lang)

    def _headline(self) -> str:
        s = self.summary.set_index("metric")["value"]

        def get(name: str) -> float:
            return float(s[name]) if name in s.index else float("nan")

        return (
            f"{len(self.cases):,} cases: "
            f"conformance rate {pct(get('conformance_rate'))}, log fitness "
            f"{get('log_fitness'):.3f}, SLA attainment {pct(get('sla_attainment'))}; "
            f"{len(self.deviations):,} deviations"
        )

    def __repr__(self) -> str:
        types = counts(self.deviations["type"]) if len(self.deviations) else "none"
        return f"ConformanceResult({self._headline()} ({types}))"

    def _repr_html_(self) -> str:
        return (
            f"<p><b>SOP conformance</b>: {html.escape(self._headline())}</p>"
            + html_table(self.summary, "Summary", max_rows=20)
            + html_table(
                self.deviations["type"].value_counts().rename_axis("type").reset_index(),
                "Deviations by type",
            )
            + html_table(self.deviations, "Deviations", max_rows=5)
            + html_table(self.sla_attainment, "SLA attainment")
        )


def check_sop(
    log: LogLike,
    sop: SOP | str | os.PathLike[str],
    *,
    method: Literal["alignments", "token_replay", "auto"] = "auto",
    max_seconds: float | None = None,
    workers: int | None = None,
    precision: bool = True,
    cutoff: pd.Timestamp | str | None = None,
    progress: bool | None = None,
    states: TicketStates | None = None,
) -> ConformanceResult:
    """Check every ticket against the SOP: step order, departments and SLAs.

    Parameters
    ----------
    log : TicketLog or pandas.DataFrame
        The event log (``department`` and ``priority`` used when present).
    sop : SOP or path
        From :func:`svcmining.load_sop`, or the path of a YAML / BPMN SOP.
    method : {'auto', 'alignments', 'token_replay'}
        ``alignments`` (optimal, typed deviations), ``token_replay`` (pm4py token
        replay, unknown activities still penalised, deviations untyped), ``auto``
        = alignments with the ``max_seconds`` time box if given.
    max_seconds : float, optional
        Time box for alignments; variants not aligned in time get token replay.
    workers : int, optional
        Processes for the alignments; default ``min(2, os.cpu_count())``. Results do
        not depend on it.
    precision : bool
        Compute ETC alignments precision with pm4py (on the variants, weighted by
        frequency; the slowest part on large logs).
    cutoff : Timestamp, optional
        When the export was taken (for right-censoring SLAs of open tickets);
        default the last event of the log.
    progress : bool, optional
        Show a tqdm bar; default only when stderr is a terminal.
    states : TicketStates, optional
        The ticket-state model that tells open tickets (pending steps) from closed ones
        (default: the SOP's ``states:``, else the defaults; the SOP's ``close`` steps
        close tickets too).

    Returns
    -------
    ConformanceResult

    Examples
    --------
    >>> import pandas as pd
    >>> from svcmining.sop import sop_from_dict
    >>> sop = sop_from_dict({"steps": ["登记", "派单", "结单"]})  # a plain sequence
    >>> df = pd.DataFrame({
    ...     "case_id": ["1", "1", "1", "2", "2"],
    ...     "activity": ["登记", "派单", "结单", "登记", "结单"],
    ...     "timestamp": pd.to_datetime(["2024-10-08 09:00", "2024-10-08 09:30",
    ...         "2024-10-08 11:00", "2024-10-08 10:00", "2024-10-08 10:10"]
    ...     ).tz_localize("Asia/Shanghai")})
    >>> res = check_sop(df, sop, precision=False)
    >>> res.cases[["case_id", "fitness", "conforming"]]
      case_id  fitness  conforming
    0       1      1.0        True
    1       2      0.8       False
    >>> res.deviations[["case_id", "type", "step"]]
      case_id          type step
    0       2  skipped_step   派单

    With the bundled exports: ``check_sop(read_tickets("sample_logs/"),
    "sample_logs/sop_complaint.yaml").summary``.
    """
    t0 = time.perf_counter()
    if progress is None:
        progress = sys.stderr.isatty()
    tlog = as_ticket_log(log)
    analysis = sop_check_analysis(
        sop,
        method=method,
        max_seconds=max_seconds,
        workers=workers,
        precision=precision,
        cutoff=cutoff,
        progress=progress,
        states=states,
        started=t0,
    )
    return run(analysis, [tlog])


def sop_check_analysis(
    sop: SOP | str | os.PathLike[str],
    *,
    method: Literal["alignments", "token_replay", "auto"] = "auto",
    max_seconds: float | None = None,
    workers: int | None = None,
    precision: bool = True,
    cutoff: pd.Timestamp | str | None = None,
    progress: bool = False,
    states: TicketStates | None = None,
    started: float | None = None,
) -> SOPCheckAnalysis:
    """The :class:`SOPCheckAnalysis` of :func:`check_sop`'s options, checked (the pandas
    and the Dask functions build it alike); ``started``: when the time box starts."""
    check_choice("check_sop", "method", method, ("alignments", "token_replay", "auto"))
    if max_seconds is not None and (
        isinstance(max_seconds, bool) or not isinstance(max_seconds, int | float) or max_seconds < 0
    ):
        raise InvalidParameterError(
            f"The 'max_seconds' parameter of check_sop must be a non-negative number or None. "
            f"Got {max_seconds!r} instead."
        )
    if workers is None:
        workers = min(2, os.cpu_count() or 1)
    workers = check_positive_int("check_sop", "workers", workers)
    return SOPCheckAnalysis(
        _as_sop(sop),
        method,
        max_seconds,
        precision,
        cutoff,
        workers,
        bool(progress),
        states,
        time.perf_counter() if started is None else started,
    )


def _as_sop(sop: Any) -> SOP:
    out = as_sop(sop, func="check_sop")
    if out is None:
        raise InvalidParameterError(
            "The 'sop' parameter must be an SOP (svcmining.load_sop(...)), a mapping or a path. "
            "Got None instead."
        )
    return out


def compare_with_sop(
    log: LogLike | Any, sop: SOP | str | os.PathLike[str], *, rare: float = 0.01
) -> SOPComparison:
    """Flows the tickets take versus what the SOP allows.

    Parameters
    ----------
    log : TicketLog, pandas.DataFrame or ProcessGraph
        The event log, or a graph from :func:`svcmining.discover_dfg` (activity labels are
        mapped to their SOP steps; where several labels of one step merge, ``cases`` is
        summed and ``median_hours`` is not available).
    sop : SOP or path
        The SOP.
    rare : float
        An SOP flow taken by fewer than this share of cases is ``rare``.

    Returns
    -------
    SOPComparison
        ``edges`` with status conforming / extra / rare / unused, and ``plot()``.

    Examples
    --------
    >>> cmp = compare_with_sop(log, sop)     # doctest: +SKIP
    >>> cmp.extra.head()                      # doctest: +SKIP
    """
    from ._validation import check_fraction

    check_fraction("compare_with_sop", "rare", rare)
    sop = _as_sop(sop)
    try:
        auto: _Automaton | None = automaton_for(sop)
    except _TooLarge:
        auto = None
    if auto is None:
        raise SOPDefinitionError(
            f"SOP {sop.name!r} has too many states to list its flows (> {_MAX_STATES})."
        )
    if all(hasattr(log, a) for a in ("edges", "start_activities", "end_activities", "n_cases")):
        return _graph_flows(log, sop, allowed_pairs(auto), rare=rare)
    events = as_events(log)
    return _compare(encode(events, sop), sop, allowed_pairs(auto), rare=rare)


def _compare(
    coded: Coded, sop: SOP, allowed: set[tuple[str, str]] | None, rare: float
) -> SOPComparison:
    """Directly-follows flows of the log against the SOP's allowed pairs (``None``: the net
    was too large to enumerate them; every taken flow is then ``not_checked``)."""
    names, src, tgt, case, hours, counts = flow_parts(coded, sop)
    return _flows_table(names, src, tgt, case, hours, counts, coded.n_cases, sop, allowed, rare)


def _flows_table(
    names: list[str],
    p_src: np.ndarray,
    p_tgt: np.ndarray,
    p_case: np.ndarray,
    p_hours: np.ndarray,
    node_counts: np.ndarray,
    n_cases: int,
    sop: SOP,
    allowed: set[tuple[str, str]] | None,
    rare: float,
) -> SOPComparison:
    """The flow comparison from the flows of all tickets (in log order)."""
    n_nodes = len(names)
    key = p_src * n_nodes + p_tgt
    pairs = pd.DataFrame({"key": key, "case": p_case, "hours": p_hours})
    g = pairs.groupby("key", sort=True)
    # distinct (pair, case) combinations: pairs coded densely, then one sort of
    # case * k + pair, which is nearly sorted already (rows come case by case)
    present = np.bincount(key, minlength=n_nodes * n_nodes) > 0
    k = max(int(present.sum()), 1)
    inv = (np.cumsum(present) - 1)[key]
    combo = np.sort(p_case.astype(np.int64) * k + inv, kind="stable")
    first = np.r_[True, combo[1:] != combo[:-1]] if len(combo) else np.zeros(0, bool)
    n_case_pair = np.bincount(combo[first] % k, minlength=k)
    taken = (
        pd.DataFrame(
            {
                "count": g.size(),
                "cases": pd.Series(
                    n_case_pair[: len(np.flatnonzero(present))], index=np.flatnonzero(present)
                ),
                "mean_hours": g["hours"].mean(),
                "median_hours": g["hours"].median(),
            }
        )
        .rename_axis("key")
        .reset_index()
    )
    taken["source"] = [names[k // n_nodes] for k in taken["key"]]
    taken["target"] = [names[k % n_nodes] for k in taken["key"]]
    taken = taken.drop(columns="key")
    counts = pd.Series(node_counts, index=names)
    return _classify_flows(taken, counts, n_cases, sop, allowed, rare)


def _graph_flows(
    graph: Any, sop: SOP, allowed: set[tuple[str, str]] | None, rare: float
) -> SOPComparison:
    """The same comparison from a discovered directly-follows graph (``discover_dfg``)."""
    lab_map = sop.label_map()

    def prim(s: pd.Series) -> pd.Series:
        return s.map(lambda a: lab_map.get(a, a)).astype(object)

    e = graph.edges
    hours_col = "wait_mean_hours" if "wait_mean_hours" in e.columns else None
    parts = [
        pd.DataFrame(
            {
                "source": prim(e["source"]),
                "target": prim(e["target"]),
                "count": e["count"].to_numpy(),
                "cases": e["cases"].to_numpy(),
                "_w": (e[hours_col] * e["count"]).to_numpy() if hours_col else np.nan,
            }
        )
    ]
    for tab, first in ((graph.start_activities, True), (graph.end_activities, False)):
        acts = prim(tab["activity"])
        parts.append(
            pd.DataFrame(
                {
                    "source": "[start]" if first else acts,
                    "target": acts if first else "[end]",
                    "count": tab["count"].to_numpy(),
                    "cases": tab["count"].to_numpy(),
                    "_w": np.nan,
                }
            )
        )
    allp = pd.concat(parts, ignore_index=True)
    g = allp.groupby(["source", "target"], sort=True)
    taken = g[["count", "cases"]].sum()
    w = g["_w"].sum(min_count=1)
    taken["mean_hours"] = (w / taken["count"]).to_numpy()
    taken["median_hours"] = np.nan
    taken = taken.reset_index()
    a = graph.activities
    counts = pd.Series(a["count"].to_numpy(), index=prim(a["activity"])).groupby(level=0).sum()
    return _classify_flows(taken, counts, int(graph.n_cases), sop, allowed, rare)


def _classify_flows(
    taken: pd.DataFrame,
    counts: pd.Series,
    n_cases: int,
    sop: SOP,
    allowed: set[tuple[str, str]] | None,
    rare: float,
) -> SOPComparison:
    if allowed is None:
        taken["status"] = "not_checked"
        allowed = set()
    is_allowed = np.array(
        [(s, t) in allowed for s, t in zip(taken["source"], taken["target"], strict=True)],
        dtype=bool,
    )
    status = np.where(
        is_allowed, np.where(taken["cases"] < rare * n_cases, "rare", "conforming"), "extra"
    )
    if "status" not in taken.columns:
        taken["status"] = status
    seen = set(zip(taken["source"], taken["target"], strict=True))
    unused = sorted(allowed - seen)
    un = pd.DataFrame(
        {
            "source": [u[0] for u in unused],
            "target": [u[1] for u in unused],
            "count": 0,
            "cases": 0,
            "mean_hours": np.nan,
            "median_hours": np.nan,
            "status": "unused",
        }
    )
    edges = pd.concat([taken, un], ignore_index=True) if len(un) else taken
    edges = edges[["source", "target", "status", "count", "cases", "mean_hours", "median_hours"]]
    edges = edges.astype({"count": "int64", "cases": "int64"})
    step_by_label = {s.label: s for s in sop.steps}
    seen_names = set(counts.index[counts.to_numpy() > 0]) - {"[start]", "[end]"}
    node_names = [s.label for s in sop.steps] + sorted(seen_names - set(step_by_label))
    nodes = pd.DataFrame(
        {
            "activity": node_names,
            "step_id": [step_by_label[n].id if n in step_by_label else None for n in node_names],
            "stage": [sop.stage_of(n) for n in node_names],
            "count": [int(counts.get(n, 0)) for n in node_names],
        }
    )
    return SOPComparison(edges=edges.reset_index(drop=True), nodes=nodes, sop_name=sop.name)


def _not_in_sop(lang: str) -> str:
    return tr(lang, en="(not in SOP)", zh="（不在 SOP 中）")


def _dot_quote(s: object) -> str:
    from ._safetext import escape_text

    text = (
        escape_text(str(s), keep="\n")
        .replace("\\", "\\\\")
        .replace('"', '\\"')
        .replace("\n", "\\n")
    )
    return '"' + text + '"'


@dataclass(frozen=True)
class SOPCheckAnalysis:
    """:func:`check_sop` as a context, a kernel and a combine (:mod:`svcmining.core`).

    The context (:class:`SOPVariantsAnalysis`) ranks the variants of the whole log and
    aligns each once (one time box for the log), with the cutoff of the whole log. The
    kernel checks whole tickets (deviations spread from their variants, departments,
    SLAs, pending steps, flows); the combine adds the step counts and builds the flow
    comparison, the SLA attainment and the summary over all tickets in log order.
    """

    sop: SOP
    method: Literal["alignments", "token_replay", "auto"] = "auto"
    max_seconds: float | None = None
    precision: bool = True
    cutoff: Any = None
    workers: int = 1
    progress: bool = False
    states: TicketStates | None = None
    started: float | None = None

    def context(self) -> SOPVariantsAnalysis:
        """The log's variants, aligned, and its cutoff."""
        return SOPVariantsAnalysis(self)

    def kernel(self, part: Any, ctx: SOPContext) -> SOPCheckPart:
        """Check the tickets of ``part``."""
        return check_part(self, part, ctx)

    def combine(self, parts: Sequence[SOPCheckPart], ctx: SOPContext) -> ConformanceResult:
        """The result over the whole log."""
        sop = self.sop
        one = len(parts) == 1
        cases = parts[0].cases if one else pd.concat([p.cases for p in parts], ignore_index=True)
        deviations = (
            parts[0].deviations
            if one
            else pd.concat([p.deviations for p in parts], ignore_index=True)
        )
        sla_tab = parts[0].slas if one else pd.concat([p.slas for p in parts], ignore_index=True)
        n_cases = len(cases)
        steps_tab = parts[0].steps.copy()
        text = ("step", "step_name", "label", "deviation_rate")
        num = [c for c in steps_tab.columns if c not in text]
        for c in num:
            steps_tab[c] = sum(p.steps[c].to_numpy() for p in parts)
        steps_tab["deviation_rate"] = (
            steps_tab["cases_with_deviation"] / n_cases if n_cases else np.nan
        )
        # ---- flows against the SOP, over all tickets
        if len(parts) == 1:  # the codes are the log's already
            names, counts = parts[0].flow_names, parts[0].node_counts
            f_src, f_tgt, f_case, f_hours = parts[0].flows
        else:
            names = [*sorted(set().union(*(p.flow_names[:-2] for p in parts))), "[start]", "[end]"]
            index = pd.Index(names)
            offset = 0
            src, tgt, case, hours = [], [], [], []
            counts = np.zeros(len(names), dtype=np.int64)
            for p in parts:
                m = np.asarray(index.get_indexer(p.flow_names), dtype=np.int64)
                s, t, c, h = p.flows
                src.append(m[s])
                tgt.append(m[t])
                case.append(c + offset)
                hours.append(h)
                counts[m] += p.node_counts
                offset += len(p.cases)
            f_src, f_tgt, f_case, f_hours = (np.concatenate(x) for x in (src, tgt, case, hours))
        comparison = _flows_table(
            names, f_src, f_tgt, f_case, f_hours, counts, n_cases, sop, ctx.allowed, 0.0
        )
        unk_cases = cases["variant"].isin(ctx.unknown_variants)
        flow_ok = (cases["fitness"] >= 1.0) & ~unk_cases & (cases["method"] == "alignments")
        flow_ok |= (cases["method"] == "token_replay") & (cases["fitness"] >= 1.0) & ~unk_cases
        summary = summary_frame(
            cases,
            n_variants=len(ctx.var_method),
            log_fitness=ctx.log_fitness,
            precision=ctx.precision,
            flow_rate=float(flow_ok.mean()) if n_cases else float("nan"),
            slas=sla_tab,
            seconds=time.perf_counter() - ctx.started,
        )
        return ConformanceResult(
            summary=summary,
            cases=cases,
            deviations=deviations,
            steps=steps_tab,
            slas=sla_tab.drop(columns=["detail"]),
            sla_attainment=sla_attainment(sla_tab, sop),
            comparison=comparison,
        )
