"""Differentiable programs, shaped like the examples: pointful reductions over tables of
parameters, with lets, tables built by ``for``, conditions on indices, pairs and tables of pairs,
``case`` over an enumeration, readers, accumulation into a real or into entries of a table (at
the loop's own index or a computed one, in both branches of an ``if``), and (unless
``polynomial``) ``exp``, ``log``, ``sqrt`` and ``/`` kept away from their singularities. With
``state``, sequential loops threading a ``State`` through a running product also appear.

The parameters are ``w : Real``, ``x : Fin 3=>Real`` and ``m : Fin 2=>Fin 3=>Real``.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from hypothesis import strategies as st

from calculi.dex.pretty import show
from calculi.dex.syntax import (
    REAL,
    Accum,
    App,
    At,
    BinOp,
    Case,
    Enum,
    Expr,
    Fin,
    For,
    Handle,
    If,
    Index,
    IntLit,
    Let,
    Neg,
    Pair,
    PairT,
    Put,
    RealLit,
    RefIndex,
    RefT,
    Seq,
    TableT,
    Type,
    Var,
)
from calculi.dex.values import Table, Value

N, K = Fin(3), Fin(2)
COLOR = Enum(("red", "green"))
PARAMS: dict[str, Type] = {"w": REAL, "x": TableT(N, REAL), "m": TableT(K, TableT(N, REAL))}
PAIR = PairT(REAL, REAL)


@dataclass(frozen=True)
class AdProgram:
    expr: Expr
    params: dict[str, Type]

    def __str__(self) -> str:
        return show(self.expr)


@dataclass(frozen=True)
class Options:
    polynomial: bool
    state: bool = False


Ctx = dict[str, Type]


def _index(draw: st.DrawFn, ctx: Ctx, n: Type) -> Expr:
    bound: list[str] = [v for v, t in ctx.items() if t == n]
    use_bound = draw(st.booleans())
    if bound and use_bound:
        return Var(draw(st.sampled_from(bound)))
    if isinstance(n, Enum):
        return At(Var(draw(st.sampled_from(n.labels))), n)
    assert isinstance(n, Fin)
    others = [v for v, t in ctx.items() if t == N and n == N]
    if draw(st.booleans()) and others:  # a computed index: the reverse of another one
        return At(BinOp("-", IntLit(2), App(Var("ordinal"), Var(draw(st.sampled_from(others))))), n)
    return At(IntLit(draw(st.integers(0, n.size - 1))), n)


def _read(draw: st.DrawFn, ctx: Ctx, e: Expr, ty: Type) -> Expr:
    """A ``Real`` read out of ``e : ty`` by indexing its tables and projecting its pairs."""
    while ty != REAL:
        if isinstance(ty, TableT):
            e, ty = Index(e, _index(draw, ctx, ty.index)), ty.elem
        else:
            assert isinstance(ty, PairT)
            side = draw(st.sampled_from(["fst", "snd"]))
            e, ty = App(Var(side), e), (ty.fst if side == "fst" else ty.snd)
    return e


def _ask(draw: st.DrawFn, ctx: Ctx, r: str, ty: Type) -> Expr:
    """``ask r``, ``ask r!i`` or ``(ask r).i``, then read down to a real."""
    ref: Expr = Var(r)
    while isinstance(ty, TableT) and draw(st.booleans()):
        ref, ty = RefIndex(ref, _index(draw, ctx, ty.index)), ty.elem
    return _read(draw, ctx, App(Var("ask"), ref), ty)


def _leaf(draw: st.DrawFn, ctx: Ctx) -> Expr:
    scalars = [v for v, t in ctx.items() if t == REAL]
    data = [v for v, t in ctx.items() if isinstance(t, TableT | PairT)]
    readers = [v for v, t in ctx.items() if isinstance(t, RefT)]
    kind = draw(st.sampled_from(["lit", "scalar", "data", "data", "ask"]))
    if kind == "scalar" and scalars:
        return Var(draw(st.sampled_from(scalars)))
    if kind == "data" and data:
        name = draw(st.sampled_from(data))
        return _read(draw, ctx, Var(name), ctx[name])
    if kind == "ask" and readers:
        r = draw(st.sampled_from(readers))
        ref = ctx[r]
        assert isinstance(ref, RefT)
        return _ask(draw, ctx, r, ref.elem)
    return RealLit(Fraction(draw(st.integers(-4, 4)), draw(st.sampled_from([1, 2, 4]))))


def _positive(draw: st.DrawFn, ctx: Ctx, depth: int, o: Options) -> Expr:
    a = real(draw, ctx, depth - 1, o)
    return BinOp("+", RealLit(Fraction(1)), BinOp("*", a, a))


def _accumulate(draw: st.DrawFn, ctx: Ctx, depth: int, o: Options) -> Expr:
    """``snd (run_accum Real \\r. for i. r += e)`` or ``sum (snd (run_accum (Fin 3=>Real) \\r.
    for i. r!k += e))``, the update sometimes in both branches of an ``if``."""
    r, i = f"r{len(ctx)}", f"i{len(ctx)}"
    n = draw(st.sampled_from([N, K]))
    inner = {**ctx, i: n}
    into_table = draw(st.booleans())
    monoid: Type = TableT(N, REAL) if into_table else REAL

    def update() -> Expr:
        ref: Expr = RefIndex(Var(r), _index(draw, inner, N)) if into_table else Var(r)
        return Accum(ref, real(draw, inner, depth - 1, o))

    body = update()
    if draw(st.booleans()):
        cond = BinOp("<", App(Var("ordinal"), Var(i)), IntLit(1))
        body = If(cond, body, update())
    total = App(Var("snd"), Handle("run_accum", None, monoid, r, For(i, n, body)))
    return App(Var("sum"), total) if into_table else total


def _state(draw: st.DrawFn, ctx: Ctx, depth: int, o: Options) -> Expr:
    """A sequential loop: ``s := get s * a + b`` at each index, then the final state, or the sum
    of the running states; or a table of states updated an entry at a time."""
    s, i = f"s{len(ctx)}", f"i{len(ctx)}"
    inner = {**ctx, i: N}
    step = BinOp("+", BinOp("*", App(Var("get"), Var(s)), real(draw, inner, depth - 2, o)),
                 real(draw, inner, depth - 1, o))
    if draw(st.booleans()):  # a table of states, entries read and written at computed indices
        start = For(f"j{len(ctx)}", N, real(draw, {**ctx, f"j{len(ctx)}": N}, depth - 1, o))
        read = App(Var("get"), RefIndex(Var(s), _index(draw, inner, N)))
        update = BinOp("+", BinOp("*", read, real(draw, inner, depth - 2, o)),
                       real(draw, inner, depth - 1, o))
        loop = For(i, N, Put(RefIndex(Var(s), _index(draw, inner, N)), update))
        return App(Var("sum"), App(Var("snd"), Handle("run_state", start, None, s, loop)))
    init = real(draw, ctx, depth - 1, o)
    if draw(st.booleans()):
        loop = For(i, N, Seq(Put(Var(s), step), App(Var("get"), Var(s))))
        return App(Var("sum"), App(Var("fst"), Handle("run_state", init, None, s, loop)))
    return App(Var("snd"), Handle("run_state", init, None, s, For(i, N, Put(Var(s), step))))


def real(draw: st.DrawFn, ctx: Ctx, depth: int, o: Options | bool) -> Expr:
    """A ``Real`` expression over ``ctx``."""
    if isinstance(o, bool):
        o = Options(o)
    if depth <= 0:
        return _leaf(draw, ctx)
    forms = ["leaf", "+", "-", "*", "neg", "sum", "let", "table", "if", "pair", "pairs", "case",
             "reader", "accum"]
    if not o.polynomial:
        forms += ["exp", "log", "sqrt", "/"]
    if o.state:
        forms += ["state", "state"]
    form = draw(st.sampled_from(forms))
    sub = depth - 1
    fresh = len(ctx)
    if form in ("+", "-", "*"):
        return BinOp(form, real(draw, ctx, sub, o), real(draw, ctx, sub, o))
    if form == "neg":
        return Neg(real(draw, ctx, sub, o))
    if form == "sum":
        n = draw(st.sampled_from([N, K]))
        i = f"i{fresh}"
        return App(Var("sum"), For(i, n, real(draw, {**ctx, i: n}, sub, o)))
    if form == "let":
        y = f"y{fresh}"
        return Let(y, real(draw, ctx, sub, o), real(draw, {**ctx, y: REAL}, sub, o))
    if form == "table":
        t, i = f"t{fresh}", f"j{fresh}"
        body = real(draw, {**ctx, i: N}, sub, o)
        return Let(t, For(i, N, body), real(draw, {**ctx, t: TableT(N, REAL)}, sub, o))
    if form == "pair":
        p = f"p{fresh}"
        bound = Pair(real(draw, ctx, sub, o), real(draw, ctx, sub, o))
        return Let(p, bound, real(draw, {**ctx, p: PAIR}, sub, o))
    if form == "pairs":
        t, i = f"q{fresh}", f"j{fresh}"
        inner = {**ctx, i: N}
        body = Pair(real(draw, inner, sub, o), real(draw, inner, sub, o))
        return Let(t, For(i, N, body), real(draw, {**ctx, t: TableT(N, PAIR)}, sub, o))
    if form == "case":
        c = f"c{fresh}"
        inner = {**ctx, c: COLOR}
        alts = tuple((label, real(draw, inner, sub, o)) for label in COLOR.labels)
        return App(Var("sum"), For(c, COLOR, Case(Var(c), alts)))
    if form == "reader":
        r = f"r{fresh}"
        sources = [v for v, t in ctx.items() if isinstance(t, TableT | PairT)]
        init: Expr = real(draw, ctx, sub, o)
        ty: Type = REAL
        if draw(st.booleans()) and sources:
            v = draw(st.sampled_from(sources))
            init, ty = Var(v), ctx[v]
        inner = {**ctx, r: RefT("Read", ty, r, 0)}
        return Handle("with_reader", init, None, r,
                      BinOp("+", _ask(draw, inner, r, ty), real(draw, inner, sub, o)))
    if form == "accum":
        return _accumulate(draw, ctx, depth, o)
    if form == "state":
        return _state(draw, ctx, depth, o)
    if form == "if":
        indices = [v for v, t in ctx.items() if isinstance(t, Fin)]
        if indices:
            cond = BinOp("<", App(Var("ordinal"), Var(draw(st.sampled_from(indices)))), IntLit(1))
            return If(cond, real(draw, ctx, sub, o), real(draw, ctx, sub, o))
        return real(draw, ctx, sub, o)
    if form == "exp":
        return App(Var("exp"), BinOp("*", RealLit(Fraction(1, 4)), real(draw, ctx, sub, o)))
    if form in ("log", "sqrt"):
        return App(Var(form), _positive(draw, ctx, depth, o))
    if form == "/":
        return BinOp("/", real(draw, ctx, sub, o), _positive(draw, ctx, depth, o))
    return _leaf(draw, ctx)


@st.composite
def ad_programs(draw: st.DrawFn, polynomial: bool = False, depth: int = 3,
                table: bool = False, state: bool = False) -> AdProgram:
    """A program of type ``Real`` (or ``Fin 3=>Real`` when ``table``) over the parameters; with
    ``state``, one that threads a ``State`` through a sequential loop somewhere."""
    o = Options(polynomial, state)
    if state:
        return AdProgram(BinOp("+", _state(draw, dict(PARAMS), depth, o),
                               real(draw, dict(PARAMS), depth - 1, o)), PARAMS)
    if table:
        return AdProgram(For("o", N, real(draw, {**PARAMS, "o": N}, depth, o)), PARAMS)
    return AdProgram(real(draw, dict(PARAMS), depth, o), PARAMS)


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


__all__ = ["COLOR", "PARAMS", "AdProgram", "ad_programs", "environments",
           "parameter_values", "real"]
