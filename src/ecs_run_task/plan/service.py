"""A service's settings as defaults for the run: explicit inputs win, field by field. Pure."""

from __future__ import annotations

import dataclasses
from typing import Any

from ecs_run_task import words
from ecs_run_task.errors import InputError
from ecs_run_task.inputs.spec import CapacityProvider, Spec


def settings(service: dict[str, Any]) -> dict[str, Any]:
    """The service's settings. With an EXTERNAL (or CODE_DEPLOY) deployment controller they live on its
    PRIMARY task set rather than on the service itself."""
    primary: dict[str, Any] = next((t for t in service.get("taskSets") or [] if t.get("status") == "PRIMARY"), {})
    return {**primary, **{k: v for k, v in service.items() if v}}


def apply(spec: Spec, service: dict[str, Any]) -> Spec:
    """The spec with the service's task definition, network, launch type or capacity provider strategy and
    platform version filled in where the user gave none."""
    service = settings(service)
    changes: dict[str, Any] = {}
    if spec.task_definition is None and spec.task_definition_file is None:
        if not service.get("taskDefinition"):
            raise InputError([f"{words.flag('task-definition')}: required, because service {service.get('serviceName')!r} names "
                              "none (no primary task set); give the task definition to run"])  # fmt: skip
        changes["task_definition"] = service["taskDefinition"]
    vpc = (service.get("networkConfiguration") or {}).get("awsvpcConfiguration") or {}
    if not spec.subnets and vpc.get("subnets"):
        changes["subnets"] = tuple(vpc["subnets"])
    if not spec.security_groups and vpc.get("securityGroups"):
        changes["security_groups"] = tuple(vpc["securityGroups"])
    if spec.assign_public_ip is None and vpc.get("assignPublicIp"):
        changes["assign_public_ip"] = vpc["assignPublicIp"] == "ENABLED"
    # one of launch type and strategy, never both; neither means the cluster's default strategy
    if not spec.launch_type and not spec.capacity_provider_strategy:
        if service.get("capacityProviderStrategy"):
            changes["capacity_provider_strategy"] = tuple(
                CapacityProvider(p["capacityProvider"], p.get("weight"), p.get("base"))
                for p in service["capacityProviderStrategy"]
            )
        elif service.get("launchType"):
            changes["launch_type"] = service["launchType"]
    if spec.platform_version is None and service.get("platformVersion"):
        changes["platform_version"] = service["platformVersion"]
    return dataclasses.replace(spec, **changes)
