"""What the foil's theorems share: the paper, the printer of counterexamples, and σ applied both
by the foil and by the de Bruijn oracle."""

from __future__ import annotations

from typing import Any

from calculi.foil import substitute
from calculi.foil.baselines import debruijn as db
from calculi.foil.core import (
    unsafe_name,
    unsafe_scope,
)
from calculi.foil.debruijn import to_debruijn
from calculi.foil.pretty import pretty
from calculi.foil.syntax import Expr, Var
from proofs.registry import Paper

FOIL = Paper("foil", "The Foil: Capture-Avoiding Substitution With No Sharp Edges", "IFL 2022")

Term = Expr[Any]


def show(value: object) -> str:
    """Counterexamples in the foil's syntax: terms printed, containers shown element-wise."""
    if isinstance(value, Expr):
        return pretty(value, width=None)
    if isinstance(value, dict):
        return "[" + ", ".join(f"{show(k)} ↦ {show(v)}" for k, v in value.items()) + "]"
    if isinstance(value, tuple | list):
        return "(" + "; ".join(show(v) for v in value) + ")"
    if isinstance(value, int):
        return pretty(Var(unsafe_name(value)))
    return repr(value)


def bits(names: list[int]) -> Any:
    out = 0
    for name in names:
        out |= 1 << name
    return unsafe_scope(out)


def subst(theta: list[int], sigma: dict[int, Term], term: Term) -> Term:
    table: Any = sigma
    return substitute(bits(theta), table, term)


def db_subst(theta_o: list[int], sigma: dict[int, Term], theta_i: list[int], term: Term) -> db.DB:
    """The oracle: σ on de Bruijn terms (free index k of the input context is Θ_i[k])."""

    def image(k: int) -> db.DB:
        name = theta_i[k]
        return to_debruijn(sigma.get(name, Var(unsafe_name(name))), theta_o)

    return db.substitute(to_debruijn(term, theta_i), image)


FUEL = 400

