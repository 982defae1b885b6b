"""`junit-file`: a JUnit XML report of the run, for the CIs that show one (GitLab merge requests, Jenkins, CircleCI,
Azure Pipelines, Buildkite, GitHub through a reporter action).

One test suite, one test case per task: classname `<cluster>.<family>`, name the deciding container (with the task's
ID when there are several tasks), time the task's duration, the last lines of its deciding containers as
`system-out`, and a `failure` (type the status, message the headline, text the headline, the likely cause and the
fix) unless it succeeded; a task started without waiting is `skipped`. A run that started no task (bad input, AWS
refused, cancelled before RunTask answered) is one test case saying so. The shape is what Jenkins' junit-10.xsd (the
schema the common JUnit readers follow) accepts, with the attributes the stricter Ant schema asks of a suite too.

Text from elsewhere is made XML 1.0 text: colours dropped, control characters shown as symbols (as `printable` shows
them), anything XML cannot hold (a lone surrogate, U+FFFE) replaced; ElementTree escapes the rest. The report is
written once, when the result is known; failing to write it is said on stderr and changes neither the exit code nor
`status`."""

from __future__ import annotations

import contextlib
import os
import re
import socket
import time
import xml.etree.ElementTree as ET
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import IO, TYPE_CHECKING, Any

from ecs_run_task import arns
from ecs_run_task.engine.renderer import Wrapping
from ecs_run_task.printable import neutral
from ecs_run_task.status import Status
from ecs_run_task.tracebacks import print_traceback
from ecs_run_task.verdict import headlines
from ecs_run_task.verdict.outcome import Outcome, decided, judge_task

if TYPE_CHECKING:
    from ecs_run_task.engine.logs import LogLine
    from ecs_run_task.engine.renderer import Context, Renderer
    from ecs_run_task.inputs.spec import Spec

LAST_LINES = 50  # of each task's deciding containers, as its system-out
LINE_CHARS = 2000  # a longer line is clipped: the report is read in a web page
_COLOUR = re.compile(r"\x1b\[[0-9;:]*m")
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")  # outside XML 1.0's Char


def xml_text(text: str) -> str:
    """`text` as XML 1.0 can hold it: colours dropped, control characters as symbols, the rest replaced."""
    shown = "\n".join(neutral(line) for line in _COLOUR.sub("", text).split("\n"))
    return _NOT_XML.sub("\ufffd", shown)


@dataclass(frozen=True)
class Case:
    """One test case: a task (or the run, when no task started), its verdict and what it printed last."""

    classname: str
    name: str
    seconds: float
    outcome: Outcome
    lines: Sequence[str] = ()
    log_url: str = ""


def document(cases: Sequence[Case], *, started: float, seconds: float, hostname: str) -> str:
    """The report's text: an XML declaration and one `testsuites` with one `testsuite`."""
    failures = sum(1 for c in cases if _failed(c.outcome))
    skipped = sum(1 for c in cases if c.outcome.status == Status.STARTED)
    counts = {"tests": str(len(cases)), "failures": str(failures), "errors": "0"}
    root = ET.Element("testsuites", {"name": "ecs-run-task", **counts, "time": _seconds(seconds)})
    stamp = datetime.fromtimestamp(started, UTC).strftime("%Y-%m-%dT%H:%M:%S")  # no zone: what the Ant schema takes
    suite = ET.SubElement(root, "testsuite", {"name": "ecs-run-task", **counts, "skipped": str(skipped),
                                              "time": _seconds(seconds), "timestamp": stamp,
                                              "hostname": xml_text(hostname) or "localhost", "id": "0",
                                              "package": "ecs-run-task"})  # fmt: skip
    for case in cases:
        _case(suite, case)
    ET.SubElement(suite, "system-out")
    ET.SubElement(suite, "system-err")
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _failed(outcome: Outcome) -> bool:
    return not outcome.ok


def _seconds(seconds: float) -> str:
    return f"{max(seconds, 0.0):.3f}"  # a plain decimal: no exponent, never negative


def _case(suite: ET.Element, case: Case) -> None:
    element = ET.SubElement(suite, "testcase", {"classname": xml_text(case.classname), "name": xml_text(case.name),
                                                "time": _seconds(case.seconds)})  # fmt: skip
    outcome = case.outcome
    if outcome.status == Status.STARTED:
        ET.SubElement(element, "skipped", {"message": xml_text(outcome.message)})
    elif _failed(outcome):
        failure = ET.SubElement(
            element, "failure", {"type": str(outcome.status), "message": xml_text(outcome.headline)}
        )
        failure.text = xml_text(_failure_text(case))
    if case.lines:
        ET.SubElement(element, "system-out").text = xml_text("\n".join(case.lines)) + "\n"


def _failure_text(case: Case) -> str:
    outcome = case.outcome
    said = [outcome.headline, *headlines.details(outcome)]  # the headline, then what ECS or AWS said
    if outcome.hint:
        said += [f"Likely cause: {outcome.hint.cause}", f"Fix: {outcome.hint.fix}"]
    said += list(outcome.warnings)
    if case.log_url:
        said.append(f"Log: {case.log_url}")
    return "\n".join(said)


