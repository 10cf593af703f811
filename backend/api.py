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
"""

from __future__ import annotations

import contextlib
import types
import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

import backend.numpy as bnp
from backend.dispatch import Traced
from backend.executor import Compiled
from backend.guards import Guard, environment
from backend.inline import Interpreter, is_traced_tree, ordinary, standins, traced_integers, zeros_of
from backend.pytree import PyTree, TreeDef, flatten, unflatten
from backend.tracing import TracedFunction, fed, split_args, trace, weakly_typed
from calculi.core.errors import UsageError
from calculi.linear_ad import ad
from calculi.linear_ad.check import check_program
from calculi.linear_ad.jvp import jvp_name
from calculi.linear_ad.pretty import show_program
from calculi.linear_ad.syntax import Program
from calculi.linear_ad.transpose import transpose_name
from calculi.linear_ad.unzip import Policy, UnzipReport, lin_name, nonlin_name, save_all

Argnums = int | Sequence[int]
STAGES = ("source", "jvp", "unzip", "transpose")
"""The stages of reverse mode, named as ``calculi.linear_ad.ad.Stages`` names them."""
TRACES = 256  # traces kept (a function's trace dies with the function)
COMPILATIONS = 64  # compiled programs kept


@dataclass
class Compilation:
    """The stages of one traced program, compiled; shared by every trace that prints the same."""

    programs: dict[str, Program]
    compiled: Compiled
    names: dict[str, str]
    report: UnzipReport | None
    program: Program
    """The program compiled (the last stage with the functions it calls)."""
    embedded: Program | None = None

    def ordinary(self) -> Program:
        """The compiled program read as an ordinary one (``backend.inline``), built once."""
        if self.embedded is None:
            self.embedded = ordinary(self.program)
        return self.embedded


@dataclass
class Pipeline:
    """One trace of a function (its guard, its captured arrays) and the compilation it runs."""

    traced: TracedFunction
    compilation: Compilation
    guard: Guard
    argnums: Argnums
    feed_ints: bool
    static: tuple[int, ...] = ()

    @property
    def compiled(self) -> Compiled:
        return self.compilation.compiled

    @property
    def names(self) -> dict[str, str]:
        return self.compilation.names

    @property
    def programs(self) -> dict[str, Program]:
        return self.compilation.programs

    @property
    def report(self) -> UnzipReport | None:
        return self.compilation.report

    @property
    def n_out(self) -> int:
        return self.traced.out_tree.leaves

    def feeds(self, args: Sequence[Any]) -> list[Any]:
        """The feed slots of a call: the non-differentiated arguments' leaves, then the captured arrays."""
        dynamic = [a for i, a in enumerate(args) if i not in self.static]
        return self.traced.feed_values(dynamic, self.argnums, self.feed_ints)


_TRACES: OrderedDict[Hashable, Pipeline] = OrderedDict()
_COMPILATIONS: OrderedDict[Hashable, Compilation] = OrderedDict()


def clear_cache() -> None:
    """Forget every trace and compiled program (after changing a rule table)."""
    _TRACES.clear()
    _COMPILATIONS.clear()


def traces_of(f: Callable[..., Any]) -> int:
    """How many traces of ``f`` are cached (one per argument structure, shapes, dtypes and statics)."""
    return sum(1 for key in _TRACES if isinstance(key, tuple) and key[0] == _reference(f))


def policy_of(f: Callable[..., Any]) -> Policy:
    return getattr(f, "checkpoint_policy", save_all)


def _reference(f: Callable[..., Any]) -> Hashable:
    """``f`` held weakly where it can be, so that a cached trace does not outlive its function; a
    bound method by its function and its object's identity (the guard holds the object)."""
    if isinstance(f, types.MethodType):
        return _reference(f.__func__), id(f.__self__)
    try:
        return weakref.ref(f)
    except TypeError:
        return f


def _signature(args: Sequence[Any], nums: Sequence[int], static: Sequence[int],
               feed_ints: bool) -> tuple[Hashable, ...]:
    """What a trace depends on besides ``f``: the shapes and dtypes of the feeds and parameters, the
    values of the static leaves (by identity where they are not hashable, with a guard on them)."""
    out: list[Hashable] = []
    for i, a in enumerate(args):
        if i in static:
            out.append(("static argument", a))
            continue
        leaves, tree = flatten(a)
        out.append(tree)
        for x in leaves:
            if type(x) is np.ndarray:
                out.append((x.shape, x.dtype.str, False))
            elif i in nums or fed(x, feed_ints):
                out.append((np.shape(x), np.asarray(x).dtype.str, weakly_typed(x)))
            elif isinstance(x, Hashable):
                out.append(("static", type(x), x))
            else:
                out.append(("object", id(x)))
    return tuple(out)


def _unhashable(args: Sequence[Any], nums: Sequence[int], feed_ints: bool) -> list[object]:
    """The static leaves known by identity: their attributes and items are guarded."""
    return [x for i, a in enumerate(args) if i not in nums for x in flatten(a)[0]
            if not fed(x, feed_ints) and not isinstance(x, Hashable)]


