"""Hostile input (issue 16): what the user hands the tool (environment values, commands, task definition files,
overrides, numbers) and what AWS answers never crash a run or leak a secret. Each run is checked by
`tests/hostile.py` (exit status, outputs, no command acted on, no secret anywhere); rows add what they prove."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

import pytest

from sandbox import HOLD, ContainerScript, Sandbox, Step
from tests.helpers import Record, register
from tests.hostile import survive

SEPARATORS = {"FS": "\x1c", "GS": "\x1d", "RS": "\x1e", "NEL": "\x85", "LS": "\u2028", "PS": "\u2029", "CR": "\r",
              "FF": "\x0c", "VT": "\x0b"}  # fmt: skip
HEAD, TAIL = "headOFSECRET-4a7c", "tailOFSECRET-9d1e"  # the two parts a separator would split a value into
PEM_LINES = ["MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7", "VJTUt9Us8cKjMzEfYyjiWA4R4/M2bS1GB4t7NXp98C3SC6dV"]
PEM = "-----BEGIN PRIVATE KEY-----\n" + "\n".join(PEM_LINES) + "\n-----END PRIVATE KEY-----"
PASSWORD = "s3cr3t-PASSWORD-in-a-command-77"
DIGITS = "9" * 5000  # past Python's 4,300-digit limit for int()


def _sent_environment(sb: Sandbox) -> dict[str, str]:
    [body] = sb.calls("RunTask")
    [override] = body["overrides"]["containerOverrides"]
    return {e["name"]: e["value"] for e in override["environment"]}


@pytest.mark.parametrize("sep", list(SEPARATORS))
def test_a_value_holding_a_separator_goes_to_the_task_whole_and_is_never_printed(
    sandbox: Sandbox, tmp_path: Path, record_property: Record, sep: str
) -> None:
    record_property("fault", "hostile input")
    register(sandbox, web=ContainerScript(exit_code=0))
    value = f"{HEAD}{SEPARATORS[sep]}{TAIL}"
    survive(sandbox, tmp_path, "-t", "app", "--environment", f"A=1\nSECRET={value}", "--debug",
            code=0, status="succeeded", secrets=(HEAD, TAIL))  # fmt: skip
    assert _sent_environment(sandbox)["SECRET"] == value


@pytest.mark.parametrize("sep", list(SEPARATORS))
def test_a_bad_line_after_a_value_holding_a_separator_names_the_line_not_the_value(
    sandbox: Sandbox, tmp_path: Path, record_property: Record, sep: str
) -> None:
    """A value split at the separator used to make its tail a line of its own, printed as the bad one."""
    record_property("fault", "bad input")
    register(sandbox)
    ran = survive(sandbox, tmp_path, "-t", "app", "--environment", f"SECRET={HEAD}{SEPARATORS[sep]}{TAIL}\nBROKEN",
                  code=125, status="invalid-input", secrets=(HEAD, TAIL))  # fmt: skip
    assert "environment: line 2 has no '='" in ran.out
    assert sandbox.calls() == []


def test_a_pem_in_environment_lines_is_refused_without_showing_a_line_of_it(
    sandbox: Sandbox, tmp_path: Path, record_property: Record
) -> None:
    record_property("fault", "bad input")
    ran = survive(sandbox, tmp_path, "-t", "app", "--environment", f"CERT={PEM}", code=125, status="invalid-input",
                  secrets=tuple(PEM_LINES))  # fmt: skip
    assert "environment: line 2 has no '='" in ran.out


def test_a_pem_in_the_actions_environment_input_is_refused_without_showing_a_line_of_it(
    sandbox: Sandbox, tmp_path: Path, record_property: Record
) -> None:
    record_property("fault", "bad input")
    ran = survive(sandbox, tmp_path, code=125, status="invalid-input", secrets=tuple(PEM_LINES),
                  action={"INPUT_TASK-DEFINITION": "app", "INPUT_ENVIRONMENT": f"CERT={PEM}"})  # fmt: skip
    assert "environment: line 2 has no '='" in ran.out


def test_a_pem_given_with_e_is_one_value_sent_whole(sandbox: Sandbox, tmp_path: Path) -> None:
    register(sandbox, web=ContainerScript(exit_code=0))
    survive(sandbox, tmp_path, "-t", "app", "-e", f"CERT={PEM}", "--debug", code=0, status="succeeded",
            secrets=tuple(PEM_LINES))  # fmt: skip
    assert _sent_environment(sandbox)["CERT"] == PEM


@pytest.mark.parametrize("dry_run", ["true", "false"])
def test_a_commands_arguments_are_masked_in_diagnostics_and_the_dry_run(
    sandbox: Sandbox, tmp_path: Path, dry_run: str
) -> None:
    """The program is kept, every argument hidden: a password on a command line is common."""
    register(sandbox, web=ContainerScript(exit_code=0))
    status = "dry-run" if dry_run == "true" else "succeeded"
    ran = survive(sandbox, tmp_path, "-t", "app", "--command", f"psql postgres://app:{PASSWORD}@db/app", "--debug",
                  "--dry-run", dry_run, code=0, status=status, secrets=(PASSWORD,))  # fmt: skip
    shown = r'"command": \[\s*"psql",\s*"\*\*\*"\s*\]' if dry_run == "true" else r"'command': \['psql', '\*\*\*'\]"
    assert re.search(shown, ran.out), ran.out
    if dry_run == "false":  # sent to AWS, where it belongs
        [body] = sandbox.calls("RunTask")
        assert PASSWORD in body["overrides"]["containerOverrides"][0]["command"][1]


class Bad(NamedTuple):
    args: Callable[[Path], list[str]]  # the arguments, given the test's directory (files are written there)
    named: str  # what the error must say


def _file(name: str, content: bytes) -> Callable[[Path], list[str]]:
    def args(tmp: Path) -> list[str]:
        (tmp / name).write_bytes(content)
        return ["-t", str(tmp / name)]

    return args


def _nested(depth: int, closed: bool = True) -> str:
    return "[" * depth + ("]" * depth if closed else "")


def _taskdef(container: str) -> bytes:
    return ('{"family": "app", "containerDefinitions": [{"name": "web", ' + container + "}]}").encode()


BAD = {
    "binary task definition file": Bad(_file("binary.json", bytes(range(256)) * 8), "is not UTF-8 text"),
    "task definition file nested 100,000 deep": Bad(
        _file("deep.json", _taskdef(f'"x": {_nested(100_000)}')), "a number is too long or it nests too deep"
    ),
    "task definition file nested 40 deep": Bad(
        _file("nested.json", _taskdef(f'"x": {_nested(40)}')), "nests deeper than 32 levels"
    ),
    "task definition file with an integer past the digit limit": Bad(
        _file("number.json", _taskdef(f'"memory": {DIGITS}')), "a number is too long"
    ),
    "-t /dev/zero": Bad(lambda _: ["-t", "/dev/zero"], "is larger than 1024 KiB"),
    "a directory as the task definition file": Bad(lambda tmp: ["-t", f"{tmp}/"], "cannot be read"),
    "overrides: undecodable bytes": Bad(
        lambda _: ["-t", "app", "--overrides", os.fsdecode(b'\xff\xfe{"cpu": "256"}')], "overrides: is not valid JSON"
    ),
    "overrides nested 60,000 deep": Bad(
        lambda _: ["-t", "app", "--overrides", '{"containerOverrides": ' + _nested(60_000, closed=False)],
        "overrides: is not a JSON object we can read",
    ),
    "overrides nested 40 deep": Bad(
        lambda _: ["-t", "app", "--overrides", '{"containerOverrides": ' + _nested(40) + "}"],
        "overrides: nests deeper than 32 levels",
    ),
    "overrides: an integer past the digit limit": Bad(
        lambda _: ["-t", "app", "--overrides", f'{{"cpu": {DIGITS}}}'], "a number is too long"
    ),
    "overrides: containerOverrides holding a string": Bad(
        lambda _: ["-t", "app", "--overrides", '{"containerOverrides": "web"}'], "containerOverrides: expected an array"
    ),
    "count past the digit limit": Bad(lambda _: ["-t", "app", "--count", DIGITS], "count: got"),
    "a capacity provider's weight past the digit limit": Bad(
        lambda _: ["-t", "app", "--capacity-provider-strategy", f"FARGATE:1:{DIGITS}"], "capacity-provider-strategy:"
    ),
}


@pytest.mark.parametrize("case", list(BAD))
def test_odd_input_is_refused_as_input_before_anything_is_registered_or_started(
    sandbox: Sandbox, tmp_path: Path, record_property: Record, case: str
) -> None:
    record_property("fault", "bad input")
    register(sandbox)
    ran = survive(sandbox, tmp_path, *BAD[case].args(tmp_path), code=125, status="invalid-input")
    assert BAD[case].named in ran.out
    assert sandbox.calls("RegisterTaskDefinition") == sandbox.calls("RunTask") == []


def test_undecodable_bytes_in_the_actions_overrides_input_are_refused(
    sandbox: Sandbox, tmp_path: Path, record_property: Record
) -> None:
    record_property("fault", "bad input")
    ran = survive(sandbox, tmp_path, code=125, status="invalid-input",
                  action={"INPUT_TASK-DEFINITION": "app", "INPUT_OVERRIDES": os.fsdecode(b"\xff\xfe{}")})  # fmt: skip
    assert "overrides: is not valid JSON" in ran.out


Answer = dict[str, Any]


def _each(change: Callable[[dict[str, Any]], object], *path: str) -> Callable[[Answer], Answer]:
    """A mangler that changes every object at `path` in the answer: ("tasks", "containers"), ("events",)."""

    def mangle(answer: Answer) -> Answer:
        found = [answer]
        for key in path:
            found = [child for parent in found for child in parent.get(key, [])]
        for item in found:
            change(item)
        return answer

    return mangle


def _exit_code(value: object) -> Callable[[dict[str, Any]], None]:
    def change(container: dict[str, Any]) -> None:
        if "exitCode" in container:
            container["exitCode"] = str(container["exitCode"]) if value is str else value

    return change


def _bad_times(task: dict[str, Any]) -> None:
    task.update(createdAt="yesterday", startedAt="", pullStartedAt=-1e300, pullStoppedAt={"at": 1})
    if "stoppingAt" in task:
        task.update(stoppingAt="not a time", executionStoppedAt=1e300, stoppedAt="2026-13-45T99:99:99Z")


def _digits(answer: Answer) -> str:
    """The answer's raw text with every exit code past the digit limit: no json.dumps can write it."""
    return json.dumps(_each(_exit_code(-424242), "tasks", "containers")(answer)).replace("-424242", DIGITS)


