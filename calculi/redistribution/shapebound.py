"""A second bound for the fast optimal search (``astar``): the traffic a change of local shape forces.

Forget which (sub-)axes split a type and keep, per dimension, only the product ``p_i`` of their
sizes (its *parts*; the local size is ``N_i // p_i``). A DynSlice, AllGather or AllToAll of a
type is then a move of the parts by the size ``s`` of the atom it uses, at the same cost as the
op's:

    DynSlice(i) by s       p_i · s            0                      (s divides the local size along i)
    AllGather(i) by s      p_i / s            D · (s − 1) · |τ|      (s divides p_i)
    AllToAll(i → j) by s   p_i / s, p_j · s   D · (s − 1) · |τ| / s  (and the local size along j)

and an AllPermute keeps them. Every step of the search is such a move, none larger than the search's
bound, from and to parts whose product is at most the device count ``D`` (the atoms a type uses
overlap nowhere, so their sizes multiply to at most ``D``): the least cost from a type's parts to
the target's in this smaller graph is at most what any program from the type still moves, and it
drops along an edge by at most the edge's cost. ``table`` computes it for every local shape (by
Dijkstra from the target, on the reversed moves), and the search takes the larger of it and the
bound of the elements each device lacks; both being consistent, so is the larger.

The table also gives the fewest moves from a type's parts to the target's: at most the ops any
program from the type still has, and it drops by at most one along an edge. The search orders by
``(moved + h, length + ops, op keys)``; the pair of bounds is consistent for the lexicographic
order (where the first is tight along an edge, the second drops by at most that edge's one op), so
the first path to the target popped is still the least ``(moved, length, op keys)``, and the ties
of equal traffic that need more ops (two gathers by 2 where one by 4 moves as much) wait behind it.

The table covers the parts connected to the target's. On even dimensions every move has its
reverse under the same limits, so a type outside the table reaches only types outside it, and
its bound 0 keeps the larger consistent. The table is ``None`` (the search keeps the first bound
alone) past ``MAX_MOVES`` moves or on uneven dimensions (where a local shape does not name its
parts, and a move need not have a reverse).
"""

from __future__ import annotations

import functools
import heapq
import math

MAX_MOVES = 20_000
"""The most moves the bound's graph may have before the search goes without it (a few ms)."""

Parts = tuple[int, ...]
Shape = tuple[int, ...]


def moves(parts: Parts, shape: tuple[int, ...], sizes: frozenset[int], devices: int,
          bound: int) -> list[tuple[Parts, int]]:
    """The moves from ``parts`` (of global ``shape``) by the atom sizes ``sizes``, with their costs,
    that lead to no local size above ``bound`` and to parts that multiply to at most ``devices``."""
    local = [n // p for n, p in zip(shape, parts, strict=True)]
    size, total = math.prod(local), math.prod(parts)
    out: list[tuple[Parts, int]] = []
    for i, p in enumerate(parts):
        for s in sizes:
            if s == 1:  # a move by 1 goes nowhere
                continue
            if local[i] % s == 0 and total * s <= devices and size // s <= bound:
                out.append(((*parts[:i], p * s, *parts[i + 1 :]), 0))
            if p % s:
                continue
            if size * s <= bound:
                out.append(((*parts[:i], p // s, *parts[i + 1 :]), devices * (s - 1) * size))
            for j, q in enumerate(parts):
                if j != i and local[j] % s == 0:
                    after = list(parts)
                    after[i], after[j] = p // s, q * s
                    out.append((tuple(after), devices * ((s - 1) * size // s)))
    return out


@functools.lru_cache(maxsize=64)
def table(shape: tuple[int, ...], target: Parts, sizes: frozenset[int], devices: int,
          bound: int) -> dict[Shape, tuple[int, int]] | None:
    """Per local shape connected to the target's, the least cost of moving its parts to ``target``
    and the fewest moves that do it (not necessarily the same path);
    ``None`` past ``MAX_MOVES`` moves or on uneven dimensions. Kept for the searches that follow
    (the one over sub-axes starts with one over the mesh's axes)."""
    into: dict[Parts, list[tuple[Parts, int]]] = {target: []}  # the moves into each parts
    frontier, count = [target], 0
    while frontier:  # the parts connected to the target (every move has a reverse move)
        parts = frontier.pop()
        if any(n % p for n, p in zip(shape, parts, strict=True)):
            return None  # uneven: the local shape does not name the parts
        out = moves(parts, shape, sizes, devices, bound)
        count += len(out)
        if count > MAX_MOVES:
            return None
        for after, cost in out:
            if after not in into:
                into[after] = []
                frontier.append(after)
            into[after].append((parts, cost))
    least: dict[Parts, int] = {}
    heap: list[tuple[int, Parts]] = [(0, target)]
    while heap:
        cost, parts = heapq.heappop(heap)
        if parts in least:
            continue
        least[parts] = cost
        for before, c in into[parts]:
            if before not in least:
                heapq.heappush(heap, (cost + c, before))
    hops, level, distance = {target: 0}, [target], 0
    while level:  # breadth first, on the reversed moves
        distance += 1
        level = list(dict.fromkeys(b for parts in level for b, _ in into[parts] if b not in hops))
        hops.update((parts, distance) for parts in level)
    return {tuple(n // p for n, p in zip(shape, parts, strict=True)): (cost, hops[parts])
            for parts, cost in least.items()}
