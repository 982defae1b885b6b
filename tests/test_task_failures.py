"""The task's own failures: each gives the right exit code, `status`, and a message a user can act on."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from sandbox import HOLD, Container, ContainerScript, Sandbox, Step
from tests.helpers import Record, Run, go, launch, outputs, register

NEVER_STARTED = [Step("PROVISIONING", 0.05), Step("PENDING", 0.2), Step("DEPROVISIONING", 0.05)]
PULL = ("CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve ref "
        "acme/app:v9: not found")  # fmt: skip
SECRETS = ("ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval "
           "failed: unable to retrieve secret from asm: AccessDeniedException")  # fmt: skip
ENI = "ResourceInitializationError: failed to configure ENI: no available IP addresses in subnet subnet-0a1b2c3d"
OOM = "OutOfMemoryError: Container killed due to memory usage"
NO_ROUTE = ("CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve ref "
            'acme/app:v9: failed to do request: Head "https://registry/v2/app/manifests/v9": dial tcp 10.0.3.17:443: '
            "i/o timeout")  # fmt: skip
NOT_IN_IMAGE = ("CannotStartContainerError: Error response from daemon: failed to create shim task: OCI runtime create "
                'failed: runc create failed: unable to start container process: exec: "bin/rails": executable file '
                "not found in $PATH: unknown")  # fmt: skip


@dataclass(frozen=True)
class Failure:
    containers: list[Container]
    scripts: dict[str, ContainerScript]
    stop_code: str
    stopped_reason: str
    code: int  # the process's exit status
    status: str
    exit_code: str  # the `exit-code` output
    says: list[str]  # what the result must hold for the user to act on it
    fix: str | None  # the start of the catalogue's fix, shown as `fix: ...`; None: no hint (the container's own answer)
    life: list[Step] = field(default_factory=lambda: [Step("PROVISIONING", 0.05), Step("RUNNING", 0.2)])
    headline: str = ""  # the `error:` line and the `message` output


CASES = {
    "image pull failure": Failure(
        [Container("web")], {"web": ContainerScript(exit_code=None, reason=PULL)},
        "TaskFailedToStart", "CannotPullContainerError: Error response from daemon", 125, "failed-to-start", "",
        ["container web never ran", "TaskFailedToStart", PULL],
        "Check image `acme/app:latest` of container web (the task definition, or `--image`)", NEVER_STARTED,
        headline="container web could not start: image not found",
    ),
    "secrets not readable": Failure(
        [Container("web")], {"web": ContainerScript(exit_code=None)},
        "TaskFailedToStart", SECRETS, 125, "failed-to-start", "",
        ["container web never ran", "TaskFailedToStart", "unable to pull secrets"],
        "Grant the execution role `secretsmanager:GetSecretValue`", NEVER_STARTED,
        headline="container web could not start: its secrets could not be read (access denied)",
    ),
    "no IP for the ENI": Failure(
        [Container("web")], {"web": ContainerScript(exit_code=None)},
        "TaskFailedToStart", ENI, 125, "failed-to-start", "",
        ["TaskFailedToStart", "no available IP addresses in subnet subnet-0a1b2c3d"],
        "Give `subnets` with free addresses", NEVER_STARTED,
        headline="container web could not start: no free IP address in the subnet",
    ),
    "OOM kill": Failure(
        [Container("web")], {"web": ContainerScript(exit_code=137, reason=OOM)},
        "EssentialContainerExited", "Essential container in task exited", 137, "failed", "137",
        ["container web exited with code 137", OOM], "Raise `memory` in the definition of container web (now 128 MiB): that is the limit it hit",
        headline="container web ran out of memory (exit 137)",
    ),
    "Spot interruption": Failure(
        [Container("web")], {"web": ContainerScript(exit_code=143)},
        "SpotInterruption", "Your Spot Task was interrupted.", 143, "interrupted", "143",
        ["interrupted: ECS was asked from outside to stop the task", "exited with code 143",
         "stopCode=SpotInterruption", "Your Spot Task was interrupted."],
        "Run it again, or run it on on-demand capacity: `--launch-type FARGATE`",
        headline="container web was stopped by a Spot interruption (exit 143)",
    ),
    "stopped by someone else": Failure(
        [Container("web")], {"web": ContainerScript(exit_code=143)},
        "UserInitiated", "Task stopped by user", 143, "interrupted", "143",
        ["interrupted: ECS was asked from outside to stop the task", "exited with code 143",
         "stopCode=UserInitiated", "Task stopped by user"],
        "Find out from the stopped reason who stopped the task",
        headline="container web was stopped by a StopTask from outside (exit 143)",
    ),
    "essential sidecar failing, main container fine": Failure(
        [Container("web"), Container("envoy")],
        {"web": ContainerScript(exit_code=0), "envoy": ContainerScript(exit_code=1, reason="Essential container exited")},
        "EssentialContainerExited", "Essential container in task exited", 1, "failed", "1",
        ["container envoy exited with code 1"], None,
        headline="container envoy exited with code 1",
    ),
    "essential sidecar never started, main container fine": Failure(
        [Container("web"), Container("envoy")],
        {"web": ContainerScript(exit_code=0), "envoy": ContainerScript(exit_code=None, reason=PULL)},
        "EssentialContainerExited", "Essential container in task exited", 125, "failed-to-start", "",
        ["container envoy never ran", PULL], "Check image `acme/app:latest` of container envoy",
        headline="container envoy could not start: image not found",
    ),
    "image pull with no route to the registry": Failure(
        [Container("web")], {"web": ContainerScript(exit_code=None, reason=NO_ROUTE)},
        "TaskFailedToStart", "Task failed to start", 125, "failed-to-start", "",
        ["container web never ran", "i/o timeout"],
        "Give the task a way out: a private subnet needs a NAT gateway or VPC endpoints for ECR", NEVER_STARTED,
        headline="container web could not start: the image registry could not be reached",
    ),
    "command not in the image": Failure(
        [Container("web")], {"web": ContainerScript(exit_code=None, reason=NOT_IN_IMAGE)},
        "TaskFailedToStart", "Task failed to start", 125, "failed-to-start", "",
        ["container web never ran", "executable file not found in $PATH"],
        "Check `--command` (or the task definition's `command` and `entryPoint`)", NEVER_STARTED,
        headline="container web could not start: its command is not in the image",
    ),
    "segmentation fault": Failure(
        [Container("web")], {"web": ContainerScript(exit_code=139)},
        "EssentialContainerExited", "Essential container in task exited", 139, "failed", "139",
        ["container web exited with code 139"], "Find the crashing program in the container's last log lines",
        headline="container web crashed (segmentation fault) (exit 139)",
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", list(CASES))
def test_a_task_failure_is_reported_right(
    sandbox: Sandbox, run: Run, tmp_path: Path, record_property: Record, case: str
) -> None:
    f = CASES[case]
    record_property("fault", "task failure")
    register(sandbox, *f.containers, life=f.life, stop_code=f.stop_code, stopped_reason=f.stopped_reason,
             scripts=f.scripts)  # fmt: skip
    ran = go(run, "--dotenv", str(tmp_path / "out.env"), "--log-drain", "500ms", "--start-retries", "0")
    assert ran.code == f.code, ran.out
    out = outputs(tmp_path / "out.env")
    [task] = sandbox.tasks()
    assert (out["STATUS"], out["EXIT_CODE"], out["STOP_CODE"]) == (f.status, f.exit_code, f.stop_code)
    assert out["STOPPED_REASON"] == f.stopped_reason
    assert out["TASK_ARN"] == task.arn  # the user can find the task
    [error] = [i for i, line in enumerate(ran.lines) if line.startswith("ecs-run-task: error: ")]
    assert ran.lines[error] == f"ecs-run-task: error: {f.headline}"
    assert out["MESSAGE"] == f.headline
    result = "\n".join(ran.lines[error:])  # the headline, then what ECS said, the likely cause and fix
    for words in f.says:
        assert words in result, (words, result)
    assert (f.fix is None) == (out["HINT"] == "")
    fixes = [line for line in ran.lines if line.startswith("ecs-run-task: fix: ")]
    assert fixes == [] if f.fix is None else fixes[0].startswith(f"ecs-run-task: fix: {f.fix}"), ran.out
    assert sandbox.calls("StopTask") == []  # it stopped on its own: nothing for us to stop


def test_the_failure_is_an_annotation_on_github_with_its_likely_cause_and_fix(
    sandbox: Sandbox, run: Run, record_property: Record, tmp_path: Path
) -> None:
    record_property("fault", "task failure")
    register(sandbox, web=ContainerScript(exit_code=137, reason=OOM))
    summary = tmp_path / "summary.md"
    summary.touch()
    ran = go(run, "--format", "github", env={"GITHUB_STEP_SUMMARY": str(summary)})
    assert ran.code == 137
    [annotation] = [line for line in ran.lines if line.startswith("::error")]
    assert annotation.startswith("::error title=Container web ran out of memory (exit 137)::")
    assert "container web exited with code 137" in annotation
    assert OOM in annotation
    assert ("%0ALikely cause: Container web used more than its own memory limit (128 MiB) and was killed "
            "(OutOfMemoryError).%0AFix: Raise `memory` in the definition of container web (now 128 MiB)") in annotation  # fmt: skip
    written = summary.read_text()
    assert written.startswith("### ❌ Container web ran out of memory (exit 137)\n")
    assert ("**Likely cause:** Container web used more than its own memory limit (128 MiB) and was killed "
            "(OutOfMemoryError). **Fix:** Raise `memory` in the definition") in written  # our code spans render  # fmt: skip


def test_the_json_result_carries_the_hint(sandbox: Sandbox, run: Run, record_property: Record) -> None:
    record_property("fault", "task failure")
    register(
        sandbox,
        life=NEVER_STARTED,
        stop_code="TaskFailedToStart",
        scripts={"web": ContainerScript(exit_code=None, reason=NO_ROUTE)},
    )
    ran = go(run, "--format", "json")
    assert ran.code == 125
    result = json.loads(ran.lines[-1])
    assert result["hint"]["key"] == "pull-no-route"
    assert result["hint"]["fix"].startswith("Give the task a way out")


def test_a_task_stopped_by_someone_else_while_we_wait(
    sandbox: Sandbox, tmp_path: Path, record_property: Record
) -> None:
    """Another person's StopTask (console, CLI) while the tool waits: `interrupted`, 143 as the container's code."""
    record_property("fault", "task failure")
    register(sandbox, life=[Step("PROVISIONING", 0.05), Step("RUNNING", HOLD)])
    proc = launch(sandbox, "--dotenv", str(tmp_path / "out.env"))
    arn = sandbox.wait_for_any_task(timeout=30)
    sandbox.wait_for_status(arn, "RUNNING")
    sandbox.client("ecs").stop_task(cluster="Sample", task=arn)  # no reason: ECS says "Task stopped by user"
    out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 143, out
    env = outputs(tmp_path / "out.env")
    assert (env["STATUS"], env["EXIT_CODE"], env["STOP_CODE"]) == ("interrupted", "143", "UserInitiated")
    assert "(stopCode=UserInitiated: Task stopped by user)" in out
    assert len(sandbox.calls("StopTask")) == 1  # only the other person's
