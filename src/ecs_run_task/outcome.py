"""Task descriptions -> the outcome: status, exit code and a message a user can act on. Pure.

The contract's rule: the deciding container of a task is `container` when given; otherwise every essential
container must exit 0 and the first non-zero (in task definition order) decides. A deciding container with
no exit code never ran: the task failed to start. With several tasks, the first failing task decides.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ecs_run_task.exit_codes import CANNOT_RUN, SIGINT, SIGTERM, SUCCESS, TIMED_OUT

SUCCEEDED = "succeeded"
FAILED = "failed"
FAILED_TO_START = "failed-to-start"
TIMED_OUT_STATUS = "timed-out"
CANCELLED = "cancelled"
STARTED = "started"
DRY_RUN = "dry-run"


@dataclass(frozen=True)
class Outcome:
    status: str
    exit_code: int  # the process's exit status
    container_exit_code: int | None  # the deciding container's own code, the `exit-code` output
    task: dict[str, Any] | None  # the deciding task's description
    container: str | None  # the deciding container's name
    message: str

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


def task_id(arn: str) -> str:
    return arn.rsplit("/", 1)[-1]


def deciding_containers(task_definition: dict[str, Any], container: str | None) -> list[str]:
    if container:
        return [container]
    return [c["name"] for c in task_definition.get("containerDefinitions", []) if c.get("essential", True)]


def _container(task: dict[str, Any], name: str) -> dict[str, Any]:
    return next((c for c in task.get("containers", []) if c.get("name") == name), {})


def _why(task: dict[str, Any], container: dict[str, Any]) -> str:
    parts = [f"stopCode={task['stopCode']}" if task.get("stopCode") else ""]
    parts.append(f"stoppedReason={task['stoppedReason']!r}" if task.get("stoppedReason") else "")
    parts.append(f"container reason={container['reason']!r}" if container.get("reason") else "")
    return ", ".join(p for p in parts if p)


def judge_task(task: dict[str, Any], deciders: Sequence[str]) -> Outcome:
    where = f"task {task_id(task.get('taskArn', '?'))}"
    for name in deciders:
        container = _container(task, name)
        code = container.get("exitCode")
        if code is None:
            why = _why(task, container) or "no reason given"
            return Outcome(
                FAILED_TO_START, CANNOT_RUN, None, task, name,
                f"{where}: container {name} never ran or has no exit code ({why})",
            )  # fmt: skip
        if code != 0:
            why = _why(task, container)
            # an exit status holds 0-255: 256 (Windows can report such codes) would read as success
            status, fits = (code, "") if 0 < code <= 255 else (1, "; it does not fit an exit status, so we exit 1")
            return Outcome(
                FAILED, status, code, task, name,
                f"{where}: container {name} exited with code {code}" + (f" ({why})" if why else "") + fits,
            )  # fmt: skip
    last = deciders[-1] if deciders else None
    return Outcome(SUCCEEDED, SUCCESS, 0 if last else None, task, last, f"{where}: exited with code 0")


def judge(tasks: Sequence[dict[str, Any]], deciders: Sequence[str]) -> Outcome:
    """The outcome of stopped tasks, in the order they were started."""
    verdicts = [judge_task(t, deciders) for t in tasks]
    failed = next((v for v in verdicts if v.status != SUCCEEDED), None)
    if failed:
        return failed
    return Outcome(SUCCEEDED, SUCCESS, verdicts[0].container_exit_code, tasks[0], verdicts[0].container,
                   verdicts[0].message if len(tasks) == 1 else f"all {len(tasks)} tasks exited with code 0")  # fmt: skip


def interrupted(tasks: Sequence[dict[str, Any]], signum: int | None, timeout: float | None) -> Outcome:
    """The tasks were stopped by us: on timeout (124) or a signal (130/143)."""
    first = tasks[0] if tasks else None
    if signum is None:
        return Outcome(TIMED_OUT_STATUS, TIMED_OUT, None, first, None,
                       f"timed out after {timeout:g}s; the task was stopped")  # fmt: skip
    code = SIGINT if signum == 2 else SIGTERM
    name = "SIGINT" if signum == 2 else "SIGTERM"
    return Outcome(CANCELLED, code, None, first, None, f"cancelled by {name}; the task was stopped")


def started(tasks: Sequence[dict[str, Any]]) -> Outcome:
    return Outcome(STARTED, SUCCESS, None, tasks[0], None, f"started {len(tasks)} task(s); not waiting")


def run_failures(failures: Sequence[dict[str, Any]], started: int = 0) -> Outcome:
    reasons = "; ".join(
        f"{f.get('reason', '?')}"
        + (f" ({f['detail']})" if f.get("detail") else "")
        + (f" [{f['arn']}]" if f.get("arn") else "")
        for f in failures
    )
    what = f"only {started} of {started + len(failures)} tasks" if started else "no task"
    return Outcome(FAILED_TO_START, CANNOT_RUN, None, None, None, f"RunTask started {what}: {reasons}")
