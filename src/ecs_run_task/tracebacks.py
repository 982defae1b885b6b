"""The traceback of a bug of ours, on stderr, made inert: the runner parses stderr for commands too."""

from __future__ import annotations

import sys
import traceback

from ecs_run_task.printable import safe_lines


def print_traceback() -> None:
    """The exception being handled, line by line."""
    for line in safe_lines(traceback.format_exc()):
        print(line, file=sys.stderr)


def unexpected(error: BaseException) -> str:
    """The headline of a bug of ours: what was raised (the traceback, printed before, says where)."""
    return f"ecs-run-task failed unexpectedly: {type(error).__name__}: {error} (the traceback is above)"
