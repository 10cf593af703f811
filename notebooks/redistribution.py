# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # Array redistribution with typed collectives
#
# An SPMD program keeps each array split over a mesh of devices. When one operation wants the array
# laid out differently from how the previous one left it, the array must be *redistributed*. This
# notebook follows the type-directed method of Rink, Paszke, Vytiniotis and Schmid: distributed
# array types, collectives as typed operations, and a synthesis by rewriting whose memory profile
# is a valley.
#
# A mesh names its axes; a type gives, per dimension, the local size, the axes it is split over
# (major to minor) and the global size.

# %%
import math
import os
import sys
import tempfile
from pathlib import Path

import numpy as np

from calculi.core.errors import CalculusError
from calculi.core.syntax import Source
from calculi.redistribution import synth
from calculi.redistribution.baselines import naive, xla_like
from calculi.redistribution.blocks import block
from calculi.redistribution.check import check_program, check_type
from calculi.redistribution.costs import profile
from calculi.redistribution.parse import parse_mesh, parse_program, parse_type
from calculi.redistribution.pretty import show_op, show_program, show_type
from calculi.redistribution.simulator import misplaced, simulate
from calculi.redistribution.spec import spec_of

SMALL = os.environ.get("CALCULI_SMALL") == "1"

mesh = parse_mesh(Source("x=2, y=3"))
source = check_type(parse_type(Source("[3{x}6]")), mesh)
target = check_type(parse_type(Source("[2{y}6]")), mesh)
print(f"source {show_type(source)} is JAX's P{spec_of(source)}")
print(f"target {show_type(target)} is JAX's P{spec_of(target)}")
for c in mesh.devices():
    print(f"device {c}: source block {block(source, mesh, c)}, target block {block(target, mesh, c)}")

# %% [markdown]
# ## Collectives are typed
#
# `DynSlice(i, x)` makes `x` the minor-most axis of dimension `i` (no communication);
# `AllGather(i, x)` removes the minor-most axis; `AllToAll(i -> j, x)` moves it to dimension `j`;
# `AllPermute(τ')` sends blocks between devices when local and global shapes agree. A program is
# checked by folding the rules; a step whose premise fails is an error naming its rule.

# %%
program = parse_program(Source("DynSlice(0, y); AllPermute([1{y,x}6]); AllGather(0, x)"))
for op, ty in zip(program, check_program(source, program, mesh)[1:], strict=True):
    print(f"{show_op(op):<24} : {show_type(ty)}")
try:
    check_program(source, parse_program(Source("DynSlice(0, y); AllGather(0, x)")), mesh)
except CalculusError as err:
    print(err.render())

# %% [markdown]
# ## Synthesis: the easy program, then rewriting
#
# The easy program gathers the whole array and slices out the target: correct, but its peak is the
# global size. Rewriting adjacent pairs that are out of order (a gather before a slice, a gather
# before a flat step, a flat step before a slice) pushes slices left and gathers right.

# %%
def show_rewrites(src_text: str, tgt_text: str, mesh_text: str) -> None:
    m = parse_mesh(Source(mesh_text))
    src, tgt = parse_type(Source(src_text)), parse_type(Source(tgt_text))
    prog = synth.easy_program(src, tgt, m)
    while prog is not None:
        print(f"{profile(src, prog, m).local_sizes!s:<22} {show_program(prog, width=200)}")
        prog = synth.rewrite_once(prog, src, m) or synth.collapse_flat(prog, src, m)


show_rewrites("[3{x}6]", "[2{y}6]", "x=2, y=3")
print()
show_rewrites("[4{x}8, 4{y}8, 8]", "[8, 2{z,x}8, 4{y}8]", "x=2, y=2, z=2")

# %% [markdown]
# ## Memory profiles: paper vs naive vs XLA
#
# Local elements per device after each step. The XLA-like baseline follows the decision list of
# XLA's SPMD partitioner; when nothing cheaper applies it replicates the whole array first.

# %%
CASES = [
    ("x=2, y=3", "[3{x}6]", "[2{y}6]"),
    ("x=4, y=2", "[16{x}64, 64]", "[64, 32{y}64]"),
    ("x=2, y=3", "[6{x}12, 4{y}12]", "[4{y}12, 6{x}12]"),
    ("x=2, y=2, z=2", "[4{x}8, 4{y}8, 8]", "[8, 2{z,x}8, 4{y}8]"),
]
STRATEGIES = {"paper": synth.paper, "naive": naive, "xla": xla_like}


