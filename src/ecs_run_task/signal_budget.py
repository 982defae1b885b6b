"""The time a run has once CI cancels it, said once. GitHub sends SIGINT, then SIGTERM 7.5 s later, then SIGKILL
2.5 s after that (the runner's own cancellation of a step); GitLab sends SIGTERM, then SIGKILL after its own grace
period. The first signal decides: from it, a run stops the tasks it started (StopTask for all of them at once, never
interrupted), reads the lines still coming for what is left, says the result and exits: before the second signal
unless StopTask itself is slow (`STOP_AT_WORST`), and always before SIGKILL."""

from __future__ import annotations

TO_SIGTERM = 7.5  # seconds from GitHub's SIGINT to its SIGTERM
TO_SIGKILL = TO_SIGTERM + 2.5  # ... and to its SIGKILL, which nothing survives
GONE_BY = TO_SIGTERM - 0.5  # the aim: exited 7 s after the first signal, with room to spare before the second
REPORT = 0.5  # what exiting takes once the drain ends: the result, the outputs, the interpreter's own exit
DRAIN = 1.5  # at most, of reading the lines still coming once the tasks are stopped
# StopTask's client: each try takes at most STOP_CONNECT + STOP_READ; botocore's standard mode waits up to
# STOP_BACKOFF before its one retry. At worst (a slow answer, then a retry) that is 8 s: past GONE_BY, so no drain
# is left, but before SIGKILL with REPORT to spare. A StopTask that answers at once leaves the whole drain.
STOP_CONNECT = 1.0
STOP_READ = 2.5
STOP_TRIES = 2
STOP_BACKOFF = 1.0
STOP_AT_WORST = STOP_TRIES * (STOP_CONNECT + STOP_READ) + STOP_BACKOFF


def drain_left(elapsed: float) -> float:
    """Seconds of log reading left `elapsed` seconds after the first signal, once StopTask is done: at most DRAIN,
    and never past GONE_BY less REPORT."""
    return max(0.0, min(DRAIN, GONE_BY - REPORT - elapsed))
