"""One run, start to end: resolve -> register -> RunTask -> follow (status and logs) -> outcome -> outputs.

The safety path is `Runner.guarded`: it is entered before RunTask, and `Run.track` records every task in the
statement that receives RunTask's answer. From then on, whatever happens (a timeout, a signal, AWS refusing
a call, a bug of ours), no task is left running and the outputs still name the tasks."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from ecs_run_task import console, logs, outputs, plan
from ecs_run_task import outcome as judge
from ecs_run_task.aws import Clients, Ecs, Logs
from ecs_run_task.cancel import Cancellation, Cancelled
from ecs_run_task.diagnostics import log
from ecs_run_task.errors import RunError
from ecs_run_task.events import AllDecided, DeadlinePassed, Decided, Event, Progress
from ecs_run_task.exit_codes import SUCCESS, signal_exit
from ecs_run_task.outcome import Outcome, task_id
from ecs_run_task.outputs import masked
from ecs_run_task.report import Renderer
from ecs_run_task.report.summary import Facts
from ecs_run_task.resolve import Resolved, checked_request, resolve
from ecs_run_task.spec import Spec
from ecs_run_task.status import Status
from ecs_run_task.tracebacks import print_traceback
from ecs_run_task.watch import Watch

SIGNAL_DRAIN = 1.5  # seconds of log reading after a signal: GitHub sends SIGKILL 10 s after SIGINT
TIMEOUT_DRAIN = 5.0


@dataclass(frozen=True)
class Result:
    outcome: Outcome
    outputs: dict[str, str]


@dataclass
class Run:
    """What this run resolved and started, handed from step to step (never kept on the runner)."""

    spec: Spec  # with the service's settings applied
    task_definition: dict[str, Any]  # the revision that runs (registered, if it had to be)
    deciders: list[str]  # the containers whose exit codes decide (see `outcome.deciding_containers`)
    watch: Watch | None = None  # made in the statement that receives RunTask's answer
    sources: list[logs.LogSource] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # containers whose lines cannot be streamed, and why
    too_few: Outcome | None = None  # RunTask started fewer tasks than asked for: the run fails, waiting or not

    @property
    def task_definition_arn(self) -> str:
        return str(self.task_definition["taskDefinitionArn"])

    def tasks(self) -> list[dict[str, Any]]:
        """The started tasks' last descriptions; [] before RunTask answered."""
        return self.watch.tasks() if self.watch else []


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
        self.render_failed = False

    def run(self) -> Result:
        self.renderer.begin("Starting task")
        with self.cancel.interruptible():  # nothing started yet: a signal may cut this short
            resolved = resolve(self.spec, self.ecs)
            request = checked_request(resolved, started_by=self.started_by, client_token=uuid.uuid4().hex)
        if resolved.register is not None:
            self.ecs.validate("RegisterTaskDefinition", resolved.register)
        self.ecs.validate("RunTask", request)
        if resolved.spec.dry_run:
            return self.dry_run(resolved, request)
        run = self.register(resolved, request)
        return self.finish(run, self.guarded(run, request))

    def dry_run(self, resolved: Resolved, request: dict[str, Any]) -> Result:
        requests = {"RegisterTaskDefinition": resolved.register} if resolved.register else {}
        self.renderer.begin("Dry run: the requests a real run sends", live=True)
        self.renderer.dry_run(masked({**requests, "RunTask": request}))
        result = Outcome(Status.DRY_RUN, SUCCESS, None, None, None, "dry run: nothing was registered or started")
        values = outputs.build(result, [], resolved.task_definition_arn)
        self.renderer.end()
        self.renderer.result(result, values, None)
        return Result(result, values)

    def register(self, resolved: Resolved, request: dict[str, Any]) -> Run:
        """The revision to run: registered only now, after every check, so bad input registers nothing."""
        task_definition = resolved.task_definition
        if resolved.register is not None:
            task_definition = self.ecs.register_task_definition(resolved.register)
            request["taskDefinition"] = task_definition["taskDefinitionArn"]
            self.renderer.info(f"registered {str(task_definition['taskDefinitionArn']).rsplit('/', 1)[-1]}")
        spec = resolved.spec
        deciders = judge.deciding_containers(task_definition, plan.target_container(spec, task_definition))
        return Run(spec, task_definition, deciders)

    def guarded(self, run: Run, request: dict[str, Any]) -> Outcome:
        """RunTask, then follow the tasks. Whatever happens once a task exists, none is left running."""
        try:
            return self.start(run, request) or self.follow(run)
        except Cancelled as c:
            if not run.tasks():
                raise  # nothing started: the CLI reports it
            watch = run.watch
            if watch and watch.all_decided():  # the answer was known: the signal only cuts the drain short
                verdict = judge.judge(watch.tasks(), run.deciders)
                return replace(
                    verdict, message=f"{verdict.message}; {signal_exit(c.signum)[1]} cut the log drain short"
                )
            stopped = self.stop(run, f"CI job cancelled ({signal_exit(c.signum)[1]})")
            if watch:
                self.play(watch.drain(SIGNAL_DRAIN, after_signal=True))
            return judge.interrupted(run.tasks(), c.signum, run.spec.timeout, stopped=stopped)
        except RunError as e:  # e.g. DescribeTasks denied: we cannot follow the task, so it must not run on
            if not run.tasks():
                raise
            stopped = self.stop(run, f"could not follow the task: {e.message}")
            return judge.lost(run.tasks(), e.message, stopped=stopped)
        except Exception as e:  # a bug of ours: the task must not run on, and the outputs still name it
            if not run.tasks():
                raise
            stopped = self.stop(run, f"ecs-run-task failed: {type(e).__name__}")
            print_traceback()
            return judge.lost(run.tasks(), f"ecs-run-task failed unexpectedly: {type(e).__name__}: {e} "
                              "(the traceback is above)", stopped=stopped)  # fmt: skip
        except BaseException as e:  # e.g. KeyboardInterrupt outside our handler: stop, then let it go
            self.stop(run, f"ecs-run-task failed: {type(e).__name__}")
            raise

    def start(self, run: Run, request: dict[str, Any]) -> Outcome | None:
        """RunTask; an outcome when nothing is left to follow."""
        log.debug("run_task", request=masked(request))  # environment values may be secrets
        self.cancel.check()  # a signal during the calls above: start nothing (RunTask itself is not interrupted)
        tasks, failures = self.ecs.run_task(request)  # never interrupted: a task must not start unseen
        run.watch = self.watch(run, tasks)  # the guard's record of what runs, in the same statement
        if not tasks:
            return judge.run_failures(failures)
        self.renderer.started(tasks, run.task_definition_arn)
        arns = [str(t["taskArn"]) for t in tasks]
        if run.spec.wait:  # for the post step, which stops them if this step is killed; `wait: false` runs on
            self.renderer.remember({"task-arns": json.dumps(arns), "cluster": run.spec.cluster,
                                    "region": self.clients.region})  # fmt: skip
        if failures:
            run.too_few = judge.run_failures(failures, len(tasks))
            self.renderer.warning(run.too_few.message)
        if not run.spec.wait:
            self.cancel.check()
            return run.too_few or judge.started(tasks)
        return None

    def watch(self, run: Run, tasks: list[dict[str, Any]]) -> Watch:
        """The loop for these tasks; nothing is called yet (log clients are made on the first read)."""
        arns = [str(t["taskArn"]) for t in tasks]
        run.sources, run.notes = logs.sources(run.task_definition, arns)
        tailer = None
        if run.spec.logs and run.sources:
            tailer = logs.Tailer.of(run.sources, lambda region: Logs(self.clients.logs(region)), clock=self.clock)
        timeout = run.spec.timeout
        watch = Watch(
            ecs=self.ecs,
            cluster=run.spec.cluster,
            arns=arns,
            deciders=run.deciders,
            poll_interval=run.spec.poll_interval,
            deadline=None if timeout is None else self.clock() + timeout,
            cancel=self.cancel,
            tailer=tailer,
            log_drain=run.spec.log_drain,
            clock=self.clock,
        )
        watch.latest.update({str(t["taskArn"]): t for t in tasks})
        return watch

    def follow(self, run: Run) -> Outcome:
        """Wait for the tasks' answer, showing status and log lines; stop them at the timeout."""
        watch = run.watch
        assert watch is not None  # noqa: S101 - `start` made it
        self.cancel.check()  # a signal that came during RunTask
        for note in run.notes if run.spec.logs else []:
            self.renderer.info(note)
        if watch.tailer:  # so a long task can be followed in the console
            self.renderer.info(f"logs: {self.link(run, watch.arns[0], run.deciders[0] if run.deciders else None)}")
        what = "the task" if len(watch.arns) == 1 else f"{len(watch.arns)} tasks"
        self.renderer.begin(f"Waiting for {what}: status{' and logs' if watch.tailer else ''}", live=True)
        final = self.play(watch.events(self.clock()), run)
        if isinstance(final, AllDecided):
            for source in watch.tailer.never_found(final.tasks) if watch.tailer else []:
                self.renderer.warning(f"container {source.container}: its log stream {source.stream} never appeared "
                                      f"in {source.group}; check awslogs-group, awslogs-stream-prefix and "
                                      "awslogs-region, and that the execution role may logs:CreateLogStream")  # fmt: skip
            verdict = judge.judge(final.tasks, run.deciders)
            return run.too_few if run.too_few and verdict.ok else verdict
        if not isinstance(final, DeadlinePassed):
            raise AssertionError("the watch ended without a final event")
        stopped = self.stop(run, f"timeout of {run.spec.timeout:g}s passed")
        self.play(watch.drain(min(run.spec.log_drain, TIMEOUT_DRAIN)))
        watch.poll()  # the stop code and reason for the outputs
        return judge.interrupted(watch.tasks(), None, run.spec.timeout, stopped=stopped)

    def play(self, events: Iterator[Event], run: Run | None = None) -> Event | None:
        """Show progress and log lines, stop the rest of a decided task; return the final event, if any.
        Showing is never a reason to stop a task: what fails to render is reported once, and the run goes on."""
        for event in events:
            if isinstance(event, AllDecided | DeadlinePassed):
                return event
            if isinstance(event, Decided):
                if run is not None:
                    self.decided(run, event)
                continue
            try:
                if isinstance(event, Progress):
                    self.renderer.progress(event)
                else:
                    self.renderer.log_lines(event.lines)
            except Exception as e:
                if not self.render_failed:
                    self.render_failed = True
                    print_traceback()
                    log.error("could not show some log lines; the run goes on", error=f"{type(e).__name__}: {e}")
        return None

    def decided(self, run: Run, event: Decided) -> None:
        """A task's answer is known. If ECS is not stopping it (the deciding container is not essential and an
        essential one runs on), stop the rest: nothing else will."""
        if event.rest_running:
            exited = " and ".join(run.deciders) or "the deciding container"
            self.stop(run, f"container {exited} exited", only=[str(event.task["taskArn"])])

    def stop(self, run: Run, why: str, only: Sequence[str] | None = None) -> bool:
        """StopTask for every task still running that ECS is not already stopping, all at once: together they
        must fit the signal budget. True when every one of them was stopped (or none needed it)."""
        from concurrent.futures import ThreadPoolExecutor  # noqa: PLC0415 - only when stopping

        running = [str(t["taskArn"]) for t in run.tasks() if not judge.stopping(t)]
        running = [arn for arn in running if only is None or arn in only]
        if not running:
            return True
        reason = f"Stopped by ecs-run-task: {why}"

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
            else:  # say loudly which one may still run
                self.renderer.warning(f"could not stop task {arn}: {failure}; it may still be running: "
                                      f"{console.task_url(self.clients.region, run.spec.cluster, arn)}")  # fmt: skip
        return all(failure is None for failure in failures)

    def link(self, run: Run, task_arn: str | None, container: str | None) -> str:
        """The console link to a task's stream of `container` (else its first stream); empty if none."""
        mine = [s for s in run.sources if s.task_arn == task_arn]
        source = next((s for s in mine if s.container == container), mine[0] if mine else None)
        return logs.console_url(source, self.clients.region) if source else ""

    def finish(self, run: Run, result: Outcome) -> Result:
        tasks = run.tasks()
        link = self.link(run, (result.task or {}).get("taskArn"), result.container)
        values = outputs.build(result, tasks, run.task_definition_arn, link)
        if run.spec.wait and tasks and all(judge.stopping(t) for t in tasks):
            self.renderer.remember({"task-arns": "[]"})  # nothing left for the post step to stop
        self.renderer.end()
        self.renderer.result(result, values, Facts(run.spec.cluster, self.clients.region, tasks))
        return Result(result, values)
