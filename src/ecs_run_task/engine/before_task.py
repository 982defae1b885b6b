"""A run that ended before any task of ours existed, told one way: by the CLI (`cli._main`) and by the deployment
gate (`gate.Gate.before_task`), which answers the hook before it shows this."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from ecs_run_task.engine.cancel import Cancelled
from ecs_run_task.errors import RunError
from ecs_run_task.exit_codes import CANNOT_RUN, signal_exit
from ecs_run_task.status import Status
from ecs_run_task.tracebacks import print_traceback, unexpected
from ecs_run_task.verdict.outcome import Outcome


def outcome(error: Cancelled | Exception, started: Sequence[str] = ()) -> Outcome:
    """The outcome of `error`: a signal, a run error (bad input, RunTask refused), or a bug of ours (its traceback
    printed here). `started`: tasks a bug may have left behind (a bug after RunTask is the runner's to handle)."""
    if isinstance(error, Cancelled):
        code, name = signal_exit(error.signum)
        said = f"while RunTask's answer never came, so {error.unseen}" if error.unseen else "before a task was started"
        return Outcome.without_task(Status.CANCELLED, code, f"cancelled by {name} {said}")
    if isinstance(error, RunError):
        return Outcome.without_task(error.status, error.exit_code, error.message, error.hint)
    print_traceback()
    said = f"task(s) {', '.join(started)} had been started: see above" if started else "no task was started"
    status = Status.UNKNOWN if started else Status.FAILED_TO_START
    return replace(Outcome.without_task(status, CANNOT_RUN, f"{unexpected(error)}; {said}"), bug=True)
