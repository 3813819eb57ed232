"""Timestamp parsing for the mapped time columns only (never for any other column).

Each value is parsed with an explicit format from :data:`FORMATS` (chosen on a sample,
then applied vectorised to the whole column, the leftovers tried with the next
format), or as a number: Excel serial days, epoch seconds or epoch milliseconds.
Day/month order in ``03/10/2024`` is never guessed: it is read from the data when a
value proves it (a first field above 12), else ``dayfirst=`` must be given.
Dates with English month names (``04/Nov/24 9:12 AM`` as Jira writes them,
``04-Nov-2024 09:12``, ``Nov 4, 2024 9:12 PM``, ``4 November 2024``; case-insensitive)
are read with :data:`MONTH_NAME_FORMATS`. A ``time_format`` given by the caller (a
``strptime`` format) replaces all detection for the column.
Naive values are localised to the load's time zone; values with an offset are
converted to it. What cannot be parsed stays NaT and is reported by the caller.
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
    ("YYYYMMDDhhmmss", "%Y%m%d%H%M%S"),
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
_OFFSET_RE = r"(?:Z|[+-]\d{2}(?::?\d{2})?)$"
_NUMBER_RE = r"^\d+(?:\.\d+)?$"
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
        parsed = pd.to_datetime(pending, format=fmt, errors="coerce")
        ok = parsed.notna()
        if ok.any():
            naive = parsed[ok]
            result[naive.index] = _localise(naive, tz, out)
            out.localised += out.rows(naive.index)
            out.formats.append(name)
            todo = todo & result.isna()
    return todo


def _best_format(values: pd.Series, formats: list[tuple[str, str]]) -> int:
    best_n, best_i = 0, -1
    for i, (_, fmt) in enumerate(formats):
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
    text = raw.astype("str").where(raw.notna()).str.strip()
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
        out.times = raw.dt.tz_convert(tz).astype(f"datetime64[ns, {tz}]")
        out.formats.append("datetime (with offset)")
        return out
    if pd.api.types.is_datetime64_dtype(raw.dtype):
        out.times = _localise(raw, tz, out).astype(f"datetime64[ns, {tz}]")
        out.localised += out.rows(raw.index[raw.notna().to_numpy()])
        out.formats.append("datetime (naive)")
        return out
    if pd.api.types.is_numeric_dtype(raw.dtype):
        text = raw.astype("str").where(raw.notna())
    else:
        text = raw.astype("str").where(raw.notna()).str.strip()
    result = out.times.copy()
    todo = text.notna() & (text != "")
    # numbers: Excel serial days or epoch seconds/milliseconds (whole column numeric only)
    head = text[todo].iloc[:_SAMPLE]
    if (
        len(head)
        and bool(head.str.fullmatch(_NUMBER_RE).all())
        and bool(text[todo].str.fullmatch(_NUMBER_RE).all())
    ):
        nums = pd.to_numeric(text[todo], errors="coerce")
        digits14 = text[todo].str.fullmatch(r"\d{14}")
        if not digits14.all():
            lo, hi = float(nums.min()), float(nums.max())
            if lo >= 20_000 and hi <= 80_000:
                naive = pd.Timestamp("1899-12-30") + pd.to_timedelta(nums * 86_400_000, unit="ms")
                naive = naive.dt.round("ms")
                result[todo] = _localise(naive, tz, out)
                out.localised += out.rows(naive.index)
                out.formats.append("Excel serial date")
                out.times = result
                return out
            if lo >= 1e8 and hi < 1e11:
                unit = "s"
            elif lo >= 1e11 and hi < 1e14:
                unit = "ms"
            else:
                unit = ""
            if unit:
                result[todo] = pd.to_datetime(nums, unit=unit, utc=True).dt.tz_convert(tz)
                out.formats.append(f"epoch {'seconds' if unit == 's' else 'milliseconds'}")
                out.times = result
                return out
    has_ampm = text.str.contains("上午|下午", regex=True, na=False)
    if has_ampm.any():
        text = text.copy()
        text[has_ampm] = text[has_ampm].str.replace("上午", "AM").str.replace("下午", "PM")
    has_offset = text.str.contains(_OFFSET_RE, regex=True, na=False) & todo
    if has_offset.any():
        parsed = pd.to_datetime(text[has_offset], format="ISO8601", errors="coerce", utc=True)
        ok = parsed.notna()
        if ok.any():
            result[parsed.index[ok]] = parsed[ok].dt.tz_convert(tz)
            out.formats.append("ISO 8601 with offset")
        todo &= result.isna()
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
