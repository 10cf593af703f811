"""Step traces with rule names, and fuel: the bound that turns divergence into an error."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Generic, TypeVar

from calculi.core.errors import FuelExhausted
from calculi.core.syntax import Span

T = TypeVar("T")

DEFAULT_FUEL = 1_000_000


@dataclass(frozen=True, slots=True)
class Step(Generic[T]):
    """One reduction step: the name of the rule that fired (as in the paper) and the new term."""

    rule: str
    term: T


class Fuel:
    """A counter of remaining steps; ``tick`` raises ``FuelExhausted`` when it runs out."""

    __slots__ = ("limit", "used")

    def __init__(self, limit: int = DEFAULT_FUEL) -> None:
        self.limit = limit
        self.used = 0

    def tick(self, span: Span | None = None, amount: int = 1) -> None:
        self.used += amount
        if self.used > self.limit:
            raise FuelExhausted(
                f"no result after {self.limit:,} steps (the program may diverge; "
                "raise the limit with ':set fuel N' or --fuel N)",
                span,
            )

    @property
    def remaining(self) -> int:
        return max(0, self.limit - self.used)


def run_steps(
    step: Callable[[T], Step[T] | None], term: T, fuel: Fuel, span: Callable[[T], Span | None]
) -> Iterator[Step[T]]:
    """Iterate ``step`` from ``term`` until it returns ``None`` (a normal form), spending fuel."""
    while (nxt := step(term)) is not None:
        fuel.tick(span(term))
        yield nxt
        term = nxt.term
