"""The filters' base class, argument checks and YAML spec reader (:mod:`svcmining.filters`)."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from . import _filterrules as rules
from ._validation import check_choice
from .calendars import Calendar
from .eventlog import LogLike, TicketLog, as_ticket_log
from .exceptions import InvalidParameterError
from .sop import as_sop

__all__ = [
    "TOP_KEYS",
    "Filter",
    "calendar_of",
    "flag",
    "hours",
    "in_zone",
    "kinds",
    "labels",
    "like",
    "parse_spec",
    "plain",
    "time_text",
    "value_codes",
    "when",
]

TOP_KEYS = ("filters", "calendar", "sop")


@dataclass
class ApplyContext:
    """What the filters of one application share: the SOP and results the caller already
    has (``rework`` for :func:`svcmining.filter_rework`)."""

    sop: Any = None
    rework: Any = None


def apply_in_order(
    log: LogLike, filters: Sequence[Filter], *, sop: Any = None, rework: Any = None
) -> TicketLog:
    """``filters`` applied in order to ``log`` (each to the result of the one before);
    ``sop`` (an SOP or a path) serves the filters that need one, ``rework`` (a
    ReworkResult of ``log``) a first filter of rework."""
    tlog = as_ticket_log(log)
    ctx = ApplyContext(sop=as_sop(sop, func="apply_filters"), rework=rework)
    for flt in filters:
        tlog = rules.apply_one(tlog, flt, ctx)
        ctx.rework = None  # computed on the input log: of no use after a filter
    return tlog


class Filter:
    """Base of every filter: :meth:`apply` a filter alone, or put several in a
    :class:`FilterStack`. Subclasses are frozen dataclasses; ``key`` is their YAML name."""

    key: ClassVar[str] = ""

    def apply(self, log: LogLike, *, sop: Any = None) -> TicketLog:
        """This filter applied to ``log`` (a new :class:`TicketLog`; one row added to
        its ``filters``); ``sop`` serves the filters that need an SOP."""
        return apply_in_order(log, (self,), sop=sop)

    def _keep(self, log: TicketLog, ctx: ApplyContext) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError

    def _cases(self, log: TicketLog, case_ok: np.ndarray) -> np.ndarray:
        """Per event: keep it, from a per-ticket selection (reversed when ``keep=False``)."""
        codes = log.case_index()[0]
        sel = np.asarray(case_ok, dtype=bool)
        if not getattr(self, "keep", True):
            sel = ~sel
        return sel[codes] if len(codes) else np.zeros(0, dtype=bool)

    def to_dict(self) -> dict[str, Any]:
        """``{key: {parameter: value}}`` for the YAML file (defaults left out)."""
        out: dict[str, Any] = {}
        for f in fields(self):  # type: ignore[arg-type]
            value = getattr(self, f.name)
            if value == f.default or (value == () and f.default is None):
                continue
            if f.name == "calendar":
                value = value.to_spec()
            elif f.name == "sop":
                value = os.fspath(value)
            out[f.name] = plain(value)
        return {self.key: out}

    def __repr__(self) -> str:
        parts = []
        for f in fields(self):  # type: ignore[arg-type]
            value = getattr(self, f.name)
            if value == f.default:
                continue
            if f.name == "calendar":
                parts.append("calendar=business hours")
            elif isinstance(value, pd.Timestamp):
                parts.append(f"{f.name}='{time_text(value)}'")
            else:
                parts.append(f"{f.name}={value!r}")
        return f"{type(self).__name__}({', '.join(parts)})"


def plain(value: Any) -> Any:
    """``value`` as plain YAML data: lists for tuples, text for times, Python numbers."""
    if isinstance(value, tuple | list):
        return [plain(v) for v in value]
    if isinstance(value, pd.Timestamp):
        return time_text(value)
    if isinstance(value, np.generic):
        return value.item()
    return value


def time_text(t: pd.Timestamp) -> str:
    """A time as ISO text: the date alone at midnight of a naive time."""
    if t.tzinfo is None and t == t.normalize():
        return t.strftime("%Y-%m-%d")
    return t.isoformat(sep=" ")


def labels(cls: str, name: str, value: Any, *, allow_none: bool = False) -> tuple[str, ...]:
    """One label or a list of labels as a tuple of str."""
    if value is None and allow_none:
        return ()
    if isinstance(value, str):
        return (value,)
    if (
        isinstance(value, Sequence | set | frozenset)
        and all(isinstance(v, str) for v in value)
        and (value or allow_none)
    ):
        return tuple(value)
    raise InvalidParameterError(
        f"The {name!r} parameter of {cls} must be a label or a non-empty list of labels. "
        f"Got {value!r} instead."
    )


def hours(cls: str, name: str, value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
        raise InvalidParameterError(
            f"The {name!r} parameter of {cls} must be a number of hours or None. "
            f"Got {value!r} instead."
        )
    return float(value)


def flag(cls: str, name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise InvalidParameterError(
            f"The {name!r} parameter of {cls} must be True or False. Got {value!r} instead."
        )
    return value


def calendar_of(cls: str, value: Any) -> Calendar | None:

    if value is None or isinstance(value, Calendar):
        return value
    if value == "china_2024":
        return Calendar.china_2024()
    if isinstance(value, Mapping):
        return Calendar.from_spec(value)
    raise InvalidParameterError(
        f"The 'calendar' parameter of {cls} must be a Calendar, a calendar spec (mapping), "
        f"'china_2024' or, in a filter file, 'sop' or a calendar YAML file. Got {value!r} instead."
    )


def when(cls: str, name: str, value: Any) -> pd.Timestamp | None:
    if value is None:
        return None
    try:
        t = pd.Timestamp(value)
    except (TypeError, ValueError) as exc:
        raise InvalidParameterError(
            f"The {name!r} parameter of {cls} must be a date/time (e.g. '2024-10-01' or a "
            f"pandas Timestamp) or None. Got {value!r} instead."
        ) from exc
    return None if t is pd.NaT else t


def in_zone(t: pd.Timestamp | None, tz: Any) -> pd.Timestamp | None:
    if t is None:
        return None
    return t.tz_localize(tz) if t.tzinfo is None else t.tz_convert(tz)


def like(col: pd.Series, value: Any) -> Any:
    """``value`` in the column's kind: times in the log's zone, numbers for numbers."""
    if value is None:
        return None
    if isinstance(col.dtype, pd.DatetimeTZDtype):
        t = when("Attribute", "value", value)
        return in_zone(t, col.dt.tz)
    if pd.api.types.is_numeric_dtype(col.dtype) and isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return value
    return value


def value_codes(events: pd.DataFrame, column: str | None, cls: str) -> np.ndarray | None:
    """Integer codes of ``column`` (-1 missing), or None when no column is named."""
    if column is None:
        return None
    if column not in events.columns:
        raise InvalidParameterError(
            f"{cls} compares column {column!r}, which the log does not have. "
            f"Available columns: {', '.join(map(str, events.columns))}."
        )
    return np.asarray(pd.factorize(events[column])[0], dtype=np.int64)


def kinds(cls: str, name: str, value: Any, choices: Sequence[str]) -> tuple[str, ...]:
    out = labels(cls, name, value, allow_none=True)
    for k in out:
        check_choice(cls, name, k, choices)
    return out


def parse_spec(
    spec: Any, calendar: Any, source: str, base: Path | None, registry: Mapping[str, Any]
) -> tuple[list[Any], str | None]:
    """The filters and the SOP path of a stack spec (see :class:`svcmining.FilterStack`)."""
    if spec is None:
        spec = {"filters": []}
    if isinstance(spec, Sequence) and not isinstance(spec, str):
        spec = {"filters": spec}
    if not isinstance(spec, Mapping):
        raise InvalidParameterError(
            f"{source}: a filter stack must be a mapping with 'filters:' (a list) or a list of "
            f"filters. Got {type(spec).__name__} instead."
        )
    unknown = [k for k in spec if k not in TOP_KEYS]
    if unknown:
        raise InvalidParameterError(
            f"{source}: unknown key {unknown[0]!r}; valid keys: {{{', '.join(TOP_KEYS)}}}."
        )
    sop = spec.get("sop")
    if sop is not None:
        if not isinstance(sop, str):
            raise InvalidParameterError(f"{source}: 'sop' must be a file path. Got {sop!r}.")
        sop = _resolve(sop, base)
    cal = _file_calendar(spec.get("calendar", calendar), sop, source, base)
    items = spec.get("filters") or []
    if isinstance(items, str) or not isinstance(items, Sequence):
        raise InvalidParameterError(
            f"{source}: 'filters' must be a list of filters. Got {items!r} instead."
        )
    parsed = [
        _parse_item(item, i, (cal, sop), source, base, registry)
        for i, item in enumerate(items, start=1)
    ]
    return parsed, sop


def _file_calendar(value: Any, sop: str | None, source: str, base: Path | None) -> Any:
    """A calendar named in a filter file: ``sop`` (the SOP's), a calendar YAML file (its
    mapping, optionally under ``calendar:``), ``china_2024`` or a spec mapping."""
    if value == "sop":
        from .sop import load_sop

        cal = load_sop(sop).calendar if sop is not None else None
        if cal is None:
            raise InvalidParameterError(
                f"{source}: 'calendar: sop' needs 'sop:' naming an SOP file with a calendar."
            )
        return cal
    if isinstance(value, str) and value.lower().endswith((".yaml", ".yml")):
        from ._textfile import read_text
        from ._yaml import load_yaml

        path = Path(_resolve(value, base))
        if not path.is_file():
            raise InvalidParameterError(f"{source}: calendar file {value!r} does not exist.")
        data, _ = load_yaml(
            read_text(path, "calendar file"),
            os.fspath(path),
            what="calendar file",
            error=InvalidParameterError,
        )
        if isinstance(data, Mapping) and isinstance(data.get("calendar"), Mapping):
            data = data["calendar"]
        value = data
    return calendar_of("FilterStack", value)


def _resolve(path: str, base: Path | None) -> str:
    if base is None or Path(path).is_absolute():
        return path
    return os.fspath(base / path)


def _parse_item(
    item: Any,
    i: int,
    shared: tuple[Any, str | None],
    source: str,
    base: Path | None,
    registry: Mapping[str, Any],
) -> Any:
    cal, stack_sop = shared  # the file's calendar and SOP
    if any(isinstance(item, c) for c in registry.values()):
        return item
    names = "{" + ", ".join(registry) + "}"
    if not isinstance(item, Mapping) or len(item) != 1:
        raise InvalidParameterError(
            f"{source}: filter {i} must be one mapping {{name: {{parameter: value}}}} with a "
            f"name of {names}. Got {item!r} instead."
        )
    ((name, params),) = item.items()
    if name not in registry:
        raise InvalidParameterError(
            f"{source}: filter {i} has unknown name {name!r}; valid names: {names}."
        )
    cls = registry[name]
    params = {} if params is None else params
    if not isinstance(params, Mapping):
        raise InvalidParameterError(
            f"{source}: filter {i} ({name}) needs a mapping of parameters. Got {params!r}."
        )
    valid = [f.name for f in fields(cls)]
    has_cal = "calendar" in valid
    allowed = [*valid, "business_hours"] if has_cal else valid
    kwargs: dict[str, Any] = {}
    for k, v in params.items():
        if k not in allowed:
            raise InvalidParameterError(
                f"{source}: filter {i} ({name}) has unknown key {k!r}; valid keys: "
                f"{{{', '.join(allowed)}}}."
            )
        kwargs[k] = v
    if isinstance(kwargs.get("sop"), str):
        kwargs["sop"] = _resolve(kwargs["sop"], base)
    if isinstance(kwargs.get("calendar"), str):
        own = kwargs["calendar"]
        kwargs["calendar"] = _file_calendar(own, kwargs.get("sop") or stack_sop, source, base)
    if kwargs.pop("business_hours", False) is True and kwargs.get("calendar") is None:
        if cal is None:
            raise InvalidParameterError(
                f"{source}: filter {i} ({name}) asks for business hours but no calendar is "
                "given: add 'calendar:' (sop, a calendar YAML file, a spec or china_2024) to "
                "the file or the filter, or pass calendar=... ."
            )
        kwargs["calendar"] = cal
    try:
        return cls(**kwargs)
    except TypeError as exc:
        if isinstance(exc, InvalidParameterError):
            raise InvalidParameterError(f"{source}: filter {i} ({name}): {exc}") from None
        raise InvalidParameterError(
            f"{source}: filter {i} ({name}) is missing a required key ({exc}); valid keys: "
            f"{{{', '.join(allowed)}}}."
        ) from None
    except (ValueError, InvalidParameterError) as exc:
        raise InvalidParameterError(f"{source}: filter {i} ({name}): {exc}") from None
