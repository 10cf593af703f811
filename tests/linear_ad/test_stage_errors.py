"""An error inside a generated stage points at the source operation it came from.

In the exact domains a domain error (``log`` of a negative rational, a division by zero) is a
``StuckError``. Evaluating J, the unzipped halves or the transpose of a function runs code the
passes built, and the error must be located in the user's file at the operation whose rule built
the failing application, whatever stage and unzip policy ran it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from fractions import Fraction
from typing import Any

import pytest
import sympy

from calculi.core.errors import StuckError
from calculi.linear_ad.ad import grad, jvp_values, load, stages, vjp, vjp_values
from calculi.linear_ad.check import Typing
from calculi.linear_ad.eval import Evaluator
from calculi.linear_ad.primitives import FRACTION, SYMPY, place
from calculi.linear_ad.syntax import Block, Drop, Dup, Expr, LetB, Lit, Prim, Program
from calculi.linear_ad.unzip import POLICIES

PROGRAM = """\
def g(u: R) -> R = sqrt(u) * u

def f(x: R, y: R) -> R =
  let a = x * y in
  let b = log(a) in
  sin(b) + y / x + g(y)
"""
"""``f(-1, 2)`` takes the log of -2; ``f(0, 2)`` the log of 0."""

HELPER = """\
def g(u: R) -> R = sqrt(u) * u

