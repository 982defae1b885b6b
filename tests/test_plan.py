"""The RunTask request, exactly as sent, from a spec and a task definition. Pure."""

from __future__ import annotations

import json
from typing import Any

import pytest

from ecs_run_task.errors import InputError
from ecs_run_task.inputs import spec
from ecs_run_task.plan import request as plan

TD_ARN = "arn:aws:ecs:us-east-1:123456789012:task-definition/app:7"


def task_definition(*containers: tuple[str, bool], network_mode: str = "awsvpc") -> dict[str, Any]:
    return {
        "taskDefinitionArn": TD_ARN,
        "family": "app",
        "revision": 7,
        "networkMode": network_mode,
        "containerDefinitions": [{"name": n, "essential": e} for n, e in containers],
    }


def request(raw: dict[str, str], td: dict[str, Any]) -> dict[str, Any]:
    return plan.run_task_request(spec.build(raw), td, started_by="gh/acme/app/42/1", client_token="tok")


def test_the_exact_request_for_a_full_set_of_inputs() -> None:
    raw = {
        "cluster": "Sample",
        "task-definition": "app",
        "container": "web",
        "command": "bin/rails db:migrate",
        "environment": "RAILS_ENV=production\nLOG_LEVEL=debug",
        "cpu": "512",
        "memory": "1024",
        "task-role-arn": "arn:aws:iam::123456789012:role/app-task",
        "execution-role-arn": "arn:aws:iam::123456789012:role/app-exec",
        "overrides": '{"ephemeralStorage": {"sizeInGiB": 30}, "memory": "2048",'
        ' "containerOverrides": [{"name": "web", "memoryReservation": 512}, {"name": "sidecar", "command": ["x"]}]}',
        "capacity-provider-strategy": "FARGATE_SPOT:3:1,FARGATE:1",
        "platform-version": "1.4.0",
        "subnets": "subnet-0123abcd subnet-4567efab",
        "security-groups": "sg-0123abcd",
        "assign-public-ip": "true",
        "count": "2",
        "tags": "team=platform\ndeploy=42",
        "propagate-tags": "TASK_DEFINITION",
        "started-by": "release-42",
        "group": "migrations",
        "enable-execute-command": "true",
    }
    assert request(raw, task_definition(("web", True), ("sidecar", False))) == {
        "cluster": "Sample",
        "taskDefinition": TD_ARN,
        "count": 2,
        "startedBy": "release-42",
        "clientToken": "tok",
        "enableExecuteCommand": True,
        "enableECSManagedTags": False,
        "overrides": {
            "containerOverrides": [
                {
                    "name": "web",
                    "command": ["bin/rails", "db:migrate"],
                    "environment": [
                        {"name": "RAILS_ENV", "value": "production"},
                        {"name": "LOG_LEVEL", "value": "debug"},
                    ],
                    "memoryReservation": 512,
                },
                {"name": "sidecar", "command": ["x"]},
            ],
            "cpu": "512",
            "memory": "2048",  # raw overrides are merged last
            "taskRoleArn": "arn:aws:iam::123456789012:role/app-task",
            "executionRoleArn": "arn:aws:iam::123456789012:role/app-exec",
            "ephemeralStorage": {"sizeInGiB": 30},
        },
        "capacityProviderStrategy": [
            {"capacityProvider": "FARGATE_SPOT", "weight": 3, "base": 1},
            {"capacityProvider": "FARGATE", "weight": 1},
        ],
        "networkConfiguration": {
            "awsvpcConfiguration": {
                "subnets": ["subnet-0123abcd", "subnet-4567efab"],
                "assignPublicIp": "ENABLED",
                "securityGroups": ["sg-0123abcd"],
            }
        },
        "platformVersion": "1.4.0",
        "group": "migrations",
        "propagateTags": "TASK_DEFINITION",
        "tags": [{"key": "team", "value": "platform"}, {"key": "deploy", "value": "42"}],
    }


def test_a_minimal_request_pins_the_revision_and_names_the_ci_run() -> None:
    assert request({"task-definition": "app"}, task_definition(("web", True), network_mode="bridge")) == {
        "cluster": "default",
        "taskDefinition": TD_ARN,
        "count": 1,
        "startedBy": "gh/acme/app/42/1",
        "clientToken": "tok",
        "enableExecuteCommand": False,
        "enableECSManagedTags": False,
    }


def test_the_only_container_is_the_default_target_of_command() -> None:
    built = request({"task-definition": "app", "command": "echo hi", "launch-type": "EC2"},
                    task_definition(("only", True), network_mode="bridge"))  # fmt: skip
    assert built["overrides"] == {"containerOverrides": [{"name": "only", "command": ["echo", "hi"]}]}
    assert built["launchType"] == "EC2"


