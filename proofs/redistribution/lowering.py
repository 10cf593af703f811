"""The JAX lowering, past the paper: a gather of a later dimension done in pieces.

On CPU, XLA gathers a dimension other than the outermost into a transposed buffer the size of the
result and copies it into place. ``engine.plan`` instead gathers such a dimension piece by piece
along dimension 0 in a loop, taking the slices just before it into each piece
(``pieces.Gather``). The theorem: on random programs that end in such a gather (after random
steps, over axes or sub-axes, often right after slices), the pieced lowering leaves every device
the simulator's block and moves no more bytes than the cost rules count (each collective in the
loop counted once per iteration, ``hlo.received_bytes``). It is run in pieces whatever the size,
where the engine's default cuts only results of at least ``engine.PIECES_FROM`` bytes.
"""

from __future__ import annotations

import math

import numpy as np
from hypothesis import assume
from hypothesis import strategies as st

from calculi.redistribution.check import check_program
from calculi.redistribution.lowering_mutants import MUTANTS
from calculi.redistribution.pieces import Gather
from calculi.redistribution.simulator import simulate
from calculi.redistribution.strategies import Walk, applicable_ops, walks
from calculi.redistribution.subaxes_strategies import Cut, sub_ops, sub_walks
from calculi.redistribution.syntax import AllGather, DistType, DynSlice, Op
from proofs.redistribution.paper import REDIST, on_engine
from proofs.registry import register_mutants, theorem

register_mutants(MUTANTS)


@st.composite
def later_gathers(draw: st.DrawFn, max_devices: int = 8) -> Walk:
    """A random walk over axes or sub-axes, then up to two slices, then a gather of a dimension
    other than the outermost, of a block whose dimension 0 has more than one row (so it is cut)."""
    cut: Cut | None = None
    if draw(st.booleans()):
        walk = draw(walks(max_devices, max_length=3))
    else:
        sub = draw(sub_walks(max_devices, max_length=3))
        cut, walk = sub.cut, sub.walk

    def ops_from(ty: DistType) -> list[tuple[Op, DistType]]:
        return sub_ops(ty, cut) if cut is not None else applicable_ops(ty, walk.mesh)

    ty = check_program(walk.source, walk.program, walk.mesh)[-1]
    program = list(walk.program)
    for _ in range(draw(st.integers(0, 2))):
        slices = [(op, after) for op, after in ops_from(ty) if isinstance(op, DynSlice)]
        if not slices:
            break
        op, ty = draw(st.sampled_from(slices))
        program.append(op)
    gathers = [(op, after) for op, after in ops_from(ty) if isinstance(op, AllGather) and op.dim > 0]
    assume(gathers and ty.dims[0].local > 1)
    gather, _ = draw(st.sampled_from(gathers))
    return Walk(walk.mesh, walk.source, (*program, gather))


@theorem("redistribution.lowering.gather_in_pieces", paper=REDIST, section="past the paper: lowering",
         label="derived",
         statement="a program ending in a gather of a later dimension, lowered with that gather in pieces "
                   "(with the slices before it) and run on JAX devices, leaves every device the "
                   "simulator's block and moves no more bytes than the cost rules say",
         given={"walk": later_gathers()}, show=str, max_examples=8, requires=("jax",))
def _(walk: Walk) -> None:
    from calculi.redistribution import engine

    mesh, src, program = walk.mesh, walk.source, walk.program
    on_engine(mesh)
    data = np.arange(math.prod(src.global_shape), dtype=np.int32).reshape(src.global_shape)
    sim = simulate(data, src, program, mesh)
    last = engine.plan(src, program, mesh, pieces_from=0)[-1][1]
    assert isinstance(last, Gather) and last.pieces > 1, "the gather is not cut"
    out = engine.run(data, src, program, mesh, pieces_from=0)
    differ = [c for c in mesh.devices() if not np.array_equal(out.buffers[c], sim.buffers[c])]
    assert not differ, f"JAX and the simulator differ on devices {differ}"
    modelled = sum(sim.received.values()) * data.itemsize
    moved = out.compiled.received_bytes
    assert moved <= modelled, f"the HLO moves {moved} bytes, the cost rules {modelled}"
