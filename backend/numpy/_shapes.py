"""Shape functions: reshape and its relatives, transposes, broadcasting, joining and splitting.

Each is NumPy's function of the same name, written with the ``reshape``, ``transpose``,
``broadcast``, ``slice`` and ``concatenate`` primitives, so each is differentiable and linear.
"""

from __future__ import annotations

import builtins
import itertools
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

import backend.structural as S
from backend.dispatch import bind, is_traced
from backend.numpy._core import DType, astype, axes_of, axis_index, typeof
from calculi.core.errors import ShapeError

__all__ = [
    "array_split", "atleast_1d", "atleast_2d", "atleast_3d", "broadcast_arrays", "broadcast_to",
    "column_stack", "concatenate", "expand_dims", "hstack", "matrix_transpose", "moveaxis", "permute_dims",
    "ravel", "reshape", "split", "squeeze", "stack", "swapaxes", "transpose", "vstack",
]


def reshape(a: object, /, shape: int | Sequence[int] | None = None, order: str = "C", *,
            newshape: int | Sequence[int] | None = None, copy: bool | None = None) -> Any:
    """NumPy's ``reshape``: one ``-1`` is inferred; ``order="F"`` reads and writes in column order."""
    if shape is None:
        shape = newshape
    if shape is None:
        raise ShapeError("reshape needs a shape")
    t = typeof(a)
    dims = [shape] if isinstance(shape, int | np.integer) else list(shape)
    dims = [int(d) for d in dims]
    if dims.count(-1) > 1:
        raise ShapeError(f"can only specify one unknown dimension in reshape to {dims}")
    if -1 in dims:
        known = math.prod(d for d in dims if d != -1)
        if known == 0 or t.size % known:
            raise ShapeError(f"cannot reshape array of size {t.size} into shape {tuple(dims)}")
        dims[dims.index(-1)] = t.size // known
    target = tuple(dims)
    if math.prod(target) != t.size or builtins.any(d < 0 for d in target):
        raise ShapeError(f"cannot reshape array of size {t.size} into shape {target}")
    if order == "F":
        return transpose(reshape(transpose(a), tuple(reversed(target))))
    if order not in ("C", "A"):
        raise ShapeError(f"reshape order {order!r} is not supported (C or F)")
    if target == t.shape and is_traced(a):
        return a
    return bind(S.reshape_p, a, shape=target)


def ravel(a: object, order: str = "C") -> Any:
    return reshape(a, -1, order=order)


def squeeze(a: object, axis: int | Sequence[int] | None = None) -> Any:
    t = typeof(a)
    if axis is None:
        axes = tuple(i for i, n in enumerate(t.shape) if n == 1)
    else:
        axes = axes_of(axis, t.ndim)
        wide = [i for i in axes if t.shape[i] != 1]
        if wide:
            raise ShapeError(f"cannot select an axis to squeeze out which has size not equal to one "
                             f"(axis {wide[0]} of {t})")
    return reshape(a, tuple(n for i, n in enumerate(t.shape) if i not in axes))


def expand_dims(a: object, axis: int | Sequence[int]) -> Any:
    t = typeof(a)
    count = 1 if isinstance(axis, int | np.integer) else len(axis)
    new = axes_of(axis, t.ndim + count)
    dims = iter(t.shape)
    return reshape(a, tuple(1 if i in new else next(dims) for i in range(t.ndim + count)))


def transpose(a: object, axes: Sequence[int] | None = None) -> Any:
    n = typeof(a).ndim
    if axes is None:
        perm = tuple(reversed(range(n)))
    else:
        if len(axes) != n:
            raise ShapeError(f"axes {tuple(axes)} don't match an array of dimension {n}")
        perm = tuple(axis_index(i, n) for i in axes)
        if sorted(perm) != list(range(n)):
            raise ShapeError(f"repeated axis in transpose: {tuple(axes)}")
    if perm == tuple(range(n)) and is_traced(a):
        return a
    return bind(S.transpose_p, a, perm=perm)


permute_dims = transpose


def matrix_transpose(x: object, /) -> Any:
    """Swap the last two axes (``x.mT``)."""
    if typeof(x).ndim < 2:
        raise ShapeError("matrix_transpose needs an array of at least two dimensions")
    return swapaxes(x, -1, -2)


def swapaxes(a: object, axis1: int, axis2: int) -> Any:
    n = typeof(a).ndim
    perm = list(range(n))
    i, j = axis_index(axis1, n), axis_index(axis2, n)
    perm[i], perm[j] = perm[j], perm[i]
    return transpose(a, perm)


def moveaxis(a: object, source: int | Sequence[int], destination: int | Sequence[int]) -> Any:
    n = typeof(a).ndim
    src = [source] if isinstance(source, int | np.integer) else list(source)
    dst = [destination] if isinstance(destination, int | np.integer) else list(destination)
    if len(src) != len(dst):
        raise ShapeError("moveaxis: source and destination must have the same number of elements")
    src = [axis_index(s, n) for s in src]
    dst = [axis_index(d, n) for d in dst]
    if len(set(src)) != len(src) or len(set(dst)) != len(dst):
        raise ShapeError("moveaxis: repeated axis")
    order = [i for i in range(n) if i not in src]
    for d, s in sorted(zip(dst, src, strict=True)):
        order.insert(d, s)
    return transpose(a, order)


