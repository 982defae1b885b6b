"""The package as people install a CLI (`pipx install ecs-run-task`, `uvx ecs-run-task`): the sdist and wheel
built from the work tree as the release workflow builds them (`python -m build`: the wheel from the sdist),
the wheel installed into a fresh venv beside its locked dependencies and nothing else, and run in a process
whose PATH is that venv alone. Not a Docker test: it runs wherever the unit tests run (PyPI reachable)."""

from __future__ import annotations

import email.parser
import importlib.util
import subprocess
import sys
import tarfile
import tomllib
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from ecs_run_task import __version__
from sandbox import Sandbox
from tests.helpers import ROOT, missing, script

pytestmark = pytest.mark.xdist_group("wheel")  # one build at a time: setuptools writes into the source tree

PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


@dataclass(frozen=True)
class Dist:
    wheel: Path
    sdist: Path


@dataclass(frozen=True)
class Installed:
    bin: Path
    home: Path

    def run(self, *argv: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        """The installed command, with only the venv on PATH and nothing of this process's environment."""
        return subprocess.run([str(self.bin / argv[0]), *argv[1:]], cwd=self.home, capture_output=True, text=True,
                              env={"PATH": str(self.bin), "HOME": str(self.home), **(env or {})}, check=False, timeout=60)  # fmt: skip


def call(*argv: str | Path) -> None:
    done = subprocess.run([str(a) for a in argv], capture_output=True, text=True, check=False, timeout=300)
    assert done.returncode == 0, f"{' '.join(map(str, argv))} failed:\n{done.stdout}\n{done.stderr}"


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Dist:
    if importlib.util.find_spec("build") is None:
        missing("the build package is missing: run .ci/venv")
    out = tmp_path_factory.mktemp("dist")
    call(sys.executable, "-m", "build", "--outdir", out, ROOT)
    [wheel], [sdist] = out.glob("*.whl"), out.glob("*.tar.gz")
    return Dist(wheel, sdist)


@pytest.fixture(scope="module")
def installed(dist: Dist, tmp_path_factory: pytest.TempPathFactory) -> Installed:
    venv = tmp_path_factory.mktemp("venv")
    call(sys.executable, "-m", "venv", venv)
    pip: list[str | Path] = [venv / "bin" / "python", "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    call(*pip, "--require-hashes", "--no-deps", "-r", ROOT / "requirements.lock")  # what the image installs
    call(*pip, "--no-deps", dist.wheel)
    return Installed(venv / "bin", tmp_path_factory.mktemp("home"))


def test_the_wheel_holds_the_package_the_playgrounds_sandbox_and_its_metadata_only(dist: Dist) -> None:
    info = f"ecs_run_task-{__version__}.dist-info"
    assert dist.wheel.name == f"ecs_run_task-{__version__}-py3-none-any.whl"
    with zipfile.ZipFile(dist.wheel) as wheel:
        names = wheel.namelist()
        metadata = email.parser.Parser().parsestr(wheel.read(f"{info}/METADATA").decode())
        entry_points = wheel.read(f"{info}/entry_points.txt").decode()
    assert {name.split("/")[0] for name in names} == {"ecs_run_task", "ecs_run_task_sandbox", info}
    assert "ecs_run_task/cli.py" in names
    sandbox = {name.removeprefix("ecs_run_task_sandbox/") for name in names if name.startswith("ecs_run_task_sandbox/")}
    assert sandbox == {p.name for p in (ROOT / "sandbox").glob("*.py")} | {"README.md"}  # sandbox/, as it is
    assert (metadata["Name"], metadata["Version"]) == ("ecs-run-task", __version__)
    assert metadata["License-Expression"] == PROJECT["license"]
    assert metadata["Requires-Python"] == PROJECT["requires-python"]
    assert metadata["Description-Content-Type"] == "text/markdown"
    assert str(metadata.get_payload()).startswith("# ecs-run-task\n")  # the README is the project page
    assert metadata.get_all("Classifier") == PROJECT["classifiers"]
    runtime = [r for r in metadata.get_all("Requires-Dist") or [] if "extra ==" not in r]
    assert runtime == PROJECT["dependencies"]
    assert "ecs-run-task = ecs_run_task.cli:main" in entry_points
    assert "ecs-run-task-post = ecs_run_task.cli:post_cli" in entry_points
    assert "ecs-run-task-playground = ecs_run_task.playground:main" in entry_points
    [moto] = [r for r in metadata.get_all("Requires-Dist") or [] if "extra ==" in r and "playground" in r]
    assert moto.startswith("moto["), moto
    assert "==" in moto, moto


def test_the_sdist_holds_what_builds_the_wheel_and_no_tests_or_benchmarks(dist: Dist) -> None:
    with tarfile.open(dist.sdist) as sdist:
        names = {name.split("/", 1)[1] for name in sdist.getnames() if "/" in name}
    assert {"pyproject.toml", "setup.py", "README.md", "src/ecs_run_task/cli.py", "sandbox/playground.py"} <= names
    assert not [name for name in names if name.startswith(("tests", "bench")) or "__pycache__" in name]


def test_the_installed_command_shows_its_version(installed: Installed) -> None:
    ran = installed.run("ecs-run-task", "--version")
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.strip() == f"ecs-run-task {__version__}"


def test_the_installed_post_step_command_shows_its_help(installed: Installed) -> None:
    ran = installed.run("ecs-run-task-post", "--help")
    assert ran.returncode == 0, ran.stderr
    assert "The GitHub Action's post step" in ran.stdout


def test_the_installed_playground_without_its_extra_says_how_to_get_it(installed: Installed) -> None:
    ran = installed.run("ecs-run-task-playground", "oom")
    assert ran.returncode == 1
    assert ran.stderr == (
        "ecs-run-task-playground: the playground needs moto, which comes with the extra `playground`: "
        "pipx install 'ecs-run-task[playground]' (in a venv: pip install 'ecs-run-task[playground]')\n"
    )


def test_the_locked_dependencies_are_all_it_needs(installed: Installed) -> None:
    """pip check finds nothing missing but what the lock leaves out on purpose (.ci/lock-excludes.txt)."""
    ran = installed.run("python", "-m", "pip", "check", "--disable-pip-version-check")
    excluded = (ROOT / ".ci" / "lock-excludes.txt").read_text().split()
    problems = [line for line in ran.stdout.splitlines() if line.strip()]
    unexpected = [line for line in problems if not any(f"requires {name}," in line.lower() for name in excluded)]
    assert unexpected == [], ran.stdout


def test_a_task_that_exits_3_makes_the_installed_command_exit_3(installed: Installed, sandbox: Sandbox) -> None:
    script(sandbox, "app", 3, "migrating")
    ran = installed.run("ecs-run-task", "--cluster", "Sample", "-t", "app", "--poll-interval", "200ms",
                        "--log-drain", "1s", env=sandbox.env)  # fmt: skip
    assert ran.returncode == 3, ran.stdout + ran.stderr
    assert "migrating" in ran.stdout
    assert "status=failed exit-code=3" in ran.stdout
