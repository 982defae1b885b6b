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
from collections.abc import Callable, Iterable
from typing import Any

from .deployments import Deployments, refusal
from .middleware import SETUP_HEADER, WSGIApp, call_wsgi, json_answer
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
            return json_answer(start_response, *self.deployments.answer(op, parsed, _region(environ)))
        if op in ("CreateService", "UpdateService"):
            refused = refusal(parsed)
            if refused is not None:
                return json_answer(start_response, *refused)
        if op not in ("CreateService", "UpdateService", "DescribeServices"):
            return self.app(environ, start_response)
        status, headers, raw = call_wsgi(self.app, environ)
        if not status.startswith("200"):
            start_response(status, headers)
            return [raw]
        answer = json.loads(raw or b"{}")
        if op == "DescribeServices":
            self._configurations(answer)
        else:
            answer = self.deployments.observe(op, parsed, answer, setup=bool(environ.get(_SETUP_ENVIRON)))
        return json_answer(start_response, 200, answer)

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
