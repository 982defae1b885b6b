"""The run spec: every input, parsed and validated once, frozen.

Both faces feed `build()` the same thing: a mapping from the contract's input names to raw text
(GitHub: `INPUT_*`; CLI: flags). Nothing here reads the environment or talks to AWS.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from ecs_run_task import values
from ecs_run_task.errors import InputError
from ecs_run_task.values import BadValue

LAUNCH_TYPES = ("FARGATE", "EC2", "EXTERNAL", "MANAGED_INSTANCES")
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

_NAME = re.compile(r"[A-Za-z0-9_-]{1,255}")
_CLUSTER = re.compile(r"[A-Za-z0-9_-]{1,255}|arn:aws[a-z-]*:ecs:[a-z0-9-]+:\d{12}:cluster/[A-Za-z0-9_-]{1,255}")
_NAME_OR_ARN = re.compile(r"[A-Za-z0-9_-]{1,255}|arn:aws[a-z-]*:ecs:[a-z0-9-]+:\d{12}:service/.+")
_IMAGE = re.compile(r"[^\s]{1,1024}")
_TASK_DEF_ACCEPTED = "a family (app), family:revision (app:12), an ARN, or a path to a JSON file (taskdef.json)"
_TASK_DEF = re.compile(r"[A-Za-z0-9_-]{1,255}(:[1-9]\d*)?|arn:aws[a-z-]*:ecs:[a-z0-9-]+:\d{12}:task-definition/.+")
_ROLE_ARN = re.compile(r"arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}")
_REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-\d{1,2}")
_STARTED_BY = re.compile(r"[A-Za-z0-9/_-]{1,128}")
_CPU = re.compile(r"\d+|\d+(\.\d+)?\s*(vCPU|vcpu)")
_MEMORY = re.compile(r"\d+|\d+(\.\d+)?\s*(GB|gb)")
_WEIGHT = re.compile(r"[0-9]{1,6}")  # a capacity provider's weight (0-1000) or base (0-100000); int() takes these


@dataclass(frozen=True)
class CapacityProvider:
    name: str
    weight: int | None = None
    base: int | None = None


@dataclass(frozen=True)
class Spec:
    task_definition: str | None = None  # family[:revision] or ARN; None: the service's
    task_definition_file: str | None = None  # a JSON task definition to register first
    service: str | None = None
    image: str | None = None
    dry_run: bool = False
    cluster: str = "default"
    container: str | None = None
    command: tuple[str, ...] | None = None
    environment: tuple[tuple[str, str], ...] = ()
    cpu: str | None = None
    memory: str | None = None
    task_role_arn: str | None = None
    execution_role_arn: str | None = None
    overrides: Mapping[str, Any] = field(default_factory=dict)
    launch_type: str | None = None
    capacity_provider_strategy: tuple[CapacityProvider, ...] = ()
    platform_version: str | None = None
    subnets: tuple[str, ...] = ()
    security_groups: tuple[str, ...] = ()
    assign_public_ip: bool | None = None  # None: not given (the default, false, applies)
    count: int = 1
    tags: tuple[tuple[str, str], ...] = ()
    propagate_tags: str | None = None
    started_by: str | None = None
    group: str | None = None
    enable_execute_command: bool = False
    wait: bool = True
    timeout: float | None = DEFAULT_TIMEOUT  # seconds; None: no limit
    poll_interval: float = 2.0
    logs: bool = True
    log_drain: float = 15.0
    annotate: bool = True
    region: str | None = None


T = TypeVar("T")
_SECRET_INPUTS = frozenset({"environment", "overrides", "command"})  # a command may carry a password


class _Reader:
    """Reads one input at a time and collects every problem, so the user fixes them all in one go."""

    def __init__(self, raw: Mapping[str, str]) -> None:
        self.raw = raw
        self.problems: list[str] = []

    def get(self, name: str, parse: Callable[[str], T], default: T) -> T:
        text = self.raw.get(name, "")
        if not text.strip():
            return default
        try:
            return parse(text)
        except BadValue as e:
            self.fail(name, text, str(e))
            return default

    def fail(self, name: str, text: str | None, why: str) -> None:
        # values of these may be secrets: name the input and the problem, never echo the text
        shown = "" if text is None or name in _SECRET_INPUTS else f" got {_clip(text)!r};"
        self.problems.append(f"{name}:{shown} {why}")


def looks_like_file(reference: str) -> bool:
    """A task definition given as a path: it ends in .json or has a / (and is not an ARN)."""
    return not reference.startswith("arn:") and (reference.endswith(".json") or "/" in reference)


def _clip(text: str) -> str:
    return text if len(text) <= 80 else text[:77] + "..."


def _matching(pattern: re.Pattern[str], accepted: str) -> Callable[[str], str]:
    def parse(text: str) -> str:
        if not pattern.fullmatch(text.strip()):
            raise BadValue(f"expected {accepted}")
        return text.strip()

    return parse


def _one_of(choices: tuple[str, ...]) -> Callable[[str], str]:
    def parse(text: str) -> str:
        if text.strip() not in choices:
            raise BadValue(f"expected one of {', '.join(choices)}")
        return text.strip()

    return parse


def _ids(prefix: str, most: int) -> Callable[[str], tuple[str, ...]]:
    def parse(text: str) -> tuple[str, ...]:
        ids = values.words(text)
        bad = [i for i in ids if not re.fullmatch(rf"{prefix}-[0-9a-f]{{8,17}}", i)]
        if bad:
            raise BadValue(
                f"{_clip(bad[0])!r} is not an ID of the form {prefix}-0123abcd; separate IDs with commas or spaces"
            )
        if len(ids) > most:
            raise BadValue(f"at most {most} are accepted, got {len(ids)}")
        return ids

    return parse


def _capacity_providers(text: str) -> tuple[CapacityProvider, ...]:
    stripped = text.strip()
    if stripped.startswith("["):
        items = values.json_value(stripped, what="a JSON array")
        shape = '{"capacityProvider": "NAME", "weight": 1, "base": 0}'
        if not isinstance(items, list) or not all(
            isinstance(i, dict) and isinstance(i.get("capacityProvider"), str)
            and all(isinstance(i.get(k, 0), int) and not isinstance(i.get(k), bool) for k in ("weight", "base"))
            for i in items
        ):  # fmt: skip
            raise BadValue(f"expected a JSON array of {shape} objects")
        return tuple(CapacityProvider(i["capacityProvider"], i.get("weight"), i.get("base")) for i in items)
    providers = []
    for item in values.words(stripped):
        name, *numbers = item.split(":")
        if not _NAME.fullmatch(name) or len(numbers) > 2 or not all(_WEIGHT.fullmatch(n) for n in numbers):
            raise BadValue(f"{_clip(item)!r} is not name[:weight[:base]], e.g. FARGATE_SPOT:3:0")
        weight, base = ([int(n) for n in numbers] + [None, None])[:2]
        providers.append(CapacityProvider(name, weight, base))
    return tuple(providers)


def _tags(text: str) -> tuple[tuple[str, str], ...]:
    tags = values.key_values(text, what="a tag")
    for key, value in tags:
        if key.lower().startswith("aws:"):
            raise BadValue(f"tag key {key!r} uses the reserved prefix aws:")
        if len(key) > 128 or len(value) > 256:
            raise BadValue(f"tag {key!r}: keys are at most 128 characters and values at most 256")
    if len(tags) > 50:
        raise BadValue(f"at most 50 tags are accepted, got {len(tags)}")
    return tags


def _overrides(text: str) -> dict[str, Any]:
    parsed = values.json_object(text)
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


def _positive_duration(text: str) -> float:
    seconds = values.duration(text)
    if not 0.1 <= seconds <= 600:
        raise BadValue("expected a duration from 100ms to 10m")
    return seconds


def _variables(text: str) -> tuple[tuple[str, str], ...]:
    return values.key_values(text, what="a variable")


def _pairs(r: _Reader, given: Sequence[str]) -> tuple[tuple[str, str], ...]:
    """`-e KEY=VALUE` flags: each exactly one variable, whatever its value holds (a PEM's new lines too)."""
    pairs = []
    for number, text in enumerate(given, start=1):
        try:
            pairs.append(values.pair(text, what="a variable"))
        except BadValue as e:
            r.fail("environment", None, f"-e #{number}: {e}")
    return tuple(pairs)


def build(raw: Mapping[str, str], env_pairs: Sequence[str] = ()) -> Spec:
    """Validate every input; raise `InputError` listing all problems. `env_pairs` are `-e` flags."""
    r = _Reader(raw)
    reference = raw.get("task-definition", "").strip()
    task_definition = task_definition_file = None
    if looks_like_file(reference):
        task_definition_file = reference
    elif reference:
        task_definition = r.get("task-definition", _matching(_TASK_DEF, _TASK_DEF_ACCEPTED), None)
    service = r.get("service", _matching(_NAME_OR_ARN, "a service name or ARN"), None)
    if not reference and not raw.get("service", "").strip():
        r.fail("task-definition", None, f"is required unless service is given: {_TASK_DEF_ACCEPTED}")
    launch_type = r.get("launch-type", _one_of(LAUNCH_TYPES), None)
    no_strategy: tuple[CapacityProvider, ...] = ()
    strategy = r.get("capacity-provider-strategy", _capacity_providers, no_strategy)
    if launch_type and strategy:
        r.fail("launch-type", launch_type, "cannot be combined with capacity-provider-strategy: give one of them")
    timeout = r.get("timeout", values.duration, DEFAULT_TIMEOUT)
    no_pairs: tuple[tuple[str, str], ...] = ()
    spec = Spec(
        task_definition=task_definition,
        task_definition_file=task_definition_file,
        service=service,
        image=r.get("image", _matching(_IMAGE, "an image reference such as repo/app:tag or repo/app@sha256:..."), None),
        dry_run=r.get("dry-run", values.boolean, False),
        cluster=r.get("cluster", _matching(_CLUSTER, "a cluster name (letters, digits, - and _) or ARN"), "default"),
        container=r.get("container", _matching(_NAME, "a container name (letters, digits, - and _)"), None),
        command=r.get("command", values.command, None),
        environment=r.get("environment", _variables, no_pairs) + _pairs(r, env_pairs),
        cpu=r.get("cpu", _matching(_CPU, "CPU units (256, 1024, ...) or vCPUs (0.5 vCPU)"), None),
        memory=r.get("memory", _matching(_MEMORY, "MiB (512, 2048, ...) or GB (2 GB)"), None),
        task_role_arn=r.get("task-role-arn", _matching(_ROLE_ARN, "an IAM role ARN"), None),
        execution_role_arn=r.get("execution-role-arn", _matching(_ROLE_ARN, "an IAM role ARN"), None),
        overrides=r.get("overrides", _overrides, {}),
        launch_type=launch_type,
        capacity_provider_strategy=strategy,
        platform_version=r.get(
            "platform-version",
            _matching(re.compile(r"LATEST|\d+\.\d+\.\d+"), "LATEST or a version such as 1.4.0"),
            None,
        ),
        subnets=r.get("subnets", _ids("subnet", 16), ()),
        security_groups=r.get("security-groups", _ids("sg", 5), ()),
        assign_public_ip=r.get("assign-public-ip", values.boolean, None),
        count=r.get("count", lambda t: values.whole_number(t, 1, MAX_COUNT), 1),
        tags=r.get("tags", _tags, ()),
        propagate_tags=r.get("propagate-tags", _one_of(PROPAGATE_TAGS), None),
        started_by=r.get("started-by", _matching(_STARTED_BY, "up to 128 letters, digits, -, _ and /"), None),
        group=r.get("group", _matching(re.compile(r".{1,255}"), "one line of at most 255 characters"), None),
        enable_execute_command=r.get("enable-execute-command", values.boolean, False),
        wait=r.get("wait", values.boolean, True),
        timeout=timeout or None,
        poll_interval=r.get("poll-interval", _positive_duration, 2.0),
        logs=r.get("logs", values.boolean, True),
        log_drain=r.get("log-drain", values.duration, 15.0),
        annotate=r.get("annotate", values.boolean, True),
        region=r.get("region", _matching(_REGION, "a region name such as eu-west-1"), None),
    )
    if r.problems:
        raise InputError(r.problems)
    return spec
