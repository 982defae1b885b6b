"""Following started tasks to their answer: the watch's events shown, decided tasks acted on (started again
after a transient start failure, the rest of a task stopped), the timeout, and log lines never lost silently."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import suppress
from dataclasses import dataclass, replace
from typing import Any

from ecs_run_task import logs, outcome, starts
from ecs_run_task.arns import task_id
from ecs_run_task.diagnostics import log
from ecs_run_task.errors import Transient
from ecs_run_task.events import AllDecided, Contact, DeadlinePassed, Decided, Event, Notice, Progress
from ecs_run_task.outcome import Outcome
from ecs_run_task.session import Run, Session
from ecs_run_task.tracebacks import print_traceback

SIGNAL_DRAIN = 1.5  # seconds of log reading after a signal: GitHub sends SIGKILL 10 s after SIGINT
TIMEOUT_DRAIN = 5.0


@dataclass
class Follower:
    session: Session
    render_failed: bool = False

    def follow(self, run: Run) -> Outcome:
        """Wait for the tasks' answer, showing status and log lines; stop them at the timeout."""
        s, watch = self.session, run.watch
        assert watch is not None  # noqa: S101 - `Session.track` made it
        s.cancel.check()  # a signal that came during RunTask
        for note in run.notes if run.spec.logs else []:
            s.renderer.info(note)
        if watch.tailer:  # so a long task can be followed in the console
            s.renderer.info(f"logs: {s.link(run, watch.arns[0], run.deciders[0] if run.deciders else None)}")
        what = "the task" if len(watch.arns) == 1 else f"{len(watch.arns)} tasks"
        s.renderer.begin(f"Waiting for {what}: status{' and logs' if watch.tailer else ''}", live=True)
        final = self.play(watch.events(s.clock()), run)
        if isinstance(final, AllDecided):
            for source in watch.tailer.never_found(final.tasks) if watch.tailer else []:
                s.renderer.warning(f"container {source.container}: its log stream {source.stream} never appeared "
                                   f"in {source.group}; check awslogs-group, awslogs-stream-prefix and "
                                   "awslogs-region, and that the execution role may logs:CreateLogStream")  # fmt: skip
            verdict = outcome.judge(final.tasks, run.deciders)
            return self.with_log_gaps(run, run.too_few if run.too_few and verdict.ok else verdict)
        if not isinstance(final, DeadlinePassed):
            raise AssertionError("the watch ended without a final event")
        stopped = self.stop_and_drain(
            run, f"timeout of {run.spec.timeout:g}s passed", min(run.spec.log_drain, TIMEOUT_DRAIN)
        )
        with suppress(Transient):
            watch.poll()  # the stop code and reason for the outputs
        return self.with_log_gaps(run, outcome.interrupted(watch.tasks(), None, run.spec.timeout, stopped=stopped))

    def follow_existing(self, run: Run, task: dict[str, Any]) -> Outcome:
        """Follow a task we did not start (`attach`, or the one that went first): its logs from the beginning,
        its outcome, stopped on timeout or cancel like one of ours."""
        if task.get("taskDefinitionArn") != run.task_definition_arn:  # the race's first may run another revision
            run.decide_by(self.session.ecs.describe_task_definition(str(task["taskDefinitionArn"])))
        self.session.renderer.info(f"following {starts.described(task)}")
        self.session.track(run, [task])
        return self.follow(run)

    def stop_and_drain(self, run: Run, why: str, drain: float, *, after_signal: bool = False) -> bool:
        """Stop what still runs, then read the lines that are still coming for at most `drain` seconds: both
        within the runner's budget. True when every task that needed it was stopped."""
        stopped = self.session.stop(run, why)
        if run.watch:
            self.play(run.watch.drain(drain, after_signal=after_signal))
        return stopped

    def with_log_gaps(self, run: Run, result: Outcome) -> Outcome:
        """Never lose a line silently: a stream whose reads kept failing (a shared quota, an outage) until the
        drain ran out is named in the result, with the console link to its full log."""
        gaps = []
        for cursor in run.watch.tailer.behind_streams() if run.watch and run.watch.tailer else []:
            source = cursor.source
            link = logs.console_url(source, self.session.clients.region)
            if cursor.refused:
                gaps.append(f"container {source.label or source.container}: its lines could not be shown "
                            f"({cursor.last_error}); the full log: {link}")  # fmt: skip
                continue
            why = (f"its last {cursor.failing} reads failed ({cursor.last_error})" if cursor.failing
                   else "it was still being read")  # fmt: skip
            gaps.append(f"container {source.label or source.container}: the log shown may be incomplete: {why} when "
                        f"log-drain ({run.spec.log_drain:g}s) ran out; the full log: {link}")  # fmt: skip
        return replace(result, warnings=(*result.warnings, *gaps)) if gaps else result

    def play(self, events: Iterator[Event], run: Run | None = None) -> Event | None:
        """Show progress and log lines, act on decided tasks; return the final event, if any. Showing is never
        a reason to stop a task: what fails to render is reported once, and the run goes on."""
        shown = self.session.renderer
        for event in events:
            if isinstance(event, AllDecided | DeadlinePassed):
                return event
            if isinstance(event, Decided):
                if run is not None:
                    self.decided(run, event)
                continue
            try:
                if isinstance(event, Progress):
                    shown.progress(event)
                elif isinstance(event, Contact):
                    (shown.warning if event.lost else shown.info)(event.text)
                elif isinstance(event, Notice):
                    shown.warning(event.text)
                else:
                    shown.log_lines(event.lines)
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
        s, task, watch = self.session, event.task, run.watch
        arn = str(task["taskArn"])
        hint = starts.transient_start_failure(task, run.deciders, ran=watch is not None and arn in watch.ran)
        if hint is not None and run.request and watch is not None:
            why = outcome.judge_task(task, run.deciders).message.split(": ", 1)[-1]
            if s.starter.retry_pause(run.attempts, f"task {task_id(arn)} never ran ({why})", run.deadline):
                request = {**run.request, "count": 1, "clientToken": uuid.uuid4().hex}
                started, _refused = s.starter.run_task(request, run.attempts, lambda t: s.track(run, t), run.deadline)
                if started:
                    watch.forget([arn])
                    s.follow_logs(run)
                return
        if event.rest_running:
            exited = " and ".join(run.deciders) or "the deciding container"
            s.stop(run, f"container {exited} exited", only=[arn])
