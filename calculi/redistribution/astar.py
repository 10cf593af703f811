"""The optimal search, fast: A* over the type graph, generated only where the search goes.

The same answer as ``optimal.search`` over ``optimal.build_graph`` (a theorem checks it, program for
program): the least bottleneck ``B*``, then the least ``(moved, length, op keys)`` program through
types of local size at most ``B*``. What makes it fast:

* a type is a tuple, per dimension, of the indices of its (sub-)axes (*atoms*), and the typing rules
  of DynSlice, AllGather and AllToAll are read off it directly (an atom may slice when it overlaps no
  used atom: a bit mask per atom of those it overlaps);
* the neighbours of a type are made when the search first pops it; the AllPermutes reach every type
  of its local shape (its *group*), enumerated once per local shape, and their costs are one NumPy
  comparison of the group's blocks against the popped type's;
* the search is A*, ordered by ``(moved + h, length, op keys)`` with the admissible and consistent
  bound ``h(τ) = Σ_c |T(c) \\ τ(c)|``: every element of its target block a device does not hold it
  must receive (each op's cost rule counts at least the elements it newly holds, and a step from τ
  to τ' receives at least |τ'(c) \\ τ(c)|). On the paths to one type ``h`` is one constant, so the
  order among them is the plain search's, and the first time the target is popped its path is the
  least, tie-breaks included;
* ``B*``: the search runs with the bound ``max(|τs|, |τt|)``; when it exhausts the types under it
  without reaching τt, the bound rises to the least local size a step was refused for, and it runs
  again (so ``B*`` is the least bound under which τt is reachable, as in ``least_bottleneck``).

The search refuses, with a located error, a group of more than ``MAX_GROUP`` types, more than
``MAX_POPPED`` types popped, or more than ``syntax.MAX_DEVICES`` devices.
"""

from __future__ import annotations

import functools
import heapq
import itertools
import math
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from calculi.core.errors import CalculusError
from calculi.redistribution.check import type_of_op
from calculi.redistribution.pretty import show_count, show_type
from calculi.redistribution.subaxes import all_axes
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
    is_sub_axis,
    overlap,
)

MAX_GROUP = 20_000
"""The most types of one local shape the search enumerates before refusing."""
MAX_POPPED = 20_000
"""The most types the search expands before refusing."""


class SearchLimit(CalculusError):
    kind = "search limit"


OP_RANK: dict[type, int] = {DynSlice: 0, AllToAll: 1, AllPermute: 2, AllGather: 3}
AxisKey = tuple[int, int, int]
OpKey = tuple[int, int, int, AxisKey, object]
"""Op class, dimensions, the axis (``axis_key``), and the printed AllPermute target."""


def axis_key(axis: str, mesh: Mesh) -> AxisKey:
    """Axes in mesh order; of one mesh axis the whole axis first, then its sub-axes by pre-size and
    size (so that two ops of one class on one dimension never tie)."""
    _, pre, size = axis_parts(axis)
    return mesh.index(axis), pre, 0 if size is None else size


Code = tuple[tuple[int, ...], ...]
"""A type: per dimension, the indices of its atoms, major → minor."""


@dataclass(frozen=True, slots=True)
class Atoms:
    """The (sub-)axes a search may use, their sizes, their overlaps and every device's coordinates."""

    mesh: Mesh
    names: tuple[str, ...]
    sizes: tuple[int, ...]
    clash: tuple[int, ...]
    keys: tuple[AxisKey, ...]
    coords: NDArray[np.int64]
    index: dict[str, int] = field(compare=False)


@functools.lru_cache(maxsize=64)
def atoms(mesh: Mesh, subaxes: bool) -> Atoms:
    """The mesh's axes (with ``subaxes``, also every sub-axis), as ``candidate_ops`` offers them."""
    names = tuple(all_axes(mesh)) if subaxes else mesh.names
    clash = tuple(sum(1 << k for k, b in enumerate(names)
                      if b == a or (base_axis(a) == base_axis(b) and overlap(a, b, mesh.size(base_axis(a)))))
                  for a in names)
    grid = np.indices(mesh.shape, dtype=np.int64).reshape(len(mesh.shape), -1)
    coords = np.zeros((len(names), mesh.device_count), dtype=np.int64)
    for k, a in enumerate(names):
        _, pre, size = axis_parts(a)
        column = grid[mesh.index(a)]
        coords[k] = column if size is None else column // (mesh.size(base_axis(a)) // (pre * size)) % size
    return Atoms(mesh, names, tuple(mesh.size(a) for a in names), clash,
                 tuple(axis_key(a, mesh) for a in names), coords, {a: k for k, a in enumerate(names)})


