"""Tests for svcmining.calendars: business calendars, durations and deadlines."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import zoneinfo

import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from svcmining.calendars import Calendar, duration_hours, parse_duration
from svcmining.exceptions import InvalidParameterError, SchemaError

SH = "Asia/Shanghai"
BER = "Europe/Berlin"


def ts(*values: str, tz: str = SH) -> pd.Series:
    """A tz-aware Series from wall-clock texts."""
    return pd.Series(pd.to_datetime(list(values)).tz_localize(tz))


def hours(start: str, end: str, cal: Calendar | None, tz: str = SH) -> float:
    """Business (or elapsed) hours between two wall-clock texts."""
    return float(duration_hours(ts(start, tz=tz), ts(end, tz=tz), cal).iloc[0])


# --------------------------------------------------------------------------- exact values
def test_friday_evening_to_monday_morning_is_two_hours():
    """Fri 17:00 -> Mon 10:00 on Mon-Fri 09-18 counts 1 h + 1 h, not the weekend."""
    assert hours("2024-11-08 17:00", "2024-11-11 10:00", Calendar()) == 2.0
    assert hours("2024-11-08 17:00", "2024-11-11 10:00", None) == 65.0


def test_across_national_day_holiday():
    """Mon 30 Sep 17:30 -> Tue 8 Oct 10:00 under china_2024 skips Oct 1-7: 0.5 + 1 h."""
    assert hours("2024-09-30 17:30", "2024-10-08 10:00", Calendar.china_2024()) == 1.5


def test_lunch_break_is_not_counted():
    """11:30 -> 14:00 with 09-12 and 13-18 ranges is 0.5 + 1 h."""
    cal = Calendar(hours=["09:00-12:00", "13:00-18:00"])
    assert hours("2024-11-11 11:30", "2024-11-11 14:00", cal) == 1.5
    assert hours("2024-11-11 12:10", "2024-11-11 12:50", cal) == 0.0
    assert cal.working_hours_per_day() == 8.0


def test_make_up_saturday_is_worked():
    """Fri 11 Oct 17:00 -> Mon 14 Oct 10:00 under china_2024 includes Sat 12 Oct (9 h)."""
    assert hours("2024-10-11 17:00", "2024-10-14 10:00", Calendar.china_2024()) == 11.0
    assert hours("2024-10-11 17:00", "2024-10-14 10:00", Calendar()) == 2.0


@pytest.mark.parametrize(
    ("day", "expected"), [("2024-03-31", 23.0), ("2024-10-27", 25.0), ("2024-10-26", 24.0)]
)
def test_dst_days_in_berlin_round_the_clock(day, expected):
    """A 00:00-24:00 calendar counts 23 h on spring-forward and 25 h on fall-back days."""
    cal = Calendar(workdays="daily", hours=("00:00", "24:00"), timezone=BER)
    nxt = (pd.Timestamp(day) + pd.Timedelta(days=1)).strftime("%Y-%m-%d")
    assert hours(day, nxt, cal, tz=BER) == expected


def test_dst_fall_back_inside_working_range():
    """Berlin 01:00-04:00 on fall-back Sunday lasts 4 real hours (02:00-03:00 twice)."""
    cal = Calendar(workdays="daily", hours=("01:00", "04:00"), timezone=BER)
    assert hours("2024-10-27 00:00", "2024-10-28 00:00", cal, tz=BER) == 4.0
    assert hours("2024-03-31 00:00", "2024-04-01 00:00", cal, tz=BER) == 2.0


def test_negative_when_end_before_start_and_nat_gives_nan():
    """Durations are antisymmetric and NaN where either side is NaT."""
    cal = Calendar()
    s = ts("2024-11-11 10:00", "2024-11-11 10:00", "2024-11-11 10:00")
    e = ts("2024-11-08 17:00", "2024-11-11 12:00", "2024-11-11 12:00")
    e.iloc[2] = pd.NaT
    out = duration_hours(s, e, cal)
    assert out.iloc[:2].tolist() == [-2.0, 2.0]
    assert np.isnan(out.iloc[2])
    assert duration_hours(s, e).iloc[:2].tolist() == [-65.0, 2.0]


def test_timestamps_converted_to_calendar_zone():
    """UTC input is measured on the calendar's local clock (01:00 UTC = 09:00 Shanghai)."""
    s = ts("2024-11-11 01:00", tz="UTC")
    e = ts("2024-11-11 03:30", tz="Europe/London")
    assert duration_hours(s, e, Calendar()).tolist() == [2.5]


