"""Never orphan a task: SIGTERM/SIGINT stop it and exit in time; the post step stops a leftover one.

Run as real processes: signal handling in PID-1-like conditions is the point."""

from __future__ import annotations

import signal
import subprocess
import time

import pytest

from ecs_run_task.cli import post_main
from ecs_run_task.signal_budget import GONE_BY
from sandbox import HOLD, NEVER, ContainerScript, Sandbox, Step
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


def cancelled_in_time(proc: subprocess.Popen[str], sig: int = signal.SIGINT) -> str:
    """Send `sig` and wait for the exit: its output, once the run exited within the budget."""
    sent = time.monotonic()
    proc.send_signal(sig)
    out, _ = proc.communicate(timeout=BUDGET + 30)
    took = time.monotonic() - sent
    assert proc.returncode == (130 if sig == signal.SIGINT else 143), out
    assert took < BUDGET, f"exited {took:.1f} s after the signal\n{out}"
    return out


def test_a_log_read_that_hangs_as_ci_cancels_cuts_the_drain_not_the_budget(sandbox: Sandbox) -> None:
    """CloudWatch stops answering just as CI cancels: the drain's reads are bound by the time left, not by the logs
    client's own timeouts (two tries of 5 s)."""
    register(sandbox, life=[Step("PROVISIONING", 0.05), Step("RUNNING", HOLD)],
             web=ContainerScript(exits_after=NEVER, lines=[(i * 0.2, f"tick {i}") for i in range(500)]))  # fmt: skip
    proc = launch(sandbox)
    arn = sandbox.wait_for_any_task(timeout=30)
    sandbox.wait_for_status(arn, "RUNNING")
    sandbox.wait_for_call("GetLogEvents", len(sandbox.calls("GetLogEvents")) + 2, timeout=30)
    sandbox.faults.latency(30.0, "GetLogEvents")
    out = cancelled_in_time(proc)
    assert "cancelled by SIGINT; the task was stopped" in out
    assert [b["task"] for b in sandbox.calls("StopTask")] == [arn]


def test_a_signal_while_list_tasks_is_slow_is_not_held_by_it(sandbox: Sandbox) -> None:
    """`if-running` looks at the group with ListTasks at every poll until ours runs: a slow answer must not hold the
    cancel (the client's own limits are three tries of 15 s)."""
    register(sandbox, life=[Step("PROVISIONING", HOLD)])
    proc = launch(sandbox, "--if-running", "fail")
    arn = sandbox.wait_for_any_task(timeout=30)
    sandbox.faults.latency(30.0, "ListTasks")
    sandbox.wait_for_call("ListTasks", len(sandbox.calls("ListTasks")) + 1, timeout=30)  # one is on its way
    out = cancelled_in_time(proc)
    assert [b["task"] for b in sandbox.calls("StopTask")] == [arn]
    assert "cancelled by SIGINT; the task was stopped" in out
