"""Service KPIs and the pain-point map: the numbers service managers run their teams by.

:func:`service_kpis` gives one tidy table of the figures a monthly review asks for
(cases, cycle time, first-contact resolution, repeat contacts, reopen and rework rates,
handoff share, SLA attainment, SOP deviation rate, steps over a benchmark), by month
and overall. :func:`pain_points` ranks the breakpoints of the process by the hours they
cost. Both are built on :func:`svcmining.rework.find_rework`,
:func:`svcmining.handoffs.handoff_delays` and :func:`svcmining.conformance.check_sop`;
pass their results in (``rework=``, ``handoffs=``, ``conformance=``) to avoid computing
them twice.

Definitions
-----------
closed / open at cutoff
    A ticket is *closed* as every svcmining analysis judges it (:mod:`svcmining.states`):
    a closed event (结单, 已关闭, Closed, Done, ...; or ``close_activities``) and nothing
    that reopened it since its last closing (a reopen label, or work of a stage not after
    the close); ``closed_at`` is the time of its last closed event. Post-close steps
    (回访, 质量抽检) and runs of closing events do not reopen it; a ticket that is only
    resolved is open.
    Every other ticket is *open at the cutoff* (``cutoff``: default the last event
    of the log).
cycle time
    From the ticket's first event to ``closed_at``; for open tickets to the cutoff, as a
    **right-censored** observation (the ticket took *at least* that long). Percentiles
    and means use the Kaplan-Meier estimate: ``p50`` is the smallest duration ``t`` at
    which the estimated share of tickets closed by ``t`` reaches 50% (equal to the lower
    empirical quantile when nothing is censored; NaN when too few tickets closed to
    reach it); the mean is the area under the survival curve up to the longest observed
    duration (the plain mean when nothing is censored). In elapsed hours, and in
    business hours when a ``calendar`` is given.
period
    A ticket belongs to the period (month by default) of its first event, in the log's
    time zone; ``cases_closed`` counts closes in the period. ``all`` is the whole log.
step duration / time per stage
    ``timestamp - start_timestamp`` with lifecycle data, else the time since the
    previous event of the ticket (the first event has none), in elapsed hours (the
    way service teams quote them: "remote troubleshooting takes more than 4 hours").
    Per SOP step when an SOP is given (labels mapped to step ids), else per activity.
repeat contact
    The same customer (``customer_id``) opens another ticket within ``repeat_within``
    (default 7 days) after this one was opened: this ticket gets ``repeat_contact``.
first-contact resolution (FCR)
    Among closed tickets, the share resolved without a handoff, without rework and
    without a repeat contact (configurable with :class:`FCRDefinition`).
reopen rate / rework rate
    Share of tickets with a reopen cycle / with any rework occurrence (rework taxonomy
    of :mod:`svcmining.rework`; reopens and closings as :mod:`svcmining.states` judges
    them).
waiting hours / waiting share
    Time a ticket spends in waiting states (waiting on the customer or a third party:
    Pending, On Hold, Awaiting User Info, 待客户确认, 挂起 — :mod:`svcmining.states`),
    from the waiting event to the ticket's next event, up to its close (open tickets: up
    to the cutoff), in elapsed hours (``waiting_hours`` per ticket); the share is the
    sum over the tickets of their waiting hours / their cycle hours. Waiting is reported
    on its own: it is not rework, not handoff delay and (by default) not SLA time.
handoff share
    Hours waiting on handoffs between departments / the tickets' hours from first to last
    event (ratio of sums over the tickets, :mod:`svcmining.handoffs`). Without lifecycle
    data a handoff's delay runs to the receiving department's first *completed* step,
    so it includes that step's work.
SLA attainment / deviation rate
    Per SLA of the SOP: met / (met + breached), open tickets whose clock has not expired
    being censored, not counted; deviation rate: share of tickets with at least one SOP
    deviation (:func:`svcmining.check_sop`).
steps over a benchmark
    For each :class:`StepBenchmark`: share of the step's executions longer than its
    threshold (e.g. 远程排障 > 4 h) and longer than the benchmark (e.g. 1 h).
"""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from ._groupstats import group_quantiles
from ._outcomes import FCRDefinition as FCRDefinition
from ._outcomes import OutcomeContext as OutcomeContext
from ._outcomes import OutcomesAnalysis as OutcomesAnalysis
from ._outcomes import StepBenchmark as StepBenchmark
from ._outcomes import case_outcomes as case_outcomes
from ._outcomes import outcomes_analysis as outcomes_analysis
from ._outcomes import step_durations
from ._outcomes import waiting_times as waiting_times
from ._painpoints import PainPoints as PainPoints
from ._painpoints import pain_points as pain_points
from ._repr import html_table, names, pct
from ._validation import check_choice
from .core import run
from .eventlog import (
    LogLike,
    TicketLog,
    as_ticket_log,
    index_in,
)
from .exceptions import InvalidParameterError
from .sop import as_sop
from .states import TicketStates

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from .calendars import Calendar
    from .conformance import ConformanceResult
    from .rework import ReworkResult

