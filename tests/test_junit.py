"""`junit-file`: a JUnit XML report that the common readers take (GitLab, Jenkins, reporter actions), read back with a
real XML parser and checked against the structure Jenkins' junit-10.xsd asks for (the schema the readers follow),
plus what the stricter Ant schema asks of a suite; written for every ending, and never a reason for another verdict."""

from __future__ import annotations

import io
import re
import time
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ecs_run_task import arns
from ecs_run_task.engine.logs import LogLine, LogSource
from ecs_run_task.engine.renderer import Context
from ecs_run_task.errors import Hint
from ecs_run_task.report import junit, pick
from ecs_run_task.report.junit import JUnit, xml_text
from ecs_run_task.status import Status
from ecs_run_task.verdict import outputs
from ecs_run_task.verdict.outcome import Outcome
from sandbox import HOLD, ContainerScript, Sandbox, Scripted, Step
from tests.helpers import Run, go, launch, register

# What junit-10.xsd allows (attributes; child elements), and requires
SUITES_ATTRIBUTES = {"name", "time", "tests", "failures", "errors"}
SUITE_ATTRIBUTES = {"name", "tests", "failures", "errors", "group", "time", "skipped", "timestamp", "hostname", "id",
                    "package", "file", "log", "url"}  # fmt: skip
SUITE_REQUIRED = {"name", "tests", "failures", "errors"}
SUITE_CHILDREN = {"testsuite", "properties", "testcase", "system-out", "system-err"}
CASE_ATTRIBUTES = {"name", "time", "classname", "group"}
CASE_CHILDREN = {"skipped", "error", "failure", "system-out", "system-err"}
RESULT_ATTRIBUTES = {"type", "message"}  # of skipped, error, failure
SUREFIRE_TIME = re.compile(r"(([0-9]{0,3},)*[0-9]{3}|[0-9]{0,3})*(\.[0-9]*)?")
ANT_TIMESTAMP = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}")  # the Ant schema's: no zone
ANT_SUITE = {"name", "timestamp", "hostname", "tests", "failures", "errors", "time", "id", "package"}
ARN = "arn:aws:ecs:us-east-1:123456789012:task/Sample/0a1b2c3d4e5f"


def check(text: str) -> ET.Element:
    """The report parsed (expat refuses what is not well-formed XML 1.0), and its structure checked."""
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n')
    root = ET.fromstring(text.encode())  # noqa: S314 - our own report, read back to check it
    assert root.tag == "testsuites"
    assert set(root.attrib) <= SUITES_ATTRIBUTES
    suites = list(root)
    assert suites, "one testsuite at least"
    assert {s.tag for s in suites} == {"testsuite"}
    for suite in suites:
        assert SUITE_REQUIRED | ANT_SUITE <= set(suite.attrib) <= SUITE_ATTRIBUTES, suite.attrib
        assert SUREFIRE_TIME.fullmatch(suite.attrib["time"]), suite.attrib["time"]
        assert ANT_TIMESTAMP.fullmatch(suite.attrib["timestamp"]), suite.attrib["timestamp"]
        assert {child.tag for child in suite} <= SUITE_CHILDREN
        cases = suite.findall("testcase")
        for case in cases:
            assert "name" in case.attrib
            assert set(case.attrib) <= CASE_ATTRIBUTES
            assert SUREFIRE_TIME.fullmatch(case.attrib["time"]), case.attrib["time"]
            assert {child.tag for child in case} <= CASE_CHILDREN
            for child in case:
                assert list(child) == [], "text only"
                if child.tag in ("skipped", "error", "failure"):
                    assert set(child.attrib) <= RESULT_ATTRIBUTES
        assert int(suite.attrib["tests"]) == len(cases)
        assert int(suite.attrib["failures"]) == len(suite.findall("testcase/failure"))
        assert int(suite.attrib["errors"]) == len(suite.findall("testcase/error"))
        assert int(suite.attrib["skipped"]) == len(suite.findall("testcase/skipped"))
    for total in ("tests", "failures", "errors"):
        assert int(root.attrib[total]) == sum(int(s.attrib[total]) for s in suites)
    return root


