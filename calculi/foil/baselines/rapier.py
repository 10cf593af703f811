"""The plain rapier: the foil's algorithm on the same terms, without the type machinery.

The functions and rule tables mirror ``substitution.py`` and ``normalize.py`` one for one, so that
the benchmark measures only what the foil adds: the scope-typed core calls (``with_refreshed``
and its continuation, ``add_rename``, ``extend_scope``, ``name_of``, evidence). ``normalize`` is
the machine of ``normalize.py`` (substitution delayed in an environment); ``nf_by_substitution``
is the textbook normal order that substitutes at every β-step, the foil's algorithm before the
machine (the benchmark shows both).

Names are raw ``int``s, Θ the foil's erased scope (``scopes.py``: an ``int`` bit set while its
names are small), σ a ``dict``; a renamed binder gets the foil's fresh
name (``core.fresh_unspelled``: above every spelled name) and keeps its hint, as the foil's does;
the rapier's steps are written inline instead of through ``with_refreshed``/``add_rename``/
``extend_scope``/``sink``, with no continuations and no evidence. It is what the foil erases to,
and the benchmark's yardstick for the paper's "no run-time overhead" (``python -m
calculi.foil.bench``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from calculi.core.trace import Fuel
from calculi.foil.deep import deep
from calculi.foil.names import SPELLINGS
from calculi.foil.scopes import WIDE, extend, widen
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


def under_binder(scope: int, subst: dict[int, Term], binder: int) -> tuple[int, dict[int, Term]]:
    """The rapier's step under a binder: rename it if it clashes with the scope, else delete it
    from the substitution. The binder to use, and the substitution for the body."""
    if scope >> binder & 1:
        fresh = scope.bit_length()
        if fresh < SPELLINGS.ceiling:
            fresh = SPELLINGS.ceiling
        return fresh, {**subst, binder: Var(fresh)}  # type: ignore[arg-type]
    if binder in subst:
        return binder, {k: v for k, v in subst.items() if k != binder}
    return binder, subst


def subst_lam(scope: int, subst: dict[int, Term], term: Lam[Any, Any]) -> Term:
    fresh, inner = under_binder(scope, subst, term.binder)  # type: ignore[arg-type]
    hint = term.hint
    inner_scope = scope | 1 << fresh if fresh < WIDE else widen(scope, fresh)
    return Lam(fresh, substitute(inner_scope, inner, term.body),  # type: ignore[arg-type]
               term.binder if hint is None else hint)  # type: ignore[arg-type]


SUBST_RULES: dict[type, Callable[..., Term]] = {Var: subst_var, App: subst_app, Lam: subst_lam}


def beta(scope: int, lam: Lam[Any, Any], arg: Term, substitute: Subst = substitute) -> Term:
    return substitute(scope, {lam.binder: arg}, lam.body)  # type: ignore[dict-item]


def head_normal(scope: int, subst: dict[int, Term], term: Term, fuel: Fuel,
                substitute: Subst = substitute) -> tuple[dict[int, Term], Term, list[Term]]:
    """The machine of ``normalize.py``: run ``(σ, e)`` to a weak-head normal form."""
    args: list[Term] = []
    while True:
        if isinstance(term, App):
            args.append(substitute(scope, subst, term.arg))
            term = term.fun
        elif isinstance(term, Lam):
            if not args:
                return subst, term, args
            fuel.tick(term.span)
            subst[term.binder] = args.pop()  # type: ignore[index]
            term = term.body
        else:
            value = subst.get(term.name)  # type: ignore[attr-defined]
            if value is None:
                return subst, term, args
            subst, term = {}, value


def nf(scope: int, subst: dict[int, Term], term: Term, fuel: Fuel, substitute: Subst = substitute) -> Term:
    subst, head, args = head_normal(scope, subst, term, fuel, substitute)
    rule: Callable[[int, dict[int, Term], Any, list[Term], Fuel, Subst], Term] = NF_RULES[type(head)]
    return rule(scope, subst, head, args, fuel, substitute)


def nf_lam(scope: int, subst: dict[int, Term], term: Lam[Any, Any], args: list[Term], fuel: Fuel,
           substitute: Subst) -> Term:
    """Under the binder with the rapier's step (rename on a clash, else the delete)."""
    fresh, inner = under_binder(scope, subst, term.binder)  # type: ignore[arg-type]
    hint = term.hint
    inner_scope = scope | 1 << fresh if fresh < WIDE else widen(scope, fresh)
    return Lam(fresh, nf(inner_scope, inner, term.body, fuel, substitute),  # type: ignore[arg-type]
               term.binder if hint is None else hint)  # type: ignore[arg-type]


def nf_var(scope: int, subst: dict[int, Term], term: Var[Any], args: list[Term], fuel: Fuel,
           substitute: Subst) -> Term:
    out: Term = term
    while args:
        out = App(out, nf(scope, {}, args.pop(), fuel, substitute))
    return out


NF_RULES: dict[type, Callable[..., Term]] = {Lam: nf_lam, Var: nf_var}


@deep
def normalize(term: Term, fuel: Fuel | int = 1_000_000) -> Term:
    scope: int = scope_of(term)  # type: ignore[assignment]
    return nf(scope, {}, term, fuel if isinstance(fuel, Fuel) else Fuel(fuel))


def whnf(scope: int, term: Term, fuel: Fuel, substitute: Subst = substitute) -> Term:
    """The weak-head normal form, substituting at every β-step."""
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


def nf_by_substitution(scope: int, term: Term, fuel: Fuel, substitute: Subst = substitute) -> Term:
    """The normal form in normal order, substituting at every β-step (O(n²) on a ``let`` of n)."""
    head = whnf(scope, term, fuel, substitute)
    if isinstance(head, Lam):
        binder: int = head.binder  # type: ignore[assignment]
        body = head.body
        if scope >> binder & 1:
            fresh = scope.bit_length()
            body = substitute(extend(scope, fresh), {binder: Var(fresh)}, body)  # type: ignore[arg-type]
            binder = fresh
        return Lam(binder, nf_by_substitution(extend(scope, binder), body, fuel, substitute))  # type: ignore[arg-type]
    args: list[Term] = []
    while isinstance(head, App):
        args.append(head.arg)
        head = head.fun
    while args:
        head = App(head, nf_by_substitution(scope, args.pop(), fuel, substitute))
    return head


@deep
def normalize_by_substitution(term: Term, fuel: Fuel | int = 1_000_000) -> Term:
    scope: int = scope_of(term)  # type: ignore[assignment]
    return nf_by_substitution(scope, term, fuel if isinstance(fuel, Fuel) else Fuel(fuel))
