"""The log as integer codes for :func:`svcmining.check_sop` (split from conformance.py).

One :class:`Coded` per log part: case, activity, SOP step, department codes and int64
times, built once by :func:`encode`; the deviation types in their fixed order; the
directly-follows flows of the coded log (:func:`flow_parts`) and the ``;``-joined
per-ticket flags (:func:`joined_flags`) the ticket table is made of.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ._automaton import TAU_COST as TAU_COST
from .eventlog import LogLike, frame_of, log_codes
from .sop import SOP

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


@dataclass
class Coded:
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


def encode(data: LogLike, sop: SOP) -> Coded:
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
    ts_ns = to_ns(ts)
    dept_codes = None
    dept_names: list[str] = []
    if "department" in events.columns:
        dept_codes, d_uniques = log_codes(data, "department", sort=True)
        dept_names = [str(d) for d in d_uniques]
    priority = None
    if "priority" in events.columns and n:
        priority = np.asarray(events["priority"].iloc[starts].to_numpy(dtype=object))
    return Coded(
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


NAT = np.iinfo(np.int64).min


def to_ns(ts: pd.Series) -> np.ndarray:
    """tz-aware Series -> int64 ns since the epoch (UTC); NaT -> NAT."""
    naive = ts.dt.tz_convert("UTC").dt.tz_localize(None)
    return np.asarray(naive.to_numpy().astype("datetime64[ns]").view(np.int64))


def from_ns(ns: np.ndarray, tz: Any) -> pd.Series:
    """int64 ns (UTC, NAT = missing) -> tz-aware Series."""
    arr = np.asarray(ns, dtype=np.int64).view("datetime64[ns]")
    return pd.Series(arr).dt.tz_localize("UTC").dt.tz_convert(tz)


def code_names(codes: np.ndarray, names: list[str]) -> np.ndarray:
    """Codes -> object array of names, None for -1."""
    lut = np.array([*names, None], dtype=object)
    return lut[np.where(codes >= 0, codes, len(names))]


def joined_flags(
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


def flow_parts(
    coded: Coded, sop: SOP
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
