"""The log tailer and the printing of log lines, with plain data and a scripted GetLogEvents.

The sandbox tests (test_run_logs.py) prove the same over HTTP; these pin the cursor rules exactly."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest

from ecs_run_task.engine import logs
from ecs_run_task.inputs import spec
from ecs_run_task.printable import unmarked
from ecs_run_task.report import pick
from ecs_run_task.report.github import GitHub
from ecs_run_task.report.structured import parse
from tests.workflow_commands import Command, commands

ARN = "arn:aws:ecs:us-east-1:123456789012:task/Sample/0a1b2c3d4e5f"


def td(*containers: dict[str, Any]) -> dict[str, Any]:
    return {"containerDefinitions": list(containers)}


def awslogs(name: str, prefix: str | None = "app", region: str | None = None) -> dict[str, Any]:
    options = {"awslogs-group": "/ecs/app", **({"awslogs-stream-prefix": prefix} if prefix else {})}
    if region:
        options["awslogs-region"] = region
    return {"name": name, "logConfiguration": {"logDriver": "awslogs", "options": options}}


def test_streams_are_named_as_awslogs_names_them() -> None:
    found, notes = logs.sources(td(awslogs("web", region="eu-west-1")), [ARN])
    assert found == [logs.LogSource("web", ARN, "/ecs/app", "app/web/0a1b2c3d4e5f", "eu-west-1")]
    assert notes == []


def test_an_awslogs_region_that_is_no_regions_name_gets_a_note_not_a_client() -> None:
    found, notes = logs.sources(td(awslogs("web", region="eusc-de-east-1")), [ARN])  # a partition of its own
    assert [s.region for s in found] == ["eusc-de-east-1"]
    found, notes = logs.sources(td(awslogs("web", region="eu-west-1.evil.example")), [ARN])
    assert found == []
    assert notes == ["container web: its lines are not streamed here; its awslogs-region 'eu-west-1.evil.example' "
                     "is not a region's name"]  # fmt: skip


def test_containers_without_awslogs_get_a_note_not_a_failure() -> None:
    firelens = {"name": "router", "logConfiguration": {"logDriver": "awsfirelens", "options": {"Name": "datadog"}}}
    host = {"name": "agent", "logConfiguration": {"logDriver": "json-file"}}
    groupless = {"name": "odd", "logConfiguration": {"logDriver": "awslogs", "options": {"awslogs-region": "x"}}}
    found, notes = logs.sources(td(awslogs("web"), firelens, {"name": "quiet"}, host, groupless), [ARN])
    assert [s.container for s in found] == ["web"]
    assert notes == [
        "container router: its lines are not streamed here; it sends them through FireLens to datadog",
        "container quiet: its lines are not streamed here; it has no log configuration, so its output is kept nowhere",
        "container agent: its lines are not streamed here; they stay on the container instance (json-file log driver)",
        "container odd: its lines are not streamed here; its awslogs options name no awslogs-group",
    ]


def test_without_a_stream_prefix_the_stream_is_the_container_id_read_once_describe_tasks_shows_it() -> None:
    """awslogs without awslogs-stream-prefix (allowed on EC2) names the stream by the container runtime's ID."""
    api = ScriptedLogs(["from the container"])
    found, notes = logs.sources(td(awslogs("web", prefix=None)), [ARN])
    assert (found, notes) == ([logs.LogSource("web", ARN, "/ecs/app", "", None)], [])
    assert logs.console_url(found[0], "us-east-1").endswith("#logsV2:log-groups/log-group/$252Fecs$252Fapp")
    tailer = logs.Tailer.of(found, lambda region: api)
    running = {"taskArn": ARN, "lastStatus": "RUNNING", "containers": [{"name": "web", "lastStatus": "RUNNING"}]}
    tailer.activate([running])  # running, but no runtimeId shown yet: nothing to read
    assert messages(tailer) == []
    assert api.calls == 0
    runtime_id = "4f1a" * 16
    running["containers"] = [{"name": "web", "lastStatus": "RUNNING", "runtimeId": runtime_id}]
    tailer.activate([running])
    [batch] = list(tailer.read())
    assert [(line.source.stream, line.message) for line in batch] == [(runtime_id, "from the container")]
    assert tailer.cursors[0].source.stream == runtime_id


