"""A release users can verify: the image is built on a base pinned by digest, every action the workflows use is
pinned by commit, the release attests the image, the sdist and the wheel (build provenance and an SBOM), and
Dependabot keeps the pins current. Read from the files; running the release is GitHub's part."""

from __future__ import annotations

import re
from typing import Any

import yaml  # moto's dependency

from tests.helpers import LOCAL_BASE, ROOT, local_dockerfile

WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
RELEASE = ROOT / ".github" / "workflows" / "release.yml"
ATTEST = "actions/attest@"
SBOM = "anchore/sbom-action@"


def from_lines(text: str) -> list[str]:
    return re.findall(r"^FROM (.+)$", text, re.MULTILINE)


def steps(job: dict[str, Any], action: str) -> list[dict[str, Any]]:
    return [step for step in job["steps"] if step.get("uses", "").startswith(action)]


def test_the_image_is_built_on_one_base_pinned_by_digest_and_locally_on_the_stand_in() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    [pinned, *stages] = from_lines(dockerfile)
    # the tag stays beside the digest: Dependabot finds newer digests by the tag
    assert re.fullmatch(r"python:3\.12-slim@sha256:[0-9a-f]{64} AS base", pinned)
    assert [stage.split(" AS ")[0] for stage in stages] == ["base", "base"]  # every stage starts from it
    before = dockerfile[: dockerfile.index("\nFROM ")]
    assert not re.search(r"^ARG ", before, re.MULTILINE), "an ARG in FROM would hide the base from Dependabot"
    assert from_lines(local_dockerfile()) == [f"{LOCAL_BASE} AS base", *stages]


def test_every_action_is_pinned_by_commit_with_its_version_said() -> None:
    for workflow in WORKFLOWS:
        for line in workflow.read_text().splitlines():
            found = re.match(r"\s*(?:- )?uses: (\S+)(.*)$", line)
            if found and not found.group(1).startswith("./"):
                assert re.fullmatch(r"[\w.-]+/[\w./-]+@[0-9a-f]{40}", found.group(1)), f"{workflow.name}: {line}"
                assert re.fullmatch(r" # v\d+(\.\d+)*", found.group(2)), f"{workflow.name}: {line}"


def test_the_release_attests_the_sdist_and_wheel_and_the_image_by_its_pushed_digest() -> None:
    jobs = yaml.safe_load(RELEASE.read_text())["jobs"]
    [sbom] = steps(jobs["dist"], SBOM)
    provenance, with_sbom = (step["with"] for step in steps(jobs["dist"], ATTEST))
    assert provenance == {"subject-path": "dist/*"}  # no predicate: SLSA build provenance
    assert with_sbom == {"subject-path": "dist/*", "sbom-path": sbom["with"]["output-file"]}

    [sbom] = steps(jobs["image"], SBOM)
    provenance, with_sbom = (step["with"] for step in steps(jobs["image"], ATTEST))
    image, digest = "${{ steps.names.outputs.image }}", "${{ steps.build.outputs.digest }}"
    assert sbom["with"]["image"] == f"{image}@{digest}"
    for attested in (provenance, with_sbom):
        assert (attested["subject-name"], attested["subject-digest"]) == (image, digest)
        assert attested["push-to-registry"] is True
    assert with_sbom["sbom-path"] == sbom["with"]["output-file"]
    assert "sbom-path" not in provenance


def test_only_the_attesting_jobs_may_sign_and_store_attestations() -> None:
    jobs = yaml.safe_load(RELEASE.read_text())["jobs"]
    for name, job in jobs.items():
        granted = job.get("permissions", {})
        attesting = bool(steps(job, ATTEST))
        assert (granted.get("attestations") == "write") == attesting, name
        if attesting:
            assert granted["id-token"] == "write", name
    assert yaml.safe_load(RELEASE.read_text())["permissions"] == {}


def test_dependabot_keeps_the_base_image_and_the_actions_current() -> None:
    config = yaml.safe_load((ROOT / ".github" / "dependabot.yml").read_text())
    watched = {(update["package-ecosystem"], update["directory"]) for update in config["updates"]}
    assert watched == {("docker", "/"), ("github-actions", "/")}
    assert all(update["cooldown"]["default-days"] >= 7 for update in config["updates"])  # zizmor asks a week
