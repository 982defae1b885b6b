"""The headlines of the ten most common failures, through the real CLI in plain, GitHub and GitLab output: the one
line that says what happened (the `error:` line, the annotation's title, the summary's heading, the `message`
output), the likely cause and fix in the `hint` output, ECS's words said once and never in Python's quoting, no log
link for a container that never ran."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from sandbox import HOLD, NEVER, Container, ContainerScript, Sandbox, Step
from tests.helpers import Record, Run, go, outputs, register
from tests.workflow_commands import commands, file_command

NEVER_STARTED = [Step("PROVISIONING", 0.05), Step("PENDING", 0.2), Step("DEPROVISIONING", 0.05)]
ROLE_SAYS = "User: arn:aws:sts::123456789012:assumed-role/ecsTaskExecutionRole/0a1b2c3d is not authorized to perform"
PULL = ("CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve ref "
        "acme/app:latest: not found")  # fmt: skip
SECRETS = ("ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: "
           f"unable to retrieve secret from asm: service call has been retried 5 time(s): AccessDeniedException: "
           f"{ROLE_SAYS}: secretsmanager:GetSecretValue on resource: "
           "arn:aws:secretsmanager:us-east-1:123456789012:secret:app/db-AbCdEf")  # fmt: skip
NO_LOG_GROUP = ("ResourceInitializationError: failed to validate logger args: create stream has been retried 1 times: "
                "failed to create Cloudwatch log stream: ResourceNotFoundException: The specified log group does not "
                "exist.")  # fmt: skip
EXEC_FORMAT = ("CannotStartContainerError: Error response from daemon: failed to create shim task: OCI runtime create "
               "failed: runc create failed: unable to start container process: exec format error: unknown")  # fmt: skip


@dataclass(frozen=True)
class Case:
    headline: str
    code: int  # the process's exit status
    scripts: dict[str, ContainerScript]
    hint: str = ""  # the start of the `hint` output ("" for none)
    said_once: str = ""  # what ECS said, in the result once
    never_ran: bool = False  # then: no log link
    containers: tuple[Container, ...] = (Container("web"),)
    life: list[Step] = field(default_factory=lambda: [Step("PROVISIONING", 0.05), Step("RUNNING", 0.3)])
    stop_code: str = "EssentialContainerExited"
    stopped_reason: str = "Essential container in task exited"
    args: tuple[str, ...] = ()


CASES = {
    "out of memory": Case(
        "container web ran out of memory (exit 137)", 137,
        {"web": ContainerScript(exit_code=137, reason="OutOfMemoryError: Container killed due to memory usage")},
        hint="Container web used more than its own memory limit (128 MiB) and was killed (OutOfMemoryError). Fix: "
             "Raise `memory` in the definition of container web (now 128 MiB): that is the limit it hit, and "
             "`--memory`, which sizes the whole task, will not raise it.",  # the command line's words
        said_once="OutOfMemoryError: Container killed due to memory usage",
    ),
    "image pull": Case(
        "container web could not start: image not found", 125, {"web": ContainerScript(exit_code=None, reason=PULL)},
        hint="The image or its tag does not exist in the registry (or the repository is private and the pull had no "
             "login). Fix: Check image `acme/app:latest` of container web",
        said_once=PULL, never_ran=True, life=NEVER_STARTED, stop_code="TaskFailedToStart", stopped_reason=PULL,
    ),
    "command not found": Case(
        "container web: command not found (exit 127)", 127,
        {"web": ContainerScript(exit_code=127, lines=[(0.0, "sh: 1: bin/rails: not found")])},
        hint="A shell in the container could not find a command (exit 127)",
    ),
    "a non-zero exit": Case(
        "container web exited with code 3", 3,
        {"web": ContainerScript(exit_code=3, lines=[(0.0, "error: migration 3 failed")])},
    ),
    "timeout": Case(
        "timed out after 1s; the task was stopped", 124, {"web": ContainerScript(exits_after=NEVER)},
        life=[Step("PROVISIONING", 0.05), Step("RUNNING", HOLD)], args=("--timeout", "1s"),
    ),
    "secrets denied": Case(
        "container web could not start: its secrets could not be read (access denied)", 125,
        {"web": ContainerScript(exit_code=None)},
        hint="The execution role may not read a secret or parameter in the container definition's `secrets`, or the "
             "KMS key that encrypts it. Fix: Grant role `ecsTaskExecutionRole` (the execution role) "
             "`secretsmanager:GetSecretValue`",
        said_once="unable to retrieve secret from asm", never_ran=True, life=NEVER_STARTED,
        stop_code="TaskFailedToStart", stopped_reason=SECRETS,
    ),
    "log group missing": Case(
        "container web could not start: its log group does not exist", 125,
        {"web": ContainerScript(exit_code=None, reason=NO_LOG_GROUP)},
        hint="The log group named in the container's `logConfiguration` (`awslogs-group`) does not exist in its "
             "region. Fix: Create the log group",
        said_once="The specified log group does not exist.", never_ran=True, life=NEVER_STARTED,
        stop_code="TaskFailedToStart", stopped_reason=NO_LOG_GROUP,
    ),
    "wrong architecture": Case(
        "container web could not run: its image is built for another CPU architecture", 125,
        {"web": ContainerScript(exit_code=None, reason=EXEC_FORMAT)},
        hint="The image was not built for the CPU architecture the task runs on (an arm64 image on X86_64, or the "
             "reverse). Fix: Build `acme/app:latest` for the task's architecture",
        said_once="exec format error", never_ran=True, life=NEVER_STARTED, stop_code="TaskFailedToStart",
        stopped_reason="Task failed to start",
    ),
    "Spot interruption": Case(
        "container web was stopped by a Spot interruption (exit 143)", 143, {"web": ContainerScript(exit_code=143)},
        hint="The container exited on SIGTERM (exit 143) because Fargate Spot (or an EC2 Spot instance) reclaimed its "
             "capacity. Fix: Run it again, or run it on on-demand capacity",
        said_once="Your Spot Task was interrupted.", stop_code="SpotInterruption",
        stopped_reason="Your Spot Task was interrupted.",
    ),
    "an essential sidecar exited": Case(
        "container web was stopped because container envoy exited with code 1 (exit 143)", 143,
        {"envoy": ContainerScript(exit_code=1, exits_after=0.2),
         "web": ContainerScript(exits_after=NEVER, sigterm_delay=0.05, sigterm_exit_code=143)},
        hint="The container exited on SIGTERM (exit 143) because another essential container in the task exited. "
             "Fix: Look at the task's other essential containers",
        containers=(Container("web"), Container("envoy")), life=[Step("PROVISIONING", 0.05), Step("RUNNING", HOLD)],
    ),
}  # fmt: skip


def title(headline: str) -> str:
    return headline[:1].upper() + headline[1:]


@pytest.mark.parametrize("fmt", ["plain", "github", "gitlab"])
@pytest.mark.parametrize("case", list(CASES))
def test_a_common_failure_is_headed_by_its_cause(
    sandbox: Sandbox, run: Run, tmp_path: Path, record_property: Record, *, monkeypatch: pytest.MonkeyPatch,
    case: str, fmt: str,
) -> None:  # fmt: skip
    c = CASES[case]
    record_property("fault", "task failure")
    register(sandbox, *c.containers, life=c.life, stop_code=c.stop_code, stopped_reason=c.stopped_reason,
             scripts=c.scripts)  # fmt: skip
    files = {name: tmp_path / name.lower() for name in ("GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY", "GITHUB_STATE")}
    env: dict[str, str] = {}
    if fmt == "github":
        for name, path in files.items():
            path.touch()
            monkeypatch.setenv(name, str(path))  # actions-toolkit reads them from the process environment
        env = {name: str(path) for name, path in files.items()}
    ran = go(run, "--format", fmt, "--dotenv", str(tmp_path / "out.env"), "--log-drain", "500ms",
             "--start-retries", "0", *c.args, env=env)  # fmt: skip
    assert ran.code == c.code, ran.out
    said = outputs(tmp_path / "out.env")
    assert said["MESSAGE"] == c.headline
    assert said["HINT"].startswith(c.hint) if c.hint else said["HINT"] == "", said["HINT"]
    assert "='" not in ran.out  # no Python repr anywhere a user reads
    assert (said["LOG_URL"] == "") == c.never_ran  # no link to a log stream that never was
    if fmt == "github":
        [error] = [command for command in commands(ran.out) if command.name == "error"]
        assert error.properties["title"] == title(c.headline)
        written = file_command(files["GITHUB_OUTPUT"].read_text())
        assert (written["message"], written["hint"]) == (said["MESSAGE"], said["HINT"])
        summary = files["GITHUB_STEP_SUMMARY"].read_text()
        assert summary.startswith(f"### ❌ {title(c.headline)}\n")
        assert "\\`" not in summary  # our code spans render as code
        assert ("Logs: [CloudWatch]" in summary) != c.never_ran
        result = error.message
    else:
        assert f"ecs-run-task: error: {c.headline}" in ran.lines
        result = ran.out[ran.out.index("ecs-run-task: error: ") :]
        if c.hint:
            assert f"ecs-run-task: fix: {said['HINT'].split(' Fix: ', 1)[1]}" in ran.lines
    if c.said_once:
        assert result.count(c.said_once) == 1, result
    assert ran.out.count("timeout: 1h, then the task is stopped") == (0 if c.args else 1)


def test_the_json_result_gives_the_headline_as_message_and_the_rest_as_details(sandbox: Sandbox, run: Run) -> None:
    register(
        sandbox, web=ContainerScript(exit_code=137, reason="OutOfMemoryError: Container killed due to memory usage")
    )
    ran = go(run, "--format", "json")
    assert ran.code == 137
    result = json.loads(ran.lines[-1])
    assert result["message"] == "container web ran out of memory (exit 137)"
    assert result["details"].endswith(": container web exited with code 137 (OutOfMemoryError: Container killed due "
                                      "to memory usage)")  # fmt: skip
    assert result["hint"]["key"] == "out-of-memory"
    assert result["hint"]["fix"].startswith("Raise `memory` in the definition of container web (now 128 MiB)")


def test_the_timeout_is_said_only_when_a_task_is_about_to_start(sandbox: Sandbox, run: Run) -> None:
    register(sandbox)
    dry = go(run, "--dry-run")
    assert dry.code == 0, dry.out
    assert "timeout:" not in dry.out
    lookup = run("--cluster", "Sample", "-t", "nope")  # a task definition that is not there: nothing starts
    assert lookup.code == 125, lookup.out
    assert "timeout:" not in lookup.out
    started = [line for line in go(run).lines if "warning:" not in line]  # after the cautions, before the start
    assert started[0] == "ecs-run-task: timeout: 1h, then the task is stopped"
