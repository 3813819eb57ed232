"""The one YAML reader and writer of svcmining (SOP, mapping, calendar and filter files).

Rules (issue 21):

* only safe tags (``yaml.SafeLoader``; the libyaml parser when it is installed);
* anchors and aliases are allowed, with a hard budget: expanding every alias may add at
  most :data:`MAX_ALIAS_NODES` nodes to the document (a normal SOP that shares a list of
  departments adds a few dozen); more, or an alias that refers to itself, is refused with
  the file, the line of the anchor and the fix. Nothing downstream can then walk or print
  an exponential "billion laughs" structure;
* a file of more than :data:`MAX_CHARS` characters is refused before parsing (so any YAML
  loads or fails in about a second); nesting too deep to read is a typed error (the alias
  check, run when the text has an anchor, stops at :data:`MAX_DEPTH` levels);
* every message is bounded (:func:`~svcmining._safetext.shorten`).

The composed node graph is returned too, so callers can map a key path to its line; walkers
must visit each node once (an alias is the same node object as its anchor).
"""

from __future__ import annotations

from typing import Any

import yaml

from ._safetext import escape_text, shorten

__all__ = ["MAX_ALIAS_NODES", "MAX_CHARS", "MAX_DEPTH", "dump_yaml", "load_yaml"]

MAX_ALIAS_NODES = 10_000
MAX_DEPTH = 200
MAX_CHARS = 256 * 1024  # an SOP is a few kB; 256 kB is ~5,000 steps and reads in < 1 s

_Base: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_Base):
    """Safe loader (libyaml parser when available)."""


class _TextLoader(_Base):
    """Safe loader that keeps yes/no/on/off as text (a column named "No" stays "No")."""


_TextLoader.yaml_implicit_resolvers = {
    ch: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for ch, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _check_graph(root: Any, source: str, what: str, error: type[Exception]) -> None:
    """Refuse self-referring aliases, too deep nesting and aliases that expand too much.

    One pass over the distinct nodes (an alias is its anchor's node object): the expanded
    size of each node is 1 + the expanded sizes of its children; a node met again is an
    alias. Plain scalars (most of a document) are counted inline.
    """
    mapping_node, sequence_node = yaml.MappingNode, yaml.SequenceNode
    sizes: dict[int, int] = {}  # collection node -> expanded size
    seen_scalars: set[int] = set()
    on_path: set[int] = set()
    shared: Any = None
    extra = 0
    stack: list[tuple[Any, int, bool]] = [(root, 1, False)]
    while stack:
        node, depth, done = stack.pop()
        key = id(node)
        if not done and key in sizes:  # pushed twice before it was finished: an alias
            extra += sizes[key]
            shared = shared if shared is not None else node
            continue
        kids = (
            [part for pair in node.value for part in pair]
            if isinstance(node, mapping_node)
            else node.value
        )
        if done:
            total = 1
            for c in kids:
                ck = id(c)
                if ck in sizes:
                    total += sizes[ck]
                else:  # a scalar
                    total += 1
            sizes[key] = total
            on_path.discard(key)
            continue
        if key in on_path:
            raise error(
                f"{source}, line {node.start_mark.line + 1}: the {what} has an alias that "
                "refers to its own anchor (a recursive structure); write the values out "
                "instead."
            )
        if depth > MAX_DEPTH:
            raise error(
                f"{source}, line {node.start_mark.line + 1}: the {what} is nested more than "
                f"{MAX_DEPTH} levels deep; flatten it."
            )
        on_path.add(key)
        stack.append((node, depth, True))
        for c in kids:
            ck = id(c)
            if isinstance(c, mapping_node | sequence_node):
                if ck in sizes:  # an alias of a finished collection
                    extra += sizes[ck]
                    shared = shared if shared is not None else c
                else:  # new, or on the path (an alias inside its anchor: raised when popped)
                    stack.append((c, depth + 1, False))
            elif ck in seen_scalars:  # an alias of a scalar
                extra += 1
                shared = shared if shared is not None else c
            else:
                seen_scalars.add(ck)
        if extra > MAX_ALIAS_NODES:
            break
    if extra > MAX_ALIAS_NODES:
        line = shared.start_mark.line + 1 if shared is not None else 1
        raise error(
            f"{source}, line {line}: the {what} uses YAML aliases (*name) that would expand "
            f"to more than {MAX_ALIAS_NODES:,} extra values (an alias bomb?); write the "
            "values out or use fewer nested aliases."
        )


def _invalid(exc: yaml.YAMLError, source: str, what: str, error: Any) -> Exception:
    """The short typed error for YAML that does not parse (file, line, problem, fix)."""
    mark = getattr(exc, "problem_mark", None)
    line = f", line {mark.line + 1}" if mark is not None else ""
    problem = getattr(exc, "problem", None) or str(exc)
    return error(
        shorten(f"{source}{line}: not valid YAML ({escape_text(problem)}); fix the {what}.")
    )


def _too_deep(source: str, what: str, error: Any) -> Exception:
    return error(f"{source}: the {what} is nested too deeply to read; flatten it.")


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
    if len(text) > MAX_CHARS:
        raise error(
            f"{source}: the {what} is {len(text) / 1024:,.0f} kB; svcmining reads SOP, mapping "
            f"and calendar files up to {MAX_CHARS // 1024} kB (they are usually a few kB). "
            "Check that this is the right file."
        )
    loader = (_Loader if bools else _TextLoader)(text)
    try:
        try:
            node = loader.get_single_node()
        except yaml.YAMLError as exc:
            raise _invalid(exc, source, what, error) from None
        except RecursionError:
            raise _too_deep(source, what, error) from None
        if node is None:
            return None, None
        if "&" in text:  # without an anchor there is no alias to check
            _check_graph(node, source, what, error)
        try:
            data = loader.construct_document(node)
        except RecursionError:
            raise _too_deep(source, what, error) from None
        except yaml.YAMLError as exc:
            raise _invalid(exc, source, what, error) from None
    finally:
        loader.dispose()
    return data, node


def dump_yaml(data: Any) -> str:
    """``data`` (plain mappings, lists, text, numbers) as YAML text that :func:`load_yaml`
    reads back: safe representers only, Unicode kept as text, keys in their order, lists
    of scalars on one line."""
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, default_flow_style=None)
