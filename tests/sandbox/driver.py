"""Plays each started task's life on the real clock, per the behaviour of its family."""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import partial
from typing import Any

from .cwlogs import LogWriter
from .local import LocalProcess
from .scheduler import Scheduler
from .spec import Behaviour, ContainerScript, RunLocally, Scripted, Step
from .state import AFTER_RUNNING, ContainerState, TaskState

# Task definition ARN -> its container definitions (moto's, camelCase as registered).
DefinitionLookup = Callable[[str], list[dict[str, Any]]]

DEFAULT_BEHAVIOUR = Scripted()


class Driver:
    def __init__(self, sched: Scheduler, logs: LogWriter, definitions: DefinitionLookup) -> None:
        self.sched = sched
        self.logs = logs
        self._definitions = definitions
        # per family: one behaviour for every task, or one per task in start order (the last repeats)
        self.behaviours: dict[str, Behaviour | list[Behaviour]] = {}
        self.tasks: dict[str, TaskState] = {}  # insertion order = start order
        self.service_strategies: dict[str, list[dict[str, Any]]] = {}  # service ARN -> capacity provider strategy
        self.stop_delay = 0.3
        self.missing_describes = 0
        self.missing_served = 0  # MISSING answers given for tasks that exist
        self.tokens: dict[str, list[TaskState]] = {}  # RunTask clientToken -> the tasks it started
        self._local: dict[str, LocalProcess] = {}
        self._plans: dict[str, tuple[Scripted, int]] = {}  # arn -> (script, current step index)

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
            missing_left=self.missing_describes,
        )
        chosen = self.behaviours.get(family, DEFAULT_BEHAVIOUR)
        with self.sched.cond:
            if isinstance(chosen, list):
                started = sum(1 for t in self.tasks.values() if t.family == family)
                behaviour = chosen[min(started, len(chosen) - 1)]
            else:
                behaviour = chosen
            self.tasks[arn] = task
            self._set(task, "PROVISIONING")
            task.stamp("createdAt")
            if isinstance(behaviour, Scripted):
                self._script(task, behaviour)
            else:
                self._run_locally(task, behaviour)
            self.sched.cond.notify_all()
        return task

    def _script(self, task: TaskState, b: Scripted, start: int = 0) -> None:
        """Schedule steps[start:] from now; each step records its index so advance() can skip it."""
        steps = [s for s in b.steps if s.state != "STOPPED"] + [Step("STOPPED")]
        t = time.monotonic()
        gen = task.generation
        self._plans[task.arn] = (b, start)
        for i, step in enumerate(steps[start:], start):
            self.sched.at(t, self._guard(task, gen, partial(self._step, task, b, i, step.state)))
            t += step.seconds

    def _step(self, task: TaskState, b: Scripted, index: int, state: str) -> None:
        self._plans[task.arn] = (b, index)
        self._enter(task, state, b)

    def advance(self, ref: str) -> None:
        """End the current scripted step now (e.g. release a HOLD) and play the rest."""
        task = self.find(ref)
        with self.sched.cond:
            if task is None or task.arn not in self._plans or task.last_status == "STOPPED":
                raise ValueError(f"{ref} is not a scripted task still playing")
            b, index = self._plans[task.arn]
            task.generation += 1
            self._script(task, b, index + 1)

    def _guard(self, task: TaskState, gen: int, fn: Callable[[], None]) -> Callable[[], None]:
        # StopTask bumps the generation: scheduled steps of the old plan no longer apply.
        def run() -> None:
            if task.generation == gen:
                fn()

        return run

    # -- state changes -------------------------------------------------------------------
    def _set(self, task: TaskState, state: str) -> None:
        if task.history and task.last_status == state:
            return  # e.g. a script starting with PROVISIONING, which every task starts in
        task.last_status = state
        task.history.append(state)
        task.version += 1

    def _enter(self, task: TaskState, state: str, b: Scripted) -> None:
        self._set(task, state)
        if state == "PENDING":
            task.stamp("pullStartedAt")
        elif state == "RUNNING":
            task.stamp("pullStoppedAt")
            task.stamp("startedAt")
            task.stamp("connectivityAt")
            task.ran = True
            for c in task.containers:
                script = b.containers.get(c.name, ContainerScript())
                if script.exit_code is not None:
                    self._container_running(task, c, script.lines, script.stream_delay)
        if state in AFTER_RUNNING:
            self._ending(task, b.stop_code, b.stopped_reason)
            for c in task.containers:
                script = b.containers.get(c.name, ContainerScript())
                self._container_stopped(c, script.exit_code if c.last_status == "RUNNING" else None)
                c.reason = c.reason or script.reason
        if state == "STOPPED":
            self._stopped(task)

    def _ending(self, task: TaskState, stop_code: str, reason: str) -> None:
        """The moment ECS decides the task will stop: desiredStatus and stopCode are set."""
        if task.desired_status != "STOPPED":
            task.desired_status = "STOPPED"
            task.stop_code = task.stop_code or stop_code
            task.stopped_reason = task.stopped_reason or reason
        task.stamp("stoppingAt")
        task.stamp("executionStoppedAt")

    def _stopped(self, task: TaskState) -> None:
        if task.stopped_monotonic is not None:
            return
        if task.last_status != "STOPPED":
            self._set(task, "STOPPED")
        task.stamp("stoppedAt")
        task.stopped_monotonic = time.monotonic()
        task.stopped_wall = time.time()
        for c in task.containers:
            self._container_stopped(c, None)

    def _container_running(
        self, task: TaskState, c: ContainerState, lines: list[tuple[float, str]], stream_delay: float = 0.0
    ) -> None:
        c.last_status = "RUNNING"
        if not (c.log_group and c.log_prefix and c.log_region):
            return
        t0 = time.monotonic()

        def appear() -> None:  # lines due before the stream shows up are written at once, in order
            assert c.log_group
            assert c.log_region
            c.log_stream = f"{c.log_prefix}/{c.name}/{task.task_id}"
            self.logs.create_stream(c.log_region, c.log_group, c.log_stream)
            if lines:
                self._feed(task, c, sorted(lines, key=lambda x: x[0]), 0, t0, gen=task.generation)

        if stream_delay > 0:
            self.sched.at(t0 + stream_delay, appear)
        else:
            appear()

    def _feed(
        self, task: TaskState, c: ContainerState, lines: list[tuple[float, str]], i: int, t0: float, *, gen: int
    ) -> None:
        """Write every line that is due, then sleep until the next one: one timer per burst."""
        now = time.monotonic()
        due = i
        while due < len(lines) and t0 + lines[due][0] <= now:
            due += 1
        if due > i and c.log_group and c.log_stream and c.log_region:
            self.logs.write(c.log_region, c.log_group, c.log_stream, [m for _, m in lines[i:due]])
        if due < len(lines):
            feed = partial(self._feed, task, c, lines, due, t0, gen=gen)
            self.sched.at(t0 + lines[due][0], self._guard(task, gen, feed))

    @staticmethod
    def _container_stopped(c: ContainerState, exit_code: int | None) -> None:
        if c.last_status == "STOPPED":
            return
        if c.last_status == "RUNNING" and c.exit_code is None:
            c.exit_code = exit_code
        c.last_status = "STOPPED"

    # -- StopTask ------------------------------------------------------------------------
    def stop(self, ref: str, reason: str | None) -> TaskState | None:
        task = self.find(ref)
        if task is None:
            return None
        with self.sched.cond:
            if task.last_status == "STOPPED" or (task.desired_status == "STOPPED" and task.stop_code):
                return task
            task.generation += 1
            task.stop_code = "UserInitiated"
            task.stopped_reason = reason or "Task stopped by user"
            self._ending(task, "UserInitiated", task.stopped_reason)
            self._set(task, "STOPPING")
            proc = self._local.get(task.arn)
            if proc is not None:
                proc.terminate()
            gen = task.generation
            self.sched.after(self.stop_delay, self._guard(task, gen, lambda: self._finish_stop(task)))
            self.sched.cond.notify_all()
        return task

    def _finish_stop(self, task: TaskState) -> None:
        proc = self._local.pop(task.arn, None)
        for c in task.containers:
            if proc is not None and c.name == proc.container:
                self._container_stopped(c, proc.kill_and_code())
            else:
                self._container_stopped(c, 143)  # SIGTERM from the ECS agent
        self._stopped(task)

    # -- RunLocally ----------------------------------------------------------------------
    def _run_locally(self, task: TaskState, b: RunLocally) -> None:
        steps = [Step("PENDING", b.pending)]
        t = time.monotonic() + b.provisioning
        gen = task.generation
        for step in steps:
            self.sched.at(t, self._guard(task, gen, partial(self._set, task, step.state)))
            t += step.seconds
        self.sched.at(t, self._guard(task, gen, lambda: self._spawn(task, b)))

    def _spawn(self, task: TaskState, b: RunLocally) -> None:
        task.stamp("pullStartedAt")
        task.stamp("pullStoppedAt")
        self._enter(task, "RUNNING", Scripted(steps=[]))
        name = b.container or task.containers[0].name
        c = task.container(name) or task.containers[0]
        cdef = next(d for d in self._definitions(task.task_definition_arn) if d["name"] == c.name)
        gen = task.generation

        def exited(code: int) -> None:
            with self.sched.cond:
                if task.generation != gen:
                    return
                self._local.pop(task.arn, None)
                self._container_stopped(c, code)
                self._ending(task, "EssentialContainerExited", "Essential container in task exited")
                self._set(task, "STOPPING")
                self.sched.after(b.stopping, self._guard(task, gen, lambda: self._finish_stop(task)))
                self.sched.cond.notify_all()

        proc = LocalProcess(c, cdef, task.request, self.logs, exited)
        self._local[task.arn] = proc
        proc.start()

    def shutdown(self) -> None:
        with self.sched.cond:
            procs = list(self._local.values())
            self._local.clear()
        for p in procs:
            p.terminate()
            p.kill_and_code()
