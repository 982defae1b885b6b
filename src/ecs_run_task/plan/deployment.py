"""gate-deployment's decisions and words, pure: which deployment, which PAUSE hook, which answer for which outcome,
and what is said to the person whose deploy it is. engine/gate.py makes the calls and passes their answers in as
plain data, with the time (`now`).

What ECS answers (DescribeServiceDeployments): a deployment's `lifecycleHookDetails` lists each hook reached, a
PAUSE one with `targetType` PAUSE, a `hookId`, a `status` (AWAITING_ACTION until answered or expired, then
SUCCEEDED, FAILED or TIMED_OUT), `expiresAt` and `timeoutAction`. The detail names no stage, and a rolling
deployment reports no `lifecycleStage`: the hook is found by its status, never by the stage."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from ecs_run_task import arns, words
from ecs_run_task.errors import Hint, RunError
from ecs_run_task.exit_codes import CANNOT_RUN, SUCCESS, TIMED_OUT, signal_exit
from ecs_run_task.inputs.parse import shown
from ecs_run_task.status import Status
from ecs_run_task.verdict.outcome import Outcome

CONTINUE, ROLLBACK = "CONTINUE", "ROLLBACK"
IN_PROGRESS, PENDING = "IN_PROGRESS", "PENDING"
PAUSE, AWAITING, EXPIRED = "PAUSE", "AWAITING_ACTION", "TIMED_OUT"
CONTINUED, ROLLED_BACK = "SUCCEEDED", "FAILED"  # a hook's status once answered CONTINUE, or ROLLBACK
IAM_ACTION = "ecs:ContinueServiceDeployment"
OPERATIONS = ("ListServiceDeployments", "DescribeServiceDeployments", "DescribeServiceRevisions",
              "ContinueServiceDeployment")  # fmt: skip
DEFAULT_TIMEOUT_ACTION = ROLLBACK  # a PAUSE hook's timeoutConfiguration.action when none is set


def short(arn: str) -> str:
    """A deployment's or a revision's ID: the last part of its ARN."""
    return arn.rsplit("/", 1)[-1]


def when(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def within(seconds: float) -> str:
    """How soon: `in 29m58s`, `in under a second`, `now` once passed."""
    if seconds <= 0:
        return "now"
    return "in under a second" if seconds < 1 else f"in {shown(seconds)}"


@dataclass(frozen=True)
class Hook:
    """A PAUSE hook reached by the deployment (a `lifecycleHookDetails` entry)."""

    hook_id: str
    status: str
    expires_at: datetime | None
    timeout_action: str  # what ECS does when it expires

    @classmethod
    def of(cls, detail: Mapping[str, Any]) -> Hook:
        expires = detail.get("expiresAt")
        return cls(str(detail.get("hookId", "")), str(detail.get("status", "")),
                   expires if isinstance(expires, datetime) else None,
                   str(detail.get("timeoutAction") or DEFAULT_TIMEOUT_ACTION))  # fmt: skip

    def left(self, now: datetime) -> float | None:
        """Seconds until it expires (negative once it has), None when ECS gave no `expiresAt`."""
        return None if self.expires_at is None else (self.expires_at - now).total_seconds()

    def expiry(self) -> str:
        return f"at {when(self.expires_at)}" if self.expires_at else "when its timeout passes"


@dataclass(frozen=True)
class Paused:
    """Where this run answers: the deployment, paused at `hook`."""

    service: str
    deployment_arn: str
    hook: Hook
    stage: str | None  # the deployment's lifecycleStage, when ECS reports one (not for a rolling deployment)
    others: tuple[str, ...] = ()  # other PAUSE hooks awaiting action at the same time: not this run's to answer

    @property
    def deployment(self) -> str:
        return short(self.deployment_arn)

    def by_hand(self, action: str) -> str:
        """The AWS CLI command that answers the hook, for the person left to do it."""
        return (f"aws ecs continue-service-deployment --service-deployment-arn {self.deployment_arn} "
                f"--hook-id {self.hook.hook_id} --action {action}")  # fmt: skip


# -- finding the deployment and its hook -------------------------------------------------


def the_one(briefs: Sequence[Mapping[str, Any]], service: str, cluster: str) -> str | None:
    """The ARN of the service's one deployment in progress; None when there is none (yet). Several: which one to
    gate is not clear, and guessing could continue the wrong one."""
    going = [b for b in briefs if b.get("status", IN_PROGRESS) == IN_PROGRESS and b.get("serviceDeploymentArn")]
    if len(going) <= 1:
        return str(going[0]["serviceDeploymentArn"]) if going else None
    named = ", ".join(f"{short(str(b['serviceDeploymentArn']))} (to revision {short(str(b.get('targetServiceRevisionArn', '?')))}"
                      + (f", created {when(b['createdAt'])}" if isinstance(b.get("createdAt"), datetime) else "") + ")"
                      for b in going)  # fmt: skip
    raise RunError(f"{words.flag('gate-deployment')}: service {service!r} in cluster {cluster!r} has {len(going)} deployments in "
                   f"progress: {named}; which one this run should gate is not clear, so nothing was run and none "
                   "was answered. Let one of them end (or stop it), then run again")  # fmt: skip


def stage_of(deployment: Mapping[str, Any]) -> str | None:
    stage = deployment.get("lifecycleStage")
    return str(stage) if stage else None


def hooks_awaiting(deployment: Mapping[str, Any]) -> list[Hook]:
    """The PAUSE hooks that await an answer now, in ECS's order."""
    details = deployment.get("lifecycleHookDetails") or []
    return [Hook.of(d) for d in details
            if isinstance(d, Mapping) and d.get("targetType") == PAUSE and d.get("status") == AWAITING and d.get("hookId")]  # fmt: skip


