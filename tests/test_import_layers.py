"""The house's imports run one way: down the declared layers, with no cycle and no import hidden
inside a function (the usual way to dodge a cycle). Read from the source with the AST, so
``TYPE_CHECKING`` imports count too: a cycle in the annotations is still a cycle in the design."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "warehouse_causal"
ROOT = "warehouse_causal"

#: Bottom to top. A module may import its own layer and the layers below it; the groups of one
#: layer (decide / mechanisms / planning) are siblings and may not import each other.
LAYERS: list[list[str]] = [
    ["algebra"],
    ["core", "datasets"],
    ["meaning"],
    ["warehouse"],
    ["design"],
    ["fit"],
    ["effects"],
    ["decide", "mechanisms", "planning"],
    ["monitoring"],
    ["reports"],
    ["fluent"],
    ["__init__"],
    ["surfaces"],
    ["__main__"],
]


def _modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


MODULES = _modules()


def _group(module: str) -> str:
    """The layer group of a module: its first component below the package ('__init__' for the root)."""
    if module == ROOT:
        return "__init__"
    return module.split(".")[1]


def _rank(group: str) -> int:
    for rank, groups in enumerate(LAYERS):
        if group in groups:
            return rank
    raise AssertionError(f"{group!r} is in no layer of LAYERS: declare it")


def _target(node: ast.ImportFrom | ast.Import, module: str) -> list[str]:
    """The package modules an import statement loads."""
    if isinstance(node, ast.Import):
        return [a.name for a in node.names if a.name.split(".")[0] == ROOT]
    base = node.module or ""
    if node.level:
        package = module if MODULES[module].name == "__init__.py" else module.rpartition(".")[0]
        for _ in range(node.level - 1):
            package = package.rpartition(".")[0]
        base = f"{package}.{base}" if base else package
    if base.split(".")[0] != ROOT:
        return []
    return [f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base for a in node.names]


def _imports(module: str) -> tuple[set[str], list[tuple[int, str]]]:
    """(modules imported at module level or under TYPE_CHECKING, [(line, module)] imported inside a
    function or class body)."""
    tree = ast.parse(MODULES[module].read_text())
    top: set[str] = set()
    inner: list[tuple[int, str]] = []

    def visit(node: ast.AST, nested: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.Import, ast.ImportFrom)):
                targets = [t for t in _target(child, module) if t != module]
                if nested:
                    inner.extend((child.lineno, t) for t in targets)
                else:
                    top.update(targets)
            is_scope = isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda))
            visit(child, nested or is_scope)

    visit(tree, False)
    return top, inner


GRAPH = {m: _imports(m) for m in MODULES}


def test_every_module_is_in_a_layer() -> None:
    for module in MODULES:
        _rank(_group(module))


def test_no_import_inside_a_function() -> None:
    hidden = [f"{m}:{line} imports {t}" for m, (_, inner) in GRAPH.items() for line, t in inner]
    assert hidden == [], "imports inside functions (move them up, or fix the layer):\n" + "\n".join(hidden)


def test_imports_run_down_the_layers() -> None:
    upward = []
    for module, (top, _) in GRAPH.items():
        source = _group(module)
        for target in top:
            destination = _group(target)
            if destination == source:
                continue
            if _rank(destination) > _rank(source) or _rank(destination) == _rank(source):
                upward.append(f"{module} ({source}) imports {target} ({destination})")
    assert upward == [], "imports against the layer order:\n" + "\n".join(sorted(upward))


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan 1972)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def connect(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            connect(v)
    return found


def test_no_import_cycles() -> None:
    graph = {m: {t for t in top if t in MODULES} for m, (top, _) in GRAPH.items()}
    assert _cycles(graph) == []


@pytest.mark.parametrize("graph, expected", [
    ({"a": {"b"}, "b": {"c"}, "c": {"a"}}, [["a", "b", "c"]]),
    ({"a": {"b"}, "b": set()}, []),
])
def test_cycle_finder_finds_cycles(graph: dict[str, set[str]], expected: list[list[str]]) -> None:
    assert _cycles(graph) == expected


def test_the_checker_sees_a_hidden_import(tmp_path: Path) -> None:
    """The walker reports an import placed in a function body (guards the test itself)."""
    source = "def f():\n    from warehouse_causal.fit import models\n"
    tree = ast.parse(source)
    nested = [n for n in ast.walk(tree.body[0]) if isinstance(n, ast.ImportFrom)]
    assert nested and _target(nested[0], "warehouse_causal.core.errors") == ["warehouse_causal.fit.models"]


# -- the picture of the layers in the README, generated from the same graph ---------------------
PICTURE_START, PICTURE_END = "<!-- layers: generated by tests/test_import_layers.py -->", "<!-- /layers -->"
README = PACKAGE.parent / "README.md"
BASE = {"algebra", "core", "meaning"}


def layer_picture() -> str:
    """A Mermaid diagram of the sub-packages, bottom to top, with an arrow for every pair of
    sub-packages where one imports the other (the number of module imports on the arrow); the
    floors every package stands on (algebra, core, meaning) are listed, not drawn."""
    counts: dict[tuple[str, str], int] = {}
    for module, (top, _) in GRAPH.items():
        for target in top:
            pair = (_group(module), _group(target))
            if pair[0] != pair[1] and pair[1] not in BASE:
                counts[pair] = counts.get(pair, 0) + 1
    names = {g: g if g != "__init__" else "warehouse_causal (wc.*)" for layer in LAYERS for g in layer}
    lines = ["```mermaid", "flowchart BT",
             f"  base[\"{', '.join(sorted(BASE))}: imported by every floor above\"]"]
    for (source, target), n in sorted(counts.items(), key=lambda kv: (_rank(kv[0][0]), kv[0])):
        tail, head = source.strip("_"), target.strip("_")
        lines.append(f'  {tail}["{names[source]}"] -->|{n}| {head}["{names[target]}"]')
    lines.append("```")
    return "\n".join(lines)


def _readme_picture() -> str:
    text = README.read_text()
    start, end = text.index(PICTURE_START) + len(PICTURE_START), text.index(PICTURE_END)
    return text[start:end].strip()


def test_the_readme_picture_is_generated_from_the_code() -> None:
    assert _readme_picture() == layer_picture(), "python tests/test_import_layers.py rewrites the README"


if __name__ == "__main__":
    text = README.read_text()
    start, end = text.index(PICTURE_START) + len(PICTURE_START), text.index(PICTURE_END)
    README.write_text(text[:start] + "\n" + layer_picture() + "\n" + text[end:])
    print("README layer picture rewritten")
