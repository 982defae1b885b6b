"""Every AWS call, behind narrow methods. Errors become `RunError`s that say which call failed, with the
failure catalogue's likely cause and fix: `AccessError` for what no retry cures, `Transient` for what a later
try may (throttling, 5xx, the network, an answer that cannot be read). Answers are read defensively."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, Literal, cast

import botocore.session
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    HTTPClientError,
    NoCredentialsError,
    NoRegionError,
    ParamValidationError,
)
from botocore.exceptions import (
    ConnectionError as NetworkError,
)
from botocore.validate import ParamValidator

from ecs_run_task import __version__, signal_budget, words
from ecs_run_task.aws import answers
from ecs_run_task.errors import AccessError, Denied, InputError, RunError, Throttled, Transient, UnreadableAnswer
from ecs_run_task.verdict import failures

if TYPE_CHECKING:
    from mypy_boto3_ecs import ECSClient
    from mypy_boto3_ecs.literals import DeploymentLifecycleHookActionType, ServiceDeploymentStatusType
    from mypy_boto3_logs import CloudWatchLogsClient

DESCRIBE_BATCH = 100  # DescribeTasks takes at most 100 tasks a call

_DENIED = {"AccessDeniedException", "AccessDenied", "UnauthorizedOperation"}
_BAD_CREDENTIALS = {"ExpiredToken", "ExpiredTokenException", "RequestExpired", "UnrecognizedClientException",
                    "InvalidClientTokenId"}  # fmt: skip
_CREDENTIALS = ("set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE; on GitHub, run "
                "aws-actions/configure-aws-credentials before this step")  # fmt: skip
_OIDC = ("on GitLab, give the job an `id_tokens:` token and write it to the file AWS_WEB_IDENTITY_TOKEN_FILE names, "
         "with AWS_ROLE_ARN set (see docs/pipelines.md, GitLab CI)")  # fmt: skip


def _config(read_timeout: float, attempts: int = 8, mode: Literal["standard", "adaptive"] = "adaptive",
            connect_timeout: float = 5) -> Config:  # fmt: skip
    """`attempts` counts every try, the first included."""
    return Config(
        # adaptive: standard retries plus client-side rate limiting when throttled, so a busy account
        # slows us down instead of failing the deploy
        retries={"mode": mode, "total_max_attempts": attempts},
        user_agent_extra=f"ecs-run-task/{__version__}",
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
        tcp_keepalive=True,
    )


_THROTTLED = {"Throttling", "ThrottlingException", "ThrottledException", "RequestLimitExceeded",
              "TooManyRequestsException", "RequestThrottled", "RequestThrottledException", "SlowDown"}  # fmt: skip
# connection (endpoint, connect timeout, SSL, proxy) and HTTP (read timeout, closed) failures: the network's fault
_UNREACHABLE = (NetworkError, HTTPClientError)


@contextmanager
def explained(service: str, operation: str, cluster: tuple[str, str] | None = None) -> Iterator[None]:
    """Turn botocore's exceptions into a message that says which call failed, with the failure catalogue's
    likely cause and fix; `Transient` for what a later try may cure."""
    action = f"{service}:{operation}"  # the service's name is its IAM prefix (ecs, logs)
    try:
        yield
    except ClientError as e:
        raise _refused(e, action, cluster) from e
    except NoCredentialsError as e:
        raise AccessError(f"no AWS credentials found; {_CREDENTIALS}") from e
    except NoRegionError as e:
        raise InputError(
            [f"{words.flag('region')}: no AWS region is set; give {words.the('region')} or set AWS_REGION"]
        ) from e
    except ParamValidationError as e:  # botocore quotes the bad values, which may be environment secrets
        if "WebIdentityToken" in str(e):  # an empty token file: GitLab's id_tokens missing from the job
            raise AccessError(f"the web identity token in AWS_WEB_IDENTITY_TOKEN_FILE is empty; {_OIDC}") from e
        raise RunError(f"{action} failed: {_without_values(str(e))}") from e
    except (FileNotFoundError, PermissionError, IsADirectoryError) as e:  # botocore reading a credentials file
        raise AccessError(f"the AWS credentials could not be read: {e.filename}: {e.strerror}; {_CREDENTIALS}; "
                          f"{_OIDC}") from e  # fmt: skip
    except _UNREACHABLE as e:
        raise Transient(f"{action} failed: AWS could not be reached ({e})") from e
    except BotoCoreError as e:
        raise RunError(f"{action} failed: {e}") from e
    except (AttributeError, TypeError, ValueError, KeyError, RuntimeError) as e:  # botocore parsing an odd answer
        raise UnreadableAnswer(f"{action}: AWS's answer could not be read ({type(e).__name__}: {e})") from e


def _refused(e: ClientError, action: str, cluster: tuple[str, str] | None) -> RunError:
    """AWS's error answer as ours: denied and bad credentials (no retry cures them), what a later try may cure,
    a cluster not found, anything else; each with the catalogue's hint."""
    code = e.response.get("Error", {}).get("Code", "")
    message = e.response.get("Error", {}).get("Message", str(e))
    hint = failures.for_aws_error(code=code, message=message, action=action)
    status = e.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
    if code in _DENIED:
        return Denied(f"AWS denied {action}: {message}", action=action, hint=hint)
    if code in _BAD_CREDENTIALS:
        return AccessError(f"AWS rejected the credentials for {action} ({code}: {message})", hint=hint)
    # EC2's throttling reaches us through ECS as an InvalidParameterException ("... Rate exceeded")
    said = ": ".join(str(part) for part in (code or status, message) if part)
    if code in _THROTTLED or (code == "InvalidParameterException" and "Rate exceeded" in message):
        return Throttled(f"{action} failed: {said}", hint=hint)
    if status >= 500:
        return Transient(f"{action} failed: {said}", hint=hint)
    if code == "ClusterNotFoundException":
        name, region = cluster or ("?", "?")
        return RunError(f"{words.flag('cluster')}: {name!r} was not found in {region} ({action}: {message}); check "
                        f"{words.the('cluster')} and the region", hint=hint)  # fmt: skip
    return RunError(f"{action} failed: {code}: {message}", hint=hint)


