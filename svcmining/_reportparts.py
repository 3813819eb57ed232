"""HTML pieces of the report (:mod:`svcmining.report`): escaped text, tables, KPI
tiles and figures as embedded PNG or SVG with the CJK font stack.
"""

from __future__ import annotations

import base64
import html
import io
import re
import shutil
import subprocess
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd

from ._i18n import tr
from ._reportcolumns import column_kind, column_label, format_value, value_label
from ._safetext import escape_text
from .exceptions import SvcMiningError

if TYPE_CHECKING:
    pass


SVG_FONT_STACK = (
    "Noto Sans CJK SC, Noto Sans SC, Source Han Sans SC, PingFang SC, Hiragino Sans GB, "
    "Microsoft YaHei, WenQuanYi Micro Hei, SimHei, sans-serif"
)


# =============================================================================
# HTML helpers
# =============================================================================
def escape_html(text: str) -> str:
    """Data text as HTML: controls and bidi overrides shown as escapes, then HTML-escaped."""
    return html.escape(escape_text(text))


#: Rows a table shows before "show all"; the rest are in the page, collapsed.
VISIBLE_ROWS = 15
#: Above this many rows a table shows its first HUGE_ROWS and offers all as a CSV download.
HUGE_ROWS = 2000
_WRITTEN_NUMBER = re.compile(r"[-+−]?\d[\d,]*(\.\d+)?%?")
_ENUM_COLUMNS = frozenset({"kind", "type", "severity", "module", "pain_point", "priority"})


def _fmt_cell(v: Any, lang: str = "en") -> str:
    if isinstance(v, bool):
        return tr(lang, en="yes", zh="是") if v else tr(lang, en="no", zh="否")
    if isinstance(v, float | int):
        return format_value(v, "number")
    if isinstance(v, pd.Timestamp):
        return "" if pd.isna(v) else v.strftime("%Y-%m-%d %H:%M")
    if isinstance(v, tuple | list):
        return " → ".join(map(str, v))
    if v is None or (not isinstance(v, str) and pd.api.types.is_scalar(v) and pd.isna(v)):
        return ""
    return str(v)


def _column_texts(df: pd.DataFrame, col: Any, lang: str) -> tuple[list[str], bool]:
    """The cells of one column as text, and whether the column is numeric (right-aligned)."""
    values = df[col]
    numeric = pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
    if numeric:
        kind = column_kind(col)
        if kind == "text":
            kind = "number"
        return [format_value(v, kind) for v in values.tolist()], True
    texts = [_fmt_cell(v, lang) for v in values.tolist()]
    if str(col) in _ENUM_COLUMNS:
        texts = [value_label(t, lang) for t in texts]
    written = [t for t in texts if t]
    numbers = bool(written) and all(_WRITTEN_NUMBER.fullmatch(t) for t in written)
    return texts, numbers  # numbers already written (e.g. "4.7%"): right-aligned too


def _rows_html(cells: list[list[str]], numeric: list[bool], start: int, stop: int) -> str:
    rows = []
    for i in range(start, stop):
        out = []
        for texts, num in zip(cells, numeric, strict=True):
            text = texts[i]
            if num:
                cls = ' class="num"'
            elif len(text) > 60:
                cls = ' class="long"'  # evidence, sequences: give them room, not tall rows
            elif len(text) <= 14:
                cls = ' class="nw"'
            else:
                cls = ""
            out.append(f"<td{cls}>{escape_html(text)}</td>")
        rows.append("<tr>" + "".join(out) + "</tr>")
    return "".join(rows)


def _csv_link(df: pd.DataFrame, labels: list[str], lang: str) -> str:
    """The whole table as a CSV file inside the page (a ``data:`` link, UTF-8 with BOM)."""
    full = df.copy()
    full.columns = labels
    for c in full.columns:
        if full[c].dtype == object:
            full[c] = [_fmt_cell(v, lang) if isinstance(v, tuple | list) else v for v in full[c]]
    data = ("\ufeff" + full.to_csv(index=False)).encode("utf-8")
    uri = "data:text/csv;charset=utf-8;base64," + base64.b64encode(data).decode("ascii")
    text = tr(lang, en="download all {n:,} rows as CSV", zh="下载全部 {n:,} 行 (CSV)", n=len(df))
    return f'<a download="table.csv" href="{uri}">{escape_html(text)}</a>'