class Malformed(NamedTuple):
    mangle: Callable[[Answer], Answer | str]  # the answer, rewritten
    calls: int | None  # how many answers are mangled; None: every one
    said: str  # the warning, said once however many answers were odd
    code: int = 3
    status: str = "failed"
    op: str = "DescribeTasks"


MALFORMED = {
    "exitCode as text": Malformed(_each(_exit_code(str), "tasks", "containers"), None, ""),
    "exitCode not a number": Malformed(
        _each(_exit_code("three"), "tasks", "containers"), None, "exit code that cannot be read", 125, "failed-to-start"
    ),
    "exitCode past the digit limit, which botocore cannot parse": Malformed(_digits, 3, ""),
    "not JSON": Malformed(lambda _: "<html>Bad gateway</html>", 3, ""),
    "a task without taskArn": Malformed(_each(lambda t: t.pop("taskArn"), "tasks"), 3, "task without an ARN"),
    "unreadable timestamps": Malformed(_each(_bad_times, "tasks"), None, "timestamp that cannot be read"),
    "a stop reason and stop code not text": Malformed(
        _each(lambda t: t.update(stoppedReason={"why": ["<h1>x</h1>"]}, stopCode=7), "tasks"), None, ""
    ),
    "containers not a list": Malformed(
        _each(lambda t: t.update(containers="web"), "tasks"), 3, "answered what cannot be read"
    ),
    "tasks holding null and text": Malformed(
        lambda a: {**a, "tasks": [None, "task", *a["tasks"]], "failures": ["x"]}, 3, "answered what cannot be read"
    ),
    "log events: a timestamp as text": Malformed(
        _each(lambda e: e.update(timestamp="soon"), "events"), None, "", op="GetLogEvents"
    ),
    "log events: a timestamp past any date": Malformed(
        lambda a: json.dumps(a).replace('"timestamp": ', '"timestamp": 1e400, "was": '), None, "", op="GetLogEvents"
    ),
    "log events: null among them": Malformed(
        lambda a: {**a, "events": [None, *a.get("events", [])]}, None, "", op="GetLogEvents"
    ),
}


