"""The GitHub job summary: what ran, how long each phase took, how it ended, its likely cause and fix. Pure
Markdown. Text from AWS is data: escaped, never rendered as markup.

Bounded well under the runner's 1 MiB per step: log lines are clipped and at most `TAIL` of them shown."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from ecs_run_task import arns
from ecs_run_task.arns import task_id
from ecs_run_task.aws import console
from ecs_run_task.engine.renderer import Context
from ecs_run_task.printable import WORD_JOINER, encodable
from ecs_run_task.verdict import headlines
from ecs_run_task.verdict.outcome import Outcome

TAIL = 30  # log lines shown on failure
LINE_CHARS = 500
LIMIT = 64 * 1024


# Text from AWS (a stopped reason anyone with ecs:StopTask writes, a container's reason) is data: HTML and
# Markdown in it are shown, never rendered. Backslash escapes work for every ASCII punctuation mark.
_MARKUP = re.compile(r"([\\`*_\[\]<>&|~!])")
_BLOCK_START = re.compile(r"^(\d*)([#+=>.)-])")


# GitHub's Markdown also makes links of bare URLs and addresses (`https://...`, `www....`, `a@b.example`): an
# invisible word joiner inside each breaks the link and leaves the text as it reads. Links to the AWS console,
# which our own lines give (a log's full page, a cluster's tasks), stay links.
_CONSOLE = r"[a-z0-9-]+\.console\.(?:aws\.amazon\.com|amazonaws\.cn|amazonaws-us-gov\.com)/"
_AUTOLINK = re.compile(
    rf"(?<=https:)(?=//)(?!//{_CONSOLE})|(?<=:)(?=//)(?<!https:)|(?<=www)(?=\.)|(?=@)", re.IGNORECASE
)


def _text(text: str) -> str:
    """One line of plain text as Markdown that renders exactly that text."""
    escaped = _MARKUP.sub(r"\\\1", encodable(" ".join(str(text).split())))
    escaped = _AUTOLINK.sub(WORD_JOINER, escaped)
    return _BLOCK_START.sub(r"\1\\\2", escaped)  # a heading, list or quote at the start of a line


def _cell(text: str) -> str:
    return _text(text) or "—"


def _seconds(task: dict[str, Any], start: str, end: str) -> str:
    a, b = task.get(start), task.get(end)
    if not isinstance(a, datetime) or not isinstance(b, datetime):
        return "—"
    seconds = max((b - a).total_seconds(), 0.0)
    return f"{seconds:.1f}s" if seconds < 60 else f"{int(seconds // 60)}m{int(seconds % 60):02d}s"


def _row(task: dict[str, Any], context: Context, *, reason: bool = True) -> str:
    arn = str(task.get("taskArn", ""))
    codes = ", ".join(f"{c.get('name')} {c['exitCode'] if c.get('exitCode') is not None else '—'}"
                      for c in task.get("containers", []))  # fmt: skip
    url = console.task_url(context.region, context.cluster, arn)
    cells = [
        f"[{_text(task_id(arn))}]({url})" if url else _cell(task_id(arn)),
        _cell(arns.revision(str(task.get("taskDefinitionArn", "")))),
        _cell(task.get("launchType", "") or "capacity provider"),
        _cell(task.get("lastStatus", "")),
        _cell(codes),
        _cell(task.get("stopCode", "")),
        *([_cell(task.get("stoppedReason", ""))] if reason else []),
        _seconds(task, "createdAt", "pullStartedAt"),
        _seconds(task, "pullStartedAt", "pullStoppedAt"),
        _seconds(task, "startedAt", "executionStoppedAt"),
    ]
    return "| " + " | ".join(cells) + " |"


def _fence(lines: Sequence[str]) -> str:
    """A code fence longer than any run of backticks in the lines, so none can close it early."""
    longest = max((len(run) for line in lines for run in re.findall(r"`+", line)), default=0)
    return "`" * max(3, longest + 1)


def title(outcome: Outcome) -> str:
    """The headline as a title: the failure annotation's and the summary's heading."""
    said = outcome.headline
    return said if said.startswith("ecs-run-task") else said[:1].upper() + said[1:]


def _ours(text: str) -> str:
    """Our own text (a likely cause, a fix) as Markdown: its `code` spans render as code, the rest is escaped as
    plain text. Names in it that AWS gave have no backtick (see `failures._first`), so the spans are ours."""
    parts = text.split("`")
    if len(parts) % 2 == 0:  # an odd number of backticks: no span is certain, all is text
        return _text(text)

    def plain(part: str) -> str:  # the spaces around it kept: they part it from the spans
        return (" " if part[:1].isspace() else "") + _text(part) + (" " if part[-1:].isspace() and part.strip() else "")

    return "".join(f"`{part}`" if i % 2 else plain(part) for i, part in enumerate(parts))


def markdown(outcome: Outcome, outputs: dict[str, str], context: Context | None, tail: Sequence[str]) -> str:
    heading = f"### {'✅' if outcome.ok else '❌'} {_text(title(outcome))}"
    if outputs.get("exit-code") and "exit" not in heading:
        heading += f" (exit code {outputs['exit-code']})"
    parts = [heading, ""]
    first, *rest = headlines.details(outcome) or [""]
    parts += [_text(first), ""] if first else []
    if rest:  # a list of problems (bad input) stays a list
        parts += [f"- {_text(line.strip().removeprefix('- '))}" for line in rest if line.strip()] + [""]
    if outcome.hint:
        parts += [f"**Likely cause:** {_ours(outcome.hint.cause)} **Fix:** {_ours(outcome.hint.fix)}", ""]
    parts += [f"**Warning:** {_text(warning)}" for warning in outcome.warnings] + ([""] if outcome.warnings else [])
    if context and context.tasks:
        several = len(context.tasks) > 1  # one task: its stopped reason is said above, with the outcome
        parts += ["| task | revision | launch type | status | exit codes | stop code |" + (" reason |" if several else "")
                  + " provisioning | pulling | running |", "|" + "---|" * (10 if several else 9)]  # fmt: skip
        parts += [_row(task, context, reason=several) for task in context.tasks if task.get("taskArn")]
        parts.append("")
    if context and context.attempts:
        parts += [
            "Start attempts that failed:",
            "",
            *(f"{i}. {_text(a)}" for i, a in enumerate(context.attempts, 1)),
            "",
        ]
    if outputs.get("log-url"):  # built by `console`, from a checked region and encoded names
        parts += [f"Logs: [CloudWatch]({outputs['log-url']})", ""]
    if not outcome.ok and tail:
        clipped = [encodable(line[:LINE_CHARS]) for line in tail[-TAIL:]]  # shown as code: no markup renders
        fence = _fence(clipped)
        parts += [f"<details open><summary>Last {len(clipped)} log lines</summary>", "", fence + "text",
                  *clipped, fence, "", "</details>", ""]  # fmt: skip
    text = "\n".join(parts)
    return text if len(text) <= LIMIT else text[: LIMIT - 20] + "\n\n(cut)\n"
