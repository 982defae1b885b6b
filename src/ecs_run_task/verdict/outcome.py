"""Task descriptions -> the outcome: status, exit code and a message a user can act on. Pure.

The contract's rule: the deciding container of a task is `container` when given; otherwise every essential
container must exit 0 and the first non-zero (in task definition order) decides. A deciding container with
no exit code never ran: the task failed to start. A deciding container that ran in a task stopped from outside
(a person's StopTask, Spot, the service scheduler: not its own exit, not a StopTask of ours) is `interrupted`,
never a success. With several tasks, the first failing task decides.

Our own StopTask calls reach the verdict as data: `ours`, each task ARN we asked ECS to stop -> the reason sent.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ecs_run_task import arns
from ecs_run_task.errors import Hint
from ecs_run_task.exit_codes import CANNOT_RUN, STOPPED_FROM_OUTSIDE, SUCCESS, TIMED_OUT, signal_exit
from ecs_run_task.status import Status
from ecs_run_task.verdict import failures, headlines

SUCCEEDED, FAILED, FAILED_TO_START = Status.SUCCEEDED, Status.FAILED, Status.FAILED_TO_START
TIMED_OUT_STATUS, CANCELLED, STARTED = Status.TIMED_OUT, Status.CANCELLED, Status.STARTED
UNKNOWN, INTERRUPTED = Status.UNKNOWN, Status.INTERRUPTED
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
    bug: bool = False  # an unexpected error of ours ended the run (its traceback is on stderr)
    consequence: str = (
        ""  # what became of what the run gated (a deployment): "; ..." or ", but ...", after the headline
    )

    @property
    def headline(self) -> str:
        """What happened, in one line: the `message` output, the failure's title (see `headlines.py`)."""
        return headlines.headline(self) + self.consequence

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


def _hint(task: dict[str, Any], container: dict[str, Any], code: int | None, *, ours: bool = False) -> Hint | None:
    stop_code = str(task.get("stopCode", ""))
    if stop_code == "EssentialContainerExited" and len(task.get("containers", [])) == 1:
        stop_code = ""  # the only container exited by itself: no other one made ECS stop it
    if ours:
        stop_code = ""  # our own StopTask: not a stop from outside, whose hints would blame someone else
    facts = {"container": str(container.get("name") or ""), "image": str(container.get("image") or ""),
             "container_memory": _memory(container.get("memory")), "task_memory": _memory(task.get("memory")),
             "stopped_how": _culprit(task, str(container.get("name") or ""))}  # fmt: skip
    return failures.for_task(exit_code=code, stop_code=stop_code, stopped_reason=str(task.get("stoppedReason", "")),
                             container_reason=str(container.get("reason", "")), facts=facts)  # fmt: skip


def stopped_by_us(task: dict[str, Any], ours: Mapping[str, str]) -> bool:
    """ECS stopped the task because we asked it to: a StopTask of ours, which ECS records as UserInitiated with
    the reason we gave. (A stop asked for before ours keeps its own code and reason, as ECS does.)"""
    reason = ours.get(str(task.get("taskArn", "")))
    return (reason is not None and task.get("stopCode") == "UserInitiated"
            and task.get("stoppedReason") in (None, "", reason))  # fmt: skip


_STOP_CODE = re.compile(r"[A-Z][A-Za-z]{2,63}")  # ECS's stop codes, those it may add too: UserInitiated, ...


def stopped_from_outside(task: dict[str, Any], ours: Mapping[str, str] | None = None) -> str:
    """The stop code of a stop asked for from outside the task (not its containers' own exit, not a failed start,
    not our StopTask), or ""."""
    stop_code = str(task.get("stopCode") or "")
    if not _STOP_CODE.fullmatch(stop_code) or stop_code in failures.NOT_OUTSIDE or stopped_by_us(task, ours or {}):
        return ""  # a code that is none of ECS's (a mangled answer) says nothing either way
    return stop_code


