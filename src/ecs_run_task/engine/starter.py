"""Starting reliably, and only once, against AWS: RunTask, asked again with the same clientToken when its answer is
lost; started again with a new one for the tasks ECS could not place for a cause that may pass (capacity), and while
ECS cannot yet describe a revision registered a moment ago. Each task is reported the moment RunTask answers, to
whoever follows it (`Started`). Which failures are worth another start, and the pause before it: `retries.py`."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any, Protocol

from ecs_run_task import arns
from ecs_run_task.aws import console
from ecs_run_task.aws.clients import RevisionNotReady
from ecs_run_task.engine import retries
from ecs_run_task.engine.asking import Asker
from ecs_run_task.engine.ports import EcsApi, Tasks
from ecs_run_task.errors import RunError, Transient
from ecs_run_task.status import Status
from ecs_run_task.verdict import outcome


class Started(Protocol):
    def started(self, tasks: Tasks) -> None:
        """Tasks RunTask just started, heard of in the statement that receives its answer: recorded there, so that
        none is left running whatever happens next."""


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
    ecs: EcsApi
    asker: Asker
    region: str  # the cluster's, for the console link to its tasks

    def retry_pause(self, attempts: Attempts, what: str, deadline: float | None) -> bool:
        """Say what failed and wait before the next attempt; False when no attempt or no time is left."""
        pause = retries.pause(attempts.used + 1, self.asker.jitter())
        if not attempts.left() or not self.asker.room_for(pause, deadline):
            return False
        self.asker.renderer.warning(attempts.spend(what, pause))
        self.asker.cancel.sleep(pause)
        return True

    def start(self, request: dict[str, Any], attempts: Attempts, started: Started,
              deadline: float | None) -> tuple[Tasks, Tasks]:  # fmt: skip
        """RunTask, and again, each time with a new clientToken, for the tasks it could not place for a cause that
        may pass (capacity); `started` hears of every task the moment RunTask answers. The tasks and the refusals."""
        tasks, refused = self._run_task(request, attempts, deadline)
        started.started(tasks)
        while refused and retries.transient_refusal(refused):
            unplaced = f"could not place {len(refused)} of {request['count']} tasks" if tasks else "placed no task"
            if not self.retry_pause(attempts, f"RunTask {unplaced}: {outcome.refusals(refused)}", deadline):
                break
            request = {**request, "count": len(refused), "clientToken": uuid.uuid4().hex}
            more, refused = self._run_task(request, attempts, deadline)
            started.started(more)
            tasks += more
        return tasks, refused

    def _run_task(self, request: dict[str, Any], attempts: Attempts, deadline: float | None) -> tuple[Tasks, Tasks]:
        """RunTask; again, within `start-retries`, while ECS cannot describe the revision (one registered a moment
        ago: ECS is eventually consistent)."""
        while True:
            try:
                return self._asked(request, deadline)
            except RevisionNotReady as e:
                revision = arns.revision(str(request["taskDefinition"]))
                why = f"{e.message} (ECS may not know revision {revision} yet, a moment after it was registered)"
                if not self.retry_pause(attempts, why, deadline):
                    raise

    def _asked(self, request: dict[str, Any], deadline: float | None) -> tuple[Tasks, Tasks]:
        """RunTask, never interrupted: a task must not start unseen. When its answer is lost (AWS or the network
        failing past botocore's retries), ECS may have started the task: ask again with the same clientToken,
        which starts nothing twice and answers the task it started. If the answer never comes, `unknown`."""

        def gave_up(e: Transient, tries: int) -> RunError:
            if e.refused:  # throttled: ECS did nothing
                return RunError(f"{e.message} ({tries} {_times(tries)}); nothing was started", hint=e.hint)
            return RunError(f"{e.message}; RunTask's answer never came ({tries} {_times(tries)}), so "
                            f"{self._look_for(request)}", status=Status.UNKNOWN, hint=e.hint)  # fmt: skip

        return self.asker.ask(lambda: self.ecs.run_task(request), gave_up, deadline=deadline,
                              again=" with the same clientToken (ECS starts no task twice for one token)",
                              unseen=lambda e: "" if e.refused else self._look_for(request))  # fmt: skip

    def _look_for(self, request: dict[str, Any]) -> str:
        """Where to look for a task RunTask may have started (the request names its cluster and `startedBy`)."""
        cluster = str(request["cluster"])
        return (f"a task may have started: look for tasks started by {request['startedBy']!r} in cluster {cluster!r} "
                f"and stop any you find: {console.tasks_url(self.region, cluster)}")  # fmt: skip


def _times(n: int) -> str:
    return "time" if n == 1 else "times"
