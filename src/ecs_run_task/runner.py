"""One run, start to end: task definition -> RunTask -> wait -> outcome. Never leaves a task running:
on timeout, signal or any error after RunTask, the started tasks are stopped before we return or raise."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import structlog

from ecs_run_task import outcome as judge
from ecs_run_task import outputs, plan
from ecs_run_task.aws import Clients, Ecs
from ecs_run_task.cancel import Cancellation, Cancelled
from ecs_run_task.errors import RunError
from ecs_run_task.outcome import Outcome
from ecs_run_task.report import Renderer
from ecs_run_task.spec import Spec
from ecs_run_task.watch import AllStopped, DeadlinePassed, Progress, Watch

log = structlog.get_logger()


@dataclass(frozen=True)
class Result:
    outcome: Outcome
    outputs: dict[str, str]


@dataclass
class Runner:
    spec: Spec
    clients: Clients
    renderer: Renderer
    cancel: Cancellation
    started_by: str
    clock: Callable[[], float] = time.monotonic

    def __post_init__(self) -> None:
        self.ecs = Ecs(self.clients)

    def run(self) -> Result:
        spec, show = self.spec, self.renderer
        show.begin("Starting task")
        with self.cancel.interruptible():  # nothing started yet: a signal may cut this short
            task_definition = self.ecs.describe_task_definition(spec.task_definition)
        td_arn = str(task_definition["taskDefinitionArn"])
        request = plan.run_task_request(
            spec, task_definition, started_by=self.started_by, client_token=uuid.uuid4().hex
        )
        log.debug("run_task", request=request)
        tasks, failures = self.ecs.run_task(request)  # never interrupted: a task must not start unseen
        if not tasks:
            return self.finish(judge.run_failures(failures), [], td_arn)
        arns = [t["taskArn"] for t in tasks]
        show.started(tasks, td_arn)
        show.remember({"task-arns": json.dumps(arns), "cluster": spec.cluster, "region": self.clients.region})
        if failures:
            show.warning(judge.run_failures(failures).message)
        if not spec.wait:
            self.cancel.check()
            return self.finish(judge.started(tasks), tasks, td_arn)
        watch = Watch(self.ecs, spec.cluster, arns, spec.poll_interval, self.deadline(), self.cancel, self.clock)
        watch.latest.update({t["taskArn"]: t for t in tasks})
        try:
            self.cancel.check()  # a signal that came during RunTask
            result = self.wait(
                watch, judge.deciding_containers(task_definition, plan.target_container(spec, task_definition))
            )
        except Cancelled as c:
            self.stop(watch.tasks(), f"CI job cancelled ({'SIGINT' if c.signum == 2 else 'SIGTERM'})")
            result = judge.interrupted(watch.tasks(), c.signum, spec.timeout)
        except BaseException as e:
            self.stop(watch.tasks(), f"ecs-run-task failed: {type(e).__name__}")
            raise
        if failures and result.status == judge.SUCCEEDED:
            result = judge.run_failures(failures)  # fewer tasks ran than asked for
        return self.finish(result, watch.tasks(), td_arn)

    def deadline(self) -> float | None:
        return None if self.spec.timeout is None else self.clock() + self.spec.timeout

    def wait(self, watch: Watch, deciders: Sequence[str]) -> Outcome:
        self.renderer.begin("Waiting for task")
        for event in watch.events(self.clock()):
            if isinstance(event, Progress):
                self.renderer.progress(event)
            elif isinstance(event, AllStopped):
                return judge.judge(event.tasks, deciders)
            elif isinstance(event, DeadlinePassed):
                self.stop(event.tasks, f"timeout of {self.spec.timeout:g}s passed")
                watch.poll()  # the stop code and reason for the outputs
                return judge.interrupted(watch.tasks(), None, self.spec.timeout)
        raise AssertionError("the watch ended without a final event")

    def stop(self, tasks: Sequence[dict[str, Any]], why: str) -> None:
        for task in tasks:
            if task.get("lastStatus") == "STOPPED":
                continue
            try:
                self.ecs.stop_task(self.spec.cluster, task["taskArn"], f"Stopped by ecs-run-task: {why}")
                self.renderer.info(f"stopped task {judge.task_id(task['taskArn'])}: {why}")
            except RunError as e:  # keep stopping the others; say loudly which one may still run
                self.renderer.warning(f"could not stop task {task['taskArn']}: {e.message}")

    def finish(self, result: Outcome, tasks: Sequence[dict[str, Any]], td_arn: str) -> Result:
        values = outputs.build(result, tasks, td_arn)
        self.renderer.end()
        self.renderer.result(result, values)
        return Result(result, values)
