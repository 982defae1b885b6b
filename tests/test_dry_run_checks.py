"""The checks before a run (plan/preflight.py), end to end against the sandbox: each passes on what exists, fails on
what does not (an input error: status invalid-input, exit 125, nothing registered or started), and is skipped, never
failed, when the permission to read it is missing (the IAM action named)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from sandbox import Container, Sandbox
from tests.helpers import Run, outputs, register

ACCOUNT = "123456789012"
TRUST_ECS = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"},
                                                     "Action": "sts:AssumeRole"}]}  # fmt: skip
TRUST_EC2 = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"},
                                                     "Action": "sts:AssumeRole"}]}  # fmt: skip


def ecr(repository: str, tag: str = "v1", region: str = "us-east-1") -> str:
    """An image reference in this account's private ECR registry (the host built from its parts)."""
    host = ".".join([ACCOUNT, "dkr", "ecr", region, "amazonaws", "com"])
    return f"{host}/{repository}:{tag}"


def push(sb: Sandbox, repository: str, tag: str) -> None:
    """An image in the sandbox's ECR: the repository made if needed, a manifest under `tag`."""
    client = sb.client("ecr")
    if repository not in [r["repositoryName"] for r in client.describe_repositories()["repositories"]]:
        client.create_repository(repositoryName=repository)
    manifest = {"schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json", "layers": [],
                "config": {"digest": "sha256:" + "a" * 64, "size": 1,
                           "mediaType": "application/vnd.docker.container.image.v1+json"}}  # fmt: skip
    client.put_image(repositoryName=repository, imageManifest=json.dumps(manifest), imageTag=tag)


def role(sb: Sandbox, name: str, trust: dict[str, Any] = TRUST_ECS) -> str:
    arn: str = sb.client("iam").create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    return arn


def dry(run: Run, *args: str) -> tuple[int, list[str], str]:
    """A dry run over family `app` of cluster Sample: its exit status, its check lines, all it printed."""
    ran = run("--cluster", "Sample", "-t", "app", "--dry-run", "true", *args)
    checks = [line.removeprefix("ecs-run-task: ") for line in ran.lines
              if line.startswith(("ecs-run-task: passed: ", "ecs-run-task: failed: ", "ecs-run-task: skipped: "))]  # fmt: skip
    return ran.code, checks, ran.out


def nothing_started(sb: Sandbox) -> None:
    assert sb.calls("RegisterTaskDefinition") == sb.calls("RunTask") == []


def awsvpc(sb: Sandbox, **options: Any) -> tuple[list[str], list[str]]:
    """Family `app` on Fargate (awsvpc), and a VPC with a subnet and a security group."""
    subnets, groups = sb.create_network()
    sb.register("app", [Container("web")], network_mode="awsvpc", fargate=True, log_group="/ecs/app", **options)
    return subnets, groups


# -- the cluster ------------------------------------------------------------------------------------------------------


def test_a_dry_run_of_a_good_task_passes_every_check_it_can_make(sandbox: Sandbox, run: Run) -> None:
    register(sandbox)
    code, checks, out = dry(run)
    assert code == 0, out
    assert checks == [
        "passed: cluster: Sample is ACTIVE in us-east-1",
        "passed: launch type: EC2 fits task definition app:1 (network mode bridge)",
        "passed: log group /ecs/app: exists in us-east-1",
        "skipped: image acme/app:latest: not in a private ECR registry: not checked",
        "passed: overrides: 0 of 8,192 characters",
    ]
    nothing_started(sandbox)


def test_a_cluster_that_does_not_exist_fails_the_dry_run(sandbox: Sandbox, run: Run, tmp_path: Path) -> None:
    register(sandbox)
    ran = run("--cluster", "prodution", "-t", "app", "--dry-run", "true", "--dotenv", str(tmp_path / "out.env"))
    assert ran.code == 125, ran.out
    assert outputs(tmp_path / "out.env")["STATUS"] == "invalid-input"
    problem = (
        "--cluster: 'prodution' was not found in us-east-1; check --cluster and the region (--region or AWS_REGION)"
    )
    assert f"ecs-run-task: failed: {problem}" in ran.lines
    assert f"ecs-run-task:   - {problem}" in ran.lines  # the result lists it as the input error
    nothing_started(sandbox)


