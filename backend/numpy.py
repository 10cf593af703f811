"""NumPy-named array functions that run eagerly on arrays or trace into Linear A programs.

``import backend.numpy as bnp`` and write a model once: ``bnp.tanh(x @ w + b)`` runs NumPy at once on
arrays, and records primitives when ``backend.grad`` (or ``make_program``) traces it. Every function
reduces to primitives of ``backend.primitives`` through ``bind``; broadcasting is made explicit with
``broadcast`` so that its transpose (a sum) appears in the program. Python scalars take the dtype of
the array they meet (float32 stays float32). The neural-network helpers (activations, softmax,
``linear_scan``, ``conv1d``) live in ``backend.nn`` and are re-exported here.
"""

from __future__ import annotations

import builtins
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from backend import contractions
from backend.dispatch import Traced, bind, is_traced
from backend.primitives import ArrayType
from calculi.core.errors import ShapeError

float32 = np.float32
float64 = np.float64
int32 = np.int32
int64 = np.int64
pi = math.pi
newaxis = None
ndarray = np.ndarray

asarray = np.asarray
array = np.array
zeros = np.zeros
ones = np.ones
full = np.full
arange = np.arange
empty = np.empty


def _type(x: object) -> ArrayType:
    return x.type if isinstance(x, Traced) else ArrayType.of(x)


def shape(x: object) -> tuple[int, ...]:
    return _type(x).shape


def dtype_of(x: object) -> np.dtype[Any]:
    return _type(x).dtype


def _lift(x: object, like: object) -> object:
    """A Python scalar takes the dtype of the array it meets (weak typing), also when it is a traced
    argument (``weak``): ``f32 * 0.5`` stays f32."""
    if isinstance(x, (int, float)) and not isinstance(x, bool):
        dtype = _type(like).dtype
        return np.asarray(x, dtype if dtype.kind in "fc" else np.result_type(dtype, type(x)))
    if getattr(x, "weak", False) and not getattr(like, "weak", False):
        have, dtype = _type(x).dtype, _type(like).dtype
        want = dtype if dtype.kind in "fc" or have.kind not in "fc" else np.result_type(dtype, have)
        return x if want == have else bind("convert", x, dtype=want.name)
    return x


def _broadcast_pair(x: object, y: object) -> tuple[object, object]:
    x, y = _lift(x, y), _lift(y, x)
    tx, ty = _type(x), _type(y)
    try:
        out = np.broadcast_shapes(tx.shape, ty.shape)
    except ValueError:
        raise ShapeError(f"operands of shapes {tx} and {ty} do not broadcast") from None
    dtype = np.result_type(tx.dtype, ty.dtype)
    return _fit(x, out, dtype), _fit(y, out, dtype)


def _fit(x: object, shape_: tuple[int, ...], dtype: np.dtype[Any]) -> object:
    if not is_traced(x):
        constant = np.asarray(x, dtype)
        return constant if constant.shape == shape_ else np.broadcast_to(constant, shape_)
    t = _type(x)
    if t.dtype != dtype:
        x = bind("convert", x, dtype=dtype.name)
    return x if t.shape == shape_ else bind("broadcast", x, shape=tuple(shape_))


def _binary(name: str, x: object, y: object) -> Any:
    if not (is_traced(x) or is_traced(y)):
        return bind(name, _lift(x, y), _lift(y, x))
    return bind(name, *_broadcast_pair(x, y))


def add(x: object, y: object) -> Any:
    return _binary("add", x, y)


def subtract(x: object, y: object) -> Any:
    return _binary("sub", x, y)


def multiply(x: object, y: object) -> Any:
    return _binary("mul", x, y)


def divide(x: object, y: object) -> Any:
    return _binary("div", x, y)


def maximum(x: object, y: object) -> Any:
    return _binary("maximum", x, y)


def minimum(x: object, y: object) -> Any:
    return negative(maximum(negative(x), negative(y)))


def greater(x: object, y: object) -> Any:
    return _binary("greater", x, y)


def less(x: object, y: object) -> Any:
    return _binary("less", x, y)


def equal(x: object, y: object) -> Any:
    return _binary("equal", x, y)


def power(x: object, y: object) -> Any:
    if isinstance(y, int) and not isinstance(y, bool):
        return bind("integer_pow", x, y=y)
    return _binary("pow", x, y)


def square(x: object) -> Any:
    return bind("integer_pow", x, y=2)


def negative(x: object) -> Any:
    return bind("neg", x)


def exp(x: object) -> Any:
    return bind("exp", x)


def log(x: object) -> Any:
    return bind("log", x)


def sin(x: object) -> Any:
    return bind("sin", x)


def cos(x: object) -> Any:
    return bind("cos", x)


def tanh(x: object) -> Any:
    return bind("tanh", x)


