"""One JSON object per event, for machines. The last object carries the outputs.

One naming style, the outputs' own (kebab-case, as the contract names them: `task-arn`, `exit-code`), for every key of
every event; numbers are JSON numbers and lists JSON arrays. docs/reference.md calls this shape stable: a key may be added,
none renamed, retyped or removed."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import IO, Any

from ecs_run_task.diagnostics import Sink
from ecs_run_task.engine.events import Progress
from ecs_run_task.engine.logs import LogLine
from ecs_run_task.engine.renderer import Context
from ecs_run_task.inputs.spec import Spec
from ecs_run_task.verdict.outcome import Outcome


class JsonLines:
    def __init__(self, out: IO[str]) -> None:
        self.out = out

    def emit(self, event: str, **fields: Any) -> None:
        # `##[` would be a GitHub command anywhere in a line: escape it in JSON's own way, same data
        self.out.write(json.dumps({"event": event, **fields}).replace("##[", "#\\u0023[") + "\n")
        self.out.flush()

    def configure(self, spec: Spec) -> None:
        pass

    def diagnostic_sink(self) -> Sink | None:
        return None  # stderr: stdout holds only the JSON objects

    def begin(self, phase: str, *, live: bool = False) -> None:
        self.emit("phase", phase=phase)

    def end(self) -> None:
        pass

    def save_state(self, state: Mapping[str, str]) -> None:
        pass  # only the GitHub action has a post step to hand state to

    def info(self, text: str) -> None:
        self.emit("info", message=text)

    def warning(self, text: str) -> None:
        self.emit("warning", message=text)

    def started(self, tasks: list[dict[str, Any]], task_definition_arn: str, *, ours: bool = True) -> None:
        self.emit("started" if ours else "following", **{"task-arns": [t["taskArn"] for t in tasks],
                                                         "task-definition-arn": task_definition_arn})  # fmt: skip

    def progress(self, event: Progress) -> None:
        self.emit("status", **{"task-arn": event.task_arn, "last-status": event.last_status,
                               "elapsed": round(event.elapsed, 3), "changed": event.changed})  # fmt: skip

    def log_lines(self, lines: Sequence[LogLine]) -> None:
        for line in lines:
            self.emit("log", **{"container": line.source.container, "task-arn": line.source.task_arn,
                                "timestamp": line.timestamp, "message": line.message.rstrip("\n")})  # fmt: skip

    def dry_run(self, requests: Mapping[str, Any]) -> None:
        self.emit("dry-run", requests=requests)

    def result(self, outcome: Outcome, outputs: Mapping[str, str], context: Context | None = None) -> None:
        """Every output by its name, typed; then the headline (the `message` output), the whole message under it
        (`details`), the hint as an object (`key`, `cause`, `fix`: the `hint` output joins them in one line), and
        the warnings."""
        hint = {"key": outcome.hint.key, "cause": outcome.hint.cause, "fix": outcome.hint.fix} if outcome.hint else None
        self.emit("outputs", **{**typed(outputs), "message": outcome.headline, "details": outcome.message, "hint": hint,
                                "warnings": list(outcome.warnings)})  # fmt: skip


def typed(outputs: Mapping[str, str]) -> dict[str, Any]:
    """The outputs as JSON values: `exit-code` a number (null when there is none), `task-arns` an array; every other
    output the text the step output holds."""
    values: dict[str, Any] = dict(outputs)
    if "task-arns" in values:
        values["task-arns"] = json.loads(outputs["task-arns"] or "[]")
    if "exit-code" in values:
        values["exit-code"] = int(outputs["exit-code"]) if outputs["exit-code"] else None
    return values
