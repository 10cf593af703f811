"""The fast checker against the reference one where the generators seldom go: calls of the wrong
shape, and programs at and past the nesting limit (each family's deepest level)."""

from __future__ import annotations

import pytest

from calculi.core.syntax import Source
from calculi.linear_ad.bench import call_chain, long_sum, nested_lets
from calculi.linear_ad.parse import parse_program
from calculi.linear_ad.syntax import MAX_DEPTH
from proofs.linear_ad.rejects import verdict

CALLS = [
    "def g(x: R, y: R) -> R = x * y\ndef f(x: R) -> R = g(x)",
    "def g(; a: R) -> (; R) = a\ndef f(x: R ; dx: R) -> (; R) = let (;) = drop(x) in g(; dx, dx)",
    "def g(t: (R, R)) -> R = let (a, b) = unpack t in a * b\ndef f(x: R) -> R = g(x)",
    "def g(x: R ; a: R) -> (R ; R) = (x ; a)\ndef f(x: R ; dx: R) -> (R ; R) = g(x ; dx)",
]


@pytest.mark.parametrize("text", CALLS)
def test_calls_are_judged_alike(text: str) -> None:
    program = parse_program(Source(text))
    assert verdict(program, False) == verdict(program, True)


@pytest.mark.parametrize("family", [call_chain, long_sum, nested_lets])
@pytest.mark.parametrize("n", [MAX_DEPTH - 4, MAX_DEPTH, 2 * MAX_DEPTH - 4, 2 * MAX_DEPTH + 4])
def test_deep_programs_are_judged_alike(family: object, n: int) -> None:
    program = family(n)  # type: ignore[operator]
    fast, reference = verdict(program, False), verdict(program, True)
    assert fast == reference, (fast[:4], reference[:4])
