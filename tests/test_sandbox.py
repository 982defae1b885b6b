"""The sandbox itself, driven over HTTP with plain boto3 clients, as the tool will drive it."""

from __future__ import annotations

import functools
import json
import time
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from sandbox import HOLD, Container, ContainerScript, RunLocally, Sandbox, Scripted, Step
from tests.helpers import describe_task, start_task

FAST = [Step("PROVISIONING", 0.05), Step("PENDING", 0.05), Step("RUNNING", 0.2)]


@functools.cache
def _client(endpoint: str, service: str, config: str) -> Any:
    factory: Any = boto3.client
    return factory(
        service,
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(**json.loads(config)),
    )


def client(sandbox: Sandbox, service: str, **config: Any) -> Any:
    """A plain boto3 client, as the tool makes them (cached: creating one costs tens of ms)."""
    return _client(sandbox.endpoint, service, json.dumps(config, sort_keys=True))


def test_scripted_task_goes_through_its_states_and_ends_as_scripted(sandbox: Sandbox, ecs: Any) -> None:
    sandbox.register(
        "app",
        [Container("web")],
        Scripted(
            steps=[*FAST, Step("DEACTIVATING", 0.05), Step("STOPPING", 0.05)],
            containers={"web": ContainerScript(exit_code=3)},
            stop_code="EssentialContainerExited",
            stopped_reason="Essential container in task exited",
        ),
    )
    arn = start_task(ecs, "app", startedBy="ci", tags=[{"key": "k", "value": "v"}])
    assert sandbox.wait_for_any_task() == arn
    sandbox.wait_for_status(arn, "RUNNING")
    running = describe_task(ecs, arn)
    assert running["desiredStatus"] == "RUNNING"
    assert "exitCode" not in running["containers"][0]
    sandbox.wait_for_status(arn, "STOPPED")
    task = describe_task(ecs, arn)
    assert task["lastStatus"] == "STOPPED"
    assert task["desiredStatus"] == "STOPPED"
    assert task["stopCode"] == "EssentialContainerExited"
    assert task["stoppedReason"] == "Essential container in task exited"
    assert task["containers"][0]["exitCode"] == 3
    assert task["startedBy"] == "ci"
    assert task["group"] == "family:app"
    for stamp in ("createdAt", "pullStartedAt", "startedAt", "stoppingAt", "stoppedAt", "executionStoppedAt"):
        assert stamp in task
    assert task["createdAt"] <= task["startedAt"] <= task["stoppedAt"]
    assert sandbox.task(arn).history == ("PROVISIONING", "PENDING", "RUNNING", "DEACTIVATING", "STOPPING", "STOPPED")
    stopped_at = sandbox.stopped_at(arn)
    assert stopped_at is not None
    assert stopped_at <= time.monotonic()
    assert sandbox.running_tasks() == []


def test_two_containers_keep_their_own_exit_codes_and_essential_flags(sandbox: Sandbox, ecs: Any) -> None:
    sandbox.register(
        "pair",
        [Container("app", essential=True), Container("sidecar", essential=False)],
        Scripted(steps=FAST, containers={"app": ContainerScript(0), "sidecar": ContainerScript(137)}),
    )
    arn = start_task(ecs, "pair")
    sandbox.wait_for_status(arn, "STOPPED")
    containers = {c["name"]: c for c in describe_task(ecs, arn)["containers"]}
    assert containers["app"]["exitCode"] == 0
    assert containers["sidecar"]["exitCode"] == 137
    assert {c.name: c.essential for c in sandbox.task(arn).containers} == {"app": True, "sidecar": False}


def test_a_container_that_never_ran_has_a_reason_and_no_exit_code(sandbox: Sandbox, ecs: Any) -> None:
    reason = "CannotPullContainerError: pull image manifest has been retried 5 time(s)"
    sandbox.register(
        "nopull",
        [Container("web")],
        Scripted(
            steps=[Step("PROVISIONING", 0.05), Step("PENDING", 0.1)],
            containers={"web": ContainerScript(exit_code=None, reason=reason)},
            stop_code="TaskFailedToStart",
            stopped_reason="CannotPullContainerError: failed to pull",
        ),
    )
    arn = start_task(ecs, "nopull")
    sandbox.wait_for_status(arn, "STOPPED")
    task = describe_task(ecs, arn)
    assert task["stopCode"] == "TaskFailedToStart"
    assert "exitCode" not in task["containers"][0]
    assert task["containers"][0]["reason"] == reason
    assert "RUNNING" not in sandbox.task(arn).history


