"""SIGINT/SIGTERM handling. We are PID 1 in the container: without a handler SIGTERM is ignored.

A signal records itself (and when it came). While the run waits (a sleep, or an AWS read made with `call`) it also
raises `Cancelled` at once, so a slow or retrying call cannot eat the signal budget (`signal_budget`). RunTask and
StopTask are never interrupted: a task must not start unseen, nor a stop get lost.

Python runs the handler in the main thread between two bytecodes, wherever that thread is, so the handler takes no
lock and raises only where the main thread holds none: in `time.sleep`, or waiting on a pipe for a read that runs in a
thread of its own. Raised inside botocore, it could leave a lock of its connection pool held (the cleanup of that
very call then waits on it for good); an Event's lock, taken by the handler, hung a cancel the same way.
"""

from __future__ import annotations

import atexit
import os
import select
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext, suppress
from types import FrameType
from typing import Any, TypeVar

from ecs_run_task.errors import Transient

T = TypeVar("T")
CI_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Cancelled(BaseException):  # BaseException so botocore's `except Exception` lets it through
    def __init__(self, signum: int, *, unseen: str = "") -> None:
        super().__init__(signum)
        self.signum = signum
        self.unseen = unseen  # a task RunTask may have started without our seeing it: where to look for it


class Cancellation:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.signum: int | None = None
        self.at: float | None = None  # when the first signal came (`clock`)
        self.clock = clock
        self._interruptible = False

    def install(self) -> None:
        for sig in CI_SIGNALS:
            signal.signal(sig, self._handle)
        atexit.register(self._deaf)

    def _deaf(self) -> None:
        """On the way out after a signal: Python puts the default handlers back as it exits, so a second signal then
        (GitHub's SIGTERM 7.5 s after its SIGINT, on a slow exit) would kill the process and lose its exit status.
        The first signal decided: later ones are ignored."""
        if self.signum is not None:
            for sig in CI_SIGNALS:
                signal.signal(sig, signal.SIG_IGN)

    def _handle(self, signum: int, _frame: FrameType | None) -> None:
        first = self.signum is None
        if first:
            self.signum, self.at = signum, self.clock()
        if first and self._interruptible:
            raise Cancelled(signum)

    def check(self) -> None:
        if self.signum is not None:
            raise Cancelled(self.signum)

    @contextmanager
    def waiting(self) -> Iterator[None]:
        """A block in which a signal raises `Cancelled` at once: only a wait that holds no lock (see above)."""
        try:
            self._interruptible = True  # before the check: a signal before it is seen by it, one after it raises
            self.check()
            yield
        finally:
            self._interruptible = False

    def sleep(self, seconds: float) -> None:
        """Sleep, but wake at once on a signal (and raise `Cancelled`: the handler's exception ends `time.sleep`)."""
        with self.waiting():
            if seconds > 0:
                time.sleep(seconds)
        self.check()

    def call(self, read: Callable[[], T], *, within: float | None = None, cut: bool = True) -> T:
        """`read()`'s answer (or its exception), the call made in a thread of its own while this one waits on a pipe: a
        signal raises `Cancelled` at once (unless `cut` is False: after the first signal, the drain's reads), and
        past `within` seconds `Transient` is raised. Either way the call is left to end alone (botocore's own
        timeouts bound it). Only for reads: nothing is lost by leaving one."""
        if cut:
            self.check()  # a signal already came: the read is not made
        answers: list[tuple[bool, Any]] = []
        ready, done = os.pipe()

        def work() -> None:
            signal.pthread_sigmask(signal.SIG_BLOCK, CI_SIGNALS)  # CI's signals go to the thread that waits
            try:
                answers.append((True, read()))
            except BaseException as e:
                answers.append((False, e))
            with suppress(OSError):  # the caller stopped waiting and closed its end
                os.write(done, b".")
            os.close(done)

        threading.Thread(target=work, name="aws-read", daemon=True).start()  # daemon: a read left never holds exit
        waits = select.poll()  # not select.select: no limit on the pipe's number
        waits.register(ready, select.POLLIN)
        timeout = None if within is None else max(within, 0.0) * 1000
        try:
            with self.waiting() if cut else nullcontext():
                answered = waits.poll(timeout)  # resumed after a handler that did not raise (PEP 475)
        finally:
            os.close(ready)
        if not answered:
            raise Transient(f"no answer within {within:.1f} s")
        ok, answer = answers[0]
        if ok:
            return answer  # type: ignore[no-any-return]
        raise answer

    def nap(self, seconds: float) -> None:
        """Sleep plainly, once a signal is recorded already (the drain after it, within the signal budget)."""
        time.sleep(max(seconds, 0.0))

    def since(self) -> float:
        """Seconds since the first signal (0 without one)."""
        return 0.0 if self.at is None else self.clock() - self.at
