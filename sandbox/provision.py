"""What the account owner sets up before the tool runs: clusters, network, task definitions."""

from __future__ import annotations

from typing import Any

import boto3
from moto.ecs.models import ecs_backends

from .cwlogs import LogWriter
from .middleware import SETUP_HEADER
from .spec import Container

REGION = "us-east-1"
# Enough room that placement never fails: moto keeps resources of stopped tasks reserved.
PLENTY = 10**9
AMI_ID = "ami-12c6146b"  # one of moto's default AMIs


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

    def register(
        self,
        family: str,
        containers: list[Container],
        *,
        network_mode: str = "bridge",
        log_group: str | None = None,
        log_region: str | None = None,
        stream_prefix: str | None = None,
        task_role_arn: str | None = None,
        execution_role_arn: str | None = None,
        fargate: bool = False,
        volumes: list[dict[str, Any]] | None = None,
        region: str = REGION,
    ) -> str:
        group = log_group or f"/ecs/{family}"
        group_region = log_region or region
        defs: list[dict[str, Any]] = []
        for c in containers:
            d: dict[str, Any] = {
                "name": c.name,
                "image": c.image,
                "essential": c.essential,
                "memory": c.memory,
                "environment": [{"name": k, "value": v} for k, v in c.environment.items()],
            }
            if c.command is not None:
                d["command"] = c.command
            if c.logs:
                options = {"awslogs-group": group, "awslogs-region": group_region}
                prefix = family if stream_prefix is None else stream_prefix  # "": none, streams named by container ID
                if prefix:
                    options["awslogs-stream-prefix"] = prefix
                d["logConfiguration"] = {"logDriver": "awslogs", "options": options}
            defs.append(d)
        if any(c.logs for c in containers):
            self.logs.ensure_group(group_region, group)
        kwargs: dict[str, Any] = {"family": family, "containerDefinitions": defs, "networkMode": network_mode}
        if task_role_arn:
            kwargs["taskRoleArn"] = task_role_arn
        if execution_role_arn:
            kwargs["executionRoleArn"] = execution_role_arn
        if volumes:
            kwargs["volumes"] = volumes
        if fargate:
            kwargs.update(requiresCompatibilities=["FARGATE"], cpu="256", memory="512")
        td = self._client("ecs", region).register_task_definition(**kwargs)["taskDefinition"]
        return str(td["taskDefinitionArn"])
