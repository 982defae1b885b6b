"""The sandbox plays ECS's stop sequence, seen through a plain boto3 client as the tool sees it.

An essential container's exit (or StopTask) sets desiredStatus and stopCode at once, while lastStatus stays
RUNNING; the other containers take SIGTERM (their own delay, or SIGKILL at the stop timeout); then
executionStoppedAt, the teardown states, STOPPED. A non-essential container's exit stops nothing.
"""

from __future__ import annotations

from typing import Any

import pytest

from sandbox import (
    FARGATE_TEARDOWN,
    HOLD,
    NEVER,
    Container,
    ContainerScript,
    RunLocally,
    Sandbox,
    Scripted,
    Step,
    Teardown,
)
from tests.helpers import describe_task, start_task

TEARDOWN = ("DEACTIVATING", "STOPPING", "DEPROVISIONING", "STOPPED")
HELD = [Step("PROVISIONING", 0.02), Step("RUNNING", HOLD)]  # the containers' own exits end the task
SHORT = Teardown(deactivating=0.05, stopping=0.05, deprovisioning=0.05)


def containers(task: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["name"]: c for c in task["containers"]}


def test_an_essential_exit_stops_the_task_at_once_and_its_sidecars_take_sigterm(sandbox: Sandbox, ecs: Any) -> None:
    sandbox.register(
        "app",
        [Container("app"), Container("envoy", essential=False), Container("logger", essential=False)],
        Scripted(
            steps=HELD,
            containers={
                "app": ContainerScript(exit_code=3, exits_after=0.05),
                "envoy": ContainerScript(exits_after=NEVER, sigterm_delay=NEVER),  # ignores SIGTERM
                "logger": ContainerScript(exits_after=NEVER, sigterm_delay=0.1, sigterm_exit_code=0),
            },
            stop_timeout=0.6,
            teardown=SHORT,
        ),
    )
    arn = start_task(ecs, "app")
    sandbox.wait_for_container_status(arn, "app", "STOPPED")
    task = describe_task(ecs, arn)  # envoy holds the task RUNNING for the 0.6 s stop timeout
    assert (task["lastStatus"], task["desiredStatus"]) == ("RUNNING", "STOPPED")
    assert (task["stopCode"], task["stoppedReason"]) == (
        "EssentialContainerExited",
        "Essential container in task exited",
    )
    assert (containers(task)["app"]["lastStatus"], containers(task)["app"]["exitCode"]) == ("STOPPED", 3)
    assert containers(task)["envoy"]["lastStatus"] == "RUNNING"
    assert "exitCode" not in containers(task)["envoy"]
    assert "executionStoppedAt" not in task
    assert "stoppingAt" not in task

    sandbox.wait_for_status(arn, "STOPPED")
    view = sandbox.task(arn)
    app, envoy, logger = (view.container(name) for name in ("app", "envoy", "logger"))
    assert (app.exit_code, logger.exit_code, envoy.exit_code) == (3, 0, 137)
    assert view.stop_decided_at is not None
    assert app.stopped_at is not None
    assert logger.stopped_at is not None
    assert envoy.stopped_at is not None
    assert app.stopped_at <= view.stop_decided_at
    assert 0.1 <= logger.stopped_at - view.stop_decided_at < 0.6  # its own delay after SIGTERM
    assert envoy.stopped_at - view.stop_decided_at >= 0.6  # SIGKILL at the stop timeout
    assert view.execution_stopped_at is not None
    assert view.execution_stopped_at >= envoy.stopped_at
    assert view.history == ("PROVISIONING", "RUNNING", *TEARDOWN)
    since = {state: view.entered[state] - view.execution_stopped_at for state in TEARDOWN}
    assert 0 <= since["DEACTIVATING"] <= since["STOPPING"] <= since["DEPROVISIONING"] <= since["STOPPED"]
    assert since["STOPPING"] >= 0.05  # each state lasts its Teardown seconds, timed from the walk's start
    assert since["DEPROVISIONING"] >= 0.1
    assert since["STOPPED"] >= 0.15

    final = describe_task(ecs, arn)
    assert final["stopCode"] == "EssentialContainerExited"  # the sidecars' ends change nothing
    assert {n: c["exitCode"] for n, c in containers(final).items()} == {"app": 3, "envoy": 137, "logger": 0}
    assert final["startedAt"] <= final["executionStoppedAt"] <= final["stoppingAt"] <= final["stoppedAt"]


