"""AWS's answers, read defensively: an odd field (an exit code sent as text, a task without an ARN, a timestamp
that cannot be read) is warned about once and read as well as it can be, never a traceback that would end a
run. Pure but for its warnings, which go to our own diagnostics."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar, cast

from botocore.utils import parse_timestamp

from ecs_run_task.diagnostics import log
from ecs_run_task.verdict.outputs import MASK

WARNED: set[str] = set()
T = TypeVar("T")


def warn_once(event: str, **fields: Any) -> None:
    """An odd answer comes back on every poll: say so once, not every 2 seconds for an hour."""
    if event not in WARNED:
        WARNED.add(event)
        log.warning(event, **fields)


def lenient_timestamp(value: Any) -> Any:
    """botocore's timestamp parser, but an odd timestamp in an answer becomes None instead of failing the call:
    no timestamp decides anything, and one bad field must not end a run."""
    try:
        return parse_timestamp(value)
    except (ValueError, TypeError, OverflowError, RuntimeError):
        warn_once("AWS answered a timestamp that cannot be read; it is ignored", value=str(value)[:40])
        return None


def _exit_code(container: dict[str, Any]) -> dict[str, Any]:
    code = container.get("exitCode")
    if code is None or (isinstance(code, int) and not isinstance(code, bool)):
        return container
    text = str(code).strip()
    if text.lstrip("-").isdigit() and len(text) < 12:
        return {**container, "exitCode": int(text)}
    warn_once("DescribeTasks gave an exit code that cannot be read; it is ignored", container=container.get("name"),
               exit_code=text[:20])  # fmt: skip
    return {k: v for k, v in container.items() if k != "exitCode"}


def tasks(answer: Any) -> list[dict[str, Any]]:
    """The tasks of a RunTask or DescribeTasks answer, read defensively: a task without an ARN is dropped,
    containers that are not objects are dropped, an exit code sent as text is read as a number."""
    found = []
    for task in answer.get("tasks") or []:
        if not isinstance(task, dict) or not isinstance(task.get("taskArn"), str) or not task["taskArn"]:
            warn_once("AWS answered a task without an ARN; it is ignored")
            continue
        containers = task.get("containers")
        listed = containers if isinstance(containers, list) else []
        found.append({**task, "containers": [_exit_code(dict(c)) for c in listed if isinstance(c, dict)]})
    return found


def masked(value: T, hidden: Sequence[str]) -> T:
    """`value` with each of `hidden` replaced by MASK (***) in every text it holds (a reason ECS gives may quote a secret
    given where it did not belong: `Spec.hidden`)."""
    if not hidden:
        return value
    if isinstance(value, str):
        text: str = value
        for secret in hidden:
            text = text.replace(secret, MASK)
        return cast(T, text)
    if isinstance(value, dict):
        return cast(T, {k: masked(v, hidden) for k, v in value.items()})
    if isinstance(value, list):
        return cast(T, [masked(v, hidden) for v in value])
    return value


def events(answer: Any) -> list[dict[str, Any]]:
    """The events of a GetLogEvents answer, read defensively: what is not an object is dropped, a timestamp that is
    not a whole number becomes 0 (it decides nothing; it is only shown in JSON output)."""
    found = []
    for event in answer.get("events") or []:
        if isinstance(event, dict):
            stamp = event.get("timestamp")
            fits = isinstance(stamp, int) and not isinstance(stamp, bool)
            found.append({**event, "timestamp": stamp if fits else 0})
    return found
