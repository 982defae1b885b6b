"""The waiting loop: poll DescribeTasks for every task in one call, until all are STOPPED.

No botocore waiter (it gives up after 10 minutes). Yields events for the renderer; ends with one of
`AllStopped`, `DeadlinePassed`; a signal surfaces as `Cancelled` from `cancel.py`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from ecs_run_task.aws import Ecs
from ecs_run_task.cancel import Cancellation

STOPPED = "STOPPED"
HEARTBEAT = 10.0  # seconds between progress lines while nothing changes


@dataclass(frozen=True)
class Progress:
    task_arn: str
    last_status: str
    elapsed: float
    changed: bool  # a state change rather than a heartbeat


@dataclass(frozen=True)
class AllStopped:
    tasks: list[dict[str, Any]]


@dataclass(frozen=True)
class DeadlinePassed:
    tasks: list[dict[str, Any]]


@dataclass
class Watch:
    ecs: Ecs
    cluster: str
    arns: Sequence[str]
    poll_interval: float
    deadline: float | None  # monotonic seconds
    cancel: Cancellation
    clock: Callable[[], float] = time.monotonic
    latest: dict[str, dict[str, Any]] = field(default_factory=dict)  # last description per ARN

    def tasks(self) -> list[dict[str, Any]]:
        """The last descriptions, in the order the tasks were started."""
        return [self.latest.get(arn, {"taskArn": arn}) for arn in self.arns]

    def poll(self) -> None:
        with self.cancel.interruptible():
            described, _missing = self.ecs.describe_tasks(self.cluster, self.arns)
        # MISSING right after RunTask is ECS's eventual consistency: keep the last view, poll again
        self.latest.update({t["taskArn"]: t for t in described})

    def events(self, started: float) -> Iterator[Progress | AllStopped | DeadlinePassed]:
        seen: dict[str, str] = {}
        said_at = started
        while True:
            self.poll()
            now = self.clock()
            statuses = {arn: str(t.get("lastStatus", "PROVISIONING")) for arn, t in self.latest.items()}
            changed = [arn for arn in self.arns if arn in statuses and statuses[arn] != seen.get(arn)]
            heartbeat = not changed and now - said_at >= HEARTBEAT
            for arn in changed or (self.arns if heartbeat else []):
                if arn in statuses:
                    yield Progress(arn, statuses[arn], now - started, changed=bool(changed))
                    said_at = now
            seen.update(statuses)
            # only STOPPED is final: unknown states count as still running
            if len(statuses) == len(self.arns) and all(s == STOPPED for s in statuses.values()):
                yield AllStopped(self.tasks())
                return
            if self.deadline is not None and now >= self.deadline:
                yield DeadlinePassed(self.tasks())
                return
            wake = now + self.poll_interval
            if self.deadline is not None:
                wake = min(wake, self.deadline)
            self.cancel.sleep(wake - self.clock())