def hook_status(deployment: Mapping[str, Any], hook_id: str) -> str | None:
    for detail in deployment.get("lifecycleHookDetails") or []:
        if isinstance(detail, Mapping) and detail.get("hookId") == hook_id:
            return str(detail.get("status", "")) or None
    return None


def taken(deployment: Mapping[str, Any], hook_id: str, action: str) -> bool:
    """Whether the deployment shows `action` taken for the hook, though the call that sent it failed (its answer
    lost, and botocore's retry refused since the hook was answered): CONTINUE leaves the hook SUCCEEDED; ROLLBACK
    leaves it FAILED and the deployment rolling back. An expired hook's timeout action is not ours."""
    status = hook_status(deployment, hook_id)
    if status in (None, AWAITING, EXPIRED):
        return False
    if action == CONTINUE:
        return status == CONTINUED
    return status == ROLLED_BACK or str(deployment.get("status", "")).startswith("ROLLBACK_")


def pause_stages(deployment: Mapping[str, Any]) -> list[str] | None:
    """The stages its PAUSE hooks stop at, from its deploymentConfiguration; None when ECS did not say."""
    config = deployment.get("deploymentConfiguration")
    if not isinstance(config, Mapping):
        return None
    hooks = [h for h in config.get("lifecycleHooks") or [] if isinstance(h, Mapping) and h.get("targetType") == PAUSE]
    return [str(stage) for h in hooks for stage in h.get("lifecycleStages") or []]


def found(deployment: Mapping[str, Any], service: str) -> str:
    """The line that names the deployment this run gates."""
    config = deployment.get("deploymentConfiguration")
    strategy = config.get("strategy") if isinstance(config, Mapping) else None
    target = (deployment.get("targetServiceRevision") or {}).get("arn", "")
    stages = pause_stages(deployment)
    at = f" (configured at {', '.join(stages)})" if stages else ""
    return (f"deployment {short(str(deployment.get('serviceDeploymentArn', '?')))} of service {service} is in progress"
            f"{f' ({strategy})' if strategy else ''}, to revision {short(str(target))}: waiting for it to pause at a "
            f"PAUSE hook{at}")  # fmt: skip