def test_the_only_essential_container_is_the_default_target_beside_sidecars() -> None:
    td = task_definition(("log-router", False), ("app", True), network_mode="bridge")
    assert (
        request({"task-definition": "app", "command": "x"}, td)["overrides"]["containerOverrides"][0]["name"] == "app"
    )


def test_several_essential_containers_need_container_for_a_command() -> None:
    td = task_definition(("a", True), ("b", True), network_mode="bridge")
    with pytest.raises(InputError, match=r"container: required with command or environment.*\(a, b\)"):
        request({"task-definition": "app", "command": "x"}, td)


def test_a_container_not_in_the_task_definition_lists_the_ones_that_are() -> None:
    with pytest.raises(InputError) as caught:
        request({"task-definition": "app", "container": "wbe"}, task_definition(("web", True), ("db", True)))
    assert caught.value.problems == ["container: 'wbe' is not in task definition app:7; its containers are web, db"]


def test_awsvpc_without_subnets_is_refused_before_running() -> None:
    with pytest.raises(InputError, match="subnets: required, because task definition app:7 uses awsvpc"):
        request({"task-definition": "app"}, task_definition(("web", True)))


def test_subnets_for_a_bridge_task_definition_are_refused() -> None:
    with pytest.raises(InputError, match="network mode bridge"):
        request(
            {"task-definition": "app", "subnets": "subnet-0123abcd"},
            task_definition(("w", True), network_mode="bridge"),
        )


def test_public_ip_defaults_to_disabled() -> None:
    built = request({"task-definition": "app", "subnets": "subnet-0123abcd"}, task_definition(("web", True)))
    assert built["networkConfiguration"] == {
        "awsvpcConfiguration": {"subnets": ["subnet-0123abcd"], "assignPublicIp": "DISABLED"}
    }


def test_placement_volumes_and_managed_tags_are_sent_as_given() -> None:
    td = task_definition(("web", True), network_mode="bridge") | {
        "volumes": [{"name": "data", "configuredAtLaunch": True}, {"name": "scratch", "host": {}}]
    }
    volume = (
        '[{"name": "data", "managedEBSVolume": {"sizeInGiB": 20, "roleArn": "arn:aws:iam::123456789012:role/ebs"}}]'
    )
    built = request({"task-definition": "app", "launch-type": "EC2", "volume-configurations": volume,
                     "placement-constraints": "memberOf:attribute:ecs.instance-type =~ t3.*\ndistinctInstance",
                     "placement-strategy": "spread:attribute:ecs.availability-zone,binpack:memory",
                     "enable-ecs-managed-tags": "true"}, td)  # fmt: skip
    assert built["volumeConfigurations"] == [
        {"name": "data", "managedEBSVolume": {"sizeInGiB": 20, "roleArn": "arn:aws:iam::123456789012:role/ebs"}}
    ]
    assert built["placementConstraints"] == [
        {"type": "memberOf", "expression": "attribute:ecs.instance-type =~ t3.*"}, {"type": "distinctInstance"}]  # fmt: skip
    assert built["placementStrategy"] == [
        {"type": "spread", "field": "attribute:ecs.availability-zone"}, {"type": "binpack", "field": "memory"}]  # fmt: skip
    assert built["enableECSManagedTags"] is True


def test_a_volume_the_task_definition_does_not_configure_at_launch_is_refused() -> None:
    td = task_definition(("web", True), network_mode="bridge") | {
        "volumes": [{"name": "data", "configuredAtLaunch": True}, {"name": "scratch", "host": {}}]
    }
    with pytest.raises(InputError) as caught:
        request({"task-definition": "app", "volume-configurations": '[{"name": "scratch"}]'}, td)
    assert caught.value.problems == [
        "volume-configurations: 'scratch' is not a volume that task definition app:7 configures at launch "
        "(configuredAtLaunch: true); those are data"
    ]
    with pytest.raises(InputError, match=r"app:7 configures at launch .*; it has none"):
        request(
            {"task-definition": "app", "volume-configurations": '[{"name": "data"}]'},
            task_definition(("w", True), network_mode="bridge"),
        )


def test_placement_is_refused_for_a_task_definition_that_runs_only_on_fargate() -> None:
    td = task_definition(("web", True)) | {"requiresCompatibilities": ["FARGATE"]}
    with pytest.raises(InputError) as caught:
        request({"task-definition": "app", "subnets": "subnet-0123abcd", "placement-strategy": "random"}, td)
    assert caught.value.problems == [
        "placement-strategy: ECS takes none for tasks on Fargate (task definition app:7 requires FARGATE); "
        "they apply to EC2 instances"
    ]
    on_ec2 = request({"task-definition": "app", "subnets": "subnet-0123abcd", "placement-strategy": "random"},
                     task_definition(("web", True)) | {"requiresCompatibilities": ["EC2", "FARGATE"]})  # fmt: skip
    assert on_ec2["placementStrategy"] == [{"type": "random"}]


