"""Sub-axes, past the paper: the factors of a mesh axis as axes of their own, as Shardy writes them.

A type may split a dimension by ``y:(p)s``, the factor of size ``s`` of mesh axis ``y`` with ``p``
coordinates above it (``y:2`` and ``y:(2)2`` are the halves of ``y=4``). The theorems: such a type
means what its expansion on the refined mesh means (each factor an axis of its own); the typing
rules over sub-axes are sound for the simulator, and the simulator and the JAX engine agree on them;
on the two cases where XLA moves fewer bytes than the paper's types can, a program with sub-axes
moves no more than XLA and fewer than the paper's program; and the ``optimal-subaxes`` search is
exact, against the oracle of ``proofs.redistribution.optimal`` run over every (sub-)axis.
"""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
from hypothesis import strategies as st

from calculi.core.syntax import Source
from calculi.redistribution.blocks import block
from calculi.redistribution.check import check_program, check_type
from calculi.redistribution.costs import profile
from calculi.redistribution.optimal import optimum
from calculi.redistribution.parse import parse_program, parse_type
from calculi.redistribution.pretty import show_program, show_type
from calculi.redistribution.simulator import misplaced, simulate
from calculi.redistribution.strategies import Problem, show, weighted_problems
from calculi.redistribution.subaxes import all_axes, expand_program, refine
from calculi.redistribution.subaxes import candidate_ops as sub_axis_candidates
from calculi.redistribution.subaxes_cases import CASES, measure
from calculi.redistribution.subaxes_strategies import Cut, SubWalk, sub_problems, sub_walks
from calculi.redistribution.syntax import DistType, Mesh
from proofs.redistribution.optimal import oracle
from proofs.redistribution.paper import REDIST, on_engine
from proofs.registry import theorem


def _data(ty: DistType) -> np.ndarray:
    return np.arange(math.prod(ty.global_shape), dtype=np.int64).reshape(ty.global_shape)


def _refined(mesh: Mesh, c: tuple[int, ...], refined: Mesh) -> tuple[int, ...]:
    return tuple(int(x) for x in np.unravel_index(mesh.linear(c), refined.shape))


def _show_pair(value: object) -> str:
    if isinstance(value, tuple) and len(value) == 2 and isinstance(value[0], Cut):
        return f"cut {value[0].chains}: {value[1]}"
    return show(value)


@theorem("redistribution.subaxes.expansion", paper=REDIST, section="past the paper: sub-axes",
         label="derived",
         statement="a type with sub-axes is well-formed, prints and parses back to itself, and gives every "
                   "device the block its expansion on the refined mesh gives it (so the same global array)",
         given={"pair": sub_problems()}, show=_show_pair)
def _(pair: tuple[Cut, Problem]) -> None:
    _, problem = pair
    mesh = problem.mesh
    for ty in (problem.source, problem.target):
        check_type(ty, mesh)
        assert parse_type(Source(show_type(ty))) == ty
        ref = refine(mesh, (ty,))
        wide = check_type(ref.expand_type(ty), ref.mesh)
        for c in mesh.devices():
            theirs = block(wide, ref.mesh, _refined(mesh, c, ref.mesh))
            assert block(ty, mesh, c) == theirs, f"device {c}: {block(ty, mesh, c)} vs expansion {theirs}"


@theorem("redistribution.subaxes.sound", paper=REDIST, section="past the paper: sub-axes",
         label="derived",
         statement="a well-typed program over sub-axes goes through well-formed types, leaves each device "
                   "its block of the folded type, costs what the cost rules say, and prints and parses "
                   "back to itself", given={"sub": sub_walks()}, show=str)
def _(sub: SubWalk) -> None:
    walk = sub.walk
    types = check_program(walk.source, walk.program, walk.mesh)
    data = _data(walk.source)
    run = simulate(data, walk.source, walk.program, walk.mesh)
    bad = misplaced(run, data, types[-1], walk.mesh)
    assert not bad, f"devices {bad} do not hold their block of {show_type(types[-1])}"
    prof = profile(walk.source, walk.program, walk.mesh)
    assert prof.received == run.received and prof.sent == run.sent, "cost rules and simulator differ"
    if walk.program:
        assert parse_program(Source(show_program(walk.program))) == walk.program


