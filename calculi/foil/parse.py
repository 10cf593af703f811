"""Concrete syntax → foil terms, with spans, classified syntax errors and unbound-name errors.

Identifiers are interned (``names.py``): a binder spelled ``x`` binds the raw name of ``x``, so
terms keep the shadowing of their text (``\\x1.\\x1.x1``) and print back exactly. Only *scopes*
are kept distinct (the foil's ``Distinct``); binders that repeat an outer raw name are legal
terms and every operation of this package copes with them.

The lark parser is LALR (no recursion); turning its tree into a term is an explicit-stack
traversal, so inputs nested tens of thousands of levels deep parse. Deeper nesting than
``MAX_NESTING`` (parentheses, λ bodies, arguments; the arguments of one application and the
bindings of one ``let`` are siblings, not nested) is a located ``ParseError``: the typed algorithms
recurse on the structure of terms (``deep.py``), and a ``let`` binds any number of parts flat.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any, final

import lark

from calculi.core.errors import ParseError, UnboundError
from calculi.core.parsing import Grammar
from calculi.core.syntax import Source, Span
from calculi.foil.core import unsafe_binder, unsafe_name
from calculi.foil.names import intern, spell
from calculi.foil.syntax import App, Expr, Lam, Var, free_occurrences

GRAMMAR = Grammar.load(
    __package__ or "calculi.foil",
    "grammar.lark",
    start="term",
    examples={
        "missing body after '.'": ["\\x.", "\\x. (\\y.)"],
        "missing '.' after the bound name": ["\\x y", "\\x"],
        "missing bound name after '\\'": ["\\.x", "\\ (x)"],
        "unclosed '('": ["(x", "(\\x. x", "f (x y"],
        "unmatched ')'": ["x)", "\\x. x)"],
        "empty parentheses": ["()", "f ()"],
        "let needs 'in' before its body": ["let x = y", "let x = y; z = w"],
        "let needs 'NAME = TERM' bindings": ["let in x", "let x in x"],
    },
    names={
        "NAME": "a name",
        "LPAR": "'('",
        "RPAR": "')'",
        "BACKSLASH": "'\\'",
        "DOT": "'.'",
        "SEMICOLON": "';'",
        "EQUAL": "'='",
        "IN": "'in'",
        "LET": "'let'",
    },
)


@final
class Top:
    """The scope of the free names of terms read from text (constants of the REPL)."""


Term = Expr[Top]

MAX_NESTING = 50_000
"""Levels of nesting the parser accepts (the typed algorithms have room for about 80,000)."""


def parse(text: str, *, free: bool | Iterable[str] = False, filename: str = "<input>") -> Term:
    """Parse one term. Free names are an ``UnboundError`` unless allowed by ``free``
    (``True``: any name may be free; an iterable: those names may)."""
    return parse_source(Source(text, filename), free=free)


def parse_source(source: Source, *, free: bool | Iterable[str] = False) -> Term:
    if not _TOKEN.sub(lambda m: "" if m.group().startswith("--") else m.group(), source.text).strip():
        raise ParseError("empty input: expected a term", source.span(len(source.text)))
    tree = GRAMMAR.parse(source)
    term = _convert(tree, source)
    if free is not True:
        allowed = set() if free is False else {intern(name) for name in free}
        _check_bound(term, allowed)
    return term


def _spans(source: Source) -> Callable[[lark.Tree[lark.Token] | lark.Token], Span | None]:
    """The span of a tree node or token, in O(log n) (``Source.span``)."""

    def span_of(node: lark.Tree[lark.Token] | lark.Token) -> Span | None:
        if isinstance(node, lark.Token):
            start, end = node.start_pos, node.end_pos
        elif getattr(node.meta, "empty", True):
            return None
        else:
            start, end = node.meta.start_pos, node.meta.end_pos
        if start is None or end is None:
            return None
        return source.span(start, end)

    return span_of


def _convert(tree: lark.Tree[lark.Token], source: Source) -> Term:
    """The lark tree as a term, bottom-up with an explicit stack; ``let`` is desugared."""
    span_of = _spans(source)
    results: list[Any] = []
    stack: list[tuple[lark.Tree[lark.Token], int]] = [(tree, 0)]
    while stack:
        node, depth = stack.pop()
        kind = node.data
        if kind == "var":
            token = node.children[0]
            results.append(Var(unsafe_name(intern(str(token))), span=span_of(token)))
            continue
        if depth >= 0:
            if depth > MAX_NESTING:
                raise ParseError(f"nested too deeply (more than {MAX_NESTING:,} levels); bind the inner "
                                 "parts with let", source.span(node.meta.start_pos))
            stack.append((node, -1))
            children = [c for c in node.children if isinstance(c, lark.Tree)]
            for index in range(len(children) - 1, -1, -1):
                same_level = kind == "binding" or (kind == "app" and index == 0)
                stack.append((children[index], depth if same_level else depth + 1))
            continue
        span = span_of(node)
        if kind == "app":
            arg = results.pop()
            results.append(App(results.pop(), arg, span=span))
        elif kind == "lam":
            binder = unsafe_binder(intern(str(node.children[0])))  # type: ignore[var-annotated]
            results.append(Lam(binder, results.pop(), span=span))
        elif kind == "binding":
            results.append((node.children[0], results.pop(), span))
        elif kind == "let":
            count = len(node.children) - 1
            body = results.pop()
            bindings = results[-count:]
            del results[-count:]
            for token, value, bspan in reversed(bindings):
                lam = Lam(unsafe_binder(intern(str(token))), body, span=bspan)  # type: ignore[var-annotated]
                body = App(lam, value, span=span)
            results.append(body)
        else:  # pragma: no cover - the grammar has no other rules
            raise AssertionError(kind)
    term: Term = results[0]
    return term


def _check_bound(term: Term, allowed: set[int]) -> None:
    """Raise ``UnboundError`` at the first (leftmost) name that no binder binds."""
    for v in free_occurrences(term):
        name: int = v.name  # type: ignore[assignment]
        if name not in allowed:
            raise UnboundError(f"{spell(name)} is not bound by any enclosing \\{spell(name)}.", v.span)


_TOKEN = re.compile(r"--[^\n]*|[A-Za-z_][A-Za-z0-9_']*|\S")
_CONTINUES_AFTER = {"=", ";", "in", ".", "\\", "let", "("}
_CONTINUES_BEFORE = {"in", ";", ")"}


def split_terms(text: str) -> list[tuple[int, str]]:
    """The terms of a file, one per line, as ``(first line number, text)``.

    A term continues on the next line while its parentheses are open, while it has more ``let``
    than ``in``, when the line ends in ``= ; in . \\ let (`` or the next line starts with
    ``in ; )`` (so multi-line ``let`` blocks, as in lambda-n-ways' lennart.lam, are one term).
    """
    terms: list[tuple[int, str]] = []
    lines = text.splitlines()
    pending: list[str] = []
    start = 0
    depth = lets = 0
    last = ""
    for index, line in enumerate(lines):
        words = [w for w in _TOKEN.findall(line) if not w.startswith("--")]
        if not words and not pending:
            continue
        ends = depth <= 0 and lets <= 0 and last not in _CONTINUES_AFTER
        if pending and words and ends and words[0] not in _CONTINUES_BEFORE:
            terms.append((start + 1, "\n".join(pending)))
            pending = []
        if not pending:
            start, depth, lets = index, 0, 0
        pending.append(line)
        for word in words:
            depth += (word == "(") - (word == ")")
            lets += (word == "let") - (word == "in")
        if words:
            last = words[-1]
    if pending and any(_TOKEN.findall(p) and not p.lstrip().startswith("--") for p in pending):
        terms.append((start + 1, "\n".join(pending)))
    return terms


def parse_file(text: str, filename: str = "<file>", *, free: bool | Iterable[str] = False) -> list[Term]:
    """Every term of a file (see ``split_terms``); spans point into the file."""
    out: list[Term] = []
    for lineno, chunk in split_terms(text):
        out.append(parse_source(Source(chunk, filename, first_line=lineno), free=free))
    return out
