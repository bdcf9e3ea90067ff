"""The engine's import graph, read with ast: no cycle (function-level imports included), no Qt."""
from __future__ import annotations

import ast
from pathlib import Path

from data_paths import ROOT

PACKAGE = "facereid_engine"
QT_MODULES = ("PySide6", "PyQt5", "PyQt6", "PySide2", "shiboken6", "qtpy")


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted((ROOT / PACKAGE).rglob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def _imports(name: str, path: Path, known: set[str]) -> tuple[set[str], set[str]]:
    """(engine modules imported anywhere in the file, top-level names of everything imported)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    engine, everything = set(), set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            targets = [base] + [f"{base}.{alias.name}" for alias in node.names]
        else:
            continue
        for target in targets:
            everything.add(target.split(".")[0])
            # the longest engine module the target names (a name imported from a module is that module)
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != name:
                engine.add(target)
    return engine, everything


def _graph() -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    modules = _modules()
    graph, tops = {}, {}
    for name, path in modules.items():
        graph[name], tops[name] = _imports(name, path, set(modules))
    return graph, tops


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def _without_package_roots(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    """A package's ``__init__`` re-exporting its submodules is not a cycle through the package: an edge
    from a submodule up to one of its enclosing packages is dropped (Python runs the package first)."""
    return {v: {w for w in ws if not v.startswith(w + ".")} for v, ws in graph.items()}


def test_the_engine_has_no_import_cycle():
    graph, _ = _graph()
    assert len(graph) > 50  # the walk found the engine
    assert _cycles(_without_package_roots(graph)) == []


def test_the_checker_sees_a_cycle_hidden_in_a_function():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _cycles(graph) == [["a", "b", "c"]]
    source = "def f():\n    from .b import x\n"
    tree_imports = [n for n in ast.walk(ast.parse(source)) if isinstance(n, ast.ImportFrom)]
    assert tree_imports and tree_imports[0].level == 1  # ast.walk reaches imports inside functions


def test_the_engine_never_imports_qt():
    _, tops = _graph()
    offenders = {name: sorted(t & set(QT_MODULES)) for name, t in tops.items() if t & set(QT_MODULES)}
    assert offenders == {}
