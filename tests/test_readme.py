"""The README and the docs are true to the code: their YAML parses, the action's inputs and outputs they use exist
(action.yml), the CLI flags exist (`inputs.parser()`), the component's inputs exist (templates/run-task.yml), the
reference's tables list exactly action.yml's inputs and outputs, the IAM policy holds every action the docs name,
every relative link finds its file and heading, and the README stays a page for a user's first minute: under 20 KB,
each example under 10 lines, the Action step and the GitLab job first."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ecs_run_task import exit_codes
from ecs_run_task.inputs import table as inputs
from ecs_run_task.status import Status
from tests.helpers import ROOT, missing

README = (ROOT / "README.md").read_text(encoding="utf-8")
# Every page of the docs, and the ones written by hand or from the tables (the pages checked against the code):
# failures.md is the failure catalogue's (tests/test_failures.py), the others figures, each with its own command.
ALL_PAGES = {
    str(p.relative_to(ROOT)): p.read_text(encoding="utf-8")
    for p in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
}
OWN_TESTS = {"docs/failures.md", "docs/benchmarks.md", "docs/reliability.md", "docs/mutation.md"}
PAGES = {name: text for name, text in ALL_PAGES.items() if name not in OWN_TESTS}
REFERENCE = ALL_PAGES["docs/reference.md"]
DEVELOPMENT = ALL_PAGES["docs/development.md"]
README_LIMIT = 20 * 1024  # bytes: a page for a user's first minute
SNIPPET_LINES = 10  # each README example stays under this many lines
ACTION = yaml.safe_load((ROOT / "action.yml").read_text())
ACTION_INPUTS = list(ACTION["inputs"])
ACTION_OUTPUTS = list(ACTION["outputs"])
COMPONENT_INPUTS = list(next(yaml.safe_load_all((ROOT / "templates" / "run-task.yml").read_text()))["spec"]["inputs"])
CLI_FLAGS = {s for action in inputs.parser()._actions for s in action.option_strings}
OUR_ACTION = re.compile(r"(?P<owner>[^/\s]+)/ecs-run-task@(?P<ref>\S+)")
SHELL_OPERATORS = {"|", "||", "&&", ";", "&", ">", ">>", "<"}


@dataclass(frozen=True)
class Block:
    lang: str
    text: str
    page: str  # README.md or docs/<name>.md
    line: int  # where it starts in its page, for failure messages
    section: str  # the `## ` heading it is under

    def __str__(self) -> str:
        return f"the ```{self.lang} block at {self.page} line {self.line} ({self.section})"


def page_blocks(page: str, text: str) -> list[Block]:
    found: list[Block] = []
    body: list[str] = []
    lang: str | None = None
    start, section = 0, ""
    for number, line in enumerate(text.splitlines(), start=1):
        if lang is None and line.startswith("## "):
            section = line[3:]
        if lang is None and line.startswith("```"):
            lang, start, body = line[3:].strip(), number, []
        elif lang is not None and line == "```":
            found.append(Block(lang, "\n".join(body), page, start, section))
            lang = None
        elif lang is not None:
            body.append(line)
    assert lang is None, f"{page}: the ``` block opened at line {start} is never closed"
    return found


def blocks() -> list[Block]:
    return [block for page, text in PAGES.items() for block in page_blocks(page, text)]


def prose(text: str) -> str:
    """A page without its fenced blocks: what is not an example."""
    return re.sub(r"^```.*?^```$", "", text, flags=re.M | re.S)


class GitLabLoader(yaml.SafeLoader):
    """GitLab's YAML: `!reference [job, key]` tags are lists here."""


GitLabLoader.add_constructor("!reference", lambda loader, node: loader.construct_sequence(node))  # type: ignore[arg-type]


def parse(block: Block) -> Any:
    try:
        return yaml.load(block.text, Loader=GitLabLoader)  # noqa: S506 - a SafeLoader
    except yaml.YAMLError as e:
        raise AssertionError(f"{block} is not valid YAML: {e}") from None


