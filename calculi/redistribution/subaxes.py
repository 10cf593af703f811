"""Sub-axes: the factors of a mesh axis, what they let a program do, and their expansion.

A sub-axis ``y:(p)s`` of ``y=N`` (``p·s`` divides ``N``) is the mesh-axis factor of size ``s`` with
``p`` coordinates of ``y`` above it (``syntax``). Cutting every axis at the pre-sizes its sub-axes
start and end at gives the *refined* mesh, in which each factor is an axis of its own and the device
numbering is unchanged (a row-major axis split into major and minor factors keeps the row-major
order). A type or program with sub-axes is *expanded* to the refined mesh by writing each (sub-)axis
as the run of factors it covers, major → minor; the expansion has no sub-axes, so the paper's rules
and semantics apply to it unchanged. This is also how the JAX lowering runs sub-axes: on the refined
mesh, a (sub-)axis is the tuple of its factors' names.

The cuts of one axis must form a chain of divisors ``1 | c1 | c2 | ... | N``, or the factors are not
independent coordinates; a set of types whose sub-axes of one axis cut it incompatibly (``y:2`` and
``y:3`` of ``y=6``) has no refined mesh, and ``refine`` says so.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from calculi.core.errors import UsageError
from calculi.redistribution.check import check_program
from calculi.redistribution.syntax import (
    MAX_DEVICES,
    AllGather,
    AllPermute,
    AllToAll,
    Dim,
    DistType,
    DynSlice,
    Mesh,
    Op,
    Program,
    axis_parts,
    base_axis,
    extent,
    overlap,
    sub_axis,
)


def sub_axes(mesh: Mesh, name: str) -> list[str]:
    """Every sub-axis of mesh axis ``name``, by pre-size then size; none for an axis of more than
    ``MAX_DEVICES`` coordinates (no mesh that large is simulated or run, and its divisors are not
    enumerated)."""
    whole = mesh.size(name)
    if whole > MAX_DEVICES:
        return []
    return [sub_axis(name, p, s) for p in range(1, whole) if whole % p == 0
            for s in range(2, whole // p + 1) if (whole // p) % s == 0 and (p, s) != (1, whole)]


@functools.lru_cache(maxsize=64)
def _all_axes(mesh: Mesh) -> tuple[str, ...]:
    return tuple(a for name in mesh.names for a in (name, *sub_axes(mesh, name)))


def all_axes(mesh: Mesh) -> list[str]:
    """The mesh's axes, each followed by its sub-axes."""
    return list(_all_axes(mesh))


def free_axes(ty: DistType, mesh: Mesh, subaxes: bool = True) -> list[str]:
    """The axes (and, with ``subaxes``, sub-axes) that overlap no axis ``ty`` uses: those a DynSlice
    may split by (an axis of size 1 too, as in the paper's candidates: a source or target may use
    it, and the search must reach every type)."""
    return list(_free_axes(ty.used_axes, mesh, subaxes))


@functools.lru_cache(maxsize=4096)
def _free_axes(used: tuple[str, ...], mesh: Mesh, subaxes: bool) -> tuple[str, ...]:
    out: list[str] = []
    for a in _all_axes(mesh) if subaxes else mesh.names:
        name = base_axis(a)
        if not any(base_axis(u) == name and (u == a or overlap(u, a, mesh.size(name))) for u in used):
            out.append(a)
    return tuple(out)


def candidate_ops(ty: DistType, mesh: Mesh, permutable: Iterable[DistType] = ()) -> Iterator[Op]:
    """The candidates over axes and sub-axes (the typing rules decide which hold): DynSlice by every
    free (sub-)axis, AllGather and AllToAll of each dimension's minor-most (sub-)axis, AllPermute to
    each of ``permutable``. Splitting a minor-most axis ``y`` into ``y:(p)s`` factors is not an op:
    the type that writes ``y`` as its factors holds the same blocks, and an AllPermute reaches it
    moving nothing."""
    free = _free_axes(ty.used_axes, mesh, True)
    for i, d in enumerate(ty.dims):
        yield from (DynSlice(i, a) for a in free)
        if d.axes:
            yield AllGather(i, d.axes[-1])
            yield from (AllToAll(i, j, d.axes[-1]) for j in range(ty.rank) if j != i)
    yield from (AllPermute(other) for other in permutable if other != ty)


