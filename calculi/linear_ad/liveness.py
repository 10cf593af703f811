"""Backward liveness over the bindings unzip writes: which of them stay, and which names are live.

Unzip copies the non-linear bindings it recomputes into the linear half; afterwards, the copies the
linear half does not use, and the originals only those copies needed, are removed here. The names
live at the top of the linear half are its residuals: what the tape carries.
"""

from __future__ import annotations

from collections.abc import Callable

from calculi.linear_ad.freevars import free_vars
from calculi.linear_ad.syntax import (
    Binding,
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
    Zero,
    var_of,
)


def eliminate(bindings: list[Binding], result: Expr, live_out: set[int],
               removable: Callable[[LetB], bool]) -> tuple[list[Binding], list[LetB], set[int]]:
    """Backward liveness: drop removable non-linear bindings none of whose names is used later;
    a kept binding with some unused names is followed by a ``drop`` of those names. The names live
    on entry are the free non-linear variables of the kept block (and ``live_out``)."""
    live = set(free_vars(result)[0]) | live_out
    kept_rev: list[Binding] = []
    kept: list[LetB] = []
    for b in reversed(bindings):
        if isinstance(b, LetB) and not b.lbinders and b.binders and removable(b):
            used = [x for x in b.binders if x.name in live]
            if not used:
                continue
            unused = [x for x in b.binders if x.name not in live]
            if unused:
                kept_rev.append(LetB((), (), Drop(Ret(tuple(map(var_of, unused)), ()))))
            kept.append(b)
        live.difference_update(_bound(b))
        if isinstance(b, LetB):
            add_used(b.rhs, live)
        elif isinstance(b, UnpackB):
            live.add(b.var.name)
        kept_rev.append(b)
    kept_rev.reverse()
    return kept_rev, kept, live


def add_used(e: Expr, live: set[int]) -> None:
    """Add FV_nl(e) to ``live``: the variables of what U writes, which binds nothing, read in place."""
    kind = type(e)
    if kind is Var:
        live.add(e.name)  # type: ignore[attr-defined]
    elif kind is Prim:
        assert isinstance(e, Prim)
        for a in (*e.args, *e.largs):
            add_used(a, live)
    elif kind is Ret or kind is Tup:
        live.update([v.name for v in e.vars])  # type: ignore[attr-defined]
    elif kind is Call:
        assert isinstance(e, Call)
        live.update([v.name for v in e.args])
    elif kind is Dup or kind is Drop:
        add_used(e.arg, live)  # type: ignore[attr-defined]
    elif kind is not LVar and kind is not Lit and kind is not Zero and kind is not TupL:
        live |= free_vars(e)[0]


def _bound(b: Binding) -> list[int]:
    if isinstance(b, LetB):
        return [x.name for x in (*b.binders, *b.lbinders)]
    if isinstance(b, UnpackB):
        return [x.name for x in b.binders]
    if isinstance(b, UnpackLB):
        return [x.name for x in b.lbinders]
    return []
