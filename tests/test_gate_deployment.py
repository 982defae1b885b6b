"""gate-deployment end to end, through the CLI against the sandbox's service deployments: the run waits for the
service's deployment to pause at its PAUSE hook, runs the task as the deployment's new revision runs, then answers
the hook: CONTINUE for a task that succeeded, ROLLBACK however else the run ended."""

from __future__ import annotations

import json
import signal
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from ecs_run_task import signal_budget
from ecs_run_task.cli import post_main
from sandbox import HOLD, Container, ContainerScript, DeploymentView, Sandbox, Scripted, Step
from tests.helpers import Ran, Run, outputs, register, spawn, steps
from tests.workflow_commands import file_command

SERVICE = "web"
GATE = ("--cluster", "Sample", "--service", SERVICE, "--gate-deployment", "--poll-interval", "100ms",
        "--log-drain", "500ms")  # fmt: skip
BUDGET = signal_budget.GONE_BY  # GitHub sends SIGINT, SIGTERM 7.5 s later, then SIGKILL
NOT_IN_IMAGE = ("CannotStartContainerError: Error response from daemon: failed to create shim task: OCI runtime create "
                'failed: unable to start container process: exec: "bin/rails": executable file not found in $PATH')  # fmt: skip
NEVER_STARTED = [Step("PROVISIONING", 0.05), Step("PENDING", 0.1), Step("DEPROVISIONING", 0.05)]


def gate(run: Run, tmp_path: Path, *args: str) -> tuple[Ran, dict[str, str]]:
    """`ecs-run-task --service web --gate-deployment ...` in this process; what it printed, its outputs."""
    dotenv = tmp_path / "out.env"
    ran = run(*GATE, "--dotenv", str(dotenv), *args)
    return ran, outputs(dotenv)


def revisions(sb: Sandbox, exit_code: int | None = 0, **behaviour: Any) -> tuple[str, str]:
    """Family `app`: app:1, which service web runs, and app:2, which its deployment deploys; their tasks print a
    line and exit `exit_code` (None: the container never runs)."""
    script = ContainerScript(exit_code, lines=[(0.0, "migrating")] if exit_code is not None else [],
                             reason=NOT_IN_IMAGE if exit_code is None else None)  # fmt: skip
    tds = [register(sb, Container("web", image=f"acme/web:{n}"), web=script, **behaviour) for n in (1, 2)]
    return tds[0], tds[1]


def running(sb: Sandbox, td: str, **options: Any) -> None:
    """Service web of cluster Sample runs `td`, with no deployment in progress."""
    arn = sb.deploy(SERVICE, td, cluster="Sample", pause_at=None, finish_after=0, **options)
    sb.wait_for_deployment(arn, lambda d: d.status == "SUCCESSFUL", what="SUCCESSFUL")


def deploying(sb: Sandbox, exit_code: int | None = 0, behaviour: dict[str, Any] | None = None,
              **deploy: Any) -> tuple[str, str, str]:  # fmt: skip
    """Service web running app:1, and a deployment of app:2 that pauses at POST_SCALE_UP: (its ARN, app:1, app:2)."""
    old, new = revisions(sb, exit_code, **(behaviour or {}))
    running(sb, old)
    return sb.deploy(SERVICE, new, cluster="Sample", **{"reach_after": 0.05, **deploy}), old, new


def ended(sb: Sandbox, arn: str) -> DeploymentView:
    done = ("SUCCESSFUL", "ROLLBACK_SUCCESSFUL")
    return sb.wait_for_deployment(arn, lambda d: d.status in done, what=" or ".join(done))


def answers(sb: Sandbox, arn: str) -> list[tuple[str, str, str, str | None]]:
    """What was done to the deployment's hooks: (hook, action, by ContinueServiceDeployment or timeout, error)."""
    return [(a.hook_id, a.action, a.by, a.error) for a in sb.deployment(arn).actions]


@pytest.fixture
def meanwhile() -> Iterator[Callable[[Callable[[], None]], None]]:
    """Do something on another thread while the CLI runs in this one (signals need the main thread)."""
    threads: list[threading.Thread] = []
    errors: list[BaseException] = []

    def start(action: Callable[[], None]) -> None:
        def guarded() -> None:
            try:
                action()
            except BaseException as e:
                errors.append(e)

        threads.append(threading.Thread(target=guarded, daemon=True))
        threads[-1].start()

    yield start
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []


