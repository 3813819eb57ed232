"""Ping-pong returns: a group taking a ticket back to redo work it already did.

The shared ping-pong rule (used by :mod:`svcmining.rework` and :mod:`svcmining.handoffs`):

* Events whose group (``department`` by default) is missing are skipped.
* The remaining events of a case form **runs**: maximal stretches of consecutive
  events of one group. A new run starts at every handoff.
* A run of group ``G`` is a **return** when an earlier run of the same case also
  belongs to ``G``; the runs strictly between the previous ``G`` run and this one
  are the groups the ticket went ``via``.
* The return is a **ping-pong return** when

  - at most ``window`` runs lie in between (1 run: ``'direct'`` A→B→A;
    2 or more: ``'indirect'`` A→B→C→A), and
  - the returning event (the first event of the returning run) repeats work: ``G``
    had already executed this same activity earlier in the case. A plain return
    to a coordinating group for the *next* step (售后部 → 技术支持部 → 客服中心
    for 客户验收, when 客服中心 never did 客户验收 before) is not ping-pong.

Example (department in brackets)::

    登记[客服] 评估[售后] 核实[销售] 评估[售后] 排障[技术] 验收[客服]
    -> one row: 评估 #2, group 售后, kind 'direct', via '销售';
       验收[客服] is a return (via 售后;销售;售后;技术 = 4 runs) but repeats nothing.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ._validation import check_positive_int
from .eventlog import factorized
from .exceptions import SchemaError

__all__ = ["PING_PONG_COLUMNS", "ping_pong_returns", "returns_from_codes"]

PING_PONG_COLUMNS: tuple[str, ...] = (
    "case_id",
    "event_index",
    "group",
    "activity",
    "kind",
    "via",
    "n_between",
    "left_at",
    "returned_at",
)


def _done_before(
    case: np.ndarray, g: np.ndarray, a: np.ndarray, at: np.ndarray, lo: np.ndarray
) -> np.ndarray:
    """Whether the (group, activity) of each event ``at`` occurs earlier in its case.

    ``lo`` is the position of each event's case start. The events before each one are
    looked at step by step back to the case start (tickets are short, so a few
    vectorised steps settle almost all of them); events of the rare long tickets not
    settled after ``_MAX_LAG`` steps are settled by sorting the events of their cases.
    """
    n_a = int(a.max()) + 1
    key = g * n_a + a  # (group, activity) of each event
    # events before each one in its case, capped; sorted longest first (a radix sort of
    # small integers), so the ones with an event `step` back are a prefix
    back = _MAX_LAG + 1 - np.minimum(at - lo, _MAX_LAG + 1).astype(np.uint16)
    by_lag = np.argsort(back, kind="stable")
    at_s = at[by_lag]
    want = key[at_s]
    n_live = np.searchsorted(back[by_lag], np.arange(_MAX_LAG, 0, -1), side="right")
    done_s = np.zeros(len(at), dtype=bool)
    for step, m in enumerate(n_live, start=1):  # a loop over at most _MAX_LAG steps back
        if m == 0:
            break
        done_s[:m] |= key[at_s[:m] - step] == want[:m]
    done = np.zeros(len(at), dtype=bool)
    done[by_lag] = done_s
    idx = by_lag[: np.searchsorted(back[by_lag], 0, side="right")]  # more than _MAX_LAG back
    idx = idx[~done[idx]]
    if len(idx) == 0:
        return done
    # long tickets: sort the events of their cases by (case, group, activity)
    rest = at[idx]
    wanted = np.zeros(int(case.max()) + 1, dtype=bool)
    wanted[case[rest]] = True
    rows = np.flatnonzero(wanted[case])
    ckey = case[rows] * (int(key.max()) + 1) + key[rows]
    order = np.argsort(ckey, kind="stable")
    ks = ckey[order]
    repeat_sorted = np.zeros(len(rows), dtype=bool)
    repeat_sorted[1:] = ks[1:] == ks[:-1]
    repeat = np.zeros(len(case), dtype=bool)
    repeat[rows[order]] = repeat_sorted
    done[idx] = repeat[rest]
    return done


_MAX_LAG = 48


def _empty(events: pd.DataFrame) -> pd.DataFrame:
    tz = events["timestamp"].dt.tz
    dt = pd.DatetimeTZDtype(unit=events["timestamp"].dt.unit, tz=tz)
    return pd.DataFrame(
        {
            "case_id": pd.Series([], dtype="str"),
            "event_index": pd.Series([], dtype=np.int64),
            "group": pd.Series([], dtype="str"),
            "activity": pd.Series([], dtype="str"),
            "kind": pd.Series([], dtype="str"),
            "via": pd.Series([], dtype="str"),
            "n_between": pd.Series([], dtype=np.int64),
            "left_at": pd.Series([], dtype=dt),
            "returned_at": pd.Series([], dtype=dt),
        }
    )


def ping_pong_returns(
    events: pd.DataFrame, group: str = "department", *, window: int = 3
) -> pd.DataFrame:
    """One row per ping-pong return of a group to a ticket (see the module docstring).

    Parameters
    ----------
    events : pandas.DataFrame
        A canonical event frame, already sorted by case and time (as returned by
        :func:`svcmining.eventlog.as_events`).
    group : str
        The column whose values are the groups (``department``, ``resource``, ...).
    window : int
        The most runs of other groups allowed between the two runs of the group.

    Returns
    -------
    pandas.DataFrame
        Columns ``case_id``, ``event_index`` (positional row of the returning event in
        ``events``), ``group``, ``activity`` (of the returning event), ``kind``
        (``'direct'``/``'indirect'``), ``via`` (the groups in between, ``;``-joined, in
        order), ``n_between`` (how many runs in between), ``left_at`` (completion of the
        group's last event before it handed off) and ``returned_at`` (when the group
        picked the ticket up again: the returning event's ``start_timestamp`` where
        present, else its ``timestamp``). Rows in log order.

    Examples
    --------
    >>> import pandas as pd
    >>> ts = pd.date_range("2024-10-08 09:00", periods=4, freq="h", tz="Asia/Shanghai")
    >>> ev = pd.DataFrame({"case_id": ["1"] * 4, "activity": ["登记", "评估", "核实", "评估"],
    ...                    "timestamp": ts, "department": ["客服", "售后", "销售", "售后"]})
    >>> ping_pong_returns(ev)[["event_index", "group", "kind", "via"]].to_dict("records")
    [{'event_index': 3, 'group': '售后', 'kind': 'direct', 'via': '销售'}]
    """
    window = check_positive_int("ping_pong_returns", "window", window)
    for col in ("case_id", "activity", "timestamp", group):
        if col not in events.columns:
            raise SchemaError(
                f"ping_pong_returns needs a {col!r} column; found {list(events.columns)}."
            )
    pos = np.flatnonzero(events[group].notna().to_numpy())
    if len(pos) < 3:
        return _empty(events)
    sub = events.iloc[pos]
    case = factorized(events, "case_id")[0][pos]
    g_all, g_uniques = factorized(events, group)
    g = g_all[pos]
    a = factorized(events, "activity")[0][pos]
    ev_sub, left_sub, n_between, via_codes = returns_from_codes(case, g, a, window=window)
    if len(ev_sub) == 0:
        return _empty(events)
    g_names = pd.Index(g_uniques).astype("str")
    via = pd.Series(g_names.take(via_codes[:, 0]), dtype="str").to_numpy(dtype=object)
    for j in range(1, via_codes.shape[1]):  # a loop over <= window offsets
        more = via_codes[:, j] >= 0
        via[more] = via[more] + ";" + g_names.take(via_codes[more, j]).to_numpy(dtype=object)
    ts = events["timestamp"]
    returned = ts.iloc[pos[ev_sub]].reset_index(drop=True)
    if "start_timestamp" in events.columns:
        st = events["start_timestamp"].iloc[pos[ev_sub]].reset_index(drop=True)
        if isinstance(st.dtype, pd.DatetimeTZDtype):
            returned = st.dt.tz_convert(returned.dt.tz).where(st.notna(), returned)
    out = pd.DataFrame(
        {
            "case_id": sub["case_id"].iloc[ev_sub].astype("str").to_numpy(),
            "event_index": pos[ev_sub].astype(np.int64),
            "group": pd.Series(g_names.take(g[ev_sub]), dtype="str").to_numpy(),
            "activity": sub["activity"].iloc[ev_sub].astype("str").to_numpy(),
            "kind": np.where(n_between == 1, "direct", "indirect"),
            "via": via,
            "n_between": n_between.astype(np.int64),
        }
    )
    for col in ("case_id", "group", "activity", "kind", "via"):
        out[col] = out[col].astype("str")
    out["left_at"] = ts.iloc[pos[left_sub]].reset_index(drop=True)
    out["returned_at"] = returned
    return out


def returns_from_codes(
    case: np.ndarray, g: np.ndarray, a: np.ndarray, *, window: int = 3
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The ping-pong rule on integer codes of the events that have a group.

    ``case``, ``g`` and ``a`` are non-negative codes of the case, group and activity of
    each event, cases contiguous and in time order within each case. Returns the
    positions of the returning events, the positions of the group's last event before
    it handed off, the number of runs in between, and an ``(n, k)`` array of the group
    codes in between (``-1`` padded).
    """
    n = len(case)
    empty = np.zeros(0, dtype=np.int64)
    if n < 3:
        return empty, empty, empty, np.zeros((0, 1), dtype=np.int64)
    new_case = np.ones(n, dtype=bool)
    new_case[1:] = case[1:] != case[:-1]
    run_start = new_case.copy()
    run_start[1:] |= g[1:] != g[:-1]
    rs = np.flatnonzero(run_start)  # positions of run starts
    run_last = np.append(rs[1:], n) - 1
    run_case, run_g = case[rs], g[rs]
    # the previous run of the same group in the case, if at most `window` runs lie in
    # between: runs of a case are consecutive, neighbouring runs differ in group, so it
    # is the nearest of the runs 2 .. window + 1 back with the same case and group
    n_runs = len(rs)
    gap = np.zeros(n_runs, dtype=np.int64)  # 0: no return within the window
    for j in range(2, min(window + 1, n_runs - 1) + 1):  # a loop over <= window offsets
        hit = (run_g[j:] == run_g[:-j]) & (run_case[j:] == run_case[:-j]) & (gap[j:] == 0)
        gap[j:][hit] = j - 1
    cand = np.flatnonzero(gap)
    if len(cand) == 0:
        return empty, empty, empty, np.zeros((0, 1), dtype=np.int64)
    # did the group do the returning event's activity earlier in the case?
    case_start = np.flatnonzero(new_case)
    at = rs[cand]
    repeats = _done_before(case, g, a, at, case_start[np.searchsorted(case_start, at, "right") - 1])
    ret_runs = cand[repeats]
    if len(ret_runs) == 0:
        return empty, empty, empty, np.zeros((0, 1), dtype=np.int64)
    n_between = gap[ret_runs]
    back = ret_runs - n_between - 1
    width = int(n_between.max())
    via = np.full((len(ret_runs), width), -1, dtype=np.int64)
    for j in range(width):  # a loop over <= window offsets
        more = n_between > j
        via[more, j] = run_g[back[more] + 1 + j]
    return rs[ret_runs], run_last[back], n_between, via
