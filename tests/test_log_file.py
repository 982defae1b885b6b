"""`log-file`: every log line of every container in a plain file, whatever the outcome (sandbox over HTTP)."""

from __future__ import annotations

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
