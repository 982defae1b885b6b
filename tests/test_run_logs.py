"""Log streaming end to end against the sandbox: every line once, in order, safely printed."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from ecs_run_task.engine.cadence import FLOWING_POLL_FACTOR
from ecs_run_task.printable import unmarked
from sandbox import Container, ContainerScript, Sandbox, Scripted, Step
from tests.helpers import Run, go, register
from tests.test_logs import HOSTILE
from tests.workflow_commands import commands


def test_every_line_arrives_once_in_order_including_lines_after_stopped(sandbox: Sandbox, run: Run) -> None:
    lines = [(i * 0.01, f"line {i}") for i in range(50)] + [(1.2, "written after STOPPED")]
    register(sandbox, running=0.6, web=ContainerScript(exit_code=0, lines=lines))
    ran = go(run)
    assert ran.code == 0
    printed = [line for line in ran.lines if line.startswith(("line ", "written"))]
    assert printed == [message for _, message in lines]


def test_json_format_gives_one_object_per_line_with_container_task_and_time(sandbox: Sandbox, run: Run) -> None:
    register(sandbox, running=0.3, web=ContainerScript(exit_code=0, lines=[(0.0, "hello")]))
    events = [json.loads(line) for line in go(run, "--format", "json").lines]
    [log] = [e for e in events if e["event"] == "log"]
    assert (log["container"], log["message"], log["task-arn"]) == ("web", "hello", sandbox.tasks()[0].arn)
    assert isinstance(log["timestamp"], int)


def test_a_stream_that_appears_10_seconds_late_is_waited_for(sandbox: Sandbox, run: Run) -> None:
    register(
        sandbox,
        running=11.0,
        web=ContainerScript(exit_code=0, lines=[(0.0, "early"), (10.5, "later")], stream_delay=10),
    )
    ran = go(run, "--poll-interval", "1s")
    assert [line for line in ran.lines if line in ("early", "later")] == ["early", "later"]


def test_a_stream_that_never_appears_is_named_with_what_to_check(sandbox: Sandbox, run: Run) -> None:
    """As when the log configuration names another prefix: the container ran, its stream is not where we read."""
    register(sandbox, running=0.3, web=ContainerScript(exit_code=0, lines=[(0.0, "lost")], stream_delay=600))
    ran = go(run, "--log-drain", "1s")
    assert ran.code == 0
    [task] = sandbox.tasks()
    assert (f"warning: container web: its log stream app/web/{task.arn.rsplit('/', 1)[-1]} never appeared in "
            "/ecs/app; check awslogs-group, awslogs-stream-prefix and awslogs-region") in ran.out  # fmt: skip
    register(sandbox, running=0.3, web=ContainerScript(exit_code=0))
    quiet = go(run)  # a stream that exists but stays empty is no such sign
    assert quiet.code == 0
    assert "never appeared" not in quiet.out


def test_two_containers_and_two_tasks_interleave_with_prefixes(sandbox: Sandbox, run: Run) -> None:
    script = [(i * 0.05, f"n{i}") for i in range(10)]
    register(sandbox, Container("web"), Container("worker"), running=0.8,
             web=ContainerScript(exit_code=0, lines=script), worker=ContainerScript(exit_code=0, lines=script))  # fmt: skip
    ran = go(run, "--count", "2")
    assert ran.code == 0
    for task in sandbox.tasks():
        short = task.arn.rsplit("/", 1)[-1][:8]
        for container in ("web", "worker"):
            prefix = f"[{container} {short}] "
            mine = [line.removeprefix(prefix) for line in ran.lines if line.startswith(prefix)]
            assert mine == [m for _, m in script], prefix


def test_throttling_a_third_of_log_reads_loses_nothing(sandbox: Sandbox, run: Run) -> None:
    lines = [(i * 0.002, f"row {i}") for i in range(300)]
    register(sandbox, running=1.0, web=ContainerScript(exit_code=0, lines=lines))
    sandbox.faults.throttle("GetLogEvents", 1 / 3, seed=7)
    ran = go(run)
    assert [line for line in ran.lines if line.startswith("row ")] == [m for _, m in lines]
    assert any(call.fault for call in sandbox.call_log("GetLogEvents"))


def test_a_container_without_awslogs_says_where_its_logs_are(sandbox: Sandbox, run: Run) -> None:
    register(sandbox, Container("web"), Container("router", essential=False, logs=False), running=0.2)
    ran = go(run)
    assert ran.code == 0
    assert "container router: its lines are not streamed here; it has no log configuration" in ran.out


def test_no_container_line_acts_as_a_workflow_command_on_github(sandbox: Sandbox, run: Run) -> None:
    register(sandbox, running=0.5, web=ContainerScript(exit_code=0, lines=[(0.0, line) for line in HOSTILE]))
    ran = go(run, "--format", "github")
    assert ran.code == 0
    assert {c.name for c in commands(ran.out)} == {"group", "endgroup"}  # only our own: the phase group
    for hostile in HOSTILE:  # as written, but for `##[`, which the log viewer would draw
        assert unmarked(hostile) in ran.lines


def test_json_error_lines_become_annotations_never_more_than_the_cap(sandbox: Sandbox, run: Run) -> None:
    errors = [(i * 0.01, json.dumps({"level": "error", "message": f"failure {i}"})) for i in range(25)]
    register(sandbox, running=0.5, web=ContainerScript(exit_code=1, lines=errors))
    ran = go(run, "--format", "github")
    assert ran.code == 1
    annotations = [c for c in commands(ran.out) if c.name == "error"]
    assert [a.message for a in annotations[:8]] == [f"failure {i}" for i in range(8)]
    assert len(annotations) == 9  # 8 from the logs, then the final failure: within the runner's 10
    assert annotations[-1].properties == {"title": "Container web exited with code 1"}
    assert "ERROR failure 24" in ran.lines


# Run the CLI and, at its exit, print its own peak RSS. Not rusage: Linux carries the parent's peak across
# fork and exec into the child's ru_maxrss, so the child's VmHWM is the honest figure.
_MEASURED = (
    "import atexit, sys\n"
    "def peak():\n"
    "    hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM:')][0].split()[1]\n"
    "    print(f'PEAK_RSS_KIB={hwm}', flush=True)\n"
    "atexit.register(peak)\n"
    "from ecs_run_task.cli import main\n"
    "sys.exit(main(sys.argv[1:]))\n"
)


def _run_measured(sb: Sandbox, lines: int) -> tuple[int, list[str]]:
    """Run the CLI as a process over a task that writes `lines` lines: its own peak RSS (KiB) and its lines."""
    register(sb, running=1.0, web=ContainerScript(exit_code=0, lines=[(0.0, f"{i:06d}") for i in range(lines)]))
    proc = subprocess.run(
        [sys.executable, "-c", _MEASURED, "--cluster", "Sample", "-t", "app", "--poll-interval", "500ms",
         "--format", "plain"],
        env={**os.environ, **sb.env}, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    [peak] = [int(line.split("=")[1]) for line in proc.stdout.splitlines() if line.startswith("PEAK_RSS_KIB=")]
    return peak, [line for line in proc.stdout.splitlines() if line.isdigit()]


def test_100000_lines_arrive_complete_in_order_with_flat_memory(sandbox: Sandbox) -> None:
    fewer_peak, _ = _run_measured(sandbox, 30_000)
    peak, printed = _run_measured(sandbox, 100_000)
    assert len(printed) == 100_000
    assert printed == [f"{i:06d}" for i in range(100_000)]  # in order, none lost, none twice
    # memory: bounded by a page of events (up to 10,000 lines / 1 MB), not by the line count. Both runs read
    # many full pages; keeping the 70,000 extra lines' text alone would add ~8 MiB.
    assert peak < fewer_peak + 4 * 1024, (fewer_peak, peak)


def test_status_is_polled_less_while_lines_flow(sandbox: Sandbox, run: Run) -> None:
    """Over HTTP; the policy itself (what happens when lines stop, back-off) is pinned in test_cadence.py."""
    lines = [(i * 0.1, f"tick {i}") for i in range(60)]  # 6 s of steady output, then 3 s of silence
    register(sandbox, running=9.0, web=ContainerScript(exit_code=0, lines=lines))
    ran = go(run, "--poll-interval", "500ms")
    assert ran.code == 0
    [task] = sandbox.tasks()
    running = sandbox.call_log("GetLogEvents")[0].t  # the stream is read once the container runs
    last_line = running + 6.0
    polls = [c.t for c in sandbox.call_log("DescribeTasks")]
    while_flowing = [t for t in polls if running + 1 < t < last_line - 1]
    assert len(while_flowing) <= 4 / (FLOWING_POLL_FACTOR * 0.5) + 1  # every 2 s, not every 0.5 s
    assert sandbox.stopped_at(task.arn) is not None


def test_on_gitlab_the_lines_sit_in_an_open_section_and_every_section_is_open(sandbox: Sandbox, run: Run) -> None:
    register(sandbox, running=0.3, web=ContainerScript(exit_code=0, lines=[(0.0, "migrating")]))
    lines = go(run, "--format", "gitlab").out.split("\n")  # not splitlines(): a section marker holds a \r
    name = ":waiting_for_the_task_status_and_logs\r"
    start = next(i for i, line in enumerate(lines) if name in line)
    end = next(i for i, line in enumerate(lines) if "section_end:" in line and name in line)
    assert start < lines.index("migrating") < end
    assert "[collapsed=true]" not in lines[start]
    assert any(":starting_task\r" in line for line in lines[:start])  # open: the task's ID and log link show
    assert not any("[collapsed=true]" in line for line in lines)


def test_on_github_each_phase_is_a_group_and_the_lines_sit_in_the_waiting_one(sandbox: Sandbox, run: Run) -> None:
    register(sandbox, running=0.3, web=ContainerScript(exit_code=0, lines=[(0.0, "migrating")]))
    lines = go(run, "--format", "github").lines
    groups = [i for i, line in enumerate(lines) if line.startswith(("::group::", "::endgroup::"))]
    assert [lines[i] for i in groups] == ["::group::Starting task", "::endgroup::",
                                          "::group::Waiting for the task: status and logs", "::endgroup::",
                                          "::group::Result", "::endgroup::"]  # fmt: skip
    assert groups[2] < lines.index("migrating") < groups[3]
    assert groups[4] < lines.index("ecs-run-task: status=succeeded exit-code=0") < groups[5]


def test_annotate_false_keeps_the_lines_but_annotates_only_the_failure(sandbox: Sandbox, run: Run) -> None:
    register(
        sandbox, running=0.3, web=ContainerScript(exit_code=1, lines=[(0.0, '{"level": "error", "message": "boom"}')])
    )
    ran = go(run, "--format", "github", "--annotate", "false")
    assert [c.properties.get("title") for c in commands(ran.out) if c.name == "error"] == [
        "Container web exited with code 1"
    ]
    assert "ERROR boom" in ran.lines


def test_json_logs_raw_prints_json_lines_as_the_task_wrote_them(sandbox: Sandbox, run: Run) -> None:
    written = '{"level": "error", "message": "boom", "request_id": "abc"}'
    register(sandbox, running=0.3, web=ContainerScript(exit_code=0, lines=[(0.0, written)]))
    assert written in go(run, "--json-logs", "raw").lines
    assert "ERROR boom request_id=abc" in go(run).lines  # pretty, the default


def test_an_ec2_task_without_a_stream_prefix_streams_its_lines_from_the_stream_named_by_its_container_id(
    sandbox: Sandbox, run: Run
) -> None:
    lines = [(0.0, "no prefix"), (0.1, "still streamed")]
    sandbox.register("app", [Container("web")], Scripted(steps=[Step("PENDING", 0.05), Step("RUNNING", 0.4)],
                     containers={"web": ContainerScript(exit_code=0, lines=lines)}), log_group="/ecs/app",
                     stream_prefix="")  # fmt: skip
    ran = go(run, "--launch-type", "EC2")
    assert ran.code == 0, ran.out
    assert [line for line in ran.lines if line in ("no prefix", "still streamed")] == ["no prefix", "still streamed"]
    assert "not streamed" not in ran.out
    [task] = sandbox.tasks()
    web = task.container("web")
    assert web.runtime_id is not None
    assert len(web.runtime_id) == 64
    assert web.log_stream == web.runtime_id  # as awslogs names it without a prefix
