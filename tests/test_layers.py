"""The tree shows the layers, and no import runs back up: each package of `ecs_run_task` imports only from the
layers below it (and from itself). Read top-down, a run is cli -> report / engine -> plan -> aws -> verdict ->
inputs -> the shared vocabulary (errors, exit codes, statuses, ARNs, printable text, our own diagnostics)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src" / "ecs_run_task"
# lowest first; a module at the package's top level is the shared vocabulary, but for the entry points
LAYERS = ("shared", "inputs", "verdict", "aws", "plan", "engine", "report", "entry")
ENTRY = {"cli", "__main__", "playground"}


def layer_of(module: str) -> str:
    """`ecs_run_task.engine.watch` -> engine; `ecs_run_task.errors` -> shared; `ecs_run_task.cli` -> entry."""
    parts = module.split(".")[1:]
    if not parts or (len(parts) == 1 and parts[0] not in LAYERS):
        return "entry" if parts and parts[0] in ENTRY else "shared"
    return parts[0]


def imported(path: Path) -> list[str]:
    """The `ecs_run_task` modules a file imports, type-only imports and imports inside functions included."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("ecs_run_task"):
            found += [f"{node.module}.{alias.name}" if node.module == "ecs_run_task" else node.module
                      for alias in node.names]  # fmt: skip
        elif isinstance(node, ast.Import):
            found += [alias.name for alias in node.names if alias.name.startswith("ecs_run_task")]
    return found


def module_name(path: Path) -> str:
    relative = path.relative_to(SRC.parent).with_suffix("")
    return ".".join(p for p in relative.parts if p != "__init__")


MODULES = sorted(SRC.rglob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(SRC)))
def test_a_module_imports_only_from_its_layer_and_below(path: Path) -> None:
    mine = LAYERS.index(layer_of(module_name(path)))
    upward = [m for m in imported(path) if LAYERS.index(layer_of(m)) > mine]
    assert upward == [], f"{module_name(path)} ({LAYERS[mine]}) imports from a layer above it"


def test_every_package_is_a_layer() -> None:
    packages = {p.parent.name for p in SRC.rglob("__init__.py")} - {SRC.name}
    assert packages <= set(LAYERS)


def test_the_layer_names_read_as_the_tree() -> None:
    assert layer_of("ecs_run_task.engine.watch") == "engine"
    assert layer_of("ecs_run_task.errors") == "shared"
    assert layer_of("ecs_run_task.cli") == "entry"
    assert layer_of("ecs_run_task") == "shared"


def test_imports_are_found_in_every_form() -> None:
    found = imported(SRC / "cli.py")
    assert "ecs_run_task.engine.runner" in found  # inside a function
    assert "ecs_run_task.engine.session" in found  # under TYPE_CHECKING
    assert "ecs_run_task.diagnostics" in found  # `from ecs_run_task import diagnostics`
