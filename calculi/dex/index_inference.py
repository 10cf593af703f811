"""Inferring the index set of ``for i. e`` from the uses of ``i``.

The checker binds ``i`` to an unknown index set (``IndexVar``) while it checks the body. The first
use that needs ``i`` at a known index set fixes it: ``x.i`` with ``x : n=>a``, ``r!i``, ``i == j``
with ``j`` known, an argument of a function of ``n``. A later use at another index set is a type
error naming both uses; a body that leaves it open is a type error asking for ``for i:n. e``. The
solved ``for`` is written back into the syntax tree, so later passes see ``for i:n. e``; a ``for``
checked again is inferred again, and one shared by two contexts that fix different index sets is
refused (T-For) rather than given a stale index set.
"""

from __future__ import annotations

from dataclasses import dataclass

from calculi.core.syntax import Span
from calculi.dex.pretty import show_type
from calculi.dex.syntax import Enum, Fin, For, FunT, IndexVar, PairT, RefT, TableT, Type
from calculi.dex.typing_base import error


@dataclass(slots=True)
class _Unknown:
    index: str
    solution: Type | None = None
    fixed_at: Span | None = None
    ordinal_at: Span | None = None
    """Where ``ordinal i`` was applied before the index set was known (it must be Fin or an enum)."""


class IndexInference:
    """The unknown index sets of the ``for``s being checked, and the comparison of types that
    solves them (``expect``)."""

    def __init__(self) -> None:
        self.unknowns: dict[int, _Unknown] = {}

    def unknown(self, index: str) -> IndexVar:
        ident = len(self.unknowns) + 1
        self.unknowns[ident] = _Unknown(index)
        return IndexVar(ident, index)

    def zonk(self, ty: Type) -> Type:
        """``ty`` with every solved unknown replaced by its solution."""
        match ty:
            case IndexVar(ident=k):
                solution = self.unknowns[k].solution
                return ty if solution is None else solution
            case TableT(index=n, elem=a):
                return TableT(self.zonk(n), self.zonk(a), span=ty.span)
            case PairT(fst=a, snd=b):
                return PairT(self.zonk(a), self.zonk(b), span=ty.span)
            case FunT(arg=a, row=row, res=b):
                return FunT(self.zonk(a), row, self.zonk(b), span=ty.span)
            case RefT(kind=kind, elem=a, name=name, label=label):
                return RefT(kind, self.zonk(a), name, label, span=ty.span)
        return ty

    def solve(self, have: Type, want: Type, span: Span | None) -> None:
        """Fix the unknowns of ``have`` (or ``want``) that the other side determines."""
        match have, want:
            case IndexVar(ident=k), _ if not isinstance(want, IndexVar) and _closed(want):
                self.unknowns[k].solution, self.unknowns[k].fixed_at = want, span
            case _, IndexVar(ident=k) if _closed(have):
                self.unknowns[k].solution, self.unknowns[k].fixed_at = have, span
            case (TableT(index=n1, elem=a1), TableT(index=n2, elem=a2)) | \
                    (PairT(fst=n1, snd=a1), PairT(fst=n2, snd=a2)) | \
                    (FunT(arg=n1, res=a1), FunT(arg=n2, res=a2)):
                self.solve(n1, n2, span)
                self.solve(self.zonk(a1), self.zonk(a2), span)

    def expect(self, ty: Type, want: Type, what: str, span: Span | None, rule: str) -> None:
        """``ty = want``, solving unknown index sets on the way; a mismatch names the rule."""
        before = ty
        ty, want = self.zonk(ty), self.zonk(want)
        if ty == want:
            return
        self.solve(ty, want, span)
        ty, want = self.zonk(ty), self.zonk(want)
        if ty == want:
            return
        if isinstance(before, IndexVar) and (known := self.unknowns[before.ident]).fixed_at:
            raise error(f"{known.index} is used as an index of {show_type(ty)} at "
                        f"{_where(known.fixed_at)} and of {show_type(want)} here", span, rule)
        raise error(f"{what} has type {show_type(ty)}, expected {show_type(want)}", span, rule)

    def ordinal_of(self, ty: IndexVar, span: Span | None) -> None:
        """``ordinal i`` before the index set of ``i`` is known: checked once it is."""
        known = self.unknowns[ty.ident]
        known.ordinal_at = known.ordinal_at or span

    def settle(self, loop: For, var: IndexVar) -> Type:
        """The inferred index set of ``loop``, written into it; or a type error (T-For)."""
        known = self.unknowns[var.ident]
        if known.solution is None and loop.inferred:  # a rewritten body (inlining) lost the use
            known.solution = loop.type                # that fixed it: no use disagrees, so keep it
        if known.solution is None:
            raise error(f"cannot infer the index set of {known.index}; write for {known.index}:n. e",
                        loop.span, "T-For")
        if known.ordinal_at is not None and not isinstance(known.solution, Fin | Enum):
            raise error(f"ordinal takes an index of Fin n or of an enumeration; {known.index} is "
                        f"an index of {show_type(known.solution)}", known.ordinal_at, "T-Prim")
        if loop.inferred and loop.type != known.solution:
            raise error(f"this for is shared with a program where {known.index} ranges over "
                        f"{show_type(loop.type)}, here over {show_type(known.solution)}; write "
                        f"for {known.index}:n. e", loop.span, "T-For")
        # The elaboration, for i:n. e, written into the for: every later pass reads the index set
        # there. A for met again (shared, or checked twice) is inferred again (``inferred``), and
        # an answer that differs from the one written is refused above, never silently replaced.
        object.__setattr__(loop, "type", known.solution)
        object.__setattr__(loop, "inferred", True)
        return known.solution


def _closed(ty: Type) -> bool:
    match ty:
        case IndexVar():
            return False
        case TableT(index=a, elem=b) | PairT(fst=a, snd=b) | FunT(arg=a, res=b):
            return _closed(a) and _closed(b)
    return True


def _where(span: Span) -> str:
    return f"{span.line}:{span.column}"
