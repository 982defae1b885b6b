"""The run spec: every input, parsed and validated once, frozen.

Both faces feed `build()` the same thing: a mapping from the contract's input names to raw text
(GitHub: `INPUT_*`; CLI: flags). Nothing here reads the environment or talks to AWS.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from ecs_run_task import arns, words
from ecs_run_task.errors import InputError
from ecs_run_task.inputs import parse
from ecs_run_task.inputs import readers as read
from ecs_run_task.inputs.parse import BadValue
from ecs_run_task.inputs.readers import DEFAULT_TIMEOUT, CapacityProvider, Placement

__all__ = ["CapacityProvider", "Placement", "Spec", "build"]


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
    json_logs: str = "pretty"  # how JSON log lines are printed: pretty or raw
    junit_file: str | None = None
    gate_deployment: bool = False  # run at the service deployment's PAUSE hook, then continue or roll it back
    # not an input: the service revision whose settings are the defaults in place of the service's (with
    # gate-deployment, the deployment's target revision, as DescribeServiceRevisions answers it)
    revision: Mapping[str, Any] | None = None

    @property
    def hidden(self) -> tuple[str, ...]:
        """Values no output may show: a first word `NAME=value` of `command` is no variable (no shell runs it), so
        ECS starts it as the program, and its error ("exec: \"DB_PASS=...\": executable file not found") quotes it."""
        first = (self.command or ("",))[0]
        assignment = ASSIGNMENT.match(first)
        value = first[assignment.end() :] if assignment else ""
        return (value,) if len(value) >= 3 else ()  # shorter: masking it would garble every word holding it


T = TypeVar("T")
ASSIGNMENT = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)=")  # `NAME=value`: no shell runs the command, so it is no variable
_SECRET_INPUTS = frozenset({"environment", "tags", "overrides", "command"})  # a command or tag may carry a password


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
        shown = "" if text is None or name in _SECRET_INPUTS else f" got {read.clip(text)!r};"
        origin = f" (from {self.origins[name]})" if name in self.origins else ""
        self.problems.append(f"{words.flag(name)}{origin}:{shown} {why}")


def _pairs(r: _Reader, given: Sequence[str]) -> tuple[tuple[str, str], ...]:
    """`-e KEY=VALUE` flags: each exactly one variable, whatever its value holds (a PEM's new lines too)."""
    pairs = []
    for number, text in enumerate(given, start=1):
        try:
            pairs.append(parse.pair(text, what="a variable"))
        except BadValue as e:
            r.problems.append(f"-e #{number}: {e}")  # the command line's own flag
    return tuple(pairs)


def build(raw: Mapping[str, str], env_pairs: Sequence[str] = (), origins: Mapping[str, str] | None = None) -> Spec:
    """Validate every input; raise `InputError` listing all problems. `env_pairs` are `-e` flags; `origins` names
    the environment variable an input's text came from, for its problems to name it too."""
    r = _Reader(raw, origins or {})
    task_definition, task_definition_file = _task_definition(r, raw)
    launch_type, strategy, constraints, strategies = _placement(r)
    logs = r.get("logs", parse.boolean, True)
    log_file = r.get("log-file", read.path, None)
    if log_file and not logs:
        r.fail("log-file", None, f"holds the lines that {words.flag('logs')} streams, and {words.flag('logs')} is "
               "false: give one of them")  # fmt: skip
    no_pairs: tuple[tuple[str, str], ...] = ()
    spec = Spec(
        task_definition=task_definition,
        task_definition_file=task_definition_file,
        service=r.get("service", read.service, None),
        image=r.get("image", read.image, None),
        dry_run=r.get("dry-run", parse.boolean, False),
        cluster=r.get("cluster", read.cluster, "default"),
        container=r.get("container", read.container, None),
        command=r.get("command", parse.command, None),
        environment=r.get("environment", read.variables, no_pairs) + _pairs(r, env_pairs),
        cpu=r.get("cpu", read.cpu, None),
        memory=r.get("memory", read.memory, None),
        task_role_arn=r.get("task-role-arn", read.role_arn, None),
        execution_role_arn=r.get("execution-role-arn", read.role_arn, None),
        overrides=r.get("overrides", read.overrides, {}),
        launch_type=launch_type,
        capacity_provider_strategy=strategy,
        platform_version=r.get("platform-version", read.platform_version, None),
        subnets=r.get("subnets", read.subnets, ()),
        security_groups=r.get("security-groups", read.security_groups, ()),
        assign_public_ip=r.get("assign-public-ip", parse.boolean, None),
        count=r.get("count", read.count, 1),
        tags=r.get("tags", read.tags, ()),
        propagate_tags=r.get("propagate-tags", read.propagate_tags, None),
        started_by=r.get("started-by", read.started_by, None),
        group=r.get("group", read.group, None),
        enable_execute_command=r.get("enable-execute-command", parse.boolean, False),
        wait=r.get("wait", parse.boolean, True),
        timeout=r.get("timeout", parse.duration, DEFAULT_TIMEOUT) or None,
        poll_interval=r.get("poll-interval", read.positive_duration, 2.0),
        logs=logs,
        log_drain=r.get("log-drain", parse.duration, 15.0),
        annotate=r.get("annotate", parse.boolean, True),
        region=r.get("region", read.region, None),
        start_retries=r.get("start-retries", read.start_retries, 2),
        if_running=r.get("if-running", read.if_running, "start"),
        attach=r.get("attach", read.task, None),
        volume_configurations=r.get("volume-configurations", read.volume_configurations, ()),
        placement_constraints=constraints,
        placement_strategy=strategies,
        enable_ecs_managed_tags=r.get("enable-ecs-managed-tags", parse.boolean, False),
        log_file=log_file,
        json_logs=r.get("json-logs", read.json_logs, "pretty"),
        junit_file=r.get("junit-file", read.path, None),
        gate_deployment=r.get("gate-deployment", parse.boolean, False),
    )
    if spec.gate_deployment:
        _gate_alone(r, spec)
    if spec.attach:
        _attach_alone(r, spec)
        spec = dataclasses.replace(spec, cluster=_attach_cluster(r, spec.attach, spec.cluster))
    if r.problems:
        raise InputError(r.problems)
    return dataclasses.replace(spec, warnings=_traps(raw, spec))


def _task_definition(r: _Reader, raw: Mapping[str, str]) -> tuple[str | None, str | None]:
    """(family, revision or ARN; a file to register): one of them, unless `service` or `attach` names it."""
    reference = raw.get("task-definition", "").strip()
    if not reference and not raw.get("service", "").strip() and not raw.get("attach", "").strip():
        r.fail("task-definition", None, f"is required unless {words.flag('service')} or {words.flag('attach')} is "
               f"given: {read.TASK_DEF_ACCEPTED}")  # fmt: skip
    if read.looks_like_file(reference):
        return None, reference
    return (r.get("task-definition", read.task_definition, None) if reference else None), None


Where = tuple[str | None, tuple[CapacityProvider, ...], tuple[Placement, ...], tuple[Placement, ...]]


def _placement(r: _Reader) -> Where:
    """Launch type, capacity provider strategy, placement constraints and strategy, checked together: one of
    the first two, and no placement on Fargate, where ECS takes none."""
    launch_type = r.get("launch-type", read.launch_type, None)
    no_strategy: tuple[CapacityProvider, ...] = ()
    strategy = r.get("capacity-provider-strategy", read.capacity_providers, no_strategy)
    if launch_type and strategy:
        r.fail("launch-type", launch_type,
               f"cannot be combined with {words.flag('capacity-provider-strategy')}: give one of them")  # fmt: skip
    no_placement: tuple[Placement, ...] = ()
    constraints = r.get("placement-constraints", read.constraints, no_placement)
    strategies = r.get("placement-strategy", read.strategies, no_placement)
    fargate = read.on_fargate(launch_type, strategy)
    for name, given in (("placement-constraints", constraints), ("placement-strategy", strategies)):
        if given and fargate:
            r.fail(name, None, read.no_placement_on_fargate(fargate))
    return launch_type, strategy, constraints, strategies


_SHELL_WORDS = ("&&", "||", "|", ";", "&", ">", ">>", "<", "2>&1")
_SHELLS = frozenset({"sh", "bash", "dash", "ash", "zsh"})


def _traps(raw: Mapping[str, str], spec: Spec) -> tuple[str, ...]:
    """What is valid but rarely meant: a bare timeout of seconds, shell syntax where no shell runs. Only the
    operator is named, never the command (it may hold a password)."""
    said = []
    timeout = raw.get("timeout", "").strip()
    if re.fullmatch(r"[0-9]+(\.[0-9]+)?", timeout) and 0 < float(timeout) < 60:
        said.append(f"{words.flag('timeout')}: {timeout} means {timeout} seconds; write {timeout}m for minutes")
    argv = spec.command or ()
    assignment = ASSIGNMENT.match(argv[0]) if argv else None
    if assignment:  # named, never its value: it is likely a secret
        name = assignment.group(1)
        said.append(f"{words.flag('command')}: its first word is {name}=..., but no shell runs the command, so that "
                    f"word would be the program ECS starts, and fail; give {name} with {words.the('environment')} "
                    "instead")  # fmt: skip
    if len(argv) > 1 and argv[0].rsplit("/", 1)[-1] in _SHELLS and argv[1] == "-c":
        argv = ()  # a shell runs it: its syntax is meant
    found = [w for w in _SHELL_WORDS if w in argv or (w == ";" and any(a.endswith(";") for a in argv))]
    found += [c for c in ("$", "`") if any(c in a for a in argv)]
    if found:
        shown = ", ".join("backticks" if f == "`" else f"`{f}`" for f in found)
        said.append(f"{words.flag('command')}: no shell runs it, so {shown} reach the program as plain arguments; "
                    'for a shell, give ["sh", "-c", "..."]')  # fmt: skip
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
    "enable-ecs-managed-tags": "enable_ecs_managed_tags", "gate-deployment": "gate_deployment",
}  # fmt: skip


