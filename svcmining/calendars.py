"""Business calendars: the working time behind every duration svcmining reports.

A :class:`Calendar` says which days are worked (weekdays, holidays, make-up working
days such as China's 调休 Saturdays), which hours of those days (one or several
ranges, e.g. a lunch break, or ``00:00-24:00``) and in which time zone.
:func:`duration_hours` measures elapsed hours, or business hours under a calendar;
:meth:`Calendar.add_business_hours` gives SLA deadlines; :func:`parse_duration` reads
``30min`` / ``2h`` / ``1.5d`` / ``2小时`` / ``PT2H`` spellings.

How business time is counted (vectorised, exact to the nanosecond): a cumulative
working-time function ``W(t)`` counts the working nanoseconds of every instant before
``t``; a duration is ``W(end) - W(start)``. On the local wall clock ``W`` is a per-day
table (working days times working seconds, cumulated over the needed date range)
plus the working part of ``t``'s own day. Daylight-saving transitions are exact: at a
spring-forward the skipped wall-clock hour is not worked, at a fall-back the repeated
hour is worked twice -- exactly what counting the minutes of real time whose local
time falls inside working time gives.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
import re
import zoneinfo
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from ._safetext import shorten
from .exceptions import InvalidParameterError, SchemaError

__all__ = ["Calendar", "duration_hours", "parse_duration"]

_S = 1_000_000_000  # ns per second
_NS_HOUR = 3600 * _S
_NS_DAY = 86400 * _S
_EPOCH = dt.date(1970, 1, 1)  # a Thursday (weekday 3)

_DAY_NAMES: dict[str, int] = {}
for _i, _names in enumerate(
    (
        ("mon", "monday", "周一", "星期一", "礼拜一", "一"),
        ("tue", "tues", "tuesday", "周二", "星期二", "礼拜二", "二"),
        ("wed", "wednesday", "周三", "星期三", "礼拜三", "三"),
        ("thu", "thur", "thurs", "thursday", "周四", "星期四", "礼拜四", "四"),
        ("fri", "friday", "周五", "星期五", "礼拜五", "五"),
        ("sat", "saturday", "周六", "星期六", "礼拜六", "六"),
        ("sun", "sunday", "周日", "周天", "星期日", "星期天", "礼拜日", "礼拜天", "日", "天"),
    )
):
    for _n in _names:
        _DAY_NAMES[_n] = _i
_EVERY_DAY = {"daily", "every day", "everyday", "all", "每天", "每日", "全周"}
_WEEKDAY_WORDS = {"weekdays", "工作日"}

_TIME_RE = re.compile(r"^\s*(\d{1,2}):(\d{2})(?::(\d{2}))?\s*$")
_RANGE_SPLIT = re.compile(r"\s*(?:-|–|—|~|～|至|到)\s*")

_CalT = TypeVar("_CalT", bound="Calendar")


# --------------------------------------------------------------------------- parsing helpers
def _bad(msg: str) -> InvalidParameterError:
    return InvalidParameterError(msg)


def _parse_workdays(value: Any) -> tuple[int, ...]:
    """Weekday numbers (Monday=0) from ints, names, ranges or Chinese names."""
    if isinstance(value, str):
        text = value.strip().lower()
        if text in _EVERY_DAY:
            return tuple(range(7))
        if text in _WEEKDAY_WORDS:
            return (0, 1, 2, 3, 4)
        parts = [p for p in re.split(r"\s*[,，、;；/]\s*|\s+(?![-–—~～至到])", text) if p]
        days: set[int] = set()
        for part in parts:
            ends = _RANGE_SPLIT.split(part)
            if len(ends) == 1:
                days.add(_day_number(ends[0], value))
            elif len(ends) == 2:
                a, b = _day_number(ends[0], value), _day_number(ends[1], value)
                days.update((a + k) % 7 for k in range((b - a) % 7 + 1))
            else:
                raise _bad(f"Cannot read workdays {value!r}: {part!r} is not a day or a range.")
        return tuple(sorted(days))
    if isinstance(value, int) and not isinstance(value, bool):
        value = (value,)
    if not isinstance(value, Iterable):
        raise _bad(
            f"workdays must be weekday numbers (Monday=0) or a text like 'Mon-Fri'. Got {value!r}."
        )
    out: set[int] = set()
    for v in value:
        if isinstance(v, str):
            out.update(_parse_workdays(v))
        elif isinstance(v, int | np.integer) and not isinstance(v, bool) and 0 <= v <= 6:
            out.add(int(v))
        else:
            raise _bad(
                f"workdays must be weekday numbers 0-6 (Monday=0) or day names. Got {v!r} "
                f"in {value!r}."
            )
    return tuple(sorted(out))


def _day_number(token: str, whole: Any) -> int:
    tok = token.strip().lower()
    if tok.isdigit() and len(tok) == 1 and int(tok) <= 6:
        return int(tok)
    if tok in _DAY_NAMES:
        return _DAY_NAMES[tok]
    raise _bad(
        f"Cannot read workdays {whole!r}: {token!r} is not a day name. Use e.g. 'Mon-Fri', "
        "'Mon,Wed,Fri', '周一至周五' or weekday numbers (Monday=0)."
    )


def _time_seconds(text: Any, *, is_end: bool) -> int:
    if isinstance(text, int | float) and not isinstance(text, bool):
        raise _bad(
            f"Cannot read the time {text!r} in hours: give 'HH:MM' as a quoted text. (YAML reads "
            "an unquoted 18:00 as the number 1080; write '18:00'.)"
        )
    if isinstance(text, dt.time):
        return text.hour * 3600 + text.minute * 60 + text.second
    m = _TIME_RE.match(str(text))
    if m is None:
        raise _bad(f"Cannot read the time {text!r} in hours: expected 'HH:MM', e.g. '09:00'.")
    h, mi, s = int(m.group(1)), int(m.group(2)), int(m.group(3) or 0)
    secs = h * 3600 + mi * 60 + s
    if mi > 59 or s > 59 or secs > 86400 or (secs == 86400 and not is_end):
        raise _bad(
            f"The time {text!r} in hours is not a time of day: use 00:00 to 23:59 (24:00 only "
            "as the end of a range)."
        )
    return secs


def _fmt_time(secs: int) -> str:
    h, rest = divmod(secs, 3600)
    m, s = divmod(rest, 60)
    return f"{h:02d}:{m:02d}" + (f":{s:02d}" if s else "")


def _parse_hours(value: Any) -> tuple[tuple[str, str], ...]:
    """Normalise hours to sorted, non-overlapping ``(("HH:MM", "HH:MM"), ...)``."""
    if isinstance(value, str):
        items: list[Any] = [value]
    elif (
        isinstance(value, tuple | list)
        and len(value) == 2
        and all(isinstance(v, str) and _TIME_RE.match(v) for v in value)
    ):
        items = [tuple(value)]
    elif isinstance(value, Iterable):
        items = list(value)
    else:
        raise _bad(f"hours must be ranges like '09:00-18:00'. Got {value!r}.")
    ranges: list[tuple[int, int]] = []
    for item in items:
        if isinstance(item, str):
            text = item.strip().lower()
            if text in {"24h", "24 h", "全天", "24小时", "00:00-24:00"}:
                pair: list[Any] = ["00:00", "24:00"]
            else:
                pair = re.split(r"\s*(?:-|–|—|~|～|至|到)\s*", text)
                if len(pair) != 2:
                    raise _bad(
                        f"Cannot read the hours range {item!r}: expected 'HH:MM-HH:MM', "
                        "e.g. '09:00-18:00'."
                    )
        elif isinstance(item, tuple | list) and len(item) == 2:
            pair = list(item)
        else:
            raise _bad(
                f"Cannot read the hours range {item!r}: expected 'HH:MM-HH:MM' or a pair "
                "('09:00', '18:00')."
            )
        a, b = _time_seconds(pair[0], is_end=False), _time_seconds(pair[1], is_end=True)
        if b <= a:
            raise _bad(
                f"The hours range {item!r} ends before it starts; ranges must lie within one "
                "day (split a night shift into '22:00-24:00' and '00:00-06:00')."
            )
        ranges.append((a, b))
    ranges.sort()
    for (_, b1), (a2, _) in itertools.pairwise(ranges):
        if a2 < b1:
            raise _bad(f"The hours ranges {value!r} overlap; give each working period once.")
    return tuple((_fmt_time(a), _fmt_time(b)) for a, b in ranges)


def _parse_dates(value: Any, what: str) -> tuple[dt.date, ...]:
    if value is None:
        return ()
    if isinstance(value, str | dt.date | pd.Timestamp):
        value = [value]
    out: set[dt.date] = set()
    for v in value:
        if isinstance(v, str) and re.search(r"\.\.|~|～|至", v):
            a, b = re.split(r"\s*(?:\.\.|~|～|至)\s*", v.strip(), maxsplit=1)
            lo, hi = _one_date(a, what), _one_date(b, what)
            if hi < lo:
                raise _bad(f"The {what} range {v!r} ends before it starts.")
            out.update(lo + dt.timedelta(days=k) for k in range((hi - lo).days + 1))
        else:
            out.add(_one_date(v, what))
    return tuple(sorted(out))


def _one_date(v: Any, what: str) -> dt.date:
    if isinstance(v, dt.datetime | pd.Timestamp):
        return dt.date(v.year, v.month, v.day)
    if isinstance(v, dt.date):
        return v
    if isinstance(v, str):
        try:
            return dt.date.fromisoformat(v.strip().replace("/", "-"))
        except ValueError:
            pass
    raise _bad(f"Cannot read {v!r} in {what} as a date: use 'YYYY-MM-DD', e.g. '2024-10-01'.")


def _day_index(dates: tuple[dt.date, ...]) -> np.ndarray:
    return np.array([(d - _EPOCH).days for d in dates], dtype=np.int64)


# --------------------------------------------------------------------------- calendar
@dataclass(frozen=True)
class Calendar:
    """Working days and hours in a time zone, for business-hour durations and SLA deadlines.

    Parameters
    ----------
    workdays
        Weekdays worked, Monday=0. Texts such as ``"Mon-Fri"``, ``"Mon,Wed"`` or
        ``"周一至周五"`` are accepted too.
    hours
        Working ranges of a working day, as ``(("09:00", "12:00"), ("13:00", "18:00"))``,
        a single pair ``("09:00", "18:00")`` or texts ``["09:00-12:00", "13:00-18:00"]``.
        ``"00:00"-"24:00"`` is a round-the-clock day.
    holidays
        Dates not worked (dates, ``"YYYY-MM-DD"`` texts or Timestamps; ``"A..B"`` ranges).
    extra_workdays
        Make-up working days (e.g. China's 调休 Saturdays), worked even on a weekend.
    timezone
        IANA zone the hours are meant in; timestamps are converted to it.

    Examples
    --------
    >>> cal = Calendar(workdays="Mon-Fri", hours=["09:00-12:00", "13:00-18:00"])
    >>> cal.working_hours_per_day()
    8.0
    >>> start = pd.Series(pd.to_datetime(["2024-11-08 17:00"]).tz_localize("Asia/Shanghai"))
    >>> end = pd.Series(pd.to_datetime(["2024-11-11 10:00"]).tz_localize("Asia/Shanghai"))
    >>> duration_hours(start, end, cal).tolist()  # Fri 17:00 -> Mon 10:00
    [2.0]
    """

    workdays: tuple[int, ...] = (0, 1, 2, 3, 4)
    hours: tuple[tuple[str, str], ...] = (("09:00", "18:00"),)
    holidays: tuple[dt.date, ...] = ()
    extra_workdays: tuple[dt.date, ...] = ()
    timezone: str = "Asia/Shanghai"

    def __post_init__(self) -> None:
        workdays = _parse_workdays(self.workdays)
        hours = _parse_hours(self.hours)
        holidays = _parse_dates(self.holidays, "holidays")
        extra = _parse_dates(self.extra_workdays, "extra_workdays")
        both = sorted(set(holidays) & set(extra))
        if both:
            raise _bad(
                f"{', '.join(map(str, both[:3]))} is both a holiday and an extra workday; "
                "keep it in one list only."
            )
        if not workdays or not hours:
            raise _bad(
                f"The calendar (workdays={workdays!r}, hours={hours!r}) has no working hours; "
                "give at least one workday and an hours range."
            )
        tz = self.timezone
        if not isinstance(tz, str):
            tz = str(getattr(tz, "key", None) or getattr(tz, "zone", None) or tz)
        try:
            zoneinfo.ZoneInfo(tz)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise _bad(
                f"Unknown time zone {self.timezone!r}; use an IANA name such as "
                "'Asia/Shanghai' or 'Europe/Berlin'."
            ) from None
        object.__setattr__(self, "workdays", workdays)
        object.__setattr__(self, "hours", hours)
        object.__setattr__(self, "holidays", holidays)
        object.__setattr__(self, "extra_workdays", extra)
        object.__setattr__(self, "timezone", tz)

    # ----------------------------------------------------------------- constructors
    @classmethod
    def from_spec(cls: type[_CalT], spec: Mapping[str, Any]) -> _CalT:
        """Build a calendar from a YAML-style mapping.

        Keys: ``workdays`` (``"Mon-Fri"``, ``"周一至周五"``, ``[0, 1, 2]``), ``hours``
        (``["09:00-12:00", "13:00-18:00"]``), ``holidays`` and ``extra_workdays``
        (lists of ``YYYY-MM-DD`` dates or ``"A..B"`` ranges), ``timezone``. Missing keys
        take the defaults of :class:`Calendar`.

        Examples
        --------
        >>> cal = Calendar.from_spec({"workdays": "Mon-Fri", "hours": ["09:00-18:00"],
        ...                           "holidays": ["2024-10-01..2024-10-07"]})
        >>> len(cal.holidays)
        7
        """
        if not isinstance(spec, Mapping):
            raise _bad(f"A calendar spec must be a mapping. Got {type(spec).__name__}.")
        allowed = ("workdays", "hours", "holidays", "extra_workdays", "timezone")
        unknown = [k for k in spec if k not in allowed]
        if unknown:
            raise _bad(
                f"Unknown calendar key(s) {', '.join(map(repr, unknown))}; the keys are "
                f"{', '.join(allowed)}."
            )
        return cls(**{k: spec[k] for k in allowed if k in spec and spec[k] is not None})

    @classmethod
    def china_2024(cls: type[_CalT]) -> _CalT:
        """Mon-Fri 09:00-18:00 Asia/Shanghai with the official PRC 2024 holidays.

        Holidays and make-up workdays follow the State Council notice of October 2023
        (国办发明电〔2023〕7号): New Year Jan 1; Spring Festival Feb 10-17 (work Sun
        Feb 4 and Sun Feb 18); Qingming Apr 4-6 (work Sun Apr 7); Labour Day May 1-5
        (work Sun Apr 28 and Sat May 11); Dragon Boat Jun 10; Mid-Autumn Sep 15-17 (work
        Sat Sep 14); National Day Oct 1-7 (work Sun Sep 29 and Sat Oct 12).
        """
        return cls(
            workdays=(0, 1, 2, 3, 4),
            hours=(("09:00", "18:00"),),
            holidays=(
                "2024-01-01",
                "2024-02-10..2024-02-17",
                "2024-04-04..2024-04-06",
                "2024-05-01..2024-05-05",
                "2024-06-10",
                "2024-09-15..2024-09-17",
                "2024-10-01..2024-10-07",
            ),  # type: ignore[arg-type]  # normalised to dates in __post_init__
            extra_workdays=(
                "2024-02-04",
                "2024-02-18",
                "2024-04-07",
                "2024-04-28",
                "2024-05-11",
                "2024-09-14",
                "2024-09-29",
                "2024-10-12",
            ),  # type: ignore[arg-type]
            timezone="Asia/Shanghai",
        )

    def to_spec(self) -> dict[str, Any]:
        """The mapping :meth:`from_spec` reads back into an equal calendar."""
        return {
            "workdays": list(self.workdays),
            "hours": [f"{a}-{b}" for a, b in self.hours],
            "holidays": [d.isoformat() for d in self.holidays],
            "extra_workdays": [d.isoformat() for d in self.extra_workdays],
            "timezone": self.timezone,
        }

    # ----------------------------------------------------------------- queries
    def working_hours_per_day(self) -> float:
        """Nominal working hours of one working day (sum of the hours ranges)."""
        return float(self._ranges_ns()[2].sum()) / _NS_HOUR

    def is_working_time(self, ts: pd.Series) -> pd.Series:
        """Whether each timestamp falls inside working time (NaT is ``False``).

        Examples
        --------
        >>> ts = pd.Series(pd.to_datetime(["2024-11-08 17:30", "2024-11-09 10:00"]))
        >>> Calendar().is_working_time(ts.dt.tz_localize("Asia/Shanghai")).tolist()
        [True, False]
        """
        ns, nat, kind = _as_ns(ts, "ts", "is_working_time")
        out = np.zeros(ns.shape, dtype=bool)
        if (~nat).any():
            local = _local_ns(np.where(nat, ns[~nat][0], ns), self.timezone)
            day = local // _NS_DAY
            tod = local - day * _NS_DAY
            a, b, _ = self._ranges_ns()
            in_hours = np.zeros(ns.shape, dtype=bool)
            for lo, hi in zip(a, b, strict=True):
                in_hours |= (tod >= lo) & (tod < hi)
            out = in_hours & self._is_workday(day) & ~nat
        return _wrap(out, kind)

    def add_business_hours(self, start: pd.Series, hours: float | pd.Series) -> pd.Series:
        """The instant at which ``hours`` business hours after ``start`` have passed.

        The deadline is the earliest instant ``t >= start`` with
        ``duration_hours(start, t, self) == hours``: 1 h after Fri 17:00 is Fri 18:00,
        not Mon 09:00. ``hours`` is a number or a Series/array paired by position;
        NaN hours or NaT starts give NaT. The result keeps ``start``'s time zone.

        Examples
        --------
        >>> start = pd.Series(pd.to_datetime(["2024-11-08 17:00"]).tz_localize("Asia/Shanghai"))
        >>> Calendar().add_business_hours(start, 2).dt.strftime("%a %H:%M").tolist()
        ['Mon 10:00']
        """
        ns, nat, kind = _as_ns(start, "start", "add_business_hours")
        h = np.asarray(hours.to_numpy() if isinstance(hours, pd.Series) else hours, dtype=float)
        if h.ndim and h.shape != ns.shape:
            raise _bad(
                f"The 'hours' parameter of add_business_hours must be a number or have one "
                f"value per start ({ns.size}). Got {h.size} values."
            )
        h = np.broadcast_to(h, ns.shape)
        if np.any(h < 0) or np.any(np.isinf(h)):
            raise _bad("The 'hours' parameter of add_business_hours must be >= 0 and finite.")
        bad = nat | np.isnan(h)
        out = np.full(ns.shape, _NAT, dtype=np.int64)
        ok = ~bad
        if ok.any():
            s = ns[ok]
            add = np.rint(h[ok] * _NS_HOUR).astype(np.int64)
            per_week = float(self._ranges_ns()[2].sum()) * len(self.workdays)
            span = int(np.max(add) / per_week * 7 * _NS_DAY) + 14 * _NS_DAY
            span += len(self.holidays) * _NS_DAY
            lo = int(s.min())
            while True:
                hi = int(s.max()) + span
                clock = _Clock(self, lo, hi)
                target = clock.w(s) + add
                if clock.w(np.array([hi], dtype=np.int64))[0] >= target.max():
                    out[ok] = np.maximum(clock.inverse(target), s)
                    break
                if span > 400 * 366 * _NS_DAY:
                    raise _bad("add_business_hours: a deadline lies more than 400 years ahead.")
                span *= 2
        tz = _tz_of(start)
        res = pd.DatetimeIndex(out.view("M8[ns]")).tz_localize("UTC").tz_convert(tz)
        if kind[0] == "series":
            return pd.Series(res, index=kind[1], name=getattr(start, "name", None))
        if kind[0] == "index":
            return res
        return res[0]

    # ----------------------------------------------------------------- internals
    def _ranges_ns(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        a = np.array([_time_seconds(x, is_end=False) for x, _ in self.hours], dtype=np.int64)
        b = np.array([_time_seconds(y, is_end=True) for _, y in self.hours], dtype=np.int64)
        return a * _S, b * _S, (b - a) * _S

    def _is_workday(self, day: np.ndarray) -> np.ndarray:
        """Whether each day number (days since 1970-01-01, local) is worked."""
        work = np.isin((day + 3) % 7, np.array(self.workdays, dtype=np.int64))
        if self.holidays:
            work &= ~np.isin(day, _day_index(self.holidays))
        if self.extra_workdays:
            work |= np.isin(day, _day_index(self.extra_workdays))
        return work


# --------------------------------------------------------------------------- the clock
_NAT = np.iinfo(np.int64).min


def _local_ns(utc_ns: np.ndarray, tz: str) -> np.ndarray:
    """Local wall-clock nanoseconds (as if UTC) of UTC instants."""
    idx = pd.DatetimeIndex(np.asarray(utc_ns, dtype=np.int64).view("M8[ns]"))
    return np.asarray(idx.tz_localize("UTC").tz_convert(tz).tz_localize(None).asi8)


class _Clock:
    """Cumulative working time W(t) (ns) of a calendar over a UTC window [lo, hi]."""

    def __init__(self, cal: Calendar, lo: int, hi: int) -> None:
        tz = cal.timezone
        self.a, self.b, self.len = cal._ranges_ns()
        self.len_end = np.cumsum(self.len)
        self.d0 = lo // _NS_DAY - 2
        days = np.arange(self.d0, hi // _NS_DAY + 3, dtype=np.int64)
        self.work = cal._is_workday(days)
        per_day = np.where(self.work, self.len.sum(), 0).astype(np.int64)
        self.cum = np.concatenate(([0], np.cumsum(per_day)))  # cum[i]: before day i
        # offset transitions inside [lo, hi], found on a daily grid and bisected to the ns
        grid = np.append(np.arange(lo, hi, _NS_DAY, dtype=np.int64), np.int64(hi))
        off = _local_ns(grid, tz) - grid
        chg = np.flatnonzero(off[1:] != off[:-1])
        t_lo, t_hi = grid[chg], grid[chg + 1]
        off_before = off[chg]
        while chg.size and np.any(t_hi - t_lo > 1):
            mid = t_lo + (t_hi - t_lo) // 2
            same = (_local_ns(mid, tz) - mid) == off_before
            t_lo = np.where(same, mid, t_lo)
            t_hi = np.where(same, t_hi, mid)
        self.tz = tz
        self.trans = t_hi
        off_after = off[chg + 1]
        self.offs = np.concatenate((off[:1], off_after))  # offset of each segment
        delta = self._wloc(t_hi + off_before) - self._wloc(t_hi + off_after)
        self.corr = np.concatenate(([0], np.cumsum(delta))).astype(np.int64)
        self.w_trans = self._wloc(t_hi + off_after) + self.corr[1:]

    def _wloc(self, x: np.ndarray) -> np.ndarray:
        """Working ns before local wall-clock instant x (ns)."""
        day, tod = np.divmod(np.asarray(x, dtype=np.int64), _NS_DAY)
        day -= self.d0
        np.clip(day, 0, self.work.size - 1, out=day)  # index of the day in the window
        within = np.zeros(tod.shape, dtype=np.int64)
        part = np.empty_like(tod)
        for a, n in zip(self.a, self.len, strict=True):  # worked ns of each range so far
            np.subtract(tod, a, out=part)
            np.clip(part, 0, n, out=part)
            within += part
        within *= self.work[day]  # nothing on days off
        within += self.cum[day]
        return within

    def w(self, t: np.ndarray) -> np.ndarray:
        """Working ns before UTC instants t (ns) in the window, up to a constant."""
        t = np.asarray(t, dtype=np.int64)
        if not self.trans.size:  # one UTC offset all through the window
            return np.asarray(self._wloc(t + self.offs[0]))
        # local wall-clock time from the offsets found for the window (no tz database)
        seg = np.searchsorted(self.trans, t, side="right")
        return np.asarray(self._wloc(t + self.offs[seg]) + self.corr[seg])

    def inverse(self, target: np.ndarray) -> np.ndarray:
        """Earliest UTC instant t with W(t) >= target."""
        seg = np.searchsorted(self.w_trans, target, side="left")
        y = target - self.corr[seg]
        i = np.searchsorted(self.cum[1:], y, side="left")
        i = np.clip(i, 0, self.work.size - 1)
        rem = y - self.cum[i]
        r = np.clip(np.searchsorted(self.len_end, rem, side="left"), 0, self.len.size - 1)
        tod = np.where(rem > 0, self.a[r] + rem - (self.len_end[r] - self.len[r]), 0)
        t = (self.d0 + i) * _NS_DAY + tod - self.offs[seg]
        if self.trans.size:
            prev = self.trans[np.maximum(seg - 1, 0)]
            t = np.where(seg > 0, np.maximum(t, prev), t)
        return np.asarray(t)


# --------------------------------------------------------------------------- inputs/outputs
_Kind = tuple[str, Any]


def _tz_of(obj: Any) -> Any:
    if isinstance(obj, pd.Series):
        return obj.dt.tz
    return getattr(obj, "tz", None) or "UTC"


def _as_ns(obj: Any, name: str, func: str) -> tuple[np.ndarray, np.ndarray, _Kind]:
    """UTC int64 ns, NaT mask and the kind of container (to rebuild the same kind)."""
    if isinstance(obj, pd.Series):
        kind: _Kind = ("series", obj.index)
        values: Any = obj.array
    elif isinstance(obj, pd.Index):
        kind = ("index", None)
        values = obj
    elif obj is None or obj is pd.NaT or isinstance(obj, dt.datetime | np.datetime64):
        kind = ("scalar", None)
        values = pd.DatetimeIndex([pd.NaT if obj is None else pd.Timestamp(obj)])
    else:
        raise _bad(
            f"The {name!r} parameter of {func} must be a datetime Series, DatetimeIndex or "
            f"Timestamp. Got {type(obj).__name__}."
        )
    try:
        idx = pd.DatetimeIndex(values)
    except (TypeError, ValueError):
        raise _bad(
            f"The {name!r} parameter of {func} must hold timestamps; convert it with "
            "pd.to_datetime first."
        ) from None
    nat = np.asarray(idx.isna())
    if idx.tz is None:
        if nat.all():  # all missing: nothing to localise
            return np.full(nat.shape, _NAT, dtype=np.int64), nat, kind
        raise SchemaError(
            f"The {name!r} timestamps given to {func} are tz-naive, so their instant is "
            "unknown. Localise them first, e.g. s.dt.tz_localize('Asia/Shanghai'), or read "
            "the log with svcmining.read_tickets(..., timezone='Asia/Shanghai')."
        )
    ns = np.asarray(idx.as_unit("ns").asi8)
    return ns, nat, kind


def _wrap(values: np.ndarray, kind: _Kind) -> Any:
    if kind[0] == "series":
        return pd.Series(values, index=kind[1])
    if kind[0] == "index":
        return pd.Index(values)
    v = values[0]
    return float(v) if values.dtype.kind == "f" else bool(v)


def working_ns(times: pd.Series | pd.Index, calendar: Calendar) -> np.ndarray:
    """Working nanoseconds before each timestamp under ``calendar``, up to a constant.

    The difference of two values is the business time between the two instants, as
    :func:`duration_hours` counts it (``duration_hours(a, b, cal) == (working_ns(b) -
    working_ns(a)) / 3.6e12`` for instants of the same call). It lets a long series of
    consecutive intervals (the steps of an event log) be measured with one clock look-up
    per timestamp instead of two per interval. NaT gives the minimum int64.
    """
    ns, nat, _ = _as_ns(times, "times", "working_ns")
    out = np.full(ns.shape, _NAT, dtype=np.int64)
    ok = ~nat
    if ok.any():
        clock = _Clock(calendar, int(ns[ok].min()), int(ns[ok].max()))
        out[ok] = clock.w(ns[ok])
    return out


def duration_hours(
    start: pd.Series | pd.Index | pd.Timestamp,
    end: pd.Series | pd.Index | pd.Timestamp,
    calendar: Calendar | None = None,
) -> pd.Series | pd.Index | float:
    """Hours from ``start`` to ``end``: elapsed, or business hours under ``calendar``.

    Parameters
    ----------
    start, end
        Tz-aware datetime Series, DatetimeIndex or Timestamps, paired by position (a
        scalar is paired with every element of the other). Tz-naive timestamps raise
        :class:`~svcmining.exceptions.SchemaError`.
    calendar
        ``None`` for elapsed clock hours; a :class:`Calendar` for working hours only.

    Returns
    -------
    The same kind as ``start`` (a Series keeps ``start``'s index; when ``start`` is a
    scalar and ``end`` a Series, ``end``'s index): float hours, negative when ``end`` is
    before ``start``, NaN where either is NaT.

    Examples
    --------
    >>> tz = "Asia/Shanghai"
    >>> start = pd.Series(pd.to_datetime(["2024-11-08 17:00", "2024-11-11 09:30"]).tz_localize(tz))
    >>> end = pd.Series(pd.to_datetime(["2024-11-11 10:00", "2024-11-11 09:00"]).tz_localize(tz))
    >>> duration_hours(start, end).tolist()
    [65.0, -0.5]
    >>> duration_hours(start, end, Calendar()).tolist()
    [2.0, -0.5]
    """
    if calendar is not None and not isinstance(calendar, Calendar):
        raise _bad(
            "The 'calendar' parameter of duration_hours must be a Calendar or None. "
            f"Got {type(calendar).__name__} instead."
        )
    s_ns, s_nat, s_kind = _as_ns(start, "start", "duration_hours")
    e_ns, e_nat, e_kind = _as_ns(end, "end", "duration_hours")
    kind = e_kind if s_kind[0] == "scalar" else s_kind
    if s_ns.size != e_ns.size and "scalar" not in (s_kind[0], e_kind[0]):
        raise _bad(
            f"duration_hours pairs start and end by position, but start has {s_ns.size} values "
            f"and end {e_ns.size}."
        )
    s_ns, e_ns, s_nat, e_nat = np.broadcast_arrays(s_ns, e_ns, s_nat, e_nat)
    nat = s_nat | e_nat
    out = np.full(s_ns.shape, np.nan)
    ok = ~nat
    if ok.any():
        s, e = s_ns[ok], e_ns[ok]
        if calendar is None:
            diff = e - s
        else:
            lo = int(min(s.min(), e.min()))
            hi = int(max(s.max(), e.max()))
            clock = _Clock(calendar, lo, hi)
            both = clock.w(np.concatenate((s, e)))
            diff = both[s.size :] - both[: s.size]
        out[ok] = diff / _NS_HOUR
    return _wrap(out, kind)


# --------------------------------------------------------------------------- durations
_UNITS: dict[str, float] = {}
for _secs, _names in (
    (1.0, ("s", "sec", "secs", "second", "seconds", "秒", "秒钟")),
    (60.0, ("m", "min", "mins", "minute", "minutes", "分", "分钟")),
    (3600.0, ("h", "hr", "hrs", "hour", "hours", "小时", "个小时", "时", "钟头", "个钟头")),
    (86400.0, ("d", "day", "days", "天", "日")),
    (604800.0, ("w", "wk", "wks", "week", "weeks", "周", "星期", "个星期")),
):
    for _n in _names:
        _UNITS[_n] = _secs
_CN_NUM = {
    "半": 0.5,
    "一": 1,
    "两": 2,
    "二": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
    "十": 10,
}
_NUM = r"(?:\d+(?:\.\d*)?|\.\d+|[半一两二三四五六七八九十])"
_PART_RE = re.compile(rf"({_NUM})\s*([a-z\u4e00-\u9fff]+)")
_HMS_RE = re.compile(r"^(\d+):(\d{2})(?::(\d{2}))?$")
_FORMS = (
    "a number with a unit (30min or 30m, 2h, 1.5d, 1w, '24 h', 1h30min, 2小时, 30分钟, "
    "1天, 半小时), H:MM, an ISO 8601 duration ('PT2H', 'P1DT2H') or a bare number of hours"
)


def parse_duration(text: str | float | pd.Timedelta | dt.timedelta) -> pd.Timedelta:
    """Read a duration such as ``"30min"``, ``"2h"``, ``"1.5d"``, ``"2小时"`` or ``"PT2H"``.

    Bare numbers (and number-only texts) are hours; days and weeks are calendar
    days (24 h), not working days. A leading ``-`` gives a negative duration.

    Raises
    ------
    InvalidParameterError
        When the text is none of the accepted forms (the message lists them).

    Examples
    --------
    >>> parse_duration("1.5d"), parse_duration("30分钟"), parse_duration(2)
    (Timedelta('1 days 12:00:00'), Timedelta('0 days 00:30:00'), Timedelta('0 days 02:00:00'))
    """
    if isinstance(text, pd.Timedelta | dt.timedelta) and not pd.isna(text):
        return pd.Timedelta(text)
    if isinstance(text, int | float | np.integer | np.floating) and not isinstance(text, bool):
        if math.isfinite(float(text)):
            return _seconds_td(float(text) * 3600, text)
    elif isinstance(text, str):
        td = _parse_duration_text(text)
        if td is not None:
            return td
    raise _bad(f"Cannot read {shorten(repr(text), 80)} as a duration. Use {_FORMS}.")


_MAX_SECONDS = pd.Timedelta.max.total_seconds()


def _seconds_td(seconds: float, text: object) -> pd.Timedelta:
    """``seconds`` as a Timedelta; too long a duration is a readable error, not 25 digits."""
    if abs(seconds) >= _MAX_SECONDS:
        years = abs(seconds) / (365.25 * 86400)
        size = f"about {years:.3g} years" if math.isfinite(years) else "far too long"
        raise _bad(
            f"The duration {shorten(repr(text), 80)} is {size}; the longest "
            f"duration svcmining can hold is {pd.Timedelta.max.days:,} days (about 292 years). "
            "Check the number and its unit (e.g. 30min, 2h, 1.5d)."
        )
    return pd.Timedelta(seconds=seconds).round("ns")


def _parse_duration_text(text: str) -> pd.Timedelta | None:
    t = text.strip().lower()
    sign = 1.0
    if t[:1] in "-+" and t:
        sign = -1.0 if t[0] == "-" else 1.0
        t = t[1:].strip()
    if not t:
        return None
    if t.startswith("p"):
        try:
            return sign * pd.Timedelta(t.upper())
        except ValueError:
            return None
    if re.fullmatch(r"\d+(?:\.\d*)?|\.\d+", t):
        return _seconds_td(sign * float(t) * 3600, text)
    m = _HMS_RE.match(t)
    if m:
        secs = int(m.group(1)) * 3600 + int(m.group(2)) * 60 + int(m.group(3) or 0)
        if int(m.group(2)) < 60 and int(m.group(3) or 0) < 60:
            return _seconds_td(sign * secs, text)
        return None
    t = t.replace("个半", "半").replace(" ", "")
    total = 0.0
    pos = 0
    for m in _PART_RE.finditer(t):
        if m.start() != pos:
            return None
        num, unit = m.group(1), m.group(2)
        half = unit.startswith("半") or (unit.endswith("半") and unit[:-1] in _UNITS)
        unit = unit.strip("半") if half else unit
        if unit not in _UNITS:
            return None
        value = _CN_NUM[num] if num in _CN_NUM else float(num)
        total += (value + (0.5 if half else 0.0)) * _UNITS[unit]
        pos = m.end()
    if pos != len(t) or pos == 0:
        return None
    return _seconds_td(sign * total, text)
