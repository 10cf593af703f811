"""The bridge from the backend's traced programs to PartIR: ``partition(f, mesh, schedule)(*args)``.

``f`` is traced (``backend.tracing.trace``) into a Linear A definition; each binding
``let y = p[params](x̄)`` becomes a PartIR:Core statement by the table ``CONVERSIONS`` (keyed by the
backend primitive's name); the traced parameters and the constants become the function's inputs.
The schedule is applied, the program lowered to SPMD and run on the NumPy mesh simulator or on JAX
devices. Parameters of a dictionary argument keep their keys as names (``w1``, ``w2``, …); other
leaves are ``p0, p1, …``; the other arguments' arrays are ``in0, in1, …`` as the trace names them.

Only the forward (source) stage is converted: programs of the linear stages (``unpack``, ``dup``,
linear primitives) are refused with a ``UsageError`` naming what is missing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from backend.ltypes import ArrayT, ConstRef
from backend.pytree import flatten
from backend.tracing import trace
from calculi.core.errors import UsageError
from calculi.core.syntax import Source
from calculi.linear_ad.syntax import Block, FuncDef, LetB, Prim, Ret, Var
from calculi.partir.engine import run_jax
from calculi.partir.lower import lower
from calculi.partir.parse import parse_schedule
from calculi.partir.prims import PRIMS
from calculi.partir.simulator import run as simulate
from calculi.partir.syntax import Apply, Func, Input, Param, Shape
from calculi.partir.tactics import Tactic, apply_schedule
from calculi.redistribution.parse import parse_mesh
from calculi.redistribution.syntax import Mesh

Emit = Callable[[str, tuple[Param, ...], tuple[str, ...]], str]
Conversion = Callable[[Emit, dict[str, Any], list[str], list[Shape], Shape], str]


def _same(prim: str) -> Conversion:
    return lambda emit, params, args, shapes, out: emit(prim, (), tuple(args))


def _einsum(emit: Emit, params: dict[str, Any], args: list[str], shapes: list[Shape], out: Shape) -> str:
    return emit("einsum", (str(params["spec"]).lower(),), tuple(args))


def _broadcast(emit: Emit, params: dict[str, Any], args: list[str], shapes: list[Shape], out: Shape) -> str:
    """NumPy broadcasting (right-aligned, size-1 dimensions stretch): drop the stretched, keep the rest."""
    (x,), (shape,) = args, shapes
    lead = len(out) - len(shape)
    kept = [i for i, n in enumerate(shape) if n == out[lead + i]]
    if len(kept) != len(shape):
        x = emit("reshape", tuple(shape[i] for i in kept), (x,))
    return emit("broadcast", (*out, -1, *(lead + i for i in kept)), (x,))


def _integer_pow(emit: Emit, params: dict[str, Any], args: list[str], shapes: list[Shape], out: Shape) -> str:
    y = int(params["y"])
    if not 1 <= y <= 8:
        raise UsageError(f"integer_pow[y={y}] has no PartIR form (powers 1 to 8 only)")
    result = args[0]
    for _ in range(y - 1):
        result = emit("mul", (), (result, args[0]))
    return result


def _first(prim: str) -> Conversion:
    return lambda emit, params, args, shapes, out: emit(prim, tuple(next(iter(params.values()))), tuple(args))


CONVERSIONS: dict[str, Conversion] = {
    "add": _same("add"), "sub": _same("sub"), "mul": _same("mul"), "div": _same("div"), "neg": _same("neg"),
    "tanh": _same("tanh"), "exp": _same("exp"), "einsum": _einsum, "broadcast": _broadcast,
    "integer_pow": _integer_pow, "reduce_sum": _first("sum"), "reshape": _first("reshape"),
    "transpose": _first("transpose"),
}
"""How each backend primitive is written in PartIR:Core (one entry per primitive)."""


def _names(args: Sequence[Any], argnums: int, count: int) -> list[str]:
    tree = args[argnums]
    named = isinstance(tree, dict) and all(isinstance(k, str) and k.isidentifier() for k in tree)
    if named and len(tree) == count:
        return sorted(tree)
    return [f"p{k}" for k in range(count)]


def to_partir(f: Callable[..., Any], mesh: Mesh, args: Sequence[Any], argnums: int = 0,
              ) -> tuple[Func, dict[str, np.ndarray]]:
    """The PartIR:Core function of ``f`` traced at ``args``, and the values of its inputs."""
    traced = trace(f, args, argnums)
    fd: FuncDef = traced.funcdef
    body = fd.body
    if not isinstance(body, Block) or not isinstance(body.result, Ret) or body.result.lvars:
        raise UsageError("only a chain of non-linear bindings ending in a result converts to PartIR")
    leaves = [np.asarray(v) for v in _flat(args[argnums])]
    names = _names(args, argnums, len(fd.params))
    env: dict[int, str] = {}
    shapes: dict[str, Shape] = {}
    inputs: list[Input] = []
    values: dict[str, np.ndarray] = {}
    used = set(names)
    for binder, ty, name in zip(fd.params, fd.param_types, names, strict=True):
        assert isinstance(ty, ArrayT)
        env[binder.name], shapes[name] = name, ty.shape
        inputs.append(Input(name, ty.shape))
    feeds = {id(r): v for r, v in zip(traced.feeds, traced.feed_values(args, argnums), strict=True)}
    for leaf, name in zip(leaves, names, strict=False):
        values[name] = leaf
    stmts: list[Apply] = []

    def fresh(base: str) -> str:
        k = 0
        while f"{base}{k}" in used:
            k += 1
        used.add(f"{base}{k}")
        return f"{base}{k}"

    def emit(prim: str, params: tuple[Param, ...], operands: tuple[str, ...]) -> str:
        name = fresh("v")
        shapes[name] = PRIMS[prim].shape(params, [shapes[a] for a in operands], None)
        stmts.append(Apply(name, prim, params, operands))
        return name

    for b in body.bindings:
        if not isinstance(b, LetB) or not isinstance(b.rhs, Prim) or len(b.binders) != 1 or b.lbinders:
            raise UsageError(f"a binding of kind {type(b).__name__} has no PartIR form "
                             "(forward programs only)")
        rhs, (binder,) = b.rhs, b.binders
        params = dict(rhs.params)
        if rhs.prim.name == "const":
            value = params["value"]
            if isinstance(value, ConstRef):
                name = str(value) if str(value) not in used else fresh(str(value))
                used.add(name)
                data = np.asarray(feeds.get(id(value), value.value), dtype=np.float64)
            else:
                name, data = fresh("c"), np.asarray(value, dtype=np.float64)
            inputs.append(Input(name, data.shape))
            env[binder.name], shapes[name], values[name] = name, data.shape, data
            continue
        rule = CONVERSIONS.get(rhs.prim.name)
        if rule is None:
            raise UsageError(f"the backend primitive {rhs.prim.name} has no PartIR form yet "
                             f"(known: {', '.join(sorted(CONVERSIONS))})")
        operands = [env[a.name] for a in rhs.args if isinstance(a, Var)]
        out_shape = _result_shape(rhs, operands, shapes, params)
        env[binder.name] = rule(emit, params, operands, [shapes[a] for a in operands], out_shape)
    results = tuple(env[v.name] for v in body.result.vars)
    return Func(mesh, fd.name if fd.name.isidentifier() else "f", tuple(inputs), tuple(stmts),
                results), values


def _result_shape(rhs: Prim, operands: list[str], shapes: dict[str, Shape], params: dict[str, Any]) -> Shape:
    if rhs.prim.name == "broadcast":
        return tuple(params["shape"])
    return shapes[operands[0]] if operands else ()


def _flat(tree: Any) -> list[Any]:
    return list(flatten(tree)[0])


def partition(f: Callable[..., Any], mesh: Mesh | str, schedule: Sequence[Tactic] | str = (),
              engine: str = "sim", argnums: int = 0) -> Callable[..., tuple[np.ndarray, ...]]:
    """``partition(f, mesh, schedule)(*args)``: ``f`` partitioned by ``schedule`` and run on ``engine``
    (``sim``: the NumPy mesh simulator; ``jax``: JAX devices); returns ``f``'s results."""
    grid = parse_mesh(Source(mesh)) if isinstance(mesh, str) else mesh
    tactics = parse_schedule(Source(schedule)) if isinstance(schedule, str) else tuple(schedule)
    if engine not in ("sim", "jax"):
        raise UsageError(f"unknown engine {engine!r}; sim or jax")

    def run(*args: Any) -> tuple[np.ndarray, ...]:
        func, values = to_partir(f, grid, args, argnums)
        spmd = lower(apply_schedule(func, tactics))
        if engine == "jax":
            return run_jax(spmd, values)
        return simulate(spmd, values).outputs

    return run
