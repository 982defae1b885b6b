"""The sandbox's service deployments, driven over HTTP with plain boto3 clients, as the gate-deployment feature will
drive them: find the deployment in progress, wait for its PAUSE hook, read its target revision, continue or roll
back."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.exceptions import ClientError

from sandbox import HOLD, Container, DeploymentView, Sandbox

SERVICE = "web"
PAUSE_CONFIG = {
    "strategy": "ROLLING",
    "lifecycleHooks": [
        {
            "targetType": "PAUSE",
            "lifecycleStages": ["POST_SCALE_UP"],
            "timeoutConfiguration": {"timeoutInMinutes": 1, "action": "ROLLBACK"},
        }
    ],
}


def revisions(sb: Sandbox, n: int, **options: Any) -> list[str]:
    """`n` revisions of family `web`: the first runs now, the others are what deployments deploy."""
    return [sb.register(SERVICE, [Container("app", image=f"acme/web:{i}")], **options) for i in range(1, n + 1)]


def running(sb: Sandbox, td: str, **options: Any) -> str:
    """Service `web` of cluster Sample, running `td` with no deployment in progress; its first deployment's ARN."""
    arn = sb.deploy(SERVICE, td, cluster="Sample", pause_at=None, finish_after=0, **options)
    sb.wait_for_deployment(arn, lambda d: d.status == "SUCCESSFUL", what="SUCCESSFUL")
    return arn


def described(ecs: Any, arn: str) -> dict[str, Any]:
    (deployment,) = ecs.describe_service_deployments(serviceDeploymentArns=[arn])["serviceDeployments"]
    return dict(deployment)


def in_progress(ecs: Any) -> list[str]:
    answer = ecs.list_service_deployments(cluster="Sample", service=SERVICE, status=["IN_PROGRESS"])
    return [d["serviceDeploymentArn"] for d in answer["serviceDeployments"]]


def awaiting(ecs: Any, arn: str) -> dict[str, Any]:
    """The deployment's PAUSE hook in AWAITING_ACTION, read as the tool reads it."""
    (hook,) = [h for h in described(ecs, arn)["lifecycleHookDetails"] if h["status"] == "AWAITING_ACTION"]
    return dict(hook)


def paused(sb: Sandbox, ecs: Any) -> tuple[str, dict[str, Any], list[str]]:
    """A deployment of `web` paused at POST_SCALE_UP: its ARN, its hook, the task definitions (running, deployed)."""
    tds = revisions(sb, 2)
    running(sb, tds[0])
    arn = sb.deploy(SERVICE, tds[1], cluster="Sample", reach_after=0.05)
    sb.wait_for_hook(arn)
    return arn, awaiting(ecs, arn), tds


def wall(monotonic: float) -> float:
    """time.time() at a time.monotonic() moment."""
    return time.time() - (time.monotonic() - monotonic)


def finished(sb: Sandbox, arn: str, status: str) -> DeploymentView:
    return sb.wait_for_deployment(arn, lambda d: d.status == status, what=status)


def test_the_hook_is_reached_after_a_few_polls(sandbox: Sandbox, ecs: Any) -> None:
    tds = revisions(sandbox, 2)
    running(sandbox, tds[0])
    arn = sandbox.deploy(SERVICE, tds[1], cluster="Sample", reach_after=HOLD, strategy="BLUE_GREEN")
    assert in_progress(ecs) == [arn]
    for _ in range(2):  # polled while the deployment walks towards its hook: no hook yet
        deployment = described(ecs, arn)
        assert deployment["status"] == "IN_PROGRESS"
        assert deployment["lifecycleHookDetails"] == []
    sandbox.reach(arn)
    deployment = described(ecs, arn)
    assert deployment["status"] == "IN_PROGRESS"
    assert deployment["lifecycleStage"] == "POST_SCALE_UP"
    (hook,) = deployment["lifecycleHookDetails"]
    assert hook["targetType"] == "PAUSE"
    assert hook["status"] == "AWAITING_ACTION"
    assert hook["hookId"].startswith("ecs-pause-")
    assert hook["timeoutAction"] == "ROLLBACK"
    assert "targetArn" not in hook  # a PAUSE hook has none
    assert 25 < (hook["expiresAt"] - datetime.now(UTC)).total_seconds() <= 30
    assert sandbox.deployment(arn).stages == ("PRE_SCALE_UP", "SCALE_UP", "POST_SCALE_UP")


