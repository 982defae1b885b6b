"""The end-to-end measurements: each plays task lives in the sandbox and runs the CLIs against them."""

from __future__ import annotations

import itertools
import json
import random
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from bench.procs import AWS, AwsScript, Proc, ours
from bench.report import Row, check
from bench.stats import groups, med_p95, median, rate
from bench.world import CONTAINER, SIDECAR, World, every, life, mentions, with_sidecar
from sandbox import FARGATE_TEARDOWN, Call, Container

WARM_UP = 4.0  # seconds after RUNNING before the per-minute window opens (skips start-up transients)
ROUND_GAP = 0.3  # calls closer than this belong to one poll / read round

T = TypeVar("T")


@dataclass(frozen=True)
class Config:
    runs: int
    latency: float
    quick: bool
    prev: Path | None = None  # sources of a previous commit, run with the same venv
    prev_name: str = ""

    @property
    def cost_seconds(self) -> float:
        return 30.0 if self.quick else 120.0


@dataclass
class Startup:
    ours: list[float] = field(default_factory=list)
    aws: list[float] = field(default_factory=list)
    rss_kib: list[int] = field(default_factory=list)  # our peak RSS in runs with logs off


def known(value: T | None, what: str) -> T:
    """The value, or a clear error naming what the sandbox did not record."""
    if value is None:
        raise RuntimeError(f"the sandbox did not record {what}")
    return value


def first_call_after(w: World, t: float) -> float | None:
    calls = w.calls(since=t)
    return min(c.t for c in calls) - t if calls else None


def newest(w: World, family: str) -> str:
    return w.task_arns(family)[-1]


def _run_ours(
    w: World, fam: str, timeout: float, *, logs: bool, src: Path | None = None, extra: tuple[str, ...] = ()
) -> Proc:
    p = ours(w.env, fam, logs=logs, src=src, extra=extra).start()
    try:
        ex = p.wait(timeout)
        if ex.status != 0:
            raise RuntimeError(f"ecs-run-task exited {ex.status}: {p.stderr()}")
    finally:
        p.close()
    return p


# -- exit detection and start-up ------------------------------------------------------------------------
def exit_detection(w: World, cfg: Config, startup: Startup) -> list[Row]:
    """Time from the deciding container's exit (as the sandbox records it) to the process's exit, with
    Fargate's teardown after it (DEACTIVATING 0.5 s, STOPPING 1 s, DEPROVISIONING 20 s), over task lives
    whose end falls at a random phase of either tool's polling (RUNNING 1 s + uniform 0..6 s, the same lives
    for both)."""
    rng = random.Random(7)  # noqa: S311 - reproducible phases, not secrecy
    off: list[float] = []
    on: list[float] = []
    script: list[float] = []
    waiter: list[float] = []
    prev_off: list[float] = []
    prev_on: list[float] = []
    for k in range(cfg.runs):
        running = 1.0 + rng.uniform(0.0, 6.0)
        fam = w.family("exit", life(running, every(0.5, running, f"D{k:03d}-"), teardown=FARGATE_TEARDOWN))
        for logs, into in ((False, off), (True, on)):
            p = _run_ours(w, fam, running + 60, logs=logs)
            exited = known(w.exited_at(newest(w, fam)), "the container's exit")
            into.append(known(p.exited, "exit").t - exited)
            if not logs:
                startup.rss_kib.append(known(p.exited, "exit").maxrss_kib)
            first = first_call_after(w, p.spawned)
            if first is not None:
                startup.ours.append(first)
        if cfg.prev is not None:
            for logs, into in ((False, prev_off), (True, prev_on)):
                p = _run_ours(w, fam, running + 60, logs=logs, src=cfg.prev)
                exited = known(w.exited_at(newest(w, fam)), "the container's exit")
                into.append(known(p.exited, "exit").t - exited)
        s = AwsScript(w.env, fam).start().wait(running + 180)
        if s.exit_code != "0":
            raise RuntimeError(f"the AWS CLI script read exit code {s.exit_code!r}")
        exited = known(w.exited_at(s.arn), "the container's exit")
        script.append(s.ended - exited)
        waiter.append(s.waited - exited)
        first = first_call_after(w, s.spawned)
        if first is not None:
            startup.aws.append(first)
        print(f"  exit detection run {k + 1}/{cfg.runs}: off {off[-1]:.2f} s, on {on[-1]:.2f} s, "
              f"AWS CLI {script[-1]:.2f} s", flush=True)  # fmt: skip
    speedup = median(script) / median(off)
    rows = [
        Row("exit detection", "container exit -> exit, 20 s DEPROVISIONING, logs off (median / p95)", med_p95(off),
            med_p95(script), "<= 2 s", check(median(off), 2.0)),
        Row("exit detection", "container exit -> exit, logs on, drain included (it reads 5 s past the exit, for the "
            "lines CloudWatch shows late)", med_p95(on), "(no logs)", "<= 6 s", check(median(on), 6.0)),
        Row("exit detection", "AWS CLI script / ours, logs off (medians)", f"{speedup:.1f}x faster",
            f"waiter alone {med_p95(waiter)}", ">= 5x", check(speedup, 5.0, at_most=False)),
    ]  # fmt: skip
    if cfg.prev is not None:
        rows += [
            Row("exit detection", f"logs off, previous commit {cfg.prev_name}", med_p95(prev_off)),
            Row("exit detection", f"logs on, previous commit {cfg.prev_name}", med_p95(prev_on)),
        ]
    return rows


