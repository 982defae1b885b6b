"""The waiting loop: poll DescribeTasks for every task in one call, tail logs in between, until all stop.

No botocore waiter (it gives up after 10 minutes). Yields events for the renderer; ends with one of
`AllStopped`, `DeadlinePassed`; a signal surfaces as `Cancelled` from `cancel.py`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ecs_run_task.cancel import Cancellation
from ecs_run_task.events import AllStopped, DeadlinePassed, Event, LogBatch, Progress
from ecs_run_task.logs import Tailer

if TYPE_CHECKING:
    from ecs_run_task.aws import Ecs  # botocore is costly to import: only the runner needs it at run time

STOPPED = "STOPPED"
HEARTBEAT = 10.0  # seconds between progress lines while nothing changes
LOG_INTERVAL = 2.0  # between reads of the log streams while lines come
LOG_BACKOFF = 2.0  # a quiet stream is read this much less often each time, up to
MAX_LOG_INTERVAL = 6.0
# Status polls are this much rarer while log lines come (the containers are evidently alive), and a little
# rarer while streams are read but quiet, so that polls and reads together stay within ~40 calls a minute.
FLOWING_POLL_FACTOR = 4.0
READING_POLL_FACTOR = 2.0
SUSTAINED = 3  # read rounds in a row with lines: if they then stop, the container likely ended
QUIET = 2.0  # after the tasks stop: done draining once no line has come for this long (since ECS's stoppedAt)
MIN_QUIET = 0.5  # but always read for this long after we saw STOPPED
DRAIN_INTERVAL = 0.5


@dataclass
class Watch:
    ecs: Ecs
    cluster: str
    arns: Sequence[str]
    poll_interval: float
    deadline: float | None  # monotonic seconds
    cancel: Cancellation
    clock: Callable[[], float] = time.monotonic
    tailer: Tailer | None = None
    log_drain: float = 15.0
    wall: Callable[[], float] = time.time
    latest: dict[str, dict[str, Any]] = field(default_factory=dict)  # last description per ARN

    def tasks(self) -> list[dict[str, Any]]:
        """The last descriptions, in the order the tasks were started."""
        return [self.latest.get(arn, {"taskArn": arn}) for arn in self.arns]

    def poll(self) -> None:
        with self.cancel.interruptible():
            described, _missing = self.ecs.describe_tasks(self.cluster, self.arns)
        # MISSING right after RunTask is ECS's eventual consistency: keep the last view, poll again
        self.latest.update({t["taskArn"]: t for t in described})
        if self.tailer:
            self.tailer.activate(described)

    def all_stopped(self) -> bool:
        return all(self.latest.get(arn, {}).get("lastStatus") == STOPPED for arn in self.arns)

    def events(self, started: float) -> Iterator[Event]:
        """Poll and tail until every task stops or the deadline passes, at the times `Cadence` picks."""
        progress = _ProgressLines(started)
        cadence = Cadence(self.poll_interval, self.clock())
        while True:
            now = self.clock()
            if now >= cadence.next_poll or (self.deadline is not None and now >= self.deadline):
                self.poll()  # at the deadline too: a last look, so a task that just stopped is no timeout
                now = self.clock()
                yield from progress.after_poll(self.arns, self.latest, now)
                if self.all_stopped():  # only STOPPED is final: unknown states count as still running
                    yield from self.drain(self.log_drain)
                    yield AllStopped(self.tasks())
                    return
                if self.deadline is not None and now >= self.deadline:
                    yield DeadlinePassed(self.tasks())
                    return
                cadence.polled(now, reading=self.reading())
            if self.tailer and self.clock() >= cadence.next_tail:
                got = False
                for batch in self.read_logs(until=self.deadline):  # reading never outlasts the timeout
                    got = True
                    yield batch
                cadence.read(self.clock(), got=got, behind=self.tailer.behind, reading=self.reading())
            wake = min(cadence.next_poll, cadence.next_tail if self.tailer else cadence.next_poll)
            self.cancel.sleep(min(wake, self.deadline or wake) - self.clock())

    def reading(self) -> bool:
        """Whether some log stream is being read (its container has started)."""
        return self.tailer is not None and any(c.active for c in self.tailer.cursors)

    def read_logs(self, *, after_signal: bool = False, until: float | None = None) -> Iterator[LogBatch]:
        if self.tailer:
            guard = nullcontext if after_signal else self.cancel.interruptible
            for lines in self.tailer.read(guard, until):
                yield LogBatch(lines)

    def stopped_ago(self) -> float:
        """Seconds since the last task stopped, by ECS's timestamps; 0 when unknown."""
        stamps = [t.get("stoppedAt") for t in self.latest.values()]
        known = [s.timestamp() if hasattr(s, "timestamp") else float(s) for s in stamps if s]
        return self.wall() - max(known) if known and len(known) == len(self.arns) else 0.0

    def drain(self, limit: float, *, after_signal: bool = False) -> Iterator[LogBatch]:
        """Lines keep arriving for a few seconds after STOPPED: read until quiet, at most `limit` seconds."""
        if not self.tailer or not any(c.active for c in self.tailer.cursors) or limit <= 0:
            return
        start = self.clock()
        end = start + limit
        # the quiet period runs from when ECS saw the tasks stop, which our polling noticed later
        quiet_since = start - min(max(self.stopped_ago(), 0.0), QUIET - MIN_QUIET)
        while True:
            got = False
            for batch in self.read_logs(after_signal=after_signal, until=end):
                got = True
                yield batch
            now = self.clock()
            if got or self.tailer.failed:  # a failed read is not silence: lines may be waiting behind it
                quiet_since = now
            if now - quiet_since >= QUIET or now >= end:
                return
            pause = min(DRAIN_INTERVAL, end - now)
            if after_signal:  # the signal is already recorded: sleep plainly, within the budget
                time.sleep(pause)
            else:
                self.cancel.sleep(pause)