def yaml_blocks() -> list[tuple[Block, Any]]:
    return [(b, parse(b)) for b in blocks() if b.lang == "yaml"]


def walk(value: Any) -> Iterator[Any]:
    yield value
    children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
    for child in children:
        yield from walk(child)


def our_steps(doc: Any) -> list[dict[str, Any]]:
    return [v for v in walk(doc) if isinstance(v, dict) and OUR_ACTION.fullmatch(str(v.get("uses", "")))]


def cli_flags(text: str) -> list[str]:
    """The flags given to `ecs-run-task` in shell text: up to `--`, a shell operator or the line's end."""
    flags = []
    for line in text.replace("\\\n", " ").splitlines():
        lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
        lexer.whitespace_split, lexer.commenters = True, "#"
        words = list(lexer)
        for at, word in enumerate(words):
            if word != "ecs-run-task" and not word.endswith("/ecs-run-task"):
                continue
            for arg in words[at + 1 :]:
                if arg == "--" or arg in SHELL_OPERATORS:
                    break
                if arg.startswith("-") and arg != "-":
                    flags.append(arg.split("=", 1)[0])
    return flags


def table(first_header: str, text: str = REFERENCE, page: str = "docs/reference.md") -> list[list[str]]:
    """The rows (cells, header first) of the table in `text` whose first header cell is `first_header`."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if line.startswith(f"| {first_header} |"):
            rows = []
            for row in lines[i:]:
                if not row.startswith("|"):
                    break
                rows.append([c.strip() for c in re.split(r"(?<!\\)\|", row.strip())[1:-1]])
            return [rows[0], *rows[2:]]
    raise AssertionError(f"{page} has no table whose first column is {first_header!r}")


def code_words(cell: str) -> list[str]:
    return re.findall(r"`([^`]+)`", cell)


def test_every_yaml_block_parses() -> None:
    docs = yaml_blocks()
    assert len(docs) >= 5, "expected the GitHub and GitLab examples as ```yaml blocks"
    for block, doc in docs:
        assert isinstance(doc, dict), f"{block} is not a YAML mapping"


def test_github_steps_give_only_inputs_of_action_yml() -> None:
    steps = [(block, step) for block, doc in yaml_blocks() for step in our_steps(doc)]
    assert steps, "no ```yaml block has a step that uses <owner>/ecs-run-task"
    for block, step in steps:
        uses = OUR_ACTION.fullmatch(step["uses"])
        assert uses is not None
        assert uses["owner"] == "<owner>", f"{block}: write the action as <owner>/ecs-run-task, as Install says"
        assert re.fullmatch(r"v\d+(\.\d+){0,2}", uses["ref"]), f"{block}: {step['uses']} is not a release tag"
        unknown = set(step.get("with") or {}) - set(ACTION_INPUTS)
        assert not unknown, f"{block}: {sorted(unknown)} are not inputs of action.yml"


def test_step_outputs_referred_to_are_outputs_of_action_yml_and_steps_of_the_snippet() -> None:
    ours = {str(step["id"]) for _, doc in yaml_blocks() for step in our_steps(doc) if "id" in step}
    assert ours, "no ecs-run-task step in the docs has an id: later steps cannot read its outputs"
    for block, doc in yaml_blocks():
        ids = {str(v["id"]) for v in walk(doc) if isinstance(v, dict) and "id" in v and ("uses" in v or "run" in v)}
        for step_id, name in re.findall(r"steps\.([\w-]+)\.outputs\.([\w-]+)", block.text):
            assert step_id in ids, f"{block}: steps.{step_id} is not a step of this snippet"
            if step_id in ours:
                assert name in ACTION_OUTPUTS, f"{block}: steps.{step_id}.outputs.{name} is not an output of action.yml"
    for page, text in PAGES.items():
        for step_id, name in re.findall(r"steps\.([\w-]+)\.outputs\.([\w-]+)", text):
            if step_id in ours:
                assert name in ACTION_OUTPUTS, f"{page}: steps.{step_id}.outputs.{name} is not an output of action.yml"


def test_the_github_pipeline_deploys_the_revision_the_migration_ran() -> None:
    for block, doc in yaml_blocks():
        if not isinstance(doc, dict) or "jobs" not in doc:
            continue
        migrate = [s for s in our_steps(doc) if "id" in s and "image" in (s.get("with") or {})]
        if not migrate:
            continue
        assert (doc.get("permissions") or {}).get("id-token") == "write", f"{block}: OIDC needs id-token: write"
        assert f"steps.{migrate[0]['id']}.outputs.task-definition-arn" in block.text, (
            f"{block}: no later step deploys steps.{migrate[0]['id']}.outputs.task-definition-arn"
        )
        assert "timeout" in migrate[0]["with"], f"{block}: the migration step sets no timeout"
        return
    raise AssertionError("no ```yaml workflow with jobs: runs ecs-run-task with an image and an id")


def test_github_workflows_pass_actionlint(tmp_path: Path) -> None:
    """actionlint knows the popular actions' inputs, outputs and runtimes, and runs shellcheck on `run:` scripts."""
    path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    actionlint = shutil.which("actionlint", path=path)
    if actionlint is None:
        missing("actionlint is not installed (.ci/venv installs it)")
    workflows = [b for b, doc in yaml_blocks() if "jobs" in doc]
    assert workflows, "no ```yaml block is a whole workflow"
    (tmp_path / ".github" / "workflows").mkdir(parents=True)
    for block in workflows:
        name = f"{Path(block.page).stem}-{block.line}.yml"
        (tmp_path / ".github" / "workflows" / name).write_text(block.text + "\n")
        linted = subprocess.run([str(actionlint), "-no-color", f".github/workflows/{name}"],
                                cwd=tmp_path, env={**os.environ, "PATH": path}, capture_output=True, text=True,
                                check=False, timeout=60)  # fmt: skip
        assert linted.returncode == 0, f"{block}: actionlint says\n{linted.stdout}{linted.stderr}"


