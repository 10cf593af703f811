"""Evaluating programs for people: the machine to use, and values printed in the surface syntax."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial
from typing import Any

from calculi.core.errors import CalculusError
from calculi.core.trace import Fuel
from calculi.lambda_p import eval as fast
from calculi.lambda_p.deep import deep
from calculi.lambda_p.pretty import show
from calculi.lambda_p.semantics import Machine
from calculi.lambda_p.syntax import Term, Var
from calculi.lambda_p.values import NotTransferable, to_term

MACHINES = ("fast", "small-step")


def value_term(v: Any) -> Term:
    """A value of the fast evaluator as a term (a host continuation prints as ``<continuation>``)."""
    try:
        return to_term(v)
    except NotTransferable:
        return Var(-1, "<continuation>")


def run_term(
    term: Term,
    fuel: Fuel,
    variant: str = "icfp24",
    jobs: int = 1,
    machine: str = "fast",
    warn: Callable[[str], None] | None = None,
) -> Term:
    """The value of a closed term, by the fast evaluator or by the small-step machine; ``warn``
    hears of loops traversed by handlers that lose their iterations' effects."""
    if machine == "fast":
        return deep(lambda: value_term(fast.evaluate(term, fuel, variant, jobs, warn)))
    return deep(lambda: Machine(variant, jobs, warn=warn).evaluate(term, fuel))


def show_value(term: Term) -> str:
    return deep(lambda: show(term))


def trace_lines(term: Term, fuel: Fuel, variant: str = "icfp24", width: int = 100) -> Iterator[str]:
    """The small-step trace: the term, then ``--> [rule] term`` for every step."""
    machine = Machine(variant)
    yield deep(lambda: show(term, width))
    current = term
    while True:
        nxt = deep(partial(machine.step, current, fuel))
        if nxt is None:
            return
        fuel.tick(current.span)
        current = nxt.term
        shown = deep(partial(show, current, width))
        yield f"--> [{nxt.rule}] {shown}"


__all__ = ["MACHINES", "CalculusError", "run_term", "show_value", "trace_lines", "value_term"]