class Shown:
    """An AllPermute target in an op key: equal when the types are, ordered by the printed types
    (printed only when two paths tie up to it)."""

    __slots__ = ("code", "search")

    def __init__(self, code: Code, search: Search) -> None:
        self.code, self.search = code, search

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Shown) and self.code == other.code

    def __hash__(self) -> int:
        return hash(self.code)

    def __lt__(self, other: Shown) -> bool:
        return self.search.shown(self.code) < self.search.shown(other.code)

    def __le__(self, other: Shown) -> bool:
        return self == other or self < other


@dataclass(slots=True)
class Group:
    """The types of one local shape: their block signature per device (equal iff same block), the
    bound ``h`` of each, and the least moved each has been reached with (−1 once expanded)."""

    codes: list[Code]
    index: dict[Code, int]
    signature: NDArray[np.int64]
    h: NDArray[np.int64]
    best: NDArray[np.int64]


Step = tuple[str, int, int, int, Code]
"""An op in the search: its class, dimensions, atom, and the type it reaches."""
Path = tuple["Path", Step] | None
Entry = tuple[int, int, tuple[OpKey, ...], int, int, Code, Path]
"""f = moved + h, length, op keys, counter, moved, the type reached, the path (linked backwards)."""

BIG = 1 << 62
KIND_RANK = {"slice": OP_RANK[DynSlice], "gather": OP_RANK[AllGather], "all_to_all": OP_RANK[AllToAll]}


