"""The drain after the decision, on a clock of our own: every line CloudWatch shows up to 5 s after the exit (or as
late as the stream's own lines show up) is read; log-drain cut short says which streams may hold more; refused reads
do not count against log-drain, within a bound. The sandbox tests (test_late_lines.py) prove the same over HTTP."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest

from ecs_run_task.engine import logs
from ecs_run_task.engine.events import LogBatch
from ecs_run_task.engine.watch import LATE, LEAST_READ, REFUSED_MORE, Watch
from ecs_run_task.errors import Throttled

ARN = "arn:aws:ecs:us-east-1:123456789012:task/Sample/0a1b2c3d4e5f"
EXIT = 100.0  # the container's exit, on the test's clock (seconds)


@dataclass
class Clock:
    now: float = EXIT

    def __call__(self) -> float:
        return self.now


@dataclass
class Still:
    """A Cancellation whose sleeps move the test's clock: no signal comes."""

    clock: Clock

    def sleep(self, seconds: float) -> None:
        self.clock.now += max(seconds, 0.0)

    nap = sleep

    def call(self, read: Callable[[], Any], **_: Any) -> Any:
        return read()

    def check(self) -> None:
        pass


@dataclass
class LateLogs:
    """GetLogEvents over lines that CloudWatch shows at given times (`shown`, the test's clock), each written at
    `written`; `refused(now)` throttles a call. Tokens are positions in the visible lines."""

    clock: Clock
    lines: list[tuple[float, float, str]] = field(default_factory=list)  # (written, shown, message)
    refused: Callable[[float], bool] = lambda _now: False
    calls: list[float] = field(default_factory=list)

    def get_log_events(self, group: str, stream: str, token: str | None) -> tuple[list[dict[str, Any]], str] | None:
        self.calls.append(self.clock.now)
        if self.refused(self.clock.now):
            raise Throttled("logs:GetLogEvents failed: ThrottlingException: Rate exceeded")
        visible = sorted((s, w, m) for w, s, m in self.lines if s <= self.clock.now)
        start = int(token or 0)
        events = [
            {"timestamp": int(w * 1000), "ingestionTime": int(s * 1000), "message": m} for s, w, m in visible[start:]
        ]
        return events, str(start + len(events))


def watch(api: LateLogs, clock: Clock, log_drain: float = 15.0) -> Watch:
    found, _ = logs.sources({"containerDefinitions": [{"name": "web", "logConfiguration": {
        "logDriver": "awslogs", "options": {"awslogs-group": "/ecs/app", "awslogs-stream-prefix": "app"}}}]}, [ARN])  # fmt: skip
    tailer = logs.Tailer.of(found, lambda _region: api, clock=clock)
    tailer.activate(
        [{"taskArn": ARN, "lastStatus": "RUNNING", "containers": [{"name": "web", "lastStatus": "STOPPED"}]}]
    )
    w = Watch(ecs=None, cluster="Sample", arns=[ARN], deciders=["web"], poll_interval=2.0, deadline=None,  # type: ignore[arg-type]
              cancel=Still(clock), tailer=tailer, log_drain=log_drain, clock=clock, wall=lambda: 0.0)  # type: ignore[arg-type]  # fmt: skip
    w.track([{"taskArn": ARN, "lastStatus": "DEACTIVATING"}])
    w.decided_at[ARN] = EXIT  # seen at once (the exit as ECS's stoppingAt would tell it is the same here)
    return w


def drained(w: Watch, **how: Any) -> list[str]:
    return [line.message for e in w.drain(w.log_drain, **how) if isinstance(e, LogBatch) for line in e.lines]


def migration(late: float, clock: Clock) -> LateLogs:
    """A migration's last two lines, written just before the exit, shown `late` seconds after it."""
    return LateLogs(clock, [(EXIT - 5, EXIT - 5, "== CreateUsers: migrating"),
                            (EXIT - 0.2, EXIT + late, "ERROR: relation users already exists"),
                            (EXIT - 0.1, EXIT + late + 0.01, "rake aborted!")])  # fmt: skip


@pytest.mark.parametrize("late", [0.0, 1.0, 3.0, 4.0, 4.98])
def test_a_line_shown_up_to_5s_after_the_exit_is_read(late: float) -> None:
    clock = Clock()
    w = watch(migration(late, clock), clock)
    assert drained(w, after_exit=True) == ["== CreateUsers: migrating", "ERROR: relation users already exists",
                                           "rake aborted!"]  # fmt: skip
    assert w.cut == []
    assert clock.now - EXIT <= max(LATE, late + 2.0) + 1.0  # then it ends: quiet, and late enough


def test_with_nothing_late_the_drain_ends_once_5s_have_passed_since_the_exit() -> None:
    clock = Clock(EXIT + 1.2)  # our polling saw the exit 1.2 s late
    w = watch(LateLogs(clock, [(EXIT - 1, EXIT - 1, "done")]), clock)
    assert drained(w, after_exit=True) == ["done"]
    assert LATE <= clock.now - EXIT <= LATE + 0.5
    assert w.cut == []


def test_a_stream_whose_lines_show_up_8s_late_is_read_8s_past_the_exit() -> None:
    """CloudWatch's own `ingestionTime` says how late this stream's lines show up: the drain waits that long."""
    clock = Clock()
    api = LateLogs(clock, [(EXIT - 20, EXIT - 12, "early"), (EXIT - 0.1, EXIT + 7.9, "last")])
    w = watch(api, clock)
    assert drained(w, after_exit=True) == ["early", "last"]
    assert w.cut == []


