"""Seeded bugs of the rapier, each one a small change the theorem suite must catch.

These are the rapier's classic mistakes (reference note §1): forgetting the delete at a binder
that keeps its name, never renaming a binder that clashes with Θ, not extending Θ under a
binder, and applying σ twice; and an α-equivalence check that lets two binders keep their own
name whenever one of them is fresh (``λx. x`` / ``λy. x`` then look equal); and NbE reading a
closure back under its own binder name when that name is already in scope. Each patches one
name of ``calculi.foil.substitution``, ``calculi.foil.alpha`` or ``calculi.foil.nbe`` (or one entry
of a rule table) while active; ``python -m proofs --paper foil --mutants`` must kill all.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from calculi.core.mutants import Mutant, patch, patch_entry
from calculi.foil import alpha, nbe, substitution
from calculi.foil.core import fresh_unspelled
from calculi.foil.scopes import extend as extend_raw
from calculi.foil.syntax import Var


def _under_binder(*, delete: bool = True, rename: bool = True, extend: bool = True) -> Callable[..., Any]:
    """``core.under_binder_with`` with one of its three duties dropped."""

    def step(scope: Any, subst: Any, binder: Any, inject: Any, k: Any, payload: Any) -> Any:
        table = dict(subst)
        if rename and scope >> binder & 1:
            fresh = fresh_unspelled(scope)
            table[binder] = inject(fresh)
        else:
            fresh = binder
            if delete:
                table.pop(binder, None)
        return k(fresh, extend_raw(scope, fresh) if extend else scope, table, payload)

    return step


def _subst_var_twice(scope: Any, subst: Any, term: Any) -> Any:
    """S(Θ, σ, x) = S(Θ, σ, σ(x)): σ applied again to what it returned."""
    value = substitution.subst_var(scope, subst, term)
    return value if value is term else substitution.substitute(scope, subst, value)


_unify_binders = alpha.unify_binders


def _unify_slips_when_one_is_fresh(x: Any, y: Any, theta: Any) -> Any:
    """``alpha.unify_binders``, except that when either binder is fresh for Θ both take the left
    one's name, fresh or not (so ``λx. x`` and ``λy. x`` look equal: the free x is captured)."""
    if not theta >> x & 1 or not theta >> y & 1:
        return x, x
    return _unify_binders(x, y, theta)


def _never_refreshed(scope: Any, name: Any, k: Any) -> Any:
    """``with_refreshed_unspelled`` that keeps the name even when it clashes with Θ."""
    return k(name, None)


MUTANTS = [
    Mutant(
        "foil.no_delete",
        "foil",
        "no delete at binders: a binder that keeps its name does not drop σ's entry for it",
        lambda: patch(substitution, "under_binder", _under_binder(delete=False)),
    ),
    Mutant(
        "foil.no_rename_on_clash",
        "foil",
        "no renaming when a binder is already in scope (the binder always keeps its name)",
        lambda: patch(substitution, "under_binder", _under_binder(rename=False)),
    ),
    Mutant(
        "foil.scope_not_extended",
        "foil",
        "the in-scope set is not extended under a binder",
        lambda: patch(substitution, "under_binder", _under_binder(extend=False)),
    ),
    Mutant(
        "foil.subst_twice",
        "foil",
        "substitution applied twice at a name",
        lambda: patch_entry(substitution.SUBST_RULES, Var, _subst_var_twice),
    ),
    Mutant(
        "foil.alpha_one_side_fresh",
        "foil",
        "α-equivalence slips when only one side's binder is fresh: both take the left binder's name",
        lambda: patch(alpha, "unify_binders", _unify_slips_when_one_is_fresh),
    ),
    Mutant(
        "foil.nbe_no_refresh",
        "foil",
        "NbE's read-back reuses a closure's binder name without refreshing it on a clash with Θ",
        lambda: patch(nbe, "with_refreshed_unspelled", _never_refreshed),
        theorems="foil.nbe",
    ),
]