def sidecar(w: World, cfg: Config) -> list[Row]:
    """The deciding container is not essential and an essential sidecar runs on: the task never stops by
    itself. Ours decides at the container's exit and stops the rest; the AWS CLI's waiter polls until it
    gives up (its own model says how long), so that side is read from the installed AWS CLI, not waited out.
    With logs on, the drain's 5 s run from the exit as first seen: ECS gives no exit time for a container that is
    not essential (for an essential one, the task's stoppingAt)."""
    took: dict[bool, list[float]] = {False: [], True: []}
    for k in range(max(2, cfg.runs)):
        running = 1.5 + 0.7 * k
        fam = w.family("sidecar", with_sidecar(running, every(0.5, running, f"E{k:03d}-")),
                       containers=(Container(CONTAINER, essential=False), Container(SIDECAR)))  # fmt: skip
        for logs in (False, True):
            p = _run_ours(w, fam, running + 60, logs=logs, extra=("--container", CONTAINER))
            exited = known(w.exited_at(newest(w, fam)), "the container's exit")
            took[logs].append(known(p.exited, "exit").t - exited)
    delay, attempts = waiter_limits()
    never = f"never: its waiter gives up after {delay * attempts / 60:.0f} min ({attempts} polls x {delay} s)"
    return [
        Row("exit detection", "non-essential deciding container, essential sidecar runs on: exit -> exit, logs off",
            med_p95(took[False]), f"{never} and the script fails", "<= 3 s", check(median(took[False]), 3.0)),
        Row("exit detection", "the same, logs on, drain included (its 5 s from the exit as first seen)",
            med_p95(took[True]), "(no logs)"),
    ]  # fmt: skip


def waiter_limits() -> tuple[int, int]:
    """`aws ecs wait tasks-stopped`: its delay and attempts, from the waiter model the AWS CLI installed (it
    carries its own copy of botocore's data)."""
    [model] = sorted(AWS.parent.parent.glob("lib/python*/site-packages/**/data/ecs/*/waiters-2.json"))[-1:]
    waiter = json.loads(model.read_text())["waiters"]["TasksStopped"]
    return int(waiter["delay"]), int(waiter["maxAttempts"])


def startup_rows(startup: Startup, help_ours: list[float], help_aws: list[float]) -> list[Row]:
    rss = f"{median([x / 1024 for x in startup.rss_kib]):.0f} MiB" if startup.rss_kib else "n/a"
    return [
        Row("log throughput", "peak RSS, a short run with logs off (median)", rss),
        Row("start-up", "process start -> first API call (run-task for the AWS CLI)", med_p95(startup.ours),
            med_p95(startup.aws), "<= 0.5 s", check(median(startup.ours), 0.5)),
        Row("start-up", "`--help` wall time (AWS CLI: `aws --version`)", med_p95(help_ours), med_p95(help_aws)),
    ]  # fmt: skip


# -- API cost and log latency -----------------------------------------------------------------------------
_NUMBERED = re.compile(rb"^([A-Z])(\d{6})$")


