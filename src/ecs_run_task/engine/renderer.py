"""The port the engine speaks through: the `Renderer` protocol that every platform's renderer (`report/`)
implements, and what a result needs beyond the outcome (`Context`). The engine never prints."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from ecs_run_task.diagnostics import Sink
from ecs_run_task.engine.events import Progress
from ecs_run_task.engine.logs import LogLine
from ecs_run_task.inputs.spec import Spec
from ecs_run_task.verdict.outcome import Outcome


@dataclass(frozen=True)
class Context:
    """What the summary needs beyond the outcome: where it ran and the tasks' last descriptions."""

    cluster: str
    region: str
    tasks: Sequence[dict[str, Any]]
    attempts: Sequence[str] = ()  # start attempts that failed, each with what ECS said and the retry
    deciders: Sequence[str] = ()  # the containers whose exits decide (`outcome.deciding_containers`)


class Renderer(Protocol):
    def configure(self, spec: Spec) -> None:
        """The inputs that shape what is shown (`annotate`, ...), once they are known to be good."""

    def diagnostic_sink(self) -> Sink | None:
        """Where our own diagnostics go on this platform (see `diagnostics.configure`); None: stderr."""

    def begin(self, phase: str, *, live: bool = False) -> None:
        """A new phase, ending the one before. A live one (the task's status and log lines, the result) is
        shown open where the platform allows it (GitLab); GitHub folds every group."""

    def end(self) -> None: ...
    def info(self, text: str) -> None: ...
    def warning(self, text: str) -> None: ...
    def started(self, tasks: list[dict[str, Any]], task_definition_arn: str, *, ours: bool = True) -> None: ...
    def progress(self, event: Progress) -> None: ...
    def log_lines(self, lines: Sequence[LogLine]) -> None: ...
    def dry_run(self, requests: Mapping[str, Any]) -> None: ...
    def result(self, outcome: Outcome, outputs: Mapping[str, str], context: Context | None = None) -> None: ...
    def save_state(self, state: Mapping[str, str]) -> None: ...


class Wrapping:
    """A renderer around another (`log-file`, `junit-file`, the gate's answer): every call goes on to `inner`, and
    a subclass overrides only what it adds to."""

    def __init__(self, inner: Renderer) -> None:
        self.inner = inner

    def configure(self, spec: Spec) -> None:
        self.inner.configure(spec)

    def diagnostic_sink(self) -> Sink | None:
        return self.inner.diagnostic_sink()

    def begin(self, phase: str, *, live: bool = False) -> None:
        self.inner.begin(phase, live=live)

    def end(self) -> None:
        self.inner.end()

    def info(self, text: str) -> None:
        self.inner.info(text)

    def warning(self, text: str) -> None:
        self.inner.warning(text)

    def started(self, tasks: list[dict[str, Any]], task_definition_arn: str, *, ours: bool = True) -> None:
        self.inner.started(tasks, task_definition_arn, ours=ours)

    def progress(self, event: Progress) -> None:
        self.inner.progress(event)

    def log_lines(self, lines: Sequence[LogLine]) -> None:
        self.inner.log_lines(lines)

    def dry_run(self, requests: Mapping[str, Any]) -> None:
        self.inner.dry_run(requests)

    def result(self, outcome: Outcome, outputs: Mapping[str, str], context: Context | None = None) -> None:
        self.inner.result(outcome, outputs, context)

    def save_state(self, state: Mapping[str, str]) -> None:
        self.inner.save_state(state)
