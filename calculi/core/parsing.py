"""Lark grammar loading, with classified syntax errors and spans for every tree node.

A calculus loads its grammar once::

    GRAMMAR = Grammar.load(__package__, "grammar.lark", start="term",
                           examples={"missing body after '.'": ["\\\\x."], ...})
    tree = GRAMMAR.parse(Source(text, filename))

A failing parse becomes a ``ParseError`` whose reason is the label of the example that fails in
the same parser state (lark's ``match_examples``), or a description of what was expected.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources

import lark
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from calculi.core.errors import ParseError
from calculi.core.syntax import Source, Span


@dataclass(frozen=True, slots=True)
class Grammar:
    """A loaded LALR grammar plus the labelled bad examples used to classify its errors."""

    parser: lark.Lark
    examples: Mapping[str, Sequence[str]]
    names: Mapping[str, str]

    @staticmethod
    def load(
        package: str,
        resource: str,
        *,
        start: str | Sequence[str] = "start",
        examples: Mapping[str, Sequence[str]] | None = None,
        names: Mapping[str, str] | None = None,
    ) -> Grammar:
        """Load ``resource`` from ``package``; ``names`` maps terminal names to how users call them."""
        text = resources.files(package).joinpath(resource).read_text(encoding="utf-8")
        return Grammar.from_text(text, start=start, examples=examples, names=names)

    @staticmethod
    def from_text(
        text: str,
        *,
        start: str | Sequence[str] = "start",
        examples: Mapping[str, Sequence[str]] | None = None,
        names: Mapping[str, str] | None = None,
    ) -> Grammar:
        """A grammar from its lark source text."""
        parser = lark.Lark(
            text,
            parser="lalr",
            start=start,
            propagate_positions=True,
            maybe_placeholders=False,
        )
        return Grammar(parser, examples or {}, names or {})

    def parse(self, source: Source, start: str | None = None) -> lark.Tree[lark.Token]:
        """Parse ``source`` or raise a ``ParseError`` pointing at the offending character."""
        try:
            return self.parser.parse(source.text, start=start)
        except UnexpectedInput as err:
            raise self._error(err, source, start) from None

    def _error(self, err: UnexpectedInput, source: Source, start: str | None) -> ParseError:
        offset = _offset(err, source)
        label = self._classify(err, start)
        reason = label if label else self._describe(err, source)
        return ParseError(reason, source.span(offset, min(len(source.text), offset + 1)))

    def _classify(self, err: UnexpectedInput, start: str | None) -> str | None:
        """The label of the example failing the same way: in the same parser state (lark's
        ``match_examples``), or else on the same kind of token with the same expectations."""

        def parse(text: str) -> lark.Tree[lark.Token]:
            return self.parser.parse(text, start=start)

        try:
            label = err.match_examples(parse, dict(self.examples), use_accepts=True)
        except Exception:  # re-parsing the examples must never mask the user's error
            label = None
        if label is not None:
            return str(label)
        key = _signature(err)
        for candidate, texts in self.examples.items():
            for text in texts:
                try:
                    parse(text)
                except UnexpectedInput as other:
                    if key is not None and _signature(other) == key:
                        return candidate
        return None

    def _describe(self, err: UnexpectedInput, source: Source) -> str:
        if isinstance(err, UnexpectedCharacters):
            return f"unexpected character {err.char!r}"
        if isinstance(err, UnexpectedEOF):
            return "unexpected end of input" + self._expected(err.expected)
        if isinstance(err, UnexpectedToken):
            token = err.token
            what = "end of input" if token.type == "$END" else repr(str(token))
            return f"unexpected {what}" + self._expected(err.accepts or err.expected)
        return "syntax error"

    def _expected(self, expected: object) -> str:
        if not isinstance(expected, set | frozenset | list) or not expected:
            return ""
        shown = sorted({self.names.get(str(name), _terminal(str(name))) for name in expected})
        if len(shown) > 6:
            return ""
        return "; expected " + " or ".join(shown)


def _signature(err: UnexpectedInput) -> tuple[str, frozenset[str]] | None:
    if isinstance(err, UnexpectedToken):
        return err.token.type, frozenset(err.accepts or err.expected)
    if isinstance(err, UnexpectedEOF):
        return "$END", frozenset(err.expected)
    return None


def _terminal(name: str) -> str:
    return name.lower().replace("_", " ")


def _offset(err: UnexpectedInput, source: Source) -> int:
    pos: int | None = getattr(err, "pos_in_stream", None)
    if isinstance(err, UnexpectedEOF) or pos is None:
        token = getattr(err, "token", None)
        start: int | None = getattr(token, "start_pos", None)
        return start if start is not None else len(source.text.rstrip())
    return pos


def span_of(node: lark.Tree[lark.Token] | lark.Token, source: Source) -> Span | None:
    """The span of a lark tree or token (``None`` for an empty rule, which has no position)."""
    if isinstance(node, lark.Token):
        if node.start_pos is None:
            return None
        return source.span(node.start_pos, node.end_pos if node.end_pos is not None else None)
    meta = node.meta
    if getattr(meta, "empty", True):
        return None
    return source.span(meta.start_pos, meta.end_pos)
