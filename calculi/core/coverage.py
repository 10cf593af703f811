"""Rule coverage, as PLT Redex has it: how many times each named rule fired over a run.

A calculus declares its rules once and reports each firing::

    RULES = coverage.declare("lambda_p", ["βv", "handle-return", ...])
    coverage.fired("lambda_p", "βv")

``fired`` costs one global read while nothing records. ``recording()`` counts firings for the
duration of a block; ``missing(counts, calculus)`` names the declared rules that never fired.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

__all__ = ["RULES", "active", "declare", "fired", "missing", "recording", "table"]

RULES: dict[str, tuple[str, ...]] = {}
"""The declared rules of each calculus, in declaration order."""

_COUNTS: Counter[tuple[str, str]] | None = None


def declare(calculus: str, rules: Iterable[str]) -> tuple[str, ...]:
    """Add ``rules`` to the rules of ``calculus`` (keeping order, dropping repeats)."""
    known = RULES.get(calculus, ())
    RULES[calculus] = known + tuple(r for r in dict.fromkeys(rules) if r not in known)
    return RULES[calculus]


def fired(calculus: str, rule: str, times: int = 1) -> None:
    """Record that ``rule`` of ``calculus`` fired (a no-op unless a ``recording`` is open)."""
    if _COUNTS is not None:
        _COUNTS[calculus, rule] += times


def active() -> bool:
    """Whether a recording is open (a hot path may count its rules only then)."""
    return _COUNTS is not None


@contextmanager
def recording() -> Iterator[Counter[tuple[str, str]]]:
    """Count every firing inside the block; nested recordings each see their own firings."""
    global _COUNTS
    outer = _COUNTS
    counts: Counter[tuple[str, str]] = Counter()
    _COUNTS = counts
    try:
        yield counts
    finally:
        _COUNTS = outer
        if outer is not None:
            outer.update(counts)


def missing(counts: Counter[tuple[str, str]], calculus: str) -> list[str]:
    """The declared rules of ``calculus`` that never fired in ``counts``."""
    return [r for r in RULES.get(calculus, ()) if counts[calculus, r] == 0]


def table(counts: Counter[tuple[str, str]], calculus: str) -> list[tuple[str, int]]:
    """``(rule, times fired)`` for every declared rule of ``calculus``, then any undeclared one."""
    declared = RULES.get(calculus, ())
    extra = sorted(r for c, r in counts if c == calculus and r not in declared)
    return [(r, counts[calculus, r]) for r in (*declared, *extra)]
