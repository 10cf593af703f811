"""The concrete syntax tree of one input: the grammar (``grammar.lark``) and its errors, and
what the grammar cannot decide alone: a ``>`` that starts a line closing an array (typed on the
next line of multi-line input), and nesting deeper than every pass over terms can take, which is
a located error before any of them runs.
"""

from __future__ import annotations

import re

import lark
from lark.exceptions import UnexpectedInput, UnexpectedToken

from calculi.core.errors import ParseError
from calculi.core.parsing import Grammar, span_of
from calculi.core.syntax import Source, Span

Tree = lark.Tree[lark.Token]


def _hint(err: UnexpectedInput, text: str, offset: int) -> tuple[int, str] | None:
    """What parser states cannot tell: a string not closed on its line (the lexer may have paired
    the wrong quotes and failed later), and a negative literal written without parentheses."""
    start, end = text.rfind("\n", 0, offset) + 1, text.find("\n", offset)
    end = len(text) if end < 0 else end
    opened, i = None, start
    while i < end and (opened is not None or not text.startswith("--", i)):
        if text[i] == '"':
            opened = i if opened is None else None
        i += 2 if text[i] == "\\" and opened is not None else 1
    parse_error = isinstance(err, UnexpectedToken)
    if opened is not None and (opened == offset or (parse_error and '"' in text[start:offset])):
        return opened, "unterminated string literal"
    negative = re.match(r"-\s*([0-9]+)", text[offset:]) if parse_error else None
    if negative:
        return offset, f"negative numbers are written in parentheses: (-{negative[1]})"
    return None


GRAMMAR = Grammar.load(
    __package__,
    "grammar.lark",
    start="start",
    examples={
        "missing body after '.'": ["\\x.", "for i:3.", "\\x y."],
        "missing definition body after '='": ["def f =", "def f x ="],
        "missing component after ','": ["(1,", "(1, 2,", "<1,", "<1, 2,"],
        "a handler needs clauses 'name -> value' in braces": ["handle 1 2", "handle {} 1"],
        "write comparisons with spaces ('a < b'): '<' right before a term opens an array": ["a <b"],
        "unclosed parenthesis": ["(1", "(1, 2", "f (x"],
        "unclosed array: arrays are written <a, b, c>": ["<1, 2", "<1"],
        "'if' needs 'then' and 'else'": ["if x then y", "if x"],
    },
    names={
        "NAME": "a name",
        "INT": "an integer",
        "STRING": "a string",
        "LANGLE": "'<'",
        "RANGLE": "'>'",
        "ARROW": "'->'",
        "LARROW": "'<-'",
        "CON": "a constructor",
        "LAMBDA": "'\\'",
        "DOT": "'.'",
        "SEMICOLON": "';'",
        "RPAR": "')'",
        "LPAR": "'('",
        "COMMA": "','",
        "RBRACE": "'}'",
        "LBRACE": "'{'",
        "EQUAL": "'='",
        "IN": "'in'",
        "$END": "end of input",
    },
    hint=_hint,
)

MAX_DEPTH = 50_000
"""The deepest nesting of the syntax tree an input may have. The passes over terms (desugaring,
renaming, compiling, printing) recurse, on the big-stack thread of ``deep``: at most about six
Python frames a level, so 50,000 levels stay well inside its recursion limit of 500,000."""

_BRACKETS = re.compile(r'[({⟨]|[)}⟩]|"(?:\\.|[^"\\\n])*"|--[^\n]*')


def _too_deep(span: Span | None, limit: int) -> ParseError:
    reason = f"nested too deeply (more than {limit:,} levels); bind inner parts to names with let or def"
    return ParseError(reason, span)


def bracket_depth(source: Source, limit: int = MAX_DEPTH) -> ParseError | None:
    """Brackets opened more than ``limit`` deep (outside strings and comments): found before
    parsing, since the tree would be too deep anyway."""
    depth = 0
    for match in _BRACKETS.finditer(source.text):
        char = match.group()
        if char in "({⟨":
            depth += 1
            if depth > limit:
                return _too_deep(source.span(match.start()), limit)
        elif char in ")}⟩":
            depth = max(0, depth - 1)
    return None


def tree_depth(tree: Tree, source: Source, limit: int = MAX_DEPTH) -> ParseError | None:
    """A node of ``tree`` nested deeper than ``limit``, found without recursion."""
    stack: list[tuple[Tree, int]] = [(tree, 0)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            return _too_deep(span_of(node, source), limit)
        stack.extend((c, depth + 1) for c in node.children if isinstance(c, lark.Tree))
    return None


_LINE_START_ANGLE = re.compile(r"(?m)(?<=\S)([ \t]*\n[ \t]*)>(?!=)")


def _parse(source: Source) -> Tree:
    """The tree of ``source``; an array may close with a ``>`` that starts a line (typed on the
    next line of multi-line input), which the lexer would read as a comparison: when the input
    does not parse as it is, it is parsed again with each such ``>`` moved up against the text
    before it (the other characters keep their offsets), and the first error stands if that
    fails too."""
    try:
        return GRAMMAR.parse(source)
    except ParseError:
        text = source.text
        moved = _LINE_START_ANGLE.sub(lambda m: ">" + m.group(1), text)
        if moved == text:
            raise
        try:
            return GRAMMAR.parse(Source(moved, source.filename, source.first_line))
        except ParseError:
            pass
        raise


def parse_tree(source: Source) -> Tree:
    """The tree of ``source``, or a ``ParseError`` (nested too deeply: at the first bracket past
    the limit, found before parsing, or at a node past it)."""
    too_deep = bracket_depth(source)
    if too_deep is not None:
        raise too_deep
    tree = _parse(source)
    too_deep = tree_depth(tree, source)
    if too_deep is not None:
        raise too_deep
    return tree
