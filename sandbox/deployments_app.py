"""A WSGI layer between the middleware and moto for service deployments (moto has none of their operations).

It answers ListServiceDeployments, DescribeServiceDeployments, DescribeServiceRevisions and
ContinueServiceDeployment itself, refuses CreateService/UpdateService with lifecycle hooks ECS refuses, tells the
model of every service created or updated (`Deployments.observe`), and shows a service's deploymentConfiguration in
DescribeServices as ECS does (moto's CreateService drops it). Everything else goes to moto untouched. Being behind
the middleware, these calls are recorded and take faults like any other.
"""

from __future__ import annotations

import io
import json
import uuid
from collections.abc import Callable, Iterable
from typing import Any

from .deployments import Deployments, refusal
from .middleware import SETUP_HEADER, WSGIApp
from .recorder import operation

OPS = frozenset({"ListServiceDeployments", "DescribeServiceDeployments", "DescribeServiceRevisions",
                 "ContinueServiceDeployment"})  # fmt: skip
_SETUP_ENVIRON = "HTTP_" + SETUP_HEADER.upper().replace("-", "_")


class DeploymentsApp:
    def __init__(self, app: WSGIApp, deployments: Deployments) -> None:
        self.app = app
        self.deployments = deployments

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)  # moto reads it again
        op, service, parsed = operation(environ, body)
        if service != "ecs":
            return self.app(environ, start_response)
        if op in OPS:
            return _json(start_response, *self.deployments.answer(op, parsed, _region(environ)))
        if op in ("CreateService", "UpdateService"):
            refused = refusal(parsed)
            if refused is not None:
                return _json(start_response, *refused)
        if op not in ("CreateService", "UpdateService", "DescribeServices"):
            return self.app(environ, start_response)
        status, headers, raw = _call(self.app, environ)
        if not status.startswith("200"):
            start_response(status, headers)
            return [raw]
        answer = json.loads(raw or b"{}")
        if op == "DescribeServices":
            self._configurations(answer)
        else:
            answer = self.deployments.observe(op, parsed, answer, setup=bool(environ.get(_SETUP_ENVIRON)))
        return _json(start_response, 200, answer)

    def _configurations(self, answer: dict[str, Any]) -> None:
        with self.deployments.sched.cond:
            for svc in answer.get("services", []):
                record = self.deployments.services.get(str(svc.get("serviceArn")))
                if record is not None and record.config and not svc.get("deploymentConfiguration"):
                    svc["deploymentConfiguration"] = record.config


def _region(environ: dict[str, Any]) -> str:
    # SigV4: "AWS4-HMAC-SHA256 Credential=KEY/DATE/REGION/SERVICE/aws4_request, ..."
    auth = environ.get("HTTP_AUTHORIZATION", "")
    try:
        return str(auth.split("Credential=", 1)[1].split(",", 1)[0].split("/")[2])
    except IndexError:
        return "us-east-1"


def _call(app: WSGIApp, environ: dict[str, Any]) -> tuple[str, list[tuple[str, str]], bytes]:
    """moto's status line, headers and body."""
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


def _json(start_response: Callable[..., Any], status: int, answer: dict[str, Any]) -> list[bytes]:
    data = json.dumps(answer).encode()
    reason = "OK" if status == 200 else "Bad Request"
    start_response(f"{status} {reason}", [("Content-Type", "application/x-amz-json-1.1"),
                                          ("Content-Length", str(len(data))), ("x-amzn-RequestId", str(uuid.uuid4()))])  # fmt: skip
    return [data]
