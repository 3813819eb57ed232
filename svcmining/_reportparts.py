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


def _fmt_cell(v: Any) -> Any:
    if isinstance(v, float):
        if pd.isna(v):
            return ""
        if abs(v) >= 1000:
            return f"{v:,.0f}"
        return f"{v:,.3f}".rstrip("0").rstrip(".") if v != int(v) else f"{int(v):,}"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, int):
        return f"{v:,}"
    if isinstance(v, pd.Timestamp):
        return "" if pd.isna(v) else v.strftime("%Y-%m-%d %H:%M")
    if isinstance(v, tuple | list):
        return " → ".join(map(str, v))
    if v is None or (not isinstance(v, str) and pd.api.types.is_scalar(v) and pd.isna(v)):
        return ""
    return v


def table_html(df: pd.DataFrame, *, max_rows: int = 15, caption: str = "") -> str:
    """A DataFrame as an escaped HTML table (numbers formatted, right-aligned)."""
    if df is None or len(df) == 0:
        return '<p class="note">(none)</p>'
    shown = df.head(max_rows)
    num_cols = {c for c in shown.columns if pd.api.types.is_numeric_dtype(shown[c])}
    head = "".join(
        f'<th class="{"num" if c in num_cols else ""}">{escape_html(str(c))}</th>'
        for c in shown.columns
    )
    rows = []
    cols = list(shown.columns)
    for rec in shown.itertuples(index=False, name=None):
        cells = []
        for c, v in zip(cols, rec, strict=True):
            text = str(_fmt_cell(v))
            if c in num_cols:
                cls = ' class="num"'
            elif len(text) > 60:
                cls = ' class="long"'  # evidence, sequences: give them room, not tall rows
            elif len(text) <= 14:
                cls = ' class="nw"'
            else:
                cls = ""
            cells.append(f"<td{cls}>{escape_html(text)}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    cap = f"<caption>{escape_html(caption)}</caption>" if caption else ""
    more = (
        f'<p class="note">… {len(df) - max_rows:,} more rows not shown</p>'
        if len(df) > max_rows
        else ""
    )
    return (
        f'<div class="tbl"><table>{cap}<thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div>{more}"
    )


def kpi_tiles(items: Sequence[tuple[str, str]]) -> str:
    tiles = "".join(
        f'<div class="kpi"><b>{escape_html(v)}</b><span>{escape_html(k)}</span></div>'
        for k, v in items
    )
    return f'<div class="kpis">{tiles}</div>'


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
