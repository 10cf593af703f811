"""Capture-avoiding substitution on the foil: the rapier, with its invariants in the types.

``substitute(Θ, σ, e)`` follows free-foil's canonical version. ``Θ : Scope[O]`` is the in-scope
set of the output, ``σ : Substitution[Expr[O], I, O]`` maps names of the input scope ``I`` to
output terms, ``e : Expr[I]``:

    S(Θ, σ, x)       = σ(x)                         (x itself when σ leaves it alone)
    S(Θ, σ, e₁ e₂)   = S(Θ, σ, e₁) S(Θ, σ, e₂)
    S(Θ, σ, λx. e)   = λx'. S(Θ ∪ {x'}, σ', e)      x' = x if x ∉ Θ, else fresh for Θ
                                                     σ' = σ \\ {x} if x' = x, else σ[x ↦ x']

(the λ row is ``core.subst_row``: the rapier's step at a binder (``with_refreshed_unspelled``,
``add_rename`` and ``extend_scope``) and the recursion into the body, made in the trusted core so
that the binder never leaves it; the normaliser's machine has its own row made the same way,
``core.lam_row``).

A binder keeps its hint (the spelled name it was renamed from, or its own name), so that the
printer shows a renamed ``y`` as ``y1`` (``syntax.display_names``).

The types force the rapier's invariants: the range of σ lives in ``O``, so Θ covers FV(range σ)
(SIa); names of ``e`` live in ``I``, so they cannot be used without going through σ (SIb); the
body of a λ is only reachable in a function generic in its scope ``L``, so the binder cannot be
forgotten. The rules are a table keyed by constructor; each recursion is bounded by the depth of
the term, and public entry points run under ``deep`` (see ``deep.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from calculi.foil.core import (
    DExt,
    NameBinder,
    Scope,
    Substitution,
    add_rename,
    extend_if_fresh,
    extend_scope,
    identity_subst,
    is_identity,
    lookup_subst_or,
    name_of,
    singleton_subst,
    subst_row,
    with_refreshed_unspelled,
)
from calculi.foil.syntax import App, Expr, Lam, Var

N = TypeVar("N")
L = TypeVar("L")
I = TypeVar("I")  # noqa: E741
O = TypeVar("O")  # noqa: E741
O2 = TypeVar("O2")
R = TypeVar("R")
R_co = TypeVar("R_co", covariant=True)


def substitute(scope: Scope[O], subst: Substitution[Expr[O], I, O], term: Expr[I]) -> Expr[O]:
    """S(Θ, σ, e): apply σ to ``term`` once, renaming binders only where they clash with Θ.

    When σ is the identity the term is returned as it is (Dex's identity-substitution coercion):
    every name of ``I`` is then a name of ``O``, and a binder that repeats a name of Θ is still a
    correct binder (only scopes must be distinct, not terms)."""
    if is_identity(subst):
        return term  # type: ignore[return-value]
    return apply(scope, subst, term)


def apply(scope: Scope[O], subst: Substitution[Expr[O], I, O], term: Expr[I]) -> Expr[O]:
    """One rule of the table, by constructor (σ is known not to be the identity here)."""
    rule: Callable[[Scope[O], Substitution[Expr[O], I, O], Any], Expr[O]] = SUBST_RULES[type(term)]
    return rule(scope, subst, term)


def subst_var(scope: Scope[O], subst: Substitution[Expr[O], I, O], term: Var[I]) -> Expr[O]:
    """S(Θ, σ, x) = σ(x), or x itself (the same node, sunk into ``O``) when σ leaves it alone."""
    unchanged: Expr[O] = term  # type: ignore[assignment]
    return lookup_subst_or(subst, term.name, unchanged)


def subst_app(scope: Scope[O], subst: Substitution[Expr[O], I, O], term: App[I]) -> Expr[O]:
    """S(Θ, σ, e₁ e₂) = S(Θ, σ, e₁) S(Θ, σ, e₂)."""
    return App(apply(scope, subst, term.fun), apply(scope, subst, term.arg))


subst_lam = subst_row(Lam, Var, substitute)
"""S(Θ, σ, λx. e) = λx'. S(Θ ∪ {x'}, σ', e): the rapier's step at a binder, the binder keeping its hint."""


SUBST_RULES: dict[type, Callable[..., Expr[Any]]] = {Var: subst_var, App: subst_app, Lam: subst_lam}


def beta(scope: Scope[N], lam: Lam[N, L], arg: Expr[N]) -> Expr[N]:
    """(λx. e) a  →β  S(Θ, [x ↦ a], e)."""
    subst: Substitution[Expr[N], L, N] = singleton_subst(lam.binder, arg)
    return substitute(scope, subst, lam.body)


class OpenK(Protocol[N, R_co]):
    """A continuation ``∀l. NameBinder n l -> Scope l -> Expr l -> r`` (generic in ``L``)."""

    def __call__(self, binder: NameBinder[N, L], scope: Scope[L], body: Expr[L], /) -> R_co: ...


def open_lam(scope: Scope[N], lam: Lam[N, L], k: OpenK[N, R]) -> R:
    """Go under ``λx. e`` in Θ with a binder fresh for Θ (Dex's ``refreshAbs``): ``x`` itself
    when ``x ∉ Θ`` (no traversal of the body), else a fresh ``x'`` and the body renamed once,
    ``S(Θ ∪ {x'}, [x ↦ x'], e)``. Terms may repeat an outer raw name (``λx. … λx. …``), so
    no "all binders are already fresh" shortcut is taken."""
    binder, body = lam.binder, lam.body
    inner_scope = extend_if_fresh(binder, scope)
    if inner_scope is not None:
        return k(binder, inner_scope, body)

    def renamed(fresh: NameBinder[N, O2], evidence: DExt[N, O2]) -> R:
        inner = extend_scope(fresh, scope)
        renaming: Substitution[Expr[O2], L, O2] = add_rename(identity_subst(), binder, evidence, fresh, Var)
        return k(fresh, inner, substitute(inner, renaming, body))

    return with_refreshed_unspelled(scope, name_of(binder), renamed)


__all__ = ["SUBST_RULES", "OpenK", "beta", "open_lam", "substitute"]
