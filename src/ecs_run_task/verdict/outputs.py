"""The step's outputs, from the outcome. Pure; written by the renderer (GitHub) or as dotenv (GitLab)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from ecs_run_task.arns import task_id
from ecs_run_task.printable import encodable
from ecs_run_task.verdict.outcome import Outcome

DOTENV_LIMIT = 5 * 1024  # GitLab refuses larger dotenv reports
# The contract's outputs, in the order of its table: every path that ends a run writes each of them.
NAMES = ("task-arn", "task-arns", "task-id", "task-definition-arn", "status", "exit-code", "stop-code",
         "stopped-reason", "log-url", "deployment-action")  # fmt: skip
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
        "log-url": log_url,
        DEPLOYMENT_ACTION: "",  # CONTINUE or ROLLBACK once sent (gate-deployment)
    }


def no_task(status: str) -> dict[str, str]:
    """The outputs of a run that ended before any task existed."""
    return {**dict.fromkeys(NAMES, ""), "task-arns": "[]", "status": str(status)}


MASK = "***"


def masked(requests: dict[str, Any]) -> dict[str, Any]:
    """A copy with every environment value and every command argument hidden: they may hold secrets (a
    password on a command line), and printed text is kept. A command keeps its program, the first word."""

    def hide(entry: Any) -> Any:  # a well-formed entry keeps its name; anything else is hidden whole
        if isinstance(entry, dict):
            return {**entry, "value": MASK} if "value" in entry else entry
        return MASK

    def command(argv: Any) -> Any:
        if isinstance(argv, list) and argv and isinstance(argv[0], str):
            return [argv[0]] + [MASK] * (len(argv) - 1)
        return MASK

    def walk(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: (list(map(hide, v)) if isinstance(v, list) else MASK) if k == "environment"
                    else command(v) if k == "command" else walk(v) for k, v in value.items()}  # fmt: skip
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
