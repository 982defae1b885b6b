"""The edge: argv or `INPUT_*` -> spec; pick the renderer; run; exit status; and the action's post step.

What ends a run before any task exists (bad input, AWS refusing, a signal, a bug of ours) is caught here and
reported with the no-task outputs, `--dotenv` included; once a task exists the runner's guard does the same.
Anything unexpected keeps its traceback on stderr and exits 125, never a container's 1."""

from __future__ import annotations

import contextlib
import errno
import io
import json
import os
import stat
import sys
from collections.abc import Mapping, Sequence
from typing import IO, TYPE_CHECKING

from ecs_run_task import __version__, diagnostics, words
from ecs_run_task.engine import before_task
from ecs_run_task.engine.cancel import Cancellation, Cancelled
from ecs_run_task.engine.renderer import Renderer
from ecs_run_task.errors import InputError, RunError
from ecs_run_task.inputs import parse, spec
from ecs_run_task.inputs import readers as read
from ecs_run_task.inputs import table as inputs
from ecs_run_task.inputs.parse import BadValue
from ecs_run_task.printable import encodable, inert
from ecs_run_task.report import pick
from ecs_run_task.report.github import GitHub
from ecs_run_task.report.log_file import LogFile
from ecs_run_task.report.writes import Told, guarded
from ecs_run_task.tracebacks import print_traceback
from ecs_run_task.verdict import outputs
from ecs_run_task.verdict.outcome import stopping
from ecs_run_task.verdict.outputs import dotenv

if TYPE_CHECKING:
    from ecs_run_task.engine.session import Result, Session  # botocore is costly to import: see _run


def default_started_by(env: Mapping[str, str]) -> str:
    """ECS `startedBy` naming the CI run, so a task can be traced back to its job (max 128 chars)."""
    if env.get("GITHUB_RUN_ID"):
        ident = f"gh/{env.get('GITHUB_REPOSITORY', '')}/{env['GITHUB_RUN_ID']}/{env.get('GITHUB_RUN_ATTEMPT', '1')}"
    elif env.get("CI_JOB_ID"):
        ident = f"gitlab/{env.get('CI_PROJECT_PATH', '')}/{env['CI_JOB_ID']}"
    else:
        ident = "ecs-run-task"
    return "".join(c if c.isalnum() or c in "/_-" else "-" for c in ident)[:128]


def region(run_spec: spec.Spec, env: Mapping[str, str]) -> str | None:
    """The `region` input, else AWS_REGION (botocore itself reads only AWS_DEFAULT_REGION and config files)."""
    return run_spec.region or env.get("AWS_REGION") or None


def _write_dotenv(path: str | None, values: Mapping[str, str], err: IO[str]) -> None:
    """The outputs for the jobs after this one. Failing to write them never hides the run's own exit status."""
    if not path:
        return
    try:
        with open(path, "w", encoding="utf-8", errors="backslashreplace") as f:
            f.write(dotenv(values))
    except OSError as e:
        print(f"ecs-run-task: error: --dotenv: the outputs could not be written to {path} ({e.strerror})", file=err)


def _check_dotenv(path: str | None) -> None:
    """A `--dotenv` path that cannot be written, or that is a FIFO (it would hold the run at its end, deaf to
    signals), is bad input, found before anything starts. A device is taken as it is (/dev/null: outputs not kept).
    Only a check: the file is never emptied here."""
    if not path:
        return
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0), 0o666)
    except OSError as e:
        if e.errno == errno.ENXIO:  # a FIFO with no reader (or a socket)
            raise _refusal(path, os.lstat(path).st_mode, "dotenv") from None
        raise InputError([f"--dotenv: {path} cannot be written ({e.strerror})"]) from None
    try:
        mode = os.fstat(fd).st_mode
    finally:
        os.close(fd)
    if stat.S_ISFIFO(mode):  # one with a reader now may have none at the end
        raise _refusal(path, mode, "dotenv")