def test_the_hook_reached_after_a_few_polls_is_continued_when_the_task_succeeds(
    sandbox: Sandbox, run: Run, tmp_path: Path, meanwhile: Callable[[Callable[[], None]], None]
) -> None:
    arn, _old, new = deploying(sandbox, reach_after=HOLD)

    def reach_after_three_polls() -> None:
        sandbox.wait_for_call("DescribeServiceDeployments", n=3, timeout=20)
        assert sandbox.calls("RunTask") == []  # nothing runs before the pause
        sandbox.reach(arn)

    meanwhile(reach_after_three_polls)
    ran, out = gate(run, tmp_path)
    assert ran.code == 0, ran.out
    hook = sandbox.deployment(arn).hook()
    assert answers(sandbox, arn) == [(hook.hook_id, "CONTINUE", "ContinueServiceDeployment", None)]
    assert sandbox.calls("ContinueServiceDeployment") == [
        {"serviceDeploymentArn": arn, "hookId": hook.hook_id, "action": "CONTINUE"}
    ]
    [run_task] = sandbox.call_log("RunTask")
    assert run_task.t > hook.reached_at  # at the pause, not before
    assert run_task.body["taskDefinition"] == new  # the deployment's new revision
    assert len(sandbox.calls("DescribeServiceDeployments")) >= 4
    assert (out["STATUS"], out["EXIT_CODE"], out["DEPLOYMENT_ACTION"]) == ("succeeded", "0", "CONTINUE")
    assert ended(sandbox, arn).status == "SUCCESSFUL"
    assert f"PAUSE hook {hook.hook_id} awaits action" in ran.out
    assert f"CONTINUE sent for PAUSE hook {hook.hook_id}" in ran.out
    assert "the deployment goes on (CONTINUE sent)" in ran.out


def test_a_deployment_started_after_the_run_is_waited_for_and_its_stages_are_said(
    sandbox: Sandbox, run: Run, tmp_path: Path, meanwhile: Callable[[Callable[[], None]], None]
) -> None:
    """The deploy job may start the deployment while the gate already waits (a parallel job)."""
    old, new = revisions(sandbox)
    running(sandbox, old)
    deployed: list[str] = []

    def deploy_later() -> None:
        sandbox.wait_for_call("ListServiceDeployments", n=2, timeout=20)
        deployed.append(sandbox.deploy(SERVICE, new, cluster="Sample", reach_after=0.5, strategy="BLUE_GREEN"))

    meanwhile(deploy_later)
    ran, out = gate(run, tmp_path)
    assert ran.code == 0, ran.out
    assert out["DEPLOYMENT_ACTION"] == "CONTINUE"
    assert "no deployment of service web is in progress yet: waiting for one" in ran.out
    said = [line.split("deployment stage: ", 1)[1] for line in ran.lines if "deployment stage: " in line]
    assert said[-1] == "POST_SCALE_UP"  # a blue/green deployment reports its stage: each one said once
    assert len(said) == len(set(said)) >= 2
    assert ended(sandbox, deployed[0]).status == "SUCCESSFUL"


def test_a_failed_migration_rolls_the_deployment_back_and_exits_with_its_code(
    sandbox: Sandbox, run: Run, tmp_path: Path
) -> None:
    arn, old, _new = deploying(sandbox, exit_code=3)
    ran, out = gate(run, tmp_path)
    assert ran.code == 3, ran.out
    hook = sandbox.deployment(arn).hook()
    assert answers(sandbox, arn) == [(hook.hook_id, "ROLLBACK", "ContinueServiceDeployment", None)]
    assert (out["STATUS"], out["EXIT_CODE"], out["DEPLOYMENT_ACTION"]) == ("failed", "3", "ROLLBACK")
    assert out["MESSAGE"].endswith("; the deployment is rolled back (ROLLBACK sent)")  # the message output says it too
    assert ended(sandbox, arn).status == "ROLLBACK_SUCCESSFUL"
    [service] = sandbox.client("ecs").describe_services(cluster="Sample", services=[SERVICE])["services"]
    assert service["taskDefinition"] == old
    assert "container web exited with code 3; the deployment is rolled back (ROLLBACK sent)" in ran.out


