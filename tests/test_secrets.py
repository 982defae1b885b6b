"""Secrets never reach our own output: credentials, session tokens and `environment` values, in every format,
on success, failure, bad input and with diagnostics on. Run as real processes: stdout and stderr both count."""

from __future__ import annotations

import json

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
