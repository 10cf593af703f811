"""Room for deep terms: the structural recursions of this package, made safe to 10⁴+ levels.

The typed algorithms (substitution, normalisation, stepping) recurse on the structure of terms:
that is how the foil's rank-2 continuations are written, and recursion is the fastest traversal
in CPython. From CPython 3.11 on, a call from Python code to Python code does not grow the C
stack, so the only limit is the interpreter's recursion counter. ``deep`` raises that counter for
the duration of one public operation (and puts it back), and turns a ``RecursionError`` (a term
deeper than even that) into a ``CalculusError`` with the term's span, so no input ends in a Python
traceback; the error points at the first term among the operation's arguments. The parser refuses
input nested more deeply than ``calculi.foil.parse.MAX_NESTING`` (well within this room), so only a
result built by reduction can be this deep. Everything that is not a typed algorithm (equality,
hashing, printing, parsing, free names, de Bruijn conversion, α-equivalence) uses explicit stacks
instead.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import ParamSpec, TypeVar

from calculi.core.errors import CalculusError
from calculi.core.syntax import Node, Span

LIMIT = 400_000
"""Interpreter frames allowed during one operation: about 100,000 levels of nesting."""

P = ParamSpec("P")
R = TypeVar("R")


class TooDeep(CalculusError):
    kind = "too deep"


@contextmanager
def room(span: Span | None = None) -> Iterator[None]:
    old = sys.getrecursionlimit()
    if old < LIMIT:
        sys.setrecursionlimit(LIMIT)
    try:
        yield
    except RecursionError:
        raise TooDeep(f"nested too deeply (more than about {LIMIT // 4:,} levels); bind the inner parts "
                      "with let", span) from None
    finally:
        if old < LIMIT:
            sys.setrecursionlimit(old)


def deep(function: Callable[P, R]) -> Callable[P, R]:
    """Run ``function`` with room for deep recursion (see the module docstring)."""

    @wraps(function)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        spans = (a.span for a in (*args, *kwargs.values()) if isinstance(a, Node) and a.span is not None)
        with room(next(spans, None)):
            return function(*args, **kwargs)

    return wrapper
