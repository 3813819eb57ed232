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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from ._groupstats import group_stats
from ._outcomes import FCRDefinition as FCRDefinition
from ._outcomes import StepBenchmark as StepBenchmark
from ._outcomes import case_outcomes as case_outcomes
from ._outcomes import given_analyses, outcome_table, repeat_contact, step_durations, td_hours
from ._outcomes import waiting_times as waiting_times
from ._painpoints import PainPoints as PainPoints
from ._painpoints import pain_points as pain_points
from ._repr import html_table, names, pct
from ._time import cutoff as cutoff_of
from ._validation import check_choice
from .eventlog import (
    LogLike,
    TicketLog,
    as_ticket_log,
    index_in,
)
from .exceptions import InvalidParameterError
from .sop import as_sop
from .states import TicketStates, as_states

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from .calendars import Calendar
    from .conformance import ConformanceResult
    from .rework import ReworkResult

__all__ = [
    "FCRDefinition",
    "KPIAnalysis",
    "PainPoints",
    "ServiceKPIs",
    "StepBenchmark",
    "case_outcomes",
    "kpi_analysis",
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
    labels = pd.Series(pd.DatetimeIndex(uniq).to_period(_PERIOD_FREQ[by]).astype("str"))
    taken = labels.to_numpy(dtype=object)[codes] if len(uniq) else np.array([], dtype=object)
    out = pd.Series(taken, index=times.index, dtype="str")
    return out.where(np.asarray(codes) >= 0)


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
    if len(d) == 0:
        return [float("nan")] * len(qs), float("nan")
    order = np.lexsort((~o, d))  # at equal times, events before censorings
    d, o = d[order], o[order]
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


def _share(mask: pd.Series) -> float:
    m = mask.dropna()
    return float(m.mean()) if len(m) else float("nan")


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
    check_choice("service_kpis", "by", by, ("month", "week", "quarter", "none"))
    for b in benchmarks:
        if not isinstance(b, StepBenchmark):
            raise InvalidParameterError(
                "The 'benchmarks' parameter of service_kpis must hold StepBenchmark objects. "
                f"Got {b!r} instead."
            )
    tlog = as_ticket_log(log)
    events = tlog.events
    if not isinstance(fcr, FCRDefinition):
        raise InvalidParameterError(
            f"The 'fcr' parameter must be an FCRDefinition. Got {fcr!r} instead."
        )
    within = td_hours(repeat_within, "repeat_within")
    sop = as_sop(sop, func="service_kpis")
    if calendar is None and sop is not None:
        calendar = getattr(sop, "calendar", None)
    st = as_states(states, sop=sop, close_activities=close_activities, func="service_kpis")
    cut = cutoff_of(events, cutoff, func="service_kpis")
    given = (rework, handoffs, conformance)
    rework, handoffs, conformance = given_analyses(
        tlog, sop=sop, calendar=calendar, states=st, cut=cut, given=given
    )
    cases = outcome_table(tlog, st, sop, cut, calendar, within, fcr, rework, handoffs, conformance)
    cases["period"] = _period_labels(cases["opened_at"], by).to_numpy()
    closed_period = _period_labels(cases["closed_at"].dropna(), by)

    slas = None
    if conformance is not None:
        at = index_in(conformance.slas["case_id"], cases["case_id"])
        period = cases["period"].to_numpy(dtype=object)[np.maximum(at, 0)]
        slas = conformance.slas.assign(
            period=pd.Series(np.where(at >= 0, period, None), dtype="str")
        )

    # step durations (per event, elapsed), attributed to the ticket's period; integer codes
    step_h = step_durations(tlog, None, st).to_numpy(dtype="float64")
    starts = tlog.case_index()[1]  # cases are in log order = row order of ``cases``
    case_codes = np.repeat(np.arange(len(starts)), np.diff(np.r_[starts, len(events)]))
    period_codes, period_names = pd.factorize(cases["period"], sort=True)
    ev_pc = np.asarray(period_codes)[case_codes]
    act_codes, act_names = tlog.codes("activity", sort=True)
    if sop is not None:
        step_of = {lab: s.id for s in sop.steps for lab in s.labels}
        stage_names = pd.Series(act_names).map(step_of).fillna(pd.Series(act_names)).astype(str)
    else:
        stage_names = pd.Series(act_names).astype(str)
    ok = ~np.isnan(step_h)
    stage_codes, stage_uniq = pd.factorize(stage_names, sort=True)
    ev_stage = np.asarray(stage_codes, dtype=np.int64)[act_codes[ok]]
    stage_by = _median_mean_size(
        ev_pc[ok], ev_stage, step_h[ok], len(period_names), pd.Index(stage_uniq, name="stage")
    )
    stage_all = _median_mean_size(
        np.zeros(int(ok.sum()), dtype=np.int64),
        ev_stage,
        step_h[ok],
        1,
        pd.Index(stage_uniq, name="stage"),
    ).droplevel("p")
    bench_rows: list[tuple[StepBenchmark, pd.DataFrame, pd.Series]] = []
    for b in benchmarks:
        hit = np.flatnonzero(np.asarray(act_names) == b.activity)
        m = ok & (act_codes == hit[0]) if len(hit) else np.zeros(len(ok), dtype=bool)
        bd = pd.DataFrame(
            {
                "p": ev_pc[m],
                "t": step_h[m] > b.threshold_hours,
                "b": step_h[m] > b.benchmark_hours,
            }
        )
        bench_rows.append((b, bd.groupby("p").agg(["mean", "size"]), bd[["t", "b"]].mean()))
    names = dict(enumerate(period_names))
    stage_by = stage_by.rename(index=names, level="p")
    bench_rows = [(b, by_p.rename(index=names), overall) for b, by_p, overall in bench_rows]
    out = _kpi_table(cases, closed_period, stage_by, stage_all, bench_rows, slas, by)
    return replace(
        out, analyses={"rework": rework, "handoffs": handoffs, "conformance": conformance}
    )


def _median_mean_size(
    p: np.ndarray, stage: np.ndarray, h: np.ndarray, n_p: int, stages: pd.Index
) -> pd.DataFrame:
    """``median``, ``mean``, ``size`` of ``h`` per (p, stage) seen, sorted by (p, stage)."""
    k = len(stages)
    key = p * k + stage
    size = np.bincount(key, minlength=n_p * k)
    stats = group_stats(key, h, n_p * k, "h")
    seen = np.flatnonzero(size)
    index = pd.MultiIndex.from_arrays(
        [seen // max(k, 1), stages.take(seen % max(k, 1))], names=["p", "stage"]
    )
    return pd.DataFrame(
        {
            "median": stats["h_p50_hours"][seen],
            "mean": stats["h_mean_hours"][seen],
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
    for per in periods:
        c = cases if per == ALL else cases.iloc[per_idx[per]]
        n = len(c)
        rows.append(_rows(per, "cases_opened", "", n, "cases", n))
        n_closed = len(closed_period) if per == ALL else int(closed_counts.get(per, 0))
        rows.append(_rows(per, "cases_closed", "", n_closed, "cases", n))
        rows.append(_rows(per, "open_at_cutoff", "", c["open_at_cutoff"].sum(), "cases", n))
        closed = ~c["open_at_cutoff"].to_numpy()
        for col, unit in (("cycle_hours", "hours"), ("cycle_business_hours", "business_hours")):
            if col not in c.columns:
                continue
            (p50, p90), mean = km_quantiles(c[col].to_numpy(), closed, [0.5, 0.9])
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
        fcr_v = c.loc[closed, "first_contact_resolved"].mean() if n_cl else np.nan
        rows.append(_rows(per, "first_contact_resolution", "", fcr_v, "share", n_cl))
        rows.append(_rows(per, "repeat_contact_rate", "", _share(c["repeat_contact"]), "share", n))
        if "has_rework" in c.columns:
            rows.append(_rows(per, "reopen_rate", "", _share(c["reopened"]), "share", n))
            rows.append(_rows(per, "rework_rate", "", _share(c["has_rework"]), "share", n))
        if "waiting_hours" in c.columns and "cycle_hours" in c.columns:
            tot = float(c["cycle_hours"].sum())
            wshare = float(c["waiting_hours"].sum()) / tot if tot > 0 else np.nan
            rows.append(_rows(per, "waiting_share", "", min(wshare, 1.0), "share", n))
        if "handoff_hours" in c.columns:
            tot = float(c["span_hours"].sum())
            share = float(c["handoff_hours"].sum()) / tot if tot > 0 else np.nan
            rows.append(_rows(per, "handoff_share", "", min(share, 1.0), "share", n))
        if "conforming" in c.columns:
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
    frame = pd.DataFrame({"period": slas["period"], "sla": slas["sla"], "met": met, "br": br})
    out: dict[str, list[tuple[Any, int, int]]] = {}
    per = frame.groupby(["period", "sla"], sort=False)[["met", "br"]].sum()
    for (period, sla_id), m, b in zip(per.index, per["met"], per["br"], strict=True):
        out.setdefault(period, []).append((sla_id, int(m), int(b)))
    total = frame.groupby("sla", sort=False)[["met", "br"]].sum()
    out[ALL] = [
        (sla_id, int(m), int(b))
        for sla_id, m, b in zip(total.index, total["met"], total["br"], strict=True)
    ]
    return out


def kpi_analysis(
    *,
    sop: Any,
    calendar: Calendar | None,
    close_activities: list[str] | None,
    cutoff: pd.Timestamp,
    rework: ReworkResult,
    handoffs: Any,
    conformance: ConformanceResult | None,
    by: str = "month",
    benchmarks: Sequence[Any] = (),
    fcr: FCRDefinition | None = None,
    repeat_within: str | pd.Timedelta = "7d",
) -> KPIAnalysis:
    """The :class:`KPIAnalysis` of :func:`service_kpis`' options (checked), given the whole
    log's cutoff (``NaT`` for an empty log: now) and analyses."""
    check_choice("service_kpis", "by", by, ("month", "week", "quarter", "none"))
    for b in benchmarks:
        if not isinstance(b, StepBenchmark):
            raise InvalidParameterError(
                "The 'benchmarks' parameter of service_kpis must hold StepBenchmark objects. "
                f"Got {b!r} instead."
            )
    td_hours(repeat_within, "repeat_within")
    options = {
        "calendar": calendar,
        "repeat_within": repeat_within,
        "fcr": FCRDefinition() if fcr is None else fcr,
        "close_activities": close_activities,
        "cutoff": pd.Timestamp.now(tz="UTC") if pd.isna(cutoff) else cutoff,
        "rework": rework,
        "handoffs": handoffs,
        "conformance": conformance,
    }
    return KPIAnalysis(options, by, sop, tuple(benchmarks))


@dataclass(frozen=True)
class KPIAnalysis:
    """The per-ticket and per-step part of :func:`service_kpis` over parts of whole tickets
    (:mod:`svcmining.core`; run by :func:`svcmining.distributed.service_kpis` with the
    whole log's cutoff, rework, handoffs and conformance in ``options``).

    The kernel builds its tickets' :func:`case_outcomes` rows and step durations; the
    combine recomputes the cross-ticket repeat contacts (same customer, another ticket
    within ``repeat_within``) and the KPI table from all rows. (The pandas
    :func:`service_kpis` does not run through this combine yet.)
    """

    options: Mapping[str, Any]
    by: str = "month"
    sop: Any = None
    benchmarks: tuple[StepBenchmark, ...] = ()

    def context(self) -> None:
        """The whole-log facts come in ``options``."""
        return None

    def kernel(self, part: TicketLog, ctx: None = None) -> dict[str, Any]:
        """The part's ticket rows and step durations."""
        return _kpi_part(part, dict(self.options), self.by, self.sop)

    def combine(self, all_parts: Sequence[dict[str, Any]], ctx: None = None) -> ServiceKPIs:
        """The KPI table over the whole log."""
        by, benchmarks, fcr = self.by, self.benchmarks, self.options["fcr"]
        conformance = self.options.get("conformance")
        within = td_hours(self.options["repeat_within"], "repeat_within")
        parts = [p for p in all_parts if p["n_events"]]
        cases = pd.concat([p["cases"] for p in parts], ignore_index=True)
        if "customer_id" in cases.columns:
            # repeat contacts span tickets of several partitions: recomputed over all tickets
            rep = repeat_contact(cases, within * 1.0).to_numpy()
            cases["repeat_contact"] = rep
            if not fcr.allow_repeat_contact:
                cases["first_contact_resolved"] = cases["first_contact_resolved"].to_numpy() & ~rep
        cases = cases.set_index("case_id") if "case_id" in cases.columns else cases
        cases = cases.reset_index()
        steps = pd.concat([p["steps"] for p in parts], ignore_index=True)
        closed_period = _period_labels(cases["closed_at"].dropna(), by)
        slas = None
        if conformance is not None:
            slas = conformance.slas.assign(
                period=lambda d: (
                    d["case_id"].astype("str").map(cases.set_index("case_id")["period"])
                )
            )
        ok = steps["h"].notna().to_numpy()
        sdf = steps[ok]
        stage_by = sdf.groupby(["period", "stage"], sort=True)["h"].agg(["median", "mean", "size"])
        stage_all = sdf.groupby("stage", sort=True)["h"].agg(["median", "mean", "size"])
        bench = []
        for b in benchmarks:
            m = sdf[sdf["activity"] == b.activity]
            bd = pd.DataFrame(
                {
                    "p": m["period"].to_numpy(),
                    "t": m["h"].to_numpy() > b.threshold_hours,
                    "b": m["h"].to_numpy() > b.benchmark_hours,
                }
            )
            bench.append((b, bd.groupby("p").agg(["mean", "size"]), bd[["t", "b"]].mean()))
        return _kpi_table(cases, closed_period, stage_by, stage_all, bench, slas, by)


def _kpi_part(plog: TicketLog, kwargs: dict[str, Any], by: str, sop: Any) -> dict[str, Any]:
    events = plog.events
    if len(events) == 0:
        return {"n_events": 0}
    cases = case_outcomes(plog, sop=sop, **kwargs)
    cases["period"] = _period_labels(cases["opened_at"], by).to_numpy()
    st = as_states(None, sop=sop, close_activities=kwargs.get("close_activities"))
    step_h = step_durations(plog, None, st).to_numpy(dtype="float64")
    codes = pd.factorize(events["case_id"])[0]
    if sop is not None:
        step_of = {lab: s.id for s in sop.steps for lab in s.labels}
        stage = events["activity"].map(step_of).fillna(events["activity"]).astype(str)
    else:
        stage = events["activity"].astype(str)
    steps = pd.DataFrame(
        {
            "period": cases["period"].to_numpy()[codes],
            "stage": stage.to_numpy(),
            "activity": events["activity"].astype(str).to_numpy(),
            "h": step_h,
        }
    )
    return {"n_events": len(events), "cases": cases, "steps": steps}
