"""The interactive explorer of the HTML report: its data and its HTML fragment.

:func:`explorer_data` gathers, from a log and the analyses the report already ran, what
the page's script needs: the process map laid out by :mod:`svcmining._layout` (node
boxes and edge curves), the counts and waits of every node and edge, the variants, the
tickets behind each of them, and the events of a sample of tickets for the dotted chart.
:func:`explorer_fragment` turns it into HTML: a hidden ``<section>``, the data as a JSON
block and the hand-written script ``svcmining/explorer/explorer.js`` (with its
stylesheet ``explorer.css``), which shows the section and draws everything in SVG. With
the script blocked the section stays hidden and the report's static pictures and tables
are all there is (progressive enhancement). :func:`csp_script_source` is the hash the
page's Content-Security-Policy allows the script by.

Size bound
----------
The embedded data does not grow with the log beyond these caps, so a report of a
1M-event log stays a few hundred kilobytes larger and responsive:

* the map keeps the ``max_nodes`` (80) most frequent activities and, between them, the
  ``max_edges`` (400) most frequent transitions (the rest are counted in ``dropped``);
* the activity slider's maps (the log without the hidden steps) are precomputed at its
  nine stops 10% … 90%, each with at most ``max_edges`` edges;
* every node, edge and variant lists at most ``top_tickets`` (50) tickets — the ones
  with the longest cycle time (nodes, variants) or the longest wait on that transition
  (edges) — plus the total number of its tickets;
* the variant explorer lists the ``max_variants`` (50) most frequent variants;
* the dotted chart shows at most ``max_dot_tickets`` (300) tickets, evenly spread over
  the tickets ordered by start, and at most ``max_dots`` (20,000) events;
* the ticket table holds one row per ticket referenced above (a union, so at most
  ``top_tickets × (nodes + edges + variants + slider edges) + max_dot_tickets`` rows; far
  fewer in practice as the longest tickets recur: 2,975 rows for the 6,500 tickets of
  ``sample_logs/``, whose explorer data is about 480 KB).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any

import pandas as pd

from ._explorerdata import (
    case_basis,
    department_codes,
    deviations_per_case,
    dotted_chart,
    edge_tickets,
    empty_data,
    filters_installed,
    lay_out_map,
    map_edges,
    map_nodes,
    node_sizes,
    pain_rows,
    referenced_tickets,
    renumber_tickets,
    sop_overlay,
    start_slider_levels,
    ticket_holders,
    ticket_table,
    variant_rows,
)
from ._i18n import LANGS, tr
from ._safetext import escape_text, has_unsafe
from ._validation import check_choice
from .eventlog import LogLike, frame_of

if TYPE_CHECKING:
    from .calendars import Calendar
    from .discovery import ProcessGraph

__all__ = [
    "csp_script_source",
    "explorer_data",
    "explorer_fragment",
    "report_fragment",
    "strip_explorer",
    "ticket_rows",
]

_DATA_ID = "svcm-explorer-data"
_JSON_ESCAPE = re.compile(r"\\[bfrtu]")  # JSON's escapes of control characters (and \u…)
_CODE_ID = "svcm-explorer-code"


# ----------------------------------------------------------------------------------------------
# package data


@cache
def _asset(name: str) -> str:
    return resources.files("svcmining").joinpath("explorer", name).read_text(encoding="utf-8")


def csp_script_source() -> str:
    """The CSP source (``'sha256-…'``) of the explorer's inline script."""
    digest = hashlib.sha256(_asset("explorer.js").encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode('ascii')}'"


