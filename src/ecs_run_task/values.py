"""Parsers for input values. Each takes the raw text and returns a value or raises `BadValue`
with what is accepted; `spec.py` adds which input it was."""

from __future__ import annotations

import json
import math
import re
import shlex
from typing import Any

_TRUE = frozenset({"true", "True", "TRUE"})
_FALSE = frozenset({"false", "False", "FALSE"})
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h)")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


class BadValue(ValueError):
    """The value does not parse; the message says what would."""


def boolean(text: str) -> bool:
    # YAML 1.2 core schema, as GitHub's own getBooleanInput: a typo must not silently mean false.
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise BadValue("expected true or false (true|True|TRUE|false|False|FALSE)")


def duration(text: str) -> float:
    """`90s`, `30m`, `2h`, `1h30m`, `500ms` or plain seconds (`45`, `0.5`) -> seconds."""
    cleaned = text.strip().replace(" ", "")
    try:
        seconds = float(cleaned)
    except ValueError:
        parts = _DURATION_PART.findall(cleaned)
        if not parts or "".join(n + u for n, u in parts) != cleaned:
            raise BadValue("expected a duration such as 90s, 30m, 2h, 1h30m or a number of seconds") from None
        seconds = sum(float(n) * _UNIT_SECONDS[u] for n, u in parts)
    if seconds < 0 or not math.isfinite(seconds):
        raise BadValue("expected a duration of zero or more")
    return seconds


def whole_number(text: str, low: int, high: int) -> int:
    stripped = text.strip()
    if not re.fullmatch(r"\d+", stripped) or not low <= int(stripped) <= high:
        raise BadValue(f"expected a whole number from {low} to {high}")
    return int(stripped)


def command(text: str) -> tuple[str, ...]:
    """A JSON array of strings, or a string split as a POSIX shell would (no expansion)."""
    stripped = text.strip()
    if stripped.startswith("["):
        try:
            parsed = json.loads(stripped)
        except json.JSONDecodeError as e:
            raise BadValue(f"looks like a JSON array but is not valid JSON ({e.msg} at column {e.colno})") from None
        if not isinstance(parsed, list) or not all(isinstance(a, str) for a in parsed):
            raise BadValue('expected a JSON array of strings, e.g. ["bin/rails", "db:migrate"]')
        argv = tuple(parsed)
    else:
        try:
            argv = tuple(shlex.split(stripped, posix=True))
        except ValueError as e:
            raise BadValue(f"cannot be split as a shell would: {e} (quote it, or give a JSON array)") from None
    if not argv:
        raise BadValue("expected a command; leave the input out to keep the task definition's")
    return argv


def key_values(text: str, *, what: str) -> tuple[tuple[str, str], ...]:
    """`KEY=VALUE` lines; blank lines and lines starting with `#` are skipped. Values may hold `=`."""
    pairs: list[tuple[str, str]] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        if not sep or not key.strip():
            raise BadValue(f"line {number} is {_show_key(line)}: expected {what} as KEY=VALUE")
        pairs.append((key.strip(), value))
    return tuple(pairs)


def _show_key(line: str) -> str:
    # Never echo a value: an environment line may hold a secret (`DB_PASSWORD: hunter2`). Show a name at most.
    name = re.match(r"[A-Za-z_][A-Za-z0-9_.-]*", line)
    if "=" in line:
        return "missing its KEY before '='"
    if name and name.group() == line.strip():
        return f"{name.group()!r} without '='"
    return f"{name.group()!r}... without '='" if name else "without '='"


def words(text: str) -> tuple[str, ...]:
    """IDs separated by commas and/or white space."""
    return tuple(w for w in re.split(r"[\s,]+", text.strip()) if w)


def json_object(text: str) -> dict[str, Any]:
    try:
        parsed = json.loads(text)
    except json.JSONDecodeError as e:
        raise BadValue(f"is not valid JSON ({e.msg} at line {e.lineno} column {e.colno})") from None
    if not isinstance(parsed, dict):
        raise BadValue("expected a JSON object")
    return parsed
