"""The optimal strategy: the least peak memory, then the least traffic, by search over the type graph.

The well-formed types of one global shape on one mesh are the nodes of a graph whose edges are the
collectives the typing rules allow (``check.type_of_op`` on the candidates of ``candidate_ops``).
For a program ``p`` from τs to τt

    peak(p)  = max over the types p goes through of their local size
    moved(p) = Σ over its steps and the devices of the elements received (the rules of ``costs``)

and ``optimal`` returns a program least in ``(peak, moved)``, lexicographically, among all programs
of any length: first the least bottleneck ``B*`` (the smallest local size such that τt is reachable
through types no larger), then a shortest path for ``moved`` through the types of local size at
most ``B*`` (Dijkstra; every weight is at least 0). Ties are broken, in this order, by fewer
collectives, then by the sequence of ``op_key``: DynSlice before AllToAll before AllPermute before
AllGather, then lower dimensions, then axes in mesh order (of one mesh axis the whole axis, then its
sub-axes by pre-size and size), then the permutation's target printed; no two programs tie on all.

``optimum`` finds that program by ``astar.search``, which explores only what it needs of the graph;
``reference`` builds the whole graph and searches it (below), and a theorem checks that both return
the same program.

Every type is reached from τs by AllGathers (to the replicated type) and DynSlices (each premise of
a slice holds when the sizes of a well-formed type divide), so the nodes are the closure of τs
under the candidates that change the local shape; an AllPermute joins any two of them of equal
local shape. The graph has about a hundred nodes for 3 axes and rank 3; it grows with
``Σ_k C(a, k)·k!·C(k + r − 1, r − 1)`` over the k of the a axes used (3 axes, rank 3: 106 types, found
in about 40 ms; 4 axes, rank 3: 685 types, about 0.6 s; 4 axes, rank 4: 1,457 types, about 1.3 s), and
``reference`` refuses, with a located error, more than ``MAX_TYPES`` types (5 axes of size 2 already
have more), ``MAX_CANDIDATES`` candidate ops tried, or ``MAX_PERMUTE_WORK`` device comparisons for
the AllPermute edges.

The candidates are a parameter (``Candidates``): ``candidate_ops`` here, over the mesh's axes, or
``subaxes.candidate_ops``, which adds the sub-axes (strategy ``optimal-subaxes``). A new collective
needs only a candidate there, a typing rule in ``check`` and a cost rule in ``costs``; nothing else
here names an op but ``op_key`` (the tie-breaks) and ``permute_moved`` (AllPermute's traffic).
"""

from __future__ import annotations

import functools
import heapq
import itertools
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import numpy as np

from calculi.core.errors import TypeCheckError
from calculi.redistribution import astar, shapebound, typegraph
from calculi.redistribution.check import TYPING_RULES, same_problem, type_of_op
from calculi.redistribution.costs import COST_RULES
from calculi.redistribution.pretty import show_count, show_type
from calculi.redistribution.subaxes import candidate_ops as sub_axis_candidates
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
from calculi.redistribution.typegraph import OP_RANK, OpKey, SearchLimit, axis_key

MAX_TYPES = 4_000
"""The most types the search enumerates before refusing."""
MAX_CANDIDATES = 200_000
"""The most candidate ops the enumeration of the types may try."""
MAX_PERMUTE_WORK = 50_000_000
"""The most (pair of types × device × dimension) comparisons the AllPermute edges may cost."""


# -- the candidates and the graph ----------------------------------------------------------------


def candidate_ops(ty: DistType, mesh: Mesh, permutable: Iterable[DistType] = ()) -> Iterator[Op]:
    """Every op that could apply to ``ty``; the typing rules decide which do. ``permutable``: the
    types an AllPermute may go to (those of ``ty``'s local shape, once they are known)."""
    used = set(ty.used_axes)
    free = [a for a in mesh.names if a not in used]
    for i, d in enumerate(ty.dims):
        yield from (DynSlice(i, a) for a in free)
        if d.axes:
            yield AllGather(i, d.axes[-1])
            yield from (AllToAll(i, j, d.axes[-1]) for j in range(ty.rank) if j != i)
    yield from (AllPermute(other) for other in permutable if other != ty)


