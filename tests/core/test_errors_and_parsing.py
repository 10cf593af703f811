"""Spans, error rendering with a caret, and classified syntax errors."""

from __future__ import annotations

import pytest

from calculi.core.errors import FuelExhausted, ParseError, UnboundError
from calculi.core.parsing import Grammar, span_of
from calculi.core.syntax import Source
from calculi.core.trace import Fuel

ARITH = Grammar.from_text(
    r"""
    start: sum
    sum: atom ("+" atom)*
    atom: NUMBER | NAME | "(" sum ")"
    %import common.NUMBER
    %import common.CNAME -> NAME
    %import common.WS
    %ignore WS
    """,
    examples={
        "missing operand after '+'": ["1 +", "(2 + )"],
        "unclosed parenthesis": ["(1 + 2", "((3)"],
    },
    names={"RPAR": "')'", "PLUS": "'+'"},
)


def test_positions_are_one_based() -> None:
    source = Source("ab\ncde\nf", "f.txt")
    assert source.position(0) == (1, 1)
    assert source.position(4) == (2, 2)
    assert source.position(7) == (3, 1)
    assert str(source.span(4, 6)) == "f.txt:2:2"


def test_render_puts_a_caret_under_the_span() -> None:
    source = Source("let x = y in x", "prog.lam")
    err = UnboundError("y is not in scope", source.span(8, 9))
    assert err.render().splitlines() == [
        "prog.lam:1:9: unbound name: y is not in scope",
        "  let x = y in x",
        "          ^",
    ]


def test_render_names_the_rule() -> None:
    err = FuelExhausted("no result", None, rule="β")
    assert err.render() == "out of fuel [β]: no result"


@pytest.mark.parametrize(
    ("text", "label", "column"),
    [
        ("1 + 2 +", "missing operand after '+'", 7),
        ("(x + (y)", "unclosed parenthesis", 8),
    ],
)
def test_errors_are_classified_by_example(text: str, label: str, column: int) -> None:
    with pytest.raises(ParseError) as info:
        ARITH.parse(Source(text))
    assert info.value.reason == label
    assert info.value.span is not None
    assert info.value.span.line == 1


def test_unclassified_errors_say_what_was_found() -> None:
    with pytest.raises(ParseError) as info:
        ARITH.parse(Source("1 $ 2"))
    assert info.value.reason == "unexpected character '$'"
    assert info.value.span is not None and info.value.span.column == 3


def test_span_of_tree_and_token() -> None:
    source = Source("  12 + foo")
    tree = ARITH.parse(source)
    span = span_of(tree, source)
    assert span is not None and span.text == "12 + foo"


def test_fuel_runs_out_with_a_clear_message() -> None:
    fuel = Fuel(3)
    for _ in range(3):
        fuel.tick()
    with pytest.raises(FuelExhausted, match="no result after 3 steps"):
        fuel.tick()
    assert fuel.remaining == 0
