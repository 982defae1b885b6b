"""Task definitions we register: from a JSON file, or an existing one with `container`'s image swapped.

Pure: the caller reads the file and knows which fields RegisterTaskDefinition accepts (from botocore's
model, so fields added to ECS later are kept rather than silently dropped)."""

from __future__ import annotations

import copy
from collections.abc import Collection
from typing import Any

from ecs_run_task import words
from ecs_run_task.errors import InputError
from ecs_run_task.inputs import parse

MAX_FILE_BYTES = 1024 * 1024


def parse_file(text: str, path: str) -> dict[str, Any]:
    """JSON as `aws ecs describe-task-definition` (outer `taskDefinition` key) or a render step writes it."""
    try:
        parsed = parse.json_value(text, what="a task definition", limit=MAX_FILE_BYTES)
    except parse.BadValue as e:
        raise InputError([f"{words.flag('task-definition')}: {path} {e}"]) from None
    if isinstance(parsed, dict) and isinstance(parsed.get("taskDefinition"), dict):
        parsed = parsed["taskDefinition"]
    if not isinstance(parsed, dict):
        raise InputError([f"{words.flag('task-definition')}: {path} holds JSON that is not an object"])
    missing = [key for key in ("family", "containerDefinitions") if not parsed.get(key)]
    if missing:
        raise InputError(
            [f"{words.flag('task-definition')}: {path} has no {' or '.join(missing)}; is it a task definition?"]
        )
    containers = parsed["containerDefinitions"]
    if not isinstance(containers, list) or not all(isinstance(c, dict) and isinstance(c.get("name"), str)
                                                   for c in containers):  # fmt: skip
        raise InputError(
            [f"{words.flag('task-definition')}: {path}: containerDefinitions must be an array of objects with a name"]
        )
    return parsed


def registration(task_definition: dict[str, Any], accepted: Collection[str]) -> dict[str, Any]:
    """RegisterTaskDefinition parameters: every field it accepts; the read-only ones (ARN, revision, status,
    registeredAt, ...) dropped."""
    return {k: copy.deepcopy(v) for k, v in task_definition.items() if k in accepted and v is not None}


def with_image(task_definition: dict[str, Any], container: str, image: str) -> dict[str, Any]:
    swapped = copy.deepcopy(task_definition)
    names = [c["name"] for c in swapped.get("containerDefinitions", [])]
    if container not in names:
        raise InputError(
            [
                f"{words.flag('container')}: {container!r} is not in the task definition; its containers are {', '.join(names)}"
            ]
        )
    for definition in swapped["containerDefinitions"]:
        if definition["name"] == container:
            definition["image"] = image
    return swapped


def image_of(task_definition: dict[str, Any], container: str) -> str | None:
    return next(
        (c.get("image") for c in task_definition.get("containerDefinitions", []) if c["name"] == container), None
    )


def cautions(task_definition: dict[str, Any], deciders: Collection[str], *, logs: bool = True) -> list[str]:
    """What in the deciding containers' definitions may make the run's answer or log wrong, each with its fix:
    a `restartPolicy` (ECS may restart the container in place: the exit seen may not be its last), and awslogs in
    `non-blocking` mode (ECS's default when unset, since June 2025: lines are dropped when its buffer fills)."""
    said = []
    for container in task_definition.get("containerDefinitions", []):
        name = container.get("name")
        if name not in deciders:
            continue
        policy = container.get("restartPolicy")
        if isinstance(policy, dict) and policy.get("enabled"):
            said.append(f"container {name} has a restartPolicy: ECS may restart it in place, so the exit this run "
                        "sees may not be its last; for a one-off task such as a migration, set restartPolicy's "
                        "enabled to false in its container definition")  # fmt: skip
        config = container.get("logConfiguration") or {}
        mode = (config.get("options") or {}).get("mode")
        if logs and config.get("logDriver") == "awslogs" and mode in (None, "non-blocking"):
            how = "non-blocking" if mode else "not set, which means non-blocking (ECS's default since June 2025)"
            said.append(f"container {name}: its awslogs mode is {how}: lines are dropped when the log buffer "
                        "fills; for a migration, set \"mode\": \"blocking\" in its logConfiguration options")  # fmt: skip
    return said
