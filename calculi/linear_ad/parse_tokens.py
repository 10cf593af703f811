"""The fast parser's tokens.

``tokens`` reads a text with one regular expression whose alternatives are the terminals of
``grammar.lark`` in the order lark tries them; ``parse_fast`` reads the tokens (and builds its
nodes with ``built``'s makers).
"""

from __future__ import annotations

import re
from itertools import accumulate

_NUMBER = (r"-(?>(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?)(?!(?:[ \t\f\r\n]|#[^\n]*|--[^\n]*)*\*\*)"
           r"|(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?")
_NAME = (r"[A-Za-z_\u00c0-\u024f\u0370-\u03ff\u1e00-\u1eff]"
         r"[A-Za-z0-9_'\u00c0-\u024f\u0300-\u036f\u0370-\u03ff\u1e00-\u1eff]*(?:\.[A-Za-z0-9_']+)*")
TOKEN = re.compile(
    r"[ \t\f\r\n]*+(?:(?:#|--)[^\n]*+[ \t\f\r\n]*+)*+"
    r"(?:(?P<word>(?:unpackL|unpack|let|in|def|zero)\b)"
    rf"|(?P<NAME>{_NAME})"
    rf"|(?P<NUMBER>{_NUMBER})"
    r"|(?P<punct>->|\(\+\)|\*\*|\*\.|[→⊕⊙*×+\-/()\[\],;:=ℝ])"
    r"|(?P<end>\Z)"
    r"|(?P<bad>.))", re.DOTALL)
"""The grammar's terminals, each after the white space and comments before it (taken whole, no
backtracking), read as lark reads them: a keyword is a name unless a word boundary follows it (the
grammar's names exclude the keywords), a number's ``-`` before the operator, longer operators
first (no name, number or operator starts like another kind); ``end`` after the last token. One
match a token, none a gap between tokens."""

SPLIT = re.compile(
    r"((?:unpackL|unpack|let|in|def|zero)\b"
    rf"|{_NAME}"
    r"|\(\+\)|\*\*|\*\.|[→⊕⊙*×+/()\[\],;:=ℝ]"
    rf"|{_NUMBER}"
    r"|->|-)")
"""``TOKEN``'s terminals alone (the operators no number starts like tried before the numbers):
``SPLIT.split`` gives the gaps between tokens and the tokens."""
PLAIN = re.compile(
    r"(?=[A-Za-z_0-9()\[\],;:=+/*.\-])"
    r"([A-Za-z_][A-Za-z0-9_]*|[)\[\],;:=+/]|\((?:\+\))?|\*[*.]?"
    rf"|{_NUMBER}|->?)")
"""``SPLIT`` for an ASCII text without ``.`` or ``'``, where a keyword followed by a word boundary
is a name spelled as the keyword, each operator is one alternative, and a character no token
starts with is passed over at once: a third less time."""
_BLANK = re.compile(r"[ \t\f\r\n]*")
_PUNCTUATION = {k: k for k in ("unpackL", "unpack", "let", "in", "def", "zero", "->", "(+)", "**", "*.", "*",
                               "+", "-", "/", "(", ")", "[", "]", ",", ";", ":", "=")}
"""The ASCII keywords and operators, each its own kind."""
_NUMBER_START = dict.fromkeys("0123456789.-", "NUMBER")

INVALID, DEEP, FORM = "invalid", "nested too deeply", "a form the fast parser leaves to the reference"
"""Why the fast parser hands a text over: it is not a program (the reference parser must reject
it too), it nests within 16 levels of ``MAX_DEPTH`` or further, or it has primitive parameters
``p[k=v](…)``, an applied type ``T[…]``, or ``×``, ``in`` or ``def`` glued to the name after it."""


def tokens(text: str) -> tuple[list[str], list[int], list[int]] | str:
    """The kinds (a punctuation mark or keyword is its own kind), starts and ends of the tokens of
    ``text``; at a character no token starts with, why the text is refused (such a character may
    be in a string parameter ``p[k="…"]``). An ASCII text without comments is split by ``SPLIT``
    (``split_tokens``), a third less time than ``scan``; the theorem
    ``linear_ad.speed_parse.split_tokens_are_scanned`` checks the two agree."""
    if text.isascii() and "--" not in text:
        split = split_tokens(text)
        if split is not None:
            return split
    return scan(text)


def scan(text: str) -> tuple[list[str], list[int], list[int]] | str:
    """``tokens`` by ``TOKEN``, one match a token."""
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


def split_tokens(text: str) -> tuple[list[str], list[int], list[int]] | None:
    """``tokens`` of an ASCII text without comments, from its gaps and tokens by ``SPLIT``, when
    every gap is blank (then ``SPLIT`` matched where ``TOKEN`` does, after the same blanks); else
    ``None``. In ASCII, a keyword not followed by a word boundary is followed by a letter, digit
    or ``_``, so is part of a longer name: a token spelled as a keyword is the keyword."""
    parts = (SPLIT if "." in text or "'" in text else PLAIN).split(text)
    if not _BLANK.fullmatch("".join(parts[0::2])):
        return None
    offsets = list(accumulate(map(len, parts)))
    starts = offsets[0::2]
    del starts[-1]
    words = parts[1::2]
    kinds = list(map(_Kinds(_PUNCTUATION).__getitem__, words))
    return kinds, starts, offsets[1::2]


class _Kinds(dict[str, str]):
    """Each token's kind, worked out once a spelling."""

    def __missing__(self, word: str) -> str:
        kind = self[word] = _NUMBER_START.get(word[0], "NAME")
        return kind


