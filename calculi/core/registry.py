"""The protocol every calculus implements for the REPL and the command lines.

A calculus registers itself in ``CALCULI`` (name → module and one-line summary; imported lazily)
and its ``commands`` module defines ``Session``: one REPL session's state (definitions, settings,
the term being stepped) plus the calculus's own commands. The REPL supplies the common commands
(``:help``, ``:quit``, ``:load``, ``:type``, ``:step``, ``:trace``, ``:set``) on top.
"""

from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Generic, TypeVar

from calculi.core.errors import CalculusError, UsageError
from calculi.core.syntax import Source
from calculi.core.trace import DEFAULT_FUEL, Fuel, Step

T = TypeVar("T")

CALCULI: Mapping[str, tuple[str, str]] = {
    "foil": ("calculi.foil.commands", "untyped λ-calculus on scope-safe names (the foil)"),
    "lambda_p": ("calculi.lambda_p.commands", "λp: parallel algebraic effect handlers"),
    "linear_ad": ("calculi.linear_ad.commands", "Linear A: JVP, unzip, transpose, reverse mode"),
    "redistribution": (
        "calculi.redistribution.commands",
        "distributed array types and typed collectives",
    ),
    "partir": ("calculi.partir.commands", "PartIR: tactics, propagation, SPMD lowering, automap"),
    "dex": ("calculi.dex.commands", "Dex: index sets, pointful tables, typed effects"),
}


@dataclass(frozen=True, slots=True)
class Command:
    """A REPL command ``:name ARGS``; ``run`` gets the argument text and returns what to print."""

    name: str
    usage: str
    help: str
    run: Callable[[str], str | Iterator[str]]


class Session(ABC, Generic[T]):
    """One session of a calculus: how to parse, show, evaluate and step its terms."""

    name: str = ""
    prompt: str = "> "

    def __init__(self) -> None:
        self.fuel_limit = DEFAULT_FUEL
        self.stepping: T | None = None

    # -- what each calculus provides -------------------------------------------------------

    @abstractmethod
    def parse(self, source: Source) -> T:
        """Parse (and check well-formedness of) one input."""

    @abstractmethod
    def show(self, term: T) -> str:
        """Print a term in the calculus's concrete syntax."""

    @abstractmethod
    def evaluate(self, term: T, fuel: Fuel) -> str:
        """Run a term to its result and return the result as text."""

    def step(self, term: T) -> Step[T] | None:
        """One step of the paper's small-step semantics, or ``None`` at a final term."""
        raise UsageError(f"{self.name} has no small-step semantics")

    def type_of(self, term: T) -> str:
        raise UsageError(f"{self.name} has no type system")

    def commands(self) -> Mapping[str, Command]:
        """The calculus's own commands, by name (without the colon)."""
        return {}

    def names(self) -> Iterable[str]:
        """The names in scope (definitions, the prelude's): what tab completion offers."""
        return ()

    def incomplete(self, text: str) -> bool:
        """Whether a terminal line should continue rather than run: an unclosed bracket."""
        return sum(text.count(c) for c in "([{") > sum(text.count(c) for c in ")]}")

    def settings(self) -> Mapping[str, Callable[[str], str]]:
        """Extra ``:set NAME VALUE`` settings of this calculus."""
        return {}

    def input(self, source: Source) -> str:
        """Handle a line that is not a command: by default, parse and evaluate it."""
        return self.evaluate(self.parse(source), Fuel(self.fuel_limit))

    def load(self, source: Source) -> Iterator[str]:
        """Handle a whole file: by default, each non-blank, non-comment line is an input."""
        for lineno, text in enumerate(source.text.splitlines(), start=1):
            if text.strip() and not text.lstrip().startswith(("--", "#")):
                padded = "\n" * (lineno - 1) + text
                yield self.input(Source(padded, source.filename))

    # -- stepping, shared by every calculus ----------------------------------------------------

    def step_once(self, source: Source | None) -> str:
        """``:step TERM`` starts stepping TERM; ``:step`` alone takes the next step."""
        if source is not None:
            self.stepping = self.parse(source)
            return self.show(self.stepping)
        if self.stepping is None:
            raise UsageError("nothing to step: give a term, ':step TERM'")
        nxt = self.step(self.stepping)
        if nxt is None:
            return "(final: no rule applies)"
        self.stepping = nxt.term
        return f"--> [{nxt.rule}] {self.show(nxt.term)}"

    def trace(self, source: Source) -> Iterator[str]:
        """Every step from the term to its final form, each labelled with its rule."""
        term = self.parse(source)
        yield self.show(term)
        fuel = Fuel(self.fuel_limit)
        while (nxt := self.step(term)) is not None:
            fuel.tick()
            term = nxt.term
            yield f"--> [{nxt.rule}] {self.show(term)}"


def calculus_names() -> list[str]:
    return sorted(CALCULI)


def open_session(name: str) -> Session[object]:
    """A fresh session of the calculus called ``name``."""
    if name not in CALCULI:
        raise UsageError(f"unknown calculus {name!r}; available: {', '.join(calculus_names())}")
    module = importlib.import_module(CALCULI[name][0])
    session: Session[object] = module.Session()
    return session


__all__ = ["CALCULI", "CalculusError", "Command", "Session", "calculus_names", "open_session"]
