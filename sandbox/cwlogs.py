"""Writes container output into moto's CloudWatch Logs, in-process (no HTTP, not recorded)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from moto.logs.models import logs_backends

DEFAULT_ACCOUNT_ID = "123456789012"  # moto's account when credentials name none

# PutLogEvents takes at most 10,000 events per call; keep batches within that.
BATCH = 10_000


class LogWriter:
    def __init__(self, account_id: str = DEFAULT_ACCOUNT_ID, on_write: Callable[[], None] | None = None) -> None:
        self._account = account_id
        self._on_write = on_write  # lets tests await lines instead of sleeping
        self._lock = threading.Lock()
        self._last_ts: dict[tuple[str, str, str], int] = {}

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
        with self._lock:
            backend = self._backend(region)
            if backend is None:
                return
            backend.ensure_log_stream(group, stream)
            ts = max(int(time.time() * 1000), self._last_ts.get(key, 0) + 1)
            events = []
            for i, message in enumerate(messages):
                events.append({"timestamp": ts + i, "message": message})
            self._last_ts[key] = ts + len(messages) - 1
            for start in range(0, len(events), BATCH):
                backend.put_log_events(group, stream, events[start : start + BATCH])
        if self._on_write is not None:
            self._on_write()

    def read(self, region: str, group: str, stream: str) -> list[str]:
        """All messages of a stream (for assertions); [] if the stream does not exist."""
        backend = self._backend(region)
        log_group = backend.groups.get(group) if backend is not None else None
        if log_group is None or stream not in log_group.streams:
            return []
        return [e.message for e in log_group.streams[stream].events]
