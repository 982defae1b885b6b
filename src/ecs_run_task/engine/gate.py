"""gate-deployment: a run wrapped from the outside. Find the service's deployment in progress, wait until it pauses
at a PAUSE lifecycle hook, run the task as the deployment's new revision runs (the Runner, as any run: its guard,
its timeout, its signals), then answer the hook: CONTINUE when the task succeeded, ROLLBACK however else the run
ended (a failure, a start that failed, the timeout, a cancel, AWS refusing, a bug of ours).

The answer is sent when the Runner hands over its result (`Answering`, a renderer around the platform's), so it is
sent before the result is shown and the outputs are written, and the outputs carry it (`deployment-action`). What to
answer and what to say is plan/deployment.py's; this module makes the calls. One deadline, `timeout`, bounds the
whole run: the wait for the deployment, its hook, and the task."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import partial
from typing import Any, Protocol, TypeVar

from ecs_run_task import signal_budget, words
from ecs_run_task.aws.clients import Clients, Ecs
from ecs_run_task.engine import before_task
from ecs_run_task.engine.cancel import Cancellation, Cancelled
from ecs_run_task.engine.renderer import Context, Renderer, Wrapping
from ecs_run_task.engine.runner import Runner
from ecs_run_task.engine.session import Result, Session
from ecs_run_task.errors import AccessError, RunError, Transient
from ecs_run_task.exit_codes import CANNOT_RUN, signal_exit
from ecs_run_task.inputs import parse
from ecs_run_task.inputs.spec import Spec
from ecs_run_task.plan import deployment as gate
from ecs_run_task.status import Status
from ecs_run_task.tracebacks import print_traceback
from ecs_run_task.verdict import outputs
from ecs_run_task.verdict.outcome import Outcome

T = TypeVar("T")


class Settles(Protocol):
    def settle(self, outcome: Outcome, values: dict[str, str]) -> tuple[Outcome, dict[str, str]]:
        """The hook answered (if one awaits this run's answer), and the outcome and outputs saying what became of
        the deployment."""
        ...


class Answering(Wrapping):
    """The platform's renderer, but for the result: the gate settles it first (answers the hook, and tells the
    outcome and outputs what became of the deployment). What it settled is kept in `final`."""

    def __init__(self, inner: Renderer, gate: Settles) -> None:
        super().__init__(inner)
        self.gate = gate
        self.final: Result | None = None

    def result(self, outcome: Outcome, outputs: Mapping[str, str], context: Context | None = None) -> None:
        outcome, values = self.gate.settle(outcome, dict(outputs))
        self.final = Result(outcome, values)
        self.inner.result(outcome, values, context)


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Gate:
    spec: Spec
    clients: Clients
    renderer: Renderer
    cancel: Cancellation
    started_by: str
    clock: Callable[[], float] = time.monotonic
    now: Callable[[], datetime] = _utc_now
    shown: Answering = field(init=False)
    session: Session = field(init=False)
    lost: bool = field(default=False, init=False)  # the last read failed for a cause that may pass
    # the hook this run answers once its result is known: set at the pause, cleared once answered
    awaiting: gate.Paused | None = field(default=None, init=False)
    dry: bool = field(default=False, init=False)  # a dry run: it answers nothing, and says what a run would send

    def __post_init__(self) -> None:
        self.shown = Answering(self.renderer, self)
        self.session = Session(self.spec, self.clients, self.shown, self.cancel, self.clock)  # the deadline: now
        self.ecs = Ecs(self.clients)  # the deployment calls: the gate's own, beside the run's
        self.service = self.spec.service or ""

    def run(self) -> Result:
        spec = self.spec
        self.shown.begin(f"Waiting for service {self.service}'s deployment to pause", live=True)
        timeout = spec.timeout
        self.shown.info(f"timeout: {parse.shown(timeout)} for the whole run: the deployment's pause, then the task"
                        if timeout else "timeout: none")  # fmt: skip
        self.ecs.require(gate.OPERATIONS, words.flag("gate-deployment"))
        if spec.dry_run:
            return self.dry_run()
        arn: str | None = None
        try:
            arn = self.find()
            paused, described = self.wait_for_hook(arn)
        except (Cancelled, RunError):
            if arn is not None:
                self.shown.warning(gate.left_unanswered(arn, self.service))
            raise
        return self.gated(paused, described)

    # -- before the hook: read-only, and nothing to answer yet --------------------------------
    def find(self) -> str:
        """The ARN of the service's one deployment in progress, once there is one: the deploy may start it while
        this run already waits (a parallel job)."""
        said = False
        while True:
            briefs = self.read(lambda: self.ecs.list_service_deployments(self.spec.cluster, self.service,
                                                                         [gate.IN_PROGRESS]))  # fmt: skip
            arn = gate.the_one(briefs or [], self.service, self.spec.cluster)
            if arn is not None:
                return arn
            if not said and briefs is not None:  # None: a read that failed, said already
                said = True
                self.shown.info(f"no deployment of service {self.service} is in progress yet: waiting for one, "
                                f"every {parse.shown(self.spec.poll_interval)}")  # fmt: skip
            self.pause(gate.no_deployment(self.service, self.spec.cluster, self.spec.timeout or 0))

    def wait_for_hook(self, arn: str) -> tuple[gate.Paused, dict[str, Any]]:
        """Poll the deployment until one of its PAUSE hooks awaits action, saying each stage ECS reports."""
        stage: str | None = None
        named = False
        while True:
            deployment = self.read(lambda: self.ecs.describe_service_deployment(arn))
            if deployment is not None:  # None: not describable yet (or a read that failed): ask again
                if not named:
                    named = True
                    self.shown.info(gate.found(deployment, self.service))
                now_at = gate.stage_of(deployment)
                if now_at and now_at != stage:
                    stage = now_at
                    self.shown.info(f"deployment stage: {stage}")
                hooks = gate.hooks_awaiting(deployment)
                if hooks:
                    if len(hooks) > 1:
                        self.shown.warning(gate.several_awaiting(hooks))
                    return gate.Paused(
                        self.service, arn, hooks[0], stage, tuple(h.hook_id for h in hooks[1:])
                    ), deployment
                problem = gate.not_pausing(deployment, self.service)
                if problem:
                    raise RunError(f"{words.flag('gate-deployment')}: {problem}")
            self.pause(gate.no_pause(arn, self.service, self.spec.timeout or 0, stage))

    def read(self, call: Callable[[], T]) -> T | None:
        """A read call, interrupted by a signal; one that fails for a cause that may pass is said once and asked
        again at the next poll (None meanwhile)."""
        try:
            answer = self.cancel.call(call)
        except Transient as e:
            if not self.lost:
                self.lost = True
                self.shown.warning(f"{e.message}; asking again every {parse.shown(self.spec.poll_interval)}")
            return None
        if self.lost:
            self.lost = False
            self.shown.info("in contact with AWS again")
        return answer

    def pause(self, timed_out: RunError) -> None:
        """Sleep a poll interval, within the run's deadline; past it, raise `timed_out`."""
        deadline = self.session.deadline
        left = None if deadline is None else deadline - self.clock()
        if left is not None and left <= 0:
            raise timed_out
        self.cancel.sleep(self.spec.poll_interval if left is None else min(self.spec.poll_interval, left))

    # -- at the hook: every way out answers it ---------------------------------------------------
    def gated(self, paused: gate.Paused, deployment: dict[str, Any]) -> Result:
        self.shown.info(gate.paused_line(paused, self.now()))
        deadline = self.session.deadline
        warning = gate.expiry_warning(paused, self.now(), None if deadline is None else deadline - self.clock())
        if warning:
            self.shown.warning(warning)
        self.awaiting = paused
        # for the action's post step, should this step be killed before it answers: it rolls the deployment back
        self.shown.save_state({"deployment-arn": paused.deployment_arn, "hook-id": paused.hook.hook_id,
                               "region": self.clients.region})  # fmt: skip
        try:
            revision = self.revision(deployment)
            self.session.spec = replace(self.spec, revision=revision)
            result = Runner(self.session, self.started_by).run()
        except BaseException as e:
            if self.shown.final is not None:  # the hook was answered, the result shown: this came after
                raise
            result = self.before_task(e)
        return self.shown.final or result

    def revision(self, deployment: Mapping[str, Any]) -> dict[str, Any]:
        """The deployment's new (target) revision: what the task runs as."""
        target = str((deployment.get("targetServiceRevision") or {}).get("arn", ""))
        revision = self.cancel.call(lambda: self.ecs.describe_service_revision(target)) if target else None
        if revision is None:
            raise RunError(f"{words.flag('gate-deployment')}: the new revision of deployment {gate.short(paused_arn(deployment))} "
                           f"({target or 'not named'}) could not be described; nothing was run")  # fmt: skip
        self.shown.info(gate.revision_line(revision))
        return revision

    def before_task(self, e: BaseException) -> Result:
        """The run ended before any task of ours existed (nothing to stop): the hook is answered all the same,
        then the result is shown, as the CLI would show it."""
        if not isinstance(e, (Cancelled, Exception)):  # KeyboardInterrupt outside our handler, SystemExit: roll back
            self.shown.result(Outcome.without_task(Status.UNKNOWN, CANNOT_RUN, f"ecs-run-task ended: {type(e).__name__}"),
                              outputs.no_task(Status.UNKNOWN))  # fmt: skip
            raise e
        result = before_task.outcome(e)
        self.shown.result(result, outputs.no_task(result.status))
        assert self.shown.final is not None  # noqa: S101 - `Answering.result` sets it
        return self.shown.final

    def settle(self, outcome: Outcome, values: dict[str, str]) -> tuple[Outcome, dict[str, str]]:
        """`Settles`, for `Answering`: once only. Before the pause nothing awaits an answer; a dry run says what a
        run would send."""
        if self.dry:
            self.dry = False
            return gate.dry_run(outcome, self.awaiting, self.now()), values
        paused, self.awaiting = self.awaiting, None
        return (outcome, values) if paused is None else self.answer(paused, outcome, values)

    def answer(self, paused: gate.Paused, result: Outcome, values: dict[str, str]) -> tuple[Outcome, dict[str, str]]:
        """CONTINUE or ROLLBACK, sent; then the outcome and outputs say what became of the deployment."""
        signum = self.cancel.signum
        action = gate.action_for(result, signum)
        if action is None:  # a dry run's result: the dry run settles it
            return result, values
        try:
            sent = self.send(paused, action, quick=signum is not None)
            self.shown.save_state({"hook-id": ""})  # answered, or refused: nothing for the post step to do
            settled = gate.settle(result, paused, sent, self.now(), signum)
        except Exception as e:  # a bug of ours must not hide the task's result
            print_traceback()
            return replace(result, warnings=(*result.warnings, f"the deployment's answer could not be made out: "
                                             f"{type(e).__name__}: {e}")), values  # fmt: skip
        self.shown.begin("Answering the deployment's PAUSE hook", live=True)
        (self.shown.warning if settled.warning else self.shown.info)(settled.line)
        self.shown.end()
        told = settled.outcome
        if signum is None and self.cancel.signum is not None:  # it came while the answer was on its way: too late
            name = signal_exit(self.cancel.signum)[1]
            late = f"{name} came while {action} was being sent: the answer stands ({settled.action or 'not taken'})"
            told = replace(told, warnings=(*told.warnings, late))
        return told, {**values, **outputs.said(told), outputs.DEPLOYMENT_ACTION: settled.action}

    def send(self, paused: gate.Paused, action: str, *, quick: bool) -> gate.Answered:
        """ContinueServiceDeployment; when it fails, the deployment as ECS now describes it says whether the answer
        was taken all the same (lost on its way back) or, if not, the hook's status."""
        try:
            self.ecs.continue_service_deployment(paused.deployment_arn, paused.hook.hook_id, action, quick=quick)
        except RunError as e:
            described: dict[str, Any] = {}
            if not quick:  # a cancel's budget is for the answer
                with contextlib.suppress(RunError):  # the answer is sent: a signal now must not wait on this look
                    look = partial(self.ecs.describe_service_deployment, paused.deployment_arn)
                    seen = self.cancel.call(look, within=signal_budget.STOP_AT_WORST, cut=False)
                    described = seen or {}
            if gate.taken(described, paused.hook.hook_id, action):  # taken, its answer lost on the way back
                return gate.Answered(action, sent=True)
            return gate.Answered(action, sent=False, error=e.message, denied=isinstance(e, AccessError),
                                 hook_status=gate.hook_status(described, paused.hook.hook_id))  # fmt: skip
        return gate.Answered(action, sent=True)

    # -- a dry run: one look, no wait, no answer ----------------------------------------------------
    def dry_run(self) -> Result:
        call = self.cancel.call  # read-only, and a signal cuts it short
        briefs = call(lambda: self.ecs.list_service_deployments(self.spec.cluster, self.service, [gate.IN_PROGRESS]))
        arn = gate.the_one(briefs, self.service, self.spec.cluster)
        deployment = call(lambda: self.ecs.describe_service_deployment(arn)) if arn else None
        self.shown.info(gate.dry_run_found(deployment, self.service, self.spec.timeout))
        paused: gate.Paused | None = None
        if deployment is not None and arn is not None:
            hooks = gate.hooks_awaiting(deployment)
            if hooks:
                paused = gate.Paused(self.service, arn, hooks[0], gate.stage_of(deployment))
                self.shown.info(gate.paused_line(paused, self.now()))
            else:
                self.shown.info(gate.NO_HOOK_YET)
            self.session.spec = replace(self.spec, revision=self.revision(deployment))

        self.dry, self.awaiting = True, paused
        return Runner(self.session, self.started_by).run()


def paused_arn(deployment: Mapping[str, Any]) -> str:
    return str(deployment.get("serviceDeploymentArn", "?"))