def test_return_kind_follows_start():
    """A Series keeps start's index; an Index gives an Index; Timestamps give a float."""
    s = ts("2024-11-08 17:00", "2024-11-11 09:00")
    s.index = [10, 20]
    e = ts("2024-11-11 10:00", "2024-11-11 09:30")
    out = duration_hours(s, e, Calendar())
    assert isinstance(out, pd.Series)
    assert out.index.tolist() == [10, 20]
    assert out.tolist() == [2.0, 0.5]
    idx = duration_hours(pd.DatetimeIndex(s), pd.DatetimeIndex(e), Calendar())
    assert isinstance(idx, pd.Index)
    assert idx.tolist() == [2.0, 0.5]
    one = duration_hours(s.iloc[0], e.iloc[0], Calendar())
    assert isinstance(one, float)
    assert one == 2.0
    bc = duration_hours(s.iloc[0], e, Calendar())  # scalar start paired with every end
    assert bc.tolist() == [2.0, 1.5]


def test_empty_input_gives_empty_result():
    """Empty Series give an empty float Series."""
    empty = pd.Series(pd.DatetimeIndex([], tz=SH))
    out = duration_hours(empty, empty, Calendar())
    assert len(out) == 0
    assert out.dtype == float


def test_naive_timestamps_rejected_with_advice():
    """Naive timestamps raise SchemaError saying how to localise them."""
    naive = pd.Series(pd.to_datetime(["2024-11-11 10:00"]))
    with pytest.raises(SchemaError, match="tz_localize"):
        duration_hours(naive, naive)
    with pytest.raises(SchemaError, match="tz-naive"):
        Calendar().is_working_time(naive)


def test_bad_arguments_raise_invalid_parameter():
    """Wrong calendar type, non-datetime input and length mismatch are InvalidParameterError."""
    s = ts("2024-11-11 10:00")
    with pytest.raises(InvalidParameterError, match="'calendar' parameter"):
        duration_hours(s, s, "china")  # type: ignore[arg-type]
    with pytest.raises(InvalidParameterError, match="timestamps"):
        duration_hours(pd.Series(["x"]), s)
    with pytest.raises(InvalidParameterError, match="pairs start and end"):
        duration_hours(ts("2024-11-11 10:00", "2024-11-11 11:00"), ts("2024-11-11 10:00"))
    with pytest.raises(InvalidParameterError, match="must be a datetime Series"):
        duration_hours([1, 2], s)  # type: ignore[arg-type]


def test_input_not_mutated():
    """duration_hours leaves its inputs untouched."""
    s = ts("2024-11-08 17:00")
    e = ts("2024-11-11 10:00")
    s0, e0 = s.copy(), e.copy()
    duration_hours(s, e, Calendar())
    pd.testing.assert_series_equal(s, s0)
    pd.testing.assert_series_equal(e, e0)


# --------------------------------------------------------------------------- calendar object
def test_china_2024_has_251_working_days():
    """china_2024 matches the official count of 251 working days in 2024."""
    noon = pd.Series(pd.date_range("2024-01-01 12:00", "2024-12-31 12:00", freq="D", tz=SH))
    cal = Calendar.china_2024()
    assert int(cal.is_working_time(noon).sum()) == 251
    assert len(cal.extra_workdays) == 8
    assert dt.date(2024, 2, 18) in cal.extra_workdays
    assert dt.date(2024, 9, 16) in cal.holidays


