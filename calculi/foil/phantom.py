"""The foil's types: scopes as phantom type parameters (Maclaurin, Radul, Paszke, IFL 2022).

``N``, ``L``, ``I``, ``O`` are scopes. ``Name[N]``, ``NameBinder[N, L]``, ``Scope[N]``,
``DExt[N, L]`` and ``Substitution[V, I, O]`` exist for the type checker only and are never
instantiated: at run time each is erased to what the rapier uses (an ``int`` name, an ``int`` or
``scopes.Wide`` scope, one shared evidence token, a ``dict``), and only the trusted core
(``core.py``, ``fused.py``, ``namemap.py``) converts between the two views.

The TypeVars are the old-style, invariant ones: a phantom PEP 695 parameter would be inferred
covariant, and ``Name[L]`` would then pass for ``Name[N]``. Python has no rank-2 types, so "for
all ``L``" is a callback protocol with a method-level type variable (``FreshK``, ``UnderK``): the
continuation must be a generic function (a nested ``def``), and one fixed to a particular scope
is rejected statically.
"""

from __future__ import annotations

from typing import Any, Generic, Protocol, TypeVar, final

N = TypeVar("N")
L = TypeVar("L")
I = TypeVar("I")  # noqa: E741  (the paper's name for an input scope)
I2 = TypeVar("I2")
O = TypeVar("O")  # noqa: E741  (the paper's name for an output scope)
O2 = TypeVar("O2")
V = TypeVar("V")
V2 = TypeVar("V2")
R = TypeVar("R")
R_co = TypeVar("R_co", covariant=True)
A = TypeVar("A")
A_contra = TypeVar("A_contra", contravariant=True)


@final
class VoidS:
    """The empty scope."""


@final
class Name(Generic[N]):
    """A name in scope ``N``. Erased: at run time a name is its ``int`` identifier."""

    __slots__ = ()


@final
class NameBinder(Generic[N, L]):
    """A binder extending scope ``N`` to ``L``. Erased: at run time, the bound name's ``int``."""

    __slots__ = ()


@final
class Scope(Generic[N]):
    """The run-time counterpart of ``N`` (the rapier's Θ). Erased: an ``int`` bit set, or a
    ``scopes.Wide`` once it holds a large name."""

    __slots__ = ()


@final
class DExt(Generic[N, L]):
    """Evidence that ``L`` is a distinct extension of ``N`` (the paper's ``DExt n l``)."""

    __slots__ = ()


@final
class Substitution(Generic[V, I, O]):
    """A substitution from names of ``I`` to values ``V`` of scope ``O``. Erased: a ``dict``."""

    __slots__ = ()


class FreshK(Protocol[N, R_co]):
    """A continuation ``∀l. DExt n l => NameBinder n l -> r`` (generic in ``L``)."""

    def __call__(self, binder: NameBinder[N, L], evidence: DExt[N, L], /) -> R_co: ...


class UnderK(Protocol[O, I2, R_co]):
    """A continuation ``∀o'. NameBinder o o' -> Scope o' -> Substitution v i' o' -> r``.

    The value type of the substitution is ``Any`` here because Python has no higher-kinded types
    (it would be ``e o'``); the continuation's own annotation states it."""

    def __call__(
        self, binder: NameBinder[O, O2], scope: Scope[O2], subst: Substitution[Any, I2, O2], /
    ) -> R_co: ...
