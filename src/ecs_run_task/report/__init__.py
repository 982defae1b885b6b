"""Renderers: one per CI platform, each speaking the engine's `Renderer` protocol (`engine/renderer.py`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import IO

from ecs_run_task.engine.renderer import Renderer
from ecs_run_task.report.github import GitHub
from ecs_run_task.report.gitlab import GitLab
from ecs_run_task.report.jsonl import JsonLines
from ecs_run_task.report.plain import Plain
from ecs_run_task.report.writes import Told


def detect(env: Mapping[str, str]) -> str:
    if env.get("GITHUB_ACTIONS") == "true":
        return "github"
    if env.get("GITLAB_CI") == "true":
        return "gitlab"
    return "plain"


def pick(fmt: str, env: Mapping[str, str], out: IO[str], err: IO[str] | None = None, told: Told | None = None
         ) -> Renderer:  # fmt: skip
    """The renderer for `fmt` ("auto": from the CI); `err` takes a failure's lines in plain and GitLab output
    (GitHub's annotation and JSON's result object stay on `out`, where their readers look); `told` says our own
    files failing (GitHub's outputs, summary and state)."""
    chosen = detect(env) if fmt == "auto" else fmt
    if chosen == "github":
        return GitHub(out, env, told=told)
    if chosen == "gitlab":
        return GitLab(out, err=err)
    if chosen == "json":
        return JsonLines(out)
    return Plain(out, err)
