"""The image as GitLab runs it: gitlab-ci-local runs a pipeline from tests/e2e/gitlab/ with our image as the
job image (`entrypoint: [""]`, `script: ecs-run-task ...`), written by hand (.gitlab-ci.yml) or made by the
component (templates/run-task.yml, included with inputs), the dotenv report carrying the outputs to a later
job. The AWS side is the sandbox on the host loopback."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from sandbox import Sandbox
from tests.helpers import ROOT, script

pytestmark = [pytest.mark.docker, pytest.mark.xdist_group("docker")]  # one worker: one image build, one engine user
HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Pipeline:
    code: int
    out: str
    err: str
    cwd: Path
    seconds: float

    def dotenv(self, job: str) -> dict[str, str]:
        """The job's dotenv report as gitlab-ci-local exported it."""
        reports = self.cwd / ".gitlab-ci-local" / "artifacts" / job / ".gitlab-ci-reports" / "dotenv"
        found = list(reports.glob("*.env"))
        assert len(found) == 1, f"no dotenv report for {job}:\n{self.out}\n{self.err}"
        return dict(line.split("=", 1) for line in found[0].read_text().splitlines() if line)


def pipeline(
    sb: Sandbox, tool: Path, helper: str, family: str, cwd: Path, *, config: str = ".gitlab-ci.yml"
) -> Pipeline:
    """Run tests/e2e/gitlab/`config` as the .gitlab-ci.yml of a project that holds the work tree's templates/
    (a git repository: gitlab-ci-local finds `include: local` files among the tracked ones)."""
    shutil.copy(HERE / "gitlab" / config, cwd / ".gitlab-ci.yml")
    shutil.copytree(ROOT / "templates", cwd / "templates")
    for git in (
        ["init", "-q"],
        ["add", "-A"],
        ["-c", "user.name=e2e", "-c", "user.email=e2e@localhost", "commit", "-qm", "e2e"],
    ):
        subprocess.run(["git", *git], check=True, cwd=cwd, capture_output=True, timeout=30)
    argv = [str(tool), "--network", "host", "--pull-policy", "if-not-present", "--helper-image", helper,
            "--home", str(cwd / "home"), "--no-color",
            "--variable", f"AWS_ENDPOINT_URL={sb.endpoint}", "--variable", f"TASK_FAMILY={family}"]  # fmt: skip
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GCL_", "CI_", "GITLAB_"))}
    started = time.monotonic()
    done = subprocess.run(argv, check=False, cwd=cwd, env=env, capture_output=True, text=True, timeout=900)
    ran = Pipeline(done.returncode, done.stdout, done.stderr, cwd, time.monotonic() - started)
    print(f"gitlab-ci-local pipeline for {family}: exit {ran.code} in {ran.seconds:.1f}s")
    return ran


def verdict(ran: Pipeline, job: str) -> str:
    """gitlab-ci-local's summary for `job`: PASS, WARN or FAIL."""
    found = re.search(rf"^\s*(PASS|WARN|FAIL)\s+{job}\s*$", ran.out + ran.err, re.MULTILINE)
    assert found, f"no verdict for {job}:\n{ran.out}\n{ran.err}"
    return found.group(1)


def failed_with(ran: Pipeline, job: str) -> int:
    """The exit status of `job`'s script, from gitlab-ci-local's "<job> finished in ... FAIL <n>" line."""
    found = re.search(rf"^{job}\s+finished in .*\sFAIL (\d+)\s*$", ran.out + ran.err, re.MULTILINE)
    assert found, f"{job} did not fail:\n{ran.out}\n{ran.err}"
    return int(found.group(1))