def test_lines_are_labelled_when_several_streams_show() -> None:
    found, _ = logs.sources(td(awslogs("web"), awslogs("worker")), [ARN, ARN + "ff"])
    assert [s.label for s in found] == ["web 0a1b2c3d", "web 0a1b2c3d", "worker 0a1b2c3d", "worker 0a1b2c3d"]
    single, _ = logs.sources(td(awslogs("web"), awslogs("worker")), [ARN])
    assert [s.label for s in single] == ["web", "worker"]


def test_the_console_link_encodes_the_group_and_stream_as_the_console_does() -> None:
    source = logs.LogSource("web", ARN, "/ecs/app", "app/web/0a1b", None)
    assert logs.console_url(source, "us-east-1") == (
        "https://us-east-1.console.aws.amazon.com/cloudwatch/home?region=us-east-1"
        "#logsV2:log-groups/log-group/$252Fecs$252Fapp/log-events/app$252Fweb$252F0a1b"
    )


def test_console_links_follow_the_partition() -> None:
    from ecs_run_task.aws.console import task_url

    assert logs.console_url(logs.LogSource("web", ARN, "/g", "s", "cn-north-1"), "us-east-1").startswith(
        "https://cn-north-1.console.amazonaws.cn/cloudwatch/home?region=cn-north-1#"
    )
    assert task_url("us-gov-west-1", "prod", ARN).startswith(
        "https://us-gov-west-1.console.amazonaws-us-gov.com/ecs/v2/clusters/prod/tasks/"
    )
    assert task_url("cn-northwest-1", "prod", ARN).startswith("https://cn-northwest-1.console.amazonaws.cn/ecs/")


class ScriptedLogs:
    """GetLogEvents over a list of lines: pages of `page` events, tokens as positions, None before `appears`."""

    def __init__(self, lines: list[str], page: int = 3, appears: int = 0) -> None:
        self.lines, self.page, self.appears, self.calls = lines, page, appears, 0

    def get_log_events(self, group: str, stream: str, token: str | None) -> tuple[list[dict[str, Any]], str] | None:
        self.calls += 1
        if self.calls <= self.appears:
            return None
        start = int(token.removeprefix("f/")) if token else 0
        chunk = self.lines[start : start + self.page]
        return [{"timestamp": 1000 + start + i, "message": m} for i, m in enumerate(chunk)], f"f/{start + len(chunk)}"


def tail(api: ScriptedLogs) -> logs.Tailer:
    found, _ = logs.sources(td(awslogs("web")), [ARN])
    tailer = logs.Tailer.of(found, lambda region: api)
    tailer.full_page = api.page  # the scripted server's page size plays the real one's 10,000 events
    tailer.activate(
        [{"taskArn": ARN, "lastStatus": "RUNNING", "containers": [{"name": "web", "lastStatus": "RUNNING"}]}]
    )
    return tailer


def messages(tailer: logs.Tailer) -> list[str]:
    return [line.message for batch in tailer.read() for line in batch]


def test_a_stream_is_not_read_before_its_container_starts() -> None:
    api = ScriptedLogs(["a"])
    found, _ = logs.sources(td(awslogs("web")), [ARN])
    tailer = logs.Tailer.of(found, lambda region: api)
    tailer.activate(
        [{"taskArn": ARN, "lastStatus": "PENDING", "containers": [{"name": "web", "lastStatus": "PENDING"}]}]
    )
    assert messages(tailer) == []
    assert api.calls == 0


