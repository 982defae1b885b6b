"""The playground: the sandbox as a new user tries ecs-run-task without AWS. Every scenario is a task definition
family in cluster `default`; the one chosen is printed with the exact environment and command to run against it.

    ecs-run-task-playground oom            # installed: pipx install 'ecs-run-task[playground]'
    python -m sandbox play oom             # from the repository
    ecs-run-task-playground oom --run      # and run that command at once, exiting with its status
    ecs-run-task-playground --list

Scenarios play ECS's real sequences (states, exit codes, reasons, stop codes, log lines, lines that arrive after the
container's exit) on a clock a little faster than Fargate's."""

from __future__ import annotations

import argparse
import errno
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from types import FrameType

from .provision import REGION
from .sandbox import Sandbox
from .spec import HOLD, NEVER, Behaviour, Container, ContainerScript, RunLocally, Scripted, Step, Teardown

CLUSTER = "default"
DEFAULT_PORT = 4599  # fixed, so that a second playground session keeps the exported endpoint; --port 0: any free one
TEARDOWN = Teardown(deactivating=0.5, stopping=0.5, deprovisioning=1.0)  # Fargate's, shortened


def _life(running: float) -> list[Step]:
    return [Step("PROVISIONING", 1.0), Step("PENDING", 1.0), Step("RUNNING", running)]


def _lines(*texts: str, every: float = 0.5) -> list[tuple[float, str]]:
    return [(i * every, text) for i, text in enumerate(texts)]


@dataclass(frozen=True)
class Scenario:
    name: str  # the task definition family too
    says: str  # what the task does, one sentence
    containers: list[Container]
    behaviour: Behaviour
    exit_code: int  # what the command below exits with
    status: str  # the `status` output it ends with
    flags: tuple[str, ...] = ()  # beyond --cluster and --task-definition
    after: tuple[str, ...] = ()  # after --, a command
    notes: tuple[str, ...] = field(default=())  # what to look at in the output

    def argv(self) -> list[str]:
        argv = ["ecs-run-task", "--cluster", CLUSTER, "--task-definition", self.name, *self.flags]
        return [*argv, "--", *self.after] if self.after else argv


MIGRATION = ("migrating 1/3: create_users", "migrating 2/3: add_index_on_email", "migrating 3/3: backfill_names")
OOM = "OutOfMemoryError: Container killed due to memory usage"
PULL = ("CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve ref "
        "acme/app:v9: acme/app:v9: not found")  # fmt: skip

SCENARIOS: tuple[Scenario, ...] = (
    Scenario("success", "a migration logs three steps and exits 0.", [Container("app")],
             Scripted(steps=_life(2.5), containers={"app": ContainerScript(0, lines=_lines(*MIGRATION, "done"))},
                      teardown=TEARDOWN),
             0, "succeeded", notes=("the task's states as it starts, its log lines, then status=succeeded exit-code=0",)),
    Scenario("fail", "a migration logs two steps, then an error, and exits 3.", [Container("app")],
             Scripted(steps=_life(2.0), containers={"app": ContainerScript(3, lines=_lines(
                 *MIGRATION[:2], 'error: relation "users" already exists'))}, teardown=TEARDOWN),
             3, "failed", notes=("the container's own exit code is the command's: 3", "the last lines shown again with "
                                 "the failure")),
    Scenario("oom", "the container logs that it loads its data, then is killed for using more than its 128 MiB.",
             [Container("app")],
             Scripted(steps=_life(2.0), containers={"app": ContainerScript(137, reason=OOM, lines=_lines(
                 "loading 2,000,000 rows into memory", "still loading..."))}, teardown=TEARDOWN),
             137, "failed", notes=("exit 137 (killed), with the likely cause and the fix",)),
    Scenario("pull-error", "the image does not exist, so the container never runs.", [Container("app", image="acme/app:v9")],
             Scripted(steps=[Step("PROVISIONING", 1.0), Step("PENDING", 1.5), Step("DEPROVISIONING", 0.5)],
                      containers={"app": ContainerScript(None, reason=PULL)}, stop_code="TaskFailedToStart",
                      stopped_reason=f"CannotPullContainerError: {PULL.split(': ', 1)[1]}"),
             125, "failed-to-start", notes=("exit 125 and status failed-to-start: the task never ran (no exit code of "
                                            "its own), with the likely cause and the fix",)),
    Scenario("timeout", "a job that never ends, run with a 10 second timeout.", [Container("app")],
             Scripted(steps=[Step("PROVISIONING", 1.0), Step("PENDING", 1.0), Step("RUNNING", HOLD)],
                      containers={"app": ContainerScript(lines=_lines(*(f"working... {i}s" for i in range(0, 120, 2)),
                                                                      every=2.0))}, teardown=TEARDOWN),
             124, "timed-out", flags=("--timeout", "10s"), notes=("exit 124 at the timeout, and the task stopped "
                                                                  "(StopTask) before the command returns",)),
    Scenario("sidecar", "a migration that is not essential beside an essential proxy that runs on until stopped.",
             [Container("migrate", essential=False), Container("proxy")],
             Scripted(steps=_life(HOLD), containers={
                 "migrate": ContainerScript(0, lines=_lines(*MIGRATION, "done"), exits_after=2.5),
                 "proxy": ContainerScript(lines=_lines("proxy: listening on :15000"), exits_after=NEVER,
                                          sigterm_delay=0.5, sigterm_exit_code=0)}, teardown=TEARDOWN),
             0, "succeeded", flags=("--container", "migrate"),
             notes=("each line prefixed with its container", "decided at migrate's exit: the proxy is then stopped")),
    Scenario("late-lines", "the container's last line, its error, reaches CloudWatch 1.5 seconds after it exited, "
                           "when ECS already says the task stopped.", [Container("app")],
             Scripted(steps=_life(2.0), containers={"app": ContainerScript(1, lines=[
                 *_lines(*MIGRATION[:2]), (3.5, "error: migration 3 failed: deadlock detected")])},
                 teardown=Teardown(deactivating=0.2, stopping=0.2, deprovisioning=0.3)),
             1, "failed", notes=("the error line printed although it arrived after the exit (log-drain)",)),
    Scenario("local", "your own command, run as a local process on this machine: its output is the log, its exit "
                      "code the container's.", [Container("app", command=["sh", "-c", "echo hello from the task"])],
             RunLocally(provisioning=1.0, pending=1.0, teardown=TEARDOWN),
             4, "failed", after=("sh", "-c", "echo hello; echo bye >&2; exit 4"),
             notes=("change the command after -- and run it again",)),
)  # fmt: skip
BY_NAME = {s.name: s for s in SCENARIOS}


