"""PartIR's claims, checked on generated layer-like programs and random schedules of tactics.

A schedule that propagation rejects with a conflict is part of the claim (the same conflict
whatever the order); the other theorems take the schedules that apply.
"""

from __future__ import annotations

import random

import numpy as np
from hypothesis import assume

from calculi.core.errors import CalculusError
from calculi.core.syntax import Source
from calculi.partir.loops import to_loops
from calculi.partir.lower import Communicate, lower
from calculi.partir.mutants import MUTANTS
from calculi.partir.parse import parse_func
from calculi.partir.pretty import show_func
from calculi.partir.propagation import Partitioning
from calculi.partir.semantics import evaluate
from calculi.partir.simulator import estimate, run
from calculi.partir.strategies import Case, cases, example_args
from calculi.partir.tactics import apply_schedule
from calculi.redistribution.check import check_program
from calculi.redistribution.reductions import AllReduce, ReduceScatter, type_of_reduction
from calculi.redistribution.syntax import Op
from proofs.registry import Paper, register_mutants, theorem

PARTIR = Paper("partir", "PartIR: Composing SPMD partitioning strategies for machine learning",
               "arXiv:2401.11202")

register_mutants(MUTANTS)


def show(value: object) -> str:
    if isinstance(value, Case):
        return show_func(value.func) + "\nschedule: " + "; ".join(map(str, value.schedule))
    return str(value)


def _args(case: Case) -> dict[str, np.ndarray]:
    return example_args(case.func)


def _applied(case: Case) -> Partitioning:
    try:
        return apply_schedule(case.func, case.schedule)
    except CalculusError:
        assume(False)
        raise


def _same(xs: tuple[np.ndarray, ...], ys: tuple[np.ndarray, ...]) -> None:
    assert len(xs) == len(ys)
    for x, y in zip(xs, ys, strict=True):
        assert x.shape == y.shape, (x.shape, y.shape)
        np.testing.assert_allclose(x, y, rtol=1e-9, atol=1e-9)


@theorem("partir.syntax.round_trip", paper=PARTIR, section="§3 PartIR:Core",
         statement="printing a program, partitioned into loops or not, and parsing it back gives it back",
         given={"case": cases()}, label="house-rule", show=show)
def _(case: Case) -> None:
    assert parse_func(Source(show_func(case.func))) == case.func
    looped = to_loops(_applied(case))
    assert parse_func(Source(show_func(looped))) == looped


@theorem("partir.core.partitioned_means_same", paper=PARTIR, section="§3 loop semantics",
         statement="the partitioned program, loops and slices, means what the unpartitioned one means",
         given={"case": cases()}, show=show)
def _(case: Case) -> None:
    args = _args(case)
    _same(evaluate(to_loops(_applied(case)), args), evaluate(case.func, args))


@theorem("partir.propagation.order_independent", paper=PARTIR, section="§4 propagation",
         statement="propagation reaches the same partitioning, or the same conflict, in any visiting order",
         given={"case": cases()}, show=show)
def _(case: Case) -> None:
    outcomes: list[tuple[object, ...]] = []
    for seed in (None, 1, 2):
        rng = random.Random(seed) if seed is not None else None
        try:
            p = apply_schedule(case.func, case.schedule, rng)
            outcomes.append(("ok", dict(p.loops), dict(p.inputs)))
        except CalculusError as err:
            outcomes.append(("error", err.reason, None))
    assert all(o == outcomes[0] for o in outcomes), outcomes


@theorem("partir.lowering.simulated_equals_reference", paper=PARTIR, section="§5 PartIR:HLO",
         statement="the lowered SPMD program, run on the simulated mesh, computes the reference results",
         given={"case": cases()}, show=show)
def _(case: Case) -> None:
    args = _args(case)
    _same(run(lower(_applied(case)), args).outputs, evaluate(case.func, args))


@theorem("partir.simulator.bytes_match_collectives", paper=PARTIR, section="§6 simulator",
         statement="the simulator's per-device elements sent by each collective equal those the run moves",
         given={"case": cases()}, show=show)
def _(case: Case) -> None:
    spmd = lower(_applied(case))
    assert estimate(spmd).sent == run(spmd, _args(case)).sent


@theorem("partir.lowering.memory_within_redistribution_bound", paper=PARTIR, section="§5 PartIR:HLO",
         statement="no reshard of the lowering holds more than max(source, target) local elements",
         given={"case": cases()}, show=show)
def _(case: Case) -> None:
    spmd = lower(_applied(case))
    for instr in spmd.instrs:
        if not isinstance(instr, Communicate):
            continue
        summed = [op for op in instr.ops if isinstance(op, AllReduce | ReduceScatter)]
        rest: tuple[Op, ...] = tuple(op for op in instr.ops if not isinstance(op, AllReduce | ReduceScatter))
        summed_type = instr.source
        for op in summed:
            summed_type = type_of_reduction(op, summed_type, spmd.mesh)
        start = summed_type.ty
        types = check_program(start, rest, spmd.mesh)
        assert types[-1] == instr.target.ty
        bound = max(instr.source.ty.local_size, instr.target.ty.local_size)
        assert max(t.local_size for t in types) <= bound, (instr, [t.local_size for t in types])

