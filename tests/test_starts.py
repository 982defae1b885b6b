"""Start decisions, from plain data: the pause before a retry, which failures are worth one, who goes first."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from ecs_run_task.engine import starts
from ecs_run_task.errors import Hint

ARN = "arn:aws:ecs:us-east-1:123456789012:task/Sample/"
TD = "arn:aws:ecs:us-east-1:123456789012:task-definition/app:7"
NOON = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
PULL_DENIED = "CannotPullContainerError: pull access denied for app"  # not worth another try
ENI_TIMEOUT = "Timeout waiting for network interface provisioning to complete."  # worth one


def key(hint: Hint | None) -> str | None:
    return hint.key if hint else None


def task(task_id: str = "0a1b2c3d", *containers: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {"taskArn": ARN + task_id, "lastStatus": "STOPPED", "containers": list(containers), **fields}


def never_ran(name: str = "web", reason: str = "") -> dict[str, Any]:
    return {"name": name, "lastStatus": "STOPPED", **({"reason": reason} if reason else {})}


def created(task_id: str, minutes: float, **fields: Any) -> dict[str, Any]:
    """A task created `minutes` after noon."""
    return {"taskArn": ARN + task_id, "createdAt": NOON + timedelta(minutes=minutes), **fields}


@pytest.mark.parametrize(
    ("retry", "jitter", "seconds"),
    [(1, 0.0, 2.25), (1, 0.5, 3.0), (2, 0.5, 6.0), (3, 0.5, 12.0), (5, 0.5, 48.0), (6, 0.5, 60.0), (9, 0.5, 60.0),
     (6, 0.999, 74.97), (2, 0.25, 5.25)],
)  # fmt: skip
def test_the_pause_doubles_from_3_seconds_up_to_a_minute_with_a_quarter_either_way(retry: int, jitter: float,
                                                                                   seconds: float) -> None:  # fmt: skip
    assert starts.pause(retry, jitter) == pytest.approx(seconds)


def test_refusals_are_worth_another_try_only_when_each_one_is() -> None:
    assert key(starts.transient_refusal([{"reason": "RESOURCE:ENI"}, {"reason": "RESOURCE:CPU"}])) == "resource-eni"
    assert starts.transient_refusal([{"reason": "RESOURCE:CPU"}, {"reason": "ATTRIBUTE"}]) is None
    assert starts.transient_refusal([{"reason": "MISSING"}]) is None
    assert starts.transient_refusal([]) is None


def test_a_refusals_detail_is_read_too() -> None:
    refusal = {"reason": "Unknown", "detail": "Capacity is unavailable at this time."}
    assert key(starts.transient_refusal([refusal])) == "fargate-capacity"


def test_a_task_that_never_ran_for_a_cause_that_may_pass_is_worth_another_start() -> None:
    stopped = task("0a1b2c3d", never_ran(), stopCode="TaskFailedToStart", stoppedReason=ENI_TIMEOUT)
    assert key(starts.transient_start_failure(stopped, ["web"], ran=False)) == "provisioning-timeout"


def test_a_task_whose_container_ran_is_never_started_again() -> None:
    stopped = task("0a1b2c3d", never_ran(), stopCode="TaskFailedToStart", stoppedReason=ENI_TIMEOUT)
    assert starts.transient_start_failure(stopped, ["web"], ran=True) is None
    exited = task("0a1b2c3d", {"name": "web", "exitCode": 1, "lastStatus": "STOPPED"}, stopCode="SpotInterruption")
    assert starts.transient_start_failure(exited, ["web"], ran=False) is None


def test_a_task_that_never_ran_for_a_cause_that_stays_is_not_started_again() -> None:
    stopped = task("0a1b2c3d", never_ran(reason=PULL_DENIED), stopCode="TaskFailedToStart")
    assert starts.transient_start_failure(stopped, ["web"], ran=False) is None
    assert starts.transient_start_failure(task("0a1b2c3d", never_ran()), ["web"], ran=False) is None
    said_by_ecs = task("0a1b2c3d", never_ran(), stopCode="TaskFailedToStart", stoppedReason=PULL_DENIED)
    assert starts.transient_start_failure(said_by_ecs, ["web"], ran=False) is None


def test_a_container_whose_image_pull_timed_out_is_worth_another_start() -> None:
    reason = "CannotPullContainerError: failed to resolve ref REGISTRY/app:1: dial tcp 10.0.0.1:443: i/o timeout"
    stopped = task("0a1b2c3d", never_ran(reason=reason), stopCode="TaskFailedToStart")
    assert key(starts.transient_start_failure(stopped, ["web"], ran=False)) == "pull-no-route"


def test_a_spot_interruption_before_the_container_ran_is_worth_another_start_whatever_the_container_says() -> None:
    stopped = task("0a1b2c3d", never_ran(reason=PULL_DENIED), stopCode="SpotInterruption",
                   stoppedReason="Your Spot Task was interrupted.")  # fmt: skip
    assert key(starts.transient_start_failure(stopped, ["web"], ran=False)) == "spot-interruption"


def test_the_stopped_reason_is_read_again_without_the_containers_reason_that_hid_it() -> None:
    stopped = task("0a1b2c3d", never_ran(reason=PULL_DENIED), stopCode="TaskFailedToStart", stoppedReason=ENI_TIMEOUT)
    assert key(starts.transient_start_failure(stopped, ["web"], ran=False)) == "provisioning-timeout"


def test_the_group_is_the_given_one_or_ecs_default_for_the_family() -> None:
    assert starts.group_of("migrations", "app") == "migrations"
    assert starts.group_of(None, "app") == "family:app"
    assert starts.group_of("", "app") == "family:app"


def test_tasks_go_oldest_first_ties_by_arn_and_those_without_a_creation_time_last() -> None:
    late, early, tie_b, tie_a = created("4", 2), created("3", 1), created("b", 0), created("a", 0)
    unknown = {"taskArn": ARN + "0"}
    assert starts.in_order([unknown, late, early, tie_b, tie_a]) == [tie_a, tie_b, early, late, unknown]


def test_the_tasks_that_go_first_are_those_created_before_mine() -> None:
    mine = created("m", 1)
    before, same_time_lower_arn, after = created("z", 0), created("a", 1), created("n", 2)
    assert starts.older([after, before, same_time_lower_arn, mine], mine) == [before, same_time_lower_arn]
    assert starts.older([before], {"taskArn": ARN + "x"}) == [before]  # without a creation time: last of all


def test_the_running_tasks_of_a_group_are_those_ecs_is_not_stopping_oldest_first() -> None:
    old = created("1", 0, group="family:app", lastStatus="RUNNING", desiredStatus="RUNNING")
    new = created("2", 5, group="family:app", lastStatus="PENDING", desiredStatus="RUNNING")
    stopping = created("3", 1, group="family:app", lastStatus="RUNNING", desiredStatus="STOPPED")
    other = created("4", 2, group="migrations", lastStatus="RUNNING", desiredStatus="RUNNING")
    assert starts.running_in([new, stopping, other, old], "family:app") == [old, new]


def test_a_task_is_described_so_that_a_person_can_find_it() -> None:
    running = created("0a1b2c3d", 0, taskDefinitionArn=TD, startedBy="gh/acme/app/123/1")
    assert starts.described(running, NOON + timedelta(seconds=185)) == (
        "task 0a1b2c3d (app:7), started by gh/acme/app/123/1, 3m05s ago")  # fmt: skip
    assert starts.described(running, NOON + timedelta(seconds=3725)).endswith(", 62m05s ago")
    assert starts.described(created("0a1b2c3d", 1), NOON) == "task 0a1b2c3d, 0m00s ago"  # clocks disagree: never < 0
    assert starts.described({"taskArn": ARN + "0a1b2c3d"}) == "task 0a1b2c3d"
    assert starts.described({}) == "task ?"


def test_a_task_is_described_against_the_clock_by_default() -> None:
    just_now = {"taskArn": ARN + "0a1b2c3d", "createdAt": datetime.now(UTC) + timedelta(hours=1)}
    assert starts.described(just_now) == "task 0a1b2c3d, 0m00s ago"
