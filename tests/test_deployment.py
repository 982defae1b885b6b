"""plan/deployment.py: gate-deployment's decisions with plain data: which deployment, which hook, which answer for
which outcome, and what the run then says and exits with."""

from __future__ import annotations

import signal
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from ecs_run_task.errors import Hint, RunError
from ecs_run_task.plan import deployment as gate
from ecs_run_task.status import Status
from ecs_run_task.verdict.outcome import Outcome

NOW = datetime(2026, 5, 4, 12, 0, 0, tzinfo=UTC)
ARN = "arn:aws:ecs:us-east-1:123456789012:service-deployment/Sample/web/dHzO-McHHHDFJ7RbvmNNq"
REVISION = "arn:aws:ecs:us-east-1:123456789012:service-revision/Sample/web/0887349826980696750"
HOOK_ID = "ecs-pause-txKVbQfCR4M_VJCEkGce8TvMbaeLbZQFxmQKczR8ZDE"
TASK = {"taskArn": "arn:aws:ecs:us-east-1:123456789012:task/Sample/0a1b2c3d"}
SUCCEEDED = Outcome(Status.SUCCEEDED, 0, 0, TASK, "web", "task 0a1b2c3d: exited with code 0")
FAILED = Outcome(Status.FAILED, 3, 3, TASK, "web", "task 0a1b2c3d: container web exited with code 3",
                 Hint("k", "the cause", "the fix"))  # fmt: skip


def detail(
    status: str = "AWAITING_ACTION", hook_id: str = HOOK_ID, target: str = "PAUSE", **more: Any
) -> dict[str, Any]:
    return {"hookId": hook_id, "targetType": target, "status": status, "expiresAt": NOW + timedelta(minutes=30),
            "timeoutAction": "ROLLBACK", **more}  # fmt: skip


def deployment(*details: dict[str, Any], **more: Any) -> dict[str, Any]:
    return {"serviceDeploymentArn": ARN, "status": "IN_PROGRESS", "targetServiceRevision": {"arn": REVISION},
            "lifecycleHookDetails": list(details), **more}  # fmt: skip


def paused(expires_in: float | None = 1800, timeout_action: str = "ROLLBACK") -> gate.Paused:
    expires = None if expires_in is None else NOW + timedelta(seconds=expires_in)
    return gate.Paused("web", ARN, gate.Hook(HOOK_ID, "AWAITING_ACTION", expires, timeout_action), "POST_SCALE_UP")


def test_the_one_deployment_in_progress_is_found_none_is_none_and_several_are_refused_by_name() -> None:
    assert gate.the_one([], "web", "Sample") is None
    assert gate.the_one([{"serviceDeploymentArn": ARN, "status": "IN_PROGRESS"}], "web", "Sample") == ARN
    assert gate.the_one([{"serviceDeploymentArn": ARN, "status": "SUCCESSFUL"}], "web", "Sample") is None
    other = ARN.replace("dHzO-McHHHDFJ7RbvmNNq", "Xy12")
    with pytest.raises(RunError) as refused:
        gate.the_one([{"serviceDeploymentArn": ARN, "targetServiceRevisionArn": REVISION},
                      {"serviceDeploymentArn": other, "createdAt": NOW}], "web", "Sample")  # fmt: skip
    message = refused.value.message
    assert "service 'web' in cluster 'Sample' has 2 deployments in progress" in message
    assert "dHzO-McHHHDFJ7RbvmNNq (to revision 0887349826980696750)" in message
    assert "Xy12 (to revision ?, created 2026-05-04 12:00:00 UTC)" in message
    assert (refused.value.exit_code, refused.value.status) == (125, Status.FAILED_TO_START)


