"""The front end: the elaboration of ``for i. e`` when a ``for`` is shared or checked twice."""

from __future__ import annotations

from fractions import Fraction

import pytest

from calculi.core.errors import ParseError, TypeCheckError
from calculi.core.syntax import Source
from calculi.dex.check import check
from calculi.dex.parse import parse_program
from calculi.dex.semantics import evaluate
from calculi.dex.syntax import REAL, Expr, Fin, For, Index, Let, Omitted, Pair, PairT, RealLit, TableT, Var


def _table(n: int) -> Expr:
    return For("a", Fin(n), RealLit(Fraction(n)))


def _shared_loop() -> For:
    return For("i", Omitted(), Index(Var("x"), Var("i")))


def test_a_for_checked_again_in_the_same_context_keeps_its_index_set() -> None:
    program = parse_program(Source("let x = for a:Fin 2. 1.0 in for i. x.i"))
    first = check(program).type
    assert check(program).type == first == TableT(Fin(2), REAL)
    assert evaluate(program) == evaluate(parse_program(Source("let x = for a:Fin 2. 1.0 in "
                                                              "for i:Fin 2. x.i")))


def test_a_for_checked_in_another_context_is_refused_not_stale() -> None:
    """The second check would read ``for i:Fin 2`` written by the first; it infers again and
    refuses the disagreement at the loop, leaving the first elaboration in place."""
    loop = _shared_loop()
    assert check(loop, {"x": TableT(Fin(2), REAL)}).type == TableT(Fin(2), REAL)
    with pytest.raises(TypeCheckError, match="shared") as info:
        check(loop, {"x": TableT(Fin(3), REAL)})
    assert info.value.rule == "T-For"
    assert loop.type == Fin(2)
    assert check(loop, {"x": TableT(Fin(2), REAL)}).type == TableT(Fin(2), REAL)


def test_one_for_shared_by_two_contexts_is_refused() -> None:
    loop = _shared_loop()
    program = Let("x", _table(2), Pair(loop, Let("x", _table(3), loop)))
    with pytest.raises(TypeCheckError, match="ranges over Fin 2, here over Fin 3") as info:
        check(program)
    assert info.value.rule == "T-For"


def test_one_for_shared_in_one_context_is_inferred_once() -> None:
    loop = _shared_loop()
    program = Let("x", _table(2), Pair(loop, loop))
    checked = check(program)
    assert checked.type == PairT(TableT(Fin(2), REAL), TableT(Fin(2), REAL))
    explicit = parse_program(Source("let x = for a:Fin 2. 2.0 in (for i:Fin 2. x.i, for i:Fin 2. x.i)"))
    assert evaluate(program, parallel=checked.parallel) == evaluate(explicit)


@pytest.mark.parametrize("text", ["for i. 1.0", "let x = for a:Fin 2. 1.0 in for i. x.i + i"])
def test_an_uninferable_for_is_an_error_at_a_position(text: str) -> None:
    with pytest.raises(TypeCheckError) as info:
        check(parse_program(Source(text)))
    assert info.value.span is not None


def test_an_elaborated_for_whose_rewritten_body_no_longer_fixes_it_keeps_its_index_set() -> None:
    from dataclasses import replace

    program = parse_program(Source("let x = for a:Fin 2. 1.0 in for i. x.i"))
    check(program)
    assert isinstance(program, Let) and isinstance(program.body, For)
    rewritten = replace(program.body, body=RealLit(Fraction(1)))  # as inlining rebuilds a node
    assert check(rewritten).type == TableT(Fin(2), REAL)


@pytest.mark.parametrize(("text", "reason"), [
    ("1." + "9" * 5000, "number literal of 5,001 digits is too long"),
    ("with_reader " + "9" * 4301 + ".0 \\r. ask r", "number literal of 4,302 digits is too long"),
])
def test_a_real_literal_too_long_for_a_fraction_is_a_located_syntax_error(text: str, reason: str) -> None:
    with pytest.raises(ParseError, match=reason) as caught:
        parse_program(Source(text))
    assert caught.value.span is not None
