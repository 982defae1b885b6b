"""Scripted fakes of the engine's edges, for fast engine tests (no sandbox, no sleeping): a clock that moves only
when slept on (`Clock`), signals delivered at chosen moments (`Signals`), an ECS whose tasks live scripted lives on
that clock (`FakeEcs`, the methods of `aws.clients.Ecs` the engine calls), CloudWatch streams of scripted lines
(`FakeLogs`), and a renderer that records what it was told (`Shown`). `engine(...)` puts them together into a
`Session` for a spec given as inputs.

A task's life (`Life`): PROVISIONING from RunTask, its containers RUNNING `start` seconds later, the deciding one
exiting `runs` seconds after that with `exit_code` (ECS then stops the task: STOPPED `teardown` seconds later). A
life with `start=None` never runs: it stops `fails_after` seconds after RunTask with `stop_code` and `reason`. A
StopTask makes a running container exit 143 `sigterm` seconds later.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ecs_run_task.aws.clients import Clients
from ecs_run_task.engine.cancel import Cancellation
from ecs_run_task.engine.events import Progress
from ecs_run_task.engine.logs import LogLine
from ecs_run_task.engine.session import Session
from ecs_run_task.errors import RunError
from ecs_run_task.inputs.spec import Spec, build
from ecs_run_task.verdict.outcome import Outcome

REGION = "us-east-1"
CLUSTER = "Sample"
EPOCH = 1_750_000_000.0  # the wall clock when the fake clock reads 0
TD_ARN = f"arn:aws:ecs:{REGION}:123456789012:task-definition/app:1"
TASK_DEFINITION: dict[str, Any] = {
    "family": "app",
    "taskDefinitionArn": TD_ARN,
    "containerDefinitions": [{"name": "web", "logConfiguration": {"logDriver": "awslogs", "options": {
        "awslogs-group": "/ecs/app", "awslogs-stream-prefix": "app", "awslogs-region": REGION, "mode": "blocking"}}}],
}  # fmt: skip


@dataclass
class Clock:
    """Monotonic seconds that move only when the run sleeps (or a test says so)."""

    now: float = 0.0

    def __call__(self) -> float:
        return self.now

    def wall(self) -> float:
        return EPOCH + self.now

    def at(self) -> datetime:
        return datetime.fromtimestamp(self.wall(), UTC)


class Signals(Cancellation):
    """`Cancellation` on the fake clock: a sleep moves the clock, and a signal scheduled within it (`schedule`)
    arrives then, as the real handler would (raising while the run waits); `deliver` sends one now."""

    def __init__(self, clock: Clock) -> None:
        super().__init__(clock)
        self.fake_clock = clock
        self.scheduled: list[tuple[float, int]] = []
        self.slept: list[float] = []

    def schedule(self, when: float, signum: int) -> None:
        self.scheduled.append((when, signum))

    def deliver(self, signum: int) -> None:
        """A signal now, as the handler takes it (raising while the run waits)."""
        self._handle(signum, None)

    def nap(self, seconds: float) -> None:
        """A plain sleep (the drain after a signal): the clock moves, nothing is raised."""
        self.slept.append(seconds)
        self.fake_clock.now += max(seconds, 0.0)

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        with self.waiting():
            end = self.fake_clock.now + max(seconds, 0.0)
            due = sorted(s for s in self.scheduled if s[0] <= end)
            if due:
                self.scheduled.remove(due[0])
                self.fake_clock.now = max(self.fake_clock.now, due[0][0])
                self._handle(due[0][1], None)
            self.fake_clock.now = end
        self.check()


@dataclass(frozen=True)
class Life:
    start: float | None = 0.5  # seconds from RunTask to RUNNING; None: it never runs
    runs: float | None = 1.0  # seconds RUNNING until the deciding container exits; None: until stopped
    exit_code: int = 0
    teardown: float = 5.0  # from the exit (or a stop) to the task's STOPPED
    fails_after: float = 1.0  # a life that never runs: its STOPPED, this long after RunTask
    stop_code: str = "TaskFailedToStart"
    reason: str = "Timeout waiting for network interface provisioning to complete."
    sigterm: float = 0.2  # a running container's exit (143) after a StopTask
    lines: Sequence[tuple[float, str]] = ()  # (seconds after RUNNING, line) of the deciding container


@dataclass
class Task:
    arn: str
    life: Life
    created: float  # the fake clock
    group: str
    definition: str = TD_ARN
    started_by: str = ""
    stopped_at: float | None = None  # our StopTask (or another's)
    stop_reason: str = ""
    missing: int = 0  # describes still to answer MISSING

    def exited_at(self) -> float | None:
        life = self.life
        if life.start is None:
            return None
        running = self.created + life.start
        ends = [running + life.runs] if life.runs is not None else []
        if self.stopped_at is not None:
            ends.append(max(self.stopped_at, running) + life.sigterm)
        return min(ends, default=None)

    def describe(self, now: float) -> dict[str, Any]:
        life = self.life
        task: dict[str, Any] = {"taskArn": self.arn, "taskDefinitionArn": self.definition, "group": self.group,
                                "createdAt": datetime.fromtimestamp(EPOCH + self.created, UTC),
                                "desiredStatus": "RUNNING", "lastStatus": "PROVISIONING"}  # fmt: skip
        if self.started_by:
            task["startedBy"] = self.started_by
        web: dict[str, Any] = {"name": "web", "lastStatus": "PENDING"}
        task["containers"] = [web]
        if life.start is None:  # never runs
            end = self.created + life.fails_after if self.stopped_at is None else self.stopped_at
            if now >= end:
                web["lastStatus"] = "STOPPED"
                stop = (
                    ("UserInitiated", self.stop_reason)
                    if self.stopped_at is not None
                    else (life.stop_code, life.reason)
                )
                task.update(desiredStatus="STOPPED", lastStatus="STOPPED", stopCode=stop[0], stoppedReason=stop[1])
            elif self.stopped_at is not None:
                task.update(desiredStatus="STOPPED", stopCode="UserInitiated", stoppedReason=self.stop_reason)
            return task
        running, exited = self.created + life.start, self.exited_at()
        if self.stopped_at is not None and self.stopped_at <= now:
            task.update(desiredStatus="STOPPED", stopCode="UserInitiated", stoppedReason=self.stop_reason)
            if self.stopped_at < running:  # stopped before its containers started: they never run
                web["lastStatus"] = "STOPPED"
                task["lastStatus"] = "STOPPED" if now >= self.stopped_at + 0.1 else "DEPROVISIONING"
                return task
        if now >= running:
            task["lastStatus"], web["lastStatus"] = "RUNNING", "RUNNING"
            task["startedAt"] = datetime.fromtimestamp(EPOCH + running, UTC)
        if exited is not None and now >= exited:
            stopped = self.stopped_at is not None and self.stopped_at <= exited
            web.update(lastStatus="STOPPED", exitCode=143 if stopped else life.exit_code)
            if not stopped:
                task.update(desiredStatus="STOPPED", stopCode="EssentialContainerExited",
                            stoppedReason="Essential container in task exited")  # fmt: skip
            task["lastStatus"] = "STOPPED" if now >= exited + life.teardown else "DEPROVISIONING"
        return task


@dataclass
class FakeEcs:
    """What the engine asks of ECS, answered from scripted task lives on the fake clock. `lives`: the life of each
    task RunTask starts, in turn (the last one repeats). Knobs: `list_lag` (ListTasks leaves out a task created less
    than that long ago), `missing_describes` (a new task is MISSING for its first describes), `faults` (per
    operation, errors raised by the next calls, in order), `refusals` (RunTask `failures` for the next calls)."""

    clock: Clock
    lives: list[Life] = field(default_factory=lambda: [Life()])
    group: str = "family:app"
    list_lag: float = 0.0
    missing_describes: int = 0
    stop_lag: float = 0.0  # a StopTask takes effect this long after it was answered
    tasks: dict[str, Task] = field(default_factory=dict)
    calls: list[tuple[str, Any]] = field(default_factory=list)
    faults: dict[str, list[BaseException | None]] = field(default_factory=dict)  # None: that call answers
    refusals: list[list[dict[str, Any]]] = field(default_factory=list)
    ids: Any = field(default_factory=lambda: itertools.count(1))
    during: dict[str, Any] = field(default_factory=dict)  # operation -> a callable run during that call

    def _call(self, operation: str, what: Any, cluster: str = CLUSTER) -> None:
        self.calls.append((operation, what))
        if cluster != CLUSTER:
            raise RunError(f"cluster: {cluster!r} was not found")
        if operation in self.during:
            self.during.pop(operation)()
        fault = self.faults[operation].pop(0) if self.faults.get(operation) else None
        if fault is not None:
            raise fault

    def called(self, operation: str) -> list[Any]:
        return [what for name, what in self.calls if name == operation]

    def add(self, life: Life, *, created: float | None = None, group: str | None = None, started_by: str = "",
            definition: str = TD_ARN) -> str:  # fmt: skip
        """A task started by someone else (another pipeline, a person)."""
        arn = f"arn:aws:ecs:{REGION}:123456789012:task/{CLUSTER}/{next(self.ids):032x}"
        self.tasks[arn] = Task(arn, life, self.clock.now if created is None else created, group or self.group,
                               definition, started_by, missing=self.missing_describes)  # fmt: skip
        return arn

    def validate(self, operation: str, params: dict[str, Any]) -> None:
        pass

    def describe_task_definition(self, task_definition: str) -> dict[str, Any]:
        self._call("DescribeTaskDefinition", task_definition)
        return {
            **TASK_DEFINITION,
            "taskDefinitionArn": task_definition if task_definition.startswith("arn:") else TD_ARN,
        }

    def register_task_definition(self, request: dict[str, Any]) -> dict[str, Any]:
        self._call("RegisterTaskDefinition", request)
        return {**TASK_DEFINITION, **request, "taskDefinitionArn": TD_ARN.replace(":1", ":2")}

    def run_task(self, request: dict[str, Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        self._call("RunTask", request, request.get("cluster", CLUSTER))
        refused = self.refusals.pop(0) if self.refusals else []
        started = []
        for _ in range(int(request.get("count", 1)) - len(refused)):
            life = self.lives.pop(0) if len(self.lives) > 1 else self.lives[0]
            arn = self.add(life, group=request.get("group") or self.group, started_by=request.get("startedBy", ""))
            started.append(self.tasks[arn].describe(self.clock.now))
        return started, refused

    def describe_tasks(self, cluster: str, arns: Sequence[str]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        self._call("DescribeTasks", list(arns), cluster)
        found, missing = [], []
        for arn in arns:
            task = self.tasks.get(arn) or next((t for t in self.tasks.values() if t.arn.endswith("/" + arn)), None)
            if task is None or task.missing > 0:
                if task is not None:
                    task.missing -= 1
                missing.append({"arn": arn, "reason": "MISSING"})
            else:
                found.append(task.describe(self.clock.now))
        return found, missing

    def list_running(self, cluster: str) -> list[str]:
        self._call("ListTasks", cluster, cluster)
        now = self.clock.now
        return [t.arn for t in self.tasks.values()
                if t.created <= now - self.list_lag and t.describe(now)["desiredStatus"] == "RUNNING"]  # fmt: skip

    def stop_task(self, cluster: str, arn: str, reason: str) -> None:
        self._call("StopTask", arn, cluster)
        task = self.tasks[arn]
        if task.stopped_at is None:
            task.stopped_at, task.stop_reason = self.clock.now + self.stop_lag, reason[:255]


@dataclass
class FakeLogs:
    """GetLogEvents over the deciding container's scripted lines, each visible once written (plus `lag`)."""

    ecs: FakeEcs
    lag: float = 0.0
    reads: int = 0
    faults: list[RunError] = field(default_factory=list)

    def get_log_events(self, group: str, stream: str, token: str | None) -> tuple[list[dict[str, Any]], str] | None:
        self.reads += 1
        if self.faults:
            raise self.faults.pop(0)
        task = next((t for t in self.ecs.tasks.values() if stream.endswith("/" + t.arn.rsplit("/", 1)[-1])), None)
        if task is None or task.life.start is None:
            return None
        running, now = task.created + task.life.start, self.ecs.clock.now
        if now < running:
            return None
        visible = [(at, line) for at, line in task.life.lines if running + at + self.lag <= now]
        start = int(token.removeprefix("f/")) if token else 0
        page = visible[start:]
        events = [{"timestamp": int((EPOCH + running + at) * 1000), "message": line} for at, line in page]
        return events, f"f/{start + len(page)}"


