"""The AST: meshes, distributed array types and the collectives that change them.

A mesh ``{x1:s1, ..., xk:sk}`` names its axes; a device is a coordinate ``c ∈ Π [0, si)``, numbered
in row-major order. A type ``[n1{A1}N1, ...]`` gives, per dimension, the local size ``n``, the axes
``A`` it is split over (major → minor) and the global size ``N``; axes used nowhere mean replication.

An axis of a type may also be a sub-axis, written as Shardy writes them: ``y:(p)s`` is the factor of
size ``s`` of mesh axis ``y`` that has ``p`` coordinates of ``y`` above it, so that with ``|y| = p·s·q``
a device's ``y:(p)s`` coordinate is ``(c[y] // q) mod s``. The major factor ``y:(1)s`` is written
``y:s``; on ``y=4``, ``y:2`` is the major half and ``y:(2)2`` the minor half, and ``{y:2, y:(2)2}``
splits a dimension exactly as ``{y}`` does. In the AST a sub-axis is the string of its canonical
spelling (``sub_axis``), so a type's axes stay a tuple of names.
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Iterator
from dataclasses import dataclass, field

from calculi.core.errors import UsageError
from calculi.core.parsing import MAX_DIGITS
from calculi.core.syntax import Node

Coord = tuple[int, ...]
MAX_DEVICES = 4096


@functools.lru_cache(maxsize=4096)
def axis_parts(axis: str) -> tuple[str, int, int | None]:
    """``"y"`` → ``("y", 1, None)`` (the whole axis); ``"y:(2)2"`` → ``("y", 2, 2)``; ``"y:2"`` →
    ``("y", 1, 2)``."""
    name, colon, rest = axis.partition(":")
    if not colon:
        return name, 1, None
    if rest.startswith("("):
        pre, _, size = rest[1:].partition(")")
        return name, int(pre), int(size)
    return name, 1, int(rest)


def sub_axis(name: str, pre: int, size: int) -> str:
    """The canonical spelling of a sub-axis: ``y:s`` for the major factor, else ``y:(p)s``."""
    return f"{name}:{size}" if pre == 1 else f"{name}:({pre}){size}"


def base_axis(axis: str) -> str:
    """The mesh axis a (sub-)axis is part of."""
    return axis.partition(":")[0]


def is_sub_axis(axis: str) -> bool:
    return ":" in axis


def extent(axis: str, mesh_size: int) -> tuple[int, int]:
    """The factor a (sub-)axis covers of an axis of ``mesh_size`` coordinates, as the pre-sizes
    ``[p, p·s)`` it spans (``[1, |y|)`` for the whole axis)."""
    _, pre, size = axis_parts(axis)
    return pre, pre * (mesh_size if size is None else size)


def overlap(a: str, b: str, mesh_size: int) -> bool:
    """Two (sub-)axes of one mesh axis share coordinates unless one ends (in pre-size) where or
    before the other starts and divides that start, so that their coordinates are independent."""
    (p1, e1), (p2, e2) = extent(a, mesh_size), extent(b, mesh_size)
    if e1 > p2 and e2 > p1:
        return True
    lo_end, hi_start = (e1, p2) if e1 <= p2 else (e2, p1)
    return hi_start % lo_end != 0


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
        """The number of coordinates of an axis or sub-axis."""
        if axis in self._position:
            return self.shape[self._position[axis]]
        _, _, size = axis_parts(axis)
        if size is None:
            raise KeyError(axis)
        return size

    def index(self, axis: str) -> int:
        """The position of an axis (of a sub-axis: of the axis it is part of) in the coordinates."""
        name = base_axis(axis)
        if name not in self._position:
            raise ValueError(f"{axis!r} is not a mesh axis")
        return self._position[name]

    def __contains__(self, axis: object) -> bool:
        """A mesh axis, or a sub-axis of one whose factor divides it (``y:(p)s`` with ``p·s`` dividing
        ``|y|``, ``s`` at least 2 and smaller than ``|y|``)."""
        if not isinstance(axis, str):
            return False
        if axis in self._position:
            return True
        name, pre, size = axis_parts(axis)
        if name not in self._position or size is None:
            return False
        whole = self.shape[self._position[name]]
        return pre >= 1 and 2 <= size < whole and whole % (pre * size) == 0

    def coordinate(self, axis: str, coord: Coord) -> int:
        """Device ``coord``'s coordinate along an axis or sub-axis."""
        k = self.index(axis)
        _, pre, size = axis_parts(axis)
        if size is None:
            return coord[k]
        return coord[k] // (self.shape[k] // (pre * size)) % size

    def peers(self, coord: Coord, axis: str) -> list[Coord]:
        """The devices that differ from ``coord`` only along ``axis``, in order of that coordinate."""
        k = self.index(axis)
        _, pre, size = axis_parts(axis)
        if size is None:
            return [(*coord[:k], q, *coord[k + 1 :]) for q in range(self.shape[k])]
        stride = self.shape[k] // (pre * size)
        rest = coord[k] - self.coordinate(axis, coord) * stride
        return [(*coord[:k], rest + q * stride, *coord[k + 1 :]) for q in range(size)]

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
