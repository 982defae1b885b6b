"""The one domain error: what went wrong, what to do, and how the process exits.

Raised anywhere below the CLI. A run ends with it in two places: the runner's guard once a task is followed (it
is stopped, unless its answer was known already, and named in the outputs), else `cli.main`. On the way, the modules that ride out what a later try
may cure (`Transient`: the watch, the log tailer, the starter) and the ones that turn a refusal into a line (a
StopTask in `session.py`, a dry run's guess in `resolve.py`) catch it. Unexpected exceptions are not wrapped: they
keep their traceback.
"""

from __future__ import annotations

from dataclasses import dataclass

from ecs_run_task import words
from ecs_run_task.exit_codes import CANNOT_RUN
from ecs_run_task.status import Status


@dataclass(frozen=True)
class Hint:
    """A failure's likely cause and its fix, from the catalogue (`verdict/failures.py`); `transient_start`: a
    start that failed this way may succeed if tried again. The catalogue speaks the Action's words ("the `memory`
    input"): a hint made on the command line says them as flags (`words.catalogue`)."""

    key: str
    cause: str
    fix: str
    transient_start: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "cause", words.catalogue(self.cause))
        object.__setattr__(self, "fix", words.catalogue(self.fix))


class RunError(Exception):
    """A failure we can explain to the user; `exit_code` and `status` follow the contract's table, `hint` is its
    likely cause and fix from the failure catalogue, where the signature is known."""

    def __init__(self, message: str, *, exit_code: int = CANNOT_RUN, status: Status = Status.FAILED_TO_START,
                 hint: Hint | None = None) -> None:  # fmt: skip
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code
        self.status = status
        self.hint = hint


class AccessError(RunError):
    """AWS refused the credentials or the permission: retrying the same call will not help."""


class Transient(RunError):
    """AWS or the network failed in a way that a later try may not (throttling, 5xx, a dropped connection, an
    answer that could not be read), after botocore's own retries: worth riding out while a task runs."""

    refused = False  # AWS said no before acting (throttled): the call did nothing. Else it may have acted.


class Throttled(Transient):
    refused = True


class UnreadableAnswer(Transient):
    """AWS answered, but botocore could not read the answer into its shape (a list where an object belongs)."""


class InputError(RunError):
    """Bad input: reported before anything is started. Carries every problem found, not just the first."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        noun = "input is" if len(problems) == 1 else "inputs are"
        super().__init__(
            f"{len(problems)} {noun} not valid; nothing was started:\n{lines}", status=Status.INVALID_INPUT
        )
