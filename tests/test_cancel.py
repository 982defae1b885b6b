"""cancel.py: a signal records itself, taking no lock; inside `interruptible()` it raises `Cancelled` at once,
outside it waits for the next `check()` or `sleep()`. Real signals to this process, the handlers restored after."""

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
def test_a_signal_inside_interruptible_raises_at_once(cancellation: Cancellation, sig: int) -> None:
    with pytest.raises(Cancelled) as raised, cancellation.interruptible():
        signal.raise_signal(sig)  # raised from the handler: the block does not run on to its end
    assert (raised.value.signum, cancellation.signum) == (sig, sig)


def test_a_signal_outside_is_recorded_and_raised_at_the_next_check(cancellation: Cancellation) -> None:
    signal.raise_signal(signal.SIGTERM)  # as during RunTask: nothing is interrupted
    assert cancellation.signum == signal.SIGTERM
    with pytest.raises(Cancelled) as raised:
        cancellation.check()
    assert raised.value.signum == signal.SIGTERM


def test_a_signal_outside_is_raised_when_interruptible_or_sleep_begins(cancellation: Cancellation) -> None:
    signal.raise_signal(signal.SIGINT)
    reached = []
    with pytest.raises(Cancelled), cancellation.interruptible():
        reached.append("inside")
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
    with pytest.raises(Cancelled) as raised, cancellation.interruptible():
        signal.raise_signal(signal.SIGINT)
    assert raised.value.signum == signal.SIGINT
    signal.raise_signal(signal.SIGTERM)  # during StopTask, which is never interrupted: nothing raised
    assert cancellation.signum == signal.SIGINT
    with pytest.raises(Cancelled) as again:
        cancellation.check()
    assert again.value.signum == signal.SIGINT


def test_leaving_interruptible_makes_the_next_signal_wait_for_a_check(cancellation: Cancellation) -> None:
    with cancellation.interruptible():
        pass
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
