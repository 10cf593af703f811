"""The user-facing transformations, with JAX's conventions, built from Linear A's passes.

    jvp        = J                         (forward mode)
    linearize  = U ∘ J                     (the non-linear half runs now, the linear half later)
    vjp        = T ∘ U ∘ J                 (reverse mode: the linear half, transposed)
    grad       = vjp applied to the cotangent 1
    jit        = the traced program itself, compiled (no transformation)

Each transformation traces ``f`` once per argument structure, shapes, dtypes and static values,
runs calculi.linear_ad's stages (``ad.stages``: J, U with a checkpoint policy, T, each type-checked)
as far as it needs, and compiles the result with ``backend.executor``. Every array of the program
that is not a parameter is a feed read at each call: the other arguments (Python floats included)
and the arrays ``f`` reaches; a trace is reused only while what ``f`` reads besides its arguments is
unchanged (``backend.guards``), and traces that print the same program share one compilation.
Arguments are pytrees of arrays; ``argnums``, ``has_aux`` and ``static_argnums`` mean what they mean
in JAX.

The trace-and-compile machinery with its caches is ``backend.pipeline``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

import backend.numpy as bnp
from backend.inline import zeros_of
from backend.pipeline import (
    STAGES,
    Argnums,
    Compilation,
    Pipeline,
    build,
    clear_cache,
    diff_leaves,
    like,
    outputs,
    policy_of,
    run_stage,
    traces_of,
)
from backend.pytree import PyTree, flatten, unflatten
from calculi.core.errors import UsageError
from calculi.linear_ad.pretty import show_program
from calculi.linear_ad.syntax import Program
from calculi.linear_ad.unzip import Policy, save_all

__all__ = ["STAGES", "Argnums", "Compilation", "Pipeline", "Shown", "build", "checkpoint", "clear_cache",
           "diff_leaves", "grad", "jit", "jvp", "linearize", "make_program", "policy_of", "traces_of",
           "value_and_grad", "vjp"]


def jvp(f: Callable[..., Any], primals: Sequence[Any], tangents: Sequence[Any]) -> tuple[PyTree, PyTree]:
    """``(f(*primals), ∂f(primals)·tangents)`` by running J(f)."""
    primals = tuple(primals)
    argnums = tuple(range(len(primals)))
    p = build(f, primals, argnums, "jvp")
    xs, tree, _ = diff_leaves(primals, argnums)
    ts = like(tuple(tangents), tree, [x.shape for x in xs], [x.dtype for x in xs], "tangents of the primals")
    values = run_stage(p, "jvp", xs, ts, p.feeds(primals))
    return outputs(p, values[: p.n_out]), unflatten(p.traced.out_tree, list(values[p.n_out:]))


def linearize(f: Callable[..., Any], *primals: Any) -> tuple[PyTree, Callable[..., PyTree]]:
    """``(f(*primals), f_lin)``: the non-linear half runs now; ``f_lin(*tangents)`` runs the linear half
    on the saved tape."""
    argnums = tuple(range(len(primals)))
    p = build(f, primals, argnums, "unzip")
    xs, tree, _ = diff_leaves(primals, argnums)
    feeds = p.feeds(primals)
    values = run_stage(p, "nonlin", xs, (), feeds)
    tape = values[p.n_out]

    def f_lin(*tangents: Any) -> PyTree:
        ts = like(tangents, tree, [x.shape for x in xs], [x.dtype for x in xs], "tangents of the primals")
        return unflatten(p.traced.out_tree, run_stage(p, "lin", [tape], ts, feeds))

    return outputs(p, values[: p.n_out]), f_lin


def vjp(f: Callable[..., Any], *primals: Any, argnums: Argnums | None = None,
        has_aux: bool = False) -> tuple[Any, ...]:
    """``(f(*primals), f_vjp)`` (and ``aux`` with ``has_aux``): ``f_vjp(ct)`` is ``J_fᵀ ct``,
    one cotangent per differentiated argument; ``ct`` has the structure, shapes of the output."""
    nums: Argnums = tuple(range(len(primals))) if argnums is None else argnums
    target = _without_aux(f) if has_aux else f
    p = build(target, primals, nums, "transpose")
    xs, tree, single = diff_leaves(primals, nums)
    feeds = p.feeds(primals)
    values = run_stage(p, "nonlin", xs, (), feeds)
    tape = values[p.n_out]
    outs = outputs(p, values[: p.n_out])
    main = flatten(outs[0] if has_aux else outs)
    shapes = [bnp.shape(v) for v in values[: len(main[0])]]
    dtypes = [bnp.dtype_of(v) for v in values[: len(main[0])]]

    def f_vjp(ct: PyTree) -> PyTree:
        cts = like(ct, main[1], shapes, dtypes, "cotangent leaves of the output")
        cts += [zeros_of(v) for v in values[len(cts): p.n_out]]
        grads = run_stage(p, "transpose", [tape], cts, feeds)
        value = unflatten(tree, list(grads))
        return value[0] if single else value

    if has_aux:
        return outs[0], f_vjp, outs[1]
    return outs, f_vjp


def _without_aux(f: Callable[..., Any]) -> Callable[..., Any]:
    cached = getattr(f, "_with_aux", None)
    if cached is not None:
        return cached  # type: ignore[no-any-return]

    def g(*args: Any) -> Any:
        out = f(*args)
        if not (isinstance(out, tuple) and len(out) == 2):
            raise UsageError("with has_aux=True the function must return a pair (output, aux)")
        return out

    g.checkpoint_policy = policy_of(f)  # type: ignore[attr-defined]
    with contextlib.suppress(AttributeError):
        f._with_aux = g  # type: ignore[attr-defined]
    return g


def value_and_grad(f: Callable[..., Any], argnums: Argnums = 0,
                   has_aux: bool = False) -> Callable[..., Any]:
    """``f`` and its gradient in the arguments ``argnums``; the output must be a real scalar."""

    def run(*args: Any) -> Any:
        result = vjp(f, *args, argnums=argnums, has_aux=has_aux)
        value, f_vjp = result[0], result[1]
        if bnp.shape(value) != ():
            raise UsageError(f"grad needs a scalar output, got shape {bnp.shape(value)} (use vjp)")
        dtype = bnp.dtype_of(value)
        if dtype.kind not in "fc":
            raise UsageError(f"grad needs a floating-point output, got {dtype} (an integer or boolean "
                             "output has no gradient)")
        grads = f_vjp(np.ones((), dtype))
        return ((value, result[2]), grads) if has_aux else (value, grads)

    return run


def grad(f: Callable[..., Any], argnums: Argnums = 0, has_aux: bool = False) -> Callable[..., Any]:
    """The gradient of a scalar ``f`` in the arguments ``argnums``."""
    vg = value_and_grad(f, argnums, has_aux)

    def run(*args: Any) -> Any:
        (value, g) = vg(*args)
        return (g, value[1]) if has_aux else g

    return run


class Shown:
    """A program that prints in the calculus's notation."""

    def __init__(self, program: Program, unicode: bool = True) -> None:
        self.program = program
        self.unicode = unicode

    def __str__(self) -> str:
        return show_program(self.program, self.unicode)

    __repr__ = __str__


