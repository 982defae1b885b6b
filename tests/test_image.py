"""The Docker image, run the way GitHub (action.yml's entrypoint), GitLab (a shell in the job image) and
people (`docker run IMAGE ecs-run-task ...`) run it. Builds the image once per session.

Without a Docker engine these tests skip, except in CI (`CI` set), where they fail: `.ci/run` starts one.
"""

from __future__ import annotations

import json
import subprocess
from typing import Any

import pytest

from ecs_run_task import __version__
from sandbox import Container, ContainerScript, Sandbox, Scripted, Step
from tests.helpers import Run

pytestmark = [pytest.mark.docker, pytest.mark.xdist_group("docker")]  # one worker: one image build, one engine user

KEPT_SERVICES = ["ec2", "ecr", "ecs", "iam", "logs", "sts"]


def docker(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout, check=False)


def inspect(image: str) -> dict[str, Any]:
    answer = docker("image", "inspect", image)
    assert answer.returncode == 0, answer.stderr
    config: dict[str, Any] = json.loads(answer.stdout)[0]["Config"]
    return config


def test_the_command_runs_in_the_image(image: str) -> None:
    ran = docker("run", "--rm", image, "ecs-run-task", "--version")
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.strip() == f"ecs-run-task {__version__}"


def test_no_entrypoint_so_a_shell_script_runs_as_gitlab_runs_it(image: str) -> None:
    config = inspect(image)
    assert config["Entrypoint"] is None
    assert config["Cmd"] == ["ecs-run-task", "--help"]
    ran = docker("run", "--rm", image, "sh", "-c", "ecs-run-task --version && echo via-shell")
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.split() == ["ecs-run-task", __version__, "via-shell"]


def test_environment_is_unbuffered_with_the_venv_first(image: str) -> None:
    env = dict(item.split("=", 1) for item in inspect(image)["Env"])
    assert env["PYTHONUNBUFFERED"] == "1"
    assert env["PYTHONDONTWRITEBYTECODE"] == "1"
    assert env["PATH"].split(":")[0] == "/opt/venv/bin"


def test_action_entrypoints_run_as_github_runs_them(image: str) -> None:
    # action.yml: runs.entrypoint /app/entrypoint.py, runs.post-entrypoint ecs-run-task-post
    main = docker("run", "--rm", "--entrypoint", "/app/entrypoint.py", image, "--version")
    assert main.returncode == 0, main.stderr
    assert main.stdout.strip() == f"ecs-run-task {__version__}"
    post = docker("run", "--rm", "--entrypoint", "ecs-run-task-post", image)  # no saved state: nothing to stop
    assert post.returncode == 0, post.stdout + post.stderr


def test_botocore_keeps_only_the_services_we_call(image: str) -> None:
    script = "import botocore.session; print(' '.join(sorted(botocore.session.get_session().get_available_services())))"
    ran = docker("run", "--rm", image, "python", "-c", script)
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.split() == KEPT_SERVICES


def test_exit_status_through_docker_run_matches_the_cli_in_process(image: str, sandbox: Sandbox, run: Run) -> None:
    sandbox.register(
        "fails",
        [Container(name="app", command=["migrate"])],
        Scripted(
            steps=[Step("PROVISIONING", 0.05), Step("PENDING", 0.05), Step("RUNNING", 0.3)],
            containers={"app": ContainerScript(exit_code=3, lines=[(0.05, "hello from the task")])},
            stop_code="EssentialContainerExited",
        ),
        log_group="/ecs/fails",
    )
    args = ["--cluster", "Sample", "--task-definition", "fails", "--poll-interval", "200ms", "--log-drain", "2s"]
    args += ["--format", "plain"]

    in_process = run(*args)

    env = [f"--env={name}={value}" for name, value in sandbox.env.items()]
    # --network host: the sandbox listens on the host's 127.0.0.1
    in_docker = docker("run", "--rm", "--network", "host", *env, image, "ecs-run-task", *args)
    out = in_docker.stdout + in_docker.stderr

    assert in_process.code == 3, in_process.out
    assert in_docker.returncode == 3, out
    assert "hello from the task" in in_process.out, in_process.out
    assert "hello from the task" in out, out  # log lines stream out of the container
    assert len(sandbox.calls("RunTask")) == 2
