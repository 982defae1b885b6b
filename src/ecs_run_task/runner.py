"""One run, start to end: task definition -> RunTask -> wait (and tail logs) -> outcome.

Never leaves a task running: on timeout, signal or any error after RunTask, the started tasks are stopped
before we return or raise."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from ecs_run_task import logs, outputs, plan
from ecs_run_task import outcome as judge
from ecs_run_task.aws import Clients, Ecs, Logs
from ecs_run_task.cancel import Cancellation, Cancelled
from ecs_run_task.diagnostics import log
from ecs_run_task.errors import RunError
from ecs_run_task.events import AllStopped, DeadlinePassed, Event, LogBatch, Progress
from ecs_run_task.exit_codes import SUCCESS
from ecs_run_task.outcome import DRY_RUN, Outcome
from ecs_run_task.outputs import masked
from ecs_run_task.report import Renderer
from ecs_run_task.report.summary import Facts
from ecs_run_task.resolve import Resolved, checked_request, resolve
from ecs_run_task.spec import Spec
from ecs_run_task.watch import STOPPED, Watch

SIGNAL_DRAIN = 1.5  # seconds of log reading after a signal: GitHub sends SIGKILL 10 s after SIGINT
TIMEOUT_DRAIN = 5.0


@dataclass(frozen=True)
class Result:
    outcome: Outcome
    outputs: dict[str, str]


@dataclass
class Runner:
    spec: Spec
    clients: Clients
    renderer: Renderer
    cancel: Cancellation
    started_by: str
    clock: Callable[[], float] = time.monotonic

    def __post_init__(self) -> None:
        self.ecs = Ecs(self.clients)
        self.sources: list[logs.LogSource] = []

    def run(self) -> Result:
        show = self.renderer
        show.begin("Starting task")
        with self.cancel.interruptible():  # nothing started yet: a signal may cut this short
            resolved = resolve(self.spec, self.ecs)
            request = checked_request(resolved, started_by=self.started_by, client_token=uuid.uuid4().hex)
        if resolved.register is not None:
            self.ecs.validate("RegisterTaskDefinition", resolved.register)
        self.ecs.validate("RunTask", request)
        spec = self.spec = resolved.spec
        if spec.dry_run:
            return self.dry_run(resolved, request)
        task_definition = resolved.task_definition
        if resolved.register is not None:  # only now, after every check: bad input registers nothing
            task_definition = self.ecs.register_task_definition(resolved.register)
            request["taskDefinition"] = task_definition["taskDefinitionArn"]
            show.info(f"registered {str(task_definition['taskDefinitionArn']).rsplit('/', 1)[-1]}")
        td_arn = str(task_definition["taskDefinitionArn"])
        deciders = judge.deciding_containers(task_definition, plan.target_container(spec, task_definition))
        log.debug("run_task", request=masked(request))  # environment values may be secrets
        self.cancel.check()  # a signal during the calls above: start nothing (RunTask itself is not interrupted)
        tasks, failures = self.ecs.run_task(request)  # never interrupted: a task must not start unseen
        if not tasks:
            return self.finish(judge.run_failures(failures), [], td_arn)
        arns = [t["taskArn"] for t in tasks]
        too_few = judge.run_failures(failures, len(tasks)) if failures else None  # fewer tasks ran than asked for
        self.sources, notes = logs.sources(task_definition, arns)
        watch = self.watch(arns)
        watch.latest.update({t["taskArn"]: t for t in tasks})
        try:  # from here on, whatever happens, no task is left running
            show.started(tasks, td_arn)
            if spec.wait:  # for the post step, which stops them if this step is killed; `wait: false` runs on
                show.remember({"task-arns": json.dumps(arns), "cluster": spec.cluster, "region": self.clients.region})
            if too_few:
                show.warning(too_few.message)
            if not spec.wait:
                self.cancel.check()
                return self.finish(too_few or judge.started(tasks), tasks, td_arn)
            self.cancel.check()  # a signal that came during RunTask
            result = self.wait(watch, deciders, notes if spec.logs else [])
        except Cancelled as c:
            self.stop(watch.tasks(), f"CI job cancelled ({'SIGINT' if c.signum == 2 else 'SIGTERM'})")
            self.render(watch.drain(SIGNAL_DRAIN, after_signal=True))
            result = judge.interrupted(watch.tasks(), c.signum, spec.timeout)
        except RunError as e:  # e.g. DescribeTasks denied: we cannot follow the task, so it must not run on
            self.stop(watch.tasks(), f"could not follow the task: {e.message}")
            result = judge.Outcome(judge.FAILED_TO_START, e.exit_code, None, watch.tasks()[0], None, e.message)
        except BaseException as e:
            self.stop(watch.tasks(), f"ecs-run-task failed: {type(e).__name__}")
            raise
        if too_few and result.status == judge.SUCCEEDED:
            result = too_few
        return self.finish(result, watch.tasks(), td_arn)

    def dry_run(self, resolved: Resolved, request: dict[str, Any]) -> Result:
        requests = {"RegisterTaskDefinition": resolved.register} if resolved.register else {}
        self.renderer.begin("Dry run: the requests a real run sends", live=True)
        self.renderer.dry_run(masked({**requests, "RunTask": request}))
        result = Outcome(DRY_RUN, SUCCESS, None, None, None, "dry run: nothing was registered or started")
        return self.finish(result, [], resolved.task_definition_arn)

    def watch(self, arns: list[str]) -> Watch:
        """The loop for these tasks; nothing is called yet (log clients are made on the first read)."""
        tailer = None
        if self.spec.logs and self.sources:
            tailer = logs.Tailer.of(self.sources, lambda region: Logs(self.clients.logs(region)))
            tailer.clock = self.clock
        deadline = None if self.spec.timeout is None else self.clock() + self.spec.timeout
        return Watch(self.ecs, self.spec.cluster, arns, self.spec.poll_interval, deadline, self.cancel, self.clock,
                     tailer, self.spec.log_drain)  # fmt: skip

    def render(self, events: Iterator[Event]) -> Event | None:
        """Show progress and log lines; return the final event, if any."""
        for event in events:
            if isinstance(event, Progress):
                self.renderer.progress(event)
            elif isinstance(event, LogBatch):
                self.renderer.log_lines(event.lines)
            else:
                return event
        return None

    def wait(self, watch: Watch, deciders: Sequence[str], notes: Sequence[str]) -> Outcome:
        for note in notes:
            self.renderer.info(note)
        if watch.tailer:  # so a long task can be followed in the console
            self.renderer.info(f"logs: {self.link(watch.arns[0], deciders[0] if deciders else None)}")
        what = "the task" if len(watch.arns) == 1 else f"{len(watch.arns)} tasks"
        self.renderer.begin(f"Waiting for {what}: status{' and logs' if watch.tailer else ''}", live=True)
        final = self.render(watch.events(self.clock()))
        if isinstance(final, AllStopped):
            for source in watch.tailer.never_found() if watch.tailer else []:
                self.renderer.warning(f"container {source.container}: its log stream {source.stream} never appeared "
                                      f"in {source.group}; check awslogs-group, awslogs-stream-prefix and "
                                      "awslogs-region, and that the execution role may logs:CreateLogStream")  # fmt: skip
            return judge.judge(final.tasks, deciders)
        if not isinstance(final, DeadlinePassed):
            raise AssertionError("the watch ended without a final event")
        self.stop(final.tasks, f"timeout of {self.spec.timeout:g}s passed")
        self.render(watch.drain(min(self.spec.log_drain, TIMEOUT_DRAIN)))
        watch.poll()  # the stop code and reason for the outputs
        return judge.interrupted(watch.tasks(), None, self.spec.timeout)

    def stop(self, tasks: Sequence[dict[str, Any]], why: str) -> None:
        """StopTask for every task still running, all at once: together they must fit the signal budget."""
        from concurrent.futures import ThreadPoolExecutor  # noqa: PLC0415 - only when stopping

        running = [t["taskArn"] for t in tasks if t.get("lastStatus") != STOPPED]
        if not running:
            return
        reason = f"Stopped by ecs-run-task: {why}"

        def stop_one(arn: str) -> str | None:
            try:
                self.ecs.stop_task(self.spec.cluster, arn, reason)
            except RunError as e:
                return e.message
            return None

        with ThreadPoolExecutor(max_workers=len(running)) as pool:
            failures = list(pool.map(stop_one, running))
        for arn, failure in zip(running, failures, strict=True):  # rendered here: renderers are not thread-safe
            if failure is None:
                self.renderer.info(f"stopped task {judge.task_id(arn)}: {why}")
            else:  # say loudly which one may still run
                self.renderer.warning(f"could not stop task {arn}: {failure}")

    def link(self, task_arn: str | None, container: str | None) -> str:
        """The console link to a task's stream of `container` (else its first stream); empty if none."""
        mine = [s for s in self.sources if s.task_arn == task_arn]
        source = next((s for s in mine if s.container == container), mine[0] if mine else None)
        return logs.console_url(source, self.clients.region) if source else ""

    def finish(self, result: Outcome, tasks: Sequence[dict[str, Any]], td_arn: str) -> Result:
        values = {
            **outputs.build(result, tasks, td_arn),
            "log-url": self.link((result.task or {}).get("taskArn"), result.container),
        }
        if self.spec.wait and tasks and all(t.get("lastStatus") == STOPPED for t in tasks):
            self.renderer.remember({"task-arns": "[]"})  # nothing left for the post step to check
        self.renderer.end()
        self.renderer.result(result, values, Facts(self.spec.cluster, self.clients.region, list(tasks)))
        return Result(result, values)