@theorem("redistribution.subaxes.expansion_agrees", paper=REDIST, section="past the paper: sub-axes",
         label="derived",
         statement="a program over sub-axes moves data as its expansion on the refined mesh does (where "
                   "every factor is a plain axis): the same buffer on every device after every step",
         given={"sub": sub_walks(max_length=4)}, show=str)
def _(sub: SubWalk) -> None:
    walk = sub.walk
    types = check_program(walk.source, walk.program, walk.mesh)
    ref = refine(walk.mesh, types, walk.program)
    data = _data(walk.source)
    ours = simulate(data, walk.source, walk.program, walk.mesh)
    theirs = simulate(data, ref.expand_type(walk.source), expand_program(ref, walk.source, walk.program),
                      ref.mesh)
    for c in walk.mesh.devices():
        assert np.array_equal(ours.buffers[c], theirs.buffers[_refined(walk.mesh, c, ref.mesh)]), \
            f"device {c} differs from its expansion"


@theorem("redistribution.subaxes.engine", paper=REDIST, section="past the paper: sub-axes", label="derived",
         statement="a program over sub-axes lowered to shard_map on the refined JAX mesh leaves every "
                   "device with the simulator's block, and its HLO moves no more bytes than the cost rules "
                   "say", given={"sub": sub_walks(max_devices=8, max_length=4)}, show=str,
         max_examples=4, requires=("jax",))
def _(sub: SubWalk) -> None:
    from calculi.redistribution import engine

    walk = sub.walk
    on_engine(walk.mesh)
    data = _data(walk.source).astype(np.int32)
    sim = simulate(data, walk.source, walk.program, walk.mesh)
    out = engine.run(data, walk.source, walk.program, walk.mesh)
    differ = [c for c in walk.mesh.devices() if not np.array_equal(out.buffers[c], sim.buffers[c])]
    assert not differ, f"JAX and the simulator differ on devices {differ}"
    modelled = sum(sim.received.values()) * data.itemsize
    assert out.compiled.received_bytes <= modelled, f"HLO {out.compiled.received_bytes} > {modelled} bytes"


@theorem("redistribution.subaxes.fewer_bytes", paper=REDIST, section="past the paper: sub-axes",
         label="example",
         statement="on x=2,y=4 P('y') -> P('x') and data=2,model=4 P('data','model') -> P('model','data'), "
                   "a program with sub-axes is correct on the simulator and on JAX and moves fewer bytes "
                   "than the paper's program and no more than XLA's resharding, compiled in the same "
                   "process", requires=("jax",))
def _() -> None:
    from calculi.redistribution import engine

    if engine.device_count() < max(case.mesh.device_count for case in CASES):
        command = [sys.executable, "-m", "calculi.redistribution.subaxes_cases", "--elements", "64",
                   "--check"]
        proc = subprocess.run(command, capture_output=True, text=True, check=False, timeout=300)
        assert proc.returncode == 0, proc.stderr[-2000:]
        return
    for case in CASES:
        row = measure(case)
        assert row.sub_elements < row.paper_elements, row
        assert row.sub_bytes < row.paper_bytes and row.sub_bytes <= row.xla_bytes, row


@theorem("redistribution.subaxes.optimal_exact", paper=REDIST, section="past the paper: sub-axes",
         label="derived",
         statement="optimal-subaxes' (peak, elements moved) is the least over all programs over the "
                   "mesh's axes and sub-axes, as the exhaustive oracle (every type over every (sub-)axis, "
                   "every op, Bellman–Ford per peak bound) finds it, from types with or without sub-axes",
         given={"problem": st.one_of(weighted_problems(max_devices=8),
                                     sub_problems(max_devices=8).map(lambda pair: pair[1]))},
         show=show, max_examples=5)
def _(problem: Problem) -> None:
    if problem.source.rank > 2:
        problem = Problem(problem.mesh, DistType(problem.source.dims[:2]), DistType(problem.target.dims[:2]))
    found = optimum(problem.source, problem.target, problem.mesh, sub_axis_candidates)
    expected = oracle(problem, tuple(all_axes(problem.mesh)))
    assert (found.peak, found.moved) == expected, f"search {(found.peak, found.moved)}, oracle {expected}"
    costs = profile(problem.source, found.program, problem.mesh)
    assert costs.types[-1] == problem.target
    assert (max(t.local_size for t in costs.types), sum(costs.received.values())) == expected
