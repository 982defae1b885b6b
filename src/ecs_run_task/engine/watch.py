"""The waiting loop: poll DescribeTasks for every task in one call, tail logs in between, until every task is
decided (its deciding containers have stopped) or the deadline passes.

No botocore waiter (it gives up after 10 minutes), and no wait for the task's own STOPPED, which ECS reports
seconds to minutes after the container that matters exited. Yields events for the follower; ends with
`AllDecided` or `DeadlinePassed`; a signal surfaces as `Cancelled` from `cancel.py`.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ecs_run_task import words
from ecs_run_task.engine.cadence import Cadence, backoff
from ecs_run_task.engine.cancel import Cancellation
from ecs_run_task.engine.events import (
    AllDecided,
    Contact,
    DeadlinePassed,
    Decided,
    Event,
    LogBatch,
    Notice,
    Progress,
    Seen,
)
from ecs_run_task.engine.logs import Caller, Cursor, Tailer
from ecs_run_task.errors import Transient
from ecs_run_task.verdict import outcome

if TYPE_CHECKING:
    from ecs_run_task.engine.ports import EcsApi

HEARTBEAT = 10.0  # seconds between progress lines while nothing changes
QUIET = 2.0  # after the decision: done draining once no line has come for this long (since the exit)
MIN_QUIET = 0.5  # but always read for this long after we saw the decision
LATE = 5.0  # CloudWatch may show a line this long after the container wrote it: read at least this long after the exit
REFUSED_MORE = 30.0  # reads refused (a shared quota, AWS failing) extend the drain past log-drain by at most this
DRAIN_INTERVAL = 1.0  # between read rounds while the streams are quiet (a shared quota has room for few)
MAX_RETRY_PAUSE = 15.0  # between polls while AWS cannot be reached
MAX_DRAIN_PAUSE = 4.0  # between failing reads in the drain: often enough to get a share of a busy quota
LEAST_READ = 0.2  # seconds: after a signal, less time left than this is no time for GetLogEvents to answer


@dataclass
class Watch:
    ecs: EcsApi
    cluster: str
    arns: list[str]  # the tasks followed, in the order they were started
    deciders: Sequence[str]  # the deciding containers' names (see `outcome.deciding_containers`)
    poll_interval: float
    deadline: float | None  # monotonic seconds
    cancel: Cancellation
    tailer: Tailer | None = None
    log_drain: float = 15.0
    clock: Callable[[], float] = time.monotonic
    wall: Callable[[], float] = time.time
    decided_at: dict[str, float] = field(default_factory=dict)  # ARN -> when we first saw its answer (clock)
    jitter: Callable[[], float] = field(default_factory=lambda: random.Random().random)  # noqa: S311 - spreading, not secrecy
    lost_since: float | None = None  # when polls started failing (clock); None while in contact
    failed_polls: int = 0
    ran: set[str] = field(default_factory=set)  # tasks seen with a deciding container running (or exited)
    held: set[str] = field(default_factory=set)  # decided tasks whose description at the decision stands (see hold)
    _latest: dict[str, dict[str, Any]] = field(default_factory=dict)  # last description per ARN, followed or not
    cut: list[tuple[Cursor, str]] = field(default_factory=list)  # streams whose drain ended early, and why

    def track(self, tasks: Sequence[dict[str, Any]]) -> None:
        """Follow these tasks too (started again after a transient failure); their descriptions so far."""
        for task in tasks:
            arn = str(task["taskArn"])
            if arn not in self.arns:
                self.arns.append(arn)
            self._latest[arn] = dict(task)

    def forget(self, arns: Sequence[str]) -> None:
        """Stop following these tasks (started again, or stopped because another went first); their last
        descriptions stay known."""
        self.arns[:] = [a for a in self.arns if a not in arns]
        for arn in arns:
            self.decided_at.pop(arn, None)

    def tasks(self) -> list[dict[str, Any]]:
        """The last descriptions, in the order the tasks were started."""
        return [self.described(arn) for arn in self.arns]

    def decide_by(self, deciders: Sequence[str]) -> None:
        """The containers whose exit decides, from now on (a task followed of another revision)."""
        self.deciders = list(deciders)

    def described(self, arn: str) -> dict[str, Any]:
        """A task's last description (one no longer followed too); just its ARN before any."""
        return self._latest.get(arn, {"taskArn": arn})

    def stopping(self, arn: str) -> None:
        """We asked ECS to stop this task: nothing left to stop, whatever the next poll says."""
        self._latest[arn] = {**self.described(arn), "desiredStatus": outcome.STOPPED}

    def poll(self) -> None:
        described, _missing = self.cancel.call(lambda: self.ecs.describe_tasks(self.cluster, self.arns))
        # MISSING right after RunTask is ECS's eventual consistency: keep the last view, poll again
        self._latest.update({t["taskArn"]: t for t in described if t["taskArn"] not in self.held})
        self.ran.update(str(t["taskArn"]) for t in described if outcome.ran(t, self.deciders))
        if self.tailer:
            self.tailer.activate(described)

    def hold(self, task: dict[str, Any]) -> None:
        """Keep this decided task as it was at its decision: we stopped the rest of it, and our own StopTask's
        stop code (UserInitiated) is not what ECS said when the answer was known."""
        arn = str(task["taskArn"])
        self.held.add(arn)
        self._latest[arn] = {**task, "desiredStatus": outcome.STOPPED}  # stopping now: nothing left to stop

    def all_decided(self) -> bool:
        """Every task followed has its answer (and some task is followed: after a lost race, none may be)."""
        return bool(self.arns) and len(self.decided_at) == len(self.arns)

    def events(self, started: float) -> Iterator[Event]:
        """Poll and tail until every task is decided or the deadline passes, at the times `Cadence` picks."""
        progress = _ProgressLines(started)
        cadence = Cadence(self.poll_interval, self.clock())
        while True:
            now = self.clock()
            if now >= cadence.next_poll or (self.deadline is not None and now >= self.deadline):
                contact = self._poll_riding()  # at the deadline too: a last look, so a task just decided is no timeout
                if contact:
                    yield contact
                now = self.clock()
                if self.lost_since is None:
                    yield Seen(self.tasks())
                    yield from progress.after_poll(self.arns, self._latest, now)
                    yield from self._newly_decided(now)
                    if self.all_decided():
                        yield from self.drain(self.log_drain, after_exit=True)
                        self._settle()
                        yield AllDecided(self.tasks())
                        return
                if self.deadline is not None and now >= self.deadline:
                    yield DeadlinePassed(self.tasks())
                    return
                if self.lost_since is None:
                    cadence.polled(now, reading=self.reading())
                else:
                    cadence.failed(now, self._pause(self.poll_interval, self.failed_polls))
            if self.tailer and self.clock() >= cadence.next_tail:
                got = False
                for batch in self.read_logs(until=self.deadline):  # reading never outlasts the timeout
                    got = got or isinstance(batch, LogBatch)
                    yield batch
                cadence.read(self.clock(), got=got, behind=self.tailer.behind, reading=self.reading())
            wake = min(cadence.next_poll, cadence.next_tail if self.tailer else cadence.next_poll)
            self.cancel.sleep(min(wake, self.deadline or wake) - self.clock())

    def _poll_riding(self) -> Contact | None:
        """Poll, riding out what a later try may cure: the wait goes on, with a line when contact is lost and
        one when it is back. What no retry cures (credentials, permissions) is raised."""
        try:
            self.poll()
        except Transient as e:
            self.failed_polls += 1
            if self.lost_since is None:
                self.lost_since = self.clock()
                return Contact(lost=True, text=f"lost contact with AWS: {e.message}; trying again until the "
                               "timeout (the task runs on meanwhile)")  # fmt: skip
            return None
        if self.lost_since is None:
            return None
        gone, tries = self.clock() - self.lost_since, self.failed_polls
        self.lost_since, self.failed_polls = None, 0
        return Contact(lost=False, text=f"contact with AWS is back after {gone:.0f}s ({tries} polls failed)")

    def _pause(self, base: float, failures: int, most: float = MAX_RETRY_PAUSE) -> float:
        """Seconds before the next try after `failures` in a row: doubling, capped at `most`, with jitter (+-50%),
        so runs sharing an account's quota do not retry in step."""
        return backoff(base, failures, most, self.jitter(), spread=0.5)

    def _newly_decided(self, now: float) -> Iterator[Decided]:
        for task in self.tasks():
            arn = str(task["taskArn"])
            if arn not in self.decided_at and outcome.decided(task, self.deciders):
                self.decided_at[arn] = now
                yield Decided(task, rest_running=not outcome.stopping(task))

    def _settle(self) -> None:
        """One more poll at most, never a wait for STOPPED: a task ECS is stopping may not name its stop code
        at the moment its container exits."""
        if any(outcome.stopping(t) and not t.get("stopCode") and t["taskArn"] not in self.held for t in self.tasks()):
            with suppress(Transient):  # the stop code is a detail: never a reason to fail a decided run
                self.poll()

    def reading(self) -> bool:
        """Whether some log stream is being read (its container has started)."""
        return self.tailer is not None and any(c.active for c in self.tailer.cursors)

    def read_logs(self, *, after_signal: bool = False, until: float | None = None) -> Iterator[LogBatch | Notice]:
        if self.tailer:
            for lines in self.tailer.read(self._reader(after_signal, until), until):
                yield LogBatch(lines)
            while self.tailer.notices:
                yield Notice(self.tailer.notices.pop(0))

    def _reader(self, after_signal: bool, until: float | None) -> Caller:
        """How the drain makes its reads: cut short by a signal; after one, within the time left (`until`), and not at
        all when too little is left for an answer (a read sent and left spends the account's quota for nothing)."""
        if not after_signal:
            return self.cancel.call

        def within_time_left(read: Callable[[], Any]) -> Any:
            left = None if until is None else until - self.clock()
            if left is not None and left < LEAST_READ:
                raise Transient(f"no time left to read ({max(left, 0.0):.1f} s)")
            return self.cancel.call(read, within=left, cut=False)

        return within_time_left

    def decided_ago(self) -> float:
        """Seconds since the last task was decided: from ECS's `stoppingAt` where it is earlier (our polling
        noticed the exit later), else from when we saw it; 0 for a task not decided. `stoppingAt` is when the task
        began to stop, which is the exit only when its one container's own exit stopped it: an outside stop, or
        another container's exit, comes before the SIGTERM and the exit it brings, and would cut the drain short."""
        now, wall = self.clock(), self.wall()
        ago = []
        for task in self.tasks():
            seen = self.decided_at.get(str(task["taskArn"]))
            if seen is None:
                return 0.0
            own_exit = task.get("stopCode") == "EssentialContainerExited" and len(task.get("containers") or []) == 1
            stamp = task.get("stoppingAt") if own_exit else None
            ecs_ago = wall - stamp.timestamp() if isinstance(stamp, datetime) else 0.0
            ago.append(max(now - seen, ecs_ago))
        return min(ago, default=0.0)

    def drain(self, limit: float, *, after_signal: bool = False, after_exit: bool = False
              ) -> Iterator[LogBatch | Notice]:  # fmt: skip
        """Lines keep arriving for a few seconds after a container exits: read until quiet, at most `limit`.

        `after_exit` (the drain after the decision): every line CloudWatch shows up to `LATE` seconds after the
        exit (or as late as the streams' own lines have shown up, `Tailer.lag`) is read, within `limit`; reads
        refused (a shared quota, AWS failing) do not count against `limit`, within `REFUSED_MORE` seconds more. A
        stream that may hold lines not read when the drain ends (lines still arriving at `limit`, or `limit` shorter
        than CloudWatch may take) is named in `cut`, for the result to say so. The drains after our own stop (a
        timeout, a signal) stay within their budget."""
        if not self.tailer or not any(c.active for c in self.tailer.cursors):
            return
        if limit > 0:
            yield from self._read_until_quiet(limit, after_signal=after_signal, after_exit=after_exit)
        elif after_exit:  # `log-drain: 0`: what CloudWatch shows now, and a word if more may come
            yield from self.read_logs()
            ago, late = max(self.decided_ago(), 0.0), max(LATE, self.tailer.lag())
            if ago < late:
                self._cut_short(ago, limit, late, floor=True)

    def _read_until_quiet(self, limit: float, *, after_signal: bool, after_exit: bool) -> Iterator[LogBatch | Notice]:
        assert self.tailer is not None  # noqa: S101 - `drain` checked
        start = self.clock()
        end = start + limit
        ago = max(self.decided_ago(), 0.0)
        hard_end = end + (REFUSED_MORE if after_exit else 0.0)
        refused = 0.0  # seconds of reads refused (and the pauses after them): they do not count against `limit`
        # the quiet period runs from the exit, which our polling noticed later
        quiet_since = start - min(ago, QUIET - MIN_QUIET)
        failing = 0
        while True:
            late = max(LATE, self.tailer.lag()) if after_exit else 0.0  # what the lines read so far tell, too
            floor = start + late - ago  # reading goes on until then: a line may show up that late
            read_at = self.clock()
            got = False
            for batch in self.read_logs(after_signal=after_signal, until=hard_end):
                got = got or isinstance(batch, LogBatch)
                yield batch
            now = self.clock()
            failing = failing + 1 if self.tailer.failed else 0
            if got or self.tailer.failed or self.tailer.behind:  # a failed read is not silence: lines may wait
                quiet_since = now
            if read_at >= floor and now - quiet_since >= QUIET:
                return  # quiet, and late enough for CloudWatch to have shown what was written
            pause = DRAIN_INTERVAL if not failing else self._pause(DRAIN_INTERVAL, failing, MAX_DRAIN_PAUSE)
            if after_exit and failing:
                refused += now - read_at + pause
            stop = min(end + refused, hard_end)
            if now >= stop and not (after_exit and self.tailer.behind and now < hard_end):
                if after_exit:
                    self._cut_short(ago + now - start, limit, late, floor=now < floor)
                return
            pause = max(min(0.0 if self.tailer.behind and not failing else pause, stop - now), 0.0)
            pause = min(pause, max(floor - now, 0.0)) if now < floor else pause  # a read at the floor, not after
            if after_signal:  # the signal is already recorded: sleep plainly, within the budget
                self.cancel.nap(pause)
            else:
                self.cancel.sleep(pause)

    def _cut_short(self, since_exit: float, limit: float, late: float, *, floor: bool) -> None:
        """The drain ended on its bound: name the streams that may hold lines not read."""
        assert self.tailer is not None  # noqa: S101 - only a drain with a tailer gets here
        if floor:  # log-drain is shorter than CloudWatch may take to show a line
            why = (f"{words.flag('log-drain')} ({limit:g}s) ended the reading {since_exit:.1f}s after the exit, and "
                   f"CloudWatch may show a line up to {late:g}s after")  # fmt: skip
            self.cut = [(c, why) for c in self.tailer.cursors if c.active and not c.refused]
        else:
            why = (f"lines were still arriving when {words.flag('log-drain')} ({limit:g}s) ran out, {since_exit:.1f}s "
                   "after the exit")  # fmt: skip
            self.cut = [(c, why) for c in self.tailer.arriving(since=self.clock() - QUIET)]


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
