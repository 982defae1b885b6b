"""The driver's model of a task, and how it reads in ECS's JSON (the overlay)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from typing import Any


@dataclass
class ContainerState:
    name: str
    image: str
    essential: bool
    memory: int | None
    container_arn: str
    last_status: str = "PENDING"
    exit_code: int | None = None
    reason: str | None = None
    log_group: str | None = None
    log_region: str | None = None
    log_prefix: str | None = None
    log_stream: str | None = None  # set once the container reached RUNNING (stream exists)
    runtime_id: str | None = None  # the container runtime's ID (hex), set once it reached RUNNING
    stopped_at: float | None = None  # time.monotonic() when it reached STOPPED

    def to_json(self, task_arn: str) -> dict[str, Any]:
        out: dict[str, Any] = {
            "containerArn": self.container_arn,
            "taskArn": task_arn,
            "name": self.name,
            "image": self.image,
            "lastStatus": self.last_status,
            "networkBindings": [],
            "networkInterfaces": [],
            "healthStatus": "UNKNOWN",
            "cpu": "0",
        }
        if self.memory is not None:
            out["memory"] = str(self.memory)
        # ECS omits exitCode for a container that never ran: the client must not see 0.
        if self.exit_code is not None:
            out["exitCode"] = self.exit_code
        if self.reason:
            out["reason"] = self.reason
        if self.runtime_id:
            out["runtimeId"] = self.runtime_id
        return out


@dataclass(frozen=True)
class StopRequest:
    """Someone asked ECS to stop the task: a StopTask call (`by` "StopTask") or a stop from outside played by the
    sandbox (`by` "outside": a person, Spot, the service scheduler, a host retired). `applied` is False when the task
    was stopping already (ECS keeps the first stopCode and reason)."""

    by: str
    stop_code: str
    reason: str
    at: float  # time.monotonic()
    applied: bool


@dataclass
class TaskState:
    arn: str
    family: str
    task_definition_arn: str
    cluster_arn: str
    containers: list[ContainerState]
    request: dict[str, Any]  # the RunTask body, echoed as overrides/tags/startedBy/group
    last_status: str = "PROVISIONING"
    desired_status: str = "RUNNING"
    stop_code: str | None = None
    stopped_reason: str | None = None
    version: int = 1
    timestamps: dict[str, float] = field(default_factory=dict)  # ECS field -> epoch seconds
    stopped_monotonic: float | None = None
    stopped_wall: float | None = None
    missing_left: int = 0  # DescribeTasks answers MISSING this many more times
    created: float = field(default_factory=time.monotonic)  # time.monotonic() when RunTask created it
    generation: int = 0  # bumped when the task's walk through states is replaced: old steps no longer apply
    feed_generation: int = 0  # bumped by StopTask: scripted log lines not yet written are dropped
    history: list[str] = field(default_factory=list)  # every lastStatus it has had, in order
    entered: dict[str, float] = field(default_factory=dict)  # lastStatus -> time.monotonic() it was first entered
    stop_decided_at: float | None = None  # time.monotonic() when desiredStatus became STOPPED
    execution_stopped_at: float | None = None  # time.monotonic() when its last container stopped
    ran: bool = False  # reached RUNNING: its containers started
    stop_requests: list[StopRequest] = field(default_factory=list)  # StopTask calls and stops from outside, in order

    @property
    def task_id(self) -> str:
        return self.arn.rsplit("/", 1)[-1]

    def stamp(self, name: str) -> None:
        self.timestamps.setdefault(name, time.time())

    def container(self, name: str) -> ContainerState | None:
        return next((c for c in self.containers if c.name == name), None)

    def running(self) -> list[ContainerState]:
        return [c for c in self.containers if c.last_status == "RUNNING"]

    def to_json(self, base: dict[str, Any] | None = None) -> dict[str, Any]:
        """The DescribeTasks shape, laid over moto's dict (which keeps e.g. attachments)."""
        out = dict(base or {})
        req = self.request
        launch_type = req.get("launchType") or ("EC2" if out.get("containerInstanceArn") else "FARGATE")
        out.update(
            {
                "taskArn": self.arn,
                "clusterArn": self.cluster_arn,
                "taskDefinitionArn": self.task_definition_arn,
                "lastStatus": self.last_status,
                "desiredStatus": self.desired_status,
                "containers": [c.to_json(self.arn) for c in self.containers],
                "group": req.get("group") or f"family:{self.family}",
                "startedBy": req.get("startedBy", ""),
                "launchType": launch_type,
                "overrides": req.get("overrides") or {"containerOverrides": []},
                "tags": req.get("tags") or [],
                "version": self.version,
                "cpu": out.get("cpu") or "256",
                "memory": out.get("memory") or str(sum(c.memory or 0 for c in self.containers)),
            }
        )
        out.update(self.timestamps)
        for key in ("stopCode", "stoppedReason"):
            out.pop(key, None)
        if self.stop_code:
            out["stopCode"] = self.stop_code
        if self.stopped_reason:
            out["stoppedReason"] = self.stopped_reason
        return out


@dataclass(frozen=True)
class TaskView:
    """A read-only snapshot for assertions. Times are time.monotonic() of this process; `timestamps` holds
    ECS's own fields (epoch seconds: createdAt, startedAt, executionStoppedAt, stoppingAt, stoppedAt, ...)."""

    arn: str
    family: str
    last_status: str
    desired_status: str
    stop_code: str | None
    stopped_reason: str | None
    containers: tuple[ContainerState, ...]
    stopped_at: float | None
    history: tuple[str, ...]
    entered: dict[str, float] = field(default_factory=dict)
    stop_decided_at: float | None = None
    execution_stopped_at: float | None = None
    timestamps: dict[str, float] = field(default_factory=dict)
    ran: bool = False  # it reached RUNNING: its containers started
    stop_requests: tuple[StopRequest, ...] = ()

    @classmethod
    def of(cls, t: TaskState) -> TaskView:
        return cls(
            arn=t.arn,
            family=t.family,
            last_status=t.last_status,
            desired_status=t.desired_status,
            stop_code=t.stop_code,
            stopped_reason=t.stopped_reason,
            containers=tuple(replace(c) for c in t.containers),
            stopped_at=t.stopped_monotonic,
            history=tuple(t.history),
            entered=dict(t.entered),
            stop_decided_at=t.stop_decided_at,
            execution_stopped_at=t.execution_stopped_at,
            timestamps=dict(t.timestamps),
            ran=t.ran,
            stop_requests=tuple(t.stop_requests),
        )

    def container(self, name: str) -> ContainerState:
        found = next((c for c in self.containers if c.name == name), None)
        if found is None:
            raise KeyError(name)
        return found
