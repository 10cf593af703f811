"""The array primitives of the backend: what each computes (NumPy) and its shape rule.

Every primitive is a table entry keyed by its name. ``IMPLS[name](*arrays, **params)`` evaluates it
with NumPy, and ``SHAPES[name](*types, **params)`` is its typing rule on array types
``ArrayType(shape, dtype)``::

    Γ ⊢ x : f32[B,T,D]    Γ ⊢ w : f32[D,E]
    ───────────────────────────────────────────── einsum "btd,de->bte"
    Γ ⊢ einsum(x, w) : f32[B,T,E]

``KINDS[name]`` says how the primitive relates to AD: ``linear`` (linear in all its differentiable
operands), ``bilinear`` (linear in each operand separately: mul, einsum, conv1d), ``nonlinear``, or
``nondiff`` (integer or boolean results: a zero tangent). Binary elementwise primitives take operands
of one shape; ``backend.numpy`` inserts explicit ``broadcast`` primitives, so that every broadcast
has its transpose (a ``reduce_sum``) in the program.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from calculi.core.errors import ShapeError

Array = np.ndarray[Any, Any]
Shape = tuple[int, ...]


@dataclass(frozen=True, slots=True)
class ArrayType:
    """The type of an array value: its shape and dtype, printed ``f32[8,64]``."""

    shape: Shape
    dtype: np.dtype[Any]

    @staticmethod
    def of(value: object) -> ArrayType:
        array = np.asarray(value)
        return ArrayType(tuple(array.shape), array.dtype)

    @property
    def size(self) -> int:
        return math.prod(self.shape)

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def __str__(self) -> str:
        short = {"float32": "f32", "float64": "f64", "int64": "i64", "int32": "i32", "bool": "bool",
                 "complex128": "c128", "complex64": "c64"}.get(self.dtype.name, self.dtype.name)
        return f"{short}[{','.join(map(str, self.shape))}]"


IMPLS: dict[str, Callable[..., Array]] = {}
SHAPES: dict[str, Callable[..., ArrayType]] = {}
KINDS: dict[str, str] = {}


def _def(name: str, kind: str, impl: Callable[..., Array], shape: Callable[..., ArrayType]) -> None:
    IMPLS[name], SHAPES[name], KINDS[name] = impl, shape, kind


# -- elementwise ---------------------------------------------------------------------------------

def _same(*types: ArrayType) -> ArrayType:
    first = types[0]
    for other in types[1:]:
        if other.shape != first.shape:
            raise ShapeError(f"operands of shapes {first} and {other} differ (broadcast them first)")
    return ArrayType(first.shape, np.result_type(*(t.dtype for t in types)))


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


UNARY: dict[str, tuple[str, Callable[..., Array]]] = {
    "neg": ("linear", np.negative),
    "exp": ("nonlinear", np.exp),
    "log": ("nonlinear", np.log),
    "sin": ("nonlinear", np.sin),
    "cos": ("nonlinear", np.cos),
    "tanh": ("nonlinear", np.tanh),
    "logistic": ("nonlinear", _logistic),
    "softplus": ("nonlinear", _softplus),
    "gelu_tanh": ("nonlinear", _gelu_tanh),
    "sqrt": ("nonlinear", np.sqrt),
    "rsqrt": ("nonlinear", _rsqrt),
}
for _name, (_kind, _fn) in UNARY.items():
    _def(_name, _kind, _fn, _same)

BINARY: dict[str, tuple[str, Callable[..., Array]]] = {
    "add": ("linear", np.add),
    "sub": ("linear", np.subtract),
    "mul": ("bilinear", np.multiply),
    "div": ("nonlinear", np.divide),
    "maximum": ("nonlinear", np.maximum),
    "pow": ("nonlinear", np.power),
}
for _name, (_kind, _fn) in BINARY.items():
    _def(_name, _kind, _fn, _same)


def _integer_pow(x: Array, *, y: int) -> Array:
    return x**y


_def("integer_pow", "nonlinear", _integer_pow, lambda t, *, y: t)


def _compare(op: Callable[..., Array]) -> Callable[..., Array]:
    return lambda x, y: op(x, y)


for _name, _fn in {"greater": np.greater, "equal": np.equal, "less": np.less}.items():
    _def(_name, "nondiff", _compare(_fn), lambda x, y: ArrayType(_same(x, y).shape, np.dtype(bool)))


def _stop_gradient(x: Array) -> Array:
    return x


_def("stop_gradient", "nondiff", _stop_gradient, lambda t: t)


def _convert(x: Array, *, dtype: str) -> Array:
    return x.astype(dtype, copy=False)


_def("convert", "linear", _convert, lambda t, *, dtype: ArrayType(t.shape, np.dtype(dtype)))


def _select(mask: Array, a: Array, b: Array) -> Array:
    return np.where(mask, a, b)


def _select_shape(mask: ArrayType, a: ArrayType, b: ArrayType) -> ArrayType:
    if mask.dtype != np.dtype(bool):
        raise ShapeError(f"select needs a boolean mask, got {mask}")
    if np.broadcast_shapes(mask.shape, a.shape) != a.shape:
        raise ShapeError(f"select mask {mask} does not broadcast to {a}")
    return _same(a, b)


# select with a constant mask is linear in (a, b) together
_def("select", "linear", _select, _select_shape)


# -- shape manipulation --------------------------------------------------------------------------

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


_def("broadcast", "linear", _broadcast, _broadcast_shape)


def _reduce_sum(x: Array, *, axes: Shape) -> Array:
    return np.sum(x, axis=axes)  # type: ignore[no-any-return]


def _reduced(t: ArrayType, axes: Shape) -> Shape:
    for a in axes:
        if not 0 <= a < t.ndim:
            raise ShapeError(f"axis {a} out of range for {t}")
    return tuple(n for i, n in enumerate(t.shape) if i not in axes)


_def("reduce_sum", "linear", _reduce_sum, lambda t, *, axes: ArrayType(_reduced(t, axes), t.dtype))


def _reduce_max(x: Array, *, axes: Shape) -> Array:
    return np.max(x, axis=axes)  # type: ignore[no-any-return]


_def("reduce_max", "nonlinear", _reduce_max, lambda t, *, axes: ArrayType(_reduced(t, axes), t.dtype))


def _reshape(x: Array, *, shape: Shape) -> Array:
    return x.reshape(shape)


def _reshape_shape(t: ArrayType, *, shape: Shape) -> ArrayType:
    if math.prod(shape) != t.size:
        raise ShapeError(f"cannot reshape {t} ({t.size} elements) to {list(shape)}")
    return ArrayType(tuple(shape), t.dtype)


_def("reshape", "linear", _reshape, _reshape_shape)


def _transpose(x: Array, *, perm: Shape) -> Array:
    return np.transpose(x, perm)


def _transpose_shape(t: ArrayType, *, perm: Shape) -> ArrayType:
    if sorted(perm) != list(range(t.ndim)):
        raise ShapeError(f"{list(perm)} is not a permutation of the axes of {t}")
    return ArrayType(tuple(t.shape[p] for p in perm), t.dtype)


_def("transpose", "linear", _transpose, _transpose_shape)


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


_def("slice", "linear", _slice, _slice_shape)


def _pad(x: Array, *, starts: Shape, limits: Shape, strides: Shape, shape: Shape) -> Array:
    out = np.zeros(shape, x.dtype)
    out[_slices(starts, limits, strides)] = x
    return out


def _pad_shape(t: ArrayType, *, starts: Shape, limits: Shape, strides: Shape, shape: Shape) -> ArrayType:
    inner = _slice_shape(ArrayType(tuple(shape), t.dtype), starts=starts, limits=limits, strides=strides)
    if inner.shape != t.shape:
        raise ShapeError(f"pad of {t} into {list(shape)}: the window has shape {list(inner.shape)}")
    return ArrayType(tuple(shape), t.dtype)


# pad is the transpose of slice: the slice's window is filled, the rest is zero
_def("pad", "linear", _pad, _pad_shape)


def _concatenate(*xs: Array, axis: int) -> Array:
    return np.concatenate(xs, axis=axis)


def _concatenate_shape(*ts: ArrayType, axis: int) -> ArrayType:
    first = ts[0]
    for t in ts[1:]:
        same_rank = t.ndim == first.ndim
        if not same_rank or any(a != b for i, (a, b) in enumerate(zip(t.shape, first.shape, strict=True))
                                if i != axis):
            raise ShapeError(f"cannot concatenate {first} and {t} along axis {axis}")
    shape = list(first.shape)
    shape[axis] = sum(t.shape[axis] for t in ts)
    return ArrayType(tuple(shape), np.result_type(*(t.dtype for t in ts)))


_def("concatenate", "linear", _concatenate, _concatenate_shape)


# -- indexing ------------------------------------------------------------------------------------

def _index_type(idx: ArrayType, what: str) -> None:
    if idx.dtype.kind not in "iu":
        raise ShapeError(f"{what} needs integer indices, got {idx}")


def _take(x: Array, idx: Array) -> Array:
    return x[idx]


def _take_shape(x: ArrayType, idx: ArrayType) -> ArrayType:
    _index_type(idx, "take")
    if x.ndim == 0:
        raise ShapeError("take needs an array with at least one axis")
    return ArrayType(idx.shape + x.shape[1:], x.dtype)


# gather rows x[idx] (axis 0), linear in x; its transpose is scatter_add
_def("take", "linear", _take, _take_shape)


def _scatter_add(g: Array, idx: Array, *, rows: int) -> Array:
    tail = g.shape[idx.ndim:]
    width = math.prod(tail)
    flat = g.reshape(-1, width)
    out = np.zeros((rows, width), g.dtype)
    np.add.at(out, idx.reshape(-1), flat)
    return out.reshape((rows, *tail))


def _scatter_add_shape(g: ArrayType, idx: ArrayType, *, rows: int) -> ArrayType:
    _index_type(idx, "scatter_add")
    if g.shape[: idx.ndim] != idx.shape:
        raise ShapeError(f"scatter_add of {g} at indices {idx}: leading axes differ")
    return ArrayType((rows, *g.shape[idx.ndim:]), g.dtype)


_def("scatter_add", "linear", _scatter_add, _scatter_add_shape)


def _one_hot(idx: Array, *, n: int, dtype: str) -> Array:
    return (idx[..., None] == np.arange(n)).astype(dtype)  # type: ignore[no-any-return]


def _one_hot_shape(idx: ArrayType, *, n: int, dtype: str) -> ArrayType:
    _index_type(idx, "one_hot")
    return ArrayType((*idx.shape, n), np.dtype(dtype))


_def("one_hot", "nondiff", _one_hot, _one_hot_shape)


def _checkpoint_name(x: Array, *, label: str) -> Array:
    return x


# the identity, labelled: checkpoint policies save or recompute values by these labels
_def("checkpoint_name", "linear", _checkpoint_name, lambda t, *, label: t)
