"""Losing contact with AWS while a task runs is not the task failing: outages are ridden out until the
timeout, a quota shared by many runs never loses a line silently, and a task that can no longer be followed
ends `unknown`, never `failed-to-start`."""

from __future__ import annotations

import json
import subprocess
import threading
from collections import Counter
from pathlib import Path

import pytest

from sandbox import HOLD, Behaviour, Container, ContainerScript, Sandbox, Scripted, Step
from tests.helpers import Record, count_lines, launch, numbered, outputs, register

OUTAGE = 15.0


def follow(sb: Sandbox, tmp_path: Path, *args: str, name: str = "out") -> subprocess.Popen[str]:
    return launch(sb, "--poll-interval", "500ms", "--format", "plain", "--dotenv", str(tmp_path / f"{name}.env"), *args)


def test_a_15s_outage_of_every_call_mid_wait_is_ridden_out(
    sandbox: Sandbox, tmp_path: Path, record_property: Record
) -> None:
    lines = numbered(100, every=0.25)  # 25 s of output: the outage falls in the middle
    register(sandbox, running=27.0, web=ContainerScript(exit_code=4, lines=lines))
    proc = follow(sandbox, tmp_path)
    arn = sandbox.wait_for_any_task(timeout=30)
    sandbox.wait_for_log_lines(arn, "web", 10, timeout=30)
    sandbox.faults.outage(OUTAGE)
    out, _ = proc.communicate(timeout=120)
    printed = out.splitlines()
    count_lines(record_property, [m for _, m in lines], printed)
    assert proc.returncode == 4, out  # the task's own answer
    assert [line for line in printed if line.startswith("row ")] == [m for _, m in lines]  # each once, in order
    lost = [line for line in printed if line.startswith("ecs-run-task: warning: lost contact with AWS")]
    back = [line for line in printed if line.startswith("ecs-run-task: contact with AWS is back after")]
    assert len(lost) == 1, out
    assert len(back) == 1, out
    assert "503" in lost[0] or "ServerException" in lost[0]
    assert sandbox.calls("StopTask") == []  # a healthy task is not stopped for our lost contact
    assert outputs(tmp_path / "out.env")["STATUS"] == "failed"


def test_credentials_that_expire_mid_wait_end_unknown_with_the_task_named_and_the_fix(
    sandbox: Sandbox, tmp_path: Path, record_property: Record
) -> None:
    record_property("fault", "credentials expired")
    register(sandbox, life=[Step("PROVISIONING", 0.05), Step("RUNNING", HOLD)])
    proc = follow(sandbox, tmp_path)
    arn = sandbox.wait_for_any_task(timeout=30)
    sandbox.wait_for_status(arn, "RUNNING")
    sandbox.faults.deny("*", "ExpiredTokenException", "The security token included in the request is expired")
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 125, out
    got = outputs(tmp_path / "out.env")
    assert (got["STATUS"], got["TASK_ARN"], got["TASK_ID"]) == ("unknown", arn, arn.rsplit("/", 1)[-1])
    assert "StopTask failed, so the task may still be running" in out  # StopTask was refused too
    assert f"could not stop task {arn}" in out
    assert "/ecs/v2/clusters/Sample/tasks/" in out  # the console link to it
    assert "fix: Ask for a longer session, for example `role-duration-seconds`" in out
    assert sandbox.task(arn).last_status == "RUNNING"  # honest: it does run on
    sandbox.faults.clear()  # the user, told so, stops it by the console link (not an orphan of ours)
    sandbox.client("ecs").stop_task(cluster="Sample", task=arn)


def test_describe_tasks_denied_after_run_task_ends_unknown_and_the_task_is_stopped(
    sandbox: Sandbox, tmp_path: Path, record_property: Record
) -> None:
    record_property("fault", "access denied")
    register(sandbox, life=[Step("PROVISIONING", 0.05), Step("RUNNING", HOLD)])
    sandbox.faults.deny("DescribeTasks")
    proc = follow(sandbox, tmp_path)
    out, _ = proc.communicate(timeout=60)
    [task] = sandbox.tasks()
    assert proc.returncode == 125, out
    got = outputs(tmp_path / "out.env")
    assert (got["STATUS"], got["TASK_ARN"]) == ("unknown", task.arn)
    assert "AWS denied ecs:DescribeTasks" in out
    assert "the task was stopped" in out
    assert "fix: Grant `ecs:DescribeTasks` to the role this job runs as." in out
    sandbox.wait_for_status(task.arn, "STOPPED")


