"""Root-cause drill-down: how an outcome differs between groups of tickets.

:func:`drill_down` splits tickets by attribute values (channel, priority, department,
...) and reports, per value, the rate of a yes/no outcome (with a Wilson interval) or
the median of a duration (with a percentile bootstrap interval), next to the overall
figure. It describes differences between groups; it does not say why they differ
(associations only: a group with more rework may also have harder tickets).

Which tickets belong to a value
-------------------------------
For a column that is constant within every ticket (channel, priority, ticket type), a
ticket belongs to its value. For a column that varies within tickets (department,
resource), a ticket belongs to *every* value it involved ("tickets that went through
售后部"), so groups overlap and their counts add up to more than the tickets.

Small groups
------------
Groups with fewer than ``min_cases`` tickets (default 30) are left out of the table
(their count is given in ``DrillDown.dropped``): a rate from a handful of tickets moves
by ten points with one ticket. Missing values form no group.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ._fonts import use_cjk_font
from ._repr import html_table
from ._validation import check_positive_int
from .eventlog import LogLike, as_events
from .exceptions import InvalidParameterError
from .kpis import case_outcomes

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from .calendars import Calendar

__all__ = ["DrillDown", "drill_down", "wilson_interval"]

#: Outcomes drill_down computes itself (other names: a column of ``cases=``).
RATE_OUTCOMES = (
    "has_rework",
    "reopened",
    "ping_pong",
    "repeat_contact",
    "first_contact_resolved",
    "open_at_cutoff",
    "sla_breached",
    "deviating",
    "conforming",
)
DURATION_OUTCOMES = (
    "cycle_hours",
    "cycle_business_hours",
    "handoff_hours",
    "handoff_share",
    "n_handoffs",
    "rework_hours",
)
_NEEDS = {
    "has_rework": "rework",
    "reopened": "rework",
    "ping_pong": "rework",
    "rework_hours": "rework",
    "handoff_hours": "handoffs",
    "handoff_share": "handoffs",
    "n_handoffs": "handoffs",
    "sla_breached": "conformance",
    "deviating": "conformance",
    "conforming": "conformance",
    "first_contact_resolved": "all",
}


def wilson_interval(k: Any, n: Any, confidence: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval for ``k`` successes out of ``n`` (vectorised).

    Examples
    --------
    >>> lo, hi = wilson_interval(5, 10)
    >>> round(float(lo), 4), round(float(hi), 4)
    (0.2366, 0.7634)
    """
    k = np.asarray(k, dtype="float64")
    n = np.asarray(n, dtype="float64")
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = k / n
        den = 1 + z**2 / n
        centre = (p + z**2 / (2 * n)) / den
        half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / den
    return np.clip(centre - half, 0, 1), np.clip(centre + half, 0, 1)


def _bootstrap_median(
    x: np.ndarray, confidence: float, n_boot: int, rng: np.random.Generator
) -> tuple[float, float]:
    """Percentile bootstrap interval of the median, drawn without resampling the data.

    Resampling ``n`` values from ``x`` is applying ``x``'s empirical quantile function
    to ``n`` uniforms, so the median of a resample is that function at the median of
    ``n`` uniforms, whose distribution is known: the ``m``-th smallest of ``n``
    uniforms is Beta(m, n - m + 1), and the next one lies above it like the minimum of
    ``n - m`` uniforms. Each of the ``n_boot`` bootstrap medians thus costs O(1).
    """
    xs = np.sort(np.asarray(x, dtype="float64"))
    n = len(xs)
    if n == 0:
        return float("nan"), float("nan")

    def quantile_fn(v: np.ndarray) -> np.ndarray:
        return xs[np.clip(np.ceil(v * n).astype("int64") - 1, 0, n - 1)]

    if n % 2:
        m = (n + 1) // 2
        meds = quantile_fn(rng.beta(m, n - m + 1, n_boot))
    else:
        k = n // 2
        v1 = rng.beta(k, n - k + 1, n_boot)
        v2 = v1 + (1 - v1) * (1 - rng.random(n_boot) ** (1 / (n - k)))
        meds = (quantile_fn(v1) + quantile_fn(v2)) / 2
    a = (1 - confidence) / 2
    lo, hi = np.quantile(meds, [a, 1 - a])
    return float(lo), float(hi)


