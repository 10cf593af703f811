"""Stuck states, grouped as in ICFP'24 Lemma 6.4, and the messages both interpreters give for them.

In untyped λp a closed term that is not a value and cannot step is stuck in one of these ways
(Lemma 6.4 leaves only the first for well-typed Fp terms):

    unhandled operation   E[perform op v] with op ∉ bop(E) and no handler of op around it
    not a function        applying an integer, a string, an array, a constructor
    bad index             indexing a non-array, with a non-integer, or out of range
    missing clause        a handle whose handler lacks a clause the rule needs
    bad loop bound        for x:n. e with n not a non-negative integer (a toolkit extension)
    bad primitive         a δ-rule applied outside its domain (a toolkit extension)
    no match              case on a value no branch matches (a toolkit extension)
    undefined             a top-level name used before its definition has a value (toolkit)

The small-step machine and the fast evaluator are each other's oracle, so they share nothing but
these messages: a disagreement between them is a disagreement in meaning, not in wording.
Values are described by ``describe`` (in ``values``), which both use.
"""

from __future__ import annotations

from collections.abc import Sequence

from calculi.core.errors import StuckError
from calculi.core.parsing import show_int
from calculi.core.syntax import Span

GROUPS = (
    "unhandled operation",
    "not a function",
    "bad index",
    "missing clause",
    "bad loop bound",
    "bad primitive",
    "no match",
    "undefined",
)


class Stuck(StuckError):
    """A stuck state; ``group`` is one of ``GROUPS``."""

    def __init__(self, group: str, reason: str, span: Span | None, rule: str | None = None) -> None:
        super().__init__(reason, span, rule=rule or group)
        self.group = group

    def __reduce__(self) -> tuple[object, ...]:
        return Stuck, (self.group, self.reason, self.span, self.rule)


def unhandled(op: str, argument: str, handled: Sequence[str], span: Span | None) -> Stuck:
    """``handled``: the operations of the handlers around the ``perform`` (bop of its context)."""
    around = "{" + ", ".join(sorted(set(handled))) + "}" if handled else "none"
    return Stuck(
        "unhandled operation",
        f"unhandled operation '{op}' (argument {argument}); enclosing handlers handle: {around}",
        span,
        rule="perform",
    )


def not_a_function(what: str, span: Span | None) -> Stuck:
    return Stuck("not a function", f"cannot apply {what} to an argument", span)


def cannot_index(what: str, span: Span | None) -> Stuck:
    return Stuck("bad index", f"cannot index {what}", span)


def bad_index(what: str, span: Span | None) -> Stuck:
    return Stuck("bad index", f"an index must be an integer, got {what}", span)


def out_of_range(i: int, length: int, span: Span | None) -> Stuck:
    return Stuck("bad index", f"index {show_int(i)} out of range for array of length {length}", span)


def missing_clause(name: str, span: Span | None) -> Stuck:
    return Stuck("missing clause", f"the handler has no {name!r} clause", span)


def bad_loop_bound(what: str, span: Span | None) -> Stuck:
    return Stuck("bad loop bound", f"a for bound must be a non-negative integer, got {what}", span)


def bad_primitive(reason: str, span: Span | None) -> Stuck:
    return Stuck("bad primitive", reason, span)


def no_match(what: str, tags: Sequence[str | None], tuple_sizes: tuple[int, int] | None,
             span: Span | None) -> Stuck:
    """No branch of a ``case`` matches. ``tags`` are the branches' constructors (an ``if`` is the
    case with branches True and False); ``tuple_sizes`` is (pattern, value) when a tuple pattern
    met a tuple of another size."""
    if list(tags) == ["True", "False"]:
        return Stuck("no match", f"the condition of 'if' must be True or False, got {what}", span)
    if tuple_sizes is not None:
        pattern, value = tuple_sizes
        return Stuck(
            "no match",
            f"the pattern has {pattern} components but the tuple has {value}",
            span,
        )
    return Stuck("no match", f"no case branch matches {what}", span)


def undefined(name: str, site: Span | None, span: Span | None) -> Stuck:
    where = f" (defined at {site})" if site is not None else ""
    return Stuck("undefined", f"{name} is used before its definition{where} has a value", span)


def self_reference(name: str, span: Span | None) -> Stuck:
    return Stuck("undefined", f"the definition of {name} refers only to itself", span)