__all__ = [
    "FCRDefinition",
    "KPIAnalysis",
    "OutcomesAnalysis",
    "PainPoints",
    "ServiceKPIs",
    "StepBenchmark",
    "case_outcomes",
    "kpi_analysis",
    "outcomes_analysis",
    "pain_points",
    "service_kpis",
    "waiting_times",
]

Period = Literal["month", "week", "quarter", "none"]
_PERIOD_FREQ = {"month": "M", "week": "W-SUN", "quarter": "Q"}
ALL = "all"


def _period_labels(times: pd.Series, by: str) -> pd.Series:
    if by == "none":
        return pd.Series(ALL, index=times.index, dtype="str")
    # label each distinct day once (tickets of a year fall on a few hundred days)
    naive = times.dt.tz_localize(None).astype("datetime64[ns]")
    days = naive.to_numpy().astype("datetime64[D]")
    codes, uniq = pd.factorize(days)
    labels = pd.Index(pd.DatetimeIndex(uniq).to_period(_PERIOD_FREQ[by]).astype("str"))
    taken = labels.astype("str").take(codes, allow_fill=True, fill_value=None)
    return pd.Series(taken, index=times.index, dtype="str")


def km_quantiles(
    durations: np.ndarray, observed: np.ndarray, qs: Sequence[float]
) -> tuple[list[float], float]:
    """Kaplan-Meier quantiles and restricted mean of right-censored durations.

    Parameters
    ----------
    durations : array of float
        Observed durations (closed) or durations so far (censored).
    observed : array of bool
        True where the duration ended (the ticket closed).
    qs : sequence of float
        Quantiles in (0, 1).

    Returns
    -------
    (list of float, float)
        The quantiles (NaN when the estimated closed share never reaches ``q``) and the
        area under the survival curve up to the longest duration.

    Examples
    --------
    >>> km_quantiles(np.array([1.0, 2.0, 3.0]), np.array([True, True, False]), [0.5])
    ([2.0], 2.0)
    """
    d = np.asarray(durations, dtype="float64")
    o = np.asarray(observed, dtype=bool)
    keep = ~np.isnan(d)
    d, o = d[keep], o[keep]
    order = np.lexsort((~o, d))  # at equal times, events before censorings
    return _km_sorted(d[order], o[order], qs)


def _km_sorted(d: np.ndarray, o: np.ndarray, qs: Sequence[float]) -> tuple[list[float], float]:
    """:func:`km_quantiles` of durations without NaN sorted by (duration, not observed)."""
    if len(d) == 0:
        return [float("nan")] * len(qs), float("nan")
    times, first = np.unique(d, return_index=True)
    n_at = len(d) - first  # at risk at each distinct time
    ev = np.add.reduceat(o.astype("int64"), first)
    surv = np.cumprod(1.0 - ev / n_at)
    out = []
    for q in qs:
        hit = np.nonzero(1.0 - surv >= q - 1e-12)[0]
        out.append(float(times[hit[0]]) if len(hit) else float("nan"))
    prev_s = np.concatenate(([1.0], surv[:-1]))
    widths = np.diff(np.concatenate(([0.0], times)))
    mean = float(np.sum(prev_s * widths))
    return out, mean


