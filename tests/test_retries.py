"""Start again decisions, from plain data: the pause before a retry, which failures are worth one."""

from __future__ import annotations

from typing import Any

import pytest

from ecs_run_task.engine import retries
from ecs_run_task.errors import Hint

ARN = "arn:aws:ecs:us-east-1:123456789012:task/Sample/"
PULL_DENIED = "CannotPullContainerError: pull access denied for app"  # not worth another try
ENI_TIMEOUT = "Timeout waiting for network interface provisioning to complete."  # worth one


def key(hint: Hint | None) -> str | None:
    return hint.key if hint else None


def task(task_id: str = "0a1b2c3d", *containers: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {"taskArn": ARN + task_id, "lastStatus": "STOPPED", "containers": list(containers), **fields}


def never_ran(name: str = "web", reason: str = "") -> dict[str, Any]:
    return {"name": name, "lastStatus": "STOPPED", **({"reason": reason} if reason else {})}


@pytest.mark.parametrize(
    ("retry", "jitter", "seconds"),
    [(1, 0.0, 2.25), (1, 0.5, 3.0), (2, 0.5, 6.0), (3, 0.5, 12.0), (5, 0.5, 48.0), (6, 0.5, 60.0), (9, 0.5, 60.0),
     (6, 0.999, 74.97), (2, 0.25, 5.25)],
)  # fmt: skip
def test_the_pause_doubles_from_3_seconds_up_to_a_minute_with_a_quarter_either_way(retry: int, jitter: float,
                                                                                   seconds: float) -> None:  # fmt: skip
    assert retries.pause(retry, jitter) == pytest.approx(seconds)


def test_refusals_are_worth_another_try_only_when_each_one_is() -> None:
    assert key(retries.transient_refusal([{"reason": "RESOURCE:ENI"}, {"reason": "RESOURCE:CPU"}])) == "resource-eni"
    assert retries.transient_refusal([{"reason": "RESOURCE:CPU"}, {"reason": "ATTRIBUTE"}]) is None
    assert retries.transient_refusal([{"reason": "MISSING"}]) is None
    assert retries.transient_refusal([]) is None


def test_a_refusals_detail_is_read_too() -> None:
    refusal = {"reason": "Unknown", "detail": "Capacity is unavailable at this time."}
    assert key(retries.transient_refusal([refusal])) == "fargate-capacity"


def test_a_task_that_never_ran_for_a_cause_that_may_pass_is_worth_another_start() -> None:
    stopped = task("0a1b2c3d", never_ran(), stopCode="TaskFailedToStart", stoppedReason=ENI_TIMEOUT)
    assert key(retries.transient_start_failure(stopped, ["web"], ran=False)) == "provisioning-timeout"


def test_a_task_whose_container_ran_is_never_started_again() -> None:
    stopped = task("0a1b2c3d", never_ran(), stopCode="TaskFailedToStart", stoppedReason=ENI_TIMEOUT)
    assert retries.transient_start_failure(stopped, ["web"], ran=True) is None
    exited = task("0a1b2c3d", {"name": "web", "exitCode": 1, "lastStatus": "STOPPED"}, stopCode="SpotInterruption")
    assert retries.transient_start_failure(exited, ["web"], ran=False) is None


def test_a_task_that_never_ran_for_a_cause_that_stays_is_not_started_again() -> None:
    stopped = task("0a1b2c3d", never_ran(reason=PULL_DENIED), stopCode="TaskFailedToStart")
    assert retries.transient_start_failure(stopped, ["web"], ran=False) is None
    assert retries.transient_start_failure(task("0a1b2c3d", never_ran()), ["web"], ran=False) is None
    said_by_ecs = task("0a1b2c3d", never_ran(), stopCode="TaskFailedToStart", stoppedReason=PULL_DENIED)
    assert retries.transient_start_failure(said_by_ecs, ["web"], ran=False) is None


def test_a_container_whose_image_pull_timed_out_is_worth_another_start() -> None:
    reason = "CannotPullContainerError: failed to resolve ref REGISTRY/app:1: dial tcp 10.0.0.1:443: i/o timeout"
    stopped = task("0a1b2c3d", never_ran(reason=reason), stopCode="TaskFailedToStart")
    assert key(retries.transient_start_failure(stopped, ["web"], ran=False)) == "pull-no-route"


def test_a_spot_interruption_before_the_container_ran_is_worth_another_start_whatever_the_container_says() -> None:
    stopped = task("0a1b2c3d", never_ran(reason=PULL_DENIED), stopCode="SpotInterruption",
                   stoppedReason="Your Spot Task was interrupted.")  # fmt: skip
    assert key(retries.transient_start_failure(stopped, ["web"], ran=False)) == "spot-interruption"


def test_the_stopped_reason_is_read_again_without_the_containers_reason_that_hid_it() -> None:
    stopped = task("0a1b2c3d", never_ran(reason=PULL_DENIED), stopCode="TaskFailedToStart", stoppedReason=ENI_TIMEOUT)
    assert key(retries.transient_start_failure(stopped, ["web"], ran=False)) == "provisioning-timeout"


def test_the_pauses_grow_with_jitter() -> None:
    assert [retries.pause(n, 0.5) for n in (1, 2, 3, 4, 5, 6, 7)] == [3.0, 6.0, 12.0, 24.0, 48.0, 60.0, 60.0]
    assert retries.pause(1, 0.0) == 2.25
    assert retries.pause(1, 0.999) == pytest.approx(3.75, abs=0.01)
