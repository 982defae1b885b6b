"""One migration at a time under AWS as it really behaves (the sandbox's consistency knobs): ListTasks behind
RunTask, DescribeTasks MISSING for a task just listed, a group held by another family, and a loser that had already
run. What the driver saw is asserted: how many tasks reached RUNNING, which StopTask calls were made.

The race of two runs started 0.3 s apart with ListTasks 2 s behind runs `RACES` times: twice in CI, 20 times in
the reliability figures (`python -m tests.reliability`, which sets ECS_RUN_TASK_RACES=20), reported there as "of
20, runs where two migrations ran"."""

from __future__ import annotations

import os
import subprocess
import threading
import time
from pathlib import Path

import pytest

from ecs_run_task.engine import retries
from sandbox import HOLD, Container, ContainerScript, Sandbox, Scripted, Step
from tests.helpers import Record, Run, go, launch, outputs, start_task
from tests.lives import family

RACES = int(os.environ.get("ECS_RUN_TASK_RACES", "2"))
LIST_LAG = 2.0  # ListTasks leaves out a task created less than 2 s ago
APART = 0.3  # seconds between the two runs' starts
# A start that takes longer than ListTasks lags (Fargate's takes tens of seconds), then RUNNING until released.
STARTS_SLOWER_THAN_THE_LAG = [Step("PROVISIONING", 1.5), Step("PENDING", 1.5), Step("RUNNING", HOLD)]


@pytest.fixture(autouse=True)
def quick_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """Retries in tenths of seconds, for the runs in this process (the real pauses are in test_retries.py)."""
    monkeypatch.setattr(retries, "FIRST_PAUSE", 0.1)


def short(arn: str) -> str:
    return arn.rsplit("/", 1)[-1]


def finish(procs: list[subprocess.Popen[str]], sb: Sandbox) -> list[str]:
    """Each run's output; the task that reached RUNNING is released (its migration ends) once it is there."""
    outs = ["" for _ in procs]

    def collect(k: int) -> None:
        outs[k], _ = procs[k].communicate(timeout=90)

    readers = [threading.Thread(target=collect, args=(k,)) for k in range(len(procs))]
    for reader in readers:
        reader.start()
    sb.wait_until("a task running", lambda: any(t.ran for t in sb.tasks()), timeout=60)
    time.sleep(LIST_LAG + 1.0)  # a second task would have reached RUNNING by now: it is given the chance to
    for task in sb.tasks():
        if task.ran and task.last_status == "RUNNING":
            sb.advance(task.arn)
    for reader in readers:
        reader.join()
    return outs


@pytest.mark.parametrize("repeat", range(RACES))
def test_two_runs_racing_under_a_lagging_list_run_one_migration(
    sandbox: Sandbox, tmp_path: Path, record_property: Record, repeat: int
) -> None:
    """Neither run's look before RunTask can see the other's task (ListTasks is 2 s behind); each looks again at
    every poll, and the later task is stopped before its containers start."""
    record_property("runs", 2)
    record_property("fault", "race")
    record_property("race", f"two runs {APART:g} s apart, `if-running: fail`, ListTasks {LIST_LAG:g} s behind RunTask")
    family(sandbox, Scripted(steps=STARTS_SLOWER_THAN_THE_LAG))
    sandbox.consistency.list_lag = LIST_LAG
    procs = []
    for k in range(2):
        procs.append(launch(sandbox, "--if-running", "fail", "--timeout", "60s",
                            "--dotenv", str(tmp_path / f"{k}.env")))  # fmt: skip
        time.sleep(APART)
    outs = finish(procs, sandbox)
    ran = [t for t in sandbox.tasks() if t.ran]
    record_property("two_migrations", int(len(ran) > 1))
    assert len(ran) == 1, outs  # of the two tasks, one reached RUNNING
    [winner] = ran
    [loser] = [t for t in sandbox.tasks() if t.arn != winner.arn]
    assert [b["task"] for b in sandbox.calls("StopTask")] == [loser.arn], outs  # the loser's own run stopped it
    assert sorted(p.returncode for p in procs) == [0, 125], outs
    statuses = sorted(outputs(tmp_path / f"{k}.env")["STATUS"] for k in range(2))
    assert statuses == ["failed-to-start", "succeeded"]
    said = "started first (--if-running fail); ours was stopped before its containers started"
    assert sum(said in out for out in outs) == 1, outs