def test_the_hook_is_found_by_its_status_and_target_type_not_by_the_stage() -> None:
    lambda_hook = detail(target="AWS_LAMBDA", hook_id="lambda")
    answered = detail("SUCCEEDED", hook_id="earlier")
    rolling = deployment(answered, lambda_hook, detail())  # a rolling deployment: no lifecycleStage
    assert gate.stage_of(rolling) is None
    [hook] = gate.hooks_awaiting(rolling)
    assert hook == gate.Hook(HOOK_ID, "AWAITING_ACTION", NOW + timedelta(minutes=30), "ROLLBACK")
    assert gate.hooks_awaiting(deployment(answered)) == []
    assert gate.hooks_awaiting(deployment(detail(hook_id=""))) == []  # no id: nothing to answer
    assert gate.stage_of(deployment(lifecycleStage="POST_SCALE_UP")) == "POST_SCALE_UP"
    assert gate.hook_status(rolling, "earlier") == "SUCCEEDED"
    assert gate.hook_status(rolling, "unknown") is None


def test_a_hook_without_a_timeout_action_rolls_back_and_one_without_expiry_has_no_time_left() -> None:
    hook = gate.Hook.of({"hookId": HOOK_ID, "status": "AWAITING_ACTION", "expiresAt": "soon"})
    assert (hook.timeout_action, hook.expires_at, hook.left(NOW)) == ("ROLLBACK", None, None)
    assert hook.expiry() == "when its timeout passes"


def test_a_deployment_that_ended_or_has_no_pause_hook_is_not_waited_for() -> None:
    assert gate.not_pausing(deployment(), "web") is None  # no configuration shown: keep waiting
    assert gate.not_pausing(deployment(status="PENDING"), "web") is None
    config = {"strategy": "ROLLING", "lifecycleHooks": [{"targetType": "PAUSE", "lifecycleStages": ["POST_SCALE_UP"]}]}
    assert gate.not_pausing(deployment(deploymentConfiguration=config), "web") is None
    assert gate.pause_stages(deployment(deploymentConfiguration=config)) == ["POST_SCALE_UP"]
    lambda_only = {"lifecycleHooks": [{"targetType": "AWS_LAMBDA", "lifecycleStages": ["POST_SCALE_UP"]}]}
    said = gate.not_pausing(deployment(deploymentConfiguration=lambda_only), "web")
    assert said is not None
    assert "has no PAUSE lifecycle hook in its deploymentConfiguration" in said
    said = gate.not_pausing(deployment(status="SUCCESSFUL"), "web")
    assert said == ("deployment dHzO-McHHHDFJ7RbvmNNq of service web is SUCCESSFUL and did not pause at a PAUSE hook "
                    "for this run; nothing was run. Was the hook answered by another run?")  # fmt: skip
    expired = deployment(detail("TIMED_OUT", timeoutAction="CONTINUE"), status="SUCCESSFUL")
    said = gate.not_pausing(expired, "web")
    assert said is not None
    assert f"its PAUSE hook {HOOK_ID} expired at 2026-05-04 12:30:00 UTC, before this run found it" in said
    assert "ECS took its timeoutAction, CONTINUE" in said


def test_waiting_past_the_timeout_is_a_timeout_that_ran_nothing() -> None:
    none = gate.no_deployment("web", "Sample", 600)
    assert (none.exit_code, none.status) == (124, Status.TIMED_OUT)
    assert "no deployment of service 'web' in cluster 'Sample' was in progress within the timeout input (10m)" in (
        none.message
    )
    no_pause = gate.no_pause(ARN, "web", 90, "SCALE_UP")
    assert (no_pause.exit_code, no_pause.status) == (124, Status.TIMED_OUT)
    assert "did not pause at a PAUSE hook within the timeout input (1m30s) (the last stage ECS reported: SCALE_UP)" in (
        no_pause.message
    )
    assert "nothing was sent to it" in no_pause.message


