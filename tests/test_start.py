"""Starting reliably, and only once: start retries for transient causes, one task of a group at a time
(`if-running`), and following a task that runs already (`attach`)."""

from __future__ import annotations

import json
import signal
import subprocess
import threading
from pathlib import Path

import pytest

from ecs_run_task.engine import starts
from sandbox import HOLD, Behaviour, Container, ContainerScript, Sandbox, Scripted, Step
from tests.helpers import Run, go, launch, outputs, start_task

ENI = "Timeout waiting for network interface provisioning to complete."
PULL_404 = "CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve ref acme/app:v9: not found"
NEVER_RAN = [Step("PROVISIONING", 0.05), Step("PENDING", 0.1), Step("DEPROVISIONING", 0.05)]
QUICK = [Step("PROVISIONING", 0.05), Step("PENDING", 0.05), Step("RUNNING", 0.3)]
RUNS = [Step("PROVISIONING", 0.3), Step("PENDING", 0.2), Step("RUNNING", HOLD)]  # slow enough to lose a race


@pytest.fixture(autouse=True)
def quick_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """Retries in tenths of seconds (the real pauses, 3 s doubling, are in test_the_pauses_grow_with_jitter)."""
    monkeypatch.setattr(starts, "FIRST_PAUSE", 0.1)


def family(sb: Sandbox, *lives: Behaviour) -> None:
    sb.register("app", [Container("web")], log_group="/ecs/app")
    sb.behave("app", list(lives))


def never_ran(stopped_reason: str, reason: str | None = None) -> Scripted:
    return Scripted(steps=NEVER_RAN, containers={"web": ContainerScript(exit_code=None, reason=reason)},
                    stop_code="TaskFailedToStart", stopped_reason=stopped_reason)  # fmt: skip


def exits(code: int, *lines: str) -> Scripted:
    return Scripted(steps=QUICK, containers={"web": ContainerScript(exit_code=code, lines=[(0.0, m) for m in lines])})


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
    assert "RunTask placed 1 of 3 tasks: RESOURCE:MEMORY; retrying in" in ran.out


def test_start_retries_0_tries_once(sandbox: Sandbox, run: Run) -> None:
    family(sandbox, exits(0))
    sandbox.fail_run_task("RESOURCE:MEMORY")
    ran = go(run, "--start-retries", "0")
    assert ran.code == 125, ran.out
    assert len(sandbox.calls("RunTask")) == 1


def test_the_pauses_grow_with_jitter(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.undo()
    assert [starts.pause(n, 0.5) for n in (1, 2, 3, 4, 5, 6, 7)] == [3.0, 6.0, 12.0, 24.0, 48.0, 60.0, 60.0]
    assert starts.pause(1, 0.0) == 2.25
    assert starts.pause(1, 0.999) == pytest.approx(3.75, abs=0.01)


def someone_else_runs(sb: Sandbox, group: str | None = None) -> str:
    """A task of family `app` started outside the tool (another pipeline, a person)."""
    extra = {"group": group} if group else {}
    arn = start_task(sb.client("ecs"), "app", startedBy="deploy-bot", **extra)
    sb.wait_for_status(arn, "RUNNING")
    return arn


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
    family(sandbox, Scripted(steps=[Step("PROVISIONING", 0.05), Step("RUNNING", 1.0)],
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


@pytest.mark.parametrize("how", ["arn", "id"])
def test_attach_follows_a_running_task_by_arn_or_id(sandbox: Sandbox, run: Run, tmp_path: Path, how: str) -> None:
    family(sandbox, Scripted(steps=[Step("PROVISIONING", 0.05), Step("RUNNING", 1.0)],
                             containers={"web": ContainerScript(exit_code=5, lines=[(0.0, "from the start")])}))  # fmt: skip
    other = someone_else_runs(sandbox)
    ref = other if how == "arn" else other.rsplit("/", 1)[-1]
    ran = run("--cluster", "Sample", "--attach", ref, "--poll-interval", "200ms", "--dotenv", str(tmp_path / "o.env"))
    assert ran.code == 5, ran.out
    got = outputs(tmp_path / "o.env")
    assert (got["TASK_ARN"], got["STATUS"], got["EXIT_CODE"]) == (other, "failed", "5")
    assert "from the start" in ran.lines
    assert len(sandbox.calls("RunTask")) == 1


def test_attach_to_an_unknown_task_says_which_cluster_was_searched(sandbox: Sandbox, run: Run) -> None:
    ran = run("--cluster", "Sample", "--attach", "0123456789abcdef0123456789abcdef")
    assert ran.code == 125, ran.out
    assert "attach: task '0123456789abcdef0123456789abcdef' was not found in cluster 'Sample' (us-east-1)" in ran.out


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


def _sigterm_once_said(proc: subprocess.Popen[str], said: str) -> str:
    """SIGTERM as soon as the process has printed a line holding `said`; the rest of its output."""
    assert proc.stdout is not None
    for line in proc.stdout:
        if said in line:
            break
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=30)
    return out


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
    out = _sigterm_once_said(proc, "to stop before starting")  # the wait for the winner has begun
    assert proc.returncode == 143, out
    assert outputs(tmp_path / "out.env")["STATUS"] == "cancelled"
    assert "RUNNING" not in sandbox.task(_ours(sandbox, other)).history


def test_a_start_again_after_a_failed_start_never_runs_two_of_the_group(
    sandbox: Sandbox, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ours never ran (an ENI timeout); during the pause before starting again another pipeline starts a task of
    the group: the new start loses the race like a first one, so only the other's runs."""
    monkeypatch.setattr(starts, "FIRST_PAUSE", 2.0)
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


def test_a_signal_in_the_pause_before_starting_again_cancels(sandbox: Sandbox, tmp_path: Path) -> None:
    """The failed start is not the run's answer while another start is coming: a cancel is a cancel."""
    family(sandbox, never_ran(ENI), exits(0))
    proc = launch(sandbox, "--dotenv", str(tmp_path / "out.env"))  # its own process: the real pause, 2.25 s or more
    out = _sigterm_once_said(proc, "retrying in")
    assert proc.returncode == 143, out
    assert outputs(tmp_path / "out.env")["STATUS"] == "cancelled"
    assert len(sandbox.calls("RunTask")) == 1


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


def test_attach_in_a_cluster_that_does_not_exist_names_it(sandbox: Sandbox, run: Run) -> None:
    ran = run("--cluster", "Nope", "--attach", "0123456789abcdef0123456789abcdef")
    assert ran.code == 125, ran.out
    assert "cluster: 'Nope' was not found in us-east-1 (ecs:DescribeTasks: " in ran.out


def test_attach_by_arn_alone_follows_it_in_the_cluster_the_arn_names(sandbox: Sandbox, run: Run) -> None:
    family(sandbox, exits(4))
    arn = start_task(sandbox.client("ecs"), "app")  # in cluster Sample; no --cluster given below
    ran = run("--attach", arn, "--poll-interval", "200ms")
    assert ran.code == 4, ran.out
    assert f"following task {arn.rsplit('/', 1)[-1]} (app:1)" in ran.out
