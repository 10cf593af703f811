# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # Partitioning a transformer layer with tactics, and searching for Megatron
#
# PartIR keeps the partitioning strategy apart from the model. The model is an ordinary array
# program; a *schedule* is a list of tactics, each of which tiles a few values over a mesh axis and
# lets *propagation* carry the tiling through the program, one rule per primitive. The result is
# lowered to one per-device (SPMD) program whose collectives are synthesised by the redistribution
# calculus, and a simulator predicts its cost. automap searches over the same tactics.

# %%
import os
import sys
from pathlib import Path

# Run as a script, this folder comes first on sys.path, and it holds a notebook named like the
# backend package: take the folder off before importing the package.
_here = globals().get("__file__")
if _here is not None:
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(_here).resolve().parent]

import numpy as np  # noqa: E402

from backend.api import value_and_grad  # noqa: E402
from backend.partition import partition, to_partir  # noqa: E402
from backend.partition_models import init_mlp, mlp_loss  # noqa: E402
from calculi.core.errors import CalculusError  # noqa: E402
from calculi.core.files import read_source  # noqa: E402
from calculi.partir.automap import search  # noqa: E402
from calculi.partir.bench import bp_megatron, hand_written, spearman, transformer  # noqa: E402
from calculi.partir.loops import to_loops  # noqa: E402
from calculi.partir.lower import lower  # noqa: E402
from calculi.partir.mcts import mcts  # noqa: E402
from calculi.partir.parse import parse_func  # noqa: E402
from calculi.partir.pretty import show_func  # noqa: E402
from calculi.partir.report import inputs_for, show_estimate, show_spmd  # noqa: E402
from calculi.partir.semantics import evaluate  # noqa: E402
from calculi.partir.simulator import CostModel, estimate, run  # noqa: E402
from calculi.partir.tactics import ManualPartition, apply_schedule, megatron, unpartitioned  # noqa: E402
from calculi.redistribution.syntax import Mesh  # noqa: E402

SMALL = os.environ.get("CALCULI_SMALL") == "1"

# %% [markdown]
# ## The model, written once
#
# A two-layer perceptron in PartIR:Core: no loop, no slice, nothing about devices but the mesh.

# %%
mlp = parse_func(read_source("calculi/partir/examples/mlp.partir"))
print(show_func(mlp))

# %% [markdown]
# ## Tactics and propagation
#
# Batch parallelism tiles the input `x` along its batch dimension. Propagation tiles everything
# that depends on `x`; the final `sum` over the batch becomes a `#sum` loop. The partitioned
# program is still PartIR:Core, and its reference semantics (run each loop body once per device
# index, then concatenate or add) gives the unpartitioned results.

# %%
bp = ManualPartition({"x": 0}, "batch")
part = apply_schedule(mlp, [bp, megatron("w1", "model")])
looped = to_loops(part)
print(show_func(looped))
args = inputs_for(mlp)
for a, b in zip(evaluate(mlp, args), evaluate(looped, args), strict=True):
    assert np.allclose(a, b)

# %% [markdown]
# Two tactics that want the same axis for different dimensions of one value do not silently pick
# one: propagation reports the conflict, with the source of each side.

# %%
try:
    apply_schedule(mlp, [ManualPartition({"x": 1, "w1": 1}, "batch")])
except CalculusError as err:
    print(err.reason.split("; ")[0])

# %% [markdown]
# ## Lowering and the simulator
#
# Each value has a layout, `local{axes}global` per dimension, plus the axes it is a partial sum
# over. Where a consumer wants another layout, the lowering inserts collectives: `AllReduce` or
# `ReduceScatter` for sums, and the redistribution calculus's synthesis for the rest.

# %%
spmd = lower(part)
print(show_spmd(spmd))
print(show_estimate(estimate(spmd), CostModel()))
assert all(np.allclose(a, b) for a, b in zip(run(spmd, args).outputs, evaluate(mlp, args), strict=True))

# %% [markdown]
# ## The training step, partitioned after reverse mode
#
# The backend's models are written once with `backend.numpy`. With `grad=True` the bridge
# partitions the program that Linear A's reverse mode produces (the non-linear half, then the
# transposed linear half), as PartIR does: the tactics name the same parameters and inputs, and
# the gradient comes out equal to the unpartitioned one. Under batch parallelism each parameter's
# gradient is all-reduced once over the batch axis, and the loss's sum once more.