def printed(p: Proc, tag: str) -> dict[str, list[float]]:
    """Each numbered line of this tag that the process printed -> the times it was read."""
    seen: dict[str, list[float]] = {}
    want = tag.encode()
    for t, raw in p.lines:
        text = raw.strip()
        m = _NUMBERED.match(text)
        if m and m.group(1) == want:
            seen.setdefault(text.decode(), []).append(t)
    return seen


@dataclass
class Flow:
    """One of our runs with numbered lines: API calls while RUNNING, line delays, losses."""

    per_min_describe: float
    per_min_logs: float
    per_min_all: float
    totals: dict[str, int]
    delays: list[float]
    lost: int
    duplicated: int
    written: int
    logs_per_round: float
    window: float


def flow(w: World, p: Proc, fam: str, lines: list[tuple[float, str]], exclude: list[str]) -> Flow:
    exited = known(p.exited, "exit")
    arn = newest(w, fam)
    t_run = known(w.arrivals.get(lines[0][1]), "the first line's arrival")
    stopped = known(w.exited_at(arn), "the container's exit")
    mine = [
        c
        for c in w.calls(p.spawned, exited.t)
        if not mentions(c, exclude) and c.body.get("taskDefinition") != "costcli"
    ]
    lo, hi = t_run + WARM_UP, stopped
    in_window = [c for c in mine if lo <= c.t <= hi]
    describe = sum(1 for c in in_window if c.name == "DescribeTasks")
    reads = [c.t for c in in_window if c.name == "GetLogEvents"]
    totals: dict[str, int] = {}
    for c in mine:
        totals[c.name] = totals.get(c.name, 0) + 1
    seen = printed(p, lines[0][1][0])
    delays = []
    for message, times in seen.items():
        arrived = w.arrivals.get(message)
        if arrived is not None:
            delays.append(times[0] - arrived)
    rounds = groups(reads, ROUND_GAP)
    return Flow(
        per_min_describe=rate(describe, hi - lo),
        per_min_logs=rate(len(reads), hi - lo),
        per_min_all=rate(len(in_window), hi - lo),
        totals=totals,
        delays=delays,
        lost=len({m for _, m in lines} - set(seen)),
        duplicated=sum(len(ts) - 1 for ts in seen.values()),
        written=len(lines),
        logs_per_round=len(reads) / len(rounds) if rounds else float("nan"),
        window=hi - lo,
    )


def _totals(t: dict[str, int]) -> str:
    main = ", ".join(f"{k} {v}" for k, v in sorted(t.items(), key=lambda kv: -kv[1]))
    return f"{sum(t.values())} ({main})"


def api_cost(w: World, cfg: Config) -> list[Row]:
    """A task RUNNING `cost_seconds` with 10 lines a second; the AWS CLI script follows a twin task at the
    same time (its calls are told apart by task ARN)."""
    running = cfg.cost_seconds
    lines = every(0.1, running, "L")
    fam = w.family("cost", life(running, lines))
    twin = w.family("costcli", life(running, every(1.0, running, "C")))
    s = AwsScript(w.env, twin).start()
    deadline = time.monotonic() + 30
    while not s.arn and not s.error and time.monotonic() < deadline:
        time.sleep(0.05)
    if not s.arn:
        raise RuntimeError(f"the AWS CLI script did not start its task: {s.error}")
    p = _run_ours(w, fam, running + 90, logs=True)
    s.wait(running + 90)
    f = flow(w, p, fam, lines, exclude=[s.arn])
    # the AWS CLI's calls while its twin ran
    t_run = known(w.arrivals.get("C000000"), "the twin's first line")
    stopped = known(w.exited_at(s.arn), "the twin's exit")
    cli_calls = [c for c in w.calls(s.spawned, s.ended) if mentions(c, [s.arn]) or c.body.get("taskDefinition") == twin]
    cli_window = [c for c in cli_calls if t_run + WARM_UP <= c.t <= stopped]
    cli_rate = rate(len(cli_window), stopped - t_run - WARM_UP)
    label = f"{running:.0f} s"
    rows = [
        Row("API cost", f"DescribeTasks / min while RUNNING (10 lines/s, {f.window:.0f} s window)",
            f"{f.per_min_describe:.1f}", f"{cli_rate:.1f}"),
        Row("API cost", "GetLogEvents / min while RUNNING", f"{f.per_min_logs:.1f}", "(no logs)"),
        Row("API cost", "API calls / min per task while RUNNING", f"{f.per_min_all:.1f}", f"{cli_rate:.1f}",
            "<= 40", check(f.per_min_all, 40)),
        Row("API cost", "GetLogEvents per read round while lines flow", f"{f.logs_per_round:.2f}"),
        Row("API cost", f"calls in total, {label} task with 10 lines/s", _totals(f.totals), _totals(_count(cli_calls))),
    ]  # fmt: skip
    if running != 120:
        scaled = sum(f.totals.values()) + f.per_min_all * (120 - running) / 60
        rows.append(Row("API cost", "calls in total, 2-minute task (scaled from the window rate)", f"~{scaled:.0f}"))
    rows += [
        Row("log latency", "CloudWatch arrival -> printed, 10 lines/s (median / p95)", med_p95(f.delays), "(no logs)",
            "<= 1.5 s", check(median(f.delays), 1.5)),
        Row("log latency", "lines written / lost / printed twice", f"{f.written} / {f.lost} / {f.duplicated}",
            "", "0 lost, 0 twice", f.lost == 0 and f.duplicated == 0),
    ]  # fmt: skip
    if cfg.prev is not None:
        pp = _run_ours(w, fam, running + 90, logs=True, src=cfg.prev)
        pf = flow(w, pp, fam, lines, exclude=[])
        rows += [
            Row("API cost", f"API calls / min while RUNNING, previous commit {cfg.prev_name}", f"{pf.per_min_all:.1f}"),
            Row("log latency", f"10 lines/s, previous commit {cfg.prev_name}", med_p95(pf.delays)),
        ]
    return rows


