"""The sandbox plays AWS as it really behaves: eventually consistent answers (`sb.consistency`), lines CloudWatch shows
late, and tasks stopped from outside (`OutsideStop`, `sb.stop_from_outside`), seen through plain boto3 clients as the
tool and other pipelines see them.

A knob about elapsed time is asserted around its time: never before it (the sandbox keeps it to the millisecond), and
within SLACK after it (what a loaded 2-core machine may add to a poll).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

import pytest
from botocore.exceptions import ClientError

from sandbox import (
    HOLD,
    NEVER,
    OUTSIDE_REASONS,
    Consistency,
    Container,
    ContainerScript,
    OutsideStop,
    Sandbox,
    Scripted,
    Step,
    Teardown,
)
from tests.helpers import describe_task, start_task

HELD = [Step("PROVISIONING", 0.02), Step("RUNNING", HOLD)]  # runs until stopped
SHORT = Teardown(deactivating=0.05, stopping=0.05, deprovisioning=0.05)
SLACK = 1.5  # seconds a loaded machine may add between the sandbox's moment and a poll seeing it
UNDESCRIBABLE = {"Code": "ClientException", "Message": "Unable to describe task definition."}

T = TypeVar("T")


def first_time(ask: Callable[[], T], holds: Callable[[T], bool], timeout: float = 10.0) -> tuple[T, float]:
    """Ask every 50 ms, as a client polling would, until the answer holds: that answer and when it came back."""
    deadline = time.monotonic() + timeout
    while True:
        answer = ask()
        at = time.monotonic()
        if holds(answer):
            return answer, at
        assert at < deadline, f"still {answer!r} after {timeout}s"
        time.sleep(0.05)


def sleep_until(moment: float) -> None:
    """For a knob about elapsed time: be at `moment` (time.monotonic())."""
    time.sleep(max(0.0, moment - time.monotonic()))


def missing(arn: str) -> dict[str, Any]:
    return {"tasks": [], "failures": [{"arn": arn, "reason": "MISSING"}]}


def described(client: Any, arn: str) -> dict[str, Any]:
    answer = client.describe_tasks(cluster="Sample", tasks=[arn])
    return {"tasks": answer["tasks"], "failures": answer["failures"]}


def refusal(call: Callable[[], Any]) -> dict[str, str]:
    with pytest.raises(ClientError) as info:
        call()
    error = info.value.response["Error"]
    return {"Code": error["Code"], "Message": error["Message"]}


def containers(task: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["name"]: c for c in task["containers"]}


# -- ListTasks lag ---------------------------------------------------------------------------------------------------
def test_list_tasks_leaves_out_a_task_created_within_the_lag_whatever_the_filter(sandbox: Sandbox, ecs: Any) -> None:
    sandbox.register("app", [Container("web")], Scripted(steps=HELD))
    sandbox.consistency.list_lag = 2.0
    filters: list[dict[str, str]] = [{}, {"family": "app"}, {"startedBy": "pipeline-1"}, {"desiredStatus": "RUNNING"}]

    def listed(by: dict[str, str]) -> list[str]:
        return list(ecs.list_tasks(cluster="Sample", **by)["taskArns"])

    before = time.monotonic()
    arn = start_task(ecs, "app", startedBy="pipeline-1")
    after = time.monotonic()
    sleep_until(after + 0.5)
    lists = [listed(by) for by in filters]
    assert time.monotonic() < before + 2.0  # asked within the lag
    assert lists == [[], [], [], []]
    assert described(ecs, arn)["tasks"][0]["lastStatus"] == "RUNNING"  # only the list lags

    _, at = first_time(lambda: listed({}), bool)
    assert before + 2.0 <= at < after + 2.0 + SLACK
    assert [listed(by) for by in filters] == [[arn], [arn], [arn], [arn]]


# -- DescribeTasks MISSING -------------------------------------------------------------------------------------------
def test_a_new_task_is_missing_for_its_first_describes_whoever_asks(sandbox: Sandbox, ecs: Any) -> None:
    sandbox.register("app", [Container("web")], Scripted(steps=HELD))
    sandbox.consistency.missing_describes = 2
    other = sandbox.client("ecs")  # another pipeline, which finds the task by listing
    arn = start_task(ecs, "app")
    assert other.list_tasks(cluster="Sample", family="app")["taskArns"] == [arn]
    assert described(ecs, arn) == missing(arn)  # the starter's describe counts...
    assert described(other, arn) == missing(arn)  # ...and so does the other pipeline's
    assert described(other, arn)["tasks"][0]["taskArn"] == arn
    assert described(ecs, arn)["tasks"][0]["taskArn"] == arn
    assert sandbox.missing_served() == 2


def test_a_task_listed_already_can_be_missing_for_its_next_describes(sandbox: Sandbox, ecs: Any) -> None:
    sandbox.register("app", [Container("web")], Scripted(steps=HELD))
    arn = start_task(ecs, "app")
    assert described(ecs, arn)["failures"] == []
    assert ecs.list_tasks(cluster="Sample")["taskArns"] == [arn]
    sandbox.missing(arn, 2)
    assert [described(ecs, arn) for _ in range(2)] == [missing(arn), missing(arn)]
    assert described(ecs, arn)["tasks"][0]["taskArn"] == arn


def test_a_task_just_listed_can_still_be_missing_for_a_while(sandbox: Sandbox, ecs: Any) -> None:
    sandbox.register("app", [Container("web")], Scripted(steps=HELD))
    sandbox.consistency.list_lag = 1.0
    sandbox.consistency.missing_for = 2.5
    before = time.monotonic()
    arn = start_task(ecs, "app")
    after = time.monotonic()
    _, listed_at = first_time(lambda: ecs.list_tasks(cluster="Sample")["taskArns"], bool)
    assert before + 1.0 <= listed_at < after + 1.0 + SLACK
    assert described(ecs, arn) == missing(arn)  # listed, and not describable yet
    assert time.monotonic() < before + 2.5
    _, found_at = first_time(lambda: described(ecs, arn)["tasks"], bool)
    assert before + 2.5 <= found_at < after + 2.5 + SLACK
    assert sandbox.missing_served() >= 1


# -- a revision just registered --------------------------------------------------------------------------------------
def _describable(ecs: Any, arn: str) -> bool:
    try:
        ecs.describe_task_definition(taskDefinition=arn)
    except ClientError as e:
        if e.response["Error"]["Message"] != UNDESCRIBABLE["Message"]:
            raise
        return False
    return True


def test_a_revision_just_registered_is_not_describable_nor_runnable_for_a_while(sandbox: Sandbox, ecs: Any) -> None:
    sandbox.register("app", [Container("web")], Scripted(steps=HELD))  # revision 1, registered long ago
    sandbox.consistency.revision_lag = 2.0
    definitions = [{"name": "web", "image": "acme/app:2", "memory": 128}]
    before = time.monotonic()
    rev2 = ecs.register_task_definition(family="app", containerDefinitions=definitions)["taskDefinition"]
    after = time.monotonic()
    fresh = ecs.register_task_definition(family="fresh", containerDefinitions=definitions)["taskDefinition"]
    arn = rev2["taskDefinitionArn"]
    assert rev2["revision"] == 2
    assert refusal(lambda: ecs.describe_task_definition(taskDefinition=arn)) == UNDESCRIBABLE
    assert refusal(lambda: ecs.describe_task_definition(taskDefinition="app:2")) == UNDESCRIBABLE
    assert refusal(lambda: ecs.run_task(cluster="Sample", taskDefinition=arn)) == UNDESCRIBABLE
    assert refusal(lambda: ecs.run_task(cluster="Sample", taskDefinition="fresh")) == UNDESCRIBABLE
    assert fresh["revision"] == 1
    # a bare family means its latest revision ECS can describe: the previous one, for now
    assert ecs.describe_task_definition(taskDefinition="app")["taskDefinition"]["revision"] == 1
    older = start_task(ecs, "app")
    assert described(ecs, older)["tasks"][0]["taskDefinitionArn"].endswith("/app:1")
    assert time.monotonic() < before + 2.0  # everything above was asked within the lag

    _, at = first_time(lambda: _describable(ecs, arn), bool)
    assert before + 2.0 <= at < after + 2.0 + SLACK
    answer = ecs.run_task(cluster="Sample", taskDefinition=arn)
    assert answer["tasks"][0]["taskDefinitionArn"] == arn
    assert ecs.describe_task_definition(taskDefinition="app")["taskDefinition"]["revision"] == 2


# -- log lines visible late ------------------------------------------------------------------------------------------
def test_a_line_shows_up_late_with_its_own_timestamp_after_the_forward_token(sandbox: Sandbox, ecs: Any) -> None:
    sandbox.register(
        "chatty",
        [Container("web")],
        Scripted(steps=HELD, containers={"web": ContainerScript(lines=[(0.0, "first"), (1.0, "second")])}),
        log_group="/ecs/chatty",
    )
    sandbox.consistency.log_lag = 3.0
    logs = sandbox.client("logs")
    arn = start_task(ecs, "chatty")
    stream = {"logGroupName": "/ecs/chatty", "logStreamName": f"chatty/web/{arn.rsplit('/', 1)[-1]}"}
    sandbox.wait_until("the first line written", lambda: sandbox.log_lines(arn, "web", written=True) == ["first"])
    written = time.monotonic()

    page = logs.get_log_events(**stream, startFromHead=True)  # the stream exists at once: the driver created it
    assert page["events"] == []
    sleep_until(written + 1.0)
    asked_ms = int(time.time() * 1000)
    page = logs.get_log_events(**stream, startFromHead=True, nextToken=page["nextForwardToken"])
    assert page["events"] == []  # caught up: nothing visible a second after the line was written
    assert logs.filter_log_events(logGroupName="/ecs/chatty")["events"] == []
    assert sandbox.log_lines(arn, "web") == []

    sandbox.wait_for_log_lines(arn, "web", 1)
    assert 3.0 - 0.5 <= time.monotonic() - written < 3.0 + SLACK
    page = logs.get_log_events(**stream, startFromHead=True, nextToken=page["nextForwardToken"])
    (first,) = page["events"]  # after the token of the read that came before it showed
    assert first["message"] == "first"
    assert first["timestamp"] < asked_ms < first["ingestionTime"]  # written before that read, shown after it
    assert 3000 - 10 <= first["ingestionTime"] - first["timestamp"] < 3000 + SLACK * 1000
    (found,) = logs.filter_log_events(logGroupName="/ecs/chatty")["events"]
    assert (found["message"], found["timestamp"]) == ("first", first["timestamp"])

    sandbox.wait_for_log_lines(arn, "web", 2)
    page = logs.get_log_events(**stream, startFromHead=True, nextToken=page["nextForwardToken"])
    assert [e["message"] for e in page["events"]] == ["second"]  # no line twice, none skipped
    second = page["events"][0]
    assert 3000 - 10 <= second["ingestionTime"] - second["timestamp"] < 3000 + SLACK * 1000
    assert 1000 - 10 <= second["timestamp"] - first["timestamp"] < 1000 + SLACK * 1000


LAST_LINES = ["ERROR: relation users already exists", "rake aborted!"]


def test_the_last_lines_show_up_after_the_task_stopped(sandbox: Sandbox, ecs: Any) -> None:
    lines = [(0.0, LAST_LINES[0]), (0.05, LAST_LINES[1])]
    script = ContainerScript(1, lines=lines, exits_after=0.1)
    sandbox.register("migrate", [Container("web")], Scripted(steps=HELD, containers={"web": script}, teardown=SHORT),
                     log_group="/ecs/migrate")  # fmt: skip
    sandbox.consistency.log_lag = 2.0
    arn = start_task(ecs, "migrate")
    sandbox.wait_for_status(arn, "STOPPED")
    task = describe_task(ecs, arn)
    assert task["containers"][0]["exitCode"] == 1
    assert sandbox.log_lines(arn, "web") == []
    assert sandbox.log_lines(arn, "web", written=True) == LAST_LINES
    assert sandbox.wait_for_log_lines(arn, "web", 2) == LAST_LINES
    events = sandbox.client("logs").get_log_events(
        logGroupName="/ecs/migrate", logStreamName=f"migrate/web/{arn.rsplit('/', 1)[-1]}", startFromHead=True
    )["events"]
    assert [e["message"] for e in events] == LAST_LINES
    stopped_ms = task["stoppedAt"].timestamp() * 1000
    assert all(e["timestamp"] < stopped_ms < e["ingestionTime"] for e in events)


# -- stopped from outside --------------------------------------------------------------------------------------------
def test_a_spot_interruption_at_a_chosen_moment_plays_the_stop_sequence(sandbox: Sandbox, ecs: Any) -> None:
    sandbox.register(
        "migrate",
        [Container("app"), Container("envoy", essential=False)],
        Scripted(
            steps=HELD,
            containers={
                "app": ContainerScript(exits_after=NEVER, sigterm_delay=0.1, sigterm_exit_code=0),  # exits 0 on SIGTERM
                "envoy": ContainerScript(exits_after=NEVER, sigterm_delay=NEVER),  # ignores it: SIGKILL
            },
            stop_timeout=2.0,
            teardown=SHORT,
            outside_stop=OutsideStop(after=1.0, stop_code="SpotInterruption"),
        ),
    )
    arn = start_task(ecs, "migrate")
    sandbox.wait_for_container_status(arn, "app", "STOPPED", timeout=10)
    task = describe_task(ecs, arn)  # envoy holds the task RUNNING until its SIGKILL
    assert (task["lastStatus"], task["desiredStatus"]) == ("RUNNING", "STOPPED")
    assert (task["stopCode"], task["stoppedReason"]) == ("SpotInterruption", "Your Spot Task was interrupted.")
    assert containers(task)["app"]["exitCode"] == 0
    assert containers(task)["envoy"]["lastStatus"] == "RUNNING"

    sandbox.wait_for_status(arn, "STOPPED")
    task = describe_task(ecs, arn)
    assert (task["stopCode"], containers(task)["app"]["exitCode"], containers(task)["envoy"]["exitCode"]) == (
        "SpotInterruption",
        0,
        137,
    )
    view = sandbox.task(arn)
    assert view.stop_decided_at is not None
    assert 1.0 <= view.stop_decided_at - view.entered["RUNNING"] < 1.0 + SLACK
    (request,) = sandbox.stops(arn)
    assert (request.by, request.stop_code, request.reason, request.applied) == (
        "outside",
        "SpotInterruption",
        "Your Spot Task was interrupted.",
        True,
    )
    assert sandbox.call_log("StopTask") == []  # nobody called StopTask
    assert [t.ran for t in sandbox.tasks()] == [True]


@pytest.mark.parametrize("stop_code", ["UserInitiated", "ServiceSchedulerInitiated", "TerminationNotice"])
def test_a_stop_from_outside_now_keeps_its_code_against_a_later_stop_task(
    sandbox: Sandbox, ecs: Any, stop_code: str
) -> None:
    sandbox.register("app", [Container("web")], Scripted(steps=HELD, teardown=SHORT))
    arn = start_task(ecs, "app")
    sandbox.wait_for_status(arn, "RUNNING")
    sandbox.stop_from_outside(arn, stop_code)
    ecs.stop_task(cluster="Sample", task=arn, reason="cancelled by CI")  # too late: ECS keeps the first stop code
    sandbox.wait_for_status(arn, "STOPPED")
    task = describe_task(ecs, arn)
    assert (task["desiredStatus"], task["stopCode"], task["stoppedReason"]) == (
        "STOPPED",
        stop_code,
        OUTSIDE_REASONS[stop_code],
    )
    assert task["containers"][0]["exitCode"] == 143  # SIGTERM, taken as most programs do
    assert [(r.by, r.stop_code, r.reason, r.applied) for r in sandbox.stops()] == [
        ("outside", stop_code, OUTSIDE_REASONS[stop_code], True),
        ("StopTask", "UserInitiated", "cancelled by CI", False),
    ]
    assert [c["reason"] for c in sandbox.calls("StopTask")] == ["cancelled by CI"]


def test_an_outside_stop_due_after_the_task_stopped_by_itself_does_nothing(sandbox: Sandbox, ecs: Any) -> None:
    sandbox.register(
        "app",
        [Container("web")],
        Scripted(
            steps=[Step("PROVISIONING", 0.02), Step("RUNNING", 0.1)],
            containers={"web": ContainerScript(4)},
            teardown=SHORT,
            outside_stop=OutsideStop(after=0.3, stop_code="UserInitiated", reason="stopped by a person"),
        ),
    )
    arn = start_task(ecs, "app")
    sandbox.wait_for_status(arn, "STOPPED")
    sleep_until(sandbox.task(arn).entered["RUNNING"] + 0.5)  # past the outside stop's moment
    task = describe_task(ecs, arn)
    assert (task["stopCode"], task["containers"][0]["exitCode"]) == ("EssentialContainerExited", 4)
    assert sandbox.stops() == []


def test_the_knobs_are_off_by_default(sandbox: Sandbox) -> None:
    assert sandbox.consistency == Consistency(list_lag=0, missing_describes=0, missing_for=0, revision_lag=0, log_lag=0)
