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
"""

from __future__ import annotations

from bisect import bisect_right

from calculi.core.errors import CalculusError
from calculi.core.syntax import Source, Span
from calculi.linear_ad.names import AnyScope, ascii_hint, empty, fresh
from calculi.linear_ad.parse_forms import OPERATORS, STRUCTURAL, FormReader, literal, operator
from calculi.linear_ad.parse_tokens import (
    DEEP,
    FORM,
    INVALID,
    SET_SPAN,
    new,
    new_binder,
    new_letb,
    new_lvar,
    new_prim,
    new_var,
    tokens,
)
from calculi.linear_ad.primitives import PRIMITIVES
from calculi.linear_ad.syntax import (
    MAX_DEPTH,
    Binder,
    Binding,
    Block,
    Call,
    Expr,
    FuncDef,
    Lit,
    LVar,
    Prim,
    Primitive,
    Program,
    Ret,
    UnpackB,
    UnpackLB,
    Var,
    Zero,
    room_for_depth,
)
from calculi.linear_ad.types import REAL, TYPE_CONSTRUCTORS, Mixed, TupleType, Type

_ADDITIVE = {"+", "-", "(+)", "⊕"}
_MULTIPLICATIVE = {"*", "×", "/", "*.", "⊙"}
_AFTER_ARGUMENT = {",", ")", ";"}

LIMIT = MAX_DEPTH - 16
"""Nesting past which the fast parser hands over (the reference parser refuses past ``MAX_DEPTH``)."""


class _Refuse(Exception):
    """The fast parser does not accept the text; the reference parser decides."""

    def __init__(self, reason: str = INVALID) -> None:
        super().__init__(reason)
        self.reason = reason


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
    except _Refuse as refusal:
        return refusal.reason
    except CalculusError:
        return INVALID


Env = dict[str, tuple[int, bool]]
Parsed = tuple[Expr, int, int, int]
"""An expression, where it starts and ends counting enclosing parentheses (the extent the
reference parser gives the operator above it), and its height (nesting of expressions)."""


class _Parser:
    def __init__(self, source: Source, known: Program | None, kinds: list[str], starts: list[int],
                 ends: list[int]) -> None:
        self.source = source
        self.forms = FormReader(source)
        self.text = source.text
        self.kinds = [*kinds, "$END"]
        self.starts = [*starts, len(source.text)]
        self.ends = [*ends, len(source.text)]
        self.i = 0
        self.nest = 0
        self.functions = {d.name: d for d in known.defs} if known else {}
        self.hints: dict[str, str] = {}
        self.operators: dict[str, Primitive] = {}
        self.line_starts = source.line_starts
        self.first = source.first_line - 1

    # -- tokens and spans ------------------------------------------------------------------------

    def expect(self, kind: str) -> int:
        """Consume a token of ``kind``; its index."""
        i = self.i
        if self.kinds[i] != kind:
            raise _Refuse
        self.i = i + 1
        return i

    def keyword(self, word: str) -> int:
        """Consume ``in`` or ``def`` where no name may stand; lark's lexer, trying only the tokens
        that may come next, reads ``iny`` there as ``in y``, which is handed over."""
        i = self.i
        if self.kinds[i] == "NAME" and self.word(i).startswith(word):
            raise _Refuse(FORM)
        return self.expect(word)

    def at(self, start: int, end: int) -> Span:
        """``source.span(start, end)``, built field by field (a third faster than through the frozen
        dataclass's ``__init__``, which is most of the parser's time)."""
        ls = self.line_starts
        line = bisect_right(ls, start)
        end_line = bisect_right(ls, end, line - 1)
        span = new(Span)
        source, start_, end_, line_, column, end_line_, end_column = SET_SPAN
        source(span, self.source)
        start_(span, start)
        end_(span, end)
        line_(span, line + self.first)
        column(span, start - ls[line - 1] + 1)
        end_line_(span, end_line + self.first)
        end_column(span, end - ls[end_line - 1] + 1)
        return span

    def tok(self, i: int) -> Span:
        return self.at(self.starts[i], self.ends[i])

    def word(self, i: int) -> str:
        return self.text[self.starts[i]:self.ends[i]]

    def operator(self, symbol: str) -> Primitive:
        """The primitive an operator applies (``neg``: the unary minus), looked up once a parse."""
        p = self.operators.get(symbol)
        if p is None:
            name = OPERATORS.get(symbol, symbol)
            p = self.operators[symbol] = operator(name, symbol, None)
        return p

    def apply(self, symbol: str, operands: tuple[Expr, ...], span: Span) -> Expr:
        """``parse_forms.apply`` of the operator's primitive."""
        p = self.operator(symbol)
        if p.linear:
            k = p.arity or 0
            return new_prim(p, operands[:k], operands[k:], (), span)
        return new_prim(p, operands, (), (), span)

    def hint(self, text: str) -> str:
        hint = self.hints.get(text)
        if hint is None:
            hint = self.hints[text] = ascii_hint(text)
        return hint

    # -- definitions -----------------------------------------------------------------------------

    def program(self) -> Program:
        defs: list[FuncDef] = []
        here: set[str] = set()
        while self.kinds[self.i] != "$END":
            self.keyword("def")
            self.i -= 1
            d = self.funcdef()
            if d.name in PRIMITIVES or d.name in STRUCTURAL or d.name in here:
                raise _Refuse
            here.add(d.name)
            self.functions[d.name] = d
            defs.append(d)
        return Program(tuple(defs), span=self.source.span(0, len(self.text)))

    def funcdef(self) -> FuncDef:
        start = self.starts[self.expect("def")]
        name = self.word(self.expect("NAME"))
        self.expect("(")
        env: Env = {}
        scope = empty()
        groups: list[list[tuple[Binder, Type]]] = [[], []]
        for which in (0, 1):
            if which == 1:
                if self.kinds[self.i] != ";":
                    break
                self.i += 1
            if self.kinds[self.i] == "NAME":
                while True:
                    binder, scope = self.bind(self.expect("NAME"), which == 1, env, scope)
                    self.expect(":")
                    groups[which].append((binder, self.type(0)))
                    if self.kinds[self.i] != ",":
                        break
                    self.i += 1
        self.expect(")")
        if self.kinds[self.i] not in ("->", "→"):
            raise _Refuse
        self.i += 1
        result = self.result()
        self.expect("=")
        body, _, end, height = self.expr(env, scope)
        if height > LIMIT:
            raise _Refuse(DEEP)
        return FuncDef(name, tuple(b for b, _ in groups[0]), tuple(ty for _, ty in groups[0]),
                       tuple(b for b, _ in groups[1]), tuple(ty for _, ty in groups[1]), result, body,
                       span=self.at(start, end))

    def bind(self, i: int, linear: bool, env: Env, scope: AnyScope,
             undo: dict[str, tuple[int, bool] | None] | None = None) -> tuple[Binder, AnyScope]:
        text = self.word(i)
        ident, scope = fresh(scope)
        if undo is not None and text not in undo:
            undo[text] = env.get(text)
        env[text] = (ident, linear)
        return new_binder(ident, self.hint(text), self.tok(i)), scope

    # -- types -----------------------------------------------------------------------------------

    def result(self) -> Mixed:
        """``τ`` or ``(τ̄ ; σ̄)``: a parenthesised type is a result of one type unless it has ``;``."""
        if self.kinds[self.i] != "(":
            return Mixed((self.type(0),), ())
        self.i += 1
        kinds = self.kinds
        items: list[Type] = []
        if kinds[self.i] == ")":
            self.i += 1
            return Mixed((TupleType(()),), ())
        if kinds[self.i] != ";":
            items.append(self.type(1))
            while kinds[self.i] == ",":
                self.i += 1
                if kinds[self.i] == ")" and len(items) == 1:
                    self.i += 1
                    return Mixed((TupleType((items[0],)),), ())
                items.append(self.type(1))
            if kinds[self.i] == ")":
                self.i += 1
                return Mixed((items[0] if len(items) == 1 else TupleType(tuple(items)),), ())
        self.expect(";")
        after: list[Type] = []
        if kinds[self.i] != ")":
            after.append(self.type(1))
            while kinds[self.i] == ",":
                self.i += 1
                after.append(self.type(1))
        self.expect(")")
        return Mixed(tuple(items), tuple(after))

    def type(self, depth: int) -> Type:
        if depth > LIMIT:
            raise _Refuse(DEEP)
        i = self.i
        kind = self.kinds[i]
        self.i = i + 1
        if kind == "ℝ":
            return REAL
        if kind == "NAME":
            name = self.word(i)
            if self.kinds[i + 1] == "[":
                raise _Refuse(FORM)
            if name in ("R", "Real"):
                return REAL
            if name in TYPE_CONSTRUCTORS:
                return TYPE_CONSTRUCTORS[name](())
            raise _Refuse
        if kind != "(":
            raise _Refuse
        if self.kinds[self.i] == ")":
            self.i += 1
            return TupleType(())
        items = [self.type(depth + 1)]
        if self.kinds[self.i] == ")":
            self.i += 1
            return items[0]
        self.expect(",")
        if self.kinds[self.i] == ")":
            self.i += 1
            return TupleType((items[0],))
        items.append(self.type(depth + 1))
        while self.kinds[self.i] == ",":
            self.i += 1
            items.append(self.type(depth + 1))
        self.expect(")")
        return TupleType(tuple(items))

    # -- expressions -----------------------------------------------------------------------------

    def expr(self, env: Env, scope: AnyScope) -> Parsed:
        self.nest += 1
        if self.nest > LIMIT:
            raise _Refuse(DEEP)
        try:
            if self.kinds[self.i] == "let":
                return self.block(env, scope)
            return self.sum(env, scope)
        finally:
            self.nest -= 1

    def block(self, env: Env, scope: AnyScope) -> Parsed:
        undo: dict[str, tuple[int, bool] | None] = {}
        bindings: list[Binding] = []
        start = self.starts[self.i]
        height = 0
        try:
            while self.kinds[self.i] == "let":
                binding, scope, h = self.binding(env, scope, undo)
                bindings.append(binding)
                height = max(height, h)
            result, _, end, h = self.sum(env, scope)
        finally:
            for text, old in undo.items():
                if old is None:
                    env.pop(text, None)
                else:
                    env[text] = old
        return Block(tuple(bindings), result, span=self.at(start, end)), start, end, max(height, h) + 1

    def binding(self, env: Env, scope: AnyScope,
                undo: dict[str, tuple[int, bool] | None]) -> tuple[Binding, AnyScope, int]:
        start = self.starts[self.i]
        self.i += 1
        before, after, mixed = self.pattern()
        self.expect("=")
        kind = self.kinds[self.i]
        height = 0
        if kind == "unpack" or kind == "unpackL":
            self.i += 1
            value: Expr = self.variable(self.expect("NAME"), env)
            if kind == "unpack" and (not isinstance(value, Var) or after):
                raise _Refuse
            if kind == "unpackL":
                if not isinstance(value, LVar) or (mixed and before):
                    raise _Refuse
                before, after = [], after if mixed else before
        else:
            value, _, _, height = self.expr(env, scope)
        end = self.ends[self.keyword("in")]
        bound: list[list[Binder]] = [[], []]
        for which, toks in enumerate((before, after)):
            for i in toks:
                binder, scope = self.bind(i, which == 1, env, scope, undo)
                bound[which].append(binder)
        span = self.at(start, end)
        if kind == "unpack":
            assert isinstance(value, Var)
            return UnpackB(tuple(bound[0]), value, span=span), scope, 0
        if kind == "unpackL":
            assert isinstance(value, LVar)
            return UnpackLB(tuple(bound[1]), value, span=span), scope, 0
        return new_letb(tuple(bound[0]), tuple(bound[1]), value, span), scope, height

    def pattern(self) -> tuple[list[int], list[int], bool]:
        """The name tokens of a pattern, before and after ``;`` (a pattern without ``;`` has them
        all before), and whether it has a ``;``."""
        if self.kinds[self.i] == "NAME":
            self.i += 1
            return [self.i - 1], [], False
        self.expect("(")
        groups: tuple[list[int], list[int]] = ([], [])
        semi = False
        for which in (0, 1):
            if which == 1:
                if self.kinds[self.i] != ";":
                    break
                semi = True
                self.i += 1
            if self.kinds[self.i] == "NAME":
                groups[which].append(self.expect("NAME"))
                while self.kinds[self.i] == ",":
                    self.i += 1
                    groups[which].append(self.expect("NAME"))
        if not semi and not groups[0]:
            raise _Refuse
        self.expect(")")
        return groups[0], groups[1], semi

    def variable(self, i: int, env: Env) -> Var | LVar:
        text = self.word(i)
        slot = env.get(text)
        if slot is None:
            raise _Refuse
        if slot[1]:
            return new_lvar(slot[0], self.hint(text), self.tok(i))
        return new_var(slot[0], self.hint(text), self.tok(i))

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
            height = max(height, h) + 1

    def prod(self, env: Env, scope: AnyScope) -> Parsed:
        """``unary (("*" | "/" | "⊙") unary)*``, left-associative. A name may start with ``×``
        (U+00D7 is a Latin-1 letter to the grammar's names), so after an operand a name ``×`` is
        the operator, as lark's contextual lexer reads it; ``×y`` is handed over."""
        left, start, end, height = self.unary(env, scope)
        kinds = self.kinds
        while True:
            kind = kinds[self.i]
            if kind == "NAME" and self.text[self.starts[self.i]] == "×":
                if self.ends[self.i] - self.starts[self.i] > 1:
                    raise _Refuse(FORM)
                kind = "×"
            elif kind not in _MULTIPLICATIVE:
                return left, start, end, height
            self.i += 1
            right, _, end, h = self.unary(env, scope)
            left = self.apply(kind, (left, right), self.at(start, end))
            height = max(height, h) + 1

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
                raise _Refuse(DEEP)
            operand, _, end, height = self.unary(env, scope)
            self.nest -= 1
            return self.apply("neg", (operand,), self.at(start, end)), start, end, height + 1
        if kinds[i] == "NAME" and kinds[i + 1] != "(":
            if kinds[i + 1] == "[":
                raise _Refuse(FORM)
            self.i = i + 1
            base: Expr = self.variable(i, env)
            start, end, height = self.starts[i], self.ends[i], 1
        else:
            base, start, end, height = self.atom(env, scope)
        if kinds[self.i] != "**":
            return base, start, end, height
        self.i += 1
        self.nest += 1
        if self.nest > LIMIT:
            raise _Refuse(DEEP)
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
        if kind == "NUMBER":
            self.i = i + 1
            text = self.text[start:end]
            span = self.at(start, end)
            literal(text, span)
            return (Zero(REAL, span=span) if text == "0" else Lit(text, span=span)), start, end, 1
        if kind == "zero":
            self.i = i + 1
            self.expect("(")
            ty = self.type(0)
            end = self.ends[self.expect(")")]
            return Zero(ty, span=self.at(start, end)), start, end, 1
        if kind != "(":
            raise _Refuse
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
        if self.kinds[self.i] == ";":
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
        span = self.at(start, end)
        e: Expr
        if name in STRUCTURAL:
            e = self.forms.structural(name, args, largs, span)
        elif name in PRIMITIVES:
            p = PRIMITIVES[name]
            if p.arity is not None and (len(args) != p.arity or len(largs) != p.larity):
                raise _Refuse
            e = Prim(p, tuple(args), tuple(largs), span=span)
        elif name in self.functions:
            e = Call(name, self.forms.vars(args, "App"), self.forms.lvars(largs, "App"), span=span)
        else:
            raise _Refuse
        return e, start, end, height + 1


__all__ = ["DEEP", "FORM", "INVALID", "LIMIT", "attempt", "parse"]
