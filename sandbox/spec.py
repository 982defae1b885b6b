"""What a test asks for: task definition containers and the behaviour a task plays out.

A behaviour plays ECS's stop sequence. Once an essential container has exited (or StopTask was called), the
task's desiredStatus is STOPPED and its stopCode set at once, while lastStatus stays RUNNING; every container
still running gets SIGTERM and exits after its own `sigterm_delay` (with `sigterm_exit_code`), or is SIGKILLed
(137) at the task's `stop_timeout`. Once every container has stopped, executionStoppedAt is set and the task
walks its teardown (DEACTIVATING -> STOPPING -> DEPROVISIONING, `stoppingAt` stamped as it leaves RUNNING) to
STOPPED. A non-essential container's exit stops nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# A step this long never ends within a test run: "hold here until StopTask".
HOLD = float(10**9)
# The same "never" for a container: it does not exit by itself, or it ignores SIGTERM.
NEVER = HOLD

DEFAULT_IMAGE = "acme/app:latest"

# Where a task's life ends and its teardown begins: a script's first step in one of these states.
TEARDOWN_STATES = ("DEACTIVATING", "STOPPING", "DEPROVISIONING")


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
class Teardown:
    """Seconds the task spends in each state after its containers stopped, before STOPPED."""

    deactivating: float = 0.02
    stopping: float = 0.02
    deprovisioning: float = 0.02

    def steps(self) -> list[Step]:
        return [
            Step("DEACTIVATING", self.deactivating),
            Step("STOPPING", self.stopping),
            Step("DEPROVISIONING", self.deprovisioning),
        ]


TEST_TEARDOWN = Teardown()  # short: the suite does not wait for it
FARGATE_TEARDOWN = Teardown(deactivating=0.5, stopping=1.0, deprovisioning=20.0)  # awsvpc: the ENI detach is slow

ECS_STOP_TIMEOUT = 30.0  # seconds from SIGTERM to SIGKILL when the task definition sets no stopTimeout

# The stoppedReason ECS gives when someone or something else stops a running task, by stopCode.
OUTSIDE_REASONS = {
    "UserInitiated": "Task stopped by user",
    "SpotInterruption": "Your Spot Task was interrupted.",
    "ServiceSchedulerInitiated": "Scaling activity initiated by (deployment ecs-svc/1234567890123456789)",
    "TerminationNotice": "ECS is performing maintenance on the underlying infrastructure hosting the task",
}


@dataclass(frozen=True)
class OutsideStop:
    """The task is stopped from outside (not by the code under test, not by its own exit) `after` seconds after it
    reached RUNNING, when its containers started: ECS's stop sequence with `stop_code` and `reason` (default: what
    ECS says for that stop code, OUTSIDE_REASONS). Nothing happens if the task is stopping already by then."""

    after: float
    stop_code: str = "UserInitiated"
    reason: str | None = None

    def stopped_reason(self) -> str:
        return self.reason or OUTSIDE_REASONS.get(self.stop_code, "Task stopped")


@dataclass(frozen=True)
class ContainerScript:
    """How one container ends. exit_code None = it never ran (no exitCode, `reason` set).

    It exits with `exit_code` `exits_after` seconds after it reached RUNNING; None = when the script's life
    ends (its last step before the teardown, usually RUNNING), together with every other such container;
    NEVER = not by itself (a sidecar running on until SIGTERM). On SIGTERM it exits `sigterm_delay` seconds
    later with `sigterm_exit_code`; NEVER (or anything past the task's stop_timeout) = SIGKILL, exit 137.

    `lines` are (seconds after the container reached RUNNING, message); lines timed after the
    task reached STOPPED are still written (late lines), as CloudWatch delivers them late too;
    lines not yet written when StopTask is called are dropped.
    """

    exit_code: int | None = 0
    reason: str | None = None
    lines: list[tuple[float, str]] = field(default_factory=list)
    stream_delay: float = 0.0  # the awslogs stream becomes visible this long after RUNNING
    exits_after: float | None = None
    sigterm_delay: float = 0.0
    sigterm_exit_code: int = 143


def default_steps(running: float = 0.5) -> list[Step]:
    return [
        Step("PROVISIONING", 0.05),
        Step("PENDING", 0.1),
        Step("RUNNING", running),
        Step("DEPROVISIONING", 0.05),
    ]


@dataclass(frozen=True)
class Scripted:
    """A task whose life is written down: states with durations, then the stop sequence, then STOPPED.

    `steps` are the task's life up to its first DEACTIVATING/STOPPING/DEPROVISIONING step; that step and
    the ones after it are its teardown, played once every container has stopped (a trailing STOPPED is
    dropped: STOPPED always ends the walk). A script without such steps plays `teardown` (default
    TEST_TEARDOWN); giving both is an error. Without `steps`, the task plays `default_steps()`, whose
    DEPROVISIONING step gives way to `teardown` if one is given: `Scripted(teardown=FARGATE_TEARDOWN)`. When the life's last step ends, every container still running
    without an `exits_after` of its own exits with its `exit_code`, all at once; if one of them is essential
    (or the task never reached RUNNING), the stop sequence begins with `stop_code`/`stopped_reason`.
    Otherwise the task runs on until an essential container exits by itself or StopTask, which overrides
    them with UserInitiated and the request's reason. Containers not named in `containers` play
    `ContainerScript()`: exit 0 without output at the end of the life. `outside_stop`: someone else stops the task
    at a chosen moment of its run (a person, Spot, the service scheduler).
    """

    steps: list[Step] | None = None  # None: default_steps()
    containers: dict[str, ContainerScript] = field(default_factory=dict)
    stop_code: str = "EssentialContainerExited"
    stopped_reason: str = "Essential container in task exited"
    teardown: Teardown | None = None
    stop_timeout: float = ECS_STOP_TIMEOUT
    outside_stop: OutsideStop | None = None

    def __post_init__(self) -> None:
        if self.teardown is not None and self.steps is not None and self._split() < len(self._steps()):
            raise ValueError("give the teardown either as steps after RUNNING or as `teardown`, not both")

    def _steps(self) -> list[Step]:
        steps = default_steps() if self.steps is None else self.steps
        return [s for s in steps if s.state != "STOPPED"]

    def _split(self) -> int:
        steps = self._steps()
        return next((i for i, s in enumerate(steps) if s.state in TEARDOWN_STATES), len(steps))

    def life(self) -> list[Step]:
        """The steps before the teardown: the task's start and run."""
        return self._steps()[: self._split()]

    def teardown_steps(self) -> list[Step]:
        """The states walked after every container stopped, before STOPPED."""
        if self.teardown is not None:
            return self.teardown.steps()
        return self._steps()[self._split() :] or TEST_TEARDOWN.steps()


@dataclass(frozen=True)
class RunLocally:
    """Demo mode: run the container's command (override first) as a local process.

    The task is RUNNING while the process runs; its stdout+stderr lines go to the awslogs
    stream as they come. When it exits, the task stops with the process's exit code
    (EssentialContainerExited) and plays `teardown`. `container` picks which container runs
    (default: the first); the others exit 0 with it. StopTask sends the process SIGTERM, and
    SIGKILL after `stop_timeout`; the other containers exit 143 at once.
    """

    container: str | None = None
    provisioning: float = 0.05
    pending: float = 0.2
    teardown: Teardown = TEST_TEARDOWN
    stop_timeout: float = ECS_STOP_TIMEOUT


Behaviour = Scripted | RunLocally