def table_html(
    df: pd.DataFrame,
    *,
    lang: str = "en",
    visible: int = VISIBLE_ROWS,
    caption: str = "",
    max_rows: int | None = None,
) -> str:
    """A DataFrame as an escaped HTML table for a reader: human column names with units
    (:mod:`svcmining._reportcolumns`), percentages as percentages, thousands separators.

    Every row is in the page: the first ``visible`` show, the others are behind a
    "show all" switch (``<details>``, no script). A table over :data:`HUGE_ROWS` rows shows
    its first :data:`HUGE_ROWS` and links the whole table as a CSV file inside the page,
    and says so. ``max_rows`` is the older name of ``visible``.
    """
    if df is None or len(df) == 0:
        return f'<p class="note">{tr(lang, en="(none)", zh="(无)")}</p>'
    if max_rows is not None:
        visible = max_rows
    visible = max(int(visible), 1)
    n = len(df)
    shown = df.head(HUGE_ROWS)
    cols = list(shown.columns)
    labels = [column_label(c, lang) for c in cols]
    cells, numeric = [], []
    for c in cols:
        texts, num = _column_texts(shown, c, lang)
        cells.append(texts)
        numeric.append(num)
    head = "".join(
        f'<th class="{"num" if num else ""}">{escape_html(label)}</th>'
        for label, num in zip(labels, numeric, strict=True)
    )
    cap = f"<caption>{escape_html(caption)}</caption>" if caption else ""
    first = min(visible, len(shown))
    body = f"<tbody>{_rows_html(cells, numeric, 0, first)}</tbody>"
    switch = ""
    if len(shown) > first:
        body += f'<tbody class="rest">{_rows_html(cells, numeric, first, len(shown))}</tbody>'
        summary = (
            tr(
                lang,
                en="show all {n:,} rows ({m:,} more)",
                zh="显示全部 {n:,} 行 (另有 {m:,} 行)",
                n=len(shown),
                m=len(shown) - first,
            )
            if n <= HUGE_ROWS
            else tr(
                lang,
                en="show the first {n:,} rows ({m:,} more)",
                zh="显示前 {n:,} 行 (另有 {m:,} 行)",
                n=len(shown),
                m=len(shown) - first,
            )
        )
        fewer = tr(lang, en="show fewer rows", zh="收起")
        # the words follow the switch with CSS alone (details[open]): no script
        switch = (
            f'<details class="rows"><summary><span class="more">{escape_html(summary)}</span>'
            f'<span class="less">{escape_html(fewer)}</span></summary></details>'
        )
    huge = ""
    if n > HUGE_ROWS:
        huge = (
            '<p class="note">'
            + escape_html(
                tr(
                    lang,
                    en="This table has {n:,} rows; the page shows the first {k:,}: ",
                    zh="此表共 {n:,} 行，页面显示前 {k:,} 行：",
                    n=n,
                    k=HUGE_ROWS,
                )
            )
            + _csv_link(df, labels, lang)
            + "</p>"
        )
    return (
        f'<div class="tblwrap">{switch}<div class="tbl"><table>{cap}<thead><tr>{head}</tr>'
        f"</thead>{body}</table></div>{huge}</div>"
    )


def kpi_tiles(items: Sequence[tuple[str, ...]]) -> str:
    """Tiles of (label, value) or (label, value, note): the note is a small line under them."""
    tiles = []
    for item in items:
        label, value = item[0], item[1]
        note = item[2] if len(item) > 2 else ""
        extra = f"<i>{escape_html(note)}</i>" if note else ""
        tiles.append(
            f'<div class="kpi"><b>{escape_html(value)}</b><span>{escape_html(label)}</span>'
            f"{extra}</div>"
        )
    return f'<div class="kpis">{"".join(tiles)}</div>'


def img_tag(data: bytes, mime: str, alt: str, caption: str = "") -> str:
    uri = f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"
    cap = f"<figcaption>{escape_html(caption)}</figcaption>" if caption else ""
    return f'<figure><img alt="{escape_html(alt)}" src="{uri}">{cap}</figure>'


_PNG_DPI = 110
# zlib level of the inlined PNGs: level 1 encodes a dashboard ~4x faster than the
# default 6, for a somewhat larger file (charts are flat colour areas)
_PNG_COMPRESS = 1
MAX_GROUPS_PLOTTED = 15

_FONT_ATTR = re.compile(r'font-family="[^"]*"')


def svg_with_font_stack(svg: bytes) -> bytes:
    """Graphviz SVG names one font; give the browser the whole CJK stack instead. Control
    and bidi characters from labels become visible escapes (raw, they make the SVG
    ill-formed XML)."""
    text = escape_text(svg.decode("utf-8"), keep="\n\r\t")
    text = _FONT_ATTR.sub(f'font-family="{SVG_FONT_STACK}"', text)
    return text.encode("utf-8")


