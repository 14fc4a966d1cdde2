"""The import graph: no cycles, the library never imports the app's toolkits, and no module of the
library imports one above it in the order declared here.

Every module of ``resnet_core``, ``app``, ``benchmarks`` and ``scripts`` is read with ``ast``; its
imports anywhere in the file count (module level, inside functions, under ``TYPE_CHECKING``), since
an import inside a function that runs is as much an import as one at the top.
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("resnet_core", "app", "benchmarks", "scripts")

#: The library's layers, bottom up: a module may import its own layer (without a cycle) and those
#: below, never one above. A new module of resnet_core must be placed here.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("geometry", "spec", "units"),  # leaves: import nothing from the project
    ("selection", "model"),
    ("analysis",),
    ("receptive_field", "diagram", "export", "compare"),
    ("runtime", "weights", "images"),
    ("datasets", "signal", "erf", "race"),  # "why residual": training and gradient measurements on real tensors
    ("commands", "commands.bench", "commands.diagram", "commands.summary"),
    ("cli", "__main__"),
    ("__init__",),  # the package's own namespace (``from resnet_core import analyze``) re-exports the rest
)
LEAVES = LAYERS[0]
#: What the library must never import: the app's toolkits, and the app itself.
NOT_IN_LIBRARY = ("streamlit", "pandas", "plotly", "app")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@cache
def modules() -> dict[str, Path]:
    """Every project module (dotted name → file), packages by their ``__init__``."""
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            found[module_name(path)] = path
    for path in sorted((ROOT / "tests").rglob("*.py")):  # only as import targets
        found[module_name(path)] = path
    return found


def _resolve(current: str, is_package: bool, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = current.split(".")
    base = base if is_package else base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


@cache
def imports(name: str) -> tuple[str, ...]:
    """What module ``name`` imports: project modules by their dotted names (``from pkg import sub`` is
    ``pkg.sub``, ``from pkg import a_name`` is ``pkg``), anything else by its top-level package."""
    path = modules()[name]
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = _resolve(name, path.name == "__init__.py", node)
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules() else base for a in node.names]
        else:
            continue
        for target in targets:
            top = target.split(".")[0]
            if top in (*PACKAGES, "tests"):
                # a dotted import of a project module names it; fall back to its nearest enclosing module
                while target not in modules() and "." in target:
                    target = target.rsplit(".", 1)[0]
                found.append(target)
            else:
                found.append(top)
    return tuple(dict.fromkeys(found))


def project_modules() -> list[str]:
    return [m for m in modules() if m.split(".")[0] in PACKAGES]


def test_the_walk_finds_the_modules_and_their_imports() -> None:
    names = project_modules()
    assert {"resnet_core.analysis", "resnet_core.cli", "app.widgets", "benchmarks.bench_diagram"} <= set(names)
    assert "resnet_core.analysis" in imports("resnet_core.receptive_field")
    assert "resnet_core.commands.summary" in imports("resnet_core.cli")
    assert "streamlit" in imports("app.widgets")
    # function-level imports count: bench_analysis imports torchinfo inside a function
    assert "torchinfo" in imports("benchmarks.bench_analysis")


def test_no_cycles_among_project_modules() -> None:
    graph = {m: [t for t in imports(m) if t in modules() and t.split(".")[0] in PACKAGES] for m in project_modules()}
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    cycles: list[list[str]] = []

    def visit(m: str, path: list[str]) -> None:
        state[m] = 1
        for t in graph.get(m, []):
            if state.get(t) == 1:
                cycles.append([*path[path.index(t) :], t])
            elif t not in state:
                visit(t, [*path, t])
        state[m] = 2

    for m in graph:
        if m not in state:
            visit(m, [m])
    assert not cycles, "import cycles: " + "; ".join(" → ".join(c) for c in cycles)


def test_the_library_never_imports_the_app_or_its_toolkits() -> None:
    bad = {
        m: [t for t in imports(m) if t.split(".")[0] in NOT_IN_LIBRARY]
        for m in project_modules()
        if m.split(".")[0] == "resnet_core"
    }
    assert not {m: t for m, t in bad.items() if t}


def _layer(module: str) -> int:
    short = module.removeprefix("resnet_core").removeprefix(".") or "__init__"
    for i, layer in enumerate(LAYERS):
        if short in layer:
            return i
    raise AssertionError(f"{module} has no place in LAYERS: declare its layer in tests/test_imports.py")


def test_every_library_module_has_a_layer() -> None:
    for m in project_modules():
        if m.split(".")[0] == "resnet_core":
            _layer(m)


def test_no_library_module_imports_one_above_it() -> None:
    upward = [
        f"{m} (layer {_layer(m)}) imports {t} (layer {_layer(t)})"
        for m in project_modules()
        if m.split(".")[0] == "resnet_core"
        for t in imports(m)
        if t.split(".")[0] == "resnet_core" and _layer(t) > _layer(m)
    ]
    assert not upward, "\n".join(upward)


def test_the_leaves_import_nothing_from_the_project() -> None:
    for leaf in LEAVES:
        assert not [t for t in imports(f"resnet_core.{leaf}") if t.split(".")[0] in (*PACKAGES, "tests")], leaf


def test_the_teaching_code_has_no_streamlit() -> None:
    teaching = [m for m in project_modules() if m.startswith("app.teaching")]
    if not teaching:
        pytest.skip("app/teaching does not exist on this branch")
    assert "app.teaching.numbers" in teaching
    assert not {m: imports(m) for m in teaching if "streamlit" in imports(m)}


def test_scripts_and_benchmarks_do_not_import_the_tests() -> None:
    bad = {
        m: [t for t in imports(m) if t.split(".")[0] == "tests"]
        for m in project_modules()
        if m.split(".")[0] in ("scripts", "benchmarks")
    }
    assert not {m: t for m, t in bad.items() if t}