def test_a_non_essential_exit_leaves_the_task_running(sandbox: Sandbox, ecs: Any) -> None:
    sandbox.register(
        "app",
        [Container("server"), Container("migrate", essential=False)],
        Scripted(
            steps=HELD,
            containers={
                "server": ContainerScript(exits_after=NEVER),
                "migrate": ContainerScript(exit_code=5, exits_after=0.05),
            },
        ),
    )
    arn = start_task(ecs, "app")
    sandbox.wait_for_container_status(arn, "migrate", "STOPPED")
    task = describe_task(ecs, arn)
    assert (task["lastStatus"], task["desiredStatus"]) == ("RUNNING", "RUNNING")
    assert "stopCode" not in task
    assert (containers(task)["migrate"]["lastStatus"], containers(task)["migrate"]["exitCode"]) == ("STOPPED", 5)
    assert containers(task)["server"]["lastStatus"] == "RUNNING"

    ecs.stop_task(cluster="Sample", task=arn, reason="done")
    sandbox.wait_for_status(arn, "STOPPED")
    final = describe_task(ecs, arn)
    assert (final["stopCode"], final["stoppedReason"]) == ("UserInitiated", "done")
    assert {n: c["exitCode"] for n, c in containers(final).items()} == {"server": 143, "migrate": 5}


def test_stop_task_plays_the_same_sequence(sandbox: Sandbox, ecs: Any) -> None:
    sandbox.register(
        "app",
        [Container("web"), Container("envoy")],
        Scripted(
            steps=HELD,
            containers={
                "web": ContainerScript(exits_after=NEVER, sigterm_delay=0.1, sigterm_exit_code=0),
                "envoy": ContainerScript(exits_after=NEVER, sigterm_delay=NEVER),
            },
            stop_timeout=0.5,
            teardown=SHORT,
        ),
    )
    arn = start_task(ecs, "app")
    sandbox.wait_for_status(arn, "RUNNING")
    answer = ecs.stop_task(cluster="Sample", task=arn, reason="cancelled by CI")["task"]
    assert (answer["lastStatus"], answer["desiredStatus"]) == ("RUNNING", "STOPPED")
    assert (answer["stopCode"], answer["stoppedReason"]) == ("UserInitiated", "cancelled by CI")
    again = ecs.stop_task(cluster="Sample", task=arn, reason="cancelled twice")["task"]
    assert again["stoppedReason"] == "cancelled by CI"  # a task already stopping keeps its reason

    sandbox.wait_for_status(arn, "STOPPED")
    view = sandbox.task(arn)
    web, envoy = view.container("web"), view.container("envoy")
    assert (web.exit_code, envoy.exit_code) == (0, 137)
    assert view.stop_decided_at is not None
    assert web.stopped_at is not None
    assert envoy.stopped_at is not None
    assert 0.1 <= web.stopped_at - view.stop_decided_at < 0.5
    assert envoy.stopped_at - view.stop_decided_at >= 0.5
    assert view.execution_stopped_at is not None
    assert view.execution_stopped_at >= envoy.stopped_at
    assert view.history == ("PROVISIONING", "RUNNING", *TEARDOWN)


def test_containers_without_a_time_of_their_own_exit_together_at_the_end_of_running(sandbox: Sandbox, ecs: Any) -> None:
    """The scripts written before the stop sequence keep their meaning."""
    sandbox.register(
        "app",
        [Container("app"), Container("early", essential=False), Container("late", essential=False)],
        Scripted(
            steps=[Step("PROVISIONING", 0.02), Step("RUNNING", 0.2)],
            containers={
                "app": ContainerScript(exit_code=2),
                "early": ContainerScript(exit_code=0, exits_after=0.02),
                "late": ContainerScript(exit_code=0, exits_after=5.0),  # still running: it takes SIGTERM
            },
        ),
    )
    arn = start_task(ecs, "app")
    sandbox.wait_for_status(arn, "STOPPED")
    view = sandbox.task(arn)
    app, early = view.container("app"), view.container("early")
    assert {c.name: c.exit_code for c in view.containers} == {"app": 2, "early": 0, "late": 143}
    assert app.stopped_at is not None
    assert early.stopped_at is not None
    assert early.stopped_at < app.stopped_at
    assert app.stopped_at - view.entered["PROVISIONING"] >= 0.02 + 0.2  # steps are timed from the walk's start
    assert view.history == ("PROVISIONING", "RUNNING", *TEARDOWN)  # TEST_TEARDOWN: none in the script


