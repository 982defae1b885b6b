"""Bad input, end to end through the CLI against the sandbox: exit 125, an error naming the input, no RunTask.

Each row: the arguments (after `--cluster Sample`), the input the error must name, and whether the outputs
file can be written (not when the command line itself does not parse)."""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import pytest

from ecs_run_task.inputs.table import NAMES as INPUTS
from sandbox import Container, Sandbox
from tests.helpers import Record, Run, outputs, register


class Bad(NamedTuple):
    args: list[str]
    names: str  # text the error must hold: the input's name, e.g. "count:"
    parsed: bool = True  # argv parsed, so --dotenv is known and written


T = ["-t", "app"]
ROLE = "arn:aws:iam::123456789012:role/task"
EBS_SIZE_AS_TEXT = f'[{{"name": "data", "managedEBSVolume": {{"sizeInGiB": "20", "roleArn": "{ROLE}"}}}}]'
ROWS: dict[str, Bad] = {
    # task-definition
    "no task definition": Bad([], "task-definition: is required"),
    "revision 0": Bad(["-t", "app:0"], "task-definition: got 'app:0'"),
    "revision not a number": Bad(["-t", "app:latest"], "task-definition:"),
    "family with a space": Bad(["-t", "my app"], "task-definition:"),
    "family that does not exist": Bad(["-t", "ghost"], "task-definition: 'ghost' was not found"),
    "revision that does not exist": Bad(["-t", "app:99"], "task-definition: 'app:99' was not found"),
    "task definition file that does not exist": Bad(["-t", "./nowhere/taskdef.json"], "task-definition:"),
    "task definition file with broken JSON": Bad(["-t", "{tmp}/broken.json"], "task-definition:"),
    "task definition file holding a list": Bad(["-t", "{tmp}/list.json"], "task-definition:"),
    # service, image, dry-run
    "service that does not exist": Bad(["--service", "ghost"], "service: 'ghost' was not found"),
    "service name with a space": Bad(["--service", "my service"], "service:"),
    "image with a space": Bad([*T, "--image", "repo/app: v2"], "image:"),
    "image for a container not in the task definition": Bad(
        [*T, "--image", "repo/app:v2", "--container", "nope"], "container: 'nope' is not in"
    ),
    "dry-run: maybe": Bad([*T, "--dry-run", "maybe"], "dry-run:"),
    # container
    "container not in the task definition": Bad([*T, "--container", "nope"], "container: 'nope' is not in"),
    "container name with a slash": Bad([*T, "--container", "web/1"], "container:"),
    "command with several containers and none named": Bad(["-t", "pair", "--command", "true"], "container: required"),
    # command
    "command: broken JSON array": Bad([*T, "--command", '["bin/rails", "db:migrate"'], "command:"),
    "command: JSON array of numbers": Bad([*T, "--command", "[1, 2]"], "command:"),
    "command: empty JSON array": Bad([*T, "--command", "[]"], "command:"),
    "command: unterminated quote": Bad([*T, "--command", "echo 'hi"], "command:"),
    "command: both --command and --": Bad([*T, "--command", "true", "--", "false"], "command:", parsed=False),
    # environment
    "environment: KEY without =": Bad([*T, "-e", "NOVALUE"], "-e #1:"),
    "environment: =VALUE without KEY": Bad([*T, "-e", "=value"], "-e #1:"),
    "environment: a bad line among good ones": Bad([*T, "--environment", "A=1\nB\nC=3"], "environment: line 2"),
    # starting: retries, one at a time, attach
    "start-retries: 11": Bad(
        [*T, "--start-retries", "11"], "start-retries: got '11'; expected a whole number from 0 to 10"
    ),
    "start-retries: a word": Bad([*T, "--start-retries", "twice"], "start-retries:"),
    "if-running: unknown mode": Bad(
        [*T, "--if-running", "skip"], "if-running: got 'skip'; expected one of start, wait, fail, attach"
    ),
    "attach: not a task": Bad(["--attach", "my task"], "attach: got 'my task'"),
    "attach with a task definition": Bad(
        [*T, "--attach", "0123456789abcdef0123456789abcdef"], "--attach: cannot be combined with --task-definition"
    ),
    "attach with a command": Bad(
        ["--attach", "0123456789abcdef0123456789abcdef", "-c", "true"], "--attach: cannot be combined with --command"
    ),
    "attach with count": Bad(
        ["--attach", "0123456789abcdef0123456789abcdef", "--count", "2"], "--attach: cannot be combined with --count"
    ),
    # sizes and roles
    "cpu: words": Bad([*T, "--cpu", "lots"], "cpu:"),
    "memory: terabytes": Bad([*T, "--memory", "2 TB"], "memory:"),
    "task-role-arn: not an ARN": Bad([*T, "--task-role-arn", "task-role"], "task-role-arn:"),
    "execution-role-arn: short account": Bad(
        [*T, "--execution-role-arn", ROLE.replace("123456789012", "123")], "execution-role-arn:"
    ),
    # overrides
    "overrides: broken JSON": Bad([*T, "--overrides", '{"cpu": "256"'], "overrides:"),
    "overrides: a JSON array": Bad([*T, "--overrides", "[]"], "overrides:"),
    "overrides: unknown key": Bad([*T, "--overrides", '{"containerOverride": []}'], "overrides: unknown"),
    # placement
    "launch-type: unknown": Bad([*T, "--launch-type", "SPOT"], "launch-type:"),
    "launch-type: lower case": Bad([*T, "--launch-type", "fargate"], "launch-type:"),
    "launch-type with capacity-provider-strategy": Bad(
        [*T, "--launch-type", "FARGATE", "--capacity-provider-strategy", "FARGATE_SPOT:1"],
        "--launch-type: got 'FARGATE'; cannot be combined with --capacity-provider-strategy",
    ),
    "capacity-provider-strategy: weight not a number": Bad(
        [*T, "--capacity-provider-strategy", "FARGATE:x"], "capacity-provider-strategy:"
    ),
    "capacity-provider-strategy: too many parts": Bad(
        [*T, "--capacity-provider-strategy", "A:1:2:3"], "capacity-provider-strategy:"
    ),
    "capacity-provider-strategy: JSON without a name": Bad(
        [*T, "--capacity-provider-strategy", '[{"weight": 1}]'], "capacity-provider-strategy:"
    ),
    "platform-version: v-prefixed": Bad([*T, "--platform-version", "v1.4"], "platform-version:"),
    # network
    "subnets: not an ID": Bad(["-t", "vpc", "--subnets", "subnet-xyz"], "subnets:"),
    "subnets for a bridge task definition": Bad([*T, "--subnets", "subnet-0123abcd"], "subnets:"),
    "awsvpc task definition without subnets": Bad(["-t", "vpc"], "subnets: required"),
    "security-groups: not an ID": Bad(["-t", "vpc", "--security-groups", "default"], "security-groups:"),
    "security-groups: six of them": Bad(
        ["-t", "vpc", "--security-groups", ",".join(f"sg-0000000{i}" for i in range(6))], "security-groups:"
    ),
    "assign-public-ip: yes": Bad(["-t", "vpc", "--assign-public-ip", "yes"], "assign-public-ip:"),
    # count
    "count 0": Bad([*T, "--count", "0"], "count:"),
    "count 11": Bad([*T, "--count", "11"], "count:"),
    "count -1": Bad([*T, "--count", "-1"], "count:"),
    "count in words": Bad([*T, "--count", "two"], "count:"),
    # tags and naming
    "tags: aws: prefix": Bad([*T, "--tags", "aws:owner=me"], "tags:"),
    "tags: KEY without =": Bad([*T, "--tags", "owner"], "tags:"),
    "tags: key over 128 characters": Bad([*T, "--tags", "k" * 129 + "=v"], "tags:"),
    "propagate-tags: ALL": Bad([*T, "--propagate-tags", "ALL"], "propagate-tags:"),
    "started-by: spaces": Bad([*T, "--started-by", "deploy bot"], "started-by:"),
    "started-by: 129 characters": Bad([*T, "--started-by", "x" * 129], "started-by:"),
    "group: 256 characters": Bad([*T, "--group", "g" * 256], "group:"),
    # booleans
    "enable-execute-command: 1": Bad([*T, "--enable-execute-command", "1"], "enable-execute-command:"),
    "wait: yes": Bad([*T, "--wait", "yes"], "wait:"),
    "logs: on": Bad([*T, "--logs", "on"], "logs:"),
    "annotate: no": Bad([*T, "--annotate", "no"], "annotate:"),
    # durations
    "timeout: words": Bad([*T, "--timeout", "ten"], "timeout:"),
    "timeout: negative": Bad([*T, "--timeout=-5s"], "timeout:"),
    "timeout: days": Bad([*T, "--timeout", "1d"], "timeout:"),
    "poll-interval: 0": Bad([*T, "--poll-interval", "0"], "poll-interval:"),
    "poll-interval: an hour": Bad([*T, "--poll-interval", "1h"], "poll-interval:"),
    "log-drain: forever": Bad([*T, "--log-drain", "forever"], "log-drain:"),
    # region, flags
    "region: mars": Bad([*T, "--region", "mars"], "region:"),
    "cluster: a name ECS refuses": Bad([*T, "--cluster", "my cluster!"], "cluster:"),
    "unknown flag": Bad([*T, "--no-such-flag", "x"], "--no-such-flag", parsed=False),
    "format: unknown": Bad([*T, "--format", "xml"], "--format", parsed=False),
    "an abbreviated flag": Bad([*T, "--time", "5m"], "--time: no such flag; did you mean --timeout?", parsed=False),
    "overrides: a field of the wrong type": Bad(
        [*T, "--overrides", '{"cpu": 512}'], "Invalid type for parameter overrides.cpu"
    ),
    # volumes
    "volume-configurations: not JSON": Bad([*T, "--volume-configurations", "data:20"], "volume-configurations:"),
    "volume-configurations: a JSON object": Bad(
        [*T, "--volume-configurations", '{"name": "data"}'], "volume-configurations:"
    ),
    "volume-configurations: a volume not configured at launch": Bad(
        [*T, "--volume-configurations", '[{"name": "data"}]'], "volume-configurations: 'data' is not a volume"
    ),
    "volume-configurations: no roleArn": Bad(
        ["-t", "ebs", "--volume-configurations", '[{"name": "data", "managedEBSVolume": {"sizeInGiB": 20}}]'],
        'volume-configurations: Missing required parameter in volumeConfigurations[0].managedEBSVolume: "roleArn"',
    ),
    "volume-configurations: size as text": Bad(
        ["-t", "ebs", "--volume-configurations", EBS_SIZE_AS_TEXT],
        "volume-configurations: Invalid type for parameter volumeConfigurations[0].managedEBSVolume.sizeInGiB",
    ),
    # placement
    "placement-constraints: unknown short form": Bad(
        [*T, "--placement-constraints", "distinctHost"], "placement-constraints: got 'distinctHost'"
    ),
    "placement-constraints: broken JSON": Bad(
        [*T, "--placement-constraints", '[{"type": "memberOf"'], "placement-constraints: got"
    ),
    "placement-strategy: unknown short form": Bad(
        [*T, "--placement-strategy", "spread:host, binpack:disk"], "placement-strategy: got"
    ),
    "placement-strategy: JSON of the wrong shape": Bad(
        [*T, "--placement-strategy", '[{"type": "spread", "fields": "host"}]'], "placement-strategy: got"
    ),
    "placement-constraints with launch-type FARGATE": Bad(
        ["-t", "vpc", "--launch-type", "FARGATE", "--placement-constraints", "distinctInstance"],
        "--placement-constraints: ECS takes none for tasks on Fargate (--launch-type FARGATE)",
    ),
    "placement-strategy with a FARGATE_SPOT capacity provider": Bad(
        ["-t", "vpc", "--capacity-provider-strategy", "FARGATE_SPOT", "--placement-strategy", "random"],
        "placement-strategy: ECS takes none for tasks on Fargate (capacity provider FARGATE_SPOT)",
    ),
    "placement-strategy for a task definition that requires FARGATE": Bad(
        ["-t", "vpc", "--subnets", "subnet-0123abcd", "--placement-strategy", "random"],
        "placement-strategy: ECS takes none for tasks on Fargate (task definition vpc:1 requires FARGATE)",
    ),
    "enable-ecs-managed-tags: yes": Bad([*T, "--enable-ecs-managed-tags", "yes"], "enable-ecs-managed-tags:"),
    # log-file
    "log-file: a directory": Bad([*T, "--log-file", "{tmp}"], "log-file: {tmp} cannot be written"),
    "log-file with logs false": Bad([*T, "--log-file", "{tmp}/run.log", "--logs", "false"], "log-file:"),
}
BUGS: dict[str, str] = {}  # row name -> "BUG: ..." for a known bug (strict xfail), none now


