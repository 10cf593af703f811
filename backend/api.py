"""The user-facing transformations, with JAX's conventions, built from Linear A's passes.

    jvp        = J                         (forward mode)
    linearize  = U ∘ J                     (the non-linear half runs now, the linear half later)
    vjp        = T ∘ U ∘ J                 (reverse mode: the linear half, transposed)
    grad       = vjp applied to the cotangent 1
    jit        = the traced program itself, compiled (no transformation)

Each transformation traces ``f`` once per argument structure, shapes and dtypes (as ``jax.jit``
would; arrays reached through the closure are constants), runs calculi.linear_ad's ``jvp``,
``unzip`` (with a checkpoint policy) and ``transpose`` passes, type-checks each stage, and compiles
the result with ``backend.executor``. Arguments are pytrees of arrays; ``argnums``, ``has_aux`` and
``static_argnums`` mean what they mean in JAX.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from backend.executor import Compiled
from backend.pytree import PyTree, TreeDef, flatten, unflatten
from backend.tracing import TracedFunction, split_args, trace
from calculi.core.errors import UsageError
from calculi.linear_ad.check import check_program
from calculi.linear_ad.jvp import jvp_program
from calculi.linear_ad.pretty import show_program
from calculi.linear_ad.syntax import Program
from calculi.linear_ad.transpose import transpose_name, transpose_program
from calculi.linear_ad.unzip import Policy, UnzipReport, save_all, unzip_program

Argnums = int | Sequence[int]


@dataclass
class Pipeline:
    """One traced function and its transformed, compiled programs."""

    traced: TracedFunction
    programs: dict[str, Program]
    compiled: Compiled
    names: dict[str, str]
    report: UnzipReport | None
    n_out: int


def _key(f: Callable[..., Any], args: Sequence[Any], argnums: Argnums, stage: str,
         policy: object) -> Hashable:
    leaves, tree = flatten(tuple(args))
    sig = tuple((np.shape(x), np.asarray(x).dtype.str) if isinstance(x, np.ndarray | np.generic | float)
                else ("static", x if isinstance(x, Hashable) else repr(x)) for x in leaves)
    nums = (argnums,) if isinstance(argnums, int) else tuple(argnums)
    return (f, nums, tree, sig, stage, policy)


_CACHE: dict[Hashable, Pipeline] = {}


def clear_cache() -> None:
    """Forget every compiled program (after changing a rule table)."""
    _CACHE.clear()


def policy_of(f: Callable[..., Any]) -> Policy:
    return getattr(f, "checkpoint_policy", save_all)


def build(f: Callable[..., Any], args: Sequence[Any], argnums: Argnums, stage: str,
          policy: Policy | None = None) -> Pipeline:
    """Trace ``f`` and run the passes up to ``stage`` (``trace``, ``jvp``, ``linearize`` or ``vjp``)."""
    policy = policy if policy is not None else policy_of(f)
    key = _key(f, args, argnums, stage, policy)
    hit = _CACHE.get(key)
    if hit is not None:
        return hit
    traced = trace(f, args, argnums)
    name = traced.funcdef.name
    programs = {"trace": Program((traced.funcdef,))}
    typing = check_program(programs["trace"])
    names = {"trace": name}
    report = None
    if stage != "trace":
        programs["jvp"] = jvp_program(typing, name, bind_scales=True)
        names["jvp"] = programs["jvp"].defs[-1].name
        typing = check_program(programs["jvp"])
    if stage in ("linearize", "vjp"):
        unzipped = unzip_program(typing, names["jvp"], policy)
        programs["unzip"] = unzipped.program
        names["nonlin"], names["lin"] = unzipped.nonlin, unzipped.lin
        report = unzipped.report
        typing = check_program(programs["unzip"])
    if stage == "vjp":
        transposed = transpose_program(typing, names["lin"])
        programs["transpose"] = transposed
        names["transpose"] = transpose_name(names["lin"])
        whole = Program(tuple(d for d in programs["unzip"].defs if d.name != names["lin"])
                        + tuple(d for d in transposed.defs if d.name == names["transpose"]))
        typing = check_program(whole)
        compiled = Compiled(whole, typing)
    else:
        last = programs[{"trace": "trace", "jvp": "jvp", "linearize": "unzip"}[stage]]
        compiled = Compiled(last, typing)
    pipeline = Pipeline(traced, programs, compiled, names, report, traced.out_tree.leaves)
    _CACHE[key] = pipeline
    return pipeline


def feeds_of(args: Sequence[Any], argnums: Argnums) -> list[Any]:
    nums, _, _ = split_args(args, argnums)
    out: list[Any] = []
    for i, a in enumerate(args):
        if i not in nums:
            out.extend(x for x in flatten(a)[0] if isinstance(x, np.ndarray))
    return out


def diff_leaves(args: Sequence[Any], argnums: Argnums) -> tuple[list[Any], TreeDef, bool]:
    _, leaves, tree = split_args(args, argnums)
    return [np.asarray(x) for x in leaves], tree, isinstance(argnums, int)


def _outputs(p: Pipeline, values: Sequence[Any]) -> PyTree:
    leaves = list(values)
    for i, c in p.traced.out_constants.items():
        leaves[i] = c
    return unflatten(p.traced.out_tree, leaves)


def _args_tree(tree: TreeDef, leaves: list[Any], single: bool) -> PyTree:
    value = unflatten(tree, leaves)
    return value[0] if single else value


def jvp(f: Callable[..., Any], primals: Sequence[Any], tangents: Sequence[Any]) -> tuple[PyTree, PyTree]:
    """``(f(*primals), ∂f(primals)·tangents)`` by running J(f)."""
    argnums = tuple(range(len(primals)))
    p = build(f, primals, argnums, "jvp")
    xs, _, _ = diff_leaves(primals, argnums)
    ts = [np.asarray(t, x.dtype) for t, x in zip(flatten(tuple(tangents))[0], xs, strict=True)]
    if [t.shape for t in ts] != [x.shape for x in xs]:
        raise UsageError("tangents must have the structure and shapes of the primals")
    values = p.compiled.run(p.names["jvp"], xs, ts)
    return _outputs(p, values[: p.n_out]), unflatten(p.traced.out_tree, list(values[p.n_out:]))


def linearize(f: Callable[..., Any], *primals: Any) -> tuple[PyTree, Callable[..., PyTree]]:
    """``(f(*primals), f_lin)``: the non-linear half runs now; ``f_lin(*tangents)`` runs the linear half
    on the saved tape."""
    argnums = tuple(range(len(primals)))
    p = build(f, primals, argnums, "linearize")
    xs, _, _ = diff_leaves(primals, argnums)
    values = p.compiled.run(p.names["nonlin"], xs)
    tape = values[p.n_out]

    def f_lin(*tangents: Any) -> PyTree:
        ts = [np.asarray(t, x.dtype) for t, x in zip(flatten(tuple(tangents))[0], xs, strict=True)]
        return unflatten(p.traced.out_tree, list(p.compiled.run(p.names["lin"], [tape], ts)))

    return _outputs(p, values[: p.n_out]), f_lin


def vjp(f: Callable[..., Any], *primals: Any, argnums: Argnums | None = None,
        has_aux: bool = False) -> tuple[Any, ...]:
    """``(f(*primals), f_vjp)`` (and ``aux`` with ``has_aux``): ``f_vjp(ct)`` is ``J_fᵀ ct``,
    one cotangent per differentiated argument."""
    nums: Argnums = tuple(range(len(primals))) if argnums is None else argnums
    target = _without_aux(f) if has_aux else f
    p = build(target, primals, nums, "vjp")
    xs, tree, single = diff_leaves(primals, nums)
    feeds = feeds_of(primals, nums)
    values = p.compiled.run(p.names["nonlin"], xs, feeds=feeds)
    tape = values[p.n_out]
    outs = _outputs(p, values[: p.n_out])
    n_main = len(flatten(outs[0] if has_aux else outs)[0])

    def f_vjp(ct: PyTree) -> PyTree:
        cts = [np.asarray(c, np.asarray(v).dtype) for c, v in zip(flatten(ct)[0], values, strict=False)]
        if len(cts) != n_main:
            raise UsageError(f"the cotangent has {len(cts)} leaves; the output has {n_main}")
        cts += [np.zeros_like(np.asarray(v)) for v in values[n_main: p.n_out]]
        grads = p.compiled.run(p.names["transpose"], [tape], cts, feeds=feeds)
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
    """``f`` and its gradient in the arguments ``argnums``; the output must be a scalar."""

    def run(*args: Any) -> Any:
        result = vjp(f, *args, argnums=argnums, has_aux=has_aux)
        value, f_vjp = result[0], result[1]
        if np.shape(value) != ():
            raise UsageError(f"grad needs a scalar output, got shape {np.shape(value)} (use vjp)")
        grads = f_vjp(np.ones((), np.asarray(value).dtype))
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


def make_program(f: Callable[..., Any], argnums: Argnums = 0, stage: str = "trace",
                 unicode: bool = True) -> Callable[..., Shown]:
    """``make_program(f)(*args)``: the traced Linear A program (or its ``jvp``, ``unzip`` or
    ``transpose`` stage), printed in the calculus's notation."""
    stages = {"trace": "trace", "jvp": "jvp", "unzip": "linearize", "transpose": "vjp"}
    if stage not in stages:
        raise UsageError(f"unknown stage {stage!r}; one of {', '.join(stages)}")

    def show(*args: Any) -> Shown:
        p = build(f, args, argnums, stages[stage])
        return Shown(p.programs[stage], unicode)

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
    in). The arguments at ``static_argnums`` are handed to ``f`` as they are, and their values are
    part of the cache key (they must be hashable): Python numbers that decide shapes or loop counts,
    configurations. Outputs are pytrees like the arguments; arrays ``f`` captures are constants of
    the program, as with the other transformations.
    """
    statics = {static_argnums} if isinstance(static_argnums, int) else set(static_argnums)

    def run(*args: Any) -> PyTree:
        n = len(args)
        for i in statics:
            if not -n <= i < n:
                raise UsageError(f"static_argnums {i} is out of range for {n} positional arguments")
        static = tuple(sorted(i % n for i in statics))
        leaves, tree = flatten(tuple(a for i, a in enumerate(args) if i not in static))
        leaves = [np.asarray(x) if isinstance(x, int | float | complex | np.generic) else x for x in leaves]
        feeds = [x for x in leaves if isinstance(x, np.ndarray)]
        try:
            key = ("jit", f, static, tuple(args[i] for i in static), tree,
                   tuple((x.shape, x.dtype) if isinstance(x, np.ndarray) else ("static", x) for x in leaves))
            p = _CACHE.get(key)
        except TypeError:
            raise UsageError("static arguments (and non-array leaves) of a jit-compiled function must be "
                             "hashable") from None
        if p is None:
            p = _CACHE[key] = build(_with_statics(f, n, static, args), unflatten(tree, leaves), (), "trace")
        return _outputs(p, p.compiled.run(p.names["trace"], (), feeds=feeds))

    run.__name__ = getattr(f, "__name__", "jitted")
    run.__doc__ = f.__doc__
    return run


def _with_statics(f: Callable[..., Any], n: int, static: Sequence[int],
                  args: Sequence[Any]) -> Callable[..., Any]:
    """``f`` as a function of its non-static arguments only (the static ones taken from ``args``)."""
    given = {i: args[i] for i in static}

    def call(*dynamic: Any) -> Any:
        rest = iter(dynamic)
        return f(*(given[i] if i in given else next(rest) for i in range(n)))

    call.__name__ = getattr(f, "__name__", "f")
    return call
