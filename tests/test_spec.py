"""Input parsing and validation: every bad input is named, with what is accepted, before any AWS call."""

from __future__ import annotations

import pytest

from ecs_run_task.errors import InputError
from ecs_run_task.inputs import spec
from ecs_run_task.inputs.spec import CapacityProvider

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
    ("volume-configurations", '{"name": "data"}', "JSON array of"),
    ("volume-configurations", '[{"managedEBSVolume": {}}]', '{"name": "VOLUME"'),
    ("volume-configurations", '[{"name": "data"', "not valid JSON"),
    ("volume-configurations", '[{"name": "d"}, {"name": "d"}]', "'d' is configured twice"),
    ("placement-constraints", "distinctHost", "is not distinctInstance or memberOf:EXPRESSION"),
    ("placement-constraints", "memberOf:", "is not distinctInstance or memberOf:EXPRESSION"),
    ("placement-constraints", "distinctInstance:x", "is not distinctInstance"),
    ("placement-constraints", '[{"type": "memberOf", "expr": "x"}]', '{"type": ..., "expression": ...}'),
    ("placement-constraints", '[{"type": "spread"}]', '\'{"type": "spread"}\' is not distinctInstance'),
    ("placement-constraints", "\n".join(["distinctInstance"] * 11), "at most 10"),
    ("placement-strategy", "binpack:disk", "is not spread:FIELD, binpack:cpu, binpack:memory or random"),
    ("placement-strategy", "spread", "is not spread:FIELD"),
    ("placement-strategy", "random:host", "is not spread:FIELD"),
    ("placement-strategy", "Random", "is not spread:FIELD"),
    ("placement-strategy", '{"type": "random"}', "JSON array of"),
    ("placement-strategy", "random\n" * 6, "at most 5"),
    ("enable-ecs-managed-tags", "yes", "true or false"),
]


# IDs that mutmut can select a test by: one line, no "::"
@pytest.mark.parametrize(
    ("name", "value", "expected"),
    BAD_INPUTS,
    ids=[f"{n}={v}".replace("::", ":").replace("\n", " ") for n, v, _ in BAD_INPUTS],
)
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


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ("distinctInstance", [("distinctInstance", None)]),
        ("memberOf:attribute:ecs.instance-type =~ t3.*", [("memberOf", "attribute:ecs.instance-type =~ t3.*")]),
        # a comma separates items only before a known form: the expression keeps its own
        ("memberOf:attribute:ecs.availability-zone in [us-east-1a, us-east-1b], distinctInstance",
         [("memberOf", "attribute:ecs.availability-zone in [us-east-1a, us-east-1b]"), ("distinctInstance", None)]),
        ("distinctInstance,memberOf:attribute:x == a, b", [("distinctInstance", None), ("memberOf", "attribute:x == a, b")]),
        ("memberOf:ec2InstanceId in ['i-1', 'i-2']\n\ndistinctInstance\n",
         [("memberOf", "ec2InstanceId in ['i-1', 'i-2']"), ("distinctInstance", None)]),
        ('[{"type": "memberOf", "expression": "task:group == db"}, {"type": "distinctInstance"}]',
         [("memberOf", "task:group == db"), ("distinctInstance", None)]),
        ("[]", []),
    ],
)  # fmt: skip
def test_placement_constraints_are_short_forms_one_a_line_or_json(text: str, parsed: list[tuple[str, str]]) -> None:
    built = spec.build({**BASE, "placement-constraints": text}).placement_constraints
    assert [(p.type, p.argument) for p in built] == parsed


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ("spread:attribute:ecs.availability-zone, binpack:memory",
         [("spread", "attribute:ecs.availability-zone"), ("binpack", "memory")]),
        ("random\nbinpack:cpu", [("random", None), ("binpack", "cpu")]),
        ("spread:instanceId,random", [("spread", "instanceId"), ("random", None)]),
        ('[{"type": "spread", "field": "host"}, {"type": "random"}]', [("spread", "host"), ("random", None)]),
    ],
)  # fmt: skip
def test_placement_strategy_is_short_forms_comma_or_newline_separated_or_json(
    text: str, parsed: list[tuple[str, str]]
) -> None:
    built = spec.build({**BASE, "placement-strategy": text}).placement_strategy
    assert [(p.type, p.argument) for p in built] == parsed


