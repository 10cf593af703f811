"""Free variables of an expression, split by kind: FV(e) = (non-linear names, linear names)."""

from __future__ import annotations

from calculi.linear_ad.syntax import (
    Block,
    Call,
    Drop,
    Dup,
    Expr,
    LetB,
    Lit,
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


def sorted_names(e: Expr, cache: dict[int, FV]) -> tuple[int, ...]:
    """The non-linear free names of ``e``, sorted, each once: read off a variable, a call, a return,
    a tuple and a primitive applied to variables, literals and such applications; other terms go
    through ``free_vars`` with ``cache``."""
    kind = type(e)
    if kind is Var:
        return (e.name,)  # type: ignore[attr-defined]
    if kind is Prim and not e.largs:  # type: ignore[attr-defined]
        names: list[int] = []
        for a in e.args:  # type: ignore[attr-defined]
            kind = type(a)
            if kind is Var:
                names.append(a.name)
            elif kind is Prim and not a.largs:
                for b in a.args:
                    if type(b) is Var:
                        names.append(b.name)
                    elif type(b) is not Lit:
                        break
                else:
                    continue
                break
            elif kind is not Lit:
                break
        else:
            return tuple(names) if len(names) < 2 else tuple(sorted(set(names)))
    elif kind is Call or kind is Ret or kind is Tup:
        names = [a.name for a in (e.args if kind is Call else e.vars)]  # type: ignore[attr-defined]
        return tuple(names) if len(names) < 2 else tuple(sorted(set(names)))
    hit = cache.get(id(e))
    found = hit[0] if hit is not None else free_vars(e, cache)[0]
    return tuple(sorted(found)) if len(found) > 1 else tuple(found)
