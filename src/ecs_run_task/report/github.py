"""GitHub Actions: groups per phase, an error annotation for the failure, outputs and state via files.

The runner treats any line whose trimmed text starts with `::`, or that holds `##[`, as a command: every
line we print that carries text from elsewhere goes through `inert()`. This is the only module that uses
actions-toolkit; its `core` module pulls in `requests`, so we use the command modules directly.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import IO, Any

from actions_toolkit.command import Command
from actions_toolkit.file_command import issue_file_command, prepare_key_value_message

from ecs_run_task.outcome import Outcome
from ecs_run_task.report.plain import Plain

_WORD_JOINER = "\u2060"  # invisible; breaks `##[` and a leading `::` without changing what a reader sees


def inert(text: str) -> str:
    """Text that the runner will print but never act on."""
    text = text.replace("##[", f"#{_WORD_JOINER}#[")
    if text.lstrip().startswith("::"):
        return _WORD_JOINER + text
    return text


def annotation_text(text: str) -> str:
    return text.replace("##[", f"#{_WORD_JOINER}#[")


class GitHub(Plain):
    def __init__(self, out: IO[str], env: Mapping[str, str]) -> None:
        super().__init__(out)
        self.env = env
        self.open_group = False

    def command(self, name: str, message: str = "", **properties: str) -> None:
        self.line(str(Command(name, properties, annotation_text(message))))

    def line_inert(self, text: str) -> None:
        for part in text.splitlines() or [""]:
            self.line(inert(part))

    def begin(self, phase: str) -> None:
        self.end()
        self.command("group", phase)
        self.open_group = True

    def end(self) -> None:
        if self.open_group:
            self.command("endgroup")
            self.open_group = False

    def info(self, text: str) -> None:
        self.line_inert(text)

    def warning(self, text: str) -> None:
        self.command("warning", text, title="ecs-run-task")

    def failure(self, outcome: Outcome) -> None:
        self.command("error", outcome.message, title=f"ECS task {outcome.status}")

    def remember(self, state: Mapping[str, str]) -> None:
        """Saved for the post step, which stops any task the killed main step left running."""
        if self.env.get("GITHUB_STATE"):
            for name, value in state.items():
                issue_file_command("STATE", prepare_key_value_message(name, value))

    def result(self, outcome: Outcome, outputs: Mapping[str, str]) -> None:
        self.end()
        super().result(outcome, outputs)
        if self.env.get("GITHUB_OUTPUT"):
            for name, value in outputs.items():
                issue_file_command("OUTPUT", prepare_key_value_message(name, value))

    def started(self, tasks: list[dict[str, Any]], task_definition_arn: str) -> None:
        super().started(tasks, task_definition_arn)
        self.remember({"task-arns": json.dumps([t["taskArn"] for t in tasks])})
