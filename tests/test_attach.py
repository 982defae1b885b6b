"""`attach`: following a task started elsewhere (by hand, by another pipeline) instead of starting one; such a task
is never stopped by the run that follows it."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from ecs_run_task.cli import post_main
from sandbox import HOLD, ContainerScript, Sandbox, Scripted, Step
from tests.helpers import Run, outputs, spawn, start_task
from tests.lives import exits, family, sigterm_once_said, someone_else_runs


@pytest.mark.parametrize("how", ["arn", "id"])
def test_attach_follows_a_running_task_by_arn_or_id(sandbox: Sandbox, run: Run, tmp_path: Path, how: str) -> None:
    family(sandbox, Scripted(steps=[Step("PROVISIONING", 0.05), Step("RUNNING", 1.0)],
                             containers={"web": ContainerScript(exit_code=5, lines=[(0.0, "from the start")])}))  # fmt: skip
    other = someone_else_runs(sandbox)
    ref = other if how == "arn" else other.rsplit("/", 1)[-1]
    ran = run("--cluster", "Sample", "--attach", ref, "--poll-interval", "200ms", "--dotenv", str(tmp_path / "o.env"))
    assert ran.code == 5, ran.out
    got = outputs(tmp_path / "o.env")
    assert (got["TASK_ARN"], got["STATUS"], got["EXIT_CODE"]) == (other, "failed", "5")
    assert "from the start" in ran.lines
    assert len(sandbox.calls("RunTask")) == 1


def test_attach_to_an_unknown_task_says_which_cluster_was_searched(sandbox: Sandbox, run: Run) -> None:
    ran = run("--cluster", "Sample", "--attach", "0123456789abcdef0123456789abcdef")
    assert ran.code == 125, ran.out
    assert "attach: task '0123456789abcdef0123456789abcdef' was not found in cluster 'Sample' (us-east-1)" in ran.out


def test_attach_to_a_task_ecs_does_not_know_yet_asks_again(sandbox: Sandbox, run: Run) -> None:
    """Attached a moment after another pipeline's RunTask: DescribeTasks answers MISSING for its first describe
    (eventual consistency). MISSING is "not yet": the run asks again and follows it."""
    family(sandbox, exits(4))
    arn = start_task(sandbox.client("ecs"), "app", startedBy="pipeline-a")
    sandbox.missing(arn, 1)
    ran = run("--cluster", "Sample", "--attach", arn, "--poll-interval", "200ms")
    assert ran.code == 4, ran.out
    assert f"DescribeTasks does not describe task {arn!r} (MISSING); asking again in" in ran.out
    assert f"following task {arn.rsplit('/', 1)[-1]} (app:1)" in ran.out


def test_attach_in_a_cluster_that_does_not_exist_names_it(sandbox: Sandbox, run: Run) -> None:
    ran = run("--cluster", "Nope", "--attach", "0123456789abcdef0123456789abcdef")
    assert ran.code == 125, ran.out
    assert "cluster: 'Nope' was not found in us-east-1 (ecs:DescribeTasks: " in ran.out


def test_attach_by_arn_alone_follows_it_in_the_cluster_the_arn_names(sandbox: Sandbox, run: Run) -> None:
    family(sandbox, exits(4))
    arn = start_task(sandbox.client("ecs"), "app")  # in cluster Sample; no --cluster given below
    ran = run("--attach", arn, "--poll-interval", "200ms")
    assert ran.code == 4, ran.out
    assert f"following task {arn.rsplit('/', 1)[-1]} (app:1)" in ran.out


# a run that follows a task it did not start never stops it: not at the timeout, not on cancel, not in the post step


def _held(sb: Sandbox, group: str | None = None) -> str:
    family(sb, Scripted(steps=[Step("PROVISIONING", 0.05), Step("RUNNING", HOLD)],
                        containers={"web": ContainerScript(lines=[(0.0, "migrating")])}))  # fmt: skip
    return someone_else_runs(sb, group=group)


def _runs_on(sb: Sandbox, arn: str, out: str) -> None:
    assert sb.calls("StopTask") == [], out
    assert sb.task(arn).last_status == "RUNNING"
    assert (f"this run did not start what it followed, so it left it running (task {arn.rsplit('/', 1)[-1]}: "
            f"https://us-east-1.console.aws.amazon.com/ecs/v2/clusters/Sample/tasks/{arn.rsplit('/', 1)[-1]}/") in out  # fmt: skip
    sb.client("ecs").stop_task(cluster="Sample", task=arn)  # the other pipeline's end, here


@pytest.mark.parametrize("how", ["attach", "if-running: attach"])
def test_a_followed_task_runs_on_at_the_timeout(sandbox: Sandbox, run: Run, tmp_path: Path, how: str) -> None:
    other = _held(sandbox, group="migrations")
    chosen = (
        ["--attach", other] if how == "attach" else ["-t", "app", "--if-running", "attach", "--group", "migrations"]
    )
    ran = run("--cluster", "Sample", *chosen, "--timeout", "2s", "--poll-interval", "200ms",
              "--dotenv", str(tmp_path / "out.env"))  # fmt: skip
    assert ran.code == 124, ran.out
    assert outputs(tmp_path / "out.env")["STATUS"] == "timed-out"
    assert "timed out after 2s; this run did not start what it followed" in ran.out
    assert "migrating" in ran.lines
    _runs_on(sandbox, other, ran.out)


def test_a_followed_task_runs_on_when_the_job_is_cancelled_and_the_post_step_leaves_it(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    other = _held(sandbox)
    state = tmp_path / "state"
    state.touch()
    env = {"GITHUB_ACTIONS": "true", "GITHUB_STATE": str(state)}
    proc = launch_attached(sandbox, other, env)
    out = sigterm_once_said(proc, "lastStatus=RUNNING")
    assert proc.returncode == 143, out
    assert "cancelled by SIGTERM; this run did not start what it followed" in out
    assert "task-arns" not in state.read_text()  # only the tasks a run started go to the post step
    assert post_main({"STATE_cluster": "Sample", "STATE_region": "us-east-1"}) == 0
    _runs_on(sandbox, other, out)


def launch_attached(sb: Sandbox, arn: str, env: dict[str, str]) -> subprocess.Popen[str]:
    return spawn(sb, "--cluster", "Sample", "--attach", arn, "--poll-interval", "200ms", env=env)