def _interrupted(task: dict[str, Any], deciders: Sequence[str], stop_code: str) -> Outcome | None:
    """The outcome of a task stopped from outside while a deciding container ran: its own code when non-zero
    (the first, in order), else 143; never a success. None when no deciding container ran."""
    ran = [(n, _container(task, n)) for n in deciders if _container(task, n).get("exitCode") is not None]
    if not ran:
        return None  # it never ran: a failure to start, said as such
    name, container = next(((n, c) for n, c in ran if c["exitCode"] != 0), ran[0])
    code = container["exitCode"]
    why = f"stopCode={stop_code}" + (f": {task['stoppedReason']}" if task.get("stoppedReason") else "")
    message = (f"task {arns.task_id(task.get('taskArn', '?'))}: interrupted: ECS was asked from outside to stop the "
               f"task ({why}) while container {name} ran; it exited with code {code}")  # fmt: skip
    if code == 0:
        status = STOPPED_FROM_OUTSIDE
        message += f"; an exit after a stop from outside never counts as success, so we exit {status}"
    elif 0 < code <= 255:
        status = code
    else:
        status, message = 1, message + "; it does not fit an exit status, so we exit 1"
    return Outcome(INTERRUPTED, status, code, task, name, message, _hint(task, container, code))


def essential_sidecars(task_definition: dict[str, Any], deciders: Sequence[str]) -> list[str]:
    """The essential containers that do not decide: one that exits makes ECS stop the whole task."""
    return [n for n in deciding_containers(task_definition, None) if n not in deciders]


_STOP_SIGNALS = (0, 137, 143)  # how a container ends on the stop's SIGTERM (or the SIGKILL after it)


def _sidecar_crash(task: dict[str, Any], deciders: Sequence[str], sidecars: Collection[str]) -> Outcome | None:
    """A deciding container that exited 0 after ECS stopped the task because an essential sidecar crashed (exited
    with a code no stop gives): the stop's SIGTERM may have cut the migration short, and many programs exit 0 on
    it, so it is no success. ECS gives no container exit times: a sidecar that exits non-zero on its own SIGTERM,
    after the migration finished, reads the same, and errs on the side of a failed deploy."""
    if task.get("stopCode") != "EssentialContainerExited":
        return None
    crashed = [c for c in task.get("containers", []) if c.get("name") in sidecars and c.get("lastStatus") == STOPPED
               and isinstance(c.get("exitCode"), int) and c["exitCode"] not in _STOP_SIGNALS]  # fmt: skip
    zero = [n for n in deciders if _container(task, n).get("exitCode") == 0]
    if not crashed or not zero or len(zero) != len(deciders):
        return None
    name, culprit = zero[-1], crashed[0]
    message = (f"task {arns.task_id(task.get('taskArn', '?'))}: interrupted: essential container {culprit.get('name')} "
               f"exited with code {culprit['exitCode']}, so ECS stopped the task (stopCode=EssentialContainerExited) "
               f"while container {name} may still have run; it exited with code 0, which after such a stop never "
               f"counts as success, so we exit {STOPPED_FROM_OUTSIDE}")  # fmt: skip
    sidecar = culprit.get("name")
    hint = Hint("sidecar-crashed", f"Essential container `{sidecar}` exited with code {culprit['exitCode']}, so ECS "
                f"stopped the task and sent `{name}` SIGTERM: its work may be half done.",
                f"Find why `{sidecar}` exited (its log), and make it non-essential if `{name}` does not need it; then "
                "run the task again, which must cope with a half-applied run.",
                headline=f"container {name} was cut short: essential container {sidecar} exited with code "
                         f"{culprit['exitCode']}")  # fmt: skip
    return Outcome(INTERRUPTED, STOPPED_FROM_OUTSIDE, 0, task, name, message, hint)


def judge_task(task: dict[str, Any], deciders: Sequence[str], ours: Mapping[str, str] | None = None,
               sidecars: Collection[str] = ()) -> Outcome:  # fmt: skip
    """The outcome of one decided task; `ours`: the tasks we asked ECS to stop, and the reason we gave; `sidecars`:
    the essential containers that do not decide (`essential_sidecars`)."""
    where = f"task {arns.task_id(task.get('taskArn', '?'))}"
    outside = stopped_from_outside(task, ours)
    stopped = _interrupted(task, deciders, outside) if outside else _sidecar_crash(task, deciders, sidecars)
    if stopped is not None:
        return stopped
    mine = stopped_by_us(task, ours or {})
    for name in deciders:
        container = _container(task, name)
        code = container.get("exitCode")
        if code is None:
            why = _why(task, container) or "no reason given"
            return Outcome(
                FAILED_TO_START, CANNOT_RUN, None, task, name,
                f"{where}: container {name} never ran or has no exit code ({why})",
                _hint(task, container, None, ours=mine),
            )  # fmt: skip
        if code != 0:
            why = _why(task, container)
            # an exit status holds 0-255: 256 (Windows can report such codes) would read as success
            status, fits = (code, "") if 0 < code <= 255 else (1, "; it does not fit an exit status, so we exit 1")
            return Outcome(
                FAILED, status, code, task, name,
                f"{where}: container {name} exited with code {code}" + (f" ({why})" if why else "") + fits,
                _hint(task, container, code, ours=mine),
            )  # fmt: skip
    last = deciders[-1] if deciders else None
    said = f"container {last} exited with code 0" if last else "exited with code 0"
    return Outcome(SUCCEEDED, SUCCESS, 0 if last else None, task, last, f"{where}: {said}")