def _rows() -> list[object]:
    return [
        pytest.param(name, marks=pytest.mark.xfail(strict=True, reason=BUGS[name])) if name in BUGS else name
        for name in ROWS
    ]


@pytest.fixture
def definitions(sandbox: Sandbox) -> Sandbox:
    register(sandbox)  # family app: one container, bridge
    sandbox.register("pair", [Container("web"), Container("worker")])
    sandbox.register("vpc", [Container("web")], network_mode="awsvpc", fargate=True)
    sandbox.register("ebs", [Container("web")], volumes=[{"name": "data", "configuredAtLaunch": True}])
    return sandbox


@pytest.mark.parametrize("name", _rows())
def test_bad_input_exits_125_names_the_input_and_starts_nothing(
    definitions: Sandbox, run: Run, tmp_path: Path, record_property: Record, name: str
) -> None:
    record_property("fault", "bad input")
    bad = ROWS[name]
    dotenv = tmp_path / "out.env"
    (tmp_path / "broken.json").write_text('{"family": "app", "containerDefinitions": [')
    (tmp_path / "list.json").write_text("[]")
    cluster = [] if "--cluster" in bad.args else ["--cluster", "Sample"]
    ran = run(*cluster, "--dotenv", str(dotenv), *[a.replace("{tmp}", str(tmp_path)) for a in bad.args])
    assert ran.code == 125, ran.out
    assert bad.names.replace("{tmp}", str(tmp_path)) in ran.out, ran.out
    assert "error: " in ran.out
    assert definitions.calls("RunTask") == []
    assert definitions.tasks() == []
    if bad.parsed:  # AWS refusing to find something is no input error: the input may be right, the region not
        expected = "failed-to-start" if "was not found" in bad.names else "invalid-input"
        assert outputs(dotenv)["STATUS"] == expected


