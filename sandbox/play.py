"""One task's life on the real clock: its walk through states, its containers' exits, and ECS's stop sequence.

Everything here runs under `sched.cond`: scheduler callbacks hold it, and so do the driver's calls.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Sequence
from functools import partial

from .cwlogs import LogWriter
from .scheduler import Scheduler
from .spec import NEVER, OUTSIDE_REASONS, TEARDOWN_STATES, ContainerScript, Scripted, Step
from .state import ContainerState, StopRequest, TaskState

SIGKILLED = 137  # 128 + SIGKILL, as the container runtime reports it
DEFAULT_SCRIPT = ContainerScript()

# (container, exit code or None for "never ran")
Exit = tuple[ContainerState, int | None]


class Play:
    """What every behaviour shares. Subclasses start the life and say how their containers run and take SIGTERM."""

    def __init__(
        self,
        sched: Scheduler,
        logs: LogWriter,
        task: TaskState,
        *,
        teardown: list[Step],
        stop_timeout: float,
        stop_code: str = "EssentialContainerExited",
        stopped_reason: str = "Essential container in task exited",
    ) -> None:
        self.sched = sched
        self.logs = logs
        self.task = task
        self.teardown = teardown
        self.stop_timeout = stop_timeout
        self.stop_code = stop_code
        self.stopped_reason = stopped_reason
        self._walk: tuple[list[Step], int, Callable[[], None]] | None = None  # steps, current index, then

    def start(self) -> None:
        raise NotImplementedError

    def script(self, c: ContainerState) -> ContainerScript:
        return DEFAULT_SCRIPT

    def start_containers(self) -> None:
        """The task reached RUNNING: its containers start."""
        raise NotImplementedError

    # -- walking through states ----------------------------------------------------------
    def walk(self, steps: list[Step], then: Callable[[], None], start: int = 0) -> None:
        """Enter steps[start:] one after the other from now, then call `then`; replaces any walk under way."""
        self.task.generation += 1
        gen = self.task.generation
        self._walk = (steps, start, then)
        t = time.monotonic()
        for i, step in enumerate(steps[start:], start):
            self.sched.at(t, self._guard(gen, partial(self._step, steps, i, then)))
            t += step.seconds
        self.sched.at(t, self._guard(gen, partial(self._walked, then)))

    def advance(self) -> None:
        """End the current step of the walk now and play the rest."""
        if self._walk is None or self.task.last_status == "STOPPED":
            raise ValueError(f"{self.task.arn} is not walking through scripted steps")
        steps, index, then = self._walk
        self.walk(steps, then, index + 1)

    def _guard(self, gen: int, fn: Callable[[], None]) -> Callable[[], None]:
        # A new walk (advance, the stop decided, the teardown) bumps the generation: the old steps no longer apply.
        def run() -> None:
            if self.task.generation == gen:
                fn()

        return run

    def _step(self, steps: list[Step], index: int, then: Callable[[], None]) -> None:
        self._walk = (steps, index, then)
        self.enter(steps[index].state)

    def _walked(self, then: Callable[[], None]) -> None:
        self._walk = None
        then()

    def enter(self, state: str) -> None:
        task = self.task
        if task.history and task.last_status == state:
            return  # e.g. a script starting with PROVISIONING, which every task starts in
        task.last_status = state
        task.history.append(state)
        task.entered.setdefault(state, time.monotonic())
        task.version += 1
        if state == "PENDING":
            task.stamp("pullStartedAt")
        elif state == "RUNNING":
            task.stamp("pullStartedAt")
            task.stamp("pullStoppedAt")
            task.stamp("startedAt")
            task.stamp("connectivityAt")
            task.ran = True
            self.start_containers()
        elif state in TEARDOWN_STATES:
            task.stamp("stoppingAt")  # it leaves RUNNING for its teardown

    # -- containers ----------------------------------------------------------------------
    def exit(self, batch: Sequence[Exit]) -> None:
        """Containers stop at once (None: it never ran); an essential one among them decides the task stops."""
        stopped = [c for c, code in batch if self._container_stopped(c, code)]
        if any(c.essential for c in stopped):
            self.decide(self.stop_code, self.stopped_reason)
        self._check_all_stopped()

    def sigterm(self, c: ContainerState) -> None:
        """The ECS agent's stop signal: the container exits after its own delay, or SIGKILL at the stop timeout."""
        script = self.script(c)
        if script.sigterm_delay < self.stop_timeout:
            self._later(script.sigterm_delay, partial(self.exit, [(c, script.sigterm_exit_code)]))
        else:
            self._later(self.stop_timeout, partial(self.exit, [(c, SIGKILLED)]))

    def _container_stopped(self, c: ContainerState, exit_code: int | None) -> bool:
        """False if it had stopped already. An exit code is kept only for a container that ran."""
        if c.last_status == "STOPPED":
            return False
        if c.last_status == "RUNNING" and c.exit_code is None:
            c.exit_code = exit_code
        c.reason = c.reason or self.script(c).reason
        c.last_status = "STOPPED"
        c.stopped_at = time.monotonic()
        self.task.version += 1
        return True

    def container_running(self, c: ContainerState, lines: list[tuple[float, str]], stream_delay: float = 0.0) -> None:
        c.last_status = "RUNNING"
        runtime_id = c.runtime_id = c.runtime_id or secrets.token_hex(32)  # as Docker's container IDs
        if not (c.log_group and c.log_region):
            return
        t0 = time.monotonic()
        gen = self.task.feed_generation

        def appear() -> None:  # lines due before the stream shows up are written at once, in order
            assert c.log_group
            assert c.log_region
            # awslogs without a stream prefix (EC2 only) names the stream by the container's ID
            stream = f"{c.log_prefix}/{c.name}/{self.task.task_id}" if c.log_prefix else runtime_id
            c.log_stream = stream
            self.logs.create_stream(c.log_region, c.log_group, stream)
            if lines:
                self._feed(c, sorted(lines, key=lambda x: x[0]), 0, t0, gen)

        self._later(stream_delay, appear)

    def _feed(self, c: ContainerState, lines: list[tuple[float, str]], i: int, t0: float, gen: int) -> None:
        """Write every line that is due, then sleep until the next one: one timer per burst."""
        if self.task.feed_generation != gen:
            return  # StopTask: lines not yet written are dropped
        now = time.monotonic()
        due = i
        while due < len(lines) and t0 + lines[due][0] <= now:
            due += 1
        if due > i and c.log_group and c.log_stream and c.log_region:
            self.logs.write(c.log_region, c.log_group, c.log_stream, [m for _, m in lines[i:due]])
        if due < len(lines):
            self.sched.at(t0 + lines[due][0], partial(self._feed, c, lines, due, t0, gen))

    def _later(self, seconds: float, fn: Callable[[], None]) -> None:
        if seconds <= 0:
            fn()  # "at once" means in this same step, with no describe in between
        else:
            self.sched.after(seconds, fn)

    # -- the stop sequence ---------------------------------------------------------------
    def stop(
        self,
        reason: str | None,
        teardown: list[Step] | None = None,
        stop_code: str = "UserInitiated",
        by: str = "StopTask",
    ) -> None:
        """StopTask (`by` "StopTask"), or a stop from outside (`by` "outside": Spot, the service scheduler, a person).
        A task already stopping keeps its stopCode, as in ECS; the request is recorded either way."""
        task = self.task
        reason = reason or OUTSIDE_REASONS["UserInitiated"]
        applied = task.desired_status != "STOPPED"
        task.stop_requests.append(StopRequest(by, stop_code, reason, time.monotonic(), applied))
        if not applied:
            return
        task.feed_generation += 1
        self.decide(stop_code, reason, teardown)

    def decide(self, stop_code: str, reason: str, teardown: list[Step] | None = None) -> None:
        """ECS decides the task stops: desiredStatus and stopCode at once, SIGTERM to every running container."""
        task = self.task
        if task.desired_status == "STOPPED":
            return
        task.desired_status = "STOPPED"
        task.stop_code = stop_code
        task.stopped_reason = reason
        task.stop_decided_at = time.monotonic()
        task.version += 1
        if teardown is not None:
            self.teardown = teardown
        task.generation += 1  # the life's remaining steps no longer apply
        self._walk = None
        for c in task.containers:
            if c.last_status not in ("RUNNING", "STOPPED"):
                self._container_stopped(c, None)  # never started
        for c in task.running():
            self.sigterm(c)
        self._check_all_stopped()

    def _check_all_stopped(self) -> None:
        task = self.task
        if task.desired_status != "STOPPED" or task.execution_stopped_at is not None or task.running():
            return
        task.execution_stopped_at = time.monotonic()
        task.stamp("executionStoppedAt")
        self.walk(self.teardown, then=self._stopped)

    def _stopped(self) -> None:
        task = self.task
        self.enter("STOPPED")
        task.stamp("stoppedAt")
        task.stopped_monotonic = time.monotonic()
        task.stopped_wall = time.time()


