"""Linear A programs as PartIR:Core: the conversion table and the walk over a function's bindings.

Every stage the backend produces converts: the source program, and after reverse mode the
non-linear half (``f.jvp.nonlin``) followed by the transposed linear half (``f.jvp.lin.T``). Each
primitive, linear or not, nested or bound, becomes PartIR:Core statements by ``CONVERSIONS``; the
structural forms have no statement of their own:

    let t = tup(x̄)            t names the tuple x̄
    unpack t                  its names, in order
    let (; a, b) = dup(c)     a and b both name c
    drop(c)                   nothing
    y *. c                    mul (a scalar factor is broadcast first)
    a (+) b                   add (``ladd``)
    einsumL[s, side](x̄ ; c)   einsum[s] with c as operand ``side``
    pL(; c)                   the conversion of p
    0                         a broadcast zero

A literal is a scalar input; ``tanh_grad`` and negative powers are written with a broadcast one.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from backend.ltypes import ArrayT, ConstRef
from backend.partition_sequence import SEQUENCE_CONVERSIONS
from calculi.core.errors import UsageError
from calculi.linear_ad.syntax import (
    Block,
    Drop,
    Dup,
    Expr,
    FuncDef,
    LetB,
    Lit,
    LVar,
    Prim,
    Program,
    Ret,
    Tup,
    TupL,
    UnpackB,
    UnpackLB,
    Var,
    Zero,
    children,
)
from calculi.partir.prims import PRIMS
from calculi.partir.syntax import Apply, Input, Param, Shape

Conversion = Callable[["Converter", dict[str, Any], list[str]], str]


def _elementwise(prim: str) -> Conversion:
    def rule(c: Converter, params: dict[str, Any], args: list[str]) -> str:
        shape = max((c.shapes[a] for a in args), key=len)
        return c.emit(prim, (), tuple(c.stretch(a, shape) for a in args))
    return rule


def _einsum(c: Converter, params: dict[str, Any], args: list[str]) -> str:
    return c.emit("einsum", (str(params["spec"]).lower(),), tuple(args))


def _broadcast(c: Converter, params: dict[str, Any], args: list[str]) -> str:
    """NumPy broadcasting (right-aligned, size-1 dimensions stretch): drop the stretched, keep the rest."""
    (x,), out = args, tuple(params["shape"])
    shape = c.shapes[x]
    lead = len(out) - len(shape)
    kept = [i for i, n in enumerate(shape) if n == out[lead + i]]
    if len(kept) != len(shape):
        x = c.emit("reshape", tuple(shape[i] for i in kept), (x,))
    return c.emit("broadcast", (*out, -1, *(lead + i for i in kept)), (x,))


def _integer_pow(c: Converter, params: dict[str, Any], args: list[str]) -> str:
    y = int(params["y"])
    if y == 0 or not -8 <= y <= 8:
        raise UsageError(f"integer_pow[y={y}] has no PartIR form (powers -8 to 8 but 0 only)")
    (x,) = args
    result = x
    for _ in range(abs(y) - 1):
        result = c.emit("mul", (), (result, x))
    if y < 0:
        result = c.emit("div", (), (c.scalar(1.0, c.shapes[x]), result))
    return result


def _tanh_grad(c: Converter, params: dict[str, Any], args: list[str]) -> str:
    """tanh' written from y = tanh x: 1 − y·y."""
    (y,) = args
    return c.emit("sub", (), (c.scalar(1.0, c.shapes[y]), c.emit("mul", (), (y, y))))


def _einsum_linear(c: Converter, params: dict[str, Any], args: list[str]) -> str:
    """``einsumL[spec, side](x̄ ; c)``: the cotangent is operand ``side`` of ``einsum[spec]``."""
    *nonlinear, ct = args
    side = int(params["side"])
    return _einsum(c, params, [*nonlinear[:side], ct, *nonlinear[side:]])


