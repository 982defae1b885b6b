"""Structured (JSON) log lines: shown readably, and error/warning ones turned into annotations. Pure."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

_LEVEL_KEYS = ("level", "levelname", "severity", "log.level")
_MESSAGE_KEYS = ("message", "msg", "event")
_FILE_KEYS = ("file", "filename", "pathname", "path", "caller")
_LINE_KEYS = ("line", "lineno", "lineNumber")
_ERRORS = frozenset({"error", "err", "critical", "crit", "fatal", "alert", "emerg", "emergency", "panic"})
_WARNINGS = frozenset({"warn", "warning"})


@dataclass(frozen=True)
class Structured:
    level: str
    message: str
    fields: dict[str, Any]

    def readable(self) -> str:
        rest = " ".join(f"{k}={_short(v)}" for k, v in self.fields.items())
        return f"{self.level.upper():<5} {self.message}" + (f" {rest}" if rest else "")

    @property
    def severity(self) -> str | None:
        """`error`, `warning` or None, from names or pino/bunyan numbers (40 warn, 50 error, 60 fatal)."""
        level = self.level.lower()
        number = _number(level)
        if level in _ERRORS or (number is not None and number >= 50):
            return "error"
        if level in _WARNINGS or number == 40:
            return "warning"
        return None

    def location(self) -> tuple[str, int | None] | None:
        """A source path (and line) the line points at, if it carries one."""
        for key in _FILE_KEYS:
            value = self.fields.get(key)
            if isinstance(value, str) and value:
                path, _, tail = value.partition(":") if key == "caller" else (value, "", "")
                line = next((self.fields[k] for k in _LINE_KEYS if isinstance(self.fields.get(k), int)), None)
                number = _number(tail)
                return path, line if number is None else number
        return None


def _number(text: str) -> int | None:
    """A small number written in ASCII digits; None for anything else (`int()` fails on "²" and 5,000 digits)."""
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 9 else None


def _short(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))


def parse(text: str) -> Structured | None:
    """A JSON object with a level-like and a message-like key; anything else is None (printed raw)."""
    stripped = text.strip()
    if not (stripped.startswith("{") and stripped.endswith("}")):
        return None
    try:
        obj = json.loads(stripped)
    except (ValueError, RecursionError):  # also an integer past the digit limit, or nesting past the stack: raw
        return None
    if not isinstance(obj, dict):
        return None
    nested: dict[str, Any] = obj["log"] if isinstance(obj.get("log"), dict) else {}
    level_key = next(
        (k for k in _LEVEL_KEYS if isinstance(obj.get(k), str | int) and not isinstance(obj.get(k), bool)), None
    )
    message_key = next((k for k in _MESSAGE_KEYS if isinstance(obj.get(k), str)), None)
    level = obj.get(level_key) if level_key else nested.get("level")
    if level is None or message_key is None:
        return None
    fields = {k: v for k, v in obj.items() if k not in {level_key, message_key} and not (k == "log" and not level_key)}
    return Structured(str(level), obj[message_key], fields)
