"""What every step of a run shares: the record of what this run resolved and started (`Run`), and the session
that holds the clients, the renderer and the two no-orphan primitives: `track` records a task in the
statement that receives RunTask's answer, `stop` stops every recorded task that still runs."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ecs_run_task.arns import task_id
from ecs_run_task.aws import console
from ecs_run_task.aws.clients import Clients, Ecs, Logs
from ecs_run_task.engine import logs, starts
from ecs_run_task.engine.cancel import Cancellation
from ecs_run_task.engine.renderer import Renderer
from ecs_run_task.engine.starting import Attempts, Starter
from ecs_run_task.engine.watch import Watch
from ecs_run_task.errors import RunError
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
    """What this run resolved, started and follows, handed from step to step."""

    spec: Spec  # with the service's settings applied
    task_definition: dict[str, Any]  # the revision that runs (registered, if it had to be)
    deciders: list[str]  # the containers whose exit codes decide (see `outcome.deciding_containers`)
    deadline: float | None  # the session's clock: the run's `timeout`, counted from its start
    attempts: Attempts
    request: dict[str, Any] = field(default_factory=dict)  # RunTask's, for starts after a transient failure
    watch: Watch | None = None  # made in the statement that receives RunTask's first answer
    started: list[str] = field(default_factory=list)  # every task started, followed or not: the guard's list
    notes: list[str] = field(default_factory=list)  # containers whose lines cannot be streamed, and why
    too_few: Outcome | None = None  # RunTask started fewer tasks than asked for: the run fails, waiting or not
    restarting: bool = False  # a task that never ran is being started again: its failure is not the answer yet
    stopped: dict[str, str] = field(default_factory=dict)  # ARN -> the reason our StopTask gave: for the verdict

    @property
    def task_definition_arn(self) -> str:
        return str(self.task_definition["taskDefinitionArn"])

    @property
    def group(self) -> str:
        return starts.group_of(self.spec.group, str(self.task_definition.get("family", "")))

    def tasks(self) -> list[dict[str, Any]]:
        """The followed tasks' last descriptions; [] before RunTask answered."""
        return self.watch.tasks() if self.watch else []

    def decide_by(self, task_definition: dict[str, Any]) -> None:
        """Follow tasks of this revision: its deciding containers decide from now on."""
        self.task_definition = task_definition
        self.deciders = outcome.deciding_containers(task_definition, plan.target_container(self.spec, task_definition))
        if self.watch is not None:
            self.watch.deciders = self.deciders


@dataclass
class Session:
    spec: Spec
    clients: Clients
    renderer: Renderer
    cancel: Cancellation
    clock: Callable[[], float] = time.monotonic

    def __post_init__(self) -> None:
        self.runs: list[Run] = []  # every run of this session: what it started, should its end go wrong
        self.ecs = Ecs(self.clients)
        self.starter = Starter(self.ecs, self.renderer, self.cancel, self.clock)
        timeout = self.spec.timeout
        self.deadline = None if timeout is None else self.clock() + timeout

    def new_run(self, spec: Spec, task_definition: dict[str, Any], request: dict[str, Any] | None = None) -> Run:
        run = Run(spec, task_definition, [], self.deadline, Attempts(spec.start_retries), dict(request or {}))
        run.decide_by(task_definition)
        self.runs.append(run)
        return run

    def track(self, run: Run, tasks: list[dict[str, Any]], *, ours: bool = True) -> None:
        """Record tasks RunTask just started (the guard stops what is recorded), show them, hand them to the
        post step, which stops them if this step is killed (`wait: false` leaves them running). `ours` False: a
        task we follow but did not start (`attach`), stopped on timeout or cancel all the same."""
        if not tasks:
            return
        run.started += [str(t["taskArn"]) for t in tasks]
        if run.watch is None:
            run.watch = self.watch(run, tasks)
        else:
            run.watch.track(tasks)
            self.follow_logs(run)
        self.renderer.started(tasks, run.task_definition_arn, ours=ours)
        if run.spec.wait:
            self.renderer.save_state({"task-arns": json.dumps(run.started), "cluster": run.spec.cluster,
                                      "region": self.clients.region})  # fmt: skip

    def watch(self, run: Run, tasks: list[dict[str, Any]]) -> Watch:
        """The loop for these tasks; nothing is called yet (log clients are made on the first read)."""
        arns = [str(t["taskArn"]) for t in tasks]
        sources, run.notes = logs.sources(run.task_definition, arns)
        tailer = None
        if run.spec.logs and sources:
            tailer = logs.Tailer.of(sources, lambda region: Logs(self.clients.logs(region)), clock=self.clock)
        watch = Watch(ecs=self.ecs, cluster=run.spec.cluster, arns=arns, deciders=run.deciders,
                      poll_interval=run.spec.poll_interval, deadline=run.deadline, cancel=self.cancel, tailer=tailer,
                      log_drain=run.spec.log_drain, clock=self.clock)  # fmt: skip
        watch.track(tasks)
        return watch

    def follow_logs(self, run: Run) -> None:
        """The log streams of the tasks followed now (after a task was started again, or another followed)."""
        if run.watch and run.watch.tailer:
            run.watch.tailer.follow(logs.sources(run.task_definition, list(run.watch.arns))[0])

    def stop(self, run: Run, why: str, only: Sequence[str] | None = None) -> bool:
        """StopTask for every task started that still runs and that ECS is not already stopping, all at once:
        together they must fit the signal budget. True when every one of them was stopped (or none needed it)."""
        from concurrent.futures import ThreadPoolExecutor  # noqa: PLC0415 - only when stopping

        known = run.watch.latest if run.watch else {}
        running = [arn for arn in run.started if not outcome.stopping(known.get(arn, {}))]
        running = [arn for arn in running if only is None or arn in only]
        if not running:
            return True
        reason = f"Stopped by ecs-run-task: {why}"[:255]  # as ECS records it (see `Ecs.stop_task`)
        run.stopped.update(dict.fromkeys(running, reason))  # asked for: a lost answer may still have stopped it

        def stop_one(arn: str) -> str | None:
            try:
                self.ecs.stop_task(run.spec.cluster, arn, reason)
            except RunError as e:
                return e.message
            return None

        with ThreadPoolExecutor(max_workers=len(running)) as pool:
            failures = list(pool.map(stop_one, running))
        for arn, failure in zip(running, failures, strict=True):  # rendered here: renderers are not thread-safe
            if failure is None:
                self.renderer.info(f"stopped task {task_id(arn)}: {why}")
                if run.watch:
                    run.watch.latest.setdefault(arn, {"taskArn": arn})["desiredStatus"] = outcome.STOPPED
            else:  # say loudly which one may still run
                self.renderer.warning(f"could not stop task {arn}: {failure}; it may still be running: "
                                      f"{console.task_url(self.clients.region, run.spec.cluster, arn)}")  # fmt: skip
        return all(failure is None for failure in failures)

    def started(self) -> list[str]:
        """Every task any run of this session started (or followed)."""
        return [arn for run in self.runs for arn in run.started]

    def link(self, run: Run, task_arn: str | None, container: str | None) -> str:
        """The console link to a task's stream of `container` (else its first stream); empty if none."""
        found, _notes = logs.sources(run.task_definition, [task_arn] if task_arn else [])
        source = next((s for s in found if s.container == container), found[0] if found else None)
        return logs.console_url(source, self.clients.region) if source else ""
