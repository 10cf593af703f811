"""The fast parser's cursor over the tokens of ``parse_tokens``: consuming tokens, building spans,
looking up operators, and binding and resolving names.

``parse_fast_heads`` (types, parameters, patterns) and ``parse_fast`` (definitions, expressions)
read the language on top of it. A text the fast parser does not accept raises ``Refuse``, and the
reference parser decides.
"""

from __future__ import annotations

from bisect import bisect_right
from typing import Any

from calculi.core.syntax import Source, Span, SpanSlots, make_span
from calculi.foil.scopes import WIDE, widen
from calculi.linear_ad.built import new_binder, new_lvar, new_prim, new_var
from calculi.linear_ad.names import AnyScope, ascii_hint
from calculi.linear_ad.parse_forms import OPERATORS, FormReader, operator
from calculi.linear_ad.parse_tokens import FORM, INVALID
from calculi.linear_ad.syntax import MAX_DEPTH, Binder, Expr, FuncDef, LVar, Primitive, Program, Var
from calculi.linear_ad.types import Mixed, Type

LIMIT = MAX_DEPTH - 16
"""Nesting past which the fast parser hands over (the reference parser refuses past ``MAX_DEPTH``)."""

_new = object.__new__


class Refuse(Exception):
    """The fast parser does not accept the text; the reference parser decides."""

    def __init__(self, reason: str = INVALID) -> None:
        super().__init__(reason)
        self.reason = reason


Env = dict[str, tuple[int, bool]]
"""The names in scope: each one's identifier, and whether it is linear."""
Undo = dict[str, tuple[int, bool] | None]
"""What a block's binders shadowed in ``Env`` (``None``: nothing), restored when it ends."""
Parsed = tuple[Expr, int, int, int]
"""An expression, where it starts and ends counting enclosing parentheses (the extent the
reference parser gives the operator above it), and its height (nesting of expressions)."""


