"""Activity labels with a fixed meaning across the library (closing a ticket, reopening it)."""

from __future__ import annotations

import re
import unicodedata

import numpy as np
import pandas as pd

__all__ = [
    "DEFAULT_CLOSE_ACTIVITIES",
    "DEFAULT_REOPEN_ACTIVITIES",
    "codes_mask",
    "is_close_activity",
    "label_mask",
    "normalise_label",
]

#: Labels that close a ticket, matched case-insensitively after stripping spaces.
#: "Resolved"/"已解决" are deliberately *not* included: in most ticket systems a ticket
#: is resolved and then closed (Resolved → Closed), and counting both as closes would
#: turn every normal Closed into a reopen. Pass them in ``close_activities`` when your
#: system has no separate close step.
DEFAULT_CLOSE_ACTIVITIES: tuple[str, ...] = (
    "结单",
    "结案",
    "关单",
    "关闭",
    "已关闭",
    "工单关闭",
    "关闭工单",
    "办结",
    "Closed",
    "Close",
    "Close ticket",
    "Ticket closed",
    "Case closed",
    "Closure",
)
#: Labels that explicitly reopen a ticket (make the work after the last close a reopen).
DEFAULT_REOPEN_ACTIVITIES: tuple[str, ...] = (
    "重新打开",
    "重开",
    "再次打开",
    "工单重开",
    "重启工单",
    "Reopen",
    "Reopened",
    "Re-open",
    "Re-opened",
    "Reopen ticket",
)

_PUNCT = re.compile(r"[\s\-_.,;:!?'\"()\[\]（）【】，。；：！？、]+")


def normalise_label(label: object) -> str:
    """Label compared loosely: NFKC (full-width to half-width), case-folded, no punctuation."""
    return _PUNCT.sub("", unicodedata.normalize("NFKC", str(label))).casefold()


def label_mask(values: pd.Series, labels: tuple[str, ...] | list[str]) -> pd.Series:
    """Which values are one of ``labels`` (compared with :func:`normalise_label`).

    A joined label such as ``"Completed+Closed"`` (name + status) matches on its last part.
    Vectorised: each distinct value is compared once.
    """
    wanted = {normalise_label(x) for x in labels}
    codes, uniques = pd.factorize(values)
    hit = [
        normalise_label(u) in wanted or normalise_label(str(u).rsplit("+", 1)[-1]) in wanted
        for u in uniques
    ]
    mask = np.zeros(len(values), dtype=bool)
    valid = codes >= 0
    mask[valid] = np.asarray(hit, dtype=bool)[codes[valid]]
    return pd.Series(mask, index=values.index)


def codes_mask(
    codes: np.ndarray, uniques: object, labels: tuple[str, ...] | list[str]
) -> np.ndarray:
    """:func:`label_mask` of values given as integer codes into ``uniques`` (-1: missing).

    Each distinct label is judged once; the rows take their label's verdict.
    """
    hit = label_mask(pd.Series(uniques, dtype=object), labels).to_numpy()
    if not hit.any():
        return np.zeros(len(codes), dtype=bool)
    return np.append(hit, False)[codes]  # code -1 takes the trailing False


def is_close_activity(
    activity: pd.Series, close_activities: tuple[str, ...] | list[str] | None
) -> pd.Series:
    """Boolean mask of events whose activity closes the ticket."""
    labels = DEFAULT_CLOSE_ACTIVITIES if close_activities is None else tuple(close_activities)
    return label_mask(activity, labels)
