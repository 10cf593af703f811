"""``core.under_binder`` is exactly with_refreshed; add_rename; extend_scope, fused; the λ rows
``core.lam_row`` / ``core.subst_row`` are that step (with ``fresh_unspelled``) and the recursion;
and ``core.machine`` is the head loop written with the typed operations on σ."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from calculi.core.errors import FuelExhausted
from calculi.core.trace import Fuel
from calculi.foil import core
from calculi.foil.normalize import head_normal
from calculi.foil.strategies import open_terms
from calculi.foil.substitution import substitute
from calculi.foil.syntax import App, Lam, Var, scope_of

scopes = st.sets(st.integers(0, 40), max_size=12).map(lambda s: sum(1 << i for i in s))
substs = st.dictionaries(st.integers(0, 40), st.integers(100, 200), max_size=6)


@given(scope=scopes, subst=substs, binder=st.integers(0, 40))
def test_fused_step_is_the_composition(scope: Any, subst: Any, binder: Any) -> None:
    def inject(name: int) -> object:
        return ("var", name)

    def fused(fresh: Any, inner_scope: Any, inner: Any) -> object:
        return fresh, inner_scope, inner

    def composed(fresh: Any, evidence: Any) -> object:
        inner = core.add_rename(subst, binder, evidence, fresh, inject)
        return fresh, core.extend_scope(fresh, scope), inner

    assert core.under_binder(scope, subst, binder, inject, fused) == core.with_refreshed(
        scope, binder, composed
    )
    assert subst == dict(subst)  # σ itself is never mutated


@given(scope=scopes, binder=st.integers(0, 40))
def test_extend_if_fresh(scope: Any, binder: Any) -> None:
    extended = core.extend_if_fresh(binder, scope)
    if core.member(binder, scope):
        assert extended is None
    else:
        assert extended == core.extend_scope(binder, scope)


@given(scope=scopes, subst=substs, binder=st.integers(0, 40), hint=st.none() | st.integers(0, 40),
       payload=st.integers())
def test_lam_rows_are_the_step_then_the_recursion(
    scope: Any, subst: Any, binder: Any, hint: Any, payload: Any
) -> None:
    def inject(name: int) -> object:
        return ("var", name)

    def build(fresh: Any, body: Any, kept: Any) -> object:
        return fresh, body, kept

    def into(inner_scope: Any, inner: Any, body: Any, *rest: Any) -> object:
        return inner_scope, inner, body, rest

    def composed(fresh: Any, evidence: Any) -> tuple[Any, Any]:
        return fresh, core.add_rename(subst, binder, evidence, fresh, inject)

    term = Lam(binder, "body", hint)  # type: ignore[arg-type]
    fresh, inner = core.with_refreshed_unspelled(scope, binder, composed)
    kept = binder if hint is None else hint
    inner_scope = core.extend_scope(fresh, scope)
    row = core.lam_row(build, inject, into)
    assert row(scope, subst, term, [], payload) == (fresh, (inner_scope, inner, "body", (payload,)), kept)
    plain = core.subst_row(build, inject, into)
    assert plain(scope, subst, term) == (fresh, (inner_scope, inner, "body", ()), kept)
    assert subst == dict(subst)


def typed_head_normal(scope: Any, subst: Any, term: Any, fuel: Fuel) -> Any:
    """The machine's loop through the core's typed operations on σ, one call each."""
    args: list[Any] = []
    while True:
        if isinstance(term, App):
            args.append(substitute(scope, subst, term.arg))
            term = term.fun
        elif isinstance(term, Lam):
            if not args:
                return subst, term, args
            fuel.tick(term.span)
            core.extend_subst_owned(subst, term.binder, args.pop())
            term = term.body
        else:
            value = core.lookup_subst_or(subst, term.name, None)
            if value is None:
                return subst, term, args
            subst, term = core.identity_subst(), value


@given(open_terms(max_size=30), st.integers(0, 12))
def test_machine_is_the_loop_of_typed_operations(term: Any, fuel: int) -> None:
    outcomes = []
    for run in (head_normal, typed_head_normal, core.machine(App, Lam, substitute)):
        try:
            sigma, head, args = run(scope_of(term), core.identity_subst(), term, Fuel(fuel))
            outcomes.append((sigma, head, args))
        except FuelExhausted:
            outcomes.append(None)
    assert outcomes[0] == outcomes[1] == outcomes[2]
    assert outcomes[0] is None or isinstance(outcomes[0][1], Var) or not outcomes[0][2]
