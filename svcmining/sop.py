"""SOP-as-code: write the designed process once, readably, in YAML (or BPMN).

An SOP names its **steps** (each with the activity labels that count as it, in any
language, the owning department(s), whether it is ``optional`` and whether it is
``repeatable``), the **flow** between them, the **SLAs** and the business
**calendar** the SLAs are measured in. :func:`load_sop` reads it (``yaml.safe_load``
semantics only) and compiles the flow to a pm4py process tree and Petri net, which
:func:`svcmining.check_sop` aligns every ticket against.

A full example (``sample_logs/sop_complaint.yaml`` is the complete one)::

    name: 投诉处理 SOP
    calendar:                      # business time for SLAs
      workdays: Mon-Fri
      hours: ["09:00-18:00"]
      holidays: [2024-10-01, 2024-10-02]
      extra_workdays: [2024-10-12]
      timezone: Asia/Shanghai
    steps:
      - id: register
        labels: [投诉登记, 工单登记, Register]   # every label that counts as this step
        department: 客服中心                     # or a list of departments
      - id: approve
        labels: [主管审批]
        department: 售后部
        optional: true                           # may be skipped
      - id: remote
        labels: [远程排障]
        department: 技术支持部
        repeatable: true                         # may be done several times in a row
      ...
    flow:                          # a plain list is a sequence
      - register
      - assign
      - approve
      - choice: [remote, onsite]   # exactly one of
      - parallel: [notify, bill]   # all of them, in any order
      - loop:                      # do (once or more), redo between repetitions
          do: [accept, close]
          redo: [reopen]
    close: close                   # the step that closes a ticket: until it is done, steps
                                   # the ticket has not reached yet are pending, not skipped
    states:                        # optional: the ticket-state model (svcmining.states)
      waiting: [待客户确认, 挂起]   # each kind given replaces the default labels ...
      resolved: [已解决]
      extend: true                 # ... or, with extend, adds to them
    slas:
      - id: assign_2h
        from: register             # a step id, or case_start (the default)
        to: assign
        within: 2h                 # 30min, 2h, 1.5d, 2小时 ...
      - id: response
        from: register
        to: assess
        by_priority: {紧急: 1h, 高: 4h, 普通: 24h}   # per priority limit ...
        within: 24h                                 # ... and the default for other priorities
      - id: follow_up_window
        from: close
        to: follow_up
        between: [24h, 48h]
        hours: elapsed             # business (default: with the calendar) or elapsed
        pause_in: []               # states that stop the clock (default: the waiting
                                   # states, e.g. 待客户确认, Pending; [] never pauses)

``stage_of(label)`` gives the stage order of the step a label belongs to (members of a
``choice`` or ``parallel`` block share a stage; the ``redo`` part of a loop comes after
its ``do`` part); the rework module uses it to tell back loops.

YAML anchors and aliases may share values (e.g. ``department: &desk [客服中心, 客服二部]``
in one step and ``department: *desk`` in the next; top-level keys starting with ``x-``
are ignored, a place to define anchors). Expanding every alias may add at most 10,000
values: an "alias bomb" (nested aliases that multiply) or an alias inside its own anchor
is refused at once with the line of the anchor (see ``svcmining._yaml``).

Errors are :class:`~svcmining.exceptions.SOPDefinitionError` naming the file, the line
and what is wrong.
"""

from __future__ import annotations

import html
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from ._automaton import build_automaton
from ._bpmn import write_bpmn
from ._i18n import default_lang
from ._repr import html_table
from ._sopspec import (
    FlowNode,
    Where,
    assign_stages,
    index_lines,
    parse_flow,
    spec_calendar,
    spec_duration,
    steps_in,
    str_list,
)
from ._textfile import read_text
from ._yaml import load_yaml
from .calendars import Calendar
from .exceptions import InvalidParameterError, ReadError, SOPDefinitionError
from .states import TicketStates

__all__ = ["SLA", "SOP", "Step", "load_sop", "sop_from_dict"]