def broadcast_to(array: object, shape: int | Sequence[int]) -> Any:
    target = (shape,) if isinstance(shape, int | np.integer) else tuple(int(n) for n in shape)
    t = typeof(array)
    if t.shape == target and is_traced(array):
        return array
    return bind(S.broadcast_p, array, shape=target)


def broadcast_arrays(*args: object) -> list[Any]:
    try:
        out = tuple(np.broadcast_shapes(*(typeof(a).shape for a in args)))
    except ValueError:
        raise ShapeError("shape mismatch: objects cannot be broadcast to a single shape") from None
    return [broadcast_to(a, out) for a in args]


def atleast_1d(*arys: object) -> Any:
    out = [a if typeof(a).ndim >= 1 else reshape(a, (1,)) for a in arys]
    return out[0] if len(out) == 1 else out


def atleast_2d(*arys: object) -> Any:
    out = [a if typeof(a).ndim >= 2 else reshape(a, (1, -1) if typeof(a).ndim else (1, 1)) for a in arys]
    return out[0] if len(out) == 1 else out


def atleast_3d(*arys: object) -> Any:
    def three(a: object) -> Any:
        s = typeof(a).shape
        return a if len(s) >= 3 else reshape(a, {0: (1, 1, 1), 1: (1, *s, 1), 2: (*s, 1)}[len(s)])

    out = [three(a) for a in arys]
    return out[0] if len(out) == 1 else out


# -- joining and splitting -----------------------------------------------------------------------

def concatenate(arrays: Sequence[object], axis: int | None = 0, out: None = None, *,
                dtype: DType = None) -> Any:
    if out is not None:
        raise ShapeError("out= is not supported: backend.numpy functions return new arrays")
    xs = list(arrays)
    if not xs:
        raise ShapeError("need at least one array to concatenate")
    if axis is None:
        xs, axis = [ravel(x) for x in xs], 0
    ranks = {typeof(x).ndim for x in xs}
    if 0 in ranks:
        raise ShapeError("zero-dimensional arrays cannot be concatenated")
    if len(ranks) > 1:
        raise ShapeError("all the input arrays must have the same number of dimensions")
    want = np.dtype(dtype) if dtype is not None else np.result_type(*(typeof(x).dtype for x in xs))
    xs = [astype(x, want) for x in xs]
    if len(xs) == 1 and is_traced(xs[0]):
        return xs[0]
    return bind(S.concatenate_p, *xs, axis=axis_index(axis, ranks.pop()))


def stack(arrays: Sequence[object], axis: int = 0, out: None = None, *, dtype: DType = None) -> Any:
    xs = list(arrays)
    if not xs:
        raise ShapeError("need at least one array to stack")
    if len({typeof(x).shape for x in xs}) > 1:
        raise ShapeError("all input arrays must have the same shape")
    return concatenate([expand_dims(x, axis) for x in xs], axis, out, dtype=dtype)


def hstack(tup: Sequence[object], *, dtype: DType = None) -> Any:
    xs = [atleast_1d(x) for x in tup]
    return concatenate(xs, 0 if typeof(xs[0]).ndim == 1 else 1, dtype=dtype)


def vstack(tup: Sequence[object], *, dtype: DType = None) -> Any:
    return concatenate([atleast_2d(x) for x in tup], 0, dtype=dtype)


def column_stack(tup: Sequence[object]) -> Any:
    return concatenate([x if typeof(x).ndim >= 2 else reshape(x, (-1, 1)) for x in tup], 1)


def _cut(a: object, bounds: list[tuple[int, int]], axis: int) -> list[Any]:
    t = typeof(a)
    ax = axis_index(axis, t.ndim)
    pieces = []
    for lo, hi in bounds:
        starts = tuple(lo if i == ax else 0 for i in range(t.ndim))
        limits = tuple(hi if i == ax else n for i, n in enumerate(t.shape))
        pieces.append(bind(S.slice_p, a, starts=starts, limits=limits, strides=(1,) * t.ndim))
    return pieces


def array_split(ary: object, indices_or_sections: int | Sequence[int], axis: int = 0) -> list[Any]:
    n = typeof(ary).shape[axis_index(axis, typeof(ary).ndim)]
    if isinstance(indices_or_sections, int | np.integer):
        k = int(indices_or_sections)
        if k <= 0:
            raise ShapeError("number sections must be larger than 0")
        each, extra = divmod(n, k)
        sizes = [each + 1] * extra + [each] * (k - extra)
        cuts = list(np.cumsum([0, *sizes]))
    else:
        cuts = [0, *(builtins.min(builtins.max(int(i) if i >= 0 else int(i) + n, 0), n)
                     for i in indices_or_sections), n]
    return _cut(ary, [(int(lo), int(builtins.max(lo, hi))) for lo, hi in itertools.pairwise(cuts)],
                axis)


def split(ary: object, indices_or_sections: int | Sequence[int], axis: int = 0) -> list[Any]:
    if isinstance(indices_or_sections, int | np.integer):
        n = typeof(ary).shape[axis_index(axis, typeof(ary).ndim)]
        if int(indices_or_sections) <= 0 or n % int(indices_or_sections):
            raise ShapeError("array split does not result in an equal division")
    return array_split(ary, indices_or_sections, axis)
