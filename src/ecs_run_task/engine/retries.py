"""Starting again: which start failures are worth another start, and how long to wait before it. Pure: RunTask is
called by `starter.py`, and a task that failed is started again by `following.py`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ecs_run_task.engine.cadence import backoff
from ecs_run_task.errors import Hint
from ecs_run_task.verdict import failures, outcome

FIRST_PAUSE = 3.0  # seconds before the first retry; doubling, up to
MAX_PAUSE = 60.0


def pause(retry: int, jitter: float) -> float:
    """Seconds before retry number `retry` (1 for the first): growing, with +-25% jitter from `jitter` in [0, 1),
    so runs that failed together do not try again together."""
    return backoff(FIRST_PAUSE, retry, MAX_PAUSE, jitter, spread=0.25)


def transient_refusal(refused: Sequence[dict[str, Any]]) -> Hint | None:
    """RunTask's `failures` when every one is worth another try (capacity, an agent reconnecting), else None."""
    hints = [outcome.refusal_hint([f]) for f in refused]
    if refused and all(h is not None and h.transient_start for h in hints):
        return hints[0]
    return None


def transient_start_failure(task: dict[str, Any], deciders: Sequence[str], ran: bool) -> Hint | None:
    """A task that stopped before any deciding container ran, for a cause that may pass (a network interface
    that took too long, Spot capacity reclaimed, a registry timeout or rate limit), else None. Never once a
    deciding container has run: a migration may be half applied."""
    if ran:
        return None
    verdict = outcome.judge_task(task, deciders)
    if verdict.status != outcome.FAILED_TO_START:
        return None
    hint = verdict.hint
    if hint is None or not hint.transient_start:  # SpotInterruption may stop a task before it ran, too
        stop = str(task.get("stopCode", ""))
        hint = failures.for_task(exit_code=None, stop_code=stop, stopped_reason=str(task.get("stoppedReason", "")))
    return hint if hint is not None and hint.transient_start else None
