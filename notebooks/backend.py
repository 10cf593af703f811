# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
# ---

# %% [markdown]
# # Linear A on arrays: one AD, real models
#
# The NumPy backend has no automatic differentiation of its own. A model written with
# `backend.numpy` is *traced* into a Linear A program; reverse mode is then the composition of the
# calculus's three passes, exactly as in "You Only Linearize Once":
#
#     grad = transpose ∘ unzip ∘ jvp
#
# Each array primitive only adds entries to linear_ad's rule tables: a JVP rule for every
# primitive, and a transpose rule for the linear ones. We look at each stage's program, then train
# a small Griffin language model with the result.

# %%
import os
import sys
import tempfile
from pathlib import Path

# This notebook is named like the package it teaches: run as a script, its own folder comes first
# on sys.path, so take it off before importing the package.
_here = globals().get("__file__")
if _here is not None:
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(_here).resolve().parent]
sys.modules.pop("backend", None)

import numpy as np  # noqa: E402

import backend  # noqa: E402
import backend.numpy as bnp  # noqa: E402
from backend import data, optim, policies  # noqa: E402
from backend.models import griffin, stream  # noqa: E402

SMALL = os.environ.get("CALCULI_SMALL") == "1"
rng = np.random.default_rng(0)

# %% [markdown]
# ## 1. Tracing
#
# A one-layer network with a squared-tanh loss. `make_program` shows the traced program: each
# NumPy-named call became one primitive binding, the batch `x` entered as a constant (a *feed*,
# refilled at every call), and the weights are the function's parameters.


# %%
def loss(w, x):
    return bnp.sum(bnp.tanh(x @ w["a"] + w["b"]) ** 2)


w = {"a": rng.standard_normal((3, 2)), "b": rng.standard_normal(2)}
x = rng.standard_normal((4, 3))
print(backend.make_program(loss)(w, x))

# %% [markdown]
# ## 2. JVP: structurally linear tangents
#
# `J` pairs every primal binding with a tangent binding. The tangent side uses only linear
# operations: `⊕`, `⊙` by a non-linear factor, and the linear array primitives (`einsumL`,
# `broadcastL`, `reduce_sumL`, …) whose constant arguments come first, before the `;`.

# %%
print(backend.make_program(loss, stage="jvp")(w, x))

# %% [markdown]
# ## 3. Unzip: the non-linear half runs now, the linear half later
#
# `f.jvp.nonlin` computes the value and packs the residuals into a tape; `f.jvp.lin` takes the
# tape and the tangents. The paper's prototype keeps scale factors such as `tanh_grad(tanh v)`
# inline in `⊙` and so always recomputes them in the linear half; the backend's J binds them
# (`let c = tanh_grad(tanh v)`), which puts them under the checkpoint policy: saving everything
# saves the slope, and the executor computes `tanh v` once for the value and the slope.

# %%
print(backend.make_program(loss, stage="unzip")(w, x))

# %% [markdown]
# ## 4. Transpose: cotangents flow backwards
#
# `⊕` became `dup`, `dup` became `⊕`, `einsumL` in one operand became the contraction with the
# cotangent, a broadcast became a sum. The cotangent of the constant batch is dropped; the executor
# never computes it.

# %%
print(backend.make_program(loss, stage="transpose")(w, x))

# %% [markdown]
# The composition is reverse mode. Check it against central differences:

# %%
g = backend.grad(loss)(w, x)
eps = 1e-6
bumped = {"a": w["a"].copy(), "b": w["b"]}
bumped["a"][1, 0] += eps
lowered = {"a": w["a"].copy(), "b": w["b"]}
lowered["a"][1, 0] -= eps
fd = (loss(bumped, x) - loss(lowered, x)) / (2 * eps)
print(f"finite difference {fd:.9f}, reverse mode {g['a'][1, 0]:.9f}")
assert abs(fd - g["a"][1, 0]) < 1e-6

# %% [markdown]
# ## 5. Checkpointing is a choice in unzip
#
# For each non-linear binding, unzip may *save* its value on the tape or *recompute* it in the
# linear half. Policies name the choice (as `jax.checkpoint_policies`); the gradients are the same,
# the tapes are not.

# %%
text = data.pydoc_text()
cfg = griffin.preset("tiny", len(text.vocab))
params = griffin.init(cfg, 0, np.float64)
xb, yb = data.windows(text.train, 2, 32, rng)


def lm_loss(p, a, b):
    return griffin.loss(p, a, b, cfg)


grads = {}
for name in ("everything_saveable", "blocks", "nothing_saveable"):
    f = backend.checkpoint(lm_loss, policies.POLICIES[name])
    grads[name] = backend.grad(f)(params, xb, yb)
    report = backend.api.build(f, (params, xb, yb), 0, "transpose").report
    print(f"{name:<22} tape: {sum(report.tape_size.values()):>8,} numbers, "
          f"recomputed work {sum(report.recomputed_work.values()):>8,}")
leaves = [backend.pytree.flatten(g)[0] for g in grads.values()]
assert all(np.array_equal(a, b) for other in leaves[1:] for a, b in zip(leaves[0], other, strict=True))

# %% [markdown]
# ## 6. Training a Griffin model on Python's own documentation
#
# RG-LRU recurrences, a causal conv1d, local multi-query attention with RoPE, gated MLPs and
# RMSNorm, all written once with `backend.numpy`. Adam, and the gradient from above.

# %%
params = griffin.init(cfg, 0, np.float32)
opt = optim.Adam(lr=1e-2)
step = backend.value_and_grad(lm_loss)
steps = 25 if SMALL else 300
losses = []
for _ in range(steps):
    xb, yb = data.windows(text.train, 8, 64, rng)
    value, g = step(params, xb, yb)
    params = opt.update(params, g)
    losses.append(float(value))
baseline = data.unigram_loss(text.train, text.valid, len(text.vocab))
print(f"loss {losses[0]:.3f} → {np.mean(losses[-5:]):.3f} after {steps} steps "
      f"(unigram baseline {baseline:.3f})")
assert np.mean(losses[-5:]) < losses[0]

# %%
try:
    import matplotlib.pyplot as plt

    plt.plot(losses, label="training loss")
    plt.axhline(baseline, color="grey", linestyle="--", label="unigram baseline")
    plt.xlabel("step")
    plt.ylabel("nats per character")
    plt.legend()
    plt.savefig(os.path.join(tempfile.gettempdir(), "backend_loss.png"))
except ImportError:
    bars = "▁▂▃▄▅▆▇█"
    lo, hi = min(losses), max(losses)
    print("".join(bars[int((v - lo) / (hi - lo + 1e-12) * 7)] for v in losses))

# %% [markdown]
# ## 7. Streaming with a fixed-size state
#
# Generation carries the recurrence state and the attention window only, so memory does not grow
# with the length of the text.

# %%
prompt = text.encode("The ")
sampled = stream.sample(params, cfg, prompt, 80, np.random.default_rng(1), temperature=0.8)
print(text.decode(prompt) + text.decode(np.fromiter(sampled, np.int64)))
print(f"state: {stream.state_bytes(griffin.init_state(cfg, 1)):,} bytes at any length")
