"""One task of a group at a time (`if-running`), as far as ECS allows.

ECS has no lock, and its API is eventually consistent: ListTasks may not list a task created a moment ago, and
DescribeTasks may answer MISSING for a task just listed. So a run looks at its group before RunTask
(`Lock.before_start`), and again at every poll after it (`Lock.look`) until its own deciding containers run and a
look has seen the whole group. Of two tasks of the group, the one created first (`createdAt`, ties by ARN, so that
both runs agree) goes on; the later one is stopped by its own run, before its containers start where it still can.
MISSING means "not known yet", never "gone": it is asked again. A task a run follows but did not start is never
stopped by it.

The group is a task's ECS `group` (the `group` input, else ECS's default `family:<family>`), whatever its family.
ListTasks cannot filter by group, so a look lists the cluster's tasks that ECS wants running (every family, 100 a
page) and describes them (100 a call) to read their group. A task's group never changes: one seen in another group
is not described again, so a look costs one ListTasks a page and a DescribeTasks for the group's tasks and new ones.

What `if-running` does when another task of the group runs (`start` takes no look at all):
- before RunTask: `fail` refuses (nothing is started), `wait` waits for it to stop and then starts, `attach` follows
  the oldest instead of starting one;
- when a look after RunTask finds an older one, ours are stopped; if no deciding container of ours had run, `fail`
  ends `failed-to-start`, `wait` waits for it and starts again, `attach` follows it. If one had run, whatever the
  mode, the run ends `interrupted`: ours was stopped mid-run and its lines are shown; a migration that started is
  never started again, nor swapped for another's.

Pure decisions first, then `Lock`, which makes the calls."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ecs_run_task import arns, words
from ecs_run_task.engine.asking import Asker, not_known
from ecs_run_task.engine.ports import EcsApi, Tasks
from ecs_run_task.errors import Hint, RunError, Transient
from ecs_run_task.exit_codes import CANNOT_RUN, SIGTERM, TIMED_OUT
from ecs_run_task.status import Status
from ecs_run_task.verdict import outcome
from ecs_run_task.verdict.outcome import Outcome

RAN_AND_LOST = Hint(
    "race-lost-after-start",
    "Two runs of the group started at nearly the same moment, and ECS listed the other run's task only after ours had "
    "started its containers (ECS's lists are eventually consistent, so a look can miss a task created a moment ago).",
    "Check what the stopped task did before running it again, and let CI run one job of the group at a time as well: "
    "GitHub's `concurrency:` or GitLab's `resource_group:` (see docs/how-it-works.md, One at a time).",
)


def group_of(group: str | None, family: str) -> str:
    """The ECS task group: the `group` input, else ECS's default `family:<family>`."""
    return group or f"family:{family}"


def _started(task: dict[str, Any]) -> tuple[float, str]:
    created = task.get("createdAt")
    return (created.timestamp() if isinstance(created, datetime) else float("inf"), str(task.get("taskArn", "")))


