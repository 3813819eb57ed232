"""Merging exports for :mod:`svcmining.io`: copies across and inside exports, lifecycle
START/COMPLETE pairs, status repeats of state logs, and source-order findings.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ._loadreport import MAX_EXAMPLES, Drops
from ._synonyms import normalise_header
from .eventlog import (
    shared_event_keys,
    take_positions,
    time_i8,
)
from .exceptions import (
    SchemaError,
)
from .states import CLOSED, REOPEN, RESOLVED, WAITING, TicketStates, normalise_label

#: Working statuses of ticket systems, the evidence (besides the non-working states of
#: :class:`svcmining.TicketStates`) that an activity column holds states, not steps.
WORKING_STATUSES: tuple[str, ...] = (
    "New",
    "Open",
    "Opened",
    "Active",
    "In Progress",
    "Work in Progress",
    "Assigned",
    "Waiting for support",
    "To Do",
    "Triage",
    "待处理",
    "处理中",
    "已受理",
    "新建",
    "已分配",
    "进行中",
)
#: Headers of update counters: an export that has one writes a row per update (a state log).
UPDATE_COUNTER_HEADERS: tuple[str, ...] = (
    "sys_mod_count",
    "mod_count",
    "modcount",
    "update_count",
    "updates",
    "修改次数",
    "更新次数",
)
# XES lifecycle transitions (standard extension), casefolded
_XES_TRANSITIONS = frozenset(
    {
        "schedule",
        "assign",
        "reassign",
        "start",
        "suspend",
        "resume",
        "complete",
        "autoskip",
        "manualskip",
        "withdraw",
        "ate_abort",
        "pi_abort",
        "unknown",
    }
)


_LIFECYCLE_START = ("start", "started", "开始")
_LIFECYCLE_COMPLETE = ("complete", "completed", "end", "完成", "结束")


def dedupe_events(
    events: pd.DataFrame,
    case_codes: np.ndarray,
    file_names: list[str],
    drops: Drops,
    *,
    within_files: bool,
    order: np.ndarray | None = None,
    notes: list[str] | None = None,
    exempt: Sequence[int] = (),
) -> tuple[np.ndarray, pd.DataFrame]:
    """Find repeated copies of events; across exports the newest export's copy wins.

    Exact copies inside one file are removed only with ``within_files`` (the ticket
    system did record them twice). Across exports, a row of an older export is the same
    event as a row of a newer one (:func:`_match_exports`) and is dropped: as
    ``repeated_in_later_export`` when every value is equal, else as
    ``conflicting_duplicate`` with one row per changed value in the conflicts table.
    Returns the rows to keep (a boolean mask over ``events``) and the conflicts table.
    ``case_codes`` are integer codes of ``case_id``; ``order`` sorts the rows by case
    and time (:func:`sort_order`), when known. Rows of the files ``exempt`` (svcmining's
    own exports, already as the user wants them) are not deduplicated inside their file.
    """
    n = len(events)
    value_cols = [c for c in events.columns if c not in ("_file", "_line")]
    keep = np.ones(n, dtype=bool)
    conflicts = pd.DataFrame(
        columns=[
            "case_id",
            "activity",
            "timestamp",
            "column",
            "kept_value",
            "kept_file",
            "dropped_value",
            "dropped_file",
            "dropped_line",
        ]
    )
    # exact copies inside one file: only rows sharing (case, activity, time) can be
    # copies; found on integer keys, then all values compared on those few rows
    shared = shared_event_keys(events, case_codes, order=order)
    if within_files and shared.any():
        rows = _shared_in_file(events, case_codes, shared)
        if len(rows):
            within_c = take_positions(events, rows).duplicated(
                subset=[*value_cols, "_file"], keep="first"
            )
            rows = rows[within_c.to_numpy(dtype=bool)]
        if len(exempt):
            rows = rows[~np.isin(events["_file"].to_numpy()[rows], np.asarray(exempt))]
        if len(rows):
            dup = take_positions(events, rows)
            drops.add(
                "duplicate_event",
                [file_names[i] for i in dup["_file"].iloc[:MAX_EXAMPLES]],
                dup["_line"].tolist(),
                dup["case_id"].iloc[:MAX_EXAMPLES].tolist(),
            )
            keep[rows] = False
    older, newer = _match_exports(events, case_codes, keep, file_names, notes)
    if not len(older):
        return keep, conflicts
    old_ev, new_ev = take_positions(events, older), take_positions(events, newer)
    same = np.ones(len(older), dtype=bool)
    rows_out = []
    for col in value_cols:
        a, b = old_ev[col].reset_index(drop=True), new_ev[col].reset_index(drop=True)
        differ = ~((a == b) | (a.isna() & b.isna())).fillna(False).astype(bool).to_numpy()
        if not differ.any():
            continue
        same &= ~differ
        kept_at = new_ev.iloc[differ]
        dropped_at = old_ev.iloc[differ]
        rows_out.append(
            pd.DataFrame(
                {
                    "case_id": kept_at["case_id"].to_numpy(),
                    "activity": kept_at["activity"].to_numpy(),
                    "timestamp": kept_at["timestamp"].array,
                    "column": col,
                    "kept_value": kept_at[col].astype("str").where(kept_at[col].notna()).to_numpy(),
                    "kept_file": [file_names[i] for i in kept_at["_file"]],
                    "dropped_value": dropped_at[col]
                    .astype("str")
                    .where(dropped_at[col].notna())
                    .to_numpy(),
                    "dropped_file": [file_names[i] for i in dropped_at["_file"]],
                    "dropped_line": dropped_at["_line"].to_numpy(),
                }
            )
        )
    if rows_out:
        conflicts = pd.concat(rows_out, ignore_index=True)
        conflicts = conflicts.sort_values(
            ["case_id", "timestamp", "activity", "column"], kind="stable", ignore_index=True
        )
    for reason, mask in (("repeated_in_later_export", same), ("conflicting_duplicate", ~same)):
        dup = old_ev[mask]
        drops.add(
            reason,
            [file_names[i] for i in dup["_file"].iloc[:MAX_EXAMPLES]],
            dup["_line"].tolist(),
            dup["case_id"].iloc[:MAX_EXAMPLES].tolist(),
        )
    keep[older] = False
    return keep, conflicts


def _shared_in_file(events: pd.DataFrame, case_codes: np.ndarray, shared: np.ndarray) -> np.ndarray:
    """The ``shared`` rows (ascending) whose ticket, activity and time another row of the
    same file has too: the only rows that can be exact copies inside one file (overlapping
    exports share most keys across files, which need no row-by-row comparison here)."""
    rows = np.flatnonzero(shared)
    keys = [
        np.asarray(case_codes, dtype=np.int64)[rows],
        time_i8(events["timestamp"])[rows],
        events["_file"].to_numpy(dtype=np.int64)[rows],
        pd.factorize(take_positions(events[["activity"]], rows)["activity"])[0].astype(np.int64),
    ]
    order = np.lexsort(keys[::-1])
    same = np.ones(max(len(rows) - 1, 0), dtype=bool)
    for key in keys:
        ranked = key[order]
        same &= ranked[1:] == ranked[:-1]
    mark = np.zeros(len(rows), dtype=bool)
    mark[order[1:][same]] = True
    mark[order[:-1][same]] = True
    return rows[mark]


def _match_exports(
    events: pd.DataFrame,
    case_codes: np.ndarray,
    keep: np.ndarray,
    file_names: list[str] | None = None,
    notes: list[str] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Pairs (row of an older export, row of the newest export holding the same event).

    Exports are ordered by file (a folder's files sorted by name; a list as given).
    When an ``event_id`` column is mapped (the system's id of a history row), rows of
    one ticket with the same event id are one event, whatever their activity and time
    (:func:`_match_event_ids`); the rows without an id are matched by time. Otherwise
    the exports are taken from the newest to the oldest, each matched one-to-one
    against the events the newer ones hold. A row of an older export is the same event
    as a row of a newer one when both have the same ticket and activity and

    1. their times are equal at the coarser time precision of the two exports (an export
       whose times all fall on whole minutes has minute precision, on whole seconds
       second precision): ``09:00:37`` and ``09:00`` are one event; several occurrences
       within the same key are paired in time order (first with first); else
    2. the time was corrected: the older row lies inside the time span of the newer
       exports, which do not list it at that time, and the newer exports have an
       occurrence of that ticket's activity that nothing in the older export matched;
       the k-th such row of the older export is paired with the k-th of the newer ones,
       in time order.

    Only tickets that occur in more than one export are looked at.
    """
    empty = np.zeros(0, dtype=np.int64)
    files = events["_file"].to_numpy(dtype=np.int64)
    live = np.flatnonzero(keep)
    if not len(live) or files[live].min() == files[live].max():
        return empty, empty
    n_files = int(files.max()) + 1
    cc = np.asarray(case_codes, dtype=np.int64)
    n_cases = int(cc.max()) + 1
    if n_cases * n_files <= 8 * len(live):  # which exports hold each case: a small bitmap
        seen = np.zeros(n_cases * n_files, dtype=bool)
        seen[cc[live] * n_files + files[live]] = True
        per_case = seen.reshape(n_cases, n_files).sum(axis=1)
    else:
        pair = np.unique(cc[live] * n_files + files[live])
        per_case = np.bincount(pair // n_files, minlength=n_cases)
    rows = live[per_case[cc[live]] >= 2]
    by_id_old, by_id_new, by_id = empty, empty, False
    if "event_id" in events.columns and len(rows):
        by_id_old, by_id_new, rows, by_id = _match_event_ids(
            events, cc, files, rows, file_names, notes
        )
    if not len(rows):
        return by_id_old, by_id_new
    ts = time_i8(events["timestamp"])
    unit = getattr(events["timestamp"].dtype, "unit", "ns")
    second = {"s": 1, "ms": 1_000, "us": 1_000_000, "ns": 1_000_000_000}[unit]
    # each export's precision and time span (over all its rows)
    off_minute = np.bincount(files, weights=(ts % (60 * second) != 0), minlength=n_files) > 0
    off_second = np.bincount(files, weights=(ts % second != 0), minlength=n_files) > 0
    precision = np.where(off_second, 1, np.where(off_minute, second, 60 * second))
    span_lo = np.full(n_files, np.iinfo(np.int64).max)
    span_hi = np.full(n_files, np.iinfo(np.int64).min)
    np.minimum.at(span_lo, files, ts)
    np.maximum.at(span_hi, files, ts)
    act = pd.factorize(take_positions(events[["activity"]], rows)["activity"])[0].astype(np.int64)
    # sorted once by (ticket, activity, time, row): every part taken below keeps that order,
    # so the pairing needs no sort of its own
    by = np.lexsort((rows, ts[rows], act, cc[rows]))
    rows, act = rows[by], act[by]
    sub = pd.DataFrame({"pos": rows, "c": cc[rows], "a": act, "ts": ts[rows], "f": files[rows]})
    sub["p"] = precision[sub["f"].to_numpy()]
    older: list[np.ndarray] = []
    newer: list[np.ndarray] = []
    held = np.zeros(len(sub), dtype=bool)  # the newest copy of every event seen so far
    lo = hi = None
    for f in sorted(sub["f"].unique(), reverse=True):
        rows_f = sub[sub["f"] == f]
        if held.any():
            known = sub[held]
            free = np.ones(len(known), dtype=bool)
            pf = int(precision[f])
            for q in sorted(known["p"].unique()):
                step = max(pf, int(q))
                cand = known[(known["p"] == q) & free]
                if cand.empty or rows_f.empty:
                    continue
                i, j = _pair_in_order(
                    rows_f.assign(t=rows_f["ts"] // step),
                    cand.assign(t=cand["ts"] // step),
                    "t",
                    presorted=True,
                )
                older.append(i)
                newer.append(j)
                rows_f = rows_f[~rows_f["pos"].isin(i)]
                free &= ~known["pos"].isin(j).to_numpy()
            inside = rows_f[(rows_f["ts"] >= lo) & (rows_f["ts"] <= hi)]
            if len(inside) and free.any():
                i, j = _pair_in_order(inside, known[free], None, presorted=True)
                older.append(i)
                newer.append(j)
                rows_f = rows_f[~rows_f["pos"].isin(i)]
        held[rows_f.index.to_numpy()] = True
        f_lo, f_hi = int(span_lo[f]), int(span_hi[f])
        lo = f_lo if lo is None else min(lo, f_lo)
        hi = f_hi if hi is None else max(hi, f_hi)
    old_t, new_t = np.concatenate([empty, *older]), np.concatenate([empty, *newer])
    if by_id:
        # two rows with different ids are two events, whatever their times
        ids = events["event_id"].notna().to_numpy()
        differ = (
            ids[old_t]
            & ids[new_t]
            & (events["event_id"].to_numpy()[old_t] != events["event_id"].to_numpy()[new_t])
        )
        old_t, new_t = old_t[~differ], new_t[~differ]
    return np.concatenate([by_id_old, old_t]), np.concatenate([by_id_new, new_t])


def _match_event_ids(
    events: pd.DataFrame,
    cc: np.ndarray,
    files: np.ndarray,
    rows: np.ndarray,
    file_names: list[str] | None,
    notes: list[str] | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, bool]:
    """Pairs by (ticket, event id): every older copy with the newest export's copy.

    Returns the older rows, their newest copies, the rows left for matching by time
    (all but the older copies: a row without an id, from an export without the column,
    can still be matched by time to a newer row that has one). When one export holds
    two different rows of a ticket under the same id, the column is no event id: nothing
    is paired by it and a note says so; the last value says whether the ids are used.
    """
    empty = np.zeros(0, dtype=np.int64)
    ids = take_positions(events[["event_id"]], rows)["event_id"]
    has = ids.notna().to_numpy()
    sub = pd.DataFrame({"pos": rows[has], "c": cc[rows[has]], "f": files[rows[has]]}).assign(
        e=pd.factorize(ids[has])[0]
    )
    clash = sub.duplicated(["c", "e", "f"], keep=False).to_numpy()
    if clash.any():
        if notes is not None:
            at = take_positions(events, sub["pos"].to_numpy()[clash][:2])
            name = file_names[int(at["_file"].iloc[0])] if file_names else "one export"
            notes.append(
                f"{name}: ticket {at['case_id'].iloc[0]!r} has two different rows with event "
                f"id {at['event_id'].iloc[0]!r} (lines {', '.join(map(str, at['_line']))}), so "
                "the event_id column is not a row id; exports were merged by ticket, activity "
                "and time instead. Map another column as event_id, or none."
            )
        return empty, empty, rows, False
    newest = sub.groupby(["c", "e"], sort=False)["f"].transform("max").to_numpy()
    keeper = sub[sub["f"].to_numpy() == newest]
    pairs = sub[sub["f"].to_numpy() != newest].merge(keeper, on=["c", "e"], suffixes=("_o", "_n"))
    return (
        pairs["pos_o"].to_numpy(dtype=np.int64),
        pairs["pos_n"].to_numpy(dtype=np.int64),
        rows[~np.isin(rows, pairs["pos_o"].to_numpy())],
        True,
    )


_PACK_LIMIT = 1 << 62  # packed integer keys stay below this (int64, with room to spare)


def _pair_in_order(
    old: pd.DataFrame, new: pd.DataFrame, time_key: str | None, *, presorted: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """One-to-one pairs: k-th old row of a (ticket, activity[, time]) group with the k-th new.

    Each side is sorted by (ticket, activity, time, row) unless ``presorted`` says it is:
    ``time_key`` is a coarsening of ``ts``, so that order is also the order of the groups.
    The pairs come in the old rows' order of (group, k); they are found by one binary search
    of the old rows' packed (group, k) keys among the new rows' (a join on the four columns
    when they do not pack).
    """
    cols = [
        {k: part[k].to_numpy(dtype=np.int64) for k in ("c", "a", "ts", "pos")}
        for part in (old, new)
    ]
    # ticket and activity codes are below the number of rows: their pair packs into int64
    n_act = max(int(x["a"].max(initial=0)) for x in cols) + 1
    sides: list[dict[str, np.ndarray]] = []
    for part, x in zip((old, new), cols, strict=True):
        ca = x["c"] * n_act + x["a"]
        order = np.arange(len(ca)) if presorted else np.lexsort((x["pos"], x["ts"], ca))
        ca = ca[order]
        t = (
            part[time_key].to_numpy(dtype=np.int64)[order]
            if time_key is not None
            else np.zeros(len(order), dtype=np.int64)
        )
        starts = np.ones(len(order), dtype=bool)
        starts[1:] = (ca[1:] != ca[:-1]) | (t[1:] != t[:-1])
        first = np.maximum.accumulate(np.where(starts, np.arange(len(order)), 0))
        sides.append({"ca": ca, "t": t, "k": np.arange(len(order)) - first, "pos": x["pos"][order]})
    o, n = sides
    if not len(o["pos"]) or not len(n["pos"]):
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    t_lo = min(int(o["t"].min()), int(n["t"].min()))
    t_span = max(int(o["t"].max()), int(n["t"].max())) - t_lo + 1
    k_span = max(int(o["k"].max()), int(n["k"].max())) + 1
    ca_span = max(int(o["ca"].max()), int(n["ca"].max())) + 1
    if ca_span * t_span * k_span < _PACK_LIMIT:
        # (group, k) as one integer, ascending along each sorted side
        old_key, new_key = ((s["ca"] * t_span + (s["t"] - t_lo)) * k_span + s["k"] for s in sides)
        at = np.minimum(np.searchsorted(new_key, old_key), len(new_key) - 1)
        hit = new_key[at] == old_key
        return o["pos"][hit], n["pos"][at[hit]]
    joined = pd.DataFrame(o).merge(  # an inner join keeps the left (old) rows' order
        pd.DataFrame(n), on=["ca", "t", "k"], how="inner", suffixes=("_o", "_n")
    )
    return joined["pos_o"].to_numpy(dtype=np.int64), joined["pos_n"].to_numpy(dtype=np.int64)


def pair_lifecycle(
    events: pd.DataFrame, file_names: list[str], drops: Drops, notes: list[str]
) -> pd.DataFrame:
    """Merge START rows into their COMPLETE rows (k-th start with k-th complete, by activity)."""
    if "lifecycle" not in events.columns:
        raise SchemaError(
            "lifecycle='pair' needs a lifecycle column (e.g. XES lifecycle:transition); map it "
            "with mapping={'lifecycle': '<column>'}."
        )
    # an event without a transition is a complete one (the XES lifecycle default)
    life = events["lifecycle"].fillna("complete").str.strip().str.casefold()
    is_start = life.isin(_LIFECYCLE_START)
    is_complete = life.isin(_LIFECYCLE_COMPLETE)
    other = ~(is_start | is_complete)
    if other.any():
        sub = events[other]
        drops.add(
            "lifecycle_other",
            [file_names[i] for i in sub["_file"].iloc[:MAX_EXAMPLES]],
            sub["_line"].tolist(),
            sub["lifecycle"].iloc[:MAX_EXAMPLES].tolist(),
        )
    ev = events[~other].copy()
    ev["_is_start"] = is_start[~other].to_numpy()
    ev = ev.sort_values(["case_id", "activity", "timestamp", "_file", "_line"], kind="stable")
    # in time order per (ticket, activity), each COMPLETE closes the oldest open START; a
    # COMPLETE with no START open (e.g. before the first START) closes none: the k-th START
    # goes with the k-th *matched* COMPLETE (matched = c - running max of (c - s), clipped)
    key = [ev["case_id"], ev["activity"]]
    is_start = ev["_is_start"].to_numpy()
    n_start = pd.Series(is_start.astype(np.int64), index=ev.index).groupby(key).cumsum()
    n_comp = pd.Series((~is_start).astype(np.int64), index=ev.index).groupby(key).cumsum()
    matched = n_comp - (n_comp - n_start).groupby(key).cummax().clip(lower=0)
    closes = ~is_start & (matched > matched.groupby(key).shift(1, fill_value=0)).to_numpy()
    ev["_k"] = np.where(is_start, n_start - 1, np.where(closes, matched - 1, -1))
    starts = ev[ev["_is_start"]][["case_id", "activity", "_k", "timestamp"]].rename(
        columns={"timestamp": "_start"}
    )
    comp = ev[~ev["_is_start"]].reset_index()
    merged = comp.merge(
        starts.reset_index(), on=["case_id", "activity", "_k"], how="left", suffixes=("", "_s")
    )
    ok = merged["_start"].notna() & (merged["_start"] <= merged["timestamp"])
    start_idx = merged.loc[ok, "index_s"].astype(np.int64)
    comp_start = pd.Series(pd.NaT, index=comp["index"], dtype=events["timestamp"].dtype)
    comp_start[merged.loc[ok, "index"].to_numpy()] = merged.loc[ok, "_start"].to_numpy()
    result = events.loc[~other].copy()
    result["start_timestamp"] = pd.Series(
        pd.NaT, index=result.index, dtype=events["timestamp"].dtype
    )
    result.loc[comp_start.index, "start_timestamp"] = comp_start
    merged_rows = result.loc[start_idx.to_numpy()]
    drops.add(
        "lifecycle_start_merged",
        [file_names[i] for i in merged_rows["_file"].iloc[:MAX_EXAMPLES]],
        merged_rows["_line"].tolist(),
        merged_rows["activity"].iloc[:MAX_EXAMPLES].tolist(),
    )
    result = result.drop(index=start_idx.to_numpy())
    lone = result["lifecycle"].str.strip().str.casefold().isin(_LIFECYCLE_START)
    if lone.any():
        result.loc[lone, "start_timestamp"] = result.loc[lone, "timestamp"]
        notes.append(
            f"{int(lone.sum())} START row(s) had no matching COMPLETE; kept as events that "
            "started and have no recorded completion (timestamp = start time)."
        )
    n_unmatched = int((~ok).sum())
    if n_unmatched:
        notes.append(f"{n_unmatched} COMPLETE row(s) had no START; kept without a start time.")
    return result.drop(columns=["lifecycle"])


def pair_wanted(events: pd.DataFrame, lifecycle: str, notes: list[str]) -> bool:
    """Whether to pair START/COMPLETE rows: always, never, or (``"auto"``) when the
    lifecycle column holds XES transitions only, with both start and complete among them."""
    if lifecycle != "auto":
        return lifecycle == "pair"
    if "lifecycle" not in events.columns:
        return False
    uniques = pd.unique(events["lifecycle"].dropna())
    found = {str(v).strip().casefold() for v in uniques}
    standard = _XES_TRANSITIONS | set(_LIFECYCLE_START) | set(_LIFECYCLE_COMPLETE)
    if not found or not found <= standard:
        return False
    if not (found & set(_LIFECYCLE_START) and found & set(_LIFECYCLE_COMPLETE)):
        return False
    notes.append(
        "the lifecycle column holds start/complete transitions: the START and COMPLETE rows "
        "of each activity instance were paired into one event with start_timestamp (other "
        "transitions such as SCHEDULE dropped, counted); pass lifecycle='keep' to keep every row."
    )
    return True


_STATE_SHARE = 0.8  # share of events with state labels that makes an activity column a state


def detect_state_log(
    events: pd.DataFrame, state_log: bool | str, states: TicketStates, notes: list[str]
) -> bool:
    """Whether the activity column holds the ticket's state (see the module docstring)."""
    if state_log is False or not len(events):
        return False
    if state_log is True:
        notes.append("read as a state log (state_log=True).")
        return True
    counters = {normalise_header(h) for h in UPDATE_COUNTER_HEADERS}
    counter = next((c for c in events.columns if normalise_header(c) in counters), None)
    if counter is not None:
        notes.append(
            f"read as a state log (an audit export): it has the update counter {counter!r}, so "
            "a row is written per update of any field (pass state_log=False to keep every row)."
        )
        return True
    codes, uniques = pd.factorize(events["activity"])
    rows = np.bincount(codes[codes >= 0], minlength=len(uniques))
    kinds = states.codes_of(uniques)
    working_status = {normalise_label(x) for x in WORKING_STATUSES}
    is_work = np.fromiter(
        (normalise_label(u) in working_status for u in uniques), dtype=bool, count=len(uniques)
    )
    is_other = np.isin(kinds, (WAITING, RESOLVED, CLOSED, REOPEN))
    is_work &= ~is_other
    share = float(rows[is_work | is_other].sum()) / max(int(rows.sum()), 1)
    if share < _STATE_SHARE or not is_work.any() or not is_other.any():
        if share >= 0.5 and is_work.any() and is_other.any():
            notes.append(
                f"{share:.0%} of the events carry ticket-state labels, below the "
                f"{_STATE_SHARE:.0%} that makes an export a state log: read as one row per step; "
                "pass state_log=True if it is an audit export (one row per update)."
            )
        return False
    shown = [str(u) for u in np.asarray(uniques, dtype=object)[is_work | is_other][:4]]
    notes.append(
        f"read as a state log (an audit export): {share:.0%} of the events carry ticket-state "
        f"labels ({', '.join(map(repr, shown))} ...), so the activity column holds the ticket's "
        "state (pass state_log=False to read it as one row per step)."
    )
    return True


def collapse_state_repeats(
    events: pd.DataFrame,
    case_codes: np.ndarray,
    file_names: list[str],
    drops: Drops,
    notes: list[str],
) -> tuple[pd.DataFrame, np.ndarray]:
    """Merge each run of consecutive rows of a ticket in the same state into one event.

    ``events`` is sorted by case and time and ``case_codes`` are its case codes. A run
    ends where the state, its lifecycle status, the department (assignment group) or the
    resource (assignee) changes: a reassignment is a handoff and keeps its row. The event
    keeps the first row's time, ``start_timestamp`` and provenance and takes every other
    value from the last row of the run (the latest snapshot). Returns the merged events
    and which rows of ``events`` start a run (the rows kept).
    """
    n = len(events)
    act = pd.factorize(events["activity"])[0]
    repeat = np.zeros(n, dtype=bool)
    repeat[1:] = (case_codes[1:] == case_codes[:-1]) & (act[1:] == act[:-1])
    # the state's lifecycle status, and its owner: a row that reassigns the ticket (another
    # assignment group or assignee) is a handoff inside the stay, kept as its own event
    for col in ("lifecycle", "department", "resource"):
        if col in events.columns:
            own = pd.factorize(events[col])[0]
            repeat[1:] &= own[1:] == own[:-1]
    first = ~repeat
    if not repeat.any():
        return events, first
    first_pos = np.flatnonzero(first)
    last_pos = np.append(first_pos[1:], n) - 1
    merged = events.iloc[last_pos].set_axis(events.index[first_pos])
    for col in ("timestamp", "start_timestamp", "_file", "_line"):
        if col in events.columns:
            merged[col] = events[col].iloc[first_pos].array
    gone = events[repeat]
    drops.add(
        "status_repeat_merged",
        [file_names[i] for i in gone["_file"].iloc[:MAX_EXAMPLES]],
        gone["_line"].tolist(),
        gone["activity"].iloc[:MAX_EXAMPLES].tolist(),
    )
    notes.append(
        f"{int(repeat.sum()):,} status-repeat rows merged: consecutive rows of a ticket in the "
        "same state are one stay in it, kept as one event at the first row's time with the "
        "last row's values."
    )
    return merged, first


def source_order_findings(
    events: pd.DataFrame, order: np.ndarray, case_codes: np.ndarray, file_names: list[str]
) -> pd.DataFrame:
    """Events whose time order differs from their export order (``events`` in export order).

    ``order`` lists the kept rows sorted by case and time; ``case_codes`` are the sorted
    codes of ``case_id``.
    """
    columns = ["check", "severity", "events", "cases", "description", "examples"]
    if not len(order):
        return pd.DataFrame(columns=columns)
    codes = case_codes[order]
    ts = time_i8(events["timestamp"])
    starts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]])
    block = np.cumsum(np.r_[True, codes[1:] != codes[:-1]]) - 1
    first_src = np.minimum.reduceat(order, starts)  # each case's first row in the export
    before_first = ts[order] < ts[first_src][block]
    inverted = np.r_[False, (codes[1:] == codes[:-1]) & (order[1:] < order[:-1])]
    rows = []
    for check, mask, text in (
        (
            "out_of_source_order",
            inverted,
            "events the export lists before an earlier-dated event of the same ticket (the log is "
            "ordered by time; check the export's sort order or the clock)",
        ),
        (
            "before_case_start",
            before_first,
            "events dated before the ticket's first exported event (usually its registration): "
            "clock or data-entry errors",
        ),
    ):
        pos = order[mask]
        sub = take_positions(events, pos[:5])
        examples = [
            f"{file_names[f]} line {ln}: ticket {c}"
            for f, ln, c in zip(sub["_file"], sub["_line"], sub["case_id"], strict=True)
        ]
        rows.append(
            {
                "check": check,
                "severity": "warning",
                "events": int(mask.sum()),
                "cases": int(np.unique(codes[mask]).size),
                "description": text,
                "examples": examples,
            }
        )
    return pd.DataFrame(rows, columns=columns)