def test_a_task_missing_for_its_first_describes_is_not_read_as_gone(sandbox: Sandbox, run: Run) -> None:
    """Just listed, MISSING for its first describes: "not known yet", asked again, and found running."""
    family(sandbox, Scripted(steps=[Step("PROVISIONING", 0.05), Step("RUNNING", HOLD)]))
    other = start_task(sandbox.client("ecs"), "app", startedBy="deploy-bot")
    sandbox.wait_for_status(other, "RUNNING")
    sandbox.missing(other, 2)
    ran = go(run, "--if-running", "fail", "--timeout", "20s")
    assert ran.code == 125, ran.out
    assert f"group family:app has a task running in cluster Sample: task {short(other)} (app:1)" in ran.out
    assert "(MISSING: ECS may not know them yet); asking again in" in ran.out
    assert len(sandbox.calls("RunTask")) == 1  # only the other's: no second migration
    assert sum(t.ran for t in sandbox.tasks()) == 1
    sandbox.client("ecs").stop_task(cluster="Sample", task=other)  # the other pipeline's end: no task left running


def test_a_task_missing_past_every_try_fails_closed(sandbox: Sandbox, run: Run) -> None:
    family(sandbox, Scripted(steps=[Step("PROVISIONING", 0.05), Step("RUNNING", HOLD)]))
    other = start_task(sandbox.client("ecs"), "app")
    sandbox.wait_for_status(other, "RUNNING")
    sandbox.missing(other, 10)
    ran = go(run, "--if-running", "wait", "--timeout", "20s")
    assert ran.code == 125, ran.out
    assert "which tasks of group family:app run is not known, after 3 tries" in ran.out
    assert len(sandbox.calls("RunTask")) == 1
    sandbox.client("ecs").stop_task(cluster="Sample", task=other)


def test_a_blue_family_in_the_group_stops_a_green_one_from_starting(sandbox: Sandbox, run: Run) -> None:
    """The group is the ECS group, whatever the family: ListTasks lists every family, DescribeTasks tells the group."""
    for name in ("blue", "green"):
        sandbox.register(name, [Container("web")], log_group="/ecs/app")
        sandbox.behave(name, Scripted(steps=[Step("PROVISIONING", 0.05), Step("RUNNING", HOLD)]))
    blue = start_task(sandbox.client("ecs"), "blue", group="migrations")
    sandbox.wait_for_status(blue, "RUNNING")
    ran = run("--cluster", "Sample", "-t", "green", "--group", "migrations", "--if-running", "fail",
              "--poll-interval", "200ms")  # fmt: skip
    assert ran.code == 125, ran.out
    assert f"group migrations has a task running in cluster Sample: task {short(blue)} (blue:1)" in ran.out
    assert [b["taskDefinition"] for b in sandbox.calls("RunTask")] == ["blue"]  # green never started
    assert [b["cluster"] for b in sandbox.calls("ListTasks")] == ["Sample"]
    assert all("family" not in b for b in sandbox.calls("ListTasks"))  # every family listed
    sandbox.client("ecs").stop_task(cluster="Sample", task=blue)


