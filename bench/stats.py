"""Small statistics and formatting helpers."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence


def median(xs: Sequence[float]) -> float:
    return statistics.median(xs) if xs else math.nan


def p95(xs: Sequence[float]) -> float:
    """Nearest-rank 95th percentile (with few samples: the largest)."""
    if not xs:
        return math.nan
    ordered = sorted(xs)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def med_p95(xs: Sequence[float]) -> str:
    """'median / p95 (n)' in seconds."""
    if not xs:
        return "n/a"
    return f"{median(xs):.2f} / {p95(xs):.2f} s (n={len(xs)})"


def rate(count: int, seconds: float) -> float:
    return count * 60.0 / seconds if seconds > 0 else math.nan


def groups(times: Sequence[float], gap: float) -> list[list[float]]:
    """Split sorted times into bursts: a new group starts after a pause longer than `gap`."""
    out: list[list[float]] = []
    for t in sorted(times):
        if out and t - out[-1][-1] <= gap:
            out[-1].append(t)
        else:
            out.append([t])
    return out
