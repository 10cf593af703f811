"""Seeded bugs the theorems of ``proofs/partir`` must kill."""

from __future__ import annotations

from collections.abc import Sequence

from calculi.core.mutants import Mutant, patch, patch_entry
from calculi.partir import lower
from calculi.partir.prims import FACTOR_RULES, Factor, Params, einsum_factors, take_factors
from calculi.partir.prims_sequence import scan_factors
from calculi.partir.syntax import Shape
from calculi.redistribution.reductions import AllReduce, PartialType, ReduceScatter
from calculi.redistribution.syntax import DistType, Mesh

_reshard = lower.reshard_ops


def _einsum_forgets_sum(params: Params, shapes: Sequence[Shape], out: Shape) -> list[Factor]:
    return [Factor(f.operands, f.result, False) for f in einsum_factors(params, shapes, out)]


def _take_slices_rows(params: Params, shapes: Sequence[Shape], out: Shape) -> list[Factor]:
    """Looks up each device's block of rows with the global indices and sums, forgetting the mask."""
    return [*take_factors(params, shapes, out), Factor((0, None), None, True)]


def _scan_tiles_time(params: Params, shapes: Sequence[Shape], out: Shape) -> list[Factor]:
    """Lets each device run the recurrence over its own block of time steps, from the initial state."""
    return [*scan_factors(params, shapes, out), Factor((1, 1, None), 1)]


def _drops_reshard(source: PartialType, target: DistType, mesh: Mesh) -> tuple[object, ...]:
    return tuple(op for op in _reshard(source, target, mesh) if isinstance(op, AllReduce | ReduceScatter))


MUTANTS = [
    Mutant("partir.forget_sum", "partir", "einsum's propagation rule forgets #sum on a contracted index",
           lambda: patch_entry(FACTOR_RULES, "einsum", _einsum_forgets_sum), theorems="partir."),
    Mutant("partir.take_unmasked_sum", "partir", "take's propagation rule tiles the table's rows with an "
           "unmasked #sum", lambda: patch_entry(FACTOR_RULES, "take", _take_slices_rows), theorems="partir."),
    Mutant("partir.scan_tiles_time", "partir", "scan's propagation rule tiles time, restarting the "
           "recurrence on each device's block", lambda: patch_entry(FACTOR_RULES, "scan", _scan_tiles_time),
           theorems="partir."),
    Mutant("partir.drop_reshard", "partir", "the lowering drops the resharding collectives",
           lambda: patch(lower, "reshard_ops", _drops_reshard), theorems="partir.lowering"),
]