_ARN_CLUSTER = re.compile(r"arn:[^:]+:ecs:[^:]*:[^:]*:task/([^/]+)/[^/]+")  # not an ID, nor an old ARN without it


def _attach_cluster(r: _Reader, attach: str, cluster: str) -> str:
    """The cluster to look in: the one a task ARN names (arn:...:task/CLUSTER/ID) when `cluster` is not given."""
    match = _ARN_CLUSTER.fullmatch(attach)
    if not match:
        return cluster
    named = match.group(1)
    if cluster == Spec().cluster:  # not given
        return named
    if arns.cluster_name(cluster) != named:
        r.fail("attach", None, f"the task's ARN names cluster {named!r}, but {words.flag('cluster')} is {cluster!r}; "
               f"give the cluster the task runs in, or leave {words.flag('cluster')} out")  # fmt: skip
    return cluster


def _attach_alone(r: _Reader, spec: Spec) -> None:
    defaults = Spec()
    for name, attr in _START_INPUTS.items():
        given = getattr(spec, attr) != getattr(defaults, attr) or (
            name == "task-definition" and spec.task_definition_file
        )
        if given:
            r.fail("attach", None, f"cannot be combined with {words.flag(name)}: {words.flag('attach')} follows a task that runs "
                   f"already, so nothing is started; give {words.flag(name)} or {words.flag('attach')}, not both")  # fmt: skip
    if not spec.wait:
        r.fail("attach", None, f"cannot be combined with {words.setting('wait', 'false')}: {words.flag('attach')} follows "
               f"a task to its answer; leave {words.flag('wait')} out")  # fmt: skip


