"""The elementwise array primitives: each one object, defined once (``backend.lprims.define``).

``tanh_p`` computes ``np.tanh`` and is typed by ``same``: operands of one shape, the result of that
shape and of their common dtype::

    Γ ⊢ x : f32[B,T,D]
    ──────────────────────── tanh
    Γ ⊢ tanh(x) : f32[B,T,D]

Binary primitives take operands of one shape: ``backend.numpy`` inserts explicit ``broadcast``
primitives, so that every broadcast has its transpose (a ``reduce_sum``) in the program. Comparisons
and logical operations give booleans and, like ``sign``, ``floor`` and ``stop_gradient``, a zero
tangent (kind ``constant``). The derivative helpers at the end (``tanh_grad`` …) appear only inside
derivative programs. The shape, indexing and contraction primitives are in ``backend.structural``,
``backend.indexing`` and ``backend.contractions``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from backend.lprims import (
    CONSTANT,
    HELPER,
    LINEAR,
    NONLINEAR,
    SOURCE,
    Array,
    define,
    extend,
)
from backend.ltypes import ArrayType as ArrayType  # (re-exported: the type of an array value)
from backend.ltypes import ConstRef
from calculi.core.errors import ShapeError
from calculi.linear_ad.primitives import (
    ABS,
    ADD,
    COS,
    DIV,
    EXP,
    LADD,
    LOG,
    LOGISTIC,
    MUL,
    NEG,
    POW,
    SCALE,
    SIN,
    SQRT,
    SUB,
    TANH,
)
from calculi.linear_ad.syntax import Primitive

Shape = tuple[int, ...]


def same(*types: ArrayType) -> ArrayType:
    """Operands of one shape; the result has it, with their common dtype."""
    first = types[0]
    for other in types[1:]:
        if other.shape != first.shape:
            raise ShapeError(f"operands of shapes {first} and {other} differ (broadcast them first)")
    return ArrayType(first.shape, np.result_type(*(t.dtype for t in types)))


def boolean(*types: ArrayType) -> ArrayType:
    """Operands of one shape; a boolean result of that shape."""
    return ArrayType(same(*types).shape, np.dtype(bool))


# -- the paper's scalar primitives, on arrays ----------------------------------------------------

add_p = extend(ADD, np.add, same, LINEAR)
mul_p = extend(MUL, np.multiply, same, "bilinear")
sin_p = extend(SIN, np.sin, same, NONLINEAR)
cos_p = extend(COS, np.cos, same, NONLINEAR)
exp_p = extend(EXP, np.exp, same, NONLINEAR)
ladd_p = extend(LADD, np.add, same, "tangent")
scale_p = extend(SCALE, np.multiply, same, "tangent")


# -- unary ---------------------------------------------------------------------------------------

def _logistic(x: Array) -> Array:
    return 0.5 * (np.tanh(0.5 * x) + 1.0)


def _softplus(x: Array) -> Array:
    if np.iscomplexobj(x):  # the complex-step check needs the analytic form
        return np.log1p(np.exp(x))
    return np.logaddexp(0.0, x).astype(x.dtype, copy=False)


GELU_C = math.sqrt(2.0 / math.pi)


def _gelu_tanh(x: Array) -> Array:
    return 0.5 * x * (1.0 + np.tanh(GELU_C * (x + 0.044715 * x * x * x)))


def _rsqrt(x: Array) -> Array:
    return 1.0 / np.sqrt(x)


def unary(name: str, fn: Any, kind: str = NONLINEAR) -> Primitive:
    return define(name, fn, same, kind=kind, fresh=True)


neg_p = extend(NEG, np.negative, same, LINEAR)
log_p = extend(LOG, np.log, same, NONLINEAR)
tanh_p = extend(TANH, np.tanh, same, NONLINEAR)
logistic_p = extend(LOGISTIC, _logistic, same, NONLINEAR)
softplus_p = unary("softplus", _softplus)
gelu_tanh_p = unary("gelu_tanh", _gelu_tanh)
sqrt_p = extend(SQRT, np.sqrt, same, NONLINEAR)
rsqrt_p = unary("rsqrt", _rsqrt)
log1p_p = unary("log1p", np.log1p)
expm1_p = unary("expm1", np.expm1)
abs_p = extend(ABS, np.abs, same, NONLINEAR)
sign_p = unary("sign", np.sign, CONSTANT)
floor_p = unary("floor", np.floor, CONSTANT)
ceil_p = unary("ceil", np.ceil, CONSTANT)
rint_p = unary("rint", np.rint, CONSTANT)
logical_not_p = define("logical_not", np.logical_not, boolean, kind=CONSTANT, fresh=True)


def _integer_pow(x: Array, *, y: int) -> Array:
    return x**y


integer_pow_p = define("integer_pow", _integer_pow, lambda t, *, y: t, kind=NONLINEAR, fresh=True)


def _sqrt_bound_derivative(x: Array, *, max_gradient: float) -> Array:
    return np.sqrt(x)


sqrt_bound_derivative_p = define("sqrt_bound_derivative", _sqrt_bound_derivative,
                                 lambda t, *, max_gradient: t, kind=NONLINEAR, fresh=True)
"""``√x`` whose derivative is bounded: ``1 / max(2√x, 1/max_gradient)`` (finite at 0)."""


# -- binary --------------------------------------------------------------------------------------

def binary(name: str, fn: Any, kind: str = NONLINEAR) -> Primitive:
    return define(name, fn, same, kind=kind, arity=2, fresh=True)


sub_p = extend(SUB, np.subtract, same, LINEAR)
div_p = extend(DIV, np.divide, same, NONLINEAR)
maximum_p = binary("maximum", np.maximum)
minimum_p = binary("minimum", np.minimum)
pow_p = extend(POW, np.power, same, NONLINEAR)


def predicate(name: str, fn: Any) -> Primitive:
    return define(name, fn, boolean, kind=CONSTANT, arity=2, fresh=True)


greater_p = predicate("greater", np.greater)
less_p = predicate("less", np.less)
equal_p = predicate("equal", np.equal)
greater_equal_p = predicate("greater_equal", np.greater_equal)
less_equal_p = predicate("less_equal", np.less_equal)
not_equal_p = predicate("not_equal", np.not_equal)
logical_and_p = predicate("logical_and", np.logical_and)
logical_or_p = predicate("logical_or", np.logical_or)
logical_xor_p = predicate("logical_xor", np.logical_xor)


# -- selection, conversion, labels ---------------------------------------------------------------

def _select(mask: Array, a: Array, b: Array) -> Array:
    return np.where(mask, a, b)


def _select_shape(mask: ArrayType, a: ArrayType, b: ArrayType) -> ArrayType:
    if mask.dtype != np.dtype(bool):
        raise ShapeError(f"select needs a boolean mask, got {mask}")
    if np.broadcast_shapes(mask.shape, a.shape) != a.shape:
        raise ShapeError(f"select mask {mask} does not broadcast to {a}")
    return same(a, b)


select_p = define("select", _select, _select_shape, kind=LINEAR, arity=3, fresh=True)
"""``select(m, a, b)``: ``a`` where the mask holds, else ``b``; linear in ``(a, b)`` together."""


def _select_l(mask: Array, v: Array, *, keep: bool) -> Array:
    return np.where(mask, v, 0) if keep else np.where(mask, 0, v)


selectL_p = define("selectL", _select_l, lambda m, v, *, keep: _select_shape(m, v, v), arity=1, larity=1,
                   fresh=True)


def _convert(x: Array, *, dtype: str) -> Array:
    return x.astype(dtype, copy=False)


def _convert_shape(t: ArrayType, *, dtype: str) -> ArrayType:
    return ArrayType(t.shape, np.dtype(dtype))


convert_p = define("convert", _convert, _convert_shape, kind=LINEAR, fresh=False)
convertL_p = define("convertL", _convert, _convert_shape, arity=0, larity=1, fresh=False)
negL_p = define("negL", np.negative, same, arity=0, larity=1, fresh=True)


def _identity(x: Array, **params: Any) -> Array:
    return x


stop_gradient_p = define("stop_gradient", _identity, lambda t: t, kind=CONSTANT, fresh=False)
checkpoint_name_p = define("checkpoint_name", _identity, lambda t, *, label: t, kind=LINEAR, fresh=False)
"""The identity, labelled: checkpoint policies save or recompute values by these labels."""


def _const(*, value: ConstRef) -> Array:
    return value.read()  # type: ignore[no-any-return]


const_p = define("const", _const, lambda *, value: value.type.array_type, kind=SOURCE, arity=0, fresh=False)


# -- derivative helpers (non-linear; they appear inside tangent programs) -------------------------

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


def _sqrt_bound_grad(y: Array, *, max_gradient: float) -> Array:
    """The bounded √' as a function of y = √x: 1 / max(2y, 1/max_gradient)."""
    return 1.0 / np.maximum(2.0 * y, 1.0 / max_gradient)


tanh_grad_p = unary("tanh_grad", _tanh_grad, HELPER)
logistic_grad_p = unary("logistic_grad", _logistic_grad, HELPER)
gelu_grad_p = unary("gelu_grad", _gelu_grad, HELPER)
sqrt_grad_p = unary("sqrt_grad", _sqrt_grad, HELPER)
rsqrt_grad_p = unary("rsqrt_grad", _rsqrt_grad, HELPER)
sqrt_bound_grad_p = define("sqrt_bound_grad", _sqrt_bound_grad, lambda t, *, max_gradient: t, kind=HELPER,
                           fresh=True)


def _max_share(x: Array, y: Array) -> Array:
    """``x``'s share of the derivative of ``maximum(x, y)``: 1 where x > y, ½ where x = y, 0 where
    x < y, written ``((x ≥ y) + (x > y)) / 2`` (a tie splits evenly, as JAX splits it)."""
    return 0.5 * np.add(np.greater_equal(x, y), np.greater(x, y), dtype=np.result_type(x, y))


max_share_p = binary("max_share", _max_share, HELPER)
