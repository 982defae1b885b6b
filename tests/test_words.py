"""Messages name an input in the words of the face the user wrote it in: `--region` on the command line, `region`
and "the region input" in the Action; the failure catalogue's hints too."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ecs_run_task import words
from ecs_run_task.errors import Hint, InputError
from ecs_run_task.inputs import spec, taskdef
from ecs_run_task.inputs.table import NAMES
from ecs_run_task.plan import request
from ecs_run_task.verdict import failures
from sandbox import ContainerScript, Sandbox
from tests.helpers import Run, go, register


def cli() -> contextlib.AbstractContextManager[None]:
    """What `cli.main` says on the command line."""
    return words.speaking(cli=True, inputs=NAMES)


def problems(**raw: str) -> list[str]:
    with pytest.raises(InputError) as caught:
        spec.build({"task-definition": "app", **{k.replace("_", "-"): v for k, v in raw.items()}})
    return caught.value.problems


def test_a_problem_begins_with_the_flag_on_the_command_line_and_the_input_in_the_action() -> None:
    assert problems(region="mars") == ["region: got 'mars'; expected a region name such as eu-west-1"]
    with cli():
        assert problems(region="mars") == ["--region: got 'mars'; expected a region name such as eu-west-1"]


def test_an_input_named_in_a_sentence_is_a_flag_or_the_input() -> None:
    given = {"launch_type": "FARGATE", "capacity_provider_strategy": "FARGATE_SPOT"}
    assert problems(**given) == [
        "launch-type: got 'FARGATE'; cannot be combined with capacity-provider-strategy: give one of them"
    ]
    with cli():
        assert problems(**given) == [
            "--launch-type: got 'FARGATE'; cannot be combined with --capacity-provider-strategy: give one of them"
        ]
    assert (words.the("region"), words.setting("wait", "false")) == ("the region input", "wait: false")
    with cli():
        assert (words.the("region"), words.setting("wait", "false")) == ("--region", "--wait false")


def test_the_face_is_restored_when_the_run_ends() -> None:
    with cli():
        with words.speaking(cli=False):
            assert words.flag("cluster") == "cluster"
        assert words.flag("cluster") == "--cluster"
    assert words.flag("cluster") == "cluster"


def test_a_hint_made_on_the_command_line_names_flags() -> None:
    oom = "OutOfMemoryError: Container killed due to memory usage"
    action = failures.for_task(exit_code=137, container_reason=oom)
    with cli():
        flags = failures.for_task(exit_code=137, container_reason=oom)
    assert action is not None
    assert flags is not None
    assert action.fix.startswith("Raise the memory: the `memory` input for the task, or `memory` in the container")
    assert flags.fix.startswith("Raise the memory: `--memory` for the task, or `memory` in the container")


@pytest.mark.parametrize(
    ("action", "flags"),
    [
        ("Check the `cluster` input and the region (the `region` input or `AWS_REGION`).",
         "Check `--cluster` and the region (`--region` or `AWS_REGION`)."),
        ("Check the `subnets`, `security-groups` and `assign-public-ip` inputs.",
         "Check `--subnets`, `--security-groups` and `--assign-public-ip`."),
        ("from the task definition or the `task-role-arn` / `execution-role-arn` inputs",
         "from the task definition or `--task-role-arn` / `--execution-role-arn`"),
        ("on-demand capacity: `launch-type: FARGATE`, or", "on-demand capacity: `--launch-type FARGATE`, or"),
        ("Run it again (`start-retries` does so)", "Run it again (`--start-retries` does so)"),
        # what is no input stays: a container definition's field, an awslogs option, an IAM action
        ("`memory` in the container definition, `awslogs-group`, `ecr:BatchGetImage`, `family:revision`",
         "`memory` in the container definition, `awslogs-group`, `ecr:BatchGetImage`, `family:revision`"),
    ],
)  # fmt: skip
def test_the_catalogues_action_words_become_flags_on_the_command_line(action: str, flags: str) -> None:
    assert Hint("k", action, action).fix == action
    with cli():
        assert Hint("k", action, action).fix == flags


def test_no_hint_of_the_catalogue_keeps_an_action_word_on_the_command_line() -> None:
    inputs = "|".join(re.escape(n) for n in NAMES)
    hyphenated = "|".join(re.escape(n) for n in NAMES if "-" in n)  # no task definition field has a hyphen
    action_words = re.compile(rf"`({inputs})` inputs?\b|`({inputs}): |`({hyphenated})`")
    texts = [t for sig in failures.CATALOGUE for t in (sig.cause, sig.fix)]
    texts += [m.then for m in failures.STOPPED_BY.values()]
    with cli():
        said = [Hint("k", text, text).fix for text in texts]
    assert [s for s in said if action_words.search(s)] == []
    assert any(action_words.search(text) for text in texts)  # the catalogue speaks the Action's words


def test_the_command_line_names_flags_and_the_action_inputs(sandbox: Sandbox, run: Run, tmp_path: Path) -> None:
    register(sandbox, web=ContainerScript(exit_code=0))
    ran = run("--cluster", "Nowhere", "-t", "app")
    assert ran.code == 125
    assert "--cluster: 'Nowhere' was not found in us-east-1" in ran.out
    assert "check --cluster and the region" in ran.out
    action = run(env={"INPUT_CLUSTER": "Nowhere", "INPUT_TASK-DEFINITION": "app"})
    assert action.code == 125
    assert "cluster: 'Nowhere' was not found in us-east-1" in action.out
    assert "check the cluster input and the region" in action.out
    assert "--cluster" not in action.out


def test_a_trap_is_said_with_the_flag(sandbox: Sandbox, run: Run) -> None:
    register(sandbox, web=ContainerScript(exit_code=0))
    ran = go(run, "--timeout", "10")
    assert ran.code == 0
    assert "--timeout: 10 means 10 seconds; write 10m for minutes" in ran.out


def test_the_plans_problems_name_flags_on_the_command_line() -> None:
    """The checks against the task definition (network, placement, volumes, a task definition file) too."""

    bridge: dict[str, Any] = {"family": "app", "revision": 1, "networkMode": "bridge"}
    awsvpc = {**bridge, "networkMode": "awsvpc"}
    cases: list[tuple[Callable[[], object], str]] = [
        (lambda: request.network(spec.build({"task-definition": "app", "subnets": "subnet-0123abcd"}), bridge),
         "--subnets: task definition app:1 uses network mode bridge; --subnets, --security-groups and "
         "--assign-public-ip apply only to awsvpc"),
        (lambda: request.network(spec.build({"task-definition": "app"}), awsvpc), "--subnets: required, because"),
        (lambda: request.volumes(spec.build({"task-definition": "app", "volume-configurations":
                                             '[{"name": "data", "managedEBSVolume": {"sizeInGiB": 1}}]'}), bridge),
         "--volume-configurations: 'data' is not a volume"),
        (lambda: taskdef.with_image({"containerDefinitions": [{"name": "web"}]}, "api", "acme/app:v2"),
         "--container: 'api' is not in the task definition"),
    ]  # fmt: skip
    with cli():
        for call, said in cases:
            with pytest.raises(InputError) as caught:
                call()
            assert caught.value.problems[0].startswith(said), caught.value.problems


def test_a_task_definition_file_that_is_no_object_names_the_flag() -> None:

    with cli(), pytest.raises(InputError) as caught:
        taskdef.parse_file("[1]", "./bad.json")
    assert caught.value.problems == ["--task-definition: ./bad.json holds JSON that is not an object"]
