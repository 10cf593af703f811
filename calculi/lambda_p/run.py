"""Evaluating programs for people: the machine to use, and values printed in the surface syntax."""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Callable, Iterator
from functools import partial
from typing import Any

from calculi.core.errors import CalculusError
from calculi.core.trace import Fuel
from calculi.lambda_p import eval as fast
from calculi.lambda_p.deep import deep
from calculi.lambda_p.flat import data_text
from calculi.lambda_p.pretty import show
from calculi.lambda_p.semantics import Frame, Machine, plug_all
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


def run_text(
    term: Term,
    fuel: Fuel,
    variant: str = "icfp24",
    jobs: int = 1,
    machine: str = "fast",
    warn: Callable[[str], None] | None = None,
) -> str:
    """``show_value(run_term(…))``; a data value of the fast evaluator (an array of 10^6 numbers,
    say) is printed straight from the run-time value, without building its term."""
    if machine == "fast":
        value = deep(lambda: fast.evaluate(term, fuel, variant, jobs, warn))
        text = data_text(value)
        return text if text is not None else show_value(deep(lambda: value_term(value)))
    return show_value(run_term(term, fuel, variant, jobs, machine, warn))


TRACE_ENDS = 4
"""How many steps a trace summary shows at each end."""


def trace_summary(
    term: Term, fuel: Fuel, variant: str = "icfp24", width: int = 100, ends: int = TRACE_ENDS
) -> Iterator[str]:
    """The small-step trace in brief: the term, its first and last ``ends`` steps (every step of a
    trace of at most ``3 * ends``), then how many times each rule fired. The machine keeps its
    context between steps (``Machine.evaluate``), so a summary costs what the evaluation costs;
    only the steps shown are printed."""
    machine = Machine(variant)
    yield deep(lambda: show(term, width))
    counts: Counter[str] = Counter()
    first: list[str] = []
    last: deque[tuple[str, tuple[Frame, ...], Term]] = deque(maxlen=2 * ends)

    def on_step(rule: str, frames: list[Frame], new: Term) -> None:
        counts[rule] += 1
        if len(first) < ends:
            first.append(f"--> [{rule}] {show(plug_all(frames, new), width)}")
        else:
            last.append((rule, tuple(frames), new))

    try:
        deep(lambda: machine.evaluate(term, fuel, on_step))
        stopped = None
    except CalculusError as err:  # stuck, or out of fuel: the steps up to there, then the error
        stopped = err
    yield from first
    total = sum(counts.values())
    if total > 3 * ends:
        yield f"… {total - 2 * ends:,} steps more (--full-trace or :fulltrace shows every step) …"
        last = deque(list(last)[ends:])
    for rule, frames, new in last:
        yield f"--> [{rule}] {deep(partial(show, plug_all(list(frames), new), width))}"
    rules = ", ".join(f"{rule} {n:,}" for rule, n in counts.most_common())
    yield f"{total:,} step{'s' if total != 1 else ''}: {rules}" if total else "no step: a value already"
    if stopped is not None:
        raise stopped


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


__all__ = ["MACHINES", "CalculusError", "run_term", "run_text", "show_value", "trace_lines", "trace_summary",
           "value_term"]