def test_a_rolling_deployment_reports_no_lifecycle_stage(sandbox: Sandbox, ecs: Any) -> None:
    tds = revisions(sandbox, 2)
    running(sandbox, tds[0])
    arn = sandbox.deploy(SERVICE, tds[1], cluster="Sample", reach_after=0.05)  # strategy ROLLING
    hook = sandbox.wait_for_hook(arn)
    deployment = described(ecs, arn)
    assert "lifecycleStage" not in deployment
    assert deployment["deploymentConfiguration"]["strategy"] == "ROLLING"
    assert [h["hookId"] for h in deployment["lifecycleHookDetails"]] == [hook.hook_id]
    assert sandbox.deployment(arn).lifecycle_stage == hook.stage == "POST_SCALE_UP"  # the sandbox knows


def test_the_hook_is_reached_after_its_delay(sandbox: Sandbox, ecs: Any) -> None:
    tds = revisions(sandbox, 2)
    running(sandbox, tds[0])
    started = time.monotonic()
    arn = sandbox.deploy(SERVICE, tds[1], cluster="Sample", reach_after=0.3)
    hook = sandbox.wait_for_hook(arn)
    assert hook.reached_at - started >= 0.3
    assert awaiting(ecs, arn)["hookId"] == hook.hook_id


def test_continue_takes_the_deployment_to_successful(sandbox: Sandbox, ecs: Any) -> None:
    arn, hook, _ = paused(sandbox, ecs)
    answer = ecs.continue_service_deployment(serviceDeploymentArn=arn, hookId=hook["hookId"], action="CONTINUE")
    assert answer["serviceDeploymentArn"] == arn
    view = finished(sandbox, arn, "SUCCESSFUL")
    assert view.history == ("PENDING", "IN_PROGRESS", "SUCCESSFUL")
    assert view.stages[-1] == "CLEAN_UP"
    assert [(a.hook_id, a.action, a.by, a.error) for a in view.actions] == [
        (hook["hookId"], "CONTINUE", "ContinueServiceDeployment", None)
    ]
    assert sandbox.calls("ContinueServiceDeployment") == [
        {"serviceDeploymentArn": arn, "hookId": hook["hookId"], "action": "CONTINUE"}
    ]
    deployment = described(ecs, arn)
    assert deployment["status"] == "SUCCESSFUL"
    assert deployment["finishedAt"] >= deployment["startedAt"]
    assert [h["status"] for h in deployment["lifecycleHookDetails"]] == ["SUCCEEDED"]
    assert deployment["targetServiceRevision"]["runningTaskCount"] == 1
    assert in_progress(ecs) == []


def test_continue_is_the_default_action(sandbox: Sandbox, ecs: Any) -> None:
    arn, hook, _ = paused(sandbox, ecs)
    ecs.continue_service_deployment(serviceDeploymentArn=arn, hookId=hook["hookId"])
    assert finished(sandbox, arn, "SUCCESSFUL").actions[0].action == "CONTINUE"


def test_rollback_rolls_the_deployment_back(sandbox: Sandbox, ecs: Any) -> None:
    arn, hook, tds = paused(sandbox, ecs)
    ecs.continue_service_deployment(serviceDeploymentArn=arn, hookId=hook["hookId"], action="ROLLBACK")
    view = finished(sandbox, arn, "ROLLBACK_SUCCESSFUL")
    assert view.history == (
        "PENDING",
        "IN_PROGRESS",
        "ROLLBACK_REQUESTED",
        "ROLLBACK_IN_PROGRESS",
        "ROLLBACK_SUCCESSFUL",
    )
    assert view.actions[0].action == "ROLLBACK"
    deployment = described(ecs, arn)
    assert deployment["rollback"]["serviceRevisionArn"] == deployment["sourceServiceRevisions"][0]["arn"]
    assert hook["hookId"] in deployment["statusReason"]
    (brief,) = ecs.list_service_deployments(cluster="Sample", service=SERVICE, status=["ROLLBACK_SUCCESSFUL"])[
        "serviceDeployments"
    ]
    assert brief["statusReason"] == deployment["statusReason"]
    assert [h["status"] for h in deployment["lifecycleHookDetails"]] == ["FAILED"]
    (service,) = ecs.describe_services(cluster="Sample", services=[SERVICE])["services"]
    assert service["taskDefinition"] == tds[0]  # the service runs its previous revision again


