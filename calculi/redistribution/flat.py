"""The flat middle of a redistribution: the shortest ``AllToAll* ; AllPermute? ; AllToAll*`` between
two types, found by a breadth-first search from both ends that meets in the middle.

The search is bounded (``MAX_FLAT_STATES`` types, ``MAX_FLAT_WORK`` dimensions built), so a type of
many dimensions and axes costs a bounded time; within the bounds the shortest run is found.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

from calculi.redistribution.syntax import AllPermute, AllToAll, Dim, DistType, Mesh, Op, Program

MAX_FLAT_STATES = 2_000
MAX_FLAT_WORK = 30_000
"""The search stops after this many dimensions built (moves tried × rank)."""

FLAT = (AllToAll, AllPermute)


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
    """Every type ``AllToAll*`` reaches from ``origin``, with a shortest path (breadth-first), up to
    ``MAX_FLAT_STATES`` types or ``MAX_FLAT_WORK`` dimensions built."""
    seen: dict[DistType, Program] = {origin: ()}
    frontier = [origin]
    work = 0
    while frontier and len(seen) < MAX_FLAT_STATES and work < MAX_FLAT_WORK:
        nxt: list[DistType] = []
        for ty in frontier:
            moves = _all_to_all_moves(ty, mesh)
            work += len(moves) * ty.rank
            for op, after in moves:
                if after not in seen:
                    seen[after] = (*seen[ty], op)
                    nxt.append(after)
            if work >= MAX_FLAT_WORK:
                break
        frontier = nxt
    return seen


@functools.lru_cache(maxsize=4096)
def search_flat(start: DistType, goal: DistType, mesh: Mesh) -> Program | None:
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


def flat_run(ops: Sequence[Op], types: Sequence[DistType], mesh: Mesh) -> tuple[int, int, Program] | None:
    """The leftmost flat run ``ops[k:end]`` (``AllToAll``/``AllPermute`` only, ``types`` the types
    around the ops) with more than one ``AllPermute`` or longer than two, that a shorter run between
    the same types with at most one ``AllPermute`` can replace: ``k``, ``end`` and the replacement."""
    k = 0
    while k < len(ops):
        if not isinstance(ops[k], FLAT):
            k += 1
            continue
        end = k
        while end < len(ops) and isinstance(ops[end], FLAT):
            end += 1
        run = ops[k:end]
        permutes = sum(isinstance(op, AllPermute) for op in run)
        if permutes > 1 or len(run) > 2:
            better = search_flat(types[k], types[end], mesh)
            if (better is not None and sum(isinstance(op, AllPermute) for op in better) <= 1
                    and (permutes > 1 or len(better) < len(run))):
                return k, end, better
        k = end
    return None