def test_full_pages_are_followed_and_a_short_page_means_caught_up() -> None:
    api = ScriptedLogs([f"line {i}" for i in range(7)], page=3)
    tailer = tail(api)
    assert messages(tailer) == [f"line {i}" for i in range(7)]
    assert api.calls == 3  # 3 + 3 + 1: a short page holds all there was, no call to confirm it
    api.lines += ["line 7"]
    assert messages(tailer) == ["line 7"]
    assert messages(tailer) == []
    assert api.calls == 5  # an empty page with the same token: caught up


def test_a_full_page_is_followed_by_another_read() -> None:
    api = ScriptedLogs(["a", "b", "c"], page=3)
    tailer = tail(api)
    assert messages(tailer) == ["a", "b", "c"]  # a full page: followed by a call that finds the end
    assert api.calls == 2


def test_a_stream_that_appears_late_is_waited_for_quietly() -> None:
    api = ScriptedLogs(["first"], appears=2)
    tailer = tail(api)
    assert messages(tailer) == []
    assert messages(tailer) == []
    assert messages(tailer) == ["first"]


def test_one_chatty_stream_yields_back_after_its_page_budget_and_is_read_again_at_once() -> None:
    api = ScriptedLogs([str(i) for i in range(105)], page=10)
    tailer = tail(api)
    assert len(messages(tailer)) == logs.MAX_PAGES_PER_READ * 10
    assert tailer.behind
    assert len(messages(tailer)) == logs.MAX_PAGES_PER_READ * 10
    assert tailer.behind
    assert messages(tailer) == ["100", "101", "102", "103", "104"]
    assert not tailer.behind


@pytest.mark.parametrize(
    ("line", "readable", "severity"),
    [
        ('{"level":"error","message":"db down","retry":3}', "ERROR db down retry=3", "error"),
        ('{"levelname":"WARNING","msg":"slow","ms":900}', "WARNING slow ms=900", "warning"),
        ('{"severity":"INFO","event":"boot"}', "INFO  boot", None),
        ('{"log.level":"fatal","message":"oom"}', "FATAL oom", "error"),
        ('{"log":{"level":"warn"},"message":"disk","free":"1%"}', "WARN  disk free=1%", "warning"),
        ('{"level":50,"msg":"pino error"}', "50    pino error", "error"),
    ],
)
def test_structured_lines_are_shown_readably(line: str, readable: str, severity: str | None) -> None:
    structured = parse(line)
    assert structured is not None
    assert (structured.readable(), structured.severity) == (readable, severity)


@pytest.mark.parametrize("line", ["plain text", '{"message": "no level"}', "[1, 2]", '{"level": "x"', "{}"])
def test_other_lines_are_not_structured(line: str) -> None:
    assert parse(line) is None


HOSTILE = [
    "::set-output name=exit-code::0",
    "::add-mask::hunter2",
    "::stop-commands::abc",
    "::error::fake failure",
    "  ::warning::indented",
    "text ##[group]mid-line",
    "::endgroup::",
    "::abc::",
    "::save-state name=task-arns::[]",
]


def lines(*messages: str, container: str = "web", label: str = "") -> list[logs.LogLine]:
    source = logs.LogSource(container, ARN, "/ecs/app", "s", None, label)
    return [logs.LogLine(source, 0, m) for m in messages]


def test_no_container_line_can_act_as_a_workflow_command() -> None:
    out = io.StringIO()
    GitHub(out, {}).log_lines(lines(*HOSTILE))
    assert commands(out.getvalue()) == []
    for hostile in HOSTILE:  # printed raw but for `##[`, which the log viewer would draw as a group or an error
        assert f"\n{unmarked(hostile)}\n" in out.getvalue()
    assert "\ntext #\u2060#[group]mid-line\n" in out.getvalue()


def test_every_block_gets_a_fresh_token() -> None:
    out = io.StringIO()
    gh = GitHub(out, {})
    gh.log_lines(lines("a"))
    gh.log_lines(lines("b"))
    starts = [line for line in out.getvalue().splitlines() if line.startswith("::stop-commands::")]
    assert len(starts) == 2
    assert starts[0] != starts[1]


