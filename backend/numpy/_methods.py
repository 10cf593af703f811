"""The array operators and methods of traced values, given to ``backend.dispatch.Traced`` by
``backend.numpy`` (the way JAX gives its tracers ``jax.numpy``'s methods): ``x + y``, ``x @ w``,
``x >= 0``, ``x[i]``, ``x.sum(axis)``, ``x.T``, ``x.at[i].set(v)`` … read as NumPy's.

A comparison with something that is not an array (``x == None``, ``x in [Ellipsis]``) is left to
Python (``NotImplemented``), so that a traced value can sit in lists that are searched.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

import numpy as np

from backend.dispatch import Traced
from backend.numpy import _indexing, _linalg, _rearrange, _reductions, _shapes, _ufuncs
from backend.numpy._core import astype, is_number

ARRAY_LIKE = (Traced, np.ndarray, np.generic, int, float, complex, bool, list, tuple)


def _binary(fn: Callable[[Any, Any], Any], reflected: bool = False,
            arithmetic: bool = False) -> Callable[[Any, Any], Any]:
    def op(self: Traced, other: object) -> Any:
        if not isinstance(other, ARRAY_LIKE):
            return NotImplemented
        out = fn(other, self) if reflected else fn(self, other)
        return _stays_weak(out, self, other) if arithmetic else out

    return op


def _unary(fn: Callable[[Any], Any]) -> Callable[[Any], Any]:
    return lambda self: _stays_weak(fn(self), self)


def _stays_weak(out: Any, *operands: object) -> Any:
    """Python's arithmetic on Python scalars gives a Python scalar: on the traced stand-ins of Python
    scalar arguments (``weak``) and Python numbers, an operator's result is weak too (``t * 3`` meeting
    an f32 array stays f32, as ``0.5 * 3`` would). A NumPy function's result is not (NumPy's is a
    NumPy scalar)."""
    if all(getattr(x, "weak", False) or is_number(x) for x in operands):
        with contextlib.suppress(AttributeError):
            out.weak = True
    return out


def _reshape(self: Traced, *shape: Any, order: str = "C") -> Any:
    return _shapes.reshape(self, shape[0] if len(shape) == 1 else shape, order=order)


def _transpose(self: Traced, *axes: Any) -> Any:
    if len(axes) == 1 and (axes[0] is None or isinstance(axes[0], tuple | list)):
        return _shapes.transpose(self, axes[0])
    return _shapes.transpose(self, axes or None)


def _astype(self: Traced, dtype: Any, copy: bool = True) -> Any:
    return astype(self, dtype)


def _ravel(self: Traced, order: str = "C") -> Any:
    return _shapes.ravel(self, order)


OPERATORS: dict[str, Any] = {
    "__add__": _binary(_ufuncs.add, False, True), "__radd__": _binary(_ufuncs.add, True, True),
    "__sub__": _binary(_ufuncs.subtract, False, True), "__rsub__": _binary(_ufuncs.subtract, True, True),
    "__mul__": _binary(_ufuncs.multiply, False, True), "__rmul__": _binary(_ufuncs.multiply, True, True),
    "__truediv__": _binary(_ufuncs.divide, False, True),
    "__rtruediv__": _binary(_ufuncs.divide, True, True),
    "__pow__": _binary(_ufuncs.power, False, True), "__rpow__": _binary(_ufuncs.power, True, True),
    "__matmul__": _binary(_linalg.matmul), "__rmatmul__": _binary(_linalg.matmul, True),
    "__gt__": _binary(_ufuncs.greater), "__lt__": _binary(_ufuncs.less),
    "__ge__": _binary(_ufuncs.greater_equal), "__le__": _binary(_ufuncs.less_equal),
    "__eq__": _binary(_ufuncs.equal), "__ne__": _binary(_ufuncs.not_equal),
    "__and__": _binary(_ufuncs.logical_and), "__rand__": _binary(_ufuncs.logical_and, True),
    "__or__": _binary(_ufuncs.logical_or), "__ror__": _binary(_ufuncs.logical_or, True),
    "__xor__": _binary(_ufuncs.logical_xor), "__rxor__": _binary(_ufuncs.logical_xor, True),
    "__neg__": _unary(_ufuncs.negative), "__pos__": _unary(_ufuncs.positive),
    "__abs__": _unary(_ufuncs.abs),
    "__invert__": _ufuncs.logical_not,  # &, |, ^, ~ are logical: on booleans, as in masks
    "__getitem__": _indexing.getitem,
}
"""Python's operators on traced values."""

METHODS: dict[str, Any] = {
    "sum": _reductions.sum, "mean": _reductions.mean, "prod": _reductions.prod, "var": _reductions.var,
    "std": _reductions.std, "max": _reductions.max, "min": _reductions.min, "any": _reductions.any,
    "all": _reductions.all, "argmax": _reductions.argmax, "argmin": _reductions.argmin,
    "argsort": _reductions.argsort, "cumsum": _reductions.cumsum,
    "reshape": _reshape, "transpose": _transpose, "astype": _astype, "ravel": _ravel, "flatten": _ravel,
    "squeeze": _shapes.squeeze, "swapaxes": _shapes.swapaxes, "repeat": _rearrange.repeat,
    "take": _indexing.take, "clip": _ufuncs.clip, "round": _ufuncs.round, "dot": _linalg.dot,
    "diagonal": _linalg.diagonal,  # (not .trace(): the attribute names the value's trace)
}
"""NumPy's array methods on traced values (each the function of the same name)."""

PROPERTIES: dict[str, Callable[[Any], Any]] = {
    "T": lambda self: _shapes.transpose(self),
    "mT": _shapes.matrix_transpose,
    "at": _indexing.At,
}


def attach(cls: type) -> None:
    """Give ``cls`` (``Traced``) the operators, methods and properties above."""
    for name, fn in {**OPERATORS, **METHODS}.items():
        setattr(cls, name, fn)
    for name, getter in PROPERTIES.items():
        setattr(cls, name, property(getter))