_KPI_COLUMNS = ["period", "kpi", "detail", "value", "unit", "n"]


@dataclass(frozen=True, eq=False)
class ServiceKPIs:
    """What :func:`service_kpis` computed.

    Attributes
    ----------
    table : pandas.DataFrame
        Tidy: ``period`` (e.g. ``"2024-10"``, or ``"all"``), ``kpi``, ``detail`` (SLA id,
        SOP step, "远程排障 > 4h"...; empty when none), ``value``, ``unit`` (``cases``,
        ``hours``, ``business_hours``, ``share``) and ``n`` (the denominator: tickets, or
        step executions).
    cases : pandas.DataFrame
        The per-ticket table the KPIs come from (see :func:`case_outcomes`), with
        ``period``.
    by : str
        The period length.
    analyses : dict
        The :func:`~svcmining.find_rework`, :func:`~svcmining.handoff_delays` and
        :func:`~svcmining.check_sop` results the KPIs were computed from (``rework``,
        ``handoffs``, ``conformance``; ``None`` where not run), to pass on to other
        analyses of the same log instead of computing them again:
        ``pain_points(log, sop=sop, **kpis.analyses)``.
    """

    table: pd.DataFrame
    cases: pd.DataFrame
    by: str = "month"
    analyses: Mapping[str, Any] = field(default_factory=dict, repr=False)

    def to_frame(self) -> pd.DataFrame:
        """The tidy KPI table."""
        return self.table.copy()

    def wide(self) -> pd.DataFrame:
        """KPIs as rows (``kpi``, ``detail``), periods as columns."""
        t = self.table
        w = t.pivot_table(
            index=["kpi", "detail"], columns="period", values="value", aggfunc="first", sort=False
        )
        cols = [c for c in w.columns if c != ALL] + ([ALL] if ALL in w.columns else [])
        return w[cols]

    def value(self, kpi: str, detail: str = "", period: str = ALL) -> float:
        """One KPI value (NaN when absent)."""
        t = self.table
        hit = t[(t["kpi"] == kpi) & (t["detail"] == detail) & (t["period"] == period)]
        return float(hit["value"].iloc[0]) if len(hit) else float("nan")

    def plot(
        self,
        *,
        kpis: Sequence[str] | None = None,
        targets: Mapping[str | tuple[str, str], float] | None = None,
        sop: Any = None,
        lang: str = "en",
    ) -> Figure:
        """A small dashboard: one panel per KPI, period over period.

        With several periods a panel draws a line per detail (SLA, step ...) and the
        overall value as a grey dotted line; with a single period, bars. A target is a red
        dashed line, named in the panel's legend with its value.

        Parameters
        ----------
        kpis : sequence of str, optional
            The KPIs to draw (default: the headline KPIs present).
        targets : mapping, optional
            ``kpi -> value`` (every detail) or ``(kpi, detail) -> value``, in the KPI's
            unit (shares as fractions: ``{"sla_attainment": 0.9}``); they override the
            SOP's.
        sop : SOP or path, optional
            Take the targets of the SOP (its ``targets:`` and each SLA's ``target``).
        lang : {'en', 'zh'}
            The language of the titles and legends.

        Returns
        -------
        matplotlib.figure.Figure
        """
        from ._kpichart import draw_dashboard

        return draw_dashboard(self.table, kpis=kpis, targets=targets, sop=sop, lang=lang)

    def _headline(self) -> str:
        t = self.table
        periods = [str(p) for p in dict.fromkeys(t["period"]) if p != ALL]
        parts = []
        headline = ("cases_opened", "cycle_hours_p50", "first_contact_resolution", "sla_attainment")
        for kpi in headline:
            v = self.value(kpi)
            if v == v:  # not NaN
                unit = t.loc[t["kpi"] == kpi, "unit"].iloc[0]
                parts.append(f"{kpi} {pct(v) if unit == 'share' else f'{v:,.4g}'}")
        return (
            f"by {self.by}, {len(periods)} periods ({names(periods, limit=3)}), "
            f"{t['kpi'].nunique()} KPIs" + (f"; overall {', '.join(parts)}" if parts else "")
        )

    def __repr__(self) -> str:
        return f"ServiceKPIs({self._headline()})"

    def _repr_html_(self) -> str:
        wide = self.wide()
        periods = [c for c in wide.columns if c != ALL]
        keep = periods[-8:] + [c for c in wide.columns if c == ALL]  # the latest periods
        note = f"<p>… {len(periods) - 8} earlier periods</p>" if len(periods) > 8 else ""
        return (
            f"<p><b>Service KPIs</b>: {html.escape(self._headline())}</p>"
            + html_table(wide[keep].reset_index(), max_rows=25, float_format=lambda x: f"{x:.3g}")
            + note
        )