def _safe_streams(out: IO[str]) -> None:
    """What a container writes may not fit the locale's encoding: show it escaped rather than raise."""
    for stream in {out, sys.stdout, sys.stderr}:
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(errors="backslashreplace")


# what a path that is not a regular file is, and why a file of ours (log-file, junit-file) refuses it
_KINDS = ((stat.S_ISLNK, "a symbolic link", "its target would be overwritten (this image runs as root)"),
          (stat.S_ISFIFO, "a FIFO", "a FIFO nobody reads would block the run"),
          (stat.S_ISCHR, "a device", "lines written there would skip the block that keeps them from acting as "
                                     "workflow commands, or be lost"),
          (stat.S_ISBLK, "a device", "it is not a file"),
          (stat.S_ISSOCK, "a socket", "it is not a file"),
          (stat.S_ISDIR, "a directory", "it is not a file"))  # fmt: skip
_STREAMS = ("/dev/stdout", "/dev/stderr", "/dev/fd/", "/proc/self/fd/", "/dev/tty")


def _not_regular(path: str, mode: int, what: str = "log-file") -> InputError | None:
    """The input error for a file of ours (`what`: its input) that is not a regular file (its mode as `lstat` or
    `fstat` gives it)."""
    return None if stat.S_ISREG(mode) else _refusal(path, mode, what)


def _refusal(path: str, mode: int, what: str = "log-file") -> InputError:
    kind, why = next(((k, w) for test, k, w in _KINDS if test(mode)), ("not a regular file", "it is not a file"))
    if path.startswith(_STREAMS):
        why = ("container lines written to the CI log that way would skip the block that keeps them from acting as "
               "workflow commands; the CI log shows every line already")  # fmt: skip
    return InputError([f"{words.flag(what)}: {path} is {kind}, not a regular file: {why}; give a plain file's path"])


def _no_linked_folder(path: str, what: str) -> None:
    """InputError when a folder on the way to `path`, inside the working directory, is a symbolic link (a committed
    `logs -> /etc`): writing through it would overwrite what it points at. O_NOFOLLOW guards only the last part."""
    cwd = os.getcwd()
    folder = os.path.dirname(os.path.abspath(path))
    if folder != cwd and not folder.startswith(cwd.rstrip(os.sep) + os.sep):
        return  # a path outside the checkout was chosen as it is
    here = cwd
    for part in os.path.relpath(folder, cwd).split(os.sep):
        here = os.path.join(here, part)
        if part != "." and os.path.islink(here):
            raise InputError([f"{words.flag(what)}: {path} goes through {os.path.relpath(here, cwd)}, a symbolic link: "
                              "its target would be written (this image runs as root); give a path without links"])  # fmt: skip


def _writable(path: str, what: str = "log-file") -> None:
    """OSError unless `path` could be written (its missing folders made): checked without creating anything;
    InputError for a path that is there but not a regular file (a symbolic link is not followed)."""
    _no_linked_folder(path, what)
    try:
        found = os.lstat(path)
    except FileNotFoundError:
        found = None
    if found is not None and not stat.S_ISDIR(found.st_mode):
        refused = _not_regular(path, found.st_mode, what)
        if refused:
            raise refused
    if os.path.isdir(path):
        raise IsADirectoryError(21, "Is a directory", path)
    where = path
    if not os.path.exists(path):
        where = os.path.dirname(os.path.abspath(path))
        while not os.path.exists(where):
            where = os.path.dirname(where)
        if not os.path.isdir(where):  # a file where a folder would be made: as os.makedirs says it
            raise FileExistsError(17, "File exists", where)
    if not os.access(where, os.W_OK):
        raise PermissionError(13, "Permission denied", where)


