"""Data printed flat, as the printer lays it out (data has no line breaks): literals, and arrays
and constructors of data, from terms (``flat_data``) and straight from the fast evaluator's
run-time values (``data_text``: an array of 10^6 numbers prints without building its term).
Both walk with an explicit stack, so data nested 10^5 deep prints like flat data.
"""

from __future__ import annotations

import json
from typing import Any

from calculi.core.parsing import show_int
from calculi.lambda_p.syntax import TUPLE, Arr, Con, Lit, Term
from calculi.lambda_p.values import VArr, VCon


def flat_data(term: Term) -> str:
    """A data value as the printer lays it out (no line breaks), built without recursion; the
    stack holds (term, precedence) and, with precedence ``TEXT``, pieces of text."""
    out: list[str] = []
    stack: list[tuple[Term | str, int]] = [(term, 0)]
    while stack:
        t, prec = stack.pop()
        if isinstance(t, str):
            out.append(t)
        elif isinstance(t, Lit):
            out.append(literal_text(t.value))
        elif isinstance(t, Arr):
            lits = [i.value for i in t.items if isinstance(i, Lit)]
            if len(lits) == len(t.items):
                out.append(f"<{literals_text(lits)}>")
            else:
                stack += [(">", TEXT), *_between(", ", t.items, 0), ("<", TEXT)]
        elif isinstance(t, Con) and t.tag == TUPLE:
            stack += [(")", TEXT), *_between(", ", t.args, 0), ("(", TEXT)]
        elif isinstance(t, Con) and not t.args:
            out.append(t.tag)
        elif isinstance(t, Con):
            parens = prec > 7
            stack += [(")" if parens else "", TEXT), *_between(" ", t.args, 8),
                      (("(" if parens else "") + t.tag + " ", TEXT)]
        else:
            raise TypeError(f"not data: {t!r}")
    return "".join(out)


TEXT = -1


def _between(sep: str, items: tuple[Term, ...], prec: int) -> list[tuple[Term | str, int]]:
    """``items`` with ``sep`` between them, last first (for a stack)."""
    out: list[tuple[Term | str, int]] = []
    for k, item in enumerate(reversed(items)):
        if k:
            out.append((sep, TEXT))
        out.append((item, prec))
    return out


def literal_text(value: int | str) -> str:
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    return f"({show_int(value)})" if value < 0 else show_int(value)



def literals_text(values: list[int | str]) -> str:
    """``literal_text`` of each value, comma-separated (in bulk for short non-negative integers)."""
    ints = [v for v in values if type(v) is int]
    if len(ints) == len(values) and (not ints or (min(ints) >= 0 and max(ints) < _SHORT)):
        return ", ".join(map(str, ints))
    return ", ".join(map(literal_text, values))


_SHORT = 10**1000


def data_text(v: Any) -> str | None:
    """A data value as ``show(to_term(v))`` prints it, without building its term; None when it
    holds a function. Built without recursion; the stack holds (value, precedence) and, with
    precedence ``TEXT``, pieces of text."""
    out: list[str] = []
    stack: list[tuple[Any, int]] = [(v, 0)]
    while stack:
        x, prec = stack.pop()
        tx = type(x)
        if prec == TEXT:
            out.append(x)
        elif tx is int or tx is str:
            out.append(literal_text(x))
        elif tx is VArr:
            if all(type(i) is int or type(i) is str for i in x.items):
                out.append(f"<{literals_text(list(x.items))}>")
            else:
                stack += [(">", TEXT), *_values_between(", ", x.items, 0), ("<", TEXT)]
        elif tx is VCon and x.tag == "Tuple":
            stack += [(")", TEXT), *_values_between(", ", x.args, 0), ("(", TEXT)]
        elif tx is VCon and not x.args:
            out.append(x.tag)
        elif tx is VCon:
            parens = prec > 7
            stack += [(")" if parens else "", TEXT), *_values_between(" ", x.args, 8),
                      (("(" if parens else "") + x.tag + " ", TEXT)]
        else:
            return None
    return "".join(out)


def _values_between(sep: str, items: tuple[Any, ...], prec: int) -> list[tuple[Any, int]]:
    """``items`` with ``sep`` between them, last first (for a stack)."""
    out: list[tuple[Any, int]] = []
    for k, item in enumerate(reversed(items)):
        if k:
            out.append((sep, TEXT))
        out.append((item, prec))
    return out
