"""Naive named substitution: replace free occurrences, never rename. It captures, on purpose.

    [x ↦ a] y        = a if x = y, else y
    [x ↦ a] (e₁ e₂)  = [x ↦ a] e₁ [x ↦ a] e₂
    [x ↦ a] (λy. e)  = λy. e               if y = x   (the one thing it gets right: shadowing)
                     = λy. [x ↦ a] e       otherwise  (captures the free y of a)

Kept beside the foil so that the capture tests can show they have teeth: this baseline must fail
them (tests/foil/test_capture.py asserts that it does).
"""

from __future__ import annotations

from typing import Any

from calculi.core.trace import Fuel
from calculi.foil.baselines import rapier
from calculi.foil.deep import deep
from calculi.foil.syntax import App, Expr, Lam, Var, scope_of

Term = Expr[Any]


def substitute(scope: int, subst: dict[int, Term], term: Term) -> Term:
    """Textual replacement; Θ is ignored."""
    if not subst:
        return term
    if isinstance(term, Var):
        return subst.get(term.name, term)  # type: ignore[call-overload, no-any-return]
    if isinstance(term, App):
        return App(substitute(scope, subst, term.fun), substitute(scope, subst, term.arg))
    binder: int = term.binder  # type: ignore[attr-defined]
    inner = subst
    if binder in subst:
        inner = dict(subst)
        del inner[binder]
    return Lam(binder, substitute(scope, inner, term.body))  # type: ignore[arg-type, attr-defined]


def _nf(scope: int, term: Term, fuel: Fuel) -> Term:
    head = rapier.whnf(scope, term, fuel, substitute)
    if isinstance(head, Lam):
        return Lam(head.binder, _nf(scope, head.body, fuel))
    args: list[Term] = []
    while isinstance(head, App):
        args.append(head.arg)
        head = head.fun
    while args:
        head = App(head, _nf(scope, args.pop(), fuel))
    return head


@deep
def normalize(term: Term, fuel: Fuel | int = 1_000_000) -> Term:
    """Normal order with naive substitution (and no renaming under binders either)."""
    scope: int = scope_of(term)  # type: ignore[assignment]
    return _nf(scope, term, fuel if isinstance(fuel, Fuel) else Fuel(fuel))
