"""Parsing and printing: the lambda-n-ways syntax, let, comments, files, errors with positions."""

from __future__ import annotations

import pytest

from calculi.core.errors import CalculusError, ParseError, UnboundError
from calculi.foil import alpha_equiv, parse, parse_file, pretty
from calculi.foil.parse import split_terms


def test_application_is_left_associative_and_lambda_extends_right() -> None:
    assert parse("a b c", free=True) == parse("(a b) c", free=True)
    assert parse(r"\x. x y", free=True) == parse(r"\x. (x y)", free=True)
    assert parse(r"(\x. x) y", free=True) != parse(r"\x. x y", free=True)


def test_a_last_argument_may_be_a_bare_lambda() -> None:
    """The choice pinned here: `f a \\x. x` is `f a (\\x. x)`; the printer adds the parentheses."""
    term = parse(r"f a \x. x \y. y", free=True)
    assert term == parse(r"f a (\x. x (\y. y))", free=True)
    assert pretty(term) == r"f a (\x. x (\y. y))"


def test_unicode_lambda_is_accepted_and_printed_as_backslash() -> None:
    assert parse("λx. λy. x y") == parse(r"\x. \y. x y")
    assert pretty(parse("λx. x")) == r"\x. x"


def test_printer_parenthesises_only_where_needed() -> None:
    assert pretty(parse(r"(\x.x) (\y.y) (a b)", free=True)) == r"(\x. x) (\y. y) (a b)"
    assert pretty(parse(r"\x0.\x1.x1 ((\x2.x0) (\x2.x1))")) == r"\x0. \x1. x1 ((\x2. x0) (\x2. x1))"
    assert pretty(parse(r"f (g (\x. x))", free=True)) == r"f (g (\x. x))"


def test_narrow_printing_breaks_lines_and_still_round_trips() -> None:
    term = parse(r"\f. \x. f (f (f (f (f (f (f (f (f (f x)))))))))")
    narrow = pretty(term, width=20)
    assert "\n" in narrow
    assert parse(narrow) == term


def test_let_is_sequential_non_recursive_sugar() -> None:
    term = parse(r"let id = \x. x; k = \a. \b. a in k id", free=False)
    expected = parse(r"(\id. (\k. k id) (\a. \b. a)) (\x. x)")
    assert term == expected
    with pytest.raises(UnboundError):
        parse(r"let f = \x. f x in f")  # not recursive: f is unbound in its own definition


def test_comments_and_files() -> None:
    text = "-- numSubsts: 1\n\\x0.x0 -- trailing comment\n\n-- depth: 2\n(\\x.x) (\\y.y)\n"
    terms = parse_file(text)
    assert len(terms) == 2
    assert terms[1].span is not None and terms[1].span.line == 5


def test_multi_line_let_is_one_term() -> None:
    text = "let a = \\x.x;\n    b = a\nin a b\n\\z.z\n"
    assert [line for line, _ in split_terms(text)] == [1, 4]
    terms = parse_file(text)
    assert alpha_equiv(terms[0], parse(r"(\a. (\b. a b) a) (\x. x)"))


@pytest.mark.parametrize(
    ("text", "reason", "column"),
    [
        ("\\x.", "missing body after '.'", 3),
        ("(x", "unclosed '('", 2),
        ("x)", "unmatched ')'", 2),
        ("\\x y", "missing '.' after the bound name", 4),
        ("let x = y", "let needs 'in' before its body", 9),
        ("", "empty input", 1),
        ("x # y", "unexpected character '#'", 3),
    ],
)
def test_parse_errors_have_reasons_and_positions(text: str, reason: str, column: int) -> None:
    with pytest.raises(ParseError) as info:
        parse(text, free=True)
    assert reason in info.value.reason
    assert info.value.span is not None
    assert info.value.span.column == column


def test_unbound_names_point_at_the_name() -> None:
    with pytest.raises(UnboundError) as info:
        parse("\\x.\n  x y")
    err = info.value
    assert err.span is not None and (err.span.line, err.span.column) == (2, 5)
    rendered = err.render()
    assert rendered.startswith("<input>:2:5: unbound name")
    assert rendered.splitlines()[-1].strip() == "^"
    assert parse("\\x. x y", free=["y"]) == parse("\\x. x y", free=True)


def test_errors_are_calculus_errors() -> None:
    for bad in ["(", "\\", "let", ")", "\\x.\\y."]:
        with pytest.raises(CalculusError):
            parse(bad)
