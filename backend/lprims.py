"""The array primitives as Linear A primitives: typing and evaluation entries in linear_ad's tables.

Each array primitive of ``backend.primitives`` becomes a non-linear ``Primitive`` of the calculus
(``tanh``, ``einsum``, ``reshape`` …, looked up by name in ``PRIMS``), and each linear operation its
JVP and transpose rules need becomes a linear one, named with an ``L`` as in the paper's ``tupL``:
``reshapeL(; ẋ)``, ``einsumL[spec, side](y ; ẋ)``, ``scanL[reverse, adjoint](a ; ẋ)`` … with its
constant (non-linear) arguments first. The paper's scalar primitives ``sin, cos, exp, +, ×, ⊕, ⊙``
are extended to arrays (elementwise, a real literal broadcasting) by wrapping their typing rules;
on ℝ they behave exactly as before. The JVP and transpose rules are in ``backend.rules``.
"""

from __future__ import annotations

import functools
import math
import operator
from collections.abc import Callable, Sequence

import numpy as np

import backend.contractions as contractions
from backend.ltypes import ArrayT, ConstRef
from backend.primitives import GELU_C, IMPLS, SHAPES, Array, ArrayType
from calculi.core.errors import TypeCheckError
from calculi.linear_ad.primitives import (
    ADD,
    COS,
    EXP,
    LADD,
    MUL,
    SCALE,
    SIN,
    ParamDict,
    TypingRule,
    cost_rules,
    impl_rules,
    register,
    typing_rules,
)
from calculi.linear_ad.syntax import Primitive
from calculi.linear_ad.types import REAL, Type

PRIMS: dict[str, Primitive] = {"sin": SIN, "cos": COS, "exp": EXP, "add": ADD, "mul": MUL}
"""Every primitive the tracer and the rules use, by name."""
DIRECT: dict[Primitive, Callable[..., Array]] = {SIN: np.sin, COS: np.cos, EXP: np.exp, ADD: np.add,
                                                 MUL: np.multiply, LADD: np.add, SCALE: np.multiply}
"""The NumPy function of each primitive, called as ``f(*consts, *linear_args, **params)`` (the
executor's fast path, without the scalar-domain argument of ``impl_rules``)."""


def _arrays(name: str, types: Sequence[Type]) -> list[ArrayType]:
    out = []
    for t in types:
        if not isinstance(t, ArrayT):
            raise TypeCheckError(f"{name} expects arrays, got {t}")
        out.append(t.array_type)
    return out


def define(name: str, arity: int | None, impl: Callable[..., Array], shape: Callable[..., ArrayType],
           larity: int = 0) -> Primitive:
    """Register primitive ``name``: ``impl(*consts, *linear_args, **params)`` evaluates it and
    ``shape(*types, **params)`` types it (same argument order)."""
    p = register(Primitive(name, arity=arity, larity=larity, linear=larity > 0))

    def typing(args: Sequence[Type], largs: Sequence[Type], params: ParamDict) -> Type:
        return ArrayT.of(shape(*_arrays(name, [*args, *largs]), **params))

    typing_rules[p] = typing
    impl_rules[p] = lambda domain, *xs, **ps: impl(*xs, **ps)
    DIRECT[p] = impl
    PRIMS[name] = p
    return p


# -- the non-linear array primitives (same names as backend.primitives) ---------------------------

ARITY: dict[str, int | None] = {
    **dict.fromkeys(["neg", "integer_pow", "tanh", "log", "logistic", "softplus", "gelu_tanh", "sqrt",
                     "rsqrt", "stop_gradient", "one_hot", "convert", "broadcast", "reduce_sum",
                     "reduce_max", "reshape", "transpose", "slice", "pad", "cumsum", "checkpoint_name"], 1),
    **dict.fromkeys(["sub", "div", "maximum", "pow", "greater", "less", "equal", "take", "scatter_add",
                     "conv1d", "einsum"], 2),
    "select": 3, "linear_scan": 3, "concatenate": None,
}
for _name, _arity in ARITY.items():
    define(_name, _arity, IMPLS[_name], SHAPES[_name])


def _const_impl(*, value: ConstRef) -> Array:
    return value.read()  # type: ignore[no-any-return]


define("const", 0, _const_impl, lambda *, value: value.type.array_type)


# -- derivative helpers (non-linear; they appear inside tangent programs) -------------------------

def _unary_helper(name: str, fn: Callable[[Array], Array]) -> None:
    define(name, 1, fn, lambda t: t)


def _tanh_grad(y: Array) -> Array:
    """tanh' as a function of y = tanh x: 1 − y²."""
    return 1.0 - y * y


def _logistic_grad(y: Array) -> Array:
    """σ' as a function of y = σ(x): y(1 − y)."""
    return y * (1.0 - y)


def _gelu_grad(x: Array) -> Array:
    inner = GELU_C * (x + 0.044715 * x * x * x)
    t = np.tanh(inner)
    return 0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * GELU_C * (1.0 + 3 * 0.044715 * x * x)


def _sqrt_grad(y: Array) -> Array:
    """√' as a function of y = √x: 1 / (2y)."""
    return 0.5 / y


