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
- ``skipped_step`` — a step the SOP requires was not done (a model move);
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
"""

from __future__ import annotations

import html
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

from ._validation import check_choice
from .eventlog import LogLike, as_events
from .exceptions import InvalidParameterError, SOPDefinitionError
from .sop import CASE_START, SOP, choice_groups

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from .calendars import Calendar

__all__ = ["ConformanceResult", "SOPComparison", "check_sop", "compare_with_sop"]

MOVE_COST = 10_000  # pm4py's STD_MODEL_LOG_MOVE_COST
TAU_COST = 1  # pm4py's STD_TAU_COST
_INF = np.int64(1) << 50
_MAX_STATES = 1500
_PARALLEL_MIN_VARIANTS = 400
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
@dataclass
class _Automaton:
    labels: list[str]  # visible label per index
    n_states: int
    init: int
    final: int
    edge_src: np.ndarray  # visible edges
    edge_dst: np.ndarray
    edge_lab: np.ndarray
    dist: np.ndarray  # all-pairs model-move cost (S x S), _INF when unreachable
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
            if self.dist[self.init, s] >= _INF:
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


def _build_automaton(net: Any, im: Any, fm: Any) -> _Automaton:
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
                    if len(states) >= _MAX_STATES:
                        raise _TooLarge
                    states[m2] = len(states)
                    queue.append(m2)
                edges.append((states[m], states[m2], lidx[t.label] if t.label is not None else -1))
    n = len(states)
    final = states.get(mark(fm), -1) if fm is not None else -1
    dist = np.full((n, n), _INF, dtype=np.int64)
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
    dist = np.minimum(dist, _INF)
    vis = [(s, d, lab) for s, d, lab in edges if lab >= 0]
    return _Automaton(
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


class _TooLarge(Exception):
    pass


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

    def to_dot(self) -> str:
        """Graphviz source: SOP flows (black), extra flows (red, counts), unused (grey)."""
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
        for r in self.edges.itertuples(index=False):
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

    def plot(self, *, ax: Axes | None = None) -> Axes:
        """Draw the SOP with the actual flows overlaid (needs Graphviz ``dot``).

        Conforming flows are black with counts, extra flows red with counts, unused SOP
        paths grey dashed; activities not in the SOP are red dashed boxes.
        """
        import matplotlib.image as mpimg
        import matplotlib.pyplot as plt

        from ._fonts import use_cjk_font

        use_cjk_font()
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "sop.png"
            try:
                subprocess.run(  # noqa: S603 - fixed arguments, our own dot source
                    ["dot", "-Tpng", "-Gdpi=110", "-o", str(out)],  # noqa: S607
                    input=self.to_dot().encode("utf-8"),
                    check=True,
                    capture_output=True,
                    timeout=120,
                )
            except FileNotFoundError:
                raise InvalidParameterError(
                    "Drawing the SOP needs Graphviz 'dot' on PATH (apt install graphviz / "
                    "conda install graphviz); to_dot() gives the source."
                ) from None
            img = mpimg.imread(out)
        if ax is None:
            h, w = img.shape[:2]
            _, ax = plt.subplots(figsize=(min(w / 110, 30), min(h / 110, 30)))
        ax.imshow(img)
        ax.set_axis_off()
        return ax

    def _repr_html_(self) -> str:
        counts = self.edges["status"].value_counts()
        head = ", ".join(f"{k}: {v}" for k, v in counts.items())
        return f"<p><b>SOP comparison ({html.escape(head)})</b></p>" + self.edges.head(20).to_html(
            escape=True, index=False
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
        ``conforming``, ``n_deviations``, ``deviation_types``, ``sla_breaches``
        (``;``-joined SLA ids), ``open_at_cutoff``.
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

    def plot(self, *, ax: Axes | None = None) -> Axes:
        """The SOP drawn with the actual flows overlaid (see :meth:`SOPComparison.plot`)."""
        return self.comparison.plot(ax=ax)

    def _repr_html_(self) -> str:
        return (
            "<p><b>SOP conformance</b></p>"
            + self.summary.to_html(escape=True, index=False)
            + self.deviations["type"]
            .value_counts()
            .rename_axis("type")
            .reset_index()
            .to_html(escape=True, index=False)
        )


# =============================================================================
# check_sop
# =============================================================================
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

    Returns
    -------
    ConformanceResult

    Examples
    --------
    >>> import svcmining as svc                                       # doctest: +SKIP
    >>> sop = svc.load_sop("sample_logs/sop_complaint.yaml")         # doctest: +SKIP
    >>> res = svc.check_sop(svc.read_tickets("sample_logs/"), sop)   # doctest: +SKIP
    >>> res.summary                                                   # doctest: +SKIP
    """
    t0 = time.perf_counter()
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
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise InvalidParameterError(
            f"The 'workers' parameter of check_sop must be a positive int or None. "
            f"Got {workers!r} instead."
        )
    sop = _as_sop(sop)
    events = as_events(log)
    if progress is None:
        progress = sys.stderr.isatty()

    lab_map = sop.label_map()
    acts = events["activity"]
    case_codes, case_ids = pd.factorize(events["case_id"], sort=False)
    n_cases = len(case_ids)

    # ---- variants ------------------------------------------------------------
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
    act_codes, act_uniques = pd.factorize(acts, sort=True)
    lab_index = {lab: i for i, lab in enumerate(model_labels)}
    # code per event: model label index, or n_model + k for the k-th unknown activity
    unknown_names = [a for a in act_uniques if lab_map.get(a) not in lab_index]
    unk_index = {a: n_model + i for i, a in enumerate(unknown_names)}
    code_of_unique = np.array(
        [lab_index[lab_map[a]] if a not in unk_index else unk_index[a] for a in act_uniques],
        dtype=np.int64,
    )
    ev_code = code_of_unique[act_codes] if len(acts) else np.zeros(0, dtype=np.int64)
    starts = (
        np.flatnonzero(np.r_[True, case_codes[1:] != case_codes[:-1]])
        if len(events)
        else (np.zeros(0, dtype=np.int64))
    )
    lengths = np.diff(np.r_[starts, len(events)])
    seqs = [tuple(x) for x in np.split(ev_code, starts[1:])] if len(events) else []
    var_codes, var_uniques = pd.factorize(pd.Series(seqs, dtype=object), sort=False)
    var_seqs: list[tuple[int, ...]] = list(var_uniques)
    freq = np.bincount(var_codes, minlength=len(var_seqs)) if len(seqs) else np.zeros(0, int)
    order = sorted(range(len(var_seqs)), key=lambda v: (-freq[v], var_seqs[v]))
    rank = np.empty(len(var_seqs), dtype=np.int64)
    rank[order] = np.arange(len(var_seqs))
    var_seqs = [var_seqs[v] for v in order]
    freq = freq[order] if len(order) else freq
    case_var = rank[var_codes] if len(seqs) else np.zeros(0, dtype=np.int64)

    # ---- per-variant conformance ----------------------------------------------
    use_align = method in ("alignments", "auto")
    var_results: list[tuple[int, list[tuple[int, int]]] | None] = [None] * len(var_seqs)
    as_model = [tuple(c if c < n_model else -1 for c in s) for s in var_seqs]
    if use_align:
        deadline = None if max_seconds is None else t0 + float(max_seconds)
        if auto is not None:
            _run_alignments(auto, as_model, var_results, workers, deadline, progress)
        else:
            _run_pm4py_alignments(net, im, fm, model_labels, as_model, var_results, deadline)
    bwc: int
    if auto is not None:
        bwc = auto.best_worst_cost
    else:
        bwc = _pm4py_best_worst(net, im, fm)
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
            for row in _classify(moves, var_seqs[v], all_labels, n_model, step_of_label, choice_of)
        )
    if todo_tr:
        tr = _token_replay(net, im, fm, model_labels, [as_model[v] for v in todo_tr])
        for v, (fit, is_fit) in zip(todo_tr, tr, strict=True):
            var_fitness[v] = fit
            var_cost[v] = np.nan
            for pos, c in enumerate(var_seqs[v]):
                if c >= n_model:
                    vdev_rows.append(
                        (v, "unknown_activity", None, all_labels[c], pos, "activity not in the SOP")
                    )
            if not is_fit:
                vdev_rows.append(
                    (
                        v,
                        "not_fitting",
                        None,
                        None,
                        -1,
                        "token replay: the order does not fit the SOP (untyped; "
                        "use method='alignments')",
                    )
                )

    # ---- log-level fitness (pm4py's definition) --------------------------------
    aligned = var_method == "alignments"
    if aligned.any():
        log_fitness = 1 - float((var_cost[aligned] * freq[aligned]).sum()) / float(
            (var_bwc[aligned] * freq[aligned]).sum()
        )
    else:
        log_fitness = float(np.average(var_fitness, weights=freq)) if len(freq) else float("nan")

    # ---- spread variant deviations to cases ----------------------------------
    vdev = pd.DataFrame(
        vdev_rows, columns=["variant", "type", "step", "activity", "position", "detail"]
    )
    case_tab = pd.DataFrame({"case_code": np.arange(n_cases), "variant": case_var})
    dev = case_tab.merge(vdev, on="variant", how="inner", sort=False)
    d_pos = dev["position"].to_numpy(dtype=np.int64)
    d_case = dev["case_code"].to_numpy(dtype=np.int64)
    ev_pos = np.where(
        d_pos >= 0,
        starts[d_case] + d_pos,
        -1,
    )
    dev = dev.assign(case_id=np.asarray(case_ids)[dev["case_code"].to_numpy()])
    valid = ev_pos >= 0
    take = np.where(valid, ev_pos, 0)
    tz = events["timestamp"].dt.tz
    if len(events):
        dev["at"] = (
            events["timestamp"].take(take).reset_index(drop=True).where(pd.Series(valid)).to_numpy()
        )
    else:
        dev["at"] = pd.Series(pd.NaT, index=dev.index, dtype=events["timestamp"].dtype)
    if "department" in events.columns:
        deps = events["department"].to_numpy(dtype=object)
        dcol = np.full(len(dev), None, dtype=object)
        dcol[valid] = deps[ev_pos[valid]]
        dev["department"] = dcol
    else:
        dev["department"] = None
    dev["sla"] = None
    dev["limit_hours"] = np.nan
    dev["actual_hours"] = np.nan
    parts = [dev]

    # ---- departments ----------------------------------------------------------
    if "department" in events.columns:
        parts.append(_department_deviations(events, sop, starts, case_codes))

    # ---- SLAs ----------------------------------------------------------------
    cut = _cutoff(events, cutoff)
    sla_tab = _sla_table(events, sop, cut)
    breach = sla_tab[sla_tab["status"] == "breached"]
    if len(breach):
        bd = pd.DataFrame(
            {
                "case_id": breach["case_id"].to_numpy(),
                "type": "sla_breach",
                "step": breach["sla"].map({s.id: s.to for s in sop.slas}).to_numpy(),
                "activity": None,
                "position": -1,
                "at": breach["to_at"].to_numpy(),
                "department": None,
                "detail": breach["detail"].to_numpy(),
                "sla": breach["sla"].to_numpy(),
                "limit_hours": breach["limit_hours"].to_numpy(),
                "actual_hours": breach["actual_hours"].to_numpy(),
            }
        )
        parts.append(bd)
    deviations = (
        pd.concat([p[_DEV_COLUMNS] for p in parts if len(p)], ignore_index=True)
        if any(len(p) for p in parts)
        else pd.DataFrame(columns=_DEV_COLUMNS)
    )
    deviations = deviations.astype({"position": "int64"})
    type_order = {t: i for i, t in enumerate(DEVIATION_TYPES)}
    deviations = (
        deviations.assign(
            _o=deviations["type"].map(type_order),
            _p=deviations["position"].where(deviations["position"] >= 0, np.iinfo(np.int64).max),
        )
        .sort_values(["case_id", "_p", "_o", "sla"], kind="stable", na_position="last")
        .drop(columns=["_o", "_p"])
        .reset_index(drop=True)
    )
    deviations["at"] = pd.to_datetime(deviations["at"], utc=True).dt.tz_convert(tz)

    # ---- per case ----------------------------------------------------------------
    cases = pd.DataFrame(
        {
            "case_id": np.asarray(case_ids, dtype=object),
            "variant": case_var,
            "n_events": lengths,
            "fitness": var_fitness[case_var] if n_cases else np.zeros(0),
            "method": var_method[case_var] if n_cases else np.zeros(0, dtype=object),
        }
    )
    cases["case_id"] = cases["case_id"].astype("str")
    g = deviations.groupby("case_id", sort=False)["type"]
    n_dev = g.size()
    types = g.agg(lambda s: ";".join(sorted(set(s))))
    cases["n_deviations"] = cases["case_id"].map(n_dev).fillna(0).astype("int64")
    cases["deviation_types"] = _map_text(cases["case_id"], types)
    cases["conforming"] = cases["n_deviations"] == 0
    br = (
        sla_tab[sla_tab["status"] == "breached"]
        .groupby("case_id")["sla"]
        .agg(lambda s: ";".join(sorted(s)))
    )
    cases["sla_breaches"] = _map_text(cases["case_id"], br)
    last = events.groupby("case_id", sort=False)["activity"].last().map(lab_map)
    end_labels = _end_labels(auto)
    cases["open_at_cutoff"] = ~cases["case_id"].map(last).isin(end_labels).to_numpy()

    # ---- tables --------------------------------------------------------------
    steps_tab = _step_table(events, sop, deviations, lab_map, n_cases)
    attain = _sla_attainment(sla_tab, sop)
    comparison = _compare(events, sop, auto, lab_map, rare=0.0)
    prec = float("nan")
    if precision and len(var_seqs):
        if auto is not None:
            prec = _precision(auto, as_model, freq)
        else:
            prec = _pm4py_precision(net, im, fm, model_labels, as_model, freq)
    unk_cases = cases["variant"].isin(
        [v for v, s in enumerate(var_seqs) if any(c >= n_model for c in s)]
    )
    flow_ok = (cases["fitness"] >= 1.0) & ~unk_cases & (cases["method"] == "alignments")
    flow_ok |= (cases["method"] == "token_replay") & (cases["fitness"] >= 1.0) & ~unk_cases
    n_met = int((sla_tab["status"] == "met").sum())
    n_br = int((sla_tab["status"] == "breached").sum())
    conf_rate = float(cases["conforming"].mean()) if n_cases else float("nan")
    summary = pd.DataFrame(
        {
            "metric": [
                "cases",
                "variants",
                "log_fitness",
                "average_trace_fitness",
                "precision",
                "conformance_rate",
                "flow_conformance_rate",
                "deviation_rate",
                "sla_attainment",
                "cases_aligned",
                "cases_token_replay",
                "seconds",
            ],
            "value": [
                float(n_cases),
                float(len(var_seqs)),
                log_fitness,
                float(cases["fitness"].mean()) if n_cases else float("nan"),
                prec,
                conf_rate,
                float(flow_ok.mean()) if n_cases else float("nan"),
                1 - conf_rate,
                n_met / (n_met + n_br) if n_met + n_br else float("nan"),
                float((cases["method"] == "alignments").sum()),
                float((cases["method"] == "token_replay").sum()),
                time.perf_counter() - t0,
            ],
        }
    )
    return ConformanceResult(
        summary=summary,
        cases=cases,
        deviations=deviations,
        steps=steps_tab,
        slas=sla_tab.drop(columns=["detail"]),
        sla_attainment=attain,
        comparison=comparison,
    )