def _open_regular(path: str) -> IO[str]:
    """The file at `path`, emptied, for writing: never a symbolic link (O_NOFOLLOW), never a wait on a FIFO
    without a reader (O_NONBLOCK), and refused (InputError) unless it is a regular file once open."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags, 0o666)
    except OSError as e:
        if e.errno == errno.ELOOP:  # the last part of the path is a symbolic link
            raise _refusal(path, stat.S_IFLNK) from None
        if e.errno == errno.ENXIO:  # a FIFO with no reader (or a socket)
            raise _refusal(path, os.lstat(path).st_mode) from None
        raise
    try:
        refused = _not_regular(path, os.fstat(fd).st_mode)
        if refused:
            raise refused
        os.set_blocking(fd, True)
        os.ftruncate(fd, 0)
        return open(fd, "w", encoding="utf-8", errors="backslashreplace", closefd=True)
    except BaseException:
        os.close(fd)
        raise


def _open_log_file(path: str | None, *, dry_run: bool) -> IO[str] | None:
    """The `log-file`, its directory made, the file created or emptied now (a dry run leaves it as it is): a path
    that cannot be written, or that is not a regular file (a FIFO, a device such as /dev/stdout, a directory, a
    symbolic link), is bad input, found before the run."""
    if not path:
        return None
    try:
        if dry_run:  # a check that changes nothing: the file, or the nearest folder that exists, is writable
            _writable(path)
            return None
        _no_linked_folder(path, "log-file")
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        return _open_regular(path)
    except OSError as e:
        raise InputError([f"{words.flag('log-file')}: {path} cannot be written ({e.strerror}); a relative path is relative to "
                          "the working directory (the workspace in the action)"]) from None  # fmt: skip


STDOUT_LOST = "the rest of this run's output is dropped, and the task is followed to its end all the same"


def main(argv: Sequence[str] | None = None, env: Mapping[str, str] | None = None, out: IO[str] | None = None,
         err: IO[str] | None = None) -> int:  # fmt: skip
    """Run as the CLI or the action's main step. Output goes to `out` (stdout), a failure's lines in plain and
    GitLab output to `err` (stderr; `out` too when only `out` is given, as tests capture one stream).

    Writing our own streams and files may fail (stdout closed by `| head`, a full disk): each failure is said
    once on stderr, and the exit status stays the task's (see `report/writes.py`)."""
    process = out is None  # the real stdout and stderr: every print of ours goes through the guards too
    err = err or (sys.stderr if out is None else out)
    out = sys.stdout if out is None else out
    _safe_streams(out)
    told = Told(err)
    guarded_out = guarded(out, "stdout", STDOUT_LOST, told)
    guarded_err = guarded_out if err is out else guarded(err, "stderr", "our own messages there are dropped", told)
    saved = sys.stdout, sys.stderr
    if process:
        sys.stdout, sys.stderr = guarded_out, guarded_err
    try:
        with contextlib.ExitStack() as closing:  # the log file, complete and closed however the run ends
            return _main(closing, argv, env, guarded_out, guarded_err, told=told)
    finally:
        sys.stdout, sys.stderr = saved


