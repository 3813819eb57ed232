"""The KPI dashboard of :meth:`svcmining.kpis.ServiceKPIs.plot`: one panel per KPI, period
over period (bars when there is one period), with the SOP's or the given targets as red
dashed lines and the overall value as a grey dotted line, both named in legends; titles and
legends in English or Chinese.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ._i18n import LANGS, tr
from ._reportcolumns import KPI_LABELS, kpi_label
from ._validation import check_choice
from .sop import as_sop

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

ALL = "all"  # the period of the whole log (kpis.ALL)

_UNIT_NAMES = {
    "cases": ("tickets", "张工单"),
    "hours": ("hours", "小时"),
    "business_hours": ("business hours", "工作小时"),
    "share": ("%", "%"),
}
_DEFAULT = (
    "cases_opened",
    "cycle_business_hours_p50",  # with a calendar, else the elapsed hours
    "first_contact_resolution",
    "repeat_contact_rate",
    "reopen_rate",
    "rework_rate",
    "handoff_share",
    "sla_attainment",
    "deviation_rate",
    "step_over_threshold_share",
)
_TARGET = "#d62728"


def kpi_goals(
    sop: Any, targets: Mapping[str | tuple[str, str], float] | None
) -> dict[tuple[str, str], float]:
    """``(kpi, detail) -> target`` from the SOP, overridden by ``targets``."""
    goal: dict[tuple[str, str], float] = {}
    the_sop = as_sop(sop, func="ServiceKPIs.plot")
    if the_sop is not None:
        goal.update(the_sop.kpi_targets())
    for key, v in (targets or {}).items():
        goal[(key, "") if isinstance(key, str) else (str(key[0]), str(key[1]))] = float(v)
    return goal


def draw_dashboard(
    table: pd.DataFrame,
    *,
    kpis: Sequence[str] | None = None,
    targets: Mapping[str | tuple[str, str], float] | None = None,
    sop: Any = None,
    lang: str = "en",
) -> Figure:
    """The dashboard of the tidy KPI ``table`` (see :meth:`ServiceKPIs.plot`)."""
    import matplotlib.pyplot as plt

    from ._fonts import use_cjk_font

    check_choice("ServiceKPIs.plot", "lang", lang, LANGS)
    goal = kpi_goals(sop, targets)
    use_cjk_font()
    t = table
    present = set(t["kpi"])
    if kpis is not None:
        names = list(kpis)
    else:
        names = [k for k in _DEFAULT if k in present]
        if "cycle_business_hours_p50" not in present and "cycle_hours_p50" in present:
            names.insert(1, "cycle_hours_p50")
    n = max(len(names), 1)
    ncol = min(3, n)
    nrow = (n + ncol - 1) // ncol
    fig, axes = plt.subplots(nrow, ncol, figsize=(4.6 * ncol, 3.1 * nrow), squeeze=False)
    periods = [str(p) for p in dict.fromkeys(t.loc[t["period"] != ALL, "period"])]
    for ax, name in zip(axes.flat, names, strict=False):
        _panel(ax, t[t["kpi"] == name], name, periods, goal, lang)
    for ax in list(axes.flat)[len(names) :]:
        ax.set_axis_off()
    if goal or len(periods) > 1:
        _styles_legend(fig, multi=len(periods) > 1, goal=bool(goal), lang=lang)
        fig.tight_layout(rect=(0, 0.05 if nrow == 1 else 0.03, 1, 1))
    else:
        fig.tight_layout()
    return fig


def _panel(
    ax: Axes,
    sub: pd.DataFrame,
    name: str,
    periods: list[str],
    goal: dict[tuple[str, str], float],
    lang: str,
) -> None:
    """One KPI: bars for a single period, else a line per detail and the overall value."""
    from matplotlib.ticker import MaxNLocator, PercentFormatter

    per = sub[sub["period"] != ALL]
    details = [str(d) for d in dict.fromkeys(per["detail"])]
    unit = str(sub["unit"].iloc[0]) if len(sub) else ""
    if len(periods) == 1:  # one period: bars, one per detail
        vals = per.groupby("detail", sort=False)["value"].first()
        xs = np.arange(len(details))
        ax.bar(xs, [float(vals[d]) for d in details], color="#4a6fa5", width=0.6)
        many = len(details) > 2
        ax.set_xticks(
            xs,
            [d or periods[0] for d in details],
            rotation=30 if many else 0,
            ha="right" if many else "center",
        )
        ax.set_xlim(-0.6, len(details) - 0.4)
    else:
        x_of = {p: i for i, p in enumerate(periods)}
        for detail in details:
            g = per[per["detail"] == detail]
            ax.plot(
                [x_of[str(p)] for p in g["period"]],
                g["value"].to_numpy(dtype=float),
                marker="o",
                markersize=3.5,
                label=detail if len(details) > 1 else None,
            )
        tot = sub[sub["period"] == ALL]
        if len(tot) == 1 and unit != "cases":  # counts: no overall line
            ax.axhline(
                float(tot["value"].iloc[0]),
                color="grey",
                ls=":",
                lw=1.0,
                label=tr(lang, en="all periods", zh="全部期间"),
            )
        rot = len(periods) > 4
        ax.set_xticks(
            range(len(periods)),
            periods,
            rotation=45 if rot else 0,
            ha="right" if rot else "center",
        )
        ax.set_xlim(-0.4, len(periods) - 0.6)
    _draw_targets(ax, name, details, goal, unit, lang)
    if name in KPI_LABELS:  # the KPI's name as the report's tables write it
        text = kpi_label(name, lang)
    else:
        text = f"{name} ({_UNIT_NAMES.get(unit, (unit, unit))[lang == 'zh']})"
    ax.set_title(text, fontsize=9, y=1.0)  # y given: no search for decorations above
    ax.tick_params(labelsize=7)
    ax.yaxis.set_major_locator(MaxNLocator(nbins=4, steps=[1, 2, 5, 10]))
    if unit == "share":
        ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    if unit in ("share", "cases"):
        ax.set_ylim(bottom=0)
    drawn = [float(v) for v in per["value"] if v == v]
    drawn += [
        float(np.asarray(line.get_ydata(), dtype=float)[0])
        for line in ax.lines
        if line.get_linestyle() == "--"
    ]
    entries = len(ax.get_legend_handles_labels()[0])
    bars = len(periods) == 1
    if drawn and max(drawn) > 0:  # a target line is never on the panel's edge; over bars,
        # room above them for the legend
        room = 1.1 + (0.1 * entries + 0.05 if bars and entries else 0.0)
        ax.set_ylim(top=max(ax.get_ylim()[1], room * max(drawn)))
    if entries:
        ax.legend(fontsize=6, loc="upper right" if bars else "best")


def _draw_targets(
    ax: Axes,
    name: str,
    details: list[str],
    goal: dict[tuple[str, str], float],
    unit: str,
    lang: str,
) -> None:
    """The KPI's targets as red dashed lines, each named with its value in the legend."""
    seen: dict[float, list[str]] = {}
    for d in details or [""]:
        v = goal.get((name, d), goal.get((name, "")))
        if v is not None:
            seen.setdefault(float(v), []).append(d)
    for v, ds in seen.items():
        shown = f"{v:.0%}" if unit == "share" else f"{v:,.4g}"
        who = "" if len(ds) == len(details or [""]) or not any(ds) else f" ({', '.join(ds)})"
        ax.axhline(
            v,
            color=_TARGET,
            ls="--",
            lw=1.2,
            label=tr(lang, en="target {v}{who}", zh="目标 {v}{who}", v=shown, who=who),
        )


def _styles_legend(fig: Figure, *, multi: bool, goal: bool, lang: str) -> None:
    """What the line styles mean, once for the dashboard."""
    from matplotlib.lines import Line2D

    handles = []
    if multi:
        handles.append(
            Line2D(
                [],
                [],
                color="grey",
                ls=":",
                lw=1.0,
                label=tr(
                    lang,
                    en="grey dotted: the value over all periods",
                    zh="灰色点线：全部期间的值",
                ),
            )
        )
    if goal:
        handles.append(
            Line2D(
                [],
                [],
                color=_TARGET,
                ls="--",
                lw=1.2,
                label=tr(
                    lang,
                    en="red dashed: target (the SOP's or given)",
                    zh="红色虚线：目标（SOP 或给定的目标）",
                ),
            )
        )
    fig.legend(handles=handles, loc="lower center", ncol=len(handles), fontsize=7, frameon=False)
