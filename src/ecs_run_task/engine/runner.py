"""One run, top-down: plan (resolve, the request, checked) -> the group's look (`if-running`) -> register -> RunTask
-> follow (status and logs) -> outcome -> outputs. Each step hands its value to the next.

The safety path is `Runner.guarded`: it is entered before RunTask, and the follower records every task in the
statement that receives RunTask's answer (`Started`). From then on, whatever happens (a timeout, a signal, AWS
refusing a call, a bug of ours), every task of ours is stopped (unless its answer was known already) and the outputs
still name the tasks; where that cannot be done (StopTask refused, RunTask's answer lost for good) the run ends
`unknown` and says which task may run, and where. A task the run follows but did not start is never stopped. Ours,
stopped because another of the group went first, leave the outputs to the CLI: no task of ours ran. Before RunTask
a failure is the CLI's to report (`cli.main`), or the deployment gate's (`gate.Gate.before_task`, which answers the
hook first), both through `before_task.outcome`: the places a run ends on an error."""

from __future__ import annotations

import sys
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, cast

from ecs_run_task import arns, words
from ecs_run_task.diagnostics import log
from ecs_run_task.engine import group
from ecs_run_task.engine.cancel import Cancelled
from ecs_run_task.engine.following import Follower
from ecs_run_task.engine.renderer import Context
from ecs_run_task.engine.session import Result, Run, Session
from ecs_run_task.errors import RunError, Transient
from ecs_run_task.exit_codes import SUCCESS, signal_exit
from ecs_run_task.inputs import parse, taskdef
from ecs_run_task.inputs.spec import Spec
from ecs_run_task.plan import preflight
from ecs_run_task.plan.request import target_container
from ecs_run_task.plan.resolve import Resolved, checked_request, resolve
from ecs_run_task.printable import encodable, inert
from ecs_run_task.status import Status
from ecs_run_task.tracebacks import print_traceback, unexpected
from ecs_run_task.verdict import outcome, outputs
from ecs_run_task.verdict.outcome import Outcome
from ecs_run_task.verdict.outputs import masked

if TYPE_CHECKING:
    from ecs_run_task.aws.clients import Ecs


