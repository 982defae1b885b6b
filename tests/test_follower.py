"""A run against a scripted ECS on a fake clock, through the runner (top-down, as the CLI calls it): the decision,
the timeout, signals at each phase, starting again, the race for the group and the loser's story, and a run that
follows a task it did not start, which it never stops. Each in milliseconds; the sandbox tests keep the
end-to-end behaviour over HTTP."""

from __future__ import annotations

import json
import re
import signal

import pytest

from ecs_run_task import signal_budget
from ecs_run_task.engine.cancel import Cancelled
from ecs_run_task.engine.following import TIMEOUT_DRAIN
from ecs_run_task.engine.runner import Runner
from ecs_run_task.errors import RunError, Transient
from ecs_run_task.status import Status
from ecs_run_task.verdict.outcome import Outcome
from tests.fakes import Engine, Life, engine

ENI = "Timeout waiting for network interface provisioning to complete."
HELD = Life(start=0.5, runs=None)  # runs until stopped
LATE = Life(start=3.0, runs=2.0)  # a Fargate-like start: its containers run 3 s after RunTask


def run(e: Engine) -> Outcome:
    return Runner(e.session, "me").run().outcome


def short(arn: str) -> str:
    return arn.rsplit("/", 1)[-1]


def ours(e: Engine) -> list[str]:
    """The tasks this run started (RunTask's), in order."""
    return [t.arn for t in e.ecs.tasks.values() if t.started_by == "me"]


def test_a_run_ends_with_its_containers_answer() -> None:
    e = engine(Life(start=0.5, runs=1.0, exit_code=3, lines=[(0.2, "migrating")]))
    result = run(e)
    assert (result.status, result.exit_code, result.container_exit_code) == (Status.FAILED, 3, 3)
    assert "migrating" in e.shown.said
    assert e.ecs.called("StopTask") == []
    assert json.loads(e.shown.state["task-arns"]) == []  # the post step has nothing to stop


def test_the_timeout_stops_our_task_and_exits_124() -> None:
    e = engine(HELD, timeout="3s")
    result = run(e)
    assert (result.status, result.exit_code, result.message) == (Status.TIMED_OUT, 124,
                                                                 "timed out after 3s; the task was stopped")  # fmt: skip
    assert e.ecs.called("StopTask") == ours(e)
    assert e.ecs.tasks[ours(e)[0]].stop_reason == "Stopped by ecs-run-task: timeout of 3s passed"


def test_the_timeout_holds_while_every_log_read_is_throttled() -> None:
    e = engine(Life(start=0.0, runs=None, lines=[(0.0, "hello")]), timeout="2s")
    e.logs.faults = [Transient("logs:GetLogEvents failed: ThrottlingException") for _ in range(1000)]
    result = run(e)
    assert result.exit_code == 124
    assert e.clock.now <= 2.0 + TIMEOUT_DRAIN
    assert e.ecs.called("StopTask") == ours(e)


@pytest.mark.parametrize("phase", ["RunTask in flight", "PROVISIONING", "RUNNING"])
def test_a_signal_stops_our_task_and_exits_within_the_budget(phase: str) -> None:
    e = engine(Life(start=2.0, runs=None, lines=[(0.0, "tick")]))
    if phase == "RunTask in flight":
        e.ecs.during["RunTask"] = lambda: e.signals.deliver(signal.SIGINT)  # recorded; RunTask is never cut short
    else:
        e.signals.schedule(1.0 if phase == "PROVISIONING" else 3.0, signal.SIGINT)
    result = run(e)
    assert (result.status, result.exit_code, result.message) == (Status.CANCELLED, 130,
                                                                 "cancelled by SIGINT; the task was stopped")  # fmt: skip
    assert e.ecs.called("StopTask") == ours(e)
    assert e.signals.since() <= signal_budget.GONE_BY - signal_budget.REPORT


def test_a_signal_before_run_task_starts_nothing_and_is_the_clis_to_report() -> None:
    e = engine()
    e.ecs.during["DescribeTaskDefinition"] = lambda: e.signals.deliver(signal.SIGTERM)
    with pytest.raises(Cancelled):
        run(e)
    assert e.ecs.called("RunTask") == []