def test_steps_after_running_are_the_teardown(sandbox: Sandbox, ecs: Any) -> None:
    sandbox.register("app", [Container("web")], Scripted(steps=[Step("RUNNING", 0.05), Step("STOPPING", 0.05)]))
    arn = start_task(ecs, "app")
    sandbox.wait_for_status(arn, "STOPPED")
    view = sandbox.task(arn)
    assert view.history == ("PROVISIONING", "RUNNING", "STOPPING", "STOPPED")
    assert view.execution_stopped_at is not None
    assert view.entered["STOPPED"] - view.execution_stopped_at >= 0.05
    with pytest.raises(ValueError, match="not both"):
        Scripted(steps=[Step("RUNNING", 0.05), Step("DEPROVISIONING", 0.05)], teardown=SHORT)
    fargate = Scripted(teardown=FARGATE_TEARDOWN)  # default_steps()'s DEPROVISIONING gives way
    assert [s.state for s in fargate.life()] == ["PROVISIONING", "PENDING", "RUNNING"]
    assert fargate.teardown_steps() == [
        Step("DEACTIVATING", 0.5),
        Step("STOPPING", 1.0),
        Step("DEPROVISIONING", 20.0),
    ]


def test_a_stop_delay_replaces_the_teardown_of_a_stopped_task(sandbox: Sandbox, ecs: Any) -> None:
    sandbox.register("app", [Container("web")], Scripted(steps=HELD, teardown=SHORT))
    sandbox.set_stop_delay(0.1)
    arn = start_task(ecs, "app")
    sandbox.wait_for_status(arn, "RUNNING")
    ecs.stop_task(cluster="Sample", task=arn)
    sandbox.wait_for_status(arn, "STOPPED")
    view = sandbox.task(arn)
    assert view.history == ("PROVISIONING", "RUNNING", "STOPPING", "STOPPED")
    assert view.stopped_at is not None
    assert view.stop_decided_at is not None
    assert view.stopped_at - view.stop_decided_at >= 0.1


def test_a_local_process_exit_plays_the_teardown(sandbox: Sandbox, ecs: Any) -> None:
    sandbox.register("local", [Container("app", command=["sh", "-c", "exit 4"])], RunLocally(teardown=SHORT))
    arn = start_task(ecs, "local")
    sandbox.wait_for_status(arn, "STOPPED")
    view = sandbox.task(arn)
    assert view.history == ("PROVISIONING", "PENDING", "RUNNING", *TEARDOWN)
    assert view.container("app").exit_code == 4
    assert view.stop_code == "EssentialContainerExited"
    assert "executionStoppedAt" in describe_task(ecs, arn)


def test_a_local_process_ignoring_sigterm_is_killed_at_the_stop_timeout(sandbox: Sandbox, ecs: Any) -> None:
    command = ["sh", "-c", "trap '' TERM; echo started; sleep 30"]  # sleep inherits the ignored SIGTERM
    sandbox.register("stubborn", [Container("app", command=command)], RunLocally(stop_timeout=0.3))
    arn = start_task(ecs, "stubborn")
    sandbox.wait_for_log_lines(arn, "app", 1)
    ecs.stop_task(cluster="Sample", task=arn)
    app = sandbox.wait_for_container_status(arn, "app", "STOPPED")
    decided = sandbox.task(arn).stop_decided_at
    assert decided is not None
    assert app.stopped_at is not None
    assert app.exit_code == 137
    assert app.stopped_at - decided >= 0.3
    sandbox.wait_for_status(arn, "STOPPED")