def test_is_working_time():
    """is_working_time: inside hours on a workday only; range ends are exclusive; NaT False."""
    cal = Calendar(hours=["09:00-12:00", "13:00-18:00"])
    t = ts(
        "2024-11-11 09:00", "2024-11-11 12:00", "2024-11-11 17:59", "2024-11-09 10:00"
    )  # ... Sat
    out = cal.is_working_time(t)
    assert out.tolist() == [True, False, True, False]
    t.iloc[0] = pd.NaT
    assert cal.is_working_time(t).tolist() == [False, False, True, False]


@pytest.mark.parametrize(
    ("kwargs", "field", "expected"),
    [
        ({"workdays": "Mon-Fri"}, "workdays", (0, 1, 2, 3, 4)),
        ({"workdays": "Mon,Wed"}, "workdays", (0, 2)),
        ({"workdays": "周一至周五"}, "workdays", (0, 1, 2, 3, 4)),
        ({"workdays": "周一、周三、周六"}, "workdays", (0, 2, 5)),
        ({"workdays": "Sun-Thu"}, "workdays", (0, 1, 2, 3, 6)),
        ({"workdays": ["Mon", 4]}, "workdays", (0, 4)),
        ({"workdays": "daily"}, "workdays", (0, 1, 2, 3, 4, 5, 6)),
        ({"hours": ("09:00", "18:00")}, "hours", (("09:00", "18:00"),)),
        ({"hours": "9:00-18:00"}, "hours", (("09:00", "18:00"),)),
        (
            {"hours": ["13:00-18:00", "09:00-12:00"]},
            "hours",
            (("09:00", "12:00"), ("13:00", "18:00")),
        ),
        ({"hours": [("00:00", "24:00")]}, "hours", (("00:00", "24:00"),)),
        (
            {"holidays": ["2024-10-01", pd.Timestamp("2024-10-02")]},
            "holidays",
            (dt.date(2024, 10, 1), dt.date(2024, 10, 2)),
        ),
        (
            {"holidays": "2024-10-06..2024-10-07"},
            "holidays",
            (dt.date(2024, 10, 6), dt.date(2024, 10, 7)),
        ),
    ],
)
def test_calendar_normalises_its_fields(kwargs, field, expected):
    """Workdays, hours and dates are accepted in several spellings and normalised."""
    assert getattr(Calendar(**kwargs), field) == expected


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"hours": ("25:00", "26:00")}, "not a time of day"),
        ({"hours": ("18:00", "09:00")}, "ends before it starts"),
        ({"hours": "09:00-09:00"}, "ends before it starts"),
        ({"hours": ["09:00-13:00", "12:00-18:00"]}, "overlap"),
        ({"hours": [[540, 1080]]}, "quoted"),
        ({"hours": "nine to six"}, "HH:MM"),
        ({"hours": ()}, "no working hours"),
        ({"workdays": ()}, "no working hours"),
        ({"workdays": "Mon-Funday"}, "not a day name"),
        ({"workdays": [7]}, "0-6"),
        ({"holidays": ["2024-13-01"]}, "as a date"),
        ({"holidays": ["2024-10-01"], "extra_workdays": ["2024-10-01"]}, "both a holiday"),
        ({"timezone": "Mars/Olympus"}, "Unknown time zone"),
    ],
)
def test_calendar_errors(kwargs, match):
    """Bad calendars raise InvalidParameterError saying what is wrong."""
    with pytest.raises(InvalidParameterError, match=match):
        Calendar(**kwargs)


def test_from_spec_reads_yaml_and_round_trips():
    """from_spec reads the YAML form (dates as YAML dates) and to_spec gives it back."""
    spec = yaml.safe_load(
        """
        workdays: Mon-Fri
        hours: ["09:00-12:00", "13:00-18:00"]
        holidays: [2024-10-01, 2024-10-02]
        extra_workdays: [2024-10-12]
        timezone: Asia/Shanghai
        """
    )
    cal = Calendar.from_spec(spec)
    assert cal.hours == (("09:00", "12:00"), ("13:00", "18:00"))
    assert cal.holidays == (dt.date(2024, 10, 1), dt.date(2024, 10, 2))
    assert cal.extra_workdays == (dt.date(2024, 10, 12),)
    assert Calendar.from_spec(cal.to_spec()) == cal
    assert Calendar.from_spec({}) == Calendar()
    with pytest.raises(InvalidParameterError, match="Unknown calendar key"):
        Calendar.from_spec({"workday": "Mon-Fri"})
    with pytest.raises(InvalidParameterError, match="mapping"):
        Calendar.from_spec(["Mon-Fri"])  # type: ignore[arg-type]


