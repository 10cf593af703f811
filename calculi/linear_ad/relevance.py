"""Relevance restored: after a pass removed uses of non-linear variables, every one is used again.

Γ is relevant in Linear A (every non-linear variable used at least once), so a pass that deletes an
expression (the zero pass deletes ``s`` from ``s ⊙ 0``) may leave a binding nothing uses. Such a
binding is removed when it only computes (no linear variable is consumed in it), which saves its
work (the zero pass's rule Z(dead let)); a name still unused is dropped where it is bound.
"""

from __future__ import annotations

from calculi.linear_ad.freevars import free_vars
from calculi.linear_ad.rules import fire
from calculi.linear_ad.syntax import (
    Binding,
    Block,
    Drop,
    Dup,
    Expr,
    LetB,
    Prim,
    Ret,
    UnpackB,
    Var,
    block,
    var_of,
)


def relevant(e: Expr, params: tuple[Var, ...] = ()) -> Expr:
    """Γ relevant again: a non-linear binding none of whose names is used, and which consumes no
    linear variable, is removed (Z(dead let)); a name still unused is dropped where it is bound."""
    e, live = _relevant(e)
    dead = tuple(x for x in params if x.name not in live)
    return block([LetB((), (), Drop(Ret(dead, ())))], e) if dead else e


def _relevant(e: Expr) -> tuple[Expr, set[int]]:
    """``e`` made relevant, and its free non-linear variables."""
    if not isinstance(e, Block):
        if not _has_block(e):
            return e, set(free_vars(e)[0])
        if isinstance(e, Dup):
            arg, fv = _relevant(e.arg)
            return Dup(arg, span=e.span), fv
        assert isinstance(e, Prim)
        args = [_relevant(a) for a in e.args]
        largs = [_relevant(a) for a in e.largs]
        return (Prim(e.prim, tuple(a for a, _ in args), tuple(a for a, _ in largs), e.params, span=e.span),
                set().union(*(fv for _, fv in (*args, *largs))))
    result, live = _relevant(e.result)
    kept: list[Binding] = []
    for b in reversed(e.bindings):
        if isinstance(b, LetB):
            nl: set[int] | frozenset[int]
            if _has_block(b.rhs):
                rhs, nl = _relevant(b.rhs)
                b = LetB(b.binders, b.lbinders, rhs, span=b.span)
                ln = free_vars(rhs)[1]
            else:
                nl, ln = free_vars(b.rhs)
            dead = tuple(x for x in b.binders if x.name not in live)
            if b.binders and len(dead) == len(b.binders) and not b.lbinders and not ln:
                fire("Z(dead let)")
                continue
            live.difference_update(x.name for x in b.binders)
            live.update(nl)
        elif isinstance(b, UnpackB):
            dead = tuple(x for x in b.binders if x.name not in live)
            if len(dead) == len(b.binders):
                continue
            live.difference_update(x.name for x in b.binders)
            live.add(b.var.name)
        else:
            dead = ()
        if dead:
            kept.append(LetB((), (), Drop(Ret(tuple(map(var_of, dead)), ()))))
        kept.append(b)
    kept.reverse()
    return block(kept, result), live


def _has_block(e: Expr) -> bool:
    """Whether a block (with bindings to make relevant) is nested in a primitive or a dup."""
    stack = [e]
    while stack:
        node = stack.pop()
        if isinstance(node, Block):
            return True
        if isinstance(node, Prim):
            stack.extend((*node.args, *node.largs))
        elif isinstance(node, Dup):
            stack.append(node.arg)
    return False
