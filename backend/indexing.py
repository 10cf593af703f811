"""Gathers and scatters with integer indices: ``take`` on any axis and its transpose ``scatter_add``,
``take_along`` (NumPy's ``take_along_axis``) and its transpose, and ``one_hot``.

The indices are an operand without a tangent (integer arrays); the primitives are linear in the
array they gather from, and a gather's transpose adds every cotangent back where it was read, so
duplicate indices accumulate::

    Γ ⊢ x : f32[V,D]    Γ ⊢ i : i64[B,T]
    ───────────────────────────────────── take[axis=0]
    Γ ⊢ take(x, i) : f32[B,T,D]
"""

from __future__ import annotations

from typing import Any

import numpy as np

from backend.lprims import CONSTANT, LINEAR, Array, define
from backend.ltypes import ArrayType
from calculi.core.errors import ShapeError


def _index_type(idx: ArrayType, what: str) -> None:
    if idx.dtype.kind not in "iu":
        raise ShapeError(f"{what} needs integer indices, got {idx}")


def _axis(t: ArrayType, axis: int, what: str) -> None:
    if not 0 <= axis < t.ndim:
        raise ShapeError(f"{what} axis {axis} out of range for {t}")


# -- take and scatter_add ------------------------------------------------------------------------

def _take(x: Array, idx: Array, *, axis: int) -> Array:
    return np.take(x, idx, axis=axis)


def _take_shape(x: ArrayType, idx: ArrayType, *, axis: int) -> ArrayType:
    _index_type(idx, "take")
    _axis(x, axis, "take")
    return ArrayType(x.shape[:axis] + idx.shape + x.shape[axis + 1:], x.dtype)


def _scatter_add(g: Array, idx: Array, *, axis: int, size: int) -> Array:
    """``out[…, idx[j], …] += g[…, j, …]`` into zeros whose ``axis`` has length ``size``."""
    lead = g.shape[:axis]
    tail = g.shape[axis + idx.ndim:]
    if axis == 0:  # rows: one flat np.add.at on a matrix
        width = int(np.prod(tail))
        out = np.zeros((size, width), g.dtype)
        np.add.at(out, idx.reshape(-1), g.reshape(idx.size, width))
        return out.reshape((size, *tail))
    out = np.zeros((*lead, size, *tail), g.dtype)
    index: Any = (*(slice(None),) * axis, idx)
    np.add.at(out, index, g)
    return out


def _scatter_add_shape(g: ArrayType, idx: ArrayType, *, axis: int, size: int) -> ArrayType:
    _index_type(idx, "scatter_add")
    if g.shape[axis: axis + idx.ndim] != idx.shape:
        raise ShapeError(f"scatter_add of {g} at indices {idx} on axis {axis}: the axes differ")
    return ArrayType((*g.shape[:axis], size, *g.shape[axis + idx.ndim:]), g.dtype)


take_p = define("take", _take, _take_shape, kind=LINEAR, arity=2, fresh=True)
"""``take[axis](x, i)``: NumPy's ``take``, linear in ``x``."""
scatter_add_p = define("scatter_add", _scatter_add, _scatter_add_shape, kind=LINEAR, arity=2, fresh=True)
"""``scatter_add[axis, size](g, i)``: the transpose of ``take`` in its array."""
takeL_p = define("takeL", lambda idx, x, *, axis: _take(x, idx, axis=axis),
                 lambda idx, x, *, axis: _take_shape(x, idx, axis=axis), arity=1, larity=1, fresh=True)
scatter_addL_p = define("scatter_addL",
                        lambda idx, g, *, axis, size: _scatter_add(g, idx, axis=axis, size=size),
                        lambda idx, g, *, axis, size: _scatter_add_shape(g, idx, axis=axis, size=size),
                        arity=1, larity=1, fresh=True)


# -- take_along and its transpose ----------------------------------------------------------------

def _take_along(x: Array, idx: Array, *, axis: int) -> Array:
    return np.take_along_axis(x, idx, axis=axis)


def _take_along_shape(x: ArrayType, idx: ArrayType, *, axis: int) -> ArrayType:
    _index_type(idx, "take_along")
    _axis(x, axis, "take_along")
    others = [i for i in range(x.ndim) if i != axis]
    if idx.ndim != x.ndim or any(x.shape[i] != idx.shape[i] for i in others):
        raise ShapeError(f"take_along of {x} at indices {idx}: the axes other than {axis} differ")
    return ArrayType(idx.shape, x.dtype)


def _grid(idx: Array, axis: int) -> tuple[Array, ...]:
    """The full index of ``take_along``: ``idx`` on ``axis``, the position itself on the others."""
    return tuple(idx if i == axis else np.arange(n).reshape([-1 if j == i else 1 for j in range(idx.ndim)])
                 for i, n in enumerate(idx.shape))


def _scatter_along(idx: Array, g: Array, *, axis: int, size: int) -> Array:
    out = np.zeros((*g.shape[:axis], size, *g.shape[axis + 1:]), g.dtype)
    np.add.at(out, _grid(idx, axis), g)
    return out


def _scatter_along_shape(idx: ArrayType, g: ArrayType, *, axis: int, size: int) -> ArrayType:
    _index_type(idx, "scatter_along")
    if idx.shape != g.shape:
        raise ShapeError(f"scatter_along of {g} at indices {idx}: shapes differ")
    return ArrayType((*g.shape[:axis], size, *g.shape[axis + 1:]), g.dtype)


take_along_p = define("take_along", _take_along, _take_along_shape, kind=LINEAR, arity=2, fresh=True)
"""``take_along[axis](x, i)``: NumPy's ``take_along_axis`` (``i`` and ``x`` agree off ``axis``)."""
take_alongL_p = define("take_alongL", lambda idx, x, *, axis: _take_along(x, idx, axis=axis),
                       lambda idx, x, *, axis: _take_along_shape(x, idx, axis=axis), arity=1, larity=1,
                       fresh=True)
scatter_alongL_p = define("scatter_alongL", _scatter_along, _scatter_along_shape, arity=1, larity=1,
                          fresh=True)


# -- one_hot -------------------------------------------------------------------------------------

def _one_hot(idx: Array, *, n: int, dtype: str) -> Array:
    return (idx[..., None] == np.arange(n)).astype(dtype)  # type: ignore[no-any-return]


def _one_hot_shape(idx: ArrayType, *, n: int, dtype: str) -> ArrayType:
    _index_type(idx, "one_hot")
    return ArrayType((*idx.shape, n), np.dtype(dtype))


one_hot_p = define("one_hot", _one_hot, _one_hot_shape, kind=CONSTANT, fresh=True)
