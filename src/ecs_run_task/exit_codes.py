"""Exit statuses: the contract's table, named. A container's own code 1-255 is passed through as is."""

import signal

SUCCESS = 0
TIMED_OUT = 124  # as timeout(1)
CANNOT_RUN = 125  # as docker run: bad input, AWS error, RunTask failures, a container that never ran
SIGINT = 130
SIGTERM = 143
STOPPED_FROM_OUTSIDE = 143  # a deciding container that exited 0 after an outside stop: as if SIGTERM ended it


def signal_exit(signum: int) -> tuple[int, str]:
    """The exit status and name for a signal that cancelled the run: 130 SIGINT, 143 SIGTERM."""
    return (SIGINT, "SIGINT") if signum == signal.SIGINT else (SIGTERM, "SIGTERM")