@pytest.mark.parametrize(("timeout_action", "ends"), [("ROLLBACK", "ROLLBACK_SUCCESSFUL"), ("CONTINUE", "SUCCESSFUL")])
def test_an_expired_hook_takes_its_timeout_action_and_cannot_be_answered_after(
    sandbox: Sandbox, ecs: Any, timeout_action: str, ends: str
) -> None:
    tds = revisions(sandbox, 2)
    running(sandbox, tds[0])
    arn = sandbox.deploy(
        SERVICE, tds[1], cluster="Sample", reach_after=0.05, expires_after=0.2, timeout_action=timeout_action
    )
    view = finished(sandbox, arn, ends)
    hook = view.hook()
    assert hook.status == "TIMED_OUT"
    assert round(hook.expires_at - wall(hook.reached_at), 2) == 0.2
    assert [(a.hook_id, a.action, a.by) for a in view.actions] == [(hook.hook_id, timeout_action, "timeout")]
    (detail,) = described(ecs, arn)["lifecycleHookDetails"]
    assert (detail["hookId"], detail["status"], detail["timeoutAction"]) == (hook.hook_id, "TIMED_OUT", timeout_action)
    with pytest.raises(ClientError) as info:
        ecs.continue_service_deployment(serviceDeploymentArn=arn, hookId=hook.hook_id, action="CONTINUE")
    assert info.value.response["Error"]["Code"] == "InvalidParameterException"
    assert "TIMED_OUT" in info.value.response["Error"]["Message"]
    refused = sandbox.deployment(arn).actions[-1]
    assert (refused.hook_id, refused.action, refused.error) == (hook.hook_id, "CONTINUE", "InvalidParameterException")
    assert described(ecs, arn)["status"] == ends  # the refused call changed nothing


def test_a_hook_answered_once_cannot_be_answered_again(sandbox: Sandbox, ecs: Any) -> None:
    arn, hook, _ = paused(sandbox, ecs)
    ecs.continue_service_deployment(serviceDeploymentArn=arn, hookId=hook["hookId"], action="ROLLBACK")
    with pytest.raises(ClientError) as info:
        ecs.continue_service_deployment(serviceDeploymentArn=arn, hookId=hook["hookId"], action="CONTINUE")
    assert info.value.response["Error"]["Code"] == "InvalidParameterException"
    assert finished(sandbox, arn, "ROLLBACK_SUCCESSFUL").actions[-1].error == "InvalidParameterException"


def test_unknown_deployments_hooks_and_revisions(sandbox: Sandbox, ecs: Any) -> None:
    arn, hook, _ = paused(sandbox, ecs)
    unknown = arn.rsplit("/", 1)[0] + "/nope"
    with pytest.raises(ClientError) as info:
        ecs.continue_service_deployment(serviceDeploymentArn=unknown, hookId=hook["hookId"])
    assert info.value.response["Error"]["Code"] == "ServiceDeploymentNotFoundException"
    with pytest.raises(ClientError) as info:
        ecs.continue_service_deployment(serviceDeploymentArn=arn, hookId="ecs-pause-nope")
    assert info.value.response["Error"]["Code"] == "InvalidParameterException"
    assert awaiting(ecs, arn)["hookId"] == hook["hookId"]  # still paused
    assert ecs.describe_service_deployments(serviceDeploymentArns=[unknown])["failures"] == [
        {"arn": unknown, "reason": "MISSING"}
    ]
    revision = unknown.replace("service-deployment", "service-revision")
    assert ecs.describe_service_revisions(serviceRevisionArns=[revision])["failures"] == [
        {"arn": revision, "reason": "MISSING"}
    ]


def test_a_denied_continue_leaves_the_hook_waiting(sandbox: Sandbox, ecs: Any) -> None:
    arn, hook, _ = paused(sandbox, ecs)
    sandbox.faults.deny("ContinueServiceDeployment", "AccessDeniedException")
    with pytest.raises(ClientError) as info:
        ecs.continue_service_deployment(serviceDeploymentArn=arn, hookId=hook["hookId"])
    assert info.value.response["Error"]["Code"] == "AccessDeniedException"
    assert [c.fault for c in sandbox.call_log("ContinueServiceDeployment")] == ["deny"]
    assert awaiting(ecs, arn)["hookId"] == hook["hookId"]
    assert sandbox.deployment(arn).actions == ()


def test_no_deployment_in_progress(sandbox: Sandbox, ecs: Any) -> None:
    (td,) = revisions(sandbox, 1)
    ecs.create_service(cluster="Sample", serviceName=SERVICE, taskDefinition=td, desiredCount=1)
    (first,) = sandbox.deployments(SERVICE)  # CreateService deploys the service's first revision
    finished(sandbox, first.arn, "SUCCESSFUL")
    assert in_progress(ecs) == []
    (brief,) = ecs.list_service_deployments(cluster="Sample", service=SERVICE)["serviceDeployments"]
    assert (brief["serviceDeploymentArn"], brief["status"]) == (first.arn, "SUCCESSFUL")
    with pytest.raises(ClientError) as info:
        ecs.list_service_deployments(cluster="Sample", service="nope")
    assert info.value.response["Error"]["Code"] == "ServiceNotFoundException"
    with pytest.raises(ClientError) as info:
        ecs.list_service_deployments(cluster="Nope", service=SERVICE)
    assert info.value.response["Error"]["Code"] == "ClusterNotFoundException"


