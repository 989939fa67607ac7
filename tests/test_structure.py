"""The codebase's shape: no import cycles, no module too long to read, each layer importing only
what it may.

Every project module (tests excluded) is parsed with ``ast`` and every import counts: at module
level, inside functions (lazy imports) and under ``if TYPE_CHECKING:``, because a cycle that only
the type checker sees is still two modules that cannot be understood apart.

The layers: the Lambda code stands alone; the fleet's configuration builds on the Lambda
contract; the stacks on both; the simulator on the configuration and the decision core; the
local AWS and the demo on anything below them; nothing outside tests/ imports the tests.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("app", "config", "stacks", "lambdas", "sim", "demo", "localaws", "benchmarks")
MAX_LINES = 450
# package -> the project packages it must not import
FORBIDDEN: dict[str, set[str]] = {
    "lambdas": {"config", "stacks", "sim", "demo", "localaws", "benchmarks", "app"},
    "config": {"sim", "demo", "stacks", "localaws", "benchmarks", "app"},
    "stacks": {"sim", "demo", "localaws", "benchmarks"},
    "sim": {"demo", "stacks", "localaws", "benchmarks", "app"},
}
# No project module may import the tests' helpers.
KNOWN = (*PACKAGES, "tests")


# --- the walker --------------------------------------------------------------------------------
def module_files(root: Path, packages: Iterable[str]) -> dict[str, Path]:
    """Dotted module name -> file, for every ``.py`` file of ``packages`` under ``root`` (a
    package ``p`` may also be a single module ``p.py``)."""
    found: dict[str, Path] = {}
    for package in packages:
        single = root / f"{package}.py"
        if single.is_file():
            found[package] = single
        folder = root / package
        if not folder.is_dir():
            continue
        for path in sorted(folder.rglob("*.py")):
            parts = path.relative_to(root).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join(parts)] = path
    return found


def _is_package(path: Path) -> bool:
    return path.name == "__init__.py"


def imports_of(
    name: str, path: Path, modules: Mapping[str, Path], known: Iterable[str]
) -> set[str]:
    """The modules (of ``modules``, or a top-level name in ``known``) that module ``name``
    imports anywhere in its source."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = name if _is_package(path) else name.rpartition(".")[0]
    targets: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".") if package else []
                base_parts = parts[: len(parts) - (node.level - 1)]
                base = ".".join([*base_parts, *([node.module] if node.module else [])])
            else:
                base = node.module or ""
            for alias in node.names:
                # ``from package import module`` imports the submodule; ``from module import
                # name`` the module.
                submodule = f"{base}.{alias.name}"
                targets.add(submodule if submodule in modules else base)
    top = set(known)
    found: set[str] = set()
    for target in targets:
        resolved = _project_module(target, modules)
        if resolved is not None:
            found.add(resolved)
        elif target.split(".")[0] in top:
            found.add(target.split(".")[0])
    found.discard(name)
    return found


def _project_module(target: str, modules: Mapping[str, Path]) -> str | None:
    """The longest prefix of ``target`` that is a project module (``a.b.name`` where ``name`` is
    a function of ``a.b`` resolves to ``a.b``)."""
    parts = target.split(".")
    for end in range(len(parts), 0, -1):
        candidate = ".".join(parts[:end])
        if candidate in modules:
            return candidate
    return None


def import_graph(root: Path, packages: Iterable[str], known: Iterable[str]) -> dict[str, set[str]]:
    modules = module_files(root, packages)
    return {name: imports_of(name, path, modules, known) for name, path in modules.items()}


def top_level_graph(graph: Mapping[str, set[str]]) -> dict[str, set[str]]:
    packages: dict[str, set[str]] = {}
    for module, targets in graph.items():
        top = module.split(".")[0]
        packages.setdefault(top, set()).update(
            t.split(".")[0] for t in targets if t.split(".")[0] != top
        )
    return packages


