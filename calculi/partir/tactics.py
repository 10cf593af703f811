"""Tactics, written apart from the model: each rewrites the partitioning, then propagation runs.

    ManualPartition({"x": 0}, "batch")        tile x's dimension 0 over batch (batch parallelism)
    ManualPartition({"w1": 1}, "model")       Megatron: column-parallel w1; propagation does the rest
    ManualPartition({"w1": 0, "w2": 1}, "batch", atomic=True)   ZeRO: parameters stored sharded
    Replicate("h")                            h stays whole: propagation stops at it (``atomic``)

A schedule is a list of tactics applied one after another, each followed by propagation.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from calculi.core.errors import TypeCheckError
from calculi.core.syntax import Span
from calculi.partir.propagation import Partitioning, is_flat, propagate, shapes_of
from calculi.partir.syntax import Func


@dataclass(frozen=True, slots=True)
class ManualPartition:
    """Tile each named value's dimension over ``axis``; ``atomic``: the tiling does not spread."""

    dims: Mapping[str, int]
    axis: str
    atomic: bool = False
    span: Span | None = field(default=None, compare=False, repr=False)

    def __str__(self) -> str:
        dims = ", ".join(f"{v}: {d}" for v, d in self.dims.items())
        return f"ManualPartition({{{dims}}}, {self.axis}{', atomic' if self.atomic else ''})"


@dataclass(frozen=True, slots=True)
class Replicate:
    """Keep ``value`` whole: no tiling reaches it or spreads from it."""

    value: str

    def __str__(self) -> str:
        return f"Replicate({self.value})"


@dataclass(frozen=True, slots=True)
class AutomaticPartition:
    """Let the search choose ``ManualPartition`` actions over ``axes`` (see ``calculi.partir.automap``)."""

    axes: tuple[str, ...]
    memory: int | None = None
    width: int = 4
    depth: int = 4

    def __str__(self) -> str:
        return f"AutomaticPartition({', '.join(self.axes)})"


Tactic = ManualPartition | Replicate | AutomaticPartition


def unpartitioned(func: Func) -> Partitioning:
    if not is_flat(func):
        raise TypeCheckError("tactics apply to a program without loops or slices", func.span, rule="tactic")
    shapes_of(func)
    return Partitioning(func)


def apply_tactic(part: Partitioning, tactic: Tactic, rng: random.Random | None = None) -> Partitioning:
    if isinstance(tactic, Replicate):
        if tactic.value not in shapes_of(part.func):
            raise TypeCheckError(f"no value called {tactic.value} to replicate", part.func.span,
                                 rule="tactic")
        return Partitioning(part.func, part.loops, part.inputs, part.atomic | {tactic.value})
    if isinstance(tactic, AutomaticPartition):
        from calculi.partir.automap import search
        found = search(part, tactic.axes, memory=tactic.memory, width=tactic.width, depth=tactic.depth)
        for found_tactic in found.schedule:
            part = apply_tactic(part, found_tactic, rng)
        return part
    if tactic.atomic:
        part = Partitioning(part.func, part.loops, part.inputs, part.atomic | set(tactic.dims))
    return propagate(part, tactic.axis, tactic.dims, rng, tactic.span)


def apply_schedule(func: Func, schedule: Sequence[Tactic], rng: random.Random | None = None) -> Partitioning:
    part = unpartitioned(func)
    for tactic in schedule:
        part = apply_tactic(part, tactic, rng)
    return part


def batch_parallel(inputs: Mapping[str, int], axis: str) -> ManualPartition:
    return ManualPartition(inputs, axis)


def megatron(first: str, axis: str) -> ManualPartition:
    """Column-parallel first matrix; propagation makes the next one row-parallel."""
    return ManualPartition({first: 1}, axis)


def zero(params: Mapping[str, int], axis: str) -> ManualPartition:
    return ManualPartition(params, axis, atomic=True)
