"""Less configuration: run from a service, swap the image, register from a file, dry run (sandbox over HTTP)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ecs_run_task.verdict.outputs import masked
from sandbox import Container, ContainerScript, Sandbox, Scripted, Step
from tests.helpers import Ran, Run

QUICK = Scripted(steps=[Step("PENDING", 0.05), Step("RUNNING", 0.1)], containers={"web": ContainerScript(exit_code=0)})


def service(sb: Sandbox, **extra: Any) -> tuple[list[str], list[str]]:
    """An awsvpc service `web-svc` on family `app` with a capacity provider strategy and platform version."""
    subnets, groups = sb.create_network()
    sb.register("app", [Container("web", environment={"MODE": "server"})], QUICK, network_mode="awsvpc", fargate=True)
    sb.client("ecs").create_service(
        cluster="Sample", serviceName="web-svc", taskDefinition="app", desiredCount=0,
        capacityProviderStrategy=[{"capacityProvider": "FARGATE_SPOT", "weight": 3}, {"capacityProvider": "FARGATE", "base": 1}],
        platformVersion="1.4.0",
        networkConfiguration={"awsvpcConfiguration": {"subnets": subnets, "securityGroups": groups, "assignPublicIp": "ENABLED"}},
        **extra,
    )  # fmt: skip
    return subnets, groups


def json_events(ran: Ran) -> list[dict[str, Any]]:
    return [json.loads(line) for line in ran.lines]


def test_a_service_supplies_the_task_definition_network_strategy_and_platform(sandbox: Sandbox, run: Run) -> None:
    subnets, groups = service(sandbox)
    ran = run("--cluster", "Sample", "--service", "web-svc", "--poll-interval", "100ms")
    assert ran.code == 0, ran.out
    [body] = sandbox.calls("RunTask")
    assert body["taskDefinition"].endswith(":task-definition/app:1")
    assert body["networkConfiguration"] == {
        "awsvpcConfiguration": {"subnets": subnets, "assignPublicIp": "ENABLED", "securityGroups": groups}
    }
    assert body["capacityProviderStrategy"] == [
        {"capacityProvider": "FARGATE_SPOT", "weight": 3}, {"capacityProvider": "FARGATE", "base": 1}]  # fmt: skip
    assert body["platformVersion"] == "1.4.0"
    assert "launchType" not in body


def test_explicit_inputs_override_the_service_field_by_field(sandbox: Sandbox, run: Run) -> None:
    subnets, groups = service(sandbox)
    ec2 = sandbox.client("ec2")
    vpc = ec2.describe_subnets(SubnetIds=subnets)["Subnets"][0]["VpcId"]
    other = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.200.0/24")["Subnet"]["SubnetId"]
    ran = run("--cluster", "Sample", "--service", "web-svc", "--subnets", other, "--launch-type",
              "FARGATE", "--assign-public-ip", "false", "--poll-interval", "100ms")  # fmt: skip
    assert ran.code == 0, ran.out
    [body] = sandbox.calls("RunTask")
    assert body["networkConfiguration"]["awsvpcConfiguration"] == {
        "subnets": [other], "assignPublicIp": "DISABLED", "securityGroups": groups}  # fmt: skip
    assert body["launchType"] == "FARGATE"
    assert "capacityProviderStrategy" not in body


def test_a_missing_service_is_a_clear_error_and_starts_nothing(sandbox: Sandbox, run: Run) -> None:
    ran = run("--cluster", "Sample", "--service", "ghost")
    assert ran.code == 125
    assert "service: 'ghost' was not found in cluster 'Sample'" in ran.out
    assert sandbox.calls("RunTask") == []


def test_image_registers_exactly_one_new_revision_and_runs_it(sandbox: Sandbox, run: Run, tmp_path: Path) -> None:
    sandbox.register("app", [Container("web", environment={"MODE": "x"}), Container("log", essential=False)], QUICK)
    ran = run("--cluster", "Sample", "-t", "app", "-n", "web", "--image", "acme/app:v2", "--poll-interval", "100ms",
              "--dotenv", str(tmp_path / "out.env"))  # fmt: skip
    assert ran.code == 0, ran.out
    [registered] = sandbox.calls("RegisterTaskDefinition")
    web, log = registered["containerDefinitions"]
    assert (web["image"], web["environment"], log["image"]) == ("acme/app:v2", [{"name": "MODE", "value": "x"}],
                                                                 "acme/app:latest")  # fmt: skip
    assert web["logConfiguration"]["logDriver"] == "awslogs"
    assert not {"taskDefinitionArn", "revision", "status", "registeredAt", "compatibilities"} & set(registered)
    [body] = sandbox.calls("RunTask")
    assert body["taskDefinition"].endswith(":task-definition/app:2")
    assert "TASK_DEFINITION_ARN=" + body["taskDefinition"] in (tmp_path / "out.env").read_text()


def test_the_same_image_reuses_the_revision(sandbox: Sandbox, run: Run) -> None:
    sandbox.register("app", [Container("web", image="acme/app:v1")], QUICK)
    ran = run("--cluster", "Sample", "-t", "app", "--image", "acme/app:v1", "--poll-interval", "100ms")
    assert ran.code == 0, ran.out
    assert sandbox.calls("RegisterTaskDefinition") == []
    [body] = sandbox.calls("RunTask")
    assert body["taskDefinition"].endswith(":task-definition/app:1")  # the revision there, run as it is


@pytest.mark.parametrize("outer_key", [True, False], ids=["describe-task-definition output", "bare"])
def test_a_task_definition_file_is_registered_and_run(
    sandbox: Sandbox, run: Run, tmp_path: Path, outer_key: bool
) -> None:
    sandbox.behave("filed", QUICK)
    definition = {"family": "filed", "containerDefinitions": [{"name": "web", "image": "acme/app:v3", "memory": 128}],
                  "taskDefinitionArn": "arn:aws:ecs:us-east-1:123456789012:task-definition/filed:9", "revision": 9,
                  "status": "ACTIVE", "registeredAt": "2026-01-01T00:00:00Z"}  # fmt: skip
    path = tmp_path / "taskdef.json"
    path.write_text(json.dumps({"taskDefinition": definition} if outer_key else definition))
    ran = run("--cluster", "Sample", "-t", str(path), "--poll-interval", "100ms")
    assert ran.code == 0, ran.out
    [registered] = sandbox.calls("RegisterTaskDefinition")
    assert registered == {
        "family": "filed",
        "containerDefinitions": [{"name": "web", "image": "acme/app:v3", "memory": 128}],
    }
    assert sandbox.calls("RunTask")[0]["taskDefinition"].endswith(":task-definition/filed:1")


@pytest.mark.parametrize(
    ("content", "problem"),
    [(None, "cannot be read (No such file or directory)"), ("{not json", "is not valid JSON (Expecting property name"), ("[]", "not an object"),
     ('{"family": "x"}', "has no containerDefinitions")],
)  # fmt: skip
def test_a_bad_file_names_the_file_and_the_problem(sandbox: Sandbox, run: Run, tmp_path: Path,
                                                   content: str | None, problem: str) -> None:  # fmt: skip
    path = tmp_path / "taskdef.json"
    if content is not None:
        path.write_text(content)
    ran = run("--cluster", "Sample", "-t", str(path))
    assert ran.code == 125
    assert f"task-definition: {path}" in ran.out
    assert problem in ran.out
    assert sandbox.calls("RegisterTaskDefinition") == sandbox.calls("RunTask") == []


def test_dry_run_starts_nothing_and_prints_what_a_real_run_sends(sandbox: Sandbox, run: Run) -> None:
    service(sandbox)
    args = ("--cluster", "Sample", "--service", "web-svc", "--image", "acme/app:v9", "-c", "bin/rails db:migrate",
            "-e", "SECRET=hunter2", "--poll-interval", "100ms", "--format", "json")  # fmt: skip
    dry = run(*args, "--dry-run", "true")
    assert dry.code == 0, dry.out
    assert sandbox.calls("RunTask") == sandbox.calls("RegisterTaskDefinition") == []
    [printed] = [e["requests"] for e in json_events(dry) if e["event"] == "dry-run"]
    assert "hunter2" not in dry.out
    assert json_events(dry)[-1]["status"] == "dry-run"

    assert run(*args).code == 0
    [sent_run] = sandbox.calls("RunTask")
    [sent_register] = sandbox.calls("RegisterTaskDefinition")
    assert printed["RunTask"].pop("clientToken") != sent_run.pop("clientToken")  # a fresh one per run
    assert printed == masked({"RunTask": sent_run, "RegisterTaskDefinition": sent_register})
    assert printed["RunTask"]["overrides"]["containerOverrides"][0]["environment"] == [
        {"name": "SECRET", "value": "***"}
    ]


def test_a_dry_run_is_no_failure_on_github(sandbox: Sandbox, run: Run) -> None:
    service(sandbox)
    dry = run("--cluster", "Sample", "--service", "web-svc", "--dry-run", "true", "--format", "github")
    assert dry.code == 0, dry.out
    assert "::error" not in dry.out
    assert "::group::Dry run: the requests a real run sends\n" in dry.out
    assert dry.out.endswith("::group::Result\necs-run-task: dry run: nothing was registered or started\n"
                            "ecs-run-task: status=dry-run exit-code=-\n::endgroup::\n")  # fmt: skip


def test_a_bridge_task_definition_given_with_an_awsvpc_service_drops_the_services_subnets(
    sandbox: Sandbox, run: Run
) -> None:
    service(sandbox)
    sandbox.register("bridged", [Container("web")], QUICK)  # networkMode bridge: subnets would be refused
    # on EC2: Fargate takes awsvpc only (the checks before the run refuse a bridge task definition there)
    ran = run("--cluster", "Sample", "--service", "web-svc", "-t", "bridged", "--launch-type", "EC2",
              "--poll-interval", "100ms")  # fmt: skip
    assert ran.code == 0, ran.out
    [body] = sandbox.calls("RunTask")
    assert "networkConfiguration" not in body
    assert body["platformVersion"] == "1.4.0"  # the rest still comes from the service


def test_a_service_without_a_task_definition_of_its_own_asks_for_one() -> None:
    """EXTERNAL deployment controller without a primary task set (moto cannot model task sets: pure)."""
    from ecs_run_task.errors import InputError
    from ecs_run_task.inputs.spec import build
    from ecs_run_task.plan import service as svc

    external = {"serviceName": "web-svc", "status": "ACTIVE", "deploymentController": {"type": "EXTERNAL"}}
    with pytest.raises(InputError, match=r"task-definition: required, because service 'web-svc' names none"):
        svc.apply(build({"service": "web-svc"}), external)
    primary = {"status": "PRIMARY", "taskDefinition": "arn:td/app:4", "launchType": "FARGATE"}
    with_set = {**external, "taskSets": [{"status": "ACTIVE", "taskDefinition": "arn:td/app:3"}, primary]}
    got = svc.apply(build({"service": "web-svc"}), with_set)
    assert (got.task_definition, got.launch_type) == ("arn:td/app:4", "FARGATE")


def test_a_dry_run_shows_volumes_placement_and_managed_tags_in_the_run_task_request(sandbox: Sandbox, run: Run) -> None:
    sandbox.register("ebs", [Container("web")], QUICK, volumes=[{"name": "data", "configuredAtLaunch": True}])
    volume = {"name": "data", "managedEBSVolume": {"roleArn": "arn:aws:iam::123456789012:role/ebs", "sizeInGiB": 20,
                                                   "volumeType": "gp3", "snapshotId": "snap-0123abcd"}}  # fmt: skip
    dry = run("--cluster", "Sample", "-t", "ebs", "--launch-type", "EC2", "--volume-configurations", json.dumps([volume]),
              "--placement-constraints", "memberOf:attribute:ecs.availability-zone in [us-east-1a, us-east-1b]\n"
              "distinctInstance", "--placement-strategy", "spread:attribute:ecs.availability-zone, binpack:memory",
              "--enable-ecs-managed-tags", "true", "--dry-run", "true", "--format", "json")  # fmt: skip
    assert dry.code == 0, dry.out
    assert sandbox.calls("RunTask") == []
    [printed] = [e["requests"]["RunTask"] for e in json_events(dry) if e["event"] == "dry-run"]
    assert printed["volumeConfigurations"] == [volume]
    assert printed["placementConstraints"] == [
        {"type": "memberOf", "expression": "attribute:ecs.availability-zone in [us-east-1a, us-east-1b]"},
        {"type": "distinctInstance"},
    ]
    assert printed["placementStrategy"] == [
        {"type": "spread", "field": "attribute:ecs.availability-zone"}, {"type": "binpack", "field": "memory"}]  # fmt: skip
    assert printed["enableECSManagedTags"] is True


@pytest.mark.parametrize("dry_run", [False, True])
def test_a_restart_policy_and_non_blocking_logs_are_cautioned_once_before_the_start(
    sandbox: Sandbox, run: Run, tmp_path: Path, dry_run: bool
) -> None:
    """ECS may restart a container with a restartPolicy in place (the exit seen may not be the last), and awslogs'
    non-blocking mode drops lines: said once, with the fix, before anything starts; the answer is unchanged."""
    sandbox.behave("filed", QUICK)
    logs = {"logDriver": "awslogs", "options": {"awslogs-group": "/ecs/filed", "awslogs-region": "us-east-1",
                                                "awslogs-stream-prefix": "filed", "mode": "non-blocking"}}  # fmt: skip
    web = {"name": "web", "image": "acme/app:v3", "memory": 128, "logConfiguration": logs,
           "restartPolicy": {"enabled": True, "ignoredExitCodes": [0], "restartAttemptPeriod": 60}}  # fmt: skip
    path = tmp_path / "taskdef.json"
    path.write_text(json.dumps({"family": "filed", "containerDefinitions": [web]}))
    sandbox.client("logs").create_log_group(logGroupName="/ecs/filed")  # the dry run checks that it exists
    ran = run("--cluster", "Sample", "-t", str(path), "--poll-interval", "100ms", *(["--dry-run"] if dry_run else []))
    assert ran.code == 0, ran.out
    said = [x for x in ran.lines if x.startswith("ecs-run-task:") and ("restartPolicy" in x or "awslogs mode" in x)]
    assert said == [
        "ecs-run-task: warning: container web has a restartPolicy: ECS may restart it in place, so the exit this run "
        "sees may not be its last; for a one-off task such as a migration, set restartPolicy's enabled to false in "
        "its container definition",
        "ecs-run-task: warning: container web: its awslogs mode is non-blocking: lines are dropped when the log buffer fills; "
        'for a migration, set "mode": "blocking" in its logConfiguration options',
    ]
    first = ran.lines.index(said[0])
    assert not any("started task" in line for line in ran.lines[:first])  # at start
    assert len(sandbox.calls("RunTask")) == (0 if dry_run else 1)
