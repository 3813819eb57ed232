"""Every error and warning svcmining raises, in one place.

Each error derives from :class:`SvcMiningError` *and* from the builtin it refines,
so ``except ValueError`` keeps working for callers who do not know svcmining.
Messages say what was found, what was expected and what to do, naming the file,
row/line and column where known.
"""

from __future__ import annotations

__all__ = [
    "DataQualityWarning",
    "InvalidParameterError",
    "ReadError",
    "SOPDefinitionError",
    "SchemaError",
    "StrictModeError",
    "SvcMiningError",
]


class SvcMiningError(Exception):
    """Base class of every error raised by svcmining."""


class InvalidParameterError(SvcMiningError, ValueError, TypeError):
    """An argument has a value or type the function does not accept."""


class SchemaError(SvcMiningError, ValueError):
    """The columns of an export or a DataFrame do not fit the canonical log contract."""


class ReadError(SvcMiningError, OSError):
    """An export cannot be read at all (missing, empty, undecodable, wrong sheet, ...)."""


class StrictModeError(SvcMiningError, ValueError):
    """``strict=True`` was asked for and at least one row would have been dropped."""


class SOPDefinitionError(SvcMiningError, ValueError):
    """An SOP file (YAML or BPMN) is not a valid SOP."""


class DataQualityWarning(UserWarning):
    """A data problem that is not fatal; the message gives a count and a few examples."""
