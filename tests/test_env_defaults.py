"""The CLI's flags default to ECS_RUN_TASK_<NAME> variables (a GitLab job's `variables:`); the command line wins."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ecs_run_task.inputs import table as inputs
from sandbox import Sandbox
from tests.helpers import Ran, Run, go, outputs, register


def env_names(ran_task: dict[str, object]) -> list[str]:
    [container] = ran_task["overrides"]["containerOverrides"]  # type: ignore[index]
    return [e["name"] for e in container["environment"]]


def test_a_run_configured_by_variables_alone(sandbox: Sandbox, run: Run, tmp_path: Path) -> None:
    register(sandbox)
    dotenv = tmp_path / "out.env"
    ran: Ran = run(env={"ECS_RUN_TASK_CLUSTER": "Sample", "ECS_RUN_TASK_TASK_DEFINITION": "app",
                        "ECS_RUN_TASK_POLL_INTERVAL": "200ms", "ECS_RUN_TASK_COUNT": "2",
                        "ECS_RUN_TASK_ENVIRONMENT": "RAILS_ENV=production\nRELEASE=42", "ECS_RUN_TASK_TAGS": "team=db",
                        "ECS_RUN_TASK_FORMAT": "json", "ECS_RUN_TASK_DOTENV": str(dotenv)})  # fmt: skip
    assert ran.code == 0, ran.out
    [body] = sandbox.calls("RunTask")
    assert (body["cluster"], body["count"], body["tags"]) == ("Sample", 2, [{"key": "team", "value": "db"}])
    assert env_names(body) == ["RAILS_ENV", "RELEASE"]
    assert json.loads(ran.lines[-1])["status"] == "succeeded"  # --format json, from its variable
    assert outputs(dotenv)["STATUS"] == "succeeded"  # --dotenv, from its variable


def test_a_flag_on_the_command_line_wins_and_repeated_inputs_add_the_variables_lines_first(
    sandbox: Sandbox, run: Run
) -> None:
    register(sandbox)
    variables = {"ECS_RUN_TASK_CLUSTER": "Nope", "ECS_RUN_TASK_TASK_DEFINITION": "ghost", "ECS_RUN_TASK_COUNT": "3",
                 "ECS_RUN_TASK_ENVIRONMENT": "FROM_VARIABLE=1", "ECS_RUN_TASK_TAGS": "team=db",
                 "ECS_RUN_TASK_COMMAND": "false"}  # fmt: skip
    ran = run("--cluster", "Sample", "-t", "app", "--count", "1", "--poll-interval", "200ms", "--environment",
              "FROM_FLAG=2", "-e", "FROM_E=3", "--tags", "why=migrate", "--", "true", env=variables)  # fmt: skip
    assert ran.code == 0, ran.out
    [body] = sandbox.calls("RunTask")
    assert (body["cluster"], body["count"]) == ("Sample", 1)
    assert body["taskDefinition"].endswith(":task-definition/app:1")
    assert body["overrides"]["containerOverrides"][0]["command"] == ["true"]  # after --: the command line's
    assert env_names(body) == ["FROM_VARIABLE", "FROM_FLAG", "FROM_E"]
    assert body["tags"] == [{"key": "team", "value": "db"}, {"key": "why", "value": "migrate"}]


def test_an_empty_variable_is_not_given(sandbox: Sandbox, run: Run) -> None:
    register(sandbox)
    ran = go(run, env={"ECS_RUN_TASK_COUNT": "", "ECS_RUN_TASK_TAGS": ""})
    assert ran.code == 0, ran.out
    [body] = sandbox.calls("RunTask")
    assert (body["count"], "tags" in body) == (1, False)  # the defaults, as if the variables were not set
    assert "ecs-run-task: status=succeeded exit-code=0" in ran.lines


@pytest.mark.parametrize(
    ("variables", "flags", "problem"),
    [
        ({"ECS_RUN_TASK_COUNT": "0"}, [], "count (from ECS_RUN_TASK_COUNT): got '0'; expected a whole number"),
        ({"ECS_RUN_TASK_WAIT": "yes"}, [], "wait (from ECS_RUN_TASK_WAIT): got 'yes'; expected true or false"),
        ({"ECS_RUN_TASK_TAGS": "team"}, ["--tags", "why=x"],
         "tags (from ECS_RUN_TASK_TAGS, then --tags): line 1 has no '='"),
        ({"ECS_RUN_TASK_FORMAT": "xml"}, [], "format (from ECS_RUN_TASK_FORMAT): got 'xml'; expected one of auto,"),
        ({"ECS_RUN_TASK_COUNT": "1"}, ["--count", "0"], "  - --count: got '0'"),  # a flag's value is the flag's
    ],
)  # fmt: skip
def test_a_bad_value_from_a_variable_is_named_as_such_and_nothing_starts(
    sandbox: Sandbox, run: Run, variables: dict[str, str], flags: list[str], problem: str
) -> None:
    register(sandbox)
    ran = run("--cluster", "Sample", "-t", "app", *flags, env=variables)
    assert ran.code == 125, ran.out
    assert problem in ran.out
    assert sandbox.calls("RunTask") == []


def test_the_action_reads_its_inputs_only(sandbox: Sandbox, run: Run) -> None:
    """`INPUT_*` is the action's whole configuration: a variable meant for a CLI run changes nothing."""
    register(sandbox)
    given = {f"INPUT_{i.upper()}": "" for i in inputs.NAMES}
    given |= {"INPUT_CLUSTER": "Sample", "INPUT_TASK-DEFINITION": "app", "INPUT_POLL-INTERVAL": "200ms"}
    ran = run(env={**given, "ECS_RUN_TASK_COUNT": "0", "ECS_RUN_TASK_TAGS": "team=db"})
    assert ran.code == 0, ran.out
    [body] = sandbox.calls("RunTask")
    assert (body["count"], "tags" in body) == (1, False)


def test_help_says_flags_read_variables(run: Run, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        run("--help")
    shown = " ".join(capsys.readouterr().out.split())
    assert "read ECS_RUN_TASK_<NAME> from the environment as their default" in shown
    assert "ECS_RUN_TASK_TASK_DEFINITION for --task-definition" in shown
    assert "a flag on the command line wins" in shown