class Search:
    """One search: a global shape on a mesh over ``atoms``, towards ``target``."""

    def __init__(self, at: Atoms, shape: tuple[int, ...], target: Code, span: object) -> None:
        self.at, self.shape, self.target, self.span = at, shape, target, span
        self.devices = at.mesh.device_count
        self.exact = self.devices * math.prod(shape) < 1 << 40  # h and costs fit in int64 with room
        self.groups: dict[tuple[int, ...], Group] = {}
        self.seq_rows: dict[tuple[int, ...], int] = {}
        self.seq_ids: list[NDArray[np.int64]] = []
        self.table: NDArray[np.int64] = np.zeros((0, self.devices), dtype=np.int64)
        self.h_cache: dict[Code, int] = {}
        self.shown_cache: dict[Code, str] = {}
        self.locals: dict[Code, tuple[int, ...]] = {}
        self.sequences: dict[tuple[int, int], list[tuple[tuple[int, ...], int]]] = {}
        self.target_local = self.local(target)
        self.target_offsets: NDArray[np.int64] | None = None
        if self.exact:
            local = np.array(self.target_local, dtype=np.int64)
            self.target_offsets = self.block_ids([target])[0] * local[:, None]

    # -- types ---------------------------------------------------------------------------------

    def local(self, code: Code) -> tuple[int, ...]:
        if code not in self.locals:
            sizes = self.at.sizes
            self.locals[code] = tuple(n // math.prod(sizes[a] for a in d)
                                      for n, d in zip(self.shape, code, strict=True))
        return self.locals[code]

    def dist_type(self, code: Code) -> DistType:
        names = self.at.names
        return DistType(tuple(Dim(n, tuple(names[a] for a in d), size)
                              for n, d, size in zip(self.local(code), code, self.shape, strict=True)))

    def shown(self, code: Code) -> str:
        if code not in self.shown_cache:
            self.shown_cache[code] = show_type(self.dist_type(code))
        return self.shown_cache[code]

    def row(self, seq: tuple[int, ...]) -> int:
        """The row of ``seq`` in ``seq_ids``: every device's block index along a dimension split by
        ``seq`` (row-major over it)."""
        if seq not in self.seq_rows:
            out = np.zeros(self.devices, dtype=np.int64)
            for a in seq:
                out = out * self.at.sizes[a] + self.at.coords[a]
            self.seq_rows[seq] = len(self.seq_ids)
            self.seq_ids.append(out)
        return self.seq_rows[seq]

    def block_ids(self, codes: list[Code]) -> NDArray[np.int64]:
        """(types × dimensions × devices) block indices."""
        rows = [[self.row(d) for d in code] for code in codes]
        if len(codes) < 16:
            return np.array([[self.seq_ids[r] for r in row] for row in rows], dtype=np.int64)
        if len(self.table) != len(self.seq_ids):
            self.table = np.stack(self.seq_ids)
        out: NDArray[np.int64] = self.table[np.array(rows, dtype=np.int64)]
        return out

    def h_many(self, codes: list[Code], ids: NDArray[np.int64] | None = None) -> NDArray[np.int64]:
        """``h`` of types of one local shape (``ids``: their ``block_ids``): the elements of the
        target's blocks they lack."""
        if not self.exact:
            return np.zeros(len(codes), dtype=np.int64)
        assert self.target_offsets is not None
        local = np.array(self.local(codes[0]), dtype=np.int64)
        start = (self.block_ids(codes) if ids is None else ids) * local[None, :, None]
        t_start, t_local = self.target_offsets, np.array(self.target_local, dtype=np.int64)
        lo = np.maximum(start, t_start[None])
        hi = np.minimum(start + local[None, :, None], (t_start + t_local[:, None])[None])
        common = np.clip(hi - lo, 0, None).prod(axis=1).sum(axis=1)
        lacking: NDArray[np.int64] = self.devices * math.prod(self.target_local) - common
        return lacking

    def h(self, code: Code) -> int:
        if code not in self.h_cache:
            group = self.groups.get(self.local(code))
            if group is not None:
                self.h_cache[code] = int(group.h[group.index[code]])
            else:
                self.h_cache[code] = int(self.h_many([code])[0])
        return self.h_cache[code]

    # -- the graph -----------------------------------------------------------------------------

    def group(self, local: tuple[int, ...]) -> Group:
        if local not in self.groups:
            codes = list(self.enumerate(local))
            ids = self.block_ids(codes)
            signature = np.zeros((len(codes), self.devices), dtype=np.int64)
            for i, (n, size) in enumerate(zip(local, self.shape, strict=True)):
                signature = signature * (size // n) + ids[:, i, :]
            self.groups[local] = Group(codes, {c: k for k, c in enumerate(codes)}, signature,
                                       self.h_many(codes, ids), np.full(len(codes), BIG, dtype=np.int64))
        return self.groups[local]

    def enumerate(self, local: tuple[int, ...]) -> Iterator[Code]:
        """Every well-formed type of ``local`` shape: per dimension, every sequence of atoms that
        overlap none taken before and whose sizes multiply to ``N / n``."""
        sizes, clash = self.at.sizes, self.at.clash
        parts = [n // m for n, m in zip(self.shape, local, strict=True)]

        def seqs(need: int, used: int) -> list[tuple[tuple[int, ...], int]]:
            if (need, used) not in self.sequences:
                out: list[tuple[tuple[int, ...], int]] = [((), used)] if need == 1 else []
                for a, s in enumerate(sizes):
                    if not clash[a] & used and need % s == 0:
                        out.extend(((a, *rest), after) for rest, after in seqs(need // s, used | 1 << a))
                        if len(out) > MAX_GROUP:
                            raise self.limit(f"enumerate more than {MAX_GROUP:,} types of local shape "
                                             f"{list(local)}")
                self.sequences[need, used] = out
            return self.sequences[need, used]

        def dims(i: int, used: int) -> Iterator[Code]:
            if i == len(parts):
                yield ()
                return
            for seq, after in seqs(parts[i], used):
                for rest in dims(i + 1, after):
                    yield (seq, *rest)

        for count, code in enumerate(dims(0, 0)):
            if count >= MAX_GROUP:
                raise self.limit(f"enumerate more than {MAX_GROUP:,} types of local shape {list(local)}")
            yield code

    def limit(self, reason: str) -> SearchLimit:
        return SearchLimit(f"the optimal search would {reason}; use the paper strategy for problems this "
                           "large", self.span, rule="optimal")  # type: ignore[arg-type]

    def steps(self, code: Code, local: tuple[int, ...]) -> Iterator[tuple[Step, int, tuple[int, ...]]]:
        """The DynSlices, AllGathers and AllToAlls the typing rules allow from ``code``, each with
        the elements it moves (over all devices) and the local shape it leads to."""
        sizes, clash, size = self.at.sizes, self.at.clash, math.prod(local)
        used = 0
        for d in code:
            for a in d:
                used |= 1 << a
        for i, d in enumerate(code):
            for a, s in enumerate(sizes):
                if not clash[a] & used and local[i] % s == 0:
                    after = (*code[:i], (*d, a), *code[i + 1 :])
                    yield ("slice", i, i, a, after), 0, (*local[:i], local[i] // s, *local[i + 1 :])
            if not d:
                continue
            a, s = d[-1], sizes[d[-1]]
            gathered = (*code[:i], d[:-1], *code[i + 1 :])
            yield (("gather", i, i, a, gathered), self.devices * (s - 1) * size,
                   (*local[:i], local[i] * s, *local[i + 1 :]))
            for j, e in enumerate(code):
                if j != i and local[j] % s == 0:
                    moved = (*gathered[:j], (*e, a), *gathered[j + 1 :])
                    shape = list(local)
                    shape[i], shape[j] = local[i] * s, local[j] // s
                    yield ("all_to_all", i, j, a, moved), self.devices * ((s - 1) * size // s), tuple(shape)

    def differ(self, group: Group, k: int) -> NDArray[np.int64]:
        """For each type of ``group``, the devices whose block differs from theirs in its ``k``-th:
        those an AllPermute between the two moves a block to."""
        out: NDArray[np.int64] = (group.signature != group.signature[k]).sum(axis=1)
        return out

    def key(self, step: Step) -> OpKey:
        kind, i, j, a, after = step
        if kind == "permute":
            return OP_RANK[AllPermute], 0, 0, (0, 0, 0), Shown(after, self)
        return KIND_RANK[kind], i, j if kind == "all_to_all" else 0, self.at.keys[a], ""

    def op(self, step: Step) -> Op:
        kind, i, j, a, after = step
        name = self.at.names[a] if a >= 0 else ""
        if kind == "slice":
            return DynSlice(i, name)
        if kind == "gather":
            return AllGather(i, name)
        if kind == "all_to_all":
            return AllToAll(i, j, name)
        return AllPermute(self.dist_type(after))

    # -- A* --------------------------------------------------------------------------------------

    def run(self, source: Code, bound: int, ceiling: float = math.inf) -> tuple[Path, int] | int:
        """The least path to the target through types of local size at most ``bound``, with the
        elements it moves; or, when there is none, the least local size a step was refused for.
        ``ceiling``: a number of elements some path under ``bound`` moves (paths that must move more
        are not pushed)."""
        for group in self.groups.values():  # what an earlier run under a lower bound reached
            group.best.fill(BIG)
        counter = itertools.count()
        heap: list[Entry] = [(self.h(source), 0, (), next(counter), 0, source, None)]
        best: dict[Code, tuple[int, int, tuple[OpKey, ...]]] = {source: (0, 0, ())}
        done: set[Code] = set()
        refused, popped = -1, 0

        def push(moved: int, length: int, keys: tuple[OpKey, ...], step: Step, path: Path) -> None:
            nonlocal ceiling  # lowered to the least moved the target has been pushed with
            after = step[4]
            f = moved + self.h(after)
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
            heapq.heappush(heap, (f, length, keys, next(counter), moved, after, (path, step)))

        while heap:
            _, length, keys, _, moved, code, path = heapq.heappop(heap)
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
                chosen = np.flatnonzero((reach <= group.best) & (reach + group.h <= ceiling))
            else:
                chosen = np.array([m for m in range(len(group.codes)) if m != k], dtype=np.int64)
            for m in chosen.tolist():
                if m != k:
                    step = ("permute", 0, 0, -1, group.codes[m])
                    push(moved + math.prod(local) * int(differ[m]), length + 1, (*keys, self.key(step)),
                         step, path)
        return refused


def encode(ty: DistType, at: Atoms) -> Code | None:
    """``ty`` over ``at``'s atoms, or ``None`` when it uses an axis they do not have."""
    if not all(a in at.index for a in ty.used_axes):
        return None
    return tuple(tuple(at.index[a] for a in d.axes) for d in ty.dims)


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
