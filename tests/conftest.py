"""Fixtures: a fresh sandbox ("AWS" over HTTP) per test, and the CLI run in-process or as a real process."""

from __future__ import annotations

import io
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from ecs_run_task import aws, cli
from sandbox import Sandbox

ROOT = Path(__file__).resolve().parent.parent
IMAGE = "ecs-run-task:test"
_CI_VARIABLES = ("GITHUB_ACTIONS", "GITLAB_CI", "GITHUB_OUTPUT", "GITHUB_STATE", "GITHUB_STEP_SUMMARY", "GITHUB_RUN_ID",
                 "CI_JOB_ID", "RUNNER_DEBUG", "AWS_PROFILE", "AWS_SESSION_TOKEN")  # fmt: skip


@pytest.fixture
def sandbox(monkeypatch: pytest.MonkeyPatch) -> Iterator[Sandbox]:
    for name in _CI_VARIABLES:  # tests must not inherit the CI they run in
        monkeypatch.delenv(name, raising=False)
    with Sandbox() as sb:
        for name, value in sb.env.items():
            monkeypatch.setenv(name, value)
        aws._SESSION.clear()  # a new endpoint per test: no botocore session from an earlier one
        sb.create_cluster("Sample")
        yield sb
        assert sb.driver_errors() == []


@dataclass(frozen=True)
class Ran:
    code: int
    out: str

    @property
    def lines(self) -> list[str]:
        return self.out.splitlines()


@pytest.fixture
def run(monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    """The CLI in this process: `run("--cluster", "Sample", ...)`; signal handlers restored after."""
    saved = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}

    def invoke(*argv: str, env: dict[str, str] | None = None) -> Ran:
        out = io.StringIO()
        code = cli.main(list(argv), {**os.environ, **(env or {})}, out)
        return Ran(code, out.getvalue())

    yield invoke
    for sig, handler in saved.items():
        signal.signal(sig, handler)


def missing(what: str) -> None:
    """Skip for a developer, fail in CI: the Docker tests must run where CI runs."""
    if os.environ.get("CI"):
        pytest.fail(f"{what} (CI is set, so this is a failure, not a skip)", pytrace=False)
    pytest.skip(what)


def docker_build(tag: str, *args: str) -> None:
    """`docker build` with the host network (pip reaches its index only that way here)."""
    built = subprocess.run(["docker", "build", "--network", "host", "-q", "-t", tag, *args],
                           check=False, cwd=ROOT, capture_output=True, text=True, timeout=1200)  # fmt: skip
    assert built.returncode == 0, f"docker build -t {tag} failed:\n{built.stdout}\n{built.stderr}"


@pytest.fixture(scope="session")
def docker() -> None:
    if shutil.which("docker") is None:
        missing("no docker command: start an engine with ../shared/tools/docker-up python:3.12-slim")
    info = subprocess.run(["docker", "version", "--format", "{{.Server.Version}}"],
                          check=False, capture_output=True, text=True, timeout=60)  # fmt: skip
    if info.returncode != 0:
        missing(f"no Docker engine answers ({info.stderr.strip()}): run ../shared/tools/docker-up python:3.12-slim")


@pytest.fixture(scope="session")
def image(docker: None) -> str:
    """Our image, built from the work tree once per session (never a stale tag from an earlier build)."""
    docker_build(IMAGE, ".")
    return IMAGE


def spawn(sb: Sandbox, *argv: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    """The CLI as its own process, as CI runs it (signals, exit status, unbuffered output). Its output is read as
    text with universal newlines: a CR reads as a LF (see `spawn_bytes` to see every byte)."""
    return subprocess.Popen(
        [sys.executable, str(ROOT / "entrypoint.py"), *argv],
        env={**os.environ, **sb.env, "PYTHONUNBUFFERED": "1", **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def spawn_bytes(sb: Sandbox, *argv: str, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    """`spawn`, its output read as the bytes the runner reads: every CR kept, the encoding the tool's own."""
    return subprocess.Popen(
        [sys.executable, str(ROOT / "entrypoint.py"), *argv],
        env={**os.environ, **sb.env, "PYTHONUNBUFFERED": "1", **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
