"""How a message names an input: in the words of the face the user wrote it in. On the command line an input is
its flag (`--timeout`); in the Action it is the input as the workflow names it (`timeout:`, "the timeout input").
The edge (`cli.main`) says once which face runs; every message that names an input asks here.

The failure catalogue (`verdict/failures.py`) is data written in the Action's words ("the `memory` input",
"`launch-type: FARGATE`"); `catalogue()` says its texts in the face's words."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass


@dataclass(frozen=True)
class _Face:
    cli: bool = False
    inputs: frozenset[str] = frozenset()  # the input table's names: what `catalogue` may turn into flags


_FACE = [_Face()]  # the Action's words until the edge says otherwise (tests of the pure modules use these)


@contextmanager
def speaking(*, cli: bool, inputs: Iterable[str] = ()) -> Iterator[None]:
    """Messages made within name inputs as the command line (`cli`) or the Action does; the face before, after.
    `inputs`: the input table's names (this module sits below the table)."""
    _FACE.append(_Face(cli, frozenset(inputs)))
    try:
        yield
    finally:
        _FACE.pop()


def cli() -> bool:
    return _FACE[-1].cli


def flag(name: str) -> str:
    """The input as the user wrote it, to begin a problem with: `--timeout` (CLI) or `timeout` (Action)."""
    return f"--{name}" if _FACE[-1].cli else name


def the(name: str) -> str:
    """The input in a sentence: `--timeout` (CLI) or `the timeout input` (Action)."""
    return f"--{name}" if _FACE[-1].cli else f"the {name} input"


def setting(name: str, value: str) -> str:
    """An input given a value: `--wait false` (CLI) or `wait: false` (Action)."""
    return f"--{name} {value}" if _FACE[-1].cli else f"{name}: {value}"


_NAME = r"[a-z][a-z0-9-]*"
_THE_INPUT = re.compile(rf"\bthe `({_NAME})` input\b")  # the `memory` input
_AN_INPUT = re.compile(rf"`({_NAME})` input\b")  # the `command` input (or ...), `image` input
_INPUT_LIST = re.compile(
    rf"\bthe ((?:`{_NAME}`(?:, | and | or | / ))+`{_NAME}`) inputs\b"
)  # the `a`, `b` and `c` inputs
_SETTING = re.compile(rf"`({_NAME}): ([^`]+)`")  # `launch-type: FARGATE`
_HYPHENATED = re.compile(r"`([a-z]+(?:-[a-z]+)+)`")  # `start-retries`: no task definition field has a hyphen


def catalogue(text: str) -> str:
    """A catalogue text in the face's words: on the command line, every input the Action's words name becomes its
    flag. Backticked single words stay as they are unless called an input: `memory` may be the container
    definition's field."""
    face = _FACE[-1]
    if not face.cli:
        return text
    names = face.inputs

    def each(found: re.Match[str]) -> str:
        return re.sub(rf"`({_NAME})`", lambda one: f"`--{one.group(1)}`" if one.group(1) in names else one.group(0),
                      found.group(1))  # fmt: skip

    text = _INPUT_LIST.sub(each, text)
    for pattern in (_THE_INPUT, _AN_INPUT):
        text = pattern.sub(lambda found: f"`--{found.group(1)}`" if found.group(1) in names else found.group(0), text)
    text = _SETTING.sub(lambda found: f"`--{found.group(1)} {found.group(2)}`" if found.group(1) in names
                        else found.group(0), text)  # fmt: skip
    return _HYPHENATED.sub(lambda found: f"`--{found.group(1)}`" if found.group(1) in names else found.group(0), text)