def _count(calls: Sequence[Call]) -> dict[str, int]:
    out: dict[str, int] = {}
    for c in calls:
        out[c.name] = out.get(c.name, 0) + 1
    return out


def sparse(w: World, cfg: Config) -> list[Row]:
    """A quiet task: one line every 5 s. Shows what the log back-off costs in delay and saves in calls."""
    running = 20.0 if cfg.quick else 60.0
    lines = every(5.0, running, "S", start=0.2)
    fam = w.family("sparse", life(running, lines))
    p = _run_ours(w, fam, running + 90, logs=True)
    f = flow(w, p, fam, lines, exclude=[])
    return [
        Row("API cost", f"API calls / min while RUNNING, 1 line / 5 s ({f.window:.0f} s window)",
            f"{f.per_min_all:.1f} (DescribeTasks {f.per_min_describe:.1f})", "", "<= 40", check(f.per_min_all, 40)),
        Row("log latency", "arrival -> printed, 1 line / 5 s (median / p95)",
            f"{med_p95(f.delays)}; {f.lost} lost, {f.duplicated} twice", "", "<= 1.5 s", check(median(f.delays), 1.5)),
    ]  # fmt: skip


def count_five(w: World, cfg: Config) -> list[Row]:
    """--count 5: every poll must describe all five tasks in one DescribeTasks call."""
    running = 6.0
    fam = w.family("five", life(running, every(0.5, running, "F")))
    p = _run_ours(w, fam, running + 60, logs=True, extra=("--count", "5"))
    calls = w.calls(p.spawned, known(p.exited, "exit").t)
    describes = [c for c in calls if c.name == "DescribeTasks"]
    polls = groups([c.t for c in describes], ROUND_GAP)
    per_poll = max(len(g) for g in polls) if polls else 0
    sizes = [len(c.body.get("tasks", [])) for c in describes]
    reads = groups([c.t for c in calls if c.name == "GetLogEvents"], ROUND_GAP)
    read_calls = sum(len(g) for g in reads)
    return [
        Row("API cost", "DescribeTasks per poll, --count 5 (most in any poll)",
            f"{per_poll} ({len(describes)} calls, {len(polls)} polls, {min(sizes, default=0)}-{max(sizes, default=0)} tasks each)",
            "", "<= 2 (1 expected)", per_poll <= 2 if polls else None),
        Row("API cost", "GetLogEvents per read round, --count 5 (5 streams)",
            f"{read_calls / len(reads):.1f}" if reads else "n/a"),
    ]  # fmt: skip


