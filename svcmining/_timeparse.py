"""Timestamp parsing for the mapped time columns only (never for any other column).

Each value is parsed with an explicit format from :data:`FORMATS` (chosen on a sample,
then applied vectorised to the whole column, the leftovers tried with the next
format), or as a number. The values that are plain numbers are read in ONE unit
decided on the column (the unit that most of them fit): compact date-times
(``YYYYMMDDhhmmss``, ``YYYYMMDDhhmm``, ``YYYYMMDDhh``, ``YYYYMMDD``; these win ties,
``202410080900`` is 8 October 2024 09:00, not epoch milliseconds), epoch seconds,
epoch milliseconds or Excel serial days; a number that does not fit that unit stays
unparsed (never reread in another unit). A UTC offset is recognised only after a
clock time (``2024-10-08`` is a date at midnight local, not ``2024-10`` at ``-08:00``).
Day/month order in ``03/10/2024`` is never guessed: it is read from the data when a
value proves it (a first field above 12), else ``dayfirst=`` must be given.
Dates with English month names (``04/Nov/24 9:12 AM`` as Jira writes them,
``04-Nov-2024 09:12``, ``Nov 4, 2024 9:12 PM``, ``4 November 2024``; case-insensitive)
are read with :data:`MONTH_NAME_FORMATS`. A ``time_format`` given by the caller (a
``strptime`` format) replaces all detection for the column.
Naive values are localised to the load's time zone; values with an offset are
converted to it. Times outside what pandas can hold (local times before 1677-09-22 or
after 2262-04-10) stay unparsed. What cannot be parsed stays NaT and is reported by
the caller.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .exceptions import SchemaError

__all__ = ["FORMATS", "MONTH_NAME_FORMATS", "ParsedTimes", "parse_times"]

# (name shown in the load report, pandas/strptime format)
FORMATS: tuple[tuple[str, str], ...] = (
    ("ISO 8601", "ISO8601"),
    ("YYYY/MM/DD hh:mm:ss", "%Y/%m/%d %H:%M:%S"),
    ("YYYY/MM/DD hh:mm", "%Y/%m/%d %H:%M"),
    ("YYYY/MM/DD", "%Y/%m/%d"),
    ("YYYY年MM月DD日 hh:mm:ss", "%Y年%m月%d日 %H:%M:%S"),
    ("YYYY年MM月DD日 hh:mm", "%Y年%m月%d日 %H:%M"),
    ("YYYY年MM月DD日hh:mm", "%Y年%m月%d日%H:%M"),
    ("YYYY年MM月DD日 hh时mm分", "%Y年%m月%d日 %H时%M分"),
    ("YYYY年MM月DD日", "%Y年%m月%d日"),
    ("YYYY.MM.DD hh:mm:ss", "%Y.%m.%d %H:%M:%S"),
    ("YYYY.MM.DD hh:mm", "%Y.%m.%d %H:%M"),
    ("YYYY/MM/DD 上午/下午 hh:mm:ss", "%Y/%m/%d %p %I:%M:%S"),
    ("YYYY/MM/DD 上午/下午 hh:mm", "%Y/%m/%d %p %I:%M"),
    ("DD-Mon-YYYY hh:mm:ss", "%d-%b-%Y %H:%M:%S"),
    ("DD-Mon-YYYY hh:mm", "%d-%b-%Y %H:%M"),
    ("DD Mon YYYY hh:mm", "%d %b %Y %H:%M"),
)
_DMY = (
    ("{a}/{b}/YYYY hh:mm:ss", "%{a}/%{b}/%Y %H:%M:%S"),
    ("{a}/{b}/YYYY hh:mm", "%{a}/%{b}/%Y %H:%M"),
    ("{a}/{b}/YYYY", "%{a}/%{b}/%Y"),
    ("{a}.{b}.YYYY hh:mm:ss", "%{a}.%{b}.%Y %H:%M:%S"),
    ("{a}.{b}.YYYY hh:mm", "%{a}.%{b}.%Y %H:%M"),
    ("{a}-{b}-YYYY hh:mm:ss", "%{a}-%{b}-%Y %H:%M:%S"),
    ("{a}-{b}-YYYY hh:mm", "%{a}-%{b}-%Y %H:%M"),
)
# dates with English month names (abbreviated or full; strptime reads them in any case)
_MONTH_DATES = (
    ("DD/Mon/YY", "%d/%b/%y"),
    ("DD/Mon/YYYY", "%d/%b/%Y"),
    ("DD-Mon-YY", "%d-%b-%y"),
    ("DD-Mon-YYYY", "%d-%b-%Y"),
    ("DD Mon YYYY", "%d %b %Y"),
    ("Mon DD, YYYY", "%b %d, %Y"),
    ("Mon DD YYYY", "%b %d %Y"),
    ("DD-Month-YYYY", "%d-%B-%Y"),
    ("DD Month YYYY", "%d %B %Y"),
    ("Month DD, YYYY", "%B %d, %Y"),
)
_MONTH_TIMES = (
    (" h:mm AM", " %I:%M %p"),
    (" h:mm:ss AM", " %I:%M:%S %p"),
    (" hh:mm", " %H:%M"),
    (" hh:mm:ss", " %H:%M:%S"),
    ("", ""),
)
#: Formats with English month names, tried after :data:`FORMATS`.
MONTH_NAME_FORMATS: tuple[tuple[str, str], ...] = tuple(
    (dn + tn, df + tf)
    for dn, df in _MONTH_DATES
    for tn, tf in _MONTH_TIMES
    if df + tf not in {f for _, f in FORMATS}
)
_DMY_RE = re.compile(r"^\s*(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})(?:\D|$)")
# an offset counts only after a clock time (hh:mm[:ss[.f]] or compact Thhmm[ss]): the
# "-08" of the date "2024-10-08" is the day, not a UTC offset
_OFFSET_RE = r"(?::\d{2}(?:[.,]\d+)?|T\d{4}(?:\d{2})?)\s*(?:Z|[+-]\d{2}(?::?\d{2})?)$"
_NUMBER_RE = r"^\d+(?:\.\d+)?$"
# local times one day inside pandas' nanosecond range, so that every zone's offset fits
_LO = pd.Timestamp("1677-09-22")
_HI = pd.Timestamp("2262-04-10")
# (name, digits, slices of year, month, day, hour, minute, second)
_COMPACT = (
    ("YYYYMMDDhhmmss", 14),
    ("YYYYMMDDhhmm", 12),
    ("YYYYMMDDhh", 10),
    ("YYYYMMDD", 8),
)
_SAMPLE = 200


@dataclass
class ParsedTimes:
    """Parsed values (tz-aware, NaT where unparseable) and how they were read."""

    times: pd.Series
    formats: list[str] = field(default_factory=list)
    localised: int = 0  # naive values localised to the load's time zone
    dst_resolved: int = 0  # naive values that fell into a DST change
    # rows each parsed value stands for (distinct values parsed once); None: one each
    weights: np.ndarray | None = field(default=None, repr=False)
    notes: list[str] = field(default_factory=list)  # what the caller should tell the user

    def rows(self, index: pd.Index) -> int:
        """How many source rows the values at ``index`` (labels of the parsed Series) stand for."""
        if self.weights is None:
            return len(index)
        return int(self.weights[np.asarray(index, dtype=np.int64)].sum())


def _dmy_formats(dayfirst: bool) -> tuple[tuple[str, str], ...]:
    a, b = ("d", "m") if dayfirst else ("m", "d")
    name_a, name_b = ("DD", "MM") if dayfirst else ("MM", "DD")
    return tuple((name.format(a=name_a, b=name_b), fmt.format(a=a, b=b)) for name, fmt in _DMY)


def _decide_dayfirst(
    text: pd.Series, dayfirst: bool | None, column: str, where: str
) -> bool | None:
    """Day/month order for values like 03/10/2024: given, proven by the data, or an error."""
    parts = text.str.extract(_DMY_RE)
    parts = parts.dropna()
    if parts.empty:
        return dayfirst
    if dayfirst is not None:
        return dayfirst
    first = parts[0].astype(int)
    second = parts[1].astype(int)
    day_first_proof = bool((first > 12).any())
    month_first_proof = bool((second > 12).any())
    if day_first_proof and not month_first_proof:
        return True
    if month_first_proof and not day_first_proof:
        return False
    example = str(text.loc[parts.index[0]])
    if day_first_proof and month_first_proof:
        raise SchemaError(
            f"{where}: column {column!r} mixes day-first and month-first dates (e.g. {example!r}); "
            "export the dates in one order, or split the file and pass dayfirst= for each."
        )
    raise SchemaError(
        f"{where}: dates in column {column!r} such as {example!r} could be day/month or "
        "month/day and no value proves which; pass dayfirst=True (03/10/2024 = 3 October) or "
        "dayfirst=False (= March 10)."
    )


def _localise(naive: pd.Series, tz: str, out: ParsedTimes) -> pd.Series:
    loc = naive.dt.tz_localize(tz, ambiguous="NaT", nonexistent="NaT")
    lost = loc.isna() & naive.notna()
    if lost.any():
        out.dst_resolved += out.rows(lost.index[lost.to_numpy()])
        fix = naive[lost].dt.tz_localize(
            tz, ambiguous=np.ones(int(lost.sum()), dtype=bool), nonexistent="shift_forward"
        )
        loc = loc.copy()
        loc[lost] = fix
    return loc


def _in_range(naive: pd.Series) -> pd.Series:
    """Naive times with those pandas cannot hold in nanoseconds (in any zone) as NaT."""
    if naive.empty:
        return naive
    return naive.where((naive >= _LO) & (naive <= _HI))


def _aware_in_range(aware: pd.Series) -> pd.Series:
    """Times with an offset (UTC) with those outside the nanosecond range as NaT."""
    if aware.empty:
        return aware
    lo, hi = _LO.tz_localize("UTC"), _HI.tz_localize("UTC")
    return aware.where((aware >= lo) & (aware <= hi))


_COMPACT_NAMES = frozenset(name for name, _ in _COMPACT)


def _compact_times(digits: pd.Series, n: int) -> pd.Series:
    """``YYYYMMDD[hh[mm[ss]]]`` strings of exactly ``n`` digits as naive times (else NaT)."""
    sel = digits[digits.str.len() == n]
    if sel.empty:
        return pd.Series(pd.NaT, index=digits.index, dtype="datetime64[us]")
    parts = {
        "year": sel.str.slice(0, 4),
        "month": sel.str.slice(4, 6),
        "day": sel.str.slice(6, 8),
    }
    for unit, at in (("hour", 8), ("minute", 10), ("second", 12)):
        parts[unit] = sel.str.slice(at, at + 2) if n > at else "0"
    fields = pd.DataFrame({k: pd.to_numeric(v) for k, v in parts.items()}, index=sel.index)
    plausible = (
        fields["year"].between(1900, 2261)
        & (fields["hour"] < 24)
        & (fields["minute"] < 60)
        & (fields["second"] < 60)
    )
    parsed = pd.to_datetime(fields.where(plausible, np.nan), errors="coerce")
    return parsed.reindex(digits.index)


def _parse_numbers(
    numbers: pd.Series, result: pd.Series, out: ParsedTimes, tz: str, column: str
) -> None:
    """Read the plain-number values of a time column in one unit decided on the column.

    Candidate units: compact date-times (by digit count), epoch seconds, epoch
    milliseconds, Excel serial days. The unit that most values fit wins (compact
    date-times win a tie: ``2024100809`` is a date, not epoch seconds of 2034); values
    that do not fit it stay NaT (they are dropped as unparseable by the caller). A compact
    date-time that at least half of the numbers fit wins outright (``202410080900`` among
    a few epoch milliseconds is still a column of dates).
    """
    nums = pd.to_numeric(numbers, errors="coerce").astype("float64")
    whole = numbers.str.replace(r"\.0+$", "", regex=True)
    whole = whole.where(whole.str.fullmatch(r"\d+"))
    candidates: list[tuple[str, pd.Series, bool]] = []  # (name, parsed, naive?)
    lengths = set(whole.dropna().str.len().unique().tolist())
    for name, n in _COMPACT:
        if n in lengths:
            candidates.append((name, _compact_times(whole.fillna(""), n), True))
    for name, unit, lo, hi in (
        ("epoch seconds", "s", 1e8, 9.2e9),
        ("epoch milliseconds", "ms", 1e11, 9.2e12),
    ):
        fit = nums.between(lo, hi)
        if fit.any():
            val = pd.to_datetime(nums.where(fit), unit=unit, utc=True)
            candidates.append((name, val, False))
    excel = nums.between(20_000, 80_000)
    if excel.any():
        days = nums.where(excel)
        naive = (
            pd.Timestamp("1899-12-30") + pd.to_timedelta(days * 86_400_000, unit="ms")
        ).dt.round("ms")
        candidates.append(("Excel serial date", naive, True))
    if not candidates:
        return
    fits = [out.rows(c[1].index[c[1].notna().to_numpy()]) for c in candidates]  # rows
    # a compact date-time that at least half the numbers are wins: its digit pattern
    # (valid month, day and hour in place) is far stronger evidence than a range of epochs
    n_compact = sum(1 for c in candidates if c[0] in _COMPACT_NAMES)
    best = max(range(n_compact), key=lambda i: (fits[i], -i)) if n_compact else -1
    if best < 0 or 2 * fits[best] < out.rows(numbers.index):
        best = max(range(len(candidates)), key=lambda i: (fits[i], -i))
    name, parsed, naive_unit = candidates[best]
    ok = parsed.notna()
    if naive_unit:
        naive = _in_range(parsed[ok])
        result[naive.index] = _localise(naive, tz, out)
        out.localised += out.rows(naive.index)
    else:
        result[parsed.index[ok]] = _aware_in_range(parsed[ok]).dt.tz_convert(tz)
    out.formats.append(name)
    n_bad = out.rows(numbers.index[~ok.to_numpy()])
    if n_bad:
        example = numbers[~ok].iloc[0]
        out.notes.append(
            f"column {column!r} holds numbers read as {name}; {n_bad} number(s) that are not "
            f"{name} (e.g. {example!r}) were not read in another unit and are dropped as "
            "unparseable_timestamp; fix those values in the export."
        )


def _format_loop(
    text: pd.Series,
    todo: pd.Series,
    formats: list[tuple[str, str]],
    result: pd.Series,
    out: ParsedTimes,
    tz: str,
) -> pd.Series:
    """Apply the best format (chosen on a sample) to what is left, until nothing parses."""
    while todo.any() and formats:
        pending = text[todo]
        best = _best_format(pending.iloc[:_SAMPLE], formats)
        if best < 0:  # the sample head is junk: choose on everything once
            best = _best_format(pending, formats)
            if best < 0:
                break
        name, fmt = formats.pop(best)
        parsed = _in_range(pd.to_datetime(pending, format=fmt, errors="coerce"))
        ok = parsed.notna()
        if ok.any():
            naive = parsed[ok]
            result[naive.index] = _localise(naive, tz, out)
            out.localised += out.rows(naive.index)
            out.formats.append(name)
            todo = todo & result.isna()
    return todo


def _matches(
    text: pd.Series, pattern: str, candidates: pd.Series, *, full: bool = False
) -> pd.Series:
    """Where ``pattern`` (Python ``re``) is found (``full``: matches the whole value),
    tested only on the ``candidates``.

    Python's regular expressions are exact for any text (``\\d`` matches every Unicode
    digit) but run per value; a cheap vectorised test first rules out the values that
    cannot match.
    """
    found = pd.Series(False, index=text.index)
    if candidates.any():
        sub = text[candidates]
        hit = sub.str.fullmatch(pattern) if full else sub.str.contains(pattern, regex=True)
        found[sub.index] = hit.fillna(False).to_numpy(dtype=bool)
    return found


def _may_be_number(text: pd.Series) -> pd.Series:
    """Values that may fullmatch :data:`_NUMBER_RE`: no ASCII character but digits and '.'."""
    return ~text.str.contains("[^0-9.\u0080-\U0010ffff]", regex=True, na=True).astype(bool)


def _may_have_offset(text: pd.Series) -> pd.Series:
    """Values that may end in a UTC offset (:data:`_OFFSET_RE`): ``Z``, ``+`` or ``-`` among
    the last six characters (an offset is ``Z`` or at most ``+hh:mm``)."""
    return text.str.slice(-6).str.contains(r"[Z+\-]", regex=True, na=False).astype(bool)


_DIRECTIVE_RE = re.compile(r"%.")
_TODAY_NOW = ("now", "today")  # read by pandas whatever the format
_WORDS = frozenset(w for t in _TODAY_NOW for w in (t, t.upper(), t.capitalize()))


def _no_words(text: pd.Series) -> pd.Series:
    """``now`` and ``today`` blanked out: pandas reads them as the clock time of the load
    under any format, but in an export they are no time (the row is then dropped as
    ``unparseable_timestamp``, with the word as its example)."""
    words = text.isin(_WORDS)
    return text.mask(words) if words.any() else text


def _literals(fmt: str) -> frozenset[str]:
    """Characters that every value read with the ``strptime`` format ``fmt`` contains: its
    literal characters, but whitespace (read as any whitespace) and cased letters (read
    in any case); none for ``"ISO8601"``."""
    if "%" not in fmt:
        return frozenset()
    rest = _DIRECTIVE_RE.sub("", fmt)
    return frozenset(ch for ch in rest if not ch.isspace() and ch.lower() == ch.upper())


def _best_format(values: pd.Series, formats: list[tuple[str, str]]) -> int:
    """The format that reads most ``values`` (the first of equals); -1 when none reads any.

    A format is tried only when enough values contain its literal characters (``年``,
    ``/``, ``:`` ...) to beat the best so far: the result is the same, with fewer parses.
    """
    best_n, best_i = 0, -1
    has: dict[str, np.ndarray] = {}
    for i, (_, fmt) in enumerate(formats):
        literals = _literals(fmt)
        if literals:
            if "" not in has:
                has[""] = values.isin(_TODAY_NOW).to_numpy(dtype=bool)
            fits = np.ones(len(values), dtype=bool)
            for ch in literals:
                if ch not in has:
                    found = values.str.contains(ch, regex=False, na=False)
                    has[ch] = found.to_numpy(dtype=bool)
                fits &= has[ch]
            if int((fits | has[""]).sum()) <= best_n:
                continue  # it cannot read more values than the best so far
        n_ok = int(pd.to_datetime(values, format=fmt, errors="coerce").notna().sum())
        if n_ok > best_n:
            best_n, best_i = n_ok, i
    return best_i


def parse_times(
    raw: pd.Series,
    *,
    tz: str,
    dayfirst: bool | None,
    column: str,
    where: str,
    time_format: str | None = None,
) -> ParsedTimes:
    """Parse one time column (strings, numbers or datetimes) to ``datetime64[ns, tz]``.

    ``where`` names the file for error messages. Text columns are parsed once per distinct
    value (an export repeats each minute many times) and the results spread back to the rows;
    the counts in the result are still per row. ``time_format`` (a ``strptime`` format)
    replaces detection for text values: what does not fit it stays NaT.
    """
    if time_format is not None and not pd.api.types.is_datetime64_any_dtype(raw.dtype):
        return _parse_with_format(raw, time_format, tz)
    if len(raw) >= _DISTINCT_MIN and (
        pd.api.types.is_string_dtype(raw.dtype) or pd.api.types.is_object_dtype(raw.dtype)
    ):
        codes, uniques = pd.factorize(raw)
        if len(uniques) <= len(raw) // 2:
            distinct = pd.Series(uniques, dtype=raw.dtype if len(uniques) else object)
            weights = np.bincount(codes[codes >= 0], minlength=len(uniques))
            out = _parse(
                distinct, tz=tz, dayfirst=dayfirst, column=column, where=where, weights=weights
            )
            taken = out.times.array.take(codes, allow_fill=True)
            out.times = pd.Series(taken, index=raw.index)
            out.weights = None
            return out
    return _parse(raw, tz=tz, dayfirst=dayfirst, column=column, where=where)


def _parse_with_format(raw: pd.Series, time_format: str, tz: str) -> ParsedTimes:
    """Every value read with the caller's ``strptime`` format (an offset in it is honoured)."""
    out = ParsedTimes(times=pd.Series(pd.NaT, index=raw.index, dtype=f"datetime64[ns, {tz}]"))
    text = _no_words(raw.astype("str").where(raw.notna()).str.strip())
    aware = "%z" in time_format or "%Z" in time_format
    parsed = pd.to_datetime(text, format=time_format, errors="coerce", utc=aware)
    ok = parsed.notna()
    if ok.any():
        if aware:
            out.times[ok] = parsed[ok].dt.tz_convert(tz)
        else:
            out.times[ok] = _localise(parsed[ok], tz, out)
            out.localised += int(ok.sum())
        out.formats.append(f"time_format {time_format!r}")
    out.times = out.times.astype(f"datetime64[ns, {tz}]")
    return out


