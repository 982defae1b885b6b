"""The hostile-input suite's one check (issue 16): run the CLI as CI does and prove the run survived its input.

`survive()` runs the tool as its own process (stdout and stderr are what CI reads, and a lone surrogate only fails
on a real stdout), with secrets in its environment and arguments, and checks:
- the exit status, and the outputs (`--dotenv`; `$GITHUB_OUTPUT` too in GitHub format): every one written,
  `status` and `exit-code` as expected;
- no workflow command acted on but our own, reading the output as the runner does (`workflow_commands`), and
  the result's group closed last, so no stop-commands block was left open; in GitLab format, no section
  marker but ours, each section closed once;
- no line break, control sequence or terminal escape but ours and colours: nothing a reader would see
  differently from what we meant;
- no secret, nor its first 12 characters, in any output or file; no traceback, no "could not show".
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ecs_run_task.printable import WORD_JOINER
from ecs_run_task.verdict.outputs import NAMES
from sandbox import Sandbox
from tests.helpers import assert_no_secret, outputs, spawn_bytes
from tests.workflow_commands import Command, commands, file_command

SECRET_KEY = "wJalrXUtnFEMI-HOSTILE-SECRETACCESSKEY-0101"
SESSION_TOKEN = "FwoGZXIvYXdzHOSTILE-SESSIONTOKEN-0102"
ENV_VALUE = "hunter2-HOSTILE-ENVVALUE-0103"
SECRETS = (SECRET_KEY, SESSION_TOKEN, ENV_VALUE)
CREDENTIALS = {"AWS_SECRET_ACCESS_KEY": SECRET_KEY, "AWS_SESSION_TOKEN": SESSION_TOKEN}
# what every hostile line that tries to act as a command has as its message: none of ours starts with it
MARK = "PWN"

_GITLAB_MARKER = re.compile(r"\x1b\[0Ksection_(start|end):\d+:([A-Za-z0-9_.-]+)(?:\[collapsed=true\])?\r\x1b\[0K")
_COLOUR = re.compile(r"\x1b\[[0-9;:]*m")
# what we print ourselves: LF ends a line, a tab may sit in one; anything else is a control character or a line
# separator some reader acts on (CR, VT, FF, FS-RS, NEL, LS, PS), or a terminal escape
_NOT_OURS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]")
_OUR_COMMANDS = {"group", "endgroup", "debug", "error", "warning"}


@dataclass(frozen=True)
class Survived:
    out: str  # stdout and stderr together, as the CI log shows them
    outputs: dict[str, str]  # the --dotenv file, or $GITHUB_OUTPUT in the action's mode
    summary: str  # $GITHUB_STEP_SUMMARY ("" outside GitHub format)

    @property
    def shown(self) -> str:
        """The output as a reader sees it: without the invisible word joiners that keep lines inert."""
        return self.out.replace(WORD_JOINER, "")


def survive(
    sb: Sandbox,
    tmp_path: Path,
    *args: str,
    code: int,
    status: str,
    exit_code: str | None = None,
    fmt: str = "plain",
    env: dict[str, str] | None = None,
    action: dict[str, str] | None = None,
    secrets: tuple[str, ...] = (),
    meanwhile: Callable[[subprocess.Popen[bytes]], None] | None = None,
) -> Survived:
    """Run `ecs-run-task --cluster Sample ... ARGS` (or, given `action`, the GitHub action with those `INPUT_*`
    variables) and check what the module's docstring says. `exit_code` is the `exit-code` output: by default the
    code for `succeeded` and `failed`, else empty. `meanwhile` is called with the process once it runs (to send it a
    signal, say)."""
    files = {
        name: tmp_path / f"{name.lower()}.txt" for name in ("GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY", "GITHUB_STATE")
    }
    github = fmt == "github" or action is not None
    for path in files.values():
        path.write_text("")
    child_env = {**CREDENTIALS, **({k: str(v) for k, v in files.items()} if github else {}), **(env or {})}
    dotenv = tmp_path / "outputs.env"
    if action is not None:
        argv: tuple[str, ...] = ()
        child_env |= {"GITHUB_ACTIONS": "true", "INPUT_CLUSTER": "Sample", "INPUT_POLL-INTERVAL": "200ms",
                      "INPUT_LOG-DRAIN": "1s", "INPUT_ENVIRONMENT": f"DB_PASSWORD={ENV_VALUE}", **action}  # fmt: skip
    else:
        argv = ("--cluster", "Sample", "--poll-interval", "200ms", "--log-drain", "1s", "--format", fmt,
                "--dotenv", str(dotenv), "-e", f"DB_PASSWORD={ENV_VALUE}", *args)  # fmt: skip
    proc = spawn_bytes(sb, *argv, env=child_env)
    if meanwhile is not None:
        meanwhile(proc)
    try:
        raw, _ = proc.communicate(timeout=90)
    except subprocess.TimeoutExpired:
        proc.kill()
        raw, _ = proc.communicate()
        raise AssertionError(f"still running after 90 s:\n{raw[-3000:]!r}") from None
    out = raw.decode()  # strict: every byte the tool wrote is UTF-8...
    if child_env.get("PYTHONIOENCODING") == "ascii":
        assert raw.isascii(), raw[-3000:]  # ...and ASCII when its stdout is: the rest escaped, never an error
    context = f"exit {proc.returncode}:\n{out[-3000:]}"
    assert proc.returncode == code, context
    for marker in ("Traceback (most recent call last)", "failed unexpectedly", "could not show some log lines"):
        assert marker not in out, context

    values = file_command(files["GITHUB_OUTPUT"].read_text()) if action is not None else outputs(dotenv)
    expected = exit_code if exit_code is not None else str(code) if status in ("succeeded", "failed") else ""
    names = list(NAMES) if action is not None else [n.upper().replace("-", "_") for n in NAMES]
    assert sorted(values) == sorted(names), values
    status_name, exit_name = names[NAMES.index("status")], names[NAMES.index("exit-code")]
    assert (values[status_name], values[exit_name]) == (status, expected), values
    if github and action is None:  # both written: the dotenv's values are the same, on one line each
        written = file_command(files["GITHUB_OUTPUT"].read_text())
        assert (written["status"], written["exit-code"]) == (status, expected), written

    _no_command_acted_on(out, github=fmt == "github" or action is not None)
    _nothing_rewrites_the_log(out, gitlab=fmt == "gitlab")
    written_files = [dotenv.read_text(errors="replace") if dotenv.exists() else ""]
    written_files += [path.read_text(errors="replace") for path in files.values()]
    for text in (out, *written_files):
        assert_no_secret(text, (*SECRETS, *secrets))
    summary = files["GITHUB_STEP_SUMMARY"].read_text() if github else ""
    return Survived(out, values, summary)


def _no_command_acted_on(out: str, *, github: bool) -> None:
    found = commands(out)
    if not github:  # plain, GitLab and JSON output holds no command of ours
        assert found == [], found
        return
    assert all(c.name in _OUR_COMMANDS for c in found), found
    # a hostile command's message starts with MARK; ours may quote it inside (a stop reason in a failure's text or
    # its title, the headline), escaped
    hostile = [c for c in found if MARK in c.name or c.message.startswith(MARK)
               or any(MARK in k or v.startswith(MARK) for k, v in c.properties.items())]  # fmt: skip
    assert not hostile, found
    groups = [c for c in found if c.name in ("group", "endgroup")]
    # groups alternate and the result's comes last: after it, nothing was swallowed by an open block
    assert [c.name for c in groups] == ["group", "endgroup"] * (len(groups) // 2), groups
    assert groups[-2:] == [Command("group", {}, "Result"), Command("endgroup", {}, "")], groups


def _nothing_rewrites_the_log(out: str, *, gitlab: bool) -> None:
    """Only LF ends a line, and no control sequence but colours and (GitLab) our section markers."""
    text = out
    if gitlab:
        markers = _GITLAB_MARKER.findall(text)
        assert markers, "no section marker at all"
        for i in range(0, len(markers), 2):  # each section opened, then closed, never one inside another
            assert markers[i][0] == "start", markers
            assert markers[i + 1] == ("end", markers[i][1]), markers
        text = _GITLAB_MARKER.sub("", text)
    text = _COLOUR.sub("", text)
    stray = sorted({f"U+{ord(c):04X}" for c in _NOT_OURS.findall(text)})
    assert not stray, f"{stray} in the output:\n{out[-3000:]}"
