"""The meaning of a type: which block of the global array each device holds.

For a dimension ``n{a1,...,ak}N`` (major → minor) device ``c`` holds ``[o, o + n)`` with

    o(c) = Σ_i c[a_i] · n · Π_{j>i} |a_j|

and its local block is the Cartesian product of these ranges over the dimensions; for a sub-axis
``c[a]`` is the device's coordinate along that factor (``Mesh.coordinate``).
"""

from __future__ import annotations

from calculi.core.errors import TypeCheckError
from calculi.redistribution.pretty import show_type
from calculi.redistribution.syntax import Coord, DistType, Mesh

Block = tuple[tuple[int, int], ...]


def offset(ty: DistType, i: int, mesh: Mesh, coord: Coord) -> int:
    d = ty.dims[i]
    o, stride = 0, d.local
    for a in reversed(d.axes):
        o += mesh.coordinate(a, coord) * stride
        stride *= mesh.size(a)
    return o


def block(ty: DistType, mesh: Mesh, coord: Coord) -> Block:
    """The ``[start, stop)`` range per dimension that device ``coord`` holds under ``ty``."""
    starts = [offset(ty, i, mesh, coord) for i in range(ty.rank)]
    return tuple((o, o + d.local) for o, d in zip(starts, ty.dims, strict=True))


def permutation(source: DistType, target: DistType, mesh: Mesh) -> dict[Coord, Coord]:
    """The AllPermute from ``source`` to ``target``: for each device, the device it receives from.

    Equal local and global shapes give the same set of blocks on both sides, each held by the same
    number of devices (the replication factor), so a bijection exists; devices that already hold
    their target block receive from themselves (fixed points move no data).
    """
    if source.local_shape != target.local_shape or source.global_shape != target.global_shape:
        raise TypeCheckError(f"no permutation between {show_type(source)} and {show_type(target)}",
                             rule="AllPermute")
    holders: dict[Block, list[Coord]] = {}
    for c in mesh.devices():
        holders.setdefault(block(source, mesh, c), []).append(c)
    senders = {b: set(cs) for b, cs in holders.items()}
    wanted = [(c, block(target, mesh, c)) for c in mesh.devices()]
    receive_from: dict[Coord, Coord] = {}
    for c, b in wanted:
        if c in senders[b]:
            receive_from[c] = c
            senders[b].discard(c)
    for c, b in wanted:
        if c not in receive_from:
            src = min(senders[b])
            senders[b].discard(src)
            receive_from[c] = src
    return receive_from
