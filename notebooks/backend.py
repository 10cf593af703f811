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

# %% [markdown]
# ## 8. Derivatives of derivatives
#
# A derivative program is a Linear A program too. Read its linear part as ordinary (the embedding:
# each linear primitive by its non-linear twin, `ẋ ⊕ ẏ` as `x + y`, `s ⊙ ẋ` as `s × x`) and it can be
# traced, differentiated and compiled again, so the transformations nest as in JAX:
# `jvp(grad(f))` is the Hessian-vector product (forward over reverse), `jit(grad(f))`,
# `grad(grad(f))` … and `hessian = jacfwd(jacrev(f))`.
#
# Newton's method on the Rosenbrock function, each step solving `H d = −∇f` by conjugate
# gradients, where `H` is only ever applied through `hvp`:

# %%
def rosenbrock(x):
    return bnp.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


gradient = backend.jit(backend.grad(rosenbrock))
hvp = backend.jit(lambda x, v: backend.jvp(backend.grad(rosenbrock), (x,), (v,))[1])


def conjugate_gradient(apply, b, iterations=50, tol=1e-12):
    x = np.zeros_like(b)
    r = b.copy()
    p = r.copy()
    for _ in range(iterations):
        hp = apply(p)
        alpha = (r @ r) / (p @ hp)
        x, r_new = x + alpha * p, r - alpha * hp
        if r_new @ r_new < tol:
            return x
        p = r_new + (r_new @ r_new) / (r @ r) * p
        r = r_new
    return x


x = np.array([-1.2, 1.0])
steps = 0
while np.linalg.norm(gradient(x)) > 1e-10 and steps < 100:
    g = gradient(x)
    step = conjugate_gradient(lambda v, x=x: hvp(x, v), -g)
    if step @ g >= 0:  # H is not positive definite here: fall back to the gradient direction
        step = -g
    t = 1.0
    while rosenbrock(x + t * step) > rosenbrock(x) and t > 1e-8:  # backtracking keeps Newton descending
        t /= 2
    x = x + t * step
    steps += 1
print(f"Newton with hvp: x = {np.round(x, 8)} after {steps} steps, |∇f| = {np.linalg.norm(gradient(x)):.1e}")
assert np.allclose(x, 1.0, atol=1e-6)
hessian = backend.hessian(rosenbrock)(x)
assert np.allclose(hessian, hessian.T) and np.all(np.linalg.eigvalsh(hessian) > 0)

# %% [markdown]
# Per-example gradient norms of the digits MLP on held-out images: the misclassified ones pull hardest.
# `vmap` maps the gradient over the examples with a batching rule per primitive, so all the
# per-example gradients come from one batched program: `vmap(grad(loss), in_axes=(None, 0, 0))`.

# %%
from backend.models import mlp  # noqa: E402

digits = data.digits(dtype=np.float64)
images, labels = digits.x_train, digits.y_train
n = 64 if SMALL else 512
net = mlp.init([64, 32, 10], seed=0, dtype=np.float64)
train_step = backend.jit(backend.value_and_grad(mlp.loss))
for _ in range(20 if SMALL else 100):
    _, g = train_step(net, images[:n], labels[:n])
    net = {k: {p: net[k][p] - 0.5 * g[k][p] for p in net[k]} for k in net}
def example_loss(p, x, y):
    return mlp.loss(p, x[None], y[None])


per_example = backend.jit(backend.vmap(backend.grad(example_loss), in_axes=(None, 0, 0)))
test_x, test_y = digits.x_test, digits.y_test  # examples the network has not been trained on
grads = per_example(net, test_x, test_y)  # each leaf with a leading axis of one entry per example
norms = np.sqrt(sum(np.sum(v.reshape(len(test_y), -1) ** 2, axis=1) for layer in grads.values()
                    for v in layer.values()))
one = backend.grad(example_loss)(net, test_x[0], test_y[0])
assert np.allclose(grads["layer0"]["w"][0], one["layer0"]["w"])
correct = np.argmax(mlp.logits(net, test_x), axis=1) == test_y
print(f"per-example |∇L| on {len(norms)} held-out digits: median {np.median(norms[correct]):.3f} when "
      f"classified right ({correct.sum()}), {np.median(norms[~correct]):.3f} when wrong ({(~correct).sum()})")
assert np.median(norms[~correct]) > np.median(norms[correct])

# %%
try:
    import matplotlib.pyplot as plt

    plt.figure()
    plt.hist([norms[correct], norms[~correct]], bins=30, label=["classified right", "classified wrong"],
             log=True)
    plt.xlabel("per-example gradient norm")
    plt.ylabel("examples")
    plt.legend()
    plt.savefig(os.path.join(tempfile.gettempdir(), "backend_per_example.png"))
except ImportError:
    print(np.histogram(norms, bins=8))
