"""de Bruijn indices: the oracle. α-equivalence is ``==``; substitution shifts.

    t ::= i | t t | λ. t        (i counts the λs between an occurrence and its binder)

An open term is read in a context Γ = [x₀, x₁, …]: a free name xₖ under d binders is the index
d + k. Substitution and normal-order normalisation follow the textbook definitions (shift ↑ and
instantiate), independent of the foil, so that agreement with them is evidence.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from calculi.core.errors import FuelExhausted
from calculi.core.trace import Fuel
from calculi.foil.deep import deep


@dataclass(frozen=True, slots=True)
class DVar:
    index: int


@dataclass(frozen=True, slots=True)
class DApp:
    fun: DB
    arg: DB


@dataclass(frozen=True, slots=True)
class DLam:
    body: DB


DB = DVar | DApp | DLam


def shift(term: DB, amount: int, cutoff: int = 0) -> DB:
    """↑ᵃₖ: add ``amount`` to every index ≥ ``cutoff`` (the free ones)."""
    if amount == 0:
        return term
    return _shift(term, amount, cutoff)


def _shift(term: DB, amount: int, cutoff: int) -> DB:
    if isinstance(term, DVar):
        return DVar(term.index + amount) if term.index >= cutoff else term
    if isinstance(term, DApp):
        return DApp(_shift(term.fun, amount, cutoff), _shift(term.arg, amount, cutoff))
    return DLam(_shift(term.body, amount, cutoff + 1))


def instantiate(body: DB, arg: DB, depth: int = 0) -> DB:
    """The body of ``λ. body`` applied to ``arg``: index ``depth`` becomes ``arg`` (shifted by
    ``depth``), larger indices drop by one."""
    if isinstance(body, DVar):
        if body.index == depth:
            return shift(arg, depth)
        return DVar(body.index - 1) if body.index > depth else body
    if isinstance(body, DApp):
        return DApp(instantiate(body.fun, arg, depth), instantiate(body.arg, arg, depth))
    return DLam(instantiate(body.body, arg, depth + 1))


def subst(term: DB, sigma: Callable[[int], DB], depth: int = 0) -> DB:
    """Simultaneous substitution of the free indices: free index ``depth + k`` ↦ ↑ᵈ σ(k)."""
    if isinstance(term, DVar):
        if term.index < depth:
            return term
        return shift(sigma(term.index - depth), depth)
    if isinstance(term, DApp):
        return DApp(subst(term.fun, sigma, depth), subst(term.arg, sigma, depth))
    return DLam(subst(term.body, sigma, depth + 1))


def whnf(term: DB, fuel: Fuel) -> DB:
    spine: list[DB] = []
    head = term
    while True:
        while isinstance(head, DApp):
            spine.append(head.arg)
            head = head.fun
        if spine and isinstance(head, DLam):
            fuel.tick()
            head = instantiate(head.body, spine.pop())
            continue
        break
    while spine:
        head = DApp(head, spine.pop())
    return head


def nf(term: DB, fuel: Fuel) -> DB:
    head = whnf(term, fuel)
    if isinstance(head, DLam):
        return DLam(nf(head.body, fuel))
    args: list[DB] = []
    while isinstance(head, DApp):
        args.append(head.arg)
        head = head.fun
    while args:
        head = DApp(head, nf(args.pop(), fuel))
    return head


@deep
def normalize(term: DB, fuel: Fuel | int = 1_000_000) -> DB:
    """The β-normal form in normal order (``FuelExhausted`` after ``fuel`` β-steps)."""
    return nf(term, fuel if isinstance(fuel, Fuel) else Fuel(fuel))


@deep
def substitute(term: DB, sigma: Callable[[int], DB]) -> DB:
    return subst(term, sigma)


__all__ = ["DB", "DApp", "DLam", "DVar", "FuelExhausted", "instantiate", "normalize", "shift", "subst"]
