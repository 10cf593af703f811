"""The simulator: a static cost estimate of an SPMD program, and a NumPy run of it on the mesh.

The cost model, per device (the slowest device counts):

    time = Σ_compute FLOPs / flop_rate  +  Σ_collective (α + bytes_sent / β)

(on fake devices that share a host's cores, the compute term is all devices' FLOPs over the cores:
``host_model``). The constants are documented guesses, not fitted to measurements.

with FLOPs from each primitive's own count on its local shapes, bytes from the collectives' cost
rules (``calculi.redistribution.costs`` and ``reductions``), ``α`` a per-collective latency and ``β``
a link bandwidth. Peak memory is the largest sum of the local sizes of the values alive at once (an
input lives throughout, any other value until its last use). ``run`` moves real data between
per-device buffers and counts the elements sent, so its traffic can be checked against the rules.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from calculi.core.errors import ShapeError
from calculi.partir.lower import Collective, Communicate, Compute, Spmd
from calculi.partir.prims import PRIMS, Array
from calculi.redistribution.check import type_of_op
from calculi.redistribution.costs import COST_RULES
from calculi.redistribution.reductions import (
    AllReduce,
    PartialType,
    ReduceScatter,
    Reduction,
    reduction_cost,
    simulate_reduction,
    type_of_reduction,
)
from calculi.redistribution.simulator import SIM_RULES, Buffers, Run, Traffic, assemble, scatter
from calculi.redistribution.syntax import Coord, Mesh


@dataclass(frozen=True, slots=True)
class CostModel:
    """α (seconds per collective), β (bytes per second per link), FLOP rate, bytes per element."""

    alpha: float = 20e-6
    beta: float = 5e9
    flop_rate: float = 2e10
    itemsize: int = 4
    cores: int | None = None
    """When the mesh's devices share this many cores (fake CPU devices), compute is the total FLOPs
    of all devices over ``cores · flop_rate`` rather than the busiest device's over ``flop_rate``."""


def host_model(cores: int) -> CostModel:
    """A model of fake devices on one host's ``cores``: collectives are memory copies with a thread
    synchronisation each (α); the FLOP rate is of the order one core of a 16-core x86 host reached
    on the medium transformer layer (``python -m calculi.partir.bench --size medium``)."""
    return CostModel(alpha=30e-6, beta=2e9, flop_rate=1e11, itemsize=4, cores=cores)


@dataclass(slots=True)
class Estimate:
    flops: dict[Coord, int]
    sent: list[dict[Coord, int]]
    """Elements each device sends, per collective (one entry per op of each ``Communicate``)."""
    peak: int
    """Peak live elements on the busiest device."""
    collectives: int
    time: float = 0.0
    names: list[str] = field(default_factory=list)

    def bytes(self, model: CostModel) -> int:
        return sum(max(s.values()) for s in self.sent) * model.itemsize


def _steps(mesh: Mesh, instr: Communicate) -> list[tuple[Collective, PartialType, PartialType]]:
    steps: list[tuple[Collective, PartialType, PartialType]] = []
    pt = instr.source
    for op in instr.ops:
        if isinstance(op, AllReduce | ReduceScatter):
            after = type_of_reduction(op, pt, mesh)
        else:
            after = PartialType(type_of_op(op, pt.ty, mesh), pt.partial)
        steps.append((op, pt, after))
        pt = after
    return steps


def _last_use(spmd: Spmd) -> dict[str, int]:
    last: dict[str, int] = {}
    for k, instr in enumerate(spmd.instrs):
        for a in (instr.args if isinstance(instr, Compute) else (instr.arg,)):
            last[a] = k
    for name, _ in spmd.results:
        last[name] = len(spmd.instrs)
    return last


def estimate(spmd: Spmd, model: CostModel | None = None) -> Estimate:
    model = model or CostModel()
    mesh = spmd.mesh
    devices = list(mesh.devices())
    flops = dict.fromkeys(devices, 0)
    sent: list[dict[Coord, int]] = []
    names: list[str] = []
    sizes = {n: pt.ty.local_size for n, pt in spmd.inputs.items()}
    live = dict(sizes)
    last = _last_use(spmd)
    peak = sum(live.values())
    shapes = _local_shapes(spmd)
    for k, instr in enumerate(spmd.instrs):
        if isinstance(instr, Compute):
            prim = PRIMS[instr.prim]
            n = prim.flops(instr.params, [shapes[a] for a in instr.args], instr.layout.ty.local_shape)
            for c in devices:
                flops[c] += n
            size = instr.layout.ty.local_size
        else:
            for op, before, _after in _steps(mesh, instr):
                names.append(type(op).__name__)
                if isinstance(op, AllReduce | ReduceScatter):
                    sent.append({c: reduction_cost(op, before, mesh, c) for c in devices})
                else:
                    rule = COST_RULES[type(op)]
                    sent.append({c: rule(op, before.ty, _after.ty, mesh, c).sent for c in devices})
            size = instr.target.ty.local_size
        sizes[instr.result] = size
        live[instr.result] = size
        peak = max(peak, sum(live.values()))
        for a in list(live):
            if a not in spmd.inputs and last.get(a, -1) <= k:
                del live[a]
    est = Estimate(flops, sent, peak, len(sent), names=names)
    compute = (max(flops.values()) / model.flop_rate if model.cores is None
               else sum(flops.values()) / (model.flop_rate * min(model.cores, len(devices))))
    comm = sum(model.alpha + max(s.values()) * model.itemsize / model.beta for s in sent)
    est.time = compute + comm
    return est


def _local_shapes(spmd: Spmd) -> dict[str, tuple[int, ...]]:
    shapes = {n: pt.ty.local_shape for n, pt in spmd.inputs.items()}
    for other in spmd.instrs:
        shapes[other.result] = (other.layout if isinstance(other, Compute) else other.target).ty.local_shape
    return shapes


@dataclass(slots=True)
class SpmdRun:
    outputs: tuple[Array, ...]
    sent: list[dict[Coord, int]]


def run(spmd: Spmd, args: Mapping[str, Array]) -> SpmdRun:
    """Run the per-device program on NumPy buffers; assemble the global results."""
    mesh = spmd.mesh
    bufs: dict[str, Buffers] = {}
    for name, pt in spmd.inputs.items():
        if name not in args:
            raise ShapeError(f"no value given for input {name}")
        bufs[name] = scatter(np.asarray(args[name], dtype=np.float64), pt.ty, mesh)
    sent: list[dict[Coord, int]] = []
    for instr in spmd.instrs:
        if isinstance(instr, Compute):
            impl = PRIMS[instr.prim].impl
            bufs[instr.result] = {c: impl(instr.params, [np.asarray(bufs[a][c], dtype=np.float64)
                                                         for a in instr.args])
                                  for c in mesh.devices()}
            continue
        cur = bufs[instr.arg]
        for op, before, after in _steps(mesh, instr):
            t = Traffic(dict.fromkeys(mesh.devices(), 0), dict.fromkeys(mesh.devices(), 0))
            if isinstance(op, AllReduce | ReduceScatter):
                cur = simulate_reduction(op, cur, mesh, t)
            else:
                cur = SIM_RULES[type(op)](op, cur, mesh, before.ty, after.ty, t)
            sent.append(t.sent)
        bufs[instr.result] = cur
    outs = []
    for name, pt in spmd.results:
        outs.append(np.asarray(assemble(Run(bufs[name], [pt.ty]), pt.ty, mesh), dtype=np.float64))
    return SpmdRun(tuple(outs), sent)


__all__ = ["CostModel", "Estimate", "Reduction", "SpmdRun", "estimate", "run"]
