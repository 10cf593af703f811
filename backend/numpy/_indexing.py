"""Indexing: ``x[index]`` with NumPy's rules, ``take``, ``take_along_axis``, and the functional update
``x.at[index].set(v)`` (JAX's spelling).

``x[index]`` on a traced array takes one of three roads:

* ints, slices (any step), ``None`` and ``...``: one ``slice`` primitive, a reversal (a ``take``) of
  the axes with a negative step, and a ``reshape``;
* one integer array (a constant, or traced: token ids), the rest as above: ``take`` on its axis; the
  array's axes go where NumPy puts them (in place when the integers among the indices are next to
  it, else first);
* several constant integer arrays or a constant boolean mask: the flat positions NumPy's indexing
  selects, computed once from the index alone (``flat_positions``), and one ``take``.

A traced boolean mask selects a number of elements known only from its values, so ``x[mask]``
cannot be traced; ``where(mask, x, 0)`` keeps the shape instead.
"""

from __future__ import annotations

import builtins
from typing import Any

import numpy as np

import backend.indexing as I
from backend.dispatch import bind, is_traced
from backend.numpy._core import astype, axis_index, typeof
from backend.numpy._shapes import broadcast_to, moveaxis, reshape
from backend.numpy._ufuncs import add, maximum, minimum, multiply, negative, reciprocal, where
from backend.structural import slice_p
from calculi.core.errors import ShapeError

__all__ = ["argwhere", "flatnonzero", "getitem", "nonzero", "take", "take_along_axis", "unique"]

Array = np.ndarray[Any, Any]
MASK_HINT = ("x[mask] with a traced boolean mask has a shape that depends on the mask's values; "
             "use where(mask, x, 0), which keeps x's shape")


def _index_error(err: Exception) -> ShapeError:
    return ShapeError(f"index: {err}")


def flat_positions(shape: tuple[int, ...], index: object) -> Array:
    """The flat (C-order) positions that ``x[index]`` selects from an array of ``shape``, in the
    shape of the result: NumPy's own indexing of each coordinate, as broadcast views (no array of
    ``x``'s size is made)."""
    if not shape:
        try:
            selected: Array = np.zeros((), np.intp)[_any(index)]
            return selected
        except (IndexError, TypeError, ValueError) as err:
            raise _index_error(err) from None
    out: Array | None = None
    stride = 1
    for k in reversed(range(len(shape))):
        coord = np.broadcast_to(np.arange(shape[k]).reshape([-1 if i == k else 1 for i in range(len(shape))]),
                                shape)
        try:
            term = coord[_any(index)] * stride
        except (IndexError, TypeError, ValueError) as err:
            raise _index_error(err) from None
        out = term if out is None else out + term
        stride *= shape[k]
    assert out is not None
    return np.asarray(out, np.intp)


def _any(index: object) -> Any:
    """An index as NumPy's indexing takes it (any object: NumPy says what it does not accept)."""
    return index


def _items(a: object, index: object) -> list[object]:
    """The index as a list of items, lists made arrays, ``...`` expanded to full slices."""
    raw = list(index) if isinstance(index, tuple) else [index]
    items = [np.asarray(i) if isinstance(i, list) else i for i in raw]
    for i in items:
        if is_traced(i) and typeof(i).dtype == np.dtype(bool):
            raise ShapeError(MASK_HINT)
        if isinstance(i, bool | np.bool_):
            raise ShapeError("a Python bool as an index is not supported on traced arrays")
    ndim = typeof(a).ndim
    used = builtins.sum(i.ndim if isinstance(i, np.ndarray) and i.dtype == bool else 1
                        for i in items if i is not None and i is not Ellipsis)
    ellipses = [k for k, i in enumerate(items) if i is Ellipsis]
    if len(ellipses) > 1:
        raise ShapeError("an index can only have a single ellipsis ('...')")
    if used > ndim:
        raise ShapeError(f"too many indices for an array of dimension {ndim}: {used} were given")
    fill = [slice(None)] * (ndim - used)
    if ellipses:
        items[ellipses[0]: ellipses[0] + 1] = fill
    else:
        items += fill
    return items


def _is_array(i: object) -> bool:
    return is_traced(i) or isinstance(i, np.ndarray)


def getitem(a: object, index: object) -> Any:
    """``a[index]`` with NumPy's rules (see the module docstring)."""
    items = _items(a, index)
    traced_index = builtins.any(is_traced(i) for i in items)
    if not is_traced(a) and not traced_index:
        return np.asarray(a)[_any(index)]
    arrays = [k for k, i in enumerate(items) if _is_array(i)]
    masks = [k for k in arrays if not is_traced(items[k]) and np.asarray(items[k]).dtype == bool]
    if not arrays:
        return _basic(a, items)
    if len(arrays) == 1 and not masks:
        return _one_array(a, items, arrays[0])
    if traced_index:
        raise ShapeError("indexing with a traced integer array together with other arrays is not supported; "
                         "index with one array at a time, or use take_along_axis")
    positions = flat_positions(typeof(a).shape, tuple(items))
    return bind(I.take_p, reshape(a, (-1,)), positions, axis=0)