def test_a_real_run_checks_the_cluster_before_registering_anything(sandbox: Sandbox, run: Run, tmp_path: Path) -> None:
    register(sandbox)
    ran = run("--cluster", "prodution", "-t", "app", "--image", "acme/app:v2", "--dotenv", str(tmp_path / "out.env"))
    assert ran.code == 125, ran.out
    assert outputs(tmp_path / "out.env")["STATUS"] == "invalid-input"
    assert "--cluster: 'prodution' was not found in us-east-1" in ran.out
    nothing_started(sandbox)  # the new revision the image needs was not registered
    assert "timeout:" not in ran.out  # no task was about to start


def test_an_inactive_cluster_fails(sandbox: Sandbox, run: Run) -> None:
    register(sandbox)
    sandbox.client("ecs").create_cluster(clusterName="Old")
    sandbox.client("ecs").delete_cluster(cluster="Old")
    ran = run("--cluster", "Old", "-t", "app")
    assert ran.code == 125, ran.out
    assert "--cluster: 'Old' in us-east-1 is INACTIVE (deleted), not ACTIVE" in ran.out
    assert "no container instances" not in ran.out  # said of an ACTIVE cluster only: this one's problem is said
    nothing_started(sandbox)


def test_without_permission_to_describe_the_cluster_its_check_is_skipped(sandbox: Sandbox, run: Run) -> None:
    register(sandbox)
    sandbox.faults.deny("DescribeClusters")
    code, checks, out = dry(run)
    assert code == 0, out
    assert checks[0] == ("skipped: cluster: no permission for ecs:DescribeClusters (optional: grant it for this check)")
    assert all(not c.startswith("failed") for c in checks)
    ran = run("--cluster", "Sample", "-t", "app", "--poll-interval", "100ms")  # a real run goes on, as before
    assert ran.code == 0, ran.out
    assert "DescribeClusters" not in ran.out


# -- the launch type ----------------------------------------------------------------------------------------------


def test_fargate_for_a_bridge_task_definition_fails_before_anything_starts(sandbox: Sandbox, run: Run) -> None:
    register(sandbox)  # network mode bridge
    code, checks, out = dry(run, "--launch-type", "FARGATE")
    assert code == 125, out
    assert ("failed: --launch-type FARGATE; Fargate needs network mode awsvpc, and task definition app:1 uses bridge; "
            "run it on EC2 (--launch-type EC2), or register the task definition with networkMode awsvpc") in checks  # fmt: skip
    ran = run("--cluster", "Sample", "-t", "app", "--launch-type", "FARGATE")  # a real run: the same, before RunTask
    assert ran.code == 125
    assert "Fargate needs network mode awsvpc" in ran.out
    nothing_started(sandbox)


def test_a_launch_type_the_task_definition_is_not_compatible_with_fails(sandbox: Sandbox, run: Run) -> None:
    # awsvpc but EC2 only: moto reads requiresCompatibilities as ECS does (compatibilities EC2)
    sandbox.client("ecs").register_task_definition(
        family="app", networkMode="awsvpc", requiresCompatibilities=["EC2"],
        containerDefinitions=[{"name": "web", "image": "acme/app:1", "memory": 128}])  # fmt: skip
    subnets, groups = sandbox.create_network()
    code, checks, out = dry(run, "--launch-type", "FARGATE", "--subnets", subnets[0], "--security-groups", groups[0])
    assert code == 125, out
    assert ("failed: --launch-type FARGATE; task definition app:1 is not compatible with FARGATE (only with EC2); give "
            "--launch-type EC2, or register the task definition with requiresCompatibilities FARGATE") in checks  # fmt: skip


