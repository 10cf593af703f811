"""A NumPy simulator of the device mesh: per-device buffers, peak memory, traffic per device.

Each collective moves data the way the real one does (who sends which slice to whom), without
looking at the types, so comparing the final buffers with the blocks of the target type checks the
typing rules against the data (only ``AllPermute`` needs the types: they define its permutation).
What a run would hold is checked against a memory budget before any buffer is made.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from calculi.core.errors import ShapeError
from calculi.core.trace import Fuel
from calculi.redistribution.blocks import block, permutation
from calculi.redistribution.check import check_program
from calculi.redistribution.memory import DEFAULT_BUDGET, simulation_check
from calculi.redistribution.pretty import show_op
from calculi.redistribution.syntax import (
    AllGather,
    AllPermute,
    AllToAll,
    Coord,
    DistType,
    DynSlice,
    Mesh,
    Op,
    Program,
)

Array = NDArray[np.generic]
Buffers = dict[Coord, Array]


@dataclass(slots=True)
class Traffic:
    sent: dict[Coord, int]
    received: dict[Coord, int]


def _group(mesh: Mesh, c: Coord, axis: str) -> list[Coord]:
    """The devices that differ from ``c`` only in ``axis`` (an axis or a sub-axis), in order of their
    ``axis`` coordinate."""
    return mesh.peers(c, axis)


def _dyn_slice(op: Op, bufs: Buffers, mesh: Mesh, before: DistType, after: DistType, t: Traffic) -> Buffers:
    assert isinstance(op, DynSlice)
    size = mesh.size(op.axis)
    out: Buffers = {}
    for c, v in bufs.items():
        chunks = np.split(v, size, axis=op.dim)
        out[c] = chunks[mesh.coordinate(op.axis, c)]
    return out


def _all_gather(op: Op, bufs: Buffers, mesh: Mesh, before: DistType, after: DistType, t: Traffic) -> Buffers:
    assert isinstance(op, AllGather)
    out: Buffers = {}
    for c in bufs:
        peers = _group(mesh, c, op.axis)
        out[c] = np.concatenate([bufs[p] for p in peers], axis=op.dim)
        for p in peers:
            if p != c:
                t.received[c] += bufs[p].size
                t.sent[p] += bufs[p].size
    return out


def _all_to_all(op: Op, bufs: Buffers, mesh: Mesh, before: DistType, after: DistType, t: Traffic) -> Buffers:
    assert isinstance(op, AllToAll)
    size = mesh.size(op.axis)
    pieces = {c: np.split(v, size, axis=op.dst_dim) for c, v in bufs.items()}
    out: Buffers = {}
    for c in bufs:
        peers, q = _group(mesh, c, op.axis), mesh.coordinate(op.axis, c)
        out[c] = np.concatenate([pieces[p][q] for p in peers], axis=op.src_dim)
        for p in peers:
            if p != c:
                t.received[c] += pieces[p][q].size
                t.sent[p] += pieces[p][q].size
    return out


def _all_permute(op: Op, bufs: Buffers, mesh: Mesh, before: DistType, after: DistType, t: Traffic) -> Buffers:
    receive_from = permutation(before, after, mesh)
    out: Buffers = {}
    for c, src in receive_from.items():
        out[c] = bufs[src]
        if src != c:
            t.received[c] += bufs[src].size
            t.sent[src] += bufs[src].size
    return out


SimRule = Callable[[Op, Buffers, Mesh, DistType, DistType, Traffic], Buffers]

SIM_RULES: dict[type, SimRule] = {
    DynSlice: _dyn_slice,
    AllGather: _all_gather,
    AllToAll: _all_to_all,
    AllPermute: _all_permute,
}


@dataclass(slots=True)
class Run:
    """The outcome of simulating a program: final buffers, memory profile and traffic."""

    buffers: Buffers
    types: list[DistType]
    local_sizes: list[int] = field(default_factory=list)
    collective_peak: int = 0
    sent: dict[Coord, int] = field(default_factory=dict)
    received: dict[Coord, int] = field(default_factory=dict)
    history: list[Buffers] = field(default_factory=list)

    @property
    def peak(self) -> int:
        """Peak live local elements on any device (the input buffer counts)."""
        return max(self.local_sizes)

    def received_row_major(self, mesh: Mesh) -> list[int]:
        return [self.received[c] for c in mesh.devices()]


def scatter(data: Array, ty: DistType, mesh: Mesh) -> Buffers:
    """Each device's block of the global array ``data`` under ``ty`` (views: nothing is copied)."""
    if data.shape != ty.global_shape:
        raise ShapeError(f"array of shape {data.shape} does not have the global shape {ty.global_shape}")
    return {c: data[tuple(slice(a, b) for a, b in block(ty, mesh, c))] for c in mesh.devices()}


def simulate(
    data: Array, source: DistType, program: Program, mesh: Mesh, fuel: Fuel | None = None, keep: bool = False,
    budget: int = DEFAULT_BUDGET,
) -> Run:
    """Run ``program`` on the mesh from ``data`` laid out as ``source`` (``keep``: every step's buffers),
    if it fits in ``budget`` bytes."""
    types = check_program(source, program, mesh)
    simulation_check(types, program, mesh, data.itemsize, budget, keep)
    bufs = scatter(data, source, mesh)
    traffic = Traffic(dict.fromkeys(mesh.devices(), 0), dict.fromkeys(mesh.devices(), 0))
    sizes = [max(v.size for v in bufs.values())]
    collective_peak = sizes[0]
    history = [bufs] if keep else []
    for op, before, after in zip(program, types, types[1:], strict=False):
        if fuel is not None:
            fuel.tick(op.span)
        new = SIM_RULES[type(op)](op, bufs, mesh, before, after, traffic)
        shapes = {v.shape for v in new.values()}
        if len(shapes) != 1:
            raise ShapeError(f"{show_op(op)} left devices with different local shapes {sorted(shapes)}",
                             op.span)
        sizes.append(max(v.size for v in new.values()))
        collective_peak = max(collective_peak, max(bufs[c].size + new[c].size for c in new))
        bufs = new
        if keep:
            history.append(bufs)
    return Run(bufs, types, sizes, collective_peak, traffic.sent, traffic.received, history)


def misplaced(run: Run, data: Array, target: DistType, mesh: Mesh) -> list[Coord]:
    """The devices whose buffer is not their block of ``data`` under ``target``."""
    expected = scatter(data, target, mesh)
    return [c for c in mesh.devices() if not np.array_equal(run.buffers[c], expected[c])]


def assemble(run: Run, target: DistType, mesh: Mesh) -> Array:
    """Put the devices' blocks back together into the global array."""
    first = next(iter(run.buffers.values()))
    out = np.zeros(target.global_shape, dtype=first.dtype)
    for c, v in run.buffers.items():
        out[tuple(slice(a, b) for a, b in block(target, mesh, c))] = v
    return out
