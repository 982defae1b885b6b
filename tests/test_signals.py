"""Never orphan a task: SIGTERM/SIGINT stop it and exit in time; the post step stops a leftover one.

Run as real processes: signal handling in PID-1-like conditions is the point."""

from __future__ import annotations

import signal
import subprocess
import time

import pytest

from ecs_run_task.cli import post_main
from ecs_run_task.signal_budget import GONE_BY
from sandbox import HOLD, Sandbox, Step
from tests.helpers import launch, register, start_task

BUDGET = GONE_BY  # gone 7 s after the first signal: GitHub sends SIGTERM at 7.5 s (ecs_run_task.signal_budget)


def start_held(sb: Sandbox, state: str) -> tuple[subprocess.Popen[str], str]:
    register(sb, life=[Step("PROVISIONING", 0.05), Step(state, HOLD)])
    proc = launch(sb)
    arn = sb.wait_for_any_task(timeout=30)
    sb.wait_for_status(arn, state)
    return proc, arn


@pytest.mark.parametrize(
    ("state", "sig", "code"),
    [("PENDING", signal.SIGTERM, 143), ("RUNNING", signal.SIGTERM, 143), ("RUNNING", signal.SIGINT, 130)],
)
def test_a_signal_stops_the_task_and_exits_in_time(sandbox: Sandbox, state: str, sig: int, code: int) -> None:
    proc, arn = start_held(sandbox, state)
    sent = time.monotonic()
    proc.send_signal(sig)
    out, _ = proc.communicate(timeout=BUDGET + 5)
    took = time.monotonic() - sent
    assert proc.returncode == code, out
    assert took < BUDGET
    name = "SIGINT" if sig == signal.SIGINT else "SIGTERM"
    assert [(b["task"], b["reason"]) for b in sandbox.calls("StopTask")] == [
        (arn, f"Stopped by ecs-run-task: CI job cancelled ({name})")
    ]
    sandbox.wait_for_status(arn, "STOPPED")
    assert sandbox.running_tasks() == []
    assert f"cancelled by {name}; the task was stopped" in out


def test_the_post_step_stops_a_task_the_main_step_left_running(sandbox: Sandbox) -> None:
    register(sandbox, life=[Step("RUNNING", HOLD)])
    arn = start_task(sandbox.client("ecs"), "app")
    state = {"STATE_task-arns": f'["{arn}"]', "STATE_cluster": "Sample", "STATE_region": "us-east-1"}
    assert post_main(state) == 0
    [stop] = sandbox.calls("StopTask")
    assert stop == {
        "cluster": "Sample",
        "task": arn,
        "reason": "Stopped by ecs-run-task: the CI step ended while it ran",
    }
    sandbox.wait_for_status(arn, "STOPPED")


def test_the_post_step_leaves_stopped_tasks_alone_and_does_nothing_without_state(sandbox: Sandbox) -> None:
    register(sandbox, life=[Step("RUNNING", 0.05)])
    arn = start_task(sandbox.client("ecs"), "app")
    sandbox.wait_for_status(arn, "STOPPED")
    assert post_main({"STATE_task-arns": f'["{arn}"]', "STATE_cluster": "Sample"}) == 0
    assert post_main({}) == 0
    assert sandbox.calls("StopTask") == []


def test_several_tasks_are_stopped_at_once_not_one_after_another(sandbox: Sandbox) -> None:
    register(sandbox, life=[Step("PROVISIONING", 0.05), Step("RUNNING", HOLD)])
    sandbox.faults.latency(2.0, "StopTask")  # one after another, 5 stops would take 10 s: past the budget
    proc = launch(sandbox, "--count", "5")
    arns = [sandbox.wait_for_any_task(timeout=30, index=i) for i in range(5)]
    for arn in arns:
        sandbox.wait_for_status(arn, "RUNNING")
    sandbox.wait_for_call("DescribeTasks", len(sandbox.calls("DescribeTasks")) + 1)  # the tool has seen RUNNING
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=BUDGET + 5)
    assert proc.returncode == 143, out
    stops = sandbox.call_log("StopTask")
    assert sorted(c.body["task"] for c in stops) == sorted(arns)
    assert max(c.t for c in stops) - min(c.t for c in stops) < 1.0  # all sent before the first was answered
