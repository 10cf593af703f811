"""Rearranging elements: flip, roll, repeat, tile, pad, triangles, differences.

Each reads elements at positions that depend on the shape only, so each is a few ``take``,
``broadcast``, ``reshape``, ``slice`` or ``pad`` primitives with constant indices.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

import backend.indexing as I
import backend.structural as S
from backend.dispatch import bind, is_traced
from backend.numpy._core import astype, axes_of, axis_index, typeof
from backend.numpy._indexing import getitem
from backend.numpy._shapes import broadcast_to, concatenate, expand_dims, reshape
from backend.numpy._ufuncs import add, subtract, where
from calculi.core.errors import ShapeError

__all__ = ["diff", "flip", "fliplr", "flipud", "pad", "repeat", "roll", "tile", "tril", "triu"]


def flip(m: object, axis: int | Sequence[int] | None = None) -> Any:
    n = typeof(m).ndim
    axes = axes_of(axis, n)
    return getitem(m, tuple(slice(None, None, -1) if i in axes else slice(None) for i in range(n)))


def fliplr(m: object) -> Any:
    return flip(m, 1)


def flipud(m: object) -> Any:
    return flip(m, 0)


def roll(a: object, shift: int | Sequence[int], axis: int | Sequence[int] | None = None) -> Any:
    if axis is None:
        return reshape(roll(reshape(a, (-1,)), shift, 0), typeof(a).shape)
    shifts = [shift] if isinstance(shift, int | np.integer) else list(shift)
    axes = [axis] if isinstance(axis, int | np.integer) else list(axis)
    if len(shifts) == 1:
        shifts = shifts * len(axes)
    if len(axes) == 1:
        axes = axes * len(shifts)
    if len(shifts) != len(axes):
        raise ShapeError("roll: 'shift' and 'axis' should be scalars or 1D sequences of the same length")
    total: dict[int, int] = {}
    for s, ax in zip(shifts, axes, strict=True):
        i = axis_index(ax, typeof(a).ndim)
        total[i] = total.get(i, 0) + int(s)
    for i, s in total.items():
        n = typeof(a).shape[i]
        if n and s % n:
            a = bind(I.take_p, a, (np.arange(n) - s) % n, axis=i)
    return a


def repeat(a: object, repeats: int | Sequence[int], axis: int | None = None) -> Any:
    """Each element ``repeats`` times along ``axis`` (``None``: of the flattened array)."""
    if axis is None:
        a, axis = reshape(a, (-1,)), 0
    t = typeof(a)
    ax = axis_index(axis, t.ndim)
    if is_traced(repeats):
        raise ShapeError("repeat with traced repeats has a shape that depends on their values")
    counts = np.asarray(repeats)
    if counts.ndim == 0:
        r = int(counts)
        if r < 0:
            raise ShapeError("repeat: negative dimensions are not allowed")
        wide = broadcast_to(expand_dims(a, ax + 1), (*t.shape[: ax + 1], r, *t.shape[ax + 1:]))
        return reshape(wide, (*t.shape[:ax], t.shape[ax] * r, *t.shape[ax + 1:]))
    if counts.shape != (t.shape[ax],):
        raise ShapeError(f"repeat: {counts.size} repeats for an axis of length {t.shape[ax]}")
    return bind(I.take_p, a, np.repeat(np.arange(t.shape[ax]), counts), axis=ax)


def tile(A: object, reps: int | Sequence[int]) -> Any:
    r = (reps,) if isinstance(reps, int | np.integer) else tuple(reps)
    t = typeof(A)
    d = max(len(r), t.ndim)
    shape = (1,) * (d - t.ndim) + t.shape
    r = (1,) * (d - len(r)) + tuple(int(k) for k in r)
    inter = tuple(x for pair in zip((1,) * d, shape, strict=True) for x in pair)
    wide = broadcast_to(reshape(A, inter), tuple(x for pair in zip(r, shape, strict=True) for x in pair))
    return reshape(wide, tuple(k * n for k, n in zip(r, shape, strict=True)))


def _pad_width(pad_width: Any, ndim: int) -> list[tuple[int, int]]:
    widths = np.broadcast_to(np.asarray(pad_width, dtype=np.int64), (ndim, 2)) if ndim else np.zeros((0, 2))
    if (widths < 0).any():
        raise ShapeError("index can't contain negative values")
    return [(int(lo), int(hi)) for lo, hi in widths]


def pad(array: object, pad_width: Any, mode: str = "constant", **kwargs: Any) -> Any:
    """NumPy's ``pad`` in modes ``constant`` (``constant_values``), ``edge``, ``reflect``,
    ``symmetric`` and ``wrap``: the constant mode is the ``pad`` primitive plus the constant border,
    the others gather (one ``take`` per axis, with the indices NumPy's ``pad`` gives ``arange``)."""
    t = typeof(array)
    widths = _pad_width(pad_width, t.ndim)
    if mode == "constant":
        values = kwargs.pop("constant_values", 0)
        if kwargs:
            raise ShapeError(f"pad: unsupported keywords {sorted(kwargs)} in mode 'constant'")
        if is_traced(values):
            raise ShapeError("pad: constant_values must be constants")
        shape = tuple(lo + n + hi for (lo, hi), n in zip(widths, t.shape, strict=True))
        inner = bind(S.pad_p, array, starts=tuple(lo for lo, _ in widths),
                     limits=tuple(lo + n for (lo, _), n in zip(widths, t.shape, strict=True)),
                     strides=(1,) * t.ndim, shape=shape)
        border = np.pad(np.zeros(t.shape, t.dtype), widths, mode="constant", constant_values=values)
        return add(inner, border) if np.any(border) else inner
    if mode not in ("edge", "reflect", "symmetric", "wrap"):
        raise ShapeError(f"pad mode {mode!r} is not supported (constant, edge, reflect, symmetric, wrap)")
    for i, ((lo, hi), n) in enumerate(zip(widths, t.shape, strict=True)):
        if lo or hi:
            idx = np.pad(np.arange(n), (lo, hi), mode=mode, **kwargs)  # type: ignore[call-overload]
            array = bind(I.take_p, array, idx, axis=i)
    return array


def _triangle(m: object, k: int, lower: bool) -> Any:
    t = typeof(m)
    if t.ndim < 2:
        raise ShapeError("tril and triu need an array of at least two dimensions")
    rows, cols = t.shape[-2:]
    keep = np.tri(rows, cols, k, dtype=bool) if lower else ~np.tri(rows, cols, k - 1, dtype=bool)
    return where(keep, m, np.zeros((), t.dtype))


def tril(m: object, k: int = 0) -> Any:
    return _triangle(m, k, True)


def triu(m: object, k: int = 0) -> Any:
    return _triangle(m, k, False)


def diff(a: object, n: int = 1, axis: int = -1, prepend: object = None, append: object = None) -> Any:
    t = typeof(a)
    ax = axis_index(axis, t.ndim)
    parts = [p for p in (prepend, a, append) if p is not None]
    if len(parts) > 1:
        shape = list(t.shape)
        shape[ax] = 1
        parts = [broadcast_to(astype(p, t.dtype), tuple(shape)) if typeof(p).ndim == 0 else p for p in parts]
        a = concatenate(parts, ax)
    for _ in range(n):
        m = typeof(a).shape[ax]
        hi = tuple(slice(1, None) if i == ax else slice(None) for i in range(t.ndim))
        lo = tuple(slice(None, m - 1) if i == ax else slice(None) for i in range(t.ndim))
        a = subtract(getitem(a, hi), getitem(a, lo))
    return a
