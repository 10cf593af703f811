"""What forward and reverse mode share: which types have a tangent and what it is, fresh names,
the bindings a linearized program is made of, and the residuals a scope keeps for its linear half.

    T(Real) = Real    T(n=>a) = n=>T(a)    T((a, b)) = (T(a), T(b))    T(τ) = () otherwise

A type *has a tangent* when a ``Real`` occurs in it (outside functions and references).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from calculi.core.errors import TypeCheckError
from calculi.core.syntax import Span
from calculi.dex.syntax import (
    UNIT,
    App,
    Expr,
    For,
    Let,
    Pair,
    PairT,
    RealLit,
    RealT,
    TableT,
    Type,
    UnitLit,
    Var,
)


def differentiable(ty: Type) -> bool:
    """Whether values of ``ty`` have a tangent: a ``Real`` occurs in ``ty``."""
    if isinstance(ty, PairT):
        return differentiable(ty.fst) or differentiable(ty.snd)
    return isinstance(ty, RealT) or (isinstance(ty, TableT) and differentiable(ty.elem))


def tangent_type(ty: Type) -> Type:
    """``T(ty)``: the type of a tangent of a value of ``ty``."""
    if not differentiable(ty):
        return UNIT
    if isinstance(ty, PairT):
        return PairT(tangent_type(ty.fst), tangent_type(ty.snd))
    if isinstance(ty, TableT):
        return TableT(ty.index, tangent_type(ty.elem))
    return ty


def zero_of(ty: Type) -> Expr:
    """The zero tangent of a value of ``ty`` (``()`` when ``ty`` has no tangent)."""
    if not differentiable(ty):
        return UnitLit()
    if isinstance(ty, TableT):
        return For("z'", ty.index, zero_of(ty.elem))
    if isinstance(ty, PairT):
        return Pair(zero_of(ty.fst), zero_of(ty.snd))
    return RealLit(Fraction(0))


def is_zero(e: Expr) -> bool:
    """Whether ``e`` is a zero tangent as ``zero_of`` writes it."""
    match e:
        case RealLit(value=v):
            return v == 0
        case UnitLit():
            return True
        case Pair(fst=a, snd=b):
            return is_zero(a) and is_zero(b)
        case For(body=b):
            return is_zero(b)
    return False


def fragment_error(reason: str, span: Span | None) -> TypeCheckError:
    return TypeCheckError(reason, span, rule="AD-Fragment")


class Names:
    """Fresh names, ``base'k``, distinct from every name in ``taken``."""

    def __init__(self, taken: set[str]) -> None:
        self.taken = taken
        self.count = 0

    def fresh(self, base: str) -> str:
        stem = base.split("'", 1)[0] or "t"
        while True:
            self.count += 1
            name = f"{stem}'{self.count}"
            if name not in self.taken:
                self.taken.add(name)
                return name


@dataclass(frozen=True, slots=True)
class Binding:
    name: str
    bound: Expr
    linear: bool


def nest(bindings: list[Binding], body: Expr, *, primal_only: bool = False) -> Expr:
    for b in reversed(bindings):
        if not (primal_only and b.linear):
            body = Let(b.name, b.bound, body)
    return body


def keep_residuals(inner: list[Binding], result: Expr) -> Expr:
    """The primal half of a scope (a ``for`` body, a handler's body) returning ``(result, R)``,
    ``R`` holding each primal intermediate for the linear half to read back, in a balanced tree of
    pairs (so that a body of thousands of lets keeps a record of logarithmic depth)."""
    kept = [b for b in inner if not b.linear]
    return nest(kept, Pair(result, _record([Var(b.name) for b in kept], 0, len(kept))))


def _record(values: list[Expr], lo: int, hi: int) -> Expr:
    if lo == hi:
        return UnitLit()
    if hi - lo == 1:
        return values[lo]
    mid = (lo + hi) // 2
    return Pair(_record(values, lo, mid), _record(values, mid, hi))


def read_residuals(inner: list[Binding], record: Expr, names: Names) -> list[Binding]:
    """Bindings that give each primal intermediate of ``inner`` its value from ``record``."""
    kept = [b.name for b in inner if not b.linear]
    out: list[Binding] = []
    work: list[tuple[Expr, int, int]] = [(record, 0, len(kept))] if kept else []
    while work:
        source, lo, hi = work.pop()
        if hi - lo == 1:
            out.append(Binding(kept[lo], source, False))
            continue
        cursor = Var(names.fresh("s"))
        out.append(Binding(cursor.name, source, False))
        mid = (lo + hi) // 2
        work.append((App(Var("snd"), cursor), mid, hi))
        work.append((App(Var("fst"), cursor), lo, mid))
    return out


def linear_half(inner: list[Binding], record: Expr, names: Names, result: Expr) -> Expr:
    """The linear half of a scope: its intermediates read from ``record``, then its linear lets."""
    return nest(read_residuals(inner, record, names) + [b for b in inner if b.linear], result)


__all__ = ["Binding", "Names", "differentiable", "fragment_error", "is_zero", "keep_residuals",
           "linear_half", "nest", "read_residuals", "tangent_type", "zero_of"]
