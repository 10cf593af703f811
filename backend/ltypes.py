"""Array types for Linear A, and constants that a traced program reads.

``ArrayType(shape, dtype)`` is the type of an array value as the shape rules of the primitives see
it (a NumPy dtype, printed ``f32[8,64]``).
``ArrayT(shape, dtype)`` is a ``calculi.linear_ad`` type written ``f32[8,64]`` (registered in
``TYPE_CONSTRUCTORS`` for f16/f32/f64/i32/i64/bool, so the calculus's parser reads it too). Its
weight in the cost model is its number of elements; its zero is ``np.zeros``; it is its own
tangent type.

A traced program names the arrays it did not get as arguments (captured weights, masks, the batch
of tokens) with the nullary primitive ``const[value=ConstRef]``. A ``ConstRef`` either holds an
array, or is a *feed*: slot ``k`` of the inputs a compiled program is called with, so one program
serves every batch.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from calculi.core.errors import TypeCheckError
from calculi.linear_ad.types import TYPE_CONSTRUCTORS, Type, TypeArg

SHORT = {"float16": "f16", "float32": "f32", "float64": "f64", "int32": "i32", "int64": "i64",
         "bool": "bool", "complex64": "c64", "complex128": "c128"}
LONG = {v: k for k, v in SHORT.items()}


@dataclass(frozen=True, slots=True)
class ArrayType:
    """The type of an array value: its shape and dtype, printed ``f32[8,64]``."""

    shape: tuple[int, ...]
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
        return f"{SHORT.get(self.dtype.name, self.dtype.name)}[{','.join(map(str, self.shape))}]"


@dataclass(frozen=True, slots=True)
class ArrayT(Type):
    """An array type: shape and dtype name."""

    shape: tuple[int, ...]
    dtype: str

    def size(self) -> int:
        return math.prod(self.shape)

    def zero(self, domain: Any) -> Any:
        return np.zeros(self.shape, self.dtype)

    def show(self, unicode: bool = True) -> str:
        return f"{SHORT.get(self.dtype, self.dtype)}[{','.join(map(str, self.shape))}]"

    @property
    def array_type(self) -> ArrayType:
        return ArrayType(self.shape, np.dtype(self.dtype))

    @staticmethod
    def of(t: ArrayType) -> ArrayT:
        return ArrayT(tuple(int(n) for n in t.shape), t.dtype.name)


def _constructor(dtype: str) -> Any:
    def make(args: Sequence[TypeArg]) -> Type:
        if not all(isinstance(a, int) and a >= 0 for a in args):
            raise TypeCheckError(f"{SHORT[dtype]}[…] takes sizes, got {list(args)}")
        return ArrayT(tuple(int(a) for a in args), dtype)

    return make


for _dtype in ("float16", "float32", "float64", "int32", "int64", "bool"):
    TYPE_CONSTRUCTORS[SHORT[_dtype]] = _constructor(_dtype)


class ConstRef:
    """A constant of a traced program: a fixed array, or feed slot ``slot`` of each call."""

    __slots__ = ("name", "slot", "type", "value")

    def __init__(self, type_: ArrayT, value: Any = None, slot: int | None = None, name: str = "c") -> None:
        self.type = type_
        self.value = value
        self.slot = slot
        self.name = name

    def __repr__(self) -> str:
        if self.slot is not None:
            return f"{self.name}{self.slot}"
        if self.value is not None and np.size(self.value) == 1:
            return repr(np.asarray(self.value).reshape(()).item())
        return f"{self.name}:{self.type}"

    def read(self, feeds: Sequence[Any] = ()) -> Any:
        if self.slot is not None:
            return feeds[self.slot]
        return self.value
