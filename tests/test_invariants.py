"""Invariants across the analysis modules (issue 11).

On small generated logs (:func:`svcmining.generate_tickets`, with its reopen cycles, ping-pong,
skipped steps and missing values): shuffling the rows changes no result; renaming the tickets
changes no aggregate and per-ticket tables only by the new ids; delays are >= 0; a ticket's
handoff hours never exceed its cycle time; business hours never exceed elapsed hours;
fitness lies in [0, 1]; rework kinds partition the occurrences (one kind each, and every
per-kind count adds up to the total).

Modules covered: discovery, rework, handoffs, conformance (token replay), kpis.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

import svcmining as svc

SOP_PATH = Path(__file__).resolve().parents[1] / "sample_logs" / "sop_complaint.yaml"
SEEDS = (3, 11)
N_TICKETS = 40


@cache
def sop() -> svc.SOP:
    return svc.load_sop(SOP_PATH)


@cache
def base_events(seed: int) -> pd.DataFrame:
    """A generated log without equal-time ties (ties keep input order, so a shuffle may
    legitimately reorder them)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ev = svc.generate_tickets(N_TICKETS, seed=seed).events
    ev = ev.drop_duplicates(["case_id", "timestamp"]).reset_index(drop=True)
    return svc.as_events(ev)


# run-time measurements, not results
TIMINGS = ("seconds",)


def _tables(result: Any) -> dict[str, pd.DataFrame]:
    if isinstance(result, pd.DataFrame):
        return {"frame": result}
    out = {}
    for f in dataclasses.fields(result):
        v = getattr(result, f.name)
        if isinstance(v, pd.DataFrame):
            if "metric" in v.columns:
                v = v[~v["metric"].isin(TIMINGS)].reset_index(drop=True)
            out[f.name] = v
    return out


ANALYSES: dict[str, Callable[[pd.DataFrame], Any]] = {
    "discover_dfg": lambda ev: svc.discover_dfg(ev),
    "variants": lambda ev: svc.variants(ev),
    "find_rework": lambda ev: svc.find_rework(ev, sop=sop()),
    "find_rework_nosop": lambda ev: svc.find_rework(ev),
    "handoff_delays": lambda ev: svc.handoff_delays(ev),
    "check_sop": lambda ev: svc.check_sop(ev, sop(), method="token_replay", precision=False),
    "service_kpis": lambda ev: svc.service_kpis(ev, sop=sop()),
    "discover_dfg_business": lambda ev: svc.discover_dfg(ev, calendar=sop().calendar),
    "handoff_delays_business": lambda ev: svc.handoff_delays(ev, calendar=sop().calendar),
    "find_rework_business": lambda ev: svc.find_rework(ev, sop=sop(), calendar=sop().calendar),
    "pain_points": lambda ev: svc.pain_points(ev, sop=sop()),
    "check_quality": lambda ev: svc.check_quality(
        ev, now=pd.Timestamp("2025-06-01", tz="Asia/Shanghai")
    ),
}


@cache
def reference(name: str, seed: int) -> dict[str, pd.DataFrame]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return _tables(ANALYSES[name](base_events(seed)))


def _run(name: str, ev: pd.DataFrame) -> dict[str, pd.DataFrame]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return _tables(ANALYSES[name](ev))


def _canonical(df: pd.DataFrame) -> pd.DataFrame:
    """Rows in a fixed order (by every column, as text) so tables can be compared as sets."""
    df = df.reset_index(drop=True)
    if not len(df) or not len(df.columns):
        return df
    key = df.apply(lambda col: col.map(repr)).agg("\x1f".join, axis=1)
    return df.iloc[np.argsort(key.to_numpy(), kind="stable")].reset_index(drop=True)


def _assert_same(a: dict[str, pd.DataFrame], b: dict[str, pd.DataFrame], *, as_sets: bool) -> None:
    assert a.keys() == b.keys()
    for k in a:
        x, y = (a[k], b[k]) if not as_sets else (_canonical(a[k]), _canonical(b[k]))
        pd.testing.assert_frame_equal(
            x.reset_index(drop=True), y.reset_index(drop=True), check_exact=False, rtol=1e-9, obj=k
        )