def register(sb: Sandbox) -> None:
    """Cluster `default` and every scenario's family."""
    sb.create_cluster(CLUSTER)
    for scenario in SCENARIOS:
        # awslogs mode blocking, as a migration's should be: no caution about lines lost
        sb.register(scenario.name, scenario.containers, scenario.behaviour, log_group=f"/ecs/{scenario.name}",
                    log_mode="blocking")  # fmt: skip


def environment(endpoint: str) -> dict[str, str]:
    """What points the CLI (any AWS client) at the playground: its endpoint, moto's dummy credentials, a region."""
    return {"AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_REGION": REGION, "AWS_DEFAULT_REGION": REGION}  # fmt: skip


def shown(scenario: Scenario, endpoint: str) -> str:
    """What a new user reads and copies: the environment and the command, and how the run will end."""
    exports = " ".join(f"{k}={shlex.quote(v)}" for k, v in environment(endpoint).items())
    lines = [f"Scenario {scenario.name}: {scenario.says}", "", "In another terminal:", "",
             f"  export {exports}", f"  {shlex.join(scenario.argv())}", "",
             f"It ends with exit status {scenario.exit_code} and status={scenario.status}."]  # fmt: skip
    lines += [f"Look for: {note}." for note in scenario.notes]
    return "\n".join(lines)


def listing() -> str:
    width = max(len(s.name) for s in SCENARIOS)
    return "\n".join(f"  {s.name:<{width}}  {s.says} (exit {s.exit_code})" for s in SCENARIOS)


def parser(prog: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog=prog,
        description="Try ecs-run-task without AWS: a local stand-in for ECS and CloudWatch Logs (moto, on this "
        "machine) that plays a scenario, and the exact command to run against it.",
        epilog="Scenarios:\n" + listing(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("scenario", nargs="?", default="fail", choices=list(BY_NAME), metavar="SCENARIO",
                   help="what the task does (default: fail); every scenario is served, this one is shown")  # fmt: skip
    p.add_argument("--run", action="store_true", help="run the command at once and exit with its status")
    p.add_argument("--list", action="store_true", help="list the scenarios and exit")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    p.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default: {DEFAULT_PORT}; 0: any free one)")
    return p


def main(argv: Sequence[str] | None = None, prog: str = "ecs-run-task-playground") -> int:
    args = parser(prog).parse_args(argv)
    if args.list:
        print(listing())
        return 0
    scenario = BY_NAME[args.scenario]
    if args.port and _taken(args.host, args.port):  # werkzeug would say it and exit on its own
        print(f"{prog}: port {args.port} is in use (another playground?): stop it, or give --port 0 for any free "
              "port", file=sys.stderr)  # fmt: skip
        return 1
    with Sandbox(host=args.host, port=args.port) as sb:
        register(sb)
        print(f"ecs-run-task playground: a stand-in for AWS (ECS and CloudWatch Logs) at {sb.endpoint}, on this "
              "machine; no AWS account is used.\n", flush=True)  # fmt: skip
        if args.run:
            return _run(scenario, sb.endpoint)
        print(shown(scenario, sb.endpoint), flush=True)
        print(f"\nEvery scenario is served: {', '.join(BY_NAME)} (--list says what each does). Ctrl-C stops the "
              "playground.", flush=True)  # fmt: skip
        _wait_for_a_signal()
    return 0


def _taken(host: str, port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind((host, port))
        except OSError as e:
            if e.errno == errno.EADDRINUSE:
                return True
            raise
    return False


def _run(scenario: Scenario, endpoint: str) -> int:
    """The scenario's command, with the playground's environment: the installed CLI, else this Python's module."""
    argv = scenario.argv()
    installed = shutil.which("ecs-run-task")
    command = [installed, *argv[1:]] if installed else [sys.executable, "-m", "ecs_run_task", *argv[1:]]
    print(f"Scenario {scenario.name}: {scenario.says}\n$ {shlex.join(argv)}", flush=True)
    return subprocess.run(command, env={**os.environ, **environment(endpoint)}, check=False).returncode


def _wait_for_a_signal() -> None:
    stop = threading.Event()

    def on_signal(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    while not stop.wait(timeout=0.5):
        pass
