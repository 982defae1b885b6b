"""Read output the way the GitHub runner does, to prove which lines act as workflow commands.

Mirrors the runner's ActionCommandManager: a line whose left-trimmed text starts with `::` is a command
(`::name k=v,k=v::message`); the legacy `##[name k=v]message` form is matched anywhere in a line;
`::stop-commands::TOKEN` turns processing off until a line that is exactly `::TOKEN::`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_V2 = re.compile(r"^::(?P<name>[A-Za-z0-9_-]+)(?: (?P<props>[^:]*))?::(?P<message>.*)$", re.DOTALL)
_LEGACY = re.compile(r"##\[(?P<name>[A-Za-z0-9_-]+)(?: (?P<props>[^\]]*))?\](?P<message>.*)$", re.DOTALL)


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


def commands(output: str) -> list[Command]:
    """Every command the runner would act on, in order (stop-commands blocks honoured)."""
    found: list[Command] = []
    paused_by: str | None = None
    for line in output.splitlines():
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
