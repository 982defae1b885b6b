"""The processes under test: our CLI (stdout timestamped line by line) and the AWS CLI script."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OURS = ROOT / ".venv" / "bin" / "ecs-run-task"
AWSCLI_VENV = ROOT / "bench" / ".venv-awscli"
AWS = AWSCLI_VENV / "bin" / "aws"


def ensure_awscli() -> Path:
    """The AWS CLI v1 from PyPI in its own venv (gitignored), created on first use."""
    if not AWS.exists():
        print("bench: installing the AWS CLI into bench/.venv-awscli ...", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(AWSCLI_VENV)], check=True)
        subprocess.run([str(AWSCLI_VENV / "bin" / "pip"), "install", "-q", "awscli"], check=True)
    return AWS


@dataclass
class Exited:
    status: int  # exit code, or -signal
    t: float  # monotonic when wait returned
    maxrss_kib: int  # VmHWM of the process as last seen in /proc (see Proc._watch_memory)


@dataclass
class Proc:
    """A child whose stdout lines are stamped with time.monotonic() as they are read.

    The reader thread also reaps the child (os.wait4), so the exit time and peak RSS are exact even when
    several children run at once."""

    argv: list[str]
    env: dict[str, str]
    lines: list[tuple[float, bytes]] = field(default_factory=list)
    spawned: float = 0.0
    exited: Exited | None = None

    def start(self) -> Proc:
        self._err = tempfile.TemporaryFile()  # noqa: SIM115 - closed in wait()
        self.spawned = time.monotonic()
        self._p = subprocess.Popen(self.argv, env=self.env, stdout=subprocess.PIPE, stderr=self._err, cwd=ROOT)
        self._hwm = 0
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        threading.Thread(target=self._watch_memory, daemon=True).start()
        return self

    def _watch_memory(self) -> None:
        """Peak RSS from /proc/PID/status VmHWM, polled every 10 ms until the process is gone.

        Not os.wait4's ru_maxrss: Linux carries the parent's high-water mark across fork+exec into the child's
        ru_maxrss, so a child of this moto-laden process would report this process's ~240 MB."""
        path = Path(f"/proc/{self._p.pid}/status")
        while self.exited is None:
            try:
                text = path.read_text()
            except OSError:
                return
            for line in text.splitlines():
                if line.startswith("VmHWM:"):
                    self._hwm = max(self._hwm, int(line.split()[1]))
            time.sleep(0.01)

    def _read(self) -> None:
        out = self._p.stdout
        if out is None:
            raise RuntimeError("no stdout pipe")
        stamp = time.monotonic
        for raw in out:
            self.lines.append((stamp(), raw))
        _pid, status = os.waitpid(self._p.pid, 0)
        t = time.monotonic()
        self._p.returncode = os.waitstatus_to_exitcode(status)  # reaped here: Popen must not wait again
        self.exited = Exited(self._p.returncode, t, self._hwm)

    def wait(self, timeout: float) -> Exited:
        self._reader.join(timeout)
        if self.exited is None:
            self._p.kill()
            self._reader.join(5)
            raise TimeoutError(f"{self.argv[0]} did not exit within {timeout:.0f} s: {self.stderr()}")
        return self.exited

    def stderr(self) -> str:
        self._err.seek(0)
        return self._err.read().decode("utf-8", "replace")[-2000:]

    def close(self) -> None:
        self._err.close()


def ours(
    env: dict[str, str],
    family: str,
    *,
    logs: bool,
    poll: str = "2s",
    extra: tuple[str, ...] = (),
    src: Path | None = None,
) -> Proc:
    """`ecs-run-task` as users run it; `src` runs another checkout's sources with the same venv."""
    args = ["--cluster", "Sample", "-t", family, "--poll-interval", poll, "--logs", str(logs).lower()]
    args += ["--format", "plain", *extra]
    full = {**os.environ, **env, "PYTHONUNBUFFERED": "1"}
    if src is None:
        return Proc([str(OURS), *args], full)
    full["PYTHONPATH"] = str(src)
    code = "import sys; from ecs_run_task.cli import main; sys.exit(main())"
    return Proc([str(ROOT / ".venv" / "bin" / "python"), "-c", code, *args], full)


@dataclass
class AwsScript:
    """What people script today: run-task, then `aws ecs wait tasks-stopped`, then describe-tasks."""

    env: dict[str, str]
    family: str
    spawned: float = 0.0
    arn: str = ""
    waited: float = 0.0  # monotonic when the waiter exited
    ended: float = 0.0  # monotonic when describe-tasks exited: the script's end
    exit_code: str = ""
    error: str = ""

    def start(self) -> AwsScript:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.spawned = time.monotonic()
        self._thread.start()
        return self

    def _aws(self, *args: str) -> str:
        env = {**os.environ, **self.env}
        done = subprocess.run([str(AWS), *args], env=env, capture_output=True, text=True, timeout=900, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"aws {' '.join(args[:2])} exited {done.returncode}: {done.stderr[-500:]}")
        return done.stdout.strip()

    def _run(self) -> None:
        try:
            self.arn = self._aws("ecs", "run-task", "--cluster", "Sample", "--task-definition", self.family,
                                 "--query", "tasks[0].taskArn", "--output", "text")  # fmt: skip
            self._aws("ecs", "wait", "tasks-stopped", "--cluster", "Sample", "--tasks", self.arn)
            self.waited = time.monotonic()
            self.exit_code = self._aws("ecs", "describe-tasks", "--cluster", "Sample", "--tasks", self.arn,
                                       "--query", "tasks[0].containers[0].exitCode", "--output", "text")  # fmt: skip
            self.ended = time.monotonic()
        except (RuntimeError, subprocess.TimeoutExpired) as e:
            self.error = str(e)

    def wait(self, timeout: float) -> AwsScript:
        self._thread.join(timeout)
        if self._thread.is_alive():
            raise TimeoutError(f"the AWS CLI script did not end within {timeout:.0f} s")
        if self.error:
            raise RuntimeError(self.error)
        return self


def wall(argv: list[str], env: dict[str, str] | None = None) -> float:
    """Seconds from spawn to exit of a short command (its output discarded)."""
    t = time.monotonic()
    subprocess.run(argv, env={**os.environ, **(env or {})}, capture_output=True, check=True, timeout=60)
    return time.monotonic() - t
