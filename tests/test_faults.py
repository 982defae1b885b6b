"""Faults AWS and the network throw at a run: the answer stays right, no line is lost, no task is orphaned."""

from __future__ import annotations

from pathlib import Path

import pytest

from ecs_run_task.aws import clients as aws
from ecs_run_task.cli import post_main
from ecs_run_task.engine import retries
from sandbox import HOLD, ContainerScript, Sandbox, Step
from tests.helpers import Record, Run, count_lines, go, launch, numbered, outputs, register

LINES = [*numbered(150), (1.4, "late row")]  # the last one is written after STOPPED
MESSAGES = [m for _, m in LINES]


def printed_rows(out: list[str]) -> list[str]:
    return [line for line in out if line.startswith(("row ", "late row"))]


@pytest.mark.parametrize("seed", [1, 12])
def test_30_percent_throttling_on_every_operation_changes_nothing(
    sandbox: Sandbox, run: Run, tmp_path: Path, record_property: Record, seed: int
) -> None:
    register(sandbox, running=1.0, web=ContainerScript(exit_code=7, lines=LINES))
    for op in ("DescribeTaskDefinition", "RunTask", "DescribeTasks", "GetLogEvents"):  # each its own draws: calls
        sandbox.faults.throttle(op, 0.3, seed=seed)  # of different operations interleave as timing has it
    ran = go(run, "--dotenv", str(tmp_path / "out.env"))
    count_lines(record_property, MESSAGES, printed_rows(ran.lines))
    assert ran.code == 7, ran.out
    assert outputs(tmp_path / "out.env")["STATUS"] == "failed"
    assert printed_rows(ran.lines) == MESSAGES  # every line, once, in order
    throttled = {c.name for c in sandbox.call_log() if c.fault == "throttle"}
    assert {"DescribeTasks", "GetLogEvents"} <= throttled, throttled
    assert len(sandbox.tasks()) == 1


def _one_task_with_one_token(sb: Sandbox) -> None:
    bodies = sb.calls("RunTask")
    assert len(bodies) >= 2  # the fault made botocore retry
    assert len({b["clientToken"] for b in bodies}) == 1, [b["clientToken"] for b in bodies]
    assert len(sb.tasks()) == 1


def test_a_5xx_burst_during_run_task_starts_exactly_one_task(sandbox: Sandbox, run: Run) -> None:
    register(sandbox, web=ContainerScript(exit_code=3))
    sandbox.faults.error_burst("RunTask", 3, status=503)
    ran = go(run)
    assert ran.code == 3, ran.out
    assert [c.fault for c in sandbox.call_log("RunTask")] == ["error", "error", "error", None]
    _one_task_with_one_token(sandbox)


def test_a_dropped_connection_during_run_task_starts_exactly_one_task(sandbox: Sandbox, run: Run) -> None:
    register(sandbox, web=ContainerScript(exit_code=4))
    sandbox.faults.drop("RunTask", 2)
    ran = go(run)
    assert ran.code == 4, ran.out
    assert [c.fault for c in sandbox.call_log("RunTask")] == ["drop", "drop", None]
    _one_task_with_one_token(sandbox)


def test_a_run_task_answer_lost_after_the_task_started_is_not_started_twice(sandbox: Sandbox, run: Run) -> None:
    register(sandbox, web=ContainerScript(exit_code=5))
    sandbox.faults.lose_answer("RunTask")  # ECS started the task; the connection died before the answer
    ran = go(run)
    assert ran.code == 5, ran.out
    assert [c.fault for c in sandbox.call_log("RunTask")] == ["lost-answer", None]
    _one_task_with_one_token(sandbox)


@pytest.fixture
def two_attempts(monkeypatch: pytest.MonkeyPatch) -> None:
    """botocore gives up after 2 attempts (8 in use: their back-off would make this test half a minute long);
    our own retries of RunTask pause a tenth of a second."""
    original = aws._config
    monkeypatch.setattr(aws, "_config", lambda timeout, attempts=8, **kw: original(timeout, min(attempts, 2), **kw))
    monkeypatch.setattr(retries, "FIRST_PAUSE", 0.1)


@pytest.mark.usefixtures("two_attempts")
def test_run_task_answers_lost_past_botocore_retries_are_asked_again_with_the_same_token(
    sandbox: Sandbox, run: Run
) -> None:
    register(sandbox, web=ContainerScript(exit_code=5))
    sandbox.faults.lose_answer("RunTask", 3)  # botocore's 2 attempts, then our first ask again
    ran = go(run)
    assert ran.code == 5, ran.out
    assert [c.fault for c in sandbox.call_log("RunTask")] == ["lost-answer"] * 3 + [None]
    _one_task_with_one_token(sandbox)
    assert "asking again in 0s with the same clientToken (ECS starts no task twice for one token)" in ran.out