# %%
params = init_mlp()
rng = np.random.default_rng(3)
xs, ys = rng.normal(size=(8, 16)), rng.normal(size=(8, 8))
loss, grads = value_and_grad(mlp_loss)(params, xs, ys)
bp_mp = [ManualPartition({"in0": 0, "in1": 0}, "batch"), megatron("w1", "model")]
got = partition(mlp_loss, "batch=2, model=4", bp_mp, grad=True)(params, xs, ys)
assert np.isclose(got[0], loss)
assert all(np.allclose(g, grads[k]) for g, k in zip(got[1:], sorted(grads), strict=True))
step, _ = to_partir(mlp_loss, Mesh.of(batch=2, model=4), (params, xs, ys), grad=True)
print(show_estimate(estimate(lower(apply_schedule(step, bp_mp[:1]))), CostModel()))

# %% [markdown]
# ## A transformer layer, and automap
#
# Multi-head attention and an MLP. On a 2×4 and a 4×2 mesh, with a memory limit a quarter of what
# the unpartitioned layer needs, the beam search finds batch parallelism on one axis and Megatron
# on the other: the heads sharded in attention (one action on `wq`; propagation shards `wk`, `wv`
# and `wo`), the MLP column- then row-parallel, one `AllReduce` per block.

# %%
layer = transformer("batch=2, model=4", 4, 16, 64, 4, 256)
model = CostModel()
limit = estimate(lower(unpartitioned(layer)), model).peak * model.itemsize // 4
found = search(unpartitioned(layer), layer.mesh.names, memory=limit)
print("found:", "; ".join(map(str, found.schedule)), f"({found.seconds:.2f} s, {found.evaluated} schedules)")
print(show_estimate(found.estimate, model))
tiled = dict(apply_schedule(layer, found.schedule).inputs)
(data_axis, _), = tiled["x"]
mp = {a for a in layer.mesh.names if a != data_axis}
assert tiled["wq"] == tiled["wk"] == tiled["wv"] == ((*mp, 1),) and tiled["wo"] == ((*mp, 0),)
assert tiled["w1"] == ((*mp, 1),) and tiled["w2"] == ((*mp, 0),)
assert found.estimate.names == ["AllReduce", "AllReduce"]

# %% [markdown]
# The automap paper searches the same actions by Monte Carlo tree search: each episode walks down
# the tree by the upper confidence bound (UCT), adds one action, plays random actions after it, and
# rewards the speed-up over the unpartitioned layer where the memory fits (0 where it does not).
# With a seed it is deterministic; its budget is a number of episodes. It finds the same schedule,
# scoring more partitionings than the beam on the way.

# %%
tree = mcts(unpartitioned(layer), layer.mesh.names, memory=limit, episodes=300, seed=0)
print("mcts found:",
      "; ".join(map(str, tree.schedule)), f"({tree.seconds:.2f} s, {tree.evaluated} schedules)")
assert bp_megatron(layer, tree.schedule) is not None and tree.estimate.time == found.estimate.time

# %% [markdown]
# ## Predicted against measured
#
# The hand-written schedules (BP, MP, BP+MP, ZeRO and variants) and automap's, predicted by the
# simulator and measured on JAX devices (eight fake CPU devices here). On a shared two-core
# machine the measurements are noisy; `python -m calculi.partir.bench --size medium` on a larger
# host gives the figures quoted in the reference notes.

# %%
schedules = hand_written("batch", "model")
schedules["automap"] = list(found.schedule)
schedules["automap mcts"] = list(tree.schedule)
predicted = {n: estimate(lower(apply_schedule(layer, s)), model).time for n, s in schedules.items()}
measured: dict[str, float] = {}
try:
    from calculi.redistribution.engine import ensure_devices

    ensure_devices(8)
    from calculi.partir.engine import measure

    for n, s in (list(schedules.items())[:3] if SMALL else schedules.items()):
        measured[n] = measure(lower(apply_schedule(layer, s)), inputs_for(layer), repeat=2, number=2)
except CalculusError as err:
    print(err.reason)
for n in schedules:
    shown = f"{measured[n] * 1e6:>12,.1f}" if n in measured else f"{'-':>12}"
    print(f"{n:<16}{predicted[n] * 1e6:>12,.1f}{shown}")
if len(measured) >= 3:
    names = list(measured)
    print("Spearman:", round(spearman([predicted[n] for n in names], [measured[n] for n in names]), 2))

# %%
try:
    import matplotlib.pyplot as plt

    names = list(measured)
    fig, ax = plt.subplots(figsize=(5, 4))
    ax.scatter([predicted[n] * 1e6 for n in names], [measured[n] * 1e6 for n in names])
    for n in names:
        ax.annotate(n, (predicted[n] * 1e6, measured[n] * 1e6), fontsize=7)
    ax.set_xlabel("predicted µs")
    ax.set_ylabel("measured µs")
    ax.set_title("transformer layer, batch=2 × model=4")
    if os.environ.get("MPLBACKEND") != "Agg":
        plt.show()
except ImportError:
    print("matplotlib is not installed (pip install 'calculi[notebooks]'): the table above is the plot")
