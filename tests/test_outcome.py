"""Task descriptions -> outcome: the contract's exit table, from plain data."""

from __future__ import annotations

import signal
from typing import Any

import pytest

from ecs_run_task.errors import Hint
from ecs_run_task.status import Status
from ecs_run_task.verdict import outcome, outputs

ARN = "arn:aws:ecs:us-east-1:123456789012:task/Sample/0a1b2c3d"


def task(*containers: dict[str, Any], n: int = 0, **fields: Any) -> dict[str, Any]:
    return {"taskArn": f"{ARN}{n}", "lastStatus": "STOPPED", "containers": list(containers), **fields}


def ran(name: str, code: int) -> dict[str, Any]:
    return {"name": name, "exitCode": code, "lastStatus": "STOPPED"}


def test_exit_zero_succeeds() -> None:
    got = outcome.judge([task(ran("web", 0))], ["web"])
    assert (got.status, got.exit_code, got.container_exit_code) == ("succeeded", 0, 0)


def test_the_containers_own_code_is_passed_through_even_255() -> None:
    got = outcome.judge([task(ran("web", 255), stopCode="EssentialContainerExited")], ["web"])
    assert (got.status, got.exit_code, got.container_exit_code, got.stop_code) == (
        "failed", 255, 255, "EssentialContainerExited")  # fmt: skip
    assert got.message == "task 0a1b2c3d0: container web exited with code 255 (EssentialContainerExited)"


@pytest.mark.parametrize("code", [256, 3221225477, -1])
def test_a_code_that_does_not_fit_an_exit_status_fails_with_1_not_its_low_byte(code: int) -> None:
    got = outcome.judge([task(ran("web", code))], ["web"])
    assert (got.status, got.exit_code, got.container_exit_code) == ("failed", 1, code)  # 256 would exit 0
    assert got.message.endswith(f"exited with code {code}; it does not fit an exit status, so we exit 1")


def test_a_missing_exit_code_is_a_failure_to_start_never_success() -> None:
    never_ran = {"name": "web", "lastStatus": "STOPPED", "reason": "CannotPullContainerError: pull access denied"}
    got = outcome.judge([task(never_ran, stopCode="TaskFailedToStart", stoppedReason="Task failed to start")], ["web"])
    assert (got.status, got.exit_code, got.container_exit_code) == ("failed-to-start", 125, None)
    assert got.message == (  # what ECS said, in its words: no Python quoting
        "task 0a1b2c3d0: container web never ran or has no exit code (TaskFailedToStart: Task failed to start; "
        "CannotPullContainerError: pull access denied)"
    )
    assert got.headline == "container web could not start: the image could not be pulled"


def test_a_reason_ecs_gives_twice_is_said_once() -> None:
    reason = "CannotPullContainerError: pull image manifest has been retried 5 time(s): not found"
    never_ran = {"name": "web", "lastStatus": "STOPPED", "reason": reason}
    same = outcome.judge([task(never_ran, stopCode="TaskFailedToStart", stoppedReason=reason)], ["web"])
    assert same.message.count("retried 5 time(s)") == 1
    cut = outcome.judge([task(never_ran, stopCode="TaskFailedToStart", stoppedReason=reason[:40])], ["web"])
    assert cut.message.endswith(f"(TaskFailedToStart: {reason})")  # the whole one, once


def test_a_non_essential_sidecar_never_decides() -> None:
    td = {"containerDefinitions": [{"name": "app", "essential": True}, {"name": "sidecar", "essential": False}]}
    deciders = outcome.deciding_containers(td, None)
    assert deciders == ["app"]
    got = outcome.judge([task(ran("app", 0), ran("sidecar", 1))], deciders)
    assert (got.status, got.exit_code, got.container_exit_code, got.container) == (Status.SUCCEEDED, 0, 0, "app")


def test_an_essential_sidecar_failing_fails_the_task() -> None:
    td = {"containerDefinitions": [{"name": "app"}, {"name": "proxy", "essential": True}]}
    got = outcome.judge([task(ran("app", 0), ran("proxy", 2))], outcome.deciding_containers(td, None))
    assert (got.exit_code, got.container) == (2, "proxy")


def test_the_named_container_alone_decides() -> None:
    td = {"containerDefinitions": [{"name": "app"}, {"name": "proxy"}]}
    got = outcome.judge([task(ran("app", 0), ran("proxy", 137))], outcome.deciding_containers(td, "app"))
    assert (got.status, got.exit_code, got.container_exit_code, got.container) == (Status.SUCCEEDED, 0, 0, "app")


def test_the_first_failing_task_decides() -> None:
    tasks = [task(ran("web", 0), n=1), task(ran("web", 4), n=2), task(ran("web", 5), n=3)]
    got = outcome.judge(tasks, ["web"])
    assert (got.exit_code, got.task) == (4, tasks[1])