def _main(closing: contextlib.ExitStack, argv: Sequence[str] | None, env: Mapping[str, str] | None,
          out: IO[str], err: IO[str], *, told: Told) -> int:  # fmt: skip
    argv = sys.argv[1:] if argv is None else argv
    env = os.environ if env is None else env
    cancel = Cancellation()
    cancel.install()
    action = not argv and any(k.startswith("INPUT_") for k in env)
    closing.enter_context(words.speaking(cli=not action, inputs=inputs.NAMES))  # inputs named as this face does
    dotenv_path, debug = None, env.get("RUNNER_DEBUG") == "1"
    env_pairs: list[str] = []
    origins: dict[str, str] = {}
    raw: Mapping[str, str] = {}
    renderer: Renderer = pick("auto", env, out, err, told)  # until the flags are read, for a bad flag's error
    reporting = False  # the renderer writes the junit-file report
    sessions: list[Session] = []  # the run's, once it has one: whether a task was started, should all go wrong
    try:
        if action:
            raw = inputs.from_action(env)
        else:
            given = inputs.from_argv(argv, env)
            raw, origins, env_pairs = given.raw, given.origins, given.env_pairs
            debug = given.debug or debug
            renderer = pick(given.format, env, out, err, told)
            _check_dotenv(given.dotenv)
            dotenv_path = given.dotenv  # once it is known to be writable: else its error would come twice
        run_spec = spec.build(raw, env_pairs, origins)
        renderer, reporting = _with_junit(renderer, run_spec.junit_file, dry_run=run_spec.dry_run, err=err)
        result = _run(run_spec, renderer, env, cancel, closing, told=told, debug=debug, sessions=sessions)
        _write_dotenv(dotenv_path, result.outputs, err)
        return result.outcome.exit_code
    except (Cancelled, Exception) as e:  # before any task was started (nothing to stop), or a bug of ours
        if isinstance(e, InputError) and not reporting:  # the report says so, if its own input is good
            renderer, reporting = _junit_for_bad_input(renderer, raw, err)
        outcome = before_task.outcome(e, [a for s in sessions for a in s.started()])
    values = outputs.no_task(outcome.status, outcome)
    try:
        renderer.result(outcome, values)
    except Exception:  # the renderer's own files may be what failed
        print_traceback()
        print(inert(encodable(outcome.message)), file=sys.stderr)
    _write_dotenv(dotenv_path, values, err)
    return outcome.exit_code


def _with_junit(renderer: Renderer, path: str | None, *, dry_run: bool, err: IO[str]) -> tuple[Renderer, bool]:
    """The renderer, wrapped to write the `junit-file` report at the end: a path that cannot be written is bad input,
    found before the run; a dry run checks it and writes nothing."""
    if not path:
        return renderer, False
    try:
        _writable(path, "junit-file")
    except OSError as e:
        raise InputError([f"{words.flag('junit-file')}: {path} cannot be written ({e.strerror}); a relative path is relative to "
                          "the working directory (the workspace in the action)"]) from None  # fmt: skip
    if dry_run:
        return renderer, False
    from ecs_run_task.report.junit import JUnit  # noqa: PLC0415 - xml.etree: only for a run that writes a report

    return JUnit(renderer, path, err), True


def _junit_for_bad_input(renderer: Renderer, raw: Mapping[str, str], err: IO[str]) -> tuple[Renderer, bool]:
    """Bad input ends the run before the report's input was read: the report is written all the same, saying why,
    when `junit-file` itself is good (and this is no dry run)."""
    try:
        path = read.path(raw.get("junit-file", "")) if raw.get("junit-file", "").strip() else None
        dry_run = parse.boolean(raw["dry-run"]) if raw.get("dry-run", "").strip() else False
        return _with_junit(renderer, path, dry_run=dry_run, err=err)
    except (BadValue, InputError):
        return renderer, False


def _run(run_spec: spec.Spec, renderer: Renderer, env: Mapping[str, str], cancel: Cancellation,
         closing: contextlib.ExitStack, *, told: Told, debug: bool, sessions: list[Session]) -> Result:  # fmt: skip
    """The run itself, once the inputs are known to be good: traps said, diagnostics and the log file set up."""
    for warning in run_spec.warnings:  # traps: said, never a reason to fail
        renderer.warning(warning)
    renderer.configure(run_spec)
    diagnostics.configure(debug, renderer.diagnostic_sink())
    log_file = _open_log_file(run_spec.log_file, dry_run=run_spec.dry_run)
    if log_file:
        cost = "the file stops at the lines written before; the CI log shows every line"
        log_file = closing.enter_context(
            guarded(log_file, f"{words.flag('log-file')} {run_spec.log_file}", cost, told, owned=True)
        )
    from ecs_run_task.aws import clients as aws  # noqa: PLC0415 - botocore costs ~250 ms: not for --help or bad input
    from ecs_run_task.engine.runner import Runner  # noqa: PLC0415
    from ecs_run_task.engine.session import Session  # noqa: PLC0415

    clients = aws.connect(region(run_spec, env), hidden=run_spec.hidden)
    shown = LogFile(renderer, log_file) if log_file else renderer
    if run_spec.gate_deployment:  # the same run, at a service deployment's PAUSE hook, which it then answers
        from ecs_run_task.engine.gate import Gate  # noqa: PLC0415

        gate = Gate(run_spec, clients, shown, cancel, default_started_by(env))
        sessions.append(gate.session)
        return gate.run()
    sessions.append(Session(run_spec, clients, shown, cancel))
    return Runner(sessions[0], default_started_by(env)).run()


