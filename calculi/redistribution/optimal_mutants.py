"""Seeded bugs in the optimal search that its theorems (``redistribution.optimal``) must kill.

* ``optimal.permute_moves_everyone``: an AllPermute is costed as moving every device's block,
  forgetting the devices that already hold theirs.
* ``optimal.no_all_to_all``: the candidates forget AllToAll.
* ``optimal.slice_unsplit_only``: the candidates slice only dimensions no axis splits yet.
* ``optimal.gather_cost_one_device``: collectives other than AllPermute are costed on one device,
  not summed over the mesh.
* ``optimal.astar_bound_counts_held``: the fast search's bound counts the target elements a device
  holds, not those it lacks (no longer a lower bound).
* ``optimal.astar_permute_moves_everyone``: the fast search costs an AllPermute as moving every
  device's block.
* ``optimal.shape_bound_over_by_one``: the bound of the traffic a change of local shape forces
  (``shapebound``) is one element over, wherever it is positive (no longer a lower bound).
* ``optimal.shape_bound_one_more_op``: the fewest ops that change the local shape (``shapebound``)
  are one over, wherever positive.
* ``optimal.shape_bound_no_all_to_all``: that bound forgets AllToAll, so a change of shape is
  priced as gathers (no longer a lower bound).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

import numpy as np

from calculi.core.mutants import Mutant, patch
from calculi.redistribution import optimal, shapebound, typegraph
from calculi.redistribution.syntax import AllPermute, AllToAll, DistType, DynSlice, Mesh, Op

THEOREMS = "redistribution.optimal"


def _permute_moves_everyone(group: list[DistType], mesh: Mesh) -> np.ndarray:
    moved = optimal.permute_moved(group, mesh)
    everyone = np.full(moved.shape, mesh.device_count * group[0].local_size, dtype=object)
    np.fill_diagonal(everyone, 0)
    return everyone


_candidates = optimal.candidate_ops


def _no_all_to_all(ty: DistType, mesh: Mesh, permutable: Iterable[DistType] = ()) -> Iterator[Op]:
    return (op for op in _candidates(ty, mesh, permutable) if not isinstance(op, AllToAll))


def _slice_unsplit_only(ty: DistType, mesh: Mesh, permutable: Iterable[DistType] = ()) -> Iterator[Op]:
    return (op for op in _candidates(ty, mesh, permutable)
            if not (isinstance(op, DynSlice) and ty.dims[op.dim].axes))


_build_graph = optimal.build_graph


def _one_device(source: DistType, mesh: Mesh) -> optimal.Graph:
    graph = _build_graph(source, mesh)
    devices = mesh.device_count
    edges = {ty: [(op, after, moved if isinstance(op, AllPermute) else moved // devices)
                  for op, after, moved in out] for ty, out in graph.edges.items()}
    return optimal.Graph(graph.mesh, graph.types, edges)


_h_many = typegraph.TypeGraph.h_many


def _bound_counts_held(self: typegraph.TypeGraph, codes: list[typegraph.Code],
                       overlaps: list[tuple[int, ...]]) -> np.ndarray:
    lacking = _h_many(self, codes, overlaps)
    return self.devices * math.prod(self.target_local) - lacking


def _astar_everyone(self: typegraph.TypeGraph, group: typegraph.Group, k: int) -> np.ndarray:
    everyone = np.full(len(group.codes), self.devices, dtype=np.int64)
    everyone[k] = 0
    return everyone


_table = shapebound.table
_moves = shapebound.moves


def _over_by_one(shape: tuple[int, ...], target: tuple[int, ...], sizes: frozenset[int], devices: int,
                 bound: int) -> dict[tuple[int, ...], tuple[int, int]] | None:
    found = _table(shape, target, sizes, devices, bound)
    return None if found is None else {s: (cost + (cost > 0), ops) for s, (cost, ops) in found.items()}


def _one_more_op(shape: tuple[int, ...], target: tuple[int, ...], sizes: frozenset[int], devices: int,
                 bound: int) -> dict[tuple[int, ...], tuple[int, int]] | None:
    found = _table(shape, target, sizes, devices, bound)
    return None if found is None else {s: (cost, ops + (ops > 0)) for s, (cost, ops) in found.items()}


@contextmanager
def _no_all_to_all_bound() -> Iterator[None]:
    with patch(shapebound, "moves", _moves_no_all_to_all), patch(shapebound, "table", _table.__wrapped__):
        yield  # the table uncached, so that no table made by the bug outlives it


def _moves_no_all_to_all(parts: tuple[int, ...], shape: tuple[int, ...], sizes: frozenset[int], devices: int,
                         bound: int) -> list[tuple[tuple[int, ...], int]]:
    return [(after, cost) for after, cost in _moves(parts, shape, sizes, devices, bound)
            if sum(a != p for a, p in zip(after, parts, strict=True)) < 2]


MUTANTS = [
    Mutant("redistribution.optimal.permute_moves_everyone", "redistribution",
           "the optimal search costs an AllPermute as moving every device's block",
           lambda: patch(optimal, "permute_moved", _permute_moves_everyone), THEOREMS),
    Mutant("redistribution.optimal.no_all_to_all", "redistribution",
           "the optimal search's candidates forget AllToAll",
           lambda: patch(optimal, "candidate_ops", _no_all_to_all), THEOREMS),
    Mutant("redistribution.optimal.slice_unsplit_only", "redistribution",
           "the optimal search's candidates slice only dimensions that no axis splits yet",
           lambda: patch(optimal, "candidate_ops", _slice_unsplit_only), THEOREMS),
    Mutant("redistribution.optimal.gather_cost_one_device", "redistribution",
           "the optimal search costs collectives other than AllPermute on one device only",
           lambda: patch(optimal, "build_graph", _one_device), THEOREMS),
    Mutant("redistribution.optimal.astar_bound_counts_held", "redistribution",
           "the fast optimal search bounds what is left by the target elements a device holds",
           lambda: patch(typegraph.TypeGraph, "h_many", _bound_counts_held), THEOREMS),
    Mutant("redistribution.optimal.astar_permute_moves_everyone", "redistribution",
           "the fast optimal search costs an AllPermute as moving every device's block",
           lambda: patch(typegraph.TypeGraph, "differ", _astar_everyone), THEOREMS),
    Mutant("redistribution.optimal.shape_bound_over_by_one", "redistribution",
           "the fast optimal search's bound of the traffic a change of local shape forces is one over",
           lambda: patch(shapebound, "table", _over_by_one), THEOREMS),
    Mutant("redistribution.optimal.shape_bound_one_more_op", "redistribution",
           "the fast optimal search's bound of the ops a change of local shape needs is one over",
           lambda: patch(shapebound, "table", _one_more_op), THEOREMS),
    Mutant("redistribution.optimal.shape_bound_no_all_to_all", "redistribution",
           "the fast optimal search's bound of the traffic a change of local shape forces forgets AllToAll",
           _no_all_to_all_bound, THEOREMS),
]
