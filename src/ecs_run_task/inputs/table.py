"""The inputs, in the contract's order: one table that `--help`, the argv and `INPUT_*` readers share with
action.yml (whose descriptions and defaults tests/test_inputs.py keeps equal to these). Raw text only: every
value is parsed and checked in `spec.py`."""

from __future__ import annotations

import argparse
import difflib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import NoReturn

from ecs_run_task import __version__
from ecs_run_task.errors import InputError

FORMATS = ("auto", "github", "gitlab", "plain", "json")  # --format: the renderers (report/)
VARIABLE_PREFIX = "ECS_RUN_TASK_"  # every input flag, --format and --dotenv read ECS_RUN_TASK_<NAME> as default


@dataclass(frozen=True)
class Input:
    name: str
    help: str  # one line: action.yml's description
    default: str = ""  # as action.yml declares it; "" = none (the help says what applies then)
    switch: bool = False  # true or false: the flag alone means true
    lines: bool = False  # KEY=VALUE lines: a repeated flag adds lines (others: the last one wins)
    short: str = ""


INPUTS: tuple[Input, ...] = (
    Input("cluster", "Cluster name or ARN.", "default"),
    Input("task-definition", "Task definition: family, family:revision, ARN, or a path to a JSON task definition file (registered as a new revision first). Required unless service or attach is given.", short="-t"),
    Input("service", "An existing service whose task definition, network configuration, launch type or capacity provider strategy and platform version become the defaults."),
    Input("container", "The container whose command and environment are overridden and whose exit code decides (default: the only, or only essential, container; else every essential container decides).", short="-n"),
    Input("image", "Run the container with this image: registers a new task definition revision with the image swapped."),
    Input("command", "Command override: a JSON array, or a string split as a POSIX shell would; no shell runs it (default: the task definition's).", short="-c"),
    Input("environment", "KEY=VALUE lines added to the container's environment, one a line.", lines=True),
    Input("cpu", "Task-level CPU override: units (256, 1024) or vCPUs (0.5 vCPU)."),
    Input("memory", "Task-level memory override: MiB (512, 2048) or GB (2 GB)."),
    Input("task-role-arn", "Task role ARN override."),
    Input("execution-role-arn", "Task execution role ARN override."),
    Input("overrides", "Raw JSON TaskOverride, merged last (escape hatch)."),
    Input("launch-type", "FARGATE, EC2, EXTERNAL or MANAGED_INSTANCES (default: the cluster's default capacity provider strategy)."),
    Input("capacity-provider-strategy", "Capacity provider strategy: name[:weight[:base]] items, comma or newline separated, or JSON."),
    Input("platform-version", "Fargate platform version: LATEST or a version such as 1.4.0."),
    Input("subnets", "Subnet IDs, comma or whitespace separated (needed for awsvpc; default: the service's)."),
    Input("security-groups", "Security group IDs, comma or whitespace separated (default: the service's)."),
    Input("assign-public-ip", "Assign a public IP to awsvpc tasks: true or false (default: false, or the service's).", switch=True),
    Input("count", "Number of tasks to start, 1 to 10.", "1"),
    Input("tags", "KEY=VALUE lines tagged onto the tasks, one a line.", lines=True),
    Input("propagate-tags", "Propagate tags from the task definition: TASK_DEFINITION or NONE."),
    Input("started-by", "ECS startedBy (default: names this CI run)."),
    Input("group", "ECS task group (default: ECS's family:<family>)."),
    Input("enable-execute-command", "Enable ECS Exec on the tasks: true or false.", "false", switch=True),
    Input("wait", "Wait for the tasks' answer, known as soon as their deciding containers have exited: true or false.", "true", switch=True),
    Input("timeout", "Longest wait: 90s, 30m, 2h, 1h30m, or seconds (a bare 10 is 10 seconds); 0 means no limit. On expiry the tasks are stopped and the run exits 124.", "1h"),
    Input("poll-interval", "Time between task status polls, 100ms to 10m.", "2s"),
    Input("logs", "Stream the containers' CloudWatch (awslogs) logs into the CI log: true or false.", "true", switch=True),
    Input("log-drain", "After the deciding containers exit, keep reading logs for the lines CloudWatch shows late (at least 5 s after the exit, longer while lines still come), at most this long; time refused by throttling does not count, up to 30 s more.", "15s"),
    Input("annotate", "Turn error and warning lines of structured (JSON) logs into annotations: true or false.", "true", switch=True),
    Input("dry-run", "Resolve everything and print the requests a real run sends, starting nothing: true or false.", "false", switch=True),
    Input("region", "AWS region (default: from the environment, e.g. set by aws-actions/configure-aws-credentials)."),
    Input("start-retries", "How many more times to start a task that never ran because of capacity or a transient start failure, 0 to 10 (never once a deciding container has run).", "2"),
    Input("if-running", "What to do when a task of the same ECS group (whatever its family) already runs in the cluster: start (anyway), wait (for it to stop first), fail, or attach (follow it instead of starting one, never stopping it).", "start"),
    Input("attach", "A task ARN or ID to follow (logs, outcome, outputs) instead of starting one; no task definition needed. A followed task is never stopped by this run: not at the timeout, not on cancel, not by the post step."),
    Input("volume-configurations", "RunTask volumeConfigurations as a JSON array, one object for each volume the task definition configures at launch (name, managedEBSVolume with roleArn, sizeInGiB, volumeType, snapshotId, ...)."),
    Input("placement-constraints", "Placement constraints as JSON, or distinctInstance and memberOf:EXPRESSION items, one a line (a comma also separates items, before distinctInstance or memberOf:). Not for Fargate."),
    Input("placement-strategy", "Placement strategy as JSON, or spread:FIELD, binpack:cpu, binpack:memory and random items, comma or newline separated. Not for Fargate."),
    Input("enable-ecs-managed-tags", "Have ECS tag the tasks with the cluster and service names: true or false.", "false", switch=True),
    Input("log-file", "Also write every log line of every container to this file (plain text, no CI markup) as it arrives; relative to the working directory (the workspace in the action). A regular file only (a FIFO, a device such as /dev/stdout, a directory or a symbolic link is refused, as is a path through a linked folder of the checkout)."),
    Input("json-logs", "How JSON log lines are printed: pretty (a line with a level and a message as LEVEL message key=value ...) or raw (as written).", "pretty"),
    Input("junit-file", "Also write a JUnit XML report to this file at the end of the run: one test case per task, with a failure (the headline and the hint) when it failed; relative to the working directory (the workspace in the action)."),
    Input("gate-deployment", "With service: wait until the service's deployment in progress pauses at a PAUSE lifecycle hook, run the task with the deployment's new revision, then continue the deployment if the task succeeded, else roll it back: true or false.", "false", switch=True),
)  # fmt: skip
NAMES = tuple(i.name for i in INPUTS)

