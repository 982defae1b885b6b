"""One task of a group at a time (`if-running`), end to end against the sandbox: the look before RunTask, the
race after it, waiting for the other task, following it, and the loser's story."""

from __future__ import annotations

import subprocess
import threading
from pathlib import Path

import pytest

from ecs_run_task.engine import retries
from sandbox import ContainerScript, Sandbox, Scripted, Step
from tests.helpers import Run, go, launch, outputs
from tests.lives import ENI, RUNS, exits, family, never_ran, sigterm_once_said, someone_else_runs


@pytest.fixture(autouse=True)
def quick_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """Retries in tenths of seconds (the real pauses, 3 s doubling, are in test_retries.py)."""
    monkeypatch.setattr(retries, "FIRST_PAUSE", 0.1)


def test_if_running_start_starts_anyway(sandbox: Sandbox, run: Run) -> None:
    family(sandbox, Scripted(steps=RUNS), exits(0))
    someone_else_runs(sandbox)
    ran = go(run)
    assert ran.code == 0, ran.out
    assert len(sandbox.tasks()) == 2
    assert sandbox.calls("ListTasks") == []  # the default asks nothing more of the role


def test_if_running_fail_names_the_running_task_and_starts_nothing(sandbox: Sandbox, run: Run, tmp_path: Path) -> None:
    family(sandbox, Scripted(steps=RUNS))
    other = someone_else_runs(sandbox)
    ran = go(run, "--if-running", "fail", "--dotenv", str(tmp_path / "out.env"))
    assert ran.code == 125, ran.out
    assert f"group family:app has a task running in cluster Sample: task {other.rsplit('/', 1)[-1]} (app:1), " \
           "started by deploy-bot, 0m0" in ran.out  # fmt: skip
    assert outputs(tmp_path / "out.env")["STATUS"] == "failed-to-start"
    assert len(sandbox.calls("RunTask")) == 1  # only the other's


def test_if_running_wait_waits_for_the_running_task_then_starts(sandbox: Sandbox, run: Run) -> None:
    family(sandbox, Scripted(steps=[Step("PROVISIONING", 0.05), Step("RUNNING", 1.5)]), exits(0, "mine"))
    other = someone_else_runs(sandbox)
    ran = go(run, "--if-running", "wait")
    assert ran.code == 0, ran.out
    mine = sandbox.tasks()[1]
    assert f"waiting for task {other.rsplit('/', 1)[-1]} (app:1), started by deploy-bot" in ran.out
    assert sandbox.task(other).container("web").stopped_at is not None
    assert mine.history[0] == "PROVISIONING"
    created = [c.t for c in sandbox.call_log("RunTask")]
    assert created[1] > (sandbox.task(other).container("web").stopped_at or 0)  # started only after it stopped


def test_if_running_attach_follows_the_oldest_instead_of_starting(sandbox: Sandbox, run: Run, tmp_path: Path) -> None:
    # theirs runs 3 s: long enough for ours to look (describe, check the cluster, list) on a loaded machine
    family(sandbox, Scripted(steps=[Step("PROVISIONING", 0.05), Step("RUNNING", 3.0)],
                             containers={"web": ContainerScript(exit_code=7, lines=[(0.0, "theirs")])}))  # fmt: skip
    other = someone_else_runs(sandbox, group="migrations")
    ran = go(run, "--if-running", "attach", "--group", "migrations", "--dotenv", str(tmp_path / "out.env"))
    assert ran.code == 7, ran.out
    assert len(sandbox.calls("RunTask")) == 1  # nothing started by us
    assert outputs(tmp_path / "out.env")["TASK_ARN"] == other
    assert "theirs" in ran.lines  # its logs from the beginning


@pytest.mark.parametrize("repeat", range(3))
def test_two_runs_racing_with_if_running_fail_start_exactly_one_command(
    sandbox: Sandbox, tmp_path: Path, repeat: int
) -> None:
    """Both look before starting and see nothing (RunTask is slow to answer, so both are in flight at once);
    right after RunTask each looks again, and the later task is stopped before its containers start."""
    family(sandbox, Scripted(steps=RUNS))
    sandbox.faults.latency(1.0, "RunTask")
    procs = [launch(sandbox, "--if-running", "fail", "--timeout", "20s", "--dotenv", str(tmp_path / f"{k}.env"))
             for k in range(2)]  # fmt: skip
    sandbox.wait_for_call("RunTask", 2, timeout=30)
    running = _first_running(sandbox)
    outs = _finish_one(procs, sandbox, running)
    ran_command = [t for t in sandbox.tasks() if "RUNNING" in t.history]
    assert [t.arn for t in ran_command] == [running]
    codes = sorted(p.returncode for p in procs)
    assert codes == [0, 125], outs
    assert any("started first (--if-running fail); ours was stopped before its containers started" in o for o in outs)


def _first_running(sb: Sandbox) -> str:
    """The task that reached RUNNING (the loser is stopped before, then the winner gets there)."""
    sb.wait_until("a task running", lambda: any("RUNNING" in t.history for t in sb.tasks()), timeout=30)
    return next(t.arn for t in sb.tasks() if "RUNNING" in t.history)


