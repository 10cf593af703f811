"""What the type-and-effect checker knows besides its rules: index sets and their sizes, effect
rows, the record of a checked program (``Checked``), and the name of the rule each construct is
checked by. ``check.py`` holds the rules themselves."""

from __future__ import annotations

from dataclasses import dataclass, field

from calculi.core import coverage
from calculi.core.errors import TypeCheckError
from calculi.core.syntax import Span
from calculi.dex.syntax import (
    PRIMITIVES,
    Accum,
    App,
    At,
    BinOp,
    Case,
    Effect,
    Enum,
    Expr,
    Fin,
    For,
    FunT,
    Handle,
    If,
    Index,
    Lam,
    Let,
    Neg,
    Pair,
    PairT,
    Put,
    RealT,
    RefIndex,
    RefT,
    Seq,
    TableT,
    Type,
    UnitT,
    Var,
)

TYPING_RULES = coverage.declare("dex.typing", [
    "T-Var", "T-Lit", "T-Pair", "T-Lam", "T-App", "T-Let", "T-Seq", "T-If", "T-Case", "T-Arith",
    "T-Compare", "T-Neg", "T-For", "T-Index", "T-At", "T-Prim", "T-RunState", "T-RunAccum",
    "T-WithReader", "T-Get", "T-Put", "T-Ask", "T-Accum", "T-RefIndex",
])

Row = frozenset[Effect]
PURE: Row = frozenset()

HANDLER_KIND = {"run_state": "State", "run_accum": "Accum", "with_reader": "Read"}


def is_index_set(ty: Type) -> bool:
    if isinstance(ty, PairT):
        return is_index_set(ty.fst) and is_index_set(ty.snd)
    return isinstance(ty, Fin | Enum)


def size(ty: Type) -> int:
    """``|n|``: how many indices an index set has."""
    if isinstance(ty, Fin):
        return ty.size
    if isinstance(ty, Enum):
        return len(ty.labels)
    assert isinstance(ty, PairT)
    return size(ty.fst) * size(ty.snd)


def is_monoid(ty: Type) -> bool:
    """What ``run_accum`` sums into: reals, and tables of them."""
    return isinstance(ty, RealT) or (isinstance(ty, TableT) and is_monoid(ty.elem))


def sorted_row(row: Row) -> tuple[Effect, ...]:
    return tuple(sorted(row, key=lambda e: (e.label, e.name, e.kind)))


def mentions(ty: Type, label: int) -> bool:
    """Whether a reference of ``label`` (or an effect on it) occurs in ``ty``."""
    match ty:
        case RefT(label=lab):
            return lab == label
        case FunT(arg=a, row=row, res=b):
            return any(e.label == label for e in row) or mentions(a, label) or mentions(b, label)
        case TableT(index=_, elem=a):
            return mentions(a, label)
        case PairT(fst=a, snd=b):
            return mentions(a, label) or mentions(b, label)
    return False


def unit_like(ty: Type) -> bool:
    """What a statement before ``;`` returns: ``()`` or a table of them."""
    return isinstance(ty, UnitT) or (isinstance(ty, TableT) and unit_like(ty.elem))


@dataclass(slots=True)
class Checked:
    """A checked program: its type, its effect row, and each ``for`` with whether it is parallel."""

    type: Type
    row: tuple[Effect, ...]
    loops: list[tuple[For, tuple[Effect, ...]]] = field(default_factory=list)
    """Each ``for`` with the effect row of its body."""
    bodies: dict[int, Type] = field(default_factory=dict)
    """The type of each ``for``'s body, by the ``id`` of the ``for``."""
    refs: dict[int, RefT] = field(default_factory=dict)
    """The reference type of the target of each ``+=``, ``:=``, ``get``, ``ask`` and ``r!i``,
    by the ``id`` of that construct (what a translation needs to know of a reference)."""
    handlers: dict[int, tuple[int, tuple[Effect, ...]]] = field(default_factory=dict)
    """The label each handler gives its reference and the effect row of its body, by ``id``."""
    operands: dict[int, Type] = field(default_factory=dict)
    """The operand type of each arithmetic, comparison and negation, and the scrutinee type of each
    ``case``, by ``id`` (Int and Real arithmetic differ once translated)."""

    @property
    def parallel(self) -> set[int]:
        """The ``id`` of each parallel ``for``: its body has no ``State``."""
        return {id(loop) for loop, row in self.loops if not any(e.kind == "State" for e in row)}

    @property
    def sequential(self) -> list[For]:
        return [loop for loop, row in self.loops if any(e.kind == "State" for e in row)]


def error(reason: str, span: Span | None, rule: str) -> TypeCheckError:
    return TypeCheckError(reason, span, rule=rule)


_RULE: dict[type, str] = {
    Var: "T-Var", Pair: "T-Pair", Lam: "T-Lam", App: "T-App", Let: "T-Let", Seq: "T-Seq",
    If: "T-If", Case: "T-Case", BinOp: "T-Arith", Neg: "T-Neg", For: "T-For", Index: "T-Index",
    At: "T-At", Accum: "T-Accum", Put: "T-Put", RefIndex: "T-RefIndex",
}


def rule_of(e: Expr) -> str:
    """The typing rule that checks the construct ``e``."""
    if isinstance(e, BinOp) and e.op in ("<", "<=", "=="):
        return "T-Compare"
    if isinstance(e, Handle):
        return {"run_state": "T-RunState", "run_accum": "T-RunAccum"}.get(e.handler, "T-WithReader")
    if isinstance(e, App) and isinstance(e.fun, Var) and e.fun.name in PRIMITIVES:
        return "T-Prim"
    return _RULE.get(type(e), "T-Lit")


PRIM_ARG = {"fst": "a pair", "snd": "a pair", "sum": "a table of Real",
            "ordinal": "an index of Fin n or of an enumeration (of a pair index: fst, snd)",
            "exp": "a Real", "log": "a Real", "sqrt": "a Real", "to_real": "an Int",
            "floor": "a Real"}
