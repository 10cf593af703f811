"""The parser's scope-free readers: spans, types, binding patterns, primitive parameters, and the
A-normal-form checks on operand lists.

None of these needs to know which names are in scope; ``parse_lark._Builder`` extends ``FormReader``
with the scoped part (definitions, blocks, variables, calls).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

from calculi.core.errors import CalculusError, ParseError, TypeCheckError, UnboundError
from calculi.core.parsing import integer, literal
from calculi.core.syntax import Source, Span
from calculi.linear_ad.primitives import PRIMITIVES
from calculi.linear_ad.syntax import MAX_DEPTH, Drop, Dup, Expr, LVar, Params, Prim, Primitive, Tup, TupL, Var
from calculi.linear_ad.types import REAL, TYPE_CONSTRUCTORS, Mixed, TupleType, Type

if TYPE_CHECKING:
    from lark import Token, Tree

V = TypeVar("V", Var, LVar)

STRUCTURAL = {"tup", "tupL", "dup", "drop"}
"""The structural forms written like calls: ``tup(x, y)``, ``tupL(dx)``, ``dup(dx)``, ``drop(e)``."""


OPERATORS = {"+": "add", "-": "sub", "(+)": "ladd", "⊕": "ladd", "*": "mul", "×": "mul", "/": "div",
             "*.": "scale", "⊙": "scale", "**": "pow"}
"""The primitive each infix operator applies; a unary ``-`` applies ``neg``."""


def operator(name: str, symbol: str, span: Span | None) -> Primitive:
    """The primitive registered as ``name`` (looked up when the operator is read, so that a table
    extended later is seen), or an error at the operator naming the missing primitive."""
    p = PRIMITIVES.get(name)
    if p is None:
        raise UnboundError(f"unknown primitive {name} (the operator {symbol!r} applies it)", span,
                           rule="Prim")
    return p


def apply(p: Primitive, operands: tuple[Expr, ...], span: Span | None) -> Prim:
    """``p`` applied to the operands of an operator: a linear primitive takes its first ``arity``
    operands as constants and the rest as linear arguments (``a ⊙ ẋ``, ``ẋ ⊕ ẏ``)."""
    if p.linear:
        k = p.arity or 0
        return Prim(p, operands[:k], operands[k:], span=span)
    return Prim(p, operands, span=span)


class FormReader:
    """Reads the parts of a parse tree that do not depend on scope, with spans into ``source``."""

    def __init__(self, source: Source) -> None:
        self.source = source

    def span(self, node: Tree[Token] | Token) -> Span | None:
        """The span of a node, with line and column from the source's table of line starts."""
        if isinstance(node, str):  # a token: lark's tokens are strings, its trees are not
            if node.start_pos is None:
                return None
            start, end = node.start_pos, node.end_pos if node.end_pos is not None else node.start_pos + 1
        else:
            if getattr(node.meta, "empty", True):
                return None
            start, end = node.meta.start_pos, node.meta.end_pos
        return self.source.span(start, end)

    def start(self, node: Tree[Token] | Token) -> Span | None:
        """The span of the first character of a node (a caret there, not under a whole subtree)."""
        whole = self.span(node)
        return None if whole is None else self.source.span(whole.start)

    # -- types -----------------------------------------------------------------------------------

    def result(self, t: Tree[Token]) -> Mixed:
        if t.data == "single_result":
            child = t.children[0]
            assert not isinstance(child, str)
            return Mixed((self.type(child),), ())
        groups: list[tuple[Type, ...]] = [(), ()]
        which = 0
        for child in t.children:
            if isinstance(child, str):
                which = 1
            else:
                groups[which] = tuple(self.type(c) for c in child.children if not isinstance(c, str))
        return Mixed(groups[0], groups[1])

    def type(self, t: Tree[Token], depth: int = 0) -> Type:
        if depth >= MAX_DEPTH:
            raise ParseError(f"type nested too deeply (more than {MAX_DEPTH:,} levels)", self.start(t))
        kids = [c for c in t.children if not isinstance(c, str)]
        if t.data == "real_t":
            return REAL
        if t.data == "named_t":
            name = str(t.children[0])
            if name in ("R", "Real"):
                return REAL
            if name in TYPE_CONSTRUCTORS:
                return TYPE_CONSTRUCTORS[name](())
            raise ParseError(f"unknown type {name} (ℝ is written R or ℝ)", self.span(t))
        if t.data == "unit_t":
            return TupleType(())
        if t.data == "paren_t":
            return self.type(kids[0], depth + 1)
        if t.data in ("tuple_t", "tuple1_t"):
            return TupleType(tuple(self.type(k, depth + 1) for k in kids))
        name = str(t.children[0])
        if name not in TYPE_CONSTRUCTORS:
            raise ParseError(f"unknown type constructor {name}", self.span(t))
        args: list[int | str] = []
        for k in kids:
            tok = k.children[0]
            number = isinstance(tok, str) and tok.type == "INT"
            args.append(integer(str(tok), self.span(k)) if number else str(tok))
        try:
            return TYPE_CONSTRUCTORS[name](tuple(args))
        except CalculusError as err:
            raise ParseError(err.reason, self.span(t)) from None

    # -- binding patterns ------------------------------------------------------------------------

    def pattern(self, t: Tree[Token], linear_plain: bool) -> tuple[list[Token], list[Token]]:
        if t.data == "single_pat":
            tok = t.children[0]
            assert isinstance(tok, str)
            return ([], [tok]) if linear_plain else ([tok], [])
        if t.data == "plain_pat":
            toks = self.names(t.children[0])
            return ([], toks) if linear_plain else (toks, [])
        groups: list[list[Token]] = [[], []]
        which = 0
        for child in t.children:
            if isinstance(child, str) and child.type == "SEMI":
                which = 1
            elif not isinstance(child, str):
                groups[which] = self.names(child)
        if linear_plain and groups[0]:
            raise ParseError("unpackL binds linear names only: let (dx, dy) = unpackL dt", self.span(t))
        return groups[0], groups[1]

    @staticmethod
    def names(t: Tree[Token] | Token) -> list[Token]:
        assert not isinstance(t, str)
        return [c for c in t.children if isinstance(c, str)]

    # -- operands in A-normal form ---------------------------------------------------------------

    def vars(self, es: list[Expr], rule: str) -> tuple[Var, ...]:
        """Operands before ';': non-linear variables only."""
        return _variables(es, Var, LVar, "linear variable {} in a non-linear position (before ';')", rule)

    def lvars(self, es: list[Expr], rule: str) -> tuple[LVar, ...]:
        """Operands after ';': linear variables only."""
        return _variables(es, LVar, Var, "non-linear variable {} in a linear position (after ';')", rule)

    def structural(self, name: str, args: list[Expr], largs: list[Expr], span: Span | None) -> Expr:
        if name == "tup":
            if largs:
                raise TypeCheckError("tup takes non-linear variables; use tupL for linear ones", span,
                                     rule="Tup")
            return Tup(self.vars(args, "Tup"), span=span)
        if name == "tupL":
            return TupL(self.lvars(args + largs, "TupL"), span=span)
        every = args + largs
        if len(every) != 1:
            raise TypeCheckError(f"{name} takes one argument", span, rule=name.capitalize())
        return (Dup if name == "dup" else Drop)(every[0], span=span)

    # -- primitive parameters --------------------------------------------------------------------

    def params(self, t: Tree[Token] | None) -> Params:
        if t is None:
            return ()
        out: list[tuple[str, Any]] = []
        for p in t.children:
            assert not isinstance(p, str)
            key, value = p.children
            out.append((str(key), self.pvalue(value, 0)))
        return tuple(out)

    def pvalue(self, t: Tree[Token] | Token, depth: int) -> Any:
        if isinstance(t, str):
            return str(t)
        if depth >= MAX_DEPTH:
            raise ParseError(f"parameter nested too deeply (more than {MAX_DEPTH:,} levels)", self.start(t))
        if t.data == "pint":
            return integer(str(t.children[0]), self.span(t))
        if t.data == "pfloat":
            literal(str(t.children[0]), self.span(t))
            return float(str(t.children[0]))
        if t.data == "pname":
            return str(t.children[0])
        if t.data == "pstring":
            return str(t.children[0])[1:-1]
        return tuple(self.pvalue(c, depth + 1) for c in t.children)


def _variables(es: list[Expr], kind: type[V], other: type[Var | LVar], wrong: str,
               rule: str) -> tuple[V, ...]:
    """``es`` when each is a variable of ``kind``; a variable of the ``other`` kind is ``wrong``."""
    out: list[V] = []
    for e in es:
        if isinstance(e, other):
            raise TypeCheckError(wrong.format(e.hint), e.span, rule=rule)
        if not isinstance(e, kind):
            raise TypeCheckError("only variables may appear here (Linear A is in A-normal form); "
                                 "bind the expression with let first", e.span, rule=rule)
        out.append(e)
    return tuple(out)
