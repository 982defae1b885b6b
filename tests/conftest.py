"""Fixtures: a fresh sandbox ("AWS" over HTTP) per test, the CLI run in this process, a Docker engine and our image.
What tests share besides fixtures is in helpers.py."""

from __future__ import annotations

import io
import os
import shutil
import signal
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest

from ecs_run_task import cli
from ecs_run_task.aws import answers
from ecs_run_task.aws import clients as aws
from sandbox import Sandbox
from tests.helpers import Ran, Run, Said, build_image, missing

IMAGE = "ecs-run-task:test"
_CI_VARIABLES = ("GITHUB_ACTIONS", "GITLAB_CI", "GITHUB_OUTPUT", "GITHUB_STATE", "GITHUB_STEP_SUMMARY", "GITHUB_RUN_ID",
                 "CI_JOB_ID", "RUNNER_DEBUG", "AWS_PROFILE", "AWS_SESSION_TOKEN")  # fmt: skip


@pytest.fixture(autouse=True)
def _grouped(request: pytest.FixtureRequest) -> None:
    """A test of an `xdist_group` (Docker, the wheel build) runs in its group's one worker under `--dist loadgroup`:
    two act runs of one job collide on its container name, two builds on the source tree. Should pytest-xdist stop
    grouping, as it silently did under pytest 9.2 (pytest-xdist#1386), this says so."""
    mark = request.node.get_closest_marker("xdist_group")
    if mark and getattr(request.config.option, "loadgroup", False) and "@" not in request.node.nodeid:
        pytest.fail(f"pytest-xdist did not group this test ({mark.args[0]}): see the pin of pytest in pyproject.toml")


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


@pytest.fixture
def ecs(sandbox: Sandbox) -> Any:
    """A plain boto3 ECS client to the sandbox, as another tool or a person would call it (recorded, faults apply)."""
    return sandbox.client("ecs")


@pytest.fixture
def said(monkeypatch: pytest.MonkeyPatch) -> Said:
    """The warnings about odd answers, each said once per process: recorded afresh for this test."""
    record = Said()
    monkeypatch.setattr(answers, "log", record)
    monkeypatch.setattr(answers, "WARNED", set())
    return record


@pytest.fixture
def run() -> Iterator[Run]:
    """The CLI in this process: `run("--cluster", "Sample", ...)`; signal handlers restored after."""
    saved = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}

    def invoke(*argv: str, env: dict[str, str] | None = None) -> Ran:
        out = io.StringIO()
        code = cli.main(list(argv), {**os.environ, **(env or {})}, out)
        return Ran(code, out.getvalue())

    yield invoke
    for sig, handler in saved.items():
        signal.signal(sig, handler)


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
    build_image(IMAGE)
    return IMAGE
