"""The small-step semantics: one normal-order β-step at a time (the oracle for traces).

    (λx. e) a  →β  e[x ↦ a]

applied to the leftmost-outermost redex: the head redex if there is one, otherwise inside the
body of a λ, otherwise in the arguments of a name from left to right. Iterating ``step`` reaches
the same normal form, with the same number of β-steps, as ``normalize.nf`` (a theorem in
proofs/foil.py checks it).
"""

from __future__ import annotations

from typing import TypeVar

from calculi.core.trace import Step
from calculi.foil.core import NameBinder, Scope
from calculi.foil.deep import deep
from calculi.foil.substitution import beta, open_lam
from calculi.foil.syntax import App, Expr, Lam, scope_of

N = TypeVar("N")
L2 = TypeVar("L2")

BETA = "β"


def contract(scope: Scope[N], term: Expr[N]) -> Expr[N] | None:
    """The term after one normal-order β-step, or ``None`` when it is in normal form."""
    args: list[Expr[N]] = []
    head = term
    while isinstance(head, App):
        args.append(head.arg)
        head = head.fun
    if isinstance(head, Lam):
        if args:
            head = beta(scope, head, args.pop())
            return _rebuild(head, args)

        def under(binder: NameBinder[N, L2], inner: Scope[L2], body: Expr[L2]) -> Expr[N] | None:
            stepped = contract(inner, body)
            return None if stepped is None else Lam(binder, stepped)

        return open_lam(scope, head, under)
    for index in range(len(args) - 1, -1, -1):
        stepped = contract(scope, args[index])
        if stepped is not None:
            args[index] = stepped
            return _rebuild(head, args)
    return None


def _rebuild(head: Expr[N], args: list[Expr[N]]) -> Expr[N]:
    while args:
        head = App(head, args.pop())
    return head


@deep
def step(term: Expr[N]) -> Step[Expr[N]] | None:
    """One normal-order step with its rule's name, or ``None`` at a normal form."""
    after = contract(scope_of(term), term)
    return None if after is None else Step(BETA, after)
