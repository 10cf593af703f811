"""The plain rapier: the foil's algorithm on the same terms, without the type machinery.

The functions and rule tables mirror ``substitution.py`` and ``normalize.py`` one for one, so that
the benchmark measures only what the foil adds: the scope-typed core calls (``with_refreshed``
and its continuation, ``add_rename``, ``extend_scope``, ``name_of``, evidence).

Names are raw ``int``s, Θ an ``int`` bit set, σ a ``dict``; the rapier's steps are written
inline instead of through ``with_refreshed``/``add_rename``/``extend_scope``/``sink``, with no
continuations and no evidence. It is what the foil erases to, and the benchmark's yardstick for
the paper's "no run-time overhead" (``python -m calculi.foil.bench``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from calculi.core.trace import Fuel
from calculi.foil.deep import deep
from calculi.foil.syntax import App, Expr, Lam, Var, scope_of

Term = Expr[Any]
Subst = Callable[[int, dict[int, Term], Term], Term]


def substitute(scope: int, subst: dict[int, Term], term: Term) -> Term:
    """S(Θ, σ, e) with the rapier's rename-only-on-clash and delete at binders."""
    if not subst:
        return term
    return apply(scope, subst, term)


def apply(scope: int, subst: dict[int, Term], term: Term) -> Term:
    rule: Callable[[int, dict[int, Term], Any], Term] = SUBST_RULES[type(term)]
    return rule(scope, subst, term)


def subst_var(scope: int, subst: dict[int, Term], term: Var[Any]) -> Term:
    return subst.get(term.name, term)  # type: ignore[call-overload, no-any-return]


def subst_app(scope: int, subst: dict[int, Term], term: App[Any]) -> Term:
    return App(apply(scope, subst, term.fun), apply(scope, subst, term.arg))


def subst_lam(scope: int, subst: dict[int, Term], term: Lam[Any, Any]) -> Term:
    binder: int = term.binder  # type: ignore[assignment]
    if scope >> binder & 1:
        fresh = scope.bit_length()
        inner = dict(subst)
        inner[binder] = Var(fresh)  # type: ignore[arg-type]
    else:
        fresh = binder
        inner = subst
        if binder in subst:
            inner = dict(subst)
            del inner[binder]
    return Lam(fresh, substitute(scope | 1 << fresh, inner, term.body))  # type: ignore[arg-type]


SUBST_RULES: dict[type, Callable[..., Term]] = {Var: subst_var, App: subst_app, Lam: subst_lam}


def beta(scope: int, lam: Lam[Any, Any], arg: Term, substitute: Subst = substitute) -> Term:
    return substitute(scope, {lam.binder: arg}, lam.body)  # type: ignore[dict-item]


def whnf(scope: int, term: Term, fuel: Fuel, substitute: Subst = substitute) -> Term:
    spine: list[Term] = []
    head = term
    while True:
        while isinstance(head, App):
            spine.append(head.arg)
            head = head.fun
        if spine and isinstance(head, Lam):
            fuel.tick(head.span)
            head = beta(scope, head, spine.pop(), substitute)
            continue
        break
    while spine:
        head = App(head, spine.pop())
    return head


def nf(scope: int, term: Term, fuel: Fuel, substitute: Subst = substitute) -> Term:
    head = whnf(scope, term, fuel, substitute)
    rule: Callable[[int, Any, Fuel, Subst], Term] = NF_RULES[type(head)]
    return rule(scope, head, fuel, substitute)


def nf_var(scope: int, term: Var[Any], fuel: Fuel, substitute: Subst) -> Term:
    return term


def nf_app(scope: int, term: App[Any], fuel: Fuel, substitute: Subst) -> Term:
    args: list[Term] = []
    head: Term = term
    while isinstance(head, App):
        args.append(head.arg)
        head = head.fun
    while args:
        head = App(head, nf(scope, args.pop(), fuel, substitute))
    return head


def nf_lam(scope: int, term: Lam[Any, Any], fuel: Fuel, substitute: Subst) -> Term:
    """Go under the binder with a name fresh for Θ (renaming the body once on a clash)."""
    binder: int = term.binder  # type: ignore[assignment]
    body = term.body
    if scope >> binder & 1:
        fresh = scope.bit_length()
        body = substitute(scope | 1 << fresh, {binder: Var(fresh)}, body)  # type: ignore[arg-type]
        binder = fresh
    return Lam(binder, nf(scope | 1 << binder, body, fuel, substitute))  # type: ignore[arg-type]


NF_RULES: dict[type, Callable[..., Term]] = {Var: nf_var, App: nf_app, Lam: nf_lam}


@deep
def normalize(term: Term, fuel: Fuel | int = 1_000_000) -> Term:
    scope: int = scope_of(term)  # type: ignore[assignment]
    return nf(scope, term, fuel if isinstance(fuel, Fuel) else Fuel(fuel))