_POST_HELP = """\
The GitHub Action's post step (action.yml's post-entrypoint), run by the runner after the job's steps, whatever
happened to them. It reads the task ARNs, cluster and region the main step saved (the runner passes them as
STATE_task-arns, STATE_cluster and STATE_region) and stops each of those tasks that still runs: the main step may
have been killed (a cancelled workflow, a step timeout) before it could stop them itself. A task the main step
followed with attach is never saved, so never stopped. With nothing saved it does nothing.

Exit status: 0 (nothing to do, or every task left running was stopped), 1 (a task could not be checked or
stopped: a warning annotation says which and why). Not meant to be run by hand; ecs-run-task --help is the tool."""


def post_cli(argv: Sequence[str] | None = None) -> int:
    """`ecs-run-task-post`: `--help` and `--version` say what it is; otherwise the post step."""
    import argparse  # noqa: PLC0415 - the post step itself takes no arguments

    parser = argparse.ArgumentParser(prog="ecs-run-task-post", description=_POST_HELP,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    parser.add_argument("--version", action="version", version=f"ecs-run-task-post {__version__}")
    parser.parse_args(sys.argv[1:] if argv is None else argv)
    return post_main()


def post_main(env: Mapping[str, str] | None = None) -> int:
    """The action's post step: stop any task the main step left running (it may have been killed), and roll back
    a service deployment whose PAUSE hook it left unanswered (gate-deployment)."""
    env = os.environ if env is None else env
    arns = json.loads(env.get("STATE_task-arns") or "[]")
    hook, deployment = env.get("STATE_hook-id") or "", env.get("STATE_deployment-arn") or ""
    if not arns and not (hook and deployment):
        return 0
    diagnostics.configure(env.get("RUNNER_DEBUG") == "1")  # the post step: plain lines on stderr
    cluster = env.get("STATE_cluster") or "default"
    from ecs_run_task.aws import clients as aws  # noqa: PLC0415 - see main()

    failed = 0
    try:
        ecs = aws.Ecs(aws.connect(env.get("STATE_region") or env.get("AWS_REGION") or None))
    except RunError as e:
        GitHub(sys.stdout, env).tool_annotation("warning", f"post step: could not connect to AWS: {e.message}")
        return 1
    try:
        tasks, _ = ecs.describe_tasks(cluster, arns) if arns else ([], [])
        for task in tasks:
            if not stopping(task):  # one ECS is stopping already needs nothing from us
                ecs.stop_task(cluster, task["taskArn"], "Stopped by ecs-run-task: the CI step ended while it ran")
                print(f"ecs-run-task: stopped task {task['taskArn']} left running by the main step", flush=True)
    except RunError as e:
        GitHub(sys.stdout, env).tool_annotation("warning", f"post step: could not check or stop {arns}: {e.message}")
        failed = 1
    if hook and deployment:  # the main step ended before it answered the hook: never a CONTINUE
        try:
            ecs.continue_service_deployment(deployment, hook, "ROLLBACK", quick=True)
            print(f"ecs-run-task: rolled back deployment {deployment} (PAUSE hook {hook}), which the main step left "
                  "unanswered", flush=True)  # fmt: skip
        except RunError as e:
            GitHub(sys.stdout, env).tool_annotation(
                "warning", f"post step: could not roll back deployment {deployment} (PAUSE hook {hook}): {e.message}; "
                "unless it was answered already, ECS takes the hook's timeout action when it expires")  # fmt: skip
            failed = 1
    return failed
