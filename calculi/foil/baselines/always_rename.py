"""Always rename (the "sledgehammer"): every binder met by a substitution gets a fresh name.

The same traversal as the rapier, except that the binder is renamed even when it does not clash
with Θ, so σ grows at every binder and no name is ever reused. Correct (the names really are
fresh for Θ) but it allocates more; a baseline for the benchmark, run by the rapier's machine
(whose step under a binder, in the normal form, still renames only on a clash).
"""

from __future__ import annotations

from typing import Any

from calculi.core.trace import Fuel
from calculi.foil.baselines import rapier
from calculi.foil.deep import deep
from calculi.foil.scopes import extend
from calculi.foil.syntax import App, Expr, Lam, Var, scope_of

Term = Expr[Any]


def substitute(scope: int, subst: dict[int, Term], term: Term) -> Term:
    """S(Θ, σ, λx. e) = λx'. S(Θ ∪ {x'}, σ[x ↦ x'], e) with x' fresh for Θ, always."""
    if not subst:
        return term
    if isinstance(term, Var):
        return subst.get(term.name, term)  # type: ignore[call-overload, no-any-return]
    if isinstance(term, App):
        return App(substitute(scope, subst, term.fun), substitute(scope, subst, term.arg))
    binder: int = term.binder  # type: ignore[attr-defined]
    fresh = scope.bit_length()
    inner = dict(subst)
    inner[binder] = Var(fresh)  # type: ignore[arg-type]
    return Lam(fresh, substitute(extend(scope, fresh), inner, term.body))  # type: ignore[arg-type, attr-defined]


@deep
def normalize(term: Term, fuel: Fuel | int = 1_000_000) -> Term:
    scope: int = scope_of(term)  # type: ignore[assignment]
    return rapier.nf(scope, {}, term, fuel if isinstance(fuel, Fuel) else Fuel(fuel), substitute)
