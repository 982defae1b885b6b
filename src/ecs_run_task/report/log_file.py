"""`log-file`: every log line of every container also goes to a file, as it arrives, around whichever renderer
shows the run. Plain UTF-8 text: no CI markup, `[container] ` before each line when several streams show, every
line split and neutral as `printable.lines` makes it. The CLI opens the file before the run and closes it on
every path, so what was read is in the file however the run ends."""

from __future__ import annotations

from collections.abc import Sequence
from typing import IO, TYPE_CHECKING

from ecs_run_task.engine.renderer import Wrapping
from ecs_run_task.report.plain import Plain

if TYPE_CHECKING:
    from ecs_run_task.engine.logs import LogLine
    from ecs_run_task.engine.renderer import Renderer


class LogFile(Wrapping):
    """A renderer that writes log lines to `file` and hands everything, log lines too, to `inner`."""

    def __init__(self, inner: Renderer, file: IO[str]) -> None:
        super().__init__(inner)
        self.file = file

    def log_lines(self, lines: Sequence[LogLine]) -> None:
        try:
            self.file.write("".join(f"{text}\n" for line in lines for text in Plain.texts(line, None)))
            self.file.flush()  # a batch at a time: what was shown is in the file, should the process be killed
        finally:  # a full disk must not hide the lines from the CI log
            self.inner.log_lines(lines)
