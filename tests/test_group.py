"""The group lock (`if-running`): its pure decisions from plain data, then `Lock` against a scripted ECS on a fake
clock: the look before RunTask, the looks after it, MISSING as "not known yet", waiting, and the loser's story."""

from __future__ import annotations

import signal
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from ecs_run_task.engine import group
from ecs_run_task.engine.cancel import Cancelled
from ecs_run_task.errors import Hint, RunError, Transient
from ecs_run_task.status import Status
from ecs_run_task.verdict.outcome import Outcome
from tests.fakes import CLUSTER, Engine, Life, engine

ARN = "arn:aws:ecs:us-east-1:123456789012:task/Sample/"
TD = "arn:aws:ecs:us-east-1:123456789012:task-definition/app:7"
NOON = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
RUNS = Life(start=5.0, runs=None)  # a task that goes on running
HINT = Hint("aws-unavailable", "AWS answered 503.", "Run it again.")


def short(arn: str) -> str:
    return arn.rsplit("/", 1)[-1]


def created(task_id: str, minutes: float, **fields: Any) -> dict[str, Any]:
    """A task created `minutes` after noon."""
    return {"taskArn": ARN + task_id, "createdAt": NOON + timedelta(minutes=minutes), **fields}


def test_the_group_is_the_given_one_or_ecs_default_for_the_family() -> None:
    assert group.group_of("migrations", "app") == "migrations"
    assert group.group_of(None, "app") == "family:app"
    assert group.group_of("", "app") == "family:app"


def test_tasks_go_oldest_first_ties_by_arn_and_those_without_a_creation_time_last() -> None:
    late, early, tie_b, tie_a = created("4", 2), created("3", 1), created("b", 0), created("a", 0)
    unknown = {"taskArn": ARN + "0"}
    assert group.in_order([unknown, late, early, tie_b, tie_a]) == [tie_a, tie_b, early, late, unknown]


def test_the_tasks_that_go_first_are_those_created_before_mine() -> None:
    mine = created("m", 1)
    before, same_time_lower_arn, after = created("z", 0), created("a", 1), created("n", 2)
    assert group.older([after, before, same_time_lower_arn, mine], mine) == [before, same_time_lower_arn]
    assert group.older([before], {"taskArn": ARN + "x"}) == [before]  # without a creation time: last of all


def test_the_running_tasks_of_a_group_are_those_ecs_is_not_stopping_oldest_first() -> None:
    old = created("1", 0, group="family:app", lastStatus="RUNNING", desiredStatus="RUNNING")
    new = created("2", 5, group="family:app", lastStatus="PENDING", desiredStatus="RUNNING")
    stopping = created("3", 1, group="family:app", lastStatus="RUNNING", desiredStatus="STOPPED")
    other = created("4", 2, group="migrations", lastStatus="RUNNING", desiredStatus="RUNNING")
    assert group.running_in([new, stopping, other, old], "family:app") == [old, new]


def test_a_task_is_described_so_that_a_person_can_find_it() -> None:
    running = created("0a1b2c3d", 0, taskDefinitionArn=TD, startedBy="gh/acme/app/123/1")
    assert group.described(running, NOON + timedelta(seconds=185)) == (
        "task 0a1b2c3d (app:7), started by gh/acme/app/123/1, 3m05s ago")  # fmt: skip
    assert group.described(running, NOON + timedelta(seconds=3725)).endswith(", 62m05s ago")
    assert group.described(created("0a1b2c3d", 1), NOON) == "task 0a1b2c3d, 0m00s ago"  # clocks disagree: never < 0
    assert group.described({"taskArn": ARN + "0a1b2c3d"}) == "task 0a1b2c3d"
    assert group.described({}) == "task ?"


def test_a_task_is_described_against_the_clock_by_default() -> None:
    just_now = {"taskArn": ARN + "0a1b2c3d", "createdAt": datetime.now(UTC) + timedelta(hours=1)}
    assert group.described(just_now) == "task 0a1b2c3d, 0m00s ago"


def lock(e: Engine, mode: str = "fail", name: str = "family:app", timeout: float | None = 60.0) -> group.Lock:
    deadline = None if timeout is None else e.clock() + timeout
    return group.Lock(e.ecs, e.session.asker, CLUSTER, name, mode, 1.0, timeout, deadline, e.clock.wall)


