"""`python -m sandbox serve [--host H] [--port N] [--demo]`: the sandbox in the foreground.
`python -m sandbox play [SCENARIO] [--run] [--list]`: the playground (`playground.py`), as `ecs-run-task-playground`."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from types import FrameType

from . import playground
from .sandbox import Sandbox
from .spec import Container, RunLocally, Teardown

# A task that logs and fails: what the README demo shows.
DEMO_SCRIPT = (
    'echo "migrating 1/3"; sleep 1; '
    'echo "migrating 2/3"; sleep 1; '
    'echo "migrating 3/3"; sleep 1; '
    'echo "error: migration 3 failed: relation \\"users\\" already exists" >&2; '
    "exit 3"
)
# ECS's stop sequence, shortened from Fargate's (0.5 s, 1 s, 20 s and more): the run ends at the container's
# exit, so the demo's last progress line shows the task still tearing down (DEACTIVATING, DEPROVISIONING...).
DEMO_TEARDOWN = Teardown(deactivating=1.0, stopping=1.0, deprovisioning=8.0)


def register_demo(sb: Sandbox) -> str:
    return sb.register(
        family="demo",
        containers=[Container(name="app", command=["sh", "-c", DEMO_SCRIPT])],
        behaviour=RunLocally(teardown=DEMO_TEARDOWN),
        log_group="/ecs/demo",
        stream_prefix="demo",
        log_mode="blocking",  # as a migration's should be: the demo opens with its run, not a caution
    )


def serve(host: str, port: int, demo: bool) -> int:
    stop = threading.Event()

    def on_signal(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    with Sandbox(host=host, port=port) as sb:
        sb.create_cluster("default")
        if demo:
            register_demo(sb)
        print(f"SANDBOX_ENDPOINT={sb.endpoint}", flush=True)
        while not stop.wait(timeout=0.5):
            pass
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["play"]:  # its own parser: the installed ecs-run-task-playground is the same command
        return playground.main(argv[1:], prog="python -m sandbox play")
    parser = argparse.ArgumentParser(prog="python -m sandbox")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("play", help="the playground: a scenario and the command to run against it (see play --help)")
    p = sub.add_parser("serve", help="run the sandbox in the foreground")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0, help="0 = any free port")
    p.add_argument("--demo", action="store_true", help="register the `demo` task definition family")
    args = parser.parse_args(argv)
    return serve(args.host, args.port, args.demo)


if __name__ == "__main__":
    sys.exit(main())