@dataclass(frozen=True, eq=False)
class DrillDown:
    """What :func:`drill_down` found.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per attribute value with enough tickets: ``attribute``, ``value``,
        ``n_cases``, ``statistic`` (``rate`` or ``median``), ``estimate``, ``ci_low``,
        ``ci_high``, ``overall`` (the estimate over all tickets with the outcome),
        ``difference`` (estimate - overall) and ``ratio`` (estimate / overall); sorted
        by the size of the difference, largest first.
    outcome : str
        The outcome's name.
    statistic : str
        ``rate`` or ``median``.
    overall : float
        The outcome over all tickets.
    n_cases : int
        Tickets with a known outcome.
    dropped : pandas.DataFrame
        Groups left out for having fewer than ``min_cases`` tickets: ``attribute``,
        ``value``, ``n_cases``.
    min_cases : int
        The threshold used.
    """

    table: pd.DataFrame
    outcome: str
    statistic: str
    overall: float
    n_cases: int
    dropped: pd.DataFrame
    min_cases: int = 30

    def to_frame(self) -> pd.DataFrame:
        """The per-value table."""
        return self.table.copy()

    def plot(self, *, ax: Axes | None = None, n: int = 20) -> Figure:
        """Estimates with their intervals (the overall as a dashed line), top ``n`` values.

        Draws on ``ax`` when given, else on a new figure; returns the figure.
        """
        import matplotlib.pyplot as plt

        use_cjk_font()
        t = self.table.head(n).iloc[::-1]
        if ax is None:
            _, ax = plt.subplots(figsize=(7, 0.35 * max(len(t), 3) + 1))
        labels = [
            f"{a} = {v} (n={k})"
            for a, v, k in zip(t["attribute"], t["value"], t["n_cases"], strict=True)
        ]
        y = np.arange(len(t))
        est = t["estimate"].to_numpy(dtype="float64")
        err = np.vstack(
            [
                est - t["ci_low"].to_numpy(dtype="float64"),
                t["ci_high"].to_numpy(dtype="float64") - est,
            ]
        )
        ax.errorbar(est, y, xerr=np.clip(err, 0, None), fmt="o", color="#4a6fa5", capsize=3)
        ax.axvline(self.overall, color="grey", ls="--", lw=1)
        ax.set_yticks(y, labels, fontsize=8)
        ax.set_xlabel(f"{self.outcome} ({self.statistic})")
        ax.set_title(f"{self.outcome} by group (overall {self.overall:.3g})", fontsize=10)
        return ax.figure  # type: ignore[return-value]

    def __repr__(self) -> str:
        top = ""
        if len(self.table):
            r = self.table.iloc[0]
            top = (
                f"; largest difference {r['attribute']} = {r['value']}: {r['estimate']:.3g} "
                f"(n={int(r['n_cases']):,})"
            )
        return (
            f"DrillDown({self.outcome} ({self.statistic}), overall {self.overall:.3g} over "
            f"{self.n_cases:,} tickets; {len(self.table):,} groups, {len(self.dropped):,} "
            f"left out{top})"
        )

    def _repr_html_(self) -> str:
        return (
            f"<p><b>Drill-down of {html.escape(self.outcome)}</b> ({html.escape(self.statistic)}; "
            f"overall {self.overall:.3g}, {self.n_cases} tickets; groups under "
            f"{self.min_cases} tickets left out)</p>"
            + html_table(self.table, max_rows=20, float_format=lambda x: f"{x:.3g}")
        )


