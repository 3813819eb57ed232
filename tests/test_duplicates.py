"""Tests for svcmining.duplicates: the same customer problem registered twice."""

from __future__ import annotations

import pandas as pd
import pytest

from svcmining.duplicates import find_duplicate_tickets, merge_duplicates
from svcmining.eventlog import as_ticket_log
from svcmining.exceptions import InvalidParameterError

TZ = "Asia/Shanghai"

# (case, time, customer, channel, remark)
TICKETS = [
    ("t1", "2024-10-08 09:00", "C1", "电话", "空调不制冷 上门"),
    ("t2", "2024-10-08 09:30", "C1", "微信", "空调不制冷"),  # dup of t1 (30 min)
    ("t3", "2024-10-08 12:00", "C1", "在线", "发票开错"),  # 3 h later: not a dup
    ("t4", "2024-10-09 10:00", "C2", "电话", "屏幕碎了"),
    ("t5", "2024-10-09 10:20", "C2", "电话", "屏幕碎了"),  # same channel: not a dup
    ("t6", "2024-10-09 11:50", "C2", "在线", "屏幕碎了"),  # dup of t5 (90 min) / t4 (110)
    ("t7", "2024-10-10 09:00", None, "微信", "无客户"),
    ("t8", "2024-10-10 09:05", None, "电话", "无客户"),  # no customer: never paired
]


def tiny() -> pd.DataFrame:
    rows = []
    for cid, t, cust, ch, text in TICKETS:
        t0 = pd.Timestamp(t)
        rows.append((cid, "投诉登记", t0, cust, ch, text))
        rows.append((cid, "结单", t0 + pd.Timedelta(hours=1), cust, ch, ""))
    df = pd.DataFrame(
        rows, columns=["case_id", "activity", "timestamp", "customer_id", "channel", "备注"]
    )
    df["timestamp"] = df["timestamp"].dt.tz_localize(TZ)
    return df


def test_pairs_exact():
    """Different-channel tickets of one customer within 2 h pair up; the best original wins."""
    p = find_duplicate_tickets(tiny(), window="2h")
    got = {(a, b) for a, b in zip(p["case_id"], p["duplicate_id"], strict=True)}
    assert got == {("t1", "t2"), ("t5", "t6")}
    row = p.set_index("duplicate_id").loc["t2"]
    assert row["gap_minutes"] == 30.0
    assert (row["channel"], row["duplicate_channel"]) == ("电话", "微信")
    assert row["score"] == pytest.approx(1 - 0.5 * 30 / 120)
    assert p["score"].is_monotonic_decreasing


def test_all_candidates_and_same_channel_options():
    """one_per_ticket=False keeps every candidate; same-channel pairs on request."""
    p = find_duplicate_tickets(tiny(), one_per_ticket=False)
    assert {("t4", "t6"), ("t5", "t6")} <= set(zip(p["case_id"], p["duplicate_id"], strict=True))
    q = find_duplicate_tickets(tiny(), require_different_channels=False)
    assert ("t4", "t5") in set(zip(q["case_id"], q["duplicate_id"], strict=True))


def test_text_similarity_filters_and_scores():
    """With a text column, dissimilar texts are dropped and similar ones score higher."""
    p = find_duplicate_tickets(tiny(), window="4h", text_column="备注")
    got = set(zip(p["case_id"], p["duplicate_id"], strict=True))
    assert ("t1", "t2") in got and ("t2", "t3") not in got and ("t1", "t3") not in got
    row = p.set_index("duplicate_id").loc["t6"]
    assert row["text_similarity"] == 1.0


def test_merge_duplicates_all_and_original():
    """Merging moves the duplicate's events to the original (merged_from kept) or drops them."""
    df = tiny()
    before = df.copy()
    pairs = find_duplicate_tickets(df)
    merged = merge_duplicates(df, pairs)
    pd.testing.assert_frame_equal(df, before)
    assert merged["case_id"].nunique() == df["case_id"].nunique() - 2
    t1 = merged[merged["case_id"] == "t1"]
    assert list(t1["merged_from"].fillna("")) == ["", "t2", "", "t2"]
    assert t1["timestamp"].is_monotonic_increasing
    dropped = merge_duplicates(as_ticket_log(df), pairs, keep="original")
    assert set(dropped.events["case_id"]) == {"t1", "t3", "t4", "t5", "t7", "t8"}


def test_merge_follows_chains():
    """A chain a←b←c ends up in a."""
    df = tiny()
    pairs = pd.DataFrame({"case_id": ["t1", "t2"], "duplicate_id": ["t2", "t3"]})
    merged = merge_duplicates(df, pairs)
    assert set(merged.loc[merged["merged_from"].notna(), "case_id"]) == {"t1"}


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"window": "soon"}, "'window' parameter"),
        ({"window": "-1h"}, "positive"),
        ({"keys": ("phone",)}, "does not have"),
        ({"text_column": "subject"}, "does not have"),
        ({"min_similarity": 2}, "min_similarity"),
    ],
)
def test_bad_options(kwargs, match):
    """Invalid options raise InvalidParameterError."""
    with pytest.raises(InvalidParameterError, match=match):
        find_duplicate_tickets(tiny(), **kwargs)


def test_shuffle_invariant():
    """Row order does not change the pairs."""
    a = find_duplicate_tickets(tiny())
    b = find_duplicate_tickets(tiny().sample(frac=1, random_state=5))
    pd.testing.assert_frame_equal(a, b)


def test_sample_recall_precision(sample_dir):
    """On sample_logs, duplicates are found with >= 95% recall and precision vs ground truth."""
    truth = sample_dir / "truth" / "cases.csv"
    if not truth.exists():
        pytest.skip("sample_logs/truth not generated yet (svcmining.datasets)")
    import svcmining as svc

    cases = pd.read_csv(truth, dtype={"case_id": str, "duplicate_of": str})
    true = {
        (o, d)
        for d, o in zip(cases["case_id"], cases["duplicate_of"], strict=True)
        if isinstance(o, str) and o
    }
    log = svc.read_tickets(sample_dir, timezone="Asia/Shanghai", dedupe="all")
    p = find_duplicate_tickets(log, window="2h")
    found = set(zip(p["case_id"], p["duplicate_id"], strict=True))
    recall = len(found & true) / len(true)
    precision = len(found & true) / len(found)
    print(
        f"duplicates: {len(true)} true, {len(found)} found, recall {recall:.3f}, "
        f"precision {precision:.3f}"
    )
    assert recall >= 0.95 and precision >= 0.95
