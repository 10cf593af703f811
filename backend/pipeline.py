"""The machinery under the transformations of ``backend.api``: a function traced once per argument
structure, shapes, dtypes and static values, calculi.linear_ad's stages run on the trace as far as a
transformation needs, and the result compiled, each kept in a bounded cache.

    trace(f ; x̄)  ──J──▶  jvp  ──U──▶  unzip (nonlin, lin)  ──T──▶  transpose

A trace is reused only while what ``f`` reads besides its arguments is unchanged (``backend.guards``);
traces that print the same program share one compilation. A stage runs compiled on arrays, or, when
one of its values belongs to an enclosing trace (a transformation called inside another's), is
interpreted into that trace (``backend.inline``): that is how the transformations nest.
"""

from __future__ import annotations

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
from backend.inline import Interpreter, is_traced_tree, ordinary, standins, traced_integers
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


def run_stage(p: Pipeline, stage: str, args: Sequence[Any], linear: Sequence[Any],
         feeds: Sequence[Any]) -> list[Any]:
    """Run function ``stage`` of ``p``: compiled on arrays, or, when a value is traced (this
    transformation is called inside another's trace), interpreted into that trace (``backend.inline``)."""
    name = p.names[stage]
    if is_traced_tree(args) or is_traced_tree(linear) or is_traced_tree(feeds):
        return Interpreter(p.compilation.ordinary(), feeds).call(name, [*args, *linear])
    return list(p.compiled.run(name, args, linear, feeds=feeds))


def outputs(p: Pipeline, values: Sequence[Any]) -> PyTree:
    leaves = list(values)
    for i, c in p.traced.out_constants.items():
        leaves[i] = c
    return unflatten(p.traced.out_tree, leaves)


def like(given: PyTree, wanted: TreeDef, shapes: Sequence[tuple[int, ...]], dtypes: Sequence[Any],
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


def _without_statics(f: Callable[..., Any], args: Sequence[Any], static: Sequence[int]) -> Callable[..., Any]:
    """``f`` as a function of its non-static arguments only (the static ones taken from ``args``)."""
    n = len(args)
    given = {i: args[i] for i in static}

    def call(*dynamic: Any) -> Any:
        rest = iter(dynamic)
        return f(*(given[i] if i in given else next(rest) for i in range(n)))

    call.__name__ = getattr(f, "__name__", "f")
    return call
