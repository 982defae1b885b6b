"""`log-file`: every log line of every container also goes to a file, as it arrives, around whichever renderer
shows the run. Plain UTF-8 text: no CI markup, `[container] ` before each line when several streams show, every
line split and neutral as `printable.lines` makes it. The CLI opens the file before the run and closes it on
every path, so what was read is in the file however the run ends."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import IO, TYPE_CHECKING, Any

from ecs_run_task.report.plain import Plain

if TYPE_CHECKING:
    from ecs_run_task.diagnostics import Sink
    from ecs_run_task.engine.events import Progress
    from ecs_run_task.engine.logs import LogLine
    from ecs_run_task.engine.renderer import Context, Renderer
    from ecs_run_task.inputs.spec import Spec
    from ecs_run_task.verdict.outcome import Outcome


class LogFile:
    """A renderer that writes log lines to `file` and hands everything, log lines too, to `inner`."""

    def __init__(self, inner: Renderer, file: IO[str]) -> None:
        self.inner = inner
        self.file = file

    def log_lines(self, lines: Sequence[LogLine]) -> None:
        try:
            self.file.write("".join(f"{text}\n" for line in lines for text in Plain.texts(line, None)))
            self.file.flush()  # a batch at a time: what was shown is in the file, should the process be killed
        finally:  # a full disk must not hide the lines from the CI log
            self.inner.log_lines(lines)

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

    def dry_run(self, requests: Mapping[str, Any]) -> None:
        self.inner.dry_run(requests)

    def result(self, outcome: Outcome, outputs: Mapping[str, str], context: Context | None = None) -> None:
        self.inner.result(outcome, outputs, context)

    def save_state(self, state: Mapping[str, str]) -> None:
        self.inner.save_state(state)
