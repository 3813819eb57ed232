"""Reading an SOP specification for :mod:`svcmining.sop`: where in the YAML file a key is
(errors name file, line and key), lists, durations and calendars of the spec, and the
``flow`` as a normalised tree with the stage of every step.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
import yaml

from ._safetext import shorten
from .calendars import Calendar, parse_duration
from .exceptions import SOPDefinitionError

# a normalised flow node: ("step", id) | ("seq"|"choice"|"parallel", children) | ("loop", do, redo)
FlowNode = tuple[Any, ...]


def index_lines(root: Any, out: dict[tuple[Any, ...], int]) -> None:
    """Key path -> line, visiting each node once.

    An alias is the very node object of its anchor, so a path through an alias is not
    indexed again (an error there names the line of the alias's parent key). Walking
    every alias expansion made a 1 kB YAML with 9 nested alias levels run for minutes.
    """
    seen: set[int] = set()
    stack: list[tuple[Any, tuple[Any, ...]]] = [(root, ())]
    while stack:
        node, path = stack.pop()
        out.setdefault(path, node.start_mark.line + 1)
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                key = k.value
                out[(*path, key)] = k.start_mark.line + 1
                stack.append((v, (*path, key)))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend((v, (*path, i)) for i, v in enumerate(node.value))


@dataclass
class Where:
    source: str
    lines: dict[tuple[Any, ...], int]

    def err(self, path: tuple[Any, ...], msg: str) -> SOPDefinitionError:
        p = path
        while p and p not in self.lines:
            p = p[:-1]
        line = self.lines.get(p)
        where = f"{self.source}, line {line}" if line else self.source

        # a value shown in the message may be a huge (aliased) list: keep it to a few lines
        return SOPDefinitionError(f"{where}: {shorten(msg, 400)}")


def str_list(value: Any, where: Where, path: tuple[Any, ...], what: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        value = [value]
    if not isinstance(value, Sequence) or isinstance(value, str):
        raise where.err(path, f"{what} must be a text or a list of texts, got {value!r}.")
    out = []
    for i, v in enumerate(value):
        if not isinstance(v, str | int | float) or isinstance(v, bool) or str(v).strip() == "":
            raise where.err((*path, i), f"{what} must be non-empty texts, got {v!r}.")
        out.append(str(v).strip())
    return tuple(out)


def spec_duration(value: Any, where: Where, path: tuple[Any, ...]) -> pd.Timedelta:

    try:
        td = parse_duration(value)
    except (ValueError, TypeError) as exc:
        if "longest duration" in str(exc):  # already names the value and the fix
            raise where.err(path, f"bad duration: {exc}") from None
        raise where.err(
            path, f"bad duration {shorten(repr(value), 80)} ({exc}). Use e.g. 30min, 2h, 1.5d."
        ) from None
    if pd.isna(td) or td < pd.Timedelta(0):
        raise where.err(path, f"bad duration {value!r}: it must not be negative.")
    return td


def spec_calendar(raw: Any, where: Where) -> Calendar:

    try:
        if isinstance(raw, str):
            presets = {"china_2024": Calendar.china_2024}
            if raw not in presets:
                raise ValueError(
                    f"no predefined calendar {raw!r}; the predefined ones are "
                    f"{', '.join(presets)} (or give workdays/hours/holidays)"
                )
            return presets[raw]()
        if not isinstance(raw, Mapping):
            raise ValueError("the calendar must be a mapping (workdays, hours, holidays ...)")
        return Calendar.from_spec(raw)
    except (ValueError, TypeError) as exc:
        raise where.err(("calendar",), f"bad calendar: {exc}") from None


def parse_flow(
    raw: Any, path: tuple[Any, ...], ids: set[str], used: dict[str, tuple[Any, ...]], where: Where
) -> FlowNode:
    if isinstance(raw, str):
        sid = raw.strip()
        if sid not in ids:
            raise where.err(
                path, f"unknown step {sid!r} in the flow; declared steps: {', '.join(sorted(ids))}."
            )
        if sid in used:
            raise where.err(
                path,
                f"step {sid!r} appears twice in the flow; declare a second "
                "step (with its own id) or use a loop.",
            )
        used[sid] = path
        return ("step", sid)
    if isinstance(raw, list):
        if not raw:
            raise where.err(path, "empty list in the flow.")
        kids = [parse_flow(x, (*path, i), ids, used, where) for i, x in enumerate(raw)]
        return kids[0] if len(kids) == 1 else ("seq", tuple(kids))
    if isinstance(raw, Mapping) and len(raw) == 1:
        ((kind, body),) = raw.items()
        bpath = (*path, kind)
        if kind in ("choice", "parallel", "sequence"):
            if not isinstance(body, list) or (kind != "sequence" and len(body) < 2):
                raise where.err(bpath, f"'{kind}' needs a list of at least two branches.")
            kids = [parse_flow(x, (*bpath, i), ids, used, where) for i, x in enumerate(body)]
            return ("seq" if kind == "sequence" else kind, tuple(kids))
        if kind == "loop":
            if isinstance(body, Mapping):
                bad = sorted(set(map(str, body)) - {"do", "redo"})
                if bad or "do" not in body:
                    raise where.err(bpath, "'loop' takes 'do' (required) and 'redo' (optional).")
                do = parse_flow(body["do"], (*bpath, "do"), ids, used, where)
                redo = (
                    parse_flow(body["redo"], (*bpath, "redo"), ids, used, where)
                    if body.get("redo") is not None
                    else None
                )
            else:
                do = parse_flow(body, bpath, ids, used, where)
                redo = None
            return ("loop", do, redo)
        raise where.err(bpath, f"unknown flow block {kind!r}; use choice, parallel, loop.")
    raise where.err(
        path,
        f"a flow element must be a step id, a list or one of choice/parallel/"
        f"loop blocks, got {raw!r}.",
    )


def assign_stages(node: FlowNode, stages: dict[str, int], counter: list[int]) -> None:
    kind = node[0]
    if kind == "step":
        stages[node[1]] = counter[0]
        counter[0] += 1
    elif kind == "seq":
        for k in node[1]:
            assign_stages(k, stages, counter)
    elif kind in ("choice", "parallel"):
        start = counter[0]
        for k in node[1]:
            for sid in steps_in(k):
                stages[sid] = start
        counter[0] = start + 1
    elif kind == "loop":
        assign_stages(node[1], stages, counter)
        if node[2] is not None:
            assign_stages(node[2], stages, counter)


def steps_in(node: FlowNode) -> list[str]:
    if node[0] == "step":
        return [node[1]]
    if node[0] == "loop":
        return steps_in(node[1]) + (steps_in(node[2]) if node[2] is not None else [])
    return [s for k in node[1] for s in steps_in(k)]