Candidates = Callable[[DistType, Mesh, Iterable[DistType]], Iterator[Op]]
"""A generator of candidate ops, like ``candidate_ops`` (``subaxes.candidate_ops`` adds sub-axes)."""


def _typed(ty: DistType, candidates: Iterable[Op], mesh: Mesh) -> Iterator[tuple[Op, DistType]]:
    """The candidates whose typing rule holds, with the type each leads to."""
    for op in candidates:
        try:
            yield op, type_of_op(op, ty, mesh)
        except TypeCheckError:
            continue


def show_shape(ty: DistType) -> str:
    shown = ", ".join(show_count(n) for n in ty.global_shape[:8])
    return f"[{shown}{', ...' if ty.rank > 8 else ''}]"


def _limit(reason: str, source: DistType, mesh: Mesh) -> SearchLimit:
    return SearchLimit(f"the optimal search would {reason}; use the paper strategy for problems this large",
                       source.span or mesh.span, rule="optimal")


Steps = dict[DistType, list[tuple[Op, DistType]]]


def _closure(source: DistType, mesh: Mesh, candidates: Candidates) -> Steps:
    """Every well-formed type of ``source``'s global shape, the closure of ``source`` under the ops
    that change the local shape (breadth-first), each with those ops and the types they reach."""
    steps: Steps = {}
    seen, frontier, tried = {source}, [source], 0
    while frontier:
        nxt: list[DistType] = []
        for ty in frontier:
            ops = list(candidates(ty, mesh, ()))
            tried += len(ops)
            if tried > MAX_CANDIDATES:
                raise _limit(f"try more than {MAX_CANDIDATES:,} collectives on types of global shape "
                             f"{show_shape(source)} on {mesh.device_count:,} devices", source, mesh)
            steps[ty] = list(_typed(ty, ops, mesh))
            for _, after in steps[ty]:
                if after not in seen:
                    seen.add(after)
                    nxt.append(after)
                    if len(seen) > MAX_TYPES:
                        raise _limit(f"visit more than {MAX_TYPES:,} types of global shape "
                                     f"{show_shape(source)} on {mesh.device_count:,} devices", source, mesh)
        frontier = nxt
    return steps


def _block_ids(ty: DistType, mesh: Mesh, along: dict[str, np.ndarray]) -> np.ndarray:
    """Which block of each dimension every device holds: the row-major index over its axes
    (``along[a]``: every device's coordinate along the axis or sub-axis ``a``)."""
    ids = np.zeros((ty.rank, mesh.device_count), dtype=np.int64)
    for i, d in enumerate(ty.dims):
        for a in d.axes:
            if a not in along:
                along[a] = np.array([mesh.coordinate(a, c) for c in mesh.devices()], dtype=np.int64)
            ids[i] = ids[i] * mesh.size(a) + along[a]
    return ids


@dataclass(frozen=True, slots=True)
class Graph:
    """The types, and from each the ops whose rules hold, with the type reached and elements moved."""

    mesh: Mesh
    types: list[DistType]
    edges: dict[DistType, list[tuple[Op, DistType, int]]]


def permute_moved(group: list[DistType], mesh: Mesh) -> np.ndarray:
    """Elements an AllPermute moves between any two types of one local shape: the local size on each
    device whose block differs (the others keep theirs), as a matrix indexed like ``group``."""
    along: dict[str, np.ndarray] = {}
    ids = np.stack([_block_ids(ty, mesh, along) for ty in group])
    differ = np.stack([(ids != ids[k]).any(axis=1).sum(axis=1) for k in range(len(group))])
    return differ.astype(object) * group[0].local_size