def _figure_of(obj: Any) -> Any:
    """The matplotlib Figure behind a Figure, Axes or array of Axes (else None)."""
    from matplotlib.figure import Figure

    if isinstance(obj, Figure):
        return obj
    if hasattr(obj, "get_figure") and callable(obj.get_figure):
        fig = obj.get_figure()
        while fig is not None and not isinstance(fig, Figure) and hasattr(fig, "get_figure"):
            fig = fig.get_figure()  # subfigures
        return fig
    if (isinstance(obj, Sequence) and not isinstance(obj, str | bytes)) or hasattr(obj, "flat"):
        items = list(obj.flat) if hasattr(obj, "flat") else list(obj)
        for item in items:
            fig = _figure_of(item)
            if fig is not None:
                return fig
    return None


def picture(obj: Any, alt: str, caption: str = "") -> str:
    """Inline a plot result: a Graphviz ProcessMap as SVG, a matplotlib Figure/Axes as PNG."""
    if obj is None:
        return ""
    render = getattr(obj, "render", None)
    if callable(render) and getattr(obj, "source", None) is not None:
        return img_tag(svg_with_font_stack(render("svg")), "image/svg+xml", alt, caption)
    if callable(render) and getattr(obj, "engine", None) == "matplotlib":
        # a process map from the built-in layout: SVG too (glyphs as paths, sharp at any zoom)
        import matplotlib.pyplot as plt

        svg = render("svg")
        plt.close(obj.figure)
        return img_tag(svg, "image/svg+xml", alt, caption)
    fig = _figure_of(getattr(obj, "figure", None) if callable(render) else obj)
    if fig is None:
        return ""
    import matplotlib.pyplot as plt

    shown = _graphviz_map_of(fig)
    if shown is not None:  # a Graphviz map's raster copy (ProcessMap.to_figure): the map
        plt.close(fig)
        return picture(shown, alt, caption)
    png = _png(fig)  # PNG: glyphs baked in (no font needed), fast and small for big charts
    plt.close(fig)
    return img_tag(png, "image/png", alt, caption)


def _graphviz_map_of(fig: Any) -> Any:
    """The Graphviz ProcessMap a figure from ``ProcessMap.to_figure`` shows, while the figure
    holds nothing else (else None)."""
    shown = getattr(fig, "svcmining_map", None)
    if getattr(shown, "source", None) is None or len(fig.axes) != 1 or fig.texts:
        return None
    ax = fig.axes[0]
    if len(ax.images) != 1 or ax.lines or ax.patches or ax.texts or ax.collections:
        return None
    return shown


def _png(fig: Any) -> bytes:
    """The figure as PNG at ``_PNG_DPI``, drawn once where its layout is already done.

    ``savefig`` draws a figure twice when it has a layout engine (or a tight bounding
    box is asked for): once to lay it out, once to paint. A figure laid out by
    ``tight_layout`` or constrained layout (all of svcmining's own) is painted in one
    draw here; any other figure is saved with a tight bounding box, so that no label is
    cut off.
    """
    buf = io.BytesIO()
    if fig.get_layout_engine() is None:
        fig.savefig(
            buf,
            format="png",
            dpi=_PNG_DPI,
            bbox_inches="tight",
            pil_kwargs={"compress_level": _PNG_COMPRESS},
        )
        return buf.getvalue()
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from PIL import Image

    fig.set_dpi(_PNG_DPI)
    canvas = FigureCanvasAgg(fig)
    canvas.draw()  # a constrained layout is done inside this draw
    width, height = canvas.get_width_height(physical=True)
    Image.frombuffer("RGBA", (width, height), canvas.buffer_rgba(), "raw", "RGBA", 0, 1).save(
        buf, format="png", compress_level=_PNG_COMPRESS
    )
    return buf.getvalue()


def dot_svg(source: str) -> bytes | None:
    exe = shutil.which("dot")
    if exe is None:
        return None
    done = subprocess.run(  # noqa: S603 - fixed program, our DOT text on stdin
        [exe, "-Tsvg"], input=source.encode("utf-8"), capture_output=True, timeout=120, check=False
    )
    if done.returncode != 0:
        raise SvcMiningError(
            "Graphviz failed to draw the SOP: " + done.stderr.decode("utf-8", "replace")[:300]
        )
    return done.stdout


def frame_of(obj: Any) -> pd.DataFrame | None:
    if isinstance(obj, pd.DataFrame):
        return obj
    to_frame = getattr(obj, "to_frame", None)
    if callable(to_frame):
        out = to_frame()
        return out if isinstance(out, pd.DataFrame) else None
    return None


def fmt_num(v: Any, digits: int = 3) -> str:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return str(v)
    if pd.isna(f):
        return "n/a"
    return f"{f:.{digits}f}"


def fmt_pct(v: Any) -> str:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return str(v)
    return "n/a" if pd.isna(f) else f"{f * 100:.1f}%"
