"""cancel.py: a signal records itself, taking no lock; while the run waits (a sleep, a read made with `call`) it
raises `Cancelled` at once, else it waits for the next `check()`, `call()` or `sleep()`. Real signals to this process, the handlers restored after."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import pytest

from ecs_run_task.engine.cancel import Cancellation, Cancelled
from ecs_run_task.errors import Transient


@pytest.fixture
def cancellation() -> Iterator[Cancellation]:
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    installed = Cancellation()
    installed.install()
    yield installed
    for sig, handler in saved.items():
        signal.signal(sig, handler)


def test_both_signals_are_handled(cancellation: Cancellation) -> None:
    """PID 1 ignores SIGTERM without a handler: both CI signals must have ours."""
    assert signal.getsignal(signal.SIGINT) == cancellation._handle
    assert signal.getsignal(signal.SIGTERM) == cancellation._handle


def test_cancelled_gets_past_except_exception() -> None:
    """botocore retries on `except Exception`: a cancel must not be taken for a failed call."""
    assert not issubclass(Cancelled, Exception)
    assert Cancelled(signal.SIGTERM).signum == signal.SIGTERM


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_during_a_read_raises_at_once_and_leaves_the_read_to_end_alone(
    cancellation: Cancellation, sig: int
) -> None:
    release, ended = threading.Event(), threading.Event()

    def read() -> str:  # an AWS read that has not answered yet
        release.wait(10)
        ended.set()
        return "late"

    timer = threading.Timer(0.2, os.kill, (os.getpid(), sig))
    started = time.monotonic()
    timer.start()
    try:
        with pytest.raises(Cancelled) as raised:
            cancellation.call(read)
        waited = time.monotonic() - started
    finally:
        timer.join()
        release.set()
    assert (raised.value.signum, cancellation.signum) == (sig, sig)
    assert waited < 5, "raised on the signal, not when the read answered"
    assert ended.wait(5)  # the read went on in its thread, and ended


def test_a_read_gives_its_answer_or_its_exception(cancellation: Cancellation) -> None:
    assert cancellation.call(lambda: "answer") == "answer"
    with pytest.raises(ValueError, match="invalid literal"):
        cancellation.call(lambda: int("not a number"))


def test_a_read_past_its_time_is_a_transient_failure_and_is_left(cancellation: Cancellation) -> None:
    """After the first signal the drain's reads are not cut by a second one, but bound by the time left."""
    release = threading.Event()
    cancellation._handle(signal.SIGTERM, None)
    with pytest.raises(Transient, match=r"no answer within 0\.2 s"):
        cancellation.call(lambda: release.wait(10), within=0.2, cut=False)
    release.set()
    assert cancellation.call(lambda: "read after the signal", within=5, cut=False) == "read after the signal"


def test_a_signal_outside_is_recorded_and_raised_at_the_next_check(cancellation: Cancellation) -> None:
    signal.raise_signal(signal.SIGTERM)  # as during RunTask: nothing is interrupted
    assert cancellation.signum == signal.SIGTERM
    with pytest.raises(Cancelled) as raised:
        cancellation.check()
    assert raised.value.signum == signal.SIGTERM


def test_a_signal_outside_is_raised_when_a_read_or_a_sleep_begins(cancellation: Cancellation) -> None:
    signal.raise_signal(signal.SIGINT)
    reached: list[str] = []
    with pytest.raises(Cancelled):
        cancellation.call(lambda: reached.append("read"))
    started = time.monotonic()
    with pytest.raises(Cancelled) as raised:
        cancellation.sleep(30)
    assert time.monotonic() - started < 1
    assert (raised.value.signum, reached) == (signal.SIGINT, [])


def test_sleep_wakes_at_once_on_a_signal(cancellation: Cancellation) -> None:
    timer = threading.Timer(0.2, os.kill, (os.getpid(), signal.SIGTERM))
    started = time.monotonic()
    timer.start()
    try:
        with pytest.raises(Cancelled) as raised:
            cancellation.sleep(5)
    finally:
        timer.join()
    assert 0.1 < time.monotonic() - started < 2, "woke on the signal, not at the end of the 5 s"
    assert raised.value.signum == signal.SIGTERM