def build_graph(source: DistType, mesh: Mesh, candidates: Candidates | None = None) -> Graph:
    """The graph of ``source``'s global shape on ``mesh`` (the same from any type of that shape),
    built once per shape, mesh, candidates (default ``candidate_ops``) and rule tables."""
    replicated = DistType(tuple(Dim(n, (), n) for n in source.global_shape))
    candidates = candidates or candidate_ops
    rules = (permute_moved, tuple(TYPING_RULES.items()), tuple(COST_RULES.items()))
    try:
        return _graph(replicated, mesh, candidates, rules)
    except SearchLimit as err:
        raise SearchLimit(err.reason, source.span or mesh.span, rule=err.rule) from None


@functools.lru_cache(maxsize=32)
def _graph(source: DistType, mesh: Mesh, candidates: Candidates, rules: object) -> Graph:
    steps = _closure(source, mesh, candidates)
    devices = mesh.device_count
    groups: dict[tuple[int, ...], list[DistType]] = {}
    for ty in steps:
        groups.setdefault(ty.local_shape, []).append(ty)
    work = sum(len(g) ** 2 for g in groups.values()) * devices * source.rank
    if work > MAX_PERMUTE_WORK:
        raise _limit(f"compare {show_count(work)} device blocks for the AllPermutes among {len(steps):,} "
                     f"types (at most {MAX_PERMUTE_WORK:,})", source, mesh)
    first = next(iter(mesh.devices()))
    edges: dict[DistType, list[tuple[Op, DistType, int]]] = {
        ty: [(op, after, devices * COST_RULES[type(op)](op, ty, after, mesh, first).received)
             for op, after in out] for ty, out in steps.items()}
    for group in groups.values():
        if len(group) < 2:
            continue
        moved = permute_moved(group, mesh)
        index = {ty: k for k, ty in enumerate(group)}
        for k, ty in enumerate(group):
            edges[ty].extend((op, op.target, int(moved[k, index[op.target]]))
                             for op in _permutes(ty, group))
    return Graph(mesh, list(steps), edges)


def _permutes(ty: DistType, group: list[DistType]) -> Iterator[AllPermute]:
    """The AllPermutes from ``ty`` to the others of its ``group``: what both candidate generators
    offer for ``permutable`` (an AllPermute to each but ``ty``), without generating their other ops
    once more. Every type of the closure is a conclusion of a typing rule from a well-formed type,
    hence well-formed, and a group shares one global and one local shape: the premises of the
    AllPermute rule, so it holds without a well-formedness check per pair."""
    return (AllPermute(other) for other in group if other is not ty)


# -- the search ----------------------------------------------------------------------------------

def op_key(op: Op, mesh: Mesh) -> OpKey:
    """The order ties are broken by (see the module's docstring)."""
    match op:
        case DynSlice(dim=i, axis=x) | AllGather(dim=i, axis=x):
            return OP_RANK[type(op)], i, 0, axis_key(x, mesh), ""
        case AllToAll(src_dim=i, dst_dim=j, axis=x):
            return OP_RANK[AllToAll], i, j, axis_key(x, mesh), ""
        case AllPermute(target=t):
            return OP_RANK[AllPermute], 0, 0, (0, 0, 0), _shown(t)
    raise TypeError(op)


@functools.lru_cache(maxsize=8192)
def _shown(ty: DistType) -> str:
    return show_type(ty)


def least_bottleneck(graph: Graph, source: DistType, target: DistType) -> int:
    """The least peak of a program from ``source`` to ``target``: the smallest bound ``B`` such that
    ``target`` is reachable through types of local size at most ``B``."""
    sizes = sorted({t.local_size for t in graph.types if t.local_size >= max(source.local_size,
                                                                             target.local_size)})
    for bound in sizes:
        seen, stack = {source}, [source]
        while stack:
            ty = stack.pop()
            if ty == target:
                return bound
            for _, after, _ in graph.edges[ty]:
                if after not in seen and after.local_size <= bound:
                    seen.add(after)
                    stack.append(after)
    raise AssertionError("the replicated type joins every pair")  # pragma: no cover


