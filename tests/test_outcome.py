"""Task descriptions -> outcome: the contract's exit table, from plain data."""

from __future__ import annotations

from typing import Any

import pytest

from ecs_run_task import outcome, outputs

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
    assert outcome.judge([task(ran("app", 0), ran("sidecar", 1))], deciders).exit_code == 0


def test_an_essential_sidecar_failing_fails_the_task() -> None:
    td = {"containerDefinitions": [{"name": "app"}, {"name": "proxy", "essential": True}]}
    got = outcome.judge([task(ran("app", 0), ran("proxy", 2))], outcome.deciding_containers(td, None))
    assert (got.exit_code, got.container) == (2, "proxy")


def test_the_named_container_alone_decides() -> None:
    td = {"containerDefinitions": [{"name": "app"}, {"name": "proxy"}]}
    got = outcome.judge([task(ran("app", 0), ran("proxy", 137))], outcome.deciding_containers(td, "app"))
    assert got.exit_code == 0


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
    }


def test_dotenv_is_one_line_per_output_and_bounded() -> None:
    text = outputs.dotenv({"exit-code": "3", "stopped-reason": "line one\nline two", "task-arns": "[]"})
    assert text == "EXIT_CODE=3\nSTOPPED_REASON=line one line two\nTASK_ARNS=[]\n"
    huge = outputs.dotenv({"stopped-reason": "x" * 20000, "status": "failed"})
    assert len(huge.encode()) <= outputs.DOTENV_LIMIT
    assert huge.endswith("STATUS=failed\n")
