"""The shape primitives: broadcasting, reductions, reshapes, transposes, slices and padding,
concatenation, and the index-valued ``argmax``, ``argmin``, ``argsort``.

Axes are non-negative and sorted where a set of them is meant (``backend.numpy`` normalises what the
user writes). Each linear primitive has its linear form (``reshapeL`` …) for the JVP rules::

    Γ ⊢ x : f32[B,T,D]
    ─────────────────────────────────────── reduce_sum[axes=(1,)]
    Γ ⊢ reduce_sum(x) : f32[B,D]
"""

from __future__ import annotations

import functools
import math
import operator
from collections.abc import Callable

import numpy as np

from backend.lprims import CONSTANT, HELPER, LINEAR, NONLINEAR, Array, define
from backend.ltypes import ArrayType
from calculi.core.errors import ShapeError
from calculi.linear_ad.primitives import ParamDict

Shape = tuple[int, ...]


# -- broadcast -----------------------------------------------------------------------------------

def _broadcast(x: Array, *, shape: Shape) -> Array:
    return np.broadcast_to(x, shape)


def _broadcast_shape(t: ArrayType, *, shape: Shape) -> ArrayType:
    try:
        ok = np.broadcast_shapes(t.shape, shape) == tuple(shape)
    except ValueError:
        ok = False
    if not ok:
        raise ShapeError(f"cannot broadcast {t} to shape {list(shape)}")
    return ArrayType(tuple(shape), t.dtype)


def _broadcast_at(ps: ParamDict, ts: tuple[ArrayType, ...]) -> Callable[..., Array]:
    """``broadcast[shape=S](x) = reshape[shape=S](x)`` when |x| = ∏ S: the broadcast only inserts
    axes of length 1 (a bias ``[D]`` on one token ``[1,1,D]``), and NumPy reshapes in a fraction of
    ``broadcast_to``'s time."""
    shape = ps["shape"]
    if ts[0].size == math.prod(shape):
        return operator.methodcaller("reshape", shape)
    return functools.partial(_broadcast, shape=shape)


broadcast_p = define("broadcast", _broadcast, _broadcast_shape, kind=LINEAR, fresh=False,
                     specialise=_broadcast_at)
broadcastL_p = define("broadcastL", _broadcast, _broadcast_shape, arity=0, larity=1, fresh=False,
                      specialise=_broadcast_at)


# -- reductions ----------------------------------------------------------------------------------

def _reduced(t: ArrayType, axes: Shape) -> Shape:
    for a in axes:
        if not 0 <= a < t.ndim:
            raise ShapeError(f"axis {a} out of range for {t}")
    if len(set(axes)) != len(axes):
        raise ShapeError(f"repeated axis in {list(axes)}")
    return tuple(n for i, n in enumerate(t.shape) if i not in axes)


def _reduction_shape(t: ArrayType, *, axes: Shape) -> ArrayType:
    return ArrayType(_reduced(t, axes), t.dtype)


def _reduce(fn: Callable[..., Array], keep_dtype: bool = False) -> Callable[..., Array]:
    """``fn`` along ``axes``; a sum or product stays in the operand's dtype (``backend.numpy``
    widens small integers first, as NumPy does)."""
    if keep_dtype:
        def reduce(x: Array, *, axes: Shape) -> Array:
            return np.asarray(fn(x, axis=axes, dtype=x.dtype))
    else:
        def reduce(x: Array, *, axes: Shape) -> Array:
            return np.asarray(fn(x, axis=axes))

    return reduce


reduce_sum_p = define("reduce_sum", _reduce(np.sum, True), _reduction_shape, kind=LINEAR, fresh=True)
reduce_sumL_p = define("reduce_sumL", _reduce(np.sum, True), _reduction_shape, arity=0, larity=1, fresh=True)
reduce_max_p = define("reduce_max", _reduce(np.max), _reduction_shape, kind=NONLINEAR, fresh=True)
reduce_min_p = define("reduce_min", _reduce(np.min), _reduction_shape, kind=NONLINEAR, fresh=True)
reduce_prod_p = define("reduce_prod", _reduce(np.prod, True), _reduction_shape, kind=NONLINEAR, fresh=True)


