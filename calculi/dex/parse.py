"""Concrete syntax → AST, with a span on every node and classified syntax errors."""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction
from typing import TypeVar

import lark

from calculi.core.errors import ParseError
from calculi.core.parsing import Grammar, integer, literal, span_of
from calculi.core.syntax import Source, Span
from calculi.dex.syntax import (
    BOOL,
    INT,
    REAL,
    UNIT,
    Accum,
    App,
    At,
    BinOp,
    BoolLit,
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
    IntLit,
    Lam,
    Let,
    Neg,
    Omitted,
    Pair,
    PairT,
    Put,
    RealLit,
    RefIndex,
    Seq,
    TableT,
    Type,
    UnitLit,
    Var,
)

GRAMMAR = Grammar.load(
    __package__ or "calculi.dex",
    "grammar.lark",
    start=["start", "type", "definition"],
    examples={
        "a binder is written '\\x:TYPE. body'": ["\\x. x", "\\x:Real x"],
        "a for is written 'for i:INDEXSET. body' or 'for i. body'": ["for i:Fin 3 x", "for i:. x",
                                                                      "for i x"],
        "missing body after '.'": ["\\x:Real.", "for i:Fin 3."],
        "a let is written 'let x = e in body'": ["let x = 1", "let x 1 in x", "let x = 1 in"],
        "an if is written 'if c then a else b'": ["if x then y", "if x y else z"],
        "a Fin index set needs its size, as in 'Fin 3'": ["for i:Fin. x", "for i:Fin x. x"],
        "a handler is written 'run_state INIT \\r. body'": ["run_state 0 r. r", "run_state \\r. r"],
        "missing operand": ["1 +", "x *", "x.", "r +="],
        "unclosed '('": ["(1", "(x, y"],
    },
    names={
        "NAME": "a name",
        "INT": "a whole number",
        "REAL": "a real literal (digits '.' digits)",
        "CMP": "a comparison",
        "ADD": "'+' or '-'",
        "MUL": "'*' or '/'",
        "EFFECT": "an effect (Read, State, Accum)",
        "LPAR": "'('",
        "RPAR": "')'",
        "LBRACE": "'{'",
        "RBRACE": "'}'",
        "COMMA": "','",
        "DOT": "'.'",
        "COLON": "':'",
        "SEMICOLON": "';'",
        "BACKSLASH": "'\\'",
    },
)

Tree = lark.Tree[lark.Token]
T = TypeVar("T")
Child = lark.Tree[lark.Token] | lark.Token


def parse_program(source: Source) -> Expr:
    """Program text → ``Expr``."""
    return _parse(source, "start", _Builder(source).expr)


def parse_definition(source: Source) -> tuple[str, Expr]:
    """``NAME = EXPR`` → the name and the expression."""

    def build(tree: Child) -> tuple[str, Expr]:
        assert isinstance(tree, lark.Tree)
        builder = _Builder(source)
        return builder.name(tree.children[0]), builder.expr(tree.children[1])

    return _parse(source, "definition", build)


def parse_type(source: Source) -> Type:
    """Type text (``Fin 3=>Real``) → ``Type``."""
    return _parse(source, "type", _Builder(source).type)


def _parse(source: Source, start: str, build: Callable[[Child], T]) -> T:
    if not source.text.strip() or not _has_code(source.text):
        raise ParseError(f"empty input; expected {'a program' if start == 'start' else 'a type'}",
                         source.span(0, 0))
    tree = GRAMMAR.parse(source, start)
    try:
        return build(tree)
    except RecursionError:
        raise ParseError("input nested too deeply (bind the inner parts with let)",
                         source.span(0, 1)) from None


def _has_code(text: str) -> bool:
    return any(line.split("--", 1)[0].strip() for line in text.splitlines())