@dataclass
class Shown:
    """A renderer that records what the engine told it, a line each: `info: ...`, `warning: ...`, `started ...`,
    the log lines as they were written, `result: STATUS EXIT message`."""

    said: list[str] = field(default_factory=list)
    state: dict[str, str] = field(default_factory=dict)
    outcome: Outcome | None = None

    def configure(self, spec: Spec) -> None:
        pass

    def diagnostic_sink(self) -> None:
        return None

    def begin(self, phase: str, *, live: bool = False) -> None:
        self.said.append(f"begin: {phase}")

    def end(self) -> None:
        pass

    def info(self, text: str) -> None:
        self.said.append(f"info: {text}")

    def warning(self, text: str) -> None:
        self.said.append(f"warning: {text}")

    def started(self, tasks: list[dict[str, Any]], task_definition_arn: str, *, ours: bool = True) -> None:
        ids = " ".join(str(t["taskArn"]).rsplit("/", 1)[-1] for t in tasks)
        self.said.append(f"{'started' if ours else 'following'} {ids}")

    def progress(self, event: Progress) -> None:
        self.said.append(f"progress: {event.last_status}")

    def log_lines(self, lines: Sequence[LogLine]) -> None:
        self.said += [line.message for line in lines]

    def dry_run(self, requests: Mapping[str, Any]) -> None:
        self.said.append("dry run")

    def result(self, outcome: Outcome, outputs: Mapping[str, str], context: Any = None) -> None:
        self.outcome = outcome
        self.said.append(f"result: {outcome.status} {outcome.exit_code} {outcome.message}")

    def save_state(self, state: Mapping[str, str]) -> None:
        self.state.update(state)

    def lines(self, prefix: str) -> list[str]:
        return [line.removeprefix(prefix) for line in self.said if line.startswith(prefix)]


@dataclass
class Engine:
    """A session over the fakes, and the fakes, for a test to script and inspect."""

    session: Session
    clock: Clock
    signals: Signals
    ecs: FakeEcs
    logs: FakeLogs
    shown: Shown


def engine(*lives: Life, **inputs: str) -> Engine:
    """A session for `--cluster Sample -t app --poll-interval 1s INPUTS` (no `-t` with `attach`) over the fakes; the
    tasks RunTask starts live `lives`."""
    clock = Clock()
    signals = Signals(clock)
    ecs = FakeEcs(clock, list(lives) or [Life()])
    reader = FakeLogs(ecs)
    shown = Shown()
    raw = {
        "cluster": CLUSTER,
        "poll-interval": "1s",
        **({} if "attach" in inputs else {"task-definition": "app"}),
        **inputs,
    }
    spec = build(raw, [], {})
    clients = Clients(ecs=None, region=REGION)  # type: ignore[arg-type] # no botocore client: the fakes answer
    session = Session(spec, clients, shown, signals, clock, clock.wall, lambda: 0.5, ecs, lambda region: reader)
    return Engine(session, clock, signals, ecs, reader, shown)