def _boolean_reduction(t: ArrayType, *, axes: Shape) -> ArrayType:
    return ArrayType(_reduced(t, axes), np.dtype(bool))


reduce_or_p = define("reduce_or", _reduce(np.any), _boolean_reduction, kind=CONSTANT, fresh=True)
reduce_and_p = define("reduce_and", _reduce(np.all), _boolean_reduction, kind=CONSTANT, fresh=True)


def _argmax_weights(x: Array, *, axes: Shape) -> Array:
    """``1/k`` at the k maxima along ``axes``, 0 elsewhere (the derivative of max)."""
    hit = (x == np.max(x, axis=axes, keepdims=True)).astype(x.dtype)
    return hit / hit.sum(axis=axes, keepdims=True)  # type: ignore[no-any-return]


argmax_weights_p = define("argmax_weights", _argmax_weights, lambda t, *, axes: t, kind=HELPER, fresh=True)


def _prod_others(x: Array, *, axes: Shape) -> Array:
    """At each element, the product of the others of its reduction group (the derivative of prod):
    exclusive products from the left and from the right, so that zeros need no division."""
    rest = [i for i in range(x.ndim) if i not in axes]
    moved = np.transpose(x, (*rest, *axes))
    flat = moved.reshape((*moved.shape[: len(rest)], math.prod(moved.shape[len(rest):])))
    ones = np.ones((*flat.shape[:-1], 1), x.dtype)
    left = np.cumprod(np.concatenate([ones, flat[..., :-1]], axis=-1), axis=-1)
    right = np.flip(np.cumprod(np.concatenate([ones, np.flip(flat[..., 1:], -1)], axis=-1), axis=-1), -1)
    back = np.argsort((*rest, *axes))
    return np.transpose((left * right).reshape(moved.shape), back)


prod_others_p = define("prod_others", _prod_others, lambda t, *, axes: t, kind=HELPER, fresh=True)


# -- indices of extrema, and of the sorted order ---------------------------------------------------

def _index_of(fn: Callable[..., Array]) -> Callable[..., Array]:
    def index(x: Array, *, axis: int) -> Array:
        return np.asarray(fn(x, axis=axis))

    return index


def _along_shape(t: ArrayType, *, axis: int) -> ArrayType:
    if not 0 <= axis < t.ndim:
        raise ShapeError(f"axis {axis} out of range for {t}")
    return ArrayType(t.shape[:axis] + t.shape[axis + 1:], np.dtype(np.intp))


def _argsort(x: Array, *, axis: int) -> Array:
    return np.argsort(x, axis=axis, kind="stable")


def _argsort_shape(t: ArrayType, *, axis: int) -> ArrayType:
    _along_shape(t, axis=axis)
    return ArrayType(t.shape, np.dtype(np.intp))


argmax_p = define("argmax", _index_of(np.argmax), _along_shape, kind=CONSTANT, fresh=True)
argmin_p = define("argmin", _index_of(np.argmin), _along_shape, kind=CONSTANT, fresh=True)
argsort_p = define("argsort", _argsort, _argsort_shape, kind=CONSTANT, fresh=True)
"""The stable sorting permutation along ``axis`` (ties keep their order)."""


# -- reshape and transpose -----------------------------------------------------------------------

def _reshape(x: Array, *, shape: Shape) -> Array:
    return x.reshape(shape)


def _reshape_shape(t: ArrayType, *, shape: Shape) -> ArrayType:
    if math.prod(shape) != t.size:
        raise ShapeError(f"cannot reshape {t} ({t.size} elements) to {list(shape)}")
    return ArrayType(tuple(shape), t.dtype)


reshape_p = define("reshape", _reshape, _reshape_shape, kind=LINEAR, fresh=False)
reshapeL_p = define("reshapeL", _reshape, _reshape_shape, arity=0, larity=1, fresh=False)


def _transpose(x: Array, *, perm: Shape) -> Array:
    return np.transpose(x, perm)


