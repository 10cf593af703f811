"""``backend.numpy.linalg``: norms of vectors and matrices, as NumPy's ``numpy.linalg`` computes them.

The norms that need a decomposition (the spectral norm ``ord=2`` of a matrix, the nuclear norm)
have no primitive here and say so.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from backend.numpy._core import astype, axes_of, typeof
from backend.numpy._reductions import max, min, sum
from backend.numpy._shapes import reshape
from backend.numpy._ufuncs import abs, not_equal, power, sqrt, square
from calculi.core.errors import ShapeError

__all__ = ["matrix_norm", "norm", "vector_norm"]


def norm(x: object, ord: float | str | None = None, axis: int | Sequence[int] | None = None,
         keepdims: bool = False) -> Any:
    """NumPy's ``linalg.norm``: the 2-norm of the flattened array by default; a vector norm along one
    axis, a matrix norm over two."""
    t = typeof(x)
    if t.dtype.kind not in "fc":
        x = astype(x, np.float64)
    if axis is None:
        if ord is None:
            y = sqrt(sum(square(reshape(x, (-1,)))))
            return reshape(y, (1,) * t.ndim) if keepdims else y
        axis = tuple(range(t.ndim))
        if t.ndim not in (1, 2):
            raise ShapeError("improper number of dimensions to norm")
    axes = axes_of(axis, t.ndim)
    if len(axes) == 1:
        if isinstance(ord, str):
            raise ShapeError(f"invalid norm order {ord!r} for vectors")
        return vector_norm(x, ord=2 if ord is None else ord, axis=axes[0], keepdims=keepdims)
    if len(axes) == 2:
        if not isinstance(axis, Sequence):
            raise ShapeError("norm: axis must be an int or a pair of ints")
        rows, cols = axis
        return matrix_norm(x, ord="fro" if ord is None else ord, axis=(rows, cols), keepdims=keepdims)
    raise ShapeError("improper number of dimensions to norm")


def vector_norm(x: object, *, ord: float = 2, axis: int | Sequence[int] | None = None,
                keepdims: bool = False) -> Any:
    if ord == 2:
        return sqrt(sum(square(x), axis, keepdims=keepdims))
    if ord == math.inf:
        return max(abs(x), axis, keepdims=keepdims)
    if ord == -math.inf:
        return min(abs(x), axis, keepdims=keepdims)
    if ord == 0:
        return sum(astype(not_equal(x, 0), typeof(x).dtype), axis, keepdims=keepdims)
    if ord == 1:
        return sum(abs(x), axis, keepdims=keepdims)
    if isinstance(ord, str):
        raise ShapeError(f"invalid norm order {ord!r} for vectors")
    return power(sum(power(abs(x), float(ord)), axis, keepdims=keepdims), 1.0 / float(ord))


def matrix_norm(x: object, *, ord: float | str = "fro", axis: tuple[int, int] = (-2, -1),
                keepdims: bool = False) -> Any:
    t = typeof(x)
    rows, cols = axes_of(axis[0], t.ndim)[0], axes_of(axis[1], t.ndim)[0]
    if rows == cols:
        raise ShapeError("duplicate axes given to norm")
    if ord == "fro":
        return sqrt(sum(square(x), (rows, cols), keepdims=keepdims))
    if ord in (1, -1, math.inf, -math.inf):
        summed, other = (rows, cols) if ord in (1, -1) else (cols, rows)
        pick = max if ord in (1, math.inf) else min
        y = pick(sum(abs(x), summed, keepdims=True), other, keepdims=True)
        return y if keepdims else reshape(y, tuple(n for i, n in enumerate(t.shape) if i not in (rows, cols)))
    if ord in (2, -2, "nuc"):
        raise ShapeError(f"norm ord={ord!r} of a matrix needs singular values, which backend.numpy does not "
                         "compute; use ord='fro', 1 or inf")
    raise ShapeError(f"invalid norm order {ord!r} for matrices")