def cases(root: ET.Element) -> list[ET.Element]:
    return root.findall("testsuite/testcase")


def write(tmp_path: Path, outcome: Outcome, context: Context | None = None, *lines: str) -> ET.Element:
    """The report of `outcome`, with `lines` logged by container web of the task ARN, through the wrapper."""
    path = tmp_path / "report.xml"
    junit = JUnit(pick("plain", {}, io.StringIO()), str(path), io.StringIO())
    source = LogSource("web", ARN, "/ecs/app", "app/web/0a1b2c3d4e5f", None)
    junit.log_lines([LogLine(source, 0, line) for line in lines])
    junit.result(outcome, outputs.build(outcome, context.tasks if context else [], ""), context)
    return check(path.read_text(encoding="utf-8"))


STOPPED = datetime(2025, 1, 1, 12, 0, 42, tzinfo=UTC)
TASK = {"taskArn": ARN, "taskDefinitionArn": "arn:aws:ecs:us-east-1:123456789012:task-definition/app:7",
        "createdAt": datetime(2025, 1, 1, 12, 0, 0, tzinfo=UTC), "stoppedAt": STOPPED, "lastStatus": "STOPPED",
        "containers": [{"name": "web", "lastStatus": "STOPPED", "exitCode": 3}]}  # fmt: skip
CONTEXT = Context("arn:aws:ecs:us-east-1:123456789012:cluster/Sample", "us-east-1", [TASK], (), ["web"])


def test_a_failed_task_is_a_failure_named_by_cluster_family_and_container(tmp_path: Path) -> None:
    hint = Hint("out-of-memory", "It ran out of memory.", "Raise the memory.")
    outcome = Outcome(Status.FAILED, 3, 3, TASK, "web", "container web exited with code 3", hint)
    [case] = cases(write(tmp_path, outcome, CONTEXT, "migrating", "error: boom"))
    assert case.attrib == {"classname": "Sample.app", "name": "web", "time": "42.000"}
    failure = case.find("failure")
    assert failure is not None
    assert failure.attrib == {"type": "failed", "message": "container web exited with code 3"}
    assert failure.text == ("container web exited with code 3\nLikely cause: It ran out of memory.\n"
                            "Fix: Raise the memory.")  # fmt: skip
    assert case.findtext("system-out") == "migrating\nerror: boom\n"


def test_a_succeeded_task_is_a_passed_test_case_with_its_last_lines(tmp_path: Path) -> None:
    task = {**TASK, "containers": [{"name": "web", "lastStatus": "STOPPED", "exitCode": 0}]}
    outcome = Outcome(Status.SUCCEEDED, 0, 0, task, "web", "exited with code 0")
    [case] = cases(write(tmp_path, outcome, Context("Sample", "us-east-1", [task], (), ["web"]), "done"))
    assert [child.tag for child in case] == ["system-out"]
    assert case.findtext("system-out") == "done\n"


def test_a_task_started_without_waiting_is_skipped(tmp_path: Path) -> None:
    task = {**TASK, "lastStatus": "PENDING", "stoppedAt": None, "containers": []}
    outcome = Outcome(Status.STARTED, 0, None, task, None, "started 1 task(s); not waiting")
    [case] = cases(write(tmp_path, outcome, Context("Sample", "us-east-1", [task], (), ["web"])))
    skipped = case.find("skipped")
    assert skipped is not None
    assert skipped.attrib == {"message": "started 1 task(s); not waiting"}


def test_a_run_that_started_no_task_is_one_test_case_saying_so(tmp_path: Path) -> None:
    outcome = Outcome.without_task(Status.FAILED_TO_START, 125, "AWS denied ecs:RunTask: not authorized")
    [case] = cases(write(tmp_path, outcome))
    assert (case.attrib["classname"], case.attrib["name"]) == ("default", "task")
    failure = case.find("failure")
    assert failure is not None
    assert failure.attrib == {"type": "failed-to-start",
                              "message": "could not start the task: AWS denied ecs:RunTask: not authorized"}  # fmt: skip


