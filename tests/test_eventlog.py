"""Helpers of svcmining.eventlog shared by the loader and the analyses."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from svcmining.eventlog import shared_event_keys, sort_order

_rows = st.lists(
    st.tuples(st.sampled_from("abc"), st.sampled_from("XYZ"), st.integers(0, 4)),
    max_size=40,
)


def _frame(rows: list[tuple[str, str, int]]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "case_id": pd.Series([r[0] for r in rows], dtype="str"),
            "activity": pd.Series([r[1] for r in rows], dtype="str"),
            "timestamp": pd.to_datetime([r[2] for r in rows], unit="h", utc=True),
        }
    )


def test_shared_event_keys_small_example():
    ev = _frame([("a", "X", 1), ("b", "X", 1), ("a", "Y", 1), ("a", "X", 1), ("a", "X", 2)])
    assert shared_event_keys(ev).tolist() == [True, False, False, True, False]


@settings(max_examples=200, deadline=None)
@given(_rows)
def test_shared_event_keys_equals_pandas_duplicated(rows):
    """Unsorted, sorted, and with the sort order given: the rows pandas calls duplicated."""
    ev = _frame(rows)
    expected = ev.duplicated(["case_id", "activity", "timestamp"], keep=False).to_numpy()
    assert np.array_equal(shared_event_keys(ev), expected)
    codes = pd.factorize(ev["case_id"], sort=True)[0]
    order = sort_order(ev, case_codes=codes)
    assert np.array_equal(shared_event_keys(ev, codes, order=order), expected)
    ordered = ev.take(order).reset_index(drop=True)
    expected_ordered = expected[order]
    assert np.array_equal(shared_event_keys(ordered), expected_ordered)


_labels = st.lists(
    st.one_of(st.none(), st.sampled_from(["受理", "派单", "b", "a", "", "Z", "结单"]))
)


@settings(max_examples=150, deadline=None)
@given(_labels, st.booleans())
def test_factorized_either_order_equals_pandas(values, sort_first):
    """A column factorised in one order, then the other (derived from the cache): pandas' codes."""
    from svcmining.eventlog import TicketLog, as_events, factorized

    n = len(values)
    frame = pd.DataFrame(
        {
            "case_id": pd.Series([f"c{i // 3}" for i in range(n)], dtype="str"),
            "activity": pd.Series(["x"] * n, dtype="str"),
            "timestamp": pd.to_datetime(range(n), unit="h", utc=True),
            "department": pd.Series(values, dtype="str"),
        }
    )
    events = as_events(TicketLog(events=frame))
    for sort in (sort_first, not sort_first):
        codes, uniques = factorized(events, "department", sort=sort)
        exp_codes, exp_uniques = pd.factorize(events["department"], sort=sort)
        assert codes.tolist() == exp_codes.tolist()
        assert uniques.tolist() == pd.Index(exp_uniques).tolist()
        assert uniques.dtype == pd.Index(exp_uniques).dtype


_case_ids = st.lists(st.sampled_from(["1", "10", "2", "a", "A", "工单7", "b "]), max_size=30)


@settings(max_examples=200, deadline=None)
@given(_case_ids, st.booleans())
def test_case_codes_equal_pandas_in_any_order(ids, presort):
    """A log's case codes and a frame's factorisation equal pandas' codes, sorted or not."""
    from svcmining.eventlog import TicketLog, case_index, factorized

    ids = sorted(ids) if presort else ids
    frame = pd.DataFrame(
        {
            "case_id": pd.Series(ids, dtype="str"),
            "activity": pd.Series(["x"] * len(ids), dtype="str"),
            "timestamp": pd.to_datetime(range(len(ids)), unit="h", utc=True),
        }
    )
    log = TicketLog(events=frame)  # validated and sorted by case when built
    assert frame["case_id"].tolist() == ids  # the frame given is not modified
    for sort in (True, False):
        codes, uniques = log.codes("case_id", sort=sort)
        exp_codes, exp_uniques = pd.factorize(log.events["case_id"], sort=sort)
        assert codes.tolist() == exp_codes.tolist()
        assert uniques.tolist() == pd.Index(exp_uniques).tolist()
        codes, uniques = factorized(frame, "case_id", sort=sort)
        exp_codes, exp_uniques = pd.factorize(frame["case_id"], sort=sort)
        assert codes.tolist() == exp_codes.tolist()
        assert uniques.dtype == pd.Index(exp_uniques).dtype
    codes, starts = case_index(log)
    ev_ids = log.events["case_id"].to_numpy()
    boundary = np.r_[True, ev_ids[1:] != ev_ids[:-1]] if len(ids) else np.zeros(0, bool)
    assert starts.tolist() == np.flatnonzero(boundary).tolist()
    assert codes.tolist() == (np.cumsum(boundary) - 1).tolist()


def test_read_tickets_case_codes_are_pandas_codes(sample_dir):
    """The case codes a loaded log carries (from its own sort) are pandas' codes of its ids."""
    import svcmining as svc

    log = svc.read_tickets(sorted(sample_dir.glob("*.csv")), timezone="Asia/Shanghai")
    ev = log.events
    for sort in (True, False):
        codes, uniques = log.codes("case_id", sort=sort)
        exp_codes, exp_uniques = pd.factorize(ev["case_id"], sort=sort)
        assert np.array_equal(codes, exp_codes)
        assert uniques.equals(pd.Index(exp_uniques))


def test_wrapping_a_frame_changes_nothing_for_later_calls():
    """TicketLog(events=df) sorts a copy; discover_dfg(df) gives the same edges before and after."""
    import svcmining as svc
    from svcmining.eventlog import TicketLog, as_events

    ts = pd.to_datetime(["2024-10-01 10:00", "2024-10-01 09:00"]).tz_localize("Asia/Shanghai")
    df = pd.DataFrame({"case_id": ["1", "1"], "activity": ["结单", "登记"], "timestamp": ts})
    before = svc.discover_dfg(df).edges[["source", "target"]].values.tolist()
    as_events(TicketLog(events=df))
    after = svc.discover_dfg(df).edges[["source", "target"]].values.tolist()
    assert before == after == [["登记", "结单"]]
    assert TicketLog(events=df).events["activity"].tolist() == ["登记", "结单"]