def test_structured_errors_become_capped_annotations_outside_the_block(tmp_path: Any) -> None:
    (tmp_path / "app" / "models").mkdir(parents=True)
    (tmp_path / "app" / "models" / "user.rb").write_text("")
    error = '{"level":"error","message":"boom","file":"/srv/app/models/user.rb","line":12}'
    out = io.StringIO()
    GitHub(out, {"GITHUB_WORKSPACE": str(tmp_path)}).log_lines(lines(*[error] * 12, '{"level":"warn","msg":"w"}'))
    found = commands(out.getvalue())
    assert found[0] == Command("error", {"title": "web", "file": "app/models/user.rb", "line": "12"}, "boom")
    assert [c.name for c in found] == ["error"] * 8 + ["warning"]
    assert "further error lines of the logs are not annotated: the runner keeps 10 per step" in out.getvalue()


def test_annotate_false_turns_annotations_off() -> None:
    out = io.StringIO()
    GitHub(out, {}, annotate=False).log_lines(lines('{"level":"error","message":"boom"}'))
    assert commands(out.getvalue()) == []
    assert "ERROR boom" in out.getvalue()


@pytest.mark.parametrize("fmt", ["plain", "gitlab", "github"])
def test_json_logs_pretty_shows_a_json_line_readably_and_raw_as_written(fmt: str) -> None:
    line = '{"level":"error","message":"boom","request_id":"abc"}'
    shown = {}
    for how in ("pretty", "raw"):
        out = io.StringIO()
        renderer = pick(fmt, {}, out)
        renderer.configure(spec.build({"task-definition": "app", "json-logs": how}))
        renderer.log_lines(lines(line, "plain text"))
        shown[how] = [text for text in out.getvalue().splitlines() if not text.startswith(("::", "\x1b"))]
    assert shown["pretty"] == ["ERROR boom request_id=abc", "plain text"]
    assert shown["raw"] == [line, "plain text"]


def test_json_logs_raw_still_annotates_error_lines() -> None:
    out = io.StringIO()
    renderer = GitHub(out, {})
    renderer.configure(spec.build({"task-definition": "app", "json-logs": "raw"}))
    renderer.log_lines(lines('{"level":"error","message":"boom"}'))
    assert [c for c in commands(out.getvalue()) if c.name == "error"] == [Command("error", {"title": "web"}, "boom")]


def test_annotation_text_is_escaped_and_legacy_commands_neutralised() -> None:
    out = io.StringIO()
    GitHub(out, {}).log_lines(lines('{"level":"error","message":"50% done\\n##[error]x"}'))
    annotation = [line for line in out.getvalue().splitlines() if line.startswith("::error")]
    assert annotation == ["::error title=web::50%25 done%0A#\u2060#[error]x"]


@pytest.mark.parametrize("fmt", ["plain", "gitlab", "json"])
def test_other_formats_are_inert_too_for_github_may_still_read_them(fmt: str) -> None:
    """`docker run image ecs-run-task ...` in a `run:` step: GitHub reads the output, GITHUB_ACTIONS is unset."""
    out = io.StringIO()
    pick(fmt, {}, out).log_lines(lines(*HOSTILE, "x ##[set-output name=status;]succeeded"))
    assert commands(out.getvalue()) == []
    if fmt == "json":  # the data is unchanged: the escape is JSON's own
        decoded = [json.loads(line)["message"] for line in out.getvalue().splitlines()]
        assert decoded == [*HOSTILE, "x ##[set-output name=status;]succeeded"]
    else:  # what a reader sees is unchanged: only an invisible word joiner is added
        shown = out.getvalue().replace("\u2060", "").splitlines()
        assert [line for line in shown if "section_" not in line] == [
            *HOSTILE,
            "x ##[set-output name=status;]succeeded",
        ]
