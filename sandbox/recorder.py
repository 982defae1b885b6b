"""Every call the sandbox answered: operation name, parsed body, monotonic time."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import parse_qs


@dataclass(frozen=True)
class Call:
    name: str  # "RunTask", "GetLogEvents", "DescribeVpcs", ...
    service: str  # "ecs", "logs", "ec2", "sts", ... ("" if unknown)
    body: dict[str, Any]
    t: float  # time.monotonic() when it arrived
    status: int = 0  # HTTP status answered (filled after the answer)
    fault: str | None = None  # "throttle" | "error" | "drop" | "deny" | "lost-answer" | "mangle" if injected


def operation(environ: dict[str, Any], body: bytes) -> tuple[str, str, dict[str, Any]]:
    """(operation, service, parsed body) from X-Amz-Target (JSON) or Action= (query)."""
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    service = _service(environ)
    if target:
        try:
            parsed = json.loads(body or b"{}")
        except ValueError:
            parsed = {}
        return target.rsplit(".", 1)[-1], service, parsed if isinstance(parsed, dict) else {}
    form = {k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}
    form.update({k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()})
    return form.get("Action", ""), service, form


def _service(environ: dict[str, Any]) -> str:
    # SigV4: "AWS4-HMAC-SHA256 Credential=KEY/DATE/REGION/SERVICE/aws4_request, ..."
    auth = environ.get("HTTP_AUTHORIZATION", "")
    try:
        return str(auth.split("Credential=", 1)[1].split(",", 1)[0].split("/")[3])
    except IndexError:
        return ""


class CallLog:
    def __init__(self, on_add: Callable[[], None] | None = None) -> None:
        self._lock = threading.Lock()
        self._calls: list[Call] = []
        self._on_add = on_add  # told of every call as it arrives (still in flight)

    def add(self, call: Call) -> int:
        with self._lock:
            self._calls.append(call)
            index = len(self._calls) - 1
        if self._on_add is not None:
            self._on_add()
        return index

    def finish(self, index: int, status: int, fault: str | None = None) -> None:
        with self._lock:
            self._calls[index] = replace(self._calls[index], status=status, fault=fault)

    def all(self) -> list[Call]:
        with self._lock:
            return list(self._calls)

    def clear(self) -> None:
        with self._lock:
            self._calls.clear()
