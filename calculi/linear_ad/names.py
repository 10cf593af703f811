"""Names of Linear A programs come from calculi.foil: a binder is fresh for the current scope.

Passes that build programs keep an output ``Scope`` and draw every new binder from it with
``with_fresh``; the AST stores the raw identifier and a hint used only for printing.
"""

from __future__ import annotations

import unicodedata
from typing import Any, TypeVar

from calculi.foil.core import (
    DExt,
    NameBinder,
    Scope,
    empty_scope,
    extend_scope,
    fresh_id,
    raw,
    unsafe_binder,
    unsafe_scope,
    with_fresh,
)
from calculi.linear_ad.syntax import Binder

N = TypeVar("N")
L = TypeVar("L")

AnyScope = Scope[Any]


def fresh(scope: AnyScope) -> tuple[int, AnyScope]:
    """A name fresh for ``scope``, and ``scope`` extended with it."""

    def k(binder: NameBinder[Any, L], evidence: DExt[Any, L]) -> tuple[int, AnyScope]:
        return raw(binder), extend_scope(binder, scope)

    return with_fresh(scope, k)


def empty() -> AnyScope:
    return empty_scope()


def scope_of(names: list[int] | tuple[int, ...]) -> AnyScope:
    bits = 0
    for n in names:
        bits |= 1 << n
    return unsafe_scope(bits)


class Supply:
    """A growing output scope: each ``binder`` is fresh for every name drawn before it.

    Passes that move bindings between blocks (unzip, transpose) draw from one supply, so that
    names stay distinct across the whole output; ``canonical`` then rebinds them lexically.
    The foil's fresh name for a scope is one past its largest name, so after the first draw the
    supply only counts: ``scope`` (the start scope and every name drawn) is built when asked for.
    """

    __slots__ = ("next", "start", "start_scope")

    def __init__(self, scope: AnyScope | None = None) -> None:
        self.start_scope: AnyScope = empty() if scope is None else scope
        self.start = fresh_id(self.start_scope)
        self.next = self.start

    @property
    def scope(self) -> AnyScope:
        scope = self.start_scope
        for name in range(self.start, self.next):
            scope = extend_scope(unsafe_binder(name), scope)
        return scope

    def binder(self, hint: str) -> Binder:
        name = self.next
        self.next = name + 1
        return Binder(name, hint)

    def binders(self, hints: list[str] | tuple[str, ...]) -> tuple[Binder, ...]:
        return tuple(self.binder(h) for h in hints)


def dotted(hint: str) -> str:
    """The tangent hint of a primal hint: ``x`` ↦ ``dx``."""
    return "d" + hint


def unicode_name(hint: str, linear: bool) -> str:
    """``dx`` ↦ ``ẋ`` for linear variables (combining dot above), others unchanged."""
    if not linear:
        return hint
    if len(hint) > 1 and hint[0] == "d" and hint[1].isalpha():
        return unicodedata.normalize("NFC", hint[1] + "\u0307" + hint[2:])
    return unicodedata.normalize("NFC", hint[0] + "\u0307" + hint[1:])


def ascii_hint(name: str) -> str:
    """The inverse of ``unicode_name``: ``ẋ`` ↦ ``dx``."""
    decomposed = unicodedata.normalize("NFD", name)
    if "\u0307" in decomposed:
        return "d" + unicodedata.normalize("NFC", decomposed.replace("\u0307", ""))
    return name
