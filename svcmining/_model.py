"""Process models discovered with pm4py (imported lazily, only when a model is discovered):
:func:`discover_model` and :class:`ProcessModel`, re-exported by :mod:`svcmining.discovery`.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import pandas as pd

from ._repr import names
from ._validation import check_choice, check_fraction
from .eventlog import (
    LogLike,
    as_events,
)
from .exceptions import InvalidParameterError

if TYPE_CHECKING:
    pass


def to_pm4py(events: pd.DataFrame) -> pd.DataFrame:
    """The minimal pm4py-named copy of the log (boundary conversion; never format_dataframe)."""
    cols = {
        "case_id": "case:concept:name",
        "activity": "concept:name",
        "timestamp": "time:timestamp",
    }
    if "resource" in events.columns:
        cols["resource"] = "org:resource"
    out = events[list(cols)].rename(columns=cols)
    for c in ("case:concept:name", "concept:name", "org:resource"):
        if c in out.columns:
            out[c] = out[c].astype(object)
    return out


@dataclass(frozen=True, eq=False)
class ProcessModel:
    """A discovered process model: a Petri net with markings and its BPMN diagram.

    Attributes
    ----------
    net, initial_marking, final_marking : pm4py objects
        The accepting Petri net.
    bpmn : pm4py BPMN object
        The same model as BPMN.
    algorithm : str
        ``"inductive"`` or ``"heuristics"``.
    noise : float
        The noise threshold used.
    """

    net: Any
    initial_marking: Any
    final_marking: Any
    bpmn: Any
    algorithm: str
    noise: float

    def to_frame(self) -> pd.DataFrame:
        """Transitions of the net: ``transition``, ``activity`` (None for silent ones)."""
        rows = sorted(((t.name, t.label) for t in self.net.transitions), key=lambda r: str(r[0]))
        return pd.DataFrame(rows, columns=["transition", "activity"])

    def save_pnml(self, path: str | Path) -> Path:
        """Write the Petri net (with markings) as PNML; returns the path."""
        import pm4py

        p = Path(path)
        pm4py.write_pnml(self.net, self.initial_marking, self.final_marking, str(p))
        return p

    def save_bpmn(self, path: str | Path) -> Path:
        """Write the BPMN diagram (``.bpmn`` XML, laid out without Graphviz); returns the path."""
        from ._bpmn import write_bpmn

        return write_bpmn(self.bpmn, path)

    def __repr__(self) -> str:
        silent = sum(t.label is None for t in self.net.transitions)
        return (
            f"ProcessModel({self.algorithm}, noise={self.noise}: {len(self.net.places)} places, "
            f"{len(self.net.transitions)} transitions ({silent} silent), "
            f"{len(self.net.arcs)} arcs)"
        )

    def _repr_html_(self) -> str:
        visible = sorted({str(t.label) for t in self.net.transitions if t.label is not None})
        silent = sum(t.label is None for t in self.net.transitions)
        return (
            f"<p><b>ProcessModel</b> ({html.escape(self.algorithm)}, noise={self.noise}): "
            f"{len(self.net.places)} places, {len(self.net.transitions)} transitions "
            f"({silent} silent), {len(self.net.arcs)} arcs</p>"
            f"<p>Activities ({len(visible)}): {html.escape(names(visible, limit=30))}</p>"
        )


def discover_model(
    log: LogLike,
    *,
    algorithm: Literal["inductive", "heuristics"] = "inductive",
    noise: float = 0.2,
) -> ProcessModel:
    """Discover a process model (Petri net + BPMN) with pm4py.

    Parameters
    ----------
    log : TicketLog or pandas.DataFrame
        The event log.
    algorithm : {"inductive", "heuristics"}
        Inductive miner (sound, block-structured; ``noise`` is its noise threshold) or
        heuristics miner (``dependency_threshold = 1 - noise``).
    noise : float
        Share of infrequent behaviour to leave out, in [0, 1].

    Returns
    -------
    ProcessModel

    Examples
    --------
    >>> model = discover_model(log, algorithm="inductive", noise=0.2)  # doctest: +SKIP
    >>> model.save_bpmn("process.bpmn")                                 # doctest: +SKIP
    """
    check_choice("discover_model", "algorithm", algorithm, ("inductive", "heuristics"))
    noise = check_fraction("discover_model", "noise", noise)
    events = as_events(log)
    if len(events) == 0:
        raise InvalidParameterError("discover_model needs a log with at least one event.")
    import pm4py

    df = to_pm4py(events)
    keys = {
        "activity_key": "concept:name",
        "timestamp_key": "time:timestamp",
        "case_id_key": "case:concept:name",
    }
    if algorithm == "inductive":
        tree = pm4py.discover_process_tree_inductive(df, noise_threshold=noise, **keys)
        net, im, fm = pm4py.convert_to_petri_net(tree)
        bpmn = pm4py.convert_to_bpmn(tree)
    else:
        net, im, fm = pm4py.discover_petri_net_heuristics(
            df, dependency_threshold=1.0 - noise, **keys
        )
        bpmn = pm4py.convert_to_bpmn(net, im, fm)
    return ProcessModel(net, im, fm, bpmn, algorithm, noise)


# ----------------------------------------------------------------------------------------------
# comparing periods / logs