@dataclass
class Runner:
    session: Session
    started_by: str

    def __post_init__(self) -> None:
        self.renderer = self.session.renderer

    def run(self) -> Result:
        s = self.session
        self.renderer.begin("Starting task", live=True)  # open: it holds the task's ID and log link
        if s.spec.attach:
            return self.attach(s.spec.attach)
        resolved, request = self.plan()
        # read-only: what the run needs, as far as AWS lets us read it (plan/preflight); a signal cuts it short
        checks = s.cancel.call(lambda: preflight.check(resolved, request, s.clients, thorough=resolved.spec.dry_run))
        if resolved.spec.dry_run:
            return self.dry_run(resolved, request, checks)
        checks.raise_failed()
        self.say_timeout()
        lock = self.lock(resolved)
        if lock is not None:
            other = lock.before_start()
            if other is not None:  # if-running: attach
                return self.follow_other(resolved.spec, other)
        run = self.register(resolved, request)
        follower = Follower(s, run, lock)
        return self.finish(follower, self.guarded(follower, lambda: self.start(follower)))

    def plan(self) -> tuple[Resolved, dict[str, Any]]:
        """What to run, checked as botocore checks it, before anything is registered or started."""
        s = self.session
        # nothing started yet: a signal cuts it short
        resolved = s.cancel.call(lambda: resolve(s.spec, cast("Ecs", s.ecs)))
        request = checked_request(resolved, started_by=self.started_by, client_token=uuid.uuid4().hex)
        if resolved.register is not None:
            s.ecs.validate("RegisterTaskDefinition", resolved.register)
        s.ecs.validate("RunTask", request)
        self.caution(resolved.spec, resolved.task_definition)
        return resolved, request

    def caution(self, spec: Spec, task_definition: dict[str, Any]) -> None:
        """Said once, before the task starts: what in its deciding containers may make the answer or the log
        wrong (a restartPolicy, awslogs in non-blocking mode), with the fix."""
        deciders = outcome.deciding_containers(task_definition, target_container(spec, task_definition))
        for caution in taskdef.cautions(task_definition, deciders, logs=spec.logs):
            self.renderer.warning(caution)

    def say_timeout(self) -> None:
        """Once a task is about to start (or be followed): when it will be stopped (with `wait: false` nothing
        waits, so nothing is said)."""
        timeout = self.session.spec.timeout
        if not self.session.spec.wait:
            return
        self.renderer.info(f"timeout: {parse.shown(timeout)}, then the task is stopped" if timeout else "timeout: none")

    def dry_run(self, resolved: Resolved, request: dict[str, Any], checks: preflight.Report) -> Result:
        requests = {"RegisterTaskDefinition": resolved.register} if resolved.register else {}
        self.renderer.begin("Dry run: the requests a real run sends", live=True)
        self.renderer.dry_run(masked({**requests, "RunTask": request}))
        self.renderer.begin("Dry run: what the run needs, checked read-only", live=True)
        for line in checks.lines():
            self.renderer.info(line)
        checks.raise_failed()
        result = Outcome.without_task(Status.DRY_RUN, SUCCESS, "dry run: nothing was registered or started")
        values = outputs.build(result, [], resolved.task_definition_arn)
        self.renderer.end()
        self.renderer.result(result, values, None)
        return Result(result, values)

    def lock(self, resolved: Resolved) -> group.Lock | None:
        """The group lock, for `if-running` other than `start` (which asks nothing more of ECS)."""
        s, spec = self.session, resolved.spec
        if spec.if_running == "start":
            return None
        name = group.group_of(spec.group, str(resolved.task_definition.get("family", "")))
        return group.Lock(s.ecs, s.asker, spec.cluster, name, spec.if_running, spec.poll_interval, spec.timeout,
                          s.deadline, s.wall)  # fmt: skip

    def register(self, resolved: Resolved, request: dict[str, Any]) -> Run:
        """The revision to run: registered only now, after every check, so bad input registers nothing."""
        task_definition = resolved.task_definition
        if resolved.register is not None:
            task_definition = self.session.ecs.register_task_definition(resolved.register)
            request = {**request, "taskDefinition": task_definition["taskDefinitionArn"]}
            self.renderer.info(f"registered {arns.revision(str(task_definition['taskDefinitionArn']))}")
        return self.session.new_run(resolved.spec, task_definition, request)

    def start(self, follower: Follower) -> Outcome:
        """RunTask (again after a transient refusal), then follow the tasks to their answer; when another task of
        the group went first, what `if-running` says."""
        s, run = self.session, follower.run
        log.debug("run_task", request=masked(run.request))  # environment values may be secrets
        s.cancel.check()  # a signal during the calls above: start nothing (RunTask itself is not interrupted)
        while True:
            tasks, refused = s.starter.start(run.request, run.attempts, follower, run.deadline)
            if not tasks:
                return outcome.run_failures(refused, attempts=run.attempts.used + 1)
            if refused:
                fewer = outcome.run_failures(refused, len(tasks))
                run.placed_fewer(fewer)
                self.renderer.warning(fewer.message)
            result = follower.follow() if run.spec.wait else follower.not_waiting(tasks)
            if not isinstance(result, group.Lost):
                return result
            assert follower.lock is not None  # noqa: S101 - only a lock loses a race
            after = follower.lock.after_losing(result.first)
            if isinstance(after, Outcome):
                return after
            if isinstance(after, group.Follow):
                return follower.follow_existing(after.task)
            run.next_request()  # waited for the first to stop: start again

    def attach(self, ref: str) -> Result:
        """Follow a task that runs already (`attach`)."""
        s = self.session

        def described() -> dict[str, Any]:
            found, _missing = s.cancel.call(lambda: s.ecs.describe_tasks(s.spec.cluster, [ref]))
            if not found:  # MISSING: not known yet (a task just started), or not there at all
                raise Transient(f"DescribeTasks does not describe task {ref!r} (MISSING)")
            return found[0]

        def not_found(e: Transient, tries: int) -> RunError:
            return RunError(f"{words.flag('attach')}: task {ref!r} was not found in cluster {s.spec.cluster!r} "
                            f"({s.region}) after {tries} tries ({e.message}); check {words.flag('attach')}, "
                            f"{words.flag('cluster')} and {words.flag('region')} (ECS forgets a stopped task "
                            "about an hour after it stopped)")  # fmt: skip

        task = s.asker.ask(described, not_found, deadline=s.deadline)
        self.say_timeout()
        return self.follow_other(s.spec, task)

    def follow_other(self, spec: Spec, task: dict[str, Any]) -> Result:
        """Follow a task this run did not start (`attach`, `if-running: attach`): never stopped by this run."""
        s = self.session
        run = s.new_run(spec, s.cancel.call(lambda: s.ecs.describe_task_definition(str(task["taskDefinitionArn"]))))
        self.caution(run.spec, run.task_definition)
        follower = Follower(s, run)
        return self.finish(follower, self.guarded(follower, lambda: follower.follow_existing(task)))

    def guarded(self, follower: Follower, go: Callable[[], Outcome]) -> Outcome:
        """Start, then follow the tasks. Whatever happens once a task exists, none of ours is left running."""
        try:
            return go()
        except Cancelled as c:
            if not follower.following():
                raise  # nothing started: the CLI reports it
            if follower.answer_known():  # the signal only cuts the drain short
                verdict = follower.answer(follower.tasks())
                return replace(
                    verdict, message=f"{verdict.message}; {signal_exit(c.signum)[1]} cut the log drain short"
                )
            return follower.cancelled(c)
        except RunError as e:  # e.g. DescribeTasks denied: we cannot follow the task, so it must not run on
            if not follower.following() or not follower.tasks():
                raise  # nothing started, or ours lost the race and were stopped: the CLI reports it as it stands
            if follower.answer_known():  # e.g. credentials that expired during the drain
                verdict = follower.answer(follower.tasks())
                return replace(verdict, warnings=(*verdict.warnings, f"after the answer was known: {e.message}"))
            stopped = follower.stop(f"could not follow the task: {e.message}")
            return outcome.lost(follower.tasks(), e.message, stopped=stopped, hint=e.hint,
                                left=follower.left_running())  # fmt: skip
        except Exception as e:  # a bug of ours: the task must not run on, and the outputs still name it
            if not follower.following():
                raise
            stopped = follower.stop(f"ecs-run-task failed: {type(e).__name__}")
            print_traceback()
            lost = outcome.lost(follower.tasks(), unexpected(e), stopped=stopped, left=follower.left_running())
            return replace(lost, bug=True)
        except BaseException as e:  # e.g. KeyboardInterrupt outside our handler: stop, then let it go
            follower.stop(f"ecs-run-task failed: {type(e).__name__}")
            raise

    @staticmethod
    def shown(result: Outcome, show: Callable[[], None]) -> None:
        """Showing the answer is never a reason to change it: a bug of ours in a renderer is said, and the exit
        status is still the task's (our own files failing are said by the renderer itself)."""
        try:
            show()
        except Exception as e:
            print_traceback()
            print(inert(encodable(f"ecs-run-task: error: the result could not be shown in full ({type(e).__name__}: "
                                  f"{e}); {result.message}")), file=sys.stderr)  # fmt: skip

    def finish(self, follower: Follower, result: Outcome) -> Result:
        run, tasks = follower.run, follower.tasks()
        container = result.container or (run.deciders[0] if run.deciders else None)  # the deciding one's stream
        link = follower.link((result.task or {}).get("taskArn"), container)
        values = outputs.build(result, tasks, run.task_definition_arn, link)
        context = Context(run.spec.cluster, self.session.region, tasks, run.attempts.said, run.deciders)
        if run.spec.wait and run.ours and follower.none_of_ours_running():
            nothing_left = {"task-arns": "[]"}  # nothing left for the post step to stop
            self.shown(result, lambda: self.renderer.save_state(nothing_left))
        self.shown(result, self.renderer.end)
        self.shown(result, lambda: self.renderer.result(result, values, context))
        return Result(result, values)