def _map_text(keys: pd.Series, values: pd.Series) -> pd.Series:
    """keys mapped through ``values``; "" where a key has no value."""
    out = pd.Series("", index=keys.index, dtype="str")
    hit = keys.isin(values.index).to_numpy()
    if hit.any():
        out[hit] = keys[hit].map(values).astype("str")
    return out


def _as_sop(sop: Any) -> SOP:
    if isinstance(sop, SOP):
        return sop
    if isinstance(sop, str | os.PathLike):
        from .sop import load_sop

        return load_sop(sop)
    raise InvalidParameterError(
        f"The 'sop' parameter must be an SOP (svcmining.load_sop(...)) or a path. "
        f"Got {type(sop).__name__} instead."
    )


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
                rows.append(
                    (
                        "inserted_step",
                        step.id,
                        labels[c],
                        p,
                        f"also did {', '.join(sorted(others))} (the SOP allows one)",
                    )
                )
            else:
                rows.append(
                    ("out_of_order", step.id, labels[c], p, "done, but not where the SOP puts it")
                )
    # 5. remaining model moves
    for c in sorted(model_moves):
        step = step_of_label[labels[c]]
        rows.extend(
            ("skipped_step", step.id, labels[c], due[k], "required step not done")
            for k in model_moves[c]
        )
    return rows