def test_timeout_and_signals_have_their_own_codes() -> None:
    assert outcome.interrupted([task()], None, 30).exit_code == 124
    assert outcome.interrupted([task()], 2, None).exit_code == 130
    assert outcome.interrupted([task()], 15, None).exit_code == 143
    assert outcome.interrupted([task()], 15, None).status == "cancelled"


def test_run_task_failures_are_reported_with_their_reasons() -> None:
    got = outcome.run_failures([{"arn": "arn:aws:ecs:::container-instance/x", "reason": "RESOURCE:MEMORY"}])
    assert (got.status, got.exit_code) == ("failed-to-start", 125)
    assert got.message == "RunTask started no task: RESOURCE:MEMORY [arn:aws:ecs:::container-instance/x]"
    partly = outcome.run_failures([{"reason": "RESOURCE:CPU"}], started=2)
    assert (partly.status, partly.exit_code) == ("failed-to-start", 125)
    assert partly.message == "RunTask started only 2 of 3 tasks: RESOURCE:CPU"


def test_outputs_name_the_first_task_and_the_deciding_tasks_exit() -> None:
    tasks = [task(ran("web", 0), n=1), task(ran("web", 3), n=2, stopCode="EssentialContainerExited")]
    got = outputs.build(outcome.judge(tasks, ["web"]), tasks, "arn:td")
    assert got == {
        "task-arn": f"{ARN}1",
        "task-arns": f'["{ARN}1", "{ARN}2"]',
        "task-id": "0a1b2c3d1",
        "task-definition-arn": "arn:td",
        "status": "failed",
        "exit-code": "3",
        "stop-code": "EssentialContainerExited",
        "stopped-reason": "",
        "log-url": "",
        "message": "container web exited with code 3",
        "hint": "",
        "deployment-action": "",
    }


def test_dotenv_is_one_line_per_output_and_bounded() -> None:
    text = outputs.dotenv({"exit-code": "3", "stopped-reason": "line one\nline two", "task-arns": "[]"})
    assert text == "EXIT_CODE=3\nSTOPPED_REASON=line one line two\nTASK_ARNS=[]\n"
    huge = outputs.dotenv({"stopped-reason": "x" * 20000, "status": "failed"})
    assert len(huge.encode()) <= outputs.DOTENV_LIMIT
    assert huge.endswith("STATUS=failed\n")


def running(name: str) -> dict[str, Any]:
    return {"name": name, "lastStatus": "RUNNING"}


def stopped_without_code(name: str, reason: str = "") -> dict[str, Any]:
    return {"name": name, "lastStatus": "STOPPED", **({"reason": reason} if reason else {})}


# (task lastStatus, desiredStatus, containers, deciders) -> decided?
DECISIONS = {
    "task still RUNNING, deciding container exited": ("RUNNING", "RUNNING", [ran("migrate", 0), running("envoy")], ["migrate"], True),
    "task DEPROVISIONING, essential container exited": ("DEPROVISIONING", "STOPPED", [ran("web", 3)], ["web"], True),
    "deciding container still running": ("RUNNING", "STOPPED", [running("web"), ran("envoy", 1)], ["web"], False),
    "one of two essential containers still running": ("RUNNING", "STOPPED", [ran("web", 0), running("worker")], ["web", "worker"], False),
    "deciding container stopped without an exit code, task DEACTIVATING": ("DEACTIVATING", "STOPPED", [stopped_without_code("web")], ["web"], True),
    "deciding container missing from the description": ("RUNNING", "RUNNING", [ran("envoy", 0)], ["web"], False),
    "task STOPPED whatever its containers say": ("STOPPED", "STOPPED", [running("web")], ["web"], True),
    "no deciding container known: only STOPPED decides": ("RUNNING", "STOPPED", [ran("web", 0)], [], False),
}  # fmt: skip


@pytest.mark.parametrize("name", list(DECISIONS))
def test_a_task_is_decided_when_its_deciding_containers_have_stopped(name: str) -> None:
    last, desired, containers, deciders, expected = DECISIONS[name]
    described = task(*containers, lastStatus=last, desiredStatus=desired)
    assert outcome.decided(described, deciders) is expected


def test_an_essential_sidecar_killed_after_the_deciding_container_exited_0_changes_nothing() -> None:
    """We stopped the rest of the task once its answer was known: our own StopTask is no stop from outside."""
    ours = "Stopped by ecs-run-task: container migrate exited"
    described = task(ran("migrate", 0), ran("envoy", 137), lastStatus="DEACTIVATING", desiredStatus="STOPPED",
                     stopCode="UserInitiated", stoppedReason=ours)  # fmt: skip
    got = outcome.judge([described], ["migrate"], {f"{ARN}0": ours})
    assert (got.status, got.exit_code, got.container) == ("succeeded", 0, "migrate")


def test_a_deciding_container_without_an_exit_code_while_deactivating_failed_to_start() -> None:
    described = task(stopped_without_code("web", "CannotPullContainerError: pull access denied"),
                     lastStatus="DEACTIVATING", desiredStatus="STOPPED", stopCode="TaskFailedToStart")  # fmt: skip
    got = outcome.judge([described], ["web"])
    assert (got.status, got.exit_code, got.container_exit_code) == ("failed-to-start", 125, None)
    assert "CannotPullContainerError: pull access denied" in got.message


