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
