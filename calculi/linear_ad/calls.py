"""Reading a call of a function at values, as the REPL and the command line take it, with spans.

    call  ::= NAME values [";" values]  |  NAME "(" values [";" values] ")"
    value ::= NUMBER | "(" value ("," value)* [","] ")"

``f 1.5 2.0 ; 1.0`` and ``f(1.5, 2.0 ; 1.0)`` are the same call. Every error points at the text
it is about: the character that cannot start a token, the token that cannot come next, a number
of more digits than the exact domains can read.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from calculi.core.errors import ParseError
from calculi.core.parsing import literal
from calculi.core.syntax import Source, Span
from calculi.linear_ad.primitives import Value
from calculi.linear_ad.syntax import MAX_DEPTH

_SKIP = re.compile(r"(?:\s|#[^\n]*|--[^\n]*)*")
"""What separates tokens: white space and comments (``#`` or ``--`` to the end of the line)."""
_DIGITS = r"\d(?:_?\d)*"
_TOKEN = re.compile(rf"(?P<num>[-+]?(?:{_DIGITS}(?:\.(?:{_DIGITS})?)?|\.{_DIGITS})(?:[eE][-+]?{_DIGITS})?"
                    r"|[-+](?i:infinity|inf|nan)(?![\w.']))"
                    r"|(?P<name>[^\W\d][\w.'\u0300-\u036f]*)|(?P<punct>[(),;])")
"""A number is any finite spelling Python's ``float`` reads (a sign, ``_`` between digits, an
exponent, any decimal digits), or ``inf``, ``infinity``, ``nan`` in any case with a sign; unsigned,
those three are names (a function may be called ``inf``), read as numbers where a value is due."""
NON_FINITE = {"inf", "infinity", "nan"}


def _skip(text: str, pos: int) -> int:
    """Where the next token starts: past the white space and comments at ``pos``."""
    m = _SKIP.match(text, pos)
    return pos if m is None else m.end()


KEYWORDS = {"let", "in", "unpack", "unpackL", "zero"}

Token = tuple[str, str, int, int]
"""(kind, text, start, end): kind is ``num``, ``name`` or ``punct``."""


@dataclass(frozen=True, slots=True)
class CallText:
    """A call read from text: the function's name and the values, with the spans to blame."""

    name: str
    name_span: Span
    args: list[Value]
    largs: list[Value]
    args_span: Span


class CallParser:
    """Tokens of one call, read as they are needed (so that what is wrong first is reported first),
    and a cursor over them."""

    def __init__(self, source: Source) -> None:
        self.source = source
        self.tokens: list[Token] = []
        self.pos = 0
        self.i = 0

    def peek(self) -> Token | None:
        text = self.source.text
        while self.i >= len(self.tokens) and _skip(text, self.pos) < len(text):
            self.tokens.append(self.lex())
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def lex(self) -> Token:
        text = self.source.text
        at = _skip(text, self.pos)
        m = _TOKEN.match(text, at)
        if m is None:
            raise ParseError(f"unexpected {text[at]!r} in a call; write f 1.5 2.0 or f(1.5, 2.0)",
                             self.source.span(at))
        kind = m.lastgroup or "punct"
        self.pos = m.end()
        return kind, m.group(kind), m.start(kind), m.end(kind)

    def span(self, tok: Token | None) -> Span:
        """The span of a token, or of the end of the text when there is none."""
        if tok is not None:
            return self.source.span(tok[2], tok[3])
        end = len(self.source.text.rstrip())
        return self.source.span(max(0, end - 1), max(1, end))

    def expect(self, text: str) -> None:
        tok = self.peek()
        if tok is None or tok[1] != text:
            raise ParseError(f"expected {text!r}", self.span(tok))
        self.i += 1

    def end(self, after: str) -> None:
        """Nothing may follow."""
        if (extra := self.peek()) is not None:
            raise ParseError(f"unexpected {extra[1]!r} after {after}", self.span(extra))

    def value(self, depth: int = 0) -> Value:
        tok = self.peek()
        if tok is not None and (tok[0] == "num" or (tok[0] == "name" and tok[1].lower() in NON_FINITE)):
            self.i += 1
            literal(tok[1], self.span(tok))
            return float(tok[1])
        if tok is not None and tok[1] == "(":
            if depth >= MAX_DEPTH:
                raise ParseError(f"value nested too deeply (more than {MAX_DEPTH:,} levels)", self.span(tok))
            self.i += 1
            items = [self.value(depth + 1)]
            while (nxt := self.peek()) is not None and nxt[1] == ",":
                self.i += 1
                if (after := self.peek()) is not None and after[1] == ")":
                    break
                items.append(self.value(depth + 1))
            self.expect(")")
            return tuple(items)
        raise ParseError("expected a number or a tuple of numbers", self.span(tok))

    def argument(self) -> Value:
        """The whole text as one value (a command-line argument)."""
        value = self.value()
        self.end("the value")
        return value

    def values(self, closing: str | None) -> list[Value]:
        out: list[Value] = []
        while (tok := self.peek()) is not None and tok[1] not in (";", closing):
            out.append(self.value())
            if (nxt := self.peek()) is not None and nxt[1] == ",":
                self.i += 1
        return out

    def name(self, what: str) -> Token:
        """A name that is not a keyword; ``what`` says what was expected instead."""
        tok = self.peek()
        if tok is None or tok[0] != "name" or tok[1] in KEYWORDS:
            raise ParseError(f"expected {what}", self.span(tok))
        self.i += 1
        return tok

    def call(self, what: str = "a call: a function name, then its arguments",
             known: Callable[[str, Span], None] | None = None) -> CallText:
        """The call the whole text is (``what`` names what was expected, for the error); ``known``
        checks the function's name (and raises) before its arguments are read."""
        tok = self.name(what)
        if known is not None:
            known(tok[1], self.span(tok))
        nxt = self.peek()
        closing = ")" if nxt is not None and nxt[1] == "(" and nxt[2] == tok[3] else None
        if closing:
            self.i += 1
        first = self.peek()
        args = self.values(closing)
        largs: list[Value] = []
        if (semi := self.peek()) is not None and semi[1] == ";":
            self.i += 1
            largs = self.values(closing)
        if closing:
            self.expect(")")
        self.end("the call")
        start_at = first[2] if first is not None else tok[3]
        end = self.tokens[-1][3]
        args_span = self.source.span(start_at, end) if end > start_at else self.span(None)
        return CallText(tok[1], self.span(tok), args, largs, args_span)

    def rest(self) -> list[Value]:
        """The values up to the end of the text (``:grad f 1.5 2.0``: after the name)."""
        out = self.values(None)
        self.end("the values")
        return out
