"""Service deployments as ECS plays them, which moto has none of.

A deployment walks its lifecycle stages on the real clock and stops at each stage that has a PAUSE hook: the hook is
AWAITING_ACTION, with an id, an `expiresAt` and a `timeoutAction`, until ContinueServiceDeployment answers it
(CONTINUE: on to the next stages and SUCCESSFUL; ROLLBACK: ROLLBACK_REQUESTED, ROLLBACK_IN_PROGRESS,
ROLLBACK_SUCCESSFUL) or it expires (TIMED_OUT, and ECS takes the timeoutAction). ListServiceDeployments,
DescribeServiceDeployments, DescribeServiceRevisions and ContinueServiceDeployment are answered from this model
(`answer`); CreateService and UpdateService start deployments (`observe`). README.md beside this file ("Service
deployments") says what ECS does, with sources, and what of it is played.

Everything here runs under `sched.cond`: scheduler callbacks hold it, and so do the answers and the observations.
"""

from __future__ import annotations

import math
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from .scheduler import Scheduler

# The stages in the order a deployment walks them (AWS's "Deployment lifecycle stages"). RECONCILE_SERVICE happens
# only when more than one service revision is active; PRE_PRODUCTION_TRAFFIC_SHIFT is a hook stage that the API's
# ServiceDeploymentLifecycleStage does not list, though lifecycleStage's documentation names it.
STAGES = (
    "RECONCILE_SERVICE",
    "PRE_SCALE_UP",
    "SCALE_UP",
    "POST_SCALE_UP",
    "TEST_TRAFFIC_SHIFT",
    "POST_TEST_TRAFFIC_SHIFT",
    "PRE_PRODUCTION_TRAFFIC_SHIFT",
    "PRODUCTION_TRAFFIC_SHIFT",
    "POST_PRODUCTION_TRAFFIC_SHIFT",
    "BAKE_TIME",
    "CLEAN_UP",
)
HOOK_STAGES = frozenset(
    {"RECONCILE_SERVICE", "PRE_SCALE_UP", "POST_SCALE_UP", "TEST_TRAFFIC_SHIFT", "POST_TEST_TRAFFIC_SHIFT",
     "PRE_PRODUCTION_TRAFFIC_SHIFT", "PRODUCTION_TRAFFIC_SHIFT", "POST_PRODUCTION_TRAFFIC_SHIFT"}
)  # fmt: skip
# "PAUSE hooks cannot be configured at TEST_TRAFFIC_SHIFT or PRODUCTION_TRAFFIC_SHIFT stages" (the API reference)
PAUSE_STAGES = HOOK_STAGES - {"TEST_TRAFFIC_SHIFT", "PRODUCTION_TRAFFIC_SHIFT"}
STATUSES = frozenset(
    {"PENDING", "SUCCESSFUL", "STOPPED", "STOP_REQUESTED", "IN_PROGRESS", "ROLLBACK_REQUESTED",
     "ROLLBACK_IN_PROGRESS", "ROLLBACK_SUCCESSFUL", "ROLLBACK_FAILED"}
)  # fmt: skip
ACTIONS = ("CONTINUE", "ROLLBACK")
AWAITING = "AWAITING_ACTION"
IN_PROGRESS = "IN_PROGRESS"
DEFAULT_TIMEOUT_MINUTES = 1440  # timeoutConfiguration.timeoutInMinutes when left out (24 h)
DEFAULT_TIMEOUT_ACTION = "ROLLBACK"
MAX_DESCRIBED = 20  # DescribeServiceDeployments / DescribeServiceRevisions take up to 20 ARNs
DEFAULT_PAGE, MAX_PAGE = 20, 100  # ListServiceDeployments' maxResults

Answer = tuple[int, dict[str, Any]]
ImageLookup = Callable[[str], list[dict[str, str]]]  # task definition ARN -> [{"containerName", "image"}]


@dataclass(frozen=True)
class Pause:
    """One PAUSE hook: the stage it stops at, how long it waits once reached (HOLD: for ever), what ECS then does."""

    stage: str
    expires_after: float = 30.0
    timeout_action: str = DEFAULT_TIMEOUT_ACTION