def test_before_start_nothing_runs_one_list_and_no_describe() -> None:
    e = engine()
    assert lock(e).before_start() is None
    assert [name for name, _ in e.ecs.calls] == ["ListTasks"]


def test_before_start_fail_names_the_running_task_and_starts_nothing() -> None:
    e = engine()
    other = e.ecs.add(RUNS, started_by="deploy-bot")
    with pytest.raises(RunError) as refused:
        lock(e).before_start()
    assert refused.value.message == (
        f"if-running: fail: group family:app has a task running in cluster Sample: task {other.rsplit('/', 1)[-1]} "
        "(app:1), started by deploy-bot, 0m00s ago; nothing was started"
    )
    assert e.ecs.called("RunTask") == []


def test_the_group_is_the_ecs_group_whatever_the_family() -> None:
    """A blue family running in group `migrations` holds the group against a green family."""
    e = engine()
    blue = "arn:aws:ecs:us-east-1:123456789012:task-definition/blue:3"
    e.ecs.add(RUNS, group="migrations", definition=blue)
    e.ecs.add(RUNS, group="family:app")  # our family, another group: not in the way
    with pytest.raises(RunError, match=r"group migrations has a task running in cluster Sample: task \w+ \(blue:3\)"):
        lock(e, name="migrations").before_start()


def test_missing_is_not_known_yet_and_is_asked_again_never_read_as_gone() -> None:
    e = engine()
    e.ecs.missing_describes = 2  # a task just listed, MISSING for its first two describes
    e.ecs.add(RUNS)
    with pytest.raises(RunError, match="group family:app has a task running"):
        lock(e).before_start()
    assert len(e.ecs.called("DescribeTasks")) == 3
    assert e.shown.lines("warning: ") == [
        "DescribeTasks did not describe 1 of the tasks ListTasks lists (MISSING: ECS may not know them yet); asking "
        f"again in {pause:.0f}s"
        for pause in (3.0, 6.0)
    ]


def test_a_task_missing_past_every_try_fails_closed() -> None:
    e = engine()
    e.ecs.missing_describes = 9
    e.ecs.add(RUNS)
    with pytest.raises(RunError) as refused:
        lock(e, mode="wait").before_start()
    assert refused.value.message.endswith("which tasks of group family:app run is not known, after 3 tries")
    assert e.ecs.called("RunTask") == []


def test_a_failed_list_is_asked_again() -> None:
    e = engine()
    e.ecs.faults["ListTasks"] = [Transient("ecs:ListTasks failed: 503: ServiceUnavailable")]
    assert lock(e).before_start() is None
    assert len(e.ecs.called("ListTasks")) == 2


def test_wait_waits_for_the_other_to_stop_then_starts() -> None:
    e = engine()
    other = e.ecs.add(Life(start=0.0, runs=4.5, teardown=60.0))
    assert lock(e, mode="wait").before_start() is None
    assert e.clock.now == 5.0  # polled every second; its container's exit is enough (the task tears down for long)
    assert e.shown.lines("info: ") == [
        f"waiting for task {other.rsplit('/', 1)[-1]} (app:1), 0m00s ago of group family:app to stop before starting",
        "group family:app is free: starting",
    ]


def test_wait_past_the_timeout_is_a_timeout_and_says_what_was_done() -> None:
    e = engine()
    e.ecs.add(RUNS)
    with pytest.raises(RunError) as refused:
        lock(e, mode="wait", timeout=3.0).before_start()
    assert (refused.value.status, refused.value.exit_code) == (Status.TIMED_OUT, 124)
    assert refused.value.message.startswith("timed out after 3s waiting for task ")
    assert refused.value.message.endswith("of group family:app to stop (if-running: wait); nothing was started")
    assert e.clock.now < 3.0  # no poll past the deadline


def test_wait_goes_on_while_the_other_is_missing() -> None:
    e = engine()
    held = lock(e, mode="wait")
    other = e.ecs.add(Life(start=0.0, runs=1.5, teardown=0.1))
    e.ecs.tasks[other].missing = 3  # DescribeTasks leaves it out three times: not known to have stopped
    held.wait_for([e.ecs.tasks[other].describe(0.0)], after="nothing was started")
    assert e.clock.now == 3.0
    assert len(e.ecs.called("DescribeTasks")) == 4