def sqrt(x: object) -> Any:
    return bind("sqrt", x)


def rsqrt(x: object) -> Any:
    """``1/√x``."""
    return bind("rsqrt", x)


def checkpoint_name(x: object, name: str) -> Any:
    """``x``, labelled ``name`` for checkpoint policies (``backend.policies.save_only_these_names``)."""
    return bind("checkpoint_name", x, label=name)


def stop_gradient(x: object) -> Any:
    return bind("stop_gradient", x)


def astype(x: object, dtype: Any) -> Any:
    if _type(x).dtype == np.dtype(dtype):
        return x
    return bind("convert", x, dtype=np.dtype(dtype).name)


def where(mask: object, x: object, y: object) -> Any:
    """Select ``x`` where the (constant) mask holds, else ``y``."""
    if not (is_traced(x) or is_traced(y)):
        return np.where(np.asarray(mask), np.asarray(x), np.asarray(y))
    x, y = _broadcast_pair(x, y)
    out = _type(x).shape
    m = np.asarray(mask) if not is_traced(mask) else mask
    if _type(m).shape != out:
        m = _fit(m, out, np.dtype(bool))
    return bind("select", m, x, y)


# -- reductions and shapes -------------------------------------------------------------------------

def _axes(axis: int | Sequence[int] | None, ndim: int) -> tuple[int, ...]:
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    for a in axes:
        if not -ndim <= a < ndim:
            raise ShapeError(f"axis {a} out of range for an array of rank {ndim}")
    return tuple(sorted(a % ndim for a in axes))


def _keep(y: Any, t: ArrayType, axes: tuple[int, ...]) -> Any:
    return reshape(y, tuple(1 if i in axes else n for i, n in enumerate(t.shape)))


def sum(x: object, axis: int | Sequence[int] | None = None, keepdims: bool = False) -> Any:
    t = _type(x)
    axes = _axes(axis, t.ndim)
    y = bind("reduce_sum", x, axes=axes)
    return _keep(y, t, axes) if keepdims else y


def mean(x: object, axis: int | Sequence[int] | None = None, keepdims: bool = False) -> Any:
    t = _type(x)
    count = math.prod(t.shape[a] for a in _axes(axis, t.ndim))
    return multiply(sum(x, axis, keepdims), 1.0 / count)


def max(x: object, axis: int | Sequence[int] | None = None, keepdims: bool = False) -> Any:
    t = _type(x)
    axes = _axes(axis, t.ndim)
    y = bind("reduce_max", x, axes=axes)
    return _keep(y, t, axes) if keepdims else y


def reshape(x: object, newshape: int | Sequence[int]) -> Any:
    t = _type(x)
    dims = [newshape] if isinstance(newshape, int) else list(newshape)
    if dims.count(-1) > 1:
        raise ShapeError(f"reshape to {dims}: at most one -1")
    if -1 in dims:
        known = math.prod(d for d in dims if d != -1)
        dims[dims.index(-1)] = t.size // known if known else 0
    target = tuple(int(d) for d in dims)
    return x if target == t.shape and is_traced(x) else bind("reshape", x, shape=target)


def transpose(x: object, axes: Sequence[int] | None = None) -> Any:
    n = _type(x).ndim
    perm = tuple(reversed(range(n))) if axes is None else tuple(a % n for a in axes)
    return bind("transpose", x, perm=perm)


def swapaxes(x: object, a: int, b: int) -> Any:
    perm = list(range(_type(x).ndim))
    perm[a], perm[b] = perm[b], perm[a]
    return transpose(x, perm)


def expand_dims(x: object, axis: int) -> Any:
    t = _type(x)
    axis = axis % (t.ndim + 1)
    return reshape(x, (*t.shape[:axis], 1, *t.shape[axis:]))


def broadcast_to(x: object, shape_: Sequence[int]) -> Any:
    return bind("broadcast", x, shape=tuple(shape_))


def concatenate(xs: Sequence[object], axis: int = 0) -> Any:
    dtype = np.result_type(*(_type(x).dtype for x in xs))
    xs = [astype(x, dtype) for x in xs]
    return bind("concatenate", *xs, axis=axis % _type(xs[0]).ndim)


def stack(xs: Sequence[object], axis: int = 0) -> Any:
    return concatenate([expand_dims(x, axis) for x in xs], axis)


def cumsum(x: object, axis: int = 0, reverse: bool = False) -> Any:
    return bind("cumsum", x, axis=axis % _type(x).ndim, reverse=reverse)


def take(x: object, indices: object, axis: int = 0) -> Any:
    """Rows ``x[indices]`` (gather along axis 0)."""
    if axis != 0:
        raise ShapeError("take gathers along axis 0 only (move the axis first)")
    return bind("take", x, np.asarray(indices) if not is_traced(indices) else indices)


