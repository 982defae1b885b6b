"""The step's outputs, from the outcome. Pure; written by the renderer (GitHub) or as dotenv (GitLab)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from ecs_run_task.arns import task_id
from ecs_run_task.inputs.spec import ASSIGNMENT
from ecs_run_task.printable import encodable
from ecs_run_task.verdict.outcome import Outcome

DOTENV_LIMIT = 5 * 1024  # GitLab refuses larger dotenv reports
# The contract's outputs, in the order of its table: every path that ends a run writes each of them.
NAMES = ("task-arn", "task-arns", "task-id", "task-definition-arn", "status", "exit-code", "stop-code",
         "stopped-reason", "log-url", "message", "hint", "deployment-action")  # fmt: skip
DEPLOYMENT_ACTION = "deployment-action"  # gate-deployment's answer to the PAUSE hook; set by engine/gate.py


def build(
    outcome: Outcome, tasks: Sequence[dict[str, Any]], task_definition_arn: str, log_url: str = ""
) -> dict[str, str]:
    arns = [str(t["taskArn"]) for t in tasks if t.get("taskArn")]
    first = arns[0] if arns else str((outcome.task or {}).get("taskArn", ""))  # the contract's "(first) task"
    return {
        "task-arn": first,
        "task-arns": json.dumps(arns),
        "task-id": task_id(first) if first else "",
        "task-definition-arn": task_definition_arn,
        "status": str(outcome.status),
        "exit-code": "" if outcome.container_exit_code is None else str(outcome.container_exit_code),
        "stop-code": outcome.stop_code,
        "stopped-reason": outcome.stopped_reason,
        # no stream to link for a container that never ran
        "log-url": log_url if outcome.container_ran else "",
        **said(outcome),
        DEPLOYMENT_ACTION: "",  # CONTINUE or ROLLBACK once sent (gate-deployment)
    }


def said(outcome: Outcome) -> dict[str, str]:
    """The `message` and `hint` outputs: the headline, the likely cause and fix (empty when not known)."""
    return {"message": outcome.headline, "hint": outcome.hint.one_line() if outcome.hint else ""}


def no_task(status: str, outcome: Outcome | None = None) -> dict[str, str]:
    """The outputs of a run that ended before any task existed."""
    return {**dict.fromkeys(NAMES, ""), "task-arns": "[]", "status": str(status), **(said(outcome) if outcome else {})}


MASK = "***"
# Where a request carries values that may be secrets: a list of `{"name"|"key": ..., "value": ...}` entries
# (environment variables, tags), argv lists (a command or entry point: its arguments), and maps of values (labels).
_ENTRIES, _ARGV, _VALUES = frozenset({"environment", "tags"}), frozenset({"command", "entryPoint"}), "dockerLabels"


def masked(requests: dict[str, Any]) -> dict[str, Any]:
    """A copy with every value that may be a secret hidden: environment and tag values, a command's or entry
    point's arguments (a password on a command line), a `NAME=value` first word's value, Docker label values.
    Names, keys and a command's program (its first word) are kept: they say what was sent."""

    def hide(entry: Any) -> Any:  # a well-formed entry keeps its name; anything else is hidden whole
        if isinstance(entry, dict):
            return {**entry, "value": MASK} if "value" in entry else entry
        return MASK

    def command(argv: Any) -> Any:
        if isinstance(argv, list) and argv and isinstance(argv[0], str):
            assignment = ASSIGNMENT.match(argv[0])
            program = f"{assignment.group(1)}={MASK}" if assignment else argv[0]
            return [program] + [MASK] * (len(argv) - 1)
        return MASK

    def labels(value: Any) -> Any:
        return dict.fromkeys(value, MASK) if isinstance(value, dict) else MASK

    def walk(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: (list(map(hide, v)) if isinstance(v, list) else MASK) if k in _ENTRIES
                    else command(v) if k in _ARGV else labels(v) if k == _VALUES else walk(v)
                    for k, v in value.items()}  # fmt: skip
        if isinstance(value, list):
            return [walk(v) for v in value]
        return value

    return dict(walk(requests))


def dotenv(values: Mapping[str, str]) -> str:
    """`KEY=VALUE` lines for GitLab: upper-case names, one line each, no quotes, within 5 KB."""
    lines = []
    for name, value in values.items():
        flat = " ".join(encodable(value).split())  # no multi-line values in a dotenv report
        lines.append(f"{name.upper().replace('-', '_')}={flat}")
    text = "\n".join(lines) + "\n"
    while len(text.encode()) > DOTENV_LIMIT:  # only a huge stopped-reason can get here: shorten the longest
        longest = max(range(len(lines)), key=lambda i: len(lines[i]))
        lines[longest] = lines[longest][: len(lines[longest]) // 2] + "..."
        text = "\n".join(lines) + "\n"
    return text