def test_a_loser_that_had_already_run_is_told_truthfully(sandbox: Sandbox, tmp_path: Path) -> None:
    """Another pipeline's task is created while our RunTask is in flight (so it is older), and DescribeTasks answers
    MISSING for it until ours has started its containers: ours is stopped mid-run, its lines are shown, and the run
    says so: `interrupted`, never `failed-to-start` "before its containers started"."""
    migrates = Scripted(
        steps=[Step("PROVISIONING", 0.05), Step("RUNNING", HOLD)],
        containers={"web": ContainerScript(lines=[(0.0, "CREATE TABLE users")])},
    )
    family(sandbox, migrates, migrates)  # ours is created second: its RunTask is answered after the other's
    sandbox.faults.latency(1.0, "RunTask")
    proc = launch(sandbox, "--if-running", "fail", "--timeout", "60s", "--dotenv", str(tmp_path / "out.env"))
    sandbox.wait_for_call("RunTask")  # ours, in flight
    sandbox.faults.clear()
    other = start_task(sandbox.client("ecs"), "app", startedBy="deploy-bot")
    sandbox.missing(other, 6)  # listed, not describable yet, past the moment ours runs
    out, _ = proc.communicate(timeout=60)
    [ours] = [t for t in sandbox.tasks() if t.arn != other]
    assert proc.returncode == 143, out
    got = outputs(tmp_path / "out.env")
    assert (got["STATUS"], got["TASK_ARN"], got["EXIT_CODE"]) == ("interrupted", ours.arn, "143")
    assert ours.ran
    assert "CREATE TABLE users" in out.splitlines()  # its lines are shown
    assert f"task {short(other)} (app:1), started by deploy-bot, 0m0" in out
    assert ("of group family:app started first, and ours had already started its containers, so "
            "ours was stopped mid-run (--if-running fail)") in out  # fmt: skip
    assert "before its containers started" not in out
    assert [b["task"] for b in sandbox.calls("StopTask")] == [ours.arn]  # never the other's
    sandbox.client("ecs").stop_task(cluster="Sample", task=other)


def test_a_loser_that_started_while_our_stop_was_on_its_way_is_told_it_ran(sandbox: Sandbox, tmp_path: Path) -> None:
    """The look that finds the other task sees ours still PENDING, but StopTask takes 0.8 s and ours starts its
    containers meanwhile: its end (startedAt), not that look, says it ran. `wait` never starts a migration again."""
    migrates = Scripted(
        steps=[Step("PROVISIONING", 0.3), Step("PENDING", 0.3), Step("RUNNING", HOLD)],
        containers={"web": ContainerScript(lines=[(0.0, "CREATE TABLE users")])},
    )
    family(sandbox, migrates, migrates)
    sandbox.faults.latency(1.0, "RunTask")
    proc = launch(sandbox, "--if-running", "wait", "--timeout", "30s", "--dotenv", str(tmp_path / "out.env"))
    sandbox.wait_for_call("RunTask")  # ours, in flight
    sandbox.faults.clear()
    other = start_task(sandbox.client("ecs"), "app", startedBy="deploy-bot")  # created first: older
    sandbox.faults.latency(0.8, "StopTask")
    out, _ = proc.communicate(timeout=60)
    sandbox.faults.clear()
    [ours] = [t for t in sandbox.tasks() if t.arn != other]
    assert [b["task"] for b in sandbox.calls("StopTask")] == [ours.arn]  # never the other's
    sandbox.client("ecs").stop_task(cluster="Sample", task=other)
    if not ours.ran:  # the stop landed first this time: the story told must be that one
        assert "ours was stopped before its containers started" in out, out
        pytest.skip("StopTask landed before ours started its containers: nothing to prove here")
    assert proc.returncode == 143, out
    assert outputs(tmp_path / "out.env")["STATUS"] == "interrupted"
    assert "ours had already started its containers, so ours was stopped mid-run (--if-running wait)" in out
    assert "before its containers started" not in out
    assert "CREATE TABLE users" in out.splitlines()
    assert [r.get("startedBy") for r in sandbox.calls("RunTask")].count("deploy-bot") == 1
    assert len(sandbox.calls("RunTask")) == 2  # ours once, the other once: ours never started again