@pytest.mark.parametrize(
    ("written", "shown"),
    [
        ("\x1b[31mred\x1b[0m", "red"),  # colours dropped
        ("bell\x07 nul\x00 esc\x1b[2J", "bell\u2407 nul\u2400 esc\u241b[2J"),  # control characters as symbols
        ("lone \ud800 surrogate", "lone \\ud800 surrogate"),  # escaped, as every printed line shows it
        ("not a character \ufffe\uffff", "not a character \ufffd\ufffd"),
        ("]]> <tag> & 'quotes' \"", "]]> <tag> & 'quotes' \""),  # escaped by the writer, read back as written
        ("CR\rinside", "CR\u240dinside"),
    ],
)
def test_hostile_output_is_made_xml_text(tmp_path: Path, written: str, shown: str) -> None:
    assert xml_text(written) == shown
    outcome = Outcome(Status.FAILED, 3, 3, TASK, "web", f"container web said {written}")
    [case] = cases(write(tmp_path, outcome, CONTEXT, written))
    assert case.findtext("system-out") == shown + "\n"
    failure = case.find("failure")
    assert failure is not None
    assert failure.attrib["message"] == "container web exited with code 3"  # the headline
    assert failure.text == f"container web exited with code 3\ncontainer web said {shown}"  # then what was said


def test_a_report_that_cannot_be_written_is_said_once_and_raises_nothing(tmp_path: Path) -> None:
    (tmp_path / "taken").write_text("a file where the report's folder would be")
    err = io.StringIO()
    shown = io.StringIO()
    junit = JUnit(pick("plain", {}, shown), str(tmp_path / "taken" / "report.xml"), err)
    failed = Outcome(Status.FAILED, 3, 3, TASK, "web", "container web exited with code 3")
    junit.result(failed, outputs.build(failed, [TASK], ""), CONTEXT)
    assert err.getvalue().count("\n") == 1
    assert err.getvalue().startswith(f"ecs-run-task: error: junit-file: the report could not be written to {tmp_path}")
    assert err.getvalue().rstrip().endswith("the run's status and exit code are unchanged")
    assert "status=failed exit-code=3" in shown.getvalue()  # the result itself was shown


# -- through the CLI, against the sandbox -------------------------------------------------------------------------


def test_a_run_that_succeeds_writes_a_passed_test_case(sandbox: Sandbox, run: Run, tmp_path: Path) -> None:
    register(sandbox, web=ContainerScript(exit_code=0, lines=[(0.0, "migrated 3 tables")]))
    report = tmp_path / "reports" / "ecs-run-task.xml"  # its folder is made
    ran = go(run, "--junit-file", str(report))
    assert ran.code == 0
    root = check(report.read_text())
    [case] = cases(root)
    assert (case.attrib["classname"], case.attrib["name"]) == ("Sample.app", "web")
    assert case.find("failure") is None
    assert case.findtext("system-out") == "migrated 3 tables\n"
    assert 0 < float(case.attrib["time"]) < 30


def test_a_failure_with_a_hint_carries_the_headline_and_the_fix(sandbox: Sandbox, run: Run, tmp_path: Path) -> None:
    oom = "OutOfMemoryError: Container killed due to memory usage"
    register(sandbox, web=ContainerScript(exit_code=137, reason=oom, lines=[(0.0, "loading 2 GB")]))
    ran = go(run, "--junit-file", str(tmp_path / "r.xml"), "--dotenv", str(tmp_path / "out.env"))
    assert ran.code == 137
    [case] = cases(check((tmp_path / "r.xml").read_text()))
    failure = case.find("failure")
    assert failure is not None
    assert failure.attrib["type"] == "failed"
    assert failure.attrib["message"] == "container web ran out of memory (exit 137)"
    assert "\nLikely cause: Container web used more than its own memory limit (128 MiB)" in (failure.text or "")
    assert "\nFix: " in (failure.text or "")
    assert "\nLog: https://" in (failure.text or "")
    assert case.findtext("system-out") == "loading 2 GB\n"


