"""The type checker of PartIR:Core: shapes, mesh axes, and each axis used once per value.

    Γ ⊢ xs : s          prim's shape rule gives s'                        [Apply]
    Γ ⊢ y = prim[p](xs) : s'
    a bound by an enclosing loop, a ∉ axes(x), |a| divides s_d             [Slice]
    Γ ⊢ y = slice(x, d, a) : s[d ↦ s_d / |a|]
    a ∈ mesh, no enclosing loop over a, Γ, a ⊢ body; yield v : s           [Loop]
    Γ ⊢ y = loop a #tile<d> {...} : s[d ↦ s_d·|a|]      (#sum: s)

Names are bound once in the whole function (SSA); names bound in a loop body are local to it.
"""

from __future__ import annotations

from dataclasses import dataclass

from calculi.core.errors import TypeCheckError, UnboundError
from calculi.core.syntax import Span
from calculi.partir.prims import PRIMS, VARIADIC
from calculi.partir.syntax import Apply, Func, Loop, Shape, Slice, Stmt, Tile
from calculi.redistribution.check import check_mesh
from calculi.redistribution.syntax import Mesh

CALCULUS = "partir"
MAX_RANK = 8


@dataclass(frozen=True, slots=True)
class Typed:
    shape: Shape
    axes: frozenset[str]
    """The mesh axes this value was sliced along (each at most once)."""


Env = dict[str, Typed]


def _lookup(env: Env, name: str, span: Span | None) -> Typed:
    if name not in env:
        raise UnboundError(f"{name} is not bound before this statement", span)
    return env[name]


def _bind(env: Env, seen: set[str], name: str, typed: Typed, span: Span | None) -> None:
    if name in seen:
        raise TypeCheckError(f"{name} is bound twice (each name is bound once)", span, rule="SSA")
    if len(typed.shape) > MAX_RANK:
        raise TypeCheckError(f"{name} has rank {len(typed.shape)}; at most {MAX_RANK}", span, rule="rank")
    seen.add(name)
    env[name] = typed


def _apply(stmt: Apply, env: Env) -> Typed:
    prim = PRIMS.get(stmt.prim)
    if prim is None:
        raise TypeCheckError(f"unknown primitive {stmt.prim}; known: {', '.join(sorted(PRIMS))}", stmt.span,
                             rule="Apply")
    if prim.arity != VARIADIC and len(stmt.args) != prim.arity:
        raise TypeCheckError(f"{stmt.prim} takes {prim.arity} operand(s), got {len(stmt.args)}", stmt.span,
                             rule=stmt.prim)
    typed = [_lookup(env, a, stmt.span) for a in stmt.args]
    shape = prim.shape(stmt.params, [t.shape for t in typed], stmt.span)
    return Typed(shape, frozenset().union(*(t.axes for t in typed)))


def _slice(stmt: Slice, env: Env, mesh: Mesh, loops: tuple[str, ...]) -> Typed:
    x = _lookup(env, stmt.arg, stmt.span)
    if stmt.axis not in loops:
        raise TypeCheckError(f"slice along {stmt.axis} outside a loop over {stmt.axis}", stmt.span,
                             rule="Slice")
    if stmt.axis in x.axes:
        raise TypeCheckError(f"{stmt.arg} is already sliced along {stmt.axis} (each axis once per value)",
                             stmt.span, rule="Slice")
    if not 0 <= stmt.dim < len(x.shape):
        raise TypeCheckError(f"{stmt.arg} has no dimension {stmt.dim} (rank {len(x.shape)})", stmt.span,
                             rule="Slice")
    size = mesh.size(stmt.axis)
    if x.shape[stmt.dim] % size:
        raise TypeCheckError(f"dimension {stmt.dim} of {stmt.arg} ({x.shape[stmt.dim]}) is not a multiple of "
                             f"|{stmt.axis}| = {size}", stmt.span, rule="Slice")
    shape = (*x.shape[: stmt.dim], x.shape[stmt.dim] // size, *x.shape[stmt.dim + 1 :])
    return Typed(shape, x.axes | {stmt.axis})


def _loop(stmt: Loop, env: Env, seen: set[str], mesh: Mesh, loops: tuple[str, ...]) -> Typed:
    if stmt.axis not in mesh:
        raise TypeCheckError(f"{stmt.axis} is not an axis of the mesh {', '.join(mesh.names)}", stmt.span,
                             rule="Loop")
    if stmt.axis in loops:
        raise TypeCheckError(f"loop over {stmt.axis} inside a loop over {stmt.axis}", stmt.span, rule="Loop")
    inner = dict(env)
    check_body(stmt.body, inner, seen, mesh, (*loops, stmt.axis))
    body = _lookup(inner, stmt.value, stmt.span)
    axes = body.axes - {stmt.axis}
    if isinstance(stmt.action, Tile):
        d = stmt.action.dim
        if not 0 <= d < len(body.shape):
            raise TypeCheckError(f"#tile<{d}> of a value of rank {len(body.shape)}", stmt.span, rule="Loop")
        shape = (*body.shape[:d], body.shape[d] * mesh.size(stmt.axis), *body.shape[d + 1 :])
        return Typed(shape, axes)
    return Typed(body.shape, axes)


def check_body(body: tuple[Stmt, ...], env: Env, seen: set[str], mesh: Mesh, loops: tuple[str, ...]) -> None:
    for stmt in body:
        if isinstance(stmt, Apply):
            typed = _apply(stmt, env)
        elif isinstance(stmt, Slice):
            typed = _slice(stmt, env, mesh, loops)
        else:
            typed = _loop(stmt, env, seen, mesh, loops)
        _bind(env, seen, stmt.result, typed, stmt.span)


def check_func(func: Func) -> dict[str, Shape]:
    """The shape of every name bound at the top level (inputs and statements), or a ``TypeCheckError``."""
    check_mesh(func.mesh)
    env: Env = {}
    seen: set[str] = set()
    for i in func.inputs:
        if any(n < 1 for n in i.shape):
            raise TypeCheckError(f"input {i.name} has an empty dimension", i.span, rule="Input")
        _bind(env, seen, i.name, Typed(i.shape, frozenset()), i.span)
    check_body(func.body, env, seen, func.mesh, ())
    if not func.results:
        raise TypeCheckError("the function returns nothing", func.span, rule="Return")
    for r in func.results:
        _lookup(env, r, func.span)
    return {name: t.shape for name, t in env.items()}
