"""Every result prints short, shows a bounded notebook view, and plots to a Figure.

The shared helpers are tested on tiny frames with exact output; the results themselves on
the bundled sample exports, where the tables are large enough that an unbounded view would
show (ConformanceResult has thousands of deviation rows there).
"""

from __future__ import annotations

import io
import warnings

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pandas as pd
import pytest
from matplotlib.figure import Figure

import svcmining as svc
from svcmining import _processmap as plots_mod
from svcmining import _repr

MAX_REPR = 2_000  # characters of repr(): a line or two
MAX_HTML = 60_000  # characters of _repr_html_(): a few rows per table


# --------------------------------------------------------------------------- helpers


def test_html_table_shows_ten_rows_and_twelve_columns_then_says_how_many_more():
    """html_table cuts rows and columns and names exactly what it left out."""
    df = pd.DataFrame({f"c{i}": range(13) for i in range(14)})
    out = _repr.html_table(df, "T")
    assert out.startswith("<h4>T</h4>")
    assert out.count("<tr") == 1 + 10  # header + 10 rows
    assert "<th>c11</th>" in out and "<th>c12</th>" not in out
    assert "… 3 more rows; … 2 more columns" in out


def test_html_table_small_frame_has_no_more_note_and_escapes():
    """A frame that fits is shown whole, without a note, and its cells are escaped."""
    out = _repr.html_table(pd.DataFrame({"a": ["<b>x</b>"]}))
    assert "more rows" not in out and "&lt;b&gt;x&lt;/b&gt;" in out


def test_counts_names_pct():
    """The one-line summaries: top values with counts, first names, shares."""
    assert _repr.counts(pd.Series(list("aababcde")), limit=2) == "a 3, b 2, … (3 more)"
    assert _repr.names(["x", "y", "z"], limit=2) == "x, y, … (1 more)"
    assert _repr.pct(0.1234) == "12.3%"
    assert _repr.pct(float("nan")) == "n/a"


# --------------------------------------------------------------------------- results


@pytest.fixture(scope="module")
def results(sample_dir):
    """One of every public result, built once from the sample exports."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        log = svc.read_tickets(sample_dir, timezone="Asia/Shanghai")
        sop = svc.load_sop(sample_dir / "sop_complaint.yaml")
        out = {
            "TicketLog": log,
            "LoadReport": log.report,
            "SOP": sop,
            "ProcessGraph": svc.discover_dfg(log),
            "ProcessModel": svc.discover_model(log),
            "LogComparison": svc.compare_periods(log, by="month"),
            "ReworkResult": svc.find_rework(log),
            "HandoffResult": svc.handoff_delays(log),
            "ConformanceResult": svc.check_sop(log, sop),
            "SOPComparison": svc.compare_with_sop(log, sop),
            "ServiceKPIs": svc.service_kpis(log, sop=sop),
            "PainPoints": svc.pain_points(log, sop=sop),
            "DrillDown": svc.drill_down(log, outcome="has_rework", by="department"),
            "Report": svc.build_report(log, sop=sop, sections=["quality", "rework"]),
        }
    yield out
    plt.close("all")


def _headline(name: str, x) -> str:
    """The figure each repr must name, computed from the result's own tables."""
    if name == "TicketLog":
        return f"{x.n_cases:,} cases"
    if name == "LoadReport":
        return f"{x.rows_dropped:,} dropped"
    if name == "SOP":
        return f"{len(x.steps)} steps"
    if name == "ProcessGraph":
        return f"{len(x.edges):,} edges"
    if name == "ProcessModel":
        return f"{len(x.net.transitions)} transitions"
    if name == "LogComparison":
        return f"{len(x.periods)} periods"
    if name == "ReworkResult":
        return f"{int(x.cases['has_rework'].sum()):,} of {len(x.cases):,} cases with rework"
    if name == "HandoffResult":
        done = int(x.summary.set_index("metric").loc["handoffs", "value"])
        return f"{done:,} handoffs in {len(x.cases):,} tickets"
    if name == "ConformanceResult":
        return f"{len(x.deviations):,} deviations"
    if name == "SOPComparison":
        return f"{len(x.edges):,} flows"
    if name == "ServiceKPIs":
        return f"cases_opened {x.value('cases_opened'):,.0f}"
    if name == "PainPoints":
        return f"1. {x.table['pain_point'].iloc[0]}"
    if name == "DrillDown":
        return f"overall {x.overall:.3g}"
    if name == "Report":
        return f"{x.meta['cases']:,} tickets"
    raise AssertionError(name)