def one_hot(indices: object, n: int, dtype: Any = np.float32) -> Any:
    return bind("one_hot", indices, n=n, dtype=np.dtype(dtype).name)


def getitem(x: object, index: object) -> Any:
    """Basic indexing (ints, slices with positive steps, None, ...) as slice and reshape primitives;
    an integer array on axis 0 is a ``take``."""
    if not is_traced(x):
        return np.asarray(x)[index]  # type: ignore[call-overload]
    t = _type(x)
    if isinstance(index, (np.ndarray, list)) or is_traced(index):
        return take(x, index)
    items = list(index) if isinstance(index, tuple) else [index]
    if items.count(Ellipsis) > 1:
        raise ShapeError("an index can have only one '...'")
    used = len([i for i in items if i is not None and i is not Ellipsis])
    if used > t.ndim:
        raise ShapeError(f"too many indices for {t}")
    if Ellipsis in items:
        at = items.index(Ellipsis)
        items[at : at + 1] = [slice(None)] * (t.ndim - used)
    else:
        items += [slice(None)] * (t.ndim - used)
    starts: list[int] = []
    limits: list[int] = []
    strides: list[int] = []
    out_shape: list[int] = []
    axis = 0
    for item in items:
        if item is None:
            out_shape.append(1)
            continue
        n = t.shape[axis]
        if isinstance(item, (int, np.integer)):
            i = int(item) + n if item < 0 else int(item)
            if not 0 <= i < n:
                raise ShapeError(f"index {item} out of range for an axis of length {n} in {t}")
            starts.append(i)
            limits.append(i + 1)
            strides.append(1)
        elif isinstance(item, slice):
            a, b, s = item.indices(n)
            if s < 1:
                raise ShapeError("negative slice steps are not supported on traced arrays")
            b = builtins.max(a, b)
            starts.append(a)
            limits.append(b)
            strides.append(s)
            out_shape.append(len(range(a, b, s)))
        else:
            raise ShapeError(f"unsupported index {item!r} on a traced array")
        axis += 1
    y = x
    if (tuple(starts), tuple(limits)) != ((0,) * t.ndim, t.shape) or any(s != 1 for s in strides):
        y = bind("slice", x, starts=tuple(starts), limits=tuple(limits), strides=tuple(strides))
    return reshape(y, tuple(out_shape))


# -- contractions ----------------------------------------------------------------------------------

def einsum(spec: str, *operands: object) -> Any:
    """``einsum`` with explicit output (``"btd,de->bte"``); more than two operands are contracted
    pairwise in the order ``contractions.pairwise`` picks for their shapes."""
    spec = spec.replace(" ", "")
    if not operands:
        raise ShapeError(f"einsum {spec!r} needs at least one operand")
    if len(operands) == 1:
        return bind("einsum", *operands, spec=spec)
    dtype = np.result_type(*(_type(x).dtype for x in operands))
    live = [astype(x, dtype) for x in operands]
    if len(live) == 2:
        return bind("einsum", *live, spec=spec)
    for i, j, step in contractions.pairwise(spec, tuple(_type(x).shape for x in live)):
        pair = bind("einsum", live[i], live[j], spec=step)
        live = [x for k, x in enumerate(live) if k not in (i, j)] + [pair]
    return live[0]


def matmul(x: object, y: object) -> Any:
    tx, ty = _type(x), _type(y)
    if tx.ndim < 1 or ty.ndim < 1:
        raise ShapeError("matmul needs arrays of rank at least 1")
    letters = "abcdefghijklmnopqrstuvw"
    if ty.ndim == 1:
        lx = letters[: tx.ndim]
        return einsum(f"{lx},{lx[-1]}->{lx[:-1]}", x, y)
    if ty.ndim == 2:
        lx = letters[: tx.ndim - 1] + "y"
        return einsum(f"{lx},yz->{lx[:-1]}z", x, y)
    if tx.ndim != ty.ndim:
        raise ShapeError(f"batched matmul of {tx} and {ty} needs equal ranks")
    batch = letters[: tx.ndim - 2]
    return einsum(f"{batch}xy,{batch}yz->{batch}xz", x, y)


dot = matmul


# -- neural-network helpers: defined in backend.nn (which imports this module, hence last) --------
from backend.nn import conv1d as conv1d  # noqa: E402
from backend.nn import gelu as gelu  # noqa: E402
from backend.nn import linear_scan as linear_scan  # noqa: E402
from backend.nn import log_softmax as log_softmax  # noqa: E402
from backend.nn import logistic as logistic  # noqa: E402
from backend.nn import logsumexp as logsumexp  # noqa: E402
from backend.nn import sigmoid as sigmoid  # noqa: E402
from backend.nn import softmax as softmax  # noqa: E402
from backend.nn import softplus as softplus  # noqa: E402
