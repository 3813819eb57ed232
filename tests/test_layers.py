"""The package's shape, checked from its source: no import cycles, no private names shared
across modules, no oversized modules or functions.

The layers themselves (what may import what) are import-linter contracts in pyproject.toml,
run by ``lint-imports`` in CI (.ci/run). This file checks what those contracts do not, with
``ast`` over ``svcmining/*.py`` (no import of the package). The allow-lists below hold the
exceptions that remain, each with its reason; they may only shrink: a new offender fails,
and so does an entry that no longer offends (delete it).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "svcmining"
MAX_MODULE_LINES = 900
MAX_FUNCTION_LINES = 120  # from ``def`` to the last line, without the docstring

#: Third-party packages slow or optional to import: a function-level import of a svcmining
#: module that imports one of them at its top defers it (not an edge for the cycle check).
HEAVY = frozenset(
    {"pm4py", "matplotlib", "dask", "distributed", "pyarrow", "openpyxl", "lxml", "tqdm"}
)


#: Imports of another module's ``_name``: (importer, module, name) -> reason.
PRIVATE_IMPORTS: dict[tuple[str, str, str], str] = {}

#: Import edges allowed to close a cycle: (importer, module) -> reason.
CYCLE_EDGES: dict[tuple[str, str], str] = {
    ("io", "distributed"): (
        "read_tickets(engine='dask') hands its log to the Dask engine (also ignored by the "
        "import-linter contracts); goes with the engine= option"
    ),
}

#: Modules over MAX_MODULE_LINES: module -> reason.
LONG_MODULES: dict[str, str] = {}

#: Functions over MAX_FUNCTION_LINES: "module.qualified_name" -> reason.
LONG_FUNCTIONS: dict[str, str] = {}


@dataclass(frozen=True)
class Import:
    """One import of a svcmining module by another."""

    importer: str
    module: str
    names: tuple[str, ...]  # names taken from it ("" for the module itself)
    line: int
    in_function: bool


def _modules() -> dict[str, ast.Module]:
    return {p.stem: ast.parse(p.read_text(encoding="utf-8")) for p in sorted(PACKAGE.glob("*.py"))}


def _target(node: ast.ImportFrom | ast.Import, alias: ast.alias) -> tuple[str, str] | None:
    """(svcmining module, name taken) for one imported alias, None outside the package."""
    if isinstance(node, ast.Import):
        parts = alias.name.split(".")
        if parts[0] == "svcmining" and len(parts) > 1:
            return parts[1], ""
        return None
    if node.level == 1:
        parts = (node.module or "").split(".")
    elif node.level == 0 and (node.module or "").split(".")[0] == "svcmining":
        parts = (node.module or "").split(".")[1:]
    else:
        return None
    if not parts or parts == [""]:  # from . import name: a module (or a package attribute)
        return alias.name, ""
    return parts[0], alias.name


def _imports(tree: ast.Module, importer: str, modules: set[str]) -> list[Import]:
    found: list[Import] = []

    def walk(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Import | ast.ImportFrom):
                for alias in child.names:
                    hit = _target(child, alias)
                    if hit and hit[0] in modules:
                        found.append(Import(importer, hit[0], (hit[1],), child.lineno, in_function))
            inner = in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
            walk(child, inner)

    walk(tree, False)
    return found


def _module_aliases(tree: ast.Module, modules: set[str]) -> dict[str, str]:
    """Local names bound to svcmining modules (``from . import plots``) -> module."""
    out: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 1 and not node.module:
            for alias in node.names:
                if alias.name in modules:
                    out[alias.asname or alias.name] = alias.name
    return out


def _private_uses(trees: dict[str, ast.Module]) -> set[tuple[str, str, str]]:
    """(importer, module, name) for every ``_name`` of one module used by another."""
    modules = set(trees)
    uses: set[tuple[str, str, str]] = set()
    for name, tree in trees.items():
        for imp in _imports(tree, name, modules):
            for taken in imp.names:
                if taken.startswith("_") and not taken.startswith("__") and imp.module != name:
                    uses.add((name, imp.module, taken))
        aliases = _module_aliases(tree, modules)
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id in aliases
                and node.attr.startswith("_")
                and not node.attr.startswith("__")
            ):
                uses.add((name, aliases[node.value.id], node.attr))
    return uses


def _heavy_at_top(tree: ast.Module) -> bool:
    tops: list[str] = []
    for node in tree.body:
        if isinstance(node, ast.Import):
            tops += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            tops.append(node.module or "")
    return any(name.split(".")[0] in HEAVY for name in tops)


def _import_graph(trees: dict[str, ast.Module]) -> dict[str, set[str]]:
    """module -> the svcmining modules it imports (top level, in functions, TYPE_CHECKING),
    without function-level imports that defer a heavy dependency and allowed CYCLE_EDGES."""
    modules = set(trees)
    heavy = {name for name, tree in trees.items() if _heavy_at_top(tree)}
    graph: dict[str, set[str]] = {name: set() for name in trees}
    for name, tree in trees.items():
        for imp in _imports(tree, name, modules):
            if imp.module == name or (imp.in_function and imp.module in heavy):
                continue
            if (name, imp.module) not in CYCLE_EDGES:
                graph[name].add(imp.module)
    graph.pop("__init__", None)  # the lazy facade imports every module by design
    for targets in graph.values():
        targets.discard("__init__")
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def _code_lines(node: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    """Lines of a function from ``def`` to its end, without its docstring."""
    assert node.end_lineno is not None
    n = node.end_lineno - node.lineno + 1
    first = node.body[0]
    if (
        isinstance(first, ast.Expr)
        and isinstance(first.value, ast.Constant)
        and isinstance(first.value.value, str)
    ):
        assert first.end_lineno is not None
        n -= first.end_lineno - first.lineno + 1
    return n


def _function_sizes(tree: ast.Module, module: str) -> dict[str, int]:
    out: dict[str, int] = {}

    def walk(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                name = f"{prefix}{child.name}"
                out[name] = _code_lines(child)
                walk(child, f"{name}.")
            elif isinstance(child, ast.ClassDef):
                walk(child, f"{prefix}{child.name}.")
            else:
                walk(child, prefix)

    walk(tree, f"{module}.")
    return out


@pytest.fixture(scope="module")
def trees() -> dict[str, ast.Module]:
    return _modules()


def _check_allow_list(found: dict, allowed: dict, what: str) -> None:
    new = sorted(k for k in found if k not in allowed)
    stale = sorted(k for k in allowed if k not in found)
    problems = [f"new {what}: {k} ({found[k]})" for k in new]
    problems += [f"no longer {what}, delete its allow-list entry: {k}" for k in stale]
    assert not problems, "\n".join(problems)


def test_no_import_cycles(trees: dict[str, ast.Module]) -> None:
    """No import cycle among svcmining's modules, imports inside functions counted."""
    cycles = _cycles(_import_graph(trees))
    assert not cycles, f"import cycles: {cycles}"