def test_cli_flags_in_gitlab_jobs_and_shell_blocks_exist() -> None:
    checked = 0
    for block in blocks():
        if block.lang == "yaml":
            texts = [v for v in walk(parse(block)) if isinstance(v, str)]
        elif block.lang in ("sh", "bash", "shell", "console"):
            texts = [block.text]
        else:
            continue
        for text in texts:
            for flag in cli_flags(text):
                checked += 1
                assert flag in CLI_FLAGS, f"{block}: ecs-run-task {flag} is not a flag (see ecs-run-task --help)"
    assert checked >= 20, f"only {checked} ecs-run-task flags found in the examples: is the parsing broken?"


def test_flags_and_commands_in_prose_exist() -> None:
    for page, text in PAGES.items():
        for span in re.findall(r"`([^`\n]+)`", text):
            if span.startswith("ecs-run-task "):
                for flag in cli_flags(span):
                    assert flag in CLI_FLAGS, f"{page}: `{span}` gives {flag}, which is not a flag"
            elif re.match(r"--[a-z][a-z-]*", span) and not span.startswith("-- "):
                flag = re.match(r"--[a-z][a-z-]*", span)[0]  # type: ignore[index]
                assert flag in CLI_FLAGS, f"{page}: `{span}` names {flag}, which is not a flag"


def test_component_includes_give_only_component_inputs() -> None:
    includes = [
        v for _, doc in yaml_blocks() for v in walk(doc)
        if isinstance(v, dict) and "/ecs-run-task/run-task@" in str(v.get("component", ""))
    ]  # fmt: skip
    assert includes, "no ```yaml block includes the run-task component"
    for include in includes:
        unknown = set(include.get("inputs") or {}) - set(COMPONENT_INPUTS)
        assert not unknown, f"component include: {sorted(unknown)} are not inputs of templates/run-task.yml"


