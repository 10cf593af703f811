"""Free variables of an expression, split by kind: FV(e) = (non-linear names, linear names)."""

from __future__ import annotations

from calculi.linear_ad.syntax import (
    Block,
    Call,
    Drop,
    Dup,
    Expr,
    LetB,
    LVar,
    Prim,
    Ret,
    Tup,
    TupL,
    UnpackB,
    UnpackLB,
    Var,
)

FV = tuple[frozenset[int], frozenset[int]]
EMPTY_FV: FV = (frozenset(), frozenset())
_NONE: frozenset[int] = frozenset()


def free_vars(e: Expr, cache: dict[int, FV] | None = None) -> FV:
    """FV(e); with a ``cache`` (keyed by node identity) each node is visited once across calls."""
    if cache is not None:
        hit = cache.get(id(e))
        if hit is not None:
            return hit
    result = _free(e, cache)
    if cache is not None:
        cache[id(e)] = result
    return result


def _free(e: Expr, cache: dict[int, FV] | None) -> FV:
    kind = type(e)
    if kind is Var:
        return frozenset((e.name,)), _NONE  # type: ignore[attr-defined]
    if kind is Prim:
        assert isinstance(e, Prim)
        if not e.largs and all(type(a) is Var for a in e.args):
            return frozenset([a.name for a in e.args]), _NONE  # type: ignore[attr-defined]
        return _prim(e, cache)
    if isinstance(e, Var):
        return frozenset((e.name,)), frozenset()
    if isinstance(e, LVar):
        return frozenset(), frozenset((e.name,))
    if isinstance(e, Ret):
        return frozenset(v.name for v in e.vars), frozenset(v.name for v in e.lvars)
    if isinstance(e, Tup):
        return frozenset(v.name for v in e.vars), frozenset()
    if isinstance(e, TupL):
        return frozenset(), frozenset(v.name for v in e.lvars)
    if isinstance(e, Call):
        return frozenset(v.name for v in e.args), frozenset(v.name for v in e.largs)
    if isinstance(e, Prim):
        return _prim(e, cache)
    if isinstance(e, Dup | Drop):
        return free_vars(e.arg, cache)
    if isinstance(e, Block):
        return _block(e, cache)
    return EMPTY_FV


def _prim(e: Prim, cache: dict[int, FV] | None) -> FV:
    nl: set[int] = set()
    ln: set[int] = set()
    for a in (*e.args, *e.largs):
        x, y = free_vars(a, cache)
        nl |= x
        ln |= y
    return frozenset(nl), frozenset(ln)


def _block(e: Block, cache: dict[int, FV] | None) -> FV:
    """Walk the bindings backwards: FV(let p = e1 in rest) = FV(e1) ∪ (FV(rest) ∖ p)."""
    nl, ln = (set(s) for s in free_vars(e.result, cache))
    for b in reversed(e.bindings):
        if isinstance(b, LetB):
            nl.difference_update(x.name for x in b.binders)
            ln.difference_update(x.name for x in b.lbinders)
            x, y = free_vars(b.rhs, cache)
            nl |= x
            ln |= y
        elif isinstance(b, UnpackB):
            nl.difference_update(x.name for x in b.binders)
            nl.add(b.var.name)
        elif isinstance(b, UnpackLB):
            ln.difference_update(x.name for x in b.lbinders)
            ln.add(b.var.name)
    return frozenset(nl), frozenset(ln)
