"""Concrete syntax → AST: names resolved through foil scopes, every node with its span.

Two parsers read the same language into the same AST, spans included. ``parse_fast`` (a regular
expression lexer and a precedence-climbing parser) is the one that runs; whatever it does not
accept, it hands to the reference parser (``parse_lark``, imported only then, and lark with it): the
LALR grammar ``grammar.lark``, whose errors (positions, expected tokens, hints) are the language's
syntax errors, and its builder, whose errors are its scope errors. The theorem
``linear_ad.syntax.fast_parser_agrees`` checks the two agree. A chain of ``let … in`` parses to one
flat list, so a program of 10^5 bindings parses without deep recursion. A name's kind (non-linear or
linear) is that of its binder: after ``let (x ; dx) = …``, ``dx`` is linear wherever it is used. The
parts that need no scope (spans, types, patterns, parameters) are read by
``parse_forms.FormReader``.
"""

from __future__ import annotations

from calculi.core.syntax import Source
from calculi.linear_ad import parse_fast
from calculi.linear_ad.syntax import Program, room_for_depth
from calculi.linear_ad.types import Type


def parse_program(source: Source, known: Program | None = None) -> Program:
    """Parse a whole file of ``def``s; calls may name functions of ``known`` or earlier ones."""
    room_for_depth()
    fast = parse_fast.parse(source, known)
    return fast if fast is not None else parse_reference(source, known)


def parse_reference(source: Source, known: Program | None = None) -> Program:
    """``parse_program`` by the LALR grammar: slower, and the source of every error's wording."""
    from calculi.linear_ad import parse_lark

    return parse_lark.parse_reference(source, known)


def parse_type(source: Source) -> Type:
    program = parse_program(Source(f"def t(x: {source.text}) -> (;) = drop(x)", source.filename))
    return program.defs[0].param_types[0]


__all__ = ["parse_program", "parse_reference", "parse_type"]
