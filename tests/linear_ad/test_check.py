"""Negative type checks: what the checker rejects, with the rule and the place."""

from __future__ import annotations

import pytest

from calculi.core.errors import TypeCheckError
from calculi.core.syntax import Source
from calculi.linear_ad.check import check_program
from calculi.linear_ad.parse import parse_program
from calculi.linear_ad.transpose import transpose_program

REJECTED = [
    ("def f(x: R ; dx: R) -> (R ; R, R) = (x ; dx, dx)", "linear variable dx used twice (use dup)", "Dup",
     "dx", 46),
    ("def f(x: R ; dx: R) -> (R ;) = (x ;)", "linear variable dx never used (use drop)", "Drop", "dx", 14),
    ("def f(x: R, y: R) -> R = x", "non-linear variable y never used (use drop)", "Drop", "y", 13),
    ("def f(; dx: R, dy: R) -> (; R) = dx * dy", "× applied to a linear value", "mul", "dx", 34),
    ("def f(; dx: R) -> (; R) = sin(dx)", "sin applied to a linear value", "sin", "dx", 31),
    ("def f(x: R) -> (; R) = x (+) x", "⊕ applied to a non-linear value", "ladd", "x", 24),
    ("def g(; a: R, b: R) -> (; R) = a (+) b\ndef f(; x: R) -> (; R) = g(; x, x)",
     "linear variable x used twice (use dup)", "Dup", "x", 33),
    ("def f(x: R) -> (R ; R) = (x ;)", "declared (ℝ ; ℝ)", "Def", "(x ;)", 26),
    ("def f(x: R) -> R = let (a, b) = unpack x in a", "cannot unpack x", "Unpack", None, 20),
    ("def f(x: R) -> R = let (; d) = dup(x) in x", "dup takes one linear value", "Dup", "dup(x)", 32),
    ("def f(; dx: R) -> (; R) = let (x ;) = (; dx) in dx", "does not match the pattern", "Let", None, 27),
    ("def f(x: R) -> R = let y = x in x", "non-linear variable y never used (use drop)", "Drop", "y", 24),
    ("def f(x: R) -> (R, R) = x", "declared ((ℝ, ℝ) ; )", "Def", "x", 25),
]


@pytest.mark.parametrize(("text", "reason", "rule", "culprit", "column"), REJECTED,
                         ids=[r[1] for r in REJECTED])
def test_rejected(text: str, reason: str, rule: str, culprit: str | None, column: int) -> None:
    with pytest.raises(TypeCheckError) as info:
        check_program(parse_program(Source(text)))
    err = info.value
    assert reason in err.reason and err.rule == rule, err.render()
    assert err.span is not None, err.render()
    assert culprit is None or err.span.text == culprit, err.render()
    assert err.span.column == column, err.render()


ACCEPTED = [
    "def f(x: R) -> R = x * x",  # an implicit non-linear dup
    "def f(x: R ; dx: R) -> (R ; R, R) = let (; a, b) = dup(dx) in (x ; a, b)",
    "def f(x: R, y: R) -> R = let (;) = drop(y) in x",
    "def f(x: R ; dx: R) -> (R ;) = let (;) = drop(dx) in (x ;)",
    "def f(x: R ; dx: R) -> (; R) = sin(x) *. dx",
    "def f(; dx: R, dy: R) -> (; R) = let (; t) = tupL(dx, dy) in let (a, b) = unpackL t in a (+) b",
]


@pytest.mark.parametrize("text", ACCEPTED)
def test_accepted(text: str) -> None:
    check_program(parse_program(Source(text)))


def test_transposing_a_function_with_non_linear_results_is_rejected() -> None:
    typing = check_program(parse_program(Source("def f(x: R ; dx: R) -> (R ; R) = (x ; dx)")))
    with pytest.raises(TypeCheckError, match="non-linear results"):
        transpose_program(typing, "f")


def test_jvp_of_a_linear_function_is_rejected() -> None:
    from calculi.linear_ad.ad import jvp

    typing = check_program(parse_program(Source("def f(x: R ; dx: R) -> (R ; R) = (x ; dx)")))
    with pytest.raises(TypeCheckError, match="non-linear functions"):
        jvp(typing, "f")
