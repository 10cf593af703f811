"""Tracing a Python function written with ``backend.numpy`` into a Linear A function definition.

``trace(f, args, argnums)`` calls ``f`` once with traced values in place of the differentiable
array leaves of ``args[argnums]``; every primitive it applies becomes a binding
``let y = p[params](x̄) in`` of a non-linear ``FuncDef``::

    def f(w : f32[64,10], b : f32[10] ;) → (f32[] ;) =
      let x = const[value=in0]() in  let y = einsum[spec="ab,bc->ac"](x, w) in  …  in (l ;)

Everything else enters as ``const``, and every ``const`` of more than one element is a *feed*, a
slot filled at each call, so the program is the same whatever the values (and one compilation
serves every trace that prints the same):

    the other arguments' arrays      feeds ``in0, in1 …``; Python floats too (weakly typed: a
                                     Python float meeting f32 stays f32), and with
                                     ``feed_ints`` Python ints and NumPy integers (``jit``)
    arrays the function reaches      feeds ``cap0, cap1 …``, their values read from this trace
    one-element constants            baked into the program (a copy), printed by value

Bindings whose results are never used are removed and unused parameters are dropped, so the
definition satisfies the calculus's relevance rule (every non-linear variable used).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

import backend.numpy  # (gives traced values their array operators and methods)
import backend.rules
import backend.second_order  # noqa: F401  (the embedding's readings and the helpers' JVP rules)
from backend.dispatch import Trace, Traced, type_of
from backend.ltypes import ArrayT, ConstRef
from backend.primitives import ArrayType, const_p
from backend.pytree import TreeDef, flatten
from calculi.core.errors import ShapeError, UsageError
from calculi.linear_ad.freevars import free_vars
from calculi.linear_ad.names import Supply
from calculi.linear_ad.syntax import (
    Binder,
    Binding,
    Drop,
    Expr,
    FuncDef,
    LetB,
    Prim,
    Primitive,
    Ret,
    Var,
    block,
    var_of,
)
from calculi.linear_ad.types import Mixed

HINTS = {"einsum": "z", "add": "s", "mul": "m", "const": "c", "reshape": "r", "broadcast": "b",
         "linear_scan": "h", "take": "e", "select": "q", "reduce_sum": "s"}


class Tracer(Traced):
    """A traced value: its variable in the program; ``weak`` for a Python scalar argument, which
    takes the dtype of the array it meets."""

    __slots__ = ("variable", "weak")

    def __init__(self, trace: Builder, type_: ArrayType, variable: Var, weak: bool = False) -> None:
        super().__init__(trace, type_)
        self.variable = variable
        self.weak = weak


@dataclass
class Builder(Trace):
    """The trace being recorded: bindings in order, and the constants met so far."""

    supply: Supply = field(default_factory=Supply)
    bindings: list[Binding] = field(default_factory=list)
    consts: dict[int, Var] = field(default_factory=dict)
    kept_alive: list[Any] = field(default_factory=list)
    feeds: list[ConstRef] = field(default_factory=list)
    captured: list[Any] = field(default_factory=list)
    types: dict[int, ArrayType] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.begin()

    def fresh(self, hint: str) -> Binder:
        return self.supply.binder(hint)

    def constant(self, value: Any) -> Var:
        """A value met while tracing: a ``cap`` feed, or a one-element copy baked in."""
        key = id(value)
        if key in self.consts:
            return self.consts[key]
        array = np.asarray(value)
        if array.dtype.kind not in "fciub":
            raise ShapeError(f"cannot trace a constant of dtype {array.dtype}")
        if array.size > 1:
            var = self.feed(array, "cap")
            self.captured.append(array)
        else:
            ref = ConstRef(ArrayT.of(ArrayType.of(array)), array.copy())
            var = self.bind(Prim(const_p, (), (), (("value", ref),)), "c", ArrayType.of(array))
        self.consts[key] = var
        self.kept_alive.append(value)
        return var

    def outer(self, x: Tracer) -> Var:
        """A value of an enclosing trace that ``f`` closes over: a captured feed, filled with that
        value when this trace's stages run inside the enclosing one (``backend.inline``)."""
        key = id(x)
        if key not in self.consts:
            ref = ConstRef(ArrayT.of(x.type), None, len(self.feeds), "cap")
            self.feeds.append(ref)
            self.captured.append(x)
            self.kept_alive.append(x)
            self.consts[key] = self.bind(Prim(const_p, (), (), (("value", ref),)), "cap", x.type)
        return self.consts[key]

    def feed(self, value: Any, name: str = "in") -> Var:
        """Feed slot ``len(feeds)``: the arguments' feeds come first, then the captured ones."""
        t = ArrayType.of(value)
        ref = ConstRef(ArrayT.of(t), None, len(self.feeds), name)
        self.feeds.append(ref)
        return self.bind(Prim(const_p, (), (), (("value", ref),)), name, t)

    def bind(self, rhs: Expr, hint: str, type_: ArrayType) -> Var:
        b = self.fresh(hint)
        self.bindings.append(LetB((b,), (), rhs))
        self.types[b.name] = type_
        return var_of(b)

    def atom(self, x: object) -> tuple[Var, ArrayType]:
        if isinstance(x, Tracer):
            if x.trace is not self:
                return self.outer(x), x.type
            return x.variable, x.type
        return self.constant(x), ArrayType.of(x)

    def process(self, prim: Primitive, operands: tuple[object, ...], params: dict[str, Any]) -> Traced:
        atoms = [self.atom(x) for x in operands]
        result = type_of(prim, tuple(t for _, t in atoms), params)
        rhs = Prim(prim, tuple(v for v, _ in atoms), (), tuple(params.items()))
        return Tracer(self, result, self.bind(rhs, HINTS.get(prim.name, "v"), result))


