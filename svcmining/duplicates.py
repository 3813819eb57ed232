"""Duplicate tickets: one customer problem registered twice through different channels.

When phone, online form and WeChat are not connected, a customer who calls and also
writes gets two tickets for one problem. :func:`find_duplicate_tickets` pairs them and
:func:`merge_duplicates` folds each pair into one ticket.

Rule
----
Two tickets are a candidate pair when they share every ``keys`` value (the customer by
default), were opened (first event) at most ``window`` apart, and came in through
different channels (``channel`` of their first event; not compared when either is
missing or the log has no channel column; same-channel pairs too with
``require_different_channels=False``). The later ticket is the duplicate, the earlier
one the original. A later ticket with several candidates keeps only its best-scoring
one (``one_per_ticket``).

Confidence score
----------------
``time_score = 1 - 0.5 * gap / window`` (1 for tickets opened the same minute, 0.5 at the
window's edge). With a ``text_column`` (e.g. the remark or subject), the texts of the
two tickets' first events are compared by the Jaccard similarity of their character
bigrams; pairs under ``min_similarity`` are dropped and ``score = time_score * (0.5 +
0.5 * text_similarity)``; otherwise ``score = time_score``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal, TypeVar

import numpy as np
import pandas as pd

from ._validation import check_choice
from .calendars import parse_duration
from .eventlog import TicketLog, as_events, sort_events
from .exceptions import InvalidParameterError

__all__ = ["find_duplicate_tickets", "merge_duplicates"]

_L = TypeVar("_L", TicketLog, pd.DataFrame)

PAIR_COLUMNS = [
    "case_id",
    "duplicate_id",
    "opened_at",
    "duplicate_opened_at",
    "gap_minutes",
    "channel",
    "duplicate_channel",
    "text_similarity",
    "score",
]


def _window_hours(window: Any) -> float:
    try:
        if isinstance(window, pd.Timedelta):
            td = window
        else:
            try:
                td = parse_duration(window)
            except ImportError:
                td = pd.Timedelta(window)
    except (ValueError, TypeError) as exc:
        raise InvalidParameterError(
            "The 'window' parameter of find_duplicate_tickets must be a duration such as "
            f"'2h' or '30min'. Got {window!r} instead."
        ) from exc
    hours = float(td / pd.Timedelta(hours=1))
    if not hours > 0:
        raise InvalidParameterError(
            f"The 'window' parameter of find_duplicate_tickets must be positive. Got {window!r}."
        )
    return hours


def _bigrams(text: str) -> set[str]:
    t = "".join(str(text).split()).casefold()
    return {t[i : i + 2] for i in range(len(t) - 1)} if len(t) > 1 else ({t} if t else set())


def _jaccard(a: object, b: object) -> float:
    if (
        a is None
        or b is None
        or (isinstance(a, float) and np.isnan(a))
        or (isinstance(b, float) and np.isnan(b))
    ):
        return float("nan")
    sa, sb = _bigrams(str(a)), _bigrams(str(b))
    if not sa and not sb:
        return float("nan")
    return len(sa & sb) / len(sa | sb)


def find_duplicate_tickets(
    log: TicketLog | pd.DataFrame,
    *,
    window: str | pd.Timedelta = "2h",
    keys: Sequence[str] = ("customer_id",),
    text_column: str | None = None,
    min_similarity: float = 0.2,
    require_different_channels: bool = True,
    one_per_ticket: bool = True,
) -> pd.DataFrame:
    """Pairs of tickets that look like one customer problem registered twice.

    See the module docstring for the rule and the score.

    Parameters
    ----------
    log : TicketLog or pandas.DataFrame
        The event log.
    window : str or Timedelta
        Longest time between the two tickets' first events (default ``"2h"``).
    keys : sequence of str
        Columns that must be equal (first value of each ticket); default the customer.
    text_column : str, optional
        A text column (subject, remark) whose similarity must be at least
        ``min_similarity`` and raises the score.
    min_similarity : float
        Smallest text similarity kept (with ``text_column``).
    require_different_channels : bool
        Pair only tickets from different channels (default True).
    one_per_ticket : bool
        Keep only the best original for each duplicate (default True).

    Returns
    -------
    pandas.DataFrame
        One row per pair: ``case_id`` (the original), ``duplicate_id``, the key columns,
        ``opened_at``, ``duplicate_opened_at``, ``gap_minutes``, ``channel``,
        ``duplicate_channel``, ``text_similarity`` (NaN without text), ``score``; highest
        score first.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.to_datetime(["2024-10-08 09:00", "2024-10-08 09:40", "2024-10-09 09:00"]
    ...                    ).tz_localize("Asia/Shanghai")
    >>> ev = pd.DataFrame({"case_id": ["a", "b", "c"], "activity": ["投诉登记"] * 3,
    ...                    "timestamp": t, "customer_id": ["C1", "C1", "C1"],
    ...                    "channel": ["电话", "微信", "在线"]})
    >>> find_duplicate_tickets(ev)[["case_id", "duplicate_id", "gap_minutes"]].values.tolist()
    [['a', 'b', 40.0]]
    """
    keys = [keys] if isinstance(keys, str) else list(keys)
    events = as_events(log)
    if not keys:
        raise InvalidParameterError(
            "The 'keys' parameter of find_duplicate_tickets must name a column."
        )
    missing = [k for k in keys if k not in events.columns]
    if text_column is not None and text_column not in events.columns:
        missing.append(text_column)
    if missing:
        raise InvalidParameterError(
            f"find_duplicate_tickets needs the columns {missing}, which the log does not have. "
            f"Columns: {list(events.columns)}."
        )
    if (
        isinstance(min_similarity, bool)
        or not isinstance(min_similarity, int | float)
        or not (0 <= min_similarity <= 1)
    ):
        raise InvalidParameterError(
            "The 'min_similarity' parameter of find_duplicate_tickets must be in [0, 1]. "
            f"Got {min_similarity!r} instead."
        )
    win_h = _window_hours(window)
    cols = list(dict.fromkeys([*keys, "channel", text_column]))
    cols = [c for c in cols if c is not None and c in events.columns]
    g = events.groupby("case_id", sort=True)
    tickets = g[cols].first() if cols else pd.DataFrame(index=g.size().index)
    tickets["opened_at"] = g["timestamp"].min()
    tickets = tickets.reset_index()
    tickets["case_id"] = tickets["case_id"].astype("str")
    tickets = tickets.dropna(subset=keys)
    tickets = tickets.sort_values([*keys, "opened_at", "case_id"], kind="stable").reset_index(
        drop=True
    )
    has_channel = "channel" in tickets.columns
    n = len(tickets)
    key_codes = tickets.groupby(keys, sort=False).ngroup().to_numpy()
    t_utc = tickets["opened_at"].dt.tz_convert("UTC").dt.tz_localize(None)
    t_ns = t_utc.to_numpy().astype("datetime64[ns]").astype("int64")
    win_ns = int(win_h * 3600e9)
    first_idx: list[np.ndarray] = []
    second_idx: list[np.ndarray] = []
    lag = 1
    while lag < n:  # loop over lags (few), each step vectorised over all tickets
        i = np.arange(lag, n)
        j = i - lag
        same = key_codes[i] == key_codes[j]
        near = same & (t_ns[i] - t_ns[j] <= win_ns)
        if not near.any():
            break
        first_idx.append(j[near])
        second_idx.append(i[near])
        lag += 1
    fi = np.concatenate(first_idx) if first_idx else np.array([], dtype="int64")
    si = np.concatenate(second_idx) if second_idx else np.array([], dtype="int64")
    a = tickets.iloc[fi].reset_index(drop=True)
    b = tickets.iloc[si].reset_index(drop=True)
    pairs = pd.DataFrame({"case_id": a["case_id"], "duplicate_id": b["case_id"]})
    for k in keys:
        pairs[k] = a[k]
    pairs["opened_at"] = a["opened_at"]
    pairs["duplicate_opened_at"] = b["opened_at"]
    pairs["gap_minutes"] = (b["opened_at"] - a["opened_at"]) / pd.Timedelta(minutes=1)
    if has_channel:
        pairs["channel"] = a["channel"]
        pairs["duplicate_channel"] = b["channel"]
    else:
        pairs["channel"] = pd.Series(pd.NA, index=pairs.index, dtype="str")
        pairs["duplicate_channel"] = pd.Series(pd.NA, index=pairs.index, dtype="str")
    if require_different_channels and has_channel:
        differ = (
            pairs["channel"].ne(pairs["duplicate_channel"])
            | pairs["channel"].isna()
            | (pairs["duplicate_channel"].isna())
        )
        pairs = pairs[differ.to_numpy()]
        a = a[differ.to_numpy()]
        b = b[differ.to_numpy()]
    time_score = 1 - 0.5 * pairs["gap_minutes"] / (win_h * 60)
    if text_column is not None:
        sim = pd.Series(
            [_jaccard(x, y) for x, y in zip(a[text_column], b[text_column], strict=True)],
            index=pairs.index,
            dtype="float64",
        )
        pairs["text_similarity"] = sim
        keep = sim.isna() | (sim >= min_similarity)
        pairs["score"] = time_score * (0.5 + 0.5 * sim.fillna(0.0))
        pairs = pairs[keep]
    else:
        pairs["text_similarity"] = np.nan
        pairs["score"] = time_score
    pairs = pairs.sort_values(
        ["score", "case_id", "duplicate_id"], ascending=[False, True, True], kind="stable"
    )
    if one_per_ticket:
        pairs = pairs.drop_duplicates("duplicate_id", keep="first")
    ordered = ["case_id", "duplicate_id", *[k for k in keys if k not in ("case_id",)]]
    ordered += [c for c in PAIR_COLUMNS if c not in ordered]
    return pairs[ordered].reset_index(drop=True)


def merge_duplicates(
    log: _L,
    pairs: pd.DataFrame,
    *,
    keep: Literal["all", "original"] = "all",
) -> _L:
    """Fold each duplicate ticket into its original: one case per customer problem.

    Parameters
    ----------
    log : TicketLog or pandas.DataFrame
        The event log (the same type is returned).
    pairs : pandas.DataFrame
        With ``case_id`` (original) and ``duplicate_id`` columns, e.g. from
        :func:`find_duplicate_tickets`. Chains (a←b←c) end up in the first ticket.
    keep : {'all', 'original'}
        ``all``: the duplicate's events move to the original ticket (a column
        ``merged_from`` keeps their former id); ``original``: the duplicate's events are
        dropped.

    Returns
    -------
    TicketLog or pandas.DataFrame
        A new log, sorted; the input is not modified.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.to_datetime(["2024-10-08 09:00", "2024-10-08 09:40"]).tz_localize("Asia/Shanghai")
    >>> ev = pd.DataFrame({"case_id": ["a", "b"], "activity": ["投诉登记"] * 2, "timestamp": t})
    >>> merge_duplicates(ev, pd.DataFrame({"case_id": ["a"], "duplicate_id": ["b"]}))[
    ...     "case_id"].tolist()
    ['a', 'a']
    """
    check_choice("merge_duplicates", "keep", keep, ("all", "original"))
    if not isinstance(pairs, pd.DataFrame) or not {"case_id", "duplicate_id"} <= set(pairs.columns):
        raise InvalidParameterError(
            "The 'pairs' parameter of merge_duplicates must be a DataFrame with 'case_id' and "
            "'duplicate_id' columns (from find_duplicate_tickets)."
        )
    events = as_events(log)
    orig = pairs["case_id"].astype("str").to_numpy()
    dup = pairs["duplicate_id"].astype("str").to_numpy()
    mapping = pd.Series(orig, index=dup)
    mapping = mapping[~mapping.index.duplicated(keep="first")]
    mapping = mapping[mapping.index != mapping.to_numpy()]
    # follow chains to their root (bounded by the number of pairs; a cycle stops there)
    for _ in range(len(mapping)):
        nxt = mapping.map(mapping)
        upd = nxt.notna() & (nxt != mapping.index.to_numpy())
        if not upd.any():
            break
        mapping = mapping.where(~upd, nxt)
    cid = events["case_id"]
    is_dup = cid.isin(mapping.index)
    if keep == "original":
        out = events[~is_dup].copy()
    else:
        out = events.copy()
        out["merged_from"] = cid.where(is_dup)
        out["case_id"] = cid.map(mapping).where(is_dup, cid).astype(cid.dtype)
        out = sort_events(out)
    if isinstance(log, TicketLog):
        return log.with_events(out.reset_index(drop=True))
    return out.reset_index(drop=True)
