"""Seeded bugs of the rapier, each one a small change the theorem suite must catch.

These are the rapier's classic mistakes (reference note §1): forgetting the delete at a binder
that keeps its name, never renaming a binder that clashes with Θ, not extending Θ under a
binder, and applying σ twice; and an α-equivalence check that lets two binders keep their own
name whenever one of them is fresh (``λx. x`` / ``λy. x`` then look equal); NbE reading a
closure back under its own binder name when that name is already in scope; and a scope's trie
that reads the last name of each leaf in the next leaf (an off-by-one in the leaf index). Each
patches one name of ``calculi.foil.alpha``, ``nbe`` or ``scopes``, or the entries of the rule
tables for one rule (the λ rows of substitution and of the normaliser together) while active;
``python -m proofs --paper foil --mutants`` must kill all.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

from calculi.core.mutants import Mutant, patch, patch_entry
from calculi.foil import alpha, nbe, scopes, substitution
from calculi.foil.core import fresh_unspelled, unsafe_name
from calculi.foil.normalize import NF_RULES, nf
from calculi.foil.scopes import extend as extend_raw
from calculi.foil.syntax import Lam, Var


def _step(scope: Any, subst: Any, binder: Any, delete: bool, rename: bool, extend: bool) -> Any:
    """The rapier's step at a binder with one of its three duties dropped: ``(x', Θ', σ')``."""
    table = dict(subst)
    if rename and scope >> binder & 1:
        fresh = fresh_unspelled(scope)
        table[binder] = Var(unsafe_name(fresh))
    else:
        fresh = binder
        if delete:
            table.pop(binder, None)
    return fresh, extend_raw(scope, fresh) if extend else scope, table


def _hint(term: Any) -> Any:
    return term.binder if term.hint is None else term.hint


@contextmanager
def _lam_rows(*, delete: bool = True, rename: bool = True, extend: bool = True) -> Iterator[None]:
    """Both λ rows (substitution's and the normaliser's, ``core.subst_row`` and ``core.lam_row``)
    with the same duty of the step dropped."""

    def subst_lam(scope: Any, subst: Any, term: Any) -> Any:
        fresh, inner, table = _step(scope, subst, term.binder, delete, rename, extend)
        return Lam(fresh, substitution.substitute(inner, table, term.body), _hint(term))

    def nf_lam(scope: Any, subst: Any, term: Any, args: Any, fuel: Any) -> Any:
        fresh, inner, table = _step(scope, subst, term.binder, delete, rename, extend)
        return Lam(fresh, nf(inner, table, term.body, fuel), _hint(term))

    with ExitStack() as stack:
        stack.enter_context(patch_entry(substitution.SUBST_RULES, Lam, subst_lam))
        stack.enter_context(patch_entry(NF_RULES, Lam, nf_lam))
        yield


def _subst_var_twice(scope: Any, subst: Any, term: Any) -> Any:
    """S(Θ, σ, x) = S(Θ, σ, σ(x)): σ applied again to what it returned."""
    value = substitution.subst_var(scope, subst, term)
    return value if value is term else substitution.substitute(scope, subst, value)


def _member_leaf_off_by_one(root: Any, name: int) -> int:
    """``scopes._member`` with the leaf found from ``name + 1``: right except at the last name of
    a leaf, which is looked up in the next leaf."""
    leaf = name + 1
    node = root[leaf >> scopes.LEAF_BITS + scopes.FAN_BITS * (scopes.LEVELS - 1)]
    for level in range(1, scopes.LEVELS):
        node = node[leaf >> scopes.LEAF_BITS + scopes.FAN_BITS * (scopes.LEVELS - 1 - level) & scopes.FAN - 1]
    return node >> (name & (1 << scopes.LEAF_BITS) - 1)  # type: ignore[no-any-return]


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
        lambda: _lam_rows(delete=False),
    ),
    Mutant(
        "foil.no_rename_on_clash",
        "foil",
        "no renaming when a binder is already in scope (the binder always keeps its name)",
        lambda: _lam_rows(rename=False),
    ),
    Mutant(
        "foil.scope_not_extended",
        "foil",
        "the in-scope set is not extended under a binder",
        lambda: _lam_rows(extend=False),
    ),
    Mutant(
        "foil.scope_leaf_off_by_one",
        "foil",
        "the scope's trie looks the last name of each leaf up in the next leaf",
        lambda: patch(scopes, "_member", _member_leaf_off_by_one),
        theorems="foil.scope",
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
