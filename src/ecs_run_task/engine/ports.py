"""The ECS calls the engine makes, as a small interface (`aws.clients.Ecs` is the real one): the loop, the starter
and the group lock depend on these methods alone, so a test can hand them a scripted fake."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

Tasks = list[dict[str, Any]]


class EcsApi(Protocol):
    def validate(self, operation: str, params: dict[str, Any]) -> None: ...
    def describe_task_definition(self, task_definition: str) -> dict[str, Any]: ...
    def register_task_definition(self, request: dict[str, Any]) -> dict[str, Any]: ...

    def run_task(self, request: dict[str, Any]) -> tuple[Tasks, Tasks]:
        """The tasks started and RunTask's `failures`."""

    def describe_tasks(self, cluster: str, arns: Sequence[str]) -> tuple[Tasks, Tasks]:
        """The tasks described and the `failures` (MISSING: not known, or not yet)."""

    def list_running(self, cluster: str) -> list[str]:
        """The ARNs of every task of the cluster that ECS wants running, whatever its family."""

    def stop_task(self, cluster: str, arn: str, reason: str) -> None: ...
