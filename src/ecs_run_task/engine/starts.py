"""Starting reliably, and only once: which start failures are worth another try, how long to wait before it,
and which of several tasks of one ECS group goes first. Pure: AWS is called by `starting.py`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from ecs_run_task import arns
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


def group_of(group: str | None, family: str) -> str:
    """The ECS task group: the `group` input, else ECS's default `family:<family>`."""
    return group or f"family:{family}"


def _started(task: dict[str, Any]) -> tuple[float, str]:
    created = task.get("createdAt")
    return (created.timestamp() if isinstance(created, datetime) else float("inf"), str(task.get("taskArn", "")))


def in_order(tasks: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Oldest first, by `createdAt` (ties broken by ARN, so two runs agree on who is first)."""
    return sorted(tasks, key=_started)


def older(others: Sequence[dict[str, Any]], mine: dict[str, Any]) -> list[dict[str, Any]]:
    """The tasks of `others` that were created before `mine`: the ones that go first."""
    return [t for t in in_order(others) if _started(t) < _started(mine)]


def running_in(tasks: Sequence[dict[str, Any]], group: str) -> list[dict[str, Any]]:
    """The tasks of `group` that are running (not stopping), oldest first."""
    return in_order([t for t in tasks if t.get("group") == group and not outcome.stopping(t)])


def described(task: dict[str, Any], now: datetime | None = None) -> str:
    """`task 0a1b2c3d (app:7), started by gh/acme/app/123/1, 3m05s ago`: what a person needs to find it."""
    now = now or datetime.now(UTC)
    revision = arns.revision(str(task.get("taskDefinitionArn", "")))
    parts = [f"task {arns.task_id(str(task.get('taskArn', '?')))}" + (f" ({revision})" if revision else "")]
    if task.get("startedBy"):
        parts.append(f"started by {task['startedBy']}")
    created = task.get("createdAt")
    if isinstance(created, datetime):
        seconds = max(int((now - created).total_seconds()), 0)
        parts.append(f"{seconds // 60}m{seconds % 60:02d}s ago")
    return ", ".join(parts)