@pytest.mark.parametrize("case", list(MALFORMED))
def test_a_malformed_answer_still_ends_with_the_containers_exit_code(
    sandbox: Sandbox, tmp_path: Path, case: str
) -> None:
    row = MALFORMED[case]
    register(sandbox, web=ContainerScript(exit_code=3, lines=[(0.0, "hello")]))
    sandbox.faults.mangle(row.op, row.mangle, row.calls)
    ran = survive(sandbox, tmp_path, "-t", "app", code=row.code, status=row.status, fmt="github")
    assert "hello" in ran.out
    assert "| task | revision |" in ran.summary
    if row.said:
        assert ran.out.count(row.said) == 1, ran.out
    assert sandbox.running_tasks() == []


def test_a_stop_task_denied_at_the_timeout_says_the_task_may_still_run(sandbox: Sandbox, tmp_path: Path) -> None:
    """It used to say "the task was stopped" whatever StopTask answered."""
    register(sandbox, life=[Step("PROVISIONING", 0.05), Step("RUNNING", HOLD)])
    sandbox.faults.deny("StopTask")
    ran = survive(sandbox, tmp_path, "-t", "app", "--timeout", "1s", code=124, status="timed-out", fmt="github")
    assert "timed out after 1s; StopTask failed, so the task may still be running" in ran.out
    assert "the task was stopped" not in ran.out
    sandbox.faults.clear()  # the post step's job, once StopTask works again: no task left running by the test
    [task] = sandbox.tasks()
    sandbox.client("ecs").stop_task(cluster="Sample", task=task.arn)


