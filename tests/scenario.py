"""Shared by the reliability suite: scripted tasks, running the CLI, reading outputs, and the figures.

Tests add to `docs/reliability.md` (see `tests/reliability.py`) through `record_property`: `runs` (tool runs
the test made, default 1), `fault` (a kind of fault the sandbox's call log cannot see: a signal, bad input,
a task failure), and `lines_expected` / `lines_lost` via `count_lines`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from pathlib import Path

from sandbox import Container, ContainerScript, Sandbox, Scripted, Step
from tests.conftest import Ran

Run = Callable[..., Ran]
Record = Callable[[str, object], None]


def steps(running: float) -> list[Step]:
    return [Step("PROVISIONING", 0.05), Step("PENDING", 0.05), Step("RUNNING", running)]


def register(
    sb: Sandbox,
    *containers: Container,
    running: float = 0.3,
    life: list[Step] | None = None,
    stop_code: str = "EssentialContainerExited",
    stopped_reason: str = "Essential container in task exited",
    scripts: Mapping[str, ContainerScript] | None = None,
    **by_name: ContainerScript,
) -> str:
    """Family `app` (log group /ecs/app) whose tasks play `scripts` / `by_name`; returns the task definition ARN."""
    every = {**(scripts or {}), **by_name}
    behaviour = Scripted(steps=life or steps(running), containers=every, stop_code=stop_code,
                         stopped_reason=stopped_reason)  # fmt: skip
    return sb.register("app", list(containers) or [Container("web")], behaviour, log_group="/ecs/app")


def go(run: Run, *args: str, env: Mapping[str, str] | None = None) -> Ran:
    return run("--cluster", "Sample", "-t", "app", "--poll-interval", "200ms", *args, env=dict(env or {}))


def outputs(path: Path) -> dict[str, str]:
    """A `--dotenv` file as a dict (KEY=VALUE lines)."""
    return dict(line.split("=", 1) for line in path.read_text().splitlines())


def numbered(n: int, every: float = 0.005, word: str = "row") -> list[tuple[float, str]]:
    return [(i * every, f"{word} {i}") for i in range(n)]


def count_lines(record: Record, expected: list[str], printed: list[str]) -> None:
    """For the figures: lines the task wrote, and how many of them the run did not print."""
    record("lines_expected", len(expected))
    record("lines_lost", sum((Counter(expected) - Counter(printed)).values()))
