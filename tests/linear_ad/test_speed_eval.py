"""The fast block (no cost counted) against the rules one node at a time (a cost counted): at every
fuel limit it stops at the same node, or gives the same value in the same number of steps."""

from __future__ import annotations

from typing import Any

import pytest

from calculi.core.errors import FuelExhausted
from calculi.core.syntax import Source
from calculi.core.trace import Fuel
from calculi.linear_ad.check import check_program
from calculi.linear_ad.eval import Cost, Evaluator
from calculi.linear_ad.parse import parse_program

TEXT = ("def g(t: (R, R) ; c: R) -> (R ; R) = let (x, y) = unpack t in let (; c1, c2) = dup(c) in "
        "let (; c3) = cos(x * y) *. c1 in let (; c4) = y *. c2 in let (; c5) = c3 (+) c4 in "
        "let z = sin(x) + exp(y) in (z ; c5)\n"
        "def f(x: R ; dx: R) -> (R ; R) = let t = tup(x, x) in let (z ; dz) = g(t ; dx) in "
        "let u = tup(z, x) in let (w ; dw) = g(u ; dz) in (w ; dw)")
TYPING = check_program(parse_program(Source(TEXT)))


def run(limit: int, cost: Cost | None) -> tuple[Any, int]:
    fuel = Fuel(limit)
    try:
        out: Any = Evaluator(TYPING, fuel=fuel, cost=cost).call("f", [0.5], [1.0])
    except FuelExhausted as err:
        out = (str(err), err.span)
    return out, fuel.used


STEPS = run(10_000, Cost())[1]


@pytest.mark.parametrize("limit", range(STEPS + 2))
def test_fuel_runs_out_at_the_same_node(limit: int) -> None:
    assert run(limit, None) == run(limit, Cost())


def test_an_evaluator_runs_a_function_twice_afresh() -> None:
    """One evaluator, two calls at different points: each call's value is a fresh evaluator's."""
    ev = Evaluator(TYPING)
    for x in (0.5, -1.25, 0.5):
        assert ev.call("f", [x], [1.0]) == Evaluator(TYPING, cost=Cost()).call("f", [x], [1.0])
