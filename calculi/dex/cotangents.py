"""Where a cotangent accumulates: ``run_accum`` sums reals and tables of reals only, so the
cotangent of a value of any other type with a tangent lives in one accumulator per *column*,
a pair of tables becoming two tables (and a table of pairs a pair of tables):

    cols(Real) = [Real]    cols(n=>a) = [n=>c | c ∈ cols(a)]   (n=>a itself when a sums)
    cols((a, b)) = cols(a) ++ cols(b)                        cols(τ) = [] without a Real

A ``RefTree`` mirrors the type: a reference (leaf), a pair of trees, or ``()`` for no tangent;
indexing it by ``i`` indexes every leaf, and ``assemble`` rebuilds the cotangent from the sums.
"""

from __future__ import annotations

from dataclasses import dataclass

from calculi.dex.check import is_monoid
from calculi.dex.syntax import App, Expr, For, Index, Pair, PairT, RefIndex, TableT, Type, UnitLit, Var
from calculi.dex.tangents import Names, differentiable


@dataclass(frozen=True, slots=True)
class Refs:
    """A pair of ``RefTree``s (the cotangent of a pair)."""

    fst: RefTree
    snd: RefTree


@dataclass(frozen=True, slots=True)
class NoRefs:
    """The cotangent of a value without a tangent: nothing to accumulate."""


@dataclass(frozen=True, slots=True)
class Direct:
    """In place of references: a linear real whose cotangent is summed by name (``spine``)."""

    name: str


RefTree = Expr | Refs | NoRefs | Direct


def allocate(ty: Type, names: Names) -> tuple[RefTree, list[tuple[str, Type]]]:
    """A tree of fresh references for a cotangent of ``ty``, and each reference with its column."""
    if not differentiable(ty):
        return NoRefs(), []
    if is_monoid(ty):
        r = names.fresh("r")
        return Var(r), [(r, ty)]
    if isinstance(ty, PairT):
        (a, ca), (b, cb) = allocate(ty.fst, names), allocate(ty.snd, names)
        return Refs(a, b), ca + cb
    assert isinstance(ty, TableT)
    tree, columns = allocate(ty.elem, names)
    return tree, [(r, TableT(ty.index, column)) for r, column in columns]


def index(tree: RefTree, i: Expr) -> RefTree:
    """``tree!i``: every leaf indexed."""
    if isinstance(tree, Refs):
        return Refs(index(tree.fst, i), index(tree.snd, i))
    assert not isinstance(tree, Direct)
    return tree if isinstance(tree, NoRefs) else RefIndex(tree, i)


def sums(value: Expr, count: int) -> list[Expr]:
    """The sums in ``value = ((…(b, s_k)…), s_1)``, the value of ``count`` nested ``run_accum``s."""
    out: list[Expr] = []
    for _ in range(count):
        out.append(App(Var("snd"), value))
        value = App(Var("fst"), value)
    return out


def assemble(ty: Type, columns: list[Expr], names: Names) -> Expr:
    """The cotangent of ``ty`` from the values of its columns (consumed from the front)."""
    if not differentiable(ty):
        return UnitLit()
    if is_monoid(ty):
        return columns.pop(0)
    if isinstance(ty, PairT):
        first = assemble(ty.fst, columns, names)
        return Pair(first, assemble(ty.snd, columns, names))
    assert isinstance(ty, TableT)
    i = names.fresh("i")
    count = len(allocate(ty.elem, Names(set()))[1])
    mine = [Index(c, Var(i)) for c in columns[:count]]
    del columns[:count]
    return For(i, ty.index, assemble(ty.elem, list(mine), names))


__all__ = ["Direct", "NoRefs", "RefTree", "Refs", "allocate", "assemble", "index", "sums"]
