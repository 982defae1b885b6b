"""Every line, or a word: CloudWatch shows a line some time after it was written (the sandbox's `log_lag`: the
line keeps its own timestamp, its ingestionTime is when it became visible). A deciding container's last lines that
show up 3-4 s after its exit are printed everywhere (the log, its last lines, log-file, the annotation, the
summary); lines that show up after log-drain are named as possibly missing, with the link; a stream whose lines
all show up late is read as late as they come."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sandbox import ContainerScript, Sandbox, Step
from tests.helpers import Record, count_lines, launch, outputs, register
from tests.workflow_commands import commands, file_command

EARLY = [(0.0, "== 20260101 CreateUsers: migrating"), (0.1, "-- create_table(:users)")]
LAST = [(1.0, "ERROR: relation users already exists"), (1.01, "rake aborted!")]
RUNNING = 1.05  # the container exits then, just after writing its last two lines


def migration(sb: Sandbox) -> None:
    register(sb, life=[Step("PROVISIONING", 0.05), Step("PENDING", 0.05), Step("RUNNING", RUNNING)],
             web=ContainerScript(exit_code=1, lines=EARLY + LAST))  # fmt: skip


def lag_the_last_lines(sb: Sandbox, lag: float) -> str:
    """Once the early lines are visible, CloudWatch turns slow: the last two show up `lag` s after they are written,
    so (lag - 0.05) s after the container's exit. The task's ARN."""
    arn = sb.wait_for_any_task(timeout=30)
    sb.wait_for_log_lines(arn, "web", len(EARLY), timeout=30)
    sb.consistency.log_lag = lag
    return arn


@pytest.mark.parametrize("lag", [3.05, 4.05])
def test_the_last_lines_shown_3_to_4s_after_the_exit_are_printed_everywhere(
    sandbox: Sandbox, tmp_path: Path, record_property: Record, lag: float
) -> None:
    record_property("fault", "late log lines")
    migration(sandbox)
    files = {name: tmp_path / name.lower() for name in ("GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY", "GITHUB_STATE")}
    for path in files.values():
        path.touch()
    log_file = tmp_path / "migrate.log"
    env = {"GITHUB_ACTIONS": "true", **{k: str(v) for k, v in files.items()}}
    proc = launch(sandbox, "--format", "github", "--log-file", str(log_file), env=env)
    arn = lag_the_last_lines(sandbox, lag)
    out, _ = proc.communicate(timeout=60)
    written = [m for _, m in EARLY + LAST]
    assert sandbox.log_lines(arn, "web") == written  # the driver: every line written, and visible by now
    count_lines(record_property, written, out.splitlines())
    assert proc.returncode == 1, out
    assert [line for line in out.splitlines() if line in written] == written  # the log, in order, once each
    [error] = [c for c in commands(out) if c.name == "error"]  # the annotation, with the last lines
    assert error.message.endswith("The last lines of container web:\n" + "\n".join(written))
    assert log_file.read_text().splitlines() == written
    summary = files["GITHUB_STEP_SUMMARY"].read_text()
    assert "ERROR: relation users already exists\nrake aborted!" in summary
    assert file_command(files["GITHUB_OUTPUT"].read_text())["status"] == "failed"
    assert "may be incomplete" not in out


def test_the_last_lines_in_plain_output_are_in_the_failures_last_lines(
    sandbox: Sandbox, tmp_path: Path, record_property: Record
) -> None:
    record_property("fault", "late log lines")
    migration(sandbox)
    proc = launch(sandbox, "--format", "plain", "--dotenv", str(tmp_path / "out.env"))
    lag_the_last_lines(sandbox, 4.05)
    out, _ = proc.communicate(timeout=60)
    count_lines(record_property, [m for _, m in EARLY + LAST], out.splitlines())
    assert proc.returncode == 1, out
    after = out.split("ecs-run-task: the last lines of container web:\n", 1)[1].splitlines()
    tail = [line for line in after if line.startswith("  ")]
    assert tail == [f"  {m}" for _, m in EARLY + LAST]
    assert outputs(tmp_path / "out.env")["STATUS"] == "failed"


def test_lines_shown_after_log_drain_are_named_as_possibly_missing_with_the_link(
    sandbox: Sandbox, tmp_path: Path, record_property: Record
) -> None:
    """log-drain 2s, and the last lines show up 4 s after the exit: not printed, and the result says so."""
    record_property("fault", "late log lines")
    migration(sandbox)
    proc = launch(sandbox, "--format", "json", "--log-drain", "2s", "--dotenv", str(tmp_path / "out.env"))
    lag_the_last_lines(sandbox, 4.05)
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 1, out
    events = [json.loads(line) for line in out.splitlines()]
    printed = [e["message"] for e in events if e["event"] == "log"]
    assert printed == [m for _, m in EARLY]  # the last two came after the drain
    [result] = [e for e in events if e["event"] == "outputs"]
    [warning] = result["warnings"]
    assert warning.startswith("container web: the log shown may be incomplete: --log-drain (2s) ended the reading ")
    assert (
        "CloudWatch may show a line up to 5s after; the full log: https://us-east-1.console.aws.amazon.com/" in warning
    )
    assert result["status"] == "failed"
    named = [m for _, m in LAST]  # not printed, but said to be possibly missing: none lost silently
    count_lines(record_property, [m for _, m in EARLY + LAST], printed + named)


def test_log_drain_0_reads_once_and_names_what_may_still_come(sandbox: Sandbox, record_property: Record) -> None:
    """log-drain 0s: no wait after the exit, but one read of what CloudWatch shows, and a word for the rest."""
    record_property("fault", "late log lines")
    migration(sandbox)
    proc = launch(sandbox, "--format", "json", "--log-drain", "0s")
    lag_the_last_lines(sandbox, 3.05)
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 1, out
    events = [json.loads(line) for line in out.splitlines()]
    printed = [e["message"] for e in events if e["event"] == "log"]
    [result] = [e for e in events if e["event"] == "outputs"]
    [warning] = result["warnings"]
    assert warning.startswith("container web: the log shown may be incomplete: --log-drain (0s) ended the reading ")
    assert printed[: len(EARLY)] == [m for _, m in EARLY]  # what CloudWatch showed at the exit
    assert set(printed) <= {m for _, m in EARLY + LAST}
    named = [m for _, m in LAST if m not in printed]  # said to be possibly missing: none lost silently
    count_lines(record_property, [m for _, m in EARLY + LAST], printed + named)


def test_a_stream_whose_lines_all_show_up_6s_late_is_read_until_they_have(
    sandbox: Sandbox, tmp_path: Path, record_property: Record
) -> None:
    """CloudWatch slow throughout: every line shows up 6 s after it was written, past the 5 s the drain waits by
    default. The lines read during the run carry their ingestionTime: the drain waits as long as they took."""
    record_property("fault", "late log lines")
    sandbox.consistency.log_lag = 6.0
    lines = [(i * 0.5, f"step {i}") for i in range(3)] + [(3.9, "step 3")]  # the last shows up 5.9 s past the exit
    register(sandbox, life=[Step("PROVISIONING", 0.05), Step("RUNNING", 4.0)], web=ContainerScript(0, lines=lines))
    proc = launch(sandbox, "--format", "plain", "--dotenv", str(tmp_path / "out.env"))
    out, _ = proc.communicate(timeout=60)
    count_lines(record_property, [m for _, m in lines], out.splitlines())
    assert proc.returncode == 0, out
    assert [line for line in out.splitlines() if line.startswith("step ")] == [m for _, m in lines]
    assert "may be incomplete" not in out
