"""The waiting loop against a scripted ECS and CloudWatch on a fake clock: when it polls, what it yields, when it
decides, when the deadline passes, how it rides out an outage, and how long it reads after the decision."""

from __future__ import annotations

import signal
from typing import Any

import pytest

from ecs_run_task.engine import logs
from ecs_run_task.engine.cadence import FLOWING_POLL_FACTOR
from ecs_run_task.engine.cancel import Cancelled
from ecs_run_task.engine.events import AllDecided, Contact, DeadlinePassed, Decided, Event, LogBatch, Progress, Seen
from ecs_run_task.engine.watch import HEARTBEAT, MAX_RETRY_PAUSE, REFUSED_MORE, Watch
from ecs_run_task.errors import Transient
from tests.fakes import CLUSTER, TASK_DEFINITION, Engine, Life, engine

OUTAGE = Transient("ecs:DescribeTasks failed: 503: ServiceUnavailable")


def watch(e: Engine, *lives: Life, poll: float = 1.0, deadline: float | None = None, tail: bool = False,
          log_drain: float = 15.0) -> Watch:  # fmt: skip
    """A watch over tasks started now with `lives` (`tail`: their lines read too)."""
    e.ecs.lives = list(lives)
    tasks, _ = e.ecs.run_task({"count": len(lives)})
    e.ecs.calls.clear()
    arns = [str(t["taskArn"]) for t in tasks]
    tailer = None
    if tail:
        tailer = logs.Tailer.of(logs.sources(TASK_DEFINITION, arns)[0], lambda region: e.logs, clock=e.clock)
    w = Watch(ecs=e.ecs, cluster=CLUSTER, arns=arns, deciders=["web"], poll_interval=poll, deadline=deadline,
              cancel=e.signals, tailer=tailer, log_drain=log_drain, clock=e.clock, wall=e.clock.wall,
              jitter=lambda: 0.5)  # fmt: skip
    w.track(tasks)
    return w


def played(e: Engine, w: Watch) -> list[tuple[float, Event]]:
    """Every event, with the clock when it came."""
    return [(e.clock(), event) for event in w.events(e.clock())]


def polls(e: Engine) -> int:
    return len(e.ecs.called("DescribeTasks"))


def test_the_answer_is_known_at_the_deciding_containers_exit_not_at_the_tasks_stopped() -> None:
    e = engine()
    got = played(e, watch(e, Life(start=0.5, runs=1.0, exit_code=3, teardown=60.0)))
    at, final = got[-1]
    assert isinstance(final, AllDecided)
    assert at == 2.0  # polled every second: the exit at 1.5 s is seen at 2 s, not after the minute of teardown
    [decided] = [event for _, event in got if isinstance(event, Decided)]
    assert decided.task["containers"][0]["exitCode"] == 3
    assert not decided.rest_running  # ECS is stopping it: nothing for us to stop


def test_each_poll_yields_what_ecs_said_then_the_changes() -> None:
    e = engine()
    got = [event for _, event in played(e, watch(e, Life(start=0.5, runs=1.0)))]
    kinds = [type(event).__name__ for event in got]
    assert kinds == ["Seen", "Progress", "Seen", "Progress", "Seen", "Progress", "Decided", "AllDecided"]
    assert [event.last_status for event in got if isinstance(event, Progress)] == [
        "PROVISIONING", "RUNNING", "DEPROVISIONING"]  # fmt: skip


def test_a_heartbeat_line_comes_every_10_seconds_while_nothing_changes() -> None:
    e = engine()
    got = played(e, watch(e, Life(start=0.0, runs=25.0)))
    heartbeats = [at for at, event in got if isinstance(event, Progress) and not event.changed]
    assert heartbeats == [HEARTBEAT, 2 * HEARTBEAT]


def test_the_deadline_passes_on_time_not_at_the_next_poll() -> None:
    e = engine()
    got = played(e, watch(e, Life(start=0.0, runs=None), poll=30.0, deadline=1.0))
    at, final = got[-1]
    assert (at, type(final)) == (1.0, DeadlinePassed)
    assert polls(e) == 2  # at once, and a last look at the deadline (a task just decided is no timeout)


def test_a_task_decided_at_the_deadline_is_an_answer_not_a_timeout() -> None:
    e = engine()
    got = played(e, watch(e, Life(start=0.0, runs=0.5), poll=30.0, deadline=1.0))
    assert isinstance(got[-1][1], AllDecided)


def test_missing_right_after_run_task_is_not_known_yet() -> None:
    e = engine()
    e.ecs.missing_describes = 3
    got = played(e, watch(e, Life(start=0.5, runs=1.0)))
    assert (got[-1][0], type(got[-1][1])) == (3.0, AllDecided)
    assert polls(e) == 4  # three MISSING answers kept the last view (no answer), then the task as it is


