"""Every event-level analysis is written once, as a *context*, a *kernel* and a *combine*.

An analysis (discovery's :class:`~svcmining.discovery.DFGAnalysis`, rework's
:class:`~svcmining.rework.ReworkAnalysis`, ...) is a small frozen, picklable object holding
its options. It answers three questions:

``context()``
    Which whole-log facts it needs before it can look at one ticket: the activity stages
    (median relative position of each activity), the export cutoff, the receiver expected
    by a pending handoff, the group vocabulary ... A context is itself an analysis (or
    ``None`` when nothing is needed): its kernel reads whole tickets and its combine turns
    the additive pieces into the facts. So a context that needs *another* whole-log fact
    first (the expected receivers need the closings, which need the stages) names its own
    context, and the chain is run from the innermost out.
``kernel(part, ctx)``
    Reads a :class:`~svcmining.eventlog.TicketLog` of *whole tickets* (the log, or one
    partition of it) and the context, and returns a partial result: the per-ticket rows
    of its tickets and additive tables (counts, sums, the raw values behind exact
    quantiles, where a label or pair first occurs in the part). A kernel never looks
    outside its part, so it can run on any worker.
``combine(parts, ctx)``
    Receives the partial results *in log order* (the parts hold consecutive tickets),
    adds the tables, recomputes ratios and quantiles from the added counts and values,
    and builds the frozen public result.

The pandas function is the one-part case: ``run(analysis, [log])`` computes the context
from the one part, runs the kernel once and combines the one partial result. The Dask
driver (:func:`svcmining.distributed.run`) runs the *same* kernels and combines over the
case partitions of a ``DaskTicketLog``; any other split of a log at ticket boundaries is
:func:`run` with several parts. Because pandas and Dask share every line that computes a
number, they cannot drift apart; ``tests/test_partition_invariance.py`` checks it with
random partitions of random logs.

Worked example: the number of tickets and the median events per ticket.

>>> from dataclasses import dataclass
>>> import numpy as np, pandas as pd
>>> from svcmining.eventlog import as_ticket_log
>>> @dataclass(frozen=True)
... class TicketSizes:
...     def context(self):                  # no whole-log fact needed
...         return None
...     def kernel(self, part, ctx):        # per-ticket rows of this part: events per ticket
...         codes, starts = part.case_index()
...         return np.diff(np.append(starts, len(codes)))
...     def combine(self, parts, ctx):      # the values behind the exact median, added up
...         sizes = np.concatenate(parts)
...         return len(sizes), float(np.median(sizes))
>>> ts = pd.date_range("2024-10-08", periods=5, freq="h", tz="Asia/Shanghai")
>>> log = as_ticket_log(pd.DataFrame({"case_id": ["1", "1", "2", "3", "3"],
...                                   "activity": list("abaab"), "timestamp": ts}))
>>> run(TicketSizes(), [log])
(3, 2.0)
>>> run(TicketSizes(), split_by_case(log, 2)) == run(TicketSizes(), [log])
True

A median is not additive, so the kernel sends the values behind it; a count would be
sent as a count. A fact that joins tickets (a customer's repeat contact is another
ticket of theirs, maybe in another part) is decided in the combine, which sees every
ticket's rows in log order (:class:`~svcmining.kpis.KPIAnalysis`); the results of other
analyses a composite consumes (rework, handoffs, the SOP check) come in its context, one
row per ticket in log order, and are taken by ticket code. A context would be another
such object: for example one whose kernel returns the last timestamp of its part and
whose combine takes the maximum (the cutoff).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from typing import Any, Protocol, TypeVar

import numpy as np

from ._time import CutoffAnalysis
from .eventlog import TicketLog

__all__ = ["Analysis", "CutoffAnalysis", "Mapper", "run", "run_with", "split_by_case"]

C = TypeVar("C")
P = TypeVar("P")
R = TypeVar("R", covariant=True)


class Analysis(Protocol[R]):
    """What the drivers need of an analysis (see the module docstring)."""

    def context(self) -> Analysis[Any] | None:
        """The analysis whose result is this one's context, or ``None``."""
        ...

    def kernel(self, part: TicketLog, ctx: Any) -> Any:
        """The partial result of whole tickets ``part``, given the context."""
        ...

    def combine(self, parts: Sequence[Any], ctx: Any) -> R:
        """The result from the partial results of consecutive parts, in log order."""
        ...


#: ``mapper(func, arg)`` returns ``[func(part, arg) for part in <the parts>]``, in order.
Mapper = Callable[[Callable[[TicketLog, Any], Any], Any], list[Any]]


def run_with(analysis: Analysis[R], mapper: Mapper) -> R:
    """Run ``analysis`` with ``mapper`` applying kernels to the parts (one driver for all).

    The context chain is run first (innermost context first); each level maps its kernel
    over the parts and combines the partial results in order.
    """
    inner = analysis.context()
    ctx = None if inner is None else run_with(inner, mapper)
    return analysis.combine(mapper(analysis.kernel, ctx), ctx)


def run(analysis: Analysis[R], parts: Sequence[TicketLog]) -> R:
    """Run ``analysis`` over in-memory parts of whole tickets (``[log]`` for pandas)."""

    def mapper(func: Callable[[TicketLog, Any], Any], arg: Any) -> list[Any]:
        return [func(p, arg) for p in parts]

    return run_with(analysis, mapper)


def split_by_case(log: TicketLog, n: int) -> list[TicketLog]:
    """Cut ``log`` into at most ``n`` parts of about equal events at ticket boundaries."""
    events = log.events
    size = len(events)
    if size == 0 or n <= 1:
        return [log]
    starts = log.case_index()[1]
    want = np.linspace(0, size, n + 1)[1:-1]
    cuts = np.unique(starts[np.minimum(np.searchsorted(starts, want), len(starts) - 1)])
    bounds = np.r_[0, cuts[(cuts > 0) & (cuts < size)], size]
    return [
        log.with_events(events.iloc[a:b].reset_index(drop=True))
        for a, b in itertools.pairwise(bounds)
    ]
