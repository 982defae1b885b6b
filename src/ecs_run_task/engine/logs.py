"""The CloudWatch Logs tailer: one cursor per awslogs stream, following `nextForwardToken`.

An unchanged token means caught up; a stream that does not exist yet is waited for quietly; a failed
read keeps its cursor, so throttling delays lines but never loses or repeats one.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any, Protocol

from ecs_run_task import arns
from ecs_run_task.arns import task_id
from ecs_run_task.aws import console
from ecs_run_task.diagnostics import log
from ecs_run_task.errors import AccessError, RunError

MAX_PAGES_PER_READ = 5  # per stream and round, so one chatty stream cannot starve status polling
PAGE_EVENTS = 10_000  # GetLogEvents answers at most this many events, or 1 MB counting 26 bytes an event
PAGE_BYTES = 1_048_576
_STARTED = frozenset({"RUNNING", "STOPPED"})
_STREAM_NAME = re.compile(r"[^:*]{1,512}")  # what CloudWatch Logs accepts as a stream's name


class LogsApi(Protocol):
    def get_log_events(self, group: str, stream: str, token: str | None) -> tuple[list[dict[str, Any]], str] | None: ...


Caller = Callable[[Callable[[], Any]], Any]  # makes a read: at once, or as `Cancellation.call` does


def _direct(read: Callable[[], Any]) -> Any:
    return read()


@dataclass(frozen=True)
class LogSource:
    container: str
    task_arn: str
    group: str
    stream: str  # "": awslogs without a stream prefix names it by the container's ID, known once it runs
    region: str | None  # None: the cluster's region
    label: str = ""  # prefix for each line when more than one stream is shown


@dataclass(frozen=True)
class LogLine:
    source: LogSource
    timestamp: int  # milliseconds since the epoch, as CloudWatch stores it
    message: str


def sources(task_definition: dict[str, Any], task_arns: Sequence[str]) -> tuple[list[LogSource], list[str]]:
    """The awslogs streams of every container of every task, and a note for each container we cannot tail."""
    found: list[LogSource] = []
    notes: list[str] = []
    for container in task_definition.get("containerDefinitions", []):
        name = container["name"]
        config = container.get("logConfiguration") or {}
        driver, options = config.get("logDriver"), config.get("options") or {}
        if driver != "awslogs":
            notes.append(f"container {name}: its lines are not streamed here; {_where(driver, options)}")
            continue
        if not options.get("awslogs-group"):
            notes.append(f"container {name}: its lines are not streamed here; its awslogs options name no "
                         "awslogs-group")  # fmt: skip
            continue
        region = options.get("awslogs-region")
        if region is not None and not arns.REGION.fullmatch(region):  # no client for it: it may point anywhere
            notes.append(f"container {name}: its lines are not streamed here; its awslogs-region {region[:40]!r} "
                         "is not a region's name")  # fmt: skip
            continue
        prefix = options.get("awslogs-stream-prefix")  # without one (EC2 only), the container's ID: see activate()
        for arn in task_arns:
            stream = f"{prefix}/{name}/{task_id(arn)}" if prefix else ""
            found.append(LogSource(name, arn, options["awslogs-group"], stream, region))
    return _labelled(found), notes


_ON_THE_HOST = {"json-file", "local", "journald", "syslog"}


def _where(driver: str | None, options: dict[str, str]) -> str:
    """Where a container's logs go when it does not use awslogs, from its log configuration."""
    if not driver:
        return "it has no log configuration, so its output is kept nowhere"
    if driver == "none":
        return "its log driver is none, so its output is discarded"
    if driver == "awsfirelens":
        to = options.get("Name") or "the destination in the FireLens configuration"
        group = options.get("log_group_name")
        return f"it sends them through FireLens to {to}" + (f" (log group {group})" if group else "")
    if driver in _ON_THE_HOST:
        return f"they stay on the container instance ({driver} log driver)"
    return f"they go to the {driver} log driver's destination"


def _labelled(found: list[LogSource]) -> list[LogSource]:
    """Name the container on each line when several streams show; add the task when several tasks run."""
    if len(found) <= 1:
        return found
    several_tasks = len({s.task_arn for s in found}) > 1
    return [
        replace(s, label=f"{s.container} {task_id(s.task_arn)[:8]}" if several_tasks else s.container) for s in found
    ]


