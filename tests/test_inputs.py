"""One table of inputs: action.yml, `--help` and the argv reader agree on names, descriptions and defaults."""

from __future__ import annotations

import subprocess
import sys

import pytest
import yaml

from ecs_run_task.errors import InputError
from ecs_run_task.inputs import table as inputs
from tests.helpers import ROOT


def test_action_yml_declares_each_input_with_the_same_description_and_default() -> None:
    declared = yaml.safe_load((ROOT / "action.yml").read_text())["inputs"]
    assert list(declared) == list(inputs.NAMES)  # the contract's order
    for i in inputs.INPUTS:
        assert declared[i.name]["description"] == i.help, i.name
        assert str(declared[i.name].get("default", "")) == i.default, i.name


def test_help_stands_alone_every_flag_with_its_description_default_and_the_exit_codes() -> None:
    shown = subprocess.run([sys.executable, "-m", "ecs_run_task", "--help"], capture_output=True, text=True,
                           check=True).stdout  # fmt: skip
    flat = " ".join(shown.split())
    for i in inputs.INPUTS:
        assert f"--{i.name}" in shown, i.name
        assert " ".join(i.help.split()) in flat, i.name
        if i.default:
            assert f"{' '.join(i.help.split())} [default: {i.default}]" in flat, i.name
    assert "124 --timeout passed; the tasks were stopped (status: timed-out)" in flat
    assert "--dry-run is --dry-run true" in flat


@pytest.mark.parametrize("switch", [i.name for i in inputs.INPUTS if i.switch])
def test_a_switch_alone_means_true_and_still_takes_a_value(switch: str) -> None:
    assert inputs.from_argv([f"--{switch}"]).raw[switch] == "true"
    assert inputs.from_argv([f"--{switch}", "false"]).raw[switch] == "false"
    assert inputs.from_argv([f"--{switch}", "-t", "app"]).raw == {switch: "true", "task-definition": "app"}


@pytest.mark.parametrize(
    ("typed", "meant"),
    [("--timout", "--timeout"), ("--regin", "--region"), ("--enviroment", "--environment"), ("--dryrun", "--dry-run"),
     ("--task-defintion", "--task-definition"), ("--tag", "--tags"), ("--junit", "--junit-file"),
     ("--json", "--json-logs")],
)  # fmt: skip
def test_a_mistyped_flag_gets_the_flag_it_is_closest_to(typed: str, meant: str) -> None:
    with pytest.raises(InputError) as caught:
        inputs.from_argv([f"{typed}=secret-value", "-t", "app"])
    assert caught.value.problems == [f"{typed}: no such flag; did you mean {meant}? (see ecs-run-task --help)"]


def test_each_unknown_flag_is_a_problem_of_its_own() -> None:
    with pytest.raises(InputError) as caught:
        inputs.from_argv(["--timout", "5m", "--passwrd", "hunter2"])
    assert caught.value.problems == [
        "--timout: no such flag; did you mean --timeout? (see ecs-run-task --help)",
        "unrecognized arguments: --passwrd; a command as an exact argv goes after -- (see ecs-run-task --help)",
    ]
    assert "hunter2" not in str(caught.value.problems)


def test_an_unknown_flag_is_bad_input_naming_the_flag_not_its_value() -> None:
    with pytest.raises(InputError) as caught:
        inputs.from_argv(["--passwrd=hunter2"])
    assert caught.value.problems == [
        "unrecognized arguments: --passwrd; a command as an exact argv goes after -- (see ecs-run-task --help)"
    ]


def test_env_is_explained_beside_environment_in_help() -> None:
    shown = inputs.parser().format_help()
    flat = " ".join(shown.split())
    assert shown.index("--environment VALUE") < shown.index("-e KEY=VALUE, --env KEY=VALUE") < shown.index("--cpu")
    assert "new lines included (a PEM key), where --environment splits its text into KEY=VALUE lines" in flat
