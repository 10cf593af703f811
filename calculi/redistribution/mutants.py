"""Seeded bugs the theorem suite must kill, each a small change to one rule.

* ``rewrite_drops_dynslice``: flattening a peak AllGather(i,a);DynSlice(j,b) forgets the slice.
* ``all_to_all_wrong_axis``: AllToAll's typing rule moves the major-most axis instead of the minor one.
* ``all_gather_non_minor``: AllGather's typing rule accepts any axis of the dimension, not only the minor.
* ``normaliser_stops_early``: normalisation stops as soon as no gather sits right before a slice.
* ``all_to_all_cost_whole_buffer``: AllToAll's cost rule counts the whole buffer as sent and received,
  forgetting the chunk a device keeps.
* ``dyn_slice_any_size``: DynSlice's typing rule forgets its premise that ``|x|`` divides ``n_i``.
* ``sub_axis_from_minor_end``: a device's coordinate along ``y:(p)s`` counts ``p`` from the minor end.
* ``sub_axes_may_overlap``: well-formedness and DynSlice only refuse an axis used twice verbatim, so
  ``y`` and ``y:2`` may split one type.
* ``sub_axis_gather_cost_whole_axis``: AllGather's cost over a sub-axis counts the whole mesh axis.
"""

from __future__ import annotations

import itertools

from calculi.core.mutants import Mutant, patch, patch_entry
from calculi.core.trace import Fuel
from calculi.redistribution import check, costs, synth
from calculi.redistribution.syntax import (
    AllGather,
    AllToAll,
    Coord,
    Dim,
    DistType,
    DynSlice,
    Mesh,
    Op,
    Program,
    axis_parts,
    base_axis,
)


def _peak_without_slice(
    p: Op, q: Op, t0: DistType, t1: DistType, t2: DistType, mesh: Mesh
) -> synth.Rewritten | None:
    assert isinstance(p, AllGather) and isinstance(q, DynSlice)
    if p.dim != q.dim and p.axis != q.axis:
        return synth.PEAK_SWAP, [AllGather(p.dim, p.axis)]
    return synth.flatten_peak(p, q, t0, t1, t2, mesh)


def _all_to_all_major(op: Op, ty: DistType, mesh: Mesh) -> DistType:
    assert isinstance(op, AllToAll)
    out = check.rule_all_to_all(op, ty, mesh)
    src, dst = ty.dims[op.src_dim], ty.dims[op.dst_dim]
    moved = src.axes[0]
    size = mesh.size(moved)
    out = out.with_dim(op.src_dim, Dim(src.local * size, src.axes[1:], src.size))
    return out.with_dim(op.dst_dim, Dim(dst.local // size, (*dst.axes, moved), dst.size))


def _all_gather_any(op: Op, ty: DistType, mesh: Mesh) -> DistType:
    assert isinstance(op, AllGather)
    d = ty.dims[op.dim] if 0 <= op.dim < ty.rank else None
    if d is None or op.axis not in d.axes:
        return check.rule_all_gather(op, ty, mesh)
    kept = tuple(a for a in d.axes if a != op.axis)
    return ty.with_dim(op.dim, Dim(d.local * mesh.size(op.axis), kept, d.size))


def _normalize_until_no_peak(
    program: Program, source: DistType, mesh: Mesh, fuel: Fuel | None = None
) -> Program:
    def has_peak(prog: Program) -> bool:
        return any(isinstance(a, AllGather) and isinstance(b, DynSlice) for a, b in itertools.pairwise(prog))

    while has_peak(program):
        nxt = synth.rewrite_once(program, source, mesh)
        if nxt is None:
            break
        program = nxt
    return program


def _all_to_all_cost_whole(
    op: Op, before: DistType, after: DistType, mesh: Mesh, c: Coord
) -> costs.OpCost:
    return costs.OpCost(after.local_size, before.local_size, before.local_size)


def _dyn_slice_any_size(op: Op, ty: DistType, mesh: Mesh) -> DistType:
    assert isinstance(op, DynSlice)
    size = mesh.size(op.axis) if op.axis in mesh else 1
    d = ty.dims[op.dim] if 0 <= op.dim < ty.rank else None
    if d is None or op.axis in ty.used_axes or size == 1 or d.local % size == 0:
        return check.rule_dyn_slice(op, ty, mesh)
    return ty.with_dim(op.dim, Dim(d.local // size, (*d.axes, op.axis), d.size))


def _coordinate_from_minor_end(self: Mesh, axis: str, coord: Coord) -> int:
    _, pre, size = axis_parts(axis)
    c = coord[self.index(axis)]
    return c if size is None else c // pre % size


def _overlap_verbatim(a: str, b: str, mesh_size: int) -> bool:
    return a == b


def _all_gather_cost_whole_axis(op: Op, before: DistType, after: DistType, mesh: Mesh,
                                c: Coord) -> costs.OpCost:
    assert isinstance(op, AllGather)
    moved = (mesh.size(base_axis(op.axis)) - 1) * before.local_size
    return costs.OpCost(after.local_size, moved, moved)


SUB = "redistribution.subaxes"

MUTANTS = [
    Mutant("redistribution.rewrite_drops_dynslice", "redistribution",
           "flattening a peak AllGather(i,a);DynSlice(j,b) drops the DynSlice",
           lambda: patch_entry(synth.REWRITES, (AllGather, DynSlice), _peak_without_slice)),
    Mutant("redistribution.all_to_all_wrong_axis", "redistribution",
           "AllToAll moves the major-most axis of the source dimension",
           lambda: patch_entry(check.TYPING_RULES, AllToAll, _all_to_all_major)),
    Mutant("redistribution.all_gather_non_minor", "redistribution",
           "AllGather accepts (and removes) an axis that is not minor-most",
           lambda: patch_entry(check.TYPING_RULES, AllGather, _all_gather_any)),
    Mutant("redistribution.normaliser_stops_early", "redistribution",
           "normalisation stops once no AllGather sits right before a DynSlice",
           lambda: patch(synth, "normalize", _normalize_until_no_peak)),
    Mutant("redistribution.all_to_all_cost_whole_buffer", "redistribution",
           "AllToAll's cost counts the whole buffer sent and received, not (|x|-1)/|x| of it",
           lambda: patch_entry(costs.COST_RULES, AllToAll, _all_to_all_cost_whole)),
    Mutant("redistribution.dyn_slice_any_size", "redistribution",
           "DynSlice's typing rule forgets that |x| must divide the local size",
           lambda: patch_entry(check.TYPING_RULES, DynSlice, _dyn_slice_any_size)),
    Mutant("redistribution.sub_axis_from_minor_end", "redistribution",
           "a device's coordinate along y:(p)s counts p coordinates from the minor end of y",
           lambda: patch(Mesh, "coordinate", _coordinate_from_minor_end), theorems=SUB),
    Mutant("redistribution.sub_axes_may_overlap", "redistribution",
           "well-formedness and DynSlice refuse only an axis used twice verbatim (y with y:2 passes)",
           lambda: patch(check, "overlap", _overlap_verbatim), theorems=SUB),
    Mutant("redistribution.sub_axis_gather_cost_whole_axis", "redistribution",
           "AllGather's cost over a sub-axis counts the whole mesh axis",
           lambda: patch_entry(costs.COST_RULES, AllGather, _all_gather_cost_whole_axis), theorems=SUB),
]
