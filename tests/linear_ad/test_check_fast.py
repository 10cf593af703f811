"""The fast checker against the reference one where the generators seldom go: calls of the wrong
shape, programs at and past the nesting limit (each family's deepest level), and variables of the
wrong kind for their position (programs built in code)."""

from __future__ import annotations

import pytest

from calculi.core.errors import TypeCheckError
from calculi.core.syntax import Source
from calculi.linear_ad.bench import call_chain, long_sum, nested_lets
from calculi.linear_ad.check import check_program
from calculi.linear_ad.parse import parse_program
from calculi.linear_ad.syntax import (
    MAX_DEPTH,
    Binder,
    Block,
    Call,
    Expr,
    FuncDef,
    LetB,
    LVar,
    Program,
    Ret,
    Tup,
    TupL,
    Var,
)
from calculi.linear_ad.types import Mixed
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


def _kind_swapped(position: str) -> Program:
    """A program built in code (the parser cannot write it) with a variable of the wrong kind in
    ``position``: a non-linear one where a linear one goes, or the other way round."""
    real = parse_program(Source("def g(x: R) -> R = x")).defs[0].param_types[0]
    x, dx, y = Binder(0, "x"), Binder(1, "dx"), Binder(2, "y")
    bodies: dict[str, Expr] = {
        "call argument": Block((LetB((y,), (), Call("id", (LVar(1, "dx"),), ())),),
                               Ret((Var(0, "x"), Var(2, "y")), ())),
        "call linear argument": Block((LetB((), (y,), Call("lid", (), (Var(0, "x"),))),),
                                      Ret((), (LVar(1, "dx"), LVar(2, "y")))),
        "result": Ret((Var(0, "x"), LVar(1, "dx")), ()),
        "linear result": Ret((), (Var(0, "x"), LVar(1, "dx"))),
        "tuple": Block((LetB((y,), (), Tup((Var(0, "x"), LVar(1, "dx")))),), Ret((Var(2, "y"),), ())),
        "linear tuple": Block((LetB((), (y,), TupL((Var(0, "x"), LVar(1, "dx")))),),
                              Ret((), (LVar(2, "y"),))),
    }
    helpers = parse_program(Source("def id(x: R) -> R = x\ndef lid(; a: R) -> (; R) = (; a)")).defs
    f = FuncDef("f", (x,), (real,), (dx,), (real,), Mixed((), ()), bodies[position])
    return Program((*helpers, f))


@pytest.mark.parametrize("position", ["call argument", "call linear argument", "result",
                                      "linear result", "tuple", "linear tuple"])
def test_a_variable_of_the_wrong_kind_is_refused_where_it_stands(position: str) -> None:
    program = _kind_swapped(position)
    for reference in (False, True):
        with pytest.raises(TypeCheckError) as err:
            check_program(program, reference=reference)
        assert err.value.rule == "Var" and "where a" in str(err.value), str(err.value)
