"""The suite's own quality for PartIR: every propagation row, loop rule and collective fires on the
generated cases (``partir.coverage.every_rule_fires``), and how often the cases need each collective."""

from __future__ import annotations

from collections.abc import Callable

from calculi.core.errors import CalculusError
from calculi.partir.check import CALCULUS
from calculi.partir.loops import to_loops
from calculi.partir.lower import SYNTHESISED, Communicate, lower
from calculi.partir.semantics import evaluate
from calculi.partir.simulator import estimate, run
from calculi.partir.steps import run as step_run
from calculi.partir.strategies import Case, cases, example_args
from calculi.partir.syntax import Apply
from calculi.partir.tactics import apply_schedule
from calculi.redistribution.reductions import AllReduce, ReduceScatter
from proofs.partir.paper import PARTIR
from proofs.quality import distribution, every_rule_fires, sample


def _exercise() -> None:
    """Partition, loop, step, lower, simulate and run drawn cases."""
    for case in sample(cases(), 400):
        try:
            part = apply_schedule(case.func, case.schedule)
        except CalculusError:
            continue
        args = example_args(case.func)
        looped = to_loops(part)
        evaluate(looped, args)
        step_run(looped, args)
        spmd = lower(part)
        estimate(spmd)
        run(spmd, args)


every_rule_fires(CALCULUS, PARTIR, "§4 propagation, §5 PartIR:HLO", _exercise)


def _collectives(case: Case) -> set[str]:
    try:
        spmd = lower(apply_schedule(case.func, case.schedule))
    except CalculusError:
        return set()
    return {type(op).__name__ for i in spmd.instrs if isinstance(i, Communicate) for op in i.ops}


def _lowers_to(name: str) -> Callable[[Case], bool]:
    return lambda case: name in _collectives(case)


def _uses_take(case: Case) -> bool:
    return any(isinstance(s, Apply) and s.prim == "take" for s in case.func.body)


distribution(CALCULUS, "cases", cases(), {
    "uses take": _uses_take,
    **{f"lowers to {c.__name__}": _lowers_to(c.__name__) for c in (AllReduce, ReduceScatter, *SYNTHESISED)},
})