_QUOTED_VALUE = re.compile(r", value: .*?, (type: |valid )", re.S)


def _without_values(report: str) -> str:
    """botocore's validation report with the bad values cut out: they may be environment secrets."""
    return _QUOTED_VALUE.sub(r", \1", report)


# RunTask fields that come from one input each, as given: a problem with one of them names that input
_INPUT_OF = {"volumeConfigurations": "volume-configurations", "placementConstraints": "placement-constraints",
             "placementStrategy": "placement-strategy"}  # fmt: skip
_PARAMETER = re.compile(r"(?:parameter(?: in)?|structure) ([A-Za-z]+)")


def _from_input(operation: str, problem: str) -> str:
    where = _PARAMETER.search(problem)
    name = _INPUT_OF.get(where.group(1)) if where and operation == "RunTask" else None
    if name:
        return f"{words.flag(name)}: {problem}"
    return f"{operation} request, from {words.flag('overrides')} or the task definition: {problem}"


@dataclass(frozen=True)
class Clients:
    ecs: ECSClient
    region: str
    hidden: tuple[str, ...] = ()  # values no answer may carry further (`Spec.hidden`): masked where they come in
    _readers: dict[tuple[str, str], Any] = field(default_factory=dict, compare=False, repr=False)

    @cached_property
    def stopper(self) -> ECSClient:
        """ECS with short timeouts, for StopTask, which must fit in the signal budget (`signal_budget`: at worst
        `STOP_AT_WORST`, before SIGKILL). Made on first use: most runs never stop a task, and a client costs ~30 ms
        to make."""
        config = _config(signal_budget.STOP_READ, attempts=signal_budget.STOP_TRIES, mode="standard",
                         connect_timeout=signal_budget.STOP_CONNECT)  # fmt: skip
        client = _session().create_client("ecs", region_name=self.region, config=config)
        return cast("ECSClient", client)

    @cached_property
    def follower(self) -> ECSClient:
        """ECS for the polls while a task runs: few attempts, so that losing contact shows within seconds and
        the wait loop rides it out itself (with a line when contact is lost and one when it is back)."""
        config = _config(10, attempts=3, mode="standard")
        return cast("ECSClient", _session().create_client("ecs", region_name=self.region, config=config))

    def reader(self, service: str, region: str | None = None) -> Any:
        """A client for the read-only checks before a run (`plan/preflight.py`): few attempts, short timeouts (a
        check AWS cannot answer is skipped, not waited for). Typed loosely: ECR and IAM have no stubs here."""
        key = (service, region or self.region)
        made = self._readers.get(key)
        if made is None:
            config = _config(10, attempts=3, mode="standard")
            made = self._readers[key] = _session().create_client(service, region_name=key[1], config=config)
        return made

    def logs(self, region: str | None = None) -> CloudWatchLogsClient:
        # few attempts, no client-side rate limiting (adaptive mode can block a call for seconds): a failed read
        # keeps its cursor and is tried again next round, and our loop paces the reads itself
        config = _config(5, attempts=2, mode="standard")
        client = _session().create_client("logs", region_name=region or self.region, config=config)
        return cast("CloudWatchLogsClient", client)