@dataclass(frozen=True)
class Plan:
    """How a deployment plays. `reach_after`: seconds from the start (or from the CONTINUE of the hooks before) to
    the next stage with a pause (HOLD: until `Deployments.reach`); `finish_after`: from the last CONTINUE (or the
    start, without pauses) to SUCCESSFUL; `rollback_after`: from ROLLBACK to ROLLBACK_SUCCESSFUL."""

    pauses: tuple[Pause, ...] = ()
    reach_after: float = 1.0
    finish_after: float = 0.2
    rollback_after: float = 0.2


@dataclass(frozen=True)
class Pace:
    """How the deployments that CreateService and UpdateService start play (sb.deploy gives its own Plan): their
    PAUSE hooks come from the service's deploymentConfiguration, and a minute of `timeoutInMinutes` lasts `minute`
    seconds here."""

    reach_after: float = 0.5
    finish_after: float = 0.2
    rollback_after: float = 0.2
    minute: float = 60.0


@dataclass(frozen=True)
class Revision:
    """A service revision: what a deployment deploys (DescribeServiceRevisions)."""

    arn: str
    service_arn: str
    cluster_arn: str
    task_definition: str
    created_at: float  # time.time()
    launch_type: str | None = None
    capacity_provider_strategy: list[dict[str, Any]] | None = None
    platform_version: str | None = None
    network_configuration: dict[str, Any] | None = None
    container_images: list[dict[str, str]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "serviceRevisionArn": self.arn,
            "serviceArn": self.service_arn,
            "clusterArn": self.cluster_arn,
            "taskDefinition": self.task_definition,
            "loadBalancers": [],
            "serviceRegistries": [],
            "containerImages": self.container_images,
            "guardDutyEnabled": False,
            "createdAt": self.created_at,
        }
        if self.capacity_provider_strategy:
            out["capacityProviderStrategy"] = self.capacity_provider_strategy
        elif self.launch_type:
            out["launchType"] = self.launch_type
        if self.platform_version:
            out["platformVersion"] = self.platform_version
        if self.network_configuration:
            out["networkConfiguration"] = self.network_configuration
        return out


@dataclass
class HookRun:
    """A PAUSE hook once its stage is reached (ECS generates its id then)."""

    hook_id: str
    stage: str
    timeout_action: str
    expires_at: float  # time.time()
    reached_at: float  # time.monotonic()
    status: str = AWAITING

    def to_json(self) -> dict[str, Any]:
        # a PAUSE hook has no targetArn
        return {"hookId": self.hook_id, "targetType": "PAUSE", "status": self.status, "expiresAt": self.expires_at,
                "timeoutAction": self.timeout_action}  # fmt: skip


@dataclass(frozen=True)
class Action:
    """What was done to a hook: a ContinueServiceDeployment call (taken, or refused with `error`) or its expiry."""

    hook_id: str
    action: str  # CONTINUE or ROLLBACK: asked for (CONTINUE when the call left it out), or the hook's timeoutAction
    by: str  # "ContinueServiceDeployment" or "timeout"
    at: float  # time.monotonic()
    error: str | None = None  # the error code the call was answered with; None: the action was taken


@dataclass(frozen=True)
class HookView:
    hook_id: str
    stage: str
    status: str
    expires_at: float  # time.time()
    timeout_action: str
    reached_at: float  # time.monotonic()


@dataclass(frozen=True)
class DeploymentView:
    """A snapshot of one deployment, for tests."""

    arn: str
    service_arn: str
    status: str
    lifecycle_stage: str | None  # the stage it is in (DescribeServiceDeployments shows none for a rolling one)
    status_reason: str | None
    history: tuple[str, ...]  # every status it has had, in order
    stages: tuple[str, ...]  # every lifecycle stage it has entered, in order
    hooks: tuple[HookView, ...]
    actions: tuple[Action, ...]
    target_revision: str
    source_revisions: tuple[str, ...]

    def hook(self, stage: str | None = None) -> HookView:
        """The last hook reached (at `stage`, if given)."""
        found = [h for h in self.hooks if stage in (None, h.stage)]
        if not found:
            raise LookupError(f"deployment {self.arn} has reached no PAUSE hook{f' at {stage}' if stage else ''}")
        return found[-1]


