"""Secrets never reach our own output: credentials, session tokens and `environment` values, in every format,
on success, failure, bad input and with diagnostics on. Run as real processes: stdout and stderr both count."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sandbox import Container, ContainerScript, Sandbox
from tests.helpers import Record, assert_no_secret, launch, register

SECRET_KEY = "wJalrXUtnFEMI-K7MDENG-SECRETACCESSKEY-0001"
SESSION_TOKEN = "FwoGZXIvYXdzSESSIONTOKEN-0002-IQoJb3JpZ2luX2Vj"
ENV_VALUE = "hunter2-ENVVALUE-0003"
MULTI_LINE_VALUE = "line-one-ENVVALUE-0004"
OVERRIDE_VALUE = "OVERRIDEVALUE-0005"
SECRETS = (SECRET_KEY, SESSION_TOKEN, ENV_VALUE, MULTI_LINE_VALUE, OVERRIDE_VALUE)
CREDENTIALS = {"AWS_SECRET_ACCESS_KEY": SECRET_KEY, "AWS_SESSION_TOKEN": SESSION_TOKEN}
OVERRIDES = json.dumps({"containerOverrides": [{"name": "sidecar", "environment": [{"name": "API_TOKEN", "value": OVERRIDE_VALUE}]}]})  # fmt: skip

PAIR = (Container("web"), Container("sidecar", essential=False))
SCENARIOS = {
    "success": ([], 0),
    "failure": ([], 3),
    "bad input": (["--count", "0"], 125),
    "diagnostics on a failure": (["--debug"], 3),
}


def run_with_secrets(sb: Sandbox, fmt: str, *extra: str) -> tuple[int, str]:
    proc = launch(sb, "--log-drain", "500ms", "--format", fmt, "--container", "web", "-e", f"DB_PASSWORD={ENV_VALUE}",
                  "--environment", f"A=1\nCERT={MULTI_LINE_VALUE}", "--overrides", OVERRIDES, *extra, env=CREDENTIALS)  # fmt: skip
    out, _ = proc.communicate(timeout=60)  # stdout and stderr together
    return proc.returncode, out


@pytest.mark.parametrize("fmt", ["plain", "github", "json"])
@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_no_secret_in_our_output(sandbox: Sandbox, record_property: Record, scenario: str, fmt: str) -> None:
    args, code = SCENARIOS[scenario]
    register(sandbox, *PAIR, running=0.3, web=ContainerScript(exit_code=code % 125, lines=[(0.0, "hello")]))
    if scenario.startswith("diagnostics"):
        sandbox.faults.throttle("GetLogEvents", every=2)  # warnings and retries in the diagnostics too
    got, out = run_with_secrets(sandbox, fmt, *args)
    assert got == code, out
    if code != 125:
        [body] = sandbox.calls("RunTask")  # the values did go to AWS, where they belong...
        assert all(value in json.dumps(body) for value in (ENV_VALUE, MULTI_LINE_VALUE, OVERRIDE_VALUE))
        assert "hello" in out  # ...and the run printed the task's own lines
    assert_no_secret(out, SECRETS)  # ...but never into our output


def test_diagnostics_mask_environment_values_in_the_request(sandbox: Sandbox) -> None:
    register(sandbox, *PAIR, web=ContainerScript(exit_code=0))
    got, out = run_with_secrets(sandbox, "plain", "--debug")
    assert got == 0, out
    assert "run_task" in out  # the request is shown to help debugging...
    assert_no_secret(out, SECRETS)  # ...with the values masked


@pytest.mark.parametrize(
    ("flag", "given", "named"),
    [
        # `KEY: value` (YAML habit) instead of `KEY=value`: the error names the line, not the value
        ("--environment", f"DB_PASSWORD: {ENV_VALUE}", "environment: line 1"),
        # a tag's value may be a token (`api-token=...`): a bad line elsewhere in `tags` must not print it
        ("--tags", f"api-token={ENV_VALUE}\nbroken", "tags: line 2 has no '='"),
    ],
)
def test_a_malformed_line_is_named_without_any_value(
    sandbox: Sandbox, record_property: Record, flag: str, given: str, named: str
) -> None:
    record_property("fault", "bad input")
    register(sandbox)
    proc = launch(sandbox, flag, given)
    out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 125, out
    assert named in out
    assert ENV_VALUE not in out


def test_dry_run_prints_the_request_with_environment_values_masked(sandbox: Sandbox) -> None:
    register(sandbox, *PAIR)
    got, out = run_with_secrets(sandbox, "plain", "--dry-run", "true")
    assert got == 0, out
    assert sandbox.calls("RunTask") == []
    assert "DB_PASSWORD" in out  # the names are shown...
    assert_no_secret(out, SECRETS)  # ...never the values


MALFORMED = {
    # the shape we merge by: checked with the input, before botocore sees it
    "a string for an entry": (
        [f"DB_PASSWORD={ENV_VALUE}"],
        'overrides: containerOverrides \'web\': environment must be an array of {"name": ..., "value": ...}',
    ),
    # the rest: botocore's own report, which would quote the value
    "a list for a value": (
        [{"name": "DB_PASSWORD", "value": [ENV_VALUE]}],
        "overrides.containerOverrides[0].environment[0].value, type: <class 'list'>, valid types: <class 'str'>",
    ),
}


@pytest.mark.parametrize("dry_run", ["false", "true"])
@pytest.mark.parametrize("case", list(MALFORMED))
def test_malformed_overrides_are_refused_before_anything_without_echoing_them(
    sandbox: Sandbox, record_property: Record, dry_run: str, case: str
) -> None:
    """`"environment": ["KEY=value"]` in raw overrides: botocore's own report would quote the value."""
    record_property("fault", "bad input")
    register(sandbox)
    environment, named = MALFORMED[case]
    bad = json.dumps({"containerOverrides": [{"name": "web", "environment": environment}]})
    proc = launch(sandbox, "--image", "acme/app:v2", "--overrides", bad, "--dry-run", dry_run, "--debug")
    out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 125, out
    assert named in out
    assert_no_secret(out, SECRETS)
    assert sandbox.calls("RegisterTaskDefinition") == sandbox.calls("RunTask") == []


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (
            ["--enviroment", f"DB_PASSWORD={ENV_VALUE}"],
            "--enviroment: no such flag; did you mean --environment?",
        ),  # a typo
        ([f"--enviroment=DB_PASSWORD={ENV_VALUE}"], "--enviroment: no such flag; did you mean --environment?"),
        (["--command", f"psql 'postgres://app:{ENV_VALUE}@db/app"], "command: cannot be split as a shell would"),
    ],
)
def test_a_mistyped_flag_or_a_bad_command_is_named_not_echoed(
    sandbox: Sandbox, record_property: Record, args: list[str], named: str
) -> None:
    record_property("fault", "bad input")
    proc = launch(sandbox, *args)
    out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 125, out
    assert named in out
    assert ENV_VALUE not in out
    assert sandbox.calls() == []