@pytest.mark.parametrize(
    ("given", "why"),
    [({"launch-type": "FARGATE"}, "launch-type: FARGATE"),
     ({"capacity-provider-strategy": "FARGATE_SPOT:1,FARGATE:1"}, "capacity provider FARGATE_SPOT")],
)  # fmt: skip
def test_placement_on_fargate_is_refused_naming_each_placement_input(given: dict[str, str], why: str) -> None:
    found = problems(**{k.replace("-", "_"): v for k, v in given.items()}, placement_constraints="distinctInstance",
                     placement_strategy="random")  # fmt: skip
    assert found == [
        f"placement-constraints: ECS takes none for tasks on Fargate ({why}); they apply to EC2 instances",
        f"placement-strategy: ECS takes none for tasks on Fargate ({why}); they apply to EC2 instances",
    ]


def test_the_new_inputs_are_parsed() -> None:
    volume = '[{"name": "data", "managedEBSVolume": {"sizeInGiB": 20, "roleArn": "arn:aws:iam::1:role/x"}}]'
    built = spec.build({**BASE, "volume-configurations": volume, "enable-ecs-managed-tags": "true",
                        "log-file": " logs/run.log "})  # fmt: skip
    assert built.volume_configurations == ({"name": "data", "managedEBSVolume": {"sizeInGiB": 20,
                                                                                 "roleArn": "arn:aws:iam::1:role/x"}},)  # fmt: skip
    assert (built.enable_ecs_managed_tags, built.log_file) == (True, "logs/run.log")


def test_a_log_file_without_logs_would_stay_empty_so_it_is_refused() -> None:
    assert problems(log_file="run.log", logs="false") == [
        "log-file: holds the lines that logs streams, and logs is false: give one of them"
    ]


@pytest.mark.parametrize(
    ("given", "said"),
    [
        ({"timeout": "10"}, ["timeout: 10 means 10 seconds; write 10m for minutes"]),
        ({"timeout": "59.5"}, ["timeout: 59.5 means 59.5 seconds; write 59.5m for minutes"]),
        ({"timeout": "60"}, []),
        ({"timeout": "10s"}, []),  # a unit says it was meant
        ({"timeout": "0"}, []),  # no limit
        ({"command": "bin/rails db:migrate && bin/rails db:seed"},
         ['command: no shell runs it, so `&&` reach the program as plain arguments; for a shell, give ["sh", "-c", "..."]']),
        ({"command": "echo $HOME; ls | wc"},
         ['command: no shell runs it, so `|`, `;`, `$` reach the program as plain arguments; for a shell, give ["sh", "-c", "..."]']),
        ({"command": '["sh", "-c", "bin/rails db:migrate && bin/rails db:seed"]'}, []),  # a shell runs it: as meant
        ({"command": '["/bin/bash", "-c", "echo $HOME"]'}, []),
        ({"command": "bin/rails db:migrate"}, []),
        ({"command": "echo `date`"},
         ['command: no shell runs it, so backticks reach the program as plain arguments; for a shell, give ["sh", "-c", "..."]']),
        ({"command": "DB_PASS=s3cret bin/rails db:migrate"},
         ["command: its first word is DB_PASS=..., but no shell runs the command, so that word would be the program ECS "
          "starts, and fail; give DB_PASS with the environment input instead"]),
        ({"command": '["RAILS_ENV=production", "bin/rails"]'}, [
          "command: its first word is RAILS_ENV=..., but no shell runs the command, so that word would be the program "
          "ECS starts, and fail; give RAILS_ENV with the environment input instead"]),
        ({"command": "db_pass=s3cret bin/rails db:migrate"},
         ["command: its first word is db_pass=..., but no shell runs the command, so that word would be the program ECS "
          "starts, and fail; give db_pass with the environment input instead"]),
        ({"command": "bin/rails db:migrate RAILS_ENV=production"}, []),  # an argument: the program reads it
        ({"command": "./=odd"}, []),
    ],
)  # fmt: skip
def test_traps_are_said_as_warnings_naming_only_the_operator(given: dict[str, str], said: list[str]) -> None:
    assert list(spec.build({"task-definition": "app", **given}).warnings) == said