# ----------------------------------------------------------------------------------------------
# data
def explorer_data(
    log: LogLike,
    *,
    graph: ProcessGraph | None = None,
    results: dict[str, Any] | None = None,
    calendar: Calendar | None = None,
    top_tickets: int = 50,
    max_nodes: int = 80,
    max_edges: int = 400,
    max_layout_edges: int = 60,
    max_variants: int = 50,
    max_dot_tickets: int = 300,
    max_dots: int = 20_000,
    lang: str = "en",
) -> dict[str, Any]:
    """Everything the explorer's script shows, as plain JSON-ready values.

    ``lang`` (``"en"`` / ``"zh"``, as ``lang``) is the language the script writes its
    buttons, headings, table headers and messages in (its string table).

    Tickets are referred to by their row in ``cases["rows"]``; activities and
    departments by their index in ``acts`` / ``deps``. In the rows, the columns named in
    ``cases["codes"]`` hold codes into its lists (the department path: a list of codes).
    :func:`ticket_rows` decodes them. Hours are business hours under
    ``calendar``, else elapsed hours. See the module docstring for the caps.
    """
    from .discovery import case_variants, coded_frame, discover_dfg

    check_choice("explorer_data", "lang", lang, LANGS)
    results = results or {}
    events = frame_of(log)
    if graph is None:
        graph = discover_dfg(log, calendar=calendar)
    n_ev = len(events)
    stack = filters_installed()
    empty = empty_data(calendar, stack)
    if n_ev == 0:
        return {**empty, "lang": lang}
    fr = coded_frame(log)
    base = case_basis(fr, calendar, stack, top_tickets)
    case_ids = events["case_id"].iloc[fr.case_start].to_numpy()
    id_pos = pd.Index(pd.Series(case_ids).astype(str))
    cr = results.get("conformance")
    devs = deviations_per_case(cr, id_pos, base.n_cases) if cr is not None else None

    # the map: the most frequent activities and, between them, the most frequent edges,
    # with the tickets behind nodes (longest cycle first) and edges (longest wait first)
    acts, kept, edge_rows, n_dropped_edges = map_edges(graph, max_nodes, max_edges)
    # the activity slider's maps (numpy work) run on two threads beside the layout and
    # the map's tickets (mostly Python)
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="svcmining-explorer") as pool:
        levels_of = start_slider_levels(base, kept, max_edges, pool)
        place = lay_out_map(kept, node_sizes(acts, kept), edge_rows, base.n_cases, max_layout_edges)
        edge_tickets(base, edge_rows)
        nodes = map_nodes(base, kept, acts, place)
        variants, n_var, variant_rank = variant_rows(base, case_variants(fr), devs, max_variants)
        levels = levels_of()
    pains = pain_rows(results, id_pos, case_ids, top_tickets, max_variants)
    deps, dep_codes = department_codes(events)
    dots = dotted_chart(base, dep_codes, max_dot_tickets, max_dots)

    # the ticket table: one row per ticket referenced above, which they then refer to
    holders = ticket_holders(edge_rows, levels, nodes, variants, pains)
    rows_of = referenced_tickets(holders, dots)
    cases = ticket_table(
        base, events, rows_of, case_ids, (deps, dep_codes), results, devs, variant_rank
    )
    renumber_tickets(holders, dots, rows_of)

    out = dict(empty)
    out.update(
        n_cases=base.n_cases,
        n_events=n_ev,
        acts=base.labels,
        deps=deps,
        nodes=nodes,
        edges=edge_rows,
        levels=levels,
        direction=place.lay.direction,
        variants=variants,
        n_variants=n_var,
        cases=cases,
        dots=dots,
        pains=pains,
        sop=sop_overlay(cr, edge_rows),
        dropped={
            "nodes": len(graph.activities) - len(kept),
            "edges": n_dropped_edges,
            "variants": max(n_var - max_variants, 0),
        },
        width=round(place.width_px, 1),
        height=round(place.height_px, 1),
        top_tickets=top_tickets,
        lang=lang,
    )
    return out


def ticket_rows(data: dict[str, Any]) -> list[dict[str, Any]]:
    """The ticket table of :func:`explorer_data` as records with its codes decoded (the
    department path joined with arrows), as the page shows it."""
    cols, codes = data["cases"]["cols"], data["cases"]["codes"]
    out = []
    for row in data["cases"]["rows"]:
        rec = {}
        for c, v in zip(cols, row, strict=True):
            if c in codes and isinstance(v, list):
                v = " → ".join(codes[c][x] for x in v)
            elif c in codes and v is not None:
                v = codes[c][v]
            rec[c] = v
        out.append(rec)
    return out