def test_a_sleep_without_a_signal_sleeps_and_raises_nothing(cancellation: Cancellation) -> None:
    started = time.monotonic()
    cancellation.sleep(0.1)
    cancellation.sleep(0)
    cancellation.sleep(-1)
    assert 0.1 <= time.monotonic() - started < 1
    assert cancellation.signum is None


def test_the_first_signal_decides(cancellation: Cancellation) -> None:
    """GitHub sends SIGTERM 7.5 s after its SIGINT, while the task is being stopped: the run still ends as SIGINT."""
    with pytest.raises(Cancelled) as raised:
        cancellation.call(lambda: cancellation._handle(signal.SIGINT, None))  # in the reading thread, as a fake does
    assert raised.value.signum == signal.SIGINT
    signal.raise_signal(signal.SIGTERM)  # during StopTask, which is never interrupted: nothing raised
    assert cancellation.signum == signal.SIGINT
    with pytest.raises(Cancelled) as again:
        cancellation.check()
    assert again.value.signum == signal.SIGINT


def test_after_a_read_the_next_signal_waits_for_a_check(cancellation: Cancellation) -> None:
    cancellation.call(lambda: None)
    cancellation._handle(signal.SIGTERM, None)  # as the interpreter calls it, outside any block: no raise
    assert cancellation.signum == signal.SIGTERM
    with pytest.raises(Cancelled):
        cancellation.check()


def test_after_a_signal_the_way_out_ignores_a_second_one(cancellation: Cancellation) -> None:
    """Python restores the default handlers as it exits: GitHub's SIGTERM after its SIGINT must not kill the exit
    (and its status) then. At exit, after a signal, both are ignored; without one, nothing changes."""
    cancellation._deaf()
    assert signal.getsignal(signal.SIGTERM) == cancellation._handle
    cancellation._handle(signal.SIGINT, None)
    cancellation._deaf()
    assert signal.getsignal(signal.SIGINT) == signal.getsignal(signal.SIGTERM) == signal.SIG_IGN


HAMMER = """
import random, signal
from ecs_run_task.engine.cancel import Cancellation, Cancelled
from ecs_run_task.errors import Transient
random.seed(1)
for _ in range(1000):
    c = Cancellation()
    signal.signal(signal.SIGALRM, c._handle)
    signal.setitimer(signal.ITIMER_REAL, random.uniform(0.00005, 0.002))
    try:
        while True:
            c.sleep(0.00002)
    except Cancelled:
        pass
"""


def test_a_signal_never_hangs_the_sleep_it_lands_in() -> None:
    """The handler runs between two bytecodes of the main thread, wherever it is: if it took a lock (an Event's, to
    wake the sleep), a signal landing while the sleep held that lock would hang the run for good on its cancel (seen
    once in CI). A thousand signals, each at a random moment of a loop of short sleeps, in a process of its own."""
    done = subprocess.run([sys.executable, "-c", HAMMER], timeout=30, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr


READ_HAMMER = """
import queue, random, signal
from ecs_run_task.engine.cancel import Cancellation, Cancelled
random.seed(1)
for _ in range(2000):
    pool = queue.LifoQueue()  # as urllib3 keeps a client's connections
    pool.put("connection")

    def read():  # what a botocore call does with its pool
        for _ in range(50):
            pool.put(pool.get(block=False), block=False)

    c = Cancellation()
    signal.signal(signal.SIGALRM, c._handle)
    signal.setitimer(signal.ITIMER_REAL, random.uniform(0.00001, 0.0003))
    try:
        while True:
            c.call(read)
    except Cancelled:
        pass
    assert pool.mutex.acquire(timeout=5), "the pool's lock was left held"
    pool.mutex.release()
"""


def test_a_signal_during_a_read_never_leaves_a_lock_of_the_read_held() -> None:
    """Raised inside botocore, `Cancelled` could leave its connection pool's lock held, and the cleanup of that very
    call would wait on it for good. The read runs in a thread of its own, where no signal lands: 2,000 signals, each at
    a random moment of reads that take and give back a pooled connection, leave the pool's lock free."""
    done = subprocess.run([sys.executable, "-c", READ_HAMMER], timeout=60, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
