"""The failure catalogue: real messages get the right hint, ordinary exits get none, and the generated doc is current.

Messages are quoted as AWS documents them ("Amazon ECS stopped task error messages", "CannotPullContainer task
errors", "Troubleshooting Amazon ECS TaskFailedToStart errors", "API failures error messages", the ECS agent's
`errormessages` package) or as users of comparable tools quote them, with registry host names replaced by REGISTRY
and account IDs by 123456789012.
"""

from __future__ import annotations

import ast
from functools import partial

import pytest

from ecs_run_task.errors import Hint
from ecs_run_task.verdict import failures, failures_doc
from ecs_run_task.verdict.failures import (
    API,
    CATALOGUE,
    RUN,
    STOPPED_BY,
    TASK,
    for_aws_error,
    for_run_failures,
    for_task,
)
from tests.helpers import ROOT

ROLE = "arn:aws:sts::123456789012:assumed-role/ecsTaskExecutionRole/0a1b2c3d"
DEPLOYER = "arn:aws:sts::123456789012:assumed-role/deploy/GitHubActions"


def task(exit_code: int | None, stop_code: str = "", reason: str = "", stopped: str = "") -> partial[Hint | None]:
    return partial(for_task, exit_code=exit_code, stop_code=stop_code, stopped_reason=stopped, container_reason=reason)


def never_ran(reason: str) -> partial[Hint | None]:
    return task(None, "TaskFailedToStart", stopped=reason)


def run(*reasons: str) -> partial[Hint | None]:
    return partial(for_run_failures, reasons)


def api(code: str, message: str, action: str = "ecs:RunTask") -> partial[Hint | None]:
    return partial(for_aws_error, code=code, message=message, action=action)


def key_of(hint: Hint | None) -> str | None:
    return hint.key if hint else None


def given(hint: Hint | None) -> Hint:
    assert hint is not None
    return hint


OOM = "OutOfMemoryError: Container killed due to memory usage"
PULL_DENIED = ("CannotPullContainerError: Error response from daemon: pull access denied for REGISTRY/app, repository "
               "does not exist or may require 'docker login': denied: User: " + ROLE + " is not authorized to perform: "
               "ecr:BatchGetImage on resource: arn:aws:ecr:us-east-1:123456789012:repository/app because no "
               "identity-based policy allows the ecr:BatchGetImage action")  # fmt: skip
PULL_NOT_FOUND = ("CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve ref "
                  "REGISTRY/app:v9: not found")  # fmt: skip
PULL_NO_ROUTE = ('CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve ref '
                 'REGISTRY/backend:2.110.5: failed to do request: Head "https://REGISTRY/v2/backend/manifests/2.110.5": '
                 "dial tcp 34.205.13.154:443: i/o timeout")  # fmt: skip
PASS_ROLE = (f"User: {DEPLOYER} is not authorized to perform: iam:PassRole on resource: "
             "arn:aws:iam::123456789012:role/ecsTaskExecutionRole because no identity-based policy allows the iam:PassRole action")  # fmt: skip
RUN_DENIED = (f"User: {DEPLOYER} is not authorized to perform: ecs:RunTask on resource: "
              "arn:aws:ecs:us-east-1:123456789012:task-definition/app:12 because no identity-based policy allows the ecs:RunTask action")  # fmt: skip
UNASSUMABLE = ("ECS was unable to assume the role 'arn:aws:iam::123456789012:role/app-task' that was provided for this "
               "task. Please verify that the role being passed has the proper trust relationship and permissions and "
               "that your IAM user has permissions to pass this role.")  # fmt: skip
PULL_RATE_LIMIT = ("CannotPullContainerError: Error response from daemon: toomanyrequests: You have reached your pull "
                   "rate limit. You may increase the limit by authenticating and upgrading")  # fmt: skip