@pytest.mark.parametrize(
    ("result", "signum", "action"),
    [
        (SUCCEEDED, None, "CONTINUE"),
        (SUCCEEDED, signal.SIGTERM, "ROLLBACK"),  # the job was cancelled after the task succeeded
        (FAILED, None, "ROLLBACK"),
        (Outcome.without_task(Status.FAILED_TO_START, 125, "RunTask started no task"), None, "ROLLBACK"),
        (Outcome(Status.TIMED_OUT, 124, None, TASK, None, "timed out"), None, "ROLLBACK"),
        (Outcome(Status.CANCELLED, 143, None, TASK, None, "cancelled"), signal.SIGTERM, "ROLLBACK"),
        (Outcome(Status.UNKNOWN, 125, None, TASK, None, "lost"), None, "ROLLBACK"),
        (Outcome.without_task(Status.INVALID_INPUT, 125, "bad"), None, "ROLLBACK"),
        (Outcome(Status.SUCCEEDED, 125, 0, TASK, "web", "odd"), None, "ROLLBACK"),  # never CONTINUE a failing exit
        (Outcome.without_task(Status.DRY_RUN, 0, "dry run"), None, None),
    ],
)
def test_only_a_task_that_succeeded_in_a_run_nobody_cancelled_continues(
    result: Outcome, signum: int | None, action: str | None
) -> None:
    assert gate.action_for(result, signum) == action


def test_the_reason_for_the_answer_is_said_in_a_few_words() -> None:
    assert gate.why(SUCCEEDED, None) == "the task succeeded"
    assert gate.why(SUCCEEDED, signal.SIGINT) == "the job was cancelled (SIGINT) after the task succeeded"
    assert gate.why(FAILED, None) == "the task failed (exit 3)"
    assert gate.why(Outcome.without_task(Status.FAILED_TO_START, 125, "x"), None) == "no task was started"
    assert gate.why(Outcome(Status.FAILED_TO_START, 125, None, TASK, "web", "x"), None) == "the task failed to start"
    assert gate.why(Outcome(Status.TIMED_OUT, 124, None, TASK, None, "x"), None) == "the task timed out"


def test_a_continue_sent_keeps_the_tasks_outcome_and_says_the_deployment_goes_on() -> None:
    settled = gate.settle(SUCCEEDED, paused(), gate.Answered("CONTINUE", sent=True), NOW)
    assert settled.action == "CONTINUE"
    assert (settled.outcome.status, settled.outcome.exit_code) == (Status.SUCCEEDED, 0)
    assert settled.outcome.message == "task 0a1b2c3d: exited with code 0; the deployment goes on (CONTINUE sent)"
    assert settled.line == (f"CONTINUE sent for PAUSE hook {HOOK_ID} of deployment dHzO-McHHHDFJ7RbvmNNq: the task "
                            "succeeded; the deployment goes on")  # fmt: skip
    assert not settled.warning


def test_a_rollback_sent_keeps_the_tasks_failure_and_its_hint() -> None:
    settled = gate.settle(FAILED, paused(), gate.Answered("ROLLBACK", sent=True), NOW)
    assert settled.action == "ROLLBACK"
    assert (settled.outcome.status, settled.outcome.exit_code, settled.outcome.hint) == (Status.FAILED, 3, FAILED.hint)
    assert settled.outcome.message.endswith("exited with code 3; the deployment is rolled back (ROLLBACK sent)")
    assert settled.outcome.headline == "container web exited with code 3; the deployment is rolled back (ROLLBACK sent)"
    assert "the task failed (exit 3); ECS rolls the service back to its previous revision" in settled.line


def test_a_job_cancelled_after_the_task_succeeded_rolls_back_and_exits_with_the_signals_code() -> None:
    settled = gate.settle(SUCCEEDED, paused(), gate.Answered("ROLLBACK", sent=True), NOW, signal.SIGTERM)
    assert (settled.action, settled.outcome.exit_code, settled.outcome.status) == ("ROLLBACK", 143, Status.SUCCEEDED)
    assert "the job was cancelled (SIGTERM), so the deployment is rolled back" in settled.outcome.message
    assert settled.outcome.headline == (
        "container web exited with code 0; the job was cancelled (SIGTERM), so the "
        "deployment is rolled back (ROLLBACK sent)"
    )  # the `message` output


