"""Generated ``for i. e`` with the index set left out, and programs whose index set cannot be
inferred (for the error path of T-For).

A generated ``for i:n. e`` is drawn as ``for i. e`` when its body uses ``i`` where the index set
is known: as the index of a table (``x.i``, ``x.(i, j)``) or of a reference (``r!i``). The first
such use fixes ``n``, and every use of a well-typed program agrees with it.
"""

from __future__ import annotations

from fractions import Fraction

from hypothesis import strategies as st

from calculi.dex.syntax import (
    Accum,
    App,
    At,
    BinOp,
    Case,
    Expr,
    For,
    Handle,
    If,
    Index,
    Lam,
    Let,
    Neg,
    Omitted,
    Pair,
    Put,
    RealLit,
    RefIndex,
    Seq,
    Type,
    Var,
)


def fixes(index: str, e: Expr) -> bool:
    """Does ``e`` use ``index`` (free) as the index of a table or of a reference?"""
    match e:
        case Index(table=t, index=k) | RefIndex(ref=t, index=k):
            return _mentions(index, k) or fixes(index, t) or fixes(index, k)
        case Lam(param=x, body=b) | For(index=x, body=b):
            return x != index and fixes(index, b)
        case Let(name=x, bound=a, body=b):
            return fixes(index, a) or (x != index and fixes(index, b))
        case Handle(init=a, ref=x, body=b):
            return (a is not None and fixes(index, a)) or (x != index and fixes(index, b))
        case Case(scrutinee=a, alts=alts):
            return fixes(index, a) or any(fixes(index, b) for _, b in alts)
        case If(cond=a, then=b, orelse=c):
            return fixes(index, a) or fixes(index, b) or fixes(index, c)
        case Pair(fst=a, snd=b) | Seq(first=a, then=b) | App(fun=a, arg=b) | \
                BinOp(left=a, right=b) | Accum(ref=a, value=b) | Put(ref=a, value=b):
            return fixes(index, a) or fixes(index, b)
        case Neg(arg=a) | At(value=a):
            return fixes(index, a)
    return False


def _mentions(index: str, k: Expr) -> bool:
    """``k`` is ``index`` or a (nested) pair with ``index`` as a component."""
    match k:
        case Var(name=x):
            return x == index
        case Pair(fst=a, snd=b):
            return _mentions(index, a) or _mentions(index, b)
    return False


def loop(draw: st.DrawFn, index: str, n: Type, body: Expr) -> For:
    """``for index:n. body``, drawn as ``for index. body`` when ``body`` fixes ``n``."""
    if fixes(index, body) and draw(st.booleans()):
        return For(index, Omitted(), body)
    return For(index, n, body)


@st.composite
def uninferable_loops(draw: st.DrawFn) -> Expr:
    """A ``for i. e`` whose index set cannot be inferred, or whose uses disagree on it: ``i``
    unused, only counted (``ordinal i``), or indexing tables of two different index sets."""
    from calculi.dex.strategies import fins, index_sets

    index = draw(st.sampled_from(["i", "j", "k"]))
    n, m = draw(index_sets()), draw(index_sets())
    how = draw(st.sampled_from(["unused", "ordinal", "conflict"]))
    if how == "unused":
        return For(index, Omitted(), BinOp("+", Var("c"), Var("c")))
    if how == "ordinal":
        return For(index, Omitted(), App(Var("to_real"), App(Var("ordinal"), Var(index))))
    if m == n:
        m = draw(fins().filter(lambda f: f != n))
    uses = [Index(Var("x"), Var(index)), Index(Var("y"), Var(index))]
    if draw(st.booleans()):
        uses.reverse()
    return Let("x", For("a", n, Var("c")), Let("y", For("b", m, Var("c")),
                                                For(index, Omitted(), BinOp("+", *uses))))


@st.composite
def uninferable_programs(draw: st.DrawFn) -> Expr:
    """``let c = 1.5 in L`` for an uninferable loop ``L`` (``c`` makes the bodies real)."""
    return Let("c", RealLit(Fraction(3, 2)), draw(uninferable_loops()))