def test_two_deployments_in_progress(sandbox: Sandbox, ecs: Any) -> None:
    tds = revisions(sandbox, 3)
    stable = running(sandbox, tds[0])
    first = sandbox.deploy(SERVICE, tds[1], cluster="Sample", reach_after=HOLD)
    second = sandbox.deploy(SERVICE, tds[2], cluster="Sample", reach_after=HOLD)
    assert in_progress(ecs) == [second, first]  # the newest first
    by_arn = {d.arn: d for d in sandbox.deployments(SERVICE)}
    assert by_arn[second].source_revisions == (by_arn[stable].target_revision, by_arn[first].target_revision)
    sandbox.reach(second)  # with more than one revision active, ECS reconciles first
    assert sandbox.deployment(second).stages[0] == "RECONCILE_SERVICE"
    assert sandbox.deployment(first).lifecycle_stage is None


def test_list_service_deployments_pages_and_filters(sandbox: Sandbox, ecs: Any) -> None:
    tds = revisions(sandbox, 3)
    arns = [running(sandbox, td) for td in tds]
    pages, token = [], None
    while True:
        page = ecs.list_service_deployments(
            cluster="Sample", service=SERVICE, maxResults=2, **({"nextToken": token} if token else {})
        )
        pages.append([d["serviceDeploymentArn"] for d in page["serviceDeployments"]])
        token = page.get("nextToken")
        if token is None:
            break
    assert pages == [arns[:0:-1], arns[:1]]
    service_arn = sandbox.deployment(arns[0]).service_arn
    assert len(ecs.list_service_deployments(cluster="Sample", service=service_arn)["serviceDeployments"]) == 3
    assert (
        ecs.list_service_deployments(cluster="Sample", service=SERVICE, status=["ROLLBACK_SUCCESSFUL"])[
            "serviceDeployments"
        ]
        == []
    )
    with pytest.raises(ClientError) as info:
        ecs.list_service_deployments(cluster="Sample", service=SERVICE, maxResults=101)
    assert info.value.response["Error"]["Code"] == "InvalidParameterException"


def test_describe_service_revisions_shows_the_target_revision(sandbox: Sandbox, ecs: Any) -> None:
    subnets, groups = sandbox.create_network()
    tds = revisions(sandbox, 2, network_mode="awsvpc", fargate=True)
    network = {"awsvpcConfiguration": {"subnets": subnets, "securityGroups": groups}}
    running(sandbox, tds[0], network=(subnets, groups), launch_type="FARGATE", platform_version="1.4.0")
    arn = sandbox.deploy(SERVICE, tds[1], cluster="Sample", reach_after=0.05)
    target = described(ecs, arn)["targetServiceRevision"]["arn"]
    (revision,) = ecs.describe_service_revisions(serviceRevisionArns=[target])["serviceRevisions"]
    assert revision["serviceRevisionArn"] == target
    assert revision["taskDefinition"] == tds[1]
    assert revision["networkConfiguration"] == network  # kept from the revision before
    assert revision["launchType"] == "FARGATE"
    assert revision["platformVersion"] == "1.4.0"
    assert "capacityProviderStrategy" not in revision
    assert revision["containerImages"] == [{"containerName": "app", "image": "acme/web:2"}]


def test_a_capacity_provider_strategy_replaces_the_launch_type(sandbox: Sandbox, ecs: Any) -> None:
    tds = revisions(sandbox, 2)
    running(sandbox, tds[0])
    strategy = [{"capacityProvider": "FARGATE_SPOT", "weight": 1, "base": 0}]
    arn = sandbox.deploy(SERVICE, tds[1], cluster="Sample", capacity_provider_strategy=strategy)
    (revision,) = ecs.describe_service_revisions(serviceRevisionArns=[sandbox.deployment(arn).target_revision])[
        "serviceRevisions"
    ]
    assert revision["capacityProviderStrategy"] == strategy
    assert "launchType" not in revision