def test_a_signal_in_the_drain_keeps_the_answer() -> None:
    e = engine(Life(start=0.0, runs=1.0, exit_code=0, lines=[(0.0, "done")]))
    e.signals.schedule(2.5, signal.SIGTERM)  # the exit was seen at 1 s: the drain reads on
    result = run(e)
    assert (result.status, result.exit_code) == (Status.SUCCEEDED, 0)
    assert result.message.endswith("exited with code 0; SIGTERM cut the log drain short")
    assert e.ecs.called("StopTask") == []


def test_a_task_that_never_ran_for_a_cause_that_may_pass_is_started_again() -> None:
    e = engine(Life(start=None, fails_after=1.0, reason=ENI), Life(start=0.5, runs=1.0, exit_code=0))
    result = run(e)
    first, second = ours(e)
    assert (result.status, result.task and result.task["taskArn"]) == (Status.SUCCEEDED, second)
    assert e.shown.lines("warning: ") == [
        f"task {short(first)} never ran or has no exit code"[: len("task ") + 32] + " never ran (container web never "
        f"ran or has no exit code (TaskFailedToStart: {ENI})); retrying in 3s, attempt 2 of 3"
    ]
    assert json.loads(e.shown.state["task-arns"]) == []


def test_a_failed_start_is_not_started_again_once_no_attempt_is_left() -> None:
    e = engine(Life(start=None, reason=ENI), **{"start-retries": "0"})
    result = run(e)
    assert (result.status, result.exit_code, len(ours(e))) == (Status.FAILED_TO_START, 125, 1)


def test_lost_contact_to_the_timeout_is_unknown_not_a_timeout() -> None:
    e = engine(HELD, timeout="6s")
    e.ecs.faults["DescribeTasks"] = [Transient("ecs:DescribeTasks failed: 503") for _ in range(1, 100)]
    e.ecs.faults["DescribeTasks"].insert(0, Transient("first"))
    result = run(e)
    assert (result.status, result.exit_code) == (Status.UNKNOWN, 125)
    assert result.message.startswith("timed out after 6s without contact with AWS for the last 6s")
    assert result.message.endswith("; the task was stopped")


# the group lock: races, as AWS's eventual consistency has them


def test_the_later_of_two_racing_runs_stops_its_task_before_it_runs() -> None:
    e = engine(LATE, **{"if-running": "fail"})
    e.ecs.list_lag = 2.0  # ListTasks lists a task 2 s after it was created
    theirs = e.ecs.add(LATE, created=-0.3)  # the other run's RunTask came 0.3 s before ours
    result = run(e)
    [mine] = ours(e)
    assert (result.status, result.exit_code) == (Status.FAILED_TO_START, 125)
    assert re.fullmatch(rf"task {short(theirs)} \(app:1\), 0m0\ds ago of group family:app started first "
                        r"\(if-running: fail\); ours was stopped before its containers started", result.message)  # fmt: skip
    assert e.ecs.called("StopTask") == [mine]
    stopped_at = e.ecs.tasks[mine].stopped_at
    assert stopped_at is not None
    assert stopped_at < 3.0  # stopped before its containers started, which its end confirms (no startedAt)
    assert e.ecs.tasks[theirs].stopped_at is None  # the winner goes on


def test_the_earlier_of_two_racing_runs_goes_on_and_stops_nothing() -> None:
    e = engine(LATE, **{"if-running": "fail"})
    e.ecs.list_lag = 2.0
    e.ecs.add(LATE, created=0.3)  # the other run's RunTask came 0.3 s after ours
    result = run(e)
    assert (result.status, result.exit_code) == (Status.SUCCEEDED, 0)
    assert e.ecs.called("StopTask") == []
    assert len(e.ecs.called("ListTasks")) >= 4  # looked at every poll until its container ran (at 3 s)


def test_the_looks_end_once_ours_runs_and_a_look_saw_the_whole_group() -> None:
    e = engine(Life(start=3.0, runs=10.0), **{"if-running": "fail"})
    run(e)
    assert len(e.ecs.called("ListTasks")) == 1 + 4  # before RunTask, then at the polls at 0, 1, 2 and 3 s


def test_a_task_missing_when_ours_runs_is_looked_at_again_until_it_is_known() -> None:
    e = engine(Life(start=0.5, runs=10.0, lines=[(0.0, "migrating")]), **{"if-running": "fail"})
    e.ecs.during["RunTask"] = lambda: e.ecs.add(HELD, created=-0.1)  # listed at once, MISSING for 3 describes
    e.ecs.missing_describes = 3
    result = run(e)
    assert (result.status, result.exit_code) == (Status.INTERRUPTED, 143)
    assert result.message.endswith("so ours was stopped mid-run (if-running: fail); it may have done part of its "
                                   "work (its lines are above); container web exited with code 143")  # fmt: skip
    assert "migrating" in e.shown.said  # its lines are shown
    assert e.ecs.called("StopTask") == ours(e)


