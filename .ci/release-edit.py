#!/usr/bin/env python3
"""What a release writes into the files it publishes, run by .github/workflows/release.yml in its checkout:

  .ci/release-edit.py image IMAGE@DIGEST  # action.yml runs that image; the GitLab component's job-image defaults to it
  .ci/release-edit.py urls REPOSITORY_URL # pyproject.toml names the repository (PyPI's project links)

Each edit must find exactly what it replaces, or the release stops here rather than publish a file half-edited.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path


def replaced(path: Path, pattern: str, replacement: str, within: str = "") -> str:
    """The text of `path` with the one match of `pattern` (after the line `within`, when given) replaced."""
    head, sep, tail = path.read_text().partition(within) if within else ("", "", path.read_text())
    tail, n = re.subn(pattern, lambda m: m.group(1) + replacement, tail, flags=re.MULTILINE)
    if n != 1:
        sys.exit(f"{path}: expected one match of {pattern!r}, found {n}")
    return head + sep + tail


def image(root: Path, ref: str) -> None:
    if not re.fullmatch(r"[a-z0-9][a-z0-9./_:-]*@sha256:[0-9a-f]{64}", ref):
        sys.exit(f"expected IMAGE@sha256:DIGEST, got {ref!r}")
    action, template = root / "action.yml", root / "templates" / "run-task.yml"
    edits = {
        # the one `image:` line of the runs: block (inputs has an `image` input too)
        action: replaced(action, r"^(  image: ).*$", f"docker://{ref}", within="\nruns:\n"),
        # the default of the job-image input, past its description and comment lines
        template: replaced(template, r"^(    job-image:\n(?:      .*\n)*?      default: ).*$", ref),
    }
    for path, text in edits.items():  # both or neither
        path.write_text(text)


def urls(root: Path, repository: str) -> None:
    if not re.fullmatch(r"https://[^\s\"]+", repository):
        sys.exit(f"expected the repository's https URL, got {repository!r}")
    path = root / "pyproject.toml"
    text = path.read_text()
    if "\n[project.urls]\n" in text:
        sys.exit(f"{path} already has [project.urls]: drop this step or those lines")
    links = {"Homepage": repository, "Source": repository, "Issues": f"{repository}/issues",
             "Changelog": f"{repository}/releases"}  # fmt: skip
    path.write_text(text.rstrip("\n") + "\n\n[project.urls]\n" + "".join(f'{k} = "{v}"\n' for k, v in links.items()))


def main(argv: list[str]) -> None:
    root = Path(__file__).resolve().parent.parent
    match argv:
        case ["image", ref]:
            image(root, ref)
        case ["urls", repository]:
            urls(root, repository)
        case _:
            sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
