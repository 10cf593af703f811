"""What every function of ``backend.numpy`` needs: the type of an operand (an array, a Python number
or a traced value), NumPy's promotion of Python scalars (weak typing), explicit broadcasting, and
NumPy's reading of ``axis`` arguments.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Sequence
from typing import Any, TypeGuard

import numpy as np

from backend.dispatch import Traced, bind, is_traced
from backend.ltypes import ArrayType
from backend.primitives import convert_p, stop_gradient_p
from backend.structural import broadcast_p
from calculi.core.errors import ShapeError

Axis = int | Sequence[int] | None
DType = Any


def typeof(x: object) -> ArrayType:
    return x.type if isinstance(x, Traced) else ArrayType.of(x)


def shape(a: object) -> tuple[int, ...]:
    return typeof(a).shape


def ndim(a: object) -> int:
    return typeof(a).ndim


def size(a: object, axis: int | None = None) -> int:
    t = typeof(a)
    return t.size if axis is None else t.shape[axis_index(axis, t.ndim)]


def dtype_of(x: object) -> np.dtype[Any]:
    return typeof(x).dtype


def is_number(x: object) -> TypeGuard[int | float]:
    """A Python ``int`` or ``float`` (not ``bool``, nor a NumPy scalar such as ``np.float64``, whose
    dtype counts as an array's does): a weakly typed scalar."""
    return isinstance(x, int | float) and not isinstance(x, bool | np.generic)


def lift(x: object, like: object) -> object:
    """A Python scalar takes the dtype of the array it meets (weak typing), also when it is a traced
    argument (``weak``): ``f32 * 0.5`` stays f32."""
    if is_number(x):
        dtype = typeof(like).dtype
        return np.asarray(x, dtype if dtype.kind in "fc" else np.result_type(dtype, x))
    if getattr(x, "weak", False) and not getattr(like, "weak", False):
        have, dtype = typeof(x).dtype, typeof(like).dtype
        want = dtype if dtype.kind in "fc" or have.kind not in "fc" else np.result_type(dtype, have)
        return x if want == have else bind(convert_p, x, dtype=want.name)
    return x


def astype(x: object, dtype: DType) -> Any:
    """``x`` as ``dtype``; a conversion to an integer or boolean dtype has a zero derivative (as in
    JAX), so no tangent is truncated on the way."""
    want = np.dtype(dtype)
    t = typeof(x)
    if not is_traced(x):
        return np.asarray(x).astype(want)
    if t.dtype == want:
        return x
    if want.kind not in "fc" and t.dtype.kind in "fc":
        x = bind(stop_gradient_p, x)
    return bind(convert_p, x, dtype=want.name)


def fit(x: object, shape_: tuple[int, ...], dtype: np.dtype[Any]) -> Any:
    """``x`` broadcast to ``shape_`` and converted to ``dtype`` (a constant stays a NumPy array)."""
    if not is_traced(x):
        constant = np.asarray(x, dtype)
        return constant if constant.shape == shape_ else np.broadcast_to(constant, shape_)
    x = astype(x, dtype)
    return x if typeof(x).shape == shape_ else bind(broadcast_p, x, shape=tuple(shape_))


def broadcast_shapes(*xs: object) -> tuple[int, ...]:
    types = [typeof(x) for x in xs]
    try:
        return tuple(np.broadcast_shapes(*(t.shape for t in types)))
    except ValueError:
        raise ShapeError(f"operands of shapes {', '.join(map(str, types))} do not broadcast") from None


@functools.lru_cache(maxsize=1024)
def loop_dtypes(ufunc: np.ufunc, dtypes: tuple[np.dtype[Any], ...]) -> tuple[np.dtype[Any], ...]:
    """The dtypes NumPy's ``ufunc`` computes in for operands of ``dtypes`` (``int / int`` in float64)."""
    try:
        return tuple(ufunc.resolve_dtypes((*dtypes, None))[: len(dtypes)])
    except TypeError:
        common = np.result_type(*dtypes)
        return (common,) * len(dtypes)


def operands(ufunc: np.ufunc, *xs: object) -> list[Any]:
    """The operands of an elementwise function as its primitive takes them: Python scalars typed
    weakly, all of one shape (broadcast explicitly, so that the transpose sums) and of the dtypes
    NumPy's ``ufunc`` would compute in."""
    strong = [x for x in xs if not is_number(x) and not getattr(x, "weak", False)]
    anchor = strong[0] if strong else next((x for x in xs if not is_number(x)), xs[0])
    lifted = [x if x is anchor else lift(x, anchor) for x in xs]
    dtypes = loop_dtypes(ufunc, tuple(typeof(x).dtype for x in lifted))
    out = broadcast_shapes(*lifted)
    if not any(is_traced(x) for x in lifted):
        return [np.asarray(x, d) for x, d in zip(lifted, dtypes, strict=True)]
    return [fit(x, out, d) for x, d in zip(lifted, dtypes, strict=True)]


def axis_index(axis: int, ndim: int) -> int:
    """A NumPy axis (negative from the end) as a non-negative index."""
    try:
        a = operator.index(axis)
    except TypeError:
        raise ShapeError(f"an axis must be an integer, got {axis!r}") from None
    if not -ndim <= a < ndim:
        raise ShapeError(f"axis {axis} is out of bounds for an array of dimension {ndim}")
    return a % ndim if ndim else 0


def axes_of(axis: Axis, ndim: int) -> tuple[int, ...]:
    """NumPy's ``axis`` argument of a reduction: None for all axes, an int, or a tuple; sorted."""
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if not isinstance(axis, Sequence) else tuple(axis)
    out = [axis_index(a, ndim) for a in axes]
    if len(set(out)) != len(out):
        raise ShapeError(f"duplicate value in 'axis': {axis}")
    return tuple(sorted(out))


def no_out(out: object) -> None:
    if out is not None:
        raise ShapeError("out= is not supported: backend.numpy functions return new arrays")
