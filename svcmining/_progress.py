"""Progress on stderr for long runs: only on a terminal, never in pipes (issue 21).

One rule for every bar (loading many exports, ``check --each``, report sections): shown
when asked (``enabled=True``) or, by default, when stderr is a terminal; drawn on the raw
stderr (under the CLI's escaping stream), and only after :data:`DELAY_SECONDS`, so short
runs print nothing at all.
"""

from __future__ import annotations

import sys
from typing import Any

from ._safetext import raw_stream

__all__ = ["DELAY_SECONDS", "progress_bar", "wants_progress"]

DELAY_SECONDS = 2.0


def wants_progress(enabled: bool | None) -> bool:
    """``enabled``, or (when None) whether stderr is a terminal."""
    if enabled is not None:
        return bool(enabled)
    isatty = getattr(sys.stderr, "isatty", None)
    return bool(isatty and isatty())


def progress_bar(total: int, *, desc: str, unit: str, enabled: bool | None = None) -> Any:
    """A tqdm bar over ``total`` items on stderr, or None when no bar is wanted."""
    if total <= 1 or not wants_progress(enabled):
        return None
    from tqdm import tqdm

    return tqdm(
        total=total,
        desc=desc,
        unit=unit,
        file=raw_stream(sys.stderr),
        delay=DELAY_SECONDS,
        leave=False,
        dynamic_ncols=True,
    )