def _basic(a: object, items: list[object]) -> Any:
    """Ints, slices and None: one slice, a reversal of each axis with a negative step, one reshape."""
    t = typeof(a)
    starts, limits, strides, flips, out_shape = [], [], [], [], []
    axis = 0
    for item in items:
        if item is None:
            out_shape.append(1)
            continue
        n = t.shape[axis]
        if isinstance(item, slice):
            r = range(*item.indices(n))
            if len(r) > 1 and r.step < 0:
                r = r[::-1]
                flips.append(axis)
            lo, hi, step = (r.start, r[-1] + 1, r.step if len(r) > 1 else 1) if len(r) else (0, 0, 1)
            out_shape.append(len(r))
        else:
            try:
                i = int(item)  # type: ignore[call-overload]
            except TypeError:
                raise ShapeError(f"unsupported index {item!r} on a traced array") from None
            if not -n <= i < n:
                raise ShapeError(f"index {i} is out of bounds for axis {axis} with size {n}")
            lo, hi, step = i % n, i % n + 1, 1
        starts.append(lo)
        limits.append(hi)
        strides.append(step)
        axis += 1
    y = a
    if (tuple(starts), tuple(limits)) != ((0,) * t.ndim, t.shape) or builtins.any(s != 1 for s in strides):
        y = bind(slice_p, a, starts=tuple(starts), limits=tuple(limits), strides=tuple(strides))
    for ax in flips:
        y = bind(I.take_p, y, np.arange(typeof(y).shape[ax] - 1, -1, -1), axis=ax)
    return reshape(y, tuple(out_shape))


def _one_array(a: object, items: list[object], k: int) -> Any:
    """One integer array among ints, slices and None: ``take`` on the array's axis."""
    idx = items[k]
    rest = [slice(None) if j == k else i for j, i in enumerate(items)]
    y = _basic(a, rest)
    axis = builtins.sum(1 for i in items[:k] if not isinstance(i, int | np.integer))
    n = typeof(y).shape[axis]
    if not is_traced(idx):
        idx = _checked(np.asarray(idx), n, axis)
    elif typeof(idx).dtype.kind not in "iu":
        raise ShapeError(f"arrays used as indices must be of integer (or boolean) type, got {typeof(idx)}")
    z = bind(I.take_p, y, idx, axis=axis)
    advanced = [j for j, i in enumerate(items) if j == k or isinstance(i, int | np.integer)]
    if advanced != list(range(advanced[0], advanced[-1] + 1)):  # separated: NumPy puts them first
        m = typeof(idx).ndim
        z = moveaxis(z, list(range(axis, axis + m)), list(range(m)))
    return z


def _checked(idx: Array, n: int, axis: int) -> Array:
    if idx.dtype.kind not in "iu":
        raise ShapeError(f"arrays used as indices must be of integer (or boolean) type, got {idx.dtype}")
    if idx.size and (idx.min() < -n or idx.max() >= n):
        bad = idx[(idx < -n) | (idx >= n)].flat[0]
        raise ShapeError(f"index {bad} is out of bounds for axis {axis} with size {n}")
    return idx.astype(np.intp, copy=False)


def take(a: object, indices: object, axis: int | None = None, out: None = None, mode: str = "raise") -> Any:
    """NumPy's ``take``: ``axis=None`` gathers from the flattened array; ``mode`` is ``raise``,
    ``wrap`` or ``clip`` (for constant indices)."""
    if out is not None:
        raise ShapeError("out= is not supported: backend.numpy functions return new arrays")
    if axis is None:
        a, axis = reshape(a, (-1,)), 0
    ax = axis_index(axis, typeof(a).ndim)
    n = typeof(a).shape[ax]
    if not is_traced(indices):
        idx = np.asarray(indices)
        if idx.dtype.kind not in "iu":
            raise ShapeError(f"take needs integer indices, got {idx.dtype}")
        if mode == "wrap":
            idx = idx % n
        elif mode == "clip":
            idx = np.clip(idx, 0, n - 1)
        indices = _checked(idx, n, ax)
    return bind(I.take_p, a, indices, axis=ax)


def take_along_axis(arr: object, indices: object, axis: int | None = -1) -> Any:
    """NumPy's ``take_along_axis``: ``arr`` and ``indices`` broadcast on the other axes."""
    if axis is None:
        if typeof(indices).ndim != 1:
            raise ShapeError("when axis=None, take_along_axis needs one-dimensional indices")
        arr, axis = reshape(arr, (-1,)), 0
    ta, ti = typeof(arr), typeof(indices)
    if ta.ndim != ti.ndim:
        raise ShapeError(f"indices {ti} and arr {ta} must have the same number of dimensions")
    ax = axis_index(axis, ta.ndim)
    try:
        common = np.broadcast_shapes(tuple(1 if i == ax else n for i, n in enumerate(ta.shape)),
                                     tuple(1 if i == ax else n for i, n in enumerate(ti.shape)))
    except ValueError:
        raise ShapeError(f"take_along_axis: {ta} and indices {ti} do not broadcast") from None
    arr = broadcast_to(arr, tuple(ta.shape[ax] if i == ax else n for i, n in enumerate(common)))
    indices = broadcast_to(indices, tuple(ti.shape[ax] if i == ax else n for i, n in enumerate(common)))
    if not is_traced(indices):
        indices = _checked(np.asarray(indices), ta.shape[ax], ax)
    return bind(I.take_along_p, arr, indices, axis=ax)