def cycles(graph: Mapping[str, set[str]]) -> list[str]:
    """One cycle per strongly connected group of nodes, named ``a -> b -> a``, sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[set[str]] = []

    def connect(node: str) -> None:  # Tarjan's algorithm
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                connect(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group: set[str] = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.add(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(group)

    for node in sorted(graph):
        if node not in index:
            connect(node)
    return sorted(_a_cycle(graph, group) for group in groups)


def _a_cycle(graph: Mapping[str, set[str]], group: set[str]) -> str:
    """A shortest cycle through the group's first node, within the group."""
    start = min(group)
    paths = {start: [start]}
    frontier = [start]
    while frontier:
        following: list[str] = []
        for node in frontier:
            for nxt in sorted(graph.get(node, set()) & group):
                if nxt == start:
                    return " -> ".join([*paths[node], start])
                if nxt not in paths:
                    paths[nxt] = [*paths[node], nxt]
                    following.append(nxt)
        frontier = following
    raise AssertionError(f"no cycle through {start} in {sorted(group)}")  # pragma: no cover


# --- the project -------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    return import_graph(ROOT, PACKAGES, KNOWN)


def test_no_import_cycle_between_modules(graph: dict[str, set[str]]) -> None:
    found = cycles(graph)
    assert not found, "import cycles between modules:\n  " + "\n  ".join(found)


def test_no_import_cycle_between_top_level_packages(graph: dict[str, set[str]]) -> None:
    found = cycles(top_level_graph(graph))
    assert not found, "import cycles between packages:\n  " + "\n  ".join(found)


def test_each_package_imports_only_what_its_layer_allows(graph: dict[str, set[str]]) -> None:
    broken = sorted(
        f"{module} imports {target}"
        for module, targets in graph.items()
        for target in targets
        if target.split(".")[0] in FORBIDDEN.get(module.split(".")[0], set())
        or target.split(".")[0] == "tests"
    )
    assert not broken, "imports across the layers:\n  " + "\n  ".join(broken)


def test_no_module_over_the_line_limit() -> None:
    long = sorted(
        f"{path.relative_to(ROOT)}: {lines} lines"
        for path in module_files(ROOT, PACKAGES).values()
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    )
    assert not long, f"modules over {MAX_LINES} lines:\n  " + "\n  ".join(long)


# --- the walker on a small tree ----------------------------------------------------------------
def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def test_the_walker_sees_relative_lazy_and_type_checking_imports(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/a.py": (
                "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .b import B\n"
            ),
            "pkg/b.py": "def f():\n    from pkg import c\n    return c\n",
            "pkg/c.py": "from . import a\nimport os\n",
            "pkg/sub/__init__.py": "from ..a import thing\n",
            "other.py": "import pkg.sub\nfrom pkg.b import f\n",
        },
    )
    graph = import_graph(tmp_path, ("pkg", "other"), ("pkg", "other"))
    assert graph["pkg.a"] == {"pkg.b"}
    assert graph["pkg.b"] == {"pkg.c"}
    assert graph["pkg.c"] == {"pkg.a"}
    assert graph["pkg.sub"] == {"pkg.a"}
    assert graph["other"] == {"pkg.sub", "pkg.b"}
    assert cycles(graph) == ["pkg.a -> pkg.b -> pkg.c -> pkg.a"]


def test_a_package_cycle_is_named_and_a_one_way_import_is_not() -> None:
    modules = {
        "sim.policies": {"sim.simulator", "lambdas.decision"},
        "sim.simulator": {"sim.policies"},
        "config.specs": {"lambdas.decision"},
        "lambdas.decision": set(),
    }
    assert cycles(modules) == ["sim.policies -> sim.simulator -> sim.policies"]
    assert cycles(top_level_graph(modules)) == []
    modules["lambdas.decision"] = {"config.specs"}
    assert cycles(top_level_graph(modules)) == ["config -> lambdas -> config"]
