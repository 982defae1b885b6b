"""GitHub workflow-command safety: text the runner prints but never acts on.

The runner treats a line whose left-trimmed text starts with `::` as a command, and matches the legacy
`##[name]` form anywhere in a line."""

from __future__ import annotations

WORD_JOINER = "\u2060"  # invisible; breaks `##[` and a leading `::` without changing what a reader sees
ANNOTATION_CHARS = 4096  # the runner cuts an annotation there


def inert(text: str) -> str:
    """Text that the runner will print but never act on."""
    text = text.replace("##[", f"#{WORD_JOINER}#[")
    if text.lstrip().startswith("::"):
        return WORD_JOINER + text
    return text


def annotation_text(text: str) -> str:
    """An annotation's message: no legacy command inside, within the runner's length."""
    return text.replace("##[", f"#{WORD_JOINER}#[")[:ANNOTATION_CHARS]