def test_no_launch_type_in_a_cluster_without_instances_or_default_strategy_fails(sandbox: Sandbox, run: Run) -> None:
    register(sandbox)
    sandbox.client("ecs").create_cluster(clusterName="Fargate-only")
    ran = run("--cluster", "Fargate-only", "-t", "app")
    assert ran.code == 125, ran.out
    assert ("--launch-type: not given, and cluster Fargate-only has no default capacity provider strategy, so the task "
            "runs on EC2; cluster Fargate-only has no container instances to run it on; give --launch-type FARGATE (or "
            "--capacity-provider-strategy), or register container instances in the cluster") in ran.out  # fmt: skip
    nothing_started(sandbox)


def test_a_capacity_provider_the_cluster_does_not_have_fails(sandbox: Sandbox, run: Run) -> None:
    subnets, groups = awsvpc(sandbox)
    sandbox.client("ecs").create_cluster(clusterName="Spot", capacityProviders=["FARGATE", "FARGATE_SPOT"])
    net = ("--subnets", subnets[0], "--security-groups", groups[0])
    ran = run(
        "--cluster", "Spot", "-t", "app", "--capacity-provider-strategy", "FARGATE_SPOT", "--dry-run", "true", *net
    )
    assert ran.code == 0, ran.out
    assert "ecs-run-task: passed: capacity providers: FARGATE_SPOT in cluster Spot" in ran.lines
    ran = run("--cluster", "Spot", "-t", "app", "--capacity-provider-strategy", "big-asg:1", *net)
    assert ran.code == 125, ran.out
    assert ("--capacity-provider-strategy: big-asg is not a capacity provider of cluster Spot (its capacity "
            "providers: FARGATE, FARGATE_SPOT); give one of those") in ran.out  # fmt: skip
    nothing_started(sandbox)


# -- the network --------------------------------------------------------------------------------------------------


def test_subnets_and_security_groups_are_checked_to_exist_in_one_vpc(sandbox: Sandbox, run: Run) -> None:
    subnets, groups = awsvpc(sandbox)
    _, others = sandbox.create_network()  # a security group of another VPC
    net = ("--launch-type", "FARGATE", "--subnets", subnets[0])
    code, checks, out = dry(run, *net, "--security-groups", groups[0])
    assert code == 0, out
    [network] = [c for c in checks if c.startswith("passed: network: ")]
    assert network.startswith(f"passed: network: {subnets[0]}, {groups[0]} exist, in vpc-")

    code, checks, out = dry(run, *net, "--security-groups", f"{groups[0]},sg-0000dead")
    assert code == 125, out
    assert "failed: --security-groups: sg-0000dead does not exist in us-east-1; check --security-groups" in out

    code, checks, out = dry(run, "--launch-type", "FARGATE", "--subnets", f"{subnets[0]},subnet-0000dead",
                            "--security-groups", others[0])  # fmt: skip
    assert code == 125, out
    [failed] = [c for c in checks if c.startswith("failed: ")]
    assert "--subnets: subnet-0000dead does not exist in us-east-1" in failed
    assert "--subnets, --security-groups: they are in different VPCs" in failed
    nothing_started(sandbox)


def test_without_permission_for_ec2_the_network_check_is_skipped(sandbox: Sandbox, run: Run) -> None:
    _, groups = awsvpc(sandbox)
    sandbox.faults.deny("DescribeSubnets", "UnauthorizedOperation")
    sandbox.faults.deny("DescribeSecurityGroups", "UnauthorizedOperation")
    code, checks, out = dry(
        run, "--launch-type", "FARGATE", "--subnets", "subnet-0000dead", "--security-groups", groups[0]
    )
    assert code == 0, out
    assert "skipped: subnets: no permission for ec2:DescribeSubnets (optional: grant it for this check)" in checks
    assert (
        "skipped: security groups: no permission for ec2:DescribeSecurityGroups (optional: grant it for this check)"
        in checks
    )


# -- log groups -----------------------------------------------------------------------------------------------------


