"""Links to the AWS console: a task's page and a log stream's, in the commercial, China and GovCloud partitions.

Every part of a link comes from AWS or a task definition (a log region, a group name), so each is checked or
encoded: a region that does not look like one gives no link at all rather than a link somewhere else."""

from __future__ import annotations

import urllib.parse

from ecs_run_task import arns


def base(region: str) -> str:
    """`https://<region>.<console host>`, or "" when `region` is not a region's name."""
    if not arns.REGION.fullmatch(region) or region.startswith("eusc-"):  # no console host known for that one
        return ""
    if region.startswith("cn-"):
        return f"https://{region}.console.amazonaws.cn"
    if region.startswith("us-gov-"):
        return f"https://{region}.console.amazonaws-us-gov.com"
    return f"https://{region}.console.aws.amazon.com"


def _tasks(region: str, cluster: str) -> str:
    """The path of the cluster's tasks in the ECS console, without the query; "" when the region is not one."""
    home = base(region)
    return f"{home}/ecs/v2/clusters/{urllib.parse.quote(arns.cluster_name(cluster), safe='')}/tasks" if home else ""


def task_url(region: str, cluster: str, task_arn: str) -> str:
    """The task's page in the ECS console; "" when the region is not one."""
    tasks = _tasks(region, cluster)
    task = urllib.parse.quote(arns.task_id(task_arn), safe="")
    return f"{tasks}/{task}/configuration?region={region}" if tasks else ""


def tasks_url(region: str, cluster: str) -> str:
    """The cluster's list of tasks in the ECS console; "" when the region is not one."""
    tasks = _tasks(region, cluster)
    return f"{tasks}?region={region}" if tasks else ""


def log_stream_url(region: str, group: str, stream: str) -> str:
    """A stream's page in CloudWatch (its group's, for a stream not named yet); "" when the region is not one. The
    console's fragment encodes twice, `%` written as `$`."""
    home = base(region)
    if not home:
        return ""

    def enc(text: str) -> str:
        return urllib.parse.quote(urllib.parse.quote(text, safe=""), safe="").replace("%", "$")

    page = f"{home}/cloudwatch/home?region={region}#logsV2:log-groups/log-group/{enc(group)}"
    return f"{page}/log-events/{enc(stream)}" if stream else page  # no stream yet: its group
