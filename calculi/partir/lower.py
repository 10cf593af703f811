"""Lowering to SPMD (PartIR:HLO): one per-device program, with collectives where layouts differ.

Each value has a layout, a partial type ``τ + Σ{A}``: an input's from its tiling, an operation's
result from its loops (``#tile<d>`` splits dimension ``d``, ``#sum`` leaves a partial sum). Each
operand must arrive in the layout its consumer's loops slice it to; where it does not, the lowering
first sums the partial axes (``ReduceScatter`` when the consumer wants that axis to split a
dimension next, ``AllReduce`` otherwise), then reshards with the redistribution calculus's
memory-efficient synthesis (``synth.paper``). Results are summed and left tiled.
"""

from __future__ import annotations

from dataclasses import dataclass

from calculi.core import coverage
from calculi.partir.check import CALCULUS
from calculi.partir.prims import PRIMS
from calculi.partir.propagation import Partitioning, local_dims, shapes_of
from calculi.partir.syntax import Param, Shape
from calculi.redistribution import synth
from calculi.redistribution.reductions import AllReduce, PartialType, ReduceScatter, Reduction
from calculi.redistribution.syntax import AllGather, AllPermute, AllToAll, Dim, DistType, DynSlice, Mesh, Op

RESHARD, REDUCE_SCATTER, ALL_REDUCE, COMPUTE = (
    "reshard", "ReduceScatter a #sum", "AllReduce a #sum", "compute")
RULES = coverage.declare(CALCULUS, [COMPUTE, RESHARD, REDUCE_SCATTER, ALL_REDUCE])
SYNTHESISED = (AllGather, AllToAll, DynSlice, AllPermute)
"""The collectives a reshard's synthesis emits; each is a rule of its own for coverage."""
coverage.declare(CALCULUS, [c.__name__ for c in SYNTHESISED])

Collective = Op | Reduction


@dataclass(frozen=True, slots=True)
class Compute:
    result: str
    prim: str
    params: tuple[Param, ...]
    args: tuple[str, ...]
    layout: PartialType


@dataclass(frozen=True, slots=True)
class Communicate:
    result: str
    arg: str
    source: PartialType
    ops: tuple[Collective, ...]
    target: PartialType


Instr = Compute | Communicate


@dataclass(frozen=True, slots=True)
class Spmd:
    mesh: Mesh
    inputs: dict[str, PartialType]
    instrs: tuple[Instr, ...]
    results: tuple[tuple[str, PartialType], ...]
    returns: tuple[str, ...]


def layout(shape: Shape, tiles: list[tuple[str, int]], mesh: Mesh,
           partial: tuple[str, ...] = ()) -> PartialType:
    axes: list[list[str]] = [[] for _ in shape]
    for a, d in tiles:
        axes[d].append(a)
    local = local_dims(shape, [(d, mesh.size(a)) for a, d in tiles])
    return PartialType(DistType(tuple(Dim(n, tuple(ax), size)
                                      for n, ax, size in zip(local, axes, shape, strict=True))), partial)


def reshard_ops(source: PartialType, target: DistType, mesh: Mesh) -> tuple[Collective, ...]:
    """Sum the partial axes (ReduceScatter where the target splits there next), then synthesise."""
    ops: list[Collective] = []
    ty = source.ty
    for a in source.partial:
        grown = [(*d.axes, a) for d in ty.dims]
        dims = [i for i, d in enumerate(target.dims) if d.axes[: len(grown[i])] == grown[i]]
        if dims and a not in ty.used_axes and ty.dims[dims[0]].local % mesh.size(a) == 0:
            coverage.fired(CALCULUS, REDUCE_SCATTER)
            i, d = dims[0], ty.dims[dims[0]]
            ops.append(ReduceScatter(i, a))
            ty = ty.with_dim(i, Dim(d.local // mesh.size(a), (*d.axes, a), d.size))
        else:
            coverage.fired(CALCULUS, ALL_REDUCE)
            ops.append(AllReduce(a))
    if ty != target:
        coverage.fired(CALCULUS, RESHARD)
        moves = synth.paper(ty, target, mesh)
        for op in moves:
            coverage.fired(CALCULUS, type(op).__name__)
        ops += moves
    return tuple(ops)


class _Fresh:
    def __init__(self, used: set[str]) -> None:
        self.used = used

    def __call__(self, base: str) -> str:
        k = 1
        while f"{base}_{k}" in self.used:
            k += 1
        self.used.add(f"{base}_{k}")
        return f"{base}_{k}"


def lower(part: Partitioning) -> Spmd:
    func, mesh = part.func, part.func.mesh
    shapes = shapes_of(func)
    fresh = _Fresh(set(shapes))
    current: dict[str, tuple[str, PartialType]] = {}
    inputs = {}
    for i in func.inputs:
        inputs[i.name] = layout(i.shape, [(a, d) for a, d in part.inputs.get(i.name, ())], mesh)
        current[i.name] = (i.name, inputs[i.name])
    instrs: list[Instr] = []
    arrived: dict[tuple[str, DistType], str] = {}

    def arrive(value: str, target: DistType) -> str:
        name, have = current[value]
        if have.ty == target and not have.partial:
            return name
        if (value, target) not in arrived:
            ops = reshard_ops(have, target, mesh)
            arrived[value, target] = new = fresh(value)
            instrs.append(Communicate(new, name, have, ops, PartialType(target)))
        return arrived[value, target]

    for op in part.ops.values():
        loops = part.loops.get(op.result, ())
        args = []
        for j, arg in enumerate(op.args):
            tiles = [(a, d) for a, f in loops if (d := f.operands[j]) is not None]
            args.append(arrive(arg, layout(shapes[arg], tiles, mesh).ty))
        out = layout(shapes[op.result], [(a, d) for a, f in loops if (d := f.result) is not None], mesh,
                     tuple(a for a, f in loops if f.reduce))
        coverage.fired(CALCULUS, COMPUTE)
        instrs.append(Compute(op.result, op.prim, PRIMS[op.prim].localize(op.params, out.ty.local_shape),
                              tuple(args), out))
        current[op.result] = (op.result, out)
    results = []
    for r in func.results:
        name, have = current[r]
        results.append((arrive(r, have.ty) if have.partial else name, PartialType(have.ty)))
    return Spmd(mesh, inputs, tuple(instrs), tuple(results), func.results)