def test_a_task_that_never_ran_is_a_failed_to_start_failure(sandbox: Sandbox, run: Run, tmp_path: Path) -> None:
    pull = "CannotPullContainerError: failed to resolve ref acme/app:v9: not found"
    register(sandbox, life=[Step("PROVISIONING", 0.05), Step("PENDING", 0.2), Step("DEPROVISIONING", 0.05)],
             stop_code="TaskFailedToStart", scripts={"web": ContainerScript(exit_code=None, reason=pull)})  # fmt: skip
    ran = go(run, "--junit-file", str(tmp_path / "r.xml"))
    assert ran.code == 125
    [case] = cases(check((tmp_path / "r.xml").read_text()))
    failure = case.find("failure")
    assert failure is not None
    assert failure.attrib["type"] == "failed-to-start"
    assert "Likely cause: " in (failure.text or "")


def test_a_run_refused_before_any_task_is_one_test_case(sandbox: Sandbox, run: Run, tmp_path: Path) -> None:
    ran = run("--cluster", "Nowhere", "-t", "app", "--junit-file", str(tmp_path / "r.xml"))
    assert ran.code == 125
    [case] = cases(check((tmp_path / "r.xml").read_text()))
    assert (case.attrib["classname"], case.attrib["name"]) == ("Nowhere.app", "task")
    failure = case.find("failure")
    assert failure is not None
    assert failure.attrib["type"] == "failed-to-start"


def test_bad_input_is_reported_too_when_the_report_path_is_good(sandbox: Sandbox, run: Run, tmp_path: Path) -> None:
    ran = go(run, "--timeout", "soon", "--junit-file", str(tmp_path / "r.xml"))
    assert ran.code == 125
    [case] = cases(check((tmp_path / "r.xml").read_text()))
    failure = case.find("failure")
    assert failure is not None
    assert failure.attrib["type"] == "invalid-input"
    assert "timeout" in failure.attrib["message"]
    assert sandbox.calls("RunTask") == []


def test_several_tasks_are_one_test_case_each(sandbox: Sandbox, run: Run, tmp_path: Path) -> None:
    register(sandbox)
    life = [Step("PROVISIONING", 0.05), Step("RUNNING", 0.3)]
    sandbox.behave("app", [Scripted(steps=life, containers={"web": ContainerScript(exit_code=code)})
                           for code in (0, 4, 0)])  # fmt: skip
    ran = go(run, "--count", "3", "--junit-file", str(tmp_path / "r.xml"))
    assert ran.code == 4
    found = cases(check((tmp_path / "r.xml").read_text()))
    ids = [task.arn.rsplit("/", 1)[-1] for task in sandbox.tasks()]
    assert [c.attrib["name"] for c in found] == ["web (task 1 of 3)", "web (task 2 of 3)", "web (task 3 of 3)"]
    outs = [c.find("system-out") for c in found]  # named by place, the same from run to run; the ID in the output
    assert sorted(o.text.splitlines()[0] for o in outs if o is not None and o.text) == sorted(f"task {i}" for i in ids)
    assert [c.find("failure") is not None for c in found].count(True) == 1
    [failed] = [c for c in found if c.find("failure") is not None]
    failure = failed.find("failure")
    assert failure is not None
    assert "code 4" in failure.attrib["message"]


def test_a_dry_run_leaves_the_report_as_it_is(sandbox: Sandbox, run: Run, tmp_path: Path) -> None:
    register(sandbox)
    (tmp_path / "r.xml").write_text("earlier")
    assert go(run, "--dry-run", "--junit-file", str(tmp_path / "r.xml")).code == 0
    assert (tmp_path / "r.xml").read_text() == "earlier"


def test_a_report_path_that_cannot_be_written_is_bad_input(sandbox: Sandbox, run: Run, tmp_path: Path) -> None:
    register(sandbox)
    (tmp_path / "file").write_text("")
    ran = go(run, "--junit-file", str(tmp_path / "file" / "r.xml"))
    assert ran.code == 125
    assert f"junit-file: {tmp_path / 'file' / 'r.xml'} cannot be written" in ran.out
    assert sandbox.calls("RunTask") == []


