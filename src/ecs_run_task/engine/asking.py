"""Asking AWS again: a question whose answer was lost, or that AWS failed to answer in a way a later try may not
(`Transient`), is asked again after a growing pause, a few times and within the run's deadline; then the caller's
error. RunTask (with its clientToken) and the looks at the group ask this way."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from ecs_run_task.engine import retries
from ecs_run_task.engine.cancel import Cancellation, Cancelled
from ecs_run_task.engine.renderer import Renderer
from ecs_run_task.errors import RunError, Transient

T = TypeVar("T")
TRIES = 3  # a question is asked this many times in all, after botocore's own retries


@dataclass
class Asker:
    renderer: Renderer
    cancel: Cancellation
    clock: Callable[[], float] = time.monotonic
    jitter: Callable[[], float] = field(default_factory=lambda: random.Random().random)  # noqa: S311 - spreading, not secrecy

    def room_for(self, pause: float, deadline: float | None) -> bool:
        """Whether a pause of `pause` seconds ends before `deadline` (the session's clock; None: no limit)."""
        return deadline is None or self.clock() + pause < deadline

    def ask(self, question: Callable[[], T], gave_up: Callable[[Transient, int], RunError], *,
            deadline: float | None = None, again: str = "", unseen: Callable[[Transient], str] = lambda e: "") -> T:  # fmt: skip
        """`question`, again after a growing pause while it fails in a way a later try may not, up to `TRIES` times
        and within `deadline`; then `gave_up`'s error. `again` ends the line said before each try again; a signal in a
        pause says what the failed call may have left (`unseen`)."""
        tries = 1
        while True:
            try:
                return question()
            except Transient as e:
                pause = retries.pause(tries, self.jitter())
                if tries == TRIES or not self.room_for(pause, deadline):
                    raise gave_up(e, tries) from e
                self.renderer.warning(f"{e.message}; asking again in {pause:.0f}s{again}")
                try:
                    self.cancel.sleep(pause)
                except Cancelled as c:
                    raise Cancelled(c.signum, unseen=unseen(e)) from c
                tries += 1


def not_known(what: str) -> Callable[[Transient, int], RunError]:
    """`gave_up` for a question whose answer no one has: `what` is not known, after so many tries."""
    return lambda e, tries: RunError(f"{e.message}; {what} is not known, after {tries} tries", hint=e.hint)
