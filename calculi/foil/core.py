"""The foil: scope-safe names over the rapier (Maclaurin, Radul, Paszke, IFL 2022).

Scopes are phantom type parameters (``N``, ``L``, ``I``, ``O``); the strict type checker enforces
the rapier's invariants, and at run time the type machinery is erased:

* a ``Name[N]`` and a ``NameBinder[N, L]`` are plain ``int`` identifiers, dense: text's names are
  interned to 0, 1, 2, … whatever their spelling (``names.py``), and fresh names come next;
* a ``Scope[N]`` (the rapier's in-scope set Θ) is an ``int`` bit set over those identifiers while
  they are small, so membership, extension and the choice of a fresh name (one past the largest,
  as free-foil does) are single integer operations; a scope with a name at or above
  ``scopes.WIDE`` is a persistent trie of fixed height over the names below 2³² answering the
  same operations (``scopes.py``), so that all three take constant time, whatever the largest name;
* a ``Substitution[V, I, O]`` is a ``dict`` from names of ``I`` to values of scope ``O``, treated
  as immutable; a missing key means the identity, as in free-foil;
* evidence (``DExt[N, L]``: ``L`` is a distinct extension of ``N``) is one shared token, minted
  only here, in the trusted core;
* ``sink`` returns its argument (paper §3.5: sinking is the identity).

The types are in ``phantom.py`` (never instantiated: they exist for the type checker only); this
module is the trusted API over them, the only place, with ``fused.py`` (the rapier's steps
written out, for speed) and ``namemap.py`` (total maps), where a typed value meets its erased
self. It re-exports both, so ``calculi.foil.core`` is the whole of the foil's interface. Python
has no higher-kinded types, so a substitution's value type ``V`` is the fully applied term type
(``Expr[O]``).

Cheap run-time checks of the invariants (freshness, distinctness, membership) run when the
environment variable ``FOIL_CHECKS=1`` is set (the test suite sets it) or ``CHECKS`` is true.
"""

from __future__ import annotations

import operator
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from calculi.core.errors import ScopeError
from calculi.foil.fused import Build, Head, Into, IntoS, Machine, lam_row, machine, subst_row, under_binder
from calculi.foil.namemap import NameMap, add_name_binder, empty_name_map, lookup_name, pop_name_binder
from calculi.foil.names import SPELLINGS
from calculi.foil.phantom import (
    I2,
    O2,
    V2,
    DExt,
    FreshK,
    I,
    L,
    N,
    Name,
    NameBinder,
    O,
    R,
    Scope,
    Substitution,
    UnderK,
    V,
    VoidS,
)
from calculi.foil.scopes import WIDE, from_bits, widen

CHECKS = os.environ.get("FOIL_CHECKS") == "1"

__all__ = [
    "CHECKS", "EMPTY_SCOPE", "Build", "DExt", "FreshK", "Head", "Into", "IntoS", "Machine", "Name",
    "NameBinder", "NameMap", "Scope", "Substitution", "UnderK", "VoidS", "add_name_binder",
    "add_rename", "add_subst", "empty_name_map", "empty_scope", "extend_if_fresh", "extend_scope",
    "extend_subst_owned", "fresh_id", "fresh_unspelled", "identity_subst", "is_identity", "lam_row",
    "lookup_name", "lookup_subst", "lookup_subst_or", "machine", "member", "name_of", "pop_name_binder",
    "raw", "singleton_subst", "sink", "sink_name", "subst_items", "subst_row", "trans", "under_binder",
    "unsafe_binder", "unsafe_evidence", "unsafe_name", "unsafe_scope", "unsink_name", "with_fresh",
    "with_refreshed", "with_refreshed_unspelled",
]

_EVIDENCE: object = object()

EMPTY_SCOPE: Scope[VoidS] = 0  # type: ignore[assignment]


def empty_scope() -> Scope[VoidS]:
    return EMPTY_SCOPE


def raw(name: Name[N] | NameBinder[N, L]) -> int:
    """The integer identifier of a name (for printing, hashing and baselines)."""
    return name  # type: ignore[return-value]


