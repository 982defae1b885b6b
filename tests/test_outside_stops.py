"""A task stopped from outside while its deciding container runs never passes the gate: `interrupted`, the
container's own code when non-zero, else 143, the stop code and who stopped it named, with a hint. Our own
StopTask (the rest of a task after its answer) is never taken for one."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from sandbox import HOLD, NEVER, Container, ContainerScript, OutsideStop, Sandbox, Scripted, Step
from sandbox.spec import OUTSIDE_REASONS
from tests.helpers import Record, count_lines, go, launch, outputs, register

STARTED = [(0.0, "== 20260101 CreateUsers: migrating"), (0.1, "-- create_table(:users)")]


def test_a_stop_by_someone_else_while_the_migration_runs_is_interrupted_even_when_it_exits_0(
    sandbox: Sandbox, ecs: Any, tmp_path: Path, record_property: Record
) -> None:
    """Another pipeline (or a person) calls StopTask mid-migration; the container exits 0 on SIGTERM, as many
    frameworks do. The deploy must not go on over a half-applied migration."""
    record_property("fault", "outside stop")
    register(sandbox, life=[Step("PROVISIONING", 0.05), Step("RUNNING", HOLD)],
             web=ContainerScript(0, lines=STARTED, sigterm_exit_code=0, sigterm_delay=0.2))  # fmt: skip
    proc = launch(sandbox, "--format", "plain", "--dotenv", str(tmp_path / "out.env"))
    arn = sandbox.wait_for_any_task(timeout=30)
    sandbox.wait_for_log_lines(arn, "web", len(STARTED), timeout=30)
    ecs.stop_task(cluster="Sample", task=arn, reason="Stopped by the release bot: rollback of 4f2a")
    out, _ = proc.communicate(timeout=60)
    count_lines(record_property, [m for _, m in STARTED], out.splitlines())
    assert proc.returncode == 143, out
    got = outputs(tmp_path / "out.env")
    assert (got["STATUS"], got["EXIT_CODE"], got["STOP_CODE"]) == ("interrupted", "0", "UserInitiated")
    assert got["STOPPED_REASON"] == "Stopped by the release bot: rollback of 4f2a"
    assert "ecs-run-task: error: container web was interrupted: the task was stopped from outside" in out
    assert ("task " + arn.rsplit("/", 1)[-1] + ": interrupted: ECS was asked from outside to "
            "stop the task (stopCode=UserInitiated: Stopped by the release bot: rollback of 4f2a) "
            "while container web ran; it exited with code 0; an exit after a stop from outside never counts as "
            "success, so we exit 143") in out  # fmt: skip
    assert "ecs-run-task: likely cause: ECS was asked to stop the task while the container ran, because someone" in out
    assert all(m in out.splitlines() for _, m in STARTED)  # its lines shown
    assert [c["reason"] for c in sandbox.calls("StopTask")] == ["Stopped by the release bot: rollback of 4f2a"]
    assert "succeeded" not in out


def test_a_non_zero_exit_after_a_stop_from_outside_keeps_its_code_and_says_who_stopped_it(
    sandbox: Sandbox, ecs: Any, tmp_path: Path, record_property: Record
) -> None:
    record_property("fault", "outside stop")
    register(sandbox, life=[Step("PROVISIONING", 0.05), Step("RUNNING", HOLD)],
             web=ContainerScript(0, lines=STARTED, sigterm_exit_code=1))  # fmt: skip
    proc = launch(sandbox, "--format", "json", "--dotenv", str(tmp_path / "out.env"))
    arn = sandbox.wait_for_any_task(timeout=30)
    sandbox.wait_for_log_lines(arn, "web", len(STARTED), timeout=30)
    ecs.stop_task(cluster="Sample", task=arn)  # a person in the console: ECS's own reason
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 1, out
    got = outputs(tmp_path / "out.env")
    assert (got["STATUS"], got["EXIT_CODE"], got["STOP_CODE"]) == ("interrupted", "1", "UserInitiated")
    assert "it exited with code 1" in out
    assert "so we exit 143" not in out


def test_our_own_stop_of_an_essential_sidecar_after_the_answer_is_no_stop_from_outside(
    sandbox: Sandbox, run: Any, tmp_path: Path
) -> None:
    """The deciding container is not essential and exits 0; an essential sidecar runs on, so the run stops the
    rest of the task itself: that StopTask is ours, and the answer stands."""
    register(sandbox, Container("migrate", essential=False), Container("envoy"), running=0.3,
             migrate=ContainerScript(0, exits_after=0.3), envoy=ContainerScript(0, exits_after=NEVER))  # fmt: skip
    ran = go(run, "--container", "migrate", "--format", "plain", "--dotenv", str(tmp_path / "out.env"))
    assert ran.code == 0, ran.out
    assert outputs(tmp_path / "out.env")["STATUS"] == "succeeded"
    [stop] = sandbox.calls("StopTask")
    assert stop["reason"].startswith("Stopped by ecs-run-task: container migrate exited")


@pytest.mark.parametrize("stop_code", ["SpotInterruption", "ServiceSchedulerInitiated", "TerminationNotice"])
def test_spot_the_scheduler_or_a_retired_host_stopping_the_migration_is_interrupted(
    sandbox: Sandbox, tmp_path: Path, record_property: Record, stop_code: str
) -> None:
    """ECS stops the task 1 s into its run (Spot reclaims the capacity, a deployment scales in, the host is
    retired); the migration traps SIGTERM and exits 0 half a second later, as Rails and many frameworks do."""
    record_property("fault", "outside stop")
    lines = [(0.0, "== 20260101 AddIndexToOrders: migrating"), (0.5, "-- add_index(:orders, :customer_id)")]
    sandbox.register("app", [Container("web")], log_group="/ecs/app")
    sandbox.behave("app", Scripted(
        steps=[Step("PROVISIONING", 0.05), Step("PENDING", 0.1), Step("RUNNING", HOLD)],
        containers={"web": ContainerScript(exits_after=NEVER, lines=lines, sigterm_delay=0.5, sigterm_exit_code=0)},
        outside_stop=OutsideStop(after=1.0, stop_code=stop_code)))  # fmt: skip
    proc = launch(sandbox, "--format", "plain", "--dotenv", str(tmp_path / "out.env"))
    out, _ = proc.communicate(timeout=60)
    [task] = sandbox.tasks()
    count_lines(record_property, [m for _, m in lines], out.splitlines())
    assert proc.returncode == 143, out
    got = outputs(tmp_path / "out.env")
    reason = OUTSIDE_REASONS[stop_code]
    assert (got["STATUS"], got["EXIT_CODE"], got["STOP_CODE"], got["STOPPED_REASON"]) == (
        "interrupted", "0", stop_code, reason)  # fmt: skip
    assert (f"interrupted: ECS was asked from outside to stop the task (stopCode={stop_code}: {reason}) while container web "
            "ran; it exited with code 0") in out  # fmt: skip
    assert "ecs-run-task: likely cause: ECS was asked to stop the task while the container ran, because" in out
    assert [(s.by, s.stop_code) for s in sandbox.stops(task.arn)] == [("outside", stop_code)]  # what the driver saw
    assert sandbox.calls("StopTask") == []  # none of ours
    assert task.ran
    assert all(m in out.splitlines() for _, m in lines)


def test_a_migration_that_exits_0_on_the_sigterm_an_essential_sidecar_crash_brought_is_interrupted(
    sandbox: Sandbox, run: Any, tmp_path: Path
) -> None:
    """envoy (essential) crashes mid-migration: ECS stops the task (EssentialContainerExited) and sends migrate
    SIGTERM, on which it exits 0, half applied. Not its own exit, not our stop: no success."""
    register(sandbox, Container("migrate"), Container("envoy"), life=[Step("PROVISIONING", 0.05), Step("RUNNING", HOLD)],
             migrate=ContainerScript(0, exits_after=NEVER, lines=STARTED, sigterm_exit_code=0, sigterm_delay=0.2),
             envoy=ContainerScript(1, exits_after=1.0))  # fmt: skip
    ran = go(run, "--container", "migrate", "--dotenv", str(tmp_path / "out.env"))
    assert ran.code == 143, ran.out
    out = outputs(tmp_path / "out.env")
    assert (out["STATUS"], out["EXIT_CODE"], out["STOP_CODE"]) == ("interrupted", "0", "EssentialContainerExited")
    assert out["MESSAGE"] == "container migrate was cut short: essential container envoy exited with code 1"
    assert "essential container envoy exited with code 1, so ECS stopped the task" in ran.out
    assert sandbox.calls("StopTask") == []  # ECS stopped it, not us
    for _, line in STARTED:
        assert f"[migrate] {line}" in ran.out
