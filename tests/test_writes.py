"""report/writes.py with plain data: a stream or file of ours that fails is told once and never raises. The real
failures (/dev/full, a closed pipe, a read-only file) are in test_own_files.py."""

from __future__ import annotations

import io
from pathlib import Path

from ecs_run_task.report.writes import Guarded, Told


class Breaking(io.StringIO):
    """A stream whose writes fail once `after` characters are in, as a pipe whose reader went away."""

    def __init__(self, after: int) -> None:
        super().__init__()
        self.after = after

    def write(self, text: str) -> int:
        if self.tell() + len(text) > self.after:
            raise BrokenPipeError(32, "Broken pipe")
        return super().write(text)


def test_a_broken_stream_is_told_once_and_what_follows_is_dropped() -> None:
    err = io.StringIO()
    stream = Breaking(after=10)
    out = Guarded(stream, "stdout", "the rest is dropped", Told(err))
    assert out.write("0123456789") == 10
    assert out.write("more") == 4  # as if written: the caller goes on
    assert out.write("and more") == 8
    out.flush()
    assert stream.getvalue() == "0123456789"
    assert err.getvalue() == ("ecs-run-task: warning: stdout could not be written (Broken pipe); the rest is dropped; "
                              "the run's answer is unchanged\n")  # fmt: skip


def test_closing_a_guard_closes_only_what_it_owns() -> None:
    caller = io.StringIO()
    Guarded(caller, "stdout", "x", Told(io.StringIO())).close()
    assert not caller.closed  # stdout, or a test's stream: still the caller's
    mine = io.StringIO()
    Guarded(mine, "log-file run.log", "x", Told(io.StringIO()), owned=True).close()
    assert mine.closed


def test_each_failure_is_told_once_and_a_closed_stderr_silences_the_teller(tmp_path: Path) -> None:
    err = io.StringIO()
    told = Told(err)
    assert not told.append(str(tmp_path), "x", "$GITHUB_OUTPUT (a directory)", "the outputs are missing")
    assert not told.append(str(tmp_path), "x", "$GITHUB_OUTPUT (a directory)", "the outputs are missing")
    assert told.append(str(tmp_path / "out"), "x", "$GITHUB_OUTPUT", "-")
    assert err.getvalue().count("could not be written (Is a directory)") == 1
    gone = io.StringIO()
    gone.close()
    Told(gone).failed("stdout", BrokenPipeError(32, "Broken pipe"), "-")  # nowhere to say it: no raise
