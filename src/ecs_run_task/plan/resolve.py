"""Before anything starts: find what will run, with read-only calls only.

The service's settings (with gate-deployment, those of its deployment's target revision) fill in what the inputs
left out; a task definition file or an `image` means a new revision to register (after validation, so bad input
creates nothing); `dry-run` stops here."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from ecs_run_task import words
from ecs_run_task.aws.clients import Ecs
from ecs_run_task.errors import InputError, RunError
from ecs_run_task.inputs import taskdef
from ecs_run_task.inputs.spec import Spec
from ecs_run_task.plan import request as plan
from ecs_run_task.plan import service


@dataclasses.dataclass(frozen=True)
class Resolved:
    spec: Spec  # with the service's settings applied
    task_definition: dict[str, Any]  # what will run; before registration, without an ARN of its own
    register: dict[str, Any] | None  # RegisterTaskDefinition parameters, when a new revision is needed
    task_definition_arn: str  # what RunTask will name (predicted, until registered)


def _read(path: str) -> str:
    """The file's text, read within `taskdef.MAX_FILE_BYTES` (`-t /dev/zero` must not fill the memory)."""
    try:
        with Path(path).open("rb") as f:
            data = f.read(taskdef.MAX_FILE_BYTES + 1)
    except OSError as e:
        raise InputError(
            [
                f"{words.flag('task-definition')}: {path} cannot be read ({e.strerror}); paths are relative to the workspace"
            ]
        ) from None
    if len(data) > taskdef.MAX_FILE_BYTES:
        raise InputError([f"{words.flag('task-definition')}: {path} is larger than {taskdef.MAX_FILE_BYTES // 1024} KiB; "
                          "is it a task definition? (ECS takes at most 64 KiB)"])  # fmt: skip
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError(
            [f"{words.flag('task-definition')}: {path} is not UTF-8 text; is it a task definition?"]
        ) from None


def _next_arn(ecs: Ecs, family: str, latest: dict[str, Any] | None) -> str:
    """The ARN the registration will most likely get: the latest ACTIVE revision + 1."""
    if latest is None:
        try:
            latest = ecs.describe_task_definition(family)
        except RunError:
            return f"{family}:1"  # a new family
    arn = str(latest["taskDefinitionArn"])
    return f"{arn.rsplit(':', 1)[0]}:{int(latest['revision']) + 1}"


def resolve(spec: Spec, ecs: Ecs) -> Resolved:
    given = spec
    if spec.service:  # a deployment's target revision (gate-deployment) in place of what the service runs now
        settings = (
            dict(spec.revision) if spec.revision is not None else ecs.describe_service(spec.cluster, spec.service)
        )
        spec = service.apply(spec, settings)
    described: dict[str, Any] | None = None
    register: dict[str, Any] | None = None
    if spec.task_definition_file:
        definition = taskdef.parse_file(_read(spec.task_definition_file), spec.task_definition_file)
        register = taskdef.registration(definition, ecs.registration_fields())
    else:
        described = definition = ecs.describe_task_definition(spec.task_definition or "")
    if given.service and definition.get("networkMode") != "awsvpc":  # the service's subnets don't fit this one
        spec = dataclasses.replace(spec, subnets=given.subnets, security_groups=given.security_groups,
                                   assign_public_ip=given.assign_public_ip)  # fmt: skip
    if spec.image:
        container = plan.target_container(spec, definition)
        if container is None:
            names = ", ".join(plan.container_names(definition))
            raise InputError(
                [
                    f"{words.flag('container')}: required with {words.flag('image')}, because the task definition has several ({names})"
                ]
            )
        if taskdef.image_of(definition, container) != spec.image:  # same image: reuse the revision
            register = taskdef.with_image(register or taskdef.registration(definition, ecs.registration_fields()),
                                          container, spec.image)  # fmt: skip
    if register is None:  # an existing revision, as described
        return Resolved(spec, definition, None, str(definition["taskDefinitionArn"]))
    return Resolved(spec, register, register, _next_arn(ecs, str(register["family"]), described))


def checked_request(resolved: Resolved, *, started_by: str, client_token: str) -> dict[str, Any]:
    """The RunTask request, validated against the task definition before anything is registered or run."""
    definition = {**resolved.task_definition, "taskDefinitionArn": resolved.task_definition_arn}
    return plan.run_task_request(resolved.spec, definition, started_by=started_by, client_token=client_token)
