"""Mutants: seeded bugs, each a small change to one rule, that the theorem suite must kill.

A calculus lists its mutants in ``mutants.py``; each patches one entry of a rule table (or one
module attribute) while it is active::

    MUTANTS = [Mutant("foil.no_delete", "foil", "no delete at binders",
                      lambda: patch(subst_module, "add_rename", buggy_add_rename))]
"""

from __future__ import annotations

import inspect
import textwrap
from collections.abc import Callable, Iterator, MutableMapping
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

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
    """Replace ``owner.attribute`` by ``value`` for the duration of the block. An attribute that
    ``owner`` inherits is deleted again afterwards, not set: a subclass must not keep a copy that
    would shadow a later patch of its base."""
    old = getattr(owner, attribute)
    own = attribute in getattr(owner, "__dict__", {attribute: old})
    setattr(owner, attribute, value)
    try:
        yield
    finally:
        if own:
            setattr(owner, attribute, old)
        else:
            delattr(owner, attribute)


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


def rewritten(function: Callable[..., Any], old: str, new: str) -> Callable[..., Any]:
    """``function`` compiled again from its source with the text ``old`` (found exactly once)
    replaced by ``new``, in its module's globals: a seeded bug inside a fast path's own lines."""
    source = textwrap.dedent(inspect.getsource(function))
    if source.count(old) != 1:
        raise ValueError(f"{function.__qualname__} does not hold {old!r} exactly once")
    scope: dict[str, Any] = {}
    exec(compile(source.replace(old, new), inspect.getfile(function), "exec"), function.__globals__, scope)
    return scope[function.__name__]  # type: ignore[no-any-return]


def patch_source(owner: object, attribute: str, old: str, new: str) -> AbstractContextManager[None]:
    """``patch`` with ``owner.attribute`` ``rewritten`` (its text ``old`` replaced by ``new``)."""
    return patch(owner, attribute, rewritten(getattr(owner, attribute), old, new))