Entry = tuple[int, int, tuple[OpKey, ...], int, DistType, int, Program]
"""A path in the search: moved, length, its ops' keys, a counter, the type reached, AllPermutes, ops."""


@dataclass(frozen=True, slots=True)
class Optimum:
    """The program found, its peak and the elements it moves (over all devices)."""

    program: Program
    peak: int
    moved: int


def search(source: DistType, target: DistType, mesh: Mesh, graph: Graph | None = None,
           bound: int | None = None, most_permutes: int | None = None,
           candidates: Candidates | None = None) -> Optimum | None:
    """The least ``(moved, length, op keys)`` program through types of local size at most ``bound``
    (default: the least bottleneck), with at most ``most_permutes`` AllPermutes (default: any), or
    ``None`` when there is none."""
    graph = graph or build_graph(source, mesh, candidates)
    if bound is None:
        bound = least_bottleneck(graph, source, target)
    cap = graph.mesh.device_count if most_permutes is None else most_permutes
    counter = itertools.count()
    start = (0, 0, (), next(counter), source, 0, ())
    heap: list[Entry] = [start]
    done: set[tuple[DistType, int]] = set()
    while heap:
        moved, length, keys, _, ty, permutes, program = heapq.heappop(heap)
        if ty == target:
            peak = max([source.local_size, *(t.local_size for t in _types(source, program, mesh))])
            return Optimum(program, peak, moved)
        state = (ty, permutes if most_permutes is not None else 0)
        if state in done:
            continue
        done.add(state)
        for op, after, cost in graph.edges[ty]:
            if after.local_size > bound:
                continue
            used = permutes + isinstance(op, AllPermute)
            if most_permutes is not None and used > cap:
                continue
            if (after, used if most_permutes is not None else 0) in done:
                continue
            heapq.heappush(heap, (moved + cost, length + 1, (*keys, op_key(op, mesh)), next(counter), after,
                                  used, (*program, op)))
    return None


def _types(source: DistType, program: Program, mesh: Mesh) -> list[DistType]:
    types = [source]
    for op in program:
        types.append(type_of_op(op, types[-1], mesh))
    return types


def clear_caches() -> None:
    """Forget every graph, atom table, bound table and printed type kept from earlier searches."""
    _graph.cache_clear()
    shapebound.table.cache_clear()
    _shown.cache_clear()
    typegraph.atoms.cache_clear()


def optimum(source: DistType, target: DistType, mesh: Mesh, candidates: Candidates | None = None) -> Optimum:
    """The least program: by ``astar.search`` for the two candidate generators it knows (the mesh's
    axes, and with sub-axes), else (or for types over other axes) by ``reference``."""
    same_problem(source, target, mesh)
    if source == target:
        return Optimum((), source.local_size, 0)
    if candidates is None or candidates is sub_axis_candidates:
        fast = astar.search(source, target, mesh, subaxes=candidates is not None)
        if fast is not None:
            return Optimum(fast.program, fast.peak, fast.moved)
    return reference(source, target, mesh, candidates)


def reference(source: DistType, target: DistType, mesh: Mesh,
              candidates: Candidates | None = None) -> Optimum:
    """The least program by ``search`` over the whole graph ``build_graph`` makes (the oracle of
    ``astar``)."""
    same_problem(source, target, mesh)
    if source == target:
        return Optimum((), source.local_size, 0)
    found = search(source, target, mesh, candidates=candidates)
    assert found is not None, "the least bottleneck admits a path"
    return found


def optimal(source: DistType, target: DistType, mesh: Mesh) -> Program:
    """The least peak, then the least elements moved, then the tie-breaks of the module's docstring."""
    return optimum(source, target, mesh).program
