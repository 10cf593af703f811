"""The erased scope (``scopes.py``): bit sets for small names, a persistent trie of fixed height
above ``WIDE``, checked against Python sets, through the core's operations and the raw integer
ones, at names crowded at every boundary of the representation (``strategies.wide_names``)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from calculi.core.errors import FuelExhausted, ScopeError
from calculi.foil import core, scopes
from calculi.foil.nbe import normalize_by_evaluation
from calculi.foil.normalize import normalize
from calculi.foil.scopes import LIMIT, WIDE
from calculi.foil.strategies import open_terms, substitutions, wide_names
from calculi.foil.substitution import substitute
from calculi.foil.syntax import App, Lam, Var, free_names, free_occurrences

# small names, names around WIDE, LIMIT and the trie's leaf and node boundaries, and any name below LIMIT
names = st.one_of(st.integers(0, 40_000), wide_names())
# the same below 2²³ (a bit set of them is at most 1 MiB): the boundaries of leaves and of the two
# lowest node levels
bit_set_names = wide_names().map(lambda n: n % (1 << 23))


def build(order: list[int]) -> tuple[Any, set[int]]:
    scope: Any = core.empty_scope()
    model: set[int] = set()
    for name in order:
        if name not in model:
            scope = core.extend_scope(core.unsafe_binder(name), scope)
            model.add(name)
    return scope, model


@given(st.lists(names, max_size=30), st.lists(names, max_size=10))
def test_scope_is_its_set(order: list[int], probes: list[int]) -> None:
    scope, model = build(order)
    assert isinstance(scope, int) == all(n < WIDE for n in model)
    for name in [*order, *probes]:
        assert core.member(core.unsafe_name(name), scope) == (name in model)
        assert bool(scope >> name & 1) == (name in model)
    assert core.fresh_id(scope) == max(model, default=-1) + 1
    assert scopes.names(scope) == sorted(model)
    if max(model, default=0) < 1 << 16:  # a bit set of larger names is slow to build in the test
        bits = sum(1 << n for n in model)
        assert core.unsafe_scope(bits) == scope == scopes.from_bits(bits)
        assert hash(scopes.from_bits(bits)) == hash(scope)


@given(st.lists(names, max_size=20), names)
def test_extension_is_persistent(order: list[int], name: int) -> None:
    scope, model = build(order)
    grown = core.extend_if_fresh(core.unsafe_binder(name), scope)
    if name in model:
        assert grown is None
        return
    assert scopes.names(grown) == sorted(model | {name})
    assert scopes.names(scope) == sorted(model)


@given(st.lists(names, max_size=15), st.lists(names, max_size=15), st.integers(0, WIDE - 1))
def test_union_and_low_bits(left: list[int], right: list[int], small: int) -> None:
    a, sa = build(left)
    b, sb = build(right)
    assert scopes.names(scopes.union(a, b)) == sorted(sa | sb)
    assert scopes.names(a | 1 << small) == sorted(sa | {small})
    assert scopes.names(1 << small | a) == sorted(sa | {small})


def shifted(term: Any, offset: int) -> Any:
    """The same term with every name moved up by ``offset`` (so its scopes become wide)."""
    if isinstance(term, Var):
        return Var(term.name + offset)
    if isinstance(term, App):
        return App(shifted(term.fun, offset), shifted(term.arg, offset))
    return Lam(term.binder + offset, shifted(term.body, offset), term.hint)


def nameless(term: Any, offset: int, env: tuple[int, ...] = ()) -> object:
    """The term with bound names as de Bruijn indices and free ones moved down by ``offset``:
    an oracle for α-equivalence that uses no scope (``alpha_equiv`` runs on scopes itself)."""
    if isinstance(term, Var):
        for index, name in enumerate(reversed(env)):
            if name == term.name:
                return index
        return ("free", term.name - offset)
    if isinstance(term, App):
        return (nameless(term.fun, offset, env), nameless(term.arg, offset, env))
    return ("λ", nameless(term.body, offset, (*env, term.binder)))


@given(open_terms(max_size=20), st.sampled_from([WIDE, 3_000_000]))
def test_normal_forms_with_wide_scopes(term: Any, offset: int) -> None:
    """The normalisers agree on a term and its copy with every name at or above ``WIDE``: the
    wide path of the binder step (clash test, fresh name, extension) answers as the bit sets do."""
    try:
        small = normalize(term, 2_000)
    except FuelExhausted:
        return
    wide = shifted(term, offset)
    assert free_names(wide) == {name + offset for name in free_names(term)}
    assert nameless(normalize(wide, 2_000), offset) == nameless(small, 0)
    assert nameless(normalize_by_evaluation(wide, 100_000), offset) == nameless(small, 0)


@given(open_terms(max_size=30))
def test_free_names_is_the_free_occurrences(term: Any) -> None:
    assert free_names(term) == {v.name for v in free_occurrences(term)}


@given(substitutions(), st.sampled_from([WIDE, 3_000_000]))
def test_substitution_with_wide_scopes(case: Any, offset: int) -> None:
    """S(Θ, σ, e) on a case with clashes (renaming and the delete), with every name moved above
    ``WIDE``, is the small case's result moved up."""
    theta_o, sigma, _, term = case
    small = substitute(scopes.from_names(theta_o), sigma, term)
    wide_sigma = {x + offset: shifted(v, offset) for x, v in sigma.items()}
    wide = substitute(scopes.from_names(x + offset for x in theta_o), wide_sigma, shifted(term, offset))
    assert nameless(wide, offset) == nameless(small, 0)


@given(st.lists(bit_set_names, max_size=30), st.lists(names, max_size=10))
def test_a_bit_set_converts_to_the_scope_its_names_build(members: list[int], probes: list[int]) -> None:
    """``unsafe_scope`` of an ``int`` (λp and Linear A hand the foil bit sets) builds the trie a leaf at
    a time; it must hold the names that extending one by one gives, and extend the same way after."""
    bits = sum(1 << n for n in set(members))
    converted, (built, model) = scopes.from_bits(bits), build(members)
    assert scopes.names(converted) == sorted(model) == scopes.names(built)
    assert converted.bit_length() == built.bit_length()
    for n in probes:
        assert converted >> n & 1 == (n in model)
        assert scopes.names(scopes.extend(converted, n)) == sorted(model | {n})


@pytest.mark.parametrize("top", [(1 << 27) - 1, 1 << 27, (1 << 27) + 1])
def test_a_bit_set_reaching_the_top_node_level_converts(top: int) -> None:
    members = [0, WIDE, (1 << 22) - 1, top]
    converted = scopes.from_bits(sum(1 << n for n in members))
    assert scopes.names(converted) == members
    assert [converted >> n & 1 for n in (top - 1, top, top + 1)] == [top - 1 in members, 1, 0]


def test_a_name_beyond_the_name_space_is_a_scope_error() -> None:
    scope = core.extend_scope(core.unsafe_binder(LIMIT - 1), core.empty_scope())
    assert core.fresh_id(scope) == LIMIT
    assert scope >> LIMIT & 1 == 0
    with pytest.raises(ScopeError, match="beyond the name space"):
        core.extend_scope(core.unsafe_binder(core.fresh_id(scope)), scope)