def _resolve_outcome(
    events: pd.DataFrame,
    outcome: str | pd.Series,
    cases: pd.DataFrame | None,
    sop: Any,
    calendar: Calendar | None,
    kw: dict[str, Any],
) -> tuple[str, pd.Series]:
    """The outcome per case (indexed by case_id as str)."""
    if isinstance(outcome, pd.Series):
        s = outcome.copy()
        s.index = s.index.astype("str")
        return str(outcome.name or "outcome"), s
    if not isinstance(outcome, str):
        raise InvalidParameterError(
            "The 'outcome' parameter of drill_down must be a column name or a Series indexed "
            f"by case_id. Got {outcome!r} instead."
        )
    if cases is not None and outcome in cases.columns:
        c = cases.set_index("case_id") if "case_id" in cases.columns else cases
        s = c[outcome]
        s.index = s.index.astype("str")
        return outcome, s
    known = RATE_OUTCOMES + DURATION_OUTCOMES
    if outcome not in known:
        raise InvalidParameterError(
            "The 'outcome' parameter of drill_down must be one of "
            f"{{{', '.join(map(repr, known))}}} or a column of 'cases'. Got {outcome!r} instead."
        )
    need = _NEEDS.get(outcome)
    if need in ("conformance",) and sop is None and kw.get("conformance") is None:
        raise InvalidParameterError(
            f"The outcome {outcome!r} of drill_down needs an SOP: pass sop=svc.load_sop(...)."
        )

    parts: tuple[str, ...]
    if need == "all":
        parts = ("rework", "handoffs")
    elif need is None:
        parts = ()
    else:
        parts = (need,)
    table = case_outcomes(events, sop=sop, calendar=calendar, parts=parts, **kw)
    s = table.set_index("case_id")[outcome]
    if outcome in ("cycle_hours", "cycle_business_hours"):
        # open tickets have only a lower bound: left out of medians
        s = s.where(~table.set_index("case_id")["open_at_cutoff"])
    return outcome, s


def _case_groups(events: pd.DataFrame, col: str) -> pd.DataFrame:
    """(case_id, value) pairs: one per case for case-level columns, one per value involved."""
    sub = events[["case_id", col]].dropna()
    pairs = sub.drop_duplicates()
    return pd.DataFrame(
        {
            "case_id": pairs["case_id"].astype("str").to_numpy(),
            "value": pairs[col].astype("str").to_numpy(),
        }
    )