@pytest.mark.parametrize(
    ("environment", "said"),
    [
        ('{"RAILS_ENV": "production"}', "environment: looks like JSON; give a variable as KEY=VALUE lines, one a line (A=1, then B=2 below it)"),
        ("RAILS_ENV=production,DB_POOL=5", "environment: line 1 (RAILS_ENV=...) looks like several on one line, separated by commas; give one KEY=VALUE a line"),
    ],
)  # fmt: skip
def test_environment_as_json_or_on_one_line_is_refused_with_the_line_form(environment: str, said: str) -> None:
    assert problems(environment=environment) == [said]


def test_a_comma_inside_a_value_is_still_one_variable() -> None:
    built = spec.build({"task-definition": "app", "environment": "JAVA_OPTS=-Da=1,b=2"})
    assert built.environment == (("JAVA_OPTS", "-Da=1,b=2"),)


def built(**raw: str) -> spec.Spec:
    return spec.build({**BASE, **{k.replace("_", "-"): v for k, v in raw.items()}})


TASK_ID = "0123456789abcdef0123456789abcdef"
NOT_ANY_JSON = "[" + "1" * 5000 + "]"  # an integer past Python's digit limit
SHAPE = '{"capacityProvider": "NAME", "weight": 1, "base": 0}'


def test_a_capacity_provider_strategy_in_json_keeps_each_weight_and_base() -> None:
    text = '[{"capacityProvider": "FARGATE_SPOT", "weight": 3, "base": 1}, {"capacityProvider": "FARGATE"}]'
    assert built(capacity_provider_strategy=text).capacity_provider_strategy == (
        CapacityProvider("FARGATE_SPOT", 3, 1), CapacityProvider("FARGATE", None, None))  # fmt: skip


@pytest.mark.parametrize(
    "text",
    ['["FARGATE"]', '[{"capacityProvider": 3}]', '[{"capacityProvider": "X", "weight": true}]',
     '[{"capacityProvider": "X", "base": false}]', '[{"capacityProvider": "X", "weight": "3"}]',
     '[{"capacityProvider": "X", "base": "0"}]'],
)  # fmt: skip
def test_a_capacity_provider_strategy_in_json_takes_whole_numbers_not_booleans_or_text(text: str) -> None:
    assert problems(capacity_provider_strategy=text) == [
        f"capacity-provider-strategy: got {text!r}; expected a JSON array of {SHAPE} objects"
    ]


@pytest.mark.parametrize(
    ("name", "what"),
    [("capacity-provider-strategy", "a JSON array"), ("volume-configurations", "a JSON array"),
     ("overrides", "a JSON object"), ("command", "a JSON array"), ("placement-constraints", "a JSON array"),
     ("placement-strategy", "a JSON array")],
)  # fmt: skip
def test_json_that_python_cannot_read_names_what_was_expected(name: str, what: str) -> None:
    [found] = problems(**{name.replace("-", "_"): NOT_ANY_JSON})
    assert found.startswith(f"{name}: ")
    assert found.endswith(f" is not {what} we can read: a number is too long or it nests too deep")


def test_tags_are_checked_against_ecs_limits_at_their_bounds() -> None:
    at_most = "\n".join([f"{'k' * 128}={'v' * 256}"] + [f"t{i}=v" for i in range(49)])
    assert len(built(tags=at_most).tags) == 50
    for key, value in (("k" * 129, "v"), ("k", "v" * 257)):
        assert problems(tags=f"{key}={value}")[0].endswith(
            f"tags: tag {key!r}: keys are at most 128 characters and values at most 256")  # fmt: skip
    assert problems(tags=at_most + "\nmore=1")[0].endswith(": at most 50 tags are accepted, got 51")
    assert problems(tags="team")[0].endswith(": line 1 has no '=': expected a tag as KEY=VALUE, one a line")


