"""The image: our layers' size over the base, and `docker run` to the first API call."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
import uuid

from bench.procs import ROOT
from bench.report import Row, check
from bench.stats import med_p95
from bench.world import World, life
from tests.helpers import LOCAL_BASE, local_dockerfile

BASE = LOCAL_BASE  # what the image is built on here: the Dockerfile's pinned base has no registry to come from
CANDIDATES = ("ecs-run-task:bench", "ecs-run-task:test")


def _docker(*args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout, check=False)


def available() -> str | None:
    """Why Docker cannot be used here, or None when it can."""
    if shutil.which("docker") is None:
        return "no docker command"
    try:
        info = _docker("info", "--format", "{{.ServerVersion}}", timeout=15)
    except subprocess.TimeoutExpired:
        return "docker info timed out"
    return None if info.returncode == 0 else f"docker info failed: {info.stderr.strip()[:200]}"


def _inspect(ref: str) -> dict[str, object] | None:
    done = _docker("image", "inspect", ref)
    if done.returncode != 0:
        return None
    found: list[dict[str, object]] = json.loads(done.stdout)
    return found[0] if found else None


def pick_image(build: bool) -> tuple[str, str]:
    """(image reference, how it was obtained); builds ecs-run-task:bench when asked or when none exists."""
    if not build:
        for ref in CANDIDATES:
            if _inspect(ref) is not None:
                return ref, "existing"
    done = subprocess.run(["docker", "build", "--network", "host", "-t", CANDIDATES[0], "-f", "-", str(ROOT)],
                          input=local_dockerfile(), capture_output=True, text=True, timeout=1200, check=False)  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"docker build failed: {done.stderr[-1000:]}")
    return CANDIDATES[0], "built now"


def layers(ref: str) -> tuple[float, str]:
    """MB (10^6 bytes) of the layers on top of the base, and a note if the base is not where we expect it."""
    ours, base = _inspect(ref), _inspect(BASE)
    if ours is None or base is None:
        raise RuntimeError(f"cannot inspect {ref} or {BASE}")
    ours_layers = list(ours["RootFS"]["Layers"])  # type: ignore[index]
    base_layers = list(base["RootFS"]["Layers"])  # type: ignore[index]
    note = "" if ours_layers[: len(base_layers)] == base_layers else f" (base layers differ from the local {BASE})"
    size = int(ours["Size"]) - int(base["Size"])  # type: ignore[call-overload]
    return size / 1e6, note


def first_call(w: World, ref: str, runs: int) -> list[float]:
    """`docker run --network host` to the sandbox's first recorded call, per run (the task lives 1 s)."""
    fam = w.family("image", life(1.0))
    env: list[str] = []
    for k, v in w.env.items():
        env += ["-e", f"{k}={v}"]
    out = []
    for _ in range(runs):
        name = f"bench-{uuid.uuid4().hex[:12]}"
        argv = ["docker", "run", "--rm", "--name", name, "--network", "host", *env, ref,
                "ecs-run-task", "--cluster", "Sample", "-t", fam, "--logs", "false", "--format", "plain"]  # fmt: skip
        t = time.monotonic()
        try:
            done = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)
        except subprocess.TimeoutExpired:
            _docker("kill", name)
            raise
        if done.returncode != 0:
            raise RuntimeError(f"docker run exited {done.returncode}: {done.stderr[-500:]}")
        calls = w.calls(since=t)
        if calls:
            out.append(min(c.t for c in calls) - t)
    return out


def measure(w: World, runs: int, build: bool) -> tuple[list[Row], str]:
    why = available()
    if why is not None:
        return [Row("image", "image measures", f"skipped: {why}")], ""
    ref, how = pick_image(build)
    inspected = _inspect(ref) or {}
    created = str(inspected.get("Created", ""))[:19].replace("T", " ")
    size, note = layers(ref)
    starts = first_call(w, ref, runs)
    rows = [
        Row("image", f"our layers over {BASE}{note}", f"{size:.1f} MB", "", "<= 30 MB", check(size, 30)),
        Row("image", "`docker run --network host` -> first API call", med_p95(starts)),
    ]  # fmt: skip
    return rows, f"image `{ref}` ({how}, created {created} UTC)"
