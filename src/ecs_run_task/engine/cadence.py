"""When to poll status and read logs next: the adaptive policy, and the pause before a try again after a failure
(`backoff`), as arithmetic over times. Pure."""

from __future__ import annotations

from dataclasses import dataclass

LOG_INTERVAL = 2.0  # between reads of the log streams while lines come
LOG_BACKOFF = 1.25  # a quiet stream is read this much less often each time, up to
MAX_LOG_INTERVAL = 2.5  # so a sparse line waits ~1.25 s on average (~24 reads a minute, 15 polls beside them)
# Status polls are this much rarer while log lines come (the containers are evidently alive), and a little
# rarer while streams are read but quiet, so that polls and reads together stay within ~40 calls a minute.
FLOWING_POLL_FACTOR = 4.0
READING_POLL_FACTOR = 2.0
SUSTAINED = 3  # read rounds in a row with lines: if they then stop, the container likely ended
DOUBLINGS = 30  # a back-off doubles at most this often (past the cap long before): a long outage never overflows


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

    def failed(self, now: float, pause: float) -> None:
        """A poll that failed (contact lost): the next one after `pause`, whatever the logs do."""
        self.next_poll = now + pause

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


def backoff(first: float, retry: int, cap: float, jitter: float, spread: float) -> float:
    """Seconds before try again number `retry` (1 for the first): `first`, doubling, up to `cap`, then spread by
    +-`spread` (a share) from `jitter` in [0, 1), so that runs that failed together do not try again together."""
    return min(first * 2.0 ** min(retry - 1, DOUBLINGS), cap) * (1 - spread + 2 * spread * jitter)
