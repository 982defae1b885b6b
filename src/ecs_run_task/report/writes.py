"""Our own files and streams (stdout, the step's outputs, summary and state, `--dotenv`, `log-file`): writing them
can fail (a full disk, a pipe closed early by `| head`, a read-only file), and that never changes the run's answer.
Each failure is said once, on stderr, with what it costs; what cannot be written is dropped, never raised."""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Callable
from contextlib import suppress
from typing import IO, cast

from ecs_run_task.printable import encodable, inert


class Told:
    """Says each failure to write one of our own files or streams once, on `err` (stderr when None, looked up
    when said), and never raises: if stderr itself is closed, there is no one left to tell."""

    def __init__(self, err: IO[str] | None = None) -> None:
        self.err = err
        self.said: set[str] = set()

    def failed(self, what: str, error: Exception, cost: str) -> None:
        if what in self.said:
            return
        self.said.add(what)
        why = getattr(error, "strerror", None) or str(error) or type(error).__name__
        line = f"ecs-run-task: warning: {what} could not be written ({why}); {cost}; the run's answer is unchanged"
        try:
            to = self.err or sys.stderr
            to.write(inert(encodable(line)) + "\n")
            to.flush()
        except (OSError, ValueError):  # stderr closed too (`2>&1 | head`): nowhere to say it
            _silence(self.err or sys.stderr)

    def attempt(self, what: str, cost: str, write: Callable[[], object]) -> bool:
        """`write()`, its failure told; True when it worked."""
        try:
            write()
        except OSError as e:
            self.failed(what, e, cost)
            return False
        return True

    def append(self, path: str, text: str, what: str, cost: str) -> bool:
        """Append `text` to the file at `path` (created if missing, as the runner's own files are), whole or not at
        all: a write cut short (a full disk) is cut off again, since the runner fails the step on a file command
        left half written (an output's heredoc without its delimiter)."""
        data = text.encode("utf-8", "backslashreplace")

        def write() -> None:
            with open(path, "ab", buffering=0) as f:  # unbuffered: nothing left to flush when cutting it off
                start = f.tell()
                try:
                    left = memoryview(data)
                    while left:
                        left = left[f.write(left) or 0 :]
                except OSError:
                    with suppress(OSError):
                        os.ftruncate(f.fileno(), start)
                    raise

        return self.attempt(what, cost, write)


class Guarded(io.TextIOBase):
    """A text stream that never raises on write, flush or close: its first failure is told (see `Told`), and from
    then on what is written to it is dropped. Closing it closes `stream` only if `owned` (a file we opened; never
    stdout or a caller's stream)."""

    def __init__(self, stream: IO[str], what: str, cost: str, told: Told, *, owned: bool = False) -> None:
        super().__init__()
        self.stream = stream
        self.what = what
        self.cost = cost
        self.told = told
        self.owned = owned
        self.broken = False

    def _guard(self, act: Callable[[], object]) -> None:
        if self.broken:
            return
        try:
            act()
        except (OSError, ValueError) as e:  # ValueError: the stream was closed under us
            self.broken = True
            _silence(self.stream)  # before telling: stderr may be this very stream
            self.told.failed(self.what, e, self.cost)

    def write(self, text: str) -> int:
        self._guard(lambda: self.stream.write(text))
        return len(text)

    def flush(self) -> None:
        self._guard(self.stream.flush)

    def close(self) -> None:
        if self.closed:
            return
        super().close()  # flushes `stream`, through the guard
        if self.owned:
            self._guard(self.stream.close)
            with suppress(OSError, ValueError):  # a broken one: what its buffer held is dropped, never raised
                self.stream.close()

    def writable(self) -> bool:
        return True


def guarded(stream: IO[str], what: str, cost: str, told: Told, *, owned: bool = False) -> IO[str]:
    """`stream` behind a `Guarded`, typed as the stream it stands for: its users only write, flush and close."""
    return cast("IO[str]", Guarded(stream, what, cost, told, owned=owned))


def _silence(stream: IO[str]) -> None:
    """Point a broken stream's file descriptor at /dev/null, so that the interpreter's own last flush of stdout or
    stderr (when the process exits) finds nothing to fail on: it would print `Exception ignored ... BrokenPipeError`
    and exit 120, whatever the run decided. A stream without a descriptor (a test's StringIO) is left as it is."""
    try:
        fd = stream.fileno()
    except (OSError, ValueError, AttributeError):
        return
    try:
        null = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(null, fd)
        finally:
            os.close(null)
    except OSError:
        pass
