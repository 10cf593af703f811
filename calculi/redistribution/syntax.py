"""The AST: meshes, distributed array types and the collectives that change them.

A mesh ``{x1:s1, ..., xk:sk}`` names its axes; a device is a coordinate ``c ∈ Π [0, si)``, numbered
in row-major order. A type ``[n1{A1}N1, ...]`` gives, per dimension, the local size ``n``, the axes
``A`` it is split over (major → minor) and the global size ``N``; axes used nowhere mean replication.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator
from dataclasses import dataclass

from calculi.core.errors import UsageError
from calculi.core.syntax import Node

Coord = tuple[int, ...]
MAX_DEVICES = 4096


@dataclass(frozen=True, slots=True)
class Mesh(Node):
    """A finite map from axis names to sizes, in the order the user wrote them."""

    axes: tuple[tuple[str, int], ...]

    @staticmethod
    def of(**sizes: int) -> Mesh:
        return Mesh(tuple(sizes.items()))

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.axes)

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(size for _, size in self.axes)

    def size(self, axis: str) -> int:
        for name, size in self.axes:
            if name == axis:
                return size
        raise KeyError(axis)

    def index(self, axis: str) -> int:
        return self.names.index(axis)

    def __contains__(self, axis: object) -> bool:
        return axis in self.names

    @property
    def device_count(self) -> int:
        return math.prod(self.shape)

    def devices(self) -> Iterator[Coord]:
        """Every device coordinate, in row-major order (the last axis varies fastest)."""
        if self.device_count > MAX_DEVICES:
            raise UsageError(f"the mesh has {self.device_count:,} devices; per-device profiles and "
                             f"simulation handle at most {MAX_DEVICES:,}", self.span)
        return itertools.product(*(range(s) for s in self.shape))

    def linear(self, coord: Coord) -> int:
        index = 0
        for c, s in zip(coord, self.shape, strict=True):
            index = index * s + c
        return index

    def product(self, axes: tuple[str, ...]) -> int:
        return math.prod(self.size(a) for a in axes)


@dataclass(frozen=True, slots=True)
class Dim(Node):
    """One dimension ``n{A}N``: local size, mesh axes (major → minor), global size."""

    # Axis order is a choice the sources leave open: we list axes major → minor, as JAX's
    # PartitionSpec does (``{x,y}`` ≙ ``P(('x','y'))``), so DynSlice appends and AllGather pops the
    # last axis; the OCaml reproduction of the paper stores the list the other way round.

    local: int
    axes: tuple[str, ...]
    size: int


@dataclass(frozen=True, slots=True)
class DistType(Node):
    """A distributed array type ``[d1, ..., dr]``."""

    dims: tuple[Dim, ...]

    @property
    def rank(self) -> int:
        return len(self.dims)

    @property
    def local_shape(self) -> tuple[int, ...]:
        return tuple(d.local for d in self.dims)

    @property
    def global_shape(self) -> tuple[int, ...]:
        return tuple(d.size for d in self.dims)

    @property
    def local_size(self) -> int:
        return math.prod(self.local_shape)

    @property
    def used_axes(self) -> tuple[str, ...]:
        return tuple(a for d in self.dims for a in d.axes)

    def with_dim(self, i: int, dim: Dim) -> DistType:
        return DistType((*self.dims[:i], dim, *self.dims[i + 1 :]))


def dim(local: int, axes: tuple[str, ...], size: int) -> Dim:
    return Dim(local, axes, size)


@dataclass(frozen=True, slots=True)
class DynSlice(Node):
    """Keep this device's chunk of dimension ``dim`` along ``axis`` (local; no communication)."""

    dim: int
    axis: str


@dataclass(frozen=True, slots=True)
class AllGather(Node):
    """Gather dimension ``dim`` over its minor-most axis ``axis``."""

    dim: int
    axis: str


@dataclass(frozen=True, slots=True)
class AllToAll(Node):
    """Move the minor-most axis ``axis`` of ``src_dim`` to be the minor-most axis of ``dst_dim``."""

    src_dim: int
    dst_dim: int
    axis: str


@dataclass(frozen=True, slots=True)
class AllPermute(Node):
    """Send each device's block to the devices that hold it in ``target`` (equal local shapes)."""

    target: DistType


Op = DynSlice | AllGather | AllToAll | AllPermute
Program = tuple[Op, ...]