_EPILOG = f"""\
Arguments after -- are the command as an exact argv: ecs-run-task -t app -- bin/rails db:migrate
Switches (--wait, --logs, --dry-run, ...) alone mean true: --dry-run is --dry-run true.

Every input flag, --format and --dotenv read {VARIABLE_PREFIX}<NAME> from the environment as their default
(upper-cased, - as _: {VARIABLE_PREFIX}TASK_DEFINITION for --task-definition); a flag on the command line
wins. For --environment and --tags, the variable's lines come first, then the flags'.

Exit status:
  0        every deciding container exited 0 (or --wait false and the tasks were accepted, or a dry run)
  1-255    the deciding container's own exit code (status: failed)
  124      --timeout passed; the tasks were stopped (status: timed-out)
  125      bad input (invalid-input), AWS refused or the task never ran (failed-to-start), or the task could
           no longer be followed (unknown); with --gate-deployment, also a task that succeeded whose deployment
           did not go on (succeeded: the PAUSE hook expired, or ContinueServiceDeployment failed)
  130/143  cancelled by SIGINT/SIGTERM; the tasks were stopped first (cancelled)
  1-255    also when the task was stopped from outside while the deciding container ran (interrupted,
           never a success): its own code, 143 when it exited 0

Credentials and region come from the standard AWS chain (AWS_PROFILE, AWS_ACCESS_KEY_ID, AWS_REGION, ...)."""


def variable(name: str) -> str:
    """The environment variable a flag reads as its default: `task-definition` -> ECS_RUN_TASK_TASK_DEFINITION."""
    return VARIABLE_PREFIX + name.upper().replace("-", "_")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # bad flags are bad input: exit 125, not argparse's 2
        if not message.startswith("unrecognized arguments: "):
            raise InputError([f"{message} (see ecs-run-task --help)"])
        # one problem for each unknown flag, named without its value (a value may be a secret)
        flags = [a.split("=", 1)[0] for a in message.split(": ", 1)[1].split() if a.startswith("-")]
        close = {f: self.closest(f) for f in flags}
        problems = [f"{f}: no such flag; did you mean {close[f]}?" for f in flags if close[f]]
        unknown = [f for f in flags if not close[f]]
        if unknown or not flags:  # no near miss: perhaps a command was meant
            named = f"unrecognized arguments: {' '.join(unknown)}" if unknown else "unexpected arguments"
            problems.append(f"{named}; a command as an exact argv goes after --")
        raise InputError([f"{p} (see ecs-run-task --help)" for p in problems])

    def closest(self, flag: str) -> str | None:
        """The known long flag `flag` is a near miss of (`--timout`: `--timeout`), or the one flag it begins (`--junit`:
        `--junit-file`; abbreviations are refused, not guessed), if any."""
        if not flag.startswith("--"):
            return None
        known = [s for action in self._actions for s in action.option_strings if s.startswith("--")]
        begun = [k for k in known if k.startswith(flag)]
        close = begun if len(begun) == 1 else difflib.get_close_matches(flag, known, n=1, cutoff=0.8)
        return close[0] if close else None