def console_url(source: LogSource, cluster_region: str) -> str:
    """The CloudWatch console page of a stream; "" when its region is not one."""
    return console.log_stream_url(source.region or cluster_region, source.group, source.stream)


@dataclass
class Cursor:
    source: LogSource
    token: str | None = None
    active: bool = False  # the container has started, so its stream exists or soon will
    found: bool = False
    absent: bool = False  # CloudWatch said the stream does not exist (yet)
    refused: bool = False  # AWS denied the read: retrying would only repeat the warning
    failing: int = 0  # reads that failed in a row (throttled, 5xx, the network): lines may be waiting
    last_error: str = ""
    caught_up: bool = False  # the last read reached the end of what the stream held
    got_at: float | None = None  # when a read last brought lines (the tailer's clock)
    lag: float = 0.0  # seconds CloudWatch took to show the stream's latest lines (ingestionTime - timestamp)


@dataclass
class Tailer:
    cursors: list[Cursor]
    api_for: Callable[[str | None], LogsApi]  # region (None: the cluster's) -> client
    clock: Callable[[], float] = time.monotonic
    behind: bool = False  # the last read stopped at its page budget with more to come: read again soon
    notices: list[str] = field(default_factory=list)  # for the user: what cannot be read, and why
    failed: bool = False  # a read in the last round failed: silence then proves nothing
    full_page: int = PAGE_EVENTS
    _apis: dict[str | None, LogsApi] = field(default_factory=dict)

    @classmethod
    def of(cls, found: Sequence[LogSource], api_for: Callable[[str | None], LogsApi], *,
           clock: Callable[[], float] = time.monotonic) -> Tailer:  # fmt: skip
        return cls([Cursor(s) for s in found], api_for, clock)

    def follow(self, found: Sequence[LogSource]) -> None:
        """Read exactly these streams from now on: the ones known keep their cursors (and place)."""
        known = {(c.source.task_arn, c.source.container): c for c in self.cursors}
        cursors = []
        for source in found:
            cursor = known.get((source.task_arn, source.container)) or Cursor(source)
            cursor.source = source  # the label may change with the number of tasks
            cursors.append(cursor)
        self.cursors = cursors

    def activate(self, tasks: Sequence[dict[str, Any]]) -> None:
        """Start reading a container's stream once it has started: before that, every read is a wasted call. A
        stream named by the container's ID (no awslogs-stream-prefix) gets its name from the `runtimeId`
        DescribeTasks shows once the container runs."""
        started = {
            (t.get("taskArn"), c.get("name")): c
            for t in tasks
            for c in t.get("containers", [])
            if c.get("lastStatus") in _STARTED or t.get("lastStatus") in _STARTED
        }
        for cursor in self.cursors:
            container = started.get((cursor.source.task_arn, cursor.source.container))
            if container is None or cursor.refused:
                continue
            if not cursor.source.stream:
                runtime_id = container.get("runtimeId")
                if not isinstance(runtime_id, str) or not _STREAM_NAME.fullmatch(runtime_id):
                    continue  # not shown yet: read it once it is
                cursor.source = replace(cursor.source, stream=runtime_id)
            cursor.active = True

    def behind_streams(self) -> list[Cursor]:
        """Streams that may hold lines not shown: their last read failed (never one that worked, too: a short task
        under a shared quota), stopped at its page budget, or AWS denied reading them."""
        return [c for c in self.cursors if c.refused or (c.active and (c.failing or (c.found and not c.caught_up)))]

    def never_found(self, tasks: Sequence[dict[str, Any]]) -> list[LogSource]:
        """Streams of containers that ran (they have an exit code) that CloudWatch said do not exist, and never
        showed up: once the tasks have stopped, a sign that the log configuration names another group, prefix or
        region. A container that never ran has no stream, and its failure says why."""
        ran = {(t.get("taskArn"), c.get("name")) for t in tasks for c in t.get("containers", [])
               if c.get("exitCode") is not None}  # fmt: skip
        return [c.source for c in self.cursors
                if c.active and c.absent and not c.found and (c.source.task_arn, c.source.container) in ran]  # fmt: skip

    def read(self, caller: Caller = _direct, until: float | None = None) -> Iterator[list[LogLine]]:
        """New lines of every active stream, a page at a time, until caught up (or the page budget is spent).

        `caller` makes each call (to let a signal cut it short, or bound it); `until` stops before a call past that time."""
        self.behind = self.failed = False
        for cursor in self.cursors:
            if cursor.active:
                yield from self._read_stream(cursor, caller, until)

    def lag(self) -> float:
        """The longest time CloudWatch took to show a stream's latest lines (seconds): a line written as its
        container exits may show up that long after, so the drain waits at least that long."""
        return max((c.lag for c in self.cursors if c.active), default=0.0)

    def arriving(self, since: float) -> list[Cursor]:
        """Streams whose reads brought lines at `since` or later (the tailer's clock): more may be on their way."""
        return [c for c in self.cursors if c.active and c.got_at is not None and c.got_at >= since]

    def _read_stream(self, cursor: Cursor, caller: Caller, until: float | None) -> Iterator[list[LogLine]]:
        source = cursor.source
        for _ in range(MAX_PAGES_PER_READ):
            if until is not None and self.clock() >= until:
                return
            try:
                page = caller(
                    partial(self._api(source.region).get_log_events, source.group, source.stream, cursor.token)
                )
            except AccessError as e:  # said once, as the user sees everything else: an event (see `notices`)
                self.notices.append(f"container {source.container}: its lines cannot be shown: {e.message}")
                cursor.active, cursor.refused, cursor.last_error = False, True, e.message
                return
            except RunError as e:  # throttled or a network fault: keep the cursor, try again next round
                log.debug("log read failed; will retry", stream=source.stream, error=e.message)
                self.failed = True
                cursor.failing, cursor.last_error, cursor.caught_up = cursor.failing + 1, e.message, False
                return
            cursor.failing = 0
            if page is None:
                cursor.absent = True
                return  # the stream does not exist yet
            events, token = page
            cursor.found = True
            caught_up = token == cursor.token
            cursor.token = token
            if events:
                cursor.got_at = self.clock()
                cursor.lag = _lag(events, cursor.lag)
                yield [LogLine(source, _stamp(e.get("timestamp")), str(e.get("message", ""))) for e in events]
                if not self._full(events):
                    # a page short of the limit has, almost always, all there was; asking again just to get
                    # the same token back would double the calls. If more was there, the next round reads
                    # it from this cursor: later, never lost.
                    cursor.caught_up = True
                    return
            elif caught_up:
                cursor.caught_up = True
                return
        cursor.caught_up = False
        self.behind = True

    def _full(self, events: list[dict[str, Any]]) -> bool:
        # surrogatepass: a message may hold lone surrogates (an answer's JSON may escape one: "\ud800")
        size = sum(len(str(e.get("message", "")).encode("utf-8", "surrogatepass")) + 26 for e in events)
        return len(events) >= self.full_page or size >= PAGE_BYTES * 0.9

    def _api(self, region: str | None) -> LogsApi:
        if region not in self._apis:
            self._apis[region] = self.api_for(region)
        return self._apis[region]


MAX_LAG = 120.0  # a lag past this is a clock gone wrong, not CloudWatch being slow


def _lag(events: list[dict[str, Any]], before: float) -> float:
    """How late CloudWatch showed the page's lines: the longest `ingestionTime - timestamp` among them (seconds,
    within 0..MAX_LAG; the awslogs driver sends a batch every few seconds, so a batch's first line waits longest);
    `before` when the page tells nothing (no such fields, an odd answer)."""
    lags = [shown - written for shown, written in ((e.get("ingestionTime"), e.get("timestamp")) for e in events)
            if _whole(shown) and _whole(written) and written]  # fmt: skip
    return min(max(max(lags) / 1000.0, 0.0), MAX_LAG) if lags else before


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _stamp(value: Any) -> int:
    """An event's timestamp (ms); 0 when AWS sent something else: a line is shown whatever its stamp."""
    return value if isinstance(value, int) and not isinstance(value, bool) else 0
