"""Readers for each input's text: the value the Spec holds, or `BadValue` saying what is accepted. The generic
parsers (durations, booleans, KEY=VALUE lines, JSON within limits) are `parse.py`'s; `spec.build` names the
input and collects every problem. Pure."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from ecs_run_task import words
from ecs_run_task.inputs import parse
from ecs_run_task.inputs.parse import BadValue

LAUNCH_TYPES = ("FARGATE", "EC2", "EXTERNAL", "MANAGED_INSTANCES")
IF_RUNNING = ("start", "wait", "fail", "attach")
JSON_LOGS = ("pretty", "raw")
MAX_START_RETRIES = 10
PROPAGATE_TAGS = ("TASK_DEFINITION", "NONE")
TASK_OVERRIDE_KEYS = frozenset(
    {
        "containerOverrides",
        "cpu",
        "memory",
        "taskRoleArn",
        "executionRoleArn",
        "ephemeralStorage",
        "inferenceAcceleratorOverrides",
    }
)
DEFAULT_TIMEOUT = 3600.0
MAX_COUNT = 10
FARGATE_PROVIDERS = ("FARGATE", "FARGATE_SPOT")
MAX_CONSTRAINTS = 10  # ECS: a task's, the task definition's counted too (see plan.placement)
MAX_STRATEGIES = 5
CONSTRAINT_FORMS = "distinctInstance or memberOf:EXPRESSION"
STRATEGY_FORMS = "spread:FIELD, binpack:cpu, binpack:memory or random"

NAME = re.compile(r"[A-Za-z0-9_-]{1,255}")
_ECS_ARN = r"arn:aws[a-z-]*:ecs:[a-z0-9-]+:\d{12}:"  # in every partition, any region and account
CLUSTER = re.compile(rf"[A-Za-z0-9_-]{{1,255}}|{_ECS_ARN}cluster/[A-Za-z0-9_-]{{1,255}}")
NAME_OR_ARN = re.compile(rf"[A-Za-z0-9_-]{{1,255}}|{_ECS_ARN}service/.+")
IMAGE = re.compile(r"[^\s]{1,1024}")
TASK_DEF_ACCEPTED = "a family (app), family:revision (app:12), an ARN, or a path to a JSON file (taskdef.json)"
TASK_DEF = re.compile(rf"[A-Za-z0-9_-]{{1,255}}(:[1-9]\d*)?|{_ECS_ARN}task-definition/.+")
ROLE_ARN = re.compile(r"arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}")
REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-\d{1,2}")
STARTED_BY = re.compile(r"[A-Za-z0-9/_-]{1,128}")
TASK = re.compile(rf"[0-9a-f]{{32}}|[0-9a-f]{{8}}(-[0-9a-f]{{4}}){{3}}-[0-9a-f]{{12}}|{_ECS_ARN}task/[A-Za-z0-9_/-]+")
CPU = re.compile(r"\d+|\d+(\.\d+)?\s*(vCPU|vcpu)")
MEMORY = re.compile(r"\d+|\d+(\.\d+)?\s*(GB|gb)")
_WEIGHT = re.compile(r"[0-9]{1,6}")  # a capacity provider's weight (0-1000) or base (0-100000); int() takes these


@dataclass(frozen=True)
class CapacityProvider:
    name: str
    weight: int | None = None
    base: int | None = None


@dataclass(frozen=True)
class Placement:
    """A placement constraint (`memberOf` and its expression) or strategy (`spread` and its field)."""

    type: str
    argument: str | None = None  # a constraint's expression, a strategy's field


def looks_like_file(reference: str) -> bool:
    """A task definition given as a path: it ends in .json or has a / (and is not an ARN)."""
    return not reference.startswith("arn:") and (reference.endswith(".json") or "/" in reference)


def clip(text: str) -> str:
    return text if len(text) <= 80 else text[:77] + "..."


# The readers below take their settings first, so that `partial` makes each input's reader; they are looked up
# when a reader is called, not when it is made (as mutation testing wants: see .ci/mutate).
def matching(pattern: re.Pattern[str], accepted: str, text: str) -> str:
    if not pattern.fullmatch(text.strip()):
        raise BadValue(f"expected {accepted}")
    return text.strip()


def one_of(choices: tuple[str, ...], text: str) -> str:
    if text.strip() not in choices:
        raise BadValue(f"expected one of {', '.join(choices)}")
    return text.strip()


def ids(prefix: str, most: int, text: str) -> tuple[str, ...]:
    found = parse.words(text)
    bad = [i for i in found if not re.fullmatch(rf"{prefix}-[0-9a-f]{{8,17}}", i)]
    if bad:
        raise BadValue(
            f"{clip(bad[0])!r} is not an ID of the form {prefix}-0123abcd; separate IDs with commas or spaces"
        )
    if len(found) > most:
        raise BadValue(f"at most {most} are accepted, got {len(found)}")
    return found


def capacity_providers(text: str) -> tuple[CapacityProvider, ...]:
    stripped = text.strip()
    if stripped.startswith("["):
        items = parse.json_value(stripped, what="a JSON array")
        shape = '{"capacityProvider": "NAME", "weight": 1, "base": 0}'
        if not isinstance(items, list) or not all(
            isinstance(i, dict) and isinstance(i.get("capacityProvider"), str)
            and all(isinstance(i.get(k, 0), int) and not isinstance(i.get(k), bool) for k in ("weight", "base"))
            for i in items
        ):  # fmt: skip
            raise BadValue(f"expected a JSON array of {shape} objects")
        return tuple(CapacityProvider(i["capacityProvider"], i.get("weight"), i.get("base")) for i in items)
    providers = []
    for item in parse.words(stripped):
        name, *numbers = item.split(":")
        if not NAME.fullmatch(name) or len(numbers) > 2 or not all(_WEIGHT.fullmatch(n) for n in numbers):
            raise BadValue(f"{clip(item)!r} is not name[:weight[:base]], e.g. FARGATE_SPOT:3:0")
        weight, base = ([int(n) for n in numbers] + [None, None])[:2]
        providers.append(CapacityProvider(name, weight, base))
    return tuple(providers)


def tags(text: str) -> tuple[tuple[str, str], ...]:
    tags = parse.key_values(text, what="a tag")
    for key, value in tags:
        if key.lower().startswith("aws:"):
            raise BadValue(f"tag key {key!r} uses the reserved prefix aws:")
        if len(key) > 128 or len(value) > 256:
            raise BadValue(f"tag {key!r}: keys are at most 128 characters and values at most 256")
    if len(tags) > 50:
        raise BadValue(f"at most 50 tags are accepted, got {len(tags)}")
    return tags


def overrides(text: str) -> dict[str, Any]:
    parsed = parse.json_object(text)
    unknown = sorted(set(parsed) - TASK_OVERRIDE_KEYS)
    if unknown:
        raise BadValue(f"unknown TaskOverride key {unknown[0]!r}; accepted: {', '.join(sorted(TASK_OVERRIDE_KEYS))}")
    # what we merge with our own overrides must have the shape we merge by; botocore checks the rest later
    containers = parsed.get("containerOverrides", [])
    if not isinstance(containers, list) or not all(isinstance(c, dict) and isinstance(c.get("name"), str)
                                                   for c in containers):  # fmt: skip
        raise BadValue('containerOverrides: expected an array of objects with a "name", e.g. [{"name": "web"}]')
    for c in containers:
        env = c.get("environment", [])
        if not isinstance(env, list) or not all(isinstance(e, dict) and isinstance(e.get("name"), str) for e in env):
            raise BadValue(
                f'containerOverrides {c["name"]!r}: environment must be an array of {{"name": ..., "value": ...}}'
            )
    return parsed


def volume_configurations(text: str) -> tuple[dict[str, Any], ...]:
    items = parse.json_value(text.strip(), what="a JSON array")
    if not isinstance(items, list) or not all(isinstance(i, dict) and isinstance(i.get("name"), str) for i in items):
        raise BadValue('expected a JSON array of {"name": "VOLUME", "managedEBSVolume": {"roleArn": ..., '
                       '"sizeInGiB": ...}} objects, one for each volume the task definition configures at launch')  # fmt: skip
    names = [i["name"] for i in items]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise BadValue(f"volume {twice[0]!r} is configured twice")
    return tuple(items)


def _short_forms(text: str, known: str) -> list[str]:
    """Short forms, one a line; on one line, a comma separates items only where the next one starts with a known
    form, so a memberOf expression keeps its own commas (`memberOf:attribute:ecs.availability-zone in [a, b]`)."""
    items = []
    for line in text.split("\n"):
        items += [item.strip() for item in re.split(rf",\s*(?={known})", line)]
    return [item.rstrip(",").strip() for item in items if item.rstrip(",").strip()]


def _placements(
    text: str, argument: str, known: str, check: Callable[[str, str | None, str], Placement], most: int
) -> tuple[Placement, ...]:
    """JSON (`[{"type": ..., "<argument>": ...}]`) or short forms (`type:argument`), each item checked by `check`."""
    stripped = text.strip()
    pieces: list[tuple[str, str | None, str]] = []  # (type, argument, as the user wrote it)
    if stripped.startswith(("[", "{")):
        items = parse.json_value(stripped, what="a JSON array")
        if not isinstance(items, list) or not all(
            isinstance(i, dict) and set(i) <= {"type", argument} and isinstance(i.get("type"), str)
            and isinstance(i.get(argument, ""), str) for i in items
        ):  # fmt: skip
            raise BadValue(f'expected a JSON array of {{"type": ..., "{argument}": ...}} objects')
        pieces = [(i["type"], i.get(argument), json.dumps(i)) for i in items]
    else:
        for item in _short_forms(stripped, known):
            kind, sep, rest = item.partition(":")
            pieces.append((kind.strip(), rest.strip() if sep else None, item))
    placements = tuple(check(kind, arg, shown) for kind, arg, shown in pieces)
    if len(placements) > most:
        raise BadValue(f"at most {most} are accepted, got {len(placements)}")
    return placements


def _constraint(kind: str, expression: str | None, shown: str) -> Placement:
    if kind == "distinctInstance" and expression is None:
        return Placement(kind)
    if kind == "memberOf" and expression and len(expression) <= 2000:
        return Placement(kind, expression)
    raise BadValue(f"{clip(shown)!r} is not {CONSTRAINT_FORMS}; give one a line (or separate them by commas)")


def _strategy(kind: str, field: str | None, shown: str) -> Placement:
    if (kind == "random" and field is None) or (kind == "binpack" and field in ("cpu", "memory")):
        return Placement(kind, field)
    if kind == "spread" and field and re.fullmatch(r"\S{1,255}", field):
        return Placement(kind, field)
    raise BadValue(f"{clip(shown)!r} is not {STRATEGY_FORMS}; give one a line (or separate them by commas)")


def constraints(text: str) -> tuple[Placement, ...]:
    return _placements(text, "expression", r"distinctInstance\b|memberOf:", _constraint, MAX_CONSTRAINTS)


def strategies(text: str) -> tuple[Placement, ...]:
    return _placements(text, "field", r"spread:|binpack:|random\b", _strategy, MAX_STRATEGIES)


def on_fargate(launch_type: str | None, strategy: Sequence[CapacityProvider]) -> str | None:
    """Why these inputs run the task on Fargate, where ECS takes no placement constraints or strategy."""
    if launch_type == "FARGATE":
        return words.setting("launch-type", "FARGATE")
    fargate = [p.name for p in strategy if p.name in FARGATE_PROVIDERS]
    return f"capacity provider {fargate[0]}" if fargate else None


def positive_duration(text: str) -> float:
    seconds = parse.duration(text)
    if not 0.1 <= seconds <= 600:
        raise BadValue("expected a duration from 100ms to 10m")
    return seconds


def path(text: str) -> str:
    path = text.strip()
    if "\0" in path or "\n" in path:
        raise BadValue("expected a file path on one line")
    return path


def variables(text: str) -> tuple[tuple[str, str], ...]:
    return parse.key_values(text, what="a variable")


# One reader for each input that is a pattern or a choice: `spec.build` reads like the contract's table.
task_definition = partial(matching, TASK_DEF, TASK_DEF_ACCEPTED)
service = partial(matching, NAME_OR_ARN, "a service name or ARN")
image = partial(matching, IMAGE, "an image reference such as repo/app:tag or repo/app@sha256:...")
cluster = partial(matching, CLUSTER, "a cluster name (letters, digits, - and _) or ARN")
container = partial(matching, NAME, "a container name (letters, digits, - and _)")
cpu = partial(matching, CPU, "CPU units (256, 1024, ...) or vCPUs (0.5 vCPU)")
memory = partial(matching, MEMORY, "MiB (512, 2048, ...) or GB (2 GB)")
role_arn = partial(matching, ROLE_ARN, "an IAM role ARN")
platform_version = partial(matching, re.compile(r"LATEST|\d+\.\d+\.\d+"), "LATEST or a version such as 1.4.0")
launch_type = partial(one_of, LAUNCH_TYPES)
subnets = partial(ids, "subnet", 16)
security_groups = partial(ids, "sg", 5)
propagate_tags = partial(one_of, PROPAGATE_TAGS)
started_by = partial(matching, STARTED_BY, "up to 128 letters, digits, -, _ and /")
group = partial(matching, re.compile(r".{1,255}"), "one line of at most 255 characters")
region = partial(matching, REGION, "a region name such as eu-west-1")
if_running = partial(one_of, IF_RUNNING)
json_logs = partial(one_of, JSON_LOGS)
task = partial(matching, TASK, "a task ARN (arn:aws:ecs:...:task/CLUSTER/ID) or a task ID")


def count(text: str) -> int:
    return parse.whole_number(text, 1, MAX_COUNT)


def start_retries(text: str) -> int:
    return parse.whole_number(text, 0, MAX_START_RETRIES)
