"""Execution on JAX devices: the SPMD program as one ``jax.shard_map`` with ``jax.lax`` collectives.

    Compute            the primitive's JAX implementation on the local blocks (``JAX_IMPLS``)
    AllReduce(a)       lax.psum(v, a)
    ReduceScatter(i,a) lax.psum_scatter(v, a, scatter_dimension=i, tiled=True)
    other collectives  the redistribution engine's kernels (``calculi.redistribution.engine.plan``)

JAX is optional: importing this module is free, running it says what to install when JAX is missing.
On CPU, ``ensure_devices`` asks for fake host devices before JAX starts.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from calculi.partir.lower import Communicate, Compute, Spmd
from calculi.partir.prims import Params
from calculi.redistribution import engine as redistribution_engine
from calculi.redistribution.check import check_program
from calculi.redistribution.reductions import AllReduce, ReduceScatter
from calculi.redistribution.spec import spec_of
from calculi.redistribution.syntax import Op

JaxImpl = Callable[[Any, Params, Sequence[Any]], Any]


def _ints(params: Params) -> tuple[int, ...]:
    return tuple(p for p in params if isinstance(p, int))


def _broadcast(jnp: Any, params: Params, xs: Sequence[Any]) -> Any:
    k = params.index(-1)
    shape, dims = _ints(params[:k]), _ints(params[k + 1 :])
    view = [n if i in dims else 1 for i, n in enumerate(shape)]
    return jnp.broadcast_to(xs[0].reshape(view), shape)


def _window(params: Params, inner: tuple[int, ...]) -> tuple[slice, ...]:
    ints, rank = _ints(params), len(inner)
    return tuple(slice(s, s + t * (k - 1) + 1, t)
                 for s, t, k in zip(ints[:rank], ints[rank:2 * rank], inner, strict=True))


def _pad(jnp: Any, params: Params, xs: Sequence[Any]) -> Any:
    zeros = jnp.zeros(_ints(params)[2 * xs[0].ndim:], xs[0].dtype)
    return zeros.at[_window(params, xs[0].shape)].set(xs[0])


def _scan(jnp: Any, params: Params, xs: Sequence[Any]) -> Any:
    """The recurrence unrolled over time (the programs' sequences are short)."""
    a, x, h = xs
    steps = range(x.shape[1] - 1, -1, -1) if params[0] else range(x.shape[1])
    out: dict[int, Any] = {}
    for t in steps:
        h = out[t] = a[:, t] * h + x[:, t]
    return jnp.stack([out[t] for t in range(x.shape[1])], axis=1)


def _argmax_weights(jnp: Any, params: Params, xs: Sequence[Any]) -> Any:
    axes = _ints(params)
    hit = (xs[0] == jnp.max(xs[0], axis=axes, keepdims=True)).astype(xs[0].dtype)
    return hit / hit.sum(axis=axes, keepdims=True)


JAX_IMPLS: dict[str, JaxImpl] = {
    "add": lambda jnp, p, xs: xs[0] + xs[1],
    "sub": lambda jnp, p, xs: xs[0] - xs[1],
    "mul": lambda jnp, p, xs: xs[0] * xs[1],
    "div": lambda jnp, p, xs: xs[0] / xs[1],
    "neg": lambda jnp, p, xs: -xs[0],
    "tanh": lambda jnp, p, xs: jnp.tanh(xs[0]),
    "exp": lambda jnp, p, xs: jnp.exp(xs[0]),
    "relu": lambda jnp, p, xs: jnp.maximum(xs[0], 0.0),
    "log": lambda jnp, p, xs: jnp.log(xs[0]),
    "logistic": lambda jnp, p, xs: 0.5 * (jnp.tanh(0.5 * xs[0]) + 1.0),
    "rsqrt": lambda jnp, p, xs: 1.0 / jnp.sqrt(xs[0]),
    "take": lambda jnp, p, xs: jnp.take(xs[0], jnp.rint(xs[1]).astype(jnp.int32), axis=0),
    "scale": lambda jnp, p, xs: xs[0] * float(str(p[0])),
    "einsum": lambda jnp, p, xs: jnp.einsum(str(p[0]), *xs),
    "sum": lambda jnp, p, xs: jnp.sum(xs[0], axis=_ints(p)),
    "transpose": lambda jnp, p, xs: jnp.transpose(xs[0], _ints(p)),
    "broadcast": _broadcast,
    "reshape": lambda jnp, p, xs: xs[0].reshape(_ints(p)),
    "atomic": lambda jnp, p, xs: xs[0],
    "sqrt": lambda jnp, p, xs: jnp.sqrt(xs[0]),
    "maximum": lambda jnp, p, xs: jnp.maximum(xs[0], xs[1]),
    "strided_slice": lambda jnp, p, xs: xs[0][_window(p, _ints(p)[2 * xs[0].ndim:])],
    "pad": _pad,
    "scan": _scan,
    "max": lambda jnp, p, xs: jnp.max(xs[0], axis=_ints(p)),
    "argmax_weights": _argmax_weights,
}
"""Each primitive's JAX implementation (a test checks that every primitive has one). ``take`` trusts
its indices: the reference semantics refuses an index that is no row, JAX would clamp it."""


def _all_reduce(lax: Any, op: AllReduce) -> Callable[[Any], Any]:
    return lambda v: lax.psum(v, op.axis)


def _reduce_scatter(lax: Any, op: ReduceScatter) -> Callable[[Any], Any]:
    return lambda v: lax.psum_scatter(v, op.axis, scatter_dimension=op.dim, tiled=True)


def _communicate(instr: Communicate, spmd: Spmd) -> Callable[[Any], Any]:
    lax = redistribution_engine.ensure_devices().lax
    steps: list[Callable[[Any], Any]] = []
    ty = instr.source.ty
    run: list[Op] = []

    def flush() -> None:
        nonlocal ty
        if run:
            for _, kernel in redistribution_engine.plan(ty, tuple(run), spmd.mesh):
                steps.append(kernel)
            ty = check_program(ty, tuple(run), spmd.mesh)[-1]
            run.clear()

    for op in instr.ops:
        if isinstance(op, AllReduce):
            flush()
            steps.append(_all_reduce(lax, op))
        elif isinstance(op, ReduceScatter):
            flush()
            steps.append(_reduce_scatter(lax, op))
            d = ty.dims[op.dim]
            ty = ty.with_dim(op.dim, type(d)(d.local // spmd.mesh.size(op.axis), (*d.axes, op.axis), d.size))
        else:
            run.append(op)
    flush()

    def apply(v: Any) -> Any:
        for step in steps:
            v = step(v)
        return v
    return apply


def compile_spmd(spmd: Spmd) -> Callable[..., Any]:
    """A jitted function of the global inputs (in order), returning the global results."""
    jax = redistribution_engine.ensure_devices()
    jnp = jax.numpy
    from jax.sharding import PartitionSpec  # JAX is optional

    spec: Any = PartitionSpec
    names = list(spmd.inputs)
    kernels = {i.result: _communicate(i, spmd) for i in spmd.instrs if isinstance(i, Communicate)}

    def per_device(*locals_: Any) -> Any:
        env = dict(zip(names, locals_, strict=True))
        for instr in spmd.instrs:
            if isinstance(instr, Compute):
                env[instr.result] = JAX_IMPLS[instr.prim](jnp, instr.params, [env[a] for a in instr.args])
            else:
                env[instr.result] = kernels[instr.result](env[instr.arg])
        return tuple(env[name] for name, _ in spmd.results)

    in_specs = tuple(spec(*spec_of(spmd.inputs[n].ty)) for n in names)
    out_specs = tuple(spec(*spec_of(pt.ty)) for _, pt in spmd.results)
    mapped = jax.shard_map(per_device, mesh=redistribution_engine.jax_mesh(spmd.mesh), in_specs=in_specs,
                           out_specs=out_specs, check_vma=False)
    return jax.jit(mapped)  # type: ignore[no-any-return]


def place_inputs(spmd: Spmd, args: Mapping[str, np.ndarray]) -> list[Any]:
    return [redistribution_engine.place(np.asarray(args[n], dtype=np.float32), pt.ty, spmd.mesh)
            for n, pt in spmd.inputs.items()]


def run_jax(spmd: Spmd, args: Mapping[str, np.ndarray]) -> tuple[np.ndarray, ...]:
    outs = compile_spmd(spmd)(*place_inputs(spmd, args))
    return tuple(np.asarray(o) for o in outs)


def measure(spmd: Spmd, args: Mapping[str, np.ndarray], repeat: int = 5, number: int = 10) -> float:
    """Best-of-``repeat`` wall seconds per call, averaged over ``number`` calls (after one warm-up)."""
    fn = compile_spmd(spmd)
    xs = place_inputs(spmd, args)
    jax = redistribution_engine.ensure_devices()
    jax.block_until_ready(fn(*xs))
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(number):
            out = fn(*xs)
        jax.block_until_ready(out)
        best = min(best, (time.perf_counter() - start) / number)
    return best