@dataclass
class ServiceRecord:
    arn: str
    name: str
    cluster_arn: str
    region: str
    config: dict[str, Any] = field(default_factory=dict)  # deploymentConfiguration as last set
    desired_count: int = 0
    stable: Revision | None = None  # what the service runs when no deployment is in progress
    latest: Revision | None = None  # the last revision deployed (the next one starts from it)


@dataclass
class Deployment:
    arn: str
    service: ServiceRecord
    target: Revision
    sources: list[Revision]
    config: dict[str, Any]
    plan: Plan
    stages: tuple[str, ...]
    created_at: float  # time.time()
    status: str = "PENDING"
    status_reason: str | None = None
    position: int = -1  # index in `stages` of the stage it is in
    started_at: float | None = None
    finished_at: float | None = None
    updated_at: float | None = None
    rollback: dict[str, Any] | None = None
    hooks: list[HookRun] = field(default_factory=list)
    actions: list[Action] = field(default_factory=list)
    history: list[str] = field(default_factory=list)
    entered: list[str] = field(default_factory=list)
    walking_to: int | None = None  # the stage index the current walk ends at (a pause), None: to the end
    epoch: int = 0  # bumped when a walk is cut short: the callbacks of the old one then do nothing

    @property
    def stage(self) -> str | None:
        return self.stages[self.position] if self.position >= 0 else None

    def set_status(self, status: str, reason: str | None = None) -> None:
        self.status = status
        self.history.append(status)
        self.updated_at = time.time()
        if reason is not None:
            self.status_reason = reason

    def awaiting(self) -> list[HookRun]:
        return [h for h in self.hooks if h.status == AWAITING]

    def counts(self, revision: Revision) -> dict[str, Any]:
        """ServiceRevisionSummary: the target's tasks run from POST_SCALE_UP, the sources' until it succeeds."""
        desired = self.service.desired_count
        scaled = self.position >= 0 and STAGES.index(self.stages[self.position]) >= STAGES.index("POST_SCALE_UP")
        rolled_back = self.status.startswith("ROLLBACK_")
        if revision is self.target:
            running = desired if (scaled or self.status == "SUCCESSFUL") and self.status != "ROLLBACK_SUCCESSFUL" else 0
        else:
            running = 0 if self.status == "SUCCESSFUL" else desired
        pending = desired if revision is self.target and self.stage == "SCALE_UP" and not rolled_back else 0
        return {"arn": revision.arn, "requestedTaskCount": desired, "runningTaskCount": running,
                "pendingTaskCount": pending}  # fmt: skip

    def brief(self) -> dict[str, Any]:
        """ListServiceDeployments' ServiceDeploymentBrief."""
        out = {"serviceDeploymentArn": self.arn, "serviceArn": self.service.arn, "clusterArn": self.service.cluster_arn,
               "createdAt": self.created_at, "targetServiceRevisionArn": self.target.arn, "status": self.status}  # fmt: skip
        if self.status_reason:
            out["statusReason"] = self.status_reason
        return _stamped(out, self, ("startedAt", "started_at"), ("finishedAt", "finished_at"))

    def to_json(self) -> dict[str, Any]:
        """DescribeServiceDeployments' ServiceDeployment."""
        out: dict[str, Any] = {
            "serviceDeploymentArn": self.arn,
            "serviceArn": self.service.arn,
            "clusterArn": self.service.cluster_arn,
            "createdAt": self.created_at,
            "sourceServiceRevisions": [self.counts(r) for r in self.sources],
            "targetServiceRevision": self.counts(self.target),
            "status": self.status,
            "lifecycleHookDetails": [h.to_json() for h in self.hooks],
            "deploymentConfiguration": self.config,
        }
        if self.stage is not None and self.config.get("strategy", "ROLLING") != "ROLLING":
            out["lifecycleStage"] = self.stage  # a rolling deployment reports none (see README.md)
        if self.status_reason:
            out["statusReason"] = self.status_reason
        if self.rollback is not None:
            out["rollback"] = self.rollback
        return _stamped(
            out, self, ("startedAt", "started_at"), ("finishedAt", "finished_at"), ("updatedAt", "updated_at")
        )

    def view(self) -> DeploymentView:
        return DeploymentView(
            arn=self.arn,
            service_arn=self.service.arn,
            status=self.status,
            lifecycle_stage=self.stage,
            status_reason=self.status_reason,
            history=tuple(self.history),
            stages=tuple(self.entered),
            hooks=tuple(
                HookView(h.hook_id, h.stage, h.status, h.expires_at, h.timeout_action, h.reached_at) for h in self.hooks
            ),
            actions=tuple(self.actions),
            target_revision=self.target.arn,
            source_revisions=tuple(r.arn for r in self.sources),
        )


