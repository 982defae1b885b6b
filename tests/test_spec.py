"""Input parsing and validation: every bad input is named, with what is accepted, before any AWS call."""

from __future__ import annotations

import pytest

from ecs_run_task import spec
from ecs_run_task.errors import InputError
from ecs_run_task.spec import CapacityProvider

BASE = {"task-definition": "app:3"}


def problems(**raw: str) -> list[str]:
    with pytest.raises(InputError) as caught:
        spec.build({**BASE, **{k.replace("_", "-"): v for k, v in raw.items()}})
    return caught.value.problems


BAD_INPUTS = [
    # (input, value, words the message must hold)
    ("task-definition", "app:0", "family:revision"),
    ("task-definition", "my app", "family:revision"),
    ("task-definition", "app:latest", "family:revision"),
    ("container", "web app", "container name"),
    ("command", '["bin/rails", "db:migrate"', "not valid JSON"),
    ("command", '["bin/rails", 3]', "JSON array of strings"),
    ("command", "echo 'unterminated", "quote it"),
    ("command", "[]", "expected a command"),
    ("environment", "DATABASE_URL", "KEY=VALUE"),
    ("environment", "=value", "line 1 has nothing before '='"),
    ("cpu", "lots", "CPU units"),
    ("memory", "2 TB", "MiB"),
    ("task-role-arn", "my-role", "IAM role ARN"),
    ("execution-role-arn", "arn:aws:iam::123:role/x", "IAM role ARN"),
    ("overrides", "{not json", "not valid JSON"),
    ("overrides", "[1, 2]", "JSON object"),
    ("overrides", '{"containerOverride": []}', "unknown TaskOverride key 'containerOverride'"),
    ("launch-type", "fargate", "FARGATE, EC2, EXTERNAL, MANAGED_INSTANCES"),
    ("launch-type", "LAMBDA", "one of"),
    ("capacity-provider-strategy", "FARGATE_SPOT:x", "name[:weight[:base]]"),
    ("capacity-provider-strategy", "A:1:2:3", "name[:weight[:base]]"),
    ("capacity-provider-strategy", '[{"weight": 1}]', "capacityProvider"),
    ("platform-version", "v1", "LATEST"),
    ("subnets", "subnet-zz", "subnet-0123abcd"),
    ("subnets", "sg-0123abcd", "subnet-0123abcd"),
    ("security-groups", "default", "sg-0123abcd"),
    ("assign-public-ip", "yes", "true or false"),
    ("count", "0", "1 to 10"),
    ("count", "11", "1 to 10"),
    ("count", "two", "1 to 10"),
    ("count", "1.5", "1 to 10"),
    ("tags", "team", "KEY=VALUE"),
    ("tags", "aws:team=x", "reserved prefix"),
    ("propagate-tags", "SERVICE", "TASK_DEFINITION, NONE"),
    ("started-by", "me@laptop", "128 letters"),
    ("enable-execute-command", "1", "true or false"),
    ("wait", "no", "true or false"),
    ("wait", "yes", "true or false"),
    ("timeout", "5x", "duration"),
    ("timeout", "-5", "duration"),
    ("timeout", "1h30", "duration"),
    ("poll-interval", "0", "100ms to 10m"),
    ("poll-interval", "1h", "100ms to 10m"),
    ("logs", "on", "true or false"),
    ("log-drain", "soon", "duration"),
    ("annotate", "False ", "true or false"),
    ("region", "Frankfurt", "region name"),
]


@pytest.mark.parametrize(("name", "value", "expected"), BAD_INPUTS, ids=[f"{n}={v}" for n, v, _ in BAD_INPUTS])
def test_a_bad_input_is_rejected_with_its_name_and_what_is_accepted(name: str, value: str, expected: str) -> None:
    found = problems(**{name: value})
    assert len(found) == 1
    assert found[0].startswith(f"{name}: ")
    assert expected in found[0]


def test_a_missing_task_definition_says_it_is_required() -> None:
    with pytest.raises(InputError) as caught:
        spec.build({"cluster": "Sample"})
    assert caught.value.problems == [
        "task-definition: is required unless service or attach is given: a family (app), family:revision (app:12), an ARN, "
        "or a path to a JSON file (taskdef.json)"
    ]