def _rsqrt_grad(y: Array) -> Array:
    """(x^−½)' as a function of y = x^−½: −y³ / 2."""
    return -0.5 * y * y * y


for _name, _fn in {"tanh_grad": _tanh_grad, "logistic_grad": _logistic_grad, "gelu_grad": _gelu_grad,
                   "sqrt_grad": _sqrt_grad, "rsqrt_grad": _rsqrt_grad}.items():
    _unary_helper(_name, _fn)


def _scan_prev(a: Array, x: Array, h0: Array, *, reverse: bool) -> Array:
    """The state each step starts from: ``[h0, h_0 … h_{T−2}]`` (forward) or ``[h_1 … h_{T−1}, h0]``."""
    h = IMPLS["linear_scan"](a, x, h0, reverse=reverse)
    first = h0[:, None]
    return np.concatenate([h[:, 1:], first] if reverse else [first, h[:, :-1]], axis=1)


define("scan_prev", 3, _scan_prev,
       lambda a, x, h0, *, reverse: SHAPES["linear_scan"](a, x, h0, reverse=reverse))


def _argmax_weights(x: Array, *, axes: tuple[int, ...]) -> Array:
    """``1/k`` at the k maxima along ``axes``, 0 elsewhere (the derivative of max)."""
    hit = (x == np.max(x, axis=axes, keepdims=True)).astype(x.dtype)
    return hit / hit.sum(axis=axes, keepdims=True)  # type: ignore[no-any-return]


define("argmax_weights", 1, _argmax_weights, lambda t, *, axes: t)


# -- the linear primitives: constants first, then the one linear argument -----------------------

def _lin(name: str, base: str) -> None:
    """A linear primitive with no constants that computes ``base`` on its linear argument."""
    define(name, 0, IMPLS[base], SHAPES[base], larity=1)


for _name in ("neg", "convert", "broadcast", "reduce_sum", "reshape", "transpose", "slice", "pad",
              "cumsum"):
    _lin(_name + "L", _name)


def _select_l(mask: Array, v: Array, *, keep: bool) -> Array:
    return np.where(mask, v, 0) if keep else np.where(mask, 0, v)


def _select_l_shape(mask: ArrayType, v: ArrayType, *, keep: bool) -> ArrayType:
    return SHAPES["select"](mask, v, v)


define("selectL", 1, _select_l, _select_l_shape, larity=1)
define("takeL", 1, lambda idx, x: IMPLS["take"](x, idx), lambda idx, x: SHAPES["take"](x, idx), larity=1)
define("scatter_addL", 1, lambda idx, g, *, rows: IMPLS["scatter_add"](g, idx, rows=rows),
       lambda idx, g, *, rows: SHAPES["scatter_add"](g, idx, rows=rows), larity=1)


def _scan_l(a: Array, x: Array, *, reverse: bool, adjoint: bool) -> Array:
    """``h_t = a_t h_{t∓1} + x_t`` from zero; the adjoint ``u_t = x_t + a_{t±1} u_{t±1}`` runs the
    other way with ``a`` shifted by one step (the transpose of the scan is the reverse scan)."""
    h0 = np.zeros((x.shape[0], *x.shape[2:]), np.result_type(a, x))
    if not adjoint:
        return IMPLS["linear_scan"](a, x, h0, reverse=reverse)
    shifted = np.zeros_like(a)
    if reverse:
        shifted[:, 1:] = a[:, :-1]
    else:
        shifted[:, :-1] = a[:, 1:]
    return IMPLS["linear_scan"](shifted, x, h0, reverse=not reverse)


define("scanL", 1, _scan_l, lambda a, x, *, reverse, adjoint: SHAPES["linear_scan"](
    a, x, ArrayType((x.shape[0], *x.shape[2:]), x.dtype), reverse=reverse), larity=1)
define("conv1dL", 1, lambda w, x, *, reverse: IMPLS["conv1d"](x, w, reverse=reverse),
       lambda w, x, *, reverse: SHAPES["conv1d"](x, w, reverse=reverse), larity=1)
define("conv1d_wL", 1, lambda x, w, *, reverse: IMPLS["conv1d"](x, w, reverse=reverse),
       lambda x, w, *, reverse: SHAPES["conv1d"](x, w, reverse=reverse), larity=1)
define("wgradL", 1, lambda x, g, *, width, reverse: IMPLS["conv1d_wgrad"](x, g, width=width, reverse=reverse),
       lambda x, g, *, width, reverse: SHAPES["conv1d_wgrad"](x, g, width=width, reverse=reverse), larity=1)


def _einsum_l(const: Array, lin: Array, *, spec: str, side: int) -> Array:
    return IMPLS["einsum"](*((lin, const) if side == 0 else (const, lin)), spec=spec)


def _einsum_l_shape(const: ArrayType, lin: ArrayType, *, spec: str, side: int) -> ArrayType:
    return SHAPES["einsum"](*((lin, const) if side == 0 else (const, lin)), spec=spec)


define("einsumL", 1, _einsum_l, _einsum_l_shape, larity=1)


