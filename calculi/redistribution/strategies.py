"""Hypothesis generators of meshes, well-formed types, redistribution problems and well-typed programs.

Everything is built well-formed by construction: axes are dealt to dimensions (each at most once),
and global sizes are chosen as multiples of what the axes need, so no example is ever filtered.

* ``problems()`` — the divisible regime: every global dimension is a multiple of the mesh size, so
  any axis can split any dimension (the regime in which the normal form is always reachable).
* ``general_problems()`` — global sizes only as divisible as the two types need.

In both the target puts data elsewhere than the source (``distinct``); ``synth(τ, τ) = ε`` is checked
on its own.
* ``hard_problems()`` — pairs that make XLA's partitioner fall back to full replication: an axis
  moved to another dimension, or swapped for one of a different size, or for a replicated one.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from hypothesis import strategies as st

from calculi.core.errors import TypeCheckError
from calculi.redistribution.check import type_of_op
from calculi.redistribution.pretty import show_mesh, show_program, show_type
from calculi.redistribution.syntax import (
    AllGather,
    AllPermute,
    AllToAll,
    Dim,
    DistType,
    DynSlice,
    Mesh,
    Op,
    Program,
)
from calculi.redistribution.synth import REWRITES

AXIS_NAMES = ("x", "y", "z")


@dataclass(frozen=True, slots=True)
class Problem:
    """A redistribution problem: a mesh and two types of the same global shape."""

    mesh: Mesh
    source: DistType
    target: DistType

    def __str__(self) -> str:
        return f"mesh {show_mesh(self.mesh)}: {show_type(self.source)} -> {show_type(self.target)}"


@dataclass(frozen=True, slots=True)
class Walk:
    """A well-typed program from ``source`` on ``mesh``."""

    mesh: Mesh
    source: DistType
    program: Program

    def __str__(self) -> str:
        return f"mesh {show_mesh(self.mesh)}: from {show_type(self.source)}: {show_program(self.program)}"


def show(value: object) -> str:
    """Counterexample printer for the theorem table."""
    if isinstance(value, Mesh):
        return show_mesh(value)
    if isinstance(value, DistType):
        return show_type(value)
    return str(value)


@st.composite
def meshes(draw: st.DrawFn, max_devices: int = 16, max_axes: int = 3, min_size: int = 1) -> Mesh:
    """1–``max_axes`` axes of sizes ``min_size``–4, at most ``max_devices`` devices, at least two of
    them (an axis of size 1 is kept, but a mesh of one device has nothing to redistribute)."""
    count = draw(st.integers(1, max_axes))
    axes: list[tuple[str, int]] = []
    for name in AXIS_NAMES[:count]:
        room = max_devices // math.prod(s for _, s in axes)
        if room < min_size:
            break
        axes.append((name, draw(st.integers(min_size, max(min_size, min(4, room))))))
    if max_devices >= 2 and all(size < 2 for _, size in axes):
        axes[0] = (axes[0][0], 2)
    return Mesh(tuple(axes))


Assignment = tuple[tuple[str, ...], ...]


@st.composite
def assignments(draw: st.DrawFn, mesh: Mesh, rank: int) -> Assignment:
    """Deal each axis to one dimension or to none (replication), in a random order per dimension."""
    order = draw(st.permutations(mesh.names))
    dims: list[list[str]] = [[] for _ in range(rank)]
    for axis in order:
        slot = draw(st.integers(-1, rank - 1))
        if slot >= 0:
            dims[slot].append(axis)
    return tuple(tuple(d) for d in dims)


def type_of(assignment: Assignment, shape: Sequence[int], mesh: Mesh) -> DistType:
    return DistType(tuple(Dim(n // mesh.product(a), a, n) for a, n in zip(assignment, shape, strict=True)))


def distinct(source: Assignment, target: Assignment, mesh: Mesh, axis: int) -> Assignment:
    """``target``, or when it puts the same axes of size 2 or more where ``source`` does (the same
    blocks on every device) the same with the ``axis``-th such axis taken out of its dimension
    (replicated), or put minor-most in dimension 0 when it was replicated."""
    sizable = [a for a in mesh.names if mesh.size(a) > 1]

    def blocks(assignment: Assignment) -> Assignment:
        return tuple(tuple(a for a in d if a in sizable) for d in assignment)

    if blocks(target) != blocks(source) or not sizable:
        return target
    name = sizable[axis % len(sizable)]
    moved = tuple(tuple(a for a in d if a != name) for d in target)
    if moved != target:
        return moved
    return ((*target[0], name), *target[1:])


@st.composite
def problems(draw: st.DrawFn, max_devices: int = 16, min_size: int = 1) -> Problem:
    """Two different random types of one shape, each global dimension a multiple of the mesh size."""
    mesh = draw(meshes(max_devices, min_size=min_size))
    rank = draw(st.integers(1, 3 if mesh.device_count <= 8 else 2))
    shape = [mesh.device_count * draw(st.integers(1, 2)) for _ in range(rank)]
    src, tgt = draw(assignments(mesh, rank)), draw(assignments(mesh, rank))
    tgt = distinct(src, tgt, mesh, draw(st.integers(0, len(mesh.names) - 1)))
    return Problem(mesh, type_of(src, shape, mesh), type_of(tgt, shape, mesh))


@st.composite
def general_problems(draw: st.DrawFn, max_devices: int = 16) -> Problem:
    """Two different random types whose global sizes are only as divisible as the two types need."""
    mesh = draw(meshes(max_devices))
    rank = draw(st.integers(1, 3))
    src, tgt = draw(assignments(mesh, rank)), draw(assignments(mesh, rank))
    tgt = distinct(src, tgt, mesh, draw(st.integers(0, len(mesh.names) - 1)))
    shape = [math.lcm(mesh.product(a), mesh.product(b)) * draw(st.integers(1, 3))
             for a, b in zip(src, tgt, strict=True)]
    return Problem(mesh, type_of(src, shape, mesh), type_of(tgt, shape, mesh))


def union_divisible(problem: Problem) -> bool:
    """Every global dimension is a multiple of the product of the mesh axes that the source or the
    target puts on it (weaker than a multiple of the mesh size)."""
    return all(s.size % problem.mesh.product(tuple(dict.fromkeys((*s.axes, *t.axes)))) == 0
               for s, t in zip(problem.source.dims, problem.target.dims, strict=True))


@st.composite
def uneven_problems(draw: st.DrawFn, max_devices: int = 16) -> Problem:
    """Two different random types, each global dimension a multiple of the axes either type puts on
    it (``union_divisible``) and often not of the mesh size, so that an axis the types do not put on
    a dimension may not divide it."""
    mesh = draw(meshes(max_devices, min_size=2))
    rank = draw(st.integers(1, 3))
    src, tgt = draw(assignments(mesh, rank)), draw(assignments(mesh, rank))
    tgt = distinct(src, tgt, mesh, draw(st.integers(0, len(mesh.names) - 1)))
    shape = [mesh.product(tuple(dict.fromkeys((*a, *b)))) * draw(st.sampled_from([1, 1, 3, 5]))
             for a, b in zip(src, tgt, strict=True)]
    return Problem(mesh, type_of(src, shape, mesh), type_of(tgt, shape, mesh))


@st.composite
def hard_problems(draw: st.DrawFn, max_devices: int = 16) -> Problem:
    """XLA's fallback cases: ``x`` on one dimension becomes ``y`` (another size, or replicated) or moves,
    on at most ``max_devices`` devices (at least 2: below 4, ``y`` has size 1)."""
    pairs = [(2, 3), (3, 2), (2, 4), (4, 2), (2, 2), (3, 4)]
    sizes = draw(st.sampled_from([p for p in pairs if math.prod(p) <= max_devices] or [(2, 1)]))
    names = ("x", "y")
    extra = draw(st.integers(1, max(1, min(2, max_devices // math.prod(sizes)))))
    mesh = Mesh((*zip(names, sizes, strict=True), ("z", extra)))
    rank = draw(st.integers(1, 2))
    shape = [mesh.device_count * draw(st.integers(1, 2)) for _ in range(rank)]
    i, j = draw(st.integers(0, rank - 1)), draw(st.integers(0, rank - 1))
    src: list[tuple[str, ...]] = [() for _ in range(rank)]
    tgt: list[tuple[str, ...]] = [() for _ in range(rank)]
    src[i] = ("x",)
    kind = draw(st.sampled_from(["swap", "move", "both"]))
    tgt[j] = ("y",) if kind == "swap" else ("x",) if kind == "move" and i != j else ("y", "x")
    if draw(st.booleans()):
        k = draw(st.integers(0, rank - 1))
        src[k] += ("z",)
    return Problem(mesh, type_of(tuple(src), shape, mesh), type_of(tuple(tgt), shape, mesh))


@st.composite
def flat_problems(draw: st.DrawFn, max_devices: int = 16) -> Problem:
    """Both types split dimensions by every axis (no replication), so every device holds as much before
    as after: the whole program is the flat middle of the valley, where axes of unequal sizes need
    the search for the shortest ``AllToAll* ; AllPermute? ; AllToAll*`` (below 4 devices, one axis)."""
    shapes = [(2, 4), (4, 2), (2, 3), (2, 4, 2), (4, 2, 2), (2, 2, 4), (2, 3, 2), (3, 2, 2), (2, 2, 2),
              (2, 2)]
    sizes = draw(st.sampled_from([s for s in shapes if math.prod(s) <= max_devices] or [(2,)]))
    mesh = Mesh(tuple(zip(AXIS_NAMES, sizes, strict=False)))
    rank = draw(st.integers(2, 3 if mesh.device_count <= 8 else 2))
    shape = [mesh.device_count * draw(st.integers(1, 2)) for _ in range(rank)]

    def deal() -> Assignment:
        dims: list[tuple[str, ...]] = [() for _ in range(rank)]
        for axis in draw(st.permutations(mesh.names)):
            slot = draw(st.integers(0, rank - 1))
            dims[slot] += (axis,)
        return tuple(dims)

    src = deal()
    tgt = distinct(src, deal(), mesh, 0)
    return Problem(mesh, type_of(src, shape, mesh), type_of(tgt, shape, mesh))


@st.composite
def stuck_problems(draw: st.DrawFn) -> Problem:
    """Axis ``x`` of one dimension becomes ``y`` of another size that shares a factor with it, the
    dimension too small for both (``|x|·|y|`` does not divide it) and the others too small to take
    either: no program stays under ``max(|τs|, |τt|)``, so the least peak is above it."""
    a, b = draw(st.sampled_from([(4, 2), (2, 4), (4, 6), (6, 4)]))
    mesh = Mesh((("x", a), ("y", b), *([("z", 1)] if draw(st.booleans()) else [])))
    size = math.lcm(a, b) * draw(st.sampled_from([1, 3]))
    rest = [draw(st.sampled_from([1, 3])) for _ in range(draw(st.integers(0, 1)))]
    shape = [size, *rest]
    none: tuple[str, ...] = ()
    return Problem(mesh, type_of((("x",), *[none] * len(rest)), shape, mesh),
                   type_of((("y",), *[none] * len(rest)), shape, mesh))


def weighted_problems(max_devices: int = 16) -> st.SearchStrategy[Problem]:
    """Random problems, with extra weight on the hard ones and on the flat ones."""
    return st.one_of(problems(max_devices), hard_problems(max_devices), hard_problems(max_devices),
                     flat_problems(max_devices))


def candidate_ops(ty: DistType, mesh: Mesh) -> list[Op]:
    """Every op that could apply to ``ty`` (the typing rules decide which do)."""
    ops: list[Op] = []
    for i, d in enumerate(ty.dims):
        ops.extend(DynSlice(i, a) for a in mesh.names if mesh.size(a) > 1)
        ops.extend(AllGather(i, a) for a in d.axes)
        ops.extend(AllToAll(i, j, a) for a in d.axes[-1:] for j in range(ty.rank) if j != i)
        if len(d.axes) >= 2:
            swapped = Dim(d.local, (*d.axes[:-2], d.axes[-1], d.axes[-2]), d.size)
            ops.append(AllPermute(ty.with_dim(i, swapped)))
    for a in ty.used_axes:
        for b in mesh.names:
            if b != a and mesh.size(b) == mesh.size(a):
                ops.append(AllPermute(_rename(ty, a, b)))
    ops.append(AllPermute(ty))  # every device keeps its block: legal, and a no-op to rewrite away
    return ops


def _rename(ty: DistType, a: str, b: str) -> DistType:
    """Exchange axes ``a`` and ``b`` everywhere in ``ty`` (equal sizes: same local shape)."""
    swap = {a: b, b: a}
    return DistType(tuple(Dim(d.local, tuple(swap.get(x, x) for x in d.axes), d.size) for d in ty.dims))


def applicable_ops(ty: DistType, mesh: Mesh) -> list[tuple[Op, DistType]]:
    """The candidates whose typing rule holds, with the type each leads to."""
    out: list[tuple[Op, DistType]] = []
    for op in candidate_ops(ty, mesh):
        try:
            out.append((op, type_of_op(op, ty, mesh)))
        except TypeCheckError:
            continue
    return out


@st.composite
def walks(draw: st.DrawFn, max_devices: int = 16, max_length: int = 6) -> Walk:
    """A random well-typed program: each step one of the ops the typing rules allow, from a source
    whose sizes are multiples of the mesh size, or only as divisible as it needs (where some slices
    are not allowed)."""
    problem = draw(st.one_of(problems(max_devices), general_problems(max_devices)))
    ty, ops = problem.source, []
    for _ in range(draw(st.integers(1, max_length))):
        choices = applicable_ops(ty, problem.mesh)
        if not choices:
            break
        op, ty = draw(st.sampled_from(choices))
        ops.append(op)
    return Walk(problem.mesh, problem.source, tuple(ops))


def _followed(ty: DistType, mesh: Mesh, first: type, second: type) -> list[tuple[Op, DistType]]:
    """The ops of class ``first`` the typing rules allow from ``ty`` after which one of ``second`` is
    allowed too."""
    return [(op, after) for op, after in applicable_ops(ty, mesh) if isinstance(op, first)
            and any(isinstance(nxt, second) for nxt, _ in applicable_ops(after, mesh))]


@st.composite
def rewrite_sites(draw: st.DrawFn, key: tuple[type, type] | None = None, max_devices: int = 16) -> Walk:
    """A short well-typed program ending in a pair of ops that a rewrite of synthesis is keyed by
    (a gather before a slice, a permutation before an all-to-all, ...; ``key``, or any): on a mesh
    of 2 or 3 axes of size at least 2 (at most ``max_devices`` devices, at least 4), from a type of
    rank 2 or 3 that splits a dimension and leaves an axis free, after slices that split more (a
    slice starts no rewrite, so the pair's own rule is the one that fires)."""
    axes: list[tuple[str, int]] = []
    count = draw(st.sampled_from([n for n in (2, 3, 3) if 2**n <= max_devices] or [2]))
    for k, name in enumerate(AXIS_NAMES[:count]):
        room = max_devices // math.prod(s for _, s in axes) // 2 ** (count - k - 1)
        axes.append((name, draw(st.integers(2, max(2, min(4, room))))))
    mesh = Mesh(tuple(axes))
    rank = draw(st.sampled_from([2, 3, 3]))
    shape = [mesh.device_count * draw(st.integers(1, 2)) for _ in range(rank)]
    _, used, *rest = draw(st.permutations(mesh.names))  # the first stays free
    dims: list[tuple[str, ...]] = [() for _ in range(rank)]
    for axis in (used, *rest):
        slot = draw(st.integers(0 if axis == used else -1, rank - 1))
        if slot >= 0:
            dims[slot] += (axis,)
    source = type_of(tuple(dims), shape, mesh)
    first, second = key or draw(st.sampled_from(list(REWRITES)))
    ty, ops = source, list[Op]()
    choices = _followed(ty, mesh, first, second)
    for _ in range(2):  # slices: where the pair is not possible yet, or (kept if it stays so) at times
        enough = draw(st.booleans())
        if choices and enough:
            break
        slices = [(o, t) for o, t in applicable_ops(ty, mesh) if isinstance(o, DynSlice)]
        if not slices:
            break
        sliced, after = draw(st.sampled_from(slices))
        if (then := _followed(after, mesh, first, second)) or not choices:
            ops.append(sliced)
            ty, choices = after, then
    if choices:
        op, ty = draw(st.sampled_from(choices))
        ops.append(op)
        ops.append(draw(st.sampled_from([o for o, _ in applicable_ops(ty, mesh) if isinstance(o, second)])))
    return Walk(mesh, source, tuple(ops))
