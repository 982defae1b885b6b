"""The renderer alone, in this process: lines per second and whether memory stays flat in the line count."""

from __future__ import annotations

import io
import os
import time
import tracemalloc
from collections.abc import Callable, Iterator
from typing import IO

from bench.report import Row, check
from ecs_run_task.engine.logs import LogLine, LogSource
from ecs_run_task.report.github import GitHub
from ecs_run_task.report.plain import Plain

SOURCE = LogSource("web", "arn:aws:ecs:us-east-1:123456789012:task/Sample/0123456789abcdef", "/ecs/bench",
                   "web/web/0123456789abcdef", None)  # fmt: skip
TEXT = "GET /api/v1/items?page=2 200 12.3ms user=bench request_id=4f1c2a"
JSON = '{"level":"info","msg":"request done","path":"/api/v1/items","status":200,"ms":12.3}'
PAGE = 10_000  # what one GetLogEvents page holds at most


def page(start: int, n: int, text: str) -> list[LogLine]:
    return [LogLine(SOURCE, 1_700_000_000_000 + i, f"{i:06d} {text}") for i in range(start, start + n)]


def pages(total: int, text: str) -> Iterator[list[LogLine]]:
    for start in range(0, total, PAGE):
        yield page(start, min(PAGE, total - start), text)


Make = Callable[[IO[str]], Plain]


def lines_per_s(make: Make, out: IO[str], n: int, text: str) -> float:
    lines = page(0, n, text)
    r = make(out)
    t = time.perf_counter()
    r.log_lines(lines)
    return n / (time.perf_counter() - t)


def peak_kib(make: Make, total: int) -> float:
    """tracemalloc peak while feeding `total` lines page by page (as the tailer hands them) to /dev/null."""
    with open(os.devnull, "w", encoding="utf-8") as out:
        r = make(out)
        tracemalloc.start()
        for p in pages(total, TEXT):
            r.log_lines(p)
            del p
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return peak / 1024


def measure(n: int = 200_000) -> list[Row]:
    plain: Make = Plain

    def github(out: IO[str]) -> Plain:
        return GitHub(out, {}, annotate=True)

    with open(os.devnull, "w", encoding="utf-8") as null:
        to_null = lines_per_s(plain, null, n, TEXT)
        json_null = lines_per_s(plain, null, n, JSON)
        gh_null = lines_per_s(github, null, n, TEXT)
    to_memory = lines_per_s(plain, io.StringIO(), n, TEXT)
    small, big = peak_kib(plain, 20_000), peak_kib(plain, 200_000)
    growth = big / small
    return [
        Row("log throughput", f"renderer alone: Plain, {n:,} lines to /dev/null", f"{to_null:,.0f} lines/s", "",
            ">= 20,000", check(to_null, 20_000, at_most=False)),
        Row("log throughput", "renderer alone: Plain into io.StringIO", f"{to_memory:,.0f} lines/s", "", ">= 20,000",
            check(to_memory, 20_000, at_most=False)),
        Row("log throughput", "renderer alone: Plain, JSON (structured) lines", f"{json_null:,.0f} lines/s"),
        Row("log throughput", "renderer alone: GitHub (stop-commands blocks)", f"{gh_null:,.0f} lines/s"),
        Row("log throughput", "renderer memory peak, 200,000 vs 20,000 lines in pages",
            f"{big:,.0f} KiB vs {small:,.0f} KiB (x{growth:.2f})", "", "flat (<= x1.5)", growth <= 1.5),
    ]  # fmt: skip
