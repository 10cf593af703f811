"""Terms nested 10,000 levels deep parse, print, compare and normalise without RecursionError;
a diverging term ends in FuelExhausted."""

from __future__ import annotations

from typing import Any

import pytest

from calculi.core.errors import FuelExhausted
from calculi.foil import (
    App,
    Lam,
    Var,
    alpha_equiv,
    from_debruijn,
    intern,
    normalize,
    parse,
    pretty,
    scope_of,
    step,
    to_debruijn,
)
from calculi.foil.core import unsafe_binder, unsafe_name
from calculi.foil.deep import room

DEPTH = 10_000


def _name(spelling: str) -> Any:
    return unsafe_name(intern(spelling))


def _binder(spelling: str) -> Any:
    return unsafe_binder(intern(spelling))


def test_binder_chain_parses_prints_and_normalises() -> None:
    text = "".join(f"\\x{i}." for i in range(DEPTH)) + "x0"
    term = parse(text)
    reparsed = parse(pretty(term))
    assert reparsed == term
    assert hash(reparsed) == hash(term)
    assert normalize(term) == term
    assert alpha_equiv(term, from_debruijn(to_debruijn(term), scope_of(term)))


def test_nested_parentheses_parse() -> None:
    term = parse("(" * DEPTH + r"\y.y" + ")" * DEPTH + " z", free=True)
    assert pretty(normalize(term)) == "z"


def test_redex_chain_normalises_and_steps() -> None:
    ident: Any = Lam(_binder("x"), Var(_name("x")))
    chain: Any = Var(_name("z"))
    for _ in range(DEPTH):
        chain = App(ident, chain)
    assert normalize(chain) == Var(_name("z"))
    first = step(chain)
    assert first is not None and first.rule == "β" and first.term == chain.arg
    assert len(pretty(chain, width=None)) > DEPTH


def test_deep_arguments_normalise_under_a_spine() -> None:
    inner: Any = App(Lam(_binder("a"), Var(_name("a"))), Var(_name("x")))
    expected: Any = Var(_name("x"))
    for _ in range(DEPTH):
        inner = App(Var(_name("g")), inner)
        expected = App(Var(_name("g")), expected)
    term = App(Var(_name("f")), inner)
    out = normalize(term)
    assert out == App(Var(_name("f")), expected)
    assert pretty(out, width=None) == "f" + " (g" * DEPTH + " x" + ")" * DEPTH


def test_deep_substitution_renames_under_every_binder() -> None:
    body: Any = Var(_name("x"))
    for i in reversed(range(DEPTH)):
        body = Lam(_binder(f"y{i % 3}"), body)
    term = App(Lam(_binder("x"), body), Var(_name("y0")))
    out = normalize(term)
    expected: Any = Var(_name("y0"))
    for _ in range(DEPTH):
        expected = Lam(_binder("w"), expected)
    assert alpha_equiv(out, expected)
    assert not alpha_equiv(out, body)


def test_omega_runs_out_of_fuel_with_a_clear_message() -> None:
    omega = parse(r"(\x. x x) (\x. x x)")
    with pytest.raises(FuelExhausted) as info:
        normalize(omega, 10_000)
    assert "no result after 10,000 steps" in info.value.render()
    assert info.value.span is not None


def test_room_restores_the_recursion_limit() -> None:
    import sys

    before = sys.getrecursionlimit()
    with room():
        assert sys.getrecursionlimit() >= 100_000
    assert sys.getrecursionlimit() == before