CASE_START = "case_start"
_STEP_KEYS = {
    "id",
    "labels",
    "label",
    "department",
    "departments",
    "optional",
    "repeatable",
    "name",
}
_SLA_KEYS = {
    "id",
    "from",
    "to",
    "within",
    "between",
    "by_priority",
    "hours",
    "name",
    "pause_in",
    "target",
}
_TOP_KEYS = {
    "name",
    "description",
    "calendar",
    "steps",
    "flow",
    "slas",
    "version",
    "close",
    "states",
    "targets",
}


@dataclass(frozen=True)
class Step:
    """One SOP step.

    Attributes
    ----------
    id : str
        Short identifier used in the flow and the SLAs (``assign``).
    labels : tuple of str
        Activity labels that count as this step; the first is the primary label
        (used in the Petri net and in results).
    departments : tuple of str
        Departments allowed to do it (empty: not checked).
    optional, repeatable : bool
        May be skipped; may be done several times in a row.
    """

    id: str
    labels: tuple[str, ...]
    departments: tuple[str, ...] = ()
    optional: bool = False
    repeatable: bool = False
    name: str | None = None

    @property
    def label(self) -> str:
        """The primary activity label."""
        return self.labels[0]

    def display_name(self, lang: str | None = None) -> str:
        """The step as a reader should see it: its ``name``, else its primary label.

        With ``lang`` (``"zh"`` / ``"en"``), the first of the name and the labels written
        in that language (Chinese or not), so a Chinese report shows 投诉登记 where the
        SOP's ``name`` is English; the name (else the label) when none is.
        """
        first = self.name or self.label
        if lang is None:
            return first
        for text in (self.name, *self.labels):
            if text and default_lang([text]) == lang:
                return text
        return first


@dataclass(frozen=True)
class SLA:
    """A time limit between two steps.

    Attributes
    ----------
    id : str
        Identifier of the SLA (``assign_2h``), as results name it in their ``sla`` column.
    to : str
        Step id whose first occurrence (after ``from_step``) ends the clock.
    from_step : str
        Step id that starts the clock (its last occurrence before ``to``), or
        ``"case_start"`` (the first event of the case).
    within : pandas.Timedelta or None
        Upper limit (the default when ``by_priority`` has no entry for a case's priority).
    between : tuple of two Timedelta or None
        Lower and upper limit.
    by_priority : mapping of str to Timedelta
        Upper limit per ``priority`` value.
    hours : {'business', 'elapsed'}
        Business hours with the SOP calendar, or elapsed clock hours.
    pause_in : tuple of str or None
        Labels of the states in which the clock stands still (as ServiceNow, Jira and
        Zendesk pause SLAs while a ticket waits on the customer). ``None`` (the default):
        the waiting states of :class:`svcmining.states.TicketStates`; ``()``: never.
    target : float or None
        The attainment the SLA aims at (``target: 90%`` in the YAML: 0.9), drawn on the
        KPI charts; None when not given.
    name : str
        A readable name (``name:`` in the YAML, e.g. "分派 ≤ 2 工作小时"), shown by reports
        and by ``sla_attainment.sla_name``; the id when not given.
    """

    id: str
    to: str
    from_step: str = CASE_START
    within: pd.Timedelta | None = None
    between: tuple[pd.Timedelta, pd.Timedelta] | None = None
    by_priority: Mapping[str, pd.Timedelta] = field(default_factory=dict)
    hours: Literal["business", "elapsed"] = "business"
    pause_in: tuple[str, ...] | None = None
    target: float | None = None
    name: str = ""

    def __post_init__(self) -> None:
        if not self.name:
            object.__setattr__(self, "name", self.id)  # frozen: set once, here

    @property
    def lower_hours(self) -> float:
        """Lower limit in hours (0 unless ``between``)."""
        return self.between[0].total_seconds() / 3600 if self.between else 0.0

    def upper_hours(self, priority: object = None) -> float:
        """Upper limit in hours for a case of ``priority`` (NaN when none applies)."""
        if self.by_priority and isinstance(priority, str) and priority in self.by_priority:
            return self.by_priority[priority].total_seconds() / 3600
        if self.between:
            return self.between[1].total_seconds() / 3600
        if self.within is not None:
            return self.within.total_seconds() / 3600
        return float("nan")


