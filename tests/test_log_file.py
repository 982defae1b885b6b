"""`log-file`: every log line of every container in a plain file, whatever the outcome (sandbox over HTTP)."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from sandbox import HOLD, NEVER, Container, ContainerScript, Sandbox, Step
from tests.helpers import Run, go, launch, register

WEB = [(0.0, "web starts"), (0.05, "::error::not a command here"), (0.1, "colour \x1b[31mred\x1b[0m, bell \x07")]
WORKER = [(0.0, "worker starts"), (0.1, "two\nlines")]
EXPECTED = [  # as in the file: neutral, prefixed with the container when several streams show, no CI markup
    "[web] web starts",
    "[web] ::error::not a command here",
    "[web] colour \x1b[31mred\x1b[0m, bell \u2407",
    "[worker] worker starts",
    "[worker] two",
    "[worker] lines",
]


def in_order(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


def test_after_a_success_the_file_holds_every_line_of_every_container(
    sandbox: Sandbox, run: Run, tmp_path: Path
) -> None:
    register(sandbox, Container("web"), Container("worker"), web=ContainerScript(exit_code=0, lines=WEB),
             worker=ContainerScript(exit_code=0, lines=WORKER))  # fmt: skip
    path = tmp_path / "run.log"
    ran = go(run, "--log-file", str(path), "--format", "github")
    assert ran.code == 0, ran.out
    written = in_order(path)
    assert sorted(written) == sorted(EXPECTED)
    assert [line for line in written if line.startswith("[web]")] == EXPECTED[:3]  # each stream in its order
    assert "::stop-commands::" in ran.out  # the CI log has its markup, the file none


def test_after_a_failure_the_file_holds_every_line(sandbox: Sandbox, run: Run, tmp_path: Path) -> None:
    register(sandbox, web=ContainerScript(exit_code=3, lines=[(0.0, "migrating"), (0.1, "boom")]))
    path = tmp_path / "run.log"
    ran = go(run, "--log-file", str(path))
    assert ran.code == 3, ran.out
    assert in_order(path) == ["migrating", "boom"]  # one stream: no prefix


def test_after_a_timeout_the_file_holds_every_line_read(sandbox: Sandbox, run: Run, tmp_path: Path) -> None:
    register(sandbox, life=[Step("PROVISIONING", 0.05), Step("RUNNING", HOLD)],
             web=ContainerScript(exits_after=NEVER, lines=[(0.0, "started"), (0.2, "still working")]))  # fmt: skip
    path = tmp_path / "run.log"
    ran = go(run, "--log-file", str(path), "--timeout", "2s")
    assert ran.code == 124, ran.out
    assert in_order(path) == ["started", "still working"]


def test_after_a_cancel_the_file_holds_every_line_shown(sandbox: Sandbox, tmp_path: Path) -> None:
    register(sandbox, life=[Step("PROVISIONING", 0.05), Step("RUNNING", HOLD)],
             web=ContainerScript(exits_after=NEVER, lines=[(0.0, "one"), (0.1, "two")]))  # fmt: skip
    path = tmp_path / "run.log"
    proc = launch(sandbox, "--log-file", str(path))
    assert proc.stdout is not None
    shown = []
    for line in proc.stdout:  # the lines have reached the CI log, so the tool has read them
        shown.append(line.rstrip("\n"))
        if line == "two\n":
            break
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=15)
    assert proc.returncode == 130, out
    assert in_order(path) == ["one", "two"]


def test_a_relative_path_is_relative_to_the_working_directory(
    sandbox: Sandbox, run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    register(sandbox, web=ContainerScript(exit_code=0, lines=[(0.0, "hello")]))
    monkeypatch.chdir(tmp_path)
    assert go(run, "--log-file", "logs/run.log").code == 0  # its directory made, as artifact paths want
    assert in_order(tmp_path / "logs" / "run.log") == ["hello"]


def test_a_dry_run_leaves_the_log_file_as_it_was(sandbox: Sandbox, run: Run, tmp_path: Path) -> None:
    register(sandbox)
    kept = tmp_path / "run.log"
    kept.write_text("from the last run\n")
    assert go(run, "--log-file", str(kept), "--dry-run").code == 0
    assert in_order(kept) == ["from the last run"]


@pytest.mark.parametrize(("where", "why"), [("file/run.log", "File exists"), (".", "Is a directory")])
def test_a_path_that_cannot_be_written_is_bad_input_before_anything_starts(
    sandbox: Sandbox, run: Run, tmp_path: Path, where: str, why: str
) -> None:
    register(sandbox)
    (tmp_path / "file").touch()
    path = tmp_path / where
    ran = go(run, "--log-file", str(path))
    assert ran.code == 125, ran.out
    assert f"log-file: {path} cannot be written ({why})" in ran.out
    assert sandbox.calls("DescribeTaskDefinition") == sandbox.calls("RunTask") == []


@pytest.mark.parametrize(("where", "code"), [("logs/run.log", 0), ("file/run.log", 125), (".", 125)])
def test_a_dry_run_checks_the_log_file_as_a_run_would_and_creates_nothing(
    sandbox: Sandbox, run: Run, tmp_path: Path, where: str, code: int
) -> None:
    register(sandbox)
    (tmp_path / "file").touch()
    before = sorted(tmp_path.rglob("*"))
    ran = go(run, "--log-file", str(tmp_path / where), "--dry-run")
    assert ran.code == code, ran.out
    assert sorted(tmp_path.rglob("*")) == before


# -- a regular file only -------------------------------------------------------------------------------------------


def test_a_fifo_nobody_reads_is_refused_at_once_never_waited_on(sandbox: Sandbox, tmp_path: Path) -> None:
    """Opening a FIFO for writing waits for a reader; a run must never hang there (nor ignore SIGTERM there)."""
    register(sandbox)
    fifo = tmp_path / "run.log"
    os.mkfifo(fifo)
    proc = launch(sandbox, "--log-file", str(fifo))
    out, _ = proc.communicate(timeout=30)  # it would block forever on the open
    assert proc.returncode == 125, out
    assert f"log-file: {fifo} is a FIFO, not a regular file: a FIFO nobody reads would block the run" in out
    assert sandbox.calls("RunTask") == []


def test_a_fifo_with_a_reader_is_refused_too(sandbox: Sandbox, run: Run, tmp_path: Path) -> None:
    register(sandbox)
    fifo = tmp_path / "run.log"
    os.mkfifo(fifo)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    try:
        ran = go(run, "--log-file", str(fifo))
    finally:
        os.close(reader)
    assert ran.code == 125, ran.out
    assert f"log-file: {fifo} is a FIFO, not a regular file" in ran.out
    assert sandbox.calls("RunTask") == []


@pytest.mark.parametrize("device", ["/dev/stdout", "/dev/stderr", "/proc/self/fd/1"])
def test_stdout_as_the_log_file_is_refused_saying_why(sandbox: Sandbox, run: Run, device: str) -> None:
    """Lines written there would reach the CI log outside the stop-commands block: as workflow commands."""
    register(sandbox)
    ran = go(run, "--log-file", device)
    assert ran.code == 125, ran.out
    assert f"log-file: {device} is " in ran.out
    assert ("container lines written to the CI log that way would skip the block that keeps them from acting as "
            "workflow commands") in ran.out  # fmt: skip
    assert sandbox.calls("RunTask") == []


@pytest.mark.parametrize("dry_run", [False, True])
def test_a_device_is_refused(sandbox: Sandbox, run: Run, dry_run: bool) -> None:
    register(sandbox)
    ran = go(run, "--log-file", "/dev/full", *(["--dry-run"] if dry_run else []))
    assert ran.code == 125, ran.out
    assert "log-file: /dev/full is a device, not a regular file" in ran.out
    assert sandbox.calls("RunTask") == []


@pytest.mark.parametrize("dry_run", [False, True])
def test_a_symbolic_link_is_refused_and_its_target_left_alone(
    sandbox: Sandbox, run: Run, tmp_path: Path, dry_run: bool
) -> None:
    """A symlink committed to the repository must not make a run (as root, in the image) overwrite its target."""
    register(sandbox)
    target = tmp_path / "precious"
    target.write_text("keep me\n")
    link = tmp_path / "run.log"
    link.symlink_to(target)
    ran = go(run, "--log-file", str(link), *(["--dry-run"] if dry_run else []))
    assert ran.code == 125, ran.out
    assert f"log-file: {link} is a symbolic link, not a regular file: its target would be overwritten" in ran.out
    assert target.read_text() == "keep me\n"
    assert sandbox.calls("RunTask") == []


@pytest.mark.parametrize("given", ["--log-file", "--log-file --dry-run", "--junit-file", "--junit-file --dry-run"])
def test_a_committed_folder_link_on_the_way_is_refused_and_its_target_left_alone(
    sandbox: Sandbox, run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, given: str
) -> None:
    """`logs -> /elsewhere` committed to the repository, and `logs/keep.txt` given: O_NOFOLLOW guards only the last
    part of a path, so the folders on the way inside the checkout are checked too."""
    register(sandbox)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "keep.txt").write_text("keep me\n")
    checkout = tmp_path / "checkout"
    checkout.mkdir()
    (checkout / "logs").symlink_to(elsewhere)
    monkeypatch.chdir(checkout)
    option, *dry_run = given.split()
    ran = go(run, option, "logs/keep.txt", *dry_run)
    assert ran.code == 125, ran.out
    assert f"{option.removeprefix('--')}: logs/keep.txt goes through logs, a symbolic link: its target would be " \
           "written" in ran.out  # fmt: skip
    assert (elsewhere / "keep.txt").read_text() == "keep me\n"
    assert sandbox.calls("RunTask") == []


def test_an_existing_regular_file_is_emptied_and_written(sandbox: Sandbox, run: Run, tmp_path: Path) -> None:
    register(sandbox, web=ContainerScript(exit_code=0, lines=[(0.0, "new")]))
    path = tmp_path / "run.log"
    path.write_text("an older, longer run's lines\n" * 10)
    assert go(run, "--log-file", str(path)).code == 0
    assert in_order(path) == ["new"]
