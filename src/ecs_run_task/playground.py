"""`ecs-run-task-playground`: try ecs-run-task without AWS. The playground itself is the sandbox's (the repository's
`sandbox/playground.py`, which the wheel holds as `ecs_run_task_sandbox`), and it stands on moto, which the extra
`playground` brings: without it, this says how to get it."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence

INSTALL = "pipx install 'ecs-run-task[playground]' (in a venv: pip install 'ecs-run-task[playground]')"


def main(argv: Sequence[str] | None = None) -> int:
    try:  # by name: the wheel's name for the repository's sandbox/ (setup.py), which the type checker reads as `sandbox`
        playground = importlib.import_module("ecs_run_task_sandbox.playground")
    except ModuleNotFoundError as e:
        if (e.name or "").startswith("ecs_run_task_sandbox"):  # built from src/ alone, as the image is
            print(f"ecs-run-task-playground: this installation holds no playground (the image holds the CLI "
                  f"alone): {INSTALL}", file=sys.stderr)  # fmt: skip
        else:
            print(f"ecs-run-task-playground: the playground needs {e.name}, which comes with the extra "
                  f"`playground`: {INSTALL}", file=sys.stderr)  # fmt: skip
        return 1
    code: int = playground.main(argv)
    return code
