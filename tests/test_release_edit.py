"""What the release workflow writes into its checkout (.ci/release-edit.py), run on a copy of the work tree's
files: each edit changes exactly its one line, or stops the release and changes nothing."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml  # moto's dependency

from tests.helpers import ROOT

EDITED = ["action.yml", "templates/run-task.yml", "pyproject.toml"]
IMAGE = "owner/ecs-run-task@sha256:" + "0123456789abcdef" * 4  # a registry host would come first


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    for name in [*EDITED, ".ci/release-edit.py"]:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / name, tmp_path / name)
    return tmp_path


def edit(checkout: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(checkout / ".ci" / "release-edit.py"), *argv],
                          capture_output=True, text=True, check=False, timeout=30)  # fmt: skip


def changed_lines(checkout: Path, name: str) -> list[tuple[str, str]]:
    before, after = (ROOT / name).read_text().splitlines(), (checkout / name).read_text().splitlines()
    assert len(before) == len(after), name
    return [(b, a) for b, a in zip(before, after, strict=True) if b != a]


def test_image_points_action_yml_and_the_components_job_image_at_the_release(checkout: Path) -> None:
    assert edit(checkout, "image", IMAGE).returncode == 0
    assert changed_lines(checkout, "action.yml") == [("  image: Dockerfile", f"  image: docker://{IMAGE}")]
    [(_, line)] = changed_lines(checkout, "templates/run-task.yml")
    assert line == f"      default: {IMAGE}"
    spec, _ = yaml.safe_load_all((checkout / "templates" / "run-task.yml").read_text())
    assert spec["spec"]["inputs"]["job-image"]["default"] == IMAGE
    assert "default" not in yaml.safe_load((checkout / "action.yml").read_text())["inputs"]["image"]
    assert changed_lines(checkout, "pyproject.toml") == []


def test_urls_name_the_repository_in_the_package_metadata(checkout: Path) -> None:
    assert edit(checkout, "urls", "https://example.org/owner/ecs-run-task").returncode == 0
    project = tomllib.loads((checkout / "pyproject.toml").read_text())["project"]
    assert project["urls"] == {"Homepage": "https://example.org/owner/ecs-run-task",
                               "Source": "https://example.org/owner/ecs-run-task",
                               "Issues": "https://example.org/owner/ecs-run-task/issues",
                               "Changelog": "https://example.org/owner/ecs-run-task/releases"}  # fmt: skip
    assert project | {"urls": None} == tomllib.loads((ROOT / "pyproject.toml").read_text())["project"] | {"urls": None}


@pytest.mark.parametrize(
    "argv", [("image", "owner/ecs-run-task:v1"), ("image", ""), ("urls", "not a url"), ("nothing",)]
)
def test_a_bad_value_stops_the_release_and_changes_nothing(checkout: Path, argv: tuple[str, ...]) -> None:
    done = edit(checkout, *argv)
    assert done.returncode != 0
    assert done.stderr.strip()
    for name in EDITED:
        assert (checkout / name).read_text() == (ROOT / name).read_text(), name


def test_a_template_without_its_job_image_default_stops_the_release(checkout: Path) -> None:
    template = checkout / "templates" / "run-task.yml"
    template.write_text(template.read_text().replace("    job-image:\n", "    runner-image:\n"))
    done = edit(checkout, "image", IMAGE)
    assert done.returncode != 0
    assert "templates/run-task.yml: expected one match" in done.stderr
    assert changed_lines(checkout, "action.yml") == []  # both files or neither