@dataclass
class TracedFunction:
    """A traced function: the definition, the output structure, the feeds it reads (the arguments'
    first, then ``captured``: the values of the arrays it reached, for this trace)."""

    funcdef: FuncDef
    out_tree: TreeDef
    out_constants: dict[int, Any]
    feeds: list[ConstRef]
    captured: list[Any]
    kept_alive: list[Any]

    def feed_values(self, args: Sequence[Any], argnums: int | Sequence[int],
                    feed_ints: bool = False) -> list[Any]:
        """The feeds of a call with ``args`` (of this trace's structure and types)."""
        nums = [n % len(args) for n in ((argnums,) if isinstance(argnums, int) else argnums)]
        out: list[Any] = []
        for i, a in enumerate(args):
            if i not in nums:
                out.extend(x if type(x) is np.ndarray or isinstance(x, Traced) else np.asarray(x)
                           for x in flatten(a)[0] if fed(x, feed_ints))
        out.extend(self.captured)
        return out


FLOATS = (np.ndarray, float, complex, np.floating, np.complexfloating)
INTEGERS = (int, np.integer, np.bool_)


def weakly_typed(leaf: object) -> bool:
    """A Python ``int``, ``float`` or ``complex``: it takes the dtype of the array it meets. NumPy
    scalars (``np.float64(1)``, a ``float`` too) and ``bool`` keep their own."""
    return isinstance(leaf, float | complex | int) and not isinstance(leaf, bool | np.generic)


def fed(leaf: object, feed_ints: bool) -> bool:
    """Whether a leaf of a non-differentiated argument is a feed (else it is static)."""
    return isinstance(leaf, (*FLOATS, Traced)) or (feed_ints and isinstance(leaf, INTEGERS))


def split_args(args: Sequence[Any], argnums: int | Sequence[int]) -> tuple[list[int], list[Any], TreeDef]:
    """The positions of the differentiated arguments, their leaves, and their structure."""
    nums = [argnums] if isinstance(argnums, int) else list(argnums)
    for n in nums:
        if not -len(args) <= n < len(args):
            raise UsageError(f"argnums {n} is out of range for {len(args)} positional arguments")
    nums = [n % len(args) for n in nums]
    leaves, tree = flatten(tuple(args[n] for n in nums))
    return nums, leaves, tree


def trace(f: Callable[..., Any], args: Sequence[Any], argnums: int | Sequence[int] = 0,
          name: str = "f", hints: Sequence[str] | None = None, feed_ints: bool = False) -> TracedFunction:
    """Trace ``f(*args)`` with the leaves of ``args[argnums]`` as parameters (the other leaves
    fed as the module docstring says)."""
    from backend.pytree import unflatten

    builder = Builder()
    nums, leaves, tree = split_args(args, argnums)
    params: list[Binder] = []
    tracers: list[Tracer] = []
    for i, leaf in enumerate(leaves):
        array = np.asarray(leaf)
        if array.dtype.kind not in "fc":
            raise UsageError(f"differentiated argument leaf {i} has dtype {array.dtype}; only floating "
                             "arrays have tangents (pass integers in another argument)")
        b = builder.fresh(hints[i] if hints else "w")
        params.append(b)
        builder.types[b.name] = ArrayType.of(array)
        tracers.append(Tracer(builder, ArrayType.of(array), var_of(b), weakly_typed(leaf)))
    diff_args = unflatten(tree, list(tracers))
    call_args: list[Any] = []
    for i, a in enumerate(args):
        if i in nums:
            call_args.append(diff_args[nums.index(i)])
            continue
        a_leaves, a_tree = flatten(a)
        values = []
        for leaf in a_leaves:
            if fed(leaf, feed_ints):
                array = np.asarray(leaf)
                values.append(Tracer(builder, ArrayType.of(array), builder.feed(array), weakly_typed(leaf)))
            else:
                values.append(leaf)
        call_args.append(unflatten(a_tree, values))
    out = f(*call_args)
    out_leaves, out_tree = flatten(out)
    results: list[Var] = []
    constants: dict[int, Any] = {}
    for i, leaf in enumerate(out_leaves):
        if isinstance(leaf, Tracer):
            results.append(builder.atom(leaf)[0])
        else:
            constants[i] = leaf
            results.append(builder.constant(leaf))
    types = [ArrayT.of(builder.types[v.name]) for v in results]
    body = _prune(builder.bindings, params, results)
    funcdef = FuncDef(name, tuple(params), tuple(ArrayT.of(ArrayType.of(np.asarray(x))) for x in leaves),
                      (), (), Mixed(tuple(types), ()), body)
    return TracedFunction(funcdef, out_tree, constants, builder.feeds, builder.captured, builder.kept_alive)


def _prune(bindings: list[Binding], params: list[Binder], results: list[Var]) -> Expr:
    """Dead-binding elimination, then ``drop`` for parameters the result does not need."""
    live = {v.name for v in results}
    kept: list[Binding] = []
    for b in reversed(bindings):
        assert isinstance(b, LetB)
        if b.binders[0].name in live:
            kept.append(b)
            live |= free_vars(b.rhs)[0]
    kept.reverse()
    drops: list[Binding] = [LetB((), (), Drop(var_of(p))) for p in params if p.name not in live]
    return block([*drops, *kept], Ret(tuple(results), ()))
