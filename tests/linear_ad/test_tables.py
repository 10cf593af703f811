"""What the checker's tables hold: every expression and unpack, but an occurrence of a variable of
type ℝ and a let (``Tables``), whose types ``type_in`` and the right-hand side answer for."""

from __future__ import annotations

import pytest

from calculi.core.syntax import Source
from calculi.linear_ad.check import check_program, type_in
from calculi.linear_ad.parse import parse_program
from calculi.linear_ad.syntax import Block, Dup, LetB, Lit, LVar, Prim, UnpackB, Var
from calculi.linear_ad.tables import REAL_LIN, REAL_NL
from calculi.linear_ad.types import REAL, Mixed, TupleType

TEXT = ("def g(x: R, t: (R, R) ; a: R, u: (R, R)) -> (R ; (R, R)) = "
        "let (p, q) = unpack t in let y = sin(x) in let (; b) = y *. a in let (; v, w) = dup(u) in "
        "let (; s) = v (+) w in let (;) = drop((p, q ; b)) in (y ; s)")
PAIR = TupleType((REAL, REAL))


@pytest.mark.parametrize("reference", [False, True])
def test_a_variable_of_type_real_and_a_let_have_no_entry(reference: bool) -> None:
    typing = check_program(parse_program(Source(TEXT)), reference=reference)
    (d,) = typing.program.defs
    table = typing.of("g")
    body = d.body
    assert isinstance(body, Block)
    unpack, sin_let, scale_let, dup_let, add_let = body.bindings[:5]
    assert isinstance(unpack, UnpackB) and isinstance(sin_let, LetB) and isinstance(scale_let, LetB)
    assert isinstance(dup_let, LetB) and isinstance(add_let, LetB)
    assert list(table.unpacks) == [id(unpack)] and table.unpacks[id(unpack)] == ((REAL, REAL), ())
    sin, scale, dup, add = sin_let.rhs, scale_let.rhs, dup_let.rhs, add_let.rhs
    assert isinstance(sin, Prim) and isinstance(scale, Prim) and isinstance(add, Prim)
    assert isinstance(dup, Dup)
    x, y, a, u = sin.args[0], scale.args[0], scale.largs[0], dup.arg
    assert isinstance(x, Var) and isinstance(y, Var) and isinstance(a, LVar) and isinstance(u, LVar)
    for real in (x, y, a):
        assert id(real) not in table.exprs
    assert (type_in(table.exprs, x), type_in(table.exprs, a)) == (REAL_NL, REAL_LIN)
    assert typing.type_of(y) is REAL_NL and typing.type_of(a) is REAL_LIN
    assert table.exprs[id(u)] == Mixed((), (PAIR,)) == typing.type_of(u)
    assert [type_in(table.exprs, v).lin for v in add.largs] == [(PAIR,), (PAIR,)]
    assert table.exprs[id(sin)] == REAL_NL and table.exprs[id(scale)] == REAL_LIN
    assert table.exprs[id(dup)] == Mixed((), (PAIR, PAIR))


def test_a_node_that_is_no_variable_must_have_an_entry() -> None:
    typing = check_program(parse_program(Source(TEXT)))
    with pytest.raises(KeyError, match="no type recorded for Lit"):
        type_in(typing.of("g").exprs, Lit("2.0"))
