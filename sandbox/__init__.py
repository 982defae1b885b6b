"""A local "AWS" for ecs-run-task's tests, benchmarks and demo: moto over HTTP plus a task driver (README.md beside
this file says what it plays and which moto internals it depends on).

    from sandbox import Sandbox, Container, Scripted, Step, ContainerScript, RunLocally, HOLD, NEVER, Teardown, OutsideStop

    with Sandbox() as sb:                       # server + driver; moto reset on start and exit
        sb.endpoint, sb.env                     # "http://127.0.0.1:PORT"; env for a subprocess
        sb.create_cluster("Sample")             # -> cluster ARN (with a roomy EC2 container instance)
        subnets, sgs = sb.create_network()      # VPC with DNS hostnames, for awsvpc
        td = sb.register(
            family="app",
            containers=[Container(name="web", command=["migrate"]), Container(name="log", essential=False)],
            behaviour=Scripted(
                steps=[Step("PROVISIONING", 0.1), Step("PENDING", 0.3), Step("RUNNING", 1.0)],
                containers={"web": ContainerScript(exit_code=3, lines=[(0.1, "hello"), (2.0, "late")])},
                stop_code="EssentialContainerExited",
            ),
            network_mode="bridge", log_group="/ecs/app",     # stream: <prefix=family>/<container>/<task id>
        )                                       # stream_prefix="": none, the stream is the container's runtimeId
        arn = sb.wait_for_any_task(timeout=10)  # after the code under test called RunTask
        sb.wait_for_status(arn, "RUNNING")      # condition-based, no sleeps
        sb.calls("RunTask")                     # request bodies; sb.calls() -> [Call(name, body, t, ...)]
        sb.tasks(), sb.running_tasks(), sb.task(arn), sb.stopped_at(arn), sb.log_lines(arn, "web")
        sb.faults.throttle("DescribeTasks", 0.5, seed=1)    # or every=3; "*" = any operation
        sb.faults.error_burst("GetLogEvents", 2, status=503)
        sb.faults.latency(0.04); sb.faults.drop("RunTask")
        sb.faults.deny("DescribeTasks", "AccessDeniedException")  # or ExpiredTokenException; n= for a few calls
        sb.faults.lose_answer("RunTask")        # done by the server, connection closed before the answer
        sb.faults.outage(15.0)                  # every call answers 503 for 15 s from now (or op="DescribeTasks")
        sb.faults.quota("GetLogEvents", per_second=10)      # an account-wide token bucket: beyond it, throttled
        sb.faults.mangle("DescribeTasks", fn, n=2)  # fn(answer dict) -> dict or raw body text: a malformed 200
        sb.wait_for_call("RunTask")             # once it has arrived (still in flight: status 0)
        sb.missing_after_run(2); sb.fail_run_task("RESOURCE:MEMORY"); sb.set_stop_delay(0.3)

        # AWS's eventual consistency (consistency.py): every knob off (0) by default, read when it applies.
        sb.consistency.list_lag = 2.0           # ListTasks leaves out tasks created less than 2 s ago (any filter)
        sb.consistency.missing_describes = 2    # tasks started from now on: MISSING for their first 2 describes
        sb.consistency.missing_for = 2.5        # DescribeTasks: MISSING for a task created less than 2.5 s ago
        sb.missing(arn, 2)                      # this task (one just listed): MISSING for its next 2 describes
        sb.consistency.revision_lag = 2.0       # RegisterTaskDefinition's revision: "Unable to describe task
                                                #   definition." (DescribeTaskDefinition, RunTask) for 2 s
        sb.consistency.log_lag = 3.0            # lines visible 3 s after written: own timestamp, later ingestionTime
        sb.log_lines(arn, "web", written=True)  # with the lines written and not visible yet

        # Stopped from outside (ECS's stop sequence, no StopTask call): at a moment of the run, or now.
        Scripted(steps=..., outside_stop=OutsideStop(after=1.0, stop_code="SpotInterruption"))  # 1 s into RUNNING
        sb.stop_from_outside(arn, "ServiceSchedulerInitiated")    # stoppedReason: OUTSIDE_REASONS[code] or reason=
        sb.stops()                              # [StopRequest(by="StopTask"|"outside", stop_code, reason, at, applied)]
        sum(t.ran for t in sb.tasks())          # how many tasks reached RUNNING

        # ECS's stop sequence: the essential `app` exits 3 by itself; `envoy` ignores SIGTERM (SIGKILL, 137, at
        # stop_timeout); `logger` exits 0 0.1 s after SIGTERM; then DEACTIVATING/STOPPING/DEPROVISIONING, STOPPED.
        sb.behave("app", Scripted(
            steps=[Step("PROVISIONING", 0.05), Step("RUNNING", HOLD)],   # RUNNING until an essential exit
            containers={
                "app": ContainerScript(exit_code=3, exits_after=1.0),
                "envoy": ContainerScript(exits_after=NEVER, sigterm_delay=NEVER),
                "logger": ContainerScript(exits_after=NEVER, sigterm_delay=0.1, sigterm_exit_code=0),
            },
            stop_timeout=0.5, teardown=Teardown(deactivating=0.05, stopping=0.05, deprovisioning=0.1),
        ))                                      # teardown=FARGATE_TEARDOWN: 0.5 s, 1 s, 20 s
        sb.wait_for_container_status(arn, "app", "STOPPED")   # desiredStatus STOPPED, lastStatus still RUNNING
        view = sb.wait_for_task(arn, lambda t: t.execution_stopped_at is not None)
        view.stop_decided_at, view.entered["STOPPING"], view.container("envoy").stopped_at  # time.monotonic()

        # Service deployments (moto has none): a PAUSE hook reached after 1 s, answered by ContinueServiceDeployment
        # or expiring after 30 s with its timeoutAction (README.md, "Service deployments").
        dep = sb.deploy("web", td, cluster="Sample", pause_at="POST_SCALE_UP", reach_after=1.0, expires_after=30.0,
                        timeout_action="ROLLBACK", network=(subnets, sgs))  # creates or updates the service
        hook = sb.wait_for_hook(dep)            # HookView: hook_id, stage, status AWAITING_ACTION, expires_at
        sb.wait_for_deployment(dep, lambda d: d.status == "SUCCESSFUL").actions  # Action(hook_id, action, by, error)
        sb.reach(dep)                           # with reach_after=HOLD: reach the next pause now
        sb.deployments("web"), sb.deployment(dep), sb.pace_deployments(reach_after=0.05, minute=5.0)

Behaviours are chosen by task definition family (`register(..., behaviour=)` or `sb.behave(family, b)`);
families without one play `Scripted()`: a short life that ends with every container exiting 0.
`Step("RUNNING", HOLD)` holds a state until StopTask (or an essential container's own exit); any state name
(even "WEIRD") is accepted. `sb.advance(arn)` ends the current step of the life or of the teardown.

Script steps and the teardown: a script's steps up to its first DEACTIVATING/STOPPING/DEPROVISIONING step are
the task's life; that step and the ones after it are its teardown, walked once every container has stopped.
A script without such steps walks `teardown=` (default TEST_TEARDOWN, 0.02 s a state). When the life's last
step ends, every container without `exits_after` of its own exits with its `exit_code`, all at once (so
`[PROVISIONING, PENDING, RUNNING 1.0]` still means "everything exits after 1 s of RUNNING"); the task stops if
one of them is essential (see spec.py for the whole sequence). StopTask is UserInitiated with the request's
reason, SIGTERM to what still runs, then the same teardown.

RunTask honours `clientToken` as ECS does: the same token answers the tasks it already started.
`RunLocally()` runs the container's command (RunTask override first) as a local process; its exit is the
container's, and the task then plays the same stop sequence.

`python -m sandbox serve [--host H] [--port N] [--demo]` serves in the foreground and prints
`SANDBOX_ENDPOINT=http://...`; it creates cluster `default`, and with --demo the family `demo`. `python -m sandbox
play [SCENARIO]` is the playground (playground.py; installed from the wheel, `ecs-run-task-playground`).
"""

from .consistency import Consistency
from .deployments import Action, DeploymentView, HookView
from .recorder import Call
from .sandbox import Sandbox
from .spec import (
    FARGATE_TEARDOWN,
    HOLD,
    NEVER,
    OUTSIDE_REASONS,
    TEST_TEARDOWN,
    Behaviour,
    Container,
    ContainerScript,
    OutsideStop,
    RunLocally,
    Scripted,
    Step,
    Teardown,
    default_steps,
)
from .state import ContainerState, StopRequest, TaskView

__all__ = [
    "FARGATE_TEARDOWN",
    "HOLD",
    "NEVER",
    "OUTSIDE_REASONS",
    "TEST_TEARDOWN",
    "Action",
    "Behaviour",
    "Call",
    "Consistency",
    "Container",
    "ContainerScript",
    "ContainerState",
    "DeploymentView",
    "HookView",
    "OutsideStop",
    "RunLocally",
    "Sandbox",
    "Scripted",
    "Step",
    "StopRequest",
    "TaskView",
    "Teardown",
    "default_steps",
]