# ----------------------------------------------------------------------------------------------
# HTML


def _visible(obj: Any) -> Any:
    """``obj`` with control and bidi characters in every string written as visible escapes
    (as the rest of the report shows labels)."""
    if isinstance(obj, str):
        return escape_text(obj, keep="\n")  # the filter code's own line breaks stay
    if isinstance(obj, list):
        return [_visible(x) for x in obj]
    if isinstance(obj, dict):
        return {k: _visible(v) for k, v in obj.items()}
    return obj


def _json_for_html(data: Any) -> str:
    """JSON that cannot end its ``<script>`` element early: ``<``, ``>``, ``&`` escaped;
    control and bidi characters shown as escapes."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    # JSON writes the C0 controls but the newline as \b \f \r \t or \u00XX and the rest raw:
    # with none of either, no string holds a character _visible would change
    if has_unsafe(text) or _JSON_ESCAPE.search(text):
        text = json.dumps(
            _visible(data), ensure_ascii=False, separators=(",", ":"), allow_nan=False
        )
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def explorer_fragment(data: dict[str, Any]) -> str:
    """The explorer as HTML: a hidden section the script shows, the data and the script
    (in the language of ``data["lang"]``)."""
    lang = str(data.get("lang", "en"))
    heading = tr(lang, en="Explore the process", zh="探索流程")
    note = tr(
        lang,
        en="Interactive: move the sliders, switch the measure, drag to pan, scroll to zoom; "
        "click a step, a transition or a variant to list its tickets.",
        zh="交互：拖动滑块、切换度量、拖拽平移、滚轮缩放；点击步骤、流转或变体，列出其工单。",
    )
    return (
        '<section id="explorer" class="svcm-explorer" hidden>'
        f'<h2>{heading}</h2><p class="note">{note}</p>'
        '<div id="svcm-x"></div></section>'
        f"<style>{_asset('explorer.css')}</style>"
        f'<script type="application/json" id="{_DATA_ID}">{_json_for_html(data)}</script>'
        f'<script id="{_CODE_ID}">{_asset("explorer.js")}</script>'
    )


_DATA_RE = re.compile(
    rf'<script type="application/json" id="{_DATA_ID}">([^<]*)</script>', re.IGNORECASE
)


def strip_explorer(page: str) -> str:
    """``page`` without the explorer's two script elements (for checks that nothing else in a
    report is a script). Raises ``ValueError`` when they are not exactly what
    :func:`explorer_fragment` writes: the data must parse as JSON with no raw ``<``, and the
    code must be the packaged script, byte for byte."""
    code = f'<script id="{_CODE_ID}">{_asset("explorer.js")}</script>'
    out = page
    if code in out:
        out = out.replace(code, "", 1)
        m = _DATA_RE.search(out)
        if m is None:
            raise ValueError("the explorer's script is there but its data block is not")
        json.loads(m.group(1))
        out = out[: m.start()] + out[m.end() :]
    return out


def report_fragment(
    log: LogLike, results: dict[str, Any], calendar: Calendar | None, lang: str = "en"
) -> str:
    """The explorer for :func:`svcmining.build_report`, from the results its sections
    computed (``""`` when the process map was not built), its words in ``lang``. An error
    here leaves the explorer out with a warning; the static report is written all the
    same."""
    import warnings

    graph = results.get("graph")
    if graph is None:
        return ""
    try:
        data = explorer_data(log, graph=graph, results=results, calendar=calendar, lang=lang)
    except Exception as exc:  # the static report must not be lost to the explorer
        warnings.warn(
            f"The report's interactive explorer was left out: {type(exc).__name__}: {exc}",
            RuntimeWarning,
            stacklevel=3,
        )
        return ""
    return explorer_fragment(data) if data["nodes"] else ""