def test_several_tasks_decided_at_different_times_are_judged_together() -> None:
    first = task(ran("web", 0), n=1, lastStatus="STOPPED")
    second = task(ran("web", 4), n=2, lastStatus="DEPROVISIONING", desiredStatus="STOPPED")
    assert all(outcome.decided(t, ["web"]) for t in (first, second))
    got = outcome.judge([first, second], ["web"])
    assert (got.status, got.exit_code, (got.task or {}).get("taskArn")) == ("failed", 4, f"{ARN}2")


@pytest.mark.parametrize(
    ("last", "desired", "expected"),
    [("RUNNING", "RUNNING", False), ("RUNNING", "STOPPED", True), ("DEPROVISIONING", "STOPPED", True),
     ("STOPPED", "STOPPED", True), ("PENDING", "RUNNING", False)],
)  # fmt: skip
def test_a_task_is_stopping_once_ecs_wants_it_stopped(last: str, desired: str, expected: bool) -> None:
    assert outcome.stopping({"lastStatus": last, "desiredStatus": desired}) is expected


# Exact outcomes, field by field: the deciding container, what is said and the hint are the contract too.


def hint_key(got: outcome.Outcome) -> str | None:
    return got.hint.key if got.hint else None


def test_a_container_definition_without_essential_is_essential_and_decides() -> None:
    td = {"containerDefinitions": [{"name": "app"}, {"name": "log-router", "essential": False}]}
    assert outcome.deciding_containers(td, None) == ["app"]
    assert outcome.deciding_containers({}, None) == []


def test_an_exit_code_of_1_is_passed_through_without_a_note() -> None:
    got = outcome.judge_task(task(ran("web", 1)), ["web"])
    assert (got.exit_code, got.message) == (1, "task 0a1b2c3d0: container web exited with code 1")


def test_an_ordinary_exit_says_the_code_alone_not_ecs_words_for_it() -> None:
    ordinary = task(
        ran("web", 3), stopCode="EssentialContainerExited", stoppedReason="Essential container in task exited"
    )
    assert outcome.judge_task(ordinary, ["web"]) == outcome.Outcome(
        outcome.FAILED, 3, 3, ordinary, "web", "task 0a1b2c3d0: container web exited with code 3")  # fmt: skip


def test_a_container_that_never_ran_is_explained_by_ecs_words_even_for_an_ordinary_stop() -> None:
    described = task(
        stopped_without_code("web"),
        stopCode="EssentialContainerExited",
        stoppedReason="Essential container in task exited",
    )
    got = outcome.judge_task(described, ["web"])
    assert got.message == (
        "task 0a1b2c3d0: container web never ran or has no exit code "
        "(EssentialContainerExited: Essential container in task exited)"
    )


def test_a_container_that_never_ran_without_any_reason_says_so() -> None:
    described = {"lastStatus": "STOPPED"}  # no ARN, no containers: nothing to go on
    assert outcome.judge_task(described, ["web"]) == outcome.Outcome(
        outcome.FAILED_TO_START, 125, None, described, "web",
        "task ?: container web never ran or has no exit code (no reason given)")  # fmt: skip


def test_the_hint_of_a_task_that_never_ran_comes_from_the_containers_reason() -> None:
    described = task(
        stopped_without_code("web", "CannotPullContainerError: pull access denied for app"),
        stopCode="TaskFailedToStart",
    )
    assert hint_key(outcome.judge_task(described, ["web"])) == "pull-failed"


def test_the_hint_of_a_task_that_never_ran_comes_from_its_stopped_reason() -> None:
    described = task(stopped_without_code("web"), stopCode="TaskFailedToStart",
                     stoppedReason="Timeout waiting for network interface provisioning to complete.")  # fmt: skip
    assert hint_key(outcome.judge_task(described, ["web"])) == "provisioning-timeout"


def test_the_hint_of_a_task_that_never_ran_comes_from_its_stop_code() -> None:
    described = task(stopped_without_code("web"), stopCode="SpotInterruption")
    assert hint_key(outcome.judge_task(described, ["web"])) == "spot-interruption"


@pytest.mark.parametrize(
    ("containers", "stop_code", "key"),
    [([ran("web", 137)], "EssentialContainerExited", "killed"),  # it exited by itself: no stop made ECS kill it
     ([ran("web", 137), ran("envoy", 0)], "EssentialContainerExited", "killed-after-stop"),
     ([ran("web", 137)], "UserInitiated", "killed-after-stop"),
     ([ran("web", 139)], "EssentialContainerExited", "segfault")],
)  # fmt: skip
def test_a_killed_container_is_told_apart_from_one_ecs_stopped(containers: list[dict[str, Any]], stop_code: str,
                                                               key: str) -> None:  # fmt: skip
    got = outcome.judge_task(task(*containers, stopCode=stop_code), ["web"])
    status = "interrupted" if stop_code == "UserInitiated" else "failed"  # a stop from outside: see below
    assert (got.status, hint_key(got)) == (status, key)


