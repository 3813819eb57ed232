"""Small shared checks for option values, with scikit-learn style messages."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .exceptions import InvalidParameterError

__all__ = ["check_choice", "check_fraction", "check_positive_int"]


def _fmt_choices(choices: Iterable[Any]) -> str:
    return "{" + ", ".join(repr(c) for c in choices) + "}"


def check_choice(func_name: str, param: str, value: Any, choices: Iterable[Any]) -> None:
    """Raise :class:`InvalidParameterError` unless ``value`` is one of ``choices``.

    Examples
    --------
    >>> check_choice("plot_process_map", "metric", "count", ("count", "cases"))
    >>> check_choice("plot_process_map", "metric", "foo", ("count", "cases"))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    svcmining.exceptions.InvalidParameterError: The 'metric' parameter of plot_process_map ...
    """
    choices = tuple(choices)
    try:
        ok = value in choices
    except TypeError:  # unhashable / incomparable value
        ok = False
    if not ok:
        raise InvalidParameterError(
            f"The {param!r} parameter of {func_name} must be one of {_fmt_choices(choices)}. "
            f"Got {value!r} instead."
        )


def check_fraction(
    func_name: str, param: str, value: Any, *, low_open: bool = False, high_open: bool = False
) -> float:
    """Check that ``value`` is a number in [0, 1] (bounds optionally open); return it as float."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidParameterError(
            f"The {param!r} parameter of {func_name} must be a number between 0 and 1. "
            f"Got {value!r} instead."
        )
    v = float(value)
    lo_bad = v <= 0 if low_open else v < 0
    hi_bad = v >= 1 if high_open else v > 1
    if lo_bad or hi_bad or v != v:
        lo = "(0" if low_open else "[0"
        hi = "1)" if high_open else "1]"
        raise InvalidParameterError(
            f"The {param!r} parameter of {func_name} must be in {lo}, {hi}. Got {value!r} instead."
        )
    return v


def check_positive_int(func_name: str, param: str, value: Any) -> int:
    """Check that ``value`` is an int >= 1 (not a bool); return it."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidParameterError(
            f"The {param!r} parameter of {func_name} must be an integer >= 1. "
            f"Got {value!r} instead."
        )
    return int(value)
