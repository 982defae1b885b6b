"""Task descriptions -> the outcome: status, exit code and a message a user can act on. Pure.

The contract's rule: the deciding container of a task is `container` when given; otherwise every essential
container must exit 0 and the first non-zero (in task definition order) decides. A deciding container with
no exit code never ran: the task failed to start. With several tasks, the first failing task decides.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ecs_run_task import arns
from ecs_run_task.errors import Hint
from ecs_run_task.exit_codes import CANNOT_RUN, SUCCESS, TIMED_OUT, signal_exit
from ecs_run_task.status import Status
from ecs_run_task.verdict import failures, headlines

SUCCEEDED, FAILED, FAILED_TO_START = Status.SUCCEEDED, Status.FAILED, Status.FAILED_TO_START
TIMED_OUT_STATUS, CANCELLED, STARTED, DRY_RUN = Status.TIMED_OUT, Status.CANCELLED, Status.STARTED, Status.DRY_RUN
UNKNOWN = Status.UNKNOWN
STOPPED = "STOPPED"  # ECS's lastStatus and desiredStatus, of tasks and of containers


@dataclass(frozen=True)
class Outcome:
    status: Status
    exit_code: int  # the process's exit status
    container_exit_code: int | None  # the deciding container's own code, the `exit-code` output
    task: dict[str, Any] | None  # the deciding task's description
    container: str | None  # the deciding container's name
    message: str
    hint: Hint | None = None  # the likely cause and fix, where the failure's signature is known
    warnings: tuple[str, ...] = ()  # what the result must also say (log lines that could not be read)

    @property
    def headline(self) -> str:
        """What happened, in one line: the `message` output, the failure's title (see `headlines.py`)."""
        return headlines.headline(self)

    @property
    def container_ran(self) -> bool:
        """Whether the deciding container (none named: the task) ran, so that a log stream may exist to link."""
        return self.task is not None and ran(self.task, [self.container] if self.container else [])

    @classmethod
    def without_task(cls, status: Status, exit_code: int, message: str, hint: Hint | None = None) -> Outcome:
        """The outcome of a run that ended with no task to name: bad input, a refused start, a dry run."""
        return cls(status, exit_code, None, None, None, message, hint)

    @property
    def ok(self) -> bool:
        """Succeeded, started (`wait: false`) or a dry run: nothing to report as a failure."""
        return self.exit_code == SUCCESS

    @property
    def stop_code(self) -> str:
        return str((self.task or {}).get("stopCode", ""))

    @property
    def stopped_reason(self) -> str:
        return str((self.task or {}).get("stoppedReason", ""))


def deciding_containers(task_definition: dict[str, Any], container: str | None) -> list[str]:
    if container:
        return [container]
    return [c["name"] for c in task_definition.get("containerDefinitions", []) if c.get("essential", True)]


def decided(task: dict[str, Any], deciders: Sequence[str]) -> bool:
    """Whether the task's answer is known: every deciding container has stopped (with an exit code or without
    one), or the whole task has. ECS reports the task STOPPED seconds to minutes later, if ever (a non-essential
    deciding container beside an essential sidecar that runs on)."""
    if task.get("lastStatus") == STOPPED:
        return True
    return bool(deciders) and all(_container(task, name).get("lastStatus") == STOPPED for name in deciders)


def ran(task: dict[str, Any], deciders: Sequence[str]) -> bool:
    """Whether a deciding container has run (is running, or exited with a code), or the task reached RUNNING
    (`startedAt`: polls may have missed it, as a Spot interruption between two of them): from then on the task is
    never started again, since a migration may be half applied."""
    if task.get("startedAt") is not None:
        return True
    return any(_container(task, n).get("lastStatus") == "RUNNING" or _container(task, n).get("exitCode") is not None
               for n in deciders)  # fmt: skip


def stopping(task: dict[str, Any]) -> bool:
    """ECS is stopping the task (or has): nothing for us to stop."""
    return task.get("lastStatus") == STOPPED or task.get("desiredStatus") == STOPPED


def _container(task: dict[str, Any], name: str) -> dict[str, Any]:
    return next((c for c in task.get("containers", []) if c.get("name") == name), {})


ORDINARY_STOP = ("EssentialContainerExited", "Essential container in task exited")  # a container's own exit


def _why(task: dict[str, Any], container: dict[str, Any]) -> str:
    """What ECS said: its stop code, then the task's stopped reason and the container's reason, each said once (ECS
    often gives the same text twice); less what every ordinary exit says (the container's code says it all then)."""
    ordinary = (task.get("stopCode"), task.get("stoppedReason")) == ORDINARY_STOP and container.get("exitCode")
    reasons: list[str] = []
    for reason in (None if ordinary else task.get("stoppedReason"), container.get("reason")):
        text = " ".join(str(reason or "").split())
        if text and not any(text in said for said in reasons):
            reasons = [said for said in reasons if said not in text] + [text]
    code = "" if ordinary else str(task.get("stopCode") or "")
    return ": ".join(p for p in (code, "; ".join(reasons)) if p)


def _memory(value: object) -> str:
    """A memory figure ECS gave (MiB, as text), or "" when it is not one."""
    text = str(value or "").strip()
    return text if text.isascii() and text.isdigit() and text != "0" else ""