def test_the_only_container_exiting_on_sigterm_was_not_stopped_by_another_container() -> None:
    got = outcome.judge_task(task(ran("web", 143), stopCode="EssentialContainerExited"), ["web"])
    assert got.hint is not None
    assert got.hint.cause == (
        "The container exited on SIGTERM (exit 143) because something sent it SIGTERM before ECS reported a stop code."
    )
    beside = outcome.judge_task(task(ran("web", 143), ran("envoy", 1), stopCode="EssentialContainerExited"), ["web"])
    assert beside.hint is not None
    assert beside.hint.cause == (
        "The container exited on SIGTERM (exit 143) because another essential container in the task exited."
    )


def test_without_deciding_containers_a_stopped_task_succeeds_naming_no_container() -> None:
    described = task(ran("web", 0))
    assert outcome.judge_task(described, []) == outcome.Outcome(
        outcome.SUCCEEDED, 0, None, described, None, "task 0a1b2c3d0: exited with code 0")  # fmt: skip


def test_success_names_the_last_deciding_container_and_the_task() -> None:
    described = task(ran("app", 0), ran("worker", 0))
    assert outcome.judge([described], ["app", "worker"]) == outcome.Outcome(
        outcome.SUCCEEDED, 0, 0, described, "worker", "task 0a1b2c3d0: container worker exited with code 0")  # fmt: skip


def test_several_tasks_that_succeeded_are_counted_and_the_first_is_named() -> None:
    tasks = [task(ran("web", 0), n=1), task(ran("web", 0), n=2)]
    assert outcome.judge(tasks, ["web"]) == outcome.Outcome(
        outcome.SUCCEEDED, 0, 0, tasks[0], "web", "all 2 tasks exited with code 0")  # fmt: skip


def test_a_timeout_names_the_first_task_and_says_it_was_stopped() -> None:
    tasks = [task(n=1), task(n=2)]
    assert outcome.interrupted(tasks, None, 90) == outcome.Outcome(
        outcome.TIMED_OUT_STATUS, 124, None, tasks[0], None, "timed out after 90s; the tasks were stopped")  # fmt: skip
    assert outcome.interrupted([], None, 0.5, stopped=False) == outcome.Outcome(
        outcome.TIMED_OUT_STATUS, 124, None, None, None,
        "timed out after 0.5s; StopTask failed, so the tasks may still be running (see the warning above)")  # fmt: skip


def test_a_signal_is_named_in_the_outcome() -> None:
    one = task()
    assert outcome.interrupted([one], signal.SIGINT, None) == outcome.Outcome(
        outcome.CANCELLED, 130, None, one, None, "cancelled by SIGINT; the task was stopped")  # fmt: skip
    assert outcome.interrupted([one], signal.SIGTERM, None, stopped=False) == outcome.Outcome(
        outcome.CANCELLED, 143, None, one, None,
        "cancelled by SIGTERM; StopTask failed, so the task may still be running (see the warning above)")  # fmt: skip
    assert outcome.interrupted([], signal.SIGTERM, None).task is None


def test_a_lost_task_is_unknown_never_a_verdict() -> None:
    tasks = [task(n=1), task(n=2)]
    hint = Hint("expired-credentials", "cause", "fix")
    assert outcome.lost(tasks, "AWS refused DescribeTasks", stopped=True, hint=hint) == outcome.Outcome(
        outcome.UNKNOWN, 125, None, tasks[0], None, "AWS refused DescribeTasks; the tasks were stopped", hint)  # fmt: skip
    assert outcome.lost([], "a bug", stopped=False) == outcome.Outcome(
        outcome.UNKNOWN, 125, None, None, None,
        "a bug; StopTask failed, so the tasks may still be running (see the warning above)")  # fmt: skip


def test_a_task_followed_but_not_started_by_the_run_is_said_to_run_on_not_stopped() -> None:
    one, left = task(), "this run did not start what it followed, so it left it running (task a: link)"
    assert outcome.interrupted([one], None, 60, left=left).message == f"timed out after 60s; {left}"
    assert outcome.interrupted([one], signal.SIGTERM, None, left=left).message == f"cancelled by SIGTERM; {left}"
    assert outcome.lost([one], "AWS refused DescribeTasks", stopped=True, left=left).message == (
        f"AWS refused DescribeTasks; {left}")  # fmt: skip


def test_started_without_waiting_succeeds_naming_the_first_task() -> None:
    tasks = [task(n=1), task(n=2)]
    assert outcome.started(tasks) == outcome.Outcome(
        outcome.STARTED, 0, None, tasks[0], None, "started 2 task(s); not waiting")  # fmt: skip


