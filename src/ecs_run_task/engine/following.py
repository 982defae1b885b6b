"""Following one run's tasks to their answer. The `Follower` owns the run's watch and, once RunTask is called, the
run's record (before, the `Runner` sets up the request and records a start of fewer tasks than asked for): it hears of
every task started (`Started`), shows the watch's events, acts on decided tasks (a task that never ran started again, the
rest of a task stopped), looks at the group at every poll while the lock needs it, stops the run's own tasks at the
timeout (never one it follows but did not start), and never loses a log line silently."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from ecs_run_task import signal_budget, words
from ecs_run_task.arns import task_id
from ecs_run_task.aws import console
from ecs_run_task.diagnostics import log
from ecs_run_task.engine import group, logs, retries
from ecs_run_task.engine.cancel import Cancelled
from ecs_run_task.engine.events import AllDecided, Contact, DeadlinePassed, Decided, Event, Notice, Progress, Seen
from ecs_run_task.engine.group import Lock, Lost
from ecs_run_task.engine.ports import Tasks
from ecs_run_task.engine.session import Run, Session
from ecs_run_task.engine.watch import REFUSED_MORE, Watch
from ecs_run_task.errors import RunError, Transient
from ecs_run_task.exit_codes import signal_exit
from ecs_run_task.tracebacks import print_traceback
from ecs_run_task.verdict import outcome
from ecs_run_task.verdict.outcome import Outcome

TIMEOUT_DRAIN = 5.0  # seconds of log reading, at most, once the tasks are stopped at the timeout


@dataclass
class Follower:
    session: Session
    run: Run
    lock: Lock | None = None  # `if-running` other than `start`: looks at the group while ours have not run
    watch: Watch | None = None  # made when the first task is started or followed
    notes: list[str] = field(default_factory=list)  # containers whose lines cannot be streamed, and why
    render_failed: bool = False

    def started(self, tasks: Tasks, *, ours: bool = True) -> None:
        """Tasks RunTask just started (`ours`), or one we follow and did not start: recorded at once and shown.
        Ours go to the post step, which stops them if this step is killed (`wait: false` leaves them running); a
        task we did not start is never stopped, nor handed to the post step."""
        if not tasks:
            return
        run, shown = self.run, self.session.renderer
        if ours:
            run.started(tasks)
            if self.lock is not None:
                self.lock.ours_started()
        if self.watch is None:
            self.watch = self._watch(tasks)
        else:
            self.watch.track(tasks)
            self._follow_logs()
        shown.started(tasks, run.task_definition_arn, ours=ours)
        if ours and run.spec.wait:
            shown.save_state({"task-arns": json.dumps(run.ours), "cluster": run.spec.cluster,
                              "region": self.session.region})  # fmt: skip

    def _watch(self, tasks: Tasks) -> Watch:
        """The loop for these tasks; nothing is called yet (log clients are made on the first read)."""
        s, run = self.session, self.run
        arns = [str(t["taskArn"]) for t in tasks]
        sources, self.notes = logs.sources(run.task_definition, arns)
        tailer = logs.Tailer.of(sources, s.logs_for, clock=s.clock) if run.spec.logs and sources else None
        watch = Watch(ecs=s.ecs, cluster=run.spec.cluster, arns=arns, deciders=run.deciders,
                      poll_interval=run.spec.poll_interval, deadline=run.deadline, cancel=s.cancel, tailer=tailer,
                      log_drain=run.spec.log_drain, clock=s.clock, wall=s.wall, jitter=s.jitter)  # fmt: skip
        watch.track(tasks)
        return watch

    def _follow_logs(self) -> None:
        """The log streams of the tasks followed now (after a task was started again, or another followed)."""
        if self.watch and self.watch.tailer:
            self.watch.tailer.follow(logs.sources(self.run.task_definition, list(self.watch.arns))[0])

    def _decide_by(self, task_definition: dict[str, Any]) -> None:
        self.run.decide_by(task_definition)
        if self.watch is not None:
            self.watch.decide_by(self.run.deciders)

    def tasks(self) -> Tasks:
        """The followed tasks' last descriptions; [] before any was started or followed."""
        return self.watch.tasks() if self.watch else []

    def following(self) -> bool:
        """Some task was started or followed: from then on a run's end names it."""
        return self.watch is not None

    def answer_known(self) -> bool:
        """Every task followed is decided, and none is being started again."""
        return self.watch is not None and self.watch.all_decided() and not self.run.restarting

    def follow(self) -> Outcome | Lost:
        """Wait for the tasks' answer, showing status and log lines; stop ours at the timeout. `Lost` when the lock
        found another task of the group older than ours, and ours ended without having run (no longer followed)."""
        s, run, watch = self.session, self.run, self.watch
        assert watch is not None  # noqa: S101 - `started` made it
        s.cancel.check()  # a signal that came during RunTask
        for note in self.notes if run.spec.logs else []:
            s.renderer.info(note)
        if watch.tailer:  # so a long task can be followed in the console
            s.renderer.info(f"logs: {self.link(watch.arns[0], run.deciders[0] if run.deciders else None)}")
        what = "the task" if len(watch.arns) == 1 else f"{len(watch.arns)} tasks"
        s.renderer.begin(f"Waiting for {what}: status{' and logs' if watch.tailer else ''}", live=True)
        final = self.play(watch.events(s.clock()))
        if isinstance(final, Lost):
            return self._lost(final)
        if isinstance(final, AllDecided) and run.lost_to is not None and not self._ran(final.tasks):
            watch.forget(list(run.ours))  # stopped before they ran: no longer this run's to name
            first = run.lost_before_running()
            assert first is not None  # noqa: S101 - lost_to, just checked
            return self._lost(Lost(first))
        if isinstance(final, AllDecided):
            for source in watch.tailer.never_found(final.tasks) if watch.tailer else []:
                s.renderer.warning(f"container {source.container}: its log stream {source.stream} never appeared "
                                   f"in {source.group}; check awslogs-group, awslogs-stream-prefix and "
                                   "awslogs-region, and that the execution role may logs:CreateLogStream")  # fmt: skip
            return self.answer(final.tasks)
        if not isinstance(final, DeadlinePassed):
            raise AssertionError("the watch ended without a final event")
        return self._timed_out(watch)

    def _timed_out(self, watch: Watch) -> Outcome:
        run, s = self.run, self.session
        lost_since = watch.lost_since
        stopped = self.stop_and_drain(
            f"timeout of {run.spec.timeout:g}s passed", min(run.spec.log_drain, TIMEOUT_DRAIN)
        )
        try:
            watch.poll()  # the stop code and reason for the outputs
            lost_since = None  # in contact again: the task is seen as it is
        except Transient:
            pass
        if lost_since is not None:  # AWS did not answer to the end: whether the task finished meanwhile is not known
            why = (f"timed out after {run.spec.timeout:g}s without contact with AWS for the last "
                   f"{s.clock() - lost_since:.0f}s")  # fmt: skip
            return self.with_log_gaps(outcome.lost(watch.tasks(), why, stopped=stopped, left=self.left_running()))
        return self.with_log_gaps(outcome.interrupted(watch.tasks(), None, run.spec.timeout, stopped=stopped,
                                                      left=self.left_running()))  # fmt: skip

    def not_waiting(self, tasks: Tasks) -> Outcome | Lost:
        """`wait: false`: the tasks were accepted; with a lock, one whole look at the group first (no poll follows).
        Ours, if they lost, are waited for until they stop: if one had started its containers, the run is
        `interrupted` and nothing is started again."""
        if self.lock is not None:
            first = self.lock.look_whole(tasks, self.run.ours)
            if first is not None:
                self._stop_ours_for(first, tasks)
                # not followed, but waited for: its end, not the look, says whether it started its containers
                ended = self.lock.until_stopped(tasks, f"waiting for {{task}}, ours, to stop after "
                                                       f"{self.lock.went_first(first)}")  # fmt: skip
                if self._ran(ended):  # named by the outputs: it ran, and is judged as a followed loser is
                    if self.watch is not None:
                        self.watch.track(ended)
                    self.run.lost_race(first)
                    return self.answer(ended)
                if self.watch is not None:
                    self.watch.forget([str(t["taskArn"]) for t in tasks])
                return self._lost(Lost(first))
        self.session.cancel.check()
        return self.run.too_few or outcome.started(tasks)

    def _lost(self, lost: Lost) -> Outcome | Lost:
        """Ours were stopped before they ran. After a start again, the failed start stands; else `if-running` says
        what comes next (`Runner.start`)."""
        replaced, watch = self.run.replaced, self.watch
        if replaced is None or self.lock is None or watch is None:
            return lost
        self.session.renderer.warning(self.lock.start_again_lost(lost.first))
        watch.track([replaced])  # named by the outputs again
        return self.answer([replaced])

    def answer(self, tasks: Sequence[dict[str, Any]]) -> Outcome:
        """The outcome of decided tasks: the verdict (ours stopped mid-run after losing the race: `interrupted`), a
        start of fewer tasks than asked for, the log's gaps."""
        run = self.run
        verdict = outcome.judge(tasks, run.deciders, run.stopped, outcome.essential_sidecars(run.task_definition,
                                                                                            run.deciders))  # fmt: skip
        if run.lost_to is not None and self.lock is not None:
            verdict = self.lock.lost_after_running(verdict, run.lost_to)
        return self.with_log_gaps(run.too_few if run.too_few and verdict.ok else verdict)

    def follow_existing(self, task: dict[str, Any]) -> Outcome:
        """Follow a task we did not start (`attach`, or the one that went first): its logs from the beginning, its
        outcome; never stopped by this run, not at the timeout, not on cancel, not by the post step."""
        if task.get("taskDefinitionArn") != self.run.task_definition_arn:  # the race's first may run another revision
            arn = str(task["taskDefinitionArn"])
            self._decide_by(self.session.cancel.call(lambda: self.session.ecs.describe_task_definition(arn)))
        self.run.nothing_to_start()
        self.session.renderer.info(f"following {group.described(task, self.session.now())}")
        self.started([task], ours=False)
        result = self.follow()
        assert isinstance(result, Outcome)  # noqa: S101 - the lock looks only while a task of ours is followed
        return result

    def cancelled(self, signal: Cancelled) -> Outcome:
        """A signal before the answer was known: ours stopped, then the lines still coming read for what is left of
        the signal budget."""
        run, s = self.run, self.session
        name = signal_exit(signal.signum)[1]
        stopped = self.stop(f"CI job cancelled ({name})")
        if self.watch:
            self.play(self.watch.drain(signal_budget.drain_left(s.cancel.since()), after_signal=True))
        result = outcome.interrupted(self.tasks(), signal.signum, run.spec.timeout, stopped=stopped,
                                     left=self.left_running())  # fmt: skip
        unseen = f"; RunTask's answer for another task never came, so {signal.unseen}" if signal.unseen else ""
        return replace(result, message=result.message + unseen)

    def left_running(self) -> str:
        """What a run says of the followed tasks it did not start, which it never stops; "" when it follows none."""
        theirs = [t for t in self.tasks() if str(t["taskArn"]) not in self.run.ours and not outcome.stopping(t)]
        if not theirs:
            return ""
        links = ", ".join(f"task {task_id(str(t['taskArn']))}: "
                          f"{console.task_url(self.session.region, self.run.spec.cluster, str(t['taskArn']))}"
                          for t in theirs)  # fmt: skip
        return f"this run did not start what it followed, so it left it running ({links})"

    def stop(self, why: str, only: Sequence[str] | None = None) -> bool:
        """StopTask for every task of ours (`only` those) that still runs and that ECS is not already stopping, all
        at once: together they must fit the signal budget. Never a task we follow but did not start. True when
        every one of them was stopped (or none needed it)."""
        from concurrent.futures import ThreadPoolExecutor  # noqa: PLC0415 - only when stopping

        watch, cluster = self.watch, self.run.spec.cluster
        known = watch.described if watch else (lambda arn: {"taskArn": arn})
        running = [a for a in self.run.ours if not outcome.stopping(known(a)) and (only is None or a in only)]
        if not running:
            return True
        reason = f"Stopped by ecs-run-task: {why}"[:255]  # as ECS records it (see `Ecs.stop_task`)
        self.run.stopping(running, reason)  # asked for: a lost answer may still have stopped it

        def stop_one(arn: str) -> str | None:
            try:
                self.session.ecs.stop_task(cluster, arn, reason)
            except RunError as e:
                return e.message
            return None

        with ThreadPoolExecutor(max_workers=len(running)) as pool:
            failures = list(pool.map(stop_one, running))
        shown = self.session.renderer
        for arn, failure in zip(running, failures, strict=True):  # rendered here: renderers are not thread-safe
            if failure is None:
                shown.info(f"stopped task {task_id(arn)}: {why}")
                if watch:
                    watch.stopping(arn)
            else:  # say loudly which one may still run
                shown.warning(f"could not stop task {arn}: {failure}; it may still be running: "
                              f"{console.task_url(self.session.region, cluster, arn)}")  # fmt: skip
        return all(failure is None for failure in failures)

    def none_of_ours_running(self) -> bool:
        known = self.watch.described if self.watch else (lambda arn: {"taskArn": arn})
        return all(outcome.stopping(known(a)) for a in self.run.ours)

    def stop_and_drain(self, why: str, drain: float, *, after_signal: bool = False) -> bool:
        """Stop what of ours still runs, then read the lines that are still coming for at most `drain` seconds. True
        when every task that needed it was stopped."""
        stopped = self.stop(why)
        if self.watch:
            self.play(self.watch.drain(drain, after_signal=after_signal))
        return stopped

    def with_log_gaps(self, result: Outcome) -> Outcome:
        """Never lose a line silently: a stream whose reads kept failing (a shared quota, an outage) until the
        drain ran out is named in the result, with the console link to its full log."""
        gaps = []
        watch = self.watch
        behind = watch.tailer.behind_streams() if watch and watch.tailer else []
        for cursor, why in watch.cut if watch else []:  # the drain ended with lines maybe still to come
            if cursor not in behind:
                link = logs.console_url(cursor.source, self.session.region)
                gaps.append(f"container {cursor.source.label or cursor.source.container}: the log shown may be "
                            f"incomplete: {why}; the full log: {link}")  # fmt: skip
        for cursor in behind:
            source = cursor.source
            link = logs.console_url(source, self.session.region)
            if cursor.refused:
                gaps.append(f"container {source.label or source.container}: its lines could not be shown "
                            f"({cursor.last_error}); the full log: {link}")  # fmt: skip
                continue
            why = (f"its last {cursor.failing} reads failed ({cursor.last_error})" if cursor.failing
                   else "it was still being read")  # fmt: skip
            gaps.append(f"container {source.label or source.container}: the log shown may be incomplete: {why} when "
                        f"reading ended ({words.flag('log-drain')} {self.run.spec.log_drain:g}s, and after the exit up to "
                        f"{REFUSED_MORE:g}s more while reads were refused); the full log: {link}")  # fmt: skip
        return replace(result, warnings=(*result.warnings, *gaps)) if gaps else result

    def link(self, task_arn: str | None, container: str | None) -> str:
        return self.session.link(self.run.task_definition, task_arn, container)

    def play(self, events: Iterator[Event]) -> Event | Lost | None:
        """Show progress and log lines, act on decided tasks, look at the group after each poll; return the final
        event, if any. Showing is never a reason to stop a task: what fails to render is reported once, and the
        run goes on."""
        shown = self.session.renderer
        for event in events:
            if isinstance(event, AllDecided | DeadlinePassed):
                return event
            if isinstance(event, Seen):
                lost = self._looked(event.tasks)
                if lost is not None:
                    return lost
                continue
            if isinstance(event, Decided):
                self.decided(event)
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

    def _looked(self, tasks: Tasks) -> Lost | None:
        """After a poll, with a lock: its look at the group. When another task of the group was created before ours,
        ours are stopped and followed to their end: if one ran, the verdict says it was stopped mid-run; if none did,
        the run goes on as `if-running` says (`follow`)."""
        run = self.run
        if self.lock is None:
            return None
        ours = [t for t in tasks if str(t["taskArn"]) in run.ours and not outcome.stopping(t)]
        lost = self.lock.after_poll(ours, run.ours, run.deciders)
        if lost is None:
            return None
        self._stop_ours_for(lost.first, ours)
        run.lost_race(lost.first)  # followed to their end: a task this look saw PENDING may start before the stop lands
        return None

    def _ran(self, tasks: Tasks) -> bool:
        """Whether a task of ours ran, as any poll saw it or as its end shows it (`startedAt`, an exit code)."""
        seen = self.watch.ran if self.watch else set()
        return any(str(t["taskArn"]) in seen or outcome.ran(t, self.run.deciders) for t in tasks
                   if str(t["taskArn"]) in self.run.ours)  # fmt: skip

    def _stop_ours_for(self, first: dict[str, Any], ours: Tasks) -> None:
        assert self.lock is not None  # noqa: S101 - only a lock finds one
        who = self.lock.went_first(first)
        if not self.stop(who, only=[str(t["taskArn"]) for t in ours]):
            raise RunError(f"{who}, and ours could not be stopped: two tasks of the group may run")

    def decided(self, event: Decided) -> None:
        """A task's answer is known. One that never ran, for a cause that may pass, is started again (within
        `start-retries` and the timeout); one of ours that ECS is not stopping (the deciding container is not
        essential and an essential one runs on) has the rest stopped: nothing else will."""
        s, run, task, watch = self.session, self.run, event.task, self.watch
        assert watch is not None  # noqa: S101 - a decided task is followed
        arn = str(task["taskArn"])
        if event.rest_running and arn in run.ours:
            exited = " and ".join(run.deciders) or "the deciding container"
            if self.stop(f"container {exited} exited", only=[arn]):
                watch.hold(task)
        hint = retries.transient_start_failure(task, run.deciders, ran=arn in watch.ran)
        if hint is None or not run.request:
            return
        why = outcome.judge_task(task, run.deciders).message.split(": ", 1)[-1]
        started: Tasks = []
        with run.starting_again():  # until the new start is made, a signal or error is not this failure's answer
            if s.starter.retry_pause(run.attempts, f"task {task_id(arn)} never ran ({why})", run.deadline):
                started, _refused = s.starter.start(run.next_request(count=1), run.attempts, self, run.deadline)
        if started:  # the new start is followed instead of the failed one, which stands if the new one loses a race
            run.replacing(task)
            watch.forget([arn])
            self._follow_logs()