def test_exit_3_fails_the_job_with_3_and_the_dotenv_report_carries_the_outputs(
    sandbox: Sandbox, gitlab_ci_local: Path, image: str, gitlab_helper_image: str, tmp_path: Path
) -> None:
    script(sandbox, "app", 3, "migrating")
    ran = pipeline(sandbox, gitlab_ci_local, gitlab_helper_image, "app", tmp_path)
    task_arn = sandbox.tasks()[0].arn
    assert ran.code != 0
    assert verdict(ran, "migrate") == "FAIL"
    assert failed_with(ran, "migrate") == 3
    assert "migrate > migrating" in ran.out
    assert "migrate > E2E job-status=<failed>" in ran.out
    outputs = ran.dotenv("migrate")
    assert outputs["EXIT_CODE"] == "3"
    assert outputs["STATUS"] == "failed"
    assert outputs["TASK_ARN"] == task_arn
    assert (outputs["MESSAGE"], outputs["HINT"]) == ("container web exited with code 3", "")
    assert "ecs-run-task: error: container web exited with code 3" in ran.out + ran.err  # on stderr
    # a later job gets the report as variables
    assert f"report  > E2E exit-code=<3> status=<failed> task-arn=<{task_arn}>" in ran.out


def test_exit_0_passes_the_job(
    sandbox: Sandbox, gitlab_ci_local: Path, image: str, gitlab_helper_image: str, tmp_path: Path
) -> None:
    script(sandbox, "app", 0, "all done")
    ran = pipeline(sandbox, gitlab_ci_local, gitlab_helper_image, "app", tmp_path)
    assert ran.code == 0, ran.out + ran.err
    assert verdict(ran, "migrate") == "PASS"
    outputs = ran.dotenv("migrate")
    assert outputs["EXIT_CODE"] == "0"
    assert outputs["STATUS"] == "succeeded"
    assert outputs["TASK_ARN"] == sandbox.tasks()[0].arn


def test_the_component_fails_its_job_with_the_containers_exit_code_and_a_later_job_reads_its_outputs(
    sandbox: Sandbox, gitlab_ci_local: Path, image: str, gitlab_helper_image: str, tmp_path: Path
) -> None:
    script(sandbox, "app", 3, "migrating")
    ran = pipeline(sandbox, gitlab_ci_local, gitlab_helper_image, "app", tmp_path, config="component.gitlab-ci.yml")
    task_arn = sandbox.tasks()[0].arn
    [request] = sandbox.calls("RunTask")
    assert request["cluster"] == "Sample"  # the job's ECS_RUN_TASK_CLUSTER: the component passed no --cluster
    assert ran.code != 0
    assert verdict(ran, "migrate") == "FAIL"
    assert failed_with(ran, "migrate") == 3
    assert "migrate > migrating" in ran.out
    outputs = ran.dotenv("migrate")
    assert (outputs["EXIT_CODE"], outputs["STATUS"], outputs["TASK_ARN"]) == ("3", "failed", task_arn)
    assert f"report  > E2E exit-code=<3> status=<failed> task-arn=<{task_arn}>" in ran.out


def test_the_component_passes_each_input_as_one_argument_whatever_it_holds(
    sandbox: Sandbox, gitlab_ci_local: Path, image: str, gitlab_helper_image: str, tmp_path: Path
) -> None:
    script(sandbox, "app", 0, "all done")
    ran = pipeline(sandbox, gitlab_ci_local, gitlab_helper_image, "app", tmp_path, config="local-include.gitlab-ci.yml")
    assert ran.code == 0, ran.out + ran.err
    assert verdict(ran, "ecs-run-task") == "PASS"  # the default job name
    [request] = sandbox.calls("RunTask")
    [override] = request["overrides"]["containerOverrides"]
    assert override["name"] == "web"
    assert override["command"] == ["--name", "two words", "it's", "$literal"]
    assert override["environment"] == [{"name": "GREETING", "value": "hello  world"},
                                       {"name": "QUOTED", "value": "\"kept\" 'as is'"},
                                       {"name": "JOB", "value": "ecs-run-task"}]  # fmt: skip
    assert request["tags"] == [{"key": "team", "value": "data ops"}, {"key": "ticket", "value": "OPS-1"}]
    assert request["startedBy"] == "e2e/ecs-run-task"
    assert ran.dotenv("ecs-run-task")["STATUS"] == "succeeded"