GITHUB_ROWS = {
    "required input left empty": ({}, "task-definition: is required"),
    "count 0": ({"COUNT": "0"}, "count:"),
    "boolean typo": ({"WAIT": "ture"}, "wait:"),
    "several at once, all named": ({"COUNT": "11", "TIMEOUT": "soon", "LAUNCH-TYPE": "SPOT"}, "3 inputs are not valid"),
}


@pytest.mark.parametrize("name", list(GITHUB_ROWS))
def test_bad_input_through_the_action_exits_125(
    definitions: Sandbox,
    run: Run,
    tmp_path: Path,
    record_property: Record,
    *,
    monkeypatch: pytest.MonkeyPatch,
    name: str,
) -> None:
    """The GitHub face: every declared input present as INPUT_*, empty when not given."""
    record_property("fault", "bad input")
    given, names = GITHUB_ROWS[name]
    inputs = {f"INPUT_{i.upper()}": "" for i in INPUTS}
    inputs |= {"INPUT_CLUSTER": "Sample", "INPUT_TASK-DEFINITION": "" if name.startswith("required") else "app"}
    inputs |= {f"INPUT_{k}": v for k, v in given.items()}
    output = tmp_path / "github_output"
    output.touch()
    monkeypatch.setenv("GITHUB_OUTPUT", str(output))  # actions-toolkit reads it from the process environment
    ran = run(env={**inputs, "GITHUB_ACTIONS": "true"})
    assert ran.code == 125, ran.out
    assert names in ran.out
    assert any(line.startswith("::error") for line in ran.lines)  # an annotation the user sees
    written = output.read_text().splitlines()
    assert written[written.index(next(w for w in written if w.startswith("status<<"))) + 1] == "invalid-input"
    assert definitions.calls("RunTask") == []