def test_calendar_is_frozen_and_hashable():
    """Calendars are immutable values (usable as dict keys / cache keys)."""
    cal = Calendar()
    with pytest.raises(AttributeError):
        cal.timezone = "UTC"  # type: ignore[misc]
    assert hash(cal) == hash(Calendar(workdays="Mon-Fri", hours="09:00-18:00"))


# --------------------------------------------------------------------------- deadlines
def test_add_business_hours_examples():
    """Deadlines: Fri 17:00 + 1 h = Fri 18:00, + 2 h = Mon 10:00; 0 h from Saturday = itself."""
    cal = Calendar()
    s = ts("2024-11-08 17:00", "2024-11-08 17:00", "2024-11-09 11:00", "2024-11-09 11:00")
    out = cal.add_business_hours(s, pd.Series([1.0, 2.0, 0.0, 0.5]))
    assert out.tolist() == [
        pd.Timestamp("2024-11-08 18:00", tz=SH),
        pd.Timestamp("2024-11-11 10:00", tz=SH),
        pd.Timestamp("2024-11-09 11:00", tz=SH),
        pd.Timestamp("2024-11-11 09:30", tz=SH),
    ]
    long = Calendar.china_2024().add_business_hours(ts("2024-09-30 17:00"), 2.0)
    assert long.tolist() == [pd.Timestamp("2024-10-08 10:00", tz=SH)]


def test_add_business_hours_missing_and_errors():
    """NaT start or NaN hours give NaT; negative hours and length mismatch are rejected."""
    cal = Calendar()
    s = ts("2024-11-08 17:00", "2024-11-08 17:00")
    s.iloc[1] = pd.NaT
    out = cal.add_business_hours(s, [np.nan, 1.0])
    assert out.isna().all()
    assert str(out.dt.tz) == SH
    with pytest.raises(InvalidParameterError, match=">= 0"):
        cal.add_business_hours(s, -1.0)
    with pytest.raises(InvalidParameterError, match="one value per start"):
        cal.add_business_hours(s, [1.0, 2.0, 3.0])


def test_add_business_hours_far_ahead_with_many_holidays():
    """A deadline months ahead is found even when the first guess of the range is short."""
    cal = Calendar(workdays="Mon", hours=("09:00", "10:00"), timezone="UTC")
    out = cal.add_business_hours(ts("2024-01-01 09:00", tz="UTC"), 52.0)
    assert out.tolist() == [pd.Timestamp("2024-12-23 10:00", tz="UTC")]


# --------------------------------------------------------------------------- parse_duration
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30min", pd.Timedelta(minutes=30)),
        ("30m", pd.Timedelta(minutes=30)),
        ("2h", pd.Timedelta(hours=2)),
        ("1.5d", pd.Timedelta(hours=36)),
        ("24 h", pd.Timedelta(hours=24)),
        ("2 hours", pd.Timedelta(hours=2)),
        ("1h30min", pd.Timedelta(minutes=90)),
        ("1w", pd.Timedelta(days=7)),
        ("45s", pd.Timedelta(seconds=45)),
        ("2小时", pd.Timedelta(hours=2)),
        ("30分钟", pd.Timedelta(minutes=30)),
        ("1天", pd.Timedelta(days=1)),
        ("半小时", pd.Timedelta(minutes=30)),
        ("两天", pd.Timedelta(days=2)),
        ("一个半小时", pd.Timedelta(minutes=90)),
        ("PT2H", pd.Timedelta(hours=2)),
        ("P1DT2H30M", pd.Timedelta(hours=26, minutes=30)),
        ("1:30", pd.Timedelta(minutes=90)),
        ("2", pd.Timedelta(hours=2)),
        (" 0.25 ", pd.Timedelta(minutes=15)),
        (4, pd.Timedelta(hours=4)),
        (1.5, pd.Timedelta(minutes=90)),
        ("-2h", pd.Timedelta(hours=-2)),
        (pd.Timedelta(minutes=5), pd.Timedelta(minutes=5)),
        (dt.timedelta(hours=3), pd.Timedelta(hours=3)),
    ],
)
def test_parse_duration_forms(text, expected):
    """parse_duration reads English, Chinese, ISO 8601 and bare-number spellings."""
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    "text",
    ["", "abc", "2 parsecs", "h2", "2h 3x", "1:75", "PTx", True, None, float("nan"), "二十分钟"],
)
def test_parse_duration_errors(text):
    """Unreadable durations raise InvalidParameterError naming the accepted forms."""
    with pytest.raises(InvalidParameterError, match=r"30min.*PT2H.*bare number of hours"):
        parse_duration(text)


