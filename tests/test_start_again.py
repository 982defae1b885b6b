"""Starting again: a task that was not placed, or never ran, for a cause that may pass is started again (within
`start-retries` and the timeout), each time with a new clientToken; never once a deciding container has run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ecs_run_task.engine import retries
from sandbox import ContainerScript, Sandbox, Scripted
from tests.helpers import Run, go, launch, outputs
from tests.lives import ENI, PULL_404, QUICK, exits, family, never_ran, sigterm_once_said


@pytest.fixture(autouse=True)
def quick_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """Retries in tenths of seconds (the real pauses, 3 s doubling, are in test_retries.py)."""
    monkeypatch.setattr(retries, "FIRST_PAUSE", 0.1)


def test_two_capacity_refusals_then_success(sandbox: Sandbox, run: Run, tmp_path: Path) -> None:
    family(sandbox, exits(3, "migrated"))
    sandbox.fail_run_task(
        "Capacity is unavailable at this time. Please try again later or in a different availability zone"
    )
    sandbox.fail_run_task("RESOURCE:MEMORY")
    summary = tmp_path / "summary.md"
    summary.touch()
    ran = go(run, "--dotenv", str(tmp_path / "out.env"), env={"GITHUB_STEP_SUMMARY": str(summary)})
    assert ran.code == 3, ran.out
    requests = sandbox.calls("RunTask")
    assert len(requests) == 3
    assert len({r["clientToken"] for r in requests}) == 3  # each attempt a new token: never the same task twice
    [task] = sandbox.tasks()
    assert outputs(tmp_path / "out.env")["TASK_ARN"] == task.arn
    retries = [line for line in ran.lines if "retrying in" in line]
    assert [line.rsplit("attempt ", 1)[-1] for line in retries] == ["2 of 3", "3 of 3"]
    assert retries[0].startswith("ecs-run-task: warning: RunTask placed no task: Capacity is unavailable at this time")


def test_a_task_that_never_ran_for_an_eni_timeout_is_started_again(sandbox: Sandbox, run: Run, tmp_path: Path) -> None:
    family(sandbox, never_ran(ENI), exits(0, "migrated"))
    ran = go(run, "--dotenv", str(tmp_path / "out.env"))
    assert ran.code == 0, ran.out
    first, second = sandbox.tasks()
    got = outputs(tmp_path / "out.env")
    assert (got["TASK_ARN"], json.loads(got["TASK_ARNS"])) == (second.arn, [second.arn])  # the task that ran
    assert f"task {first.arn.rsplit('/', 1)[-1]} never ran" in ran.out
    assert "migrated" in ran.lines


def test_no_retry_once_a_deciding_container_ran(sandbox: Sandbox, run: Run) -> None:
    """Spot reclaimed the task after the migration had started: it may be half applied, so it is not run again."""
    family(sandbox, Scripted(steps=QUICK, containers={"web": ContainerScript(exit_code=143)},
                             stop_code="SpotInterruption", stopped_reason="Your Spot Task was interrupted."))  # fmt: skip
    ran = go(run)
    assert ran.code == 143, ran.out
    assert len(sandbox.calls("RunTask")) == 1


def test_no_retry_for_an_image_that_does_not_exist(sandbox: Sandbox, run: Run) -> None:
    family(sandbox, never_ran("CannotPullContainerError: Error response from daemon", PULL_404))
    ran = go(run)
    assert ran.code == 125, ran.out
    assert len(sandbox.calls("RunTask")) == 1
    assert "retrying" not in ran.out


def test_with_count_3_only_the_task_that_was_not_placed_is_started_again(sandbox: Sandbox, run: Run) -> None:
    family(sandbox, exits(0))
    sandbox.place_only(2)
    ran = go(run, "--count", "3")
    assert ran.code == 0, ran.out
    assert [r["count"] for r in sandbox.calls("RunTask")] == [3, 1]
    assert len(sandbox.tasks()) == 3
    assert "RunTask could not place 1 of 3 tasks: RESOURCE:MEMORY; retrying in" in ran.out


def test_start_retries_0_tries_once(sandbox: Sandbox, run: Run) -> None:
    family(sandbox, exits(0))
    sandbox.fail_run_task("RESOURCE:MEMORY")
    ran = go(run, "--start-retries", "0")
    assert ran.code == 125, ran.out
    assert len(sandbox.calls("RunTask")) == 1


def test_a_signal_in_the_pause_before_starting_again_cancels(sandbox: Sandbox, tmp_path: Path) -> None:
    """The failed start is not the run's answer while another start is coming: a cancel is a cancel."""
    family(sandbox, never_ran(ENI), exits(0))
    proc = launch(sandbox, "--dotenv", str(tmp_path / "out.env"))  # its own process: the real pause, 2.25 s or more
    out = sigterm_once_said(proc, "retrying in")
    assert proc.returncode == 143, out
    assert outputs(tmp_path / "out.env")["STATUS"] == "cancelled"
    assert len(sandbox.calls("RunTask")) == 1


def test_a_revision_ecs_cannot_describe_yet_is_started_again(
    sandbox: Sandbox, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Right after RegisterTaskDefinition, RunTask may answer "Unable to describe task definition" (ECS is eventually
    consistent): the start is tried again within `start-retries`, with a line saying why."""
    monkeypatch.setattr(retries, "FIRST_PAUSE", 1.0)  # pauses of about 1 s, then 2 s: past the 2 s below
    family(sandbox, exits(0, "migrated"))
    sandbox.consistency.revision_lag = 2.0
    ran = go(run, "--image", "acme/app:v2")
    assert ran.code == 0, ran.out
    assert "migrated" in ran.lines
    said = [line for line in ran.lines if "Unable to describe task definition" in line]
    assert said, ran.out
    assert said[0].startswith("ecs-run-task: warning: ecs:RunTask failed: ClientException: Unable to describe task "
                              "definition. (ECS may not know revision app:2 yet, a moment after it was registered); "
                              "retrying in 1s, attempt 2 of 3")  # fmt: skip
    assert len(sandbox.tasks()) == 1
