"""The playground as a new user meets it: `ecs-run-task-playground SCENARIO` (here `python -m sandbox play`, the same
code) serves every scenario and prints the environment and the command to copy; that text, pasted into a shell,
runs the installed CLI against it, and the run ends as the scenario says."""

from __future__ import annotations

import importlib
import os
import re
import signal
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest

from ecs_run_task import playground as entry
from sandbox import playground
from tests.helpers import ROOT

BIN = os.path.dirname(sys.executable)  # the venv's: ecs-run-task, ecs-run-task-playground


@dataclass(frozen=True)
class Served:
    process: subprocess.Popen[str]
    shown: list[str]  # what it printed up to the command

    @property
    def export(self) -> str:
        [line] = [line.strip() for line in self.shown if line.strip().startswith("export ")]
        return line

    @property
    def command(self) -> str:
        [line] = [line.strip() for line in self.shown if line.startswith("  ecs-run-task --")]
        return line


@pytest.fixture
def serve() -> Iterator[Callable[[str], Served]]:
    started: list[subprocess.Popen[str]] = []

    def start(scenario: str) -> Served:
        process = subprocess.Popen([sys.executable, "-m", "sandbox", "play", scenario, "--port", "0"], cwd=ROOT,
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                   env={**os.environ, "PYTHONUNBUFFERED": "1"})  # fmt: skip
        started.append(process)
        assert process.stdout is not None
        shown: list[str] = []
        for line in process.stdout:  # until the command, which follows the export line
            shown.append(line.rstrip("\n"))
            if line.startswith("  ecs-run-task --"):
                break
        assert shown, "it printed nothing"
        assert shown[-1].startswith("  ecs-run-task --"), "\n".join(shown)
        return Served(process, shown)

    yield start
    for process in started:
        process.send_signal(signal.SIGINT)
        try:
            assert process.wait(timeout=10) == 0  # Ctrl-C stops it cleanly
        finally:
            process.kill()
            process.wait()


def pasted(served: Served, *, poll: str = "500ms") -> subprocess.CompletedProcess[str]:
    """The two printed lines run as a user pastes them, in a shell whose PATH has the installed CLI (polls made
    quicker through ECS_RUN_TASK_POLL_INTERVAL: the command stays as printed)."""
    script = f"{served.export}\n{served.command}\n"
    env = {"PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}", "HOME": os.environ.get("HOME", "/tmp"),
           "ECS_RUN_TASK_POLL_INTERVAL": poll}  # fmt: skip
    return subprocess.run(["bash", "-c", script], capture_output=True, text=True, env=env, timeout=120, check=False)


@pytest.mark.parametrize("scenario", playground.SCENARIOS, ids=lambda s: s.name)
def test_each_scenario_ends_as_it_says_when_the_printed_command_is_pasted(
    serve: Callable[[str], Served], scenario: playground.Scenario
) -> None:
    served = serve(scenario.name)
    text = "\n".join(served.shown)
    assert f"Scenario {scenario.name}: {scenario.says}" in text
    assert re.fullmatch(r"export AWS_ENDPOINT_URL=http://127\.0\.0\.1:\d+ AWS_ACCESS_KEY_ID=testing "
                        r"AWS_SECRET_ACCESS_KEY=testing AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1",
                        served.export), served.export  # fmt: skip
    assert served.command.startswith(f"ecs-run-task --cluster default --task-definition {scenario.name}")
    ran = pasted(served)
    out = ran.stdout + ran.stderr
    assert ran.returncode == scenario.exit_code, out
    exit_code = scenario.exit_code if scenario.status in ("succeeded", "failed") else "-"
    assert f"ecs-run-task: status={scenario.status} exit-code={exit_code}" in out, out
    for shown in SHOWS.get(scenario.name, ()):
        assert shown in out, out
    assert "awslogs mode" not in out  # its task definitions are set as a migration's should be


# What a few scenarios are there to show, in the run's output
SHOWS = {
    "oom": ["ecs-run-task: error: container app ran out of memory (exit 137)",
            "ecs-run-task: likely cause: Container app used more than its own memory limit (128 MiB)",
            "ecs-run-task: fix: Raise `memory` in the definition of container app (now 128 MiB): that is the limit it "
            "hit, and `--memory`, which sizes the whole task, will not raise it."],  # the command line's words
    "pull-error": ["ecs-run-task: likely cause: The image or its tag does not exist",
                   "ecs-run-task: fix: Check image `acme/app:v9` of container app"],  # the image its reason names
    "late-lines": ["\nerror: migration 3 failed: deadlock detected\n"],  # printed as the task wrote it
    "sidecar": ["[proxy] proxy: listening on :15000", "[migrate] done", "container migrate exited"],
    "timeout": ["ecs-run-task: error: timed out after 10s; the task was stopped"],
    "local": ["\nhello\nbye\n"],
}  # fmt: skip


def test_the_installed_command_runs_a_scenario_at_once_with_run() -> None:
    """One command, no second terminal: what .ci/demo does by hand."""
    ran = subprocess.run([os.path.join(BIN, "ecs-run-task-playground"), "fail", "--run", "--port", "0"],
                         capture_output=True, text=True, timeout=120, check=False,
                         env={**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
                              "ECS_RUN_TASK_POLL_INTERVAL": "500ms"})  # fmt: skip
    assert ran.returncode == 3, ran.stdout + ran.stderr
    assert "$ ecs-run-task --cluster default --task-definition fail" in ran.stdout
    assert 'error: relation "users" already exists' in ran.stdout


def test_a_port_in_use_is_said_with_what_to_do(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert playground.main(["success", "--port", str(port)]) == 1
    err = capsys.readouterr().err
    assert f"port {port} is in use (another playground?): stop it, or give --port 0 for any free port" in err


def test_the_list_names_every_scenario_with_its_exit_status(capsys: pytest.CaptureFixture[str]) -> None:
    assert playground.main(["--list"]) == 0
    listed = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in listed] == [s.name for s in playground.SCENARIOS]
    assert all(line.endswith(f"(exit {s.exit_code})") for line, s in zip(listed, playground.SCENARIOS, strict=True))


def test_without_moto_the_command_says_how_to_install_the_extra(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def no_moto(name: str) -> None:
        raise ModuleNotFoundError("No module named 'moto'", name="moto")

    monkeypatch.setattr(importlib, "import_module", no_moto)
    assert entry.main(["oom"]) == 1
    assert capsys.readouterr().err == (
        "ecs-run-task-playground: the playground needs moto, which comes with the extra `playground`: "
        "pipx install 'ecs-run-task[playground]' (in a venv: pip install 'ecs-run-task[playground]')\n"
    )


def test_the_demo_still_serves_the_task_that_exits_3() -> None:
    """`.ci/demo` (python -m sandbox serve --demo) is kept as it was."""
    process = subprocess.Popen([sys.executable, "-m", "sandbox", "serve", "--demo"], cwd=ROOT, text=True,
                               stdout=subprocess.PIPE, env={**os.environ, "PYTHONUNBUFFERED": "1"})  # fmt: skip
    try:
        assert process.stdout is not None
        endpoint = process.stdout.readline().strip().removeprefix("SANDBOX_ENDPOINT=")
        env = {**os.environ, **playground.environment(endpoint), "ECS_RUN_TASK_POLL_INTERVAL": "500ms"}
        ran = subprocess.run([os.path.join(BIN, "ecs-run-task"), "--cluster", "default", "--task-definition", "demo"],
                             capture_output=True, text=True, env=env, timeout=120, check=False)  # fmt: skip
        assert ran.returncode == 3, ran.stdout + ran.stderr
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=10)
