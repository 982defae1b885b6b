"""Plain text: progress lines as the original tool printed them, for terminals and other CIs.

Our own lines start with `ecs-run-task: `, so that they never look like the container's (which may print
`error: ...` too); the container's lines are printed as they are. Every line of text from elsewhere goes
through `printable.safe_lines`: split where any reader may break it, control sequences shown, and inert (this
output may still be read by GitHub's runner, e.g. from `docker run ... ecs-run-task` in a `run:` step)."""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Mapping, Sequence
from typing import IO, Any

from ecs_run_task import arns
from ecs_run_task.arns import task_id
from ecs_run_task.diagnostics import Sink
from ecs_run_task.engine.events import Progress
from ecs_run_task.engine.logs import LogLine
from ecs_run_task.engine.renderer import Context
from ecs_run_task.inputs.spec import Spec
from ecs_run_task.printable import inert, lines, safe_lines
from ecs_run_task.report.structured import Structured, parse
from ecs_run_task.verdict.outcome import Outcome

TAG = "ecs-run-task: "  # before each of our own lines
LAST_LINES = 5  # of the deciding container, shown with its failure


class Plain:
    def __init__(self, out: IO[str], err: IO[str] | None = None) -> None:
        self.out = out
        self.err = err or out  # a failure's lines (errors go to stderr from the CLI)
        self.many = False  # several tasks: name the task on each progress line
        self.last: dict[tuple[str, str], deque[str]] = {}  # (task ARN, container) -> its last lines
        self.pretty = True  # `json-logs: pretty`: JSON lines with a level and a message shown readably

    def line(self, text: str) -> None:
        """One line as is: the caller made it safe (or it is our own markup)."""
        self.out.write(text + "\n")
        self.out.flush()

    def configure(self, spec: Spec) -> None:
        self.pretty = spec.json_logs == "pretty"

    def diagnostic_sink(self) -> Sink | None:
        return None  # readable lines on stderr

    def begin(self, phase: str, *, live: bool = False) -> None:
        pass  # plain output stays terse: progress lines only

    def end(self) -> None:
        pass

    def save_state(self, state: Mapping[str, str]) -> None:
        pass  # only the GitHub action has a post step to hand state to

    def info(self, text: str, *, to: IO[str] | None = None) -> None:
        for part in safe_lines(text):  # each line on its own: any of them could start with `::`
            (to or self.out).write(f"{TAG}{part}\n")
            (to or self.out).flush()

    def warning(self, text: str) -> None:
        self.info(f"warning: {text}")

    def started(self, tasks: list[dict[str, Any]], task_definition_arn: str, *, ours: bool = True) -> None:
        self.many = len(tasks) > 1
        revision = arns.revision(task_definition_arn)
        for task in tasks if ours else []:  # one we follow was named as such, with who started it and when
            self.info(f"started task {task_id(task['taskArn'])} ({revision})")

    def progress(self, event: Progress) -> None:
        who = f"task {task_id(event.task_arn)}: " if self.many else ""
        self.info(f"{who}lastStatus={event.last_status} elapsed={event.elapsed:.1f}s")

    def log_lines(self, lines: Sequence[LogLine]) -> None:
        for line in lines:
            texts = self.texts(line, parse(line.message) if self.pretty else None)
            self.keep(line, texts)
            for text in texts:
                self.line(inert(text))  # GitHub may read this output, e.g. `docker run` in a `run:` step

    def keep(self, line: LogLine, texts: list[str]) -> None:
        """The last lines of each container, to show with its failure: they usually say why."""
        key = (line.source.task_arn, line.source.container)
        self.last.setdefault(key, deque(maxlen=LAST_LINES)).extend(texts)

    def last_lines(self, outcome: Outcome) -> list[str]:
        return list(self.last.get((str((outcome.task or {}).get("taskArn", "")), outcome.container or ""), ()))

    @staticmethod
    def texts(line: LogLine, structured: Structured | None) -> list[str]:
        """The printed form of a log line: readable if structured (None with `json-logs: raw`), prefixed when several
        streams show, split and neutral (see `printable.lines`); not yet inert, which the GitHub renderer's block makes
        needless."""
        body = structured.readable() if structured else line.message
        prefix = f"[{line.source.label}] " if line.source.label else ""
        return [prefix + part for part in lines(body)]

    def dry_run(self, requests: Mapping[str, Any]) -> None:
        """The exact requests a real run sends (environment values masked), as JSON to reuse with the AWS CLI."""
        for name, request in requests.items():
            self.info(f"{name} request:")
            for part in safe_lines(json.dumps(request, indent=2, default=str)):  # as is, to copy
                self.line(part)

    def result(self, outcome: Outcome, outputs: Mapping[str, str], context: Context | None = None) -> None:
        self.begin("Result", live=True)
        try:
            if outcome.ok:
                self.info(outcome.message)
            else:
                self.failure(outcome)
            for warning in outcome.warnings:
                self.warning(warning)
            self.info(f"status={outputs['status']} exit-code={outputs['exit-code'] or '-'}")
        finally:
            self.end()

    def failure(self, outcome: Outcome) -> None:
        self.info(f"error: {outcome.message}", to=self.err)
        if outcome.hint:
            self.info(f"likely cause: {outcome.hint.cause}", to=self.err)
            self.info(f"fix: {outcome.hint.fix}", to=self.err)
        last = self.last_lines(outcome)
        if last:
            self.info(f"the last lines of container {outcome.container}:", to=self.err)
            for text in last:
                self.err.write(f"  {inert(text)}\n")
            self.err.flush()
