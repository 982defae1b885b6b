"""GitHub Actions: groups per phase, container lines inside stop-commands blocks, a few annotations,
outputs and state via files.

The runner treats any line whose trimmed text starts with `::`, or that holds `##[`, as a command. Container
lines are printed between `::stop-commands::<fresh token>` and `::<token>::`, raw but for `##[`; every other line that carries
text from elsewhere goes through `inert()`. This is the only module that uses actions-toolkit; its `core`
module pulls in `requests`, so we use the command modules directly.
"""

from __future__ import annotations

import secrets
from collections import deque
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO

from actions_toolkit.command import Command
from actions_toolkit.file_command import issue_file_command, prepare_key_value_message

from ecs_run_task.diagnostics import Sink
from ecs_run_task.engine.logs import LogLine
from ecs_run_task.engine.renderer import Context
from ecs_run_task.inputs.spec import Spec
from ecs_run_task.printable import annotation_text, encodable, unmarked
from ecs_run_task.report import summary
from ecs_run_task.report.plain import Plain
from ecs_run_task.report.structured import Structured, parse
from ecs_run_task.report.summary import headline
from ecs_run_task.verdict.outcome import Outcome

# The runner keeps 10 annotations per type per step: log lines get 8, leaving room for our own warnings and
# for the final failure, which must always show.
LOG_ANNOTATIONS = 8
TOOL_ANNOTATIONS = {"warning": 2, "error": 1}  # our own; the final failure's error is on top of these


def workspace_path(workspace: str | None, path: str) -> str | None:
    """`path` as the repository knows it, if it is a file there: `/app/app/models/user.rb` -> `app/models/user.rb`."""
    if not workspace:
        return None
    parts = [p for p in Path(path).parts if p not in ("/", "..", ".")]
    for start in range(len(parts)):
        candidate = Path(*parts[start:])
        try:
            if (Path(workspace) / candidate).is_file():
                return candidate.as_posix()
        except (OSError, ValueError):  # a log line's path may be too long, or hold a NUL byte
            continue
    return None


class GitHub(Plain):
    def __init__(self, out: IO[str], env: Mapping[str, str], *, annotate: bool = True) -> None:
        super().__init__(out)
        self.env = env
        self.annotate = annotate
        self.open_group = False
        self.annotations_left = {"error": LOG_ANNOTATIONS, "warning": LOG_ANNOTATIONS}
        self.tool_left = dict(TOOL_ANNOTATIONS)
        self.tail: deque[str] = deque(maxlen=summary.TAIL)  # the last log lines, for the job summary

    def command(self, name: str, message: str = "", **properties: str) -> None:
        self.line(str(Command(name, properties, annotation_text(message))))

    def begin(self, phase: str, *, live: bool = False) -> None:
        self.end()  # groups don't nest; every group is folded in the web log, live or not
        self.command("group", phase)
        self.open_group = True

    def end(self) -> None:
        if self.open_group:
            self.command("endgroup")
            self.open_group = False

    def warning(self, text: str) -> None:
        self.tool_annotation("warning", text)

    def configure(self, spec: Spec) -> None:
        super().configure(spec)
        self.annotate = spec.annotate

    def diagnostic_sink(self) -> Sink | None:
        return self.diagnostic

    def diagnostic(self, level: str, text: str) -> None:
        """Our own diagnostics (see `diagnostics.configure`): debug lines for the runner's debug log, warnings
        and errors as annotations."""
        if level in ("warning", "error"):
            self.tool_annotation(level, text)
        else:
            self.command("debug", text)

    def tool_annotation(self, kind: str, text: str) -> None:
        """Our own warnings and errors: annotations while the budget lasts, plain lines after."""
        if self.tool_left[kind] > 0:
            self.tool_left[kind] -= 1
            self.command(kind, text, title="ecs-run-task")
        else:
            self.info(f"{kind}: {text}")

    def failure(self, outcome: Outcome) -> None:
        hint = f"\nLikely cause: {outcome.hint.cause}\nFix: {outcome.hint.fix}" if outcome.hint else ""
        last = self.last_lines(outcome)
        said = f"\nThe last lines of container {outcome.container}:\n" + "\n".join(last) if last else ""
        self.command("error", outcome.message + hint + said, title=headline(outcome))

    def log_lines(self, lines: Sequence[LogLine]) -> None:
        parsed = [(line, parse(line.message)) for line in lines]
        texts = []
        for line, structured in parsed:
            mine = self.texts(line, structured if self.pretty else None)  # annotated all the same
            self.keep(line, mine)
            texts += mine
        self.tail.extend(texts[-summary.TAIL :])
        token = secrets.token_hex(16)
        while any(token in t for t in texts):  # a line quoting the token could end the block early
            token = secrets.token_hex(16)
        self.line(f"::stop-commands::{token}")
        try:
            for text in texts:
                self.line(unmarked(text))  # stop-commands keeps the runner from acting, not the viewer from drawing
        finally:  # an open block would swallow every command after it: the result, its annotation, outputs
            self.line(f"::{token}::")
        if self.annotate:
            for line, structured in parsed:
                if structured and structured.severity:
                    self.annotate_line(line, structured, structured.severity)

    def annotate_line(self, line: LogLine, structured: Structured, severity: str) -> None:
        left = self.annotations_left[severity]
        if left <= 0:
            return
        self.annotations_left[severity] = left - 1
        properties = {"title": line.source.label or line.source.container}
        where = structured.location()
        path = workspace_path(self.env.get("GITHUB_WORKSPACE"), where[0]) if where else None
        if where and path:
            properties["file"] = path
            if where[1]:
                properties["line"] = str(where[1])
        self.command(severity, structured.message, **properties)
        if left == 1:
            self.info(f"further {severity} lines of the logs are not annotated: the runner keeps 10 per step")

    def save_state(self, state: Mapping[str, str]) -> None:
        """Saved for the post step, which stops any task the killed main step left running."""
        if self.env.get("GITHUB_STATE"):
            for name, value in state.items():
                issue_file_command("STATE", prepare_key_value_message(name, encodable(value)))

    def result(self, outcome: Outcome, outputs: Mapping[str, str], context: Context | None = None) -> None:
        super().result(outcome, outputs, context)
        if self.env.get("GITHUB_OUTPUT"):
            for name, value in outputs.items():
                issue_file_command("OUTPUT", prepare_key_value_message(name, encodable(value)))
        summary_file = self.env.get("GITHUB_STEP_SUMMARY")
        if summary_file:
            with open(summary_file, "a", encoding="utf-8", errors="backslashreplace") as f:
                f.write(summary.markdown(outcome, dict(outputs), context, list(self.tail)) + "\n")