WRONG_PLATFORM = "CannotPullContainerError: image Manifest does not contain descriptor matching platform 'linux/amd64'"
LOGGER_NO_ROUTE = ("ResourceInitializationError: failed to validate logger args: The task cannot find the Amazon "
                   "CloudWatch log group defined in the task definition. There is a connection issue between the task "
                   "and Amazon CloudWatch. Check your network configuration. signal: killed")  # fmt: skip

REAL = [
    # -- the container's own end --
    ("out-of-memory", task(137, "EssentialContainerExited", OOM, "Essential container in task exited")),
    ("out-of-memory", task(137, "", "OutOfMemoryError: container killed due to memory usage")),
    ("killed-after-stop", task(137, "UserInitiated", stopped="Task stopped by user")),
    ("killed-after-stop", task(137, "EssentialContainerExited", stopped="Essential container in task exited")),
    ("killed", task(137)),
    ("segfault", task(139, "EssentialContainerExited", stopped="Essential container in task exited")),
    ("terminated", task(143, "SpotInterruption", stopped="Your Spot Task was interrupted.")),
    ("terminated", task(143, "ServiceSchedulerInitiated", stopped="Scaling activity initiated by (deployment ecs-svc/1234567890123456789)")),
    ("stopped-from-outside", task(0, "UserInitiated", stopped="Task stopped by user")),
    ("stopped-from-outside", task(1, "SpotInterruption", stopped="Your Spot Task was interrupted.")),
    ("stopped-from-outside", task(0, "TerminationNotice", stopped="ECS is performing maintenance on the underlying infrastructure hosting the task")),
    ("command-not-executable", task(126, "EssentialContainerExited", stopped="Essential container in task exited")),
    ("command-not-found", task(127, "EssentialContainerExited", stopped="Essential container in task exited")),
    # -- image pull --
    ("wrong-architecture", never_ran(WRONG_PLATFORM)),
    ("wrong-architecture", never_ran("CannotPullContainerError: no matching manifest for linux/amd64 in the manifest list entries")),
    ("pull-denied", never_ran(PULL_DENIED)),
    ("pull-denied", never_ran("CannotPullContainerError: The task can\u2019t pull the image. Check that the role has the permissions to pull images from the registry. " + PULL_DENIED[26:])),
    ("pull-denied", never_ran("ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: unable to retrieve ecr registry auth: service call has been retried 3 time(s): AccessDeniedException: User: " + ROLE + " is not authorized to perform: ecr:GetAuthorizationToken on resource: * because no identity-based policy allows the ecr:GetAuthorizationToken action")),
    ("pull-rate-limit", never_ran(PULL_RATE_LIMIT)),
    ("pull-rate-limit", never_ran("CannotPullContainerError: ERROR: toomanyrequests: Too Many Requests.")),
    ("no-space", never_ran("CannotPullContainerError: write /var/lib/docker/tmp/GetImageBlob111111111: no space left on device")),
    ("pull-not-found", never_ran("CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve ref REGISTRY/app:v42: not found")),
    ("pull-not-found", never_ran("CannotPullContainerError: API error (404): repository REGISTRY/app not found")),
    ("pull-not-found", never_ran("CannotPullContainerError: Error response from daemon: manifest for REGISTRY/app:v42 not found: manifest unknown: manifest unknown")),
    ("pull-not-found", never_ran("CannotPullContainerError: The task can\u2019t pull the image. Check whether the image exists. Error response from daemon: pull access denied for REGISTRY/app, repository does not exist or may require 'docker login': denied: requested access to the resource is denied")),
    ("pull-no-route", never_ran(PULL_NO_ROUTE)),
    ("pull-no-route", never_ran('CannotPullContainerError: Error response from daemon: Get "https://REGISTRY/v2/": net/http: request canceled while waiting for connection (Client.Timeout exceeded while awaiting headers)')),
    ("pull-no-route", never_ran("CannotPullContainerError: API error (500): Get https://REGISTRY/v2/: net/http: request canceled while waiting for connection")),
    ("pull-no-route", never_ran("CannotPullContainerError: The task cannot pull \u2018app\u2019 from the Amazon ECR repository \u2018REGISTRY/app\u2019. There is a connection issue between the task and Amazon ECR. Check your task network configuration.")),
    ("pull-no-route", never_ran("CannotPullContainerError: ref pull has been retried 1 time(s): failed to copy: httpReadSeeker: failed open: failed to do request: context deadline exceeded")),
    ("pull-failed", never_ran("CannotPullContainerError: ref pull has been retried 1 time(s): failed to copy: httpReaderSeeker: failed open: unexpected status code")),
    ("pull-failed", never_ran("CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve ref REGISTRY/app:v42: failed to do request: Head")),
    # -- secrets, logs, network before the start --
    ("secrets-denied", never_ran("ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: unable to retrieve secret from asm: service call has been retried 5 time(s): AccessDeniedException: User: " + ROLE + " is not authorized to perform: secretsmanager:GetSecretValue on resource: arn:aws:secretsmanager:us-east-1:123456789012:secret:app/db-AbCdEf")),
    ("secrets-denied", never_ran("ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: unable to retrieve secrets from ssm: service call has been retried 1 time(s): operation error SSM: GetParameters, https response error StatusCode: 400, api error AccessDeniedException: User: " + ROLE + " is not authorized to perform: ssm:GetParameters on resource: arn:aws:ssm:eu-west-1:123456789012:parameter/app/production/DATABASE_URL")),
    ("secrets-denied", never_ran("ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: unable to retrieve secrets from ssm: service call has been retried 1 time(s): AccessDeniedException: Access to KMS is not allowed")),
    ("secrets-denied", never_ran("Fetching secret data from SSM Parameter Store in us-west-2: AccessDeniedException: User: " + ROLE + " is not authorized to perform: ssm:GetParameters on resource: arn:aws:ssm:us-west-2:123456789012:parameter/app/db")),
    ("secret-not-found", never_ran("ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: unable to retrieve secret from asm: service call has been retried 1 time(s): failed to fetch secret arn:aws:secretsmanager:ap-southeast-2:123456789012:secret:app-secrets-AbCdEf from secrets manager: operation error Secrets Manager: GetSecretValue, https response error StatusCode: 400, ResourceNotFoundException: Secrets Manager can't find the specified secret value for staging label: AWSCURRENT")),
    ("secret-not-found", never_ran("ResourceInitializationError: unable to retrieve secret from asm: retrieved secret from Secrets Manager did not contain json key connectionString")),
    ("secret-not-found", never_ran("ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: unable to retrieve secret from asm: service call has been retried 1 time(s): InvalidRequestException: You can't perform this operation on the secret because it was marked for deletion.")),
    ("log-denied", never_ran("ResourceInitializationError: failed to validate logger args: create stream has been retried 1 times: failed to create Cloudwatch log group: AccessDeniedException: User: " + ROLE + " is not authorized to perform: logs:CreateLogGroup on resource: arn:aws:logs:us-east-1:123456789012:log-group:/ecs/app:log-stream:")),
    ("log-group-missing", never_ran("ResourceInitializationError: failed to validate logger args: create stream has been retried 1 times: failed to create Cloudwatch log stream: ResourceNotFoundException: The specified log group does not exist.")),
    ("log-group-missing", never_ran("CannotStartContainerError: Error response from daemon: failed to initialize logging driver: failed to create Cloudwatch log stream: ResourceNotFoundException: The specified log group does not exist.")),
    ("subnet-full", never_ran("Unexpected EC2 error while attempting to Create Network Interface in subnet 'subnet-0a1b2c3d': InsufficientFreeAddressesInSubnet")),
    ("subnet-full", never_ran("ResourceInitializationError: failed to configure ENI: no available IP addresses in subnet subnet-0a1b2c3d")),
    ("init-no-route", never_ran("ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: unable to retrieve secret from asm: service call has been retried 5 time(s): failed to fetch secret arn:aws:secretsmanager:eu-west-1:123456789012:secret:rds-db-credentials/app-b2fPcF from secrets manager: RequestCanceled: request context canceled caused by: context deadline exceeded. Please check your task network configuration")),
    ("init-no-route", never_ran("ResourceInitializationError: unable to pull secrets or registry auth: pull command failed: : signal: killed")),
    ("init-no-route", never_ran(LOGGER_NO_ROUTE)),  # it says it "cannot find the log group" too: not log-group-missing
    ("init-no-route", never_ran('CannotStartContainerError: Error response from daemon: failed to initialize logging driver: failed to create Cloudwatch log stream: RequestError: send request failed caused by: Post "https://LOGS/": dial tcp 10.0.0.2:443: i/o timeout')),
    ("init-no-route", never_ran("ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: unable to retrieve ecr registry auth: service call has been retried 3 time(s): RequestError: send request failed caused by: Post \"https://ECR_API/\": dial tcp 10.0.0.3:443: i/o timeout")),
    # -- starting the container --
    ("wrong-architecture", task(1, "EssentialContainerExited", "exec /usr/local/bin/python3: exec format error")),
    ("wrong-architecture", never_ran("CannotStartContainerError: Error response from daemon: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: exec format error: unknown")),
    ("command-not-in-image", never_ran('CannotStartContainerError: Error response from daemon: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: exec: "bin/rails": executable file not found in $PATH: unknown')),
    ("command-not-in-image", never_ran('CannotStartContainerError: ResourceInitializationError: failed to create new container runtime task: failed to create shim: OCI runtime create failed: container_linux.go:380: starting container process caused: exec: "/bin/sh": stat /bin/sh: no such file or directory: unknown')),
    ("command-permission-denied", never_ran('CannotStartContainerError: Error response from daemon: OCI runtime create failed: container_linux.go:380: starting container process caused: exec: "/": permission denied: unknown')),
    # -- start failures that pass --
    ("provisioning-timeout", never_ran("Timeout waiting for network interface provisioning to complete.")),
    ("provisioning-timeout", never_ran("Timeout waiting for EphemeralStorage provisioning to complete.")),
    ("spot-interruption", task(None, "SpotInterruption", stopped="Your Spot Task was interrupted.")),
    # -- RunTask's failures[] --
    ("resource-cpu-memory", run("RESOURCE:MEMORY (arn:aws:ecs:us-east-1:123456789012:container-instance/default/0a1b2c3d)")),
    ("resource-cpu-memory", run("RESOURCE:CPU")),
    ("resource-eni", run("RESOURCE:ENI")),
    ("resource-ports", run("RESOURCE:PORTS_TCP")),
    ("agent-disconnected", run("AGENT")),
    ("fargate-capacity", run("Capacity is unavailable at this time. Please try again later or in a different availability zone")),
    ("placement-attribute", run("ATTRIBUTE")),
    ("placement-missing", run("MISSING")),
    ("inactive", run("INACTIVE")),
    ("no-container-instances", run("No Container Instances were found in your cluster.")),
    ("task-quota", run("You\u2019ve reached the limit on the number of vCPUs you can run concurrently")),
    # -- errors of our own calls --
    ("expired-credentials", api("ExpiredTokenException", "The security token included in the request is expired")),
    ("expired-credentials", api("ExpiredToken", "The security token included in the request is expired")),
    ("expired-credentials", api("RequestExpired", "Request has expired.")),
    ("bad-credentials", api("UnrecognizedClientException", "The security token included in the request is invalid.")),
    ("pass-role-denied", api("AccessDeniedException", PASS_ROLE)),
    ("role-unassumable", api("ClientException", UNASSUMABLE)),
    ("execution-role-missing", api("ClientException", "Fargate requires task definition to have execution role ARN to support log driver awslogs.", "ecs:RegisterTaskDefinition")),
    ("access-denied-resource", api("AccessDeniedException", RUN_DENIED)),
    ("access-denied", api("UnauthorizedOperation", "You are not authorized to perform this operation. Encoded authorization failure message: 0a1b2c", "ec2:DescribeSubnets")),
    ("cluster-not-found", api("ClusterNotFoundException", "Cluster not found.")),
    ("service-not-found", api("ServiceNotActiveException", "Service was not ACTIVE.", "ecs:DescribeServices")),
    ("task-definition-inactive", api("InvalidParameterException", "TaskDefinition is inactive")),
    ("task-definition-not-found", api("ClientException", "Unable to describe task definition.", "ecs:DescribeTaskDefinition")),
    ("task-definition-not-found", api("InvalidParameterException", "TaskDefinition not found.")),
    ("no-container-instances", api("InvalidParameterException", "No Container Instances were found in your cluster.")),
    ("launch-type-incompatible", api("InvalidParameterException", "Task definition does not support launch_type FARGATE.")),
    ("invalid-network", api("InvalidParameterException", "Network Configuration must be provided when networkMode 'awsvpc' is specified.")),
    ("invalid-network", api("InvalidParameterException", "Error retrieving subnet information for [subnet-0d62741a9b460cc61]: The subnet ID 'subnet-0d62741a9b460cc61' does not exist (ErrorCode: InvalidSubnetID.NotFound)")),
]  # fmt: skip