def _take(c: Converter, params: dict[str, Any], args: list[str]) -> str:
    """``take[axis](x, i)``: PartIR's ``take`` gathers rows, so ``axis`` is moved first and back."""
    x, index = args
    axis, rank, k = int(params["axis"]), len(c.shapes[x]), len(c.shapes[index])
    if axis == 0:
        return c.emit("take", (), (x, index))
    front = c.emit("transpose", (axis, *range(axis), *range(axis + 1, rank)), (x,))
    rows = c.emit("take", (), (front, index))
    back = (*range(k, k + axis), *range(k), *range(k + axis, rank - 1 + k))
    return c.emit("transpose", back, (rows,))


def _logistic_grad(c: Converter, params: dict[str, Any], args: list[str]) -> str:
    """σ' written from y = σ x: y·(1 − y)."""
    (y,) = args
    return c.emit("mul", (), (y, c.emit("sub", (), (c.scalar(1.0, c.shapes[y]), y))))


def _rsqrt_grad(c: Converter, params: dict[str, Any], args: list[str]) -> str:
    """(x^−½)' written from y = x^−½: −½·y·y·y."""
    (y,) = args
    cube = c.emit("mul", (), (c.emit("mul", (), (y, y)), y))
    return c.emit("mul", (), (c.scalar(-0.5, c.shapes[y]), cube))


def _softplus(c: Converter, params: dict[str, Any], args: list[str]) -> str:
    """log(1 + eˣ) = relu x + log(1 + e^−|x|), |x| = relu x + relu(−x): no overflow for large x."""
    (x,) = args
    r = c.emit("relu", (), (x,))
    magnitude = c.emit("add", (), (r, c.emit("relu", (), (c.emit("neg", (), (x,)),))))
    tail = c.emit("exp", (), (c.emit("neg", (), (magnitude,)),))
    return c.emit("add", (), (r, c.emit("log", (), (c.emit("add", (), (c.scalar(1.0, c.shapes[x]), tail)),))))


GELU_C = math.sqrt(2.0 / math.pi)
GELU_A = 0.044715


def _gelu_tanh(c: Converter, params: dict[str, Any], args: list[str]) -> str:
    """gelu x = ½·x·(1 + tanh(C·(x + A·x³)))."""
    (x,) = args
    k = c.shapes[x]
    t = _gelu_inner_tanh(c, x)
    half_x = c.emit("mul", (), (c.scalar(0.5, k), x))
    return c.emit("mul", (), (half_x, c.emit("add", (), (c.scalar(1.0, k), t))))


def _gelu_grad(c: Converter, params: dict[str, Any], args: list[str]) -> str:
    """gelu' x = ½·(1 + t) + ½·x·(1 − t²)·C·(1 + 3A·x²), t = tanh(C·(x + A·x³))."""
    (x,) = args
    k = c.shapes[x]
    t = _gelu_inner_tanh(c, x)
    first = c.emit("mul", (), (c.scalar(0.5, k), c.emit("add", (), (c.scalar(1.0, k), t))))
    slope = c.emit("sub", (), (c.scalar(1.0, k), c.emit("mul", (), (t, t))))
    poly = c.emit("add", (), (c.scalar(1.0, k), c.emit("mul", (), (c.scalar(3 * GELU_A, k),
                                                                   c.emit("mul", (), (x, x))))))
    scaled_x = c.emit("mul", (), (c.scalar(0.5 * GELU_C, k), x))
    second = c.emit("mul", (), (scaled_x, c.emit("mul", (), (slope, poly))))
    return c.emit("add", (), (first, second))


def _gelu_inner_tanh(c: Converter, x: str) -> str:
    k = c.shapes[x]
    cube = c.emit("mul", (), (c.emit("mul", (), (x, x)), x))
    inner = c.emit("add", (), (x, c.emit("mul", (), (c.scalar(GELU_A, k), cube))))
    return c.emit("tanh", (), (c.emit("mul", (), (c.scalar(GELU_C, k), inner)),))


