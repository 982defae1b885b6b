"""Our own diagnostics (not the task's output), through structlog, imported only when something is said.

structlog costs ~70 ms to import, and most runs say nothing: debug lines are off unless `--debug` or the
runner's debug logging (RUNNER_DEBUG=1). Where a diagnostic goes is the caller's choice (`configure`'s
`sink`): on GitHub the renderer turns debug lines into `::debug::` commands and warnings and errors into
annotations within the step's budget; elsewhere they are readable lines on stderr, made inert, since the
runner parses stderr too. This module knows no renderer: the dependency points from the CLI to both."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, MutableMapping
from typing import Any

from ecs_run_task.printable import inert

Sink = Callable[[str, str], None]  # (level: debug, warning or error; text) -> said somewhere

_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING, "error": logging.ERROR}


def _text(event: MutableMapping[str, Any]) -> str:
    fields = " ".join(f"{k}={v!r}" for k, v in event.items() if k not in {"event", "level"})
    return f"{event.get('event', '')} {fields}".rstrip()


class Log:
    def __init__(self) -> None:
        self.level = logging.WARNING
        self.sink: Sink | None = None
        self._logger: Any = None
        self._drop: type[BaseException] = Exception

    def debug(self, event: str, **fields: Any) -> None:
        self._emit("debug", event, fields)

    def warning(self, event: str, **fields: Any) -> None:
        self._emit("warning", event, fields)

    def error(self, event: str, **fields: Any) -> None:
        self._emit("error", event, fields)

    def _emit(self, method: str, event: str, fields: dict[str, Any]) -> None:
        if _LEVELS[method] < self.level:
            return
        if self._logger is None:
            import structlog  # noqa: PLC0415 - on first use only, see the module's docstring

            structlog.configure(processors=[self._render], logger_factory=structlog.PrintLoggerFactory(sys.stderr),
                                cache_logger_on_first_use=False)  # fmt: skip
            self._logger = structlog.get_logger()
            self._drop = structlog.DropEvent
        getattr(self._logger, method)(event, **fields)

    def _render(self, _logger: Any, method: str, event: MutableMapping[str, Any]) -> str:
        if self.sink is None:
            return inert(f"ecs-run-task {method}: {_text(event)}")
        self.sink(method, _text(event))
        raise self._drop  # said by the sink: structlog prints nothing


log = Log()


def configure(debug: bool, sink: Sink | None = None) -> None:
    """Debug lines on or off; `sink` says where each diagnostic goes (None: stderr)."""
    log.level = logging.DEBUG if debug else logging.WARNING
    log.sink = sink