# -- a NAME=value first word, tags, entry points and labels --------------------------------------------------------

COMMAND_VALUE = "s3cret-COMMANDVALUE-0006"
TAG_VALUE = "TAGVALUE-0007-api-token"
ENTRY_VALUE = "ENTRYPOINTVALUE-0008"
LABEL_VALUE = "LABELVALUE-0009"


@pytest.mark.parametrize("dry_run", ["true", "false"])
def test_a_name_value_first_word_is_explained_and_its_value_never_shown(
    sandbox: Sandbox, record_property: Record, dry_run: str
) -> None:
    """`command: DB_PASS=secret bin/rails db:migrate`: no shell runs it, so `DB_PASS=secret` is the program."""
    record_property("fault", "bad input")
    register(sandbox, web=ContainerScript(exit_code=0))
    proc = launch(sandbox, "--command", f"DB_PASS={COMMAND_VALUE} bin/rails db:migrate", "--tags",
                  f"team=payments\napi-token={TAG_VALUE}", "--debug", "--dry-run", dry_run)  # fmt: skip
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0, out
    assert "warning: --command: its first word is DB_PASS=..., but no shell runs the command" in out
    assert "give DB_PASS with --environment instead" in out
    assert "DB_PASS=***" in out  # shown, masked, in the request (dry run) or the diagnostics (--debug)
    assert "api-token" in out  # a tag's key is shown, its value never
    assert_no_secret(out, (COMMAND_VALUE, TAG_VALUE))
    if dry_run == "false":  # sent as given: it is the user's command
        [body] = sandbox.calls("RunTask")
        assert body["overrides"]["containerOverrides"][0]["command"][0] == f"DB_PASS={COMMAND_VALUE}"
        assert {"key": "api-token", "value": TAG_VALUE} in body["tags"]


