"""Names cut from ARNs: the part after the last `/` is a task's ID, a revision's `family:number`, a cluster's
name; and the shape of a region's name. One place, so that every line, link and output names a thing the same way."""

from __future__ import annotations

import re

# a region's name in any partition (eu-west-1, us-gov-west-1, cn-north-1, eusc-de-east-1): never a host or a path
REGION = re.compile(r"[a-z]{2,4}(-[a-z]+)+-[0-9]{1,2}")


def task_id(arn: str) -> str:
    """`arn:aws:ecs:...:task/prod/0a1b2c3d` -> `0a1b2c3d` (a bare ID stays as it is)."""
    return arn.rsplit("/", 1)[-1]


def revision(task_definition_arn: str) -> str:
    """`arn:aws:ecs:...:task-definition/app:7` -> `app:7`."""
    return task_definition_arn.rsplit("/", 1)[-1]


def cluster_name(cluster: str) -> str:
    """A cluster's name from its name or ARN."""
    return cluster.rsplit("/", 1)[-1]