def _stamped(out: dict[str, Any], d: Deployment, *stamps: tuple[str, str]) -> dict[str, Any]:
    for key, attr in stamps:
        value = getattr(d, attr)
        if value is not None:
            out[key] = value
    return out


def _error(code: str, message: str) -> Answer:
    return 400, {"__type": code, "message": message}


def pauses_of(config: dict[str, Any], minute: float) -> tuple[Pause, ...]:
    """The PAUSE hooks of a deploymentConfiguration, in stage order (AWS_LAMBDA hooks are not played)."""
    pauses: list[Pause] = []
    for hook in config.get("lifecycleHooks") or []:
        if hook.get("targetType") != "PAUSE":
            continue
        timeout = hook.get("timeoutConfiguration") or {}
        minutes = timeout.get("timeoutInMinutes") or DEFAULT_TIMEOUT_MINUTES
        action = timeout.get("action") or DEFAULT_TIMEOUT_ACTION
        pauses.extend(Pause(stage, minutes * minute, action) for stage in hook.get("lifecycleStages") or [])
    return tuple(sorted(pauses, key=lambda p: STAGES.index(p.stage)))


def config_of(pauses: Sequence[Pause], strategy: str) -> dict[str, Any]:
    """The deploymentConfiguration that asks ECS for these pauses (timeoutInMinutes rounded up: 1 to 20160)."""
    hooks = [
        {
            "targetType": "PAUSE",
            "lifecycleStages": [p.stage],
            "timeoutConfiguration": {
                "timeoutInMinutes": max(1, min(20160, math.ceil(p.expires_after / 60))),
                "action": p.timeout_action,
            },
        }
        for p in pauses
    ]
    return {"strategy": strategy, **({"lifecycleHooks": hooks} if hooks else {})}


def refusal(body: dict[str, Any]) -> Answer | None:
    """CreateService/UpdateService refused as ECS refuses them for their lifecycle hooks, or None."""
    for hook in (body.get("deploymentConfiguration") or {}).get("lifecycleHooks") or []:
        kind = hook.get("targetType") or "AWS_LAMBDA"  # the default target type
        stages = hook.get("lifecycleStages") or []
        if not stages:
            return _error(
                "InvalidParameterException", "lifecycleStages must be provided for a deployment lifecycle hook."
            )
        if kind == "PAUSE" and not set(stages) <= PAUSE_STAGES:
            return _error(
                "InvalidParameterException",
                "PAUSE hooks cannot be configured at TEST_TRAFFIC_SHIFT or PRODUCTION_TRAFFIC_SHIFT stages.",
            )
        if kind == "AWS_LAMBDA" and not hook.get("hookTargetArn"):
            return _error(
                "InvalidParameterException", "hookTargetArn must be provided for an AWS_LAMBDA lifecycle hook."
            )
    return None


def _name(ref: str) -> str:
    return ref.rsplit("/", 1)[-1]