def test_ecs_run_task_variables_are_flags_defaults() -> None:
    known = {inputs.variable(name) for name in (*inputs.NAMES, "format", "dotenv")}
    named = {v for text in PAGES.values() for v in re.findall(r"\bECS_RUN_TASK_[A-Z][A-Z_]*", text)}
    assert named, "the docs name no ECS_RUN_TASK_* variable"
    assert named <= known, f"{sorted(named - known)} are read by no flag"


def test_later_gitlab_jobs_read_only_dotenv_outputs() -> None:
    dotenv = {name.upper().replace("-", "_") for name in ACTION_OUTPUTS}
    for block, doc in yaml_blocks():
        jobs = {k: v for k, v in doc.items() if isinstance(v, dict)}
        reporting = {k for k, v in jobs.items() if (v.get("artifacts") or {}).get("reports", {}).get("dotenv")}
        for name, job in jobs.items():
            needs = {n["job"] if isinstance(n, dict) else n for n in job.get("needs") or []}
            if not needs & reporting:
                continue
            own = set(job.get("variables") or {})
            for script in job.get("script") or []:
                for var in re.findall(r"\$\{?([A-Z][A-Z0-9_]*)", script):
                    if var not in own and not var.startswith(("CI_", "AWS_")):
                        assert var in dotenv, f"{block}: job {name} reads ${var}, which is no output's dotenv name"


def test_the_inputs_table_lists_action_ymls_inputs_in_order_with_a_required_column() -> None:
    header, *rows = table("input")
    assert header[:2] == ["input", "required"], f"the inputs table's columns are {header}"
    names = [code_words(row[0])[0] if code_words(row[0]) else row[0] for row in rows]
    assert names == ACTION_INPUTS, "the inputs table must list exactly action.yml's inputs, in its order"
    required = dict(zip(names, (row[1] for row in rows), strict=True))
    for alternative in ("`service`", "`attach`"):
        assert alternative in required["task-definition"], (
            f"task-definition is required unless service or attach is given; the table says {required['task-definition']!r}"
        )
    others = {n: r for n, r in required.items() if n != "task-definition" and r != "no"}
    assert not others, f"only task-definition is ever required; the table says {others}"


def test_the_outputs_table_lists_action_ymls_outputs_and_every_status() -> None:
    header, *rows = table("output")
    assert [code_words(row[0])[0] for row in rows] == ACTION_OUTPUTS, "the outputs table must list action.yml's outputs"
    [status] = [row for row in rows if row[0] == "`status`"]
    meaning = status[header.index("meaning")]
    named = {s.value for s in Status if re.search(rf"(?<![\w-]){re.escape(s.value)}(?![\w-])", meaning)}
    assert named == {s.value for s in Status}, f"the status output's row misses {sorted({*Status} - named)}"


def test_the_exit_status_table_has_every_status_and_exit_code() -> None:
    header, *rows = table("exit")
    assert header == ["exit", "when", "`status`"], f"the exit status table's columns are {header}"
    shown = {word for row in rows for word in code_words(row[2])}
    assert shown == {s.value for s in Status}, f"statuses in the exit table: {sorted(shown)}"
    codes = " ".join(row[0] for row in rows)
    ours = (exit_codes.SUCCESS, exit_codes.TIMED_OUT, exit_codes.CANNOT_RUN, exit_codes.SIGINT, exit_codes.SIGTERM)
    for code in ours:
        assert str(code) in codes, f"exit {code} is not in the exit status table"


def test_the_readmes_short_exit_table_has_every_status_and_exit_code_and_links_the_whole_table() -> None:
    header, *rows = table("exit", README, "README.md")
    assert header == ["exit", "`status`", "when"], f"the README's exit status table's columns are {header}"
    shown = {word for row in rows for word in code_words(row[1])}
    assert shown == {s.value for s in Status}, f"statuses in the README's exit table: {sorted(shown)}"
    codes = " ".join(row[0] for row in rows)
    for code in (
        exit_codes.SUCCESS,
        exit_codes.TIMED_OUT,
        exit_codes.CANNOT_RUN,
        exit_codes.SIGINT,
        exit_codes.SIGTERM,
    ):
        assert str(code) in codes, f"exit {code} is not in the README's exit status table"
    exit_status = README.split("\n## Exit status\n", 1)[1].split("\n## ", 1)[0]
    assert "(docs/reference.md" in exit_status, "the README's exit status does not link the whole table"