def test_run_task_failures_list_each_reason_with_its_detail_and_the_attempts() -> None:
    refused = [{"reason": "RESOURCE:MEMORY", "detail": "no room", "arn": "arn:ci"}, {"detail": "odd"}]
    got = outcome.run_failures(refused, attempts=3)
    assert got.message == "RunTask started no task in 3 attempts: RESOURCE:MEMORY (no room) [arn:ci]; ? (odd)"
    assert hint_key(got) == "resource-cpu-memory"
    assert outcome.run_failures([{"reason": "RESOURCE:CPU"}], attempts=2).message == (
        "RunTask started no task in 2 attempts: RESOURCE:CPU"
    )


def test_a_run_task_failures_detail_is_read_for_its_hint() -> None:
    got = outcome.run_failures([{"reason": "Unknown", "detail": "Capacity is unavailable at this time."}])
    assert hint_key(got) == "fargate-capacity"


def test_a_run_task_failures_reason_is_read_for_its_hint() -> None:
    assert hint_key(outcome.run_failures([{"reason": "AGENT"}])) == "agent-disconnected"


def test_a_running_or_exited_deciding_container_has_run() -> None:
    assert outcome.ran(task(running("web")), ["web"]) is True
    assert outcome.ran(task(ran("web", 0)), ["web"]) is True
    assert outcome.ran(task({"name": "web", "lastStatus": "PENDING"}, running("envoy")), ["web"]) is False
    assert outcome.ran(task(stopped_without_code("web")), ["web"]) is False
    assert outcome.ran({"lastStatus": "PENDING"}, ["web"]) is False
    # RUNNING between two polls, then stopped without an exit code (Spot): it ran, all the same
    assert outcome.ran(task(stopped_without_code("web"), startedAt="2026-11-29T12:00:00Z"), ["web"]) is True
    assert outcome.ran(task(stopped_without_code("web"), startedAt=None), ["web"]) is False


def test_a_stopped_task_is_stopping_even_without_a_desired_status() -> None:
    assert outcome.stopping({"lastStatus": "STOPPED"}) is True


# -- a stop from outside: never a success ---------------------------------------------------------------------------

SPOT = "Your Spot Task was interrupted."


@pytest.mark.parametrize(("stop_code", "reason"), [
    ("UserInitiated", "Task stopped by user"),
    ("SpotInterruption", SPOT),
    ("ServiceSchedulerInitiated", "Scaling activity initiated by (deployment ecs-svc/1234567890123456789)"),
    ("TerminationNotice", "ECS is performing maintenance on the underlying infrastructure hosting the task"),
])  # fmt: skip
def test_an_exit_0_after_a_stop_from_outside_is_interrupted_and_exits_143(stop_code: str, reason: str) -> None:
    got = outcome.judge([task(ran("migrate", 0), stopCode=stop_code, stoppedReason=reason)], ["migrate"])
    assert (got.status, got.exit_code, got.container_exit_code, got.container) == ("interrupted", 143, 0, "migrate")
    assert got.message == (
        f"task 0a1b2c3d0: interrupted: ECS was asked from outside to stop the task (stopCode={stop_code}: "
        f"{reason}) while container migrate ran; it exited with code 0; an exit after a stop from "
        "outside never counts as success, so we exit 143"
    )
    assert hint_key(got) == "stopped-from-outside"
    assert not got.ok
    assert outputs.build(got, [got.task or {}], "td")["status"] == "interrupted"


def test_a_non_zero_exit_after_a_stop_from_outside_keeps_its_own_code() -> None:
    got = outcome.judge([task(ran("migrate", 2), stopCode="SpotInterruption", stoppedReason=SPOT)], ["migrate"])
    assert (got.status, got.exit_code, got.container_exit_code) == ("interrupted", 2, 2)
    assert got.message.endswith("while container migrate ran; it exited with code 2")
    assert hint_key(got) == "stopped-from-outside"
    big = outcome.judge([task(ran("migrate", 256), stopCode="SpotInterruption")], ["migrate"])
    assert (big.status, big.exit_code) == ("interrupted", 1)  # 256 would read as 0


def test_of_several_deciding_containers_the_first_non_zero_names_the_interruption() -> None:
    described = task(ran("a", 0), ran("b", 143), stopCode="UserInitiated", stoppedReason="Task stopped by user")
    got = outcome.judge([described], ["a", "b"])
    assert (got.status, got.exit_code, got.container, hint_key(got)) == ("interrupted", 143, "b", "terminated")


def test_a_task_stopped_from_outside_before_it_ran_failed_to_start() -> None:
    got = outcome.judge([task(stopped_without_code("migrate"), stopCode="SpotInterruption", stoppedReason=SPOT)],
                        ["migrate"])  # fmt: skip
    assert (got.status, got.exit_code, hint_key(got)) == ("failed-to-start", 125, "spot-interruption")


