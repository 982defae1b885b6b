"""python -m bench [--runs N] [--latency 0.04] [--quick]: run everything, print the table, write the doc."""

from __future__ import annotations

import argparse
import importlib.util
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV_PYTHON = ROOT / ".venv" / "bin" / "python"


def _reexec_in_venv() -> None:
    """`python -m bench` from any interpreter: the sandbox (moto) and our package live in .venv."""
    if all(importlib.util.find_spec(m) is not None for m in ("moto", "ecs_run_task")):
        return
    if VENV_PYTHON.exists() and Path(sys.prefix).resolve() != VENV_PYTHON.parent.parent.resolve():
        os.execv(VENV_PYTHON, [str(VENV_PYTHON), "-m", "bench", *sys.argv[1:]])  # noqa: S606
    raise SystemExit("bench: needs moto and ecs_run_task: create .venv first (see README.md)")


_reexec_in_venv()

from bench import image, renderer, report, scenarios  # noqa: E402
from bench.procs import AWS, OURS, ensure_awscli, wall  # noqa: E402
from bench.report import Row  # noqa: E402
from bench.world import World  # noqa: E402

NOTES = [
    "Sandbox latency: every recorded call waits `--latency` seconds before moto answers. Call times are their"
    " arrival at the sandbox; our CLI runs as `.venv/bin/ecs-run-task --cluster Sample -t FAMILY"
    " --poll-interval 2s --logs true|false --format plain` with PYTHONUNBUFFERED=1, stdout read line by line"
    " and stamped with time.monotonic() in the benchmark process.",
    "Exit detection: the sandbox's monotonic time of the deciding container's exit to the moment os.waitpid"
    " returns for our process (reaped by the thread that reads its stdout). Task lives: PROVISIONING 0.2 s,"
    " PENDING 0.5 s, RUNNING 1 s + uniform(0, 6) s (seeded, the same lives for every tool), a line every"
    " 0.5 s; then ECS's stop sequence with Fargate-like delays: DEACTIVATING 0.5 s, STOPPING 1 s,"
    " DEPROVISIONING 20 s. The AWS CLI script is `aws ecs run-task`, then `aws ecs wait tasks-stopped` (polls"
    " every 6 s), then `aws ecs describe-tasks --query tasks[0].containers[0].exitCode`; its figure ends when"
    " describe-tasks exits ('waiter alone': when the waiter exits). Sidecar: the deciding container is not"
    " essential, an essential sidecar never exits by itself; ours runs with --container web.",
    "API cost: calls counted from the first line's arrival + 4 s (start-up transients skipped) to the container's exit. The"
    " AWS CLI script follows a twin task at the same time; calls are told apart by task ARN / stream name."
    " 'Per read round': GetLogEvents calls closer than 0.3 s to each other form one round.",
    "Log latency: each numbered line's arrival in moto's CloudWatch store (timestamped just after the write"
    " returns, by wrapping the sandbox's LogWriter) to the moment the benchmark read it from our stdout.",
    "Burst: all lines written in one go 0.5 s into RUNNING (RUNNING lasts 12 s, the rest is drained after"
    " the exit); lines/s from the first to the last line read. Peak RSS: VmHWM from /proc/PID/status polled every"
    " 10 ms (os.wait4's ru_maxrss would include this moto-laden parent's ~240 MB, carried across fork+exec)."
    " moto itself serves about 60,000 lines/s over HTTP on this kind of machine, which caps this figure.",
    "Fleet: the runs start together against one sandbox whose GetLogEvents answers ThrottlingException beyond an"
    " account-wide token bucket of 10 calls a second; each task writes a numbered line every 20 ms for 6 s."
    " 'Named as possibly missing': lines of a run whose result said its log may be incomplete, with the link.",
    "Renderer alone: `Plain(out).log_lines(lines)` (and GitHub) with 200,000 LogLines built beforehand, timed"
    " with perf_counter in the benchmark process; memory: tracemalloc peak while feeding pages of 10,000.",
    "Start-up: spawn of the process to the first call the sandbox records (samples from the exit-detection"
    " runs); `--help` is the wall time of `ecs-run-task --help`. The image figure adds container creation.",
    "Numbers from a busy 2-core machine move by tens of percent between runs; medians are what the targets"
    " are checked on.",
]


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    ap.add_argument(
        "--runs", type=int, default=None, help="runs per exit-detection / start-up figure (default 10, quick 3)"
    )
    ap.add_argument("--latency", type=float, default=0.04, help="seconds the sandbox adds to every call (default 0.04)")
    ap.add_argument("--quick", action="store_true", help="30 s instead of 2-minute tasks, fewer runs: under 4 minutes")
    ap.add_argument(
        "--prev", metavar="REV", help="also run a previous commit's src/ (git archive) for stop detection and API cost"
    )
    ap.add_argument("--no-docker", action="store_true", help="skip the image measures")
    ap.add_argument("--build-image", action="store_true", help="docker build ecs-run-task:bench first")
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks.md")
    args = ap.parse_args(argv)
    raw_argv = list(argv if argv is not None else sys.argv[1:])
    runs = args.runs or (3 if args.quick else 10)
    load_start = " / ".join(f"{x:.2f}" for x in os.getloadavg())
    began = time.monotonic()
    ensure_awscli()

    with tempfile.TemporaryDirectory(prefix="bench-prev-") as tmp:
        prev = _export(args.prev, Path(tmp)) if args.prev else None
        _compile(ROOT / "src", prev)
        cfg = scenarios.Config(runs=runs, latency=args.latency, quick=args.quick, prev=prev, prev_name=args.prev or "")
        rows, notes = _run_all(cfg, args)

    elapsed = time.monotonic() - began
    print()
    print(report.table(rows))
    print(f"\n({elapsed:.0f} s; load average {load_start} at the start, now "
          f"{' / '.join(f'{x:.2f}' for x in os.getloadavg())})")  # fmt: skip
    doc = report.document(rows, [*NOTES, *notes], argv=raw_argv, load_start=load_start, elapsed=elapsed)
    report.write(args.out, doc)
    print(f"wrote {args.out.relative_to(ROOT) if args.out.is_relative_to(ROOT) else args.out}")
    return 0