def _rows(period: str, kpi: str, detail: str, value: float, unit: str, n: int) -> dict[str, Any]:
    return {
        "period": period,
        "kpi": kpi,
        "detail": detail,
        "value": float(value),
        "unit": unit,
        "n": int(n),
    }


def _share(mask: np.ndarray) -> float:
    """The share of true values, missing ones (NaN) left out."""
    m = mask[~np.isnan(mask)] if mask.dtype.kind == "f" else mask
    return float(m.mean()) if len(m) else float("nan")


#: The per-ticket columns the KPI table is computed from.
_TABLE_COLUMNS = (
    "open_at_cutoff",
    "cycle_hours",
    "cycle_business_hours",
    "first_contact_resolved",
    "repeat_contact",
    "reopened",
    "has_rework",
    "waiting_hours",
    "span_hours",
    "handoff_hours",
    "deviating",
)


def service_kpis(
    log: LogLike,
    *,
    sop: Any = None,
    calendar: Calendar | None = None,
    by: Period = "month",
    benchmarks: Sequence[StepBenchmark] = (),
    fcr: FCRDefinition = FCRDefinition(),
    repeat_within: str | pd.Timedelta = "7d",
    close_activities: Sequence[str] | None = None,
    cutoff: Any = None,
    rework: ReworkResult | None = None,
    handoffs: Any = None,
    conformance: ConformanceResult | None = None,
    states: TicketStates | None = None,
) -> ServiceKPIs:
    """The service KPIs of a ticket log, by period and overall, in one tidy table.

    See the module docstring for every definition.

    Parameters
    ----------
    log : TicketLog or pandas.DataFrame
        The event log.
    sop : SOP, optional
        Enables SLA attainment, the deviation rate (via :func:`svcmining.check_sop`,
        the slowest part: pass ``conformance=`` to reuse a result) and time per SOP step.
    calendar : Calendar, optional
        Business hours for cycle times, stage times and handoffs (default: the SOP's).
    by : {'month', 'week', 'quarter', 'none'}
        Period of the tickets' opening.
    benchmarks : sequence of StepBenchmark
        Steps to report as "share over threshold / over benchmark".
    fcr : FCRDefinition
        What counts as first-contact resolution.
    repeat_within : str or Timedelta
        Window for a repeat contact by the same customer (default ``"7d"``).
    close_activities : list of str, optional
        Labels closing a ticket (default the rework module's list).
    cutoff : timestamp, optional
        When the export was taken (default: the last event).
    rework, handoffs, conformance : results, optional
        Precomputed :func:`find_rework`, :func:`handoff_delays`, :func:`check_sop`.

    Returns
    -------
    ServiceKPIs

    Examples
    --------
    >>> import svcmining as svc                                        # doctest: +SKIP
    >>> bench = [svc.StepBenchmark("远程排障", "4h", "1h")]           # doctest: +SKIP
    >>> k = svc.service_kpis(svc.read_tickets("sample_logs/"), benchmarks=bench)  # doctest: +SKIP
    >>> k.value("cycle_hours_p50")                                    # doctest: +SKIP
    """
    tlog = as_ticket_log(log)
    analysis, analyses = kpi_analysis(
        tlog,
        lambda a: run(a, [tlog]),
        sop=sop,
        calendar=calendar,
        by=by,
        benchmarks=benchmarks,
        fcr=fcr,
        repeat_within=repeat_within,
        close_activities=close_activities,
        cutoff=cutoff,
        rework=rework,
        handoffs=handoffs,
        conformance=conformance,
        states=states,
    )
    return replace(run(analysis, [tlog]), analyses=analyses)


