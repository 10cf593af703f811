"""Transposition: a linear Dex program and a cotangent become a program that accumulates the
cotangent of every linear input into an ``Accum`` reference.

``T(L, c)`` is a statement (of type ``()`` or a table of them) adding ``c`` transposed through ``L``:

    T(ẋ, c)           = r_ẋ += c                 T(ẋ.i.j, c) = r_ẋ!i!j += c
    T(a + b, c)       = T(a, c); T(b, c)          T(a - b, c) = T(a, c); T(b, -c)
    T(p * a, c)       = T(a, p * c)               T(a / p, c) = T(a, c / p)
    T(-a, c)          = T(a, -c)                  T(sum ẋ, c) = for i:n. r_ẋ!i += c
    T(for i:n. a, c)  = for i:n. T(a, c.i)
    T(let ẏ = a in b, c) = let (_, ċ) = run_accum τ \\r_ẏ. T(b, c) in T(a, ċ)
    T(let y = p in b, c) = let y = p in T(b, c)   (a primal let stays)
    T(if q then a else b, c) = if q then T(a, c) else T(b, c)

A read ``ẋ.i`` inside a ``for`` becomes ``r_ẋ!i += c``: an accumulation, so the transposed ``for``
has only ``Accum`` in its row and stays parallel. No rule introduces ``State``.
"""

from __future__ import annotations

from fractions import Fraction

from calculi.dex.jvp import Linearized, Names, fragment_error, nest
from calculi.dex.syntax import (
    Accum,
    App,
    BinOp,
    Expr,
    For,
    Handle,
    If,
    Index,
    Let,
    Neg,
    RealLit,
    RefIndex,
    Seq,
    TableT,
    Type,
    UnitLit,
    Var,
)


class Transposer:
    """``T(L, c)`` for the linear variables ``types`` (everything else is primal)."""

    def __init__(self, types: dict[str, Type], names: Names) -> None:
        self.types = types
        self.names = names

    def place(self, e: Expr, refs: dict[str, Expr]) -> Expr | None:
        """The reference ``r_ẋ!i!j`` for a linear ``ẋ.i.j``; ``None`` if ``e`` is not one."""
        match e:
            case Var(name=x) if x in refs:
                return refs[x]
            case Index(table=t, index=i):
                ref = self.place(t, refs)
                return None if ref is None else RefIndex(ref, i)
        return None

    def accumulate(self, ref: Expr, ct: Expr, ty: Type | None) -> Expr:
        """``ref += ct``, ``ty`` being the type of ``ct``."""
        return Accum(ref, ct)

    def handler(self, ty: Type, ref: str, body: Expr) -> Expr:
        """The handler that sums what ``body`` accumulates into ``ref``, starting at zero."""
        return Handle("run_accum", None, ty, ref, body)

    def atom(self, ct: Expr, build: object) -> Expr:
        """``build(c)`` with ``ct`` bound to a name when it is not one already."""
        if isinstance(ct, Var | RealLit):
            return build(ct)  # type: ignore[operator, no-any-return]
        c = self.names.fresh("ct")
        return Let(c, ct, build(Var(c)))  # type: ignore[operator]

    def go(self, e: Expr, ct: Expr, refs: dict[str, Expr]) -> Expr:
        ref = self.place(e, refs)
        if ref is not None:
            return self.accumulate(ref, ct, self.type_of(e))
        match e:
            case RealLit(value=v) if v == 0:
                return UnitLit()
            case For(body=RealLit(value=v)) if v == 0:
                return UnitLit()
            case BinOp(op="+" | "-", left=a, right=b):
                return self.atom(ct, lambda c: Seq(
                    self.go(a, c, refs), self.go(b, c if e.op == "+" else Neg(c), refs)))
            case BinOp(op="*", left=p, right=a):
                return self.go(a, BinOp("*", p, ct), refs)
            case BinOp(op="/", left=a, right=p):
                return self.go(a, BinOp("/", ct, p), refs)
            case Neg(arg=a):
                return self.go(a, Neg(ct), refs)
            case App(fun=Var(name="sum"), arg=a):
                table = self.place(a, refs)
                ty = self.type_of(a)
                if table is None or not isinstance(ty, TableT):
                    raise fragment_error("sum of a linear value that is not a tangent", e.span)
                i = self.names.fresh("i")
                return self.atom(ct, lambda c: For(i, ty.index, self.accumulate(
                    RefIndex(table, Var(i)), c, ty.elem)))
            case For(index=i, type=n, body=body):
                return self.atom(ct, lambda c: For(i, n, self.go(body, Index(c, Var(i)), refs)))
            case Let(name=y, bound=bound, body=body) if y in self.types:
                r, pair = self.names.fresh("r"), self.names.fresh("p")
                inner = self.go(body, ct, {**refs, y: Var(r)})
                run = self.handler(self.types[y], r, inner)
                return Let(pair, run, self.go(bound, App(Var("snd"), Var(pair)), refs))
            case Let(name=y, bound=bound, body=body):
                return Let(y, bound, self.go(body, ct, refs))
            case If(cond=q, then=a, orelse=b):
                return self.atom(ct, lambda c: If(q, _statement(self.go(a, c, refs)),
                                                  _statement(self.go(b, c, refs))))
        raise fragment_error(f"not a linear expression: {type(e).__name__}", e.span)

    def type_of(self, e: Expr) -> Type | None:
        match e:
            case Var(name=x):
                return self.types.get(x)
            case Index(table=t):
                ty = self.type_of(t)
                return ty.elem if isinstance(ty, TableT) else None
        return None


def _statement(e: Expr) -> Expr:
    """``e; ()``: a statement of type ``()`` (``e`` may be a table of them)."""
    return e if isinstance(e, UnitLit) else Seq(e, UnitLit())


def transpose(lin: Linearized, ct: Expr, transposer: type[Transposer] | None = None) -> Expr:
    """The vjp program: the primal lets, then one ``run_accum`` per input around ``T(tangent, ct)``.
    Its value nests as ``((…((), ct_1)…), ct_k)`` with the inputs in order, the first innermost."""
    machine = (transposer or Transposer)(lin.types, lin.names)
    refs: dict[str, Expr] = {}
    handlers = []
    for _x, (d, ty) in lin.inputs.items():
        r = lin.names.fresh("r")
        refs[d] = Var(r)
        handlers.append((r, ty))
    body: Expr = UnitLit()
    if lin.tangent is not None:
        body = machine.go(nest(lin.primal, lin.tangent), ct, refs)
    for r, ty in handlers:
        body = machine.handler(ty, r, body)
    return body

ONE = RealLit(Fraction(1))

__all__ = ["ONE", "Transposer", "transpose"]
