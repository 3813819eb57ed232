"""The one YAML reader of svcmining (SOP, mapping and calendar files).

Rules (issue 21):

* only safe tags (``yaml.SafeLoader``; the libyaml parser when it is installed);
* anchors and aliases are allowed, with a hard budget: expanding every alias may add at
  most :data:`MAX_ALIAS_NODES` nodes to the document (a normal SOP that shares a list of
  departments adds a few dozen); more, or an alias that refers to itself, is refused with
  the file, the line of the anchor and the fix. Nothing downstream can then walk or print
  an exponential "billion laughs" structure;
* nesting deeper than :data:`MAX_DEPTH` is refused;
* every message is bounded (:func:`~svcmining._safetext.shorten`).

The composed node graph is returned too, so callers can map a key path to its line; walkers
must visit each node once (an alias is the same node object as its anchor).
"""

from __future__ import annotations

from typing import Any

import yaml

from ._safetext import escape_text, shorten

__all__ = ["MAX_ALIAS_NODES", "MAX_DEPTH", "load_yaml"]

MAX_ALIAS_NODES = 10_000
MAX_DEPTH = 200

_Base: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_Base):
    """Safe loader (libyaml parser when available)."""


class _TextLoader(_Base):
    """Safe loader that keeps yes/no/on/off as text (a column named "No" stays "No")."""


_TextLoader.yaml_implicit_resolvers = {
    ch: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for ch, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _children(node: Any) -> list[Any]:
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _check_graph(root: Any, source: str, what: str, error: type[Exception]) -> None:
    """Refuse self-referring aliases, too deep nesting and aliases that expand too much."""
    sizes: dict[int, int] = {}
    on_path: set[int] = set()
    stack: list[tuple[Any, int, bool]] = [(root, 1, False)]
    shared: Any = None
    while stack:
        node, depth, done = stack.pop()
        key = id(node)
        if done:
            sizes[key] = 1 + sum(sizes[id(c)] for c in _children(node))
            on_path.discard(key)
            continue
        if key in sizes:
            if shared is None:
                shared = node
            continue
        line = node.start_mark.line + 1
        if key in on_path:
            raise error(
                f"{source}, line {line}: the {what} has an alias that refers to its own "
                "anchor (a recursive structure); write the values out instead."
            )
        if depth > MAX_DEPTH:
            raise error(
                f"{source}, line {line}: the {what} is nested more than {MAX_DEPTH} levels "
                "deep; flatten it."
            )
        on_path.add(key)
        stack.append((node, depth, True))
        stack.extend((c, depth + 1, False) for c in _children(node) if id(c) not in sizes)
    extra = sizes[id(root)] - len(sizes)
    if extra > MAX_ALIAS_NODES:
        line = shared.start_mark.line + 1 if shared is not None else 1
        raise error(
            f"{source}, line {line}: the {what} uses YAML aliases (*name) that would expand "
            f"to more than {MAX_ALIAS_NODES:,} extra values (an alias bomb?); write the "
            "values out or use fewer nested aliases."
        )


def load_yaml(
    text: str,
    source: str,
    *,
    what: str,
    error: type[Exception],
    bools: bool = True,
) -> tuple[Any, Any]:
    """Parse one YAML document safely; return ``(data, node)`` (``(None, None)`` if empty).

    ``source`` names the file in messages, ``what`` the kind of file ("SOP file"),
    ``error`` is the typed error to raise; ``bools=False`` keeps yes/no/on/off as text.
    """
    loader = (_Loader if bools else _TextLoader)(text)
    try:
        try:
            node = loader.get_single_node()
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = f", line {mark.line + 1}" if mark is not None else ""
            problem = getattr(exc, "problem", None) or str(exc)
            raise error(
                shorten(f"{source}{line}: not valid YAML ({escape_text(problem)}); fix the {what}.")
            ) from None
        except RecursionError:
            raise error(f"{source}: the {what} is nested too deeply to read; flatten it.") from None
        if node is None:
            return None, None
        _check_graph(node, source, what, error)
        try:
            data = loader.construct_document(node)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = f", line {mark.line + 1}" if mark is not None else ""
            problem = getattr(exc, "problem", None) or str(exc)
            raise error(
                shorten(f"{source}{line}: not valid YAML ({escape_text(problem)}); fix the {what}.")
            ) from None
    finally:
        loader.dispose()
    return data, node
