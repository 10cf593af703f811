"""NumPy values of compiled Dex: arrays that vary along loop axes, and the operations on them.

An ``Arr`` is a scalar or table value whose leading dimensions are the loop axes it varies along
(``axes``, outermost first) and whose trailing ones are its table dimensions; ``align`` broadcasts
values against each other, ``gather_axis`` turns a loop axis into a table dimension (the result of
a parallel ``for``), ``scatter`` is ``bincount`` or ``np.add.at`` (accumulation into computed
entries). An integer that is an affine function of loop indices (``ordinal i + ordinal k + 1``)
keeps that form (``Affine``) and builds its array only when asked: a read ``x.(i + k)`` at it is a
strided view of ``x`` (``window``), never a gather.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np

from calculi.dex.check import size
from calculi.dex.syntax import Enum, IntT, PairT, RealT, TableT, Type, UnitT
from calculi.dex.values import Label, Table, Value

INT_LIMIT = 2**62


class Unsupported(Exception):
    """Raised where the compiled program would leave what NumPy computes exactly as the rules do."""


@dataclass(frozen=True, slots=True)
class Affine:
    """The integer ``offset + sum(coef * ordinal)`` over the loop axes ``terms`` (axis, coef,
    size), sorted by axis, no coefficient zero."""

    offset: int
    terms: tuple[tuple[int, int, int], ...] = ()

    @property
    def axes(self) -> tuple[int, ...]:
        return tuple(axis for axis, _, _ in self.terms)

    def plus(self, other: Affine, scale: int = 1) -> Affine:
        """``self + scale * other``."""
        coefs: dict[int, tuple[int, int]] = {a: (c, n) for a, c, n in self.terms}
        for axis, coef, n in other.terms:
            c0, _ = coefs.get(axis, (0, n))
            coefs[axis] = (c0 + scale * coef, n)
        terms = tuple((a, c, n) for a, (c, n) in sorted(coefs.items()) if c != 0)
        return Affine(self.offset + scale * other.offset, terms)

    def bounds(self) -> tuple[int, int] | None:
        """The least and greatest value over all lanes (``None`` when there are none)."""
        if any(n == 0 for _, _, n in self.terms):
            return None
        low = self.offset + sum(min(0, c * (n - 1)) for _, c, n in self.terms)
        high = self.offset + sum(max(0, c * (n - 1)) for _, c, n in self.terms)
        return low, high

    def build(self) -> np.ndarray[Any, Any]:
        data = np.array(self.offset, dtype=np.int64)
        for p, (_, coef, n) in enumerate(self.terms):
            shape = [1] * len(self.terms)
            shape[p] = n
            data = data + coef * np.arange(n, dtype=np.int64).reshape(shape)
        return data


class Arr:
    """A scalar or table value varying along the loop axes ``axes`` (the leading dimensions); an
    ``affine`` integer builds its ``data`` on first use. ``bounds``, where known without looking
    at the data, holds the least and greatest integer it may be (a remainder's, an affine's)."""

    __slots__ = ("_data", "affine", "axes", "bounds")

    def __init__(self, data: np.ndarray[Any, Any] | None, axes: tuple[int, ...],
                 affine: Affine | None = None, bounds: tuple[int, int] | None = None) -> None:
        assert data is not None or (affine is not None and affine.axes == axes)
        self._data = data
        self.axes = axes
        self.affine = affine
        self.bounds = affine.bounds() if affine is not None and bounds is None else bounds

    @property
    def data(self) -> np.ndarray[Any, Any]:
        if self._data is None:
            assert self.affine is not None
            self._data = self.affine.build()
        return self._data

    @data.setter
    def data(self, value: np.ndarray[Any, Any]) -> None:
        self._data, self.affine, self.bounds = value, None, None

    def __repr__(self) -> str:
        return f"Arr({self.data!r}, {self.axes!r})"


def affine(a: Affine) -> Arr:
    """The integer ``a``, its array not built."""
    bounds = a.bounds()
    if bounds is not None and max(-bounds[0], bounds[1]) >= INT_LIMIT:
        raise Unsupported("an integer beyond 62 bits")
    return Arr(None, a.axes, a)


def window(table: Arr, index: Affine) -> Arr | None:
    """``table.(index)`` as a strided view of ``table`` (an affine index moves the pointer by a
    fixed stride per lane); ``None`` where the view would not match the lanes. The caller has
    checked that every lane's index is in range."""
    td, p = table.data, len(table.axes)
    sizes = {axis: td.shape[k] for k, axis in enumerate(table.axes)}
    for axis, _, n in index.terms:
        if sizes.setdefault(axis, n) != n:
            return None
    if 0 in sizes.values() or td.ndim <= p or not 0 <= index.offset < td.shape[p]:
        return None
    strides = dict.fromkeys(sizes, 0)
    for k, axis in enumerate(table.axes):
        strides[axis] += td.strides[k]
    for axis, coef, _ in index.terms:
        strides[axis] += coef * td.strides[p]
    axes = tuple(sorted(sizes))
    start = td[(slice(None),) * p + (slice(index.offset, None),)]
    view = np.lib.stride_tricks.as_strided(
        start, tuple(sizes[a] for a in axes) + td.shape[p + 1:],
        tuple(strides[a] for a in axes) + td.strides[p + 1:])
    return Arr(view, axes)


