"""What a term looks like: the predicates by which ``python -m proofs --coverage`` shows what the
generators produce (a λ in a substituted term, a redex under a binder, a binder clashing with a
name in scope, a pair of terms differing only in how they bind). All iterative."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from calculi.foil.debruijn import to_debruijn
from calculi.foil.syntax import App, Expr, Lam, Var, free_names

Term = Expr[Any]


def subterms(term: Term) -> Iterator[Term]:
    stack = [term]
    while stack:
        t = stack.pop()
        yield t
        if isinstance(t, App):
            stack += [t.arg, t.fun]
        elif isinstance(t, Lam):
            stack.append(t.body)


def binders(term: Term) -> set[int]:
    return {t.binder for t in subterms(term) if isinstance(t, Lam)}  # type: ignore[misc]


def has_lam(term: Term) -> bool:
    return any(isinstance(t, Lam) for t in subterms(term))


def is_redex(term: Term) -> bool:
    return isinstance(term, App) and isinstance(term.fun, Lam)


def is_normal(term: Term) -> bool:
    return not any(is_redex(t) for t in subterms(term))


def redex_under_binder(term: Term) -> bool:
    """Is there a redex inside the body of a λ?"""
    return any(isinstance(t, Lam) and not is_normal(t.body) for t in subterms(term))


def shadows(term: Term, scope: set[int] | frozenset[int] = frozenset()) -> bool:
    """Does a binder repeat a name of ``scope`` or of an enclosing binder?"""
    stack: list[tuple[Term, frozenset[int]]] = [(term, frozenset(scope))]
    while stack:
        t, outer = stack.pop()
        if isinstance(t, App):
            stack += [(t.fun, outer), (t.arg, outer)]
        elif isinstance(t, Lam):
            binder: int = t.binder  # type: ignore[assignment]
            if binder in outer:
                return True
            stack.append((t.body, outer | {binder}))
    return False


def same_shape(left: Term, right: Term) -> bool:
    """Equal up to every name, bound or free: the same tree of constructors."""
    stack = [(left, right)]
    while stack:
        a, b = stack.pop()
        if isinstance(a, App) and isinstance(b, App):
            stack += [(a.fun, b.fun), (a.arg, b.arg)]
        elif isinstance(a, Lam) and isinstance(b, Lam):
            stack.append((a.body, b.body))
        elif not (isinstance(a, Var) and isinstance(b, Var)):
            return False
    return True


def alpha_by_debruijn(left: Term, right: Term) -> bool:
    context = sorted(free_names(left) | free_names(right))
    return to_debruijn(left, context) == to_debruijn(right, context)


def one_side_fresh(left: Term, right: Term) -> bool:
    """Is there a pair of corresponding binders of which exactly one is fresh for the names in
    scope there (the free names of both terms, and the binders passed on both sides)?"""
    names = frozenset(free_names(left) | free_names(right))
    stack: list[tuple[Term, Term, frozenset[int]]] = [(left, right, names)]
    while stack:
        a, b, theta = stack.pop()
        if isinstance(a, App) and isinstance(b, App):
            stack += [(a.fun, b.fun, theta), (a.arg, b.arg, theta)]
        elif isinstance(a, Lam) and isinstance(b, Lam):
            x: int = a.binder  # type: ignore[assignment]
            y: int = b.binder  # type: ignore[assignment]
            if (x in theta) != (y in theta):
                return True
            stack.append((a.body, b.body, theta | {x, y}))
    return False


__all__ = ["alpha_by_debruijn", "binders", "has_lam", "is_normal", "is_redex",
           "one_side_fresh", "redex_under_binder", "same_shape", "shadows", "subterms"]
