"""The optimal search, fast: A* over the type graph, generated only where the search goes (``typegraph``).

The same answer as ``optimal.search`` over ``optimal.build_graph`` (a theorem checks it, program for
program): the least bottleneck ``B*``, then the least ``(moved, length, op keys)`` program through
types of local size at most ``B*``. What makes it fast:

* the neighbours of a type are made when the search first pops it (``typegraph``);
* the search is A*, ordered by ``(moved + h, length + ops, op keys)`` with the admissible and
  consistent bound ``h`` the larger of two: ``Σ_c |T(c) \\ τ(c)|``, every element of its target block a device
  does not hold it must receive (each op's cost rule counts at least the elements it newly holds,
  and a step from τ to τ' receives at least |τ'(c) \\ τ(c)|); and the traffic the change of local
  shape from τ's to the target's forces (``shapebound``, under the search's bound), which prices
  a chain of AllToAlls where the first sees only the data; ``ops`` the fewest ops that change the
  local shape (``shapebound`` says why the pair is consistent). On the paths to one type ``h`` and
  ``ops`` are constants, so the order among them is the plain search's, and the first time the
  target is popped its path is the least, tie-breaks included;
* ``B*``: the search runs with the bound ``max(|τs|, |τt|)``; when it exhausts the types under it
  without reaching τt, the bound rises to the least local size a step was refused for, and it runs
  again (so ``B*`` is the least bound under which τt is reachable, as in ``least_bottleneck``).

The search refuses, with a located error, a group of more than ``MAX_GROUP`` types, more than
``MAX_POPPED`` types popped, or more than ``syntax.MAX_DEVICES`` devices.
"""

from __future__ import annotations

import heapq
import itertools
import math
from dataclasses import dataclass

import numpy as np

from calculi.redistribution import shapebound
from calculi.redistribution.check import type_of_op
from calculi.redistribution.pretty import show_count
from calculi.redistribution.syntax import MAX_DEVICES, DistType, Mesh, Program, is_sub_axis
from calculi.redistribution.typegraph import (
    BIG,
    Code,
    OpKey,
    SearchLimit,
    Step,
    TypeGraph,
    atoms,
    encode,
)

MAX_POPPED = 20_000
"""The most types the search expands before refusing."""

Path = tuple["Path", Step] | None
Entry = tuple[int, int, tuple[OpKey, ...], int, int, int, Code, Path]
"""f = moved + h, length + the ops still needed, op keys, counter, moved, length, the type reached, the
path (linked backwards)."""


