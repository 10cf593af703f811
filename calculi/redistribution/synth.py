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

Sizes are only multiplied and divided, never enumerated, so huge sizes cost nothing. The number of
rewrites grows with the product of the axes gathered and sliced (each slice passes each gather once);
each rewrite costs the length of its replacement, and rewriting stops at the fuel limit.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from calculi.core import coverage
from calculi.core.errors import TypeCheckError
from calculi.core.trace import Fuel
from calculi.redistribution.check import CALCULUS, check_program, same_problem, type_of_op
from calculi.redistribution.flat import flat_run
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

EASY = "easy program"
PEAK_CANCEL, PEAK_PERMUTE, PEAK_VALLEY, PEAK_ALL_TO_ALL, PEAK_SWAP, PEAK_THROUGH = (
    "peak: cancel", "peak: AllPermute", "peak: valley", "peak: AllToAll", "peak: slice first",
    "peak: through another dimension")
RISE_PAST_ALL_TO_ALL, RISE_INTO, RISE_OUT_OF, RISE_PAST_PERMUTE = (
    "rise later: past AllToAll", "rise later: AllToAll into its dimension",
    "rise later: AllToAll out of its dimension", "rise later: past AllPermute")
FALL_PAST_ALL_TO_ALL, FALL_FROM, FALL_INTO, FALL_PAST_PERMUTE = (
    "fall earlier: past AllToAll", "fall earlier: from AllToAll's source",
    "fall earlier: into AllToAll's target", "fall earlier: past AllPermute")
MERGE_PERMUTES, PERMUTE_PAST_ALL_TO_ALL, CANCEL_ALL_TO_ALL, DROP_PERMUTE, COLLAPSE_FLAT = (
    "merge AllPermutes", "AllPermute past AllToAll", "cancel AllToAlls", "drop identity AllPermute",
    "collapse flat run")
GATHER_AT_SOURCE = "gather where the AllToAll started"

RULES = coverage.declare(CALCULUS, [
    EASY, PEAK_CANCEL, PEAK_PERMUTE, PEAK_VALLEY, PEAK_ALL_TO_ALL, PEAK_SWAP, PEAK_THROUGH,
    RISE_PAST_ALL_TO_ALL, RISE_INTO, RISE_OUT_OF, RISE_PAST_PERMUTE,
    FALL_PAST_ALL_TO_ALL, FALL_FROM, FALL_INTO, FALL_PAST_PERMUTE,
    MERGE_PERMUTES, PERMUTE_PAST_ALL_TO_ALL, CANCEL_ALL_TO_ALL, DROP_PERMUTE, COLLAPSE_FLAT, GATHER_AT_SOURCE,
])
"""The rules of the calculus: the typing rules (``check``), then synthesis: the easy program and
the rewrites, named by the shape of the memory profile they flatten (a peak ``/\\``, a rise moved
later ``/¯ → _/``, a fall moved earlier ``¯\\ → \\_``) and the case that applies."""


