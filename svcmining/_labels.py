"""Activity labels with a fixed meaning across the library (closing a ticket, reopening it)."""

from __future__ import annotations

import re
import unicodedata

import pandas as pd

__all__ = ["DEFAULT_CLOSE_ACTIVITIES", "is_close_activity", "normalise_label"]

# Labels that close a ticket, compared after normalise_label. "Resolved" is not closing:
# in most ticket systems a resolved ticket still waits for the customer's confirmation.
DEFAULT_CLOSE_ACTIVITIES: tuple[str, ...] = (
    "结单",
    "关闭",
    "已关闭",
    "关单",
    "结案",
    "工单关闭",
    "关闭工单",
    "closed",
    "close",
    "close ticket",
    "ticket closed",
    "case closed",
)

_PUNCT = re.compile(r"[\s\-_.,;:!?'\"()\[\]（）【】，。；：！？、]+")


def normalise_label(label: object) -> str:
    """Label compared loosely: NFKC (full-width to half-width), case-folded, no punctuation."""
    return _PUNCT.sub("", unicodedata.normalize("NFKC", str(label))).casefold()


def is_close_activity(
    activity: pd.Series, close_activities: tuple[str, ...] | list[str] | None
) -> pd.Series:
    """Boolean mask of events whose activity closes the ticket (vectorised over categories)."""
    labels = DEFAULT_CLOSE_ACTIVITIES if close_activities is None else tuple(close_activities)
    wanted = {normalise_label(x) for x in labels}
    codes, uniques = pd.factorize(activity)
    hit = [normalise_label(u) in wanted for u in uniques]
    import numpy as np

    mask = np.zeros(len(activity), dtype=bool)
    valid = codes >= 0
    mask[valid] = np.asarray(hit, dtype=bool)[codes[valid]]
    return pd.Series(mask, index=activity.index)
