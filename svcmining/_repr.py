"""Bounded text and HTML views of result tables, shared by every result's reprs.

A result's ``__repr__`` is one or two lines (kind, sizes, headline figures); its
``_repr_html_`` shows a few rows of each table and says how many more there are, so a
notebook never embeds a whole 100,000-row table.

>>> import pandas as pd
>>> print(html_table(pd.DataFrame({"a": range(12)}), "A", max_rows=2).count("<tr"))
3
>>> counts(pd.Series(["x", "y", "x"]))
'x 2, y 1'
"""

from __future__ import annotations

import html
from collections.abc import Callable

import pandas as pd

MAX_ROWS = 10  # rows per table in a notebook view
MAX_COLUMNS = 12  # columns per table in a notebook view


def _float(x: float) -> str:
    return f"{x:,.3g}" if abs(x) < 1000 else f"{x:,.0f}"


def html_table(
    df: pd.DataFrame,
    title: str | None = None,
    *,
    max_rows: int = MAX_ROWS,
    max_columns: int = MAX_COLUMNS,
    index: bool = False,
    float_format: Callable[[float], str] = _float,
) -> str:
    """The first ``max_rows`` rows (and ``max_columns`` columns) as HTML, plus "… N more"."""
    shown = df.head(max_rows)
    extra_cols = max(df.shape[1] - max_columns, 0)
    if extra_cols:
        shown = shown.iloc[:, :max_columns]
    head = f"<h4>{html.escape(title)}</h4>" if title else ""
    body = shown.to_html(index=index, escape=True, float_format=float_format)
    notes = []
    if len(df) > max_rows:
        notes.append(f"… {len(df) - max_rows:,} more rows")
    if extra_cols:
        notes.append(f"… {extra_cols:,} more columns")
    more = f"<p>{html.escape('; '.join(notes))} (see the full table as a DataFrame)</p>"
    return head + body + (more if notes else "")


def counts(values: pd.Series, *, limit: int = 4) -> str:
    """``"a 3, b 2, … (N more)"``: the most frequent values with their counts."""
    vc = values.value_counts()
    text = ", ".join(f"{k} {int(v):,}" for k, v in vc.head(limit).items())
    if len(vc) > limit:
        text += f", … ({len(vc) - limit} more)"
    return text


def pct(x: float) -> str:
    """A share as ``"12.3%"``; ``"n/a"`` for NaN."""
    return "n/a" if pd.isna(x) else f"{x:.1%}"


def names(items: list[str], *, limit: int = 5) -> str:
    """``"a, b, c, … (N more)"``."""
    text = ", ".join(items[:limit])
    if len(items) > limit:
        text += f", … ({len(items) - limit} more)"
    return text
