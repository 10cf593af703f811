"""α-equivalence on the foil, renaming one side only where the binders disagree.

Both terms are walked together in a common scope Θ (their free names, then the binders passed).
Each side has a renaming ρ (a foil ``Substitution`` of names), and at a pair of binders
``λx. e₁`` / ``λy. e₂`` a common name ``c`` is chosen:

    c = x   if x ∉ Θ        SameNameBinders when y = x, else RenameRightNameBinder (y becomes x)
    c = y   if y ∉ Θ        RenameLeftNameBinder (x becomes y)
    c = fresh for Θ          RenameBothBinders
    ρ₁' = ρ₁[x ↦ c],  ρ₂' = ρ₂[y ↦ c],  Θ' = Θ ∪ {c}

(the cases of free-foil's ``unifyNameBinders``; ρ drops x when c = x, the rapier's delete), and
two names are equal when ρ₁(x) = ρ₂(y). This is free-foil's ``alphaEquiv`` (rename only one side,
only when the binders differ), made iterative for deep terms; free names compare by their raw
names. It is checked against de Bruijn equality (proofs/foil/normalisation.py, P10), on pairs that differ only
in their binding structure (``strategies.alpha_pairs``).
"""

from __future__ import annotations

from typing import Any

from calculi.foil.core import (
    Substitution,
    add_rename,
    extend_scope,
    fresh_id,
    identity_subst,
    lookup_subst,
    member,
    name_of,
    unsafe_binder,
    unsafe_evidence,
)
from calculi.foil.rules import fired
from calculi.foil.scopes import extend, union
from calculi.foil.syntax import App, Expr, Lam, Var, scope_of

_Names = Substitution[Any, Any, Any]


def _same(name: Any) -> Any:
    return name


def unify_binders(x: Any, y: Any, theta: Any) -> tuple[Any, Any]:
    """The names the left binder ``x`` and the right binder ``y`` take in Θ: one common name."""
    if not member(name_of(x), theta):
        fired("SameNameBinders" if x == y else "RenameRightNameBinder")
        return x, x
    if not member(name_of(y), theta):
        fired("RenameLeftNameBinder")
        return y, y
    fired("RenameBothBinders")
    common: Any = unsafe_binder(fresh_id(theta))
    return common, common


def alpha_equiv(left: Expr[Any], right: Expr[Any]) -> bool:
    """Are the two terms equal up to the names of their binders?"""
    scope: Any = union(scope_of(left), scope_of(right))  # type: ignore[arg-type]
    start: _Names = identity_subst()
    stack: list[tuple[Expr[Any], Expr[Any], _Names, _Names, Any]] = [(left, right, start, start, scope)]
    while stack:
        a, b, rho_a, rho_b, theta = stack.pop()
        if isinstance(a, Var) and isinstance(b, Var):
            fired("α-var")
            if lookup_subst(rho_a, a.name, _same) != lookup_subst(rho_b, b.name, _same):
                return False
        elif isinstance(a, App) and isinstance(b, App):
            fired("α-app")
            stack.append((a.arg, b.arg, rho_a, rho_b, theta))
            stack.append((a.fun, b.fun, rho_a, rho_b, theta))
        elif isinstance(a, Lam) and isinstance(b, Lam):
            x, y = a.binder, b.binder
            new_x, new_y = unify_binders(x, y, theta)
            evidence: Any = unsafe_evidence()
            rho_a = add_rename(rho_a, x, evidence, new_x, _same)
            rho_b = add_rename(rho_b, y, evidence, new_y, _same)
            inner = extend_scope(new_x, theta) if new_x == new_y else extend(extend(theta, new_x), new_y)
            stack.append((a.body, b.body, rho_a, rho_b, inner))
        else:
            fired("α-mismatch")
            return False
    return True