def test_our_own_stop_is_known_by_the_reason_we_gave_and_a_stop_before_ours_is_not() -> None:
    ours = {f"{ARN}0": "Stopped by ecs-run-task: container migrate exited"}
    mine = task(ran("migrate", 0), stopCode="UserInitiated", stoppedReason=ours[f"{ARN}0"])
    assert outcome.judge([mine], ["migrate"], ours).status == "succeeded"
    theirs = task(ran("migrate", 0), stopCode="UserInitiated", stoppedReason="Task stopped by user")
    assert outcome.judge([theirs], ["migrate"], ours).status == "interrupted"  # someone else's came first
    spot = task(ran("migrate", 0), stopCode="SpotInterruption", stoppedReason=SPOT)
    assert outcome.judge([spot], ["migrate"], ours).status == "interrupted"
    other_task = task(ran("migrate", 0), n=1, stopCode="UserInitiated", stoppedReason=ours[f"{ARN}0"])
    assert outcome.judge([other_task], ["migrate"], ours).status == "interrupted"  # we stopped another task


def test_a_failed_exit_after_our_own_stop_gets_no_hint_that_blames_someone_else() -> None:
    ours = {f"{ARN}0": "Stopped by ecs-run-task: container migrate exited"}
    got = outcome.judge([task(ran("migrate", 1), stopCode="UserInitiated", stoppedReason=ours[f"{ARN}0"])],
                        ["migrate"], ours)  # fmt: skip
    assert (got.status, got.exit_code, got.hint) == ("failed", 1, None)


def test_an_essential_containers_own_exit_and_a_failed_start_are_no_stop_from_outside() -> None:
    for stop_code in ("EssentialContainerExited", "TaskFailedToStart", ""):
        assert outcome.stopped_from_outside(task(ran("migrate", 0), stopCode=stop_code)) == ""
    assert outcome.stopped_from_outside(task(ran("migrate", 0), stopCode="SomethingNew")) == "SomethingNew"
    assert outcome.stopped_from_outside(task(ran("migrate", 0), stopCode=7)) == ""  # a mangled answer: no stop code


# Who stopped the task, when ECS says an essential container exited: the headline names the other container only
# when exactly one evidently exited by itself (SIGTERM's 143 or SIGKILL's 137 without a reason is the stop's doing)
ANOTHER = "because another essential container exited"
CULPRITS = {
    "one other exited 1": ([ran("envoy", 1)], "because container envoy exited with code 1"),
    "one other never ran": ([stopped_without_code("envoy")], "because container envoy never ran"),
    "one other killed, with a reason": ([{**ran("envoy", 137), "reason": "OutOfMemoryError"}],
                                        "because container envoy exited with code 137"),
    "one other on the stop's SIGTERM": ([ran("envoy", 143)], ANOTHER),
    "one other on the stop's SIGKILL": ([ran("envoy", 137)], ANOTHER),
    "two others exited by themselves": ([ran("envoy", 1), ran("proxy", 2)], ANOTHER),
    "the other still running": ([{"name": "envoy", "exitCode": 1, "lastStatus": "RUNNING"}], ANOTHER),
}  # fmt: skip


@pytest.mark.parametrize("case", CULPRITS)
def test_the_container_that_made_ecs_stop_the_task_is_named_when_it_is_clear(case: str) -> None:
    others, said = CULPRITS[case]
    described = task(ran("web", 137), *others, stopCode="EssentialContainerExited",
                     stoppedReason="Essential container in task exited")  # fmt: skip
    got = outcome.judge([described], ["web"])
    assert (got.status, got.exit_code, hint_key(got)) == ("failed", 137, "killed-after-stop")
    assert got.headline == f"container web was killed (SIGKILL) after the task was stopped {said} (exit 137)"


def test_a_stop_other_than_a_containers_exit_names_no_container() -> None:
    described = task(ran("web", 137), ran("envoy", 1), stopCode="UserInitiated", stoppedReason="Task stopped by user")
    got = outcome.judge([described], ["web"])
    assert (
        got.headline
        == "container web was killed (SIGKILL) after the task was stopped by a StopTask from outside (exit 137)"
    )


def test_a_container_on_sigterm_after_another_exited_names_it() -> None:
    described = task(ran("web", 143), ran("envoy", 1), stopCode="EssentialContainerExited")
    assert outcome.judge([described], ["web"]).headline == (
        "container web was stopped because container envoy exited with code 1 (exit 143)"
    )


OOM = "OutOfMemoryError: Container killed due to memory usage"
# (the container's memory, the task's) -> the likely cause, which names the limit that was hit when it is known
MEMORY = {
    "the container's own limit": ("128", "512", "Container web used more than its own memory limit (128 MiB) and was killed (OutOfMemoryError)."),
    "only the task's": (None, "512", "The task's containers used more than the task's memory (512 MiB), and container web was killed (OutOfMemoryError)."),
    "a zero and a word: neither": ("0", "x", "The container used more memory than its limit and was killed (OutOfMemoryError)."),
    "digits of another script: neither": ("١٢٨", " ", "The container used more memory than its limit and was killed (OutOfMemoryError)."),
    "a number as ECS sends it, with spaces": (" 256 ", None, "Container web used more than its own memory limit (256 MiB) and was killed (OutOfMemoryError)."),
}  # fmt: skip


