"""The input value parsers: raw text in, a value or the exact words of what is accepted out."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import pytest

from ecs_run_task.inputs import parse
from ecs_run_task.inputs.parse import MAX_JSON_BYTES, MAX_JSON_DEPTH, BadValue


def refused(read: Callable[[], Any]) -> str:
    with pytest.raises(BadValue) as caught:
        read()
    return str(caught.value)


def nested(depth: int) -> str:
    """A JSON value `depth` levels deep, arrays and objects in turn: `[{"a": [...]}]`."""
    text = "1"
    for level in range(depth):
        text = f"[{text}]" if level % 2 else f'{{"a": {text}}}'
    return text


def test_a_boolean_is_yaml_true_or_false_and_a_typo_is_refused() -> None:
    assert [parse.boolean(t) for t in ("true", "True", "TRUE", "false", "False", "FALSE")] == [True] * 3 + [False] * 3
    assert refused(lambda: parse.boolean("yes")) == "expected true or false (true|True|TRUE|false|False|FALSE)"


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("45", 45.0), ("0.5", 0.5), ("90s", 90.0), ("30m", 1800.0), ("2h", 7200.0), ("500ms", 0.5), ("1h30m", 5400.0),
     ("1h 30m", 5400.0), (" 90 s ", 90.0), ("0", 0.0)],
)  # fmt: skip
def test_a_duration_is_seconds_or_units_spaces_allowed(text: str, seconds: float) -> None:
    assert parse.duration(text) == seconds


@pytest.mark.parametrize(
    ("text", "why"),
    [("5x", "expected a duration such as 90s, 30m, 2h, 1h30m or a number of seconds"),
     ("1h30", "expected a duration such as 90s, 30m, 2h, 1h30m or a number of seconds"),
     ("-1", "expected a duration of zero or more"),
     ("inf", "expected a duration of zero or more"),
     ("nan", "expected a duration of zero or more"),
     ("\u0663\u0660s", "expected a duration such as 90s, 30m, 2h, 1h30m or a number of seconds, in ASCII digits")],
)  # fmt: skip
def test_a_duration_that_does_not_parse_says_what_would(text: str, why: str) -> None:
    assert refused(lambda: parse.duration(text)) == why


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0.5, "500ms"), (0.25, "250ms"), (1, "1s"), (1.5, "2s"), (10, "10s"), (59.6, "1m"), (90, "1m30s"),
     (3600, "1h"), (5400, "1h30m"), (3725, "1h2m5s")],
)  # fmt: skip
def test_a_duration_is_shown_as_people_write_it(seconds: float, text: str) -> None:
    assert parse.shown(seconds) == text


def test_a_whole_number_takes_its_bounds_and_nothing_past_them() -> None:
    assert (parse.whole_number(" 1 ", 1, 10), parse.whole_number("10", 1, 10), parse.whole_number("0", 0, 2)) == (
        1,
        10,
        0,
    )
    for text in ("0", "11", "-1", "1.0", "one", "9" * 19):
        assert refused(partial(parse.whole_number, text, 1, 10)) == "expected a whole number from 1 to 10"


def test_a_command_is_a_json_array_of_strings_or_split_as_a_posix_shell_would() -> None:
    assert parse.command(' ["bin/rails", "db:migrate"] ') == ("bin/rails", "db:migrate")
    assert parse.command("""sh -c 'echo "a b"' \\$HOME""") == ("sh", "-c", 'echo "a b"', "$HOME")


@pytest.mark.parametrize(
    ("text", "why"),
    [('["bin/rails", 3]', 'expected a JSON array of strings, e.g. ["bin/rails", "db:migrate"]'),
     ("[" + "1" * 5000 + "]", "is not a JSON array we can read: a number is too long or it nests too deep"),
     ("[]", "expected a command; leave it out to keep the task definition's"),
     ("echo 'open", "cannot be split as a shell would: No closing quotation (quote it, or give a JSON array)")],
)  # fmt: skip
def test_a_command_that_does_not_parse_says_what_would(text: str, why: str) -> None:
    assert refused(lambda: parse.command(text)) == why


def test_key_values_are_lines_of_key_equals_value_skipping_blanks_and_comments() -> None:
    text = "# deploy\nA=1\r\n\n  B = x=y \r\nC=\n"
    assert parse.key_values(text, what="a variable") == (("A", "1"), ("B", " x=y"), ("C", ""))
    assert parse.key_values("# nothing but a comment\n\n", what="a variable") == ()


def test_several_lines_whose_first_holds_commas_are_taken_as_given() -> None:
    assert parse.key_values("A=1,B=2\nC=3", what="a variable") == (("A", "1,B=2"), ("C", "3"))
    assert parse.key_values("A=red,green", what="a variable") == (("A", "red,green"),)


def test_one_value_with_a_query_and_commas_is_taken_as_given() -> None:
    url = "postgres://u:p@h/db?x=1,SSLMODE=require"
    assert parse.key_values(f"DB_URL={url}", what="a variable") == (("DB_URL", url),)


@pytest.mark.parametrize(
    ("text", "why"),
    [('{"A": "1"}', "looks like JSON; give a tag as KEY=VALUE lines, one a line (A=1, then B=2 below it)"),
     ('[{"key": "A"}]', "looks like JSON; give a tag as KEY=VALUE lines, one a line (A=1, then B=2 below it)"),
     ("A=1\nB", "line 2 has no '=': expected a tag as KEY=VALUE, one a line"),
     ("A=1\n =2", "line 2 has nothing before '=': expected a tag as KEY=VALUE, one a line"),
     ("A=1,B=2, C_D=3", "line 1 (A=...) looks like several on one line, separated by commas; give one KEY=VALUE a line")],
)  # fmt: skip
def test_key_values_that_do_not_parse_say_which_line_and_what_would(text: str, why: str) -> None:
    assert refused(lambda: parse.key_values(text, what="a tag")) == why


def test_a_pair_is_one_key_and_everything_after_the_first_equals_sign() -> None:
    assert parse.pair(" A =b=c\nd", what="a variable") == ("A", "b=c\nd")
    assert parse.pair("A=", what="a variable") == ("A", "")
    for text in ("A", "=b", " =b"):
        assert refused(partial(parse.pair, text, what="a variable")) == "expected a variable as KEY=VALUE"


def test_words_are_split_at_commas_and_white_space() -> None:
    assert parse.words(" a, b\nc,,d ") == ("a", "b", "c", "d")
    assert parse.words("") == ()


def test_json_up_to_the_size_limit_is_read_and_past_it_refused() -> None:
    at_limit = '"' + "a" * (MAX_JSON_BYTES - 2) + '"'
    assert parse.json_value(at_limit) == "a" * (MAX_JSON_BYTES - 2)
    assert refused(lambda: parse.json_value(at_limit + " ")) == "is larger than 256 KiB; is it JSON?"
    assert refused(lambda: parse.json_value("[1, 2]", what="a JSON array", limit=4)) == (
        "is larger than 0 KiB; is it a JSON array?")  # fmt: skip


def test_the_size_limit_counts_bytes_not_characters() -> None:
    wide = '"' + "é" * (MAX_JSON_BYTES // 2) + '"'  # fewer characters than the limit, more bytes
    assert len(wide) < MAX_JSON_BYTES
    assert refused(lambda: parse.json_value(wide)) == "is larger than 256 KiB; is it JSON?"


def test_json_nested_up_to_the_depth_limit_is_read_and_deeper_refused() -> None:
    assert parse.json_value(nested(MAX_JSON_DEPTH)) is not None
    assert refused(lambda: parse.json_value(nested(MAX_JSON_DEPTH + 1), what="a JSON object")) == (
        "nests deeper than 32 levels; is it a JSON object?")  # fmt: skip
    assert refused(lambda: parse.json_value("[" * 33 + "]" * 33)) == "nests deeper than 32 levels; is it JSON?"
    assert (
        refused(lambda: parse.json_value('{"a": ' * 33 + "1" + "}" * 33)) == "nests deeper than 32 levels; is it JSON?"
    )


def test_json_that_does_not_parse_says_where_or_why() -> None:
    assert refused(lambda: parse.json_value('{"a": }')) == "is not valid JSON (Expecting value at line 1 column 7)"
    assert refused(lambda: parse.json_value("1" * 5000)) == (
        "is not JSON we can read: a number is too long or it nests too deep")  # fmt: skip


def test_a_json_object_is_an_object() -> None:
    assert parse.json_object('{"cpu": "512"}') == {"cpu": "512"}
    assert refused(lambda: parse.json_object("[1]")) == "expected a JSON object"
    assert refused(lambda: parse.json_object('{"a": ' + "1" * 5000 + "}")) == (
        "is not a JSON object we can read: a number is too long or it nests too deep")  # fmt: skip