def easy_program(source: DistType, target: DistType, mesh: Mesh) -> Program:
    """Gather every axis of the source (minor first), then slice every axis of the target (major first)."""
    same_problem(source, target, mesh)
    coverage.fired(CALCULUS, EASY)
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
    """Axes unused by ``ty`` whose sizes multiply to ``size`` (``prefer`` alone when it fits): the
    fewest such axes, first in mesh order (as ``itertools.combinations`` lists them), found by
    tabulating which products of divisors of ``size`` each suffix of the free axes can make."""
    used = set(ty.used_axes)
    free = [a for a in mesh.names if a not in used and mesh.size(a) > 1]
    if prefer in free and mesh.size(prefer) == size:
        return (prefer,)
    if size == 1:
        return ()
    sizes = [mesh.size(a) for a in free]
    makes: list[set[tuple[int, int]]] = [set() for _ in range(len(free) + 1)]
    makes[len(free)] = {(0, 1)}  # (how many axes, their product), a divisor of ``size``
    for k in range(len(free) - 1, -1, -1):
        makes[k] = makes[k + 1] | {(r + 1, p * sizes[k]) for r, p in makes[k + 1]
                                   if size % (p * sizes[k]) == 0}
    counts = sorted(r for r, p in makes[0] if p == size)
    if not counts:
        return None
    combo: list[str] = []
    r, rest = counts[0], size
    for k, a in enumerate(free):
        if r and rest % sizes[k] == 0 and (r - 1, rest // sizes[k]) in makes[k + 1]:
            combo.append(a)
            r, rest = r - 1, rest // sizes[k]
    return tuple(combo)


# -- the rewrites, keyed by the pair of constructors ------------------------------------------

Rewritten = tuple[str, Sequence[Op]]
"""The name of the case that applied, and the ops that replace the pair."""
Rewrite = Callable[[Op, Op, DistType, DistType, DistType, Mesh], Rewritten | None]


def flatten_peak(p: Op, q: Op, t0: DistType, t1: DistType, t2: DistType, mesh: Mesh) -> Rewritten | None:
    """/\\ : AllGather(i,a) ; DynSlice(j,b). Where |b| does not divide n_i (no valley), the slice goes
    to another dimension k and comes back by an AllToAll: DynSlice(k,b) ; AllGather(i,a) ; AllToAll(k→i,b)."""
    assert isinstance(p, AllGather) and isinstance(q, DynSlice)
    i, a, j, b = p.dim, p.axis, q.dim, q.axis
    if i == j and a == b:
        return PEAK_CANCEL, []
    if i == j and mesh.size(a) == mesh.size(b):
        return PEAK_PERMUTE, [AllPermute(t2)]
    if i == j:
        if t0.dims[i].local % mesh.size(b) == 0:
            t_sliced = check_program(t0, (DynSlice(i, b),), mesh)[-1]
            return PEAK_VALLEY, [DynSlice(i, b), AllPermute(_swap_minor(t_sliced, i)), AllGather(i, a)]
        k = next((k for k, d in enumerate(t0.dims) if k != i and d.local % mesh.size(b) == 0), None)
        return None if k is None else (PEAK_THROUGH, [DynSlice(k, b), AllGather(i, a), AllToAll(k, i, b)])
    if a == b:
        return PEAK_ALL_TO_ALL, [AllToAll(i, j, a)]
    return PEAK_SWAP, [DynSlice(j, b), AllGather(i, a)]


def gather_after_all_to_all(
    p: Op, q: Op, t0: DistType, t1: DistType, t2: DistType, mesh: Mesh
) -> Rewritten | None:
    """/¯ → _/ : AllGather(i,a) ; AllToAll(k→l,x)."""
    assert isinstance(p, AllGather) and isinstance(q, AllToAll)
    i, a, k, dst, x = p.dim, p.axis, q.src_dim, q.dst_dim, q.axis
    if i not in (k, dst):
        return RISE_PAST_ALL_TO_ALL, [AllToAll(k, dst, x), AllGather(i, a)]
    if dst == i:
        moved = check_program(t0, (AllToAll(k, i, x),), mesh)[-1]
        return RISE_INTO, [AllToAll(k, i, x), AllPermute(_swap_minor(moved, i)), AllGather(i, a)]
    if len(t0.dims[i].axes) < 2:
        return None
    return RISE_OUT_OF, [AllPermute(_swap_minor(t0, i)), AllToAll(i, dst, x), AllGather(i, a)]


def gather_after_permute(
    p: Op, q: Op, t0: DistType, t1: DistType, t2: DistType, mesh: Mesh
) -> Rewritten | None:
    """/¯ → _/ : AllGather(i,a) ; AllPermute(τ2) becomes AllPermute(τ0') ; AllGather(i, z...)."""
    assert isinstance(p, AllGather)
    i, a = p.dim, p.axis
    z = _unused_with_product(t2, mesh, mesh.size(a), prefer=a)
    if z is None:
        return None
    d = t2.dims[i]
    before = t2.with_dim(i, Dim(d.local // mesh.product(z), (*d.axes, *z), d.size))
    permute: list[Op] = [] if before == t0 else [AllPermute(before)]
    return RISE_PAST_PERMUTE, [*permute, *(AllGather(i, axis) for axis in reversed(z))]


def slice_before_all_to_all(
    p: Op, q: Op, t0: DistType, t1: DistType, t2: DistType, mesh: Mesh
) -> Rewritten | None:
    """¯\\ → \\_ : AllToAll(k→l,x) ; DynSlice(j,b)."""
    assert isinstance(p, AllToAll) and isinstance(q, DynSlice)
    k, dst, x, j, b = p.src_dim, p.dst_dim, p.axis, q.dim, q.axis
    if j not in (k, dst):
        return FALL_PAST_ALL_TO_ALL, [DynSlice(j, b), AllToAll(k, dst, x)]
    sliced = check_program(t0, (DynSlice(j, b),), mesh)[-1]
    if j == k:
        return FALL_FROM, [DynSlice(k, b), AllPermute(_swap_minor(sliced, k)), AllToAll(k, dst, x)]
    return FALL_INTO, [DynSlice(dst, b), AllToAll(k, dst, x), AllPermute(t2)]


def slice_before_permute(
    p: Op, q: Op, t0: DistType, t1: DistType, t2: DistType, mesh: Mesh
) -> Rewritten | None:
    """¯\\ → \\_ : AllPermute(τ1) ; DynSlice(j,b) becomes DynSlice(j, z...) ; AllPermute(τ2)."""
    assert isinstance(q, DynSlice)
    z = _unused_with_product(t0, mesh, mesh.size(q.axis), prefer=q.axis)
    if z is None:
        return None
    slices: list[Op] = [DynSlice(q.dim, axis) for axis in z]
    after = check_program(t0, tuple(slices), mesh)[-1]
    return FALL_PAST_PERMUTE, [*slices, *([] if after == t2 else [AllPermute(t2)])]


def merge_permutes(p: Op, q: Op, t0: DistType, t1: DistType, t2: DistType, mesh: Mesh) -> Rewritten | None:
    """AllPermute(τ1) ; AllPermute(τ2) = AllPermute(τ2) (at most one AllPermute)."""
    return MERGE_PERMUTES, [] if t2 == t0 else [AllPermute(t2)]


def permute_after_all_to_all(
    p: Op, q: Op, t0: DistType, t1: DistType, t2: DistType, mesh: Mesh
) -> Rewritten | None:
    """AllPermute(τ1) ; AllToAll(k→l,x) becomes AllToAll(k→l,y) ; AllPermute(τ2), |y| = |x|."""
    assert isinstance(q, AllToAll)
    src = t0.dims[q.src_dim]
    if not src.axes or mesh.size(src.axes[-1]) != mesh.size(q.axis):
        return None
    moved = AllToAll(q.src_dim, q.dst_dim, src.axes[-1])
    after = check_program(t0, (moved,), mesh)[-1]
    return PERMUTE_PAST_ALL_TO_ALL, [moved, *([] if after == t2 else [AllPermute(t2)])]


def cancel_all_to_all(
    p: Op, q: Op, t0: DistType, t1: DistType, t2: DistType, mesh: Mesh
) -> Rewritten | None:
    """AllToAll(i→j,x) ; AllToAll(j→i,x) = ε."""
    return (CANCEL_ALL_TO_ALL, []) if t2 == t0 else None


def gather_at_source(p: Op, q: Op, t0: DistType, t1: DistType, t2: DistType, mesh: Mesh) -> Rewritten | None:
    """AllToAll(i→j,x) ; AllGather(j,x) = AllGather(i,x): the same type, without moving x's chunks twice."""
    assert isinstance(p, AllToAll) and isinstance(q, AllGather)
    if (q.dim, q.axis) != (p.dst_dim, p.axis):
        return None
    return GATHER_AT_SOURCE, [AllGather(p.src_dim, p.axis)]


REWRITES: dict[tuple[type, type], Rewrite] = {
    (AllGather, DynSlice): flatten_peak,
    (AllGather, AllToAll): gather_after_all_to_all,
    (AllGather, AllPermute): gather_after_permute,
    (AllToAll, DynSlice): slice_before_all_to_all,
    (AllPermute, DynSlice): slice_before_permute,
    (AllPermute, AllPermute): merge_permutes,
    (AllPermute, AllToAll): permute_after_all_to_all,
    (AllToAll, AllToAll): cancel_all_to_all,
    (AllToAll, AllGather): gather_at_source,
}


def _pair(ops: Sequence[Op], types: Sequence[DistType], k: int, mesh: Mesh) -> Rewritten | None:
    """The rewrite of the pair at ``k``, with the types of its ops, if a rule fires there: its
    replacement type-checks (the premises hold) and ends at the same type as the pair."""
    p, q = ops[k], ops[k + 1]
    rule = REWRITES.get((type(p), type(q)))
    if rule is None:
        return None
    t0, t1, t2 = types[k], types[k + 1], types[k + 2]
    try:
        rewritten = rule(p, q, t0, t1, t2, mesh)
        if rewritten is None or _fold(t0, rewritten[1], mesh)[-1] != t2:
            return None
    except TypeCheckError:
        return None
    return rewritten


def _fold(start: DistType, ops: Sequence[Op], mesh: Mesh) -> list[DistType]:
    types = [start]
    for op in ops:
        types.append(type_of_op(op, types[-1], mesh))
    return types


def _identity_permute(ops: Sequence[Op], types: Sequence[DistType], lo: int, hi: int) -> int | None:
    for k in range(lo, min(hi, len(ops))):
        if isinstance(ops[k], AllPermute) and types[k] == types[k + 1]:
            return k
    return None


def rewrite_once(program: Program, source: DistType, mesh: Mesh) -> Program | None:
    """Apply the leftmost rewrite that fires, or ``None`` when none does: first dropping an
    ``AllPermute`` that changes nothing, then the leftmost pair a rule of ``REWRITES`` rewrites."""
    types = check_program(source, program, mesh)
    k = _identity_permute(program, types, 0, len(program))
    if k is not None:
        coverage.fired(CALCULUS, DROP_PERMUTE)
        return program[:k] + program[k + 1 :]
    for k in range(len(program) - 1):
        rewritten = _pair(program, types, k, mesh)
        if rewritten is not None:
            coverage.fired(CALCULUS, rewritten[0])
            return (*program[:k], *rewritten[1], *program[k + 2 :])
    return None


def collapse_flat(program: Program, source: DistType, mesh: Mesh) -> Program | None:
    """A flat run (``AllToAll``/``AllPermute`` only) with more than one ``AllPermute``, or longer than
    needed, becomes the shortest ``AllToAll* ; AllPermute? ; AllToAll*`` between the same types:
    one permutation is always enough."""
    found = flat_run(program, check_program(source, program, mesh), mesh)
    if found is None:
        return None
    k, end, better = found
    coverage.fired(CALCULUS, COLLAPSE_FLAT)
    return (*program[:k], *better, *program[end:])


def normalize(program: Program, source: DistType, mesh: Mesh, fuel: Fuel | None = None) -> Program:
    """Rewrite until no rule fires (a fixpoint); each rewrite keeps the type and the meaning.

    The same rewrites, in the same order, as ``rewrite_once`` (else ``collapse_flat``) repeated, but
    without starting over after each: the types are kept and patched where a rewrite replaced ops,
    the search for the leftmost pair resumes just before it, and an ``AllPermute`` that changes
    nothing can only appear among the ops a rewrite just put in. Fuel is spent per rewrite.
    """
    fuel = fuel or Fuel(REWRITE_FUEL)
    ops, types = list(program), check_program(source, program, mesh)
    start, lo, hi = 0, 0, len(ops)  # no pair before ``start`` fires; no identity outside [lo, hi)

    def replace(k: int, end: int, new: Sequence[Op], rule: str) -> None:
        nonlocal start, lo, hi
        fuel.tick(source.span)
        coverage.fired(CALCULUS, rule)
        types[k + 1 : end + 1] = _fold(types[k], new, mesh)[1:]
        ops[k:end] = new
        start, lo, hi = max(0, k - 1), k, k + len(new)

    while True:
        k = _identity_permute(ops, types, lo, hi)
        if k is not None:
            fuel.tick(source.span)
            coverage.fired(CALCULUS, DROP_PERMUTE)
            del ops[k], types[k + 1]
            start, lo, hi = min(start, max(0, k - 1)), k, hi - 1
            continue
        lo = hi = 0
        for k in range(start, len(ops) - 1):
            rewritten = _pair(ops, types, k, mesh)
            if rewritten is not None:
                replace(k, k + 2, rewritten[1], rewritten[0])
                break
        else:
            collapsed = flat_run(ops, types, mesh)
            if collapsed is None:
                return tuple(ops)
            k, end, better = collapsed
            replace(k, end, better, COLLAPSE_FLAT)


def paper(source: DistType, target: DistType, mesh: Mesh, fuel: Fuel | None = None) -> Program:
    """The paper's synthesis: the easy program, normalised."""
    return normalize(easy_program(source, target, mesh), source, mesh, fuel)