def _department_deviations(
    events: pd.DataFrame, sop: SOP, starts: np.ndarray, case_codes: np.ndarray
) -> pd.DataFrame:
    rows = [(lab, s.id, d) for s in sop.steps for lab in s.labels for d in s.departments]
    checked = {lab for s in sop.steps if s.departments for lab in s.labels}
    if not rows:
        return pd.DataFrame(columns=_DEV_COLUMNS)
    allowed = pd.MultiIndex.from_tuples([(lab, d) for lab, _, d in rows])
    ev = events
    key = pd.MultiIndex.from_arrays(
        [ev["activity"].astype(object), ev["department"].astype(object)]
    )
    bad = (
        ev["activity"].isin(checked).to_numpy()
        & ev["department"].notna().to_numpy()
        & ~key.isin(allowed)
    )
    idx = np.flatnonzero(bad)
    step_id = {lab: s.id for s in sop.steps for lab in s.labels}
    owners = {lab: " / ".join(s.departments) for s in sop.steps for lab in s.labels}
    sub = ev.iloc[idx]
    return pd.DataFrame(
        {
            "case_id": sub["case_id"].to_numpy(),
            "type": "wrong_department",
            "step": sub["activity"].map(step_id).to_numpy(),
            "activity": sub["activity"].to_numpy(),
            "position": idx - starts[case_codes[idx]],
            "at": sub["timestamp"].to_numpy(),
            "department": sub["department"].to_numpy(),
            "detail": (
                "done by "
                + sub["department"].astype(str)
                + ", owned by "
                + sub["activity"].map(owners).astype(str)
            ).to_numpy(),
            "sla": None,
            "limit_hours": np.nan,
            "actual_hours": np.nan,
        }
    )


