"""Normal-order evaluation on the foil: weak-head and full normal forms.

    (λx. e) a  →β  e[x ↦ a]

``whnf`` contracts head redexes only (normal order at the head, no reduction under λ or in
arguments), iteratively along the spine. ``nf`` reaches the full β-normal form in normal order
(leftmost-outermost first), so a term with a normal form reaches it even when eager evaluation of
an argument would diverge. Every β-step spends one unit of fuel: a diverging term ends in
``FuelExhausted`` instead of hanging. All of these work in a scope Θ that contains the free names
of the term (``scope_of``), as the rapier requires.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from calculi.core.trace import DEFAULT_FUEL, Fuel
from calculi.foil.core import NameBinder, Scope, extend_if_fresh
from calculi.foil.deep import deep
from calculi.foil.substitution import beta, open_lam
from calculi.foil.syntax import App, Expr, Lam, Var, scope_of

N = TypeVar("N")
L = TypeVar("L")
L2 = TypeVar("L2")


def whnf(scope: Scope[N], term: Expr[N], fuel: Fuel) -> Expr[N]:
    """The weak-head normal form: contract the head redex until the head is a λ with no
    argument, or a name."""
    spine: list[Expr[N]] = []
    head = term
    while True:
        while isinstance(head, App):
            spine.append(head.arg)
            head = head.fun
        if spine and isinstance(head, Lam):
            fuel.tick(head.span)
            head = beta(scope, head, spine.pop())
            continue
        break
    while spine:
        head = App(head, spine.pop())
    return head


def nf(scope: Scope[N], term: Expr[N], fuel: Fuel) -> Expr[N]:
    """The β-normal form, in normal order: the weak-head normal form first, then the body of a
    λ, or the arguments of a name from left to right."""
    head = whnf(scope, term, fuel)
    rule: Callable[[Scope[N], Any, Fuel], Expr[N]] = NF_RULES[type(head)]
    return rule(scope, head, fuel)


def nf_var(scope: Scope[N], term: Var[N], fuel: Fuel) -> Expr[N]:
    return term


def nf_app(scope: Scope[N], term: App[N], fuel: Fuel) -> Expr[N]:
    """x a₁ … aₙ ↦ x nf(a₁) … nf(aₙ) (the head is a name: ``whnf`` left no redex)."""
    args: list[Expr[N]] = []
    head: Expr[N] = term
    while isinstance(head, App):
        args.append(head.arg)
        head = head.fun
    while args:
        head = App(head, nf(scope, args.pop(), fuel))
    return head


def nf_lam(scope: Scope[N], term: Lam[N, L], fuel: Fuel) -> Expr[N]:
    """λx. e ↦ λx'. nf(e), with x' fresh for Θ (x itself when it does not clash)."""
    inner_scope = extend_if_fresh(term.binder, scope)
    if inner_scope is not None:  # no clash: go under the binder as it is
        return Lam(term.binder, nf(inner_scope, term.body, fuel))

    def under(binder: NameBinder[N, L2], inner: Scope[L2], body: Expr[L2]) -> Expr[N]:
        return Lam(binder, nf(inner, body, fuel))

    return open_lam(scope, term, under)


NF_RULES: dict[type, Callable[..., Expr[Any]]] = {Var: nf_var, App: nf_app, Lam: nf_lam}


@deep
def normalize(term: Expr[N], fuel: Fuel | int | None = None) -> Expr[N]:
    """The β-normal form of ``term`` (normal order), or ``FuelExhausted`` after ``fuel`` β-steps."""
    return nf(scope_of(term), term, _fuel(fuel))


@deep
def weak_head(term: Expr[N], fuel: Fuel | int | None = None) -> Expr[N]:
    """The weak-head normal form of ``term`` (normal order at the head)."""
    return whnf(scope_of(term), term, _fuel(fuel))


def _fuel(fuel: Fuel | int | None) -> Fuel:
    if isinstance(fuel, Fuel):
        return fuel
    return Fuel(DEFAULT_FUEL if fuel is None else fuel)
