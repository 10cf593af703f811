"""Seeded bugs of the rapier, each one a small change the theorem suite must catch.

These are the rapier's classic mistakes (reference note §1): forgetting the delete at a binder
that keeps its name, never renaming a binder that clashes with Θ, not extending Θ under a
binder, and applying σ twice. Each patches one name of ``calculi.foil.substitution`` (or one
entry of its rule table) while active; ``python -m proofs --paper foil --mutants`` must kill all.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from calculi.core.mutants import Mutant, patch, patch_entry
from calculi.foil import substitution
from calculi.foil.core import add_rename
from calculi.foil.syntax import Var


def _add_rename_without_delete(subst: Any, binder: Any, evidence: Any, new: Any, inject: Any) -> Any:
    """σ[x ↦ x'] always, even when x' = x: an outer entry for x survives under the binder."""
    table = dict(subst)
    if new != binder:
        return add_rename(subst, binder, evidence, new, inject)
    return table


def _with_refreshed_never_renaming(scope: Any, name: Any, k: Callable[[Any, Any], Any]) -> Any:
    """Keep the binder's raw name even when it is already in Θ (the capture bug)."""
    return k(name, object())


def _extend_scope_not(binder: Any, scope: Any) -> Any:
    """Θ' = Θ: the binder is not added to the in-scope set."""
    return scope


def _subst_var_twice(scope: Any, subst: Any, term: Any) -> Any:
    """S(Θ, σ, x) = S(Θ, σ, σ(x)): σ applied again to what it returned."""
    value = substitution.subst_var(scope, subst, term)
    return value if value is term else substitution.substitute(scope, subst, value)


MUTANTS = [
    Mutant(
        "foil.no_delete",
        "foil",
        "no delete at binders: a binder that keeps its name does not drop σ's entry for it",
        lambda: patch(substitution, "add_rename", _add_rename_without_delete),
    ),
    Mutant(
        "foil.no_rename_on_clash",
        "foil",
        "no renaming when a binder is already in scope (with_refreshed always keeps the name)",
        lambda: patch(substitution, "with_refreshed", _with_refreshed_never_renaming),
    ),
    Mutant(
        "foil.scope_not_extended",
        "foil",
        "the in-scope set is not extended under a binder",
        lambda: patch(substitution, "extend_scope", _extend_scope_not),
    ),
    Mutant(
        "foil.subst_twice",
        "foil",
        "substitution applied twice at a name",
        lambda: patch_entry(substitution.SUBST_RULES, Var, _subst_var_twice),
    ),
]
