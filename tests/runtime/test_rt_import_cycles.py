"""No import cycles inside ``runtime/`` and ``loyadsl/``: the modules' imports, read with ``ast``.

Every import that runs counts, wherever it is written: at the top or inside a function (a lazy
import only hides a cycle from Python's loader). An import under ``if TYPE_CHECKING:`` never runs
and names a type only, so it is no edge. ``from .x import y`` is an edge to ``x`` (to ``x.y`` when
that is a module); ``from . import y`` to ``y`` when it is a module, else to the package. Only the
modules of this repository are nodes.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Cycles tolerated for now: none. Nothing may be added here.
KNOWN_CYCLES: set[frozenset[str]] = set()


def modules() -> dict[str, Path]:
    """Module name -> file, for ``loyadsl`` (not through its symbolic links) and ``runtime`` (as
    ``loyadsl.runtime``, the only name it is imported by)."""
    found: dict[str, Path] = {}
    for base, package in ((ROOT / "loyadsl", "loyadsl"), (ROOT / "runtime", "loyadsl.runtime")):
        for path in sorted(base.rglob("*.py")):
            relative = path.relative_to(base)
            if any((base / part).is_symlink() for part in relative.parents if str(part) != "."):
                continue
            parts = [package, *relative.with_suffix("").parts]
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def imports(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    """The repository's modules that module ``name`` imports."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out: set[str] = set()
    for node in _executed(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{base}.{node.module}" if node.module else base
            else:
                base = node.module or ""
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                out.add(sub if sub in known else base)
    return {target for target in out if target in known and target != name}


def _executed(tree: ast.AST) -> list[ast.AST]:
    """The nodes of ``tree`` outside ``if TYPE_CHECKING:`` blocks."""
    out: list[ast.AST] = []
    todo = [tree]
    while todo:
        node = todo.pop()
        out.append(node)
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            todo.extend(node.orelse)
            continue
        todo.extend(ast.iter_child_nodes(node))
    return out


def graph() -> dict[str, set[str]]:
    known = modules()
    edges = {name: imports(name, path, known) for name, path in known.items()}
    for pair in KNOWN_CYCLES:
        a, b = sorted(pair)
        edges[a].discard(b)
        edges[b].discard(a)
    return edges


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(edges):
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_the_graph_sees_the_package_and_the_runtime() -> None:
    edges = graph()
    assert "loyadsl.runtime.engine" in edges and "loyadsl.compile.codegen" in edges
    assert "loyadsl.runtime.opcodes" in edges["loyadsl.compile.codegen"]
    assert "loyadsl.runtime.jsonio" in edges["loyadsl.runtime.model"]  # `from . import jsonio`


def test_lazy_imports_count_type_checking_ones_do_not(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .a import A\n"
                      "def f():\n    from .b import B\n", encoding="utf-8")
    known = {"p.m": module, "p.a": module, "p.b": module}
    assert imports("p.m", module, known) == {"p.b"}


def test_the_finder_finds_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycles() -> None:
    found = cycles(graph())
    assert not found, "import cycles: " + "; ".join(" <-> ".join(c) for c in found)
