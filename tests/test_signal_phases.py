"""The runner's signals at every phase, as GitHub sends them: SIGINT, then SIGTERM (7.5 s later on GitHub,
compressed here), then SIGKILL. The task must be stopped, the process gone within 7 s, no task left running.

Run as real processes: signal handling is the point."""

from __future__ import annotations

import signal
import subprocess
import time
from dataclasses import dataclass

import pytest

from ecs_run_task.signal_budget import GONE_BY
from sandbox import HOLD, ContainerScript, Sandbox, Step
from tests.helpers import Record, launch, register

BUDGET = GONE_BY  # seconds from the first signal to our exit (ecs_run_task.signal_budget)
GAP = 1.0  # between SIGINT and SIGTERM (TO_SIGTERM, 7.5 s, on GitHub)
REPEATS = 4
PHASES = ("DescribeTaskDefinition in flight", "RunTask in flight", "PROVISIONING", "RUNNING", "draining logs")
TICKS = [(i * 0.1, f"tick {i}") for i in range(80)]  # lines for 8 s after the container starts
REASON = "Stopped by ecs-run-task: CI job cancelled (SIGINT)"


@dataclass
class Sent:
    proc: subprocess.Popen[str]
    first: float  # time.monotonic() of the SIGINT
    out: str = ""
    took: float = 0.0


def github_cancel(proc: subprocess.Popen[str], gap: float = GAP) -> Sent:
    """SIGINT; SIGTERM `gap` later if the process still runs; SIGKILL at the budget's end if it still does."""
    sent = Sent(proc, time.monotonic())
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=gap)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGTERM)
    try:
        sent.out, _ = proc.communicate(timeout=BUDGET + 3 - gap)
    except subprocess.TimeoutExpired:
        proc.kill()
        sent.out, _ = proc.communicate()
    sent.took = time.monotonic() - sent.first
    return sent


def start(sb: Sandbox, phase: str) -> tuple[subprocess.Popen[str], str | None]:
    """Start the CLI and return once it is in `phase` (with the task's ARN, if one was started)."""
    life = [Step("PROVISIONING", HOLD)] if phase == "PROVISIONING" else [Step("PROVISIONING", 0.05)]
    if phase in ("RunTask in flight", "RUNNING", "DescribeTaskDefinition in flight"):
        life.append(Step("RUNNING", HOLD))
    elif phase == "draining logs":
        life.append(Step("RUNNING", 0.3))  # stops at once; its lines keep coming for 8 s
    register(sb, life=life, web=ContainerScript(lines=TICKS))
    if phase == "DescribeTaskDefinition in flight":
        sb.faults.latency(2.0, "DescribeTaskDefinition")
    if phase == "RunTask in flight":
        sb.faults.latency(1.0, "RunTask")
    proc = launch(sb)
    if phase.endswith("in flight"):
        call = sb.wait_for_call(phase.split(maxsplit=1)[0], timeout=30)
        assert call.status == 0  # arrived, not answered yet
        return proc, None
    arn = sb.wait_for_any_task(timeout=30)
    sb.wait_for_status(arn, "STOPPED" if phase == "draining logs" else phase)
    described = len(sb.calls("DescribeTasks"))
    sb.wait_for_call("DescribeTasks", described + 1)  # asked after the state was reached...
    reads = len(sb.calls("GetLogEvents"))
    if phase != "PROVISIONING":  # ...and answered: the tool has moved on to reading logs
        sb.wait_for_call("GetLogEvents", reads + 1)
    return proc, arn


@pytest.mark.parametrize("repeat", range(REPEATS))
@pytest.mark.parametrize("phase", PHASES)
def test_sigint_then_sigterm_stops_the_task_and_exits_130_in_time_or_keeps_a_known_answer(
    sandbox: Sandbox, record_property: Record, phase: str, repeat: int
) -> None:
    record_property("fault", "SIGINT+SIGTERM")
    proc, arn = start(sandbox, phase)
    sent = github_cancel(proc)
    record_property("exit_after_signal", round(sent.took, 2))
    assert sent.took < BUDGET, sent.took
    if phase == "draining logs":  # the container had exited 0: the signal cuts the drain short, the answer stands
        assert proc.returncode == 0, sent.out
        assert "exited with code 0; SIGINT cut the log drain short" in sent.out
    else:
        assert proc.returncode == 130, sent.out  # the first signal decides
    if phase == "DescribeTaskDefinition in flight":
        assert "cancelled by SIGINT before a task was started" in sent.out
        assert sandbox.calls("RunTask") == []
        assert sandbox.tasks() == []
        return
    tasks = sandbox.tasks()
    assert len(tasks) == 1
    arn = tasks[0].arn
    stops = [(b["task"], b["reason"]) for b in sandbox.calls("StopTask")]
    if phase == "draining logs":
        assert stops == []  # it had stopped already: nothing to stop
    else:
        assert stops == [(arn, REASON)]
        assert "cancelled by SIGINT; the task was stopped" in sent.out
    sandbox.wait_for_status(arn, "STOPPED")
    assert sandbox.running_tasks() == []


def test_a_second_signal_while_stop_task_is_in_flight_does_not_lose_it(
    sandbox: Sandbox, record_property: Record
) -> None:
    record_property("fault", "SIGINT+SIGTERM")
    proc, arn = start(sandbox, "RUNNING")
    sandbox.faults.latency(1.5, "StopTask")  # a slow StopTask: SIGTERM comes while it is on the wire
    first = time.monotonic()
    proc.send_signal(signal.SIGINT)
    call = sandbox.wait_for_call("StopTask", timeout=BUDGET)
    assert call.status == 0  # in flight
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=BUDGET + 3)
    took = time.monotonic() - first
    record_property("exit_after_signal", round(took, 2))
    assert proc.returncode == 130, out
    assert took < BUDGET, took
    [stop] = sandbox.call_log("StopTask")
    assert (stop.body["task"], stop.status) == (arn, 200)  # answered: the tool waited for it
    sandbox.wait_for_status(str(arn), "STOPPED")
    assert sandbox.running_tasks() == []


def test_sigterm_alone_as_gitlab_sends_it_exits_143(sandbox: Sandbox, record_property: Record) -> None:
    record_property("fault", "SIGTERM")
    proc, arn = start(sandbox, "RUNNING")
    first = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=BUDGET + 3)
    took = time.monotonic() - first
    record_property("exit_after_signal", round(took, 2))
    assert proc.returncode == 143, out
    assert took < BUDGET
    assert [b["task"] for b in sandbox.calls("StopTask")] == [arn]
    sandbox.wait_for_status(str(arn), "STOPPED")
    assert sandbox.running_tasks() == []
