"""The import graph: no cycle, no upward import (`core ← ingest ← rag ← ui`), `generative` imports none of them.

Only the app (`ui`, the generative-lab page) reads `generative`.

Imports inside functions count too: a lazy import is still a dependency, and a cycle through one is a tangle.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LAYERS = {"core": 0, "ingest": 1, "rag": 2, "ui": 3}
PACKAGES = (*LAYERS, "generative")


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph() -> dict[str, set[str]]:
    """module -> the project modules it imports anywhere in its file."""
    modules = {module_name(p): p for package in PACKAGES for p in (ROOT / package).rglob("*.py")}
    graph = {}
    for name, path in modules.items():
        imported = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                imported.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                imported.update(f"{node.module}.{alias.name}" for alias in node.names)
                imported.add(node.module)
        graph[name] = {m for m in imported if m in modules and m != name}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str]:
    """One import cycle as [a, b, ..., a], or [] (depth-first search, colouring nodes on the current path)."""
    state: dict[str, str] = {}
    path: list[str] = []

    def visit(node: str) -> list[str]:
        state[node] = "open"
        path.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                return path[path.index(nxt) :] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        state[node] = "done"
        path.pop()
        return []

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return []


def test_no_import_cycle():
    assert find_cycle(import_graph()) == []


def test_no_upward_import_and_generative_stands_alone():
    wrong = []
    for module, imported in import_graph().items():
        top = module.split(".")[0]
        for other in imported:
            other_top = other.split(".")[0]
            if top == "generative" or other_top == "generative":
                ok = top == other_top or top == "ui"
            else:
                ok = LAYERS[other_top] <= LAYERS[top]
            if not ok:
                wrong.append(f"{module} -> {other}")
    assert wrong == []


def test_the_cycle_finder_finds_a_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) == []