def test_attach_follows_the_oldest_and_says_so_when_several_run() -> None:
    e = engine()
    newer = e.ecs.add(RUNS, created=-5.0)
    oldest = e.ecs.add(RUNS, created=-60.0)
    assert lock(e, mode="attach").before_start() == e.ecs.tasks[oldest].describe(0.0)
    [said] = e.shown.lines("info: ")
    assert said.startswith("2 tasks of group family:app run (task ")
    assert said.index(oldest.rsplit("/", 1)[-1]) < said.index(newer.rsplit("/", 1)[-1])
    assert said.endswith("; following the oldest")


def test_a_look_finds_the_older_task_of_the_group_and_never_ours() -> None:
    e = engine()
    older_one = e.ecs.add(RUNS, created=-0.3)
    ours = e.ecs.add(RUNS)
    newer = e.ecs.add(RUNS, created=0.3)
    described = e.ecs.tasks[ours].describe(0.5)
    e.clock.now = 0.5
    look = lock(e).look([described], [ours])
    assert look == group.Look(e.ecs.tasks[older_one].describe(0.5), complete=True)
    assert newer not in str(look)


def test_a_look_describes_only_new_tasks_and_the_groups_own() -> None:
    """A task's group never changes: one seen in another group is listed again, but not described again."""
    e = engine()
    elsewhere = [e.ecs.add(RUNS, group="web") for _ in range(3)]
    ours = e.ecs.add(RUNS)
    mine = [e.ecs.tasks[ours].describe(0.0)]
    held = lock(e)
    assert held.look(mine, [ours]) == group.Look(None, complete=True)
    newcomer = e.ecs.add(RUNS, created=1.0)
    e.clock.now = 1.0
    assert held.look(mine, [ours]) == group.Look(None, complete=True)
    assert e.ecs.called("DescribeTasks") == [elsewhere, [newcomer]]


def test_a_look_that_leaves_a_task_unknown_is_incomplete_and_the_next_one_looks_again() -> None:
    e = engine()
    e.ecs.missing_describes = 1
    older_one = e.ecs.add(RUNS, created=-1.0)
    ours = e.ecs.add(RUNS)
    mine = [e.ecs.tasks[ours].describe(0.0)]
    held = lock(e)
    assert held.look(mine, [ours]) == group.Look(None, complete=False)
    first = held.look(mine, [ours]).first
    assert first is not None
    assert first["taskArn"] == older_one


def test_a_look_that_fails_is_incomplete_not_an_error() -> None:
    e = engine()
    e.ecs.faults["ListTasks"] = [Transient("ecs:ListTasks failed: 503")]
    assert lock(e).look([{"taskArn": ARN + "x"}], []) == group.Look(None, complete=False)


def test_a_signal_while_looking_before_start_cuts_it_short() -> None:
    e = engine()
    e.ecs.add(RUNS)
    e.ecs.during["DescribeTasks"] = lambda: e.signals.deliver(signal.SIGTERM)
    with pytest.raises(Cancelled):
        lock(e).before_start()


@pytest.mark.parametrize("mode", ["fail", "attach", "wait"])
def test_after_losing_before_running_each_mode_says_what_comes_next(mode: str) -> None:
    e = engine()
    first = e.ecs.tasks[e.ecs.add(Life(start=0.0, runs=2.0, teardown=0.1))].describe(0.0)
    after = lock(e, mode=mode).after_losing(first)
    if mode == "fail":
        assert isinstance(after, Outcome)
        assert (after.status, after.exit_code) == (Status.FAILED_TO_START, 125)
        assert after.message.endswith("of group family:app started first (if-running: fail); ours was stopped before "
                                      "its containers started")  # fmt: skip
    elif mode == "attach":
        assert after == group.Follow(first)
    else:
        assert after is None  # waited: start again
        assert e.clock.now == 2.0


@pytest.mark.parametrize(("code", "exit_code"),
                         [(0, 143), (143, 143), (3, 3), (None, 143), (1, 1), (255, 255), (256, 143)])  # fmt: skip
