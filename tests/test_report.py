"""What each renderer prints, exactly: the runner reads these lines as commands, people read them as prose."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from ecs_run_task.engine.events import Progress
from ecs_run_task.engine.logs import LogLine, LogSource
from ecs_run_task.errors import Hint
from ecs_run_task.printable import inert
from ecs_run_task.report import pick
from ecs_run_task.report.github import GitHub
from ecs_run_task.report.plain import Plain
from ecs_run_task.status import Status
from ecs_run_task.verdict.outcome import Outcome

ARN = "arn:aws:ecs:us-east-1:123456789012:task/Sample/abc123"
OUTPUTS = {"status": "failed", "exit-code": "3", "task-arn": ARN}
FAILED = Outcome(Status.FAILED, 3, 3, {"taskArn": ARN, "stopCode": "EssentialContainerExited"}, "web",
                 "task abc123: container web exited with code 3 (EssentialContainerExited)")  # fmt: skip


def test_plain_prints_progress_as_the_original_tool_did() -> None:
    out = io.StringIO()
    plain = pick("plain", {}, out)
    plain.begin("Waiting for task")
    plain.progress(Progress(ARN, "PENDING", 5.02, changed=True))
    plain.result(FAILED, OUTPUTS)
    assert out.getvalue() == (
        "ecs-run-task: lastStatus=PENDING elapsed=5.0s\n"
        "ecs-run-task: error: container web exited with code 3\n"  # the headline, then what ECS said
        "ecs-run-task: task abc123: container web exited with code 3 (EssentialContainerExited)\n"
        "ecs-run-task: status=failed exit-code=3\n"
    )


def test_plain_writes_the_failure_to_its_error_stream_with_the_containers_last_lines() -> None:
    out, err = io.StringIO(), io.StringIO()
    plain = Plain(out, err)
    source = LogSource("web", ARN, "/ecs/app", "app/web/abc123", None)
    plain.log_lines([LogLine(source, i, f"step {i}") for i in range(8)] + [LogLine(source, 9, "::error::boom")])
    plain.result(FAILED, OUTPUTS)
    assert out.getvalue().splitlines()[-1] == "ecs-run-task: status=failed exit-code=3"
    assert err.getvalue().splitlines() == [
        "ecs-run-task: error: container web exited with code 3",
        "ecs-run-task: task abc123: container web exited with code 3 (EssentialContainerExited)",
        "ecs-run-task: the last lines of container web:",
        "  step 4", "  step 5", "  step 6", "  step 7",
        "  \u2060::error::boom",  # inert there too
    ]  # fmt: skip


def test_several_tasks_name_the_task_on_each_progress_line() -> None:
    out = io.StringIO()
    plain = pick("plain", {}, out)
    plain.started([{"taskArn": ARN}, {"taskArn": ARN + "2"}], "arn:td/app:7")
    plain.progress(Progress(ARN, "RUNNING", 1, changed=True))
    assert out.getvalue().splitlines()[-1] == "ecs-run-task: task abc123: lastStatus=RUNNING elapsed=1.0s"


def test_github_groups_phases_and_annotates_the_failure(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    output_file = tmp_path / "output"
    output_file.touch()
    monkeypatch.setenv("GITHUB_OUTPUT", str(output_file))  # actions-toolkit reads the process environment
    out = io.StringIO()
    gh = pick("github", {"GITHUB_OUTPUT": str(output_file)}, out)
    gh.begin("Starting task")
    gh.info("started task abc123 (app:7)")
    gh.begin("Waiting for the task: status and logs", live=True)
    gh.progress(Progress(ARN, "RUNNING", 2.0, changed=True))
    gh.result(FAILED, OUTPUTS)
    assert out.getvalue() == (
        "::group::Starting task\n"
        "ecs-run-task: started task abc123 (app:7)\n"
        "::endgroup::\n"
        "::group::Waiting for the task: status and logs\n"  # GitHub folds even a live phase
        "ecs-run-task: lastStatus=RUNNING elapsed=2.0s\n"
        "::endgroup::\n"
        "::group::Result\n"
        "::error title=Container web exited with code 3::task abc123: container web exited with code 3 "
        "(EssentialContainerExited)\n"
        "ecs-run-task: status=failed exit-code=3\n"
        "::endgroup::\n"
    )
    written = output_file.read_text()
    assert "status<<ghadelimiter_" in written
    assert "\nfailed\n" in written


def test_github_escapes_annotation_data_and_neutralises_legacy_commands() -> None:
    out = io.StringIO()
    bad = Outcome(Status.FAILED, 1, 1, None, "web", "100% broken\nnext line ##[error]boom")
    GitHub(out, {}).failure(bad)
    assert out.getvalue() == (
        "::error title=Container web exited with code 1::100%25 broken%0Anext line #\u2060#[error]boom\n"
    )


NEVER_RAN = {"taskArn": ARN, "stoppedReason": "Task failed to start",
             "containers": [{"name": "web", "lastStatus": "STOPPED", "reason": "CannotStartContainerError: boom"}]}  # fmt: skip
EXPIRED = Hint(
    "expired-credentials", "The session expired.", "Ask for a longer one.", headline="the AWS session expired"
)


@pytest.mark.parametrize(
    ("outcome", "title"),
    [
        (Outcome(Status.INVALID_INPUT, 125, None, None, None, "1 input is not valid; nothing was started:\n  - cluster: 'x' was not found"),
         "Invalid input: cluster: 'x' was not found"),
        (Outcome(Status.INVALID_INPUT, 125, None, None, None, "2 inputs are not valid; nothing was started:\n  - count: too many\n  - subnets, security-groups: apart"),
         "2 inputs are not valid (count, subnets, security-groups)"),
        (Outcome(Status.INVALID_INPUT, 125, None, None, None, "2 inputs are not valid; nothing was started:\n  - --cluster: gone\n  - --launch-type: no"),
         "2 inputs are not valid (--cluster, --launch-type)"),
        (Outcome(Status.FAILED_TO_START, 125, None, None, None, "AWS denied ecs:RunTask: no"),
         "Could not start the task: AWS denied ecs:RunTask: no"),
        (Outcome(Status.FAILED_TO_START, 125, None, None, None, "ecs-run-task failed unexpectedly: KeyError", bug=True),
         "ecs-run-task failed unexpectedly: KeyError"),
        (Outcome(Status.FAILED_TO_START, 125, None, NEVER_RAN, "web", "never ran"),
         "Container web could not start: CannotStartContainerError: boom"),
        (Outcome(Status.FAILED_TO_START, 125, None, {"taskArn": ARN}, "web", "never ran"), "Container web never ran (no reason given)"),
        (Outcome(Status.FAILED, 3, 3, {"taskArn": ARN}, "web", "exited with code 3"), "Container web exited with code 3"),
        (Outcome(Status.TIMED_OUT, 124, None, {"taskArn": ARN}, None, "timed out after 90s; the task was stopped"),
         "Timed out after 90s; the task was stopped"),
        (Outcome(Status.UNKNOWN, 125, None, {"taskArn": ARN}, None, "AWS rejected the credentials; the task was stopped", EXPIRED),
         "Lost the task: the AWS session expired; the task was stopped"),
    ],
)  # fmt: skip
def test_the_failure_annotations_title_says_what_failed(outcome: Outcome, title: str) -> None:
    out = io.StringIO()
    GitHub(out, {}).failure(outcome)
    escaped = title.replace("%", "%25").replace(":", "%3A").replace(",", "%2C")  # as annotation properties are
    assert out.getvalue().startswith(f"::error title={escaped}::")


def test_json_output_has_task_arns_as_an_array() -> None:
    out = io.StringIO()
    pick("json", {}, out).result(FAILED, {**OUTPUTS, "task-arns": f'["{ARN}"]'})
    assert json.loads(out.getvalue())["task-arns"] == [ARN]


def test_inert_lines_cannot_act_as_workflow_commands() -> None:
    assert inert("::set-output name=x::y") == "\u2060::set-output name=x::y"
    assert inert("   ::add-mask::secret") == "\u2060   ::add-mask::secret"
    assert inert("ok ##[group]x") == "ok #\u2060#[group]x"
    assert inert("plain text") == "plain text"


def test_gitlab_sections_are_collapsible_and_named_safely() -> None:
    out = io.StringIO()
    from ecs_run_task.report.gitlab import GitLab

    gl = GitLab(out, clock=lambda: 1700000000.5)
    gl.begin("Starting task")
    gl.begin("Waiting for the task", live=True)
    gl.end()
    assert out.getvalue() == (
        "\x1b[0Ksection_start:1700000000:starting_task[collapsed=true]\r\x1b[0KStarting task\n"
        "\x1b[0Ksection_end:1700000000:starting_task\r\x1b[0K\n"
        "\x1b[0Ksection_start:1700000000:waiting_for_the_task\r\x1b[0KWaiting for the task\n"  # live: open
        "\x1b[0Ksection_end:1700000000:waiting_for_the_task\r\x1b[0K\n"
    )


def test_json_prints_one_object_per_event_and_outputs_last() -> None:
    out = io.StringIO()
    js = pick("json", {}, out)
    js.progress(Progress(ARN, "PENDING", 1.23456, changed=True))
    js.result(FAILED, OUTPUTS)
    lines = out.getvalue().splitlines()
    assert (
        lines[0]
        == f'{{"event": "status", "task-arn": "{ARN}", "last-status": "PENDING", "elapsed": 1.235, "changed": true}}'
    )
    assert lines[-1].startswith(f'{{"event": "outputs", "status": "failed", "exit-code": 3, "task-arn": "{ARN}", ')
    assert ('"message": "container web exited with code 3", '
            '"details": "task abc123: container web exited with code 3 (EssentialContainerExited)"') in lines[-1]  # fmt: skip


def test_every_format_the_input_table_offers_has_its_own_renderer() -> None:
    """`--format`'s choices are listed in the input table (which must not load the renderers): each picks its own."""
    from ecs_run_task.inputs.table import FORMATS

    picked = {fmt: type(pick(fmt, {}, io.StringIO())).__name__ for fmt in FORMATS}
    assert picked == {"auto": "Plain", "github": "GitHub", "gitlab": "GitLab", "plain": "Plain", "json": "JsonLines"}
    assert type(pick("auto", {"GITHUB_ACTIONS": "true"}, io.StringIO())).__name__ == "GitHub"