@pytest.mark.parametrize(("key", "call"), REAL, ids=[f"{key}-{n}" for n, (key, _) in enumerate(REAL)])
def test_a_real_message_gets_its_hint(key: str, call: partial[Hint | None]) -> None:
    assert key_of(call()) == key


def test_every_signature_has_a_real_message_here() -> None:
    assert {s.key for s in CATALOGUE} == {key for key, _ in REAL}


@pytest.mark.parametrize("sig", CATALOGUE, ids=[s.key for s in CATALOGUE])
def test_every_signature_recognises_its_own_example_before_any_other_does(sig: failures.Signature) -> None:
    """Any signature ordered before a more specific one it overlaps with takes that one's example: this fails."""
    if sig.seen_in[0] == TASK:
        exit_code = sig.exit_codes[0] if sig.exit_codes else 0 if sig.ran else None
        hint = for_task(exit_code=exit_code, stop_code=next(iter(sig.stop_codes), ""), container_reason=sig.example)
    elif sig.seen_in[0] == RUN:
        hint = for_run_failures([sig.example])
    else:
        code = next(iter(sig.error_codes), "ClientException")
        hint = for_aws_error(code=code, message=sig.example, action="ecs:RunTask")
    assert key_of(hint) == sig.key


# -- what the hints say --------------------------------------------------------------------------------------------


