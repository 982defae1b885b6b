"""What the waiting loop tells the follower (`following.py`): plain data, cheap to import."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ecs_run_task.engine.logs import LogLine


@dataclass(frozen=True)
class Progress:
    task_arn: str
    last_status: str
    elapsed: float
    changed: bool  # a state change rather than a heartbeat


@dataclass(frozen=True)
class Seen:
    """A poll answered: the followed tasks as ECS describes them now (the group lock looks at the group then)."""

    tasks: list[dict[str, Any]]


@dataclass(frozen=True)
class LogBatch:
    lines: list[LogLine]


@dataclass(frozen=True)
class Decided:
    """Every deciding container of this task has stopped: its answer is known, whatever ECS does next."""

    task: dict[str, Any]
    rest_running: bool  # ECS is not stopping the task (an essential sidecar runs on): the runner stops it


@dataclass(frozen=True)
class Contact:
    """Contact with AWS lost (every poll failing past botocore's retries: 5xx, throttling, the network) or back.
    Losing contact is not the task failing: the wait goes on until the timeout."""

    lost: bool
    text: str


@dataclass(frozen=True)
class Notice:
    """Something the user should know that is no failure: a log stream that cannot be read, and why."""

    text: str


@dataclass(frozen=True)
class AllDecided:
    tasks: list[dict[str, Any]]


@dataclass(frozen=True)
class DeadlinePassed:
    tasks: list[dict[str, Any]]


Event = Progress | Seen | LogBatch | Decided | Contact | Notice | AllDecided | DeadlinePassed