@pytest.mark.parametrize("how", ["a task that never ran", "RunTask refused", "RunTask denied"])
def test_a_start_that_failed_rolls_the_deployment_back_and_exits_125(
    sandbox: Sandbox, run: Run, tmp_path: Path, how: str
) -> None:
    if how == "a task that never ran":
        arn, _, _ = deploying(sandbox, exit_code=None, behaviour={"life": NEVER_STARTED, "stop_code": "TaskFailedToStart",
                                                                    "stopped_reason": "Task failed to start"})  # fmt: skip
    else:
        arn, _, _ = deploying(sandbox)
        if how == "RunTask refused":
            sandbox.fail_run_task("RESOURCE:MEMORY")
        else:
            sandbox.faults.deny("RunTask")
    ran, out = gate(run, tmp_path, "--start-retries", "0")
    assert ran.code == 125, ran.out
    assert out["STATUS"] == "failed-to-start"
    assert out["DEPLOYMENT_ACTION"] == "ROLLBACK"
    [(_, action, by, error)] = answers(sandbox, arn)
    assert (action, by, error) == ("ROLLBACK", "ContinueServiceDeployment", None)
    assert ended(sandbox, arn).status == "ROLLBACK_SUCCESSFUL"
    assert "the task failed to start" in ran.out or "no task was started" in ran.out


def test_a_timeout_stops_the_task_rolls_the_deployment_back_and_exits_124(
    sandbox: Sandbox, run: Run, tmp_path: Path
) -> None:
    arn, _, _ = deploying(sandbox, behaviour={"life": [Step("PROVISIONING", 0.05), Step("RUNNING", HOLD)]})
    ran, out = gate(run, tmp_path, "--timeout", "2s")
    assert ran.code == 124, ran.out
    assert (out["STATUS"], out["DEPLOYMENT_ACTION"]) == ("timed-out", "ROLLBACK")
    [task] = sandbox.tasks()
    assert [s["task"] for s in sandbox.calls("StopTask")] == [task.arn]
    assert [a[1] for a in answers(sandbox, arn)] == ["ROLLBACK"]
    assert ended(sandbox, arn).status == "ROLLBACK_SUCCESSFUL"
    assert "ROLLBACK sent" in ran.out
    assert "the task timed out" in ran.out