def test_a_loser_that_had_already_run_is_told_truthfully() -> None:
    e = engine(Life(start=0.2, runs=10.0, lines=[(0.0, "CREATE TABLE users")]), **{"if-running": "wait"})
    e.ecs.list_lag = 0.8  # theirs is listed only after ours started its containers (at 0.2 s)
    theirs = e.ecs.add(HELD, created=-0.3)
    result = run(e)
    assert (result.status, result.exit_code, result.container_exit_code) == (Status.INTERRUPTED, 143, 143)
    assert result.message.startswith(f"task {short(theirs)} (app:1), ")
    assert "ours had already started its containers, so ours was stopped mid-run " \
           "(if-running: wait)" in result.message  # fmt: skip
    assert result.hint is not None
    assert result.hint.key == "race-lost-after-start"
    assert "CREATE TABLE users" in e.shown.said
    assert e.ecs.called("RunTask") == [e.ecs.called("RunTask")[0]]  # never started again once it ran


def test_a_loser_that_started_while_our_stop_was_on_its_way_is_told_it_ran_and_never_started_again() -> None:
    """The look saw ours PENDING, but its containers started before the StopTask took effect: its end says so."""
    e = engine(Life(start=2.5, runs=10.0, lines=[(0.0, "CREATE TABLE users")]), **{"if-running": "wait"})
    e.ecs.list_lag = 2.0
    e.ecs.stop_lag = 1.0  # stopped at 2 s (the first look that lists theirs), in effect at 3 s: ours ran at 2.5 s
    e.ecs.add(HELD, created=-0.3)
    result = run(e)
    [mine] = ours(e)
    assert e.ecs.called("StopTask") == [mine]
    assert (result.status, result.exit_code) == (Status.INTERRUPTED, 143)
    assert "ours had already started its containers, so ours was stopped mid-run (if-running: wait)" in result.message
    assert "before its containers started" not in "\n".join(e.shown.said)
    assert "CREATE TABLE users" in e.shown.said
    assert len(e.ecs.called("RunTask")) == 1  # a migration that ran is never started again


def test_a_race_lost_with_wait_waits_for_the_winner_then_starts_again() -> None:
    e = engine(LATE, Life(start=0.5, runs=1.0), **{"if-running": "wait"})
    e.ecs.list_lag = 1.0
    theirs = e.ecs.add(Life(start=0.5, runs=5.0, teardown=0.1), created=-0.3)
    result = run(e)
    first, second = ours(e)
    assert (result.status, result.task and result.task["taskArn"]) == (Status.SUCCEEDED, second)
    assert e.ecs.called("StopTask") == [first]
    tokens = [r["clientToken"] for r in e.ecs.called("RunTask")]
    assert len(set(tokens)) == 2  # a new start, not an answer to the old token
    assert f"waiting for task {short(theirs)} (app:1)" in "\n".join(e.shown.said)


def test_a_race_lost_with_attach_follows_the_winner_and_never_stops_it() -> None:
    e = engine(LATE, **{"if-running": "attach", "timeout": "8s"})
    e.ecs.list_lag = 1.0
    theirs = e.ecs.add(HELD, created=-0.3)
    result = run(e)
    assert (result.status, result.exit_code) == (Status.TIMED_OUT, 124)
    assert e.ecs.called("StopTask") == ours(e)  # ours, when it lost; never theirs
    assert result.message.startswith(f"timed out after 8s; this run did not start what it followed, so it left it "
                                     f"running (task {short(theirs)}: https://")  # fmt: skip


def test_a_loser_that_cannot_be_stopped_says_two_may_run() -> None:
    e = engine(LATE, **{"if-running": "fail"})
    e.ecs.list_lag = 1.0  # the look before RunTask misses it; the look at the poll at 1 s finds it
    e.ecs.add(HELD, created=-0.3)
    e.ecs.faults["StopTask"] = [RunError("AWS denied ecs:StopTask") for _ in range(3)]
    result = run(e)
    assert (result.status, result.exit_code) == (Status.UNKNOWN, 125)
    assert "started first, and ours could not be stopped: two tasks of the group may run" in result.message


