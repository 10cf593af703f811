"""Per-device costs of the collectives, in elements (a table keyed by op; multiply by dtype size).

With ``m`` the local element count before the op:

    DynSlice(i, x)     local m/|x|   sent 0                 received 0
    AllGather(i, x)    local m·|x|   sent (|x|−1)·m         received (|x|−1)·m
    AllToAll(i→j, x)   local m       sent (|x|−1)/|x|·m     received (|x|−1)/|x|·m
    AllPermute(τ')     local m       sent m, received m     (0 on devices that keep their block)
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

from calculi.redistribution.blocks import permutation
from calculi.redistribution.check import check_program
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


@dataclass(frozen=True, slots=True)
class OpCost:
    """What one op costs device ``c``: local elements after, elements sent and received."""

    local_after: int
    sent: int
    received: int


CostRule = Callable[[Op, DistType, DistType, Mesh, Coord], OpCost]


def _dyn_slice(op: Op, before: DistType, after: DistType, mesh: Mesh, c: Coord) -> OpCost:
    return OpCost(after.local_size, 0, 0)


def _all_gather(op: Op, before: DistType, after: DistType, mesh: Mesh, c: Coord) -> OpCost:
    assert isinstance(op, AllGather)
    moved = (mesh.size(op.axis) - 1) * before.local_size
    return OpCost(after.local_size, moved, moved)


def _all_to_all(op: Op, before: DistType, after: DistType, mesh: Mesh, c: Coord) -> OpCost:
    assert isinstance(op, AllToAll)
    size = mesh.size(op.axis)
    moved = (size - 1) * before.local_size // size
    return OpCost(after.local_size, moved, moved)


@functools.lru_cache(maxsize=16)
def _senders(before: DistType, after: DistType, mesh: Mesh) -> tuple[dict[Coord, Coord], dict[Coord, int]]:
    """The permutation (who each device receives from), and how many others each device sends to."""
    receive_from = permutation(before, after, mesh)
    sends: dict[Coord, int] = {}
    for dst, src in receive_from.items():
        if src != dst:
            sends[src] = sends.get(src, 0) + 1
    return receive_from, sends


def _all_permute(op: Op, before: DistType, after: DistType, mesh: Mesh, c: Coord) -> OpCost:
    receive_from, sends = _senders(before, after, mesh)
    m = before.local_size
    received = 0 if receive_from[c] == c else m
    return OpCost(after.local_size, sends.get(c, 0) * m, received)


COST_RULES: dict[type, CostRule] = {
    DynSlice: _dyn_slice,
    AllGather: _all_gather,
    AllToAll: _all_to_all,
    AllPermute: _all_permute,
}


@dataclass(frozen=True, slots=True)
class Profile:
    """A program's static profile: types, local size after each step, traffic per device."""

    types: list[DistType]
    local_sizes: list[int]
    sent: dict[Coord, int]
    received: dict[Coord, int]

    @property
    def peak(self) -> int:
        return max(self.local_sizes)


def profile(source: DistType, program: Program, mesh: Mesh) -> Profile:
    """Fold the typing and cost rules over ``program`` (no data moves; see ``simulator`` for that)."""
    types = check_program(source, program, mesh)
    sent = dict.fromkeys(mesh.devices(), 0)
    received = dict.fromkeys(mesh.devices(), 0)
    for op, before, after in zip(program, types, types[1:], strict=False):
        for c in mesh.devices():
            cost = COST_RULES[type(op)](op, before, after, mesh, c)
            sent[c] += cost.sent
            received[c] += cost.received
    return Profile(types, [t.local_size for t in types], sent, received)