def _signal_once(sb: Sandbox, sig: int, when: Callable[[], object]) -> Callable[[subprocess.Popen[bytes]], None]:
    def send(proc: subprocess.Popen[bytes]) -> None:
        when()
        proc.send_signal(sig)

    return send


def test_sigterm_before_a_task_started_still_writes_the_outputs(
    sandbox: Sandbox, tmp_path: Path, record_property: Record
) -> None:
    record_property("fault", "signal")
    register(sandbox)
    sandbox.faults.latency(2.0, "DescribeTaskDefinition")
    meanwhile = _signal_once(sandbox, signal.SIGTERM, lambda: sandbox.wait_for_call("DescribeTaskDefinition"))
    ran = survive(sandbox, tmp_path, "-t", "app", code=143, status="cancelled", meanwhile=meanwhile)
    assert "cancelled by SIGTERM before a task was started" in ran.out
    assert sandbox.tasks() == []


def test_sigterm_in_the_log_drain_after_an_exit_0_keeps_the_exit_code(
    sandbox: Sandbox, tmp_path: Path, record_property: Record
) -> None:
    """The answer was known: the signal only cuts the drain short (it used to report `cancelled`)."""
    record_property("fault", "signal")
    register(sandbox, running=0.2, web=ContainerScript(exit_code=0, lines=[(i * 0.1, f"tick {i}") for i in range(80)]))

    def drained() -> None:
        arn = sandbox.wait_for_any_task(timeout=30)
        sandbox.wait_for_status(arn, "STOPPED")
        sandbox.wait_for_call("GetLogEvents", len(sandbox.calls("GetLogEvents")) + 2)

    meanwhile = _signal_once(sandbox, signal.SIGTERM, drained)
    ran = survive(sandbox, tmp_path, "-t", "app", "--log-drain", "15s", code=0, status="succeeded", meanwhile=meanwhile)
    assert "exited with code 0; SIGTERM cut the log drain short" in ran.out