def test_placement_is_refused_when_a_service_runs_the_task_on_fargate() -> None:
    from ecs_run_task.plan import service

    given = spec.build({"service": "web", "placement-constraints": "distinctInstance"})
    applied = service.apply(given, {"serviceName": "web", "taskDefinition": TD_ARN, "launchType": "FARGATE"})
    with pytest.raises(InputError, match=r"placement-constraints: ECS takes none for tasks on Fargate \(launch-type"):
        plan.run_task_request(applied, task_definition(("web", True), network_mode="bridge"), started_by="x",
                              client_token="t")  # fmt: skip


def test_placement_constraints_count_with_the_task_definitions_own() -> None:
    td = task_definition(("web", True), network_mode="bridge") | {
        "placementConstraints": [{"type": "memberOf", "expression": f"attribute:n{i} exists"} for i in range(8)]
    }
    assert len(request({"task-definition": "app", "placement-constraints": "distinctInstance\n" * 2}, td)[
        "placementConstraints"]) == 2  # fmt: skip
    with pytest.raises(InputError) as caught:
        request({"task-definition": "app", "placement-constraints": "distinctInstance\n" * 3}, td)
    assert caught.value.problems == [
        "placement-constraints: task definition app:7 has 8 of its own, and ECS takes at most 10 in all"
    ]


def problems_of(raw: dict[str, str], td: dict[str, Any]) -> list[str]:
    with pytest.raises(InputError) as caught:
        request(raw, td)
    return caught.value.problems


BARE = {"taskDefinitionArn": TD_ARN, "containerDefinitions": [{"name": "web"}]}  # no family, revision or network mode


def test_a_container_definition_without_essential_is_essential_and_the_default_target() -> None:
    td = {**BARE, "containerDefinitions": [{"name": "app"}, {"name": "log-router", "essential": False}]}
    assert request({"task-definition": "app", "command": "x"}, td)["overrides"] == {
        "containerOverrides": [{"name": "app", "command": ["x"]}]
    }


def test_a_task_definition_without_containers_overrides_none() -> None:
    assert plan.container_names({}) == []
    assert plan.target_container(spec.build({"task-definition": "app"}), {}) is None


@pytest.mark.parametrize(
    ("raw", "first"),
    [({"subnets": "subnet-0123abcd", "security-groups": "sg-0123abcd"}, "subnets"),
     ({"security-groups": "sg-0123abcd"}, "security-groups"),
     ({"assign-public-ip": "false"}, "assign-public-ip")],
)  # fmt: skip
def test_awsvpc_inputs_for_another_network_mode_are_refused_naming_the_first_given(raw: dict[str, str],
                                                                                    first: str) -> None:  # fmt: skip
    assert problems_of({"task-definition": "app", **raw}, BARE) == [
        f"{first}: task definition ?:? uses network mode bridge; subnets, security-groups and assign-public-ip apply "
        "only to awsvpc"
    ]
    assert problems_of({"task-definition": "app", **raw}, BARE | {"networkMode": "host"})[0].startswith(
        f"{first}: task definition ?:? uses network mode host;"
    )


def test_awsvpc_without_subnets_says_which_ids_to_give() -> None:
    assert problems_of({"task-definition": "app"}, {**BARE, "networkMode": "awsvpc"}) == [
        "subnets: required, because task definition ?:? uses awsvpc networking; give subnet IDs (subnet-0123abcd, ...)"
    ]


def test_overrides_merge_environment_by_name_the_overrides_input_winning_a_shared_one() -> None:
    raw = {
        "task-definition": "app",
        "environment": "A=1\nB=2",
        "overrides": '{"containerOverrides": [{"name": "web", "environment": [{"name": "B", "value": "x"},'
        ' {"name": "C", "value": "y"}]}]}',
    }
    assert request(raw, BARE)["overrides"] == {
        "containerOverrides": [
            {
                "name": "web",
                "environment": [{"name": "A", "value": "1"}, {"name": "B", "value": "x"}, {"name": "C", "value": "y"}],
            }
        ]
    }


def test_an_empty_container_overrides_list_sends_no_overrides() -> None:
    assert "overrides" not in request({"task-definition": "app", "overrides": '{"containerOverrides": []}'}, BARE)


def test_the_request_shares_nothing_with_the_spec() -> None:
    td = BARE | {"volumes": [{"name": "data", "configuredAtLaunch": True}]}
    given = spec.build({"task-definition": "app", "overrides": '{"ephemeralStorage": {"sizeInGiB": 30}}',
                        "volume-configurations": '[{"name": "data", "managedEBSVolume": {"sizeInGiB": 20}}]'})  # fmt: skip
    built = plan.run_task_request(given, td, started_by="ci", client_token="tok")
    built["overrides"]["ephemeralStorage"]["sizeInGiB"] = 200
    built["volumeConfigurations"][0]["managedEBSVolume"]["sizeInGiB"] = 200
    assert given.overrides == {"ephemeralStorage": {"sizeInGiB": 30}}
    assert given.volume_configurations == ({"name": "data", "managedEBSVolume": {"sizeInGiB": 20}},)