class ScriptedPlay(Play):
    """A `Scripted` behaviour: the life's steps, then its containers' scripted exits."""

    def __init__(self, sched: Scheduler, logs: LogWriter, task: TaskState, b: Scripted) -> None:
        super().__init__(sched, logs, task, teardown=b.teardown_steps(), stop_timeout=b.stop_timeout,
                         stop_code=b.stop_code, stopped_reason=b.stopped_reason)  # fmt: skip
        self.b = b

    def script(self, c: ContainerState) -> ContainerScript:
        return self.b.containers.get(c.name, DEFAULT_SCRIPT)

    def start(self) -> None:
        self.walk(self.b.life(), then=self._life_ended)

    def start_containers(self) -> None:
        for c in self.task.containers:
            s = self.script(c)
            if s.exit_code is None:
                continue  # it never runs
            self.container_running(c, s.lines, s.stream_delay)
            if s.exits_after is not None and s.exits_after < NEVER:
                self.sched.after(s.exits_after, partial(self.exit, [(c, s.exit_code)]))
        if self.b.outside_stop is not None:
            self.sched.after(self.b.outside_stop.after, self._stopped_from_outside)

    def _stopped_from_outside(self) -> None:
        """`outside_stop`'s moment: someone else stops the task, unless it is stopping already."""
        outside = self.b.outside_stop
        if outside is not None and self.task.desired_status != "STOPPED":
            self.stop(outside.stopped_reason(), None, outside.stop_code, "outside")

    def _life_ended(self) -> None:
        """The last step before the teardown is over: containers without a time of their own exit, all at once."""
        if not self.task.ran:
            self.decide(self.stop_code, self.stopped_reason)  # it never started
            return
        batch: list[Exit] = []
        for c in self.task.containers:
            s = self.script(c)
            if c.last_status != "STOPPED" and (s.exits_after is None or s.exit_code is None):
                batch.append((c, s.exit_code))  # one that never ran has no time of its own
        self.exit(batch)