@dataclass
class _ProgressLines:
    """A progress line for each state change, and for every task as a heartbeat while nothing changes."""

    started: float
    seen: dict[str, str] = field(default_factory=dict)
    said_at: float | None = None

    def after_poll(self, arns: Sequence[str], latest: dict[str, dict[str, Any]], now: float) -> Iterator[Progress]:
        statuses = {arn: str(latest[arn].get("lastStatus", "")) for arn in arns if arn in latest}
        changed = [arn for arn in statuses if statuses[arn] != self.seen.get(arn)]
        if changed or now - (self.said_at if self.said_at is not None else self.started) >= HEARTBEAT:
            for arn in changed or list(statuses):
                yield Progress(arn, statuses[arn], now - self.started, changed=bool(changed))
            self.said_at = now
        self.seen.update(statuses)


@dataclass
class Cadence:
    """When to poll status and read logs next: the adaptive policy, as arithmetic over times. Pure.

    While log lines keep coming the containers are evidently alive, so status is polled `FLOWING_POLL_FACTOR`
    times less often, and `READING_POLL_FACTOR` times while streams are read but quiet, so polls and reads
    together stay near 40 calls a minute. When sustained output stops the container has likely ended: status
    is polled at once, then every `poll_interval` until lines come again. Quiet streams are read less and
    less often, back to `LOG_INTERVAL` as soon as a line comes; a read that stopped at its page budget goes
    on at once. Without log streams to read, status is polled every `poll_interval`."""

    poll_interval: float
    next_poll: float
    next_tail: float = 0.0
    last_poll: float = 0.0
    log_every: float = LOG_INTERVAL
    streak: int = 0  # read rounds in a row that brought lines
    ending: bool = False  # sustained output stopped: the end is likely near

    def __post_init__(self) -> None:
        self.next_tail = self.last_poll = self.next_poll

    def polled(self, now: float, *, reading: bool) -> None:
        self.last_poll = now
        self.next_poll = now + self.poll_interval * self._factor(reading=reading, flowing=self.streak > 0)

    def read(self, now: float, *, got: bool, behind: bool, reading: bool) -> None:
        if not got and self.streak >= SUSTAINED:
            self.next_poll, self.ending = now, True
        elif not got and self.streak:
            quiet = self.poll_interval * self._factor(reading=reading, flowing=False)
            self.next_poll = min(self.next_poll, self.last_poll + quiet)
        self.streak = self.streak + 1 if got else 0
        self.ending = self.ending and not got
        self.log_every = LOG_INTERVAL if got else min(self.log_every * LOG_BACKOFF, MAX_LOG_INTERVAL)
        self.next_tail = now + (0.0 if behind else self.log_every)

    def _factor(self, *, reading: bool, flowing: bool) -> float:
        if self.ending or not reading:
            return 1.0
        return FLOWING_POLL_FACTOR if flowing else READING_POLL_FACTOR
