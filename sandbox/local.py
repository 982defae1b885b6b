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
from .play import Play
from .scheduler import Scheduler
from .spec import RunLocally, Step
from .state import ContainerState, TaskState

# Task definition ARN -> its container definitions (moto's, camelCase as registered).
DefinitionLookup = Callable[[str], list[dict[str, Any]]]


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

    def kill(self) -> None:
        """SIGKILL; its exit is reported as any other, by the output pump."""
        self._signal(signal.SIGKILL)

    def kill_and_code(self, grace: float = 0.5) -> int:
        """The exit code once it is gone; SIGKILL if SIGTERM did not end it within `grace`."""
        if self._proc is None:
            return 143
        try:
            return exit_code_of(self._proc.wait(timeout=grace))
        except subprocess.TimeoutExpired:
            self._signal(signal.SIGKILL)
            return exit_code_of(self._proc.wait())


class LocalPlay(Play):
    """A `RunLocally` behaviour: one container is a local process, and its exit is the container's."""

    def __init__(
        self, sched: Scheduler, logs: LogWriter, task: TaskState, b: RunLocally, definitions: DefinitionLookup
    ) -> None:
        super().__init__(sched, logs, task, teardown=b.teardown.steps(), stop_timeout=b.stop_timeout)
        self.b = b
        self._definitions = definitions
        self.c = task.container(b.container or "") or task.containers[0]
        self.proc: LocalProcess | None = None

    def start(self) -> None:
        self.walk([Step("PROVISIONING", self.b.provisioning), Step("PENDING", self.b.pending)], then=self._spawn)

    def start_containers(self) -> None:
        for c in self.task.containers:
            self.container_running(c, [])

    def _spawn(self) -> None:
        self.enter("RUNNING")
        cdef = next(d for d in self._definitions(self.task.task_definition_arn) if d["name"] == self.c.name)
        self.proc = LocalProcess(self.c, cdef, self.task.request, self.logs, self._exited)
        self.proc.start()

    def _exited(self, code: int) -> None:
        """From the output pump (or at once, for nothing to run): the other containers exit 0 with it."""
        with self.sched.cond:
            self.proc = None
            others = [] if self.task.desired_status == "STOPPED" else self.task.running()
            self.exit([(self.c, code)] + [(c, 0) for c in others if c is not self.c])
            self.sched.cond.notify_all()

    def sigterm(self, c: ContainerState) -> None:
        proc = self.proc
        if c is not self.c or proc is None:
            super().sigterm(c)
            return
        proc.terminate()

        def kill() -> None:
            if c.last_status == "RUNNING":
                proc.kill()

        self.sched.after(self.stop_timeout, kill)
