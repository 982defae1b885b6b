"""Before a run: what it will need that can be read, checked with read-only calls (the contract's "read-only until
it runs").

A real run checks the cheap things before anything is registered or started: the cluster exists and is ACTIVE, and
the launch type or capacity provider fits the task definition (one DescribeClusters). A dry run checks everything
it can read besides: the subnets and security groups, the awslogs log groups, ECR images, the task and execution
roles, the size of the overrides. Each check passes, fails (an input error saying what, why and the fix: nothing
is started), or is skipped: the permission to read it is missing (the IAM action is named: these permissions are
optional), or AWS could not answer. A check never fails on what it could not read.

The decisions are pure functions of the run's request, its task definition and what AWS answered; the calls are
`aws.clients.Reads`."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, Literal, TypeGuard

from ecs_run_task import arns, words
from ecs_run_task.aws.clients import Clients, Reads
from ecs_run_task.diagnostics import log
from ecs_run_task.errors import Denied, InputError, RunError
from ecs_run_task.inputs.readers import FARGATE_PROVIDERS
from ecs_run_task.plan.request import OVERRIDES_LIMIT, overrides_size
from ecs_run_task.plan.resolve import Resolved

Verdict = Literal["passed", "failed", "skipped"]


@dataclass(frozen=True)
class Check:
    subject: str  # what was checked: "cluster", "launch type", "log group /ecs/app", ...
    verdict: Verdict
    text: str  # passed: what was found; failed: the problem (the input, what is wrong, the fix); skipped: why


@dataclass(frozen=True)
class Report:
    checks: tuple[Check, ...]

    @property
    def problems(self) -> list[str]:
        return [c.text for c in self.checks if c.verdict == "failed"]

    def lines(self) -> list[str]:
        """One line per check, as a dry run shows them."""
        return [f"{c.verdict}: {c.subject}: {c.text}" if c.verdict != "failed" else f"failed: {c.text}"
                for c in self.checks]  # fmt: skip

    def raise_failed(self) -> None:
        """An input error listing every check that failed: nothing is registered or started."""
        if self.problems:
            raise InputError(self.problems)


def check(resolved: Resolved, request: dict[str, Any], clients: Clients, *, thorough: bool) -> Report:
    """The checks of a run (`thorough`: a dry run's, every one) against AWS's answers."""
    reads = Reads(clients)
    found: list[Check] = []
    cluster, skipped = _ask("cluster", partial(reads.cluster, str(request["cluster"])))
    found += [skipped] if skipped else [cluster_check(str(request["cluster"]), clients.region, cluster)]
    found += launch_checks(request, resolved.task_definition, cluster, resolved.spec.service)
    if thorough:
        found += _thorough(resolved, request, reads, clients.region, cluster)
    else:  # a real run says nothing of a check it could not make (`--debug` does)
        for skipped in (c for c in found if c.verdict == "skipped"):
            log.debug("check skipped", check=skipped.subject, why=skipped.text)
    return Report(tuple(found))


def _thorough(resolved: Resolved, request: dict[str, Any], reads: Reads, region: str,
              cluster: dict[str, Any] | None) -> list[Check]:  # fmt: skip
    found: list[Check] = []
    definition = resolved.task_definition
    vpc = (request.get("networkConfiguration") or {}).get("awsvpcConfiguration") or {}
    if vpc.get("subnets"):
        ids, groups = list(vpc["subnets"]), list(vpc.get("securityGroups") or [])
        subnets, subnets_skipped = _ask("subnets", partial(reads.subnets, ids))
        sgs, sgs_skipped = _ask("security groups", partial(reads.security_groups, groups)) if groups else ([], None)
        found += [c for c in (subnets_skipped, sgs_skipped) if c]
        if not (subnets_skipped and sgs_skipped):
            found.append(network_check(ids if not subnets_skipped else [], groups if not sgs_skipped else [],
                                       subnets or [], sgs or [], region))  # fmt: skip
    for group, group_region, containers in log_groups(definition, region):
        exists, skipped = _ask(f"log group {group}", partial(reads.log_group_exists, group, group_region))
        found.append(skipped or log_group_check(group, group_region, containers, bool(exists)))
    for image, containers in images(definition):
        ref = ecr_image(image)
        if ref is None:
            found.append(Check(f"image {image}", "skipped", "not in a private ECR registry: not checked"))
            continue
        answer, skipped = _ask(f"image {image}", partial(reads.image, ref.registry, ref.region, ref.repository,
                                                         ref.image_id))  # fmt: skip
        found.append(skipped or image_check(image, ref, containers, str(answer), given=image == resolved.spec.image))
    account = _account(cluster, resolved.task_definition_arn)
    for kind, role in roles(definition, request):
        name, owner = role_name(role), role_account(role)
        if name is None:
            found.append(Check(f"{kind} {role}", "skipped", "not the ARN or name of an IAM role: not checked"))
        elif owner and account and owner != account:
            found.append(Check(f"{kind} {role}", "skipped", f"a role of account {owner}, not of this one: not checked"))
        else:
            answer, skipped = _ask(f"{kind} {role}", partial(reads.role, name))
            found.append(skipped or role_check(kind, role, answer))
    found.append(overrides_check(request))
    return found


def _ask(subject: str, call: Callable[[], Any]) -> tuple[Any, Check | None]:
    """AWS's answer, or a check skipped with the reason: no permission (the IAM action named), or AWS could not
    answer. What could not be read is never a failure."""
    try:
        return call(), None
    except Denied as e:
        return None, Check(subject, "skipped", f"no permission for {e.action} (optional: grant it for this check)")
    except RunError as e:
        return None, Check(subject, "skipped", f"could not be checked: {e.message}")


# -- the cluster, and where the task runs ---------------------------------------------------------------------------


def _active(cluster: dict[str, Any] | None) -> TypeGuard[dict[str, Any]]:
    """Known and ACTIVE: only then are its container instances worth a word (an inactive one is said as such)."""
    return cluster is not None and cluster.get("status") == "ACTIVE"


def cluster_check(name: str, region: str, cluster: dict[str, Any] | None) -> Check:
    shown = arns.cluster_name(name)
    if cluster is None:
        return Check("cluster", "failed", f"{words.flag('cluster')}: {shown!r} was not found in {region}; check "
                                          f"{words.the('cluster')} and the region ({words.the('region')} or "
                                          "AWS_REGION)")  # fmt: skip
    status = str(cluster.get("status", "?"))
    if status != "ACTIVE":
        why = " (deleted)" if status == "INACTIVE" else ""
        return Check("cluster", "failed", f"{words.flag('cluster')}: {shown!r} in {region} is {status}{why}, not ACTIVE: ECS starts "
                                          "no task in it; give an ACTIVE cluster")  # fmt: skip
    return Check("cluster", "passed", f"{shown} is ACTIVE in {region}")


@dataclass(frozen=True)
class Placement:
    """How the task will be placed: a launch type, or capacity providers; `said`: how the inputs chose it, as the
    start of a problem (`--launch-type FARGATE`, or `launch-type: FARGATE` in the Action)."""

    launch_type: str | None  # FARGATE, EC2, ...; None: capacity providers
    providers: tuple[str, ...]
    said: str

    @property
    def kind(self) -> str | None:
        """FARGATE or EC2 where known (capacity providers other than Fargate's may be EC2 or managed instances)."""
        if self.launch_type:
            return self.launch_type
        if self.providers and all(p in FARGATE_PROVIDERS for p in self.providers):
            return "FARGATE"
        return None


def placement(request: dict[str, Any], cluster: dict[str, Any] | None, service: str | None = None) -> Placement | None:
    """Where the request runs the task; None when that depends on a cluster that could not be read. `service`: the
    service whose settings filled in what the inputs left out."""
    name = arns.cluster_name(str(request["cluster"]))
    source = f" (given, or service {service}'s)" if service else ""
    if request.get("launchType"):
        return Placement(
            str(request["launchType"]), (), f"{words.setting('launch-type', request['launchType'])}{source}"
        )
    if request.get("capacityProviderStrategy"):
        names = tuple(str(p.get("capacityProvider")) for p in request["capacityProviderStrategy"])
        return Placement(None, names, f"{words.setting('capacity-provider-strategy', ', '.join(names))}{source}")
    if cluster is None:
        return None
    default = tuple(str(p.get("capacityProvider")) for p in cluster.get("defaultCapacityProviderStrategy") or [])
    if default:
        return Placement(None, default, f"{words.flag('launch-type')}: not given, so the default capacity provider strategy of "
                                        f"cluster {name} applies ({', '.join(default)})")  # fmt: skip
    # no launch type, no strategy and none by default: ECS runs the task with the EC2 launch type
    return Placement("EC2", (), f"{words.flag('launch-type')}: not given, and cluster {name} has no default capacity provider "
                                "strategy, so the task runs on EC2")  # fmt: skip


def launch_checks(request: dict[str, Any], definition: dict[str, Any], cluster: dict[str, Any] | None,
                  service: str | None = None) -> list[Check]:  # fmt: skip
    """Whether the task can be placed as asked: capacity providers the cluster has, a launch type the task definition
    supports (FARGATE needs awsvpc), container instances where the EC2 launch type is asked for."""
    where = placement(request, cluster, service)
    if where is None:
        return []
    revision, name = _revision(definition), arns.cluster_name(str(request["cluster"]))
    found: list[Check] = []
    associated = cluster.get("capacityProviders") if cluster is not None else None
    if where.providers and isinstance(associated, list):
        missing = [p for p in where.providers if p not in associated]
        if missing:
            theirs = ", ".join(map(str, associated)) or "none"
            found.append(Check("capacity providers", "failed",
                               f"{words.flag('capacity-provider-strategy')}: {', '.join(missing)} "
                               f"{'is' if len(missing) == 1 else 'are'} not a "
                               f"capacity provider of cluster {name} (its capacity providers: {theirs}); give one of "
                               "those, or associate it with the cluster (PutClusterCapacityProviders)"))  # fmt: skip
        else:
            found.append(Check("capacity providers", "passed", f"{', '.join(where.providers)} in cluster {name}"))
    kind, mode = where.kind, str(definition.get("networkMode") or "bridge")
    listed = definition.get("compatibilities")  # ECS's own reading of a registered task definition
    compatible = [str(c) for c in listed] if isinstance(listed, list) else []
    problem = ""
    if kind == "FARGATE" and mode != "awsvpc":
        problem = (f"Fargate needs network mode awsvpc, and task definition {revision} uses {mode}; run it on EC2 "
                   f"({words.setting('launch-type', 'EC2')}), or register the task definition with networkMode "
                   "awsvpc")  # fmt: skip
    elif kind in ("FARGATE", "EC2") and compatible and kind not in compatible:
        problem = (f"task definition {revision} is not compatible with {kind} (only with {', '.join(compatible)}); "
                   f"give {words.setting('launch-type', compatible[0])}, or register the task definition with "
                   "requiresCompatibilities "
                   f"{kind}")  # fmt: skip
    elif kind == "EC2" and _active(cluster) and cluster.get("registeredContainerInstancesCount") == 0:
        problem = (f"cluster {name} has no container instances to run it on; give "
                   f"{words.setting('launch-type', 'FARGATE')} (or {words.the('capacity-provider-strategy')}), or "
                   "register container instances in the cluster")  # fmt: skip
    if problem:
        found.append(Check("launch type", "failed", f"{where.said}; {problem}"))
    elif kind:
        found.append(Check("launch type", "passed", f"{kind} fits task definition {revision} (network mode {mode})"))
    return found


def _revision(definition: dict[str, Any]) -> str:
    revision = definition.get("revision")
    return f"{definition.get('family', '?')}:{revision}" if revision else str(definition.get("family", "?"))


# -- the network ------------------------------------------------------------------------------------------------------


def network_check(subnets: Sequence[str], groups: Sequence[str], found_subnets: list[dict[str, Any]],
                  found_groups: list[dict[str, Any]], region: str) -> Check:  # fmt: skip
    """The subnets and security groups exist (those read: `subnets` and `groups` are the IDs asked about), and
    share one VPC."""
    problems = []
    known = {str(s.get("SubnetId")): str(s.get("VpcId")) for s in found_subnets}
    missing = [s for s in subnets if s not in known]
    if missing:
        problems.append(f"{words.flag('subnets')}: {', '.join(missing)} {'does' if len(missing) == 1 else 'do'} not "
                        f"exist in {region}; check {words.the('subnets')} (or the service it comes from) and the "
                        "region")  # fmt: skip
    known_groups = {str(g.get("GroupId")): str(g.get("VpcId")) for g in found_groups}
    missing = [g for g in groups if g not in known_groups]
    if missing:
        problems.append(f"{words.flag('security-groups')}: {', '.join(missing)} "
                        f"{'does' if len(missing) == 1 else 'do'} not exist in {region}; check "
                        f"{words.the('security-groups')} (or the service it comes from) and the region")  # fmt: skip
    vpcs = {**known, **known_groups}
    if len(set(vpcs.values())) > 1:
        each = ", ".join(f"{k} in {v}" for k, v in vpcs.items())
        problems.append(f"{words.flag('subnets')}, {words.flag('security-groups')}: they are in different VPCs ({each}); ECS needs the subnets and "
                        "security groups of a task in one VPC")  # fmt: skip
    if problems:
        return Check("network", "failed", "; ".join(problems))
    named = ", ".join([*known, *known_groups])
    vpc = next(iter(vpcs.values()), "?")
    return Check("network", "passed", f"{named} exist, in {vpc}")


# -- logs -------------------------------------------------------------------------------------------------------------

_REGION = re.compile(r"[a-z]{2}(?:-[a-z]+)+-\d")


def log_groups(definition: dict[str, Any], region: str) -> list[tuple[str, str, list[str]]]:
    """(group, region, containers) for each awslogs log group the containers need to exist: not those created on
    demand (`awslogs-create-group`), nor a region that is not a region's name."""
    found: dict[tuple[str, str], list[str]] = {}
    for container in definition.get("containerDefinitions") or []:
        config = container.get("logConfiguration") or {}
        options = config.get("options") or {}
        group = options.get("awslogs-group")
        created = str(options.get("awslogs-create-group")).lower() == "true"  # by ECS, when it starts the task
        if config.get("logDriver") != "awslogs" or not group or created:
            continue
        where = str(options.get("awslogs-region") or region)
        if _REGION.fullmatch(where):
            found.setdefault((str(group), where), []).append(str(container.get("name")))
    return [(group, where, names) for (group, where), names in found.items()]


def log_group_check(group: str, region: str, containers: list[str], exists: bool) -> Check:
    subject = f"log group {group}"
    if exists:
        return Check(subject, "passed", f"exists in {region}")
    return Check(subject, "failed",
                 f"{words.flag('task-definition')}: log group {group} (awslogs-group of container {', '.join(containers)}) does not "
                 f"exist in {region}, so the container could not start; create it, or set awslogs-create-group: true "
                 "in the container's logConfiguration options (the execution role then needs logs:CreateLogGroup)")  # fmt: skip


# -- images -----------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EcrImage:
    registry: str  # the account ID
    region: str
    repository: str
    tag: str | None
    digest: str | None

    @property
    def image_id(self) -> dict[str, str]:
        return {"imageDigest": self.digest} if self.digest else {"imageTag": self.tag or "latest"}


# A private ECR registry's host: the account, `dkr`, `ecr` (or `ecr-fips`), the region, then AWS's domain
_ECR = re.compile(
    r"(?P<registry>\d{12})\.dkr\.ecr(?:-fips)?\.(?P<region>[a-z]{2}(?:-[a-z]+)+-\d)\.amazonaws\.com(?:\.cn)?/"
    r"(?P<repository>[a-z0-9][a-z0-9._/-]*)(?::(?P<tag>[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}))?"
    r"(?:@(?P<digest>sha256:[a-f0-9]{64}))?"
)


def ecr_image(image: str) -> EcrImage | None:
    """The image's registry, region, repository and tag or digest, when it is in a private ECR registry."""
    found = _ECR.fullmatch(image)
    if not found:
        return None
    return EcrImage(found["registry"], found["region"], found["repository"], found["tag"], found["digest"])


def images(definition: dict[str, Any]) -> list[tuple[str, list[str]]]:
    """(image, containers) for each image of the task definition."""
    found: dict[str, list[str]] = {}
    for container in definition.get("containerDefinitions") or []:
        if container.get("image"):
            found.setdefault(str(container["image"]), []).append(str(container.get("name")))
    return list(found.items())


def image_check(image: str, ref: EcrImage, containers: list[str], answer: str, *, given: bool = False) -> Check:
    """`given`: the image is the `image` input's, else the task definition's."""
    subject = f"image {image}"
    if answer == "found":
        return Check(subject, "passed", f"in ECR ({ref.registry}, {ref.region})")
    which = f"of container {', '.join(containers)}"
    if answer == "repository":
        why = f"repository {ref.repository} does not exist in ECR registry {ref.registry} ({ref.region})"
    else:
        wanted = f"digest {ref.digest}" if ref.digest else f"tag {ref.tag or 'latest'}"
        why = f"repository {ref.repository} has no image with {wanted}"
    if given:
        return Check(subject, "failed", f"{words.flag('image')}: {image} ({which}): {why}, so the task could not pull "
                                        f"it; push the image first, or fix {words.the('image')}")  # fmt: skip
    return Check(subject, "failed", f"{words.flag('task-definition')}: image {image} ({which}): {why}, so the task "
                                    "could not pull it; push the image first, or fix the image in the task "
                                    f"definition (or give {words.the('image')})")  # fmt: skip


# -- roles ------------------------------------------------------------------------------------------------------------

_ROLE_ARN = re.compile(r"arn:aws[\w-]*:iam::(?P<account>\d{12}):role/(?:[\w+=,.@/-]*/)?(?P<name>[\w+=,.@-]+)")
_ROLE_NAME = re.compile(r"[\w+=,.@-]{1,64}")


def roles(definition: dict[str, Any], request: dict[str, Any]) -> list[tuple[str, str]]:
    """("task role" | "execution role", ARN or name) as the run will pass them: the overrides win."""
    overrides = request.get("overrides") or {}
    found = []
    for kind, key in (("task role", "taskRoleArn"), ("execution role", "executionRoleArn")):
        role = overrides.get(key) or definition.get(key)
        if role:
            found.append((kind, str(role)))
    return found


def role_name(role: str) -> str | None:
    found = _ROLE_ARN.fullmatch(role)
    if found:
        return found["name"]
    return role if _ROLE_NAME.fullmatch(role) else None


def role_account(role: str) -> str | None:
    found = _ROLE_ARN.fullmatch(role)
    return found["account"] if found else None


def _account(cluster: dict[str, Any] | None, task_definition_arn: str) -> str | None:
    """This account's ID, from an ARN ECS answered (the cluster's, else the task definition's)."""
    for arn in (str((cluster or {}).get("clusterArn", "")), task_definition_arn):
        parts = arn.split(":")
        if len(parts) > 4 and parts[0] == "arn" and parts[4].isdigit():
            return parts[4]
    return None


def role_check(kind: str, role: str, found: dict[str, Any] | None) -> Check:
    subject = f"{kind} {role}"
    which = "task-role-arn" if kind == "task role" else "execution-role-arn"
    where = f"check {words.the(which)}, or {'taskRoleArn' if kind == 'task role' else 'executionRoleArn'} in the task definition"
    if found is None:
        return Check(subject, "failed", f"{words.flag(which)}: the {kind} {role} does not exist, so ECS could not start the task "
                                        f"with it; {where}")  # fmt: skip
    arn = str(found.get("Arn", ""))
    if role.startswith("arn:") and arn and arn != role:
        return Check(subject, "failed", f"{words.flag(which)}: the {kind} {role} does not exist (a role of that name does: {arn}); "
                                        f"{where}")  # fmt: skip
    trust = json.dumps(found.get("AssumeRolePolicyDocument") or "")
    if "ecs-tasks.amazonaws.com" not in trust and '"*"' not in trust:
        return Check(subject, "failed", f"{words.flag(which)}: the {kind} {role} does not trust ecs-tasks.amazonaws.com, so ECS "
                                        "could not assume it; add that service principal to the role's trust policy "
                                        "(sts:AssumeRole)")  # fmt: skip
    return Check(subject, "passed", "exists, and ECS tasks may assume it")


# -- overrides --------------------------------------------------------------------------------------------------------


def overrides_check(request: dict[str, Any]) -> Check:
    size = overrides_size(request["overrides"]) if request.get("overrides") else 0
    return Check("overrides", "passed", f"{size:,} of {OVERRIDES_LIMIT:,} characters")
