"""Synthesis by the paper's method: the easy program, then normalising rewrites (§4.3).

The easy program gathers every source axis and then slices every target axis; its peak is the
whole array. Rewriting adjacent pairs that are out of order — a rising edge (``AllGather``) before
a falling one (``DynSlice``) or a flat one (``AllToAll``, ``AllPermute``), or a flat edge before a
falling one — reaches the normal form

    DynSlice* ; (AllToAll | AllPermute)* ; AllGather*

whose memory profile is a valley: it never holds more than max(source, target) local elements.
Each rewrite is a table entry keyed by the pair of constructors; a candidate applies only when it
type-checks to the same type as the pair it replaces (the typing rules are its premises).

Two choices the sources leave open, pinned by tests: (1) when every global dimension is a multiple
of the mesh size every divisibility premise holds and the normal form is always reached; otherwise
a rewrite whose premise fails is skipped, and the program stays correct but may keep a peak.
(2) Beyond the pairwise rewrites, a flat run with two permutations (or longer than needed) is
replaced by the shortest ``AllToAll* ; AllPermute? ; AllToAll*`` between the same two types, which
is how "at most one AllPermute" is reached for axes of unequal sizes.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable, Sequence

from calculi.core.errors import TypeCheckError
from calculi.core.trace import Fuel
from calculi.redistribution.check import check_program, same_problem
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

REWRITE_FUEL = 10_000
MAX_FLAT_STATES = 2_000


def easy_program(source: DistType, target: DistType, mesh: Mesh) -> Program:
    """Gather every axis of the source (minor first), then slice every axis of the target (major first)."""
    same_problem(source, target, mesh)
    gathers = [AllGather(i, a) for i, d in enumerate(source.dims) for a in reversed(d.axes)]
    slices = [DynSlice(i, a) for i, d in enumerate(target.dims) for a in d.axes]
    return (*gathers, *slices)


# -- the shape of a program ----------------------------------------------------------------------

RANK: dict[type, int] = {DynSlice: 0, AllToAll: 1, AllPermute: 1, AllGather: 2}


def is_normal(program: Program) -> bool:
    """``DynSlice* ; (AllToAll | AllPermute)* ; AllGather*`` with at most one ``AllPermute``."""
    ranks = [RANK[type(op)] for op in program]
    return ranks == sorted(ranks) and sum(isinstance(op, AllPermute) for op in program) <= 1


# -- helpers building types --------------------------------------------------------------------


def _swap_minor(ty: DistType, i: int) -> DistType:
    """Exchange the two minor-most axes of dimension ``i`` (same local shape)."""
    d = ty.dims[i]
    return ty.with_dim(i, Dim(d.local, (*d.axes[:-2], d.axes[-1], d.axes[-2]), d.size))


def _unused_with_product(ty: DistType, mesh: Mesh, size: int, prefer: str) -> tuple[str, ...] | None:
    """Axes unused by ``ty`` whose sizes multiply to ``size`` (``prefer`` alone when it fits)."""
    free = [a for a in mesh.names if a not in ty.used_axes and mesh.size(a) > 1]
    if prefer in free and mesh.size(prefer) == size:
        return (prefer,)
    if size == 1:
        return ()
    for r in range(1, len(free) + 1):
        for combo in itertools.combinations(free, r):
            if mesh.product(combo) == size:
                return combo
    return None


# -- the rewrites, keyed by the pair of constructors ------------------------------------------

Rewrite = Callable[[Op, Op, DistType, DistType, DistType, Mesh], Sequence[Op] | None]


def flatten_peak(p: Op, q: Op, t0: DistType, t1: DistType, t2: DistType, mesh: Mesh) -> Sequence[Op] | None:
    """/\\ : AllGather(i,a) ; DynSlice(j,b)."""
    assert isinstance(p, AllGather) and isinstance(q, DynSlice)
    i, a, j, b = p.dim, p.axis, q.dim, q.axis
    if i == j and a == b:
        return []
    if i == j and mesh.size(a) == mesh.size(b):
        return [AllPermute(t2)]
    if i == j:
        t_sliced = check_program(t0, (DynSlice(i, b),), mesh)[-1]
        return [DynSlice(i, b), AllPermute(_swap_minor(t_sliced, i)), AllGather(i, a)]
    if a == b:
        return [AllToAll(i, j, a)]
    return [DynSlice(j, b), AllGather(i, a)]


def gather_after_all_to_all(
    p: Op, q: Op, t0: DistType, t1: DistType, t2: DistType, mesh: Mesh
) -> Sequence[Op] | None:
    """/¯ → _/ : AllGather(i,a) ; AllToAll(k→l,x)."""
    assert isinstance(p, AllGather) and isinstance(q, AllToAll)
    i, a, k, dst, x = p.dim, p.axis, q.src_dim, q.dst_dim, q.axis
    if i not in (k, dst):
        return [AllToAll(k, dst, x), AllGather(i, a)]
    if dst == i:
        moved = check_program(t0, (AllToAll(k, i, x),), mesh)[-1]
        return [AllToAll(k, i, x), AllPermute(_swap_minor(moved, i)), AllGather(i, a)]
    if len(t0.dims[i].axes) < 2:
        return None
    return [AllPermute(_swap_minor(t0, i)), AllToAll(i, dst, x), AllGather(i, a)]


def gather_after_permute(
    p: Op, q: Op, t0: DistType, t1: DistType, t2: DistType, mesh: Mesh
) -> Sequence[Op] | None:
    """/¯ → _/ : AllGather(i,a) ; AllPermute(τ2) becomes AllPermute(τ0') ; AllGather(i, z...)."""
    assert isinstance(p, AllGather)
    i, a = p.dim, p.axis
    z = _unused_with_product(t2, mesh, mesh.size(a), prefer=a)
    if z is None:
        return None
    d = t2.dims[i]
    before = t2.with_dim(i, Dim(d.local // mesh.product(z), (*d.axes, *z), d.size))
    permute: list[Op] = [] if before == t0 else [AllPermute(before)]
    return [*permute, *(AllGather(i, axis) for axis in reversed(z))]


def slice_before_all_to_all(
    p: Op, q: Op, t0: DistType, t1: DistType, t2: DistType, mesh: Mesh
) -> Sequence[Op] | None:
    """¯\\ → \\_ : AllToAll(k→l,x) ; DynSlice(j,b)."""
    assert isinstance(p, AllToAll) and isinstance(q, DynSlice)
    k, dst, x, j, b = p.src_dim, p.dst_dim, p.axis, q.dim, q.axis
    if j not in (k, dst):
        return [DynSlice(j, b), AllToAll(k, dst, x)]
    sliced = check_program(t0, (DynSlice(j, b),), mesh)[-1]
    if j == k:
        return [DynSlice(k, b), AllPermute(_swap_minor(sliced, k)), AllToAll(k, dst, x)]
    return [DynSlice(dst, b), AllToAll(k, dst, x), AllPermute(t2)]


def slice_before_permute(
    p: Op, q: Op, t0: DistType, t1: DistType, t2: DistType, mesh: Mesh
) -> Sequence[Op] | None:
    """¯\\ → \\_ : AllPermute(τ1) ; DynSlice(j,b) becomes DynSlice(j, z...) ; AllPermute(τ2)."""
    assert isinstance(q, DynSlice)
    z = _unused_with_product(t0, mesh, mesh.size(q.axis), prefer=q.axis)
    if z is None:
        return None
    slices: list[Op] = [DynSlice(q.dim, axis) for axis in z]
    after = check_program(t0, tuple(slices), mesh)[-1]
    return [*slices, *([] if after == t2 else [AllPermute(t2)])]


def merge_permutes(p: Op, q: Op, t0: DistType, t1: DistType, t2: DistType, mesh: Mesh) -> Sequence[Op] | None:
    """AllPermute(τ1) ; AllPermute(τ2) = AllPermute(τ2) (at most one AllPermute)."""
    return [] if t2 == t0 else [AllPermute(t2)]


def permute_after_all_to_all(
    p: Op, q: Op, t0: DistType, t1: DistType, t2: DistType, mesh: Mesh
) -> Sequence[Op] | None:
    """AllPermute(τ1) ; AllToAll(k→l,x) becomes AllToAll(k→l,y) ; AllPermute(τ2), |y| = |x|."""
    assert isinstance(q, AllToAll)
    src = t0.dims[q.src_dim]
    if not src.axes or mesh.size(src.axes[-1]) != mesh.size(q.axis):
        return None
    moved = AllToAll(q.src_dim, q.dst_dim, src.axes[-1])
    after = check_program(t0, (moved,), mesh)[-1]
    return [moved, *([] if after == t2 else [AllPermute(t2)])]


def cancel_all_to_all(
    p: Op, q: Op, t0: DistType, t1: DistType, t2: DistType, mesh: Mesh
) -> Sequence[Op] | None:
    """AllToAll(i→j,x) ; AllToAll(j→i,x) = ε."""
    return [] if t2 == t0 else None


REWRITES: dict[tuple[type, type], Rewrite] = {
    (AllGather, DynSlice): flatten_peak,
    (AllGather, AllToAll): gather_after_all_to_all,
    (AllGather, AllPermute): gather_after_permute,
    (AllToAll, DynSlice): slice_before_all_to_all,
    (AllPermute, DynSlice): slice_before_permute,
    (AllPermute, AllPermute): merge_permutes,
    (AllPermute, AllToAll): permute_after_all_to_all,
    (AllToAll, AllToAll): cancel_all_to_all,
}


def rewrite_once(program: Program, source: DistType, mesh: Mesh) -> Program | None:
    """Apply the leftmost rewrite that fires, or ``None`` when none does."""
    types = check_program(source, program, mesh)
    for k, op in enumerate(program):
        if isinstance(op, AllPermute) and types[k] == types[k + 1]:
            return program[:k] + program[k + 1 :]
    for k in range(len(program) - 1):
        p, q = program[k], program[k + 1]
        rule = REWRITES.get((type(p), type(q)))
        if rule is None:
            continue
        t0, t1, t2 = types[k], types[k + 1], types[k + 2]
        try:
            replacement = rule(p, q, t0, t1, t2, mesh)
            if replacement is None or check_program(t0, tuple(replacement), mesh)[-1] != t2:
                continue
        except TypeCheckError:
            continue
        return (*program[:k], *replacement, *program[k + 2 :])
    return None


def _all_to_all_moves(ty: DistType, mesh: Mesh) -> list[tuple[AllToAll, DistType]]:
    moves: list[tuple[AllToAll, DistType]] = []
    for k, d in enumerate(ty.dims):
        if not d.axes:
            continue
        x = d.axes[-1]
        size = mesh.size(x)
        for target, e in enumerate(ty.dims):
            if target != k and e.local % size == 0:
                after = ty.with_dim(k, Dim(d.local * size, d.axes[:-1], d.size))
                after = after.with_dim(target, Dim(e.local // size, (*e.axes, x), e.size))
                moves.append((AllToAll(k, target, x), after))
    return moves


def _reachable(origin: DistType, mesh: Mesh) -> dict[DistType, Program]:
    """Every type ``AllToAll*`` reaches from ``origin``, with a shortest path (breadth-first)."""
    seen: dict[DistType, Program] = {origin: ()}
    frontier = [origin]
    while frontier and len(seen) < MAX_FLAT_STATES:
        nxt: list[DistType] = []
        for ty in frontier:
            for op, after in _all_to_all_moves(ty, mesh):
                if after not in seen:
                    seen[after] = (*seen[ty], op)
                    nxt.append(after)
        frontier = nxt
    return seen


@functools.lru_cache(maxsize=4096)
def _search_flat(start: DistType, goal: DistType, mesh: Mesh) -> Program | None:
    """Meet in the middle: ``AllToAll* ; AllPermute? ; AllToAll*`` from ``start`` to ``goal``, the
    permutation joining a type reached forwards to one reached backwards (``AllToAll`` is its own
    inverse with the dimensions exchanged), shortest first."""
    forward, backward = _reachable(start, mesh), _reachable(goal, mesh)
    nearest: dict[tuple[int, ...], tuple[DistType, Program]] = {}
    for b, back in backward.items():
        if b.local_shape not in nearest or len(back) < len(nearest[b.local_shape][1]):
            nearest[b.local_shape] = (b, back)
    best: Program | None = None
    for f, path in forward.items():
        if f.local_shape not in nearest:
            continue
        b, back = nearest[f.local_shape]
        undo = tuple(AllToAll(op.dst_dim, op.src_dim, op.axis)
                     for op in reversed(back) if isinstance(op, AllToAll))
        candidate = (*path, *([] if f == b else [AllPermute(b)]), *undo)
        if best is None or len(candidate) < len(best):
            best = candidate
    return best


def collapse_flat(program: Program, source: DistType, mesh: Mesh) -> Program | None:
    """A flat run (``AllToAll``/``AllPermute`` only) with more than one ``AllPermute``, or longer than
    needed, becomes the shortest ``AllToAll* ; AllPermute? ; AllToAll*`` between the same types:
    one permutation is always enough."""
    types = check_program(source, program, mesh)
    k = 0
    while k < len(program):
        if RANK[type(program[k])] != 1:
            k += 1
            continue
        end = k
        while end < len(program) and RANK[type(program[end])] == 1:
            end += 1
        run = program[k:end]
        permutes = sum(isinstance(op, AllPermute) for op in run)
        if permutes > 1 or len(run) > 2:
            better = _search_flat(types[k], types[end], mesh)
            if (better is not None and sum(isinstance(op, AllPermute) for op in better) <= 1
                    and (permutes > 1 or len(better) < len(run))):
                return (*program[:k], *better, *program[end:])
        k = end
    return None


def normalize(program: Program, source: DistType, mesh: Mesh, fuel: Fuel | None = None) -> Program:
    """Rewrite until no rule fires (a fixpoint); each rewrite keeps the type and the meaning."""
    fuel = fuel or Fuel(REWRITE_FUEL)
    while True:
        nxt = rewrite_once(program, source, mesh)
        if nxt is None:
            nxt = collapse_flat(program, source, mesh)
        if nxt is None:
            return program
        fuel.tick()
        program = nxt


def paper(source: DistType, target: DistType, mesh: Mesh) -> Program:
    """The paper's synthesis: the easy program, normalised."""
    return normalize(easy_program(source, target, mesh), source, mesh)
