"""Read output the way the GitHub runner does, to prove which lines act as workflow commands.

Mirrors the runner's ActionCommandManager: a line whose left-trimmed text starts with `::` is a command
(`::name k=v,k=v::message`); the legacy `##[name k=v]message` form is matched anywhere in a line;
`::stop-commands::TOKEN` turns processing off until a line that is exactly `::TOKEN::`. Lines are split as the
runner reads a process's output (.NET's `ReadLine`): at CR LF, at LF, and at a CR alone, so `foo\r::error::x`
is two lines, the second a command; NEL, U+2028 and the other separators Python's `splitlines` knows are not
line ends to the runner.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_V2 = re.compile(r"^::(?P<name>[A-Za-z0-9_-]+)(?: (?P<props>[^:]*))?::(?P<message>.*)$", re.DOTALL)
_LEGACY = re.compile(r"##\[(?P<name>[A-Za-z0-9_-]+)(?: (?P<props>[^\]]*))?\](?P<message>.*)$", re.DOTALL)
_LINE_END = re.compile(r"\r\n|\r|\n")


@dataclass(frozen=True)
class Command:
    name: str
    properties: dict[str, str]
    message: str


def _unescape(text: str) -> str:
    return text.replace("%0D", "\r").replace("%0A", "\n").replace("%3A", ":").replace("%2C", ",").replace("%25", "%")


def _command(match: re.Match[str]) -> Command:
    props = {}
    for pair in (match["props"] or "").split(","):
        key, sep, value = pair.partition("=")
        if sep:
            props[key.strip()] = _unescape(value)
    return Command(match["name"], props, _unescape(match["message"]))


def runner_lines(output: str) -> list[str]:
    """`output` split into lines as the runner reads them."""
    return _LINE_END.split(output.removesuffix("\n").removesuffix("\r"))


def commands(output: str) -> list[Command]:
    """Every command the runner would act on, in order (stop-commands blocks honoured)."""
    found: list[Command] = []
    paused_by: str | None = None
    for line in runner_lines(output):
        if paused_by is not None:
            if line.strip() == f"::{paused_by}::":
                paused_by = None
            continue
        match = _V2.match(line.lstrip()) or _LEGACY.search(line)
        if not match:
            continue
        command = _command(match)
        if command.name == "stop-commands":
            paused_by = command.message
            continue
        found.append(command)
    return found


def file_command(text: str) -> dict[str, str]:
    """A file command's values (`$GITHUB_OUTPUT`, `$GITHUB_STATE`) as a Linux runner reads them: `name=value` lines,
    and `name<<DELIMITER` ... `DELIMITER` for a value of several lines; lines end at LF."""
    values: dict[str, str] = {}
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        if not line:
            continue
        heredoc = "<<" in line and ("=" not in line or line.index("<<") < line.index("="))
        if not heredoc:
            name, _, value = line.partition("=")
            values[name] = value
            continue
        name, _, delimiter = line.partition("<<")
        body: list[str] = []
        while lines[i] != delimiter:  # an IndexError: the runner fails the step too
            body.append(lines[i])
            i += 1
        i += 1
        values[name] = "\n".join(body)
    return values