def test_many_runs_sharing_a_log_quota_print_every_line(
    sandbox: Sandbox, tmp_path: Path, record_property: Record
) -> None:
    """Twelve runs at once under an account-wide GetLogEvents quota of 3 calls a second: a quarter of a call a
    second each, as 40 runs sharing CloudWatch's 10 (the quota is the account's, whatever reads it). Throttled is not
    quiet: each run paces its reads and reads on past log-drain while they are refused, and prints every line."""
    runs, per_run = 12, 150
    record_property("runs", runs)
    behaviours: list[Behaviour] = [Scripted(steps=[Step("PROVISIONING", 0.05), Step("RUNNING", 3.0)],
                           containers={"web": ContainerScript(exit_code=0, lines=numbered(per_run, 0.01, f"r{k}"))})
                  for k in range(runs)]  # fmt: skip
    sandbox.register("app", [Container("web")], log_group="/ecs/app")
    sandbox.behave("app", behaviours)
    sandbox.faults.quota("GetLogEvents", per_second=3.0)
    outs: dict[int, str] = {}
    procs = [follow(sandbox, tmp_path, name=f"run{k}") for k in range(runs)]

    def collect(k: int) -> None:
        outs[k], _ = procs[k].communicate(timeout=180)

    readers = [threading.Thread(target=collect, args=(k,)) for k in range(runs)]
    for reader in readers:
        reader.start()
    for reader in readers:
        reader.join()
    by_task = {t.arn: sandbox.log_lines(t.arn, "web") for t in sandbox.tasks()}
    throttled = Counter(c.fault for c in sandbox.call_log("GetLogEvents"))["throttle"]
    assert throttled > 0  # the quota did bite
    for k, proc in enumerate(procs):
        assert proc.returncode == 0, outs[k]
        arn = outputs(tmp_path / f"run{k}.env")["TASK_ARN"]
        written = by_task[arn]
        printed = outs[k].splitlines()
        count_lines(record_property, written, printed)
        assert Counter(written) - Counter(printed) == Counter(), outs[k]  # every line, once the quota allowed it
        assert "may be incomplete" not in outs[k]


@pytest.mark.parametrize("fault", ["throttle", "deny"])
def test_a_stream_never_read_once_is_named_in_the_result_not_lost_silently(
    sandbox: Sandbox, tmp_path: Path, record_property: Record, fault: str
) -> None:
    """A short task under a quota it never gets a share of (or logs:GetLogEvents denied): not one read works. The
    outcome is the container's, and the result says its lines are missing, with the link to the full log."""
    record_property("fault", fault)
    register(sandbox, running=1.0, web=ContainerScript(exit_code=0, lines=numbered(20, every=0.02)))
    if fault == "throttle":
        sandbox.faults.throttle("GetLogEvents", 1.0)
    else:
        sandbox.faults.deny("GetLogEvents")
    proc = launch(sandbox, "--format", "json", "--log-drain", "2s", "--dotenv", str(tmp_path / "out.env"))
    out, _ = proc.communicate(timeout=90)
    assert proc.returncode == 0, out
    [result] = [e for e in map(json.loads, out.splitlines()) if e.get("event") == "outputs"]
    [warning] = result["warnings"]
    if fault == "throttle":
        assert warning.startswith("container web: the log shown may be incomplete: its last "), warning
    else:
        assert warning.startswith("container web: its lines could not be shown (AWS denied logs:GetLogEvents"), warning
    assert "/cloudwatch/home?region=us-east-1#logsV2:log-groups/log-group/" in warning
    assert outputs(tmp_path / "out.env")["STATUS"] == "succeeded"


def test_an_outage_that_lasts_to_the_timeout_ends_unknown_not_timed_out(
    sandbox: Sandbox, tmp_path: Path, record_property: Record
) -> None:
    """Whether the task finished while DescribeTasks failed is not known: the answer is `unknown`, the task is
    stopped all the same (StopTask still answers)."""
    record_property("fault", "error")
    register(sandbox, life=[Step("PROVISIONING", 0.05), Step("RUNNING", HOLD)])
    proc = follow(sandbox, tmp_path, "--timeout", "6s")
    arn = sandbox.wait_for_any_task(timeout=30)
    sandbox.wait_for_status(arn, "RUNNING")
    sandbox.faults.outage(60, "DescribeTasks")
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 125, out
    assert outputs(tmp_path / "out.env")["STATUS"] == "unknown"
    assert "ecs-run-task: error: timed out after 6s without contact with AWS for the last " in out
    assert "the task was stopped" in out
    sandbox.faults.clear()
    sandbox.wait_for_status(arn, "STOPPED")
