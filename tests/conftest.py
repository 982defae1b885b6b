"""Fixtures: a fresh sandbox ("AWS" over HTTP) per test, and the CLI run in-process or as a real process."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from ecs_run_task import aws, cli
from tests.sandbox import Sandbox

ROOT = Path(__file__).resolve().parent.parent
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


def spawn(sb: Sandbox, *argv: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    """The CLI as its own process, as CI runs it (signals, exit status, unbuffered output)."""
    return subprocess.Popen(
        [sys.executable, str(ROOT / "entrypoint.py"), *argv],
        env={**os.environ, **sb.env, "PYTHONUNBUFFERED": "1", **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
