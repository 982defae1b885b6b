"""A catalogue of failure signatures: what a failure looks like, its likely cause, and the fix. Pure, stdlib only.

Each signature says where it shows (a stopped task's reasons, RunTask's `failures`, or an error from one of our own
AWS calls) and how to recognise it: every criterion it gives must hold (exit code, stop code, AWS error code, and a
regex searched case-insensitively in the reason or message). Signatures are ordered from specific to general: the
first that matches gives the one hint. Texts are `str.format` templates; the only fields they use are:
  {stopped_by} {then}  what the task's stop code means, and what to do about it (STOPPED_BY below)
  {action}             the IAM action AWS refused: named in AWS's message, else the caller's (`ecs:DescribeTasks`)
  {resource} {role}    named groups of the signature's own regex
Patterns are compiled on first use, so an import only builds the data (about 2 ms from bytecode).
`docs/failures.md` is generated from this data by `python -m ecs_run_task.verdict.failures_doc`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache

from ecs_run_task.errors import Hint

TASK, RUN, API = "a stopped task", "RunTask failures", "an AWS error of our own call"


@dataclass(frozen=True)
class Signature:
    key: str  # stable id
    seen_in: tuple[str, ...]  # TASK, RUN and/or API
    headline: str  # what happened, in a few words: the title of the failure ("{who} ran out of memory")
    cause: str  # one sentence, plain words
    fix: str  # one sentence naming the input, IAM action or setting to change
    example: str  # a real message (host names replaced), or "" where the codes alone tell
    text: str = ""  # regex searched in each reason / the failure reason / the error message
    exit_codes: tuple[int | None, ...] = ()  # None: the container never ran
    stop_codes: tuple[str, ...] = ()
    error_codes: tuple[str, ...] = ()
    transient_start: bool = False  # a start that failed this way may pass if tried again
    ran: bool = False  # only for a container that ran: it has an exit code, whichever
    # more specific texts, each used (the first that can be) when every field it names is known: the task's own
    # figures and names (`{container_memory}`, `{image}`, ...), instead of the general `cause` and `fix`
    causes: tuple[str, ...] = ()
    fixes: tuple[str, ...] = ()

    def holds(self, exit_code: object, stop_code: str, error_code: str) -> bool:
        """Each code this signature asks for (where it asks for any) is the one seen."""
        pairs = ((self.exit_codes, exit_code), (self.stop_codes, stop_code), (self.error_codes, error_code))
        return all(seen in wanted for wanted, seen in pairs if wanted) and not (self.ran and exit_code is None)


@dataclass(frozen=True)
class StopMeaning:
    stopped_by: str  # completes "... because {stopped_by}"
    then: str  # what to do, one sentence
    how: str  # completes a headline: "container web was stopped {how}"


STOPPED_BY = {
    "UserInitiated": StopMeaning(
        "someone or something called StopTask (the stopped reason says who)",
        "Find out from the stopped reason who stopped the task (a person, another pipeline or a deploy tool), and run it again once that is settled.",
        "by a StopTask from outside",
    ),
    "ServiceSchedulerInitiated": StopMeaning(
        "the ECS service scheduler stopped it (a deployment, a scale-in or a failed health check)",
        "Read the stopped reason for the service event that stopped it, and run the task again once that is settled.",
        "by the ECS service scheduler",
    ),
    "SpotInterruption": StopMeaning(
        "Fargate Spot (or an EC2 Spot instance) reclaimed its capacity",
        "Run it again, or run it on on-demand capacity: `launch-type: FARGATE`, or a `capacity-provider-strategy` without FARGATE_SPOT.",
        "by a Spot interruption",
    ),
    "TerminationNotice": StopMeaning(
        "its host was being retired or drained (TerminationNotice)",
        "Run it again: AWS replaced the host, or an instance drain did not wait for the task to finish.",
        "because its host was retired",
    ),
    "EssentialContainerExited": StopMeaning(
        "another essential container in the task exited",
        "Look at the task's other essential containers: the first one to exit, with its exit code and logs, stopped the task.",
        "because another essential container exited",
    ),
}
UNKNOWN_STOP = StopMeaning(
    "something sent it SIGTERM before ECS reported a stop code",
    "Read the stopped reason and the other containers' exits once the task has stopped: a StopTask, a deployment or a process in the container sent the signal.",
    "by a SIGTERM",
)
_STOPS = tuple(STOPPED_BY)
# Stops asked for from outside the task: neither a container's own exit nor a start that failed. A deciding
# container that exits after one never counts as success (`outcome.judge_task`), whatever its exit code.
OUTSIDE_STOPS = ("UserInitiated", "ServiceSchedulerInitiated", "SpotInterruption", "TerminationNotice")
NOT_OUTSIDE = ("EssentialContainerExited", "TaskFailedToStart")

# shared pieces of the patterns
_PULL = r"CannotPullContainer|can.t pull|cannot pull"  # newer agents: "The task can't pull the image" (a curly ')
_NET = (r"i/o timeout|dial tcp|context deadline exceeded|context canceled|request canceled|Client\.Timeout"
        r"|connection (?:issue|refused|reset)|no such host|network configuration|signal: killed|handshake timeout")  # fmt: skip
_SECRETS = r"secrets? from (?:asm|ssm)|secretsmanager|Secrets Manager|Parameter Store|ssm:|GetParameters|GetSecretValue|\bkms\b"
_LOGS = r"logger|logging driver|logs:|cloudwatch"
_DENIED = ("AccessDeniedException", "AccessDenied", "UnauthorizedOperation")


def _all(*parts: str) -> str:
    """A regex that holds when every part is found, in any order."""
    return "^" + "".join(f"(?=.*(?:{p}))" for p in parts)


# the role an AWS message says was refused ("User: arn:aws:sts::123456789012:assumed-role/ecsTaskExecutionRole/0a1b
# is not authorized ..."), where it says so: `{role_name}`
_ROLE = r"(?:(?=.*?assumed-role/(?P<role_name>[\w+=,.@-]+)/))?"
_GRANT_ROLE = "Grant role `{role_name}` (the execution role) "


_RUN_AGAIN = "Run it again (`start-retries` does so)"
_WAY_OUT = "Give the task a way out: a private subnet needs a NAT gateway or VPC endpoints for "
_COMMAND = "Check the `command` input (or the task definition's `command` and `entryPoint`) against the image: "

CATALOGUE: tuple[Signature, ...] = (
    # -- memory and CPU architecture: said whether the container ran or not -------------------------------------------
    Signature("out-of-memory", (TASK,),
        "{who} ran out of memory",
        "The container used more memory than its limit and was killed (OutOfMemoryError).",
        "Raise the memory: the `memory` input for the task, or `memory` in the container definition when the container has its own limit.",
        "OutOfMemoryError: Container killed due to memory usage",
        text=r"OutOfMemory|killed due to memory usage",
        causes=("{Who} used more than its own memory limit ({container_memory} MiB) and was killed (OutOfMemoryError).",
                "The task's containers used more than the task's memory ({task_memory} MiB), and {who} was killed (OutOfMemoryError)."),
        fixes=("Raise `memory` in the definition of {who} (now {container_memory} MiB): that is the limit it hit, and the `memory` input, which sizes the whole task, will not raise it.",
               "Raise the task's memory: the `memory` input (now {task_memory} MiB), or `memory` in the task definition.")),
    # ECS may say so when it pulls the image (so before the pull signatures), or the kernel when it starts it
    Signature("wrong-architecture", (TASK,),
        "{who} could not run: its image is built for another CPU architecture",
        "The image was not built for the CPU architecture the task runs on (an arm64 image on X86_64, or the reverse).",
        "Build the image for the task's architecture (or for both, with `docker buildx build --platform linux/amd64,linux/arm64`), or set `runtimePlatform.cpuArchitecture` in the task definition to the image's.",
        "CannotPullContainerError: image Manifest does not contain descriptor matching platform 'linux/amd64'",
        text=r"exec format error|descriptor matching platform|no matching manifest for",
        fixes=("Build `{image}` for the task's architecture (or for both, with `docker buildx build --platform linux/amd64,linux/arm64`), or set `runtimePlatform.cpuArchitecture` in the task definition to the image's.",)),
    # -- image pull ---------------------------------------------------------------------------------------------------
    Signature("pull-denied", (TASK,),
        "{who} could not start: the image pull was denied",
        "The registry refused the pull: the execution role (on EC2, the instance role) may not read the image, or a private registry needs credentials.",
        "Grant the execution role `ecr:GetAuthorizationToken`, `ecr:BatchGetImage` and `ecr:GetDownloadUrlForLayer` (the AmazonECSTaskExecutionRolePolicy managed policy has them), or set `repositoryCredentials` in the container definition for a private registry.",
        "CannotPullContainerError: Error response from daemon: pull access denied for REGISTRY/app, repository does not exist or may require 'docker login': denied: User: arn:aws:sts::123456789012:assumed-role/ecsTaskExecutionRole/0a1b2c3d is not authorized to perform: ecr:BatchGetImage on resource: arn:aws:ecr:us-east-1:123456789012:repository/app because no identity-based policy allows the ecr:BatchGetImage action",
        text=_all(_PULL + "|ecr registry auth",
                  r"not authorized|permissions to pull|403 Forbidden|no basic auth credentials|unauthorized|AccessDenied") + _ROLE,
        fixes=(_GRANT_ROLE + "`ecr:GetAuthorizationToken`, `ecr:BatchGetImage` and `ecr:GetDownloadUrlForLayer` on `{image}` (the AmazonECSTaskExecutionRolePolicy managed policy has them), or set `repositoryCredentials` in the definition of {who} for a private registry.",)),
    Signature("pull-rate-limit", (TASK,),
        "{who} could not start: the registry's pull rate limit was reached",
        "The registry refused the pull because its pull rate limit was reached (anonymous pulls share a small allowance).",
        "Pull with an account (`repositoryCredentials` in the container definition), or copy the image into ECR, for example with an ECR pull through cache rule.",
        "CannotPullContainerError: Error response from daemon: toomanyrequests: You have reached your pull rate limit. You may increase the limit by authenticating and upgrading",
        text=r"toomanyrequests|pull rate limit|" + _all(_PULL, r"too many requests|\b429\b"),
        transient_start=True),
    Signature("no-space", (TASK,),
        "{who} could not start: no disk space left for its image",
        "The host ran out of disk space while pulling or unpacking the image.",
        "On EC2, free or enlarge the container instances' Docker volume; on Fargate, raise `ephemeralStorage.sizeInGiB` in the task definition (20 GiB by default).",
        "CannotPullContainerError: write /var/lib/docker/tmp/GetImageBlob111111111: no space left on device",
        text=r"no space left on device"),
    Signature("pull-not-found", (TASK,),
        "{who} could not start: image not found",
        "The image or its tag does not exist in the registry (or the repository is private and the pull had no login).",
        "Check the image and tag in the task definition (or the `image` input), and that they were pushed to that registry and region before this step.",
        "CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve ref REGISTRY/app:v42: not found",
        text=_all(_PULL, r"not found|manifest unknown|does not exist|requested access to the resource is denied"
                         r"|whether the image exists|\(404\)|404 Not Found"),
        fixes=("Check image `{image}` of {who} (the task definition, or the `image` input): its repository and tag must exist in that registry and region, pushed before this step.",)),
    Signature("pull-no-route", (TASK,),
        "{who} could not start: the image registry could not be reached",
        "The task could not reach the registry to pull the image: its subnet has no route there.",
        _WAY_OUT + "ECR (api and dkr) and S3, a public subnet needs `assign-public-ip: true`.",
        'CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve ref REGISTRY/app:v42: failed to do request: Head "https://REGISTRY/v2/app/manifests/v42": dial tcp 10.0.3.17:443: i/o timeout',
        text=_all(_PULL, _NET), transient_start=True),
    Signature("pull-failed", (TASK,),
        "{who} could not start: the image could not be pulled",
        "ECS could not pull the container image, for a reason not recognised here (a long message may have been cut short).",
        "Check the image and tag (the task definition or the `image` input), the execution role's `ecr:BatchGetImage` permission and the subnets' route to the registry.",
        "CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve ref REGISTRY/app:v42: failed to do request: Head",
        text=_PULL,
        fixes=("Check image `{image}` of {who} (the task definition, or the `image` input), the execution role's `ecr:BatchGetImage` permission and the subnets' route to the registry.",)),
    # -- what the task needs before it starts: secrets, logs, network -------------------------------------------------
    Signature("secrets-denied", (TASK,),
        "{who} could not start: its secrets could not be read (access denied)",
        "The execution role may not read a secret or parameter in the container definition's `secrets`, or the KMS key that encrypts it.",
        "Grant the execution role `secretsmanager:GetSecretValue` (Secrets Manager) or `ssm:GetParameters` (Parameter Store) on those secrets, and `kms:Decrypt` on a customer-managed key that encrypts them.",
        "ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: unable to retrieve secret from asm: service call has been retried 5 time(s): AccessDeniedException: User: arn:aws:sts::123456789012:assumed-role/ecsTaskExecutionRole/0a1b2c3d is not authorized to perform: secretsmanager:GetSecretValue on resource: arn:aws:secretsmanager:us-east-1:123456789012:secret:app/db-AbCdEf because no identity-based policy allows the secretsmanager:GetSecretValue action",
        text=_all(_SECRETS, r"AccessDenied|not authorized|not allowed") + _ROLE,
        fixes=(_GRANT_ROLE + "`secretsmanager:GetSecretValue` (Secrets Manager) or `ssm:GetParameters` (Parameter Store) on the secrets of {who}, and `kms:Decrypt` on a customer-managed key that encrypts them.",)),
    Signature("secret-not-found", (TASK,),
        "{who} could not start: a secret it needs was not found",
        "A secret or parameter in the container definition's `secrets` does not exist in that account and region, is marked for deletion, or lacks the JSON key asked for.",
        "Check each `valueFrom` in the container definition's `secrets`: the full ARN or parameter name, its region, and any JSON key or version it asks for.",
        "ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: unable to retrieve secret from asm: service call has been retried 1 time(s): failed to fetch secret arn:aws:secretsmanager:ap-southeast-2:123456789012:secret:app-secrets-AbCdEf from secrets manager: operation error Secrets Manager: GetSecretValue, https response error StatusCode: 400, ResourceNotFoundException: Secrets Manager can't find the specified secret value for staging label: AWSCURRENT",
        text=_all(_SECRETS, r"ResourceNotFound|can.t find the specified secret|ParameterNotFound|invalid parameters"
                            r"|did not contain json key|ValidationException|marked for deletion")),
    Signature("log-denied", (TASK,),
        "{who} could not start: its log stream could not be created (access denied)",
        "The execution role may not create the log stream (or log group) the container's `logConfiguration` asks for.",
        "Grant the execution role `logs:CreateLogStream` and `logs:PutLogEvents`, and `logs:CreateLogGroup` when the options set `awslogs-create-group: true`.",
        "ResourceInitializationError: failed to validate logger args: create stream has been retried 1 times: failed to create Cloudwatch log stream: AccessDeniedException: User: arn:aws:sts::123456789012:assumed-role/ecsTaskExecutionRole/0a1b2c3d is not authorized to perform: logs:CreateLogStream on resource: arn:aws:logs:us-east-1:123456789012:log-group:/ecs/app:log-stream:ecs/app/0a1b2c3d",
        text=_all(_LOGS, r"AccessDenied|not authorized") + _ROLE,
        fixes=(_GRANT_ROLE + "`logs:CreateLogStream` and `logs:PutLogEvents`, and `logs:CreateLogGroup` when the options set `awslogs-create-group: true`.",)),
    Signature("log-group-missing", (TASK,),
        "{who} could not start: its log group does not exist",
        "The log group named in the container's `logConfiguration` (`awslogs-group`) does not exist in its region.",
        "Create the log group, or set `awslogs-create-group: true` in the container's `logConfiguration` options and grant the execution role `logs:CreateLogGroup`.",
        "ResourceInitializationError: failed to validate logger args: create stream has been retried 1 times: failed to create Cloudwatch log stream: ResourceNotFoundException: The specified log group does not exist.",
        text=r"log group does not exist"),
    Signature("subnet-full", (TASK,),
        "{who} could not start: no free IP address in the subnet",
        "The subnet has no free IP address left for the task's network interface.",
        "Give `subnets` with free addresses (a larger subnet, or more of them), or free addresses in the ones used.",
        "Unexpected EC2 error while attempting to Create Network Interface in subnet 'subnet-0a1b2c3d': InsufficientFreeAddressesInSubnet",
        text=r"InsufficientFreeAddressesInSubnet|(?:insufficient|no) (?:free|available) (?:IP )?addresses"),
    Signature("init-no-route", (TASK,),
        "{who} could not start: AWS could not be reached from its subnet",
        "The task could not reach AWS to fetch its registry credentials, secrets or log stream: its subnet has no route to those services (or the VPC does not resolve DNS).",
        _WAY_OUT + "ECR (api and dkr), S3, Secrets Manager, SSM and CloudWatch Logs, a public subnet needs `assign-public-ip: true`.",
        "ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: unable to retrieve secrets from ssm: service call has been retried 5 time(s): RequestCanceled: request context canceled caused by: context deadline exceeded",
        text=_all(r"ResourceInitializationError|unable to (?:pull|retrieve)|registry auth|" + _LOGS, _NET),
        transient_start=True),
    # -- starting the container ---------------------------------------------------------------------------------------
    Signature("command-not-in-image", (TASK,),
        "{who} could not start: its command is not in the image",
        "The program the command starts is not in the image (nor on its `PATH`), so the container could not start.",
        _COMMAND + "its first word must be a program in the image, by absolute path or on its `PATH`.",
        'CannotStartContainerError: Error response from daemon: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: exec: "bin/rails": executable file not found in $PATH: unknown',
        text=r'executable file not found|stat [^:"]*: no such file or directory'),
    Signature("command-permission-denied", (TASK,),
        "{who} could not start: its command is not executable",
        "The program the command starts is in the image but is not executable (or is a directory).",
        "Make it executable in the image (`chmod +x` in the Dockerfile), or point the `command` input (or `entryPoint`) at the executable itself.",
        'CannotStartContainerError: Error response from daemon: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: exec: "/app/bin/migrate": permission denied: unknown',
        text=r'exec: "[^"]*": permission denied'),
    # -- start failures that pass -------------------------------------------------------------------------------------
    Signature("provisioning-timeout", (TASK,),
        "{who} could not start: its network interface was not provisioned in time",
        "ECS timed out (or was throttled) provisioning the task's network interface or storage; this usually passes on its own.",
        _RUN_AGAIN + "; if it keeps happening, check the subnets' free addresses and the account's network interface quota.",
        "Timeout waiting for network interface provisioning to complete.",
        text=r"Timeout waiting for (?:network interface|EphemeralStorage) provisioning|rate limit exceeded while [\w ]*network interface",
        transient_start=True),
    Signature("spot-interruption", (TASK,),
        "{who} could not start: Spot capacity was reclaimed",
        "Fargate Spot (or an EC2 Spot instance) reclaimed the capacity before the container ran.",
        _RUN_AGAIN + ", or run it on on-demand capacity: `launch-type: FARGATE`, or a `capacity-provider-strategy` without FARGATE_SPOT.",
        "Your Spot Task was interrupted.",
        exit_codes=(None,), stop_codes=("SpotInterruption",), transient_start=True),
    # -- exit codes the container's signals explain -------------------------------------------------------------------
    Signature("killed-after-stop", (TASK,),
        "{who} was killed (SIGKILL) after the task was stopped {stopped_how}",
        "ECS stopped the task because {stopped_by}, and the container did not exit within its `stopTimeout` after SIGTERM, so it was killed with SIGKILL (exit 137).",
        "Make the command exit on SIGTERM (start it with `exec` from a shell script so the signal reaches it, or handle the signal), or raise `stopTimeout` in the container definition (at most 120 s on Fargate).",
        "Task stopped by user",
        exit_codes=(137,), stop_codes=_STOPS),
    Signature("killed", (TASK,),
        "{who} was killed (SIGKILL), most likely for using too much memory",
        "The container was killed with SIGKILL (exit 137) while ECS reported neither a stop nor OutOfMemoryError: most often the kernel killed a process in it for using too much memory, or a process in it ran `kill -9`.",
        "Raise the memory (the `memory` input, or `memory` in the container definition) and check the container's memory use in its last log lines or in Container Insights.",
        "",
        exit_codes=(137,),
        fixes=("Raise `memory` in the definition of {who} (now {container_memory} MiB; the `memory` input sizes the whole task and will not raise it), and check the container's memory use in its last log lines or in Container Insights.",
               "Raise the task's memory (the `memory` input, now {task_memory} MiB), and check the container's memory use in its last log lines or in Container Insights.")),
    Signature("segfault", (TASK,),
        "{who} crashed (segmentation fault)",
        "The container's process crashed with a segmentation fault (SIGSEGV, exit 139), usually in native code: a C extension or library built for another base image or CPU, or a stack overflow.",
        "Find the crashing program in the container's last log lines, and rebuild the image's native dependencies against its base image and the task's `runtimePlatform.cpuArchitecture`.",
        "",
        exit_codes=(139,)),
    Signature("terminated", (TASK,),
        "{who} was stopped {stopped_how}",
        "The container exited on SIGTERM (exit 143) because {stopped_by}.",
        "{then}",
        "Task stopped by user",
        exit_codes=(143,)),
    Signature("stopped-from-outside", (TASK,),
        "{who} was interrupted: the task was stopped from outside",
        "ECS was asked to stop the task while the container ran, because {stopped_by}, and the container then exited, so its work may be half done (a migration half applied).",
        "{then}",
        "Your Spot Task was interrupted.",
        stop_codes=OUTSIDE_STOPS, ran=True),
    Signature("command-not-executable", (TASK,),
        "{who}: command not executable",
        "A shell in the container found the command but could not run it (exit 126): the file is not executable, is a directory, or its `#!` interpreter is missing.",
        "Make the program the `command` input runs executable in the image (`chmod +x` in the Dockerfile), and check that its `#!` line names an interpreter the image has.",
        "",
        exit_codes=(126,)),
    Signature("command-not-found", (TASK,),
        "{who}: command not found",
        "A shell in the container could not find a command (exit 127): the command's first word, or a program a script calls, is not in the image or not on its `PATH`.",
        _COMMAND + "each program it runs must be in the image, by absolute path or on its `PATH`.",
        "",
        exit_codes=(127,)),
    # -- RunTask's failures[] -----------------------------------------------------------------------------------------
    Signature("resource-cpu-memory", (RUN,),
        "no container instance has enough CPU or memory for the task",
        "No container instance in the cluster has enough free CPU, memory or GPUs for the task.",
        "Add container instances to `cluster` (or let its capacity provider scale out), or ask for less with the `cpu` and `memory` inputs.",
        "RESOURCE:MEMORY",
        text=r"RESOURCE:(?:CPU|MEMORY|GPU)", transient_start=True),
    Signature("resource-eni", (RUN,),
        "no container instance has a free network interface for the task",
        "No container instance has a free network interface attachment for an `awsvpc` task.",
        "Add container instances, use instance types with more network interfaces, or turn on the `awsvpcTrunking` ECS account setting.",
        "RESOURCE:ENI",
        text=r"RESOURCE:ENI", transient_start=True),
    Signature("resource-ports", (RUN,),
        "a host port of the task is taken on every container instance",
        "A fixed host port the task maps is taken on every container instance.",
        "Use dynamic host ports (`hostPort` 0 or unset in the container definition's `portMappings`), or add container instances.",
        "RESOURCE:PORTS_TCP",
        text=r"RESOURCE:PORTS", transient_start=True),
    Signature("agent-disconnected", (RUN,),
        "the ECS agent of the container instance is disconnected",
        "The ECS agent on the chosen container instance is disconnected.",
        "Restart the ECS agent on the cluster's container instances (`sudo systemctl restart ecs`) or replace them.",
        "AGENT",
        text=r"^AGENT\b", transient_start=True),
    Signature("fargate-capacity", (RUN, TASK, API),
        "Fargate has no capacity for the task right now",
        "Fargate has no capacity for this task size in the Availability Zones of its subnets right now.",
        _RUN_AGAIN + ", or give `subnets` in more Availability Zones.",
        "Capacity is unavailable at this time. Please try again later or in a different availability zone",
        text=r"Capacity is unavailable", transient_start=True),
    Signature("placement-attribute", (RUN,),
        "no container instance has an attribute the task needs",
        "No container instance has an attribute the task needs: a capability its task definition asks for (such as `awsvpc` in these subnets, or its log driver) or a placement constraint.",
        "Check `placement-constraints` and the task definition's requirements against the cluster's container instances, or run it with `launch-type: FARGATE`.",
        "ATTRIBUTE",
        text=r"^ATTRIBUTE\b"),
    Signature("placement-missing", (RUN,),
        "a resource RunTask needs was not found",
        "RunTask could not find a resource it needed, such as the container instance the failure's ARN names: often a wrong cluster or region.",
        "Check the `cluster` and `region` inputs, and any container instance named in `placement-constraints`.",
        "MISSING",
        text=r"^MISSING\b"),
    Signature("inactive", (RUN,),
        "the container instance or task definition is INACTIVE",
        "The container instance RunTask chose, or the task definition revision, is INACTIVE (deregistered).",
        "Run an ACTIVE revision (give `task-definition` as a family name to take its latest) on ACTIVE container instances.",
        "INACTIVE",
        text=r"^INACTIVE\b"),
    Signature("no-container-instances", (RUN, API),
        "the cluster has no container instances",
        "The task asked for EC2 capacity, and the cluster has no container instances to run it on.",
        "Register container instances in `cluster` or give a `capacity-provider-strategy` that can scale out, or run it on Fargate with `launch-type: FARGATE`.",
        "No Container Instances were found in your cluster.",
        text=r"No Container Instances were found"),
    Signature("task-quota", (RUN, API),
        "the account's ECS or Fargate quota is reached",
        "The account reached its ECS or Fargate quota in this region (concurrent tasks or vCPUs).",
        "Wait for other tasks to finish, or request a higher quota (such as Fargate On-Demand vCPU) in Service Quotas.",
        "You've reached the limit on the number of tasks you can run concurrently",
        text=r"reached the limit on the number of (?:tasks|vCPUs)|configuration is above your limit"),
    # -- errors of our own AWS calls ----------------------------------------------------------------------------------
    Signature("expired-credentials", (API,),
        "the AWS session expired",
        "The AWS session this job runs with expired before the run was over.",
        "Ask for a longer session, for example `role-duration-seconds` of aws-actions/configure-aws-credentials, up to the role's maximum session duration (which the role's settings may need raised).",
        "The security token included in the request is expired",
        error_codes=("ExpiredToken", "ExpiredTokenException", "RequestExpired")),
    Signature("bad-credentials", (API,),
        "AWS does not recognise the credentials",
        "AWS does not recognise the credentials this job runs with (wrong or deleted keys, or a region the account has not enabled).",
        "Check the credentials the job gets (aws-actions/configure-aws-credentials, or `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY`) and that the `region` input is enabled for the account.",
        "The security token included in the request is invalid.",
        error_codes=("UnrecognizedClientException", "InvalidClientTokenId")),
    Signature("pass-role-denied", (API,),
        "this job may not pass role {resource} to ECS",
        "The role this job runs as may not pass `{resource}` to ECS (`iam:PassRole`).",
        "Grant `iam:PassRole` on `{resource}` (the task role or execution role, from the task definition or the `task-role-arn` / `execution-role-arn` inputs) to the role this job runs as.",
        "User: arn:aws:sts::123456789012:assumed-role/deploy/GitHubActions is not authorized to perform: iam:PassRole on resource: arn:aws:iam::123456789012:role/ecsTaskExecutionRole because no identity-based policy allows the iam:PassRole action",
        text=r"perform: iam:PassRole on resource: (?P<resource>[^\s,]+)"),
    Signature("role-unassumable", (API,),
        "ECS could not assume role {role}",
        "ECS could not assume `{role}`: it does not exist, its trust policy does not let `ecs-tasks.amazonaws.com` assume it, or this job may not pass it.",
        "Check that `{role}` (from the task definition or the `task-role-arn` / `execution-role-arn` inputs) exists and trusts `ecs-tasks.amazonaws.com`, and grant `iam:PassRole` on it to the role this job runs as.",
        "ECS was unable to assume the role 'arn:aws:iam::123456789012:role/app-task' that was provided for this task. Please verify that the role being passed has the proper trust relationship and permissions and that your IAM user has permissions to pass this role.",
        text=r"unable to assume the role '(?P<role>[^']+)'"),
    Signature("execution-role-missing", (API,),
        "the task definition has no execution role",
        "The task definition has no execution role, which Fargate needs to pull from ECR, read secrets or write awslogs.",
        "Set `executionRoleArn` in the task definition (or the `execution-role-arn` input) to a role with the AmazonECSTaskExecutionRolePolicy managed policy.",
        "Fargate requires task definition to have execution role ARN to support ECR images.",
        text=r"requires task definition to have execution role"),
    Signature("access-denied-resource", (API,),
        "AWS denied {action}",
        "AWS refused `{action}` on `{resource}` to the role this job runs as.",
        "Grant `{action}` on `{resource}` to the role this job runs as.",
        "User: arn:aws:sts::123456789012:assumed-role/deploy/GitHubActions is not authorized to perform: ecs:RunTask on resource: arn:aws:ecs:us-east-1:123456789012:task-definition/app:12 because no identity-based policy allows the ecs:RunTask action",
        text=r"not authorized to perform: (?P<action>[\w-]+:[\w-]+) on resource: (?P<resource>[^\s,]+)",
        error_codes=_DENIED),
    Signature("access-denied", (API,),
        "AWS denied {action}",
        "AWS refused `{action}` to the role this job runs as.",
        "Grant `{action}` to the role this job runs as.",
        "You are not authorized to perform this operation.",
        text=r"^(?:.*?not authorized to perform: (?P<action>[\w-]+:[\w-]+))?",  # the action, where AWS names it
        error_codes=_DENIED),
    Signature("cluster-not-found", (API,),
        "cluster not found",
        "There is no such cluster in this account and region.",
        "Check the `cluster` input and the region (the `region` input or `AWS_REGION`).",
        "Cluster not found.",
        error_codes=("ClusterNotFoundException",)),
    Signature("service-not-found", (API,),
        "service not found",
        "The service is not in the cluster, or is no longer ACTIVE.",
        "Check the `service` and `cluster` inputs, or give `task-definition` and the network inputs instead of `service`.",
        "Service not found.",
        error_codes=("ServiceNotFoundException", "ServiceNotActiveException")),
    Signature("task-definition-inactive", (API,),
        "the task definition revision is INACTIVE",
        "The task definition revision was deregistered (INACTIVE), so no new task can run from it.",
        "Give `task-definition` as the family alone to take its latest ACTIVE revision, or register the revision again.",
        "TaskDefinition is inactive",
        text=r"TaskDefinition is inactive"),
    Signature("task-definition-not-found", (API,),
        "task definition not found",
        "There is no such task definition (family or revision) in this account and region.",
        "Check the `task-definition` input (family, `family:revision` or ARN) and the region.",
        "Unable to describe task definition.",
        text=r"Unable to describe task definition|TaskDefinition not found|task definition .*(?:not found|does not exist)",
        error_codes=("ClientException", "InvalidParameterException")),
    Signature("launch-type-incompatible", (API,),
        "the task definition does not support the launch type",
        "The task definition's `requiresCompatibilities` does not include the launch type or capacity the task was started with.",
        "Set `launch-type` (or `capacity-provider-strategy`) to one the task definition supports, or add it to the task definition's `requiresCompatibilities`.",
        "Task definition does not support launch_type FARGATE.",
        text=r"does not support launch_type|not compatible with the selected compute"),
    Signature("invalid-network", (API,),
        "ECS refused the network configuration",
        "ECS refused the network configuration: missing, unknown or mismatched subnets or security groups, or a setting the launch type does not allow.",
        "Check the `subnets`, `security-groups` and `assign-public-ip` inputs (or the `service` they default from): the IDs must exist in this region and share one VPC.",
        "Network Configuration must be provided when networkMode 'awsvpc' is specified.",
        # EC2's throttling reaches us in the same words ("Error retrieving subnet information ...: Rate exceeded")
        text=r"^(?!.*(?:Rate exceeded|Throttl))(?=.*(?:subnet|security ?group|awsvpc|network ?configuration|public ?ip|\bvpc\b))",
        error_codes=("InvalidParameterException",)),
)  # fmt: skip


def for_task(*, exit_code: int | None, stop_code: str = "", stopped_reason: str = "", container_reason: str = "",
             facts: Mapping[str, str] | None = None) -> Hint | None:  # fmt: skip
    """The hint for a deciding container that exited with `exit_code` (None: it never ran), or None. `facts`: what
    the task says of the container, for the texts that quote it: `container` (its name), `image`,
    `container_memory` and `task_memory` (MiB), `stopped_how` (who stopped the task, when a container of its own
    did: "because container envoy exited with code 1")."""
    stop = STOPPED_BY.get(stop_code, UNKNOWN_STOP)
    known = {k: v.replace("`", "'") for k, v in (facts or {}).items() if v}  # data: it ends no code span of ours
    who = f"container {known['container']}" if known.get("container") else "the container"
    params = {"stopped_by": stop.stopped_by, "then": stop.then, "stopped_how": stop.how, "who": who,
              "Who": who[0].upper() + who[1:], **known}  # fmt: skip
    texts = [t for t in (stopped_reason, container_reason) if t]
    return _first(TASK, texts, params, exit_code=exit_code, stop_code=stop_code)


def for_run_failures(reasons: Sequence[str]) -> Hint | None:
    """The hint for RunTask's `failures[].reason` (each may carry its `detail` after it), or None."""
    return _first(RUN, [r for r in reasons if r], {})


