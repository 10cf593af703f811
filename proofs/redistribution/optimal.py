"""Past the paper: the optimal strategy (least peak, then least traffic), and what it shows of the paper's.

Peak is the largest local size a program's types reach; traffic the elements received over all
devices and steps (the cost rules). ``optimal`` is checked against an exact oracle built without
its graph: every type of the shape enumerated directly, every op and AllPermute between them costed
by ``costs.profile``, and the least peak then least traffic found by Bellman–Ford.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
from hypothesis import strategies as st
from hypothesis import target

from calculi.core.errors import TypeCheckError
from calculi.core.syntax import Source
from calculi.redistribution import optimal, shapebound, synth, typegraph
from calculi.redistribution.baselines import naive, xla_like
from calculi.redistribution.check import check_program, check_type
from calculi.redistribution.costs import profile
from calculi.redistribution.optimal_mutants import MUTANTS
from calculi.redistribution.parse import parse_mesh, parse_type
from calculi.redistribution.pretty import show_program, show_type
from calculi.redistribution.simulator import misplaced, simulate
from calculi.redistribution.strategies import (
    Problem,
    general_problems,
    problems,
    show,
    stuck_problems,
    uneven_problems,
    weighted_problems,
)
from calculi.redistribution.subaxes import candidate_ops as sub_axis_candidates
from calculi.redistribution.subaxes_strategies import cube_problems, sub_problems
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
    is_sub_axis,
)
from proofs.redistribution.paper import REDIST
from proofs.registry import register_mutants, theorem

register_mutants(MUTANTS)

Cost = tuple[int, int]
"""(peak, moved): compared lexicographically."""


def _cost(problem: Problem, program: Program) -> Cost:
    prof = profile(problem.source, program, problem.mesh)
    assert prof.types[-1] == problem.target, f"{show_program(program)} ends at {show_type(prof.types[-1])}"
    return prof.peak, sum(prof.received.values())


def _data(ty: DistType) -> np.ndarray:
    return np.arange(math.prod(ty.global_shape), dtype=np.int64).reshape(ty.global_shape)


def _correct(problem: Problem, program: Program) -> None:
    data = _data(problem.source)
    run = simulate(data, problem.source, program, problem.mesh)
    bad = misplaced(run, data, problem.target, problem.mesh)
    assert not bad, f"devices {bad} do not hold their block of {show_type(problem.target)} after " \
                    f"{show_program(program)}"


def _optimal(problem: Problem) -> optimal.Optimum:
    return optimal.optimum(problem.source, problem.target, problem.mesh)


@theorem("redistribution.optimal.never_worse", paper=REDIST, section="past §4.3", label="derived",
         statement="optimal is never worse than paper, xla or naive in (peak, elements moved), "
                   "lexicographically, and its own account of both is the cost rules'",
         given={"problem": st.one_of(weighted_problems(), general_problems())}, show=show)
def _(problem: Problem) -> None:
    found = _optimal(problem)
    ours = _cost(problem, found.program)
    assert ours == (found.peak, found.moved), f"claims {(found.peak, found.moved)}, costs {ours}"
    for name, strategy in (("paper", synth.paper), ("xla", xla_like), ("naive", naive)):
        theirs = _cost(problem, strategy(problem.source, problem.target, problem.mesh))
        assert ours <= theirs, f"optimal {ours} worse than {name} {theirs}"
    target(float(_cost(problem, synth.paper(problem.source, problem.target, problem.mesh))[1] - ours[1]),
           label="paper's extra traffic")


@theorem("redistribution.optimal.paper_peak", paper=REDIST, section="§4.3 P3",
         statement="when every global size is a multiple of the mesh size, the paper's program already "
                   "reaches the least peak memory of any program", given={"problem": problems()}, show=show)
def _(problem: Problem) -> None:
    peak = _cost(problem, synth.paper(problem.source, problem.target, problem.mesh))[0]
    assert peak == _optimal(problem).peak, f"paper peaks at {peak}, optimal at {_optimal(problem).peak}"


@theorem("redistribution.optimal.correct", paper=REDIST, section="past §4.3 P1 P2", label="derived",
         statement="optimal's program is well typed from τs to τt, and after it every device holds its "
                   "block of τt; optimal(τ, τ) is empty",
         given={"problem": st.one_of(weighted_problems(), general_problems())}, show=show)
def _(problem: Problem) -> None:
    program = _optimal(problem).program
    assert check_program(problem.source, program, problem.mesh)[-1] == problem.target
    _correct(problem, program)
    assert optimal.optimal(problem.source, problem.source, problem.mesh) == ()


# -- the oracle: every type, every op, Bellman–Ford ---------------------------------------------------


def _all_types(shape: tuple[int, ...], mesh: Mesh, axes: tuple[str, ...]) -> list[DistType]:
    """Every well-formed type of ``shape`` over ``axes``: each unused or in one dimension, in every
    order (the well-formedness rule rejects overlapping sub-axes)."""
    out: list[DistType] = []
    for places in itertools.product(range(-1, len(shape)), repeat=len(axes)):
        chosen = [[a for a, p in zip(axes, places, strict=True) if p == i] for i in range(len(shape))]
        for orders in itertools.product(*(itertools.permutations(axes) for axes in chosen)):
            dims = tuple(Dim(n // mesh.product(axes), axes, n) for n, axes in zip(shape, orders, strict=True))
            try:
                out.append(check_type(DistType(dims), mesh))
            except TypeCheckError:
                continue
    return out


def _all_ops(ty: DistType, types: list[DistType], axes: tuple[str, ...]) -> list[Op]:
    ops: list[Op] = [AllPermute(t) for t in types]
    for i, a in itertools.product(range(ty.rank), axes):
        ops += [DynSlice(i, a), AllGather(i, a), *(AllToAll(i, j, a) for j in range(ty.rank))]
    return ops


def oracle(problem: Problem, axes: tuple[str, ...] | None = None) -> Cost:
    """The least (peak, moved) over all programs over ``axes`` (default: the mesh's axes), found
    without the optimal search's graph."""
    mesh, source, goal = problem.mesh, problem.source, problem.target
    axes = mesh.names if axes is None else axes
    types = _all_types(source.global_shape, mesh, axes)
    edges: list[tuple[DistType, DistType, int]] = []
    for ty in types:
        for op in _all_ops(ty, types, axes):
            try:
                prof = profile(ty, (op,), mesh)
            except TypeCheckError:
                continue
            edges.append((ty, prof.types[-1], sum(prof.received.values())))
    for bound in sorted({t.local_size for t in types}):
        if bound < max(source.local_size, goal.local_size):
            continue
        least = {source: 0}
        for _ in range(len(types)):
            changed = False
            for a, b, w in edges:
                if a in least and b.local_size <= bound and least[a] + w < least.get(b, least[a] + w + 1):
                    least[b], changed = least[a] + w, True
            if not changed:
                break
        if goal in least:
            return bound, least[goal]
    raise AssertionError("no program at any bound")


@theorem("redistribution.optimal.exact", paper=REDIST, section="past §4.3", label="derived",
         statement="optimal's (peak, elements moved) is the least over all programs, as an exhaustive "
                   "oracle (every type, every op, Bellman–Ford per peak bound) finds it",
         given={"problem": st.one_of(weighted_problems(max_devices=8), general_problems(max_devices=8))},
         show=show, max_examples=15)
def _(problem: Problem) -> None:
    if problem.source.rank > 2:
        problem = Problem(problem.mesh, DistType(problem.source.dims[:2]), DistType(problem.target.dims[:2]))
    found = _optimal(problem)
    expected = oracle(problem)
    assert (found.peak, found.moved) == expected, f"optimal {(found.peak, found.moved)}, oracle {expected}"
    assert _cost(problem, found.program) == expected


# -- the fast search against the whole graph ----------------------------------------------------------


@st.composite
def either_axes(draw: st.DrawFn) -> tuple[Problem, bool]:
    """A problem (some whose least peak is above both types', where the search raises its bound;
    some of rank 3 on meshes of axes of size 4, cut into halves, where the bound of ``shapebound``
    prunes most), and whether to search over sub-axes too (always when its types use them)."""
    problem = draw(st.one_of(weighted_problems(max_devices=8), general_problems(max_devices=8),
                             uneven_problems(max_devices=8), stuck_problems(),
                             sub_problems(max_devices=8).map(lambda p: p[1]), cube_problems(),
                             cube_problems()))
    subaxes = draw(st.booleans()) or any(is_sub_axis(a) for ty in (problem.source, problem.target)
                                         for a in ty.used_axes)
    return problem, subaxes


def show_case(case: object) -> str:
    assert isinstance(case, tuple)
    return f"{show(case[0])} sub-axes={case[1]}"


@theorem("redistribution.optimal.astar", paper=REDIST, section="past §4.3", label="derived",
         statement="the fast search (A* with the larger of the bound of the elements each device lacks and "
                   "of the traffic its change of local shape forces, neighbours made as it goes) returns "
                   "the very program the search over the whole type graph returns, with its peak and "
                   "elements moved, over the mesh's axes and over sub-axes",
         given={"case": either_axes()}, show=show_case)
def _(case: tuple[Problem, bool]) -> None:
    problem, subaxes = case
    candidates = sub_axis_candidates if subaxes else None
    fast = optimal.optimum(problem.source, problem.target, problem.mesh, candidates)
    slow = optimal.reference(problem.source, problem.target, problem.mesh, candidates)
    assert (fast.peak, fast.moved) == (slow.peak, slow.moved), \
        f"fast {(fast.peak, fast.moved)}, whole graph {(slow.peak, slow.moved)}"
    assert fast.program == slow.program, f"fast {show_program(fast.program)}, whole graph " \
                                         f"{show_program(slow.program)}"


@theorem("redistribution.optimal.shape_bound", paper=REDIST, section="past §4.3", label="derived",
         statement="the traffic a change of local shape forces and the ops it needs (shapebound) are 0 at "
                   "the target and drop along no edge of the type graph (sub-axes included) by more than "
                   "the edge's cost and one op, under every peak bound: consistent lower bounds, so A* "
                   "ordered by them stays exact",
         given={"case": either_axes()}, show=show_case)
def _(case: tuple[Problem, bool]) -> None:
    problem, subaxes = case
    graph = optimal.build_graph(problem.source, problem.mesh, sub_axis_candidates if subaxes else None)
    at = typegraph.atoms(problem.mesh, subaxes)
    goal = typegraph.encode(problem.target, at)
    if goal is None:  # a type over an axis the search does not have
        return
    parts = tuple(math.prod(at.sizes[a] for a in d) for d in goal)
    shape, sizes = problem.source.global_shape, frozenset(at.sizes)
    for bound in sorted({t.local_size for t in graph.types if t.local_size >= problem.target.local_size}):
        table = shapebound.table(shape, parts, sizes, problem.mesh.device_count, bound)
        if table is None:
            continue
        assert table[problem.target.local_shape] == (0, 0)
        for ty in graph.types:
            if ty.local_size > bound:
                continue
            for op, after, cost in graph.edges[ty]:
                if after.local_size <= bound:
                    here, there = table.get(ty.local_shape, (0, 0)), table.get(after.local_shape, (0, 0))
                    assert here[0] <= cost + there[0] and here[1] <= 1 + there[1], \
                        f"under {bound}: {show_type(ty)} {here}, {show_program((op,))} {cost}, then {there}"


# -- P8 for optimal: the JAX engine ------------------------------------------------------------------


@theorem("redistribution.optimal.engine_agrees", paper=REDIST, section="engine P8", label="derived",
         statement="optimal's program lowered to shard_map and run on JAX devices leaves every device with "
                   "the simulator's block, and its HLO moves no more bytes than the cost rules say",
         given={"problem": weighted_problems(max_devices=8)}, show=show, max_examples=4, requires=("jax",))
def _(problem: Problem) -> None:
    import subprocess
    import sys

    from calculi.redistribution import engine

    mesh, src = problem.mesh, problem.source
    if engine.device_count() < mesh.device_count:
        command = [sys.executable, "-m", "calculi.redistribution", "synth", "--mesh", show(mesh),
                   show_type(src), show_type(problem.target), "--engine", "jax", "--strategy", "optimal"]
        proc = subprocess.run(command, capture_output=True, text=True, check=False, timeout=300)
        assert proc.returncode == 0, proc.stderr[-2000:]
        return
    program = _optimal(problem).program
    data = _data(src).astype(np.int32)
    sim = simulate(data, src, program, mesh)
    out = engine.run(data, src, program, mesh)
    differ = [c for c in mesh.devices() if not np.array_equal(out.buffers[c], sim.buffers[c])]
    assert not differ, f"JAX and the simulator differ on devices {differ}"
    assert not misplaced(sim, data, problem.target, mesh)
    assert out.compiled.received_bytes <= sum(sim.received.values()) * data.itemsize


# -- the finding: one AllPermute is enough for memory, not for traffic --------------------------------

TWO_PERMUTES = ("x=2, y=4, z=2", "[4{z,x}16, 4{y}16]", "[2{x,y}16, 8{z}16]")


def least_moved_count(problem: Problem) -> tuple[int, int]:
    """The least elements moved by any program (at any peak), and how many programs move that few
    (finite: the only steps that move nothing are slices, which shrink the type)."""
    graph = optimal.build_graph(problem.source, problem.mesh)
    least = {problem.source: 0}
    for _ in range(len(graph.types)):
        changed = False
        for a in graph.types:
            for _, b, w in graph.edges[a] if a in least else ():
                if least[a] + w < least.get(b, least[a] + w + 1):
                    least[b], changed = least[a] + w, True
        if not changed:
            break
    count = {problem.source: 1}
    for a in sorted(least, key=lambda t: (least[t], -t.local_size)):
        for _, b, w in graph.edges[a]:
            if least[a] + w == least.get(b):
                count[b] = count.get(b, 0) + count.get(a, 0)
    return least[problem.target], count[problem.target]


@theorem("redistribution.findings.two_permutes", paper=REDIST, section="§4.3 'one AllPermute'",
         label="finding",
         statement="on x=2,y=4,z=2, [4{z,x}16, 4{y}16] -> [2{x,y}16, 8{z}16]: the unique least-traffic "
                   "program has two AllPermutes (512 elements); with one at most, 544 is the least at "
                   "any peak")
def _() -> None:
    mesh, source, goal = (parse_mesh(Source(TWO_PERMUTES[0])), parse_type(Source(TWO_PERMUTES[1])),
                          parse_type(Source(TWO_PERMUTES[2])))
    problem = Problem(mesh, source, goal)
    found = _optimal(problem)
    assert show_program(found.program) == ("AllPermute([4{y}16, 4{z,x}16]); AllToAll(1 -> 0, x); "
                                           "AllPermute([2{x,y}16, 8{z}16])")
    assert _cost(problem, found.program) == (16, 512)
    _correct(problem, found.program)
    assert least_moved_count(problem) == (512, 1)
    one = optimal.search(source, goal, mesh, bound=math.prod(source.global_shape), most_permutes=1)
    assert one is not None and one.moved == 544
    paper = synth.paper(source, goal, mesh)
    assert sum(isinstance(op, AllPermute) for op in paper) <= 1 and _cost(problem, paper) == (16, 544)