def test_a_loser_that_had_run_is_interrupted_never_a_success(code: int | None, exit_code: int) -> None:
    ours = {"taskArn": ARN + "ours", "containers": [{"name": "web", "exitCode": code}]}
    verdict = Outcome(Status.SUCCEEDED if code == 0 else Status.FAILED, code or 0, code, ours, "web", "exited")
    first = created("first", 0, taskDefinitionArn=TD)
    lost = group.lost_after_running(
        verdict, f"{group.described(first, NOON)} of group migrations started first", "wait"
    )
    assert (lost.status, lost.exit_code, lost.container_exit_code) == (Status.INTERRUPTED, exit_code, code)
    assert (lost.task, lost.container) == (ours, "web")
    assert lost.message.startswith("task first (app:7), 0m00s ago of group migrations started first, and ours")
    assert "of group migrations started first, and ours had already started its containers, " \
           "so ours was stopped mid-run (if-running: wait); it may have done part of its work (its lines are above)" \
           in lost.message  # fmt: skip
    assert lost.message.endswith(f"; container web exited with code {code}" if code is not None else "above)")
    assert lost.hint == group.RAN_AND_LOST


def test_after_each_poll_it_looks_until_ours_ran_and_a_look_saw_the_whole_group() -> None:
    e = engine()
    held = lock(e)
    ours = e.ecs.add(Life(start=2.0, runs=None))
    for now, settled in ((0.0, False), (1.0, False), (2.0, True)):
        e.clock.now = now
        assert held.after_poll([e.ecs.tasks[ours].describe(now)], [ours], ["web"]) is None
        assert held.settled == settled
    looks = len(e.ecs.called("ListTasks"))
    assert held.after_poll([e.ecs.tasks[ours].describe(3.0)], [ours], ["web"]) is None
    assert len(e.ecs.called("ListTasks")) == looks == 3  # settled: no more looks
    held.ours_started()  # a start again: looked at until it runs
    assert held.after_poll([e.ecs.tasks[ours].describe(3.0)], [ours], ["web"]) is None
    assert len(e.ecs.called("ListTasks")) == 4


def test_a_look_that_saw_only_part_of_the_group_when_ours_ran_is_made_again() -> None:
    e = engine()
    e.ecs.missing_describes = 2
    theirs = e.ecs.add(RUNS, created=-1.0)
    ours = e.ecs.add(Life(start=0.0, runs=None))
    e.ecs.tasks[ours].missing = 0
    held = lock(e)
    mine = [e.ecs.tasks[ours].describe(0.0)]
    assert held.after_poll(mine, [ours], ["web"]) is None  # ours runs, but theirs is not known yet
    assert held.after_poll(mine, [ours], ["web"]) is None
    lost = held.after_poll(mine, [ours], ["web"])
    assert lost is not None
    assert (lost.first["taskArn"], held.settled) == (theirs, True)


def test_a_look_that_finds_an_older_task_before_ours_ran_says_ours_lost_before_running() -> None:
    e = engine()
    theirs = e.ecs.add(RUNS, created=-1.0)
    ours = e.ecs.add(Life(start=2.0, runs=None))
    lost = lock(e).after_poll([e.ecs.tasks[ours].describe(0.0)], [ours], ["web"])
    assert lost == group.Lost(e.ecs.tasks[theirs].describe(0.0))


def test_a_task_is_stopped_when_ecs_says_so_or_every_container_has() -> None:
    assert group.stopped({"lastStatus": "STOPPED", "containers": []})
    assert group.stopped({"lastStatus": "DEPROVISIONING", "containers": [{"lastStatus": "STOPPED"}]})
    assert not group.stopped(
        {"lastStatus": "RUNNING", "containers": [{"lastStatus": "STOPPED"}, {"lastStatus": "RUNNING"}]}
    )
    assert not group.stopped({"lastStatus": "PROVISIONING", "containers": []})


def test_before_start_fail_names_every_running_task() -> None:
    e = engine()
    first, second = e.ecs.add(RUNS, created=-60.0), e.ecs.add(RUNS, created=-5.0)
    with pytest.raises(RunError) as refused:
        lock(e).before_start()
    assert (f"in cluster Sample: task {short(first)} (app:1), 1m00s ago; task {short(second)} (app:1), 0m05s ago; "
            "nothing was started") in refused.value.message  # fmt: skip