def test_an_expired_hook_rolled_back_by_ecs_fails_a_run_whose_task_succeeded() -> None:
    answered = gate.Answered("CONTINUE", sent=False, error="ecs:ContinueServiceDeployment failed: ...",
                             hook_status="TIMED_OUT")  # fmt: skip
    settled = gate.settle(SUCCEEDED, paused(expires_in=-5), answered, NOW)
    assert settled.action == ""  # nothing of ours was taken
    assert (settled.outcome.status, settled.outcome.exit_code) == (Status.SUCCEEDED, 125)
    assert settled.outcome.hint is not None
    assert settled.outcome.hint.key == "gate-hook-expired"
    assert "ECS took its timeoutAction, ROLLBACK: the deployment is rolled back" in settled.outcome.message
    assert settled.outcome.headline.startswith("container web exited with code 0, but the PAUSE hook expired")
    assert settled.line == (f"PAUSE hook {HOOK_ID} of deployment dHzO-McHHHDFJ7RbvmNNq expired at 2026-05-04 11:59:55 "
                            "UTC, before the task's answer was known: ECS took its timeoutAction, ROLLBACK; no CONTINUE "
                            "was sent")  # fmt: skip
    assert settled.warning


def test_an_expired_hook_is_known_by_its_expiry_when_its_status_could_not_be_read() -> None:
    answered = gate.Answered("ROLLBACK", sent=False, error="refused")
    settled = gate.settle(FAILED, paused(expires_in=-1), answered, NOW)
    assert (settled.action, settled.outcome.exit_code) == ("", 3)
    assert settled.outcome.message.endswith("ECS took its timeoutAction, ROLLBACK: the deployment is rolled back")


def test_an_expired_hook_continued_by_ecs_is_a_success_for_a_success_and_a_warning_for_a_failure() -> None:
    answered = gate.Answered("CONTINUE", sent=False, error="refused", hook_status="TIMED_OUT")
    fine = gate.settle(SUCCEEDED, paused(-1, "CONTINUE"), answered, NOW)
    assert (fine.outcome.exit_code, fine.action) == (0, "")
    assert fine.outcome.warnings == ("the PAUSE hook expired before the task's answer was known, and ECS took its "
                                     "timeoutAction, CONTINUE: the deployment went on",)  # fmt: skip
    answered = gate.Answered("ROLLBACK", sent=False, error="refused", hook_status="TIMED_OUT")
    bad = gate.settle(FAILED, paused(-1, "CONTINUE"), answered, NOW)
    assert bad.outcome.exit_code == 3
    assert "the deployment went on although the task did not succeed" in bad.outcome.message
    [warning] = bad.outcome.warnings
    assert warning.startswith("deployment dHzO-McHHHDFJ7RbvmNNq went on although the task did not succeed: check ")


def test_a_denied_continue_fails_the_run_naming_the_permission_the_hook_and_the_command_to_answer_by_hand() -> None:
    error = "AWS denied ecs:ContinueServiceDeployment: User: ... is not authorized to perform this action"
    settled = gate.settle(SUCCEEDED, paused(), gate.Answered("CONTINUE", sent=False, error=error, denied=True), NOW)
    assert settled.action == ""
    assert (settled.outcome.status, settled.outcome.exit_code, settled.outcome.container_exit_code) == (
        Status.SUCCEEDED, 125, 0)  # fmt: skip
    assert settled.outcome.message == (
        f"task 0a1b2c3d: exited with code 0, but the deployment could not be continued: ecs:ContinueServiceDeployment "
        f"failed for PAUSE hook {HOOK_ID} of deployment dHzO-McHHHDFJ7RbvmNNq: {error}"
    )
    hint = settled.outcome.hint
    assert hint is not None
    assert hint.cause == "The role this job runs as may not call ecs:ContinueServiceDeployment."
    assert (
        f"aws ecs continue-service-deployment --service-deployment-arn {ARN} --hook-id {HOOK_ID} --action CONTINUE"
        in (hint.fix)
    )
    assert "until the hook expires at 2026-05-04 12:30:00 UTC (ECS then takes its timeoutAction, ROLLBACK)" in hint.fix


def test_a_denial_is_said_as_such_even_past_the_expiry() -> None:
    answered = gate.Answered("CONTINUE", sent=False, error="AWS denied ...", denied=True)
    settled = gate.settle(SUCCEEDED, paused(expires_in=-1), answered, NOW)
    assert settled.outcome.hint is not None
    assert settled.outcome.hint.key == "gate-continue-refused"