@dataclass(frozen=True, eq=False)
class SOP:
    """A designed process: steps, flow, SLAs and calendar (see the module docstring).

    Build with :func:`load_sop` (YAML or BPMN) or :func:`sop_from_dict`.

    Examples
    --------
    >>> sop = sop_from_dict({"steps": [{"id": "a", "labels": ["登记"]},
    ...                                {"id": "b", "labels": ["结单"]}],
    ...                      "flow": ["a", "b"]})
    >>> sop.stage_of("结单"), sop.stage_of("其他")
    (1, None)
    """

    name: str
    steps: tuple[Step, ...]
    flow: FlowNode | None = None
    slas: tuple[SLA, ...] = ()
    calendar: Calendar | None = None
    source: str | None = None
    _net: Any = field(default=None, repr=False)  # (net, im, fm) for BPMN SOPs
    _stages: Mapping[str, int] = field(default_factory=dict, repr=False)
    close_steps: tuple[str, ...] = ()
    states: TicketStates | None = None
    #: KPI targets of the SOP (``targets:``): KPI name -> value (shares as fractions,
    #: durations in hours), drawn on the KPI charts with each SLA's ``target``.
    targets: Mapping[str, float] = field(default_factory=dict)

    def kpi_targets(self) -> dict[tuple[str, str], float]:
        """``(kpi, detail) -> target``: the ``targets:`` (detail ``""``: every detail)
        and each SLA's ``target`` as ``("sla_attainment", sla_id)``."""
        out = {(k, ""): float(v) for k, v in self.targets.items()}
        out.update({("sla_attainment", s.id): s.target for s in self.slas if s.target is not None})
        return out

    # ---- lookups -------------------------------------------------------------
    @cached_property
    def _label_to_step(self) -> dict[str, Step]:
        out: dict[str, Step] = {}
        for s in self.steps:
            for lab in s.labels:
                out[lab] = s
        return out

    @property
    def step_ids(self) -> list[str]:
        """Step ids in declaration order."""
        return [s.id for s in self.steps]

    @property
    def labels(self) -> list[str]:
        """Every activity label that belongs to some step."""
        return list(self._label_to_step)

    def step(self, step_id: str) -> Step:
        """The step with id ``step_id`` (KeyError when unknown)."""
        for s in self.steps:
            if s.id == step_id:
                return s
        raise KeyError(step_id)

    def display_names(self, lang: str | None = None) -> dict[str, str]:
        """Step id -> :meth:`Step.display_name` (in ``lang``), for tables a reader sees."""
        return {s.id: s.display_name(lang) for s in self.steps}

    def step_of(self, activity: str) -> Step | None:
        """The step an activity label counts as, or ``None``."""
        return self._label_to_step.get(activity)

    def stage_of(self, activity: str) -> int | None:
        """Stage order (0-based) of the step ``activity`` belongs to; ``None`` if unknown.

        Members of a ``choice`` / ``parallel`` block share a stage.
        """
        st = self._label_to_step.get(activity)
        if st is None:
            return None
        return self._stages.get(st.id)

    def label_map(self) -> dict[str, str]:
        """Every known label -> the primary label of its step (what the Petri net uses)."""
        return {lab: s.label for s in self.steps for lab in s.labels}

    # ---- models --------------------------------------------------------------
    def process_tree(self) -> Any:
        """The flow as a pm4py ``ProcessTree`` (primary labels as leaves).

        Raises SOPDefinitionError for an SOP loaded from BPMN (it has no block flow).
        """
        if self.flow is None:
            raise SOPDefinitionError(
                f"SOP {self.name!r} was loaded from BPMN and has no block-structured flow; "
                "use petri_net() instead."
            )
        return _to_tree(self.flow, {s.id: s for s in self.steps})

    def petri_net(self) -> tuple[Any, Any, Any]:
        """``(net, initial_marking, final_marking)`` of the SOP (pm4py objects)."""
        return self._petri

    @cached_property
    def _petri(self) -> tuple[Any, Any, Any]:
        if self._net is not None:
            return self._net
        import pm4py

        net, im, fm = pm4py.convert_to_petri_net(self.process_tree())
        return net, im, fm

    def to_bpmn(self, path: str | os.PathLike[str]) -> Path:
        """Write the SOP as a BPMN 2.0 file with diagram layout; returns the path.

        The model comes from pm4py; the shapes and flows are placed by svcmining's layered
        layout (left to right in process order), so no Graphviz is needed.
        """
        import pm4py

        return write_bpmn(pm4py.convert_to_bpmn(self.process_tree()), path)

    def to_frame(self) -> pd.DataFrame:
        """One row per step: step_id, stage, labels, departments, optional, repeatable."""
        return pd.DataFrame(
            {
                "step_id": [s.id for s in self.steps],
                "stage": [self._stages.get(s.id) for s in self.steps],
                "labels": [" / ".join(s.labels) for s in self.steps],
                "departments": [" / ".join(s.departments) for s in self.steps],
                "optional": [s.optional for s in self.steps],
                "repeatable": [s.repeatable for s in self.steps],
            }
        )

    def sla_frame(self) -> pd.DataFrame:
        """One row per SLA (and per priority override); ``sla`` is its id, ``sla_name``
        its readable name."""
        rows = []
        for sla in self.slas:
            base = {
                "sla": sla.id,
                "sla_name": sla.name,
                "from_step": sla.from_step,
                "to_step": sla.to,
                "hours": sla.hours,
            }
            rows.append(
                {
                    **base,
                    "priority": None,
                    "lower_hours": sla.lower_hours,
                    "upper_hours": sla.upper_hours(),
                }
            )
            for prio in sla.by_priority:
                rows.append(
                    {
                        **base,
                        "priority": prio,
                        "lower_hours": sla.lower_hours,
                        "upper_hours": sla.upper_hours(prio),
                    }
                )
        return pd.DataFrame(
            rows,
            columns=[
                "sla",
                "sla_name",
                "from_step",
                "to_step",
                "hours",
                "priority",
                "lower_hours",
                "upper_hours",
            ],
        )

    def __repr__(self) -> str:
        return f"SOP({self.name!r}, {len(self.steps)} steps, {len(self.slas)} SLAs)"

    def _repr_html_(self) -> str:

        return f"<p><b>{html.escape(repr(self))}</b></p>" + html_table(self.to_frame(), max_rows=30)