# --------------------------------------------------------------------------- properties
ZONES = ["Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Shanghai", "UTC"]
#: windows around 2024 DST transitions (Europe, US, Lord Howe's 30-minute shift)
WINDOWS = [
    dt.datetime(2024, 3, 5),
    dt.datetime(2024, 3, 25),
    dt.datetime(2024, 3, 30),
    dt.datetime(2024, 10, 1),
    dt.datetime(2024, 10, 22),
    dt.datetime(2024, 10, 31),
]


@st.composite
def calendars(draw):
    """Random calendars: 1-3 minute-aligned ranges, random workdays, holidays, make-up days."""
    tz = draw(st.sampled_from(ZONES))
    workdays = draw(st.sets(st.integers(0, 6), min_size=1))
    n = draw(st.integers(1, 3))
    cuts = sorted(
        draw(st.sets(st.integers(0, 96).map(lambda q: q * 15), min_size=2 * n, max_size=2 * n))
    )
    fmt = [f"{c // 60:02d}:{c % 60:02d}" for c in cuts]
    hours = [(fmt[2 * i], fmt[2 * i + 1]) for i in range(n)]
    base = draw(st.sampled_from(WINDOWS)).date()
    days = st.integers(-2, 14).map(lambda k: base + dt.timedelta(days=k))
    holidays = draw(st.sets(days, max_size=3))
    extra = draw(st.sets(days, max_size=2)) - holidays
    cal = Calendar(
        workdays=tuple(workdays),
        hours=tuple(hours),
        holidays=tuple(holidays),
        extra_workdays=tuple(extra),
        timezone=tz,
    )
    return cal, base


def brute_force_minutes(cal: Calendar, start_utc: dt.datetime, end_utc: dt.datetime) -> int:
    """Working minutes in [start, end): walk minutes in UTC, test each one's local time."""
    zone = zoneinfo.ZoneInfo(cal.timezone)
    ranges = [(int(a[:2]) * 60 + int(a[3:]), int(b[:2]) * 60 + int(b[3:])) for a, b in cal.hours]
    count = 0
    t = start_utc
    while t < end_utc:
        local = t.astimezone(zone)
        d = local.date()
        worked = (
            local.weekday() in cal.workdays and d not in cal.holidays
        ) or d in cal.extra_workdays
        if worked:
            m = local.hour * 60 + local.minute
            count += any(a <= m < b for a, b in ranges)
        t += dt.timedelta(minutes=1)
    return count


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    cal_base=calendars(),
    offset=st.integers(0, 12 * 24 * 60),
    length=st.integers(0, 10 * 24 * 60),
    data=st.data(),
)
def test_business_hours_match_minute_by_minute_count(cal_base, offset, length, data):
    """duration_hours equals a minute-by-minute count on random calendars, exactly (DST too)."""
    cal, base = cal_base
    start = dt.datetime(base.year, base.month, base.day, tzinfo=dt.UTC) + dt.timedelta(
        days=-2, minutes=offset
    )
    end = start + dt.timedelta(minutes=length)
    expected = brute_force_minutes(cal, start, end) / 60
    tz = data.draw(st.sampled_from([cal.timezone, "UTC", "Asia/Tokyo"]))
    s = pd.Series([pd.Timestamp(start).tz_convert(tz)])
    e = pd.Series([pd.Timestamp(end).tz_convert(tz)])
    assert duration_hours(s, e, cal).iloc[0] == expected
    assert duration_hours(e, s, cal).iloc[0] == -expected


