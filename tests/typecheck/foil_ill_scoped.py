"""Ill-scoped uses of the foil: mypy --strict must reject every line marked ``# type: ignore[code]``.

tests/typecheck/test_foil_typecheck.py checks that each marked line fails with exactly that code
(and, with --warn-unused-ignores, that no mark is stale), and that nothing else fails.
"""

from __future__ import annotations

from typing import Any, TypeVar

from calculi.foil.core import (
    DExt,
    Name,
    NameBinder,
    Scope,
    Substitution,
    VoidS,
    extend_scope,
    lam_row,
    lookup_subst,
    name_of,
    with_fresh,
)
from calculi.foil.substitution import open_lam, substitute
from calculi.foil.syntax import Expr, Lam, Var

N = TypeVar("N")
M = TypeVar("M")
L = TypeVar("L")
L1 = TypeVar("L1")
L2 = TypeVar("L2")
I = TypeVar("I")  # noqa: E741
O = TypeVar("O")  # noqa: E741


def outer_name_without_sink(scope: Scope[N], x: Name[N]) -> Expr[N]:
    def k(b: NameBinder[N, L], ev: DExt[N, L]) -> Expr[N]:
        body: Expr[L] = Var(x)  # type: ignore[arg-type]
        return Lam(b, body)

    return with_fresh(scope, k)


def sibling_scopes_mixed(scope: Scope[N]) -> Expr[N]:
    def first(b1: NameBinder[N, L1], ev1: DExt[N, L1]) -> Expr[N]:
        def second(b2: NameBinder[N, L2], ev2: DExt[N, L2]) -> Expr[N]:
            body: Expr[L2] = Var(name_of(b1))  # type: ignore[arg-type]
            return Lam(b2, body)

        return with_fresh(scope, second)

    return with_fresh(scope, first)


def continuation_fixed_to_one_scope(scope: Scope[N]) -> int:
    def k(b: NameBinder[N, VoidS], ev: DExt[N, VoidS]) -> int:
        return 0

    return with_fresh(scope, k)  # type: ignore[arg-type]


def binder_name_returned_outside(scope: Scope[N]) -> Name[N]:
    def k(b: NameBinder[N, L], ev: DExt[N, L]) -> Name[N]:
        return name_of(b)  # type: ignore[arg-type]

    return with_fresh(scope, k)


def body_returned_without_its_binder(scope: Scope[N], lam: Lam[N, L]) -> Expr[N]:
    def k(b: NameBinder[N, L2], inner: Scope[L2], body: Expr[L2]) -> Expr[N]:
        return body  # type: ignore[return-value]

    return open_lam(scope, lam, k)


def scope_of_another_world(binder: NameBinder[N, L], other: Scope[M]) -> Scope[L]:
    return extend_scope(binder, other)  # type: ignore[misc]


def input_name_looked_up_as_output(subst: Substitution[Expr[O], I, O], x: Name[O]) -> Expr[O]:
    return lookup_subst(subst, x, Var)  # type: ignore[misc]


def substitution_into_the_wrong_scope(
    theta: Scope[I], subst: Substitution[Expr[O], I, O], term: Expr[I]
) -> Expr[O]:
    return substitute(theta, subst, term)  # type: ignore[arg-type]


def output_term_used_as_input(scope: Scope[O], subst: Substitution[Expr[O], I, O], term: Expr[O]) -> Expr[O]:
    return substitute(scope, subst, term)  # type: ignore[misc]


def name_of_empty_scope_in_a_term(x: Name[VoidS], scope: Scope[N]) -> Expr[N]:
    return Var(x)  # type: ignore[arg-type]


def row_recursion_fixed_to_one_scope() -> object:
    def into(scope: Scope[VoidS], subst: Substitution[Any, I, VoidS], body: Any, fuel: int) -> Any:
        return body

    return lam_row(Lam, Var, into)  # type: ignore[arg-type]


def row_recursion_into_the_input_scope() -> object:
    def into(scope: Scope[I], subst: Substitution[Any, I, O], body: Any, fuel: int) -> Any:
        return body

    return lam_row(Lam, Var, into)  # type: ignore[arg-type]


def row_builder_fixed_to_one_scope() -> object:
    def build(binder: NameBinder[VoidS, VoidS], body: Any, hint: Any) -> Any:
        return body

    return lam_row(build, Var, substitute_with_fuel)  # type: ignore[arg-type]


def substitute_with_fuel(
    scope: Scope[O], subst: Substitution[Expr[O], I, O], body: Expr[I], fuel: int
) -> Expr[O]:
    return substitute(scope, subst, body)