def test_overrides_without_container_overrides_are_taken_as_given() -> None:
    assert built(overrides='{"cpu": "512"}').overrides == {"cpu": "512"}


def test_an_unknown_task_override_key_lists_the_accepted_ones() -> None:
    assert problems(overrides='{"containerOverride": []}') == [
        "overrides: unknown TaskOverride key 'containerOverride'; accepted: containerOverrides, cpu, ephemeralStorage, "
        "executionRoleArn, inferenceAcceleratorOverrides, memory, taskRoleArn"
    ]


@pytest.mark.parametrize(
    "text",
    ['{"containerOverrides": {}}', '{"containerOverrides": [{"name": 3}]}', '{"containerOverrides": ["web"]}'],
)
def test_container_overrides_must_be_objects_with_a_name(text: str) -> None:
    assert problems(overrides=text) == [
        'overrides: containerOverrides: expected an array of objects with a "name", e.g. [{"name": "web"}]'
    ]


@pytest.mark.parametrize("environment", ["{}", '[{"value": "1"}]', '["A=1"]'])
def test_a_container_overrides_environment_must_be_name_value_objects(environment: str) -> None:
    text = f'{{"containerOverrides": [{{"name": "web", "environment": {environment}}}]}}'
    assert problems(overrides=text) == [
        'overrides: containerOverrides \'web\': environment must be an array of {"name": ..., "value": ...}'
    ]


def test_volume_configurations_of_the_wrong_shape_say_the_right_one() -> None:
    assert problems(volume_configurations='[{"nme": "x"}]') == [
        'volume-configurations: got \'[{"nme": "x"}]\'; expected a JSON array of {"name": "VOLUME", "managedEBSVolume": '
        '{"roleArn": ..., "sizeInGiB": ...}} objects, one for each volume the task definition configures at launch'
    ]


def test_the_poll_interval_takes_100ms_to_10m_and_nothing_past_them() -> None:
    assert (built(poll_interval="100ms").poll_interval, built(poll_interval="10m").poll_interval) == (0.1, 600.0)
    for text in ("99ms", "601"):
        assert problems(poll_interval=text) == [f"poll-interval: got {text!r}; expected a duration from 100ms to 10m"]


@pytest.mark.parametrize("path", ["logs/a\nb.log", "logs/a\0b.log"])
def test_a_log_file_is_a_path_on_one_line(path: str) -> None:
    assert problems(log_file=path) == [f"log-file: got {path!r}; expected a file path on one line"]


@pytest.mark.parametrize(
    ("timeout", "warned"),
    [("30", True), ("0.5", True), ("59", True), ("60", False), ("0", False), ("30m", False), ("90", False)],
)  # fmt: skip
def test_a_bare_timeout_under_a_minute_is_warned_about(timeout: str, warned: bool) -> None:
    said = (f"timeout: {timeout} means {timeout} seconds; write {timeout}m for minutes",)
    assert built(timeout=timeout).warnings == (said if warned else ())


@pytest.mark.parametrize(
    ("command", "shown"),
    [("bin/migrate && bin/seed", "`&&`"), ("bin/migrate; bin/seed", "`;`"), ("echo $HOME", "`$`"),
     ("bin/migrate | tee log 2>&1", "`|`, `2>&1`"), ('["echo", "a;b"]', ""), ("echo `date`", "backticks"),
     ("sh", ""), ('["bash", "-c"]', "")],
)  # fmt: skip
def test_shell_syntax_in_a_command_is_warned_about_naming_only_the_operators(command: str, shown: str) -> None:
    said = (f"command: no shell runs it, so {shown} reach the program as plain arguments; for a shell, "
            'give ["sh", "-c", "..."]')  # fmt: skip
    assert built(command=command).warnings == ((said,) if shown else ())


def test_attach_alone_follows_a_task_and_starts_nothing() -> None:
    assert spec.build({"attach": TASK_ID}) == spec.Spec(attach=TASK_ID)