def for_aws_error(*, code: str, message: str, action: str) -> Hint | None:
    """The hint for an error of one of our own calls; `action` is the IAM action called, e.g. `ecs:DescribeTasks`."""
    return _first(API, [message], {"action": action}, error_code=code)


_ANY = object()


def _first(where: str, texts: Sequence[str], params: dict[str, str], *, exit_code: object = _ANY,
           stop_code: str = "", error_code: str = "") -> Hint | None:  # fmt: skip
    for sig in CATALOGUE:
        if where in sig.seen_in and sig.holds(exit_code, stop_code, error_code):
            groups = _search(sig.text, texts)
            if groups is not None:
                # what AWS's message gave is data: no backtick of it may end a code span of ours
                values = {**params, **{k: v.replace("`", "'") for k, v in groups.items()}}
                cause = _filled((*sig.causes, sig.cause), values)
                fix = _filled((*sig.fixes, sig.fix), values)
                headline = _filled((sig.headline,), values)
                return Hint(sig.key, cause, fix, sig.transient_start, headline)
    return None


_FIELD = re.compile(r"\{(\w+)\}")


def fields(template: str) -> set[str]:
    """The fields a text names: `{who}` -> {"who"}."""
    return set(_FIELD.findall(template))


def _filled(templates: Sequence[str], values: Mapping[str, str]) -> str:
    """The first template whose every field is known, filled in; the last one in any case (a field it names that
    is not known is left out)."""
    for template in templates:
        if fields(template) <= values.keys():
            return template.format_map(values)
    return _FIELD.sub(lambda m: values.get(m[1], ""), templates[-1])


def _search(pattern: str, texts: Sequence[str]) -> dict[str, str] | None:
    """The named groups found (only those that matched), {} for no pattern, None when nothing matches."""
    if not pattern:
        return {}
    for text in texts:
        found = _regex(pattern).search(text)
        if found:
            return {k: v for k, v in found.groupdict().items() if v}
    return None


@cache
def _regex(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE | re.DOTALL)
