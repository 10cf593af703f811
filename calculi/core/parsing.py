"""Lark grammar loading, with classified syntax errors and spans for every tree node.

A calculus loads its grammar once::

    GRAMMAR = Grammar.load(__package__, "grammar.lark", start="term",
                           examples={"missing body after '.'": ["\\\\x."], ...})
    tree = GRAMMAR.parse(Source(text, filename))

A failing parse becomes a ``ParseError`` whose reason is the label of the example that fails in
the same parser state (as lark's ``match_examples``), or a description of what was expected. A
calculus may also pass ``hint``: a function that looks at the error and the text first and may give
a better position and reason (say, an unterminated string literal) than the parser state can.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from importlib import resources
from typing import TYPE_CHECKING, TypeAlias

from calculi.core.errors import ParseError
from calculi.core.syntax import Source, Span

if TYPE_CHECKING:  # lark is imported when a grammar first parses: a command that never parses never pays
    import lark
    from lark.exceptions import UnexpectedInput

Hint: TypeAlias = "Callable[[UnexpectedInput, str, int], tuple[int, str] | None]"
"""``hint(error, text, offset)``: ``(offset, reason)`` to report instead, or ``None``."""


class Grammar:
    """An LALR grammar plus the labelled bad examples used to classify its errors. Lark builds
    the parser on first use, so that importing a calculus costs nothing until it parses."""

    __slots__ = ("_parser", "_start", "_text", "examples", "hint", "names")

    def __init__(self, text: str, start: str | Sequence[str], examples: Mapping[str, Sequence[str]],
                 names: Mapping[str, str], hint: Hint | None = None) -> None:
        self._text = text
        self._start = start
        self._parser: lark.Lark | None = None
        self.examples = examples
        self.names = names
        self.hint = hint

    @property
    def parser(self) -> lark.Lark:
        if self._parser is None:
            import lark

            self._parser = lark.Lark(
                self._text,
                parser="lalr",
                start=self._start,
                propagate_positions=True,
                maybe_placeholders=False,
            )
        return self._parser

    @staticmethod
    def load(
        package: str,
        resource: str,
        *,
        start: str | Sequence[str] = "start",
        examples: Mapping[str, Sequence[str]] | None = None,
        names: Mapping[str, str] | None = None,
        hint: Hint | None = None,
    ) -> Grammar:
        """Load ``resource`` from ``package``; ``names`` maps terminal names to how users call them."""
        text = resources.files(package).joinpath(resource).read_text(encoding="utf-8")
        return Grammar.from_text(text, start=start, examples=examples, names=names, hint=hint)

    @staticmethod
    def from_text(
        text: str,
        *,
        start: str | Sequence[str] = "start",
        examples: Mapping[str, Sequence[str]] | None = None,
        names: Mapping[str, str] | None = None,
        hint: Hint | None = None,
    ) -> Grammar:
        """A grammar from its lark source text."""
        return Grammar(text, start, examples or {}, names or {}, hint)

    def parse(self, source: Source, start: str | None = None) -> lark.Tree[lark.Token]:
        """Parse ``source`` or raise a ``ParseError`` pointing at the offending character."""
        from lark.exceptions import UnexpectedInput

        try:
            return self.parser.parse(source.text, start=start)
        except UnexpectedInput as err:
            raise self._error(err, source, start) from None

    def _error(self, err: UnexpectedInput, source: Source, start: str | None) -> ParseError:
        offset = _offset(err, source)
        hinted = self.hint(err, source.text, offset) if self.hint is not None else None
        if hinted is not None:
            offset, reason = hinted
        else:
            label = self._classify(err, start)
            reason = label if label else self._describe(err, source)
        return ParseError(reason, source.span(offset, min(len(source.text), offset + 1)))

    def _classify(self, err: UnexpectedInput, start: str | None) -> str | None:
        """The label of the example failing the same way, trying in turn: the same parser state
        (stack depth and top, as lark's ``match_examples``, preferring the same token); the same
        top state whatever the depth, on the same kind of token with the same expectations
        (``def f x y =`` fails as ``def f x =`` does); the same kind of token with the same
        expectations in any state."""
        from lark.exceptions import UnexpectedInput

        failures: list[tuple[str, UnexpectedInput]] = []
        for label, texts in self.examples.items():
            for text in texts:
                try:
                    self.parser.parse(text, start=start)
                except UnexpectedInput as failure:
                    failures.append((label, failure))
                except Exception:  # re-parsing the examples must never mask the user's error
                    continue
        same = [(label, other) for label, other in failures if _same_state(err, other)]
        for label, other in same:
            if _is_token_error(err) and _is_token_error(other) and _token(other) == _token(err):
                return label
        if same:
            return same[0][0]
        key, position = _signature(err), _position(err)
        if key is None:
            return None
        for label, other in failures:
            if position is not None and _signature(other) == key and _position(other) == position:
                return label
        for label, other in failures:
            if _signature(other) == key:
                return label
        return None

    def _describe(self, err: UnexpectedInput, source: Source) -> str:
        from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedToken
        if isinstance(err, UnexpectedCharacters):
            return f"unexpected character {err.char!r}"
        if isinstance(err, UnexpectedEOF):
            return "unexpected end of input" + self._expected(err.expected)
        if isinstance(err, UnexpectedToken):
            token = err.token
            what = "end of input" if token.type == "$END" else repr(str(token))
            return f"unexpected {what}" + self._expected(err.accepts or err.expected)
        return "syntax error"

    def _name(self, terminal: str) -> str:
        """How users call a terminal: ``names``, else its literal text quoted, else its name."""
        if terminal in self.names:
            return self.names[terminal]
        if terminal == "$END":
            return "end of input"
        literal = self._literals.get(terminal)
        return repr(literal) if literal is not None else _terminal(terminal)

    @property
    def _literals(self) -> Mapping[str, str]:
        return {t.name: t.pattern.value for t in self.parser.terminals
                if t.pattern.type == "str"}

    def _expected(self, expected: object) -> str:
        if not isinstance(expected, set | frozenset | list) or not expected:
            return ""
        shown = sorted({self._name(str(name)) for name in expected})
        if len(shown) > 6:
            return ""
        return "; expected " + " or ".join(shown)


def _is_token_error(err: UnexpectedInput) -> bool:
    from lark.exceptions import UnexpectedEOF, UnexpectedToken
    return isinstance(err, UnexpectedToken | UnexpectedEOF)


def _token(err: UnexpectedInput) -> object:
    return getattr(err, "token", None)


def _position(err: UnexpectedInput) -> object:
    """The LALR state on top of the parser's stack when ``err`` was raised."""
    return getattr(getattr(err, "state", None), "position", None)


def _same_state(err: UnexpectedInput, other: UnexpectedInput) -> bool:
    """Lark's ``match_examples`` test (whose debug logging fails on LALR states)."""
    from lark.exceptions import UnexpectedToken
    state = getattr(err, "state", None)
    if state is None or getattr(other, "state", None) != state:
        return False
    if isinstance(err, UnexpectedToken) and isinstance(other, UnexpectedToken):
        return bool(other.accepts == err.accepts)
    return True


def _signature(err: UnexpectedInput) -> tuple[str, frozenset[str]] | None:
    from lark.exceptions import UnexpectedEOF, UnexpectedToken
    if isinstance(err, UnexpectedToken):
        return err.token.type, frozenset(err.accepts or err.expected)
    if isinstance(err, UnexpectedEOF):
        return "$END", frozenset(err.expected)
    return None


def _terminal(name: str) -> str:
    return name.lower().replace("_", " ")


def _offset(err: UnexpectedInput, source: Source) -> int:
    from lark.exceptions import UnexpectedEOF
    pos: int | None = getattr(err, "pos_in_stream", None)
    if isinstance(err, UnexpectedEOF) or pos is None:
        token = getattr(err, "token", None)
        start: int | None = getattr(token, "start_pos", None)
        return start if start is not None else len(source.text.rstrip())
    return pos


MAX_DIGITS = 4300
"""The longest integer literal accepted (Python's own limit on converting text to int)."""


def integer(text: str, span: Span | None) -> int:
    """The value of an integer literal, or a ``ParseError`` at ``span`` when it is too long."""
    digits = len(text.lstrip("+-"))
    if digits > MAX_DIGITS:
        raise ParseError(f"integer literal of {digits:,} digits is too long (at most {MAX_DIGITS:,})",
                         span)
    return int(text)


def literal(text: str, span: Span | None) -> None:
    """Refuse a number literal with more than ``MAX_DIGITS`` digits or so large an exponent: the exact
    domains (``Fraction``, sympy) would convert it through an ``int`` of that many digits."""
    mantissa, _, exponent = text.lower().partition("e")
    digits = sum(c.isdigit() for c in mantissa)
    if digits > MAX_DIGITS:
        what = "integer" if mantissa.lstrip("+-").isdigit() and not exponent else "number"
        raise ParseError(f"{what} literal of {digits:,} digits is too long (at most {MAX_DIGITS:,})", span)
    magnitude = exponent.lstrip("+-").lstrip("0")
    if len(magnitude) > len(str(MAX_DIGITS)) or int(magnitude or "0") > MAX_DIGITS:
        shown = exponent if len(exponent) <= 12 else exponent[:12] + "…"
        raise ParseError(f"the exponent e{shown} of a number literal is out of range (at most "
                         f"±{MAX_DIGITS:,})", span)


def show_int(value: int) -> str:
    """An integer in decimal, however many digits (beyond Python's ``str`` limit too)."""
    if value.bit_length() < 10_000:
        return str(value)
    return format(Decimal(value), "f")


def span_of(node: lark.Tree[lark.Token] | lark.Token, source: Source) -> Span | None:
    """The span of a lark tree or token (``None`` for an empty rule, which has no position)."""
    if isinstance(node, str):  # a lark Token is a str; a Tree is not
        if node.start_pos is None:
            return None
        return source.span(node.start_pos, node.end_pos if node.end_pos is not None else None)
    meta = node.meta
    if getattr(meta, "empty", True):
        return None
    return source.span(meta.start_pos, meta.end_pos)