def build(f: Callable[..., Any], args: Sequence[Any], argnums: Argnums, stage: str,
          policy: Policy | None = None, static: Sequence[int] | None = None) -> Pipeline:
    """The trace of ``f`` at ``args`` and its stages up to ``stage`` (one of ``STAGES``), compiled.

    With ``static`` (``jit``'s ``static_argnums``, normalised; ``argnums`` is then empty), those
    arguments are handed to ``f`` as they are and every other leaf is a feed (integers too). A trace
    is reused while its function lives, the arguments' structure, shapes, dtypes and static values
    are the same, and its guard holds (``backend.guards``: what ``f`` read besides its arguments is
    unchanged); a new trace that prints the same program as an earlier one reuses its compilation.
    """
    if stage not in STAGES:
        raise UsageError(f"unknown stage {stage!r}; one of {', '.join(STAGES)}")
    policy = policy if policy is not None else policy_of(f)
    jit = static is not None or traced_integers(args)
    args = standins(args)
    static = tuple(static or ())
    nums = split_args(args, argnums)[0]
    try:
        signature = _signature(args, nums, static, jit)
        key: Hashable = (_reference(f), tuple(nums), static, signature, stage, policy, jit)
        hash(key)
    except TypeError:
        raise UsageError("static arguments (and non-array leaves) of a transformed function must be "
                         "hashable") from None
    hit = _TRACES.get(key)
    if hit is not None and hit.guard.holds():
        _TRACES.move_to_end(key)
        return hit
    guard = environment(f, _unhashable(args, nums, jit))
    target = _without_statics(f, args, static) if static else f
    dynamic = [a for i, a in enumerate(args) if i not in static]
    traced = trace(target, dynamic, argnums, feed_ints=jit)
    pipeline = Pipeline(traced, _compile(traced, stage, policy), guard, argnums, jit, static)
    _remember(_TRACES, key, pipeline, TRACES)
    return pipeline


def _remember(cache: OrderedDict[Hashable, Any], key: Hashable, value: Any, bound: int) -> None:
    cache[key] = value
    cache.move_to_end(key)
    dead = [k for k in cache if isinstance(k, tuple) and _dead(k[0])]
    for k in dead:
        del cache[k]
    while len(cache) > bound:
        cache.popitem(last=False)


def _dead(reference: object) -> bool:
    if isinstance(reference, tuple):
        return _dead(reference[0])
    return isinstance(reference, weakref.ref) and reference() is None


def _compile(traced: TracedFunction, stage: str, policy: Policy) -> Compilation:
    """Run calculi.linear_ad's stages up to ``stage`` (``ad.stages``: J, then U, then T, each
    type-checked) and compile the last; a program already compiled is reused."""
    source = Program((traced.funcdef,))
    key = (show_program(source, unicode=False), tuple(str(r.type) for r in traced.feeds), stage, policy)
    hit = _COMPILATIONS.get(key)
    if hit is not None:
        _COMPILATIONS.move_to_end(key)
        return hit
    name = traced.funcdef.name
    typing = check_program(source)
    programs, names = {"source": source}, {"source": name}
    report = None
    if stage == "jvp":
        typing = ad.jvp(typing, name, bind_scales=True)
        programs["jvp"], names["jvp"] = typing.program, jvp_name(name)
    elif stage in ("unzip", "transpose"):
        j, typing, report = ad.linearize(typing, name, policy, bind_scales=True)
        names.update(jvp=jvp_name(name), nonlin=nonlin_name(jvp_name(name)), lin=lin_name(jvp_name(name)))
        programs.update(jvp=j.program, unzip=typing.program)
        if stage == "transpose":
            transposed = ad.transpose(typing, name)
            names["transpose"] = transpose_name(names["lin"])
            programs["transpose"] = transposed.program
            typing = check_program(Program(
                tuple(d for d in typing.program.defs if d.name != names["lin"])
                + tuple(d for d in transposed.program.defs if d.name == names["transpose"])))
    compilation = Compilation(programs, Compiled(typing.program, typing), names, report, typing.program)
    _remember(_COMPILATIONS, key, compilation, COMPILATIONS)
    return compilation


def diff_leaves(args: Sequence[Any], argnums: Argnums) -> tuple[list[Any], TreeDef, bool]:
    _, leaves, tree = split_args(args, argnums)
    return [x if isinstance(x, Traced) else np.asarray(x) for x in leaves], tree, isinstance(argnums, int)


def _run(p: Pipeline, stage: str, args: Sequence[Any], linear: Sequence[Any],
         feeds: Sequence[Any]) -> list[Any]:
    """Run function ``stage`` of ``p``: compiled on arrays, or, when a value is traced (this
    transformation is called inside another's trace), interpreted into that trace (``backend.inline``)."""
    name = p.names[stage]
    if is_traced_tree(args) or is_traced_tree(linear) or is_traced_tree(feeds):
        return Interpreter(p.compilation.ordinary(), feeds).call(name, [*args, *linear])
    return list(p.compiled.run(name, args, linear, feeds=feeds))


