"""The bridge after reverse mode: the training step's gradient program, partitioned by random
schedules, computes the unpartitioned loss and gradients (or propagation reports a conflict)."""

from __future__ import annotations

import functools

import numpy as np
from hypothesis import assume
from hypothesis import strategies as st

from backend.partition import to_partir
from backend.partition_models import init_mlp, mlp_loss
from calculi.core.errors import CalculusError
from calculi.partir.lower import lower
from calculi.partir.semantics import evaluate
from calculi.partir.simulator import run
from calculi.partir.syntax import Func
from calculi.partir.tactics import ManualPartition, Tactic, apply_schedule
from calculi.redistribution.syntax import Mesh
from proofs.partir.paper import PARTIR, _same
from proofs.registry import theorem

MESH = Mesh.of(batch=2, model=4)


@functools.cache
def training_step() -> tuple[Func, dict[str, np.ndarray], tuple[np.ndarray, ...]]:
    """The MLP's loss and parameter gradients as PartIR, its inputs, and its unpartitioned results."""
    rng = np.random.default_rng(3)
    args = (init_mlp(), rng.normal(size=(8, 16)), rng.normal(size=(8, 8)))
    func, values = to_partir(mlp_loss, MESH, args, grad=True)
    return func, values, evaluate(func, values)


@st.composite
def schedules(draw: st.DrawFn) -> tuple[Tactic, ...]:
    func = training_step()[0]
    arrays = [i for i in func.inputs if i.shape]
    out: list[Tactic] = []
    for _ in range(draw(st.integers(1, 3))):
        value = draw(st.sampled_from(arrays))
        out.append(ManualPartition({value.name: draw(st.integers(0, len(value.shape) - 1))},
                                   draw(st.sampled_from(MESH.names)), atomic=draw(st.booleans())
                                   and draw(st.booleans())))
    return tuple(out)


def show(value: object) -> str:
    return "; ".join(map(str, value)) if isinstance(value, tuple) else str(value)


@theorem("partir.bridge.gradient_partitions_exactly", paper=PARTIR, section="partitioning after AD",
         statement="the MLP training step after Linear A's reverse mode, partitioned by any schedule that "
                   "propagates, lowered and simulated, gives the unpartitioned loss and gradients",
         given={"schedule": schedules()}, show=show)
def _(schedule: tuple[Tactic, ...]) -> None:
    func, values, reference = training_step()
    try:
        part = apply_schedule(func, schedule)
    except CalculusError:
        assume(False)
        raise
    _same(run(lower(part), values).outputs, reference)
