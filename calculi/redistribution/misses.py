"""Where the paper's program is not optimal, the rewrite it lacks, named from the two programs.

A table of the known misses, tried in order; each looks at the paper's program and the optimal one
(both from the same source type) and says whether its rewrite is what separates them.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

from calculi.redistribution.costs import profile
from calculi.redistribution.syntax import AllGather, AllPermute, AllToAll, DistType, DynSlice, Mesh, Program

Miss = Callable[[Program, Program, DistType, DistType, Mesh], bool]


def _has(kind: type, program: Program) -> bool:
    return any(isinstance(op, kind) for op in program)


def _all_to_all_then_gather(paper: Program, best: Program, src: DistType, tgt: DistType, mesh: Mesh
    ) -> bool:
    return any(isinstance(p, AllToAll) and isinstance(q, AllGather) and (q.dim, q.axis) == (p.dst_dim, p.axis)
               for p, q in itertools.pairwise(paper))


def _stuck_peak(paper: Program, best: Program, src: DistType, tgt: DistType, mesh: Mesh
    ) -> bool:
    return profile(src, paper, mesh).peak > profile(src, best, mesh).peak


def _two_permutes(paper: Program, best: Program, src: DistType, tgt: DistType, mesh: Mesh
    ) -> bool:
    return sum(isinstance(op, AllPermute) for op in best) >= 2


def _free_axis_slice(paper: Program, best: Program, src: DistType, tgt: DistType, mesh: Mesh
    ) -> bool:
    used = set(src.used_axes) | set(tgt.used_axes)
    return any(isinstance(op, DynSlice) and op.axis not in used for op in best) and _has(AllPermute, best)


def _slice_then_permute(paper: Program, best: Program, src: DistType, tgt: DistType, mesh: Mesh
    ) -> bool:
    return _has(AllToAll, paper) and not _has(AllToAll, best) and _has(AllPermute, best)


def _permute_to_gathered_axis(paper: Program, best: Program, src: DistType, tgt: DistType, mesh: Mesh
    ) -> bool:
    gathered = {op.axis for op in best if isinstance(op, AllGather)}
    return any(isinstance(op, AllPermute) and gathered & set(op.target.used_axes) - set(src.used_axes)
               for op in best)


def _one_permute(paper: Program, best: Program, src: DistType, tgt: DistType, mesh: Mesh
    ) -> bool:
    return len(best) == 1 and isinstance(best[0], AllPermute)


def _through_a_third(paper: Program, best: Program, src: DistType, tgt: DistType, mesh: Mesh
    ) -> bool:
    return _has(AllPermute, paper) and not _has(AllPermute, best)


MISSES: list[tuple[str, Miss]] = [
    ("one AllPermute between types of equal local shape", _one_permute),
    ("AllToAll(i->j, x); AllGather(j, x) = AllGather(i, x)", _all_to_all_then_gather),
    ("a stuck valley (a divisibility premise fails): gather another dimension first", _stuck_peak),
    ("a second AllPermute (one is enough for memory, not for traffic)", _two_permutes),
    ("slice by an axis neither type uses, to shrink an AllPermute", _free_axis_slice),
    ("slice the other dimension and permute, instead of an AllToAll", _slice_then_permute),
    ("permute onto an axis that is then gathered, instead of slicing first", _permute_to_gathered_axis),
    ("AllToAlls through a third dimension instead of an AllPermute", _through_a_third),
]


def lacking(paper: Program, best: Program, src: DistType, tgt: DistType, mesh: Mesh) -> str:
    """The name of the rewrite the paper's program lacks, or ``""`` when it is as good as ``best``
    in (peak, elements moved)."""
    mine, theirs = profile(src, paper, mesh), profile(src, best, mesh)
    if (mine.peak, sum(mine.received.values())) <= (theirs.peak, sum(theirs.received.values())):
        return ""
    for name, applies in MISSES:
        if applies(paper, best, src, tgt, mesh):
            return name
    return "unnamed"