def burst(w: World, cfg: Config) -> list[Row]:
    """Lines written all at once: end-to-end lines/s (first to last printed) and our peak RSS, at two sizes to
    see whether memory grows with the line count."""
    out: dict[int, tuple[float, int, float, int]] = {}
    pacing: dict[int, str] = {}
    filler = " GET /api/v1/items?page=2 200 12.3ms user=bench request_id=4f1c2a"
    for n in (20_000, 200_000):
        lines = [(0.5, f"B{i:06d}{filler}") for i in range(n)]
        fam = w.family(f"burst{n}", life(12.0, lines))
        p = _run_ours(w, fam, 180, logs=True)
        exited = known(p.exited, "exit")
        times = [t for t, raw in p.lines if raw.startswith(b"B") and raw[1:7].isdigit()]
        arrived = w.arrivals.get(lines[-1][1])
        span = times[-1] - times[0] if len(times) > 1 else float("nan")
        first_delay = times[0] - arrived if arrived is not None and times else float("nan")
        out[n] = ((len(times) - 1) / span, exited.maxrss_kib, first_delay, len(times))
        reads = groups([c.t for c in w.calls(p.spawned, exited.t) if c.name == "GetLogEvents"], 1.0)
        pauses = [b[0] - a[-1] for a, b in itertools.pairwise(reads)]
        pacing[n] = (
            f"{len(reads)} rounds of {median([len(r) for r in reads]):.0f} pages, {median(pauses):.2f} s between"
        )
        print(f"  burst of {n}: {out[n][0]:,.0f} lines/s, {out[n][1] / 1024:.0f} MiB", flush=True)
    big, small = out[200_000], out[20_000]
    growth = big[1] / small[1]
    return [
        Row("log throughput", "200,000-line burst: lines/s, first to last printed", f"{big[0]:,.0f} lines/s",
            "", "", None),
        Row("log throughput", "burst: lines printed (of 200,000 / 20,000)", f"{big[3]:,} / {small[3]:,}", "",
            "all", big[3] == 200_000 and small[3] == 20_000),
        Row("log throughput", "burst: first line printed after the write", f"{big[2]:.2f} s"),
        Row("log throughput", "burst: GetLogEvents read rounds (200,000 lines)", pacing[200_000]),
        Row("log throughput", "peak RSS, 200,000 vs 20,000-line burst", f"{big[1] / 1024:.0f} MiB vs "
            f"{small[1] / 1024:.0f} MiB (x{growth:.2f})", "", "flat (<= x1.5)", growth <= 1.5),
    ]  # fmt: skip


def fleet(w: World, cfg: Config) -> list[Row]:
    """Forty runs at once in one account under a 10/s GetLogEvents quota (the strictest quoted; 25/s is the
    usual one), 300 lines each: every line printed (throttled is not quiet: refused reads extend the drain), or the
    run names the stream it could not finish."""
    runs, per_run = 40, 300
    w.sb.faults.quota("GetLogEvents", per_second=10.0)
    fam = w.family("fleet", life(6.0, every(0.02, 6.0, "Q")))
    procs = [ours(w.env, fam, logs=True).start() for _ in range(runs)]
    try:
        for p in procs:
            if p.wait(180).status != 0:
                raise RuntimeError(f"a fleet run exited {p.exited}: {p.stderr()}")
    finally:
        for p in procs:
            p.close()
        w.sb.faults.clear()
        w.sb.faults.latency(cfg.latency)
    lost = said = 0
    delays: list[float] = []
    for p in procs:
        seen = printed(p, "Q")
        missing = per_run - len(seen)
        told = any(b"may be incomplete" in raw for _, raw in p.lines)
        lost += 0 if told else missing
        said += missing if told else 0
        delays += [ts[0] - a for m, ts in seen.items() if (a := w.arrivals.get(m)) is not None]
    throttled = sum(1 for c in w.sb.calls() if c.name == "GetLogEvents" and c.fault == "throttle")
    return [
        Row("log latency", f"fleet: {runs} runs at once, GetLogEvents quota 10/s, {per_run} lines each: lines lost "
            "silently / named as possibly missing", f"{lost} / {said} of {runs * per_run} ({throttled} reads throttled)",
            "", "0 / 0: every line", lost == 0 and said == 0),
        Row("log latency", "fleet: arrival -> printed (median / p95)", med_p95(delays)),
    ]  # fmt: skip