def test_attach_follows_to_the_answer_so_wait_false_is_refused() -> None:
    with pytest.raises(InputError) as caught:
        spec.build({"attach": TASK_ID, "wait": "false"})
    assert caught.value.problems == [
        "attach: cannot be combined with wait: false: attach follows a task to its answer; leave wait out"
    ]


@pytest.mark.parametrize(
    ("given", "names"),
    [({"task-definition": "app:3"}, ["task-definition"]), ({"task-definition": "taskdef.json"}, ["task-definition"]),
     ({"service": "web", "count": "2"}, ["service", "count"])],
)  # fmt: skip
def test_attach_cannot_be_combined_with_inputs_that_start_a_task(given: dict[str, str], names: list[str]) -> None:
    with pytest.raises(InputError) as caught:
        spec.build({"attach": TASK_ID, **given})
    assert caught.value.problems == [
        f"attach: cannot be combined with {name}: attach follows a task that runs already, so nothing is started; "
        f"give {name} or attach, not both"
        for name in names
    ]


EXACT_REFUSALS = [
    # (input, value, what is accepted, word for word)
    ("service", "my service", "a service name or ARN"),
    ("image", "repo/app tag", "an image reference such as repo/app:tag or repo/app@sha256:..."),
    ("cluster", "my cluster", "a cluster name (letters, digits, - and _) or ARN"),
    ("container", "web app", "a container name (letters, digits, - and _)"),
    ("cpu", "lots", "CPU units (256, 1024, ...) or vCPUs (0.5 vCPU)"),
    ("memory", "2 TB", "MiB (512, 2048, ...) or GB (2 GB)"),
    ("task-role-arn", "my-role", "an IAM role ARN"),
    ("execution-role-arn", "my-role", "an IAM role ARN"),
    ("platform-version", "v1", "LATEST or a version such as 1.4.0"),
    ("started-by", "me@laptop", "up to 128 letters, digits, -, _ and /"),
    ("group", "a\nb", "one line of at most 255 characters"),
    ("region", "Frankfurt", "a region name such as eu-west-1"),
    ("if-running", "skip", "one of start, wait, fail, attach"),
    ("start-retries", "11", "a whole number from 0 to 10"),
    ("launch-type", "LAMBDA", "one of FARGATE, EC2, EXTERNAL, MANAGED_INSTANCES"),
    ("propagate-tags", "SERVICE", "one of TASK_DEFINITION, NONE"),
]


@pytest.mark.parametrize(("name", "value", "accepted"), EXACT_REFUSALS, ids=[n for n, _, _ in EXACT_REFUSALS])
def test_a_refusal_names_the_input_the_value_and_exactly_what_is_accepted(name: str, value: str, accepted: str) -> None:
    assert problems(**{name.replace("-", "_"): value}) == [f"{name}: got {value!r}; expected {accepted}"]


def test_a_task_to_attach_to_is_an_arn_or_an_id() -> None:
    with pytest.raises(InputError) as caught:
        spec.build({"attach": "task-1"})
    assert caught.value.problems == [
        "attach: got 'task-1'; expected a task ARN (arn:aws:ecs:...:task/CLUSTER/ID) or a task ID"
    ]


def test_the_inputs_not_in_the_full_set_are_parsed_too() -> None:
    got = built(image="repo/app:1.2", dry_run="true", logs="false", start_retries="0", if_running="wait",
                platform_version="LATEST", group="migrations", region="eu-west-1", annotate="false")  # fmt: skip
    assert (got.image, got.dry_run, got.logs, got.start_retries, got.if_running) == (
        "repo/app:1.2",
        True,
        False,
        0,
        "wait",
    )
    assert (got.platform_version, got.group, got.region, got.annotate) == ("LATEST", "migrations", "eu-west-1", False)
    assert built(start_retries="10").start_retries == 10


def test_json_logs_and_junit_file_are_read_with_their_defaults() -> None:
    assert (built().json_logs, built().junit_file) == ("pretty", None)
    got = built(json_logs="raw", junit_file="reports/migrate.xml")
    assert (got.json_logs, got.junit_file) == ("raw", "reports/migrate.xml")
    assert problems(json_logs="yaml") == ["json-logs: got 'yaml'; expected one of pretty, raw"]


