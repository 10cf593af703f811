"""The partitioned program in PartIR:Core: each operation wrapped in its loops, operands sliced.

    y = op(x, w)  with loops [(a, f)]
      ⟶   y = loop a #act(f) { x' = slice(x, f_x, a); y' = op(x', w); yield y' }

Its reference semantics must equal the unpartitioned program's (a theorem): that checks every
factor of every primitive, since the loop form is built from them alone.
"""

from __future__ import annotations

import math

from calculi.core.errors import TypeCheckError
from calculi.partir.prims import PRIMS
from calculi.partir.propagation import Loops, Partitioning, local_dims, shapes_of
from calculi.partir.syntax import Action, Apply, Func, Loop, Slice, Stmt, Sum, Tile


class _Names:
    def __init__(self, used: set[str]) -> None:
        self.used = used

    def fresh(self, base: str) -> str:
        k = 1
        while f"{base}_{k}" in self.used:
            k += 1
        self.used.add(f"{base}_{k}")
        return f"{base}_{k}"


def _action(op: Apply, axis: str, result: int | None, reduce: bool) -> Action:
    if reduce:
        return Sum()
    if result is None:
        raise TypeCheckError(f"the loop of {op.result} over {axis} neither tiles nor sums its result",
                             op.span,
                             rule=op.prim)
    return Tile(result)


def _wrap(op: Apply, loops: Loops, args: tuple[str, ...], depth: int, local: tuple[int, ...],
          names: _Names) -> tuple[list[Stmt], str]:
    if depth == len(loops):
        inner = names.fresh(op.result)
        params = PRIMS[op.prim].localize(op.params, local)
        return [Apply(inner, op.prim, params, args)], inner
    axis, f = loops[depth]
    body: list[Stmt] = []
    sliced = []
    for arg, e in zip(args, f.operands, strict=True):
        if e is None:
            sliced.append(arg)
        else:
            s = names.fresh(arg)
            body.append(Slice(s, arg, e, axis))
            sliced.append(s)
    stmts, value = _wrap(op, loops, tuple(sliced), depth + 1, local, names)
    out = op.result if depth == 0 else names.fresh(op.result)
    return [Loop(out, axis, _action(op, axis, f.result, f.reduce), (*body, *stmts), value)], out


def to_loops(part: Partitioning) -> Func:
    """The PartIR:Core program of a partitioning (unlooped operations stay as they are)."""
    shapes = shapes_of(part.func)
    mesh = part.func.mesh
    names = _Names(set(shapes))
    body: list[Stmt] = []
    for stmt in part.func.body:
        assert isinstance(stmt, Apply)
        loops = part.loops.get(stmt.result, ())
        if not loops:
            body.append(stmt)
            continue
        tiles = [(d, mesh.size(a)) for a, f in loops if (d := f.result) is not None]
        local = tuple(local_dims(shapes[stmt.result], tiles))
        assert math.prod(local) > 0
        stmts, _ = _wrap(stmt, loops, stmt.args, 0, local, names)
        body += stmts
    return Func(mesh, part.func.name, part.func.inputs, tuple(body), part.func.results, span=part.func.span)
