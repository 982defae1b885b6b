"""aws.py: which botocore error becomes which of our errors, with the failure catalogue's hint; the narrow ECS and
CloudWatch Logs calls against botocore's Stubber (no sandbox, no network). How answers are read: test_answers.py."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any, cast

import botocore.session
import pytest
from botocore import exceptions
from botocore.exceptions import ClientError, ParamValidationError
from botocore.stub import Stubber
from botocore.validate import ParamValidator

from ecs_run_task.aws import clients as aws
from ecs_run_task.engine.cancel import Cancelled
from ecs_run_task.errors import AccessError, Denied, InputError, RunError, Throttled, Transient, UnreadableAnswer
from ecs_run_task.exit_codes import CANNOT_RUN
from ecs_run_task.status import Status
from ecs_run_task.verdict import failures
from tests.helpers import Said

NOT_AUTHORIZED = ("User: arn:aws:sts::123456789012:assumed-role/ci/job is not authorized to perform: ecs:RunTask on "
                  "resource: arn:aws:ecs:us-east-1:123456789012:task-definition/app:1 because no identity-based policy "
                  "allows the ecs:RunTask action")  # fmt: skip
SECRET = "hunter2-NEVER-SHOWN"


def client_error(code: str, message: str = "it failed", status: int = 400, operation: str = "RunTask") -> ClientError:
    answer: Any = {"Error": {"Code": code, "Message": message}, "ResponseMetadata": {"HTTPStatusCode": status}}
    return ClientError(answer, operation)


def explained(error: BaseException, service: str = "ecs", operation: str = "RunTask",
              cluster: tuple[str, str] | None = None) -> RunError:  # fmt: skip
    """What `aws.explained` turns `error` into."""
    with pytest.raises(RunError) as raised, aws.explained(service, operation, cluster):
        raise error
    return raised.value


# -- which error becomes which ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "message", "hint"),
    [
        ("AccessDeniedException", NOT_AUTHORIZED, "access-denied-resource"),
        ("AccessDenied", "You are not authorized to perform this operation.", "access-denied"),
        ("UnauthorizedOperation", "You are not authorized to perform this operation.", "access-denied"),
    ],
)
def test_access_denied_is_an_access_error_that_names_the_action(code: str, message: str, hint: str) -> None:
    error = explained(client_error(code, message))
    assert type(error) is Denied  # an AccessError that names the action, so that a check can say what to grant
    assert error.action == "ecs:RunTask"
    assert error.message == f"AWS denied ecs:RunTask: {message}"
    assert error.hint is not None
    assert error.hint.key == hint
    assert error.hint.fix.startswith("Grant `ecs:RunTask` ")
    assert (error.exit_code, error.status) == (CANNOT_RUN, Status.FAILED_TO_START)


def test_a_denied_pass_role_names_the_role_to_grant_it_on() -> None:
    message = NOT_AUTHORIZED.replace("ecs:RunTask on resource: arn:aws:ecs:us-east-1:123456789012:task-definition/app:1",
                                     "iam:PassRole on resource: arn:aws:iam::123456789012:role/task")  # fmt: skip
    error = explained(client_error("AccessDeniedException", message))
    assert isinstance(error, AccessError)
    assert error.hint is not None
    assert error.hint.key == "pass-role-denied"
    assert "`iam:PassRole` on `arn:aws:iam::123456789012:role/task`" in error.hint.fix


@pytest.mark.parametrize(
    ("code", "hint"),
    [
        ("ExpiredToken", "expired-credentials"),
        ("ExpiredTokenException", "expired-credentials"),
        ("RequestExpired", "expired-credentials"),
        ("UnrecognizedClientException", "bad-credentials"),
        ("InvalidClientTokenId", "bad-credentials"),
    ],
)
def test_bad_credentials_are_an_access_error_with_the_code(code: str, hint: str) -> None:
    error = explained(client_error(code, "The security token included in the request is expired"), "logs",
                      "GetLogEvents")  # fmt: skip
    assert type(error) is AccessError
    assert error.message == (f"AWS rejected the credentials for logs:GetLogEvents ({code}: The security token "
                             "included in the request is expired)")  # fmt: skip
    assert error.hint is not None
    assert error.hint.key == hint


THROTTLED = ["Throttling", "ThrottlingException", "ThrottledException", "RequestLimitExceeded",
             "TooManyRequestsException", "RequestThrottled", "RequestThrottledException", "SlowDown"]  # fmt: skip


@pytest.mark.parametrize("code", THROTTLED)
def test_throttling_is_transient(code: str) -> None:
    """Transient, and refused: AWS said no before acting (RunTask throttled started nothing)."""
    error = explained(client_error(code, "Rate exceeded"), operation="DescribeTasks")
    assert type(error) is Throttled
    assert isinstance(error, Transient)
    assert error.refused
    assert error.message == f"ecs:DescribeTasks failed: {code}: Rate exceeded"


def test_ec2_throttling_passed_on_by_ecs_is_transient() -> None:
    said = "Error retrieving subnet information for [subnet-0123abcd]: Rate exceeded (ErrorCode: Throttling)"
    error = explained(client_error("InvalidParameterException", said), operation="RunTask")
    assert type(error) is Throttled
    assert error.message == f"ecs:RunTask failed: InvalidParameterException: {said}"


def test_a_5xx_without_code_or_message_says_its_status_alone() -> None:
    error = explained(client_error("", "", 500), operation="DescribeTasks")
    assert (type(error), error.message) == (Transient, "ecs:DescribeTasks failed: 500")


@pytest.mark.parametrize(("code", "status"), [("ServerException", 503), ("InternalFailure", 500), ("", 502)])
def test_a_5xx_answer_is_transient_whatever_its_code(code: str, status: int) -> None:
    error = explained(client_error(code, "Service unavailable", status), operation="DescribeTasks")
    assert type(error) is Transient
    assert error.message == f"ecs:DescribeTasks failed: {code or status}: Service unavailable"


def test_a_missing_cluster_names_the_cluster_and_the_region() -> None:
    error = explained(client_error("ClusterNotFoundException", "Cluster not found."), cluster=("Sample", "eu-west-1"))
    assert type(error) is RunError
    assert error.message == ("cluster: 'Sample' was not found in eu-west-1 (ecs:RunTask: Cluster not found.); check "
                             "the cluster input and the region")  # fmt: skip
    assert error.hint is not None
    assert error.hint.key == "cluster-not-found"


def test_any_other_client_error_is_a_run_error_with_its_code_and_message() -> None:
    message = "Network Configuration must be provided when networkMode 'awsvpc' is specified."
    error = explained(client_error("InvalidParameterException", message))
    assert type(error) is RunError
    assert error.message == f"ecs:RunTask failed: InvalidParameterException: {message}"
    assert error.hint is not None
    assert error.hint.key == "invalid-network"


@pytest.mark.parametrize(
    ("code", "message", "status"),
    [
        ("AccessDeniedException", NOT_AUTHORIZED, 400),
        ("AccessDenied", "You are not authorized to perform this operation.", 400),
        ("ExpiredTokenException", "The security token included in the request is expired", 400),
        ("InvalidClientTokenId", "The security token included in the request is invalid.", 403),
        ("ThrottlingException", "Rate exceeded", 400),
        ("ServerException", "Service unavailable", 503),
        ("ClusterNotFoundException", "Cluster not found.", 400),
        ("ClientException", "Unable to describe task definition.", 400),
        ("InvalidParameterException", "No Container Instances were found in your cluster.", 400),
        ("SomethingNew", "AWS added an error", 400),
    ],
)
def test_each_client_error_carries_the_catalogues_hint_for_its_call(code: str, message: str, status: int) -> None:
    error = explained(client_error(code, message, status), operation="DescribeTaskDefinition")
    assert error.hint == failures.for_aws_error(code=code, message=message, action="ecs:DescribeTaskDefinition")
    assert (error.hint is None) == (code in {"ThrottlingException", "ServerException", "SomethingNew"})


def test_no_credentials_and_no_region_say_how_to_give_them() -> None:
    no_credentials = explained(exceptions.NoCredentialsError())
    assert type(no_credentials) is AccessError
    assert no_credentials.message.startswith(
        "no AWS credentials found; set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
    )
    assert "aws-actions/configure-aws-credentials" in no_credentials.message
    no_region = explained(exceptions.NoRegionError())
    assert type(no_region) is InputError
    assert no_region.problems == ["region: no AWS region is set; give the region input or set AWS_REGION"]


def test_a_web_identity_token_file_missing_or_empty_says_how_gitlab_gives_one() -> None:
    """GitLab's OIDC: AWS_ROLE_ARN and AWS_WEB_IDENTITY_TOKEN_FILE, which the job's before_script fills from an
    `id_tokens:` token. A missing file, or an empty one, is a credentials problem, not a bug of ours."""
    missing = explained(FileNotFoundError(2, "No such file or directory", "/tmp/aws-web-identity-token"))
    assert type(missing) is AccessError
    assert missing.message.startswith("the AWS credentials could not be read: /tmp/aws-web-identity-token: No such")
    assert "give the job an `id_tokens:` token" in missing.message
    empty = explained(exceptions.ParamValidationError(report="Invalid length for parameter WebIdentityToken, "
                                                             "value: 0, valid min length: 4"))  # fmt: skip
    assert type(empty) is AccessError
    assert empty.message.startswith("the web identity token in AWS_WEB_IDENTITY_TOKEN_FILE is empty; on GitLab")


@pytest.mark.parametrize(
    "error",
    [
        exceptions.EndpointConnectionError(endpoint_url="https://ecs.us-east-1.amazonaws.com"),
        exceptions.ConnectionClosedError(endpoint_url="https://ecs.us-east-1.amazonaws.com"),
        exceptions.ReadTimeoutError(endpoint_url="https://ecs.us-east-1.amazonaws.com"),
        exceptions.ConnectTimeoutError(endpoint_url="https://ecs.us-east-1.amazonaws.com"),
        exceptions.HTTPClientError(error="connection reset"),
        exceptions.SSLError(endpoint_url="https://ecs.us-east-1.amazonaws.com", error=OSError("handshake timed out")),
        exceptions.ProxyConnectionError(proxy_url="http://proxy:3128", error=OSError("connection refused")),
    ],
    ids=lambda e: type(e).__name__,
)
def test_an_unreachable_aws_is_transient(error: Exception) -> None:
    got = explained(error, operation="DescribeTasks")
    assert type(got) is Transient
    assert got.message == f"ecs:DescribeTasks failed: AWS could not be reached ({error})"


@pytest.mark.parametrize(
    "error", [AttributeError("'str' object has no attribute 'get'"), TypeError("list indices"), ValueError("bad"),
              KeyError("taskArn"), RuntimeError("parser")], ids=lambda e: type(e).__name__,
)  # fmt: skip
def test_an_answer_botocore_cannot_read_is_an_unreadable_answer_a_transient(error: Exception) -> None:
    got = explained(error, operation="DescribeTasks")
    assert type(got) is UnreadableAnswer
    assert isinstance(got, Transient)
    assert got.message == f"ecs:DescribeTasks: AWS's answer could not be read ({type(error).__name__}: {error})"


def test_any_other_botocore_error_is_a_run_error_naming_the_call() -> None:
    got = explained(exceptions.PartialCredentialsError(provider="env", cred_var="AWS_SECRET_ACCESS_KEY"))
    assert type(got) is RunError
    assert got.message == "ecs:RunTask failed: Partial credentials found in env, missing: AWS_SECRET_ACCESS_KEY"


@pytest.mark.parametrize("error", [OSError("disk"), Cancelled(15)], ids=["a bug of ours", "a signal"])
def test_what_is_not_botocores_passes_through_unchanged(error: BaseException) -> None:
    with pytest.raises(type(error)) as raised, aws.explained("ecs", "DescribeTasks"):
        raise error
    assert raised.value is error


def _report(params: dict[str, Any]) -> str:
    shape = botocore.session.Session().get_service_model("ecs").operation_model("RunTask").input_shape
    assert shape is not None
    return str(ParamValidator().validate(params, shape).generate_report())


BAD_REQUEST = {
    "taskDefinition": "app",
    "count": f"{SECRET}-count",
    "overrides": {"containerOverrides": [{"name": "web", "environment": [{"name": "A", "value": [SECRET]}]}]},
    "volumeConfigurations": [{"name": "data", "managedEBSVolume": {"roleArn": "arn:role", "sizeInGiB": SECRET}}],
}


def test_a_param_validation_report_never_shows_the_values() -> None:
    report = _report(BAD_REQUEST)
    assert SECRET in report  # botocore's own report quotes them...
    got = explained(ParamValidationError(report=report))
    assert type(got) is RunError
    assert SECRET not in got.message  # ...ours names the parameter and the types only
    assert "Invalid type for parameter overrides.containerOverrides[0].environment[0].value, type: <class 'list'>, " \
           "valid types: <class 'str'>" in got.message  # fmt: skip
    assert "Invalid type for parameter count, type: <class 'str'>, valid types: <class 'int'>" in got.message


def test_validation_names_the_input_a_bad_field_came_from_without_its_value() -> None:
    ecs = aws.Ecs(aws.Clients(ecs=_client("ecs"), region="us-east-1"))
    with pytest.raises(InputError) as raised:
        ecs.validate("RunTask", {**BAD_REQUEST, "cluster": "Sample"})
    problems = raised.value.problems
    assert SECRET not in "\n".join(problems)
    assert ("volume-configurations: Invalid type for parameter volumeConfigurations[0].managedEBSVolume.sizeInGiB, "
            "type: <class 'str'>, valid types: <class 'int'>") in problems  # fmt: skip
    assert ("RunTask request, from overrides or the task definition: Invalid type for parameter "
            "overrides.containerOverrides[0].environment[0].value, type: <class 'list'>, valid types: <class 'str'>"
            ) in problems  # fmt: skip
    ecs.validate("RunTask", {"cluster": "Sample", "taskDefinition": "app"})  # a good request passes


# -- the calls, against botocore's Stubber --------------------------------------------------------------------------


def _client(service: str) -> Any:
    session = botocore.session.Session()
    return session.create_client(service, region_name="us-east-1", aws_access_key_id="testing",
                                 aws_secret_access_key="testing")  # fmt: skip


@pytest.fixture
def stub(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[aws.Ecs, Stubber]]:
    """`Ecs` whose every client (the main one, the follower and the stopper) is one stubbed client."""
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    client = _client("ecs")
    clients = aws.Clients(ecs=client, region="us-east-1")
    clients.__dict__.update(follower=client, stopper=client)  # what the cached properties would make
    with Stubber(client) as stubber:
        yield aws.Ecs(clients), stubber
        stubber.assert_no_pending_responses()


def test_a_task_definition_that_is_not_there_is_named_with_the_region(stub: tuple[aws.Ecs, Stubber]) -> None:
    ecs, stubber = stub
    stubber.add_client_error("describe_task_definition", "ClientException", "Unable to describe task definition.",
                             expected_params={"taskDefinition": "ghost:3"})  # fmt: skip
    with pytest.raises(RunError) as raised:
        ecs.describe_task_definition("ghost:3")
    assert raised.value.message == ("task-definition: 'ghost:3' was not found in us-east-1 (Unable to describe task "
                                    "definition.); check the family, revision and region")  # fmt: skip


def test_describe_task_definition_gives_the_definition(stub: tuple[aws.Ecs, Stubber]) -> None:
    ecs, stubber = stub
    definition = {"family": "app", "revision": 4, "containerDefinitions": [{"name": "web"}]}
    stubber.add_response("describe_task_definition", {"taskDefinition": definition}, {"taskDefinition": "app"})
    assert ecs.describe_task_definition("app") == definition


@pytest.mark.parametrize(
    ("services", "message"),
    [([], "service: 'web' was not found in cluster 'Sample'; check the name and cluster"),
     ([{"serviceName": "web", "status": "DRAINING"}], "service: 'web' in cluster 'Sample' is DRAINING, not ACTIVE")],
)  # fmt: skip
def test_a_service_that_is_missing_or_not_active_is_an_error(
    stub: tuple[aws.Ecs, Stubber], services: list[dict[str, Any]], message: str
) -> None:
    ecs, stubber = stub
    stubber.add_response("describe_services", {"services": services, "failures": []},
                         {"cluster": "Sample", "services": ["web"]})  # fmt: skip
    with pytest.raises(RunError) as raised:
        ecs.describe_service("Sample", "web")
    assert raised.value.message == message


def test_run_task_gives_the_tasks_and_the_failures(stub: tuple[aws.Ecs, Stubber]) -> None:
    ecs, stubber = stub
    request = {"cluster": "Sample", "taskDefinition": "app", "count": 2}
    answer = {"tasks": [{"taskArn": "arn:1", "containers": [{"name": "web"}]}],
              "failures": [{"arn": "arn:ci", "reason": "RESOURCE:MEMORY"}]}  # fmt: skip
    stubber.add_response("run_task", answer, request)
    assert ecs.run_task(request) == (answer["tasks"], answer["failures"])


def test_describe_tasks_asks_100_at_a_time(stub: tuple[aws.Ecs, Stubber]) -> None:
    ecs, stubber = stub
    arns = [f"arn:{i}" for i in range(150)]
    stubber.add_response("describe_tasks", {"tasks": [{"taskArn": a} for a in arns[:100]], "failures": []},
                         {"cluster": "Sample", "tasks": arns[:100]})  # fmt: skip
    stubber.add_response("describe_tasks", {"tasks": [], "failures": [{"arn": "arn:149", "reason": "MISSING"}]},
                         {"cluster": "Sample", "tasks": arns[100:]})  # fmt: skip
    tasks, missing = ecs.describe_tasks("Sample", arns)
    assert [t["taskArn"] for t in tasks] == arns[:100]
    assert missing == [{"arn": "arn:149", "reason": "MISSING"}]


@dataclass
class Unreadable:
    """A follower whose first DescribeTasks answer botocore cannot parse, as when a list comes where an object
    belongs."""

    asked: list[list[str]] = field(default_factory=list)

    def describe_tasks(self, cluster: str, tasks: list[str]) -> dict[str, Any]:
        self.asked.append(tasks)
        if len(self.asked) == 1:
            raise TypeError("string indices must be integers")
        return {"tasks": [{"taskArn": arn} for arn in tasks], "failures": []}


def test_a_batch_that_cannot_be_read_is_no_news_and_said_once(said: Said) -> None:
    follower = Unreadable()
    clients = aws.Clients(ecs=_client("ecs"), region="us-east-1")
    clients.__dict__["follower"] = follower
    arns = [f"arn:{i}" for i in range(150)]
    tasks, missing = aws.Ecs(clients).describe_tasks("Sample", arns)
    assert [len(batch) for batch in follower.asked] == [100, 50]
    assert ([t["taskArn"] for t in tasks], missing) == (arns[100:], [])  # the first batch: asked again next poll
    aws.Ecs(clients).describe_tasks("Sample", arns[:1])
    assert said.warnings == ["DescribeTasks answered what cannot be read; the tasks are described again"]


def test_list_running_lists_every_family_and_follows_the_pages(stub: tuple[aws.Ecs, Stubber]) -> None:
    """ListTasks cannot filter by group: every task of the cluster that ECS wants running, whatever its family."""
    ecs, stubber = stub
    asked = {"cluster": "Sample", "desiredStatus": "RUNNING"}
    stubber.add_response("list_tasks", {"taskArns": ["arn:1"], "nextToken": "page2"}, asked)
    stubber.add_response("list_tasks", {"taskArns": ["arn:2"]}, {**asked, "nextToken": "page2"})
    assert ecs.list_running("Sample") == ["arn:1", "arn:2"]


def test_stop_task_cuts_the_reason_to_what_ecs_takes(stub: tuple[aws.Ecs, Stubber]) -> None:
    ecs, stubber = stub
    stubber.add_response("stop_task", {"task": {"taskArn": "arn:1"}},
                         {"cluster": "Sample", "task": "arn:1", "reason": "x" * 255})  # fmt: skip
    ecs.stop_task("Sample", "arn:1", "x" * 300)


def test_stop_task_refused_is_explained(stub: tuple[aws.Ecs, Stubber]) -> None:
    ecs, stubber = stub
    stubber.add_client_error("stop_task", "AccessDeniedException", "You are not authorized to perform this operation.")
    with pytest.raises(AccessError, match=r"^AWS denied ecs:StopTask: "):
        ecs.stop_task("Sample", "arn:1", "timeout")


@pytest.fixture
def logs(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[aws.Logs, Stubber]]:
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    client = _client("logs")
    with Stubber(client) as stubber:
        yield aws.Logs(cast("Any", client)), stubber
        stubber.assert_no_pending_responses()


def test_log_events_are_read_from_the_head_then_from_the_token(logs: tuple[aws.Logs, Stubber]) -> None:
    reader, stubber = logs
    where = {"logGroupName": "/ecs/app", "logStreamName": "app/web/1", "startFromHead": True}
    stubber.add_response("get_log_events", {"events": [{"timestamp": 1, "message": "a"}], "nextForwardToken": "f/1"},
                         where)  # fmt: skip
    stubber.add_response("get_log_events", {"events": [], "nextForwardToken": "f/1"}, {**where, "nextToken": "f/1"})
    stubber.add_response("get_log_events", {"events": []}, {**where, "nextToken": "f/1"})
    assert reader.get_log_events("/ecs/app", "app/web/1", None) == ([{"timestamp": 1, "message": "a"}], "f/1")
    assert reader.get_log_events("/ecs/app", "app/web/1", "f/1") == ([], "f/1")  # the same token: caught up
    assert reader.get_log_events("/ecs/app", "app/web/1", "f/1") == ([], "f/1")  # no token answered: keep ours


def test_a_stream_that_does_not_exist_yet_is_none(logs: tuple[aws.Logs, Stubber]) -> None:
    reader, stubber = logs
    stubber.add_client_error("get_log_events", "ResourceNotFoundException", "The specified log stream does not exist.")
    assert reader.get_log_events("/ecs/app", "app/web/1", None) is None


def test_log_reads_denied_are_explained_as_a_logs_action(logs: tuple[aws.Logs, Stubber]) -> None:
    reader, stubber = logs
    stubber.add_client_error("get_log_events", "AccessDeniedException", "not authorized")
    with pytest.raises(AccessError) as raised:
        reader.get_log_events("/ecs/app", "app/web/1", None)
    assert raised.value.message == "AWS denied logs:GetLogEvents: not authorized"
    assert raised.value.hint is not None
    assert raised.value.hint.fix == "Grant `logs:GetLogEvents` to the role this job runs as."


def test_an_older_botocore_without_the_deployment_operations_is_said_before_any_call() -> None:
    """boto3 before 1.44 has no ContinueServiceDeployment: the gate says what to install, never asks until its
    timeout for a method that does not exist."""
    ecs = botocore.session.get_session().create_client("ecs", region_name="us-east-1")
    known = [name for name in ecs.meta.service_model.operation_names if name != "ContinueServiceDeployment"]
    older = SimpleNamespace(meta=SimpleNamespace(service_model=SimpleNamespace(operation_names=known)))
    with pytest.raises(RunError) as caught:
        aws.Ecs(cast(Any, SimpleNamespace(ecs=older))).require(["ListServiceDeployments", "ContinueServiceDeployment"],
                                                               "gate-deployment")  # fmt: skip
    said = caught.value.message
    assert said.startswith("gate-deployment needs ECS operations this installation's botocore ("), said
    assert "does not know (ContinueServiceDeployment): install boto3 1.44 or newer" in said
    aws.Ecs(cast(Any, SimpleNamespace(ecs=ecs))).require(["ContinueServiceDeployment"], "gate-deployment")  # no error
