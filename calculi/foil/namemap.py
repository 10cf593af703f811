"""Total maps from the names of a scope (free-foil's ``NameMap``): typing contexts, environments.

``NameMap[N, A]`` has a value for every name of ``N``: it starts empty at ``VoidS`` and grows only
by ``add_name_binder``, in step with the scope, so ``lookup_name`` never misses on a well-typed
program. Erased: a ``dict``, copied on extension (persistent).
"""

from __future__ import annotations

from typing import Generic, TypeVar, final

from calculi.core.errors import ScopeError
from calculi.foil.phantom import Name, NameBinder, VoidS

N = TypeVar("N")
L = TypeVar("L")
A = TypeVar("A")


@final
class NameMap(Generic[N, A]):
    """A total map from the names of scope ``N`` to values (typing contexts, environments).
    Erased: a ``dict``; extended only by ``add_name_binder``, so every name of ``N`` has a value."""

    __slots__ = ()


def empty_name_map() -> NameMap[VoidS, A]:
    return {}  # type: ignore[return-value]


def add_name_binder(binder: NameBinder[N, L], value: A, names: NameMap[N, A]) -> NameMap[L, A]:
    """Γ, x : a."""
    out = dict(names)  # type: ignore[call-overload]
    out[binder] = value
    return out  # type: ignore[no-any-return]


def lookup_name(name: Name[N], names: NameMap[N, A]) -> A:
    """Γ(x); total on ``N`` (a missing name is a broken invariant, reported as a ``ScopeError``)."""
    try:
        return names[name]  # type: ignore[index, no-any-return]
    except KeyError:
        raise ScopeError(f"lookup_name: name {name} is not in the map (NameMap not total)") from None


def pop_name_binder(binder: NameBinder[N, L], names: NameMap[L, A]) -> tuple[NameMap[N, A], A]:
    """Γ, x : a  ↦  (Γ, a); the outer map no longer has ``x`` (Distinct scopes: ``x ∉ N``)."""
    out = dict(names)  # type: ignore[call-overload]
    value = out.pop(binder)
    return out, value
