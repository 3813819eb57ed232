"""Griffe extension for the docs build: read svcmining's reST-flavoured numpydoc as Markdown.

The docstrings are numpydoc, written for ``help()`` and Sphinx-style readers: they use
reST roles (``:func:`check_sop```), ``::`` before literal blocks and simple reST tables.
mkdocstrings renders docstrings as Markdown, so before rendering this extension

* turns a role into a cross-reference when its target is an object this site documents
  (``:func:`check_sop``` → a link to ``svcmining.conformance.check_sop``; targets are
  looked up as written, in the current class, module and package, and through the
  package's top-level names), else into inline code (``:class:`pandas.DataFrame```); a
  leading ``~`` shows the last name only,
* ends a paragraph that introduces a literal block with ``:`` instead of ``::``,
* turns a simple reST table (``====  ====`` rules) into a Markdown table.

Loaded by mkdocs.yml (``plugins: mkdocstrings: handlers: python: options: extensions``).
"""

from __future__ import annotations

import re
from typing import Any

import griffe

_ROLE = re.compile(r":(?:py:)?(?:func|meth|class|mod|attr|data|obj|exc|const|ref|term):`([^`]+)`")
_RULE = re.compile(r"^(\s*)(=+)( +=+)+\s*$")


def _role(match: re.Match[str]) -> str:
    target = match.group(1).strip()
    if "<" in target and target.endswith(">"):  # :ref:`text <target>`
        target = target.split("<", 1)[0].strip()
    if target.startswith("~"):
        target = target[1:].rsplit(".", 1)[-1]
    return f"`{target}`"


def _spans(rule: str) -> list[tuple[int, int]]:
    return [(m.start(), m.end()) for m in re.finditer(r"=+", rule)]


def _cells(line: str, spans: list[tuple[int, int]]) -> list[str]:
    out = []
    for i, (start, _) in enumerate(spans):
        end = spans[i + 1][0] if i + 1 < len(spans) else len(line)
        out.append(line[start:end].strip().replace("|", "\\|"))
    return out


def _tables(text: str) -> str:
    lines = text.split("\n")
    out: list[str] = []
    i = 0
    while i < len(lines):
        m = _RULE.match(lines[i])
        rules = (
            [j for j in range(i, min(len(lines), i + 200)) if _RULE.match(lines[j])] if m else []
        )
        if m and len(rules) >= 3:
            indent = m.group(1)
            spans = _spans(lines[i])
            first, second, third = rules[0], rules[1], rules[2]
            header = [_cells(line, spans) for line in lines[first + 1 : second]]
            head = [" ".join(parts).strip() for parts in zip(*header, strict=True)]
            out.append(indent + "| " + " | ".join(head) + " |")
            out.append(indent + "|" + "---|" * len(head))
            for line in lines[second + 1 : third]:
                if line.strip():
                    out.append(indent + "| " + " | ".join(_cells(line, spans)) + " |")
            i = third + 1
            continue
        out.append(lines[i])
        i += 1
    return "\n".join(out)


def to_markdown(text: str) -> str:
    """The docstring text with roles, ``::`` and simple tables made Markdown."""
    text = _ROLE.sub(_role, text)
    text = re.sub(r"(\S)::(\s*)$", r"\1:\2", text, flags=re.MULTILINE)
    text = re.sub(r"^(\s*)::\s*$", "", text, flags=re.MULTILINE)
    return _tables(text)


def _documented(obj: griffe.Object, out: dict[str, griffe.Object]) -> None:
    """Collect the objects the API pages render (public, with a docstring): link targets."""
    for name, member in obj.members.items():
        if member.is_alias or name.startswith("_"):
            continue
        if member.is_module:
            _documented(member, out)  # type: ignore[arg-type]
            continue
        if member.docstring is not None:
            out[member.path] = member  # type: ignore[assignment]
        if member.is_class:
            _documented(member, out)  # type: ignore[arg-type]


def _linker(pkg: griffe.Module, known: dict[str, griffe.Object]) -> Any:
    top = {
        name: member.target_path  # type: ignore[union-attr]
        for name, member in pkg.members.items()
        if member.is_alias
    }

    def resolve(target: str, obj: griffe.Object) -> str | None:
        scopes = [obj.path, obj.parent.path if obj.parent else "", obj.module.path, pkg.path]
        for cand in [target, *(f"{s}.{target}" for s in scopes if s)]:
            if cand in known:
                return cand
        head, _, rest = target.removeprefix(pkg.path + ".").partition(".")
        if head in top:
            cand = top[head] + (f".{rest}" if rest else "")
            if cand in known:
                return cand
        return None

    def link(obj: griffe.Object) -> Any:
        def sub(match: re.Match[str]) -> str:
            code = _role(match)
            raw = match.group(1).strip().lstrip("~")
            path = resolve(raw.removesuffix("()"), obj) if "<" not in raw else None
            return f"[{code}][{path}]" if path else code

        return sub

    return link


class RstToMarkdown(griffe.Extension):
    """Rewrite every docstring of the package once it is loaded (see the module docstring)."""

    def on_package(self, *, pkg: griffe.Module, **kwargs: Any) -> None:
        if pkg.name != "svcmining":
            return
        known: dict[str, griffe.Object] = {}
        _documented(pkg, known)
        link = _linker(pkg, known)
        stack: list[griffe.Object] = [pkg]
        while stack:
            obj = stack.pop()
            if obj.docstring is not None:
                obj.docstring.value = to_markdown(_ROLE.sub(link(obj), obj.docstring.value))
            stack.extend(m for m in obj.members.values() if not m.is_alias)  # type: ignore[misc]