def not_pausing(deployment: Mapping[str, Any], service: str) -> str | None:
    """Why waiting for this deployment's PAUSE hook is pointless, or None: it has ended, or it has none."""
    name = f"deployment {short(str(deployment.get('serviceDeploymentArn', '?')))} of service {service}"
    status = str(deployment.get("status", IN_PROGRESS))
    if status not in (IN_PROGRESS, PENDING):
        reason = f" ({deployment['statusReason']})" if deployment.get("statusReason") else ""
        expired = [h for h in deployment.get("lifecycleHookDetails") or []
                   if isinstance(h, Mapping) and h.get("targetType") == PAUSE and h.get("status") == EXPIRED]  # fmt: skip
        if expired:
            hook = Hook.of(expired[-1])
            return (f"{name} is {status}{reason}: its PAUSE hook {hook.hook_id} expired {hook.expiry()}, before this "
                    f"run found it, and ECS took its timeoutAction, {hook.timeout_action}; nothing was run")  # fmt: skip
        return (f"{name} is {status}{reason} and did not pause at a PAUSE hook for this run; nothing was run. Was the "
                "hook answered by another run?")  # fmt: skip
    if pause_stages(deployment) == []:
        return (f"{name} has no PAUSE lifecycle hook in its deploymentConfiguration, so it will not pause for this "
                "run; nothing was run. Give the service a lifecycle hook with targetType PAUSE (and lifecycleStages, "
                "e.g. [\"POST_SCALE_UP\"]) in its deploymentConfiguration when the deploy updates it")  # fmt: skip
    return None


def no_deployment(service: str, cluster: str, timeout: float) -> RunError:
    return RunError(f"{words.flag('gate-deployment')}: no deployment of service {service!r} in cluster {cluster!r} "
                    f"was in progress within {words.the('timeout')} ({shown(timeout)}); nothing was run. Does the "
                    "deploy update this service (a new task definition starts a deployment), in this cluster and "
                    "region, in that time?",
                    exit_code=TIMED_OUT, status=Status.TIMED_OUT)  # fmt: skip


def no_pause(deployment_arn: str, service: str, timeout: float, stage: str | None) -> RunError:
    seen = f" (the last stage ECS reported: {stage})" if stage else ""
    return RunError(f"{words.flag('gate-deployment')}: deployment {short(deployment_arn)} of service {service!r} did "
                    f"not pause at a PAUSE hook within {words.the('timeout')} ({shown(timeout)}){seen}; nothing was "
                    "run and nothing was sent "
                    "to it. If it pauses later, it waits there until the hook expires, and ECS then takes the hook's "
                    "timeoutAction (ROLLBACK unless configured otherwise)",
                    exit_code=TIMED_OUT, status=Status.TIMED_OUT)  # fmt: skip


def left_unanswered(deployment_arn: str, service: str) -> str:
    """Said when the run ends after it found the deployment, before its hook (a cancel, an error)."""
    return (f"deployment {short(deployment_arn)} of service {service} was not answered: if it pauses at a PAUSE "
            "hook, it waits there until the hook expires, and ECS then takes the hook's timeoutAction")  # fmt: skip


def paused_line(paused: Paused, now: datetime) -> str:
    at = f" at {paused.stage}" if paused.stage else ""
    left = paused.hook.left(now)
    soon = f" ({within(left)})" if left is not None else ""
    return (f"paused{at}: PAUSE hook {paused.hook.hook_id} awaits action; it expires {paused.hook.expiry()}{soon}, "
            f"and ECS then takes its timeoutAction, {paused.hook.timeout_action}")  # fmt: skip


def expiry_warning(paused: Paused, now: datetime, run_left: float | None) -> str | None:
    """A warning when the hook may expire before the run's timeout: the task's answer could then come too late."""
    left = paused.hook.left(now)
    if left is None or (run_left is not None and run_left <= left):
        return None
    if paused.hook.timeout_action == CONTINUE:
        then = "CONTINUE: the deployment then goes on whatever the task's answer"
    else:
        then = f"{paused.hook.timeout_action}"
    return (f"the PAUSE hook expires {within(left)}, before this run's timeout: a task whose answer comes "
            f"later can no longer gate the deployment, and ECS takes its timeoutAction, {then}; raise the hook's "
            f"timeoutInMinutes in the service's deploymentConfiguration, or lower {words.the('timeout')}")  # fmt: skip