def test_a_log_group_that_does_not_exist_fails_the_dry_run_only(sandbox: Sandbox, run: Run) -> None:
    register(sandbox)
    sandbox.client("logs").delete_log_group(logGroupName="/ecs/app")
    code, checks, out = dry(run)
    assert code == 125, out
    assert ("failed: --task-definition: log group /ecs/app (awslogs-group of container web) does not exist in us-east-1, "
            "so the container could not start; create it, or set awslogs-create-group: true in the container's "
            "logConfiguration options (the execution role then needs logs:CreateLogGroup)") in checks  # fmt: skip
    nothing_started(sandbox)
    ran = run("--cluster", "Sample", "-t", "app", "--poll-interval", "100ms")  # a real run reads no log group first
    assert len(sandbox.calls("DescribeLogGroups")) == 1  # the dry run's
    assert len(sandbox.calls("RunTask")) == 1, ran.out


def test_a_log_group_created_on_demand_is_not_checked(sandbox: Sandbox, run: Run) -> None:
    logging = {"logDriver": "awslogs", "options": {"awslogs-group": "/ecs/new", "awslogs-region": "us-east-1",
                                                   "awslogs-stream-prefix": "app", "awslogs-create-group": "true"}}  # fmt: skip
    sandbox.client("ecs").register_task_definition(
        family="app", containerDefinitions=[{"name": "web", "image": "acme/app:1", "memory": 128,
                                             "logConfiguration": logging}])  # fmt: skip
    code, checks, out = dry(run)
    assert code == 0, out
    assert not any("log group" in c for c in checks)
    assert sandbox.calls("DescribeLogGroups") == []


def test_without_permission_for_logs_the_log_group_check_is_skipped(sandbox: Sandbox, run: Run) -> None:
    register(sandbox)
    sandbox.client("logs").delete_log_group(logGroupName="/ecs/app")
    sandbox.faults.deny("DescribeLogGroups")
    code, checks, out = dry(run)
    assert code == 0, out
    assert (
        "skipped: log group /ecs/app: no permission for logs:DescribeLogGroups (optional: grant it for this check)"
        in checks
    )


# -- ECR images -----------------------------------------------------------------------------------------------------


def test_an_ecr_image_is_checked_by_tag(sandbox: Sandbox, run: Run) -> None:
    push(sandbox, "app", "v1")
    sandbox.register("app", [Container("web", image=ecr("app", "v1"))], log_group="/ecs/app")
    code, checks, out = dry(run)
    assert code == 0, out
    assert f"passed: image {ecr('app', 'v1')}: in ECR ({ACCOUNT}, us-east-1)" in checks

    code, checks, out = dry(run, "--image", ecr("app", "v2"))  # the image input: a tag not pushed
    assert code == 125, out
    assert (f"failed: --image: {ecr('app', 'v2')} (of container web): repository app has no image with tag v2, so the "
            "task could not pull it; push the image first, or fix --image") in checks  # fmt: skip

    code, checks, out = dry(run, "--image", ecr("nope", "v1"))
    assert code == 125, out
    assert f"repository nope does not exist in ECR registry {ACCOUNT} (us-east-1)" in out

    # app:2, its image not pushed: the task definition is named, never --image, which was not given
    sandbox.register("app", [Container("web", image=ecr("app", "v3"))], log_group="/ecs/app")
    code, checks, out = dry(run)
    assert code == 125, out
    assert (
        f"failed: --task-definition: image {ecr('app', 'v3')} (of container web): repository app has no image with "
        "tag v3, so the task could not pull it; push the image first, or fix the image in the task definition (or "
        "give --image)"
    ) in checks  # fmt: skip — never named --image, which was not given
    nothing_started(sandbox)
    assert [c["repositoryName"] for c in sandbox.calls("DescribeImages")] == ["app", "app", "nope", "app"]


def test_without_permission_for_ecr_the_image_check_is_skipped(sandbox: Sandbox, run: Run) -> None:
    sandbox.register("app", [Container("web", image=ecr("app", "v1"))], log_group="/ecs/app")
    sandbox.faults.deny("DescribeImages")
    code, checks, out = dry(run)
    assert code == 0, out
    assert (f"skipped: image {ecr('app', 'v1')}: no permission for ecr:DescribeImages (optional: grant it for this "
            "check)") in checks  # fmt: skip


