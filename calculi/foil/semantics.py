"""The small-step semantics: one normal-order β-step at a time (the oracle for traces).

    (β)  (λx. e) a → e[x ↦ a]                         at the head
    (ξ)  e → e'  ⟹  λx. e → λx. e'                     when the head is a λ
    (μ)  aᵢ → aᵢ'  ⟹  x a₁ … aᵢ … aₙ → x a₁ … aᵢ' … aₙ  the first argument that steps, when
                                                      a₁ … aᵢ₋₁ are normal

applied to the leftmost-outermost redex: the head redex if there is one, otherwise inside the
body of a λ, otherwise in the arguments of a name from left to right. Iterating ``step`` reaches
the same normal form, with the same number of β-steps, as ``normalize.nf`` (a theorem in
proofs/foil/normalisation.py checks it). A step's rule is β; ξ and μ (the contexts it went through) count for
rule coverage only.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TypeVar

from calculi.core.errors import CalculusError, FuelExhausted
from calculi.core.syntax import Span
from calculi.core.trace import Fuel, Step
from calculi.foil.core import NameBinder, Scope
from calculi.foil.rules import NORMAL_ORDER, fired, operation
from calculi.foil.substitution import beta, open_lam
from calculi.foil.syntax import App, Expr, Lam, scope_of

N = TypeVar("N")
L2 = TypeVar("L2")

BETA, XI, MU = NORMAL_ORDER


def contract(scope: Scope[N], term: Expr[N]) -> Expr[N] | None:
    """The term after one normal-order β-step, or ``None`` when it is in normal form."""
    args: list[Expr[N]] = []
    head = term
    while isinstance(head, App):
        args.append(head.arg)
        head = head.fun
    if isinstance(head, Lam):
        if args:
            fired(BETA)
            head = beta(scope, head, args.pop())
            return _rebuild(head, args)

        hint: int = head.binder if head.hint is None else head.hint  # type: ignore[assignment]

        def under(binder: NameBinder[N, L2], inner: Scope[L2], body: Expr[L2]) -> Expr[N] | None:
            stepped = contract(inner, body)
            if stepped is None:
                return None
            fired(XI)
            return Lam(binder, stepped, hint)

        return open_lam(scope, head, under)
    for index in range(len(args) - 1, -1, -1):
        stepped = contract(scope, args[index])
        if stepped is not None:
            fired(MU)
            args[index] = stepped
            return _rebuild(head, args)
    return None


def _rebuild(head: Expr[N], args: list[Expr[N]]) -> Expr[N]:
    while args:
        head = App(head, args.pop())
    return head


@operation
def step(term: Expr[N]) -> Step[Expr[N]] | None:
    """One normal-order step with its rule's name, or ``None`` at a normal form."""
    after = contract(scope_of(term), term)
    return None if after is None else Step(BETA, after)


def _located(term: Expr[N], span: Span | None) -> Step[Expr[N]] | None:
    try:
        return step(term)
    except CalculusError as err:
        err.span = err.span or span
        raise


TRACE_STEPS = 10_000
"""The most steps a trace shows, whatever the fuel: each step prints the whole term."""


def trace(term: Expr[N], fuel: int, span: Span | None = None) -> Iterator[Step[Expr[N]]]:
    """The normal-order steps from ``term`` to its normal form, at most ``min(fuel, TRACE_STEPS)``
    of them; past that, ``FuelExhausted`` at ``span`` (the traced input's, where every error of a
    later step points too: the terms reduction makes have no position)."""
    limit = min(fuel, TRACE_STEPS)
    spent = Fuel(limit)
    while (nxt := _located(term, span)) is not None:
        if spent.used == limit and limit < fuel:
            raise FuelExhausted(f"no normal form after {limit:,} steps; a trace shows at most {limit:,} "
                                "(the term may diverge; :nf, or run without --trace, goes on to the fuel "
                                "limit)", span)
        spent.tick(span)
        yield nxt
        term = nxt.term