class Cursor:
    """A position in the tokens of ``source``, with the names and operators seen so far."""

    lookahead = 12
    """``$END`` tokens after the last: the direct readings look up to ten tokens ahead of the one
    they stand on, and a text may end anywhere (one cut short right after ``in``)."""

    def __init__(self, source: Source, known: Program | None, kinds: list[str], starts: list[int],
                 ends: list[int]) -> None:
        self.source = source
        self.forms = FormReader(source)
        self.text = source.text
        end = len(source.text)
        self.kinds = [*kinds, *["$END"] * self.lookahead]
        self.starts = [*starts, *[end] * self.lookahead]
        self.ends = [*ends, *[end] * self.lookahead]
        self.i = 0
        self.nest = 0
        self.functions: dict[str, FuncDef] = {d.name: d for d in known.defs} if known else {}
        self.hints: dict[str, str] = {}
        self.operators: dict[str, Primitive] = {}
        self.results: dict[tuple[tuple[Type, ...], tuple[Type, ...]], Mixed] = {}
        """The result types read so far (types are immutable: one object serves every definition)."""
        self.line_starts = (*source.line_starts, len(source.text) + 1)
        """The source's line starts, then one past the text: ``line_starts[line]`` is the start of the
        line after ``line`` (1-based), or past the end."""
        self.lo = self.hi = self.row = 0
        """The current line: its start, the next line's start and its number in the file; spans
        fall mostly on the line of the span before, so ``locate`` seldom searches the line starts."""
        self.first = source.first_line - 1

    # -- tokens and spans ------------------------------------------------------------------------

    def expect(self, kind: str) -> int:
        """Consume a token of ``kind``; its index."""
        i = self.i
        if self.kinds[i] != kind:
            raise Refuse
        self.i = i + 1
        return i

    def keyword(self, word: str) -> int:
        """Consume ``in`` or ``def`` where no name may stand; lark's lexer, trying only the tokens
        that may come next, reads ``iny`` there as ``in y``, which is handed over."""
        i = self.i
        if self.kinds[i] == "NAME" and self.word(i).startswith(word):
            raise Refuse(FORM)
        return self.expect(word)

    def locate(self, start: int) -> None:
        """Make the line holding offset ``start`` the current one."""
        ls = self.line_starts
        line = bisect_right(ls, start)
        self.lo = ls[line - 1]
        self.hi = ls[line]
        self.row = line + self.first

    def at(self, start: int, end: int) -> Span:
        """``source.span(start, end)``, built by ``make_span`` (a third of the time of the frozen
        dataclass's ``__init__``; spans are much of the parser's time)."""
        if start < self.lo or start >= self.hi:
            self.locate(start)
        lo = self.lo
        row = self.row
        if end < self.hi:
            span: Any = _new(SpanSlots)  # make_span, inline
            span.source = self.source
            span.start = start
            span.end = end
            span.line = span.end_line = row
            span.column = start - lo + 1
            span.end_column = end - lo + 1
            span.__class__ = Span
            return span  # type: ignore[no-any-return]
        ls = self.line_starts
        end_line = bisect_right(ls, end, row - self.first - 1)
        return make_span(self.source, start, end, row, start - lo + 1, end_line + self.first,
                         end - ls[end_line - 1] + 1)

    def tok(self, i: int) -> Span:
        """``at`` of token ``i``, which ends on the line it starts on (no token holds a newline)."""
        start = self.starts[i]
        if start < self.lo or start >= self.hi:
            self.locate(start)
        column = start - self.lo + 1
        row = self.row
        return make_span(self.source, start, self.ends[i], row, column, row, column + self.ends[i] - start)

    def word(self, i: int) -> str:
        return self.text[self.starts[i]:self.ends[i]]

    # -- operators -------------------------------------------------------------------------------

    def operator(self, symbol: str) -> Primitive:
        """The primitive an operator applies (``neg``: the unary minus), looked up once a parse."""
        p = self.operators.get(symbol)
        if p is None:
            name = OPERATORS.get(symbol, symbol)
            p = self.operators[symbol] = operator(name, symbol, None)
        return p

    def apply(self, symbol: str, operands: tuple[Expr, ...], span: Span) -> Expr:
        """``parse_forms.apply`` of the operator's primitive."""
        p = self.operators.get(symbol)
        if p is None:
            p = self.operator(symbol)
        if p.linear:
            k = p.arity or 0
            return new_prim(p, operands[:k], operands[k:], (), span)
        return new_prim(p, operands, (), (), span)

    # -- names -----------------------------------------------------------------------------------

    def hint(self, text: str) -> str:
        hint = self.hints.get(text)
        if hint is None:
            hint = self.hints[text] = ascii_hint(text)
        return hint

    def bind(self, i: int, linear: bool, env: Env, scope: AnyScope,
             undo: Undo | None = None) -> tuple[Binder, AnyScope]:
        """Bind the name token ``i`` in ``env``, noting in ``undo`` what it shadows; its identifier is
        ``names.fresh``'s (the scope's next, the scope extended as ``foil.core.extend_scope`` does)."""
        start = self.starts[i]
        end = self.ends[i]
        text = self.text[start:end]
        ident: int = scope.bit_length()  # type: ignore[attr-defined]
        wide: Any = scope
        scope = wide | 1 << ident if ident < WIDE else widen(wide, ident)  # type: ignore[assignment]
        if undo is not None and text not in undo:
            undo[text] = env.get(text)
        env[text] = (ident, linear)
        hint = self.hints.get(text)
        if hint is None:
            hint = self.hints[text] = ascii_hint(text)
        span = self.at(start, end)  # (a name is on one line)
        return new_binder(ident, hint, span), scope

    def variable(self, i: int, env: Env) -> Var | LVar:
        """The variable the name token ``i`` refers to in ``env`` (``tok`` and ``hint`` inline: this
        is the parser's most frequent step)."""
        start = self.starts[i]
        end = self.ends[i]
        text = self.text[start:end]
        slot = env.get(text)
        if slot is None:
            raise Refuse
        hint = self.hints.get(text)
        if hint is None:
            hint = self.hints[text] = ascii_hint(text)
        span = self.at(start, end)  # (a name is on one line)
        return (new_lvar if slot[1] else new_var)(slot[0], hint, span)

    def vars(self, es: list[Expr], rule: str) -> tuple[Var, ...]:
        """``forms.vars``: a list of non-linear variables as a tuple, else its error."""
        for e in es:
            if type(e) is not Var:
                return self.forms.vars(es, rule)
        return tuple(es)  # type: ignore[arg-type]

    def lvars(self, es: list[Expr], rule: str) -> tuple[LVar, ...]:
        """``forms.lvars``: a list of linear variables as a tuple, else its error."""
        for e in es:
            if type(e) is not LVar:
                return self.forms.lvars(es, rule)
        return tuple(es)  # type: ignore[arg-type]
