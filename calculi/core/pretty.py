"""A width-aware document printer in the style of Wadler's "prettier printer".

Calculi build a ``Doc`` from their AST with ``text``, ``line``, ``nest``, ``group`` and ``concat``;
``render(doc, width)`` lays it out, choosing for each group whether its lines break. Rendering is
iterative (an explicit stack), so documents nested thousands of levels deep print without
recursion.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

DEFAULT_WIDTH = 80


class Doc:
    """A document. ``a + b`` concatenates."""

    __slots__ = ()

    def __add__(self, other: Doc | str) -> Doc:
        return Concat((self, text(other) if isinstance(other, str) else other))

    def __radd__(self, other: str) -> Doc:
        return Concat((text(other), self))


@dataclass(frozen=True, slots=True)
class Text(Doc):
    value: str


@dataclass(frozen=True, slots=True)
class Line(Doc):
    """A line break, or ``flat`` when its group fits on the line."""

    flat: str = " "


@dataclass(frozen=True, slots=True)
class Nest(Doc):
    indent: int
    doc: Doc


@dataclass(frozen=True, slots=True)
class Group(Doc):
    doc: Doc


@dataclass(frozen=True, slots=True)
class Concat(Doc):
    docs: tuple[Doc, ...]


NIL: Doc = Text("")


def text(value: str) -> Doc:
    return Text(value)


def line(flat: str = " ") -> Doc:
    """A break that renders as ``flat`` (a space by default) when its group fits."""
    return Line(flat)


def softline() -> Doc:
    """A break that disappears when its group fits."""
    return Line("")


def nest(indent: int, doc: Doc) -> Doc:
    return Nest(indent, doc)


def group(doc: Doc) -> Doc:
    return Group(doc)


def concat(docs: Iterable[Doc | str]) -> Doc:
    return Concat(tuple(text(d) if isinstance(d, str) else d for d in docs))


def join(sep: Doc | str, docs: Iterable[Doc]) -> Doc:
    sep_doc = text(sep) if isinstance(sep, str) else sep
    out: list[Doc] = []
    for i, d in enumerate(docs):
        if i:
            out.append(sep_doc)
        out.append(d)
    return Concat(tuple(out))


def parens(doc: Doc, open_: str = "(", close: str = ")") -> Doc:
    return concat([open_, doc, close])


_FLAT, _BREAK = True, False


class _Measures:
    """Per document node: its width laid out flat, and its width up to its first line break
    (with whether it has one). Computed once per render, bottom-up and without recursion, so
    that deciding a group costs time independent of how deeply documents nest."""

    def __init__(self, root: Doc) -> None:
        self.flat: dict[int, int] = {}
        self.lead: dict[int, tuple[int, bool]] = {}
        stack: list[tuple[Doc, bool]] = [(root, False)]
        while stack:
            doc, ready = stack.pop()
            key = id(doc)
            if key in self.flat:
                continue
            children = _children(doc)
            if not ready and children:
                stack.append((doc, True))
                stack.extend((c, False) for c in children if id(c) not in self.flat)
                continue
            self._measure(doc, key, children)

    def _measure(self, doc: Doc, key: int, children: tuple[Doc, ...]) -> None:
        if isinstance(doc, Text):
            self.flat[key], self.lead[key] = len(doc.value), (len(doc.value), False)
        elif isinstance(doc, Line):
            self.flat[key], self.lead[key] = len(doc.flat), (0, True)
        else:
            self.flat[key] = sum(self.flat[id(c)] for c in children)
            width = 0
            for c in children:
                w, stops = self.lead[id(c)]
                width += w
                if stops:
                    self.lead[key] = (width, True)
                    break
            else:
                self.lead[key] = (width, False)

    def fits(self, room: int, stack: list[tuple[int, bool, Doc]], doc: Doc) -> bool:
        """Does ``doc`` laid out flat, then the rest of ``stack`` up to its next break, fit?"""
        room -= self.flat[id(doc)]
        for _, mode, rest in reversed(stack):
            if room < 0:
                return False
            if mode is _FLAT:
                room -= self.flat[id(rest)]
                continue
            width, stops = self.lead[id(rest)]
            room -= width
            if stops:
                break
        return room >= 0


def _children(doc: Doc) -> tuple[Doc, ...]:
    if isinstance(doc, Concat):
        return doc.docs
    if isinstance(doc, Nest | Group):
        return (doc.doc,)
    return ()


def render(doc: Doc, width: int = DEFAULT_WIDTH) -> str:
    """Lay ``doc`` out in ``width`` columns (linear in the size of the document)."""
    measures = _Measures(doc)
    out: list[str] = []
    column = 0
    stack: list[tuple[int, bool, Doc]] = [(0, _BREAK, doc)]
    while stack:
        indent, mode, d = stack.pop()
        if isinstance(d, Text):
            out.append(d.value)
            column += len(d.value)
        elif isinstance(d, Line):
            if mode is _FLAT:
                out.append(d.flat)
                column += len(d.flat)
            else:
                out.append("\n" + " " * indent)
                column = indent
        elif isinstance(d, Concat):
            stack.extend((indent, mode, c) for c in reversed(d.docs))
        elif isinstance(d, Nest):
            stack.append((indent + d.indent, mode, d.doc))
        elif isinstance(d, Group):
            flat = mode is _FLAT or measures.fits(width - column, stack, d.doc)
            stack.append((indent, _FLAT if flat else _BREAK, d.doc))
    return "".join(out)
