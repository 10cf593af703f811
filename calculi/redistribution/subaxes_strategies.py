"""Hypothesis generators of types and programs with sub-axes, well-formed by construction.

Each mesh axis is cut once, at a random chain of divisors of its size (``y=8`` at 1 | 2 | 8, say, into
``y:2`` and ``y:(2)4``); the (sub-)axes drawn are the runs of consecutive factors of that chain (the
whole axis is the run of all of them), so that every type and program drawn has a refined mesh and
runs on JAX. Types deal (sub-)axes that do not overlap to dimensions; programs take, at each step,
one of the ops the typing rules allow: the candidates of ``subaxes.candidate_ops`` over the drawn
(sub-)axes, and AllPermutes that write a used axis as its factors (or the factors as the axis),
exchange two used (sub-)axes of one size, or put a free one of the same size in place of a used one.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

from hypothesis import strategies as st

from calculi.core.errors import TypeCheckError
from calculi.redistribution.check import type_of_op
from calculi.redistribution.pretty import show_mesh, show_program, show_type
from calculi.redistribution.strategies import AXIS_NAMES, Problem, Walk
from calculi.redistribution.subaxes import candidate_ops
from calculi.redistribution.syntax import (
    AllPermute,
    Dim,
    DistType,
    DynSlice,
    Mesh,
    Op,
    base_axis,
    overlap,
    sub_axis,
)

SIZES = (2, 3, 4, 6, 8)


@dataclass(frozen=True, slots=True)
class Cut:
    """A mesh and, for each axis, the chain of pre-sizes it is cut at (``(1, |y|)`` when uncut)."""

    mesh: Mesh
    chains: tuple[tuple[int, ...], ...]

    def axes(self) -> list[str]:
        """Every run of consecutive factors: each axis and the sub-axes of its chain."""
        out: list[str] = []
        for name, chain in zip(self.mesh.names, self.chains, strict=True):
            for lo, hi in itertools.combinations(chain, 2):
                out.append(name if (lo, hi) == (1, chain[-1]) else sub_axis(name, lo, hi // lo))
        return out

    def factors(self, name: str) -> list[str]:
        chain = self.chains[self.mesh.names.index(name)]
        if len(chain) == 2:
            return [name]
        return [sub_axis(name, lo, hi // lo) for lo, hi in itertools.pairwise(chain)]

    def __str__(self) -> str:
        return show_mesh(self.mesh)


def _chains(size: int) -> list[tuple[int, ...]]:
    """Every chain of divisors from 1 to ``size``."""
    if size == 1:
        return [(1,)]
    out: list[tuple[int, ...]] = []
    for d in range(1, size):
        if size % d == 0:
            out.extend((*c, size) for c in _chains(d) if c[-1] == d)
    return out


@st.composite
def cuts(draw: st.DrawFn, max_devices: int = 16) -> Cut:
    """1–2 axes of sizes in ``SIZES`` (at most ``max_devices`` devices), each cut at a chain drawn
    with weight on the cut ones."""
    axes: list[tuple[str, int]] = []
    for name in AXIS_NAMES[: draw(st.integers(1, 2))]:
        room = max_devices // math.prod(s for _, s in axes)
        fits = [s for s in SIZES if s <= room]
        if fits:
            axes.append((name, draw(st.sampled_from(fits))))
    mesh = Mesh(tuple(axes))
    chains: list[tuple[int, ...]] = []
    for size in mesh.shape:
        options = _chains(size)
        cut = [c for c in options if len(c) > 2]
        use_cut = bool(cut) and draw(st.integers(0, 3)) > 0
        chains.append(draw(st.sampled_from(cut)) if use_cut else options[0])
    return Cut(mesh, tuple(chains))


def _disjoint(axes: list[str], mesh: Mesh) -> bool:
    return not any(base_axis(a) == base_axis(b) and overlap(a, b, mesh.size(base_axis(a)))
                   for a, b in itertools.combinations(axes, 2))


@st.composite
def sub_types(draw: st.DrawFn, cut: Cut, shape: tuple[int, ...]) -> DistType:
    """A well-formed type of global ``shape`` over (sub-)axes of ``cut`` that do not overlap."""
    chosen: list[str] = []
    for a in draw(st.permutations(cut.axes())):
        if _disjoint([*chosen, a], cut.mesh) and draw(st.booleans()):
            chosen.append(a)
    dims: list[tuple[str, ...]] = [() for _ in shape]
    for a in chosen:
        slot = draw(st.integers(-1, len(shape) - 1))
        if slot >= 0:
            dims[slot] += (a,)
    return DistType(tuple(Dim(n // cut.mesh.product(d), d, n) for d, n in zip(dims, shape, strict=True)))


@st.composite
def sub_problems(draw: st.DrawFn, max_devices: int = 16) -> tuple[Cut, Problem]:
    """Two types with sub-axes of one global shape (each dimension a multiple of the mesh size)."""
    cut = draw(cuts(max_devices))
    shape = tuple(cut.mesh.device_count * draw(st.integers(1, 2)) for _ in range(draw(st.integers(1, 2))))
    return cut, Problem(cut.mesh, draw(sub_types(cut, shape)), draw(sub_types(cut, shape)))


def permutes(ty: DistType, cut: Cut) -> list[AllPermute]:
    """AllPermutes of the kinds the module docstring lists (the typing rules decide which hold)."""
    mesh, out = cut.mesh, list[DistType]()
    sizes = {a: mesh.size(a) for a in cut.axes()}
    for i, d in enumerate(ty.dims):
        for k, a in enumerate(d.axes):
            if a in mesh.names and len(factors := cut.factors(a)) > 1:
                out.append(ty.with_dim(i, Dim(d.local, (*d.axes[:k], *factors, *d.axes[k + 1 :]), d.size)))
            for b in sizes:
                if b != a and sizes[b] == sizes[a]:
                    swap = {a: b, b: a}
                    out.append(DistType(tuple(Dim(e.local, tuple(swap.get(x, x) for x in e.axes), e.size)
                                              for e in ty.dims)))
        for name in mesh.names:
            factors = cut.factors(name)
            n = len(factors)
            for k in range(len(d.axes) - n + 1):
                if n > 1 and list(d.axes[k : k + n]) == factors:
                    out.append(ty.with_dim(i, Dim(d.local, (*d.axes[:k], name, *d.axes[k + n :]), d.size)))
    return [AllPermute(t) for t in out]


def sub_ops(ty: DistType, cut: Cut) -> list[tuple[Op, DistType]]:
    """The ops over (sub-)axes of ``cut`` whose typing rules hold, with the type each leads to."""
    allowed = set(cut.axes())
    out: list[tuple[Op, DistType]] = []
    every_slice = [DynSlice(i, a) for i in range(ty.rank) for a in cut.axes()]  # the rule decides
    for op in dict.fromkeys([*candidate_ops(ty, cut.mesh), *every_slice, *permutes(ty, cut)]):
        if not isinstance(op, AllPermute) and op.axis not in allowed:
            continue
        try:
            out.append((op, type_of_op(op, ty, cut.mesh)))
        except TypeCheckError:
            continue
    return out


@dataclass(frozen=True, slots=True)
class SubWalk:
    cut: Cut
    walk: Walk

    def __str__(self) -> str:
        w = self.walk
        return f"mesh {show_mesh(w.mesh)} cut {self.cut.chains}: from {show_type(w.source)}: " \
               f"{show_program(w.program)}"


@st.composite
def sub_walks(draw: st.DrawFn, max_devices: int = 16, max_length: int = 6) -> SubWalk:
    """A random well-typed program over (sub-)axes of one cut, from a random type with sub-axes."""
    cut, problem = draw(sub_problems(max_devices))
    ty, ops = problem.source, list[Op]()
    for _ in range(draw(st.integers(1, max_length))):
        choices = sub_ops(ty, cut)
        if not choices:
            break
        op, ty = draw(st.sampled_from(choices))
        ops.append(op)
    return SubWalk(cut, Walk(cut.mesh, problem.source, tuple(ops)))


CUBES = ((4, 4), (4, 2, 2), (2, 4, 2), (2, 2, 4), (4, 2, 1), (2, 2, 2))
"""Meshes like the 4x4x4 the optimal search is timed on, small enough for the whole graph."""


@st.composite
def cube_problems(draw: st.DrawFn) -> Problem:
    """Two types of rank 2–3 on a mesh of ``CUBES``, each axis of size 4 cut into halves (so the
    types use sub-axes and whole axes alike), the global sizes the mesh size or twice it."""
    sizes = draw(st.sampled_from(CUBES))
    mesh = Mesh(tuple(zip(AXIS_NAMES, sizes, strict=False)))
    cut = Cut(mesh, tuple((1, 2, 4) if s == 4 else (1, s) for s in sizes))  # z=1 too: (1, 1)
    shape = tuple(mesh.device_count * draw(st.integers(1, 2)) for _ in range(draw(st.integers(2, 3))))
    source = draw(sub_types(cut, shape))
    target = draw(sub_types(cut, shape).filter(lambda t: t != source))
    return Problem(mesh, source, target)
