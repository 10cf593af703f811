# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # You only linearize once
#
# Reverse-mode automatic differentiation, in Linear A, is three program transformations:
#
# 1. **JVP** (forward mode) turns a function into one that also pushes tangents forward. Its
#    output is *structurally linear* in the tangents: the type system proves it.
# 2. **Unzip** splits that program into a non-linear half (which runs now and stores a *tape*
#    of residuals) and a linear half (which only scales and adds tangents).
# 3. **Transpose** runs the linear half backwards: cotangents flow from outputs to inputs.
#
# Composing them gives the gradient. We follow one small function through every stage.

# %%
# ruff: noqa: E402  (a notebook imports in the cell that first needs a module)
from calculi.linear_ad.ad import grad, load, stages
from calculi.linear_ad.pretty import show_program

SOURCE = """
def f(x: R, y: R) -> R =
  let a = sin(x) * y in
  let b = a * a in
  b + cos(x)
"""
program = load(SOURCE)
print(show_program(program.program))

# %% [markdown]
# Non-linear variables (`x`, `y`, `a`) may be used any number of times, but each must be used
# (Γ is *relevant*); linear variables must be used exactly once (Δ is *linear*). The checker
# says so, pointing at the variable:

# %%
from calculi.core.errors import TypeCheckError

for bad in ["def g(x: R ; dx: R) -> (R ; R, R) = (x ; dx, dx)",
            "def g(x: R, y: R) -> R = x",
            "def g(; dx: R) -> (; R) = sin(dx)"]:
    try:
        load(bad)
    except TypeCheckError as err:
        print(err.render(), end="\n\n")

# %% [markdown]
# ## Step 1: JVP
#
# Every primitive has a JVP rule, one line each in `primitives.py`: `J(sin v) = (sin v ; cos v ⊙ v̇)`.
# Where a variable is shared (here `x` feeds both `sin` and `cos`), its tangent must be copied
# explicitly with `dup`: implicit contraction of a non-linear variable becomes a linear `dup`.

# %%
st = stages(program, "f")
print(show_program(st.jvp.program))

# %% [markdown]
# ## Step 2: unzip
#
# The non-linear half computes the value and returns the tape; the linear half takes the tape and
# the tangents. Scale factors such as `cos(x)` stay inline in the linear half, so the tape holds
# `x` rather than `cos x` (as the authors' prototype does).

# %%
print(show_program(st.unzipped.program))
print("tape size:", st.report.tape_size)

# %% [markdown]
# ### Checkpointing is a choice in unzip
#
# Each non-linear `let` can be *saved* (its value goes on the tape) or *recomputed* (the binding
# is copied into the linear half, and its inputs go on the tape instead). A policy decides.
# Recompute-all gives a smaller tape for more work; the gradient is the same.

# %%
from calculi.linear_ad.unzip import POLICIES

recompute = stages(program, "f", POLICIES["recompute-all"])
print(show_program(recompute.unzipped.program))
print("tape size:", recompute.report.tape_size, " recomputed work:", recompute.report.recomputed_work)

# %% [markdown]
# ## Step 3: transpose
#
# Only *linear* primitives need a transpose rule (`⊕ ↔ dup`, `0 ↔ drop`, `s ⊙ · ↔ s ⊙ ·`,
# `tupL ↔ unpackL`); `sin`, `cos` and `exp` never appear in linear position, so they need none.

# %%
from calculi.linear_ad.primitives import transpose_rules

print("primitives with a transpose rule:", sorted(p.name for p in transpose_rules))
print(show_program(st.transposed.program))

# %% [markdown]
# ## The gradient, and a check against sympy

# %%
import math

import sympy

value, gradient = grad(program, "f", [0.7, 1.3])
x, y = sympy.symbols("x y")
expr = (sympy.sin(x) * y) ** 2 + sympy.cos(x)
expected = [float(sympy.diff(expr, v).subs({x: 0.7, y: 1.3})) for v in (x, y)]
print("value   ", value)
print("gradient", gradient)
print("sympy   ", tuple(expected))
assert all(math.isclose(g, e, rel_tol=1e-12) for g, e in zip(gradient, expected, strict=True))
assert grad(program, "f", [0.7, 1.3], POLICIES["recompute-all"]) == (value, gradient)

# %% [markdown]
# ## Cost
#
# Transposition conserves work exactly (each `⊕` becomes a `dup` and vice versa), unzip splits it
# exactly, and the JVP costs at most four times the original plus its dups: the cheap-gradient
# principle, as an executable statement.

# %%
from calculi.linear_ad.commands import format_cost, stage_costs

print(format_cost(stage_costs(program, "f", [0.7, 1.3], POLICIES["save-all"])))

# %% [markdown]
# ## The passes are linear-time
#
# The benchmark (`python -m calculi.linear_ad.bench`) measures sizes and time per operation on
# growing programs; here a small run.

# %%
import os

from calculi.linear_ad.bench import FAMILIES, measure

sizes = (10, 100) if os.environ.get("CALCULI_SMALL") else (10, 100, 1000)
for n in sizes:
    row = measure(FAMILIES["diamonds"](n))
    print(f"n = {row['ops']:>5.0f}   |J|/|e| = {row['|J|/|e|']:.2f}   |T|/|e| = {row['|T|/|e|']:.2f}   "
          f"W(J)/W = {row['W(J)/W']:.2f}")