def test_a_start_again_that_loses_the_race_leaves_the_failed_start_standing() -> None:
    """Ours never ran (an ENI timeout); during the pause before starting again another pipeline starts a task of the
    group: the new start loses the race like a first one, and the failed start is the answer."""
    e = engine(Life(start=None, fails_after=1.0, reason=ENI), LATE, **{"if-running": "fail"})
    pause = e.signals.sleep

    def another_pipeline_starts_meanwhile(seconds: float) -> None:
        if seconds == 3.0:  # the pause before the start again
            e.ecs.add(HELD)
        pause(seconds)

    e.signals.sleep = another_pipeline_starts_meanwhile  # type: ignore[method-assign]
    result = run(e)
    first, second = ours(e)
    assert (result.status, result.exit_code, result.task and result.task["taskArn"]) == (
        Status.FAILED_TO_START, 125, first)  # fmt: skip
    assert e.ecs.called("StopTask") == [second]
    [said] = [w for w in e.shown.lines("warning: ") if w.startswith("started again")]
    assert said.endswith("ours was stopped, and the failed start stands (if-running: fail)")


def test_wait_false_looks_once_right_after_run_task() -> None:
    e = engine(LATE, **{"if-running": "fail", "wait": "false"})
    e.ecs.during["RunTask"] = lambda: e.ecs.add(HELD, created=-0.1)
    result = run(e)
    assert (result.status, result.exit_code) == (Status.FAILED_TO_START, 125)
    assert e.ecs.called("StopTask") == ours(e)


def test_wait_false_a_loser_that_started_before_our_stop_took_effect_is_interrupted_not_started_again() -> None:
    e = engine(Life(start=0.5, runs=10.0), **{"if-running": "wait", "wait": "false"})
    e.ecs.during["RunTask"] = lambda: e.ecs.add(HELD, created=-0.1)
    e.ecs.stop_lag = 1.0  # asked at once, in effect 1 s later: ours started its containers at 0.5 s
    done = Runner(e.session, "me").run()
    result = done.outcome
    assert (result.status, result.exit_code) == (Status.INTERRUPTED, 143)
    assert done.outputs["task-arn"] == ours(e)[0]  # it ran: the outputs name it
    assert "ours had already started its containers, so ours was stopped mid-run (if-running: wait)" in result.message
    assert len(e.ecs.called("RunTask")) == 1  # a migration that ran is never started again


# a run that follows a task it did not start never stops it


def test_attach_at_the_timeout_leaves_the_task_running_and_says_so() -> None:
    e = engine()
    theirs = e.ecs.add(HELD)
    e2 = engine(attach=theirs, timeout="5s")
    e2.ecs.tasks, e2.clock.now = e.ecs.tasks, e.clock.now
    result = run(e2)
    assert (result.status, result.exit_code) == (Status.TIMED_OUT, 124)
    assert result.message == (f"timed out after 5s; this run did not start what it followed, so it left it running "
                              f"(task {short(theirs)}: https://us-east-1.console.aws.amazon.com/ecs/v2/clusters/Sample/"
                              f"tasks/{short(theirs)}/configuration?region=us-east-1)")  # fmt: skip
    assert e2.ecs.called("StopTask") == []
    assert "task-arns" not in e2.shown.state  # nothing for the post step: it is not ours


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_attach_on_cancel_leaves_the_task_running_and_says_so(signum: int, code: int) -> None:
    e = engine()
    theirs = e.ecs.add(HELD)
    e2 = engine(attach=theirs)
    e2.ecs.tasks = e.ecs.tasks
    e2.signals.schedule(2.0, signum)
    result = run(e2)
    assert (result.status, result.exit_code) == (Status.CANCELLED, code)
    assert "this run did not start what it followed, so it left it running (task " in result.message
    assert e2.ecs.called("StopTask") == []
    assert "task-arns" not in e2.shown.state


def test_attach_never_stops_the_rest_of_a_task_it_follows() -> None:
    e = engine()
    theirs = e.ecs.add(Life(start=0.0, runs=1.0))
    task = e.ecs.tasks[theirs]
    real = task.describe
    task.describe = lambda now: {**real(now), "desiredStatus": "RUNNING"}  # type: ignore[method-assign]
    e2 = engine(attach=theirs)
    e2.ecs.tasks = e.ecs.tasks
    result = run(e2)
    assert result.status == Status.SUCCEEDED
    assert e2.ecs.called("StopTask") == []
