"""The public face: one object that starts moto + middleware + driver, and what tests ask of it."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from types import TracebackType
from typing import Any, Unpack

from moto.ecs.models import ecs_backends

from .consistency import Consistency
from .cwlogs import DEFAULT_ACCOUNT_ID, LogWriter
from .deployments import PAUSE_STAGES, Deployments, DeploymentView, HookView, Pause, Plan, config_of
from .deployments_app import DeploymentsApp
from .driver import Driver
from .faults import Faults
from .middleware import Middleware
from .provision import REGION, Provisioner, Registration, plain_client, setup_client
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
        self._deployments = Deployments(
            self._sched, account, self._images, self._set_task_definition, self._cluster_exists
        )
        app = Middleware(DeploymentsApp(moto_app(), self._deployments), self._calls, self.faults, self.driver, account)
        self._server = Server(app, host, port)
        self._provision = Provisioner(self._server.endpoint, account, self.logs)
        self._setup_clients: dict[str, Any] = {}

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

    # -- service deployments ---------------------------------------------------------------
    def deploy(
        self,
        service: str,
        task_definition: str,
        *,
        cluster: str = "default",
        pause_at: str | Sequence[str] | None = "POST_SCALE_UP",
        reach_after: float = 1.0,
        expires_after: float = 30.0,
        timeout_action: str = "ROLLBACK",
        network: tuple[list[str], list[str]] | dict[str, Any] | None = None,
        launch_type: str | None = None,
        capacity_provider_strategy: list[dict[str, Any]] | None = None,
        platform_version: str | None = None,
        desired_count: int = 1,
        finish_after: float = 0.2,
        rollback_after: float = 0.2,
        strategy: str = "ROLLING",
        region: str = REGION,
    ) -> str:
        """Create the service (or update it, if it exists) with `task_definition` and play the deployment that
        starts: IN_PROGRESS, each stage of `pause_at` reached `reach_after` seconds after the start (or after the
        hooks before it were continued; HOLD: until `reach`), its PAUSE hook then AWAITING_ACTION until
        ContinueServiceDeployment or `expires_after` seconds (HOLD: never), when ECS takes `timeout_action`; SUCCESSFUL
        `finish_after` seconds after the last CONTINUE, ROLLBACK_SUCCESSFUL `rollback_after` seconds after a
        ROLLBACK. `network`: (subnets, security groups) from `create_network`, or a networkConfiguration. The
        deployment's ARN. A deployment already in progress goes on: two are then in progress."""
        stages = [pause_at] if isinstance(pause_at, str) else list(pause_at or [])
        if not set(stages) <= PAUSE_STAGES or timeout_action not in ("CONTINUE", "ROLLBACK"):
            raise ValueError(
                f"PAUSE hooks stop at {sorted(PAUSE_STAGES)} and time out with CONTINUE or ROLLBACK, not {stages} / {timeout_action}"
            )
        pauses = tuple(Pause(stage, expires_after, timeout_action) for stage in stages)
        plan = Plan(pauses, reach_after, finish_after, rollback_after)
        request: dict[str, Any] = {"cluster": cluster, "taskDefinition": task_definition, "desiredCount": desired_count,
                                   "deploymentConfiguration": config_of(pauses, strategy)}  # fmt: skip
        if isinstance(network, tuple):
            network = {"awsvpcConfiguration": {"subnets": network[0], "securityGroups": network[1]}}
        if network:
            request["networkConfiguration"] = network
        if capacity_provider_strategy:
            request["capacityProviderStrategy"] = capacity_provider_strategy
        if platform_version:
            request["platformVersion"] = platform_version
        ecs = self._setup_client("ecs", region)
        exists = self._deployments.find_service(region, cluster.rsplit("/", 1)[-1], service) is not None
        with self._sched.cond:
            self._deployments.next_plan = plan
        try:
            if exists:
                ecs.update_service(service=service, forceNewDeployment=True, **request)
            else:
                ecs.create_service(
                    serviceName=service, **request, **({"launchType": launch_type} if launch_type else {})
                )
        finally:
            with self._sched.cond:
                self._deployments.next_plan = None
        with self._sched.cond:
            return self._deployments.planned[id(plan)]

    def pace_deployments(self, **pace: float) -> None:
        """How the deployments CreateService/UpdateService start (not `deploy`) play: `reach_after`, `finish_after`,
        `rollback_after` seconds, and `minute`: how long a minute of a hook's timeoutInMinutes lasts (60 s)."""
        with self._sched.cond:
            self._deployments.pace = replace(self._deployments.pace, **pace)

    def reach(self, deployment_arn: str) -> None:
        """End the deployment's current walk now: it reaches its next PAUSE hook (or SUCCESSFUL)."""
        self._deployments.reach(deployment_arn)

    def deployment(self, arn: str) -> DeploymentView:
        return self._deployments.view(arn)

    def deployments(self, service: str | None = None) -> list[DeploymentView]:
        """Every deployment played (of `service`: name or ARN), oldest first."""
        return self._deployments.views(service)

    def wait_for_deployment(
        self, arn: str, condition: Callable[[DeploymentView], bool], timeout: float = 10.0, what: str = "the condition"
    ) -> DeploymentView:
        """The deployment's snapshot once `condition` holds for it; TimeoutError (with the last snapshot) otherwise."""
        seen: list[DeploymentView] = []

        def holds() -> bool:
            seen[:] = [self._deployments.view(arn)]
            return condition(seen[0])

        if not self._sched.wait_until(holds, timeout):
            raise TimeoutError(f"deployment {arn} did not meet {what} within {timeout}s: {seen[:1]!r}")
        return seen[0]

    def wait_for_hook(self, arn: str, status: str = "AWAITING_ACTION", timeout: float = 10.0) -> HookView:
        """The deployment's last hook once one is in `status`."""
        view = self.wait_for_deployment(
            arn, lambda d: any(h.status == status for h in d.hooks), timeout, f"a hook {status}"
        )
        return next(h for h in reversed(view.hooks) if h.status == status)

    def _setup_client(self, service: str, region: str) -> Any:
        key = f"{service}/{region}"
        if key not in self._setup_clients:
            self._setup_clients[key] = setup_client(service, self.endpoint, region)
        return self._setup_clients[key]

    def _images(self, td_arn: str) -> list[dict[str, str]]:
        return [{"containerName": c["name"], "image": c.get("image", "")} for c in self._container_definitions(td_arn)]

    def _set_task_definition(self, service_arn: str, cluster: str, td_arn: str) -> None:
        """A rolled-back service runs its previous task definition again (DescribeServices shows it)."""
        services = ecs_backends[self.account][service_arn.split(":")[3]].services
        key = f"{cluster}:{service_arn.rsplit('/', 1)[-1]}"
        if key in services:
            services[key].task_definition = td_arn

    def _cluster_exists(self, region: str, cluster: str) -> bool:
        return cluster in ecs_backends[self.account][region].clusters

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
