"""``bind``: apply a primitive eagerly with NumPy, or hand it to the trace that owns a traced operand.

This is the one switch between running a model and tracing it (the JAX "bind" idea): a model written
with ``backend.numpy`` calls ``bind(p, *operands, **params)`` for every primitive object ``p``. With
plain arrays it runs ``IMPLS[p]`` at once; when an operand is a ``Traced`` value, the trace records
the primitive in the program it is building and returns a new traced value.

``Traced`` knows its type and its trace only; ``backend.numpy`` gives it the array operators and
methods (``x + y``, ``x.sum()``, ``x.T``, ``x.at[i].set(v)`` …) when it is imported, so that this
module imports nothing above the primitives.
"""

from __future__ import annotations

import itertools
from abc import ABC, abstractmethod
from collections.abc import Iterator
from typing import Any

import numpy as np

from backend.lprims import IMPLS, Array, type_of
from backend.ltypes import ArrayType
from calculi.core.errors import ShapeError
from calculi.linear_ad.syntax import Primitive

__all__ = ["Trace", "Traced", "bind", "is_traced", "type_of"]


_LEVELS = itertools.count(1)


class Trace(ABC):
    """An interpretation of primitives on traced values (the tracer of ``backend.tracing``).

    ``level`` orders nested traces: a trace begun while another is recording (a transformation called
    inside a transformed function) has the higher level, and a primitive with operands of both goes
    to it, the outer value entering as a constant of the inner trace."""

    level: int = 0

    def begin(self) -> None:
        self.level = next(_LEVELS)

    @abstractmethod
    def process(self, prim: Primitive, operands: tuple[object, ...], params: dict[str, Any]) -> Traced: ...


class Traced:
    """A value standing for an array during tracing: its type and the trace that owns it."""

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

    def __iter__(self) -> Iterator[Any]:
        if not self.shape:
            raise TypeError("iteration over a 0-d traced array")
        return (self[i] for i in range(self.shape[0]))  # type: ignore[index]

    def __bool__(self) -> bool:
        raise ShapeError("a traced array has no truth value (its value is unknown while tracing); "
                         "use bnp.where instead of if")

    def __float__(self) -> float:
        raise ShapeError("a traced array has no Python value while tracing (float() of it); keep it an "
                         "array, or pass the number as a static argument")

    def __int__(self) -> int:
        raise ShapeError("a traced array has no Python value while tracing (int() of it); keep it an "
                         "array, or pass the number as a static argument")

    def __array__(self, *args: object, **kwargs: object) -> Array:
        raise ShapeError("a traced array cannot be converted to a NumPy array while tracing; "
                         "use backend.numpy (bnp) functions instead of numpy ones")

    def __repr__(self) -> str:
        return f"Traced({self.type})"


def is_traced(value: object) -> bool:
    return isinstance(value, Traced)


def bind(prim: Primitive, *operands: object, **params: Any) -> Any:
    """Apply ``prim``: through the innermost trace that owns an operand, else with NumPy."""
    owner: Trace | None = None
    for x in operands:
        if isinstance(x, Traced) and (owner is None or x.trace.level > owner.level):
            owner = x.trace
    if owner is not None:
        return owner.process(prim, operands, params)
    arrays = [np.asarray(x) for x in operands]
    impl = IMPLS.get(prim)
    if impl is None:
        raise ShapeError(f"{prim.name} is not an array primitive")
    try:
        return impl(*arrays, **params)
    except (ValueError, IndexError, TypeError) as err:
        type_of(prim, tuple(ArrayType.of(a) for a in arrays), params)  # names the shape problem
        raise ShapeError(f"{prim.name}: {err}") from None
