"""The GitLab component (templates/run-task.yml) stays in step with action.yml: the same inputs with the same
descriptions, each reaching the CLI, and an input left empty passing nothing, so a job's ECS_RUN_TASK_<NAME>
variable (or the CLI's own default) applies. The job's real script runs here in sh and bash, with the inputs put
in as GitLab interpolates them and a stub `ecs-run-task` that records its argv and environment, which the CLI's
own readers then turn into the run's spec. Running it in GitLab's way is tests/e2e/test_gitlab.py's part."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml  # moto's dependency

from ecs_run_task.inputs import spec
from ecs_run_task.inputs import table as inputs
from tests.helpers import ROOT

JOB_INPUTS = ["job-name", "stage", "job-image"]  # the job's own shape, not the task's
SHELLS = [shell for shell in ("sh", "bash") if shutil.which(shell)]  # a job image's shell: bash if it has one
SWITCHES = ("true", "false")
# For each input with a default that is not a switch, a value other than that default, as a job would set it
OTHER_VALUES = {"cluster": "from-variable", "count": "3", "timeout": "90s", "poll-interval": "5s",
                "log-drain": "3s", "start-retries": "5", "if-running": "wait", "json-logs": "raw"}  # fmt: skip
# Inputs whose other-than-default value has rules of its own (gate-deployment needs service, wait and one task), so
# it cannot be set together with every other one: checked on its own
ALONE = {"gate-deployment": {"service": "web"}}
INTERPOLATION = re.compile(r"\$\[\[\s*inputs\.([\w-]+)\s*\]\]")


def load() -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """(action.yml's inputs, the component's inputs, the component's one job)."""
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    spec_, body = yaml.safe_load_all((ROOT / "templates" / "run-task.yml").read_text())
    [job] = body.values()
    return action["inputs"], spec_["spec"]["inputs"], job


def defaults(*, alone: bool = False) -> dict[str, str]:
    """The inputs action.yml (and so the CLI) gives a default, with that default (those of ALONE only if `alone`)."""
    action, _, _ = load()
    return {name: declared["default"] for name, declared in action.items()
            if declared.get("default") and (alone or name not in ALONE)}  # fmt: skip


def other_than_default(name: str, default: str) -> str:
    if default in SWITCHES:
        return "false" if default == "true" else "true"
    assert name in OTHER_VALUES, f"{name} has a default ({default}): give OTHER_VALUES a value other than it"
    return OTHER_VALUES[name]


def field(name: str) -> str:
    return name.replace("-", "_")


def interpolate(node: Any, component: dict[str, Any], given: dict[str, str]) -> Any:
    """`node` with every `$[[ inputs.NAME ]]` replaced as GitLab does: the given value, else the input's default."""
    if isinstance(node, dict):
        return {interpolate(k, component, given): interpolate(v, component, given) for k, v in node.items()}
    if isinstance(node, list):
        return [interpolate(item, component, given) for item in node]
    if isinstance(node, str):

        def value(found: re.Match[str]) -> str:
            name = found.group(1)
            assert name in component, f"$[[ inputs.{name} ]]: no such input"
            return str(given.get(name, component[name]["default"]))

        return INTERPOLATION.sub(value, node)
    return node


@dataclass(frozen=True)
class Called:
    """What the job's script ran `ecs-run-task` with."""

    argv: list[str]
    env: dict[str, str]

    @property
    def given(self) -> inputs.Argv:
        return inputs.from_argv(self.argv, self.env)

    @property
    def spec(self) -> spec.Spec:
        given = self.given
        return spec.build(given.raw, given.env_pairs, given.origins)


def run_job(tmp_path: Path, shell: str, given: dict[str, str], variables: dict[str, str]) -> Called:
    """The component's job script, included with `given` inputs, run by `shell` with the job's variables (the
    template's and `variables`, as a job's own or the project's would be) in its environment."""
    action, component, job = load()
    assert set(given) <= set(action), "given: task inputs only"
    job = interpolate(job, component, given)
    stub = tmp_path / "bin" / "ecs-run-task"
    stub.parent.mkdir()
    record = tmp_path / "called.json"
    stub.write_text(f"#!{sys.executable}\nimport json, os, sys\n"
                    f"json.dump({{'argv': sys.argv[1:], 'env': dict(os.environ)}}, open({str(record)!r}, 'w'))\n")  # fmt: skip
    stub.chmod(0o755)
    env = {"PATH": f"{stub.parent}{os.pathsep}{os.environ['PATH']}", **job["variables"], **variables}
    [script] = job["script"]
    subprocess.run([shell, "-ec", script], check=True, cwd=tmp_path, env=env, timeout=60)
    called = json.loads(record.read_text())
    return Called(called["argv"], called["env"])


def test_the_component_declares_action_ymls_inputs_in_its_order_after_its_job_inputs() -> None:
    action, component, _ = load()
    assert list(component) == JOB_INPUTS + list(action)
    assert set(action) == set(inputs.NAMES)


def test_task_inputs_default_to_empty_with_action_ymls_descriptions_naming_what_then_applies() -> None:
    action, component, _ = load()
    for name, declared in action.items():
        assert component[name]["default"] == "", name
        described = declared["description"]
        if declared.get("default"):
            described += f" Empty (the default): {inputs.variable(name)} if set, else {declared['default']}."
        assert component[name]["description"] == described, name


def test_every_input_may_be_omitted_and_is_a_string() -> None:
    """No boolean or number input: GitLab cannot leave those empty, so they would always be passed."""
    _, component, _ = load()
    for name, declared in component.items():
        assert "default" in declared, f"{name} would be required"
        assert declared.get("type", "string") == "string", name
        assert isinstance(declared["default"], str), name


def test_every_task_input_reaches_the_cli_once_as_its_own_flag_only_when_not_empty() -> None:
    action, _, job = load()
    [script] = job["script"]
    for name in action:
        # a variable set from the input, passed only when non-empty, as one argument
        variable = "ECS_RUN_TASK_INPUT_" + name.upper().replace("-", "_")
        assert job["variables"][variable] == f"$[[ inputs.{name} ]]"
        assert script.count(f' ${{{variable}:+"--{name}=${variable}"}} ') == 1, name
    assert sorted(re.findall(r"--([\w-]+)=", script)) == sorted([*action, "dotenv"])  # nothing else, nothing twice
    assert "$[[" not in script  # no input is script text
    assert script.endswith(f" --dotenv={job['artifacts']['reports']['dotenv']}")
    assert job["image"] == {"name": "$[[ inputs.job-image ]]", "entrypoint": [""]}


@pytest.mark.parametrize("shell", SHELLS)
def test_an_input_left_at_its_default_passes_nothing_so_the_jobs_ecs_run_task_variable_applies(
    tmp_path: Path, shell: str
) -> None:
    """For every input with a default: ECS_RUN_TASK_TIMEOUT=90s etc. in the job's variables reach the CLI."""
    values = {name: other_than_default(name, default) for name, default in defaults().items()}
    variables = {inputs.variable(name): value for name, value in values.items()}
    called = run_job(tmp_path, shell, {"task-definition": "app"}, variables)
    assert called.argv == ["--task-definition=app", "--dotenv=ecs-run-task.env"]  # no flag for the others
    assert called.given.origins == {name: inputs.variable(name) for name in values}  # each from its variable
    ran = called.spec
    assert (ran.timeout, ran.poll_interval, ran.cluster, ran.count, ran.wait) == (90.0, 5.0, "from-variable", 3, False)
    assert ran == spec.build({"task-definition": "app", **values})
    for name in values:
        assert getattr(ran, field(name)) != getattr(spec.Spec(), field(name)), f"{name}: still the CLI's default"


@pytest.mark.parametrize("shell", SHELLS)
def test_with_neither_input_nor_variable_the_default_the_description_names_applies(tmp_path: Path, shell: str) -> None:
    called = run_job(tmp_path, shell, {"task-definition": "app"}, {})
    assert called.argv == ["--task-definition=app", "--dotenv=ecs-run-task.env"]
    ran = called.spec
    assert ran == spec.build({"task-definition": "app"})
    for name, default in defaults(alone=True).items():  # the default action.yml and the description name is the CLI's
        assert getattr(ran, field(name)) == getattr(spec.build({"task-definition": "app", name: default}), field(name))


@pytest.mark.parametrize("shell", SHELLS)
def test_a_given_input_wins_over_its_variable(tmp_path: Path, shell: str) -> None:
    values = {name: other_than_default(name, default) for name, default in defaults().items()}
    variables = {inputs.variable(name): default for name, default in defaults().items()}  # the inputs differ
    called = run_job(tmp_path, shell, {"task-definition": "app", **values}, variables)
    assert set(called.argv) == {f"--{name}={value}" for name, value in values.items()} | {
        "--task-definition=app", "--dotenv=ecs-run-task.env"}  # fmt: skip
    assert called.given.origins == {}  # nothing from a variable
    assert called.spec == spec.build({"task-definition": "app", **values})


@pytest.mark.parametrize("shell", SHELLS)
@pytest.mark.parametrize("name", list(ALONE))
def test_an_input_with_rules_of_its_own_takes_its_variable_when_left_empty_and_wins_when_given(
    tmp_path: Path, shell: str, name: str
) -> None:
    default = defaults(alone=True)[name]
    value, needs = other_than_default(name, default), ALONE[name]
    for folder in ("variable", "input"):
        (tmp_path / folder).mkdir()
    called = run_job(tmp_path / "variable", shell, needs, {inputs.variable(name): value})
    assert f"--{name}={value}" not in called.argv
    assert called.given.origins == {name: inputs.variable(name)}
    assert getattr(called.spec, field(name)) == getattr(spec.build({**needs, name: value}), field(name))
    assert getattr(called.spec, field(name)) != getattr(spec.Spec(), field(name))
    called = run_job(tmp_path / "input", shell, {**needs, name: value}, {inputs.variable(name): default})
    assert f"--{name}={value}" in called.argv
    assert called.spec == spec.build({**needs, name: value})
