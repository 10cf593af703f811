"""The AST: meshes, distributed array types and the collectives that change them.

A mesh ``{x1:s1, ..., xk:sk}`` names its axes; a device is a coordinate ``c ∈ Π [0, si)``, numbered
in row-major order. A type ``[n1{A1}N1, ...]`` gives, per dimension, the local size ``n``, the axes
``A`` it is split over (major → minor) and the global size ``N``; axes used nowhere mean replication.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator
from dataclasses import dataclass, field

from calculi.core.errors import UsageError
from calculi.core.parsing import MAX_DIGITS
from calculi.core.syntax import Node

Coord = tuple[int, ...]
MAX_DEVICES = 4096


def show_count(n: int) -> str:
    """A count for people: ``1,048,576``; past Python's 4,300-digit limit, ``about 1.2e5000``
    (the sizes of types are exact; only products of them grow that long)."""
    if n.bit_length() * math.log10(2) < MAX_DIGITS - 1:
        return f"{n:,}"
    shift = n.bit_length() - 64
    exponent = math.log10(n >> shift) + shift * math.log10(2)
    whole = math.floor(exponent)
    mantissa = round(10 ** (exponent - whole), 1)
    if mantissa >= 10:
        mantissa, whole = mantissa / 10, whole + 1
    return f"about {mantissa:.1f}e{whole}"


@dataclass(frozen=True, slots=True)
class Mesh(Node):
    """A finite map from axis names to sizes, in the order the user wrote them."""

    axes: tuple[tuple[str, int], ...]
    names: tuple[str, ...] = field(init=False, compare=False, repr=False)
    shape: tuple[int, ...] = field(init=False, compare=False, repr=False)
    _position: dict[str, int] = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "names", tuple(name for name, _ in self.axes))
        object.__setattr__(self, "shape", tuple(size for _, size in self.axes))
        first = {name: k for k, name in reversed(list(enumerate(self.names)))}
        object.__setattr__(self, "_position", first)

    @staticmethod
    def of(**sizes: int) -> Mesh:
        return Mesh(tuple(sizes.items()))

    def size(self, axis: str) -> int:
        return self.shape[self._position[axis]]

    def index(self, axis: str) -> int:
        if axis not in self._position:
            raise ValueError(f"{axis!r} is not a mesh axis")
        return self._position[axis]

    def __contains__(self, axis: object) -> bool:
        return axis in self._position

    @property
    def device_count(self) -> int:
        return math.prod(self.shape)

    def devices(self) -> Iterator[Coord]:
        """Every device coordinate, in row-major order (the last axis varies fastest)."""
        if self.device_count > MAX_DEVICES:
            raise UsageError(f"the mesh has {show_count(self.device_count)} devices; per-device profiles and "
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
