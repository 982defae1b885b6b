"""taskdef.py: a task definition file read as JSON, the fields RegisterTaskDefinition accepts, an image swapped."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from ecs_run_task.errors import InputError
from ecs_run_task.inputs import taskdef

WEB = {"name": "web", "image": "acme/app:v1", "memory": 128, "environment": [{"name": "MODE", "value": "x"}]}
LOG = {"name": "log", "image": "acme/log:v1", "memory": 64, "essential": False}
DEFINITION = {"family": "app", "containerDefinitions": [WEB, LOG], "networkMode": "awsvpc", "cpu": "256",
              "taskDefinitionArn": "arn:aws:ecs:us-east-1:123456789012:task-definition/app:7", "revision": 7,
              "status": "ACTIVE", "registeredAt": "2026-01-01T00:00:00Z", "compatibilities": ["FARGATE"],
              "taskRoleArn": None}  # fmt: skip
ACCEPTED = {"family", "containerDefinitions", "networkMode", "cpu", "memory", "taskRoleArn", "volumes"}


def problems(text: str) -> list[str]:
    with pytest.raises(InputError) as raised:
        taskdef.parse_file(text, "deploy/taskdef.json")
    return raised.value.problems


@pytest.mark.parametrize("outer_key", [True, False], ids=["as describe-task-definition writes it", "bare"])
def test_a_file_holds_a_task_definition_bare_or_under_task_definition(outer_key: bool) -> None:
    text = json.dumps({"taskDefinition": DEFINITION} if outer_key else DEFINITION)
    assert taskdef.parse_file(text, "deploy/taskdef.json") == DEFINITION


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "is not valid JSON (Expecting value at line 1 column 1)"),
        ("{not json", "is not valid JSON (Expecting property name enclosed in double quotes at line 1 column 2)"),
        ("[]", "holds JSON that is not an object"),
        ('"app"', "holds JSON that is not an object"),
        ("{}", "has no family or containerDefinitions; is it a task definition?"),
        ('{"taskDefinition": "app"}', "has no family or containerDefinitions; is it a task definition?"),
        ('{"family": "app"}', "has no containerDefinitions; is it a task definition?"),
        ('{"family": "app", "containerDefinitions": []}', "has no containerDefinitions; is it a task definition?"),
        ('{"containerDefinitions": [{"name": "web"}]}', "has no family; is it a task definition?"),
        ("[" * 40 + "]" * 40, "nests deeper than 32 levels; is it a task definition?"),
    ],
)
def test_what_is_no_task_definition_is_named_with_the_file(text: str, problem: str) -> None:
    assert problems(text) == [f"task-definition: deploy/taskdef.json {problem}"]


@pytest.mark.parametrize(
    "containers", [{"name": "web"}, ["web"], [{"image": "acme/app"}], [{"name": 5}], [WEB, None]],
    ids=["an object", "a name", "no name", "a number for a name", "null among them"],
)  # fmt: skip
def test_container_definitions_must_be_objects_with_a_name(containers: Any) -> None:
    assert problems(json.dumps({"family": "app", "containerDefinitions": containers})) == [
        "task-definition: deploy/taskdef.json: containerDefinitions must be an array of objects with a name"
    ]


def test_a_file_past_the_limit_is_refused_before_it_is_parsed() -> None:
    text = json.dumps(DEFINITION)
    assert taskdef.parse_file(text + " " * (taskdef.MAX_FILE_BYTES - len(text)), "t.json") == DEFINITION
    assert problems(text + " " * (taskdef.MAX_FILE_BYTES - len(text) + 1)) == [
        "task-definition: deploy/taskdef.json is larger than 1024 KiB; is it a task definition?"
    ]


def test_registration_keeps_what_is_accepted_and_given_and_copies_it() -> None:
    original = copy.deepcopy(DEFINITION)
    registration = taskdef.registration(DEFINITION, ACCEPTED)
    assert registration == {"family": "app", "containerDefinitions": [WEB, LOG], "networkMode": "awsvpc", "cpu": "256"}
    registration["containerDefinitions"][0]["image"] = "changed"
    assert original == DEFINITION  # a deep copy: the described definition is never changed


def test_with_image_changes_that_containers_image_only_on_a_copy() -> None:
    original = copy.deepcopy(DEFINITION)
    swapped = taskdef.with_image(DEFINITION, "log", "acme/log:v2")
    assert swapped["containerDefinitions"] == [WEB, {**LOG, "image": "acme/log:v2"}]
    assert {k: v for k, v in swapped.items() if k != "containerDefinitions"} == {
        k: v for k, v in DEFINITION.items() if k != "containerDefinitions"
    }
    assert original == DEFINITION


def test_with_image_for_a_container_not_there_names_the_ones_there() -> None:
    with pytest.raises(InputError) as raised:
        taskdef.with_image(DEFINITION, "worker", "acme/app:v2")
    assert raised.value.problems == ["container: 'worker' is not in the task definition; its containers are web, log"]


def test_image_of_a_container() -> None:
    assert taskdef.image_of(DEFINITION, "web") == "acme/app:v1"
    assert taskdef.image_of(DEFINITION, "worker") is None
    assert taskdef.image_of({"containerDefinitions": [{"name": "web"}]}, "web") is None
    assert taskdef.image_of({}, "web") is None


def _container(name: str, **more: Any) -> dict[str, Any]:
    return {
        "name": name,
        "logConfiguration": {"logDriver": "awslogs", "options": {"awslogs-group": "/ecs/app"}},
        **more,
    }


def _blocking(name: str, **more: Any) -> dict[str, Any]:
    options = {"awslogs-group": "/ecs/app", "mode": "blocking"}
    return {**_container(name, **more), "logConfiguration": {"logDriver": "awslogs", "options": options}}


def test_a_deciding_container_with_a_restart_policy_or_non_blocking_logs_gets_a_caution_with_the_fix() -> None:
    td = {"containerDefinitions": [
        _blocking("migrate", restartPolicy={"enabled": True, "restartAttemptPeriod": 60}),
        _container("envoy", restartPolicy={"enabled": True}),  # not deciding: its restarts decide nothing
    ]}  # fmt: skip
    assert taskdef.cautions(td, ["migrate"]) == [
        "container migrate has a restartPolicy: ECS may restart it in place, so the exit this run sees may not be its "
        "last; for a one-off task such as a migration, set restartPolicy's enabled to false in its container definition"
    ]
    unset = {"containerDefinitions": [_container("migrate")]}
    assert taskdef.cautions(unset, ["migrate"]) == [
        "container migrate: its awslogs mode is not set, which means non-blocking (ECS's default since June 2025): "
        'lines are dropped when the log buffer fills; for a migration, set "mode": "blocking" in its logConfiguration '
        "options"
    ]
    non_blocking = {"containerDefinitions": [{**_container("migrate"), "logConfiguration": {
        "logDriver": "awslogs", "options": {"awslogs-group": "g", "mode": "non-blocking"}}}]}  # fmt: skip
    assert taskdef.cautions(non_blocking, ["migrate"])[0].startswith(
        "container migrate: its awslogs mode is non-blocking: "
    )


def test_a_blocking_deciding_container_without_restarts_gets_none() -> None:
    td = {"containerDefinitions": [_blocking("migrate", restartPolicy={"enabled": False}), _container("sidecar")]}
    assert taskdef.cautions(td, ["migrate"]) == []
    assert taskdef.cautions({"containerDefinitions": [_container("migrate")]}, ["migrate"], logs=False) == []
    assert taskdef.cautions({"containerDefinitions": [{"name": "migrate"}]}, ["migrate"]) == []  # no awslogs
