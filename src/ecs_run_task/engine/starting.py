"""Starting reliably, and only once, against AWS: RunTask again after a transient refusal (capacity), the tasks
of the same ECS group already running, and waiting for them. The decisions are `starts.py`'s."""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from ecs_run_task import words
from ecs_run_task.aws import console
from ecs_run_task.aws.clients import Ecs
from ecs_run_task.engine import starts
from ecs_run_task.engine.cancel import Cancellation, Cancelled
from ecs_run_task.engine.renderer import Renderer
from ecs_run_task.errors import RunError, Transient
from ecs_run_task.exit_codes import TIMED_OUT
from ecs_run_task.status import Status
from ecs_run_task.verdict import outcome

T = TypeVar("T")
Track = Callable[[list[dict[str, Any]]], None]  # records started tasks for the no-orphan guard, at once
LOST_ANSWER_TRIES = 3  # RunTask asked again with the same clientToken, after botocore's own retries


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
        tasks, refused = self._run_task(request, deadline)
        track(tasks)
        while refused and starts.transient_refusal(refused):
            reasons = "; ".join(f"{f.get('reason', '?')}" + (f" ({f['detail']})" if f.get("detail") else "")
                                for f in refused)  # fmt: skip
            placed = f"{len(refused)} of {request.get('count', 1)} tasks" if tasks else "no task"
            if not self.retry_pause(attempts, f"RunTask placed {placed}: {reasons}", deadline):
                break
            request = {**request, "count": len(refused), "clientToken": uuid.uuid4().hex}
            more, refused = self._run_task(request, deadline)
            track(more)
            tasks += more
        return tasks, refused

    def _run_task(
        self, request: dict[str, Any], deadline: float | None
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """RunTask, never interrupted: a task must not start unseen. When its answer is lost (AWS or the network
        failing past botocore's retries), ECS may have started the task: ask again with the same clientToken,
        which starts nothing twice and answers the task it started. If the answer never comes, `unknown`."""

        def gave_up(e: Transient, tries: int) -> RunError:
            if e.refused:  # throttled: ECS did nothing
                return RunError(f"{e.message} ({tries} {_times(tries)}); nothing was started", hint=e.hint)
            return RunError(f"{e.message}; RunTask's answer never came ({tries} {_times(tries)}), so "
                            f"{self._look_for(request)}", status=Status.UNKNOWN, hint=e.hint)  # fmt: skip

        return self._asking(lambda: self.ecs.run_task(request), gave_up, deadline=deadline,
                            again=" with the same clientToken (ECS starts no task twice for one token)",
                            unseen=lambda e: "" if e.refused else self._look_for(request))  # fmt: skip

    def _look_for(self, request: dict[str, Any]) -> str:
        cluster = str(request.get("cluster", "default"))
        return (f"a task may have started: look for tasks started by {request.get('startedBy', '?')!r} in cluster "
                f"{cluster!r} and stop any you find: {console.tasks_url(self.ecs.client.meta.region_name, cluster)}")  # fmt: skip

    def running_of_group(self, cluster: str, family: str, group: str, mine: Sequence[str] = ()) -> list[dict[str, Any]]:
        """The group's other tasks that run in the cluster, oldest first (ListTasks by family, then DescribeTasks
        for their group)."""

        def ask() -> list[dict[str, Any]]:
            arns = [a for a in self.ecs.list_running(cluster, family) if a not in mine]
            return starts.running_in(self._described(cluster, arns), group) if arns else []

        return self._asking(ask, _not_known(f"which tasks of group {group} run"))

    def _described(self, cluster: str, arns: Sequence[str]) -> list[dict[str, Any]]:
        """Every one of `arns` described, or one that ECS no longer knows (gone); else Transient: an answer that
        leaves a task out says nothing about it, and must not read as "it does not run"."""
        with self.cancel.interruptible():
            tasks, missing = self.ecs.describe_tasks(cluster, arns)
        known = {t.get("taskArn") for t in tasks} | {f.get("arn") for f in missing}
        if not all(arn in known for arn in arns):
            raise Transient("DescribeTasks answered for some of the tasks only")
        return tasks

    def _asking(self, ask: Callable[[], T], gave_up: Callable[[Transient, int], RunError], *,
                deadline: float | None = None, again: str = "", unseen: Callable[[Transient], str] = lambda e: "") -> T:  # fmt: skip
        """`ask`, again after a growing pause while AWS fails in a way a later try may not, a few times and within
        `deadline`; then `gave_up`'s error. A signal in a pause says what the failed call may have left (`unseen`)."""
        for retry in range(1, LOST_ANSWER_TRIES + 1):
            try:
                return ask()
            except Transient as e:
                pause = starts.pause(retry, self.jitter())
                if retry == LOST_ANSWER_TRIES or not self.room_for(pause, deadline):
                    raise gave_up(e, retry) from e
                self.renderer.warning(f"{e.message}; asking again in {pause:.0f}s{again}")
                try:
                    self.cancel.sleep(pause)
                except Cancelled as c:
                    raise Cancelled(c.signum, unseen=unseen(e)) from c
        raise AssertionError("unreachable")

    def wait_for(self, others: Sequence[dict[str, Any]], *, cluster: str, group: str, poll: float,
                 deadline: float | None, timeout: float | None) -> None:  # fmt: skip
        """Until every one of `others` has stopped (its containers, or the task itself), within the timeout."""
        for task in others:
            self.renderer.info(f"waiting for {starts.described(task)} of group {group} to stop before starting")
        arns = [str(t["taskArn"]) for t in others]
        while True:
            tasks = self._asking(
                lambda: self._described(cluster, arns), _not_known(f"whether the tasks of group {group} have stopped")
            )
            if all(_done(t) for t in tasks):
                self.renderer.info(f"group {group} is free: starting")
                return
            if deadline is not None and self.clock() + poll >= deadline:
                raise RunError(f"timed out after {timeout:g}s waiting for {starts.described(tasks[0])} of group "
                               f"{group} to stop ({words.setting('if-running', 'wait')}); nothing was started",
                               exit_code=TIMED_OUT, status=Status.TIMED_OUT)  # fmt: skip
            self.cancel.sleep(poll)


def _not_known(what: str) -> Callable[[Transient, int], RunError]:
    return lambda e, tries: RunError(f"{e.message}; {what} is not known, after {tries} tries", hint=e.hint)


def _times(n: int) -> str:
    return "time" if n == 1 else "times"


def _done(task: dict[str, Any]) -> bool:
    containers = task.get("containers") or []
    stopped = all(c.get("lastStatus") == outcome.STOPPED for c in containers)
    return task.get("lastStatus") == outcome.STOPPED or (bool(containers) and stopped)