@pytest.mark.usefixtures("two_attempts")
def test_run_task_answers_lost_for_good_end_unknown_saying_a_task_may_run(
    sandbox: Sandbox, run: Run, tmp_path: Path
) -> None:
    register(sandbox, life=[Step("PROVISIONING", 0.05), Step("RUNNING", HOLD)])
    sandbox.faults.lose_answer("RunTask", 100)
    ran = go(run, "--dotenv", str(tmp_path / "out.env"))
    assert ran.code == 125, ran.out
    assert outputs(tmp_path / "out.env")["STATUS"] == "unknown"
    assert "RunTask's answer never came (3 times), so a task may have started: look for tasks started by 'ecs-run-task'" \
        " in cluster 'Sample' and stop any you find: https://us-east-1.console.aws.amazon.com/ecs/v2/clusters/Sample/" \
        "tasks?region=us-east-1" in ran.out  # fmt: skip
    [task] = sandbox.tasks()  # one task, however often it was asked for: the user is told to look for it
    sandbox.faults.clear()
    sandbox.client("ecs").stop_task(cluster="Sample", task=task.arn)


@pytest.mark.usefixtures("two_attempts")
def test_run_task_throttled_past_every_retry_started_nothing_and_says_so(sandbox: Sandbox, run: Run) -> None:
    """A throttled call was refused before ECS acted: no task to look for, unlike a lost answer."""
    register(sandbox)
    sandbox.faults.throttle("RunTask", 1.0)
    ran = go(run)
    assert ran.code == 125, ran.out
    assert "ThrottlingException" in ran.out
    assert "(3 times); nothing was started" in ran.out
    assert "may have started" not in ran.out
    assert sandbox.tasks() == []


def test_connection_drops_while_polling_and_tailing_lose_nothing(
    sandbox: Sandbox, run: Run, record_property: Record
) -> None:
    register(sandbox, running=1.0, web=ContainerScript(exit_code=0, lines=LINES))
    for op in ("DescribeTasks", "GetLogEvents"):
        sandbox.faults.drop(op, 3)
    sandbox.faults.error_burst("GetLogEvents", 2, status=500)
    ran = go(run)
    count_lines(record_property, MESSAGES, printed_rows(ran.lines))
    assert ran.code == 0, ran.out
    assert printed_rows(ran.lines) == MESSAGES
    assert [c.fault for c in sandbox.call_log("DescribeTasks")][:3] == ["drop"] * 3


def test_connection_drops_in_the_middle_of_the_run_lose_nothing(sandbox: Sandbox, record_property: Record) -> None:
    """Drops injected while the task runs and logs flow, not only at the first calls."""
    lines = [*numbered(100, every=0.01), (2.5, "late row")]
    register(sandbox, running=2.0, web=ContainerScript(exit_code=2, lines=lines))
    proc = launch(sandbox)
    arn = sandbox.wait_for_any_task(timeout=30)
    sandbox.wait_for_log_lines(arn, "web", 20)
    sandbox.faults.drop("*", 4)  # the next four calls, whatever they are
    out, _ = proc.communicate(timeout=60)
    count_lines(record_property, [m for _, m in lines], printed_rows(out.splitlines()))
    assert proc.returncode == 2, out
    assert printed_rows(out.splitlines()) == [m for _, m in lines]
    assert sum(c.fault == "drop" for c in sandbox.call_log()) == 4


def test_missing_right_after_run_task_is_waited_out(sandbox: Sandbox, run: Run, record_property: Record) -> None:
    register(sandbox, running=0.5, web=ContainerScript(exit_code=9, lines=LINES[:20]))
    sandbox.missing_after_run(3)
    ran = go(run, "--poll-interval", "100ms")
    count_lines(record_property, MESSAGES[:20], printed_rows(ran.lines))
    assert ran.code == 9, ran.out
    assert sandbox.missing_served() == 3
    assert printed_rows(ran.lines) == MESSAGES[:20]