# -- data-dependent shapes ------------------------------------------------------------------------

def _eager(name: str, hint: str) -> Any:
    fn = getattr(np, name)

    def f(a: object, *args: Any, **kwargs: Any) -> Any:
        if is_traced(a):
            raise ShapeError(f"{name} has a result whose shape depends on the values, which are unknown "
                             f"while tracing; {hint}")
        return fn(a, *args, **kwargs)

    f.__name__ = name
    return f


nonzero = _eager("nonzero", "use where(mask, x, 0) to keep the shape")
flatnonzero = _eager("flatnonzero", "use where(mask, x, 0) to keep the shape")
argwhere = _eager("argwhere", "use where(mask, x, 0) to keep the shape")
unique = _eager("unique", "compute it from constant arrays before tracing")


# -- the functional update x.at[index] --------------------------------------------------------------

class IndexUpdate:
    """``x.at[index]``: ``get()``, and ``set, add, subtract, multiply, divide, min, max`` of values
    ``v`` (broadcast to ``x[index]``'s shape, cast to ``x``'s dtype) giving a new array. Repeated
    positions: ``add`` (and ``multiply``, ``min``, ``max``) apply every value, ``set`` keeps the last.
    The index is a constant (ints, slices, arrays, masks)."""

    def __init__(self, x: object, index: object) -> None:
        if builtins.any(is_traced(i) for i in (index if isinstance(index, tuple) else (index,))):
            raise ShapeError("x.at[index] needs a constant index (not a traced array); for a gather "
                             "with traced indices use take")
        self.x = x
        self.type = typeof(x)
        self.positions = flat_positions(self.type.shape, index)

    def _values(self, v: object) -> Any:
        return reshape(broadcast_to(astype(v, self.type.dtype), self.positions.shape), (-1,))

    def _scatter(self, values: object, positions: Array) -> Any:
        flat = bind(I.scatter_add_p, values, positions, axis=0, size=self.type.size)
        return reshape(flat, self.type.shape)

    def _hit(self, positions: Array) -> Array:
        hit = np.zeros(self.type.size, bool)
        hit[positions] = True
        return hit.reshape(self.type.shape)

    def get(self) -> Any:
        return bind(I.take_p, reshape(self.x, (-1,)), self.positions, axis=0)

    def add(self, v: object) -> Any:
        return add(self.x, self._scatter(self._values(v), self.positions.reshape(-1)))

    def subtract(self, v: object) -> Any:
        return self.add(negative(v))

    def set(self, v: object) -> Any:
        flat = self.positions.reshape(-1)
        last = len(flat) - 1 - np.unique(flat[::-1], return_index=True)[1]
        keep = np.sort(last)
        values = self._values(v)
        if len(keep) < len(flat):
            values = bind(I.take_p, values, keep, axis=0)
        return where(self._hit(flat[keep]), self._scatter(values, flat[keep]), self.x)

    def _rounds(self, v: object, combine: Any) -> Any:
        """Apply ``combine(x, values)`` at the first occurrence of each position, then the second…"""
        flat = self.positions.reshape(-1)
        order = np.argsort(flat, kind="stable")
        rank = np.empty(len(flat), np.intp)
        starts = np.searchsorted(flat[order], flat[order], side="left")
        rank[order] = np.arange(len(flat)) - starts
        values = self._values(v)
        out = self.x
        for r in range(int(rank.max()) + 1 if len(flat) else 0):
            pick = np.flatnonzero(rank == r)
            part = bind(I.take_p, values, pick, axis=0) if len(pick) < len(flat) else values
            out = where(self._hit(flat[pick]), combine(out, self._scatter(part, flat[pick])), out)
        return out

    def multiply(self, v: object) -> Any:
        return self._rounds(v, multiply)

    def divide(self, v: object) -> Any:
        return self._rounds(reciprocal(v), multiply)

    def min(self, v: object) -> Any:
        return self._rounds(v, minimum)

    def max(self, v: object) -> Any:
        return self._rounds(v, maximum)


class At:
    """``x.at``: indexing it gives an ``IndexUpdate``."""

    def __init__(self, x: object) -> None:
        self.x = x

    def __getitem__(self, index: object) -> IndexUpdate:
        return IndexUpdate(self.x, index)


def at(x: object) -> At:
    """``at(x)[index].set(v)``: the update of ``x.at[index]``, for NumPy arrays too."""
    return At(x)

