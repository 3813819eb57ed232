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

from ._version import __version__

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
    # export
    "read_export_metadata": "export",
    # data quality
    "check_quality": "quality",
    "open_cases": "quality",
    "QUALITY_CHECKS": "quality",
    "CounterCheck": "counters",
    "check_counters": "counters",
    # privacy
    "pseudonymize": "privacy",
    "PERSONAL_COLUMNS": "privacy",
    # calendars
    "Calendar": "calendars",
    "duration_hours": "calendars",
    "parse_duration": "calendars",
    # discovery
    "LogComparison": "discovery",
    "ProcessGraph": "discovery",
    "ProcessModel": "discovery",
    "compare_logs": "discovery",
    "compare_periods": "discovery",
    "discover_dfg": "discovery",
    "discover_model": "discovery",
    "filter_cases": "_filtercalls",
    "filter_time": "_filtercalls",
    "filter_variants": "_filtercalls",
    "variants": "discovery",
    # filters
    "FilterStack": "filters",
    "apply_filters": "filters",
    "TimeFrame": "filters",
    "Variants": "filters",
    "Attribute": "filters",
    "Endpoints": "filters",
    "Follows": "filters",
    "Duration": "filters",
    "Between": "filters",
    "Rework": "filters",
    "Deviation": "filters",
    "SLABreach": "filters",
    "Handoff": "filters",
    # plots
    "ProcessMap": "plots",
    "plot_difference_map": "plots",
    "plot_periods": "plots",
    "plot_process_map": "plots",
    # rework
    "REWORK_KINDS": "rework",
    "ReworkResult": "rework",
    "find_rework": "rework",
    "filter_rework": "_filtercalls",
    # handoffs
    "HandoffResult": "handoffs",
    "handoff_delays": "handoffs",
    # sop
    "SOP": "sop",
    "SLA": "sop",
    "Step": "sop",
    "load_sop": "sop",
    "sop_from_dict": "sop",
    # conformance
    "ConformanceResult": "conformance",
    "SOPComparison": "conformance",
    "check_sop": "conformance",
    "compare_with_sop": "conformance",
    # kpis
    "FCRDefinition": "kpis",
    "PainPoints": "kpis",
    "ServiceKPIs": "kpis",
    "StepBenchmark": "kpis",
    "case_outcomes": "kpis",
    "waiting_times": "kpis",
    "pain_points": "kpis",
    "service_kpis": "kpis",
    # drilldown
    "DrillDown": "drilldown",
    "drill_down": "drilldown",
    # duplicates
    "find_duplicate_tickets": "duplicates",
    "merge_duplicates": "duplicates",
    # report
    "Report": "report",
    "build_report": "report",
    "render_report": "report",
    "ReportSection": "report",
    "REPORT_SECTIONS": "report",
    # datasets
    "GeneratedTickets": "datasets",
    "generate_tickets": "datasets",
    "write_sample_exports": "datasets",
    # dask
    "DaskTicketLog": "distributed",
    "as_dask_log": "distributed",
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
    "REPORT_SECTIONS",
    "REWORK_KINDS",
    "SLA",
    "SOP",
    "Attribute",
    "Between",
    "Calendar",
    "ConformanceResult",
    "CounterCheck",
    "DaskTicketLog",
    "DataQualityWarning",
    "Deviation",
    "DrillDown",
    "Duration",
    "Endpoints",
    "FCRDefinition",
    "FilterStack",
    "Follows",
    "GeneratedTickets",
    "Handoff",
    "HandoffResult",
    "InvalidParameterError",
    "LoadReport",
    "LogComparison",
    "PainPoints",
    "ProcessGraph",
    "ProcessMap",
    "ProcessModel",
    "ReadError",
    "Report",
    "ReportSection",
    "Rework",
    "ReworkResult",
    "SLABreach",
    "SOPComparison",
    "SOPDefinitionError",
    "SchemaError",
    "ServiceKPIs",
    "Step",
    "StepBenchmark",
    "StrictModeError",
    "SvcMiningError",
    "TicketLog",
    "TimeFrame",
    "Variants",
    "__version__",
    "apply_filters",
    "as_dask_log",
    "as_events",
    "as_ticket_log",
    "augment_rework",
    "build_report",
    "case_outcomes",
    "check_counters",
    "check_quality",
    "check_sop",
    "compare_logs",
    "compare_periods",
    "compare_with_sop",
    "discover_dfg",
    "discover_model",
    "drill_down",
    "duration_hours",
    "filter_cases",
    "filter_rework",
    "filter_time",
    "filter_variants",
    "find_duplicate_tickets",
    "find_rework",
    "generate_tickets",
    "handoff_delays",
    "load_sop",
    "merge_duplicates",
    "open_cases",
    "pain_points",
    "parse_duration",
    "plot_difference_map",
    "plot_periods",
    "plot_process_map",
    "pseudonymize",
    "read_export_metadata",
    "read_tickets",
    "render_report",
    "service_kpis",
    "sop_from_dict",
    "variants",
    "waiting_times",
    "write_sample_exports",
]


def __getattr__(name: str) -> Any:
    if name == "augment_rework":  # rework.augment, under a name that says what it joins
        from .rework import augment

        globals()[name] = augment
        return augment
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'svcmining' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__


if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only
    from ._filtercalls import filter_cases, filter_rework, filter_time, filter_variants
    from ._synonyms import HEADER_SYNONYMS
    from .calendars import Calendar, duration_hours, parse_duration
    from .conformance import ConformanceResult, SOPComparison, check_sop, compare_with_sop
    from .counters import CounterCheck, check_counters
    from .datasets import GeneratedTickets, generate_tickets, write_sample_exports
    from .discovery import (
        LogComparison,
        ProcessGraph,
        ProcessModel,
        compare_logs,
        compare_periods,
        discover_dfg,
        discover_model,
        variants,
    )
    from .distributed import DaskTicketLog, as_dask_log
    from .drilldown import DrillDown, drill_down
    from .duplicates import find_duplicate_tickets, merge_duplicates
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
    from .export import read_export_metadata
    from .filters import (
        Attribute,
        Between,
        Deviation,
        Duration,
        Endpoints,
        FilterStack,
        Follows,
        Handoff,
        Rework,
        SLABreach,
        TimeFrame,
        Variants,
        apply_filters,
    )
    from .handoffs import HandoffResult, handoff_delays
    from .io import DEFAULT_NA_VALUES, LoadReport, read_tickets
    from .kpis import (
        FCRDefinition,
        PainPoints,
        ServiceKPIs,
        StepBenchmark,
        case_outcomes,
        pain_points,
        service_kpis,
        waiting_times,
    )
    from .plots import ProcessMap, plot_difference_map, plot_periods, plot_process_map
    from .privacy import PERSONAL_COLUMNS, pseudonymize
    from .quality import QUALITY_CHECKS, check_quality, open_cases
    from .report import REPORT_SECTIONS, Report, ReportSection, build_report, render_report
    from .rework import REWORK_KINDS, ReworkResult, find_rework
    from .rework import augment as augment_rework
    from .sop import SLA, SOP, Step, load_sop, sop_from_dict
