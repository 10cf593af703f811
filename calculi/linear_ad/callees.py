"""The functions a pass needs: a function and every function it calls, transitively."""

from __future__ import annotations

from calculi.linear_ad.check import Typing
from calculi.linear_ad.syntax import Block, Call, Drop, Dup, Expr, LetB, Prim


def callees(typing: Typing, name: str) -> list[str]:
    """``name`` and every function it calls, transitively, in definition order (from the calls the
    checker recorded; a function it did not check is walked)."""
    wanted = {name}
    calls = typing.calls
    for d in reversed(typing.program.defs):
        if d.name in wanted:
            called = calls.get(d.name)
            wanted |= _calls_in(d.body) if called is None else called
    return [d.name for d in typing.program.defs if d.name in wanted]


def _calls_in(body: Expr) -> set[str]:
    found: set[str] = set()
    stack: list[Expr] = [body]
    while stack:
        e = stack.pop()
        if isinstance(e, Call):
            found.add(e.func)
        if isinstance(e, Block):
            stack.extend(b.rhs for b in e.bindings if isinstance(b, LetB))
            stack.append(e.result)
        elif isinstance(e, Prim):
            stack.extend((*e.args, *e.largs))
        elif isinstance(e, Dup | Drop):
            stack.append(e.arg)
    return found
