"""Renderers: one per CI platform, all speaking the `Renderer` protocol. The engine never prints."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import IO, Any, Protocol

from ecs_run_task.events import Progress
from ecs_run_task.logs import LogLine
from ecs_run_task.outcome import Outcome
from ecs_run_task.report.github import GitHub
from ecs_run_task.report.gitlab import GitLab
from ecs_run_task.report.jsonl import JsonLines
from ecs_run_task.report.plain import Plain
from ecs_run_task.report.summary import Context

FORMATS = ("auto", "github", "gitlab", "plain", "json")


class Renderer(Protocol):
    def begin(self, phase: str, *, live: bool = False) -> None:
        """A new phase, ending the one before. A live one (the task's status and log lines, the result) is
        shown open where the platform allows it (GitLab); GitHub folds every group."""

    def end(self) -> None: ...
    def info(self, text: str) -> None: ...
    def warning(self, text: str) -> None: ...
    def started(self, tasks: list[dict[str, Any]], task_definition_arn: str, *, ours: bool = True) -> None: ...
    def progress(self, event: Progress) -> None: ...
    def log_lines(self, lines: Sequence[LogLine]) -> None: ...
    def dry_run(self, requests: Mapping[str, Any]) -> None: ...
    def result(self, outcome: Outcome, outputs: Mapping[str, str], context: Context | None = None) -> None: ...
    def save_state(self, state: Mapping[str, str]) -> None: ...


def detect(env: Mapping[str, str]) -> str:
    if env.get("GITHUB_ACTIONS") == "true":
        return "github"
    if env.get("GITLAB_CI") == "true":
        return "gitlab"
    return "plain"


def pick(fmt: str, env: Mapping[str, str], out: IO[str], err: IO[str] | None = None) -> Renderer:
    """The renderer for `fmt` ("auto": from the CI); `err` takes a failure's lines in plain and GitLab output
    (GitHub's annotation and JSON's result object stay on `out`, where their readers look)."""
    chosen = detect(env) if fmt == "auto" else fmt
    if chosen == "github":
        return GitHub(out, env)
    if chosen == "gitlab":
        return GitLab(out, err=err)
    if chosen == "json":
        return JsonLines(out)
    return Plain(out, err)