def test_out_of_memory_says_which_memory_to_raise() -> None:
    assert for_task(exit_code=137, stop_code="EssentialContainerExited", container_reason=OOM) == Hint(
        "out-of-memory",
        "The container used more memory than its limit and was killed (OutOfMemoryError).",
        "Raise the memory: the `memory` input for the task, or `memory` in the container definition when the container has its own limit.",
        headline="the container ran out of memory",
    )


def test_out_of_memory_quotes_the_limit_that_was_hit() -> None:
    """The container's own limit is what it hit, and the task-level `memory` input does not raise it: said so."""
    own = given(for_task(exit_code=137, container_reason=OOM,
                         facts={"container": "migrate", "container_memory": "128", "task_memory": "512"}))  # fmt: skip
    assert own.headline == "container migrate ran out of memory"
    assert (
        own.cause
        == "Container migrate used more than its own memory limit (128 MiB) and was killed (OutOfMemoryError)."
    )
    assert own.fix == ("Raise `memory` in the definition of container migrate (now 128 MiB): that is the limit it hit, "
                       "and the `memory` input, which sizes the whole task, will not raise it.")  # fmt: skip
    shared = given(for_task(exit_code=137, container_reason=OOM, facts={"container": "migrate", "task_memory": "512"}))
    assert (
        shared.fix == "Raise the task's memory: the `memory` input (now 512 MiB), or `memory` in the task definition."
    )