# ---- loading -------------------------------------------------------------------
def load_sop(path: str | os.PathLike[str]) -> SOP:
    """Read an SOP from a YAML file or a BPMN file.

    YAML is parsed with ``yaml.SafeLoader`` only. A ``.bpmn`` file is converted with
    pm4py; its visible tasks become steps (no departments or SLAs), unless a side file
    ``<name>.yaml`` next to it gives ``steps``/``slas``/``calendar`` for those labels.

    Parameters
    ----------
    path : str or path-like
        ``.yaml`` / ``.yml`` or ``.bpmn`` file.

    Returns
    -------
    SOP

    Raises
    ------
    SOPDefinitionError
        With file, line and what is wrong (unknown step in a flow, duplicate ids,
        bad durations, unknown keys ...).

    Examples
    --------
    >>> sop = load_sop("sample_logs/sop_complaint.yaml")  # doctest: +SKIP
    >>> sop.stage_of("分类派单")                           # doctest: +SKIP
    2
    """
    p = Path(path)
    if not p.is_file():
        raise SOPDefinitionError(f"{p}: no such SOP file.")
    if p.suffix.lower() == ".bpmn":
        return _load_bpmn(p)

    try:
        text = read_text(p, "SOP file")
    except ReadError as err:
        raise SOPDefinitionError(str(err)) from None
    return _from_yaml_text(text, str(p))


