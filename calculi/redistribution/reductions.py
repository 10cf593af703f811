"""Sums across devices: ``AllReduce`` and ``ReduceScatter`` as typed collectives.

A *partial* type ``τ + Σ{A}`` is a distributed type whose devices hold addends: the array is the sum
over the axes ``A`` of the devices' blocks. The rules:

    τ + Σ{A}   a ∈ A                                   AllReduce(a)        τ + Σ{A∖a}
    τ + Σ{A}   a ∈ A,  a unused in τ,  |a| divides n_i  ReduceScatter(i, a)  τ[i ↦ n_i/|a|{..,a}] + Σ{A∖a}

Per-device costs, with ``m`` local elements before the op, ``k = |a|`` and the ring algorithm (the
array split into ``k`` chunks ``c_0..c_{k-1}``, along ``i`` for ReduceScatter and flattened as
NumPy's ``array_split`` does for AllReduce; a device at position ``p`` in its group ends the
reducing half of the ring owning chunk ``p``):

    ReduceScatter   sent = received = m − c_p                        local after m/k
    AllReduce       sent = received = 2m − c_p − c_{(p+1) mod k}     local after m

(for equal chunks, (k−1)/k·m and 2(k−1)/k·m). The data simulator below runs the ring step by step
and counts what it sends, so the two can be compared.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from calculi.core.errors import TypeCheckError
from calculi.core.syntax import Node
from calculi.redistribution.simulator import Array, Buffers, Traffic, _group
from calculi.redistribution.syntax import Coord, Dim, DistType, Mesh


@dataclass(frozen=True, slots=True)
class PartialType(Node):
    ty: DistType
    partial: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class AllReduce(Node):
    axis: str


@dataclass(frozen=True, slots=True)
class ReduceScatter(Node):
    dim: int
    axis: str


Reduction = AllReduce | ReduceScatter


def _summed(op: Reduction, pt: PartialType, rule: str) -> tuple[str, ...]:
    if op.axis not in pt.partial:
        raise TypeCheckError(f"{rule}({op.axis}) of a value that is not a partial sum over {op.axis}",
                             op.span,
                             rule=rule)
    return tuple(a for a in pt.partial if a != op.axis)


def rule_all_reduce(op: AllReduce, pt: PartialType, mesh: Mesh) -> PartialType:
    return PartialType(pt.ty, _summed(op, pt, "AllReduce"))


def rule_reduce_scatter(op: ReduceScatter, pt: PartialType, mesh: Mesh) -> PartialType:
    rest = _summed(op, pt, "ReduceScatter")
    if not 0 <= op.dim < pt.ty.rank:
        raise TypeCheckError(f"no dimension {op.dim} in a type of rank {pt.ty.rank}", op.span,
                             rule="ReduceScatter")
    if op.axis in pt.ty.used_axes:
        raise TypeCheckError(f"{op.axis} already splits a dimension", op.span, rule="ReduceScatter")
    d, k = pt.ty.dims[op.dim], mesh.size(op.axis)
    if d.local % k:
        raise TypeCheckError(f"|{op.axis}| = {k} does not divide the local size {d.local}", op.span,
                             rule="ReduceScatter")
    return PartialType(pt.ty.with_dim(op.dim, Dim(d.local // k, (*d.axes, op.axis), d.size)), rest)


def type_of_reduction(op: Reduction, pt: PartialType, mesh: Mesh) -> PartialType:
    if isinstance(op, AllReduce):
        return rule_all_reduce(op, pt, mesh)
    return rule_reduce_scatter(op, pt, mesh)


def _chunks(m: int, k: int) -> list[int]:
    return [len(c) for c in np.array_split(np.empty(m), k)]


def _position(mesh: Mesh, c: Coord, axis: str) -> int:
    return c[mesh.index(axis)]


def reduction_cost(op: Reduction, before: PartialType, mesh: Mesh, c: Coord) -> int:
    """Elements device ``c`` sends (and receives) in ``op``, by the formulas above."""
    k, m = mesh.size(op.axis), before.ty.local_size
    if k == 1:
        return 0
    p, sizes = _position(mesh, c, op.axis), _chunks(m, k)
    scatter = m - sizes[p]
    return scatter if isinstance(op, ReduceScatter) else scatter + m - sizes[(p + 1) % k]


def _ring(parts: list[list[Array]], k: int, count: Callable[[int, int], None], gather: bool) -> None:
    """``k − 1`` ring steps; at step ``s`` position ``p`` sends chunk ``p − s − 1`` (reducing: then ``p``
    holds the sum of chunk ``p``) or chunk ``p − s`` (gathering from there) to position ``p + 1``."""
    shift = 0 if gather else 1
    for s in range(k - 1):
        sent = [(p, (p - s - shift) % k, parts[p][(p - s - shift) % k]) for p in range(k)]
        for p, j, chunk in sent:
            q = (p + 1) % k
            parts[q][j] = chunk.copy() if gather else np.add(parts[q][j], chunk)
            count(p, chunk.size)


def simulate_reduction(op: Reduction, bufs: Buffers, mesh: Mesh, t: Traffic) -> Buffers:
    """Run the ring algorithm on each group of devices along ``op.axis``, counting elements sent."""
    k = mesh.size(op.axis)
    out: Buffers = {}
    done: set[Coord] = set()
    for c in bufs:
        if c in done:
            continue
        group = _group(mesh, c, op.axis)
        done.update(group)
        shape = bufs[c].shape

        def count(p: int, n: int, group: list[Coord] = group) -> None:
            t.sent[group[p]] += n
            t.received[group[(p + 1) % k]] += n

        if isinstance(op, ReduceScatter):
            parts = [list(np.split(bufs[g], k, axis=op.dim)) for g in group]
            _ring(parts, k, count, gather=False)
            for p, g in enumerate(group):
                out[g] = parts[p][p]
        else:
            parts = [list(np.array_split(bufs[g].reshape(-1), k)) for g in group]
            _ring(parts, k, count, gather=False)
            _ring(parts, k, count, gather=True)
            for p, g in enumerate(group):
                out[g] = np.concatenate(parts[p]).reshape(shape)
    return out