def _transpose_shape(t: ArrayType, *, perm: Shape) -> ArrayType:
    if sorted(perm) != list(range(t.ndim)):
        raise ShapeError(f"{list(perm)} is not a permutation of the axes of {t}")
    return ArrayType(tuple(t.shape[p] for p in perm), t.dtype)


transpose_p = define("transpose", _transpose, _transpose_shape, kind=LINEAR, fresh=False)
transposeL_p = define("transposeL", _transpose, _transpose_shape, arity=0, larity=1, fresh=False)


# -- slice and its transpose, pad ----------------------------------------------------------------

def _slices(starts: Shape, limits: Shape, strides: Shape) -> tuple[slice, ...]:
    return tuple(slice(a, b, s) for a, b, s in zip(starts, limits, strides, strict=True))


def _slice(x: Array, *, starts: Shape, limits: Shape, strides: Shape) -> Array:
    return x[_slices(starts, limits, strides)]


def _slice_shape(t: ArrayType, *, starts: Shape, limits: Shape, strides: Shape) -> ArrayType:
    if not len(starts) == len(limits) == len(strides) == t.ndim:
        raise ShapeError(f"slice of {t} needs {t.ndim} starts, limits and strides")
    dims = []
    for n, a, b, s in zip(t.shape, starts, limits, strides, strict=True):
        if not (0 <= a <= b <= n and s >= 1):
            raise ShapeError(f"slice {a}:{b}:{s} out of range for an axis of length {n} in {t}")
        dims.append(len(range(a, b, s)))
    return ArrayType(tuple(dims), t.dtype)


def _slice_at(ps: ParamDict, ts: tuple[ArrayType, ...]) -> Callable[..., Array]:
    return operator.itemgetter(_slices(ps["starts"], ps["limits"], ps["strides"]))


slice_p = define("slice", _slice, _slice_shape, kind=LINEAR, fresh=False, specialise=_slice_at)
sliceL_p = define("sliceL", _slice, _slice_shape, arity=0, larity=1, fresh=False, specialise=_slice_at)


def _pad(x: Array, *, starts: Shape, limits: Shape, strides: Shape, shape: Shape) -> Array:
    out = np.zeros(shape, x.dtype)
    out[_slices(starts, limits, strides)] = x
    return out


def _pad_shape(t: ArrayType, *, starts: Shape, limits: Shape, strides: Shape, shape: Shape) -> ArrayType:
    inner = _slice_shape(ArrayType(tuple(shape), t.dtype), starts=starts, limits=limits, strides=strides)
    if inner.shape != t.shape:
        raise ShapeError(f"pad of {t} into {list(shape)}: the window has shape {list(inner.shape)}")
    return ArrayType(tuple(shape), t.dtype)


pad_p = define("pad", _pad, _pad_shape, kind=LINEAR, fresh=True)
"""The transpose of ``slice``: the slice's window is filled, the rest is zero."""
padL_p = define("padL", _pad, _pad_shape, arity=0, larity=1, fresh=True)


# -- concatenate ---------------------------------------------------------------------------------

def _concatenate(*xs: Array, axis: int) -> Array:
    return np.concatenate(xs, axis=axis)


def _concatenate_shape(*ts: ArrayType, axis: int) -> ArrayType:
    first = ts[0]
    if not 0 <= axis < first.ndim:
        raise ShapeError(f"concatenate axis {axis} out of range for {first}")
    for t in ts[1:]:
        same_rank = t.ndim == first.ndim
        if not same_rank or any(a != b for i, (a, b) in enumerate(zip(t.shape, first.shape, strict=True))
                                if i != axis):
            raise ShapeError(f"cannot concatenate {first} and {t} along axis {axis}")
    shape = list(first.shape)
    shape[axis] = sum(t.shape[axis] for t in ts)
    return ArrayType(tuple(shape), np.result_type(*(t.dtype for t in ts)))


concatenate_p = define("concatenate", _concatenate, _concatenate_shape, kind=LINEAR, arity=None, fresh=True)
