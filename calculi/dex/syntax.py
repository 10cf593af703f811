"""The AST of Dex: types (index sets, tables, functions with effect rows) and expressions.

Index sets are ``Fin n``, enumerations ``{a|b|c}`` and pairs of index sets; a table ``n=>a`` holds
one ``a`` per index of ``n``. Every node is a frozen, slotted dataclass carrying a span.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

from calculi.core.syntax import Node

# -- types ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Type(Node):
    pass


@dataclass(frozen=True, slots=True)
class RealT(Type):
    pass


@dataclass(frozen=True, slots=True)
class IntT(Type):
    pass


@dataclass(frozen=True, slots=True)
class BoolT(Type):
    pass


@dataclass(frozen=True, slots=True)
class UnitT(Type):
    pass


@dataclass(frozen=True, slots=True)
class Fin(Type):
    size: int


@dataclass(frozen=True, slots=True)
class Enum(Type):
    labels: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class PairT(Type):
    fst: Type
    snd: Type


@dataclass(frozen=True, slots=True)
class TableT(Type):
    """``n=>a``."""

    index: Type
    elem: Type


EFFECT_KINDS = ("Read", "State", "Accum")


@dataclass(frozen=True, slots=True)
class Effect(Node):
    """``Read r``, ``State r`` or ``Accum r``: an effect on the reference bound as ``r``.
    ``label`` tells apart two references of the same name (0 for a name as written)."""

    kind: str
    name: str
    label: int = 0


@dataclass(frozen=True, slots=True)
class FunT(Type):
    """``a -> b`` (pure), or ``a ->{State r, Accum s} b``."""

    arg: Type
    row: tuple[Effect, ...]
    res: Type


@dataclass(frozen=True, slots=True)
class RefT(Type):
    """The type of a reference (never written: references are bound by the handlers)."""

    kind: str
    elem: Type
    name: str
    label: int


@dataclass(frozen=True, slots=True)
class Omitted(Type):
    """The index set of ``for i. e``, left out: the checker infers it from the uses of ``i``
    (``x.i`` with ``x : n=>a`` fixes ``n``) and writes it into the ``for``, so that every later pass
    sees ``for i:n. e``."""


@dataclass(frozen=True, slots=True)
class IndexVar(Type):
    """While the checker infers an omitted index set: the unknown index set of ``index``."""

    ident: int
    index: str


REAL, INT, BOOL, UNIT = RealT(), IntT(), BoolT(), UnitT()


# -- expressions ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Expr(Node):
    pass


@dataclass(frozen=True, slots=True)
class Var(Expr):
    name: str


@dataclass(frozen=True, slots=True)
class IntLit(Expr):
    value: int


@dataclass(frozen=True, slots=True)
class RealLit(Expr):
    value: Fraction


@dataclass(frozen=True, slots=True)
class BoolLit(Expr):
    value: bool


@dataclass(frozen=True, slots=True)
class UnitLit(Expr):
    pass


@dataclass(frozen=True, slots=True)
class At(Expr):
    """``e@n``: the index of ordinal ``e`` in ``Fin n``, or the label ``e`` of an enumeration."""

    value: Expr
    index: Type


@dataclass(frozen=True, slots=True)
class Pair(Expr):
    fst: Expr
    snd: Expr


@dataclass(frozen=True, slots=True)
class Lam(Expr):
    """``\\x:a. e``."""

    param: str
    type: Type
    body: Expr


@dataclass(frozen=True, slots=True)
class App(Expr):
    fun: Expr
    arg: Expr


@dataclass(frozen=True, slots=True)
class Let(Expr):
    name: str
    bound: Expr
    body: Expr


@dataclass(frozen=True, slots=True)
class Seq(Expr):
    """``e1; e2``: run ``e1`` (of type ``()``) for its effects, then ``e2``."""

    first: Expr
    then: Expr


@dataclass(frozen=True, slots=True)
class If(Expr):
    cond: Expr
    then: Expr
    orelse: Expr


@dataclass(frozen=True, slots=True)
class Case(Expr):
    """``case e of a -> e1 | b -> e2``: one alternative per label of an enumeration."""

    scrutinee: Expr
    alts: tuple[tuple[str, Expr], ...]


BINOPS = ("+", "-", "*", "/", "%", "<", "<=", "==")


@dataclass(frozen=True, slots=True)
class BinOp(Expr):
    op: str
    left: Expr
    right: Expr


@dataclass(frozen=True, slots=True)
class Neg(Expr):
    arg: Expr


@dataclass(frozen=True, slots=True)
class For(Expr):
    """``for i:n. e``: the table of ``e`` at every index ``i`` of ``n`` (``for i. e`` is parsed
    with ``Omitted()`` for ``n``, which the checker replaces by the inferred index set, marking the
    ``for`` ``inferred`` so that a later check infers it again rather than trusting it)."""

    index: str
    type: Type
    body: Expr
    inferred: bool = field(default=False, compare=False, repr=False, kw_only=True)


@dataclass(frozen=True, slots=True)
class Index(Expr):
    """``x.i``."""

    table: Expr
    index: Expr


@dataclass(frozen=True, slots=True)
class RefIndex(Expr):
    """``r!i``: the reference to entry ``i`` of the table that ``r`` refers to."""

    ref: Expr
    index: Expr


HANDLERS = ("run_state", "run_accum", "with_reader")


@dataclass(frozen=True, slots=True)
class Handle(Expr):
    """``run_state e \\r. body`` (result and final state), ``with_reader e \\r. body`` (result),
    ``run_accum a \\r. body`` (result and the sum accumulated into an ``a``, zero at first)."""

    handler: str
    init: Expr | None
    monoid: Type | None
    ref: str
    body: Expr


@dataclass(frozen=True, slots=True)
class Accum(Expr):
    """``r += e``."""

    ref: Expr
    value: Expr


@dataclass(frozen=True, slots=True)
class Put(Expr):
    """``r := e``."""

    ref: Expr
    value: Expr


PRIMITIVES = ("fst", "snd", "sum", "exp", "log", "sqrt", "to_real", "floor", "ordinal", "get", "ask")
"""Names applied like functions; a binder of the same name shadows them."""
