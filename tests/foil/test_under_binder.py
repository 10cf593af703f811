"""``core.under_binder`` is exactly with_refreshed; add_rename; extend_scope, fused."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from calculi.foil import core

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