def _finish_one(procs: list[subprocess.Popen[str]], sb: Sandbox, running: str) -> list[str]:
    """The winner runs until its task stops: end it (as a finished migration would), then collect both."""
    outs: list[str] = ["", ""]

    def collect(k: int) -> None:
        outs[k], _ = procs[k].communicate(timeout=60)

    readers = [threading.Thread(target=collect, args=(k,)) for k in range(2)]
    for reader in readers:
        reader.start()
    sb.advance(running)  # RUNNING ends: every container exits 0
    for reader in readers:
        reader.join()
    return outs


def _lose_the_race(sb: Sandbox, tmp_path: Path, *args: str) -> tuple[subprocess.Popen[str], str]:
    """Ours looks, sees no task of the group, and calls RunTask, which is slow to answer; meanwhile another
    pipeline's task is created: right after RunTask ours looks again and finds it older."""
    family(sb, Scripted(steps=RUNS), Scripted(steps=RUNS))
    sb.faults.latency(1.0, "RunTask")
    proc = launch(sb, "--dotenv", str(tmp_path / "out.env"), *args)
    sb.wait_for_call("RunTask")  # ours, in flight
    sb.faults.clear()
    other = someone_else_runs(sb)
    return proc, other


def _ours(sb: Sandbox, other: str) -> str:
    sb.wait_until("ours started", lambda: len(sb.tasks()) == 2, timeout=20)
    return next(t.arn for t in sb.tasks() if t.arn != other)


def test_a_race_lost_whose_loser_cannot_be_stopped_says_two_may_run(sandbox: Sandbox, tmp_path: Path) -> None:
    sandbox.faults.deny("StopTask")
    proc, other = _lose_the_race(sandbox, tmp_path, "--if-running", "fail")
    sandbox.faults.deny("StopTask")  # cleared above with the latency
    out, _ = proc.communicate(timeout=60)
    ours = _ours(sandbox, other)
    assert proc.returncode == 125, out
    got = outputs(tmp_path / "out.env")
    assert (got["STATUS"], got["TASK_ARN"]) == ("unknown", ours)
    assert "started first, and ours could not be stopped: two tasks of the group may run" in out
    assert "StopTask failed, so the task may still be running" in out
    sandbox.faults.clear()


def test_a_race_lost_then_waiting_past_the_timeout_is_a_timeout_with_ours_stopped(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    proc, other = _lose_the_race(sandbox, tmp_path, "--if-running", "wait", "--timeout", "4s")
    out, _ = proc.communicate(timeout=60)
    ours = _ours(sandbox, other)
    assert proc.returncode == 124, out
    assert outputs(tmp_path / "out.env")["STATUS"] == "timed-out"
    assert f"timed out after 4s waiting for task {other.rsplit('/', 1)[-1]}" in out
    assert "RUNNING" not in sandbox.task(ours).history  # stopped before its containers started


def test_a_signal_while_waiting_for_the_race_winner_cancels(sandbox: Sandbox, tmp_path: Path) -> None:
    proc, other = _lose_the_race(sandbox, tmp_path, "--if-running", "wait")
    out = sigterm_once_said(proc, "to stop before starting")  # the wait for the winner has begun
    assert proc.returncode == 143, out
    assert outputs(tmp_path / "out.env")["STATUS"] == "cancelled"
    assert "RUNNING" not in sandbox.task(_ours(sandbox, other)).history


def test_a_start_again_after_a_failed_start_never_runs_two_of_the_group(
    sandbox: Sandbox, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ours never ran (an ENI timeout); during the pause before starting again another pipeline starts a task of
    the group: the new start loses the race like a first one, so only the other's runs."""
    monkeypatch.setattr(retries, "FIRST_PAUSE", 2.0)
    family(sandbox, never_ran(ENI), Scripted(steps=RUNS), Scripted(steps=RUNS))
    others: list[str] = []

    def another_pipeline() -> None:
        first = sandbox.wait_for_any_task(timeout=20)
        sandbox.wait_for_status(first, "STOPPED")
        others.append(someone_else_runs(sandbox))

    thread = threading.Thread(target=another_pipeline)
    thread.start()
    ran = go(run, "--if-running", "fail")
    thread.join()
    assert ran.code == 125, ran.out
    assert [t.arn for t in sandbox.tasks() if "RUNNING" in t.history] == others
    assert len(sandbox.calls("RunTask")) == 3  # ours, the other's, ours again (stopped before it ran)
    assert f"started again, but task {others[0].rsplit('/', 1)[-1]} (app:1), started by deploy-bot" in ran.out
    assert "ours was stopped, and the failed start stands (--if-running fail)" in ran.out


@pytest.mark.parametrize("fault", ["an answer without the task", "503s past botocore's retries"])
def test_if_running_fail_never_reads_a_failed_look_as_nothing_runs(sandbox: Sandbox, run: Run, fault: str) -> None:
    family(sandbox, Scripted(steps=RUNS))
    other = someone_else_runs(sandbox)
    if fault == "an answer without the task":
        sandbox.faults.mangle("DescribeTasks", lambda answer: {**answer, "tasks": []}, n=2)
    else:
        sandbox.faults.error_burst("DescribeTasks", 4, status=503)  # the follower's 3 attempts, then ours again
    ran = go(run, "--if-running", "fail", "--timeout", "20s")  # a regression starts a second, held task
    assert ran.code == 125, ran.out
    assert f"has a task running in cluster Sample: task {other.rsplit('/', 1)[-1]}" in ran.out
    assert len(sandbox.calls("RunTask")) == 1  # only the other's
