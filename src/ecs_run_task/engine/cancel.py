"""SIGINT/SIGTERM handling. We are PID 1 in the container: without a handler SIGTERM is ignored.

A signal records itself (and when it came) and wakes the loop at once. Inside an `interruptible()` block (polling,
tailing, sleeping) it also raises `Cancelled`, so a slow or retrying call cannot eat the signal budget
(`signal_budget`). RunTask and StopTask are never interrupted: a task must not start unseen, nor a stop get lost.
"""

from __future__ import annotations

import atexit
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType


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
        self._wake = threading.Event()
        self._interruptible = False

    def install(self) -> None:
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, self._handle)
        atexit.register(self._deaf)

    def _deaf(self) -> None:
        """On the way out after a signal: Python puts the default handlers back as it exits, so a second signal then
        (GitHub's SIGTERM 7.5 s after its SIGINT, on a slow exit) would kill the process and lose its exit status.
        The first signal decided: later ones are ignored."""
        if self.signum is not None:
            for sig in (signal.SIGINT, signal.SIGTERM):
                signal.signal(sig, signal.SIG_IGN)

    def _handle(self, signum: int, _frame: FrameType | None) -> None:
        first = self.signum is None
        if first:
            self.signum, self.at = signum, self.clock()
        self._wake.set()
        if first and self._interruptible:
            raise Cancelled(signum)

    def check(self) -> None:
        if self.signum is not None:
            raise Cancelled(self.signum)

    @contextmanager
    def interruptible(self) -> Iterator[None]:
        self.check()
        self._interruptible = True
        try:
            yield
        finally:
            self._interruptible = False

    def sleep(self, seconds: float) -> None:
        """Sleep, but wake at once on a signal (and raise `Cancelled`)."""
        with self.interruptible():
            if seconds > 0:
                self._wake.wait(seconds)
        self.check()

    def nap(self, seconds: float) -> None:
        """Sleep plainly, once a signal is recorded already (the drain after it, within the signal budget)."""
        time.sleep(max(seconds, 0.0))

    def since(self) -> float:
        """Seconds since the first signal (0 without one)."""
        return 0.0 if self.at is None else self.clock() - self.at
