"""One JSON object per event, for machines. The last object carries the outputs."""

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
        self.emit("started" if ours else "following", task_arns=[t["taskArn"] for t in tasks],
                  task_definition_arn=task_definition_arn)  # fmt: skip

    def progress(self, event: Progress) -> None:
        self.emit("status", task_arn=event.task_arn, last_status=event.last_status, elapsed=round(event.elapsed, 3),
                  changed=event.changed)  # fmt: skip

    def log_lines(self, lines: Sequence[LogLine]) -> None:
        for line in lines:
            self.emit("log", container=line.source.container, task_arn=line.source.task_arn,
                      timestamp=line.timestamp, message=line.message.rstrip("\n"))  # fmt: skip

    def dry_run(self, requests: Mapping[str, Any]) -> None:
        self.emit("dry-run", requests=requests)

    def result(self, outcome: Outcome, outputs: Mapping[str, str], context: Context | None = None) -> None:
        # `hint` as its parts here (the output joins them in one line); `details`: the whole message under the headline
        hint = {"key": outcome.hint.key, "cause": outcome.hint.cause, "fix": outcome.hint.fix} if outcome.hint else None
        values: dict[str, Any] = {k: v for k, v in outputs.items() if k not in ("message", "hint")}
        if "task-arns" in values:
            values["task-arns"] = json.loads(outputs["task-arns"] or "[]")  # a real array here, not a string
        self.emit("outputs", message=outcome.headline, details=outcome.message, hint=hint,
                  warnings=list(outcome.warnings), **values)  # fmt: skip