def test_a_log_drain_shorter_than_cloudwatch_may_take_names_the_stream() -> None:
    clock = Clock()
    w = watch(migration(3.5, clock), clock, log_drain=2.0)
    assert drained(w, after_exit=True) == ["== CreateUsers: migrating"]
    [(cursor, why)] = w.cut
    assert cursor.source.container == "web"
    assert why == "log-drain (2s) ended the reading 2.0s after the exit, and CloudWatch may show a line up to 5s after"


def test_lines_still_arriving_when_log_drain_runs_out_name_the_stream() -> None:
    clock = Clock()
    chatty = [(EXIT + t / 2, EXIT + t / 2, f"line {t}") for t in range(60)]  # a line every 0.5 s, for 30 s
    w = watch(LateLogs(clock, chatty), clock, log_drain=8.0)
    got = drained(w, after_exit=True)
    assert got == [m for _, _, m in chatty[: len(got)]]  # in order, none twice
    assert 8.0 <= clock.now - EXIT < 9.0
    [(_cursor, why)] = w.cut
    assert why.startswith("lines were still arriving when log-drain (8s) ran out, 8.")


def test_reads_refused_past_log_drain_extend_it_and_every_line_is_read() -> None:
    """Throttled is not quiet: an account's shared quota refuses every read until 20 s after the exit."""
    clock = Clock()
    api = migration(3.0, clock)
    api.refused = lambda now: now < EXIT + 20
    w = watch(api, clock, log_drain=15.0)
    assert drained(w, after_exit=True)[-1] == "rake aborted!"
    assert w.cut == []
    assert w.tailer is not None
    assert w.tailer.behind_streams() == []
    assert all(b - a <= 4.0 * 1.5 + 0.01 for a, b in zip(api.calls, api.calls[1:], strict=False))  # paced, never idle


def test_reads_refused_for_good_end_within_the_bound_and_the_stream_is_named() -> None:
    clock = Clock()
    api = migration(3.0, clock)
    api.refused = lambda _now: True
    w = watch(api, clock, log_drain=15.0)
    assert drained(w, after_exit=True) == []
    assert clock.now - EXIT <= 15.0 + REFUSED_MORE + 0.01
    assert clock.now - EXIT >= 15.0 + REFUSED_MORE - 4.0 * 1.5  # it did try until close to the bound
    assert w.tailer is not None
    [cursor] = w.tailer.behind_streams()  # with_log_gaps names it, with the link
    assert cursor.failing > 0


def test_a_drain_after_our_own_stop_keeps_to_its_budget_whatever_comes() -> None:
    """After a signal the runner has seconds before SIGKILL: no floor, no extension."""
    clock = Clock()
    api = migration(3.0, clock)
    api.refused = lambda _now: True
    w = watch(api, clock)
    w.decided_at.clear()  # stopped by us: no exit to count from
    assert drained(w) == []
    assert clock.now - EXIT <= 15.0
    short = watch(migration(3.0, clock := Clock()), clock, log_drain=1.5)
    short.decided_at.clear()
    drained(short)
    assert clock.now - EXIT <= 1.5
    assert short.cut == []  # the signal's own message says the drain was cut short


@pytest.mark.parametrize("stop_code", ["UserInitiated", "SpotInterruption", "EssentialContainerExited"])
def test_stopping_at_before_the_sigterm_does_not_shorten_the_drain(stop_code: str) -> None:
    """ECS stamps stoppingAt when the task leaves RUNNING: for an outside stop (or a sidecar's exit) that is before
    the SIGTERM, and the deciding container exits 10 s later; its last lines show 3 s after that exit."""
    clock = Clock()
    w = watch(LateLogs(clock, [(EXIT - 5, EXIT - 5, "migrating"), (EXIT - 0.1, EXIT + 3.0, "rolled back on SIGTERM")]),
              clock)  # fmt: skip
    w.wall = lambda: 1_000_000.0 + (clock.now - EXIT)
    envoy = (
        [{"name": "envoy", "lastStatus": "STOPPED", "exitCode": 1}] if stop_code == "EssentialContainerExited" else []
    )
    w.track([{"taskArn": ARN, "lastStatus": "STOPPING", "desiredStatus": "STOPPED", "stopCode": stop_code,
              "containers": [{"name": "web", "lastStatus": "STOPPED", "exitCode": 0}, *envoy],
              "stoppingAt": datetime.fromtimestamp(1_000_000.0 - 10.0, UTC)}])  # fmt: skip
    assert drained(w, after_exit=True) == ["migrating", "rolled back on SIGTERM"]
    assert w.cut == []


def test_stopping_at_of_a_one_container_task_that_exited_counts_the_quiet_period_from_the_exit() -> None:
    """Its one container's own exit stopped it: stoppingAt is the exit, which polling noticed 4 s later."""
    clock = Clock()
    w = watch(LateLogs(clock, [(EXIT - 5, EXIT - 5, "migrated")]), clock)
    clock.now = EXIT + 4.0
    w.wall = lambda: 1_000_000.0 + (clock.now - EXIT)
    w.track([{"taskArn": ARN, "lastStatus": "STOPPING", "stopCode": "EssentialContainerExited",
              "containers": [{"name": "web", "lastStatus": "STOPPED", "exitCode": 0}],
              "stoppingAt": datetime.fromtimestamp(1_000_000.0, UTC)}])  # fmt: skip
    w.decided_at[ARN] = clock.now
    assert w.decided_ago() == pytest.approx(4.0)


def test_after_a_signal_no_read_is_sent_with_too_little_time_left_for_its_answer() -> None:
    """A read sent and left unanswered spends the account's GetLogEvents quota for nothing."""
    clock = Clock()
    api = migration(0.0, clock)
    w = watch(api, clock)
    assert [e for e in w.drain(LEAST_READ / 2, after_signal=True) if isinstance(e, LogBatch)] == []
    assert api.calls == []
    assert drained(watch(api, clock), after_signal=True) != []  # with time left, the same drain reads