def sop_from_dict(spec: Mapping[str, Any], *, source: str = "<dict>") -> SOP:
    """Build an SOP from an already parsed mapping (same schema as the YAML)."""
    return _build(spec, Where(source, {}))


def as_sop(sop: Any, *, func: str = "svcmining") -> SOP | None:
    """The one SOP coercion: an :class:`SOP`, a mapping (the YAML schema) or a path; None.

    Every function that takes ``sop=`` accepts these three forms through this function.

    Examples
    --------
    >>> as_sop({"steps": [{"id": "a", "labels": ["登记"]}], "flow": ["a"]}).step_ids
    ['a']
    """
    if sop is None or isinstance(sop, SOP):
        return sop
    if isinstance(sop, str | os.PathLike):
        return load_sop(sop)
    if isinstance(sop, Mapping):
        return sop_from_dict(sop)
    raise InvalidParameterError(
        f"The 'sop' parameter of {func} must be an SOP (svcmining.load_sop(...)), a mapping "
        f"in the SOP YAML schema or a path to an SOP file. Got {type(sop).__name__} instead."
    )


def _from_yaml_text(text: str, source: str) -> SOP:

    spec, node = load_yaml(text, source, what="SOP file", error=SOPDefinitionError)
    lines: dict[tuple[Any, ...], int] = {}
    if node is not None:
        index_lines(node, lines)
    if not isinstance(spec, Mapping):
        raise SOPDefinitionError(
            f"{source}, line 1: an SOP file must be a mapping with 'steps' and 'flow'."
        )
    return _build(spec, Where(source, lines))


def _parse_step(
    raw: Any, i: int, where: Where, seen_ids: dict[str, int], seen_labels: dict[str, str]
) -> Step:
    """Step ``i`` of the spec, checked (ids and labels unique across the steps seen so far)."""
    path: tuple[Any, ...] = ("steps", i)
    if isinstance(raw, str):
        raw = {"id": raw}
    if not isinstance(raw, Mapping):
        raise where.err(path, f"a step must be a mapping with an 'id', got {raw!r}.")
    bad = sorted(set(map(str, raw)) - _STEP_KEYS)
    if bad:
        raise where.err(
            (*path, bad[0]),
            f"unknown step key {bad[0]!r}; a step has {', '.join(sorted(_STEP_KEYS))}.",
        )
    sid = raw.get("id")
    if not isinstance(sid, str) or not sid.strip():
        raise where.err(path, "every step needs an 'id' (a short text).")
    sid = sid.strip()
    if sid == CASE_START:
        raise where.err((*path, "id"), f"{CASE_START!r} is reserved; rename the step.")
    if sid in seen_ids:
        raise where.err(
            (*path, "id"), f"duplicate step id {sid!r} (also step {seen_ids[sid] + 1})."
        )
    seen_ids[sid] = i
    labels = str_list(raw.get("labels", raw.get("label", sid)), where, (*path, "labels"), "labels")
    if not labels:
        raise where.err((*path, "labels"), f"step {sid!r} has no labels.")
    for lab in labels:
        if lab in seen_labels and seen_labels[lab] != sid:
            raise where.err(
                (*path, "labels"),
                f"label {lab!r} of step {sid!r} already belongs to step {seen_labels[lab]!r}.",
            )
        seen_labels[lab] = sid
    depts = str_list(
        raw.get("departments", raw.get("department")),
        where,
        (*path, "department"),
        "department",
    )
    flags = {}
    for key in ("optional", "repeatable"):
        v = raw.get(key, False)
        if not isinstance(v, bool):
            raise where.err((*path, key), f"{key!r} must be true or false, got {v!r}.")
        flags[key] = v
    name = raw.get("name")
    return Step(
        sid,
        tuple(dict.fromkeys(labels)),
        depts,
        flags["optional"],
        flags["repeatable"],
        str(name) if name is not None else None,
    )


