"""The fast parser's tokens, and its nodes built without the dataclasses' ``__init__``.

``tokens`` reads a text with one regular expression whose alternatives are the terminals of
``grammar.lark`` in the order lark tries them; ``parse_fast`` reads the tokens. A node built by
setting its slots (``_maker3`` …) takes half the time of a frozen dataclass's ``__init__``, which
is most of the parser's time; the agreement theorem compares the nodes and their spans.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from typing import TypeVar

from calculi.linear_ad.syntax import Binder, Block, Call, FuncDef, LetB, LVar, Prim, Var

N = TypeVar("N")

_NUMBER = (r"-(?>(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?)(?!(?:[ \t\f\r\n]|#[^\n]*|--[^\n]*)*\*\*)"
           r"|(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?")
_NAME = (r"(?!(?:let|in|def|unpack|unpackL|zero)\b)[A-Za-z_\u00c0-\u024f\u0370-\u03ff\u1e00-\u1eff]"
         r"[A-Za-z0-9_'\u00c0-\u024f\u0300-\u036f\u0370-\u03ff\u1e00-\u1eff]*(?:\.[A-Za-z0-9_']+)*")
TOKEN = re.compile(
    r"(?:[ \t\f\r\n]+|#[^\n]*|--[^\n]*)*+"
    rf"(?:(?P<NUMBER>{_NUMBER})"
    rf"|(?P<NAME>{_NAME})"
    r"|(?P<word>unpackL|unpack|let|in|def|zero)"
    r"|(?P<punct>->|→|\(\+\)|⊕|\*\*|\*\.|⊙|\*|×|\+|-|/|\(|\)|\[|\]|,|;|:|=|ℝ)"
    r"|(?P<end>\Z)"
    r"|(?P<bad>.))", re.DOTALL)
"""The grammar's terminals, in the order lark tries them, each after the white space and comments
before it (taken whole, no backtracking): a number before ``-``, a name before a keyword (names
exclude the keywords), longer operators first; ``end`` after the last token. One match a token,
none a gap between tokens."""

INVALID, DEEP, FORM = "invalid", "nested too deeply", "a form the fast parser leaves to the reference"
"""Why the fast parser hands a text over: it is not a program (the reference parser must reject
it too), it nests within 16 levels of ``MAX_DEPTH`` or further, or it has primitive parameters
``p[k=v](…)``, an applied type ``T[…]``, or ``×``, ``in`` or ``def`` glued to the name after it."""


def tokens(text: str) -> tuple[list[str], list[int], list[int]] | str:
    """The kinds (a punctuation mark or keyword is its own kind), starts and ends of the tokens of
    ``text``; at a character no token starts with, why the text is refused (such a character may
    be in a string parameter ``p[k="…"]``)."""
    kinds: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    for m in TOKEN.finditer(text):
        kind = m.lastgroup
        if kind == "end":
            break
        if kind == "bad" or kind is None:
            return FORM if "[" in text else INVALID
        kinds.append(kind if kind == "NAME" or kind == "NUMBER" else m.group(kind))
        starts.append(m.start(kind))
        ends.append(m.end())
    return kinds, starts, ends


new = object.__new__


def _setters(cls: type, *fields: str) -> list[Callable[[object, object], None]]:
    """The slot setters of a frozen, slotted node whose fields are ``fields`` then ``span``: a node
    built by setting them takes half the time of the dataclass's ``__init__``, which is most of
    the parser's time (the agreement theorem compares the nodes and their spans)."""
    assert [f.name for f in dataclasses.fields(cls)] == ["span", *fields]
    return [getattr(cls, f).__set__ for f in (*fields, "span")]


def _maker3(cls: type[N], *fields: str) -> Callable[[object, object, object], N]:
    s0, s1, s2 = _setters(cls, *fields)

    def make(a: object, b: object, c: object) -> N:
        node = new(cls)
        s0(node, a)
        s1(node, b)
        s2(node, c)
        return node

    return make


def _maker4(cls: type[N], *fields: str) -> Callable[[object, object, object, object], N]:
    s0, s1, s2, s3 = _setters(cls, *fields)

    def make(a: object, b: object, c: object, d: object) -> N:
        node = new(cls)
        s0(node, a)
        s1(node, b)
        s2(node, c)
        s3(node, d)
        return node

    return make


def _maker5(cls: type[N], *fields: str) -> Callable[[object, object, object, object, object], N]:
    s0, s1, s2, s3, s4 = _setters(cls, *fields)

    def make(a: object, b: object, c: object, d: object, e: object) -> N:
        node = new(cls)
        s0(node, a)
        s1(node, b)
        s2(node, c)
        s3(node, d)
        s4(node, e)
        return node

    return make


def _maker8(cls: type[N], *fields: str) -> Callable[..., N]:
    s0, s1, s2, s3, s4, s5, s6, s7 = _setters(cls, *fields)

    def make(a: object, b: object, c: object, d: object, e: object, f: object, g: object, h: object) -> N:
        node = new(cls)
        s0(node, a)
        s1(node, b)
        s2(node, c)
        s3(node, d)
        s4(node, e)
        s5(node, f)
        s6(node, g)
        s7(node, h)
        return node

    return make


new_var = _maker3(Var, "name", "hint")
new_lvar = _maker3(LVar, "name", "hint")
new_binder = _maker3(Binder, "name", "hint")
new_letb = _maker4(LetB, "binders", "lbinders", "rhs")
new_prim = _maker5(Prim, "prim", "args", "largs", "params")
new_call = _maker4(Call, "func", "args", "largs")
new_block = _maker3(Block, "bindings", "result")
new_funcdef = _maker8(FuncDef, "name", "params", "param_types", "lparams", "lparam_types", "result", "body")
