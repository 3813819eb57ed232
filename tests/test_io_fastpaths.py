"""The loader's fast paths give what the plain code gave: text cleaning on distinct values,
regex prefilters, format pruning, export pairing, row takes; and the benchmark's reference."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from svcmining import _merge as merge_module
from svcmining import eventlog
from svcmining import io as sio
from svcmining._mapping import _clean_arrow, _clean_text
from svcmining._merge import _pair_in_order
from svcmining._readers_csv import _valid_utf8
from svcmining._timeparse import (
    _NUMBER_RE,
    _OFFSET_RE,
    FORMATS,
    _best_format,
    _matches,
    _may_be_number,
    _may_have_offset,
)
from svcmining.eventlog import _case_time_key

NA = frozenset(sio.DEFAULT_NA_VALUES)


def test_clean_arrow_cleans_each_chunk_on_its_distinct_values() -> None:
    """Stripping and na_values work per chunk; a chunk with nothing to clean is kept."""
    arr = pa.chunked_array([["a", " b ", "NULL", " b "], ["c", "c", None]])
    cleaned = _clean_arrow(arr, NA)
    assert cleaned.to_pylist() == ["a", "b", None, "b", "c", "c", None]
    assert cleaned.num_chunks == 2


def test_clean_arrow_says_when_nothing_changes() -> None:
    """A clean column is reported unchanged (None), so it is not copied."""
    assert _clean_arrow(pa.chunked_array([["a", "b"], ["a", None]]), NA) is None


def test_clean_text_keeps_a_clean_column_as_it_is() -> None:
    """A column without blanks, padding or na_values comes back with the same values and dtype."""
    s = pd.Series(["GD1", "GD2", "GD1"], dtype="str", name="工单编号")
    out = _clean_text(s, NA)
    assert out.tolist() == ["GD1", "GD2", "GD1"]
    assert out.dtype == "str"
    assert out.name == "工单编号"


def test_clean_text_blanks_na_values_and_strips() -> None:
    """'无', '' and padded text are cleaned as before the fast path."""
    s = pd.Series([" 张三 ", "无", "", "李四"], dtype="str")
    assert _clean_text(s, NA).tolist() == ["张三", np.nan, np.nan, "李四"]


def test_regex_prefilters_keep_python_regex_answers() -> None:
    """Offsets and plain numbers are found exactly as Python's re finds them (Unicode digits too)."""
    text = pd.Series(
        [
            "2024-10-08",
            "2024-10-08 09:00+08:00",
            "2024-10-08T0900Z",
            "2024-10-08 09:00:00 -0500",
            "20241008",
            "45571.5",
            "١٢٣",
            "2024年11月8日 17:56",
            None,
        ],
        dtype="str",
    )
    offset = _matches(text, _OFFSET_RE, _may_have_offset(text))
    number = _matches(text, _NUMBER_RE, _may_be_number(text), full=True)
    assert offset.tolist() == [False, True, True, True, False, False, False, False, False]
    assert number.tolist() == [False, False, False, False, True, True, True, False, False]


def test_best_format_picks_the_format_that_reads_most_values() -> None:
    """Pruning by literal characters picks the same format: here YYYY年MM月DD日 hh:mm."""
    values = pd.Series(
        ["2024年10月8日 09:00", "2024/10/08 09:00", "2024年10月9日 10:00"], dtype="str"
    )
    formats = [f for f in FORMATS if f[0] != "ISO 8601"]  # (ISO 8601 also reads 2024/10/08)
    names = [name for name, _ in formats]
    assert _best_format(values, formats) == names.index("YYYY年MM月DD日 hh:mm")


def test_best_format_still_counts_now_and_today() -> None:
    """pandas reads 'now' with any format; a format without its literals is still tried."""
    values = pd.Series(["now"], dtype="str")
    assert _best_format(values, [("YYYY/MM/DD", "%Y/%m/%d")]) == 0


