"""Rule coverage of the backend (``calculi.core.coverage``): the JVP rule of every array primitive a
user applies (``jvp:tanh``) and the transpose rule of every linear one (``transpose:reshapeL``),
declared under the calculus ``backend``.

A rule fires when J or T applies it, that is while a traced program is transformed: a compiled program
applies no rule, so calling a transformed function costs nothing more. ``instrument()`` wraps each row
of linear_ad's ``jvp_rules`` and ``transpose_rules`` keyed by a backend primitive so that applying it
fires its rule. It leaves wrapped rows alone, so it runs again wherever rows were replaced (a mutant's
patched row fires as the row it replaces). The paper's scalar primitives that the backend extends to
arrays (``add``, ``⊕``, ``sin`` …) fire only on arrays: Linear A's scalar programs are not the backend's.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, MutableMapping
from typing import Any

from backend.lprims import EXTENDED, KINDS
from backend.ltypes import ArrayT
from calculi.core import coverage
from calculi.linear_ad.primitives import jvp_rules, transpose_rules
from calculi.linear_ad.syntax import Primitive

__all__ = ["CALCULUS", "Firing", "instrument", "rule_names"]

CALCULUS = "backend"
Table = MutableMapping[Primitive, Any]


class Firing:
    """A row of a rule table that reports ``name`` to ``calculi.core.coverage`` each time it is applied.

    Rules of both tables take ``(operands, tangents or cotangent, types, params)``; ``arrays_only``
    fires only when a type at position 2 is an array."""

    __slots__ = ("arrays_only", "name", "rule")

    def __init__(self, name: str, rule: Callable[..., Any], arrays_only: bool) -> None:
        self.name, self.rule, self.arrays_only = name, rule, arrays_only

    def __call__(self, *args: Any) -> Any:
        if not self.arrays_only or any(isinstance(t, ArrayT) for t in args[2]):
            coverage.fired(CALCULUS, self.name)
        return self.rule(*args)


def _rows() -> Iterator[tuple[str, Table, Primitive]]:
    for kind, table in (("jvp", jvp_rules), ("transpose", transpose_rules)):
        for p in KINDS:
            if p in table:
                yield f"{kind}:{p.name}", table, p


def rule_names() -> tuple[str, ...]:
    """The backend's rules, JVP rules first, each in the order its primitive was defined."""
    return tuple(name for name, _, _ in _rows())


def instrument() -> tuple[str, ...]:
    """Wrap every row of the backend's primitives not yet wrapped, and declare the rules."""
    for name, table, p in _rows():
        rule = table[p]
        if not (isinstance(rule, Firing) and rule.name == name):
            table[p] = Firing(name, rule, p in EXTENDED)
    return coverage.declare(CALCULUS, rule_names())
