"""The fast parser: precedence climbing over the tokens of ``parse_tokens``, building the AST directly.

It reads the language of ``grammar.lark`` into the AST the reference parser (``parse.py``) builds,
spans included, but it never reports an error: on anything it does not accept (a syntax error, a
scope error, primitive parameters ``p[k=v](…)``, applied types ``T[…]``, nesting within 16 levels
of ``MAX_DEPTH``) ``parse`` returns ``None`` and the caller re-parses with the reference parser,
whose errors are the language's. So the fast parser needs to agree with the reference only on
what it accepts; the theorem ``linear_ad.syntax.fast_parser_agrees`` checks that it does.

Lark's lexer is contextual (it tries only the tokens the parser state accepts); this one is not,
and differs in one place that matters: after an operand, ``-1.5`` is ``-`` then ``1.5`` (``x -1.5``
is a subtraction), which the parser splits itself (``sum``).

The reading is in four layers: ``parse_fast_cursor`` (tokens, spans, names), ``parse_fast_heads``
(types, parameters, patterns), ``parse_fast_direct`` (calls, and the commonest bindings read in one
step), and here definitions and expressions.
"""

from __future__ import annotations

from calculi.core.errors import CalculusError
from calculi.core.syntax import Source
from calculi.linear_ad.built import new_block, new_funcdef, new_letb
from calculi.linear_ad.names import AnyScope, empty
from calculi.linear_ad.parse_fast_cursor import LIMIT, Env, Parsed, Refuse, Undo
from calculi.linear_ad.parse_fast_direct import BINARY, DirectReader
from calculi.linear_ad.parse_forms import STRUCTURAL
from calculi.linear_ad.parse_tokens import DEEP, FORM, INVALID, tokens
from calculi.linear_ad.primitives import PRIMITIVES
from calculi.linear_ad.syntax import (
    Binder,
    Binding,
    Expr,
    FuncDef,
    LVar,
    Program,
    Ret,
    UnpackB,
    UnpackLB,
    Var,
    room_for_depth,
)

_ADDITIVE = {"+", "-", "(+)", "⊕"}
_MULTIPLICATIVE = {"*", "×", "/", "*.", "⊙"}
_AFTER_ARGUMENT = {",", ")", ";"}
_ENDS = {",", ")", ";", "in", "def", "$END"}
"""Tokens that end an expression: a name before one is a variable, a call before one is all of it."""
_NOT_LEAF = {"(", "[", "**"}
"""Tokens after which a name is not an operand by itself."""


def parse(source: Source, known: Program | None = None) -> Program | None:
    """The program ``source`` is, as ``parse.parse_reference`` reads it, or ``None``."""
    program = attempt(source, known)
    return program if isinstance(program, Program) else None


def attempt(source: Source, known: Program | None = None) -> Program | str:
    """The program ``source`` is, or why the fast parser refuses it (``INVALID``, ``DEEP``, ``FORM``)."""
    room_for_depth()
    lexed = tokens(source.text)
    if isinstance(lexed, str):
        return lexed
    try:
        return _Parser(source, known, *lexed).program()
    except Refuse as refusal:
        return refusal.reason
    except CalculusError:
        return INVALID