@pytest.mark.parametrize(
    ("code", "words"),
    [
        ("AccessDeniedException", "AWS denied ecs:DescribeTasks"),
        ("ExpiredTokenException", "AWS rejected the credentials for ecs:DescribeTasks"),
    ],
)
def test_describe_tasks_rejected_after_run_task_stops_the_task(
    sandbox: Sandbox, run: Run, tmp_path: Path, code: str, words: str
) -> None:
    register(sandbox, life=[Step("PROVISIONING", 0.05), Step("RUNNING", HOLD)])
    sandbox.faults.deny("DescribeTasks", code)
    ran = go(run, "--dotenv", str(tmp_path / "out.env"))
    assert ran.code == 125, ran.out
    assert words in ran.out
    [task] = sandbox.tasks()
    assert [b["task"] for b in sandbox.calls("StopTask")] == [task.arn]
    sandbox.wait_for_status(task.arn, "STOPPED")
    assert sandbox.running_tasks() == []
    assert f"stopped task {task.arn.rsplit('/', 1)[-1]}" in ran.out


@pytest.mark.parametrize(
    ("op", "code", "words"),
    [
        ("DescribeTaskDefinition", "AccessDeniedException", "fix: Grant `ecs:DescribeTaskDefinition` to the role"),
        ("RunTask", "AccessDeniedException", "fix: Grant `ecs:RunTask` to the role"),
        ("*", "ExpiredTokenException", "AWS rejected the credentials for ecs:DescribeTaskDefinition"),
        ("*", "UnrecognizedClientException", "fix: Check the credentials the job gets"),
    ],
)
def test_credentials_rejected_before_a_task_exits_125_and_names_the_permission(
    sandbox: Sandbox, run: Run, tmp_path: Path, *, op: str, code: str, words: str
) -> None:
    register(sandbox)
    sandbox.faults.deny(op, code)
    ran = go(run, "--dotenv", str(tmp_path / "out.env"))
    assert ran.code == 125, ran.out
    assert words in ran.out
    assert code in ran.out or code == "AccessDeniedException"
    assert sandbox.tasks() == []
    assert outputs(tmp_path / "out.env")["STATUS"] == "failed-to-start"
    # a rejection is final: no retry storm
    assert len([c for c in sandbox.call_log() if c.fault == "deny"]) == 1


def test_log_reads_denied_still_give_the_exit_code_and_name_the_permission(sandbox: Sandbox) -> None:
    register(sandbox, running=0.5, web=ContainerScript(exit_code=6, lines=LINES[:5]))
    sandbox.faults.deny("GetLogEvents")
    proc = launch(sandbox)
    out, _ = proc.communicate(timeout=60)  # stdout and stderr together, as a CI log shows them
    assert proc.returncode == 6, out
    assert "logs:GetLogEvents" in out
    assert sandbox.running_tasks() == []


def test_log_reads_denied_are_warned_about_once(sandbox: Sandbox) -> None:
    register(sandbox, running=3.0, web=ContainerScript(exit_code=0, lines=LINES[:5]))
    sandbox.faults.deny("GetLogEvents")
    proc = launch(sandbox)
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0, out
    warned = [line for line in out.splitlines() if "logs:GetLogEvents" in line]
    assert len(warned) == 2, warned  # once as it happened, not once a second for the whole run; once in the result
    assert warned[0].startswith("ecs-run-task: warning: container web: its lines cannot be shown: AWS denied")
    assert warned[1].startswith("ecs-run-task: warning: container web: its lines could not be shown (AWS denied")


def test_credentials_expiring_mid_run_name_the_task_left_and_the_post_step_stops_it(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    register(sandbox, life=[Step("PROVISIONING", 0.05), Step("RUNNING", HOLD)])
    state = tmp_path / "state"
    state.touch()
    proc = launch(sandbox, "--format", "github", env={"GITHUB_STATE": str(state)})
    arn = sandbox.wait_for_any_task(timeout=30)
    sandbox.wait_for_status(arn, "RUNNING")
    sandbox.faults.deny("*", "ExpiredTokenException")  # StopTask is rejected too: the task cannot be stopped
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 125, out
    assert "AWS rejected the credentials" in out
    assert f"could not stop task {arn}" in out  # said loudly: the user knows which task may still run
    assert len(sandbox.calls("StopTask")) >= 1
    # the action's post step, once credentials work again, stops what the main step could not
    sandbox.faults.clear()
    saved = state.read_text()
    assert arn in saved
    assert post_main({"STATE_task-arns": f'["{arn}"]', "STATE_cluster": "Sample"}) == 0
    sandbox.wait_for_status(arn, "STOPPED")
    assert sandbox.running_tasks() == []
