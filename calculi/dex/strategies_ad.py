"""Differentiable programs, shaped like the examples: pointful reductions over tables of
parameters, with lets, tables built by ``for``, conditions on indices, and (unless ``polynomial``)
``exp``, ``log``, ``sqrt`` and ``/`` kept away from their singularities.

The parameters are ``w : Real``, ``x : Fin 3=>Real`` and ``m : Fin 2=>Fin 3=>Real``.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from hypothesis import strategies as st

from calculi.dex.syntax import (
    REAL,
    App,
    At,
    BinOp,
    Expr,
    Fin,
    For,
    If,
    Index,
    IntLit,
    Let,
    Neg,
    RealLit,
    TableT,
    Type,
    Var,
)
from calculi.dex.values import Table, Value

N, K = Fin(3), Fin(2)
PARAMS: dict[str, Type] = {"w": REAL, "x": TableT(N, REAL), "m": TableT(K, TableT(N, REAL))}


@dataclass(frozen=True)
class AdProgram:
    expr: Expr
    params: dict[str, Type]


Ctx = dict[str, Type]


def _index(draw: st.DrawFn, ctx: Ctx, n: Type) -> Expr:
    bound: list[str] = [v for v, t in ctx.items() if t == n]
    use_bound = draw(st.booleans())
    if bound and use_bound:
        return Var(draw(st.sampled_from(bound)))
    assert isinstance(n, Fin)
    return At(IntLit(draw(st.integers(0, n.size - 1))), n)


def _leaf(draw: st.DrawFn, ctx: Ctx) -> Expr:
    scalars = [v for v, t in ctx.items() if t == REAL]
    tables = [v for v, t in ctx.items() if isinstance(t, TableT)]
    kind = draw(st.sampled_from(["lit", "scalar", "table", "table"]))
    if kind == "scalar" and scalars:
        return Var(draw(st.sampled_from(scalars)))
    if kind == "table" and tables:
        name = draw(st.sampled_from(tables))
        e: Expr = Var(name)
        ty = ctx[name]
        while isinstance(ty, TableT):
            e, ty = Index(e, _index(draw, ctx, ty.index)), ty.elem
        return e
    return RealLit(Fraction(draw(st.integers(-4, 4)), draw(st.sampled_from([1, 2, 4]))))


def _positive(draw: st.DrawFn, ctx: Ctx, depth: int, polynomial: bool) -> Expr:
    a = real(draw, ctx, depth - 1, polynomial)
    return BinOp("+", RealLit(Fraction(1)), BinOp("*", a, a))


def real(draw: st.DrawFn, ctx: Ctx, depth: int, polynomial: bool) -> Expr:
    """A ``Real`` expression over ``ctx``."""
    if depth <= 0:
        return _leaf(draw, ctx)
    forms = ["leaf", "+", "-", "*", "neg", "sum", "let", "table", "if"]
    if not polynomial:
        forms += ["exp", "log", "sqrt", "/"]
    form = draw(st.sampled_from(forms))
    sub = depth - 1
    if form in ("+", "-", "*"):
        return BinOp(form, real(draw, ctx, sub, polynomial), real(draw, ctx, sub, polynomial))
    if form == "neg":
        return Neg(real(draw, ctx, sub, polynomial))
    if form == "sum":
        n = draw(st.sampled_from([N, K]))
        i = f"i{len(ctx)}"
        return App(Var("sum"), For(i, n, real(draw, {**ctx, i: n}, sub, polynomial)))
    if form == "let":
        y = f"y{len(ctx)}"
        return Let(y, real(draw, ctx, sub, polynomial), real(draw, {**ctx, y: REAL}, sub, polynomial))
    if form == "table":
        t, i = f"t{len(ctx)}", f"j{len(ctx)}"
        body = real(draw, {**ctx, i: N}, sub, polynomial)
        return Let(t, For(i, N, body), real(draw, {**ctx, t: TableT(N, REAL)}, sub, polynomial))
    if form == "if":
        indices = [v for v, t in ctx.items() if isinstance(t, Fin)]
        if indices:
            cond = BinOp("<", App(Var("ordinal"), Var(draw(st.sampled_from(indices)))), IntLit(1))
            return If(cond, real(draw, ctx, sub, polynomial), real(draw, ctx, sub, polynomial))
        return real(draw, ctx, sub, polynomial)
    if form == "exp":
        return App(Var("exp"), BinOp("*", RealLit(Fraction(1, 4)), real(draw, ctx, sub, polynomial)))
    if form in ("log", "sqrt"):
        return App(Var(form), _positive(draw, ctx, depth, polynomial))
    if form == "/":
        return BinOp("/", real(draw, ctx, sub, polynomial), _positive(draw, ctx, depth, polynomial))
    return _leaf(draw, ctx)


@st.composite
def ad_programs(draw: st.DrawFn, polynomial: bool = False, depth: int = 3,
                table: bool = False) -> AdProgram:
    """A program of type ``Real`` (or ``Fin 3=>Real`` when ``table``) over the parameters."""
    if table:
        return AdProgram(For("o", N, real(draw, {**PARAMS, "o": N}, depth, polynomial)), PARAMS)
    return AdProgram(real(draw, dict(PARAMS), depth, polynomial), PARAMS)


@st.composite
def parameter_values(draw: st.DrawFn, ty: Type) -> Value:
    """A small rational value of ``ty`` (``Real`` or tables of them)."""
    if isinstance(ty, TableT):
        assert isinstance(ty.index, Fin)
        return Table(ty.index, tuple(draw(parameter_values(ty.elem)) for _ in range(ty.index.size)))
    return Fraction(draw(st.integers(-8, 8)), 4)


@st.composite
def environments(draw: st.DrawFn, params: dict[str, Type]) -> dict[str, Value]:
    return {x: draw(parameter_values(t)) for x, t in params.items()}


__all__ = ["PARAMS", "AdProgram", "ad_programs", "environments", "parameter_values", "real"]