def several_awaiting(hooks: Sequence[Hook]) -> str:
    others = ", ".join(h.hook_id for h in hooks[1:])
    return f"{len(hooks)} PAUSE hooks await action; this run answers the first, {hooks[0].hook_id}, and not {others}"


def revision_line(revision: Mapping[str, Any]) -> str:
    """What the deployment's new revision gives the run (inputs given still win)."""
    parts = [f"task definition {arns.revision(str(revision.get('taskDefinition', '?')))}"]
    strategy = revision.get("capacityProviderStrategy")
    if strategy:
        parts.append("capacity provider strategy " + ", ".join(str(p.get("capacityProvider")) for p in strategy))
    elif revision.get("launchType"):
        parts.append(f"launch type {revision['launchType']}")
    if revision.get("platformVersion"):
        parts.append(f"platform version {revision['platformVersion']}")
    if (revision.get("networkConfiguration") or {}).get("awsvpcConfiguration"):
        parts.append("its network configuration")
    return (f"the deployment's new revision {short(str(revision.get('serviceRevisionArn', '?')))}: {', '.join(parts)}; "
            "the task runs with these (inputs given win)")  # fmt: skip


# -- the answer ---------------------------------------------------------------------------


def action_for(result: Outcome, signum: int | None) -> str | None:
    """CONTINUE only for a task that succeeded in a run nobody cancelled; a dry run answers nothing; anything else
    (a failure, no start, a timeout, a cancel, an unknown end, a bug) rolls the deployment back."""
    if result.status == Status.DRY_RUN:
        return None
    if result.status == Status.SUCCEEDED and result.exit_code == SUCCESS and signum is None:
        return CONTINUE
    return ROLLBACK


def why(result: Outcome, signum: int | None) -> str:
    """The reason for the answer, in a few words."""
    if result.status == Status.SUCCEEDED and signum is not None:
        return f"the job was cancelled ({signal_exit(signum)[1]}) after the task succeeded"
    if result.status == Status.FAILED:
        return f"the task failed (exit {result.container_exit_code})"
    if result.status == Status.FAILED_TO_START:
        return "the task failed to start" if result.task else "no task was started"
    return {
        Status.SUCCEEDED: "the task succeeded",
        Status.TIMED_OUT: "the task timed out",
        Status.CANCELLED: "the run was cancelled",
        Status.UNKNOWN: "the task's outcome is unknown",
        Status.INVALID_INPUT: "the input is not valid",
    }.get(result.status, f"the task ended {result.status}")


@dataclass(frozen=True)
class Answered:
    """What became of ContinueServiceDeployment: sent, or refused with `error` (and the hook's status as ECS then
    described it, when it could be read)."""

    action: str
    sent: bool
    error: str = ""
    denied: bool = False
    hook_status: str | None = None


@dataclass(frozen=True)
class Settled:
    outcome: Outcome  # the run's, with what became of the deployment
    action: str  # the deployment-action output: what ECS took from us, else ""
    line: str  # said before the result
    warning: bool  # the line is a warning


def settle(result: Outcome, paused: Paused, answered: Answered, now: datetime, signum: int | None = None) -> Settled:
    """The run's outcome once the hook was answered (or not). The task's answer stays its own (status, exit code);
    the process fails too when a task that succeeded did not get the deployment continued."""
    hook, action = paused.hook, answered.action
    where = f"PAUSE hook {hook.hook_id} of deployment {paused.deployment}"
    reason = why(result, signum)
    if answered.sent:
        if action == CONTINUE and paused.others:  # another's gate may still roll it back, or its hook expire
            waits = f"the deployment goes on once PAUSE hook(s) {', '.join(paused.others)} are answered too"
            return Settled(_told(result, f"CONTINUE sent; {waits}"), CONTINUE,
                           f"CONTINUE sent for {where}: {reason}; {waits}", warning=True)  # fmt: skip
        if action == CONTINUE:
            return Settled(_told(result, "the deployment goes on (CONTINUE sent)"), CONTINUE,
                           f"CONTINUE sent for {where}: {reason}; the deployment goes on", warning=False)  # fmt: skip
        rolled = _told(result, "the deployment is rolled back (ROLLBACK sent)")
        if result.ok and signum is not None:  # the task succeeded, but the job was cancelled
            code, name = signal_exit(signum)
            rolled = _told(
                replace(result, exit_code=code),
                f"the job was cancelled ({name}), so the deployment is rolled back (ROLLBACK sent)",
            )
        return Settled(rolled, ROLLBACK, f"ROLLBACK sent for {where}: {reason}; ECS rolls the service back to its "
                       "previous revision", warning=False)  # fmt: skip
    left = hook.left(now)
    expired = answered.hook_status == EXPIRED or (answered.hook_status is None and left is not None and left <= 0)
    if expired and not answered.denied:  # a denial is said as such: the next run would meet it too
        return _expired(result, paused, action, where)
    if answered.hook_status in (CONTINUED, ROLLED_BACK) and not answered.denied:
        return _answered_by_another(result, paused, answered.hook_status, action, where)
    return _refused(result, paused, answered, where, reason)