def test_a_problem_names_the_environment_variable_the_value_came_from() -> None:
    with pytest.raises(InputError) as caught:
        spec.build({**BASE, "count": "0"}, origins={"count": "ECS_RUN_TASK_COUNT"})
    assert caught.value.problems == ["count (from ECS_RUN_TASK_COUNT): got '0'; expected a whole number from 1 to 10"]


def test_a_task_definition_is_a_file_if_it_ends_in_json_or_holds_a_slash_and_is_not_an_arn() -> None:
    arn = "arn:aws:ecs:us-east-1:123456789012:task-definition/app:7"
    by_arn = spec.build({"task-definition": arn})
    assert (by_arn.task_definition, by_arn.task_definition_file) == (arn, None)
    assert spec.build({"task-definition": "deploy/taskdef"}).task_definition_file == "deploy/taskdef"
    assert spec.build({"task-definition": "taskdef.json"}).task_definition_file == "taskdef.json"


def test_a_long_value_is_shown_cut_at_80_characters() -> None:
    assert problems(region="a" * 80) == [f"region: got {'a' * 80!r}; expected a region name such as eu-west-1"]
    assert problems(region="a" * 81) == [f"region: got {'a' * 77 + '...'!r}; expected a region name such as eu-west-1"]


def test_subnets_and_security_groups_are_taken_up_to_their_limits() -> None:
    subnets = [f"subnet-{i:08x}" for i in range(17)]
    groups = [f"sg-{i:08x}" for i in range(6)]
    assert len(built(subnets=" ".join(subnets[:16]), security_groups=" ".join(groups[:5])).subnets) == 16
    assert problems(subnets=" ".join(subnets))[0].endswith("; at most 16 are accepted, got 17")
    assert problems(security_groups=" ".join(groups))[0].endswith("; at most 5 are accepted, got 6")


def test_placement_takes_up_to_its_limits() -> None:
    assert len(built(placement_constraints="distinctInstance\n" * 10).placement_constraints) == 10
    assert len(built(placement_strategy="random\n" * 5).placement_strategy) == 5
    expression = "attribute:stack == " + "x" * 1981
    assert built(placement_constraints=f"memberOf:{expression}").placement_constraints == (
        spec.Placement("memberOf", expression),)  # fmt: skip
    [found] = problems(placement_constraints=f"memberOf:{expression}x")
    assert found.endswith(
        " is not distinctInstance or memberOf:EXPRESSION; give one a line (or separate them by commas)"
    )


def test_placement_short_forms_drop_trailing_commas_and_lone_ones() -> None:
    assert built(placement_constraints="memberOf:attribute:stack == BOX,\n,\ndistinctInstance,").placement_constraints == (
        spec.Placement("memberOf", "attribute:stack == BOX"), spec.Placement("distinctInstance"))  # fmt: skip
    assert problems(placement_constraints="distinctInstance\nX") == [
        "placement-constraints: got 'distinctInstance\\nX'; 'X' is not distinctInstance or memberOf:EXPRESSION; give "
        "one a line (or separate them by commas)"
    ]


def test_each_e_flag_is_one_variable_and_a_bad_one_is_named_by_its_place() -> None:
    given = spec.build({**BASE, "environment": "A=1"}, env_pairs=["B=x=y", "C=line\nnext"])
    assert given.environment == (("A", "1"), ("B", "x=y"), ("C", "line\nnext"))
    with pytest.raises(InputError) as caught:
        spec.build(BASE, env_pairs=["A=1", "SECRET"])
    assert caught.value.problems == ["-e #2: expected a variable as KEY=VALUE"]


