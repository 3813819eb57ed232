"""Tests for the shared ping-pong rule (svcmining/_pingpong.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from svcmining._pingpong import PING_PONG_COLUMNS, ping_pong_returns
from svcmining.exceptions import InvalidParameterError, SchemaError

TZ = "Asia/Shanghai"
T0 = pd.Timestamp("2024-10-08 09:00", tz=TZ)


def make(rows: list[tuple], *, start: list | None = None) -> pd.DataFrame:
    """rows: (case_id, activity, department[, minutes after T0]); one hour apart by default."""
    out = []
    for i, r in enumerate(rows):
        minutes = r[3] if len(r) > 3 else 60 * i
        out.append(
            {
                "case_id": r[0],
                "activity": r[1],
                "timestamp": T0 + pd.Timedelta(minutes=minutes),
                "department": r[2],
            }
        )
    df = pd.DataFrame(out)
    df["department"] = df["department"].astype("str")
    if start is not None:
        df["start_timestamp"] = pd.Series(start, dtype=f"datetime64[us, {TZ}]")
    return df


def records(df: pd.DataFrame) -> list[tuple]:
    return list(zip(df["event_index"], df["group"], df["kind"], df["via"], strict=True))


def test_direct_return_for_the_same_work():
    """售后 → 销售 → 售后 redoing 评估 is one direct return, with via, times and position."""
    df = make(
        [("1", "登记", "客服"), ("1", "评估", "售后"), ("1", "核实", "销售"), ("1", "评估", "售后")]
    )
    out = ping_pong_returns(df)
    assert list(out.columns) == list(PING_PONG_COLUMNS)
    assert records(out) == [(3, "售后", "direct", "销售")]
    row = out.iloc[0]
    assert row["case_id"] == "1" and row["activity"] == "评估" and row["n_between"] == 1
    assert row["left_at"] == T0 + pd.Timedelta(hours=1)
    assert row["returned_at"] == T0 + pd.Timedelta(hours=3)


def test_indirect_return_and_window():
    """A→B→C→A is indirect (via 'B;C'); window=1 excludes it, window=2 keeps it."""
    df = make(
        [("1", "评估", "售后"), ("1", "排障", "技术"), ("1", "上门", "上门"), ("1", "评估", "售后")]
    )
    assert records(ping_pong_returns(df)) == [(3, "售后", "indirect", "技术;上门")]
    assert ping_pong_returns(df, window=1).empty
    assert len(ping_pong_returns(df, window=2)) == 1


def test_return_for_next_step_is_not_ping_pong():
    """客服 coming back for 验收 (never done before by 客服) repeats nothing."""
    df = make(
        [("1", "登记", "客服"), ("1", "评估", "售后"), ("1", "排障", "技术"), ("1", "验收", "客服")]
    )
    assert ping_pong_returns(df).empty


def test_same_activity_done_earlier_by_the_group_anywhere_counts():
    """The group's earlier execution may lie before its previous run (G:X H G:Z H G:X)."""
    df = make(
        [
            ("1", "X", "G"),
            ("1", "Y", "H"),
            ("1", "Z", "G"),
            ("1", "W", "H"),
            ("1", "X", "G"),
        ]
    )
    # run 3 (Z) does not repeat; run 4 (W by H) does not repeat; run 5 (X by G) repeats X
    assert records(ping_pong_returns(df)) == [(4, "G", "direct", "H")]


def test_only_the_first_event_of_the_returning_run_is_judged():
    """A→B→A where A's run starts with new work but repeats later is not a return."""
    df = make([("1", "X", "A"), ("1", "Y", "B"), ("1", "Z", "A"), ("1", "X", "A")])
    assert ping_pong_returns(df).empty


def test_missing_groups_are_skipped_and_positions_are_rows_of_events():
    """Events without a group are skipped; event_index still points into the full frame."""
    df = make(
        [
            ("1", "评估", "售后"),
            ("1", "note", None),
            ("1", "核实", "销售"),
            ("1", "note", None),
            ("1", "评估", "售后"),
        ]
    )
    df.loc[[1, 3], "department"] = None
    out = ping_pong_returns(df)
    assert records(out) == [(4, "售后", "direct", "销售")]
    assert out.iloc[0]["left_at"] == T0  # the group's own last event, not the note


def test_cases_do_not_leak_into_each_other():
    """A group that appears at the end of one case and the start of the next is no return."""
    df = make(
        [("1", "评估", "售后"), ("1", "核实", "销售"), ("2", "评估", "售后"), ("2", "x", "销售")]
    )
    assert ping_pong_returns(df).empty


def test_returned_at_uses_the_start_time_with_lifecycle_data():
    """returned_at is the returning event's start where one is recorded."""
    start = [pd.NaT, pd.NaT, T0 + pd.Timedelta(minutes=150)]
    df = make([("1", "评估", "售后"), ("1", "核实", "销售"), ("1", "评估", "售后")], start=start)
    out = ping_pong_returns(df)
    assert out.iloc[0]["returned_at"] == T0 + pd.Timedelta(minutes=150)


