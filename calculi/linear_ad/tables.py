"""What checking a program finds: ``Typing``, the signatures, depths and callees of its functions and
the type of every expression and unpack, kept in one ``Tables`` per function."""

from __future__ import annotations

from dataclasses import dataclass, field

from calculi.linear_ad.syntax import Expr, FuncDef, LVar, Program, Var
from calculi.linear_ad.types import REAL, Mixed, Type

UnpackTypes = tuple[tuple[Type, ...], tuple[Type, ...]]


VARIABLES = (Var, LVar)
REAL_NL = Mixed((REAL,), ())
REAL_LIN = Mixed((), (REAL,))


@dataclass(slots=True)
class Tables:
    """The types the checker found in one function: of each expression, each unpack (its names'
    non-linear ; linear types) and each ``drop`` (its free variables'), keyed by identity.

    Two kinds of node have no entry, for they were most of them and recording them cost the
    re-checks more than the passes they check: an occurrence of a variable of type ℝ (``REAL_NL``
    or ``REAL_LIN``, by its kind; ``type_in`` answers for it) and a ``let``, whose names have its
    right-hand side's types."""

    exprs: dict[int, Mixed] = field(default_factory=dict)
    unpacks: dict[int, UnpackTypes] = field(default_factory=dict)
    drops: dict[int, dict[int, Type]] = field(default_factory=dict)


def recorded(e: Expr, t: Mixed) -> bool:
    """Whether the tables keep ``e``'s type ``t``: not for a variable of type ℝ."""
    return (t is not REAL_NL and t is not REAL_LIN) or not isinstance(e, VARIABLES)


def type_in(exprs: dict[int, Mixed], e: Expr) -> Mixed:
    """The type of ``e``, an expression of the function whose table is ``exprs``."""
    t = exprs.get(id(e))
    if t is not None:
        return t
    if isinstance(e, Var):
        return REAL_NL
    if isinstance(e, LVar):
        return REAL_LIN
    raise KeyError(f"no type recorded for {type(e).__name__} at {e.span}")


OPEN = ""
"""The key of an open expression's tables (``check_open``): no function has an empty name."""


@dataclass(slots=True)
class Typing:
    """The result of checking: signatures, and the type of every expression and unpack (``Tables``).

    The types are kept in one ``Tables`` per function (``of``): the passes walk a function at a
    time, and a table of one function's nodes stays small where one table of every node of a long
    program grows past the processor's caches (the re-checks of many small functions took a third
    longer). ``expr_types``, ``unpack_types`` and ``drop_types`` are the whole program's, merged
    once when first asked for."""

    program: Program
    signatures: dict[str, FuncDef] = field(default_factory=dict)
    tables: dict[str, Tables] = field(default_factory=dict)
    depths: dict[str, int] = field(default_factory=dict)
    """The nesting depth of each function, its callees' depths included (at most ``MAX_DEPTH``)."""
    calls: dict[str, set[str]] = field(default_factory=dict)
    """The functions each function calls directly."""
    merged: Tables | None = field(default=None, repr=False, compare=False)

    def of(self, name: str) -> Tables:
        """The types of function ``name``'s nodes."""
        return self.tables[name]

    def whole(self) -> Tables:
        """Every function's types in one ``Tables`` (built once, when first asked for)."""
        m = self.merged
        if m is None:
            if len(self.tables) == 1:
                (m,) = self.tables.values()
            else:
                m = Tables()
                for t in self.tables.values():
                    m.exprs.update(t.exprs)
                    m.unpacks.update(t.unpacks)
                    m.drops.update(t.drops)
            self.merged = m
        return m

    @property
    def expr_types(self) -> dict[int, Mixed]:
        return self.whole().exprs

    @property
    def unpack_types(self) -> dict[int, UnpackTypes]:
        return self.whole().unpacks

    @property
    def drop_types(self) -> dict[int, dict[int, Type]]:
        return self.whole().drops

    def type_of(self, e: Expr) -> Mixed:
        return type_in(self.whole().exprs, e)
