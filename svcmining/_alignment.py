"""Alignments and token replay of :func:`svcmining.check_sop` (split from conformance.py).

The alignment engine over the SOP's reachability graph (see the docstring of
:mod:`svcmining.conformance` for the method), the pm4py fallbacks (alignments for nets
too large to enumerate, token replay, ETC precision), the typing of alignment moves
into deviations (:func:`classify`), and the context of the check:
:class:`SOPVariantsAnalysis` ranks the variants of the whole log and aligns each once.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any, Literal, Protocol

import numpy as np
import pandas as pd

from ._automaton import INF as _INF
from ._automaton import MOVE_COST
from ._automaton import TAU_COST as TAU_COST
from ._automaton import Automaton as _Automaton
from ._automaton import TooLarge as _TooLarge
from ._automaton import build_automaton as _build_automaton
from ._time import cutoff as cutoff_of
from .eventlog import log_codes
from .sop import SOP, choice_groups
from .states import TicketStates


class CheckOptions(Protocol):
    """The options of a check (:class:`svcmining.conformance.SOPCheckAnalysis`) that its
    context and kernel read."""

    @property
    def sop(self) -> SOP: ...
    @property
    def method(self) -> Literal["alignments", "token_replay", "auto"]: ...
    @property
    def max_seconds(self) -> float | None: ...
    @property
    def precision(self) -> bool: ...
    @property
    def cutoff(self) -> Any: ...
    @property
    def workers(self) -> int: ...
    @property
    def progress(self) -> bool: ...
    @property
    def states(self) -> TicketStates | None: ...
    @property
    def started(self) -> float | None: ...


_PARALLEL_MIN_VARIANTS = 2000


_CHUNK = 100


TAIL_DETAIL = "required step not done (the case never got that far)"


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


def automaton_for(sop: SOP) -> _Automaton:
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
                TAIL_DETAIL if k > last_sync else _skip_detail(step.id, choice_of),
            )
            for k in model_moves[c]
        )
    return rows


def allowed_pairs(auto: _Automaton) -> set[tuple[str, str]]:
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

    check: CheckOptions

    def context(self) -> None:
        """No whole-log fact is needed."""
        return None

    def kernel(self, part: Any, ctx: None = None) -> SOPVariantsPart:
        """The part's cutoff and distinct activity sequences."""
        cut = cutoff_of(part.events, self.check.cutoff, func="check_sop")
        act_names, seqs, codes = sequences(part)
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
            auto: _Automaton | None = automaton_for(sop)
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
            allowed=allowed_pairs(auto) if auto is not None else None,
            started=started,
        )


def sequences(tlog: Any) -> tuple[list[str], list[tuple[int, ...]], np.ndarray]:
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