def test_pair_in_order_pairs_the_kth_old_with_the_kth_new() -> None:
    """Per (ticket, activity[, time]) group, in time order, in the old rows' order."""
    old = pd.DataFrame({"pos": [10, 11, 12], "c": [0, 0, 1], "a": [0, 0, 0], "ts": [5, 1, 0]})
    new = pd.DataFrame({"pos": [20, 21, 22], "c": [0, 0, 0], "a": [0, 0, 1], "ts": [3, 9, 0]})
    o, n = _pair_in_order(old, new, None)
    assert o.tolist() == [11, 10]
    assert n.tolist() == [20, 21]
    o, n = _pair_in_order(old.assign(t=old["ts"] // 4), new.assign(t=new["ts"] // 4), "t")
    assert o.tolist() == [11]
    assert n.tolist() == [20]
    by = ["c", "a", "ts", "pos"]  # sorted as _match_exports sorts: no sort of its own
    o, n = _pair_in_order(old.sort_values(by), new.sort_values(by), None, presorted=True)
    assert o.tolist() == [11, 10]
    assert n.tolist() == [20, 21]


def test_pair_in_order_joins_when_the_keys_do_not_pack(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keys too wide for one integer are joined on their columns: the same pairs, same order."""
    old = pd.DataFrame(
        {"pos": [10, 11, 12, 13], "c": [1, 0, 0, 1], "a": [0, 0, 0, 0], "ts": [7, 5, 1, 2]}
    )
    new = pd.DataFrame(
        {"pos": [20, 21, 22, 23], "c": [1, 0, 0, 1], "a": [0, 0, 1, 0], "ts": [0, 3, 9, 1]}
    )
    packed = _pair_in_order(old, new, None)
    monkeypatch.setattr(merge_module, "_PACK_LIMIT", 1)
    joined = _pair_in_order(old, new, None)
    assert packed[0].tolist() == joined[0].tolist() == [12, 13, 10]
    assert packed[1].tolist() == joined[1].tolist() == [21, 20, 23]


def test_take_rows_in_parallel_equals_take(monkeypatch: pytest.MonkeyPatch) -> None:
    """The columns gathered two at a time give the frame DataFrame.take gives, index included."""
    monkeypatch.setattr(eventlog, "_PARALLEL_TAKE_ROWS", 1)
    events = pd.DataFrame(
        {
            "case_id": pd.array(["b", "a", "b", None], dtype="str"),
            "activity": pd.array(["x", "y", "z", "w"], dtype="str"),
            "timestamp": pd.to_datetime(
                ["2024-10-01 09:00", "2024-10-01 08:00", "2024-10-01 07:00", "2024-10-02 00:00"]
            ).tz_localize("Asia/Shanghai"),
            "_line": [2, 3, 4, 5],
        }
    )
    order = np.array([1, 2, 0, 3])
    taken = eventlog.take_columns(dict(events.items()), events.index, order)
    pd.testing.assert_frame_equal(taken, events.take(order))


def test_take_rows_joins_the_blocks_of_text_columns(monkeypatch: pytest.MonkeyPatch) -> None:
    """The exports' Arrow chunks become one chunk per text column in the sorted log."""
    col = pd.concat(
        [pd.Series(["a", None], dtype="str"), pd.Series(["b"], dtype="str")], ignore_index=True
    )
    events = pd.DataFrame({"case_id": col, "activity": col, "_line": [2, 3, 4]})
    assert events["case_id"].array._pa_array.num_chunks == 2
    for limit in (1, 100):  # gathered in parallel, and by DataFrame.take
        monkeypatch.setattr(eventlog, "_PARALLEL_TAKE_ROWS", limit)
        out = eventlog.take_columns(dict(events.items()), events.index, np.array([2, 0, 1]))
        assert out["case_id"].array._pa_array.num_chunks == 1
        assert out["case_id"].tolist() == ["b", "a", np.nan]


def _benchmark() -> object:
    path = Path(__file__).resolve().parents[1] / "benchmarks" / "run.py"
    spec = importlib.util.spec_from_file_location("svcmining_benchmark_run", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_reference_loader_decodes_parses_concatenates_dedupes_and_sorts(tmp_path: Path) -> None:
    """The benchmark's pyarrow loader: GB18030 and UTF-8 exports, two time formats, one copy kept."""
    header = "工单编号,处理环节,处理时间,处理部门\n"
    (tmp_path / "a.csv").write_bytes(
        (header + "T2,登记,2024/11/01 09:00,客服\nT1,登记,2024/11/01 10:00,客服\n").encode(
            "gb18030"
        )
    )
    (tmp_path / "b.csv").write_bytes(
        (header + "T1,登记,2024年11月1日 10:00,客服\nT1,派单,2024年11月1日 09:30,客服\n").encode(
            "utf-8-sig"
        )
    )
    run = _benchmark()
    df = run._ref_load([tmp_path / "a.csv", tmp_path / "b.csv"])  # type: ignore[attr-defined]
    assert df["case_id"].tolist() == ["T1", "T1", "T2"]
    assert df["activity"].tolist() == ["派单", "登记", "登记"]
    assert df["timestamp"].tolist() == [
        pd.Timestamp("2024-11-01 09:30", tz="Asia/Shanghai"),
        pd.Timestamp("2024-11-01 10:00", tz="Asia/Shanghai"),
        pd.Timestamp("2024-11-01 09:00", tz="Asia/Shanghai"),
    ]
    assert df["处理部门"].tolist() == ["客服", "客服", "客服"]


@pytest.mark.parametrize(
    ("data", "valid"),
    [
        ("工单,处理\n".encode(), True),
        (b"\xef\xbb\xbfa,b\n", True),
        ("工单".encode("gb18030"), False),
        (b"\xed\xa0\x80", False),  # a surrogate
        (b"\xc0\xaf", False),  # an overlong '/'
        (b"abc\xc3", False),  # cut inside a character
    ],
)
def test_valid_utf8_agrees_with_python(data: bytes, valid: bool) -> None:
    """pyarrow's UTF-8 check (no Python string built) says what Python's decoder says."""
    assert _valid_utf8(data) is valid


def test_case_time_key_sorts_as_case_then_time() -> None:
    """The one-key sort gives lexsort's order: by case, then time, ties in input order."""
    codes = np.array([1, 0, 1, 0, 1])
    minute = 60_000_000_000
    ts = np.array([3, 2, 1, 2, 1]) * minute + 1_700_000_000_000_000_000
    key = _case_time_key(codes, ts)
    assert key is not None
    assert np.argsort(key, kind="stable").tolist() == [1, 3, 2, 4, 0]


def test_case_time_key_gives_way_to_lexsort_for_nat() -> None:
    """A NaT (the minimum int64) leaves the sort to lexsort."""
    ts = np.array([np.iinfo(np.int64).min, 0])
    assert _case_time_key(np.array([0, 0]), ts) is None


def test_sorted_codes_are_pandas_sorted_factorize_codes() -> None:
    """Case codes by pyarrow equal pandas.factorize(sort=True): same order of text ids."""
    ids = pd.concat(
        [
            pd.Series(["b", "工单10", "é", "Z"], dtype="str"),
            pd.Series(["工单2", "10", "9", "b", ""], dtype="str"),
        ],
        ignore_index=True,
    )
    assert eventlog.sorted_codes(ids).tolist() == [4, 6, 5, 3, 7, 1, 2, 4, 0]
    assert eventlog.sorted_codes(ids).tolist() == pd.factorize(ids, sort=True)[0].tolist()


def test_shared_in_file_finds_rows_sharing_a_key_inside_their_file() -> None:
    """Only rows with the same ticket, activity and time in the same file are candidates."""
    from svcmining._merge import _shared_in_file

    ts = pd.to_datetime(["2024-10-01 09:00"] * 5).tz_localize("UTC")
    events = pd.DataFrame(
        {
            "case_id": pd.array(["A"] * 5, dtype="str"),
            "activity": pd.array(["登记", "登记", "登记", "派单", "登记"], dtype="str"),
            "timestamp": ts,
            "_file": np.array([0, 1, 1, 1, 2], dtype=np.int32),
        }
    )
    shared = np.ones(5, dtype=bool)
    assert _shared_in_file(events, np.zeros(5, dtype=np.int64), shared).tolist() == [1, 2]


def test_take_columns_releases_each_column_once_taken(monkeypatch: pytest.MonkeyPatch) -> None:
    """The loader's columns are handed over and dropped as taken: none is held twice."""
    events = pd.DataFrame(
        {"case_id": pd.array(["b", "a", "c"], dtype="str"), "_line": [2, 3, 4]},
        index=pd.RangeIndex(3),
    )
    for limit in (1, 100):  # gathered in parallel, and one after another
        monkeypatch.setattr(eventlog, "_PARALLEL_TAKE_ROWS", limit)
        columns = dict(events.items())
        out = eventlog.take_columns(columns, events.index, np.array([1, 0, 2]))
        assert columns == {}
        assert out["case_id"].tolist() == ["a", "b", "c"]
        assert out["_line"].tolist() == [3, 2, 4]
        assert out.index.tolist() == [1, 0, 2]


@pytest.mark.parametrize(
    ("values", "padded"),
    [
        (["登记", "GD1", "一", "é", "😀", None, ""], False),
        ([" GD1"], True),
        (["GD1\t"], True),
        (["\u3000登记"], True),
        (["登记\u3000"], True),
        (["派单\xa0"], True),
        (["x\x85"], True),
        (["\u2009x"], True),
        (["x\u205f"], True),
        (["x\x1c"], True),
    ],
)
def test_may_be_padded_never_misses_whitespace(values: list[str | None], padded: bool) -> None:
    """Read on the bytes: a value starting or ending with any Unicode whitespace is seen."""
    from svcmining._mapping import _may_be_padded

    for arr in (pa.array(values, pa.string()), pa.array(["a", *values], pa.large_string())[1:]):
        assert _may_be_padded(arr) is padded


def test_clean_arrow_blanks_na_values_of_unpadded_chunks() -> None:
    """A chunk without padding has only its na_values blanked (no trimming needed)."""
    arr = pa.chunked_array([["a", "", "无", None], ["b"]])
    assert _clean_arrow(arr, NA).to_pylist() == ["a", None, None, None, "b"]


_TEXT = st.text(alphabet=st.sampled_from(["a", "登", "无", " ", "\u3000", "\xa0", "\t", "é", "、"]))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.none(), _TEXT), max_size=8))
def test_clean_arrow_equals_python_strip(values: list[str | None]) -> None:
    """Whatever the padding, the byte screen gives what str.strip and na_values give."""
    expected = [None if v is None or v.strip() in NA else v.strip() for v in values]
    cleaned = _clean_arrow(pa.chunked_array([pa.array(values, pa.string())]), NA)
    got = values if cleaned is None else cleaned.to_pylist()
    assert got == expected


def test_take_positions_equals_iloc_on_chunked_columns() -> None:
    """Rows taken by pyarrow from many-chunk columns: the frame iloc gives, index and dtypes."""
    text = pd.concat(
        [pd.Series(["a", None], dtype="str"), pd.Series(["c", "d"], dtype="str")],
        ignore_index=True,
    )
    frame = pd.DataFrame(
        {
            "case_id": text,
            "timestamp": pd.to_datetime(["2024-10-01"] * 4).tz_localize("Asia/Shanghai"),
            "_line": np.array([2, 3, 4, 5]),
        },
        index=pd.RangeIndex(4),
    )
    pos = np.array([3, 1, 3])
    pd.testing.assert_frame_equal(eventlog.take_positions(frame, pos), frame.iloc[pos])
    assert eventlog.take_positions(frame, pos)["case_id"].tolist() == ["d", np.nan, "d"]


def test_join_chunks_joins_text_columns_in_place() -> None:
    """Each text column of many Arrow chunks becomes one chunk, values and dtypes unchanged."""
    col = pd.concat(
        [pd.Series(["a", None], dtype="str"), pd.Series(["b"], dtype="str")], ignore_index=True
    )
    events = pd.DataFrame({"case_id": col, "_line": [2, 3, 4]})
    before = events.copy()
    eventlog.join_chunks(events)
    assert events["case_id"].array._pa_array.num_chunks == 1
    pd.testing.assert_frame_equal(events, before)
