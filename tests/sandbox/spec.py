"""What a test asks for: task definition containers and the behaviour a task plays out."""

from __future__ import annotations

from dataclasses import dataclass, field

# A step this long never ends within a test run: "hold here until StopTask".
HOLD = float(10**9)

DEFAULT_IMAGE = "acme/app:latest"


@dataclass(frozen=True)
class Container:
    """One container definition. `memory` is always sent because moto insists on it."""

    name: str
    essential: bool = True
    command: list[str] | None = None
    image: str = DEFAULT_IMAGE
    memory: int = 128
    environment: dict[str, str] = field(default_factory=dict)
    logs: bool = True  # awslogs logConfiguration to the task definition's log group


@dataclass(frozen=True)
class Step:
    """The task stays in `state` for `seconds` before the next step (or STOPPED)."""

    state: str
    seconds: float = 0.0


@dataclass(frozen=True)
class ContainerScript:
    """How one container ends. exit_code None = it never ran (no exitCode, `reason` set).

    `lines` are (seconds after the container reached RUNNING, message); lines timed after the
    task reached STOPPED are still written (late lines), as CloudWatch delivers them late too.
    """

    exit_code: int | None = 0
    reason: str | None = None
    lines: list[tuple[float, str]] = field(default_factory=list)
    stream_delay: float = 0.0  # the awslogs stream becomes visible this long after RUNNING


def default_steps(running: float = 0.5) -> list[Step]:
    return [
        Step("PROVISIONING", 0.05),
        Step("PENDING", 0.1),
        Step("RUNNING", running),
        Step("DEPROVISIONING", 0.05),
    ]


@dataclass(frozen=True)
class Scripted:
    """A task whose life is written down: states with durations, then STOPPED.

    Steps need not end with STOPPED (it is appended). Containers not named in `containers`
    exit 0 without output. `stop_code`/`stopped_reason` describe the natural end; StopTask
    overrides them with UserInitiated and the request's reason.
    """

    steps: list[Step] = field(default_factory=default_steps)
    containers: dict[str, ContainerScript] = field(default_factory=dict)
    stop_code: str = "EssentialContainerExited"
    stopped_reason: str = "Essential container in task exited"


@dataclass(frozen=True)
class RunLocally:
    """Demo mode: run the container's command (override first) as a local process.

    The task is RUNNING while the process runs; its stdout+stderr lines go to the awslogs
    stream as they come; it stops with the process's exit code (EssentialContainerExited).
    `container` picks which container runs (default: the first); the others exit 0.
    """

    container: str | None = None
    provisioning: float = 0.05
    pending: float = 0.2
    stopping: float = 0.1


Behaviour = Scripted | RunLocally
