"""One run, start to end: resolve -> register -> RunTask -> follow (status and logs) -> outcome -> outputs.

The safety path is `Runner.guarded`: it is entered before RunTask, and `Session.track` records every task in
the statement that receives RunTask's answer. From then on, whatever happens (a timeout, a signal, AWS refusing
a call, a bug of ours), every task is stopped (unless its answer was known already) and the outputs still name
the tasks; where that cannot be done (StopTask refused, RunTask's answer lost for good) the run ends `unknown` and
says which task may run, and where. Ours, stopped because another of the group went first, leave the outputs to
the CLI: no task of ours ran."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from ecs_run_task import arns, words
from ecs_run_task.diagnostics import log
from ecs_run_task.engine import starts
from ecs_run_task.engine.cancel import Cancelled
from ecs_run_task.engine.following import SIGNAL_DRAIN, Follower
from ecs_run_task.engine.renderer import Context
from ecs_run_task.engine.session import Result, Run, Session
from ecs_run_task.errors import RunError
from ecs_run_task.exit_codes import CANNOT_RUN, SUCCESS, signal_exit
from ecs_run_task.inputs import parse
from ecs_run_task.plan.resolve import Resolved, checked_request, resolve
from ecs_run_task.status import Status
from ecs_run_task.tracebacks import print_traceback
from ecs_run_task.verdict import outcome, outputs
from ecs_run_task.verdict.outcome import Outcome
from ecs_run_task.verdict.outputs import masked

__all__ = ["Result", "Runner"]


@dataclass
class Runner:
    session: Session
    started_by: str

    def __post_init__(self) -> None:
        self.follower = Follower(self.session)
        self.renderer = self.session.renderer

    def run(self) -> Result:
        s = self.session
        self.renderer.begin("Starting task", live=True)  # open: it holds the task's ID and log link
        timeout = s.spec.timeout
        self.renderer.info(f"timeout: {parse.shown(timeout)}, then the task is stopped" if timeout else "timeout: none")
        if s.spec.attach:
            return self.attach(s.spec.attach)
        with s.cancel.interruptible():  # nothing started yet: a signal may cut this short
            resolved = resolve(s.spec, s.ecs)
            request = checked_request(resolved, started_by=self.started_by, client_token=uuid.uuid4().hex)
        if resolved.register is not None:
            s.ecs.validate("RegisterTaskDefinition", resolved.register)
        s.ecs.validate("RunTask", request)
        if resolved.spec.dry_run:
            return self.dry_run(resolved, request)
        if resolved.spec.if_running != "start":
            running = self.one_at_a_time(resolved)
            if running is not None:
                return running
        run = self.register(resolved, request)
        return self.finish(run, self.guarded(run, lambda: self.start(run) or self.follower.follow(run)))

    def dry_run(self, resolved: Resolved, request: dict[str, Any]) -> Result:
        requests = {"RegisterTaskDefinition": resolved.register} if resolved.register else {}
        self.renderer.begin("Dry run: the requests a real run sends", live=True)
        self.renderer.dry_run(masked({**requests, "RunTask": request}))
        result = Outcome.without_task(Status.DRY_RUN, SUCCESS, "dry run: nothing was registered or started")
        values = outputs.build(result, [], resolved.task_definition_arn)
        self.renderer.end()
        self.renderer.result(result, values, None)
        return Result(result, values)

    def register(self, resolved: Resolved, request: dict[str, Any]) -> Run:
        """The revision to run: registered only now, after every check, so bad input registers nothing."""
        task_definition = resolved.task_definition
        if resolved.register is not None:
            task_definition = self.session.ecs.register_task_definition(resolved.register)
            request = {**request, "taskDefinition": task_definition["taskDefinitionArn"]}
            self.renderer.info(f"registered {arns.revision(str(task_definition['taskDefinitionArn']))}")
        return self.session.new_run(resolved.spec, task_definition, request)

    def guarded(self, run: Run, go: Callable[[], Outcome]) -> Outcome:
        """Start, then follow the tasks. Whatever happens once a task exists, none is left running."""
        try:
            return go()
        except Cancelled as c:
            if not run.started:
                raise  # nothing started: the CLI reports it
            name = signal_exit(c.signum)[1]
            if self.answer_known(run):  # the signal only cuts the drain short
                verdict = self.follower.answer(run, run.tasks())
                return replace(verdict, message=f"{verdict.message}; {name} cut the log drain short")
            stopped = self.follower.stop_and_drain(run, f"CI job cancelled ({name})", SIGNAL_DRAIN, after_signal=True)
            cancelled = outcome.interrupted(run.tasks(), c.signum, run.spec.timeout, stopped=stopped)
            unseen = f"; RunTask's answer for another task never came, so {c.unseen}" if c.unseen else ""
            return replace(cancelled, message=cancelled.message + unseen)
        except RunError as e:  # e.g. DescribeTasks denied: we cannot follow the task, so it must not run on
            if not run.started or (run.watch is not None and not run.watch.arns):
                raise  # nothing started, or ours lost the race and were stopped: the CLI reports it as it stands
            if self.answer_known(run):  # e.g. credentials that expired during the drain
                verdict = self.follower.answer(run, run.tasks())
                return replace(verdict, warnings=(*verdict.warnings, f"after the answer was known: {e.message}"))
            stopped = self.session.stop(run, f"could not follow the task: {e.message}")
            return outcome.lost(run.tasks(), e.message, stopped=stopped, hint=e.hint)
        except Exception as e:  # a bug of ours: the task must not run on, and the outputs still name it
            if not run.started:
                raise
            stopped = self.session.stop(run, f"ecs-run-task failed: {type(e).__name__}")
            print_traceback()
            return outcome.lost(run.tasks(), f"ecs-run-task failed unexpectedly: {type(e).__name__}: {e} "
                                "(the traceback is above)", stopped=stopped)  # fmt: skip
        except BaseException as e:  # e.g. KeyboardInterrupt outside our handler: stop, then let it go
            self.session.stop(run, f"ecs-run-task failed: {type(e).__name__}")
            raise

    @staticmethod
    def answer_known(run: Run) -> bool:
        """Every task followed is decided, and none is being started again."""
        return run.watch is not None and run.watch.all_decided() and not run.restarting

    def start(self, run: Run) -> Outcome | None:
        """RunTask (again after a transient refusal); an outcome when nothing is left to follow."""
        s = self.session
        log.debug("run_task", request=masked(run.request))  # environment values may be secrets
        s.cancel.check()  # a signal during the calls above: start nothing (RunTask itself is not interrupted)
        while True:
            tasks, refused = s.starter.run_task(run.request, run.attempts, lambda t: s.track(run, t), run.deadline)
            if not tasks:
                return outcome.run_failures(refused, attempts=run.attempts.used + 1)
            first = self.follower.first_of_group(run, tasks) if run.spec.if_running != "start" else None
            if first is None:
                break
            lost = self.lost_race(run, first)
            if lost is not None:
                return lost
            run.request = {**run.request, "clientToken": uuid.uuid4().hex}  # waited for the first: start again
        if refused:
            run.too_few = outcome.run_failures(refused, len(tasks))
            self.renderer.warning(run.too_few.message)
        if not run.spec.wait:
            s.cancel.check()
            return run.too_few or outcome.started(tasks)
        return None

    def lost_race(self, run: Run, first: dict[str, Any]) -> Outcome | None:
        """Ours were stopped because `first` of the group started before them: what `if-running` does then.
        None: the first has stopped since (`wait`), start again."""
        s = self.session
        who = f"{starts.described(first)} of group {run.group} started first"
        if run.spec.if_running == "fail":
            return Outcome.without_task(Status.FAILED_TO_START, CANNOT_RUN,
                                        f"{who} ({words.setting('if-running', 'fail')}); ours was stopped before its "
                                        "containers started")  # fmt: skip
        if run.spec.if_running == "attach":
            return self.follower.follow_existing(run, first)
        s.starter.wait_for([first], cluster=run.spec.cluster, group=run.group, poll=run.spec.poll_interval,
                           deadline=run.deadline, timeout=run.spec.timeout)  # fmt: skip
        return None

    def one_at_a_time(self, resolved: Resolved) -> Result | None:
        """Before starting: the tasks of the same group that run already, and what `if-running` does then."""
        s, spec, family = self.session, resolved.spec, str(resolved.task_definition.get("family", ""))
        group = starts.group_of(spec.group, family)
        others = s.starter.running_of_group(spec.cluster, family, group)
        if not others:
            return None
        named = "; ".join(starts.described(t) for t in others)
        if spec.if_running == "fail":
            raise RunError(f"{words.setting('if-running', 'fail')}: group {group} has a task running in cluster {spec.cluster}: {named}; "
                           "nothing was started")  # fmt: skip
        if spec.if_running == "wait":
            s.starter.wait_for(others, cluster=spec.cluster, group=group, poll=spec.poll_interval,
                               deadline=s.deadline, timeout=spec.timeout)  # fmt: skip
            return None
        if len(others) > 1:
            self.renderer.info(f"{len(others)} tasks of group {group} run ({named}); following the oldest")
        run = s.new_run(spec, s.ecs.describe_task_definition(str(others[0]["taskDefinitionArn"])))
        return self.finish(run, self.guarded(run, lambda: self.follower.follow_existing(run, others[0])))

    def attach(self, ref: str) -> Result:
        """Follow a task that runs already, as if we had started it (`attach`)."""
        s = self.session
        with s.cancel.interruptible():
            found, _missing = s.ecs.describe_tasks(s.spec.cluster, [ref])
        if not found:
            raise RunError(f"{words.flag('attach')}: task {ref!r} was not found in cluster {s.spec.cluster!r} "
                           f"({s.clients.region}); check {words.flag('attach')}, {words.flag('cluster')} and "
                           f"{words.flag('region')} (ECS forgets a stopped task "
                           "about an hour after it stopped)")  # fmt: skip
        task = found[0]
        run = s.new_run(s.spec, s.ecs.describe_task_definition(str(task["taskDefinitionArn"])))
        return self.finish(run, self.guarded(run, lambda: self.follower.follow_existing(run, task)))

    def finish(self, run: Run, result: Outcome) -> Result:
        tasks = run.tasks()
        link = self.session.link(run, (result.task or {}).get("taskArn"), result.container)
        values = outputs.build(result, tasks, run.task_definition_arn, link)
        known = run.watch.latest if run.watch else {}
        if run.spec.wait and run.started and all(outcome.stopping(known.get(a, {})) for a in run.started):
            self.renderer.save_state({"task-arns": "[]"})  # nothing left for the post step to stop
        self.renderer.end()
        self.renderer.result(result, values, Context(run.spec.cluster, self.session.clients.region, tasks,
                                                     run.attempts.said, run.deciders))  # fmt: skip
        return Result(result, values)
