"""The two locks: `requirements.lock` (what the image and the wheel's users install) and `requirements-dev.lock`
(what `.ci/venv` installs: the same runtime packages, plus the tools and moto the tests stand on)."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.helpers import ROOT

PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
DEVELOPMENT = (ROOT / "docs" / "development.md").read_text()  # where the commands that make the locks are written


@dataclass(frozen=True)
class Pin:
    version: str
    marker: str
    hashes: frozenset[str]


def pins(name: str) -> dict[str, list[Pin]]:
    """A lock's pins by package name (a package may be pinned twice, at versions for different markers)."""
    found: dict[str, list[Pin]] = {}
    text = (ROOT / name).read_text()
    for entry in re.split(r"\n(?=[a-z0-9])", text, flags=re.IGNORECASE):
        head = re.match(r"([A-Za-z0-9._-]+)==(\S+)(?: ; ([^\\\n]+))?", entry)
        if head:
            pin = Pin(head[2], (head[3] or "").strip(), frozenset(re.findall(r"--hash=(sha256:[0-9a-f]{64})", entry)))
            found.setdefault(canonicalize_name(head[1]), []).append(pin)
    return found


def test_every_pin_has_hashes() -> None:
    for lock in ("requirements.lock", "requirements-dev.lock"):
        for name, versions in pins(lock).items():
            assert all(pin.hashes for pin in versions), f"{lock}: {name} has no --hash"


def test_the_dev_lock_holds_the_runtime_lock_at_its_versions_and_hashes() -> None:
    runtime, dev = pins("requirements.lock"), pins("requirements-dev.lock")
    assert runtime, "requirements.lock holds no pin: is the parsing broken?"
    for name, [pin] in runtime.items():
        assert dev.get(name) == [pin], f"requirements-dev.lock pins {name} as {dev.get(name)}, requirements.lock {pin}"


def test_the_dev_lock_holds_every_package_of_the_dev_extra_within_its_range() -> None:
    dev = pins("requirements-dev.lock")
    for line in [*PROJECT["dependencies"], *PROJECT["optional-dependencies"]["dev"]]:
        wanted = Requirement(line)
        name = canonicalize_name(wanted.name)
        assert name in dev, (
            f"requirements-dev.lock does not pin {wanted.name}: generate it again (docs/development.md, Locks)"
        )
        for pin in dev[name]:
            assert wanted.specifier.contains(pin.version, prereleases=True), f"{name}=={pin.version} is not {wanted}"
        if name == "boto3-stubs":  # its extras are packages of their own
            assert {f"mypy-boto3-{extra}" for extra in wanted.extras} <= set(dev), wanted
    assert {"flask", "werkzeug"} <= set(dev), "moto[server] is locked without its server"


def test_moto_is_pinned_to_one_version() -> None:
    """The sandbox reaches into moto's internals (sandbox/README.md): a new release must come in by a new lock."""
    [moto] = pins("requirements-dev.lock")["moto"]
    assert re.fullmatch(r"\d+\.\d+\.\d+", moto.version), moto


def test_the_playground_extra_pins_the_moto_the_tests_ran_with() -> None:
    """`pipx install 'ecs-run-task[playground]'` serves the sandbox, which stands on moto's internals."""
    [moto] = pins("requirements-dev.lock")["moto"]
    [wanted] = [Requirement(r) for r in PROJECT["optional-dependencies"]["playground"]]
    assert wanted.name == "moto"
    assert str(wanted.specifier) == f"=={moto.version}", "the playground extra pins another moto than the dev lock"
    dev_moto = next(Requirement(r) for r in PROJECT["optional-dependencies"]["dev"] if r.startswith("moto"))
    assert wanted.extras == dev_moto.extras


def test_each_lock_says_it_was_made_by_the_command_the_development_doc_gives() -> None:
    for lock in ("requirements.lock", "requirements-dev.lock"):
        header = (ROOT / lock).read_text().splitlines()[1].removeprefix("#").strip()
        assert header.startswith("uv pip compile "), header
        assert header.endswith(f" -o {lock}"), header
        assert header in DEVELOPMENT, f"{lock} was made by `{header}`, which docs/development.md does not give"


def test_ci_venv_installs_from_the_dev_lock_and_is_keyed_on_both_locks() -> None:
    script = (ROOT / ".ci" / "venv").read_text()
    key = next(line for line in script.splitlines() if line.startswith("key="))
    assert '"$root/requirements.lock"' in key
    assert '"$root/requirements-dev.lock"' in key
    installs = [line for line in script.splitlines() if "pip install" in line and not line.lstrip().startswith("#")]
    assert installs == [
        '"$venv/bin/python" -m pip install -q --require-hashes --no-deps -r "$root/requirements-dev.lock"',
        '"$venv/bin/python" -m pip install -q --no-deps -e "$root"',
    ]