@dataclass(slots=True)
class Idx:
    """An index of an index set of ``size`` elements: its ordinals, as an integer ``Arr``."""

    ordinal: Arr
    size: int
    labels: tuple[str, ...] | None = None
    loop: int | None = None
    """The loop axis, when this is the index of a parallel ``for`` (its ordinals are that
    axis's ``arange``): then ``x.i`` is a view of ``x``, not a gather."""


def scatter(target: np.ndarray[Any, Any], where: tuple[Any, ...], values: Any) -> None:
    """``target[where] += values``, adding every value even where indices repeat: ``bincount``
    into a vector of reals, ``np.add.at`` otherwise."""
    if target.ndim == 1 and len(where) == 1 and target.dtype.kind == "f":
        points = np.asarray(where[0]).ravel()
        if not any(np.asarray(values).strides):  # one value broadcast: count, then scale
            value = np.asarray(values).flat[0] if np.size(values) else 0.0
            target += value * np.bincount(points, minlength=target.size)[:target.size]
            return
        weights = np.broadcast_to(values, np.shape(where[0])).ravel()
        target += np.bincount(points, weights=weights, minlength=target.size)[:target.size]
        return
    np.add.at(target, where, values)


def align(values: Sequence[Arr]) -> tuple[list[np.ndarray[Any, Any]], tuple[int, ...]]:
    """The arrays of ``values`` with loop axes made the same (the union, sorted), size-1 where a
    value does not vary along one."""
    union = tuple(sorted(set().union(*(v.axes for v in values))))
    out = []
    for v in values:
        data = v.data
        for position, axis in enumerate(union):
            if axis not in v.axes:
                data = np.expand_dims(data, position)
        out.append(data)
    return out, union