def member(name: Name[L], scope: Scope[N]) -> bool:
    """Is the raw name in the scope? (The rapier's clash test.)"""
    return bool(scope >> name & 1)  # type: ignore[operator]


def name_of(binder: NameBinder[N, L]) -> Name[L]:
    """The bound name, usable only inside the extended scope ``L``."""
    return binder  # type: ignore[return-value]


def extend_scope(binder: NameBinder[N, L], scope: Scope[N]) -> Scope[L]:
    """Θ ∪ {x}."""
    if CHECKS and member(name_of(binder), scope):
        raise ScopeError(f"extend_scope: name {raw(binder)} is already in scope (Distinct violated)")
    theta: Any = scope
    x: Any = binder
    return theta | 1 << x if x < WIDE else widen(theta, x)  # type: ignore[return-value]


def fresh_id(scope: Scope[N]) -> int:
    """The identifier ``with_fresh`` would bind: one past the largest name in scope."""
    return scope.bit_length()  # type: ignore[attr-defined, no-any-return]


def with_fresh(scope: Scope[N], k: FreshK[N, R]) -> R:
    """Introduce a name fresh for ``scope`` and pass its binder (and evidence) to ``k``."""
    return k(scope.bit_length(), _EVIDENCE)  # type: ignore[attr-defined, arg-type]


def with_refreshed(scope: Scope[O], name: Name[I], k: FreshK[O, R]) -> R:
    """The rapier's step: reuse ``name``'s identifier unless it clashes with ``scope``."""
    if scope >> name & 1:  # type: ignore[operator]
        return k(scope.bit_length(), _EVIDENCE)  # type: ignore[attr-defined, arg-type]
    return k(name, _EVIDENCE)  # type: ignore[arg-type]


def fresh_unspelled(scope: Scope[N]) -> int:
    """A name fresh for Θ that is also no spelled name: one past the largest name in Θ, and at
    least ``names.SPELLINGS.ceiling``. The λ-calculus renames binders with it, so that a renamed
    binder never takes the identifier of a name of the text further in (which would then be
    renamed in turn): which binders get renamed depends on the term only, not on how many names
    the process has read before, and results print the same in every run."""
    fresh: int = scope.bit_length()  # type: ignore[attr-defined]
    ceiling = SPELLINGS.ceiling
    return fresh if fresh >= ceiling else ceiling


def with_refreshed_unspelled(scope: Scope[O], name: Name[I], k: FreshK[O, R]) -> R:
    """``with_refreshed`` with the fresh name chosen by ``fresh_unspelled``."""
    if scope >> name & 1:  # type: ignore[operator]
        return k(fresh_unspelled(scope), _EVIDENCE)  # type: ignore[arg-type]
    return k(name, _EVIDENCE)  # type: ignore[arg-type]


def unsafe_binder(identifier: int) -> NameBinder[N, L]:
    """Trusted: a binder for a known identifier (parsers and converters use this, then check)."""
    return identifier  # type: ignore[return-value]


def unsafe_name(identifier: int) -> Name[N]:
    """Trusted: a name for a known identifier (parsers and converters use this, then check)."""
    return identifier  # type: ignore[return-value]


def unsafe_scope(identifiers: int) -> Scope[N]:
    """Trusted: a scope from a bit set of identifiers."""
    return from_bits(identifiers)  # type: ignore[return-value]


def unsafe_evidence() -> DExt[N, L]:
    """Trusted: evidence for an extension the caller has checked."""
    return _EVIDENCE  # type: ignore[return-value]


def sink(value: V, evidence: DExt[N, L]) -> V:
    """Move a value of scope ``N`` into the extension ``L``: the identity at run time.

    Python has no higher-kinded types, so the scope change is stated by the caller's annotation
    (``sink(e, ev)`` where ``Expr[L]`` is expected); the typed helpers of each calculus (for
    example ``sink_name``) pin both ends.
    """
    return value


def sink_name(name: Name[N], evidence: DExt[N, L]) -> Name[L]:
    """A name of ``N`` is a name of any extension of ``N``."""
    return name  # type: ignore[return-value]


def trans(first: DExt[N, I], second: DExt[I, L]) -> DExt[N, L]:
    """Extensions compose."""
    return first  # type: ignore[return-value]


