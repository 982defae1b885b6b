"""Task descriptions -> outcome: the contract's exit table, from plain data."""

from __future__ import annotations

from typing import Any

import pytest

from ecs_run_task import outcome, outputs
from ecs_run_task.status import Status

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
    assert got.message == "task 0a1b2c3d0: container web exited with code 255 (stopCode=EssentialContainerExited)"


@pytest.mark.parametrize("code", [256, 3221225477, -1])
def test_a_code_that_does_not_fit_an_exit_status_fails_with_1_not_its_low_byte(code: int) -> None:
    got = outcome.judge([task(ran("web", code))], ["web"])
    assert (got.status, got.exit_code, got.container_exit_code) == ("failed", 1, code)  # 256 would exit 0
    assert got.message.endswith(f"exited with code {code}; it does not fit an exit status, so we exit 1")


def test_a_missing_exit_code_is_a_failure_to_start_never_success() -> None:
    never_ran = {"name": "web", "lastStatus": "STOPPED", "reason": "CannotPullContainerError: pull access denied"}
    got = outcome.judge([task(never_ran, stopCode="TaskFailedToStart", stoppedReason="Task failed to start")], ["web"])
    assert (got.status, got.exit_code, got.container_exit_code) == ("failed-to-start", 125, None)
    assert got.message == (
        "task 0a1b2c3d0: container web never ran or has no exit code (stopCode=TaskFailedToStart, "
        "stoppedReason='Task failed to start', container reason='CannotPullContainerError: pull access denied')"
    )


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
    described = task(ran("migrate", 0), ran("envoy", 137), lastStatus="DEACTIVATING", desiredStatus="STOPPED",
                     stopCode="UserInitiated")  # fmt: skip
    got = outcome.judge([described], ["migrate"])
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
