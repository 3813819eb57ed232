"""The one rule of "hours lost", shared by every analysis that reports it.

**Hours lost** of one occurrence (a handoff, a step, a rework loop, an SLA clock) are the
hours it took beyond its *target* -- what that piece of work should take -- and 0 when
it took no longer; in business hours when a calendar is given (the SOP's), else in
elapsed hours; time the ticket waited on the customer or a third party (waiting states)
is never counted. The targets:

- a **handoff**: the given handoff benchmark (e.g. 30 min, the industry figure), else
  the median delay of the completed handoffs into the same step from the *other* giving
  groups (:func:`peer_targets`);
- a **step**: its benchmark (:class:`svcmining.StepBenchmark`), else the step's median;
- a **rework loop**: 0 -- work done twice should have been done once, so every hour of
  the loop is lost;
- an **SLA clock**: its limit, for a step done late (a step done too early or not done
  loses no hours: it is a breach of the attainment, a skipped step also a deviation);
- a **deviating ticket** (pain points only): the median cycle time of the conforming
  tickets.

The other sums of time carry other names: *handoff waiting hours* (all handoff delays,
``delay_total_hours`` / ``handoff_hours``) and *hours in rework loops* (per ticket, the
union of its loops, ``ReworkResult.cases.rework_hours``). The text of the definition for
readers is :mod:`svcmining._glossary`.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pandas as pd

#: A loss this small (1 ms) is float noise of a subtraction, not an hour lost.
NO_LOSS_HOURS = 1e-6 / 3.6


def hours_beyond(actual: Any, target: Any) -> np.ndarray:
    """Hours lost: ``actual - target`` where that exceeds :data:`NO_LOSS_HOURS`, else 0.

    A missing ``actual`` (or target) loses nothing (0).
    """
    over = np.asarray(actual, dtype="float64") - np.asarray(target, dtype="float64")
    with np.errstate(invalid="ignore"):
        return np.where(over > NO_LOSS_HOURS, over, 0.0)


def peer_targets(handoffs: pd.DataFrame, benchmark_hours: float | None = None) -> np.ndarray:
    """Per handoff row: the target its delay is measured against, in hours.

    ``benchmark_hours`` when given. Otherwise what handing a ticket over into the same
    step takes when *others* do it: the median delay of the completed handoffs into the
    same ``to_activity`` from the other ``from_group`` values (so a giver who is slow
    every time stands out against the rest instead of raising its own yardstick); the
    median of all completed handoffs into the activity when nobody else hands over into
    it; the median of all completed handoffs when the activity is unknown (pending
    handoffs of open tickets). Pending rows (``pending``) and missing delays are not in
    the medians.
    """
    n = len(handoffs)
    if benchmark_hours is not None:
        return np.full(n, float(benchmark_hours))
    d = handoffs["delay_hours"].to_numpy(dtype="float64")
    if "pending" in handoffs.columns:
        d = np.where(handoffs["pending"].to_numpy(dtype=bool), np.nan, d)
    ok = np.isfinite(d)
    overall = float(np.median(d[ok])) if ok.any() else 0.0
    base = np.full(n, overall)
    to_c = np.asarray(pd.factorize(handoffs["to_activity"])[0], dtype=np.int64)  # missing: -1
    from_c = np.asarray(pd.factorize(handoffs["from_group"])[0], dtype=np.int64)
    rows = np.flatnonzero(to_c >= 0)
    if not len(rows):
        return base
    # one sort by receiving activity: each activity's handoffs are one slice
    rows = rows[np.argsort(to_c[rows], kind="stable")]
    acts = to_c[rows]
    cuts = np.flatnonzero(np.r_[True, acts[1:] != acts[:-1], True])
    for lo, hi in itertools.pairwise(cuts):  # a loop over activities, not handoffs
        idx = rows[lo:hi]
        giver, vals, good = from_c[idx], d[idx], ok[idx]
        own = float(np.median(vals[good])) if good.any() else overall
        for gv in np.unique(giver):  # the few groups handing over into this activity
            mine = giver == gv
            others = good & ~mine
            base[idx[mine]] = float(np.median(vals[others])) if others.any() else own
    return base
