"""SIGINT/SIGTERM handling. We are PID 1 in the container: without a handler SIGTERM is ignored.

A signal records itself (and when it came). Inside an `interruptible()` block (polling, tailing, sleeping) it also
raises `Cancelled` at once, so a slow or retrying call cannot eat the signal budget (`signal_budget`). RunTask and
StopTask are never interrupted: a task must not start unseen, nor a stop get lost.

The handler takes no lock: it runs in the main thread between two bytecodes, perhaps while that thread holds the very
lock it would take (a `threading.Event`'s, inside `wait`), which would hang the run for good on its cancel.
"""

from __future__ import annotations

import atexit
import signal
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
        if first and self._interruptible:
            raise Cancelled(signum)

    def check(self) -> None:
        if self.signum is not None:
            raise Cancelled(self.signum)

    @contextmanager
    def interruptible(self) -> Iterator[None]:
        try:
            self._interruptible = True  # before the check: a signal before it is seen by it, one after it raises
            self.check()
            yield
        finally:
            self._interruptible = False

    def sleep(self, seconds: float) -> None:
        """Sleep, but wake at once on a signal (and raise `Cancelled`: the handler's exception ends `time.sleep`)."""
        with self.interruptible():
            if seconds > 0:
                time.sleep(seconds)
        self.check()

    def nap(self, seconds: float) -> None:
        """Sleep plainly, once a signal is recorded already (the drain after it, within the signal budget)."""
        time.sleep(max(seconds, 0.0))

    def since(self) -> float:
        """Seconds since the first signal (0 without one)."""
        return 0.0 if self.at is None else self.clock() - self.at