def make_program(f: Callable[..., Any], argnums: Argnums = 0, stage: str = "source",
                 unicode: bool = True) -> Callable[..., Shown]:
    """``make_program(f)(*args)``: the traced Linear A program (or its ``jvp``, ``unzip`` or
    ``transpose`` stage), printed in the calculus's notation."""
    if stage not in STAGES:
        raise UsageError(f"unknown stage {stage!r}; one of {', '.join(STAGES)}")

    def show(*args: Any) -> Shown:
        return Shown(build(f, args, argnums, stage).programs[stage], unicode)

    return show


def checkpoint(f: Callable[..., Any], policy: Policy = save_all) -> Callable[..., Any]:
    """``f`` with a checkpoint policy: when it is differentiated, each non-linear binding the policy
    rejects is recomputed in the linear half instead of saved on the tape."""

    def wrapped(*args: Any) -> Any:
        return f(*args)

    wrapped.checkpoint_policy = policy  # type: ignore[attr-defined]
    wrapped.__name__ = getattr(f, "__name__", "checkpointed")
    wrapped.__doc__ = f.__doc__
    return wrapped


def jit(f: Callable[..., Any], static_argnums: Argnums = ()) -> Callable[..., PyTree]:
    """``f`` compiled once per argument structure, shapes, dtypes and static values::

        jit(f)(x̄) = ⟦compile(trace(f ; every array leaf of x̄ a feed))⟧(x̄)

    Every array leaf of a non-static argument enters the program as a feed (slot k of each call,
    integer and boolean arrays included), so one compiled program serves every call with new values;
    Python and NumPy scalars there become 0-d array feeds too (as in JAX they are traced, not baked
    in; a Python scalar is weakly typed). The arguments at ``static_argnums`` are handed to ``f`` as
    they are, and their values are part of the cache key (they must be hashable): Python numbers that
    decide shapes or loop counts, configurations. Outputs are pytrees like the arguments. What ``f``
    reads besides its arguments is guarded as for the other transformations (``backend.guards``).
    """
    statics = {static_argnums} if isinstance(static_argnums, int) else set(static_argnums)

    def run(*args: Any) -> PyTree:
        n = len(args)
        for i in statics:
            if not -n <= i < n:
                raise UsageError(f"static_argnums {i} is out of range for {n} positional arguments")
        static = tuple(sorted(i % n for i in statics))
        p = build(f, args, (), "source", static=static)
        return outputs(p, run_stage(p, "source", (), (), p.feeds(args)))

    run.__name__ = getattr(f, "__name__", "jitted")
    run.__doc__ = f.__doc__
    return run