def test_stop_task_stops_a_task_held_running(sandbox: Sandbox, ecs: Any) -> None:
    sandbox.register("forever", [Container("web")], Scripted(steps=[Step("PENDING", 0.05), Step("RUNNING", HOLD)]))
    arn = start_task(ecs, "forever")
    sandbox.wait_for_status(arn, "RUNNING")
    answer = ecs.stop_task(cluster="Sample", task=arn, reason="cancelled by CI")["task"]
    assert answer["desiredStatus"] == "STOPPED"
    sandbox.wait_for_status(arn, "STOPPED", timeout=5)
    task = describe_task(ecs, arn)
    assert task["stopCode"] == "UserInitiated"
    assert task["stoppedReason"] == "cancelled by CI"
    assert task["containers"][0]["exitCode"] == 143
    assert "STOPPING" in sandbox.task(arn).history


def test_unknown_states_are_played_as_given(sandbox: Sandbox, ecs: Any) -> None:
    sandbox.register("weird", [Container("web")], Scripted(steps=[Step("WEIRD", HOLD)]))
    arn = start_task(ecs, "weird")
    sandbox.wait_for_status(arn, "WEIRD")
    assert describe_task(ecs, arn)["lastStatus"] == "WEIRD"
    ecs.stop_task(cluster="Sample", task=arn)
    sandbox.wait_for_status(arn, "STOPPED")
    assert describe_task(ecs, arn)["stoppedReason"] == "Task stopped by user"


def test_log_lines_appear_after_running_and_late_lines_after_stopped(sandbox: Sandbox, ecs: Any) -> None:
    sandbox.register(
        "chatty",
        [Container("web")],
        Scripted(
            steps=[Step("PENDING", HOLD), Step("RUNNING", 0.1)],
            containers={"web": ContainerScript(0, lines=[(0.0, "one"), (0.05, "two"), (0.5, "late")])},
        ),
        log_group="/ecs/chatty",
    )
    logs = client(sandbox, "logs")
    arn = start_task(ecs, "chatty")
    stream = f"chatty/web/{arn.rsplit('/', 1)[-1]}"
    with pytest.raises(ClientError) as info:
        logs.get_log_events(logGroupName="/ecs/chatty", logStreamName=stream, startFromHead=True)
    assert info.value.response["Error"]["Code"] == "ResourceNotFoundException"
    sandbox.advance(arn)  # PENDING was held so the check above cannot race the stream's creation
    sandbox.wait_for_status(arn, "STOPPED")
    assert "late" not in sandbox.log_lines(arn, "web")
    assert sandbox.wait_for_log_lines(arn, "web", 3) == ["one", "two", "late"]
    events = logs.get_log_events(logGroupName="/ecs/chatty", logStreamName=stream, startFromHead=True)["events"]
    assert [e["message"] for e in events] == ["one", "two", "late"]
    stamps = [e["timestamp"] for e in events]
    assert stamps == sorted(set(stamps))


def test_a_bulk_of_lines_is_written_in_order(sandbox: Sandbox, ecs: Any) -> None:
    lines = [(0.0, f"line {i}") for i in range(100_000)]
    sandbox.register(
        "bulk", [Container("web")], Scripted(steps=FAST, containers={"web": ContainerScript(0, lines=lines)})
    )
    arn = start_task(ecs, "bulk")
    got = sandbox.wait_for_log_lines(arn, "web", 100_000)
    assert got[0] == "line 0"
    assert got[-1] == "line 99999"


def test_run_locally_runs_the_override_command_and_keeps_its_output(sandbox: Sandbox, ecs: Any) -> None:
    sandbox.register("local", [Container("app", command=["sh", "-c", "exit 0"])], RunLocally())
    arn = start_task(
        ecs,
        "local",
        overrides={
            "containerOverrides": [
                {
                    "name": "app",
                    "command": ["sh", "-c", 'echo "hello $WHO"; echo oops >&2; exit 7'],
                    "environment": [{"name": "WHO", "value": "ci"}],
                }
            ]
        },
    )
    sandbox.wait_for_status(arn, "STOPPED")
    task = describe_task(ecs, arn)
    assert task["containers"][0]["exitCode"] == 7
    assert task["stopCode"] == "EssentialContainerExited"
    assert sandbox.log_lines(arn, "app") == ["hello ci", "oops"]


def test_stop_task_terminates_a_local_process(sandbox: Sandbox, ecs: Any) -> None:
    sandbox.register("sleepy", [Container("app", command=["sh", "-c", "echo started; sleep 30"])], RunLocally())
    arn = start_task(ecs, "sleepy")
    sandbox.wait_for_log_lines(arn, "app", 1)
    ecs.stop_task(cluster="Sample", task=arn)
    sandbox.wait_for_status(arn, "STOPPED", timeout=5)
    task = describe_task(ecs, arn)
    assert task["stopCode"] == "UserInitiated"
    assert task["containers"][0]["exitCode"] == 143


