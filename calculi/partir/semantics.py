"""The reference semantics of PartIR:Core: a loop runs its body once per index of its mesh axis.

    ⟦loop a #tile<d> {b; yield v}⟧ρ = concat_d [⟦b; v⟧ρ[a ↦ i] | i < |a|]
    ⟦loop a #sum {b; yield v}⟧ρ     = Σ_i ⟦b; v⟧ρ[a ↦ i]
    ⟦slice(x, d, a)⟧ρ               = the ρ(a)-th of |a| equal chunks of ρ(x) along d
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from calculi.core import coverage
from calculi.core.errors import ShapeError
from calculi.partir.check import CALCULUS, check_func
from calculi.partir.prims import PRIMS, Array
from calculi.partir.syntax import Apply, Func, Loop, Slice, Stmt, Tile
from calculi.redistribution.syntax import Mesh

LOOP_TILE, LOOP_SUM, SLICE, APPLY = "loop #tile", "loop #sum", "slice", "apply"
RULES = coverage.declare(CALCULUS, [APPLY, SLICE, LOOP_TILE, LOOP_SUM])


def run_body(body: tuple[Stmt, ...], env: dict[str, Array], index: dict[str, int], mesh: Mesh) -> None:
    for stmt in body:
        if isinstance(stmt, Apply):
            coverage.fired(CALCULUS, APPLY)
            env[stmt.result] = PRIMS[stmt.prim].impl(stmt.params, [env[a] for a in stmt.args])
        elif isinstance(stmt, Slice):
            coverage.fired(CALCULUS, SLICE)
            chunks = np.split(env[stmt.arg], mesh.size(stmt.axis), axis=stmt.dim)
            env[stmt.result] = chunks[index[stmt.axis]]
        else:
            env[stmt.result] = _loop(stmt, env, index, mesh)


def _loop(stmt: Loop, env: dict[str, Array], index: dict[str, int], mesh: Mesh) -> Array:
    parts = []
    for i in range(mesh.size(stmt.axis)):
        inner = dict(env)
        run_body(stmt.body, inner, {**index, stmt.axis: i}, mesh)
        parts.append(inner[stmt.value])
    if isinstance(stmt.action, Tile):
        coverage.fired(CALCULUS, LOOP_TILE)
        return np.concatenate(parts, axis=stmt.action.dim)
    coverage.fired(CALCULUS, LOOP_SUM)
    return np.asarray(sum(parts[1:], parts[0]))


MAX_ELEMENTS = 1 << 24
"""The largest value the reference semantics (and the simulator) will build, in elements."""


def check_size(func: Func) -> None:
    for name, shape in check_func(func).items():
        if math.prod(shape) > MAX_ELEMENTS:
            raise ShapeError(f"{name} would hold {math.prod(shape):,} elements; runs build at most "
                             f"{MAX_ELEMENTS:,}", func.span, rule="size")


def bind_inputs(func: Func, args: Mapping[str, Array]) -> dict[str, Array]:
    """The inputs' values, checked against their shapes (and the program against the size limit)."""
    check_size(func)
    env: dict[str, Array] = {}
    for i in func.inputs:
        if i.name not in args:
            raise ShapeError(f"no value given for input {i.name}", i.span)
        value = np.asarray(args[i.name], dtype=np.float64)
        if value.shape != i.shape:
            raise ShapeError(f"input {i.name} should have shape {i.shape}, got {value.shape}", i.span)
        env[i.name] = value
    return env


def take_rows(func: Func) -> dict[str, int]:
    """The inputs used (directly or through slices) as the indices of a ``take``, and how many rows
    each may pick from (the fewest of its tables'), so that runs can draw whole row numbers."""
    shapes, source = check_func(func), {i.name: i.name for i in func.inputs}
    rows: dict[str, int] = {}

    def walk(body: tuple[Stmt, ...]) -> None:
        for stmt in body:
            if isinstance(stmt, Slice) and stmt.arg in source:
                source[stmt.result] = source[stmt.arg]
            elif isinstance(stmt, Apply) and stmt.prim == "take" and stmt.args[1] in source:
                v, n = source[stmt.args[1]], shapes[stmt.args[0]][0]
                rows[v] = min(n, rows.get(v, n))
            elif isinstance(stmt, Loop):
                walk(stmt.body)

    walk(func.body)
    return rows


def evaluate(func: Func, args: Mapping[str, Array]) -> tuple[Array, ...]:
    """Run ``func`` on named global arrays (checked against the inputs' shapes)."""
    env = bind_inputs(func, args)
    run_body(func.body, env, {}, func.mesh)
    return tuple(env[r] for r in func.results)
