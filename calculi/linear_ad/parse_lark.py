"""The reference parser of Linear A: the LALR grammar ``grammar.lark`` and the builder that resolves
names through foil scopes. Its errors (positions, expected tokens, hints) are the language's syntax
errors, and the builder's are its scope errors. ``parse.parse_program`` runs the fast parser, and
imports this module (and lark) only for a text the fast parser hands over.
"""

from __future__ import annotations

from collections.abc import Callable

import lark
from lark import Token, Tree

from calculi.core.errors import ParseError, ScopeError, TypeCheckError, UnboundError
from calculi.core.parsing import Grammar, literal
from calculi.core.syntax import Source, Span
from calculi.linear_ad.names import AnyScope, ascii_hint, empty, fresh
from calculi.linear_ad.parse_forms import OPERATORS, STRUCTURAL, FormReader, apply, operator
from calculi.linear_ad.primitives import PRIMITIVES
from calculi.linear_ad.syntax import (
    MAX_DEPTH,
    Binder,
    Binding,
    Block,
    Call,
    Expr,
    FuncDef,
    LetB,
    Lit,
    LVar,
    Prim,
    Program,
    Ret,
    UnpackB,
    UnpackLB,
    Var,
    Zero,
    room_for_depth,
)
from calculi.linear_ad.types import REAL, Type

GRAMMAR = Grammar.load(
    __package__,
    "grammar.lark",
    start="start",
    examples={
        "missing 'in' after a let binding": ["def f(x: R) -> R = let y = x y",
                                             "def f(x: R) -> R = let y = x"],
        "missing '=' and body after the result type": ["def f(x: R) -> R", "def f(x: R) -> R x"],
        "a function needs a result type: '-> (τ̄ ; σ̄)'": ["def f(x: R) = x"],
        "missing operand": ["def f(x: R) -> R = x +", "def f(x: R) -> R = x *", "def f(x: R) -> R = x -",
                            "def f(x: R) -> R = x **", "def f(x: R) -> R = x /"],
        "results are written '(x, y ;)', with ';' before the linear ones (a tuple value is 'tup(x, y)')":
            ["def f(x: R) -> R = (x, x)"],
    },
    names={"SEMI": "';'", "ARROW": "'->'", "NAME": "a name", "NUMBER": "a number", "LADDOP": "'(+)'",
           "MULOP": "'*'", "SCALEOP": "'*.'", "POWOP": "'**'", "DIVOP": "'/'", "MINUS": "'-'",
           "REALT": "'R'", "$END": "end of input"},
)

SYMBOLS = {"add": "+", "sub": "-", "ladd": "(+)", "mul": "*", "div": "/", "scale": "*.", "pow": "**"}
"""The infix rules of the grammar, by the primitive each applies (``parse_forms.OPERATORS``)."""
assert all(OPERATORS[symbol] == name for name, symbol in SYMBOLS.items())

Env = dict[str, tuple[int, bool]]


def parse_reference(source: Source, known: Program | None = None) -> Program:
    """``parse_program`` by the LALR grammar: slower, and the source of every error's wording."""
    room_for_depth()
    tree = GRAMMAR.parse(source)
    funcdefs = [t for t in tree.children if isinstance(t, Tree)]
    builder = _Builder(source, known)
    for t in funcdefs:
        name_tok = t.children[0]
        assert isinstance(name_tok, Token)
        builder.defined_in_file.setdefault(str(name_tok), builder.span(name_tok))
    defs = [builder.funcdef(t) for t in funcdefs]
    return Program(tuple(defs), span=source.span(0, len(source.text)))