class Search(TypeGraph):
    """One search: a global shape on a mesh over ``atoms``, towards ``target``."""

    def reshape_table(self, bound: int) -> dict[tuple[int, ...], tuple[int, int]]:
        """``shapebound.table`` towards the target under ``bound`` (empty: the search goes without)."""
        if not self.exact:
            return {}
        sizes = self.at.sizes
        parts = tuple(math.prod(sizes[a] for a in d) for d in self.target)
        found = shapebound.table(self.shape, parts, frozenset(sizes), self.devices, bound)
        return {} if found is None else found

    # -- A* --------------------------------------------------------------------------------------

    def run(self, source: Code, bound: int, ceiling: float = math.inf) -> tuple[Path, int] | int:
        """The least path to the target through types of local size at most ``bound``, with the
        elements it moves; or, when there is none, the least local size a step was refused for.
        ``ceiling``: a number of elements some path under ``bound`` moves (paths that must move more
        are not pushed)."""
        for group in self.groups.values():  # what an earlier run under a lower bound reached
            group.best.fill(BIG)
        reshape = self.reshape_table(bound)

        def h(code: Code) -> tuple[int, int]:
            moved, ops = reshape.get(self.local(code), (0, 0))
            return max(self.h(code), moved), ops

        counter = itertools.count()
        h_moved, h_ops = h(source)
        heap: list[Entry] = [(h_moved, h_ops, (), next(counter), 0, 0, source, None)]
        best: dict[Code, tuple[int, int, tuple[OpKey, ...]]] = {source: (0, 0, ())}
        done: set[Code] = set()
        refused, popped = -1, 0

        def push(moved: int, length: int, keys: tuple[OpKey, ...], step: Step, path: Path) -> None:
            nonlocal ceiling  # lowered to the least moved the target has been pushed with
            after = step[4]
            h_moved, h_ops = h(after)
            f = moved + h_moved
            if f > ceiling or after in done:
                return
            label = (moved, length, keys)
            if after in best and best[after] <= label:
                return
            best[after] = label
            group = self.groups.get(self.local(after))
            if group is not None and self.exact:
                group.best[group.index[after]] = min(int(group.best[group.index[after]]), moved)
            if after == self.target:
                ceiling = min(ceiling, moved)  # exact: compared with ints only
            heapq.heappush(heap, (f, length + h_ops, keys, next(counter), moved, length, after, (path, step)))

        while heap:
            _, _, keys, _, moved, length, code, path = heapq.heappop(heap)
            if code in done:
                continue
            if code == self.target:
                return path, moved
            done.add(code)
            popped += 1
            if popped > MAX_POPPED:
                raise self.limit(f"expand more than {MAX_POPPED:,} types")
            local = self.local(code)
            for step, cost, after_local in self.steps(code, local):
                size = math.prod(after_local)
                if size > bound:
                    refused = size if refused < 0 else min(refused, size)
                    continue
                push(moved + cost, length + 1, (*keys, self.key(step)), step, path)
            group = self.group(local)
            k = group.index[code]
            group.best[k] = -1
            if path is not None and path[1][0] == "permute":
                continue  # a second AllPermute in a row: the first alone reaches the same for less
            differ = self.differ(group, k)
            if self.exact:
                reach = moved + math.prod(local) * differ
                left = np.maximum(group.h, reshape.get(local, (0, 0))[0])
                chosen = np.flatnonzero((reach <= group.best) & (reach + left <= ceiling))
            else:
                chosen = np.array([m for m in range(len(group.codes)) if m != k], dtype=np.int64)
            for m in chosen.tolist():
                if m != k:
                    step = ("permute", 0, 0, -1, group.codes[m])
                    push(moved + math.prod(local) * int(differ[m]), length + 1, (*keys, self.key(step)),
                         step, path)
        return refused



@dataclass(frozen=True, slots=True)
class Found:
    program: Program
    peak: int
    moved: int


def search(source: DistType, target: DistType, mesh: Mesh, subaxes: bool) -> Found | None:
    """The least ``(peak, moved, length, op keys)`` program from ``source`` to ``target`` over the
    mesh's axes (and, with ``subaxes``, its sub-axes); ``None`` when a type uses an axis outside
    them. Both types must be well formed and of one global shape."""
    span = source.span or mesh.span
    if mesh.device_count > MAX_DEVICES:
        raise SearchLimit(f"the optimal search would compare blocks on {show_count(mesh.device_count)} "
                          f"devices (at most {MAX_DEVICES:,}); use the paper strategy for problems this "
                          "large",
                          span, rule="optimal")
    at = atoms(mesh, subaxes)
    start, goal = encode(source, at), encode(target, at)
    if start is None or goal is None:
        return None
    run = Search(at, source.global_shape, goal, span)
    bound = max(source.local_size, target.local_size)
    ceiling: float = math.inf
    if subaxes and not any(is_sub_axis(a) for a in (*source.used_axes, *target.used_axes)):
        plain = search(source, target, mesh, False)  # over fewer axes: a ceiling, if under the bound
        if plain is not None and plain.peak <= bound:
            ceiling = plain.moved
    while True:
        result = run.run(start, bound, ceiling)
        if isinstance(result, tuple):
            break
        assert result > bound, "the replicated type joins every pair"
        bound = result
    path, moved = result
    steps: list[Step] = []
    while path is not None:
        path, step = path
        steps.append(step)
    program = tuple(run.op(step) for step in reversed(steps))
    peak, ty = source.local_size, source
    for op in program:
        ty = type_of_op(op, ty, mesh)
        peak = max(peak, ty.local_size)
    return Found(program, peak, moved)