def profiles(case: tuple[str, str, str]) -> dict[str, list[int]]:
    m = parse_mesh(Source(case[0]))
    src, tgt = parse_type(Source(case[1])), parse_type(Source(case[2]))
    return {name: profile(src, fn(src, tgt, m), m).local_sizes for name, fn in STRATEGIES.items()}


def text_plot(case: tuple[str, str, str], width: int = 48) -> None:
    curves = profiles(case)
    top = max(max(v) for v in curves.values())
    print(f"mesh {case[0]}: {case[1]} -> {case[2]}")
    for name, sizes in curves.items():
        bars = " ".join("▁▂▃▄▅▆▇█"[min(7, (8 * s - 1) // top)] for s in sizes)
        print(f"  {name:<6} {bars:<{width}} peak {max(sizes)}")


for case in CASES:
    text_plot(case)

# %% [markdown]
# The same profiles as a figure (with matplotlib, from the `notebooks` extra). Run by Jupyter, the
# figure shows below the cell; run as a script (`python notebooks/redistribution.py`), it is saved
# as `redistribution_profiles.png` in the directory it runs from (in the temporary directory when
# run small, as the tests do), and the cell prints where.

# %%
try:
    import matplotlib.pyplot as plt
except ImportError:
    plt = None
    print("matplotlib is not installed (pip install 'calculi[notebooks]'): the text plots above are "
          "the memory profiles")
if plt is not None:
    fig, axes = plt.subplots(1, len(CASES), figsize=(4 * len(CASES), 3))
    styles = {"paper": ("-", 2.5), "naive": ("--", 1.5), "xla": (":", 2.0)}
    for ax, case in zip(axes, CASES, strict=True):
        for name, sizes in profiles(case).items():
            style, width = styles[name]
            ax.step(range(len(sizes) + 1), [*sizes, sizes[-1]], where="post", label=name,
                    linestyle=style, linewidth=width)
        ax.set_title(f"{case[1]} -> {case[2]}", fontsize=8)
        ax.set_xlabel("after step")
        ax.xaxis.get_major_locator().set_params(integer=True)
    axes[0].set_ylabel("local elements")
    axes[0].legend()
    fig.tight_layout()
    if "ipykernel" in sys.modules:  # run by Jupyter: shown inline
        plt.show()
    else:
        folder = Path(tempfile.gettempdir()) if SMALL else Path.cwd()
        fig.savefig(folder / "redistribution_profiles.png", dpi=120)
        print(f"memory profiles saved to {folder / 'redistribution_profiles.png'}")

# %% [markdown]
# ## Running on the simulated mesh
#
# The NumPy simulator gives every device its own buffer and moves slices the way the collectives do,
# counting what each device sends and receives. With `arange` data a misplaced element is visible.

# %%
data = np.arange(6)
run = simulate(data, source, synth.paper(source, target, mesh), mesh)
print("misplaced devices:", misplaced(run, data, target, mesh))
print("received per device:", run.received_row_major(mesh), "peak", run.peak, "(global", data.size, ")")

# %% [markdown]
# ## How much do we save against the XLA-like list?
#
# Over random problems (the same generators the theorems use), the ratio of peak local memory.

# %%
from hypothesis import HealthCheck, given, settings  # noqa: E402

from calculi.redistribution.strategies import Problem, weighted_problems  # noqa: E402

ratios: list[float] = []


@settings(max_examples=40 if SMALL else 300, database=None, deadline=None,
          suppress_health_check=list(HealthCheck))
@given(weighted_problems())
def collect(p: Problem) -> None:
    ours = profile(p.source, synth.paper(p.source, p.target, p.mesh), p.mesh).peak
    theirs = profile(p.source, xla_like(p.source, p.target, p.mesh), p.mesh).peak
    ratios.append(theirs / ours)


collect()
mean = math.exp(sum(map(math.log, ratios)) / len(ratios))
print(f"{len(ratios)} problems: XLA-like peak / paper peak: geometric mean {mean:.2f}, "
      f"max {max(ratios):.1f}, min {min(ratios):.2f}")
