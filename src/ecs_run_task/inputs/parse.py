"""Parsers for input values. Each takes the raw text and returns a value or raises `BadValue`
with what is accepted; `spec.py` adds which input it was."""

from __future__ import annotations

import json
import math
import re
import shlex
from typing import Any

MAX_JSON_BYTES = 256 * 1024  # far above any real overrides or strategy; a task definition file has its own
MAX_JSON_DEPTH = 32  # a task definition nests about 6 deep
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


def shown(seconds: float) -> str:
    """A duration as people write it: 3600 -> 1h, 90 -> 1m30s, 10 -> 10s, 0.5 -> 500ms."""
    if seconds < 1:
        return f"{seconds * 1000:g}ms"
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return "".join(f"{n}{u}" for n, u in ((hours, "h"), (minutes, "m"), (secs, "s")) if n) or "0s"


def whole_number(text: str, low: int, high: int) -> int:
    stripped = text.strip()
    # a long one is out of range anyway, and int() refuses one past 4,300 digits
    if not re.fullmatch(r"\d{1,18}", stripped) or not low <= int(stripped) <= high:
        raise BadValue(f"expected a whole number from {low} to {high}")
    return int(stripped)


def command(text: str) -> tuple[str, ...]:
    """A JSON array of strings, or a string split as a POSIX shell would (no expansion)."""
    stripped = text.strip()
    if stripped.startswith("["):
        parsed = json_value(stripped, what="a JSON array")
        if not isinstance(parsed, list) or not all(isinstance(a, str) for a in parsed):
            raise BadValue('expected a JSON array of strings, e.g. ["bin/rails", "db:migrate"]')
        argv = tuple(parsed)
    else:
        try:
            argv = tuple(shlex.split(stripped, posix=True))
        except ValueError as e:
            raise BadValue(f"cannot be split as a shell would: {e} (quote it, or give a JSON array)") from None
    if not argv:
        raise BadValue("expected a command; leave it out to keep the task definition's")
    return argv


def key_values(text: str, *, what: str) -> tuple[tuple[str, str], ...]:
    """`KEY=VALUE` lines; blank lines and lines starting with `#` are skipped. Values may hold `=`.

    Lines end at LF (or CRLF) only: a value may hold any other character, and no error shows any part of a
    line but its key, since a line without `=` may be the tail of a secret (a PEM's second line)."""
    stripped = text.strip()
    if stripped.startswith(("{", "[")):
        raise BadValue(f"looks like JSON; give {what} as KEY=VALUE lines, one a line (A=1, then B=2 below it)")
    pairs: list[tuple[str, str]] = []
    for number, raw in enumerate(text.split("\n"), start=1):
        line = raw.removesuffix("\r").strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        if not sep:
            raise BadValue(f"line {number} has no '=': expected {what} as KEY=VALUE, one a line")
        if not key.strip():
            raise BadValue(f"line {number} has nothing before '=': expected {what} as KEY=VALUE, one a line")
        pairs.append((key.strip(), value))
    if len(pairs) == 1 and _SEVERAL.fullmatch(pairs[0][1]):
        raise BadValue(
            f"line 1 ({pairs[0][0]}=...) looks like several on one line, separated by commas; give one KEY=VALUE a line"
        )  # nothing of the value is named: it may be a secret
    return tuple(pairs)


# A=1,B=2: the value of A would be `1,B=2`. A value whose first part holds `=` is more likely one value with
# commas (a URL's query, `postgres://h/db?x=1,SSLMODE=require`) and is left alone.
_SEVERAL = re.compile(r"[^,=]*(,\s*[A-Z_][A-Z0-9_]*=[^,]*)+")


def pair(text: str, *, what: str) -> tuple[str, str]:
    """One `KEY=VALUE`, exactly as given: the value may hold anything, new lines included."""
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise BadValue(f"expected {what} as KEY=VALUE")
    return key.strip(), value


def words(text: str) -> tuple[str, ...]:
    """IDs separated by commas and/or white space."""
    return tuple(w for w in re.split(r"[\s,]+", text.strip()) if w)


def json_value(text: str, *, what: str = "JSON", limit: int = MAX_JSON_BYTES) -> Any:
    """Parsed JSON within a size and a nesting depth: what no real input exceeds, and what would otherwise
    end the run with a traceback (Python's recursion and integer-digit limits)."""
    if len(text) > limit or len(text.encode("utf-8", "surrogatepass")) > limit:
        raise BadValue(f"is larger than {limit // 1024} KiB; is it {what}?")
    try:
        parsed = json.loads(text)
    except json.JSONDecodeError as e:
        raise BadValue(f"is not valid JSON ({e.msg} at line {e.lineno} column {e.colno})") from None
    except (ValueError, RecursionError):  # an integer past Python's digit limit; nesting past the stack
        raise BadValue(f"is not {what} we can read: a number is too long or it nests too deep") from None
    if _depth(parsed) > MAX_JSON_DEPTH:
        raise BadValue(f"nests deeper than {MAX_JSON_DEPTH} levels; is it {what}?")
    return parsed


def _depth(value: Any) -> int:
    deepest, stack = 0, [(value, 1)]
    while stack and deepest <= MAX_JSON_DEPTH:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        if children is not None:
            deepest = max(deepest, depth)
            stack.extend((child, depth + 1) for child in children)
    return deepest


def json_object(text: str) -> dict[str, Any]:
    parsed = json_value(text, what="a JSON object")
    if not isinstance(parsed, dict):
        raise BadValue("expected a JSON object")
    return parsed