def test_a_pull_failure_names_the_image_and_a_refused_pull_the_role() -> None:
    pull = given(
        for_task(exit_code=None, container_reason=PULL_NOT_FOUND, facts={"container": "web", "image": "acme/app:v9"})
    )
    assert pull.headline == "container web could not start: image not found"
    assert pull.fix.startswith("Check image `acme/app:v9` of container web (the task definition, or the `image` input)")
    denied = given(
        for_task(exit_code=None, container_reason=PULL_DENIED, facts={"container": "web", "image": "acme/app:v9"})
    )
    assert denied.fix.startswith("Grant role `ecsTaskExecutionRole` (the execution role) `ecr:GetAuthorizationToken`")
    assert "on `acme/app:v9`" in denied.fix
    sly = given(for_aws_error(code="AccessDenied", action="ecs:RunTask", message=RUN_DENIED.replace("app:12", "a`b")))
    assert "on `arn:aws:ecs:us-east-1:123456789012:task-definition/a'b`" in sly.fix  # AWS's text ends no code span


def test_a_pull_without_a_route_names_the_network_fix_and_may_pass_on_a_retry() -> None:
    hint = for_task(exit_code=None, stop_code="TaskFailedToStart", container_reason=PULL_NO_ROUTE)
    assert hint == Hint(
        "pull-no-route",
        "The task could not reach the registry to pull the image: its subnet has no route there.",
        "Give the task a way out: a private subnet needs a NAT gateway or VPC endpoints for ECR (api and dkr) and S3, "
        "a public subnet needs `assign-public-ip: true`.",
        transient_start=True,
        headline="the container could not start: the image registry could not be reached",
    )


