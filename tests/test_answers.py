"""answers.py: AWS's answers read defensively: an odd field is read as well as it can be, or dropped, and warned
about once; never a traceback that would end a run (the same answers over HTTP: test_hostile_input.py)."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from ecs_run_task.aws import answers
from tests.helpers import Said


def test_tasks_without_an_arn_or_not_objects_are_dropped_and_warned_about_once(said: Said) -> None:
    answer = {"tasks": [None, "task", {"lastStatus": "RUNNING"}, {"taskArn": ""}, {"taskArn": 7}, {"taskArn": "arn:1"}]}
    assert answers.tasks(answer) == [{"taskArn": "arn:1", "containers": []}]
    assert answers.tasks(answer) == [{"taskArn": "arn:1", "containers": []}]
    assert said.warnings == ["AWS answered a task without an ARN; it is ignored"]


def test_containers_that_are_not_a_list_of_objects_are_dropped() -> None:
    answer = {"tasks": [{"taskArn": "arn:1", "containers": "web"},
                        {"taskArn": "arn:2", "containers": [None, "web", {"name": "web"}]}]}  # fmt: skip
    assert [t["containers"] for t in answers.tasks(answer)] == [[], [{"name": "web"}]]


@pytest.mark.parametrize(
    ("exit_code", "read"),
    [(3, 3), (0, 0), (None, None), ("3", 3), (" -1 ", -1), ("137\n", 137), ("three", "gone"), (True, "gone"),
     ("9" * 12, "gone"), (3.5, "gone"), ([1], "gone")],
)  # fmt: skip
def test_an_exit_code_sent_as_text_is_read_as_a_number_and_one_that_is_none_is_dropped(
    said: Said, exit_code: object, read: object
) -> None:
    [task] = answers.tasks({"tasks": [{"taskArn": "arn:1", "containers": [{"name": "web", "exitCode": exit_code}]}]})
    [container] = task["containers"]
    if read == "gone":
        assert container == {"name": "web"}
        assert said.warnings == ["DescribeTasks gave an exit code that cannot be read; it is ignored"]
    else:
        assert container == {"name": "web", "exitCode": read}
        assert said.warnings == []


@pytest.mark.parametrize("answer", [{}, {"tasks": None}, {"tasks": []}])
def test_no_tasks_is_an_empty_list(answer: dict[str, Any]) -> None:
    assert answers.tasks(answer) == []


def test_log_events_that_are_not_objects_are_dropped_and_an_odd_timestamp_is_0() -> None:
    answer = {"events": [None, "line", {"message": "a", "timestamp": 5}, {"message": "b", "timestamp": "soon"},
                         {"message": "c", "timestamp": True}, {"message": "d", "timestamp": 1.5}, {"message": "e"}]}  # fmt: skip
    assert answers.events(answer) == [{"message": "a", "timestamp": 5}, {"message": "b", "timestamp": 0},
                                       {"message": "c", "timestamp": 0}, {"message": "d", "timestamp": 0},
                                       {"message": "e", "timestamp": 0}]  # fmt: skip
    assert answers.events({"events": None}) == answers.events({}) == []


UTC = datetime.UTC


@pytest.mark.parametrize(
    ("value", "read"),
    [
        ("2026-01-01T00:00:00Z", datetime.datetime(2026, 1, 1, tzinfo=UTC)),
        ("2026-01-01T01:00:00+01:00", datetime.datetime(2026, 1, 1, tzinfo=UTC)),
        (1767225600, datetime.datetime(2026, 1, 1, tzinfo=UTC)),
        (1767225600.5, datetime.datetime(2026, 1, 1, 0, 0, 0, 500000, tzinfo=UTC)),
    ],
)
def test_a_timestamp_is_read_as_botocore_reads_it(said: Said, value: object, read: datetime.datetime) -> None:
    assert answers.lenient_timestamp(value) == read
    assert said.warnings == []


@pytest.mark.parametrize("value", ["yesterday", "", "2026-13-45T99:99:99Z", 1e300, -1e300, {"at": 1}, None])
def test_a_timestamp_that_cannot_be_read_is_none_and_warned_about_once(said: Said, value: object) -> None:
    assert answers.lenient_timestamp(value) is None
    assert answers.lenient_timestamp(value) is None
    assert said.warnings == ["AWS answered a timestamp that cannot be read; it is ignored"]


def test_hidden_values_are_masked_in_every_text_of_a_task() -> None:
    task: dict[str, Any] = {"taskArn": "arn", "stoppedReason": "x",
                            "containers": [{"name": "web", "reason": 'exec: "A=s3cret": no'}]}  # fmt: skip
    shown = answers.masked([task], ("s3cret",))
    assert shown[0]["containers"][0]["reason"] == 'exec: "A=***": no'
    assert shown[0]["stoppedReason"] == "x"
    assert answers.masked([task], ()) == [task]
