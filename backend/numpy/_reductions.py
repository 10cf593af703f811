"""Reductions, cumulative sums and sorting, with NumPy's ``axis`` (None: every axis; an int; a tuple;
negative from the end), ``keepdims`` and ``dtype`` (booleans and small integers sum as int64, a
mean or variance of integers is float64).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

import backend.contractions as C
import backend.structural as S
from backend.dispatch import bind
from backend.ltypes import ArrayType
from backend.numpy._core import Axis, DType, astype, axes_of, axis_index, no_out, typeof
from backend.numpy._indexing import take_along_axis
from backend.numpy._shapes import reshape
from backend.numpy._ufuncs import add, divide, maximum, minimum, multiply, not_equal, sqrt, square, subtract
from calculi.core.errors import ShapeError
from calculi.linear_ad.syntax import Primitive

__all__ = ["all", "amax", "amin", "any", "argmax", "argmin", "argsort", "average", "count_nonzero", "cumsum",
           "max", "mean", "min", "prod", "sort", "std", "sum", "var"]

_NO_VALUE: Any = object()


def _keep(y: Any, t: ArrayType, axes: tuple[int, ...]) -> Any:
    return reshape(y, tuple(1 if i in axes else n for i, n in enumerate(t.shape)))


def _accumulator(t: ArrayType, dtype: DType) -> np.dtype[Any]:
    """The dtype NumPy sums in: ``dtype`` if given, else booleans and small integers widen."""
    if dtype is not None:
        return np.dtype(dtype)
    if t.dtype.kind == "b" or (t.dtype.kind in "iu" and t.dtype.itemsize < 8):
        return np.dtype(np.uint64 if t.dtype.kind == "u" else np.int64)
    return t.dtype


def _reduce(p: Primitive, a: object, axis: Axis, keepdims: bool, dtype: np.dtype[Any] | None = None) -> Any:
    t = typeof(a)
    if dtype is not None:
        a = astype(a, dtype)
    axes = axes_of(axis, t.ndim)
    y = bind(p, a, axes=axes)
    return _keep(y, t, axes) if keepdims else y


def sum(a: object, axis: Axis = None, dtype: DType = None, out: None = None, keepdims: bool = False,
        initial: object = _NO_VALUE) -> Any:
    no_out(out)
    y = _reduce(S.reduce_sum_p, a, axis, keepdims, _accumulator(typeof(a), dtype))
    return y if initial is _NO_VALUE else add(y, initial)


def prod(a: object, axis: Axis = None, dtype: DType = None, out: None = None, keepdims: bool = False) -> Any:
    no_out(out)
    return _reduce(S.reduce_prod_p, a, axis, keepdims, _accumulator(typeof(a), dtype))


def _float(t: ArrayType, dtype: DType) -> np.dtype[Any]:
    if dtype is not None:
        return np.dtype(dtype)
    return t.dtype if t.dtype.kind in "fc" else np.dtype(np.float64)


def _count(t: ArrayType, axis: Axis) -> int:
    return math.prod(t.shape[i] for i in axes_of(axis, t.ndim))


def mean(a: object, axis: Axis = None, dtype: DType = None, out: None = None, keepdims: bool = False) -> Any:
    no_out(out)
    t = typeof(a)
    total = _reduce(S.reduce_sum_p, a, axis, keepdims, _float(t, dtype))
    return multiply(total, 1.0 / _count(t, axis))


def var(a: object, axis: Axis = None, dtype: DType = None, out: None = None, ddof: float = 0,
        keepdims: bool = False, *, correction: float | None = None) -> Any:
    """``mean(|a − mean(a)|²)`` with ``N − ddof`` in the denominator."""
    no_out(out)
    t = typeof(a)
    a = astype(a, _float(t, dtype))
    centred = subtract(a, mean(a, axis, keepdims=True))
    n = _count(t, axis) - (correction if correction is not None else ddof)
    return multiply(_reduce(S.reduce_sum_p, square(centred), axis, keepdims), 1.0 / n)


def std(a: object, axis: Axis = None, dtype: DType = None, out: None = None, ddof: float = 0,
        keepdims: bool = False, *, correction: float | None = None) -> Any:
    return sqrt(var(a, axis, dtype, out, ddof, keepdims, correction=correction))


def average(a: object, axis: Axis = None, weights: object = None, returned: bool = False, *,
            keepdims: bool = False) -> Any:
    if weights is None:
        avg, total = mean(a, axis, keepdims=keepdims), float(_count(typeof(a), axis))
    else:
        w = weights
        total = sum(w, axis, keepdims=keepdims)
        avg = divide(sum(multiply(a, w), axis, keepdims=keepdims), total)
    return (avg, total) if returned else avg


def _extremum(p: Primitive, combine: Any, a: object, axis: Axis, out: None, keepdims: bool,
              initial: object) -> Any:
    no_out(out)
    t = typeof(a)
    if t.size == 0 and initial is _NO_VALUE:
        raise ShapeError(f"zero-size array to reduction operation {p.name}, which has no identity")
    y = _reduce(p, a, axis, keepdims)
    return y if initial is _NO_VALUE else combine(y, initial)


def max(a: object, axis: Axis = None, out: None = None, keepdims: bool = False,
        initial: object = _NO_VALUE) -> Any:
    return _extremum(S.reduce_max_p, maximum, a, axis, out, keepdims, initial)


def min(a: object, axis: Axis = None, out: None = None, keepdims: bool = False,
        initial: object = _NO_VALUE) -> Any:
    return _extremum(S.reduce_min_p, minimum, a, axis, out, keepdims, initial)


amax, amin = max, min


def any(a: object, axis: Axis = None, out: None = None, keepdims: bool = False) -> Any:
    no_out(out)
    return _reduce(S.reduce_or_p, astype(a, bool), axis, keepdims)


def all(a: object, axis: Axis = None, out: None = None, keepdims: bool = False) -> Any:
    no_out(out)
    return _reduce(S.reduce_and_p, astype(a, bool), axis, keepdims)


def count_nonzero(a: object, axis: Axis = None, *, keepdims: bool = False) -> Any:
    return sum(not_equal(a, 0), axis, keepdims=keepdims)


def _index(p: Primitive, a: object, axis: int | None, out: None, keepdims: bool) -> Any:
    no_out(out)
    t = typeof(a)
    if t.size == 0:
        raise ShapeError(f"attempt to get {p.name} of an empty sequence")
    if axis is None:
        y = bind(p, reshape(a, (-1,)), axis=0)
        return reshape(y, (1,) * t.ndim) if keepdims else y
    ax = axis_index(axis, t.ndim)
    y = bind(p, a, axis=ax)
    return _keep(y, t, (ax,)) if keepdims else y


def argmax(a: object, axis: int | None = None, out: None = None, *, keepdims: bool = False) -> Any:
    return _index(S.argmax_p, a, axis, out, keepdims)


def argmin(a: object, axis: int | None = None, out: None = None, *, keepdims: bool = False) -> Any:
    return _index(S.argmin_p, a, axis, out, keepdims)


def argsort(a: object, axis: int | None = -1, kind: str | None = None, order: None = None, *,
            stable: bool | None = None) -> Any:
    """The sorting permutation (stable: ties keep their order)."""
    if axis is None:
        a, axis = reshape(a, (-1,)), 0
    return bind(S.argsort_p, a, axis=axis_index(axis, typeof(a).ndim))


def sort(a: object, axis: int | None = -1, kind: str | None = None, order: None = None, *,
         stable: bool | None = None) -> Any:
    """``take_along_axis(a, argsort(a))``: the derivative moves each tangent with its element."""
    if axis is None:
        a, axis = reshape(a, (-1,)), 0
    return take_along_axis(a, argsort(a, axis), axis)


def cumsum(a: object, axis: int | None = None, dtype: DType = None, out: None = None, *,
           reverse: bool = False) -> Any:
    """NumPy's ``cumsum`` (``axis=None``: of the flattened array); ``reverse`` sums from the end."""
    no_out(out)
    if axis is None:
        a, axis = reshape(a, (-1,)), 0
    t = typeof(a)
    a = astype(a, _accumulator(t, dtype))
    return bind(C.cumsum_p, a, axis=axis_index(axis, t.ndim), reverse=reverse)

