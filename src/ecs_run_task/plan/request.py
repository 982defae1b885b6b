"""Spec + task definition -> the exact RunTask request. Pure: no AWS, no clock, no environment."""

from __future__ import annotations

import copy
import json
from typing import Any

from ecs_run_task import words
from ecs_run_task.errors import InputError
from ecs_run_task.inputs.readers import MAX_CONSTRAINTS, no_placement_on_fargate, on_fargate
from ecs_run_task.inputs.spec import Spec


def container_names(task_definition: dict[str, Any]) -> list[str]:
    return [c["name"] for c in task_definition.get("containerDefinitions", [])]


def target_container(spec: Spec, task_definition: dict[str, Any]) -> str | None:
    """The container whose command/env are overridden: `container`, else the only (essential) one."""
    names = container_names(task_definition)
    if spec.container:
        if spec.container not in names:
            raise InputError(
                [
                    f"{words.flag('container')}: {spec.container!r} is not in task definition {_revision(task_definition)}; "
                    f"its containers are {', '.join(names)}"
                ]
            )
        return spec.container
    if len(names) == 1:
        return str(names[0])
    essential = [c["name"] for c in task_definition.get("containerDefinitions", []) if c.get("essential", True)]
    if len(essential) == 1:
        return str(essential[0])
    if spec.command is not None or spec.environment:
        raise InputError(
            [
                f"{words.flag('container')}: required with {words.flag('command')} or {words.flag('environment')}, "
                f"because task definition "
                f"{_revision(task_definition)} has several containers ({', '.join(names)})"
            ]
        )
    return None


def _revision(task_definition: dict[str, Any]) -> str:
    return f"{task_definition.get('family', '?')}:{task_definition.get('revision', '?')}"


def _container_override(spec: Spec, name: str | None) -> list[dict[str, Any]]:
    if name is None or (spec.command is None and not spec.environment):
        return []
    override: dict[str, Any] = {"name": name}
    if spec.command is not None:
        override["command"] = list(spec.command)
    if spec.environment:
        override["environment"] = [{"name": k, "value": v} for k, v in spec.environment]
    return [override]


def _merge_overrides(ours: dict[str, Any], raw: dict[str, Any]) -> dict[str, Any]:
    """Raw `overrides` win, field by field; container overrides are merged by container name."""
    merged = {**ours, **{k: v for k, v in raw.items() if k != "containerOverrides"}}
    by_name = {c["name"]: dict(c) for c in ours.get("containerOverrides", [])}
    for container in raw.get("containerOverrides", []):
        name = container.get("name")
        mine = by_name.get(name, {})
        by_name[name] = {**mine, **container}
        if "environment" in mine and "environment" in container:  # both kept; `overrides` wins a shared name
            env = {e["name"]: e for e in mine["environment"]} | {e["name"]: e for e in container["environment"]}
            by_name[name]["environment"] = list(env.values())
    if by_name:
        merged["containerOverrides"] = list(by_name.values())
    return merged


def overrides(spec: Spec, task_definition: dict[str, Any]) -> dict[str, Any]:
    ours: dict[str, Any] = {}
    containers = _container_override(spec, target_container(spec, task_definition))
    if containers:
        ours["containerOverrides"] = containers
    for key, value in (
        ("cpu", spec.cpu),
        ("memory", spec.memory),
        ("taskRoleArn", spec.task_role_arn),
        ("executionRoleArn", spec.execution_role_arn),
    ):
        if value is not None:
            ours[key] = value
    return _merge_overrides(ours, copy.deepcopy(dict(spec.overrides)))


OVERRIDES_LIMIT = 8192  # characters of RunTask's `overrides`, JSON formatting included, as ECS counts them


def overrides_size(task_overrides: dict[str, Any]) -> int:
    """The size ECS gives RunTask's `overrides`: the characters of their JSON, written without spaces."""
    return len(json.dumps(task_overrides, separators=(",", ":"), ensure_ascii=False))


def _check_size(spec: Spec, task_overrides: dict[str, Any]) -> None:
    size = overrides_size(task_overrides)
    if size <= OVERRIDES_LIMIT:
        return
    given = [name for name, value in (("command", spec.command), ("environment", spec.environment),
                                      ("overrides", spec.overrides)) if value] or ["overrides"]  # fmt: skip
    raise InputError([f"{', '.join(map(words.flag, given))}: RunTask's overrides come to {size:,} characters of JSON, and ECS takes at "
                      f"most {OVERRIDES_LIMIT:,} (it would refuse the task: \"overrides length must be at most "
                      f"{OVERRIDES_LIMIT}\"); keep long values in the task definition (its environment, secrets "
                      "from Secrets Manager or Parameter Store, or environmentFiles in S3) instead"])  # fmt: skip