def test_calls_are_recorded_without_the_sandbox_own_setup(sandbox: Sandbox, ecs: Any) -> None:
    sandbox.register("app", [Container("web")], Scripted(steps=FAST))
    arn = start_task(ecs, "app", count=1)
    describe_task(ecs, arn)
    assert [c.name for c in sandbox.calls()] == ["RunTask", "DescribeTasks"]
    (body,) = sandbox.calls("RunTask")
    assert body.pop("clientToken")  # botocore fills one per call: RunTask is idempotent
    assert body == {"cluster": "Sample", "taskDefinition": "app", "count": 1}
    assert sandbox.calls("DescribeTasks")[0]["tasks"] == [arn]


def test_throttling_is_answered_and_retried_by_botocore(sandbox: Sandbox) -> None:
    sandbox.faults.throttle("ListClusters", every=2)
    ecs = client(sandbox, "ecs", retries={"mode": "standard", "max_attempts": 3})
    ecs.list_clusters()
    ecs.list_clusters()  # the second call is throttled once, then retried
    assert [c.fault for c in sandbox.call_log("ListClusters")] == [None, "throttle", None]
    no_retry = client(sandbox, "ecs", retries={"mode": "standard", "total_max_attempts": 1})
    with pytest.raises(ClientError) as info:
        no_retry.list_clusters()  # the 4th ListClusters: throttled, and not retried
    assert info.value.response["Error"]["Code"] == "ThrottlingException"


def test_error_bursts_and_dropped_connections_are_retried(sandbox: Sandbox) -> None:
    sandbox.faults.error_burst("ListClusters", 1, status=503)
    sandbox.faults.drop("ListClusters")
    ecs = client(sandbox, "ecs", retries={"mode": "standard", "max_attempts": 4})
    ecs.list_clusters()
    assert [c.fault for c in sandbox.call_log("ListClusters")] == ["drop", "error", None]


def test_latency_is_added_to_every_call(sandbox: Sandbox, ecs: Any) -> None:
    sandbox.faults.latency(0.1)
    started = time.monotonic()
    ecs.list_clusters()
    assert time.monotonic() - started >= 0.1


def test_run_task_can_answer_with_failures(sandbox: Sandbox, ecs: Any) -> None:
    sandbox.register("app", [Container("web")], Scripted(steps=FAST))
    sandbox.fail_run_task(reason="RESOURCE:MEMORY")
    answer = ecs.run_task(cluster="Sample", taskDefinition="app")
    assert answer["tasks"] == []
    assert answer["failures"][0]["reason"] == "RESOURCE:MEMORY"
    assert sandbox.tasks() == []
    start_task(ecs, "app")  # only the next RunTask fails


def test_a_new_task_can_be_missing_for_its_first_describes(sandbox: Sandbox, ecs: Any) -> None:
    sandbox.register("app", [Container("web")], Scripted(steps=FAST))
    sandbox.missing_after_run(2)
    arn = start_task(ecs, "app")
    for _ in range(2):
        answer = ecs.describe_tasks(cluster="Sample", tasks=[arn])
        assert answer["tasks"] == []
        assert answer["failures"] == [{"arn": arn, "reason": "MISSING"}]
    assert ecs.describe_tasks(cluster="Sample", tasks=[arn])["tasks"][0]["taskArn"] == arn


def test_awsvpc_fargate_tasks_run_in_the_sandbox_network(sandbox: Sandbox, ecs: Any) -> None:
    subnets, groups = sandbox.create_network()
    sandbox.register("vpc", [Container("web")], Scripted(steps=FAST), network_mode="awsvpc", fargate=True)
    arn = start_task(
        ecs,
        "vpc",
        launchType="FARGATE",
        networkConfiguration={"awsvpcConfiguration": {"subnets": subnets, "securityGroups": groups}},
    )
    sandbox.wait_for_status(arn, "STOPPED")
    task = describe_task(ecs, arn)
    assert task["launchType"] == "FARGATE"
    assert task["attachments"][0]["type"] == "ElasticNetworkInterface"


def test_unknown_tasks_are_missing_and_cannot_be_stopped(sandbox: Sandbox, ecs: Any) -> None:
    assert ecs.describe_tasks(cluster="Sample", tasks=["nope"])["failures"] == [{"arn": "nope", "reason": "MISSING"}]
    with pytest.raises(ClientError) as info:
        ecs.stop_task(cluster="Sample", task="nope")
    assert info.value.response["Error"]["Code"] == "InvalidParameterException"
