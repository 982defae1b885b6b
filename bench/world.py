"""The sandbox as the benchmark uses it: one cluster, task lives written down, CloudWatch arrival times."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sandbox import FARGATE_TEARDOWN, NEVER, Call, Container, ContainerScript, Sandbox, Scripted, Step, Teardown

CLUSTER = "Sample"
CONTAINER = "web"
LOG_GROUP = "/ecs/bench"


QUICK_TEARDOWN = Teardown(deactivating=0.05, stopping=0.05, deprovisioning=0.2)


def life(
    running: float, lines: Sequence[tuple[float, str]] = (), exit_code: int = 0, teardown: Teardown = QUICK_TEARDOWN
) -> Scripted:
    """A short provisioning, then the container runs `running` seconds with `lines` at their times and exits;
    then ECS's stop sequence and `teardown` (FARGATE_TEARDOWN: 0.5 s, 1 s, 20 s), then STOPPED."""
    return Scripted(
        steps=[Step("PROVISIONING", 0.2), Step("PENDING", 0.5), Step("RUNNING", running)],
        containers={CONTAINER: ContainerScript(exit_code=exit_code, lines=list(lines))},
        teardown=teardown,
    )


def with_sidecar(running: float, lines: Sequence[tuple[float, str]] = ()) -> Scripted:
    """The deciding container (`web`, not essential) exits 0 after `running` s; the essential `envoy` runs on."""
    return Scripted(
        steps=[Step("PROVISIONING", 0.2), Step("PENDING", 0.5), Step("RUNNING", float(10**9))],
        containers={
            CONTAINER: ContainerScript(exit_code=0, exits_after=running, lines=list(lines)),
            SIDECAR: ContainerScript(exits_after=NEVER, sigterm_delay=0.5),
        },
        teardown=FARGATE_TEARDOWN,
    )


SIDECAR = "envoy"


def every(period: float, until: float, tag: str, start: float = 0.0) -> list[tuple[float, str]]:
    """One uniquely numbered line each `period` seconds from `start` to before `until`."""
    out: list[tuple[float, str]] = []
    while start + len(out) * period < until - 1e-9:
        out.append((start + len(out) * period, f"{tag}{len(out):06d}"))
    return out


@dataclass
class Arrivals:
    """When each log line reached CloudWatch (moto's store): recorded just after the write returns."""

    at: dict[str, float] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def install(self, sb: Sandbox) -> None:
        write: Callable[..., None] = sb.logs.write

        def timed(region: str, group: str, stream: str, messages: list[str]) -> None:
            write(region, group, stream, messages)
            t = time.monotonic()
            with self.lock:
                for m in messages:
                    self.at.setdefault(m, t)

        # an instance attribute: the driver holds this same LogWriter and calls self.logs.write(...)
        setattr(sb.logs, "write", timed)  # noqa: B010 - wrapping a bound method of the instance

    def get(self, message: str) -> float | None:
        with self.lock:
            return self.at.get(message)


class World:
    """A running sandbox with latency, a cluster, and families registered on demand."""

    def __init__(self, latency: float) -> None:
        self.sb = Sandbox()
        self.latency = latency
        self.arrivals = Arrivals()
        self._families: set[str] = set()

    def __enter__(self) -> World:
        self.sb.start()
        self.arrivals.install(self.sb)
        self.sb.create_cluster(CLUSTER)
        self.sb.faults.latency(self.latency)
        return self

    def __exit__(self, *exc: object) -> None:
        self.sb.close()

    @property
    def env(self) -> dict[str, str]:
        return self.sb.env

    def family(self, name: str, behaviour: Scripted, containers: Sequence[Container] = (Container(CONTAINER),)) -> str:
        """Register `name` once; (re)set the life its next tasks play."""
        if name not in self._families:
            self.sb.register(name, list(containers), behaviour, log_group=LOG_GROUP)
            self._families.add(name)
        else:
            self.sb.behave(name, behaviour)
        return name

    def calls(self, since: float = 0.0, until: float = float("inf")) -> list[Call]:
        return [c for c in self.sb.calls() if since <= c.t <= until]

    def task_arns(self, family: str) -> list[str]:
        return [t.arn for t in self.sb.tasks() if t.family == family]

    def stopped_at(self, arn: str) -> float | None:
        return self.sb.stopped_at(arn)

    def exited_at(self, arn: str, container: str = CONTAINER) -> float | None:
        """When the deciding container stopped (the sandbox's monotonic time): the moment the answer is known."""
        return self.sb.task(arn).container(container).stopped_at


def mentions(call: Call, arns: Sequence[str]) -> bool:
    """Whether a DescribeTasks / GetLogEvents call is about one of these tasks."""
    ids = {a.rsplit("/", 1)[-1] for a in arns}
    body: dict[str, Any] = call.body
    if call.name == "DescribeTasks":
        return any(str(t).rsplit("/", 1)[-1] in ids for t in body.get("tasks", []))
    if call.name == "GetLogEvents":
        return str(body.get("logStreamName", "")).rsplit("/", 1)[-1] in ids
    return False