def test_a_cluster_that_does_not_exist_is_named(definitions: Sandbox, run: Run, record_property: Record) -> None:
    record_property("fault", "bad input")
    ran = run("--cluster", "Nope", "-t", "app")
    assert ran.code == 125, ran.out
    assert definitions.tasks() == []
    assert "cluster: 'Nope' was not found" in ran.out, ran.out


def test_environment_and_overrides_for_the_same_container_are_both_kept(
    definitions: Sandbox, run: Run, record_property: Record
) -> None:
    """Both inputs set variables of `web`: both are kept, `overrides` winning a name they share."""
    record_property("fault", "bad input")
    raw = ('{"containerOverrides": [{"name": "web", "environment": [{"name": "FROM_OVERRIDES", "value": "2"}, '
           '{"name": "BOTH", "value": "overrides"}]}]}')  # fmt: skip
    ran = run("--cluster", "Sample", "-t", "app", "--poll-interval", "200ms", "-e", "FROM_INPUT=1", "-e", "BOTH=input",
              "--overrides", raw)  # fmt: skip
    assert ran.code == 0, ran.out
    [body] = definitions.calls("RunTask")
    [web] = body["overrides"]["containerOverrides"]
    assert sorted(web["environment"], key=lambda e: e["name"]) == [
        {"name": "BOTH", "value": "overrides"}, {"name": "FROM_INPUT", "value": "1"},
        {"name": "FROM_OVERRIDES", "value": "2"}]  # fmt: skip


def test_repeated_environment_and_tags_flags_add_lines(definitions: Sandbox, run: Run) -> None:
    ran = run("--cluster", "Sample", "-t", "app", "--poll-interval", "200ms", "--environment", "A=1",
              "--environment", "B=2", "-e", "C=3", "--tags", "team=db", "--tags", "why=migrate")  # fmt: skip
    assert ran.code == 0, ran.out
    [body] = definitions.calls("RunTask")
    assert [e["name"] for e in body["overrides"]["containerOverrides"][0]["environment"]] == ["A", "B", "C"]
    assert body["tags"] == [{"key": "team", "value": "db"}, {"key": "why", "value": "migrate"}]
