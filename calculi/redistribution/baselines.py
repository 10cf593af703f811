"""The two baselines, and the table of strategies the command line offers.

* naive: the easy program (gather everything, then slice); its peak is the global array.
* optimal: the least peak, then the least traffic, by search over all programs (``optimal``);
  optimal-subaxes searches the programs that also split mesh axes into sub-axes (``subaxes``).
* xla: the decision list of XLA's SPMD partitioner (``ReshardNoCache``): nothing if the types are
  equal; one collective-permute if only the device assignment differs; one all-to-all if one
  dimension's tiling moves to another; the partial-replication handlers (slice more, or gather some
  minor axes); otherwise "first replicate and then reshard" — gather the whole array and slice.
"""

from __future__ import annotations

from collections.abc import Callable

from calculi.core.errors import TypeCheckError
from calculi.core.trace import Fuel
from calculi.redistribution.check import check_program, same_problem
from calculi.redistribution.optimal import optimal, optimum
from calculi.redistribution.subaxes import candidate_ops as sub_axis_candidates
from calculi.redistribution.syntax import (
    AllGather,
    AllPermute,
    AllToAll,
    DistType,
    DynSlice,
    Mesh,
    Op,
    Program,
)
from calculi.redistribution.synth import easy_program, paper


def naive(source: DistType, target: DistType, mesh: Mesh) -> Program:
    return easy_program(source, target, mesh)


def _single_all_to_all(source: DistType, target: DistType, mesh: Mesh) -> Program | None:
    for i, d in enumerate(source.dims):
        if not d.axes:
            continue
        for j in range(source.rank):
            if j != i:
                op = AllToAll(i, j, d.axes[-1])
                try:
                    if check_program(source, (op,), mesh)[-1] == target:
                        return (op,)
                except TypeCheckError:
                    continue
    return None


def _partial_replication(source: DistType, target: DistType, mesh: Mesh) -> Program | None:
    """Per dimension the axes of one type extend those of the other: only slices, or only gathers."""
    slices: list[Op] = []
    gathers: list[Op] = []
    for i, (s, t) in enumerate(zip(source.dims, target.dims, strict=True)):
        if t.axes[: len(s.axes)] == s.axes:
            slices.extend(DynSlice(i, a) for a in t.axes[len(s.axes) :])
        elif s.axes[: len(t.axes)] == t.axes:
            gathers.extend(AllGather(i, a) for a in reversed(s.axes[len(t.axes) :]))
        else:
            return None
    if slices and gathers:
        return None
    program = tuple(slices or gathers)
    try:
        return program if check_program(source, program, mesh)[-1] == target else None
    except TypeCheckError:
        return None


def xla_like(source: DistType, target: DistType, mesh: Mesh) -> Program:
    same_problem(source, target, mesh)
    if source == target:
        return ()
    if source.local_shape == target.local_shape:
        return (AllPermute(target),)
    return (_single_all_to_all(source, target, mesh) or _partial_replication(source, target, mesh)
            or easy_program(source, target, mesh))


def optimal_subaxes(source: DistType, target: DistType, mesh: Mesh) -> Program:
    return optimum(source, target, mesh, sub_axis_candidates).program


Strategy = Callable[[DistType, DistType, Mesh], Program]

STRATEGIES: dict[str, Strategy] = {"paper": paper, "optimal": optimal, "optimal-subaxes": optimal_subaxes,
                                   "naive": naive, "xla": xla_like}


def synthesize(source: DistType, target: DistType, mesh: Mesh, strategy: str = "paper",
               fuel: Fuel | None = None) -> Program:
    """A program from ``source`` to ``target`` by the named strategy (``STRATEGIES``); the paper's
    rewriting spends ``fuel``, one unit per rewrite."""
    same_problem(source, target, mesh)
    if strategy == "paper":
        return paper(source, target, mesh, fuel)
    return STRATEGIES[strategy](source, target, mesh)
