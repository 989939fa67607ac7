"""config/ is imported by the synth, the simulator and the demo; it imports none of them."""

from __future__ import annotations

import ast
from pathlib import Path

import config

FORBIDDEN = ("sim", "demo", "stacks", "localaws")


def imported_modules(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module)
    return found


def test_config_imports_no_package_that_builds_on_it() -> None:
    package = Path(config.__file__).parent
    offending = {
        f"{path.name}: {module}"
        for path in sorted(package.glob("*.py"))
        for module in imported_modules(path)
        if module.split(".")[0] in FORBIDDEN
    }
    assert offending == set()


def test_the_check_sees_imports_inside_functions(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from sim.coldstart import x\n    import demo.run\n")
    assert imported_modules(module) == {"sim.coldstart", "demo.run"}
