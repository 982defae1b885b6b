"""The GitHub job summary, exactly: a table per task, the log link, the last log lines on failure."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ecs_run_task.engine.renderer import Context
from ecs_run_task.report.summary import LIMIT, TAIL, markdown
from ecs_run_task.status import Status
from ecs_run_task.verdict.outcome import Outcome

T0 = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
ARN = "arn:aws:ecs:eu-west-1:123456789012:task/prod/0a1b2c3d"
TASK = {
    "taskArn": ARN,
    "taskDefinitionArn": "arn:aws:ecs:eu-west-1:123456789012:task-definition/app:7",
    "launchType": "FARGATE",
    "lastStatus": "STOPPED",
    "stopCode": "EssentialContainerExited",
    "stoppedReason": "Essential container in task exited",
    "containers": [{"name": "web", "exitCode": 3}, {"name": "log-router"}],
    "createdAt": T0,
    "pullStartedAt": T0 + timedelta(seconds=4.25),
    "pullStoppedAt": T0 + timedelta(seconds=10),
    "startedAt": T0 + timedelta(seconds=12),
    "executionStoppedAt": T0 + timedelta(seconds=137),
}
FAILED = Outcome(Status.FAILED, 3, 3, TASK, "web", "task 0a1b2c3d: container web exited with code 3")
OUTPUTS = {"exit-code": "3", "log-url": "https://logs.example/stream"}


def test_a_failed_run_shows_the_task_table_the_link_and_the_last_lines() -> None:
    text = markdown(FAILED, OUTPUTS, Context("prod", "eu-west-1", [TASK]), ["migrating", "boom | with a pipe"])
    assert text == "\n".join([
        "### ❌ Container web exited with code 3",
        "",  # the message says no more than the heading: not said again
        "| task | revision | launch type | status | exit codes | stop code | provisioning | pulling | running |",
        "|---|---|---|---|---|---|---|---|---|",
        "| [0a1b2c3d](https://eu-west-1.console.aws.amazon.com/ecs/v2/clusters/prod/tasks/0a1b2c3d/configuration"
        "?region=eu-west-1) | app:7 | FARGATE | STOPPED | web 3, log-router — | EssentialContainerExited "
        "| 4.2s | 5.8s | 2m05s |",
        "",
        "Logs: [CloudWatch](https://logs.example/stream)",
        "",
        "<details open><summary>Last 2 log lines</summary>",
        "",
        "```text",
        "migrating",
        "boom | with a pipe",
        "```",
        "",
        "</details>",
        "",
    ])  # fmt: skip


def test_a_success_shows_no_log_tail() -> None:
    ok = Outcome(Status.SUCCEEDED, 0, 0, TASK, "web", "task 0a1b2c3d: container web exited with code 0")
    text = markdown(ok, {"exit-code": "0"}, Context("prod", "eu-west-1", [TASK]), ["line"])
    assert text.startswith("### ✅ Container web exited with code 0\n\n| task |")
    assert "Last" not in text


def test_backticks_in_log_lines_cannot_close_the_code_block() -> None:
    text = markdown(FAILED, OUTPUTS, None, ["```", "a ````` run"])
    assert "``````text\n```\na ````` run\n``````" in text


def test_a_huge_failure_tail_stays_well_under_the_runners_1_mib() -> None:
    tail = ["x" * 100_000] * 10_000
    text = markdown(FAILED, OUTPUTS, Context("prod", "eu-west-1", [TASK] * 10), tail)
    assert len(text.encode()) <= LIMIT < 1024 * 1024
    assert f"Last {TAIL} log lines" in text


def test_bare_links_from_aws_are_no_links_but_ours_to_the_console_stay_links() -> None:
    ours = "https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1#logsV2:log-groups"
    fake = "https://eu-west-1.console.aws.amazon.com.evil.example/x"
    result = Outcome(Status.FAILED, 3, 3, None, "web", f"see https://evil.example/fix or {fake}",
                     warnings=(f"the full log: {ours}",))  # fmt: skip
    text = markdown(result, {}, None, [])
    assert f"the full log: {ours}" in text  # clickable
    assert "https://evil.example" not in text
    assert fake not in text
    assert "https:\u2060//evil.example/fix" in text  # shown as it reads