def test_hooks_at_two_stages_pause_twice(sandbox: Sandbox, ecs: Any) -> None:
    tds = revisions(sandbox, 2)
    running(sandbox, tds[0])
    arn = sandbox.deploy(
        SERVICE, tds[1], cluster="Sample", pause_at=["PRE_SCALE_UP", "POST_SCALE_UP"], reach_after=0.05
    )
    first = sandbox.wait_for_hook(arn)
    assert first.stage == "PRE_SCALE_UP"
    ecs.continue_service_deployment(serviceDeploymentArn=arn, hookId=awaiting(ecs, arn)["hookId"])
    view = sandbox.wait_for_deployment(arn, lambda d: d.hook().stage == "POST_SCALE_UP", what="the second hook")
    assert view.hook().status == "AWAITING_ACTION"
    assert view.hook().hook_id != first.hook_id  # each hook reached gets an id of its own
    ecs.continue_service_deployment(serviceDeploymentArn=arn, hookId=view.hook().hook_id)
    finished(sandbox, arn, "SUCCESSFUL")


def test_update_service_with_a_pause_hook_starts_a_paused_deployment(sandbox: Sandbox, ecs: Any) -> None:
    sandbox.pace_deployments(reach_after=0.05, finish_after=0.05, minute=5.0)  # a timeoutInMinutes minute: 5 s
    tds = revisions(sandbox, 2)
    ecs.create_service(cluster="Sample", serviceName=SERVICE, taskDefinition=tds[0], desiredCount=1)
    finished(sandbox, sandbox.deployments(SERVICE)[0].arn, "SUCCESSFUL")
    ecs.update_service(cluster="Sample", service=SERVICE, desiredCount=2)
    assert in_progress(ecs) == []  # a new desired count deploys nothing
    ecs.update_service(cluster="Sample", service=SERVICE, taskDefinition=tds[1], deploymentConfiguration=PAUSE_CONFIG)
    (arn,) = in_progress(ecs)
    hook = sandbox.wait_for_hook(arn)
    assert hook.stage == "POST_SCALE_UP"
    assert hook.timeout_action == "ROLLBACK"
    assert round(hook.expires_at - wall(hook.reached_at), 2) == 5.0  # timeoutInMinutes 1
    deployment = described(ecs, arn)
    assert deployment["deploymentConfiguration"] == PAUSE_CONFIG
    assert deployment["targetServiceRevision"]["requestedTaskCount"] == 2
    (service,) = ecs.describe_services(cluster="Sample", services=[SERVICE])["services"]
    assert service["deploymentConfiguration"] == PAUSE_CONFIG
    ecs.continue_service_deployment(serviceDeploymentArn=arn, hookId=awaiting(ecs, arn)["hookId"])
    finished(sandbox, arn, "SUCCESSFUL")


def test_create_service_keeps_its_deployment_configuration(sandbox: Sandbox, ecs: Any) -> None:
    sandbox.pace_deployments(reach_after=0.05, minute=5.0)
    tds = revisions(sandbox, 2)
    created = ecs.create_service(
        cluster="Sample",
        serviceName=SERVICE,
        taskDefinition=tds[0],
        desiredCount=1,
        deploymentConfiguration=PAUSE_CONFIG,
    )["service"]
    assert created["deploymentConfiguration"] == PAUSE_CONFIG  # moto drops it; ECS keeps it
    (first,) = sandbox.deployments(SERVICE)
    assert first.source_revisions == ()  # a new service has nothing to roll back to
    sandbox.wait_for_hook(first.arn)  # its first deployment pauses too
    ecs.continue_service_deployment(serviceDeploymentArn=first.arn, hookId=awaiting(ecs, first.arn)["hookId"])
    finished(sandbox, first.arn, "SUCCESSFUL")
    ecs.update_service(cluster="Sample", service=SERVICE, taskDefinition=tds[1])  # the configuration still holds
    (arn,) = in_progress(ecs)
    assert sandbox.wait_for_hook(arn).stage == "POST_SCALE_UP"


@pytest.mark.parametrize("stage", ["TEST_TRAFFIC_SHIFT", "PRODUCTION_TRAFFIC_SHIFT"])
def test_pause_hooks_at_traffic_shifts_are_refused(sandbox: Sandbox, ecs: Any, stage: str) -> None:
    (td,) = revisions(sandbox, 1)
    config = {"lifecycleHooks": [{"targetType": "PAUSE", "lifecycleStages": [stage]}]}
    with pytest.raises(ClientError) as info:
        ecs.create_service(cluster="Sample", serviceName=SERVICE, taskDefinition=td, deploymentConfiguration=config)
    assert info.value.response["Error"]["Code"] == "InvalidParameterException"
    assert sandbox.deployments() == []
    with pytest.raises(ValueError, match="PAUSE hooks stop at"):
        sandbox.deploy(SERVICE, td, cluster="Sample", pause_at=stage)
