"""The action as GitHub runs it: act runs our Dockerfile's image for `uses: ./` (built by the act_bin fixture on the
local base, as act itself cannot), passes `with:` as INPUT_*, and carries the step's outputs to a later step. The
AWS side is the sandbox on the host loopback."""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from ecs_run_task.printable import unmarked
from sandbox import Sandbox
from tests.helpers import ROOT, script

pytestmark = [pytest.mark.docker, pytest.mark.xdist_group("docker")]  # one worker: one image build, one engine user

WORKFLOW = "tests/e2e/workflows/run-task.yml"


@dataclass(frozen=True)
class Acted:
    code: int
    log: str
    seconds: float

    @property
    def result(self) -> dict[str, Any]:
        """What the later step saw: {"outcome": ..., "outputs": {...}} (see the workflow)."""
        lines = [line.split("E2E-RESULT ", 1)[1] for line in self.log.splitlines() if "| E2E-RESULT " in line]
        assert len(lines) == 1, f"the later step printed no result:\n{self.log}"
        parsed: dict[str, Any] = json.loads(lines[0])
        return parsed

    @property
    def outputs(self) -> dict[str, str]:
        outputs: dict[str, str] = self.result["outputs"]
        return outputs


def act(sb: Sandbox, act_bin: Path, family: str) -> Acted:
    """Run the workflow for `family` in container mode, offline, with host networking for every container."""
    argv = [str(act_bin), "workflow_dispatch", "--workflows", WORKFLOW, "--input", f"task-definition={family}",
            "--platform", "ubuntu-latest=python:3.12-slim", "--pull=false", "--action-offline-mode",
            "--network", "host", "--no-cache-server", "--rm", "--rebuild=false"]  # fmt: skip
    for name, value in sb.env.items():
        argv += ["--env", f"{name}={value}"]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "RUNNER_", "ACTIONS_", "INPUT_"))}
    started = time.monotonic()
    done = subprocess.run(argv, check=False, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    acted = Acted(done.returncode, done.stdout + done.stderr, time.monotonic() - started)
    print(f"act run for {family}: exit {acted.code} in {acted.seconds:.1f}s")
    return acted


def test_a_successful_task_passes_the_step_and_its_outputs_reach_a_later_step(sandbox: Sandbox, act_bin: Path) -> None:
    script(sandbox, "ok", 0, "hello from the task")
    acted = act(sandbox, act_bin, "ok")
    assert acted.code == 0, acted.log
    assert acted.result["outcome"] == "success"
    assert acted.outputs["exit-code"] == "0"
    assert acted.outputs["status"] == "succeeded"
    assert acted.outputs["task-arn"] == sandbox.tasks()[0].arn
    assert "| hello from the task" in acted.log


def test_exit_3_fails_the_step_and_the_outputs_are_still_set(sandbox: Sandbox, act_bin: Path) -> None:
    script(sandbox, "three", 3, "migration failed")
    acted = act(sandbox, act_bin, "three")
    assert acted.code != 0, acted.log
    assert "Failure - Main Run the task" in acted.log
    assert acted.result["outcome"] == "failure"
    assert acted.outputs["exit-code"] == "3"
    assert acted.outputs["status"] == "failed"
    assert acted.outputs["task-arn"] == sandbox.tasks()[0].arn
    assert (acted.outputs["message"], acted.outputs["hint"]) == ("container web exited with code 3", "")


HOSTILE = [
    "::add-mask::exit",
    "::set-output name=exit-code::7",
    "::set-output name=hostile::yes",
    "::save-state name=task-arns::[]",
    "::stop-commands::abc",
    "::set-output name=status::failed",
    "::abc::",
    "##[set-output name=exit-code;]7",
]


def test_workflow_commands_in_the_task_log_change_no_output(sandbox: Sandbox, act_bin: Path) -> None:
    script(sandbox, "hostile", 0, *HOSTILE)
    acted = act(sandbox, act_bin, "hostile")
    assert acted.code == 0, acted.log
    assert acted.outputs["exit-code"] == "0"
    assert acted.outputs["status"] == "succeeded"
    assert "hostile" not in acted.outputs
    # every line reached the log, inside one stop-commands block with a fresh token ("exit" was not masked)
    lines = [re.sub(r"^\[[^]]*\]\s+(?:[^\s:#]{1,2}\s+)?", "", line) for line in acted.log.splitlines()]
    start = next(i for i, line in enumerate(lines) if re.fullmatch(r"::stop-commands::[0-9a-f]{32}", line))
    token = lines[start].removeprefix("::stop-commands::")
    assert lines[start + 1 : start + 1 + len(HOSTILE)] == [unmarked(line) for line in HOSTILE]
    assert lines[start + 1 + len(HOSTILE)] == f"::{token}::"
