"""Source text, spans, and the base class of every AST node."""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Source:
    """A piece of program text and the name it came from (a file, or ``<input>``)."""

    text: str
    filename: str = "<input>"
    first_line: int = 1
    """The line of the enclosing file on which ``text`` starts (an item cut out of a file)."""
    line_starts: tuple[int, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        starts = [0]
        find = self.text.find
        while (nl := find("\n", starts[-1])) != -1:
            starts.append(nl + 1)
        object.__setattr__(self, "line_starts", tuple(starts))

    def line(self, lineno: int) -> str:
        """The text of line ``lineno`` (numbered as in the enclosing file), without its newline."""
        lineno -= self.first_line - 1
        if not 0 < lineno <= len(self.line_starts):
            return ""
        start = self.line_starts[lineno - 1]
        end = self.text.find("\n", start)
        return self.text[start : len(self.text) if end == -1 else end].rstrip("\r")

    def position(self, offset: int) -> tuple[int, int]:
        """The (line, column) of a character offset, both 1-based (a binary search of line starts)."""
        offset = max(0, min(offset, len(self.text)))
        line = bisect_right(self.line_starts, offset)
        return line + self.first_line - 1, offset - self.line_starts[line - 1] + 1

    def span(self, start: int, end: int | None = None) -> Span:
        """The span of ``text[start:end]`` (a single character when ``end`` is omitted)."""
        end = start + 1 if end is None else end
        line, column = self.position(start)
        end_line, end_column = self.position(end)
        return Span(self, start, end, line, column, end_line, end_column)


@dataclass(frozen=True, slots=True)
class Span:
    """A region of a source: character offsets and 1-based line/column of both ends."""

    source: Source = field(repr=False)
    start: int
    end: int
    line: int
    column: int
    end_line: int
    end_column: int

    @property
    def text(self) -> str:
        return self.source.text[self.start : self.end]

    def __str__(self) -> str:
        return f"{self.source.filename}:{self.line}:{self.column}"

    def join(self, other: Span | None) -> Span:
        """The smallest span covering both."""
        if other is None:
            return self
        start, end = min(self.start, other.start), max(self.end, other.end)
        return self.source.span(start, end)


class SpanSlots:
    """``Span``'s slots in the same order, without its frozen ``__setattr__``: a parser builds a span
    by setting them and then giving the object the class ``Span`` (``span.__class__ = Span``, allowed
    since the layouts are the same), a third of the time of ``Span(...)``; see ``make_span``."""

    __slots__ = ("source", "start", "end", "line", "column", "end_line", "end_column")  # noqa: RUF023


def make_span(source: Source, start: int, end: int, line: int, column: int, end_line: int,
              end_column: int) -> Span:
    """``Span(source, start, end, line, column, end_line, end_column)``, built through ``SpanSlots``."""
    span: Any = object.__new__(SpanSlots)
    span.source = source
    span.start = start
    span.end = end
    span.line = line
    span.column = column
    span.end_line = end_line
    span.end_column = end_column
    span.__class__ = Span
    result: Span = span
    return result


@dataclass(frozen=True, slots=True)
class Node:
    """Base of AST nodes: frozen, slotted, and carrying an optional span that equality ignores."""

    span: Span | None = field(default=None, compare=False, repr=False, kw_only=True)