def _build(spec: Mapping[str, Any], where: Where) -> SOP:
    # top-level keys starting with "x-" are ignored: a place to define YAML anchors
    unknown = sorted(k for k in set(map(str, spec)) - _TOP_KEYS if not k.startswith("x-"))
    if unknown:
        raise where.err(
            (unknown[0],),
            f"unknown key {unknown[0]!r}; an SOP has {', '.join(sorted(_TOP_KEYS))}.",
        )
    raw_steps = spec.get("steps")
    if not isinstance(raw_steps, list) or not raw_steps:
        raise where.err(("steps",), "'steps' must be a non-empty list of steps.")
    steps: list[Step] = []
    seen_ids: dict[str, int] = {}
    seen_labels: dict[str, str] = {}
    for i, raw in enumerate(raw_steps):
        steps.append(_parse_step(raw, i, where, seen_ids, seen_labels))
    ids = {s.id for s in steps}

    raw_flow = spec.get("flow")
    if raw_flow is None:
        raw_flow = [s.id for s in steps]
    used: dict[str, tuple[Any, ...]] = {}
    flow = parse_flow(raw_flow, ("flow",), ids, used, where)
    missing = [s for s in ids if s not in used]
    if missing:
        first = next(i for i, s in enumerate(steps) if s.id in missing)
        raise where.err(
            ("steps", first),
            f"step {steps[first].id!r} is declared but not used in the flow.",
        )
    stages: dict[str, int] = {}
    assign_stages(flow, stages, [0])

    calendar = None
    if spec.get("calendar") is not None:
        calendar = spec_calendar(spec["calendar"], where)

    slas: list[SLA] = []
    raw_slas = spec.get("slas") or []
    if not isinstance(raw_slas, list):
        raise where.err(("slas",), "'slas' must be a list.")
    sla_ids: set[str] = set()
    for i, raw in enumerate(raw_slas):
        slas.append(_parse_sla(raw, ("slas", i), ids, sla_ids, where))
    close_steps = str_list(spec.get("close"), where, ("close",), "close")
    for c in close_steps:
        if c not in ids:
            raise where.err(("close",), f"'close' must name declared step ids, got {c!r}.")
    states = None
    if spec.get("states") is not None:
        try:
            states = TicketStates.from_spec(spec["states"])
        except InvalidParameterError as err:
            raise where.err(("states",), str(err)) from None
    name = spec.get("name") or (Path(where.source).stem if where.source else "SOP")
    return SOP(
        name=str(name),
        steps=tuple(steps),
        flow=flow,
        slas=tuple(slas),
        calendar=calendar,
        source=where.source,
        _stages=stages,
        close_steps=close_steps,
        states=states,
        targets=_targets(spec.get("targets"), where),
    )


def choice_groups(sop: SOP) -> dict[str, frozenset[str]]:
    """Step id -> the other steps of the ``choice`` block it is a branch of (may be empty)."""
    out: dict[str, frozenset[str]] = {}

    def walk(node: FlowNode | None) -> None:
        if node is None or node[0] == "step":
            return
        if node[0] == "choice":
            branches = [set(steps_in(k)) for k in node[1]]
            for i, b in enumerate(branches):
                others = frozenset().union(*(x for j, x in enumerate(branches) if j != i))
                for sid in b:
                    out[sid] = out.get(sid, frozenset()) | others
        kids = node[1:] if node[0] == "loop" else node[1]
        for k in kids:
            walk(k)

    walk(sop.flow)
    return out


