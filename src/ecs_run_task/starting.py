"""Starting reliably, and only once, against AWS: RunTask again after a transient refusal (capacity), the tasks
of the same ECS group already running, and waiting for them. The decisions are `starts.py`'s."""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ecs_run_task import outcome, starts
from ecs_run_task.aws import Ecs
from ecs_run_task.cancel import Cancellation
from ecs_run_task.errors import RunError
from ecs_run_task.exit_codes import TIMED_OUT
from ecs_run_task.report import Renderer
from ecs_run_task.status import Status

Track = Callable[[list[dict[str, Any]]], None]  # records started tasks for the no-orphan guard, at once


@dataclass
class Attempts:
    """The start retries one run may spend (`start-retries` more starts in all), and what each was for."""

    allowed: int
    used: int = 0
    said: list[str] = field(default_factory=list)  # one line per failed attempt, for the job summary

    def left(self) -> bool:
        return self.used < self.allowed

    def spend(self, what: str, pause: float) -> str:
        self.used += 1
        line = f"{what}; retrying in {pause:.0f}s, attempt {self.used + 1} of {self.allowed + 1}"
        self.said.append(line)
        return line


@dataclass
class Starter:
    ecs: Ecs
    renderer: Renderer
    cancel: Cancellation
    clock: Callable[[], float] = time.monotonic
    jitter: Callable[[], float] = field(default_factory=lambda: random.Random().random)  # noqa: S311 - spreading, not secrecy

    def room_for(self, pause: float, deadline: float | None) -> bool:
        return deadline is None or self.clock() + pause < deadline

    def retry_pause(self, attempts: Attempts, what: str, deadline: float | None) -> bool:
        """Say what failed and wait before the next attempt; False when no attempt or no time is left."""
        pause = starts.pause(attempts.used + 1, self.jitter())
        if not attempts.left() or not self.room_for(pause, deadline):
            return False
        self.renderer.warning(attempts.spend(what, pause))
        self.cancel.sleep(pause)
        return True

    def run_task(self, request: dict[str, Any], attempts: Attempts, track: Track,
                 deadline: float | None) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:  # fmt: skip
        """RunTask, and again for the tasks it could not place for a transient cause (capacity), each time with a
        new clientToken; `track` hears of every task the moment RunTask answers."""
        tasks, refused = self.ecs.run_task(request)  # never interrupted: a task must not start unseen
        track(tasks)
        while refused and starts.transient_refusal(refused):
            reasons = "; ".join(f"{f.get('reason', '?')}" + (f" ({f['detail']})" if f.get("detail") else "")
                                for f in refused)  # fmt: skip
            placed = f"{len(refused)} of {request.get('count', 1)} tasks" if tasks else "no task"
            if not self.retry_pause(attempts, f"RunTask placed {placed}: {reasons}", deadline):
                break
            request = {**request, "count": len(refused), "clientToken": uuid.uuid4().hex}
            more, refused = self.ecs.run_task(request)
            track(more)
            tasks += more
        return tasks, refused

    def running_of_group(self, cluster: str, family: str, group: str, mine: Sequence[str] = ()) -> list[dict[str, Any]]:
        """The group's other tasks that run in the cluster, oldest first (ListTasks by family, then DescribeTasks
        for their group)."""
        arns = [a for a in self.ecs.list_running(cluster, family) if a not in mine]
        if not arns:
            return []
        tasks, _missing = self.ecs.describe_tasks(cluster, arns)
        return starts.running_in(tasks, group)

    def wait_for(self, others: Sequence[dict[str, Any]], *, cluster: str, group: str, poll: float,
                 deadline: float | None, timeout: float | None) -> None:  # fmt: skip
        """Until every one of `others` has stopped (its containers, or the task itself), within the timeout."""
        for task in others:
            self.renderer.info(f"waiting for {starts.described(task)} of group {group} to stop before starting")
        arns = [str(t["taskArn"]) for t in others]
        while True:
            with self.cancel.interruptible():
                tasks, _missing = self.ecs.describe_tasks(cluster, arns)
            if all(_done(t) for t in tasks):
                self.renderer.info(f"group {group} is free: starting")
                return
            if deadline is not None and self.clock() + poll >= deadline:
                raise RunError(f"timed out after {timeout:g}s waiting for {starts.described(tasks[0])} of group "
                               f"{group} to stop (if-running: wait); nothing was started",
                               exit_code=TIMED_OUT, status=Status.TIMED_OUT)  # fmt: skip
            self.cancel.sleep(poll)


def _done(task: dict[str, Any]) -> bool:
    containers = task.get("containers") or []
    stopped = all(c.get("lastStatus") == outcome.STOPPED for c in containers)
    return task.get("lastStatus") == outcome.STOPPED or (bool(containers) and stopped)