def test_a_cancel_stops_the_task_and_rolls_the_deployment_back_within_the_signal_budget(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    arn, _, _ = deploying(sandbox, behaviour={"life": [Step("PROVISIONING", 0.05), Step("RUNNING", HOLD)]})
    proc = spawn(sandbox, *GATE, "--dotenv", str(tmp_path / "out.env"))
    task = sandbox.wait_for_any_task(timeout=30)
    sandbox.wait_for_status(task, "RUNNING")
    sent = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    printed, _ = proc.communicate(timeout=BUDGET + 5)
    assert proc.returncode == 143, printed
    assert time.monotonic() - sent < BUDGET
    [stop] = sandbox.calls("StopTask")
    assert stop["task"] == task
    [(_, action, by, error)] = answers(sandbox, arn)
    assert (action, by, error) == ("ROLLBACK", "ContinueServiceDeployment", None)
    out = outputs(tmp_path / "out.env")
    assert (out["STATUS"], out["DEPLOYMENT_ACTION"]) == ("cancelled", "ROLLBACK")
    assert ended(sandbox, arn).status == "ROLLBACK_SUCCESSFUL"
    assert "ROLLBACK sent" in printed


def test_two_pause_hooks_awaiting_at_once_get_one_answer_and_the_run_says_the_other_still_holds(
    sandbox: Sandbox, run: Run, tmp_path: Path
) -> None:
    arn, _, _ = deploying(sandbox, pause_at=["POST_SCALE_UP", "POST_SCALE_UP"])
    ran, out = gate(run, tmp_path)
    assert ran.code == 0, ran.out
    assert out["DEPLOYMENT_ACTION"] == "CONTINUE"
    [ours, other] = [h.hook_id for h in sandbox.deployment(arn).hooks]
    assert [(a[0], a[1]) for a in answers(sandbox, arn)] == [(ours, "CONTINUE")]
    assert f"this run answers the first, {ours}, and not {other}" in ran.out
    assert f"the deployment goes on once PAUSE hook(s) {other} are answered too" in out["MESSAGE"]
    assert "the deployment goes on (CONTINUE sent)" not in ran.out


def test_a_signal_while_continue_is_on_its_way_is_said_and_the_answer_stands(sandbox: Sandbox, tmp_path: Path) -> None:
    arn, _, _ = deploying(sandbox)
    sandbox.faults.latency(2.0, "ContinueServiceDeployment")
    proc = spawn(sandbox, *GATE, "--dotenv", str(tmp_path / "out.env"))
    sandbox.wait_for_call("ContinueServiceDeployment", timeout=30)
    proc.send_signal(signal.SIGTERM)
    printed, _ = proc.communicate(timeout=BUDGET + 5)
    assert proc.returncode == 0, printed  # the task's answer, and ECS took CONTINUE
    assert outputs(tmp_path / "out.env")["DEPLOYMENT_ACTION"] == "CONTINUE"
    assert "SIGTERM came while CONTINUE was being sent: the answer stands (CONTINUE)" in printed
    assert [a[1] for a in answers(sandbox, arn)] == ["CONTINUE"]


def test_a_cancel_before_the_pause_answers_nothing_and_says_so(sandbox: Sandbox, tmp_path: Path) -> None:
    arn, _, _ = deploying(sandbox, reach_after=HOLD)
    proc = spawn(sandbox, *GATE, "--dotenv", str(tmp_path / "out.env"))
    sandbox.wait_for_call("DescribeServiceDeployments", n=2, timeout=30)
    proc.send_signal(signal.SIGTERM)
    printed, _ = proc.communicate(timeout=BUDGET + 5)
    assert proc.returncode == 143, printed
    assert sandbox.calls("RunTask") == []
    assert sandbox.calls("ContinueServiceDeployment") == []
    assert outputs(tmp_path / "out.env")["DEPLOYMENT_ACTION"] == ""
    assert "was not answered: if it pauses at a PAUSE hook, it waits there until the hook expires" in printed
    assert sandbox.deployment(arn).status == "IN_PROGRESS"


def expiring(sb: Sandbox, run: Run, tmp_path: Path, start: Callable[[Callable[[], None]], None],
             timeout_action: str) -> tuple[str, Ran, dict[str, str]]:  # fmt: skip
    """A hook that expires 1.5 s after it is reached (once the run polls), while the task runs 4 s: the run."""
    arn, _, _ = deploying(sb, behaviour={"running": 4.0}, reach_after=HOLD, expires_after=1.5,
                          timeout_action=timeout_action)  # fmt: skip

    def reach_once_polled() -> None:
        sb.wait_for_call("DescribeServiceDeployments", timeout=20)
        sb.reach(arn)

    start(reach_once_polled)
    ran, out = gate(run, tmp_path)
    return arn, ran, out


def test_a_hook_that_expired_before_the_task_succeeded_is_said_and_fails_the_run(
    sandbox: Sandbox, run: Run, tmp_path: Path, meanwhile: Callable[[Callable[[], None]], None]
) -> None:
    arn, ran, out = expiring(sandbox, run, tmp_path, meanwhile, "ROLLBACK")
    assert ran.code == 125, ran.out  # the task succeeded, but the deploy did not go on
    assert (out["STATUS"], out["EXIT_CODE"], out["DEPLOYMENT_ACTION"]) == ("succeeded", "0", "")
    hook = sandbox.deployment(arn).hook()
    assert hook.status == "TIMED_OUT"
    assert answers(sandbox, arn) == [
        (hook.hook_id, "ROLLBACK", "timeout", None),  # ECS's own, when the hook expired
        (hook.hook_id, "CONTINUE", "ContinueServiceDeployment", "InvalidParameterException"),  # refused: too late
    ]
    assert f"PAUSE hook {hook.hook_id} of deployment" in ran.out
    assert "expired at" in ran.out
    assert "ECS took its timeoutAction, ROLLBACK; no CONTINUE was sent" in ran.out
    assert "Raise the PAUSE hook's timeoutInMinutes" in ran.out
    assert "CONTINUE sent" not in ran.out
    assert ended(sandbox, arn).status == "ROLLBACK_SUCCESSFUL"


def test_a_hook_whose_timeout_action_is_continue_goes_on_when_it_expires_before_a_success(
    sandbox: Sandbox, run: Run, tmp_path: Path, meanwhile: Callable[[Callable[[], None]], None]
) -> None:
    arn, ran, out = expiring(sandbox, run, tmp_path, meanwhile, "CONTINUE")
    assert ran.code == 0, ran.out
    assert (out["STATUS"], out["DEPLOYMENT_ACTION"]) == ("succeeded", "")
    assert "ECS took its timeoutAction, CONTINUE" in ran.out
    assert ended(sandbox, arn).status == "SUCCESSFUL"


def test_no_deployment_in_progress_within_the_timeout_runs_nothing(sandbox: Sandbox, run: Run, tmp_path: Path) -> None:
    old, _new = revisions(sandbox)
    running(sandbox, old)
    ran, out = gate(run, tmp_path, "--timeout", "1s")
    assert ran.code == 124, ran.out
    assert (out["STATUS"], out["DEPLOYMENT_ACTION"], out["TASK_ARN"]) == ("timed-out", "", "")
    assert sandbox.calls("RunTask") == []
    assert sandbox.calls("ContinueServiceDeployment") == []
    assert len(sandbox.calls("ListServiceDeployments")) >= 3  # it waited, polling
    assert (
        "--gate-deployment: no deployment of service 'web' in cluster 'Sample' was in progress within --timeout (1s)"
        in (ran.out)
    )


def test_two_deployments_in_progress_are_named_and_nothing_runs(sandbox: Sandbox, run: Run, tmp_path: Path) -> None:
    old, new = revisions(sandbox)
    running(sandbox, old)
    first = sandbox.deploy(SERVICE, new, cluster="Sample", reach_after=HOLD)
    second = sandbox.deploy(SERVICE, old, cluster="Sample", reach_after=HOLD)
    ran, out = gate(run, tmp_path)
    assert ran.code == 125, ran.out
    assert (out["STATUS"], out["DEPLOYMENT_ACTION"]) == ("failed-to-start", "")
    assert sandbox.calls("RunTask") == []
    assert sandbox.calls("ContinueServiceDeployment") == []
    assert "has 2 deployments in progress" in ran.out
    for arn in (first, second):
        assert arn.rsplit("/", 1)[1] in ran.out


def test_a_deployment_with_no_pause_hook_is_said_at_once(sandbox: Sandbox, run: Run, tmp_path: Path) -> None:
    old, new = revisions(sandbox)
    running(sandbox, old)
    sandbox.deploy(SERVICE, new, cluster="Sample", pause_at=None, reach_after=HOLD, finish_after=HOLD)
    ran, _ = gate(run, tmp_path)
    assert ran.code == 125, ran.out
    assert "has no PAUSE lifecycle hook in its deploymentConfiguration" in ran.out
    assert sandbox.calls("RunTask") == []


def test_a_dry_run_shows_the_deployment_its_stage_its_hook_and_the_request_and_changes_nothing(
    sandbox: Sandbox, run: Run, tmp_path: Path
) -> None:
    arn, _old, new = deploying(sandbox, strategy="BLUE_GREEN")
    hook = sandbox.wait_for_hook(arn)
    ran, out = gate(run, tmp_path, "--dry-run")
    assert ran.code == 0, ran.out
    assert (out["STATUS"], out["DEPLOYMENT_ACTION"]) == ("dry-run", "")
    assert sandbox.calls("RunTask") == []
    assert sandbox.calls("ContinueServiceDeployment") == []
    assert f"dry run: deployment {arn.rsplit('/', 1)[1]} of service web is in progress; stage: POST_SCALE_UP" in ran.out
    assert f"PAUSE hook {hook.hook_id} awaits action" in ran.out
    request = json.loads(ran.out.split("RunTask request:\n", 1)[1].split("\necs-run-task: ", 1)[0])
    assert request["taskDefinition"] == new
    assert "nothing was sent to the deployment" in ran.out
    assert sandbox.deployment(arn).hook().status == "AWAITING_ACTION"


def test_a_dry_run_with_no_deployment_in_progress_does_not_wait(sandbox: Sandbox, run: Run, tmp_path: Path) -> None:
    old, _new = revisions(sandbox)
    running(sandbox, old)
    started = time.monotonic()
    ran, out = gate(run, tmp_path, "--dry-run")
    assert ran.code == 0, ran.out
    assert time.monotonic() - started < 5
    assert len(sandbox.calls("ListServiceDeployments")) == 1
    assert out["STATUS"] == "dry-run"
    assert "no deployment of service web is in progress now" in ran.out
    assert f'"taskDefinition": "{old}"' in ran.out  # the service's current settings


def test_a_cancel_of_a_dry_run_is_not_held_by_a_slow_look(sandbox: Sandbox, tmp_path: Path) -> None:
    """A dry run (a pull request's check) cancelled while ListServiceDeployments is slow: cancelled in time, not held
    until the read gives up (three tries of 15 s) and then reported as a failed read."""
    old, _new = revisions(sandbox)
    running(sandbox, old)
    sandbox.faults.latency(30.0, "ListServiceDeployments")
    proc = spawn(sandbox, *GATE, "--dotenv", str(tmp_path / "out.env"), "--dry-run")
    sandbox.wait_for_call("ListServiceDeployments", timeout=30)  # on its way
    sent = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    printed, _ = proc.communicate(timeout=BUDGET + 40)
    assert proc.returncode == 143, printed
    assert time.monotonic() - sent < BUDGET, printed
    assert sandbox.calls("RunTask") == sandbox.calls("ContinueServiceDeployment") == []


DENIED = {0: (125, "succeeded"), 3: (3, "failed")}  # the task's exit -> the run's exit code and status


@pytest.mark.parametrize("exit_code", list(DENIED))
def test_a_denied_continue_names_the_permission_and_the_hook_and_fails_the_run(
    sandbox: Sandbox, run: Run, tmp_path: Path, exit_code: int
) -> None:
    code, status = DENIED[exit_code]
    arn, _, _ = deploying(sandbox, exit_code=exit_code)
    sandbox.faults.deny("ContinueServiceDeployment")
    ran, out = gate(run, tmp_path)
    assert ran.code == code, ran.out
    assert (out["STATUS"], out["DEPLOYMENT_ACTION"]) == (status, "")
    hook = sandbox.deployment(arn).hook()
    assert hook.status == "AWAITING_ACTION"  # still waiting for an answer
    assert "ecs:ContinueServiceDeployment" in ran.out
    assert hook.hook_id in ran.out
    action = "CONTINUE" if exit_code == 0 else "ROLLBACK"
    assert f"--hook-id {hook.hook_id} --action {action}" in ran.out  # how to answer it by hand
    assert sandbox.deployment(arn).actions == ()


def test_the_task_runs_with_the_revisions_network_launch_type_and_platform_version_unless_given(
    sandbox: Sandbox, run: Run, tmp_path: Path
) -> None:
    subnets, groups = sandbox.create_network()
    old, new = (sandbox.register("app", [Container("web", image=f"acme/web:{n}")], Scripted(steps=steps(0.3)),
                                 log_group="/ecs/app", network_mode="awsvpc", fargate=True) for n in (1, 2))  # fmt: skip
    running(sandbox, old, network=(subnets, groups), launch_type="FARGATE", platform_version="1.4.0")
    arn = sandbox.deploy(SERVICE, new, cluster="Sample", reach_after=0.05)
    ran, out = gate(run, tmp_path, "--platform-version", "LATEST")
    assert ran.code == 0, ran.out
    [request] = sandbox.calls("RunTask")
    assert request["taskDefinition"] == new
    assert request["launchType"] == "FARGATE"
    assert request["platformVersion"] == "LATEST"  # given: it wins
    assert request["networkConfiguration"]["awsvpcConfiguration"]["subnets"] == subnets
    assert request["networkConfiguration"]["awsvpcConfiguration"]["securityGroups"] == groups
    assert out["DEPLOYMENT_ACTION"] == "CONTINUE"
    assert ended(sandbox, arn).status == "SUCCESSFUL"


def test_the_json_result_carries_the_deployment_action(sandbox: Sandbox, run: Run) -> None:
    deploying(sandbox, exit_code=3)
    ran = run(*GATE, "--format", "json")
    assert ran.code == 3, ran.out
    [result] = [e for e in map(json.loads, ran.lines) if e.get("event") == "outputs"]
    assert result["deployment-action"] == "ROLLBACK"
    assert result["message"].endswith("; the deployment is rolled back (ROLLBACK sent)")


def as_the_action(file_command_variable: str, path: Path, more: dict[str, str] | None = None) -> dict[str, str]:
    """The environment the runner gives the gate's step: its inputs, and one file command made ready at path."""
    path.touch()
    inputs = {"CLUSTER": "Sample", "SERVICE": SERVICE, "GATE-DEPLOYMENT": "true", "POLL-INTERVAL": "100ms"} | (
        more or {}
    )
    return {"GITHUB_ACTIONS": "true", file_command_variable: str(path)} | {f"INPUT_{k}": v for k, v in inputs.items()}


def test_the_action_writes_the_deployment_action_as_a_step_output(
    sandbox: Sandbox, run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    output = tmp_path / "github_output"
    env = as_the_action("GITHUB_OUTPUT", output, {"LOG-DRAIN": "500ms", "TASK-DEFINITION": ""})
    monkeypatch.setenv("GITHUB_OUTPUT", str(output))  # actions-toolkit reads it from the process environment
    arn, _, _ = deploying(sandbox)
    ran = run(env=env)
    assert ran.code == 0, ran.out
    written = file_command(output.read_text())
    assert (written["status"], written["deployment-action"]) == ("succeeded", "CONTINUE")
    assert ended(sandbox, arn).status == "SUCCESSFUL"


def test_a_continue_whose_answer_was_lost_is_known_taken_from_the_deployment(
    sandbox: Sandbox, run: Run, tmp_path: Path
) -> None:
    """The connection closes after ECS took CONTINUE: botocore asks again, ECS refuses (the hook is answered), and the
    deployment shows the answer taken."""
    arn, _, _ = deploying(sandbox)
    sandbox.faults.lose_answer("ContinueServiceDeployment")
    ran, out = gate(run, tmp_path)
    assert ran.code == 0, ran.out
    assert out["DEPLOYMENT_ACTION"] == "CONTINUE"
    hook = sandbox.deployment(arn).hook()
    assert answers(sandbox, arn) == [
        (hook.hook_id, "CONTINUE", "ContinueServiceDeployment", None),
        (hook.hook_id, "CONTINUE", "ContinueServiceDeployment", "InvalidParameterException"),  # botocore's retry
    ]
    assert ended(sandbox, arn).status == "SUCCESSFUL"


def test_the_post_step_rolls_back_a_deployment_the_killed_main_step_left_paused(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    arn, _, _ = deploying(sandbox, behaviour={"life": [Step("PROVISIONING", 0.05), Step("RUNNING", HOLD)]})
    state = tmp_path / "github_state"
    proc = spawn(sandbox, env=as_the_action("GITHUB_STATE", state))
    task = sandbox.wait_for_any_task(timeout=30)
    sandbox.wait_for_status(task, "RUNNING")
    proc.kill()  # as the runner does when the step outlives its budget: no handler runs
    proc.communicate(timeout=30)
    saved = file_command(state.read_text())
    hook = sandbox.deployment(arn).hook()
    assert (saved["deployment-arn"], saved["hook-id"]) == (arn, hook.hook_id)
    assert post_main({f"STATE_{name}": value for name, value in saved.items()}) == 0
    assert [s["task"] for s in sandbox.calls("StopTask")] == [task]
    assert answers(sandbox, arn) == [(hook.hook_id, "ROLLBACK", "ContinueServiceDeployment", None)]
    assert ended(sandbox, arn).status == "ROLLBACK_SUCCESSFUL"


def test_the_post_step_leaves_an_answered_deployment_alone(
    sandbox: Sandbox, run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = tmp_path / "github_state"
    env = as_the_action("GITHUB_STATE", state, {"LOG-DRAIN": "500ms"})
    monkeypatch.setenv("GITHUB_STATE", str(state))  # actions-toolkit reads it from the process environment
    arn, _, _ = deploying(sandbox)
    ran = run(env=env)
    assert ran.code == 0, ran.out
    saved = file_command(state.read_text())
    assert saved["hook-id"] == ""
    assert post_main({f"STATE_{name}": value for name, value in saved.items()}) == 0
    assert [a[1] for a in answers(sandbox, arn)] == ["CONTINUE"]


def test_aws_failing_while_the_run_waits_for_the_pause_is_ridden_out(
    sandbox: Sandbox, run: Run, tmp_path: Path
) -> None:
    arn, _, _ = deploying(sandbox, reach_after=1.0)
    sandbox.faults.error_burst("DescribeServiceDeployments", 4)  # past the polls' own retries
    ran, out = gate(run, tmp_path)
    assert ran.code == 0, ran.out
    assert out["DEPLOYMENT_ACTION"] == "CONTINUE"
    assert "warning: ecs:DescribeServiceDeployments failed: ServerException" in ran.out
    assert "in contact with AWS again" in ran.out
    assert ended(sandbox, arn).status == "SUCCESSFUL"
