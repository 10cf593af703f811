"""Run-time checks of the rapier's invariants, for when the types are bypassed (``Any``, casts,
terms built from raw integers). On when ``FOIL_CHECKS=1`` (the test suite sets it); the checked
entry points are the public ``calculi.foil.substitute`` and ``calculi.foil.subst``.

* well-scoped: every free name of ``e`` is in Θ (binders may repeat outer raw names);
* SIa: Θ_o ⊇ FV(σ x) for every x in dom σ;
* SIb: Θ_o ⊇ FV(e) \\ dom σ.
"""

from __future__ import annotations

from typing import Any

from calculi.core.errors import ScopeError
from calculi.foil.core import Scope, Substitution, member, subst_items
from calculi.foil.names import spell
from calculi.foil.syntax import Expr, free_occurrences


def check_well_scoped(term: Expr[Any], scope: Scope[Any], what: str = "term") -> None:
    """Raise ``ScopeError`` at the first free name of ``term`` that is not in Θ."""
    for v in free_occurrences(term):
        if not member(v.name, scope):
            raise ScopeError(f"{what}: the free name {spell(v.name)} is not in the in-scope set", v.span)  # type: ignore[arg-type]


def check_substitution(scope: Scope[Any], subst: Substitution[Any, Any, Any], term: Expr[Any]) -> None:
    """The rapier's substitution invariant (GHC Note [The substitution invariant])."""
    domain = 0
    for name, value in subst_items(subst):
        check_well_scoped(value, scope, f"SIa violated by the image of {spell(name)}")  # type: ignore[arg-type]
        domain |= 1 << name  # type: ignore[operator]
    outside: Any = scope | domain  # type: ignore[operator]
    check_well_scoped(term, outside, "SIb violated")