# positions in the whole sorted log, and the tickets picked as examples: renaming tickets
# re-sorts them, so these may legitimately change (row shuffles must still leave them alone)
LOG_POSITIONS = ("event_index", "examples", "example_cases")


def _rename_back(tables: dict[str, pd.DataFrame], back: dict[str, str]) -> dict[str, pd.DataFrame]:
    """Map renamed ticket ids back in every text cell that is exactly an id."""
    out = {}
    for k, df in tables.items():
        df = df.drop(columns=[c for c in LOG_POSITIONS if c in df.columns])
        for c in df.columns:
            if df[c].dtype == object or pd.api.types.is_string_dtype(df[c]):
                df[c] = df[c].map(lambda v: back.get(v, v) if isinstance(v, str) else v)
        out[k] = df
    return out


# few examples and no shrinking: conformance costs ~2 s a run
SHUFFLE = settings(
    max_examples=2,
    deadline=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[HealthCheck.too_slow],
)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("name", list(ANALYSES))
@SHUFFLE
@given(perm_seed=st.integers(0, 2**32 - 1))
def test_row_shuffle_changes_nothing(name, seed, perm_seed):
    """Shuffling the rows of the log gives identical result tables (same rows, same order)."""
    ev = base_events(seed)
    shuffled = ev.sample(frac=1.0, random_state=np.random.RandomState(perm_seed))
    _assert_same(reference(name, seed), _run(name, shuffled), as_sets=False)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("name", list(ANALYSES))
@SHUFFLE
@given(salt=st.integers(0, 10**6))
def test_case_renaming_changes_only_the_ids(name, seed, salt):
    """New ticket ids (another sort order) give the same aggregates; per-ticket rows map back."""
    ev = base_events(seed)
    ids = pd.unique(ev["case_id"])
    new = {old: f"R{(hash((old, salt)) % 10**9):09d}-{i}" for i, old in enumerate(ids)}
    renamed = ev.assign(case_id=ev["case_id"].map(new))
    got = _rename_back(_run(name, renamed), {v: k for k, v in new.items()})
    _assert_same(_rename_back(reference(name, seed), {}), got, as_sets=True)


@pytest.mark.parametrize("seed", SEEDS)
def test_delays_and_durations_are_non_negative(seed):
    """Waits, delays, rework and cycle hours are never negative (elapsed and business hours)."""
    cal = sop().calendar
    ev = base_events(seed)
    for calendar in (None, cal):
        dfg = svc.discover_dfg(ev, calendar=calendar)
        waits = dfg.edges[[c for c in dfg.edges.columns if c.endswith("_hours")]]
        assert (waits.fillna(0) >= 0).all().all()
        ho = svc.handoff_delays(ev, calendar=calendar)
        assert (ho.handoffs["delay_hours"].dropna() >= 0).all()
        assert (ho.cases[["handoff_hours", "cycle_hours"]].dropna() >= 0).all().all()
        rw = svc.find_rework(ev, sop=sop(), calendar=calendar)
        assert (rw.occurrences["rework_hours"].dropna() >= 0).all()
        assert (rw.cases[["rework_hours", "cycle_hours"]].dropna() >= 0).all().all()


@pytest.mark.parametrize("seed", SEEDS)
def test_handoff_hours_within_cycle_time(seed):
    """A ticket's summed handoff delays never exceed its cycle time (elapsed or business)."""
    for calendar in (None, sop().calendar):
        cases = svc.handoff_delays(base_events(seed), calendar=calendar).cases
        both = cases[["handoff_hours", "cycle_hours"]].dropna()
        assert (both["handoff_hours"] <= both["cycle_hours"] + 1e-9).all()
        share = cases["handoff_share"].dropna()
        assert ((share >= 0) & (share <= 1 + 1e-12)).all()


@pytest.mark.parametrize("seed", SEEDS)
def test_business_hours_never_exceed_elapsed(seed):
    """Measured in business hours, every handoff delay is at most its elapsed delay."""
    ev = base_events(seed)
    elapsed = svc.handoff_delays(ev).handoffs
    business = svc.handoff_delays(ev, calendar=sop().calendar).handoffs
    assert len(elapsed) == len(business)
    both = pd.DataFrame({"e": elapsed["delay_hours"], "b": business["delay_hours"]}).dropna()
    assert (both["b"] <= both["e"] + 1e-9).all()


