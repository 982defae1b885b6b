"""WSGI middleware in front of moto: records calls, injects faults, overlays ECS answers."""

from __future__ import annotations

import io
import json
import socket
import time
import uuid
from collections.abc import Callable, Iterable
from typing import Any

from . import overlay
from .driver import Driver
from .faults import Fault, Faults, Mangler
from .recorder import Call, CallLog, operation

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

# Calls the sandbox makes to set itself up carry this header: not recorded, never faulted.
SETUP_HEADER = "X-Sandbox-Setup"
_SETUP_ENVIRON = "HTTP_X_SANDBOX_SETUP"


class Middleware:
    def __init__(self, app: WSGIApp, calls: CallLog, faults: Faults, driver: Driver, account: str) -> None:
        self.app = app
        self.calls = calls
        self.faults = faults
        self.driver = driver
        self.account = account

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        # moto reads the body again: hand it a fresh stream.
        environ["wsgi.input"] = io.BytesIO(body)
        op, service, parsed = operation(environ, body)
        is_json = bool(environ.get("HTTP_X_AMZ_TARGET"))
        if environ.get(_SETUP_ENVIRON) or not op:
            return self.app(environ, start_response)

        index = self.calls.add(Call(name=op, service=service, body=parsed, t=time.monotonic()))
        delay = self.faults.delay_for(op)
        if delay:
            time.sleep(delay)
        fault = self.faults.decide(op)
        if fault is not None:
            self.calls.finish(index, fault.status, fault.kind)
            return self._fault(fault, is_json, environ, start_response)

        lose = self.faults.take_lost_answer(op)
        early = overlay.before(op, parsed, self.faults, self.account, self.driver) if service == "ecs" else None
        if early is not None:
            status, answer = early
        else:
            asked, placed = _to_moto(op, parsed, environ, self.faults, self.driver) if service == "ecs" else (0, None)
            status, headers, raw = self._call_moto(environ)
            if service != "ecs" or op not in overlay.ECS_OPS:
                mangler = self.faults.take_mangle(op) if status == 200 and is_json else None
                if mangler is not None:
                    raw = _body(mangler(json.loads(raw or b"{}")))
                    headers = [(k, v) for k, v in headers if k.lower() != "content-length"]
                    headers.append(("Content-Length", str(len(raw))))
                self.calls.finish(index, status, _kind(lose, mangler))
                if lose:
                    return _hang_up(environ)
                start_response(_status_line(status), headers)
                return [raw]
            try:
                answer = json.loads(raw or b"{}")
            except ValueError:
                answer = {}
            status, answer = overlay.after(op, parsed, status, answer, self.driver)
            if placed is not None and status == 200:  # as ECS answers when the cluster has room for only some
                answer.setdefault("failures", []).extend([{"reason": "RESOURCE:MEMORY"}] * (asked - placed))
        mangler = self.faults.take_mangle(op) if status == 200 else None
        self.calls.finish(index, status, _kind(lose, mangler))
        if lose:
            return _hang_up(environ)
        return json_answer(start_response, status, answer if mangler is None else mangler(answer))

    def _call_moto(self, environ: dict[str, Any]) -> tuple[int, list[tuple[str, str]], bytes]:
        try:
            status, headers, raw = call_wsgi(self.app, environ)
        except Exception as exc:  # moto raises bare Exceptions for some "not found" cases
            raw = json.dumps({"__type": "InternalFailure", "message": str(exc)}).encode()
            headers = [("Content-Type", "application/x-amz-json-1.1"), ("Content-Length", str(len(raw)))]
            return 500, headers, raw
        return int(status.split()[0]), headers, raw

    def _fault(
        self, fault: Fault, is_json: bool, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        if fault.kind == "drop":
            if isinstance(environ.get("werkzeug.socket"), socket.socket):
                return _hang_up(environ)
            fault = Fault("error", 503)
        if fault.kind == "deny":
            code, message = fault.code, fault.message
        elif fault.kind == "throttle":
            code, message = ("ThrottlingException", "Rate exceeded")
            if not is_json:
                code, message = ("RequestLimitExceeded", "Request limit exceeded.")
        else:
            code, message = ("ServerException", "Service unavailable, try again")
        if is_json:
            return json_answer(start_response, fault.status, {"__type": code, "message": message})
        xml = (
            f"<Response><Errors><Error><Code>{code}</Code><Message>{message}</Message></Error></Errors>"
            f"<RequestID>{uuid.uuid4()}</RequestID></Response>"
        ).encode()
        start_response(_status_line(fault.status), [("Content-Type", "text/xml"), ("Content-Length", str(len(xml)))])
        return [xml]


def _kind(lost: bool, mangler: Mangler | None) -> str | None:
    """The fault recorded for a call that was answered (or carried out and hung up on)."""
    return "lost-answer" if lost else "mangle" if mangler is not None else None


def _body(answer: dict[str, Any] | str) -> bytes:
    return answer.encode("utf-8", "surrogatepass") if isinstance(answer, str) else overlay.encode(answer)


def _hang_up(environ: dict[str, Any]) -> list[bytes]:
    """Close the connection under the client: it sees a reset / empty reply."""
    sock = environ.get("werkzeug.socket")
    if isinstance(sock, socket.socket):
        sock.shutdown(socket.SHUT_RDWR)
        sock.close()
    return []


def _status_line(status: int) -> str:
    reasons = {200: "OK", 400: "Bad Request", 500: "Internal Server Error", 503: "Service Unavailable"}
    return f"{status} {reasons.get(status, 'Status')}"


def json_answer(start_response: Callable[..., Any], status: int, answer: dict[str, Any] | str) -> list[bytes]:
    data = _body(answer)
    start_response(
        _status_line(status),
        [
            ("Content-Type", "application/x-amz-json-1.1"),
            ("Content-Length", str(len(data))),
            ("x-amzn-RequestId", str(uuid.uuid4())),
        ],
    )
    return [data]


def _to_moto(
    op: str, parsed: dict[str, Any], environ: dict[str, Any], faults: Faults, driver: Driver
) -> tuple[int, int | None]:
    """The request as moto is to answer it (overlay.for_moto); a RunTask asking for more tasks than the placement
    limit allows: moto is asked for fewer. (tasks asked, tasks placed or None)"""
    body = overlay.for_moto(op, parsed, driver)
    asked = int(parsed.get("count") or 1)
    limit = faults.take_placement_limit() if op == "RunTask" else None
    if limit is not None and limit < asked:
        body = {**body, "count": limit}
    else:
        limit = None
    if body is not parsed:
        raw = json.dumps(body).encode()
        environ["wsgi.input"], environ["CONTENT_LENGTH"] = io.BytesIO(raw), str(len(raw))
    return asked, limit


def call_wsgi(app: WSGIApp, environ: dict[str, Any]) -> tuple[str, list[tuple[str, str]], bytes]:
    """Call a WSGI app in-process: its status line, headers (Content-Length recounted) and whole body."""
    captured: dict[str, Any] = {}

    def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[[bytes], None]:
        captured["status"], captured["headers"] = status, headers
        return lambda _data: None

    chunks = app(environ, capture)
    try:
        raw = b"".join(chunks)
    finally:
        close = getattr(chunks, "close", None)
        if close is not None:
            close()
    headers = [(k, v) for k, v in captured["headers"] if k.lower() != "content-length"]
    headers.append(("Content-Length", str(len(raw))))
    return str(captured["status"]), headers, raw