def test_a_name_value_first_word_quoted_back_by_ecs_is_masked_in_every_output(
    sandbox: Sandbox, record_property: Record, tmp_path: Path
) -> None:
    """ECS starts `DB_PASS=secret` as the program, and its reason quotes it: the reason is shown, the value never
    (in the log, the message, the outputs, the job summary, the JUnit report)."""
    record_property("fault", "bad input")
    reason = ('CannotStartContainerError: Error response from daemon: failed to create shim task: OCI runtime create '
              f'failed: runc create failed: unable to start container process: exec: "DB_PASS={COMMAND_VALUE}": '
              "executable file not found in $PATH: unknown")  # fmt: skip
    register(sandbox, web=ContainerScript(exit_code=None, reason=reason))
    summary, junit, dotenv = tmp_path / "summary.md", tmp_path / "junit.xml", tmp_path / "out.env"
    summary.touch()
    proc = launch(sandbox, "--command", f"DB_PASS={COMMAND_VALUE} bin/rails db:migrate", "--format", "github",
                  "--dotenv", str(dotenv), "--junit-file", str(junit), env={"GITHUB_STEP_SUMMARY": str(summary)})  # fmt: skip
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 125, out
    assert 'exec: "DB_PASS=***": executable file not found' in out  # ECS's reason, shown with the value masked
    for text in (out, dotenv.read_text(), summary.read_text(), junit.read_text()):
        assert_no_secret(text, (COMMAND_VALUE,))


def test_a_task_definition_files_entry_point_arguments_and_labels_are_masked_in_the_dry_run(
    sandbox: Sandbox, record_property: Record, tmp_path: Path
) -> None:
    record_property("fault", "bad input")
    register(sandbox)
    taskdef = {
        "family": "app",
        "containerDefinitions": [{
            "name": "web", "image": "acme/app:v2", "memory": 512, "essential": True,
            "entryPoint": ["/bin/migrate", f"--password={ENTRY_VALUE}"],
            "command": ["up"],
            "dockerLabels": {"com.acme.token": LABEL_VALUE},
            "environment": [{"name": "DB_PASSWORD", "value": ENV_VALUE}],
        }],
    }  # fmt: skip
    path = tmp_path / "taskdef.json"
    path.write_text(json.dumps(taskdef))
    proc = launch(sandbox, "-t", str(path), "--tags", f"api-token={TAG_VALUE}", "--dry-run", "--debug")
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0, out
    assert "RegisterTaskDefinition request:" in out
    assert '"/bin/migrate"' in out  # the program, kept
    assert '"com.acme.token": "***"' in out  # a label's name, kept
    assert_no_secret(out, (ENTRY_VALUE, LABEL_VALUE, TAG_VALUE, ENV_VALUE))
    assert sandbox.calls("RegisterTaskDefinition") == sandbox.calls("RunTask") == []