# -e/--env is the original ecs_task_executor's flag, kept beside --environment: the same variables, parsed apart
_ENV_HELP = (
    "One variable added to the container's environment, exactly as given: the whole text after the first = is its "
    "value, new lines included (a PEM key), where --environment splits its text into KEY=VALUE lines. Repeatable; "
    "added after --environment's variables."
)


def _help(i: Input) -> str:
    return f"{i.help} [default: {i.default}]" if i.default else i.help


def parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="ecs-run-task",
        usage="ecs-run-task [OPTIONS] [-- COMMAND ...]",
        allow_abbrev=False,  # --env is not --environment, and an ambiguous prefix would echo its value
        description="Run an ECS task, wait for its answer, stream its logs, exit with its container's code.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    for i in INPUTS:
        flags = [f for f in (i.short, f"--{i.name}") if f]
        if i.switch:
            p.add_argument(*flags, dest=i.name, metavar="true|false", nargs="?", const="true", help=_help(i))
        else:
            p.add_argument(*flags, dest=i.name, metavar="VALUE", action="append" if i.lines else "store", help=_help(i))
        if i.name == "environment":  # its sibling, shown beside it
            p.add_argument("-e", "--env", action="append", default=[], metavar="KEY=VALUE", help=_ENV_HELP)
    p.add_argument(
        "--format", choices=FORMATS, help="Output style [default: auto, from the CI: github, gitlab or plain]."
    )
    p.add_argument("--dotenv", metavar="PATH", help="Write the outputs as KEY=VALUE lines (GitLab's dotenv report).")
    p.add_argument("--debug", action="store_true", help="Print our own diagnostics on stderr.")
    p.add_argument("--version", action="version", version=f"ecs-run-task {__version__}")
    return p


@dataclass(frozen=True)
class Argv:
    raw: dict[str, str]  # input name -> text, from flags and ECS_RUN_TASK_* variables
    origins: dict[str, str]  # input name -> the variable its text (or a part of it) came from
    env_pairs: list[str]  # -e flags, each one KEY=VALUE
    format: str
    dotenv: str | None
    debug: bool


def from_argv(argv: Sequence[str], env: Mapping[str, str] | None = None) -> Argv:
    """The flags, each defaulting to its ECS_RUN_TASK_* variable in `env` (an empty one is not given)."""
    env = env or {}
    argv = list(argv)
    exact = argv[argv.index("--") + 1 :] if "--" in argv else None
    args = parser().parse_args(argv[: argv.index("--")] if exact is not None else argv)
    if exact is not None and args.command is not None:
        raise InputError(["--command: give it either with --command or after --, not both"])  # the CLI's alone
    raw: dict[str, str] = {}
    origins: dict[str, str] = {}
    for i in INPUTS:
        given = json.dumps(exact) if i.name == "command" and exact is not None else getattr(args, i.name)
        default = env.get(variable(i.name), "")
        if i.lines and default.strip():  # the variable's lines, then the flags'
            raw[i.name] = "\n".join([default, *(given or [])])
            origins[i.name] = variable(i.name) + (f", then --{i.name}" if given else "")
        elif given is not None:
            raw[i.name] = "\n".join(given) if i.lines else given
        elif default.strip():
            raw[i.name] = default
            origins[i.name] = variable(i.name)
    fmt = args.format or env.get(variable("format"), "").strip() or "auto"
    if fmt not in FORMATS:
        raise InputError([f"--format (from {variable('format')}): got {fmt!r}; expected one of {', '.join(FORMATS)}"])
    dotenv = args.dotenv or env.get(variable("dotenv"), "").strip() or None
    return Argv(raw, origins, list(args.env), fmt, dotenv, bool(args.debug))


def from_action(env: Mapping[str, str]) -> dict[str, str]:
    """GitHub passes every declared input as `INPUT_<NAME>`, upper-cased, hyphens kept; empty if not given."""
    return {name: env.get(f"INPUT_{name.upper()}", "") for name in NAMES}