class _Parser(DirectReader):
    """Definitions and expressions, by precedence climbing."""

    # -- definitions -----------------------------------------------------------------------------

    def program(self) -> Program:
        defs: list[FuncDef] = []
        here: set[str] = set()
        kinds = self.kinds
        while kinds[self.i] != "$END":
            if kinds[self.i] != "def":
                self.keyword("def")
            d = self.funcdef()
            if d.name in PRIMITIVES or d.name in STRUCTURAL or d.name in here:
                raise Refuse
            here.add(d.name)
            self.functions[d.name] = d
            defs.append(d)
        return Program(tuple(defs), span=self.source.span(0, len(self.text)))

    def funcdef(self) -> FuncDef:
        i = self.i
        kinds = self.kinds
        if kinds[i] != "def" or kinds[i + 1] != "NAME" or kinds[i + 2] != "(":
            raise Refuse
        start = self.starts[i]
        name = self.text[self.starts[i + 1]:self.ends[i + 1]]
        self.i = i + 3
        env: Env = {}
        (params, types, lparams, ltypes), scope = self.parameters(env, empty())
        i = self.i
        if kinds[i] != ")" or (kinds[i + 1] != "->" and kinds[i + 1] != "→"):
            raise Refuse
        self.i = i + 2
        result = self.result()
        i = self.i
        if kinds[i] != "=":
            raise Refuse
        self.i = i + 1
        body, _, end, height = self.expr(env, scope)
        if height > LIMIT:
            raise Refuse(DEEP)
        d: FuncDef = new_funcdef(name, params, types, lparams, ltypes, result, body, self.at(start, end))
        return d

    # -- expressions -----------------------------------------------------------------------------

    def expr(self, env: Env, scope: AnyScope) -> Parsed:
        """A block or a sum; a variable, or a call ``f(x)``, before a token that ends an expression
        is read directly (what ``sum`` would read, in fewer steps)."""
        nest = self.nest + 1
        if nest > LIMIT:
            raise Refuse(DEEP)
        i = self.i
        kinds = self.kinds
        kind = kinds[i]
        if kind == "NAME":
            after = kinds[i + 1]
            if after in _ENDS:
                self.i = i + 1
                return self.variable(i, env), self.starts[i], self.ends[i], 1
            if after == "(" and kinds[i + 2] == "NAME" and kinds[i + 3] == ")" and kinds[i + 4] in _ENDS:
                self.i = i + 4
                return self.applied_to(i, env), self.starts[i], self.ends[i + 3], 2
        self.nest = nest
        parsed = self.block(env, scope) if kind == "let" else self.sum(env, scope)
        self.nest = nest - 1
        return parsed

    def block(self, env: Env, scope: AnyScope) -> Parsed:
        undo: Undo = {}
        bindings: list[Binding] = []
        start = self.starts[self.i]
        height = 0
        try:
            while self.kinds[self.i] == "let":
                binding, scope, h = self.binding(env, scope, undo)
                bindings.append(binding)
                if h > height:
                    height = h
            i = self.i
            kinds = self.kinds
            result: Expr
            if kinds[i] == "NAME" and kinds[i + 1] in _ENDS:
                self.i = i + 1
                result = self.variable(i, env)
                end, h = self.ends[i], 1
            elif kinds[i + 1] in BINARY and kinds[i] == kinds[i + 2] == "NAME" and kinds[i + 3] in _ENDS:
                result, end, h = self.operation(i, env)
            else:
                result, _, end, h = self.sum(env, scope)
        finally:
            for text, old in undo.items():
                if old is None:
                    env.pop(text, None)
                else:
                    env[text] = old
        block = new_block(tuple(bindings), result, self.at(start, end))
        return block, start, end, (height if height > h else h) + 1

    def binding(self, env: Env, scope: AnyScope,
                undo: Undo) -> tuple[Binding, AnyScope, int]:
        i = self.i
        start = self.starts[i]
        kinds = self.kinds
        after: list[int]
        if kinds[i + 1] == "NAME" and kinds[i + 2] == "=":
            direct = self.direct_binding(i, env, scope, undo)
            if direct is not None:
                return direct
            before, after, mixed = [i + 1], [], False
            self.i = i + 3
        else:
            self.i = i + 1
            before, after, mixed = self.pattern()
            self.expect("=")
        kind = kinds[self.i]
        height = 0
        if kind == "unpack" or kind == "unpackL":
            self.i += 1
            value: Expr = self.variable(self.expect("NAME"), env)
            if kind == "unpack" and (not isinstance(value, Var) or after):
                raise Refuse
            if kind == "unpackL":
                if not isinstance(value, LVar) or (mixed and before):
                    raise Refuse
                before, after = [], after if mixed else before
        else:
            value, _, _, height = self.expr(env, scope)
        i = self.i
        if kinds[i] == "in":
            self.i = i + 1
        else:
            i = self.keyword("in")
        end = self.ends[i]
        if len(before) == 1 and not after and kind != "unpack" and kind != "unpackL":
            binder, scope = self.bind(before[0], False, env, scope, undo)
            return new_letb((binder,), (), value, self.at(start, end)), scope, height
        bound: list[Binder] = []
        for i in before:
            binder, scope = self.bind(i, False, env, scope, undo)
            bound.append(binder)
        lbound: list[Binder] = []
        for i in after:
            binder, scope = self.bind(i, True, env, scope, undo)
            lbound.append(binder)
        span = self.at(start, end)
        if kind == "unpack":
            assert isinstance(value, Var)
            return UnpackB(tuple(bound), value, span=span), scope, 0
        if kind == "unpackL":
            assert isinstance(value, LVar)
            return UnpackLB(tuple(lbound), value, span=span), scope, 0
        return new_letb(tuple(bound), tuple(lbound), value, span), scope, height

    def sum(self, env: Env, scope: AnyScope) -> Parsed:
        """``prod (("+" | "-" | "⊕") prod)*``, left-associative. After an operand, a number
        ``-1.5`` is ``-`` then ``1.5``, as lark's contextual lexer reads it."""
        left, start, end, height = self.prod(env, scope)
        kinds = self.kinds
        while True:
            kind = kinds[self.i]
            if kind in _ADDITIVE:
                self.i += 1
            elif kind == "NUMBER" and self.text[self.starts[self.i]] == "-":
                kind = "-"
                self.starts[self.i] += 1
            else:
                return left, start, end, height
            right, _, end, h = self.prod(env, scope)
            left = self.apply(kind, (left, right), self.at(start, end))
            height = (height if height > h else h) + 1

    def prod(self, env: Env, scope: AnyScope) -> Parsed:
        """``unary (("*" | "/" | "⊙") unary)*``, left-associative. A name may start with ``×``
        (U+00D7 is a Latin-1 letter to the grammar's names), so after an operand a name ``×`` is
        the operator, as lark's contextual lexer reads it; ``×y`` is handed over. A variable, or a
        call ``f(x)`` without ``**`` after it, is read directly (what ``unary`` would read)."""
        kinds = self.kinds
        i = self.i
        left: Expr
        if kinds[i] == "NAME" and kinds[i + 1] not in _NOT_LEAF:
            self.i = i + 1
            left = self.variable(i, env)
            start, end, height = self.starts[i], self.ends[i], 1
        elif (kinds[i] == "NAME" and kinds[i + 1] == "(" and kinds[i + 2] == "NAME" and kinds[i + 3] == ")"
              and kinds[i + 4] != "**"):
            self.i = i + 4
            start, end, height = self.starts[i], self.ends[i + 3], 2
            left = self.applied_to(i, env)
        else:
            left, start, end, height = self.unary(env, scope)
        while True:
            kind = kinds[self.i]
            if kind == "NAME" and self.text[self.starts[self.i]] == "×":
                if self.ends[self.i] - self.starts[self.i] > 1:
                    raise Refuse(FORM)
                kind = "×"
            elif kind not in _MULTIPLICATIVE:
                return left, start, end, height
            i = self.i + 1
            if kinds[i] == "NAME" and kinds[i + 1] not in _NOT_LEAF:
                self.i = i + 1
                right: Expr = self.variable(i, env)
                end, h = self.ends[i], 1
            else:
                self.i = i
                right, _, end, h = self.unary(env, scope)
            left = self.apply(kind, (left, right), self.at(start, end))
            height = (height if height > h else h) + 1

    def unary(self, env: Env, scope: AnyScope) -> Parsed:
        """``"-" unary | atom ["**" unary]``: ``**`` binds tighter than a unary minus on its left,
        looser on its right (``-x ** -y`` is ``-(x ** (-y))``), and groups to the right."""
        i = self.i
        kinds = self.kinds
        if kinds[i] == "-":
            start = self.starts[i]
            self.i = i + 1
            self.nest += 1
            if self.nest > LIMIT:
                raise Refuse(DEEP)
            operand, _, end, height = self.unary(env, scope)
            self.nest -= 1
            return self.apply("neg", (operand,), self.at(start, end)), start, end, height + 1
        if kinds[i] == "NAME" and kinds[i + 1] != "(":
            if kinds[i + 1] == "[":
                raise Refuse(FORM)
            self.i = i + 1
            base: Expr = self.variable(i, env)
            start, end, height = self.starts[i], self.ends[i], 1
        else:
            base, start, end, height = (self.call if kinds[i] == "NAME" else self.atom)(env, scope)
        if kinds[self.i] != "**":
            return base, start, end, height
        self.i += 1
        self.nest += 1
        if self.nest > LIMIT:
            raise Refuse(DEEP)
        exponent, _, end, h = self.unary(env, scope)
        self.nest -= 1
        pow_ = self.apply("**", (base, exponent), self.at(start, end))
        return pow_, start, end, max(height, h) + 1

    def atom(self, env: Env, scope: AnyScope) -> Parsed:
        i = self.i
        kind = self.kinds[i]
        start, end = self.starts[i], self.ends[i]
        if kind == "NAME":
            if self.kinds[i + 1] == "(":
                return self.call(env, scope)
            self.i = i + 1
            return self.variable(i, env), start, end, 1
        if kind == "NUMBER" or kind == "zero":
            return self.constant(i)
        if kind != "(":
            raise Refuse
        self.i = i + 1
        args: list[Expr] = []
        height = 0
        if self.kinds[self.i] != ";":
            first = self.expr(env, scope)
            if self.kinds[self.i] == ")":
                self.i += 1
                return first[0], start, self.ends[self.i - 1], first[3]
            args.append(first[0])
            height = first[3]
            while self.kinds[self.i] == ",":
                self.i += 1
                e, _, _, h = self.expr(env, scope)
                args.append(e)
                height = max(height, h)
        self.expect(";")
        largs, h = self.exprs(env, scope)
        end = self.ends[self.expect(")")]
        ret = Ret(self.forms.vars(args, "Ret"), self.forms.lvars(largs, "Ret"), span=self.at(start, end))
        return ret, start, end, max(height, h) + 1

    def exprs(self, env: Env, scope: AnyScope) -> tuple[list[Expr], int]:
        """``expr ("," expr)*``, or nothing before ``)``."""
        out: list[Expr] = []
        height = 0
        if self.kinds[self.i] == ")":
            return out, height
        kinds = self.kinds
        while True:
            i = self.i
            if kinds[i] == "NAME" and kinds[i + 1] in _AFTER_ARGUMENT:
                self.i = i + 1
                out.append(self.variable(i, env))
                height = max(height, 1)
            else:
                e, _, _, h = self.expr(env, scope)
                out.append(e)
                height = max(height, h)
            if kinds[self.i] != ",":
                return out, height
            self.i += 1

    def call(self, env: Env, scope: AnyScope) -> Parsed:
        i = self.i
        name = self.word(i)
        start = self.starts[i]
        self.i = i + 2
        args: list[Expr] = []
        kinds = self.kinds
        if kinds[i + 2] == "NAME" and kinds[i + 3] == ")":
            self.i = i + 3
            args.append(self.variable(i + 2, env))
            largs: list[Expr] = []
            height = 1
        elif kinds[i + 2] == ";":
            self.i += 1
            largs, height = self.exprs(env, scope)
        else:
            args, height = self.exprs(env, scope)
            largs = []
            if args and self.kinds[self.i] == ";":
                self.i += 1
                largs, h = self.exprs(env, scope)
                height = max(height, h)
        end = self.ends[self.expect(")")]
        return self.applied(name, args, largs, self.at(start, end)), start, end, height + 1


__all__ = ["DEEP", "FORM", "INVALID", "LIMIT", "attempt", "parse"]
