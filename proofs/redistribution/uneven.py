"""Uneven dimensions, past the paper: global sizes that are not multiples of the mesh size.

The paper's memory bound ``peak <= max(local(τs), local(τt))`` is proved for dimensions every axis
divides. The bound that holds, checked here: it suffices that each global dimension be a multiple
of the product of the mesh axes that τs or τt put on *that* dimension (any other axis may leave it
uneven). Without that, the bound fails (``x=4,y=2 [6{y}12] -> [3{x}12]`` peaks at the whole array,
12 > 6, since no DynSlice by ``x`` divides 6); there a sub-axis gives a program at the bound.

Padded types do not compose with the typing rules. XLA's partitioner pads a dimension to a multiple
of its axes' product, blocks of ``ceil(N/Π)`` in row-major order: with ``|b| = 2, |x| = 4`` and
``N = 10``, ``{b,x}`` gives blocks of 2, so after gathering ``x`` the devices hold ``[0,8)`` and
``[8,10)`` where ``{b}`` holds ``[0,5)`` and ``[5,10)``; an AllGather of a padded dimension would have
to move data again. (JAX 0.10 itself refuses such a spec at ``device_put``: "does not evenly divide
the dimension size".) So the toolkit keeps exact types and states the bound above instead.
"""

from __future__ import annotations

import math

import numpy as np

from calculi.core.syntax import Source
from calculi.redistribution import synth
from calculi.redistribution.check import check_program
from calculi.redistribution.parse import parse_mesh, parse_program, parse_type
from calculi.redistribution.simulator import misplaced, simulate
from calculi.redistribution.strategies import Problem, show, uneven_problems, union_divisible
from calculi.redistribution.syntax import DistType
from proofs.redistribution.paper import REDIST, on_engine
from proofs.registry import theorem


def _data(ty: DistType) -> np.ndarray:
    return np.arange(math.prod(ty.global_shape), dtype=np.int64).reshape(ty.global_shape)


@theorem("redistribution.uneven.memory_bound", paper=REDIST, section="past the paper: uneven dimensions",
         label="derived",
         statement="when each global dimension is a multiple of the axes either type puts on it (and maybe "
                   "not of the mesh size), the paper's program is correct and never holds more than "
                   "max(local size of τs, local size of τt)", given={"problem": uneven_problems()}, show=show)
def _(problem: Problem) -> None:
    assert union_divisible(problem)
    program = synth.paper(problem.source, problem.target, problem.mesh)
    data = _data(problem.source)
    run = simulate(data, problem.source, program, problem.mesh)
    assert not misplaced(run, data, problem.target, problem.mesh), "misplaced blocks"
    bound = max(problem.source.local_size, problem.target.local_size)
    assert run.peak <= bound, f"peak {run.peak} > {bound}; profile {run.local_sizes}"


@theorem("redistribution.uneven.beyond_the_condition", paper=REDIST,
         section="past the paper: uneven dimensions", label="example",
         statement="on x=4,y=2, [6{y}12] -> [3{x}12] is not a multiple of |x|·|y| = 8: the paper's program "
                   "peaks at 12 > 6; DynSlice(0, x:2); AllPermute([3{x}12]) is correct and peaks at 6")
def _() -> None:
    mesh = parse_mesh(Source("x=4,y=2"))
    src, tgt = parse_type(Source("[6{y}12]")), parse_type(Source("[3{x}12]"))
    assert not union_divisible(Problem(mesh, src, tgt))
    data = _data(src)
    theirs = simulate(data, src, synth.paper(src, tgt, mesh), mesh)
    assert theirs.peak == 12, theirs.local_sizes
    program = parse_program(Source("DynSlice(0, x:2); AllPermute([3{x}12])"))
    assert check_program(src, program, mesh)[-1] == tgt
    ours = simulate(data, src, program, mesh)
    assert not misplaced(ours, data, tgt, mesh) and ours.peak == 6, ours.local_sizes


@theorem("redistribution.uneven.engine", paper=REDIST, section="past the paper: uneven dimensions",
         label="derived",
         statement="on uneven dimensions the paper's program lowered to shard_map and run on JAX leaves "
                   "every device the simulator's block, which is also what JAX's own resharding gives",
         given={"problem": uneven_problems(max_devices=8)}, show=show, max_examples=3, requires=("jax",))
def _(problem: Problem) -> None:
    from calculi.redistribution import engine

    mesh, src, tgt = problem.mesh, problem.source, problem.target
    on_engine(mesh)
    data = _data(src).astype(np.int32)
    program = synth.paper(src, tgt, mesh)
    sim = simulate(data, src, program, mesh)
    out = engine.run(data, src, program, mesh)
    assert all(np.array_equal(out.buffers[c], sim.buffers[c]) for c in mesh.devices()), "JAX differs"
    x = engine.place(data, src, mesh)
    theirs = engine.shards(engine.xla_reshard(tgt, mesh, x).run(x), mesh)
    assert all(np.array_equal(theirs[c], sim.buffers[c]) for c in mesh.devices()), "XLA differs"
