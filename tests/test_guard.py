"""The runner's guard on its own, with tasks already decided (no AWS is called): a signal or an AWS refusal that
comes after the answer is known cuts the log drain short but keeps the answer, a partial start included."""

from __future__ import annotations

import io
import signal
from collections.abc import Callable
from typing import Any

import pytest

from ecs_run_task.aws.clients import Clients
from ecs_run_task.engine.cancel import Cancellation, Cancelled
from ecs_run_task.engine.following import Follower
from ecs_run_task.engine.runner import Runner
from ecs_run_task.engine.session import Session
from ecs_run_task.errors import AccessError
from ecs_run_task.inputs.spec import build
from ecs_run_task.report import pick
from ecs_run_task.status import Status
from ecs_run_task.verdict import outcome

TASK_DEFINITION = {"family": "app", "taskDefinitionArn": "arn:aws:ecs:us-east-1:1:task-definition/app:1",
                   "containerDefinitions": [{"name": "web"}]}  # fmt: skip
ARN = "arn:aws:ecs:us-east-1:1:task/Sample/a"
EXITED_0: dict[str, Any] = {"taskArn": ARN, "lastStatus": "STOPPED", "desiredStatus": "STOPPED",
            "containers": [{"name": "web", "lastStatus": "STOPPED", "exitCode": 0}]}  # fmt: skip


def decided_run(*, placed_fewer: bool) -> tuple[Runner, Follower]:
    spec = build({"task-definition": "app", "cluster": "Sample", "count": "2"}, [], {})
    session = Session(spec, Clients(ecs=None, region="us-east-1"), pick("plain", {}, io.StringIO()), Cancellation())  # type: ignore[arg-type]
    follower = Follower(session, session.new_run(spec, TASK_DEFINITION, {"cluster": "Sample"}))
    follower.started([EXITED_0])
    if placed_fewer:
        follower.run.placed_fewer(outcome.run_failures([{"reason": "RESOURCE:MEMORY"}], 1))
    assert follower.watch is not None
    follower.watch.decided_at[ARN] = 0.0  # every task decided: the drain was under way
    return Runner(session, "me"), follower


def raising(error: BaseException) -> Callable[[], outcome.Outcome]:
    def go() -> outcome.Outcome:
        raise error

    return go


def test_a_signal_in_the_drain_keeps_a_partial_start_a_failure() -> None:
    runner, follower = decided_run(placed_fewer=True)
    got = runner.guarded(follower, raising(Cancelled(signal.SIGTERM)))
    assert (got.status, got.exit_code) == (Status.FAILED_TO_START, 125)
    assert got.message == "RunTask started only 1 of 2 tasks: RESOURCE:MEMORY; SIGTERM cut the log drain short"


@pytest.mark.parametrize("placed_fewer", [False, True])
def test_an_aws_refusal_after_the_answer_keeps_the_answer_and_says_what_happened(placed_fewer: bool) -> None:
    runner, follower = decided_run(placed_fewer=placed_fewer)
    got = runner.guarded(follower, raising(AccessError("AWS rejected the credentials for ecs:DescribeTasks")))
    assert got.status == (Status.FAILED_TO_START if placed_fewer else Status.SUCCEEDED)
    assert got.warnings == ("after the answer was known: AWS rejected the credentials for ecs:DescribeTasks",)
