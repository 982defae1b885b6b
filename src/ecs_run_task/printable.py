"""Text from elsewhere (a container's log, AWS, the user), made safe to print. Pure.

Safe means: every writer can encode it (a lone surrogate becomes `\\udc80`), every line stands alone (the
runner splits on CR as well as LF, and terminals and log viewers on NEL, U+2028 and other separators), no
control sequence can rewrite what was printed before (a GitLab section marker, a cursor move; colours are
kept), and no line acts as a GitHub workflow command: the runner treats a line whose left-trimmed text
starts with `::` as a command, and matches the legacy `##[name]` form anywhere in a line."""

from __future__ import annotations

import re

WORD_JOINER = "\u2060"  # invisible; breaks `##[` and a leading `::` without changing what a reader sees
ANNOTATION_CHARS = 4096  # the runner cuts an annotation there

_COLOUR = re.compile(r"\x1b\[[0-9;:]*m")  # SGR: colours and styles, which rewrite nothing
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # every control character but tab


def encodable(text: str) -> str:
    """`text` with lone surrogates (from JSON such as `"\\ud800"`) escaped, so UTF-8 writers never raise."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group())
    return chr(0x2400 + code) if code < 0x20 else "\u2421" if code == 0x7F else "\ufffd"


def neutral(piece: str) -> str:
    """One line with its control characters shown as symbols (ESC as ␛), colour sequences kept."""
    if piece.isprintable():  # the common case, checked in C
        return piece
    piece = encodable(piece)
    colours = _COLOUR.findall(piece)
    rest = [_CONTROL.sub(_visible, part) for part in _COLOUR.split(piece)]
    return "".join(part + (colours[i] if i < len(colours) else "") for i, part in enumerate(rest))


def lines(text: str) -> list[str]:
    """`text` split wherever the runner, a terminal or a log viewer may break a line, each piece neutral."""
    if text.isprintable():
        return [text]
    return [neutral(piece) for piece in text.splitlines()] or [""]


def unmarked(text: str) -> str:
    """`text` without the legacy `##[name]` form, which the runner acts on and its log viewer draws (a group, a
    red error line) even inside a stop-commands block."""
    return text.replace("##[", f"#{WORD_JOINER}#[")


def inert(line: str) -> str:
    """One line that the runner prints but never acts on (split it with `lines()` first)."""
    line = unmarked(line)
    if line.lstrip().startswith("::"):
        return WORD_JOINER + line
    return line


def safe_lines(text: str) -> list[str]:
    """`text` as lines that are neutral and inert: what every printed line of text from elsewhere becomes."""
    return [inert(piece) for piece in lines(text)]


def annotation_text(text: str) -> str:
    """An annotation's message: no legacy command inside, within the runner's length. (CR and LF are
    escaped by the command itself.)"""
    return unmarked(encodable(text))[:ANNOTATION_CHARS]