def test_a_refused_rollback_keeps_the_tasks_failure_and_says_how_to_roll_back_by_hand() -> None:
    answered = gate.Answered("ROLLBACK", sent=False, error="ecs:ContinueServiceDeployment failed: ThrottlingException",
                             hook_status="AWAITING_ACTION")  # fmt: skip
    settled = gate.settle(FAILED, paused(timeout_action="CONTINUE"), answered, NOW)
    assert (settled.action, settled.outcome.exit_code, settled.outcome.hint) == ("", 3, FAILED.hint)
    assert "; the deployment could not be rolled back: ecs:ContinueServiceDeployment failed for PAUSE hook" in (
        settled.outcome.message
    )
    [warning] = settled.outcome.warnings
    assert warning.startswith("roll the deployment back: until the hook expires at 2026-05-04 12:30:00 UTC")
    assert warning.endswith("--action ROLLBACK (the deployment then goes on, though the task did not succeed)")


def test_a_continue_with_other_pause_hooks_awaiting_does_not_say_the_deployment_goes_on() -> None:
    waiting = replace(paused(), others=("ecs-pause-other",))
    settled = gate.settle(SUCCEEDED, waiting, gate.Answered("CONTINUE", sent=True), NOW)
    assert (settled.action, settled.outcome.exit_code, settled.warning) == ("CONTINUE", 0, True)
    assert settled.outcome.message.endswith("; CONTINUE sent; the deployment goes on once PAUSE hook(s) "
                                            "ecs-pause-other are answered too")  # fmt: skip
    assert "the deployment goes on (CONTINUE sent)" not in settled.outcome.message


def test_a_hook_continued_by_someone_else_while_the_task_failed_says_to_roll_back_with_update_service() -> None:
    answered = gate.Answered("ROLLBACK", sent=False, error="InvalidParameterException: hook is SUCCEEDED",
                             hook_status="SUCCEEDED")  # fmt: skip
    settled = gate.settle(FAILED, paused(), answered, NOW)
    assert (settled.action, settled.outcome.exit_code, settled.outcome.hint) == ("", 3, FAILED.hint)
    assert settled.outcome.message.endswith("; the PAUSE hook was answered CONTINUE by someone else before this "
                                            "run's ROLLBACK: the deployment went on although the task did not succeed")  # fmt: skip
    [warning] = settled.outcome.warnings
    assert "aws ecs update-service --service ... --task-definition <its previous revision>" in warning
    assert "continue-service-deployment" not in warning  # the hook is answered: nothing to answer by hand
    assert settled.warning


def test_a_hook_rolled_back_by_someone_else_while_the_task_succeeded_fails_the_run() -> None:
    answered = gate.Answered("CONTINUE", sent=False, error="InvalidParameterException: hook is FAILED",
                             hook_status="FAILED")  # fmt: skip
    settled = gate.settle(SUCCEEDED, paused(), answered, NOW)
    assert (settled.action, settled.outcome.exit_code) == ("", 125)
    assert settled.outcome.message.endswith(", but the PAUSE hook was answered ROLLBACK by someone else before this "
                                            "run's CONTINUE: the deployment is rolled back")  # fmt: skip
    assert settled.outcome.hint is not None
    assert settled.outcome.hint.key == "gate-answered-by-another"
    assert "continue-service-deployment" not in settled.outcome.hint.fix


def test_the_hook_expiring_before_the_runs_timeout_is_warned_about() -> None:
    assert gate.expiry_warning(paused(expires_in=1800), NOW, run_left=600) is None
    warning = gate.expiry_warning(paused(expires_in=600), NOW, run_left=3600)
    assert warning is not None
    assert warning.startswith("the PAUSE hook expires in 10m, before this run's timeout")
    assert gate.expiry_warning(paused(expires_in=600), NOW, run_left=None) is not None  # no timeout at all
    warning = gate.expiry_warning(paused(600, "CONTINUE"), NOW, run_left=None)
    assert warning is not None
    assert "CONTINUE: the deployment then goes on whatever the task's answer" in warning
    assert gate.expiry_warning(paused(expires_in=None), NOW, run_left=None) is None


