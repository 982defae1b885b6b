"""As the GitHub action: inputs from INPUT_*, outputs and state written to the runner's files."""

from __future__ import annotations

from pathlib import Path

import pytest

from ecs_run_task.cli import post_cli, post_main
from sandbox import HOLD, ContainerScript, Sandbox, Step
from tests.helpers import ROOT, Run, register
from tests.workflow_commands import Command, commands, file_command

INPUTS = ("cluster", "task-definition", "container", "command", "environment", "count", "wait", "timeout",
          "poll-interval", "logs", "log-drain", "annotate", "region", "overrides", "tags", "subnets")  # fmt: skip


@pytest.fixture
def github(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    files = {name: tmp_path / name.lower() for name in ("GITHUB_OUTPUT", "GITHUB_STATE", "GITHUB_STEP_SUMMARY")}
    for name, path in files.items():
        path.touch()
        monkeypatch.setenv(name, str(path))  # actions-toolkit reads these from the process environment
    env = {"GITHUB_ACTIONS": "true", "GITHUB_RUN_ID": "4242", "GITHUB_RUN_ATTEMPT": "2",
           "GITHUB_REPOSITORY": "acme/shop"}  # fmt: skip
    env |= {f"INPUT_{name.upper()}": "" for name in INPUTS}  # the runner passes every declared input
    return env | {name: str(path) for name, path in files.items()}


def test_a_failing_task_fails_the_step_with_an_annotation_and_outputs(sandbox: Sandbox, run: Run,
                                                                      github: dict[str, str]) -> None:  # fmt: skip
    register(sandbox, running=0.1, web=ContainerScript(exit_code=3, lines=[(0.0, "migrating"), (0.05, "it broke")]))
    ran = run(env=github | {"INPUT_CLUSTER": "Sample", "INPUT_TASK-DEFINITION": "app", "INPUT_POLL-INTERVAL": "100ms"})
    assert ran.code == 3
    [task] = sandbox.tasks()
    assert commands(ran.out)[0] == Command("group", {}, "Starting task")
    assert [c for c in commands(ran.out) if c.name == "error"] == [Command(
        "error", {"title": "Container web exited with code 3"},
        f"task {task.arn.rsplit('/', 1)[-1]}: container web exited with code 3\n"
        "The last lines of container web:\nmigrating\nit broke",  # they usually say why
    )]  # fmt: skip
    outputs = file_command(Path(github["GITHUB_OUTPUT"]).read_text())
    assert outputs["exit-code"] == "3"
    assert outputs["status"] == "failed"
    assert outputs["task-arn"] == task.arn
    assert outputs["log-url"].startswith("https://us-east-1.console.aws.amazon.com/cloudwatch/home?region=us-east-1#")
    state = file_command(Path(github["GITHUB_STATE"]).read_text())  # the last value of each name, as the runner keeps
    assert state == {"task-arns": "[]", "cluster": "Sample", "region": "us-east-1"}  # stopped: nothing to do
    assert f'\n["{task.arn}"]\n' in Path(github["GITHUB_STATE"]).read_text()  # saved while the task ran
    assert sandbox.calls("RunTask")[0]["startedBy"] == "gh/acme/shop/4242/2"
    summary = Path(github["GITHUB_STEP_SUMMARY"]).read_text()
    assert summary.startswith("### ❌ Container web exited with code 3\n")
    assert "| web 3 | EssentialContainerExited |" in summary
    assert summary.endswith("```text\nmigrating\nit broke\n```\n\n</details>\n\n")


def test_bad_inputs_fail_the_step_before_anything_starts(sandbox: Sandbox, run: Run, github: dict[str, str]) -> None:
    ran = run(env=github | {"INPUT_TASK-DEFINITION": "app", "INPUT_COUNT": "11", "INPUT_WAIT": "yes"})
    assert ran.code == 125
    [error] = [c for c in commands(ran.out) if c.name == "error"]
    assert error.message.startswith("2 inputs are not valid; nothing was started:\n")
    assert "count: got '11'; expected a whole number from 1 to 10" in error.message
    outputs = file_command(Path(github["GITHUB_OUTPUT"]).read_text())
    assert (outputs["status"], outputs["exit-code"], outputs["task-arns"]) == ("invalid-input", "", "[]")
    assert sandbox.calls() == []


def test_required_is_enforced_by_us_not_the_runner(sandbox: Sandbox, run: Run, github: dict[str, str]) -> None:
    ran = run(env=github)
    assert ran.code == 125
    assert "task-definition: is required" in ran.out


def test_action_yml_declares_every_input_and_its_defaults_mean_not_given() -> None:
    """The runner passes declared defaults as if the user gave them: they must build the same spec as nothing."""
    import yaml  # moto's dependency; only this test reads YAML

    from ecs_run_task.inputs import spec
    from ecs_run_task.inputs import table as inputs

    action = yaml.safe_load((ROOT / "action.yml").read_text())
    assert set(action["inputs"]) == set(inputs.NAMES)
    defaults = {name: str(declared.get("default", "")) for name, declared in action["inputs"].items()}
    assert spec.build({**defaults, "task-definition": "app"}) == spec.build({"task-definition": "app"})
    assert set(action["outputs"]) == {"task-arn", "task-arns", "task-id", "task-definition-arn", "status",
                                      "exit-code", "stop-code", "stopped-reason", "log-url",
                                      "deployment-action"}  # fmt: skip


def test_an_unexpected_error_stops_the_task_and_exits_125_not_a_containers_1(
    sandbox: Sandbox, run: Run, github: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    register(sandbox, life=[Step("RUNNING", 30.0)])
    Path(github["GITHUB_STATE"]).unlink()  # the runner always makes it; a bug of ours must not look like exit 1
    ran = run(env=github | {"INPUT_CLUSTER": "Sample", "INPUT_TASK-DEFINITION": "app"})
    assert ran.code == 125
    [task] = sandbox.tasks()
    assert sandbox.calls("StopTask") == [{"cluster": "Sample", "task": task.arn,
                                          "reason": "Stopped by ecs-run-task: ecs-run-task failed: Exception"}]  # fmt: skip
    [error] = [c for c in commands(ran.out) if c.name == "error"]
    assert error.message.startswith("ecs-run-task failed unexpectedly: Exception: Missing file at path: ")
    assert "Traceback (most recent call last):" in capsys.readouterr().err


def test_wait_false_leaves_the_task_running_past_the_post_step(sandbox: Sandbox, run: Run,
                                                               github: dict[str, str]) -> None:  # fmt: skip
    register(sandbox, life=[Step("RUNNING", HOLD)])
    ran = run(env=github | {"INPUT_CLUSTER": "Sample", "INPUT_TASK-DEFINITION": "app", "INPUT_WAIT": "false"})
    assert ran.code == 0
    state = file_command(Path(github["GITHUB_STATE"]).read_text())
    assert post_main({f"STATE_{name}": value for name, value in state.items()}) == 0
    assert sandbox.calls("StopTask") == []
    assert len(sandbox.running_tasks()) == 1


def test_the_post_step_command_says_what_it_does_with_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        post_cli(["--help"])
    assert done.value.code == 0
    shown = " ".join(capsys.readouterr().out.split())
    assert shown.startswith("usage: ecs-run-task-post [-h] [--version] The GitHub Action's post step")
    assert "stops each of those tasks that still runs" in shown


def test_the_post_step_command_without_arguments_is_the_post_step(sandbox: Sandbox) -> None:
    assert post_cli([]) == 0  # nothing saved: nothing to do
    assert sandbox.calls("DescribeTasks") == []