def test_failing_to_write_the_report_at_the_end_changes_neither_exit_code_nor_status(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    register(sandbox, life=[Step("PROVISIONING", 0.05), Step("RUNNING", HOLD)], web=ContainerScript(exit_code=3))
    proc = launch(sandbox, "--junit-file", str(tmp_path / "reports" / "r.xml"), "--dotenv", str(tmp_path / "o.env"))
    arn = sandbox.wait_for_any_task()
    sandbox.wait_for_status(arn, "RUNNING")
    (tmp_path / "reports").write_text("a file where the report's folder was to be made")  # after the check at start
    sandbox.advance(arn)  # the container exits 3
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 3, out
    assert out.count("junit-file: the report could not be written") == 1
    assert "STATUS=failed" in (tmp_path / "o.env").read_text()


def test_the_report_is_written_after_the_result_and_times_the_run(tmp_path: Path) -> None:
    clock = iter([100.0, 107.5])
    path = tmp_path / "r.xml"
    junit = JUnit(pick("plain", {}, io.StringIO()), str(path), io.StringIO(), clock=lambda: next(clock))
    junit.result(Outcome.without_task(Status.CANCELLED, 130, "cancelled by SIGINT before a task was started"),
                 outputs.no_task(Status.CANCELLED))  # fmt: skip
    root = check(path.read_text())
    assert root.attrib["time"] == "7.500"
    [suite] = root
    assert suite.attrib["timestamp"] == time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(100))


def test_the_action_writes_the_report_from_its_input(sandbox: Sandbox, run: Run, tmp_path: Path) -> None:
    register(sandbox, web=ContainerScript(exit_code=3, lines=[(0.0, "boom")]))
    ran = run(env={"INPUT_CLUSTER": "Sample", "INPUT_TASK-DEFINITION": "app", "INPUT_POLL-INTERVAL": "200ms",
                   "INPUT_JUNIT-FILE": str(tmp_path / "r.xml")})  # fmt: skip
    assert ran.code == 3
    [case] = cases(check((tmp_path / "r.xml").read_text()))
    failure = case.find("failure")
    assert failure is not None
    assert failure.attrib["type"] == "failed"


def test_a_task_started_without_waiting_is_a_skipped_test_case(sandbox: Sandbox, run: Run, tmp_path: Path) -> None:
    register(sandbox, life=[Step("PROVISIONING", 0.05), Step("RUNNING", HOLD)])
    ran = go(run, "--wait", "false", "--junit-file", str(tmp_path / "r.xml"))
    assert ran.code == 0
    [case] = cases(check((tmp_path / "r.xml").read_text()))
    assert [child.tag for child in case] == ["skipped"]


def test_with_several_tasks_each_output_opens_with_its_task_id_however_many_lines_it_holds() -> None:
    """The last LAST_LINES lines, then the ID before them: never cut off by a long log."""
    base = "arn:aws:ecs:us-east-1:123456789012:task/Sample/"
    tasks = [{"taskArn": f"{base}{n}", "lastStatus": "STOPPED",
              "containers": [{"name": "web", "lastStatus": "STOPPED", "exitCode": 0}]} for n in ("a1", "b2")]  # fmt: skip
    lines = {(str(t["taskArn"]), "web"): [f"line {i}" for i in range(junit.LAST_LINES + 10)] for t in tasks}
    outcome = Outcome(Status.SUCCEEDED, 0, 0, tasks[0], "web", "all 2 tasks exited with code 0")
    found = junit.cases(outcome, {}, Context("Sample", "us-east-1", tasks, [], ["web"]), spec=None, lines=lines,
                        tasks=tasks, seconds=1.0, now=0.0)  # fmt: skip
    for case, task in zip(found, tasks, strict=True):
        assert case.lines[0] == f"task {arns.task_id(str(task['taskArn']))}"
        assert list(case.lines[1:]) == [f"line {i}" for i in range(10, junit.LAST_LINES + 10)]
