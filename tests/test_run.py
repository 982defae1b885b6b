"""The core engine against the sandbox over HTTP: every row of the contract's exit table."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from sandbox import HOLD, NEVER, Container, ContainerScript, Sandbox, Scripted, Step
from tests.helpers import Run, go, outputs, register, steps

SUCCEEDED = "ecs-run-task: status=succeeded exit-code=0"


def test_a_container_exiting_0_succeeds(sandbox: Sandbox, run: Run, tmp_path: Path) -> None:
    td_arn = register(sandbox, web=ContainerScript(exit_code=0))
    ran = go(run, "--dotenv", str(tmp_path / "out.env"))
    assert ran.code == 0
    task_arn = sandbox.tasks()[0].arn
    env = outputs(tmp_path / "out.env")
    assert env["STATUS"] == "succeeded"
    assert env["EXIT_CODE"] == "0"
    assert env["TASK_ARN"] == task_arn
    assert env["TASK_DEFINITION_ARN"] == td_arn
    assert json.loads(env["TASK_ARNS"]) == [task_arn]
    assert env["STOP_CODE"] == "EssentialContainerExited"


def test_exit_255_is_passed_through_as_the_original_tool_did(sandbox: Sandbox, run: Run) -> None:
    register(sandbox, web=ContainerScript(exit_code=255))
    ran = go(run)
    assert ran.code == 255
    assert "ecs-run-task: error: container web exited with code 255\n" in ran.out  # no stop code to read past


def test_progress_lines_show_each_state_change(sandbox: Sandbox, run: Run) -> None:
    register(sandbox, life=[Step("PROVISIONING", 0.3), Step("PENDING", 0.3), Step("RUNNING", 0.3)])
    states = [line.split()[1] for line in go(run).lines if line.startswith("ecs-run-task: lastStatus=")]
    assert states == ["lastStatus=PROVISIONING", "lastStatus=PENDING", "lastStatus=RUNNING", "lastStatus=STOPPED"]


def test_an_unknown_state_is_not_taken_for_the_end(sandbox: Sandbox, run: Run) -> None:
    # WEIRD lasts ten polls: a loaded CI machine once saw none of a 0.4 s state
    register(sandbox, life=[Step("PENDING", 0.1), Step("WEIRD", 2.0), Step("RUNNING", 0.1)],
             web=ContainerScript(exit_code=4))  # fmt: skip
    ran = go(run)
    assert ran.code == 4
    assert any(line.startswith("ecs-run-task: lastStatus=WEIRD") for line in ran.lines)


def test_a_non_essential_sidecar_exiting_1_is_ignored(sandbox: Sandbox, run: Run, tmp_path: Path) -> None:
    register(sandbox, Container("web"), Container("sidecar", essential=False),
             web=ContainerScript(exit_code=0), sidecar=ContainerScript(exit_code=1))  # fmt: skip
    ran = go(run, "--dotenv", str(tmp_path / "out.env"))
    assert ran.code == 0, ran.out
    assert SUCCEEDED in ran.lines
    assert "sidecar" not in ran.out  # its exit is no failure, so nothing names it
    assert outputs(tmp_path / "out.env")["EXIT_CODE"] == "0"


def test_an_essential_sidecar_failing_fails_the_run(sandbox: Sandbox, run: Run) -> None:
    register(sandbox, Container("web"), Container("proxy"),
             web=ContainerScript(exit_code=0), proxy=ContainerScript(exit_code=2))  # fmt: skip
    ran = go(run)
    assert ran.code == 2
    assert "container proxy exited with code 2" in ran.out


def test_the_named_container_decides(sandbox: Sandbox, run: Run, tmp_path: Path) -> None:
    register(sandbox, Container("web"), Container("proxy"),
             web=ContainerScript(exit_code=0), proxy=ContainerScript(exit_code=137))  # fmt: skip
    ran = go(run, "--container", "web", "--dotenv", str(tmp_path / "out.env"))
    assert ran.code == 0, ran.out
    assert SUCCEEDED in ran.lines  # the essential proxy's 137 decides nothing
    got = outputs(tmp_path / "out.env")
    assert (got["STATUS"], got["EXIT_CODE"]) == ("succeeded", "0")


def test_a_task_that_fails_to_start_exits_125_with_the_reason(sandbox: Sandbox, run: Run, tmp_path: Path) -> None:
    pull = "CannotPullContainerError: pull image manifest has been retried 5 time(s)"
    register(sandbox, life=[Step("PROVISIONING", 0.05), Step("PENDING", 0.1)], stop_code="TaskFailedToStart",
             stopped_reason="Task failed to start", web=ContainerScript(exit_code=None, reason=pull))  # fmt: skip
    ran = go(run, "--dotenv", str(tmp_path / "out.env"))
    assert ran.code == 125
    assert "ecs-run-task: error: container web could not start: the image could not be pulled\n" in ran.out
    assert f"container web never ran or has no exit code (TaskFailedToStart: Task failed to start; {pull})" in ran.out
    assert "LOG_URL=\n" in (tmp_path / "out.env").read_text()  # it never ran: no log stream to link
    env = (tmp_path / "out.env").read_text()
    assert "STATUS=failed-to-start\n" in env
    assert "EXIT_CODE=\n" in env


def test_run_task_failures_exit_125_with_their_reasons(sandbox: Sandbox, run: Run) -> None:
    register(sandbox)
    sandbox.fail_run_task("RESOURCE:MEMORY")
    ran = go(run, "--start-retries", "0")  # capacity is retried by default (tests/test_start_again.py)
    assert ran.code == 125
    assert "RunTask started no task: RESOURCE:MEMORY" in ran.out
    assert sandbox.tasks() == []


def test_with_three_tasks_the_failing_one_decides(sandbox: Sandbox, run: Run) -> None:
    register(sandbox)
    sandbox.behave(
        "app", [Scripted(steps=steps(0.1), containers={"web": ContainerScript(exit_code=code)}) for code in (0, 6, 0)]
    )
    ran = go(run, "--count", "3")
    assert ran.code == 6
    assert len(sandbox.tasks()) == 3
    assert len(sandbox.calls("RunTask")) == 1


@pytest.mark.parametrize("wait", ["true", "false"])
def test_fewer_tasks_placed_than_asked_for_fails_the_run(sandbox: Sandbox, run: Run, tmp_path: Path,
                                                         wait: str) -> None:  # fmt: skip
    register(sandbox, life=[Step("PENDING", 0.1), Step("RUNNING", 0.2)])
    sandbox.place_only(2)
    ran = go(run, "--count", "3", "--wait", wait, "--start-retries", "0", "--dotenv", str(tmp_path / "out.env"))
    assert ran.code == 125, ran.out
    assert "RunTask started only 2 of 3 tasks: RESOURCE:MEMORY" in ran.out
    assert len(sandbox.tasks()) == 2
    written = outputs(tmp_path / "out.env")
    assert written["STATUS"] == "failed-to-start"
    assert sorted(json.loads(written["TASK_ARNS"])) == sorted(t.arn for t in sandbox.tasks())  # the two that ran


def test_describe_tasks_asks_for_every_task_in_one_call(sandbox: Sandbox, run: Run) -> None:
    register(sandbox, life=[Step("PENDING", 0.1), Step("RUNNING", 0.5)])
    go(run, "--count", "3")
    assert all(len(body["tasks"]) == 3 for body in sandbox.calls("DescribeTasks"))


def test_timeout_stops_the_task_and_exits_124(sandbox: Sandbox, run: Run, tmp_path: Path) -> None:
    register(sandbox, life=[Step("PENDING", 0.05), Step("RUNNING", HOLD)])
    ran = go(run, "--timeout", "1s", "--dotenv", str(tmp_path / "out.env"))
    assert ran.code == 124
    [task] = sandbox.tasks()
    sandbox.wait_for_status(task.arn, "STOPPED")
    assert [body["task"] for body in sandbox.calls("StopTask")] == [task.arn]
    assert sandbox.calls("StopTask")[0]["reason"] == "Stopped by ecs-run-task: timeout of 1s passed"
    assert "STATUS=timed-out\n" in (tmp_path / "out.env").read_text()


def test_wait_false_returns_once_the_task_is_accepted(sandbox: Sandbox, run: Run, tmp_path: Path) -> None:
    register(sandbox, life=[Step("PENDING", HOLD)])
    ran = go(run, "--wait", "false", "--dotenv", str(tmp_path / "out.env"))
    assert ran.code == 0
    assert "STATUS=started\n" in (tmp_path / "out.env").read_text()
    assert sandbox.calls("DescribeTasks") == []
    assert len(sandbox.running_tasks()) == 1
    assert "timeout:" not in ran.out  # nothing waits, so nothing is stopped at a timeout


def test_json_format_ends_with_the_outputs(sandbox: Sandbox, run: Run) -> None:
    register(sandbox, web=ContainerScript(exit_code=3))
    ran = go(run, "--format", "json")
    events = [json.loads(line) for line in ran.lines]
    assert events[-1]["event"] == "outputs"
    assert (events[-1]["status"], events[-1]["exit-code"]) == ("failed", 3)  # a number
    assert {"started", "status", "outputs"} <= {e["event"] for e in events}
    # one naming style, the outputs' own, in every event
    keys = {key for e in events for key in e}
    assert not [key for key in keys if "_" in key], keys


def test_the_command_after_double_dash_is_sent_as_an_exact_argv(sandbox: Sandbox, run: Run) -> None:
    register(sandbox)
    go(run, "-e", "A=1", "--", "sh", "-c", "echo $A && exit 0")
    [body] = sandbox.calls("RunTask")
    assert body["overrides"]["containerOverrides"] == [
        {"name": "web", "command": ["sh", "-c", "echo $A && exit 0"], "environment": [{"name": "A", "value": "1"}]}
    ]
    assert body["startedBy"] == "ecs-run-task"
    assert len(body["clientToken"]) == 32


BAD = [
    ["--count", "0"],
    ["--count", "11"],
    ["--launch-type", "SPOT"],
    ["--timeout", "ten"],
    ["--overrides", "{oops"],
    ["-e", "NOVALUE"],
    ["--container", "nope"],  # not in the task definition: found after one read-only call
    ["--subnets", "subnet-0123abcd"],  # bridge task definition
    ["--no-such-flag", "x"],
]


@pytest.mark.parametrize("args", BAD, ids=[" ".join(a) for a in BAD])
def test_bad_input_exits_125_and_starts_nothing(sandbox: Sandbox, run: Run, args: list[str]) -> None:
    register(sandbox)
    ran = go(run, *args)
    assert ran.code == 125
    assert "error: " in ran.out
    assert sandbox.calls("RunTask") == []


def test_a_task_definition_that_does_not_exist_is_named(sandbox: Sandbox, run: Run) -> None:
    ran = run("--cluster", "Sample", "-t", "ghost:3")
    assert ran.code == 125
    assert "task-definition: 'ghost:3' was not found in us-east-1" in ran.out
    assert sandbox.calls("RunTask") == []


def test_a_trap_is_said_before_the_run_and_the_run_goes_on(sandbox: Sandbox, run: Run) -> None:
    register(sandbox, web=ContainerScript(exit_code=0))
    ran = go(run, "--timeout", "30", "--command", "bin/rails db:migrate && bin/rails db:seed")
    assert ran.code == 0, ran.out
    said = [line for line in ran.lines if "awslogs mode" not in line]  # the caution every such task gets
    assert said[:3] == [
        "ecs-run-task: warning: --timeout: 30 means 30 seconds; write 30m for minutes",
        "ecs-run-task: warning: --command: no shell runs it, so `&&` reach the program as plain arguments; for a "
        'shell, give ["sh", "-c", "..."]',
        "ecs-run-task: timeout: 30s, then the task is stopped",
    ]
    assert sandbox.calls("RunTask")[0]["overrides"]["containerOverrides"][0]["command"][2] == "&&"


def test_a_dotenv_that_cannot_be_written_is_bad_input_before_anything_starts(
    sandbox: Sandbox, run: Run, tmp_path: Path
) -> None:
    register(sandbox)
    ran = go(run, "--dotenv", str(tmp_path))  # a directory
    assert ran.code == 125, ran.out
    assert f"dotenv: {tmp_path} cannot be written (Is a directory)" in ran.out
    assert sandbox.calls("RunTask") == []


def test_a_dotenv_that_fails_after_the_run_keeps_the_containers_exit_code(
    sandbox: Sandbox, run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The outputs may fail to be written at the end (a full disk): said, and the answer still the container's."""
    register(sandbox, web=ContainerScript(exit_code=3))
    path = tmp_path / "out.env"
    real_open = open

    def full_disk(file: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        if str(file) == str(path) and mode == "w":
            raise OSError(28, "No space left on device")
        return real_open(file, mode, *args, **kwargs)

    monkeypatch.setattr("builtins.open", full_disk)
    ran = go(run, "--dotenv", str(path))
    assert ran.code == 3, ran.out
    assert f"--dotenv: the outputs could not be written to {path} (No space left on device)" in ran.out


def test_the_log_link_of_a_run_that_timed_out_is_the_deciding_containers(
    sandbox: Sandbox, run: Run, tmp_path: Path
) -> None:
    """No --container: the essential proxy decides; at the timeout no container is named by the outcome, and the
    link is still the deciding container's stream, not the first container's."""
    register(sandbox, Container("migrate", essential=False), Container("proxy"),
             life=[Step("PROVISIONING", 0.05), Step("RUNNING", HOLD)],
             migrate=ContainerScript(0, exits_after=0.2), proxy=ContainerScript(exits_after=NEVER))  # fmt: skip
    ran = go(run, "--timeout", "2s", "--dotenv", str(tmp_path / "out.env"))
    assert ran.code == 124, ran.out
    link = outputs(tmp_path / "out.env")["LOG_URL"]
    assert "$252Fproxy$252F" in link, link


def test_a_dotenv_that_is_a_fifo_is_bad_input_and_nothing_waits_on_it(
    sandbox: Sandbox, run: Run, tmp_path: Path
) -> None:
    """Opening a FIFO nobody reads waits for good, and a signal does not end that wait: refused before the run."""
    register(sandbox)
    fifo = tmp_path / "out.env"
    os.mkfifo(fifo)
    ran = go(run, "--dotenv", str(fifo))
    assert ran.code == 125, ran.out
    assert f"--dotenv: {fifo} is a FIFO" in ran.out
    assert sandbox.calls("RunTask") == []
