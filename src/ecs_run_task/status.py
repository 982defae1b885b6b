"""The `status` output: what happened, in the contract's words. Exit statuses are in `exit_codes`."""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    SUCCEEDED = "succeeded"  # every deciding container exited 0
    FAILED = "failed"  # a deciding container exited non-zero: its own answer
    FAILED_TO_START = "failed-to-start"  # AWS refused before any task existed, or a container never ran
    INVALID_INPUT = "invalid-input"  # bad input: nothing was called that changes anything
    TIMED_OUT = "timed-out"
    CANCELLED = "cancelled"
    INTERRUPTED = "interrupted"  # stopped from outside (not by its own exit, not by us) while a deciding container ran
    UNKNOWN = "unknown"  # a task started but could no longer be followed (or a bug of ours after RunTask)
    STARTED = "started"  # wait: false
    DRY_RUN = "dry-run"
