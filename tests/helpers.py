"""What the tests share, written once (pipx's tests/helpers.py is the model); the fixtures are in conftest.py.

- running the CLI: `Ran` is what a run gave, `Run` the `run` fixture's type; `go(run, ...)` runs it in this process
  over family `app` of cluster `Sample`, `launch(sb, ...)` as a process of its own (signals, exit status, stdout
  and stderr as CI reads them), `spawn`/`spawn_bytes` any argv as a process;
- the sandbox's side: `register` a task definition whose tasks play a scripted life (`steps`), `script` one that
  prints a few lines and exits, `start_task`/`describe_task` through a plain client;
- what a run wrote: `outputs` (a `--dotenv` file), `assert_no_secret`; what it warned about: `Said`;
- the reliability figures (`docs/reliability.md`, see `tests/reliability.py`), which tests add to through
  `record_property` (`Record`): `runs` (tool runs the test made, default 1), `fault` (a kind of fault the
  sandbox's call log cannot see: a signal, bad input, a task failure), and `lines_expected` / `lines_lost` through
  `count_lines`;
- what needs Docker: `missing` (skip for a developer, fail in CI), `docker_build`, `build_image` (our Dockerfile on
  the local stand-in for its pinned base: `local_dockerfile`).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from sandbox import Container, ContainerScript, Sandbox, Scripted, Step, Teardown

ROOT = Path(__file__).resolve().parent.parent
FAMILY = "app"
# what every run over the registered family starts with: `go(run, *more)`, `launch(sb, *more)`
GO = ("--cluster", "Sample", "-t", FAMILY, "--poll-interval", "200ms")


@dataclass(frozen=True)
class Ran:
    code: int
    out: str

    @property
    def lines(self) -> list[str]:
        return self.out.splitlines()


Run = Callable[..., Ran]
Record = Callable[[str, object], None]


def go(run: Run, *args: str, env: Mapping[str, str] | None = None) -> Ran:
    """`ecs-run-task --cluster Sample -t app --poll-interval 200ms ARGS` in this process (a later flag wins)."""
    return run(*GO, *args, env=dict(env or {}))


def spawn(sb: Sandbox, *argv: str, env: Mapping[str, str] | None = None) -> subprocess.Popen[str]:
    """The CLI as its own process, as CI runs it (signals, exit status, unbuffered output), stderr into stdout. Its
    output is read as text with universal newlines: a CR reads as a LF (see `spawn_bytes` to see every byte)."""
    return subprocess.Popen(
        [sys.executable, str(ROOT / "entrypoint.py"), *argv],
        env={**os.environ, **sb.env, "PYTHONUNBUFFERED": "1", **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def spawn_bytes(sb: Sandbox, *argv: str, env: Mapping[str, str] | None = None) -> subprocess.Popen[bytes]:
    """`spawn`, its output read as the bytes the runner reads: every CR kept, the encoding the tool's own."""
    return subprocess.Popen(
        [sys.executable, str(ROOT / "entrypoint.py"), *argv],
        env={**os.environ, **sb.env, "PYTHONUNBUFFERED": "1", **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def launch(sb: Sandbox, *args: str, env: Mapping[str, str] | None = None) -> subprocess.Popen[str]:
    """`go`, as a process of its own: `ecs-run-task --cluster Sample -t app --poll-interval 200ms ARGS`."""
    return spawn(sb, *GO, *args, env=env)


def steps(running: float) -> list[Step]:
    """A short start, then RUNNING for `running` seconds: when it ends, every container exits as scripted."""
    return [Step("PROVISIONING", 0.05), Step("PENDING", 0.05), Step("RUNNING", running)]


def register(
    sb: Sandbox,
    *containers: Container,
    family: str = FAMILY,
    running: float = 0.3,
    life: list[Step] | None = None,
    stop_code: str = "EssentialContainerExited",
    stopped_reason: str = "Essential container in task exited",
    teardown: Teardown | None = None,
    stop_timeout: float | None = None,
    scripts: Mapping[str, ContainerScript] | None = None,
    **by_name: ContainerScript,
) -> str:
    """Family `app` (log group /ecs/app; one container `web` unless `containers` are given) whose tasks live
    `life` (default: `steps(running)`) and whose containers play `scripts` / `by_name`; the task definition's ARN."""
    more: dict[str, Any] = {} if stop_timeout is None else {"stop_timeout": stop_timeout}
    behaviour = Scripted(steps=life or steps(running), containers={**(scripts or {}), **by_name}, stop_code=stop_code,
                         stopped_reason=stopped_reason, teardown=teardown, **more)  # fmt: skip
    return sb.register(family, list(containers) or [Container("web")], behaviour, log_group="/ecs/app")


def script(sb: Sandbox, family: str, exit_code: int, *lines: str) -> None:
    """A task of `family` that prints `lines` at once and exits `exit_code` after a second of RUNNING (long enough
    for a process started in a container to see it run)."""
    register(sb, family=family, life=[Step("PROVISIONING", 0.1), Step("PENDING", 0.2), Step("RUNNING", 1.0)],
             web=ContainerScript(exit_code, lines=[(0.0, line) for line in lines]))  # fmt: skip


def start_task(ecs: Any, family: str, **request: Any) -> str:
    """RunTask in cluster Sample through a plain boto3 client, as another pipeline would; the task's ARN."""
    answer = ecs.run_task(cluster="Sample", taskDefinition=family, **request)
    assert answer["failures"] == []
    return str(answer["tasks"][0]["taskArn"])


def describe_task(ecs: Any, arn: str) -> dict[str, Any]:
    task: dict[str, Any] = ecs.describe_tasks(cluster="Sample", tasks=[arn])["tasks"][0]
    return task


def outputs(path: Path) -> dict[str, str]:
    """A `--dotenv` file as a dict (KEY=VALUE lines)."""
    return dict(line.split("=", 1) for line in path.read_text().splitlines())


@dataclass
class Said:
    """Our own diagnostics, recorded (the `said` fixture puts it in place of answers.py's log)."""

    warnings: list[str] = field(default_factory=list)

    def warning(self, event: str, **_fields: Any) -> None:
        self.warnings.append(event)


def assert_no_secret(text: str, secrets: Iterable[str]) -> None:
    """No secret in `text`, nor its first 12 characters (a value cut short leaks too)."""
    for secret in secrets:
        assert secret[:12] not in text, f"{secret} leaked:\n{text[-3000:]}"


def numbered(n: int, every: float = 0.005, word: str = "row") -> list[tuple[float, str]]:
    """`n` lines for a container script, `every` seconds apart: "row 0", "row 1", ..."""
    return [(i * every, f"{word} {i}") for i in range(n)]


def count_lines(record: Record, expected: list[str], printed: list[str]) -> None:
    """For the figures: lines the task wrote, and how many of them the run did not print."""
    record("lines_expected", len(expected))
    record("lines_lost", sum((Counter(expected) - Counter(printed)).values()))


def missing(what: str) -> None:
    """Skip for a developer, fail in CI: the Docker tests must run where CI runs."""
    if os.environ.get("CI"):
        pytest.fail(f"{what} (CI is set, so this is a failure, not a skip)", pytrace=False)
    pytest.skip(what)


def docker_build(tag: str, *args: str, dockerfile: str | None = None) -> None:
    """`docker build` with the host network (pip reaches its index only that way here); `dockerfile`: its text,
    given on stdin (`-f -`) with ARGS ending in the context."""
    flags = ["-f", "-"] if dockerfile is not None else []
    built = subprocess.run(["docker", "build", "--network", "host", "-q", "-t", tag, *flags, *args], input=dockerfile,
                           check=False, cwd=ROOT, capture_output=True, text=True, timeout=1200)  # fmt: skip
    assert built.returncode == 0, f"docker build -t {tag} failed:\n{built.stdout}\n{built.stderr}"


# The Dockerfile's base is pinned by digest, which only a registry serves. No registry is reachable here (nor
# needed in CI): every local build of our image starts from this local image instead, named in the base stage's
# one FROM line (the Dockerfile says how by hand). A release builds the Dockerfile as it is.
LOCAL_BASE = "python:3.12-slim"
PINNED_BASE = re.compile(r"^FROM python:3\.12-slim@sha256:[0-9a-f]{64} AS base$", re.MULTILINE)


def local_dockerfile() -> str:
    """The Dockerfile's text with LOCAL_BASE in place of the pinned base."""
    text, replaced = PINNED_BASE.subn(f"FROM {LOCAL_BASE} AS base", (ROOT / "Dockerfile").read_text())
    assert replaced == 1, "the Dockerfile has no `FROM python:3.12-slim@sha256:<digest> AS base` line to replace"
    return text


def build_image(tag: str) -> None:
    """Our image, built from the work tree on LOCAL_BASE."""
    docker_build(tag, ".", dockerfile=local_dockerfile())