def _parse_sla(
    raw: Any, path: tuple[Any, ...], ids: set[str], sla_ids: set[str], where: Where
) -> SLA:
    if not isinstance(raw, Mapping):
        raise where.err(path, f"an SLA must be a mapping (id, from, to, within ...), got {raw!r}.")
    bad = sorted(set(map(str, raw)) - _SLA_KEYS)
    if bad:
        raise where.err(
            (*path, bad[0]),
            f"unknown SLA key {bad[0]!r}; an SLA has {', '.join(sorted(_SLA_KEYS))}.",
        )
    to = raw.get("to")
    sid = str(raw.get("id") or f"{raw.get('from', CASE_START)}_to_{to}")
    if sid in sla_ids:
        raise where.err((*path, "id"), f"duplicate SLA id {sid!r}.")
    sla_ids.add(sid)
    if not isinstance(to, str) or to not in ids:
        raise where.err((*path, "to"), f"SLA {sid!r}: 'to' must be a declared step id, got {to!r}.")
    frm = raw.get("from", CASE_START)
    if not isinstance(frm, str) or (frm not in ids and frm != CASE_START):
        raise where.err(
            (*path, "from"),
            f"SLA {sid!r}: 'from' must be a declared step id or {CASE_START!r}, got {frm!r}.",
        )
    hours = raw.get("hours", "business")
    if hours not in ("business", "elapsed"):
        raise where.err(
            (*path, "hours"),
            f"SLA {sid!r}: 'hours' must be 'business' or 'elapsed', got {hours!r}.",
        )
    within = spec_duration(raw["within"], where, (*path, "within")) if "within" in raw else None
    between = None
    if "between" in raw:
        b = raw["between"]
        if not isinstance(b, list) or len(b) != 2:
            raise where.err(
                (*path, "between"), f"SLA {sid!r}: 'between' must be [lower, upper], got {b!r}."
            )
        lo = spec_duration(b[0], where, (*path, "between", 0))
        hi = spec_duration(b[1], where, (*path, "between", 1))
        if lo > hi:
            raise where.err(
                (*path, "between"),
                f"SLA {sid!r}: 'between' lower limit {b[0]!r} exceeds upper {b[1]!r}.",
            )
        between = (lo, hi)
    by_prio: dict[str, pd.Timedelta] = {}
    if raw.get("by_priority") is not None:
        bp = raw["by_priority"]
        if not isinstance(bp, Mapping) or not bp:
            raise where.err(
                (*path, "by_priority"),
                f"SLA {sid!r}: 'by_priority' must map priorities to durations.",
            )
        for k, v in bp.items():
            by_prio[str(k)] = spec_duration(v, where, (*path, "by_priority", k))
    if within is None and between is None and not by_prio:
        raise where.err(
            path, f"SLA {sid!r} has no limit: give 'within', 'between' or 'by_priority'."
        )
    if within is not None and between is not None:
        raise where.err(path, f"SLA {sid!r}: give either 'within' or 'between', not both.")
    target = _target(raw["target"], where, (*path, "target")) if "target" in raw else None
    if target is not None and not 0 < target <= 1:
        raise where.err((*path, "target"), f"SLA {sid!r}: 'target' is a share such as 90% or 0.9.")
    pause_in = None
    if "pause_in" in raw:
        pause_in = str_list(raw["pause_in"], where, (*path, "pause_in"), "pause_in")
    name = raw.get("name")
    if name is not None and (not isinstance(name, str) or not name.strip()):
        raise where.err((*path, "name"), f"SLA {sid!r}: 'name' must be a text, got {name!r}.")
    return SLA(
        id=sid,
        to=to,
        from_step=frm,
        within=within,
        between=between,
        by_priority=by_prio,
        hours=hours,
        pause_in=pause_in,
        target=target,
        name=name.strip() if name else sid,
    )


def _target(value: Any, where: Where, path: tuple[Any, ...]) -> float:
    """A target value: a number, a percentage (``90%``: 0.9) or a duration (``16h``: hours)."""
    if isinstance(value, bool):
        raise where.err(
            path, f"a target must be a number, a percentage or a duration, got {value!r}."
        )
    if isinstance(value, int | float):
        return float(value)
    text = str(value).strip()
    if text.endswith("%"):
        try:
            return float(text[:-1]) / 100
        except ValueError:
            raise where.err(path, f"bad percentage {value!r}; write e.g. 90%.") from None
    return spec_duration(text, where, path).total_seconds() / 3600