def coordinates(mesh: Mesh, axis: str, coords: NDArray[np.int64]) -> NDArray[np.int64]:
    """``Mesh.coordinate`` for a matrix of device coordinates (one row per device)."""
    k = mesh.index(axis)
    _, pre, size = axis_parts(axis)
    column: NDArray[np.int64] = coords[:, k]
    if size is None:
        return column
    return column // (mesh.shape[k] // (pre * size)) % size


@dataclass(frozen=True, slots=True)
class Refinement:
    """The refined mesh, and for each (sub-)axis of the original the factors it covers."""

    original: Mesh
    mesh: Mesh
    cuts: dict[str, tuple[int, ...]]

    def factors(self, axis: str) -> tuple[str, ...]:
        """The refined mesh's axes that ``axis`` covers, major → minor."""
        name = base_axis(axis)
        cuts = self.cuts[name]
        if len(cuts) <= 2:  # uncut (an axis of size 1 has the one cut 1)
            return (name,)
        lo, hi = extent(axis, self.original.size(name))
        return tuple(self.mesh.names[self._first(name) + k] for k in range(len(cuts) - 1)
                     if lo <= cuts[k] and cuts[k + 1] <= hi)

    def _first(self, name: str) -> int:
        return sum(max(1, len(self.cuts[n]) - 1) for n in self.original.names[: self.original.index(name)])

    def expand_type(self, ty: DistType) -> DistType:
        return DistType(tuple(Dim(d.local, tuple(f for a in d.axes for f in self.factors(a)), d.size)
                              for d in ty.dims))

    def expand_op(self, op: Op, after: DistType) -> Program:
        """The op on the refined mesh, ``after`` being the type it leads to: a DynSlice or AllGather
        per factor; an AllToAll over one factor moves it directly, over several it is followed by the
        AllPermute that puts them back in order (the same data, not the same traffic)."""
        match op:
            case DynSlice(dim=i, axis=a):
                return tuple(DynSlice(i, f) for f in self.factors(a))
            case AllGather(dim=i, axis=a):
                return tuple(AllGather(i, f) for f in reversed(self.factors(a)))
            case AllPermute(target=t):
                return (AllPermute(self.expand_type(t)),)
            case AllToAll(src_dim=i, dst_dim=j, axis=a):
                factors = self.factors(a)
                moves = tuple(AllToAll(i, j, f) for f in reversed(factors))
                return moves if len(factors) == 1 else (*moves, AllPermute(self.expand_type(after)))
        raise TypeError(op)


def _factor_name(mesh: Mesh, name: str, k: int, taken: set[str]) -> str:
    candidate = f"{name}_{k}"
    while candidate in taken or candidate in mesh:
        candidate += "_"
    return candidate


def refine(mesh: Mesh, types: Sequence[DistType] = (), ops: Sequence[Op] = ()) -> Refinement:
    """The refined mesh on which every (sub-)axis of ``types`` and ``ops`` is a run of factors."""
    points: dict[str, set[int]] = {name: {1, mesh.size(name)} for name in mesh.names}
    seen = [a for ty in types for a in ty.used_axes]
    seen += [op.axis for op in ops if isinstance(op, DynSlice | AllGather | AllToAll)]
    seen += [a for op in ops if isinstance(op, AllPermute) for a in op.target.used_axes]
    for a in seen:
        points[base_axis(a)].update(extent(a, mesh.size(base_axis(a))))
    axes: list[tuple[str, int]] = []
    cuts: dict[str, tuple[int, ...]] = {}
    taken: set[str] = set()
    for name in mesh.names:
        chain = tuple(sorted(points[name]))
        bad = [(lo, hi) for lo, hi in itertools.pairwise(chain) if hi % lo]
        if bad:
            raise UsageError(f"the sub-axes of {name}={mesh.size(name)} cut it at {list(chain)}, which "
                             f"is not a chain of divisors ({bad[0][0]} does not divide {bad[0][1]}), so "
                             "they are not independent factors; use sub-axes of one factorisation")
        cuts[name] = chain
        if len(chain) <= 2:
            axes.append((name, mesh.size(name)))
            taken.add(name)
            continue
        for k, (lo, hi) in enumerate(itertools.pairwise(chain)):
            factor = _factor_name(mesh, name, k, taken)
            taken.add(factor)
            axes.append((factor, hi // lo))
    return Refinement(mesh, Mesh(tuple(axes)), cuts)


def expand_program(ref: Refinement, source: DistType, program: Program) -> Program:
    """``program`` from ``source`` on the refined mesh."""
    types = check_program(source, program, ref.original)
    return tuple(step for op, after in zip(program, types[1:], strict=True)
                 for step in ref.expand_op(op, after))
