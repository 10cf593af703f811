"""Run-time values: numbers, indices (ordinals; a pair index is a pair), pairs, tables, closures,
references; and how to print a value at its type."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from typing import TypeAlias

from calculi.core.parsing import show_int
from calculi.dex.check import size
from calculi.dex.pretty import show_real as decimal
from calculi.dex.pretty import show_type
from calculi.dex.syntax import (
    BoolT,
    Enum,
    Expr,
    Fin,
    FunT,
    IntT,
    PairT,
    RealT,
    RefT,
    TableT,
    Type,
    UnitT,
)


@dataclass(frozen=True, slots=True)
class Table:
    """The entries of a table over ``index``, in ordinal order (row-major for pairs)."""

    index: Type
    elems: tuple[Value, ...]


@dataclass(frozen=True, slots=True)
class Label:
    """An index of an enumeration: its ordinal among ``labels``."""

    ordinal: int
    labels: tuple[str, ...]


@dataclass(slots=True, eq=False)
class Buffer:
    """A table inside a handler's cell, updated in place while the handler runs."""

    index: Type
    items: list[object]


@dataclass(frozen=True, slots=True, eq=False)
class Closure:
    param: str
    body: Expr
    env: dict[str, Value]


@dataclass(slots=True, eq=False)
class Cell:
    """What a handler's reference points at; tables inside are lists while it runs."""

    value: object


@dataclass(frozen=True, slots=True, eq=False)
class Ref:
    cell: Cell
    path: tuple[int, ...]


Value: TypeAlias = int | float | Fraction | bool | tuple["Value", ...] | Table | Label | Closure | Ref


def indices(ty: Type) -> Iterator[Value]:
    """The indices of an index set, in ordinal order."""
    if isinstance(ty, Fin):
        yield from range(ty.size)
    elif isinstance(ty, Enum):
        for k in range(len(ty.labels)):
            yield Label(k, ty.labels)
    else:
        assert isinstance(ty, PairT)
        for a in indices(ty.fst):
            for b in indices(ty.snd):
                yield (a, b)


def ordinal(index: Value, ty: Type) -> int:
    """The position of ``index`` in the index set ``ty``."""
    if isinstance(ty, PairT):
        assert isinstance(index, tuple)
        return ordinal(index[0], ty.fst) * size(ty.snd) + ordinal(index[1], ty.snd)
    if isinstance(index, Label):
        return index.ordinal
    assert isinstance(index, int)
    return index


def has_type(value: Value, ty: Type) -> bool:
    """``⊢ v : τ``: the value typing that preservation is stated with."""
    match ty:
        case RealT():
            return isinstance(value, Fraction | float)
        case IntT():
            return isinstance(value, int) and not isinstance(value, bool)
        case BoolT():
            return isinstance(value, bool)
        case UnitT():
            return value == ()
        case Fin(size=n):
            return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < n
        case Enum(labels=labels):
            return isinstance(value, Label) and value.labels == labels and 0 <= value.ordinal < len(labels)
        case PairT(fst=a, snd=b):
            return (isinstance(value, tuple) and len(value) == 2 and has_type(value[0], a)
                    and has_type(value[1], b))
        case TableT(index=n, elem=a):
            return (isinstance(value, Table) and value.index == n and len(value.elems) == size(n)
                    and all(has_type(v, a) for v in value.elems))
        case FunT():
            return isinstance(value, Closure)
        case RefT():
            return isinstance(value, Ref)
    return False


def show_real(value: object) -> str:
    if isinstance(value, Fraction):
        if value.denominator == 1:
            return show_int(value.numerator) + ".0"
        den = value.denominator
        for p in (2, 5):
            while den % p == 0:
                den //= p
        if den == 1 and value.denominator < 10**30:
            return decimal(value)
        return f"{value.numerator}/{value.denominator}"
    return repr(float(value))  # type: ignore[arg-type]


def show_value(value: Value, ty: Type) -> str:
    """A value as text: ``[1.0, 2.5]`` for a table, ``(a, b)``, ``2@Fin 3``, ``red@{red|blue}``."""
    out: list[str] = []
    _show(value, ty, out)
    return "".join(out)


def _show(value: Value, ty: Type, out: list[str]) -> None:
    match ty:
        case RealT():
            out.append(show_real(value))
        case IntT():
            assert isinstance(value, int)
            out.append(show_int(value))
        case BoolT():
            out.append("True" if value else "False")
        case UnitT():
            out.append("()")
        case Fin():
            out.append(f"{value}@Fin {ty.size}")
        case Enum(labels=labels):
            assert isinstance(value, Label)
            out.append(f"{labels[value.ordinal]}@{{{'|'.join(labels)}}}")
        case PairT(fst=a, snd=b):
            assert isinstance(value, tuple)
            out.append("(")
            _show(value[0], a, out)
            out.append(", ")
            _show(value[1], b, out)
            out.append(")")
        case TableT(elem=a):
            assert isinstance(value, Table)
            out.append("[")
            for k, v in enumerate(value.elems):
                if k:
                    out.append(", ")
                _show(v, a, out)
            out.append("]")
        case FunT() | RefT():
            out.append(f"<{'function' if isinstance(ty, FunT) else 'reference'} : {show_type(ty)}>")
        case _:
            out.append(repr(value))