def _outputs(p: Pipeline, values: Sequence[Any]) -> PyTree:
    leaves = list(values)
    for i, c in p.traced.out_constants.items():
        leaves[i] = c
    return unflatten(p.traced.out_tree, leaves)


def _like(given: PyTree, wanted: TreeDef, shapes: Sequence[tuple[int, ...]], dtypes: Sequence[Any],
          what: str) -> list[Any]:
    """The leaves of ``given`` as arrays of the shapes and dtypes wanted, or a UsageError naming the
    first leaf that differs."""
    leaves, tree = flatten(given)
    if tree != wanted:
        raise UsageError(f"the {what} have the structure {tree}; the {what.split()[-1]} must have {wanted}")
    out = []
    for i, (x, shape, dtype) in enumerate(zip(leaves, shapes, dtypes, strict=True)):
        if tuple(x.shape if isinstance(x, Traced) else np.shape(x)) != tuple(shape):
            raise UsageError(f"leaf {i} of the {what} has shape {np.shape(x)}; it must be {tuple(shape)}")
        out.append(x if isinstance(x, Traced) and x.dtype == dtype else
                   bnp.astype(x, dtype) if isinstance(x, Traced) else np.asarray(x, dtype))
    return out


def jvp(f: Callable[..., Any], primals: Sequence[Any], tangents: Sequence[Any]) -> tuple[PyTree, PyTree]:
    """``(f(*primals), ∂f(primals)·tangents)`` by running J(f)."""
    primals = tuple(primals)
    argnums = tuple(range(len(primals)))
    p = build(f, primals, argnums, "jvp")
    xs, tree, _ = diff_leaves(primals, argnums)
    ts = _like(tuple(tangents), tree, [x.shape for x in xs], [x.dtype for x in xs], "tangents of the primals")
    values = _run(p, "jvp", xs, ts, p.feeds(primals))
    return _outputs(p, values[: p.n_out]), unflatten(p.traced.out_tree, list(values[p.n_out:]))


def linearize(f: Callable[..., Any], *primals: Any) -> tuple[PyTree, Callable[..., PyTree]]:
    """``(f(*primals), f_lin)``: the non-linear half runs now; ``f_lin(*tangents)`` runs the linear half
    on the saved tape."""
    argnums = tuple(range(len(primals)))
    p = build(f, primals, argnums, "unzip")
    xs, tree, _ = diff_leaves(primals, argnums)
    feeds = p.feeds(primals)
    values = _run(p, "nonlin", xs, (), feeds)
    tape = values[p.n_out]

    def f_lin(*tangents: Any) -> PyTree:
        ts = _like(tangents, tree, [x.shape for x in xs], [x.dtype for x in xs], "tangents of the primals")
        return unflatten(p.traced.out_tree, _run(p, "lin", [tape], ts, feeds))

    return _outputs(p, values[: p.n_out]), f_lin


def vjp(f: Callable[..., Any], *primals: Any, argnums: Argnums | None = None,
        has_aux: bool = False) -> tuple[Any, ...]:
    """``(f(*primals), f_vjp)`` (and ``aux`` with ``has_aux``): ``f_vjp(ct)`` is ``J_fᵀ ct``,
    one cotangent per differentiated argument; ``ct`` has the structure, shapes of the output."""
    nums: Argnums = tuple(range(len(primals))) if argnums is None else argnums
    target = _without_aux(f) if has_aux else f
    p = build(target, primals, nums, "transpose")
    xs, tree, single = diff_leaves(primals, nums)
    feeds = p.feeds(primals)
    values = _run(p, "nonlin", xs, (), feeds)
    tape = values[p.n_out]
    outs = _outputs(p, values[: p.n_out])
    main = flatten(outs[0] if has_aux else outs)
    shapes = [bnp.shape(v) for v in values[: len(main[0])]]
    dtypes = [bnp.dtype_of(v) for v in values[: len(main[0])]]

    def f_vjp(ct: PyTree) -> PyTree:
        cts = _like(ct, main[1], shapes, dtypes, "cotangent leaves of the output")
        cts += [zeros_of(v) for v in values[len(cts): p.n_out]]
        grads = _run(p, "transpose", [tape], cts, feeds)
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
        return _outputs(p, _run(p, "source", (), (), p.feeds(args)))

    run.__name__ = getattr(f, "__name__", "jitted")
    run.__doc__ = f.__doc__
    return run


def _without_statics(f: Callable[..., Any], args: Sequence[Any], static: Sequence[int]) -> Callable[..., Any]:
    """``f`` as a function of its non-static arguments only (the static ones taken from ``args``)."""
    n = len(args)
    given = {i: args[i] for i in static}

    def call(*dynamic: Any) -> Any:
        rest = iter(dynamic)
        return f(*(given[i] if i in given else next(rest) for i in range(n)))

    call.__name__ = getattr(f, "__name__", "f")
    return call