def test_a_volume_not_configured_at_launch_lists_all_those_that_are() -> None:
    td = BARE | {
        "volumes": [{"name": "data", "configuredAtLaunch": True}, {"name": "logs", "configuredAtLaunch": True}]
    }
    assert problems_of({"task-definition": "app", "volume-configurations": '[{"name": "tmp"}]'}, td) == [
        "volume-configurations: 'tmp' is not a volume that task definition ?:? configures at launch "
        "(configuredAtLaunch: true); those are data, logs"
    ]


def test_a_launch_type_given_lets_placement_through_whatever_the_task_definition_requires() -> None:
    td = BARE | {"requiresCompatibilities": ["FARGATE"]}
    built = request({"task-definition": "app", "launch-type": "EC2", "placement-strategy": "random"}, td)
    assert built["placementStrategy"] == [{"type": "random"}]
    by_provider = request({"task-definition": "app", "capacity-provider-strategy": "ec2-spot",
                           "placement-strategy": "random"}, td)  # fmt: skip
    assert by_provider["placementStrategy"] == [{"type": "random"}]


def test_a_capacity_provider_without_weight_or_base_is_sent_without_them() -> None:
    built = request({"task-definition": "app", "capacity-provider-strategy": "FARGATE_SPOT,FARGATE:2"}, BARE)
    assert built["capacityProviderStrategy"] == [{"capacityProvider": "FARGATE_SPOT"},
                                                 {"capacityProvider": "FARGATE", "weight": 2}]  # fmt: skip


def test_overrides_past_ecss_8192_characters_are_refused_naming_the_limit_and_the_size() -> None:
    """ECS counts the JSON of the overrides, its formatting included, and refuses the task past 8192 characters."""
    td = task_definition(("web", True), network_mode="bridge")
    fits = request({"task-definition": "app", "environment": "A=" + "x" * 8000}, td)
    assert plan.overrides_size(fits["overrides"]) <= plan.OVERRIDES_LIMIT
    with pytest.raises(InputError) as caught:
        request({"task-definition": "app", "environment": "A=" + "x" * 8200, "command": "bin/rails db:migrate"}, td)
    [problem] = caught.value.problems
    size = plan.overrides_size({"containerOverrides": [{"name": "web", "command": ["bin/rails", "db:migrate"],
                                                        "environment": [{"name": "A", "value": "x" * 8200}]}]})  # fmt: skip
    assert problem.startswith(f"command, environment: RunTask's overrides come to {size:,} characters of JSON, and "
                              "ECS takes at most 8,192")  # fmt: skip
    assert "x" * 20 not in problem  # no value echoed


def test_the_override_size_is_counted_as_ecs_counts_it_json_without_spaces() -> None:
    assert plan.overrides_size({"containerOverrides": [{"name": "web", "command": ["a", "b"]}]}) == len(
        '{"containerOverrides":[{"name":"web","command":["a","b"]}]}'
    )
    assert plan.overrides_size({"cpu": "é"}) == len('{"cpu":"é"}')  # characters, not bytes nor \\u escapes


def test_overrides_of_exactly_8192_characters_pass_and_one_more_is_refused() -> None:
    td = task_definition(("web", True), network_mode="bridge")
    empty = plan.overrides_size({"containerOverrides": [{"name": "web", "environment": [{"name": "A", "value": ""}]}]})
    pad = plan.OVERRIDES_LIMIT - empty
    fits = request({"task-definition": "app", "environment": "A=" + "x" * pad}, td)
    assert plan.overrides_size(fits["overrides"]) == 8192
    with pytest.raises(InputError) as caught:
        request({"task-definition": "app", "environment": "A=" + "x" * (pad + 1)}, td)
    assert caught.value.problems == [
        "environment: RunTask's overrides come to 8,193 characters of JSON, and ECS takes at most 8,192 (it would refuse "
        'the task: "overrides length must be at most 8192"); keep long values in the task definition (its environment, '
        "secrets from Secrets Manager or Parameter Store, or environmentFiles in S3) instead"
    ]


def test_long_overrides_given_whole_are_named_as_the_overrides_input() -> None:
    td = task_definition(("web", True), network_mode="bridge")
    given = json.dumps({"containerOverrides": [{"name": "web", "environment": [{"name": "A", "value": "x" * 8200}]}]})
    with pytest.raises(InputError) as caught:
        request({"task-definition": "app", "overrides": given}, td)
    [problem] = caught.value.problems
    assert problem.startswith("overrides: RunTask's overrides come to ")
