"""Faults injected in front of moto, per operation, deterministic (seeded or every k-th call)."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

ANY = "*"


# Rewrites a JSON answer: the answer as parsed, to the answer to send (a dict), or to its raw body text (for what
# json.dumps cannot write, such as an integer past Python's digit limit).
Mangler = Callable[[dict[str, Any]], "dict[str, Any] | str"]


@dataclass(frozen=True)
class Fault:
    kind: str  # "throttle" | "error" | "drop" | "deny"
    status: int = 400
    code: str = ""  # "deny": the error code answered (AccessDeniedException, ExpiredTokenException, ...)
    message: str = ""


@dataclass
class _Deny:
    code: str
    message: str
    left: int | None  # None: every call


@dataclass
class _Bucket:
    """An account-wide quota: `rate` calls a second, `burst` at once; a call finding it empty is throttled."""

    rate: float
    burst: float
    tokens: float
    at: float


@dataclass
class _Mangle:
    fn: Mangler
    left: int | None  # None: every call


@dataclass
class _Throttle:
    share: float
    every: int | None
    rng: random.Random
    seen: int = 0


@dataclass
class Faults:
    """Knobs a test turns; the middleware asks `decide(op)` once per call.

    `op` is an operation name such as "DescribeTasks" or "*" for every operation.
    """

    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _throttles: dict[str, _Throttle] = field(default_factory=dict)
    _bursts: dict[str, list[int]] = field(default_factory=dict)  # op -> statuses still to send
    _drops: dict[str, int] = field(default_factory=dict)
    _latency: dict[str, float] = field(default_factory=dict)
    _denies: dict[str, _Deny] = field(default_factory=dict)
    _lost_answers: dict[str, int] = field(default_factory=dict)
    _outages: dict[str, tuple[float, int]] = field(default_factory=dict)  # op -> (until, monotonic; status)
    _quotas: dict[str, _Bucket] = field(default_factory=dict)
    _mangles: dict[str, _Mangle] = field(default_factory=dict)
    run_task_failures: list[tuple[str, str | None]] = field(default_factory=list)  # (reason, arn)
    placeable: list[int] = field(default_factory=list)  # the next RunTasks place at most this many tasks each

    def throttle(self, op: str, share: float = 1.0, *, every: int | None = None, seed: int = 0) -> None:
        """ThrottlingException on `share` of calls (seeded random), or on every `every`-th call."""
        with self._lock:
            self._throttles[op] = _Throttle(share=share, every=every, rng=random.Random(seed))  # noqa: S311 - determinism, not secrecy

    def outage(self, seconds: float, op: str = ANY, status: int = 503) -> None:
        """Every call of `op` answers HTTP `status` (ServerException) for the next `seconds`, from now."""
        with self._lock:
            self._outages[op] = (time.monotonic() + seconds, status)

    def quota(self, op: str, per_second: float, burst: float | None = None) -> None:
        """An account-wide token bucket on `op`, shared by every client (as CloudWatch's GetLogEvents quota is):
        a call beyond it is throttled (ThrottlingException)."""
        with self._lock:
            size = per_second if burst is None else burst
            self._quotas[op] = _Bucket(per_second, size, size, time.monotonic())

    def error_burst(self, op: str, n: int, status: int = 503) -> None:
        """The next `n` calls of `op` answer HTTP `status` (ServerException)."""
        with self._lock:
            self._bursts.setdefault(op, []).extend([status] * n)

    def drop(self, op: str, n: int = 1) -> None:
        """The next `n` calls of `op` get their connection closed with no response."""
        with self._lock:
            self._drops[op] = self._drops.get(op, 0) + n

    def deny(
        self, op: str, code: str = "AccessDeniedException", message: str | None = None, n: int | None = None
    ) -> None:
        """The next `n` calls of `op` (every one when None) answer HTTP 400 `{"__type": code, "message": ...}`."""
        # no permission name in the default text: the tool must name it itself
        text = message or "User: arn:aws:sts::123456789012:assumed-role/ci/job is not authorized to perform this action"
        with self._lock:
            self._denies[op] = _Deny(code, text, n)

    def lose_answer(self, op: str, n: int = 1) -> None:
        """The next `n` calls of `op` are carried out, then the connection is closed before the answer."""
        with self._lock:
            self._lost_answers[op] = self._lost_answers.get(op, 0) + n

    def mangle(self, op: str, fn: Mangler, n: int | None = None) -> None:
        """The JSON answers of the next `n` successful calls of `op` (every one when None) are rewritten by `fn`,
        after the driver's overlay: an AWS answer of the right status with a malformed body."""
        with self._lock:
            self._mangles[op] = _Mangle(fn, n)

    def take_mangle(self, op: str) -> Mangler | None:
        with self._lock:
            for key in (op, ANY):
                found = self._mangles.get(key)
                if found is not None and found.left != 0:
                    if found.left is not None:
                        found.left -= 1
                    return found.fn
        return None

    def take_lost_answer(self, op: str) -> bool:
        with self._lock:
            for key in (op, ANY):
                if self._lost_answers.get(key):
                    self._lost_answers[key] -= 1
                    return True
        return False

    def latency(self, seconds: float, op: str = ANY) -> None:
        """Added before every answer (a global knob unless `op` is given)."""
        with self._lock:
            self._latency[op] = seconds

    def clear(self) -> None:
        with self._lock:
            self._throttles.clear()
            self._bursts.clear()
            self._drops.clear()
            self._latency.clear()
            self._denies.clear()
            self._lost_answers.clear()
            self._outages.clear()
            self._quotas.clear()
            self._mangles.clear()
            self.run_task_failures.clear()
            self.placeable.clear()

    def delay_for(self, op: str) -> float:
        with self._lock:
            return self._latency.get(op, self._latency.get(ANY, 0.0))

    def _timed(self, op: str) -> Fault | None:
        """An outage or an empty quota bucket, by the clock (called under the lock)."""
        now = time.monotonic()
        for key in (op, ANY):
            outage = self._outages.get(key)
            if outage is not None and now < outage[0]:
                return Fault("error", outage[1])
            bucket = self._quotas.get(key)
            if bucket is not None:
                bucket.tokens = min(bucket.burst, bucket.tokens + (now - bucket.at) * bucket.rate)
                bucket.at = now
                if bucket.tokens < 1:
                    return Fault("throttle", 400)
                bucket.tokens -= 1
        return None

    def decide(self, op: str) -> Fault | None:
        with self._lock:
            timed = self._timed(op)
            if timed is not None:
                return timed
            for key in (op, ANY):
                deny = self._denies.get(key)
                if deny is not None and deny.left != 0:
                    if deny.left is not None:
                        deny.left -= 1
                    return Fault("deny", 400, deny.code, deny.message)
                if self._drops.get(key):
                    self._drops[key] -= 1
                    return Fault("drop")
                burst = self._bursts.get(key)
                if burst:
                    return Fault("error", burst.pop(0))
            for key in (op, ANY):
                t = self._throttles.get(key)
                if t is None:
                    continue
                t.seen += 1
                hit = (t.seen % t.every == 0) if t.every else (t.rng.random() < t.share)
                if hit:
                    return Fault("throttle", 400)
        return None

    def take_placement_limit(self) -> int | None:
        with self._lock:
            return self.placeable.pop(0) if self.placeable else None

    def take_run_task_failure(self) -> tuple[str, str | None] | None:
        with self._lock:
            return self.run_task_failures.pop(0) if self.run_task_failures else None