_DISTINCT_MIN = 1_000  # below this, parsing every value is as cheap as finding distinct ones


def _parse(
    raw: pd.Series,
    *,
    tz: str,
    dayfirst: bool | None,
    column: str,
    where: str,
    weights: np.ndarray | None = None,
) -> ParsedTimes:
    out = ParsedTimes(
        times=pd.Series(pd.NaT, index=raw.index, dtype=f"datetime64[ns, {tz}]"), weights=weights
    )
    if raw.empty:
        return out
    if isinstance(raw.dtype, pd.DatetimeTZDtype):
        aware = _aware_in_range(raw.dt.tz_convert("UTC"))
        out.times = aware.dt.tz_convert(tz).astype(f"datetime64[ns, {tz}]")
        out.formats.append("datetime (with offset)")
        return out
    if pd.api.types.is_datetime64_dtype(raw.dtype):
        naive = _in_range(raw)
        out.times = _localise(naive, tz, out).astype(f"datetime64[ns, {tz}]")
        out.localised += out.rows(raw.index[naive.notna().to_numpy()])
        out.formats.append("datetime (naive)")
        return out
    if pd.api.types.is_numeric_dtype(raw.dtype):
        text = raw.astype("str").where(raw.notna())
    else:
        text = _no_words(raw.astype("str").where(raw.notna()).str.strip())
    result = out.times.copy()
    todo = text.notna() & (text != "")
    # plain numbers: one unit for the whole column (never a date format per value)
    is_number = todo & _matches(text, _NUMBER_RE, _may_be_number(text), full=True)
    if is_number.any():
        _parse_numbers(text[is_number], result, out, tz, column)
        todo &= ~is_number
        if not todo.any():
            out.times = result.astype(f"datetime64[ns, {tz}]")
            return out
    has_ampm = text.str.contains("上午|下午", regex=True, na=False)
    if has_ampm.any():
        text = text.copy()
        text[has_ampm] = text[has_ampm].str.replace("上午", "AM").str.replace("下午", "PM")
    has_offset = _matches(text, _OFFSET_RE, _may_have_offset(text)) & todo
    if has_offset.any():
        parsed = pd.to_datetime(text[has_offset], format="ISO8601", errors="coerce", utc=True)
        parsed = _aware_in_range(parsed)
        ok = parsed.notna()
        if ok.any():
            result[parsed.index[ok]] = parsed[ok].dt.tz_convert(tz)
            out.formats.append("ISO 8601 with offset")
        todo &= ~has_offset  # an offset value that did not parse is unparseable, not naive
    todo = _format_loop(text, todo, list(FORMATS), result, out, tz)
    if todo.any():
        # day/month order is decided only on what the unambiguous formats left over
        decided = _decide_dayfirst(text[todo], dayfirst, column, where)
        if decided is not None:
            todo = _format_loop(text, todo, list(_dmy_formats(decided)), result, out, tz)
    if todo.any():  # English month names (never taken for day/month numbers above)
        todo = _format_loop(text, todo, list(MONTH_NAME_FORMATS), result, out, tz)
    out.times = result.astype(f"datetime64[ns, {tz}]")
    return out