def _cutoff(events: pd.DataFrame, cutoff: Any) -> pd.Timestamp:
    if cutoff is None:
        return (
            pd.Timestamp(events["timestamp"].max()) if len(events) else pd.Timestamp.now(tz="UTC")
        )
    ts = pd.Timestamp(cutoff)
    if ts.tzinfo is None:
        ts = ts.tz_localize(events["timestamp"].dt.tz)
    return ts


_SLA_COLUMNS = [
    "case_id",
    "sla",
    "priority",
    "from_at",
    "to_at",
    "lower_hours",
    "limit_hours",
    "actual_hours",
    "status",
    "detail",
]


def _sla_table(events: pd.DataFrame, sop: SOP, cutoff: pd.Timestamp) -> pd.DataFrame:
    from .calendars import duration_hours

    if not sop.slas:
        return pd.DataFrame(columns=_SLA_COLUMNS)
    step_id = events["activity"].map({lab: s.id for s in sop.steps for lab in s.labels})
    ts = events["timestamp"]
    cid = events["case_id"]
    first = ts.groupby(cid, sort=False).min()
    prio = (
        events.groupby("case_id", sort=False)["priority"].first()
        if "priority" in events.columns
        else pd.Series(index=first.index, dtype=object)
    )
    out = []
    for sla in sop.slas:
        cal: Calendar | None = sop.calendar if sla.hours == "business" else None
        is_to = step_id.eq(sla.to).to_numpy()
        if sla.from_step == CASE_START:
            from_first = first
        else:
            is_from = step_id.eq(sla.from_step).to_numpy()
            from_first = ts[is_from].groupby(cid[is_from], sort=False).min()
        to_ev = pd.DataFrame({"case_id": cid[is_to], "t": ts[is_to]})
        to_ev = to_ev[to_ev["t"] >= to_ev["case_id"].map(from_first)]
        to_at = to_ev.groupby("case_id", sort=False)["t"].min()
        if sla.from_step == CASE_START:
            from_at = from_first
        else:
            fr = pd.DataFrame({"case_id": cid[is_from], "t": ts[is_from]})
            lim = fr["case_id"].map(to_at)
            fr = fr[lim.isna() | (fr["t"] <= lim)]
            from_at = fr.groupby("case_id", sort=False)["t"].max()
        tab = pd.DataFrame({"case_id": from_at.index.astype("str"), "from_at": from_at.to_numpy()})
        tab["to_at"] = tab["case_id"].map(to_at)
        tab["to_at"] = pd.to_datetime(tab["to_at"], utc=True).dt.tz_convert(ts.dt.tz)
        tab["priority"] = tab["case_id"].map(prio)
        tab["sla"] = sla.id
        tab["lower_hours"] = sla.lower_hours
        tab["limit_hours"] = [sla.upper_hours(p) for p in tab["priority"]]
        tab["actual_hours"] = duration_hours(tab["from_at"], tab["to_at"], cal).to_numpy()
        so_far = duration_hours(tab["from_at"], pd.Series(cutoff, index=tab.index), cal)
        has_to = tab["to_at"].notna()
        late = tab["actual_hours"] > tab["limit_hours"]
        early = tab["actual_hours"] < tab["lower_hours"]
        expired = so_far > tab["limit_hours"]
        status = np.where(
            has_to,
            np.where(late | early, "breached", "met"),
            np.where(expired, "breached", "censored"),
        )
        tab["status"] = status
        unit = "business" if cal is not None else "elapsed"
        tab["detail"] = np.where(
            ~has_to,
            f"{sla.to} not done within the limit",
            np.where(
                early,
                f"{sla.to} too early ({unit} hours)",
                f"{sla.to} after the limit ({unit} hours)",
            ),
        )
        out.append(tab[_SLA_COLUMNS])
    res = pd.concat(out, ignore_index=True)
    return res.sort_values(["case_id", "sla"], kind="stable", ignore_index=True)