def unsink_name(binder: NameBinder[N, L], name: Name[L]) -> Name[N] | None:
    """Strengthening: ``None`` iff ``name`` is the binder's own name."""
    return None if name == binder else name  # type: ignore[comparison-overlap, return-value]


def lookup_subst(
    subst: Substitution[V, I, O], name: Name[I], inject: Callable[[Name[O]], V]
) -> V:
    """σ(x), or ``inject(x)`` when σ leaves ``x`` alone."""
    value = subst.get(name)  # type: ignore[attr-defined]
    return inject(name) if value is None else value  # type: ignore[arg-type]


if TYPE_CHECKING:

    def identity_subst() -> Substitution[V, I, I]:
        """The identity substitution (the empty map)."""

    def extend_subst_owned(subst: Substitution[V, I, O], binder: NameBinder[I, I2], value: V) -> None:
        """σ[x ↦ v] in O(1), by updating σ itself: only for a caller that holds the only
        reference to σ and never uses it at its old scope again (the normaliser's machine, whose
        σ grows by one entry per β-step: ``fused.machine`` writes this step inline)."""

    def lookup_subst_or(subst: Substitution[V, I, O], name: Name[I], unchanged: V) -> V:
        """σ(x), or ``unchanged`` when σ leaves ``x`` alone: the caller passes its own occurrence
        of ``x`` (sunk into ``O``), so a name that is not substituted is reused, not rebuilt."""

    def is_identity(subst: Substitution[V, I, O]) -> bool:
        """Does σ leave every name alone? (Dex: an identity substitution is a coercion, I ⊆ O.)"""

else:
    # Erased to C-level calls: a substitution is a dict, so these are ``dict()``, ``σ[x] = v``
    # (through ``operator.setitem``: the slot wrapper ``dict.__setitem__`` costs four times as
    # much), ``dict.get`` and ``not``.
    identity_subst = dict
    extend_subst_owned = operator.setitem
    lookup_subst_or = dict.get
    is_identity = operator.not_


def singleton_subst(binder: NameBinder[I, I2], value: V) -> Substitution[V, I2, I]:
    """[x ↦ v]: ``add_subst(identity_subst(), x, v)`` in one call (β-reduction's substitution)."""
    return {binder: value}  # type: ignore[return-value]


def add_subst(subst: Substitution[V, I, O], binder: NameBinder[I, I2], value: V) -> Substitution[V, I2, O]:
    """σ[x ↦ v]."""
    out = dict(subst)  # type: ignore[call-overload]
    out[binder] = value
    return out  # type: ignore[no-any-return]


def add_rename(
    subst: Substitution[V, I, O],
    binder: NameBinder[I, I2],
    evidence: DExt[O, O2],
    new: NameBinder[O, O2],
    inject: Callable[[Name[O2]], V2],
) -> Substitution[V2, I2, O2]:
    """Go under a binder: sink σ into ``O2`` and map ``x`` to ``x'``.

    The rapier's delete: when ``x'`` is ``x`` itself, the entry for ``x`` is removed instead, so
    that the inner binder shadows any outer entry of σ for the same name.
    """
    table: dict[int, object] = subst  # type: ignore[assignment]
    if new == binder:
        if binder in table:  # type: ignore[comparison-overlap]
            table = dict(table)
            del table[binder]  # type: ignore[arg-type]
        return table  # type: ignore[return-value]
    table = dict(table)
    table[binder] = inject(new)  # type: ignore[index, arg-type]
    return table  # type: ignore[return-value]


def extend_if_fresh(binder: NameBinder[N, L], scope: Scope[N]) -> Scope[L] | None:
    """``extend_scope(x, Θ)`` when ``x ∉ Θ``, else ``None`` (the clash test and the extension in one)."""
    theta: Any = scope
    x: Any = binder
    if theta >> x & 1:
        return None
    return theta | 1 << x if x < WIDE else widen(theta, x)  # type: ignore[return-value]


def subst_items(subst: Substitution[V, I, O]) -> list[tuple[Name[I], V]]:
    """The explicit entries of σ (names σ does not map are left alone)."""
    return list(subst.items())  # type: ignore[attr-defined]