def test_sigterm_says_who_stopped_the_task_from_its_stop_code() -> None:
    spot = for_task(exit_code=143, stop_code="SpotInterruption", stopped_reason="Your Spot Task was interrupted.")
    assert spot == Hint(
        "terminated",
        "The container exited on SIGTERM (exit 143) because Fargate Spot (or an EC2 Spot instance) reclaimed its capacity.",
        "Run it again, or run it on on-demand capacity: `launch-type: FARGATE`, or a `capacity-provider-strategy` "
        "without FARGATE_SPOT.",
        headline="the container was stopped by a Spot interruption",
    )
    user = given(for_task(exit_code=143, stop_code="UserInitiated", stopped_reason="Task stopped by user"))
    assert "called StopTask (the stopped reason says who)" in user.cause
    sidecar = given(for_task(exit_code=137, stop_code="EssentialContainerExited"))
    assert sidecar.key == "killed-after-stop"
    assert sidecar.cause.startswith("ECS stopped the task because another essential container in the task exited, and")
    unknown = given(for_task(exit_code=143))
    assert unknown.cause.endswith("because something sent it SIGTERM before ECS reported a stop code.")


def test_an_exit_after_a_stop_from_outside_says_who_stopped_it_and_never_when_it_never_ran() -> None:
    scheduler = given(for_task(exit_code=0, stop_code="ServiceSchedulerInitiated",
                               stopped_reason="Scaling activity initiated by (deployment ecs-svc/1234567890123456789)"))  # fmt: skip
    assert scheduler.key == "stopped-from-outside"
    assert scheduler.cause == (
        "ECS was asked to stop the task while the container ran, because the ECS service scheduler stopped it (a "
        "deployment, a scale-in or a failed health check), and the container then exited, so its work may be half "
        "done (a migration half applied).")  # fmt: skip
    assert scheduler.fix.startswith("Read the stopped reason for the service event that stopped it")
    assert key_of(for_task(exit_code=None, stop_code="UserInitiated", stopped_reason="Task stopped by user")) is None
    assert key_of(for_task(exit_code=0, stop_code="EssentialContainerExited")) is None  # a container's own exit