def iam_page() -> tuple[str, dict[str, Any]]:
    [(page, policy)] = [(b.page, json.loads(b.text)) for b in blocks() if b.lang == "json" and '"Statement"' in b.text]
    return page, dict(policy)


def test_the_iam_policy_holds_every_action_the_docs_name_and_every_call_we_make() -> None:
    statements = iam_page()[1]["Statement"]
    granted = {a for s in statements for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}
    condition_keys = {key for s in statements for test in (s.get("Condition") or {}).values() for key in test}
    for page, text in PAGES.items():
        named = set(re.findall(r"\b(?:ecs|logs|iam|ec2|ecr):[A-Z][A-Za-z]+", text)) - condition_keys
        assert named - granted == set(), f"{page} names {sorted(named - granted)} but the IAM policy lacks them"
    called = {f"{s}:{op}" for s, op in re.findall(r'explained\("(ecs|logs|ec2|ecr|iam)", "([A-Z]\w+)"',
                                                   (ROOT / "src/ecs_run_task/aws/clients.py").read_text())}  # fmt: skip
    assert called, "no AWS call found in src/ecs_run_task/aws/clients.py"
    assert called - granted == set(), f"ecs-run-task calls {sorted(called - granted)}: add them to the IAM policy"
    assert {"ecs:TagResource", "iam:PassRole"} <= granted, "the IAM policy lacks ecs:TagResource or iam:PassRole"


def test_the_iam_policy_has_placeholders_not_an_account() -> None:
    page, policy = iam_page()
    text = json.dumps(policy)
    assert not re.search(r"\b\d{12}\b", text), "the IAM policy holds a literal account ID: write <account-id>"
    for placeholder in ("<account-id>", "<region>", "<cluster>"):
        assert placeholder in text, f"the IAM policy has no {placeholder}"
        assert f"`{placeholder}`" in PAGES[page], f"{page} does not say what {placeholder} stands for"


def slug(heading: str) -> str:
    """GitHub's anchor for a heading."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors(text: str) -> set[str]:
    """The anchors GitHub gives a page's headings (not `#` lines of its examples): a repeated one gets -1, -2, ..."""
    seen: dict[str, int] = {}
    found = set()
    for heading in re.findall(r"^#{1,6} (.+)$", prose(text), re.M):
        base = slug(heading)
        found.add(f"{base}-{seen[base]}" if base in seen else base)
        seen[base] = seen.get(base, 0) + 1
    return found


def relative_links(text: str) -> list[str]:
    """The targets of a page's Markdown links that are not web addresses, outside its examples."""
    return [t for t in re.findall(r"\]\(([^)\s]+)\)", prose(text)) if not re.match(r"[a-z]+:", t)]


def test_every_relative_link_finds_its_file_and_heading() -> None:
    checked = 0
    for page, text in ALL_PAGES.items():
        here = (ROOT / page).parent
        for link in relative_links(text):
            path, _, anchor = link.partition("#")
            target = (here / path).resolve() if path else ROOT / page
            assert target.is_file(), f"{page} links {link}: there is no {target.relative_to(ROOT)}"
            if anchor:
                known = anchors(target.read_text(encoding="utf-8")) if target.suffix == ".md" else set()
                assert anchor in known, f"{page} links {link}, which is no heading of {target.relative_to(ROOT)}"
            checked += 1
    assert checked >= 30, f"only {checked} relative links found: is the parsing broken?"


def test_the_readme_maps_every_page_of_the_docs() -> None:
    linked = {link.partition("#")[0] for link in relative_links(README)}
    for page in ALL_PAGES:
        if page != "README.md":
            assert page in linked, f"the README's map of the docs does not link {page}"


