"""`docs/reference.md`, written from the input table (`inputs/table.py`: names, flags, variables, defaults, the
descriptions action.yml and `--help` show), the outputs (`outputs.NAMES`, described as action.yml describes them)
and the exit statuses (`exit_codes`, `Status`): `python -m ecs_run_task.verdict.reference_doc > docs/reference.md`.

What the one-line descriptions leave out (the forms a value takes, what applies when an input is not given, where
to read more) is written here once, beside the name it belongs to; tests/test_reference_doc.py keeps every name
here a real input, output or status. Not on the runtime path: nothing imports this module but the command above
and its tests (it reads action.yml from the repository, with PyYAML, a development dependency).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Mapping
from pathlib import Path

from ecs_run_task import exit_codes
from ecs_run_task.inputs import table
from ecs_run_task.status import Status
from ecs_run_task.verdict import outputs

COMMAND = "python -m ecs_run_task.verdict.reference_doc > docs/reference.md"
ACTION_YML = Path(__file__).resolve().parents[3] / "action.yml"

# Only task-definition is ever required, and not always.
REQUIRED = {"task-definition": "unless `service` or `attach`"}

# What applies when an input without a declared default is not given.
APPLIES = {
    "task-definition": "the service's",
    "container": "the only container (or the only essential one); else every essential container decides",
    "command": "the task definition's",
    "launch-type": "the cluster's default capacity provider strategy",
    "subnets": "the service's",
    "security-groups": "the service's",
    "assign-public-ip": "`false`, or the service's",
    "started-by": "`gh/<repo>/<run id>/<attempt>` on GitHub, `gitlab/<project>/<job id>` on GitLab",
    "group": "ECS's `family:<family>`",
    "region": "`AWS_REGION` or the AWS configuration",
}

# What an input's one-line description leaves out. Links are relative to docs/.
MORE = {
    "task-definition": "A value ending in `.json` or containing `/` is a file, as `aws ecs describe-task-definition` "
    "or a render step writes it.",
    "service": "The service must exist in `cluster`. Inputs you give win, field by field.",
    "image": "Every other field of the task definition is kept; the same image reuses the revision.",
    "command": 'For example `["bin/rails", "db:migrate"]` or `bin/rails db:migrate`. The CLI also takes the command '
    "after `--`, word for word. `&&`, `|` or `$VAR` reach the program as they are: "
    "[a shell, if you need one](troubleshooting.md).",
    "environment": "The CLI's `-e` adds one variable, parsed its own way ([the command line](#the-command-line)).",
    "overrides": "Container overrides are merged by name.",
    "launch-type": "Not with `capacity-provider-strategy`.",
    "wait": "`false` returns once ECS has accepted the tasks, and leaves them running (`status` `started`).",
    "timeout": "A task the run follows but did not start (`attach`, `if-running: attach`) runs on. With "
    "`gate-deployment`, it bounds the wait for the deployment's pause too "
    "([when it goes wrong](gate-deployment.md#when-it-goes-wrong)).",
    "poll-interval": "Longer while log lines show the task is alive: "
    "[how it works](how-it-works.md#how-it-works-and-what-it-will-not-do).",
    "log-drain": "See [Every line, or a word](how-it-works.md#every-line-or-a-word).",
    "dry-run": "It also checks, read-only, what the run will need: [a dry run](how-it-works.md#a-dry-run).",
    "start-retries": "Which causes, and when: [Start retries](how-it-works.md#start-retries).",
    "if-running": "The group is the `group` input, else `family:<family>`. `attach` follows the oldest if several "
    "run. What ECS allows, and the CI's own lock to add: [One at a time](how-it-works.md#one-at-a-time).",
    "attach": "Its logs are read from the beginning. No start input may be given with it.",
    "volume-configurations": 'For example `[{"name": "data", "managedEBSVolume": {"roleArn": '
    '"arn:aws:iam::123456789012:role/ecsInfrastructureRole", "sizeInGiB": 100}}]`. The job\'s role needs '
    "`iam:PassRole` for that role ([IAM policy](iam.md)).",
    "placement-constraints": "At most 10. A comma separates items on one line only where the next item starts with "
    "a known form, so a `memberOf` expression keeps its own commas: `memberOf:attribute:ecs.availability-zone in "
    "[us-east-1a, us-east-1b], distinctInstance` is two constraints.",
    "placement-strategy": "At most 5.",
    "log-file": "Needs `logs: true`. See [The log file](how-it-works.md#the-log-file).",
    "json-logs": "What pretty does, and what either way: [What a run looks like](how-it-works.md#what-a-run-looks-like).",
    "junit-file": "See [JUnit reports](pipelines.md#junit-reports).",
    "gate-deployment": "Not with `attach`, `if-running: attach`, `wait: false` or `count` above 1. See "
    "[Gate a service deployment](gate-deployment.md).",
}

# What an output's description in action.yml leaves out.
MORE_OUTPUTS = {
    "task-arn": "With `count` above 1, `exit-code`, `stop-code`, `stopped-reason` and `log-url` are the deciding "
    "task's.",
    "task-definition-arn": "On a dry run, the revision that would run.",
    "status": "`interrupted` also when this run stopped its own task after losing the group's race (`if-running`) "
    "once its containers had started. See [Exit status](#exit-status).",
    "message": "Others: `container web could not start: image not found`, `invalid input: cluster: ...`. For a "
    "notification step.",
    "hint": "Written as `<cause> Fix: <fix>`; the known signatures are in [failures.md](failures.md). `--format json` "
    "gives it as an object: `key`, `cause`, `fix`.",
    "deployment-action": "Empty too when ECS refused it. See [When it goes wrong](gate-deployment.md#when-it-goes-wrong).",
}

CODES = "1\N{EN DASH}255"  # a container's own exit codes
FOLLOWED = "a task it follows but did not start runs on, and the message says so"
# The exit statuses: (exit, when, statuses), in the order a reader meets them.
EXITS: tuple[tuple[str, str, tuple[Status, ...]], ...] = (
    (str(exit_codes.SUCCESS), "every deciding container exited 0 (or `wait: false` and the tasks were accepted, or a "
     "dry run)", (Status.SUCCEEDED, Status.STARTED, Status.DRY_RUN)),
    (CODES, f"the deciding container's own exit code, passed through (a code outside {CODES}, which Windows containers "
     "can report, exits 1; `exit-code` keeps it)", (Status.FAILED,)),
    (str(exit_codes.TIMED_OUT), f"`timeout` passed; the tasks the run started were stopped ({FOLLOWED})",
     (Status.TIMED_OUT,)),
    (str(exit_codes.CANNOT_RUN), "bad input: nothing was called that changes anything", (Status.INVALID_INPUT,)),
    (str(exit_codes.CANNOT_RUN), "could not run: AWS refused a call before any task existed (not found, access "
     "denied), RunTask `failures`, or a task that stopped with no exit code for its deciding container",
     (Status.FAILED_TO_START,)),
    (str(exit_codes.CANNOT_RUN), "an unexpected error of ours (a bug): the traceback on stderr, the task stopped; "
     "`unknown` once a task exists, else `failed-to-start`", (Status.UNKNOWN, Status.FAILED_TO_START)),
    (str(exit_codes.CANNOT_RUN), "a task started but could no longer be followed (expired credentials, a "
     "permission, the API failing past its retries): it was stopped if StopTask still worked, and the message says "
     "whether it may still run", (Status.UNKNOWN,)),
    (f"{exit_codes.SIGINT} / {exit_codes.SIGTERM}", "interrupted by SIGINT / SIGTERM; the tasks the run started were "
     f"stopped first ({FOLLOWED})", (Status.CANCELLED,)),
    (f"{CODES}, or {exit_codes.STOPPED_FROM_OUTSIDE}", "the task was stopped while its deciding container ran, from "
     "outside (a person's or another tool's StopTask: `UserInitiated`; `SpotInterruption`, "
     "`ServiceSchedulerInitiated`, `TerminationNotice`) or by this run when it lost the group's race (`if-running`) "
     "after its containers had started: never a success, even when the container exits 0 on SIGTERM as many "
     "frameworks do; the container's own code when non-zero, else 143. The message names the stop code and the "
     "stopped reason", (Status.INTERRUPTED,)),
    (str(exit_codes.CANNOT_RUN), "with `gate-deployment`: the task succeeded, but the deployment did not go on "
     "(`ContinueServiceDeployment` failed, or the PAUSE hook expired and ECS rolled back)", (Status.SUCCEEDED,)),
)  # fmt: skip

# The CLI's flags that are no input, and the variable each reads as its default.
CLI_VARIABLES = {"format": table.variable("format"), "dotenv": table.variable("dotenv")}

INTRO = f"""\
# Reference: inputs, outputs, exit status

