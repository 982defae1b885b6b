"""Our own diagnostics (not the task's output): structlog to stderr, quiet unless debugging.

The GitHub runner parses stderr too, so every rendered line is made inert."""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

from ecs_run_task.report.github import inert


def _render(_logger: Any, method: str, event: MutableMapping[str, Any]) -> str:
    fields = " ".join(f"{k}={v!r}" for k, v in event.items() if k not in {"event", "level"})
    return inert(f"ecs-run-task {method}: {event.get('event', '')} {fields}".rstrip())


def configure(debug: bool) -> None:
    structlog.configure(
        processors=[_render],
        wrapper_class=structlog.make_filtering_bound_logger(logging.DEBUG if debug else logging.WARNING),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
        cache_logger_on_first_use=True,
    )
