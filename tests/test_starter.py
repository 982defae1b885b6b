"""The starter against a scripted ECS on a fake clock: RunTask asked again with the same clientToken when its answer
is lost, started again with a new one for what ECS could not place or could not describe yet, every task reported
the moment RunTask answers, within `start-retries` and the deadline."""

from __future__ import annotations

import signal
from typing import Any

import pytest

from ecs_run_task.aws.clients import RevisionNotReady
from ecs_run_task.engine.cancel import Cancelled
from ecs_run_task.engine.starter import Attempts
from ecs_run_task.errors import Hint, RunError, Throttled, Transient
from ecs_run_task.status import Status
from tests.fakes import Engine, engine

TD = "arn:aws:ecs:us-east-1:123456789012:task-definition/app:2"
REQUEST = {"cluster": "Sample", "taskDefinition": TD, "count": 1, "startedBy": "me", "clientToken": "t0"}
HINT = Hint("aws-unavailable", "AWS answered 503.", "Run it again.")
LOST = "ecs:RunTask failed: AWS could not be reached (Read timeout)"
UNABLE = "ecs:RunTask failed: ClientException: Unable to describe task definition."


class Heard:
    """The `Started` protocol, recorded: each report, with the clock when it came; and the attempts spent."""

    def __init__(self, e: Engine, allowed: int) -> None:
        self.e = e
        self.reports: list[tuple[float, list[str]]] = []
        self.attempts = Attempts(allowed)

    def started(self, tasks: list[dict[str, Any]]) -> None:
        self.reports.append((self.e.clock(), [str(t["taskArn"]) for t in tasks]))


def start(e: Engine, allowed: int = 2, deadline: float | None = None, **request: Any) -> tuple[list[Any], Heard]:
    heard = Heard(e, allowed)
    tasks, _refused = e.session.starter.start({**REQUEST, **request}, heard.attempts, heard, deadline)
    return tasks, heard


def test_a_lost_answer_is_asked_again_with_the_same_client_token() -> None:
    e = engine()
    e.ecs.faults["RunTask"] = [Transient(LOST)]
    tasks, heard = start(e)
    assert [r["clientToken"] for r in e.ecs.called("RunTask")] == ["t0", "t0"]
    assert heard.reports == [(3.0, [tasks[0]["taskArn"]])]
    assert e.shown.lines("warning: ") == [
        f"{LOST}; asking again in 3s with the same clientToken (ECS starts no task twice for one token)"
    ]


def test_an_answer_lost_for_good_is_unknown_and_says_where_to_look() -> None:
    e = engine()
    e.ecs.faults["RunTask"] = [Transient(LOST, hint=HINT) for _ in range(3)]
    with pytest.raises(RunError) as lost:
        start(e)
    assert (lost.value.status, lost.value.hint) == (Status.UNKNOWN, HINT)
    assert lost.value.message == (
        f"{LOST}; RunTask's answer never came (3 times), so a task may have started: look for tasks started by 'me' "
        "in cluster 'Sample' and stop any you find: "
        "https://us-east-1.console.aws.amazon.com/ecs/v2/clusters/Sample/tasks?region=us-east-1"
    )
    assert e.clock.now == 9.0  # 3 s, then 6 s


def test_throttled_past_every_try_started_nothing_and_says_so() -> None:
    e = engine()
    e.ecs.faults["RunTask"] = [Throttled("ecs:RunTask failed: ThrottlingException: Rate exceeded", hint=HINT)] * 3
    with pytest.raises(RunError) as refused:
        start(e)
    assert (refused.value.status, refused.value.hint, refused.value.message) == (
        Status.FAILED_TO_START, HINT,
        "ecs:RunTask failed: ThrottlingException: Rate exceeded (3 times); nothing was started")  # fmt: skip


def test_throttled_once_with_no_time_left_says_one_time() -> None:
    e = engine()
    e.ecs.faults["RunTask"] = [Throttled("ecs:RunTask failed: ThrottlingException: Rate exceeded")]
    with pytest.raises(RunError, match=r"Rate exceeded \(1 time\); nothing was started$"):
        start(e, deadline=3.0)  # a pause of 3 s would end at the deadline: no time for it


def test_no_try_again_past_the_deadline() -> None:
    e = engine()
    e.ecs.faults["RunTask"] = [Transient(LOST)]
    with pytest.raises(RunError, match=r"RunTask's answer never came \(1 time\)"):
        start(e, deadline=2.0)  # the first pause (3 s) would end past it


def test_a_signal_in_the_pause_after_a_throttled_start_says_nothing_started() -> None:
    e = engine()
    e.ecs.faults["RunTask"] = [Throttled("ecs:RunTask failed: ThrottlingException: Rate exceeded")]
    e.signals.schedule(1.0, signal.SIGTERM)
    with pytest.raises(Cancelled) as cancelled:
        start(e)
    assert cancelled.value.unseen == ""  # throttled: ECS did nothing


def test_a_signal_in_the_pause_says_a_task_may_have_started() -> None:
    e = engine()
    e.ecs.faults["RunTask"] = [Transient(LOST)]
    e.signals.schedule(1.0, signal.SIGTERM)
    with pytest.raises(Cancelled) as cancelled:
        start(e)
    assert cancelled.value.signum == signal.SIGTERM
    assert cancelled.value.unseen.startswith("a task may have started: look for tasks started by 'me'")