<!-- Generated by `{COMMAND}` from src/ecs_run_task/inputs/table.py, src/ecs_run_task/verdict/outputs.py and
action.yml: do not edit by hand. -->

Every input is an input of the GitHub Action (`with:`), a flag of the CLI (`--task-definition`) and an input of the
GitLab CI/CD component ([pipelines.md](pipelines.md#as-a-cicd-component)); the CLI also reads each from an
`{table.VARIABLE_PREFIX}<NAME>` variable as its default. `ecs-run-task --help` shows the same descriptions and
defaults.

- [Inputs](#inputs)
- [The command line](#the-command-line)
- [Outputs](#outputs)
- [JSON lines: `--format json`](#json-lines---format-json)
- [Exit status](#exit-status)
"""

INPUT_RULES = """\
## Inputs

Booleans accept `true|True|TRUE|false|False|FALSE` only. Durations: `90s`, `30m`, `2h`, `1h30m`, `500ms`, or a
number of seconds. Bad input is reported before anything is started, every problem at once, each naming the input
(`the region input` in the Action, `--region` in the CLI), what was given and what is accepted (values of
`environment`, `overrides` and `command` are never echoed). Placement inputs for Fargate tasks are refused as bad
input: ECS places those itself.
"""

INPUT_NOTES = """\
### Logs, and where AWS is

Containers that log with another driver than `awslogs` (FireLens, none) get one line saying their lines are not
streamed. A log group in another region (`awslogs-region`) is read in that region. Without `awslogs-stream-prefix`
(allowed on EC2), the stream is read once ECS reports the container's ID, and `log-url` links the log group.
`AWS_ENDPOINT_URL`, `AWS_ENDPOINT_URL_ECS` and `AWS_ENDPOINT_URL_CLOUDWATCH_LOGS` are honoured. Credentials and
the region come from the standard AWS chain (`AWS_PROFILE`, `AWS_ACCESS_KEY_ID`, `AWS_REGION`, ...).
"""

CLI = f"""\
## The command line

Every input is a flag of the same name; switches alone mean true (`--dry-run` is `--dry-run true`). Arguments after
`--` are the command, word for word (`ecs-run-task -t app -- bin/rails db:migrate`). `-t`, `-n`, `-c` and a
repeatable `-e KEY=VALUE` follow the original `ecs_task_executor`; `-e` and `--environment` add to the same
environment, each parsed its own way (`--environment` takes `KEY=VALUE` lines, one flag may carry several). A
mistyped flag is named with the one it is closest to ("--timout: no such flag; did you mean --timeout?"), and errors
name flags (`--region: got 'mars'`), where the Action names its inputs (`the region input`).

Every input flag, `--format` and `--dotenv` read `{table.VARIABLE_PREFIX}<NAME>` as their default (upper-cased, `-`
as `_`); a flag on the command line wins. For `environment` and `tags`, the variable's lines come first, then the
flags' (and `-e`'s). An empty variable counts as not given, and a bad value names its variable (`--count (from
{table.variable("count")}): got '0'`). The GitHub Action reads only its inputs. The CLI's own flags:
"""

OUTPUTS = """\
## Outputs

GitHub: step outputs (`${{ steps.<id>.outputs.exit-code }}`; give a later step `if: always()` to read them after a
failure). CLI: `--dotenv PATH` writes them upper-cased with `_` (`EXIT_CODE=3`), one line each, within GitLab's
5 KB, for a dotenv report; `--format json` prints them as the last object. Every run writes every output, empty when
it does not apply.
"""

JSON_LINES = """\
## JSON lines: `--format json`

With `--format json` every event is one JSON object on its own line, `event` naming it: `phase`, `info`, `warning`,
`started` (the tasks started: `task-arns`, `task-definition-arn`), `following` (the same, for a task followed with
`attach` or `if-running: attach`), `status` (`task-arn`, `last-status`, `elapsed`, `changed`), `log` (`container`,
`task-arn`, `timestamp` in milliseconds, `message` as written), `dry-run` (`requests`), and last `outputs`: every
output by its name, `exit-code` a number (`null` when there is none), `task-arns` an array, the others strings as
the step outputs hold them, but `hint`: `{"key", "cause", "fix"}` or `null` (the output joins cause and fix in one
line); then `details` (the whole message under the headline `message`: the task, what ECS said, every problem of the
input) and `warnings` (an array). Keys are the outputs' kebab-case throughout. This shape is kept stable: a later
version may add keys and events, never rename, retype or remove one.

```text
{"event": "outputs", "task-arn": "arn:aws:ecs:eu-west-1:123456789012:task/production/0a1b2c3d4e5f", "task-arns": ["arn:aws:ecs:eu-west-1:123456789012:task/production/0a1b2c3d4e5f"], "task-id": "0a1b2c3d4e5f", "task-definition-arn": "arn:aws:ecs:eu-west-1:123456789012:task-definition/app:12", "status": "failed", "exit-code": 3, "stop-code": "EssentialContainerExited", "stopped-reason": "Essential container in task exited", "log-url": "https://...", "message": "container web exited with code 3", "hint": null, "deployment-action": "", "details": "task 0a1b2c3d4e5f: container web exited with code 3", "warnings": []}
```
"""

EXIT_INTRO = """\
## Exit status

The deciding container of a task is `container` when given; otherwise every essential container must exit 0, and
the first non-zero exit code among them (in task definition order) decides. Non-essential containers never decide.
A deciding container with no exit code never ran (an image pull failure, a `ResourceInitializationError`): that is
a failure, never a success. With several tasks, the first failing task decides.
"""

EXIT_AFTER = """\
124 and 125 follow `timeout(1)` and `docker run`. A container may itself exit 124 or 125: `status` tells them
apart (`failed` is the container's code). If a task was started and anything then goes wrong (an AWS error, a
signal, a timeout), the task is stopped before the process exits; a task the run follows but did not start
(`attach`) is never stopped.
"""


def _text(plain: str) -> str:
    """A description written for action.yml and `--help`, as Markdown shows it: `<family>` is no HTML tag."""
    return plain.replace("<", "&lt;").replace(">", "&gt;")


def _anchor(heading: str) -> str:
    """GitHub's anchor for a heading."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def _inputs() -> list[str]:
    rows = ["| input | required | CLI flag | variable | default |", "|---|---|---|---|---|"]
    sections = []
    for i in table.INPUTS:
        flags = ", ".join(f"`{f}`" for f in (i.short, f"--{i.name}") if f)
        default = f"`{i.default}`" if i.default else APPLIES.get(i.name, "—")
        rows.append(f"| [`{i.name}`](#{_anchor(i.name)}) | {REQUIRED.get(i.name, 'no')} | {flags} | "
                    f"`{table.variable(i.name)}` | {default} |")  # fmt: skip
        more = f" {MORE[i.name]}" if i.name in MORE else ""
        sections += [f"### `{i.name}`", "", f"{_text(i.help)}{more}", ""]
    return [INPUT_RULES, *rows, "", *sections, INPUT_NOTES]


def _cli() -> list[str]:
    inputs = {f"--{name}" for name in table.NAMES}
    rows = ["| flag | variable | meaning |", "|---|---|---|"]
    for action in table.parser()._actions:
        long = [s for s in action.option_strings if s.startswith("--")]
        if not long or long[0] in inputs or long[0] == "--help":
            continue
        metavar = f" {action.metavar}" if isinstance(action.metavar, str) else ""
        choices = f" {'|'.join(map(str, action.choices))}" if action.choices else ""
        flags = ", ".join(f"`{s}{metavar}{choices}`" for s in action.option_strings)
        variable = CLI_VARIABLES.get(action.dest, "")
        rows.append(f"| {flags.replace('|', chr(92) + '|')} | {f'`{variable}`' if variable else '—'} | "
                    f"{_text(str(action.help))} |")  # fmt: skip
    return [CLI, *rows, ""]


def _outputs(described: Mapping[str, str]) -> list[str]:
    if list(described) != list(outputs.NAMES):
        raise SystemExit(f"action.yml's outputs {list(described)} are not outputs.NAMES {list(outputs.NAMES)}")
    rows = ["| output | dotenv | meaning |", "|---|---|---|"]
    for name in outputs.NAMES:
        more = f" {MORE_OUTPUTS[name]}" if name in MORE_OUTPUTS else ""
        dotenv = name.upper().replace("-", "_")
        rows.append(f"| `{name}` | `{dotenv}` | {_text(described[name])}{more} |")
    return [OUTPUTS, *rows, ""]


def _exits() -> list[str]:
    rows = ["| exit | when | `status` |", "|---|---|---|"]
    rows += [f"| {code} | {when} | {' / '.join(f'`{s}`' for s in statuses)} |" for code, when, statuses in EXITS]
    return [EXIT_INTRO, *rows, "", EXIT_AFTER]


def action_outputs(path: Path = ACTION_YML) -> dict[str, str]:
    """action.yml's outputs and their descriptions, in its order."""
    import yaml  # noqa: PLC0415 - a development dependency: only this command reads action.yml

    declared = yaml.safe_load(path.read_text(encoding="utf-8"))["outputs"]
    return {str(name): str(output["description"]) for name, output in declared.items()}


def render(described: Mapping[str, str] | None = None) -> str:
    parts = [INTRO, *_inputs(), *_cli(), *_outputs(action_outputs() if described is None else described)]
    return "\n".join([*parts, JSON_LINES, *_exits()])


def main() -> None:
    sys.stdout.write(render())


if __name__ == "__main__":
    main()
