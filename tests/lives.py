"""Task lives the start tests share (start retries, `if-running`, `attach`): a family whose tasks play given lives,
a task that never ran, one that exits, another pipeline's task, and a signal sent once a line is said."""

from __future__ import annotations

import signal
import subprocess

from sandbox import HOLD, Behaviour, Container, ContainerScript, Sandbox, Scripted, Step
from tests.helpers import start_task

ENI = "Timeout waiting for network interface provisioning to complete."
PULL_404 = "CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve ref acme/app:v9: not found"
NEVER_RAN = [Step("PROVISIONING", 0.05), Step("PENDING", 0.1), Step("DEPROVISIONING", 0.05)]
QUICK = [Step("PROVISIONING", 0.05), Step("PENDING", 0.05), Step("RUNNING", 0.3)]
RUNS = [Step("PROVISIONING", 0.3), Step("PENDING", 0.2), Step("RUNNING", HOLD)]  # slow enough to lose a race


def family(sb: Sandbox, *lives: Behaviour) -> None:
    sb.register("app", [Container("web")], log_group="/ecs/app")
    sb.behave("app", list(lives))


def never_ran(stopped_reason: str, reason: str | None = None) -> Scripted:
    return Scripted(steps=NEVER_RAN, containers={"web": ContainerScript(exit_code=None, reason=reason)},
                    stop_code="TaskFailedToStart", stopped_reason=stopped_reason)  # fmt: skip


def exits(code: int, *lines: str) -> Scripted:
    return Scripted(steps=QUICK, containers={"web": ContainerScript(exit_code=code, lines=[(0.0, m) for m in lines])})


def someone_else_runs(sb: Sandbox, group: str | None = None) -> str:
    """A task of family `app` started outside the tool (another pipeline, a person)."""
    extra = {"group": group} if group else {}
    arn = start_task(sb.client("ecs"), "app", startedBy="deploy-bot", **extra)
    sb.wait_for_status(arn, "RUNNING")
    return arn


def sigterm_once_said(proc: subprocess.Popen[str], said: str) -> str:
    """SIGTERM as soon as the process has printed a line holding `said`; the rest of its output."""
    assert proc.stdout is not None
    for line in proc.stdout:
        if said in line:
            break
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=30)
    return out