class _Builder(FormReader):
    def __init__(self, source: Source, known: Program | None) -> None:
        super().__init__(source)
        self.functions: dict[str, FuncDef] = {d.name: d for d in known.defs} if known else {}
        self.defined_here: dict[str, Span | None] = {}
        self.defined_in_file: dict[str, Span | None] = {}
        self.current = ""
        self.depth = 0

    # -- definitions ------------------------------------------------------------------------

    def funcdef(self, t: Tree[Token]) -> FuncDef:
        name_tok, params_t, _arrow, result_t, body_t = t.children
        assert isinstance(name_tok, Token) and isinstance(params_t, Tree)
        assert isinstance(result_t, Tree) and isinstance(body_t, Tree | Token)
        name = str(name_tok)
        if name in PRIMITIVES or name in STRUCTURAL:
            raise ParseError(f"{name} is a primitive; choose another function name", self.span(name_tok))
        if name in self.defined_here:
            first = self.defined_here[name]
            raise ScopeError(f"function {name} is defined twice: first at {first}, again here",
                             self.span(name_tok), rule="Def")
        self.current = name
        env: Env = {}
        scope = empty()
        groups: list[list[tuple[Binder, Type]]] = [[], []]
        which = 0
        for child in params_t.children:
            if isinstance(child, Token) and child.type == "SEMI":
                which = 1
            elif isinstance(child, Tree):
                for p in child.children:
                    assert isinstance(p, Tree)
                    ptok, ptype = p.children
                    assert isinstance(ptok, Token) and isinstance(ptype, Tree)
                    binder, scope = self.bind(ptok, which == 1, env, scope, {})
                    groups[which].append((binder, self.type(ptype)))
        result = self.result(result_t)
        body = self.expr(body_t, env, scope)
        self.defined_here[name] = self.span(name_tok)
        fd = FuncDef(name, tuple(b for b, _ in groups[0]), tuple(ty for _, ty in groups[0]),
                     tuple(b for b, _ in groups[1]), tuple(ty for _, ty in groups[1]), result, body,
                     span=self.span(t))
        self.functions[name] = fd
        return fd

    def bind(self, tok: Token, linear: bool, env: Env, scope: AnyScope,
             undo: dict[str, tuple[int, bool] | None]) -> tuple[Binder, AnyScope]:
        text = str(tok)
        hint = ascii_hint(text)
        ident, scope = fresh(scope)
        if text not in undo:
            undo[text] = env.get(text)
        env[text] = (ident, linear)
        return Binder(ident, hint, span=self.span(tok)), scope

    # -- expressions ------------------------------------------------------------------------

    def expr(self, t: Tree[Token] | Token, env: Env, scope: AnyScope) -> Expr:
        if isinstance(t, Token):
            raise ParseError(f"unexpected {t!s}", self.span(t))
        rule = _RULES.get(t.data)
        if rule is None:
            raise ParseError(f"unexpected {t.data}", self.span(t))
        if self.depth >= MAX_DEPTH:
            raise ParseError(f"expression nested too deeply (more than {MAX_DEPTH:,} levels); bind "
                             "sub-expressions with let", self.start(t))
        self.depth += 1
        try:
            return rule(self, t, env, scope)
        finally:
            self.depth -= 1

    def block(self, t: Tree[Token], env: Env, scope: AnyScope) -> Expr:
        undo: dict[str, tuple[int, bool] | None] = {}
        bindings: list[Binding] = []
        try:
            for b in t.children[:-1]:
                assert isinstance(b, Tree)
                binding, scope = self.binding(b, env, scope, undo)
                bindings.append(binding)
            result = self.expr(t.children[-1], env, scope)
        finally:
            for text, old in undo.items():
                if old is None:
                    env.pop(text, None)
                else:
                    env[text] = old
        return Block(tuple(bindings), result, span=self.span(t))

    def binding(self, t: Tree[Token], env: Env, scope: AnyScope,
                undo: dict[str, tuple[int, bool] | None]) -> tuple[Binding, AnyScope]:
        pattern, rhs = t.children[0], t.children[1]
        assert isinstance(pattern, Tree)
        if t.data == "let_b":
            value = self.expr(rhs, env, scope)
        else:
            assert isinstance(rhs, Token)
            value = self.variable(rhs, env)
        groups = self.pattern(pattern, linear_plain=t.data == "unpackl_b")
        bound: list[list[Binder]] = [[], []]
        for which, toks in enumerate(groups):
            for tok in toks:
                binder, scope = self.bind(tok, which == 1, env, scope, undo)
                bound[which].append(binder)
        span = self.span(t)
        if t.data == "let_b":
            return LetB(tuple(bound[0]), tuple(bound[1]), value, span=span), scope
        if t.data == "unpack_b":
            if not isinstance(value, Var) or bound[1]:
                raise TypeCheckError("unpack takes a non-linear tuple variable; use unpackL for a linear one",
                                     value.span, rule="Unpack")
            return UnpackB(tuple(bound[0]), value, span=span), scope
        if not isinstance(value, LVar) or bound[0]:
            raise TypeCheckError("unpackL takes a linear tuple variable; use unpack for a non-linear one",
                                 value.span, rule="UnpackL")
        return UnpackLB(tuple(bound[1]), value, span=span), scope

    def variable(self, tok: Token, env: Env) -> Var | LVar:
        text = str(tok)
        if text not in env:
            raise UnboundError(f"{text} is not in scope", self.span(tok), rule="Var")
        ident, linear = env[text]
        hint = ascii_hint(text)
        return LVar(ident, hint, span=self.span(tok)) if linear else Var(ident, hint, span=self.span(tok))

    def var(self, t: Tree[Token], env: Env, scope: AnyScope) -> Expr:
        tok = t.children[0]
        assert isinstance(tok, Token)
        return self.variable(tok, env)

    def number(self, t: Tree[Token], env: Env, scope: AnyScope) -> Expr:
        text = str(t.children[0])
        literal(text, self.span(t))
        if text == "0":
            return Zero(REAL, span=self.span(t))
        return Lit(text, span=self.span(t))

    def zero_t(self, t: Tree[Token], env: Env, scope: AnyScope) -> Expr:
        child = t.children[0]
        assert isinstance(child, Tree)
        return Zero(self.type(child), span=self.span(t))

    def infix(self, t: Tree[Token], env: Env, scope: AnyScope) -> Expr:
        left, op, right = t.children[0], t.children[-2], t.children[-1]
        assert isinstance(left, Tree | Token) and isinstance(right, Tree | Token)
        a, b = self.expr(left, env, scope), self.expr(right, env, scope)
        name = str(t.data)
        p = operator(name, SYMBOLS[name], self.span(op) if isinstance(op, Token) else self.span(t))
        return apply(p, (a, b), self.span(t))

    def neg(self, t: Tree[Token], env: Env, scope: AnyScope) -> Expr:
        op, operand = t.children
        assert isinstance(op, Token) and isinstance(operand, Tree | Token)
        a = self.expr(operand, env, scope)
        return apply(operator("neg", "-", self.span(op)), (a,), self.span(t))

    def split_args(self, t: Tree[Token] | None, env: Env, scope: AnyScope) -> tuple[list[Expr], list[Expr]]:
        groups: list[list[Expr]] = [[], []]
        if t is None:
            return groups[0], groups[1]
        which = 1 if t.data == "largs_only" else 0
        for child in t.children:
            if isinstance(child, Token) and child.type == "SEMI":
                which = 1
            elif isinstance(child, Tree):
                groups[which] = [self.expr(c, env, scope) for c in child.children
                                 if isinstance(c, Tree | Token)]
        return groups[0], groups[1]

    def ret(self, t: Tree[Token], env: Env, scope: AnyScope) -> Expr:
        args, largs = self.split_args(t, env, scope)
        return Ret(self.vars(args, "Ret"), self.lvars(largs, "Ret"), span=self.span(t))

    def call(self, t: Tree[Token], env: Env, scope: AnyScope) -> Expr:
        name_tok = t.children[0]
        assert isinstance(name_tok, Token)
        name = str(name_tok)
        params_t = next((c for c in t.children[1:] if isinstance(c, Tree) and c.data == "pparams"), None)
        args_t = next((c for c in t.children[1:] if isinstance(c, Tree) and c.data != "pparams"), None)
        args, largs = self.split_args(args_t, env, scope)
        span = self.span(t)
        if name in STRUCTURAL:
            return self.structural(name, args, largs, span)
        if name in PRIMITIVES:
            p = PRIMITIVES[name]
            if p.arity is not None and (len(args) != p.arity or len(largs) != p.larity):
                shape = f"{p.arity} non-linear" + (f" ; {p.larity} linear" if p.linear else "")
                raise TypeCheckError(f"{name} takes {shape} argument(s), got {len(args)} ; {len(largs)}",
                                     span, rule=name)
            return Prim(p, tuple(args), tuple(largs), self.params(params_t), span=span)
        if name not in self.functions:
            raise self.unknown(name, self.span(name_tok))
        return Call(name, self.vars(args, "App"), self.lvars(largs, "App"), span=span)


    def unknown(self, name: str, span: Span | None) -> UnboundError:
        """The error for a call of ``name``, which is neither a primitive nor a function defined
        before: recursion, a call before the definition, or a name defined nowhere."""
        if name == self.current:
            return UnboundError(f"{name} calls itself: Linear A functions are not recursive (a function "
                                "may call only those defined before it)", span, rule="App")
        if name in self.defined_in_file:
            return UnboundError(f"{name} is called before its definition at {self.defined_in_file[name]} "
                                "(define a function before the functions that call it)", span, rule="App")
        return UnboundError(f"unknown function or primitive {name} (functions must be defined before "
                            "they are called)", span, rule="App")


def _grouping(b: _Builder, t: Tree[Token], env: Env, scope: AnyScope) -> Expr:
    child = t.children[0]
    assert isinstance(child, Tree | Token)
    return b.expr(child, env, scope)


_RULES: dict[str, Callable[[_Builder, Tree[Token], Env, AnyScope], Expr]] = {
    "block": _Builder.block,
    "var": _Builder.var,
    "number": _Builder.number,
    "zero_t": _Builder.zero_t,
    **{name: _Builder.infix for name in SYMBOLS},
    "neg": _Builder.neg,
    "ret": _Builder.ret,
    "call": _Builder.call,
    "atom": _grouping,
}

__all__ = ["GRAMMAR", "lark", "parse_reference"]