# -- roles ----------------------------------------------------------------------------------------------------------


def test_the_task_and_execution_roles_are_checked(sandbox: Sandbox, run: Run) -> None:
    task_role, execution_role = role(sandbox, "app-task"), role(sandbox, "app-execution")
    sandbox.register("app", [Container("web")], log_group="/ecs/app", task_role_arn=task_role,
                     execution_role_arn=execution_role)  # fmt: skip
    code, checks, out = dry(run)
    assert code == 0, out
    assert f"passed: task role {task_role}: exists, and ECS tasks may assume it" in checks
    assert f"passed: execution role {execution_role}: exists, and ECS tasks may assume it" in checks

    missing = f"arn:aws:iam::{ACCOUNT}:role/app-gone"
    code, checks, out = dry(run, "--task-role-arn", missing)
    assert code == 125, out
    assert (f"failed: --task-role-arn: the task role {missing} does not exist, so ECS could not start the task with it; "
            "check --task-role-arn, or taskRoleArn in the task definition") in checks  # fmt: skip

    ec2_only = role(sandbox, "app-ec2", TRUST_EC2)
    code, checks, out = dry(run, "--execution-role-arn", ec2_only)
    assert code == 125, out
    assert (f"failed: --execution-role-arn: the execution role {ec2_only} does not trust ecs-tasks.amazonaws.com, so ECS "
            "could not assume it") in out  # fmt: skip

    other = "arn:aws:iam::210987654321:role/theirs"
    code, checks, out = dry(run, "--task-role-arn", other)
    assert code == 0, out
    assert f"skipped: task role {other}: a role of account 210987654321, not of this one: not checked" in checks
    nothing_started(sandbox)


def test_without_permission_for_iam_the_role_check_is_skipped(sandbox: Sandbox, run: Run) -> None:
    register(sandbox)
    sandbox.faults.deny("GetRole", "AccessDenied")
    missing = f"arn:aws:iam::{ACCOUNT}:role/app-gone"
    code, checks, out = dry(run, "--task-role-arn", missing)
    assert code == 0, out
    assert f"skipped: task role {missing}: no permission for iam:GetRole (optional: grant it for this check)" in checks


# -- the overrides' size ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dry_run", ["true", "false"])
def test_overrides_over_8192_characters_are_an_input_error(sandbox: Sandbox, run: Run, dry_run: str) -> None:
    register(sandbox)
    ran = run("--cluster", "Sample", "-t", "app", "-e", f"BIG={'x' * 8200}", "--dry-run", dry_run)
    assert ran.code == 125, ran.out[-2000:]
    assert "--environment: RunTask's overrides come to 8,2" in ran.out
    assert "characters of JSON, and ECS takes at most 8,192" in ran.out
    assert "x" * 100 not in ran.out  # the value is never printed
    nothing_started(sandbox)


def test_the_action_says_its_problems_in_the_actions_words(
    sandbox: Sandbox, run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    register(sandbox)
    output = tmp_path / "github_output"
    output.touch()
    monkeypatch.setenv("GITHUB_OUTPUT", str(output))  # actions-toolkit reads it from the process environment
    ran = run(env={"GITHUB_ACTIONS": "true", "GITHUB_OUTPUT": str(output), "INPUT_CLUSTER": "prodution",
                   "INPUT_TASK-DEFINITION": "app", "INPUT_DRY-RUN": "true", "INPUT_LAUNCH-TYPE": "FARGATE"})  # fmt: skip
    assert ran.code == 125, ran.out
    assert ("ecs-run-task: failed: cluster: 'prodution' was not found in us-east-1; check the cluster input and the "
            "region (the region input or AWS_REGION)") in ran.lines  # fmt: skip
    assert "ecs-run-task: failed: launch-type: FARGATE; Fargate needs network mode awsvpc" in ran.out
    nothing_started(sandbox)