class Deployments:
    """Every service and deployment the sandbox has seen, and the play of each deployment."""

    def __init__(
        self,
        sched: Scheduler,
        account: str,
        images: ImageLookup,
        set_task_definition: Callable[[str, str, str], None],
        cluster_exists: Callable[[str, str], bool],
    ) -> None:
        self.sched = sched
        self.account = account
        self._images = images
        self._set_task_definition = set_task_definition  # (service ARN, cluster name, task definition ARN)
        self._cluster_exists = cluster_exists  # (region, cluster name)
        self.pace = Pace()
        self.services: dict[str, ServiceRecord] = {}  # service ARN -> record
        self.deployments: dict[str, Deployment] = {}  # ARN -> deployment, in creation order
        self.revisions: dict[str, Revision] = {}
        self.next_plan: Plan | None = None  # for the next CreateService/UpdateService made by the sandbox itself
        self.planned: dict[int, str] = {}  # id(plan) -> the deployment it started

    # -- CreateService / UpdateService ---------------------------------------------------
    def observe(self, op: str, body: dict[str, Any], answer: dict[str, Any], setup: bool) -> dict[str, Any]:
        """A service created or updated (moto answered 200): remember it, start a deployment when ECS would."""
        svc = answer.get("service") or {}
        arn = str(svc.get("serviceArn") or "")
        if not arn:
            return answer
        with self.sched.cond:
            record = self.services.get(arn)
            if record is None:
                record = ServiceRecord(
                    arn, str(svc.get("serviceName") or _name(arn)), str(svc.get("clusterArn")), arn.split(":")[3]
                )
                self.services[arn] = record
            if "deploymentConfiguration" in body:
                record.config = dict(body["deploymentConfiguration"] or {})
            record.desired_count = int(svc.get("desiredCount") or body.get("desiredCount") or record.desired_count or 0)
            if record.config and not svc.get("deploymentConfiguration"):
                svc["deploymentConfiguration"] = record.config  # moto's CreateService drops it; ECS keeps it
            plan = self.next_plan if setup else None
            if plan is not None:
                self.next_plan = None
            if op == "UpdateService" and plan is None and not self._redeploys(body, svc, record):
                return answer
            revision = self._revision(svc, body, record)
            if plan is None:
                pace = self.pace
                plan = Plan(
                    pauses_of(record.config, pace.minute), pace.reach_after, pace.finish_after, pace.rollback_after
                )
            deployment = self._create(record, revision, plan)
            self.planned[id(plan)] = deployment.arn
            self._start(deployment)
        return answer

    @staticmethod
    def _redeploys(body: dict[str, Any], svc: dict[str, Any], record: ServiceRecord) -> bool:
        """Whether an UpdateService changes what the service runs (desiredCount or the deployment configuration
        alone do not start a deployment)."""
        latest = record.latest
        if body.get("forceNewDeployment") or latest is None:
            return True
        if body.get("taskDefinition") and svc.get("taskDefinition") != latest.task_definition:
            return True
        fields = {"networkConfiguration": latest.network_configuration, "platformVersion": latest.platform_version,
                  "capacityProviderStrategy": latest.capacity_provider_strategy}  # fmt: skip
        return any(key in body and body[key] != value for key, value in fields.items())

    def _revision(self, svc: dict[str, Any], body: dict[str, Any], record: ServiceRecord) -> Revision:
        previous = record.latest
        strategy = body.get("capacityProviderStrategy")
        if strategy is None and previous is not None and "launchType" not in body:
            strategy = previous.capacity_provider_strategy
        launch = None if strategy else (body.get("launchType") or (previous.launch_type if previous else None)
                                        or svc.get("launchType") or "EC2")  # fmt: skip
        platform = body.get("platformVersion") or (previous.platform_version if previous else None)
        if platform is None and launch == "FARGATE":
            platform = "LATEST"
        network = body.get("networkConfiguration") or (previous.network_configuration if previous else None)
        td = str(svc.get("taskDefinition") or body.get("taskDefinition") or "")
        region = record.region
        cluster = _name(record.cluster_arn)
        revision = Revision(
            arn=f"arn:aws:ecs:{region}:{self.account}:service-revision/{cluster}/{record.name}/{secrets.randbelow(10**19):019d}",
            service_arn=record.arn,
            cluster_arn=record.cluster_arn,
            task_definition=td,
            created_at=time.time(),
            launch_type=launch,
            capacity_provider_strategy=strategy,
            platform_version=platform,
            network_configuration=network or None,
            container_images=self._images(td) if td else [],
        )
        self.revisions[revision.arn] = revision
        return revision

    def _create(self, record: ServiceRecord, revision: Revision, plan: Plan) -> Deployment:
        in_progress = [d for d in self.deployments.values() if d.service is record and d.status == IN_PROGRESS]
        sources = ([record.stable] if record.stable else []) + [d.target for d in in_progress]
        reconcile = len(sources) > 1 or any(p.stage == "RECONCILE_SERVICE" for p in plan.pauses)
        stages = STAGES if reconcile else STAGES[1:]
        cluster = _name(record.cluster_arn)
        deployment = Deployment(
            arn=f"arn:aws:ecs:{record.region}:{self.account}:service-deployment/{cluster}/{record.name}/{_deployment_id()}",
            service=record,
            target=revision,
            sources=sources,
            config=record.config or {"strategy": "ROLLING"},
            plan=plan,
            stages=stages,
            created_at=time.time(),
        )
        deployment.history.append("PENDING")
        record.latest = revision
        self.deployments[deployment.arn] = deployment
        return deployment

    # -- the play --------------------------------------------------------------------------
    def _start(self, d: Deployment) -> None:
        d.started_at = time.time()
        d.set_status(IN_PROGRESS)
        self._walk(d)

    def _next_pause(self, d: Deployment) -> int | None:
        stops = {p.stage for p in d.plan.pauses}
        return next((i for i in range(d.position + 1, len(d.stages)) if d.stages[i] in stops), None)

    def _walk(self, d: Deployment) -> None:
        """Walk the stages after the current one, evenly, to the next one with a pause (over `reach_after`), or to
        the last one and SUCCESSFUL (over `finish_after`)."""
        d.epoch += 1
        epoch, stop = d.epoch, self._next_pause(d)
        d.walking_to = stop
        end = stop if stop is not None else len(d.stages) - 1
        over = d.plan.reach_after if stop is not None else d.plan.finish_after
        steps = range(d.position + 1, end + 1)
        for k, i in enumerate(steps, 1):
            self.sched.after(over * k / len(steps), partial(self._enter, d, epoch, i))
        if stop is None:
            self.sched.after(over, partial(self._succeed, d, epoch))

    def _enter(self, d: Deployment, epoch: int, index: int) -> None:
        if d.epoch != epoch or d.status != IN_PROGRESS or index <= d.position:
            return
        d.position = index
        d.entered.append(d.stages[index])
        d.updated_at = time.time()
        if index == d.walking_to:
            self._pause(d)

    def _pause(self, d: Deployment) -> None:
        """ECS generates each hook's id as its stage is reached; the deployment waits for them all."""
        d.walking_to = None
        for pause in (p for p in d.plan.pauses if p.stage == d.stage):
            hook = HookRun(
                hook_id=f"ecs-pause-{secrets.token_urlsafe(32)}",
                stage=pause.stage,
                timeout_action=pause.timeout_action,
                expires_at=time.time() + pause.expires_after,
                reached_at=time.monotonic(),
            )
            d.hooks.append(hook)
            self.sched.after(pause.expires_after, partial(self._expire, d, hook))

    def _expire(self, d: Deployment, hook: HookRun) -> None:
        if hook.status != AWAITING or d.status != IN_PROGRESS:
            return
        hook.status = "TIMED_OUT"
        d.actions.append(Action(hook.hook_id, hook.timeout_action, "timeout", time.monotonic()))
        self._resolve(
            d,
            hook,
            hook.timeout_action,
            f"The lifecycle hook {hook.hook_id} at {hook.stage} timed out; Amazon ECS took its timeout action {hook.timeout_action}.",
        )

    def _resolve(self, d: Deployment, hook: HookRun, action: str, reason: str) -> None:
        if action == "ROLLBACK":
            for other in d.awaiting():
                other.status = "FAILED"
            self._roll_back(d, reason)
            return
        if hook.status == AWAITING:
            hook.status = "SUCCEEDED"
        if not d.awaiting():
            self._walk(d)

    def _roll_back(self, d: Deployment, reason: str) -> None:
        d.epoch += 1
        epoch = d.epoch
        d.set_status("ROLLBACK_REQUESTED", reason)
        d.rollback = {"reason": reason, "startedAt": time.time()}
        if d.sources:
            d.rollback["serviceRevisionArn"] = d.sources[0].arn
        self.sched.after(d.plan.rollback_after / 2, partial(self._rollback_step, d, epoch, "ROLLBACK_IN_PROGRESS"))
        self.sched.after(d.plan.rollback_after, partial(self._rollback_step, d, epoch, "ROLLBACK_SUCCESSFUL"))

    def _rollback_step(self, d: Deployment, epoch: int, status: str) -> None:
        if d.epoch != epoch:
            return
        d.set_status(status)
        if status == "ROLLBACK_SUCCESSFUL":
            d.finished_at = d.updated_at
            record = d.service
            back = d.sources[0] if d.sources else None
            record.latest = back
            if back is not None:
                self._set_task_definition(record.arn, _name(record.cluster_arn), back.task_definition)

    def _succeed(self, d: Deployment, epoch: int) -> None:
        if d.epoch != epoch or d.status != IN_PROGRESS:
            return
        d.set_status("SUCCESSFUL")
        d.finished_at = d.updated_at
        d.service.stable = d.target

    def reach(self, arn: str) -> None:
        """End the current walk now: the deployment enters every stage up to its next pause (or SUCCESSFUL)."""
        with self.sched.cond:
            d = self.deployments[arn]
            if d.status != IN_PROGRESS or d.awaiting():
                raise ValueError(
                    f"deployment {arn} is {d.status}{' and paused' if d.awaiting() else ''}: nothing to reach"
                )
            d.epoch += 1
            stop = d.walking_to
            for i in range(d.position + 1, (stop if stop is not None else len(d.stages) - 1) + 1):
                self._enter(d, d.epoch, i)
            if stop is None:
                self._succeed(d, d.epoch)
            self.sched.cond.notify_all()

    # -- the ECS operations --------------------------------------------------------------
    def answer(self, op: str, body: dict[str, Any], region: str) -> Answer:
        with self.sched.cond:
            if op == "ListServiceDeployments":
                return self._list(body, region)
            if op == "DescribeServiceDeployments":
                return _describe(body.get("serviceDeploymentArns"), self.deployments, "serviceDeployments")
            if op == "DescribeServiceRevisions":
                return _describe(body.get("serviceRevisionArns"), self.revisions, "serviceRevisions")
            return self._continue(body)

    def _find_service(self, body: dict[str, Any], region: str) -> ServiceRecord | Answer:
        ref = str(body.get("service") or "")
        cluster = _name(str(body.get("cluster") or "default"))
        parts = ref.split(":", 5)[-1].split("/") if ref.startswith("arn:") else [ref]
        if len(parts) == 3:  # service/<cluster>/<name>: the ARN names its cluster
            cluster = parts[1]
        name = parts[-1]
        for record in self.services.values():
            if record.region == region and record.name == name and _name(record.cluster_arn) == cluster:
                return record
        if not self._cluster_exists(region, cluster):
            return _error("ClusterNotFoundException", "Cluster not found.")
        return _error("ServiceNotFoundException", "Service not found.")

    def _list(self, body: dict[str, Any], region: str) -> Answer:
        found = self._find_service(body, region)
        if not isinstance(found, ServiceRecord):
            return found
        statuses = body.get("status") or []
        if not set(statuses) <= STATUSES:
            return _error("InvalidParameterException", f"Invalid status filter: {sorted(set(statuses) - STATUSES)}.")
        size = body.get("maxResults", DEFAULT_PAGE)
        if not 1 <= size <= MAX_PAGE:
            return _error("InvalidParameterException", "maxResults must be between 1 and 100.")
        token = str(body.get("nextToken") or "0")
        if not token.isdigit():
            return _error("InvalidParameterException", "The nextToken is not valid.")
        created = body.get("createdAt") or {}
        after, before = created.get("after"), created.get("before")
        matching = [
            d.brief()
            for d in reversed(self.deployments.values())  # the newest first
            if d.service is found
            and (not statuses or d.status in statuses)
            and (after is None or d.created_at >= float(after))
            and (before is None or d.created_at <= float(before))
        ]
        start = int(token)
        out: dict[str, Any] = {"serviceDeployments": matching[start : start + size]}
        if start + size < len(matching):
            out["nextToken"] = str(start + size)
        return 200, out

    def _continue(self, body: dict[str, Any]) -> Answer:
        arn, hook_id = str(body.get("serviceDeploymentArn") or ""), str(body.get("hookId") or "")
        action = str(body.get("action") or "CONTINUE")
        d = self.deployments.get(arn)
        if d is None:
            return _error("ServiceDeploymentNotFoundException", f"The service deployment {arn} was not found.")
        hook = next((h for h in d.hooks if h.hook_id == hook_id), None)
        refused: Answer | None = None
        if action not in ACTIONS:
            refused = _error("InvalidParameterException", f"Invalid action {action}: CONTINUE or ROLLBACK.")
        elif hook is None:
            refused = _error(
                "InvalidParameterException", f"The lifecycle hook {hook_id} was not found in service deployment {arn}."
            )
        elif hook.status != AWAITING or d.status != IN_PROGRESS:
            refused = _error(
                "InvalidParameterException",
                f"The lifecycle hook {hook_id} is {hook.status} and the service deployment is {d.status}: only a hook in AWAITING_ACTION of a deployment IN_PROGRESS can be continued or rolled back.",
            )
        if refused is not None:
            d.actions.append(
                Action(hook_id, action, "ContinueServiceDeployment", time.monotonic(), refused[1]["__type"])
            )
            return refused
        assert hook is not None
        d.actions.append(Action(hook_id, action, "ContinueServiceDeployment", time.monotonic()))
        if action == "ROLLBACK":
            hook.status = "FAILED"
        self._resolve(
            d, hook, action, f"Rolled back by ContinueServiceDeployment at the lifecycle hook {hook_id} ({hook.stage})."
        )
        self.sched.cond.notify_all()
        return 200, {"serviceDeploymentArn": arn}

    # -- what tests see ------------------------------------------------------------------
    def view(self, arn: str) -> DeploymentView:
        with self.sched.cond:
            return self.deployments[arn].view()

    def views(self, service: str | None = None) -> list[DeploymentView]:
        with self.sched.cond:
            return [d.view() for d in self.deployments.values()
                    if service is None or service in (d.service.arn, d.service.name)]  # fmt: skip

    def find_service(self, region: str, cluster: str, name: str) -> ServiceRecord | None:
        with self.sched.cond:
            return next((r for r in self.services.values()
                         if r.region == region and r.name == name and _name(r.cluster_arn) == cluster), None)  # fmt: skip


def _describe(arns: Any, known: dict[str, Deployment] | dict[str, Revision], key: str) -> Answer:
    """DescribeServiceDeployments / DescribeServiceRevisions: what is known, and MISSING for the others."""
    asked = [str(a) for a in arns or []]
    if not 1 <= len(asked) <= MAX_DESCRIBED:
        return _error("InvalidParameterException", f"Between 1 and {MAX_DESCRIBED} ARNs must be provided.")
    found = [known[a].to_json() for a in asked if a in known]
    failures = [{"arn": a, "reason": "MISSING"} for a in asked if a not in known]
    return 200, {key: found, "failures": failures}


def _deployment_id() -> str:
    """Like ECS's: 21 characters of [A-Za-z0-9_-] (arn:...:service-deployment/<cluster>/<service>/<id>)."""
    return secrets.token_urlsafe(16)[:21]