def test_attach_to_the_only_running_task_says_nothing_more() -> None:
    e = engine()
    e.ecs.add(RUNS)
    assert lock(e, mode="attach").before_start() is not None
    assert e.shown.lines("info: ") == []


def test_a_groups_own_tasks_are_described_at_every_look() -> None:
    e = engine()
    theirs = e.ecs.add(RUNS, created=5.0)  # newer than ours: not in the way, still of the group
    ours = e.ecs.add(RUNS)
    e.clock.now = 5.0
    held, mine = lock(e), [e.ecs.tasks[ours].describe(5.0)]
    held.look(mine, [ours])
    held.look(mine, [ours])
    assert e.ecs.called("DescribeTasks") == [[theirs], [theirs]]


def test_one_whole_look_right_after_run_task() -> None:
    """`wait: false`: no poll follows, so the look is asked again until it has seen the whole group."""
    e = engine()
    ours = e.ecs.add(RUNS)
    mine = [e.ecs.tasks[ours].describe(0.0)]
    assert lock(e).look_whole(mine, [ours]) is None  # nothing else runs: no error
    e.ecs.missing_describes = 1
    theirs = e.ecs.add(RUNS, created=-1.0)
    first = lock(e).look_whole(mine, [ours])
    assert first is not None
    assert first["taskArn"] == theirs
    assert e.shown.lines("warning: ") == [
        "DescribeTasks did not describe 1 of the tasks ListTasks lists (MISSING: ECS may not know them yet); asking "
        "again in 3s"
    ]


def test_a_whole_look_that_never_sees_the_whole_group_is_not_known() -> None:
    e = engine()
    e.ecs.missing_describes = 9
    e.ecs.add(RUNS, created=-1.0)
    ours = e.ecs.add(RUNS)
    with pytest.raises(RunError) as unknown:
        lock(e).look_whole([e.ecs.tasks[ours].describe(0.0)], [ours])
    assert unknown.value.message.endswith("whether another task of group family:app runs is not known, after 3 tries")


def test_a_race_lost_with_wait_that_waits_past_the_timeout_says_ours_was_stopped() -> None:
    e = engine()
    first = e.ecs.tasks[e.ecs.add(RUNS)].describe(0.0)
    with pytest.raises(RunError) as timed_out:
        lock(e, mode="wait", timeout=3.0).after_losing(first)
    assert timed_out.value.message == (
        f"timed out after 3s waiting for task {short(first['taskArn'])} (app:1), 0m02s ago of group family:app to stop "
        "(if-running: wait); ours was stopped before its containers started"
    )


def test_a_wait_for_a_task_missing_to_the_timeout_names_it() -> None:
    e = engine()
    other = e.ecs.add(RUNS)
    task = e.ecs.tasks[other].describe(0.0)
    e.ecs.tasks[other].missing = 100
    with pytest.raises(RunError, match=f"waiting for task {short(other)} "):
        lock(e, mode="wait", timeout=3.0).wait_for([task], after="nothing was started")


def test_a_wait_that_cannot_ask_says_what_is_not_known() -> None:
    e = engine()
    task = e.ecs.tasks[e.ecs.add(RUNS)].describe(0.0)
    e.ecs.faults["DescribeTasks"] = [Transient("ecs:DescribeTasks failed: 503", hint=HINT) for _ in range(3)]
    with pytest.raises(RunError) as unknown:
        lock(e, mode="wait").wait_for([task], after="nothing was started")
    assert unknown.value.message == ("ecs:DescribeTasks failed: 503; whether the tasks of group family:app have stopped "
                                     "is not known, after 3 tries")  # fmt: skip
    assert unknown.value.hint == HINT


def test_a_start_again_that_lost_says_who_went_first_and_that_the_failed_start_stands() -> None:
    e = engine()
    e.clock.now = 65.0
    first = e.ecs.tasks[e.ecs.add(RUNS, created=0.0, started_by="deploy-bot")].describe(65.0)
    assert lock(e).start_again_lost(first) == (
        f"started again, but task {short(first['taskArn'])} (app:1), started by deploy-bot, 1m05s ago of group "
        "family:app started first: ours was stopped, and the failed start stands (if-running: fail)"
    )