def test_an_outage_is_ridden_out_with_a_line_when_contact_is_lost_and_one_when_it_is_back() -> None:
    e = engine()
    e.ecs.faults["DescribeTasks"] = [OUTAGE for _ in range(6)]
    got = played(e, watch(e, Life(start=0.0, runs=60.0)))
    contacts = [(at, event) for at, event in got if isinstance(event, Contact)]
    assert [(at, c.lost) for at, c in contacts] == [(0.0, True), (45.0, False)]
    assert contacts[0][1].text == (f"lost contact with AWS: {OUTAGE.message}; trying again until the timeout (the task "
                                   "runs on meanwhile)")  # fmt: skip
    assert contacts[1][1].text == "contact with AWS is back after 45s (6 polls failed)"
    assert e.signals.slept[:6] == [1.0, 2.0, 4.0, 8.0, 15.0, 15.0]  # doubling from poll-interval, capped
    assert MAX_RETRY_PAUSE == 15.0
    assert isinstance(got[-1][1], AllDecided)


def test_an_outage_to_the_deadline_ends_at_the_deadline_still_out_of_contact() -> None:
    e = engine()
    e.ecs.faults["DescribeTasks"] = [OUTAGE for _ in range(100)]
    w = watch(e, Life(start=0.0, runs=None), deadline=20.0)
    got = played(e, w)
    assert (got[-1][0], type(got[-1][1])) == (20.0, DeadlinePassed)
    assert w.lost_since == 0.0


def test_while_lines_flow_status_is_polled_less_often() -> None:
    """The cadence's policy (test_cadence.py), wired into the loop: lines every 0.1 s for 6 s, then silence."""
    e = engine()
    lines = [(i * 0.1, f"tick {i}") for i in range(60)]
    w = watch(e, Life(start=0.0, runs=9.0, lines=lines), poll=0.5, tail=True)
    got = played(e, w)
    polled = [at for at, event in got if isinstance(event, Seen)]
    flowing = [at for at in polled if 1.0 < at < 5.0]
    assert len(flowing) <= 4 / (FLOWING_POLL_FACTOR * 0.5) + 1  # every 2 s, not every 0.5 s
    printed = [line.message for _, event in got if isinstance(event, LogBatch) for line in event.lines]
    assert printed == [line for _, line in lines]


def test_lines_that_come_after_the_exit_are_read_in_the_drain() -> None:
    e = engine()
    lines = [(0.0, "first"), (1.0, "exiting"), (1.8, "flushed late")]  # the container exits at 1.0 s
    got = played(e, watch(e, Life(start=0.0, runs=1.0, lines=lines), tail=True))
    printed = [line.message for _, event in got if isinstance(event, LogBatch) for line in event.lines]
    assert printed == ["first", "exiting", "flushed late"]
    assert isinstance(got[-1][1], AllDecided)


def test_the_drain_is_bounded_by_log_drain_and_the_time_reads_were_refused() -> None:
    e = engine()
    e.logs.faults = [Transient("logs:GetLogEvents failed: ThrottlingException") for _ in range(1000)]
    w = watch(e, Life(start=0.0, runs=1.0, lines=[(0.5, "never read")]), tail=True, log_drain=4.0)
    got = played(e, w)
    decided_at = next(at for at, event in got if isinstance(event, Decided))
    assert got[-1][0] - decided_at <= 4.0 + REFUSED_MORE + 1e-9  # refused reads extend it, within a bound


@pytest.mark.parametrize("phase", ["a poll", "a pause between polls"])
def test_a_signal_cuts_the_wait_short_at_once(phase: str) -> None:
    e = engine()
    w = watch(e, Life(start=0.0, runs=None))
    if phase == "a poll":
        e.ecs.during["DescribeTasks"] = lambda: e.signals.deliver(signal.SIGINT)
    else:
        e.signals.schedule(3.5, signal.SIGINT)
    with pytest.raises(Cancelled) as cancelled:
        played(e, w)
    assert cancelled.value.signum == signal.SIGINT
    assert e.clock.now == (0.0 if phase == "a poll" else 3.5)


def test_a_task_that_ecs_is_not_stopping_is_decided_with_the_rest_running() -> None:
    """A non-essential deciding container exited, an essential sidecar runs on: the follower must stop the rest."""
    e = engine()
    w = watch(e, Life(start=0.0, runs=1.0))
    w.deciders = ["web"]
    real = e.ecs.tasks[w.arns[0]].describe

    def sidecar_runs_on(now: float) -> dict[str, Any]:
        task = real(now)
        return {**task, "desiredStatus": "RUNNING", "lastStatus": "RUNNING"} if now >= 1.0 else task

    e.ecs.tasks[w.arns[0]].describe = sidecar_runs_on  # type: ignore[method-assign]
    decided = next(event for _, event in played(e, w) if isinstance(event, Decided))
    assert decided.rest_running
