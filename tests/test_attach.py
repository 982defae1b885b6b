"""`attach`: following a task started elsewhere (by hand, by another pipeline) instead of starting one."""

from __future__ import annotations

from pathlib import Path

import pytest

from sandbox import ContainerScript, Sandbox, Scripted, Step
from tests.helpers import Run, outputs, start_task
from tests.lives import exits, family, someone_else_runs


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