@pytest.mark.parametrize(
    ("cluster", "looked_in"),
    [(None, "prod"), ("prod", "prod"), ("arn:aws:ecs:us-east-1:123456789012:cluster/prod", "arn:aws:ecs:us-east-1:123456789012:cluster/prod")],
)  # fmt: skip
def test_attach_by_arn_looks_in_the_cluster_the_arn_names(cluster: str | None, looked_in: str) -> None:
    arn = f"arn:aws:ecs:us-east-1:123456789012:task/prod/{TASK_ID}"
    given = {"attach": arn, **({"cluster": cluster} if cluster else {})}
    assert spec.build(given).cluster == looked_in
    assert spec.build({"attach": TASK_ID}).cluster == "default"  # an ID names no cluster, nor an ARN of the old form
    assert spec.build({"attach": f"arn:aws:ecs:us-east-1:123456789012:task/{TASK_ID}"}).cluster == "default"


def test_attach_by_arn_in_another_cluster_than_the_one_given_is_refused() -> None:
    with pytest.raises(InputError) as caught:
        spec.build({"attach": f"arn:aws:ecs:us-east-1:123456789012:task/prod/{TASK_ID}", "cluster": "staging"})
    assert caught.value.problems == [
        "attach: the task's ARN names cluster 'prod', but cluster is 'staging'; give the cluster the task runs in, "
        "or leave cluster out"
    ]


@pytest.mark.parametrize(("name", "value"), [
    ("cpu", "\u0661\u0660\u0662\u0664"),  # Arabic-Indic digits, which Python's \d and int() take
    ("memory", "\uff12\uff10\uff14\uff18"),  # fullwidth digits
    ("memory", "\u0662 GB"),
    ("count", "\u0663"),
    ("start-retries", "\u0661"),
    ("timeout", "\u0663\u0660"),
    ("timeout", "\u0663\u0660m"),
    ("log-drain", "\u0665s"),
    ("poll-interval", "\u0662"),
    ("platform-version", "1.\u0664.0"),
    ("task-definition", "app:\u0667"),
])  # fmt: skip
def test_numbers_are_ascii_digits_only(name: str, value: str) -> None:
    with pytest.raises(InputError) as caught:
        spec.build({"task-definition": "app", name: value})
    [problem] = caught.value.problems
    assert problem.startswith(f"{name}: got "), problem


def test_gate_deployment_with_a_service_is_parsed() -> None:
    assert spec.build({"service": "web", "gate-deployment": "true"}) == spec.Spec(service="web", gate_deployment=True)
    assert spec.build({"service": "web", "gate-deployment": "false"}) == spec.Spec(service="web")


@pytest.mark.parametrize(
    ("given", "said"),
    [
        ({"task-definition": "app"}, "gate-deployment: needs service: the service whose deployment in progress is to be gated"),
        ({"service": "web", "wait": "false"}, "gate-deployment: cannot be combined with wait: false: gate-deployment continues or rolls back the deployment on the task's answer; leave wait out"),
        ({"service": "web", "count": "2"}, "gate-deployment: runs one task, and count is 2: one answer continues or rolls back the deployment; leave count out"),
        ({"service": "web", "if-running": "attach"}, "gate-deployment: cannot be combined with if-running: attach: the task running already is not the deployment's new revision, and its answer would continue the deployment; use if-running: wait or if-running: fail"),
        ({"attach": TASK_ID}, "attach: cannot be combined with gate-deployment: attach follows a task that runs already, so nothing is started; give gate-deployment or attach, not both"),
    ],
)  # fmt: skip
def test_gate_deployment_needs_a_service_one_task_and_its_answer(given: dict[str, str], said: str) -> None:
    with pytest.raises(InputError) as caught:
        spec.build({"gate-deployment": "true", **given})
    assert caught.value.problems == [said]


def test_the_value_of_a_name_value_first_word_is_hidden() -> None:
    assert spec.build({"task-definition": "app", "command": "DB_PASS=s3cret bin/rails db:migrate"}).hidden == (
        "s3cret",
    )
    assert spec.build({"task-definition": "app", "command": "A=1 run"}).hidden == ()  # too short to mask safely
    assert spec.build({"task-definition": "app", "command": "bin/rails DB_PASS=s3cret"}).hidden == ()
    assert spec.build({"task-definition": "app"}).hidden == ()