def family_of(task_definition: str) -> str:
    """`arn:...:task-definition/app:7`, `app:7` or `app` -> `app`."""
    return arns.revision(task_definition).split(":", 1)[0] if task_definition else ""


def _duration(task: Mapping[str, Any], now: float) -> float:
    """From the task's creation to its stop (or the execution's, or now, if it has not stopped yet)."""
    began = task.get("createdAt") or task.get("startedAt")
    ended = task.get("stoppedAt") or task.get("executionStoppedAt")
    if not isinstance(began, datetime):
        return 0.0
    end = ended.timestamp() if isinstance(ended, datetime) else now
    return max(end - began.timestamp(), 0.0)


def cases(outcome: Outcome, outputs: Mapping[str, str], context: Context | None, *, spec: Spec | None,
          lines: Mapping[tuple[str, str], Sequence[str]], tasks: Sequence[dict[str, Any]], seconds: float,
          now: float) -> list[Case]:  # fmt: skip
    """A case for each task (from the result's context, else those seen started), or one for the run itself."""
    described = list(context.tasks) if context and context.tasks else list(tasks)
    cluster = arns.cluster_name(context.cluster if context else spec.cluster if spec else "default")
    deciders = list(context.deciders) if context else []
    if not described:
        family = family_of(outputs.get("task-definition-arn", "") or (spec.task_definition or "" if spec else ""))
        name = (spec.container if spec else None) or "task"
        return [Case(".".join(p for p in (cluster, family) if p), name, seconds, outcome)]
    deciding = str((outcome.task or {}).get("taskArn", ""))
    found = []
    for number, task in enumerate(described, start=1):
        arn = str(task.get("taskArn", ""))
        verdict = outcome if arn == deciding or not decided(task, deciders) else judge_task(task, deciders)
        containers = [verdict.container] if verdict.container else deciders
        name = ", ".join(containers) or "task"
        shown = [
            f"[{c}] {text}" if len(containers) > 1 else text for c in containers for text in lines.get((arn, c), ())
        ][-LAST_LINES:]
        if len(described) > 1:  # named by its place, the same from run to run, for CI's test history; its ID below
            name += f" (task {number} of {len(described)})"
            shown = [f"task {arns.task_id(arn)}", *shown]
        family = family_of(str(task.get("taskDefinitionArn", "")))
        found.append(Case(f"{cluster}.{family}" if family else cluster, name, _duration(task, now), verdict,
                          shown, outputs.get("log-url", "") if arn == deciding else ""))  # fmt: skip
    return found


class JUnit(Wrapping):
    """A renderer that hands everything to `inner`, keeps what the report needs (the tasks started, the last lines
    of every container) and writes the report to `path` once the result is known."""

    def __init__(self, inner: Renderer, path: str, err: IO[str], clock: Any = time.time) -> None:
        super().__init__(inner)
        self.path = path
        self.err = err
        self.clock = clock
        self.began = clock()
        self.spec: Spec | None = None
        self.tasks: list[dict[str, Any]] = []
        self.lines: dict[tuple[str, str], deque[str]] = {}

    def result(self, outcome: Outcome, outputs: Mapping[str, str], context: Context | None = None) -> None:
        try:
            self.inner.result(outcome, outputs, context)
        finally:  # the report is written whatever showing the result did, and never changes the verdict
            self.write(outcome, outputs, context)

    def write(self, outcome: Outcome, outputs: Mapping[str, str], context: Context | None) -> None:
        try:
            now = self.clock()
            found = cases(outcome, outputs, context, spec=self.spec, lines=self.lines, tasks=self.tasks,
                          seconds=now - self.began, now=now)  # fmt: skip
            text = document(found, started=self.began, seconds=now - self.began, hostname=socket.gethostname())
        except Exception:  # a bug of ours: said, and the run's status and exit code stay what they are
            print_traceback()
            self.said("the report could not be made (the traceback is above)")
            return
        try:
            os.makedirs(os.path.dirname(self.path) or ".", exist_ok=True)
            with open(self.path, "w", encoding="utf-8") as f:
                f.write(text)
        except OSError as e:
            self.said(f"the report could not be written to {self.path} ({e.strerror or e})")

    def said(self, what: str) -> None:
        with contextlib.suppress(OSError, ValueError):  # stderr itself is gone: nothing left to tell
            print(f"ecs-run-task: error: junit-file: {what}; the run's status and exit code are unchanged",
                  file=self.err, flush=True)  # fmt: skip

    def log_lines(self, lines: Sequence[LogLine]) -> None:
        for line in lines:
            key = (line.source.task_arn, line.source.container)
            kept = self.lines.setdefault(key, deque(maxlen=LAST_LINES))
            kept.extend(text[:LINE_CHARS] for text in line.message.rstrip("\n").split("\n"))
        self.inner.log_lines(lines)

    def started(self, tasks: list[dict[str, Any]], task_definition_arn: str, *, ours: bool = True) -> None:
        known = {str(t.get("taskArn")) for t in self.tasks}
        self.tasks += [t for t in tasks if str(t.get("taskArn")) not in known]
        self.inner.started(tasks, task_definition_arn, ours=ours)

    def configure(self, spec: Spec) -> None:
        self.spec = spec
        self.inner.configure(spec)
