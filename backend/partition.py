"""The bridge from the backend's traced programs to PartIR: ``partition(f, mesh, schedule)(*args)``.

``f`` is traced (``backend.tracing.trace``) into a Linear A definition and converted statement by
statement (``backend.partition_convert``); the traced parameters and the constants become the
function's inputs. With ``grad=True`` partitioning happens after reverse mode, as in PartIR: the
converted program is Linear A's non-linear half followed by its transposed linear half, seeded with
the cotangent 1, and returns the loss and then its gradient in each parameter. The schedule is
applied, the program lowered to SPMD and run on the NumPy mesh simulator or on JAX devices.
Parameters of a dictionary argument keep their keys as names (``w1``, ``w2``, …); other leaves are
``p0, p1, …``; the other arguments' arrays are ``in0, in1, …`` as the trace names them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from backend.api import build
from backend.ltypes import ArrayT
from backend.partition_convert import CONVERSIONS, Converter, refuse_missing
from backend.pytree import flatten
from backend.tracing import trace
from calculi.core.errors import UsageError
from calculi.core.syntax import Source
from calculi.linear_ad.syntax import Program
from calculi.partir.engine import run_jax
from calculi.partir.lower import lower
from calculi.partir.parse import parse_schedule
from calculi.partir.simulator import run as simulate
from calculi.partir.syntax import Func
from calculi.partir.tactics import Tactic, apply_schedule
from calculi.redistribution.parse import parse_mesh
from calculi.redistribution.syntax import Mesh

__all__ = ["CONVERSIONS", "partition", "to_partir"]


def _names(args: Sequence[Any], argnums: int, count: int) -> list[str]:
    tree = args[argnums]
    named = isinstance(tree, dict) and all(isinstance(k, str) and k.isidentifier() for k in tree)
    if named and len(tree) == count:
        return sorted(tree)
    return [f"p{k}" for k in range(count)]


def to_partir(f: Callable[..., Any], mesh: Mesh, args: Sequence[Any], argnums: int = 0,
              grad: bool = False) -> tuple[Func, dict[str, np.ndarray]]:
    """The PartIR:Core function of ``f`` (with ``grad``: of its loss and gradient) traced at ``args``,
    and the values of its inputs."""
    leaves = [np.asarray(v) for v in flatten(args[argnums])[0]]
    if grad:
        pipeline = build(f, args, argnums, "transpose")
        program, stages = pipeline.compilation.program, pipeline.names
        source = program.index[stages["nonlin"]]
        feeds = pipeline.feeds(args)
        refuse_missing(program, [stages["nonlin"], stages["transpose"]])
    else:
        traced = trace(f, args, argnums)
        source = traced.funcdef
        feeds = traced.feed_values(args, argnums)
        refuse_missing(Program((source,)), [source.name])
    names = _names(args, argnums, len(source.params))
    types = [ty for ty in source.param_types if isinstance(ty, ArrayT)]
    if len(types) != len(source.params):
        raise UsageError("only array parameters convert to PartIR")
    c = Converter(names, types, leaves, list(feeds))
    env = {b.name: name for b, name in zip(source.params, names, strict=True)}
    results, _ = c.body(source, env, {})
    if grad:
        loss, tape = results
        if c.shapes[loss] != ():
            raise UsageError(f"grad=True needs a scalar loss, got shape {c.shapes[loss]}")
        transposed = program.index[stages["transpose"]]
        (tape_binder,), (seed,) = transposed.params, transposed.lparams
        _, grads = c.body(transposed, {tape_binder.name: tape}, {seed.name: c.scalar(1.0)})
        results = [loss, *grads]
    name = source.name.split(".")[0]
    return Func(mesh, name if name.isidentifier() else "f", tuple(c.inputs), tuple(c.stmts),
                tuple(results)), c.values


def partition(f: Callable[..., Any], mesh: Mesh | str, schedule: Sequence[Tactic] | str = (),
              engine: str = "sim", argnums: int = 0, grad: bool = False,
              ) -> Callable[..., tuple[np.ndarray, ...]]:
    """``partition(f, mesh, schedule)(*args)``: ``f`` partitioned by ``schedule`` and run on ``engine``
    (``sim``: the NumPy mesh simulator; ``jax``: JAX devices); returns ``f``'s results, or with
    ``grad`` the loss and then its gradient in each leaf of argument ``argnums``."""
    grid = parse_mesh(Source(mesh)) if isinstance(mesh, str) else mesh
    tactics = parse_schedule(Source(schedule)) if isinstance(schedule, str) else tuple(schedule)
    if engine not in ("sim", "jax"):
        raise UsageError(f"unknown engine {engine!r}; sim or jax")

    def run(*args: Any) -> tuple[np.ndarray, ...]:
        func, values = to_partir(f, grid, args, argnums, grad)
        spmd = lower(apply_schedule(func, tactics))
        if engine == "jax":
            return run_jax(spmd, values)
        return simulate(spmd, values).outputs

    return run
