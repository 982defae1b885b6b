"""A single timer thread: runs callbacks at monotonic times, under one shared condition.

Every state change happens under `cond`, and `cond.notify_all()` follows each callback, so tests
can wait for a state (threading.Condition) instead of sleeping.
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
import traceback
from collections.abc import Callable

Callback = Callable[[], None]


class Scheduler:
    def __init__(self) -> None:
        self.cond = threading.Condition(threading.RLock())
        self._heap: list[tuple[float, int, Callback]] = []
        self._seq = itertools.count()
        self._stopping = False
        self._thread = threading.Thread(target=self._loop, name="sandbox-driver", daemon=True)
        self.errors: list[str] = []  # callback failures, surfaced by Sandbox.check()

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        with self.cond:
            self._stopping = True
            self.cond.notify_all()
        self._thread.join(timeout=5)

    def at(self, when: float, callback: Callback) -> None:
        """Run `callback` at time.monotonic() >= when (under the condition)."""
        with self.cond:
            heapq.heappush(self._heap, (when, next(self._seq), callback))
            self.cond.notify_all()

    def after(self, seconds: float, callback: Callback) -> None:
        self.at(time.monotonic() + seconds, callback)

    def wait_until(self, predicate: Callable[[], bool], timeout: float) -> bool:
        with self.cond:
            return self.cond.wait_for(predicate, timeout=timeout)

    def _loop(self) -> None:
        with self.cond:
            while not self._stopping:
                now = time.monotonic()
                if self._heap and self._heap[0][0] <= now:
                    _, _, callback = heapq.heappop(self._heap)
                    try:
                        callback()
                    except Exception:
                        self.errors.append(traceback.format_exc())
                    self.cond.notify_all()
                    continue
                # Capped: a HOLD step is 10**9 s away, beyond what some platforms can wait.
                timeout = min(self._heap[0][0] - now, 3600.0) if self._heap else None
                self.cond.wait(timeout=timeout)
