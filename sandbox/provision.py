"""What the account owner sets up before the tool runs: clusters, network, task definitions."""

from __future__ import annotations

from typing import Any, TypedDict, Unpack

import boto3
from moto.ecs.models import ecs_backends

from .cwlogs import LogWriter
from .middleware import SETUP_HEADER
from .spec import Container

REGION = "us-east-1"
# Enough room that placement never fails: moto keeps resources of stopped tasks reserved.
PLENTY = 10**9
AMI_ID = "ami-12c6146b"  # one of moto's default AMIs


class Registration(TypedDict, total=False):
    """What `register` takes besides the family and its containers; each may be left out."""

    network_mode: str  # "bridge" when left out
    log_group: str | None  # /ecs/<family>
    log_region: str | None  # the task definition's region
    stream_prefix: str | None  # the family; "": none, the stream is named by the container's ID (awslogs on EC2)
    log_mode: str | None  # awslogs "mode": "blocking" or "non-blocking"; left out, ECS's default (non-blocking)
    task_role_arn: str | None
    execution_role_arn: str | None
    fargate: bool  # requiresCompatibilities FARGATE, with task-level cpu and memory
    volumes: list[dict[str, Any]] | None
    region: str  # us-east-1


def _mark_setup(request: Any, **_: Any) -> None:
    request.headers[SETUP_HEADER] = "1"


def plain_client(service: str, endpoint: str, region: str = REGION) -> Any:
    factory: Any = boto3.client  # Any: the stubs only type literal service names
    return factory(
        service,
        endpoint_url=endpoint,
        region_name=region,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def setup_client(service: str, endpoint: str, region: str = REGION) -> Any:
    """A boto3 client whose calls bypass recording and faults."""
    client = plain_client(service, endpoint, region)
    client.meta.events.register("before-sign.*.*", _mark_setup)
    return client


class Provisioner:
    def __init__(self, endpoint: str, account: str, logs: LogWriter) -> None:
        self.endpoint = endpoint
        self.account = account
        self.logs = logs
        self._clients: dict[tuple[str, str], Any] = {}

    def _client(self, service: str, region: str) -> Any:
        # boto3 client creation costs tens of ms: one per service and region.
        key = (service, region)
        if key not in self._clients:
            self._clients[key] = setup_client(service, self.endpoint, region)
        return self._clients[key]

    def create_cluster(self, name: str, region: str = REGION) -> str:
        """A cluster with one roomy EC2 container instance, so EC2 launch type places too."""
        arn: str = self._client("ecs", region).create_cluster(clusterName=name)["cluster"]["clusterArn"]
        # A fixed AMI: DescribeImages over HTTP costs seconds. RegisterContainerInstance would
        # need an instance identity document, so that part is in-process.
        ec2 = self._client("ec2", region)
        instance = ec2.run_instances(ImageId=AMI_ID, MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"]
        ci = ecs_backends[self.account][region].register_container_instance(name, instance)
        for res in ci.registered_resources + ci.remaining_resources:
            if res["name"] in ("CPU", "MEMORY"):
                res["integerValue"] = PLENTY
        return arn

    def create_network(self, region: str = REGION) -> tuple[list[str], list[str]]:
        """VPC (DNS hostnames on, as awsvpc needs), one subnet, one security group."""
        ec2 = self._client("ec2", region)
        vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})
        ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsSupport={"Value": True})
        subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
        sg = ec2.create_security_group(GroupName=f"sandbox-{vpc}", Description="sandbox", VpcId=vpc)["GroupId"]
        return [subnet], [sg]

    def register(self, family: str, containers: list[Container], **options: Unpack[Registration]) -> str:
        """RegisterTaskDefinition, as the account owner would; the task definition's ARN."""
        region = options.get("region", REGION)
        group = options.get("log_group") or f"/ecs/{family}"
        group_region = options.get("log_region") or region
        prefix = options.get("stream_prefix")
        awslogs = {"awslogs-group": group, "awslogs-region": group_region}
        if prefix != "":  # "": none, streams named by container ID
            awslogs["awslogs-stream-prefix"] = prefix or family
        if options.get("log_mode"):
            awslogs["mode"] = str(options.get("log_mode"))
        if any(c.logs for c in containers):
            self.logs.ensure_group(group_region, group)
        request: dict[str, Any] = {"family": family, "containerDefinitions": [_definition(c, awslogs) for c in containers],
                                   "networkMode": options.get("network_mode", "bridge")}  # fmt: skip
        for field, name in (("task_role_arn", "taskRoleArn"), ("execution_role_arn", "executionRoleArn"),
                            ("volumes", "volumes")):  # fmt: skip
            if options.get(field):
                request[name] = options.get(field)
        if options.get("fargate"):
            request.update(requiresCompatibilities=["FARGATE"], cpu="256", memory="512")
        td = self._client("ecs", region).register_task_definition(**request)["taskDefinition"]
        return str(td["taskDefinitionArn"])


def _definition(c: Container, awslogs: dict[str, str]) -> dict[str, Any]:
    """A container definition (`memory` always: moto insists on it), with awslogs unless `c.logs` is false."""
    d: dict[str, Any] = {"name": c.name, "image": c.image, "essential": c.essential, "memory": c.memory,
                         "environment": [{"name": k, "value": v} for k, v in c.environment.items()]}  # fmt: skip
    if c.command is not None:
        d["command"] = c.command
    if c.logs:
        d["logConfiguration"] = {"logDriver": "awslogs", "options": dict(awslogs)}
    return d
