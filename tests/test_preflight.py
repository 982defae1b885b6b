"""The decisions of the checks before a run (plan/preflight.py), on plain data: how an image, a role and a placement
are read. The checks against AWS's answers are end to end in test_dry_run_checks.py."""

from __future__ import annotations

from typing import Any

import pytest

from ecs_run_task.errors import InputError
from ecs_run_task.plan import preflight
from ecs_run_task.plan.preflight import EcrImage, ecr_image, placement, role_account, role_name

HOST = ".".join(["123456789012", "dkr", "ecr", "eu-west-1", "amazonaws", "com"])  # built: no host name in the code
DIGEST = "sha256:" + "0123456789abcdef" * 4


@pytest.mark.parametrize(
    ("image", "read"),
    [
        (f"{HOST}/app:v42", EcrImage("123456789012", "eu-west-1", "app", "v42", None)),
        (f"{HOST}/team/app", EcrImage("123456789012", "eu-west-1", "team/app", None, None)),
        (f"{HOST}/app@{DIGEST}", EcrImage("123456789012", "eu-west-1", "app", None, DIGEST)),
        (f"{HOST}/app:v1@{DIGEST}", EcrImage("123456789012", "eu-west-1", "app", "v1", DIGEST)),
        (HOST.replace(".ecr.", ".ecr-fips.") + "/app:v1", EcrImage("123456789012", "eu-west-1", "app", "v1", None)),
        ("acme/app:v1", None),  # Docker Hub
        ("public.ecr.aws/acme/app:v1", None),  # ECR Public: no DescribeImages of ours
        (f"{HOST}:5000/app:v1", None),  # not an ECR registry's form
        (f"{HOST}/App:v1", None),  # ECR repositories are lower case
    ],
)
def test_an_ecr_image_is_read_into_registry_region_repository_and_tag_or_digest(
    image: str, read: EcrImage | None
) -> None:
    assert ecr_image(image) == read


def test_an_image_is_looked_up_by_digest_if_it_has_one_else_by_tag_or_latest() -> None:
    assert EcrImage("1", "r", "app", "v1", DIGEST).image_id == {"imageDigest": DIGEST}
    assert EcrImage("1", "r", "app", "v1", None).image_id == {"imageTag": "v1"}
    assert EcrImage("1", "r", "app", None, None).image_id == {"imageTag": "latest"}


@pytest.mark.parametrize(
    ("role", "name", "account"),
    [
        ("arn:aws:iam::123456789012:role/app-task", "app-task", "123456789012"),
        ("arn:aws:iam::123456789012:role/service/ecs/app-task", "app-task", "123456789012"),
        ("arn:aws-cn:iam::123456789012:role/app", "app", "123456789012"),
        ("app-task", "app-task", None),  # a name: this account's
        ("arn:aws:iam::123456789012:user/someone", None, None),
        ("not a role", None, None),
    ],
)
def test_a_role_is_named_by_its_arn_or_its_name(role: str, name: str | None, account: str | None) -> None:
    assert (role_name(role), role_account(role)) == (name, account)


CLUSTER: dict[str, Any] = {"clusterArn": "arn:aws:ecs:eu-west-1:123456789012:cluster/prod", "status": "ACTIVE"}


@pytest.mark.parametrize(
    ("request_", "cluster", "kind", "said"),
    [
        ({"launchType": "FARGATE"}, None, "FARGATE", "launch-type: FARGATE"),
        ({"capacityProviderStrategy": [{"capacityProvider": "FARGATE_SPOT"}]}, None, "FARGATE",
         "capacity-provider-strategy: FARGATE_SPOT"),
        ({"capacityProviderStrategy": [{"capacityProvider": "asg"}]}, None, None, "capacity-provider-strategy: asg"),
        ({}, {**CLUSTER, "defaultCapacityProviderStrategy": [{"capacityProvider": "FARGATE"}]}, "FARGATE",
         "launch-type: not given, so the default capacity provider strategy of cluster prod applies (FARGATE)"),
        ({}, CLUSTER, "EC2",
         "launch-type: not given, and cluster prod has no default capacity provider strategy, so the task runs on EC2"),
    ],
)  # fmt: skip
def test_where_a_task_runs_follows_the_inputs_then_the_clusters_default(
    request_: dict[str, Any], cluster: dict[str, Any] | None, kind: str | None, said: str
) -> None:
    where = placement({"cluster": "prod", **request_}, cluster)
    assert where is not None
    assert (where.kind, where.said) == (kind, said)


def test_without_the_cluster_a_run_without_launch_type_or_strategy_is_not_judged() -> None:
    assert placement({"cluster": "prod"}, None) is None
    assert preflight.launch_checks({"cluster": "prod"}, {"family": "app", "networkMode": "bridge"}, None) == []


def test_a_task_definition_file_is_judged_by_its_network_mode_alone() -> None:
    """A file has no `compatibilities` (ECS computes them at registration): only FARGATE's need of awsvpc is known."""
    file = {"family": "app", "networkMode": "awsvpc", "requiresCompatibilities": ["EC2"]}
    [passed] = preflight.launch_checks({"cluster": "prod", "launchType": "FARGATE"}, file, CLUSTER)
    assert passed.verdict == "passed"


def test_log_groups_are_those_of_awslogs_containers_that_ecs_will_not_create() -> None:
    def awslogs(group: str, **more: str) -> dict[str, Any]:
        return {"logDriver": "awslogs", "options": {"awslogs-group": group, **more}}

    definition = {"containerDefinitions": [
        {"name": "web", "logConfiguration": awslogs("/ecs/app")},
        {"name": "worker", "logConfiguration": awslogs("/ecs/app")},
        {"name": "far", "logConfiguration": awslogs("/ecs/app", **{"awslogs-region": "ap-south-2"})},
        {"name": "made", "logConfiguration": awslogs("/ecs/new", **{"awslogs-create-group": "true"})},
        {"name": "odd", "logConfiguration": awslogs("/ecs/odd", **{"awslogs-region": "../x"})},
        {"name": "firelens", "logConfiguration": {"logDriver": "awsfirelens", "options": {}}},
        {"name": "none"},
    ]}  # fmt: skip
    assert preflight.log_groups(definition, "eu-west-1") == [
        ("/ecs/app", "eu-west-1", ["web", "worker"]),
        ("/ecs/app", "ap-south-2", ["far"]),
    ]


def test_a_report_fails_with_every_failed_check_as_an_input_error() -> None:
    report = preflight.Report((preflight.Check("a", "passed", "fine"), preflight.Check("b", "failed", "b: wrong"),
                               preflight.Check("c", "skipped", "no permission for x:Y"),
                               preflight.Check("d", "failed", "d: wrong too")))  # fmt: skip
    assert report.lines() == ["passed: a: fine", "failed: b: wrong", "skipped: c: no permission for x:Y",
                              "failed: d: wrong too"]  # fmt: skip
    with pytest.raises(InputError) as raised:
        report.raise_failed()
    assert raised.value.problems == ["b: wrong", "d: wrong too"]
    preflight.Report(report.checks[:1]).raise_failed()  # nothing failed: nothing raised