@pytest.mark.parametrize("seed", SEEDS)
def test_fitness_in_unit_interval(seed):
    """Per-ticket and log fitness lie in [0, 1]; conforming tickets have no deviations."""
    res = svc.check_sop(base_events(seed), sop(), method="token_replay", precision=False)
    fit = res.cases["fitness"].dropna()
    assert len(fit) and ((fit >= 0) & (fit <= 1)).all()
    summary = dict(zip(res.summary["metric"], res.summary["value"], strict=True))
    for k, v in summary.items():
        if "fitness" in str(k) and isinstance(v, int | float) and not pd.isna(v):
            assert 0 <= float(v) <= 1, (k, v)
    conforming = res.cases[res.cases["conforming"].astype(bool)]
    assert (conforming["n_deviations"] == 0).all()


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("with_sop", [True, False])
def test_rework_kinds_partition_occurrences(seed, with_sop):
    """Each occurrence has exactly one known kind; per-kind counts add up everywhere."""
    rw = svc.find_rework(base_events(seed), sop=sop() if with_sop else None)
    occ = rw.occurrences
    assert set(occ["kind"]) <= set(svc.REWORK_KINDS)
    assert not occ.duplicated(["case_id", "event_index"]).any()
    per_case = occ.groupby("case_id").size()
    cases = rw.cases.set_index("case_id")
    assert (cases["n_rework"].reindex(per_case.index) == per_case).all()
    assert int(cases["n_rework"].sum()) == len(occ)
    kind_cols = [f"n_{k}" for k in svc.REWORK_KINDS]
    for table in (rw.by_activity, rw.by_department, rw.by_resource):
        assert (table[kind_cols].sum(axis=1) == table["n_rework"]).all()
        assert int(table["n_rework"].sum()) <= len(occ)
    assert int(rw.by_activity["n_rework"].sum()) == len(occ)
    counts = occ["kind"].value_counts()
    for k in svc.REWORK_KINDS:
        assert int(rw.by_activity[f"n_{k}"].sum()) == int(counts.get(k, 0))


def extreme_events() -> pd.DataFrame:
    """One 10,000-event ticket (remote troubleshooting / close / reopen at random) and five
    1-event tickets."""
    n = 10_000
    acts = np.array(["投诉登记", "远程排障", "结单", "重新打开"])
    picks = np.r_[0, np.random.RandomState(1).randint(1, 4, n - 1)]
    base = pd.Timestamp("2024-10-08 09:00", tz="Asia/Shanghai")
    ev = pd.DataFrame(
        {
            "case_id": ["GD9"] * n + [f"S{i}" for i in range(5)],
            "activity": list(acts[picks]) + ["投诉登记"] * 5,
            "timestamp": list(base + pd.to_timedelta(np.arange(n), unit="min")) + [base] * 5,
        }
    )
    ev["department"] = np.where(ev["activity"] == "远程排障", "技术支持部", "客服中心")
    return svc.as_events(ev)


@pytest.mark.parametrize("name", list(ANALYSES))
def test_extreme_ticket_sizes_go_through_every_analysis(name):
    """A 10,000-event ticket and 1-event tickets give results, not errors."""
    tables = _run(name, extreme_events())
    assert tables


def test_extreme_ticket_invariants():
    """On the 10,000-event ticket: kinds partition, handoffs within the cycle, fitness in [0, 1]."""
    ev = extreme_events()
    rw = svc.find_rework(ev, sop=sop())
    assert int(rw.cases["n_rework"].sum()) == len(rw.occurrences)
    assert not rw.occurrences.duplicated(["case_id", "event_index"]).any()
    cases = svc.handoff_delays(ev).cases
    assert (cases["handoff_hours"] <= cases["cycle_hours"] + 1e-9).all()
    fit = svc.check_sop(ev, sop(), method="token_replay", precision=False).cases["fitness"]
    assert ((fit >= 0) & (fit <= 1)).all()
