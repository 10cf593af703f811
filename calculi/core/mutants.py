"""Mutants: seeded bugs, each a small change to one rule, that the theorem suite must kill.

A calculus lists its mutants in ``mutants.py``; each patches one entry of a rule table (or one
module attribute) while it is active::

    MUTANTS = [Mutant("foil.no_delete", "foil", "no delete at binders",
                      lambda: patch(subst_module, "add_rename", buggy_add_rename))]
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, MutableMapping
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import TypeVar

K = TypeVar("K")
V = TypeVar("V")


@dataclass(frozen=True, slots=True)
class Mutant:
    id: str
    calculus: str
    description: str
    activate: Callable[[], AbstractContextManager[None]]
    theorems: str = ""
    """The id prefix of the theorems that hunt it; by default every theorem of its calculus."""


@contextmanager
def patch(owner: object, attribute: str, value: object) -> Iterator[None]:
    """Replace ``owner.attribute`` by ``value`` for the duration of the block."""
    old = getattr(owner, attribute)
    setattr(owner, attribute, value)
    try:
        yield
    finally:
        setattr(owner, attribute, old)


@contextmanager
def patch_entry(table: MutableMapping[K, V], key: K, value: V) -> Iterator[None]:
    """Replace ``table[key]`` (a rule-table entry) by ``value`` for the duration of the block."""
    present = key in table
    old = table.get(key)
    table[key] = value
    try:
        yield
    finally:
        if present:
            table[key] = old  # type: ignore[assignment]
        else:
            del table[key]