def _targets(raw: Any, where: Where) -> dict[str, float]:
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise where.err(
            ("targets",), "'targets' must map KPI names to values, e.g. {reopen_rate: 5%}."
        )
    return {str(k): _target(v, where, ("targets", k)) for k, v in raw.items()}


def _to_tree(node: FlowNode, steps: Mapping[str, Step]) -> Any:
    from pm4py.objects.process_tree.obj import Operator, ProcessTree

    def mk(op: Any, kids: list[Any]) -> Any:
        t = ProcessTree(operator=op)
        for k in kids:
            k.parent = t
            t.children.append(k)
        return t

    def tau() -> Any:
        return ProcessTree()

    def rec(n: FlowNode) -> Any:
        kind = n[0]
        if kind == "step":
            st = steps[n[1]]
            t = ProcessTree(label=st.label)
            if st.repeatable:
                t = mk(Operator.LOOP, [t, tau()])
            if st.optional:
                t = mk(Operator.XOR, [t, tau()])
            return t
        if kind == "seq":
            return mk(Operator.SEQUENCE, [rec(k) for k in n[1]])
        if kind == "choice":
            return mk(Operator.XOR, [rec(k) for k in n[1]])
        if kind == "parallel":
            return mk(Operator.PARALLEL, [rec(k) for k in n[1]])
        if kind == "loop":
            return mk(Operator.LOOP, [rec(n[1]), rec(n[2]) if n[2] is not None else tau()])
        raise AssertionError(kind)  # pragma: no cover

    return rec(node)


def _load_bpmn(p: Path) -> SOP:
    import pm4py

    try:
        bpmn = pm4py.read_bpmn(str(p))
        net, im, fm = pm4py.convert_to_petri_net(bpmn)
    except Exception as exc:  # pm4py raises bare Exceptions for bad XML
        raise SOPDefinitionError(f"{p}: not a readable BPMN file ({exc}).") from None
    labels = sorted({t.label for t in net.transitions if t.label is not None})
    if not labels:
        raise SOPDefinitionError(f"{p}: the BPMN model has no named tasks.")
    side = p.with_suffix(".yaml")
    steps: list[Step] = [Step(lab, (lab,)) for lab in labels]
    slas: tuple[SLA, ...] = ()
    calendar = None
    if side.is_file():
        extra = _from_yaml_text(read_text(side, "SOP side file"), str(side))
        steps = []
        for st in extra.steps:
            in_net = [lab for lab in st.labels if lab in labels]
            if not in_net:
                raise SOPDefinitionError(
                    f"{side}: step {st.id!r} has no label among the BPMN tasks "
                    f"({', '.join(labels)})."
                )
            rest = tuple(lab for lab in st.labels if lab != in_net[0])
            steps.append(
                Step(st.id, (in_net[0], *rest), st.departments, st.optional, st.repeatable, st.name)
            )
        known = {s.label for s in steps}
        steps += [Step(lab, (lab,)) for lab in labels if lab not in known]
        slas, calendar = extra.slas, extra.calendar
    stages = _net_stages(net, im)
    unreachable = sorted(lab for lab in labels if lab not in stages)
    if unreachable:
        raise SOPDefinitionError(
            f"{p}: task(s) {', '.join(map(repr, unreachable))} cannot be reached from the "
            "start event; connect them with sequence flows or remove them."
        )
    if not fm:
        raise SOPDefinitionError(f"{p}: the BPMN model has no end event; add one.")
    stage_by_id = {s.id: stages[s.label] for s in steps if s.label in stages}
    return SOP(
        name=p.stem,
        steps=tuple(steps),
        flow=None,
        slas=slas,
        calendar=calendar,
        source=str(p),
        _net=(net, im, fm),
        _stages=stage_by_id,
    )


def _net_stages(net: Any, im: Any) -> dict[str, int]:
    """Stage of each visible label: fewest visible steps needed to reach it from the start."""
    auto = build_automaton(net, im, None)
    return auto.label_depths()