_SESSION: list[botocore.session.Session] = []


def _session() -> botocore.session.Session:
    if not _SESSION:
        session = botocore.session.get_session()
        session.get_component("response_parser_factory").set_parser_defaults(timestamp_parser=answers.lenient_timestamp)
        _SESSION.append(session)
    return _SESSION[0]


def connect(region: str | None, hidden: Sequence[str] = ()) -> Clients:
    with explained("ecs", "connect"):
        session = _session()
        ecs = cast("ECSClient", session.create_client("ecs", region_name=region, config=_config(20)))
    return Clients(ecs=ecs, region=ecs.meta.region_name, hidden=tuple(hidden))


class RevisionNotReady(RunError):
    """RunTask could not describe the task definition: a revision registered a moment ago may not be known to ECS
    yet (its API is eventually consistent), so a later start may succeed."""


class Ecs:
    """The ECS calls the run needs, and nothing else."""

    def __init__(self, clients: Clients) -> None:
        self.client = clients.ecs
        self.clients = clients

    def validate(self, operation: str, params: dict[str, Any]) -> None:
        """botocore's own check of a request, before anything is registered or started. Our inputs are checked
        already, so what fails here came in through JSON passed on as given: `overrides`, a task definition
        file, or one of `_INPUT_OF`'s inputs, which the problem then names."""
        shape = self.client.meta.service_model.operation_model(operation).input_shape
        if shape is None:  # every ECS operation has input; this is for the type checker
            return
        report = ParamValidator().validate(params, shape)
        if report.has_errors():
            problems = _without_values(report.generate_report()).splitlines()
            raise InputError([_from_input(operation, p) for p in problems])

    def require(self, operations: Sequence[str], feature: str) -> None:
        """The installed botocore knows `operations`, else an error that says which to install: an older one has
        no method for them, and its AttributeError would read as an odd answer, asked again until the timeout."""
        missing = sorted(set(operations) - set(self.client.meta.service_model.operation_names))
        if missing:
            raise RunError(f"{feature} needs ECS operations this installation's botocore ({botocore.__version__}) "
                           f"does not know ({', '.join(missing)}): install boto3 1.44 or newer (pip install -U "
                           "'boto3>=1.44'), or use the action or its image, which have it")  # fmt: skip

    def describe_task_definition(self, task_definition: str) -> dict[str, Any]:
        with explained("ecs", "DescribeTaskDefinition"):
            try:
                answer = self.client.describe_task_definition(taskDefinition=task_definition)
            except ClientError as e:
                if e.response.get("Error", {}).get("Code") in {"ClientException", "InvalidParameterException"}:
                    raise RunError(
                        f"{words.flag('task-definition')}: {task_definition!r} was not found in {self.client.meta.region_name} "
                        f"({e.response['Error'].get('Message', '')}); check the family, revision and region"
                    ) from e
                raise
        return dict(answer["taskDefinition"])

    def describe_service(self, cluster: str, service: str) -> dict[str, Any]:
        with explained("ecs", "DescribeServices", (cluster, self.client.meta.region_name)):
            answer = self.client.describe_services(cluster=cluster, services=[service])
        found = [dict(s) for s in answer.get("services", [])]
        if not found:
            raise RunError(f"{words.flag('service')}: {service!r} was not found in cluster {cluster!r}; check the name "
                           f"and {words.flag('cluster')}")  # fmt: skip
        if found[0].get("status") != "ACTIVE":
            raise RunError(
                f"{words.flag('service')}: {service!r} in cluster {cluster!r} is {found[0].get('status')}, not ACTIVE"
            )
        return found[0]

    def registration_fields(self) -> frozenset[str]:
        """What RegisterTaskDefinition accepts, from botocore's model of the installed version."""
        shape = self.client.meta.service_model.operation_model("RegisterTaskDefinition").input_shape
        return frozenset(shape.members) if shape else frozenset()

    def register_task_definition(self, request: dict[str, Any]) -> dict[str, Any]:
        with explained("ecs", "RegisterTaskDefinition"):
            answer = self.client.register_task_definition(**request)
        return dict(answer["taskDefinition"])

    def run_task(self, request: dict[str, Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """The tasks started and RunTask's `failures`; `RevisionNotReady` when ECS cannot describe the revision yet."""
        cluster = (str(request.get("cluster")), self.client.meta.region_name)
        with explained("ecs", "RunTask", cluster):
            try:
                answer = self.client.run_task(**request)
            except ClientError as e:
                error = e.response.get("Error", {})
                if error.get("Code") == "ClientException" and "Unable to describe task definition" in str(
                    error.get("Message", "")
                ):
                    refused = _refused(e, "ecs:RunTask", cluster)
                    raise RevisionNotReady(refused.message, hint=refused.hint) from e
                raise
        return answers.masked(answers.tasks(answer), self.clients.hidden), [
            dict(f) for f in answer.get("failures") or [] if isinstance(f, dict)
        ]

    def describe_tasks(self, cluster: str, arns: Sequence[str]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        tasks: list[dict[str, Any]] = []
        failures: list[dict[str, Any]] = []
        for start in range(0, len(arns), DESCRIBE_BATCH):
            try:
                with explained("ecs", "DescribeTasks", (cluster, self.clients.region)):
                    batch = list(arns[start : start + DESCRIBE_BATCH])
                    answer = self.clients.follower.describe_tasks(cluster=cluster, tasks=batch)
            except UnreadableAnswer as e:  # no news, as when botocore cannot parse the body at all: ask again
                answers.warn_once(
                    "DescribeTasks answered what cannot be read; the tasks are described again", error=e.message
                )
                continue
            tasks += answers.masked(answers.tasks(answer), self.clients.hidden)
            failures += [dict(f) for f in answer.get("failures") or [] if isinstance(f, dict)]
        return tasks, failures

    def list_running(self, cluster: str) -> list[str]:
        """ARNs of the cluster's tasks that ECS wants running, of every family (ListTasks, 100 a page)."""
        arns: list[str] = []
        more: dict[str, Any] = {}  # the first page has no token: ECS refuses an empty one
        with explained("ecs", "ListTasks", (cluster, self.client.meta.region_name)):
            while True:
                page = self.clients.follower.list_tasks(cluster=cluster, desiredStatus="RUNNING", **more)
                arns += [str(a) for a in page.get("taskArns") or []]
                if not page.get("nextToken"):
                    return arns
                more = {"nextToken": str(page["nextToken"])}

    def stop_task(self, cluster: str, arn: str, reason: str) -> None:
        with explained("ecs", "StopTask"):
            self.clients.stopper.stop_task(cluster=cluster, task=arn, reason=reason[:255])

    # -- service deployments (gate-deployment) ---------------------------------------------
    def list_service_deployments(self, cluster: str, service: str, statuses: Sequence[str]) -> list[dict[str, Any]]:
        """The service's deployments in one of `statuses`, newest first (ServiceDeploymentBriefs, 100 a page). A
        poll: the follower's few attempts, and the wait rides out what fails."""
        briefs: list[dict[str, Any]] = []
        more: dict[str, Any] = {}  # the first page has no token
        with explained("ecs", "ListServiceDeployments", (cluster, self.client.meta.region_name)):
            while True:
                try:
                    page = self.clients.follower.list_service_deployments(
                        cluster=cluster,
                        service=service,
                        status=[cast("ServiceDeploymentStatusType", s) for s in statuses],
                        maxResults=100,
                        **more,
                    )
                except ClientError as e:
                    if e.response.get("Error", {}).get("Code") in {"ServiceNotFoundException",
                                                                   "ServiceNotActiveException"}:  # fmt: skip
                        raise RunError(
                            f"{words.flag('service')}: {service!r} was not found in cluster {cluster!r} "
                            f"({e.response['Error'].get('Message', '')}); check the name and cluster"
                        ) from e
                    raise
                briefs += [dict(b) for b in page.get("serviceDeployments") or [] if isinstance(b, dict)]
                if not page.get("nextToken"):
                    return briefs
                more = {"nextToken": str(page["nextToken"])}

    def describe_service_deployment(self, arn: str) -> dict[str, Any] | None:
        """The deployment (ServiceDeployment), None when ECS does not know it (MISSING). A poll, as above."""
        with explained("ecs", "DescribeServiceDeployments"):
            answer = self.clients.follower.describe_service_deployments(serviceDeploymentArns=[arn])
        found = [dict(d) for d in answer.get("serviceDeployments") or [] if isinstance(d, dict)]
        return next((d for d in found if d.get("serviceDeploymentArn") == arn), found[0] if found else None)

    def describe_service_revision(self, arn: str) -> dict[str, Any] | None:
        """The service revision (ServiceRevision: task definition, network, launch type or capacity provider
        strategy, platform version), None when ECS does not know it (MISSING)."""
        with explained("ecs", "DescribeServiceRevisions"):
            answer = self.client.describe_service_revisions(serviceRevisionArns=[arn])
        found = [dict(r) for r in answer.get("serviceRevisions") or [] if isinstance(r, dict)]
        return found[0] if found else None

    def continue_service_deployment(self, arn: str, hook_id: str, action: str, *, quick: bool = False) -> None:
        """Answer a PAUSE hook: CONTINUE or ROLLBACK. `quick`: within a signal's budget (the stopper's short
        timeouts), as on cancel."""
        client = self.clients.stopper if quick else self.client
        with explained("ecs", "ContinueServiceDeployment"):
            client.continue_service_deployment(
                serviceDeploymentArn=arn, hookId=hook_id, action=cast("DeploymentLifecycleHookActionType", action)
            )


class Logs:
    """GetLogEvents, the only CloudWatch Logs call: reading, never writing into the user's log group."""

    def __init__(self, client: CloudWatchLogsClient) -> None:
        self.client = client

    def get_log_events(self, group: str, stream: str, token: str | None) -> tuple[list[dict[str, Any]], str] | None:
        """One page from `token` on (the stream's head when None); None while the stream does not exist."""
        with explained("logs", "GetLogEvents"):
            try:
                if token:
                    answer = self.client.get_log_events(
                        logGroupName=group, logStreamName=stream, startFromHead=True, nextToken=token
                    )
                else:
                    answer = self.client.get_log_events(logGroupName=group, logStreamName=stream, startFromHead=True)
            except ClientError as e:
                if e.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
                    return None
                raise
        return answers.events(answer), str(answer.get("nextForwardToken", token or ""))


class Reads:
    """The read-only calls that check, before a run, what it will need (`plan/preflight.py` decides on the answers).
    Each raises `Denied` (naming the IAM action) when the permission is missing, another `RunError` when AWS could
    not answer; what was not found is an answer, not an error."""

    def __init__(self, clients: Clients) -> None:
        self.clients = clients

    def cluster(self, name: str) -> dict[str, Any] | None:
        """The cluster as DescribeClusters describes it; None when ECS does not know it (MISSING)."""
        with explained("ecs", "DescribeClusters", (name, self.clients.region)):
            answer = self.clients.follower.describe_clusters(clusters=[name])
        found = [dict(c) for c in answer.get("clusters") or [] if isinstance(c, dict)]
        return found[0] if found else None

    def subnets(self, ids: Sequence[str]) -> list[dict[str, Any]]:
        """The subnets of `ids` that exist (a filter, so that one unknown ID does not hide the others)."""
        with explained("ec2", "DescribeSubnets"):
            answer = self.clients.reader("ec2").describe_subnets(Filters=[{"Name": "subnet-id", "Values": list(ids)}])
        return [dict(s) for s in answer.get("Subnets") or [] if isinstance(s, dict)]

    def security_groups(self, ids: Sequence[str]) -> list[dict[str, Any]]:
        """The security groups of `ids` that exist."""
        with explained("ec2", "DescribeSecurityGroups"):
            answer = self.clients.reader("ec2").describe_security_groups(
                Filters=[{"Name": "group-id", "Values": list(ids)}]
            )
        return [dict(g) for g in answer.get("SecurityGroups") or [] if isinstance(g, dict)]

    def log_group_exists(self, group: str, region: str | None) -> bool:
        """Whether the log group exists: the first group of its own prefix, in name order, is the group itself."""
        with explained("logs", "DescribeLogGroups"):
            answer = self.clients.reader("logs", region).describe_log_groups(logGroupNamePrefix=group, limit=1)
        return any(isinstance(g, dict) and g.get("logGroupName") == group for g in answer.get("logGroups") or [])

    def image(self, registry: str, region: str, repository: str, image_id: dict[str, str]) -> str:
        """`found`, or which is missing: `repository` or `image`."""
        with explained("ecr", "DescribeImages"):
            try:
                self.clients.reader("ecr", region).describe_images(
                    registryId=registry, repositoryName=repository, imageIds=[image_id]
                )
            except ClientError as e:
                code = e.response.get("Error", {}).get("Code")
                if code == "RepositoryNotFoundException":
                    return "repository"
                if code == "ImageNotFoundException":
                    return "image"
                raise
        return "found"

    def role(self, name: str) -> dict[str, Any] | None:
        """The role as GetRole describes it (its ARN and trust policy); None when there is no such role."""
        with explained("iam", "GetRole"):
            try:
                answer = self.clients.reader("iam").get_role(RoleName=name)
            except ClientError as e:
                if e.response.get("Error", {}).get("Code") == "NoSuchEntity":
                    return None
                raise
        role = answer.get("Role")
        return dict(role) if isinstance(role, dict) else {}