def _median_mean_size(
    p: np.ndarray, stage: np.ndarray, h: np.ndarray, n_p: int, stages: pd.Index
) -> pd.DataFrame:
    """``median``, ``mean``, ``size`` of ``h`` per (p, stage) seen, sorted by (p, stage)."""
    k = len(stages)
    key = p * k + stage
    size = np.bincount(key, minlength=n_p * k)
    sums = np.bincount(key, weights=h, minlength=n_p * k)
    (median,), _ = group_quantiles(key, h, n_p * k, (0.5,))
    seen = np.flatnonzero(size)
    index = pd.MultiIndex.from_arrays(
        [seen // max(k, 1), stages.take(seen % max(k, 1))], names=["p", "stage"]
    )
    return pd.DataFrame(
        {
            "median": median[seen],
            "mean": sums[seen] / size[seen],
            "size": size[seen].astype(np.int64),
        },
        index=index,
    )


def _kpi_table(
    cases: pd.DataFrame,
    closed_period: pd.Series,
    stage_by: pd.DataFrame,
    stage_all: pd.DataFrame,
    bench_rows: Sequence[tuple[StepBenchmark, pd.DataFrame, pd.Series]],
    slas: pd.DataFrame | None,
    by: str,
) -> ServiceKPIs:
    """The tidy KPI table, per period and overall, from per-ticket outcomes and step stats.

    ``stage_by`` is indexed by (period, stage) and each benchmark's table by period (period
    labels as in ``cases["period"]``). Shared by :func:`service_kpis` and its Dask version.
    """
    per_idx = cases.groupby("period", sort=True).indices
    closed_counts = closed_period.value_counts()
    periods = sorted(cases["period"].unique()) + ([ALL] if by != "none" else [])
    stage_periods = set(stage_by.index.get_level_values(0))
    sla_counts = None if slas is None else _sla_counts(slas)
    rows: list[dict[str, Any]] = []
    # the columns as numpy arrays, once (missing values of nullable columns as NaN)
    whole = {
        col: cases[col].to_numpy(dtype=float, na_value=np.nan)
        if isinstance(cases[col].dtype, pd.BooleanDtype)
        else cases[col].to_numpy()
        for col in _TABLE_COLUMNS
        if col in cases.columns
    }
    # each duration column sorted once for the Kaplan-Meier estimates; a period's tickets
    # in that order are its own sorted durations
    period_of = np.full(len(cases), -1, dtype=np.int64)
    for j, idx in enumerate(per_idx.values()):
        period_of[idx] = j
    period_no = {per: j for j, per in enumerate(per_idx)}
    km_order: dict[str, np.ndarray] = {}
    for col in ("cycle_hours", "cycle_business_hours"):
        if col in whole:
            d = np.asarray(whole[col], dtype="float64")
            order = np.lexsort((whole["open_at_cutoff"], d))  # events before censorings
            km_order[col] = order[~np.isnan(d[order])]
    for per in periods:
        c = whole if per == ALL else {k: v[per_idx[per]] for k, v in whole.items()}
        n = len(c["open_at_cutoff"])
        rows.append(_rows(per, "cases_opened", "", n, "cases", n))
        n_closed = len(closed_period) if per == ALL else int(closed_counts.get(per, 0))
        rows.append(_rows(per, "cases_closed", "", n_closed, "cases", n))
        rows.append(_rows(per, "open_at_cutoff", "", c["open_at_cutoff"].sum(), "cases", n))
        closed = ~c["open_at_cutoff"]
        for col, unit in (("cycle_hours", "hours"), ("cycle_business_hours", "business_hours")):
            if col not in c:
                continue
            at = km_order[col]
            if per != ALL:
                at = at[period_of[at] == period_no[per]]
            d_at, closed_at = (
                np.asarray(whole[col], dtype="float64")[at],
                ~whole["open_at_cutoff"][at],
            )
            (p50, p90), mean = _km_sorted(d_at, closed_at, [0.5, 0.9])
            rows.append(_rows(per, f"{col}_p50", "", p50, unit, n))
            rows.append(_rows(per, f"{col}_p90", "", p90, unit, n))
            rows.append(_rows(per, f"{col}_mean", "", mean, unit, n))
        if per == ALL:
            stg = stage_all
        elif per in stage_periods:
            stg = stage_by.xs(per, level=0)
        else:
            stg = stage_all[:0]
        for name, med_, mean_, size_ in zip(
            stg.index, stg["median"], stg["mean"], stg["size"], strict=True
        ):
            rows.append(_rows(per, "stage_hours_p50", str(name), med_, "hours", size_))
            rows.append(_rows(per, "stage_hours_mean", str(name), mean_, "hours", size_))
        n_cl = int(closed.sum())
        fcr_v = c["first_contact_resolved"][closed].mean() if n_cl else np.nan
        rows.append(_rows(per, "first_contact_resolution", "", fcr_v, "share", n_cl))
        rows.append(_rows(per, "repeat_contact_rate", "", _share(c["repeat_contact"]), "share", n))
        if "has_rework" in c:
            rows.append(_rows(per, "reopen_rate", "", _share(c["reopened"]), "share", n))
            rows.append(_rows(per, "rework_rate", "", _share(c["has_rework"]), "share", n))
        if "waiting_hours" in c and "cycle_hours" in c:
            tot = float(np.nansum(c["cycle_hours"]))
            wshare = float(np.nansum(c["waiting_hours"])) / tot if tot > 0 else np.nan
            rows.append(_rows(per, "waiting_share", "", min(wshare, 1.0), "share", n))
        if "handoff_hours" in c:
            tot = float(np.nansum(c["span_hours"]))
            share = float(np.nansum(c["handoff_hours"])) / tot if tot > 0 else np.nan
            rows.append(_rows(per, "handoff_share", "", min(share, 1.0), "share", n))
        if "deviating" in c:
            rows.append(_rows(per, "deviation_rate", "", _share(c["deviating"]), "share", n))
        if sla_counts is not None:
            for sla_id, met, br in sla_counts.get(per, []):
                att = met / (met + br) if met + br else np.nan
                rows.append(_rows(per, "sla_attainment", str(sla_id), att, "share", met + br))
        for b, by_p, overall in bench_rows:
            label_t = f"{b.activity} > {b.threshold_hours:g}h"
            label_b = f"{b.activity} > {b.benchmark_hours:g}h"
            if per == ALL:
                nx = int(sum(by_p[("t", "size")])) if len(by_p) else 0
                over_t, over_b = float(overall["t"]), float(overall["b"])
            elif per in by_p.index:
                nx = int(by_p.loc[per, ("t", "size")])
                over_t = float(by_p.loc[per, ("t", "mean")])
                over_b = float(by_p.loc[per, ("b", "mean")])
            else:
                nx, over_t, over_b = 0, np.nan, np.nan
            rows.append(_rows(per, "step_over_threshold_share", label_t, over_t, "share", nx))
            rows.append(_rows(per, "step_over_benchmark_share", label_b, over_b, "share", nx))
    table = pd.DataFrame(rows, columns=_KPI_COLUMNS)
    table["value"] = table["value"].astype("float64")
    return ServiceKPIs(table=table, cases=cases, by=by)


def _sla_counts(slas: pd.DataFrame) -> dict[str, list[tuple[Any, int, int]]]:
    """Per period (and ``ALL``): (sla, met, breached) in order of first appearance."""
    met = (slas["status"] == "met").to_numpy()
    br = (slas["status"] == "breached").to_numpy()
    p_codes, p_names = pd.factorize(slas["period"])
    s_codes, s_names = pd.factorize(slas["sla"])
    n_s = len(s_names)
    out: dict[str, list[tuple[Any, int, int]]] = {}
    for per_period in (True, False):  # per period, then over all periods
        ok = (s_codes >= 0) & (p_codes >= 0) if per_period else s_codes >= 0
        p = p_codes[ok] if per_period else np.zeros(int(ok.sum()), dtype=np.int64)
        uniq, first, inv = np.unique(p * n_s + s_codes[ok], return_index=True, return_inverse=True)
        n_met = np.bincount(inv, weights=met[ok], minlength=len(uniq))
        n_br = np.bincount(inv, weights=br[ok], minlength=len(uniq))
        for j in np.argsort(first, kind="stable"):  # in order of first appearance
            period = p_names[uniq[j] // n_s] if per_period else ALL
            out.setdefault(period, []).append((s_names[uniq[j] % n_s], int(n_met[j]), int(n_br[j])))
    return out


def kpi_analysis(
    log: Any,
    run_on_log: Callable[[Any], Any],
    *,
    functions: Mapping[str, Callable[..., Any]] | None = None,
    sop: Any = None,
    calendar: Calendar | None = None,
    by: Period = "month",
    benchmarks: Sequence[StepBenchmark] = (),
    fcr: FCRDefinition = FCRDefinition(),
    repeat_within: str | pd.Timedelta = "7d",
    close_activities: Sequence[str] | None = None,
    cutoff: Any = None,
    rework: ReworkResult | None = None,
    handoffs: Any = None,
    conformance: ConformanceResult | None = None,
    states: TicketStates | None = None,
) -> tuple[KPIAnalysis, dict[str, Any]]:
    """The :class:`KPIAnalysis` of :func:`service_kpis`' options (checked) and the
    analyses it consumes (``rework``, ``handoffs``, ``conformance``), for a pandas or a
    Dask ``log``: ``run_on_log(analysis)`` runs an analysis over it and ``functions``
    compute the missing results (see :func:`outcomes_analysis`)."""
    check_choice("service_kpis", "by", by, ("month", "week", "quarter", "none"))
    for b in benchmarks:
        if not isinstance(b, StepBenchmark):
            raise InvalidParameterError(
                "The 'benchmarks' parameter of service_kpis must hold StepBenchmark objects. "
                f"Got {b!r} instead."
            )
    sop = as_sop(sop, func="service_kpis")
    if calendar is None and sop is not None:
        calendar = getattr(sop, "calendar", None)
    outcomes, analyses = outcomes_analysis(
        log,
        run_on_log,
        functions=functions,
        sop=sop,
        calendar=calendar,
        repeat_within=repeat_within,
        fcr=fcr,
        close_activities=close_activities,
        cutoff=cutoff,
        rework=rework,
        handoffs=handoffs,
        conformance=conformance,
        states=states,
        func="service_kpis",
    )
    step_of = {} if sop is None else {lab: s.id for s in sop.steps for lab in s.labels}
    return KPIAnalysis(outcomes, by, tuple(benchmarks), step_of), analyses


@dataclass(frozen=True, eq=False)
class KPIPart:
    """The partial result of whole tickets: their :func:`case_outcomes` rows (``cases``)
    and, per event, the step duration ``step_h`` (hours, NaN for none), the activity code
    ``act`` (of the sorted ``activities``) and the ticket code ``case`` (in the part)."""

    cases: pd.DataFrame
    step_h: np.ndarray
    act: np.ndarray
    activities: pd.Index
    case: np.ndarray


@dataclass(frozen=True, eq=False)
class KPIAnalysis:
    """:func:`service_kpis` as a context, a kernel and a combine (:mod:`svcmining.core`).

    The context is the :class:`~svcmining.kpis.OutcomesAnalysis` one (export cutoff,
    stages, the analyses' per-ticket facts). The kernel returns its tickets' outcome rows
    and the step duration of each event; the combine builds the outcome table (repeat
    contacts over all tickets), the periods, and the KPI table from the per-ticket rows
    and the step durations of all events, in log order -- the pandas path is the
    one-part case.
    """

    outcomes: OutcomesAnalysis
    by: str = "month"
    benchmarks: tuple[StepBenchmark, ...] = ()
    step_of: Mapping[str, str] = field(default_factory=dict)

    def context(self) -> Any:
        """The context of :func:`case_outcomes`."""
        return self.outcomes.context()

    def kernel(self, part: TicketLog, ctx: OutcomeContext) -> KPIPart:
        """The part's ticket rows and its events' step durations."""
        cases = self.outcomes.kernel(part, ctx)
        step_h = step_durations(part, None, ctx.states).to_numpy(dtype="float64")
        act, names = part.codes("activity", sort=True)
        return KPIPart(cases, step_h, act, pd.Index(names), part.case_index()[0])

    def combine(self, parts: Sequence[KPIPart], ctx: OutcomeContext) -> ServiceKPIs:
        """The KPI table over the whole log."""
        by = self.by
        cases = self.outcomes.combine([p.cases for p in parts], ctx)
        cases["period"] = _period_labels(cases["opened_at"], by).array
        closed_period = _period_labels(cases["closed_at"].dropna(), by)
        codes, period_names = pd.factorize(cases["period"], sort=True)
        period_codes = np.asarray(codes, dtype=np.int64)
        slas = None
        if ctx.facts.slas is not None:
            sl = ctx.facts.slas
            ids = sl["case_id"]  # each ticket's checks in a run: looked up once per run
            head = np.r_[True, np.asarray(ids.array[1:] != ids.array[:-1], dtype=bool)]
            heads = np.flatnonzero(head) if len(ids) else np.zeros(0, dtype=np.int64)
            found = index_in(ids.iloc[heads], cases["case_id"])
            at = found[np.cumsum(head) - 1] if len(ids) else found
            sla_pc = np.where(at >= 0, period_codes[np.maximum(at, 0)], -1)
            slas = sl.assign(period=pd.Categorical.from_codes(sla_pc, period_names))
        stage_by, stage_all, bench_rows = self._steps(parts, period_codes, period_names)
        return _kpi_table(cases, closed_period, stage_by, stage_all, bench_rows, slas, by)

    def _steps(
        self, parts: Sequence[KPIPart], period_codes: np.ndarray, period_names: pd.Index
    ) -> tuple[pd.DataFrame, pd.DataFrame, list[tuple[StepBenchmark, pd.DataFrame, pd.Series]]]:
        """Step durations per (period, stage) and overall, and the benchmarks' shares."""
        if len(parts) == 1:
            p = parts[0]
            step_h, act_codes, act_names, case_codes = p.step_h, p.act, p.activities, p.case
        else:
            act_names = pd.Index(
                pd.unique(np.concatenate([np.asarray(p.activities, dtype=object) for p in parts]))
            ).sort_values()
            step_h = np.concatenate([p.step_h for p in parts])
            act_codes = np.concatenate(
                [act_names.get_indexer(p.activities)[p.act] for p in parts]
            ).astype(np.int64)
            off = np.cumsum([0] + [len(p.cases) for p in parts])[:-1]
            case_codes = np.concatenate([p.case + o for p, o in zip(parts, off, strict=True)])
        ev_pc = period_codes[case_codes]
        stage_names = pd.Series(act_names).astype(str)
        if self.step_of:
            stage_names = stage_names.map(self.step_of).fillna(stage_names).astype(str)
        ok = ~np.isnan(step_h)
        stage_codes, stage_uniq = pd.factorize(stage_names, sort=True)
        ev_stage = np.asarray(stage_codes, dtype=np.int64)[act_codes[ok]]
        stages = pd.Index(stage_uniq, name="stage")
        stage_by = _median_mean_size(ev_pc[ok], ev_stage, step_h[ok], len(period_names), stages)
        zeros = np.zeros(int(ok.sum()), dtype=np.int64)
        stage_all = _median_mean_size(zeros, ev_stage, step_h[ok], 1, stages).droplevel("p")
        names = dict(enumerate(period_names))
        bench_rows: list[tuple[StepBenchmark, pd.DataFrame, pd.Series]] = []
        for b in self.benchmarks:
            hit = np.flatnonzero(np.asarray(act_names) == b.activity)
            m = ok & (act_codes == hit[0]) if len(hit) else np.zeros(len(ok), dtype=bool)
            bd = pd.DataFrame(
                {
                    "p": ev_pc[m],
                    "t": step_h[m] > b.threshold_hours,
                    "b": step_h[m] > b.benchmark_hours,
                }
            )
            by_p = bd.groupby("p").agg(["mean", "size"]).rename(index=names)
            bench_rows.append((b, by_p, bd[["t", "b"]].mean()))
        return stage_by.rename(index=names, level="p"), stage_all, bench_rows