def _compile(*sources: Path | None) -> None:
    """Bytecode for the sources measured, as `pip install` writes it: the editable dev install has none when
    PYTHONDONTWRITEBYTECODE is set (as on this machine), which would charge compiling to start-up."""
    for src in sources:
        if src is not None:
            subprocess.run([sys.executable, "-m", "compileall", "-q", str(src)], check=True)


def _export(rev: str, into: Path) -> Path:
    """A previous commit's src/, without touching the work tree or git's worktree list."""
    archive = subprocess.run(["git", "archive", rev, "src"], cwd=ROOT, capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into / "src"


def _step(name: str, fn: Callable[[], list[Row]], rows: list[Row]) -> None:
    print(f"bench: {name} ...", flush=True)
    t = time.monotonic()
    try:
        rows += fn()
    except Exception as e:  # one failed measure must not hide the others; the doc says it failed
        rows.append(Row(name, name, f"FAILED: {type(e).__name__}: {str(e)[:300]}", ok=False))
    print(f"bench: {name} done in {time.monotonic() - t:.0f} s", flush=True)


def _run_all(cfg: scenarios.Config, args: argparse.Namespace) -> tuple[list[Row], list[str]]:
    rows: list[Row] = []
    notes: list[str] = []
    startup = scenarios.Startup()
    with World(cfg.latency) as w:
        _step("exit detection", lambda: scenarios.exit_detection(w, cfg, startup), rows)
        _step("sidecar", lambda: scenarios.sidecar(w, cfg), rows)
        _step("API cost, 10 lines/s", lambda: scenarios.api_cost(w, cfg), rows)
        _step("API cost, quiet task", lambda: scenarios.sparse(w, cfg), rows)
        _step("API cost, --count 5", lambda: scenarios.count_five(w, cfg), rows)
        _step("fleet", lambda: scenarios.fleet(w, cfg), rows)
        _step("burst", lambda: scenarios.burst(w, cfg), rows)
        help_ours = [wall([str(OURS), "--help"]) for _ in range(cfg.runs)]
        help_aws = [wall([str(AWS), "--version"]) for _ in range(cfg.runs)]
        rows += scenarios.startup_rows(startup, help_ours, help_aws)
        if not args.no_docker:

            def img() -> list[Row]:
                found, note = image.measure(w, min(cfg.runs, 3), args.build_image)
                if note:
                    notes.append(f"Image: {note}.")
                return found

            _step("image", img, rows)
    _step("renderer", renderer.measure, rows)
    order = ["exit detection", "API cost", "log latency", "log throughput", "start-up", "image"]
    rows.sort(key=lambda r: order.index(r.section) if r.section in order else len(order))
    return rows, notes


if __name__ == "__main__":
    sys.exit(main())