def _einsum_cost(args: Sequence[Type], largs: Sequence[Type], result: Type, params: ParamDict) -> int:
    """Multiply-adds of a contraction: the product of the sizes of all its indices."""
    types = [t for t in (*args, *largs) if isinstance(t, ArrayT)]
    ins, _ = contractions.parse_spec(params["spec"], 2)
    sizes: dict[str, int] = {}
    for term, t in zip(ins, types, strict=False):
        sizes.update(zip(term, t.shape, strict=True))
    return math.prod(sizes.values())


cost_rules[PRIMS["einsum"]] = _einsum_cost
cost_rules[PRIMS["einsumL"]] = _einsum_cost


# -- kernels specialised at compile time (the executor binds them in place of the generic calls) ----

Specialise = Callable[[ParamDict, tuple[ArrayType, ...]], Callable[..., Array]]


def _einsum_at(ps: ParamDict, ts: tuple[ArrayType, ...]) -> Callable[..., Array]:
    return contractions.einsum_kernel(ps["spec"], ts[0].shape, ts[1].shape)


def _einsum_l_at(ps: ParamDict, ts: tuple[ArrayType, ...]) -> Callable[..., Array]:
    const, lin = ts
    if ps["side"] == 1:
        return contractions.einsum_kernel(ps["spec"], const.shape, lin.shape)
    kernel = contractions.einsum_kernel(ps["spec"], lin.shape, const.shape)

    def swapped(c: Array, x: Array) -> Array:
        return kernel(x, c)

    swapped.__name__ = kernel.__name__
    return swapped


def _slice_at(ps: ParamDict, ts: tuple[ArrayType, ...]) -> Callable[..., Array]:
    return operator.itemgetter(tuple(map(slice, ps["starts"], ps["limits"], ps["strides"])))


def _broadcast_at(ps: ParamDict, ts: tuple[ArrayType, ...]) -> Callable[..., Array]:
    """``broadcast[shape=S](x) = reshape[shape=S](x)`` when |x| = ∏ S: the broadcast only inserts
    axes of length 1 (a bias ``[D]`` on one token ``[1,1,D]``), and NumPy reshapes in a fraction of
    ``broadcast_to``'s time."""
    shape = ps["shape"]
    if ts[0].size == math.prod(shape):
        return operator.methodcaller("reshape", shape)
    return functools.partial(IMPLS["broadcast"], shape=shape)


SPECIALISE: dict[Primitive, Specialise] = {
    PRIMS["einsum"]: _einsum_at, PRIMS["einsumL"]: _einsum_l_at, PRIMS["slice"]: _slice_at,
    PRIMS["sliceL"]: _slice_at, PRIMS["broadcast"]: _broadcast_at, PRIMS["broadcastL"]: _broadcast_at}
"""For a primitive here, ``SPECIALISE[p](params, argument types)`` is its implementation at those
parameters and shapes, with the work that depends only on them done once (``DIRECT`` is the rest)."""


# -- which results are new arrays (the executor may overwrite them) ------------------------------

FRESH: frozenset[Primitive] = frozenset(
    {p for p, f in DIRECT.items() if isinstance(f, np.ufunc)}
    | {PRIMS[n] for n in (
        "integer_pow", "logistic", "softplus", "gelu_tanh", "rsqrt", "one_hot", "reduce_sum", "reduce_max",
        "pad", "cumsum", "greater", "less", "equal", "take", "scatter_add", "conv1d", "einsum", "select",
        "linear_scan", "concatenate", "tanh_grad", "logistic_grad", "gelu_grad", "sqrt_grad",
        "rsqrt_grad", "scan_prev", "argmax_weights", "reduce_sumL", "padL", "cumsumL", "selectL",
        "takeL", "scatter_addL", "scanL", "conv1dL", "conv1d_wL", "wgradL", "einsumL")})
"""The primitives whose result is always a new array, never a view of (or one of) their arguments;
the others (reshape, transpose, slice, broadcast, convert, stop_gradient, const …) may alias."""


# -- the paper's scalar primitives, extended to arrays --------------------------------------------

def _elementwise(p: Primitive, old: TypingRule, linear: bool = False) -> TypingRule:
    def rule(args: Sequence[Type], largs: Sequence[Type], params: ParamDict) -> Type:
        types = [*args, *largs]
        arrays = [t for t in types if isinstance(t, ArrayT)]
        if not arrays:
            return old(args, largs, params)
        for t in types:
            if t != REAL and not isinstance(t, ArrayT):
                raise TypeCheckError(f"{p.name} of {t} and an array")
            if isinstance(t, ArrayT) and t.shape != arrays[0].shape:
                raise TypeCheckError(f"{p.name} of arrays of shapes {arrays[0]} and {t} (broadcast first)")
        if linear and any(t == REAL for t in largs):
            raise TypeCheckError(f"{p.name} of a linear ℝ and an array")
        dtype = np.result_type(*(np.dtype(t.dtype) for t in arrays)).name
        return ArrayT(arrays[0].shape, dtype)

    return rule


for _p in (SIN, COS, EXP, ADD, MUL, LADD, SCALE):
    typing_rules[_p] = _elementwise(_p, typing_rules[_p], linear=_p in (LADD, SCALE))

