"""svcmining: process mining for service-ticket event logs.

>>> import svcmining as svc
>>> log = svc.read_tickets("sample_logs/", timezone="Asia/Shanghai")  # doctest: +SKIP
>>> log.report                                                         # doctest: +SKIP

Public names are imported lazily (PEP 562), so ``import svcmining`` and the command
line stay fast; pm4py is imported only by the functions that need it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# public name -> submodule that defines it
_EXPORTS: dict[str, str] = {
    # the log contract
    "TicketLog": "eventlog",
    "as_events": "eventlog",
    "as_ticket_log": "eventlog",
    "CANONICAL_COLUMNS": "eventlog",
    # loading
    "read_tickets": "io",
    "LoadReport": "io",
    "DEFAULT_NA_VALUES": "io",
    "HEADER_SYNONYMS": "_synonyms",
    # data quality
    "check_quality": "quality",
    "open_cases": "quality",
    "QUALITY_CHECKS": "quality",
    # privacy
    "pseudonymize": "privacy",
    "PERSONAL_COLUMNS": "privacy",
    # errors
    "SvcMiningError": "exceptions",
    "SchemaError": "exceptions",
    "InvalidParameterError": "exceptions",
    "ReadError": "exceptions",
    "StrictModeError": "exceptions",
    "SOPDefinitionError": "exceptions",
    "DataQualityWarning": "exceptions",
}

__all__ = [
    "CANONICAL_COLUMNS",
    "DEFAULT_NA_VALUES",
    "HEADER_SYNONYMS",
    "PERSONAL_COLUMNS",
    "QUALITY_CHECKS",
    "DataQualityWarning",
    "InvalidParameterError",
    "LoadReport",
    "ReadError",
    "SOPDefinitionError",
    "SchemaError",
    "StrictModeError",
    "SvcMiningError",
    "TicketLog",
    "__version__",
    "as_events",
    "as_ticket_log",
    "check_quality",
    "open_cases",
    "pseudonymize",
    "read_tickets",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'svcmining' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__


if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only
    from ._synonyms import HEADER_SYNONYMS
    from .eventlog import CANONICAL_COLUMNS, TicketLog, as_events, as_ticket_log
    from .exceptions import (
        DataQualityWarning,
        InvalidParameterError,
        ReadError,
        SchemaError,
        SOPDefinitionError,
        StrictModeError,
        SvcMiningError,
    )
    from .io import DEFAULT_NA_VALUES, LoadReport, read_tickets
    from .privacy import PERSONAL_COLUMNS, pseudonymize
    from .quality import QUALITY_CHECKS, check_quality, open_cases
