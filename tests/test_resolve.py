"""resolve.py: what will run, found with read-only calls. The ECS side is a scripted fake of the three calls resolve
makes (the sandbox runs the same paths end to end in test_less_config.py)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import botocore.session
import pytest

from ecs_run_task.aws.clients import Ecs
from ecs_run_task.errors import InputError, RunError
from ecs_run_task.inputs import taskdef
from ecs_run_task.inputs.spec import CapacityProvider, Spec, build
from ecs_run_task.plan import resolve

ARN = "arn:aws:ecs:us-east-1:123456789012:task-definition"
_REGISTER = botocore.session.Session().get_service_model("ecs").operation_model("RegisterTaskDefinition").input_shape
ACCEPTED = frozenset(_REGISTER.members) if _REGISTER else frozenset()  # what RegisterTaskDefinition takes


def described(family: str, revision: int, *containers: dict[str, Any], network_mode: str = "bridge") -> dict[str, Any]:
    """A task definition as DescribeTaskDefinition answers it: read-only fields included."""
    return {"taskDefinitionArn": f"{ARN}/{family}:{revision}", "family": family, "revision": revision,
            "status": "ACTIVE", "networkMode": network_mode, "registeredAt": "2026-01-01T00:00:00Z",
            "compatibilities": ["EC2"], "requiresAttributes": [{"name": "com.amazonaws.ecs.capability.logging-driver.awslogs"}],
            "containerDefinitions": list(containers) or [{"name": "web", "image": "acme/app:v1", "memory": 128}]}  # fmt: skip


@dataclass
class FakeEcs:
    """DescribeServices and DescribeTaskDefinition answered from what the test gives; every call recorded."""

    definitions: list[dict[str, Any]] = field(default_factory=list)
    service: dict[str, Any] | None = None
    asked: list[str] = field(default_factory=list)

    def describe_service(self, cluster: str, service: str) -> dict[str, Any]:
        self.asked.append(f"DescribeServices {cluster} {service}")
        assert self.service is not None
        return self.service

    def describe_task_definition(self, reference: str) -> dict[str, Any]:
        self.asked.append(f"DescribeTaskDefinition {reference}")
        for definition in sorted(self.definitions, key=lambda d: -int(d["revision"])):  # a family: its latest
            family, revision = definition["family"], definition["revision"]
            if reference in (family, f"{family}:{revision}", definition["taskDefinitionArn"]):
                return definition
        raise RunError(f"task-definition: {reference!r} was not found")

    def registration_fields(self) -> frozenset[str]:
        return ACCEPTED


def resolved(spec: Spec, ecs: FakeEcs) -> resolve.Resolved:
    return resolve.resolve(spec, cast("Ecs", ecs))


# -- a service's settings ---------------------------------------------------------------------------------------------

SERVICE = {
    "serviceName": "web-svc", "status": "ACTIVE", "taskDefinition": f"{ARN}/app:4", "platformVersion": "1.4.0",
    "capacityProviderStrategy": [{"capacityProvider": "FARGATE_SPOT", "weight": 3}, {"capacityProvider": "FARGATE", "base": 1}],
    "networkConfiguration": {"awsvpcConfiguration": {"subnets": ["subnet-0aaa1111"], "securityGroups": ["sg-0bbb2222"],
                                                     "assignPublicIp": "ENABLED"}},
}  # fmt: skip


def test_a_service_supplies_what_the_inputs_left_out() -> None:
    ecs = FakeEcs([described("app", 4, network_mode="awsvpc")], SERVICE)
    got = resolved(build({"cluster": "Sample", "service": "web-svc"}), ecs)
    assert ecs.asked == ["DescribeServices Sample web-svc", f"DescribeTaskDefinition {ARN}/app:4"]
    assert got.spec.task_definition == f"{ARN}/app:4"
    assert (got.spec.subnets, got.spec.security_groups, got.spec.assign_public_ip) == (
        ("subnet-0aaa1111",), ("sg-0bbb2222",), True)  # fmt: skip
    assert got.spec.capacity_provider_strategy == (
        CapacityProvider("FARGATE_SPOT", 3),
        CapacityProvider("FARGATE", None, 1),
    )
    assert (got.spec.launch_type, got.spec.platform_version) == (None, "1.4.0")
    assert (got.register, got.task_definition_arn) == (None, f"{ARN}/app:4")  # the service's revision, as it is


def test_inputs_given_win_over_the_service_field_by_field() -> None:
    ecs = FakeEcs([described("app", 4, network_mode="awsvpc"), described("app", 5, network_mode="awsvpc")], SERVICE)
    spec = build({"cluster": "Sample", "service": "web-svc", "task-definition": "app:5", "subnets": "subnet-0ccc3333",
                  "launch-type": "FARGATE", "assign-public-ip": "false"})  # fmt: skip
    got = resolved(spec, ecs)
    assert got.task_definition_arn == f"{ARN}/app:5"
    assert (got.spec.subnets, got.spec.security_groups, got.spec.assign_public_ip) == (
        ("subnet-0ccc3333",), ("sg-0bbb2222",), False)  # fmt: skip
    assert (got.spec.launch_type, got.spec.capacity_provider_strategy) == ("FARGATE", ())


def test_a_bridge_task_definition_keeps_none_of_the_services_network() -> None:
    ecs = FakeEcs([described("bridged", 1)], SERVICE)
    got = resolved(build({"cluster": "Sample", "service": "web-svc", "task-definition": "bridged"}), ecs)
    assert (got.spec.subnets, got.spec.security_groups, got.spec.assign_public_ip) == ((), (), None)
    assert got.spec.platform_version == "1.4.0"  # the rest still comes from the service


# -- a task definition file -----------------------------------------------------------------------------------------


def test_a_file_is_registered_with_only_what_registration_accepts_as_the_familys_next_revision(tmp_path: Path) -> None:
    path = tmp_path / "taskdef.json"
    path.write_text(json.dumps({"taskDefinition": described("app", 9)}))  # as `aws ecs describe-task-definition` writes
    ecs = FakeEcs([described("app", 9)])
    got = resolved(build({"task-definition": str(path)}), ecs)
    assert got.register == {"family": "app", "networkMode": "bridge",
                            "containerDefinitions": [{"name": "web", "image": "acme/app:v1", "memory": 128}]}  # fmt: skip
    assert got.task_definition == got.register
    assert got.task_definition_arn == f"{ARN}/app:10"  # the latest ACTIVE revision + 1, predicted
    assert ecs.asked == ["DescribeTaskDefinition app"]  # read-only: nothing registered here


def test_a_file_of_a_new_family_is_predicted_as_its_first_revision(tmp_path: Path) -> None:
    path = tmp_path / "taskdef.json"
    path.write_text(
        json.dumps({"family": "fresh", "containerDefinitions": [{"name": "web", "image": "a", "memory": 8}]})
    )
    assert resolved(build({"task-definition": str(path)}), FakeEcs()).task_definition_arn == "fresh:1"


def test_a_file_of_exactly_the_limit_is_read(tmp_path: Path) -> None:
    text = json.dumps({"family": "app", "containerDefinitions": [{"name": "web", "image": "a", "memory": 8}]})
    path = tmp_path / "taskdef.json"
    path.write_text(text + " " * (taskdef.MAX_FILE_BYTES - len(text)))
    assert path.stat().st_size == taskdef.MAX_FILE_BYTES
    assert resolved(build({"task-definition": str(path)}), FakeEcs()).register is not None


@pytest.mark.parametrize(
    ("write", "problem"),
    [
        (None, "cannot be read (No such file or directory); paths are relative to the workspace"),
        ("dir", "cannot be read (Is a directory); paths are relative to the workspace"),
        (bytes(range(256)), "is not UTF-8 text; is it a task definition?"),
        (b" " * (taskdef.MAX_FILE_BYTES + 1), "is larger than 1024 KiB; is it a task definition? (ECS takes at most 64 KiB)"),
        (b"{not json", "is not valid JSON"),
        (b'{"family": "app"}', "has no containerDefinitions; is it a task definition?"),
    ],
    ids=["missing", "a directory", "binary", "one byte past the limit", "not JSON", "no containers"],
)  # fmt: skip
def test_a_file_that_cannot_be_a_task_definition_is_an_input_error_naming_it(
    tmp_path: Path, write: bytes | str | None, problem: str
) -> None:
    path = tmp_path / "taskdef.json"
    if write == "dir":
        path.mkdir()
    elif isinstance(write, bytes):
        path.write_bytes(write)
    ecs = FakeEcs()
    with pytest.raises(InputError) as raised:
        resolved(build({"task-definition": str(path)}), ecs)
    [said] = raised.value.problems
    assert said.startswith(f"task-definition: {path} {problem}"), said
    assert ecs.asked == []  # nothing asked of AWS for a file that is no task definition


def test_dev_zero_is_refused_after_reading_no_more_than_the_limit() -> None:
    with pytest.raises(InputError, match=r"task-definition: /dev/zero is larger than 1024 KiB"):
        resolved(build({"task-definition": "/dev/zero"}), FakeEcs())


# -- a new image ---------------------------------------------------------------------------------------------------


def test_a_new_image_registers_a_revision_with_only_that_containers_image_changed() -> None:
    web = {"name": "web", "image": "acme/app:v1", "memory": 128, "environment": [{"name": "MODE", "value": "x"}]}
    log = {"name": "log", "image": "acme/log:v1", "memory": 64, "essential": False}
    ecs = FakeEcs([described("app", 3, web, log)])
    got = resolved(build({"task-definition": "app", "container": "web", "image": "acme/app:v2"}), ecs)
    assert got.register is not None
    assert got.register["containerDefinitions"] == [{**web, "image": "acme/app:v2"}, log]
    assert not {"taskDefinitionArn", "revision", "status", "registeredAt", "compatibilities",
                "requiresAttributes"} & set(got.register)  # fmt: skip
    assert got.task_definition_arn == f"{ARN}/app:4"
    assert ecs.asked == ["DescribeTaskDefinition app"]  # the revision described is the latest: no second look
    assert ecs.definitions[0]["containerDefinitions"][0]["image"] == "acme/app:v1"  # the described one untouched


def test_the_same_image_reuses_the_revision() -> None:
    ecs = FakeEcs([described("app", 3)])
    got = resolved(build({"task-definition": "app:3", "image": "acme/app:v1"}), ecs)
    assert (got.register, got.task_definition_arn) == (None, f"{ARN}/app:3")


def test_an_image_for_a_task_definition_of_several_containers_needs_the_container() -> None:
    ecs = FakeEcs([described("app", 3, {"name": "web", "image": "a"}, {"name": "log", "image": "b"})])
    with pytest.raises(InputError) as raised:
        resolved(build({"task-definition": "app", "image": "acme/app:v2"}), ecs)
    assert raised.value.problems == [
        "container: required with image, because the task definition has several (web, log)"
    ]


def test_a_file_and_an_image_register_the_file_with_the_image(tmp_path: Path) -> None:
    path = tmp_path / "taskdef.json"
    path.write_text(json.dumps({"family": "app", "containerDefinitions": [{"name": "web", "image": "a", "memory": 8}]}))
    got = resolved(build({"task-definition": str(path), "image": "acme/app:v7"}), FakeEcs([described("app", 2)]))
    assert got.register == {
        "family": "app",
        "containerDefinitions": [{"name": "web", "image": "acme/app:v7", "memory": 8}],
    }
    assert got.task_definition_arn == f"{ARN}/app:3"


def test_the_checked_request_names_the_revision_that_will_be_registered() -> None:
    got = resolved(build({"cluster": "Sample", "task-definition": "app", "image": "acme/app:v2"}),
                   FakeEcs([described("app", 3)]))  # fmt: skip
    request = resolve.checked_request(got, started_by="ecs-run-task", client_token="t" * 32)
    assert (request["cluster"], request["taskDefinition"], request["clientToken"]) == (
        "Sample",
        f"{ARN}/app:4",
        "t" * 32,
    )
