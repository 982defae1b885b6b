"""Plays each started task's life on the real clock, per the behaviour of its family (see play.py)."""

from __future__ import annotations

from typing import Any

from .consistency import Consistency
from .cwlogs import LogWriter
from .local import DefinitionLookup, LocalPlay
from .play import Play, ScriptedPlay
from .scheduler import Scheduler
from .spec import Behaviour, Scripted, Step
from .state import ContainerState, TaskState

DEFAULT_BEHAVIOUR = Scripted()


class Driver:
    def __init__(
        self, sched: Scheduler, logs: LogWriter, definitions: DefinitionLookup, consistency: Consistency | None = None
    ) -> None:
        self.sched = sched
        self.logs = logs
        self._definitions = definitions
        self.consistency = consistency or Consistency()
        # per family: one behaviour for every task, or one per task in start order (the last repeats)
        self.behaviours: dict[str, Behaviour | list[Behaviour]] = {}
        self.tasks: dict[str, TaskState] = {}  # insertion order = start order
        self.service_strategies: dict[str, list[dict[str, Any]]] = {}  # service ARN -> capacity provider strategy
        self.stop_delay: float | None = None  # see Sandbox.set_stop_delay
        self.missing_served = 0  # MISSING answers given for tasks that exist
        self.tokens: dict[str, list[TaskState]] = {}  # RunTask clientToken -> the tasks it started
        self._plays: dict[str, Play] = {}  # task ARN -> its life

    # -- lookups -------------------------------------------------------------------------
    def find(self, ref: str) -> TaskState | None:
        """By ARN or bare task id, as DescribeTasks/StopTask accept both."""
        with self.sched.cond:
            if ref in self.tasks:
                return self.tasks[ref]
            return next((t for t in self.tasks.values() if t.task_id == ref.rsplit("/", 1)[-1]), None)

    # -- start ---------------------------------------------------------------------------
    def start(self, moto_task: dict[str, Any], request: dict[str, Any]) -> TaskState:
        arn: str = moto_task["taskArn"]
        td_arn: str = moto_task["taskDefinitionArn"]
        family = td_arn.rsplit("/", 1)[-1].rsplit(":", 1)[0]
        region = arn.split(":")[3]
        containers = []
        for i, cdef in enumerate(self._definitions(td_arn)):
            conf = cdef.get("logConfiguration") or {}
            opts = (conf.get("options") or {}) if conf.get("logDriver") == "awslogs" else {}
            containers.append(
                ContainerState(
                    name=cdef["name"],
                    image=cdef.get("image", ""),
                    essential=bool(cdef.get("essential", True)),
                    memory=cdef.get("memory"),
                    container_arn=f"{arn.replace(':task/', ':container/')}/{i}-{cdef['name']}",
                    log_group=opts.get("awslogs-group"),
                    log_region=opts.get("awslogs-region", region),
                    log_prefix=opts.get("awslogs-stream-prefix"),
                )
            )
        task = TaskState(
            arn=arn,
            family=family,
            task_definition_arn=td_arn,
            cluster_arn=moto_task["clusterArn"],
            containers=containers,
            request=request,
            missing_left=self.consistency.missing_describes,
        )
        chosen = self.behaviours.get(family, DEFAULT_BEHAVIOUR)
        with self.sched.cond:
            if isinstance(chosen, list):
                started = sum(1 for t in self.tasks.values() if t.family == family)
                behaviour = chosen[min(started, len(chosen) - 1)]
            else:
                behaviour = chosen
            self.tasks[arn] = task
            play: Play
            if isinstance(behaviour, Scripted):
                play = ScriptedPlay(self.sched, self.logs, task, behaviour)
            else:
                play = LocalPlay(self.sched, self.logs, task, behaviour, self._definitions)
            self._plays[arn] = play
            play.enter("PROVISIONING")
            task.stamp("createdAt")
            play.start()
            self.sched.cond.notify_all()
        return task

    def advance(self, ref: str) -> None:
        """End the current step of a task's walk now (e.g. release a HOLD) and play the rest."""
        task = self.find(ref)
        with self.sched.cond:
            if task is None:
                raise ValueError(f"{ref} is not a task of this sandbox")
            self._plays[task.arn].advance()
            self.sched.cond.notify_all()

    # -- StopTask ------------------------------------------------------------------------
    def stop(self, ref: str, reason: str | None) -> TaskState | None:
        task = self.find(ref)
        if task is None:
            return None
        with self.sched.cond:
            teardown = None if self.stop_delay is None else [Step("STOPPING", self.stop_delay)]
            self._plays[task.arn].stop(reason, teardown)
            self.sched.cond.notify_all()
        return task

    def stop_from_outside(self, ref: str, stop_code: str, reason: str) -> None:
        """ECS stops the task for someone else (no StopTask call of the code under test): a person, Spot, ..."""
        task = self.find(ref)
        with self.sched.cond:
            if task is None:
                raise ValueError(f"{ref} is not a task of this sandbox")
            self._plays[task.arn].stop(reason, None, stop_code, "outside")
            self.sched.cond.notify_all()

    def shutdown(self) -> None:
        with self.sched.cond:
            procs = [p.proc for p in self._plays.values() if isinstance(p, LocalPlay) and p.proc is not None]
        for proc in procs:
            proc.terminate()
            proc.kill_and_code()
