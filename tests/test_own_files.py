"""Our own files and streams failing never change the verdict: $GITHUB_OUTPUT, $GITHUB_STEP_SUMMARY and
$GITHUB_STATE on a full disk (/dev/full) or read-only, `--dotenv` on a full disk, `log-file` past what the disk
takes, stdout closed early (`| head`). Each failure is said once on stderr; the exit status and `status` are what
the task decided, and no message says no task was started. Real failures, in a process of its own."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from sandbox import ContainerScript, Sandbox
from tests.helpers import GO, ROOT, Record, count_lines, numbered, outputs, register
from tests.workflow_commands import file_command

LINES = numbered(40, every=0.01, word="migrating")
# `python -c LIMITED BYTES SCRIPT ARGS...`: SCRIPT run with no file it writes allowed past BYTES (a write past it
# fails with EFBIG, as one on a full disk fails with ENOSPC, instead of the signal that would kill the process)
LIMITED = """import resource, runpy, signal, sys
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
size, script = int(sys.argv[1]), sys.argv[2]
resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))
sys.argv = [script, *sys.argv[3:]]
runpy.run_path(script, run_name="__main__")
"""


def run_apart(sb: Sandbox, *args: str, env: dict[str, str] | None = None, fsize: int | None = None,
              stdout_lines: int | None = None) -> tuple[int, str, str]:  # fmt: skip
    """The CLI as a process, stdout and stderr apart: (exit status, stdout, stderr). `fsize`: no file it writes may
    grow past that many bytes (a disk that is full for it: EFBIG). `stdout_lines`: its reader closes stdout after
    that many lines, as `| head` does."""

    limited = [] if fsize is None else ["-c", LIMITED, str(fsize)]
    proc = subprocess.Popen(
        [sys.executable, *limited, str(ROOT / "entrypoint.py"), *GO, *args],
        env={**os.environ, **sb.env, "PYTHONUNBUFFERED": "1", **(env or {})},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert proc.stdout is not None
    assert proc.stderr is not None
    if stdout_lines is None:
        out, err = proc.communicate(timeout=90)
        return proc.returncode, out, err
    head = [proc.stdout.readline() for _ in range(stdout_lines)]
    proc.stdout.close()  # the reader is gone: every later write of the run's fails with EPIPE
    err = proc.stderr.read()
    return proc.wait(timeout=90), "".join(head), err


def github_files(tmp_path: Path, **special: str) -> dict[str, str]:
    """The runner's files (each a fresh regular file unless given), and the variables of a GitHub run."""
    files = {}
    for name in ("GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY", "GITHUB_STATE"):
        path = tmp_path / name.lower()
        path.touch()
        files[name] = special.get(name, str(path))
    return {"GITHUB_ACTIONS": "true", **files}


def said_once(err: str, what: str) -> None:
    lines = [line for line in err.splitlines() if f"warning: {what} could not be written" in line]
    assert len(lines) == 1, err
    assert lines[0].endswith("the run's answer is unchanged"), lines[0]
    assert "Traceback" not in err, err
    assert "no task was started" not in err


@contextmanager
def read_only(path: Path) -> Iterator[None]:
    """`path` that not even root may open for writing: immutable (chattr +i) for root, mode 0444 for others."""
    if os.geteuid() != 0:
        path.chmod(0o444)
        yield
        return
    if shutil.which("chattr") is None or subprocess.run(["chattr", "+i", str(path)], check=False).returncode:
        pytest.skip("root, and this filesystem has no immutable files (chattr +i)")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(path)], check=False)


@pytest.mark.parametrize("name", ["GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY", "GITHUB_STATE"])
@pytest.mark.parametrize("code", [7, 0])
def test_a_full_disk_under_a_runner_file_keeps_the_containers_answer(
    sandbox: Sandbox, tmp_path: Path, record_property: Record, name: str, code: int
) -> None:
    record_property("fault", "full disk")
    register(sandbox, web=ContainerScript(exit_code=code, lines=LINES))
    env = github_files(tmp_path, **{name: "/dev/full"})
    status, out, err = run_apart(sandbox, "--format", "github", env=env)
    assert status == code, out + err
    said_once(err, f"${name} (/dev/full)")
    count_lines(record_property, [m for _, m in LINES], out.splitlines())
    if name != "GITHUB_OUTPUT":
        written = file_command(Path(env["GITHUB_OUTPUT"]).read_text())
        assert (written["status"], written["exit-code"]) == ("failed" if code else "succeeded", str(code))
    if name != "GITHUB_STATE":
        assert file_command(Path(env["GITHUB_STATE"]).read_text())["task-arns"] == "[]"  # nothing left to stop