def test_the_readme_is_a_page_for_a_users_first_minute() -> None:
    size = len(README.encode())
    assert size < README_LIMIT, f"README.md is {size} bytes: move what a first minute does not need into docs/"
    for block in page_blocks("README.md", README):
        lines = len(block.text.splitlines())
        assert lines < SNIPPET_LINES, f"{block} has {lines} lines: keep the README's examples under {SNIPPET_LINES}"


def test_the_readme_opens_with_an_action_step_a_gitlab_job_and_the_playground() -> None:
    first, second = page_blocks("README.md", README)[:2]
    assert our_steps(parse(first)), f"{first}: the README's first example is not a step that uses the action"
    jobs = [job for job in parse(second).values() if isinstance(job, dict) and "script" in job]
    assert jobs, f"{second}: the README's second example is not a GitLab job"
    assert any("ecs-run-task " in line for job in jobs for line in job["script"]), f"{second} runs no ecs-run-task"
    sections = re.findall(r"^## (.+)$", prose(README), re.M)
    assert [first.section, second.section] == sections[:2], "the README opens with the two examples"
    assert sections[2] == "Try it without AWS", f"the third section is {sections[2]!r}, not the playground"
    [playground] = [b for b in page_blocks("README.md", README) if b.section == "Try it without AWS"]
    assert playground.text.splitlines()[:2] == [
        "pipx install 'ecs-run-task[playground]'",
        "ecs-run-task-playground oom",
    ]


def test_the_readme_says_what_ecs_guarantees_and_the_ci_lock_to_add() -> None:
    guarantees = README.split("\n## What it guarantees, and what ECS does not\n", 1)[1].split("\n## ", 1)[0]
    for promise in ("One migration at a time", "Every line, or a word", "A true verdict", "Read-only until it runs"):
        assert f"**{promise}.**" in guarantees, f"the README's guarantees do not say {promise!r}"
    for lock in ("`concurrency:`", "`resource_group:`", "`if-running: wait`"):
        assert lock in guarantees, f"the README's guarantees do not name {lock}"


def test_images_name_the_release_image_with_placeholders() -> None:
    for page, text in PAGES.items():
        for image in re.findall(r"\S+/ecs-run-task:[\w.]+", text):
            assert image.lstrip("`").removeprefix("oci://").startswith("<registry>/<owner>/ecs-run-task:"), (
                f"{page} names the image {image}; write it as the release pushes it: <registry>/<owner>/ecs-run-task:v1"
            )


def test_the_development_map_names_every_module() -> None:
    [file_map] = [b.text for b in page_blocks("docs/development.md", DEVELOPMENT) if "src/ecs_run_task/" in b.text]
    package = ROOT / "src" / "ecs_run_task"
    for module in sorted(package.glob("*.py")):
        if module.stem != "__init__":
            assert module.name in file_map, (
                f"docs/development.md's file map does not name src/ecs_run_task/{module.name}"
            )
    for layer in sorted(p for p in package.iterdir() if (p / "__init__.py").is_file()):
        assert f"  {layer.name}/" in file_map, f"docs/development.md's file map does not name the layer {layer.name}/"
        for module in sorted(layer.glob("*.py")):
            if module.stem != "__init__":
                assert re.search(rf"\b{module.stem}\b", file_map), (
                    f"the file map does not name {layer.name}/{module.name}"
                )


def test_the_readmes_development_section_is_the_two_quick_start_commands_and_a_link() -> None:
    development = README.split("\n## Development\n", 1)[1]
    [quick_start] = [b for b in page_blocks("README.md", README) if b.section == "Development" and b.lang == "sh"]
    commands = [line.split("#", 1)[0].strip() for line in quick_start.text.splitlines() if line.strip()]
    assert commands == [".ci/demo", ".ci/test"], f"the quick start for contributors is two commands, not {commands}"
    for command in commands:
        assert (ROOT / command).is_file(), f"the quick start runs {command}, which is not in the repository"
    assert "`.ci/run`" in development, "the Development section does not say that .ci/run is what CI runs"
    assert "(docs/development.md)" in development, "the Development section does not link docs/development.md"