def drill_down(
    log: LogLike,
    *,
    outcome: str | pd.Series,
    by: str | Sequence[str],
    min_cases: int = 30,
    confidence: float = 0.95,
    n_boot: int = 1000,
    seed: int = 0,
    sop: Any = None,
    calendar: Calendar | None = None,
    cases: pd.DataFrame | None = None,
    **outcome_options: Any,
) -> DrillDown:
    """Compare an outcome across attribute values (rates with Wilson intervals, medians
    with bootstrap intervals), largest differences first.

    Parameters
    ----------
    log : TicketLog or pandas.DataFrame
        The event log.
    outcome : str or pandas.Series
        A yes/no outcome (``has_rework``, ``reopened``, ``ping_pong``, ``repeat_contact``,
        ``first_contact_resolved``, ``open_at_cutoff``, ``sla_breached``, ``deviating``,
        ``conforming``) → rate; a number (``cycle_hours``, ``cycle_business_hours``,
        ``handoff_hours``, ``handoff_share``, ``n_handoffs``, ``rework_hours``) → median.
        Also any column of ``cases`` (e.g. ``service_kpis(...).cases``), or a Series
        indexed by case_id. Cycle times of open tickets are left out (they are only
        lower bounds). Definitions: :mod:`svcmining.kpis`.
    by : str or list of str
        Event-log columns to split by (see the module docstring for columns that vary
        within a ticket).
    min_cases : int
        Smallest group reported (default 30).
    confidence : float
        Interval level (default 0.95).
    n_boot : int
        Bootstrap resamples for medians (default 1000; seeded by ``seed``).
    sop, calendar : optional
        Needed for the SLA / deviation outcomes, and for business hours.
    cases : pandas.DataFrame, optional
        A per-ticket table with a ``case_id`` column to take the outcome from.
    **outcome_options
        Passed to :func:`svcmining.kpis.case_outcomes` (``rework=``, ``handoffs=``,
        ``conformance=``, ``repeat_within=``, ``fcr=``, ``close_activities=``).

    Returns
    -------
    DrillDown

    Examples
    --------
    >>> import svcmining as svc                                                # doctest: +SKIP
    >>> dd = svc.drill_down(log, outcome="has_rework", by=["channel", "priority"])  # doctest: +SKIP
    >>> dd.table.head()                                                        # doctest: +SKIP
    """
    events = as_events(log)
    by_cols = [by] if isinstance(by, str) else list(by)
    if not by_cols:
        raise InvalidParameterError(
            "The 'by' parameter of drill_down must name at least one column."
        )
    missing = [c for c in by_cols if c not in events.columns]
    if missing:
        raise InvalidParameterError(
            f"The 'by' parameter of drill_down names columns not in the log: {missing}. "
            f"Columns: {list(events.columns)}."
        )
    min_cases = check_positive_int("drill_down", "min_cases", min_cases)
    if not isinstance(confidence, float) or not 0 < confidence < 1:
        raise InvalidParameterError(
            f"The 'confidence' parameter of drill_down must be in (0, 1). Got {confidence!r}."
        )
    n_boot = check_positive_int("drill_down", "n_boot", n_boot)
    name, y = _resolve_outcome(events, outcome, cases, sop, calendar, outcome_options)
    y = y.dropna()
    if y.dtype == bool or str(y.dtype) == "boolean" or set(pd.unique(y)) <= {0, 1}:
        statistic = "rate"
        y = y.astype("float64")
    elif pd.api.types.is_numeric_dtype(y):
        statistic = "median"
        y = y.astype("float64")
    else:
        raise InvalidParameterError(
            f"The outcome {name!r} of drill_down must be yes/no or numeric. Got dtype {y.dtype}."
        )
    overall = float(y.mean()) if statistic == "rate" else float(y.median())
    rng = np.random.default_rng(seed)
    rows: list[dict[str, Any]] = []
    dropped: list[dict[str, Any]] = []
    for col in by_cols:
        pairs = _case_groups(events, col)
        pairs["y"] = pairs["case_id"].map(y)
        pairs = pairs.dropna(subset=["y"])
        g = pairs.groupby("value", sort=True)["y"]
        n = g.size()
        small = n[n < min_cases]
        dropped.extend({"attribute": col, "value": v, "n_cases": int(k)} for v, k in small.items())
        keep = n[n >= min_cases].index
        if statistic == "rate":
            k = g.sum()[keep]
            lo, hi = wilson_interval(k.to_numpy(), n[keep].to_numpy(), confidence)
            est = (k / n[keep]).to_numpy()
            for i, v in enumerate(keep):
                rows.append(
                    {
                        "attribute": col,
                        "value": v,
                        "n_cases": int(n[v]),
                        "estimate": float(est[i]),
                        "ci_low": float(lo[i]),
                        "ci_high": float(hi[i]),
                    }
                )
        else:
            vals = pairs[pairs["value"].isin(keep)].groupby("value", sort=True)["y"]
            for v, s in vals:  # one pass per attribute value (a handful of groups)
                x = s.to_numpy()
                lo_, hi_ = _bootstrap_median(x, confidence, n_boot, rng)
                rows.append(
                    {
                        "attribute": col,
                        "value": v,
                        "n_cases": len(x),
                        "estimate": float(np.median(x)),
                        "ci_low": lo_,
                        "ci_high": hi_,
                    }
                )
    cols = [
        "attribute",
        "value",
        "n_cases",
        "statistic",
        "estimate",
        "ci_low",
        "ci_high",
        "overall",
        "difference",
        "ratio",
    ]
    table = pd.DataFrame(
        rows, columns=["attribute", "value", "n_cases", "estimate", "ci_low", "ci_high"]
    )
    table["statistic"] = statistic
    table["overall"] = overall
    table["difference"] = table["estimate"] - overall
    table["ratio"] = table["estimate"] / overall if overall else np.nan
    table = table.assign(_a=table["difference"].abs()).sort_values(
        ["_a", "attribute", "value"], ascending=[False, True, True], kind="stable"
    )
    table = table[cols].reset_index(drop=True)
    table["n_cases"] = table["n_cases"].astype("int64")
    return DrillDown(
        table=table,
        outcome=name,
        statistic=statistic,
        overall=overall,
        n_cases=len(y),
        dropped=pd.DataFrame(dropped, columns=["attribute", "value", "n_cases"]),
        min_cases=min_cases,
    )