def _sla_attainment(sla_tab: pd.DataFrame, sop: SOP) -> pd.DataFrame:
    cols = ["sla", "priority", "met", "breached", "censored", "attainment"]
    if not len(sla_tab):
        return pd.DataFrame(columns=cols)
    t = sla_tab.assign(priority=sla_tab["priority"].astype(object).fillna("(none)").astype(str))
    per = pd.crosstab([t["sla"], t["priority"]], t["status"])
    tot = pd.crosstab(t["sla"], t["status"])
    tot.index = pd.MultiIndex.from_arrays(
        [tot.index, ["all"] * len(tot)], names=["sla", "priority"]
    )
    both = pd.concat([per, tot])
    for c in ("met", "breached", "censored"):
        if c not in both.columns:
            both[c] = 0
    both = both[["met", "breached", "censored"]].reset_index()
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
    events: pd.DataFrame, sop: SOP, deviations: pd.DataFrame, lab_map: dict[str, str], n_cases: int
) -> pd.DataFrame:
    ids = [s.id for s in sop.steps]
    step_id = events["activity"].map({lab: s.id for s in sop.steps for lab in s.labels})
    with_step = events.assign(_s=step_id).dropna(subset=["_s"]).groupby("_s")["case_id"].nunique()
    d = deviations.dropna(subset=["step"])
    per_type = pd.crosstab(d["step"], d["type"]) if len(d) else pd.DataFrame()
    cases_dev = d.groupby("step")["case_id"].nunique() if len(d) else pd.Series(dtype=float)
    tab = pd.DataFrame({"step": ids, "label": [s.label for s in sop.steps]})
    tab["cases_with_step"] = tab["step"].map(with_step).fillna(0).astype("int64")
    for t in DEVIATION_TYPES:
        if t in ("unknown_activity", "not_fitting"):
            continue
        col = per_type[t] if t in per_type.columns else pd.Series(dtype=float)
        tab[t] = tab["step"].map(col).fillna(0).astype("int64")
    tab["cases_with_deviation"] = tab["step"].map(cases_dev).fillna(0).astype("int64")
    tab["deviation_rate"] = tab["cases_with_deviation"] / n_cases if n_cases else np.nan
    return tab


