"""What every step of a run shares: the session (the clients, the renderer, the clock, the signals, the starter)
and the record of what one run resolved and started (`Run`), which changes only through its own methods."""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ecs_run_task.aws.clients import Clients, Ecs, Logs
from ecs_run_task.engine import logs
from ecs_run_task.engine.asking import Asker
from ecs_run_task.engine.cancel import Cancellation
from ecs_run_task.engine.logs import LogsApi
from ecs_run_task.engine.ports import EcsApi
from ecs_run_task.engine.renderer import Renderer
from ecs_run_task.engine.starter import Attempts, Starter
from ecs_run_task.inputs.spec import Spec
from ecs_run_task.plan import request as plan
from ecs_run_task.verdict import outcome
from ecs_run_task.verdict.outcome import Outcome


@dataclass(frozen=True)
class Result:
    outcome: Outcome
    outputs: dict[str, str]


@dataclass
class Run:
    """What this run resolved and started, handed from step to step. Its fields change only through its methods."""

    spec: Spec  # with the service's settings applied
    task_definition: dict[str, Any]  # the revision that runs (registered, if it had to be)
    deadline: float | None  # the session's clock: the run's `timeout`, counted from its start
    attempts: Attempts
    request: dict[str, Any] = field(default_factory=dict)  # RunTask's, for a start again; {}: none of ours to start
    deciders: list[str] = field(default_factory=list)  # the containers whose exit codes decide
    ours: list[str] = field(default_factory=list)  # every task this run started: the only ones it may ever stop
    too_few: Outcome | None = None  # RunTask started fewer tasks than asked for: the run fails, waiting or not
    replaced: dict[str, Any] | None = None  # a failed start that a start again replaced: it stands if that one loses
    lost_to: dict[str, Any] | None = None  # the group's task that went first: ours are being stopped (`group.py`)
    restarting: bool = False  # a task that never ran is being started again: its failure is not the answer yet
    stopped: dict[str, str] = field(default_factory=dict)  # ARN -> the reason our StopTask gave: for the verdict

    def __post_init__(self) -> None:
        self.decide_by(self.task_definition)

    @property
    def task_definition_arn(self) -> str:
        return str(self.task_definition["taskDefinitionArn"])

    def decide_by(self, task_definition: dict[str, Any]) -> None:
        """Follow tasks of this revision: its deciding containers decide from now on."""
        self.task_definition = task_definition
        self.deciders = outcome.deciding_containers(task_definition, plan.target_container(self.spec, task_definition))

    def started(self, tasks: list[dict[str, Any]]) -> None:
        """Tasks RunTask just started for this run: stopped by it if it cannot follow them to their end."""
        self.ours += [str(t["taskArn"]) for t in tasks]

    def stopping(self, arns: Sequence[str], reason: str) -> None:
        """Our own StopTask for these tasks: what ECS then reports is not a stop from outside."""
        self.stopped.update(dict.fromkeys(arns, reason))

    def next_request(self, **changes: Any) -> dict[str, Any]:
        """RunTask's request for a start again (with `changes`): always a new clientToken, since a token answers
        with the task it started before."""
        self.request = {**self.request, **changes, "clientToken": uuid.uuid4().hex}
        return self.request

    def nothing_to_start(self) -> None:
        """Follow a task that is not ours to start again, whatever its fate."""
        self.request = {}

    def placed_fewer(self, failed: Outcome) -> None:
        self.too_few = failed

    def replacing(self, task: dict[str, Any]) -> None:
        self.replaced = task

    def lost_race(self, first: dict[str, Any]) -> None:
        """A look found `first` of the group older than ours: ours are stopped and followed to their end, which says
        whether they had run (the look's own view of them may already be out of date)."""
        self.lost_to = first

    def lost_before_running(self) -> dict[str, Any] | None:
        """Ours ended without running after losing the race: who went first (`if-running` says what comes next: a
        start again begins with no race lost)."""
        first, self.lost_to = self.lost_to, None
        return first

    @contextmanager
    def starting_again(self) -> Iterator[None]:
        """While a failed task is being started again (the pause, then RunTask). What cuts it short (a signal in the
        pause) leaves it so: the failed start is not the run's answer then."""
        self.restarting = True
        yield
        self.restarting = False


@dataclass
class Session:
    spec: Spec
    clients: Clients
    renderer: Renderer
    cancel: Cancellation
    clock: Callable[[], float] = time.monotonic
    wall: Callable[[], float] = time.time  # for how long ago a task was created
    jitter: Callable[[], float] = field(default_factory=lambda: random.Random().random)  # noqa: S311 - spreading, not secrecy
    ecs_api: EcsApi | None = None  # a test's fake; else `aws.clients.Ecs` over `clients`
    logs_api: Callable[[str | None], LogsApi] | None = None  # region -> reader; else GetLogEvents over `clients`

    def __post_init__(self) -> None:
        self.region = self.clients.region
        self.ecs: EcsApi = self.ecs_api or Ecs(self.clients)
        self.runs: list[Run] = []  # every run of this session: what it started, should its end go wrong
        self.asker = Asker(self.renderer, self.cancel, self.clock, self.jitter)
        self.starter = Starter(self.ecs, self.asker, self.region)
        timeout = self.spec.timeout
        self.deadline = None if timeout is None else self.clock() + timeout

    def new_run(self, spec: Spec, task_definition: dict[str, Any], request: dict[str, Any] | None = None) -> Run:
        run = Run(spec, task_definition, self.deadline, Attempts(spec.start_retries), dict(request or {}))
        self.runs.append(run)
        return run

    def started(self) -> list[str]:
        """Every task any run of this session started."""
        return [arn for run in self.runs for arn in run.ours]

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.wall(), UTC)

    def logs_for(self, region: str | None) -> LogsApi:
        """The log reader for a region (None: the cluster's); made on the first read."""
        return self.logs_api(region) if self.logs_api else Logs(self.clients.logs(region))

    def link(self, task_definition: dict[str, Any], task_arn: str | None, container: str | None) -> str:
        """The console link to a task's stream of `container` (else its first stream); empty if none."""
        found, _notes = logs.sources(task_definition, [task_arn] if task_arn else [])
        source = next((s for s in found if s.container == container), found[0] if found else None)
        return logs.console_url(source, self.region) if source else ""