def _identity(c: Converter, params: dict[str, Any], args: list[str]) -> str:
    return args[-1]


def _first(prim: str) -> Conversion:
    return lambda c, params, args: c.emit(prim, tuple(next(iter(params.values()))), tuple(args))


CONVERSIONS: dict[str, Conversion] = {
    "add": _elementwise("add"), "sub": _elementwise("sub"), "mul": _elementwise("mul"),
    "div": _elementwise("div"), "neg": _elementwise("neg"), "tanh": _elementwise("tanh"),
    "exp": _elementwise("exp"), "einsum": _einsum, "broadcast": _broadcast, "integer_pow": _integer_pow,
    "reduce_sum": _first("sum"), "reshape": _first("reshape"), "transpose": _first("transpose"),
    "tanh_grad": _tanh_grad, "log": _elementwise("log"), "logistic": _elementwise("logistic"),
    "rsqrt": _elementwise("rsqrt"), "take": _take,
    "takeL": lambda c, params, args: _take(c, params, args[::-1]),
    "logistic_grad": _logistic_grad, "rsqrt_grad": _rsqrt_grad, "softplus": _softplus,
    "stop_gradient": _identity, "checkpoint_name": _identity,
    "gelu_tanh": _gelu_tanh, "gelu_grad": _gelu_grad,
    "scale": _elementwise("mul"), "ladd": _elementwise("add"), "einsumL": _einsum_linear,
    **SEQUENCE_CONVERSIONS,
}
"""How each backend primitive is written in PartIR:Core. A linear primitive ``pL`` without an entry
of its own converts as ``p`` (its operands: the non-linear ones, then the linear one)."""


def conversion(name: str) -> Conversion:
    rule = CONVERSIONS.get(name) or (CONVERSIONS.get(name[:-1]) if name.endswith("L") else None)
    if rule is None:
        raise UsageError(f"the backend primitive {name} has no PartIR form yet "
                         f"(known: {', '.join(sorted(CONVERSIONS))}, and their linear forms)")
    return rule


def missing(program: Program, names: list[str]) -> list[str]:
    """The primitives of functions ``names`` of ``program`` that have no PartIR form."""
    found: set[str] = set()
    stack: list[Expr] = [program.index[n].body for n in names]
    while stack:
        e = stack.pop()
        if isinstance(e, Prim) and e.prim.name != "const":
            try:
                conversion(e.prim.name)
            except UsageError:
                found.add(e.prim.name)
        stack.extend(children(e))
    return sorted(found)


def refuse_missing(program: Program, names: list[str]) -> None:
    absent = missing(program, names)
    if absent:
        raise UsageError(f"the backend primitive{'s' if len(absent) > 1 else ''} {', '.join(absent)} "
                         f"{'have' if len(absent) > 1 else 'has'} no PartIR form yet "
                         f"(known: {', '.join(sorted(CONVERSIONS))}, and their linear forms)")