def test_other_group_columns():
    """Any column can be the group (here resource)."""
    df = make([("1", "评估", "售后"), ("1", "核实", "销售"), ("1", "评估", "售后")])
    df["resource"] = pd.Series(["李", "王", "李"], dtype="str")
    assert records(ping_pong_returns(df, "resource")) == [(2, "李", "direct", "王")]


def test_empty_result_keeps_columns_and_types():
    """No returns -> an empty frame with the documented columns and dtypes."""
    df = make([("1", "a", "A"), ("1", "b", "B")])
    out = ping_pong_returns(df)
    assert out.empty and list(out.columns) == list(PING_PONG_COLUMNS)
    assert isinstance(out["left_at"].dtype, pd.DatetimeTZDtype)
    assert out["event_index"].dtype == np.int64


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"window": 0}, InvalidParameterError, "'window' parameter of ping_pong_returns"),
        ({"window": 1.5}, InvalidParameterError, "integer >= 1"),
        ({"group": "team"}, SchemaError, "'team'"),
    ],
)
def test_bad_arguments(kwargs, error, match):
    """Bad window values and a missing group column raise clear errors."""
    df = make([("1", "a", "A"), ("1", "b", "B"), ("1", "a", "A")])
    with pytest.raises(error, match=match):
        ping_pong_returns(df, **kwargs)


# ---------------------------------------------------------------- reference (pure Python)


def reference(df: pd.DataFrame, window: int) -> list[tuple]:
    """Per case: walk the events, keep the run list, judge each run's first event."""
    out = []
    for _, case in df.groupby("case_id", sort=False):
        runs: list[str] = []
        done: set[tuple[str, str]] = set()
        last_pos: dict[str, int] = {}
        for i, act, grp in zip(case.index, case["activity"], case["department"], strict=True):
            if pd.isna(grp):
                continue
            if not runs or runs[-1] != grp:
                if grp in runs:
                    back = len(runs) - 1 - runs[::-1].index(grp)
                    between = runs[back + 1 :]
                    if 1 <= len(between) <= window and (grp, act) in done:
                        kind = "direct" if len(between) == 1 else "indirect"
                        out.append((int(i), grp, kind, ";".join(between), last_pos[grp]))
                runs.append(grp)
            done.add((grp, act))
            last_pos[grp] = int(i)
    return out


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["c1", "c2", "c3"]),
            st.sampled_from(["a", "b", "c"]),
            st.sampled_from(["A", "B", "C", "D", None]),
        ),
        min_size=1,
        max_size=40,
    ),
    st.integers(min_value=1, max_value=4),
)
def test_matches_a_straightforward_reference(rows, window):
    """The vectorised rule equals a per-case Python walk on random logs."""
    rows = sorted(rows, key=lambda r: r[0])  # cases contiguous, order within kept
    df = make([(c, a, g, i) for i, (c, a, g) in enumerate(rows)])
    df["department"] = pd.Series([r[2] for r in rows], dtype="str")
    out = ping_pong_returns(df, window=window)
    ours = [
        (int(e), g, k, v, int(df.index[df["timestamp"] == t][0]))
        for e, g, k, v, t in zip(
            out["event_index"], out["group"], out["kind"], out["via"], out["left_at"], strict=True
        )
    ]
    assert ours == reference(df, window)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["c1", "c2"]),
            st.sampled_from(["a", "b", "c"]),
            st.sampled_from(["A", "B", "C"]),
        ),
        min_size=3,
        max_size=40,
    ),
    st.integers(min_value=0, max_value=3),
)
def test_long_tickets_settled_by_sorting_match_the_reference(rows, max_lag):
    """Past the step-back limit, the sort of the long tickets' events gives the same rule."""
    from unittest import mock

    from svcmining import _pingpong

    rows = sorted(rows, key=lambda r: r[0])
    df = make([(c, a, g, i) for i, (c, a, g) in enumerate(rows)])
    with mock.patch.object(_pingpong, "_MAX_LAG", max_lag):
        out = ping_pong_returns(df, window=3)
    assert records(out) == [r[:4] for r in reference(df, 3)]


def test_work_done_long_before_in_a_long_ticket_counts():
    """A return repeating work done 60 events earlier is found (beyond the step-back limit)."""
    rows = [("1", "评估", "售后")] + [("1", f"记录{i}", "客服") for i in range(60)]
    rows += [("1", "核实", "销售"), ("1", "记录0", "客服"), ("1", "评估", "售后")]
    df = make([(c, a, g, i) for i, (c, a, g) in enumerate(rows)])
    out = ping_pong_returns(df, window=3)
    assert records(out) == [
        (62, "客服", "direct", "销售"),
        (63, "售后", "indirect", "客服;销售;客服"),
    ]