def _told(result: Outcome, what: str, joint: str = "; ") -> Outcome:
    """The outcome, saying (in its message and its headline) what became of the deployment."""
    return replace(result, message=result.message + joint + what, consequence=joint + what)


def _expired(result: Outcome, paused: Paused, action: str, where: str) -> Settled:
    """The hook expired before the answer was known: ECS took its timeoutAction, and nothing of ours was sent."""
    taken = paused.hook.timeout_action
    line = (f"{where} expired {paused.hook.expiry()}, before the task's answer was known: ECS took its "
            f"timeoutAction, {taken}; no {action} was sent")  # fmt: skip
    said = f"the PAUSE hook expired before the task's answer was known, and ECS took its timeoutAction, {taken}"
    if result.ok and taken == CONTINUE:
        return Settled(replace(result, warnings=(*result.warnings, f"{said}: the deployment went on")), "", line, True)
    if result.ok:  # the task succeeded, but the deploy did not go on: a failure
        hint = Hint("gate-hook-expired", "The task took longer than the PAUSE hook waits (its timeoutInMinutes).",
                    "Raise the PAUSE hook's timeoutInMinutes in the service's deploymentConfiguration (up to 20160, "
                    "14 days) above the task's longest run, then deploy again.")  # fmt: skip
        failed = _told(
            replace(result, exit_code=CANNOT_RUN, hint=hint), f"{said}: the deployment is rolled back", ", but "
        )
        return Settled(failed, "", line, True)
    if taken == CONTINUE:
        warning = _went_on_anyway(paused) + ", and give the hook the timeout action ROLLBACK"
        went_on = _told(result, f"{said}: the deployment went on although the task did not succeed")
        return Settled(replace(went_on, warnings=(*went_on.warnings, warning)), "", line, True)
    return Settled(_told(result, f"{said}: the deployment is rolled back"), "", line, True)


def _went_on_anyway(paused: Paused) -> str:
    """What to do when the deployment went on (its hook expired, or someone answered CONTINUE) though the task failed:
    the hook is no longer there to answer, so a rollback is by hand."""
    return (f"deployment {paused.deployment} went on although the task did not succeed: check service "
            f"{paused.service}, roll it back by hand if this revision must not run (aws ecs update-service "
            "--service ... --task-definition <its previous revision>)")  # fmt: skip


def _answered_by_another(result: Outcome, paused: Paused, status: str, action: str, where: str) -> Settled:
    """Something else (a person, another job) answered the hook the other way before this run's answer: there is
    nothing left to answer, so no command to answer it by hand; what ECS did is said, and what to do now."""
    taken = CONTINUE if status == CONTINUED else ROLLBACK
    line = f"{where} was answered {taken} by someone else (the hook is {status}) before this run's {action}"
    said = f"the PAUSE hook was answered {taken} by someone else before this run's {action}"
    if result.ok:  # the task succeeded, but the deploy did not go on: a failure
        hint = Hint("gate-answered-by-another", "Another job or a person rolled the deployment back (its PAUSE hook "
                    "was answered ROLLBACK) while this run's task ran.",
                    f"Find out who answered deployment {paused.deployment}'s hook (CloudTrail, "
                    f"{IAM_ACTION}), then deploy again.")  # fmt: skip
        failed = _told(
            replace(result, exit_code=CANNOT_RUN, hint=hint), f"{said}: the deployment is rolled back", ", but "
        )
        return Settled(failed, "", line, True)
    went_on = _told(result, f"{said}: the deployment went on although the task did not succeed")
    return Settled(replace(went_on, warnings=(*went_on.warnings, _went_on_anyway(paused))), "", line, True)


