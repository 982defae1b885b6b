"""The packages the wheel holds: `ecs_run_task` (src/), and, where the source tree has it (the repository, the sdist),
the sandbox (sandbox/) as `ecs_run_task_sandbox`: the local stand-in for AWS that `ecs-run-task-playground` serves,
which `pipx install 'ecs-run-task[playground]'` brings moto for. The image is built from src/ alone (Dockerfile) and
holds `ecs_run_task` only. Everything else about the package is in pyproject.toml."""

from pathlib import Path

from setuptools import find_packages, setup

SANDBOX = Path(__file__).resolve().parent / "sandbox"
packages, package_dir = find_packages("src"), {"": "src"}
if SANDBOX.is_dir():
    packages.append("ecs_run_task_sandbox")
    package_dir["ecs_run_task_sandbox"] = "sandbox"
setup(packages=packages, package_dir=package_dir)