def test_launch_type_and_capacity_provider_strategy_conflict() -> None:
    assert problems(launch_type="FARGATE", capacity_provider_strategy="FARGATE_SPOT") == [
        "launch-type: got 'FARGATE'; cannot be combined with capacity-provider-strategy: give one of them"
    ]


def test_every_problem_is_reported_at_once_and_the_message_counts_them() -> None:
    with pytest.raises(InputError) as caught:
        spec.build({"task-definition": "app", "count": "0", "wait": "maybe", "timeout": "soon"})
    assert sorted(p.split(":")[0] for p in caught.value.problems) == ["count", "timeout", "wait"]
    assert caught.value.message.startswith("3 inputs are not valid; nothing was started:\n  - ")
    assert caught.value.exit_code == 125


def test_secret_bearing_inputs_are_never_echoed() -> None:
    found = problems(environment="API_TOKEN=hunter2\nPASSWORD", overrides='{"bad": "hunter2"}')
    assert all("hunter2" not in p for p in found)
    assert found[0] == "environment: line 2 has no '=': expected a variable as KEY=VALUE, one a line"


def test_empty_inputs_mean_not_given_as_github_passes_every_declared_input() -> None:
    everything_empty = dict.fromkeys(["cluster", "container", "command", "count", "wait", "timeout", "tags"], "")
    built = spec.build({**everything_empty, "task-definition": "app"})
    assert built == spec.Spec(task_definition="app")


def test_a_full_set_of_inputs_is_parsed() -> None:
    built = spec.build(
        {
            "cluster": "Sample",
            "task-definition": "arn:aws:ecs:eu-west-1:123456789012:task-definition/app:7",
            "container": "web",
            "command": '["bin/rails", "db:migrate"]',
            "environment": "RAILS_ENV=production\n# comment\n\nURL=postgres://u:p@h/db?a=b",
            "cpu": "1 vCPU",
            "memory": "2048",
            "capacity-provider-strategy": "FARGATE_SPOT:3:1, FARGATE:1",
            "subnets": "subnet-0123abcd,subnet-4567efab subnet-89abcdef",
            "security-groups": "sg-0123abcd",
            "assign-public-ip": "TRUE",
            "count": "3",
            "tags": "team=platform\nreason=deploy=1",
            "timeout": "1h30m",
            "poll-interval": "500ms",
            "log-drain": "0",
            "wait": "False",
        }
    )
    assert built.command == ("bin/rails", "db:migrate")
    assert built.environment == (("RAILS_ENV", "production"), ("URL", "postgres://u:p@h/db?a=b"))
    assert built.capacity_provider_strategy == (CapacityProvider("FARGATE_SPOT", 3, 1), CapacityProvider("FARGATE", 1))
    assert built.subnets == ("subnet-0123abcd", "subnet-4567efab", "subnet-89abcdef")
    assert built.tags == (("team", "platform"), ("reason", "deploy=1"))
    assert (built.timeout, built.poll_interval, built.log_drain, built.wait) == (5400.0, 0.5, 0.0, False)
    assert built.assign_public_ip is True
    assert built.count == 3


@pytest.mark.parametrize(
    ("text", "argv"),
    [
        ("bin/rails db:migrate", ("bin/rails", "db:migrate")),
        ("sh -c 'echo \"a b\"; exit 3'", ("sh", "-c", 'echo "a b"; exit 3')),
        ('["echo", "$HOME"]', ("echo", "$HOME")),
        ("echo $HOME", ("echo", "$HOME")),  # split as a shell would, never expanded
    ],
)
def test_command_is_a_json_array_or_split_as_a_posix_shell_would(text: str, argv: tuple[str, ...]) -> None:
    assert spec.build({**BASE, "command": text}).command == argv


@pytest.mark.parametrize(("text", "seconds"), [("90s", 90), ("30m", 1800), ("2h", 7200), ("45", 45), ("0", None)])
def test_timeout_takes_units_or_seconds_and_zero_means_no_limit(text: str, seconds: float | None) -> None:
    assert spec.build({**BASE, "timeout": text}).timeout == seconds