def test_capacity_refusals_are_started_again_each_with_a_new_token() -> None:
    e = engine()
    e.ecs.refusals = [[{"reason": "RESOURCE:MEMORY"}], [{"reason": "RESOURCE:MEMORY"}]]
    tasks, heard = start(e)
    tokens = [r["clientToken"] for r in e.ecs.called("RunTask")]
    assert len(tokens) == len(set(tokens)) == 3
    assert heard.reports == [(0.0, []), (3.0, []), (9.0, [tasks[0]["taskArn"]])]
    assert (
        e.shown.lines("warning: ")
        == heard.attempts.said
        == [  # the job summary's too
            "RunTask placed no task: RESOURCE:MEMORY; retrying in 3s, attempt 2 of 3",
            "RunTask placed no task: RESOURCE:MEMORY; retrying in 6s, attempt 3 of 3",
        ]
    )


def test_a_refusal_is_said_without_the_container_instances_arn() -> None:
    e = engine()
    instance = "arn:aws:ecs:us-east-1:123456789012:container-instance/Sample/0a1b"
    e.ecs.refusals = [[{"reason": "RESOURCE:MEMORY", "arn": instance}]]
    start(e)
    assert e.shown.lines("warning: ") == ["RunTask placed no task: RESOURCE:MEMORY; retrying in 3s, attempt 2 of 3"]


def test_no_start_again_when_its_pause_would_end_past_the_deadline() -> None:
    e = engine()
    e.ecs.refusals = [[{"reason": "RESOURCE:MEMORY"}]]
    tasks, _ = start(e, deadline=3.0)
    assert (tasks, len(e.ecs.called("RunTask"))) == ([], 1)


def test_only_the_tasks_not_placed_are_started_again() -> None:
    e = engine()
    e.ecs.refusals = [[{"reason": "RESOURCE:CPU"}]]
    tasks, heard = start(e, count=3)
    assert [r["count"] for r in e.ecs.called("RunTask")] == [3, 1]
    assert [len(arns) for _, arns in heard.reports] == [2, 1]
    assert len(tasks) == 3
    assert e.shown.lines("warning: ") == [
        "RunTask could not place 1 of 3 tasks: RESOURCE:CPU; retrying in 3s, attempt 2 of 3"
    ]


def test_a_refusal_no_retry_cures_is_not_tried_again() -> None:
    e = engine()
    e.ecs.refusals = [[{"reason": "ATTRIBUTE", "detail": "requires attribute ecs.capability.foo"}]]
    tasks, _ = start(e)
    assert (tasks, len(e.ecs.called("RunTask"))) == ([], 1)


def test_start_retries_0_tries_once() -> None:
    e = engine()
    e.ecs.refusals = [[{"reason": "RESOURCE:MEMORY"}]]
    tasks, _ = start(e, allowed=0)
    assert (tasks, len(e.ecs.called("RunTask")), e.clock.now) == ([], 1, 0.0)


def test_a_revision_ecs_cannot_describe_yet_is_started_again_within_start_retries() -> None:
    """A revision registered a moment ago: RunTask's "Unable to describe task definition" is ECS's eventual
    consistency, so the start is tried again (a start retry, with a line), as for capacity."""
    e = engine()
    e.ecs.faults["RunTask"] = [RevisionNotReady(UNABLE)]
    tasks, _ = start(e)
    assert len(tasks) == 1
    assert e.shown.lines("warning: ") == [
        f"{UNABLE} (ECS may not know revision app:2 yet, a moment after it was registered); retrying in 3s, "
        "attempt 2 of 3"
    ]


def test_a_revision_not_described_yet_when_no_time_is_left_fails_the_start() -> None:
    e = engine()
    e.ecs.faults["RunTask"] = [RevisionNotReady(UNABLE)]
    with pytest.raises(RevisionNotReady):
        start(e, deadline=2.0)
    assert len(e.ecs.called("RunTask")) == 1


def test_a_start_again_for_capacity_may_meet_a_revision_not_described_yet_and_shares_the_retries() -> None:
    e = engine()
    e.ecs.refusals = [[{"reason": "RESOURCE:MEMORY"}]]
    e.ecs.faults["RunTask"] = [None, RevisionNotReady(UNABLE)]
    tasks, _ = start(e)
    assert len(tasks) == 1
    assert [line.rsplit("attempt ", 1)[-1] for line in e.shown.lines("warning: ")] == ["2 of 3", "3 of 3"]


def test_the_start_again_for_capacity_keeps_the_deadline_when_the_revision_is_not_described_yet() -> None:
    e = engine()
    e.ecs.refusals = [[{"reason": "RESOURCE:MEMORY"}]]
    e.ecs.faults["RunTask"] = [None, RevisionNotReady(UNABLE), None]
    with pytest.raises(RevisionNotReady):
        start(e, deadline=8.0)  # 3 s, then 6 s more would pass it
    assert e.clock.now == 3.0


def test_a_revision_still_not_described_after_every_retry_fails_the_start() -> None:
    e = engine()
    e.ecs.faults["RunTask"] = [RevisionNotReady(UNABLE) for _ in range(3)]
    with pytest.raises(RevisionNotReady):
        start(e, allowed=2)
    assert len(e.ecs.called("RunTask")) == 3