@settings(max_examples=60, deadline=None)
@given(
    cal_base=calendars(),
    offsets=st.lists(st.integers(0, 12 * 24 * 60), min_size=1, max_size=6),
    quarters=st.lists(st.integers(0, 4 * 40), min_size=6, max_size=6),
)
def test_add_business_hours_round_trip(cal_base, offsets, quarters):
    """duration(start, add_business_hours(start, h)) == h, and the deadline is the earliest such."""
    cal, base = cal_base
    t0 = pd.Timestamp(base, tz="UTC") - pd.Timedelta(days=2)
    s = pd.Series([t0 + pd.Timedelta(minutes=o) for o in offsets]).dt.tz_convert(cal.timezone)
    h = pd.Series([q / 4 for q in quarters[: len(offsets)]])
    deadline = cal.add_business_hours(s, h)
    assert (deadline >= s).all()
    assert duration_hours(s, deadline, cal).tolist() == h.tolist()
    positive = h > 0
    earlier = deadline[positive] - pd.Timedelta(minutes=1)
    assert (duration_hours(s[positive], earlier, cal) < h[positive]).all()


@settings(max_examples=30, deadline=None)
@given(
    cal_base=calendars(),
    pairs=st.lists(
        st.tuples(st.integers(0, 20 * 24 * 60), st.integers(0, 20 * 24 * 60)),
        min_size=2,
        max_size=12,
    ),
    seed=st.integers(0, 1000),
)
def test_pairs_are_independent_of_order(cal_base, pairs, seed):
    """Shuffling the pairs only shuffles the results (no dependence on neighbours)."""
    cal, base = cal_base
    t0 = pd.Timestamp(base, tz="UTC") - pd.Timedelta(days=5)
    s = pd.Series([t0 + pd.Timedelta(minutes=a) for a, _ in pairs])
    e = pd.Series([t0 + pd.Timedelta(minutes=b) for _, b in pairs])
    out = duration_hours(s, e, cal)
    perm = np.random.default_rng(seed).permutation(len(pairs))
    shuffled = duration_hours(s.iloc[perm], e.iloc[perm], cal)
    assert shuffled.tolist() == out.iloc[perm].tolist()
    assert shuffled.index.tolist() == perm.tolist()
    single = [duration_hours(s.iloc[i], e.iloc[i], cal) for i in range(len(pairs))]
    assert single == out.tolist()


def test_module_imports_neither_pm4py_nor_matplotlib():
    """Importing svcmining.calendars stays light (no pm4py, no matplotlib)."""
    code = "import sys, svcmining.calendars; print('pm4py' in sys.modules, 'matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


@settings(max_examples=40, deadline=None)
@given(
    tz=st.sampled_from(
        ["Asia/Shanghai", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "UTC"]
    ),
    start_day=st.integers(0, 3 * 365),
    minutes=st.lists(st.integers(0, 2 * 365 * 24 * 60), min_size=1, max_size=50),
)
def test_clock_local_time_equals_tz_database(tz, start_day, minutes):
    """The clock's local time (its window's UTC offsets) is the tz database's, to the ns."""
    from svcmining.calendars import _Clock, _local_ns

    cal = Calendar(timezone=tz)
    t0 = pd.Timestamp("2022-01-01", tz="UTC").value + start_day * 86_400 * 10**9
    t = t0 + np.asarray(minutes, dtype=np.int64) * 60 * 10**9 + 17  # off the minute grid
    clock = _Clock(cal, int(t.min()), int(t.max()))
    seg = np.searchsorted(clock.trans, t, side="right")
    by_tz_database = clock._wloc(_local_ns(t, tz)) + clock.corr[seg]
    assert np.array_equal(clock.w(t), by_tz_database)
