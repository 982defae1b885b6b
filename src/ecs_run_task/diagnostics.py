"""Our own diagnostics (not the task's output), through structlog.

On GitHub they become workflow commands: debug lines as `::debug::` (shown when step debug logging is on),
warnings and errors as annotations within the step's budget. Elsewhere: readable lines on stderr, quiet
unless `--debug`. Every line is made inert, since the runner parses stderr too."""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from functools import partial
from typing import Any

import structlog

from ecs_run_task.report.github import GitHub, inert


def _text(event: MutableMapping[str, Any]) -> str:
    fields = " ".join(f"{k}={v!r}" for k, v in event.items() if k not in {"event", "level"})
    return f"{event.get('event', '')} {fields}".rstrip()


def _render(_logger: Any, method: str, event: MutableMapping[str, Any]) -> str:
    return inert(f"ecs-run-task {method}: {_text(event)}")


def _to_github(github: GitHub, _logger: Any, method: str, event: MutableMapping[str, Any]) -> str:
    if method in ("warning", "error", "critical", "exception"):
        github.tool_annotation("warning" if method == "warning" else "error", _text(event))
    else:
        github.command("debug", _text(event))
    raise structlog.DropEvent


def configure(debug: bool, github: GitHub | None = None) -> None:
    level = logging.DEBUG if debug or github else logging.WARNING
    structlog.configure(
        processors=[partial(_to_github, github) if github else _render],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
        cache_logger_on_first_use=False,  # configured once per run; tests run many in one process
    )
