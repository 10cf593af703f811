"""Room for deep terms: the structural recursions of this package, made safe to 10⁴+ levels.

The typed algorithms (substitution, normalisation, stepping) recurse on the structure of terms:
that is how the foil's rank-2 continuations are written, and recursion is the fastest traversal
in CPython. From CPython 3.11 on, a call from Python code to Python code does not grow the C
stack, so the only limit is the interpreter's recursion counter. ``deep`` raises that counter for
the duration of one public operation (and puts it back), and turns a ``RecursionError`` (a term
deeper than even that) into a ``CalculusError`` with the term's span, so no input ends in a Python
traceback. Everything that is not a typed algorithm (equality, hashing, printing, parsing, free
names, de Bruijn conversion, α-equivalence) uses explicit stacks instead.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import ParamSpec, TypeVar

from calculi.core.errors import CalculusError

LIMIT = 400_000
"""Interpreter frames allowed during one operation: about 100,000 levels of nesting."""

P = ParamSpec("P")
R = TypeVar("R")


class TooDeep(CalculusError):
    kind = "too deep"


@contextmanager
def room() -> Iterator[None]:
    old = sys.getrecursionlimit()
    if old < LIMIT:
        sys.setrecursionlimit(LIMIT)
    try:
        yield
    except RecursionError:
        raise TooDeep(f"the term is nested too deeply (the limit is about {LIMIT // 4:,} levels)") from None
    finally:
        if old < LIMIT:
            sys.setrecursionlimit(old)


def deep(function: Callable[P, R]) -> Callable[P, R]:
    """Run ``function`` with room for deep recursion (see the module docstring)."""

    @wraps(function)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with room():
            return function(*args, **kwargs)

    return wrapper
