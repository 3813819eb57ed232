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
import itertools
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from ._automaton import INF as _INF
from ._automaton import MAX_STATES as _MAX_STATES
from ._automaton import MOVE_COST
from ._automaton import TAU_COST as TAU_COST
from ._automaton import Automaton as _Automaton
from ._automaton import TooLarge as _TooLarge
from ._automaton import build_automaton as _build_automaton
from ._repr import counts, html_table, pct
from ._time import cutoff as cutoff_of
from ._validation import check_choice, check_positive_int
from .core import run
from .eventlog import LogLike, as_events, as_ticket_log, frame_of, log_codes, map_distinct
from .exceptions import InvalidParameterError, SOPDefinitionError
from .sop import CASE_START, SOP, as_sop, choice_groups
from .states import WAITING, TicketStates, as_states, judge_log

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

_PARALLEL_MIN_VARIANTS = 2000
_CHUNK = 100

DEVIATION_TYPES = (
    "skipped_step",
    "inserted_step",
    "out_of_order",
    "unknown_activity",
    "wrong_department",
    "sla_breach",
    "repeated_step",
    "not_fitting",
)
_TAIL_DETAIL = "required step not done (the case never got that far)"
_DEV_COLUMNS = [
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


# =============================================================================
# The reachability graph and the alignment engine
# =============================================================================
def _align(auto: _Automaton, seq: Sequence[int]) -> tuple[int, list[tuple[int, int]]]:
    """Optimal alignment of ``seq`` (label indices, -1 = unknown to the model).

    Returns the cost and the moves as (log position or -1, model label or -1):
    sync = (pos, lab), log move = (pos, -1), model move = (-1, lab); taus omitted.
    """
    n_states = auto.n_states
    dist = auto.dist
    cols = np.arange(n_states)
    c = dist[auto.init].copy()
    closure_pred = [np.full(n_states, auto.init, dtype=np.int64)]
    d_kind: list[np.ndarray] = []
    d_src: list[np.ndarray] = []
    by_label = {}
    for a in set(seq):
        if a >= 0:
            sel = auto.edge_lab == a
            by_label[a] = (auto.edge_src[sel], auto.edge_dst[sel])
    for a in seq:
        d = c + MOVE_COST
        kind = np.zeros(n_states, dtype=np.int8)  # 0 log move, 1 sync
        src = cols.copy()
        if a >= 0:
            es, ed = by_label[a]
            for s, t in zip(es.tolist(), ed.tolist(), strict=True):
                v = c[s]
                if v <= d[t] and not (kind[t] == 1 and v == d[t]):
                    d[t] = v
                    kind[t] = 1
                    src[t] = s
        d = np.minimum(d, _INF)
        m = d[:, None] + dist
        j = np.argmin(m, axis=0)
        c = np.minimum(m[j, cols], _INF)
        d_kind.append(kind)
        d_src.append(src)
        closure_pred.append(j)
    cost = int(c[auto.final])
    # backtrack
    moves: list[tuple[int, int]] = []
    t = auto.final
    for i in range(len(seq), 0, -1):
        j = int(closure_pred[i][t])
        moves.extend((-1, lab) for lab in reversed(auto.model_path(j, t)))
        if d_kind[i - 1][j] == 1:
            moves.append((i - 1, seq[i - 1]))
            t = int(d_src[i - 1][j])
        else:
            moves.append((i - 1, -1))
            t = j
    moves.extend((-1, lab) for lab in reversed(auto.model_path(auto.init, t)))
    moves.reverse()
    return cost, moves


def _align_chunk(auto: _Automaton, seqs: list[tuple[int, ...]]) -> list[tuple[int, list[Any]]]:
    return [_align(auto, s) for s in seqs]


# =============================================================================
# Results
# =============================================================================
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

    def to_dot(self, *, min_share: float = 0.0) -> str:
        """Graphviz source: SOP flows (black), extra flows (red, counts), unused (grey).

        Extra flows taken by fewer than ``min_share`` of the tickets are left out.
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
                label = q(f"{r.activity}\n(not in SOP) {n}")
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

    def _map_spec(self, min_share: float) -> Any:
        """The overlay as the abstract map :mod:`svcmining.plots` draws without Graphviz."""
        from . import _processmap as plots

        ids = {"[start]": plots._START, "[end]": plots._END}
        nodes = [
            plots._Node(plots._START, "", "", "#222222", kind="start"),
        ]
        for r in self.nodes.itertuples(index=False):
            n = f"{int(r.count):,}"
            if r.step_id is None or pd.isna(r.step_id):
                nodes.append(
                    plots._Node(
                        str(r.activity),
                        str(r.activity),
                        f"(not in SOP) {n}",
                        "#fff1f0",
                        border="#d62728",
                        dashed=True,
                        text_color="#c0161e",
                    )
                )
            else:
                nodes.append(plots._Node(str(r.activity), str(r.activity), n, "#ffffff"))
        nodes.append(plots._Node(plots._END, "", "", "#222222", kind="end"))
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
                plots._Edge(
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
        return plots._Spec(
            nodes=tuple(nodes),
            edges=tuple(edges),
            title=self.sop_name,
            legend=(
                "Black: SOP flows taken (transitions). Red: flows not in the SOP. Grey: rare SOP "
                "flows; grey dashed: SOP flows never taken. Red dashed boxes: steps not in the SOP."
            ),
            colormap="",
            value_range=(0.0, 1.0),
            colorbar_label="",
            rankdir="TB",
        )

    def plot(self, *, ax: Axes | None = None, min_share: float = 0.0) -> Figure:
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
        from ._processmap import _draw_matplotlib, graphviz_available

        use_cjk_font()
        if not graphviz_available():
            fig = _draw_matplotlib(self._map_spec(min_share), ax)
            return ax.figure if ax is not None else fig  # type: ignore[return-value]
        from ._fonts import graphviz_env

        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "sop.png"
            subprocess.run(  # noqa: S603 - fixed arguments, our own dot source
                ["dot", "-Tpng", "-Gdpi=110", "-o", str(out)],  # noqa: S607
                input=self.to_dot(min_share=min_share).encode("utf-8"),
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
        Per SOP step: ``step``, ``label``, ``cases_with_step``, ``deviations`` per type
        and ``deviation_rate`` (cases with a deviation at that step / all cases).
    slas : pandas.DataFrame
        Per case and SLA: ``case_id``, ``sla``, ``priority``, ``from_at``, ``to_at``,
        ``lower_hours``, ``limit_hours``, ``actual_hours``, ``status`` (``met`` /
        ``breached`` / ``censored``).
    sla_attainment : pandas.DataFrame
        Per SLA and priority (``priority`` = ``all`` for the total): ``met``,
        ``breached``, ``censored``, ``attainment``.
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

    def plot(self, *, ax: Axes | None = None, min_share: float = 0.0) -> Figure:
        """The SOP drawn with the actual flows overlaid (see :meth:`SOPComparison.plot`)."""
        return self.comparison.plot(ax=ax, min_share=min_share)

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


# =============================================================================
# check_sop
# =============================================================================
@dataclass
class _Coded:
    """The log as integer codes (no per-event Python work downstream)."""

    case_codes: np.ndarray  # per event
    case_ids: np.ndarray  # per case (object)
    starts: np.ndarray  # first event row of each case
    act_codes: np.ndarray  # per event, into act_names
    act_names: list[str]
    step_of_act: np.ndarray  # per activity: index into sop.steps, -1 unknown
    ts_ns: np.ndarray  # per event, int64 ns since epoch (UTC)
    tz: Any
    dept_codes: np.ndarray | None  # per event, -1 missing
    dept_names: list[str]
    priority: np.ndarray | None  # per case (object)

    @property
    def n_cases(self) -> int:
        return len(self.case_ids)

    def step_codes(self) -> np.ndarray:
        """Per event: index of its SOP step, -1 when unknown."""
        return self.step_of_act[self.act_codes] if len(self.act_codes) else self.act_codes


def _encode(data: LogLike, sop: SOP) -> _Coded:
    events = frame_of(data)
    case_codes, case_ids = log_codes(data, "case_id")
    n = len(events)
    starts = (
        np.flatnonzero(np.r_[True, case_codes[1:] != case_codes[:-1]])
        if n
        else np.zeros(0, dtype=np.int64)
    )
    act_codes, act_uniques = log_codes(data, "activity", sort=True)
    act_names = [str(a) for a in act_uniques]
    idx = {st.id: i for i, st in enumerate(sop.steps)}
    step_of_act = np.array(
        [idx[sop.step_of(a).id] if sop.step_of(a) is not None else -1 for a in act_names],  # type: ignore[union-attr]
        dtype=np.int64,
    )
    ts = events["timestamp"]
    ts_ns = _to_ns(ts)
    dept_codes = None
    dept_names: list[str] = []
    if "department" in events.columns:
        dept_codes, d_uniques = log_codes(data, "department", sort=True)
        dept_names = [str(d) for d in d_uniques]
    priority = None
    if "priority" in events.columns and n:
        priority = np.asarray(events["priority"].iloc[starts].to_numpy(dtype=object))
    return _Coded(
        case_codes=np.asarray(case_codes, dtype=np.int64),
        case_ids=np.asarray(case_ids, dtype=object),
        starts=starts.astype(np.int64),
        act_codes=np.asarray(act_codes, dtype=np.int64),
        act_names=act_names,
        step_of_act=step_of_act,
        ts_ns=ts_ns,
        tz=ts.dt.tz,
        dept_codes=None if dept_codes is None else np.asarray(dept_codes, dtype=np.int64),
        dept_names=dept_names,
        priority=priority,
    )


_NAT = np.iinfo(np.int64).min


def _to_ns(ts: pd.Series) -> np.ndarray:
    """tz-aware Series -> int64 ns since the epoch (UTC); NaT -> _NAT."""
    naive = ts.dt.tz_convert("UTC").dt.tz_localize(None)
    return np.asarray(naive.to_numpy().astype("datetime64[ns]").view(np.int64))


def _from_ns(ns: np.ndarray, tz: Any) -> pd.Series:
    """int64 ns (UTC, _NAT = missing) -> tz-aware Series."""
    arr = np.asarray(ns, dtype=np.int64).view("datetime64[ns]")
    return pd.Series(arr).dt.tz_localize("UTC").dt.tz_convert(tz)


def _summary_frame(
    cases: pd.DataFrame,
    *,
    n_variants: int,
    log_fitness: float,
    precision: float,
    flow_rate: float,
    slas: pd.DataFrame,
    seconds: float,
) -> pd.DataFrame:
    """The ``summary`` table of a :class:`ConformanceResult` (also built by the Dask version)."""
    n_cases = len(cases)
    n_met = int((slas["status"] == "met").sum())
    n_br = int((slas["status"] == "breached").sum())
    conf = float(cases["conforming"].mean()) if n_cases else float("nan")
    figures = {
        "cases": float(n_cases),
        "variants": float(n_variants),
        "log_fitness": log_fitness,
        "average_trace_fitness": float(cases["fitness"].mean()) if n_cases else float("nan"),
        "precision": precision,
        "conformance_rate": conf,
        "flow_conformance_rate": flow_rate,
        "deviation_rate": 1 - conf,
        "sla_attainment": n_met / (n_met + n_br) if n_met + n_br else float("nan"),
        "cases_aligned": float((cases["method"] == "alignments").sum()),
        "cases_token_replay": float((cases["method"] == "token_replay").sum()),
        "seconds": seconds,
    }
    return pd.DataFrame({"metric": list(figures), "value": list(figures.values())})


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


def _drop_pending(
    dev: pd.DataFrame,
    case_open: np.ndarray,
    sla_tab: pd.DataFrame,
    sla_case: np.ndarray,
    sop: SOP,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split off skipped steps the case simply has not reached yet (pending, not deviations).

    A step in the tail of the alignment (after the last step done) is pending when the
    case is open at the cutoff, or when it is the target of an SLA whose clock is still
    running (censored), e.g. a follow-up call not yet due 30 h after closing.
    """
    tail = (dev["type"] == "skipped_step").to_numpy() & (dev["detail"] == _TAIL_DETAIL).to_numpy()
    if not tail.any():
        return dev, pd.DataFrame({"case_code": [], "step": [], "_s": []})
    cc = dev["case_code"].to_numpy(dtype=np.int64)
    pend = tail & case_open[cc]
    censored = sla_tab["status"].to_numpy() == "censored"
    if censored.any():
        to_of = {x.id: x.to for x in sop.slas}
        waiting = set(
            zip(
                sla_case[censored].tolist(),
                map_distinct(sla_tab.loc[censored, "sla"], to_of).tolist(),
                strict=True,
            )
        )
        steps = dev["step"].to_numpy(dtype=object)
        idx = np.flatnonzero(tail & ~pend)
        hit = [(int(cc[i]), steps[i]) in waiting for i in idx]
        pend[idx[np.array(hit, dtype=bool)]] = True
    pending = dev.loc[pend, ["case_code", "step"]]
    stage_of = {x: sop.stage_of(sop.step(x).label) for x in pending["step"].unique()}
    stage = map_distinct(pending["step"], stage_of)
    return dev[~pend].reset_index(drop=True), pending.assign(_s=stage)


def _pending_text(pending: pd.DataFrame, n_cases: int, case_ids: np.ndarray) -> pd.Series:
    """Per case: its pending steps ';'-joined in SOP stage order ("" for none).

    ``pending`` has ``case_code``, ``step`` and the step's stage ``_s``.
    """
    if not len(pending):
        return pd.Series("", index=range(n_cases), dtype="str")
    cc = pending["case_code"].to_numpy(dtype=np.int64)
    steps = pending[["_s", "step"]].drop_duplicates().sort_values(["_s", "step"], kind="stable")
    names = steps["step"].tolist()
    code = pd.Index(names).get_indexer(pending["step"])
    if len(names) <= 62 and not pd.Series(cc * len(names) + code).duplicated().any():
        # each step at most once per case: a bitmask per case, joined in (stage, step) order
        return pd.Series(_joined_flags(cc, code, n_cases, names, sort_names=False), dtype="str")
    ordered = pending.sort_values(["case_code", "_s", "step"], kind="stable")
    joined = ordered.groupby("case_code", sort=False)["step"].agg(";".join)
    out = pd.Series("", index=range(n_cases), dtype="str")
    out[joined.index.to_numpy()] = joined.to_numpy()
    return out


def _as_sop(sop: Any) -> SOP:
    out = as_sop(sop, func="check_sop")
    if out is None:
        raise InvalidParameterError(
            "The 'sop' parameter must be an SOP (svcmining.load_sop(...)), a mapping or a path. "
            "Got None instead."
        )
    return out


def _automaton_for(sop: SOP) -> _Automaton:
    cached = sop.__dict__.get("_automaton_cache")
    if cached is None:
        net, im, fm = sop.petri_net()
        cached = _build_automaton(net, im, fm)
        object.__setattr__(sop, "_automaton_cache", cached)
    return cached


def _end_labels(auto: _Automaton | None) -> set[str]:
    if auto is None:
        return set()
    ok = auto.dist[auto.edge_dst, auto.final] < MOVE_COST
    return {auto.labels[i] for i in auto.edge_lab[ok]}


def _run_alignments(
    auto: _Automaton,
    seqs: list[tuple[int, ...]],
    out: list[Any],
    workers: int,
    deadline: float | None,
    progress: bool,
) -> None:
    chunks = [list(range(i, min(i + _CHUNK, len(seqs)))) for i in range(0, len(seqs), _CHUNK)]
    bar = None
    if progress:
        try:
            from tqdm.auto import tqdm

            bar = tqdm(total=len(seqs), desc="aligning variants", unit="variant")
        except ImportError:  # pragma: no cover
            bar = None

    def done(idx: list[int], res: list[Any]) -> None:
        for v, r in zip(idx, res, strict=True):
            out[v] = r
        if bar is not None:
            bar.update(len(idx))

    try:
        if workers > 1 and len(seqs) >= _PARALLEL_MIN_VARIANTS:
            with ProcessPoolExecutor(max_workers=workers) as pool:
                pending = {}
                it = iter(chunks)
                for _ in range(workers * 2):
                    c = next(it, None)
                    if c is None:
                        break
                    pending[pool.submit(_align_chunk, auto, [seqs[v] for v in c])] = c
                while pending:
                    fut = next(iter(pending))
                    idx = pending.pop(fut)
                    done(idx, fut.result())
                    if deadline is not None and time.perf_counter() > deadline:
                        continue  # submit nothing more; finish what runs
                    c = next(it, None)
                    if c is not None:
                        pending[pool.submit(_align_chunk, auto, [seqs[v] for v in c])] = c
        else:
            for c in chunks:
                if deadline is not None and time.perf_counter() > deadline:
                    break
                done(c, _align_chunk(auto, [seqs[v] for v in c]))
    finally:
        if bar is not None:
            bar.close()


def _to_pm4py_log(labels: list[str], seqs: list[tuple[int, ...]], weights: Any = None) -> Any:
    from pm4py.objects.log.obj import Event, EventLog, Trace

    log = EventLog()
    for i, s in enumerate(seqs):
        tr = Trace([Event({"concept:name": labels[c]}) for c in s if c >= 0])
        tr.attributes["concept:name"] = str(i)
        n = 1 if weights is None else int(weights[i])
        for _ in range(n):
            log.append(tr)
    return log


def _run_pm4py_alignments(
    net: Any,
    im: Any,
    fm: Any,
    labels: list[str],
    seqs: list[tuple[int, ...]],
    out: list[Any],
    deadline: float | None,
) -> None:
    """Fallback for nets with huge state spaces: pm4py's A* per variant (single process)."""
    from pm4py.algo.conformance.alignments.petri_net import algorithm as ali

    lab_idx = {lab: i for i, lab in enumerate(labels)}
    for v, s in enumerate(seqs):
        if deadline is not None and time.perf_counter() > deadline:
            return
        trace = _to_pm4py_log(labels, [s])[0]
        a = ali.apply_trace(trace, net, im, fm)
        moves: list[tuple[int, int]] = []
        pos = 0
        known_pos = [p for p, c in enumerate(s) if c >= 0]
        unk = [p for p, c in enumerate(s) if c < 0]
        for lg, md in a["alignment"]:
            if lg != ">>" and md != ">>":
                moves.append((known_pos[pos], lab_idx[md]))
                pos += 1
            elif lg != ">>":
                moves.append((known_pos[pos], -1))
                pos += 1
            elif md is not None:
                moves.append((-1, lab_idx[md]))
        moves += [(p, -1) for p in unk]
        out[v] = (int(a["cost"]) + MOVE_COST * len(unk), moves)


def _pm4py_best_worst(net: Any, im: Any, fm: Any) -> int:
    from pm4py.algo.conformance.alignments.petri_net import algorithm as ali
    from pm4py.objects.log.obj import Trace

    return int(ali.apply_trace(Trace(), net, im, fm)["cost"])


def _token_replay(
    net: Any, im: Any, fm: Any, labels: list[str], seqs: list[tuple[int, ...]]
) -> list[tuple[float, bool]]:
    """pm4py token replay per variant; each unknown activity adds one missing, one
    consumed, one produced and one remaining token (it cannot fire), so it lowers fitness."""
    from pm4py.algo.conformance.tokenreplay import algorithm as token_replay

    res = token_replay.apply(
        _to_pm4py_log(labels, seqs), net, im, fm, parameters={"show_progress_bar": False}
    )
    out = []
    for s, r in zip(seqs, res, strict=True):
        k = sum(1 for c in s if c < 0)
        m, c = r["missing_tokens"] + k, r["consumed_tokens"] + k
        rem, p = r["remaining_tokens"] + k, r["produced_tokens"] + k
        fit = 0.5 * (1 - m / c if c else 1) + 0.5 * (1 - rem / p if p else 1)
        out.append((float(fit), bool(r["trace_is_fit"]) and k == 0))
    return out


def _precision(auto: _Automaton, seqs: list[tuple[int, ...]], freq: Any) -> float:
    """ETC alignments precision, exactly as pm4py's ``precision_alignments`` computes it.

    For each log prefix: the model states in which optimal prefix replays (synchronous
    and silent moves only, fewest silent moves) stop; the labels eventually enabled
    there are the activated transitions, those never seen after the prefix in the log
    the escaping edges. Computed on a trie of the variants (weighted by frequency)
    with the reachability graph, instead of one A* search per prefix.
    """
    dist = auto.dist
    dtau = np.where(dist < MOVE_COST, dist, _INF)  # silent-only paths
    n_lab = len(auto.labels)
    enabled_here = np.zeros((auto.n_states, n_lab), dtype=bool)
    enabled_here[auto.edge_src, auto.edge_lab] = True
    reach = dtau < _INF
    eventually = (reach.astype(np.int64) @ enabled_here.astype(np.int64)) > 0
    by_label = {
        a: (auto.edge_src[auto.edge_lab == a], auto.edge_dst[auto.edge_lab == a])
        for a in range(n_lab)
    }
    cols = np.arange(auto.n_states)
    nexts: dict[tuple[int, ...], set[int]] = {}
    counts: dict[tuple[int, ...], int] = {}
    starts: set[int] = set()
    n_traces = 0
    for s, f in zip(seqs, freq, strict=True):
        known = tuple(c for c in s if c >= 0)
        n_traces += int(f)
        if known:
            starts.add(known[0])
        for i in range(1, len(known)):
            key = known[:i]
            nexts.setdefault(key, set()).add(known[i])
            counts[key] = counts.get(key, 0) + int(f)
    cache: dict[tuple[int, ...], tuple[np.ndarray, np.ndarray] | None] = {}
    g0 = dtau[auto.init].copy()

    def state(prefix: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray] | None:
        """(stop costs d, closure g) after the prefix; None when it cannot be replayed."""
        if prefix in cache:
            return cache[prefix]
        g = g0 if len(prefix) == 1 else None
        if len(prefix) > 1:
            prev = state(prefix[:-1])
            if prev is None:
                cache[prefix] = None
                return None
            g = prev[1]
        assert g is not None
        es, ed = by_label[prefix[-1]]
        d = np.full(auto.n_states, _INF, dtype=np.int64)
        if len(es):
            np.minimum.at(d, ed, g[es])
        if d.min() >= _INF:
            cache[prefix] = None
            return None
        m = d[:, None] + dtau
        g_next = np.minimum(m[np.argmin(m, axis=0), cols], _INF)
        cache[prefix] = (d, g_next)
        return cache[prefix]

    sum_at = 0
    sum_ee = 0
    for key in sorted(counts):
        st = state(key)
        if st is None:
            continue
        d = st[0]
        stop = d == d.min()
        activated = set(np.flatnonzero(eventually[stop].any(axis=0)).tolist())
        sum_at += len(activated) * counts[key]
        sum_ee += len(activated - nexts[key]) * counts[key]
    at_init = set(np.flatnonzero(eventually[auto.init]).tolist())
    sum_at += n_traces * len(at_init)
    sum_ee += n_traces * len(at_init - starts)
    return 1 - sum_ee / sum_at if sum_at > 0 else 1.0


def _pm4py_precision(
    net: Any, im: Any, fm: Any, labels: list[str], seqs: list[tuple[int, ...]], freq: Any
) -> float:
    from pm4py.algo.evaluation.precision.variants import align_etconformance

    log = _to_pm4py_log(labels, seqs, weights=freq)
    return float(
        align_etconformance.apply(log, net, im, fm, parameters={"show_progress_bar": False})
    )


def _skip_detail(step_id: str, choice_of: dict[str, frozenset[str]]) -> str:
    others = choice_of.get(step_id)
    if others:
        return f"required step not done (one of {', '.join(sorted({step_id, *others}))})"
    return "required step not done"


def _classify(
    moves: list[tuple[int, int]],
    seq: tuple[int, ...],
    labels: list[str],
    n_model: int,
    step_of_label: dict[str, Any],
    choice_of: dict[str, frozenset[str]],
) -> list[tuple[Any, ...]]:
    """Type the non-synchronous moves of one alignment (rows: type, step, activity, pos, detail).

    Rules, in order: log moves of labels outside the SOP are ``unknown_activity``; a log
    move and a model move of the same step pair up as one ``out_of_order``; a model move
    of a choice branch whose sibling branch was log-moved is that sibling's
    ``out_of_order`` (the step was done, just too early/late), not a skipped step; other
    model moves are ``skipped_step``; other log moves are ``repeated_step`` (a
    non-repeatable step done more than once), ``inserted_step`` (a second choice branch
    done as well) or ``out_of_order``. Reported positions of repeats are the later
    occurrences.
    """
    rows: list[tuple[Any, ...]] = []
    log_moves: dict[int, list[int]] = {}
    model_moves: dict[int, list[int]] = {}
    for k, (pos, lab) in enumerate(moves):
        if pos >= 0 and lab < 0:
            log_moves.setdefault(seq[pos], []).append(pos)
        elif pos < 0:
            model_moves.setdefault(lab, []).append(k)
    due = {}
    for ks in model_moves.values():
        for k in ks:
            due[k] = next((p for p, _ in moves[k + 1 :] if p >= 0), -1)
    occurrences: dict[int, list[int]] = {}
    for p, c in enumerate(seq):
        occurrences.setdefault(c, []).append(p)
    done_steps = {step_of_label[labels[c]].id for c in seq if c < n_model}
    step_code = {step_of_label[labels[c]].id: c for c in range(n_model)}
    # 1. unknown activities
    for c in sorted(log_moves):
        if c >= n_model:
            rows.extend(
                ("unknown_activity", None, labels[c], p, "activity not in the SOP")
                for p in log_moves.pop(c)
            )
    # 2. same-step pairs
    ooo: list[tuple[int, int]] = []  # (code, pos)
    for c in sorted(log_moves):
        mm = model_moves.get(c, [])
        n_pair = min(len(log_moves[c]), len(mm))
        ooo.extend((c, p) for p in log_moves[c][:n_pair])
        log_moves[c] = log_moves[c][n_pair:]
        if mm:
            model_moves[c] = mm[n_pair:]
    # 3. a model move of a choice branch explained by a log-moved sibling done only once
    for c in sorted(model_moves):
        sid = step_of_label[labels[c]].id
        for sib in sorted(choice_of.get(sid, frozenset())):
            sc = step_code[sib]
            while model_moves[c] and log_moves.get(sc) and len(occurrences[sc]) == 1:
                model_moves[c].pop(0)
                ooo.append((sc, log_moves[sc].pop(0)))
    for c, p in ooo:
        rows.append(
            (
                "out_of_order",
                step_of_label[labels[c]].id,
                labels[c],
                p,
                "done, but not where the SOP puts it",
            )
        )
    # 4. remaining log moves
    for c in sorted(log_moves):
        step = step_of_label[labels[c]]
        later = iter(occurrences[c][1:][-len(log_moves[c]) :] if log_moves[c] else [])
        for p in log_moves[c]:
            others = choice_of.get(step.id, frozenset()) & done_steps
            if len(occurrences[c]) > 1 and not step.repeatable:
                rows.append(
                    (
                        "repeated_step",
                        step.id,
                        labels[c],
                        next(later, p),
                        "done again where the SOP does not allow a repeat",
                    )
                )
            elif others and len(occurrences[c]) == 1:
                # report the branch done last as the inserted one
                cand = [(p, step.id)] + [(occurrences[step_code[o]][0], o) for o in others]
                q, sid = max(cand)
                rest = sorted({step.id, *others} - {sid})
                rows.append(
                    (
                        "inserted_step",
                        sid,
                        labels[step_code[sid]],
                        q,
                        f"also did {', '.join(rest)} (the SOP allows one)",
                    )
                )
            else:
                rows.append(
                    ("out_of_order", step.id, labels[c], p, "done, but not where the SOP puts it")
                )
    # 5. remaining model moves (after the last synchronous move: the tail the case has
    #    not reached; check_sop decides whether it is still pending)
    last_sync = max((k for k, (p, lab) in enumerate(moves) if p >= 0 and lab >= 0), default=-1)
    for c in sorted(model_moves):
        step = step_of_label[labels[c]]
        rows.extend(
            (
                "skipped_step",
                step.id,
                labels[c],
                due[k],
                _TAIL_DETAIL if k > last_sync else _skip_detail(step.id, choice_of),
            )
            for k in model_moves[c]
        )
    return rows


def _names(codes: np.ndarray, names: list[str]) -> np.ndarray:
    """Codes -> object array of names, None for -1."""
    lut = np.array([*names, None], dtype=object)
    return lut[np.where(codes >= 0, codes, len(names))]


def _joined_flags(
    case_code: np.ndarray, flag: np.ndarray, n_cases: int, names: list[str], sort_names: bool
) -> np.ndarray:
    """Per case: the ';'-joined sorted set of flag names that occur (vectorised via bitmasks)."""
    mask = np.zeros(n_cases, dtype=np.int64)
    if len(case_code):
        np.bitwise_or.at(mask, case_code, np.left_shift(1, flag.astype(np.int64)))
    uniq, inv = np.unique(mask, return_inverse=True)
    labels = []
    for m in uniq.tolist():
        got = [names[i] for i in range(len(names)) if m >> i & 1]
        labels.append(";".join(sorted(got) if sort_names else got))
    return np.array(labels, dtype=object)[inv] if n_cases else np.zeros(0, dtype=object)


def _department_deviations(coded: _Coded, sop: SOP) -> pd.DataFrame:
    dept_idx = {d: i for i, d in enumerate(coded.dept_names)}
    n_act, n_dep = len(coded.act_names), len(coded.dept_names)
    allowed = np.zeros((n_act + 1, n_dep + 1), dtype=bool)
    checked = np.zeros(n_act, dtype=bool)
    owners: list[str] = []
    step_ids: list[str | None] = []
    for a, name in enumerate(coded.act_names):
        st = sop.step_of(name)
        step_ids.append(st.id if st is not None else None)
        owners.append(" / ".join(st.departments) if st is not None else "")
        if st is not None and st.departments:
            checked[a] = True
            for d in st.departments:
                if d in dept_idx:
                    allowed[a, dept_idx[d]] = True
    dc = coded.dept_codes
    assert dc is not None
    ac = coded.act_codes
    bad = checked[ac] & (dc >= 0) & ~allowed[ac, np.where(dc >= 0, dc, n_dep)]
    idx = np.flatnonzero(bad)
    a_idx = ac[idx]
    deps = _names(dc[idx], coded.dept_names)
    detail = [f"done by {d}, owned by {owners[a]}" for d, a in zip(deps, a_idx, strict=True)]
    return pd.DataFrame(
        {
            "case_code": coded.case_codes[idx],
            "type": "wrong_department",
            "step": np.array(step_ids, dtype=object)[a_idx] if len(idx) else [],
            "activity": np.array(coded.act_names, dtype=object)[a_idx] if len(idx) else [],
            "position": idx - coded.starts[coded.case_codes[idx]],
            "at_ns": coded.ts_ns[idx],
            "department": deps,
            "detail": detail,
            "sla": None,
            "limit_hours": np.nan,
            "actual_hours": np.nan,
        }
    )


_SLA_COLUMNS = [
    "case_id", "sla", "priority", "from_at", "to_at", "lower_hours", "limit_hours",
    "actual_hours", "status", "detail",
]  # fmt: skip
_BIG = np.iinfo(np.int64).max


_STATUS = pd.Index(["met", "breached", "censored"], dtype="str")


def _sla_table(
    coded: _Coded,
    sop: SOP,
    cutoff: pd.Timestamp,
    waiting: np.ndarray | None = None,
    events: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, np.ndarray]:
    """Per case and SLA: clock start/stop, limits, business/elapsed hours and status.

    The clock stops at the first ``to`` event at or after the first ``from`` event and
    starts at the last ``from`` event at or before that stop (e.g. the last close before
    the follow-up call). It stands still while the ticket is in a pause state (the SLA's
    ``pause_in`` labels, else the waiting states: ``waiting`` marks those events; a wait
    lasts until the ticket's next event, or the cutoff). Also returns the case code of
    every row.
    """
    from .calendars import duration_hours

    if not sop.slas or not coded.n_cases:
        return pd.DataFrame(columns=_SLA_COLUMNS), np.zeros(0, dtype=np.int64)
    n = coded.n_cases
    cc = coded.case_codes
    ts = coded.ts_ns
    step = coded.step_codes()
    sidx = {st.id: i for i, st in enumerate(sop.steps)}
    cut_ns = int(_to_ns(pd.Series([cutoff]))[0])
    out = []
    codes = []
    case_str = pd.array(coded.case_ids, dtype="str")  # converted once, taken per SLA
    row_no = np.arange(len(ts), dtype=np.int64)
    case_end = np.append(coded.starts[1:], len(ts)) - 1
    big_row = np.iinfo(np.int64).max
    for sla in sop.slas:
        cal = sop.calendar if sla.hours == "business" else None
        is_to = step == sidx[sla.to]
        if sla.from_step == CASE_START:
            from_first = ts[coded.starts].copy()
        else:
            is_from = step == sidx[sla.from_step]
            from_first = np.full(n, _BIG, dtype=np.int64)
            np.minimum.at(from_first, cc[is_from], ts[is_from])
        to_at = np.full(n, _BIG, dtype=np.int64)
        to_row = np.full(n, big_row, dtype=np.int64)
        ok = is_to & (ts >= from_first[cc])
        np.minimum.at(to_at, cc[ok], ts[ok])
        np.minimum.at(to_row, cc[ok], row_no[ok])
        if sla.from_step == CASE_START:
            from_at = from_first
            from_row = coded.starts.astype(np.int64)
        else:
            from_at = np.full(n, _NAT, dtype=np.int64)
            from_row = np.full(n, -1, dtype=np.int64)
            ok = is_from & (ts <= to_at[cc])
            np.maximum.at(from_at, cc[ok], ts[ok])
            np.maximum.at(from_row, cc[ok], row_no[ok])
        has_from = (from_at != _NAT) & (from_at != _BIG)
        rows = np.flatnonzero(has_from)
        f_ns = from_at[rows]
        t_ns = to_at[rows]
        has_to = t_ns != _BIG
        t_ns = np.where(has_to, t_ns, _NAT)
        prio = coded.priority[rows] if coded.priority is not None else np.full(len(rows), None)
        from_s = _from_ns(f_ns, coded.tz)
        to_s = _from_ns(t_ns, coded.tz)
        actual = np.asarray(duration_hours(from_s, to_s, cal), dtype=float)
        so_far = np.asarray(
            duration_hours(
                from_s, _from_ns(np.full(len(rows), cut_ns, dtype=np.int64), coded.tz), cal
            ),
            dtype=float,
        )
        pause = _pause_events(sla, waiting, events)
        if pause is not None and pause.any() and len(rows):
            # the clock stands still from a pausing event to the ticket's next event; on
            # integer clock values (elapsed or business ns), so a wait that fills the whole
            # interval leaves exactly 0
            from .calendars import working_ns

            # the events and the cutoff on one clock (business clock values of different
            # calls differ by a constant)
            if cal is None:
                base, cut_clock = ts, cut_ns
            else:
                both = working_ns(_from_ns(np.append(ts, cut_ns), coded.tz), cal)
                base, cut_clock = both[:-1], int(both[-1])
            hold = np.zeros(len(ts), dtype=np.int64)
            p_rows = np.flatnonzero(pause[:-1] & (cc[1:] == cc[:-1]))
            hold[p_rows] = base[p_rows + 1] - base[p_rows]
            held = np.cumsum(hold) - hold  # held before each event
            fr = from_row[rows]
            tr = np.where(has_to, to_row[rows], case_end[rows])
            actual = np.where(has_to, actual - (held[tr] - held[fr]) / 3.6e12, actual)
            last = case_end[rows]
            tail = np.where(pause[last], np.maximum(cut_clock - base[last], 0), 0)
            so_far = so_far - ((held[last] - held[fr]) + tail) / 3.6e12
        if sla.by_priority:
            p_codes, p_uniq = pd.factorize(pd.Series(prio, dtype=object))
            lut = np.array([sla.upper_hours(p) for p in p_uniq] + [sla.upper_hours()])
            limit = lut[np.where(p_codes >= 0, p_codes, len(p_uniq))]
        else:
            limit = np.full(len(rows), sla.upper_hours())
        lower = sla.lower_hours
        late = actual > limit
        early = actual < lower
        # text columns from small integer codes (a take, not a string per row)
        status = _STATUS.take(
            np.where(has_to, np.where(late | early, 1, 0), np.where(so_far > limit, 1, 2))
        )
        unit = "business" if cal is not None else "elapsed"
        details = pd.Index(
            [
                f"{sla.to} not done within the limit",
                f"{sla.to} too early ({unit} hours)",
                f"{sla.to} after the limit ({unit} hours)",
            ],
            dtype="str",
        )
        detail = details.take(np.where(~has_to, 0, np.where(early, 1, 2)))
        out.append(
            pd.DataFrame(
                {
                    "case_id": case_str.take(rows),
                    "sla": pd.Index([sla.id], dtype="str").take(np.zeros(len(rows), np.int64)),
                    "priority": prio,
                    "from_at": from_s,
                    "to_at": to_s,
                    "lower_hours": lower,
                    "limit_hours": limit,
                    "actual_hours": actual,
                    "status": status,
                    "detail": detail,
                }
            )
        )
        codes.append(rows)
    res = pd.concat(out, ignore_index=True)
    code = np.concatenate(codes)
    rank = np.repeat(np.arange(len(out)), [len(c) for c in codes])
    order = np.lexsort((rank, code))
    return res.iloc[order].reset_index(drop=True), code[order]


def _pause_events(
    sla: Any, waiting: np.ndarray | None, events: pd.DataFrame | None
) -> np.ndarray | None:
    """Events that hold an SLA's clock: its ``pause_in`` labels, else the waiting states."""
    labels = getattr(sla, "pause_in", None)
    if labels is None:
        return waiting
    if not labels or events is None:
        return None
    from .states import label_mask

    mask = label_mask(events["activity"], labels).to_numpy()
    if "lifecycle" in events.columns:
        mask |= label_mask(events["lifecycle"].fillna(""), labels).to_numpy()
    return mask


def _sla_attainment(sla_tab: pd.DataFrame, sop: SOP) -> pd.DataFrame:
    cols = ["sla", "priority", "met", "breached", "censored", "attainment"]
    if not len(sla_tab):
        return pd.DataFrame(columns=cols)
    t = pd.DataFrame(
        {
            "sla": sla_tab["sla"].astype("str"),
            "priority": sla_tab["priority"].astype("str").fillna("(none)"),
            "status": sla_tab["status"].astype("str"),
        }
    )
    per = t.value_counts(sort=False).unstack("status", fill_value=0)
    tot = t[["sla", "status"]].value_counts(sort=False).unstack("status", fill_value=0)
    tot.index = pd.MultiIndex.from_arrays(
        [tot.index, ["all"] * len(tot)], names=["sla", "priority"]
    )
    both = pd.concat([per, tot])
    for c in ("met", "breached", "censored"):
        if c not in both.columns:
            both[c] = 0
    both = both[["met", "breached", "censored"]].reset_index()
    both.columns.name = None
    n = both["met"] + both["breached"]
    both["attainment"] = np.where(n > 0, both["met"] / n.where(n > 0, 1), np.nan)
    order = {s.id: i for i, s in enumerate(sop.slas)}
    both = both.assign(_o=both["sla"].map(order), _a=both["priority"].eq("all"))
    return (
        both.sort_values(["_o", "_a", "priority"], kind="stable")
        .drop(columns=["_o", "_a"])[cols]
        .reset_index(drop=True)
    )


def _step_table(
    coded: _Coded, sop: SOP, deviations: pd.DataFrame, case_code: np.ndarray
) -> pd.DataFrame:
    n_steps = len(sop.steps)
    n = coded.n_cases
    step = coded.step_codes()
    known = step >= 0
    present = np.zeros((n, n_steps), dtype=bool)
    present[coded.case_codes[known], step[known]] = True
    with_step = present.sum(axis=0)
    sidx = {st.id: i for i, st in enumerate(sop.steps)}
    d_step = map_distinct(deviations["step"], sidx)
    has = d_step.notna().to_numpy()
    ds = d_step[has].to_numpy(dtype=np.int64)
    dc = case_code[has]
    dt = deviations["type"].to_numpy()[has]
    tab = pd.DataFrame(
        {"step": [st.id for st in sop.steps], "label": [st.label for st in sop.steps]}
    )
    tab["cases_with_step"] = with_step
    for t in DEVIATION_TYPES:
        if t in ("unknown_activity", "not_fitting"):
            continue
        tab[t] = np.bincount(ds[dt == t], minlength=n_steps)
    dev_present = np.zeros((n, n_steps), dtype=bool)
    dev_present[dc, ds] = True
    cases_dev = dev_present.sum(axis=0)
    tab["cases_with_deviation"] = cases_dev
    tab["deviation_rate"] = tab["cases_with_deviation"] / n if n else np.nan
    return tab


# =============================================================================
# compare_with_sop
# =============================================================================
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
        auto: _Automaton | None = _automaton_for(sop)
    except _TooLarge:
        auto = None
    if auto is None:
        raise SOPDefinitionError(
            f"SOP {sop.name!r} has too many states to list its flows (> {_MAX_STATES})."
        )
    if all(hasattr(log, a) for a in ("edges", "start_activities", "end_activities", "n_cases")):
        return _graph_flows(log, sop, _allowed_pairs(auto), rare=rare)
    events = as_events(log)
    return _compare(_encode(events, sop), sop, _allowed_pairs(auto), rare=rare)


def _allowed_pairs(auto: _Automaton) -> set[tuple[str, str]]:
    tau_reach = auto.dist < MOVE_COST  # reachable with silent moves only
    labs = [auto.labels[i] for i in auto.edge_lab]
    out: set[tuple[str, str]] = set()
    reach = tau_reach[np.ix_(auto.edge_dst, auto.edge_src)]
    for i, j in zip(*np.nonzero(reach), strict=True):
        out.add((labs[i], labs[j]))
    for j in np.flatnonzero(tau_reach[auto.init, auto.edge_src]):
        out.add(("[start]", labs[j]))
    if auto.final >= 0:
        for i in np.flatnonzero(tau_reach[auto.edge_dst, auto.final]):
            out.add((labs[i], "[end]"))
    return out


def _compare(
    coded: _Coded, sop: SOP, allowed: set[tuple[str, str]] | None, rare: float
) -> SOPComparison:
    """Directly-follows flows of the log against the SOP's allowed pairs (``None``: the net
    was too large to enumerate them; every taken flow is then ``not_checked``)."""
    names, src, tgt, case, hours, counts = _flow_parts(coded, sop)
    return _flows_table(names, src, tgt, case, hours, counts, coded.n_cases, sop, allowed, rare)


def _flow_parts(
    coded: _Coded, sop: SOP
) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The flows of whole tickets: node names (sorted, then ``[start]``, ``[end]``), each
    flow's source, target, ticket and hours, and the events per node."""
    # node names: primary step label, or the activity itself when unknown
    prim = [
        sop.steps[k].label if k >= 0 else a
        for a, k in zip(coded.act_names, coded.step_of_act.tolist(), strict=True)
    ]
    names = [*sorted(set(prim)), "[start]", "[end]"]
    nidx = {x: i for i, x in enumerate(names)}
    node_of_act = np.array([nidx[x] for x in prim], dtype=np.int64)
    act = node_of_act[coded.act_codes] if len(coded.act_codes) else coded.act_codes
    n_ev = len(act)
    new_case = np.zeros(n_ev, dtype=bool)
    new_case[coded.starts] = True
    end_case = np.r_[new_case[1:], True] if n_ev else new_case
    src = np.r_[nidx["[start]"], act[:-1]] if n_ev else act
    src = np.where(new_case, nidx["[start]"], src)
    hours = np.r_[np.nan, np.diff(coded.ts_ns) / 3.6e12] if n_ev else np.zeros(0)
    hours[new_case] = np.nan
    p_src = np.r_[src, act[end_case]].astype(np.int64)
    p_tgt = np.r_[act, np.full(int(end_case.sum()), nidx["[end]"])].astype(np.int64)
    p_case = np.r_[coded.case_codes, coded.case_codes[end_case]].astype(np.int64)
    p_hours = np.r_[hours, np.full(int(end_case.sum()), np.nan)]
    return names, p_src, p_tgt, p_case, p_hours, np.bincount(act, minlength=len(names))


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


def _dot_quote(s: object) -> str:
    from ._safetext import escape_text

    text = (
        escape_text(str(s), keep="\n")
        .replace("\\", "\\\\")
        .replace('"', '\\"')
        .replace("\n", "\\n")
    )
    return '"' + text + '"'


# ----------------------------------------------------------------------------------------------
# check_sop as a context, a kernel and a combine (svcmining.core)


@dataclass(frozen=True, eq=False)
class SOPVariantsPart:
    """The distinct activity sequences of whole tickets (codes into the part's sorted
    ``act_names``) with their tickets, and the part's cutoff."""

    cutoff: pd.Timestamp
    act_names: list[str]
    seqs: list[tuple[int, ...]]
    freq: np.ndarray


@dataclass(frozen=True, eq=False)
class SOPContext:
    """What every part needs to check its tickets: the cutoff, the model code of every
    activity, the rank of every variant of the log (keyed by the bytes of its int32 code
    sequence) and each variant's alignment (method, fitness, deviations), the log fitness
    and precision, and the variants holding an activity the SOP does not know."""

    cutoff: pd.Timestamp
    code_of: dict[str, int]
    rank_of: dict[bytes, int]
    var_method: np.ndarray
    var_fitness: np.ndarray
    vdev: pd.DataFrame
    log_fitness: float
    precision: float
    unknown_variants: list[int]
    allowed: set[tuple[str, str]] | None
    started: float


@dataclass(frozen=True)
class SOPVariantsAnalysis:
    """The :class:`SOPContext` of a log: variants counted per part, then ranked over the
    whole log and aligned once each, within one time box (``max_seconds`` from
    ``started``, the call of :func:`check_sop`)."""

    check: SOPCheckAnalysis

    def context(self) -> None:
        """No whole-log fact is needed."""
        return None

    def kernel(self, part: Any, ctx: None = None) -> SOPVariantsPart:
        """The part's cutoff and distinct activity sequences."""
        cut = cutoff_of(part.events, self.check.cutoff, func="check_sop")
        act_names, seqs, codes = _sequences(part)
        freq = np.bincount(codes, minlength=len(seqs)) if len(codes) else np.zeros(0, int)
        return SOPVariantsPart(cut, act_names, seqs, freq)

    def combine(self, parts: Sequence[SOPVariantsPart], ctx: None = None) -> SOPContext:
        """Rank and align the variants of the whole log."""
        chk = self.check
        sop = chk.sop
        started = time.perf_counter() if chk.started is None else chk.started
        cuts = [p.cutoff for p in parts if not pd.isna(p.cutoff)]
        if len(parts) == 1:
            act_uniques = parts[0].act_names
        else:
            act_uniques = sorted(set().union(*(p.act_names for p in parts)))
        lab_map = sop.label_map()
        net, im, fm = sop.petri_net()
        try:
            auto: _Automaton | None = _automaton_for(sop)
        except _TooLarge:
            auto = None
        model_labels = (
            auto.labels
            if auto is not None
            else sorted({t.label for t in net.transitions if t.label is not None})
        )
        n_model = len(model_labels)
        lab_index = {lab: i for i, lab in enumerate(model_labels)}
        # code per activity: model label index, or n_model + k for the k-th unknown activity
        unknown_names = [a for a in act_uniques if lab_map.get(a) not in lab_index]
        unk_index = {a: n_model + i for i, a in enumerate(unknown_names)}
        code_of = {
            a: unk_index[a] if a in unk_index else lab_index[lab_map[a]] for a in act_uniques
        }
        # variants: distinct model-code sequences, ranked by frequency, then sequence
        count: dict[tuple[int, ...], int] = {}
        for p in parts:
            m = [code_of[a] for a in p.act_names]
            for s, f in zip(p.seqs, p.freq.tolist(), strict=True):
                key = tuple(m[c] for c in s)
                count[key] = count.get(key, 0) + int(f)
        var_seqs = sorted(count, key=lambda s: (-count[s], s))
        freq = np.array([count[s] for s in var_seqs], dtype=np.int64)
        rank_of = {np.array(s, dtype=np.int32).tobytes(): r for r, s in enumerate(var_seqs)}

        # ---- per-variant conformance ----------------------------------------------
        var_results: list[tuple[int, list[tuple[int, int]]] | None] = [None] * len(var_seqs)
        as_model = [tuple(c if c < n_model else -1 for c in s) for s in var_seqs]
        if chk.method in ("alignments", "auto"):
            deadline = None if chk.max_seconds is None else started + float(chk.max_seconds)
            if auto is not None:
                _run_alignments(auto, as_model, var_results, chk.workers, deadline, chk.progress)
            else:
                _run_pm4py_alignments(net, im, fm, model_labels, as_model, var_results, deadline)
        bwc = auto.best_worst_cost if auto is not None else _pm4py_best_worst(net, im, fm)
        var_method = np.array(
            ["alignments" if r is not None else "token_replay" for r in var_results], dtype=object
        )
        var_fitness = np.zeros(len(var_seqs))
        var_cost = np.zeros(len(var_seqs))
        var_bwc = np.array([MOVE_COST * len(s) + bwc for s in var_seqs], dtype=float)
        vdev_rows: list[tuple[Any, ...]] = []
        step_of_label = {s.label: s for s in sop.steps}
        choice_of = choice_groups(sop)
        all_labels = [*model_labels, *unknown_names]
        todo_tr = [v for v, r in enumerate(var_results) if r is None]
        for v, r in enumerate(var_results):
            if r is None:
                continue
            cost, moves = r
            var_cost[v] = cost
            den = var_bwc[v] // MOVE_COST
            var_fitness[v] = 1 - (cost // MOVE_COST) / den if den > 0 else 0.0
            vdev_rows.extend(
                (v, *row)
                for row in _classify(
                    moves, var_seqs[v], all_labels, n_model, step_of_label, choice_of
                )
            )
        if todo_tr:
            tr = _token_replay(net, im, fm, model_labels, [as_model[v] for v in todo_tr])
            for v, (fit, is_fit) in zip(todo_tr, tr, strict=True):
                var_fitness[v] = fit
                var_cost[v] = np.nan
                vdev_rows.extend(_replay_deviations(v, var_seqs[v], all_labels, n_model, is_fit))

        # ---- log-level fitness (pm4py's definition) --------------------------------
        aligned = var_method == "alignments"
        if aligned.any():
            log_fitness = 1 - float((var_cost[aligned] * freq[aligned]).sum()) / float(
                (var_bwc[aligned] * freq[aligned]).sum()
            )
        else:
            log_fitness = (
                float(np.average(var_fitness, weights=freq)) if len(freq) else float("nan")
            )
        prec = float("nan")
        if chk.precision and len(var_seqs):
            if auto is not None:
                prec = _precision(auto, as_model, freq)
            else:
                prec = _pm4py_precision(net, im, fm, model_labels, as_model, freq)
        return SOPContext(
            cutoff=max(cuts) if cuts else pd.NaT,
            code_of=code_of,
            rank_of=rank_of,
            var_method=var_method,
            var_fitness=var_fitness,
            vdev=pd.DataFrame(
                vdev_rows, columns=["variant", "type", "step", "activity", "position", "detail"]
            ),
            log_fitness=log_fitness,
            precision=prec,
            unknown_variants=[v for v, s in enumerate(var_seqs) if any(c >= n_model for c in s)],
            allowed=_allowed_pairs(auto) if auto is not None else None,
            started=started,
        )


def _sequences(tlog: Any) -> tuple[list[str], list[tuple[int, ...]], np.ndarray]:
    """The sorted activity names of a log, its distinct activity sequences (codes into
    them) and the sequence of each ticket; computed once per log (kept on it)."""

    def compute() -> tuple[list[str], list[tuple[int, ...]], np.ndarray]:
        act_codes, act_uniques = log_codes(tlog, "activity", sort=True)
        starts = tlog.case_index()[1]
        buf = np.asarray(act_codes, dtype=np.int32).tobytes()
        bounds = (np.r_[starts, len(act_codes)] * 4).tolist()
        keys = [buf[a:b] for a, b in itertools.pairwise(bounds)]
        codes, uniq = pd.factorize(np.array(keys, dtype=object), sort=False)
        seqs = [tuple(np.frombuffer(k, dtype=np.int32).tolist()) for k in uniq]
        return [str(a) for a in act_uniques], seqs, np.asarray(codes, dtype=np.int64)

    return tlog.derived(("activity sequences",), compute)


def _replay_deviations(
    v: int, seq: tuple[int, ...], all_labels: list[str], n_model: int, is_fit: bool
) -> list[tuple[Any, ...]]:
    """Deviation rows of a variant checked by token replay (untyped)."""
    rows: list[tuple[Any, ...]] = [
        (v, "unknown_activity", None, all_labels[c], pos, "activity not in the SOP")
        for pos, c in enumerate(seq)
        if c >= n_model
    ]
    if not is_fit:
        rows.append(
            (
                v,
                "not_fitting",
                None,
                None,
                -1,
                "token replay: the order does not fit the SOP (untyped; use method='alignments')",
            )
        )
    return rows


@dataclass(frozen=True, eq=False)
class SOPCheckPart:
    """Whole tickets checked: rows per ticket, deviation and SLA, the additive step
    counts and the directly-follows flows against the SOP (codes into ``flow_names``)."""

    cases: pd.DataFrame
    deviations: pd.DataFrame
    slas: pd.DataFrame
    steps: pd.DataFrame
    flow_names: list[str]
    flows: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]
    node_counts: np.ndarray


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
        return _check_part(self, part, ctx)

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
        num = [c for c in steps_tab.columns if c not in ("step", "label", "deviation_rate")]
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
        summary = _summary_frame(
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
            sla_attainment=_sla_attainment(sla_tab, sop),
            comparison=comparison,
        )


def _check_part(chk: SOPCheckAnalysis, tlog: Any, ctx: SOPContext) -> SOPCheckPart:
    sop = chk.sop
    events = tlog.events
    coded = _encode(tlog, sop)
    n_cases = coded.n_cases
    starts = coded.starts
    lengths = np.diff(np.r_[starts, len(events)])
    # the variant of each ticket: its rank over the whole log (from the context)
    act_names, seqs, seq_of_case = _sequences(tlog)
    code_of = [ctx.code_of[a] for a in act_names]
    rank = np.array(
        [ctx.rank_of[np.array([code_of[c] for c in q], dtype=np.int32).tobytes()] for q in seqs],
        dtype=np.int64,
    )
    case_var = rank[seq_of_case] if n_cases else np.zeros(0, dtype=np.int64)

    # ---- open cases and SLA clocks (needed to tell pending from skipped) ---------
    # open as every svcmining analysis judges it (svcmining.states; the SOP's close
    # steps' labels close tickets too); SLA clocks stand still in the waiting states
    tstates = as_states(chk.states, sop=sop, func="check_sop")
    judged = judge_log(tlog, tstates, sop)
    sla_tab, sla_case = _sla_table(coded, sop, ctx.cutoff, judged.kinds == WAITING, events)
    case_open = judged.open

    # ---- spread variant deviations to cases ----------------------------------
    case_tab = pd.DataFrame({"case_code": np.arange(n_cases), "variant": case_var})
    dev = case_tab.merge(ctx.vdev, on="variant", how="inner", sort=False)
    dev, pending = _drop_pending(dev, case_open, sla_tab, sla_case, sop)
    case_code, type_code, deviations = _deviation_table(coded, sop, dev, sla_tab, sla_case)

    # ---- per case ----------------------------------------------------------------
    cases = pd.DataFrame(
        {
            "case_id": pd.array(coded.case_ids, dtype="str"),
            "variant": case_var,
            "n_events": lengths,
            "fitness": ctx.var_fitness[case_var] if n_cases else np.zeros(0),
            "method": ctx.var_method[case_var] if n_cases else np.zeros(0, dtype=object),
        }
    )
    cases["method"] = cases["method"].astype("str")
    cases["n_deviations"] = np.bincount(case_code, minlength=n_cases)
    cases["deviation_types"] = _joined_flags(
        case_code, type_code, n_cases, list(DEVIATION_TYPES), sort_names=True
    )
    cases["conforming"] = cases["n_deviations"] == 0
    is_breach = (sla_tab["status"] == "breached").to_numpy()
    br_case = sla_case[is_breach]
    sla_names = [x.id for x in sop.slas]
    sla_pos = {n: i for i, n in enumerate(sla_names)}
    br_code = map_distinct(sla_tab.loc[is_breach, "sla"], sla_pos).to_numpy()
    cases["sla_breaches"] = _joined_flags(
        br_case, br_code.astype(np.int64), n_cases, sla_names, sort_names=True
    )
    cases["open_at_cutoff"] = case_open
    cases["pending_steps"] = _pending_text(pending, n_cases, coded.case_ids)
    names, *flows, node_counts = _flow_parts(coded, sop)
    return SOPCheckPart(
        cases=cases,
        deviations=deviations,
        slas=sla_tab,
        steps=_step_table(coded, sop, deviations, case_code),
        flow_names=names,
        flows=(flows[0], flows[1], flows[2], flows[3]),
        node_counts=node_counts,
    )


def _deviation_table(
    coded: _Coded, sop: SOP, dev: pd.DataFrame, sla_tab: pd.DataFrame, sla_case: np.ndarray
) -> tuple[np.ndarray, np.ndarray, pd.DataFrame]:
    """The deviations of a part's tickets (steps, departments, SLAs) in ticket order, with
    each row's ticket code and deviation type code."""
    starts = coded.starts
    n = len(coded.act_codes)
    d_pos = dev["position"].to_numpy(dtype=np.int64)
    d_case = dev["case_code"].to_numpy(dtype=np.int64)
    ev_pos = np.where(d_pos >= 0, starts[d_case] + d_pos, -1)
    valid = ev_pos >= 0
    take = np.where(valid, ev_pos, 0)
    dev["at_ns"] = np.where(valid, coded.ts_ns[take], _NAT) if n else _NAT
    if coded.dept_codes is not None and n:
        dc = np.where(valid, coded.dept_codes[take], -1)
        dev["department"] = _names(dc, coded.dept_names)
    else:
        dev["department"] = None
    dev["sla"] = None
    dev["limit_hours"] = np.nan
    dev["actual_hours"] = np.nan
    parts = [dev]
    if coded.dept_codes is not None:
        parts.append(_department_deviations(coded, sop))
    is_breach = (sla_tab["status"] == "breached").to_numpy()
    if is_breach.any():
        breach = sla_tab[is_breach]
        parts.append(
            pd.DataFrame(
                {
                    "case_code": sla_case[is_breach],
                    "type": "sla_breach",
                    "step": map_distinct(breach["sla"], {x.id: x.to for x in sop.slas}).to_numpy(),
                    "activity": None,
                    "position": -1,
                    "at_ns": _to_ns(breach["to_at"]),
                    "department": None,
                    "detail": breach["detail"].to_numpy(),
                    "sla": breach["sla"].to_numpy(),
                    "limit_hours": breach["limit_hours"].to_numpy(),
                    "actual_hours": breach["actual_hours"].to_numpy(),
                }
            )
        )
    cols = ["case_code", "type", "step", "activity", "position", "at_ns", "department",
            "detail", "sla", "limit_hours", "actual_hours"]  # fmt: skip
    nonempty = [p[cols] for p in parts if len(p)]
    raw = (
        pd.concat(nonempty, ignore_index=True)
        if nonempty
        else pd.DataFrame({c: pd.Series(dtype=object) for c in cols})
    )
    type_order = {t: i for i, t in enumerate(DEVIATION_TYPES)}
    pos = raw["position"].to_numpy(dtype=np.int64)
    type_code = map_distinct(raw["type"], type_order).to_numpy(dtype=np.int64)
    sla_rank = map_distinct(raw["sla"], {x.id: i for i, x in enumerate(sop.slas)}).fillna(-1)
    case_code = raw["case_code"].to_numpy(dtype=np.int64)
    row_order = np.lexsort(
        (
            sla_rank.to_numpy(dtype=np.int64),
            type_code,
            np.where(pos >= 0, pos, np.iinfo(np.int64).max),
            case_code,
        )
    )
    raw = raw.iloc[row_order].reset_index(drop=True)
    deviations = pd.DataFrame(
        {
            "case_id": pd.array(coded.case_ids[case_code[row_order]], dtype="str"),
            "type": raw["type"].astype("str"),
            "step": raw["step"].astype(object).where(raw["step"].notna(), None),
            "activity": raw["activity"].astype(object).where(raw["activity"].notna(), None),
            "position": raw["position"].astype("int64"),
            "at": _from_ns(raw["at_ns"].to_numpy(dtype=np.int64), coded.tz),
            "department": raw["department"].astype(object).where(raw["department"].notna(), None),
            "detail": raw["detail"].astype("str"),
            "sla": raw["sla"].astype(object).where(raw["sla"].notna(), None),
            "limit_hours": raw["limit_hours"].astype(float),
            "actual_hours": raw["actual_hours"].astype(float),
        }
    )
    return case_code[row_order], type_code[row_order], deviations