class Converter:
    """One PartIR:Core function under construction: its inputs (with their values) and statements."""

    def __init__(self, names: list[str], types: list[ArrayT], values: list[np.ndarray],
                 feeds: list[Any]) -> None:
        self.used = set(names)
        self.shapes: dict[str, Shape] = {}
        self.inputs: list[Input] = []
        self.values: dict[str, np.ndarray] = {}
        self.stmts: list[Apply] = []
        self.feeds = feeds
        self.scalars: dict[float, str] = {}
        for name, ty, value in zip(names, types, values, strict=True):
            self.add_input(name, np.asarray(value, dtype=np.float64).reshape(ty.shape))

    def fresh(self, base: str) -> str:
        k = 0
        while f"{base}{k}" in self.used:
            k += 1
        self.used.add(f"{base}{k}")
        return f"{base}{k}"

    def add_input(self, name: str, value: np.ndarray) -> str:
        self.used.add(name)
        self.inputs.append(Input(name, value.shape))
        self.shapes[name], self.values[name] = value.shape, value
        return name

    def emit(self, prim: str, params: tuple[Param, ...], operands: tuple[str, ...]) -> str:
        name = self.fresh("v")
        self.shapes[name] = PRIMS[prim].shape(params, [self.shapes[a] for a in operands], None)
        self.stmts.append(Apply(name, prim, params, operands))
        return name

    def scalar(self, value: float, shape: Shape = ()) -> str:
        """The number ``value`` as a scalar input (one per number), broadcast to ``shape``."""
        if value not in self.scalars:
            self.scalars[value] = self.add_input(self.fresh("c"), np.asarray(value, dtype=np.float64))
        return self.stretch(self.scalars[value], shape)

    def stretch(self, name: str, shape: Shape) -> str:
        if self.shapes[name] == shape:
            return name
        if self.shapes[name] != ():
            raise UsageError(f"operands of shapes {self.shapes[name]} and {shape} meet in an elementwise "
                             "primitive; only a scalar is broadcast implicitly")
        return self.emit("broadcast", (*shape, -1), (name,))

    def constant(self, value: Any) -> str:
        if isinstance(value, ConstRef):
            data = value.value if value.slot is None else self.feeds[value.slot]
            base = str(value)
            name = base if base not in self.used else self.fresh(base)
            return self.add_input(name, np.asarray(data, dtype=np.float64))
        return self.add_input(self.fresh("c"), np.asarray(value, dtype=np.float64))

    def expr(self, e: Expr, env: dict[int, Any], lenv: dict[int, Any]) -> list[Any]:
        """The names ``e`` denotes (a tuple's names as one list entry)."""
        if isinstance(e, Var):
            return [env[e.name]]
        if isinstance(e, LVar):
            return [lenv[e.name]]
        if isinstance(e, Lit):
            return [self.scalar(float(e.text))]
        if isinstance(e, Zero):
            assert isinstance(e.type, ArrayT)
            return [self.scalar(0.0, e.type.shape)]
        if isinstance(e, Tup | TupL):
            return [tuple(self.expr(v, env, lenv)[0] for v in (e.vars if isinstance(e, Tup) else e.lvars))]
        if isinstance(e, Dup):
            return self.expr(e.arg, env, lenv) * 2
        if isinstance(e, Drop):
            return []
        if isinstance(e, Prim):
            params = dict(e.params)
            if e.prim.name == "const":
                return [self.constant(params["value"])]
            operands = [x for a in (*e.args, *e.largs) for x in self.expr(a, env, lenv)]
            return [conversion(e.prim.name)(self, params, operands)]
        raise UsageError(f"a {type(e).__name__} expression has no PartIR form (calls and nested blocks "
                         "are inlined by the backend first)")

    def body(self, fd: FuncDef, env: dict[int, Any], lenv: dict[int, Any]) -> tuple[list[Any], list[Any]]:
        """Convert ``fd``'s bindings; the names of its non-linear and linear results."""
        body = fd.body
        bindings = body.bindings if isinstance(body, Block) else ()
        result = body.result if isinstance(body, Block) else body
        for b in bindings:
            if isinstance(b, LetB):
                values = self.expr(b.rhs, env, lenv)
                binders = [(env, x) for x in b.binders] + [(lenv, x) for x in b.lbinders]
                if len(values) != len(binders):
                    raise UsageError(f"a binding of {len(binders)} names to {len(values)} values")
                for (target, binder), value in zip(binders, values, strict=True):
                    target[binder.name] = value
            elif isinstance(b, UnpackB | UnpackLB):
                target, source = (env, env) if isinstance(b, UnpackB) else (lenv, lenv)
                for binder, value in zip(b.binders if isinstance(b, UnpackB) else b.lbinders,
                                         source[b.var.name], strict=True):
                    target[binder.name] = value
        if not isinstance(result, Ret):
            raise UsageError("a function must end in its results to convert to PartIR")
        return ([env[v.name] for v in result.vars], [lenv[v.name] for v in result.lvars])
