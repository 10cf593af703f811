"""Types of Linear A: the scalar ℝ, tuples, and room for more (the backend adds arrays).

    τ, σ ::= ℝ | (τ1, …, τn) | …          the tangent type of τ is ``τ.tangent()`` (τ itself here)
    ρ    ::= (τ̄ ; σ̄)                      a mixed result: non-linear results ; linear results

A new kind of type is a frozen dataclass subclassing ``Type`` that implements ``size`` (its weight
in the cost model), ``zero`` (the value of ``0`` at this type), ``show`` (its concrete syntax) and,
when it has a concrete syntax of the form ``NAME[arg, …]``, an entry in ``TYPE_CONSTRUCTORS``
(for example ``f64[3,4]`` for the backend's arrays).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from calculi.core.errors import TypeCheckError


@dataclass(frozen=True, slots=True)
class Type(ABC):
    """Base of all types."""

    @abstractmethod
    def size(self) -> int:
        """|τ|: the number of scalars in a value of this type (the weight of its linear ops)."""

    @abstractmethod
    def zero(self, domain: Any) -> Any:
        """The value of ``0 : τ`` in the given scalar domain."""

    def tangent(self) -> Type:
        """The type of tangents (and cotangents) of values of this type."""
        return self

    @abstractmethod
    def show(self, unicode: bool = True) -> str:
        """The type in the calculus's syntax."""

    def __str__(self) -> str:
        return self.show(True)


@dataclass(frozen=True, slots=True)
class Real(Type):
    """ℝ (ASCII ``R``)."""

    def size(self) -> int:
        return 1

    def zero(self, domain: Any) -> Any:
        return domain.literal("0")

    def show(self, unicode: bool = True) -> str:
        return "ℝ" if unicode else "R"


REAL = Real()


@dataclass(frozen=True, slots=True)
class TupleType(Type):
    """(τ1, …, τn); a one-tuple prints as ``(τ,)``."""

    items: tuple[Type, ...]
    scalars: int = field(init=False, compare=False, repr=False)
    """|τ|, computed once: a tape's type holds its callees' tapes, so sizes nest as deep as calls."""
    nodes: int = field(init=False, compare=False, repr=False)
    """The number of types written out in ``show``: a tape's type shares its callees' tapes, and
    written out it can be exponentially larger than the program (a function calling another
    twice, that one calling a third twice, …)."""

    def __post_init__(self) -> None:
        scalars, nodes = tuple_sizes(self.items)
        object.__setattr__(self, "scalars", scalars)
        object.__setattr__(self, "nodes", nodes)

    def size(self) -> int:
        return self.scalars

    def zero(self, domain: Any) -> Any:
        return tuple(t.zero(domain) for t in self.items)

    def tangent(self) -> Type:
        return TupleType(tuple(t.tangent() for t in self.items))

    def show(self, unicode: bool = True) -> str:
        if self.nodes > SHOWN_NODES:
            return f"(… a tuple of {self.nodes:,} types, {self.scalars:,} scalars …)"
        inner = ", ".join(t.show(unicode) for t in self.items)
        return f"({inner},)" if len(self.items) == 1 else f"({inner})"


def tuple_sizes(items: tuple[Type, ...]) -> tuple[int, int]:
    """The ``scalars`` and ``nodes`` of a tuple of ``items``, in one loop (the checker builds a tape's
    type at every call)."""
    scalars, nodes = 0, 1
    for t in items:
        if t is REAL:
            scalars += 1
            nodes += 1
        elif type(t) is TupleType:
            scalars += t.scalars
            nodes += t.nodes
        else:
            scalars += t.size()
            nodes += t.nodes if isinstance(t, TupleType) else 1
    return scalars, nodes


SHOWN_NODES = 10_000
"""A tuple type written out with more types than this is summarised (it would not re-parse)."""


@dataclass(frozen=True, slots=True)
class Mixed:
    """A mixed result type (τ̄ ; σ̄)."""

    nonlin: tuple[Type, ...]
    lin: tuple[Type, ...]

    def show(self, unicode: bool = True) -> str:
        left = ", ".join(t.show(unicode) for t in self.nonlin)
        right = ", ".join(t.show(unicode) for t in self.lin)
        return f"({left} ; {right})" if left or right else "(;)"

    def __str__(self) -> str:
        return self.show(True)


TypeArg = int | str
TYPE_CONSTRUCTORS: dict[str, Callable[[Sequence[TypeArg]], Type]] = {}
"""Types written ``NAME[arg, …]``: the constructor gets the arguments (ints or names)."""


def tuple_size(types: Sequence[Type]) -> int:
    return sum(t.size() for t in types)


def expect_real(ty: Type, what: str) -> None:
    if ty != REAL:
        raise TypeCheckError(f"{what} must be ℝ, not {ty}")