def test_a_disk_that_fills_midway_leaves_each_runner_file_whole(
    sandbox: Sandbox, tmp_path: Path, record_property: Record
) -> None:
    """/dev/full refuses every byte; a disk that fills midway takes part of a write. A file command cut mid-heredoc
    fails the runner's step: what could not be written whole is cut off, what was written whole stays."""
    record_property("fault", "full disk")
    register(sandbox, web=ContainerScript(exit_code=0, lines=LINES))
    env = github_files(tmp_path)
    status, out, err = run_apart(sandbox, "--format", "github", env=env, fsize=700)
    assert status == 0, out + err
    for name in ("GITHUB_OUTPUT", "GITHUB_STATE"):
        written = file_command(Path(env[name]).read_text())  # parses as the runner parses it: nothing half written
        assert all(not value.startswith("ghadelimiter") for value in written.values())
    assert "could not be written" in err


def test_a_read_only_output_file_keeps_the_containers_answer(
    sandbox: Sandbox, tmp_path: Path, record_property: Record
) -> None:
    record_property("fault", "read-only file")
    register(sandbox, web=ContainerScript(exit_code=3, lines=LINES))
    env = github_files(tmp_path)
    with read_only(Path(env["GITHUB_OUTPUT"])):
        status, out, err = run_apart(sandbox, "--format", "github", env=env)
    assert status == 3, out + err
    said_once(err, f"$GITHUB_OUTPUT ({env['GITHUB_OUTPUT']})")
    assert "the step's outputs are missing" in err
    assert "Container web exited with code 3" in out  # the annotation all the same


def test_a_full_disk_under_dotenv_keeps_the_containers_answer(sandbox: Sandbox, record_property: Record) -> None:
    record_property("fault", "full disk")
    register(sandbox, web=ContainerScript(exit_code=7, lines=LINES))
    status, out, err = run_apart(sandbox, "--format", "plain", "--dotenv", "/dev/full")
    assert status == 7, out + err
    assert err.count("--dotenv: the outputs could not be written to /dev/full (No space left on device)") == 1, err
    assert "status=failed exit-code=7" in out
    assert "no task was started" not in out + err


def test_a_log_file_the_disk_cannot_take_keeps_the_answer_and_the_ci_log(
    sandbox: Sandbox, tmp_path: Path, record_property: Record
) -> None:
    """The file may grow to 1 KiB only (RLIMIT_FSIZE: writes past it fail, as on a full disk): the CI log has every
    line, the file what fitted, the exit status the container's."""
    record_property("fault", "full disk")
    lines = numbered(200, every=0.005, word="row of a long migration log")
    register(sandbox, web=ContainerScript(exit_code=7, lines=lines))
    path = tmp_path / "run.log"
    status, out, err = run_apart(sandbox, "--format", "plain", "--log-file", str(path), fsize=1024)
    assert status == 7, out + err
    said_once(err, f"--log-file {path}")
    assert "File too large" in err
    assert [line for line in out.splitlines() if line.startswith("row ")] == [m for _, m in lines]
    count_lines(record_property, [m for _, m in lines], out.splitlines())
    assert 0 < path.stat().st_size <= 1024


@pytest.mark.parametrize("code", [7, 0])
def test_stdout_closed_early_keeps_the_containers_answer_and_outputs(
    sandbox: Sandbox, tmp_path: Path, record_property: Record, code: int
) -> None:
    """`ecs-run-task ... | head -3`: the reader goes away after three lines. The task is followed to its end, the
    exit status is the container's, the outputs are written, and the closed pipe is said once on stderr."""
    record_property("fault", "closed pipe")
    register(sandbox, running=1.0, web=ContainerScript(exit_code=code, lines=LINES))
    dotenv = tmp_path / "out.env"
    status, _head, err = run_apart(sandbox, "--format", "plain", "--dotenv", str(dotenv), stdout_lines=3)
    assert status == code, err
    said_once(err, "stdout")
    assert "Broken pipe" in err
    assert "Exception ignored" not in err  # the interpreter's own last flush found nothing to fail on
    got = outputs(dotenv)
    assert (got["STATUS"], got["EXIT_CODE"]) == ("failed" if code else "succeeded", str(code))
    [task] = sandbox.tasks()
    assert got["TASK_ARN"] == task.arn
    assert sandbox.calls("StopTask") == []  # a closed pipe is no reason to stop the task
