"""The type graph as the fast optimal search (``astar``) generates it: only where the search goes.

* a type is a tuple, per dimension, of the indices of its (sub-)axes (*atoms*), and the typing rules
  of DynSlice, AllGather and AllToAll are read off it directly (an atom may slice when it overlaps no
  used atom: a bit mask per atom of those it overlaps);
* the neighbours of a type are made when the search first pops it; the AllPermutes reach every type
  of its local shape (its *group*), enumerated once per local shape, and their costs are one NumPy
  comparison of the group's blocks against the popped type's;
* a group is built a dimension at a time from the sequences of atoms kept per (size, atoms
  used), and each new sequence's row of block indices (``seq_ids``) and of overlaps with the
  target (``overlaps``) is computed for all of them at once, in tables that grow by doubling;
* the bound ``h(τ) = Σ_c |T(c) \\ τ(c)|`` (the elements of its target block each device lacks) is
  the sum over devices of a product over dimensions of those one-dimensional overlaps.

A group of more than ``MAX_GROUP`` types is refused with a located error.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from calculi.core.errors import CalculusError
from calculi.redistribution.pretty import show_type
from calculi.redistribution.subaxes import all_axes
from calculi.redistribution.syntax import (
    AllGather,
    AllPermute,
    AllToAll,
    Dim,
    DistType,
    DynSlice,
    Mesh,
    Op,
    axis_parts,
    base_axis,
    overlap,
)

MAX_GROUP = 20_000
"""The most types of one local shape the search enumerates before refusing."""


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
    """An AllPermute target in an op key: one per type and search (so equal when the types are),
    ordered by the printed types (printed only when two paths tie up to it)."""

    __slots__ = ("code", "search")

    def __init__(self, code: Code, search: TypeGraph) -> None:
        self.code, self.search = code, search

    def __lt__(self, other: Shown) -> bool:
        return self.search.shown(self.code) < self.search.shown(other.code)

    def __le__(self, other: Shown) -> bool:
        return self is other or self < other


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

BIG = 1 << 62
KIND_RANK = {"slice": OP_RANK[DynSlice], "gather": OP_RANK[AllGather], "all_to_all": OP_RANK[AllToAll]}


class Rows:
    """A table of per-device rows that grows by doubling."""

    __slots__ = ("count", "table")

    def __init__(self, devices: int) -> None:
        self.table: NDArray[np.int64] = np.zeros((16, devices), dtype=np.int64)
        self.count = 0

    def add(self, row: NDArray[np.int64]) -> int:
        return self.extend(row[None])

    def extend(self, rows: NDArray[np.int64]) -> int:
        """Appends ``rows``; the index of the first."""
        while self.count + len(rows) > len(self.table):
            self.table = np.concatenate([self.table, np.zeros_like(self.table)])
        self.table[self.count : self.count + len(rows)] = rows
        self.count += len(rows)
        return self.count - len(rows)


class TypeGraph:
    """The graph of one search: a global shape on a mesh over ``atoms``, towards ``target``."""

    def __init__(self, at: Atoms, shape: tuple[int, ...], target: Code, span: object) -> None:
        self.at, self.shape, self.target, self.span = at, shape, target, span
        self.devices = at.mesh.device_count
        self.exact = self.devices * math.prod(shape) < 1 << 40  # h and costs fit in int64 with room
        self.groups: dict[tuple[int, ...], Group] = {}
        self.seq_rows: dict[tuple[int, ...], int] = {}
        self.seq_ids = Rows(self.devices)
        self.overlap_rows: dict[tuple[int, int], int] = {}
        self.overlaps = Rows(self.devices)
        self.h_cache: dict[Code, int] = {}
        self.shown_cache: dict[Code, str] = {}
        self.permute_keys: dict[Code, OpKey] = {}
        self.locals: dict[Code, tuple[int, ...]] = {}
        self.sequences: dict[tuple[int, int], list[tuple[tuple[int, ...], int, int]]] = {}
        self.dim_options: dict[tuple[int, int, int], list[tuple[tuple[int, ...], int, int, int]]] = {}
        self.target_local = self.local(target)
        self.target_rows = tuple(self.row(d) for d in target)
        self.lacking_at_most = self.devices * math.prod(self.target_local)

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
            self.seq_rows[seq] = self.seq_ids.add(out)
        return self.seq_rows[seq]

    def overlap_row(self, i: int, seq: tuple[int, ...], r: int) -> int:
        """The row in ``overlaps`` of dimension ``i`` split by ``seq`` (of row ``r``): per device, the
        length its block along ``i`` shares with its target block."""
        key = (i, r)
        if key not in self.overlap_rows:
            n = self.shape[i] // math.prod(self.at.sizes[a] for a in seq)
            self.overlap_rows[key] = self.overlaps.extend(self.overlap(i, n, np.array([r], dtype=np.int64)))
        return self.overlap_rows[key]

    def overlap(self, i: int, n: int, rows: NDArray[np.int64]) -> NDArray[np.int64]:
        """(rows × devices): the length each device's block of ``n`` elements along dimension ``i``
        (its index in ``seq_ids`` row ``rows[k]``) shares with its target block."""
        t = self.target_local[i]
        start, t_start = self.seq_ids.table[rows] * n, self.seq_ids.table[self.target_rows[i]] * t
        common: NDArray[np.int64] = np.clip(np.minimum(start + n, t_start + t) - np.maximum(start, t_start),
                                            0, None)
        return common

    def h_many(self, codes: list[Code], overlaps: list[tuple[int, ...]]) -> NDArray[np.int64]:
        """``h`` of the types ``codes`` (``overlaps``: their ``overlap_row`` per dimension): the
        elements of the target's blocks they lack, over all devices."""
        if not self.exact:
            return np.zeros(len(codes), dtype=np.int64)
        common = self.overlaps.table[np.array(overlaps, dtype=np.int64)].prod(axis=1).sum(axis=1)
        lacking: NDArray[np.int64] = self.lacking_at_most - common
        return lacking

    def h(self, code: Code) -> int:
        if code not in self.h_cache:
            group = self.groups.get(self.local(code))
            if group is not None:
                self.h_cache[code] = int(group.h[group.index[code]])
            elif not self.exact:
                self.h_cache[code] = 0
            else:
                index = tuple(self.overlap_row(i, d, self.row(d)) for i, d in enumerate(code))
                self.h_cache[code] = int(self.h_many([code], [index])[0])
        return self.h_cache[code]

    # -- the graph -----------------------------------------------------------------------------

    def group(self, local: tuple[int, ...]) -> Group:
        if local not in self.groups:
            found = self.enumerate(local)
            codes = [c for c, _, _ in found]
            self.locals.update((c, local) for c in codes)
            ids = self.seq_ids.table[np.array([r for _, r, _ in found], dtype=np.int64)]
            signature = np.zeros((len(codes), self.devices), dtype=np.int64)
            for i, (n, size) in enumerate(zip(local, self.shape, strict=True)):
                signature = signature * (size // n) + ids[:, i, :]
            h = self.h_many(codes, [o for _, _, o in found])
            self.groups[local] = Group(codes, {c: k for k, c in enumerate(codes)}, signature, h,
                                       np.full(len(codes), BIG, dtype=np.int64))
        return self.groups[local]

    def enumerate(self, local: tuple[int, ...]) -> list[tuple[Code, tuple[int, ...], tuple[int, ...]]]:
        """Every well-formed type of ``local`` shape, with its ``rows`` and ``overlap_row``s: per
        dimension, every sequence of atoms that overlap none taken before and whose sizes multiply
        to ``N / n``."""
        sizes, clash = self.at.sizes, self.at.clash
        parts = [n // m for n, m in zip(self.shape, local, strict=True)]

        def refuse() -> SearchLimit:
            return self.limit(f"enumerate more than {MAX_GROUP:,} types of local shape {list(local)}")

        def seqs(need: int, used: int) -> list[tuple[tuple[int, ...], int, int]]:
            """The sequences of atoms of sizes multiplying to ``need`` beside ``used``, each with the
            atoms used after it and its ``row``."""
            if (need, used) not in self.sequences:
                out: list[tuple[tuple[int, ...], int, int]] = [((), used, self.row(()))] if need == 1 else []
                for a, s in enumerate(sizes):
                    if not clash[a] & used and need % s == 0:
                        tails = seqs(need // s, used | 1 << a)
                        heads = [(a, *rest) for rest, _, _ in tails]
                        new = [k for k, seq in enumerate(heads) if seq not in self.seq_rows]
                        if new:  # row-major: the first atom's index times the size of the rest, plus theirs
                            rest_rows = np.array([tails[k][2] for k in new], dtype=np.int64)
                            block = self.at.coords[a] * (need // s) + self.seq_ids.table[rest_rows]
                            first = self.seq_ids.extend(block)
                            self.seq_rows.update((heads[k], first + j) for j, k in enumerate(new))
                        out.extend((seq, after, self.seq_rows[seq])
                                   for seq, (_, after, _) in zip(heads, tails, strict=True))
                        if len(out) > MAX_GROUP:
                            raise refuse()
                self.sequences[need, used] = out
            return self.sequences[need, used]

        def options(i: int, used: int) -> list[tuple[tuple[int, ...], int, int, int]]:
            if (i, parts[i], used) not in self.dim_options:
                found = seqs(parts[i], used)
                new = [r for _, _, r in found if (i, r) not in self.overlap_rows] if self.exact else []
                if new:  # every sequence of ``found`` leaves ``local[i]`` elements along dimension i
                    first = self.overlaps.extend(self.overlap(i, local[i], np.array(new, dtype=np.int64)))
                    self.overlap_rows.update(((i, r), first + j) for j, r in enumerate(new))
                self.dim_options[i, parts[i], used] = [(seq, after, r, self.overlap_rows.get((i, r), -1))
                                                       for seq, after, r in found]
            return self.dim_options[i, parts[i], used]

        level: list[tuple[Code, int, tuple[int, ...], tuple[int, ...]]] = [((), 0, (), ())]
        for i in range(len(parts)):  # the types' first dimensions, row-major over the sequences
            level = [((*code, seq), after, (*rows, r), (*overlaps, o))
                     for code, used, rows, overlaps in level for seq, after, r, o in options(i, used)]
            if len(level) > MAX_GROUP * len(parts):
                raise refuse()
        if len(level) > MAX_GROUP:
            raise refuse()
        return [(code, rows, overlaps) for code, _, rows, overlaps in level]

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
            if after not in self.permute_keys:  # one key per type: keys compare equal by identity
                self.permute_keys[after] = OP_RANK[AllPermute], 0, 0, (0, 0, 0), Shown(after, self)
            return self.permute_keys[after]
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


def encode(ty: DistType, at: Atoms) -> Code | None:
    """``ty`` over ``at``'s atoms, or ``None`` when it uses an axis they do not have."""
    if not all(a in at.index for a in ty.used_axes):
        return None
    return tuple(tuple(at.index[a] for a in d.axes) for d in ty.dims)