class _Builder:
    """Turns lark's tree into the AST, one method per grammar alternative."""

    def __init__(self, source: Source) -> None:
        self.source = source

    def span(self, node: Child) -> Span | None:
        return span_of(node, self.source)

    def name(self, token: Child) -> str:
        assert isinstance(token, lark.Token)
        return str(token)

    def int(self, token: Child) -> int:
        return integer(self.name(token), self.span(token))

    def expr(self, node: Child) -> Expr:
        assert isinstance(node, lark.Tree)
        kids, span, e = node.children, self.span(node), self.expr
        match node.data:
            case "var":
                return Var(self.name(kids[0]), span=span)
            case "int":
                return IntLit(self.int(kids[0]), span=span)
            case "real":
                text = self.name(kids[0])
                literal(text, span)  # (no more digits than an exact Fraction can be read from)
                return RealLit(Fraction(text), span=span)
            case "true" | "false":
                return BoolLit(node.data == "true", span=span)
            case "unit":
                return UnitLit(span=span)
            case "pair":
                return Pair(e(kids[0]), e(kids[1]), span=span)
            case "seq":
                return Seq(e(kids[0]), e(kids[1]), span=span)
            case "lam":
                return Lam(self.name(kids[0]), self.type(kids[1]), e(kids[2]), span=span)
            case "for_":
                return For(self.name(kids[0]), self.type(kids[1]), e(kids[2]), span=span)
            case "for_inferred":
                return For(self.name(kids[0]), Omitted(), e(kids[1]), span=span)
            case "let":
                return self.lets(node)
            case "if_":
                return If(e(kids[0]), e(kids[1]), e(kids[2]), span=span)
            case "case":
                return Case(e(kids[0]), tuple(self.alt(a) for a in kids[1:]), span=span)
            case "run_state" | "with_reader":
                handler = str(node.data)
                return Handle(handler, e(kids[0]), None, self.name(kids[1]), e(kids[2]), span=span)
            case "run_accum":
                return Handle("run_accum", None, self.type(kids[0]), self.name(kids[1]), e(kids[2]),
                              span=span)
            case "accum":
                return Accum(e(kids[0]), e(kids[1]), span=span)
            case "put":
                return Put(e(kids[0]), e(kids[1]), span=span)
            case "binop":
                return BinOp(self.name(kids[1]), e(kids[0]), e(kids[2]), span=span)
            case "neg":
                return Neg(e(kids[0]), span=span)
            case "app":
                return App(e(kids[0]), e(kids[1]), span=span)
            case "index":
                return Index(e(kids[0]), e(kids[1]), span=span)
            case "ref_index":
                return RefIndex(e(kids[0]), e(kids[1]), span=span)
            case "at":
                return At(e(kids[0]), self.type(kids[1]), span=span)
        raise ParseError(f"unknown construct {node.data}", span)

    def lets(self, node: Tree) -> Expr:
        """A chain ``let x1 = e1 in … let xn = en in body``, walked along its spine (not recursively),
        so that thousands of lets build."""
        spine: list[Tree] = []
        child: Child = node
        while isinstance(child, lark.Tree) and child.data == "let":
            spine.append(child)
            child = child.children[2]
        out = self.expr(child)
        for link in reversed(spine):
            kids = link.children
            out = Let(self.name(kids[0]), self.expr(kids[1]), out, span=self.span(link))
        return out

    def alt(self, node: Child) -> tuple[str, Expr]:
        assert isinstance(node, lark.Tree)
        return self.name(node.children[0]), self.expr(node.children[1])

    def type(self, node: Child) -> Type:
        assert isinstance(node, lark.Tree)
        kids, span, t = node.children, self.span(node), self.type
        match node.data:
            case "real_t":
                return REAL
            case "int_t":
                return INT
            case "bool_t":
                return BOOL
            case "unit_t":
                return UNIT
            case "fin":
                return Fin(self.int(kids[0]), span=span)
            case "enum":
                labels = tuple(self.name(k) for k in kids)
                if len(set(labels)) < len(labels):
                    raise ParseError("an enumeration lists each label once", span)
                return Enum(labels, span=span)
            case "pair_t":
                return PairT(t(kids[0]), t(kids[1]), span=span)
            case "table":
                return TableT(t(kids[0]), t(kids[1]), span=span)
            case "fun":
                return FunT(t(kids[0]), (), t(kids[1]), span=span)
            case "efun":
                row = kids[1]
                assert isinstance(row, lark.Tree)
                effects = tuple(self.effect(k) for k in row.children)
                return FunT(t(kids[0]), effects, t(kids[2]), span=span)
        raise ParseError(f"unknown type construct {node.data}", span)

    def effect(self, node: Child) -> Effect:
        assert isinstance(node, lark.Tree)
        kind, name = node.children
        return Effect(self.name(kind), self.name(name), span=self.span(node))
