"""moto over real HTTP in a background thread of this process, with a clean state."""

from __future__ import annotations

import os
import threading
from typing import Any

from moto.core.base_backend import BackendDict
from moto.core.model_instances import reset_model_data
from moto.moto_api import state_manager
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import BaseWSGIServer, make_server

from .middleware import WSGIApp


class QuietHandler(MotoRequestHandler):
    """No access log lines on stderr: tests and the demo own the terminal."""

    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass


def reset_moto() -> None:
    """Fresh backends for every service (moto's state is global to the process)."""
    # moto's EC2 backend otherwise builds ~6,500 default AMIs (0.5 s) on every first use;
    # the sandbox needs none (it launches its container instance from a fixed AMI id).
    os.environ.setdefault("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")
    BackendDict.reset()
    reset_model_data()
    # moto would otherwise step a task's status on every describe; the driver owns the status.
    state_manager.set_transition(model_name="ecs::task", transition={"progression": "manual", "times": 10**9})


def moto_app() -> WSGIApp:
    app: WSGIApp = DomainDispatcherApplication(create_backend_app)
    return app


class Server:
    def __init__(self, app: WSGIApp, host: str = "127.0.0.1", port: int = 0) -> None:
        self._server: BaseWSGIServer = make_server(host, port, app, threaded=True, request_handler=QuietHandler)
        self._thread = threading.Thread(target=self._serve, name="sandbox-http", daemon=True)

    @property
    def endpoint(self) -> str:
        host, port = self._server.server_address[:2]
        host = host.decode() if isinstance(host, bytes) else str(host)
        if host in ("0.0.0.0", "::"):  # listening everywhere: clients here use loopback
            host = "127.0.0.1"
        return f"http://{host}:{port}"

    def _serve(self) -> None:
        # A short poll interval: shutdown() waits for it, and tests open many sandboxes.
        self._server.serve_forever(poll_interval=0.05)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