# =============================================================================
# compare_with_sop
# =============================================================================
def compare_with_sop(
    log: LogLike, sop: SOP | str | os.PathLike[str], *, rare: float = 0.01
) -> SOPComparison:
    """Flows the tickets take versus what the SOP allows.

    Parameters
    ----------
    log : TicketLog or pandas.DataFrame
        The event log.
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
    events = as_events(log)
    try:
        auto: _Automaton | None = _automaton_for(sop)
    except _TooLarge:
        auto = None
    return _compare(events, sop, auto, sop.label_map(), rare=rare)


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
    events: pd.DataFrame, sop: SOP, auto: _Automaton | None, lab_map: dict[str, str], rare: float
) -> SOPComparison:
    from .calendars import duration_hours

    if auto is None:
        raise SOPDefinitionError(
            f"SOP {sop.name!r} has too many states to list its flows (> {_MAX_STATES})."
        )
    act = events["activity"].map(lab_map).fillna(events["activity"]).astype(object)
    cid = events["case_id"]
    n_cases = int(cid.nunique())
    new_case = cid.ne(cid.shift()).to_numpy()
    end_case = cid.ne(cid.shift(-1)).to_numpy()
    src = np.array(act.shift().to_numpy(dtype=object), dtype=object)
    src[new_case] = "[start]"
    prev_t = events["timestamp"].shift()
    hours = np.array(duration_hours(prev_t, events["timestamp"]).to_numpy(), dtype=float)
    hours[new_case] = np.nan
    pairs = pd.DataFrame(
        {"case_id": cid.to_numpy(), "source": src, "target": act.to_numpy(), "hours": hours}
    )
    ends = pd.DataFrame(
        {
            "case_id": cid[end_case].to_numpy(),
            "source": act[end_case].to_numpy(),
            "target": "[end]",
            "hours": np.nan,
        }
    )
    pairs = pd.concat([pairs, ends], ignore_index=True)
    taken = (
        pairs.groupby(["source", "target"], sort=True)
        .agg(
            count=("case_id", "size"),
            cases=("case_id", "nunique"),
            mean_hours=("hours", "mean"),
            median_hours=("hours", "median"),
        )
        .reset_index()
    )
    allowed = _allowed_pairs(auto)
    is_allowed = np.array(
        [(s, t) in allowed for s, t in zip(taken["source"], taken["target"], strict=True)],
        dtype=bool,
    )
    status = np.where(
        is_allowed, np.where(taken["cases"] < rare * n_cases, "rare", "conforming"), "extra"
    )
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
    counts = act.value_counts()
    step_by_label = {s.label: s for s in sop.steps}
    node_names = [s.label for s in sop.steps] + sorted(set(counts.index) - set(step_by_label))
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
    text = str(s).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return '"' + text + '"'