def check_int(data: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    if data.dtype.kind == "i" and data.size and int(np.abs(data).max()) >= INT_LIMIT:
        raise Unsupported("an integer beyond 62 bits")
    return data


def _bound(data: np.ndarray[Any, Any]) -> int:
    return int(np.abs(data).max()) if data.size else 0


def arith(op: str, a: np.ndarray[Any, Any], b: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    if a.dtype.kind == "i" and op in "+-*":
        limit = _bound(a) * _bound(b) if op == "*" else _bound(a) + _bound(b)
        if limit >= INT_LIMIT:
            raise Unsupported("an integer beyond 62 bits")
    if op == "%" and b.size and (b == 0).any():
        raise ZeroDivisionError
    if op == "/" and b.size and (b == 0).any():
        raise ZeroDivisionError
    result: np.ndarray[Any, Any] = _ARITH[op](a, b)
    return result


_ARITH: dict[str, Callable[[Any, Any], Any]] = {
    "+": np.add, "-": np.subtract, "*": np.multiply, "/": np.divide, "%": np.mod,
    "<": np.less, "<=": np.less_equal, "==": np.equal,
}
UNARY: dict[str, Callable[[Any], Any]] = {"exp": np.exp, "log": np.log, "sqrt": np.sqrt}


def full(value: Arr, axes: tuple[int, ...], shape: tuple[int, ...]) -> np.ndarray[Any, Any]:
    """``value`` broadcast over all the loop ``axes`` (a superset of its own), of sizes ``shape``."""
    data = value.data
    for position, axis in enumerate(axes):
        if axis not in value.axes:
            data = np.expand_dims(data, position)
    if data.shape[:len(axes)] == shape:
        return data
    return np.broadcast_to(data, shape + data.shape[len(axes):])


def empty_table(elem: Type, active: Sequence[tuple[int, int]]) -> object:
    """The table of no ``elem``s, in each lane of the ``active`` loop axes (axis, size)."""
    axes = tuple(axis for axis, _ in active)
    if isinstance(elem, PairT):
        return (empty_table(elem.fst, active), empty_table(elem.snd, active))
    if isinstance(elem, UnitT):
        return ()
    if not isinstance(elem, RealT | IntT | TableT) or not _dims_of_scalars(elem):
        raise Unsupported("an empty table of functions, indices or pairs")
    dtype = np.int64 if isinstance(_leaf(elem), IntT) else np.float64
    lanes = tuple(n for _, n in active)
    return Arr(np.zeros((*lanes, 0, *dims(elem)), dtype=dtype), axes)


def _leaf(ty: Type) -> Type:
    return _leaf(ty.elem) if isinstance(ty, TableT) else ty


def _dims_of_scalars(ty: Type) -> bool:
    return isinstance(_leaf(ty), RealT | IntT)


def dims(ty: Type) -> tuple[int, ...]:
    return (size(ty.index), *dims(ty.elem)) if isinstance(ty, TableT) else ()


def index_value(n: Type, ordinal: Arr) -> object:
    if isinstance(n, PairT):
        inner = size(n.snd)
        return (index_value(n.fst, Arr(ordinal.data // max(inner, 1), ordinal.axes)),
                index_value(n.snd, Arr(ordinal.data % max(inner, 1), ordinal.axes)))
    return Idx(ordinal, size(n), n.labels if isinstance(n, Enum) else None)


def loop_index(n: Type, count: int, axis: int) -> object:
    """The index of a parallel ``for`` over ``n``: ``arange(|n|)`` along its loop axis."""
    ordinal = (Arr(None, (axis,), Affine(0, ((axis, 1, count),))) if count
               else Arr(np.arange(count), (axis,)))
    index = index_value(n, ordinal)
    if isinstance(index, Idx):
        index.loop = axis
    return index


def as_index(index: object) -> Idx:
    """A pair index as one index of the pair set (row-major ordinals)."""
    if isinstance(index, Idx):
        return index
    assert isinstance(index, tuple)
    a, b = as_index(index[0]), as_index(index[1])
    (ad, bd), axes = align([a.ordinal, b.ordinal])
    return Idx(Arr(ad * b.size + bd, axes), a.size * b.size)


def gather_axis(value: object, axis: int, count: int) -> object:
    """The table of ``value`` over the loop ``axis``: that loop axis becomes a table dimension."""
    if isinstance(value, tuple):
        return tuple(gather_axis(v, axis, count) for v in value)
    if not isinstance(value, Arr):
        raise Unsupported("a table of functions or indices")
    if axis in value.axes:
        p = value.axes.index(axis)
        rest = tuple(a for a in value.axes if a != axis)
        return Arr(np.moveaxis(value.data, p, len(rest)), rest)
    p = len(value.axes)
    data = np.expand_dims(value.data, p)
    return Arr(np.broadcast_to(data, (*data.shape[:p], count, *data.shape[p + 1:])), value.axes)


def stack(results: list[object]) -> object:
    first = results[0]
    if isinstance(first, tuple):
        return tuple(stack([r[k] for r in results]) for k in range(len(first)))  # type: ignore[index]
    if not all(isinstance(r, Arr) for r in results):
        raise Unsupported("a table of functions or indices")
    arrays, axes = align(results)  # type: ignore[arg-type]
    return Arr(np.stack(np.broadcast_arrays(*arrays), axis=len(axes)), axes)


def to_numpy(value: Value, ty: Type | None = None) -> object:
    """An interpreter value of type ``ty`` as the compiled program returns it (tables as arrays;
    an empty table has the shape its type gives, ``(0, 3)`` for ``Fin 0=>Fin 3=>Real``)."""
    if isinstance(value, Table):
        elem = ty.elem if isinstance(ty, TableT) else None
        if not value.elems and isinstance(ty, TableT) and _dims_of_scalars(ty):
            return np.zeros(dims(ty), dtype=np.int64 if isinstance(_leaf(ty), IntT) else np.float64)
        parts: list[Any] = [to_numpy(v, elem) for v in value.elems]
        if parts and isinstance(parts[0], tuple):
            return tuple(np.array([p[k] for p in parts]) for k in range(len(parts[0])))
        return np.array(parts, dtype=np.float64 if not parts or not isinstance(parts[0], int)
                        else np.int64)
    if isinstance(value, tuple):
        halves: tuple[Type | None, ...] = ((ty.fst, ty.snd) if isinstance(ty, PairT)
                                           else (None,) * len(value))
        return tuple(to_numpy(v, t) for v, t in zip(value, halves, strict=True))
    if isinstance(value, Fraction):
        return float(value)
    if isinstance(value, Label):
        return value.ordinal
    return value


def from_numpy(data: object, ty: Type) -> Value:
    """An argument array as an interpreter value of type ``ty``."""
    array = np.asarray(data)
    if isinstance(ty, TableT):
        return Table(ty.index, tuple(from_numpy(array[k], ty.elem) for k in range(size(ty.index))))
    if isinstance(ty, RealT):
        return float(array)
    if isinstance(ty, IntT):
        return int(array)
    raise Unsupported(f"an argument of type {ty}")