def _gate_alone(r: _Reader, spec: Spec) -> None:
    """gate-deployment answers a service deployment's PAUSE hook with one task's answer: it needs the service,
    the answer (wait), and one task to take it from. With attach, attach's own check says what is wrong."""
    gate = words.flag("gate-deployment")
    if not spec.service and not spec.attach:
        r.fail("gate-deployment", None, f"needs {words.flag('service')}: the service whose deployment in progress "
               "is to be gated")  # fmt: skip
    if not spec.wait:
        r.fail("gate-deployment", None, f"cannot be combined with {words.setting('wait', 'false')}: {gate} continues "
               f"or rolls back the deployment on the task's answer; leave {words.flag('wait')} out")  # fmt: skip
    if spec.count > 1:
        r.fail("gate-deployment", None, f"runs one task, and {words.flag('count')} is {spec.count}: one answer "
               f"continues or rolls back the deployment; leave {words.flag('count')} out")  # fmt: skip
    if spec.if_running == "attach":  # the task followed would be another revision's: its answer is not the new one's
        r.fail("gate-deployment", None, f"cannot be combined with {words.setting('if-running', 'attach')}: the task "
               "running already is not the deployment's new revision, and its answer would continue the deployment; "
               f"use {words.setting('if-running', 'wait')} or {words.setting('if-running', 'fail')}")  # fmt: skip
