"""A run ends when its answer is known: at the deciding container's exit, not at the task's STOPPED, which ECS
reports after the other containers' stopTimeout and the network teardown (tens of seconds on Fargate), or
never (a non-essential deciding container beside an essential sidecar that runs on)."""

from __future__ import annotations

import json
import time
from pathlib import Path

from sandbox import HOLD, NEVER, Container, ContainerScript, Sandbox, Teardown
from tests.helpers import Run, go, launch, numbered, outputs, register, steps

LIFE = steps(HOLD)
SLOW_TEARDOWN = Teardown(deactivating=0.2, stopping=0.2, deprovisioning=6.0)  # Fargate's ENI detach, shortened
QUICK_TEARDOWN = Teardown(0.05, 0.05, 0.05)


def test_the_run_ends_at_the_containers_exit_not_after_the_teardown(sandbox: Sandbox, run: Run, tmp_path: Path) -> None:
    lines = numbered(20, every=0.02)
    register(sandbox, life=LIFE, teardown=SLOW_TEARDOWN, web=ContainerScript(exit_code=3, exits_after=0.5, lines=lines))
    ran = go(run, "--dotenv", str(tmp_path / "out.env"))
    arn = sandbox.tasks()[0].arn
    task = sandbox.task(arn)
    assert ran.code == 3, ran.out
    assert task.last_status != "STOPPED"  # still tearing down: we did not wait for it
    assert all(f"row {i}" in ran.lines for i in range(20))  # and no line was lost by ending earlier
    got = outputs(tmp_path / "out.env")
    assert (got["STATUS"], got["EXIT_CODE"]) == ("failed", "3")
    assert (got["STOP_CODE"], got["STOPPED_REASON"]) == (
        "EssentialContainerExited",
        "Essential container in task exited",
    )
    assert sandbox.calls("StopTask") == []  # ECS is stopping it already


def test_a_non_essential_deciding_container_ends_the_run_and_its_sidecar_is_stopped(sandbox: Sandbox, run: Run) -> None:
    register(sandbox, Container("migrate", essential=False), Container("envoy"), life=LIFE, teardown=SLOW_TEARDOWN,
             migrate=ContainerScript(exit_code=0, exits_after=0.3, lines=[(0.0, "migrating"), (0.2, "done")]),
             envoy=ContainerScript(exits_after=NEVER, sigterm_delay=0.05))  # fmt: skip
    started = time.monotonic()
    ran = go(run, "--container", "migrate", "--timeout", "60s")
    took = time.monotonic() - started
    assert ran.code == 0, ran.out
    assert took < 10, took  # not the timeout: the task never stops by itself
    [stop] = sandbox.calls("StopTask")
    assert stop["reason"] == "Stopped by ecs-run-task: container migrate exited"
    stopped = [line for line in ran.lines if line.startswith("ecs-run-task: stopped task ")]
    assert stopped == [
        f"ecs-run-task: stopped task {sandbox.tasks()[0].arn.rsplit('/', 1)[-1]}: container migrate exited"
    ]
    assert "[migrate] done" in ran.lines
    sandbox.wait_for_status(sandbox.tasks()[0].arn, "STOPPED")  # nothing left running


def test_an_essential_sidecar_killed_after_the_deciding_container_exited_0_is_a_success(
    sandbox: Sandbox, run: Run, tmp_path: Path
) -> None:
    register(sandbox, Container("migrate"), Container("envoy"), life=LIFE, stop_timeout=0.2, teardown=QUICK_TEARDOWN,
             migrate=ContainerScript(exit_code=0, exits_after=0.3),
             envoy=ContainerScript(exits_after=NEVER, sigterm_delay=NEVER))  # fmt: skip
    ran = go(run, "--container", "migrate", "--dotenv", str(tmp_path / "out.env"))
    assert ran.code == 0, ran.out
    got = outputs(tmp_path / "out.env")
    assert (got["STATUS"], got["EXIT_CODE"]) == ("succeeded", "0")  # envoy's SIGKILL (137) decides nothing
    assert "ecs-run-task: status=succeeded exit-code=0" in ran.lines


def test_without_container_every_essential_container_decides(sandbox: Sandbox, run: Run) -> None:
    """The rule is unchanged: both essential containers must exit 0; the sidecar's 137 fails the run."""
    register(sandbox, Container("migrate"), Container("envoy"), life=LIFE, stop_timeout=0.2, teardown=QUICK_TEARDOWN,
             migrate=ContainerScript(exit_code=0, exits_after=0.3),
             envoy=ContainerScript(exits_after=NEVER, sigterm_delay=NEVER))  # fmt: skip
    ran = go(run)
    assert ran.code == 137, ran.out
    assert "container envoy exited with code 137" in ran.out


def test_the_job_summary_shows_the_status_as_seen_and_the_post_step_has_nothing_left(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    register(sandbox, life=LIFE, teardown=SLOW_TEARDOWN, web=ContainerScript(exit_code=0, exits_after=0.3))
    summary, state = tmp_path / "summary.md", tmp_path / "state"
    summary.touch()
    state.touch()
    env = {"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(summary), "GITHUB_STATE": str(state)}
    proc = launch(sandbox, env=env)
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0, out
    row = next(line for line in summary.read_text().splitlines() if line.startswith("| ["))
    status = row.split(" | ")[3]
    assert status in {"RUNNING", "DEACTIVATING", "STOPPING", "DEPROVISIONING"}, row
    saved = state.read_text()
    assert json.loads(saved.split("task-arns<<")[-1].splitlines()[1]) == []  # the last word: nothing to stop


def test_a_failure_whose_sidecar_we_stopped_keeps_what_ecs_said_at_the_decision(
    sandbox: Sandbox, run: Run, tmp_path: Path
) -> None:
    """Our own StopTask of the rest (stop code UserInitiated) is not why the container failed: outputs and message
    stay as they were when the answer was known."""
    register(sandbox, Container("migrate", essential=False), Container("envoy"), life=LIFE, teardown=QUICK_TEARDOWN,
             migrate=ContainerScript(exit_code=3, exits_after=0.3),
             envoy=ContainerScript(exits_after=NEVER, sigterm_delay=0.05))  # fmt: skip
    ran = go(run, "--container", "migrate", "--dotenv", str(tmp_path / "out.env"))
    assert ran.code == 3, ran.out
    got = outputs(tmp_path / "out.env")
    assert (got["STATUS"], got["EXIT_CODE"], got["STOP_CODE"], got["STOPPED_REASON"]) == ("failed", "3", "", "")
    assert "UserInitiated" not in ran.out
    assert len(sandbox.calls("StopTask")) == 1
    sandbox.wait_for_status(sandbox.tasks()[0].arn, "STOPPED")