def network(spec: Spec, task_definition: dict[str, Any]) -> dict[str, Any] | None:
    awsvpc = task_definition.get("networkMode") == "awsvpc"
    if not awsvpc:
        given = [name for name, value in (("subnets", spec.subnets), ("security-groups", spec.security_groups),
                                          ("assign-public-ip", spec.assign_public_ip is not None)) if value]  # fmt: skip
        if given:
            raise InputError(
                [
                    f"{words.flag(given[0])}: task definition {_revision(task_definition)} uses network mode "
                    f"{task_definition.get('networkMode', 'bridge')}; {words.flag('subnets')}, "
                    f"{words.flag('security-groups')} and {words.flag('assign-public-ip')} apply only to awsvpc"
                ]
            )
        return None
    if not spec.subnets:
        raise InputError(
            [
                f"{words.flag('subnets')}: required, because task definition {_revision(task_definition)} uses awsvpc networking; "
                "give subnet IDs (subnet-0123abcd, ...)"
            ]
        )
    config: dict[str, Any] = {
        "subnets": list(spec.subnets),
        "assignPublicIp": "ENABLED" if spec.assign_public_ip else "DISABLED",
    }
    if spec.security_groups:
        config["securityGroups"] = list(spec.security_groups)
    return {"awsvpcConfiguration": config}


def placement(spec: Spec, task_definition: dict[str, Any]) -> dict[str, Any]:
    """Placement constraints and strategy; refused for a task that can only run on Fargate (a service's launch
    type or strategy, or a task definition that requires FARGATE alone), where ECS takes none."""
    fargate = on_fargate(spec.launch_type, spec.capacity_provider_strategy)
    chosen = spec.launch_type or spec.capacity_provider_strategy  # neither: the task definition says where
    if not chosen and task_definition.get("requiresCompatibilities") == ["FARGATE"]:
        fargate = f"task definition {_revision(task_definition)} requires FARGATE"
    given = [(name, value) for name, value in (("placement-constraints", spec.placement_constraints),
                                               ("placement-strategy", spec.placement_strategy)) if value]  # fmt: skip
    if given and fargate:
        raise InputError([f"{words.flag(name)}: {no_placement_on_fargate(fargate)}" for name, _ in given])
    theirs = len(task_definition.get("placementConstraints") or [])
    if spec.placement_constraints and len(spec.placement_constraints) + theirs > MAX_CONSTRAINTS:
        raise InputError([f"{words.flag('placement-constraints')}: task definition {_revision(task_definition)} has {theirs} of "
                          f"its own, and ECS takes at most {MAX_CONSTRAINTS} in all"])  # fmt: skip
    found: dict[str, Any] = {}
    if spec.placement_constraints:
        found["placementConstraints"] = [{"type": p.type} | ({"expression": p.argument} if p.argument else {})
                                         for p in spec.placement_constraints]  # fmt: skip
    if spec.placement_strategy:
        found["placementStrategy"] = [{"type": p.type} | ({"field": p.argument} if p.argument else {})
                                      for p in spec.placement_strategy]  # fmt: skip
    return found


def volumes(spec: Spec, task_definition: dict[str, Any]) -> list[dict[str, Any]]:
    """`volume-configurations`, each naming a volume the task definition configures at launch."""
    at_launch = [v.get("name") for v in task_definition.get("volumes") or [] if v.get("configuredAtLaunch")]
    for volume in spec.volume_configurations:
        if volume["name"] not in at_launch:
            theirs = f"those are {', '.join(map(str, at_launch))}" if at_launch else "it has none"
            raise InputError([f"{words.flag('volume-configurations')}: {volume['name']!r} is not a volume that task definition "
                              f"{_revision(task_definition)} configures at launch (configuredAtLaunch: true); "
                              f"{theirs}"])  # fmt: skip
    return [copy.deepcopy(dict(v)) for v in spec.volume_configurations]


def run_task_request(
    spec: Spec, task_definition: dict[str, Any], *, started_by: str, client_token: str
) -> dict[str, Any]:
    """The RunTask parameters, exactly as sent. `client_token` makes a retried call start nothing twice."""
    request: dict[str, Any] = {
        "cluster": spec.cluster,
        "taskDefinition": task_definition["taskDefinitionArn"],  # pin the revision we inspected
        "count": spec.count,
        "startedBy": spec.started_by or started_by,
        "clientToken": client_token,
        "enableExecuteCommand": spec.enable_execute_command,
        "enableECSManagedTags": spec.enable_ecs_managed_tags,
    }
    task_overrides = overrides(spec, task_definition)
    if task_overrides:
        _check_size(spec, task_overrides)
        request["overrides"] = task_overrides
    if spec.launch_type:
        request["launchType"] = spec.launch_type
    if spec.capacity_provider_strategy:
        request["capacityProviderStrategy"] = [
            {"capacityProvider": p.name}
            | ({"weight": p.weight} if p.weight is not None else {})
            | ({"base": p.base} if p.base is not None else {})
            for p in spec.capacity_provider_strategy
        ]
    networking = network(spec, task_definition)
    if networking:
        request["networkConfiguration"] = networking
    for key, value in (("platformVersion", spec.platform_version), ("group", spec.group),
                       ("propagateTags", spec.propagate_tags)):  # fmt: skip
        if value is not None:
            request[key] = value
    if spec.tags:
        request["tags"] = [{"key": k, "value": v} for k, v in spec.tags]
    request |= placement(spec, task_definition)
    if spec.volume_configurations:
        request["volumeConfigurations"] = volumes(spec, task_definition)
    return request
