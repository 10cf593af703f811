"""``bind``: apply a primitive eagerly with NumPy, or hand it to the trace that owns a traced operand.

This is the one switch between running a model and tracing it (the JAX "bind" idea): a model written
with ``backend.numpy`` calls ``bind(name, *operands, **params)`` for every primitive. With plain
arrays it runs ``IMPLS[name]`` at once; when an operand is a ``Traced`` value, the trace records the
primitive in the program it is building and returns a new traced value.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

import numpy as np

import backend.contractions  # noqa: F401  (registers einsum, scans and convolutions)
from backend.primitives import IMPLS, SHAPES, Array, ArrayType
from calculi.core.errors import ShapeError


class Trace(ABC):
    """An interpretation of primitives on traced values (the tracer of ``backend.tracing``)."""

    @abstractmethod
    def process(self, name: str, operands: tuple[object, ...], params: dict[str, Any]) -> Traced: ...


class Traced:
    """A value standing for an array during tracing: its type and the trace that owns it.

    The operators delegate to ``backend.numpy``, so a model reads the same traced or not.
    """

    __slots__ = ("trace", "type")
    __array_priority__ = 1000  # so that ``ndarray + traced`` defers to ``Traced.__radd__``

    def __init__(self, trace: Trace, type_: ArrayType) -> None:
        self.trace = trace
        self.type = type_

    @property
    def shape(self) -> tuple[int, ...]:
        return self.type.shape

    @property
    def dtype(self) -> np.dtype[Any]:
        return self.type.dtype

    @property
    def ndim(self) -> int:
        return self.type.ndim

    @property
    def size(self) -> int:
        return self.type.size

    def __len__(self) -> int:
        if not self.shape:
            raise TypeError("len() of a 0-d traced array")
        return self.shape[0]

    def __bool__(self) -> bool:
        raise ShapeError("a traced array has no truth value (its value is unknown while tracing); "
                         "use bnp.where instead of if")

    def __array__(self, *args: object, **kwargs: object) -> Array:
        raise ShapeError("a traced array cannot be converted to a NumPy array while tracing; "
                         "use backend.numpy (bnp) functions instead of numpy ones")

    def __add__(self, other: object) -> Any:
        return _bnp().add(self, other)

    def __radd__(self, other: object) -> Any:
        return _bnp().add(other, self)

    def __sub__(self, other: object) -> Any:
        return _bnp().subtract(self, other)

    def __rsub__(self, other: object) -> Any:
        return _bnp().subtract(other, self)

    def __mul__(self, other: object) -> Any:
        return _bnp().multiply(self, other)

    def __rmul__(self, other: object) -> Any:
        return _bnp().multiply(other, self)

    def __truediv__(self, other: object) -> Any:
        return _bnp().divide(self, other)

    def __rtruediv__(self, other: object) -> Any:
        return _bnp().divide(other, self)

    def __neg__(self) -> Any:
        return _bnp().negative(self)

    def __pos__(self) -> Any:
        return self

    def __pow__(self, other: object) -> Any:
        return _bnp().power(self, other)

    def __rpow__(self, other: object) -> Any:
        return _bnp().power(other, self)

    def __matmul__(self, other: object) -> Any:
        return _bnp().matmul(self, other)

    def __rmatmul__(self, other: object) -> Any:
        return _bnp().matmul(other, self)

    def __gt__(self, other: object) -> Any:
        return _bnp().greater(self, other)

    def __lt__(self, other: object) -> Any:
        return _bnp().less(self, other)

    def __getitem__(self, index: object) -> Any:
        return _bnp().getitem(self, index)

    @property
    def T(self) -> Any:
        return _bnp().transpose(self)

    def reshape(self, *shape: Any) -> Any:
        return _bnp().reshape(self, shape[0] if len(shape) == 1 else shape)

    def sum(self, axis: Any = None, keepdims: bool = False) -> Any:
        return _bnp().sum(self, axis=axis, keepdims=keepdims)

    def mean(self, axis: Any = None, keepdims: bool = False) -> Any:
        return _bnp().mean(self, axis=axis, keepdims=keepdims)

    def astype(self, dtype: Any) -> Any:
        return _bnp().astype(self, dtype)

    def __repr__(self) -> str:
        return f"Traced({self.type})"


def _bnp() -> Any:
    import backend.numpy

    return backend.numpy


def is_traced(value: object) -> bool:
    return isinstance(value, Traced)


def bind(name: str, *operands: object, **params: Any) -> Any:
    """Apply primitive ``name``: through the owning trace if an operand is traced, else with NumPy."""
    for x in operands:
        if isinstance(x, Traced):
            return x.trace.process(name, operands, params)
    arrays = [np.asarray(x) for x in operands]
    try:
        return IMPLS[name](*arrays, **params)
    except (ValueError, IndexError, TypeError) as err:
        type_of(name, tuple(ArrayType.of(a) for a in arrays), params)  # names the shape problem
        raise ShapeError(f"{name}: {err}") from None


def type_of(name: str, operands: tuple[ArrayType, ...], params: dict[str, Any]) -> ArrayType:
    """The primitive's shape rule, with an unknown primitive reported as a ShapeError."""
    if name not in SHAPES:
        raise ShapeError(f"unknown array primitive {name!r}")
    return SHAPES[name](*operands, **params)