def f(x: R, y: R) -> R = g(y) + x * y
"""
"""``f(1, 0)`` is defined (``sqrt 0`` is 0), but the derivative ``0.5 / sqrt u`` divides by zero."""

DOMAINS = {"fraction": (FRACTION, Fraction), "sympy": (SYMPY, sympy.Rational)}


def typing() -> Typing:
    return load(PROGRAM, "model.la")


def text_at(err: StuckError) -> tuple[str, int, int]:
    """The source text an error points at, with its line and column."""
    span = err.span
    assert span is not None, f"no position: {err.reason}"
    assert span.source.filename == "model.la"
    return span.source.text[span.start:span.end], span.line, span.column


def _domain(value: Any) -> Any:
    return FRACTION if isinstance(value, Fraction) else SYMPY


STAGES: dict[str, Callable[[Typing, list[Any], Any, str], object]] = {
    "J": lambda t, args, one, policy: jvp_values(t, "f", args, [one, one], domain=_domain(one)),
    "U": lambda t, args, one, policy: vjp(t, "f", args, POLICIES[policy], domain=_domain(one)),
    "T": lambda t, args, one, policy: vjp_values(t, "f", args, [one], POLICIES[policy], domain=_domain(one)),
    "grad": lambda t, args, one, policy: grad(t, "f", args, POLICIES[policy], domain=_domain(one)),
}
"""Each stage evaluated at a point: ``f.jvp``; the non-linear half ``f.jvp.nonlin`` (``vjp``); it and
the transposed linear half ``f.jvp.lin.T`` (``vjp_values``); and ``grad``."""


def cases() -> Iterator[tuple[str, str, str]]:
    for domain in DOMAINS:
        for stage in STAGES:
            for policy in ("save-all", "recompute-all", "save-coefficients"):
                if stage != "J" or policy == "save-all":
                    yield domain, stage, policy


@pytest.mark.parametrize(("domain", "stage", "policy"), list(cases()))
@pytest.mark.parametrize(("x", "y", "where", "reason"), [
    (-1, 2, ("log(a)", 5, 11), "log of -2, which is not positive"),
    (0, 2, ("log(a)", 5, 11), "log of 0, which is not positive"),
])
def test_a_primal_domain_error_points_at_the_source_operation(
        domain: str, stage: str, policy: str, x: int, y: int, where: tuple[str, int, int],
        reason: str) -> None:
    dom, number = DOMAINS[domain]
    t = typing()
    with pytest.raises(StuckError) as caught:
        Evaluator(t, dom).call("f", [number(x), number(y)])
    assert text_at(caught.value) == where
    with pytest.raises(StuckError) as caught:
        STAGES[stage](t, [number(x), number(y)], number(1), policy)
    if policy == "save-coefficients" and x == 0 and stage != "J":
        # The coefficient 1 / a of J(log) is bound, and so computed, before log a.
        reason = "division of 1 by zero"
    assert caught.value.reason == reason
    assert caught.value.rule == ("log" if reason.startswith("log") else "div")
    assert text_at(caught.value) == where
    rendered = caught.value.render()
    assert "model.la:5:11" in rendered and "log(a)" in rendered


@pytest.mark.parametrize("domain", list(DOMAINS))
@pytest.mark.parametrize("policy", ["save-all", "recompute-all", "save-coefficients"])
def test_a_derivative_domain_error_points_at_the_operation_it_differentiates(domain: str,
                                                                               policy: str) -> None:
    """``sqrt 0`` is 0, but its derivative divides by zero: the error is located at ``sqrt(u)`` in
    the helper, whether J, the non-linear half (saved) or the linear half (recomputed) divides."""
    dom, number = DOMAINS[domain]
    t = load(HELPER, "model.la")
    assert Evaluator(t, dom).call("f", [number(1), number(0)])[0] == (0,)
    for stage in ("J", "T", "grad"):
        if stage == "J" and policy != "save-all":
            continue
        with pytest.raises(StuckError) as caught:
            STAGES[stage](t, [number(1), number(0)], number(1), policy)
        assert "by zero" in caught.value.reason
        assert text_at(caught.value) == ("sqrt(u)", 1, 20)


@pytest.mark.parametrize("domain", list(DOMAINS))
def test_a_division_by_zero_points_at_the_division(domain: str) -> None:
    number = DOMAINS[domain][1]
    text = "def f(x: R, y: R) -> R =\n  let q = (y * y) / x in\n  q * q\n"
    t = load(text, "model.la")
    for stage in ("J", "T", "grad"):
        with pytest.raises(StuckError) as caught:
            STAGES[stage](t, [number(0), number(1)], number(1), "save-all")
        assert "by zero" in caught.value.reason
        span = caught.value.span
        assert span is not None and span.source.text[span.start:span.end] == "(y * y) / x"


def applications(e: object) -> Iterator[Prim]:
    """Every non-linear application in a program."""
    stack = [e]
    while stack:
        x = stack.pop()
        if isinstance(x, Prim):
            if not x.prim.linear:
                yield x
            stack.extend((*x.args, *x.largs))
        elif isinstance(x, Program):
            stack.extend(d.body for d in x.defs)
        elif isinstance(x, Block):
            stack.extend(b.rhs for b in x.bindings if isinstance(b, LetB))
            stack.append(x.result)
        elif isinstance(x, Dup | Drop):
            stack.append(x.arg)


@pytest.mark.parametrize("policy", ["save-all", "recompute-all", "save-coefficients"])
def test_every_generated_application_is_located_in_the_source(policy: str) -> None:
    """What the passes build from a parsed program: every non-linear application (the only ones
    that can fail in an exact domain) carries the span of a source operation."""
    t = typing()
    operations = {(p.span.start, p.span.end) for p in applications(t.program) if p.span is not None}
    st = stages(t, "f", POLICIES[policy])
    for stage in ("jvp", "unzip", "transpose"):
        for p in applications(st.program(stage)):
            assert p.span is not None, f"{p.prim.name} in the {stage} stage has no span"
            assert (p.span.start, p.span.end) in operations


def test_place_keeps_what_has_a_position_and_fills_in_what_has_none() -> None:
    t = load("def f(x: R) -> R = log(x)", "model.la")
    source = t.program.defs[0].body
    assert isinstance(source, Prim) and source.span is not None
    inner = Prim(source.prim, (Lit("2.0"),))
    built: Expr = Block((LetB((), (), Drop(inner)),), source)
    before = repr(built)
    place(built, source.span)
    assert repr(built) == before  # (equality and the printed form ignore spans)
    assert isinstance(built, Block) and built.result is source and built.span == source.span
    binding = built.bindings[0]
    assert isinstance(binding, LetB) and isinstance(binding.rhs, Drop) and binding.rhs.arg is inner
    assert inner.span == source.span and inner.args[0].span is None
    other = load("def g(y: R) -> R = sin(y)", "other.la").program.defs[0].body
    assert other.span is not None
    place(built, other.span)
    assert inner.span == source.span and built.span == source.span  # (a position is never moved)