def test_access_denied_names_the_action_and_resource_from_the_message_before_the_callers() -> None:
    hint = given(for_aws_error(code="AccessDeniedException", action="ecs:RunTask", message=(
        f"User: {DEPLOYER} is not authorized to perform: ecs:TagResource on resource: "
        "arn:aws:ecs:us-east-1:123456789012:task/app/0a1b2c3d because no identity-based policy allows the ecs:TagResource action")))  # fmt: skip
    assert hint.fix == (
        "Grant `ecs:TagResource` on `arn:aws:ecs:us-east-1:123456789012:task/app/0a1b2c3d` to the role this job runs as."
    )
    bare = for_aws_error(code="AccessDeniedException", message="User is not authorized", action="ecs:DescribeTasks")
    assert bare == Hint("access-denied", "AWS refused `ecs:DescribeTasks` to the role this job runs as.",
                        "Grant `ecs:DescribeTasks` to the role this job runs as.",
                        headline="AWS denied ecs:DescribeTasks")  # fmt: skip


def test_a_role_that_cannot_be_passed_is_named() -> None:
    passing = given(for_aws_error(code="AccessDeniedException", message=PASS_ROLE, action="ecs:RunTask"))
    assert passing.fix.startswith(
        "Grant `iam:PassRole` on `arn:aws:iam::123456789012:role/ecsTaskExecutionRole` (the task role or execution role"
    )
    assuming = given(for_aws_error(code="ClientException", message=UNASSUMABLE, action="ecs:RunTask"))
    assert "`arn:aws:iam::123456789012:role/app-task`" in assuming.cause


def test_expired_credentials_ask_for_a_longer_session() -> None:
    hint = given(for_aws_error(code="ExpiredTokenException", message="The security token included in the request is expired",
                               action="ecs:DescribeTasks"))  # fmt: skip
    assert hint.fix == (
        "Ask for a longer session, for example `role-duration-seconds` of aws-actions/configure-aws-credentials, up to "
        "the role's maximum session duration (which the role's settings may need raised).")  # fmt: skip


# -- the most specific hint wins -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("call", "key", "over"), [
    (never_ran(PULL_DENIED), "pull-denied", "pull-not-found"),  # it also says "repository does not exist"
    (never_ran(WRONG_PLATFORM), "wrong-architecture", "pull-failed"),
    (task(137, "UserInitiated", OOM, "Task stopped by user"), "out-of-memory", "killed-after-stop"),
    (task(137, "UserInitiated", stopped="Task stopped by user"), "killed-after-stop", "killed"),
    (never_ran(PULL_NO_ROUTE), "pull-no-route", "pull-failed"),
    (never_ran(PULL_RATE_LIMIT), "pull-rate-limit", "pull-failed"),
    (api("AccessDeniedException", PASS_ROLE), "pass-role-denied", "access-denied-resource"),
    (api("AccessDeniedException", RUN_DENIED), "access-denied-resource", "access-denied"),
])  # fmt: skip
def test_the_most_specific_signature_wins(
    call: partial[Hint | None], key: str, over: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert key_of(call()) == key
    monkeypatch.setattr(failures, "CATALOGUE", tuple(s for s in CATALOGUE if s.key != key))
    assert key_of(call()) == over  # it matches too: only the order decides


# -- no hint -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("call", [
    task(1, "EssentialContainerExited", stopped="Essential container in task exited"),
    task(3, "EssentialContainerExited", stopped="Essential container in task exited"),
    task(2),
    task(0, "EssentialContainerExited", stopped="Essential container in task exited"),
    never_ran("Task failed to start"),
    never_ran("ResourceInitializationError: something new"),
    run("SOMETHING_NEW"),
    run(),
    api("ThrottlingException", "Rate exceeded"),
    api("InvalidParameterException", "Error retrieving subnet information for [subnet-abc123]: Rate exceeded (ErrorCode: Throttling)"),
    api("InvalidParameterException", "Invalid revision number. Number: 0"),
])  # fmt: skip
def test_an_ordinary_exit_or_an_unknown_message_gets_no_hint(call: partial[Hint | None]) -> None:
    assert call() is None