def in_order(tasks: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Oldest first, by `createdAt` (ties broken by ARN, so two runs agree on who is first)."""
    return sorted(tasks, key=_started)


def older(others: Sequence[dict[str, Any]], mine: dict[str, Any]) -> list[dict[str, Any]]:
    """The tasks of `others` that were created before `mine`: the ones that go first."""
    return [t for t in in_order(others) if _started(t) < _started(mine)]


def running_in(tasks: Sequence[dict[str, Any]], group: str) -> list[dict[str, Any]]:
    """The tasks of `group` that are running (not stopping), oldest first."""
    return in_order([t for t in tasks if t.get("group") == group and not outcome.stopping(t)])


def described(task: dict[str, Any], now: datetime | None = None) -> str:
    """`task 0a1b2c3d (app:7), started by gh/acme/app/123/1, 3m05s ago`: what a person needs to find it."""
    now = now or datetime.now(UTC)
    revision = arns.revision(str(task.get("taskDefinitionArn", "")))
    parts = [f"task {arns.task_id(str(task.get('taskArn', '?')))}" + (f" ({revision})" if revision else "")]
    if task.get("startedBy"):
        parts.append(f"started by {task['startedBy']}")
    created = task.get("createdAt")
    if isinstance(created, datetime):
        seconds = max(int((now - created).total_seconds()), 0)
        parts.append(f"{seconds // 60}m{seconds % 60:02d}s ago")
    return ", ".join(parts)


def stopped(task: dict[str, Any]) -> bool:
    """The task, or every container of it, has stopped: the group is free of it."""
    containers = task.get("containers") or []
    return task.get("lastStatus") == outcome.STOPPED or (
        bool(containers) and all(c.get("lastStatus") == outcome.STOPPED for c in containers)
    )


def lost_before_running(went_first: str) -> Outcome:
    """`if-running: fail`, after ours were stopped before their containers started (`went_first`: who and why)."""
    return Outcome.without_task(Status.FAILED_TO_START, CANNOT_RUN, f"{went_first} ({words.setting('if-running', 'fail')}); "
                                "ours was stopped before its containers started")  # fmt: skip


def lost_after_running(verdict: Outcome, went_first: str, mode: str) -> Outcome:
    """Ours had started its containers when another task of the group was found older (`went_first`): it was
    stopped mid-run, so the run is `interrupted` whatever its container did then (an exit 0 on SIGTERM is no
    success): the container's own code when it is not 0, else 143, as if the stop's SIGTERM ended it."""
    code = verdict.container_exit_code
    exit_code = code if code is not None and 0 < code <= 255 else SIGTERM
    exited = f"; container {verdict.container} exited with code {code}" if code is not None else ""
    message = (f"{went_first}, and ours had already started its containers, so "
               f"ours was stopped mid-run ({words.setting('if-running', mode)}); it may have done part of its work (its lines are "
               f"above){exited}")  # fmt: skip
    return Outcome(Status.INTERRUPTED, exit_code, code, verdict.task, verdict.container, message, RAN_AND_LOST)


@dataclass(frozen=True)
class Look:
    """What one look at the group after RunTask found: the group's task created before ours, if any; `complete`
    when every task listed was described (none MISSING, no call failed)."""

    first: dict[str, Any] | None
    complete: bool


@dataclass(frozen=True)
class Lost:
    """A look found `first`, of the group, created before ours: ours must be stopped. Whether ours had run is read
    from their end, never from this look (`following.Follower._ran`)."""

    first: dict[str, Any]


@dataclass(frozen=True)
class Follow:
    """`if-running: attach`: follow this task (never stopped by this run) instead of one of ours."""

    task: dict[str, Any]


@dataclass
class Lock:
    ecs: EcsApi
    asker: Asker
    cluster: str
    group: str
    mode: str  # `if-running`: wait, fail or attach
    poll: float  # seconds between looks while waiting for another task to stop
    timeout: float | None
    deadline: float | None  # the session's clock
    wall: Callable[[], float] = time.time  # for how long ago a task was created
    settled: bool = False  # every task of ours ran, and a look that saw the whole group found none older
    _elsewhere: set[str] = field(default_factory=set)  # tasks seen in another group: never in ours

    def before_start(self) -> dict[str, Any] | None:
        """Before RunTask: the task to follow instead of starting one (`attach`); None to start (no task of the group
        runs, or `wait` waited for them). `fail` raises."""
        others = self.asker.ask(self._running_now, not_known(f"which tasks of group {self.group} run"))
        if not others:
            return None
        named = "; ".join(described(t, self._now()) for t in others)
        if self.mode == "fail":
            raise RunError(f"{words.setting('if-running', 'fail')}: group {self.group} has a task running in cluster {self.cluster}: "
                           f"{named}; nothing was started")  # fmt: skip
        if self.mode == "wait":
            self.wait_for(others, after="nothing was started")
            return None
        if len(others) > 1:
            self.asker.renderer.info(f"{len(others)} tasks of group {self.group} run ({named}); following the oldest")
        return others[0]

    def ours_started(self) -> None:
        """A task of ours was started (again): the group is looked at until it runs."""
        self.settled = False

    def after_poll(self, ours: Tasks, mine: Sequence[str], deciders: Sequence[str]) -> Lost | None:
        """At a poll after RunTask, until every task of ours (`ours`: those not stopping) ran and a look has seen the
        whole group: a look. `Lost` when it finds another task of the group created before ours."""
        if self.settled or not ours:
            return None
        ran = [t for t in ours if outcome.ran(t, deciders)]
        look = self.look(ours, mine)
        self.settled = look.first is not None or (look.complete and len(ran) == len(ours))
        return None if look.first is None else Lost(look.first)

    def look(self, ours: Sequence[dict[str, Any]], mine: Sequence[str]) -> Look:
        """After RunTask, at a poll: the group's task created before the oldest of `ours`, if this look finds one.
        `mine`: every task this run started, never counted as another's. A look that fails, or that leaves a listed
        task unknown (MISSING), is incomplete: the next poll looks again."""
        try:
            others, unknown = self._running(mine)
        except Transient:
            return Look(None, complete=False)
        return Look(self._first(others, ours), complete=not unknown)

    def look_whole(self, ours: Sequence[dict[str, Any]], mine: Sequence[str]) -> dict[str, Any] | None:
        """`wait: false`, right after RunTask: no poll follows, so the look is asked again until it sees the whole
        group; the group's task created before ours, if any."""

        def whole() -> dict[str, Any] | None:
            others, unknown = self._running(mine)
            first = self._first(others, ours)
            if unknown and first is None:
                raise Transient(_unknown(unknown))
            return first

        return self.asker.ask(whole, not_known(f"whether another task of group {self.group} runs"))

    @staticmethod
    def _first(others: Tasks, ours: Sequence[dict[str, Any]]) -> dict[str, Any] | None:
        """The oldest of `others` created before the oldest of `ours` (one at least)."""
        return next(iter(older(others, in_order(ours)[0])), None)

    def after_losing(self, first: dict[str, Any]) -> Outcome | Follow | None:
        """Ours were stopped before their containers started, because `first` went first: `fail` ends the run,
        `attach` follows `first`, `wait` waits for it to stop (None: start again)."""
        if self.mode == "fail":
            return lost_before_running(self.went_first(first))
        if self.mode == "attach":
            return Follow(first)
        self.wait_for([first], after="ours was stopped before its containers started")
        return None

    def went_first(self, first: dict[str, Any]) -> str:
        """Who went first, as the messages say it."""
        return f"{described(first, self._now())} of group {self.group} started first"

    def lost_after_running(self, verdict: Outcome, first: dict[str, Any]) -> Outcome:
        return lost_after_running(verdict, self.went_first(first), self.mode)

    def start_again_lost(self, first: dict[str, Any]) -> str:
        """What a start again after a failed start says when it lost the race: the failed start stands."""
        return (f"started again, but {described(first, self._now())} of group {self.group} started first: ours was stopped, and "
                f"the failed start stands ({words.setting('if-running', self.mode)})")  # fmt: skip

    def wait_for(self, others: Sequence[dict[str, Any]], *, after: str) -> None:
        """Until every one of `others` has stopped (its containers, or the task itself), within the timeout; a task
        DescribeTasks leaves out (MISSING) is not known to have stopped, so the wait goes on. `after`: what the
        timeout's message says was done so far."""
        for task in others:
            self.asker.renderer.info(
                f"waiting for {described(task, self._now())} of group {self.group} to stop before starting"
            )
        self.until_stopped(others, f"waiting for {{task}} of group {self.group} to stop "
                                   f"({words.setting('if-running', 'wait')}); {after}")  # fmt: skip
        self.asker.renderer.info(f"group {self.group} is free: starting")

    def until_stopped(self, tasks: Sequence[dict[str, Any]], waiting: str) -> Tasks:
        """Until every one of `tasks` has stopped, within the timeout (`waiting` says what was being waited for,
        `{task}` naming the task); their last descriptions, which say whether they ran (`startedAt`)."""
        arns_ = [str(t["taskArn"]) for t in tasks]
        last = list(tasks)
        while True:
            what = f"whether the tasks of group {self.group} have stopped"
            found = self.asker.ask(lambda: self._described(arns_)[0], not_known(what))
            last = found or last
            if len(found) == len(arns_) and all(stopped(t) for t in found):
                return found
            if self.deadline is not None and self.asker.clock() + self.poll >= self.deadline:
                raise RunError(f"timed out after {self.timeout:g}s "
                               + waiting.replace("{task}", described(last[0], self._now())),
                               exit_code=TIMED_OUT, status=Status.TIMED_OUT)  # fmt: skip
            self.asker.cancel.sleep(self.poll)

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self.wall(), UTC)

    def _running_now(self) -> Tasks:
        """Before RunTask: the group's running tasks, or Transient while some task listed is not known yet (a look
        that cannot see the whole group must not read as "none runs")."""
        others, unknown = self._running(())
        if unknown and not others:
            raise Transient(_unknown(unknown))
        return others

    def _running(self, mine: Sequence[str]) -> tuple[Tasks, list[str]]:
        """The group's tasks that run (not stopping), oldest first, and the ARNs listed but not described."""
        listed = [a for a in self.asker.cancel.call(lambda: self.ecs.list_running(self.cluster)) if a not in mine]
        ask = [a for a in listed if a not in self._elsewhere]
        tasks, unknown = self._described(ask) if ask else ([], [])
        self._elsewhere.update(str(t["taskArn"]) for t in tasks if t.get("group") != self.group)
        return running_in(tasks, self.group), unknown

    def _described(self, arns_: Sequence[str]) -> tuple[Tasks, list[str]]:
        """The tasks DescribeTasks describes, and the ARNs it left out (MISSING, or a batch it could not read)."""
        tasks, _missing = self.asker.cancel.call(lambda: self.ecs.describe_tasks(self.cluster, arns_))
        known = {str(t.get("taskArn")) for t in tasks}
        return tasks, [a for a in arns_ if a not in known]


def _unknown(arns_: Sequence[str]) -> str:
    return (f"DescribeTasks did not describe {len(arns_)} of the tasks ListTasks lists (MISSING: ECS may not know "
            "them yet)")  # fmt: skip
