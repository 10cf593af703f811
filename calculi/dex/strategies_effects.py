"""Hypothesis generators of Dex programs that nest the three effects: ``with_reader``,
``run_state`` and ``run_accum`` inside each other, ``for`` inside handlers and handlers inside
``for``, on references to reals and to tables (``r!i += v``, ``s!i := get (s!i) + v``,
``(ask q).i``). Every program is closed, well typed and has type Real; arithmetic is exact.

A handler hides the outer references of its own kind from its body (the body uses its own, and
those of the other kinds), which is what the translation into λp can express: there a handler is
found by the name of the operation.
"""

from __future__ import annotations

from fractions import Fraction

from hypothesis import strategies as st

from calculi.dex.strategies import (
    INDEX_NAMES,
    REF_NAMES,
    Ctx,
    Program,
    _bind,
    _index_of,
    _real_literal,
    index_sets,
)
from calculi.dex.strategies_inference import loop
from calculi.dex.syntax import (
    REAL,
    Accum,
    App,
    BinOp,
    Expr,
    Fin,
    Handle,
    Index,
    Put,
    RealLit,
    RefIndex,
    RefT,
    Seq,
    TableT,
    Type,
    UnitLit,
    Var,
)
from calculi.dex.typing_base import HANDLER_KIND

_ELEMS: list[Type] = [REAL, REAL, TableT(Fin(2), REAL), TableT(Fin(3), REAL)]


def _refs(ctx: Ctx, *kinds: str) -> list[tuple[str, RefT]]:
    return [(x, t) for x, t in ctx.items() if isinstance(t, RefT) and t.kind in kinds]


def _call(prim: str, arg: Expr) -> Expr:
    return App(Var(prim), arg)


def _handled(draw: st.DrawFn, ctx: Ctx, depth: int) -> Expr:
    """A handler of a drawn kind around a body of type Real, projected to a Real."""
    handler = draw(st.sampled_from(["with_reader", "run_state", "run_accum"]))
    kind = HANDLER_KIND[handler]
    name = draw(st.sampled_from(REF_NAMES))
    elem = draw(st.sampled_from(_ELEMS))
    hidden = {x: t for x, t in ctx.items() if not (isinstance(t, RefT) and t.kind == kind)}
    body = _body(draw, _bind(hidden, name, RefT(kind, elem, name, 0)), depth - 1)
    if handler == "run_accum":
        handle = Handle(handler, None, elem, name, body)
    else:
        handle = Handle(handler, _value_of(draw, ctx, elem, depth - 1), None, name, body)
    if handler == "with_reader":
        return handle
    if draw(st.booleans()):
        return _call("fst", handle)
    final = _call("snd", handle)
    return _call("sum", final) if isinstance(elem, TableT) else final


def _body(draw: st.DrawFn, ctx: Ctx, depth: int) -> Expr:
    """A Real, computed by a ``for`` of statements, by a nested handler, or read from references."""
    how = draw(st.sampled_from(["loop", "loop", "statements", "value"]
                               + ["handler"] * (depth > 0)))
    if how == "handler":
        return _handled(draw, ctx, depth)
    if how == "statements":
        return Seq(_statement(draw, ctx, depth), _value_of(draw, ctx, REAL, depth))
    if how == "value":
        return _value_of(draw, ctx, REAL, depth)
    index = draw(st.sampled_from(INDEX_NAMES))
    n = draw(index_sets())
    inner = _bind(ctx, index, n)
    step: Expr = Seq(_statement(draw, inner, depth), _value_of(draw, inner, REAL, depth))
    return _call("sum", loop(draw, index, n, step))


def _statement(draw: st.DrawFn, ctx: Ctx, depth: int) -> Expr:
    """``()`` for its effects: ``r += v``, ``r!i += v``, ``s := …``, ``s!i := …``, a ``for`` of
    statements, or two statements in a row."""
    refs = _refs(ctx, "Accum", "State")
    how = draw(st.sampled_from(["update"] * 3 * bool(refs) + ["for", "seq"] * (depth > 0)
                               + ["unit"]))
    if how == "unit":
        return UnitLit()
    if how == "seq":
        return Seq(_statement(draw, ctx, depth - 1), _statement(draw, ctx, depth - 1))
    if how == "for":
        index = draw(st.sampled_from(INDEX_NAMES))
        n = draw(index_sets())
        return loop(draw, index, n, _statement(draw, _bind(ctx, index, n), depth - 1))
    name, ref = draw(st.sampled_from(refs))
    target: Expr = Var(name)
    elem = ref.elem
    if isinstance(elem, TableT) and draw(st.booleans()):
        target, elem = RefIndex(target, _index_of(draw, ctx, elem.index)), elem.elem
    value = _value_of(draw, ctx, elem, depth - 1)
    if ref.kind == "Accum":
        return Accum(target, value)
    if elem == REAL and draw(st.booleans()):  # a running update, which the order of a for shows
        scale = RealLit(draw(st.sampled_from([Fraction(1), Fraction(1, 2), Fraction(2)])))
        value = BinOp("+", BinOp("*", _call("get", target), scale), value)
    return Put(target, value)


def _value_of(draw: st.DrawFn, ctx: Ctx, ty: Type, depth: int) -> Expr:
    """A value of ``ty`` (Real, or a table of reals) that may read references and indices."""
    if isinstance(ty, TableT):
        index = draw(st.sampled_from(INDEX_NAMES))
        return loop(draw, index, ty.index,
                    _value_of(draw, _bind(ctx, index, ty.index), ty.elem, depth))
    readable = _refs(ctx, "State", "Read")
    indices = [x for x, t in ctx.items() if isinstance(t, Fin)]
    how = draw(st.sampled_from(["literal"] + ["read"] * 2 * bool(readable)
                               + ["position"] * bool(indices)
                               + ["plus", "handler"] * (depth > 0)))
    if how == "literal":
        return _real_literal(draw)
    if how == "position":
        return _call("to_real", _call("ordinal", Var(draw(st.sampled_from(indices)))))
    if how == "plus":
        return BinOp(draw(st.sampled_from(["+", "-", "*"])), _value_of(draw, ctx, REAL, depth - 1),
                     _value_of(draw, ctx, REAL, depth - 1))
    if how == "handler":
        return _handled(draw, ctx, depth - 1)
    name, ref = draw(st.sampled_from(readable))
    prim = "get" if ref.kind == "State" else "ask"
    if isinstance(ref.elem, TableT):
        at = _index_of(draw, ctx, ref.elem.index)
        if prim == "get" and draw(st.booleans()):
            return _call("get", RefIndex(Var(name), at))
        return Index(_call(prim, Var(name)), at)
    return _call(prim, Var(name))


@st.composite
def effect_programs(draw: st.DrawFn, depth: int = 3) -> Program:
    """A closed program of type Real: handlers of the three effects, nested, with ``for``s."""
    return Program(_handled(draw, {}, depth))


__all__ = ["effect_programs"]