@pytest.mark.parametrize("case", MEMORY)
def test_an_out_of_memory_kill_names_the_limit_it_hit(case: str) -> None:
    container_memory, task_memory, cause = MEMORY[case]
    container = {**ran("web", 137), "reason": OOM, **({"memory": container_memory} if container_memory else {})}
    described = task(container)
    if task_memory:
        described["memory"] = task_memory
    got = outcome.judge([described], ["web"])
    assert (hint_key(got), got.headline) == ("out-of-memory", "container web ran out of memory (exit 137)")
    assert got.hint is not None
    assert got.hint.cause == cause


OURS = "Stopped by ecs-run-task: timeout"
# (stopCode, stoppedReason, whether the run recorded that reason for the task) -> status
STOPS = {
    "our StopTask, its reason": ("UserInitiated", OURS, True, "succeeded"),
    "our StopTask, no reason recorded": ("UserInitiated", "", True, "succeeded"),
    "someone's StopTask before ours": ("UserInitiated", "Stopped by the release bot", True, "interrupted"),
    "a StopTask with our words, not ours": ("UserInitiated", OURS, False, "interrupted"),
    "a Spot interruption, though we stopped it too": ("SpotInterruption", OURS, True, "interrupted"),
}  # fmt: skip


@pytest.mark.parametrize("case", STOPS)
def test_only_our_own_stop_is_not_a_stop_from_outside(case: str) -> None:
    stop_code, reason, recorded, status = STOPS[case]
    described = task(ran("web", 0), stopCode=stop_code, stoppedReason=reason)
    got = outcome.judge([described], ["web"], {f"{ARN}0": OURS} if recorded else {})
    assert got.status == status


def test_an_interrupted_task_is_judged_by_its_first_failing_deciding_container_in_order() -> None:
    described = task(ran("a", 0), ran("b", 3), ran("c", 4), stopCode="SpotInterruption")
    got = outcome.judge([described], ["a", "b", "c"])
    assert (got.status, got.exit_code, got.container) == ("interrupted", 3, "b")
    assert got.message == ("task 0a1b2c3d0: interrupted: ECS was asked from outside to stop the task "
                           "(stopCode=SpotInterruption) while container b ran; it exited with code 3")  # fmt: skip


def test_an_interrupted_exit_code_beyond_255_exits_1() -> None:
    got = outcome.judge([task(ran("a", 300), stopCode="SpotInterruption")], ["a"])
    assert (got.status, got.exit_code, got.container_exit_code) == ("interrupted", 1, 300)
    assert got.message.endswith("it exited with code 300; it does not fit an exit status, so we exit 1")


def test_a_task_stopped_from_outside_before_its_container_ran_failed_to_start() -> None:
    described = task(
        stopped_without_code("a"), stopCode="SpotInterruption", stoppedReason="Your Spot Task was interrupted."
    )
    got = outcome.judge([described], ["a"])
    assert (got.status, got.exit_code) == ("failed-to-start", 125)
    assert got.message == ("task 0a1b2c3d0: container a never ran or has no exit code (SpotInterruption: Your Spot Task "
                           "was interrupted.)")  # fmt: skip


WHY = {
    "an ordinary exit: its code says it all": ({}, "Essential container in task exited", "container web exited with code 3"),
    "an ordinary exit, the container's reason": ({"reason": "Boom"}, "Essential container in task exited", "container web exited with code 3 (Boom)"),
    "another reason of the task's": ({}, "Out of luck", "container web exited with code 3 (EssentialContainerExited: Out of luck)"),
    "the same reason twice, said once": ({"reason": "Out  of luck"}, "Out of luck", "container web exited with code 3 (EssentialContainerExited: Out of luck)"),
}  # fmt: skip


@pytest.mark.parametrize("case", WHY)
def test_what_ecs_said_is_said_once_and_not_when_it_says_nothing_more(case: str) -> None:
    extra, reason, said = WHY[case]
    described = task({**ran("web", 3), **extra}, stopCode="EssentialContainerExited", stoppedReason=reason)
    assert outcome.judge([described], ["web"]).message == f"task 0a1b2c3d0: {said}"


def test_the_deciding_container_is_never_its_own_culprit_even_with_a_reason() -> None:
    described = task({**ran("web", 143), "reason": "Stopped"}, ran("envoy", 1), stopCode="EssentialContainerExited")
    assert outcome.judge([described], ["web"]).headline == (
        "container web was stopped because container envoy exited with code 1 (exit 143)"
    )


@pytest.mark.parametrize("code", [1, 255])
def test_an_interrupted_exit_code_within_an_exit_status_is_passed_through(code: int) -> None:
    described = task(ran("a", code), stopCode="SpotInterruption")
    got = outcome.judge([described], ["a"])
    assert (got.status, got.exit_code, got.task) == ("interrupted", code, described)
    assert got.message.endswith(f"while container a ran; it exited with code {code}")