def _refused(result: Outcome, paused: Paused, answered: Answered, where: str, reason: str) -> Settled:
    """ContinueServiceDeployment failed (denied, or refused): an error that names the IAM action and the hook."""
    hook, action = paused.hook, answered.action
    line = f"{where}: {action} could not be sent ({IAM_ACTION} failed, see below); {reason}"
    status = (
        f" (the hook is {answered.hook_status})" if answered.hook_status and answered.hook_status != AWAITING else ""
    )
    then = (f"until the hook expires {hook.expiry()} (ECS then takes its timeoutAction, {hook.timeout_action}), it "
            f"can be answered by hand: {paused.by_hand(action)}")  # fmt: skip
    if answered.denied:
        cause = f"The role this job runs as may not call {IAM_ACTION}."
        fix = f"Grant {IAM_ACTION} to the role this job runs as (docs/iam.md); {then}."
    elif answered.hook_status == AWAITING:
        cause = f"AWS did not take the answer ({IAM_ACTION} failed), and the hook still awaits action."
        fix = f"Run again, or answer the hook: {then}."
    else:
        cause = f"ECS refused {IAM_ACTION} for the hook{status}: it may have expired or been answered already."
        fix = f"Check the deployment in the ECS console; {then}."
    if result.ok:  # the deploy did not go on: a failure, whatever the task's answer
        hint = Hint("gate-continue-refused", cause, fix)
        failed = _told(replace(result, exit_code=CANNOT_RUN, hint=hint), f"the deployment could not be continued: "
                       f"{IAM_ACTION} failed for {where}{status}: {answered.error}", ", but ")  # fmt: skip
        return Settled(failed, "", line, True)
    told = _told(result, f"the deployment could not be rolled back: {IAM_ACTION} failed for {where}{status}: "
                         f"{answered.error}")  # fmt: skip
    urgent = (
        " (the deployment then goes on, though the task did not succeed)" if hook.timeout_action == CONTINUE else ""
    )
    warning = f"roll the deployment back: {then}{urgent}"
    return Settled(replace(told, warnings=(*told.warnings, warning)), "", line, True)


def dry_run(result: Outcome, paused: Paused | None, now: datetime) -> Outcome:
    """A dry run answers nothing: it says what a real run would send, and what an unanswered hook leads to."""
    told = _told(result, "nothing was sent to the deployment (a real run sends CONTINUE if the task succeeds, else "
                         "ROLLBACK)")  # fmt: skip
    if paused is None:
        return told
    left = paused.hook.left(now)
    soon = f" ({within(left)})" if left is not None else ""
    warning = (f"PAUSE hook {paused.hook.hook_id} still awaits action: unless something answers it, it expires "
               f"{paused.hook.expiry()}{soon}, and ECS then takes its timeoutAction, {paused.hook.timeout_action}")  # fmt: skip
    return replace(told, warnings=(*told.warnings, warning))


NO_HOOK_YET = "dry run: no PAUSE hook awaits action yet; a real run waits for one"


def dry_run_found(deployment: Mapping[str, Any] | None, service: str, timeout: float | None) -> str:
    """A dry run looks once and never waits: what it found."""
    if deployment is None:
        limit = f"up to {words.the('timeout')} ({shown(timeout)})" if timeout else "with no limit"
        return (f"dry run: no deployment of service {service} is in progress now; a real run waits for one {limit}, "
                "then for its PAUSE hook; the request below uses the service's current settings, a real run the "
                "deployment's new revision")  # fmt: skip
    stage = stage_of(deployment)
    return (f"dry run: deployment {short(str(deployment.get('serviceDeploymentArn', '?')))} of service {service} is "
            f"in progress; stage: {stage or 'not reported (a rolling deployment reports none)'}")  # fmt: skip
