"""The GitLab component (templates/run-task.yml) stays in step with action.yml: the same inputs with the same
defaults and descriptions, each reaching the CLI. Running it is tests/e2e/test_gitlab.py's part."""

from __future__ import annotations

import re
from typing import Any

import yaml  # moto's dependency

from ecs_run_task.inputs import table as inputs
from tests.helpers import ROOT

JOB_INPUTS = ["job-name", "stage", "job-image"]  # the job's own shape, not the task's


def load() -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """(action.yml's inputs, the component's inputs, the component's one job)."""
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    spec, body = yaml.safe_load_all((ROOT / "templates" / "run-task.yml").read_text())
    [job] = body.values()
    return action["inputs"], spec["spec"]["inputs"], job


def as_action_default(value: object) -> str:
    """A GitLab default as action.yml writes it: booleans lower-case, numbers as text, none as empty."""
    return str(value).lower() if isinstance(value, bool) else str(value)


def test_the_component_declares_action_ymls_inputs_in_its_order_after_its_job_inputs() -> None:
    action, component, _ = load()
    assert list(component) == JOB_INPUTS + list(action)
    assert set(action) == set(inputs.NAMES)


def test_defaults_and_descriptions_are_action_ymls() -> None:
    action, component, _ = load()
    for name, declared in action.items():
        assert as_action_default(component[name]["default"]) == declared.get("default", ""), name
        assert component[name]["description"] == declared["description"], name


def test_every_input_may_be_omitted_and_typed_ones_are_the_booleans_and_numbers() -> None:
    action, component, _ = load()
    for name, declared in component.items():
        assert "default" in declared, f"{name} would be required"
        kind = declared.get("type", "string")
        if name in action and action[name].get("default") in ("true", "false"):
            assert kind == "boolean", name
        elif name in ("count", "start-retries"):
            assert kind == "number"
        else:
            assert kind == "string", name


def test_every_task_input_reaches_the_cli_once_as_its_own_flag() -> None:
    action, component, job = load()
    [script] = job["script"]
    for name in action:
        if component[name].get("type", "string") == "string":
            # a variable set from the input, passed only when non-empty, as one argument
            variable = "ECS_RUN_TASK_INPUT_" + name.upper().replace("-", "_")
            assert job["variables"][variable] == f"$[[ inputs.{name} ]]"
            expected = f'${{{variable}:+"--{name}=${variable}"}}'
        else:  # a boolean or number GitLab has checked: safe as script text
            expected = f"--{name}=$[[ inputs.{name} ]]"
        assert script.count(f" {expected} ") == 1, name
    assert sorted(re.findall(r"--([\w-]+)=", script)) == sorted([*action, "dotenv"])  # nothing else, nothing twice
    assert script.endswith(f" --dotenv={job['artifacts']['reports']['dotenv']}")
    assert job["image"] == {"name": "$[[ inputs.job-image ]]", "entrypoint": [""]}
