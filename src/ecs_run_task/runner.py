"""One run, start to end: resolve -> register -> RunTask -> follow (status and logs) -> outcome -> outputs.

The safety path is `Runner.guarded`: it is entered before RunTask, and `Runner.track` records every task in the
statement that receives RunTask's answer. From then on, whatever happens (a timeout, a signal, AWS refusing
a call, a bug of ours), no task is left running and the outputs still name the tasks."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import suppress
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from ecs_run_task import arns, console, logs, outcome, outputs, parse, plan, starts
from ecs_run_task.arns import task_id
from ecs_run_task.aws import Clients, Ecs, Logs
from ecs_run_task.cancel import Cancellation, Cancelled
from ecs_run_task.diagnostics import log
from ecs_run_task.errors import RunError, Transient
from ecs_run_task.events import AllDecided, Contact, DeadlinePassed, Decided, Event, Notice, Progress
from ecs_run_task.exit_codes import CANNOT_RUN, SUCCESS, signal_exit
from ecs_run_task.outcome import Outcome
from ecs_run_task.outputs import masked
from ecs_run_task.report import Renderer
from ecs_run_task.report.summary import Context
from ecs_run_task.resolve import Resolved, checked_request, resolve
from ecs_run_task.spec import Spec
from ecs_run_task.starting import Attempts, Starter
from ecs_run_task.status import Status
from ecs_run_task.tracebacks import print_traceback
from ecs_run_task.watch import Watch

AGAIN: Literal["again"] = "again"  # ours lost the race, and the first has stopped since: start again
SIGNAL_DRAIN = 1.5  # seconds of log reading after a signal: GitHub sends SIGKILL 10 s after SIGINT
TIMEOUT_DRAIN = 5.0


@dataclass(frozen=True)
class Result:
    outcome: Outcome
    outputs: dict[str, str]


@dataclass
class Run:
    """What this run resolved, started and follows, handed from step to step (never kept on the runner)."""

    spec: Spec  # with the service's settings applied
    task_definition: dict[str, Any]  # the revision that runs (registered, if it had to be)
    deciders: list[str]  # the containers whose exit codes decide (see `outcome.deciding_containers`)
    deadline: float | None  # the runner's clock: the run's `timeout`, counted from its start
    attempts: Attempts
    request: dict[str, Any] = field(default_factory=dict)  # RunTask's, for starts after a transient failure
    watch: Watch | None = None  # made in the statement that receives RunTask's first answer
    started: list[str] = field(default_factory=list)  # every task started, followed or not: the guard's list
    notes: list[str] = field(default_factory=list)  # containers whose lines cannot be streamed, and why
    too_few: Outcome | None = None  # RunTask started fewer tasks than asked for: the run fails, waiting or not

    @property
    def task_definition_arn(self) -> str:
        return str(self.task_definition["taskDefinitionArn"])

    @property
    def group(self) -> str:
        return starts.group_of(self.spec.group, str(self.task_definition.get("family", "")))

    def tasks(self) -> list[dict[str, Any]]:
        """The followed tasks' last descriptions; [] before RunTask answered."""
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
        self.starter = Starter(self.ecs, self.renderer, self.cancel, self.clock)
        self.render_failed = False
        timeout = self.spec.timeout
        self.deadline = None if timeout is None else self.clock() + timeout

    def run(self) -> Result:
        self.renderer.begin("Starting task", live=True)  # open: it holds the task's ID and log link
        timeout = self.spec.timeout
        self.renderer.info(f"timeout: {parse.shown(timeout)}, then the task is stopped" if timeout else "timeout: none")
        if self.spec.attach:
            return self.attach(self.spec.attach)
        with self.cancel.interruptible():  # nothing started yet: a signal may cut this short
            resolved = resolve(self.spec, self.ecs)
            request = checked_request(resolved, started_by=self.started_by, client_token=uuid.uuid4().hex)
        if resolved.register is not None:
            self.ecs.validate("RegisterTaskDefinition", resolved.register)
        self.ecs.validate("RunTask", request)
        if resolved.spec.dry_run:
            return self.dry_run(resolved, request)
        if resolved.spec.if_running != "start":
            running = self.one_at_a_time(resolved)
            if running is not None:
                return running
        run = self.register(resolved, request)
        return self.finish(run, self.guarded(run, lambda: self.start(run) or self.follow(run)))

    def dry_run(self, resolved: Resolved, request: dict[str, Any]) -> Result:
        requests = {"RegisterTaskDefinition": resolved.register} if resolved.register else {}
        self.renderer.begin("Dry run: the requests a real run sends", live=True)
        self.renderer.dry_run(masked({**requests, "RunTask": request}))
        result = Outcome(Status.DRY_RUN, SUCCESS, None, None, None, "dry run: nothing was registered or started")
        values = outputs.build(result, [], resolved.task_definition_arn)
        self.renderer.end()
        self.renderer.result(result, values, None)
        return Result(result, values)

    def new_run(self, spec: Spec, task_definition: dict[str, Any], request: dict[str, Any] | None = None) -> Run:
        deciders = outcome.deciding_containers(task_definition, plan.target_container(spec, task_definition))
        return Run(spec, task_definition, deciders, self.deadline, Attempts(spec.start_retries), dict(request or {}))

    def register(self, resolved: Resolved, request: dict[str, Any]) -> Run:
        """The revision to run: registered only now, after every check, so bad input registers nothing."""
        task_definition = resolved.task_definition
        if resolved.register is not None:
            task_definition = self.ecs.register_task_definition(resolved.register)
            request["taskDefinition"] = task_definition["taskDefinitionArn"]
            self.renderer.info(f"registered {arns.revision(str(task_definition['taskDefinitionArn']))}")
        return self.new_run(resolved.spec, task_definition, request)

    def guarded(self, run: Run, go: Callable[[], Outcome]) -> Outcome:
        """Start, then follow the tasks. Whatever happens once a task exists, none is left running."""
        try:
            return go()
        except Cancelled as c:
            if not run.started:
                raise  # nothing started: the CLI reports it
            watch = run.watch
            if watch and watch.all_decided():  # the answer was known: the signal only cuts the drain short
                verdict = outcome.judge(watch.tasks(), run.deciders)
                return replace(
                    verdict, message=f"{verdict.message}; {signal_exit(c.signum)[1]} cut the log drain short"
                )
            stopped = self.stop(run, f"CI job cancelled ({signal_exit(c.signum)[1]})")
            if watch:
                self.play(watch.drain(SIGNAL_DRAIN, after_signal=True))
            return outcome.interrupted(run.tasks(), c.signum, run.spec.timeout, stopped=stopped)
        except RunError as e:  # e.g. DescribeTasks denied: we cannot follow the task, so it must not run on
            if not run.started:
                raise
            stopped = self.stop(run, f"could not follow the task: {e.message}")
            return outcome.lost(run.tasks(), e.message, stopped=stopped, hint=e.hint)
        except Exception as e:  # a bug of ours: the task must not run on, and the outputs still name it
            if not run.started:
                raise
            stopped = self.stop(run, f"ecs-run-task failed: {type(e).__name__}")
            print_traceback()
            return outcome.lost(run.tasks(), f"ecs-run-task failed unexpectedly: {type(e).__name__}: {e} "
                              "(the traceback is above)", stopped=stopped)  # fmt: skip
        except BaseException as e:  # e.g. KeyboardInterrupt outside our handler: stop, then let it go
            self.stop(run, f"ecs-run-task failed: {type(e).__name__}")
            raise

    def track(self, run: Run, tasks: list[dict[str, Any]]) -> None:
        """Record tasks RunTask just started (the guard stops what is recorded), show them, hand them to the
        post step, which stops them if this step is killed (`wait: false` leaves them running)."""
        if not tasks:
            return
        run.started += [str(t["taskArn"]) for t in tasks]
        if run.watch is None:
            run.watch = self.watch(run, tasks)
        else:
            run.watch.track(tasks)
            self.follow_logs(run)
        self.renderer.started(tasks, run.task_definition_arn)
        if run.spec.wait:
            self.renderer.save_state({"task-arns": json.dumps(run.started), "cluster": run.spec.cluster,
                                    "region": self.clients.region})  # fmt: skip

    def start(self, run: Run) -> Outcome | None:
        """RunTask (again after a transient refusal); an outcome when nothing is left to follow."""
        log.debug("run_task", request=masked(run.request))  # environment values may be secrets
        self.cancel.check()  # a signal during the calls above: start nothing (RunTask itself is not interrupted)
        while True:
            tasks, refused = self.starter.run_task(
                run.request, run.attempts, lambda t: self.track(run, t), run.deadline
            )
            if not tasks:
                return outcome.run_failures(refused, attempts=run.attempts.used + 1)
            lost = self.first_of_group(run, tasks) if run.spec.if_running != "start" else None
            if lost is None:
                break
            if lost != AGAIN:
                return lost
            run.request = {**run.request, "clientToken": uuid.uuid4().hex}  # waited for the first: start again
        if refused:
            run.too_few = outcome.run_failures(refused, len(tasks))
            self.renderer.warning(run.too_few.message)
        if not run.spec.wait:
            self.cancel.check()
            return run.too_few or outcome.started(tasks)
        return None

    def first_of_group(self, run: Run, tasks: list[dict[str, Any]]) -> Outcome | Literal["again"] | None:
        """Close the race: two runs that started at the same moment each look again right after RunTask; the
        task created first goes on, the other is stopped before its containers start. None: ours is first;
        AGAIN: ours was stopped and the first has stopped since (start again); else the outcome."""
        ours = [str(t["taskArn"]) for t in tasks]
        others = self.starter.running_of_group(run.spec.cluster, str(run.task_definition["family"]), run.group, ours)
        first = next(iter(starts.older(others, starts.in_order(tasks)[0])), None)
        if first is None:
            return None
        who = f"{starts.described(first)} of group {run.group} started first"
        self.stop(run, who, only=ours)
        assert run.watch is not None  # noqa: S101 - `track` made it
        run.watch.forget(ours)
        if run.spec.if_running == "fail":
            return Outcome(Status.FAILED_TO_START, CANNOT_RUN, None, None, None,
                           f"{who} (if-running: fail); ours was stopped before its containers started")  # fmt: skip
        if run.spec.if_running == "attach":
            return self.follow_existing(run, first)
        self.starter.wait_for([first], cluster=run.spec.cluster, group=run.group, poll=run.spec.poll_interval,
                              deadline=run.deadline, timeout=run.spec.timeout)  # fmt: skip
        return AGAIN

    def one_at_a_time(self, resolved: Resolved) -> Result | None:
        """Before starting: the tasks of the same group that run already, and what `if-running` does then."""
        spec, family = resolved.spec, str(resolved.task_definition.get("family", ""))
        group = starts.group_of(spec.group, family)
        others = self.starter.running_of_group(spec.cluster, family, group)
        if not others:
            return None
        named = "; ".join(starts.described(t) for t in others)
        if spec.if_running == "fail":
            raise RunError(f"if-running: fail: group {group} has a task running in cluster {spec.cluster}: {named}; "
                           "nothing was started")  # fmt: skip
        if spec.if_running == "wait":
            self.starter.wait_for(others, cluster=spec.cluster, group=group, poll=spec.poll_interval,
                                  deadline=self.deadline, timeout=spec.timeout)  # fmt: skip
            return None
        if len(others) > 1:
            self.renderer.info(f"{len(others)} tasks of group {group} run ({named}); following the oldest")
        task_definition = self.ecs.describe_task_definition(str(others[0]["taskDefinitionArn"]))
        run = self.new_run(spec, task_definition)
        return self.finish(run, self.guarded(run, lambda: self.follow_existing(run, others[0])))

    def attach(self, ref: str) -> Result:
        """Follow a task that runs already, as if we had started it (`attach`)."""
        with self.cancel.interruptible():
            found, _missing = self.ecs.describe_tasks(self.spec.cluster, [ref])
        if not found:
            raise RunError(f"attach: task {ref!r} was not found in cluster {self.spec.cluster!r} "
                           f"({self.clients.region}); check attach, cluster and region (ECS forgets a stopped task "
                           "about an hour after it stopped)")  # fmt: skip
        task = found[0]
        task_definition = self.ecs.describe_task_definition(str(task["taskDefinitionArn"]))
        run = self.new_run(self.spec, task_definition)
        return self.finish(run, self.guarded(run, lambda: self.follow_existing(run, task)))

    def follow_existing(self, run: Run, task: dict[str, Any]) -> Outcome:
        """Follow a task we did not start: its logs from the beginning, its outcome, stopped on timeout or
        cancel like one of ours."""
        if task.get("taskDefinitionArn") != run.task_definition_arn:  # the race's first may run another revision
            run.task_definition = self.ecs.describe_task_definition(str(task["taskDefinitionArn"]))
            run.deciders = outcome.deciding_containers(
                run.task_definition, plan.target_container(run.spec, run.task_definition)
            )
        if run.watch is not None:  # ours lost the race: its record stays, for the guard
            run.watch.deciders = run.deciders
        self.renderer.info(f"following {starts.described(task)}")
        self.track(run, [task])
        return self.follow(run)

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
        """The log streams of the tasks followed now (after a task was started again)."""
        if run.watch and run.watch.tailer:
            run.watch.tailer.follow(logs.sources(run.task_definition, list(run.watch.arns))[0])

    def follow(self, run: Run) -> Outcome:
        """Wait for the tasks' answer, showing status and log lines; stop them at the timeout."""
        watch = run.watch
        assert watch is not None  # noqa: S101 - `track` made it
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
            verdict = outcome.judge(final.tasks, run.deciders)
            return self.with_log_gaps(run, run.too_few if run.too_few and verdict.ok else verdict)
        if not isinstance(final, DeadlinePassed):
            raise AssertionError("the watch ended without a final event")
        stopped = self.stop(run, f"timeout of {run.spec.timeout:g}s passed")
        self.play(watch.drain(min(run.spec.log_drain, TIMEOUT_DRAIN)))
        with suppress(Transient):
            watch.poll()  # the stop code and reason for the outputs
        return self.with_log_gaps(run, outcome.interrupted(watch.tasks(), None, run.spec.timeout, stopped=stopped))

    def with_log_gaps(self, run: Run, result: Outcome) -> Outcome:
        """Never lose a line silently: a stream whose reads kept failing (a shared quota, an outage) until the
        drain ran out is named in the result, with the console link to its full log."""
        gaps = []
        for cursor in run.watch.tailer.behind_streams() if run.watch and run.watch.tailer else []:
            source = cursor.source
            why = (f"its last {cursor.failing} reads failed ({cursor.last_error})" if cursor.failing
                   else "it was still being read")  # fmt: skip
            gaps.append(f"container {source.label or source.container}: the log shown may be incomplete: {why} when "
                        f"log-drain ({run.spec.log_drain:g}s) ran out; the full log: "
                        f"{logs.console_url(source, self.clients.region)}")  # fmt: skip
        return replace(result, warnings=(*result.warnings, *gaps)) if gaps else result

    def play(self, events: Iterator[Event], run: Run | None = None) -> Event | None:
        """Show progress and log lines, act on decided tasks; return the final event, if any. Showing is never
        a reason to stop a task: what fails to render is reported once, and the run goes on."""
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
                elif isinstance(event, Contact):
                    (self.renderer.warning if event.lost else self.renderer.info)(event.text)
                elif isinstance(event, Notice):
                    self.renderer.warning(event.text)
                else:
                    self.renderer.log_lines(event.lines)
            except Exception as e:
                if not self.render_failed:
                    self.render_failed = True
                    print_traceback()
                    log.error("could not show some log lines; the run goes on", error=f"{type(e).__name__}: {e}")
        return None

    def decided(self, run: Run, event: Decided) -> None:
        """A task's answer is known. A task that never ran, for a cause that may pass, is started again (within
        `start-retries` and the timeout); one that ECS is not stopping (the deciding container is not essential
        and an essential one runs on) has the rest stopped: nothing else will."""
        task, watch = event.task, run.watch
        arn = str(task["taskArn"])
        hint = starts.transient_start_failure(task, run.deciders, ran=watch is not None and arn in watch.ran)
        if hint is not None and run.request and watch is not None:
            why = outcome.judge_task(task, run.deciders).message.split(": ", 1)[-1]
            if self.starter.retry_pause(run.attempts, f"task {task_id(arn)} never ran ({why})", run.deadline):
                request = {**run.request, "count": 1, "clientToken": uuid.uuid4().hex}
                started, _refused = self.starter.run_task(
                    request, run.attempts, lambda t: self.track(run, t), run.deadline
                )
                if started:
                    watch.forget([arn])
                    self.follow_logs(run)
                return
        if event.rest_running:
            exited = " and ".join(run.deciders) or "the deciding container"
            self.stop(run, f"container {exited} exited", only=[arn])

    def stop(self, run: Run, why: str, only: Sequence[str] | None = None) -> bool:
        """StopTask for every task started that still runs and that ECS is not already stopping, all at once:
        together they must fit the signal budget. True when every one of them was stopped (or none needed it)."""
        from concurrent.futures import ThreadPoolExecutor  # noqa: PLC0415 - only when stopping

        known = run.watch.latest if run.watch else {}
        running = [arn for arn in run.started if not outcome.stopping(known.get(arn, {}))]
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
                if run.watch:
                    run.watch.latest.setdefault(arn, {"taskArn": arn})["desiredStatus"] = outcome.STOPPED
            else:  # say loudly which one may still run
                self.renderer.warning(f"could not stop task {arn}: {failure}; it may still be running: "
                                      f"{console.task_url(self.clients.region, run.spec.cluster, arn)}")  # fmt: skip
        return all(failure is None for failure in failures)

    def link(self, run: Run, task_arn: str | None, container: str | None) -> str:
        """The console link to a task's stream of `container` (else its first stream); empty if none."""
        found, _notes = logs.sources(run.task_definition, [task_arn] if task_arn else [])
        source = next((s for s in found if s.container == container), found[0] if found else None)
        return logs.console_url(source, self.clients.region) if source else ""

    def finish(self, run: Run, result: Outcome) -> Result:
        tasks = run.tasks()
        link = self.link(run, (result.task or {}).get("taskArn"), result.container)
        values = outputs.build(result, tasks, run.task_definition_arn, link)
        known = run.watch.latest if run.watch else {}
        if run.spec.wait and run.started and all(outcome.stopping(known.get(a, {})) for a in run.started):
            self.renderer.save_state({"task-arns": "[]"})  # nothing left for the post step to stop
        self.renderer.end()
        self.renderer.result(result, values, Context(run.spec.cluster, self.clients.region, tasks, run.attempts.said))
        return Result(result, values)