def test_cycle_check_sees_function_level_imports() -> None:
    """A cycle closed by an import inside a function is found (the checker is not blind)."""
    a = ast.parse("from .b import f\n")
    b = ast.parse("def g():\n    from .a import h\n")
    assert _cycles(_import_graph({"a": a, "b": b})) == [["a", "b"]]
    pm = ast.parse("import matplotlib.pyplot as plt\nfrom .a import x\n")
    a2 = ast.parse("def g():\n    from .pm import draw\n")
    assert _cycles(_import_graph({"a": a2, "pm": pm})) == []  # defers matplotlib


def test_no_private_names_across_modules(trees: dict[str, ast.Module]) -> None:
    """No module imports (or reads through a module alias) another module's ``_name``."""
    found = {k: f"{k[0]} uses {k[1]}.{k[2]}" for k in _private_uses(trees)}
    _check_allow_list(found, PRIVATE_IMPORTS, "private import")


def test_private_check_sees_imports_and_attributes() -> None:
    """``from .m import _x``, ``m._x`` after ``from . import m`` and aliases are all found;
    a public name of a private module is not."""
    trees = {
        "m": ast.parse("_x = 1\ny = 2\n"),
        "a": ast.parse("from .m import _x, y\n"),
        "b": ast.parse("from . import m as mm\n\ndef f():\n    return mm._x + mm.y\n"),
        "c": ast.parse("from . import _priv\nfrom ._priv import public\n"),
        "_priv": ast.parse("public = 1\n"),
    }
    assert _private_uses(trees) == {("a", "m", "_x"), ("b", "m", "_x")}


def test_module_sizes(trees: dict[str, ast.Module]) -> None:
    """No module over 900 lines except the allow-listed ones."""
    found = {}
    for path in sorted(PACKAGE.glob("*.py")):
        n = len(path.read_text(encoding="utf-8").splitlines())
        if n > MAX_MODULE_LINES:
            found[path.stem] = f"{n} lines"
    _check_allow_list(found, LONG_MODULES, f"module over {MAX_MODULE_LINES} lines")


def test_function_sizes(trees: dict[str, ast.Module]) -> None:
    """No function over 120 lines (without its docstring) except the allow-listed ones."""
    found = {}
    for module, tree in trees.items():
        for name, n in _function_sizes(tree, module).items():
            if n > MAX_FUNCTION_LINES:
                found[name] = f"{n} lines"
    _check_allow_list(found, LONG_FUNCTIONS, f"function over {MAX_FUNCTION_LINES} lines")


def test_function_size_counts_code_not_docstring() -> None:
    """A function's size is from ``def`` to its end without the docstring, methods and
    nested functions included under their qualified names."""
    src = 'class K:\n    def m(self):\n        """Doc.\n\n        More.\n        """\n        return 1\n'
    src += "def f():\n    def g():\n        pass\n    return g\n"
    sizes = _function_sizes(ast.parse(src), "x")
    assert sizes == {"x.K.m": 2, "x.f": 4, "x.f.g": 2}
