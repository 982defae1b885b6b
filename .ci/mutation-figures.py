"""The figures of the last mutmut run (.ci/mutate), per module: killed, equivalent, survived, no tests.

A surviving mutant listed in docs/mutation.md (its name in backquotes) counts as equivalent. Exits 1 when a mutant
survived that the list does not hold, or the list holds one that no longer survives: mutmut numbers a function's
mutants in order, so an edit to a function renumbers them and the list must be read again.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "mutation.md"
COLUMNS = ("killed", "equivalent", "survived", "no tests")


def _module(mutant: str) -> str:
    """`ecs_run_task.engine.cadence.xǁCadenceǁread__mutmut_11` -> `engine/cadence.py`."""
    return "/".join(mutant.split(".")[1:-1]) + ".py"


def main() -> int:
    listed = set(re.findall(r"`(ecs_run_task\.\S+?__mutmut_\d+)`", DOC.read_text(encoding="utf-8")))
    shown = subprocess.run([str(ROOT / ".venv/bin/mutmut"), "results", "--all", "true"], cwd=ROOT, check=True,
                           capture_output=True, text=True).stdout  # fmt: skip
    status = dict(line.strip().rsplit(": ", 1) for line in shown.splitlines() if ": " in line)
    if not status:
        print("no mutants: run .ci/mutate first", file=sys.stderr)
        return 1
    figures: dict[str, Counter[str]] = defaultdict(Counter)
    for name, state in status.items():
        counted = "equivalent" if state == "survived" and name in listed else state
        figures[_module(name)]["killed" if counted == "timeout" else counted] += 1  # a hang is caught too
    print("| module | mutants | " + " | ".join(COLUMNS) + " |")
    print("|---|---:|" + "---:|" * len(COLUMNS))
    for module in sorted(figures):
        counts = figures[module]
        print(f"| {module} | {counts.total()} | " + " | ".join(str(counts[c]) for c in COLUMNS) + " |")
    total: Counter[str] = sum(figures.values(), Counter())
    print(f"| all | {total.total()} | " + " | ".join(str(total[c]) for c in COLUMNS) + " |")
    unlisted = sorted(n for n, s in status.items() if s in ("survived", "no tests") and n not in listed)
    stale = sorted(n for n in listed if status.get(n) != "survived")
    for name in unlisted:
        print(f"not killed and not listed as equivalent: {name}", file=sys.stderr)
    for name in stale:
        print(
            f"listed in {DOC.relative_to(ROOT)} but not a survivor ({status.get(name, 'gone')}): {name}",
            file=sys.stderr,
        )
    return 1 if unlisted or stale else 0


if __name__ == "__main__":
    sys.exit(main())
