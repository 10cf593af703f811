"""Well-scoped uses of the foil, each the repaired twin of a snippet in foil_ill_scoped.py:
mypy --strict must accept all of them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, assert_type

from calculi.foil.core import (
    DExt,
    Name,
    NameBinder,
    Scope,
    Substitution,
    add_subst,
    extend_scope,
    identity_subst,
    lam_row,
    lookup_subst,
    name_of,
    sink_name,
    unsink_name,
    with_fresh,
    with_refreshed,
)
from calculi.foil.substitution import open_lam, substitute
from calculi.foil.syntax import App, Expr, Lam, Var

N = TypeVar("N")
L = TypeVar("L")
L1 = TypeVar("L1")
L2 = TypeVar("L2")
I = TypeVar("I")  # noqa: E741
O = TypeVar("O")  # noqa: E741


def outer_name_sunk(scope: Scope[N], x: Name[N]) -> Expr[N]:
    """λy. x: the outer name is sunk into the binder's scope with the evidence."""

    def k(b: NameBinder[N, L], ev: DExt[N, L]) -> Expr[N]:
        body: Expr[L] = Var(sink_name(x, ev))
        return Lam(b, body)

    return with_fresh(scope, k)


def nested_binders(scope: Scope[N]) -> Expr[N]:
    """λa. λb. a b: the first binder's name is sunk past the second."""

    def first(b1: NameBinder[N, L1], ev1: DExt[N, L1]) -> Expr[N]:
        inner = extend_scope(b1, scope)

        def second(b2: NameBinder[L1, L2], ev2: DExt[L1, L2]) -> Expr[L1]:
            body: Expr[L2] = App(Var(sink_name(name_of(b1), ev2)), Var(name_of(b2)))
            return Lam(b2, body)

        return Lam(b1, with_fresh(inner, second))

    return with_fresh(scope, first)


def identity(scope: Scope[N]) -> Expr[N]:
    def k(b: NameBinder[N, L], ev: DExt[N, L]) -> Expr[N]:
        return Lam(b, Var(name_of(b)))

    return with_fresh(scope, k)


def strengthen(scope: Scope[N], x: Name[N]) -> Name[N] | None:
    def k(b: NameBinder[N, L], ev: DExt[N, L]) -> Name[N] | None:
        return unsink_name(b, sink_name(x, ev))

    return with_fresh(scope, k)


def beta(scope: Scope[N], lam: Lam[N, L], arg: Expr[N]) -> Expr[N]:
    subst: Substitution[Expr[N], L, N] = add_subst(identity_subst(), lam.binder, arg)
    return substitute(scope, subst, lam.body)


def under_a_binder(scope: Scope[N], lam: Lam[N, L]) -> Expr[N]:
    def k(b: NameBinder[N, L2], inner: Scope[L2], body: Expr[L2]) -> Expr[N]:
        return Lam(b, App(body, Var(name_of(b))))

    return open_lam(scope, lam, k)


def lookup(subst: Substitution[Expr[O], I, O], x: Name[I]) -> Expr[O]:
    return assert_type(lookup_subst(subst, x, Var), Expr[O])


def refreshed(scope: Scope[O], x: Name[I]) -> Expr[O]:
    def k(b: NameBinder[O, L], ev: DExt[O, L]) -> Expr[O]:
        return Lam(b, Var(name_of(b)))

    return with_refreshed(scope, x, k)


def substitute_with_fuel(
    scope: Scope[O], subst: Substitution[Expr[O], I, O], body: Expr[I], fuel: int
) -> Expr[O]:
    return substitute(scope, subst, body)


def a_lam_row() -> Callable[..., Any]:
    return lam_row(Lam, Var, substitute_with_fuel)
