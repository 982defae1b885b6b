"""Following started tasks to their answer: the watch's events shown, decided tasks acted on (started again
after a transient start failure, the rest of a task stopped), the timeout, and log lines never lost silently."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any

from ecs_run_task import words
from ecs_run_task.arns import task_id
from ecs_run_task.diagnostics import log
from ecs_run_task.engine import logs, starts
from ecs_run_task.engine.events import AllDecided, Contact, DeadlinePassed, Decided, Event, Notice, Progress
from ecs_run_task.engine.session import Run, Session
from ecs_run_task.errors import RunError, Transient
from ecs_run_task.tracebacks import print_traceback
from ecs_run_task.verdict import outcome
from ecs_run_task.verdict.outcome import Outcome

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
            return self.answer(run, final.tasks)
        if not isinstance(final, DeadlinePassed):
            raise AssertionError("the watch ended without a final event")
        lost_since = watch.lost_since
        stopped = self.stop_and_drain(
            run, f"timeout of {run.spec.timeout:g}s passed", min(run.spec.log_drain, TIMEOUT_DRAIN)
        )
        try:
            watch.poll()  # the stop code and reason for the outputs
            lost_since = None  # in contact again: the task is seen as it is
        except Transient:
            pass
        if lost_since is not None:  # AWS did not answer to the end: whether the task finished meanwhile is not known
            why = (f"timed out after {run.spec.timeout:g}s without contact with AWS for the last "
                   f"{s.clock() - lost_since:.0f}s")  # fmt: skip
            return self.with_log_gaps(run, outcome.lost(watch.tasks(), why, stopped=stopped))
        return self.with_log_gaps(run, outcome.interrupted(watch.tasks(), None, run.spec.timeout, stopped=stopped))

    def answer(self, run: Run, tasks: Sequence[dict[str, Any]]) -> Outcome:
        """The outcome of decided tasks: the verdict, a start of fewer tasks than asked for, the log's gaps."""
        verdict = outcome.judge(tasks, run.deciders)
        return self.with_log_gaps(run, run.too_few if run.too_few and verdict.ok else verdict)

    def follow_existing(self, run: Run, task: dict[str, Any]) -> Outcome:
        """Follow a task we did not start (`attach`, or the one that went first): its logs from the beginning,
        its outcome, stopped on timeout or cancel like one of ours."""
        if task.get("taskDefinitionArn") != run.task_definition_arn:  # the race's first may run another revision
            run.decide_by(self.session.ecs.describe_task_definition(str(task["taskDefinitionArn"])))
        run.request = {}  # not ours to start again, whatever its fate
        self.session.renderer.info(f"following {starts.described(task)}")
        self.session.track(run, [task], ours=False)
        return self.follow(run)

    def first_of_group(self, run: Run, tasks: list[dict[str, Any]]) -> dict[str, Any] | None:
        """Close the race: two runs that started at the same moment each look again right after RunTask; the
        task created first goes on, ours are stopped before their containers start and no longer followed.
        The first task, if it is not ours; RunError if ours could not be stopped."""
        s = self.session
        ours = [str(t["taskArn"]) for t in tasks]
        others = s.starter.running_of_group(run.spec.cluster, str(run.task_definition["family"]), run.group,
                                            run.started)  # fmt: skip
        first = next(iter(starts.older(others, starts.in_order(tasks)[0])), None)
        if first is None:
            return None
        who = f"{starts.described(first)} of group {run.group} started first"
        if not s.stop(run, who, only=ours):
            raise RunError(f"{who}, and ours could not be stopped: two tasks of the group may run")
        assert run.watch is not None  # noqa: S101 - `Session.track` made it
        run.watch.forget(ours)
        return first

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
                        f"{words.flag('log-drain')} ({run.spec.log_drain:g}s) ran out; the full log: {link}")  # fmt: skip
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
        assert watch is not None  # noqa: S101 - a decided task is followed
        arn = str(task["taskArn"])
        if event.rest_running:
            exited = " and ".join(run.deciders) or "the deciding container"
            if s.stop(run, f"container {exited} exited", only=[arn]):
                watch.hold(task)
        hint = starts.transient_start_failure(task, run.deciders, ran=arn in watch.ran)
        if hint is None or not run.request:
            return
        why = outcome.judge_task(task, run.deciders).message.split(": ", 1)[-1]
        run.restarting = True  # until the new start is made, a signal or error is not this failure's answer
        started: list[dict[str, Any]] = []
        if s.starter.retry_pause(run.attempts, f"task {task_id(arn)} never ran ({why})", run.deadline):
            request = {**run.request, "count": 1, "clientToken": uuid.uuid4().hex}
            started, _refused = s.starter.run_task(request, run.attempts, lambda t: s.track(run, t), run.deadline)
        run.restarting = False
        first = self.first_of_group(run, started) if started and run.spec.if_running != "start" else None
        if first is not None:  # another run started one meanwhile: never two at once, whatever the mode
            s.renderer.warning(f"started again, but {starts.described(first)} of group {run.group} started first: "
                               f"ours was stopped, and the failed start stands ({words.setting('if-running', run.spec.if_running)})")  # fmt: skip
        elif started:  # the new start is followed instead of the failed one
            watch.forget([arn])
            s.follow_logs(run)