def test_an_unknown_pull_failure_gets_the_general_pull_hint() -> None:
    unknown = "CannotPullContainerError: something nobody has seen yet"
    assert key_of(for_task(exit_code=None, stopped_reason=unknown)) == "pull-failed"


# -- the catalogue itself ------------------------------------------------------------------------------------------


def test_start_retries_retry_capacity_timeouts_spot_and_rate_limits_never_denials() -> None:
    assert {s.key for s in CATALOGUE if s.transient_start} == {
        "pull-rate-limit", "pull-no-route", "init-no-route", "provisioning-timeout", "spot-interruption",
        "resource-cpu-memory", "resource-eni", "resource-ports", "agent-disconnected", "fargate-capacity",
    }  # fmt: skip


def test_keys_are_unique_and_every_signature_asks_for_something() -> None:
    assert len({s.key for s in CATALOGUE}) == len(CATALOGUE)
    assert all(s.seen_in and (s.text or s.exit_codes or s.stop_codes or s.error_codes) for s in CATALOGUE)
    assert all(where in (TASK, RUN, API) for s in CATALOGUE for where in s.seen_in)


def test_every_cause_and_fix_is_one_sentence() -> None:
    texts = [t for s in CATALOGUE for t in (s.cause, s.fix, *s.causes, *s.fixes) if t != "{then}"]
    for text in texts + [m.then for m in STOPPED_BY.values()]:
        assert (text[0].isupper() or text.startswith("{Who}"), text[-1], ". " in text) == (True, ".", False), text


def test_every_signature_has_a_headline_that_names_the_container_of_a_stopped_task() -> None:
    """A stopped task's headline starts with `{who}` (`container migrate ...`), others stand alone; all are short,
    lower case (they follow `error: ` and `could not start the task: `) and end without a full stop."""
    for sig in CATALOGUE:
        assert sig.headline.startswith("{who}") == (sig.seen_in == (TASK,)), sig.key
        assert len(sig.headline) <= 80, sig.key
        assert sig.headline[0].islower() or sig.headline[0] in "{AEF", sig.key  # AWS, ECS, Fargate
        assert not sig.headline.endswith("."), sig.key
        assert failures.fields(sig.headline) <= {"who", "stopped_how", "action", "resource", "role"}, sig.key


def test_the_specific_texts_use_only_the_facts_a_stopped_task_gives() -> None:
    facts = {"who", "Who", "image", "container_memory", "task_memory", "role_name", "stopped_by", "then"}
    for sig in CATALOGUE:
        for text in (*sig.causes, *sig.fixes):
            assert failures.fields(text) <= facts, (sig.key, text)


def test_the_module_is_pure_stdlib_but_for_the_hint_type() -> None:
    tree = ast.parse((ROOT / "src/ecs_run_task/verdict/failures.py").read_text())
    imported = {n.module if isinstance(n, ast.ImportFrom) else a.name for n in ast.walk(tree)
                if isinstance(n, ast.Import | ast.ImportFrom) for a in n.names}  # fmt: skip
    assert imported <= {"__future__", "re", "collections.abc", "dataclasses", "functools", "ecs_run_task.errors"}


def test_the_committed_doc_is_what_the_command_prints(capsys: pytest.CaptureFixture[str]) -> None:
    failures_doc.main()
    printed = capsys.readouterr().out
    assert printed == failures_doc.render()
    assert (ROOT / "docs/failures.md").read_text() == printed, f"run: {failures_doc.COMMAND}"
    assert (
        f"Generated by `{failures_doc.COMMAND}` from src/ecs_run_task/verdict/failures.py: do not edit by hand."
        in printed
    )
    assert all(f"### `{s.key}`" in printed for s in CATALOGUE)
