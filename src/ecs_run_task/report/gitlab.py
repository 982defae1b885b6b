"""GitLab CI: collapsible sections per phase. Outputs go to a dotenv report (`--dotenv`)."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import IO

from ecs_run_task.report.plain import Plain

_CLEAR = "\x1b[0K"


class GitLab(Plain):
    def __init__(self, out: IO[str], clock: Callable[[], float] = time.time, err: IO[str] | None = None) -> None:
        super().__init__(out, err)
        self.clock = clock
        self.section: str | None = None

    def begin(self, phase: str, *, live: bool = False) -> None:
        self.end()
        self.section = re.sub(r"[^a-z0-9_.-]+", "_", phase.lower()).strip("_")
        folded = "" if live else "[collapsed=true]"  # a live section stays open: the task's lines are the point
        self.line(f"{_CLEAR}section_start:{int(self.clock())}:{self.section}{folded}\r{_CLEAR}{phase}")

    def end(self) -> None:
        if self.section:
            self.line(f"{_CLEAR}section_end:{int(self.clock())}:{self.section}\r{_CLEAR}")
            self.section = None
