# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # Dex: pointful tables over typed index sets
#
# In Dex an array is a table `n=>a`: one `a` for every index of the index set `n`. Tables are
# built with `for i:n. e` and read with `x.i`, so array code is written point by point, the way
# it is written on paper. Indices are typed: an index of `Fin 3` is never out of range for a
# table over `Fin 3`, and a literal `5@Fin 3` is a type error. Effects are tracked in the types:
# a `for` whose body only reads and accumulates is parallel; one that threads `State` is
# sequential, and the checker says which.

# %%
import os

import numpy as np

from calculi.core.errors import CalculusError
from calculi.core.syntax import Source
from calculi.dex.commands import Session
from calculi.dex.compile import compile_program
from calculi.dex.parse import parse_program

SMALL = bool(os.environ.get("CALCULI_SMALL"))
session = Session()


def say(line: str) -> None:
    """Answer one REPL line, as the REPL would."""
    try:
        print(session.input(Source(line)) if not line.startswith(":type ") else
              session.type_of(session.parse(Source(line[6:]))))
    except CalculusError as err:
        print(err.render())


# %% [markdown]
# ## Tables and index sets
#
# A matrix product is a `for` over the rows and columns, and a `sum` over a table of products.

# %%
say("a = for i:Fin 2. for j:Fin 3. to_real (ordinal i + 2 * ordinal j)")
say("b = for j:Fin 3. for k:Fin 2. to_real (ordinal j - ordinal k) * 0.5")
say("for i:Fin 2. for k:Fin 2. sum (for j:Fin 3. a.i.j * b.j.k)")

# %% [markdown]
# The checker sees that a literal index is out of range, and that an index of one set does not
# index a table over another.

# %%
say("a.(2@Fin 2)")
say("for j:Fin 3. b.j.j")

# %% [markdown]
# Pairs of index sets index tables too; currying is an ordinary function.

# %%
say("d = for ij:(Fin 2, Fin 2). to_real (ordinal (fst ij) * 2 + ordinal (snd ij))")
say("curry = \\t:(Fin 2, Fin 2)=>Real. for i:Fin 2. for j:Fin 2. t.(i, j)")
say("curry d")

# %% [markdown]
# ## Effects, and which loops are parallel
#
# `run_accum` gives a reference that can only be added to. Additions commute, so a `for` whose
# body accumulates is still parallel: here, a histogram, whose entries are computed per point.

# %%
say("points = for i:Fin 8. to_real (ordinal i * ordinal i * 3 % 8) / 8.0")
say(":type snd (run_accum (Fin 4=>Real) \\h. for i:Fin 8. h!((floor (points.i * 4.0))@Fin 4) += 1.0)")
say("snd (run_accum (Fin 4=>Real) \\h. for i:Fin 8. h!((floor (points.i * 4.0))@Fin 4) += 1.0)")

# %% [markdown]
# A running total needs `State`: each iteration reads what the previous one wrote, so the `for`
# is sequential, and the type of its body says `State`.

# %%
say(":type run_state 0.0 \\s. for i:Fin 8. s := get s + points.i; get s")
say("fst (run_state 0.0 \\s. for i:Fin 8. s := get s + points.i; get s)")

# %% [markdown]
# ## Compiling to NumPy
#
# The compiler turns each parallel `for` into array operations over a new axis (a sum of
# products becomes one `einsum`, accumulation into computed entries becomes `np.add.at`) and runs
# sequential loops as loops. It answers to the interpreter.

# %%
n = 50 if SMALL else 400
layer_norm = compile_program(parse_program(Source(
    f"\\x:Fin {n}=>Fin 64=>Real. for r:Fin {n}. let m = sum x.r / 64.0 in "
    "let c = for j:Fin 64. x.r.j - m in "
    "let v = sum (for j:Fin 64. c.j * c.j) / 64.0 in for j:Fin 64. c.j / sqrt (v + 0.00001)")))
x = np.random.default_rng(0).random((n, 64))
out = layer_norm(x)
centred = x - x.mean(axis=1, keepdims=True)
assert np.allclose(out, centred / np.sqrt((centred ** 2).mean(axis=1, keepdims=True) + 1e-5))
assert np.allclose(out[:3], np.asarray(layer_norm.interpret((x,)))[:3])
print(layer_norm.mode, out.shape, float(out[0, :4].sum()))

# %% [markdown]
# ## Reverse mode that stays parallel
#
# `grad` linearizes the program (`jvp`) and transposes the linear part. A read `x.i` inside a
# parallel `for` transposes to an accumulation `r!i += c` into the cotangent of `x`, inside a
# `for` that is still parallel: the transposed program has no `State` and no sequential loop.
# Here, the gradient of a quadratic form `sum_i sum_j x.i * a.i.j * x.j` in `x` and `a`.

# %%
from calculi.dex.ad import vjp  # noqa: E402
from calculi.dex.commands import describe  # noqa: E402
from calculi.dex.pretty import show  # noqa: E402
from calculi.dex.syntax import REAL, Fin, TableT  # noqa: E402

say("x = for i:Fin 3. to_real (ordinal i) - 1.0")
say("a = for i:Fin 3. for j:Fin 3. to_real (ordinal i * ordinal j + 1)")
quadratic = "sum (for i:Fin 3. sum (for j:Fin 3. x.i * a.i.j * x.j))"
print(session.gradient(session.parse(Source(quadratic))))

# %% [markdown]
# The transposed program, and its loops: each is parallel, and its body's row holds only
# `Accum` effects on the cotangents.

# %%
transposed = vjp(parse_program(Source(quadratic)),
                 {"x": TableT(Fin(3), REAL), "a": TableT(Fin(3), TableT(Fin(3), REAL))})
print(show(transposed.program)[:400], "…")
print(describe(transposed.checked))
assert not transposed.checked.sequential
