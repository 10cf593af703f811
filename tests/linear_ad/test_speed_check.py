"""The fast checker's shortcuts for the shapes the passes write (a dup, an unpack, a one-variable
linear result, a tuple, lets of several names), each against the reference checker: the same
``Typing`` or the same error at the same place."""

from __future__ import annotations

import pytest

from calculi.core.syntax import Source
from calculi.linear_ad.check import check_program
from calculi.linear_ad.check_fast import tuple_type
from calculi.linear_ad.parse import parse_program
from calculi.linear_ad.types import REAL, TupleType, Type
from proofs.linear_ad.rejects import verdict
from proofs.linear_ad.speed_check import SHAPES as PROGRAMS


@pytest.mark.parametrize("text", PROGRAMS)
def test_fast_checker_agrees_on_the_passes_shapes(text: str) -> None:
    program = parse_program(Source(text))
    assert verdict(program, False) == verdict(program, True)


def test_the_shapes_are_accepted_and_rejected_as_written() -> None:
    verdicts = [verdict(parse_program(Source(text)), False)[0] for text in PROGRAMS]
    assert verdicts == ["accepted"] * 6 + ["rejected"] * (len(PROGRAMS) - 6)


@pytest.mark.parametrize("items", [(), (REAL,), (REAL, REAL), (TupleType((REAL, REAL)), REAL),
                                   (TupleType(()), TupleType((TupleType((REAL,)), REAL)))])
def test_tuple_type_is_the_dataclass(items: tuple[Type, ...]) -> None:
    built, reference = tuple_type(items), TupleType(items)
    assert built == reference and type(built) is TupleType
    assert (built.scalars, built.nodes, built.show()) == (reference.scalars, reference.nodes,
                                                          reference.show())


def test_tuple_types_in_the_typing_have_their_sizes() -> None:
    typing = check_program(parse_program(Source(PROGRAMS[3])))
    tuples = [t for m in typing.expr_types.values() for t in m.nonlin if isinstance(t, TupleType)]
    assert tuples and all((t.scalars, t.nodes) == (2, 3) for t in tuples)