def judge(tasks: Sequence[dict[str, Any]], deciders: Sequence[str], ours: Mapping[str, str] | None = None,
          sidecars: Collection[str] = ()) -> Outcome:  # fmt: skip
    """The outcome of decided tasks, in the order they were started; `ours` and `sidecars` as for `judge_task`."""
    verdicts = [judge_task(t, deciders, ours, sidecars) for t in tasks]
    failed = next((v for v in verdicts if v.status != SUCCEEDED), None)
    if failed:
        return failed
    return Outcome(SUCCEEDED, SUCCESS, verdicts[0].container_exit_code, tasks[0], verdicts[0].container,
                   verdicts[0].message if len(tasks) == 1 else f"all {len(tasks)} tasks exited with code 0")  # fmt: skip


def _stop_result(tasks: Sequence[dict[str, Any]], stopped: bool, left: str) -> str:
    if left:  # tasks followed but not started by this run: never stopped by it
        return left
    what = "task was" if len(tasks) == 1 else "tasks were"
    if stopped:
        return f"the {what} stopped"
    return f"StopTask failed, so the {what.split(maxsplit=1)[0]} may still be running (see the warning above)"


def interrupted(tasks: Sequence[dict[str, Any]], signum: int | None, timeout: float | None, *,
                stopped: bool = True, left: str = "") -> Outcome:  # fmt: skip
    """The run ended on timeout (124) or a signal (130/143): its own tasks stopped; `left` says what of the tasks it
    followed but did not start it left running."""
    first = tasks[0] if tasks else None
    if signum is None:
        return Outcome(TIMED_OUT_STATUS, TIMED_OUT, None, first, None,
                       f"timed out after {timeout:g}s; {_stop_result(tasks, stopped, left)}")  # fmt: skip
    code, name = signal_exit(signum)
    return Outcome(CANCELLED, code, None, first, None, f"cancelled by {name}; {_stop_result(tasks, stopped, left)}")


def lost(tasks: Sequence[dict[str, Any]], why: str, *, stopped: bool, hint: Hint | None = None,
         left: str = "") -> Outcome:  # fmt: skip
    """A started task we can no longer follow (AWS refuses, or a bug of ours): `unknown`, never a verdict."""
    first = tasks[0] if tasks else None
    return Outcome(UNKNOWN, CANNOT_RUN, None, first, None, f"{why}; {_stop_result(tasks, stopped, left)}", hint)


def started(tasks: Sequence[dict[str, Any]]) -> Outcome:
    return Outcome(STARTED, SUCCESS, None, tasks[0], None, f"started {len(tasks)} task(s); not waiting")


def refusals(refused: Sequence[dict[str, Any]], *, arns: bool = False) -> str:
    """RunTask's `failures` as said to the user: `RESOURCE:MEMORY; MISSING (detail) [arn]`."""
    return "; ".join(f"{f.get('reason', '?')}" + (f" ({f['detail']})" if f.get("detail") else "")
                     + (f" [{f['arn']}]" if arns and f.get("arn") else "") for f in refused)  # fmt: skip


def refusal_hint(refused: Sequence[dict[str, Any]]) -> Hint | None:
    """The catalogue's cause and fix for RunTask's `failures`, read from their reasons and details."""
    return failures.for_run_failures([f"{f.get('reason', '')} {f.get('detail', '')}".strip() for f in refused])


def run_failures(refused: Sequence[dict[str, Any]], started: int = 0, attempts: int = 1) -> Outcome:
    what = f"only {started} of {started + len(refused)} tasks" if started else "no task"
    what += f" in {attempts} attempts" if attempts > 1 else ""
    return Outcome.without_task(FAILED_TO_START, CANNOT_RUN, f"RunTask started {what}: {refusals(refused, arns=True)}",
                                refusal_hint(refused))  # fmt: skip
