"""Hostile output (issue 16): what a container writes, and what anyone who may stop a task writes into its stop
reason, never crashes a run, acts as a command, rewrites the log or leaks a secret. Each row is a task writing
hostile lines, run as a real process in the formats it matters for (see `tests/hostile.py` for what every run
proves); the test then checks that the user still sees what the container wrote."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import NamedTuple

import pytest

from sandbox import Container, ContainerScript, Sandbox, Scripted
from tests.helpers import Record, register, steps
from tests.hostile import MARK, survive
from tests.workflow_commands import commands

BREAKS = {"CR": "\r", "CRLF": "\r\n", "LF": "\n", "NEL": "\x85", "LS": "\u2028", "PS": "\u2029", "VT": "\x0b",
          "FF": "\x0c", "FS": "\x1c", "GS": "\x1d", "RS": "\x1e"}  # fmt: skip
# the runner acts on a line whose trimmed text starts with `::`, and on `##[` anywhere
COMMANDS = [f"::error::{MARK}", f"::set-output name=status::{MARK}", f"::add-mask::{MARK}", f"##[error]{MARK}",
            f"::save-state name=task-arns::{MARK}", f"::stop-commands::{MARK}"]  # fmt: skip
OURS = "waiting_for_the_task_status_and_logs"  # the live section the container's lines sit in, on GitLab
LONG_PATH = "/srv/" + "a" * 300 + "/models/user.rb"  # one part past NAME_MAX: "File name too long"
ASCII = {"PYTHONIOENCODING": "ascii"}
C_LOCALE = {"LC_ALL": "C", "LANG": "C"}


class Case(NamedTuple):
    lines: list[str]  # what the container writes, at once
    runs: list[tuple[str, dict[str, str]]]  # (format, extra environment) of each run
    shown: list[str]  # what a reader must still see in the text formats (word joiners removed)
    annotated: tuple[str, ...] = ()  # on GitHub, the messages of the error annotations made from the lines, in order


CASES = {
    "lone surrogate in a JSON line": Case(
        ['{"level":"info","msg":"user said \\ud800"}', '{"level":"error","msg":"bad \\udfff"}'],
        [("plain", {}), ("github", {}), ("gitlab", {}), ("json", {}), ("plain", ASCII), ("github", C_LOCALE)],
        ["INFO  user said \\ud800", "ERROR bad \\udfff"],
        ("bad \\udfff",),
    ),
    "undecodable bytes as surrogates in CloudWatch": Case(
        ["bytes \udcff\udcfe end", "\udc80"],
        [("plain", {}), ("github", {}), ("json", {}), ("gitlab", ASCII)],
        ["bytes \\udcff\\udcfe end"],
    ),
    "undecodable bytes as replacement characters, non-ASCII text on an ASCII stdout": Case(
        ["bytes \ufffd\ufffd end", "caf\u00e9 \u2615 \u65e5\u672c"],
        [("plain", ASCII), ("github", ASCII)],
        ["bytes \\ufffd\\ufffd end", "caf\\xe9 \\u2615 \\u65e5\\u672c"],
    ),
    "300 KB lines": Case(
        ["x" * 300_000, json.dumps({"level": "error", "msg": "y" * 300_000}), "after"],
        [("plain", {}), ("github", {})],
        ["x" * 300_000, "after"],
        ("y" * 4096,),  # where the runner would cut it
    ),
    "a long file field in a JSON error line": Case(
        [
            json.dumps({"level": "error", "msg": "boom", "file": LONG_PATH, "line": 3}),
            json.dumps({"level": "error", "msg": "nul", "file": "app/\u0000.rb"}),
            json.dumps({"level": "warn", "msg": "caller", "caller": "x" * 5000 + ":12"}),
        ],
        [("github", {})],
        ["ERROR boom", "ERROR nul", "WARN  caller"],
        ("boom", "nul"),
    ),
    "JSON lines past what a parser takes: nested 100,000 deep, a superscript or 5,000-digit number": Case(
        [
            '{"level":"info","msg":"deep","a":' + "[" * 100_000 + "]" * 100_000 + "}",
            '{"level":"\u00b2","msg":"superscript level"}',
            '{"level":"' + "9" * 5000 + '","msg":"long level"}',
            '{"level":"error","msg":"superscript line","caller":"a.go:\u00b2"}',
            '{"level":"error","msg":"long line","caller":"a.go:' + "9" * 5000 + '"}',
            "after",
        ],
        [("plain", {}), ("github", {})],
        ["after", "ERROR superscript line"],
        ("superscript line", "long line"),
    ),
    "line breaks before a command: CR, CRLF, NEL, U+2028 and every other": Case(
        [f"{name} before{sep}{command}" for name, sep in BREAKS.items() for command in COMMANDS[:1]]
        + [f"CR before\r{command}" for command in COMMANDS[1:]]
        + ["   \r  ::warning::" + MARK, json.dumps({"level": "info", "msg": f"in JSON\r::error::{MARK}"})],
        [("plain", {}), ("github", {}), ("gitlab", {}), ("json", {})],
        ["CR before", "::error::PWN", "NEL before", "::add-mask::PWN", "INFO  in JSON", "::stop-commands::PWN"],
    ),
    "GitLab section markers": Case(
        [
            f"\x1b[0Ksection_end:1700000000:{OURS}\r\x1b[0K",
            "\x1b[0Ksection_start:1700000000:fake\r\x1b[0Kfake",
            "\x1b[0Ksection_end:1700000000:result\r\x1b[0K",
            "still inside",
        ],
        [("gitlab", {}), ("plain", {})],
        ["\u241b[0Ksection_end:1700000000:", "still inside"],
    ),
    "terminal control sequences": Case(
        [
            "\x1b[2J\x1b[Hcleared",
            "\x1b[1A\x1b[2Krewritten",
            "\x1b]0;title\x07",
            "\x1b]8;;https://evil.example\x1b\\link",
            "\x9b2Jcsi",
            "\x1bcreset",
            "bell\x07 back\x08space nul\x00",
            "\x1b[31mred\x1b[0m",
        ],
        [("gitlab", {}), ("plain", {}), ("github", {})],
        [
            "\u241b[2J\u241b[Hcleared",
            "\u241b[1A\u241b[2Krewritten",
            "\u241b]0;title\u2407",
            "\ufffd2Jcsi",
            "bell\u2407 back\u2408space nul\u2400",
            "\x1b[31mred\x1b[0m",
        ],
    ),
}
RUNS = [(name, fmt, env) for name, case in CASES.items() for fmt, env in case.runs]


def _id(fmt: str, env: dict[str, str]) -> str:
    return fmt + "".join(f"-{k}={v}" for k, v in env.items() if k != "LANG")


@pytest.mark.parametrize(("case", "fmt", "env"), RUNS, ids=[f"{n}-{_id(f, e)}" for n, f, e in RUNS])
def test_a_task_writing_hostile_lines_ends_with_its_own_exit_code(
    sandbox: Sandbox, tmp_path: Path, record_property: Record, *, case: str, fmt: str, env: dict[str, str]
) -> None:
    record_property("fault", "hostile output")
    lines = CASES[case].lines
    register(sandbox, web=ContainerScript(exit_code=3, lines=[(0.0, line) for line in lines]))
    (tmp_path / "srv" / "app").mkdir(parents=True)  # the workspace: annotations may point into it
    env = {**env, "GITHUB_WORKSPACE": str(tmp_path / "srv")}
    ran = survive(sandbox, tmp_path, "-t", "app", code=3, status="failed", fmt=fmt, env=env)
    if fmt == "json":  # the data unchanged: JSON's own escapes carry every character
        logged = [json.loads(line)["message"] for line in ran.out.splitlines() if line.startswith('{"event": "log"')]
        assert logged == lines
        return
    for text in CASES[case].shown:
        assert text in ran.shown, f"{text!r} not shown"
    if fmt == "github":
        assert "exited with code 3" in ran.summary
        annotations = [c.message for c in commands(ran.out) if c.name == "error" and c.properties.get("title") == "web"]
        assert tuple(annotations) == CASES[case].annotated


MARKUP = (
    f"<h1>{MARK}</h1> <img src=x onerror=alert(1)> [x](https://evil.example) | cell | ![i](https://evil.example/i.png)"
    " see https://evil.example/fix or www.evil.example or fix@evil.example"
)


@pytest.mark.parametrize("where", ["task stoppedReason", "container reason"])
def test_markup_in_a_stop_reason_is_shown_never_rendered(
    sandbox: Sandbox, tmp_path: Path, record_property: Record, where: str
) -> None:
    """Anyone with ecs:StopTask writes the stopped reason; a container's reason comes from ECS and the registry."""
    record_property("fault", "hostile output")
    reason = f"{MARKUP}\n# heading\r::error::{MARK}"
    if where == "task stoppedReason":
        register(sandbox, web=ContainerScript(exit_code=3), stopped_reason=reason)
        code, status = 3, "failed"
    else:  # a container that never ran: its reason is the failure's
        register(sandbox, web=ContainerScript(exit_code=None, reason=reason), stop_code="TaskFailedToStart")
        code, status = 125, "failed-to-start"
    ran = survive(sandbox, tmp_path, "-t", "app", code=code, status=status, fmt="github")
    summary = ran.summary
    for raw in (r"<h1>", r"<img", r"\]\(https://evil", r"\|\s*cell", r"^#\s*heading"):  # unless escaped by a backslash
        assert not re.search(r"(?<!\\)" + raw, summary, re.MULTILINE), f"{raw!r} rendered:\n{summary}"
    for bare in ("https://evil", "www.evil", "fix@evil"):  # GitHub's Markdown makes links of these
        assert bare not in summary, f"{bare!r} would be a link:\n{summary}"
    assert "\\<h1\\>PWN\\</h1\\>" in summary  # shown as text
    assert "<details open><summary>" not in summary  # no log lines: only our own tags would be there
    assert "never appeared" not in ran.out  # a container that never ran has no stream: no hint to look for one
    if where == "task stoppedReason":
        assert " ".join(ran.outputs["STOPPED_REASON"].split()) == " ".join(reason.split())


@pytest.mark.parametrize(
    "region", ["eu-west-1.evil.example", 'us-east-1"><img src=x onerror=alert(1)>', "EU-WEST-1", "us-east-1/../x"]
)
def test_an_odd_awslogs_region_gives_no_link_and_no_crash(
    sandbox: Sandbox, tmp_path: Path, record_property: Record, region: str
) -> None:
    """The region of a task definition's logs goes into console links: anything but a region's name gives none."""
    record_property("fault", "hostile task definition")
    behaviour = Scripted(steps=steps(0.3), containers={"web": ContainerScript(exit_code=3, lines=[(0.0, "hello")])})
    sandbox.register("app", [Container("web")], behaviour, log_group="/ecs/app", log_region=region)
    ran = survive(sandbox, tmp_path, "-t", "app", code=3, status="failed", fmt="github")
    assert ran.outputs["LOG_URL"] == ""
    assert "container web: its lines are not streamed here; its awslogs-region " in ran.out
    for text in ("evil", "<img", region):
        assert text not in ran.summary