def _culprit(task: dict[str, Any], name: str) -> str:
    """Who stopped the task, when ECS says an essential container exited and one other container evidently did so by
    itself (it never ran, exited other than by the stop's SIGTERM or SIGKILL, or ECS gives a reason): "because
    container envoy exited with code 1". "" when that is not clear."""
    if task.get("stopCode") != "EssentialContainerExited":
        return ""
    found = []
    for other in task.get("containers", []):
        code = other.get("exitCode")
        if other.get("name") == name or other.get("lastStatus") != STOPPED:
            continue
        if code is None:
            found.append(f"because container {other.get('name')} never ran")
        elif code not in (137, 143) or other.get("reason"):
            found.append(f"because container {other.get('name')} exited with code {code}")
    return found[0] if len(found) == 1 else ""


def _hint(task: dict[str, Any], container: dict[str, Any], code: int | None) -> Hint | None:
    stop_code = str(task.get("stopCode", ""))
    if stop_code == "EssentialContainerExited" and len(task.get("containers", [])) == 1:
        stop_code = ""  # the only container exited by itself: no other one made ECS stop it
    facts = {"container": str(container.get("name") or ""), "image": str(container.get("image") or ""),
             "container_memory": _memory(container.get("memory")), "task_memory": _memory(task.get("memory")),
             "stopped_how": _culprit(task, str(container.get("name") or ""))}  # fmt: skip
    return failures.for_task(exit_code=code, stop_code=stop_code, stopped_reason=str(task.get("stoppedReason", "")),
                             container_reason=str(container.get("reason", "")), facts=facts)  # fmt: skip


def judge_task(task: dict[str, Any], deciders: Sequence[str]) -> Outcome:
    where = f"task {arns.task_id(task.get('taskArn', '?'))}"
    for name in deciders:
        container = _container(task, name)
        code = container.get("exitCode")
        if code is None:
            why = _why(task, container) or "no reason given"
            return Outcome(
                FAILED_TO_START, CANNOT_RUN, None, task, name,
                f"{where}: container {name} never ran or has no exit code ({why})", _hint(task, container, None),
            )  # fmt: skip
        if code != 0:
            why = _why(task, container)
            # an exit status holds 0-255: 256 (Windows can report such codes) would read as success
            status, fits = (code, "") if 0 < code <= 255 else (1, "; it does not fit an exit status, so we exit 1")
            return Outcome(
                FAILED, status, code, task, name,
                f"{where}: container {name} exited with code {code}" + (f" ({why})" if why else "") + fits,
                _hint(task, container, code),
            )  # fmt: skip
    last = deciders[-1] if deciders else None
    said = f"container {last} exited with code 0" if last else "exited with code 0"
    return Outcome(SUCCEEDED, SUCCESS, 0 if last else None, task, last, f"{where}: {said}")


def judge(tasks: Sequence[dict[str, Any]], deciders: Sequence[str]) -> Outcome:
    """The outcome of stopped tasks, in the order they were started."""
    verdicts = [judge_task(t, deciders) for t in tasks]
    failed = next((v for v in verdicts if v.status != SUCCEEDED), None)
    if failed:
        return failed
    return Outcome(SUCCEEDED, SUCCESS, verdicts[0].container_exit_code, tasks[0], verdicts[0].container,
                   verdicts[0].message if len(tasks) == 1 else f"all {len(tasks)} tasks exited with code 0")  # fmt: skip


def _stop_result(tasks: Sequence[dict[str, Any]], stopped: bool) -> str:
    what = "task was" if len(tasks) == 1 else "tasks were"
    if stopped:
        return f"the {what} stopped"
    return f"StopTask failed, so the {what.split(maxsplit=1)[0]} may still be running (see the warning above)"


def interrupted(tasks: Sequence[dict[str, Any]], signum: int | None, timeout: float | None, *,
                stopped: bool = True) -> Outcome:  # fmt: skip
    """The tasks were stopped by us: on timeout (124) or a signal (130/143)."""
    first = tasks[0] if tasks else None
    if signum is None:
        return Outcome(TIMED_OUT_STATUS, TIMED_OUT, None, first, None,
                       f"timed out after {timeout:g}s; {_stop_result(tasks, stopped)}")  # fmt: skip
    code, name = signal_exit(signum)
    return Outcome(CANCELLED, code, None, first, None, f"cancelled by {name}; {_stop_result(tasks, stopped)}")


def lost(tasks: Sequence[dict[str, Any]], why: str, *, stopped: bool, hint: Hint | None = None) -> Outcome:
    """A started task we can no longer follow (AWS refuses, or a bug of ours): `unknown`, never a verdict."""
    first = tasks[0] if tasks else None
    return Outcome(UNKNOWN, CANNOT_RUN, None, first, None, f"{why}; {_stop_result(tasks, stopped)}", hint)


def started(tasks: Sequence[dict[str, Any]]) -> Outcome:
    return Outcome(STARTED, SUCCESS, None, tasks[0], None, f"started {len(tasks)} task(s); not waiting")


def run_failures(refused: Sequence[dict[str, Any]], started: int = 0, attempts: int = 1) -> Outcome:
    reasons = "; ".join(
        f"{f.get('reason', '?')}"
        + (f" ({f['detail']})" if f.get("detail") else "")
        + (f" [{f['arn']}]" if f.get("arn") else "")
        for f in refused
    )
    what = f"only {started} of {started + len(refused)} tasks" if started else "no task"
    what += f" in {attempts} attempts" if attempts > 1 else ""
    hint = failures.for_run_failures([f"{f.get('reason', '')} {f.get('detail', '')}".strip() for f in refused])
    return Outcome.without_task(FAILED_TO_START, CANNOT_RUN, f"RunTask started {what}: {reasons}", hint)