def test_a_pull_failure_names_the_image_to_check() -> None:
    never_ran = {**stopped_without_code("web", "CannotPullContainerError: pull access denied"), "image": "acme/app:1"}
    got = outcome.judge([task(never_ran, stopCode="TaskFailedToStart")], ["web"])
    assert got.hint is not None
    assert (got.hint.key, got.hint.fix.split(" (")[0]) == ("pull-failed", "Check image `acme/app:1` of container web")


# an essential sidecar that crashed made ECS stop the task: the migration's exit 0 on SIGTERM is no success

SIDECAR_DEFINITION = {"containerDefinitions": [{"name": "migrate"}, {"name": "envoy", "essential": True},
                                               {"name": "log-router", "essential": False}]}  # fmt: skip


def test_a_migration_that_exits_0_after_an_essential_sidecar_crashed_is_interrupted() -> None:
    sidecars = outcome.essential_sidecars(SIDECAR_DEFINITION, ["migrate"])
    assert sidecars == ["envoy"]
    crashed = task(ran("migrate", 0), ran("envoy", 1), stopCode="EssentialContainerExited")
    got = outcome.judge([crashed], ["migrate"], sidecars=sidecars)
    assert (got.status, got.exit_code, got.container_exit_code, got.container) == ("interrupted", 143, 0, "migrate")
    assert got.message == (
        "task 0a1b2c3d0: interrupted: essential container envoy exited with code 1, so ECS stopped the task "
        "(stopCode=EssentialContainerExited) while container migrate may still have run; it exited with code 0, "
        "which after such a stop never counts as success, so we exit 143"
    )
    assert got.task is crashed
    assert got.hint == Hint(
        "sidecar-crashed",
        "Essential container `envoy` exited with code 1, so ECS stopped the task and sent `migrate` SIGTERM: its work "
        "may be half done.",
        "Find why `envoy` exited (its log), and make it non-essential if `migrate` does not need it; then run the task "
        "again, which must cope with a half-applied run.",
        headline="container migrate was cut short: essential container envoy exited with code 1",
    )
    assert got.headline == "container migrate was cut short: essential container envoy exited with code 1"


def test_a_sidecar_crash_reads_a_task_with_odd_fields_without_failing() -> None:
    no_arn = {"lastStatus": "STOPPED", "stopCode": "EssentialContainerExited",
              "containers": [ran("migrate", 0), ran("envoy", 1)]}  # fmt: skip
    assert outcome.judge_task(no_arn, ["migrate"], sidecars=["envoy"]).message.startswith("task ?: interrupted: ")
    no_containers = {"taskArn": f"{ARN}0", "lastStatus": "STOPPED", "stopCode": "EssentialContainerExited"}
    assert outcome.judge_task(no_containers, ["migrate"], sidecars=["envoy"]).status == "failed-to-start"


def test_with_two_deciders_one_failing_the_failure_stands_beside_a_sidecar_crash() -> None:
    crashed = task(ran("migrate", 0), ran("seed", 3), ran("envoy", 1), stopCode="EssentialContainerExited")
    got = outcome.judge([crashed], ["migrate", "seed"], sidecars=["envoy"])
    assert (got.status, got.exit_code, got.container) == ("failed", 3, "seed")


@pytest.mark.parametrize(
    ("sidecar", "stop_code", "migrate"),
    [
        (ran("envoy", 143), "EssentialContainerExited", 0),  # the stop's SIGTERM ended envoy: migrate exited first
        (ran("envoy", 137), "EssentialContainerExited", 0),  # ... or its SIGKILL
        (ran("envoy", 0), "EssentialContainerExited", 0),  # envoy exits 0 on SIGTERM
        (ran("log-router", 1), "EssentialContainerExited", 0),  # not essential: its exit stops nothing
        (ran("envoy", 1), "UserInitiated", 0),  # our own stop (said by `ours` elsewhere): not this rule
    ],
)  # fmt: skip
def test_a_sidecar_ended_by_the_stop_leaves_the_migrations_success_alone(
    sidecar: dict[str, Any], stop_code: str, migrate: int
) -> None:
    sidecars = outcome.essential_sidecars(SIDECAR_DEFINITION, ["migrate"])
    got = outcome.judge([task(ran("migrate", migrate), sidecar, stopCode=stop_code)], ["migrate"],
                        {f"{ARN}0": "Stopped by ecs-run-task: x"} if stop_code == "UserInitiated" else None,
                        sidecars)  # fmt: skip
    assert (got.status, got.exit_code) == ("succeeded", 0), got.message


def test_a_migration_that_failed_while_its_sidecar_crashed_keeps_its_own_code() -> None:
    crashed = task(ran("migrate", 3), ran("envoy", 1), stopCode="EssentialContainerExited")
    got = outcome.judge([crashed], ["migrate"], sidecars=["envoy"])
    assert (got.status, got.exit_code) == ("failed", 3)
