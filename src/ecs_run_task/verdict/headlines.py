"""What happened, in one line: the headline of an outcome (the `message` output, the failure annotation's title, the
job summary's heading, the first line of the plain result), and the lines that tell the rest. Pure.

A headline names the cause where the failure catalogue knows it ("container migrate ran out of memory (exit
137)"), else what ECS or AWS reported, in plain words: no Python repr, no reason said twice."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from ecs_run_task import arns
from ecs_run_task.status import Status

if TYPE_CHECKING:
    from ecs_run_task.verdict.outcome import Outcome

LONGEST = 300  # characters of a reason quoted in a headline: the rest is in the details


def headline(outcome: Outcome) -> str:
    """The outcome in one line, naming its cause where it is known."""
    hint = outcome.hint.headline if outcome.hint else ""
    container = f"container {outcome.container}" if outcome.container else ""
    if container and outcome.container_exit_code not in (None, 0):  # failed (or stopped from outside) with its code
        said = hint or f"{container} exited with code"
        return f"{said} (exit {outcome.container_exit_code})" if hint else f"{said} {outcome.container_exit_code}"
    if outcome.status == Status.FAILED_TO_START:
        return _not_started(outcome, hint, container)
    if outcome.status == Status.INVALID_INPUT:
        return _invalid(outcome)
    if hint and outcome.status in (Status.INTERRUPTED, Status.UNKNOWN):
        return _cut_short(outcome, hint)
    if outcome.status == Status.SUCCEEDED and container and not outcome.message.startswith("all "):
        return f"{container} exited with code 0"
    return _first_line(outcome.message)


def _cut_short(outcome: Outcome, hint: str) -> str:
    """A task that exited 0 after a stop it did not make (what cut it short), or that could no longer be followed."""
    if outcome.status == Status.INTERRUPTED:
        return hint
    return f"lost the task: {hint}; {outcome.message.rsplit('; ', 1)[-1]}"


def _not_started(outcome: Outcome, hint: str, container: str) -> str:
    if outcome.task is not None and container:  # the deciding container never ran
        if hint and hint.startswith(container):
            return hint
        if hint:
            return f"{container} could not start: {hint}"
        reason = _reason(outcome.task, outcome.container or "")
        return f"{container} could not start: {reason}" if reason else f"{container} never ran (no reason given)"
    if outcome.bug:
        return _first_line(outcome.message)
    if hint:
        return f"could not start the task: {hint}"
    return f"could not start the task: {_first_line(outcome.message)}"


def _reason(task: dict[str, Any], name: str) -> str:
    """What ECS said of a container that never ran: its own reason, else the task's."""
    container: dict[str, Any] = next((c for c in task.get("containers") or [] if c.get("name") == name), {})
    for reason in (container.get("reason"), task.get("stoppedReason")):
        if reason:
            return _cut(" ".join(str(reason).split()))
    return ""


_NAMED = re.compile(
    r"^((?:--)?[a-z][a-z-]*(?:, (?:--)?[a-z][a-z-]*)*):"
)  # `cluster:`, `--cluster:` on the command line


def _invalid(outcome: Outcome) -> str:
    """One problem: itself; several: how many, and the inputs they name."""
    problems = [line.strip().removeprefix("- ") for line in outcome.message.split("\n")[1:] if line.strip()]
    if len(problems) == 1:  # what is wrong; the fix, after a `;`, is in the details
        return f"invalid input: {_cut(problems[0].split('; ', 1)[0])}"
    if problems:
        names = list(dict.fromkeys(m[1] for m in map(_NAMED.match, problems) if m))
        return f"{len(problems)} inputs are not valid" + (f" ({', '.join(names)})" if names else "")
    return _first_line(outcome.message)


def details(outcome: Outcome) -> list[str]:
    """What the result says under the headline: the rest of the message (the task, what ECS said, every problem of
    the input), without what the headline says already."""
    lines = [line.rstrip() for line in outcome.message.split("\n") if line.strip()]  # a CR in AWS's text is no break
    said = outcome.headline
    if outcome.status == Status.INVALID_INPUT and lines and "nothing was started" in lines[0]:
        return ["nothing was started:", *lines[1:]]  # every problem, with its fix
    task = f"task {arns.task_id(str(outcome.task.get('taskArn', '?')))}: " if outcome.task else ""
    return [line for line in lines if line.strip() not in said and line != task + said]


def _first_line(text: str) -> str:
    return _cut(text.strip().split("\n", 1)[0])


def _cut(text: str) -> str:
    return text if len(text) <= LONGEST else text[: LONGEST - 3].rstrip() + "..."
