"""The kernel of :func:`svcmining.check_sop` (split from conformance.py).

:func:`check_part` checks whole tickets against the :class:`~svcmining._alignment.SOPContext`
of the log: deviations spread from their variants, wrong departments, SLAs, pending
steps, the step counts and the flows; :func:`summary_frame` is the ``summary`` table.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ._alignment import TAIL_DETAIL, CheckOptions, SOPContext, sequences
from ._automaton import TAU_COST as TAU_COST
from ._slas import sla_table
from ._sopcodes import (
    DEVIATION_TYPES,
    NAT,
    Coded,
    code_names,
    encode,
    flow_parts,
    from_ns,
    joined_flags,
    to_ns,
)
from .eventlog import map_distinct
from .sop import SOP
from .states import WAITING, as_states, judge_log


def summary_frame(
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
    tail = (dev["type"] == "skipped_step").to_numpy() & (dev["detail"] == TAIL_DETAIL).to_numpy()
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
        return pd.Series(joined_flags(cc, code, n_cases, names, sort_names=False), dtype="str")
    ordered = pending.sort_values(["case_code", "_s", "step"], kind="stable")
    joined = ordered.groupby("case_code", sort=False)["step"].agg(";".join)
    out = pd.Series("", index=range(n_cases), dtype="str")
    out[joined.index.to_numpy()] = joined.to_numpy()
    return out


def _department_deviations(coded: Coded, sop: SOP) -> pd.DataFrame:
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
    deps = code_names(dc[idx], coded.dept_names)
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


def _step_table(
    coded: Coded, sop: SOP, deviations: pd.DataFrame, case_code: np.ndarray
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
        {
            "step": [st.id for st in sop.steps],
            "step_name": [st.display_name() for st in sop.steps],
            "label": [st.label for st in sop.steps],
        }
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


def check_part(chk: CheckOptions, tlog: Any, ctx: SOPContext) -> SOPCheckPart:
    sop = chk.sop
    events = tlog.events
    coded = encode(tlog, sop)
    n_cases = coded.n_cases
    starts = coded.starts
    lengths = np.diff(np.r_[starts, len(events)])
    # the variant of each ticket: its rank over the whole log (from the context)
    act_names, seqs, seq_of_case = sequences(tlog)
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
    sla_tab, sla_case = sla_table(coded, sop, ctx.cutoff, judged.kinds == WAITING, events)
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
    cases["deviation_types"] = joined_flags(
        case_code, type_code, n_cases, list(DEVIATION_TYPES), sort_names=True
    )
    cases["conforming"] = cases["n_deviations"] == 0
    is_breach = (sla_tab["status"] == "breached").to_numpy()
    br_case = sla_case[is_breach]
    sla_names = [x.id for x in sop.slas]
    sla_pos = {n: i for i, n in enumerate(sla_names)}
    br_code = map_distinct(sla_tab.loc[is_breach, "sla"], sla_pos).to_numpy()
    cases["sla_breaches"] = joined_flags(
        br_case, br_code.astype(np.int64), n_cases, sla_names, sort_names=True
    )
    cases["open_at_cutoff"] = case_open
    cases["pending_steps"] = _pending_text(pending, n_cases, coded.case_ids)
    names, *flows, node_counts = flow_parts(coded, sop)
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
    coded: Coded, sop: SOP, dev: pd.DataFrame, sla_tab: pd.DataFrame, sla_case: np.ndarray
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
    dev["at_ns"] = np.where(valid, coded.ts_ns[take], NAT) if n else NAT
    if coded.dept_codes is not None and n:
        dc = np.where(valid, coded.dept_codes[take], -1)
        dev["department"] = code_names(dc, coded.dept_names)
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
                    "at_ns": to_ns(breach["to_at"]),
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
            "at": from_ns(raw["at_ns"].to_numpy(dtype=np.int64), coded.tz),
            "department": raw["department"].astype(object).where(raw["department"].notna(), None),
            "detail": raw["detail"].astype("str"),
            "sla": raw["sla"].astype(object).where(raw["sla"].notna(), None),
            "limit_hours": raw["limit_hours"].astype(float),
            "actual_hours": raw["actual_hours"].astype(float),
        }
    )
    return case_code[row_order], type_code[row_order], deviations


def with_step_names(frame: pd.DataFrame, sop: SOP, lang: str | None = None) -> pd.DataFrame:
    """``frame`` with its SOP step ids (column ``step``) shown by display name (in
    ``lang``); the ids move to a ``step_id`` column after it (None where no step)."""
    if "step" not in frame.columns:
        return frame
    names = sop.display_names(lang)
    out = frame.drop(columns=[c for c in ("step_name",) if c in frame.columns])
    ids = out["step"]
    at = out.columns.get_loc("step")
    shown = ids.map(lambda x: names.get(x, x) if isinstance(x, str) else x)
    out = out.assign(step=shown)
    out.insert(int(at) + 1, "step_id", ids)
    return out
