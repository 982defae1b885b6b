"""Writes container output into moto's CloudWatch Logs, in-process (no HTTP, not recorded).

A line may become visible some time after it was written (`lag`, the sandbox's `consistency.log_lag`): it is
stamped with its `timestamp` when written, and put into moto when it becomes visible, so its `ingestionTime` is that
moment. A stream's lines become visible in the order they were written (as the awslogs driver delivers a stream),
never before an earlier one: moto's GetLogEvents tokens are indexes into the stream's lines sorted by timestamp, and
a late line, newer than every line visible before it, lands after the reader's forward token, as in CloudWatch.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from moto.logs.models import logs_backends

from .scheduler import Scheduler

DEFAULT_ACCOUNT_ID = "123456789012"  # moto's account when credentials name none

# PutLogEvents takes at most 10,000 events per call; keep batches within that.
BATCH = 10_000


Stream = tuple[str, str, str]  # region, group, stream
Pending = tuple[float, list[dict[str, Any]]]  # (time.monotonic() it becomes visible, events)


class LogWriter:
    def __init__(
        self,
        account_id: str = DEFAULT_ACCOUNT_ID,
        on_write: Callable[[], None] | None = None,
        sched: Scheduler | None = None,
        lag: Callable[[], float] = lambda: 0.0,
    ) -> None:
        self._account = account_id
        self._on_write = on_write  # lets tests await lines instead of sleeping
        self._lock = threading.Lock()
        self._last_ts: dict[Stream, int] = {}
        self._sched = sched  # plays the lag (without one, every line is visible at once)
        self._lag = lag
        self._pending: dict[Stream, deque[Pending]] = {}  # written, not visible yet, in order

    def _backend(self, region: str) -> Any:
        """moto's CloudWatch Logs in `region`; None for a name that is no region (an odd awslogs-region in a task
        definition): the awslogs driver cannot deliver there, so what is written to it goes nowhere."""
        try:
            return logs_backends[self._account][region]
        except KeyError:
            return None

    def ensure_group(self, region: str, group: str) -> None:
        # The sandbox plays the account owner: groups exist before tasks run.
        backend = self._backend(region)
        if backend is not None:
            backend.ensure_log_group(group)

    def create_stream(self, region: str, group: str, stream: str) -> None:
        """As the awslogs driver does when the container starts."""
        with self._lock:
            backend = self._backend(region)
            if backend is not None:
                backend.ensure_log_group(group)
                backend.ensure_log_stream(group, stream)

    def write(self, region: str, group: str, stream: str, messages: list[str]) -> None:
        """Append lines with strictly increasing ms timestamps (real CloudWatch orders by time;
        moto's cursor is an index into the time-sorted list, so order must never go back)."""
        if not messages:
            return
        key = (region, group, stream)
        lag = self._lag() if self._sched is not None else 0.0
        with self._lock:
            backend = self._backend(region)
            if backend is None:
                return
            backend.ensure_log_stream(group, stream)
            ts = max(int(time.time() * 1000), self._last_ts.get(key, 0) + 1)
            events = [{"timestamp": ts + i, "message": message} for i, message in enumerate(messages)]
            self._last_ts[key] = ts + len(messages) - 1
            queue = self._pending.get(key)
            if lag <= 0 and not queue:
                self._put(backend, group, stream, events)
                visible_at = None
            else:  # after the lines written before it, never earlier
                visible_at = max(time.monotonic() + lag, queue[-1][0] if queue else 0.0)
                self._pending.setdefault(key, deque()).append((visible_at, events))
        if visible_at is not None:
            assert self._sched is not None
            self._sched.at(visible_at, lambda: self._show(key))
        elif self._on_write is not None:
            self._on_write()

    def _show(self, key: Stream) -> None:
        """Put the stream's lines that are due into moto: they become visible now."""
        region, group, stream = key
        with self._lock:
            backend = self._backend(region)
            queue = self._pending.get(key) or deque()
            while queue and queue[0][0] <= time.monotonic():
                self._put(backend, group, stream, queue.popleft()[1])
            if not queue:
                self._pending.pop(key, None)
        if self._on_write is not None:
            self._on_write()

    @staticmethod
    def _put(backend: Any, group: str, stream: str, events: list[dict[str, Any]]) -> None:
        for start in range(0, len(events), BATCH):
            backend.put_log_events(group, stream, events[start : start + BATCH])

    def pending(self, region: str, group: str, stream: str) -> list[str]:
        """Messages written to a stream and not visible yet (see `lag`)."""
        with self._lock:
            return [e["message"] for _, events in self._pending.get((region, group, stream), ()) for e in events]

    def read(self, region: str, group: str, stream: str) -> list[str]:
        """All messages of a stream (for assertions); [] if the stream does not exist."""
        backend = self._backend(region)
        log_group = backend.groups.get(group) if backend is not None else None
        if log_group is None or stream not in log_group.streams:
            return []
        return [e.message for e in log_group.streams[stream].events]
