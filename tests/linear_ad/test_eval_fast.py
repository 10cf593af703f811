"""The fast evaluator's shortcuts: ``conforms`` (a loop over a stack) answers as its recursive
definition does, on nested tuple types and values of every shape; fuel is spent as before."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given

from calculi.core.errors import FuelExhausted
from calculi.core.syntax import Source
from calculi.core.trace import Fuel
from calculi.linear_ad.check import check_program
from calculi.linear_ad.eval import Evaluator, conforms
from calculi.linear_ad.parse import parse_program
from calculi.linear_ad.types import TupleType, Type
from proofs.linear_ad.speed_eval import TYPES, VALUES, conforms_by_definition


def value_of(ty: Type) -> Any:
    return tuple(value_of(t) for t in ty.items) if isinstance(ty, TupleType) else 0.5


@given(VALUES, TYPES)
def test_conforms_is_its_definition(value: Any, ty: Type) -> None:
    assert conforms(value, ty) == conforms_by_definition(value, ty)


@given(TYPES)
def test_a_value_built_for_a_type_conforms(ty: Type) -> None:
    assert conforms(value_of(ty), ty)


TEXT = ("def g(a: R ; da: R) -> (R ; R) = let b = sin(a) in let (; db) = cos(a) *. da in (b ; db)\n"
        "def f(x: R ; dx: R) -> (R ; R) = let (y ; dy) = g(x ; dx) in let z = y * x in let (; d1, d2) = "
        "dup(dy) in let (; dz) = x *. d1 (+) y *. d2 in (z ; dz)")


@pytest.mark.parametrize("limit", range(1, 26))
def test_fuel_is_spent_one_step_a_node(limit: int) -> None:
    """The run takes 23 steps, one a node evaluated (as before the shortcuts): with less fuel it
    stops at a node, with more it finishes."""
    typing = check_program(parse_program(Source(TEXT)))
    fuel = Fuel(limit)
    if limit < 23:
        with pytest.raises(FuelExhausted) as caught:
            Evaluator(typing, fuel=fuel).call("f", [0.5], [1.0])
        assert caught.value.span is not None
    else:
        Evaluator(typing, fuel=fuel).call("f", [0.5], [1.0])
        assert fuel.used == 23
