"""The run spec: every input, parsed and validated once, frozen.

Both faces feed `build()` the same thing: a mapping from the contract's input names to raw text
(GitHub: `INPUT_*`; CLI: flags). Nothing here reads the environment or talks to AWS.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from ecs_run_task import parse
from ecs_run_task.errors import InputError
from ecs_run_task.parse import BadValue

LAUNCH_TYPES = ("FARGATE", "EC2", "EXTERNAL", "MANAGED_INSTANCES")
IF_RUNNING = ("start", "wait", "fail", "attach")
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

_NAME = re.compile(r"[A-Za-z0-9_-]{1,255}")
_CLUSTER = re.compile(r"[A-Za-z0-9_-]{1,255}|arn:aws[a-z-]*:ecs:[a-z0-9-]+:\d{12}:cluster/[A-Za-z0-9_-]{1,255}")
_NAME_OR_ARN = re.compile(r"[A-Za-z0-9_-]{1,255}|arn:aws[a-z-]*:ecs:[a-z0-9-]+:\d{12}:service/.+")
_IMAGE = re.compile(r"[^\s]{1,1024}")
_TASK_DEF_ACCEPTED = "a family (app), family:revision (app:12), an ARN, or a path to a JSON file (taskdef.json)"
_TASK_DEF = re.compile(r"[A-Za-z0-9_-]{1,255}(:[1-9]\d*)?|arn:aws[a-z-]*:ecs:[a-z0-9-]+:\d{12}:task-definition/.+")
_ROLE_ARN = re.compile(r"arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}")
_REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-\d{1,2}")
_STARTED_BY = re.compile(r"[A-Za-z0-9/_-]{1,128}")
_TASK = re.compile(
    r"[0-9a-f]{32}|[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}|arn:aws[a-z-]*:ecs:[a-z0-9-]+:\d{12}:task/[A-Za-z0-9_/-]+"
)
_CPU = re.compile(r"\d+|\d+(\.\d+)?\s*(vCPU|vcpu)")
_MEMORY = re.compile(r"\d+|\d+(\.\d+)?\s*(GB|gb)")
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
    start_retries: int = 2  # more starts of a task that never ran, for a transient cause (capacity, ...)
    if_running: str = "start"  # what to do when a task of the same group runs already
    attach: str | None = None  # follow this task (ARN or ID) instead of starting one
    warnings: tuple[str, ...] = ()  # traps in the input that are not errors: said before the run, never fatal
    volume_configurations: tuple[Mapping[str, Any], ...] = ()
    placement_constraints: tuple[Placement, ...] = ()
    placement_strategy: tuple[Placement, ...] = ()
    enable_ecs_managed_tags: bool = False
    log_file: str | None = None


T = TypeVar("T")
_SECRET_INPUTS = frozenset({"environment", "overrides", "command"})  # a command may carry a password


class _Reader:
    """Reads one input at a time and collects every problem, so the user fixes them all in one go."""

    def __init__(self, raw: Mapping[str, str], origins: Mapping[str, str]) -> None:
        self.raw = raw
        self.origins = origins
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
        origin = f" (from {self.origins[name]})" if name in self.origins else ""
        self.problems.append(f"{name}{origin}:{shown} {why}")


def looks_like_file(reference: str) -> bool:
    """A task definition given as a path: it ends in .json or has a / (and is not an ARN)."""
    return not reference.startswith("arn:") and (reference.endswith(".json") or "/" in reference)


def _clip(text: str) -> str:
    return text if len(text) <= 80 else text[:77] + "..."


def _matching(pattern: re.Pattern[str], accepted: str) -> Callable[[str], str]:
    def read(text: str) -> str:
        if not pattern.fullmatch(text.strip()):
            raise BadValue(f"expected {accepted}")
        return text.strip()

    return read


def _one_of(choices: tuple[str, ...]) -> Callable[[str], str]:
    def read(text: str) -> str:
        if text.strip() not in choices:
            raise BadValue(f"expected one of {', '.join(choices)}")
        return text.strip()

    return read


def _ids(prefix: str, most: int) -> Callable[[str], tuple[str, ...]]:
    def read(text: str) -> tuple[str, ...]:
        ids = parse.words(text)
        bad = [i for i in ids if not re.fullmatch(rf"{prefix}-[0-9a-f]{{8,17}}", i)]
        if bad:
            raise BadValue(
                f"{_clip(bad[0])!r} is not an ID of the form {prefix}-0123abcd; separate IDs with commas or spaces"
            )
        if len(ids) > most:
            raise BadValue(f"at most {most} are accepted, got {len(ids)}")
        return ids

    return read


def _capacity_providers(text: str) -> tuple[CapacityProvider, ...]:
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
        if not _NAME.fullmatch(name) or len(numbers) > 2 or not all(_WEIGHT.fullmatch(n) for n in numbers):
            raise BadValue(f"{_clip(item)!r} is not name[:weight[:base]], e.g. FARGATE_SPOT:3:0")
        weight, base = ([int(n) for n in numbers] + [None, None])[:2]
        providers.append(CapacityProvider(name, weight, base))
    return tuple(providers)


def _tags(text: str) -> tuple[tuple[str, str], ...]:
    tags = parse.key_values(text, what="a tag")
    for key, value in tags:
        if key.lower().startswith("aws:"):
            raise BadValue(f"tag key {key!r} uses the reserved prefix aws:")
        if len(key) > 128 or len(value) > 256:
            raise BadValue(f"tag {key!r}: keys are at most 128 characters and values at most 256")
    if len(tags) > 50:
        raise BadValue(f"at most 50 tags are accepted, got {len(tags)}")
    return tags


def _overrides(text: str) -> dict[str, Any]:
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


def _volume_configurations(text: str) -> tuple[dict[str, Any], ...]:
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
    raise BadValue(f"{_clip(shown)!r} is not {CONSTRAINT_FORMS}; give one a line (or separate them by commas)")


def _strategy(kind: str, field: str | None, shown: str) -> Placement:
    if (kind == "random" and field is None) or (kind == "binpack" and field in ("cpu", "memory")):
        return Placement(kind, field)
    if kind == "spread" and field and re.fullmatch(r"\S{1,255}", field):
        return Placement(kind, field)
    raise BadValue(f"{_clip(shown)!r} is not {STRATEGY_FORMS}; give one a line (or separate them by commas)")


def _constraints(text: str) -> tuple[Placement, ...]:
    return _placements(text, "expression", r"distinctInstance\b|memberOf:", _constraint, MAX_CONSTRAINTS)


def _strategies(text: str) -> tuple[Placement, ...]:
    return _placements(text, "field", r"spread:|binpack:|random\b", _strategy, MAX_STRATEGIES)


def on_fargate(launch_type: str | None, strategy: Sequence[CapacityProvider]) -> str | None:
    """Why these inputs run the task on Fargate, where ECS takes no placement constraints or strategy."""
    if launch_type == "FARGATE":
        return "launch-type FARGATE"
    fargate = [p.name for p in strategy if p.name in FARGATE_PROVIDERS]
    return f"capacity provider {fargate[0]}" if fargate else None


def _positive_duration(text: str) -> float:
    seconds = parse.duration(text)
    if not 0.1 <= seconds <= 600:
        raise BadValue("expected a duration from 100ms to 10m")
    return seconds


def _path(text: str) -> str:
    path = text.strip()
    if "\0" in path or "\n" in path:
        raise BadValue("expected a file path on one line")
    return path


def _variables(text: str) -> tuple[tuple[str, str], ...]:
    return parse.key_values(text, what="a variable")


def _pairs(r: _Reader, given: Sequence[str]) -> tuple[tuple[str, str], ...]:
    """`-e KEY=VALUE` flags: each exactly one variable, whatever its value holds (a PEM's new lines too)."""
    pairs = []
    for number, text in enumerate(given, start=1):
        try:
            pairs.append(parse.pair(text, what="a variable"))
        except BadValue as e:
            r.problems.append(f"environment: -e #{number}: {e}")
    return tuple(pairs)


def build(raw: Mapping[str, str], env_pairs: Sequence[str] = (), origins: Mapping[str, str] | None = None) -> Spec:
    """Validate every input; raise `InputError` listing all problems. `env_pairs` are `-e` flags; `origins` names
    the environment variable an input's text came from, for its problems to name it too."""
    r = _Reader(raw, origins or {})
    reference = raw.get("task-definition", "").strip()
    task_definition = task_definition_file = None
    if looks_like_file(reference):
        task_definition_file = reference
    elif reference:
        task_definition = r.get("task-definition", _matching(_TASK_DEF, _TASK_DEF_ACCEPTED), None)
    service = r.get("service", _matching(_NAME_OR_ARN, "a service name or ARN"), None)
    if not reference and not raw.get("service", "").strip() and not raw.get("attach", "").strip():
        r.fail("task-definition", None, f"is required unless service or attach is given: {_TASK_DEF_ACCEPTED}")
    launch_type = r.get("launch-type", _one_of(LAUNCH_TYPES), None)
    no_strategy: tuple[CapacityProvider, ...] = ()
    strategy = r.get("capacity-provider-strategy", _capacity_providers, no_strategy)
    if launch_type and strategy:
        r.fail("launch-type", launch_type, "cannot be combined with capacity-provider-strategy: give one of them")
    timeout = r.get("timeout", parse.duration, DEFAULT_TIMEOUT)
    no_placement: tuple[Placement, ...] = ()
    constraints = r.get("placement-constraints", _constraints, no_placement)
    strategies = r.get("placement-strategy", _strategies, no_placement)
    fargate = on_fargate(launch_type, strategy)
    for name, given in (("placement-constraints", constraints), ("placement-strategy", strategies)):
        if given and fargate:
            r.fail(name, None, f"ECS takes none for tasks on Fargate ({fargate}); they apply to EC2 instances")
    logs = r.get("logs", parse.boolean, True)
    log_file = r.get("log-file", _path, None)
    if log_file and not logs:
        r.fail("log-file", None, "holds the lines that logs streams, and logs is false: give one of them")
    no_pairs: tuple[tuple[str, str], ...] = ()
    spec = Spec(
        task_definition=task_definition,
        task_definition_file=task_definition_file,
        service=service,
        image=r.get("image", _matching(_IMAGE, "an image reference such as repo/app:tag or repo/app@sha256:..."), None),
        dry_run=r.get("dry-run", parse.boolean, False),
        cluster=r.get("cluster", _matching(_CLUSTER, "a cluster name (letters, digits, - and _) or ARN"), "default"),
        container=r.get("container", _matching(_NAME, "a container name (letters, digits, - and _)"), None),
        command=r.get("command", parse.command, None),
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
        assign_public_ip=r.get("assign-public-ip", parse.boolean, None),
        count=r.get("count", lambda t: parse.whole_number(t, 1, MAX_COUNT), 1),
        tags=r.get("tags", _tags, ()),
        propagate_tags=r.get("propagate-tags", _one_of(PROPAGATE_TAGS), None),
        started_by=r.get("started-by", _matching(_STARTED_BY, "up to 128 letters, digits, -, _ and /"), None),
        group=r.get("group", _matching(re.compile(r".{1,255}"), "one line of at most 255 characters"), None),
        enable_execute_command=r.get("enable-execute-command", parse.boolean, False),
        wait=r.get("wait", parse.boolean, True),
        timeout=timeout or None,
        poll_interval=r.get("poll-interval", _positive_duration, 2.0),
        logs=logs,
        log_drain=r.get("log-drain", parse.duration, 15.0),
        annotate=r.get("annotate", parse.boolean, True),
        region=r.get("region", _matching(_REGION, "a region name such as eu-west-1"), None),
        start_retries=r.get("start-retries", lambda t: parse.whole_number(t, 0, MAX_START_RETRIES), 2),
        if_running=r.get("if-running", _one_of(IF_RUNNING), "start"),
        attach=r.get("attach", _matching(_TASK, "a task ARN (arn:aws:ecs:...:task/CLUSTER/ID) or a task ID"), None),
        volume_configurations=r.get("volume-configurations", _volume_configurations, ()),
        placement_constraints=constraints,
        placement_strategy=strategies,
        enable_ecs_managed_tags=r.get("enable-ecs-managed-tags", parse.boolean, False),
        log_file=log_file,
    )
    if spec.attach:
        _attach_alone(r, spec)
    if r.problems:
        raise InputError(r.problems)
    return dataclasses.replace(spec, warnings=_traps(raw, spec))


_SHELL_WORDS = ("&&", "||", "|", ";", "&", ">", ">>", "<", "2>&1")
_SHELLS = frozenset({"sh", "bash", "dash", "ash", "zsh"})


def _traps(raw: Mapping[str, str], spec: Spec) -> tuple[str, ...]:
    """What is valid but rarely meant: a bare timeout of seconds, shell syntax where no shell runs. Only the
    operator is named, never the command (it may hold a password)."""
    said = []
    timeout = raw.get("timeout", "").strip()
    if re.fullmatch(r"\d+(\.\d+)?", timeout) and 0 < float(timeout) < 60:
        said.append(f"timeout: {timeout} means {timeout} seconds; write {timeout}m for minutes")
    words = spec.command or ()
    if len(words) > 1 and words[0].rsplit("/", 1)[-1] in _SHELLS and words[1] == "-c":
        words = ()  # a shell runs it: its syntax is meant
    found = [w for w in _SHELL_WORDS if w in words or (w == ";" and any(a.endswith(";") for a in words))]
    found += [c for c in ("$", "`") if any(c in a for a in words)]
    if found:
        shown = ", ".join(f"`{f}`" for f in found)
        said.append(f"command: no shell runs it, so {shown} reach the program as plain arguments; for a shell, "
                    'give ["sh", "-c", "..."]')  # fmt: skip
    return tuple(said)


# What starting a task takes: with `attach` nothing is started, so none of these may be given (a value other
# than its default: GitHub passes action.yml's defaults as if given).
_START_INPUTS = {
    "task-definition": "task_definition", "service": "service", "image": "image", "command": "command",
    "environment": "environment", "cpu": "cpu", "memory": "memory", "task-role-arn": "task_role_arn",
    "execution-role-arn": "execution_role_arn", "overrides": "overrides", "launch-type": "launch_type",
    "capacity-provider-strategy": "capacity_provider_strategy", "platform-version": "platform_version",
    "subnets": "subnets", "security-groups": "security_groups", "assign-public-ip": "assign_public_ip",
    "count": "count", "tags": "tags", "propagate-tags": "propagate_tags", "started-by": "started_by",
    "group": "group", "enable-execute-command": "enable_execute_command", "start-retries": "start_retries",
    "if-running": "if_running", "dry-run": "dry_run", "volume-configurations": "volume_configurations",
    "placement-constraints": "placement_constraints", "placement-strategy": "placement_strategy",
    "enable-ecs-managed-tags": "enable_ecs_managed_tags",
}  # fmt: skip


def _attach_alone(r: _Reader, spec: Spec) -> None:
    defaults = Spec()
    for name, attr in _START_INPUTS.items():
        given = getattr(spec, attr) != getattr(defaults, attr) or (
            name == "task-definition" and spec.task_definition_file
        )
        if given:
            r.fail("attach", None, f"cannot be combined with {name}: attach follows a task that runs already, so "
                   f"nothing is started; give {name} or attach, not both")  # fmt: skip
