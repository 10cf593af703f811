"""The fast evaluator's shortcuts: ``conforms`` (a loop over a stack) answers as its recursive
definition does, on nested tuple types and values of every shape; fuel is spent as before."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from calculi.core.errors import FuelExhausted
from calculi.core.syntax import Source
from calculi.core.trace import Fuel
from calculi.linear_ad.check import check_program
from calculi.linear_ad.eval import Evaluator, conforms
from calculi.linear_ad.parse import parse_program
from calculi.linear_ad.types import REAL, TupleType, Type


def conforms_by_definition(value: Any, ty: Type) -> bool:
    """Tuples by shape, ℝ any scalar, other types trusted: the definition, recursively."""
    if isinstance(ty, TupleType):
        return isinstance(value, tuple) and len(value) == len(ty.items) and all(
            conforms_by_definition(v, t) for v, t in zip(value, ty.items, strict=True))
    if ty == REAL:
        return not isinstance(value, tuple)
    return True


types = st.recursive(st.just(REAL), lambda inner: st.lists(inner, max_size=3).map(
    lambda items: TupleType(tuple(items))), max_leaves=8)
values = st.recursive(st.floats(allow_nan=False) | st.integers(),
                      lambda inner: st.lists(inner, max_size=3).map(tuple), max_leaves=8)


def value_of(ty: Type) -> Any:
    return tuple(value_of(t) for t in ty.items) if isinstance(ty, TupleType) else 0.5


@given(values, types)
def test_conforms_is_its_definition(value: Any, ty: Type) -> None:
    assert conforms(value, ty) == conforms_by_definition(value, ty)


@given(types)
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
