"""Rewrites moto's ECS answers with the driver's model of each task.

moto models one container, starts tasks at RUNNING and reports exitCode 0; the driver knows
better, so RunTask/DescribeTasks/StopTask show the driver's view for every task it plays.
"""

from __future__ import annotations

import json
from typing import Any

from .consistency import UNDESCRIBABLE
from .driver import Driver
from .faults import Faults

ECS_OPS = {"RunTask", "DescribeTasks", "StopTask", "CreateService", "DescribeServices", "ListTasks",
           "RegisterTaskDefinition"}  # fmt: skip

Answer = tuple[int, dict[str, Any]]


def before(op: str, body: dict[str, Any], faults: Faults, account: str, driver: Driver | None = None) -> Answer | None:
    """An answer that replaces moto's entirely, or None to let moto answer."""
    if op == "ListTasks" and driver is not None:
        return 200, _list(body, driver)
    known = _known(op, body, driver) if driver is not None else None
    if known is not None or op != "RunTask":
        return known
    failure = faults.take_run_task_failure()
    if failure is None:
        return None
    reason, arn = failure
    cluster = str(body.get("cluster") or "default").rsplit("/", 1)[-1]
    arn = arn or f"arn:aws:ecs:us-east-1:{account}:container-instance/{cluster}/0000000000000000"
    # RunTask answers 200 with failures and no tasks when it cannot place them.
    return 200, {"tasks": [], "failures": [{"arn": arn, "reason": reason}]}


def _known(op: str, body: dict[str, Any], driver: Driver) -> Answer | None:
    """RunTask's answer when its clientToken was seen; RunTask's and DescribeTaskDefinition's refusal when the
    revision named is not describable yet."""
    token = str(body.get("clientToken") or "")
    if op == "RunTask" and token in driver.tokens:
        # ECS's idempotency: a RunTask repeated with the same clientToken answers the tasks it started
        with driver.sched.cond:
            return 200, {"tasks": [t.to_json() for t in driver.tokens[token]], "failures": []}
    if (
        op in ("RunTask", "DescribeTaskDefinition")
        and driver.consistency.visible(str(body.get("taskDefinition"))) is None
    ):
        return 400, dict(UNDESCRIBABLE)  # a revision just registered: ECS cannot describe it yet
    return None


def for_moto(op: str, body: dict[str, Any], driver: Driver) -> dict[str, Any]:
    """The request moto is to answer: a bare family means its latest revision ECS can describe yet (`body` itself
    when nothing changes)."""
    if op not in ("RunTask", "DescribeTaskDefinition") or not body.get("taskDefinition"):
        return body
    ref = str(body["taskDefinition"])
    seen = driver.consistency.visible(ref)
    return body if seen in (None, ref) else {**body, "taskDefinition": seen}


def after(op: str, body: dict[str, Any], status: int, answer: dict[str, Any], driver: Driver) -> Answer:
    if op == "RegisterTaskDefinition" and status == 200:
        driver.consistency.registered(str(answer.get("taskDefinition", {}).get("taskDefinitionArn", "")))
    elif op == "RunTask" and status == 200:
        tasks = []
        for moto_task in answer.get("tasks", []):
            started = driver.start(moto_task, body)
            with driver.sched.cond:
                tasks.append(started.to_json(moto_task))
                if body.get("clientToken"):
                    driver.tokens.setdefault(str(body["clientToken"]), []).append(started)
        answer["tasks"] = tasks
    elif op == "DescribeTasks" and status == 200:
        answer = _describe(body, answer, driver)
    elif op in ("CreateService", "DescribeServices") and status == 200:
        answer = _services(op, body, answer, driver)
    elif op == "StopTask":
        ref = str(body.get("task", ""))
        task = driver.stop(ref, body.get("reason"))
        if task is not None:
            with driver.sched.cond:
                return 200, {"task": task.to_json(answer.get("task") if status == 200 else None)}
        if status >= 500:
            # moto raises a bare Exception (500, which clients retry) for an unknown task.
            return 400, {
                "__type": "InvalidParameterException",
                "message": "The referenced task was not found.",
            }
    return status, answer


def _list(body: dict[str, Any], driver: Driver) -> dict[str, Any]:
    """ListTasks from the driver's tasks (moto knows nothing of their status): by cluster, family, startedBy and
    desiredStatus (RUNNING by default, as ECS), 100 a page with a nextToken as ECS pages; a task created less than
    `consistency.list_lag` seconds ago is not listed yet."""
    cluster = str(body.get("cluster") or "default").rsplit("/", 1)[-1]
    desired = str(body.get("desiredStatus") or "RUNNING")
    listed = driver.consistency.listed
    with driver.sched.cond:
        arns = [t.arn for t in driver.tasks.values()
                if t.cluster_arn.rsplit("/", 1)[-1] == cluster and t.desired_status == desired and listed(t)
                and body.get("family") in (None, t.family) and body.get("startedBy") in (None, t.request.get("startedBy"))]  # fmt: skip
    start = int(body.get("nextToken") or 0)
    page = arns[start : start + 100]
    return {"taskArns": page, **({"nextToken": str(start + 100)} if start + 100 < len(arns) else {})}


def _describe(body: dict[str, Any], answer: dict[str, Any], driver: Driver) -> dict[str, Any]:
    by_arn = {t["taskArn"]: t for t in answer.get("tasks", [])}
    tasks: list[dict[str, Any]] = []
    failures: list[dict[str, Any]] = list(answer.get("failures", []))
    with driver.sched.cond:
        for ref in body.get("tasks", []):
            task = driver.find(str(ref))
            if task is None:
                hit = next((t for arn, t in by_arn.items() if arn.rsplit("/", 1)[-1] == ref.rsplit("/", 1)[-1]), None)
                if hit is not None:
                    tasks.append(hit)
                else:
                    failures.append({"arn": ref, "reason": "MISSING"})
                continue
            if driver.consistency.missing(task):
                # ECS is eventually consistent: a task just started may not be describable yet.
                driver.missing_served += 1
                failures.append({"arn": task.arn, "reason": "MISSING"})
                continue
            tasks.append(task.to_json(by_arn.get(task.arn)))
    return {"tasks": tasks, "failures": failures}


def _services(op: str, body: dict[str, Any], answer: dict[str, Any], driver: Driver) -> dict[str, Any]:
    """moto drops a service's capacity provider strategy and reports launchType EC2; ECS keeps the strategy
    and reports no launch type."""
    if op == "CreateService" and body.get("capacityProviderStrategy"):
        driver.service_strategies[answer["service"]["serviceArn"]] = body["capacityProviderStrategy"]
    for service in answer.get("services", [answer.get("service", {})]):
        strategy = driver.service_strategies.get(service.get("serviceArn", ""))
        if strategy:
            service["capacityProviderStrategy"] = strategy
            service.pop("launchType", None)
    return answer


def encode(answer: dict[str, Any]) -> bytes:
    return json.dumps(answer, default=str).encode()