NAMES = [
    "TicketLog",
    "LoadReport",
    "SOP",
    "ProcessGraph",
    "ProcessModel",
    "LogComparison",
    "ReworkResult",
    "HandoffResult",
    "ConformanceResult",
    "SOPComparison",
    "ServiceKPIs",
    "PainPoints",
    "DrillDown",
    "Report",
]


@pytest.mark.parametrize("name", NAMES)
def test_repr_is_short_and_names_the_headline(results, name):
    """repr() is under 2,000 characters, starts with the kind and names the headline figure."""
    x = results[name]
    text = repr(x)
    assert len(text) < MAX_REPR
    assert text.startswith(f"{name}(")
    assert _headline(name, x) in text


@pytest.mark.parametrize("name", NAMES)
def test_repr_html_is_bounded(results, name):
    """The notebook view stays under 60 kB whatever the size of the tables behind it."""
    page = results[name]._repr_html_()
    assert 0 < len(page) < MAX_HTML


def test_conformance_view_shows_five_deviations_of_thousands(results):
    """ConformanceResult's view shows 5 deviation rows and counts the rest (not all 6,854)."""
    res = results["ConformanceResult"]
    n = len(res.deviations)
    assert n > 1000
    page = res._repr_html_()
    assert f"… {n - 5:,} more rows" in page
    assert f"{n:,} deviations" in page
    assert "\n" not in repr(res)


def test_report_view_lists_sections_without_pictures(results):
    """Report's notebook view is the header and section list; the pictures stay in the file."""
    rep = results["Report"]
    page = rep._repr_html_()
    assert "<img" not in page
    assert all(s.title in page for s in rep.sections)
    assert "<img" in rep.to_html()


# --------------------------------------------------------------------------- plots


@pytest.fixture
def no_show(monkeypatch):
    """plt.show fails the test if anything calls it."""

    def fail(*args, **kwargs):
        raise AssertionError("plt.show() was called")

    monkeypatch.setattr(plt, "show", fail)


PLOTS = [
    ("ProcessGraph", {"engine": "matplotlib"}),
    ("LogComparison", {"engine": "matplotlib"}),
    ("LogComparison", {"kind": "side_by_side", "engine": "matplotlib"}),
    ("ReworkResult", {}),
    ("HandoffResult", {}),
    ("ServiceKPIs", {}),
    ("PainPoints", {"engine": "matplotlib"}),
    ("DrillDown", {}),
]


@pytest.mark.parametrize(("name", "kwargs"), PLOTS)
def test_plot_returns_a_figure(results, no_show, name, kwargs):
    """Every result's plot() returns a matplotlib Figure with something drawn on it."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fig = results[name].plot(**kwargs)
    assert isinstance(fig, Figure)
    assert fig.axes
    plt.close(fig)


AX_PLOTS = [
    ("ProcessGraph", {"engine": "matplotlib"}),
    ("LogComparison", {"engine": "matplotlib"}),
    ("ReworkResult", {}),
    ("HandoffResult", {"kind": "heatmap"}),
    ("PainPoints", {"engine": "matplotlib"}),
    ("DrillDown", {}),
]


@pytest.mark.parametrize(("name", "kwargs"), AX_PLOTS)
def test_plot_with_ax_draws_there_and_returns_its_figure(results, no_show, name, kwargs):
    """plot(ax=ax) draws into that axes and returns ax.figure (no new figure)."""
    fig, ax = plt.subplots()
    before = plt.get_fignums()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = results[name].plot(ax=ax, **kwargs)
    assert out is fig
    assert plt.get_fignums() == before
    assert ax.has_data() or ax.texts or ax.images
    plt.close(fig)


def test_graphviz_map_to_figure_shows_the_png_at_its_size(monkeypatch):
    """A Graphviz-drawn ProcessMap gives a figure holding dot's PNG, 1 inch per 144 px."""
    src = plt.figure(figsize=(3, 1), dpi=96)  # a 288 x 96 px picture stands in for dot
    buf = io.BytesIO()
    src.savefig(buf, format="png", dpi=96)
    plt.close(src)
    monkeypatch.setattr(plots_mod, "_run_dot", lambda source, fmt: buf.getvalue())
    m = plots_mod.ProcessMap("graphviz", source="digraph { a -> b }")
    fig = m.to_figure()
    assert tuple(fig.get_size_inches()) == (2.0, 1.0)
    assert fig.dpi == 144
    assert fig.axes[0].images[0].get_array().shape[:2] == (96, 288)
    plt.close(fig)
    drawn = plots_mod.ProcessMap("matplotlib", figure=plt.figure())
    assert drawn.to_figure() is drawn.figure
    plt.close(drawn.figure)
