"""RunLocally: a container's command as a local process, its output going to CloudWatch Logs."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
from collections.abc import Callable
from typing import Any

from .cwlogs import LogWriter
from .state import ContainerState


def _override(request: dict[str, Any], name: str) -> dict[str, Any]:
    overrides = (request.get("overrides") or {}).get("containerOverrides") or []
    return next((o for o in overrides if o.get("name") == name), {})


def resolve(cdef: dict[str, Any], request: dict[str, Any]) -> tuple[list[str], dict[str, str]]:
    """argv and environment as ECS would start them: overrides win over the definition."""
    ov = _override(request, cdef["name"])
    argv = list(cdef.get("entryPoint") or []) + list(ov.get("command") or cdef.get("command") or [])
    env = dict(os.environ)
    for pair in list(cdef.get("environment") or []) + list(ov.get("environment") or []):
        env[pair["name"]] = pair["value"]
    return argv, env


def exit_code_of(returncode: int) -> int:
    # Popen reports death by signal N as -N; a container runtime reports 128 + N.
    return 128 - returncode if returncode < 0 else returncode


class LocalProcess:
    def __init__(
        self,
        container: ContainerState,
        cdef: dict[str, Any],
        request: dict[str, Any],
        logs: LogWriter,
        on_exit: Callable[[int], None],
    ) -> None:
        self.container = container.name
        self._c = container
        self._argv, self._env = resolve(cdef, request)
        self._logs = logs
        self._on_exit = on_exit
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        if not self._argv:
            self._on_exit(1)
            return
        # Own session: StopTask signals the whole group, so `sh -c 'sleep 5'` dies at once
        # and no orphan keeps the output pipe open.
        self._proc = subprocess.Popen(
            self._argv,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=self._env,
            start_new_session=True,
        )
        threading.Thread(target=self._pump, name=f"sandbox-local-{self.container}", daemon=True).start()

    def _pump(self) -> None:
        proc = self._proc
        assert proc is not None
        assert proc.stdout is not None
        c = self._c
        for raw in proc.stdout:
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            if c.log_group and c.log_stream and c.log_region:
                self._logs.write(c.log_region, c.log_group, c.log_stream, [line])
        self._on_exit(exit_code_of(proc.wait()))

    def _signal(self, sig: int) -> None:
        if self._proc is not None and self._proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):  # it just exited
                os.killpg(self._proc.pid, sig)

    def terminate(self) -> None:
        self._signal(signal.SIGTERM)

    def kill_and_code(self, grace: float = 0.5) -> int:
        """The exit code once it is gone; SIGKILL if SIGTERM did not end it within `grace`."""
        if self._proc is None:
            return 143
        try:
            return exit_code_of(self._proc.wait(timeout=grace))
        except subprocess.TimeoutExpired:
            self._signal(signal.SIGKILL)
            return exit_code_of(self._proc.wait())
