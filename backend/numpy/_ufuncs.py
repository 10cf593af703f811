"""Elementwise functions: arithmetic, transcendental functions, comparisons and logic, ``where``.

Each is NumPy's function of the same name, reduced to an elementwise primitive (or a few): operands
broadcast explicitly and converted to the dtype NumPy computes in (``int / int`` in float64).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

import backend.primitives as P
from backend.dispatch import bind, is_traced
from backend.numpy._core import astype, broadcast_shapes, fit, is_number, lift, operands, typeof
from calculi.core.errors import ShapeError
from calculi.linear_ad.syntax import Primitive

__all__ = [
    "abs", "absolute", "add", "ceil", "checkpoint_name", "clip", "cos", "cosh", "divide", "equal", "exp",
    "exp2", "expm1", "fabs", "floor", "greater", "greater_equal", "hypot", "less", "less_equal", "log",
    "log1p", "log2", "log10", "logaddexp", "logical_and", "logical_not", "logical_or", "logical_xor",
    "maximum", "minimum", "multiply", "negative", "not_equal", "positive", "pow", "power", "reciprocal",
    "rint", "round", "rsqrt", "sign", "sin", "sinh", "sqrt", "square", "stop_gradient", "subtract", "tan",
    "tanh", "true_divide", "where",
]


def _apply(p: Primitive, ufunc: np.ufunc, *xs: object) -> Any:
    return bind(p, *operands(ufunc, *xs))


# -- arithmetic ----------------------------------------------------------------------------------

def add(x1: object, x2: object) -> Any:
    return _apply(P.add_p, np.add, x1, x2)


def subtract(x1: object, x2: object) -> Any:
    return _apply(P.sub_p, np.subtract, x1, x2)


def multiply(x1: object, x2: object) -> Any:
    return _apply(P.mul_p, np.multiply, x1, x2)


def divide(x1: object, x2: object) -> Any:
    return _apply(P.div_p, np.divide, x1, x2)


true_divide = divide


def maximum(x1: object, x2: object) -> Any:
    return _apply(P.maximum_p, np.maximum, x1, x2)


def minimum(x1: object, x2: object) -> Any:
    return _apply(P.minimum_p, np.minimum, x1, x2)


def power(x1: object, x2: object) -> Any:
    """``x1 ** x2``; a Python integer exponent is ``integer_pow`` (defined at negative ``x1``)."""
    if isinstance(x2, int | np.integer) and not isinstance(x2, bool | np.bool_):
        (x,) = operands(np.positive, x1)
        return bind(P.integer_pow_p, x, y=int(x2))
    return _apply(P.pow_p, np.power, x1, x2)


pow = power


def square(x: object) -> Any:
    return power(x, 2)


def reciprocal(x: object) -> Any:
    return divide(1.0 if typeof(x).dtype.kind in "fc" else 1, x)


def negative(x: object) -> Any:
    return _apply(P.neg_p, np.negative, x)


def positive(x: object) -> Any:
    return x


# -- transcendental ------------------------------------------------------------------------------

def _float(p: Primitive, x: object) -> Any:
    """A unary primitive on floats: integers and booleans are converted as NumPy converts them."""
    return _apply(p, np.exp, x)


def exp(x: object) -> Any:
    return _float(P.exp_p, x)


def expm1(x: object) -> Any:
    return _float(P.expm1_p, x)


def exp2(x: object) -> Any:
    return exp(multiply(_as_float(x), math.log(2.0)))


def log(x: object) -> Any:
    return _float(P.log_p, x)


def log1p(x: object) -> Any:
    return _float(P.log1p_p, x)


def log2(x: object) -> Any:
    return multiply(log(x), 1.0 / math.log(2.0))


def log10(x: object) -> Any:
    return multiply(log(x), 1.0 / math.log(10.0))


def sin(x: object) -> Any:
    return _float(P.sin_p, x)


def cos(x: object) -> Any:
    return _float(P.cos_p, x)


def tan(x: object) -> Any:
    return divide(sin(x), cos(x))


def tanh(x: object) -> Any:
    return _float(P.tanh_p, x)


def sinh(x: object) -> Any:
    return multiply(subtract(exp(x), exp(negative(_as_float(x)))), 0.5)


def cosh(x: object) -> Any:
    return multiply(add(exp(x), exp(negative(_as_float(x)))), 0.5)


def sqrt(x: object) -> Any:
    return _float(P.sqrt_p, x)


def rsqrt(x: object) -> Any:
    """``1/√x``."""
    return _float(P.rsqrt_p, x)


def logaddexp(x1: object, x2: object) -> Any:
    """``log(eˣ¹ + eˣ²)``, shifted by the (constant) larger of the two for stability."""
    m = stop_gradient(maximum(x1, x2))
    m = where(equal(m, -math.inf), 0.0, m) if is_traced(m) else np.where(np.isneginf(m), 0.0, m)
    return add(log(add(exp(subtract(x1, m)), exp(subtract(x2, m)))), m)


def hypot(x1: object, x2: object) -> Any:
    return sqrt(add(square(_as_float(x1)), square(_as_float(x2))))


def _as_float(x: object) -> object:
    return x if is_number(x) or typeof(x).dtype.kind in "fc" else astype(x, np.float64)


# -- piecewise -----------------------------------------------------------------------------------

def abs(x: object) -> Any:
    return _apply(P.abs_p, np.absolute, x)


absolute = fabs = abs


def sign(x: object) -> Any:
    return _apply(P.sign_p, np.sign, x)


def floor(x: object) -> Any:
    return _apply(P.floor_p, np.floor, x)


def ceil(x: object) -> Any:
    return _apply(P.ceil_p, np.ceil, x)


def rint(x: object) -> Any:
    return _apply(P.rint_p, np.rint, x)


def round(a: object, decimals: int = 0, out: None = None) -> Any:
    """Round half to even at ``decimals`` digits (NumPy's ``round``); its derivative is zero."""
    if out is not None:
        raise ShapeError("out= is not supported: backend.numpy functions return new arrays")
    if decimals == 0 or typeof(a).dtype.kind not in "fc":
        return rint(a) if decimals == 0 else a
    factor = 10.0**decimals
    return divide(rint(multiply(a, factor)), factor)


def clip(a: object, a_min: object = None, a_max: object = None, out: None = None, *,
         min: object = None, max: object = None) -> Any:
    """``minimum(maximum(a, a_min), a_max)``; either bound may be None (NumPy 2 also spells them
    ``min=`` and ``max=``)."""
    if out is not None:
        raise ShapeError("out= is not supported: backend.numpy functions return new arrays")
    lo = a_min if a_min is not None else min
    hi = a_max if a_max is not None else max
    if lo is None and hi is None:
        raise ShapeError("clip needs a lower or an upper bound")
    if lo is not None:
        a = maximum(a, lo)
    return minimum(a, hi) if hi is not None else a


# -- comparisons and logic -----------------------------------------------------------------------

def greater(x1: object, x2: object) -> Any:
    return _apply(P.greater_p, np.greater, x1, x2)


def greater_equal(x1: object, x2: object) -> Any:
    return _apply(P.greater_equal_p, np.greater_equal, x1, x2)


def less(x1: object, x2: object) -> Any:
    return _apply(P.less_p, np.less, x1, x2)


def less_equal(x1: object, x2: object) -> Any:
    return _apply(P.less_equal_p, np.less_equal, x1, x2)


def equal(x1: object, x2: object) -> Any:
    return _apply(P.equal_p, np.equal, x1, x2)


def not_equal(x1: object, x2: object) -> Any:
    return _apply(P.not_equal_p, np.not_equal, x1, x2)


def logical_and(x1: object, x2: object) -> Any:
    return _apply(P.logical_and_p, np.logical_and, x1, x2)


def logical_or(x1: object, x2: object) -> Any:
    return _apply(P.logical_or_p, np.logical_or, x1, x2)


def logical_xor(x1: object, x2: object) -> Any:
    return _apply(P.logical_xor_p, np.logical_xor, x1, x2)


def logical_not(x: object) -> Any:
    return _apply(P.logical_not_p, np.logical_not, x)


def where(condition: object, x: object = None, y: object = None) -> Any:
    """``x`` where ``condition`` holds, else ``y`` (all three broadcast). The one-argument form is
    ``nonzero``, whose shape depends on the data: it runs on arrays, not traced values."""
    if x is None and y is None:
        if is_traced(condition):
            raise ShapeError("where(condition) with one argument is nonzero(condition), whose shape depends "
                             "on the values; use where(condition, x, y) while tracing")
        return np.where(np.asarray(condition))
    if x is None or y is None:
        raise ShapeError("where takes one argument or three")
    if not any(is_traced(v) for v in (condition, x, y)):
        return np.where(np.asarray(condition), np.asarray(lift(x, y)), np.asarray(lift(y, x)))
    x, y = lift(x, y), lift(y, x)
    out = broadcast_shapes(condition, x, y)
    dtype = np.result_type(typeof(x).dtype, typeof(y).dtype)
    return bind(P.select_p, fit(condition, out, np.dtype(bool)), fit(x, out, dtype), fit(y, out, dtype))


# -- no derivative, and labels -------------------------------------------------------------------

def stop_gradient(x: object) -> Any:
    return bind(P.stop_gradient_p, x)


def checkpoint_name(x: object, name: str) -> Any:
    """``x``, labelled ``name`` for checkpoint policies (``backend.policies.save_only_these_names``)."""
    return bind(P.checkpoint_name_p, x, label=name)