def test_the_lines_a_run_says_on_its_way() -> None:
    config = {
        "strategy": "BLUE_GREEN",
        "lifecycleHooks": [{"targetType": "PAUSE", "lifecycleStages": ["POST_SCALE_UP"]}],
    }
    assert gate.found(deployment(deploymentConfiguration=config), "web") == (
        "deployment dHzO-McHHHDFJ7RbvmNNq of service web is in progress (BLUE_GREEN), to revision 0887349826980696750: "
        "waiting for it to pause at a PAUSE hook (configured at POST_SCALE_UP)"
    )
    assert gate.paused_line(paused(expires_in=0.5), NOW) == (
        f"paused at POST_SCALE_UP: PAUSE hook {HOOK_ID} awaits action; it expires at 2026-05-04 12:00:00 UTC (in under "
        "a second), and ECS then takes its timeoutAction, ROLLBACK"
    )
    revision = {"serviceRevisionArn": REVISION, "taskDefinition": "arn:aws:ecs:us-east-1:1:task-definition/app:7",
                "capacityProviderStrategy": [{"capacityProvider": "FARGATE_SPOT"}], "launchType": "FARGATE",
                "platformVersion": "1.4.0", "networkConfiguration": {"awsvpcConfiguration": {"subnets": ["s"]}}}  # fmt: skip
    assert gate.revision_line(revision) == (
        "the deployment's new revision 0887349826980696750: task definition app:7, capacity provider strategy "
        "FARGATE_SPOT, platform version 1.4.0, its network configuration; the task runs with these (inputs given win)"
    )


def test_a_dry_run_sends_nothing_and_says_what_an_unanswered_hook_leads_to() -> None:
    result = Outcome.without_task(Status.DRY_RUN, 0, "dry run: nothing was registered or started")
    told = gate.dry_run(result, paused(expires_in=90), NOW)
    assert told.message == ("dry run: nothing was registered or started; nothing was sent to the deployment (a real "
                            "run sends CONTINUE if the task succeeds, else ROLLBACK)")  # fmt: skip
    assert told.warnings == (f"PAUSE hook {HOOK_ID} still awaits action: unless something answers it, it expires at "
                             "2026-05-04 12:01:30 UTC (in 1m30s), and ECS then takes its timeoutAction, ROLLBACK",)  # fmt: skip
    assert gate.dry_run(result, None, NOW).warnings == ()
    assert gate.dry_run_found(None, "web", 3600).startswith("dry run: no deployment of service web is in progress now")
    assert gate.dry_run_found(deployment(), "web", None).endswith(
        "stage: not reported (a rolling deployment reports none)"
    )


def test_an_answer_is_known_taken_from_the_hooks_status_never_from_its_expiry() -> None:
    assert gate.taken(deployment(detail("SUCCEEDED")), HOOK_ID, "CONTINUE")
    assert not gate.taken(deployment(detail("SUCCEEDED")), HOOK_ID, "ROLLBACK")
    assert gate.taken(deployment(detail("FAILED")), HOOK_ID, "ROLLBACK")
    assert gate.taken(deployment(detail("IN_PROGRESS"), status="ROLLBACK_IN_PROGRESS"), HOOK_ID, "ROLLBACK")
    assert not gate.taken(deployment(detail("TIMED_OUT"), status="ROLLBACK_IN_PROGRESS"), HOOK_ID, "ROLLBACK")
    assert not gate.taken(deployment(detail()), HOOK_ID, "CONTINUE")  # still awaiting
    assert not gate.taken({}, HOOK_ID, "CONTINUE")  # not described


def test_a_failed_call_that_left_the_hook_awaiting_says_the_answer_was_not_taken() -> None:
    answered = gate.Answered("CONTINUE", sent=False, error="ecs:ContinueServiceDeployment failed: 503",
                             hook_status="AWAITING_ACTION")  # fmt: skip
    settled = gate.settle(SUCCEEDED, paused(), answered, NOW)
    assert settled.outcome.exit_code == 125
    assert settled.outcome.hint is not None
    assert settled.outcome.hint.cause == ("AWS did not take the answer (ecs:ContinueServiceDeployment failed), and the "
                                          "hook still awaits action.")  # fmt: skip
    assert "(the hook is" not in settled.outcome.message
