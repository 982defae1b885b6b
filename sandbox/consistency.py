"""AWS's eventual consistency, played: knobs a test turns on `sb.consistency`, each off (0) by default.

ECS's API is eventually consistent (AWS advises backing off before relying on an answer), and CloudWatch shows a
line some time after it was written. The knobs are read when they apply, so a test may turn one at any moment:

- `list_lag`: ListTasks leaves out a task created less than this many seconds ago (whatever the filter);
- `missing_describes`: a task started from now on is MISSING for its first n DescribeTasks, whoever asks
  (`sb.missing(arn, n)`: one task, its next n describes);
- `missing_for`: DescribeTasks answers MISSING for a task created less than this many seconds ago;
- `revision_lag`: a revision registered through the API (RegisterTaskDefinition) less than this many seconds ago
  is not describable: DescribeTaskDefinition and RunTask naming it answer ClientException "Unable to describe task
  definition.", and a bare family means its latest revision that is describable;
- `log_lag`: a log line becomes visible (GetLogEvents, FilterLogEvents) this many seconds after it was written,
  with its own `timestamp` and the `ingestionTime` it became visible at (see cwlogs.py).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

from moto.ecs.models import ecs_backends

from .cwlogs import DEFAULT_ACCOUNT_ID
from .state import TaskState

# What ECS answers for a revision it cannot describe (DescribeTaskDefinition, RunTask), as botocore shows it.
UNDESCRIBABLE = {"__type": "ClientException", "message": "Unable to describe task definition."}


@dataclass
class Consistency:
    list_lag: float = 0.0
    missing_describes: int = 0
    missing_for: float = 0.0
    revision_lag: float = 0.0
    log_lag: float = 0.0
    account: str = field(default=DEFAULT_ACCOUNT_ID, repr=False, compare=False)
    # "family:revision" -> (region, time.monotonic() it was registered through the API)
    _registered: dict[str, tuple[str, float]] = field(default_factory=dict, repr=False, compare=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    # -- tasks ---------------------------------------------------------------------------
    def listed(self, task: TaskState) -> bool:
        """ListTasks shows the task: it was created at least `list_lag` seconds ago."""
        return time.monotonic() - task.created >= self.list_lag

    def missing(self, task: TaskState) -> bool:
        """DescribeTasks answers MISSING for it now (and counts the describe). Called under the driver's lock."""
        if task.missing_left > 0:
            task.missing_left -= 1
            return True
        return time.monotonic() - task.created < self.missing_for

    # -- task definition revisions -------------------------------------------------------
    def registered(self, arn: str) -> None:
        """A revision registered through the API (RegisterTaskDefinition answered 200)."""
        region = arn.split(":")[3] if arn.startswith("arn:") else ""
        with self._lock:
            self._registered[arn.rsplit("/", 1)[-1]] = (region, time.monotonic())

    def _hidden(self) -> dict[str, str]:
        """Revisions ("family:revision") not describable yet -> their region."""
        now = time.monotonic()
        with self._lock:
            return {name: region for name, (region, at) in self._registered.items() if now - at < self.revision_lag}

    def visible(self, ref: str) -> str | None:
        """The task definition `ref` (family, family:revision or ARN) as ECS sees it now: `ref` itself, a family's
        latest revision that is describable ("family:revision"), or None: nothing describable by that name yet."""
        hidden = self._hidden() if self.revision_lag > 0 else {}
        if not hidden:
            return ref
        name = ref.rsplit("/", 1)[-1]
        if ":" in name:
            return None if name in hidden else ref
        mine = {int(n.rsplit(":", 1)[1]): region for n, region in hidden.items() if n.rsplit(":", 1)[0] == name}
        if not mine:
            return ref
        active = self._active_revisions(next(iter(mine.values())), name)
        if not active or max(active) not in mine:
            return ref
        shown = [r for r in active if r not in mine]
        return f"{name}:{max(shown)}" if shown else None

    def _active_revisions(self, region: str, family: str) -> list[int]:
        try:
            backend: Any = ecs_backends[self.account][region]
        except KeyError:
            return []
        return [rev for rev, td in backend.task_definitions.get(family, {}).items() if td.status == "ACTIVE"]
