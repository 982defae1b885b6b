"""The public face: one object that starts moto + middleware + driver, and what tests ask of it."""

from __future__ import annotations

import time
from collections.abc import Callable
from types import TracebackType
from typing import Any, Unpack

from moto.ecs.models import ecs_backends

from .consistency import Consistency
from .cwlogs import DEFAULT_ACCOUNT_ID, LogWriter
from .driver import Driver
from .faults import Faults
from .middleware import Middleware
from .provision import REGION, Provisioner, Registration, plain_client
from .recorder import Call, CallLog
from .scheduler import Scheduler
from .server import Server, moto_app, reset_moto
from .spec import OUTSIDE_REASONS, Behaviour, Container
from .state import ContainerState, StopRequest, TaskView


class Sandbox:
    """moto over HTTP + faults + a driver playing tasks. One at a time per process (moto is global)."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, account: str = DEFAULT_ACCOUNT_ID) -> None:
        self.account = account
        self.faults = Faults()
        self._sched = Scheduler()
        self._calls = CallLog(on_add=self._notify)
        self.consistency = Consistency(account=account)  # AWS's eventual consistency, each knob off (consistency.py)
        self.logs = LogWriter(account, self._notify, self._sched, lambda: self.consistency.log_lag)
        self.driver = Driver(self._sched, self.logs, self._container_definitions, self.consistency)
        app = Middleware(moto_app(), self._calls, self.faults, self.driver, account)
        self._server = Server(app, host, port)
        self._provision = Provisioner(self._server.endpoint, account, self.logs)

    # -- lifecycle -----------------------------------------------------------------------
    def start(self) -> Sandbox:
        reset_moto()
        self._sched.start()
        self._server.start()
        return self

    def close(self) -> None:
        self._server.stop()
        self.driver.shutdown()
        self._sched.stop()
        reset_moto()

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc: tuple[type[BaseException] | None, BaseException | None, TracebackType | None]) -> None:
        self.close()

    @property
    def endpoint(self) -> str:
        return self._server.endpoint

    @property
    def env(self) -> dict[str, str]:
        """Everything a subprocess needs to talk to this sandbox as "AWS"."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": REGION,
            "AWS_REGION": REGION,
        }

    def client(self, service: str, region: str = REGION) -> Any:
        """A plain boto3 client to the sandbox (recorded, subject to faults)."""
        return plain_client(service, self.endpoint, region)

    # -- setup ---------------------------------------------------------------------------
    def create_cluster(self, name: str = "default", region: str = REGION) -> str:
        return self._provision.create_cluster(name, region)

    def create_network(self, region: str = REGION) -> tuple[list[str], list[str]]:
        return self._provision.create_network(region)

    def register(
        self,
        family: str,
        containers: list[Container],
        behaviour: Behaviour | None = None,
        **options: Unpack[Registration],
    ) -> str:
        """Register a task definition; tasks of `family` then play `behaviour` (default: exit 0). `options`: network
        mode, log group/region/stream prefix, roles, Fargate, volumes (see `provision.Registration`)."""
        if behaviour is not None:
            self.driver.behaviours[family] = behaviour
        return self._provision.register(family, containers, **options)

    def behave(self, family: str, behaviour: Behaviour | list[Behaviour]) -> None:
        """Set the behaviour of a family registered some other way (e.g. by the tool itself); a list gives
        each task started its own, in start order (the last one repeats)."""
        self.driver.behaviours[family] = behaviour

    def advance(self, arn: str) -> None:
        """End a scripted task's current step now (release a HOLD) and play the remaining steps."""
        self.driver.advance(arn)

    def fail_run_task(self, reason: str = "RESOURCE:MEMORY", arn: str | None = None) -> None:
        """The next RunTask answers 200 with this failure and no tasks."""
        self.faults.run_task_failures.append((reason, arn))

    def place_only(self, n: int) -> None:
        """The next RunTask starts at most `n` tasks and answers a failure for each of the others."""
        self.faults.placeable.append(n)

    def missing_after_run(self, n: int) -> None:
        """Tasks started from now on are MISSING for their first `n` DescribeTasks (`consistency.missing_describes`)."""
        self.consistency.missing_describes = n

    def missing(self, arn: str, n: int) -> None:
        """This task (started already: just listed by ListTasks, say) is MISSING for its next `n` DescribeTasks,
        whoever asks."""
        with self._sched.cond:
            task = self.driver.find(arn)
            if task is None:
                raise KeyError(arn)
            task.missing_left = n

    def stop_from_outside(self, arn: str, stop_code: str = "UserInitiated", reason: str | None = None) -> None:
        """Someone else has ECS stop the task now (a person, Spot, the service scheduler, a host retired): its stop
        sequence with `stop_code` and `reason` (default: what ECS says for that code); no StopTask call is made or
        recorded. A task stopping already keeps its stop code. At a moment of its run: Scripted(outside_stop=...)."""
        self.driver.stop_from_outside(arn, stop_code, reason or OUTSIDE_REASONS.get(stop_code, "Task stopped"))

    def set_stop_delay(self, seconds: float | None) -> None:
        """Tasks stopped by StopTask from now on spend `seconds` in STOPPING once their containers stopped, in
        place of their behaviour's teardown (StopTask to STOPPED takes `seconds` when the containers exit at
        once); None: they play their behaviour's teardown (the default)."""
        with self._sched.cond:
            self.driver.stop_delay = seconds

    # -- observation ---------------------------------------------------------------------
    def calls(self, name: str | None = None) -> Any:
        """calls("RunTask") -> request bodies in order; calls() -> every Call(name, body, t, ...)."""
        every = self._calls.all()
        if name is None:
            return every
        return [c.body for c in every if c.name == name]

    def call_log(self, name: str | None = None) -> list[Call]:
        return [c for c in self._calls.all() if name is None or c.name == name]

    def wait_for_call(self, name: str, n: int = 1, timeout: float = 10.0) -> Call:
        """The n-th call of `name` once it has arrived (it may still be in flight: `status` 0)."""
        if not self._sched.wait_until(lambda: len(self.call_log(name)) >= n, timeout):
            raise TimeoutError(f"no call #{n} of {name} within {timeout}s")
        return self.call_log(name)[n - 1]

    def missing_served(self) -> int:
        """How many MISSING answers DescribeTasks gave for tasks that exist (see missing_after_run)."""
        with self._sched.cond:
            return self.driver.missing_served

    def stops(self, arn: str | None = None) -> list[StopRequest]:
        """Every request to stop a task (StopTask calls, stops from outside), of every task or of `arn`, in order."""
        views = self.tasks() if arn is None else [self.task(arn)]
        return sorted((r for v in views for r in v.stop_requests), key=lambda r: r.at)

    def tasks(self) -> list[TaskView]:
        with self._sched.cond:
            return [TaskView.of(t) for t in self.driver.tasks.values()]

    def task(self, arn: str) -> TaskView:
        with self._sched.cond:
            found = self.driver.find(arn)
            if found is None:
                raise KeyError(arn)
            return TaskView.of(found)

    def running_tasks(self) -> list[TaskView]:
        return [t for t in self.tasks() if t.last_status != "STOPPED"]

    def stopped_at(self, arn: str) -> float | None:
        """time.monotonic() (this process) when the task reached STOPPED."""
        with self._sched.cond:
            t = self.driver.find(arn)
            return None if t is None else t.stopped_monotonic

    def stopped_wall(self, arn: str) -> float | None:
        with self._sched.cond:
            t = self.driver.find(arn)
            return None if t is None else t.stopped_wall

    def wait_for_status(self, arn: str, status: str, timeout: float = 10.0) -> None:
        """Return once the task has been in `status` (now or before); TimeoutError otherwise."""

        def seen() -> bool:
            t = self.driver.find(arn)
            return t is not None and status in t.history

        if not self._sched.wait_until(seen, timeout):
            raise TimeoutError(f"task {arn} did not reach {status} within {timeout}s")

    def wait_for_task(
        self, arn: str, condition: Callable[[TaskView], bool], timeout: float = 10.0, what: str = "the condition"
    ) -> TaskView:
        """The task's snapshot once `condition` holds for it; TimeoutError (with the last snapshot) otherwise."""
        seen: list[TaskView] = []

        def holds() -> bool:
            t = self.driver.find(arn)
            if t is None:
                return False
            seen[:] = [TaskView.of(t)]
            return condition(seen[0])

        if not self._sched.wait_until(holds, timeout):
            raise TimeoutError(f"task {arn} did not meet {what} within {timeout}s: {seen[:1]!r}")
        return seen[0]

    def wait_for_container_status(self, arn: str, container: str, status: str, timeout: float = 10.0) -> ContainerState:
        """The container's snapshot once its lastStatus is `status` (STOPPED once stopped: it stays so)."""
        view = self.wait_for_task(arn, lambda t: t.container(container).last_status == status, timeout, status)
        return view.container(container)

    def wait_until(self, what: str, holds: Callable[[], bool], timeout: float = 10.0) -> None:
        """Return once `holds()` (asked after every change the sandbox makes); TimeoutError naming `what`."""
        if not self._sched.wait_until(holds, timeout):
            raise TimeoutError(f"{what} did not happen within {timeout}s")

    def wait_for_any_task(self, timeout: float = 10.0, index: int = 0) -> str:
        """ARN of the (index+1)-th task started, once it exists."""
        if not self._sched.wait_until(lambda: len(self.driver.tasks) > index, timeout):
            raise TimeoutError(f"no task #{index + 1} started within {timeout}s")
        with self._sched.cond:
            return list(self.driver.tasks)[index]

    def log_lines(self, arn: str, container: str, written: bool = False) -> list[str]:
        """Messages of the container's awslogs stream visible so far (GetLogEvents shows them); `written`: also those
        written and not visible yet (`consistency.log_lag`)."""
        with self._sched.cond:
            t = self.driver.find(arn)
            c = t.container(container) if t else None
            if c is None or not (c.log_group and c.log_stream and c.log_region):
                return []
            where = (c.log_region, c.log_group, c.log_stream)
            return self.logs.read(*where) + (self.logs.pending(*where) if written else [])

    def wait_for_log_lines(self, arn: str, container: str, n: int, timeout: float = 10.0) -> list[str]:
        """Return the stream's lines once it holds at least `n`; TimeoutError otherwise."""
        if not self._sched.wait_until(lambda: len(self.log_lines(arn, container)) >= n, timeout):
            raise TimeoutError(f"{container} of {arn} has {self.log_lines(arn, container)!r}, wanted {n} lines")
        return self.log_lines(arn, container)

    def _notify(self) -> None:
        with self._sched.cond:
            self._sched.cond.notify_all()

    def driver_errors(self) -> list[str]:
        """Tracebacks of driver callbacks that failed (should be empty)."""
        return list(self._sched.errors)

    def _container_definitions(self, td_arn: str) -> list[dict[str, Any]]:
        region = td_arn.split(":")[3]
        td = ecs_backends[self.account][region].describe_task_definition(td_arn)
        return list(td.container_definitions)

    @staticmethod
    def now() -> float:
        return time.monotonic()
